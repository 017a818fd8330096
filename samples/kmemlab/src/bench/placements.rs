// SPDX-License-Identifier: GPL-2.0

//! `bench placements`: the standard set of several builds of the same code,
//! placed differently in memory, combined.
//!
//! Under QEMU TCG the module's ratios depend on where its code lands:
//! translated blocks chain only within a 4 KiB page, and returns look their
//! targets up in a direct-mapped cache hashed on the address. So `make bench`
//! builds the module with its text shifted by a padding object, runs `bench
//! standard --json` on each build, and this command reads the documents:
//! every figure is the median across the placements, judged against the
//! targets of the standard set. It reads files only, never the device.

use std::collections::BTreeSet;
use std::path::Path;

use super::*;
use crate::cli::Placement;
use crate::table::figures;

/// What `bench placements` reads of one `bench standard --json` document.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Figures {
    /// Per allocator, in the document's order: its name, and each point's
    /// bytes and Rust/C ratio of the best rounds.
    pub(crate) kinds: Vec<(String, Vec<(u64, f64)>)>,
    /// Statistics on against off, best rounds; None: not measured.
    pub(crate) stats: Option<f64>,
    /// The batched ioctls against the in-kernel allocate+free pairs.
    pub(crate) ioctl: f64,
    /// The scaling of the per-CPU counter and of the atomic one, if measured.
    pub(crate) percpu: Option<Series>,
    pub(crate) atomic: Option<Series>,
}

/// A scaling series: the speedup at each thread count.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Series {
    pub(crate) threads: Vec<u32>,
    pub(crate) speedups: Vec<f64>,
}

/// One placement: its label and what its document measured.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Measured {
    pub(crate) label: String,
    pub(crate) file: String,
    pub(crate) figures: Figures,
}

/// `v[key]`, which must be there (`at`: where `v` is, for the error).
fn field<'v>(v: &'v Value, key: &str, at: &str) -> Result<&'v Value, String> {
    v.get(key).ok_or_else(|| format!("no \"{key}\" in {at}"))
}

/// `v[key]`, a list.
fn list<'v>(v: &'v Value, key: &str, at: &str) -> Result<&'v [Value], String> {
    field(v, key, at)?
        .as_array()
        .map(Vec::as_slice)
        .ok_or_else(|| format!("\"{key}\" of {at} is not a list"))
}

/// `v[key]`, a number; `null` (written for a figure that was not a number)
/// is NaN.
fn number(v: &Value, key: &str, at: &str) -> Result<f64, String> {
    match field(v, key, at)? {
        Value::Null => Ok(f64::NAN),
        x => x
            .as_f64()
            .ok_or_else(|| format!("\"{key}\" of {at} is not a number")),
    }
}

/// `v[key]`, a whole number.
fn whole(v: &Value, key: &str, at: &str) -> Result<u64, String> {
    field(v, key, at)?
        .as_u64()
        .ok_or_else(|| format!("\"{key}\" of {at} is not a whole number"))
}

/// One allocator of `rust_vs_c`: its name and its points.
fn sweep_of(k: &Value) -> Result<(String, Vec<(u64, f64)>), String> {
    let name = field(k, "kind", "rust_vs_c")?
        .as_str()
        .ok_or("a \"kind\" of rust_vs_c is not a name")?
        .to_string();
    let at = format!("rust_vs_c {name}");
    let points = list(k, "points", &at)?
        .iter()
        .map(|p| Ok((whole(p, "bytes", &at)?, number(p, "ratio_best", &at)?)))
        .collect::<Result<_, String>>()?;
    Ok((name, points))
}

/// The series of `scaling` whose op is `op`, if there is one.
fn series_of(scaling: &[Value], op: u32) -> Result<Option<Series>, String> {
    let name = op_name(op);
    let Some(s) = scaling.iter().find(|s| s["op"] == name) else {
        return Ok(None);
    };
    let at = format!("scaling {name}");
    let points = list(s, "points", &at)?;
    let threads = points
        .iter()
        .map(|p| {
            let t = whole(p, "threads", &at)?;
            u32::try_from(t).map_err(|_| format!("{t} threads in {at}"))
        })
        .collect::<Result<_, String>>()?;
    let speedups = points
        .iter()
        .map(|p| number(p, "speedup", &at))
        .collect::<Result<_, String>>()?;
    Ok(Some(Series { threads, speedups }))
}

