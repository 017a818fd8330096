// SPDX-License-Identifier: GPL-2.0

//! An allocation of any kind, and the per-file table that owns them.
//!
//! Everything here is safe code over the allocator kinds of [`crate::kinds`]
//! (which make memory through [`crate::alloc`]): an [`Object`] owns its
//! memory, so removing it from the
//! [`Table`] frees it, and dropping the table (when the file closes) frees
//! everything the file made.

use core::ops::RangeInclusive;

use kernel::{
    alloc::kvec::PushError,
    prelude::*,
    sync::Arc,
    uaccess::{
        UserSliceReader,
        UserSliceWriter, //
    }, //
};

use crate::{
    alloc::{
        device::DmaDevice,
        dmapool::{
            DmaPool,
            PoolShape, //
        },
        mempool::{
            MemPool,
            PoolSource, //
        },
        slab::KmemCache,
        topology::{
            self,
            Backing,
            Zone, //
        },
    },
    kinds::{
        Caches,
        Memory,
        Request,
        Visit,
        Wrap, //
    },
    stats::{
        self,
        Count, //
    },
    uapi::*,
};

/// One allocation owned by a file; dropping it frees the memory.
pub(crate) struct Object {
    pub(crate) handle: u32,
    pub(crate) mem: Memory,
    /// The node asked for (`-1`: any).
    pub(crate) node: i32,
    /// The CPU the allocation was made on.
    pub(crate) cpu: u32,
    pub(crate) gfp: u32,
    /// The cache handle, DMA device or ioremap source (`info`'s `cache`).
    pub(crate) cache: u32,
    /// Bytes counted against the file's quota.
    charge: usize,
    /// Pages counted in the statistics ([`crate::kinds::Kind::pages`]).
    pages: usize,
}

impl Object {
    /// The `struct kmemlab_info` describing this object.
    pub(crate) fn info(&self) -> KmemlabInfo {
        let report = self.mem.report();
        KmemlabInfo {
            handle: self.handle,
            kind: self.mem.kind(),
            // CAST: a `usize` always fits in a `u64`.
            size: report.size as u64,
            order: report.order,
            node: self.node,
            nid: report.nid,
            cpu: self.cpu,
            cache: self.cache,
            gfp: self.gfp,
            zone: zone_abi(report.zone),
            backing: backing_abi(report.backing),
        }
    }
}

/// The ABI's `KMEMLAB_ZONE_*` for `zone`.
pub(crate) fn zone_abi(zone: Zone) -> u32 {
    match zone {
        Zone::Unknown => KMEMLAB_ZONE_NONE,
        Zone::Dma => KMEMLAB_ZONE_DMA,
        Zone::Dma32 => KMEMLAB_ZONE_DMA32,
        Zone::Normal => KMEMLAB_ZONE_NORMAL,
        Zone::HighMem => KMEMLAB_ZONE_HIGHMEM,
        Zone::Movable => KMEMLAB_ZONE_MOVABLE,
        Zone::Device => KMEMLAB_ZONE_DEVICE,
    }
}

/// The ABI's `KMEMLAB_BACKING_*` for `backing`.
pub(crate) fn backing_abi(backing: Backing) -> u32 {
    match backing {
        Backing::None => KMEMLAB_BACKING_NONE,
        Backing::Slab => KMEMLAB_BACKING_SLAB,
        Backing::Pages => KMEMLAB_BACKING_PAGES,
        Backing::Vmalloc => KMEMLAB_BACKING_VMALLOC,
    }
}

impl Object {
    /// Counts this object freed in `tally` (it is dropped by the caller).
    fn count_freed(&self, tally: &mut stats::CallTally) {
        tally.freed(self.mem.kind(), self.charge, self.pages);
    }
}

/// A cache owned by a file.
struct CacheEntry {
    handle: u32,
    cache: Arc<KmemCache>,
}

/// A pool owned by a file: a mempool (its reserve's bytes count against
/// the quota) or a DMA pool (the pages it keeps count against the quota).
struct PoolEntry {
    handle: u32,
    pool: AnyPool,
    /// The cache it takes its elements from, if any (that cache cannot be
    /// destroyed while the pool lives).
    cache: Option<u32>,
    /// Bytes counted against the quota until the pool is destroyed.
    charge: usize,
    /// DMA pool: the most blocks it has had out at once (the file's, and
    /// those a benchmark run may have held). A DMA pool keeps the pages it
    /// took until it is destroyed, so it is charged for that many blocks,
    /// besides what its live blocks are charged.
    peak: usize,
}

