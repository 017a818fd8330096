// SPDX-License-Identifier: GPL-2.0

//! Slab caches: `kmem_cache_create` and friends.
//!
//! C header: [`include/linux/slab.h`](srctree/include/linux/slab.h)
//!
//! The kernel crate has no slab-cache abstraction. [`KmemCache`] owns a cache
//! named `kmemlab-<name>`. No object can outlive the cache it came from, and
//! nothing shared is written per object to guarantee it: every
//! [`CacheObject`] holds one reference of the cache's `percpu_ref` (taken and
//! dropped with a per-CPU add, no shared atomic, in the same C call as the
//! allocation and the free), and the handle holds the first one. Dropping the
//! handle kills the reference (it switches to a shared count once, after an
//! RCU grace period); when the last object is freed, the cache is destroyed
//! by kmemlab's reaper workqueue (`kmem_cache_destroy` sleeps, and the last
//! free may come from any context). Destroying a cache with live objects
//! would make the kernel WARN: by construction it never happens. Caches are
//! created with `SLAB_NO_MERGE`, so each shows under its own name in
//! `/proc/slabinfo` and `/sys/kernel/slab/`, and cache names are kept unique
//! across all files (a duplicate name would confuse `/sys/kernel/slab` and
//! makes the kernel WARN); a name is free again once its cache is destroyed.

use core::{
    marker::PhantomData,
    mem::offset_of,
    ptr::NonNull, //
};

use kernel::{
    bindings,
    prelude::*,
    sync::{
        atomic::{
            Acquire,
            Atomic,
            Full,
            Relaxed,
            Release, //
        },
        Arc, //
    },
    types::Opaque, //
};

use super::{
    bytes_allocation,
    gfp::{
        Gfp,
        Mods, //
    },
    percpu::PerCpu,
    topology::Node,
    Bytes, //
};

extern "C" {
    fn kmemlab_kmem_cache_alloc_node(
        cache: *mut bindings::kmem_cache,
        gfp: bindings::gfp_t,
        node: c_int,
    ) -> *mut c_void;
    fn kmemlab_kmem_cache_alloc_get(
        cache: *mut bindings::kmem_cache,
        gfp: bindings::gfp_t,
        node: c_int,
        objects: *mut bindings::percpu_ref,
    ) -> *mut c_void;
    fn kmemlab_kmem_cache_free_put(
        cache: *mut bindings::kmem_cache,
        object: *mut c_void,
        objects: *mut bindings::percpu_ref,
    );
    fn kmemlab_alloc_workqueue(
        name: *const c_char,
        flags: c_uint,
    ) -> *mut bindings::workqueue_struct;
}

/// The reaper: the workqueue that destroys caches whose last reference is
/// gone. Made with the first cache, destroyed by the first [`Reaper`] dropped.
static REAPER: Atomic<*mut bindings::workqueue_struct> = Atomic::new(core::ptr::null_mut());
/// Caches that claimed a name and are not yet destroyed (or given up).
static CACHES_ALIVE: Atomic<usize> = Atomic::new(0);
/// Set by the [`Reaper`] that tears the reaper down: only one does.
static REAPER_TEARDOWN: Atomic<bool> = Atomic::new(false);

/// Longest user part of a cache name (the cache is `kmemlab-<name>`).
pub(crate) const NAME_MAX: usize = 23;
/// `"kmemlab-"`, the prefix of every cache kmemlab creates.
const PREFIX: &[u8] = b"kmemlab-";
/// A full cache (or DMA pool) name with its NUL terminator.
pub(crate) type FullName = [u8; PREFIX.len() + NAME_MAX + 1];

/// `kmemlab-<name>`, NUL-terminated, for `name` of 1 to [`NAME_MAX`] bytes
/// of `[a-z0-9_-]` (`EINVAL` otherwise). DMA pools are named the same way.
pub(crate) fn full_name(name: &[u8]) -> Result<FullName> {
    let valid = |c: &u8| c.is_ascii_lowercase() || c.is_ascii_digit() || *c == b'_' || *c == b'-';
    if name.is_empty() || name.len() > NAME_MAX || !name.iter().all(valid) {
        return Err(EINVAL);
    }
    let mut full: FullName = [0; PREFIX.len() + NAME_MAX + 1];
    full[..PREFIX.len()].copy_from_slice(PREFIX);
    full[PREFIX.len()..PREFIX.len() + name.len()].copy_from_slice(name);
    Ok(full)
}

/// The largest object a kmemlab cache may hold: half of `KMALLOC_MAX_SIZE`.
///
/// The slab allocator's own limit is a slab of `MAX_PAGE_ORDER`, and with
/// debugging on (red zones, tracking, KASAN metadata) a `KMALLOC_MAX_SIZE`
/// object no longer fits in one; half of it always does.
// CAST: a `u32` always fits in `usize`.
pub(crate) const OBJECT_MAX: usize = bindings::KMALLOC_MAX_SIZE as usize / 2;

/// The first eight bytes of every object of a cache made with a constructor.
pub(crate) const CTOR_MAGIC: u64 = 0x6b6d_656d_6c61_6263;

kernel::sync::global_lock! {
    // SAFETY: `super::init` initialises it exactly once, and `registry`
    // refuses to lock it before that has completed.
    unsafe(uninit) static CACHE_NAMES: Mutex<KVec<FullName>> = KVec::new();
}

/// Initialises the registry's lock.
///
/// # Safety
///
/// Called once, by `super::init`, before any `registry()` call.
pub(super) unsafe fn init_lock() {
    // SAFETY: guaranteed by the caller.
    unsafe { CACHE_NAMES.init() };
}

