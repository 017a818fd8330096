// SPDX-License-Identifier: GPL-2.0

//! Tests of `stats` and `top`, on copies of the module's files.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use super::text::{caches_text, human_table, stats_json};
use super::top::{rate, rates, sorted, top_loop, Sample};
use super::*;
use crate::cli::{Command, SortKey, StatsArgs, TopArgs, DEFAULT_DEBUGFS};
use crate::commands::tests::command;

fn stats_args(line: &str) -> StatsArgs {
    match command(&format!("stats {line}")) {
        Command::Stats(a) => a,
        other => panic!("{line}: {other:?}"),
    }
}

fn top_args(line: &str) -> TopArgs {
    match command(&format!("top {line}")) {
        Command::Top(a) => a,
        other => panic!("{line}: {other:?}"),
    }
}

#[test]
fn parses_stats_and_top_options() {
    let a = stats_args("--debugfs /tmp/x --percpu");
    assert_eq!(
        (a.percpu, a.objects, a.debugfs),
        (true, false, PathBuf::from("/tmp/x"))
    );
    assert_eq!(stats_args("").debugfs, PathBuf::from(DEFAULT_DEBUGFS));
    let a = top_args("");
    assert_eq!(
        (a.interval, a.sort, a.iterations),
        (Duration::from_secs(1), SortKey::Live, None)
    );
    let a = top_args("--interval 0.5 --sort rate --iterations 2");
    assert_eq!(
        (a.interval, a.sort, a.iterations),
        (Duration::from_millis(500), SortKey::Rate, Some(2))
    );
}

/// `stats` as the module writes it (widths vary; one or more spaces apart).
const STATS_TEXT: &str = "\
kind               live    created      freed     failed     enomem     einval     enodev      other          bytes      pages      hwm_bytes       alloc_ns
kmalloc               2         10          8          1          0          1          0          0          20000          8          40000           1234
kmem_cache           27         40         13          0          0          0          0          0           6912          0           6912          99000
free_pages            0          0          0          0          0          0          0          0              0          0              0              0
pages_node            0          0          0          0          0          0          0          0              0          0              0              0
vmalloc               1          3          2          2          1          1          0          0           5000          2        8388608     3000000000
dma_coherent          0          0          0          0          0          0          0          0              0          0              0              0
ioremap               0          0          0          1          0          0          1          0              0          0              0              0
percpu                0          0          0          0          0          0          0          0              0          0              0              0
kvmalloc              1          4          3          0          0          0          0          0           4096          1          65536           5000
mempool               1          6          5          0          0          0          0          0             64          0            256            700
dma_pool              2          3          1          0          0          0          0          0            128          0            192            850
";

const PERCPU_TEXT: &str = "\
cpu  kind            created      freed     failed          bytes      pages       alloc_ns
0    kmalloc               6          2          1          20100          8            900
1    kmalloc               4          6          0           -100          0            334
";

const OBJECTS_TEXT: &str = "\
pid        handle kind                 size  order  node   nid  cpu
4242            1 kmalloc                64      0    -1     0    2
4242            7 percpu                  8      0    -1    -1    3
";

const CACHES_TEXT: &str = "\
name                              object_size       live
kmemlab-one                               256         27
two                                        64          0
";

const SLABINFO_TEXT: &str = "\
slabinfo - version: 2.1
# name            <active_objs> <num_objs> <objsize> <objperslab> <pagesperslab> : tunables <limit> <batchcount> <sharedfactor> : slabdata <active_slabs> <num_slabs> <sharedavail>
kmemlab-one           27     32    512    8    1 : tunables    0    0    0 : slabdata      4      4      0
kmalloc-64          1000   1024     64   64    1 : tunables    0    0    0 : slabdata     16     16      0
kmemlab-three          0      0    128   32    1 : tunables    0    0    0 : slabdata      0      0      0
";

#[test]
fn parses_the_stats_file() {
    let t = Table::parse(STATS_TEXT, &STATS).unwrap();
    assert_eq!(t.rows.len(), 11);
    assert_eq!(t.columns.len(), STATS.columns.len());
    let k = kind_counts(&t);
    let names: Vec<&str> = k.iter().map(|k| k.kind.as_str()).collect();
    let abi: Vec<&str> = crate::uapi::KIND_NAMES.iter().map(|(_, n)| *n).collect();
    assert_eq!(names, abi);
    assert_eq!(
        k[0],
        KindCounts {
            kind: "kmalloc".into(),
            live: 2,
            created: 10,
            freed: 8,
            failed: 1,
            bytes: 20000,
            pages: 8,
        }
    );
    assert_eq!(t.unsigned(4, "hwm_bytes"), 8 << 20);
    assert_eq!(t.unsigned(4, "alloc_ns"), 3_000_000_000);
    assert_eq!(t.text(0, "nonexistent"), "");
}