/// A pool of either sort, with what `STATUS` reports of it.
enum AnyPool {
    Mem(Arc<MemPool>),
    Dma {
        pool: Arc<DmaPool>,
        /// The name as userspace gave it (`kmemlab-` less), NUL-padded.
        name: [u8; KMEMLAB_CACHE_NAME_MAX],
    },
}

impl AnyPool {
    /// The `KMEMLAB_KIND_*` of the objects taken from the pool.
    fn kind(&self) -> u32 {
        match self {
            AnyPool::Mem(_) => KMEMLAB_KIND_MEMPOOL,
            AnyPool::Dma { .. } => KMEMLAB_KIND_DMA_POOL,
        }
    }
}

/// What `KMEMLAB_DMA_POOL_STATUS` reports of a DMA pool.
pub(crate) struct DmaPoolStatus {
    pub(crate) name: [u8; KMEMLAB_CACHE_NAME_MAX],
    pub(crate) device: DmaDevice,
    pub(crate) shape: PoolShape,
    pub(crate) live: usize,
}

/// What `KMEMLAB_MEMPOOL_STATUS` reports of a mempool.
pub(crate) struct PoolStatus {
    pub(crate) cache: Option<u32>,
    pub(crate) size: usize,
    pub(crate) min_nr: usize,
    pub(crate) curr_nr: usize,
    pub(crate) live: usize,
}

/// Limits on what one file may hold.
#[derive(Clone, Copy)]
pub(crate) struct Quota {
    pub(crate) objects: usize,
    pub(crate) bytes: usize,
}

/// Everything one open file owns.
///
/// Objects are kept in handle order; handles are never reused within a file.
///
/// Statistics: every object the table holds was counted created, and every
/// object it drops is counted freed (in a tally of the call). Objects live
/// nowhere else, and only [`Table::alloc`] (undoing), [`Table::free`],
/// [`Table::free_newest`] and [`Table::free_all`] (which dropping the table
/// runs) drop them.
///
/// The arrays are `kvmalloc`-backed: at the default quota (65536 objects)
/// the object array outgrows what `kmalloc` can give (an order-11 request,
/// which the page allocator refuses with a warning).
pub(crate) struct Table {
    objects: KVVec<Object>,
    caches: KVVec<CacheEntry>,
    pools: KVVec<PoolEntry>,
    last_handle: u32,
    bytes: usize,
}

impl Table {
    pub(crate) const fn new() -> Self {
        Self {
            objects: KVVec::new(),
            caches: KVVec::new(),
            pools: KVVec::new(),
            last_handle: 0,
            bytes: 0,
        }
    }

    /// A fresh handle; running out of them (after 2^32 allocations) counts
    /// as an exhausted quota.
    fn next_handle(&mut self) -> Result<u32> {
        self.last_handle = self.last_handle.checked_add(1).ok_or(ENOMEM)?;
        Ok(self.last_handle)
    }

    /// The DMA pool of `kind`'s objects named `handle` with `out` blocks out
    /// at once: its index, its new peak and the bytes its charge grows by
    /// (`None` for other kinds).
    fn pool_growth(
        &self,
        kind: u32,
        handle: u32,
        out: usize,
    ) -> Result<Option<(usize, usize, usize)>> {
        if kind != KMEMLAB_KIND_DMA_POOL {
            return Ok(None);
        }
        let (i, pool, _) = self.dma_pool_at(handle)?;
        let p = &self.pools[i];
        let peak = p.peak.max(out);
        let growth = (peak - p.peak)
            .checked_mul(pool.footprint())
            .ok_or(ENOMEM)?;
        Ok(Some((i, peak, growth)))
    }

    /// Charges the DMA pool of a benchmark run of `req` for `held` more
    /// blocks out at once than the file holds (`ENOMEM` beyond the quota):
    /// the pool keeps the pages the run takes. Nothing for other kinds.
    pub(crate) fn charge_run(&mut self, req: &Request, held: usize, quota: Quota) -> Result {
        let (kind, handle) = (req.what.kind(), req.what.tag());
        if kind != KMEMLAB_KIND_DMA_POOL {
            return Ok(());
        }
        let out = self
            .pool_live(handle, kind)
            .checked_add(held)
            .ok_or(ENOMEM)?;
        if let Some((i, peak, growth)) = self.pool_growth(kind, handle, out)? {
            let bytes = self.bytes.checked_add(growth).ok_or(ENOMEM)?;
            if bytes > quota.bytes {
                return Err(ENOMEM);
            }
            self.pools[i].peak = peak;
            self.pools[i].charge += growth;
            self.bytes = bytes;
        }
        Ok(())
    }