/// Locks the registry, or `EAGAIN` before module init has prepared it.
fn registry() -> Result<kernel::sync::GlobalGuard<CACHE_NAMES>> {
    super::ready()?;
    Ok(CACHE_NAMES.lock())
}

/// Takes `full` out of the registry, so the name may be used again.
///
/// The registry is a static, never dropped: once its last name is gone its
/// buffer is freed, so nothing of it outlives the module (every cache is
/// destroyed before the module can be unloaded).
fn release_name(full: &FullName) {
    // A registry that cannot be locked has never held the name.
    if let Ok(mut names) = registry() {
        if let Some(i) = names.iter().position(|n| n == full) {
            names.remove(i).ok();
        }
        if names.is_empty() {
            *names = KVec::new();
        }
    }
}

/// What a cache is asked to be.
///
/// # Examples
///
/// See [`KmemCache`]'s example, which uses this type too (KUnit case
/// `kmemlab_slab::example_kmem_cache`).
#[derive(Clone, Copy, Debug)]
pub(crate) struct CacheConfig {
    /// Object size in bytes, 1 to [`OBJECT_MAX`] (8 or more with a constructor).
    pub(crate) object_size: usize,
    /// Minimum alignment: 0 or a power of two no larger than a page.
    pub(crate) align: usize,
    /// `SLAB_HWCACHE_ALIGN`: align objects to cache lines.
    pub(crate) hwcache_align: bool,
    /// Give the cache a constructor that writes [`CTOR_MAGIC`] at the start of each object.
    pub(crate) ctor: bool,
    /// The zone the cache's slabs come from.
    pub(crate) zone: CacheZone,
}

/// The zone a cache's slabs come from: the cache's choice, made at creation
/// (the objects' GFP masks may not change it).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum CacheZone {
    /// Wherever the page allocator puts them.
    Any,
    /// `SLAB_CACHE_DMA`: `ZONE_DMA`.
    Dma,
    /// `SLAB_CACHE_DMA32`: `ZONE_DMA32`.
    Dma32,
}

/// A cache with what its handle and its objects share.
///
/// # Invariants
///
/// Lives in a `KBox` leaked by [`KmemCache::new`] and is freed only by
/// [`destroy`] (from [`reap`], or from the handle's drop when it waited for
/// the release), once `objects` has been killed and has reached zero. Until
/// then `cache` is live (returned by `__kmem_cache_create_args`, destroyed
/// only by `destroy`), `name` is registered in [`CACHE_NAMES`], `objects` is
/// initialised (one reference for the [`KmemCache`] handle
/// until it is dropped, plus one per [`CacheObject`]) and `reap` is an
/// initialised work item whose function is [`reap`], and `done` an
/// initialised completion, completed by [`released`] instead of queueing
/// `reap` when `waiting` was set before the kill. `config.object_size` is
/// at least 8 when `config.ctor` is set. `live` counts, summed over the CPUs,
/// the objects allocated and not yet freed.
#[repr(C)]
struct CacheCore {
    /// One reference for the handle, one per object.
    objects: Opaque<bindings::percpu_ref>,
    /// Queued on the reaper when the last reference goes after the handle.
    reap: Opaque<bindings::work_struct>,
    /// Completed instead when the handle's drop waits for the release.
    done: Opaque<bindings::completion>,
    /// Whether the handle's drop waits (set before the kill).
    waiting: Atomic<bool>,
    /// The slab cache.
    cache: NonNull<bindings::kmem_cache>,
    /// Its name, NUL-terminated (the slab allocator keeps a copy).
    name: FullName,
    /// How it was made.
    config: CacheConfig,
    /// Objects allocated and not yet freed, per CPU (the sum is the count).
    live: PerCpu<u64>,
}

/// A slab cache owned by kmemlab.
///
/// # Examples
///
/// ```ignore
/// let config = CacheConfig {
///     object_size: 200,
///     align: 0,
///     hwcache_align: false,
///     ctor: false,
///     zone: CacheZone::Any,
/// };
/// let cache = KmemCache::new(b"kunit-example", config)?;
/// assert_eq!(cache.name(), b"kmemlab-kunit-example");
/// let mut object = cache.alloc(Gfp::KERNEL.zeroed(), Node::ANY)?;
/// object.as_mut_slice().fill(1);
/// assert_eq!(cache.live_objects(), 1);
/// drop(object);
/// assert_eq!(cache.live_objects(), 0);
/// ```
///
/// Compiled and run as the KUnit case `kmemlab_slab::example_kmem_cache`.
///
/// # Invariants
///
/// `shared` is valid ([`CacheCore`]'s invariants) and this value holds its
/// first reference of `shared.objects`, dropped (by killing the reference)
/// only in `Drop`.
pub(crate) struct KmemCache {
    shared: NonNull<CacheCore>,
}

// SAFETY: the slab allocator's cache functions may be called from any
// thread; the shared state is the kernel's cache, a percpu_ref and per-CPU
// counters.
unsafe impl Send for KmemCache {}
// SAFETY: as above: `&KmemCache` only allocates and reads counters.
unsafe impl Sync for KmemCache {}

/// The constructor of caches made with `ctor`: marks the object's first eight bytes.
///
/// # Safety
///
/// `object` must point to a writable object of at least eight bytes; the
/// slab allocator calls it only on objects of caches `KmemCache::new` made
/// with a constructor, which guarantees that.
unsafe extern "C" fn ctor_fill(object: *mut c_void) {
    // SAFETY: the slab allocator passes a writable object of the cache, at
    // least eight bytes long (`KmemCache::new` requires it). Objects are only
    // word-aligned, which is less than 8 on 32-bit machines: write unaligned.
    unsafe { object.cast::<u64>().write_unaligned(CTOR_MAGIC) };
}

