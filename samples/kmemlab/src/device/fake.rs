// SPDX-License-Identifier: GPL-2.0

//! A fake `/dev/kmemlab` for the unit tests: objects live in memory, the
//! size limits and the quota are those of a [`KmemlabLimits`] the test
//! chooses, and the benchmark answers with well-formed made-up figures.
//!
//! Like the module, it refuses (EINVAL) the GFP requests the ABI refuses
//! for every kind (DMA with DMA32, a DMA zone with a HIGHUSER base, NORETRY
//! with RETRY_MAYFAIL, THISNODE without a node, a DMA zone the kernel does
//! not have); of the per-kind table of the header it keeps only the rows
//! of mempool elements (ATOMIC or NOWAIT) and of DMA pool blocks, the rest
//! is the module's alone. Its objects report a zone (Normal for RAM, the
//! zone asked for with DMA or DMA32, DMA32 for the blocks of a pool for
//! edu, whose DMA mask is 28 bits; none for percpu) and what served them,
//! by size as the kernel decides it.
//!
//! Mempools keep their reserve full while the allocator under them
//! succeeds; told that it fails ([`FakeDevice::set_allocator_fails`]), each
//! element comes from the reserve (ENOMEM once it is empty), and each free
//! refills the reserve before anything goes back to the allocator.
//!
//! DMA pools check what the module checks of a new pool (name, device,
//! block size, alignment, boundary). With the edu feature, the fake's edu
//! "engine" copies between edu DMA buffers and blocks of pools for edu.

use std::cell::RefCell;
use std::collections::BTreeMap;

use rustix::io::Errno;

use super::{dma_pool_what, field_name, mempool_what, DeviceOps, OpError};
use crate::names::dma_pool_name_ok;
use crate::uapi::*;

/// One object of the fake.
#[derive(Clone, Debug)]
struct Object {
    info: KmemlabInfo,
    data: Vec<u8>,
}

/// One mempool of the fake.
#[derive(Clone, Copy, Debug)]
struct Pool {
    source: u32,
    /// The cache it takes its elements from (KMEMLAB_MEMPOOL_CACHE), else 0.
    cache: u32,
    size: u32,
    min_nr: u32,
    curr_nr: u32,
}

impl Pool {
    /// Bytes of its reserve, counted against the quota.
    fn charge(&self) -> u64 {
        u64::from(self.size) * u64::from(self.min_nr)
    }
}

/// One DMA pool of the fake: what it was made with.
#[derive(Clone, Copy, Debug)]
struct DmaPool {
    name: [u8; KMEMLAB_CACHE_NAME_MAX],
    device: u32,
    size: u32,
    align: u32,
    boundary: u32,
}

#[derive(Default, Debug)]
struct State {
    next: u32,
    objects: BTreeMap<u32, Object>,
    /// Per cache: its name, object size and KMEMLAB_CACHE_* flags.
    caches: BTreeMap<u32, (String, u32, u32)>,
    pools: BTreeMap<u32, Pool>,
    dma_pools: BTreeMap<u32, DmaPool>,
    /// The allocator under the mempools refuses every element.
    allocator_fails: bool,
    percpu: BTreeMap<u32, Vec<u64>>,
    bytes: u64,
    /// Every ioctl issued, by name.
    calls: Vec<&'static str>,
    /// Every KMEMLAB_IOC_ALLOC request, refused ones included.
    allocs: Vec<KmemlabAlloc>,
}

/// The fake device.
pub struct FakeDevice {
    pub version: KmemlabVersion,
    pub limits: KmemlabLimits,
    /// KMEMLAB_IOC_LIMITS fails (EIO) although the feature is there.
    limits_fail: bool,
    state: RefCell<State>,
}

/// Every feature bit the ABI knows.
pub const ALL_FEATURES: u64 = all_features();

const fn all_features() -> u64 {
    let mut bits = 0;
    let mut i = 0;
    while i < FEATURE_NAMES.len() {
        bits |= FEATURE_NAMES[i].0;
        i += 1;
    }
    bits
}

