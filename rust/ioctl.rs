// SPDX-License-Identifier: GPL-2.0

//! Decoding of `/dev/kmemlab` ioctls: one table maps each command number to its handler.
//!
//! A command number encodes its argument's size and direction, so matching the
//! whole number also validates the size userspace compiled against. Anything
//! not in the table is `ENOTTY`. Handlers validate every field before touching
//! the file's [`Table`], and undo their work when the final copy to userspace
//! fails, so a failed call leaves no object behind (a failed ALLOC's handles
//! stay used, and part of its array may have been written).

use core::ops::RangeInclusive;

use kernel::{
    prelude::*,
    uaccess::{
        UserPtr,
        UserSlice, //
    }, //
};

use crate::{
    alloc::{
        cpu,
        dma,
        dmapool::{
            self,
            PoolShape, //
        },
        edu,
        gfp::{
            Gfp,
            GfpBase,
            Mods, //
        },
        iomem::Width,
        kmalloc,
        kvmalloc,
        mempool,
        pages,
        percpu,
        slab::{
            self,
            CacheConfig,
            CacheZone,
            KmemCache, //
        },
        topology::{
            self,
            Node, //
        },
        vmalloc, //
    },
    bench::Op,
    file::FileState,
    kinds::{
        self,
        Ask,
        Memory,
        Purpose,
        Request, //
    },
    object::{
        self,
        Quota,
        Table, //
    },
    stats,
    uapi::*,
};

// The ABI's edu figures are the driver's.
// CAST: small constants.
const _: () = assert!(edu::REGS_SIZE as u64 == KMEMLAB_EDU_REGS_SIZE);
const _: () = assert!(edu::DMA_MAX as u64 == KMEMLAB_EDU_DMA_MAX);

// The ABI's command numbers (shared with the tool, which has no kernel
// crate) are the kernel's `_IOR`/`_IOW`/`_IOWR` of their structures.
const _: () = {
    use kernel::ioctl::{
        _IOR,
        _IOW,
        _IOWR, //
    };
    const M: u32 = KMEMLAB_IOC_MAGIC;
    assert!(KMEMLAB_IOC_VERSION == _IOR::<KmemlabVersion>(M, 0x00));
    assert!(KMEMLAB_IOC_LIMITS == _IOR::<KmemlabLimits>(M, 0x01));
    assert!(KMEMLAB_IOC_ALLOC == _IOW::<KmemlabAlloc>(M, 0x10));
    assert!(KMEMLAB_IOC_FREE == _IOW::<KmemlabFree>(M, 0x11));
    assert!(KMEMLAB_IOC_WRITE == _IOW::<KmemlabIo>(M, 0x12));
    assert!(KMEMLAB_IOC_READ == _IOW::<KmemlabIo>(M, 0x13));
    assert!(KMEMLAB_IOC_FILL == _IOW::<KmemlabIo>(M, 0x14));
    assert!(KMEMLAB_IOC_VERIFY == _IOWR::<KmemlabIo>(M, 0x15));
    assert!(KMEMLAB_IOC_INFO == _IOWR::<KmemlabInfo>(M, 0x16));
    assert!(KMEMLAB_IOC_LIST == _IOWR::<KmemlabList>(M, 0x17));
    assert!(KMEMLAB_IOC_CACHE_CREATE == _IOWR::<KmemlabCacheCreate>(M, 0x18));
    assert!(KMEMLAB_IOC_CACHE_DESTROY == _IOW::<KmemlabCacheDestroy>(M, 0x19));
    assert!(KMEMLAB_IOC_IOREMAP == _IOWR::<KmemlabIoremap>(M, 0x1a));
    assert!(KMEMLAB_IOC_MMIO == _IOWR::<KmemlabMmio>(M, 0x1b));
    assert!(KMEMLAB_IOC_DMA_COPY == _IOW::<KmemlabDmaCopy>(M, 0x1c));
    assert!(KMEMLAB_IOC_PERCPU == _IOWR::<KmemlabPercpu>(M, 0x1d));
    assert!(KMEMLAB_IOC_BENCH == _IOWR::<KmemlabBench>(M, 0x1e));
    assert!(KMEMLAB_IOC_MEMPOOL == _IOWR::<KmemlabMempool>(M, 0x1f));
    assert!(KMEMLAB_IOC_DMA_POOL == _IOWR::<KmemlabDmaPool>(M, 0x20));
};