/// The `percpu_ref`'s release: the handle is gone and so is the last object.
/// Runs in any context (the last free's, or an RCU callback's), so the
/// cache, whose destruction sleeps, is handed to the reaper.
///
/// # Safety
///
/// `objects` is the `objects` field of a [`CacheCore`] (only such refs are
/// made with this function) that has reached zero after being killed.
unsafe extern "C" fn released(objects: *mut bindings::percpu_ref) {
    // The value is freed only by `destroy`, after this returns: by the
    // reaper, queued below, or by the handle's drop, whose wait ends only
    // once `complete` below has released the completion's lock, its last
    // touch of the value (nothing after it here touches the value either).
    // SAFETY: `objects` is the first field of a `#[repr(C)]` `CacheCore`,
    // still valid (above).
    let shared = unsafe { objects.byte_sub(offset_of!(CacheCore, objects)) }.cast::<CacheCore>();
    // SAFETY: as above.
    if unsafe { (*shared).waiting.load(Acquire) } {
        // The handle's drop waits for this and destroys the cache itself.
        // SAFETY: `done` is initialised (type invariant); see above for why
        // the waiter cannot free it under `complete`.
        unsafe { bindings::complete(Opaque::cast_into(&raw const (*shared).done)) };
        return;
    }
    // The reaper exists: it was made before this cache was counted in
    // `CACHES_ALIVE`, which `destroy` undoes only after this release, and
    // `Reaper::drop` destroys it only with no cache counted.
    // SAFETY: `shared` is valid (above), its `reap` work is initialised
    // (type invariant) and the reaper is live (above).
    unsafe {
        bindings::queue_work_on(
            // CAST: a small constant, NR_CPUS.
            bindings::wq_misc_consts_WORK_CPU_UNBOUND as c_int,
            REAPER.load(Acquire),
            Opaque::cast_into(&raw const (*shared).reap),
        )
    };
}

/// The reaper's work: destroys a cache nothing refers to any more.
///
/// # Safety
///
/// `work` is the `reap` field of a [`CacheCore`] whose `objects` reference has
/// been released (queued only by [`released`]).
unsafe extern "C" fn reap(work: *mut bindings::work_struct) {
    // SAFETY: `work` is the `reap` field of a `CacheCore` whose reference was
    // released; the workqueue does not touch the work item again once its
    // function runs.
    unsafe {
        destroy(
            work.byte_sub(offset_of!(CacheCore, reap))
                .cast::<CacheCore>(),
        )
    };
}

/// Destroys the cache and frees `shared`.
///
/// # Safety
///
/// `shared` was leaked by [`KmemCache::new`] (`KBox::into_raw`) and its
/// `objects` reference has been released after being killed: nothing else
/// refers to it any more, no object of the cache is left and no reference
/// can be taken.
unsafe fn destroy(shared: *mut CacheCore) {
    // SAFETY: guaranteed by the caller.
    let shared = unsafe { KBox::from_raw(shared) };
    // SAFETY: as above: the cache is empty and unused, and the reference
    // reached zero, so both may go. Both may sleep: `destroy` runs in the
    // reaper's work or in the handle's drop.
    unsafe {
        bindings::kmem_cache_destroy(shared.cache.as_ptr());
        bindings::percpu_ref_exit(shared.objects.get());
    }
    abandon(&shared.name);
    drop(shared);
}

/// Frees a cache's name and stops counting it among the caches alive (what
/// [`KmemCache::new`] did when it claimed the name).
fn abandon(full: &FullName) {
    release_name(full);
    CACHES_ALIVE.fetch_sub(1, Release);
}

/// Makes the reaper workqueue if there is none yet. Called with the cache
/// names' lock held, so two callers cannot both make one.
fn reaper() -> Result<*mut bindings::workqueue_struct> {
    let wq = REAPER.load(Acquire);
    if !wq.is_null() {
        return Ok(wq);
    }
    // SAFETY: the name is a NUL-terminated string, copied by the call.
    let wq = unsafe {
        kmemlab_alloc_workqueue(
            c"kmemlab-slab-reaper".as_char_ptr(),
            bindings::wq_flags_WQ_UNBOUND,
        )
    };
    if wq.is_null() {
        return Err(ENOMEM);
    }
    REAPER.store(wq, Release);
    Ok(wq)
}

/// Destroys the reaper workqueue, at module exit (a field of the module).
///
/// Dropping it waits for every cache already released to be destroyed; if a
/// cache is still alive (a handle was leaked), the workqueue is kept, and
/// leaked, rather than destroyed under it.
pub(crate) struct Reaper(());

impl Reaper {
    /// The module's reaper guard (a field of the module). Only the first
    /// one dropped tears the reaper down.
    pub(crate) fn new() -> Self {
        Reaper(())
    }
}

