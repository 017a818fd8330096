// SPDX-License-Identifier: GPL-2.0

//! `kmemlab bench`: in-kernel benchmarks (`KMEMLAB_IOC_BENCH`).
//!
//! - `run`: one timed run of any operation, allocator and mode;
//! - `standard`: the standard set: safe Rust against the raw-C baseline for
//!   every allocator over a size sweep, batches, scaling with threads, the
//!   ioctl path against the in-kernel loop and the cost of statistics, then a
//!   summary against the targets, and optionally an SVG plot (`plot.rs`);
//! - `smoke`: tiny runs of everything, each checked to be well-formed;
//! - `stats-cost`: kmem_cache pairs with statistics kept and not;
//! - `placements`: the standard set's documents of several builds of the
//!   module, its code placed differently, combined: medians across them
//!   (`placements.rs`; reads files, no device).
//!
//! A run's figure per operation is `ns_total / ops`: the mean over its
//! samples (the clock reads around each sample included, the same for Rust
//! and C). A point of the standard set runs several rounds, interleaved, and
//! reports the median of the rounds (and the best). Rates are aggregate:
//! `ops * 10^9 / ns_wall`.

#[cfg(test)]
mod fake_tests;
mod figures;
mod placements;
mod report;
mod run;
mod smoke;
mod standard;
mod stats_cost;
#[cfg(test)]
mod tests;

use std::io::{IsTerminal, Write};
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Instant;

use serde_json::Value;

use crate::cli::{BenchCommand, BenchStandardArgs, ScalingPart};
use crate::device::{
    dma_pool_create, dma_pool_op, mempool_create, mempool_destroy, DeviceOps, DmaPoolShape,
};
use crate::error::{usage, Result};
use crate::names::{device_name, kind_feature, kind_name, op_name};
use crate::output::{fixed as json_fixed, object, Output};
use crate::plot;
use crate::uapi::*;

use figures::*;
use placements::*;
use report::*;
use run::*;
use smoke::*;
use standard::*;
use stats_cost::*;

/// `bench run`: samples per run without `--iterations`.
pub(crate) const RUN_ITERATIONS: u32 = 10_000;
/// `bench stats-cost`: pairs per run, and runs each way.
pub(crate) const STATS_COST_ITERATIONS: u32 = 100_000;
pub(crate) const STATS_COST_ROUNDS: usize = 9;
/// `bench standard`: samples per run (before scaling for size), and rounds.
pub(crate) const STANDARD_ITERATIONS: u32 = 20_000;
pub(crate) const STANDARD_ROUNDS: usize = 9;
/// `bench standard --quick`: samples per run, rounds, and points per allocator.
pub(crate) const QUICK_ITERATIONS: u32 = 200;
pub(crate) const QUICK_ROUNDS: usize = 1;
pub(crate) const QUICK_POINTS: usize = 2;
/// Fewest samples a run of the standard set takes (unless asked for fewer).
pub(crate) const MIN_ITERATIONS: u32 = 200;
/// Fewest samples of a batched run (unless asked for fewer).
pub(crate) const MIN_BATCH_SAMPLES: u32 = 20;
/// `bench smoke`: samples per run.
pub(crate) const SMOKE_ITERATIONS: u32 = 50;
/// Increments per sample of the counter benchmarks.
pub(crate) const COUNTER_BATCH: u32 = 256;
/// Objects per call of the batched ioctl path, and per sample of batch mode.
pub(crate) const BATCH: u32 = 64;
/// The object size of batch mode, the ioctl path and the scaling of kmalloc.
pub(crate) const SMALL: u64 = 64;
/// Thread counts beyond which scaling measures powers of two only.
pub(crate) const ALL_THREAD_COUNTS_UP_TO: u32 = 16;
/// Elements in the reserve of the kmalloc mempools the benchmarks make.
pub(crate) const POOL_MIN: u32 = 16;

