// SPDX-License-Identifier: GPL-2.0

//! Allocation statistics, per allocator kind, kept per CPU.
//!
//! Every counter lives in kmemlab's static per-CPU array
//! ([`percpu::static_counters`]). A call (an ioctl, or one benchmark
//! thread's run) counts its objects in locals, a [`UnitTally`] or a
//! [`CallTally`], and adds them to the counters of the CPU it ends on with a
//! few `this_cpu_add()`s (single instructions on x86-64) when it returns: no
//! lock, no shared atomic, nothing per CPU per object. Reading sums the CPUs,
//! so totals are exact once the calls that made them have returned; the
//! per-CPU rows say where calls ended, not where each object was made. Time
//! spent allocating is sampled: one allocation in [`SAMPLE`] per CPU and kind
//! is timed and counts for [`SAMPLE`], as reading a clock costs as much as
//! the fastest allocation.
//!
//! The high-water mark of bytes live is the one figure that needs a global
//! view. Like `percpu_counter`, each CPU keeps the net bytes it has not yet
//! reported, and folds them into a shared total (one atomic add, and a
//! compare-and-exchange for the mark) once they pass [`BATCH`]. The shared
//! total is therefore off by less than `BATCH` bytes per CPU, either way,
//! and so is the mark: it may miss a peak, or (when one CPU allocates what
//! another frees) exceed it, by up to `BATCH` bytes per CPU. It costs one
//! shared atomic per `BATCH` bytes of net change per CPU, not one per
//! allocation. A call's bytes are folded when it returns, as if it had made
//! all its objects before freeing any, so the mark sees the call's peak; a
//! call still running is not seen at all.

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
pub(crate) const KINDS: usize = 11;

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
    /// Allocations handed a sampling ticket (a [`UnitTally`] takes as many
    /// as it may make, at once): the tickets pick the ones timed.
    Ticket,
}

const FIELDS: usize = 13;

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

/// One kind's counts within a [`Tally`].
#[derive(Clone, Copy, Default)]
struct KindTally {
    created: u64,
    freed: u64,
    bytes_in: u64,
    bytes_out: u64,
    pages_in: u64,
    pages_out: u64,
    alloc_ns: u64,
    /// Net bytes of the call, and the most they reached.
    net: i64,
    peak: i64,
}

/// The statistics of one call that frees objects (of any kinds): what
/// [`CallTally::freed`] counts reaches this CPU's counters when the tally is
/// dropped, or when the kind freed changes. A call frees objects in handle
/// order, most often of one kind, so it adds a handful of per-CPU counters
/// once instead of per object; the tally holds the counts of the kind it
/// saw last (not one slot per kind, which each call would zero), so objects
/// of kinds that alternate (a file's mixed table closed) are added per run
/// of one kind.
pub(crate) struct CallTally {
    /// The kind index `counts` are of, once an object was counted.
    kind: Option<usize>,
    counts: KindTally,
}

impl CallTally {
    /// An empty tally.
    pub(crate) fn new() -> Self {
        Self {
            kind: None,
            counts: KindTally::default(),
        }
    }

    /// Counts an object of `kind` freed.
    pub(crate) fn freed(&mut self, kind: u32, bytes: usize, pages: usize) {
        let Some(k) = slot(kind, Field::Created).map(|i| i / FIELDS) else {
            return;
        };
        if self.kind != Some(k) {
            if let Some(seen) = self.kind {
                flush(seen, &self.counts);
            }
            self.kind = Some(k);
            self.counts = KindTally::default();
        }
        let t = &mut self.counts;
        // CAST: sizes fit in 64 bits.
        let (bytes, pages) = (bytes as u64, pages as u64);
        t.freed = t.freed.wrapping_add(1);
        t.bytes_out = t.bytes_out.wrapping_add(bytes);
        t.pages_out = t.pages_out.wrapping_add(pages);
        // CAST: a size fits in an `i64`.
        t.net = t.net.wrapping_sub(bytes as i64);
    }
}

impl Drop for CallTally {
    fn drop(&mut self) {
        if let Some(k) = self.kind {
            flush(k, &self.counts);
        }
    }
}

