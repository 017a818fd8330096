// SPDX-License-Identifier: GPL-2.0

//! Tests of the benchmarks on the fake device.

use super::tests::bench_command;
use super::*;
use crate::device::fake::{default_limits, FakeDevice, ALL_FEATURES};

/// The benchmarks against the fake device: every request well-formed, every
/// cache destroyed, and the reports complete.
#[test]
fn benchmarks_on_a_fake_device() {
    let dev = FakeDevice::default();
    let smoke = bench(
        &dev,
        &bench_command("smoke", &["--iterations", "5"]).unwrap(),
    )
    .unwrap();
    assert!(
        smoke.text.ends_with("checks, all well-formed"),
        "{}",
        smoke.text
    );
    assert_eq!(dev.caches(), 0);

    let run = bench(
        &dev,
        &bench_command("run", &["--kind", "kmem_cache", "--iterations", "100"]).unwrap(),
    )
    .unwrap();
    assert_eq!(run.json["benchmark"], "run");
    assert_eq!(run.json["kind"], "kmem_cache");
    assert!(
        run.json["ns_per_op"].as_f64().is_some_and(|x| x > 0.0),
        "{}",
        run.json
    );
    assert_eq!(dev.caches(), 0);

    let cost = bench(
        &dev,
        &bench_command("stats-cost", &["--iterations", "100", "--rounds", "3"]).unwrap(),
    )
    .unwrap();
    // The fake charges statistics 4 ns of 105: a ratio above 1.
    assert!(
        cost.json["ratio"].as_f64().is_some_and(|r| r > 1.0),
        "{}",
        cost.json
    );

    let std = bench(&dev, &bench_command("standard", &["--quick"]).unwrap()).unwrap();
    for key in ["rust_vs_c", "batch", "scaling", "summary"] {
        assert!(!std.json[key].as_array().unwrap().is_empty(), "{key}");
    }
    // The fake has no edu: ioremap is skipped with its reason.
    assert_eq!(std.json["skipped"][0]["kind"], "ioremap");
    // kvmalloc is swept like every allocator the module has.
    assert!(
        std.json["rust_vs_c"]
            .as_array()
            .unwrap()
            .iter()
            .any(|k| k["kind"] == "kvmalloc"),
        "{}",
        std.json["rust_vs_c"]
    );
    let kv = bench(
        &dev,
        &bench_command("run", &["--kind", "kvmalloc", "--iterations", "10"]).unwrap(),
    )
    .unwrap();
    assert_eq!(
        (kv.json["kind"].clone(), kv.json["size"].clone()),
        ("kvmalloc".into(), 4096.into())
    );
    assert_eq!((dev.live(), dev.caches()), (0, 0));

    // A module without the in-kernel benchmark.
    let old = FakeDevice::new(ALL_FEATURES & !KMEMLAB_FEAT_BENCH, default_limits());
    let e = bench(&old, &bench_command("smoke", &[]).unwrap()).unwrap_err();
    assert!(e.to_string().contains("no in-kernel benchmark"), "{e}");

    // A module whose LIMITS fails: the standard run says so, no guessing.
    let failing = FakeDevice::new(ALL_FEATURES, default_limits()).failing_limits();
    let e = bench(&failing, &bench_command("standard", &["--quick"]).unwrap()).unwrap_err();
    assert!(
        e.to_string().starts_with("reading the module's limits: "),
        "{e}"
    );
}

