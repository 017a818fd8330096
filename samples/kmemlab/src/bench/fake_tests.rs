// SPDX-License-Identifier: GPL-2.0

//! Tests of the benchmarks on the fake device.

use super::tests::bench_command;
use super::*;
use crate::device::fake::{default_limits, FakeDevice, ALL_FEATURES};

/// The benchmarks against the fake device: every request well-formed, every
/// cache destroyed, and the reports complete.
#[test]
fn benchmarks_on_a_fake_device() {
    let dev = FakeDevice::default();
    let smoke = bench(
        &dev,
        &bench_command("smoke", &["--iterations", "5"]).unwrap(),
    )
    .unwrap();
    assert!(
        smoke.text.ends_with("checks, all well-formed"),
        "{}",
        smoke.text
    );
    assert_eq!(dev.caches(), 0);

    let run = bench(
        &dev,
        &bench_command("run", &["--kind", "kmem_cache", "--iterations", "100"]).unwrap(),
    )
    .unwrap();
    assert_eq!(run.json["benchmark"], "run");
    assert_eq!(run.json["kind"], "kmem_cache");
    assert!(
        run.json["ns_per_op"].as_f64().is_some_and(|x| x > 0.0),
        "{}",
        run.json
    );
    assert_eq!(dev.caches(), 0);

    let cost = bench(
        &dev,
        &bench_command("stats-cost", &["--iterations", "100", "--rounds", "3"]).unwrap(),
    )
    .unwrap();
    // The fake charges statistics 4 ns of 105: a ratio above 1.
    assert!(
        cost.json["ratio"].as_f64().is_some_and(|r| r > 1.0),
        "{}",
        cost.json
    );

    let std = bench(&dev, &bench_command("standard", &["--quick"]).unwrap()).unwrap();
    for key in ["rust_vs_c", "batch", "scaling", "summary"] {
        assert!(!std.json[key].as_array().unwrap().is_empty(), "{key}");
    }
    // The fake has no edu: ioremap is skipped with its reason.
    assert_eq!(std.json["skipped"][0]["kind"], "ioremap");
    // kvmalloc is swept like every allocator the module has.
    assert!(
        std.json["rust_vs_c"]
            .as_array()
            .unwrap()
            .iter()
            .any(|k| k["kind"] == "kvmalloc"),
        "{}",
        std.json["rust_vs_c"]
    );
    let kv = bench(
        &dev,
        &bench_command("run", &["--kind", "kvmalloc", "--iterations", "10"]).unwrap(),
    )
    .unwrap();
    assert_eq!(
        (kv.json["kind"].clone(), kv.json["size"].clone()),
        ("kvmalloc".into(), 4096.into())
    );
    assert_eq!((dev.live(), dev.caches()), (0, 0));

    // A module without the in-kernel benchmark.
    let old = FakeDevice::new(ALL_FEATURES & !KMEMLAB_FEAT_BENCH, default_limits());
    let e = bench(&old, &bench_command("smoke", &[]).unwrap()).unwrap_err();
    assert!(e.to_string().contains("no in-kernel benchmark"), "{e}");

    // A module whose LIMITS fails: the standard run says so, no guessing.
    let failing = FakeDevice::new(ALL_FEATURES, default_limits()).failing_limits();
    let e = bench(&failing, &bench_command("standard", &["--quick"]).unwrap()).unwrap_err();
    assert!(
        e.to_string().starts_with("reading the module's limits: "),
        "{e}"
    );
}

/// The benchmarks of `kind`, whose objects come from a pool each
/// benchmark makes (by the fake's name of the ioctl, `pool` create and
/// destroy), on `dev`: smoke has `smoke_line`; the standard set sweeps
/// 64-byte objects and judges them against the Rust/C target; every pool
/// made is destroyed. Returns the output of `bench run` with `run_args`.
fn pool_benchmarks(
    dev: &FakeDevice,
    kind: &str,
    pool: &str,
    smoke_line: &str,
    run_args: &[&str],
) -> Output {
    let smoke = bench(
        dev,
        &bench_command("smoke", &["--iterations", "5"]).unwrap(),
    )
    .unwrap();
    assert!(smoke.text.contains(smoke_line), "{}", smoke.text);
    let std = bench(dev, &bench_command("standard", &["--quick"]).unwrap()).unwrap();
    let find = |key: &str, field: &str, value: &str| {
        std.json[key]
            .as_array()
            .unwrap()
            .iter()
            .find(|k| k[field] == value)
            .cloned()
            .unwrap_or_default()
    };
    let row = find("rust_vs_c", "kind", kind);
    assert_eq!(row["points"][0]["bytes"], 64, "{}", std.json["rust_vs_c"]);
    let check = find("summary", "check", &format!("rust/C {kind}"));
    assert_eq!(check["met"], true, "{}", std.json["summary"]);
    let line: Vec<&str> = std
        .text
        .lines()
        .find(|l| l.starts_with(&format!("{kind} ")))
        .map(|l| l.split_whitespace().take(2).collect())
        .unwrap_or_default();
    assert_eq!(line, [kind, "64"], "{}", std.text);
    assert!(
        std.text.contains(&format!("\nrust/C {kind}: worst ")),
        "{}",
        std.text
    );
    let run = bench(dev, &bench_command("run", run_args).unwrap()).unwrap();
    assert_eq!(run.json["kind"], kind);
    // Every run made its pool and destroyed it.
    let calls = dev.calls();
    let count = |c: String| calls.iter().filter(|x| **x == c).count();
    let made = count(format!("{pool} create"));
    assert!(made >= 3, "{calls:?}");
    assert_eq!(made, count(format!("{pool} destroy")));
    assert_eq!(dev.live(), 0);
    run
}

