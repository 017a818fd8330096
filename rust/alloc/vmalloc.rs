// SPDX-License-Identifier: GPL-2.0

//! `vmalloc`: virtually contiguous allocations of any size, page by page.
//!
//! C header: [`include/linux/vmalloc.h`](srctree/include/linux/vmalloc.h)
//!
//! The kernel crate's `Vmalloc` allocator goes through `vrealloc`, so
//! `/proc/vmallocinfo` would name the kernel crate as the caller. kmemlab
//! calls `vmalloc_node()`/`vzalloc_node()` directly (their header is not in
//! the generated bindings), so each area is attributed to kmemlab.

use core::ptr::NonNull;

use kernel::prelude::*;

use super::{
    gfp::{
        Gfp,
        GfpBase, //
    },
    topology::Node,
};

extern "C" {
    fn vmalloc_node_noprof(size: c_ulong, node: c_int) -> *mut c_void;
    fn vzalloc_node_noprof(size: c_ulong, node: c_int) -> *mut c_void;
    fn vfree(addr: *const c_void);
    fn kmemlab_vmalloc_to_nid(addr: *const c_void) -> c_int;
}

/// The largest size kmemlab asks `vmalloc` for (1 GiB): far beyond the test
/// guest's memory, so the allocator's own limit is what a user meets.
pub(crate) const VMALLOC_MAX: usize = 1 << 30;

/// A `vmalloc` area of `len` bytes, freed on drop.
///
/// # Invariants
///
/// `ptr` is the start of a live area returned by `vmalloc_node()` or
/// `vzalloc_node()` for `len` bytes, owned only by this value.
pub(crate) struct VmallocBuf {
    ptr: NonNull<u8>,
    len: usize,
}

// SAFETY: the area is plain memory owned by this value; `vfree` may be called
// from any sleepable context, which is where kmemlab drops objects.
unsafe impl Send for VmallocBuf {}
// SAFETY: shared references only allow reads of plain bytes.
unsafe impl Sync for VmallocBuf {}

impl VmallocBuf {
    /// Allocates `len` bytes (1 to [`VMALLOC_MAX`]) on `node` if one is given.
    ///
    /// `vmalloc` may sleep: only a `GFP_KERNEL` request, optionally zeroed,
    /// is accepted (`EINVAL` otherwise).
    pub(crate) fn new(len: usize, gfp: Gfp, node: Node) -> Result<Self> {
        if len == 0 || len > VMALLOC_MAX || gfp.base != GfpBase::Kernel || gfp.account {
            return Err(EINVAL);
        }
        // CAST: `len` is at most 1 GiB.
        let size = len as c_ulong;
        let raw = if gfp.zero {
            // SAFETY: no preconditions beyond a valid size and node id (`Node` checked it).
            unsafe { vzalloc_node_noprof(size, node.raw()) }
        } else {
            // SAFETY: as above.
            unsafe { vmalloc_node_noprof(size, node.raw()) }
        };
        let ptr = NonNull::new(raw.cast::<u8>()).ok_or(ENOMEM)?;
        // INVARIANT: `ptr` is a fresh area of `len` bytes owned by the new value.
        Ok(Self { ptr, len })
    }

    /// The NUMA node of the area's first page.
    pub(crate) fn nid(&self) -> i32 {
        // SAFETY: `ptr` is the start of a live vmalloc area.
        unsafe { kmemlab_vmalloc_to_nid(self.ptr.as_ptr().cast()) }
    }

    /// The contents.
    pub(crate) fn as_slice(&self) -> &[u8] {
        // SAFETY: by the type invariant the area is mapped for `len` bytes and
        // owned by `self`, which `&self` keeps alive.
        unsafe { core::slice::from_raw_parts(self.ptr.as_ptr(), self.len) }
    }

    /// The contents, writable.
    pub(crate) fn as_mut_slice(&mut self) -> &mut [u8] {
        // SAFETY: as in `as_slice`, and `&mut self` makes the access exclusive.
        unsafe { core::slice::from_raw_parts_mut(self.ptr.as_ptr(), self.len) }
    }
}

impl Drop for VmallocBuf {
    fn drop(&mut self) {
        // SAFETY: by the type invariant `ptr` came from `vmalloc_node()` or
        // `vzalloc_node()` and is freed exactly once, here.
        unsafe { vfree(self.ptr.as_ptr().cast()) };
    }
}
