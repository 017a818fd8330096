// SPDX-License-Identifier: GPL-2.0

//! The figures of a run and their forms for people and for `--json`.

use super::*;

/// Nanoseconds per operation of a run.
pub(crate) fn ns_per_op(r: &KmemlabBench) -> f64 {
    r.ns_total as f64 / r.ops.max(1) as f64
}

/// Cycles per operation of a run.
pub(crate) fn cycles_per_op(r: &KmemlabBench) -> f64 {
    r.cycles_total as f64 / r.ops.max(1) as f64
}

/// Aggregate operations per second of a run, over its wall time.
pub(crate) fn ops_per_sec(r: &KmemlabBench) -> f64 {
    if r.ns_wall == 0 {
        // No time measured: no rate (n/a, null in JSON).
        return f64::NAN;
    }
    r.ops as f64 * 1e9 / r.ns_wall as f64
}

/// The median of `v`; 0 when empty.
pub(crate) fn median(v: &[f64]) -> f64 {
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
pub(crate) struct Stat {
    pub(crate) median: f64,
    pub(crate) best: f64,
}

pub(crate) fn stat(v: &[f64]) -> Stat {
    Stat {
        median: median(v),
        best: v.iter().copied().reduce(f64::min).unwrap_or(0.0),
    }
}

/// `a / b`, or NaN (shown `n/a`, never a met target) when `b` is not positive.
pub(crate) fn ratio(a: f64, b: f64) -> f64 {
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
pub(crate) fn scaled_iterations(n: u32, bytes: u64) -> u32 {
    let scaled = u64::from(n) * 4096 / bytes.max(4096);
    let floor = MIN_ITERATIONS.min(n);
    // CAST: at most n.
    scaled.clamp(u64::from(floor), u64::from(n)) as u32
}

/// Samples per run of batches of `batch`, from `n` asked for: `n / batch`, so a
/// run makes about `n` objects like an unbatched one, but at least
/// [`MIN_BATCH_SAMPLES`] (and never more than `n`).
pub(crate) fn batch_iterations(n: u32, batch: u32) -> u32 {
    (n / batch.max(1)).clamp(MIN_BATCH_SAMPLES.min(n), n)
}

/// Samples per thread of the scaling runs of counters (each sample
/// [`COUNTER_BATCH`] increments): `n / 4`, at least [`MIN_ITERATIONS`] (and
/// never more than `n`).
pub(crate) fn counter_iterations(n: u32) -> u32 {
    (n / 4).clamp(MIN_ITERATIONS.min(n), n)
}

/// The thread counts of the scaling runs on `nr` CPUs: every count from 1 up
/// to [`ALL_THREAD_COUNTS_UP_TO`] CPUs; beyond, the powers of two and `nr`.
pub(crate) fn thread_counts(nr: u32) -> Vec<u32> {
    let nr = nr.max(1);
    if nr <= ALL_THREAD_COUNTS_UP_TO {
        return (1..=nr).collect();
    }
    let mut v: Vec<u32> = (0..32).map(|s| 1u32 << s).take_while(|t| *t < nr).collect();
    v.push(nr);
    v
}

/// Whether every rate is above the one before (false for fewer than two).
pub(crate) fn grows_every_step(rates: &[f64]) -> bool {
    rates.len() >= 2 && rates.windows(2).all(|w| w[1] > w[0])
}

/// `x` with `digits` decimals, or `n/a` when it is not a number.
pub(crate) fn fixed(x: f64, digits: usize) -> String {
    if x.is_finite() {
        format!("{x:.digits$}")
    } else {
        "n/a".into()
    }
}

/// An integer figure for `--json`: negative as 0, not a number as `null`.
pub(crate) fn jround(x: f64) -> Value {
    if !x.is_finite() {
        return Value::Null;
    }
    // CAST: rounding a rate or a time; saturates.
    Value::from(x.max(0.0).round() as u64)
}

/// A rate for people: `812 ops/s`, `8.10 M ops/s`.
pub(crate) fn rate_text(x: f64) -> String {
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
pub(crate) fn ns_text(x: f64) -> String {
    fixed(x, if x < 10.0 { 2 } else { 1 })
}

/// Every output field of a run, for `--json`.
pub(crate) fn run_fields(r: &KmemlabBench) -> Value {
    let n = |v: u64| Value::from(v);
    object(vec![
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