/// The figures of a document of `bench standard --json`.
pub(crate) fn figures_of(doc: &Value) -> Result<Figures, String> {
    let top = "the document";
    match doc.get("benchmark") {
        Some(b) if b == "standard" => {}
        b => {
            return Err(format!(
                "not a document of `bench standard --json` (its \"benchmark\" is {})",
                b.map_or("missing".into(), Value::to_string)
            ))
        }
    }
    // Documents from before the option have no "scaling_part": whole sets.
    match doc.get("scaling_part") {
        None => {}
        Some(p) if p == "include" => {}
        Some(p) => {
            return Err(format!(
                "a partial set (`bench standard --scaling {}`): placements need whole sets",
                p.as_str().unwrap_or("?")
            ))
        }
    }
    let kinds = list(doc, "rust_vs_c", top)?
        .iter()
        .map(sweep_of)
        .collect::<Result<_, String>>()?;
    let stats = match field(doc, "stats_cost", top)? {
        Value::Null => None,
        s => Some(number(s, "ratio", "stats_cost")?),
    };
    let ioctl = number(field(doc, "ioctl", top)?, "ratio_batch_vs_pairs", "ioctl")?;
    let scaling = list(doc, "scaling", top)?;
    Ok(Figures {
        kinds,
        stats,
        ioctl,
        percpu: series_of(scaling, KMEMLAB_BENCH_PERCPU_INC)?,
        atomic: series_of(scaling, KMEMLAB_BENCH_ATOMIC_INC)?,
    })
}

/// The figures of the document in the file at `path`.
pub(crate) fn read_figures(path: &Path) -> Result<Figures, String> {
    let name = path.display();
    let text = std::fs::read_to_string(path).map_err(|e| format!("cannot read {name}: {e}"))?;
    let doc: Value =
        serde_json::from_str(&text).map_err(|e| format!("{name}: not a JSON document: {e}"))?;
    figures_of(&doc).map_err(|e| format!("{name}: {e}"))
}

/// Refuses fewer than two placements, and a label given twice.
pub(crate) fn placement_labels(placements: &[Placement]) -> Result<()> {
    if placements.len() < 2 {
        return Err(usage(format!(
            "bench placements: {} placement(s): it combines two or more, LABEL=FILE each",
            placements.len()
        )));
    }
    let mut seen = BTreeSet::new();
    for p in placements {
        if !seen.insert(p.label.as_str()) {
            return Err(usage(format!(
                "bench placements: the label '{}' is given twice",
                p.label
            )));
        }
    }
    Ok(())
}

/// The sweep points of `f`: each allocator and its points' bytes.
fn points_of(f: &Figures) -> Vec<(&str, Vec<u64>)> {
    f.kinds
        .iter()
        .map(|(k, p)| (k.as_str(), p.iter().map(|x| x.0).collect()))
        .collect()
}

/// The thread counts of `f`'s scaling of both counters.
fn threads_of(f: &Figures) -> [Option<&[u32]>; 2] {
    [&f.percpu, &f.atomic].map(|s| s.as_ref().map(|s| s.threads.as_slice()))
}

/// Refuses placements that did not measure the same points as the first.
pub(crate) fn same_points(placements: &[Measured]) -> Result<(), String> {
    let Some(first) = placements.first() else {
        return Ok(());
    };
    for p in &placements[1..] {
        let what = if points_of(&p.figures) != points_of(&first.figures) {
            "sweep points (allocators and bytes)"
        } else if threads_of(&p.figures) != threads_of(&first.figures) {
            "scaling series (counters and thread counts)"
        } else {
            continue;
        };
        return Err(format!(
            "+{} ({}): its {what} differ from those of +{} ({}): not runs of the same standard set",
            p.label, p.file, first.label, first.file
        ));
    }
    Ok(())
}