/// The benchmarks of `kind`, whose objects come from a pool each
/// benchmark makes (by the fake's name of the ioctl, `pool` create and
/// destroy), on `dev`: smoke has `smoke_line`; the standard set sweeps
/// 64-byte objects and judges them against the Rust/C target; every pool
/// made is destroyed. Returns the output of `bench run` with `run_args`.
fn pool_benchmarks(
    dev: &FakeDevice,
    kind: &str,
    pool: &str,
    smoke_line: &str,
    run_args: &[&str],
) -> Output {
    let smoke = bench(
        dev,
        &bench_command("smoke", &["--iterations", "5"]).unwrap(),
    )
    .unwrap();
    assert!(smoke.text.contains(smoke_line), "{}", smoke.text);
    let std = bench(dev, &bench_command("standard", &["--quick"]).unwrap()).unwrap();
    let find = |key: &str, field: &str, value: &str| {
        std.json[key]
            .as_array()
            .unwrap()
            .iter()
            .find(|k| k[field] == value)
            .cloned()
            .unwrap_or_default()
    };
    let row = find("rust_vs_c", "kind", kind);
    assert_eq!(row["points"][0]["bytes"], 64, "{}", std.json["rust_vs_c"]);
    let check = find("summary", "check", &format!("rust/C {kind}"));
    assert_eq!(check["met"], true, "{}", std.json["summary"]);
    let line: Vec<&str> = std
        .text
        .lines()
        .find(|l| l.starts_with(&format!("{kind} ")))
        .map(|l| l.split_whitespace().take(2).collect())
        .unwrap_or_default();
    assert_eq!(line, [kind, "64"], "{}", std.text);
    assert!(
        std.text.contains(&format!("\nrust/C {kind}: worst ")),
        "{}",
        std.text
    );
    let run = bench(dev, &bench_command("run", run_args).unwrap()).unwrap();
    assert_eq!(run.json["kind"], kind);
    // Every run made its pool and destroyed it.
    let calls = dev.calls();
    let count = |c: String| calls.iter().filter(|x| **x == c).count();
    let made = count(format!("{pool} create"));
    assert!(made >= 3, "{calls:?}");
    assert_eq!(made, count(format!("{pool} destroy")));
    assert_eq!(dev.live(), 0);
    run
}

/// Without the feature of `kind` in the module: a run is refused by name,
/// and no pool is made.
fn refused_without(feature: u64, kind: &str, pool: &str) {
    let old = FakeDevice::new(ALL_FEATURES & !feature, default_limits());
    let e = bench(&old, &bench_command("run", &["--kind", kind]).unwrap()).unwrap_err();
    assert!(
        e.to_string()
            .contains(&format!("no '{kind}' in its features")),
        "{e}"
    );
    assert!(!old.calls().iter().any(|c| c.starts_with(pool)));
}

/// The mempool benchmarks make their own kmalloc mempool, run GFP_ATOMIC
/// on it (the fake refuses other bases and unknown pools, as the module
/// does), and destroy it.
#[test]
fn mempool_benchmarks_on_a_fake_device() {
    let dev = FakeDevice::default();
    let mp = pool_benchmarks(
        &dev,
        "mempool",
        "mempool",
        "\nok    alloc mempool 64 C threads 2 batch 8: ",
        &["--kind", "mempool", "--size", "128"],
    );
    assert_eq!(mp.json["size"], 128);
    assert!(
        mp.text.starts_with("mempool 128: alloc+free pairs"),
        "{}",
        mp.text
    );
    assert_eq!((dev.caches(), dev.pools()), (0, 0));
    refused_without(KMEMLAB_FEAT_MEMPOOL, "mempool", "mempool");
}

/// The DMA pool benchmarks make their own pool of 64-byte blocks for the
/// faux device (for edu with --dma-device edu, when it is bound), and
/// destroy it; the standard set has a dma_pool row judged against the
/// Rust/C target like the others, skipped without the feature.
#[test]
fn dma_pool_benchmarks_on_a_fake_device() {
    let dev = FakeDevice::default();
    let run = pool_benchmarks(
        &dev,
        "dma_pool",
        "dma-pool",
        "\nok    alloc dma_pool 64 faux rust threads 2 batch 8: ",
        &["--kind", "dma_pool", "--size", "256", "--raw-c"],
    );
    assert_eq!(
        (run.json["size"].clone(), run.json["device"].clone()),
        (256.into(), "faux".into())
    );
    assert_eq!(run.json["impl"], "c");
    assert!(
        run.text
            .starts_with("dma_pool 256 faux: alloc+free pairs, raw C"),
        "{}",
        run.text
    );
    assert_eq!(dev.dma_pools(), 0);

    // A pool for edu needs edu bound.
    let edu_run = bench_command("run", &["--kind", "dma_pool", "--dma-device", "edu"]).unwrap();
    let e = bench(&dev, &edu_run).unwrap_err();
    assert!(e.to_string().contains("edu device is not bound"), "{e}");
    let edu = FakeDevice::new(ALL_FEATURES, default_limits());
    assert_eq!(bench(&edu, &edu_run).unwrap().json["device"], "edu");
    assert_eq!(edu.dma_pools(), 0);

    // Without DMA pools in the module: skipped in the standard set, refused
    // by name in a run.
    let old = FakeDevice::new(ALL_FEATURES & !KMEMLAB_FEAT_DMA_POOL, default_limits());
    let std = bench(&old, &bench_command("standard", &["--quick"]).unwrap()).unwrap();
    assert!(
        std.json["skipped"]
            .as_array()
            .unwrap()
            .iter()
            .any(|s| s["kind"] == "dma_pool"),
        "{}",
        std.json["skipped"]
    );
    refused_without(KMEMLAB_FEAT_DMA_POOL, "dma_pool", "dma-pool");
}

