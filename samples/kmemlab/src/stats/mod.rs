// SPDX-License-Identifier: GPL-2.0

//! The module's statistics, read from its debugfs directory (formats in
//! the README's Statistics section), and the kernel's figures for kmemlab's slab caches
//! from /proc/slabinfo: the `stats` and `top` commands. Neither needs
//! /dev/kmemlab.

#[cfg(test)]
mod tests;
mod text;
pub mod top;

use std::io;
use std::path::{Path, PathBuf};

pub use text::stats;

use crate::error::Result;

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
pub(crate) fn slab_name(name: &str) -> String {
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

pub(crate) fn read_required(dir: &Path, file: &str) -> Result<String, String> {
    read_debugfs(dir, file, false).map(Option::unwrap_or_default)
}

/// The `caches` table, when the module has the file.
pub(crate) fn read_caches(dir: &Path) -> Result<Option<Table>, String> {
    read_debugfs(dir, "caches", true)?
        .map(|text| Table::parse(&text, &CACHES))
        .transpose()
}

/// The kmemlab caches with the kernel's figures, and a note when slabinfo
/// could not be read.
pub(crate) fn caches_now(dir: &Path) -> Result<(Vec<CacheRow>, Option<String>), String> {
    let caches = read_caches(dir)?;
    let (slab, note) = match read_slabinfo() {
        Ok(rows) => (rows, None),
        Err(note) => (Vec::new(), Some(note)),
    };
    Ok((join_caches(caches.as_ref(), &slab), note))
}
