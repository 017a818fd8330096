// SPDX-License-Identifier: GPL-2.0

//! Decoding of `/dev/kmemlab` ioctls: one table maps each command number to its handler.
//!
//! A command number encodes its argument's size and direction, so matching the
//! whole number also validates the size userspace compiled against. Anything
//! not in the table is `ENOTTY`.

use kernel::{
    prelude::*,
    uaccess::{
        UserPtr,
        UserSlice, //
    }, //
};

use crate::{
    alloc::topology,
    file::KmemlabFile,
    uapi::*, //
};

/// An ioctl handler: the calling file's state and the raw user argument.
type Handler = fn(&KmemlabFile, usize) -> Result<isize>;

/// One supported command.
struct Command {
    cmd: u32,
    run: Handler,
}

/// Every command the module answers.
const COMMANDS: &[Command] = &[Command {
    cmd: KMEMLAB_IOC_VERSION,
    run: version,
}];

/// Runs the handler for `cmd`, or fails with `ENOTTY` when there is none.
pub(crate) fn dispatch(file: &KmemlabFile, cmd: u32, arg: usize) -> Result<isize> {
    let command = COMMANDS.iter().find(|c| c.cmd == cmd).ok_or(ENOTTY)?;
    (command.run)(file, arg)
}

/// Copies an encoded ABI structure to the user pointer `arg`.
fn copy_out<const N: usize>(arg: usize, bytes: &[u8; N]) -> Result<isize> {
    UserSlice::new(UserPtr::from_addr(arg), N)
        .writer()
        .write_slice(bytes)?;
    Ok(0)
}

/// `KMEMLAB_IOC_VERSION`: ABI version, supported features and the topology seen.
fn version(_file: &KmemlabFile, arg: usize) -> Result<isize> {
    let reply = KmemlabVersion {
        abi_version: KMEMLAB_ABI_VERSION,
        nr_cpus: topology::online_cpus(),
        features: crate::SUPPORTED_FEATURES,
        nr_nodes: topology::online_nodes(),
        reserved: 0,
    };
    copy_out(arg, &reply.encode())
}
