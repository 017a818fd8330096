// SPDX-License-Identifier: GPL-2.0

//! `bench run`: one run, as asked.

use super::*;
use crate::cli::{BenchOp, BenchRunArgs, Threads};

/// `bench run` options, checked; `threads_all` stands for `--threads all`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct RunArgs {
    pub(crate) spec: Spec,
    pub(crate) threads_all: bool,
}

/// `bench run`'s options, checked against each other.
pub(crate) fn run_args(a: &BenchRunArgs) -> Result<RunArgs> {
    let op = match a.op {
        BenchOp::Alloc => KMEMLAB_BENCH_ALLOC_FREE,
        BenchOp::PercpuInc => KMEMLAB_BENCH_PERCPU_INC,
        BenchOp::AtomicInc => KMEMLAB_BENCH_ATOMIC_INC,
    };
    let (size, order, node, device) = (a.size, a.order, a.node, a.dma_device);
    let mut spec = Spec {
        iterations: a.iterations,
        raw_c: a.raw_c,
        stats: !a.no_stats,
        ..Spec::alloc(0, 0, 0)
    };
    let threads_all = a.threads == Some(Threads::All);
    if let Some(Threads::Count(n)) = a.threads {
        spec.threads = n;
    }
    let batch = a.batch;
    if op != KMEMLAB_BENCH_ALLOC_FREE {
        if a.kind.is_some()
            || size.is_some()
            || order.is_some()
            || node.is_some()
            || device.is_some()
        {
            return Err(usage(format!(
                "--kind, --size, --order, --node and --dma-device are for --op alloc, not {}",
                op_name(op)
            )));
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
    let kind = a.kind.unwrap_or(KMEMLAB_KIND_KMALLOC);
    let name = kind_name(kind);
    spec = Spec {
        op,
        kind,
        device: Spec::alloc(kind, 0, 0).device,
        batch: batch.unwrap_or(1),
        ..spec
    };
    match size {
        Some(_) if !takes_size(kind) && !sized_by_owner(kind) => {
            return Err(usage(format!(
                "--size is for kmalloc, kmem_cache, mempool, dma_pool, vmalloc, kvmalloc, dma_coherent and ioremap, not {name}"
            )))
        }
        // A cache's object size, a mempool's element size and a DMA
        // pool's block size are u32s.
        Some(s) if sized_by_owner(kind) && u32::try_from(s).is_err() => {
            return Err(usage(format!(
                "--size {s} is too big for {name} (at most {} bytes)",
                u32::MAX
            )))
        }
        Some(s) => spec.size = s,
        None if kind == KMEMLAB_KIND_KMALLOC || sized_by_owner(kind) => spec.size = SMALL,
        None if takes_size(kind) => spec.size = 4096,
        None => {}
    }
    match order {
        Some(_) if !takes_order(kind) => {
            return Err(usage(format!(
                "--order is for free_pages and pages_node, not {name}"
            )))
        }
        Some(n) => spec.order = n,
        None => {}
    }
    match device {
        Some(_) if !takes_device(kind) => {
            return Err(usage(format!(
                "--dma-device is for dma_coherent and dma_pool, not {name}"
            )))
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
pub(crate) fn spec_fields(s: &Spec) -> Vec<(&'static str, Value)> {
    let alloc = s.is_alloc();
    let kind = if alloc {
        Value::from(kind_name(s.kind))
    } else {
        Value::Null
    };
    let device = if alloc && takes_device(s.kind) {
        Value::from(device_name(s.device))
    } else {
        Value::Null
    };
    vec![
        ("op", Value::from(op_name(s.op))),
        ("kind", kind),
        ("size", Value::from(s.size)),
        ("order", Value::from(s.order)),
        ("node", Value::from(s.node)),
        ("device", device),
        ("impl", Value::from(s.side().to_lowercase())),
        ("stats", Value::Bool(s.stats)),
        ("iterations", Value::from(s.iterations)),
        ("batch", Value::from(s.batch)),
        ("threads", Value::from(s.threads)),
    ]
}

/// `bench run`: one run, as asked.
pub(crate) fn run(dev: &dyn DeviceOps, args: &RunArgs) -> Result<Output, String> {
    let RunArgs {
        mut spec,
        threads_all,
    } = *args;
    let v = bench_version(dev)?;
    if let Some(why) = spec
        .is_alloc()
        .then(|| unavailable(spec.kind, v.features))
        .flatten()
    {
        return Err(format!("bench run {}: {why}", kind_name(spec.kind)));
    }
    if spec.is_alloc()
        && takes_device(spec.kind)
        && spec.device == KMEMLAB_DEV_EDU
        && v.features & KMEMLAB_FEAT_EDU == 0
    {
        return Err(format!(
            "bench run {} --dma-device edu: the edu device is not bound (no 'edu' in the module's features)",
            kind_name(spec.kind)
        ));
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
    let mut fields = vec![("benchmark", Value::from("run"))];
    fields.extend(spec_fields(&spec));
    fields.extend([
        ("ns_per_op", json_fixed(ns, 3)),
        ("cycles_per_op", json_fixed(cycles, 3)),
        ("ops_per_sec", jround(rate)),
        ("result", run_fields(&r)),
    ]);
    Ok(Output::new(text, &fields))
}
