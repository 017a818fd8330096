// SPDX-License-Identifier: GPL-2.0

//! CPU and NUMA node topology, as seen by the node-aware allocators.
//!
//! C headers: [`include/linux/cpumask.h`](srctree/include/linux/cpumask.h),
//! [`include/linux/nodemask.h`](srctree/include/linux/nodemask.h)

use kernel::{
    bindings,
    ffi::{
        c_int,
        c_uint, //
    },
    prelude::*,
};

// The C shim (`rust/shim.c`) forwards to the kernel's inline helpers.
extern "C" {
    fn kmemlab_num_online_cpus() -> c_uint;
    fn kmemlab_num_online_nodes() -> c_uint;
    fn kmemlab_node_online(nid: c_int) -> bool;
    fn kmemlab_cpu_possible(cpu: c_uint) -> bool;
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

/// The CPU the caller is running on; only a hint, as the caller may migrate.
pub(crate) fn current_cpu() -> u32 {
    kernel::cpu::CpuId::current().as_u32()
}

/// The number of CPU ids: every possible CPU is below it.
pub(crate) fn nr_cpu_ids() -> u32 {
    kernel::cpu::nr_cpu_ids()
}

/// Whether `cpu` is a possible CPU (one that has per-CPU memory).
pub(crate) fn cpu_possible(cpu: u32) -> bool {
    // SAFETY: the shim's `cpu_possible()` reads a bitmap of `nr_cpu_ids`
    // bits; `cpu` is checked to be below that first.
    cpu < nr_cpu_ids() && unsafe { kmemlab_cpu_possible(cpu) }
}

/// Every possible CPU, in increasing order.
pub(crate) fn possible_cpus() -> impl Iterator<Item = u32> {
    (0..nr_cpu_ids()).filter(|cpu| cpu_possible(*cpu))
}

/// An online NUMA node, or no preference.
///
/// # Examples
///
/// ```ignore
/// assert_eq!(Node::new(-1)?, Node::ANY);
/// assert_eq!(Node::new(0)?.id(), 0);
/// assert_eq!(Node::new(-2), Err(EINVAL));
/// ```
///
/// Compiled and run as the KUnit case `kmemlab_topology::example_node`.
///
/// # Invariants
///
/// When `Some`, the node id was online when the value was made (nodes do not
/// go offline while they hold memory, so allocating on it stays valid).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Node(Option<i32>);

impl Node {
    /// No node preference: the allocator picks (normally the local node).
    pub(crate) const ANY: Node = Node(None);

    /// Validates `nid`: `-1` means any node; otherwise it must be an online node.
    pub(crate) fn new(nid: i32) -> Result<Node> {
        if nid == -1 {
            return Ok(Node::ANY);
        }
        // CAST: MAX_NUMNODES is a small power of two.
        if nid < 0 || nid >= bindings::MAX_NUMNODES as i32 {
            return Err(EINVAL);
        }
        // SAFETY: `nid` is within `0..MAX_NUMNODES`, the range `node_online()` accepts.
        if !unsafe { kmemlab_node_online(nid) } {
            return Err(EINVAL);
        }
        // INVARIANT: `nid` is online.
        Ok(Node(Some(nid)))
    }

    /// The C node id: the node, or `NUMA_NO_NODE`.
    pub(crate) fn raw(self) -> c_int {
        self.0.unwrap_or(bindings::NUMA_NO_NODE)
    }

    /// The id as the ABI reports it (`-1` for any).
    pub(crate) fn id(self) -> i32 {
        self.0.unwrap_or(-1)
    }
}

#[cfg(CONFIG_KUNIT)]
#[kernel::macros::kunit_tests(kmemlab_topology)]
mod tests {
    use super::*;

    #[test]
    fn nodes_are_validated() {
        assert_eq!(Node::new(-1), Ok(Node::ANY));
        assert_eq!(Node::new(0).map(Node::id), Ok(0));
        assert_eq!(Node::new(-2), Err(EINVAL));
        // CAST: MAX_NUMNODES is small.
        assert_eq!(Node::new(bindings::MAX_NUMNODES as i32), Err(EINVAL));
        assert_eq!(Node::ANY.raw(), bindings::NUMA_NO_NODE);
    }

    #[test]
    fn topology_is_sane() {
        assert!(online_cpus() >= 1);
        assert!(online_nodes() >= 1);
        assert!(current_cpu() < kernel::cpu::nr_cpu_ids());
    }

    #[test]
    fn example_node() -> Result {
        assert_eq!(Node::new(-1)?, Node::ANY);
        assert_eq!(Node::new(0)?.id(), 0);
        assert_eq!(Node::new(-2), Err(EINVAL));
        Ok(())
    }
}
