// SPDX-License-Identifier: GPL-2.0

//! DMA pools: small blocks of coherent memory for one of kmemlab's devices.
//!
//! C header: [`include/linux/dmapool.h`](srctree/include/linux/dmapool.h)
//!
//! A pool carves blocks out of pages it takes with `dma_alloc_coherent()`
//! and keeps those pages until it is destroyed; `dma_pool_destroy()` must
//! not see a block still out (it reports the pool busy and leaks its pages).
//! Like every piece of device memory kmemlab makes, the pool and each block
//! are *held by the device's binding* ([`Binding`], [`Resource::Pool`],
//! [`Resource::Block`]): unbinding frees them while the device is still
//! bound, whoever holds their names. Two rules keep a block from outliving
//! its pool:
//!
//! - a block is leased after its pool, and unbinding frees the newest
//!   resources first, so the blocks go before the pool;
//! - every block ([`DmaBuf`] from [`DmaPool::alloc`]) holds an [`Arc`] of its
//!   [`DmaPool`], whose lease names the pool: the pool's lease is dropped
//!   (which destroys it) only after every block's.
//!
//! Blocks a benchmark run makes ([`PoolScope`]) skip the binding's lock: the
//! scope holds a [`Use`] of the binding, so unbinding waits for the scope,
//! and every [`ScopedBlock`] borrows the scope.

use core::{
    marker::PhantomData,
    ptr::NonNull, //
};

use kernel::{
    bindings,
    device::{
        self,
        Bound, //
    },
    dma::DmaAddress,
    prelude::*,
    sync::Arc, //
};

use super::{
    device::{
        self as devices,
        Binding,
        DmaDevice,
        Lease,
        Resource,
        Use, //
    },
    dma::{
        DmaBuf,
        DMA_MAX, //
    },
    gfp::Gfp,
    slab::{
        self,
        FullName, //
    },
    Bytes, //
};

/// The largest block a kmemlab pool hands out: as large as a coherent
/// buffer may be (a block above a page takes a coherent allocation of its
/// own).
pub(crate) const BLOCK_MAX: usize = DMA_MAX;

/// The least block size the pool keeps (its free list's entry, `struct
/// dma_block`: a pointer and a bus address); smaller blocks are rounded up.
const BLOCK_MIN: usize = core::mem::size_of::<usize>() + core::mem::size_of::<DmaAddress>();

/// What a pool's blocks look like, checked against the kernel's rules.
///
/// # Invariants
///
/// `size` is 1 to [`BLOCK_MAX`]; `align` is 0 or a power of two up to the
/// page size; `boundary` is 0, or a power of two no smaller than
/// [`PoolShape::block`], which is at most a page then. `dma_pool_create()` accepts every such shape.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct PoolShape {
    size: usize,
    align: usize,
    boundary: usize,
}

impl PoolShape {
    /// Blocks of `size` bytes, each at a multiple of `align` (0: no
    /// alignment asked), none crossing a multiple of `boundary` (0: none);
    /// `EINVAL` for a shape the kernel would refuse, or above the limits.
    pub(crate) fn new(size: usize, align: usize, boundary: usize) -> Result<Self> {
        let pow2_or_0 = |v: usize| v == 0 || v.is_power_of_two();
        if size == 0 || size > BLOCK_MAX || !pow2_or_0(align) || align > kernel::page::PAGE_SIZE {
            return Err(EINVAL);
        }
        let shape = Self {
            size,
            align,
            boundary,
        };
        // A block above a page has a coherent allocation to itself, whose
        // alignment is the DMA layer's choice: a boundary is promised only
        // within a page.
        let page = kernel::page::PAGE_SIZE;
        if !pow2_or_0(boundary)
            || (boundary != 0 && (boundary < shape.block() || shape.block() > page))
        {
            return Err(EINVAL);
        }
        // INVARIANT: checked above.
        Ok(shape)
    }

    /// The block size the pool keeps: at least [`BLOCK_MIN`], rounded up to
    /// the alignment.
    pub(crate) fn block(&self) -> usize {
        self.size.max(BLOCK_MIN).next_multiple_of(self.align.max(1))
    }

