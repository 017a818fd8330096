// SPDX-License-Identifier: GPL-2.0

//! Mempools: a reserve of elements that keeps allocations succeeding when
//! the allocator under it fails.
//!
//! C header: [`include/linux/mempool.h`](srctree/include/linux/mempool.h)
//!
//! A [`MemPool`] is made over `kmalloc` (`mempool_create_kmalloc_pool()`) or
//! over one of kmemlab's caches (`mempool_create_slab_pool()`), with
//! `min_nr` elements allocated at once into its reserve. `mempool_alloc()`
//! asks the allocator first and takes from the reserve when it fails;
//! `mempool_free()` refills the reserve before it frees to the allocator.
//! There is no Rust abstraction upstream.
//!
//! Only masks that cannot sleep are taken: with one that may,
//! `mempool_alloc()` waits, uninterruptibly and without a limit, for an
//! element to come back once the reserve is empty. A cache with a
//! constructor is refused: `mempool_alloc_slab()` BUGs on one (with
//! `CONFIG_DEBUG_VM`), as a reserve cannot keep objects constructed.

use core::ptr::NonNull;

use kernel::{
    bindings,
    prelude::*,
    sync::Arc, //
};

use super::{
    bytes_allocation,
    gfp::Gfp,
    kmalloc::KMALLOC_MAX,
    slab::KmemCache,
    Bytes, //
};

extern "C" {
    fn kmemlab_mempool_create_kmalloc(min_nr: c_int, size: usize) -> *mut c_void;
    fn kmemlab_mempool_create_slab(min_nr: c_int, cache: *mut bindings::kmem_cache) -> *mut c_void;
    fn kmemlab_mempool_alloc(pool: *mut c_void, gfp: bindings::gfp_t) -> *mut c_void;
    fn kmemlab_mempool_destroy(pool: *mut c_void);
    fn kmemlab_mempool_reserve(pool: *mut c_void) -> c_int;
}

/// The most elements a pool keeps in reserve.
pub(crate) const RESERVE_MAX: usize = 1024;

/// What a pool's elements are allocated from.
pub(crate) enum PoolSource {
    /// `kmalloc()` of the element size.
    Kmalloc,
    /// One of kmemlab's caches, kept alive by the pool.
    Cache(Arc<KmemCache>),
}

/// A mempool.
///
/// # Examples
///
/// ```ignore
/// let pool = MemPool::new(PoolSource::Kmalloc, 128, 2)?;
/// assert_eq!(pool.reserve(), 2);
/// let gfp = Gfp::new(GfpBase::Nowait, Mods::NONE)?;
/// let mut element = MemPool::alloc(&pool, gfp)?;
/// assert!(element.as_slice().iter().all(|b| *b == 0));
/// element.as_mut_slice().fill(1);
/// ```
///
/// Compiled and run as the KUnit case `kmemlab_mempool::example_mempool`.
///
/// # Invariants
///
/// `pool` is a live mempool made by `mempool_create_kmalloc_pool()` (for
/// [`PoolSource::Kmalloc`], elements of `size` bytes) or
/// `mempool_create_slab_pool()` over the cache `source` holds (which has no
/// constructor; elements of its object size, `size`), destroyed only by
/// `Drop`. Every element handed
/// out keeps the pool alive ([`PoolElement`] holds an `Arc` of it,
/// [`ScopedElement`] borrows it), so none is outstanding when it is
/// destroyed.
pub(crate) struct MemPool {
    pool: NonNull<c_void>,
    size: usize,
    min_nr: usize,
    /// Keeps the cache of a cache's pool alive until the pool is destroyed
    /// (dropped after `Drop::drop` ran).
    _source: PoolSource,
}

// SAFETY: a mempool is used under its own lock from any context; the pointer
// is only handed to the mempool API.
unsafe impl Send for MemPool {}
// SAFETY: as above: every operation of the mempool API may run concurrently.
unsafe impl Sync for MemPool {}

