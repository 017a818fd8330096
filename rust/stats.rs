// SPDX-License-Identifier: GPL-2.0

//! Allocation statistics, per allocator kind, kept per CPU.
//!
//! Every counter lives in kmemlab's static per-CPU array
//! ([`percpu::static_counters`]): recording an allocation or a free is a few
//! `this_cpu_add()`s on the CPU it happens on (single instructions on
//! x86-64), with no lock and no shared atomic. Reading sums the CPUs, so
//! totals are exact once the allocators are quiet. Time spent allocating is
//! sampled: one allocation in [`SAMPLE`] per CPU and kind is timed and
//! counts for [`SAMPLE`], as reading a clock costs as much as the fastest
//! allocation.
//!
//! The high-water mark of bytes live is the one figure that needs a global
//! view. Like `percpu_counter`, each CPU keeps the net bytes it has not yet
//! reported, and folds them into a shared total (one atomic add, and a
//! compare-and-exchange for the mark) once they pass [`BATCH`]. The shared
//! total is therefore off by less than `BATCH` bytes per CPU, either way,
//! and so is the mark: it may miss a peak, or (when one CPU allocates what
//! another frees) exceed it, by up to `BATCH` bytes per CPU. It costs one
//! shared atomic per `BATCH` bytes of net change per CPU, not one per
//! allocation.

use kernel::{
    prelude::*,
    sync::atomic::{
        Atomic,
        Relaxed, //
    },
};

use crate::{
    alloc::{
        clock,
        percpu::{
            self,
            PerCpuRef,
            Remote, //
        },
    },
    uapi::KIND_NAMES,
};

/// Allocator kinds, numbered as the ABI's `KMEMLAB_KIND_*` (from 1).
pub(crate) const KINDS: usize = 8;

/// The counters kept for each kind, per CPU.
#[derive(Clone, Copy)]
enum Field {
    Created,
    Freed,
    FailNomem,
    FailInval,
    FailNodev,
    FailOther,
    /// Bytes of objects created (cumulative).
    BytesIn,
    /// Bytes of objects freed (cumulative).
    BytesOut,
    PagesIn,
    PagesOut,
    AllocNs,
    /// Net bytes not yet folded into [`FOLDED`] (two's complement).
    Pending,
}

const FIELDS: usize = 12;

/// One allocation in this many (per CPU and kind, the last of each run of
/// them, so not the cold first one) is timed, and counts this many times in
/// `alloc_ns`.
pub(crate) const SAMPLE: u64 = 64;
/// Kinds with counters: the ABI's, and one more, never shown, that the
/// benchmarks and KUnit tests count in so the figures of the real kinds
/// stay true.
const SLOTS: usize = KINDS + 1;
/// The kind number of the scratch slot.
// CAST: a small constant.
pub(crate) const SCRATCH_KIND: u32 = SLOTS as u32;
/// The size of the shim's static per-CPU array.
const WORDS: usize = percpu::STATIC_COUNTERS;
const _: () = assert!(SLOTS * FIELDS <= WORDS);

/// Net bytes a CPU keeps to itself before folding them into [`FOLDED`].
pub(crate) const BATCH: i64 = 256 * 1024;

/// Per kind: the bytes folded in by the CPUs so far.
static FOLDED: [Atomic<i64>; SLOTS] = [const { Atomic::new(0) }; SLOTS];
/// Per kind: the high-water mark of bytes live.
static HWM: [Atomic<i64>; SLOTS] = [const { Atomic::new(0) }; SLOTS];

/// The per-CPU counters.
fn counters() -> PerCpuRef<'static, u64, WORDS> {
    percpu::static_counters()
}

/// The counter index of `field` for `kind`, when `kind` is a known kind.
fn slot(kind: u32, field: Field) -> Option<usize> {
    let k = usize::try_from(kind).ok()?.checked_sub(1)?;
    (k < SLOTS).then_some(k * FIELDS + field as usize)
}

fn add(kind: u32, field: Field, v: u64) {
    if let Some(i) = slot(kind, field) {
        counters().add_this_cpu_at(i, v);
    }
}

/// Raises `kind`'s high-water mark to `live` if that is higher.
fn raise_hwm(kind: usize, live: i64) {
    let mark = &HWM[kind];
    let mut seen = mark.load(Relaxed);
    while live > seen {
        match mark.cmpxchg(seen, live, Relaxed) {
            Ok(_) => return,
            Err(now) => seen = now,
        }
    }
}

