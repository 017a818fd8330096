// SPDX-License-Identifier: GPL-2.0

//! `kvmalloc`: `kmalloc` when it can, `vmalloc` when it cannot.
//!
//! C header: [`include/linux/slab.h`](srctree/include/linux/slab.h)
//!
//! `kvmalloc_node()` first asks the slab allocator (for more than a page,
//! without direct reclaim and without a failure report, unless the mask has
//! `__GFP_RETRY_MAYFAIL`), and if that fails, for more than a page, maps
//! pages into the vmalloc area. Which one served an allocation is a
//! property of the allocation: [`KvmallocBuf::backing`] tells.
//!
//! The kernel crate's `KVmalloc` allocator takes a `kernel::alloc::Flags`,
//! which cannot say `GFP_NOIO`, `GFP_NOFS`, `GFP_USER` or
//! `__GFP_RETRY_MAYFAIL`, and goes through `kvrealloc()` both ways; kmemlab
//! calls `kvmalloc_node()` and `kvfree()` directly, with any mask the slab
//! allocator and vmalloc both take.

use core::ptr::NonNull;

use kernel::{
    bindings,
    ffi::{
        c_int,
        c_void, //
    },
    prelude::*,
};

use super::{
    bytes_allocation,
    gfp::Gfp,
    topology::{
        Backing,
        Node, //
    },
    Allocation,
    Bytes, //
};

extern "C" {
    fn kmemlab_kvmalloc_node(size: usize, gfp: bindings::gfp_t, node: c_int) -> *mut c_void;
    fn kmemlab_vmalloc_to_nid(addr: *const c_void) -> c_int;
    fn kmemlab_vmalloc_area_pages(addr: *const c_void, size: usize) -> c_ulong;
}

/// The largest size `kvmalloc` serves: it refuses more than `INT_MAX` bytes
/// (with a WARN unless `__GFP_NOWARN`).
// CAST: `INT_MAX` is positive and fits in a `usize`.
pub(crate) const KVMALLOC_MAX: usize = c_int::MAX as usize;

/// The largest size `kvmalloc` may serve from `kmalloc` (`KMALLOC_MAX_SIZE`);
/// up to a page it never falls back to `vmalloc`.
pub(crate) const KVMALLOC_KMALLOC_MAX: usize = super::kmalloc::KMALLOC_MAX;

/// A `kvmalloc` allocation of `len` bytes, freed on drop with `kvfree()`.
///
/// # Examples
///
/// ```ignore
/// let small = KvmallocBuf::new(100, Gfp::KERNEL, Node::ANY)?;
/// assert_eq!(small.backing(), Backing::Slab);
/// // Beyond KMALLOC_MAX_SIZE kmalloc cannot serve it: always vmalloc.
/// let big = KvmallocBuf::new(KVMALLOC_KMALLOC_MAX + 1, Gfp::KERNEL, Node::ANY)?;
/// assert_eq!(big.backing(), Backing::Vmalloc);
/// assert!(big.as_slice().iter().all(|b| *b == 0));
/// ```
///
/// Compiled and run as the KUnit case `kmemlab_kvmalloc::example_kvmalloc_buf`.
///
/// # Invariants
///
/// `bytes` covers a live allocation made by `kvmalloc_node()`, of which this
/// value is the only owner.
pub(crate) struct KvmallocBuf {
    bytes: Bytes,
}

// SAFETY: the buffer is plain memory owned by this value; `kvfree()` may be
// called from any sleepable context, which is where kmemlab drops objects.
unsafe impl Send for KvmallocBuf {}
// SAFETY: shared references only allow reads of plain bytes.
unsafe impl Sync for KvmallocBuf {}

impl KvmallocBuf {
    /// Allocates `len` bytes (1 to [`KVMALLOC_MAX`]) with `gfp`, on `node`
    /// if one is given, zeroed whatever `gfp` says (it is lent out as
    /// bytes). `EINVAL` for a mask the slab allocator rejects
    /// ([`Gfp::for_slab`]: vmalloc takes the rest).
    pub(crate) fn new(len: usize, gfp: Gfp, node: Node) -> Result<Self> {
        if len == 0 || len > KVMALLOC_MAX {
            return Err(EINVAL);
        }
        let gfp = gfp.for_slab()?.zeroed();
        // SAFETY: any size up to `INT_MAX` and any mask the slab allocator
        // takes may be asked for; `node` is online or `NUMA_NO_NODE` by the
        // invariant of `Node`.
        let raw = unsafe { kmemlab_kvmalloc_node(len, gfp.raw(), node.raw()) };
        let ptr = NonNull::new(raw.cast::<u8>()).ok_or(ENOMEM)?;
        // SAFETY: `ptr` is a fresh, zeroed allocation of at least `len`
        // bytes that only the new value uses.
        let bytes = unsafe { Bytes::new(ptr, len) };
        // INVARIANT: `bytes` is a fresh `kvmalloc_node()` allocation owned
        // by the new value.
        Ok(Self { bytes })
    }
}

impl KvmallocBuf {
    /// Pages the vmalloc area maps, when vmalloc served the allocation (a
    /// page per page, or, when vmalloc used huge pages, the whole rounded
    /// up area); `None` when kmalloc did.
    pub(crate) fn vmalloc_pages(&self) -> Option<usize> {
        if self.backing() != Backing::Vmalloc {
            return None;
        }
        // SAFETY: a live vmalloc area of `len` bytes, owned by `self`.
        let pages = unsafe {
            kmemlab_vmalloc_area_pages(
                self.bytes.ptr().as_ptr().cast(),
                self.bytes.as_slice().len(),
            )
        };
        // CAST: a page count of an area of at most `INT_MAX` bytes fits.
        Some(pages as usize)
    }
}