    /// What one block takes of the memory the pool keeps: the rounded block,
    /// or for a block above a page, the coherent allocation it has to itself
    /// (a power-of-two block of pages).
    pub(crate) fn footprint(&self) -> usize {
        let block = self.block();
        if block <= kernel::page::PAGE_SIZE {
            block
        } else {
            block.div_ceil(kernel::page::PAGE_SIZE).next_power_of_two() * kernel::page::PAGE_SIZE
        }
    }

    /// The block size asked for.
    pub(crate) fn size(&self) -> usize {
        self.size
    }

    /// The alignment asked for (0: none).
    pub(crate) fn align(&self) -> usize {
        self.align
    }

    /// The boundary asked for (0: none).
    pub(crate) fn boundary(&self) -> usize {
        self.boundary
    }
}

/// The kernel's pool, as its binding holds it ([`Resource::Pool`]).
///
/// # Invariants
///
/// `pool` came from `dma_pool_create_node()` for the binding's device and
/// is destroyed only by `Drop`, after which nothing uses it: its blocks are
/// [`RawBlock`]s of the same binding, leased after it and freed before it,
/// or [`ScopedBlock`]s given back while a use of the binding holds it off
/// (see the module's documentation). A block leaked with `mem::forget` is
/// never given back: destroying its pool then reports the pool busy and
/// keeps the pool's pages, which is a leak, not a use after free.
pub(crate) struct RawPool {
    pool: NonNull<bindings::dma_pool>,
}

// SAFETY: a pool may be used and destroyed from any thread (it has its own
// lock; destruction happens once, by the owner).
unsafe impl Send for RawPool {}

impl Drop for RawPool {
    fn drop(&mut self) {
        // SAFETY: by the type invariant the pool is live and nothing uses it
        // afterwards; its device is still bound (the binding frees it while
        // it is).
        unsafe { bindings::dma_pool_destroy(self.pool.as_ptr()) };
    }
}

/// One block of a pool, as its binding holds it ([`Resource::Block`]).
///
/// # Invariants
///
/// `bytes` and `dma` are the CPU and bus addresses `dma_pool_alloc()`
/// returned from `pool`, `bytes` no longer than the pool's block; `pool`'s
/// [`RawPool`] outlives this value (see [`RawPool`]); the block is given
/// back only by `Drop`.
pub(crate) struct RawBlock {
    pool: NonNull<bindings::dma_pool>,
    bytes: Bytes,
    dma: DmaAddress,
}

// SAFETY: a block is plain memory owned by this value; the pool it goes back
// to takes its own lock, from any thread.
unsafe impl Send for RawBlock {}

impl RawBlock {
    /// The CPU address and length of the block.
    pub(super) fn cpu_bytes(&self) -> (NonNull<u8>, usize) {
        (self.bytes.ptr(), self.bytes.as_slice().len())
    }

    /// The block's bus address.
    pub(super) fn bus_address(&self) -> DmaAddress {
        self.dma
    }
}

impl Drop for RawBlock {
    fn drop(&mut self) {
        // SAFETY: by the type invariant the block came from `pool`, which is
        // live, and is given back once, here.
        unsafe {
            bindings::dma_pool_free(
                self.pool.as_ptr(),
                self.bytes.ptr().as_ptr().cast(),
                self.dma,
            )
        };
    }
}

/// The mask blocks are taken with: zeroed, and one the slab allocator takes
/// (`dma_pool_alloc()` takes a header with kmalloc when it needs a page: the
/// slab allocator WARNs on the masks `for_slab` refuses; `EINVAL`).
fn block_gfp(gfp: Gfp) -> Result<bindings::gfp_t> {
    Ok(gfp.zeroed().for_slab()?.raw())
}

