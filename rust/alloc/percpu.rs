// SPDX-License-Identifier: GPL-2.0

//! Per-CPU variables: one value per possible CPU.
//!
//! C header: [`include/linux/percpu.h`](srctree/include/linux/percpu.h)
//!
//! The kernel has two forms, and kmemlab wraps both behind one view:
//! - dynamic: [`PerCpu`] owns memory from `alloc_percpu()` and gives it back
//!   with `free_percpu()` when dropped;
//! - static: `DEFINE_PER_CPU` in `rust/shim.c` ([`static_counter`],
//!   [`static_counters`]).
//!
//! Each is seen through a [`PerCpuRef`]. A CPU's value is an [`Atomic`], so
//! any CPU's value can be read at any time without a data race. The value of
//! the CPU the caller runs on is reached through a [`ThisCpu`] guard, which
//! disables preemption while it lives and cannot leave the thread (it is
//! `!Send`), so the caller cannot migrate away from the value it uses; a
//! counter is bumped with [`PerCpuRef::add_this_cpu`] (`this_cpu_add()`).

use core::{
    marker::PhantomData,
    ptr::NonNull, //
};

use kernel::{
    bindings,
    ffi::{
        c_uint,
        c_void, //
    },
    prelude::*,
    sync::atomic::{
        Atomic,
        AtomicType,
        Relaxed, //
    },
};

use super::topology::{
    cpu_possible,
    possible_cpus, //
};

/// Counters in the shim's static per-CPU array (its `KMEMLAB_STATIC_COUNTERS`).
pub(crate) const STATIC_COUNTERS: usize = 256;

extern "C" {
    /// `DEFINE_PER_CPU(u64 [KMEMLAB_STATIC_COUNTERS], ...)` in `rust/shim.c`:
    /// its address is a `__percpu` pointer, never dereferenced as such, so
    /// Rust sees no memory there at all.
    static kmemlab_static_counters: [u8; 0];
    #[cfg_attr(not(CONFIG_KUNIT), allow(dead_code))]
    fn kmemlab_static_counters_size() -> usize;
    fn kmemlab_alloc_percpu(size: usize, align: usize) -> *mut c_void;
    fn kmemlab_preempt_disable();
    fn kmemlab_preempt_enable();
    fn kmemlab_this_cpu_ptr(ptr: *mut c_void) -> *mut c_void;
    fn kmemlab_per_cpu_ptr(ptr: *mut c_void, cpu: c_uint) -> *mut c_void;
    fn kmemlab_static_counter_ptr() -> *mut c_void;
    #[cfg_attr(all(CONFIG_X86_64, CONFIG_SMP, not(CONFIG_UML)), allow(dead_code))]
    fn kmemlab_this_cpu_add_u64(ptr: *mut u64, v: u64);
    #[cfg_attr(all(CONFIG_X86_64, CONFIG_SMP, not(CONFIG_UML)), allow(dead_code))]
    fn kmemlab_this_cpu_add_return_u64(ptr: *mut u64, v: u64) -> u64;
}

/// A view of a per-CPU variable whose memory lives for `'a`: an array of `N`
/// values of `T` per possible CPU (one, by default).
///
/// # Examples
///
/// See [`PerCpu`]'s example, which uses this type too (KUnit case
/// `kmemlab_percpu::example_per_cpu`).
///
/// # Invariants
///
/// `ptr` is a `__percpu` pointer to a `[T; N]` (aligned, initialised) for
/// every possible CPU, valid for `'a`; every access to those values is atomic.
pub(crate) struct PerCpuRef<'a, T: AtomicType, const N: usize = 1> {
    ptr: NonNull<[T; N]>,
    _life: PhantomData<&'a Atomic<T>>,
}

impl<T: AtomicType, const N: usize> Clone for PerCpuRef<'_, T, N> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<T: AtomicType, const N: usize> Copy for PerCpuRef<'_, T, N> {}

// SAFETY: the view only hands out `&Atomic<T>`, which may be shared between threads.
unsafe impl<T: AtomicType, const N: usize> Send for PerCpuRef<'_, T, N> {}
// SAFETY: as above.
unsafe impl<T: AtomicType, const N: usize> Sync for PerCpuRef<'_, T, N> {}

