// SPDX-License-Identifier: GPL-2.0

//! `bench standard`: what the standard set measures, and how.

use super::*;
use crate::names::KIND_FEATURES;

#[derive(Debug, Clone, PartialEq)]
pub(crate) struct StandardArgs {
    pub(crate) iterations: u32,
    pub(crate) rounds: usize,
    pub(crate) quick: bool,
    pub(crate) svg: Option<String>,
    pub(crate) subtitle: Option<String>,
    pub(crate) scaling: ScalingPart,
}

/// `bench standard`'s options: `--quick` changes the defaults, an
/// explicit `--iterations` or `--rounds` wins over it.
pub(crate) fn standard_args(a: &BenchStandardArgs) -> StandardArgs {
    let (n, r) = if a.quick {
        (QUICK_ITERATIONS, QUICK_ROUNDS)
    } else {
        (STANDARD_ITERATIONS, STANDARD_ROUNDS)
    };
    StandardArgs {
        iterations: a.iterations.unwrap_or(n),
        rounds: a.rounds.unwrap_or(r),
        quick: a.quick,
        svg: a.svg.clone(),
        subtitle: a.subtitle.clone(),
        scaling: a.scaling,
    }
}

/// The points the standard set sweeps for `kind`, as pairs of the Rust
/// abstractions (batch 1, no statistics, on the calling thread).
pub(crate) fn sweep(kind: u32) -> Vec<Spec> {
    let sizes = |s: &[u64]| s.iter().map(|&b| Spec::alloc(kind, b, 0)).collect();
    let orders = || (0..=4).map(|o| Spec::alloc(kind, 0, o)).collect();
    let points: Vec<Spec> = match kind {
        KMEMLAB_KIND_KMALLOC => sizes(&[8, 64, 512, 4096, 32768, 131072, 1 << 20]),
        KMEMLAB_KIND_KMEM_CACHE => sizes(&[8, 64, 512, 4096]),
        KMEMLAB_KIND_FREE_PAGES | KMEMLAB_KIND_PAGES_NODE => orders(),
        KMEMLAB_KIND_VMALLOC => sizes(&[4 << 10, 16 << 10, 64 << 10, 256 << 10, 1 << 20]),
        // kmalloc's slab, its pages (or vmalloc when they are not at hand),
        // then, above KMALLOC_MAX_SIZE, vmalloc always.
        KMEMLAB_KIND_KVMALLOC => sizes(&[64, 4 << 10, 64 << 10, 1 << 20, 8 << 20]),
        KMEMLAB_KIND_DMA_COHERENT => sizes(&[4 << 10, 16 << 10, 64 << 10, 256 << 10]),
        KMEMLAB_KIND_IOREMAP => sizes(&[4 << 10, 64 << 10, 1 << 20]),
        KMEMLAB_KIND_PERCPU => vec![Spec::alloc(kind, 0, 0)],
        // A kmalloc mempool of 64-byte elements, its reserve full: the
        // mempool's own cost over kmalloc's (GFP_ATOMIC, as mempools need).
        KMEMLAB_KIND_MEMPOOL => sizes(&[SMALL]),
        // A DMA pool of 64-byte blocks for the faux device: the pool's own
        // cost, its first block's page taken by the first run.
        KMEMLAB_KIND_DMA_POOL => sizes(&[SMALL]),
        _ => Vec::new(),
    };
    points
        .into_iter()
        .map(|s| Spec { stats: false, ..s })
        .collect()
}

/// One point of the Rust-against-C sweep.
#[derive(Clone, Debug)]
pub(crate) struct SweepPoint {
    pub(crate) spec: Spec,
    pub(crate) bytes: u64,
    pub(crate) rust: Stat,
    pub(crate) c: Stat,
    pub(crate) cpu: u32,
}

impl SweepPoint {
    pub(crate) fn ratio(&self) -> f64 {
        ratio(self.rust.median, self.c.median)
    }
    pub(crate) fn ratio_best(&self) -> f64 {
        ratio(self.rust.best, self.c.best)
    }
}

/// The sweep of one allocator.
#[derive(Clone, Debug)]
pub(crate) struct SweepKind {
    pub(crate) kind: u32,
    pub(crate) points: Vec<SweepPoint>,
}

/// One row of batch mode.
#[derive(Clone, Debug)]
pub(crate) struct BatchRow {
    pub(crate) kind: u32,
    pub(crate) batch: u32,
    pub(crate) iterations: u32,
    pub(crate) rust: Stat,
    pub(crate) c: Stat,
}

