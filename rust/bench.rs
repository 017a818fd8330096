// SPDX-License-Identifier: GPL-2.0

//! In-kernel benchmarks (`KMEMLAB_IOC_BENCH`).
//!
//! A run times `iterations` samples on each of its threads: the calling
//! thread kept on its CPU (migration disabled, sleeping allowed), or one
//! kernel thread on each of the first N online CPUs, released together
//! ([`workers::on_cpus`]). A sample is one step of the work: `batch`
//! allocations then their frees, or `batch` counter increments. Each sample
//! is timed with the cycle counter; the per-operation counts go into a log2
//! histogram, from which the median and the 99th percentile are read (as
//! the upper bound of their bucket). Nanoseconds are cycles at one rate,
//! all threads' `ktime` over all their cycles, so every nanosecond figure
//! keeps the order of the cycle figures: `local_clock()`, the usual
//! choice, stalls when the kernel finds the TSC unstable, as it does under
//! emulation, and a sample of a few hundred nanoseconds then reads as 0.
//!
//! The work is either kmemlab's Rust (objects made by the request's kind,
//! [`Kind::sample`], through the abstractions of [`crate::alloc`] the ioctl
//! path uses, held in their own types, counted when asked in a statistics
//! slot of their own) or the raw-C baseline ([`RawBench`], the kind's
//! [`Kind::raw`]); the timing loop is the same for both. The Rust step is
//! compiled into the loop for its kind; the C step is a call into the shim
//! (so C pays one call per sample that Rust does not). For a cache with a
//! constructor the Rust side also zeroes what follows the constructor's
//! mark, which the C baseline does not.

use core::num::NonZeroU64;

use kernel::{
    alloc::kvec::PushError,
    prelude::*,
    sync::atomic::{
        Atomic,
        Relaxed, //
    },
};

use crate::{
    alloc::{
        clock::{
            self,
            Rate, //
        },
        cpu::{
            self,
            NoMigrate, //
        },
        gfp::Gfp,
        percpu::PerCpu,
        raw::{
            RawBench,
            RawWork, //
        },
        workers,
    },
    kinds::{
        Kind,
        Request,
        Visit,
        Wrap, //
    },
    stats,
};

/// What a run times.
pub(crate) enum Op {
    /// Allocate and free objects of a request.
    AllocFree(Request),
    /// `this_cpu` increments of a per-CPU counter (one per thread).
    PercpuInc,
    /// Increments of one atomic shared by the run's threads.
    AtomicInc,
}

/// A validated benchmark.
pub(crate) struct Spec {
    pub(crate) op: Op,
    /// Time the raw-C baseline rather than kmemlab's Rust.
    pub(crate) raw_c: bool,
    /// Count kmemlab's Rust allocations in the statistics (scratch slot).
    pub(crate) count: bool,
    /// Samples per thread.
    pub(crate) iterations: u32,
    /// Operations per sample.
    pub(crate) batch: u32,
    /// 0: the calling thread; N: N kernel threads.
    pub(crate) threads: u32,
}

/// The results of a run: per-operation figures, in nanoseconds and cycles.
#[derive(Default)]
pub(crate) struct Run {
    pub(crate) ops: u64,
    pub(crate) ns_wall: u64,
    pub(crate) ns: Figures,
    pub(crate) cycles: Figures,
    pub(crate) cpu: u32,
}

/// Total, fastest, median and 99th percentile.
#[derive(Default)]
pub(crate) struct Figures {
    pub(crate) total: u64,
    pub(crate) min: u64,
    pub(crate) median: u64,
    pub(crate) p99: u64,
}

/// Samples between two looks at the scheduler and at signals.
const RESCHED_EVERY: u32 = 64;

/// A log2 histogram: bucket `i` holds values in `[2^i, 2^(i+1))` (bucket 0
/// also holds 0).
#[derive(Clone)]
struct Histogram {
    buckets: [u64; 64],
    count: u64,
}

impl Histogram {
    const fn new() -> Self {
        Self {
            buckets: [0; 64],
            count: 0,
        }
    }