/// Views `N` values at `ptr` as atomics.
///
/// # Safety
///
/// `ptr` points to `N` valid, aligned `T`s that live for `'a` and are only
/// accessed atomically meanwhile.
unsafe fn atomics<'a, T: AtomicType, const N: usize>(ptr: *mut c_void) -> &'a [Atomic<T>; N] {
    // SAFETY: `Atomic<T>` is a transparent wrapper of a representation with
    // the size and alignment of `T` (the `AtomicType` contract), so the array
    // layouts agree; validity and lifetime are guaranteed by the caller.
    unsafe { &*ptr.cast::<[Atomic<T>; N]>() }
}

impl<'a, T: AtomicType, const N: usize> PerCpuRef<'a, T, N> {
    /// The values of `cpu`, read-only (`EINVAL` when it is not a possible
    /// CPU): the owning CPU updates them with non-locked per-CPU adds, so no
    /// other CPU may write them.
    pub(crate) fn slots(self, cpu: u32) -> Result<Remote<'a, T, N>> {
        if !cpu_possible(cpu) {
            return Err(EINVAL);
        }
        // SAFETY: `cpu` is possible, so `per_cpu_ptr()` gives its copy of the
        // variable, which by the type invariant is valid for `'a` and only
        // accessed atomically.
        let values = unsafe { atomics(kmemlab_per_cpu_ptr(self.ptr.as_ptr().cast(), cpu)) };
        Ok(Remote { values })
    }

    /// The values of the CPU this runs on, with preemption disabled until
    /// the guard is dropped.
    pub(crate) fn this_cpu(self) -> ThisCpu<'a, T, N> {
        // SAFETY: no precondition; undone by `ThisCpu::drop`.
        unsafe { kmemlab_preempt_disable() };
        // SAFETY: preemption is disabled, so the caller stays on this CPU while
        // the values are used; by the type invariant they are valid for `'a`
        // and only accessed atomically.
        let values = unsafe { atomics(kmemlab_this_cpu_ptr(self.ptr.as_ptr().cast())) };
        // INVARIANT: preemption was disabled just above.
        ThisCpu {
            values,
            _not_send: PhantomData,
        }
    }

    /// Every possible CPU with its values, read-only.
    pub(crate) fn iter_slots(self) -> impl Iterator<Item = (u32, Remote<'a, T, N>)> {
        possible_cpus().filter_map(move |cpu| self.slots(cpu).ok().map(|v| (cpu, v)))
    }
}

impl<'a> PerCpuRef<'a, u64> {
    /// The value of `cpu` (`EINVAL` when it is not a possible CPU): a
    /// relaxed load, which may miss an add that CPU is making.
    pub(crate) fn on(self, cpu: u32) -> Result<u64> {
        Ok(self.slots(cpu)?.value())
    }

    /// Every possible CPU with its value.
    pub(crate) fn iter(self) -> impl Iterator<Item = (u32, u64)> + 'a {
        self.iter_slots().map(|(cpu, v)| (cpu, v.value()))
    }
}

impl<const N: usize> PerCpuRef<'_, u64, N> {
    /// The `__percpu` pointer to value `i`, when `i < N`.
    fn element(self, i: usize) -> Option<*mut u64> {
        // The pointer is an offset into the per-CPU areas, not an address
        // to dereference: arithmetic on it may not assume an allocation.
        (i < N).then(|| self.ptr.as_ptr().cast::<u64>().wrapping_add(i))
    }

    /// Adds `v` (wrapping) to value `i` (below `N`; others are ignored) of
    /// the CPU this runs on, like `this_cpu_add()`: one instruction on
    /// x86-64, safe against preemption and interrupts, no guard needed.
    pub(crate) fn add_this_cpu_at(self, i: usize, v: u64) {
        if let Some(p) = self.element(i) {
            // SAFETY: by the type invariant `p` is a live per-CPU `u64`.
            unsafe { this_cpu_add(p, v) }
        }
    }

    /// Adds `v` (wrapping) to value `i` of the CPU this runs on and returns
    /// the new value, like `this_cpu_add_return()` (0 when `i >= N`).
    pub(crate) fn add_return_this_cpu_at(self, i: usize, v: u64) -> u64 {
        match self.element(i) {
            // SAFETY: by the type invariant `p` is a live per-CPU `u64`.
            Some(p) => unsafe { this_cpu_add_return(p, v) },
            None => 0,
        }
    }

    /// The sum over every CPU of value `i`, wrapping at 2^64. Not a
    /// snapshot: CPUs may add to their values while it is taken.
    pub(crate) fn sum_at(self, i: usize) -> u64 {
        self.iter_slots()
            .fold(0u64, |acc, (_, v)| acc.wrapping_add(v.load(i).unwrap_or(0)))
    }
}

