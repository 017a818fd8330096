// SPDX-License-Identifier: GPL-2.0

//! An open `/dev/kmemlab`: the state one file descriptor owns.

use kernel::{
    fs::File,
    miscdevice::{
        MiscDevice,
        MiscDeviceRegistration, //
    },
    prelude::*,
};

use crate::ioctl;

/// The per-open-file state of `/dev/kmemlab`.
///
/// Every allocation a file makes will be owned here, so closing the file
/// releases everything it holds.
pub(crate) struct KmemlabFile {}

#[vtable]
impl MiscDevice for KmemlabFile {
    type Ptr = KBox<Self>;

    fn open(_file: &File, _misc: &MiscDeviceRegistration<Self>) -> Result<KBox<Self>> {
        Ok(KBox::new(KmemlabFile {}, GFP_KERNEL)?)
    }

    fn ioctl(me: &KmemlabFile, _file: &File, cmd: u32, arg: usize) -> Result<isize> {
        ioctl::dispatch(me, cmd, arg)
    }
}