    fn add(&mut self, v: u64) {
        // CAST: a bucket index is below 64.
        let i = v.checked_ilog2().unwrap_or(0) as usize;
        self.buckets[i] += 1;
        self.count += 1;
    }

    fn merge(&mut self, other: &Histogram) {
        for (a, b) in self.buckets.iter_mut().zip(other.buckets.iter()) {
            *a += b;
        }
        self.count += other.count;
    }

    /// The upper bound of the bucket holding the `per_mille`-th value.
    fn quantile(&self, per_mille: u64) -> u64 {
        let rank = (self.count * per_mille).div_ceil(1000).max(1);
        let mut seen = 0;
        for (i, n) in self.buckets.iter().enumerate() {
            seen += n;
            if seen >= rank {
                // CAST: a bucket index is below 64.
                return 1u64.checked_shl(i as u32 + 1).map_or(u64::MAX, |b| b - 1);
            }
        }
        u64::MAX
    }
}

/// One measure (time or cycles) of one thread.
#[derive(Clone)]
struct Measure {
    hist: Histogram,
    total: u64,
    min: u64,
}

impl Measure {
    const fn new() -> Self {
        Self {
            hist: Histogram::new(),
            total: 0,
            min: u64::MAX,
        }
    }

    /// A sample of `batch` operations that took `d`.
    fn add(&mut self, d: u64, batch: NonZeroU64) {
        let per_op = d / batch;
        self.total = self.total.saturating_add(d);
        self.min = self.min.min(per_op);
        self.hist.add(per_op);
    }

    fn merge(&mut self, other: &Measure) {
        self.hist.merge(&other.hist);
        self.total = self.total.saturating_add(other.total);
        self.min = self.min.min(other.min);
    }

    fn figures(&self) -> Figures {
        Figures {
            total: self.total,
            min: if self.hist.count == 0 { 0 } else { self.min },
            median: self.hist.quantile(500),
            p99: self.hist.quantile(990),
        }
    }
}

/// What one thread measured.
#[derive(Clone)]
struct Tally {
    cycles: Measure,
    ops: u64,
    /// `ktime` and the cycle counter when the thread started and ended.
    start: u64,
    end: u64,
    cycles_start: u64,
    cycles_end: u64,
    cpu: u32,
}

impl Tally {
    /// This thread's calibration: `ktime` against the cycle counter.
    fn rate(&self) -> Rate {
        Rate {
            ns: self.end.saturating_sub(self.start),
            cycles: self.cycles_end.saturating_sub(self.cycles_start),
        }
    }
}

/// One sample through an abstraction: `batch` objects made by `make`, then
/// dropped in the order they were made. With a `tally` each is counted as
/// made (in the scratch statistics slot), as the ioctl path counts its
/// objects; every object made is freed before this returns, and the frees
/// are counted when the run ends ([`stats::Count::all_freed`]).
fn cycle<A>(
    held: &mut KVec<A>,
    batch: u32,
    tally: &mut impl stats::Count,
    mut make: impl FnMut() -> Result<A>,
) -> Result {
    let mut made = Ok(());
    for _ in 0..batch {
        let object = match tally.made(&mut make) {
            Ok(object) => object,
            Err(e) => {
                made = Err(e);
                break;
            }
        };
        // Within the capacity reserved for the batch: cannot fail.
        if let Err(PushError(object)) = held.push_within_capacity(object) {
            drop(object);
            made = Err(ENOMEM);
            break;
        }
    }
    for object in held.drain_all() {
        drop(object);
    }
    made
}

/// One thread's work: what one sample does.
trait Step {
    /// One sample's work.
    fn step(&mut self) -> Result;

    /// Whether the device the work uses is unbinding: the run then stops
    /// with `ENODEV`.
    fn stopping(&self) -> bool {
        false
    }
}

