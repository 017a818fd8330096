// SPDX-License-Identifier: GPL-2.0

//! The owners of kmemlab's allocations, listed so every live allocation can
//! be found (debugfs `objects`).
//!
//! Each open `/dev/kmemlab` owns allocations; it registers here when opened
//! and unregisters when released. Listing takes a reference on each owner
//! under the registry's lock, then lets go of it before each owner is asked
//! to describe itself.

use kernel::{
    prelude::*,
    sync::{
        Arc,
        GlobalGuard, //
    },
};

/// One live allocation, as an owner describes it: numbers only, never an
/// address.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct Row {
    pub(crate) pid: i32,
    pub(crate) handle: u32,
    pub(crate) kind: u32,
    pub(crate) size: u64,
    pub(crate) order: u32,
    pub(crate) node: i32,
    pub(crate) nid: i32,
    pub(crate) cpu: u32,
    /// The zone, as the ABI numbers it (`KMEMLAB_ZONE_*`).
    pub(crate) zone: u32,
    /// What served the memory, as the ABI numbers it (`KMEMLAB_BACKING_*`).
    pub(crate) backing: u32,
}

/// A slab cache an owner holds: its name, object size and live objects.
pub(crate) struct CacheRow<'a> {
    pub(crate) name: &'a [u8],
    pub(crate) object_size: usize,
    pub(crate) live: usize,
}

/// Something that owns allocations.
pub(crate) trait Owner: Send + Sync {
    /// Calls `f` with each live allocation, in a stable order.
    fn list(&self, f: &mut dyn FnMut(&Row));

    /// Calls `f` with each slab cache it holds.
    fn list_caches(&self, f: &mut dyn FnMut(&CacheRow<'_>));
}

/// A registered owner and the number it was registered under.
struct Entry {
    id: u64,
    owner: Arc<dyn Owner>,
}

/// The registry: owners in registration order, and the last number given.
struct Owners {
    entries: KVec<Entry>,
    last_id: u64,
}

kernel::sync::global_lock! {
    // SAFETY: `super::init` initialises it exactly once, and `owners`
    // refuses to lock it before that has completed.
    unsafe(uninit) static OWNERS: Mutex<Owners> = Owners { entries: KVec::new(), last_id: 0 };
}

/// Initialises the registry's lock.
///
/// # Safety
///
/// Called once, by `super::init`, before any `owners()` call.
pub(super) unsafe fn init_lock() {
    // SAFETY: guaranteed by the caller.
    unsafe { OWNERS.init() };
}

fn owners() -> Result<GlobalGuard<OWNERS>> {
    super::ready()?;
    Ok(OWNERS.lock())
}

/// An owner's place in the registry; dropping it unregisters the owner.
pub(crate) struct Registration(u64);

/// Registers `owner`.
pub(crate) fn register(owner: Arc<dyn Owner>) -> Result<Registration> {
    let mut owners = owners()?;
    let id = owners.last_id + 1;
    owners.entries.push(Entry { id, owner }, GFP_KERNEL)?;
    owners.last_id = id;
    Ok(Registration(id))
}

impl Drop for Registration {
    fn drop(&mut self) {
        // A registration exists only once the registry is ready.
        let removed = owners().ok().and_then(|mut owners| {
            let i = owners.entries.iter().position(|e| e.id == self.0)?;
            let entry = owners.entries.remove(i).ok();
            // The registry is a static: give its buffer back when empty, so
            // nothing of it outlives the module.
            if owners.entries.is_empty() {
                owners.entries = KVec::new();
            }
            entry
        });
        // The owner (and what it owns) may go here, without the lock held.
        drop(removed);
    }
}

/// Calls `f` with every owner, in the order they registered.
///
/// The registry's lock is held only to take a reference on each owner, so
/// an owner that is slow to describe itself (its own lock held across a
/// user copy) does not hold up opening or closing other files.
pub(crate) fn for_each(f: &mut dyn FnMut(&dyn Owner)) {
    let owners: Option<KVec<Arc<dyn Owner>>> = owners().ok().and_then(|owners| {
        let mut all = KVec::with_capacity(owners.entries.len(), GFP_KERNEL).ok()?;
        for entry in owners.entries.iter() {
            all.push(entry.owner.clone(), GFP_KERNEL).ok()?;
        }
        Some(all)
    });
    for owner in owners.iter().flatten() {
        f(&**owner);
    }
}