/// Adds `delta` to this CPU's unreported bytes at counter `pending` of kind
/// index `k`, folding them into the shared total once they pass [`BATCH`].
fn pend(k: usize, pending: usize, delta: i64) {
    let c = counters();
    // CAST: two's complement, as stored.
    let now = c.add_return_this_cpu_at(pending, delta as u64) as i64;
    if now.unsigned_abs() < BATCH.unsigned_abs() {
        return;
    }
    // The slow path, once per `BATCH` bytes: with preemption disabled, take
    // out exactly what this CPU holds now and fold it, so no other task can
    // fold the same bytes meanwhile. Only tasks write these counters, never
    // an interrupt, so a load and a store are enough here.
    let this = c.this_cpu();
    let held = &this.values()[pending];
    // CAST: as above.
    let now = held.load(Relaxed) as i64;
    if now.unsigned_abs() < BATCH.unsigned_abs() {
        return;
    }
    held.store(0, Relaxed);
    let live = FOLDED[k].fetch_add(now, Relaxed).wrapping_add(now);
    raise_hwm(k, live);
}

/// When a timed allocation started, on this CPU's clock (`None`: not timed).
#[derive(Clone, Copy)]
pub(crate) struct Started(Option<u64>);

/// Starts an allocation of `kind`: every [`SAMPLE`]th one on this CPU (the
/// 64th, 128th, ...) is timed (`local_clock()`; a task that moves to another CPU meanwhile may
/// see a little skew, never a negative time).
pub(crate) fn start(kind: u32) -> Started {
    let Some(i) = slot(kind, Field::Created) else {
        return Started(None);
    };
    // The objects this CPU has created so far pick the ones timed: a read,
    // not an update (a task that moves CPU meanwhile only shifts the sample).
    let n = counters().read_this_cpu_at(i);
    Started((n % SAMPLE == SAMPLE - 1).then(clock::local_clock_ns))
}

/// Records an object of `kind` created, taking `bytes` and `pages`.
///
/// A handful of single-instruction per-CPU adds: no lock, no shared atomic
/// (but once per [`BATCH`] bytes), no clock but for sampled allocations.
pub(crate) fn created(kind: u32, bytes: usize, pages: usize, started: Started) {
    let Some(base) = slot(kind, Field::Created) else {
        return;
    };
    let c = counters();
    // CAST: sizes fit in 64 bits.
    let (bytes, pages) = (bytes as u64, pages as u64);
    c.add_this_cpu_at(base, 1);
    c.add_this_cpu_at(base + Field::BytesIn as usize, bytes);
    if pages != 0 {
        c.add_this_cpu_at(base + Field::PagesIn as usize, pages);
    }
    if let Some(t0) = started.0 {
        let ns = clock::local_clock_ns().saturating_sub(t0);
        c.add_this_cpu_at(base + Field::AllocNs as usize, ns.saturating_mul(SAMPLE));
    }
    // CAST: a size fits in an `i64`.
    pend(base / FIELDS, base + Field::Pending as usize, bytes as i64);
}

/// Records an object of `kind` freed.
pub(crate) fn freed(kind: u32, bytes: usize, pages: usize) {
    let Some(base) = slot(kind, Field::Created) else {
        return;
    };
    let c = counters();
    // CAST: sizes fit in 64 bits.
    let (bytes, pages) = (bytes as u64, pages as u64);
    c.add_this_cpu_at(base + Field::Freed as usize, 1);
    c.add_this_cpu_at(base + Field::BytesOut as usize, bytes);
    if pages != 0 {
        c.add_this_cpu_at(base + Field::PagesOut as usize, pages);
    }
    // CAST: a size fits in an `i64`.
    pend(
        base / FIELDS,
        base + Field::Pending as usize,
        -(bytes as i64),
    );
}

/// Records a failed request for `kind` (one of the ABI's kinds; others,
/// the scratch slot included, are not counted).
pub(crate) fn failed(kind: u32, err: Error) {
    if kind == SCRATCH_KIND {
        return;
    }
    let field = if err == ENOMEM {
        Field::FailNomem
    } else if err == EINVAL {
        Field::FailInval
    } else if err == ENODEV {
        Field::FailNodev
    } else {
        Field::FailOther
    };
    add(kind, field, 1);
}

/// One kind's counters, summed over some CPUs.
#[derive(Clone, Copy, Default)]
pub(crate) struct Counts {
    pub(crate) created: u64,
    pub(crate) freed: u64,
    pub(crate) enomem: u64,
    pub(crate) einval: u64,
    pub(crate) enodev: u64,
    pub(crate) other: u64,
    /// Net bytes (created minus freed), two's complement.
    pub(crate) bytes: u64,
    /// Net pages, two's complement.
    pub(crate) pages: u64,
    pub(crate) alloc_ns: u64,
}