/// One scaling series: median aggregate rate per thread count.
#[derive(Clone, Debug)]
pub(crate) struct Scaling {
    pub(crate) name: String,
    pub(crate) spec: Spec,
    pub(crate) points: Vec<(u32, f64)>,
}

impl Scaling {
    pub(crate) fn rates(&self) -> Vec<f64> {
        self.points.iter().map(|p| p.1).collect()
    }
    pub(crate) fn speedups(&self) -> Vec<f64> {
        let first = self.points.first().map_or(0.0, |p| p.1);
        self.points.iter().map(|p| ratio(p.1, first)).collect()
    }
}

/// The ioctl path against the in-kernel loop, ns per object.
#[derive(Clone, Debug)]
pub(crate) struct IoctlPath {
    /// ALLOC+FREE pairs of one object, and rounds of a batch of [`BATCH`], per round.
    pub(crate) single_calls: u32,
    pub(crate) batch_calls: u32,
    pub(crate) kernel_iterations: u32,
    pub(crate) kernel_batch_iterations: u32,
    pub(crate) user_single: Stat,
    pub(crate) user_batch: Stat,
    pub(crate) kernel_single: Stat,
    pub(crate) kernel_batch: Stat,
}

impl IoctlPath {
    pub(crate) fn ratio_single(&self) -> f64 {
        ratio(self.user_single.median, self.kernel_single.median)
    }
    pub(crate) fn ratio_batch(&self) -> f64 {
        ratio(self.user_batch.median, self.kernel_batch.median)
    }
    /// The batched ioctls against the in-kernel loop of allocate+free pairs:
    /// the reading of the target (the engine's loop is pairs by default).
    pub(crate) fn ratio_batch_vs_pairs(&self) -> f64 {
        ratio(self.user_batch.median, self.kernel_single.median)
    }
}

/// One line of the summary: a measured value against its target.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Check {
    pub(crate) name: String,
    pub(crate) detail: String,
    /// None: could not be judged.
    pub(crate) met: Option<bool>,
}

impl Check {
    pub(crate) fn verdict(&self) -> &'static str {
        match self.met {
            Some(true) => "met",
            Some(false) => "missed",
            None => "n/a",
        }
    }
}

/// The worst (highest) Rust/C ratio of each allocator against [`TARGET_RUST_VS_C`],
/// each point's ratio taken between the best rounds of each side: noise from
/// the host (under emulation, other host work) only ever adds time, so the
/// fastest of several interleaved runs is the steadiest estimate.
pub(crate) fn rust_vs_c_checks(sweeps: &[SweepKind]) -> Vec<Check> {
    sweeps
        .iter()
        .filter(|s| !s.points.is_empty())
        .map(|s| {
            // NaN (a zero C time) is the worst of all.
            let worst = s
                .points
                .iter()
                .max_by(|a, b| {
                    let key = |p: &SweepPoint| {
                        let r = p.ratio_best();
                        if r.is_nan() {
                            f64::INFINITY
                        } else {
                            r
                        }
                    };
                    key(a).total_cmp(&key(b))
                })
                .expect("not empty");
            let r = worst.ratio_best();
            Check {
                name: format!("rust/C {}", kind_name(s.kind)),
                detail: format!(
                    "worst {} (best rounds) at {} bytes (target <= {TARGET_RUST_VS_C})",
                    fixed(r, 3),
                    worst.bytes
                ),
                met: Some(r <= TARGET_RUST_VS_C),
            }
        })
        .collect()
}

/// Samples per run for the sweep point `s`, from `n` asked for: fewer for
/// large sizes ([`scaled_iterations`]), except for mappings. A mapping's
/// cost hardly grows with its size (a 1 MiB ioremap+iounmap costs about
/// four times a 4 KiB one), and `iounmap()` frees address space lazily, in
/// batched purges; a run that spans only a few of them depends on how many
/// fall in it, which we take to be why the best-round ratio of the 1 MiB
/// point moved 1.5 % between two boots with the floor's 200 samples, and
/// that of the 4 KiB point 1.3 % with 20000. So mappings take `n`, and
/// `5 * n * 4096 / bytes` when more.
pub(crate) fn point_iterations(n: u32, s: &Spec, page: u64) -> u32 {
    if s.kind == KMEMLAB_KIND_IOREMAP {
        let more = u64::from(n) * 5 * 4096 / s.bytes(page).max(4096);
        // CAST: clamped to `u32::MAX`, so lossless.
        more.clamp(u64::from(n), u64::from(u32::MAX)) as u32
    } else {
        scaled_iterations(n, s.bytes(page))
    }
}