/// Adds kind index `k`'s counts of one call to this CPU's counters, and its
/// bytes to the high-water mark's pending total (the call's peak first).
fn flush(k: usize, t: &KindTally) {
    if t.created == 0 && t.freed == 0 {
        return;
    }
    let c = counters();
    let base = k * FIELDS;
    for (field, v) in [
        (Field::Created, t.created),
        (Field::Freed, t.freed),
        (Field::BytesIn, t.bytes_in),
        (Field::BytesOut, t.bytes_out),
        (Field::PagesIn, t.pages_in),
        (Field::PagesOut, t.pages_out),
        (Field::AllocNs, t.alloc_ns),
    ] {
        if v != 0 {
            c.add_this_cpu_at(base + field as usize, v);
        }
    }
    let pending = base + Field::Pending as usize;
    if t.peak != 0 {
        pend(k, pending, t.peak);
    }
    pend(k, pending, t.net.wrapping_sub(t.peak));
}

/// The statistics of one call that makes objects of one kind and size (an
/// ALLOC of `count` objects, or a benchmark thread's run of samples): only
/// how many were made is counted per object, and freed per object or per
/// call (a benchmark run counts its frees once, at its end: [`Count::all_freed`]),
/// the bytes and pages follow at the end; they reach this CPU's counters when the tally is
/// dropped, as a [`CallTally`]'s do.
pub(crate) struct UnitTally {
    kind: u32,
    bytes: usize,
    pages: usize,
    /// The most objects of the call live at once (an ALLOC: all of them; a
    /// benchmark: one batch), for the high-water mark.
    most_live: usize,
    freed: u64,
    /// Objects to make before the next timed one (its ticket is the next
    /// multiple of [`SAMPLE`]); one test and one decrement per object.
    left: u64,
    /// `left` when the tally was made: the objects made are `first +
    /// timed * SAMPLE - left`.
    first: u64,
    /// Objects timed, and the cycles they took (once each; [`SAMPLE`] times
    /// that in nanoseconds is the call's `alloc_ns`).
    timed: u64,
    alloc_cycles: u64,
    /// Pages the objects made took beyond `pages` each (two's complement),
    /// for the kinds whose allocator decides per object ([`UnitTally::repage`]).
    pages_extra: u64,
}

impl UnitTally {
    /// A tally for at most `most` objects of `kind` of `bytes` and `pages`
    /// each, at most `most_live` of them live at once.
    pub(crate) fn new(kind: u32, bytes: usize, pages: usize, most: u64, most_live: usize) -> Self {
        // The call takes `most` tickets of this CPU at once; the ones at a
        // multiple of `SAMPLE` (the `SAMPLE`th, `2 * SAMPLE`th, ... on the
        // CPU) are timed, whatever CPU the call moves to or who else runs on
        // this one meanwhile. Tickets a call does not use are skipped.
        let n = slot(kind, Field::Ticket).map_or(0, |i| {
            counters()
                .add_return_this_cpu_at(i, most)
                .wrapping_sub(most)
        });
        // The tickets taken are `n + 1` to `n + most`: the first timed one
        // is the first multiple of `SAMPLE` among them.
        let first = (SAMPLE - n.wrapping_add(1) % SAMPLE) % SAMPLE;
        Self {
            kind,
            bytes,
            pages,
            most_live,
            freed: 0,
            left: first,
            first,
            timed: 0,
            alloc_cycles: 0,
            pages_extra: 0,
        }
    }

    /// Objects made and counted.
    pub(crate) fn created(&self) -> u64 {
        self.first
            .wrapping_add(self.timed.wrapping_mul(SAMPLE))
            .wrapping_sub(self.left)
    }

    /// Counts an object made (or, undone, freed again) as taking `to`
    /// pages instead of the `from` it was counted with.
    pub(crate) fn repage(&mut self, from: usize, to: usize) {
        // CAST: page counts fit in 64 bits; the difference is two's complement.
        let delta = (to as u64).wrapping_sub(from as u64);
        self.pages_extra = self.pages_extra.wrapping_add(delta);
    }

    /// Nanoseconds the created objects took to make, estimated from the
    /// timed ones (converted once, at the end of the call).
    fn alloc_ns(&self) -> u64 {
        clock::cycles_to_ns(self.alloc_cycles.saturating_mul(SAMPLE))
    }

