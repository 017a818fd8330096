// SPDX-License-Identifier: GPL-2.0

//! Page allocations: `__get_free_pages` and `alloc_pages_node`.
//!
//! C header: [`include/linux/gfp.h`](srctree/include/linux/gfp.h)
//!
//! The kernel crate's `Page` is a single order-0 page with no node choice;
//! these types own `2^order` contiguous pages, either as a kernel virtual
//! address (`__get_free_pages`) or as a `struct page` placed on a chosen NUMA
//! node (`alloc_pages_node`).

use core::ptr::NonNull;

use kernel::{
    bindings,
    page::PAGE_SIZE,
    prelude::*, //
};

use super::{
    bytes_allocation,
    gfp::Gfp,
    topology::Node,
    Bytes, //
};

extern "C" {
    // `struct page` is passed as `void *`: its bindgen type is not FFI-safe.
    fn kmemlab_page_address(page: *mut c_void) -> *mut c_void;
    fn kmemlab_page_to_nid(page: *const c_void) -> c_int;
    fn kmemlab_get_free_pages(gfp: bindings::gfp_t, order: c_uint) -> c_ulong;
    fn kmemlab_alloc_pages_node(nid: c_int, gfp: bindings::gfp_t, order: c_uint) -> *mut c_void;
}

/// The largest order the page allocator serves (`MAX_PAGE_ORDER`).
pub(crate) const MAX_ORDER: u32 = bindings::MAX_PAGE_ORDER;

/// Bytes in `2^order` pages, or `EINVAL` for an order above [`MAX_ORDER`].
pub(crate) fn order_bytes(order: u32) -> Result<usize> {
    if order > MAX_ORDER {
        return Err(EINVAL);
    }
    Ok(PAGE_SIZE << order)
}

/// `2^order` pages from `__get_free_pages`, freed on drop.
///
/// # Examples
///
/// ```ignore
/// let mut pages = FreePages::new(2, Gfp::KERNEL.zeroed())?;
/// assert_eq!(pages.order(), 2);
/// assert_eq!(pages.as_slice().len(), 4 * PAGE_SIZE);
/// pages.as_mut_slice().fill(0xff);
/// ```
///
/// Compiled and run as the KUnit case `kmemlab_pages::example_free_pages`.
///
/// # Invariants
///
/// `bytes` starts at the kernel virtual address `__get_free_pages` returned
/// for `order` and covers its `PAGE_SIZE << order` bytes (no `__GFP_HIGHMEM`,
/// so it is a linear-map address); the pages are owned only by this value.
pub(crate) struct FreePages {
    bytes: Bytes,
    order: u32,
}

// SAFETY: the pages are plain memory owned by this value, freeable from any context.
unsafe impl Send for FreePages {}
// SAFETY: shared references only allow reads of plain bytes.
unsafe impl Sync for FreePages {}

impl FreePages {
    /// Allocates `2^order` pages (order 0 to [`MAX_ORDER`]) with `gfp`,
    /// zeroed whatever `gfp` says (they are lent out as bytes).
    pub(crate) fn new(order: u32, gfp: Gfp) -> Result<Self> {
        order_bytes(order)?;
        let gfp = gfp.zeroed();
        // SAFETY: `order` is at most `MAX_PAGE_ORDER` and `gfp` is a valid mask
        // without `__GFP_HIGHMEM`.
        let addr = unsafe { kmemlab_get_free_pages(gfp.raw(), order) };
        // CAST: a kernel virtual address fits in a pointer.
        let addr = NonNull::new(addr as *mut u8).ok_or(ENOMEM)?;
        // SAFETY: `addr` is a fresh, mapped, zeroed allocation of
        // `PAGE_SIZE << order` bytes that only the new value uses.
        let bytes = unsafe { Bytes::new(addr, PAGE_SIZE << order) };
        // INVARIANT: `bytes` is a fresh allocation of `order`, owned by the new value.
        Ok(Self { bytes, order })
    }
}

bytes_allocation! {
    FreePages,
    fn nid(&self) -> i32 {
        // SAFETY: the pages are live while `self` is, at a linear-map
        // address (type invariant: no `__GFP_HIGHMEM`).
        unsafe { super::linear_nid(self.bytes.ptr()) }
    }

    fn order(&self) -> u32 {
        self.order
    }
}

impl Drop for FreePages {
    fn drop(&mut self) {
        // CAST: the pointer came from an address `__get_free_pages` returned.
        let addr = self.bytes.ptr().as_ptr() as c_ulong;
        // SAFETY: by the type invariant `addr` and `order` are those of a live
        // `__get_free_pages` allocation, freed exactly once, here.
        unsafe { bindings::free_pages(addr, self.order) };
    }
}