/// Without the feature of `kind` in the module: a run is refused by name,
/// and no pool is made.
fn refused_without(feature: u64, kind: &str, pool: &str) {
    let old = FakeDevice::new(ALL_FEATURES & !feature, default_limits());
    let e = bench(&old, &bench_command("run", &["--kind", kind]).unwrap()).unwrap_err();
    assert!(
        e.to_string()
            .contains(&format!("no '{kind}' in its features")),
        "{e}"
    );
    assert!(!old.calls().iter().any(|c| c.starts_with(pool)));
}

/// The mempool benchmarks make their own kmalloc mempool, run GFP_ATOMIC
/// on it (the fake refuses other bases and unknown pools, as the module
/// does), and destroy it.
#[test]
fn mempool_benchmarks_on_a_fake_device() {
    let dev = FakeDevice::default();
    let mp = pool_benchmarks(
        &dev,
        "mempool",
        "mempool",
        "\nok    alloc mempool 64 C threads 2 batch 8: ",
        &["--kind", "mempool", "--size", "128"],
    );
    assert_eq!(mp.json["size"], 128);
    assert!(
        mp.text.starts_with("mempool 128: alloc+free pairs"),
        "{}",
        mp.text
    );
    assert_eq!((dev.caches(), dev.pools()), (0, 0));
    refused_without(KMEMLAB_FEAT_MEMPOOL, "mempool", "mempool");
}

/// The DMA pool benchmarks make their own pool of 64-byte blocks for the
/// faux device (for edu with --dma-device edu, when it is bound), and
/// destroy it; the standard set has a dma_pool row judged against the
/// Rust/C target like the others, skipped without the feature.
#[test]
fn dma_pool_benchmarks_on_a_fake_device() {
    let dev = FakeDevice::default();
    let run = pool_benchmarks(
        &dev,
        "dma_pool",
        "dma-pool",
        "\nok    alloc dma_pool 64 faux rust threads 2 batch 8: ",
        &["--kind", "dma_pool", "--size", "256", "--raw-c"],
    );
    assert_eq!(
        (run.json["size"].clone(), run.json["device"].clone()),
        (256.into(), "faux".into())
    );
    assert_eq!(run.json["impl"], "c");
    assert!(
        run.text
            .starts_with("dma_pool 256 faux: alloc+free pairs, raw C"),
        "{}",
        run.text
    );
    assert_eq!(dev.dma_pools(), 0);

    // A pool for edu needs edu bound.
    let edu_run = bench_command("run", &["--kind", "dma_pool", "--dma-device", "edu"]).unwrap();
    let e = bench(&dev, &edu_run).unwrap_err();
    assert!(e.to_string().contains("edu device is not bound"), "{e}");
    let edu = FakeDevice::new(ALL_FEATURES, default_limits());
    assert_eq!(bench(&edu, &edu_run).unwrap().json["device"], "edu");
    assert_eq!(edu.dma_pools(), 0);

    // Without DMA pools in the module: skipped in the standard set, refused
    // by name in a run.
    let old = FakeDevice::new(ALL_FEATURES & !KMEMLAB_FEAT_DMA_POOL, default_limits());
    let std = bench(&old, &bench_command("standard", &["--quick"]).unwrap()).unwrap();
    assert!(
        std.json["skipped"]
            .as_array()
            .unwrap()
            .iter()
            .any(|s| s["kind"] == "dma_pool"),
        "{}",
        std.json["skipped"]
    );
    refused_without(KMEMLAB_FEAT_DMA_POOL, "dma_pool", "dma-pool");
}
