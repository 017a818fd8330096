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

/// The mempool benchmarks make their own kmalloc mempool, run GFP_ATOMIC
/// on it (the fake refuses other bases and unknown pools, as the module
/// does), and destroy it.
#[test]
fn mempool_benchmarks_on_a_fake_device() {
    let dev = FakeDevice::default();
    let smoke = bench(
        &dev,
        &bench_command("smoke", &["--iterations", "5"]).unwrap(),
    )
    .unwrap();
    assert!(
        smoke
            .text
            .contains("\nok    alloc mempool 64 C threads 2 batch 8: "),
        "{}",
        smoke.text
    );
    assert_eq!((dev.caches(), dev.pools()), (0, 0));

    let std = bench(&dev, &bench_command("standard", &["--quick"]).unwrap()).unwrap();
    let pool = std.json["rust_vs_c"]
        .as_array()
        .unwrap()
        .iter()
        .find(|k| k["kind"] == "mempool")
        .cloned()
        .unwrap_or_default();
    assert_eq!(pool["points"][0]["bytes"], 64, "{}", std.json["rust_vs_c"]);
    let row: Vec<&str> = std
        .text
        .lines()
        .find(|l| l.starts_with("mempool "))
        .map(|l| l.split_whitespace().take(2).collect())
        .unwrap_or_default();
    assert_eq!(row, ["mempool", "64"], "{}", std.text);
    assert!(
        std.text.contains("\nrust/C mempool: worst "),
        "{}",
        std.text
    );
    assert_eq!(dev.pools(), 0);

    let mp = bench(
        &dev,
        &bench_command("run", &["--kind", "mempool", "--size", "128"]).unwrap(),
    )
    .unwrap();
    assert_eq!(
        (mp.json["kind"].clone(), mp.json["size"].clone()),
        ("mempool".into(), 128.into())
    );
    assert!(
        mp.text.starts_with("mempool 128: alloc+free pairs"),
        "{}",
        mp.text
    );
    // Every run made its pool and destroyed it.
    let calls = dev.calls();
    let count = |c: &str| calls.iter().filter(|x| **x == c).count();
    assert!(count("mempool create") >= 3, "{calls:?}");
    assert_eq!(count("mempool create"), count("mempool destroy"));
    assert_eq!((dev.live(), dev.pools()), (0, 0));

    // Without mempools in the module: refused by name, nothing created.
    let old = FakeDevice::new(ALL_FEATURES & !KMEMLAB_FEAT_MEMPOOL, default_limits());
    let e = bench(&old, &bench_command("run", &["--kind", "mempool"]).unwrap()).unwrap_err();
    assert!(
        e.to_string().contains("no 'mempool' in its features"),
        "{e}"
    );
    assert!(!old.calls().contains(&"mempool create"));
}
