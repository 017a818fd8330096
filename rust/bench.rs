// SPDX-License-Identifier: GPL-2.0

//! In-kernel benchmarks: allocate+free pairs timed one by one.
//!
//! A run stays on one CPU (migration disabled, sleeping allowed), times
//! each pair with `local_clock()` and keeps a log2 histogram of the times,
//! from which the median and the 99th percentile are read (as the upper
//! bound of their bucket). Objects go through the same abstractions as the
//! ioctl path; their statistics, when kept, go to a slot of their own.

use kernel::prelude::*;

use crate::{
    alloc::percpu::{
        self,
        NoMigrate, //
    },
    object::Request,
    stats,
};

/// The results of a run, in nanoseconds.
pub(crate) struct Run {
    pub(crate) ns_total: u64,
    pub(crate) ns_min: u64,
    pub(crate) ns_median: u64,
    pub(crate) ns_p99: u64,
    pub(crate) cpu: u32,
}

/// Pairs between two looks at the scheduler and at signals.
const RESCHED_EVERY: u32 = 1024;

/// A log2 histogram of times: bucket `i` holds times in `[2^i, 2^(i+1))`
/// (bucket 0 also holds 0).
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

    fn add(&mut self, ns: u64) {
        // CAST: a bucket index is below 64.
        let i = ns.checked_ilog2().unwrap_or(0) as usize;
        self.buckets[i] += 1;
        self.count += 1;
    }

    /// The upper bound of the bucket holding the `per_mille`-th time.
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

/// Times `iterations` allocate+free pairs of `req`, counting statistics
/// (in the scratch slot) when `count`. Stops with the error of the first
/// failed allocation, or `EINTR` when a signal arrives.
pub(crate) fn run(req: &Request, iterations: u32, count: bool) -> Result<Run> {
    let pin = NoMigrate::new();
    let mut hist = Histogram::new();
    let (mut total, mut min) = (0u64, u64::MAX);
    for i in 0..iterations {
        if i % RESCHED_EVERY == RESCHED_EVERY - 1 {
            percpu::cond_resched();
            if kernel::current!().signal_pending() {
                return Err(EINTR);
            }
        }
        let t0 = percpu::local_clock_ns();
        if count {
            let started = stats::start(stats::SCRATCH_KIND);
            let (mem, _) = req.allocate()?;
            let pages = mem.pages();
            stats::created(stats::SCRATCH_KIND, req.bytes(), pages, started);
            drop(mem);
            stats::freed(stats::SCRATCH_KIND, req.bytes(), pages);
        } else {
            drop(req.allocate()?);
        }
        let dt = percpu::local_clock_ns().saturating_sub(t0);
        total = total.saturating_add(dt);
        min = min.min(dt);
        hist.add(dt);
    }
    Ok(Run {
        ns_total: total,
        ns_min: min,
        ns_median: hist.quantile(500),
        ns_p99: hist.quantile(990),
        cpu: pin.cpu(),
    })
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
    }
}