#[test]
fn parses_percpu_objects_and_caches() {
    let p = Table::parse(PERCPU_TEXT, &PERCPU).unwrap();
    let bytes = |r| p.text(r, "bytes").parse::<i64>().unwrap();
    assert_eq!(bytes(1), -100);
    assert_eq!(bytes(0) + bytes(1), 20000);
    assert_eq!(p.unsigned(0, "created") + p.unsigned(1, "created"), 10);

    let o = Table::parse(OBJECTS_TEXT, &OBJECTS).unwrap();
    assert_eq!(o.rows.len(), 2);
    assert_eq!((o.text(1, "nid"), o.text(1, "kind")), ("-1", "percpu"));
    let empty = Table::parse("pid handle kind size order node nid cpu\n", &OBJECTS).unwrap();
    assert!(empty.rows.is_empty());

    let c = Table::parse(CACHES_TEXT, &CACHES).unwrap();
    assert_eq!((c.text(1, "name"), c.unsigned(0, "live")), ("two", 27));
}

/// The `objects` file of an ABI 3 module names each object's zone and
/// backing: columns the format does not require, kept and shown as text.
#[test]
fn objects_keep_the_zone_and_the_backing() {
    let text = "pid handle kind size order node nid cpu zone backing\n\
                4242 1 kvmalloc 8388608 0 -1 0 2 Normal vmalloc\n\
                4242 2 percpu 8 0 -1 -1 3 - -\n";
    let o = Table::parse(text, &OBJECTS).unwrap();
    assert_eq!(
        (o.text(0, "zone"), o.text(0, "backing")),
        ("Normal", "vmalloc")
    );
    assert_eq!((o.text(1, "zone"), o.text(1, "backing")), ("-", "-"));
    let shown = human_table(&o, false);
    let header: Vec<&str> = shown.lines().next().unwrap().split_whitespace().collect();
    assert_eq!(header[header.len() - 2..], ["zone", "backing"]);
    let kv = shown.lines().nth(1).unwrap();
    assert!(
        kv.contains("kvmalloc") && kv.ends_with("Normal  vmalloc"),
        "{shown}"
    );
}

#[test]
fn refuses_malformed_tables() {
    let e = Table::parse("", &STATS).unwrap_err();
    assert!(e.contains("no header"), "{e}");
    let e = Table::parse("kind live\nkmalloc 1\n", &STATS).unwrap_err();
    assert!(e.contains("no 'created' column"), "{e}");
    let short = STATS_TEXT.replacen("1234\n", "\n", 1);
    let e = Table::parse(&short, &STATS).unwrap_err();
    assert!(e.contains("stats line 2: 12 fields for 13 columns"), "{e}");
    let e = Table::parse(&STATS_TEXT.replacen(" 20000 ", " 2e4 ", 1), &STATS).unwrap_err();
    assert!(e.contains("line 2: bytes '2e4' is not a number"), "{e}");
    // Negative only where the format says signed.
    let e = Table::parse(
        &PERCPU_TEXT.replace("      2          1", "     -2          1"),
        &PERCPU,
    )
    .unwrap_err();
    assert!(e.contains("freed '-2'"), "{e}");
    let e = Table::parse(
        "cpu kind kind created freed failed bytes pages alloc_ns\n",
        &PERCPU,
    )
    .unwrap_err();
    assert!(e.contains("'kind' is repeated"), "{e}");
}

#[test]
fn keeps_columns_a_newer_module_adds() {
    let t = Table::parse("name object_size live align\nkmemlab-a 8 1 64\n", &CACHES).unwrap();
    assert_eq!(t.text(0, "align"), "64");
    let shown = human_table(&t, false);
    assert!(
        shown.starts_with("name       object_size  live  align"),
        "{shown}"
    );
}