impl Drop for Reaper {
    fn drop(&mut self) {
        if REAPER_TEARDOWN.xchg(true, Full) {
            return;
        }
        // Kills switch their reference to atomic mode in an RCU callback,
        // which may release it: let those run first.
        // SAFETY: no lock is held; waiting for RCU callbacks is allowed here.
        unsafe { bindings::rcu_barrier() };
        let wq = {
            let Ok(_names) = registry() else {
                return;
            };
            REAPER.load(Acquire)
        };
        if wq.is_null() {
            return;
        }
        // Outside the names' lock: `reap` takes it. A reaper is never
        // destroyed while its pointer is published, so `wq` is live.
        // SAFETY: `wq` is the reaper, made by `reaper()` and not destroyed.
        unsafe { bindings::__flush_workqueue(wq) };
        {
            let Ok(_names) = registry() else {
                return;
            };
            // Caches are counted from the moment they claim their name
            // (under this lock) until `destroy` has run: none counted means
            // none can release its reference and queue work any more. The
            // RCU barrier and the flush above let the releases and the
            // destructions already under way finish.
            if CACHES_ALIVE.load(Acquire) != 0 || REAPER.load(Acquire) != wq {
                pr_err!("a slab cache outlives the module's teardown; its reaper is kept\n");
                return;
            }
            REAPER.store(core::ptr::null_mut(), Release);
        }
        // SAFETY: unpublished above with no cache alive: nothing can queue
        // work on `wq` any more (a new cache would make a new reaper), and
        // destroying it waits for a `reap` still returning.
        unsafe { bindings::destroy_workqueue(wq) };
    }
}

impl KmemCache {
    /// Creates the cache `kmemlab-<name>`.
    ///
    /// `name` is 1 to [`NAME_MAX`] bytes of `[a-z0-9_-]`; a name already in use
    /// (by a cache that is alive, or released and not yet destroyed) is
    /// refused with `EEXIST`.
    pub(crate) fn new(name: &[u8], config: CacheConfig) -> Result<Arc<Self>> {
        let full = full_name(name)?;
        let min_size = if config.ctor { 8 } else { 1 };
        if config.object_size < min_size || config.object_size > OBJECT_MAX {
            return Err(EINVAL);
        }
        if config.align != 0
            && (!config.align.is_power_of_two() || config.align > kernel::page::PAGE_SIZE)
        {
            return Err(EINVAL);
        }
        // A zone the kernel was built without: refused rather than silently normal.
        let zone_flag = match config.zone {
            CacheZone::Any => 0,
            CacheZone::Dma if cfg!(CONFIG_ZONE_DMA) => {
                1 << bindings::_slab_flag_bits__SLAB_CACHE_DMA
            }
            CacheZone::Dma32 if cfg!(CONFIG_ZONE_DMA32) => {
                1 << bindings::_slab_flag_bits__SLAB_CACHE_DMA32
            }
            _ => return Err(EINVAL),
        };
        // Claim the name first: two files racing for it cannot both win.
        {
            let mut names = registry()?;
            if names.iter().any(|n| *n == full) {
                return Err(EEXIST);
            }
            reaper()?;
            names.push(full, GFP_KERNEL)?;
            // Counted until destroyed (or abandoned below), under the lock
            // the reaper's teardown takes.
            CACHES_ALIVE.fetch_add(1, Relaxed);
        }
        let unregister = |full: &FullName| abandon(full);
        let live = match PerCpu::new() {
            Ok(live) => live,
            Err(e) => {
                unregister(&full);
                return Err(e);
            }
        };

        let mut flags: bindings::slab_flags_t =
            (1 << bindings::_slab_flag_bits__SLAB_NO_MERGE) | zone_flag;
        if config.hwcache_align {
            flags |= 1 << bindings::_slab_flag_bits__SLAB_HWCACHE_ALIGN;
        }
        let mut args = bindings::kmem_cache_args {
            // CAST: checked above: at most a page.
            align: config.align as c_uint,
            // The whole object may be copied to and from userspace (READ and
            // WRITE do): without this, CONFIG_HARDENED_USERCOPY kills the copy.
            useroffset: 0,
            // CAST: checked above: at most OBJECT_MAX.
            usersize: config.object_size as c_uint,
            ctor: if config.ctor { Some(ctor_fill) } else { None },
            ..Default::default()
        };
        // SAFETY: `full` is NUL-terminated (the name is at most NAME_MAX
        // bytes) and copied by the call; `args` is a valid argument block for
        // the duration of the call.
        let raw = unsafe {
            bindings::__kmem_cache_create_args(
                full.as_ptr().cast(),
                // CAST: checked above: at most KMALLOC_MAX_SIZE.
                config.object_size as c_uint,
                &mut args,
                flags,
            )
        };
        let Some(cache) = NonNull::new(raw) else {
            unregister(&full);
            return Err(ENOMEM);
        };
        let destroy_now = |full: &FullName| {
            // SAFETY: `cache` was just created and has no object.
            unsafe { bindings::kmem_cache_destroy(cache.as_ptr()) };
            unregister(full);
        };
        let shared = match KBox::new(
            CacheCore {
                objects: Opaque::uninit(),
                reap: Opaque::uninit(),
                done: Opaque::uninit(),
                waiting: Atomic::new(false),
                cache,
                name: full,
                config,
                live,
            },
            GFP_KERNEL,
        ) {
            Ok(shared) => KBox::into_raw(shared),
            Err(e) => {
                destroy_now(&full);
                return Err(e.into());
            }
        };
        // SAFETY: `shared` was just leaked from a `KBox` and is only used
        // here: its `reap` field is initialised in place (it never moves)
        // with `reap` as its function and a static lock class.
        unsafe {
            bindings::init_work_with_key(
                Opaque::cast_into(&raw const (*shared).reap),
                Some(reap),
                false,
                c"kmemlab-slab-reap".as_char_ptr(),
                kernel::static_lock_class!().as_ptr(),
            )
        };
        // SAFETY: as above, for the completion.
        unsafe { bindings::init_completion(Opaque::cast_into(&raw const (*shared).done)) };
        // SAFETY: as above, for the `objects` reference: initialised in
        // place, in per-CPU mode with its count at one (the handle's), with
        // `released` as its release function.
        let ret = unsafe {
            bindings::percpu_ref_init(
                Opaque::cast_into(&raw const (*shared).objects),
                Some(released),
                0,
                bindings::GFP_KERNEL,
            )
        };
        if ret != 0 {
            // SAFETY: `shared` came from `KBox::into_raw` above and nothing
            // else refers to it; the failed `percpu_ref_init` holds nothing.
            drop(unsafe { KBox::from_raw(shared) });
            destroy_now(&full);
            return Err(Error::from_errno(ret));
        }
        // SAFETY: `shared` is not null: it came from a `KBox`.
        let shared = unsafe { NonNull::new_unchecked(shared) };
        // INVARIANT: `shared` is fully initialised and this value holds the
        // reference `percpu_ref_init` made. From here on, dropping the value
        // (even when `Arc::new` fails) releases it, and the reaper destroys
        // the cache.
        Ok(Arc::new(Self { shared }, GFP_KERNEL)?)
    }