impl PerCpuRef<'_, u64> {
    /// Adds `v` (wrapping) to the value of the CPU this runs on
    /// (`this_cpu_add()`).
    pub(crate) fn add_this_cpu(self, v: u64) {
        self.add_this_cpu_at(0, v)
    }

    /// The sum of every CPU's value, wrapping at 2^64.
    pub(crate) fn sum(self) -> u64 {
        self.sum_at(0)
    }
}

/// Another CPU's values of a per-CPU variable, read-only.
///
/// Each CPU updates its own values with per-CPU adds (`this_cpu_add()`,
/// not a locked instruction), so a write from any other CPU could be lost
/// or lose one of them: this view only loads.
///
/// # Examples
///
/// See [`PerCpu`]'s example, which uses this type too (KUnit case
/// `kmemlab_percpu::example_per_cpu`).
pub(crate) struct Remote<'a, T: AtomicType, const N: usize = 1> {
    values: &'a [Atomic<T>; N],
}

impl<const N: usize> Remote<'_, u64, N> {
    /// Value `i` (`None` when `i >= N`), a relaxed load.
    pub(crate) fn load(&self, i: usize) -> Option<u64> {
        self.values.get(i).map(|v| v.load(Relaxed))
    }
}

impl Remote<'_, u64> {
    /// The value, a relaxed load.
    pub(crate) fn value(&self) -> u64 {
        self.values[0].load(Relaxed)
    }
}

/// This CPU's values of a per-CPU variable, pinned: preemption stays
/// disabled while the guard lives, so the values stay this CPU's.
///
/// The guard cannot be sent to another thread, and what it lends out cannot
/// outlive it. Do not sleep while holding it.
///
/// # Examples
///
/// See [`PerCpu`]'s example, which uses this type too (KUnit case
/// `kmemlab_percpu::example_per_cpu`).
///
/// # Invariants
///
/// Preemption was disabled when the guard was made and is enabled again by
/// its `Drop`; `values` are this CPU's.
pub(crate) struct ThisCpu<'a, T: AtomicType, const N: usize = 1> {
    values: &'a [Atomic<T>; N],
    /// Preemption state belongs to the thread: the guard must stay on it.
    _not_send: PhantomData<*mut ()>,
}

impl<T: AtomicType, const N: usize> ThisCpu<'_, T, N> {
    /// This CPU's values, for as long as the guard is held (a reference kept
    /// past the guard does not compile).
    pub(crate) fn values(&self) -> &[Atomic<T>; N] {
        self.values
    }

    /// The CPU the guard pins.
    pub(crate) fn cpu(&self) -> u32 {
        kernel::cpu::CpuId::current().as_u32()
    }
}

impl<T: AtomicType> ThisCpu<'_, T> {
    /// This CPU's value, for as long as the guard is held.
    #[cfg_attr(not(CONFIG_KUNIT), allow(dead_code))]
    pub(crate) fn value(&self) -> &Atomic<T> {
        &self.values[0]
    }
}

impl<T: AtomicType, const N: usize> Drop for ThisCpu<'_, T, N> {
    fn drop(&mut self) {
        // SAFETY: by the type invariant, preemption was disabled by this guard.
        unsafe { kmemlab_preempt_enable() };
    }
}

/// A dynamically allocated per-CPU variable: one `T` per possible CPU, all
/// zero to begin with.
///
/// # Examples
///
/// ```ignore
/// let counter = PerCpu::<u64>::new()?;
/// let view = counter.get();
/// let cpu = {
///     // Preemption is off while `this` lives: the add lands on its CPU.
///     let this = view.this_cpu();
///     view.add_this_cpu(5);
///     this.cpu()
/// };
/// // Other CPUs' values are read-only.
/// assert_eq!(view.on(cpu)?, 5);
/// assert_eq!(view.sum(), 5);
/// assert_eq!(view.iter_slots().map(|(_, v)| v.value()).sum::<u64>(), 5);
/// ```
///
/// Compiled and run as the KUnit case `kmemlab_percpu::example_per_cpu`.
///
/// # Invariants
///
/// `ptr` was returned by `__alloc_percpu_gfp()` for a `T` and is freed only by
/// `Drop`.
pub(crate) struct PerCpu<T: AtomicType> {
    ptr: NonNull<T>,
}

// SAFETY: the memory is only reached through `PerCpuRef`, which is `Send` and `Sync`.
unsafe impl<T: AtomicType> Send for PerCpu<T> {}
// SAFETY: as above.
unsafe impl<T: AtomicType> Sync for PerCpu<T> {}

