// SPDX-License-Identifier: GPL-2.0

//! The `/dev/kmemlab` ioctl ABI, mirrored from `include/uapi/kmemlab.h`.
//!
//! This file is shared, unchanged, by the kernel module and by the userspace
//! `kmemlab` tool (`samples/kmemlab`, through `#[path]`), so it uses `core`
//! only. The C header is the source of truth: the tool's test suite compiles a
//! C program against the header and checks every structure size, field offset
//! and ioctl number listed in [`ABI_STRUCTS`] and [`ABI_IOCTLS`].
//!
//! Structures cross the user boundary as byte arrays produced and consumed by
//! the methods [`abi_struct!`] generates: encoding writes every byte (padding
//! and reserved fields included), so no uninitialised memory can leak.
//!
//! Each side uses part of this file, so both declare it `#[allow(dead_code)]`.

/// A field type that can live in an ABI structure.
pub(crate) trait AbiField: Sized {
    /// Writes `self` in native byte order into `out`, which is exactly as long as `Self`.
    fn put(&self, out: &mut [u8]);
    /// Reads a value from `src`, which is exactly as long as `Self`.
    fn get(src: &[u8]) -> Self;
}

macro_rules! abi_int {
    ($($t:ty),*) => {$(
        impl AbiField for $t {
            fn put(&self, out: &mut [u8]) {
                out.copy_from_slice(&self.to_ne_bytes());
            }
            fn get(src: &[u8]) -> Self {
                let mut raw = [0u8; core::mem::size_of::<$t>()];
                raw.copy_from_slice(src);
                <$t>::from_ne_bytes(raw)
            }
        }
    )*};
}
abi_int!(u32, u64, i32);

impl<const N: usize> AbiField for [u8; N] {
    fn put(&self, out: &mut [u8]) {
        out.copy_from_slice(self);
    }
    fn get(src: &[u8]) -> Self {
        let mut raw = [0u8; N];
        raw.copy_from_slice(src);
        raw
    }
}

/// Layout of one ABI structure: its C name, size and `(field, offset, size)` list.
pub(crate) struct AbiLayout {
    pub(crate) c_name: &'static str,
    pub(crate) size: usize,
    pub(crate) fields: &'static [(&'static str, usize, usize)],
}

