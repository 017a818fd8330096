// SPDX-License-Identifier: GPL-2.0

//! `kmemlab bench`: in-kernel benchmarks (`KMEMLAB_IOC_BENCH`).
//!
//! - `run`: one timed run of any operation, allocator and mode;
//! - `standard`: the standard set: safe Rust against the raw-C baseline for
//!   every allocator over a size sweep, batches, scaling with threads, the
//!   ioctl path against the in-kernel loop and the cost of statistics, then a
//!   summary against the targets, and optionally an SVG plot (`plot.rs`);
//! - `smoke`: tiny runs of everything, each checked to be well-formed;
//! - `stats-cost`: kmem_cache pairs with statistics kept and not.
//!
//! A run's figure per operation is `ns_total / ops`: the mean over its
//! samples (the clock reads around each sample included, the same for Rust
//! and C). A point of the standard set runs several rounds, interleaved, and
//! reports the median of the rounds (and the best). Rates are aggregate:
//! `ops * 10^9 / ns_wall`.

use std::ffi::{c_int, c_long};
use std::io::{IsTerminal, Write};
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Instant;

use crate::commands::{by_name, kind_name, number, Output, Words};
use crate::device::Device;
use crate::json::Value;
use crate::plot;
use crate::uapi::{self, *};

extern "C" {
    fn sysconf(name: c_int) -> c_long;
}

/// `_SC_PAGESIZE` (the same in glibc and musl, on every architecture).
const SC_PAGESIZE: c_int = 30;

/// `bench run`: samples per run without `--iterations`.
const RUN_ITERATIONS: u32 = 10_000;
/// `bench stats-cost`: pairs per run, and runs each way.
const STATS_COST_ITERATIONS: u32 = 100_000;
const STATS_COST_ROUNDS: usize = 9;
/// `bench standard`: samples per run (before scaling for size), and rounds.
const STANDARD_ITERATIONS: u32 = 20_000;
const STANDARD_ROUNDS: usize = 9;
/// `bench standard --quick`: samples per run, rounds, and points per allocator.
const QUICK_ITERATIONS: u32 = 200;
const QUICK_ROUNDS: usize = 1;
const QUICK_POINTS: usize = 2;
/// Fewest samples a run of the standard set takes (unless asked for fewer).
const MIN_ITERATIONS: u32 = 200;
/// Fewest samples of a batched run (unless asked for fewer).
const MIN_BATCH_SAMPLES: u32 = 20;
/// `bench smoke`: samples per run.
const SMOKE_ITERATIONS: u32 = 50;
/// Increments per sample of the counter benchmarks.
const COUNTER_BATCH: u32 = 256;
/// Objects per call of the batched ioctl path, and per sample of batch mode.
const BATCH: u32 = 64;
/// The object size of batch mode, the ioctl path and the scaling of kmalloc.
const SMALL: u64 = 64;
/// Thread counts beyond which scaling measures powers of two only.
const ALL_THREAD_COUNTS_UP_TO: u32 = 16;

/// Targets of the summary: Rust against C per allocator (worst point), the
/// batched ioctl path against the in-kernel batches, statistics on against off.
const TARGET_RUST_VS_C: f64 = 1.03;
const TARGET_IOCTL_BATCH: f64 = 1.5;
const TARGET_STATS_COST: f64 = 1.05;

/// The benchmark operations, by the names the tool takes.
const OP_NAMES: &[(u32, &str)] = &[
    (KMEMLAB_BENCH_ALLOC_FREE, "alloc"),
    (KMEMLAB_BENCH_PERCPU_INC, "percpu-inc"),
    (KMEMLAB_BENCH_ATOMIC_INC, "atomic-inc"),
];

/// The feature bit the module reports for each kind.
const KIND_FEATURES: &[(u32, u64)] = &[
    (KMEMLAB_KIND_KMALLOC, KMEMLAB_FEAT_KMALLOC),
    (KMEMLAB_KIND_KMEM_CACHE, KMEMLAB_FEAT_KMEM_CACHE),
    (KMEMLAB_KIND_FREE_PAGES, KMEMLAB_FEAT_FREE_PAGES),
    (KMEMLAB_KIND_PAGES_NODE, KMEMLAB_FEAT_PAGES_NODE),
    (KMEMLAB_KIND_VMALLOC, KMEMLAB_FEAT_VMALLOC),
    (KMEMLAB_KIND_DMA_COHERENT, KMEMLAB_FEAT_DMA_COHERENT),
    (KMEMLAB_KIND_IOREMAP, KMEMLAB_FEAT_IOREMAP),
    (KMEMLAB_KIND_PERCPU, KMEMLAB_FEAT_PERCPU),
];

fn op_name(op: u32) -> &'static str {
    OP_NAMES
        .iter()
        .find(|(o, _)| *o == op)
        .map_or("?", |(_, n)| *n)
}

fn device_name(d: u32) -> &'static str {
    uapi::DEVICE_NAMES
        .iter()
        .find(|(id, _)| *id == d)
        .map_or("?", |(_, n)| *n)
}

/// The kind named `name` (`dma` is short for `dma_coherent`).
fn kind_by_name(name: &str) -> Result<u32, String> {
    match name {
        "dma" => Ok(KMEMLAB_KIND_DMA_COHERENT),
        n => by_name(uapi::KIND_NAMES, "kind", n),
    }
}

/// Kinds whose objects are `size` bytes (kmem_cache's size is its cache's).
fn takes_size(kind: u32) -> bool {
    matches!(
        kind,
        KMEMLAB_KIND_KMALLOC
            | KMEMLAB_KIND_VMALLOC
            | KMEMLAB_KIND_DMA_COHERENT
            | KMEMLAB_KIND_IOREMAP
    )
}

/// Kinds whose objects are 2^order pages.
fn takes_order(kind: u32) -> bool {
    matches!(kind, KMEMLAB_KIND_FREE_PAGES | KMEMLAB_KIND_PAGES_NODE)
}

/// Why the module cannot benchmark `kind`, if it cannot.
fn unavailable(kind: u32, features: u64) -> Option<String> {
    let bit = KIND_FEATURES
        .iter()
        .find(|(k, _)| *k == kind)
        .map_or(0, |(_, b)| *b);
    if features & bit == 0 {
        return Some(format!(
            "the module has no {} (no '{0}' in its features)",
            kind_name(kind)
        ));
    }
    if kind == KMEMLAB_KIND_IOREMAP && features & KMEMLAB_FEAT_EDU == 0 {
        return Some(
            "needs QEMU's edu device, whose BAR 0 it maps (no 'edu' in the module's features)"
                .into(),
        );
    }
    None
}

/// The page size.
fn page_size() -> u64 {
    // SAFETY: sysconf() only reads its argument and the C library's constants.
    let p = unsafe { sysconf(SC_PAGESIZE) };
    u64::try_from(p).ok().filter(|p| *p > 0).unwrap_or(4096)
}

/// The running kernel's release, as `uname -r` prints it.
fn kernel_release() -> String {
    std::fs::read_to_string("/proc/sys/kernel/osrelease")
        .map(|s| s.trim().to_string())
        .unwrap_or_else(|_| "?".into())
}

/// A new name for a benchmark's cache: `bench<pid>-<n>` (the kernel calls it kmemlab-bench<pid>-<n>).
fn cache_name() -> String {
    static NEXT: AtomicU32 = AtomicU32::new(0);
    format!(
        "bench{}-{}",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::Relaxed)
    )
}

/// What one `KMEMLAB_IOC_BENCH` run times.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Spec {
    op: u32,
    kind: u32,
    /// Bytes: for the kinds of [`takes_size`]; for KMEM_CACHE the object size
    /// of the cache the tool makes for the run.
    size: u64,
    order: u32,
    node: i32,
    /// DMA_COHERENT: the KMEMLAB_DEV_* to allocate for.
    device: u32,
    iterations: u32,
    batch: u32,
    threads: u32,
    raw_c: bool,
    stats: bool,
}

impl Spec {
    /// Alloc+free pairs of `kind`, one sample a pair, on the calling thread,
    /// Rust with statistics (DMA_COHERENT for the faux device).
    fn alloc(kind: u32, size: u64, order: u32) -> Self {
        Self {
            op: KMEMLAB_BENCH_ALLOC_FREE,
            kind,
            size,
            order,
            node: KMEMLAB_NODE_ANY,
            device: if kind == KMEMLAB_KIND_DMA_COHERENT {
                KMEMLAB_DEV_FAUX
            } else {
                0
            },
            iterations: RUN_ITERATIONS,
            batch: 1,
            threads: 0,
            raw_c: false,
            stats: true,
        }
    }

    /// A counter benchmark, [`COUNTER_BATCH`] increments a sample.
    fn counter(op: u32) -> Self {
        Self {
            op,
            kind: 0,
            device: 0,
            batch: COUNTER_BATCH,
            ..Self::alloc(0, 0, 0)
        }
    }

    fn is_alloc(&self) -> bool {
        self.op == KMEMLAB_BENCH_ALLOC_FREE
    }

    /// The request, with `cache` as the KMEM_CACHE handle.
    fn request(&self, cache: u32) -> KmemlabBench {
        let alloc = self.is_alloc();
        let mut flags = 0;
        if !self.stats {
            flags |= KMEMLAB_BENCH_NO_STATS;
        }
        if self.raw_c {
            flags |= KMEMLAB_BENCH_RAW_C;
        }
        KmemlabBench {
            op: self.op,
            kind: if alloc { self.kind } else { 0 },
            size: if alloc && takes_size(self.kind) {
                self.size
            } else {
                0
            },
            order: if alloc && takes_order(self.kind) {
                self.order
            } else {
                0
            },
            node: if alloc { self.node } else { KMEMLAB_NODE_ANY },
            cache: match self.kind {
                KMEMLAB_KIND_KMEM_CACHE if alloc => cache,
                KMEMLAB_KIND_DMA_COHERENT if alloc => self.device,
                _ => 0,
            },
            flags,
            iterations: self.iterations,
            batch: self.batch,
            threads: self.threads,
            ..Default::default()
        }
    }

    /// Bytes of one object (`page`: the page size): the x of the plots.
    fn bytes(&self, page: u64) -> u64 {
        match self.kind {
            KMEMLAB_KIND_FREE_PAGES | KMEMLAB_KIND_PAGES_NODE => page << self.order,
            KMEMLAB_KIND_PERCPU => 8,
            _ => self.size,
        }
    }