impl<T: AtomicType + Zeroable> PerCpu<T> {
    /// Allocates the variable (`alloc_percpu_gfp(T, GFP_KERNEL)`), zeroed.
    pub(crate) fn new() -> Result<Self> {
        let (size, align) = (core::mem::size_of::<T>(), core::mem::align_of::<T>());
        // SAFETY: size and alignment are those of `T`, which is a few bytes.
        let ptr = unsafe { kmemlab_alloc_percpu(size, align) };
        // INVARIANT: a non-NULL pointer is a fresh per-CPU allocation, which
        // the per-CPU allocator hands out zeroed, a valid `T` (`Zeroable`).
        Ok(Self {
            ptr: NonNull::new(ptr.cast::<T>()).ok_or(ENOMEM)?,
        })
    }

    /// The view through which the values are used.
    pub(crate) fn get(&self) -> PerCpuRef<'_, T> {
        // INVARIANT: the values are valid `T`s (see `new`), and the memory
        // lives as long as `self` is borrowed.
        PerCpuRef {
            ptr: self.ptr.cast(),
            _life: PhantomData,
        }
    }
}

impl<T: AtomicType> Drop for PerCpu<T> {
    fn drop(&mut self) {
        // SAFETY: by the type invariant, `ptr` came from the per-CPU allocator
        // and is freed only here; no `PerCpuRef` outlives `self`.
        unsafe { bindings::free_percpu(self.ptr.as_ptr().cast()) };
    }
}

/// The static per-CPU variable defined in `rust/shim.c` (`DEFINE_PER_CPU`),
/// a `u64` counter per CPU; kmemlab counts the commands each CPU dispatches
/// in it.
pub(crate) fn static_counter() -> PerCpuRef<'static, u64> {
    // SAFETY: the shim returns the address of a `DEFINE_PER_CPU(u64, ...)`,
    // which is never NULL.
    let ptr = unsafe { NonNull::new_unchecked(kmemlab_static_counter_ptr().cast()) };
    // INVARIANT: a static per-CPU `u64`, zero-initialised, lives as long as
    // the module, and kmemlab accesses it only through this view.
    PerCpuRef {
        ptr,
        _life: PhantomData,
    }
}

/// `this_cpu_add(*ptr, v)`.
///
/// # Safety
///
/// `ptr` is a `__percpu` pointer to a live `u64` only accessed atomically.
#[cfg(all(CONFIG_X86_64, CONFIG_SMP, not(CONFIG_UML)))]
unsafe fn this_cpu_add(ptr: *mut u64, v: u64) {
    // (A uniprocessor kernel has no per-CPU offset: it takes the shim's form.)
    // SAFETY: on SMP x86-64 the GS base is this CPU's per-CPU offset, so
    // `gs:[ptr]` is this CPU's copy (as in the kernel's `this_cpu_add()`); one
    // instruction cannot be split by preemption or an interrupt.
    unsafe {
        core::arch::asm!(
            "add qword ptr gs:[{p}], {v}",
            p = in(reg) ptr,
            v = in(reg) v,
            options(nostack)
        )
    }
}

/// `this_cpu_add_return(*ptr, v)`; with `v == 0`, `this_cpu_read(*ptr)`.
///
/// # Safety
///
/// As for [`this_cpu_add`].
#[cfg(all(CONFIG_X86_64, CONFIG_SMP, not(CONFIG_UML)))]
unsafe fn this_cpu_add_return(ptr: *mut u64, v: u64) -> u64 {
    if v == 0 {
        let value: u64;
        // SAFETY: as in `this_cpu_add`: one load of this CPU's copy.
        unsafe {
            core::arch::asm!(
                "mov {o}, qword ptr gs:[{p}]",
                p = in(reg) ptr,
                o = out(reg) value,
                options(nostack, readonly, preserves_flags)
            )
        };
        return value;
    }
    let mut old = v;
    // SAFETY: as in `this_cpu_add`; `xadd` leaves the old value in `old`.
    unsafe {
        core::arch::asm!(
            "xadd qword ptr gs:[{p}], {o}",
            p = in(reg) ptr,
            o = inout(reg) old,
            options(nostack)
        )
    };
    old.wrapping_add(v)
}