/// Per-CPU counters scale with every added CPU and the shared atomic does not.
pub(crate) fn scaling_check(series: &[Scaling]) -> Option<Check> {
    let find = |op| series.iter().find(|s| s.spec.op == op);
    let (percpu, atomic) = (
        find(KMEMLAB_BENCH_PERCPU_INC)?,
        find(KMEMLAB_BENCH_ATOMIC_INC)?,
    );
    let speedups = |s: &Scaling| {
        s.speedups()
            .iter()
            .map(|x| fixed(*x, 2))
            .collect::<Vec<_>>()
            .join(" ")
    };
    let threads: Vec<String> = percpu.points.iter().map(|p| p.0.to_string()).collect();
    if percpu.points.len() < 2 {
        return Some(Check {
            name: "scaling".into(),
            detail: "one CPU: nothing to scale".into(),
            met: None,
        });
    }
    let (p, a) = (
        grows_every_step(&percpu.rates()),
        grows_every_step(&atomic.rates()),
    );
    let does = |b| if b { "grows" } else { "does not grow" };
    Some(Check {
        name: "scaling".into(),
        detail: format!(
            "percpu-inc {} with every added CPU (speedup {}), atomic-inc {} (speedup {}), threads {}",
            does(p),
            speedups(percpu),
            does(a),
            speedups(atomic),
            threads.join(" ")
        ),
        met: Some(p && !a),
    })
}

pub(crate) fn ioctl_check(io: &IoctlPath) -> Check {
    let r = io.ratio_batch_vs_pairs();
    Check {
        name: "ioctl batch-64".into(),
        detail: format!(
            "{} ns/object through ALLOC+FREE of {BATCH} against {} for the in-kernel allocate+free loop: {} \
             (target <= {TARGET_IOCTL_BATCH}); against the in-kernel batch-of-{BATCH} loop ({} ns/object): {}",
            ns_text(io.user_batch.median),
            ns_text(io.kernel_single.median),
            fixed(r, 3),
            ns_text(io.kernel_batch.median),
            fixed(io.ratio_batch(), 3)
        ),
        met: Some(r <= TARGET_IOCTL_BATCH),
    }
}

pub(crate) fn stats_cost_check(s: &StatsCost) -> Check {
    let (r, median) = s.ratios();
    Check {
        name: "statistics cost".into(),
        detail: format!(
            "on/off {} best rounds, {} median (target <= {TARGET_STATS_COST})",
            fixed(r, 3),
            fixed(median, 3)
        ),
        met: Some(r <= TARGET_STATS_COST),
    }
}

/// Everything `bench standard` measured.
pub(crate) struct Standard {
    pub(crate) args: StandardArgs,
    pub(crate) nr_cpus: u32,
    pub(crate) page: u64,
    pub(crate) release: String,
    pub(crate) sweeps: Vec<SweepKind>,
    pub(crate) skipped: Vec<(u32, String)>,
    pub(crate) batches: Vec<BatchRow>,
    pub(crate) scaling: Vec<Scaling>,
    pub(crate) ioctl: Option<IoctlPath>,
    pub(crate) stats_cost: Option<StatsCost>,
}

impl Standard {
    pub(crate) fn checks(&self) -> Vec<Check> {
        let mut v = rust_vs_c_checks(&self.sweeps);
        v.extend(scaling_check(&self.scaling));
        v.extend(self.ioctl.as_ref().map(ioctl_check));
        v.extend(self.stats_cost.as_ref().map(stats_cost_check));
        v
    }
}

/// The standard set's runs on one device: every section in order.
pub(crate) struct Plan {
    pub(crate) sweeps: Vec<(u32, Vec<Spec>)>,
    pub(crate) skipped: Vec<(u32, String)>,
    pub(crate) batch_kinds: Vec<u32>,
    pub(crate) scaling: Vec<(String, Spec)>,
    pub(crate) threads: Vec<u32>,
    pub(crate) stats_cost: bool,
    /// Whether the ioctl path is measured.
    pub(crate) ioctl: bool,
}