#[test]
fn reads_kmemlab_rows_of_slabinfo() {
    let rows = parse_slabinfo(SLABINFO_TEXT).unwrap();
    assert_eq!(rows.len(), 2);
    assert_eq!(
        rows[0],
        SlabRow {
            name: "kmemlab-one".into(),
            active_objs: 27,
            num_objs: 32,
            objsize: 512
        }
    );
    assert!(parse_slabinfo("kmemlab-bad 1 x 3\n")
        .unwrap_err()
        .contains("line 1"));
    assert!(parse_slabinfo("slabinfo - version: 2.1\n")
        .unwrap()
        .is_empty());
}

#[test]
fn joins_caches_with_slabinfo_by_name() {
    let c = Table::parse(CACHES_TEXT, &CACHES).unwrap();
    let slab = parse_slabinfo(SLABINFO_TEXT).unwrap();
    let rows = join_caches(Some(&c), &slab);
    let names: Vec<&str> = rows.iter().map(|r| r.name.as_str()).collect();
    assert_eq!(names, ["kmemlab-one", "kmemlab-two", "kmemlab-three"]);
    assert_eq!(rows[0].live, Some(27));
    assert_eq!(rows[0].slab.as_ref().map(|s| s.num_objs), Some(32));
    // In kmemlab's file only, in slabinfo only.
    assert_eq!((rows[1].live, rows[1].slab.is_none()), (Some(0), true));
    assert_eq!((rows[2].live, rows[2].object_size), (None, None));
    // Without a caches file: slabinfo's rows alone.
    assert_eq!(join_caches(None, &slab).len(), 2);

    let text = caches_text(&rows, Some("a note"));
    assert!(
        text.contains("\nkmemlab-one            256    27           27        32      512\n"),
        "{text}"
    );
    assert!(
        text.contains("\nkmemlab-two             64     0            -         -        -\n"),
        "{text}"
    );
    assert!(text.ends_with("(a note)"));
    assert!(caches_text(&[], None).ends_with("(no kmemlab slab caches)"));
}

#[test]
fn stats_table_for_people_keeps_every_column() {
    let t = Table::parse(STATS_TEXT, &STATS).unwrap();
    let text = human_table(&t, false);
    let mut lines = text.lines();
    let header: Vec<&str> = lines.next().unwrap().split_whitespace().collect();
    let columns: Vec<&str> = STATS.columns.iter().map(|(c, _)| *c).collect();
    assert_eq!(header, columns);
    let kmalloc = lines.next().unwrap();
    assert!(kmalloc.starts_with("kmalloc"));
    assert!(
        kmalloc.contains("19.53 KiB") && kmalloc.contains("39.06 KiB"),
        "{kmalloc}"
    );
    assert!(kmalloc.ends_with("1.2 us"), "{kmalloc}");
    assert!(text.contains("8 MiB") && text.contains("3.00 s"), "{text}");
    // The header and a row per kind.
    assert_eq!(text.lines().count(), 1 + crate::uapi::KIND_NAMES.len());

    let p = Table::parse(&format!("{PERCPU_TEXT}2    vmalloc 0 0 0 0 0 0\n"), &PERCPU).unwrap();
    let shown = human_table(&p, true);
    assert_eq!(shown.lines().count(), 3, "{shown}");
    assert!(shown.contains("-100 B"), "{shown}");
}

#[test]
fn rates_between_samples() {
    assert_eq!(rate(10, 30, 2.0), Some(10.0));
    assert_eq!(rate(10, 10, 0.5), Some(0.0));
    assert_eq!(
        rate(30, 10, 1.0),
        None,
        "the counter went back: the module was reloaded"
    );
    assert_eq!(rate(10, 30, 0.0), None);

    let t0 = Instant::now();
    let k = |kind: &str, created, freed| KindCounts {
        kind: kind.into(),
        created,
        freed,
        ..Default::default()
    };
    let prev = Sample {
        at: t0,
        kinds: vec![k("kmalloc", 100, 50), k("vmalloc", 5, 5)],
    };
    let now = Sample {
        at: t0 + Duration::from_millis(500),
        kinds: vec![k("kmalloc", 150, 60), k("vmalloc", 5, 5), k("percpu", 1, 0)],
    };
    assert_eq!(
        rates(Some(&prev), &now),
        vec![
            (Some(100.0), Some(20.0)),
            (Some(0.0), Some(0.0)),
            (None, None)
        ]
    );
    assert_eq!(rates(None, &now), vec![(None, None); 3]);
}