/// `this_cpu_add(*ptr, v)`, through the shim on architectures without the
/// inline form.
///
/// # Safety
///
/// `ptr` is a `__percpu` pointer to a live `u64` only accessed atomically.
#[cfg(not(all(CONFIG_X86_64, CONFIG_SMP, not(CONFIG_UML))))]
unsafe fn this_cpu_add(ptr: *mut u64, v: u64) {
    // SAFETY: guaranteed by the caller.
    unsafe { kmemlab_this_cpu_add_u64(ptr, v) }
}

/// `this_cpu_add_return(*ptr, v)`, through the shim.
///
/// # Safety
///
/// As for [`this_cpu_add`].
#[cfg(not(all(CONFIG_X86_64, CONFIG_SMP, not(CONFIG_UML))))]
unsafe fn this_cpu_add_return(ptr: *mut u64, v: u64) -> u64 {
    // SAFETY: guaranteed by the caller.
    unsafe { kmemlab_this_cpu_add_return_u64(ptr, v) }
}

/// The static per-CPU array of counters defined in `rust/shim.c`.
pub(crate) fn static_counters() -> PerCpuRef<'static, u64, STATIC_COUNTERS> {
    let addr = (&raw const kmemlab_static_counters).cast_mut().cast();
    // SAFETY: the address of a static (only taken, never accessed) is never NULL.
    let ptr = unsafe { NonNull::new_unchecked(addr) };
    // INVARIANT: a static per-CPU `[u64; STATIC_COUNTERS]` (the KUnit test
    // `static_array_matches_the_shim` checks the size), zero-initialised,
    // living as long as the module, accessed by kmemlab only through this view.
    PerCpuRef {
        ptr,
        _life: PhantomData,
    }
}

#[kunit_tests(kmemlab_percpu)]
mod tests {
    use super::*;
    use crate::alloc::topology::nr_cpu_ids;

    #[test]
    fn values_start_at_zero_and_add_up() -> Result {
        let counter = PerCpu::<u64>::new()?;
        let view = counter.get();
        assert_eq!(view.sum(), 0);
        let cpu = {
            let this = view.this_cpu();
            view.add_this_cpu(5);
            view.add_this_cpu(6);
            assert_eq!(this.value().load(Relaxed), 11);
            this.cpu()
        };
        assert_eq!(view.on(cpu)?, 11);
        assert_eq!(view.sum(), 11);
        Ok(())
    }

    #[test]
    fn impossible_cpus_are_refused() {
        let counter = PerCpu::<u64>::new();
        assert!(counter.is_ok());
        if let Ok(counter) = counter {
            assert!(counter.get().on(nr_cpu_ids()).is_err());
            assert!(counter.get().on(u32::MAX).is_err());
        }
    }

    #[test]
    fn static_array_matches_the_shim() {
        // SAFETY: no precondition.
        let size = unsafe { kmemlab_static_counters_size() };
        assert_eq!(size, STATIC_COUNTERS * core::mem::size_of::<u64>());
    }

    #[test]
    fn static_array_adds_land_on_this_cpu() {
        // The array's last counter: beyond what the statistics use.
        let last = STATIC_COUNTERS - 1;
        let c = static_counters();
        let before = c.sum_at(last);
        let added = {
            let this = c.this_cpu();
            let was = this.values()[last].load(Relaxed);
            c.add_return_this_cpu_at(last, 5).wrapping_sub(was)
        };
        assert_eq!(added, 5);
        assert_eq!(c.sum_at(last).wrapping_sub(before), 5);
        c.add_this_cpu_at(last, 5u64.wrapping_neg());
        assert_eq!(c.sum_at(last), before);
        // Out of range: ignored.
        assert_eq!(c.add_return_this_cpu_at(STATIC_COUNTERS, 1), 0);
    }

    #[test]
    fn static_variable_is_readable_on_every_cpu() {
        let calls = static_counter();
        assert_eq!(calls.iter().count(), possible_cpus().count());
        let before = calls.sum();
        calls.add_this_cpu(0);
        assert!(calls.sum() >= before);
    }

    #[test]
    fn example_per_cpu() -> Result {
        let counter = PerCpu::<u64>::new()?;
        let view = counter.get();
        let cpu = {
            // Preemption is off while `this` lives: the add lands on its CPU.
            let this = view.this_cpu();
            view.add_this_cpu(5);
            this.cpu()
        };
        // Other CPUs' values are read-only.
        assert_eq!(view.on(cpu)?, 5);
        assert_eq!(view.sum(), 5);
        assert_eq!(view.iter_slots().map(|(_, v)| v.value()).sum::<u64>(), 5);
        Ok(())
    }
}
