// SPDX-License-Identifier: GPL-2.0

//! Safe abstractions over the kernel's memory-allocation interfaces.
//!
//! One file per C interface. These files (and `rust/shim.c`) are the only
//! places in kmemlab that use `unsafe`; everything above them composes safe
//! types. The abstractions know nothing of ioctls, statistics or debugfs.

pub(crate) mod gfp;
pub(crate) mod kmalloc;
pub(crate) mod pages;
pub(crate) mod slab;
pub(crate) mod topology;
pub(crate) mod vmalloc;