/// The limits of a module loaded with its defaults, on 4 KiB pages.
pub fn default_limits() -> KmemlabLimits {
    KmemlabLimits {
        max_objects: 4096,
        max_bytes: 256 << 20,
        kmalloc_max: 4 << 20,
        cache_object_max: 2 << 20,
        vmalloc_max: 1 << 30,
        dma_max: 4 << 20,
        edu_dma_max: KMEMLAB_EDU_DMA_MAX,
        ioremap_max: KMEMLAB_IOREMAP_MAX,
        max_order: 10,
        page_size: 4096,
        kvmalloc_max: i32::MAX as u64,
        kvmalloc_kmalloc_max: 4 << 20,
        mempool_reserve_max: u64::from(KMEMLAB_MEMPOOL_RESERVE_MAX),
        dma_pool_block_max: 4 << 20,
    }
}

impl Default for FakeDevice {
    fn default() -> Self {
        Self::new(ALL_FEATURES & !KMEMLAB_FEAT_EDU, default_limits())
    }
}

fn err(what: &'static str, e: Errno) -> OpError {
    OpError::new(what, e)
}

impl FakeDevice {
    pub fn new(features: u64, limits: KmemlabLimits) -> Self {
        Self {
            version: KmemlabVersion {
                abi_version: KMEMLAB_ABI_VERSION,
                nr_cpus: 2,
                features,
                nr_nodes: 1,
                reserved: 0,
            },
            limits,
            limits_fail: false,
            state: RefCell::new(State {
                next: 1,
                ..State::default()
            }),
        }
    }

    /// The same device whose KMEMLAB_IOC_LIMITS fails with EIO.
    pub fn failing_limits(self) -> Self {
        Self {
            limits_fail: true,
            ..self
        }
    }