/// A scratch directory of `bench standard --json` documents, removed when
/// dropped.
struct Documents(std::path::PathBuf);

impl Documents {
    fn new(tag: &str) -> Self {
        let dir =
            std::env::temp_dir().join(format!("kmemlab-placements-{tag}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        Self(dir)
    }

    /// Writes `doc` for the placement `label`; returns its `LABEL=FILE`.
    fn write(&self, label: &str, doc: &Value) -> String {
        let path = self.0.join(format!("standard-{label}.json"));
        std::fs::write(&path, doc.to_string()).unwrap();
        format!("{label}={}", path.display())
    }
}

impl Drop for Documents {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// The document of `bench standard --quick --json` on the fake device.
fn standard_document(dev: &FakeDevice) -> Value {
    bench(dev, &bench_command("standard", &["--quick"]).unwrap())
        .unwrap()
        .document()
}

/// `doc` as one placement measured it: kmalloc's two points' best-rounds
/// ratios, the statistics' ratio, the ioctl path's, and the speedups of
/// the counters at two threads.
fn placed(
    doc: &Value,
    kmalloc: [f64; 2],
    stats: f64,
    ioctl: f64,
    percpu: f64,
    atomic: f64,
) -> Value {
    let mut doc = doc.clone();
    assert_eq!(doc["rust_vs_c"][0]["kind"], "kmalloc");
    for (i, r) in kmalloc.into_iter().enumerate() {
        doc["rust_vs_c"][0]["points"][i]["ratio_best"] = r.into();
    }
    doc["stats_cost"]["ratio"] = stats.into();
    doc["ioctl"]["ratio_batch_vs_pairs"] = ioctl.into();
    for s in doc["scaling"].as_array_mut().unwrap() {
        let speedup = match s["op"].as_str() {
            Some("percpu-inc") => percpu,
            Some("atomic-inc") => atomic,
            _ => continue,
        };
        s["points"][1]["speedup"] = speedup.into();
    }
    doc
}

/// Runs `bench placements ARGS` as the tool does without a device.
fn run_placements(args: &[String]) -> Result<Output> {
    let words: Vec<&str> = args.iter().map(String::as_str).collect();
    let b = bench_command("placements", &words)?;
    validate(&b)?;
    without_device(&b)
}

/// `bench placements` combines the standard documents of several
/// placements: medians across them, judged against the standard targets,
/// with no device.
#[test]
fn placements_of_standard_documents() {
    let dev = FakeDevice::default();
    let doc = standard_document(&dev);
    let docs = Documents::new("combine");
    let args = vec![
        docs.write("0", &placed(&doc, [1.010, 1.030], 1.040, 1.612, 1.9, 1.3)),
        docs.write(
            "832",
            &placed(&doc, [1.020, 1.000], 1.060, 1.400, 1.71, 0.9),
        ),
        docs.write(
            "1664",
            &placed(&doc, [1.040, 1.010], 1.045, 1.700, 1.5, 0.8),
        ),
    ];
    let out = run_placements(&args).unwrap();
    let text = &out.text;
    assert!(
        text.starts_with(
            "kmemlab bench placements: 3 placements of the same code (module text shifted by \
             +0 +832 +1664 bytes); each figure the median across placements\n"
        ),
        "{text}"
    );
    let header: Vec<&str> = text.lines().nth(1).unwrap().split_whitespace().collect();
    assert_eq!(header, ["check", "+0", "+832", "+1664", "median", "target"]);
    let row = |name: &str| -> Vec<String> {
        let line = text.lines().find(|l| l.starts_with(name)).unwrap_or("");
        line[name.len().min(line.len())..]
            .split_whitespace()
            .map(String::from)
            .collect()
    };
    // Each placement's worst point; the median column is the worst of the
    // points' medians (8 bytes: 1.020; 64 bytes: 1.010).
    assert_eq!(
        row("rust/C kmalloc"),
        ["1.030", "1.020", "1.040", "1.020", "<=", "1.03"]
    );
    assert_eq!(
        row("statistics on/off"),
        ["1.040", "1.060", "1.045", "1.045", "<=", "1.05"]
    );
    assert_eq!(
        row("ioctl batch-64 vs pairs"),
        ["1.612", "1.400", "1.700", "1.612", "<=", "1.5"]
    );
    assert_eq!(
        row("scaling percpu-inc (2 threads)"),
        ["1.90", "1.71", "1.50", "1.71", "grows", "with", "every", "CPU"]
    );
    assert_eq!(
        row("scaling atomic-inc (2 threads)"),
        ["1.30", "0.90", "0.80", "0.90", "does", "not", "grow"]
    );
    let kinds = doc["rust_vs_c"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|k| !k["points"].as_array().unwrap().is_empty())
        .count();
    assert_eq!(kinds, 10, "{}", doc["rust_vs_c"]);
    let rows = out.json["rows"].as_array().unwrap();
    assert_eq!(rows.len(), kinds + 4);
    assert_eq!(
        text.lines().filter(|l| l.starts_with("rust/C ")).count(),
        2 * kinds
    );
    assert!(
        text.contains("\nlargest spread between placements: 0.300 (ioctl batch-64 vs pairs)\n\nSummary (medians across placements)\n"),
        "{text}"
    );
    let summary: Vec<&str> = text
        .lines()
        .skip_while(|l| *l != "Summary (medians across placements)")
        .skip(1)
        .collect();
    assert_eq!(summary.len(), kinds + 3, "{text}");
    for want in [
        "rust/C kmalloc: worst 1.020 (median of 3 placements) at 8 bytes (target <= 1.03): met",
        // Equal points: the last, as in the standard summary.
        "rust/C kmem_cache: worst 1.010 (median of 3 placements) at 64 bytes (target <= 1.03): met",
        "scaling: percpu-inc grows with every added CPU (median speedups 1.00 1.71), \
         atomic-inc does not grow (median speedups 1.00 0.90), threads 1 2: met",
        "ioctl batch-64: median 1.612 (target <= 1.5): missed",
        "statistics cost: median 1.045 (target <= 1.05): met",
    ] {
        assert!(summary.contains(&want), "no '{want}' in {summary:#?}");
    }
    // In the order of the standard summary.
    assert!(summary[kinds].starts_with("scaling: "), "{summary:#?}");
    assert!(
        summary[kinds + 2].starts_with("statistics cost: "),
        "{summary:#?}"
    );

    let json = out.document();
    assert_eq!(json["benchmark"], "placements");
    assert_eq!(json["placements"], serde_json::json!(["0", "832", "1664"]));
    assert_eq!(
        json["rows"][0],
        serde_json::json!({
            "check": "rust/C kmalloc",
            "values": [1.03, 1.02, 1.04],
            "median": 1.02,
            "target": "<= 1.03"
        })
    );
    let summary = json["summary"].as_array().unwrap();
    assert_eq!(summary.len(), kinds + 3);
    let ioctl = summary
        .iter()
        .find(|c| c["check"] == "ioctl batch-64")
        .unwrap();
    assert_eq!(ioctl["met"], false);
    assert_eq!(ioctl["detail"], "median 1.612 (target <= 1.5)");

    // Two placements: the median of each point is the mean of the two.
    let two = run_placements(&args[..2]).unwrap();
    let ioctl = two.json["rows"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["check"] == "ioctl batch-64 vs pairs")
        .cloned()
        .unwrap();
    assert_eq!(ioctl["median"], 1.506);
    assert!(
        two.text
            .contains("\nioctl batch-64: median 1.506 (target <= 1.5): missed"),
        "{}",
        two.text
    );
    assert!(
        two.text
            .contains("atomic-inc grows (median speedups 1.00 1.10), threads 1 2: missed"),
        "{}",
        two.text
    );
    // The placements read files only: the device saw nothing of them.
    assert!(!crate::commands::needs_device(&crate::cli::Command::Bench(
        bench_command("placements", &["0=a", "1=b"]).unwrap()
    )));
}

/// Statistics a document did not measure are shown so, and not judged.
#[test]
fn placements_without_statistics() {
    let dev = FakeDevice::default();
    let mut doc = standard_document(&dev);
    doc["stats_cost"] = Value::Null;
    let docs = Documents::new("nostats");
    let args = [docs.write("0", &doc), docs.write("1", &doc)];
    let out = run_placements(&args).unwrap();
    let line = out
        .text
        .lines()
        .find(|l| l.starts_with("statistics on/off"))
        .unwrap();
    assert_eq!(line.matches("not measured").count(), 3, "{line}");
    assert!(!out.text.contains("\nstatistics cost: "), "{}", out.text);
    let stats = &out.json["rows"].as_array().unwrap()[10];
    assert_eq!(stats["check"], "statistics on/off");
    assert_eq!(stats["values"], serde_json::json!([null, null]));
}

/// What `bench placements` refuses: usage errors (exit 2) before any file
/// is read, and documents it cannot combine (exit 1).
#[test]
fn placements_refused() {
    for bad in [
        &["0=a.json", "b.json"][..],
        &["0=a.json"],
        &[],
        &["=a.json", "1=b.json"],
        &["0=", "1=b.json"],
        &["0=a.json", "0=b.json"],
    ] {
        let args: Vec<String> = bad.iter().map(|s| s.to_string()).collect();
        let e = run_placements(&args).unwrap_err();
        assert_eq!(e.exit_code(), 2, "{bad:?}: {e}");
    }
    let e = placements(&[]).unwrap_err();
    assert!(e.to_string().contains("two or more"), "{e}");

    let dev = FakeDevice::default();
    let doc = standard_document(&dev);
    let docs = Documents::new("refused");
    let good = docs.write("0", &doc);
    let cost = bench(
        &dev,
        &bench_command("stats-cost", &["--iterations", "10", "--rounds", "1"]).unwrap(),
    )
    .unwrap()
    .document();
    let mut fewer = doc.clone();
    fewer["rust_vs_c"][0]["points"]
        .as_array_mut()
        .unwrap()
        .pop();
    let mut renamed = doc.clone();
    renamed["rust_vs_c"][1]["kind"] = "slab".into();
    let mut one_cpu = doc.clone();
    for s in one_cpu["scaling"].as_array_mut().unwrap() {
        s["points"].as_array_mut().unwrap().pop();
    }
    let skipped = bench(
        &dev,
        &bench_command("standard", &["--quick", "--scaling", "skip"]).unwrap(),
    )
    .unwrap()
    .document();
    assert_eq!(doc["scaling_part"], "include");
    assert_eq!(skipped["scaling_part"], "skip");
    let missing = docs.0.join("missing.json");
    let not_json = docs.0.join("not.json");
    std::fs::write(&not_json, "kmemlab bench standard: text, not JSON").unwrap();
    for (other, want) in [
        (
            docs.write("cost", &cost),
            "not a document of `bench standard --json` (its \"benchmark\" is \"stats-cost\")",
        ),
        (
            docs.write("fewer", &fewer),
            "its sweep points (allocators and bytes) differ from those of +0 (",
        ),
        (
            docs.write("renamed", &renamed),
            "its sweep points (allocators and bytes) differ from those of +0 (",
        ),
        (
            docs.write("one-cpu", &one_cpu),
            "its scaling series (counters and thread counts) differ",
        ),
        (
            docs.write("skipped", &skipped),
            "a partial set (`bench standard --scaling skip`): placements need whole sets",
        ),
        (format!("m={}", missing.display()), "cannot read "),
        (format!("n={}", not_json.display()), "not a JSON document"),
        (
            docs.write("partial", &serde_json::json!({"benchmark": "standard"})),
            "no \"rust_vs_c\" in the document",
        ),
    ] {
        let e = run_placements(&[good.clone(), other.clone()]).unwrap_err();
        assert_eq!(e.exit_code(), 1, "{other}: {e}");
        assert!(e.to_string().contains(want), "{other}: {e}");
    }
}
