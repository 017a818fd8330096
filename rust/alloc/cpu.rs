// SPDX-License-Identifier: GPL-2.0

//! Where the current task runs: keeping it on its CPU, yielding it, and
//! running a function on another CPU.
//!
//! C headers: [`include/linux/preempt.h`](srctree/include/linux/preempt.h),
//! [`include/linux/smp.h`](srctree/include/linux/smp.h)

use core::marker::PhantomData;

use kernel::{
    bindings,
    ffi::c_void,
    prelude::*, //
};

use super::topology::cpu_possible;

extern "C" {
    fn kmemlab_migrate_disable();
    fn kmemlab_migrate_enable();
    fn kmemlab_cond_resched();
}

/// Lets the scheduler run something else if it needs to (`cond_resched()`).
pub(crate) fn cond_resched() {
    // SAFETY: no precondition; called from task context.
    unsafe { kmemlab_cond_resched() }
}

/// Keeps the current task on the CPU it runs on while the guard lives
/// (`migrate_disable()`); unlike [`super::percpu::ThisCpu`], the task may still sleep and
/// be preempted.
///
/// # Examples
///
/// ```ignore
/// let pin = NoMigrate::new();
/// let cpu = pin.cpu();
/// cond_resched();
/// assert_eq!(kernel::cpu::CpuId::current().as_u32(), cpu);
/// ```
///
/// Compiled and run as the KUnit case `kmemlab_cpu::example_no_migrate`.
///
/// # Invariants
///
/// Migration was disabled when the guard was made and is enabled again by
/// its `Drop`.
pub(crate) struct NoMigrate {
    /// Migration state belongs to the task: the guard must stay on it.
    _not_send: PhantomData<*mut ()>,
}

impl NoMigrate {
    /// Disables migration.
    pub(crate) fn new() -> Self {
        // SAFETY: no precondition; undone by `drop`.
        unsafe { kmemlab_migrate_disable() };
        // INVARIANT: disabled just above.
        Self {
            _not_send: PhantomData,
        }
    }

    /// The CPU the task is kept on.
    pub(crate) fn cpu(&self) -> u32 {
        kernel::cpu::CpuId::current().as_u32()
    }
}

impl Drop for NoMigrate {
    fn drop(&mut self) {
        // SAFETY: by the type invariant, this guard disabled migration.
        unsafe { kmemlab_migrate_enable() };
    }
}

/// Runs `f` on `cpu` and waits for it (`smp_call_function_single()`): `f`
/// runs in interrupt context there, so it must not sleep (nor call
/// `run_on`). Call from task context with interrupts enabled.
///
/// Errors: `EINVAL` when `cpu` is not possible, `ENXIO` when it is offline.
pub(crate) fn run_on<F: FnOnce() + Send>(cpu: u32, f: F) -> Result {
    /// Calls the closure behind `info` once.
    ///
    /// # Safety
    ///
    /// `info` points to an `Option<F>` that no one else uses until this returns.
    unsafe extern "C" fn trampoline<F: FnOnce()>(info: *mut c_void) {
        // SAFETY: guaranteed by the caller.
        let slot = unsafe { &mut *info.cast::<Option<F>>() };
        if let Some(f) = slot.take() {
            f();
        }
    }

    if !cpu_possible(cpu) {
        return Err(EINVAL);
    }
    let mut slot = Some(f);
    // CAST: `cpu` is below `nr_cpu_ids`, which fits in a `c_int`.
    let cpu = cpu as i32;
    // SAFETY: `wait` is true, so the call returns only after `trampoline` has
    // run (or not at all, on error) and `slot` outlives every use of it; `F`
    // is `Send`, so running it on another CPU is allowed.
    let ret = unsafe {
        bindings::smp_call_function_single(cpu, Some(trampoline::<F>), (&raw mut slot).cast(), true)
    };
    kernel::error::to_result(ret)
}

#[kunit_tests(kmemlab_cpu)]
mod tests {
    use super::*;
    use crate::alloc::{
        percpu::PerCpu,
        topology::{
            nr_cpu_ids,
            possible_cpus, //
        },
    };

    #[test]
    fn run_on_reaches_every_online_cpu() -> Result {
        let counter = PerCpu::<u64>::new()?;
        let view = counter.get();
        let mut expected = 0u64;
        for cpu in possible_cpus() {
            match run_on(cpu, || view.add_this_cpu(u64::from(cpu) + 1)) {
                Ok(()) => {
                    assert_eq!(view.on(cpu)?, u64::from(cpu) + 1);
                    expected += u64::from(cpu) + 1;
                }
                Err(e) => assert_eq!(e, ENXIO),
            }
        }
        assert_eq!(view.sum(), expected);
        Ok(())
    }

    #[test]
    fn example_no_migrate() -> Result {
        let pin = NoMigrate::new();
        let cpu = pin.cpu();
        cond_resched();
        assert_eq!(kernel::cpu::CpuId::current().as_u32(), cpu);
        Ok(())
    }

    #[test]
    fn impossible_cpus_are_refused() {
        assert_eq!(run_on(nr_cpu_ids(), || {}), Err(EINVAL));
        assert_eq!(run_on(u32::MAX, || {}), Err(EINVAL));
    }
}
