// SPDX-License-Identifier: GPL-2.0

//! `bench stats-cost`: kmem_cache pairs with statistics on and off.

use super::*;

/// What `bench stats-cost` measured.
#[derive(Clone, Debug)]
pub(crate) struct StatsCost {
    pub(crate) size: u64,
    pub(crate) iterations: u32,
    pub(crate) rounds: usize,
    pub(crate) off: Stat,
    pub(crate) on: Stat,
    pub(crate) last_off: KmemlabBench,
    pub(crate) last_on: KmemlabBench,
}

impl StatsCost {
    /// On over off, the best runs and the median ones.
    pub(crate) fn ratios(&self) -> (f64, f64) {
        (
            ratio(self.on.best, self.off.best),
            ratio(self.on.median, self.off.median),
        )
    }
}

/// kmem_cache alloc+free pairs (the fastest path) of `size` bytes with
/// statistics counted and not, in `rounds` interleaved runs each.
pub(crate) fn measure_stats_cost(
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

pub(crate) fn stats_cost_text(s: &StatsCost) -> String {
    let (ratio, ratio_median) = s.ratios();
    let row = |what: &str, st: &Stat, r: &KmemlabBench| {
        vec![
            what.to_string(),
            format!("{:.1}", st.best),
            format!("{:.1}", st.median),
            r.ns_min.to_string(),
            r.ns_median.to_string(),
            r.ns_p99.to_string(),
        ]
    };
    let table = crate::table::figures(
        &["counting", "best ns/pair", "median", "min", "median", "p99"],
        &[
            row("off", &s.off, &s.last_off),
            row("on", &s.on, &s.last_on),
        ],
    );
    [
        format!(
            "statistics cost: kmem_cache alloc+free of {}-byte objects (a kmemlab-bench* cache),",
            s.size
        ),
        format!(
            "{} pairs per run, {} runs each way, interleaved, on CPU {}",
            s.iterations, s.rounds, s.last_on.cpu
        ),
        table,
        format!(
            "ratio on/off: {} best of the runs, {} median (target: at most {TARGET_STATS_COST})",
            fixed(ratio, 3),
            fixed(ratio_median, 3)
        ),
        "(ns/pair over each run: the best and the median run; then min, median and p99 of single pairs in the last run, as log2-bucket upper bounds)".into(),
    ]
    .join("\n")
}

pub(crate) fn stats_cost_fields(s: &StatsCost) -> Vec<(&'static str, Value)> {
    let (ratio, ratio_median) = s.ratios();
    vec![
        ("benchmark", Value::from("stats-cost")),
        ("object_size", Value::from(s.size)),
        ("iterations", Value::from(s.iterations)),
        ("rounds", Value::from(s.rounds as u64)),
        ("ns_per_pair_off", json_fixed(s.off.best, 1)),
        ("ns_per_pair_on", json_fixed(s.on.best, 1)),
        ("ns_per_pair_off_median", json_fixed(s.off.median, 1)),
        ("ns_per_pair_on_median", json_fixed(s.on.median, 1)),
        ("ratio", json_fixed(ratio, 3)),
        ("ratio_median", json_fixed(ratio_median, 3)),
        ("last_off", run_fields(&s.last_off)),
        ("last_on", run_fields(&s.last_on)),
    ]
}

/// `bench stats-cost [--iterations N] [--size N] [--rounds R]`.
pub(crate) fn stats_cost(
    dev: &dyn DeviceOps,
    iterations: u32,
    size: u64,
    rounds: usize,
) -> Result<Output, String> {
    bench_version(dev)?;
    let mut b = Bench {
        dev,
        progress: Progress::new(2 * rounds),
    };
    let s = measure_stats_cost(&mut b, iterations, size, rounds)?;
    drop(b);
    Ok(Output::new(stats_cost_text(&s), &stats_cost_fields(&s)))
}