    /// The ioctls issued so far, by name.
    pub fn calls(&self) -> Vec<&'static str> {
        self.state.borrow().calls.clone()
    }

    /// The KMEMLAB_IOC_ALLOC requests made so far.
    pub fn allocs(&self) -> Vec<KmemlabAlloc> {
        self.state.borrow().allocs.clone()
    }

    /// Objects alive now.
    pub fn live(&self) -> usize {
        self.state.borrow().objects.len()
    }

    /// Caches alive now.
    pub fn caches(&self) -> usize {
        self.state.borrow().caches.len()
    }

    /// Mempools alive now.
    pub fn pools(&self) -> usize {
        self.state.borrow().pools.len()
    }

    /// DMA pools alive now.
    pub fn dma_pools(&self) -> usize {
        self.state.borrow().dma_pools.len()
    }

    /// Makes the allocator under the mempools fail (or succeed again): an
    /// element then comes from its mempool's reserve.
    pub fn set_allocator_fails(&self, fails: bool) {
        self.state.borrow_mut().allocator_fails = fails;
    }

    fn call(&self, what: &'static str) {
        self.state.borrow_mut().calls.push(what);
    }

    fn feature(&self, what: &'static str, bit: u64) -> Result<(), OpError> {
        if self.version.features & bit == 0 {
            return Err(err(what, Errno::NOTTY));
        }
        Ok(())
    }

    /// Bytes of one object `req` asks for, or why the fake refuses it.
    fn object_size(&self, s: &State, req: &KmemlabAlloc) -> Result<u64, Errno> {
        let l = &self.limits;
        let page = u64::from(l.page_size);
        let bytes = match req.kind {
            KMEMLAB_KIND_KMALLOC if req.size == 0 || req.size > l.kmalloc_max => {
                return Err(Errno::INVAL)
            }
            KMEMLAB_KIND_VMALLOC if req.size == 0 || req.size > l.vmalloc_max => {
                return Err(Errno::INVAL)
            }
            KMEMLAB_KIND_DMA_COHERENT if req.size == 0 || req.size > l.dma_max => {
                return Err(Errno::INVAL)
            }
            KMEMLAB_KIND_KVMALLOC if req.size == 0 || req.size > l.kvmalloc_max => {
                return Err(Errno::INVAL)
            }
            KMEMLAB_KIND_KMALLOC
            | KMEMLAB_KIND_VMALLOC
            | KMEMLAB_KIND_DMA_COHERENT
            | KMEMLAB_KIND_KVMALLOC => req.size,
            KMEMLAB_KIND_FREE_PAGES | KMEMLAB_KIND_PAGES_NODE if req.order > l.max_order => {
                return Err(Errno::INVAL)
            }
            KMEMLAB_KIND_FREE_PAGES | KMEMLAB_KIND_PAGES_NODE => page << req.order,
            KMEMLAB_KIND_KMEM_CACHE => match s.caches.get(&req.cache) {
                Some((_, size, _)) => u64::from(*size),
                None => return Err(Errno::NOENT),
            },
            KMEMLAB_KIND_PERCPU => 8,
            KMEMLAB_KIND_MEMPOOL | KMEMLAB_KIND_DMA_POOL
                if req.size != 0 || req.order != 0 || req.node != KMEMLAB_NODE_ANY =>
            {
                return Err(Errno::INVAL)
            }
            KMEMLAB_KIND_MEMPOOL => match s.pools.get(&req.cache) {
                Some(p) => u64::from(p.size),
                None => return Err(Errno::NOENT),
            },
            KMEMLAB_KIND_DMA_POOL => match s.dma_pools.get(&req.cache) {
                Some(p) => u64::from(p.size),
                None => return Err(Errno::NOENT),
            },
            _ => return Err(Errno::INVAL),
        };
        Ok(bytes)
    }

    /// Objects of `kind` alive now from the mempool or DMA pool `handle`.
    fn pool_live(s: &State, kind: u32, handle: u32) -> u32 {
        let live = s
            .objects
            .values()
            .filter(|o| o.info.kind == kind && o.info.cache == handle)
            .count();
        // CAST: the fake holds far fewer than 2^32 objects.
        live as u32
    }

    /// Objects, caches, mempools and DMA pools the file holds: what
    /// max_objects limits.
    fn held(s: &State) -> u64 {
        (s.objects.len() + s.caches.len() + s.pools.len() + s.dma_pools.len()) as u64
    }

    /// Whether the module takes a new DMA pool as `req` asks for it: a
    /// name, a device, a block size within the limit, an alignment of 0 or
    /// a power of two up to a page, and a boundary of 0 or a power of two
    /// no smaller than the block (at least 16 bytes, the pool's free list
    /// needs them, rounded up to the alignment).
    fn dma_pool_ok(&self, req: &KmemlabDmaPool) -> bool {
        let pow2_or_0 = |n: u32| n == 0 || n.is_power_of_two();
        let block = u64::from(req.size.max(16)).next_multiple_of(u64::from(req.align.max(1)));
        req.name.contains(&0)
            && dma_pool_name_ok(field_name(&req.name))
            && matches!(req.device, KMEMLAB_DEV_FAUX | KMEMLAB_DEV_EDU)
            && req.size != 0
            && u64::from(req.size) <= self.limits.dma_pool_block_max
            && pow2_or_0(req.align)
            && req.align <= self.limits.page_size
            && pow2_or_0(req.boundary)
            && (req.boundary == 0 || u64::from(req.boundary) >= block)
    }

    /// Whether the module would refuse `req`'s GFP bits whatever its kind.
    fn gfp_refused(&self, req: &KmemlabAlloc) -> bool {
        let g = req.gfp;
        let known = GFP_MODIFIER_NAMES
            .iter()
            .fold(KMEMLAB_GFP_BASE_MASK, |acc, (bit, _)| acc | bit);
        let base = g & KMEMLAB_GFP_BASE_MASK;
        let zone = g & (KMEMLAB_GFP_DMA | KMEMLAB_GFP_DMA32);
        let highuser = matches!(base, KMEMLAB_GFP_HIGHUSER | KMEMLAB_GFP_HIGHUSER_MOVABLE);
        let has = |bit| g & bit != 0;
        let features = self.version.features;
        g & !known != 0
            || !GFP_BASE_NAMES.iter().any(|(b, _)| *b == base)
            || zone == KMEMLAB_GFP_DMA | KMEMLAB_GFP_DMA32
            || (zone != 0 && highuser)
            || (has(KMEMLAB_GFP_NORETRY) && has(KMEMLAB_GFP_RETRY_MAYFAIL))
            || (has(KMEMLAB_GFP_THISNODE) && req.node == KMEMLAB_NODE_ANY)
            || (has(KMEMLAB_GFP_DMA) && features & KMEMLAB_FEAT_ZONE_DMA == 0)
            || (has(KMEMLAB_GFP_DMA32) && features & KMEMLAB_FEAT_ZONE_DMA32 == 0)
    }

    /// The zone and the backing of a new object of `size` bytes `req` asks for.
    fn placement(&self, s: &State, req: &KmemlabAlloc, size: u64) -> (u32, u32) {
        let page = u64::from(self.limits.page_size);
        let zone = if req.gfp & KMEMLAB_GFP_DMA != 0 {
            KMEMLAB_ZONE_DMA
        } else if req.gfp & KMEMLAB_GFP_DMA32 != 0 {
            KMEMLAB_ZONE_DMA32
        } else {
            KMEMLAB_ZONE_NORMAL
        };
        match req.kind {
            // KMALLOC_MAX_CACHE_SIZE is two pages: larger ones are pages.
            KMEMLAB_KIND_KMALLOC if size <= 2 * page => (zone, KMEMLAB_BACKING_SLAB),
            KMEMLAB_KIND_KMALLOC => (zone, KMEMLAB_BACKING_PAGES),
            KMEMLAB_KIND_KMEM_CACHE => {
                let flags = s.caches.get(&req.cache).map_or(0, |c| c.2);
                let zone = if flags & KMEMLAB_CACHE_DMA != 0 {
                    KMEMLAB_ZONE_DMA
                } else if flags & KMEMLAB_CACHE_DMA32 != 0 {
                    KMEMLAB_ZONE_DMA32
                } else {
                    KMEMLAB_ZONE_NORMAL
                };
                (zone, KMEMLAB_BACKING_SLAB)
            }
            KMEMLAB_KIND_FREE_PAGES | KMEMLAB_KIND_PAGES_NODE | KMEMLAB_KIND_DMA_COHERENT => {
                (zone, KMEMLAB_BACKING_PAGES)
            }
            KMEMLAB_KIND_VMALLOC => (zone, KMEMLAB_BACKING_VMALLOC),
            // The device's DMA mask chooses the zone: edu's 28 bits, DMA32.
            KMEMLAB_KIND_DMA_POOL => match s.dma_pools.get(&req.cache) {
                Some(p) if p.device == KMEMLAB_DEV_EDU => {
                    (KMEMLAB_ZONE_DMA32, KMEMLAB_BACKING_PAGES)
                }
                _ => (zone, KMEMLAB_BACKING_PAGES),
            },
            KMEMLAB_KIND_KVMALLOC if size <= 2 * page => (zone, KMEMLAB_BACKING_SLAB),
            KMEMLAB_KIND_KVMALLOC if size <= self.limits.kvmalloc_kmalloc_max => {
                (zone, KMEMLAB_BACKING_PAGES)
            }
            KMEMLAB_KIND_KVMALLOC => (zone, KMEMLAB_BACKING_VMALLOC),
            KMEMLAB_KIND_MEMPOOL => match s.pools.get(&req.cache) {
                Some(p) if p.source == KMEMLAB_MEMPOOL_CACHE => {
                    let cache = KmemlabAlloc {
                        kind: KMEMLAB_KIND_KMEM_CACHE,
                        cache: p.cache,
                        ..*req
                    };
                    self.placement(s, &cache, size)
                }
                _ => {
                    let kmalloc = KmemlabAlloc {
                        kind: KMEMLAB_KIND_KMALLOC,
                        ..*req
                    };
                    self.placement(s, &kmalloc, size)
                }
            },
            _ => (KMEMLAB_ZONE_NONE, KMEMLAB_BACKING_NONE),
        }
    }
}