/// Takes a zeroed block of `size` bytes from `pool` with `gfp`, and checks
/// that the device can reach all of it (`mask`; `EIO` otherwise: given back).
///
/// # Safety
///
/// `pool` is live, and stays so until the block is given back; its device
/// stays bound as long too. `size` is at most the block size `pool` was
/// made with. `gfp` is a mask [`block_gfp`] returned.
#[inline(always)]
unsafe fn take_block(
    pool: NonNull<bindings::dma_pool>,
    size: usize,
    mask: u64,
    gfp: bindings::gfp_t,
) -> Result<RawBlock> {
    let mut dma: DmaAddress = 0;
    // SAFETY: `pool` is live (guaranteed by the caller); `dma` is a valid
    // place for the bus address.
    let cpu = unsafe { bindings::dma_pool_alloc(pool.as_ptr(), gfp, &mut dma) };
    let cpu = NonNull::new(cpu.cast::<u8>()).ok_or(ENOMEM)?;
    // INVARIANT: the pool's block, zeroed (`__GFP_ZERO`), at least `size`
    // bytes (the pool rounds the size up), used only through the new value.
    let block = RawBlock {
        pool,
        // SAFETY: see above.
        bytes: unsafe { Bytes::new(cpu, size) },
        dma,
    };
    // The DMA core honours the mask; a device given an address above it
    // would reach other memory, so it is checked anyway.
    // CAST: a block is at most BLOCK_MAX bytes, which fits in a bus address.
    let last = dma.checked_add(size as DmaAddress - 1);
    if last.is_none_or(|last| last > mask) {
        return Err(EIO);
    }
    Ok(block)
}

/// A DMA pool of one of kmemlab's devices; dropped (after its last block)
/// it is destroyed, unless the device's unbinding already did.
///
/// # Examples
///
/// ```ignore
/// let shape = PoolShape::new(48, 0, 64)?;
/// let pool = DmaPool::new(DmaDevice::Faux, b"example", shape)?;
/// let mut block = DmaPool::alloc(&pool, Gfp::KERNEL)?;
/// assert_eq!(block.len(), 48);
/// block.with_bytes_mut(|b| b.fill(0x5a))?;
/// // The block holds the pool: the pool goes when both are dropped.
/// drop(pool);
/// drop(block);
/// ```
///
/// Compiled and run as the KUnit case `kmemlab_dmapool::example_dma_pool`.
///
/// # Invariants
///
/// `lease` names the [`Resource::Pool`] whose pointer is `raw`, made with
/// `shape` for `device`'s binding `lease.binding()`. While the binding is
/// not revoked and `self` lives, the pool is live.
pub(crate) struct DmaPool {
    lease: Lease,
    raw: NonNull<bindings::dma_pool>,
    device: DmaDevice,
    shape: PoolShape,
}

// SAFETY: the pool is reached only through the binding's lock or a use of the
// binding (which keeps it from being revoked); the kernel's pool has a lock
// of its own for concurrent allocations.
unsafe impl Send for DmaPool {}
// SAFETY: as above: `&DmaPool` only allocates, which the pool's lock serialises.
unsafe impl Sync for DmaPool {}

impl DmaPool {
    /// Creates the pool `kmemlab-<name>` (`name`: 1 to 23 of `[a-z0-9_-]`)
    /// for `device` (`ENODEV` when it is not bound).
    pub(crate) fn new(device: DmaDevice, name: &[u8], shape: PoolShape) -> Result<Arc<Self>> {
        let full: FullName = slab::full_name(name)?;
        Self::for_binding(&devices::current(device)?, device, &full, shape)
    }

    /// Creates the pool `full` (NUL-terminated) for `binding`, a binding
    /// of `device`.
    fn for_binding(
        binding: &Arc<Binding>,
        device: DmaDevice,
        full: &FullName,
        shape: PoolShape,
    ) -> Result<Arc<Self>> {
        let mut raw = None;
        let make = |dev: &device::Device<Bound>| {
            // SAFETY: `dev` is bound while the closure runs; `full` is
            // NUL-terminated and copied by the kernel; the shape is one the
            // kernel accepts (type invariant of `PoolShape`).
            let pool = unsafe {
                bindings::dma_pool_create_node(
                    full.as_ptr().cast(),
                    devices::raw_device(dev),
                    shape.size,
                    shape.align,
                    shape.boundary,
                    bindings::NUMA_NO_NODE,
                )
            };
            let pool = NonNull::new(pool).ok_or(ENOMEM)?;
            raw = Some(pool);
            // INVARIANT: made for `dev` just now; the binding keeps the
            // order of blocks and pool (see below).
            Ok(Resource::Pool(RawPool { pool }))
        };
        // The pool's blocks are leased after it (`alloc`) and their leases
        // are dropped before its own (each block's `DmaBuf` holds the
        // `DmaPool`, in a field dropped after its lease); blocks taken
        // through a `PoolScope` are given back while its use of the binding
        // holds off the revocation, and the scope holds the `DmaPool`.
        // SAFETY: `make` makes a pool for the device it is given; see above.
        let lease = unsafe { binding.lease(make)? };
        let raw = raw.ok_or(EINVAL)?;
        // INVARIANT: `lease` names the pool `raw`, made with `shape`.
        Ok(Arc::new(
            Self {
                lease,
                raw,
                device,
                shape,
            },
            GFP_KERNEL,
        )?)
    }