/// An ioctl handler: the calling file's state and the raw user argument.
type Handler = fn(&FileState, usize) -> Result<isize>;

/// One supported command.
struct Command {
    cmd: u32,
    run: Handler,
}

/// Every command the module answers.
const COMMANDS: &[Command] = &[
    Command {
        cmd: KMEMLAB_IOC_VERSION,
        run: version,
    },
    Command {
        cmd: KMEMLAB_IOC_LIMITS,
        run: limits,
    },
    Command {
        cmd: KMEMLAB_IOC_ALLOC,
        run: alloc,
    },
    Command {
        cmd: KMEMLAB_IOC_FREE,
        run: free,
    },
    Command {
        cmd: KMEMLAB_IOC_WRITE,
        run: |f, a| io(f, a, IoOp::Write),
    },
    Command {
        cmd: KMEMLAB_IOC_READ,
        run: |f, a| io(f, a, IoOp::Read),
    },
    Command {
        cmd: KMEMLAB_IOC_FILL,
        run: |f, a| io(f, a, IoOp::Fill),
    },
    Command {
        cmd: KMEMLAB_IOC_VERIFY,
        run: |f, a| io(f, a, IoOp::Verify),
    },
    Command {
        cmd: KMEMLAB_IOC_INFO,
        run: info,
    },
    Command {
        cmd: KMEMLAB_IOC_LIST,
        run: list,
    },
    Command {
        cmd: KMEMLAB_IOC_CACHE_CREATE,
        run: cache_create,
    },
    Command {
        cmd: KMEMLAB_IOC_CACHE_DESTROY,
        run: cache_destroy,
    },
    Command {
        cmd: KMEMLAB_IOC_IOREMAP,
        run: ioremap,
    },
    Command {
        cmd: KMEMLAB_IOC_MMIO,
        run: mmio,
    },
    Command {
        cmd: KMEMLAB_IOC_DMA_COPY,
        run: dma_copy,
    },
    Command {
        cmd: KMEMLAB_IOC_PERCPU,
        run: percpu_op,
    },
    Command {
        cmd: KMEMLAB_IOC_BENCH,
        run: bench,
    },
    Command {
        cmd: KMEMLAB_IOC_MEMPOOL,
        run: mempool,
    },
    Command {
        cmd: KMEMLAB_IOC_DMA_POOL,
        run: dma_pool,
    },
];

/// Runs the handler for `cmd`, or fails with `ENOTTY` when there is none.
/// Every command run is counted on the CPU that dispatched it.
pub(crate) fn dispatch(file: &FileState, cmd: u32, arg: usize) -> Result<isize> {
    let command = COMMANDS.iter().find(|c| c.cmd == cmd).ok_or(ENOTTY)?;
    percpu::static_counter().add_this_cpu(1);
    (command.run)(file, arg)
}

/// A user address from an ABI field.
fn user_ptr(addr: u64) -> Result<UserPtr> {
    Ok(UserPtr::from_addr(
        usize::try_from(addr).map_err(|_| EFAULT)?,
    ))
}

/// Copies an encoded ABI structure in from the user pointer `arg`.
fn copy_in<const N: usize>(arg: usize) -> Result<[u8; N]> {
    let mut raw = [0u8; N];
    UserSlice::new(UserPtr::from_addr(arg), N)
        .reader()
        .read_slice(&mut raw)?;
    Ok(raw)
}

/// Copies an encoded ABI structure out to the user pointer `arg`.
fn copy_out<const N: usize>(arg: usize, bytes: &[u8; N]) -> Result<isize> {
    UserSlice::new(UserPtr::from_addr(arg), N)
        .writer()
        .write_slice(bytes)?;
    Ok(0)
}

/// Reads an array of `count` handles from `addr`.
fn copy_handles_in(addr: u64, count: usize) -> Result<KVec<u32>> {
    let len = count.checked_mul(4).ok_or(EINVAL)?;
    let mut handles = KVec::from_elem(0u32, count, GFP_KERNEL)?;
    UserSlice::new(user_ptr(addr)?, len)
        .reader()
        .read_slice(handles.as_mut_slice().as_mut_bytes())?;
    Ok(handles)
}