    fn shared(&self) -> &CacheCore {
        // SAFETY: valid while the handle's reference is held (type invariant).
        unsafe { self.shared.as_ref() }
    }

    /// How the cache was configured.
    pub(crate) fn config(&self) -> CacheConfig {
        self.shared().config
    }

    /// The cache's full name (`kmemlab-<name>`), without the NUL.
    pub(crate) fn name(&self) -> &[u8] {
        let full: &[u8] = &self.shared().name[..];
        let len = full.iter().position(|b| *b == 0).unwrap_or(full.len());
        &full[..len]
    }

    /// The raw cache, for the raw-C baseline of the benchmarks (valid while
    /// `self` lives; objects the baseline makes must be freed before that).
    pub(super) fn as_raw(&self) -> *mut bindings::kmem_cache {
        self.shared().cache.as_ptr()
    }

    /// Objects allocated from this cache and not yet freed.
    ///
    /// A sum over the CPUs: exact when nothing allocates from or frees to
    /// the cache meanwhile.
    pub(crate) fn live_objects(&self) -> usize {
        // CAST: the wrapping sum of the per-CPU adds and subtractions is the
        // number of objects, which fits in a `usize`.
        self.shared().live.get().sum() as usize
    }

    /// Allocates one object, on `node` if one is given, initialised: zeroed,
    /// or for a cache with a constructor, the constructor's mark followed by
    /// zeroes (it is lent out as bytes: nothing uninitialised may be read).
    /// The object keeps the cache: it may outlive this handle.
    ///
    /// `__GFP_ZERO` is refused (`EINVAL`) for a cache with a constructor, as the
    /// slab allocator forbids it.
    pub(crate) fn alloc(&self, gfp: Gfp, node: Node) -> Result<CacheObject> {
        let shared = self.shared();
        let gfp = object_gfp(&shared.config, gfp)?;
        // SAFETY: `cache` is live and `objects` initialised and not killed
        // (the handle's reference is held); `gfp` is a valid mask and `node`
        // online or `NUMA_NO_NODE`. On success the object holds a new
        // reference.
        let raw = unsafe {
            kmemlab_kmem_cache_alloc_get(
                shared.cache.as_ptr(),
                gfp.raw(),
                node.raw(),
                shared.objects.get(),
            )
        };
        let ptr = NonNull::new(raw.cast::<u8>()).ok_or(ENOMEM)?;
        // SAFETY: `ptr` is a fresh object of the cache, allocated with
        // `object_gfp`'s mask, only used here; `object_size >= 8` with a
        // constructor (`CacheCore`'s invariant).
        let bytes = unsafe { initialise(ptr, shared.config.object_size, shared.config.ctor) };
        shared.live.get().add_this_cpu(1);
        // INVARIANT: `bytes` is a fresh object of the cache, counted in
        // `live`, holding the reference taken with it.
        Ok(CacheObject {
            shared: self.shared,
            bytes,
        })
    }

    /// Objects of this cache for as long as the handle is borrowed, made
    /// as [`KmemCache::alloc`] makes them but without a reference each: the
    /// borrow proves that they go before the cache can, so nothing shared is
    /// touched and [`KmemCache::live_objects`] does not count them (for work
    /// that makes and frees objects within a borrow of the handle, such as a
    /// benchmark run). `gfp` and `node` are checked here, once, with the
    /// errors of [`KmemCache::alloc`].
    pub(crate) fn scope(&self, gfp: Gfp, node: Node) -> Result<CacheScope<'_>> {
        let shared = self.shared();
        // INVARIANT: the handle's cache and its settings (`object_size >= 8`
        // with a constructor: `CacheCore`'s invariant), the mask from
        // `object_gfp`.
        Ok(CacheScope {
            cache: shared.cache,
            gfp: object_gfp(&shared.config, gfp)?.raw(),
            node: node.raw(),
            size: shared.config.object_size,
            ctor: shared.config.ctor,
            _handle: PhantomData,
        })
    }
}

/// The mask objects of a cache made with `config` are allocated with: one
/// the slab allocator takes, with `__GFP_ZERO` unless the cache has a
/// constructor, which the slab allocator forbids asking it for (`EINVAL`).
fn object_gfp(config: &CacheConfig, gfp: Gfp) -> Result<Gfp> {
    let gfp = gfp.for_slab()?;
    match (config.ctor, gfp.has(Mods::ZERO)) {
        (true, true) => Err(EINVAL),
        (true, false) => Ok(gfp),
        (false, _) => Ok(gfp.zeroed()),
    }
}