    /// Creates `count` objects for `req`: all of them, or none (`ENOMEM` when
    /// the quota would be exceeded or an allocation fails; `EINVAL` for
    /// none). Returns their handles, consecutive, the table's newest.
    pub(crate) fn alloc(
        &mut self,
        req: &Request,
        count: usize,
        quota: Quota,
    ) -> Result<RangeInclusive<u32>> {
        if count == 0 {
            return Err(EINVAL);
        }
        let more_bytes = req.what.bytes().checked_mul(count).ok_or(ENOMEM)?;
        let (kind, handle) = (req.what.kind(), req.what.tag());
        let out = self
            .pool_live(handle, kind)
            .checked_add(count)
            .ok_or(ENOMEM)?;
        let growth = self.pool_growth(kind, handle, out)?;
        let bytes = self
            .bytes
            .checked_add(more_bytes)
            .and_then(|b| b.checked_add(growth.map_or(0, |(_, _, g)| g)))
            .ok_or(ENOMEM)?;
        let objects = (self.objects.len() + self.caches.len() + self.pools.len())
            .checked_add(count)
            .ok_or(ENOMEM)?;
        if objects > quota.objects || bytes > quota.bytes {
            return Err(ENOMEM);
        }
        self.objects.reserve(count, GFP_KERNEL)?;
        let (first, before) = (self.last_handle, self.objects.len());
        let (charge, pages) = (req.what.bytes(), req.what.pages());
        let mut tally = stats::UnitTally::new(kind, charge, pages, count as u64, count);
        // All or nothing: on failure the objects made so far are freed and
        // the handles they had are given back.
        let undo = |table: &mut Self, tally: &mut stats::UnitTally, e: Error| {
            for object in &table.objects[before..] {
                tally.freed(1);
                tally.repage(object.pages, pages);
            }
            table.objects.truncate(before);
            table.last_handle = first;
            Err(e)
        };
        let each = MakeEach {
            table: self,
            req,
            count,
            tally: &mut tally,
        };
        if let Err(e) = req.what.visit(each) {
            return undo(self, &mut tally, e);
        }

        if let Some((i, peak, growth)) = growth {
            self.pools[i].peak = peak;
            self.pools[i].charge += growth;
        }
        self.bytes = bytes;
        // The objects made took the next `count` handles, in order (at
        // least one was made, so `first + 1` did not overflow).
        Ok(first + 1..=self.last_handle)
    }

    /// Frees the objects `made` names, the newest (what [`Table::alloc`]
    /// returned, with nothing since), as [`Table::free`] of their handles
    /// would: the undoing of an ALLOC whose handles could not be written
    /// out. Their handles stay used (userspace may have seen some), and a
    /// DMA pool keeps the pages it grew by, as after any FREE.
    pub(crate) fn free_newest(&mut self, made: &RangeInclusive<u32>) {
        // CAST: a `u32` difference fits in a `usize`.
        let count = (made.end() - made.start()) as usize + 1;
        let start = self.objects.len().saturating_sub(count);
        debug_assert!(self.objects.get(start).map(|o| o.handle) == Some(*made.start()));
        debug_assert!(self.objects.last().map(|o| o.handle) == Some(*made.end()));
        self.drop_from(start);
    }

    /// Frees the objects from the `start`th on, counting them freed.
    fn drop_from(&mut self, start: usize) {
        let mut tally = stats::CallTally::new();
        let mut freed = 0;
        for o in &self.objects[start..] {
            freed += o.charge;
            o.count_freed(&mut tally);
        }
        self.objects.truncate(start);
        self.bytes -= freed;
    }

    fn index(&self, handle: u32) -> Result<usize> {
        self.objects
            .binary_search_by_key(&handle, |o| o.handle)
            .map_err(|_| ENOENT)
    }

    /// The object named `handle` (`ENOENT` if there is none).
    pub(crate) fn get(&self, handle: u32) -> Result<&Object> {
        Ok(&self.objects[self.index(handle)?])
    }