    /// Counts `n` objects freed.
    pub(crate) fn freed(&mut self, n: u64) {
        self.freed = self.freed.wrapping_add(n);
    }

    /// Whether the next object made is timed.
    #[inline(always)]
    fn due(&self) -> bool {
        self.left == 0
    }
}

/// Counting the objects a loop makes and frees: a [`UnitTally`] (the ioctl
/// path, the benchmarks with statistics), or [`Uncounted`].
pub(crate) trait Count {
    /// Makes an object with `make` and counts it when made; every
    /// [`SAMPLE`]th one on this CPU is timed. A failed allocation is not
    /// counted, and leaves its turn to the next one.
    fn made<A>(&mut self, make: impl FnOnce() -> Result<A>) -> Result<A>;
    /// Counts as freed every object counted as made and not yet as freed
    /// (a benchmark's frees: each sample frees what it made, and the run
    /// counts them once, when it ends).
    fn all_freed(&mut self);
}

/// No counting: what a benchmark run without statistics uses, so that its
/// loop has no counting instructions at all (the cost of counting is the
/// difference between a run with a [`UnitTally`] and one with this).
pub(crate) struct Uncounted;

impl Count for Uncounted {
    #[inline(always)]
    fn made<A>(&mut self, make: impl FnOnce() -> Result<A>) -> Result<A> {
        make()
    }

    fn all_freed(&mut self) {}
}

impl Count for UnitTally {
    /// One test and one decrement per object; the clock only for the
    /// sampled ones (the cycle counter: under emulation `local_clock()`
    /// cost as much as the allocation it timed). The untimed and the timed
    /// object are made by two calls, so the common path has nothing but
    /// the test around its call.
    #[inline(always)]
    fn made<A>(&mut self, make: impl FnOnce() -> Result<A>) -> Result<A> {
        if !self.due() {
            let object = make()?;
            self.left = self.left.wrapping_sub(1);
            return Ok(object);
        }
        let c0 = clock::cycles();
        let object = make()?;
        let cycles = clock::cycles().saturating_sub(c0);
        self.alloc_cycles = self.alloc_cycles.saturating_add(cycles);
        self.timed = self.timed.wrapping_add(1);
        self.left = SAMPLE - 1;
        Ok(object)
    }

    fn all_freed(&mut self) {
        self.freed = self.created();
    }
}