impl Counts {
    /// Net bytes, as a count: 0 when a read raced with frees (the sum over
    /// CPUs is not a snapshot, and a free read before its allocation would
    /// make it look negative).
    pub(crate) fn bytes_live(&self) -> u64 {
        // CAST: two's complement.
        (self.bytes as i64).max(0) as u64
    }

    /// Net pages, as a count (as for [`Counts::bytes_live`]).
    pub(crate) fn pages_live(&self) -> u64 {
        // CAST: two's complement.
        (self.pages as i64).max(0) as u64
    }

    /// Failed requests, all errnos.
    pub(crate) fn failed(&self) -> u64 {
        self.enomem
            .wrapping_add(self.einval)
            .wrapping_add(self.enodev)
            .wrapping_add(self.other)
    }

    /// Objects live (meaningful for the sum over all CPUs; 0 when a read
    /// raced with frees, as for [`Counts::bytes_live`]).
    pub(crate) fn live(&self) -> u64 {
        self.created.saturating_sub(self.freed)
    }

    /// Adds `kind`'s counters of one CPU.
    fn add_cpu(&mut self, values: &Remote<'_, u64, WORDS>, kind: usize) {
        let v = |f: Field| values.load(kind * FIELDS + f as usize).unwrap_or(0);
        self.created = self.created.wrapping_add(v(Field::Created));
        self.freed = self.freed.wrapping_add(v(Field::Freed));
        self.enomem = self.enomem.wrapping_add(v(Field::FailNomem));
        self.einval = self.einval.wrapping_add(v(Field::FailInval));
        self.enodev = self.enodev.wrapping_add(v(Field::FailNodev));
        self.other = self.other.wrapping_add(v(Field::FailOther));
        let bytes = v(Field::BytesIn).wrapping_sub(v(Field::BytesOut));
        self.bytes = self.bytes.wrapping_add(bytes);
        let pages = v(Field::PagesIn).wrapping_sub(v(Field::PagesOut));
        self.pages = self.pages.wrapping_add(pages);
        self.alloc_ns = self.alloc_ns.wrapping_add(v(Field::AllocNs));
    }
}

/// The name of kind index `k` (0-based).
pub(crate) fn kind_name(k: usize) -> &'static str {
    KIND_NAMES.get(k).map_or("?", |(_, name)| name)
}

/// `k`'s counters on `cpu`.
pub(crate) fn on_cpu(cpu: u32, k: usize) -> Counts {
    let mut counts = Counts::default();
    if let Ok(values) = counters().slots(cpu) {
        counts.add_cpu(&values, k);
    }
    counts
}

/// `k`'s counters summed over every CPU, and its high-water mark of bytes
/// live (at least the bytes live just read; a read is not a snapshot, so
/// it does not raise the mark itself).
pub(crate) fn total(k: usize) -> (Counts, u64) {
    let mut counts = Counts::default();
    for (_, values) in counters().iter_slots() {
        counts.add_cpu(&values, k);
    }
    // CAST: the mark is never negative.
    let hwm = (HWM[k].load(Relaxed).max(0) as u64).max(counts.bytes_live());
    (counts, hwm)
}

#[kunit_tests(kmemlab_stats)]
mod tests {
    use super::*;

    #[test]
    fn counters_fit_the_shim() {
        assert_eq!(slot(0, Field::Created), None);
        assert_eq!(slot(SCRATCH_KIND + 1, Field::Created), None);
        assert_eq!(slot(1, Field::Created), Some(0));
        assert_eq!(slot(SCRATCH_KIND, Field::Pending), Some(SLOTS * FIELDS - 1));
    }

    #[test]
    fn a_create_and_a_free_balance() {
        // In the tests' own slot, so the real kinds' figures are untouched.
        let k = SLOTS - 1;
        let (before, _) = total(k);
        created(SCRATCH_KIND, 3 * BATCH as usize, 5, start(SCRATCH_KIND));
        let (during, hwm) = total(k);
        assert_eq!(during.live(), before.live() + 1);
        assert_eq!(during.bytes.wrapping_sub(before.bytes), 3 * BATCH as u64);
        assert_eq!(during.pages.wrapping_sub(before.pages), 5);
        assert!(hwm >= 3 * BATCH as u64);
        freed(SCRATCH_KIND, 3 * BATCH as usize, 5);
        failed(SCRATCH_KIND, ENODEV);
        let (after, _) = total(k);
        assert_eq!(after.created, before.created + 1);
        assert_eq!(after.freed, before.freed + 1);
        assert_eq!(after.bytes, before.bytes);
        assert_eq!(after.pages, before.pages);
        assert_eq!(after.live(), before.live());
        // Failures are counted for the ABI's kinds only.
        assert_eq!(after.enodev, before.enodev);
        assert_eq!(after.failed(), before.failed());
    }
}
