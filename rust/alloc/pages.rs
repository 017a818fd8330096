// SPDX-License-Identifier: GPL-2.0

//! Page allocations: `__get_free_pages` and `alloc_pages_node`.
//!
//! C header: [`include/linux/gfp.h`](srctree/include/linux/gfp.h)
//!
//! The kernel crate's `Page` is a single order-0 page with no node choice;
//! these types own `2^order` contiguous pages, either as a kernel virtual
//! address (`__get_free_pages`) or as a `struct page` placed on a chosen NUMA
//! node (`alloc_pages_node`).

use core::{
    ops::Range,
    ptr::NonNull, //
};

use kernel::{
    bindings,
    page::PAGE_SIZE,
    prelude::*, //
};

use super::{
    bytes_allocation,
    gfp::Gfp,
    topology::{
        Node,
        Zone, //
    },
    Bytes, //
};

extern "C" {
    // `struct page` is passed as `void *`: its bindgen type is not FFI-safe.
    fn kmemlab_kmap_local_page(page: *mut c_void, n: c_ulong) -> *mut c_void;
    fn kmemlab_kunmap_local(addr: *mut c_void);
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
    /// zeroed whatever `gfp` says (they are lent out as bytes); `EINVAL`
    /// for a high-memory base.
    pub(crate) fn new(order: u32, gfp: Gfp) -> Result<Self> {
        order_bytes(order)?;
        // `__get_free_pages()` returns a linear-map address: it would drop
        // `__GFP_HIGHMEM`; a high-memory request belongs to `NodePages`.
        if gfp.base().highmem() {
            return Err(EINVAL);
        }
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
/// The pages may come from high memory (`GFP_HIGHUSER`): they have no
/// permanent kernel address, so their bytes are reached a page at a time,
/// each mapped with `kmap_local_page()` while it is used (on kernels without
/// high memory that is the linear map, at no cost).
///
/// # Examples
///
/// ```ignore
/// let mut pages = NodePages::new(1, Gfp::KERNEL.zeroed(), Node::new(0)?)?;
/// // Node 0 is preferred, not forced: `nid()` tells where they landed.
/// assert!(pages.nid() >= 0);
/// assert_eq!(pages.len(), 2 * PAGE_SIZE);
/// pages.write(PAGE_SIZE - 2..PAGE_SIZE + 2, &mut |_, b| b.fill(7))?;
/// let mut sevens = 0;
/// pages.read(0..pages.len(), &mut |_, b| {
///     sevens += b.iter().filter(|x| **x == 7).count();
///     true
/// })?;
/// assert_eq!(sevens, 4);
/// ```
///
/// Compiled and run as the KUnit case `kmemlab_pages::example_node_pages`.
///
/// # Invariants
///
/// `page` is the first `struct page` of a live `alloc_pages_node`
/// allocation of `order`, zeroed when made, owned only by this value.
pub(crate) struct NodePages {
    page: NonNull<bindings::page>,
    order: u32,
}

// SAFETY: the pages are plain memory owned by this value, freeable from any context.
unsafe impl Send for NodePages {}
// SAFETY: shared references only allow reads of plain bytes.
unsafe impl Sync for NodePages {}

impl NodePages {
    /// Allocates `2^order` pages (order 0 to [`MAX_ORDER`]) on `node`
    /// (preferred, not forced: the allocator may fall back to another node
    /// unless the request has `__GFP_THISNODE`; [`NodePages::nid`] tells
    /// where they landed), zeroed whatever `gfp` says (they are lent out as
    /// bytes). `gfp` may allow high memory.
    pub(crate) fn new(order: u32, gfp: Gfp, node: Node) -> Result<Self> {
        order_bytes(order)?;
        let gfp = gfp.zeroed();
        // SAFETY: `order` is at most `MAX_PAGE_ORDER`, `node` is online or
        // `NUMA_NO_NODE`, and `gfp` is a combination `Gfp` checked.
        let page = unsafe { kmemlab_alloc_pages_node(node.raw(), gfp.raw(), order) };
        let page = NonNull::new(page.cast::<bindings::page>()).ok_or(ENOMEM)?;
        // INVARIANT: `page` is a fresh, zeroed allocation of `order`.
        Ok(Self { page, order })
    }

    /// Bytes in the pages.
    pub(crate) fn len(&self) -> usize {
        PAGE_SIZE << self.order
    }

    /// The NUMA node the pages really landed on.
    pub(crate) fn nid(&self) -> i32 {
        // SAFETY: `page` is a live page by the type invariant.
        unsafe { kmemlab_page_to_nid(self.page.as_ptr().cast()) }
    }

    /// The zone the pages lie in.
    pub(crate) fn zone(&self) -> Zone {
        // SAFETY: `page` is a live page this value holds.
        unsafe { Zone::of_page(self.page) }
    }

    /// The order of the block.
    pub(crate) fn order(&self) -> u32 {
        self.order
    }

    /// The pieces of `range` (each within one page), in order, as
    /// `(offset in the block, page index, range within the page)`.
    fn pieces(
        &self,
        range: Range<usize>,
    ) -> Result<impl Iterator<Item = (usize, usize, Range<usize>)>> {
        if range.start > range.end || range.end > self.len() {
            return Err(EINVAL);
        }
        let mut at = range.start;
        Ok(core::iter::from_fn(move || {
            if at >= range.end {
                return None;
            }
            let (page, off) = (at / PAGE_SIZE, at % PAGE_SIZE);
            let n = (PAGE_SIZE - off).min(range.end - at);
            let piece = (at, page, off..off + n);
            at += n;
            Some(piece)
        }))
    }

    /// Runs `f` on the bytes of `range`, a page at a time: `f(offset,
    /// bytes)`, each page mapped only while `f` runs on it; stops early when
    /// `f` returns `false`. `EINVAL` when `range` is not within the block.
    pub(crate) fn read(
        &self,
        range: Range<usize>,
        f: &mut dyn FnMut(usize, &[u8]) -> bool,
    ) -> Result {
        for (at, n, within) in self.pieces(range)? {
            let go_on = self.mapped(n, |addr| {
                // SAFETY: `addr` maps page `n`'s `PAGE_SIZE` initialised
                // bytes (zeroed when allocated) while this closure runs, and
                // `&self` rules out writers.
                let page = unsafe { core::slice::from_raw_parts(addr.as_ptr(), PAGE_SIZE) };
                f(at, &page[within])
            })?;
            if !go_on {
                break;
            }
        }
        Ok(())
    }

    /// Runs `f` on the bytes of `range`, writable, a page at a time (as
    /// [`NodePages::read`]).
    pub(crate) fn write(
        &mut self,
        range: Range<usize>,
        f: &mut dyn FnMut(usize, &mut [u8]),
    ) -> Result {
        for (at, n, within) in self.pieces(range)? {
            self.mapped(n, |addr| {
                // SAFETY: as in `read`, and `&mut self` makes this the only
                // access to the pages.
                let page = unsafe { core::slice::from_raw_parts_mut(addr.as_ptr(), PAGE_SIZE) };
                f(at, &mut page[within]);
            })?;
        }
        Ok(())
    }

    /// Runs `f` on the address of page `n` of the block, mapped with
    /// `kmap_local_page()` until `f` returns (`EINVAL` for a page past the
    /// block; `ENOMEM` if it could not be mapped: never, for a page of RAM).
    fn mapped<R>(&self, n: usize, f: impl FnOnce(NonNull<u8>) -> R) -> Result<R> {
        if n >= 1 << self.order {
            return Err(EINVAL);
        }
        // CAST: `n` is below `2^order` pages, which fits in a `c_ulong`.
        let index = n as c_ulong;
        // The mapping is undone below, in the same task, after whatever `f`
        // maps itself is undone (local mappings nest, last in first out).
        // SAFETY: `page` heads a live block of `2^order` pages (type
        // invariant), and `n` is below that (checked above).
        let addr = unsafe { kmemlab_kmap_local_page(self.page.as_ptr().cast(), index) };
        let Some(mapped) = NonNull::new(addr.cast::<u8>()) else {
            return Err(ENOMEM);
        };
        let r = f(mapped);
        // SAFETY: `addr` is this task's most recent local mapping, and `f`,
        // which had it, has returned.
        unsafe { kmemlab_kunmap_local(addr) };
        Ok(r)
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
    use crate::alloc::{
        gfp::{
            GfpBase,
            Mods, //
        },
        Allocation,
    };

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
        assert_eq!(pages.len(), PAGE_SIZE << 2);
        assert!(NodePages::new(MAX_ORDER + 1, Gfp::KERNEL.zeroed(), Node::ANY).is_err());
        Ok(())
    }

    // Without `CONFIG_HIGHMEM` (every kmemlab test kernel: x86-64) the local
    // mapping is the linear map; the page-at-a-time walk is what is tested.
    #[test]
    fn highuser_pages_are_reached_a_page_at_a_time() -> Result {
        let gfp = Gfp::new(GfpBase::HighUser, Mods::NONE)?;
        let mut pages = NodePages::new(1, gfp, Node::ANY)?;
        let mut pieces = KVec::new();
        pages.write(PAGE_SIZE - 3..PAGE_SIZE + 5, &mut |at, b| {
            b.fill(0xa5);
            let _ = pieces.push((at, b.len()), GFP_KERNEL);
        })?;
        assert_eq!(&pieces[..], &[(PAGE_SIZE - 3, 3), (PAGE_SIZE, 5)]);
        let mut marked = 0;
        let mut zeroes = 0;
        pages.read(0..pages.len(), &mut |_, b| {
            marked += b.iter().filter(|x| **x == 0xa5).count();
            zeroes += b.iter().filter(|x| **x == 0).count();
            true
        })?;
        assert_eq!((marked, zeroes), (8, 2 * PAGE_SIZE - 8));
        // Stopping early: only the first page is seen.
        let mut seen = 0;
        pages.read(0..pages.len(), &mut |_, b| {
            seen += b.len();
            false
        })?;
        assert_eq!(seen, PAGE_SIZE);
        assert_eq!(
            pages.read(0..pages.len() + 1, &mut |_, _| true),
            Err(EINVAL)
        );
        assert_ne!(pages.zone(), Zone::Unknown);
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
        let mut pages = NodePages::new(1, Gfp::KERNEL.zeroed(), Node::new(0)?)?;
        // Node 0 is preferred, not forced: `nid()` tells where they landed.
        assert!(pages.nid() >= 0);
        assert_eq!(pages.len(), 2 * PAGE_SIZE);
        pages.write(PAGE_SIZE - 2..PAGE_SIZE + 2, &mut |_, b| b.fill(7))?;
        let mut sevens = 0;
        pages.read(0..pages.len(), &mut |_, b| {
            sevens += b.iter().filter(|x| **x == 7).count();
            true
        })?;
        assert_eq!(sevens, 4);
        Ok(())
    }
}