/// kmemlab's Rust: objects of kind `K` made through its abstraction and
/// held in its own type, as many as a batch.
struct Rust<'r, K: Kind, C: stats::Count> {
    req: &'r K::Request,
    sampler: K::Sampler<'r>,
    held: KVec<K::Sample<'r>>,
    batch: u32,
    /// The run's statistics (when counted: a [`stats::UnitTally`] of the
    /// scratch slot, added to the counters when the run ends, as an
    /// ioctl's are when it returns; [`stats::Uncounted`] when not).
    tally: C,
}

impl<K: Kind, C: stats::Count> Drop for Rust<'_, K, C> {
    fn drop(&mut self) {
        // Every sample freed what it made (`cycle` drains `held`); whatever
        // may be left goes now, and the tally is added to the counters
        // after this.
        self.held.clear();
        self.tally.all_freed();
    }
}

impl<K: Kind, C: stats::Count> Step for Rust<'_, K, C> {
    fn step(&mut self) -> Result {
        let sampler = &self.sampler;
        cycle(&mut self.held, self.batch, &mut self.tally, || {
            K::sample(sampler)
        })
    }

    fn stopping(&self) -> bool {
        K::stopping(self.req)
    }
}

/// The raw-C baseline.
impl Step for RawBench {
    fn step(&mut self) -> Result {
        RawBench::step(self)
    }

    fn stopping(&self) -> bool {
        RawBench::stopping(self)
    }
}

/// `this_cpu` increments of a per-CPU counter of the thread's own.
struct PercpuInc(PerCpu<u64>, u32);

impl Step for PercpuInc {
    fn step(&mut self) -> Result {
        let view = self.0.get();
        for _ in 0..self.1 {
            view.add_this_cpu(1);
        }
        Ok(())
    }
}

/// Increments of one atomic shared by the run's threads.
struct AtomicInc<'a>(&'a Atomic<u64>, u32);

impl Step for AtomicInc<'_> {
    fn step(&mut self) -> Result {
        for _ in 0..self.1 {
            self.0.add(1, Relaxed);
        }
        Ok(())
    }
}

/// Runs an allocation benchmark through kmemlab's Rust, typed by the
/// request's kind: the timing loop is compiled for each kind.
struct RustRun<'a> {
    spec: &'a Spec,
    req: &'a Request,
}

impl Visit for RustRun<'_> {
    type Out = Result<Run>;

    fn visit<K: Wrap>(self, r: &K::Request) -> Result<Run> {
        let (spec, req) = (self.spec, self.req);
        // One loop per kind and way of counting: without statistics the
        // loop has no counting instructions at all.
        if !spec.count {
            return timed(spec, &|| Rust::<K, _>::new(spec, req, r, stats::Uncounted));
        }
        timed(spec, &|| {
            // CAST: `batch` is at most `KMEMLAB_BATCH_MAX`.
            let most_live = spec.batch as usize;
            let (bytes, pages) = (req.what.bytes(), req.what.pages());
            let most = u64::from(spec.iterations) * u64::from(spec.batch);
            let tally = stats::UnitTally::new(stats::SCRATCH_KIND, bytes, pages, most, most_live);
            Rust::<K, _>::new(spec, req, r, tally)
        })
    }
}

impl<'r, K: Kind, C: stats::Count> Rust<'r, K, C> {
    fn new(spec: &Spec, req: &Request, r: &'r K::Request, tally: C) -> Result<Self> {
        Ok(Self {
            req: r,
            sampler: K::sampler(r, req.gfp, req.node)?,
            // CAST: `batch` is at most `KMEMLAB_BATCH_MAX`.
            held: KVec::with_capacity(spec.batch as usize, GFP_KERNEL)?,
            batch: spec.batch,
            tally,
        })
    }
}

