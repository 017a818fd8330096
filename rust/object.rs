// SPDX-License-Identifier: GPL-2.0

//! An allocation of any kind, and the per-file table that owns them.
//!
//! Everything here is safe code composed from the abstractions in
//! [`crate::alloc`]: an [`Object`] owns its memory, so removing it from the
//! [`Table`] frees it, and dropping the table (when the file closes) frees
//! everything the file made.

use kernel::{
    bindings,
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
        dma::DmaBuf,
        edu::{
            self,
            BarWindow,
            EduRegs, //
        },
        gfp::Gfp,
        iomem::{
            IoMapping,
            PhysRange,
            Width, //
        },
        kmalloc::KmallocBuf,
        pages::{
            FreePages,
            NodePages, //
        },
        percpu::{
            self,
            PerCpu, //
        },
        slab::{
            CacheObject,
            KmemCache, //
        },
        topology::{
            self,
            Node, //
        },
        vmalloc::VmallocBuf,
        Allocation,
    },
    stats,
    uapi::*,
};

/// A mapping an `ioremap` object owns.
pub(crate) enum Mapping {
    /// An explicit physical range.
    Phys(IoMapping),
    /// edu's registers, held by edu's binding (`ENODEV` once it unbound).
    Edu(EduRegs),
}

impl Mapping {
    /// Bytes mapped.
    pub(crate) fn size(&self) -> usize {
        match self {
            Mapping::Phys(m) => m.size(),
            Mapping::Edu(m) => m.size(),
        }
    }

    /// Reads `width` bytes at `offset`.
    pub(crate) fn read(&self, offset: usize, width: Width) -> Result<u64> {
        match self {
            Mapping::Phys(m) => m.read(offset, width),
            Mapping::Edu(m) => m.read(offset, width),
        }
    }

    /// Writes the low `width` bytes of `value` at `offset` (edu's registers:
    /// `EACCES` for those the driver owns).
    pub(crate) fn write(&self, offset: usize, width: Width, value: u64) -> Result {
        match self {
            Mapping::Phys(m) => m.write(offset, width, value),
            Mapping::Edu(m) => m.write(offset, width, value),
        }
    }
}

/// The memory an object owns, by allocator.
pub(crate) enum Memory {
    Kmalloc(KmallocBuf),
    Cache(CacheObject),
    FreePages(FreePages),
    NodePages(NodePages),
    Vmalloc(VmallocBuf),
    Dma(DmaBuf),
    Iomem(Mapping),
    PerCpu(PerCpu<u64>),
}

impl Memory {
    /// The `KMEMLAB_KIND_*` of this memory.
    pub(crate) fn kind(&self) -> u32 {
        match self {
            Memory::Kmalloc(_) => KMEMLAB_KIND_KMALLOC,
            Memory::Cache(_) => KMEMLAB_KIND_KMEM_CACHE,
            Memory::FreePages(_) => KMEMLAB_KIND_FREE_PAGES,
            Memory::NodePages(_) => KMEMLAB_KIND_PAGES_NODE,
            Memory::Vmalloc(_) => KMEMLAB_KIND_VMALLOC,
            Memory::Dma(_) => KMEMLAB_KIND_DMA_COHERENT,
            Memory::Iomem(_) => KMEMLAB_KIND_IOREMAP,
            Memory::PerCpu(_) => KMEMLAB_KIND_PERCPU,
        }
    }

    /// The allocation behind this memory, for the kinds that are plain
    /// bytes owned outright.
    fn allocation(&self) -> Option<&dyn Allocation> {
        Some(match self {
            Memory::Kmalloc(m) => m,
            Memory::Cache(m) => m,
            Memory::FreePages(m) => m,
            Memory::NodePages(m) => m,
            Memory::Vmalloc(m) => m,
            Memory::Dma(_) | Memory::Iomem(_) | Memory::PerCpu(_) => return None,
        })
    }

