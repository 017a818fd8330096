// SPDX-License-Identifier: GPL-2.0

//! `kmalloc`: physically contiguous, byte-sized allocations from the slab allocator.
//!
//! C header: [`include/linux/slab.h`](srctree/include/linux/slab.h)
//!
//! Built on the kernel crate's [`Kmalloc`] allocator (which goes through
//! `krealloc_node_align`), adding what kmemlab needs: any size up to
//! `KMALLOC_MAX_SIZE`, an explicit GFP request and an optional node.

use core::{
    alloc::Layout,
    ptr::NonNull, //
};

use kernel::{
    alloc::{
        allocator::Kmalloc,
        Allocator, //
    },
    bindings,
    prelude::*,
};

use super::{
    gfp::Gfp,
    topology::Node, //
};

extern "C" {
    fn kmemlab_virt_to_nid(addr: *const c_void) -> c_int;
}

/// The largest size `kmalloc` serves (`KMALLOC_MAX_SIZE`).
// CAST: a `u32` always fits in `usize` on the architectures Rust-for-Linux supports.
pub(crate) const KMALLOC_MAX: usize = bindings::KMALLOC_MAX_SIZE as usize;

/// A `kmalloc` allocation of `len` bytes, freed on drop.
///
/// # Invariants
///
/// `ptr` points to a live allocation made by [`Kmalloc`] with the layout
/// `layout()`, of which this value is the only owner; `len` is non-zero.
pub(crate) struct KmallocBuf {
    ptr: NonNull<u8>,
    len: usize,
}

// SAFETY: the buffer is plain memory owned by this value; it may be used and
// freed from any thread.
unsafe impl Send for KmallocBuf {}
// SAFETY: shared references only allow reads of plain bytes.
unsafe impl Sync for KmallocBuf {}

impl KmallocBuf {
    /// Allocates `len` bytes (1 to [`KMALLOC_MAX`]) with `gfp`, on `node` if one is given.
    ///
    /// # Examples
    ///
    /// ```ignore
    /// let buf = KmallocBuf::new(64, gfp.zeroed(), Node::ANY)?;
    /// assert!(buf.as_slice().iter().all(|b| *b == 0));
    /// ```
    pub(crate) fn new(len: usize, gfp: Gfp, node: Node) -> Result<Self> {
        if len == 0 || len > KMALLOC_MAX {
            return Err(EINVAL);
        }
        let layout = Layout::from_size_align(len, 1).map_err(|_| EINVAL)?;
        let ptr = Kmalloc::alloc(layout, gfp.flags()?, node.numa()).map_err(|_| ENOMEM)?;
        // INVARIANT: `ptr` is a fresh `Kmalloc` allocation of `layout`, owned by the new value.
        Ok(Self {
            ptr: ptr.cast(),
            len,
        })
    }

    fn layout(&self) -> Layout {
        // SAFETY: `len` was accepted by `Layout::from_size_align(len, 1)` in `new`.
        unsafe { Layout::from_size_align_unchecked(self.len, 1) }
    }

    /// The NUMA node the memory lies on.
    pub(crate) fn nid(&self) -> i32 {
        // SAFETY: `ptr` is a live `kmalloc` allocation, a linear-map address.
        unsafe { kmemlab_virt_to_nid(self.ptr.as_ptr().cast()) }
    }

    /// The contents.
    pub(crate) fn as_slice(&self) -> &[u8] {
        // SAFETY: by the type invariant `ptr` is valid for `len` bytes owned by
        // `self`, which `&self` keeps alive and unaliased by writers.
        unsafe { core::slice::from_raw_parts(self.ptr.as_ptr(), self.len) }
    }

    /// The contents, writable.
    pub(crate) fn as_mut_slice(&mut self) -> &mut [u8] {
        // SAFETY: as in `as_slice`, and `&mut self` makes the access exclusive.
        unsafe { core::slice::from_raw_parts_mut(self.ptr.as_ptr(), self.len) }
    }
}

impl Drop for KmallocBuf {
    fn drop(&mut self) {
        // SAFETY: by the type invariant `ptr` was allocated by `Kmalloc` with
        // `self.layout()` and is freed exactly once, here.
        unsafe { Kmalloc::free(self.ptr, self.layout()) };
    }
}