    /// What is timed: `kmalloc 64`, `free_pages order 2`, `atomic-inc`.
    fn label(&self) -> String {
        if !self.is_alloc() {
            return op_name(self.op).into();
        }
        let k = kind_name(self.kind);
        match self.kind {
            KMEMLAB_KIND_DMA_COHERENT => {
                format!("{k} {} {}", self.size, device_name(self.device))
            }
            KMEMLAB_KIND_FREE_PAGES => format!("{k} order {}", self.order),
            KMEMLAB_KIND_PAGES_NODE if self.node == KMEMLAB_NODE_ANY => {
                format!("{k} order {}", self.order)
            }
            KMEMLAB_KIND_PAGES_NODE => format!("{k} order {} node {}", self.order, self.node),
            KMEMLAB_KIND_PERCPU => k.into(),
            _ if self.node == KMEMLAB_NODE_ANY => format!("{k} {}", self.size),
            _ => format!("{k} {} node {}", self.size, self.node),
        }
    }

    /// `rust` or `C`.
    fn side(&self) -> &'static str {
        if self.raw_c {
            "C"
        } else {
            "rust"
        }
    }
}

/// Nanoseconds per operation of a run.
fn ns_per_op(r: &KmemlabBench) -> f64 {
    r.ns_total as f64 / r.ops.max(1) as f64
}

/// Cycles per operation of a run.
fn cycles_per_op(r: &KmemlabBench) -> f64 {
    r.cycles_total as f64 / r.ops.max(1) as f64
}

/// Aggregate operations per second of a run, over its wall time.
fn ops_per_sec(r: &KmemlabBench) -> f64 {
    if r.ns_wall == 0 {
        return 0.0;
    }
    r.ops as f64 * 1e9 / r.ns_wall as f64
}

/// The median of `v`; 0 when empty.
fn median(v: &[f64]) -> f64 {
    let mut v = v.to_vec();
    v.sort_by(|a, b| a.total_cmp(b));
    if v.is_empty() {
        return 0.0;
    }
    let m = v.len() / 2;
    if v.len() % 2 == 1 {
        v[m]
    } else {
        (v[m - 1] + v[m]) / 2.0
    }
}

/// The median and the best (lowest) of a point's rounds.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
struct Stat {
    median: f64,
    best: f64,
}

fn stat(v: &[f64]) -> Stat {
    Stat {
        median: median(v),
        best: v.iter().copied().reduce(f64::min).unwrap_or(0.0),
    }
}

/// `a / b`, or NaN (shown `n/a`, never a met target) when `b` is not positive.
fn ratio(a: f64, b: f64) -> f64 {
    if b > 0.0 {
        a / b
    } else {
        f64::NAN
    }
}

/// Samples per run for a point of `bytes`-byte objects, from `n` asked for:
/// `n` up to a page (4096 bytes), then `n * 4096 / bytes`, so that every point
/// allocates about as many bytes as a 4K one and takes a bounded time; but at
/// least [`MIN_ITERATIONS`], for a usable median, and never more than `n`.
fn scaled_iterations(n: u32, bytes: u64) -> u32 {
    let scaled = u64::from(n) * 4096 / bytes.max(4096);
    let floor = MIN_ITERATIONS.min(n);
    // CAST: at most n.
    scaled.clamp(u64::from(floor), u64::from(n)) as u32
}

/// Samples per run of batches of `batch`, from `n` asked for: `n / batch`, so a
/// run makes about `n` objects like an unbatched one, but at least
/// [`MIN_BATCH_SAMPLES`] (and never more than `n`).
fn batch_iterations(n: u32, batch: u32) -> u32 {
    (n / batch.max(1)).clamp(MIN_BATCH_SAMPLES.min(n), n)
}

/// Samples per thread of the scaling runs of counters (each sample
/// [`COUNTER_BATCH`] increments): `n / 4`, at least [`MIN_ITERATIONS`] (and
/// never more than `n`).
fn counter_iterations(n: u32) -> u32 {
    (n / 4).clamp(MIN_ITERATIONS.min(n), n)
}

/// The thread counts of the scaling runs on `nr` CPUs: every count from 1 up
/// to [`ALL_THREAD_COUNTS_UP_TO`] CPUs; beyond, the powers of two and `nr`.
fn thread_counts(nr: u32) -> Vec<u32> {
    let nr = nr.max(1);
    if nr <= ALL_THREAD_COUNTS_UP_TO {
        return (1..=nr).collect();
    }
    let mut v: Vec<u32> = (0..32).map(|s| 1u32 << s).take_while(|t| *t < nr).collect();
    v.push(nr);
    v
}

/// Whether every rate is above the one before (false for fewer than two).
fn grows_every_step(rates: &[f64]) -> bool {
    rates.len() >= 2 && rates.windows(2).all(|w| w[1] > w[0])
}

/// `x` with `digits` decimals, or `n/a` when it is not a number.
fn fixed(x: f64, digits: usize) -> String {
    if x.is_finite() {
        format!("{x:.digits$}")
    } else {
        "n/a".into()
    }
}

/// A fractional figure for `--json`: a string with fixed decimals, as
/// `bench stats-cost` has always written them (the tool's JSON has integers only).
fn jfixed(x: f64, digits: usize) -> Value {
    Value::Str(fixed(x, digits))
}

/// An integer figure for `--json` (negative and non-numbers as 0).
fn jround(x: f64) -> Value {
    // CAST: rounding a rate or a time; saturates.
    Value::Num(if x.is_finite() && x > 0.0 {
        x.round() as u64
    } else {
        0
    })
}

fn obj(fields: Vec<(&str, Value)>) -> Value {
    Value::Object(
        fields
            .into_iter()
            .map(|(k, v)| (k.to_string(), v))
            .collect(),
    )
}

/// A rate for people: `812 ops/s`, `8.10 M ops/s`.
fn rate_text(x: f64) -> String {
    if !x.is_finite() {
        return "n/a".into();
    }
    match x {
        x if x >= 1e9 => format!("{:.2} G ops/s", x / 1e9),
        x if x >= 1e6 => format!("{:.2} M ops/s", x / 1e6),
        x if x >= 1e3 => format!("{:.2} k ops/s", x / 1e3),
        x => format!("{x:.0} ops/s"),
    }
}

/// Nanoseconds per operation for people: two decimals below 10, one above.
fn ns_text(x: f64) -> String {
    fixed(x, if x < 10.0 { 2 } else { 1 })
}

/// Every output field of a run, for `--json`.
fn run_fields(r: &KmemlabBench) -> Value {
    let n = |v: u64| Value::Num(v);
    obj(vec![
        ("iterations", n(r.iterations.into())),
        ("batch", n(r.batch.into())),
        ("threads", n(r.threads.into())),
        ("ops", n(r.ops)),
        ("ns_wall", n(r.ns_wall)),
        ("ns_total", n(r.ns_total)),
        ("ns_min", n(r.ns_min)),
        ("ns_median", n(r.ns_median)),
        ("ns_p99", n(r.ns_p99)),
        ("cycles_total", n(r.cycles_total)),
        ("cycles_min", n(r.cycles_min)),
        ("cycles_median", n(r.cycles_median)),
        ("cycles_p99", n(r.cycles_p99)),
        ("cpu", n(r.cpu.into())),
    ])
}

/// Options after the benchmark's name, consumed in order.
struct Opts<'s, 'a> {
    words: &'s [&'a str],
    at: usize,
}

impl<'s, 'a> Opts<'s, 'a> {
    fn new(words: &'s [&'a str]) -> Self {
        Self { words, at: 0 }
    }

    fn next(&mut self) -> Option<&'a str> {
        let w = self.words.get(self.at)?;
        self.at += 1;
        Some(w)
    }

    fn value(&mut self, opt: &str) -> Result<&'a str, String> {
        self.next().ok_or_else(|| format!("{opt} needs a value"))
    }

    /// The value of `opt`: a number from `lo` to `hi`.
    fn int(&mut self, opt: &str, lo: u32, hi: u32) -> Result<u32, String> {
        let n = number(self.value(opt)?)?;
        u32::try_from(n)
            .ok()
            .filter(|n| (lo..=hi).contains(n))
            .ok_or_else(|| format!("{opt} must be {lo} to {hi}"))
    }

    fn iterations(&mut self, opt: &str) -> Result<u32, String> {
        self.int(opt, 1, KMEMLAB_BENCH_ITERATIONS_MAX)
    }
}

/// The words left on the command line.
fn rest<'a>(w: &mut Words<'a>) -> Vec<&'a str> {
    std::iter::from_fn(|| w.next()).collect()
}

/// The module's version, which must have the in-kernel benchmark.
fn bench_version(dev: &Device) -> Result<KmemlabVersion, String> {
    let v = dev.version().map_err(|e| e.to_string())?;
    if v.features & KMEMLAB_FEAT_BENCH == 0 {
        return Err("the module has no in-kernel benchmark (no 'bench' in its features)".into());
    }
    Ok(v)
}

/// A one-line progress report on standard error, rewritten in place; only
/// when standard error is a terminal.
struct Progress {
    done: usize,
    total: usize,
    tty: bool,
}

impl Progress {
    fn new(total: usize) -> Self {
        Self {
            done: 0,
            total,
            tty: std::io::stderr().is_terminal(),
        }
    }

    /// No progress line (a single run).
    fn none() -> Self {
        Self {
            done: 0,
            total: 0,
            tty: false,
        }
    }

    fn step(&mut self, what: &str) {
        self.done += 1;
        if self.tty {
            let mut e = std::io::stderr();
            let _ = write!(e, "\r\x1b[K[{}/{}] {what}", self.done, self.total);
            let _ = e.flush();
        }
    }
}

impl Drop for Progress {
    fn drop(&mut self) {
        if self.tty && self.done > 0 {
            let mut e = std::io::stderr();
            let _ = write!(e, "\r\x1b[K");
            let _ = e.flush();
        }
    }
}

/// The device and the progress line of a benchmark.
struct Bench<'d> {
    dev: &'d Device,
    progress: Progress,
}

/// Each side's figure per operation, round by round, and its last run.
#[derive(Clone, Debug, Default)]
struct Side {
    per_op: Vec<f64>,
    last: KmemlabBench,
}