    /// The object named `handle`, writable.
    pub(crate) fn get_mut(&mut self, handle: u32) -> Result<&mut Object> {
        let i = self.index(handle)?;
        Ok(&mut self.objects[i])
    }

    /// The two different objects named `a` and `b`, writable (`EINVAL` when
    /// they are the same, `ENOENT` when one is unknown).
    pub(crate) fn get_two_mut(&mut self, a: u32, b: u32) -> Result<(&mut Object, &mut Object)> {
        let (i, j) = (self.index(a)?, self.index(b)?);
        if i == j {
            return Err(EINVAL);
        }
        let (low, high) = self.objects.split_at_mut(i.max(j));
        let (first, second) = (&mut low[i.min(j)], &mut high[0]);
        Ok(if i < j {
            (first, second)
        } else {
            (second, first)
        })
    }

    /// Frees the objects named in `handles`: all of them, or none when one is
    /// unknown (`ENOENT`) or named twice (`EINVAL`). Sorts `handles`.
    ///
    /// The table and the sorted handles are walked side by side from the
    /// first object named, once to check and once to free: a step per
    /// object, nothing searched per handle, and the objects older than the
    /// first one named (most of a large table, when the newest go first)
    /// are not touched. When the handles name every object from the first
    /// one named on (a FREE of what the last ALLOCs made), nothing moves:
    /// those objects are counted and dropped.
    pub(crate) fn free(&mut self, handles: &mut [u32]) -> Result {
        sort_handles(handles);
        let Some(&lowest) = handles.first() else {
            return Ok(());
        };
        let start = self.objects.partition_point(|o| o.handle < lowest);
        let objects = &self.objects[start..];
        let (mut at, mut twice) = (0, false);
        for (i, &h) in handles.iter().enumerate() {
            if i > 0 && handles[i - 1] == h {
                twice = true;
                continue;
            }
            while objects.get(at).is_some_and(|o| o.handle < h) {
                at += 1;
            }
            if objects.get(at).is_none_or(|o| o.handle != h) {
                return Err(ENOENT);
            }
            at += 1;
        }
        if twice {
            return Err(EINVAL);
        }
        // No handle twice (checked above, which this relies on), so every
        // handle names a different object from `start` on: as many
        // handles as objects there means all of them (the usual FREE, of
        // what the last ALLOCs made), and nothing moves.
        if handles.len() == objects.len() {
            self.drop_from(start);
            return Ok(());
        }
        // Every handle names an object: the ones kept move down over the
        // ones named (keeping their order), which end up past `kept` and go
        // when the table is cut there.
        let (mut kept, mut next, mut freed) = (start, 0, 0);
        let mut tally = stats::CallTally::new();
        for i in start..self.objects.len() {
            let o = &self.objects[i];
            if handles.get(next) == Some(&o.handle) {
                next += 1;
                freed += o.charge;
                o.count_freed(&mut tally);
            } else {
                self.objects.swap(kept, i);
                kept += 1;
            }
        }
        self.objects.truncate(kept);
        self.bytes -= freed;
        Ok(())
    }

    /// Frees every object; caches stay.
    pub(crate) fn free_all(&mut self) {
        self.drop_from(0);
        // What is left is the mempools' reserves.
        self.bytes = self.pools.iter().map(|p| p.charge).sum();
    }

    /// Every object, in handle order.
    pub(crate) fn objects(&self) -> &[Object] {
        &self.objects
    }

    /// Adds a cache and returns its handle; caches count as objects against
    /// the quota (`ENOMEM` beyond it).
    pub(crate) fn add_cache(&mut self, cache: Arc<KmemCache>, quota: Quota) -> Result<u32> {
        if self.caches.len() + self.pools.len() + self.objects.len() >= quota.objects {
            return Err(ENOMEM);
        }
        self.caches.reserve(1, GFP_KERNEL)?;
        let handle = self.next_handle()?;
        self.caches.push(CacheEntry { handle, cache }, GFP_KERNEL)?;
        Ok(handle)
    }

    /// Every cache, in creation order.
    pub(crate) fn caches(&self) -> impl Iterator<Item = &Arc<KmemCache>> {
        self.caches.iter().map(|c| &c.cache)
    }