/// The median of each position across `lists` (one list per placement, all
/// of the length of the first).
pub(crate) fn medians(lists: &[Vec<f64>]) -> Vec<f64> {
    let n = lists.first().map_or(0, Vec::len);
    (0..n)
        .map(|i| {
            let column: Vec<f64> = lists
                .iter()
                .map(|l| l.get(i).copied().unwrap_or(f64::NAN))
                .collect();
            median(&column)
        })
        .collect()
}

/// The worst (highest) point of `points`, a NaN ratio the worst of all (as
/// in the standard summary).
fn worst(points: &[(u64, f64)]) -> Option<(u64, f64)> {
    let key = |r: f64| if r.is_nan() { f64::INFINITY } else { r };
    points
        .iter()
        .copied()
        .max_by(|a, b| key(a.1).total_cmp(&key(b.1)))
}

/// One row of the table: each placement's figure, the figure across them
/// and the target.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Row {
    pub(crate) check: String,
    /// Per placement; None: not measured.
    pub(crate) values: Vec<Option<f64>>,
    pub(crate) median: Option<f64>,
    pub(crate) target: String,
    /// A ratio (3 decimals, counted in the spread), or a speedup (2).
    pub(crate) ratio: bool,
}

impl Row {
    fn digits(&self) -> usize {
        if self.ratio {
            3
        } else {
            2
        }
    }

    /// `x` as the row shows it.
    fn cell(&self, x: Option<f64>) -> String {
        x.map_or("not measured".into(), |x| fixed(x, self.digits()))
    }

    /// The largest difference between two placements; None for fewer than
    /// two figures.
    pub(crate) fn spread(&self) -> Option<f64> {
        let v: Vec<f64> = self.values.iter().flatten().copied().collect();
        let v: Vec<f64> = v.into_iter().filter(|x| x.is_finite()).collect();
        let lo = v.iter().copied().reduce(f64::min)?;
        let hi = v.iter().copied().reduce(f64::max)?;
        (v.len() >= 2).then_some(hi - lo)
    }
}

/// The row and the check of one allocator (`sweeps`: its points in each
/// placement): each placement's worst point, and the worst of the points'
/// medians across placements.
fn rust_vs_c(name: &str, sweeps: &[&[(u64, f64)]]) -> Option<(Row, Check)> {
    let first = sweeps.first().filter(|p| !p.is_empty())?;
    let ratios: Vec<Vec<f64>> = sweeps
        .iter()
        .map(|p| p.iter().map(|x| x.1).collect())
        .collect();
    let point_medians: Vec<(u64, f64)> = first.iter().map(|p| p.0).zip(medians(&ratios)).collect();
    let (bytes, r) = worst(&point_medians)?;
    let check = format!("rust/C {name}");
    let row = Row {
        check: check.clone(),
        values: sweeps.iter().map(|p| worst(p).map(|w| w.1)).collect(),
        median: Some(r),
        target: format!("<= {TARGET_RUST_VS_C}"),
        ratio: true,
    };
    let check = Check {
        name: check,
        detail: format!(
            "worst {} (median of {} placements) at {bytes} bytes (target <= {TARGET_RUST_VS_C})",
            fixed(r, 3),
            sweeps.len()
        ),
        met: Some(r <= TARGET_RUST_VS_C),
    };
    Some((row, check))
}

/// A ratio's row and check (`name`) against `target`: the median of the
/// placements that measured it; no check when none did.
fn ratio_row(row: &str, name: &str, values: Vec<Option<f64>>, target: f64) -> (Row, Option<Check>) {
    let measured: Vec<f64> = values.iter().flatten().copied().collect();
    let m = (!measured.is_empty()).then(|| median(&measured));
    let check = m.map(|m| Check {
        name: name.into(),
        detail: format!("median {} (target <= {target})", fixed(m, 3)),
        met: Some(m <= target),
    });
    let row = Row {
        check: row.into(),
        values,
        median: m,
        target: format!("<= {target}"),
        ratio: true,
    };
    (row, check)
}