/// A fresh object of `size` bytes allocated with [`object_gfp`]'s mask,
/// initialised: zeroed by the allocator, or the constructor's mark followed
/// by zeroes written here.
///
/// # Safety
///
/// `ptr` is a fresh object of a cache of `size`-byte objects made with a
/// constructor if `ctor`, allocated with [`object_gfp`]'s mask, used only
/// through the result; `size >= 8` if `ctor`.
#[inline(always)]
unsafe fn initialise(ptr: NonNull<u8>, size: usize, ctor: bool) -> Bytes {
    if ctor {
        // The constructor wrote the first eight bytes; the rest may be
        // uninitialised.
        // SAFETY: `ptr` is a fresh object of `size >= 8` bytes, only used
        // here (guaranteed by the caller).
        unsafe { ptr.add(8).write_bytes(0, size - 8) };
    }
    // SAFETY: `ptr` is a fresh object of `size` bytes, initialised (zeroed by
    // the allocator, or by the constructor and above), that only the new
    // value uses.
    unsafe { Bytes::new(ptr, size) }
}

/// Objects of a borrowed [`KmemCache`] ([`KmemCache::scope`]): the cache,
/// the mask and the node resolved once, so that an object costs the
/// allocator's call and, for a cache with a constructor, the zeroing.
///
/// # Invariants
///
/// `cache` is the cache of the borrowed handle, whose objects are `size`
/// bytes, made with a constructor if `ctor` (then `size >= 8`); `gfp` is
/// [`object_gfp`]'s mask for it and `node` online or `NUMA_NO_NODE`.
pub(crate) struct CacheScope<'c> {
    cache: NonNull<bindings::kmem_cache>,
    gfp: bindings::gfp_t,
    node: c_int,
    size: usize,
    ctor: bool,
    _handle: PhantomData<&'c KmemCache>,
}

impl<'c> CacheScope<'c> {
    /// One object, initialised as [`KmemCache::alloc`] promises, freed when
    /// dropped (within the borrow of the handle).
    #[inline]
    pub(crate) fn alloc(&self) -> Result<ScopedObject<'c>> {
        // SAFETY: the borrowed handle keeps `cache` live; `gfp` is a mask
        // the slab allocator takes and `node` a valid one (type invariant).
        let raw =
            unsafe { kmemlab_kmem_cache_alloc_node(self.cache.as_ptr(), self.gfp, self.node) };
        let ptr = NonNull::new(raw.cast::<u8>()).ok_or(ENOMEM)?;
        // INVARIANT: a fresh object of the borrowed cache, initialised.
        Ok(ScopedObject {
            cache: self.cache,
            // SAFETY: `ptr` is a fresh object of `cache`, allocated with
            // `object_gfp`'s mask, only used by the new value; `size` and
            // `ctor` are the cache's (type invariant).
            bytes: unsafe { initialise(ptr, self.size, self.ctor) },
            ctor: self.ctor,
            _handle: PhantomData,
        })
    }
}

/// Puts the constructor's mark back in an object of a cache made with a
/// constructor (`ctor`), before it is freed: the slab allocator expects
/// objects back in their constructed state.
#[inline(always)]
fn mark(ctor: bool, bytes: &mut Bytes) {
    if ctor {
        bytes.as_mut_slice()[..8].copy_from_slice(&CTOR_MAGIC.to_ne_bytes());
    }
}

impl Drop for KmemCache {
    /// Drops the handle's reference. With no object left (the usual case:
    /// the table refuses to destroy a cache in use), waits for frees still
    /// returning (an RCU grace period) and destroys the cache here, so its
    /// name is free again when this returns; otherwise the reaper destroys
    /// it after the last free. May sleep, as `kmem_cache_destroy` does.
    fn drop(&mut self) {
        kernel::task::might_sleep();
        let shared = self.shared();
        // No handle but this one is left, so nothing allocates any more and
        // the count only falls: a sum of zero means every object has begun
        // its free (each is counted until then), and what is left to wait
        // for is the few instructions until their puts.
        let wait = shared.live.get().sum() == 0;
        shared.waiting.store(wait, Release);
        // SAFETY: the handle's reference is held (type invariant) and is
        // dropped here, once: killing it puts it.
        unsafe { bindings::percpu_ref_kill_and_confirm(shared.objects.get(), None) };
        if wait {
            // SAFETY: `done` is initialised; `released` completes it once the
            // last reference is gone, and does not queue the reaper then.
            unsafe { bindings::wait_for_completion(shared.done.get()) };
            // `released` touches the value last inside `complete`, whose
            // lock the wait took before returning.
            // SAFETY: the reference was released after being killed, and
            // nothing refers to the value any more (above).
            unsafe { destroy(self.shared.as_ptr()) };
        }
    }
}

/// One object from a [`KmemCache`], freed back to it on drop.
///
/// # Examples
///
/// See [`KmemCache`]'s example, which uses this type too (KUnit case
/// `kmemlab_slab::example_kmem_cache`).
///
/// # Invariants
///
/// `bytes` is a live object of `shared.cache` (all its
/// `shared.config.object_size` bytes), owned only by this value and counted
/// in `shared.live`; this value holds one reference of `shared.objects`, so
/// `shared` is valid while it lives.
pub(crate) struct CacheObject {
    shared: NonNull<CacheCore>,
    bytes: Bytes,
}

