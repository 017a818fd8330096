// SPDX-License-Identifier: GPL-2.0

//! Safe abstractions over the kernel's memory-allocation interfaces.
//!
//! One file per C interface, plus the registries kmemlab's global state
//! needs (`owners`: who holds allocations, `device`: the bound devices), and
//! what the benchmarks run on (`clock`, `cpu`, `workers`, and the raw-C
//! baseline `raw`). These files (and `rust/shim.c`)
//! are the only places in kmemlab that use `unsafe`; everything above them
//! composes safe types. The abstractions know nothing of ioctls, the ABI or debugfs.

use core::ptr::NonNull;

use kernel::{
    ffi::{
        c_int,
        c_void, //
    },
    prelude::*,
    sync::atomic::{
        Acquire,
        Atomic,
        Full,
        Release, //
    },
};

pub(crate) mod clock;
pub(crate) mod cpu;
pub(crate) mod device;
pub(crate) mod dma;
pub(crate) mod dmapool;
pub(crate) mod edu;
pub(crate) mod gfp;
pub(crate) mod iomem;
pub(crate) mod kmalloc;
pub(crate) mod kvmalloc;
pub(crate) mod mempool;
pub(crate) mod owners;
pub(crate) mod pages;
pub(crate) mod percpu;
pub(crate) mod raw;
pub(crate) mod slab;
pub(crate) mod topology;
pub(crate) mod vmalloc;
pub(crate) mod workers;

/// Set by the one caller that gets to initialise the registries' locks.
static INIT_CLAIMED: Atomic<bool> = Atomic::new(false);
/// Set once the registries' locks are initialised.
static INIT_DONE: Atomic<bool> = Atomic::new(false);

/// Prepares the abstractions' global registries (slab-cache names, DMA
/// devices, owners of allocations); called from module init. Later calls do nothing.
pub(crate) fn init() {
    if INIT_CLAIMED.xchg(true, Full) {
        return;
    }
    clock::init();
    // SAFETY: the exchange above lets exactly one caller reach this point,
    // and no registry is used before `INIT_DONE` is set below.
    unsafe {
        slab::init_lock();
        device::init_lock();
        edu::init_lock();
        owners::init_lock();
    }
    INIT_DONE.store(true, Release);
}

/// `EAGAIN` until [`init`] has completed.
fn ready() -> Result {
    if INIT_DONE.load(Acquire) {
        Ok(())
    } else {
        Err(EAGAIN)
    }
}

/// The bytes of an allocation, kept by the type that owns it.
///
/// Private to the abstractions: each allocation type keeps one of these for
/// its memory, frees the memory only when it is dropped itself, and lends
/// out slices of it ([`Allocation`]), never this value, so no code outside
/// the abstractions (`alloc`) can exchange it for another allocation's.
///
/// # Invariants
///
/// `ptr` is valid for reads and writes of `len` bytes, all of them
/// initialised, and only the owner of this value accesses them.
struct Bytes {
    ptr: NonNull<u8>,
    len: usize,
}

impl Bytes {
    /// Wraps `len` bytes at `ptr`.
    ///
    /// # Safety
    ///
    /// `ptr` must be valid for reads and writes of `len` bytes, all of them
    /// initialised, accessed only through the returned value for as long as
    /// it lives.
    unsafe fn new(ptr: NonNull<u8>, len: usize) -> Self {
        // INVARIANT: guaranteed by the caller.
        Self { ptr, len }
    }

    /// The start of the memory.
    fn ptr(&self) -> NonNull<u8> {
        self.ptr
    }

    /// The memory, readable.
    fn as_slice(&self) -> &[u8] {
        // SAFETY: by the type invariant `ptr` is valid for `len` bytes that
        // only `self` accesses; `&self` rules out writers.
        unsafe { core::slice::from_raw_parts(self.ptr.as_ptr(), self.len) }
    }

    /// The memory, writable.
    fn as_mut_slice(&mut self) -> &mut [u8] {
        // SAFETY: as in `as_slice`, and `&mut self` makes the access exclusive.
        unsafe { core::slice::from_raw_parts_mut(self.ptr.as_ptr(), self.len) }
    }
}

/// Implements [`Allocation`] for a type whose memory is its `bytes` field
/// ([`Bytes`]): the slices are those of `bytes`; the type gives `nid` (and
/// `order`, when not 0) as it would in an `impl` block.
macro_rules! bytes_allocation {
    ($t:ty, $($items:tt)*) => {
        impl $crate::alloc::Allocation for $t {
            fn as_slice(&self) -> &[u8] {
                self.bytes.as_slice()
            }

            fn as_mut_slice(&mut self) -> &mut [u8] {
                self.bytes.as_mut_slice()
            }

            $($items)*
        }
    };
}
use bytes_allocation;

/// What every kmemlab allocation of plain memory offers: its bytes, lent
/// out as slices (never the handle that owns them), and where they lie.
///
/// # Examples
///
/// ```ignore
/// fn first_byte(a: &impl Allocation) -> u8 {
///     a.as_slice()[0]
/// }
/// ```
pub(crate) trait Allocation {
    /// The memory.
    fn as_slice(&self) -> &[u8];

    /// The memory, writable.
    fn as_mut_slice(&mut self) -> &mut [u8];

    /// The NUMA node of the memory (of its first page, if it spans several).
    fn nid(&self) -> i32;

    /// The page order of the block, for memory the page allocator hands out
    /// as one; 0 for the others.
    fn order(&self) -> u32 {
        0
    }

    /// The zone of the memory (of its first page).
    fn zone(&self) -> topology::Zone {
        topology::Zone::of_bytes(self.as_slice())
    }

    /// What served the memory.
    fn backing(&self) -> topology::Backing {
        topology::Backing::of_bytes(self.as_slice())
    }
}

/// The NUMA node of the page holding `ptr`, for memory in the linear map.
///
/// # Safety
///
/// `ptr` points into a live allocation in the kernel's linear map (not
/// vmalloc, not remapped, not highmem).
unsafe fn linear_nid(ptr: NonNull<u8>) -> i32 {
    // SAFETY: guaranteed by the caller.
    unsafe { kmemlab_virt_to_nid(ptr.as_ptr().cast()) }
}

extern "C" {
    fn kmemlab_virt_to_nid(addr: *const c_void) -> c_int;
}
