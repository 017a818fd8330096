// SPDX-License-Identifier: GPL-2.0

//! Clocks: the CPU's cycle counter and the kernel's nanosecond clocks.
//!
//! C headers: [`include/linux/sched/clock.h`](srctree/include/linux/sched/clock.h),
//! [`include/linux/timex.h`](srctree/include/linux/timex.h),
//! [`include/linux/timekeeping.h`](srctree/include/linux/timekeeping.h)

use core::num::NonZeroU64;

use kernel::sync::atomic::{
    Atomic,
    Relaxed, //
};

extern "C" {
    fn kmemlab_get_cycles() -> u64;
    fn kmemlab_ktime_ns() -> u64;
    fn kmemlab_cycles_scale() -> u64;
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

/// Converts cycle counts to nanoseconds at the rate `ns` per `cycles`
/// measured over some span (0 when the cycle counter did not move).
#[derive(Clone, Copy)]
pub(crate) struct Rate {
    pub(crate) ns: u64,
    pub(crate) cycles: u64,
}

impl Rate {
    /// `cycles * ns / self.cycles` in 64-bit arithmetic (the kernel has no
    /// 128-bit division): the rate as a fixed-point number with as many
    /// fraction bits as `ns` leaves room for (over 20 for any span shorter
    /// than an hour).
    pub(crate) fn to_ns(self, cycles: u64) -> u64 {
        let Some(per) = NonZeroU64::new(self.cycles) else {
            return 0;
        };
        let shift = self.ns.leading_zeros().min(32).saturating_sub(1);
        let scale = (self.ns << shift) / per;
        // `cycles` split at the binary point keeps every product in range.
        let (whole, part) = (cycles >> shift, cycles & ((1 << shift) - 1));
        whole
            .saturating_mul(scale)
            .saturating_add(part.saturating_mul(scale) >> shift)
    }
}

/// Nanoseconds per cycle of [`cycles`], with 32 fraction bits, measured
/// once when kmemlab loads ([`init`]); 0 until then, or when the counter
/// does not move.
static SCALE: Atomic<u64> = Atomic::new(0);

/// Measures the cycle counter's rate against `ktime` (a 10 ms sleep), for
/// [`cycles_to_ns`]. Process context.
pub(crate) fn init() {
    // SAFETY: called from module init, process context, where the shim's
    // sleep is allowed.
    let scale = unsafe { kmemlab_cycles_scale() };
    SCALE.store(scale, Relaxed);
}

/// `cycles` of the cycle counter in nanoseconds, at the rate measured when
/// kmemlab loaded (0 before that, or without a cycle counter). Only
/// differences of the counter are converted, each taken within one
/// allocation, so a counter that stops or restarts across a suspend
/// changes nothing here.
pub(crate) fn cycles_to_ns(cycles: u64) -> u64 {
    let ns = (u128::from(cycles) * u128::from(SCALE.load(Relaxed))) >> 32;
    u64::try_from(ns).unwrap_or(u64::MAX)
}