/// Writes the handles `made` to the array at `addr`, in order, a chunk at
/// a time from the stack. (Counted in `u64`: a `RangeInclusive` iterator
/// costs several instructions more per handle.)
fn copy_handles_out(addr: u64, made: RangeInclusive<u32>) -> Result {
    let (first, last) = (u64::from(*made.start()), u64::from(*made.end()));
    let count = last.checked_sub(first).ok_or(EINVAL)? + 1;
    let len = usize::try_from(count * 4).map_err(|_| EINVAL)?;
    let mut writer = UserSlice::new(user_ptr(addr)?, len).writer();
    let mut chunk = [0u32; 64];
    let mut next = first;
    while next <= last {
        // CAST: at most the chunk's length.
        let n = (last - next + 1).min(chunk.len() as u64) as usize;
        for (slot, handle) in chunk[..n].iter_mut().zip(next..) {
            // CAST: `handle` is at most `last`, a `u32`.
            *slot = handle as u32;
        }
        writer.write_slice(chunk[..n].as_bytes())?;
        next += n as u64;
    }
    Ok(())
}

/// The per-file limits, from the module parameters.
fn quota() -> Quota {
    let max_objects = crate::module_parameters::max_objects.value();
    let max_bytes = crate::module_parameters::max_bytes.value();
    Quota {
        objects: usize::try_from(max_objects).unwrap_or(usize::MAX),
        bytes: usize::try_from(max_bytes).unwrap_or(usize::MAX),
    }
}

/// Decodes the ABI's `KMEMLAB_GFP_*` bits (`EINVAL` for an unknown bit or
/// base, or a combination no allocator takes: [`Gfp::new`]).
pub(crate) fn gfp_from_abi(bits: u32) -> Result<Gfp> {
    let modifiers = [
        (KMEMLAB_GFP_ZERO, Mods::ZERO),
        (KMEMLAB_GFP_NOWARN, Mods::NOWARN),
        (KMEMLAB_GFP_ACCOUNT, Mods::ACCOUNT),
        (KMEMLAB_GFP_NORETRY, Mods::NORETRY),
        (KMEMLAB_GFP_DMA, Mods::DMA),
        (KMEMLAB_GFP_DMA32, Mods::DMA32),
        (KMEMLAB_GFP_THISNODE, Mods::THISNODE),
        (KMEMLAB_GFP_RETRY_MAYFAIL, Mods::RETRY_MAYFAIL),
    ];
    let known = modifiers
        .iter()
        .fold(KMEMLAB_GFP_BASE_MASK, |k, (bit, _)| k | bit);
    if bits & !known != 0 {
        return Err(EINVAL);
    }
    let base = match bits & KMEMLAB_GFP_BASE_MASK {
        KMEMLAB_GFP_KERNEL => GfpBase::Kernel,
        KMEMLAB_GFP_ATOMIC => GfpBase::Atomic,
        KMEMLAB_GFP_NOWAIT => GfpBase::Nowait,
        KMEMLAB_GFP_NOIO => GfpBase::Noio,
        KMEMLAB_GFP_NOFS => GfpBase::Nofs,
        KMEMLAB_GFP_USER => GfpBase::User,
        KMEMLAB_GFP_HIGHUSER => GfpBase::HighUser,
        KMEMLAB_GFP_HIGHUSER_MOVABLE => GfpBase::HighUserMovable,
        _ => return Err(EINVAL),
    };
    let mods = modifiers
        .iter()
        .filter(|(bit, _)| bits & bit != 0)
        .fold(Mods::NONE, |m, (_, md)| m.with(*md));
    Gfp::new(base, mods)
}

/// `KMEMLAB_IOC_VERSION`: ABI version, supported features and the topology seen.
fn version(_file: &FileState, arg: usize) -> Result<isize> {
    let reply = KmemlabVersion {
        abi_version: KMEMLAB_ABI_VERSION,
        nr_cpus: topology::online_cpus(),
        features: crate::features(),
        nr_nodes: topology::online_nodes(),
        reserved: 0,
    };
    copy_out(arg, &reply.encode())
}