#[test]
fn sorts_kinds_largest_first() {
    let k = |kind: &str, live, bytes, created| KindCounts {
        kind: kind.into(),
        live,
        bytes,
        created,
        ..Default::default()
    };
    let kinds = [k("a", 1, 300, 5), k("b", 3, 100, 5), k("c", 3, 200, 9)];
    let r = [(Some(1.0), Some(1.0)), (Some(0.5), None), (None, Some(9.0))];
    assert_eq!(sorted(&kinds, &r, SortKey::Live), [1, 2, 0]);
    assert_eq!(sorted(&kinds, &r, SortKey::Bytes), [0, 2, 1]);
    assert_eq!(sorted(&kinds, &r, SortKey::Created), [2, 0, 1]);
    assert_eq!(sorted(&kinds, &r, SortKey::Rate), [2, 0, 1]);
    assert_eq!(sorted(&kinds, &[], SortKey::Rate), [0, 1, 2]);
}

#[test]
fn explains_a_missing_file() {
    let dir = Path::new(DEFAULT_DEBUGFS);
    let path = dir.join("stats");
    let mounted = "sysfs /sys sysfs rw 0 0\ndebugfs /sys/kernel/debug debugfs rw 0 0\n";
    let situation = |mounts, module_loaded, dir_exists| Situation {
        mounts,
        module_loaded,
        dir_exists,
    };
    let e = explain_missing(&path, dir, &situation("", true, false));
    assert!(e.contains("debugfs is not mounted"), "{e}");
    assert!(e.contains("mount -t debugfs none /sys/kernel/debug"), "{e}");
    assert!(!e.contains("not loaded"), "{e}");
    let e = explain_missing(&path, dir, &situation("", false, false));
    assert!(
        e.contains("not mounted") && e.contains("not loaded either"),
        "{e}"
    );
    let e = explain_missing(&path, dir, &situation(mounted, false, false));
    assert!(
        e.contains("module is not loaded") && e.contains("insmod"),
        "{e}"
    );
    assert!(!e.contains("mount -t"), "{e}");
    let e = explain_missing(&path, dir, &situation(mounted, true, true));
    assert!(e.contains("has no statistics"), "{e}");
    let e = explain_missing(&path, dir, &situation(mounted, true, false));
    assert!(
        e.contains("is loaded but /sys/kernel/debug/kmemlab does not exist"),
        "{e}"
    );
    // Elsewhere than debugfs: only what is known.
    let other = Path::new("/tmp/copy");
    let e = explain_missing(
        &other.join("stats"),
        other,
        &situation(mounted, true, false),
    );
    assert!(
        e.contains("is /tmp/copy kmemlab's debugfs directory?"),
        "{e}"
    );
    // Mounted at a path with a space, as /proc/mounts escapes it.
    assert_eq!(
        debugfs_mounts("none /mnt/my\\040dbg debugfs rw 0 0\n"),
        [PathBuf::from("/mnt/my dbg")]
    );
}

const STATS_JSON: &str = "{\"version\": 1,\n \"kinds\": [\n  {\"kind\": \"kmalloc\", \"live\": 2}],\n \
                              \"percpu\": [\n  {\"cpu\": 0, \"kind\": \"kmalloc\", \"bytes\": -64}],\n \
                              \"objects\": []}\n";

#[test]
fn json_adds_slabinfo_and_caches() {
    let slab = parse_slabinfo(SLABINFO_TEXT).unwrap();
    let caches = Table::parse(CACHES_TEXT, &CACHES).unwrap();
    let out = stats_json(STATS_JSON, &slab, Some(&caches)).unwrap();
    assert_eq!(out["kinds"].as_array().map(Vec::len), Some(1));
    assert_eq!(out["percpu"][0]["bytes"], -64);
    let s = out["slabinfo"].as_array().unwrap();
    assert_eq!(s.len(), 2);
    assert_eq!(s[0]["num_objs"], 32);
    assert_eq!(out["caches"][1]["name"], "kmemlab-two");

    let without = stats_json(STATS_JSON, &[], None).unwrap();
    assert_eq!(without["slabinfo"], serde_json::json!([]));
    assert_eq!(without.get("caches"), None);

    let err = |doc: &str| stats_json(doc, &[], None).unwrap_err().to_string();
    assert!(err(&STATS_JSON.replace("\"version\": 1", "\"version\": 2")).contains("version 2"));
    assert!(err("{\"kinds\": []}").contains("no version"));
    let e = err("{\"version\": 1, \"kinds\": [], \"objects\": []}");
    assert!(e.contains("no 'percpu' list"), "{e}");
    let e = err(&STATS_JSON.replace("\"kind\": \"kmalloc\", \"live\"", "\"live\""));
    assert!(e.contains("'kinds' or 'percpu' entry names no kind"), "{e}");
    assert!(err("{\"version\": 1").starts_with("stats.json: JSON"));
}