impl DeviceOps for FakeDevice {
    fn version(&self) -> Result<KmemlabVersion, OpError> {
        self.call("version");
        Ok(self.version)
    }

    fn limits(&self) -> Result<KmemlabLimits, OpError> {
        self.call("limits");
        self.feature("limits", KMEMLAB_FEAT_LIMITS)?;
        if self.limits_fail {
            return Err(err("limits", Errno::IO));
        }
        Ok(self.limits)
    }

    fn alloc(&self, req: &KmemlabAlloc) -> Result<Vec<u32>, OpError> {
        self.call("alloc");
        self.state.borrow_mut().allocs.push(*req);
        if req.count == 0 || req.count > KMEMLAB_BATCH_MAX {
            return Err(err("alloc", Errno::INVAL));
        }
        if self.gfp_refused(req) || kind_gfp_refused(req.kind, req.gfp) {
            return Err(err("alloc", Errno::INVAL));
        }
        let mut s = self.state.borrow_mut();
        let size = self.object_size(&s, req).map_err(|e| err("alloc", e))?;
        let (zone, backing) = self.placement(&s, req, size);
        let count = u64::from(req.count);
        if Self::held(&s) + count > self.limits.max_objects
            || s.bytes + size * count > self.limits.max_bytes
        {
            return Err(err("alloc", Errno::NOMEM));
        }
        if req.kind == KMEMLAB_KIND_MEMPOOL && s.allocator_fails {
            // Every element from the reserve, or none.
            let pool = s
                .pools
                .get_mut(&req.cache)
                .ok_or(err("alloc", Errno::NOENT))?;
            pool.curr_nr = pool
                .curr_nr
                .checked_sub(req.count)
                .ok_or(err("alloc", Errno::NOMEM))?;
        }
        let mut handles = Vec::new();
        for _ in 0..req.count {
            let handle = s.next;
            s.next += 1;
            let info = KmemlabInfo {
                handle,
                kind: req.kind,
                size,
                order: req.order,
                node: req.node,
                nid: 0,
                cpu: 0,
                cache: req.cache,
                gfp: req.gfp,
                zone,
                backing,
            };
            // CAST: the fake's objects are small.
            let data = vec![0; size.min(1 << 20) as usize];
            s.objects.insert(handle, Object { info, data });
            if req.kind == KMEMLAB_KIND_PERCPU {
                s.percpu.insert(handle, vec![0; 2]);
            }
            s.bytes += size;
            handles.push(handle);
        }
        Ok(handles)
    }