impl Plan {
    /// The plan for a module with `features` (and, when it reports them,
    /// the size `limits` it enforces: points beyond them are left out).
    pub(crate) fn new(
        args: &StandardArgs,
        features: u64,
        limits: Option<&KmemlabLimits>,
        nr_cpus: u32,
        page: u64,
    ) -> Self {
        let (mut sweeps, mut skipped) = (Vec::new(), Vec::new());
        for &(kind, _) in KIND_FEATURES {
            if let Some(why) = unavailable(kind, features) {
                skipped.push((kind, why));
                continue;
            }
            let mut points: Vec<Spec> = sweep(kind)
                .into_iter()
                .filter(|s| limits.is_none_or(|m| within(s, m)))
                .map(|s| Spec {
                    iterations: point_iterations(args.iterations, &s, page),
                    ..s
                })
                .collect();
            if args.quick {
                points.truncate(QUICK_POINTS);
            }
            sweeps.push((kind, points));
        }
        let has = |k| unavailable(k, features).is_none();
        let mut batch_kinds: Vec<u32> = [KMEMLAB_KIND_KMALLOC, KMEMLAB_KIND_KMEM_CACHE]
            .into_iter()
            .filter(|k| has(*k))
            .collect();
        let mut stats_cost = has(KMEMLAB_KIND_KMEM_CACHE);
        if args.scaling == ScalingPart::Only {
            (sweeps, skipped) = (Vec::new(), Vec::new());
            batch_kinds.clear();
            stats_cost = false;
        }
        let mut scaling = Vec::new();
        for op in [KMEMLAB_BENCH_PERCPU_INC, KMEMLAB_BENCH_ATOMIC_INC] {
            let spec = Spec {
                iterations: counter_iterations(args.iterations),
                ..Spec::counter(op)
            };
            scaling.push((op_name(op).to_string(), spec));
        }
        if has(KMEMLAB_KIND_KMALLOC) {
            let spec = Spec {
                iterations: args.iterations,
                stats: false,
                ..Spec::alloc(KMEMLAB_KIND_KMALLOC, SMALL, 0)
            };
            scaling.push((format!("kmalloc {SMALL} pairs"), spec));
        }
        if args.scaling == ScalingPart::Skip {
            scaling.clear();
        }
        Self {
            sweeps,
            skipped,
            batch_kinds,
            scaling,
            threads: thread_counts(nr_cpus),
            stats_cost,
            ioctl: args.scaling != ScalingPart::Only,
        }
    }

    /// The steps of the progress line: one per run (or per timed loop of ioctls).
    pub(crate) fn steps(&self, rounds: usize) -> usize {
        let points: usize = self.sweeps.iter().map(|(_, p)| p.len()).sum();
        let batches = self.batch_kinds.len() * 2;
        let scaling = self.scaling.len() * self.threads.len();
        let stats = usize::from(self.stats_cost);
        let ioctl = 4 * usize::from(self.ioctl);
        rounds * (2 * points + 2 * batches + scaling + ioctl + 2 * stats)
    }
}

/// Whether the objects of `s` are within the module's limits for their kind.
pub(crate) fn within(s: &Spec, m: &KmemlabLimits) -> bool {
    match s.kind {
        KMEMLAB_KIND_KMALLOC | KMEMLAB_KIND_MEMPOOL => s.size <= m.kmalloc_max,
        KMEMLAB_KIND_KMEM_CACHE => s.size <= m.cache_object_max,
        KMEMLAB_KIND_FREE_PAGES | KMEMLAB_KIND_PAGES_NODE => s.order <= m.max_order,
        KMEMLAB_KIND_VMALLOC => s.size <= m.vmalloc_max,
        KMEMLAB_KIND_KVMALLOC => s.size <= m.kvmalloc_max,
        KMEMLAB_KIND_DMA_COHERENT => s.size <= m.dma_max,
        KMEMLAB_KIND_DMA_POOL => s.size <= m.dma_pool_block_max,
        KMEMLAB_KIND_IOREMAP => s.size <= m.ioremap_max,
        _ => true,
    }
}

/// Section a: safe Rust against raw C for every allocator over its sweep.
pub(crate) fn measure_sweeps(
    b: &mut Bench<'_>,
    plan: &Plan,
    rounds: usize,
    page: u64,
) -> Result<Vec<SweepKind>, String> {
    let mut out = Vec::new();
    for (kind, points) in &plan.sweeps {
        let mut done = Vec::new();
        for rust in points {
            let c = Spec {
                raw_c: true,
                ..*rust
            };
            let bytes = rust.bytes(page);
            let what = format!("{} {bytes}", kind_name(*kind));
            let [r, cs] =
                b.with_cache(rust, |b, cache| b.paired(rounds, [rust, &c], cache, &what))?;
            done.push(SweepPoint {
                spec: *rust,
                bytes,
                rust: stat(&r.per_op),
                c: stat(&cs.per_op),
                cpu: r.last.cpu,
            });
        }
        out.push(SweepKind {
            kind: *kind,
            points: done,
        });
    }
    Ok(out)
}