/// `KMEMLAB_IOC_LIMITS`: the quota this module was loaded with and the size
/// limits the allocation paths enforce (the same constants they check).
fn limits(_file: &FileState, arg: usize) -> Result<isize> {
    // CAST (each `as u64`): a `usize` always fits in a `u64`.
    let reply = KmemlabLimits {
        max_objects: crate::module_parameters::max_objects.value(),
        max_bytes: crate::module_parameters::max_bytes.value(),
        kmalloc_max: kmalloc::KMALLOC_MAX as u64,
        cache_object_max: slab::OBJECT_MAX as u64,
        vmalloc_max: vmalloc::VMALLOC_MAX as u64,
        dma_max: dma::DMA_MAX as u64,
        edu_dma_max: edu::DMA_MAX as u64,
        ioremap_max: KMEMLAB_IOREMAP_MAX,
        max_order: pages::MAX_ORDER,
        // CAST: a page is far smaller than 4 GiB.
        page_size: kernel::page::PAGE_SIZE as u32,
        kvmalloc_max: kvmalloc::KVMALLOC_MAX as u64,
        kvmalloc_kmalloc_max: kvmalloc::KVMALLOC_KMALLOC_MAX as u64,
        mempool_reserve_max: mempool::RESERVE_MAX as u64,
        dma_pool_block_max: dmapool::BLOCK_MAX as u64,
    };
    copy_out(arg, &reply.encode())
}

/// `KMEMLAB_IOC_ALLOC`; a failure is counted against the kind asked for.
fn alloc(file: &FileState, arg: usize) -> Result<isize> {
    let a = KmemlabAlloc::decode(&copy_in(arg)?);
    alloc_objects(file, &a).inspect_err(|e| stats::failed(a.kind, *e))
}

/// `KMEMLAB_IOC_ALLOC` for the decoded request `a`.
fn alloc_objects(file: &FileState, a: &KmemlabAlloc) -> Result<isize> {
    if a.count == 0 || a.count > KMEMLAB_BATCH_MAX {
        return Err(EINVAL);
    }
    let mut table = file.table.lock();
    let req = request(a, &table, Purpose::Objects)?;
    // CAST: `count` is at most KMEMLAB_BATCH_MAX.
    let count = a.count as usize;
    let made = table.alloc(&req, count, quota())?;
    if let Err(e) = copy_handles_out(a.handles, made.clone()) {
        // The objects go again (their handles stay used).
        table.free_newest(&made);
        return Err(e);
    }
    Ok(0)
}

/// Validates what to allocate (all of `a` but `count` and `handles`),
/// through its kind; a cache is looked up in `table`.
fn request(a: &KmemlabAlloc, table: &Table, purpose: Purpose) -> Result<Request> {
    Request::new(&Ask {
        a,
        gfp: gfp_from_abi(a.gfp)?,
        node: Node::new(a.node)?,
        purpose,
        caches: table,
    })
}

/// `KMEMLAB_IOC_FREE`.
fn free(file: &FileState, arg: usize) -> Result<isize> {
    let f = KmemlabFree::decode(&copy_in(arg)?);
    match f.flags {
        KMEMLAB_FREE_ALL if f.count == 0 && f.handles == 0 => {
            file.table.lock().free_all();
            Ok(0)
        }
        0 if f.count != 0 && f.count <= KMEMLAB_BATCH_MAX => {
            // CAST: `count` is at most KMEMLAB_BATCH_MAX.
            let mut handles = copy_handles_in(f.handles, f.count as usize)?;
            file.table.lock().free(&mut handles)?;
            Ok(0)
        }
        _ => Err(EINVAL),
    }
}

/// The data operations on one object.
#[derive(Clone, Copy, PartialEq, Eq)]
enum IoOp {
    Write,
    Read,
    Fill,
    Verify,
}

/// `KMEMLAB_IOC_WRITE`, `_READ`, `_FILL` and `_VERIFY`.
fn io(file: &FileState, arg: usize, op: IoOp) -> Result<isize> {
    let mut io = KmemlabIo::decode(&copy_in(arg)?);
    if io.reserved != 0 {
        return Err(EINVAL);
    }
    let mut table = file.table.lock();
    let object = table.get_mut(io.handle)?;
    let range = object::range(object.mem.byte_len()?, io.offset, io.len)?;
    let len = range.len();
    match op {
        IoOp::Write => object::write(
            object,
            range,
            UserSlice::new(user_ptr(io.addr)?, len).reader(),
        )?,
        IoOp::Read => object::read(
            object,
            range,
            UserSlice::new(user_ptr(io.addr)?, len).writer(),
        )?,
        IoOp::Fill => object::fill(object, range, io.addr)?,
        IoOp::Verify => {
            // CAST: object offsets fit in a `u64`.
            io.result = object::verify(object, range, io.addr)?.map_or(u64::MAX, |at| at as u64);
            drop(table);
            return copy_out(arg, &io.encode());
        }
    }
    Ok(0)
}