    fn free(&self, handles: &[u32]) -> Result<(), OpError> {
        self.call("free");
        let mut s = self.state.borrow_mut();
        let all: Vec<u32> = if handles.is_empty() {
            s.objects.keys().copied().collect()
        } else {
            handles.to_vec()
        };
        if all.iter().any(|h| !s.objects.contains_key(h)) {
            return Err(err("free", Errno::NOENT));
        }
        for h in all {
            if let Some(o) = s.objects.remove(&h) {
                s.bytes -= o.info.size;
                // A mempool refills its reserve first.
                if o.info.kind == KMEMLAB_KIND_MEMPOOL {
                    if let Some(p) = s.pools.get_mut(&o.info.cache) {
                        p.curr_nr = (p.curr_nr + 1).min(p.min_nr);
                    }
                }
            }
        }
        Ok(())
    }

    fn write(&self, handle: u32, offset: u64, data: &[u8]) -> Result<(), OpError> {
        self.call("write");
        let mut s = self.state.borrow_mut();
        let o = s
            .objects
            .get_mut(&handle)
            .ok_or(err("write", Errno::NOENT))?;
        let at = usize::try_from(offset).map_err(|_| err("write", Errno::INVAL))?;
        let end = at + data.len();
        if end > o.data.len() {
            return Err(err("write", Errno::INVAL));
        }
        o.data[at..end].copy_from_slice(data);
        Ok(())
    }

    fn read(&self, handle: u32, offset: u64, len: usize) -> Result<Vec<u8>, OpError> {
        self.call("read");
        let s = self.state.borrow();
        let o = s.objects.get(&handle).ok_or(err("read", Errno::NOENT))?;
        let at = usize::try_from(offset).map_err(|_| err("read", Errno::INVAL))?;
        // As the module: a range past the object's end is EINVAL.
        let end = at.checked_add(len).ok_or(err("read", Errno::INVAL))?;
        o.data
            .get(at..end)
            .map(<[u8]>::to_vec)
            .ok_or(err("read", Errno::INVAL))
    }

    fn fill(&self, handle: u32, seed: u64, offset: u64, len: u64) -> Result<(), OpError> {
        self.call("fill");
        let mut s = self.state.borrow_mut();
        let o = s
            .objects
            .get_mut(&handle)
            .ok_or(err("fill", Errno::NOENT))?;
        for i in offset..offset + len {
            let b = o
                .data
                .get_mut(i as usize)
                .ok_or(err("fill", Errno::INVAL))?;
            *b = pattern_byte(seed, i);
        }
        Ok(())
    }

    fn verify(
        &self,
        handle: u32,
        seed: u64,
        offset: u64,
        len: u64,
    ) -> Result<Option<u64>, OpError> {
        self.call("verify");
        let s = self.state.borrow();
        let o = s.objects.get(&handle).ok_or(err("verify", Errno::NOENT))?;
        for i in offset..offset + len {
            let b = o.data.get(i as usize).ok_or(err("verify", Errno::INVAL))?;
            if *b != pattern_byte(seed, i) {
                return Ok(Some(i));
            }
        }
        Ok(None)
    }

    fn info(&self, handle: u32) -> Result<KmemlabInfo, OpError> {
        self.call("info");
        let s = self.state.borrow();
        s.objects
            .get(&handle)
            .map(|o| o.info)
            .ok_or(err("info", Errno::NOENT))
    }

    fn list(&self) -> Result<Vec<KmemlabInfo>, OpError> {
        self.call("list");
        Ok(self
            .state
            .borrow()
            .objects
            .values()
            .map(|o| o.info)
            .collect())
    }