impl Bench<'_> {
    /// One run of `spec` (`cache`: the KMEM_CACHE handle); `what` names it
    /// in the progress line and in the error.
    fn run(&mut self, spec: &Spec, cache: u32, what: &str) -> Result<KmemlabBench, String> {
        self.progress.step(what);
        self.dev
            .bench(&spec.request(cache))
            .map_err(|e| format!("{what}: {e}"))
    }

    /// Runs `f` with the cache `spec` needs: for KMEM_CACHE a new cache of
    /// `spec.size`-byte objects, destroyed afterwards (also when `f` fails,
    /// whose error comes first); otherwise 0.
    fn with_cache<T>(
        &mut self,
        spec: &Spec,
        f: impl FnOnce(&mut Self, u32) -> Result<T, String>,
    ) -> Result<T, String> {
        if !(spec.is_alloc() && spec.kind == KMEMLAB_KIND_KMEM_CACHE) {
            return f(self, 0);
        }
        let size = u32::try_from(spec.size).map_err(|_| "kmem_cache: --size is too big")?;
        let cache = self
            .dev
            .cache_create(&cache_name(), size, 0, 0)
            .map_err(|e| format!("kmem_cache {size}: {e}"))?;
        let out = f(self, cache);
        let destroyed = self.dev.cache_destroy(cache).map_err(|e| e.to_string());
        let out = out?;
        destroyed?;
        Ok(out)
    }

    /// Runs `a` and `b` `rounds` times each, interleaved: `a` first in the
    /// even rounds, `b` first in the odd ones, so neither always runs second.
    /// `what` labels the progress line (the side is appended).
    fn paired(
        &mut self,
        rounds: usize,
        [a, b]: [&Spec; 2],
        cache: u32,
        what: &str,
    ) -> Result<[Side; 2], String> {
        let mut sides = [Side::default(), Side::default()];
        for round in 0..rounds {
            let order = if round % 2 == 0 { [0, 1] } else { [1, 0] };
            for i in order {
                let spec = [a, b][i];
                let r = self.run(spec, cache, &format!("{what} {}", spec.side()))?;
                sides[i].per_op.push(ns_per_op(&r));
                sides[i].last = r;
            }
        }
        Ok(sides)
    }
}

/// `bench run` options, parsed; `threads_all` stands for `--threads all`.
#[derive(Debug, PartialEq)]
struct RunArgs {
    spec: Spec,
    threads_all: bool,
}

/// Parses `bench run`'s options.
fn parse_run(words: &[&str]) -> Result<RunArgs, String> {
    let mut o = Opts::new(words);
    let (mut op, mut kind) = (KMEMLAB_BENCH_ALLOC_FREE, KMEMLAB_KIND_KMALLOC);
    let (mut size, mut order, mut node, mut device) = (None, None, None, None);
    let mut spec = Spec::alloc(0, 0, 0);
    let (mut threads_all, mut kind_given, mut batch) = (false, false, None);
    while let Some(opt) = o.next() {
        match opt {
            "--op" => op = by_name(OP_NAMES, "--op", o.value(opt)?)?,
            "--kind" => {
                kind = kind_by_name(o.value(opt)?)?;
                kind_given = true;
            }
            "--size" => size = Some(number(o.value(opt)?)?),
            "--order" => order = Some(o.int(opt, 0, 63)?),
            "--node" => {
                let v = o.value(opt)?;
                node = Some(match v {
                    "any" => KMEMLAB_NODE_ANY,
                    v => v.parse().map_err(|_| format!("bad --node '{v}'"))?,
                });
            }
            "--device" => device = Some(by_name(uapi::DEVICE_NAMES, "device", o.value(opt)?)?),
            "--batch" => batch = Some(o.int(opt, 1, KMEMLAB_BATCH_MAX)?),
            "--threads" => match o.value(opt)? {
                "all" => threads_all = true,
                v => {
                    spec.threads = number(v)
                        .ok()
                        .and_then(|n| u32::try_from(n).ok())
                        .ok_or_else(|| format!("--threads takes a number or 'all', not '{v}'"))?;
                    threads_all = false;
                }
            },
            "--iterations" => spec.iterations = o.iterations(opt)?,
            "--raw-c" => spec.raw_c = true,
            "--no-stats" => spec.stats = false,
            o => return Err(format!("unknown bench run option '{o}'")),
        }
    }
    if op != KMEMLAB_BENCH_ALLOC_FREE {
        if kind_given || size.is_some() || order.is_some() || node.is_some() || device.is_some() {
            return Err(format!(
                "--kind, --size, --order, --node and --device are for --op alloc, not {}",
                op_name(op)
            ));
        }
        spec = Spec {
            op,
            kind: 0,
            device: 0,
            // Increments are cheap: by default a sample is enough of them to
            // outweigh the clock reads around it.
            batch: batch.unwrap_or(COUNTER_BATCH),
            ..spec
        };
        return Ok(RunArgs { spec, threads_all });
    }
    let name = kind_name(kind);
    spec = Spec {
        op,
        kind,
        device: Spec::alloc(kind, 0, 0).device,
        batch: batch.unwrap_or(1),
        ..spec
    };
    match size {
        Some(_) if !takes_size(kind) && kind != KMEMLAB_KIND_KMEM_CACHE => {
            return Err(format!(
                "--size is for kmalloc, kmem_cache, vmalloc, dma_coherent and ioremap, not {name}"
            ))
        }
        Some(s) => spec.size = s,
        None if kind == KMEMLAB_KIND_KMALLOC || kind == KMEMLAB_KIND_KMEM_CACHE => {
            spec.size = SMALL
        }
        None if takes_size(kind) => spec.size = 4096,
        None => {}
    }
    match order {
        Some(_) if !takes_order(kind) => {
            return Err(format!(
                "--order is for free_pages and pages_node, not {name}"
            ))
        }
        Some(n) => spec.order = n,
        None => {}
    }
    match device {
        Some(_) if kind != KMEMLAB_KIND_DMA_COHERENT => {
            return Err(format!("--device is for dma_coherent, not {name}"))
        }
        Some(d) => spec.device = d,
        None => {}
    }
    if let Some(n) = node {
        spec.node = n;
    }
    Ok(RunArgs { spec, threads_all })
}

/// Inputs of a run for `--json`: what was asked for.
fn spec_fields(s: &Spec) -> Vec<(&'static str, Value)> {
    let alloc = s.is_alloc();
    let kind = if alloc {
        Value::Str(kind_name(s.kind).into())
    } else {
        Value::Null
    };
    let device = if alloc && s.kind == KMEMLAB_KIND_DMA_COHERENT {
        Value::Str(device_name(s.device).into())
    } else {
        Value::Null
    };
    vec![
        ("op", Value::Str(op_name(s.op).into())),
        ("kind", kind),
        ("size", Value::Num(s.size)),
        ("order", Value::Num(s.order.into())),
        ("node", Value::Int(s.node.into())),
        ("device", device),
        ("impl", Value::Str(s.side().to_lowercase())),
        ("stats", Value::Bool(s.stats)),
        ("iterations", Value::Num(s.iterations.into())),
        ("batch", Value::Num(s.batch.into())),
        ("threads", Value::Num(s.threads.into())),
    ]
}

/// `bench run`: one run, as asked.
fn run(dev: &Device, words: &[&str]) -> Result<Output, String> {
    let RunArgs {
        mut spec,
        threads_all,
    } = parse_run(words)?;
    let v = bench_version(dev)?;
    if let Some(why) = spec
        .is_alloc()
        .then(|| unavailable(spec.kind, v.features))
        .flatten()
    {
        return Err(format!("bench run {}: {why}", kind_name(spec.kind)));
    }
    if spec.is_alloc()
        && spec.kind == KMEMLAB_KIND_DMA_COHERENT
        && spec.device == KMEMLAB_DEV_EDU
        && v.features & KMEMLAB_FEAT_EDU == 0
    {
        return Err("bench run dma_coherent --device edu: the edu device is not bound (no 'edu' in the module's features)".into());
    }
    if threads_all {
        spec.threads = v.nr_cpus.max(1);
    }
    let mut b = Bench {
        dev,
        progress: Progress::none(),
    };
    let label = spec.label();
    let r = b.with_cache(&spec, |b, cache| b.run(&spec, cache, &label))?;
    let (ns, cycles, rate) = (ns_per_op(&r), cycles_per_op(&r), ops_per_sec(&r));
    let what = match spec.op {
        KMEMLAB_BENCH_ALLOC_FREE if spec.batch == 1 => "alloc+free pairs".to_string(),
        KMEMLAB_BENCH_ALLOC_FREE => format!("batches of {} allocs then frees", spec.batch),
        _ => format!("{} increments a sample", spec.batch),
    };
    let stats = if spec.raw_c {
        "raw C (no statistics)"
    } else if spec.stats {
        "Rust, statistics on"
    } else {
        "Rust, no statistics"
    };
    let on = if spec.threads == 0 {
        format!("on the calling thread (CPU {})", r.cpu)
    } else {
        format!(
            "on each of {} kernel threads (the last on CPU {})",
            spec.threads, r.cpu
        )
    };
    let text = [
        format!("{}: {what}, {stats}", spec.label()),
        format!(
            "{} samples of {} operation{} {on}",
            spec.iterations,
            spec.batch,
            if spec.batch == 1 { "" } else { "s" }
        ),
        format!(
            "ns/op:      {:>10} mean  (samples: min {}, median {}, p99 {})",
            ns_text(ns),
            r.ns_min,
            r.ns_median,
            r.ns_p99
        ),
        format!(
            "cycles/op:  {:>10} mean  (samples: min {}, median {}, p99 {})",
            ns_text(cycles),
            r.cycles_min,
            r.cycles_median,
            r.cycles_p99
        ),
        format!(
            "ops:        {:>10} in {:.3} ms wall: {} aggregate",
            r.ops,
            r.ns_wall as f64 / 1e6,
            rate_text(rate)
        ),
        "(mean: ns_total/ops; min, median, p99 per operation of single samples, as log2-bucket upper bounds)".into(),
    ]
    .join("\n");
    let mut fields = vec![("benchmark", Value::Str("run".into()))];
    fields.extend(spec_fields(&spec));
    fields.extend([
        ("ns_per_op", jfixed(ns, 3)),
        ("cycles_per_op", jfixed(cycles, 3)),
        ("ops_per_sec", jround(rate)),
        ("result", run_fields(&r)),
    ]);
    Ok(Output::new(text, &fields))
}

/// What `bench stats-cost` measured.
#[derive(Clone, Debug)]
struct StatsCost {
    size: u64,
    iterations: u32,
    rounds: usize,
    off: Stat,
    on: Stat,
    last_off: KmemlabBench,
    last_on: KmemlabBench,
}

impl StatsCost {
    /// On over off, the best runs and the median ones.
    fn ratios(&self) -> (f64, f64) {
        (
            ratio(self.on.best, self.off.best),
            ratio(self.on.median, self.off.median),
        )
    }
}

