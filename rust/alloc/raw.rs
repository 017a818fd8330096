// SPDX-License-Identifier: GPL-2.0

//! The raw-C baseline of the benchmarks: the kernel's C allocation APIs
//! called from C (`rust/shim_bench.c`), to time against kmemlab's Rust
//! abstractions doing the same work.
//!
//! A [`RawBench`] is one thread's baseline: [`RawBench::step`] allocates a
//! batch of objects and frees them again, or bumps a counter a batch of
//! times. It holds what the C side uses (a cache, a device) for as long as
//! it lives.

use core::ptr::NonNull;

use kernel::{
    bindings,
    ffi::{
        c_int,
        c_uint,
        c_void, //
    },
    prelude::*,
    sync::Arc,
};

use super::{
    device::{
        self as devices,
        DmaDevice,
        Use, //
    },
    dma::DMA_MAX,
    dmapool::PoolScope,
    edu::BarRaw,
    gfp::{
        Gfp,
        Mods, //
    },
    iomem,
    kmalloc::KMALLOC_MAX,
    kvmalloc::KVMALLOC_MAX,
    mempool::MemPool,
    pages::MAX_ORDER,
    slab::KmemCache,
    topology::Node,
    vmalloc::VMALLOC_MAX,
};

/// `enum kmemlab_cbench_work` of `rust/shim.h`: what the C side does (the
/// values are that enum's; `kmemlab_cbench_new` refuses any other).
mod work {
    use kernel::ffi::c_uint;

    pub(super) const KMALLOC: c_uint = 1;
    pub(super) const CACHE: c_uint = 2;
    pub(super) const FREE_PAGES: c_uint = 3;
    pub(super) const PAGES_NODE: c_uint = 4;
    pub(super) const VMALLOC: c_uint = 5;
    pub(super) const DMA: c_uint = 6;
    pub(super) const IOREMAP: c_uint = 7;
    pub(super) const PERCPU: c_uint = 8;
    pub(super) const PERCPU_INC: c_uint = 9;
    pub(super) const ATOMIC_INC: c_uint = 10;
    pub(super) const KVMALLOC: c_uint = 11;
    pub(super) const MEMPOOL: c_uint = 12;
    pub(super) const DMA_POOL: c_uint = 13;
}

extern "C" {
    fn kmemlab_cbench_new(
        work: c_uint,
        gfp: bindings::gfp_t,
        size: usize,
        order: c_uint,
        node: c_int,
        cache: *mut c_void,
        dev: *mut c_void,
        phys: bindings::phys_addr_t,
        batch: c_uint,
    ) -> *mut c_void;
    fn kmemlab_cbench_step(b: *mut c_void) -> c_int;
    fn kmemlab_cbench_free(b: *mut c_void);
}

/// What a baseline times.
pub(crate) enum RawWork {
    /// `kmalloc_node()` / `kfree()` of this many bytes.
    Kmalloc(usize, Node),
    /// `kmem_cache_alloc_node()` / `kmem_cache_free()`.
    Cache(Arc<KmemCache>, Node),
    /// `__get_free_pages()` / `free_pages()` of this order.
    FreePages(u32),
    /// `alloc_pages_node()` / `__free_pages()` of this order.
    NodePages(u32, Node),
    /// `vzalloc_node()` / `vfree()`.
    Vmalloc(usize, Node),
    /// `kvmalloc_node()` / `kvfree()` of this many bytes.
    Kvmalloc(usize, Node),
    /// `mempool_alloc()` / `mempool_free()` of a pool's elements.
    Mempool(Arc<MemPool>),
    /// `dma_alloc_coherent()` / `dma_free_coherent()` for a device.
    Dma(DmaDevice, usize),
    /// `dma_pool_alloc()` / `dma_pool_free()` of a pool's blocks, with the
    /// use of the pool's device that keeps the pool live.
    DmaPool(PoolScope),
    /// `ioremap()` / `iounmap()` of a device range (never accessed), with the
    /// use of the device that keeps it bound.
    Ioremap(BarRaw),
    /// `alloc_percpu(u64)` / `free_percpu()`.
    PerCpu,
    /// `this_cpu_inc()` of a per-CPU counter of the baseline's own.
    PercpuInc,
    /// `atomic64_inc()` of one atomic shared by every baseline.
    AtomicInc,
}