    fn cache_create(
        &self,
        name: &str,
        object_size: u32,
        _align: u32,
        flags: u32,
    ) -> Result<u32, OpError> {
        self.call("cache create");
        let zones = KMEMLAB_CACHE_DMA | KMEMLAB_CACHE_DMA32;
        let features = self.version.features;
        if object_size == 0
            || u64::from(object_size) > self.limits.cache_object_max
            || flags & zones == zones
            || (flags & KMEMLAB_CACHE_DMA != 0 && features & KMEMLAB_FEAT_ZONE_DMA == 0)
            || (flags & KMEMLAB_CACHE_DMA32 != 0 && features & KMEMLAB_FEAT_ZONE_DMA32 == 0)
        {
            return Err(err("cache create", Errno::INVAL));
        }
        let mut s = self.state.borrow_mut();
        let handle = s.next;
        s.next += 1;
        s.caches
            .insert(handle, (name.to_string(), object_size, flags));
        Ok(handle)
    }

    fn cache_destroy(&self, handle: u32) -> Result<(), OpError> {
        self.call("cache destroy");
        let mut s = self.state.borrow_mut();
        if !s.caches.contains_key(&handle) {
            return Err(err("cache destroy", Errno::NOENT));
        }
        // A mempool over the cache keeps it.
        if s.pools.values().any(|p| p.cache == handle) {
            return Err(err("cache destroy", Errno::BUSY));
        }
        s.caches.remove(&handle);
        Ok(())
    }

    fn ioremap(&self, _req: &KmemlabIoremap) -> Result<u32, OpError> {
        self.call("ioremap");
        Err(err("ioremap", Errno::NODEV))
    }

    fn mmio(&self, _req: &KmemlabMmio) -> Result<u64, OpError> {
        self.call("mmio");
        Err(err("mmio", Errno::NOENT))
    }

    fn dma_copy(&self, req: &KmemlabDmaCopy) -> Result<(), OpError> {
        self.call("dma copy");
        let fail = |e| Err(err("dma copy", e));
        if self.version.features & KMEMLAB_FEAT_EDU == 0 {
            return fail(Errno::NODEV);
        }
        let mut s = self.state.borrow_mut();
        let (Some(src), Some(dst)) = (s.objects.get(&req.src), s.objects.get(&req.dst)) else {
            return fail(Errno::NOENT);
        };
        // An edu DMA buffer, or a block of a pool for edu.
        let edu = |o: &Object| match o.info.kind {
            KMEMLAB_KIND_DMA_COHERENT => o.info.cache == KMEMLAB_DEV_EDU,
            KMEMLAB_KIND_DMA_POOL => s
                .dma_pools
                .get(&o.info.cache)
                .is_some_and(|p| p.device == KMEMLAB_DEV_EDU),
            _ => false,
        };
        let range = |o: &Object, at: u64| {
            let end = at.checked_add(req.len)?;
            let r = usize::try_from(at).ok()?..usize::try_from(end).ok()?;
            o.data.get(r.clone()).map(|_| r)
        };
        let (Some(from), Some(to)) = (range(src, req.src_offset), range(dst, req.dst_offset))
        else {
            return fail(Errno::INVAL);
        };
        if !(edu(src) && edu(dst))
            || req.src == req.dst
            || !(1..=KMEMLAB_EDU_DMA_MAX).contains(&req.len)
        {
            return fail(Errno::INVAL);
        }
        let bytes = src.data[from].to_vec();
        if let Some(o) = s.objects.get_mut(&req.dst) {
            o.data[to].copy_from_slice(&bytes);
        }
        Ok(())
    }

    fn percpu(&self, req: &KmemlabPercpu) -> Result<KmemlabPercpu, OpError> {
        self.call("percpu");
        let mut s = self.state.borrow_mut();
        let values = s
            .percpu
            .get_mut(&req.handle)
            .ok_or(err("percpu", Errno::NOENT))?;
        let cpu = if req.op == KMEMLAB_PERCPU_ADD_ON {
            req.cpu
        } else {
            1
        };
        let v = values
            .get_mut(cpu as usize)
            .ok_or(err("percpu", Errno::INVAL))?;
        *v += req.value;
        Ok(KmemlabPercpu { cpu, ..*req })
    }

