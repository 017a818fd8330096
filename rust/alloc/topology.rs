// SPDX-License-Identifier: GPL-2.0

//! CPU and NUMA node topology, as seen by the node-aware allocators.
//!
//! C headers: [`include/linux/cpumask.h`](srctree/include/linux/cpumask.h),
//! [`include/linux/nodemask.h`](srctree/include/linux/nodemask.h)

use kernel::ffi::c_uint;

// The C shim (`rust/shim.c`) forwards to the kernel's inline helpers.
extern "C" {
    fn kmemlab_num_online_cpus() -> c_uint;
    fn kmemlab_num_online_nodes() -> c_uint;
}

/// Number of CPUs online right now (it can change under CPU hotplug).
pub(crate) fn online_cpus() -> u32 {
    // SAFETY: the shim function has no preconditions; it reads a global counter.
    unsafe { kmemlab_num_online_cpus() }
}

/// Number of NUMA nodes online right now.
pub(crate) fn online_nodes() -> u32 {
    // SAFETY: the shim function has no preconditions; it reads a global bitmap.
    unsafe { kmemlab_num_online_nodes() }
}