/// `KMEMLAB_IOC_INFO`.
fn info(file: &FileState, arg: usize) -> Result<isize> {
    let query = KmemlabInfo::decode(&copy_in(arg)?);
    let reply = file.table.lock().get(query.handle)?.info();
    copy_out(arg, &reply.encode())
}

/// `KMEMLAB_IOC_LIST`.
fn list(file: &FileState, arg: usize) -> Result<isize> {
    let mut l = KmemlabList::decode(&copy_in(arg)?);
    if l.reserved != 0 {
        return Err(EINVAL);
    }
    let table = file.table.lock();
    let objects = table.objects();
    // CAST: `count` is a `u32`.
    let room = (l.count as usize).min(objects.len());
    let mut to = UserSlice::new(user_ptr(l.infos)?, room * KmemlabInfo::SIZE).writer();
    for object in &objects[..room] {
        to.write_slice(&object.info().encode())?;
    }
    l.count = u32::try_from(objects.len()).map_err(|_| EOVERFLOW)?;
    drop(table);
    copy_out(arg, &l.encode())
}

/// `KMEMLAB_IOC_CACHE_CREATE`.
fn cache_create(file: &FileState, arg: usize) -> Result<isize> {
    let mut c = KmemlabCacheCreate::decode(&copy_in(arg)?);
    let name_len = c.name.iter().position(|b| *b == 0).ok_or(EINVAL)?;
    let known =
        KMEMLAB_CACHE_HWCACHE_ALIGN | KMEMLAB_CACHE_CTOR | KMEMLAB_CACHE_DMA | KMEMLAB_CACHE_DMA32;
    if c.flags & !known != 0 {
        return Err(EINVAL);
    }
    // Unbuilt zones are refused by `KmemCache::new`.
    let zone = match c.flags & (KMEMLAB_CACHE_DMA | KMEMLAB_CACHE_DMA32) {
        0 => CacheZone::Any,
        KMEMLAB_CACHE_DMA => CacheZone::Dma,
        KMEMLAB_CACHE_DMA32 => CacheZone::Dma32,
        _ => return Err(EINVAL),
    };
    let config = CacheConfig {
        // CAST: a `u32` fits in a `usize`.
        object_size: c.object_size as usize,
        align: c.align as usize,
        hwcache_align: c.flags & KMEMLAB_CACHE_HWCACHE_ALIGN != 0,
        ctor: c.flags & KMEMLAB_CACHE_CTOR != 0,
        zone,
    };
    let cache = KmemCache::new(&c.name[..name_len], config)?;
    let mut table = file.table.lock();
    c.handle = table.add_cache(cache, quota())?;
    if let Err(e) = copy_out(arg, &c.encode()) {
        table.destroy_cache(c.handle)?;
        return Err(e);
    }
    Ok(0)
}

/// `KMEMLAB_IOC_CACHE_DESTROY`.
fn cache_destroy(file: &FileState, arg: usize) -> Result<isize> {
    let d = KmemlabCacheDestroy::decode(&copy_in(arg)?);
    if d.reserved != 0 {
        return Err(EINVAL);
    }
    file.table.lock().destroy_cache(d.handle)?;
    Ok(0)
}

