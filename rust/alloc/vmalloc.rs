// SPDX-License-Identifier: GPL-2.0

//! `vmalloc`: virtually contiguous allocations of any size, page by page.
//!
//! C header: [`include/linux/vmalloc.h`](srctree/include/linux/vmalloc.h)
//!
//! The kernel crate's `Vmalloc` allocator goes through `vrealloc`, so
//! `/proc/vmallocinfo` would name the kernel crate as the caller. kmemlab
//! calls `vzalloc_node()` directly (its header is not in the generated
//! bindings), so each area is attributed to kmemlab.

use core::ptr::NonNull;

use kernel::prelude::*;

use super::{
    bytes_allocation,
    gfp::{
        Gfp,
        GfpBase,
        Mods, //
    },
    topology::Node,
    Bytes,
};

extern "C" {
    fn kmemlab_vzalloc_node(size: c_ulong, node: c_int) -> *mut c_void;
    fn vfree(addr: *const c_void);
    fn kmemlab_vmalloc_to_nid(addr: *const c_void) -> c_int;
}

/// The largest size kmemlab asks `vmalloc` for (1 GiB): far beyond the test
/// guest's memory, so the allocator's own limit is what a user meets.
pub(crate) const VMALLOC_MAX: usize = 1 << 30;

/// A `vmalloc` area of `len` bytes, freed on drop.
///
/// # Examples
///
/// ```ignore
/// let mut area = VmallocBuf::new(5 * 4096, Gfp::KERNEL.zeroed(), Node::ANY)?;
/// area.as_mut_slice()[4 * 4096] = 1;
/// assert_eq!(area.as_slice().len(), 5 * 4096);
/// assert!(area.nid() >= 0);
/// ```
///
/// Compiled and run as the KUnit case `kmemlab_vmalloc::example_vmalloc_buf`.
///
/// # Invariants
///
/// `bytes` is a live area returned by `vzalloc_node()`, owned only by this
/// value.
pub(crate) struct VmallocBuf {
    bytes: Bytes,
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
    /// is accepted (`EINVAL` otherwise). The area is zeroed (`vzalloc_node()`)
    /// whatever `gfp` says: it is lent out as bytes.
    pub(crate) fn new(len: usize, gfp: Gfp, node: Node) -> Result<Self> {
        let plain = Mods::ZERO.with(Mods::NOWARN);
        if len == 0 || len > VMALLOC_MAX || gfp.base() != GfpBase::Kernel || !plain.has(gfp.mods())
        {
            return Err(EINVAL);
        }
        // CAST: `len` is at most 1 GiB.
        let size = len as c_ulong;
        // SAFETY: no preconditions beyond a valid size and node id (`Node` checked it).
        let raw = unsafe { kmemlab_vzalloc_node(size, node.raw()) };
        let ptr = NonNull::new(raw.cast::<u8>()).ok_or(ENOMEM)?;
        // SAFETY: `ptr` is a fresh, mapped, zeroed area of `len` bytes that
        // only the new value uses.
        let bytes = unsafe { Bytes::new(ptr, len) };
        // INVARIANT: `bytes` is a fresh area owned by the new value.
        Ok(Self { bytes })
    }
}

bytes_allocation! {
    VmallocBuf,
    fn nid(&self) -> i32 {
        // vmalloc memory is not in the linear map: look its first page up.
        // SAFETY: `ptr` is the start of a live vmalloc area.
        unsafe { kmemlab_vmalloc_to_nid(self.bytes.ptr().as_ptr().cast()) }
    }
}

impl Drop for VmallocBuf {
    fn drop(&mut self) {
        // SAFETY: by the type invariant `ptr` came from `vzalloc_node()` and
        // is freed exactly once, here.
        unsafe { vfree(self.bytes.ptr().as_ptr().cast()) };
    }
}

#[cfg(CONFIG_KUNIT)]
#[kernel::macros::kunit_tests(kmemlab_vmalloc)]
mod tests {
    use super::*;
    use crate::alloc::Allocation;

    #[test]
    fn allocates_zeroed_writable_areas() -> Result {
        let mut area = VmallocBuf::new(3 * 4096 + 1, Gfp::KERNEL.zeroed(), Node::ANY)?;
        assert_eq!(area.as_slice().len(), 3 * 4096 + 1);
        assert!(area.as_slice().iter().all(|b| *b == 0));
        area.as_mut_slice()[3 * 4096] = 7;
        assert_eq!(area.as_slice()[3 * 4096], 7);
        Ok(())
    }

    #[test]
    fn refuses_what_vmalloc_cannot_do() -> Result {
        let atomic = Gfp::new(GfpBase::Atomic, Mods::NONE)?;
        assert!(VmallocBuf::new(4096, atomic, Node::ANY).is_err());
        let accounted = Gfp::new(GfpBase::Kernel, Mods::ACCOUNT)?;
        assert!(VmallocBuf::new(4096, accounted, Node::ANY).is_err());
        assert!(VmallocBuf::new(0, Gfp::KERNEL, Node::ANY).is_err());
        assert!(VmallocBuf::new(VMALLOC_MAX + 1, Gfp::KERNEL, Node::ANY).is_err());
        Ok(())
    }

    #[test]
    fn example_vmalloc_buf() -> Result {
        let mut area = VmallocBuf::new(5 * 4096, Gfp::KERNEL.zeroed(), Node::ANY)?;
        area.as_mut_slice()[4 * 4096] = 1;
        assert_eq!(area.as_slice().len(), 5 * 4096);
        assert!(area.nid() >= 0);
        Ok(())
    }
}
