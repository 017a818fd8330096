// SPDX-License-Identifier: GPL-2.0

//! `bench smoke`: tiny runs of everything, each checked.

use super::*;
use crate::names::KIND_FEATURES;

/// What is wrong with result `r` of request `req`, if anything.
pub(crate) fn malformed(req: &KmemlabBench, r: &KmemlabBench) -> Vec<String> {
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
pub(crate) fn smoke_specs(features: u64, nr: u32, iterations: u32) -> Vec<Spec> {
    let mut bases: Vec<Spec> = KIND_FEATURES
        .iter()
        .filter(|(k, _)| unavailable(*k, features).is_none())
        .map(|&(k, _)| {
            let mut s = Spec::alloc(k, 0, 0);
            if k == KMEMLAB_KIND_KMALLOC || sized_by_owner(k) {
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

/// Runs every spec of `specs` (with the cache or pool of `owners`, by
/// kind, their kinds need): each run's line, and the failures.
fn smoke_runs(
    b: &mut Bench<'_>,
    specs: &[Spec],
    owners: &[(u32, u32)],
) -> (Vec<String>, Vec<String>) {
    let (mut lines, mut failed) = (Vec::new(), Vec::new());
    for s in specs {
        let op = if s.is_alloc() { "alloc " } else { "" };
        let what = format!(
            "{op}{} {} threads {} batch {}",
            s.label(),
            s.side(),
            s.threads,
            s.batch
        );
        let handle = owners
            .iter()
            .find(|(kind, _)| *kind == s.kind)
            .map_or(0, |(_, h)| *h);
        let req = s.request(handle);
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
    (lines, failed)
}

/// `bench smoke [--iterations N]`: tiny runs of everything, each checked.
pub(crate) fn smoke(dev: &dyn DeviceOps, iterations: u32) -> Result<Output, String> {
    let v = bench_version(dev)?;
    let specs = smoke_specs(v.features, v.nr_cpus, iterations);
    let mut b = Bench {
        dev,
        progress: Progress::new(specs.len()),
    };
    // One cache for every kmem_cache run, one mempool for every mempool
    // run and one DMA pool for every dma_pool run; none without them.
    let owner = |kind| match specs.iter().find(|s| s.is_alloc() && s.kind == kind) {
        Some(s) => *s,
        None => Spec::counter(KMEMLAB_BENCH_PERCPU_INC),
    };
    let (cache_spec, pool_spec, dma_pool_spec) = (
        owner(KMEMLAB_KIND_KMEM_CACHE),
        owner(KMEMLAB_KIND_MEMPOOL),
        owner(KMEMLAB_KIND_DMA_POOL),
    );
    let (lines, failed) = b.with_cache(&cache_spec, |b, cache| {
        b.with_cache(&pool_spec, |b, pool| {
            b.with_cache(&dma_pool_spec, |b, dma_pool| {
                let owners = [
                    (KMEMLAB_KIND_KMEM_CACHE, cache),
                    (KMEMLAB_KIND_MEMPOOL, pool),
                    (KMEMLAB_KIND_DMA_POOL, dma_pool),
                ];
                Ok(smoke_runs(b, &specs, &owners))
            })
        })
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
            ("benchmark", Value::from("smoke")),
            ("checks", Value::from(n as u64)),
            ("failed", Value::Array(Vec::new())),
        ],
    ))
}
