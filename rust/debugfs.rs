// SPDX-License-Identifier: GPL-2.0

//! `/sys/kernel/debug/kmemlab/`: what the module reports about itself.

use core::fmt;

use kernel::{
    debugfs::{
        Dir,
        File, //
    },
    prelude::*,
};

use crate::uapi::{
    FEATURE_NAMES,
    KMEMLAB_ABI_VERSION, //
};

/// Writes the `version` file: the ABI version and the features, as a number and by name.
fn write_version(features: &u64, f: &mut fmt::Formatter<'_>) -> fmt::Result {
    writeln!(f, "abi_version: {KMEMLAB_ABI_VERSION}")?;
    writeln!(f, "features: {features:#x}")?;
    write!(f, "feature_names:")?;
    for (_, name) in FEATURE_NAMES.iter().filter(|(bit, _)| features & bit != 0) {
        write!(f, " {name}")?;
    }
    writeln!(f)
}

/// Creates `version` in `dir`, reporting `features`.
pub(crate) fn version_file(dir: &Dir, features: u64) -> impl PinInit<File<u64>> + '_ {
    dir.read_callback_file(c"version", features, &write_version)
}
