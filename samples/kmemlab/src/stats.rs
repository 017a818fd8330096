// SPDX-License-Identifier: GPL-2.0

//! The module's statistics, read from its debugfs directory (formats in
//! the README's Statistics section), and the kernel's figures for kmemlab's slab caches
//! from /proc/slabinfo: the `stats` and `top` commands. Neither needs
//! /dev/kmemlab.

use std::fmt::Write as _;
use std::io::{self, IsTerminal, Read as _};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use crate::json::{self, Value};
use crate::term::Terminal;

/// Where the module's debugfs files are when debugfs is mounted as usual.
pub const DEFAULT_DIR: &str = "/sys/kernel/debug/kmemlab";
const DEBUGFS_ROOT: &str = "/sys/kernel/debug";
const SLABINFO: &str = "/proc/slabinfo";

/// What a column holds.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Type {
    Text,
    Unsigned,
    Signed,
}

/// A text file's documented format: the columns its header must name.
pub struct Format {
    name: &'static str,
    columns: &'static [(&'static str, Type)],
}

pub const STATS: Format = Format {
    name: "stats",
    columns: &[
        ("kind", Type::Text),
        ("live", Type::Unsigned),
        ("created", Type::Unsigned),
        ("freed", Type::Unsigned),
        ("failed", Type::Unsigned),
        ("enomem", Type::Unsigned),
        ("einval", Type::Unsigned),
        ("enodev", Type::Unsigned),
        ("other", Type::Unsigned),
        ("bytes", Type::Unsigned),
        ("pages", Type::Unsigned),
        ("hwm_bytes", Type::Unsigned),
        ("alloc_ns", Type::Unsigned),
    ],
};

pub const PERCPU: Format = Format {
    name: "percpu",
    columns: &[
        ("cpu", Type::Unsigned),
        ("kind", Type::Text),
        ("created", Type::Unsigned),
        ("freed", Type::Unsigned),
        ("failed", Type::Unsigned),
        // The net change made on the CPU: negative where more was freed there.
        ("bytes", Type::Signed),
        ("pages", Type::Signed),
        ("alloc_ns", Type::Unsigned),
    ],
};

pub const OBJECTS: Format = Format {
    name: "objects",
    columns: &[
        ("pid", Type::Signed),
        ("handle", Type::Unsigned),
        ("kind", Type::Text),
        ("size", Type::Unsigned),
        ("order", Type::Unsigned),
        ("node", Type::Signed),
        ("nid", Type::Signed),
        ("cpu", Type::Unsigned),
    ],
};

pub const CACHES: Format = Format {
    name: "caches",
    columns: &[
        ("name", Type::Text),
        ("object_size", Type::Unsigned),
        ("live", Type::Unsigned),
    ],
};

/// A text file parsed against its format: a header naming the columns, then
/// rows of as many fields, each of the type its column holds. Columns the
/// format does not know (a newer module) are kept as text.
#[derive(Debug)]
pub struct Table {
    pub columns: Vec<String>,
    pub rows: Vec<Vec<String>>,
}

impl Table {
    pub fn parse(text: &str, format: &Format) -> Result<Self, String> {
        let name = format.name;
        let mut lines = text
            .lines()
            .enumerate()
            .filter(|(_, l)| !l.trim().is_empty());
        let columns: Vec<String> = match lines.next() {
            Some((_, header)) => header.split_whitespace().map(str::to_string).collect(),
            None => return Err(format!("{name}: empty file, no header")),
        };
        for (col, _) in format.columns {
            if !columns.iter().any(|c| c == col) {
                return Err(format!("{name}: the header has no '{col}' column"));
            }
        }
        if let Some((i, c)) = columns
            .iter()
            .enumerate()
            .find(|(i, c)| columns[..*i].contains(c))
        {
            return Err(format!(
                "{name}: column '{c}' is repeated (column {})",
                i + 1
            ));
        }
        let types: Vec<Type> = columns
            .iter()
            .map(|c| {
                format
                    .columns
                    .iter()
                    .find(|(name, _)| name == c)
                    .map_or(Type::Text, |(_, t)| *t)
            })
            .collect();
        let mut rows = Vec::new();
        for (n, line) in lines {
            let fields: Vec<String> = line.split_whitespace().map(str::to_string).collect();
            let line_no = n + 1;
            if fields.len() != columns.len() {
                return Err(format!(
                    "{name} line {line_no}: {} fields for {} columns",
                    fields.len(),
                    columns.len()
                ));
            }
            for ((field, t), col) in fields.iter().zip(&types).zip(&columns) {
                let ok = match t {
                    Type::Text => true,
                    Type::Unsigned => field.parse::<u64>().is_ok(),
                    Type::Signed => field.parse::<i64>().is_ok(),
                };
                if !ok {
                    return Err(format!(
                        "{name} line {line_no}: {col} '{field}' is not a number"
                    ));
                }
            }
            rows.push(fields);
        }
        Ok(Self { columns, rows })
    }

