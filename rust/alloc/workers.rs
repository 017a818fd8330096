// SPDX-License-Identifier: GPL-2.0

//! A kernel thread on each of the first N online CPUs, released together
//! (`kmemlab_run_workers` in `rust/shim_bench.c`, which holds CPU hotplug off
//! while they run): the benchmarks' multi-threaded runs.
//!
//! C header: [`include/linux/kthread.h`](srctree/include/linux/kthread.h)

use kernel::{
    ffi::{
        c_int,
        c_uint,
        c_void, //
    },
    prelude::*,
    sync::atomic::Atomic,
};

extern "C" {
    fn kmemlab_run_workers(
        nr: c_uint,
        f: unsafe extern "C" fn(ctx: *mut c_void, cpu: c_uint),
        ctxs: *mut c_void,
        stride: usize,
        stop: *mut u32,
    ) -> c_int;
}

/// What one worker of [`on_cpus`] runs and where its result goes.
struct Worker<'a, F, T> {
    f: &'a F,
    stop: &'a Atomic<u32>,
    out: Option<T>,
}

/// Runs `f(cpu, stop)` in a kernel thread on each of the first `nr` online
/// CPUs, the threads released together, and returns their results in CPU
/// order once all have finished. The threads are bound to their CPUs and
/// may sleep. A signal to the caller sets `stop` to non-zero (`f` should poll
/// it and return early) and makes the call fail with `EINTR` after every
/// thread has finished.
///
/// Errors: `EINVAL` (`nr` is 0 or above the online CPUs), `ENOMEM` or the
/// error of a thread that cannot be made (then none has run), `EINTR`.
pub(crate) fn on_cpus<T, F>(nr: u32, f: &F) -> Result<KVec<T>>
where
    T: Send,
    F: Fn(u32, &Atomic<u32>) -> T + Sync,
{
    /// Runs one worker.
    ///
    /// # Safety
    ///
    /// `ctx` points to a `Worker<F, T>` that no one else uses until
    /// `kmemlab_run_workers` returns.
    unsafe extern "C" fn trampoline<F, T>(ctx: *mut c_void, cpu: c_uint)
    where
        F: Fn(u32, &Atomic<u32>) -> T,
    {
        // SAFETY: guaranteed by the caller.
        let w = unsafe { &mut *ctx.cast::<Worker<'_, F, T>>() };
        w.out = Some((w.f)(cpu, w.stop));
    }

    let stop = Atomic::new(0u32);
    let mut workers = KVec::with_capacity(nr as usize, GFP_KERNEL)?;
    for _ in 0..nr {
        workers.push(
            Worker {
                f,
                stop: &stop,
                out: None,
            },
            GFP_KERNEL,
        )?;
    }
    // Each thread gets its own element of `workers` (the stride is the
    // element size); `stop` is written by C with `WRITE_ONCE` and read here
    // atomically.
    // SAFETY: the call returns only once every thread that ran is done, so
    // `workers` and `stop` outlive every use; `F: Sync` and `T: Send` allow
    // calling `f` and handing its result over from other threads.
    let ret = unsafe {
        kmemlab_run_workers(
            nr,
            trampoline::<F, T>,
            workers.as_mut_ptr().cast(),
            core::mem::size_of::<Worker<'_, F, T>>(),
            stop.as_ptr(),
        )
    };
    kernel::error::to_result(ret)?;
    let mut out = KVec::with_capacity(workers.len(), GFP_KERNEL)?;
    for w in workers {
        out.push(w.out.ok_or(EINVAL)?, GFP_KERNEL)?;
    }
    Ok(out)
}

#[kunit_tests(kmemlab_workers)]
mod tests {
    use super::*;
    use kernel::sync::atomic::Relaxed;

    #[test]
    fn workers_run_once_on_each_online_cpu() -> Result {
        let n = crate::alloc::topology::online_cpus();
        let ran = Atomic::new(0u32);
        // Assertions fail only in the test's own thread: the workers report.
        let cpus = on_cpus(n, &|cpu, stop: &Atomic<u32>| {
            ran.add(1, Relaxed);
            (
                cpu,
                kernel::cpu::CpuId::current().as_u32(),
                stop.load(Relaxed),
            )
        })?;
        assert_eq!(ran.load(Relaxed), n);
        assert_eq!(cpus.len(), n as usize);
        for (i, (asked, ran_on, stop)) in cpus.iter().enumerate() {
            assert_eq!(asked, ran_on);
            assert_eq!(*stop, 0);
            assert!(cpus[..i].iter().all(|(c, _, _)| c != asked));
        }
        assert!(on_cpus(0, &|_, _: &Atomic<u32>| ()).is_err());
        assert!(on_cpus(n + 1, &|_, _: &Atomic<u32>| ()).is_err());
        Ok(())
    }
}
