// SPDX-License-Identifier: GPL-2.0

//! Clocks: the CPU's cycle counter and the kernel's nanosecond clocks.
//!
//! C headers: [`include/linux/sched/clock.h`](srctree/include/linux/sched/clock.h),
//! [`include/linux/timex.h`](srctree/include/linux/timex.h),
//! [`include/linux/timekeeping.h`](srctree/include/linux/timekeeping.h)

extern "C" {
    fn kmemlab_local_clock() -> u64;
    fn kmemlab_get_cycles() -> u64;
    fn kmemlab_ktime_ns() -> u64;
}

/// This CPU's clock in nanoseconds (`local_clock()`): cheap, monotonic on
/// one CPU, not comparable across CPUs.
pub(crate) fn local_clock_ns() -> u64 {
    // SAFETY: no precondition.
    unsafe { kmemlab_local_clock() }
}

/// The CPU's cycle counter (`get_cycles()`: the time stamp counter on x86):
/// not comparable across CPUs.
pub(crate) fn cycles() -> u64 {
    // SAFETY: no precondition.
    unsafe { kmemlab_get_cycles() }
}

/// Monotonic nanoseconds (`ktime_get_ns()`), comparable across CPUs.
pub(crate) fn ktime_ns() -> u64 {
    // SAFETY: no precondition.
    unsafe { kmemlab_ktime_ns() }
}