    fn index(&self, col: &str) -> Option<usize> {
        self.columns.iter().position(|c| c == col)
    }

    /// Row `row`'s field in column `col` ("" for a column it does not have).
    pub fn text(&self, row: usize, col: &str) -> &str {
        self.index(col)
            .and_then(|i| self.rows.get(row)?.get(i))
            .map_or("", String::as_str)
    }

    /// An unsigned column's value (checked when parsed).
    pub fn unsigned(&self, row: usize, col: &str) -> u64 {
        self.text(row, col).parse().unwrap_or(0)
    }
}

/// One kind's figures, as `top` shows them.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct KindCounts {
    pub kind: String,
    pub live: u64,
    pub created: u64,
    pub freed: u64,
    pub failed: u64,
    pub bytes: u64,
    pub pages: u64,
}

/// The rows of a parsed `stats` table.
pub fn kind_counts(t: &Table) -> Vec<KindCounts> {
    (0..t.rows.len())
        .map(|r| KindCounts {
            kind: t.text(r, "kind").to_string(),
            live: t.unsigned(r, "live"),
            created: t.unsigned(r, "created"),
            freed: t.unsigned(r, "freed"),
            failed: t.unsigned(r, "failed"),
            bytes: t.unsigned(r, "bytes"),
            pages: t.unsigned(r, "pages"),
        })
        .collect()
}

/// A kmemlab cache's row of /proc/slabinfo.
#[derive(Clone, Debug, PartialEq)]
pub struct SlabRow {
    pub name: String,
    pub active_objs: u64,
    pub num_objs: u64,
    pub objsize: u64,
}

/// The `kmemlab-*` rows of /proc/slabinfo ("name active_objs num_objs objsize
/// ..." after a version line and a '#' header).
pub fn parse_slabinfo(text: &str) -> Result<Vec<SlabRow>, String> {
    let mut rows = Vec::new();
    for (n, line) in text.lines().enumerate() {
        if !line.starts_with("kmemlab-") {
            continue;
        }
        let f: Vec<&str> = line.split_whitespace().collect();
        let num = |i: usize| f.get(i).and_then(|s| s.parse::<u64>().ok());
        match (num(1), num(2), num(3)) {
            (Some(active_objs), Some(num_objs), Some(objsize)) => rows.push(SlabRow {
                name: f[0].to_string(),
                active_objs,
                num_objs,
                objsize,
            }),
            _ => return Err(format!("{SLABINFO} line {}: not a slab cache's row", n + 1)),
        }
    }
    Ok(rows)
}

/// The kmemlab rows of /proc/slabinfo, or why there are none to show.
pub fn read_slabinfo() -> Result<Vec<SlabRow>, String> {
    match std::fs::read_to_string(SLABINFO) {
        Ok(text) => parse_slabinfo(&text),
        Err(e) => Err(match e.kind() {
            io::ErrorKind::NotFound => {
                format!("no {SLABINFO} (the kernel lacks CONFIG_SLUB_DEBUG): no slab figures")
            }
            io::ErrorKind::PermissionDenied => {
                format!("{SLABINFO} is root-only: run as root for the slab figures")
            }
            _ => format!("cannot read {SLABINFO}: {e}"),
        }),
    }
}

/// A kmemlab cache: kmemlab's figures (from `caches`) and the kernel's (from
/// /proc/slabinfo), each when known.
#[derive(Debug, PartialEq)]
pub struct CacheRow {
    pub name: String,
    pub object_size: Option<u64>,
    pub live: Option<u64>,
    pub slab: Option<SlabRow>,
}

/// The full slab name of a `caches` row's name, which may leave the prefix out.
fn slab_name(name: &str) -> String {
    if name.starts_with("kmemlab-") {
        name.to_string()
    } else {
        format!("kmemlab-{name}")
    }
}

/// Joins the `caches` table (when the module has one) with the slabinfo rows,
/// by name: the caches file's order first, then caches only slabinfo shows.
pub fn join_caches(caches: Option<&Table>, slab: &[SlabRow]) -> Vec<CacheRow> {
    let mut rows: Vec<CacheRow> = Vec::new();
    if let Some(t) = caches {
        for r in 0..t.rows.len() {
            let name = slab_name(t.text(r, "name"));
            rows.push(CacheRow {
                slab: slab.iter().find(|s| s.name == name).cloned(),
                name,
                object_size: Some(t.unsigned(r, "object_size")),
                live: Some(t.unsigned(r, "live")),
            });
        }
    }
    for s in slab {
        if !rows.iter().any(|r| r.name == s.name) {
            rows.push(CacheRow {
                name: s.name.clone(),
                object_size: None,
                live: None,
                slab: Some(s.clone()),
            });
        }
    }
    rows
}

