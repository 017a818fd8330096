// SPDX-License-Identifier: GPL-2.0

//! `bench standard`: its report for people, for `--json` and as a plot.

use super::*;
use crate::table::{figures, Align, Column};

/// The subtitle of the plot, unless given: what was measured where.
pub(crate) fn default_subtitle(s: &Standard) -> String {
    format!(
        "Linux {}, {} CPUs, {} samples per point (fewer for big objects) x {} rounds, median: ratios matter more than absolute times",
        s.release, s.nr_cpus, s.args.iterations, s.args.rounds
    )
}

/// The plot: a panel per allocator, Rust and raw C ns/op against object size.
pub(crate) fn standard_svg(s: &Standard) -> String {
    let panels: Vec<plot::Panel> = s
        .sweeps
        .iter()
        .filter(|k| !k.points.is_empty())
        .map(|k| {
            let series = |label: &str, style, pick: fn(&SweepPoint) -> f64| plot::Series {
                label: label.into(),
                style,
                points: k.points.iter().map(|p| (p.bytes as f64, pick(p))).collect(),
            };
            let title = match k.kind {
                KMEMLAB_KIND_DMA_COHERENT => "dma_coherent (faux)".to_string(),
                KMEMLAB_KIND_DMA_POOL => "dma_pool (faux)".to_string(),
                KMEMLAB_KIND_PAGES_NODE => "pages_node (any node)".to_string(),
                kind => kind_name(kind).to_string(),
            };
            plot::Panel {
                title,
                series: vec![
                    series("safe Rust", plot::Style::Solid, |p| p.rust.median),
                    series("raw C", plot::Style::Dashed, |p| p.c.median),
                ],
            }
        })
        .collect();
    let subtitle = s
        .args
        .subtitle
        .clone()
        .unwrap_or_else(|| default_subtitle(s));
    plot::svg(
        "kmemlab: safe Rust against raw C, alloc+free pairs (median ns per pair)",
        &subtitle,
        "object size, bytes (log2)",
        "ns/op (log10)",
        &panels,
    )
}