// SAFETY: the object is plain memory owned by this value; slab objects may be
// freed, and a percpu_ref put, from any context.
unsafe impl Send for CacheObject {}
// SAFETY: shared references only allow reads of plain bytes.
unsafe impl Sync for CacheObject {}

bytes_allocation! {
    CacheObject,
    fn nid(&self) -> i32 {
        // SAFETY: slab objects are live while `self` is, in the linear map.
        unsafe { super::linear_nid(self.bytes.ptr()) }
    }
}

impl Drop for CacheObject {
    fn drop(&mut self) {
        // SAFETY: the object's reference keeps `shared` valid (type invariant).
        let shared = unsafe { self.shared.as_ref() };
        mark(shared.config.ctor, &mut self.bytes);
        shared.live.get().add_this_cpu(1u64.wrapping_neg());
        // `shared` is not used after this: the put may let the reaper free it.
        // SAFETY: by the type invariant `bytes` is a live object of `cache`,
        // freed once, here, with the object's one reference of `objects`.
        unsafe {
            kmemlab_kmem_cache_free_put(
                shared.cache.as_ptr(),
                self.bytes.ptr().as_ptr().cast(),
                shared.objects.get(),
            )
        };
    }
}

/// One object from a [`KmemCache`] that borrows the handle
/// ([`CacheScope::alloc`]), freed back to the cache on drop.
///
/// # Invariants
///
/// `bytes` is a live object of `cache`, the cache of the borrowed handle
/// (all its object size), made with a constructor if `ctor`, owned only by
/// this value.
pub(crate) struct ScopedObject<'c> {
    cache: NonNull<bindings::kmem_cache>,
    bytes: Bytes,
    ctor: bool,
    _handle: PhantomData<&'c KmemCache>,
}

// SAFETY: the object is plain memory owned by this value, and
// `kmem_cache_free` may run on any CPU; the borrow of the handle (`KmemCache`
// is `Sync`) keeps the cache live wherever the value goes.
unsafe impl Send for ScopedObject<'_> {}
// SAFETY: shared references only allow reads of plain bytes.
unsafe impl Sync for ScopedObject<'_> {}

bytes_allocation! {
    ScopedObject<'_>,
    fn nid(&self) -> i32 {
        // SAFETY: slab objects are live while `self` is, in the linear map.
        unsafe { super::linear_nid(self.bytes.ptr()) }
    }
}

impl Drop for ScopedObject<'_> {
    #[inline]
    fn drop(&mut self) {
        mark(self.ctor, &mut self.bytes);
        // SAFETY: by the type invariant `bytes` is a live object of `cache`,
        // which the borrowed handle keeps live; freed once, here.
        unsafe { bindings::kmem_cache_free(self.cache.as_ptr(), self.bytes.ptr().as_ptr().cast()) };
    }
}

#[cfg(CONFIG_KUNIT)]
#[kernel::macros::kunit_tests(kmemlab_slab)]
mod tests {
    use super::*;
    use crate::alloc::{
        topology::{
            Backing,
            Zone, //
        },
        Allocation,
    };

    fn config(object_size: usize, ctor: bool) -> CacheConfig {
        CacheConfig {
            object_size,
            align: 0,
            hwcache_align: false,
            ctor,
            zone: CacheZone::Any,
        }
    }

    #[test]
    fn objects_are_counted_and_names_unique() -> Result {
        crate::alloc::init();
        let cache = KmemCache::new(b"kunit-count", config(48, false))?;
        assert_eq!(
            KmemCache::new(b"kunit-count", config(48, false)).err(),
            Some(EEXIST)
        );
        let mut a = cache.alloc(Gfp::KERNEL.zeroed(), Node::ANY)?;
        let b = cache.alloc(Gfp::KERNEL.zeroed(), Node::ANY)?;
        assert_eq!(cache.live_objects(), 2);
        assert_eq!(a.as_slice().len(), 48);
        a.as_mut_slice().fill(9);
        drop(a);
        drop(b);
        assert_eq!(cache.live_objects(), 0);
        Ok(())
    }

    #[test]
    fn constructor_marks_objects() -> Result {
        crate::alloc::init();
        let cache = KmemCache::new(b"kunit-ctor", config(16, true))?;
        for _ in 0..8 {
            let mut object = cache.alloc(Gfp::KERNEL, Node::ANY)?;
            assert_eq!(object.as_slice()[..8], CTOR_MAGIC.to_ne_bytes());
            // The rest is zeroed, whatever the last user left there.
            assert!(object.as_slice()[8..].iter().all(|b| *b == 0));
            object.as_mut_slice()[8..].fill(0xaa);
        }
        assert!(cache.alloc(Gfp::KERNEL.zeroed(), Node::ANY).is_err());
        Ok(())
    }

    /// Rounds up what the reaper has been given: the kills' RCU callbacks,
    /// then the queued destructions.
    fn flush_reaper() {
        // SAFETY: no lock is held; waiting for RCU callbacks is allowed here.
        unsafe { bindings::rcu_barrier() };
        let wq = REAPER.load(Acquire);
        if !wq.is_null() {
            // SAFETY: a published reaper is live (see `Reaper::drop`).
            unsafe { bindings::__flush_workqueue(wq) };
        }
    }

    #[test]
    fn an_empty_cache_goes_with_its_handle() -> Result {
        crate::alloc::init();
        let alive = CACHES_ALIVE.load(Acquire);
        let cache = KmemCache::new(b"kunit-at-once", config(32, false))?;
        drop(cache.alloc(Gfp::KERNEL, Node::ANY)?);
        assert_eq!(CACHES_ALIVE.load(Acquire), alive + 1);
        drop(cache);
        // Destroyed by the drop itself: the name is free at once.
        assert_eq!(CACHES_ALIVE.load(Acquire), alive);
        drop(KmemCache::new(b"kunit-at-once", config(32, false))?);
        Ok(())
    }

