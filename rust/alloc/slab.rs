// SPDX-License-Identifier: GPL-2.0

//! Slab caches: `kmem_cache_create` and friends.
//!
//! C header: [`include/linux/slab.h`](srctree/include/linux/slab.h)
//!
//! The kernel crate has no slab-cache abstraction. [`KmemCache`] owns a cache
//! named `kmemlab-<name>`; every [`CacheObject`] holds a reference to its
//! cache, so no object can outlive the cache it came from and a cache is
//! destroyed only once its last object is gone (destroying a cache with live
//! objects would make the kernel WARN). Caches are created with
//! `SLAB_NO_MERGE`, so each shows under its own name in `/proc/slabinfo` and
//! `/sys/kernel/slab/`, and cache names are kept unique across all files (a
//! duplicate name would confuse `/sys/kernel/slab` and makes the kernel WARN).

use core::ptr::NonNull;

use kernel::{
    bindings,
    prelude::*,
    sync::Arc, //
};

use super::{
    gfp::Gfp,
    percpu::PerCpu,
    topology::Node,
    Allocation,
    Bytes, //
};

extern "C" {
    fn kmemlab_kmem_cache_alloc_node(
        cache: *mut bindings::kmem_cache,
        gfp: bindings::gfp_t,
        node: c_int,
    ) -> *mut c_void;
}

/// Longest user part of a cache name (the cache is `kmemlab-<name>`).
pub(crate) const NAME_MAX: usize = 23;
/// `"kmemlab-"`, the prefix of every cache kmemlab creates.
const PREFIX: &[u8] = b"kmemlab-";
/// A full cache name with its NUL terminator.
type FullName = [u8; PREFIX.len() + NAME_MAX + 1];

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
/// `cache` was returned by `__kmem_cache_create_args` and is destroyed only by
/// `Drop`; `name` (NUL-terminated, registered in [`CACHE_NAMES`]) outlives it.
/// `config.object_size` is at least 8 when `config.ctor` is set.
/// `live` counts, summed over the CPUs, the [`CacheObject`]s allocated from
/// it and not yet freed (a per-CPU counter: one `this_cpu_add` per
/// allocation and per free, no shared atomic),
/// each of which holds an `Arc` to this value.
pub(crate) struct KmemCache {
    cache: NonNull<bindings::kmem_cache>,
    name: KBox<FullName>,
    config: CacheConfig,
    live: PerCpu<u64>,
}

// SAFETY: the slab allocator's cache functions may be called from any thread.
unsafe impl Send for KmemCache {}
// SAFETY: as above; all shared state is in the kernel's cache or atomic.
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

