// SPDX-License-Identifier: GPL-2.0

//! `/sys/kernel/debug/kmemlab/`: what the module reports about itself.

use core::fmt;

use kernel::{
    debugfs::{
        Dir,
        File, //
    },
    prelude::*,
    sync::atomic::Relaxed,
};

use crate::alloc::percpu;
use crate::uapi::{
    FEATURE_NAMES,
    KMEMLAB_ABI_VERSION, //
};

/// Writes the `version` file: the ABI version and the features, as a number and by name.
fn write_version(_: &(), f: &mut fmt::Formatter<'_>) -> fmt::Result {
    let features = crate::features();
    writeln!(f, "abi_version: {KMEMLAB_ABI_VERSION}")?;
    writeln!(f, "features: {features:#x}")?;
    write!(f, "feature_names:")?;
    for (_, name) in FEATURE_NAMES.iter().filter(|(bit, _)| features & bit != 0) {
        write!(f, " {name}")?;
    }
    writeln!(f)
}

/// Creates `version` in `dir`.
pub(crate) fn version_file(dir: &Dir) -> impl PinInit<File<()>> + '_ {
    dir.read_callback_file(c"version", (), &write_version)
}

/// Writes the `ioctls` file: the commands each possible CPU has dispatched
/// (kmemlab's static per-CPU variable), one `<cpu> <calls>` line each after
/// a `cpu calls` header, then `total <calls>`.
fn write_ioctls(_: &(), f: &mut fmt::Formatter<'_>) -> fmt::Result {
    let calls = percpu::static_counter();
    writeln!(f, "cpu calls")?;
    for (cpu, value) in calls.iter() {
        writeln!(f, "{cpu} {}", value.load(Relaxed))?;
    }
    writeln!(f, "total {}", calls.sum())
}

/// Creates `ioctls` in `dir`.
pub(crate) fn ioctls_file(dir: &Dir) -> impl PinInit<File<()>> + '_ {
    dir.read_callback_file(c"ioctls", (), &write_ioctls)
}