/// kmem_cache alloc+free pairs (the fastest path) of `size` bytes with
/// statistics counted and not, in `rounds` interleaved runs each.
fn measure_stats_cost(
    b: &mut Bench<'_>,
    iterations: u32,
    size: u64,
    rounds: usize,
) -> Result<StatsCost, String> {
    let off = Spec {
        iterations,
        stats: false,
        ..Spec::alloc(KMEMLAB_KIND_KMEM_CACHE, size, 0)
    };
    let on = Spec { stats: true, ..off };
    let [s_off, s_on] = b.with_cache(&off, |b, cache| {
        b.paired(
            rounds,
            [&off, &on],
            cache,
            &format!("stats-cost kmem_cache {size}"),
        )
    })?;
    Ok(StatsCost {
        size,
        iterations,
        rounds,
        off: stat(&s_off.per_op),
        on: stat(&s_on.per_op),
        last_off: s_off.last,
        last_on: s_on.last,
    })
}

fn stats_cost_text(s: &StatsCost) -> String {
    let (ratio, ratio_median) = s.ratios();
    let row = |what: &str, st: &Stat, r: &KmemlabBench| {
        format!(
            "{what:<9} {:>12.1} {:>12.1} {:>10} {:>10} {:>10}",
            st.best, st.median, r.ns_min, r.ns_median, r.ns_p99
        )
    };
    [
        format!(
            "statistics cost: kmem_cache alloc+free of {}-byte objects (a kmemlab-bench* cache),",
            s.size
        ),
        format!(
            "{} pairs per run, {} runs each way, interleaved, on CPU {}",
            s.iterations, s.rounds, s.last_on.cpu
        ),
        format!(
            "{:<9} {:>12} {:>12} {:>10} {:>10} {:>10}",
            "counting", "best ns/pair", "median", "min", "median", "p99"
        ),
        row("off", &s.off, &s.last_off),
        row("on", &s.on, &s.last_on),
        format!(
            "ratio on/off: {} best of the runs, {} median (target: at most {TARGET_STATS_COST})",
            fixed(ratio, 3),
            fixed(ratio_median, 3)
        ),
        "(ns/pair over each run: the best and the median run; then min, median and p99 of single pairs in the last run, as log2-bucket upper bounds)".into(),
    ]
    .join("\n")
}

fn stats_cost_fields(s: &StatsCost) -> Vec<(&'static str, Value)> {
    let (ratio, ratio_median) = s.ratios();
    vec![
        ("benchmark", Value::Str("stats-cost".into())),
        ("object_size", Value::Num(s.size)),
        ("iterations", Value::Num(s.iterations.into())),
        ("rounds", Value::Num(s.rounds as u64)),
        ("ns_per_pair_off", jfixed(s.off.best, 1)),
        ("ns_per_pair_on", jfixed(s.on.best, 1)),
        ("ns_per_pair_off_median", jfixed(s.off.median, 1)),
        ("ns_per_pair_on_median", jfixed(s.on.median, 1)),
        ("ratio", jfixed(ratio, 3)),
        ("ratio_median", jfixed(ratio_median, 3)),
        ("last_off", run_fields(&s.last_off)),
        ("last_on", run_fields(&s.last_on)),
    ]
}

/// `bench stats-cost [--iterations N] [--size N] [--rounds R]`.
fn stats_cost(dev: &Device, words: &[&str]) -> Result<Output, String> {
    let mut o = Opts::new(words);
    let (mut iterations, mut size, mut rounds) = (STATS_COST_ITERATIONS, SMALL, STATS_COST_ROUNDS);
    while let Some(opt) = o.next() {
        match opt {
            "--iterations" => iterations = o.iterations(opt)?,
            "--size" => size = number(o.value(opt)?)?,
            "--rounds" => rounds = o.int(opt, 1, 1000)? as usize,
            o => return Err(format!("unknown bench stats-cost option '{o}'")),
        }
    }
    if u32::try_from(size).is_err() {
        return Err("--size is too big".into());
    }
    bench_version(dev)?;
    let mut b = Bench {
        dev,
        progress: Progress::new(2 * rounds),
    };
    let s = measure_stats_cost(&mut b, iterations, size, rounds)?;
    drop(b);
    Ok(Output::new(stats_cost_text(&s), &stats_cost_fields(&s)))
}

/// `bench standard` options.
#[derive(Debug, PartialEq)]
struct StandardArgs {
    iterations: u32,
    rounds: usize,
    quick: bool,
    svg: Option<String>,
    subtitle: Option<String>,
}

/// Parses `bench standard`'s options: `--quick` changes the defaults, an
/// explicit `--iterations` or `--rounds` wins over it.
fn parse_standard(words: &[&str]) -> Result<StandardArgs, String> {
    let mut o = Opts::new(words);
    let (mut iterations, mut rounds, mut quick, mut svg, mut subtitle) =
        (None, None, false, None, None);
    while let Some(opt) = o.next() {
        match opt {
            "--iterations" => iterations = Some(o.iterations(opt)?),
            "--rounds" => rounds = Some(o.int(opt, 1, 1000)? as usize),
            "--quick" => quick = true,
            "--svg" => svg = Some(o.value(opt)?.to_string()),
            "--subtitle" => subtitle = Some(o.value(opt)?.to_string()),
            o => return Err(format!("unknown bench standard option '{o}'")),
        }
    }
    let (n, r) = if quick {
        (QUICK_ITERATIONS, QUICK_ROUNDS)
    } else {
        (STANDARD_ITERATIONS, STANDARD_ROUNDS)
    };
    Ok(StandardArgs {
        iterations: iterations.unwrap_or(n),
        rounds: rounds.unwrap_or(r),
        quick,
        svg,
        subtitle,
    })
}

/// The points the standard set sweeps for `kind`, as pairs of the Rust
/// abstractions (batch 1, no statistics, on the calling thread).
fn sweep(kind: u32) -> Vec<Spec> {
    let sizes = |s: &[u64]| s.iter().map(|&b| Spec::alloc(kind, b, 0)).collect();
    let orders = || (0..=4).map(|o| Spec::alloc(kind, 0, o)).collect();
    let points: Vec<Spec> = match kind {
        KMEMLAB_KIND_KMALLOC => sizes(&[8, 64, 512, 4096, 32768, 131072, 1 << 20]),
        KMEMLAB_KIND_KMEM_CACHE => sizes(&[8, 64, 512, 4096]),
        KMEMLAB_KIND_FREE_PAGES | KMEMLAB_KIND_PAGES_NODE => orders(),
        KMEMLAB_KIND_VMALLOC => sizes(&[4 << 10, 16 << 10, 64 << 10, 256 << 10, 1 << 20]),
        KMEMLAB_KIND_DMA_COHERENT => sizes(&[4 << 10, 16 << 10, 64 << 10, 256 << 10]),
        KMEMLAB_KIND_IOREMAP => sizes(&[4 << 10, 64 << 10, 1 << 20]),
        KMEMLAB_KIND_PERCPU => vec![Spec::alloc(kind, 0, 0)],
        _ => Vec::new(),
    };
    points
        .into_iter()
        .map(|s| Spec { stats: false, ..s })
        .collect()
}

/// One point of the Rust-against-C sweep.
#[derive(Clone, Debug)]
struct SweepPoint {
    spec: Spec,
    bytes: u64,
    rust: Stat,
    c: Stat,
    cpu: u32,
}

impl SweepPoint {
    fn ratio(&self) -> f64 {
        ratio(self.rust.median, self.c.median)
    }
    fn ratio_best(&self) -> f64 {
        ratio(self.rust.best, self.c.best)
    }
}

/// The sweep of one allocator.
#[derive(Clone, Debug)]
struct SweepKind {
    kind: u32,
    points: Vec<SweepPoint>,
}

/// One row of batch mode.
#[derive(Clone, Debug)]
struct BatchRow {
    kind: u32,
    batch: u32,
    iterations: u32,
    rust: Stat,
    c: Stat,
}

/// One scaling series: median aggregate rate per thread count.
#[derive(Clone, Debug)]
struct Scaling {
    name: String,
    spec: Spec,
    points: Vec<(u32, f64)>,
}

impl Scaling {
    fn rates(&self) -> Vec<f64> {
        self.points.iter().map(|p| p.1).collect()
    }
    fn speedups(&self) -> Vec<f64> {
        let first = self.points.first().map_or(0.0, |p| p.1);
        self.points.iter().map(|p| ratio(p.1, first)).collect()
    }
}

/// The ioctl path against the in-kernel loop, ns per object.
#[derive(Clone, Debug)]
struct IoctlPath {
    /// ALLOC+FREE pairs of one object, and rounds of a batch of [`BATCH`], per round.
    single_calls: u32,
    batch_calls: u32,
    kernel_iterations: u32,
    kernel_batch_iterations: u32,
    user_single: Stat,
    user_batch: Stat,
    kernel_single: Stat,
    kernel_batch: Stat,
}

impl IoctlPath {
    fn ratio_single(&self) -> f64 {
        ratio(self.user_single.median, self.kernel_single.median)
    }
    fn ratio_batch(&self) -> f64 {
        ratio(self.user_batch.median, self.kernel_batch.median)
    }
    /// The batched ioctls against the in-kernel loop of allocate+free pairs:
    /// the reading of the target (the engine's loop is pairs by default).
    fn ratio_batch_vs_pairs(&self) -> f64 {
        ratio(self.user_batch.median, self.kernel_single.median)
    }
}

/// One line of the summary: a measured value against its target.
#[derive(Clone, Debug, PartialEq)]
struct Check {
    name: String,
    detail: String,
    /// None: could not be judged.
    met: Option<bool>,
}