impl KmemCache {
    /// Creates the cache `kmemlab-<name>`.
    ///
    /// `name` is 1 to [`NAME_MAX`] bytes of `[a-z0-9_-]`; a name already in use
    /// is refused with `EEXIST`.
    pub(crate) fn new(name: &[u8], config: CacheConfig) -> Result<Arc<Self>> {
        let valid =
            |c: &u8| c.is_ascii_lowercase() || c.is_ascii_digit() || *c == b'_' || *c == b'-';
        if name.is_empty() || name.len() > NAME_MAX || !name.iter().all(valid) {
            return Err(EINVAL);
        }
        let min_size = if config.ctor { 8 } else { 1 };
        if config.object_size < min_size || config.object_size > OBJECT_MAX {
            return Err(EINVAL);
        }
        if config.align != 0
            && (!config.align.is_power_of_two() || config.align > kernel::page::PAGE_SIZE)
        {
            return Err(EINVAL);
        }
        let mut full: FullName = [0; PREFIX.len() + NAME_MAX + 1];
        full[..PREFIX.len()].copy_from_slice(PREFIX);
        full[PREFIX.len()..PREFIX.len() + name.len()].copy_from_slice(name);

        // Claim the name first: two files racing for it cannot both win.
        {
            let mut names = registry()?;
            if names.iter().any(|n| *n == full) {
                return Err(EEXIST);
            }
            names.push(full, GFP_KERNEL)?;
        }
        let unregister = |full: &FullName| release_name(full);
        // The slab allocator keeps the name pointer, so it lives on the heap
        // as long as the cache.
        let name = match KBox::new(full, GFP_KERNEL) {
            Ok(name) => name,
            Err(e) => {
                unregister(&full);
                return Err(e.into());
            }
        };

        let mut flags: bindings::slab_flags_t = 1 << bindings::_slab_flag_bits__SLAB_NO_MERGE;
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
        // SAFETY: `name` is NUL-terminated and heap-allocated; it is kept with
        // the cache and freed only after `kmem_cache_destroy`. `args` is a
        // valid argument block for the duration of the call.
        let raw = unsafe {
            bindings::__kmem_cache_create_args(
                name.as_ptr().cast(),
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
        let live = match PerCpu::new() {
            Ok(live) => live,
            Err(e) => {
                // SAFETY: `cache` was just created and has no object.
                unsafe { bindings::kmem_cache_destroy(cache.as_ptr()) };
                unregister(&full);
                return Err(e);
            }
        };
        // INVARIANT: `cache` is live and its `name` registered. From here on,
        // dropping the value (even when `Arc::new` fails) destroys the cache
        // and releases the name.
        Ok(Arc::new(
            Self {
                cache,
                name,
                config,
                live,
            },
            GFP_KERNEL,
        )?)
    }

    /// How the cache was configured.
    pub(crate) fn config(&self) -> CacheConfig {
        self.config
    }

    /// The cache's full name (`kmemlab-<name>`), without the NUL.
    pub(crate) fn name(&self) -> &[u8] {
        let full: &[u8] = &self.name[..];
        let len = full.iter().position(|b| *b == 0).unwrap_or(full.len());
        &full[..len]
    }

    /// The raw cache, for the raw-C baseline of the benchmarks (valid while
    /// `self` lives; objects the baseline makes must be freed before that).
    pub(super) fn as_raw(&self) -> *mut bindings::kmem_cache {
        self.cache.as_ptr()
    }

    /// Objects allocated from this cache and not yet freed.
    ///
    /// A sum over the CPUs: exact when nothing allocates from or frees to
    /// the cache meanwhile.
    pub(crate) fn live_objects(&self) -> usize {
        // CAST: the wrapping sum of the per-CPU adds and subtractions is the
        // number of objects, which fits in a `usize`.
        self.live.get().sum() as usize
    }

    /// Allocates one object, on `node` if one is given, initialised: zeroed,
    /// or for a cache with a constructor, the constructor's mark followed by
    /// zeroes (it is lent out as bytes: nothing uninitialised may be read).
    ///
    /// `__GFP_ZERO` is refused (`EINVAL`) for a cache with a constructor, as the
    /// slab allocator forbids it.
    pub(crate) fn alloc(self: &Arc<Self>, gfp: Gfp, node: Node) -> Result<CacheObject> {
        let gfp = match (self.config.ctor, gfp.zero) {
            (true, true) => return Err(EINVAL),
            (true, false) => gfp,
            (false, _) => gfp.zeroed(),
        };
        let cache = self.cache.as_ptr();
        // SAFETY: `cache` is live by the type invariant; `gfp` is a valid mask
        // and `node` is online or `NUMA_NO_NODE`.
        let raw = unsafe { kmemlab_kmem_cache_alloc_node(cache, gfp.raw(), node.raw()) };
        let ptr = NonNull::new(raw.cast::<u8>()).ok_or(ENOMEM)?;
        self.live.get().add_this_cpu(1);
        let size = self.config.object_size;
        if self.config.ctor {
            // The constructor wrote the first eight bytes (`new` keeps such
            // objects at 8 bytes or more); the rest may be uninitialised.
            // SAFETY: `ptr` is a fresh object of `size` bytes, only used
            // here, and `size >= 8` for a cache with a constructor (type
            // invariant).
            unsafe { ptr.add(8).write_bytes(0, size - 8) };
        }
        // SAFETY: `ptr` is a fresh object of `size` bytes, initialised (zeroed
        // by the allocator, or by the constructor and above), that only the
        // new value uses.
        let bytes = unsafe { Bytes::new(ptr, size) };
        // INVARIANT: `bytes` is a fresh object of `self`, counted in `live`.
        Ok(CacheObject {
            cache: self.clone(),
            bytes,
        })
    }
}

impl Drop for KmemCache {
    fn drop(&mut self) {
        // SAFETY: by the type invariant `cache` is live, and no object of it is
        // left: each holds an `Arc` to `self`, which is being dropped.
        unsafe { bindings::kmem_cache_destroy(self.cache.as_ptr()) };
        release_name(&self.name);
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
/// `bytes` is a live object of `cache` (all its `cache.config.object_size`
/// bytes), owned only by this value and counted in `cache.live`.
pub(crate) struct CacheObject {
    cache: Arc<KmemCache>,
    bytes: Bytes,
}

// SAFETY: the object is plain memory owned by this value; slab objects may be
// freed from any context.
unsafe impl Send for CacheObject {}
// SAFETY: shared references only allow reads of plain bytes.
unsafe impl Sync for CacheObject {}

impl Allocation for CacheObject {
    fn as_slice(&self) -> &[u8] {
        self.bytes.as_slice()
    }

    fn as_mut_slice(&mut self) -> &mut [u8] {
        self.bytes.as_mut_slice()
    }

    fn nid(&self) -> i32 {
        // SAFETY: slab objects are live while `self` is, in the linear map.
        unsafe { super::linear_nid(self.bytes.ptr()) }
    }
}

impl Drop for CacheObject {
    fn drop(&mut self) {
        if self.cache.config.ctor {
            // Objects go back in their constructed state, as the slab allocator expects.
            self.bytes.as_mut_slice()[..8].copy_from_slice(&CTOR_MAGIC.to_ne_bytes());
        }
        // SAFETY: by the type invariant `ptr` is a live object of `cache`,
        // freed exactly once, here; `cache` is kept alive by `self.cache`.
        unsafe {
            bindings::kmem_cache_free(self.cache.cache.as_ptr(), self.bytes.ptr().as_ptr().cast())
        };
        self.cache.live.get().add_this_cpu(1u64.wrapping_neg());
    }
}

#[cfg(CONFIG_KUNIT)]
#[kernel::macros::kunit_tests(kmemlab_slab)]
mod tests {
    use super::*;

    fn config(object_size: usize, ctor: bool) -> CacheConfig {
        CacheConfig {
            object_size,
            align: 0,
            hwcache_align: false,
            ctor,
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
    fn example_kmem_cache() -> Result {
        crate::alloc::init();
        let config = CacheConfig {
            object_size: 200,
            align: 0,
            hwcache_align: false,
            ctor: false,
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