impl MemPool {
    /// A pool of `min_nr` (1 to [`RESERVE_MAX`]) elements from `source`:
    /// for `kmalloc`, of `size` bytes (1 to `KMALLOC_MAX_SIZE`); for a
    /// cache, `size` must be 0 (its object size) and the cache must have no
    /// constructor (`EINVAL`). `ENOMEM` when the reserve cannot be filled.
    pub(crate) fn new(source: PoolSource, size: usize, min_nr: usize) -> Result<Arc<Self>> {
        Self::check(matches!(source, PoolSource::Cache(_)), size, min_nr)?;
        // CAST: at most `RESERVE_MAX`.
        let min = min_nr as c_int;
        let (raw, size) = match &source {
            PoolSource::Kmalloc => {
                // SAFETY: the shim makes a pool of `min` elements of `size`
                // bytes; both are in range (checked above).
                let raw = unsafe { kmemlab_mempool_create_kmalloc(min, size) };
                (raw, size)
            }
            PoolSource::Cache(cache) => {
                let config = cache.config();
                if config.ctor {
                    return Err(EINVAL);
                }
                // SAFETY: the cache is live while `source` holds it, which
                // the pool does until it is destroyed (field order and
                // `Drop`), and it has no constructor (checked above).
                let raw = unsafe { kmemlab_mempool_create_slab(min, cache.as_raw()) };
                (raw, config.object_size)
            }
        };
        let pool = NonNull::new(raw).ok_or(ENOMEM)?;
        // INVARIANT: a fresh pool over `source`, of elements of `size` bytes.
        // (Should the `Arc` fail, the value is dropped: the pool is destroyed.)
        Ok(Arc::new(
            Self {
                pool,
                size,
                min_nr,
                _source: source,
            },
            GFP_KERNEL,
        )?)
    }

    /// `EINVAL` unless a pool of `min_nr` elements of `size` bytes (0 for
    /// a cache's pool) may be made, as [`MemPool::new`] checks.
    pub(crate) fn check(from_cache: bool, size: usize, min_nr: usize) -> Result {
        let size_ok = if from_cache {
            size == 0
        } else {
            (1..=KMALLOC_MAX).contains(&size)
        };
        if size_ok && (1..=RESERVE_MAX).contains(&min_nr) {
            Ok(())
        } else {
            Err(EINVAL)
        }
    }

    /// The element size in bytes.
    pub(crate) fn size(&self) -> usize {
        self.size
    }

    /// Elements the pool keeps in reserve when full.
    pub(crate) fn min_nr(&self) -> usize {
        self.min_nr
    }

    /// Elements in the reserve now (a snapshot: others may take or return
    /// some meanwhile).
    pub(crate) fn reserve(&self) -> usize {
        // SAFETY: `pool` is live (type invariant); the shim reads its count.
        let n = unsafe { kmemlab_mempool_reserve(self.pool.as_ptr()) };
        usize::try_from(n).unwrap_or(0)
    }

    /// `EINVAL` for a mask `mempool_alloc()` must not get: one that may
    /// sleep or asks for zeroing (see the module documentation), or one the
    /// slab allocator rejects ([`Gfp::for_slab`]).
    pub(super) fn check_gfp(gfp: Gfp) -> Result {
        let refused = bindings::__GFP_ZERO | (1 << bindings::___GFP_DIRECT_RECLAIM_BIT);
        if gfp.for_slab()?.raw() & refused != 0 {
            return Err(EINVAL);
        }
        Ok(())
    }

    /// Takes one element with `gfp` and zeroes it. `EINVAL` as
    /// [`MemPool::check_gfp`] says; `ENOMEM` when the allocator fails and
    /// the reserve is empty.
    fn take(&self, gfp: Gfp) -> Result<Bytes> {
        Self::check_gfp(gfp)?;
        // SAFETY: checked above.
        unsafe { self.take_checked(gfp.raw()) }
    }

    /// [`MemPool::take`] with a mask already checked.
    ///
    /// # Safety
    ///
    /// `gfp` is a mask [`MemPool::check_gfp`] accepts.
    #[inline(always)]
    unsafe fn take_checked(&self, gfp: bindings::gfp_t) -> Result<Bytes> {
        // SAFETY: `pool` is live (type invariant); `gfp` cannot sleep, asks
        // for no zeroing and is one the slab allocator takes (guaranteed by
        // the caller).
        let raw = unsafe { kmemlab_mempool_alloc(self.pool.as_ptr(), gfp) };
        let ptr = NonNull::new(raw.cast::<u8>()).ok_or(ENOMEM)?;
        // SAFETY: an element is `size` bytes of memory only its taker uses;
        // a reserve element may hold what its last user wrote, so all of it
        // is written here.
        unsafe { ptr.write_bytes(0, self.size) };
        // SAFETY: `ptr` is `size` initialised bytes that only the new value uses.
        Ok(unsafe { Bytes::new(ptr, self.size) })
    }

