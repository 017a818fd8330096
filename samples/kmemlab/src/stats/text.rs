// SPDX-License-Identifier: GPL-2.0

//! `stats` for people and for `--json`.

use serde::Deserialize;
use serde_json::Value;

use super::{
    caches_now, read_caches, read_required, read_slabinfo, slab_name, CacheRow, SlabRow, Table,
    OBJECTS, PERCPU, STATS,
};
use crate::cli::StatsArgs;
use crate::error::Result;
use crate::output::{object, Output};
use crate::table::figures;
use crate::units::{human_ns, human_signed_size, human_size};

// ---- formatting for people ----

/// A stats-like table for people: bytes and durations with units, other
/// columns as they are.
pub(crate) fn human_table(t: &Table, skip_zero_rows: bool) -> String {
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
                            .map(human_size)
                            .or_else(|_| cell.parse().map(human_signed_size)),
                        "alloc_ns" => cell.parse().map(human_ns),
                        _ => Ok(cell.to_string()),
                    };
                    shown.unwrap_or_else(|_| cell.to_string())
                })
                .collect()
        })
        .collect();
    figures(&header, &rows)
}

fn opt(v: Option<u64>) -> String {
    v.map_or_else(|| "-".to_string(), |v| v.to_string())
}

/// The caches section: kmemlab's live count beside slabinfo's figures.
pub(crate) fn caches_text(rows: &[CacheRow], note: Option<&str>) -> String {
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
        out.push_str(&figures(
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

/// The entries of stats.json the tool relies on: every `kinds` and
/// `percpu` entry names its kind.
#[derive(Deserialize)]
struct Entry {
    #[allow(dead_code)] // Checked to be there, then kept as it is.
    kind: String,
}

/// The parts of stats.json the tool checks; the document itself is kept
/// whole.
#[derive(Deserialize)]
struct StatsJson {
    version: Option<u64>,
    kinds: Option<Vec<Entry>>,
    percpu: Option<Vec<Entry>>,
    objects: Option<Vec<Value>>,
}

/// The stats.json document with `schema_version`, the kmemlab rows of
/// /proc/slabinfo added (and kmemlab's own view of its caches, when the
/// module has a caches file).
pub(crate) fn stats_json(doc: &str, slab: &[SlabRow], caches: Option<&Table>) -> Result<Value> {
    let checked: StatsJson = serde_json::from_str(doc).map_err(|e| {
        if e.is_data() {
            format!("stats.json: a 'kinds' or 'percpu' entry names no kind, or {e}")
        } else {
            format!("stats.json: JSON {e}")
        }
    })?;
    match checked.version {
        Some(1) => {}
        Some(n) => {
            return Err(format!("stats.json has version {n}; this tool reads version 1").into())
        }
        None => return Err("stats.json has no version".into()),
    }
    for (key, present) in [
        ("kinds", checked.kinds.is_some()),
        ("percpu", checked.percpu.is_some()),
        ("objects", checked.objects.is_some()),
    ] {
        if !present {
            return Err(format!("stats.json has no '{key}' list").into());
        }
    }
    let Value::Object(mut fields) =
        serde_json::from_str::<Value>(doc).map_err(|e| format!("stats.json: JSON {e}"))?
    else {
        return Err("stats.json is not an object".into());
    };
    let slab_rows: Vec<Value> = slab
        .iter()
        .map(|s| {
            object([
                ("name", Value::from(s.name.clone())),
                ("active_objs", s.active_objs.into()),
                ("num_objs", s.num_objs.into()),
                ("objsize", s.objsize.into()),
            ])
        })
        .collect();
    fields.insert("slabinfo".into(), slab_rows.into());
    if let Some(t) = caches {
        let rows: Vec<Value> = (0..t.rows.len())
            .map(|r| {
                object([
                    ("name", Value::from(slab_name(t.text(r, "name")))),
                    ("object_size", t.unsigned(r, "object_size").into()),
                    ("live", t.unsigned(r, "live").into()),
                ])
            })
            .collect();
        fields.insert("caches".into(), rows.into());
    }
    Ok(Value::Object(fields))
}

/// `stats [--percpu] [--objects] [--debugfs DIR]`: with `json`, the
/// stats.json document with the slab figures (and no text); otherwise the
/// text (and no document).
pub fn stats(a: &StatsArgs, json: bool) -> Result<Output> {
    let dir = &a.debugfs;
    if json {
        let doc = read_required(dir, "stats.json")?;
        let caches = read_caches(dir)?;
        let slab = read_slabinfo().unwrap_or_else(|note| {
            crate::output::note(&note);
            Vec::new()
        });
        return Ok(Output {
            text: String::new(),
            json: stats_json(&doc, &slab, caches.as_ref())?,
        });
    }
    let t = Table::parse(&read_required(dir, "stats")?, &STATS)?;
    let mut out = format!(
        "kmemlab statistics ({}):\n{}",
        dir.display(),
        human_table(&t, false)
    );
    if a.percpu {
        let p = Table::parse(&read_required(dir, "percpu")?, &PERCPU)?;
        out.push_str("\n\nper CPU (net bytes and pages; rows of zeroes left out):\n");
        out.push_str(&human_table(&p, true));
    }
    if a.objects {
        let o = Table::parse(&read_required(dir, "objects")?, &OBJECTS)?;
        out.push_str("\n\nlive objects of every open /dev/kmemlab:\n");
        if o.rows.is_empty() {
            out.push_str("(none)");
        } else {
            out.push_str(&human_table(&o, false));
        }
    }
    let (rows, note): (Vec<CacheRow>, Option<String>) = caches_now(dir)?;
    out.push_str("\n\n");
    out.push_str(&caches_text(&rows, note.as_deref()));
    Ok(Output {
        text: out,
        json: Value::Null,
    })
}