/// Times `spec.iterations` samples of `work`; `stop` says when to give up.
fn time(work: &mut impl Step, spec: &Spec, cpu: u32, stop: &dyn Fn() -> bool) -> Result<Tally> {
    let batch = NonZeroU64::new(spec.batch.into()).ok_or(EINVAL)?;
    let mut t = Tally {
        cycles: Measure::new(),
        ops: 0,
        start: clock::ktime_ns(),
        end: 0,
        cycles_start: clock::cycles(),
        cycles_end: 0,
        cpu,
    };
    for i in 0..spec.iterations {
        if work.stopping() {
            return Err(ENODEV);
        }
        if i % RESCHED_EVERY == RESCHED_EVERY - 1 {
            cpu::cond_resched();
            if stop() {
                return Err(EINTR);
            }
        }
        let c0 = clock::cycles();
        work.step()?;
        let c1 = clock::cycles();
        t.cycles.add(c1.saturating_sub(c0), batch);
        t.ops += batch.get();
    }
    t.cycles_end = clock::cycles();
    t.end = clock::ktime_ns();
    Ok(t)
}

/// Runs `spec` with the work `make` gives each thread.
fn timed<W: Step>(spec: &Spec, make: &(dyn Fn() -> Result<W> + Sync)) -> Result<Run> {
    let tallies = if spec.threads == 0 {
        let pin = NoMigrate::new();
        let mut work = make()?;
        let stop = || kernel::current!().signal_pending();
        let mut v = KVec::new();
        v.push(time(&mut work, spec, pin.cpu(), &stop)?, GFP_KERNEL)?;
        v
    } else {
        let results = workers::on_cpus(spec.threads, &|cpu, stop: &Atomic<u32>| {
            let tally =
                make().and_then(|mut work| time(&mut work, spec, cpu, &|| stop.load(Relaxed) != 0));
            if tally.is_err() {
                // The first failure stops every thread.
                stop.store(1, Relaxed);
            }
            tally
        })?;
        // The threads a failure stopped report EINTR: report the failure.
        if let Some(Err(e)) = results.iter().find(|r| matches!(r, Err(e) if *e != EINTR)) {
            return Err(*e);
        }
        let mut v = KVec::with_capacity(results.len(), GFP_KERNEL)?;
        for r in results {
            v.push(r?, GFP_KERNEL)?;
        }
        v
    };
    Ok(summarise(&tallies))
}

/// Runs a benchmark. Stops with the error of the first failed allocation,
/// or `EINTR` when a signal arrives.
pub(crate) fn run(spec: &Spec) -> Result<Run> {
    let batch = spec.batch;
    let raw = |work: RawWork, gfp: Gfp| RawBench::new(work, gfp, batch);
    match (&spec.op, spec.raw_c) {
        (Op::AllocFree(req), false) => req.what.visit(RustRun { spec, req }),
        (Op::AllocFree(req), true) => timed(spec, &|| raw(req.what.raw(req.node)?, req.gfp)),
        (Op::PercpuInc, false) => timed(spec, &|| Ok(PercpuInc(PerCpu::new()?, batch))),
        (Op::PercpuInc, true) => timed(spec, &|| raw(RawWork::PercpuInc, Gfp::KERNEL)),
        (Op::AtomicInc, false) => {
            let shared = Atomic::new(0u64);
            timed(spec, &|| Ok(AtomicInc(&shared, batch)))
        }
        (Op::AtomicInc, true) => timed(spec, &|| raw(RawWork::AtomicInc, Gfp::KERNEL)),
    }
}

/// Puts the threads' tallies together.
///
/// Every nanosecond figure is the cycle figure of all threads' samples
/// converted at one rate (all threads' time over all their cycles), so the
/// nanoseconds keep the cycles' order: min <= median <= p99.
fn summarise(tallies: &[Tally]) -> Run {
    let mut cycles = Measure::new();
    let mut all = Rate { ns: 0, cycles: 0 };
    let (mut ops, mut start, mut end, mut cpu) = (0u64, u64::MAX, 0u64, 0);
    for t in tallies {
        let rate = t.rate();
        all.ns = all.ns.saturating_add(rate.ns);
        all.cycles = all.cycles.saturating_add(rate.cycles);
        cycles.merge(&t.cycles);
        ops += t.ops;
        start = start.min(t.start);
        end = end.max(t.end);
        cpu = t.cpu;
    }
    let cycles = cycles.figures();
    let ns = Figures {
        total: all.to_ns(cycles.total),
        min: all.to_ns(cycles.min),
        median: all.to_ns(cycles.median),
        p99: all.to_ns(cycles.p99),
    };
    Run {
        ops,
        ns_wall: end.saturating_sub(start),
        ns,
        cycles,
        cpu,
    }
}