/// Targets of the summary: Rust against C per allocator (worst point), the
/// batched ioctl path against the in-kernel batches, statistics on against off.
pub(crate) const TARGET_RUST_VS_C: f64 = 1.03;
pub(crate) const TARGET_IOCTL_BATCH: f64 = 1.5;
pub(crate) const TARGET_STATS_COST: f64 = 1.05;

/// Kinds whose objects are `size` bytes (kmem_cache's size is its cache's).
pub(crate) fn takes_size(kind: u32) -> bool {
    matches!(
        kind,
        KMEMLAB_KIND_KMALLOC
            | KMEMLAB_KIND_VMALLOC
            | KMEMLAB_KIND_DMA_COHERENT
            | KMEMLAB_KIND_IOREMAP
            | KMEMLAB_KIND_KVMALLOC
    )
}

/// Kinds whose objects come from a cache, a mempool or a DMA pool the
/// benchmark makes for the run, of objects of `size` bytes (the request's
/// size is 0).
pub(crate) fn sized_by_owner(kind: u32) -> bool {
    matches!(
        kind,
        KMEMLAB_KIND_KMEM_CACHE | KMEMLAB_KIND_MEMPOOL | KMEMLAB_KIND_DMA_POOL
    )
}

/// Kinds whose objects are for a DMA device (`--dma-device`): DMA
/// buffers, and blocks of a DMA pool made for the device.
pub(crate) fn takes_device(kind: u32) -> bool {
    matches!(kind, KMEMLAB_KIND_DMA_COHERENT | KMEMLAB_KIND_DMA_POOL)
}

/// The GFP request of a run of `kind`: GFP_KERNEL, but GFP_ATOMIC for a
/// mempool (the module refuses masks that may sleep there).
pub(crate) fn bench_gfp(kind: u32) -> u32 {
    match kind {
        KMEMLAB_KIND_MEMPOOL => KMEMLAB_GFP_ATOMIC,
        _ => KMEMLAB_GFP_KERNEL,
    }
}

/// Kinds whose objects are 2^order pages.
pub(crate) fn takes_order(kind: u32) -> bool {
    matches!(kind, KMEMLAB_KIND_FREE_PAGES | KMEMLAB_KIND_PAGES_NODE)
}

/// Why the module cannot benchmark `kind`, if it cannot.
pub(crate) fn unavailable(kind: u32, features: u64) -> Option<String> {
    let bit = kind_feature(kind);
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
pub(crate) fn page_size() -> u64 {
    rustix::param::page_size() as u64
}

/// The running kernel's release, as `uname -r` prints it.
pub(crate) fn kernel_release() -> String {
    std::fs::read_to_string("/proc/sys/kernel/osrelease")
        .map(|s| s.trim().to_string())
        .unwrap_or_else(|_| "?".into())
}

/// A new name for a benchmark's cache or DMA pool: `bench<pid>-<n>` (the
/// kernel calls it kmemlab-bench<pid>-<n>).
pub(crate) fn cache_name() -> String {
    static NEXT: AtomicU32 = AtomicU32::new(0);
    format!(
        "bench{}-{}",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::Relaxed)
    )
}

/// What one `KMEMLAB_IOC_BENCH` run times.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Spec {
    pub(crate) op: u32,
    pub(crate) kind: u32,
    /// Bytes: for the kinds of [`takes_size`]; for KMEM_CACHE, MEMPOOL and
    /// DMA_POOL the object size of the cache, the kmalloc mempool or the
    /// DMA pool the tool makes for the run.
    pub(crate) size: u64,
    pub(crate) order: u32,
    pub(crate) node: i32,
    /// DMA_COHERENT and DMA_POOL: the KMEMLAB_DEV_* to allocate for.
    pub(crate) device: u32,
    pub(crate) iterations: u32,
    pub(crate) batch: u32,
    pub(crate) threads: u32,
    pub(crate) raw_c: bool,
    pub(crate) stats: bool,
}