pub(crate) fn standard_text(s: &Standard) -> String {
    let mut t = Vec::new();
    let a = &s.args;
    t.push(format!(
        "kmemlab bench standard{}{}: Linux {}, {} CPUs, page size {}",
        if a.quick { " --quick" } else { "" },
        match a.scaling {
            ScalingPart::Include => "",
            ScalingPart::Skip => " --scaling skip",
            ScalingPart::Only => " --scaling only",
        },
        s.release,
        s.nr_cpus,
        s.page
    ));
    if a.scaling == ScalingPart::Only {
        t.push(format!(
            "{} samples per run; rounds per point: {}",
            a.iterations, a.rounds
        ));
    } else {
        t.push(format!(
            "{} samples per run (fewer for objects above 4096 bytes: n*4096/bytes, at least {MIN_ITERATIONS}; ioremap: 5*n*4096/bytes, at least n); rounds per point: {}, Rust and C interleaved;",
            a.iterations, a.rounds
        ));
        t.push(
            "ns/op = ns_total/ops of a run (clock reads included, alike for Rust and C); the median of the rounds, and the best"
                .into(),
        );
    }
    if a.scaling != ScalingPart::Only {
        t.push(String::new());
        t.push(
            "1. Safe Rust against raw C: alloc+free pairs, no statistics, on the calling CPU"
                .into(),
        );
        let rows: Vec<Vec<String>> = s
            .sweeps
            .iter()
            .flat_map(|k| {
                k.points.iter().map(|p| {
                    vec![
                        kind_name(k.kind).to_string(),
                        p.bytes.to_string(),
                        p.spec.iterations.to_string(),
                        ns_text(p.rust.median),
                        ns_text(p.c.median),
                        fixed(p.ratio(), 3),
                        ns_text(p.rust.best),
                        ns_text(p.c.best),
                        fixed(p.ratio_best(), 3),
                    ]
                })
            })
            .collect();
        t.push(figures(
            &[
                "allocator",
                "bytes",
                "samples",
                "rust ns/op",
                "C ns/op",
                "rust/C",
                "best rust",
                "best C",
                "best rust/C",
            ],
            &rows,
        ));
        for (kind, why) in &s.skipped {
            t.push(format!("{:<13} skipped: {why}", kind_name(*kind)));
        }

        t.push(String::new());
        t.push(format!(
            "2. Batch mode: {SMALL}-byte objects, {BATCH} allocations then {BATCH} frees a sample against pairs, no statistics"
        ));
        let rows: Vec<Vec<String>> = s
            .batches
            .iter()
            .map(|r| {
                vec![
                    kind_name(r.kind).to_string(),
                    r.batch.to_string(),
                    r.iterations.to_string(),
                    ns_text(r.rust.median),
                    ns_text(r.c.median),
                    fixed(ratio(r.rust.median, r.c.median), 3),
                ]
            })
            .collect();
        t.push(figures(
            &[
                "allocator",
                "batch",
                "samples",
                "rust ns/op",
                "C ns/op",
                "rust/C",
            ],
            &rows,
        ));
        for kind in s
            .batches
            .iter()
            .map(|r| r.kind)
            .collect::<std::collections::BTreeSet<_>>()
        {
            let row = |batch| {
                s.batches
                    .iter()
                    .find(|r| r.kind == kind && r.batch == batch)
            };
            if let (Some(one), Some(many)) = (row(1), row(BATCH)) {
                t.push(format!(
                    "{}: batch {BATCH} costs {} of a pair per object in Rust, {} in C",
                    kind_name(kind),
                    fixed(ratio(many.rust.median, one.rust.median), 3),
                    fixed(ratio(many.c.median, one.c.median), 3)
                ));
            }
        }
    }

    if !s.scaling.is_empty() {
        t.push(String::new());
        t.push(format!(
            "3. Scaling: aggregate rate (ops*1e9/ns_wall) with one kernel thread per CPU; counters {COUNTER_BATCH} increments a sample"
        ));
        if s.nr_cpus > ALL_THREAD_COUNTS_UP_TO {
            t.push(format!(
                "(more than {ALL_THREAD_COUNTS_UP_TO} CPUs: powers of two threads, and all {})",
                s.nr_cpus
            ));
        }
        let mut header = vec!["threads"];
        for sc in &s.scaling {
            header.extend([sc.name.as_str(), "speedup"]);
        }
        let threads: Vec<u32> = s
            .scaling
            .first()
            .map(|sc| sc.points.iter().map(|p| p.0).collect())
            .unwrap_or_default();
        let rows: Vec<Vec<String>> = threads
            .iter()
            .enumerate()
            .map(|(i, threads)| {
                let mut row = vec![threads.to_string()];
                for sc in &s.scaling {
                    let rate = sc.points.get(i).map_or(f64::NAN, |p| p.1);
                    let speedup = sc.speedups().get(i).copied().unwrap_or(f64::NAN);
                    row.extend([rate_text(rate), fixed(speedup, 2)]);
                }
                row
            })
            .collect();
        t.push(figures(&header, &rows));
    }

    if let Some(io) = &s.ioctl {
        t.push(String::new());
        t.push(format!(
            "4. The ioctl path: kmalloc {SMALL}, statistics on, ns per object from userspace against the in-kernel loop"
        ));
        let single = format!("ALLOC+FREE of 1 (x{})", io.single_calls);
        let batch = format!("ALLOC+FREE of {BATCH} (x{})", io.batch_calls);
        let rows = [
            (
                &single,
                &io.user_single,
                &io.kernel_single,
                io.ratio_single(),
                String::new(),
            ),
            (
                &batch,
                &io.user_batch,
                &io.kernel_batch,
                io.ratio_batch(),
                format!("(in-kernel: batches of {BATCH})"),
            ),
            (
                &batch,
                &io.user_batch,
                &io.kernel_single,
                io.ratio_batch_vs_pairs(),
                format!("(in-kernel: pairs; target <= {TARGET_IOCTL_BATCH})"),
            ),
        ];
        let rows: Vec<Vec<String>> = rows
            .into_iter()
            .map(|(label, user, kernel, r, note)| {
                vec![
                    label.clone(),
                    ns_text(user.median),
                    ns_text(kernel.median),
                    fixed(r, 3),
                    note,
                ]
            })
            .collect();
        t.push(crate::table::render(
            &[
                Column {
                    name: "",
                    max: usize::MAX,
                    align: Align::Left,
                },
                Column {
                    name: "ioctls",
                    max: usize::MAX,
                    align: Align::Right,
                },
                Column {
                    name: "in-kernel",
                    max: usize::MAX,
                    align: Align::Right,
                },
                Column {
                    name: "ratio",
                    max: usize::MAX,
                    align: Align::Right,
                },
                Column {
                    name: "",
                    max: usize::MAX,
                    align: Align::Left,
                },
            ],
            &rows,
            crate::table::Style::default(),
        ));
    }

    if a.scaling != ScalingPart::Only {
        t.push(String::new());
        t.push("5. Statistics cost".into());
        match &s.stats_cost {
            Some(sc) => t.push(stats_cost_text(sc)),
            None => t.push("skipped: the module has no kmem_cache".into()),
        }
    }

    t.push(String::new());
    t.push("Summary".into());
    for c in s.checks() {
        t.push(format!("{}: {}: {}", c.name, c.detail, c.verdict()));
    }
    t.join("\n")
}