    #[test]
    fn objects_keep_their_cache_after_the_handle() -> Result {
        crate::alloc::init();
        let alive = CACHES_ALIVE.load(Acquire);
        let cache = KmemCache::new(b"kunit-outlive", config(64, true))?;
        let mut objects = KVec::new();
        for _ in 0..16 {
            objects.push(cache.alloc(Gfp::KERNEL, Node::ANY)?, GFP_KERNEL)?;
        }
        drop(cache);
        flush_reaper();
        // The objects hold the cache: still alive, its name still taken.
        assert_eq!(CACHES_ALIVE.load(Acquire), alive + 1);
        assert_eq!(
            KmemCache::new(b"kunit-outlive", config(64, true)).err(),
            Some(EEXIST)
        );
        for object in objects.iter_mut() {
            assert_eq!(object.as_slice()[..8], CTOR_MAGIC.to_ne_bytes());
            object.as_mut_slice()[8..].fill(0x5a);
        }
        drop(objects);
        // The last free released the cache to the reaper.
        flush_reaper();
        assert_eq!(CACHES_ALIVE.load(Acquire), alive);
        drop(KmemCache::new(b"kunit-outlive", config(64, true))?);
        Ok(())
    }

    #[test]
    fn scoped_objects_borrow_the_handle() -> Result {
        crate::alloc::init();
        let cache = KmemCache::new(b"kunit-scoped", config(24, true))?;
        // A constructor's objects cannot be asked zeroed: refused up front.
        assert_eq!(
            cache.scope(Gfp::KERNEL.zeroed(), Node::ANY).err(),
            Some(EINVAL)
        );
        let scope = cache.scope(Gfp::KERNEL, Node::ANY)?;
        let mut a = scope.alloc()?;
        assert_eq!(a.as_slice()[..8], CTOR_MAGIC.to_ne_bytes());
        assert!(a.as_slice()[8..].iter().all(|b| *b == 0));
        a.as_mut_slice().fill(0x77);
        // Not counted: the borrow, not a count, keeps the cache.
        assert_eq!(cache.live_objects(), 0);
        drop(a);
        let b = scope.alloc()?;
        // Back in its constructed state, then zeroed past the mark.
        assert_eq!(b.as_slice()[..8], CTOR_MAGIC.to_ne_bytes());
        assert!(b.as_slice()[8..].iter().all(|x| *x == 0));
        drop(b);
        // Without a constructor: zeroed whole.
        let plain = KmemCache::new(b"kunit-scoped-plain", config(24, false))?;
        let scope = plain.scope(Gfp::KERNEL, Node::ANY)?;
        let mut c = scope.alloc()?;
        assert!(c.as_slice().iter().all(|x| *x == 0));
        c.as_mut_slice().fill(0x77);
        drop(c);
        assert!(scope.alloc()?.as_slice().iter().all(|x| *x == 0));
        Ok(())
    }

    #[test]
    fn bad_configs_are_refused() {
        crate::alloc::init();
        assert!(KmemCache::new(b"Upper", config(8, false)).is_err());
        assert!(KmemCache::new(b"", config(8, false)).is_err());
        assert!(KmemCache::new(b"kunit-zero", config(0, false)).is_err());
        assert!(KmemCache::new(b"kunit-small-ctor", config(4, true)).is_err());
        let odd_align = CacheConfig {
            align: 3,
            ..config(8, false)
        };
        assert!(KmemCache::new(b"kunit-align", odd_align).is_err());
    }

    #[test]
    fn a_dma_cache_takes_its_slabs_from_its_zone() -> Result {
        crate::alloc::init();
        for (name, zone, want) in [
            (&b"kunit-dma"[..], CacheZone::Dma, Zone::Dma),
            (&b"kunit-dma32"[..], CacheZone::Dma32, Zone::Dma32),
        ] {
            let built = match zone {
                CacheZone::Dma => cfg!(CONFIG_ZONE_DMA),
                _ => cfg!(CONFIG_ZONE_DMA32),
            };
            let config = CacheConfig {
                zone,
                ..config(64, false)
            };
            if !built {
                assert_eq!(KmemCache::new(name, config).err(), Some(EINVAL));
                continue;
            }
            let cache = KmemCache::new(name, config)?;
            let object = cache.alloc(Gfp::KERNEL, Node::ANY)?;
            // DMA32 caches may take DMA pages too (the zone is a ceiling).
            let zone = object.zone();
            assert!(zone == want || (want == Zone::Dma32 && zone == Zone::Dma));
            assert_eq!(object.backing(), Backing::Slab);
        }
        Ok(())
    }

    #[test]
    fn example_kmem_cache() -> Result {
        crate::alloc::init();
        let config = CacheConfig {
            object_size: 200,
            align: 0,
            hwcache_align: false,
            ctor: false,
            zone: CacheZone::Any,
        };
        let cache = KmemCache::new(b"kunit-example", config)?;
        assert_eq!(cache.name(), b"kmemlab-kunit-example");
        let mut object = cache.alloc(Gfp::KERNEL.zeroed(), Node::ANY)?;
        object.as_mut_slice().fill(1);
        assert_eq!(cache.live_objects(), 1);
        drop(object);
        assert_eq!(cache.live_objects(), 0);
        Ok(())
    }
}