/// `2^order` pages from `alloc_pages_node`, freed on drop.
///
/// # Examples
///
/// ```ignore
/// let pages = NodePages::new(1, Gfp::KERNEL.zeroed(), Node::new(0)?)?;
/// // Node 0 is preferred, not forced: `nid()` tells where they landed.
/// assert!(pages.nid() >= 0);
/// assert_eq!(pages.as_slice().len(), 2 * PAGE_SIZE);
/// ```
///
/// Compiled and run as the KUnit case `kmemlab_pages::example_node_pages`.
///
/// # Invariants
///
/// `page` is the first `struct page` of a live `alloc_pages_node` allocation
/// of `order`, owned only by this value, and `bytes` covers its linear-map
/// address (no `__GFP_HIGHMEM`) for `PAGE_SIZE << order` bytes.
pub(crate) struct NodePages {
    page: NonNull<bindings::page>,
    bytes: Bytes,
    order: u32,
}

// SAFETY: the pages are plain memory owned by this value, freeable from any context.
unsafe impl Send for NodePages {}
// SAFETY: shared references only allow reads of plain bytes.
unsafe impl Sync for NodePages {}

impl NodePages {
    /// Allocates `2^order` pages (order 0 to [`MAX_ORDER`]) on `node`
    /// (preferred, not forced: the allocator may fall back to another node
    /// unless the request forbids it; [`NodePages::nid`] tells where they
    /// landed), zeroed whatever `gfp` says (they are lent out as bytes).
    pub(crate) fn new(order: u32, gfp: Gfp, node: Node) -> Result<Self> {
        order_bytes(order)?;
        let gfp = gfp.zeroed();
        // SAFETY: `order` is at most `MAX_PAGE_ORDER`, `node` is online or
        // `NUMA_NO_NODE`, and `gfp` has no `__GFP_HIGHMEM`.
        let page = unsafe { kmemlab_alloc_pages_node(node.raw(), gfp.raw(), order) };
        let page = NonNull::new(page.cast::<bindings::page>()).ok_or(ENOMEM)?;
        // SAFETY: `page` is a live lowmem page we own.
        let addr = unsafe { kmemlab_page_address(page.as_ptr().cast()) };
        let Some(addr) = NonNull::new(addr.cast::<u8>()) else {
            // SAFETY: `page` was just allocated with `order` and is not used again.
            unsafe { bindings::__free_pages(page.as_ptr(), order) };
            return Err(ENOMEM);
        };
        // SAFETY: `addr` maps the fresh, zeroed allocation's `PAGE_SIZE << order`
        // bytes, which only the new value uses.
        let bytes = unsafe { Bytes::new(addr, PAGE_SIZE << order) };
        // INVARIANT: `page` is a fresh allocation of `order` and `bytes` its mapping.
        Ok(Self { page, bytes, order })
    }
}

bytes_allocation! {
    NodePages,
    fn nid(&self) -> i32 {
        // The node the pages really landed on.
        // SAFETY: `page` is a live page by the type invariant.
        unsafe { kmemlab_page_to_nid(self.page.as_ptr().cast()) }
    }

    fn order(&self) -> u32 {
        self.order
    }
}

impl Drop for NodePages {
    fn drop(&mut self) {
        // SAFETY: by the type invariant `page` and `order` are those of a live
        // `alloc_pages_node` allocation, freed exactly once, here.
        unsafe { bindings::__free_pages(self.page.as_ptr(), self.order) };
    }
}

#[cfg(CONFIG_KUNIT)]
#[kernel::macros::kunit_tests(kmemlab_pages)]
mod tests {
    use super::*;
    use crate::alloc::Allocation;

    #[test]
    fn free_pages_have_the_order_asked() -> Result {
        for order in [0, 3] {
            let mut pages = FreePages::new(order, Gfp::KERNEL.zeroed())?;
            assert_eq!(pages.order(), order);
            assert_eq!(pages.as_slice().len(), PAGE_SIZE << order);
            assert!(pages.as_slice().iter().all(|b| *b == 0));
            pages.as_mut_slice().fill(1);
        }
        assert_eq!(order_bytes(MAX_ORDER + 1), Err(EINVAL));
        assert!(FreePages::new(MAX_ORDER + 1, Gfp::KERNEL.zeroed()).is_err());
        Ok(())
    }

    #[test]
    fn node_pages_land_on_the_node() -> Result {
        let pages = NodePages::new(2, Gfp::KERNEL.zeroed(), Node::new(0)?)?;
        assert_eq!(pages.nid(), 0);
        assert_eq!(pages.as_slice().len(), PAGE_SIZE << 2);
        assert!(NodePages::new(MAX_ORDER + 1, Gfp::KERNEL.zeroed(), Node::ANY).is_err());
        Ok(())
    }

    #[test]
    fn example_free_pages() -> Result {
        let mut pages = FreePages::new(2, Gfp::KERNEL.zeroed())?;
        assert_eq!(pages.order(), 2);
        assert_eq!(pages.as_slice().len(), 4 * PAGE_SIZE);
        pages.as_mut_slice().fill(0xff);
        Ok(())
    }

    #[test]
    fn example_node_pages() -> Result {
        let pages = NodePages::new(1, Gfp::KERNEL.zeroed(), Node::new(0)?)?;
        // Node 0 is preferred, not forced: `nid()` tells where they landed.
        assert!(pages.nid() >= 0);
        assert_eq!(pages.as_slice().len(), 2 * PAGE_SIZE);
        Ok(())
    }
}