    /// The device the pool's blocks are for.
    pub(crate) fn device(&self) -> DmaDevice {
        self.device
    }

    /// What the pool's blocks look like.
    pub(crate) fn shape(&self) -> PoolShape {
        self.shape
    }

    /// What one block takes of the memory the pool keeps
    /// ([`PoolShape::footprint`]).
    pub(crate) fn footprint(&self) -> usize {
        self.shape.footprint()
    }

    /// The binding the pool belongs to.
    fn binding(&self) -> &Arc<Binding> {
        self.lease.binding()
    }

    /// A zeroed block, held by the pool's binding (`ENODEV` once the device
    /// unbound); the result holds the pool. `EINVAL` for a mask the slab
    /// allocator refuses (the pool takes page headers from it), checked
    /// first.
    pub(crate) fn alloc(pool: &Arc<Self>, gfp: Gfp) -> Result<DmaBuf> {
        let gfp = block_gfp(gfp)?;
        let binding = pool.binding();
        let (raw, size, mask) = (pool.raw, pool.shape.size, binding.mask());
        let make = |_: &device::Device<Bound>| {
            // The binding runs `make` only while it is not revoked, and
            // `pool` (borrowed) keeps the pool's lease: the pool is live and
            // the device bound until the block is given back (by its lease's
            // drop, or by the revocation, which frees it before the pool).
            // SAFETY: see above; `size` is the pool's own block size, `gfp`
            // from `block_gfp`.
            let block = unsafe { take_block(raw, size, mask, gfp)? };
            Ok(Resource::Block(block))
        };
        // SAFETY: `make` makes a block of this binding's pool `raw`, leased
        // after the pool; the block's `DmaBuf` holds `pool`, so the pool's
        // lease is dropped after the block's.
        let lease = unsafe { binding.lease(make)? };
        // SAFETY: `lease` names the block of `size` bytes just taken from
        // `pool`, leased from its binding after it, for its device.
        Ok(unsafe { DmaBuf::pool_block(lease, size, pool.device, pool.clone()) })
    }

    /// A use of the pool's device for a benchmark run (`ENODEV` when it
    /// unbound, or is unbinding).
    pub(crate) fn scope(pool: &Arc<Self>) -> Result<PoolScope> {
        let user = pool.binding().start_use()?;
        // INVARIANT: a use of the pool's own binding.
        Ok(PoolScope {
            pool: pool.clone(),
            user,
        })
    }
}

/// A pool's device kept bound for a benchmark run, to take
/// [`ScopedBlock`]s without the binding's lock.
///
/// # Invariants
///
/// `user` is a use of `pool`'s binding: the binding cannot be revoked while
/// the scope lives, so the pool, whose lease `pool` keeps, stays live.
pub(crate) struct PoolScope {
    pool: Arc<DmaPool>,
    user: Use,
}

impl PoolScope {
    /// The kernel's pool, for the raw-C baseline: live, its device bound,
    /// while `self` lives.
    pub(super) fn as_raw(&self) -> *mut bindings::dma_pool {
        self.pool.raw.as_ptr()
    }

    /// Bytes of each block (as asked).
    pub(crate) fn size(&self) -> usize {
        self.pool.shape.size
    }