bytes_allocation! {
    KvmallocBuf,
    fn nid(&self) -> i32 {
        if self.backing() == Backing::Vmalloc {
            // SAFETY: a live vmalloc area (its first page is mapped).
            unsafe { kmemlab_vmalloc_to_nid(self.bytes.ptr().as_ptr().cast()) }
        } else {
            // SAFETY: live `kmalloc` memory, in the linear map.
            unsafe { super::linear_nid(self.bytes.ptr()) }
        }
    }
}

impl Drop for KvmallocBuf {
    fn drop(&mut self) {
        // SAFETY: by the type invariant the memory came from
        // `kvmalloc_node()` and is freed exactly once, here.
        unsafe { bindings::kvfree(self.bytes.ptr().as_ptr().cast::<c_void>()) };
    }
}

#[cfg(CONFIG_KUNIT)]
#[kernel::macros::kunit_tests(kmemlab_kvmalloc)]
mod tests {
    use super::*;
    use crate::alloc::{
        gfp::{
            GfpBase,
            Mods, //
        },
        topology::Zone,
    };

    #[test]
    fn small_sizes_come_from_kmalloc_and_big_ones_from_vmalloc() -> Result {
        for len in [1, 64, kernel::page::PAGE_SIZE] {
            let buf = KvmallocBuf::new(len, Gfp::KERNEL, Node::ANY)?;
            assert_eq!(buf.backing(), Backing::Slab);
            assert_eq!(buf.as_slice().len(), len);
        }
        let mut big = KvmallocBuf::new(KVMALLOC_KMALLOC_MAX + 1, Gfp::KERNEL, Node::ANY)?;
        assert_eq!(big.backing(), Backing::Vmalloc);
        assert!(big.as_slice().iter().all(|b| *b == 0));
        big.as_mut_slice().fill(0x11);
        assert!(big.nid() >= 0);
        // A page per page, or the area rounded up to huge pages.
        let pages = big.vmalloc_pages().unwrap_or(0);
        let exact = (KVMALLOC_KMALLOC_MAX + 1).div_ceil(kernel::page::PAGE_SIZE);
        assert!(pages == exact || pages == 3 * 512);
        assert_eq!(
            KvmallocBuf::new(64, Gfp::KERNEL, Node::ANY)?.vmalloc_pages(),
            None
        );
        Ok(())
    }

    #[test]
    fn refuses_what_either_allocator_cannot_take() -> Result {
        assert!(KvmallocBuf::new(0, Gfp::KERNEL, Node::ANY).is_err());
        assert!(KvmallocBuf::new(KVMALLOC_MAX + 1, Gfp::KERNEL, Node::ANY).is_err());
        let high = Gfp::new(GfpBase::HighUser, Mods::NONE)?;
        assert_eq!(KvmallocBuf::new(64, high, Node::ANY).err(), Some(EINVAL));
        if cfg!(CONFIG_ZONE_DMA32) {
            let dma32 = Gfp::new(GfpBase::Kernel, Mods::DMA32)?;
            assert_eq!(KvmallocBuf::new(64, dma32, Node::ANY).err(), Some(EINVAL));
        }
        // THISNODE and DMA reach both allocators.
        let thisnode = Gfp::new(GfpBase::Kernel, Mods::THISNODE)?;
        let small = KvmallocBuf::new(64, thisnode, Node::new(0)?)?;
        let big = KvmallocBuf::new(KVMALLOC_KMALLOC_MAX + 1, thisnode, Node::new(0)?)?;
        assert_eq!((small.nid(), big.nid()), (0, 0));
        if cfg!(CONFIG_ZONE_DMA) {
            let dma = Gfp::new(GfpBase::Kernel, Mods::DMA.with(Mods::NOWARN))?;
            let small = KvmallocBuf::new(64, dma, Node::ANY)?;
            assert_eq!(small.zone(), Zone::Dma);
            // The DMA zone is 16 MiB: a vmalloc'd area from it may not fit.
            if let Ok(big) = KvmallocBuf::new(KVMALLOC_KMALLOC_MAX + 1, dma, Node::ANY) {
                assert_eq!((big.backing(), big.zone()), (Backing::Vmalloc, Zone::Dma));
            }
        }
        // The other bases, both ways.
        for base in [GfpBase::Noio, GfpBase::Nofs, GfpBase::User] {
            let gfp = Gfp::new(base, Mods::NONE)?;
            assert_eq!(
                KvmallocBuf::new(64, gfp, Node::ANY)?.backing(),
                Backing::Slab
            );
            let big = KvmallocBuf::new(KVMALLOC_KMALLOC_MAX + 1, gfp, Node::ANY)?;
            assert_eq!(big.backing(), Backing::Vmalloc);
        }
        Ok(())
    }

    #[test]
    fn example_kvmalloc_buf() -> Result {
        let small = KvmallocBuf::new(100, Gfp::KERNEL, Node::ANY)?;
        assert_eq!(small.backing(), Backing::Slab);
        // Beyond KMALLOC_MAX_SIZE kmalloc cannot serve it: always vmalloc.
        let big = KvmallocBuf::new(KVMALLOC_KMALLOC_MAX + 1, Gfp::KERNEL, Node::ANY)?;
        assert_eq!(big.backing(), Backing::Vmalloc);
        assert!(big.as_slice().iter().all(|b| *b == 0));
        Ok(())
    }
}