impl Spec {
    /// Alloc+free pairs of `kind`, one sample a pair, on the calling thread,
    /// Rust with statistics (DMA_COHERENT and DMA_POOL for the faux device).
    pub(crate) fn alloc(kind: u32, size: u64, order: u32) -> Self {
        Self {
            op: KMEMLAB_BENCH_ALLOC_FREE,
            kind,
            size,
            order,
            node: KMEMLAB_NODE_ANY,
            device: if takes_device(kind) {
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
    pub(crate) fn counter(op: u32) -> Self {
        Self {
            op,
            kind: 0,
            device: 0,
            batch: COUNTER_BATCH,
            ..Self::alloc(0, 0, 0)
        }
    }

    pub(crate) fn is_alloc(&self) -> bool {
        self.op == KMEMLAB_BENCH_ALLOC_FREE
    }

    /// The request, with `cache` as the KMEM_CACHE, MEMPOOL or DMA_POOL handle.
    pub(crate) fn request(&self, cache: u32) -> KmemlabBench {
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
            gfp: if alloc {
                bench_gfp(self.kind)
            } else {
                KMEMLAB_GFP_KERNEL
            },
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
                KMEMLAB_KIND_KMEM_CACHE | KMEMLAB_KIND_MEMPOOL | KMEMLAB_KIND_DMA_POOL if alloc => {
                    cache
                }
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
    pub(crate) fn bytes(&self, page: u64) -> u64 {
        match self.kind {
            KMEMLAB_KIND_FREE_PAGES | KMEMLAB_KIND_PAGES_NODE => page << self.order,
            KMEMLAB_KIND_PERCPU => 8,
            _ => self.size,
        }
    }

    /// What is timed: `kmalloc 64`, `free_pages order 2`, `atomic-inc`.
    pub(crate) fn label(&self) -> String {
        if !self.is_alloc() {
            return op_name(self.op).into();
        }
        let k = kind_name(self.kind);
        match self.kind {
            KMEMLAB_KIND_DMA_COHERENT | KMEMLAB_KIND_DMA_POOL => {
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
    pub(crate) fn side(&self) -> &'static str {
        if self.raw_c {
            "C"
        } else {
            "rust"
        }
    }
}
/// The module's version, which must have the in-kernel benchmark.
pub(crate) fn bench_version(dev: &dyn DeviceOps) -> Result<KmemlabVersion, String> {
    let v = dev.version().map_err(|e| e.to_string())?;
    if v.features & KMEMLAB_FEAT_BENCH == 0 {
        return Err("the module has no in-kernel benchmark (no 'bench' in its features)".into());
    }
    Ok(v)
}

/// A one-line progress report on standard error, rewritten in place; only
/// when standard error is a terminal.
pub(crate) struct Progress {
    pub(crate) done: usize,
    pub(crate) total: usize,
    pub(crate) tty: bool,
}

impl Progress {
    pub(crate) fn new(total: usize) -> Self {
        Self {
            done: 0,
            total,
            tty: std::io::stderr().is_terminal(),
        }
    }

    /// No progress line (a single run).
    pub(crate) fn none() -> Self {
        Self {
            done: 0,
            total: 0,
            tty: false,
        }
    }

    pub(crate) fn step(&mut self, what: &str) {
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
pub(crate) struct Bench<'d> {
    pub(crate) dev: &'d dyn DeviceOps,
    pub(crate) progress: Progress,
}

/// Each side's figure per operation, round by round, and its last run.
#[derive(Clone, Debug, Default)]
pub(crate) struct Side {
    pub(crate) per_op: Vec<f64>,
    pub(crate) last: KmemlabBench,
}

impl Bench<'_> {
    /// One run of `spec` (`cache`: the KMEM_CACHE handle); `what` names it
    /// in the progress line and in the error.
    pub(crate) fn run(
        &mut self,
        spec: &Spec,
        cache: u32,
        what: &str,
    ) -> Result<KmemlabBench, String> {
        self.progress.step(what);
        self.dev
            .bench(&spec.request(cache))
            .map_err(|e| format!("{what}: {e}"))
    }

    /// Runs `f` with the cache or pool `spec` needs: for KMEM_CACHE a new
    /// cache of `spec.size`-byte objects, for MEMPOOL a new kmalloc mempool
    /// of `spec.size`-byte elements with [`POOL_MIN`] in reserve, for
    /// DMA_POOL a new DMA pool of `spec.size`-byte blocks for `spec.device`,
    /// destroyed afterwards (also when `f` fails, whose error comes first);
    /// otherwise 0.
    pub(crate) fn with_cache<T>(
        &mut self,
        spec: &Spec,
        f: impl FnOnce(&mut Self, u32) -> Result<T, String>,
    ) -> Result<T, String> {
        if !(spec.is_alloc() && sized_by_owner(spec.kind)) {
            return f(self, 0);
        }
        let name = kind_name(spec.kind);
        let size = u32::try_from(spec.size).map_err(|_| format!("{name}: --size is too big"))?;
        let dev = self.dev;
        let made = match spec.kind {
            KMEMLAB_KIND_MEMPOOL => mempool_create(dev, KMEMLAB_MEMPOOL_KMALLOC, 0, size, POOL_MIN),
            KMEMLAB_KIND_DMA_POOL => {
                let shape = DmaPoolShape {
                    name: &cache_name(),
                    device: spec.device,
                    size,
                    align: 0,
                    boundary: 0,
                };
                dma_pool_create(dev, &shape)
            }
            _ => dev.cache_create(&cache_name(), size, 0, 0),
        };
        let handle = made.map_err(|e| format!("{name} {size}: {e}"))?;
        let out = f(self, handle);
        let destroyed = match spec.kind {
            KMEMLAB_KIND_MEMPOOL => mempool_destroy(dev, handle),
            KMEMLAB_KIND_DMA_POOL => dma_pool_op(dev, KMEMLAB_DMA_POOL_DESTROY, handle).map(|_| ()),
            _ => dev.cache_destroy(handle),
        };
        let out = out?;
        destroyed.map_err(|e| e.to_string())?;
        Ok(out)
    }

    /// Runs `a` and `b` `rounds` times each, interleaved: `a` first in the
    /// even rounds, `b` first in the odd ones, so neither always runs second.
    /// `what` labels the progress line (the side is appended).
    pub(crate) fn paired(
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

/// Checks a benchmark's options before the device is opened.
pub fn validate(b: &BenchCommand) -> Result<()> {
    match b {
        BenchCommand::Run(a) => run_args(a).map(|_| ()),
        BenchCommand::Placements(a) => placement_labels(&a.placements),
        _ => Ok(()),
    }
}

/// Whether the benchmark command `b` needs the device (all but `placements`).
pub fn needs_device(b: &BenchCommand) -> bool {
    !matches!(b, BenchCommand::Placements(_))
}

/// A benchmark command that needs no device (see [`needs_device`]).
pub fn without_device(b: &BenchCommand) -> Result<Output> {
    match b {
        BenchCommand::Placements(a) => placements(&a.placements),
        _ => Err(usage("this command needs the device")),
    }
}

/// `bench run|standard|smoke|stats-cost|placements` (`placements` does not
/// use `dev`).
pub fn bench(dev: &dyn DeviceOps, b: &BenchCommand) -> Result<Output> {
    match b {
        BenchCommand::Placements(a) => placements(&a.placements),
        BenchCommand::Run(a) => Ok(run(dev, &run_args(a)?)?),
        BenchCommand::Standard(a) if a.svg.is_some() && a.scaling == ScalingPart::Only => Err(
            usage("--svg plots the size sweep, which --scaling only does not measure"),
        ),
        BenchCommand::Standard(a) => Ok(standard(dev, &standard_args(a))?),
        BenchCommand::Smoke { iterations } => Ok(smoke(dev, *iterations)?),
        BenchCommand::StatsCost {
            iterations,
            size,
            rounds,
        } => Ok(stats_cost(dev, *iterations, (*size).into(), *rounds)?),
    }
}
