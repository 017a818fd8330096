// SPDX-License-Identifier: GPL-2.0

//! kmemlab: the Linux kernel's memory allocators, wrapped in safe Rust and
//! driven from userspace through `/dev/kmemlab`.
//!
//! The crate root holds the module state: the misc device and the debugfs
//! directory. Data flows one way: ioctl decode ([`ioctl`]) -> per-file state
//! ([`file`]) -> objects ([`object`]) -> allocator kinds ([`kinds`]) ->
//! allocator abstractions ([`alloc`]) -> kernel.

use kernel::{
    debugfs::{
        Dir,
        File, //
    },
    miscdevice::{
        MiscDeviceOptions,
        MiscDeviceRegistration, //
    },
    prelude::*,
};

mod alloc;
mod bench;
mod debugfs;
mod file;
mod ioctl;
mod kinds;
mod object;
mod stats;
// Shared with the userspace tool, which uses other parts of it.
#[allow(dead_code)]
mod uapi;

use alloc::{
    dma::FauxDma,
    edu::EduRegistration, //
};
use file::KmemlabFile;

/// Features of this build, as `KMEMLAB_FEAT_*` bits.
const SUPPORTED_FEATURES: u64 = uapi::KMEMLAB_FEAT_KMALLOC
    | uapi::KMEMLAB_FEAT_KMEM_CACHE
    | uapi::KMEMLAB_FEAT_FREE_PAGES
    | uapi::KMEMLAB_FEAT_PAGES_NODE
    | uapi::KMEMLAB_FEAT_VMALLOC
    | uapi::KMEMLAB_FEAT_DMA_COHERENT
    | uapi::KMEMLAB_FEAT_IOREMAP
    | uapi::KMEMLAB_FEAT_PERCPU
    | uapi::KMEMLAB_FEAT_STATS
    | uapi::KMEMLAB_FEAT_BENCH
    | uapi::KMEMLAB_FEAT_LIMITS
    | uapi::KMEMLAB_FEAT_KVMALLOC
    | uapi::KMEMLAB_FEAT_MEMPOOL
    | uapi::KMEMLAB_FEAT_DMA_POOL
    | zone_features();

/// `KMEMLAB_FEAT_ZONE_DMA` and `_DMA32` for the zones this kernel has.
const fn zone_features() -> u64 {
    let mut f = 0;
    if cfg!(CONFIG_ZONE_DMA) {
        f |= uapi::KMEMLAB_FEAT_ZONE_DMA;
    }
    if cfg!(CONFIG_ZONE_DMA32) {
        f |= uapi::KMEMLAB_FEAT_ZONE_DMA32;
    }
    f
}

/// The features available right now, as `KMEMLAB_IOC_VERSION` reports them:
/// those of the build, and `KMEMLAB_FEAT_EDU` while the edu device is bound.
pub(crate) fn features() -> u64 {
    let edu = if alloc::edu::bound() {
        uapi::KMEMLAB_FEAT_EDU
    } else {
        0
    };
    SUPPORTED_FEATURES | edu
}

module! {
    type: Kmemlab,
    name: "kmemlab",
    authors: ["kmemlab developers"],
    description: "Kernel memory allocators in safe Rust, exercised from userspace",
    license: "GPL",
    params: {
        max_objects: u64 {
            default: 65536,
            description: "Most objects one open /dev/kmemlab may hold",
        },
        max_bytes: u64 {
            default: 268435456,
            description: "Most bytes of allocations one open /dev/kmemlab may hold",
        },
    },
}

/// The loaded module.
///
/// Fields drop in declaration order: the misc device goes first, so no new
/// file can be opened while the rest is torn down (and, since an open file
/// holds the module, every file is closed by then), then the devices, and
/// last the slab caches' reaper.
#[pin_data]
struct Kmemlab {
    #[pin]
    _misc: MiscDeviceRegistration<KmemlabFile>,
    #[pin]
    _edu: EduRegistration,
    _faux: FauxDma,
    #[pin]
    _version: File<()>,
    #[pin]
    _ioctls: File<()>,
    #[pin]
    _stats: debugfs::StatsFiles,
    _debugfs: Dir,
    /// Last: every cache is gone by now; waits for their destruction.
    _reaper: alloc::slab::Reaper,
}

impl kernel::InPlaceModule for Kmemlab {
    fn init(module: &'static ThisModule) -> impl PinInit<Self, Error> {
        alloc::init();
        let dir = Dir::new(c"kmemlab");
        try_pin_init!(Self {
            _faux: FauxDma::new()?,
            _edu <- EduRegistration::new(c"kmemlab-edu", module),
            _misc <- MiscDeviceRegistration::register(MiscDeviceOptions {
                name: c"kmemlab",
            }),
            _version <- debugfs::version_file(&dir),
            _ioctls <- debugfs::ioctls_file(&dir),
            _stats <- debugfs::stats_files(&dir),
            _debugfs: dir,
            _reaper: alloc::slab::Reaper::new(),
        })
    }
}