    /// Gives an element back.
    ///
    /// # Safety
    ///
    /// `bytes` came from [`MemPool::take`] or [`MemPool::take_checked`] on
    /// this pool and is not used again.
    unsafe fn give_back(&self, bytes: &Bytes) {
        // SAFETY: the element is this live pool's (guaranteed by the caller)
        // and is given back once.
        unsafe { bindings::mempool_free(bytes.ptr().as_ptr().cast(), self.pool.as_ptr().cast()) };
    }

    /// An element that keeps the pool alive (an object a file holds).
    pub(crate) fn alloc(pool: &Arc<Self>, gfp: Gfp) -> Result<PoolElement> {
        let bytes = pool.take(gfp)?;
        // INVARIANT: `bytes` came from `take` on `pool`, which the element holds.
        Ok(PoolElement {
            bytes,
            pool: pool.clone(),
        })
    }

    /// Elements that borrow the pool (a benchmark's samples: no shared
    /// reference count to update), taken with `gfp`, checked here once.
    pub(crate) fn scope(&self, gfp: Gfp) -> Result<ElementScope<'_>> {
        Self::check_gfp(gfp)?;
        // INVARIANT: checked above.
        Ok(ElementScope {
            pool: self,
            gfp: gfp.raw(),
        })
    }

    /// The raw pool, for the raw-C baseline (valid while `self` lives;
    /// elements it takes must be given back before that).
    pub(super) fn as_raw(&self) -> *mut c_void {
        self.pool.as_ptr()
    }
}

impl Drop for MemPool {
    fn drop(&mut self) {
        // `_source`, dropped after this, keeps the cache until then.
        // SAFETY: no element is outstanding (type invariant: each keeps the
        // pool alive); destroying frees the reserve, and nothing else uses it.
        unsafe { kmemlab_mempool_destroy(self.pool.as_ptr()) };
    }
}

/// An element of a pool, given back to it on drop; it keeps the pool.
///
/// # Invariants
///
/// `bytes` is an element [`MemPool::take`] made on `pool`, owned only by
/// this value.
pub(crate) struct PoolElement {
    bytes: Bytes,
    pool: Arc<MemPool>,
}

// SAFETY: the element is plain memory owned by this value; the pool is `Sync`.
unsafe impl Send for PoolElement {}
// SAFETY: shared references only allow reads of plain bytes.
unsafe impl Sync for PoolElement {}

bytes_allocation! {
    PoolElement,
    fn nid(&self) -> i32 {
        // SAFETY: a live kmalloc or slab object, in the linear map.
        unsafe { super::linear_nid(self.bytes.ptr()) }
    }
}

impl Drop for PoolElement {
    fn drop(&mut self) {
        // SAFETY: by the type invariant the element is `pool`'s, given back once.
        unsafe { self.pool.give_back(&self.bytes) };
    }
}

/// Elements of a borrowed [`MemPool`] taken with one mask
/// ([`MemPool::scope`]).
///
/// # Invariants
///
/// `gfp` is a mask [`MemPool::check_gfp`] accepts.
pub(crate) struct ElementScope<'p> {
    pool: &'p MemPool,
    gfp: bindings::gfp_t,
}

impl<'p> ElementScope<'p> {
    /// A zeroed element, given back when dropped. `ENOMEM` when the
    /// allocator fails and the reserve is empty.
    #[inline]
    pub(crate) fn alloc(&self) -> Result<ScopedElement<'p>> {
        // SAFETY: `gfp` was checked (type invariant).
        let bytes = unsafe { self.pool.take_checked(self.gfp)? };
        // INVARIANT: `bytes` came from `take_checked` on `pool`, which the
        // element borrows.
        Ok(ScopedElement {
            bytes,
            pool: self.pool,
        })
    }
}

/// An element of a pool the holder borrows, given back to it on drop.
///
/// # Invariants
///
/// As for [`PoolElement`], with `pool` borrowed, and `bytes` from
/// [`MemPool::take`] or [`MemPool::take_checked`].
pub(crate) struct ScopedElement<'p> {
    bytes: Bytes,
    pool: &'p MemPool,
}

bytes_allocation! {
    ScopedElement<'_>,
    fn nid(&self) -> i32 {
        // SAFETY: a live kmalloc or slab object, in the linear map.
        unsafe { super::linear_nid(self.bytes.ptr()) }
    }
}