    /// Whether the device is being unbound: the run should stop and drop
    /// the scope (unbinding waits for it).
    pub(crate) fn stopping(&self) -> bool {
        self.user.stopping()
    }

    /// Blocks taken with `gfp` (checked here, once, with the errors of
    /// [`DmaPool::alloc`]) while the scope is borrowed.
    pub(crate) fn blocks(&self, gfp: Gfp) -> Result<BlockScope<'_>> {
        let pool = &self.pool;
        // INVARIANT: the scope's pool, its block size and its device's mask.
        Ok(BlockScope {
            pool: pool.raw,
            size: pool.shape.size,
            mask: pool.binding().mask(),
            gfp: block_gfp(gfp)?,
            _scope: PhantomData,
        })
    }
}

/// Blocks of a borrowed [`PoolScope`] ([`PoolScope::blocks`]): the pool, the
/// size, the device's mask and the mask resolved once.
///
/// # Invariants
///
/// `pool` is the borrowed scope's pool (live, its device bound, while the
/// scope is), `size` its block size, `mask` its device's DMA mask, and `gfp`
/// a mask [`block_gfp`] returned.
pub(crate) struct BlockScope<'s> {
    pool: NonNull<bindings::dma_pool>,
    size: usize,
    mask: u64,
    gfp: bindings::gfp_t,
    _scope: PhantomData<&'s PoolScope>,
}

impl<'s> BlockScope<'s> {
    /// A zeroed block, given back when the result is dropped.
    #[inline]
    pub(crate) fn alloc(&self) -> Result<ScopedBlock<'s>> {
        // SAFETY: by the type invariant the pool is live and its device
        // bound while the scope is borrowed, which the result does too;
        // `size`, `mask` and `gfp` are as `take_block` needs.
        let block = unsafe { take_block(self.pool, self.size, self.mask, self.gfp)? };
        // INVARIANT: a block of the borrowed scope's pool.
        Ok(ScopedBlock {
            _block: block,
            _scope: PhantomData,
        })
    }
}

/// A block taken through a [`PoolScope`], given back on drop (while the
/// borrowed scope keeps the pool live).
///
/// # Invariants
///
/// `_block` is a block of the borrowed scope's pool: the scope's use of the
/// binding holds off the revocation, so the pool is live until the block is
/// given back (`RawBlock`'s invariant).
pub(crate) struct ScopedBlock<'s> {
    _block: RawBlock,
    _scope: PhantomData<&'s PoolScope>,
}

#[kunit_tests(kmemlab_dmapool)]
mod tests {
    use super::*;
    use crate::alloc::dma::FauxDma;

    #[test]
    fn shapes_follow_the_kernel_rules() -> Result {
        assert_eq!(PoolShape::new(1, 0, 0)?.block(), BLOCK_MIN);
        assert_eq!(PoolShape::new(40, 64, 0)?.block(), 64);
        assert_eq!(PoolShape::new(48, 0, 64)?.block(), 48);
        PoolShape::new(BLOCK_MAX, 0, 0)?;
        let refused = |size, align, boundary| PoolShape::new(size, align, boundary).err();
        assert_eq!(refused(0, 0, 0), Some(EINVAL));
        assert_eq!(refused(BLOCK_MAX + 1, 0, 0), Some(EINVAL));
        assert_eq!(refused(64, 3, 0), Some(EINVAL));
        assert_eq!(refused(64, kernel::page::PAGE_SIZE * 2, 0), Some(EINVAL));
        // The boundary: a power of two, no smaller than the block (rounded up).
        assert_eq!(refused(48, 0, 32), Some(EINVAL));
        assert_eq!(refused(48, 0, 96), Some(EINVAL));
        assert_eq!(refused(40, 64, 32), Some(EINVAL));
        assert_eq!(refused(8, 0, 8), Some(EINVAL));
        PoolShape::new(8, 0, 16)?;
        // A boundary only for blocks within a page.
        let page = kernel::page::PAGE_SIZE;
        assert_eq!(refused(page + 1, 0, page * 2), Some(EINVAL));
        PoolShape::new(page + 1, 0, 0)?;
        assert_eq!(PoolShape::new(page + 1, 0, 0)?.footprint(), page * 2);
        Ok(())
    }