    /// The allocation behind this memory, writable.
    fn allocation_mut(&mut self) -> Option<&mut dyn Allocation> {
        Some(match self {
            Memory::Kmalloc(m) => m,
            Memory::Cache(m) => m,
            Memory::FreePages(m) => m,
            Memory::NodePages(m) => m,
            Memory::Vmalloc(m) => m,
            Memory::Dma(_) | Memory::Iomem(_) | Memory::PerCpu(_) => return None,
        })
    }

    /// Runs `f` on the contents: `EINVAL` for the kinds that are not plain
    /// bytes (device memory and per-CPU counters have their own commands),
    /// `ENODEV` for a coherent buffer whose device unbound. `f` may run
    /// under a device's lock: it must not wait for long (no user copy).
    pub(crate) fn with_bytes<R>(&self, f: impl FnOnce(&[u8]) -> R) -> Result<R> {
        match self {
            Memory::Dma(m) => m.with_bytes(f),
            _ => self.allocation().map(|a| f(a.as_slice())).ok_or(EINVAL),
        }
    }

    /// Runs `f` on the contents, writable (errors as for [`Memory::with_bytes`]).
    pub(crate) fn with_bytes_mut<R>(&mut self, f: impl FnOnce(&mut [u8]) -> R) -> Result<R> {
        match self {
            Memory::Dma(m) => m.with_bytes_mut(f),
            _ => self
                .allocation_mut()
                .map(|a| f(a.as_mut_slice()))
                .ok_or(EINVAL),
        }
    }

    /// Bytes of the contents, for the kinds that are plain bytes (`EINVAL`
    /// for the others).
    pub(crate) fn byte_len(&self) -> Result<usize> {
        match self {
            Memory::Dma(m) => Ok(m.len()),
            _ => self.allocation().map(|a| a.as_slice().len()).ok_or(EINVAL),
        }
    }

    /// The usable size: bytes, bytes mapped, or bytes per CPU.
    pub(crate) fn size(&self) -> usize {
        match self {
            Memory::Iomem(map) => map.size(),
            Memory::PerCpu(_) => core::mem::size_of::<u64>(),
            _ => self.byte_len().unwrap_or(0),
        }
    }

    /// The NUMA node the memory is on (its first page), or -1 for memory
    /// that is not RAM on one node.
    pub(crate) fn nid(&self) -> i32 {
        match self {
            Memory::Dma(m) => m.nid(),
            _ => self.allocation().map_or(-1, |a| a.nid()),
        }
    }

    /// The page order, for the page kinds.
    pub(crate) fn order(&self) -> u32 {
        match self {
            Memory::FreePages(m) => m.order(),
            Memory::NodePages(m) => m.order(),
            _ => 0,
        }
    }
}

/// Pages an object of `kind` takes straight from the page allocator: the
/// page kinds' blocks, vmalloc's pages, a coherent buffer's block, and the
/// block of a kmalloc too big for the kmalloc caches; 0 for the others.
/// `size` is the object's size in bytes, `order` the page kinds' order.
pub(crate) fn pages_for(kind: u32, size: usize, order: u32) -> usize {
    let page = kernel::page::PAGE_SIZE;
    let block = |bytes: usize| bytes.div_ceil(page).next_power_of_two();
    match kind {
        KMEMLAB_KIND_FREE_PAGES | KMEMLAB_KIND_PAGES_NODE => 1 << order,
        KMEMLAB_KIND_VMALLOC => size.div_ceil(page),
        KMEMLAB_KIND_DMA_COHERENT => block(size),
        // CAST: a `u32` fits in a `usize`.
        KMEMLAB_KIND_KMALLOC if size > bindings::KMALLOC_MAX_CACHE_SIZE as usize => block(size),
        _ => 0,
    }
}

/// What to allocate: a validated `struct kmemlab_alloc` less the count, or
/// a validated `struct kmemlab_ioremap`.
pub(crate) enum Source {
    Kmalloc(usize),
    Cache(u32, Arc<KmemCache>),
    FreePages(u32),
    NodePages(u32),
    Vmalloc(usize),
    Dma(DmaDevice, usize),
    /// edu's register block.
    EduRegs,
    /// A physical range, claimed by a task allowed to map it.
    Phys(PhysRange),
    /// A window of edu's BAR 0: benchmarks only (mapped, never accessed).
    EduBar(BarWindow),
    PerCpu,
}

