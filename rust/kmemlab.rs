// SPDX-License-Identifier: GPL-2.0

//! kmemlab: the Linux kernel's memory allocators, wrapped in safe Rust and
//! driven from userspace through `/dev/kmemlab`.
//!
//! The crate root holds the module state: the misc device and the debugfs
//! directory. Data flows one way: ioctl decode ([`ioctl`]) -> per-file state
//! ([`file`]) -> allocator abstractions ([`alloc`]) -> kernel.

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
mod debugfs;
mod file;
mod ioctl;
mod object;
// Shared with the userspace tool, which uses other parts of it.
#[allow(dead_code)]
mod uapi;

use file::KmemlabFile;

/// Features of this build, as `KMEMLAB_FEAT_*` bits reported by `KMEMLAB_IOC_VERSION`.
pub(crate) const SUPPORTED_FEATURES: u64 = uapi::KMEMLAB_FEAT_KMALLOC
    | uapi::KMEMLAB_FEAT_KMEM_CACHE
    | uapi::KMEMLAB_FEAT_FREE_PAGES
    | uapi::KMEMLAB_FEAT_PAGES_NODE
    | uapi::KMEMLAB_FEAT_VMALLOC;

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
/// file can be opened while the rest is torn down.
#[pin_data]
struct Kmemlab {
    #[pin]
    _misc: MiscDeviceRegistration<KmemlabFile>,
    #[pin]
    _version: File<u64>,
    _debugfs: Dir,
}

impl kernel::InPlaceModule for Kmemlab {
    fn init(_module: &'static ThisModule) -> impl PinInit<Self, Error> {
        alloc::slab::init_registry();
        let dir = Dir::new(c"kmemlab");
        try_pin_init!(Self {
            _misc <- MiscDeviceRegistration::register(MiscDeviceOptions {
                name: c"kmemlab",
            }),
            _version <- debugfs::version_file(&dir, SUPPORTED_FEATURES),
            _debugfs: dir,
        })
    }
}