    #[test]
    fn example_dma_pool() -> Result {
        crate::alloc::init();
        let shape = PoolShape::new(48, 0, 64)?;
        let pool = DmaPool::new(DmaDevice::Faux, b"example", shape)?;
        let mut block = DmaPool::alloc(&pool, Gfp::KERNEL)?;
        assert_eq!(block.len(), 48);
        block.with_bytes_mut(|b| b.fill(0x5a))?;
        // The block holds the pool: the pool goes when both are dropped.
        drop(pool);
        assert!(block.with_bytes(|b| b.iter().all(|x| *x == 0x5a))?);
        drop(block);
        Ok(())
    }

    #[test]
    fn blocks_are_zeroed_aligned_and_within_boundaries() -> Result {
        crate::alloc::init();
        let pool = DmaPool::new(DmaDevice::Faux, b"kunit-shape", PoolShape::new(40, 64, 0)?)?;
        let split = DmaPool::new(DmaDevice::Faux, b"kunit-split", PoolShape::new(48, 0, 64)?)?;
        let mut held = KVec::new();
        for _ in 0..100 {
            let mut block = DmaPool::alloc(&pool, Gfp::KERNEL)?;
            assert!(block.with_bytes(|b| b.iter().all(|x| *x == 0))?);
            assert_eq!(block.bus_address()? % 64, 0);
            block.with_bytes_mut(|b| b.fill(0xa5))?;
            let mut other = DmaPool::alloc(&split, Gfp::KERNEL)?;
            let at = other.bus_address()?;
            assert_eq!(at / 64, (at + 47) / 64);
            held.push(block, GFP_KERNEL)?;
            held.push(other, GFP_KERNEL)?;
        }
        // Given back and taken again: zeroed again.
        held.clear();
        let block = DmaPool::alloc(&pool, Gfp::KERNEL)?;
        assert!(block.with_bytes(|b| b.iter().all(|x| *x == 0))?);
        Ok(())
    }

    #[test]
    fn unbinding_frees_blocks_before_their_pool() -> Result {
        crate::alloc::init();
        let faux = FauxDma::unpublished(c"kmemlab-kunit-pool")?;
        let full = slab::full_name(b"kunit-revoke")?;
        let pool = DmaPool::for_binding(
            faux.binding(),
            DmaDevice::Faux,
            &full,
            PoolShape::new(64, 0, 0)?,
        )?;
        let mut blocks = KVec::new();
        for _ in 0..3 {
            blocks.push(DmaPool::alloc(&pool, Gfp::KERNEL)?, GFP_KERNEL)?;
        }
        let scope = DmaPool::scope(&pool)?;
        drop(scope.blocks(Gfp::KERNEL)?.alloc()?);
        drop(scope);
        // SAFETY: the faux device is bound while `faux` lives, and has no
        // DMA engine.
        unsafe { faux.binding().revoke() };
        for block in blocks.iter() {
            assert_eq!(block.with_bytes(|_| ()).err(), Some(ENODEV));
        }
        assert_eq!(DmaPool::alloc(&pool, Gfp::KERNEL).err(), Some(ENODEV));
        assert!(DmaPool::scope(&pool).is_err());
        // Dropping the names of what the unbinding freed is fine.
        drop(blocks);
        drop(pool);
        Ok(())
    }

    #[test]
    fn refused_masks_make_nothing() -> Result {
        crate::alloc::init();
        let pool = DmaPool::new(DmaDevice::Faux, b"kunit-gfp", PoolShape::new(64, 0, 0)?)?;
        let dma32 = Gfp::new(
            crate::alloc::gfp::GfpBase::Kernel,
            crate::alloc::gfp::Mods::DMA32,
        );
        if let Ok(gfp) = dma32 {
            assert_eq!(DmaPool::alloc(&pool, gfp).err(), Some(EINVAL));
        }
        let high = Gfp::new(
            crate::alloc::gfp::GfpBase::HighUser,
            crate::alloc::gfp::Mods::NONE,
        )?;
        assert_eq!(DmaPool::alloc(&pool, high).err(), Some(EINVAL));
        Ok(())
    }
}