/// Declares a `#[repr(C)]` ABI structure with byte-level encode and decode.
macro_rules! abi_struct {
    (
        $(#[$meta:meta])*
        $c_name:literal => struct $name:ident {
            $($(#[$fmeta:meta])* $field:ident: $ty:ty,)*
        }
    ) => {
        $(#[$meta])*
        #[repr(C)]
        #[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
        pub(crate) struct $name {
            $($(#[$fmeta])* pub(crate) $field: $ty,)*
        }

        impl $name {
            /// Size of the C structure in bytes.
            pub(crate) const SIZE: usize = core::mem::size_of::<Self>();

            /// The structure's layout, for the ABI check.
            pub(crate) const LAYOUT: AbiLayout = AbiLayout {
                c_name: $c_name,
                size: Self::SIZE,
                fields: &[$((
                    stringify!($field),
                    core::mem::offset_of!($name, $field),
                    core::mem::size_of::<$ty>(),
                ),)*],
            };

            /// Encodes `self`; every byte of the result is written.
            pub(crate) fn encode(&self) -> [u8; Self::SIZE] {
                let mut out = [0u8; Self::SIZE];
                $(
                    let at = core::mem::offset_of!($name, $field);
                    self.$field.put(&mut out[at..at + core::mem::size_of::<$ty>()]);
                )*
                out
            }

            /// Decodes a structure from its C representation.
            pub(crate) fn decode(raw: &[u8; Self::SIZE]) -> Self {
                Self {
                    $($field: {
                        let at = core::mem::offset_of!($name, $field);
                        <$ty as AbiField>::get(&raw[at..at + core::mem::size_of::<$ty>()])
                    },)*
                }
            }
        }
    };
}

/// `_IOC` direction bits (asm-generic/ioctl.h, as used on x86 and arm64).
const IOC_WRITE: u32 = 1;
const IOC_READ: u32 = 2;

/// Encodes an ioctl number like the C `_IOC()` macro.
const fn ioc(dir: u32, nr: u32, size: usize) -> u32 {
    // CAST: every ABI structure is far below the 14-bit size limit (checked by the ABI test).
    (dir << 30) | ((size as u32) << 16) | (KMEMLAB_IOC_MAGIC << 8) | nr
}

/// `_IOR(KMEMLAB_IOC_MAGIC, nr, T)`: the kernel writes a `T` to userspace.
const fn ior(nr: u32, size: usize) -> u32 {
    ioc(IOC_READ, nr, size)
}

/// `_IOW(KMEMLAB_IOC_MAGIC, nr, T)`: userspace passes a `T` to the kernel.
const fn iow(nr: u32, size: usize) -> u32 {
    ioc(IOC_WRITE, nr, size)
}

/// `_IOWR(KMEMLAB_IOC_MAGIC, nr, T)`: a `T` goes in and comes back updated.
const fn iowr(nr: u32, size: usize) -> u32 {
    ioc(IOC_READ | IOC_WRITE, nr, size)
}

pub(crate) const KMEMLAB_IOC_MAGIC: u32 = 0xBB;
pub(crate) const KMEMLAB_ABI_VERSION: u32 = 3;

pub(crate) const KMEMLAB_FEAT_KMALLOC: u64 = 1 << 0;
pub(crate) const KMEMLAB_FEAT_KMEM_CACHE: u64 = 1 << 1;
pub(crate) const KMEMLAB_FEAT_FREE_PAGES: u64 = 1 << 2;
pub(crate) const KMEMLAB_FEAT_PAGES_NODE: u64 = 1 << 3;
pub(crate) const KMEMLAB_FEAT_VMALLOC: u64 = 1 << 4;
pub(crate) const KMEMLAB_FEAT_DMA_COHERENT: u64 = 1 << 5;
pub(crate) const KMEMLAB_FEAT_IOREMAP: u64 = 1 << 6;
pub(crate) const KMEMLAB_FEAT_PERCPU: u64 = 1 << 7;
pub(crate) const KMEMLAB_FEAT_EDU: u64 = 1 << 8;
pub(crate) const KMEMLAB_FEAT_KVMALLOC: u64 = 1 << 9;
pub(crate) const KMEMLAB_FEAT_MEMPOOL: u64 = 1 << 10;
pub(crate) const KMEMLAB_FEAT_DMA_POOL: u64 = 1 << 11;
pub(crate) const KMEMLAB_FEAT_STATS: u64 = 1 << 16;
pub(crate) const KMEMLAB_FEAT_BENCH: u64 = 1 << 17;
pub(crate) const KMEMLAB_FEAT_LIMITS: u64 = 1 << 18;
pub(crate) const KMEMLAB_FEAT_ZONE_DMA: u64 = 1 << 19;
pub(crate) const KMEMLAB_FEAT_ZONE_DMA32: u64 = 1 << 20;

/// Every feature bit with its name, as the tools and debugfs print it.
pub(crate) const FEATURE_NAMES: &[(u64, &str)] = &[
    (KMEMLAB_FEAT_KMALLOC, "kmalloc"),
    (KMEMLAB_FEAT_KMEM_CACHE, "kmem_cache"),
    (KMEMLAB_FEAT_FREE_PAGES, "free_pages"),
    (KMEMLAB_FEAT_PAGES_NODE, "pages_node"),
    (KMEMLAB_FEAT_VMALLOC, "vmalloc"),
    (KMEMLAB_FEAT_DMA_COHERENT, "dma_coherent"),
    (KMEMLAB_FEAT_IOREMAP, "ioremap"),
    (KMEMLAB_FEAT_PERCPU, "percpu"),
    (KMEMLAB_FEAT_EDU, "edu"),
    (KMEMLAB_FEAT_KVMALLOC, "kvmalloc"),
    (KMEMLAB_FEAT_MEMPOOL, "mempool"),
    (KMEMLAB_FEAT_DMA_POOL, "dma_pool"),
    (KMEMLAB_FEAT_STATS, "stats"),
    (KMEMLAB_FEAT_BENCH, "bench"),
    (KMEMLAB_FEAT_LIMITS, "limits"),
    (KMEMLAB_FEAT_ZONE_DMA, "zone_dma"),
    (KMEMLAB_FEAT_ZONE_DMA32, "zone_dma32"),
];

abi_struct! {
    /// `struct kmemlab_version`: the result of [`KMEMLAB_IOC_VERSION`].
    "kmemlab_version" => struct KmemlabVersion {
        abi_version: u32,
        nr_cpus: u32,
        features: u64,
        nr_nodes: u32,
        reserved: u32,
    }
}

pub(crate) const KMEMLAB_IOC_VERSION: u32 = ior(0x00, KmemlabVersion::SIZE);

abi_struct! {
    /// `struct kmemlab_limits`: the result of [`KMEMLAB_IOC_LIMITS`], what the
    /// loaded module enforces (its quota parameters and size limits).
    "kmemlab_limits" => struct KmemlabLimits {
        max_objects: u64,
        max_bytes: u64,
        kmalloc_max: u64,
        cache_object_max: u64,
        vmalloc_max: u64,
        dma_max: u64,
        edu_dma_max: u64,
        ioremap_max: u64,
        max_order: u32,
        page_size: u32,
        kvmalloc_max: u64,
        kvmalloc_kmalloc_max: u64,
        mempool_reserve_max: u64,
        dma_pool_block_max: u64,
    }
}

pub(crate) const KMEMLAB_IOC_LIMITS: u32 = ior(0x01, KmemlabLimits::SIZE);

pub(crate) const KMEMLAB_KIND_KMALLOC: u32 = 1;
pub(crate) const KMEMLAB_KIND_KMEM_CACHE: u32 = 2;
pub(crate) const KMEMLAB_KIND_FREE_PAGES: u32 = 3;
pub(crate) const KMEMLAB_KIND_PAGES_NODE: u32 = 4;
pub(crate) const KMEMLAB_KIND_VMALLOC: u32 = 5;
pub(crate) const KMEMLAB_KIND_DMA_COHERENT: u32 = 6;
pub(crate) const KMEMLAB_KIND_IOREMAP: u32 = 7;
pub(crate) const KMEMLAB_KIND_PERCPU: u32 = 8;
pub(crate) const KMEMLAB_KIND_KVMALLOC: u32 = 9;
pub(crate) const KMEMLAB_KIND_MEMPOOL: u32 = 10;
pub(crate) const KMEMLAB_KIND_DMA_POOL: u32 = 11;

pub(crate) const KMEMLAB_DEV_FAUX: u32 = 1;
pub(crate) const KMEMLAB_DEV_EDU: u32 = 2;

/// Every DMA device with its name, as the tools print it.
pub(crate) const DEVICE_NAMES: &[(u32, &str)] =
    &[(KMEMLAB_DEV_FAUX, "faux"), (KMEMLAB_DEV_EDU, "edu")];

/// Every allocator kind with its name, as the tools print it.
pub(crate) const KIND_NAMES: &[(u32, &str)] = &[
    (KMEMLAB_KIND_KMALLOC, "kmalloc"),
    (KMEMLAB_KIND_KMEM_CACHE, "kmem_cache"),
    (KMEMLAB_KIND_FREE_PAGES, "free_pages"),
    (KMEMLAB_KIND_PAGES_NODE, "pages_node"),
    (KMEMLAB_KIND_VMALLOC, "vmalloc"),
    (KMEMLAB_KIND_DMA_COHERENT, "dma_coherent"),
    (KMEMLAB_KIND_IOREMAP, "ioremap"),
    (KMEMLAB_KIND_PERCPU, "percpu"),
    (KMEMLAB_KIND_KVMALLOC, "kvmalloc"),
    (KMEMLAB_KIND_MEMPOOL, "mempool"),
    (KMEMLAB_KIND_DMA_POOL, "dma_pool"),
];

pub(crate) const KMEMLAB_GFP_BASE_MASK: u32 = 0x0f;
pub(crate) const KMEMLAB_GFP_KERNEL: u32 = 0x00;
pub(crate) const KMEMLAB_GFP_ATOMIC: u32 = 0x01;
pub(crate) const KMEMLAB_GFP_NOWAIT: u32 = 0x02;
pub(crate) const KMEMLAB_GFP_NOIO: u32 = 0x03;
pub(crate) const KMEMLAB_GFP_NOFS: u32 = 0x04;
pub(crate) const KMEMLAB_GFP_USER: u32 = 0x05;
pub(crate) const KMEMLAB_GFP_HIGHUSER: u32 = 0x06;
pub(crate) const KMEMLAB_GFP_HIGHUSER_MOVABLE: u32 = 0x07;
pub(crate) const KMEMLAB_GFP_ZERO: u32 = 0x10;
pub(crate) const KMEMLAB_GFP_NOWARN: u32 = 0x20;
pub(crate) const KMEMLAB_GFP_ACCOUNT: u32 = 0x40;
pub(crate) const KMEMLAB_GFP_NORETRY: u32 = 0x80;
pub(crate) const KMEMLAB_GFP_DMA: u32 = 0x100;
pub(crate) const KMEMLAB_GFP_DMA32: u32 = 0x200;
pub(crate) const KMEMLAB_GFP_THISNODE: u32 = 0x400;
pub(crate) const KMEMLAB_GFP_RETRY_MAYFAIL: u32 = 0x800;

/// Every GFP base with its name, as the tools print it.
pub(crate) const GFP_BASE_NAMES: &[(u32, &str)] = &[
    (KMEMLAB_GFP_KERNEL, "kernel"),
    (KMEMLAB_GFP_ATOMIC, "atomic"),
    (KMEMLAB_GFP_NOWAIT, "nowait"),
    (KMEMLAB_GFP_NOIO, "noio"),
    (KMEMLAB_GFP_NOFS, "nofs"),
    (KMEMLAB_GFP_USER, "user"),
    (KMEMLAB_GFP_HIGHUSER, "highuser"),
    (KMEMLAB_GFP_HIGHUSER_MOVABLE, "highuser_movable"),
];

/// Every GFP modifier with its name, as the tools print it.
pub(crate) const GFP_MODIFIER_NAMES: &[(u32, &str)] = &[
    (KMEMLAB_GFP_ZERO, "zero"),
    (KMEMLAB_GFP_NOWARN, "nowarn"),
    (KMEMLAB_GFP_ACCOUNT, "account"),
    (KMEMLAB_GFP_NORETRY, "noretry"),
    (KMEMLAB_GFP_DMA, "dma"),
    (KMEMLAB_GFP_DMA32, "dma32"),
    (KMEMLAB_GFP_THISNODE, "thisnode"),
    (KMEMLAB_GFP_RETRY_MAYFAIL, "retry_mayfail"),
];

pub(crate) const KMEMLAB_ZONE_NONE: u32 = 0;
pub(crate) const KMEMLAB_ZONE_DMA: u32 = 1;
pub(crate) const KMEMLAB_ZONE_DMA32: u32 = 2;
pub(crate) const KMEMLAB_ZONE_NORMAL: u32 = 3;
pub(crate) const KMEMLAB_ZONE_HIGHMEM: u32 = 4;
pub(crate) const KMEMLAB_ZONE_MOVABLE: u32 = 5;
pub(crate) const KMEMLAB_ZONE_DEVICE: u32 = 6;

/// Every zone with its name, as the kernel's /proc/zoneinfo spells it.
pub(crate) const ZONE_NAMES: &[(u32, &str)] = &[
    (KMEMLAB_ZONE_NONE, "-"),
    (KMEMLAB_ZONE_DMA, "DMA"),
    (KMEMLAB_ZONE_DMA32, "DMA32"),
    (KMEMLAB_ZONE_NORMAL, "Normal"),
    (KMEMLAB_ZONE_HIGHMEM, "HighMem"),
    (KMEMLAB_ZONE_MOVABLE, "Movable"),
    (KMEMLAB_ZONE_DEVICE, "Device"),
];

pub(crate) const KMEMLAB_BACKING_NONE: u32 = 0;
pub(crate) const KMEMLAB_BACKING_SLAB: u32 = 1;
pub(crate) const KMEMLAB_BACKING_PAGES: u32 = 2;
pub(crate) const KMEMLAB_BACKING_VMALLOC: u32 = 3;

/// Every backing with its name, as the tools print it.
pub(crate) const BACKING_NAMES: &[(u32, &str)] = &[
    (KMEMLAB_BACKING_NONE, "-"),
    (KMEMLAB_BACKING_SLAB, "slab"),
    (KMEMLAB_BACKING_PAGES, "pages"),
    (KMEMLAB_BACKING_VMALLOC, "vmalloc"),
];

pub(crate) const KMEMLAB_NODE_ANY: i32 = -1;
pub(crate) const KMEMLAB_BATCH_MAX: u32 = 1024;
pub(crate) const KMEMLAB_FREE_ALL: u32 = 0x1;

pub(crate) const KMEMLAB_CACHE_NAME_MAX: usize = 24;
pub(crate) const KMEMLAB_CACHE_HWCACHE_ALIGN: u32 = 0x1;
pub(crate) const KMEMLAB_CACHE_CTOR: u32 = 0x2;
pub(crate) const KMEMLAB_CACHE_DMA: u32 = 0x4;
pub(crate) const KMEMLAB_CACHE_DMA32: u32 = 0x8;
pub(crate) const KMEMLAB_CTOR_MAGIC: u64 = 0x6b6d_656d_6c61_6263;

abi_struct! {
    /// `struct kmemlab_alloc`: [`KMEMLAB_IOC_ALLOC`].
    "kmemlab_alloc" => struct KmemlabAlloc {
        kind: u32,
        gfp: u32,
        size: u64,
        order: u32,
        node: i32,
        /// The cache handle, or for DMA_COHERENT the device (a C union of `cache` and `device`).
        cache: u32,
        count: u32,
        handles: u64,
    }
}

abi_struct! {
    /// `struct kmemlab_free`: [`KMEMLAB_IOC_FREE`].
    "kmemlab_free" => struct KmemlabFree {
        flags: u32,
        count: u32,
        handles: u64,
    }
}

abi_struct! {
    /// `struct kmemlab_io`: [`KMEMLAB_IOC_WRITE`], `_READ`, `_FILL`, `_VERIFY`.
    "kmemlab_io" => struct KmemlabIo {
        handle: u32,
        reserved: u32,
        offset: u64,
        len: u64,
        addr: u64,
        result: u64,
    }
}

abi_struct! {
    /// `struct kmemlab_info`: [`KMEMLAB_IOC_INFO`], and the entries of a list.
    "kmemlab_info" => struct KmemlabInfo {
        handle: u32,
        kind: u32,
        size: u64,
        order: u32,
        node: i32,
        nid: i32,
        cpu: u32,
        cache: u32,
        gfp: u32,
        zone: u32,
        backing: u32,
    }
}

abi_struct! {
    /// `struct kmemlab_list`: [`KMEMLAB_IOC_LIST`].
    "kmemlab_list" => struct KmemlabList {
        count: u32,
        reserved: u32,
        infos: u64,
    }
}

abi_struct! {
    /// `struct kmemlab_cache_create`: [`KMEMLAB_IOC_CACHE_CREATE`].
    "kmemlab_cache_create" => struct KmemlabCacheCreate {
        name: [u8; KMEMLAB_CACHE_NAME_MAX],
        object_size: u32,
        align: u32,
        flags: u32,
        handle: u32,
    }
}

abi_struct! {
    /// `struct kmemlab_cache_destroy`: [`KMEMLAB_IOC_CACHE_DESTROY`].
    "kmemlab_cache_destroy" => struct KmemlabCacheDestroy {
        handle: u32,
        reserved: u32,
    }
}

pub(crate) const KMEMLAB_IOREMAP_EDU: u32 = 1;
pub(crate) const KMEMLAB_IOREMAP_PHYS: u32 = 2;
pub(crate) const KMEMLAB_EDU_REGS_SIZE: u64 = 0x80;
pub(crate) const KMEMLAB_IOREMAP_MAX: u64 = 16 << 20;

/// Every ioremap source with its name, as the tools print it.
pub(crate) const IOREMAP_SOURCE_NAMES: &[(u32, &str)] =
    &[(KMEMLAB_IOREMAP_EDU, "edu"), (KMEMLAB_IOREMAP_PHYS, "phys")];

abi_struct! {
    /// `struct kmemlab_ioremap`: [`KMEMLAB_IOC_IOREMAP`].
    "kmemlab_ioremap" => struct KmemlabIoremap {
        source: u32,
        handle: u32,
        phys: u64,
        size: u64,
    }
}

pub(crate) const KMEMLAB_MMIO_READ: u32 = 0;
pub(crate) const KMEMLAB_MMIO_WRITE: u32 = 1;

abi_struct! {
    /// `struct kmemlab_mmio`: [`KMEMLAB_IOC_MMIO`].
    "kmemlab_mmio" => struct KmemlabMmio {
        handle: u32,
        op: u32,
        width: u32,
        reserved: u32,
        offset: u64,
        value: u64,
    }
}

pub(crate) const KMEMLAB_EDU_DMA_MAX: u64 = 4096;

abi_struct! {
    /// `struct kmemlab_dma_copy`: [`KMEMLAB_IOC_DMA_COPY`].
    "kmemlab_dma_copy" => struct KmemlabDmaCopy {
        src: u32,
        dst: u32,
        src_offset: u64,
        dst_offset: u64,
        len: u64,
    }
}

pub(crate) const KMEMLAB_PERCPU_ADD: u32 = 0;
pub(crate) const KMEMLAB_PERCPU_ADD_ON: u32 = 1;
pub(crate) const KMEMLAB_PERCPU_READ: u32 = 2;

abi_struct! {
    /// `struct kmemlab_percpu`: [`KMEMLAB_IOC_PERCPU`].
    "kmemlab_percpu" => struct KmemlabPercpu {
        handle: u32,
        op: u32,
        cpu: u32,
        count: u32,
        value: u64,
        sum: u64,
        values: u64,
    }
}

pub(crate) const KMEMLAB_BENCH_NO_STATS: u32 = 0x1;
pub(crate) const KMEMLAB_BENCH_RAW_C: u32 = 0x2;
pub(crate) const KMEMLAB_BENCH_ALLOC_FREE: u32 = 0;
pub(crate) const KMEMLAB_BENCH_PERCPU_INC: u32 = 1;
pub(crate) const KMEMLAB_BENCH_ATOMIC_INC: u32 = 2;
pub(crate) const KMEMLAB_BENCH_ITERATIONS_MAX: u32 = 1 << 24;

abi_struct! {
    /// `struct kmemlab_bench`: [`KMEMLAB_IOC_BENCH`].
    "kmemlab_bench" => struct KmemlabBench {
        op: u32,
        kind: u32,
        gfp: u32,
        order: u32,
        size: u64,
        node: i32,
        cache: u32,
        flags: u32,
        iterations: u32,
        batch: u32,
        threads: u32,
        reserved: u32,
        cpu: u32,
        ops: u64,
        ns_wall: u64,
        ns_total: u64,
        ns_min: u64,
        ns_median: u64,
        ns_p99: u64,
        cycles_total: u64,
        cycles_min: u64,
        cycles_median: u64,
        cycles_p99: u64,
        reserved2: u64,
    }
}

pub(crate) const KMEMLAB_MEMPOOL_CREATE: u32 = 0;
pub(crate) const KMEMLAB_MEMPOOL_DESTROY: u32 = 1;
pub(crate) const KMEMLAB_MEMPOOL_STATUS: u32 = 2;
pub(crate) const KMEMLAB_MEMPOOL_KMALLOC: u32 = 1;
pub(crate) const KMEMLAB_MEMPOOL_CACHE: u32 = 2;
pub(crate) const KMEMLAB_MEMPOOL_RESERVE_MAX: u32 = 1024;

abi_struct! {
    /// `struct kmemlab_mempool`: [`KMEMLAB_IOC_MEMPOOL`].
    "kmemlab_mempool" => struct KmemlabMempool {
        op: u32,
        handle: u32,
        source: u32,
        cache: u32,
        size: u32,
        min_nr: u32,
        curr_nr: u32,
        live: u32,
    }
}

pub(crate) const KMEMLAB_DMA_POOL_CREATE: u32 = 0;
pub(crate) const KMEMLAB_DMA_POOL_DESTROY: u32 = 1;
pub(crate) const KMEMLAB_DMA_POOL_STATUS: u32 = 2;

abi_struct! {
    /// `struct kmemlab_dma_pool`: [`KMEMLAB_IOC_DMA_POOL`].
    "kmemlab_dma_pool" => struct KmemlabDmaPool {
        name: [u8; KMEMLAB_CACHE_NAME_MAX],
        op: u32,
        handle: u32,
        device: u32,
        size: u32,
        align: u32,
        boundary: u32,
        live: u32,
        reserved: u32,
    }
}

pub(crate) const KMEMLAB_IOC_ALLOC: u32 = iow(0x10, KmemlabAlloc::SIZE);
pub(crate) const KMEMLAB_IOC_FREE: u32 = iow(0x11, KmemlabFree::SIZE);
pub(crate) const KMEMLAB_IOC_WRITE: u32 = iow(0x12, KmemlabIo::SIZE);
pub(crate) const KMEMLAB_IOC_READ: u32 = iow(0x13, KmemlabIo::SIZE);
pub(crate) const KMEMLAB_IOC_FILL: u32 = iow(0x14, KmemlabIo::SIZE);
pub(crate) const KMEMLAB_IOC_VERIFY: u32 = iowr(0x15, KmemlabIo::SIZE);
pub(crate) const KMEMLAB_IOC_INFO: u32 = iowr(0x16, KmemlabInfo::SIZE);
pub(crate) const KMEMLAB_IOC_LIST: u32 = iowr(0x17, KmemlabList::SIZE);
pub(crate) const KMEMLAB_IOC_CACHE_CREATE: u32 = iowr(0x18, KmemlabCacheCreate::SIZE);
pub(crate) const KMEMLAB_IOC_CACHE_DESTROY: u32 = iow(0x19, KmemlabCacheDestroy::SIZE);
pub(crate) const KMEMLAB_IOC_IOREMAP: u32 = iowr(0x1a, KmemlabIoremap::SIZE);
pub(crate) const KMEMLAB_IOC_MMIO: u32 = iowr(0x1b, KmemlabMmio::SIZE);
pub(crate) const KMEMLAB_IOC_DMA_COPY: u32 = iow(0x1c, KmemlabDmaCopy::SIZE);
pub(crate) const KMEMLAB_IOC_PERCPU: u32 = iowr(0x1d, KmemlabPercpu::SIZE);
pub(crate) const KMEMLAB_IOC_BENCH: u32 = iowr(0x1e, KmemlabBench::SIZE);
pub(crate) const KMEMLAB_IOC_MEMPOOL: u32 = iowr(0x1f, KmemlabMempool::SIZE);
pub(crate) const KMEMLAB_IOC_DMA_POOL: u32 = iowr(0x20, KmemlabDmaPool::SIZE);

/// Byte `offset` of an object filled with `seed` (`kmemlab_pattern_byte()` in the header).
pub(crate) fn pattern_byte(seed: u64, offset: u64) -> u8 {
    let mut x = seed.wrapping_add((offset >> 3).wrapping_mul(0x9e37_79b9_7f4a_7c15));
    x = (x ^ (x >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    x ^= x >> 31;
    // CAST: keeps the byte selected by the offset, as the C version does.
    (x >> ((offset & 7) * 8)) as u8
}

/// Every ABI structure, for the ABI check against the C header.
#[cfg(test)]
pub(crate) const ABI_STRUCTS: &[AbiLayout] = &[
    KmemlabVersion::LAYOUT,
    KmemlabLimits::LAYOUT,
    KmemlabAlloc::LAYOUT,
    KmemlabFree::LAYOUT,
    KmemlabIo::LAYOUT,
    KmemlabInfo::LAYOUT,
    KmemlabList::LAYOUT,
    KmemlabCacheCreate::LAYOUT,
    KmemlabCacheDestroy::LAYOUT,
    KmemlabIoremap::LAYOUT,
    KmemlabMmio::LAYOUT,
    KmemlabDmaCopy::LAYOUT,
    KmemlabPercpu::LAYOUT,
    KmemlabBench::LAYOUT,
    KmemlabMempool::LAYOUT,
    KmemlabDmaPool::LAYOUT,
];

/// Every ioctl number with its C macro name, for the ABI check.
#[cfg(test)]
pub(crate) const ABI_IOCTLS: &[(&str, u32)] = &[
    ("KMEMLAB_IOC_VERSION", KMEMLAB_IOC_VERSION),
    ("KMEMLAB_IOC_LIMITS", KMEMLAB_IOC_LIMITS),
    ("KMEMLAB_IOC_ALLOC", KMEMLAB_IOC_ALLOC),
    ("KMEMLAB_IOC_FREE", KMEMLAB_IOC_FREE),
    ("KMEMLAB_IOC_WRITE", KMEMLAB_IOC_WRITE),
    ("KMEMLAB_IOC_READ", KMEMLAB_IOC_READ),
    ("KMEMLAB_IOC_FILL", KMEMLAB_IOC_FILL),
    ("KMEMLAB_IOC_VERIFY", KMEMLAB_IOC_VERIFY),
    ("KMEMLAB_IOC_INFO", KMEMLAB_IOC_INFO),
    ("KMEMLAB_IOC_LIST", KMEMLAB_IOC_LIST),
    ("KMEMLAB_IOC_CACHE_CREATE", KMEMLAB_IOC_CACHE_CREATE),
    ("KMEMLAB_IOC_CACHE_DESTROY", KMEMLAB_IOC_CACHE_DESTROY),
    ("KMEMLAB_IOC_IOREMAP", KMEMLAB_IOC_IOREMAP),
    ("KMEMLAB_IOC_MMIO", KMEMLAB_IOC_MMIO),
    ("KMEMLAB_IOC_DMA_COPY", KMEMLAB_IOC_DMA_COPY),
    ("KMEMLAB_IOC_PERCPU", KMEMLAB_IOC_PERCPU),
    ("KMEMLAB_IOC_BENCH", KMEMLAB_IOC_BENCH),
    ("KMEMLAB_IOC_MEMPOOL", KMEMLAB_IOC_MEMPOOL),
    ("KMEMLAB_IOC_DMA_POOL", KMEMLAB_IOC_DMA_POOL),
];

/// Every other constant of the header with its C name (signed ones as their
/// two's-complement bits), for the ABI check.
#[cfg(test)]
pub(crate) const ABI_CONSTANTS: &[(&str, u64)] = &[
    ("KMEMLAB_IOC_MAGIC", KMEMLAB_IOC_MAGIC as u64),
    ("KMEMLAB_ABI_VERSION", KMEMLAB_ABI_VERSION as u64),
    ("KMEMLAB_FEAT_KMALLOC", KMEMLAB_FEAT_KMALLOC),
    ("KMEMLAB_FEAT_KMEM_CACHE", KMEMLAB_FEAT_KMEM_CACHE),
    ("KMEMLAB_FEAT_FREE_PAGES", KMEMLAB_FEAT_FREE_PAGES),
    ("KMEMLAB_FEAT_PAGES_NODE", KMEMLAB_FEAT_PAGES_NODE),
    ("KMEMLAB_FEAT_VMALLOC", KMEMLAB_FEAT_VMALLOC),
    ("KMEMLAB_FEAT_DMA_COHERENT", KMEMLAB_FEAT_DMA_COHERENT),
    ("KMEMLAB_FEAT_IOREMAP", KMEMLAB_FEAT_IOREMAP),
    ("KMEMLAB_FEAT_PERCPU", KMEMLAB_FEAT_PERCPU),
    ("KMEMLAB_FEAT_STATS", KMEMLAB_FEAT_STATS),
    ("KMEMLAB_FEAT_BENCH", KMEMLAB_FEAT_BENCH),
    ("KMEMLAB_FEAT_LIMITS", KMEMLAB_FEAT_LIMITS),
    ("KMEMLAB_KIND_KMALLOC", KMEMLAB_KIND_KMALLOC as u64),
    ("KMEMLAB_KIND_KMEM_CACHE", KMEMLAB_KIND_KMEM_CACHE as u64),
    ("KMEMLAB_KIND_FREE_PAGES", KMEMLAB_KIND_FREE_PAGES as u64),
    ("KMEMLAB_KIND_PAGES_NODE", KMEMLAB_KIND_PAGES_NODE as u64),
    ("KMEMLAB_KIND_VMALLOC", KMEMLAB_KIND_VMALLOC as u64),
    ("KMEMLAB_GFP_KERNEL", KMEMLAB_GFP_KERNEL as u64),
    ("KMEMLAB_GFP_ATOMIC", KMEMLAB_GFP_ATOMIC as u64),
    ("KMEMLAB_GFP_NOWAIT", KMEMLAB_GFP_NOWAIT as u64),
    ("KMEMLAB_GFP_ZERO", KMEMLAB_GFP_ZERO as u64),
    ("KMEMLAB_GFP_NOWARN", KMEMLAB_GFP_NOWARN as u64),
    ("KMEMLAB_GFP_ACCOUNT", KMEMLAB_GFP_ACCOUNT as u64),
    ("KMEMLAB_GFP_NORETRY", KMEMLAB_GFP_NORETRY as u64),
    ("KMEMLAB_GFP_BASE_MASK", KMEMLAB_GFP_BASE_MASK as u64),
    ("KMEMLAB_GFP_NOIO", KMEMLAB_GFP_NOIO as u64),
    ("KMEMLAB_GFP_NOFS", KMEMLAB_GFP_NOFS as u64),
    ("KMEMLAB_GFP_USER", KMEMLAB_GFP_USER as u64),
    ("KMEMLAB_GFP_HIGHUSER", KMEMLAB_GFP_HIGHUSER as u64),
    (
        "KMEMLAB_GFP_HIGHUSER_MOVABLE",
        KMEMLAB_GFP_HIGHUSER_MOVABLE as u64,
    ),
    ("KMEMLAB_GFP_DMA", KMEMLAB_GFP_DMA as u64),
    ("KMEMLAB_GFP_DMA32", KMEMLAB_GFP_DMA32 as u64),
    ("KMEMLAB_GFP_THISNODE", KMEMLAB_GFP_THISNODE as u64),
    (
        "KMEMLAB_GFP_RETRY_MAYFAIL",
        KMEMLAB_GFP_RETRY_MAYFAIL as u64,
    ),
    ("KMEMLAB_ZONE_NONE", KMEMLAB_ZONE_NONE as u64),
    ("KMEMLAB_ZONE_DMA", KMEMLAB_ZONE_DMA as u64),
    ("KMEMLAB_ZONE_DMA32", KMEMLAB_ZONE_DMA32 as u64),
    ("KMEMLAB_ZONE_NORMAL", KMEMLAB_ZONE_NORMAL as u64),
    ("KMEMLAB_ZONE_HIGHMEM", KMEMLAB_ZONE_HIGHMEM as u64),
    ("KMEMLAB_ZONE_MOVABLE", KMEMLAB_ZONE_MOVABLE as u64),
    ("KMEMLAB_ZONE_DEVICE", KMEMLAB_ZONE_DEVICE as u64),
    ("KMEMLAB_BACKING_NONE", KMEMLAB_BACKING_NONE as u64),
    ("KMEMLAB_BACKING_SLAB", KMEMLAB_BACKING_SLAB as u64),
    ("KMEMLAB_BACKING_PAGES", KMEMLAB_BACKING_PAGES as u64),
    ("KMEMLAB_BACKING_VMALLOC", KMEMLAB_BACKING_VMALLOC as u64),
    ("KMEMLAB_CACHE_DMA", KMEMLAB_CACHE_DMA as u64),
    ("KMEMLAB_CACHE_DMA32", KMEMLAB_CACHE_DMA32 as u64),
    ("KMEMLAB_KIND_KVMALLOC", KMEMLAB_KIND_KVMALLOC as u64),
    ("KMEMLAB_FEAT_KVMALLOC", KMEMLAB_FEAT_KVMALLOC),
    ("KMEMLAB_FEAT_ZONE_DMA", KMEMLAB_FEAT_ZONE_DMA),
    ("KMEMLAB_FEAT_ZONE_DMA32", KMEMLAB_FEAT_ZONE_DMA32),
    ("KMEMLAB_FEAT_MEMPOOL", KMEMLAB_FEAT_MEMPOOL),
    ("KMEMLAB_KIND_MEMPOOL", KMEMLAB_KIND_MEMPOOL as u64),
    ("KMEMLAB_MEMPOOL_CREATE", KMEMLAB_MEMPOOL_CREATE as u64),
    ("KMEMLAB_MEMPOOL_DESTROY", KMEMLAB_MEMPOOL_DESTROY as u64),
    ("KMEMLAB_MEMPOOL_STATUS", KMEMLAB_MEMPOOL_STATUS as u64),
    ("KMEMLAB_MEMPOOL_KMALLOC", KMEMLAB_MEMPOOL_KMALLOC as u64),
    ("KMEMLAB_MEMPOOL_CACHE", KMEMLAB_MEMPOOL_CACHE as u64),
    (
        "KMEMLAB_MEMPOOL_RESERVE_MAX",
        KMEMLAB_MEMPOOL_RESERVE_MAX as u64,
    ),
    ("KMEMLAB_FEAT_DMA_POOL", KMEMLAB_FEAT_DMA_POOL),
    ("KMEMLAB_KIND_DMA_POOL", KMEMLAB_KIND_DMA_POOL as u64),
    ("KMEMLAB_DMA_POOL_CREATE", KMEMLAB_DMA_POOL_CREATE as u64),
    ("KMEMLAB_DMA_POOL_DESTROY", KMEMLAB_DMA_POOL_DESTROY as u64),
    ("KMEMLAB_DMA_POOL_STATUS", KMEMLAB_DMA_POOL_STATUS as u64),
    ("KMEMLAB_NODE_ANY", KMEMLAB_NODE_ANY as u64),
    ("KMEMLAB_BATCH_MAX", KMEMLAB_BATCH_MAX as u64),
    ("KMEMLAB_FREE_ALL", KMEMLAB_FREE_ALL as u64),
    ("KMEMLAB_CACHE_NAME_MAX", KMEMLAB_CACHE_NAME_MAX as u64),
    (
        "KMEMLAB_CACHE_HWCACHE_ALIGN",
        KMEMLAB_CACHE_HWCACHE_ALIGN as u64,
    ),
    ("KMEMLAB_CACHE_CTOR", KMEMLAB_CACHE_CTOR as u64),
    ("KMEMLAB_CTOR_MAGIC", KMEMLAB_CTOR_MAGIC),
    ("KMEMLAB_FEAT_EDU", KMEMLAB_FEAT_EDU),
    (
        "KMEMLAB_KIND_DMA_COHERENT",
        KMEMLAB_KIND_DMA_COHERENT as u64,
    ),
    ("KMEMLAB_KIND_IOREMAP", KMEMLAB_KIND_IOREMAP as u64),
    ("KMEMLAB_KIND_PERCPU", KMEMLAB_KIND_PERCPU as u64),
    ("KMEMLAB_DEV_FAUX", KMEMLAB_DEV_FAUX as u64),
    ("KMEMLAB_DEV_EDU", KMEMLAB_DEV_EDU as u64),
    ("KMEMLAB_IOREMAP_EDU", KMEMLAB_IOREMAP_EDU as u64),
    ("KMEMLAB_IOREMAP_PHYS", KMEMLAB_IOREMAP_PHYS as u64),
    ("KMEMLAB_EDU_REGS_SIZE", KMEMLAB_EDU_REGS_SIZE),
    ("KMEMLAB_IOREMAP_MAX", KMEMLAB_IOREMAP_MAX),
    ("KMEMLAB_MMIO_READ", KMEMLAB_MMIO_READ as u64),
    ("KMEMLAB_MMIO_WRITE", KMEMLAB_MMIO_WRITE as u64),
    ("KMEMLAB_EDU_DMA_MAX", KMEMLAB_EDU_DMA_MAX),
    ("KMEMLAB_PERCPU_ADD", KMEMLAB_PERCPU_ADD as u64),
    ("KMEMLAB_PERCPU_ADD_ON", KMEMLAB_PERCPU_ADD_ON as u64),
    ("KMEMLAB_PERCPU_READ", KMEMLAB_PERCPU_READ as u64),
    ("KMEMLAB_BENCH_NO_STATS", KMEMLAB_BENCH_NO_STATS as u64),
    ("KMEMLAB_BENCH_RAW_C", KMEMLAB_BENCH_RAW_C as u64),
    ("KMEMLAB_BENCH_ALLOC_FREE", KMEMLAB_BENCH_ALLOC_FREE as u64),
    ("KMEMLAB_BENCH_PERCPU_INC", KMEMLAB_BENCH_PERCPU_INC as u64),
    ("KMEMLAB_BENCH_ATOMIC_INC", KMEMLAB_BENCH_ATOMIC_INC as u64),
    (
        "KMEMLAB_BENCH_ITERATIONS_MAX",
        KMEMLAB_BENCH_ITERATIONS_MAX as u64,
    ),
];