// ---- reading the debugfs directory ----

/// The mount points of debugfs in a /proc/mounts text.
fn debugfs_mounts(mounts: &str) -> Vec<PathBuf> {
    mounts
        .lines()
        .filter_map(|l| {
            let f: Vec<&str> = l.split_whitespace().collect();
            (f.get(2) == Some(&"debugfs")).then(|| PathBuf::from(unescape_mount(f[1])))
        })
        .collect()
}

/// A /proc/mounts path, with its octal escapes (`\040` for a space) decoded.
fn unescape_mount(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        let octal = b
            .get(i + 1..i + 4)
            .filter(|d| d.iter().all(|c| (b'0'..=b'7').contains(c)));
        match octal {
            Some(d) if b[i] == b'\\' => {
                out.push(
                    d.iter()
                        .fold(0u8, |acc, c| acc.wrapping_mul(8) + (c - b'0')),
                );
                i += 4;
            }
            _ => {
                out.push(b[i]);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// What the system looks like, for explaining a missing file.
struct Situation<'a> {
    mounts: &'a str,
    module_loaded: bool,
    dir_exists: bool,
}

/// Why `path`, a file of the module's debugfs directory `dir`, is missing,
/// and how to fix it.
fn explain_missing(path: &Path, dir: &Path, s: &Situation<'_>) -> String {
    let path = path.display();
    let in_debugfs = debugfs_mounts(s.mounts).iter().any(|m| dir.starts_with(m));
    let load = "load it with 'insmod kmemlab.ko'";
    if dir.starts_with(DEBUGFS_ROOT) && !in_debugfs {
        let mut msg = format!(
            "cannot read {path}: debugfs is not mounted on {DEBUGFS_ROOT}: \
             mount it with 'mount -t debugfs none {DEBUGFS_ROOT}'"
        );
        if !s.module_loaded {
            msg.push_str(&format!(
                "; the kmemlab module is not loaded either: {load}"
            ));
        }
        msg
    } else if !s.module_loaded {
        format!(
            "cannot read {path}: the kmemlab module is not loaded (no /sys/module/kmemlab): {load}"
        )
    } else if !in_debugfs {
        format!(
            "cannot read {path}: no such file (is {} kmemlab's debugfs directory?)",
            dir.display()
        )
    } else if !s.dir_exists {
        format!(
            "cannot read {path}: the kmemlab module is loaded but {} does not exist",
            dir.display()
        )
    } else {
        format!(
            "cannot read {path}: the loaded kmemlab module has no statistics \
             (it predates them): rebuild and reload it"
        )
    }
}

/// Reads `file` of the module's debugfs directory `dir`, explaining a failure.
/// `Ok(None)` when the file is missing and `optional`.
fn read_debugfs(dir: &Path, file: &str, optional: bool) -> Result<Option<String>, String> {
    let path = dir.join(file);
    match std::fs::read_to_string(&path) {
        Ok(text) => Ok(Some(text)),
        Err(e) if e.kind() == io::ErrorKind::NotFound => {
            let situation = Situation {
                mounts: &std::fs::read_to_string("/proc/self/mounts").unwrap_or_default(),
                module_loaded: Path::new("/sys/module/kmemlab").exists(),
                dir_exists: dir.is_dir(),
            };
            if optional && situation.dir_exists {
                return Ok(None);
            }
            Err(explain_missing(&path, dir, &situation))
        }
        Err(e) if e.kind() == io::ErrorKind::PermissionDenied => Err(format!(
            "permission denied reading {}: debugfs is root-only, run as root",
            path.display()
        )),
        Err(e) => Err(format!("cannot read {}: {e}", path.display())),
    }
}

fn read_required(dir: &Path, file: &str) -> Result<String, String> {
    read_debugfs(dir, file, false).map(Option::unwrap_or_default)
}

/// The `caches` table, when the module has the file.
fn read_caches(dir: &Path) -> Result<Option<Table>, String> {
    read_debugfs(dir, "caches", true)?
        .map(|text| Table::parse(&text, &CACHES))
        .transpose()
}

/// The kmemlab caches with the kernel's figures, and a note when slabinfo
/// could not be read.
fn caches_now(dir: &Path) -> Result<(Vec<CacheRow>, Option<String>), String> {
    let caches = read_caches(dir)?;
    let (slab, note) = match read_slabinfo() {
        Ok(rows) => (rows, None),
        Err(note) => (Vec::new(), Some(note)),
    };
    Ok((join_caches(caches.as_ref(), &slab), note))
}

// ---- formatting for people ----

/// Bytes with a binary unit: "512 B", "1.5 KiB", "12.0 MiB".
pub fn human_bytes(n: u64) -> String {
    const UNITS: [&str; 5] = ["KiB", "MiB", "GiB", "TiB", "PiB"];
    if n < 1024 {
        return format!("{n} B");
    }
    // CAST: display only; f64 is exact enough for one decimal.
    let mut v = n as f64 / 1024.0;
    let mut unit = 0;
    while v >= 1024.0 && unit < UNITS.len() - 1 {
        v /= 1024.0;
        unit += 1;
    }
    format!("{v:.1} {}", UNITS[unit])
}

/// Signed bytes (a per-CPU net change), as [`human_bytes`] with a sign.
pub fn human_signed_bytes(n: i64) -> String {
    let s = human_bytes(n.unsigned_abs());
    if n < 0 {
        format!("-{s}")
    } else {
        s
    }
}

/// Nanoseconds with a unit: "850 ns", "1.2 us", "3.4 ms", "2.50 s".
pub fn human_ns(n: u64) -> String {
    // CAST: display only.
    let f = n as f64;
    match n {
        0..=999 => format!("{n} ns"),
        1_000..=999_999 => format!("{:.1} us", f / 1e3),
        1_000_000..=999_999_999 => format!("{:.1} ms", f / 1e6),
        _ => format!("{:.2} s", f / 1e9),
    }
}

/// Lays `rows` out under `header`, two spaces apart, no trailing newline:
/// the first column and names (`kind`, `name`) left-aligned, the others (numbers) right-aligned.
pub fn layout(header: &[&str], rows: &[Vec<String>]) -> String {
    let mut widths: Vec<usize> = header.iter().map(|h| h.len()).collect();
    for row in rows {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(cell.chars().count());
        }
    }
    let line = |cells: &mut dyn Iterator<Item = &str>| {
        let mut s = String::new();
        for (i, (cell, w)) in cells.zip(&widths).enumerate() {
            let sep = if i == 0 { "" } else { "  " };
            if i == 0 || matches!(header[i], "kind" | "name") {
                let _ = write!(s, "{sep}{cell:<w$}");
            } else {
                let _ = write!(s, "{sep}{cell:>w$}");
            }
        }
        s.trim_end().to_string()
    };
    let mut out = vec![line(&mut header.iter().copied())];
    out.extend(rows.iter().map(|r| line(&mut r.iter().map(String::as_str))));
    out.join("\n")
}

/// A stats-like table for people: bytes and durations with units, other
/// columns as they are.
fn human_table(t: &Table, skip_zero_rows: bool) -> String {
    let header: Vec<&str> = t.columns.iter().map(String::as_str).collect();
    let rows: Vec<Vec<String>> = (0..t.rows.len())
        .filter(|&r| {
            !skip_zero_rows
                || t.columns
                    .iter()
                    .any(|c| c != "cpu" && c != "kind" && t.text(r, c) != "0")
        })
        .map(|r| {
            t.columns
                .iter()
                .map(|c| {
                    let cell = t.text(r, c);
                    let shown = match c.as_str() {
                        "bytes" | "hwm_bytes" => cell
                            .parse()
                            .map(human_bytes)
                            .or_else(|_| cell.parse().map(human_signed_bytes)),
                        "alloc_ns" => cell.parse().map(human_ns),
                        _ => Ok(cell.to_string()),
                    };
                    shown.unwrap_or_else(|_| cell.to_string())
                })
                .collect()
        })
        .collect();
    layout(&header, &rows)
}

fn opt(v: Option<u64>) -> String {
    v.map_or_else(|| "-".to_string(), |v| v.to_string())
}

/// The caches section: kmemlab's live count beside slabinfo's figures.
fn caches_text(rows: &[CacheRow], note: Option<&str>) -> String {
    let mut out = String::from(
        "kmemlab slab caches (object_size, live: kmemlab's; the rest: /proc/slabinfo):\n",
    );
    if rows.is_empty() {
        out.push_str("(no kmemlab slab caches)");
    } else {
        let cells: Vec<Vec<String>> = rows
            .iter()
            .map(|r| {
                vec![
                    r.name.clone(),
                    opt(r.object_size),
                    opt(r.live),
                    opt(r.slab.as_ref().map(|s| s.active_objs)),
                    opt(r.slab.as_ref().map(|s| s.num_objs)),
                    opt(r.slab.as_ref().map(|s| s.objsize)),
                ]
            })
            .collect();
        out.push_str(&layout(
            &[
                "name",
                "object_size",
                "live",
                "active_objs",
                "num_objs",
                "objsize",
            ],
            &cells,
        ));
    }
    if let Some(note) = note {
        out.push_str(&format!("\n({note})"));
    }
    out
}

// ---- stats ----

#[derive(Debug, PartialEq)]
struct StatsArgs {
    json: bool,
    percpu: bool,
    objects: bool,
    dir: PathBuf,
}

fn stats_args(words: &[String]) -> Result<StatsArgs, String> {
    let mut a = StatsArgs {
        json: false,
        percpu: false,
        objects: false,
        dir: PathBuf::from(DEFAULT_DIR),
    };
    let mut w = words.iter();
    while let Some(opt) = w.next() {
        match opt.as_str() {
            "--json" => a.json = true,
            "--percpu" => a.percpu = true,
            "--objects" => a.objects = true,
            "--debugfs" => a.dir = w.next().ok_or("--debugfs needs a directory")?.into(),
            o => return Err(format!("unknown stats option '{o}'")),
        }
    }
    Ok(a)
}

/// The stats.json document with the kmemlab rows of /proc/slabinfo added
/// (and kmemlab's own view of its caches, when the module has a caches file).
fn stats_json(doc: &str, slab: &[SlabRow], caches: Option<&Table>) -> Result<String, String> {
    let v = json::parse(doc).map_err(|e| format!("stats.json: {e}"))?;
    match v.get("version").and_then(Value::as_u64) {
        Some(1) => {}
        Some(n) => {
            return Err(format!(
                "stats.json has version {n}; this tool reads version 1"
            ))
        }
        None => return Err("stats.json has no version".into()),
    }
    for key in ["kinds", "percpu", "objects"] {
        let rows = v
            .get(key)
            .and_then(Value::as_list)
            .ok_or_else(|| format!("stats.json has no '{key}' list"))?;
        if key != "objects"
            && rows
                .iter()
                .any(|r| r.get("kind").and_then(Value::as_str).is_none())
        {
            return Err(format!("stats.json: a '{key}' entry names no kind"));
        }
    }
    let Value::Object(mut fields) = v else {
        return Err("stats.json is not an object".into());
    };
    let num = |n: u64| Value::Num(n);
    let slab_rows = slab
        .iter()
        .map(|s| {
            Value::Object(vec![
                ("name".into(), Value::Str(s.name.clone())),
                ("active_objs".into(), num(s.active_objs)),
                ("num_objs".into(), num(s.num_objs)),
                ("objsize".into(), num(s.objsize)),
            ])
        })
        .collect();
    fields.push(("slabinfo".into(), Value::List(slab_rows)));
    if let Some(t) = caches {
        let rows = (0..t.rows.len())
            .map(|r| {
                Value::Object(vec![
                    ("name".into(), Value::Str(slab_name(t.text(r, "name")))),
                    ("object_size".into(), num(t.unsigned(r, "object_size"))),
                    ("live".into(), num(t.unsigned(r, "live"))),
                ])
            })
            .collect();
        fields.push(("caches".into(), Value::List(rows)));
    }
    Ok(json::render(&Value::Object(fields)))
}

/// `stats [--json] [--percpu] [--objects] [--debugfs DIR]`: what it prints
/// (JSON with `--json` here or as the tool's option).
pub fn stats(words: &[String], json: bool) -> Result<String, String> {
    let a = stats_args(words)?;
    if a.json || json {
        let doc = read_required(&a.dir, "stats.json")?;
        let caches = read_caches(&a.dir)?;
        let slab = read_slabinfo().unwrap_or_else(|note| {
            eprintln!("kmemlab: {note}");
            Vec::new()
        });
        return stats_json(&doc, &slab, caches.as_ref());
    }
    let t = Table::parse(&read_required(&a.dir, "stats")?, &STATS)?;
    let mut out = format!(
        "kmemlab statistics ({}):\n{}",
        a.dir.display(),
        human_table(&t, false)
    );
    if a.percpu {
        let p = Table::parse(&read_required(&a.dir, "percpu")?, &PERCPU)?;
        out.push_str("\n\nper CPU (net bytes and pages; rows of zeroes left out):\n");
        out.push_str(&human_table(&p, true));
    }
    if a.objects {
        let o = Table::parse(&read_required(&a.dir, "objects")?, &OBJECTS)?;
        out.push_str("\n\nlive objects of every open /dev/kmemlab:\n");
        if o.rows.is_empty() {
            out.push_str("(none)");
        } else {
            out.push_str(&human_table(&o, false));
        }
    }
    let (caches, note) = caches_now(&a.dir)?;
    out.push_str("\n\n");
    out.push_str(&caches_text(&caches, note.as_deref()));
    Ok(out)
}

// ---- top ----

/// What `top` sorts the kinds by (largest first; ties keep the ABI order).
#[derive(Clone, Copy, Debug, PartialEq)]
enum SortKey {
    Live,
    Bytes,
    Created,
    /// created/s + freed/s: the allocator traffic.
    Rate,
}

#[derive(Debug, PartialEq)]
struct TopArgs {
    interval: Duration,
    sort: SortKey,
    iterations: Option<u64>,
    dir: PathBuf,
}

fn top_args(words: &[String]) -> Result<TopArgs, String> {
    let mut a = TopArgs {
        interval: Duration::from_secs(1),
        sort: SortKey::Live,
        iterations: None,
        dir: PathBuf::from(DEFAULT_DIR),
    };
    let mut w = words.iter();
    while let Some(opt) = w.next() {
        let mut value = || w.next().ok_or_else(|| format!("{opt} needs a value"));
        match opt.as_str() {
            "--interval" => {
                let v = value()?;
                a.interval = v
                    .parse::<f64>()
                    .ok()
                    .filter(|s| s.is_finite() && (0.01..=3600.0).contains(s))
                    .map(Duration::from_secs_f64)
                    .ok_or_else(|| format!("--interval '{v}': seconds, 0.01 to 3600"))?;
            }
            "--sort" => {
                a.sort = match value()?.as_str() {
                    "live" => SortKey::Live,
                    "bytes" => SortKey::Bytes,
                    "created" => SortKey::Created,
                    "rate" => SortKey::Rate,
                    s => return Err(format!("unknown --sort '{s}' (live, bytes, created, rate)")),
                }
            }
            "--iterations" => {
                let v = value()?;
                a.iterations = Some(
                    v.parse::<u64>()
                        .ok()
                        .filter(|n| *n > 0)
                        .ok_or_else(|| format!("--iterations '{v}': a count from 1"))?,
                );
            }
            "--debugfs" => a.dir = value()?.into(),
            o => return Err(format!("unknown top option '{o}'")),
        }
    }
    Ok(a)
}

/// One reading of the `stats` file.
struct Sample {
    at: Instant,
    kinds: Vec<KindCounts>,
}

/// Events a second between two readings of a counter `secs` apart; `None`
/// when it cannot be told (no time passed, or the counter went back: the
/// module was reloaded).
pub fn rate(before: u64, now: u64, secs: f64) -> Option<f64> {
    // CAST: display only.
    (now >= before && secs > 0.0).then(|| (now - before) as f64 / secs)
}

/// created/s and freed/s of each kind of `now` since `prev` (matched by kind).
fn rates(prev: Option<&Sample>, now: &Sample) -> Vec<(Option<f64>, Option<f64>)> {
    now.kinds
        .iter()
        .map(|k| {
            let Some(prev) = prev else {
                return (None, None);
            };
            let secs = now.at.saturating_duration_since(prev.at).as_secs_f64();
            match prev.kinds.iter().find(|p| p.kind == k.kind) {
                Some(p) => (
                    rate(p.created, k.created, secs),
                    rate(p.freed, k.freed, secs),
                ),
                None => (None, None),
            }
        })
        .collect()
}

/// The order to show the kinds in: indices into `kinds`.
fn sorted(kinds: &[KindCounts], rates: &[(Option<f64>, Option<f64>)], key: SortKey) -> Vec<usize> {
    let traffic = |i: usize| {
        let (c, f) = rates.get(i).copied().unwrap_or_default();
        c.unwrap_or(0.0) + f.unwrap_or(0.0)
    };
    let mut order: Vec<usize> = (0..kinds.len()).collect();
    // Stable: equal keys keep the ABI order.
    match key {
        SortKey::Live => order.sort_by_key(|&i| std::cmp::Reverse(kinds[i].live)),
        SortKey::Bytes => order.sort_by_key(|&i| std::cmp::Reverse(kinds[i].bytes)),
        SortKey::Created => order.sort_by_key(|&i| std::cmp::Reverse(kinds[i].created)),
        SortKey::Rate => order.sort_by(|&a, &b| traffic(b).total_cmp(&traffic(a))),
    }
    order
}

fn show_rate(r: Option<f64>) -> String {
    r.map_or_else(|| "-".to_string(), |r| format!("{r:.1}"))
}

fn sort_name(key: SortKey) -> &'static str {
    match key {
        SortKey::Live => "live",
        SortKey::Bytes => "bytes",
        SortKey::Created => "created",
        SortKey::Rate => "rate (created/s + freed/s)",
    }
}

