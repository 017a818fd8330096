// SPDX-License-Identifier: GPL-2.0

//! `kmemlab bench`: in-kernel allocation benchmarks (`KMEMLAB_IOC_BENCH`).

use crate::commands::{number, Output, Words};
use crate::device::Device;
use crate::json::Value;
use crate::uapi::*;

/// Default pairs per run.
const ITERATIONS: u32 = 100_000;
/// Runs with and without counting, interleaved.
const ROUNDS: usize = 9;

/// The median of `v` (sorted in place).
fn median(v: &mut [f64]) -> f64 {
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

/// Nanoseconds per pair of a run.
fn per_pair(r: &KmemlabBench) -> f64 {
    r.ns_total as f64 / f64::from(r.iterations.max(1))
}

/// Options shared by the bench commands.
struct Opts {
    iterations: u32,
    size: u64,
}

fn opts(w: &mut Words<'_>) -> Result<Opts, String> {
    let mut o = Opts {
        iterations: ITERATIONS,
        size: 64,
    };
    while let Some(opt) = w.next() {
        match opt {
            "--iterations" => {
                let n = number(w.value(opt)?)?;
                o.iterations = u32::try_from(n)
                    .ok()
                    .filter(|n| (1..=KMEMLAB_BENCH_ITERATIONS_MAX).contains(n))
                    .ok_or(format!(
                        "--iterations must be 1 to {KMEMLAB_BENCH_ITERATIONS_MAX}"
                    ))?;
            }
            "--size" => o.size = number(w.value(opt)?)?,
            o => return Err(format!("unknown bench option '{o}'")),
        }
    }
    Ok(o)
}

/// A request for `iterations` pairs of `kind`.
fn request(kind: u32, o: &Opts, cache: u32, stats: bool) -> KmemlabBench {
    KmemlabBench {
        kind,
        size: if kind == KMEMLAB_KIND_KMALLOC {
            o.size
        } else {
            0
        },
        node: KMEMLAB_NODE_ANY,
        cache,
        flags: if stats { 0 } else { KMEMLAB_BENCH_NO_STATS },
        iterations: o.iterations,
        ..Default::default()
    }
}

/// The fields of one run, for `--json`.
fn run_fields(r: &KmemlabBench) -> Value {
    Value::Object(vec![
        ("iterations".into(), Value::Num(r.iterations.into())),
        ("ns_total".into(), Value::Num(r.ns_total)),
        ("ns_min".into(), Value::Num(r.ns_min)),
        ("ns_median".into(), Value::Num(r.ns_median)),
        ("ns_p99".into(), Value::Num(r.ns_p99)),
        ("cpu".into(), Value::Num(r.cpu.into())),
    ])
}

/// `bench stats-cost`: kmem_cache alloc+free pairs (the fastest path) with
/// statistics counted and not, in interleaved runs; prints the ratio.
fn stats_cost(dev: &Device, w: &mut Words<'_>) -> Result<Output, String> {
    let o = opts(w)?;
    let size = u32::try_from(o.size).map_err(|_| "--size is too big".to_string())?;
    let name = format!("bench{}", std::process::id() % 100_000);
    let cache = dev
        .cache_create(&name, size, 0, 0)
        .map_err(|e| e.to_string())?;
    let (mut on, mut off) = (Vec::new(), Vec::new());
    let mut last = (KmemlabBench::default(), KmemlabBench::default());
    for _ in 0..ROUNDS {
        for stats in [false, true] {
            let r = dev
                .bench(&request(KMEMLAB_KIND_KMEM_CACHE, &o, cache, stats))
                .map_err(|e| e.to_string())?;
            if stats {
                on.push(per_pair(&r));
                last.1 = r;
            } else {
                off.push(per_pair(&r));
                last.0 = r;
            }
        }
    }
    dev.cache_destroy(cache).map_err(|e| e.to_string())?;
    let best = |v: &[f64]| v.iter().copied().fold(f64::INFINITY, f64::min);
    let (b_off, b_on) = (best(&off), best(&on));
    let (m_off, m_on) = (median(&mut off), median(&mut on));
    let ratio_of = |on: f64, off: f64| if off > 0.0 { on / off } else { 0.0 };
    let (ratio, ratio_median) = (ratio_of(b_on, b_off), ratio_of(m_on, m_off));
    let row = |what: &str, b: f64, m: f64, r: &KmemlabBench| {
        format!(
            "{what:<9} {b:>12.1} {m:>12.1} {:>10} {:>10} {:>10}",
            r.ns_min, r.ns_median, r.ns_p99
        )
    };
    let text = [
        format!(
            "statistics cost: kmem_cache alloc+free of {size}-byte objects (kmemlab-{name}),"
        ),
        format!(
            "{} pairs per run, {ROUNDS} runs each way, interleaved, on CPU {}",
            o.iterations, last.1.cpu
        ),
        format!(
            "{:<9} {:>12} {:>12} {:>10} {:>10} {:>10}",
            "counting", "best ns/pair", "median", "min", "median", "p99"
        ),
        row("off", b_off, m_off, &last.0),
        row("on", b_on, m_on, &last.1),
        format!(
            "ratio on/off: {ratio:.3} best of the runs, {ratio_median:.3} median (target: at most 1.05)"
        ),
        "(ns/pair over each run: the best and the median run; then min, median and p99 of single pairs in the last run, as log2-bucket upper bounds)".into(),
    ]
    .join("\n");
    Ok(Output::new(
        text,
        &[
            ("benchmark", Value::Str("stats-cost".into())),
            ("object_size", Value::Num(size.into())),
            ("ns_per_pair_off", Value::Str(format!("{b_off:.1}"))),
            ("ns_per_pair_on", Value::Str(format!("{b_on:.1}"))),
            ("ratio", Value::Str(format!("{ratio:.3}"))),
            ("ratio_median", Value::Str(format!("{ratio_median:.3}"))),
            ("last_off", run_fields(&last.0)),
            ("last_on", run_fields(&last.1)),
        ],
    ))
}

/// `bench kmalloc`: one run of kmalloc+kfree pairs.
fn kmalloc(dev: &Device, w: &mut Words<'_>) -> Result<Output, String> {
    let o = opts(w)?;
    let r = dev
        .bench(&request(KMEMLAB_KIND_KMALLOC, &o, 0, true))
        .map_err(|e| e.to_string())?;
    Ok(Output::new(
        format!(
            "kmalloc {} bytes: {:.1} ns/pair over {} pairs on CPU {} (min {}, median {}, p99 {})",
            o.size,
            per_pair(&r),
            r.iterations,
            r.cpu,
            r.ns_min,
            r.ns_median,
            r.ns_p99
        ),
        &[("run", run_fields(&r))],
    ))
}

/// `bench stats-cost|kmalloc [--iterations N] [--size N]`.
pub(crate) fn bench(dev: &Device, w: &mut Words<'_>) -> Result<Output, String> {
    match w.arg("bench", "a benchmark (stats-cost, kmalloc)")? {
        "stats-cost" => stats_cost(dev, w),
        "kmalloc" => kmalloc(dev, w),
        b => Err(format!("unknown benchmark '{b}' (stats-cost, kmalloc)")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn medians() {
        assert_eq!(median(&mut [3.0, 1.0, 2.0]), 2.0);
        assert_eq!(median(&mut [4.0, 1.0, 2.0, 3.0]), 2.5);
        assert_eq!(median(&mut []), 0.0);
    }

    #[test]
    fn requests_carry_the_options() {
        let o = Opts {
            iterations: 7,
            size: 128,
        };
        let r = request(KMEMLAB_KIND_KMEM_CACHE, &o, 3, false);
        assert_eq!((r.cache, r.size, r.iterations), (3, 0, 7));
        assert_eq!(r.flags, KMEMLAB_BENCH_NO_STATS);
        let k = request(KMEMLAB_KIND_KMALLOC, &o, 0, true);
        assert_eq!((k.size, k.flags), (128, 0));
    }
}