    /// Destroys the cache named `handle`: `EBUSY` while it has objects.
    pub(crate) fn destroy_cache(&mut self, handle: u32) -> Result {
        let i = self
            .caches
            .iter()
            .position(|c| c.handle == handle)
            .ok_or(ENOENT)?;
        if self.caches[i].cache.live_objects() != 0
            || self.pools.iter().any(|p| p.cache == Some(handle))
        {
            return Err(EBUSY);
        }
        // The entry held the last reference: the cache is destroyed here.
        self.caches.remove(i).map_err(|_| EINVAL)?;
        Ok(())
    }
}

impl Table {
    /// Creates a mempool of `min_nr` elements over kmalloc (`size` bytes
    /// each) or over the cache named `cache`, and returns its handle.
    /// Mempools count as objects against the quota, and their reserve's
    /// bytes against its bytes (`ENOMEM`).
    pub(crate) fn add_pool(
        &mut self,
        cache: Option<u32>,
        size: usize,
        min_nr: usize,
        quota: Quota,
    ) -> Result<u32> {
        MemPool::check(cache.is_some(), size, min_nr)?;
        let source = match cache {
            Some(h) => PoolSource::Cache(Caches::cache(self, h)?),
            None => PoolSource::Kmalloc,
        };
        // A reserve cannot keep objects constructed (`MemPool::new` refuses
        // it too): refused before the quota is looked at.
        if matches!(&source, PoolSource::Cache(c) if c.config().ctor) {
            return Err(EINVAL);
        }
        if self.caches.len() + self.pools.len() + self.objects.len() >= quota.objects {
            return Err(ENOMEM);
        }
        let element = match &source {
            PoolSource::Cache(c) => c.config().object_size,
            PoolSource::Kmalloc => size,
        };
        let charge = element.checked_mul(min_nr).ok_or(ENOMEM)?;
        let bytes = self.bytes.checked_add(charge).ok_or(ENOMEM)?;
        if bytes > quota.bytes {
            return Err(ENOMEM);
        }
        self.pools.reserve(1, GFP_KERNEL)?;
        let pool = MemPool::new(source, size, min_nr)?;
        let handle = self.push_pool(AnyPool::Mem(pool), cache, charge)?;
        self.bytes = bytes;
        Ok(handle)
    }

    /// Creates a DMA pool `kmemlab-<name>` for `device` and returns its
    /// handle; it counts as an object against the quota (`ENOMEM`).
    pub(crate) fn add_dma_pool(
        &mut self,
        device: DmaDevice,
        name: [u8; KMEMLAB_CACHE_NAME_MAX],
        shape: PoolShape,
        quota: Quota,
    ) -> Result<u32> {
        let len = name.iter().position(|b| *b == 0).unwrap_or(name.len());
        if self.caches.len() + self.pools.len() + self.objects.len() >= quota.objects {
            return Err(ENOMEM);
        }
        self.pools.reserve(1, GFP_KERNEL)?;
        let pool = DmaPool::new(device, &name[..len], shape)?;
        self.push_pool(AnyPool::Dma { pool, name }, None, 0)
    }

    /// Adds `pool` under a fresh handle (room was reserved).
    fn push_pool(&mut self, pool: AnyPool, cache: Option<u32>, charge: usize) -> Result<u32> {
        let handle = self.next_handle()?;
        self.pools.push(
            PoolEntry {
                handle,
                pool,
                cache,
                charge,
                peak: 0,
            },
            GFP_KERNEL,
        )?;
        Ok(handle)
    }

    /// The index of the pool of `kind`'s objects named `handle`.
    fn pool_index(&self, handle: u32, kind: u32) -> Result<usize> {
        self.pools
            .iter()
            .position(|p| p.handle == handle && p.pool.kind() == kind)
            .ok_or(ENOENT)
    }

    /// The mempool named `handle`, with its entry (`ENOENT` when there is none).
    fn mem_pool(&self, handle: u32) -> Result<(&PoolEntry, &Arc<MemPool>)> {
        self.pools
            .iter()
            .find_map(|p| match &p.pool {
                AnyPool::Mem(pool) if p.handle == handle => Some((p, pool)),
                _ => None,
            })
            .ok_or(ENOENT)
    }