#[kunit_tests(kmemlab_bench)]
mod tests {
    use super::*;

    #[test]
    fn histogram_quantiles() {
        let mut h = Histogram::new();
        for ns in 1..=100u64 {
            h.add(ns);
        }
        // 50 of 100 lie below 64: the median's bucket is [32, 64).
        assert_eq!(h.quantile(500), 63);
        assert_eq!(h.quantile(990), 127);
        let mut one = Histogram::new();
        one.add(0);
        assert_eq!(one.quantile(500), 1);
        one.merge(&h);
        assert_eq!(one.count, 101);
    }

    #[test]
    fn cycle_counter_rate_is_plausible() {
        // Measured at load over 10 ms on one CPU: a counter between 1 MHz
        // and 100 GHz (0 only where there is no counter).
        let ns = clock::cycles_to_ns(1_000_000);
        if clock::cycles() != 0 {
            assert!((10_000..=1_000_000_000).contains(&ns));
        }
    }

    #[test]
    fn cycles_convert_at_the_measured_rate() {
        let rate = Rate {
            ns: 1_000_000,
            cycles: 2_600_000,
        };
        // Within one part in 100000 (a run of an hour keeps 21 fraction bits).
        let close = |got: u64, want: u64| got.abs_diff(want) <= want / 100_000 + 1;
        assert!(close(rate.to_ns(2_600), 1_000));
        assert!(close(rate.to_ns(26_000_000_000), 10_000_000_000));
        let long = Rate {
            ns: 3_600_000_000_000,
            cycles: 9_360_000_000_000,
        };
        assert!(close(long.to_ns(9_360_000_000_000), 3_600_000_000_000));
        assert_eq!(Rate { ns: 5, cycles: 0 }.to_ns(100), 0);
    }

    #[test]
    fn figures_keep_their_order_across_threads() {
        // Two threads at very different measured rates, one sample each:
        // converting each at its own rate would put the minimum above the median.
        let thread = |ns: u64, cycles: u64, sample: u64| {
            let mut m = Measure::new();
            m.add(sample, NonZeroU64::MIN);
            Tally {
                cycles: m,
                ops: 1,
                start: 0,
                end: ns,
                cycles_start: 0,
                cycles_end: cycles,
                cpu: 0,
            }
        };
        // Converted at its own thread's rate, the fastest sample (975 cycles at
        // 3 ns each) and the other thread's only one (60000 cycles at 0.01 ns)
        // both exceed the median (975's bucket at the overall 0.04 ns).
        let run = summarise(&[thread(3_000, 1_000, 975), thread(1_000, 100_000, 60_000)]);
        let (c, n) = (&run.cycles, &run.ns);
        assert!(c.min <= c.median && c.median <= c.p99);
        assert!(n.min <= n.median && n.median <= n.p99);
        assert!(n.min > 0);
    }

    #[test]
    fn batches_count_per_operation() {
        let mut m = Measure::new();
        let batch = NonZeroU64::new(64).unwrap_or(NonZeroU64::MIN);
        m.add(640, batch);
        m.add(6400, batch);
        let f = m.figures();
        assert_eq!((f.total, f.min), (7040, 10));
        assert_eq!(f.p99, 127);
    }

    #[test]
    fn threads_add_up() -> Result {
        let spec = Spec {
            op: Op::PercpuInc,
            raw_c: false,
            count: false,
            iterations: 100,
            batch: 8,
            threads: 1,
        };
        let run = run(&spec)?;
        assert_eq!(run.ops, 800);
        assert!(run.ns_wall > 0);
        assert!(run.ns.median >= run.ns.min);
        let spec = Spec {
            op: Op::AtomicInc,
            raw_c: true,
            threads: 0,
            ..spec
        };
        assert_eq!(super::run(&spec)?.ops, 800);
        Ok(())
    }
}