    fn percpu_read(&self, handle: u32) -> Result<(Vec<u64>, u64), OpError> {
        self.call("percpu");
        let s = self.state.borrow();
        let values = s.percpu.get(&handle).ok_or(err("percpu", Errno::NOENT))?;
        Ok((values.clone(), values.iter().sum()))
    }

    fn bench(&self, req: &KmemlabBench) -> Result<KmemlabBench, OpError> {
        self.call("bench");
        self.feature("bench", KMEMLAB_FEAT_BENCH)?;
        if req.iterations == 0 || req.batch == 0 {
            return Err(err("bench", Errno::INVAL));
        }
        if req.op == KMEMLAB_BENCH_ALLOC_FREE {
            let s = self.state.borrow();
            match req.kind {
                KMEMLAB_KIND_KMEM_CACHE if !s.caches.contains_key(&req.cache) => {
                    return Err(err("bench", Errno::NOENT))
                }
                KMEMLAB_KIND_MEMPOOL | KMEMLAB_KIND_DMA_POOL
                    if req.size != 0 || kind_gfp_refused(req.kind, req.gfp) =>
                {
                    return Err(err("bench", Errno::INVAL))
                }
                KMEMLAB_KIND_MEMPOOL if !s.pools.contains_key(&req.cache) => {
                    return Err(err("bench", Errno::NOENT))
                }
                KMEMLAB_KIND_DMA_POOL if !s.dma_pools.contains_key(&req.cache) => {
                    return Err(err("bench", Errno::NOENT))
                }
                _ => {}
            }
        }
        let ops = u64::from(req.iterations) * u64::from(req.batch) * u64::from(req.threads.max(1));
        // Raw C a little faster than Rust, statistics a little slower.
        let per_op = 100
            + u64::from(req.flags & KMEMLAB_BENCH_RAW_C == 0)
            + 4 * u64::from(req.flags & KMEMLAB_BENCH_NO_STATS == 0);
        Ok(KmemlabBench {
            ops,
            ns_wall: ops * per_op / u64::from(req.threads.max(1)),
            ns_total: ops * per_op,
            ns_min: 64,
            ns_median: 128,
            ns_p99: 256,
            cycles_total: ops * per_op * 3,
            cycles_min: 192,
            cycles_median: 384,
            cycles_p99: 768,
            cpu: 0,
            ..*req
        })
    }

    fn mempool(&self, req: &KmemlabMempool) -> Result<KmemlabMempool, OpError> {
        let what = mempool_what(req.op);
        self.call(what);
        self.feature(what, KMEMLAB_FEAT_MEMPOOL)?;
        let fail = |e| Err(err(what, e));
        // The fields only STATUS fills must be 0 on input.
        if req.curr_nr != 0 || req.live != 0 {
            return fail(Errno::INVAL);
        }
        let mut s = self.state.borrow_mut();
        if req.op == KMEMLAB_MEMPOOL_CREATE {
            if req.handle != 0 || !(1..=KMEMLAB_MEMPOOL_RESERVE_MAX).contains(&req.min_nr) {
                return fail(Errno::INVAL);
            }
            let size = match req.source {
                KMEMLAB_MEMPOOL_KMALLOC
                    if req.cache == 0
                        && req.size != 0
                        && u64::from(req.size) <= self.limits.kmalloc_max =>
                {
                    req.size
                }
                KMEMLAB_MEMPOOL_CACHE if req.size == 0 => match s.caches.get(&req.cache) {
                    Some((_, size, _)) => *size,
                    None => return fail(Errno::NOENT),
                },
                _ => return fail(Errno::INVAL),
            };
            let pool = Pool {
                source: req.source,
                cache: req.cache,
                size,
                min_nr: req.min_nr,
                curr_nr: req.min_nr,
            };
            if Self::held(&s) >= self.limits.max_objects
                || s.bytes + pool.charge() > self.limits.max_bytes
            {
                return fail(Errno::NOMEM);
            }
            let handle = s.next;
            s.next += 1;
            s.bytes += pool.charge();
            s.pools.insert(handle, pool);
            return Ok(KmemlabMempool { handle, ..*req });
        }
        if req.source != 0 || req.cache != 0 || req.size != 0 || req.min_nr != 0 {
            return fail(Errno::INVAL);
        }
        let Some(pool) = s.pools.get(&req.handle).copied() else {
            return match req.op {
                KMEMLAB_MEMPOOL_DESTROY | KMEMLAB_MEMPOOL_STATUS => fail(Errno::NOENT),
                _ => fail(Errno::INVAL),
            };
        };
        let live = Self::pool_live(&s, KMEMLAB_KIND_MEMPOOL, req.handle);
        match req.op {
            KMEMLAB_MEMPOOL_DESTROY if live != 0 => fail(Errno::BUSY),
            KMEMLAB_MEMPOOL_DESTROY => {
                s.pools.remove(&req.handle);
                s.bytes -= pool.charge();
                Ok(*req)
            }
            KMEMLAB_MEMPOOL_STATUS => Ok(KmemlabMempool {
                source: pool.source,
                cache: pool.cache,
                size: pool.size,
                min_nr: pool.min_nr,
                curr_nr: pool.curr_nr,
                live,
                ..*req
            }),
            _ => fail(Errno::INVAL),
        }
    }

