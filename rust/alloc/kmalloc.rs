// SPDX-License-Identifier: GPL-2.0

//! `kmalloc`: physically contiguous, byte-sized allocations from the slab allocator.
//!
//! C header: [`include/linux/slab.h`](srctree/include/linux/slab.h)
//!
//! `kmalloc_node()` and `kfree()` called directly, with any size up to
//! `KMALLOC_MAX_SIZE`, an explicit GFP mask and an optional node. (The kernel
//! crate's `Kmalloc` allocator goes through `krealloc_node_align()` both ways,
//! which `make bench` measured at 1.24 times the C pair for small objects
//! under emulation; kmemlab's abstraction costs what the C API costs.)

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
    topology::Node,
    Bytes, //
};

extern "C" {
    fn kmemlab_kmalloc_node(size: usize, gfp: bindings::gfp_t, node: c_int) -> *mut c_void;
}

/// The largest size `kmalloc` serves (`KMALLOC_MAX_SIZE`).
// CAST: a `u32` always fits in `usize` on the architectures Rust-for-Linux supports.
pub(crate) const KMALLOC_MAX: usize = bindings::KMALLOC_MAX_SIZE as usize;

/// A `kmalloc` allocation of `len` bytes, freed on drop.
///
/// # Examples
///
/// ```ignore
/// let mut buf = KmallocBuf::new(300, Gfp::KERNEL.zeroed(), Node::ANY)?;
/// assert!(buf.as_slice().iter().all(|b| *b == 0));
/// buf.as_mut_slice()[..5].copy_from_slice(b"hello");
/// assert_eq!(&buf.as_slice()[..5], b"hello");
/// assert!(buf.nid() >= 0);
/// ```
///
/// Compiled and run as the KUnit case `kmemlab_kmalloc::example_kmalloc_buf`.
///
/// # Invariants
///
/// `bytes` covers a live allocation made by `kmalloc_node()`, of which this
/// value is the only owner.
pub(crate) struct KmallocBuf {
    bytes: Bytes,
}

// SAFETY: the buffer is plain memory owned by this value; it may be used and
// freed from any thread.
unsafe impl Send for KmallocBuf {}
// SAFETY: shared references only allow reads of plain bytes.
unsafe impl Sync for KmallocBuf {}

impl KmallocBuf {
    /// Allocates `len` bytes (1 to [`KMALLOC_MAX`]) with `gfp`, on `node` if
    /// one is given. The memory is zeroed whatever `gfp` says: it is lent out
    /// as bytes, and nothing uninitialised may be read. `EINVAL` for a mask
    /// the slab allocator rejects ([`Gfp::for_slab`]).
    pub(crate) fn new(len: usize, gfp: Gfp, node: Node) -> Result<Self> {
        if len == 0 || len > KMALLOC_MAX {
            return Err(EINVAL);
        }
        let gfp = gfp.for_slab()?.zeroed();
        // SAFETY: any size and mask may be asked for; `node` is online or
        // `NUMA_NO_NODE` by the invariant of `Node`.
        let raw = unsafe { kmemlab_kmalloc_node(len, gfp.raw(), node.raw()) };
        let ptr = NonNull::new(raw.cast::<u8>()).ok_or(ENOMEM)?;
        // SAFETY: `ptr` is a fresh, zeroed allocation of at least `len` bytes
        // that only the new value uses.
        let bytes = unsafe { Bytes::new(ptr, len) };
        // INVARIANT: `bytes` is a fresh `kmalloc_node()` allocation owned by
        // the new value.
        Ok(Self { bytes })
    }
}

bytes_allocation! {
    KmallocBuf,
    fn nid(&self) -> i32 {
        // SAFETY: `kmalloc` memory is live while `self` is, and in the linear map.
        unsafe { super::linear_nid(self.bytes.ptr()) }
    }
}

impl Drop for KmallocBuf {
    fn drop(&mut self) {
        // SAFETY: by the type invariant the memory came from `kmalloc_node()`
        // and is freed exactly once, here.
        unsafe { bindings::kfree(self.bytes.ptr().as_ptr().cast::<c_void>()) };
    }
}

#[cfg(CONFIG_KUNIT)]
#[kernel::macros::kunit_tests(kmemlab_kmalloc)]
mod tests {
    use super::*;
    use crate::alloc::Allocation;

    #[test]
    fn memory_is_zeroed_whatever_is_asked() -> Result {
        // A freed object is likely the next one handed out: what the last
        // user wrote must not show through a mask without `__GFP_ZERO`.
        for _ in 0..8 {
            let mut buf = KmallocBuf::new(96, Gfp::KERNEL, Node::ANY)?;
            assert!(buf.as_slice().iter().all(|b| *b == 0));
            buf.as_mut_slice().fill(0xaa);
        }
        Ok(())
    }

    #[test]
    fn allocates_zeroed_writable_memory() -> Result {
        let mut buf = KmallocBuf::new(100, Gfp::KERNEL.zeroed(), Node::ANY)?;
        assert_eq!(buf.as_slice().len(), 100);
        assert!(buf.as_slice().iter().all(|b| *b == 0));
        buf.as_mut_slice().fill(0x5a);
        assert!(buf.as_slice().iter().all(|b| *b == 0x5a));
        Ok(())
    }

    #[test]
    fn sizes_are_bounded() -> Result {
        assert!(KmallocBuf::new(0, Gfp::KERNEL.zeroed(), Node::ANY).is_err());
        assert!(KmallocBuf::new(KMALLOC_MAX + 1, Gfp::KERNEL.zeroed(), Node::ANY).is_err());
        let big = KmallocBuf::new(KMALLOC_MAX, Gfp::KERNEL.zeroed(), Node::ANY)?;
        assert_eq!(big.as_slice().len(), KMALLOC_MAX);
        Ok(())
    }

    #[test]
    fn node_zero_is_honoured() -> Result {
        // KFENCE may serve one sampled allocation from its own pool, on
        // whatever node that is; it samples at most one of a quick burst.
        let mut on_node_zero = 0;
        for _ in 0..4 {
            let buf = KmallocBuf::new(4096, Gfp::KERNEL.zeroed(), Node::new(0)?)?;
            if buf.nid() == 0 {
                on_node_zero += 1;
            }
        }
        assert!(on_node_zero >= 3);
        Ok(())
    }

    #[test]
    fn example_kmalloc_buf() -> Result {
        let mut buf = KmallocBuf::new(300, Gfp::KERNEL.zeroed(), Node::ANY)?;
        assert!(buf.as_slice().iter().all(|b| *b == 0));
        buf.as_mut_slice()[..5].copy_from_slice(b"hello");
        assert_eq!(&buf.as_slice()[..5], b"hello");
        assert!(buf.nid() >= 0);
        Ok(())
    }
}