/// One refresh of `top`, without escapes; ends with a newline.
fn frame(a: &TopArgs, now: &Sample, prev: Option<&Sample>, caches: &str, keys: bool) -> String {
    let r = rates(prev, now);
    let rows: Vec<Vec<String>> = sorted(&now.kinds, &r, a.sort)
        .into_iter()
        .map(|i| {
            let k = &now.kinds[i];
            vec![
                k.kind.clone(),
                k.live.to_string(),
                human_bytes(k.bytes),
                k.pages.to_string(),
                show_rate(r[i].0),
                show_rate(r[i].1),
                k.failed.to_string(),
            ]
        })
        .collect();
    let quit = if keys { "; q or Ctrl-C quits" } else { "" };
    format!(
        "kmemlab top: every {}s, sorted by {}{quit}\n{}\n\n{}\n",
        a.interval.as_secs_f64(),
        sort_name(a.sort),
        layout(
            &[
                "kind",
                "live",
                "bytes",
                "pages",
                "created/s",
                "freed/s",
                "failed"
            ],
            &rows
        ),
        caches
    )
}

fn sample(dir: &Path) -> Result<Sample, String> {
    let t = Table::parse(&read_required(dir, "stats")?, &STATS)?;
    Ok(Sample {
        at: Instant::now(),
        kinds: kind_counts(&t),
    })
}