pub(crate) fn stat_fields(prefix: &str, st: &Stat) -> Vec<(String, Value)> {
    vec![
        (format!("{prefix}_ns_per_op"), json_fixed(st.median, 3)),
        (format!("{prefix}_best_ns_per_op"), json_fixed(st.best, 3)),
    ]
}

/// A line of a summary for `--json`: its check, detail and verdict (`met`:
/// true, false, or null when it could not be judged).
pub(crate) fn check_fields(c: Check) -> Value {
    object(vec![
        ("check", Value::from(c.name)),
        ("detail", Value::from(c.detail)),
        ("met", c.met.map_or(Value::Null, Value::Bool)),
    ])
}

pub(crate) fn standard_fields(s: &Standard) -> Vec<(&'static str, Value)> {
    let a = &s.args;
    let sweeps = s
        .sweeps
        .iter()
        .map(|k| {
            let points = k
                .points
                .iter()
                .map(|p| {
                    let mut f: Vec<(String, Value)> = vec![
                        ("bytes".into(), Value::from(p.bytes)),
                        ("size".into(), Value::from(p.spec.request(0).size)),
                        ("order".into(), Value::from(p.spec.order)),
                        ("iterations".into(), Value::from(p.spec.iterations)),
                    ];
                    f.extend(stat_fields("rust", &p.rust));
                    f.extend(stat_fields("c", &p.c));
                    f.push(("ratio".into(), json_fixed(p.ratio(), 3)));
                    f.push(("ratio_best".into(), json_fixed(p.ratio_best(), 3)));
                    f.push(("cpu".into(), Value::from(p.cpu)));
                    object(f)
                })
                .collect();
            object(vec![
                ("kind", Value::from(kind_name(k.kind))),
                ("points", Value::Array(points)),
            ])
        })
        .collect();
    let skipped = s
        .skipped
        .iter()
        .map(|(k, why)| {
            object(vec![
                ("kind", Value::from(kind_name(*k))),
                ("reason", Value::from(why.clone())),
            ])
        })
        .collect();
    let batches = s
        .batches
        .iter()
        .map(|r| {
            let mut f: Vec<(String, Value)> = vec![
                ("kind".into(), Value::from(kind_name(r.kind))),
                ("size".into(), Value::from(SMALL)),
                ("batch".into(), Value::from(r.batch)),
                ("iterations".into(), Value::from(r.iterations)),
            ];
            f.extend(stat_fields("rust", &r.rust));
            f.extend(stat_fields("c", &r.c));
            f.push((
                "ratio".into(),
                json_fixed(ratio(r.rust.median, r.c.median), 3),
            ));
            object(f)
        })
        .collect();
    let scaling = s
        .scaling
        .iter()
        .map(|sc| {
            let speedups = sc.speedups();
            let points = sc
                .points
                .iter()
                .zip(speedups)
                .map(|(&(threads, rate), speedup)| {
                    object(vec![
                        ("threads", Value::from(threads)),
                        ("ops_per_sec", jround(rate)),
                        ("speedup", json_fixed(speedup, 3)),
                    ])
                })
                .collect();
            object(vec![
                ("name", Value::from(sc.name.clone())),
                ("op", Value::from(op_name(sc.spec.op))),
                ("batch", Value::from(sc.spec.batch)),
                ("iterations", Value::from(sc.spec.iterations)),
                ("points", Value::Array(points)),
            ])
        })
        .collect();
    let ioctl = s.ioctl.as_ref().map_or(Value::Null, |io| {
        object(vec![
            ("single_calls", Value::from(io.single_calls)),
            ("batch_calls", Value::from(io.batch_calls)),
            ("batch", Value::from(BATCH)),
            ("kernel_iterations", Value::from(io.kernel_iterations)),
            (
                "kernel_batch_iterations",
                Value::from(io.kernel_batch_iterations),
            ),
            ("user_single_ns", json_fixed(io.user_single.median, 3)),
            ("user_batch_ns", json_fixed(io.user_batch.median, 3)),
            ("kernel_single_ns", json_fixed(io.kernel_single.median, 3)),
            ("kernel_batch_ns", json_fixed(io.kernel_batch.median, 3)),
            ("ratio_single", json_fixed(io.ratio_single(), 3)),
            ("ratio_batch", json_fixed(io.ratio_batch(), 3)),
            (
                "ratio_batch_vs_pairs",
                json_fixed(io.ratio_batch_vs_pairs(), 3),
            ),
        ])
    });
    let stats_cost = s.stats_cost.as_ref().map_or(Value::Null, |sc| {
        object(
            stats_cost_fields(sc)
                .into_iter()
                .filter(|(k, _)| *k != "benchmark"),
        )
    });
    let summary = s.checks().into_iter().map(check_fields).collect();
    vec![
        ("benchmark", Value::from("standard")),
        ("kernel", Value::from(s.release.clone())),
        ("nr_cpus", Value::from(s.nr_cpus)),
        ("page_size", Value::from(s.page)),
        ("iterations", Value::from(a.iterations)),
        ("rounds", Value::from(a.rounds as u64)),
        ("quick", Value::Bool(a.quick)),
        (
            "scaling_part",
            Value::from(match a.scaling {
                ScalingPart::Include => "include",
                ScalingPart::Skip => "skip",
                ScalingPart::Only => "only",
            }),
        ),
        ("rust_vs_c", Value::Array(sweeps)),
        ("skipped", Value::Array(skipped)),
        ("batch", Value::Array(batches)),
        ("scaling", Value::Array(scaling)),
        ("ioctl", ioctl),
        ("stats_cost", stats_cost),
        ("summary", Value::Array(summary)),
        ("svg", a.svg.clone().map_or(Value::Null, Value::from)),
    ]
}