/// One thread's raw-C baseline.
///
/// # Examples
///
/// ```ignore
/// let mut raw = RawBench::new(RawWork::Kmalloc(64, Node::ANY), Gfp::KERNEL.zeroed(), 8)?;
/// raw.step()?;
/// raw.step()?;
/// ```
///
/// Compiled and run as the KUnit case `kmemlab_raw::example_raw_bench`.
///
/// # Invariants
///
/// `raw` came from `kmemlab_cbench_new` and is freed only by `Drop`. Between
/// steps it holds no object. What it allocates from stays alive while it
/// does: `_cache` holds the cache, `_pool` the mempool, `dma_pool` the DMA pool
/// and a use of its device; `device` is a use of the device it
/// allocates for or maps, which keeps the device bound while this value
/// lives (unbinding waits for it to be dropped; callers poll
/// [`RawBench::stopping`] between steps so that it is, soon).
pub(crate) struct RawBench {
    raw: NonNull<c_void>,
    _cache: Option<Arc<KmemCache>>,
    _pool: Option<Arc<MemPool>>,
    dma_pool: Option<PoolScope>,
    device: Option<Use>,
}

impl RawBench {
    /// A baseline for `work` with `gfp` as asked, `batch` objects or
    /// increments per step. The C side gets the mask kmemlab's Rust uses:
    /// zeroing, but for a cache with a constructor.
    ///
    /// Errors: `EINVAL` (`batch` 0, a size or order out of the interface's
    /// range, a mask the interface cannot take, a bad ioremap range),
    /// `ENODEV` (the DMA device is not bound), `ENOMEM`.
    pub(crate) fn new(work: RawWork, gfp: Gfp, batch: u32) -> Result<Self> {
        let in_range = match &work {
            RawWork::Kmalloc(len, _) => (1..=KMALLOC_MAX).contains(len),
            RawWork::Vmalloc(len, _) => (1..=VMALLOC_MAX).contains(len),
            RawWork::Kvmalloc(len, _) => (1..=KVMALLOC_MAX).contains(len),
            RawWork::Dma(_, len) => (1..=DMA_MAX).contains(len),
            RawWork::FreePages(order) | RawWork::NodePages(order, _) => *order <= MAX_ORDER,
            _ => true,
        };
        if !in_range || batch == 0 {
            return Err(EINVAL);
        }
        let gfp = match &work {
            RawWork::Cache(c, _) if c.config().ctor => gfp,
            // A mempool cannot zero (the C side zeroes each element).
            RawWork::Mempool(_) => gfp,
            // The pool takes page headers from the slab allocator.
            RawWork::DmaPool(_) => gfp.zeroed().for_slab()?,
            _ => gfp.zeroed(),
        };
        let none = Node::ANY.raw();
        let what;
        let (mut size, mut order, mut node) = (0usize, 0u32, none);
        let mut cache = None;
        let mut pool: Option<Arc<MemPool>> = None;
        let mut pool_ptr = core::ptr::null_mut();
        let mut dma_pool = None;
        let mut device = None;
        let (mut dev, mut phys) = (core::ptr::null_mut(), 0);
        match work {
            // The slab allocator WARNs on the masks `for_slab` refuses.
            RawWork::Kmalloc(len, n) => {
                gfp.for_slab()?;
                (what, size, node) = (work::KMALLOC, len, n.raw());
            }
            RawWork::Kvmalloc(len, n) => {
                gfp.for_slab()?;
                (what, size, node) = (work::KVMALLOC, len, n.raw());
            }
            RawWork::Mempool(p) => {
                MemPool::check_gfp(gfp)?;
                (what, size) = (work::MEMPOOL, p.size());
                pool_ptr = p.as_raw();
                pool = Some(p);
            }
            RawWork::Cache(c, n) => {
                // The slab allocator WARNs on __GFP_ZERO for a cache with a
                // constructor (`KmemCache::alloc` refuses it too).
                if gfp.has(Mods::ZERO) && c.config().ctor {
                    return Err(EINVAL);
                }
                gfp.for_slab()?;
                (what, node) = (work::CACHE, n.raw());
                cache = Some(c);
            }
            RawWork::FreePages(o) => {
                // As for `FreePages`: a linear-map address has no high memory.
                if gfp.base().highmem() {
                    return Err(EINVAL);
                }
                (what, order) = (work::FREE_PAGES, o);
            }
            RawWork::NodePages(o, n) => {
                (what, order, node) = (work::PAGES_NODE, o, n.raw());
            }
            RawWork::Vmalloc(len, n) => (what, size, node) = (work::VMALLOC, len, n.raw()),
            RawWork::Dma(which, len) => {
                // What the Rust side's coherent allocation takes, no more.
                if gfp.has(Mods::ACCOUNT) {
                    return Err(EINVAL);
                }
                gfp.flags()?;
                let u = devices::current(which)?.start_use()?;
                dev = devices::raw_device(u.device()).cast();
                (what, size) = (work::DMA, len);
                device = Some(u);
            }
            RawWork::DmaPool(scope) => {
                (what, size) = (work::DMA_POOL, scope.size());
                pool_ptr = scope.as_raw().cast();
                dma_pool = Some(scope);
            }
            RawWork::Ioremap(bar) => {
                let (at, len, user) = bar.into_parts();
                iomem::check_range(at, len)?;
                (what, size, phys) = (work::IOREMAP, len, at);
                device = Some(user);
            }
            RawWork::PerCpu => what = work::PERCPU,
            RawWork::PercpuInc => what = work::PERCPU_INC,
            RawWork::AtomicInc => what = work::ATOMIC_INC,
        }
        let raw_cache = match &cache {
            Some(c) => c.as_raw().cast(),
            None => pool_ptr,
        };
        // The DMA device is bound, its DMA mask set, while `device` is held;
        // an ioremap range is a window of a BAR kmemlab's driver claimed
        // (`BarRaw`), which stays claimed while `device` keeps the device
        // bound and which the baseline only maps and unmaps; the rest are
        // plain values.
        // A DMA pool is live, its device bound, while its scope is held.
        // SAFETY: the cache, the mempool or the DMA pool's scope and the use
        // of the device (if any) are held in the new value for as long as
        // the baseline lives; see also above.
        let raw = unsafe {
            kmemlab_cbench_new(
                what,
                gfp.raw(),
                size,
                order,
                node,
                raw_cache,
                dev,
                phys,
                batch,
            )
        };
        let raw = NonNull::new(kernel::error::from_err_ptr(raw)?).ok_or(ENOMEM)?;
        // INVARIANT: made above, holding what it uses.
        Ok(Self {
            raw,
            _cache: cache,
            _pool: pool,
            dma_pool,
            device,
        })
    }