    fn dma_pool(&self, req: &KmemlabDmaPool) -> Result<KmemlabDmaPool, OpError> {
        let what = dma_pool_what(req.op);
        self.call(what);
        self.feature(what, KMEMLAB_FEAT_DMA_POOL)?;
        let fail = |e| Err(err(what, e));
        // The fields only STATUS fills must be 0 on input.
        if req.live != 0 || req.reserved != 0 {
            return fail(Errno::INVAL);
        }
        let mut s = self.state.borrow_mut();
        if req.op == KMEMLAB_DMA_POOL_CREATE {
            if req.handle != 0 || !self.dma_pool_ok(req) {
                return fail(Errno::INVAL);
            }
            if req.device == KMEMLAB_DEV_EDU && self.version.features & KMEMLAB_FEAT_EDU == 0 {
                return fail(Errno::NODEV);
            }
            if Self::held(&s) >= self.limits.max_objects {
                return fail(Errno::NOMEM);
            }
            let handle = s.next;
            s.next += 1;
            let pool = DmaPool {
                name: req.name,
                device: req.device,
                size: req.size,
                align: req.align,
                boundary: req.boundary,
            };
            s.dma_pools.insert(handle, pool);
            return Ok(KmemlabDmaPool { handle, ..*req });
        }
        if req.name != [0; KMEMLAB_CACHE_NAME_MAX]
            || req.device != 0
            || req.size != 0
            || req.align != 0
            || req.boundary != 0
        {
            return fail(Errno::INVAL);
        }
        let Some(pool) = s.dma_pools.get(&req.handle).copied() else {
            return match req.op {
                KMEMLAB_DMA_POOL_DESTROY | KMEMLAB_DMA_POOL_STATUS => fail(Errno::NOENT),
                _ => fail(Errno::INVAL),
            };
        };
        let live = Self::pool_live(&s, KMEMLAB_KIND_DMA_POOL, req.handle);
        match req.op {
            KMEMLAB_DMA_POOL_DESTROY if live != 0 => fail(Errno::BUSY),
            KMEMLAB_DMA_POOL_DESTROY => {
                s.dma_pools.remove(&req.handle);
                Ok(*req)
            }
            KMEMLAB_DMA_POOL_STATUS => Ok(KmemlabDmaPool {
                name: pool.name,
                device: pool.device,
                size: pool.size,
                align: pool.align,
                boundary: pool.boundary,
                live,
                ..*req
            }),
            _ => fail(Errno::INVAL),
        }
    }
}

/// Whether the module refuses `gfp` for an object of `kind`, by the rows
/// of the header's table the fake keeps: a mempool element takes ATOMIC or
/// NOWAIT only (not a base that may sleep); a DMA pool block no HIGHUSER
/// base and, of the modifiers, ZERO, NOWARN, NORETRY and RETRY_MAYFAIL
/// only.
fn kind_gfp_refused(kind: u32, gfp: u32) -> bool {
    let base = gfp & KMEMLAB_GFP_BASE_MASK;
    let block_modifiers =
        KMEMLAB_GFP_ZERO | KMEMLAB_GFP_NOWARN | KMEMLAB_GFP_NORETRY | KMEMLAB_GFP_RETRY_MAYFAIL;
    match kind {
        KMEMLAB_KIND_MEMPOOL => !matches!(base, KMEMLAB_GFP_ATOMIC | KMEMLAB_GFP_NOWAIT),
        KMEMLAB_KIND_DMA_POOL => {
            matches!(base, KMEMLAB_GFP_HIGHUSER | KMEMLAB_GFP_HIGHUSER_MOVABLE)
                || gfp & !(KMEMLAB_GFP_BASE_MASK | block_modifiers) != 0
        }
        _ => false,
    }
}