    /// The DMA pool named `handle`: its index, the pool and its name
    /// (`ENOENT` when there is none).
    fn dma_pool_at(
        &self,
        handle: u32,
    ) -> Result<(usize, &Arc<DmaPool>, &[u8; KMEMLAB_CACHE_NAME_MAX])> {
        self.pools
            .iter()
            .enumerate()
            .find_map(|(i, p)| match &p.pool {
                AnyPool::Dma { pool, name } if p.handle == handle => Some((i, pool, name)),
                _ => None,
            })
            .ok_or(ENOENT)
    }

    /// Objects of the file taken from the pool named `handle`.
    fn pool_live(&self, handle: u32, kind: u32) -> usize {
        self.objects
            .iter()
            .filter(|o| o.mem.kind() == kind && o.cache == handle)
            .count()
    }

    /// Takes back the pool `handle` (of `kind`'s objects) that `add_pool`
    /// or `add_dma_pool` just made, handle included: the file is as it was
    /// before.
    pub(crate) fn undo_pool(&mut self, handle: u32, kind: u32) -> Result {
        self.destroy_pool(handle, kind)?;
        if self.last_handle == handle {
            self.last_handle -= 1;
        }
        Ok(())
    }

    /// Destroys the pool of `kind`'s objects named `handle`: `EBUSY` while
    /// it has objects (of a DMA pool, even when its device's unbinding
    /// freed them). A benchmark run of it keeps it until the run ends.
    pub(crate) fn destroy_pool(&mut self, handle: u32, kind: u32) -> Result {
        let i = self.pool_index(handle, kind)?;
        if self.pool_live(handle, kind) != 0 {
            return Err(EBUSY);
        }
        let entry = self.pools.remove(i).map_err(|_| EINVAL)?;
        self.bytes -= entry.charge;
        Ok(())
    }

    /// What the mempool named `handle` is, and holds now.
    pub(crate) fn pool_status(&self, handle: u32) -> Result<PoolStatus> {
        let (p, pool) = self.mem_pool(handle)?;
        Ok(PoolStatus {
            cache: p.cache,
            size: pool.size(),
            min_nr: pool.min_nr(),
            curr_nr: pool.reserve(),
            live: self.pool_live(handle, KMEMLAB_KIND_MEMPOOL),
        })
    }

    /// What the DMA pool named `handle` is, and how many blocks the file holds.
    pub(crate) fn dma_pool_status(&self, handle: u32) -> Result<DmaPoolStatus> {
        let (_, pool, name) = self.dma_pool_at(handle)?;
        Ok(DmaPoolStatus {
            name: *name,
            device: pool.device(),
            shape: pool.shape(),
            live: self.pool_live(handle, KMEMLAB_KIND_DMA_POOL),
        })
    }
}

impl Caches for Table {
    fn cache(&self, handle: u32) -> Result<Arc<KmemCache>> {
        self.caches
            .iter()
            .find(|c| c.handle == handle)
            .map(|c| c.cache.clone())
            .ok_or(ENOENT)
    }

    fn pool(&self, handle: u32) -> Result<Arc<MemPool>> {
        Ok(self.mem_pool(handle)?.1.clone())
    }

    fn dma_pool(&self, handle: u32) -> Result<Arc<DmaPool>> {
        Ok(self.dma_pool_at(handle)?.1.clone())
    }
}

impl Drop for Table {
    fn drop(&mut self) {
        // Objects first: each cache object holds its cache, each element its
        // mempool, each block its DMA pool; then the pools, which hold their
        // caches.
        self.free_all();
        self.pools.clear();
        self.caches.clear();
    }
}

/// [`Table::alloc`]'s loop, compiled for each kind (as the benchmarks'
/// is): per object a handle, the allocation, and its entry, with no
/// dispatch on the kind. Stops at the first failure, which the caller
/// undoes; an object made but not stored is counted freed here.
struct MakeEach<'a> {
    table: &'a mut Table,
    req: &'a Request,
    count: usize,
    tally: &'a mut stats::UnitTally,
}