/// How a wait between refreshes ended.
#[derive(PartialEq)]
enum Wait {
    Elapsed,
    Quit,
}

/// Waits `d`, watching for a signal and, when the terminal is set up for
/// it, for `q` on standard input.
fn wait(d: Duration, term: Option<&Terminal>) -> Wait {
    let end = Instant::now() + d;
    let mut stdin = io::stdin();
    loop {
        if crate::term::stop_signal().is_some() {
            return Wait::Quit;
        }
        let now = Instant::now();
        if now >= end {
            return Wait::Elapsed;
        }
        if term.is_some_and(Terminal::reads_keys) {
            // The terminal returns after at most 0.1 s without a key.
            let mut key = [0u8; 16];
            if let Ok(n) = stdin.read(&mut key) {
                if key[..n].iter().any(|&b| b == b'q' || b == b'Q') {
                    return Wait::Quit;
                }
            }
        } else {
            std::thread::sleep((end - now).min(Duration::from_millis(50)));
        }
    }
}

/// The refresh loop, writing frames to `out`; `term` is set on a terminal.
fn top_loop(a: &TopArgs, out: &mut dyn io::Write, term: Option<&Terminal>) -> Result<(), String> {
    let mut prev: Option<Sample> = None;
    let mut shown = 0u64;
    let write_err = |e: io::Error| format!("writing the view: {e}");
    loop {
        let now = sample(&a.dir)?;
        let (caches, note) = caches_now(&a.dir)?;
        let view = frame(
            a,
            &now,
            prev.as_ref(),
            &caches_text(&caches, note.as_deref()),
            term.is_some_and(Terminal::reads_keys),
        );
        if term.is_some() {
            // Home and clear, then the frame (stty left output processing alone).
            write!(out, "\x1b[H\x1b[2J{view}").map_err(write_err)?;
        } else {
            // One frame after the other, a blank line apart.
            writeln!(out, "{view}").map_err(write_err)?;
        }
        out.flush().map_err(write_err)?;
        prev = Some(now);
        shown += 1;
        if a.iterations.is_some_and(|n| shown >= n) || wait(a.interval, term) == Wait::Quit {
            return Ok(());
        }
    }
}

