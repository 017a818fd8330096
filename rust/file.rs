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
    sync::{
        Arc,
        Mutex, //
    },
};

use crate::{
    alloc::owners::{
        self,
        CacheRow,
        Owner,
        Registration,
        Row, //
    },
    ioctl,
    object::Table, //
};

/// What an open file owns: its table of objects and caches, and the pid of
/// the process that opened it.
///
/// Every allocation and cache the file makes is owned by its [`Table`], so
/// releasing the file releases everything it holds.
#[pin_data]
pub(crate) struct FileState {
    pid: i32,
    #[pin]
    pub(crate) table: Mutex<Table>,
}

impl Owner for FileState {
    fn list(&self, f: &mut dyn FnMut(&Row)) {
        let table = self.table.lock();
        for object in table.objects() {
            let info = object.info();
            f(&Row {
                pid: self.pid,
                handle: info.handle,
                kind: info.kind,
                size: info.size,
                order: info.order,
                node: info.node,
                nid: info.nid,
                cpu: info.cpu,
                zone: info.zone,
                backing: info.backing,
            });
        }
    }

    fn list_caches(&self, f: &mut dyn FnMut(&CacheRow<'_>)) {
        let table = self.table.lock();
        for cache in table.caches() {
            f(&CacheRow {
                name: cache.name(),
                object_size: cache.config().object_size,
                live: cache.live_objects(),
            });
        }
    }
}

/// The per-open-file state of `/dev/kmemlab`, listed in the owners'
/// registry while the file is open.
pub(crate) struct KmemlabFile {
    state: Arc<FileState>,
    /// Dropped last: the registry's reference goes, and with it the table.
    _registration: Registration,
}

#[vtable]
impl MiscDevice for KmemlabFile {
    type Ptr = Pin<KBox<Self>>;

    fn open(_file: &File, _misc: &MiscDeviceRegistration<Self>) -> Result<Pin<KBox<Self>>> {
        let state = Arc::pin_init(
            try_pin_init!(FileState {
                pid: kernel::current!().tgid(),
                table <- new_mutex!(Table::new()),
            }),
            GFP_KERNEL,
        )?;
        let registration = owners::register(state.clone())?;
        KBox::pin(
            KmemlabFile {
                state,
                _registration: registration,
            },
            GFP_KERNEL,
        )
        .map_err(Into::into)
    }

    fn ioctl(me: Pin<&KmemlabFile>, _file: &File, cmd: u32, arg: usize) -> Result<isize> {
        ioctl::dispatch(&me.state, cmd, arg)
    }
}