/// A directory holding copies of the module's files, removed when dropped.
struct FakeDebugfs(PathBuf);

impl FakeDebugfs {
    fn new(tag: &str, files: &[(&str, &str)]) -> Self {
        let dir = std::env::temp_dir().join(format!("kmemlab-test-{}-{tag}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        for (name, text) in files {
            std::fs::write(dir.join(name), text).unwrap();
        }
        Self(dir)
    }
}

impl Drop for FakeDebugfs {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

#[test]
fn stats_command_on_a_copy_of_the_files() {
    let d = FakeDebugfs::new(
        "stats",
        &[
            ("stats", STATS_TEXT),
            ("percpu", PERCPU_TEXT),
            ("objects", OBJECTS_TEXT),
            ("caches", CACHES_TEXT),
            ("stats.json", STATS_JSON),
        ],
    );
    let dir = d.0.display().to_string();
    let text = stats(
        &stats_args(&format!("--debugfs {dir} --percpu --objects")),
        false,
    )
    .unwrap()
    .text;
    for (_, kind) in crate::uapi::KIND_NAMES {
        assert!(
            text.contains(&format!("\n{kind} ")),
            "{kind} missing from:\n{text}"
        );
    }
    assert!(
        text.contains("per CPU") && text.contains("live objects"),
        "{text}"
    );
    assert!(text.contains("kmemlab-one"), "{text}");
    let js = stats(&stats_args(&format!("--debugfs {dir}")), true).unwrap();
    assert!(js.json.get("slabinfo").is_some());
    assert_eq!(
        js.render(true).find("\"schema_version\":1,\"version\":1,"),
        Some(1)
    );

    // Without a caches file: slabinfo's figures alone, no error.
    std::fs::remove_file(d.0.join("caches")).unwrap();
    assert!(stats(&stats_args(&format!("--debugfs {dir}")), false).is_ok());
    std::fs::remove_file(d.0.join("stats")).unwrap();
    let e = stats(&stats_args(&format!("--debugfs {dir}")), false)
        .unwrap_err()
        .to_string();
    assert!(e.contains("cannot read") && e.contains("stats"), "{e}");
}

#[test]
fn top_frames_without_a_terminal() {
    let d = FakeDebugfs::new("top", &[("stats", STATS_TEXT)]);
    let a = top_args(&format!(
        "--debugfs {} --iterations 2 --interval 0.01 --sort bytes",
        d.0.display()
    ));
    let mut out = Vec::new();
    top_loop(
        &a,
        &mut out,
        false,
        &std::sync::atomic::AtomicBool::new(false),
    )
    .unwrap();
    let out = String::from_utf8(out).unwrap();
    assert!(!out.contains('\x1b'), "no escapes without a terminal");
    assert_eq!(
        out.matches("kmemlab top: every 0.01s, sorted by bytes\n")
            .count(),
        2
    );
    let frames: Vec<&str> = out.split("kmemlab top:").skip(1).collect();
    // The first frame has no rates yet; the second has them (nothing moved: 0.0).
    let kmalloc = |f: &str| {
        f.lines()
            .find(|l| l.starts_with("kmalloc "))
            .unwrap()
            .to_string()
    };
    assert!(kmalloc(frames[0]).contains("  -  "), "{}", frames[0]);
    assert!(kmalloc(frames[1]).contains("0.0"), "{}", frames[1]);
    // Sorted by bytes: kmalloc (20000), kmem_cache (6912), vmalloc (5000).
    let order: Vec<&str> = frames[0]
        .lines()
        .skip(2)
        .take(3)
        .map(|l| l.split_whitespace().next().unwrap())
        .collect();
    assert_eq!(order, ["kmalloc", "kmem_cache", "vmalloc"]);
    for (_, kind) in crate::uapi::KIND_NAMES {
        assert!(frames[1].contains(kind), "{kind}");
    }
}