impl Visit for MakeEach<'_> {
    type Out = Result;

    fn visit<K: Wrap>(self, r: &K::Request) -> Result {
        let Self {
            table,
            req,
            count,
            tally,
        } = self;
        let (gfp, node) = (req.gfp, req.node);
        let (charge, pages) = (K::bytes(r), K::pages(r));
        let (cache, node_id, gfp_bits) = (K::tag(r), node.id(), req.gfp_bits);
        for _ in 0..count {
            let cpu = topology::current_cpu();
            // The handle first: a failure after the object is made and
            // counted would have to count it freed again.
            let handle = table.next_handle()?;
            let mem = tally.made(|| K::make(r, gfp, node))?;
            // The pages this object took, where its allocator decides.
            let taken = K::pages_taken(r, &mem);
            tally.repage(pages, taken);
            // New handles are the largest, so the table stays in handle
            // order; capacity was reserved, so the push cannot fail.
            let object = Object {
                handle,
                mem: K::wrap(mem),
                node: node_id,
                cpu,
                gfp: gfp_bits,
                cache,
                charge,
                pages: taken,
            };
            if let Err(PushError(object)) = table.objects.push_within_capacity(object) {
                drop(object);
                tally.freed(1);
                tally.repage(taken, pages);
                return Err(ENOMEM);
            }
        }
        Ok(())
    }
}

/// Sorts `handles` in place: an insertion sort, linear for the sorted lists
/// ALLOC hands out and at worst quadratic in `KMEMLAB_BATCH_MAX`.
fn sort_handles(handles: &mut [u32]) {
    for i in 1..handles.len() {
        let mut j = i;
        while j > 0 && handles[j - 1] > handles[j] {
            handles.swap(j - 1, j);
            j -= 1;
        }
    }
}

/// Checks that `offset..offset + len` lies within an object of `size` bytes.
pub(crate) fn range(size: usize, offset: u64, len: u64) -> Result<core::ops::Range<usize>> {
    let start = usize::try_from(offset).map_err(|_| EINVAL)?;
    let len = usize::try_from(len).map_err(|_| EINVAL)?;
    let end = start.checked_add(len).ok_or(EINVAL)?;
    if end > size {
        return Err(EINVAL);
    }
    Ok(start..end)
}

/// Bytes a READ copies through its bounce buffer at a time.
const CHUNK: usize = 64 * 1024;

/// Copies `range` of the object from user memory.
///
/// The bytes go through a bounce buffer, so a fault halfway through the user
/// buffer (`EFAULT`) leaves the object as it was, and no user copy runs
/// while device memory is held or a page is mapped.
pub(crate) fn write(
    object: &mut Object,
    range: core::ops::Range<usize>,
    mut from: UserSliceReader,
) -> Result {
    let mut bounce = KVVec::from_elem(0u8, range.len(), GFP_KERNEL)?;
    from.read_slice(&mut bounce)?;
    let start = range.start;
    object.mem.write(range, &mut |at, piece| {
        let from = at - start;
        piece.copy_from_slice(&bounce[from..from + piece.len()]);
    })
}

/// Copies `range` of the object to user memory, through a bounce buffer a
/// chunk at a time: no user copy (which may fault and wait) runs while
/// device memory is held or a page is mapped.
pub(crate) fn read(
    object: &Object,
    range: core::ops::Range<usize>,
    mut to: UserSliceWriter,
) -> Result {
    let mut bounce = KVVec::from_elem(0u8, range.len().min(CHUNK), GFP_KERNEL)?;
    let mut at = range.start;
    while at < range.end {
        let n = (range.end - at).min(CHUNK);
        let chunk = at;
        object.mem.read(at..at + n, &mut |from, piece| {
            let to = from - chunk;
            bounce[to..to + piece.len()].copy_from_slice(piece);
            true
        })?;
        to.write_slice(&bounce[..n])?;
        at += n;
    }
    Ok(())
}

/// Fills `range` with the pattern for `seed`.
pub(crate) fn fill(object: &mut Object, range: core::ops::Range<usize>, seed: u64) -> Result {
    object.mem.write(range, &mut |at, piece| {
        for (i, b) in piece.iter_mut().enumerate() {
            // CAST: object offsets fit in a `u64`.
            *b = pattern_byte(seed, (at + i) as u64);
        }
    })
}

/// The offset of the first byte in `range` that differs from the pattern for `seed`.
pub(crate) fn verify(
    object: &Object,
    range: core::ops::Range<usize>,
    seed: u64,
) -> Result<Option<usize>> {
    let mut first = None;
    object.mem.read(range, &mut |at, piece| {
        first = piece
            .iter()
            .enumerate()
            // CAST: object offsets fit in a `u64`.
            .position(|(i, b)| *b != pattern_byte(seed, (at + i) as u64))
            .map(|i| at + i);
        first.is_none()
    })?;
    Ok(first)
}