/// Every placement's series of one counter, when all of them have it.
fn series_across(
    placements: &[Measured],
    pick: fn(&Figures) -> &Option<Series>,
) -> Option<Vec<&Series>> {
    placements
        .iter()
        .map(|p| pick(&p.figures).as_ref())
        .collect()
}

/// `n threads` (`1 thread`).
fn threads_text(n: u32) -> String {
    if n == 1 {
        "1 thread".into()
    } else {
        format!("{n} threads")
    }
}

/// The row of one counter's scaling: each placement's speedup at the most
/// threads, and their median.
fn scaling_row(name: &str, series: &[&Series], medians: &[f64], target: &str) -> Option<Row> {
    let threads = *series.first()?.threads.last()?;
    Some(Row {
        check: format!("scaling {name} ({})", threads_text(threads)),
        values: series
            .iter()
            .map(|s| Some(s.speedups.last().copied().unwrap_or(f64::NAN)))
            .collect(),
        median: medians.last().copied(),
        target: target.into(),
        ratio: false,
    })
}

/// Per-CPU counters scale with every added CPU and the shared atomic does
/// not, judged on the median speedups across placements (as
/// [`scaling_check`] judges one run).
fn scaling_across(placements: &[Measured]) -> (Vec<Row>, Option<Check>) {
    let (Some(percpu), Some(atomic)) = (
        series_across(placements, |f| &f.percpu),
        series_across(placements, |f| &f.atomic),
    ) else {
        return (Vec::new(), None);
    };
    let speedups =
        |s: &[&Series]| medians(&s.iter().map(|s| s.speedups.clone()).collect::<Vec<_>>());
    let (p, a) = (speedups(&percpu), speedups(&atomic));
    let (pn, an) = (
        op_name(KMEMLAB_BENCH_PERCPU_INC),
        op_name(KMEMLAB_BENCH_ATOMIC_INC),
    );
    let rows = [
        scaling_row(pn, &percpu, &p, "grows with every CPU"),
        scaling_row(an, &atomic, &a, "does not grow"),
    ];
    let threads = percpu.first().map_or(&[][..], |s| s.threads.as_slice());
    let check = if threads.len() < 2 {
        Check {
            name: "scaling".into(),
            detail: "one CPU: nothing to scale".into(),
            met: None,
        }
    } else {
        let (pg, ag) = (grows_every_step(&p), grows_every_step(&a));
        let does = |b| if b { "grows" } else { "does not grow" };
        let list = |v: &[f64]| v.iter().map(|x| fixed(*x, 2)).collect::<Vec<_>>().join(" ");
        let threads: Vec<String> = threads.iter().map(u32::to_string).collect();
        Check {
            name: "scaling".into(),
            detail: format!(
                "{pn} {} with every added CPU (median speedups {}), {an} {} (median speedups {}), threads {}",
                does(pg),
                list(&p),
                does(ag),
                list(&a),
                threads.join(" ")
            ),
            met: Some(pg && !ag),
        }
    };
    (rows.into_iter().flatten().collect(), Some(check))
}

/// Everything `bench placements` reports.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Combined {
    pub(crate) labels: Vec<String>,
    pub(crate) rows: Vec<Row>,
    /// In the order of the standard summary.
    pub(crate) checks: Vec<Check>,
}

impl Combined {
    /// The ratio row whose placements differ most, and by how much.
    pub(crate) fn largest_spread(&self) -> Option<(f64, &str)> {
        self.rows
            .iter()
            .filter(|r| r.ratio)
            .filter_map(|r| Some((r.spread()?, r.check.as_str())))
            .fold(None, |best, (s, name)| match best {
                Some((b, _)) if b >= s => best,
                _ => Some((s, name)),
            })
    }
}