impl Check {
    fn verdict(&self) -> &'static str {
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
fn rust_vs_c_checks(sweeps: &[SweepKind]) -> Vec<Check> {
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

/// Per-CPU counters scale with every added CPU and the shared atomic does not.
fn scaling_check(series: &[Scaling]) -> Option<Check> {
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

fn ioctl_check(io: &IoctlPath) -> Check {
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

fn stats_cost_check(s: &StatsCost) -> Check {
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
struct Standard {
    args: StandardArgs,
    nr_cpus: u32,
    page: u64,
    release: String,
    sweeps: Vec<SweepKind>,
    skipped: Vec<(u32, String)>,
    batches: Vec<BatchRow>,
    scaling: Vec<Scaling>,
    ioctl: IoctlPath,
    stats_cost: Option<StatsCost>,
}

impl Standard {
    fn checks(&self) -> Vec<Check> {
        let mut v = rust_vs_c_checks(&self.sweeps);
        v.extend(scaling_check(&self.scaling));
        v.push(ioctl_check(&self.ioctl));
        v.extend(self.stats_cost.as_ref().map(stats_cost_check));
        v
    }
}

/// The standard set's runs on one device: every section in order.
struct Plan {
    sweeps: Vec<(u32, Vec<Spec>)>,
    skipped: Vec<(u32, String)>,
    batch_kinds: Vec<u32>,
    scaling: Vec<(String, Spec)>,
    threads: Vec<u32>,
    stats_cost: bool,
}

impl Plan {
    fn new(args: &StandardArgs, features: u64, nr_cpus: u32, page: u64) -> Self {
        let (mut sweeps, mut skipped) = (Vec::new(), Vec::new());
        for &(kind, _) in KIND_FEATURES {
            if let Some(why) = unavailable(kind, features) {
                skipped.push((kind, why));
                continue;
            }
            let mut points: Vec<Spec> = sweep(kind)
                .into_iter()
                .map(|s| Spec {
                    iterations: scaled_iterations(args.iterations, s.bytes(page)),
                    ..s
                })
                .collect();
            if args.quick {
                points.truncate(QUICK_POINTS);
            }
            sweeps.push((kind, points));
        }
        let has = |k| unavailable(k, features).is_none();
        let batch_kinds = [KMEMLAB_KIND_KMALLOC, KMEMLAB_KIND_KMEM_CACHE]
            .into_iter()
            .filter(|k| has(*k))
            .collect();
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
        Self {
            sweeps,
            skipped,
            batch_kinds,
            scaling,
            threads: thread_counts(nr_cpus),
            stats_cost: has(KMEMLAB_KIND_KMEM_CACHE),
        }
    }

    /// The steps of the progress line: one per run (or per timed loop of ioctls).
    fn steps(&self, rounds: usize) -> usize {
        let points: usize = self.sweeps.iter().map(|(_, p)| p.len()).sum();
        let batches = self.batch_kinds.len() * 2;
        let scaling = self.scaling.len() * self.threads.len();
        let stats = usize::from(self.stats_cost);
        rounds * (2 * points + 2 * batches + scaling + 4 + 2 * stats)
    }
}

/// Section a: safe Rust against raw C for every allocator over its sweep.
fn measure_sweeps(
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
fn measure_batches(
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
fn measure_scaling(b: &mut Bench<'_>, plan: &Plan, rounds: usize) -> Result<Vec<Scaling>, String> {
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
fn time_ioctls(dev: &Device, calls: u32, count: u32) -> Result<f64, String> {
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
fn measure_ioctl(b: &mut Bench<'_>, n: u32, rounds: usize) -> Result<IoctlPath, String> {
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

/// The subtitle of the plot, unless given: what was measured where.
fn default_subtitle(s: &Standard) -> String {
    format!(
        "Linux {}, {} CPUs, {} samples per point (fewer for big objects) x {} rounds, median: ratios matter more than absolute times",
        s.release, s.nr_cpus, s.args.iterations, s.args.rounds
    )
}

/// The plot: a panel per allocator, Rust and raw C ns/op against object size.
fn standard_svg(s: &Standard) -> String {
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

fn standard_text(s: &Standard) -> String {
    let mut t = Vec::new();
    let a = &s.args;
    t.push(format!(
        "kmemlab bench standard{}: Linux {}, {} CPUs, page size {}",
        if a.quick { " --quick" } else { "" },
        s.release,
        s.nr_cpus,
        s.page
    ));
    t.push(format!(
        "{} samples per run (fewer for objects above 4096 bytes: n*4096/bytes, at least {MIN_ITERATIONS}); rounds per point: {}, Rust and C interleaved;",
        a.iterations, a.rounds
    ));
    t.push(
        "ns/op = ns_total/ops of a run (clock reads included, alike for Rust and C); the median of the rounds, and the best"
            .into(),
    );
    t.push(String::new());
    t.push(
        "1. Safe Rust against raw C: alloc+free pairs, no statistics, on the calling CPU".into(),
    );
    t.push(format!(
        "{:<13} {:>8} {:>7} {:>11} {:>11} {:>7}   {:>10} {:>10} {:>7}",
        "allocator",
        "bytes",
        "samples",
        "rust ns/op",
        "C ns/op",
        "rust/C",
        "best rust",
        "best C",
        "rust/C"
    ));
    for k in &s.sweeps {
        for p in &k.points {
            t.push(format!(
                "{:<13} {:>8} {:>7} {:>11} {:>11} {:>7}   {:>10} {:>10} {:>7}",
                kind_name(k.kind),
                p.bytes,
                p.spec.iterations,
                ns_text(p.rust.median),
                ns_text(p.c.median),
                fixed(p.ratio(), 3),
                ns_text(p.rust.best),
                ns_text(p.c.best),
                fixed(p.ratio_best(), 3)
            ));
        }
    }
    for (kind, why) in &s.skipped {
        t.push(format!("{:<13} skipped: {why}", kind_name(*kind)));
    }

    t.push(String::new());
    t.push(format!(
        "2. Batch mode: {SMALL}-byte objects, {BATCH} allocations then {BATCH} frees a sample against pairs, no statistics"
    ));
    t.push(format!(
        "{:<13} {:>6} {:>7} {:>11} {:>11} {:>7}",
        "allocator", "batch", "samples", "rust ns/op", "C ns/op", "rust/C"
    ));
    for r in &s.batches {
        t.push(format!(
            "{:<13} {:>6} {:>7} {:>11} {:>11} {:>7}",
            kind_name(r.kind),
            r.batch,
            r.iterations,
            ns_text(r.rust.median),
            ns_text(r.c.median),
            fixed(ratio(r.rust.median, r.c.median), 3)
        ));
    }
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
    let mut head = format!("{:>7}", "threads");
    for sc in &s.scaling {
        head.push_str(&format!(" {:>22} {:>7}", sc.name, "speedup"));
    }
    t.push(head);
    for (i, threads) in s
        .scaling
        .first()
        .map(|sc| sc.points.iter().map(|p| p.0).collect::<Vec<_>>())
        .unwrap_or_default()
        .into_iter()
        .enumerate()
    {
        let mut line = format!("{threads:>7}");
        for sc in &s.scaling {
            let rate = sc.points.get(i).map_or(f64::NAN, |p| p.1);
            let speedup = sc.speedups().get(i).copied().unwrap_or(f64::NAN);
            line.push_str(&format!(
                " {:>22} {:>7}",
                rate_text(rate),
                fixed(speedup, 2)
            ));
        }
        t.push(line);
    }

    t.push(String::new());
    let io = &s.ioctl;
    t.push(format!(
        "4. The ioctl path: kmalloc {SMALL}, statistics on, ns per object from userspace against the in-kernel loop"
    ));
    t.push(format!(
        "{:<30} {:>10} {:>10} {:>7}",
        "", "ioctls", "in-kernel", "ratio"
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
            format!("  (in-kernel: batches of {BATCH})"),
        ),
        (
            &batch,
            &io.user_batch,
            &io.kernel_single,
            io.ratio_batch_vs_pairs(),
            format!("  (in-kernel: pairs; target <= {TARGET_IOCTL_BATCH})"),
        ),
    ];
    for (label, user, kernel, r, note) in rows {
        t.push(format!(
            "{label:<30} {:>10} {:>10} {:>7}{note}",
            ns_text(user.median),
            ns_text(kernel.median),
            fixed(r, 3)
        ));
    }

    t.push(String::new());
    t.push("5. Statistics cost".into());
    match &s.stats_cost {
        Some(sc) => t.push(stats_cost_text(sc)),
        None => t.push("skipped: the module has no kmem_cache".into()),
    }

    t.push(String::new());
    t.push("Summary".into());
    for c in s.checks() {
        t.push(format!("{}: {}: {}", c.name, c.detail, c.verdict()));
    }
    t.join("\n")
}

fn stat_fields(prefix: &str, st: &Stat) -> Vec<(String, Value)> {
    vec![
        (format!("{prefix}_ns_per_op"), jfixed(st.median, 3)),
        (format!("{prefix}_best_ns_per_op"), jfixed(st.best, 3)),
    ]
}

fn standard_fields(s: &Standard) -> Vec<(&'static str, Value)> {
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
                        ("bytes".into(), Value::Num(p.bytes)),
                        ("size".into(), Value::Num(p.spec.request(0).size)),
                        ("order".into(), Value::Num(p.spec.order.into())),
                        ("iterations".into(), Value::Num(p.spec.iterations.into())),
                    ];
                    f.extend(stat_fields("rust", &p.rust));
                    f.extend(stat_fields("c", &p.c));
                    f.push(("ratio".into(), jfixed(p.ratio(), 3)));
                    f.push(("ratio_best".into(), jfixed(p.ratio_best(), 3)));
                    f.push(("cpu".into(), Value::Num(p.cpu.into())));
                    Value::Object(f)
                })
                .collect();
            obj(vec![
                ("kind", Value::Str(kind_name(k.kind).into())),
                ("points", Value::List(points)),
            ])
        })
        .collect();
    let skipped = s
        .skipped
        .iter()
        .map(|(k, why)| {
            obj(vec![
                ("kind", Value::Str(kind_name(*k).into())),
                ("reason", Value::Str(why.clone())),
            ])
        })
        .collect();
    let batches = s
        .batches
        .iter()
        .map(|r| {
            let mut f: Vec<(String, Value)> = vec![
                ("kind".into(), Value::Str(kind_name(r.kind).into())),
                ("size".into(), Value::Num(SMALL)),
                ("batch".into(), Value::Num(r.batch.into())),
                ("iterations".into(), Value::Num(r.iterations.into())),
            ];
            f.extend(stat_fields("rust", &r.rust));
            f.extend(stat_fields("c", &r.c));
            f.push(("ratio".into(), jfixed(ratio(r.rust.median, r.c.median), 3)));
            Value::Object(f)
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
                    obj(vec![
                        ("threads", Value::Num(threads.into())),
                        ("ops_per_sec", jround(rate)),
                        ("speedup", jfixed(speedup, 3)),
                    ])
                })
                .collect();
            obj(vec![
                ("name", Value::Str(sc.name.clone())),
                ("op", Value::Str(op_name(sc.spec.op).into())),
                ("batch", Value::Num(sc.spec.batch.into())),
                ("iterations", Value::Num(sc.spec.iterations.into())),
                ("points", Value::List(points)),
            ])
        })
        .collect();
    let io = &s.ioctl;
    let ioctl = obj(vec![
        ("single_calls", Value::Num(io.single_calls.into())),
        ("batch_calls", Value::Num(io.batch_calls.into())),
        ("batch", Value::Num(BATCH.into())),
        ("kernel_iterations", Value::Num(io.kernel_iterations.into())),
        (
            "kernel_batch_iterations",
            Value::Num(io.kernel_batch_iterations.into()),
        ),
        ("user_single_ns", jfixed(io.user_single.median, 3)),
        ("user_batch_ns", jfixed(io.user_batch.median, 3)),
        ("kernel_single_ns", jfixed(io.kernel_single.median, 3)),
        ("kernel_batch_ns", jfixed(io.kernel_batch.median, 3)),
        ("ratio_single", jfixed(io.ratio_single(), 3)),
        ("ratio_batch", jfixed(io.ratio_batch(), 3)),
        ("ratio_batch_vs_pairs", jfixed(io.ratio_batch_vs_pairs(), 3)),
    ]);
    let stats_cost = s.stats_cost.as_ref().map_or(Value::Null, |sc| {
        obj(stats_cost_fields(sc)
            .into_iter()
            .filter(|(k, _)| *k != "benchmark")
            .collect())
    });
    let summary = s
        .checks()
        .into_iter()
        .map(|c| {
            obj(vec![
                ("check", Value::Str(c.name)),
                ("detail", Value::Str(c.detail)),
                ("met", c.met.map_or(Value::Null, Value::Bool)),
            ])
        })
        .collect();
    vec![
        ("benchmark", Value::Str("standard".into())),
        ("kernel", Value::Str(s.release.clone())),
        ("nr_cpus", Value::Num(s.nr_cpus.into())),
        ("page_size", Value::Num(s.page)),
        ("iterations", Value::Num(a.iterations.into())),
        ("rounds", Value::Num(a.rounds as u64)),
        ("quick", Value::Bool(a.quick)),
        ("rust_vs_c", Value::List(sweeps)),
        ("skipped", Value::List(skipped)),
        ("batch", Value::List(batches)),
        ("scaling", Value::List(scaling)),
        ("ioctl", ioctl),
        ("stats_cost", stats_cost),
        ("summary", Value::List(summary)),
        ("svg", a.svg.clone().map_or(Value::Null, Value::Str)),
    ]
}

/// `bench standard`: the standard set.
fn standard(dev: &Device, words: &[&str]) -> Result<Output, String> {
    let args = parse_standard(words)?;
    let v = bench_version(dev)?;
    // A plot that cannot be written fails now, not after the runs.
    let mut svg_file = match &args.svg {
        Some(path) => {
            Some(std::fs::File::create(path).map_err(|e| format!("cannot write {path}: {e}"))?)
        }
        None => None,
    };
    let (page, nr_cpus) = (page_size(), v.nr_cpus.max(1));
    let plan = Plan::new(&args, v.features, nr_cpus, page);
    let (n, rounds) = (args.iterations, args.rounds);
    let mut b = Bench {
        dev,
        progress: Progress::new(plan.steps(rounds)),
    };
    let sweeps = measure_sweeps(&mut b, &plan, rounds, page)?;
    let batches = measure_batches(&mut b, &plan, n, rounds)?;
    let scaling = measure_scaling(&mut b, &plan, rounds)?;
    let ioctl = measure_ioctl(&mut b, n, rounds)?;
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

/// What is wrong with result `r` of request `req`, if anything.
fn malformed(req: &KmemlabBench, r: &KmemlabBench) -> Vec<String> {
    let mut bad = Vec::new();
    let want = u64::from(req.iterations) * u64::from(req.batch) * u64::from(req.threads.max(1));
    if r.ops != want {
        bad.push(format!("ops {} != iterations*batch*threads {want}", r.ops));
    }
    if r.ns_total == 0 {
        bad.push("ns_total is 0".into());
    }
    if r.ns_wall == 0 {
        bad.push("ns_wall is 0".into());
    }
    // A coarse clock may give a 0 ns fastest sample, but not a 0 median.
    if r.ns_median == 0 {
        bad.push("ns_median is 0".into());
    }
    if !(r.ns_min <= r.ns_median && r.ns_median <= r.ns_p99) {
        bad.push(format!(
            "not ns_min <= ns_median <= ns_p99 ({}, {}, {})",
            r.ns_min, r.ns_median, r.ns_p99
        ));
    }
    if r.cycles_median == 0 {
        bad.push("cycles_median is 0".into());
    }
    if r.reserved2 != 0 {
        bad.push(format!("reserved2 is {:#x}", r.reserved2));
    }
    bad
}

/// The runs of `bench smoke`: every operation and every available kind,
/// Rust (statistics on) and raw C, on the calling thread and on `nr` threads,
/// batches of 1 and 8 (counters: 64 and 256, as a handful of increments can
/// take less than the clock's resolution: the debug test kernel measured 0 ns
/// for 50 samples of one increment each).
fn smoke_specs(features: u64, nr: u32, iterations: u32) -> Vec<Spec> {
    let mut bases: Vec<Spec> = KIND_FEATURES
        .iter()
        .filter(|(k, _)| unavailable(*k, features).is_none())
        .map(|&(k, _)| {
            let mut s = Spec::alloc(k, 0, 0);
            if k == KMEMLAB_KIND_KMALLOC || k == KMEMLAB_KIND_KMEM_CACHE {
                s.size = SMALL;
            } else if takes_size(k) {
                s.size = 4096;
            }
            s
        })
        .collect();
    bases.push(Spec::counter(KMEMLAB_BENCH_PERCPU_INC));
    bases.push(Spec::counter(KMEMLAB_BENCH_ATOMIC_INC));
    let mut out = Vec::new();
    for base in bases {
        for raw_c in [false, true] {
            for threads in [0, nr.max(1)] {
                let batches = if base.op == KMEMLAB_BENCH_ALLOC_FREE {
                    [1, 8]
                } else {
                    [64, 256]
                };
                for batch in batches {
                    out.push(Spec {
                        iterations,
                        raw_c,
                        threads,
                        batch,
                        ..base
                    });
                }
            }
        }
    }
    out
}

/// `bench smoke [--iterations N]`: tiny runs of everything, each checked.
fn smoke(dev: &Device, words: &[&str]) -> Result<Output, String> {
    let mut o = Opts::new(words);
    let mut iterations = SMOKE_ITERATIONS;
    while let Some(opt) = o.next() {
        match opt {
            "--iterations" => iterations = o.iterations(opt)?,
            o => return Err(format!("unknown bench smoke option '{o}'")),
        }
    }
    let v = bench_version(dev)?;
    let specs = smoke_specs(v.features, v.nr_cpus, iterations);
    let mut b = Bench {
        dev,
        progress: Progress::new(specs.len()),
    };
    // One cache for every kmem_cache run; none without them.
    let cache_spec = match specs.iter().find(|s| s.kind == KMEMLAB_KIND_KMEM_CACHE) {
        Some(s) => *s,
        None => Spec::counter(KMEMLAB_BENCH_PERCPU_INC),
    };
    let (lines, failed) = b.with_cache(&cache_spec, |b, cache| {
        let (mut lines, mut failed) = (Vec::new(), Vec::new());
        for s in &specs {
            let op = if s.is_alloc() { "alloc " } else { "" };
            let what = format!(
                "{op}{} {} threads {} batch {}",
                s.label(),
                s.side(),
                s.threads,
                s.batch
            );
            let req = s.request(cache);
            b.progress.step(&what);
            let problems = match b.dev.bench(&req) {
                Ok(r) => {
                    let bad = malformed(&req, &r);
                    if bad.is_empty() {
                        lines.push(format!(
                            "ok    {what}: {} ops, {} ns/op, median {} ns {} cycles",
                            r.ops,
                            ns_text(ns_per_op(&r)),
                            r.ns_median,
                            r.cycles_median
                        ));
                    }
                    bad
                }
                Err(e) => vec![e.to_string()],
            };
            if !problems.is_empty() {
                let line = format!("{what}: {}", problems.join("; "));
                lines.push(format!("FAIL  {line}"));
                failed.push(line);
            }
        }
        Ok((lines, failed))
    })?;
    drop(b);
    let n = specs.len();
    if !failed.is_empty() {
        return Err(format!(
            "bench smoke: {} of {n} checks failed:\n  {}",
            failed.len(),
            failed.join("\n  ")
        ));
    }
    let mut text = lines.join("\n");
    text.push_str(&format!("\nbench smoke: {n} checks, all well-formed"));
    Ok(Output::new(
        text,
        &[
            ("benchmark", Value::Str("smoke".into())),
            ("checks", Value::Num(n as u64)),
            ("failed", Value::List(Vec::new())),
        ],
    ))
}

/// `bench run|standard|smoke|stats-cost [options]`.
pub(crate) fn bench(dev: &Device, w: &mut Words<'_>) -> Result<Output, String> {
    const WHICH: &str = "run, standard, smoke, stats-cost";
    let which = w.arg("bench", &format!("a benchmark ({WHICH})"))?;
    let words = rest(w);
    match which {
        "run" => run(dev, &words),
        "standard" => standard(dev, &words),
        "smoke" => smoke(dev, &words),
        "stats-cost" => stats_cost(dev, &words),
        b => Err(format!("unknown benchmark '{b}' ({WHICH})")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn medians_and_stats() {
        assert_eq!(median(&[3.0, 1.0, 2.0]), 2.0);
        assert_eq!(median(&[4.0, 1.0, 2.0, 3.0]), 2.5);
        assert_eq!(median(&[]), 0.0);
        assert_eq!(
            stat(&[5.0, 3.0, 9.0]),
            Stat {
                median: 5.0,
                best: 3.0
            }
        );
        assert_eq!(stat(&[]), Stat::default());
        assert_eq!(ratio(3.0, 2.0), 1.5);
        assert!(ratio(1.0, 0.0).is_nan());
        assert_eq!(fixed(f64::NAN, 3), "n/a");
        assert_eq!(fixed(1.23456, 3), "1.235");
    }

    #[test]
    fn iterations_scale_down_for_big_objects() {
        assert_eq!(scaled_iterations(20_000, 8), 20_000);
        assert_eq!(scaled_iterations(20_000, 4096), 20_000);
        assert_eq!(scaled_iterations(20_000, 16384), 5_000);
        assert_eq!(scaled_iterations(20_000, 1 << 20), MIN_ITERATIONS);
        assert_eq!(scaled_iterations(200, 1 << 20), 200);
        // Never more than asked for.
        assert_eq!(scaled_iterations(50, 1 << 20), 50);
        assert_eq!(batch_iterations(20_000, 64), 312);
        assert_eq!(batch_iterations(200, 64), MIN_BATCH_SAMPLES);
        assert_eq!(batch_iterations(20_000, 1), 20_000);
        assert_eq!(batch_iterations(5, 64), 5);
        assert_eq!(counter_iterations(20_000), 5_000);
        assert_eq!(counter_iterations(200), 200);
    }

    #[test]
    fn thread_counts_and_growth() {
        assert_eq!(thread_counts(1), vec![1]);
        assert_eq!(thread_counts(4), vec![1, 2, 3, 4]);
        assert_eq!(thread_counts(0), vec![1]);
        assert_eq!(thread_counts(48), vec![1, 2, 4, 8, 16, 32, 48]);
        assert_eq!(thread_counts(64), vec![1, 2, 4, 8, 16, 32, 64]);
        assert!(grows_every_step(&[1.0, 2.0, 2.5]));
        assert!(!grows_every_step(&[1.0, 2.0, 2.0]));
        assert!(!grows_every_step(&[1.0]));
    }

    #[test]
    fn requests_carry_only_the_fields_of_their_kind() {
        let r = Spec::alloc(KMEMLAB_KIND_KMEM_CACHE, 128, 0).request(3);
        assert_eq!(
            (r.kind, r.cache, r.size, r.order),
            (KMEMLAB_KIND_KMEM_CACHE, 3, 0, 0)
        );
        assert_eq!((r.flags, r.batch, r.threads), (0, 1, 0));
        let s = Spec {
            raw_c: true,
            stats: false,
            ..Spec::alloc(KMEMLAB_KIND_DMA_COHERENT, 4096, 0)
        };
        let r = s.request(9);
        assert_eq!((r.size, r.cache), (4096, KMEMLAB_DEV_FAUX));
        assert_eq!(r.flags, KMEMLAB_BENCH_RAW_C | KMEMLAB_BENCH_NO_STATS);
        let r = Spec::alloc(KMEMLAB_KIND_PAGES_NODE, 64, 3).request(0);
        assert_eq!((r.size, r.order, r.node), (0, 3, KMEMLAB_NODE_ANY));
        let r = Spec::alloc(KMEMLAB_KIND_PERCPU, 8, 0).request(0);
        assert_eq!((r.size, r.order, r.cache), (0, 0, 0));
        let r = Spec::counter(KMEMLAB_BENCH_ATOMIC_INC).request(5);
        assert_eq!(
            (r.op, r.kind, r.cache, r.batch),
            (KMEMLAB_BENCH_ATOMIC_INC, 0, 0, COUNTER_BATCH)
        );
        assert_eq!((r.reserved, r.reserved2, r.ops), (0, 0, 0));
    }

    #[test]
    fn sweeps_and_bytes() {
        let bytes = |k| -> Vec<u64> { sweep(k).iter().map(|s| s.bytes(4096)).collect() };
        assert_eq!(
            bytes(KMEMLAB_KIND_KMALLOC),
            [8, 64, 512, 4096, 32768, 131072, 1 << 20]
        );
        assert_eq!(
            bytes(KMEMLAB_KIND_FREE_PAGES),
            [4096, 8192, 16384, 32768, 65536]
        );
        assert_eq!(bytes(KMEMLAB_KIND_PERCPU), [8]);
        assert_eq!(bytes(KMEMLAB_KIND_IOREMAP), [4096, 65536, 1 << 20]);
        assert!(sweep(KMEMLAB_KIND_VMALLOC)
            .iter()
            .all(|s| !s.stats && !s.raw_c && s.batch == 1));
        assert_eq!(
            Spec::alloc(KMEMLAB_KIND_PAGES_NODE, 0, 2).bytes(16384),
            65536
        );
    }

    #[test]
    fn plans_skip_what_the_module_lacks() {
        let all = (1u64 << 9) - 1;
        let args = parse_standard(&["--quick"]).unwrap();
        let plan = Plan::new(&args, all & !KMEMLAB_FEAT_EDU, 4, 4096);
        assert_eq!(plan.skipped.len(), 1);
        assert_eq!(plan.skipped[0].0, KMEMLAB_KIND_IOREMAP);
        assert!(plan.skipped[0].1.contains("edu"));
        assert!(plan
            .sweeps
            .iter()
            .all(|(_, p)| p.len() <= QUICK_POINTS && !p.is_empty()));
        assert_eq!(plan.threads, vec![1, 2, 3, 4]);
        assert_eq!(plan.scaling.len(), 3);
        // 7 kinds, 13 points (percpu has one), two sides; 4 batch runs, two sides;
        // 3 series x 4 thread counts; 4 ioctl steps; 2 stats-cost runs.
        assert_eq!(plan.steps(1), 2 * 13 + 2 * 4 + 12 + 4 + 2);

        let full = parse_standard(&[]).unwrap();
        let plan = Plan::new(&full, all, 1, 4096);
        assert!(plan.skipped.is_empty());
        let kmalloc = &plan.sweeps[0].1;
        assert_eq!(kmalloc.len(), 7);
        assert_eq!(kmalloc.last().unwrap().iterations, MIN_ITERATIONS);
        assert_eq!(kmalloc[0].iterations, STANDARD_ITERATIONS);

        let plan = Plan::new(&full, KMEMLAB_FEAT_PERCPU, 2, 4096);
        assert_eq!(plan.sweeps.len(), 1);
        assert!(plan.batch_kinds.is_empty() && !plan.stats_cost);
        assert_eq!(plan.scaling.len(), 2);
    }

    #[test]
    fn standard_options() {
        let a = parse_standard(&[]).unwrap();
        assert_eq!(
            (a.iterations, a.rounds, a.quick),
            (STANDARD_ITERATIONS, STANDARD_ROUNDS, false)
        );
        let a = parse_standard(&["--quick", "--svg", "x.svg"]).unwrap();
        assert_eq!(
            (a.iterations, a.rounds, a.quick),
            (QUICK_ITERATIONS, QUICK_ROUNDS, true)
        );
        assert_eq!(a.svg.as_deref(), Some("x.svg"));
        let a = parse_standard(&["--rounds", "3", "--quick", "--iterations", "1k"]).unwrap();
        assert_eq!((a.iterations, a.rounds), (1024, 3));
        assert!(parse_standard(&["--rounds", "0"]).is_err());
        assert!(parse_standard(&["--iterations", "0"]).is_err());
        assert!(parse_standard(&["--svg"]).is_err());
        assert!(parse_standard(&["--bogus"]).is_err());
    }

    #[test]
    fn run_options() {
        let a = parse_run(&[]).unwrap();
        assert_eq!(a.spec, Spec::alloc(KMEMLAB_KIND_KMALLOC, SMALL, 0));
        assert!(!a.threads_all);
        let a = parse_run(&[
            "--size",
            "1m",
            "--kind",
            "vmalloc",
            "--threads",
            "all",
            "--batch",
            "8",
            "--raw-c",
            "--no-stats",
            "--iterations",
            "2k",
        ])
        .unwrap();
        assert_eq!(
            (a.spec.kind, a.spec.size, a.spec.batch),
            (KMEMLAB_KIND_VMALLOC, 1 << 20, 8)
        );
        assert!(a.threads_all && a.spec.raw_c && !a.spec.stats);
        assert_eq!(a.spec.iterations, 2048);
        let a = parse_run(&["--kind", "dma", "--device", "edu"]).unwrap();
        assert_eq!((a.spec.size, a.spec.device), (4096, KMEMLAB_DEV_EDU));
        let a = parse_run(&["--kind", "pages_node", "--order", "2", "--node", "1"]).unwrap();
        assert_eq!((a.spec.order, a.spec.node, a.spec.size), (2, 1, 0));
        let a = parse_run(&["--op", "percpu-inc", "--threads", "2"]).unwrap();
        assert_eq!(
            (a.spec.op, a.spec.kind, a.spec.threads, a.spec.batch),
            (KMEMLAB_BENCH_PERCPU_INC, 0, 2, COUNTER_BATCH)
        );
        let a = parse_run(&["--kind", "kmem_cache"]).unwrap();
        assert_eq!(a.spec.size, SMALL);
        assert!(parse_run(&["--op", "atomic-inc", "--kind", "kmalloc"]).is_err());
        assert!(parse_run(&["--op", "inc"])
            .unwrap_err()
            .contains("percpu-inc"));
        assert!(parse_run(&["--kind", "percpu", "--size", "8"]).is_err());
        assert!(parse_run(&["--kind", "kmalloc", "--order", "1"]).is_err());
        assert!(parse_run(&["--device", "faux"]).is_err());
        assert!(parse_run(&["--batch", "0"]).is_err());
        assert!(parse_run(&["--batch", "1025"]).is_err());
        assert!(parse_run(&["--threads", "many"]).is_err());
        assert!(parse_run(&["--node", "x"]).is_err());
    }

    #[test]
    fn labels() {
        assert_eq!(
            Spec::alloc(KMEMLAB_KIND_KMALLOC, 64, 0).label(),
            "kmalloc 64"
        );
        assert_eq!(
            Spec::alloc(KMEMLAB_KIND_FREE_PAGES, 0, 2).label(),
            "free_pages order 2"
        );
        assert_eq!(
            Spec::alloc(KMEMLAB_KIND_DMA_COHERENT, 4096, 0).label(),
            "dma_coherent 4096 faux"
        );
        assert_eq!(
            Spec::counter(KMEMLAB_BENCH_PERCPU_INC).label(),
            "percpu-inc"
        );
        assert_eq!(
            Spec {
                raw_c: true,
                ..Spec::alloc(1, 8, 0)
            }
            .side(),
            "C"
        );
    }

    fn good(req: &KmemlabBench) -> KmemlabBench {
        KmemlabBench {
            ops: u64::from(req.iterations) * u64::from(req.batch) * u64::from(req.threads.max(1)),
            ns_wall: 1000,
            ns_total: 900,
            ns_min: 0,
            ns_median: 16,
            ns_p99: 64,
            cycles_median: 40,
            ..*req
        }
    }

    #[test]
    fn smoke_checks_find_malformed_results() {
        let req = Spec {
            iterations: 50,
            batch: 8,
            threads: 4,
            ..Spec::alloc(1, 64, 0)
        }
        .request(0);
        assert!(malformed(&req, &good(&req)).is_empty());
        let bad = KmemlabBench {
            ops: 400,
            ..good(&req)
        };
        assert!(malformed(&req, &bad)[0].contains("1600"));
        let bad = KmemlabBench {
            ns_median: 0,
            ns_total: 0,
            ..good(&req)
        };
        assert_eq!(malformed(&req, &bad).len(), 2);
        let bad = KmemlabBench {
            ns_min: 32,
            ns_median: 16,
            ..good(&req)
        };
        assert!(malformed(&req, &bad)[0].contains("ns_min <= ns_median"));
        let bad = KmemlabBench {
            ns_p99: 8,
            ..good(&req)
        };
        assert_eq!(malformed(&req, &bad).len(), 1);
        let bad = KmemlabBench {
            cycles_median: 0,
            reserved2: 1,
            ns_wall: 0,
            ..good(&req)
        };
        assert_eq!(malformed(&req, &bad).len(), 3);

        let all = (1u64 << 9) - 1;
        let specs = smoke_specs(all, 4, 50);
        // 8 kinds and 2 counters, x2 sides x2 thread modes x2 batches.
        assert_eq!(specs.len(), 10 * 8);
        assert!(specs
            .iter()
            .any(|s| s.threads == 4 && s.raw_c && s.batch == 8));
        let specs = smoke_specs(all & !KMEMLAB_FEAT_EDU, 1, 50);
        assert_eq!(specs.len(), 9 * 8);
        assert!(specs.iter().all(|s| s.kind != KMEMLAB_KIND_IOREMAP));
    }

    fn point(kind: u32, bytes: u64, rust: f64, c: f64) -> SweepPoint {
        SweepPoint {
            spec: Spec::alloc(kind, bytes, 0),
            bytes,
            rust: Stat {
                median: rust,
                best: rust,
            },
            c: Stat { median: c, best: c },
            cpu: 0,
        }
    }

    #[test]
    fn summary_judges_against_the_targets() {
        let sweeps = vec![
            SweepKind {
                kind: KMEMLAB_KIND_KMALLOC,
                points: vec![point(1, 8, 101.0, 100.0), point(1, 64, 110.0, 100.0)],
            },
            SweepKind {
                kind: KMEMLAB_KIND_VMALLOC,
                points: vec![point(5, 4096, 1000.0, 990.0)],
            },
            SweepKind {
                kind: KMEMLAB_KIND_PERCPU,
                points: vec![point(8, 8, 10.0, 0.0), point(8, 16, 50.0, 10.0)],
            },
        ];
        let checks = rust_vs_c_checks(&sweeps);
        assert_eq!(checks.len(), 3);
        assert_eq!(checks[0].met, Some(false));
        assert!(checks[0]
            .detail
            .contains("worst 1.100 (best rounds) at 64 bytes"));
        assert_eq!(checks[1].met, Some(true));
        assert_eq!(checks[1].verdict(), "met");
        // A zero C time is the worst point, and never meets the target.
        assert!(checks[2].detail.contains("n/a (best rounds) at 8 bytes"));
        assert_eq!(checks[2].met, Some(false));

        let scaling = |op, rates: &[f64]| Scaling {
            name: op_name(op).into(),
            spec: Spec::counter(op),
            points: rates
                .iter()
                .enumerate()
                .map(|(i, r)| (i as u32 + 1, *r))
                .collect(),
        };
        let s = [
            scaling(KMEMLAB_BENCH_PERCPU_INC, &[10.0, 19.0, 28.0]),
            scaling(KMEMLAB_BENCH_ATOMIC_INC, &[10.0, 6.0, 5.0]),
        ];
        let c = scaling_check(&s).unwrap();
        assert_eq!(c.met, Some(true));
        assert!(c.detail.contains("speedup 1.00 1.90 2.80"));
        let s = [
            scaling(KMEMLAB_BENCH_PERCPU_INC, &[10.0, 19.0, 18.0]),
            scaling(KMEMLAB_BENCH_ATOMIC_INC, &[10.0, 6.0, 5.0]),
        ];
        assert_eq!(scaling_check(&s).unwrap().met, Some(false));
        let s = [
            scaling(KMEMLAB_BENCH_PERCPU_INC, &[10.0, 19.0]),
            scaling(KMEMLAB_BENCH_ATOMIC_INC, &[10.0, 12.0]),
        ];
        assert_eq!(scaling_check(&s).unwrap().met, Some(false));
        let s = [
            scaling(KMEMLAB_BENCH_PERCPU_INC, &[10.0]),
            scaling(KMEMLAB_BENCH_ATOMIC_INC, &[10.0]),
        ];
        assert_eq!(scaling_check(&s).unwrap().met, None);
        assert!(scaling_check(&s[..1]).is_none());

        let st = |m| Stat { median: m, best: m };
        let io = IoctlPath {
            single_calls: 100,
            batch_calls: 1,
            kernel_iterations: 100,
            kernel_batch_iterations: 1,
            user_single: st(900.0),
            user_batch: st(140.0),
            kernel_single: st(100.0),
            kernel_batch: st(50.0),
        };
        assert_eq!(io.ratio_single(), 9.0);
        assert_eq!(io.ratio_batch(), 2.8);
        assert_eq!(ioctl_check(&io).met, Some(true));
        let io = IoctlPath {
            user_batch: st(160.0),
            ..io
        };
        assert_eq!(ioctl_check(&io).met, Some(false));
        assert!(ioctl_check(&io).detail.contains("1.600"));
    }

    fn standard_fixture() -> Standard {
        let st = |m| Stat {
            median: m,
            best: m * 0.9,
        };
        let run = KmemlabBench {
            ops: 10,
            ns_total: 1000,
            ns_median: 128,
            ns_p99: 256,
            ..Default::default()
        };
        Standard {
            args: parse_standard(&["--quick", "--subtitle", "QEMU <TCG> & co"]).unwrap(),
            nr_cpus: 2,
            page: 4096,
            release: "6.99-test".into(),
            sweeps: vec![SweepKind {
                kind: KMEMLAB_KIND_KMALLOC,
                points: vec![point(1, 8, 101.0, 100.0), point(1, 64, 102.0, 100.0)],
            }],
            skipped: vec![(KMEMLAB_KIND_IOREMAP, "needs edu".into())],
            batches: vec![
                BatchRow {
                    kind: 1,
                    batch: 1,
                    iterations: 200,
                    rust: st(100.0),
                    c: st(99.0),
                },
                BatchRow {
                    kind: 1,
                    batch: 64,
                    iterations: 20,
                    rust: st(60.0),
                    c: st(59.0),
                },
            ],
            scaling: vec![
                Scaling {
                    name: "percpu-inc".into(),
                    spec: Spec::counter(KMEMLAB_BENCH_PERCPU_INC),
                    points: vec![(1, 1e8), (2, 2e8)],
                },
                Scaling {
                    name: "atomic-inc".into(),
                    spec: Spec::counter(KMEMLAB_BENCH_ATOMIC_INC),
                    points: vec![(1, 1e8), (2, 5e7)],
                },
            ],
            ioctl: IoctlPath {
                single_calls: 200,
                batch_calls: 3,
                kernel_iterations: 200,
                kernel_batch_iterations: 3,
                user_single: st(900.0),
                user_batch: st(130.0),
                kernel_single: st(100.0),
                kernel_batch: st(100.0),
            },
            stats_cost: Some(StatsCost {
                size: 64,
                iterations: 200,
                rounds: 1,
                off: st(100.0),
                on: st(104.0),
                last_off: run,
                last_on: run,
            }),
        }
    }

    #[test]
    fn standard_report_has_every_section() {
        let s = standard_fixture();
        let text = standard_text(&s);
        for want in [
            "1. Safe Rust",
            "2. Batch mode",
            "3. Scaling",
            "4. The ioctl path",
            "5. Statistics cost",
            "Summary",
            "ioremap       skipped: needs edu",
            "rust/C kmalloc: worst 1.020 (best rounds) at 64 bytes (target <= 1.03): met",
            "scaling: percpu-inc grows",
            "ioctl batch-64:",
            "statistics cost: on/off 1.040 best rounds, 1.040 median (target <= 1.05): met",
        ] {
            assert!(text.contains(want), "no '{want}' in:\n{text}");
        }
        let json = crate::json::object(&standard_fields(&s));
        let v = crate::json::parse(&json).unwrap();
        assert_eq!(v.get("benchmark").and_then(Value::as_str), Some("standard"));
        for key in ["rust_vs_c", "skipped", "batch", "scaling", "summary"] {
            assert!(
                !v.get(key).and_then(Value::as_list).unwrap().is_empty(),
                "{key}"
            );
        }
        let p = &v.get("rust_vs_c").and_then(Value::as_list).unwrap()[0]
            .get("points")
            .and_then(Value::as_list)
            .unwrap()[1];
        assert_eq!(p.get("ratio").and_then(Value::as_str), Some("1.020"));
        assert_eq!(
            p.get("rust_ns_per_op").and_then(Value::as_str),
            Some("102.000")
        );
        let io = v.get("ioctl").unwrap();
        assert_eq!(io.get("ratio_batch").and_then(Value::as_str), Some("1.300"));
        assert_eq!(
            v.get("stats_cost")
                .unwrap()
                .get("ratio_median")
                .and_then(Value::as_str),
            Some("1.040")
        );
        let sc = &v.get("scaling").and_then(Value::as_list).unwrap()[0];
        let pts = sc.get("points").and_then(Value::as_list).unwrap();
        assert_eq!(
            pts[1].get("ops_per_sec").and_then(Value::as_u64),
            Some(200_000_000)
        );
        assert_eq!(pts[1].get("speedup").and_then(Value::as_str), Some("2.000"));

        let svg = standard_svg(&s);
        assert!(svg.starts_with("<svg") && svg.contains("QEMU &lt;TCG&gt; &amp; co"));
        assert_eq!(svg.matches("<path").count(), 2);
    }

    #[test]
    fn stats_cost_keeps_its_fields() {
        let s = standard_fixture().stats_cost.unwrap();
        let json = crate::json::object(&stats_cost_fields(&s));
        for key in [
            "\"benchmark\":\"stats-cost\"",
            "\"ns_per_pair_on\":\"93.6\"",
            "\"ratio\":\"1.040\"",
            "\"ratio_median\":\"1.040\"",
            "\"last_off\":{",
        ] {
            assert!(json.contains(key), "no {key} in {json}");
        }
        assert!(stats_cost_text(&s).contains("ratio on/off: 1.040 best of the runs, 1.040 median"));
    }

    #[test]
    fn figures_of_a_run() {
        let r = KmemlabBench {
            ops: 1000,
            ns_total: 50_000,
            cycles_total: 150_000,
            ns_wall: 10_000,
            ..Default::default()
        };
        assert_eq!(ns_per_op(&r), 50.0);
        assert_eq!(cycles_per_op(&r), 150.0);
        assert_eq!(ops_per_sec(&r), 1e8);
        assert_eq!(ops_per_sec(&KmemlabBench::default()), 0.0);
        assert_eq!(rate_text(8.1e6), "8.10 M ops/s");
        assert_eq!(rate_text(512.0), "512 ops/s");
        assert_eq!(ns_text(1.234), "1.23");
        assert_eq!(ns_text(123.45), "123.5");
    }
}
