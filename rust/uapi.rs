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
abi_int!(u32, u64);

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
#[allow(dead_code)] // Read by the userspace ABI test only.
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
            #[allow(dead_code)]
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
const IOC_NONE: u32 = 0;
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
#[allow(dead_code)]
const fn iow(nr: u32, size: usize) -> u32 {
    ioc(IOC_WRITE, nr, size)
}

/// `_IOWR(KMEMLAB_IOC_MAGIC, nr, T)`: a `T` goes in and comes back updated.
#[allow(dead_code)]
const fn iowr(nr: u32, size: usize) -> u32 {
    ioc(IOC_READ | IOC_WRITE, nr, size)
}

/// `_IO(KMEMLAB_IOC_MAGIC, nr)`: no argument.
#[allow(dead_code)]
const fn io(nr: u32) -> u32 {
    ioc(IOC_NONE, nr, 0)
}

pub(crate) const KMEMLAB_IOC_MAGIC: u32 = 0xBB;
pub(crate) const KMEMLAB_ABI_VERSION: u32 = 1;

pub(crate) const KMEMLAB_FEAT_KMALLOC: u64 = 1 << 0;
pub(crate) const KMEMLAB_FEAT_KMEM_CACHE: u64 = 1 << 1;
pub(crate) const KMEMLAB_FEAT_FREE_PAGES: u64 = 1 << 2;
pub(crate) const KMEMLAB_FEAT_PAGES_NODE: u64 = 1 << 3;
pub(crate) const KMEMLAB_FEAT_VMALLOC: u64 = 1 << 4;
pub(crate) const KMEMLAB_FEAT_DMA_COHERENT: u64 = 1 << 5;
pub(crate) const KMEMLAB_FEAT_IOREMAP: u64 = 1 << 6;
pub(crate) const KMEMLAB_FEAT_PERCPU: u64 = 1 << 7;
pub(crate) const KMEMLAB_FEAT_STATS: u64 = 1 << 16;
pub(crate) const KMEMLAB_FEAT_BENCH: u64 = 1 << 17;

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
    (KMEMLAB_FEAT_STATS, "stats"),
    (KMEMLAB_FEAT_BENCH, "bench"),
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

/// Every ABI structure, for the ABI check against the C header.
#[allow(dead_code)]
pub(crate) const ABI_STRUCTS: &[AbiLayout] = &[KmemlabVersion::LAYOUT];

/// Every ioctl number with its C macro name, for the ABI check.
#[allow(dead_code)]
pub(crate) const ABI_IOCTLS: &[(&str, u32)] = &[("KMEMLAB_IOC_VERSION", KMEMLAB_IOC_VERSION)];