/// A validated allocation request.
pub(crate) struct Request {
    pub(crate) source: Source,
    pub(crate) gfp: Gfp,
    /// The ABI `gfp` bits, reported back by `info`.
    pub(crate) gfp_bits: u32,
    pub(crate) node: Node,
}

impl Request {
    /// The `KMEMLAB_KIND_*` of the objects this request makes.
    pub(crate) fn kind(&self) -> u32 {
        match &self.source {
            Source::Kmalloc(_) => KMEMLAB_KIND_KMALLOC,
            Source::Cache(..) => KMEMLAB_KIND_KMEM_CACHE,
            Source::FreePages(_) => KMEMLAB_KIND_FREE_PAGES,
            Source::NodePages(_) => KMEMLAB_KIND_PAGES_NODE,
            Source::Vmalloc(_) => KMEMLAB_KIND_VMALLOC,
            Source::Dma(..) => KMEMLAB_KIND_DMA_COHERENT,
            Source::EduRegs | Source::Phys(..) | Source::EduBar(_) => KMEMLAB_KIND_IOREMAP,
            Source::PerCpu => KMEMLAB_KIND_PERCPU,
        }
    }

    /// Bytes one object of this request counts against the quota.
    pub(crate) fn bytes(&self) -> usize {
        match &self.source {
            Source::Kmalloc(len) | Source::Vmalloc(len) | Source::Dma(_, len) => *len,
            Source::Phys(range) => range.len(),
            Source::EduBar(window) => window.len(),
            Source::EduRegs => edu::REGS_SIZE,
            Source::Cache(_, cache) => cache.config().object_size,
            Source::FreePages(order) | Source::NodePages(order) => {
                kernel::page::PAGE_SIZE << *order
            }
            Source::PerCpu => core::mem::size_of::<u64>() * percpu::possible_cpus().count(),
        }
    }

    /// Pages one object of this request takes from the page allocator.
    pub(crate) fn pages(&self) -> usize {
        let order = match &self.source {
            Source::FreePages(order) | Source::NodePages(order) => *order,
            _ => 0,
        };
        pages_for(self.kind(), self.bytes(), order)
    }

    /// Allocates one object's memory, initialised: zeroed, or for a cache
    /// with a constructor, the constructor's mark followed by zeroes. Also
    /// returns what `info` reports in its `cache` field.
    pub(crate) fn allocate(&self) -> Result<(Memory, u32)> {
        let zeroed = self.gfp.zeroed();
        Ok(match &self.source {
            Source::Kmalloc(len) => (
                Memory::Kmalloc(KmallocBuf::new(*len, zeroed, self.node)?),
                0,
            ),
            Source::Vmalloc(len) => (
                Memory::Vmalloc(VmallocBuf::new(*len, zeroed, self.node)?),
                0,
            ),
            Source::FreePages(order) => (Memory::FreePages(FreePages::new(*order, zeroed)?), 0),
            Source::NodePages(order) => (
                Memory::NodePages(NodePages::new(*order, zeroed, self.node)?),
                0,
            ),
            Source::Cache(handle, cache) => (
                Memory::Cache(cache_object(cache, self.gfp, self.node)?),
                *handle,
            ),
            Source::Dma(device, len) => {
                let id = match device {
                    DmaDevice::Faux => KMEMLAB_DEV_FAUX,
                    DmaDevice::Edu => KMEMLAB_DEV_EDU,
                };
                (Memory::Dma(DmaBuf::new(*device, *len, zeroed)?), id)
            }
            Source::EduRegs => (
                Memory::Iomem(Mapping::Edu(edu::map_registers()?)),
                KMEMLAB_IOREMAP_EDU,
            ),
            Source::Phys(range) => (
                Memory::Iomem(Mapping::Phys(IoMapping::phys(range)?)),
                KMEMLAB_IOREMAP_PHYS,
            ),
            // Not an object's source: a mapping for timing only.
            Source::EduBar(_) => return Err(EINVAL),
            Source::PerCpu => (Memory::PerCpu(PerCpu::new()?), 0),
        })
    }
}