/// `KMEMLAB_IOC_MEMPOOL`: create, destroy or look at a mempool.
fn mempool(file: &FileState, arg: usize) -> Result<isize> {
    let mut m = KmemlabMempool::decode(&copy_in(arg)?);
    let outs_zero = m.curr_nr == 0 && m.live == 0;
    match m.op {
        KMEMLAB_MEMPOOL_CREATE => {
            if !outs_zero || m.handle != 0 {
                return Err(EINVAL);
            }
            // CAST (both): a `u32` fits in a `usize`.
            let (size, min_nr) = (m.size as usize, m.min_nr as usize);
            let cache = match (m.source, m.cache) {
                (KMEMLAB_MEMPOOL_KMALLOC, 0) => None,
                (KMEMLAB_MEMPOOL_CACHE, c) => Some(c),
                _ => return Err(EINVAL),
            };
            let mut table = file.table.lock();
            m.handle = table.add_pool(cache, size, min_nr, quota())?;
            if let Err(e) = copy_out(arg, &m.encode()) {
                table.undo_pool(m.handle, KMEMLAB_KIND_MEMPOOL)?;
                return Err(e);
            }
            Ok(0)
        }
        KMEMLAB_MEMPOOL_DESTROY => {
            if !outs_zero || m.source != 0 || m.cache != 0 || m.size != 0 || m.min_nr != 0 {
                return Err(EINVAL);
            }
            file.table
                .lock()
                .destroy_pool(m.handle, KMEMLAB_KIND_MEMPOOL)?;
            Ok(0)
        }
        KMEMLAB_MEMPOOL_STATUS => {
            if !outs_zero || m.source != 0 || m.cache != 0 || m.size != 0 || m.min_nr != 0 {
                return Err(EINVAL);
            }
            let s = file.table.lock().pool_status(m.handle)?;
            let count = |n: usize| u32::try_from(n).map_err(|_| EOVERFLOW);
            m.source = if s.cache.is_some() {
                KMEMLAB_MEMPOOL_CACHE
            } else {
                KMEMLAB_MEMPOOL_KMALLOC
            };
            m.cache = s.cache.unwrap_or(0);
            m.size = count(s.size)?;
            m.min_nr = count(s.min_nr)?;
            m.curr_nr = count(s.curr_nr)?;
            m.live = count(s.live)?;
            copy_out(arg, &m.encode())
        }
        _ => Err(EINVAL),
    }
}

/// `KMEMLAB_IOC_DMA_POOL`: create, destroy or look at a DMA pool.
fn dma_pool(file: &FileState, arg: usize) -> Result<isize> {
    let mut d = KmemlabDmaPool::decode(&copy_in(arg)?);
    if d.live != 0 || d.reserved != 0 {
        return Err(EINVAL);
    }
    let only_handle = d.name == [0; KMEMLAB_CACHE_NAME_MAX]
        && d.device == 0
        && d.size == 0
        && d.align == 0
        && d.boundary == 0;
    match d.op {
        KMEMLAB_DMA_POOL_CREATE => {
            // The bytes after the name's NUL must be zero, as its room is
            // also STATUS's reply; the name is checked before the quota.
            let len = d.name.iter().position(|b| *b == 0).ok_or(EINVAL)?;
            if d.handle != 0 || d.name[len..].iter().any(|b| *b != 0) {
                return Err(EINVAL);
            }
            slab::full_name(&d.name[..len])?;
            let device = kinds::dma::device_from_abi(d.device)?;
            // CAST (each): a `u32` fits in a `usize`.
            let shape = PoolShape::new(d.size as usize, d.align as usize, d.boundary as usize)?;
            let mut table = file.table.lock();
            d.handle = table.add_dma_pool(device, d.name, shape, quota())?;
            if let Err(e) = copy_out(arg, &d.encode()) {
                table.undo_pool(d.handle, KMEMLAB_KIND_DMA_POOL)?;
                return Err(e);
            }
            Ok(0)
        }
        KMEMLAB_DMA_POOL_DESTROY if only_handle => {
            file.table
                .lock()
                .destroy_pool(d.handle, KMEMLAB_KIND_DMA_POOL)?;
            Ok(0)
        }
        KMEMLAB_DMA_POOL_STATUS if only_handle => {
            let s = file.table.lock().dma_pool_status(d.handle)?;
            let field = |n: usize| u32::try_from(n).map_err(|_| EOVERFLOW);
            d.name = s.name;
            d.device = kinds::dma::device_abi(s.device);
            d.size = field(s.shape.size())?;
            d.align = field(s.shape.align())?;
            d.boundary = field(s.shape.boundary())?;
            d.live = field(s.live)?;
            copy_out(arg, &d.encode())
        }
        _ => Err(EINVAL),
    }
}

/// `KMEMLAB_IOC_IOREMAP`; a failure is counted against the ioremap kind.
fn ioremap(file: &FileState, arg: usize) -> Result<isize> {
    let m = KmemlabIoremap::decode(&copy_in(arg)?);
    map_object(file, arg, m).inspect_err(|e| stats::failed(KMEMLAB_KIND_IOREMAP, *e))
}