    /// Whether the device the baseline uses is unbinding: stop stepping
    /// then (unbinding waits for the baseline to be dropped).
    pub(crate) fn stopping(&self) -> bool {
        self.device.as_ref().is_some_and(Use::stopping)
            || self.dma_pool.as_ref().is_some_and(PoolScope::stopping)
    }

    /// One step: a batch allocated then freed (`ENOMEM` when an allocation
    /// failed; what the step made is freed), or a batch of increments.
    pub(crate) fn step(&mut self) -> Result {
        // SAFETY: `raw` is live by the type invariant and used by one thread
        // at a time (`&mut self`).
        kernel::error::to_result(unsafe { kmemlab_cbench_step(self.raw.as_ptr()) })
    }
}

impl Drop for RawBench {
    fn drop(&mut self) {
        // SAFETY: by the type invariant, `raw` is live, holds no object and is
        // freed only here.
        unsafe { kmemlab_cbench_free(self.raw.as_ptr()) };
    }
}

#[kunit_tests(kmemlab_raw)]
mod tests {
    use super::*;

    #[test]
    fn example_raw_bench() -> Result {
        let mut raw = RawBench::new(RawWork::Kmalloc(64, Node::ANY), Gfp::KERNEL.zeroed(), 8)?;
        raw.step()?;
        raw.step()?;
        Ok(())
    }
}
