// SPDX-License-Identifier: GPL-2.0

//! An open `/dev/kmemlab`: the state one file descriptor owns.

use kernel::{
    fs::File,
    miscdevice::{
        MiscDevice,
        MiscDeviceRegistration, //
    },
    new_mutex,
    prelude::*,
    sync::Mutex,
};

use crate::{
    ioctl,
    object::Table, //
};

/// The per-open-file state of `/dev/kmemlab`.
///
/// Every allocation and cache the file makes is owned by its [`Table`], so
/// closing the file releases everything it holds.
#[pin_data]
pub(crate) struct KmemlabFile {
    #[pin]
    pub(crate) table: Mutex<Table>,
}

#[vtable]
impl MiscDevice for KmemlabFile {
    type Ptr = Pin<KBox<Self>>;

    fn open(_file: &File, _misc: &MiscDeviceRegistration<Self>) -> Result<Pin<KBox<Self>>> {
        KBox::try_pin_init(
            try_pin_init!(KmemlabFile {
                table <- new_mutex!(Table::new()),
            }),
            GFP_KERNEL,
        )
    }

    fn ioctl(me: Pin<&KmemlabFile>, _file: &File, cmd: u32, arg: usize) -> Result<isize> {
        ioctl::dispatch(&me, cmd, arg)
    }
}