impl Drop for ScopedElement<'_> {
    #[inline]
    fn drop(&mut self) {
        // SAFETY: by the type invariant the element is `pool`'s, given back once.
        unsafe { self.pool.give_back(&self.bytes) };
    }
}

#[cfg(CONFIG_KUNIT)]
#[kernel::macros::kunit_tests(kmemlab_mempool)]
mod tests {
    use super::*;
    use crate::alloc::{
        gfp::{
            GfpBase,
            Mods, //
        },
        slab::{
            CacheConfig,
            CacheZone, //
        },
        Allocation,
    };

    fn nowait() -> Result<Gfp> {
        Gfp::new(GfpBase::Nowait, Mods::NONE)
    }

    #[test]
    fn the_reserve_is_filled_and_elements_are_zeroed() -> Result {
        let pool = MemPool::new(PoolSource::Kmalloc, 100, 3)?;
        assert_eq!((pool.reserve(), pool.min_nr(), pool.size()), (3, 3, 100));
        let mut a = MemPool::alloc(&pool, nowait()?)?;
        assert!(a.as_slice().iter().all(|b| *b == 0));
        a.as_mut_slice().fill(0x77);
        drop(a);
        // Whatever the element held, the next one reads as zeroes.
        let scope = pool.scope(nowait()?)?;
        for _ in 0..4 {
            let mut b = scope.alloc()?;
            assert!(b.as_slice().iter().all(|x| *x == 0));
            b.as_mut_slice().fill(0x55);
        }
        Ok(())
    }

    #[test]
    fn masks_that_sleep_or_zero_are_refused() -> Result {
        let pool = MemPool::new(PoolSource::Kmalloc, 64, 1)?;
        assert_eq!(MemPool::alloc(&pool, Gfp::KERNEL).err(), Some(EINVAL));
        assert_eq!(pool.scope(nowait()?.zeroed()).err(), Some(EINVAL));
        let dma32 = Gfp::new(GfpBase::Nowait, Mods::DMA32)?;
        assert_eq!(MemPool::alloc(&pool, dma32).err(), Some(EINVAL));
        let atomic = Gfp::new(GfpBase::Atomic, Mods::NOWARN)?;
        assert!(MemPool::alloc(&pool, atomic).is_ok());
        Ok(())
    }

    #[test]
    fn bad_pools_are_refused() {
        assert!(MemPool::new(PoolSource::Kmalloc, 64, 0).is_err());
        assert!(MemPool::new(PoolSource::Kmalloc, 64, RESERVE_MAX + 1).is_err());
        assert!(MemPool::new(PoolSource::Kmalloc, 0, 1).is_err());
        assert!(MemPool::new(PoolSource::Kmalloc, KMALLOC_MAX + 1, 1).is_err());
    }

    #[test]
    fn a_cache_pool_keeps_the_cache() -> Result {
        crate::alloc::init();
        let config = CacheConfig {
            object_size: 40,
            align: 0,
            hwcache_align: false,
            ctor: false,
            zone: CacheZone::Any,
        };
        let cache = KmemCache::new(b"kunit-pool", config)?;
        let constructed = KmemCache::new(
            b"kunit-pool-ctor",
            CacheConfig {
                ctor: true,
                ..config
            },
        )?;
        assert_eq!(
            MemPool::new(PoolSource::Cache(constructed), 0, 2).err(),
            Some(EINVAL)
        );
        let pool = MemPool::new(PoolSource::Cache(cache), 0, 2)?;
        assert_eq!(pool.size(), 40);
        let mut e = MemPool::alloc(&pool, nowait()?)?;
        e.as_mut_slice().fill(9);
        drop(e);
        let e = MemPool::alloc(&pool, nowait()?)?;
        assert!(e.as_slice().iter().all(|b| *b == 0));
        // The element keeps the pool, which keeps the cache.
        drop(pool);
        assert_eq!(e.as_slice().len(), 40);
        Ok(())
    }

    #[test]
    fn example_mempool() -> Result {
        let pool = MemPool::new(PoolSource::Kmalloc, 128, 2)?;
        assert_eq!(pool.reserve(), 2);
        let gfp = Gfp::new(GfpBase::Nowait, Mods::NONE)?;
        let mut element = MemPool::alloc(&pool, gfp)?;
        assert!(element.as_slice().iter().all(|b| *b == 0));
        element.as_mut_slice().fill(1);
        Ok(())
    }
}