/// `top [--interval SECS] [--sort KEY] [--iterations N] [--debugfs DIR]`.
/// On a terminal it redraws in place and takes `q`; otherwise it prints one
/// frame after the other and leaves the terminal alone.
pub fn top(words: &[String]) -> Result<(), String> {
    let a = top_args(words)?;
    // Fail before touching the terminal when nothing can be shown.
    sample(&a.dir)?;
    let stdout = io::stdout();
    if !stdout.is_terminal() {
        return top_loop(&a, &mut stdout.lock(), None);
    }
    let term = Terminal::enter();
    let result = top_loop(&a, &mut stdout.lock(), Some(&term));
    // Restored before the caller prints any error.
    drop(term);
    result
}

#[cfg(test)]
mod tests {
    use super::*;

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
        assert_eq!(t.rows.len(), 8);
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
    fn formats_bytes_and_durations() {
        assert_eq!(human_bytes(0), "0 B");
        assert_eq!(human_bytes(1023), "1023 B");
        assert_eq!(human_bytes(1536), "1.5 KiB");
        assert_eq!(human_bytes(8 << 20), "8.0 MiB");
        assert_eq!(human_bytes(3 << 30), "3.0 GiB");
        assert_eq!(human_bytes(u64::MAX), "16384.0 PiB");
        assert_eq!(human_signed_bytes(-2048), "-2.0 KiB");
        assert_eq!(human_signed_bytes(i64::MIN), "-8192.0 PiB");
        assert_eq!(human_ns(999), "999 ns");
        assert_eq!(human_ns(1234), "1.2 us");
        assert_eq!(human_ns(3_400_000), "3.4 ms");
        assert_eq!(human_ns(2_500_000_000), "2.50 s");
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
            kmalloc.contains("19.5 KiB") && kmalloc.contains("39.1 KiB"),
            "{kmalloc}"
        );
        assert!(kmalloc.ends_with("1.2 us"), "{kmalloc}");
        assert!(
            text.contains("8.0 MiB") && text.contains("3.00 s"),
            "{text}"
        );
        assert_eq!(text.lines().count(), 9);

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