/// `bench standard`: the standard set.
pub(crate) fn standard(dev: &dyn DeviceOps, args: &StandardArgs) -> Result<Output, String> {
    let args = args.clone();
    let v = bench_version(dev)?;
    // A plot that cannot be written fails now, not after the runs.
    let mut svg_file = match &args.svg {
        Some(path) => {
            Some(std::fs::File::create(path).map_err(|e| format!("cannot write {path}: {e}"))?)
        }
        None => None,
    };
    let (page, nr_cpus) = (page_size(), v.nr_cpus.max(1));
    let limits = crate::device::limits_if_supported(dev).map_err(|e| e.to_string())?;
    if limits.is_none() {
        crate::output::note(
            "the module has no KMEMLAB_IOC_LIMITS: the plan keeps to the ABI's constants",
        );
    }
    let plan = Plan::new(&args, v.features, limits.as_ref(), nr_cpus, page);
    let (n, rounds) = (args.iterations, args.rounds);
    let mut b = Bench {
        dev,
        progress: Progress::new(plan.steps(rounds)),
    };
    let sweeps = measure_sweeps(&mut b, &plan, rounds, page)?;
    let batches = measure_batches(&mut b, &plan, n, rounds)?;
    let scaling = measure_scaling(&mut b, &plan, rounds)?;
    let ioctl = if plan.ioctl {
        Some(measure_ioctl(&mut b, n, rounds)?)
    } else {
        None
    };
    let stats_cost = if plan.stats_cost {
        Some(measure_stats_cost(&mut b, n, SMALL, rounds)?)
    } else {
        None
    };
    drop(b);
    let s = Standard {
        args,
        nr_cpus,
        page,
        release: kernel_release(),
        sweeps,
        skipped: plan.skipped,
        batches,
        scaling,
        ioctl,
        stats_cost,
    };
    let mut text = standard_text(&s);
    if let (Some(path), Some(f)) = (&s.args.svg, svg_file.as_mut()) {
        f.write_all(standard_svg(&s).as_bytes())
            .map_err(|e| format!("cannot write {path}: {e}"))?;
        text.push_str(&format!("\nplot: {path}"));
    }
    Ok(Output::new(text, &standard_fields(&s)))
}
