// SPDX-License-Identifier: GPL-2.0

//! Tests of the benchmarks.

use super::*;
use crate::cli::{Cli, Command};

/// Parses `bench SUB WORDS...` with the tool's definition.
pub(super) fn bench_command(sub: &str, words: &[&str]) -> Result<BenchCommand> {
    let head = ["kmemlab", "bench", sub];
    let argv = head.iter().chain(words.iter()).copied();
    match crate::cli::parse(argv) {
        Ok(Cli {
            command: Command::Bench(b),
            ..
        }) => Ok(b),
        Ok(other) => panic!("{other:?}"),
        Err(e) => Err(usage(e.to_string())),
    }
}

fn parse_standard(words: &[&str]) -> Result<StandardArgs> {
    match bench_command("standard", words)? {
        BenchCommand::Standard(a) => Ok(standard_args(&a)),
        other => panic!("{other:?}"),
    }
}

fn parse_run(words: &[&str]) -> Result<RunArgs> {
    match bench_command("run", words)? {
        BenchCommand::Run(a) => run_args(&a),
        other => panic!("{other:?}"),
    }
}

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
fn mappings_take_at_least_the_samples_asked_for() {
    let map = |size| Spec::alloc(KMEMLAB_KIND_IOREMAP, size, 0);
    let buf = Spec::alloc(KMEMLAB_KIND_KMALLOC, 1 << 20, 0);
    assert_eq!(point_iterations(20_000, &map(1 << 20), 4096), 20_000);
    assert_eq!(point_iterations(20_000, &map(64 << 10), 4096), 20_000);
    // Small mappings take more, to span many of iounmap's lazy purges.
    assert_eq!(point_iterations(20_000, &map(4096), 4096), 100_000);
    assert_eq!(point_iterations(u32::MAX, &map(4096), 4096), u32::MAX);
    assert_eq!(point_iterations(20_000, &buf, 4096), MIN_ITERATIONS);
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
    assert_eq!(r.gfp, KMEMLAB_GFP_KERNEL);
    // A mempool: its handle in cache, no size (the pool's), GFP_ATOMIC.
    let r = Spec::alloc(KMEMLAB_KIND_MEMPOOL, 64, 0).request(4);
    assert_eq!(
        (r.kind, r.cache, r.size, r.order, r.node),
        (KMEMLAB_KIND_MEMPOOL, 4, 0, 0, KMEMLAB_NODE_ANY)
    );
    assert_eq!(r.gfp, KMEMLAB_GFP_ATOMIC);
    // A DMA pool: its handle in cache (not the device: the pool's), no
    // size, GFP_KERNEL.
    let r = Spec::alloc(KMEMLAB_KIND_DMA_POOL, 64, 0).request(6);
    assert_eq!(
        (r.kind, r.cache, r.size, r.order, r.node),
        (KMEMLAB_KIND_DMA_POOL, 6, 0, 0, KMEMLAB_NODE_ANY)
    );
    assert_eq!(r.gfp, KMEMLAB_GFP_KERNEL);
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
    // kvmalloc from slab through kmalloc's pages to vmalloc.
    assert_eq!(
        bytes(KMEMLAB_KIND_KVMALLOC),
        [64, 4096, 65536, 1 << 20, 8 << 20]
    );
    let r = sweep(KMEMLAB_KIND_KVMALLOC)[4].request(0);
    assert_eq!(
        (r.kind, r.size, r.order, r.cache),
        (KMEMLAB_KIND_KVMALLOC, 8 << 20, 0, 0)
    );
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
    let all = (1u64 << 12) - 1;
    let args = parse_standard(&["--quick"]).unwrap();
    let plan = Plan::new(&args, all & !KMEMLAB_FEAT_EDU, None, 4, 4096);
    assert_eq!(plan.skipped.len(), 1);
    assert_eq!(plan.skipped[0].0, KMEMLAB_KIND_IOREMAP);
    assert!(plan.skipped[0].1.contains("edu"));
    assert!(plan
        .sweeps
        .iter()
        .all(|(_, p)| p.len() <= QUICK_POINTS && !p.is_empty()));
    assert_eq!(plan.threads, vec![1, 2, 3, 4]);
    assert_eq!(plan.scaling.len(), 3);
    // 10 kinds, 17 points (percpu, mempool and dma_pool have one), two
    // sides; 4 batch runs, two sides; 3 series x 4 thread counts; 4 ioctl
    // steps; 2 stats-cost runs.
    assert_eq!(plan.steps(1), 2 * 17 + 2 * 4 + 12 + 4 + 2);
    // The points of `kind`.
    let points = |kind| -> Vec<Spec> {
        let found = plan.sweeps.iter().find(|(k, _)| *k == kind);
        found.map(|(_, p)| p.clone()).unwrap_or_default()
    };
    // The mempool row: 64-byte elements, GFP_ATOMIC.
    let pool = points(KMEMLAB_KIND_MEMPOOL);
    assert_eq!(pool.len(), 1);
    assert_eq!((pool[0].size, pool[0].stats), (SMALL, false));
    assert_eq!(pool[0].request(7).gfp, KMEMLAB_GFP_ATOMIC);
    // The DMA pool row: 64-byte blocks of a pool for the faux device.
    let dma_pool = points(KMEMLAB_KIND_DMA_POOL);
    assert_eq!(dma_pool.len(), 1);
    let s = dma_pool[0];
    assert_eq!(
        (s.size, s.device, s.stats),
        (SMALL, KMEMLAB_DEV_FAUX, false)
    );
    let r = s.request(8);
    assert_eq!((r.cache, r.size, r.gfp), (8, 0, KMEMLAB_GFP_KERNEL));
    // A module without DMA pools: skipped, with its reason.
    let plan = Plan::new(&args, all & !KMEMLAB_FEAT_DMA_POOL, None, 4, 4096);
    let skipped: Vec<u32> = plan.skipped.iter().map(|(k, _)| *k).collect();
    assert_eq!(skipped, [KMEMLAB_KIND_DMA_POOL]);
    assert!(plan.skipped[0].1.contains("no 'dma_pool'"));
    // A module without mempools: skipped, with its reason.
    let plan = Plan::new(&args, all & !KMEMLAB_FEAT_MEMPOOL, None, 4, 4096);
    let skipped: Vec<u32> = plan.skipped.iter().map(|(k, _)| *k).collect();
    assert_eq!(skipped, [KMEMLAB_KIND_MEMPOOL]);
    assert!(plan.skipped[0].1.contains("no 'mempool'"));
    // A module without kvmalloc: skipped, with its reason.
    let plan = Plan::new(&args, all & !KMEMLAB_FEAT_KVMALLOC, None, 4, 4096);
    let skipped: Vec<u32> = plan.skipped.iter().map(|(k, _)| *k).collect();
    assert_eq!(skipped, [KMEMLAB_KIND_KVMALLOC]);
    assert!(
        plan.skipped[0].1.contains("no 'kvmalloc'"),
        "{}",
        plan.skipped[0].1
    );

    let full = parse_standard(&[]).unwrap();
    let plan = Plan::new(&full, all, None, 1, 4096);
    assert!(plan.skipped.is_empty());
    let kmalloc = &plan.sweeps[0].1;
    assert_eq!(kmalloc.len(), 7);
    assert_eq!(kmalloc.last().unwrap().iterations, MIN_ITERATIONS);
    assert_eq!(kmalloc[0].iterations, STANDARD_ITERATIONS);

    let plan = Plan::new(&full, KMEMLAB_FEAT_PERCPU, None, 2, 4096);
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
    let a = parse_run(&["--kind", "dma", "--dma-device", "edu"]).unwrap();
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
    // A mempool's element size: 64 bytes unless --size says otherwise.
    let a = parse_run(&["--kind", "mempool"]).unwrap();
    assert_eq!((a.spec.kind, a.spec.size), (KMEMLAB_KIND_MEMPOOL, SMALL));
    assert_eq!(a.spec.label(), "mempool 64");
    let a = parse_run(&["--kind", "mempool", "--size", "1k", "--batch", "8"]).unwrap();
    assert_eq!((a.spec.size, a.spec.batch), (1024, 8));
    let e = parse_run(&["--kind", "mempool", "--size", "8g"]).unwrap_err();
    assert!(e.to_string().contains("too big for mempool"), "{e}");
    let e = parse_run(&["--kind", "mempool", "--order", "1"]).unwrap_err();
    assert!(e.to_string().contains("not mempool"), "{e}");
    // A DMA pool's block size: 64 bytes unless --size says otherwise; the
    // pool for faux unless --dma-device says otherwise.
    let a = parse_run(&["--kind", "dma_pool"]).unwrap();
    assert_eq!(
        (a.spec.kind, a.spec.size, a.spec.device),
        (KMEMLAB_KIND_DMA_POOL, SMALL, KMEMLAB_DEV_FAUX)
    );
    assert_eq!(a.spec.label(), "dma_pool 64 faux");
    let a = parse_run(&["--kind", "dma_pool", "--size", "512", "--dma-device", "edu"]).unwrap();
    assert_eq!((a.spec.size, a.spec.device), (512, KMEMLAB_DEV_EDU));
    let e = parse_run(&["--kind", "dma_pool", "--size", "8g"]).unwrap_err();
    assert!(e.to_string().contains("too big for dma_pool"), "{e}");
    let e = parse_run(&["--kind", "kmalloc", "--dma-device", "edu"]).unwrap_err();
    assert!(
        e.to_string()
            .starts_with("--dma-device is for dma_coherent and dma_pool, not kmalloc"),
        "{e}"
    );
    assert!(parse_run(&["--op", "atomic-inc", "--kind", "kmalloc"]).is_err());
    assert!(parse_run(&["--op", "inc"])
        .unwrap_err()
        .to_string()
        .contains("percpu-inc"));
    assert!(parse_run(&["--kind", "percpu", "--size", "8"]).is_err());
    assert!(parse_run(&["--kind", "kmalloc", "--order", "1"]).is_err());
    assert!(parse_run(&["--dma-device", "faux"]).is_err());
    // kvmalloc takes a size, 4096 by default, and no order.
    let a = parse_run(&["--kind", "kvmalloc"]).unwrap();
    assert_eq!((a.spec.kind, a.spec.size), (KMEMLAB_KIND_KVMALLOC, 4096));
    let a = parse_run(&["--kind", "kvmalloc", "--size", "8m", "--node", "0"]).unwrap();
    assert_eq!((a.spec.size, a.spec.node), (8 << 20, 0));
    assert_eq!(a.spec.label(), "kvmalloc 8388608 node 0");
    let e = parse_run(&["--kind", "kvmalloc", "--order", "1"]).unwrap_err();
    assert!(e.to_string().contains("not kvmalloc"), "{e}");
    let e = parse_run(&["--kind", "percpu", "--size", "8"]).unwrap_err();
    assert!(
        e.to_string().contains("vmalloc, kvmalloc, dma_coherent"),
        "{e}"
    );
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

    let all = (1u64 << 12) - 1;
    let specs = smoke_specs(all, 4, 50);
    // 11 kinds and 2 counters, x2 sides x2 thread modes x2 batches.
    assert_eq!(specs.len(), 13 * 8);
    assert!(specs
        .iter()
        .any(|s| s.threads == 4 && s.raw_c && s.batch == 8));
    assert!(specs
        .iter()
        .filter(|s| s.kind == KMEMLAB_KIND_KVMALLOC)
        .all(|s| s.size == 4096));
    // Mempool runs: 64-byte elements of the pool, GFP_ATOMIC.
    let pool: Vec<&Spec> = specs
        .iter()
        .filter(|s| s.kind == KMEMLAB_KIND_MEMPOOL)
        .collect();
    assert_eq!(pool.len(), 8);
    assert!(pool.iter().all(|s| s.size == SMALL));
    let specs = smoke_specs(all & !KMEMLAB_FEAT_EDU, 1, 50);
    assert_eq!(specs.len(), 12 * 8);
    assert!(specs.iter().all(|s| s.kind != KMEMLAB_KIND_IOREMAP));
    let specs = smoke_specs(all & !KMEMLAB_FEAT_KVMALLOC, 1, 50);
    assert_eq!(specs.len(), 12 * 8);
    assert!(specs.iter().all(|s| s.kind != KMEMLAB_KIND_KVMALLOC));
    let specs = smoke_specs(all & !KMEMLAB_FEAT_MEMPOOL, 1, 50);
    assert_eq!(specs.len(), 12 * 8);
    assert!(specs.iter().all(|s| s.kind != KMEMLAB_KIND_MEMPOOL));
    // DMA pool runs: 64-byte blocks of a pool for the faux device.
    let blocks = smoke_specs(all, 1, 50)
        .into_iter()
        .filter(|s| s.kind == KMEMLAB_KIND_DMA_POOL)
        .collect::<Vec<_>>();
    assert_eq!(blocks.len(), 8);
    assert!(blocks
        .iter()
        .all(|s| s.size == SMALL && s.device == KMEMLAB_DEV_FAUX));
    let specs = smoke_specs(all & !KMEMLAB_FEAT_DMA_POOL, 1, 50);
    assert_eq!(specs.len(), 12 * 8);
    assert!(specs.iter().all(|s| s.kind != KMEMLAB_KIND_DMA_POOL));
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
        ioctl: Some(IoctlPath {
            single_calls: 200,
            batch_calls: 3,
            kernel_iterations: 200,
            kernel_batch_iterations: 3,
            user_single: st(900.0),
            user_batch: st(130.0),
            kernel_single: st(100.0),
            kernel_batch: st(100.0),
        }),
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
fn scaling_can_be_skipped_or_measured_alone() {
    let all = (1u64 << 12) - 1;
    let args = parse_standard(&["--quick", "--scaling", "skip"]).unwrap();
    let plan = Plan::new(&args, all, None, 4, 4096);
    assert!(plan.scaling.is_empty() && plan.ioctl && plan.stats_cost);
    assert!(!plan.sweeps.is_empty() && !plan.batch_kinds.is_empty());
    let args = parse_standard(&["--quick", "--scaling", "only"]).unwrap();
    let plan = Plan::new(&args, all, None, 4, 4096);
    assert_eq!(plan.scaling.len(), 3);
    assert!(plan.sweeps.is_empty() && plan.batch_kinds.is_empty());
    assert!(!plan.ioctl && !plan.stats_cost);
    // 3 series x 4 thread counts, nothing else.
    assert_eq!(plan.steps(1), 12);
    assert!(parse_standard(&["--scaling", "some"]).is_err());

    // The report of each part has its sections and verdicts only.
    let mut s = standard_fixture();
    s.scaling.clear();
    let text = standard_text(&s);
    assert!(
        !text.contains("3. Scaling") && !text.contains("\nscaling:"),
        "{text}"
    );
    assert!(text.contains("1. Safe Rust") && text.contains("4. The ioctl path"));
    let mut s = standard_fixture();
    s.args.scaling = ScalingPart::Only;
    (s.sweeps, s.skipped, s.batches) = (Vec::new(), Vec::new(), Vec::new());
    (s.ioctl, s.stats_cost) = (None, None);
    let text = standard_text(&s);
    for absent in [
        "1. Safe Rust",
        "2. Batch",
        "4. The ioctl",
        "5. Statistics",
        "rust/C",
        "ioctl batch-64",
    ] {
        assert!(!text.contains(absent), "'{absent}' in:\n{text}");
    }
    assert!(
        text.contains("3. Scaling") && text.contains("\nscaling: percpu-inc grows"),
        "{text}"
    );
    let first = text.lines().next().unwrap_or_default();
    assert!(
        first.contains(" --scaling only: ") && !text.contains("ns/op ="),
        "{text}"
    );
    let json = crate::output::fields_json(&standard_fields(&s));
    let v: Value = serde_json::from_str(&json.to_string()).unwrap();
    assert!(v["ioctl"].is_null() && v["stats_cost"].is_null());
    assert_eq!(v["summary"].as_array().unwrap().len(), 1);
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
    let json = crate::output::fields_json(&standard_fields(&s));
    let v: Value = serde_json::from_str(&json.to_string()).unwrap();
    assert_eq!(v["benchmark"], "standard");
    for key in ["rust_vs_c", "skipped", "batch", "scaling", "summary"] {
        assert!(!v[key].as_array().unwrap().is_empty(), "{key}");
    }
    let p = &v["rust_vs_c"][0]["points"][1];
    assert_eq!(p["ratio"], 1.02);
    assert_eq!(p["rust_ns_per_op"], 102.0);
    assert_eq!(v["ioctl"]["ratio_batch"], 1.3);
    assert_eq!(v["stats_cost"]["ratio_median"], 1.04);
    let pts = &v["scaling"][0]["points"];
    assert_eq!(pts[1]["ops_per_sec"], 200_000_000);
    assert_eq!(pts[1]["speedup"], 2.0);

    let svg = standard_svg(&s);
    assert!(svg.starts_with("<svg") && svg.contains("QEMU &lt;TCG&gt; &amp; co"));
    assert_eq!(svg.matches("<path").count(), 2);
}

#[test]
fn stats_cost_keeps_its_fields() {
    let s = standard_fixture().stats_cost.unwrap();
    let json = crate::output::fields_json(&stats_cost_fields(&s)).to_string();
    for key in [
        "\"benchmark\":\"stats-cost\"",
        "\"ns_per_pair_on\":93.6",
        "\"ratio\":1.04,",
        "\"ratio_median\":1.04,",
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
    assert!(ops_per_sec(&KmemlabBench::default()).is_nan());
    assert_eq!(jround(ops_per_sec(&KmemlabBench::default())), Value::Null);
    assert_eq!(jround(f64::NAN), Value::Null);
    assert_eq!(jround(-3.0), Value::from(0));
    assert_eq!(jround(2.5), Value::from(3));
    assert_eq!(rate_text(8.1e6), "8.10 M ops/s");
    assert_eq!(rate_text(512.0), "512 ops/s");
    assert_eq!(ns_text(1.234), "1.23");
    assert_eq!(ns_text(123.45), "123.5");
}

#[test]
fn the_standard_plan_keeps_to_the_module_limits() {
    let args = parse_standard(&[]).unwrap();
    let small = KmemlabLimits {
        kmalloc_max: 64 << 10,
        max_order: 2,
        ..crate::device::fake::default_limits()
    };
    let plan = Plan::new(
        &args,
        crate::device::fake::ALL_FEATURES,
        Some(&small),
        2,
        4096,
    );
    let points = |kind| {
        plan.sweeps
            .iter()
            .find(|(k, _)| *k == kind)
            .map(|(_, p)| p.clone())
            .unwrap()
    };
    assert!(points(KMEMLAB_KIND_KMALLOC)
        .iter()
        .all(|s| s.size <= 64 << 10));
    assert_eq!(points(KMEMLAB_KIND_FREE_PAGES).len(), 3);
    // Every kvmalloc point fits INT_MAX; a smaller limit drops the largest.
    assert_eq!(points(KMEMLAB_KIND_KVMALLOC).len(), 5);
    let tiny = KmemlabLimits {
        kvmalloc_max: 1 << 20,
        ..small
    };
    let plan = Plan::new(
        &args,
        crate::device::fake::ALL_FEATURES,
        Some(&tiny),
        2,
        4096,
    );
    let kv = plan
        .sweeps
        .iter()
        .find(|(k, _)| *k == KMEMLAB_KIND_KVMALLOC)
        .map(|(_, p)| p.iter().map(|s| s.size).collect::<Vec<_>>());
    assert_eq!(kv, Some(vec![64, 4096, 65536, 1 << 20]));
}

#[test]
fn medians_across_placements() {
    // Odd counts: the middle value; even: the mean of the two middle ones.
    assert_eq!(
        medians(&[vec![1.0, 5.0], vec![3.0, 4.0], vec![2.0, 9.0]]),
        [2.0, 5.0]
    );
    assert_eq!(
        medians(&[
            vec![1.0, 4.0],
            vec![3.0, 2.0],
            vec![8.0, 1.0],
            vec![2.0, 3.0]
        ]),
        [2.5, 2.5]
    );
    assert_eq!(medians(&[vec![1.5], vec![2.5]]), [2.0]);
    assert!(medians(&[]).is_empty());
}

#[test]
fn placements_need_two_distinct_labels() {
    let p = |label: &str| crate::cli::Placement {
        label: label.into(),
        file: "x.json".into(),
    };
    assert!(placement_labels(&[p("0"), p("832")]).is_ok());
    for bad in [vec![p("0")], vec![p("0"), p("0")], vec![]] {
        assert_eq!(placement_labels(&bad).unwrap_err().exit_code(), 2);
    }
}