/// Combines the placements, which must have measured the same points.
pub(crate) fn combine(placements: &[Measured]) -> Result<Combined, String> {
    same_points(placements)?;
    let (mut rows, mut checks) = (Vec::new(), Vec::new());
    let kinds = placements.first().map_or(&[][..], |p| &p.figures.kinds[..]);
    for (i, (name, _)) in kinds.iter().enumerate() {
        let sweeps: Vec<&[(u64, f64)]> = placements
            .iter()
            .map(|p| p.figures.kinds[i].1.as_slice())
            .collect();
        if let Some((row, check)) = rust_vs_c(name, &sweeps) {
            rows.push(row);
            checks.push(check);
        }
    }
    let (scaling_rows, scaling) = scaling_across(placements);
    checks.extend(scaling);
    let (stats_row, stats) = ratio_row(
        "statistics on/off",
        "statistics cost",
        placements.iter().map(|p| p.figures.stats).collect(),
        TARGET_STATS_COST,
    );
    let (ioctl_row, ioctl) = ratio_row(
        &format!("ioctl batch-{BATCH} vs pairs"),
        &format!("ioctl batch-{BATCH}"),
        placements.iter().map(|p| Some(p.figures.ioctl)).collect(),
        TARGET_IOCTL_BATCH,
    );
    checks.extend(ioctl);
    checks.extend(stats);
    rows.extend([stats_row, ioctl_row]);
    rows.extend(scaling_rows);
    Ok(Combined {
        labels: placements.iter().map(|p| p.label.clone()).collect(),
        rows,
        checks,
    })
}

pub(crate) fn placements_text(c: &Combined) -> String {
    let shifts: Vec<String> = c.labels.iter().map(|l| format!("+{l}")).collect();
    let mut t = vec![format!(
        "kmemlab bench placements: {} placements of the same code (module text shifted by {} bytes); each figure the median across placements",
        c.labels.len(),
        shifts.join(" ")
    )];
    let mut header = vec!["check"];
    header.extend(shifts.iter().map(String::as_str));
    header.extend(["median", "target"]);
    let rows: Vec<Vec<String>> = c
        .rows
        .iter()
        .map(|r| {
            let mut row = vec![r.check.clone()];
            row.extend(r.values.iter().map(|v| r.cell(*v)));
            row.extend([r.cell(r.median), r.target.clone()]);
            row
        })
        .collect();
    t.push(figures(&header, &rows));
    t.push(match c.largest_spread() {
        Some((s, row)) => format!("largest spread between placements: {} ({row})", fixed(s, 3)),
        None => "largest spread between placements: n/a".into(),
    });
    t.push(String::new());
    t.push("Summary (medians across placements)".into());
    for ch in &c.checks {
        t.push(format!("{}: {}: {}", ch.name, ch.detail, ch.verdict()));
    }
    t.join("\n")
}

pub(crate) fn placements_fields(c: &Combined) -> Vec<(&'static str, Value)> {
    let rows = c
        .rows
        .iter()
        .map(|r| {
            let num = |x: Option<f64>| x.map_or(Value::Null, |x| json_fixed(x, 3));
            object(vec![
                ("check", Value::from(r.check.clone())),
                (
                    "values",
                    Value::Array(r.values.iter().map(|v| num(*v)).collect()),
                ),
                ("median", num(r.median)),
                ("target", Value::from(r.target.clone())),
            ])
        })
        .collect();
    vec![
        ("benchmark", Value::from("placements")),
        ("placements", Value::from(c.labels.clone())),
        ("rows", Value::Array(rows)),
        (
            "summary",
            Value::Array(c.checks.iter().cloned().map(check_fields).collect()),
        ),
    ]
}

/// `bench placements LABEL=FILE...`: reads every placement's document of
/// `bench standard --json` and reports their medians.
pub(crate) fn placements(args: &[Placement]) -> Result<Output> {
    placement_labels(args)?;
    let measured = args
        .iter()
        .map(|p| {
            Ok(Measured {
                label: p.label.clone(),
                file: p.file.display().to_string(),
                figures: read_figures(&p.file)?,
            })
        })
        .collect::<Result<Vec<_>, String>>()?;
    let c = combine(&measured)?;
    Ok(Output::new(placements_text(&c), &placements_fields(&c)))
}