impl Drop for UnitTally {
    fn drop(&mut self) {
        let Some(k) = slot(self.kind, Field::Created).map(|i| i / FIELDS) else {
            return;
        };
        // CAST: sizes and counts fit in 64 bits.
        let (bytes, pages) = (self.bytes as u64, self.pages as u64);
        let created = self.created();
        let most = (self.most_live as u64).min(created);
        let t = KindTally {
            created,
            freed: self.freed,
            bytes_in: created.wrapping_mul(bytes),
            bytes_out: self.freed.wrapping_mul(bytes),
            pages_in: created.wrapping_mul(pages).wrapping_add(self.pages_extra),
            pages_out: self.freed.wrapping_mul(pages),
            alloc_ns: self.alloc_ns(),
            // CAST: two's complement; byte counts fit in an `i64`.
            net: created.wrapping_sub(self.freed).wrapping_mul(bytes) as i64,
            // CAST: as above.
            peak: most.wrapping_mul(bytes) as i64,
        };
        flush(k, &t);
    }
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
        assert_eq!(slot(SCRATCH_KIND, Field::Ticket), Some(SLOTS * FIELDS - 1));
    }

    #[test]
    fn a_create_and_a_free_balance() {
        // In the tests' own slot, so the real kinds' figures are untouched.
        let k = SLOTS - 1;
        let (before, _) = total(k);
        let mut t = UnitTally::new(SCRATCH_KIND, 3 * BATCH as usize, 5, 1, 1);
        assert!(t.made(|| Ok(())).is_ok());
        drop(t);
        let (during, hwm) = total(k);
        assert_eq!(during.live(), before.live() + 1);
        assert_eq!(during.bytes.wrapping_sub(before.bytes), 3 * BATCH as u64);
        assert_eq!(during.pages.wrapping_sub(before.pages), 5);
        assert!(hwm >= 3 * BATCH as u64);
        let mut t = CallTally::new();
        t.freed(SCRATCH_KIND, 3 * BATCH as usize, 5);
        drop(t);
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

    #[test]
    fn a_call_counts_once_and_keeps_its_peak() {
        let k = SLOTS - 1;
        let (before, hwm_before) = total(k);
        // 3 * BATCH bytes made, then freed, within one call.
        let mut t = UnitTally::new(SCRATCH_KIND, BATCH as usize, 1, 4, 3);
        for _ in 0..3 {
            assert!(t.made(|| Ok(())).is_ok());
        }
        // A failed allocation is not counted.
        assert!(t.made(|| Err::<(), _>(ENOMEM)).is_err());
        let (unflushed, _) = total(k);
        assert_eq!(unflushed.created, before.created);
        t.freed(3);
        drop(t);
        let (after, hwm) = total(k);
        assert_eq!(after.created, before.created + 3);
        assert_eq!(after.freed, before.freed + 3);
        assert_eq!(after.bytes, before.bytes);
        assert_eq!(after.pages, before.pages);
        // The peak (3 * BATCH over what was live) reached the mark, within
        // the documented error of BATCH bytes per CPU.
        assert!(hwm >= hwm_before.max(before.bytes_live() + 2 * BATCH as u64));
        // Frees of any kinds, counted per object.
        let mut t = CallTally::new();
        t.freed(SCRATCH_KIND, 7, 0);
        drop(t);
        let (freed, _) = total(k);
        assert_eq!(freed.freed, after.freed + 1);
        assert_eq!(after.bytes.wrapping_sub(freed.bytes), 7);
        // Put the 7 bytes back, so the slot balances again.
        let mut t = UnitTally::new(SCRATCH_KIND, 7, 0, 1, 1);
        assert!(t.made(|| Ok(())).is_ok());
        assert_eq!(t.created(), 1);
        drop(t);
    }

    #[test]
    fn a_run_counts_its_frees_at_the_end() {
        let k = SLOTS - 1;
        let (before, _) = total(k);
        let mut t = UnitTally::new(SCRATCH_KIND, BATCH as usize, 2, 8, 1);
        assert!(t.made(|| Ok(())).is_ok());
        // A failed allocation is neither made nor freed.
        assert!(t.made(|| Err::<(), _>(ENOMEM)).is_err());
        assert!(t.made(|| Ok(())).is_ok());
        assert!(t.made(|| Ok(())).is_ok());
        t.all_freed();
        drop(t);
        let (after, _) = total(k);
        assert_eq!(after.created, before.created + 3);
        assert_eq!(after.freed, before.freed + 3);
        assert_eq!(after.bytes, before.bytes);
        assert_eq!(after.pages, before.pages);
        // Not counting counts nothing.
        let mut u = Uncounted;
        assert!(u.made(|| Ok(())).is_ok());
        u.all_freed();
        let (untouched, _) = total(k);
        assert_eq!(
            (untouched.created, untouched.freed),
            (after.created, after.freed)
        );
    }

    #[test]
    fn one_allocation_in_sample_is_timed() {
        let mut t = UnitTally::new(SCRATCH_KIND, 0, 0, 4 * SAMPLE, 1);
        // The first timed one is the next multiple of `SAMPLE` among the
        // tickets taken.
        let first = t.first;
        assert!(first < SAMPLE);
        let mut timed = 0;
        for i in 0..4 * SAMPLE {
            if t.due() {
                assert_eq!(i % SAMPLE, first);
                timed += 1;
            }
            assert!(t.made(|| Ok(())).is_ok());
            // A failure in between changes neither the count nor the turn.
            assert!(t.made(|| Err::<(), _>(ENOMEM)).is_err());
            assert_eq!(t.created(), i + 1);
            t.freed(1);
        }
        assert_eq!(timed, 4);
        assert_eq!(t.timed, 4);
        assert_eq!(t.created(), 4 * SAMPLE);
        // Each timed one counts `SAMPLE` times what it took; none, nothing.
        assert_eq!(t.alloc_ns(), clock::cycles_to_ns(t.alloc_cycles * SAMPLE));
        let untimed = UnitTally::new(SCRATCH_KIND, 0, 0, 1, 1);
        assert_eq!(untimed.alloc_ns(), 0);
    }
}