/// `KMEMLAB_IOC_IOREMAP` for the decoded request `m`.
fn map_object(file: &FileState, arg: usize, mut m: KmemlabIoremap) -> Result<isize> {
    let req = kinds::ioremap::request(&m)?;
    let mut table = file.table.lock();
    let made = table.alloc(&req, 1, quota())?;
    m.handle = *made.start();
    if let Err(e) = copy_out(arg, &m.encode()) {
        table.free_newest(&made);
        return Err(e);
    }
    Ok(0)
}

/// `KMEMLAB_IOC_MMIO`.
fn mmio(file: &FileState, arg: usize) -> Result<isize> {
    let mut m = KmemlabMmio::decode(&copy_in(arg)?);
    let width = Width::from_bytes(m.width)?;
    let write = match m.op {
        KMEMLAB_MMIO_READ => false,
        KMEMLAB_MMIO_WRITE if m.value <= width.max() => true,
        _ => return Err(EINVAL),
    };
    if m.reserved != 0 {
        return Err(EINVAL);
    }
    let table = file.table.lock();
    let Memory::Ioremap(map) = &table.get(m.handle)?.mem else {
        return Err(EINVAL);
    };
    let offset = usize::try_from(m.offset).map_err(|_| EINVAL)?;
    // CAST: widths are 1 to 8.
    let bytes = m.width as usize;
    if offset.checked_rem(bytes) != Some(0)
        || offset.checked_add(bytes).is_none_or(|end| end > map.size())
    {
        return Err(EINVAL);
    }
    if write {
        // edu's registers refuse writes to those the driver owns (`EACCES`).
        map.write(offset, width, m.value)?;
        return Ok(0);
    }
    m.value = map.read(offset, width)?;
    drop(table);
    copy_out(arg, &m.encode())
}

/// `KMEMLAB_IOC_DMA_COPY`.
fn dma_copy(file: &FileState, arg: usize) -> Result<isize> {
    let c = KmemlabDmaCopy::decode(&copy_in(arg)?);
    let offset = |v: u64| usize::try_from(v).map_err(|_| EINVAL);
    let (src_offset, dst_offset, len) =
        (offset(c.src_offset)?, offset(c.dst_offset)?, offset(c.len)?);
    let mut table = file.table.lock();
    let (src, dst) = table.get_two_mut(c.src, c.dst)?;
    let (Memory::Dma(src) | Memory::DmaPool(src), Memory::Dma(dst) | Memory::DmaPool(dst)) =
        (&mut src.mem, &mut dst.mem)
    else {
        return Err(EINVAL);
    };
    edu::dma_copy(src, src_offset, dst, dst_offset, len)?;
    Ok(0)
}

/// `KMEMLAB_IOC_PERCPU`.
fn percpu_op(file: &FileState, arg: usize) -> Result<isize> {
    let mut p = KmemlabPercpu::decode(&copy_in(arg)?);
    // `sum` is output only, and ignored on input.
    let valid = match p.op {
        KMEMLAB_PERCPU_ADD | KMEMLAB_PERCPU_ADD_ON => p.count == 0 && p.values == 0,
        KMEMLAB_PERCPU_READ => p.cpu == 0 && p.value == 0,
        _ => false,
    };
    if !valid {
        return Err(EINVAL);
    }
    let table = file.table.lock();
    let Memory::PerCpu(counter) = &table.get(p.handle)?.mem else {
        return Err(EINVAL);
    };
    let view = counter.get();
    match p.op {
        KMEMLAB_PERCPU_ADD => {
            p.cpu = {
                let this = view.this_cpu();
                view.add_this_cpu(p.value);
                this.cpu()
            };
            p.sum = 0;
            if let Err(e) = copy_out(arg, &p.encode()) {
                // Nothing may change on failure: take the amount back off
                // the CPU it went to.
                let undo = p.value.wrapping_neg();
                cpu::run_on(p.cpu, move || view.add_this_cpu(undo))?;
                return Err(e);
            }
            Ok(0)
        }
        KMEMLAB_PERCPU_ADD_ON => {
            let value = p.value;
            cpu::run_on(p.cpu, move || view.add_this_cpu(value))?;
            Ok(0)
        }
        _ => {
            let ids = topology::nr_cpu_ids();
            // CAST: CPU ids are `u32`.
            let room = p.count.min(ids) as usize;
            let mut raw = KVec::with_capacity(room * 8, GFP_KERNEL)?;
            for cpu in 0..room {
                // CAST: below `nr_cpu_ids`.
                let value = view.on(cpu as u32).unwrap_or(0);
                raw.extend_from_slice(&value.to_ne_bytes(), GFP_KERNEL)?;
            }
            p.sum = view.sum();
            p.count = ids;
            drop(table);
            UserSlice::new(user_ptr(p.values)?, raw.len())
                .writer()
                .write_slice(&raw)?;
            copy_out(arg, &p.encode())
        }
    }
}

