// SPDX-License-Identifier: GPL-2.0

//! Clocks: the CPU's cycle counter and the kernel's nanosecond clocks.
//!
//! C headers: [`include/linux/sched/clock.h`](srctree/include/linux/sched/clock.h),
//! [`include/linux/timex.h`](srctree/include/linux/timex.h),
//! [`include/linux/timekeeping.h`](srctree/include/linux/timekeeping.h)

use core::num::NonZeroU64;

use kernel::sync::atomic::{
    Acquire,
    Atomic,
    Relaxed,
    Release, //
};

extern "C" {
    fn kmemlab_get_cycles() -> u64;
    fn kmemlab_ktime_ns() -> u64;
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
    /// than an hour, 16 after a year).
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

/// `ktime` and the cycle counter when kmemlab loaded ([`init`]): the span
/// over which [`cycles_to_ns`] measures the counter's rate. `EPOCH_NS` is
/// stored last, so a reader that sees it set sees `EPOCH_CYCLES` too; before
/// that the span starts at 0 for both.
static EPOCH_CYCLES: Atomic<u64> = Atomic::new(0);
static EPOCH_NS: Atomic<u64> = Atomic::new(0);

/// Starts the span [`cycles_to_ns`] measures the cycle counter over.
pub(crate) fn init() {
    EPOCH_CYCLES.store(cycles(), Relaxed);
    EPOCH_NS.store(ktime_ns(), Release);
}

/// `cycles` of this CPU's counter in nanoseconds, at the rate the counter
/// kept against `ktime` since kmemlab loaded: two clock reads, for the
/// callers that add up many cycle counts and convert them once.
pub(crate) fn cycles_to_ns(cycles: u64) -> u64 {
    let epoch_ns = EPOCH_NS.load(Acquire);
    let epoch_cycles = if epoch_ns == 0 {
        0
    } else {
        EPOCH_CYCLES.load(Relaxed)
    };
    let rate = Rate {
        ns: ktime_ns().saturating_sub(epoch_ns),
        cycles: self::cycles().saturating_sub(epoch_cycles),
    };
    rate.to_ns(cycles)
}