/// An object of `cache`, initialised like every kmemlab object: zeroed, or
/// for a cache with a constructor, the constructor's mark followed by zeroes.
pub(crate) fn cache_object(cache: &Arc<KmemCache>, gfp: Gfp, node: Node) -> Result<CacheObject> {
    if !cache.config().ctor {
        return cache.alloc(gfp.zeroed(), node);
    }
    let mut object = cache.alloc(gfp, node)?;
    object.as_mut_slice()[8..].fill(0);
    Ok(object)
}

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
    /// Pages counted in the statistics ([`pages_for`]).
    pages: usize,
}

impl Object {
    /// The `struct kmemlab_info` describing this object.
    pub(crate) fn info(&self) -> KmemlabInfo {
        KmemlabInfo {
            handle: self.handle,
            kind: self.mem.kind(),
            // CAST: a `usize` always fits in a `u64`.
            size: self.mem.size() as u64,
            order: self.mem.order(),
            node: self.node,
            nid: self.mem.nid(),
            cpu: self.cpu,
            cache: self.cache,
            gfp: self.gfp,
        }
    }
}

impl Drop for Object {
    fn drop(&mut self) {
        stats::freed(self.mem.kind(), self.charge, self.pages);
    }
}

/// A cache owned by a file.
struct CacheEntry {
    handle: u32,
    cache: Arc<KmemCache>,
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
pub(crate) struct Table {
    objects: KVec<Object>,
    caches: KVec<CacheEntry>,
    last_handle: u32,
    bytes: usize,
}

impl Table {
    pub(crate) const fn new() -> Self {
        Self {
            objects: KVec::new(),
            caches: KVec::new(),
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

    /// Creates `count` objects for `req`: all of them, or none (`ENOMEM` when
    /// the quota would be exceeded or an allocation fails). Returns their handles.
    pub(crate) fn alloc(&mut self, req: &Request, count: usize, quota: Quota) -> Result<KVec<u32>> {
        let more_bytes = req.bytes().checked_mul(count).ok_or(ENOMEM)?;
        let bytes = self.bytes.checked_add(more_bytes).ok_or(ENOMEM)?;
        let objects = (self.objects.len() + self.caches.len())
            .checked_add(count)
            .ok_or(ENOMEM)?;
        if objects > quota.objects || bytes > quota.bytes {
            return Err(ENOMEM);
        }
        let mut handles = KVec::with_capacity(count, GFP_KERNEL)?;
        self.objects.reserve(count, GFP_KERNEL)?;
        let (first, before) = (self.last_handle, self.objects.len());
        let (charge, pages) = (req.bytes(), req.pages());
        // All or nothing: on failure the objects made so far are freed and
        // the handles they had are given back.
        let undo = |table: &mut Self, e: Error| {
            table.objects.truncate(before);
            table.last_handle = first;
            Err(e)
        };
        for _ in 0..count {
            let cpu = topology::current_cpu();
            let started = stats::start(req.kind());
            let (mem, cache) = match req.allocate() {
                Ok(made) => made,
                Err(e) => return undo(self, e),
            };
            let handle = match self.next_handle() {
                Ok(handle) => handle,
                Err(e) => return undo(self, e),
            };
            stats::created(req.kind(), charge, pages, started);
            // New handles are the largest, so the table stays in handle
            // order; capacity was reserved above, so neither push can fail.
            let object = Object {
                handle,
                mem,
                node: req.node.id(),
                cpu,
                gfp: req.gfp_bits,
                cache,
                charge,
                pages,
            };
            if self.objects.push_within_capacity(object).is_err()
                || handles.push_within_capacity(handle).is_err()
            {
                return undo(self, ENOMEM);
            }
        }
        self.bytes = bytes;
        Ok(handles)
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
    pub(crate) fn free(&mut self, handles: &mut [u32]) -> Result {
        sort_handles(handles);
        for h in handles.iter() {
            self.index(*h)?;
        }
        if handles.windows(2).any(|w| w[0] == w[1]) {
            return Err(EINVAL);
        }
        // One pass over the table, whatever the number of handles.
        let mut freed = 0;
        self.objects.retain(|o| {
            let named = handles.binary_search(&o.handle).is_ok();
            if named {
                freed += o.charge;
            }
            !named
        });
        self.bytes -= freed;
        Ok(())
    }

    /// Frees every object; caches stay.
    pub(crate) fn free_all(&mut self) {
        self.objects.clear();
        self.bytes = 0;
    }

    /// Every object, in handle order.
    pub(crate) fn objects(&self) -> &[Object] {
        &self.objects
    }

    /// Adds a cache and returns its handle; caches count as objects against
    /// the quota (`ENOMEM` beyond it).
    pub(crate) fn add_cache(&mut self, cache: Arc<KmemCache>, quota: Quota) -> Result<u32> {
        if self.caches.len() + self.objects.len() >= quota.objects {
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

    /// The cache named `handle` (`ENOENT` if there is none).
    pub(crate) fn cache(&self, handle: u32) -> Result<Arc<KmemCache>> {
        self.caches
            .iter()
            .find(|c| c.handle == handle)
            .map(|c| c.cache.clone())
            .ok_or(ENOENT)
    }

    /// Destroys the cache named `handle`: `EBUSY` while it has objects.
    pub(crate) fn destroy_cache(&mut self, handle: u32) -> Result {
        let i = self
            .caches
            .iter()
            .position(|c| c.handle == handle)
            .ok_or(ENOENT)?;
        if self.caches[i].cache.live_objects() != 0 {
            return Err(EBUSY);
        }
        // The entry held the last reference: the cache is destroyed here.
        self.caches.remove(i).map_err(|_| EINVAL)?;
        Ok(())
    }
}

impl Drop for Table {
    fn drop(&mut self) {
        // Objects first: each cache object holds its cache.
        self.objects.clear();
        self.caches.clear();
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
/// while device memory is held.
pub(crate) fn write(
    object: &mut Object,
    range: core::ops::Range<usize>,
    mut from: UserSliceReader,
) -> Result {
    let mut bounce = KVVec::from_elem(0u8, range.len(), GFP_KERNEL)?;
    from.read_slice(&mut bounce)?;
    object
        .mem
        .with_bytes_mut(|b| b[range].copy_from_slice(&bounce))
}

/// Copies `range` of the object to user memory, through a bounce buffer a
/// chunk at a time: no user copy (which may fault and wait) runs while
/// device memory is held.
pub(crate) fn read(
    object: &Object,
    range: core::ops::Range<usize>,
    mut to: UserSliceWriter,
) -> Result {
    let mut bounce = KVVec::from_elem(0u8, range.len().min(CHUNK), GFP_KERNEL)?;
    let mut at = range.start;
    while at < range.end {
        let n = (range.end - at).min(CHUNK);
        object
            .mem
            .with_bytes(|b| bounce[..n].copy_from_slice(&b[at..at + n]))?;
        to.write_slice(&bounce[..n])?;
        at += n;
    }
    Ok(())
}

/// Fills `range` with the pattern for `seed`.
pub(crate) fn fill(object: &mut Object, range: core::ops::Range<usize>, seed: u64) -> Result {
    let start = range.start;
    object.mem.with_bytes_mut(|b| {
        for (i, b) in b[range].iter_mut().enumerate() {
            // CAST: object offsets fit in a `u64`.
            *b = pattern_byte(seed, (start + i) as u64);
        }
    })
}

/// The offset of the first byte in `range` that differs from the pattern for `seed`.
pub(crate) fn verify(
    object: &Object,
    range: core::ops::Range<usize>,
    seed: u64,
) -> Result<Option<usize>> {
    let start = range.start;
    object.mem.with_bytes(|b| {
        b[range]
            .iter()
            .enumerate()
            // CAST: object offsets fit in a `u64`.
            .position(|(i, b)| *b != pattern_byte(seed, (start + i) as u64))
            .map(|i| start + i)
    })
}