    fn words(s: &str) -> Vec<String> {
        s.split_whitespace().map(str::to_string).collect()
    }

    #[test]
    fn parses_stats_and_top_options() {
        let a = stats_args(&words("--json --debugfs /tmp/x --percpu")).unwrap();
        assert_eq!(
            a,
            StatsArgs {
                json: true,
                percpu: true,
                objects: false,
                dir: "/tmp/x".into()
            }
        );
        assert_eq!(stats_args(&[]).unwrap().dir, PathBuf::from(DEFAULT_DIR));
        assert!(stats_args(&words("--debugfs")).is_err());
        assert!(stats_args(&words("--bogus")).is_err());

        let a = top_args(&[]).unwrap();
        assert_eq!(
            (a.interval, a.sort, a.iterations),
            (Duration::from_secs(1), SortKey::Live, None)
        );
        let a = top_args(&words("--interval 0.5 --sort rate --iterations 2")).unwrap();
        assert_eq!(
            (a.interval, a.sort, a.iterations),
            (Duration::from_millis(500), SortKey::Rate, Some(2))
        );
        for bad in [
            "--interval 0",
            "--interval -1",
            "--interval nan",
            "--interval",
            "--sort size",
            "--iterations 0",
            "--iterations x",
            "--what",
        ] {
            assert!(top_args(&words(bad)).is_err(), "{bad}");
        }
    }

