// SPDX-License-Identifier: GPL-2.0

//! CPU and NUMA node topology, as seen by the node-aware allocators, and
//! the zones memory lies in.
//!
//! C headers: [`include/linux/cpumask.h`](srctree/include/linux/cpumask.h),
//! [`include/linux/nodemask.h`](srctree/include/linux/nodemask.h),
//! [`include/linux/mmzone.h`](srctree/include/linux/mmzone.h)

use core::ptr::NonNull;

use kernel::{
    bindings,
    ffi::{
        c_int,
        c_uint,
        c_void, //
    },
    prelude::*,
};

// The C shim (`rust/shim.c`) forwards to the kernel's inline helpers.
extern "C" {
    fn kmemlab_num_online_cpus() -> c_uint;
    fn kmemlab_num_online_nodes() -> c_uint;
    fn kmemlab_node_online(nid: c_int) -> bool;
    fn kmemlab_cpu_possible(cpu: c_uint) -> bool;
    // `struct page` is passed as `void *`: its bindgen type is not FFI-safe.
    fn kmemlab_page_zone(page: *const c_void) -> c_int;
    fn kmemlab_addr_zone(addr: *const c_void) -> c_int;
    fn kmemlab_addr_backing(addr: *const c_void) -> c_int;
}

/// A memory zone: the kernel's `enum zone_type`, by name (its numbering
/// depends on the zones the kernel was built with).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Zone {
    /// Not a page of RAM the kernel knows the zone of.
    Unknown,
    /// `ZONE_DMA`: the first 16 MiB on x86.
    Dma,
    /// `ZONE_DMA32`: below 4 GiB.
    Dma32,
    /// `ZONE_NORMAL`.
    Normal,
    /// `ZONE_HIGHMEM`: not permanently mapped (32-bit kernels).
    HighMem,
    /// `ZONE_MOVABLE`: movable pages only.
    Movable,
    /// `ZONE_DEVICE`: device memory with `struct page`s.
    Device,
}

impl Zone {
    /// The zone for the C shim's number.
    fn from_shim(n: c_int) -> Zone {
        match n {
            1 => Zone::Dma,
            2 => Zone::Dma32,
            3 => Zone::Normal,
            4 => Zone::HighMem,
            5 => Zone::Movable,
            6 => Zone::Device,
            _ => Zone::Unknown,
        }
    }

    /// The zone of `page`.
    ///
    /// # Safety
    ///
    /// `page` is the `struct page` of a page the caller holds.
    pub(crate) unsafe fn of_page(page: NonNull<bindings::page>) -> Zone {
        // SAFETY: guaranteed by the caller; the shim only reads the page's flags.
        Zone::from_shim(unsafe { kmemlab_page_zone(page.as_ptr().cast()) })
    }

    /// The zone of the page holding the first byte of `bytes`
    /// ([`Zone::Unknown`] when empty, or not RAM in the linear map or the
    /// vmalloc area).
    pub(crate) fn of_bytes(bytes: &[u8]) -> Zone {
        if bytes.is_empty() {
            return Zone::Unknown;
        }
        // SAFETY: the borrow keeps the first byte's memory live; the shim
        // looks an address up (vmalloc area, then linear map) and returns
        // 0 for any other.
        Zone::from_shim(unsafe { kmemlab_addr_zone(bytes.as_ptr().cast()) })
    }
}

/// What served an allocation's memory.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Backing {
    /// Not RAM of one allocator (device memory, per-CPU areas).
    None,
    /// An object of a slab cache.
    Slab,
    /// A block of pages from the page allocator.
    Pages,
    /// Pages mapped into the vmalloc area.
    Vmalloc,
}

impl Backing {
    /// What served the memory holding the first byte of `bytes`.
    pub(crate) fn of_bytes(bytes: &[u8]) -> Backing {
        if bytes.is_empty() {
            return Backing::None;
        }
        // SAFETY: as in `Zone::of_bytes`: the shim classifies the address
        // of live memory and answers 0 for an address of no allocator.
        match unsafe { kmemlab_addr_backing(bytes.as_ptr().cast()) } {
            1 => Backing::Slab,
            2 => Backing::Pages,
            3 => Backing::Vmalloc,
            _ => Backing::None,
        }
    }
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
    fn zones_and_backings_are_the_kernels() -> Result {
        let on_stack = [1u8; 8];
        // A stack is vmalloc'd (VMAP_STACK) or in the linear map; never a slab object.
        assert_ne!(Backing::of_bytes(&on_stack), Backing::Slab);
        assert_eq!(Zone::of_bytes(&[]), Zone::Unknown);
        assert_eq!(Backing::of_bytes(&[]), Backing::None);
        let mut boxed = KVec::with_capacity(64, GFP_KERNEL)?;
        boxed.extend_from_slice(&[0u8; 64], GFP_KERNEL)?;
        assert_eq!(Backing::of_bytes(&boxed), Backing::Slab);
        assert!(matches!(
            Zone::of_bytes(&boxed),
            Zone::Dma32 | Zone::Normal | Zone::Movable
        ));
        Ok(())
    }

    #[test]
    fn example_node() -> Result {
        assert_eq!(Node::new(-1)?, Node::ANY);
        assert_eq!(Node::new(0)?.id(), 0);
        assert_eq!(Node::new(-2), Err(EINVAL));
        Ok(())
    }
}