/// `KMEMLAB_IOC_BENCH`.
fn bench(file: &FileState, arg: usize) -> Result<isize> {
    let mut b = KmemlabBench::decode(&copy_in(arg)?);
    let outputs_zero = b.cpu == 0
        && b.ops == 0
        && b.ns_wall == 0
        && b.ns_total == 0
        && b.ns_min == 0
        && b.ns_median == 0
        && b.ns_p99 == 0
        && b.cycles_total == 0
        && b.cycles_min == 0
        && b.cycles_median == 0
        && b.cycles_p99 == 0
        && b.reserved2 == 0;
    if b.reserved != 0
        || !outputs_zero
        || b.flags & !(KMEMLAB_BENCH_NO_STATS | KMEMLAB_BENCH_RAW_C) != 0
        || !(1..=KMEMLAB_BENCH_ITERATIONS_MAX).contains(&b.iterations)
        || !(1..=KMEMLAB_BATCH_MAX).contains(&b.batch)
        || b.threads > topology::online_cpus()
    {
        return Err(EINVAL);
    }
    let counter = b.kind == 0
        && b.gfp == 0
        && b.order == 0
        && b.size == 0
        && b.node == KMEMLAB_NODE_ANY
        && b.cache == 0;
    let op = match b.op {
        KMEMLAB_BENCH_PERCPU_INC if counter => Op::PercpuInc,
        KMEMLAB_BENCH_ATOMIC_INC if counter => Op::AtomicInc,
        KMEMLAB_BENCH_ALLOC_FREE => {
            let what = KmemlabAlloc {
                kind: b.kind,
                gfp: b.gfp,
                size: b.size,
                order: b.order,
                node: b.node,
                cache: b.cache,
                count: 1,
                handles: 0,
            };
            // The cache is looked up under the file's lock; the run holds
            // the cache itself, not the lock.
            Op::AllocFree(request(&what, &file.table.lock(), Purpose::Bench)?)
        }
        _ => return Err(EINVAL),
    };
    if let Op::AllocFree(req) = &op {
        // A run holds at most a batch per thread at once.
        let held = req
            .what
            .bytes()
            .checked_mul(b.batch as usize)
            .and_then(|n| n.checked_mul(b.threads.max(1) as usize));
        if held.is_none_or(|n| n > quota().bytes) {
            return Err(ENOMEM);
        }
        // CAST (both): a `u32` fits in a `usize`.
        let blocks = b.batch as usize * b.threads.max(1) as usize;
        file.table.lock().charge_run(req, blocks, quota())?;
    }
    let spec = crate::bench::Spec {
        op,
        raw_c: b.flags & KMEMLAB_BENCH_RAW_C != 0,
        count: b.flags & KMEMLAB_BENCH_NO_STATS == 0,
        iterations: b.iterations,
        batch: b.batch,
        threads: b.threads,
    };
    let run = crate::bench::run(&spec);
    // The use of a device goes before the reply is copied out: a copy that
    // waits on userspace must not hold up the device's unbinding.
    drop(spec);
    let run = run?;
    b.ops = run.ops;
    b.ns_wall = run.ns_wall;
    (b.ns_total, b.ns_min, b.ns_median, b.ns_p99) =
        (run.ns.total, run.ns.min, run.ns.median, run.ns.p99);
    (b.cycles_total, b.cycles_min, b.cycles_median, b.cycles_p99) = (
        run.cycles.total,
        run.cycles.min,
        run.cycles.median,
        run.cycles.p99,
    );
    b.cpu = run.cpu;
    copy_out(arg, &b.encode())
}