    #[test]
    fn explains_a_missing_file() {
        let dir = Path::new(DEFAULT_DIR);
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
        let out = json::parse(&stats_json(STATS_JSON, &slab, Some(&caches)).unwrap()).unwrap();
        assert_eq!(
            out.get("kinds").and_then(Value::as_list).map(<[_]>::len),
            Some(1)
        );
        let percpu = out.get("percpu").and_then(Value::as_list).unwrap();
        assert_eq!(percpu[0].get("bytes"), Some(&Value::Int(-64)));
        let s = out.get("slabinfo").and_then(Value::as_list).unwrap();
        assert_eq!(s.len(), 2);
        assert_eq!(s[0].get("num_objs").and_then(Value::as_u64), Some(32));
        let c = out.get("caches").and_then(Value::as_list).unwrap();
        assert_eq!(
            c[1].get("name").and_then(Value::as_str),
            Some("kmemlab-two")
        );

        let without = json::parse(&stats_json(STATS_JSON, &[], None).unwrap()).unwrap();
        assert_eq!(
            without.get("slabinfo").and_then(Value::as_list),
            Some(&[][..])
        );
        assert_eq!(without.get("caches"), None);

        let e = stats_json(
            &STATS_JSON.replace("\"version\": 1", "\"version\": 2"),
            &[],
            None,
        );
        assert!(e.unwrap_err().contains("version 2"));
        assert!(stats_json("{\"kinds\": []}", &[], None)
            .unwrap_err()
            .contains("no version"));
        let e = stats_json("{\"version\": 1, \"kinds\": []}", &[], None).unwrap_err();
        assert!(e.contains("no 'percpu' list"), "{e}");
        let nameless = STATS_JSON.replace("\"kind\": \"kmalloc\", \"live\"", "\"live\"");
        let e = stats_json(&nameless, &[], None).unwrap_err();
        assert!(e.contains("'kinds' entry names no kind"), "{e}");
        assert!(stats_json("{\"version\": 1", &[], None)
            .unwrap_err()
            .starts_with("stats.json: JSON"));
    }

    /// A directory holding copies of the module's files, removed when dropped.
    struct FakeDebugfs(PathBuf);

    impl FakeDebugfs {
        fn new(tag: &str, files: &[(&str, &str)]) -> Self {
            let dir =
                std::env::temp_dir().join(format!("kmemlab-test-{}-{tag}", std::process::id()));
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
            &words(&format!("--debugfs {dir} --percpu --objects")),
            false,
        )
        .unwrap();
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
        let js = stats(&words(&format!("--debugfs {dir}")), true).unwrap();
        assert!(json::parse(&js).unwrap().get("slabinfo").is_some());
        assert_eq!(
            stats(&words(&format!("--debugfs {dir} --json")), false).unwrap(),
            js
        );

        // Without a caches file: slabinfo's figures alone, no error.
        std::fs::remove_file(d.0.join("caches")).unwrap();
        assert!(stats(&words(&format!("--debugfs {dir}")), false).is_ok());
        std::fs::remove_file(d.0.join("stats")).unwrap();
        let e = stats(&words(&format!("--debugfs {dir}")), false).unwrap_err();
        assert!(e.contains("cannot read") && e.contains("stats"), "{e}");
    }

    #[test]
    fn top_frames_without_a_terminal() {
        let d = FakeDebugfs::new("top", &[("stats", STATS_TEXT)]);
        let a = top_args(&words(&format!(
            "--debugfs {} --iterations 2 --interval 0.01 --sort bytes",
            d.0.display()
        )))
        .unwrap();
        let mut out = Vec::new();
        top_loop(&a, &mut out, None).unwrap();
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
}