/// Section b: 64-byte kmalloc and kmem_cache, batches of 64 against pairs.
pub(crate) fn measure_batches(
    b: &mut Bench<'_>,
    plan: &Plan,
    n: u32,
    rounds: usize,
) -> Result<Vec<BatchRow>, String> {
    let mut out = Vec::new();
    for &kind in &plan.batch_kinds {
        let base = Spec {
            stats: false,
            ..Spec::alloc(kind, SMALL, 0)
        };
        let rows = b.with_cache(&base, |b, cache| {
            let mut rows = Vec::new();
            for batch in [1, BATCH] {
                let iterations = batch_iterations(n, batch);
                let rust = Spec {
                    batch,
                    iterations,
                    ..base
                };
                let c = Spec {
                    raw_c: true,
                    ..rust
                };
                let what = format!("{} {SMALL} batch {batch}", kind_name(kind));
                let [r, cs] = b.paired(rounds, [&rust, &c], cache, &what)?;
                rows.push(BatchRow {
                    kind,
                    batch,
                    iterations,
                    rust: stat(&r.per_op),
                    c: stat(&cs.per_op),
                });
            }
            Ok(rows)
        })?;
        out.extend(rows);
    }
    Ok(out)
}

/// Section c: aggregate rates with 1, 2, ... threads.
pub(crate) fn measure_scaling(
    b: &mut Bench<'_>,
    plan: &Plan,
    rounds: usize,
) -> Result<Vec<Scaling>, String> {
    let mut out = Vec::new();
    for (name, spec) in &plan.scaling {
        let mut points = Vec::new();
        for &threads in &plan.threads {
            let s = Spec { threads, ..*spec };
            let mut rates = Vec::new();
            for _ in 0..rounds {
                let r = b.run(&s, 0, &format!("{name} threads {threads}"))?;
                rates.push(ops_per_sec(&r));
            }
            points.push((threads, median(&rates)));
        }
        out.push(Scaling {
            name: name.clone(),
            spec: *spec,
            points,
        });
    }
    Ok(out)
}

/// Nanoseconds per object of `calls` ALLOC+FREE round trips of `count`
/// 64-byte kmalloc objects, timed from userspace.
pub(crate) fn time_ioctls(dev: &dyn DeviceOps, calls: u32, count: u32) -> Result<f64, String> {
    let req = KmemlabAlloc {
        kind: KMEMLAB_KIND_KMALLOC,
        size: SMALL,
        node: KMEMLAB_NODE_ANY,
        count,
        ..Default::default()
    };
    let start = Instant::now();
    for _ in 0..calls {
        let handles = dev.alloc(&req).map_err(|e| e.to_string())?;
        dev.free(&handles).map_err(|e| e.to_string())?;
    }
    let ns = start.elapsed().as_nanos() as f64;
    Ok(ns / (f64::from(calls) * f64::from(count)))
}

/// Section d: the ioctl path against the in-kernel loop (statistics on in
/// both: the ioctl path counts them).
pub(crate) fn measure_ioctl(b: &mut Bench<'_>, n: u32, rounds: usize) -> Result<IoctlPath, String> {
    let batch_calls = (n / BATCH).max(1);
    let single = Spec {
        iterations: n,
        ..Spec::alloc(KMEMLAB_KIND_KMALLOC, SMALL, 0)
    };
    let batched = Spec {
        batch: BATCH,
        iterations: batch_calls,
        ..single
    };
    let (mut us, mut ub, mut ks, mut kb) = (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    for _ in 0..rounds {
        b.progress
            .step(&format!("ioctl ALLOC+FREE of 1, {n} times"));
        us.push(time_ioctls(b.dev, n, 1)?);
        ks.push(ns_per_op(&b.run(
            &single,
            0,
            "in-kernel kmalloc 64 pairs",
        )?));
        b.progress
            .step(&format!("ioctl ALLOC+FREE of {BATCH}, {batch_calls} times"));
        ub.push(time_ioctls(b.dev, batch_calls, BATCH)?);
        kb.push(ns_per_op(&b.run(
            &batched,
            0,
            &format!("in-kernel kmalloc 64 batch {BATCH}"),
        )?));
    }
    Ok(IoctlPath {
        single_calls: n,
        batch_calls,
        kernel_iterations: n,
        kernel_batch_iterations: batch_calls,
        user_single: stat(&us),
        user_batch: stat(&ub),
        kernel_single: stat(&ks),
        kernel_batch: stat(&kb),
    })
}
