// SPDX-License-Identifier: GPL-2.0

//! The devices kmemlab allocates for, and the device memory it holds for
//! them, revoked when a device unbinds.
//!
//! C header: [`include/linux/device.h`](srctree/include/linux/device.h)
//!
//! The kernel crate proves that a device is bound with a `&Device<Bound>`,
//! which only lives inside the driver's callbacks. kmemlab allocates from
//! ioctls, at any time, so each binding of a device (probe to unbind, or the
//! life of kmemlab's faux device) is a [`Binding`], published in one registry
//! ([`publish`], [`current`]) while it lasts. Device memory made for a
//! binding (coherent DMA buffers, register mappings) is *owned by the
//! binding*: the objects that asked for it hold a [`Lease`], a name for it,
//! and reach the memory only through the binding's lock. Unbinding
//! ([`Binding::revoke`]) frees every piece the binding still holds, while the
//! device is still bound, without waiting for anyone to give it back; a
//! lease whose memory is gone answers `ENODEV`, and dropping it is still fine.
//!
//! Work that uses the device without leasing memory for long (a benchmark
//! run allocating and freeing through the C API) holds a [`Use`]: unbinding
//! asks every use to stop ([`Use::stopping`], polled between steps) and waits
//! until they have, which takes at most one step of each.

use core::ptr::NonNull;

use kernel::{
    device::{
        self,
        Bound, //
    },
    dma::{
        Coherent,
        DmaAddress, //
    },
    new_mutex,
    prelude::*,
    sync::{
        aref::ARef,
        atomic::{
            Acquire,
            Atomic,
            Full,
            Release, //
        },
        Arc,
        GlobalGuard,
        Mutex, //
    },
    time::{
        delay::fsleep,
        Delta, //
    },
};

use super::{
    dmapool::{
        RawBlock,
        RawPool, //
    },
    iomem::IoMapping,
};

/// A device kmemlab allocates coherent buffers for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum DmaDevice {
    /// kmemlab's faux device: 64-bit coherent mask, no DMA engine.
    Faux,
    /// QEMU's edu device: 28-bit DMA mask and a DMA engine.
    Edu,
}

/// Device memory a binding holds for a lease.
pub(crate) enum Resource {
    /// A coherent DMA buffer.
    Coherent(Coherent<[u8]>),
    /// A mapping of the device's registers.
    Regs(IoMapping),
    /// A DMA pool (its blocks are leased after it, and freed before it),
    /// held to be destroyed when dropped.
    Pool(#[expect(dead_code, reason = "held for its drop")] RawPool),
    /// A block of a DMA pool of the same binding.
    Block(RawBlock),
}

/// What a binding holds, under its lock.
struct Slots {
    /// Cleared, for good, by [`Binding::revoke`].
    bound: bool,
    /// The last lease id given out.
    last: u64,
    /// The leased resources, in increasing id order.
    items: KVec<(u64, Resource)>,
}

impl Slots {
    fn index(&self, id: u64) -> Result<usize> {
        self.items
            .binary_search_by_key(&id, |(i, _)| *i)
            .map_err(|_| ENODEV)
    }
}

/// One binding of a device to its driver.
///
/// # Examples
///
/// ```ignore
/// let faux = FauxDma::unpublished(c"kmemlab-kunit")?;
/// let binding = faux.binding().clone();
/// // SAFETY: `buffer` allocates for the device it is given.
/// let kept = unsafe { binding.lease(buffer)? };
/// let user = binding.start_use()?;
/// assert!(!user.stopping());
/// drop(user);
/// // Unbinding does not wait for `kept` to be given back.
/// // SAFETY: the faux device is bound while `faux` lives, and has no DMA engine.
/// unsafe { binding.revoke() };
/// assert_eq!(kept.with(|_| ()).err(), Some(ENODEV));
/// drop(kept);
/// ```
///
/// Compiled and run (at more length) as the KUnit case
/// `kmemlab_device::revoking_frees_what_is_leased_and_refuses_more`.
///
/// # Invariants
///
/// While `slots.bound` is true, `dev` is bound to its driver: the driver
/// calls [`Binding::revoke`], which clears it under the lock, before its
/// unbind returns. Every resource in `slots.items` was made for `dev` and
/// is freed under the lock (on lease drop) or by `revoke` while `dev` is
/// bound; `revoke` frees the newest first, so a resource that needs an
/// older one (a pool's block, its pool) goes before it.
/// While a [`Use`] handed out lives, `dev` is bound too: [`Binding::revoke`]
/// waits for `users` to reach zero first.
#[pin_data]
pub(crate) struct Binding {
    dev: ARef<device::Device>,
    mask: u64,
    #[pin]
    slots: Mutex<Slots>,
    users: Atomic<usize>,
    stopping: Atomic<bool>,
}

impl Binding {
    /// A binding of `dev`, whose coherent DMA mask is `mask`.
    ///
    /// # Safety
    ///
    /// The caller calls [`Binding::revoke`] on the result before `dev`
    /// unbinds, and the result is used for no other device.
    pub(crate) unsafe fn new(dev: &device::Device<Bound>, mask: u64) -> Result<Arc<Self>> {
        // INVARIANT: `dev` is bound now and, by the safety requirement, until
        // `revoke` has run.
        Arc::pin_init(
            try_pin_init!(Self {
                dev: dev.into(),
                mask,
                slots <- new_mutex!(Slots {
                    bound: true,
                    last: 0,
                    items: KVec::new(),
                }),
                users: Atomic::new(0),
                stopping: Atomic::new(false),
            }),
            GFP_KERNEL,
        )
    }

    /// The device's coherent DMA mask.
    pub(crate) fn mask(&self) -> u64 {
        self.mask
    }

    /// Makes a resource with the bound device and leases it out.
    /// `ENODEV` once the binding is revoked.
    ///
    /// # Safety
    ///
    /// `make` returns a resource of this binding's device: a coherent buffer
    /// allocated for the device it is given, a mapping of registers of that
    /// device, a DMA pool for it, or a block of such a pool. A resource that
    /// needs another to stay live (a block, its pool) is leased after it,
    /// and the other's lease is dropped only after its own.
    pub(crate) unsafe fn lease(
        self: &Arc<Self>,
        make: impl FnOnce(&device::Device<Bound>) -> Result<Resource>,
    ) -> Result<Lease> {
        let mut slots = self.slots.lock();
        if !slots.bound {
            return Err(ENODEV);
        }
        slots.items.reserve(1, GFP_KERNEL)?;
        // SAFETY: `bound` is set and the lock is held, so by the type
        // invariant the device stays bound until the reference, which does
        // not leave this function, is gone.
        let dev = unsafe { self.dev.as_bound() };
        // INVARIANT: the caller guarantees that the resource is `dev`'s.
        let resource = make(dev)?;
        let id = slots.last + 1;
        // Room was reserved above.
        if let Err(e) = slots.items.push_within_capacity((id, resource)) {
            drop(e);
            return Err(ENOMEM);
        }
        slots.last = id;
        // INVARIANT: `id` names a resource of `self`.
        Ok(Lease {
            binding: self.clone(),
            id,
        })
    }

    /// Starts a use of the device that lasts until the result is dropped
    /// (`ENODEV` once unbinding has begun).
    pub(crate) fn start_use(self: &Arc<Self>) -> Result<Use> {
        // Full ordering, paired with `stop_uses` and `revoke`: either this
        // sees `stopping`, or `revoke` sees the use and waits for it.
        self.users.fetch_add(1, Full);
        // INVARIANT: counted just above.
        let u = Use(self.clone());
        if self.stopping.load(Acquire) {
            return Err(ENODEV);
        }
        Ok(u)
    }

    /// Asks every [`Use`] to stop; later ones are refused.
    pub(crate) fn stop_uses(&self) {
        self.stopping.xchg(true, Full);
    }

    /// Revokes the binding: waits for every [`Use`] (each stops within one
    /// step once asked), then frees every resource still leased out and
    /// refuses new ones.
    ///
    /// # Safety
    ///
    /// Called while the device is still bound (from the driver's unbind, or
    /// before the device is unregistered), once the device can no longer
    /// reach a leased buffer: no transfer is in flight, and none can start.
    pub(crate) unsafe fn revoke(&self) {
        self.stop_uses();
        let mut told = false;
        while self.users.load(Acquire) != 0 {
            if !told {
                dev_info!(self.dev, "kmemlab: stopping the work using the device\n");
                told = true;
            }
            fsleep(Delta::from_millis(1));
        }
        let mut items = {
            let mut slots = self.slots.lock();
            slots.bound = false;
            core::mem::take(&mut slots.items)
        };
        let n = items.len();
        // Freed here, the device still bound, the newest first: a pool's
        // blocks before the pool.
        while let Some(item) = items.pop() {
            drop(item);
        }
        if n != 0 {
            dev_info!(
                self.dev,
                "kmemlab: unbound: freed {} buffers, mappings, DMA pools and blocks still held\n",
                n
            );
        }
    }
}

/// A name for a resource a [`Binding`] holds; dropping it frees the
/// resource (if unbinding has not already).
///
/// # Examples
///
/// See [`Binding`]'s example.
///
/// # Invariants
///
/// `id` was given out by `binding` for a resource; the binding holds it
/// until this value is dropped or the binding is revoked.
pub(crate) struct Lease {
    binding: Arc<Binding>,
    id: u64,
}

impl Lease {
    /// Runs `f` on the resource, with the binding's lock held (so the
    /// resource cannot be revoked meanwhile). `ENODEV` once it has been.
    ///
    /// `f` must not use another lease of the same binding, nor make one: the
    /// lock is not recursive.
    pub(crate) fn with<R>(&self, f: impl FnOnce(&Resource) -> R) -> Result<R> {
        let slots = self.binding.slots.lock();
        let i = slots.index(self.id)?;
        Ok(f(&slots.items[i].1))
    }

    /// The binding the resource belongs to.
    pub(crate) fn binding(&self) -> &Arc<Binding> {
        &self.binding
    }
}

impl Drop for Lease {
    fn drop(&mut self) {
        let mut slots = self.binding.slots.lock();
        // Revoked: the binding freed it already.
        if let Ok(i) = slots.index(self.id) {
            // Freed under the lock: `revoke` cannot complete meanwhile, so
            // the device is still bound.
            drop(slots.items.remove(i));
        }
    }
}

/// A use of a bound device, ended on drop.
///
/// # Examples
///
/// See [`Binding`]'s example.
///
/// # Invariants
///
/// Counted in the binding's `users` while it lives, so the device stays bound.
pub(crate) struct Use(Arc<Binding>);

impl Use {
    /// Whether unbinding has asked the use to stop: poll between steps, and
    /// stop touching the device once it says so.
    pub(crate) fn stopping(&self) -> bool {
        self.0.stopping.load(Acquire)
    }

    /// Another use of the same binding (`ENODEV` once unbinding began).
    pub(crate) fn again(&self) -> Result<Use> {
        self.0.start_use()
    }

    /// The device, bound while `self` lives.
    pub(crate) fn device(&self) -> &device::Device<Bound> {
        // SAFETY: by the type invariant of `Use` and of `Binding`, the device
        // stays bound while `self` (which the result borrows) lives.
        unsafe { self.0.dev.as_bound() }
    }
}

impl Drop for Use {
    fn drop(&mut self) {
        self.0.users.fetch_sub(1, Release);
    }
}

/// The raw `struct device` of `dev`, for C calls the kernel crate does not
/// wrap (`dma_set_coherent_mask()` of a faux device, the raw-C baseline's
/// `dma_alloc_coherent()`, edu's PCI calls in the shim). The kernel crate
/// keeps `Device::as_raw()` to itself; this is kmemlab's one cast into its
/// layout.
pub(super) fn raw_device<Ctx: device::DeviceContext>(
    dev: &device::Device<Ctx>,
) -> *mut kernel::bindings::device {
    // CAST: `Device` is a `#[repr(transparent)]` wrapper of `struct device`
    // (its own `as_raw()` makes the same cast).
    core::ptr::from_ref(dev)
        .cast::<kernel::bindings::device>()
        .cast_mut()
}

/// The published bindings, one per device kmemlab allocates for.
struct Registry {
    faux: Option<Arc<Binding>>,
    edu: Option<Arc<Binding>>,
}

impl Registry {
    /// The slot of `which`.
    fn slot(&mut self, which: DmaDevice) -> &mut Option<Arc<Binding>> {
        match which {
            DmaDevice::Faux => &mut self.faux,
            DmaDevice::Edu => &mut self.edu,
        }
    }
}

kernel::sync::global_lock! {
    // SAFETY: `super::init` initialises it exactly once, and `registry`
    // refuses to lock it before that has completed.
    unsafe(uninit) static REGISTRY: Mutex<Registry> = Registry { faux: None, edu: None };
}

/// Initialises the registry's lock.
///
/// # Safety
///
/// Called once, by `super::init`, before any `registry()` call.
pub(super) unsafe fn init_lock() {
    // SAFETY: guaranteed by the caller.
    unsafe { REGISTRY.init() };
}

fn registry() -> Result<GlobalGuard<REGISTRY>> {
    super::ready()?;
    Ok(REGISTRY.lock())
}

/// Publishes the binding of `which` (`EBUSY` if one is published).
pub(super) fn publish(which: DmaDevice, binding: Arc<Binding>) -> Result {
    let mut r = registry()?;
    let slot = r.slot(which);
    if slot.is_some() {
        return Err(EBUSY);
    }
    *slot = Some(binding);
    Ok(())
}

/// Takes the binding of `which` out of the registry.
pub(super) fn unpublish(which: DmaDevice) -> Option<Arc<Binding>> {
    registry().ok().and_then(|mut r| r.slot(which).take())
}

/// The current binding of `which` (`ENODEV` when it is not bound).
pub(crate) fn current(which: DmaDevice) -> Result<Arc<Binding>> {
    registry()?.slot(which).clone().ok_or(ENODEV)
}

/// The bus address of a coherent buffer or pool block `resource` is, if it
/// is one.
pub(super) fn bus_address(resource: &Resource) -> Option<DmaAddress> {
    match resource {
        Resource::Coherent(mem) => Some(mem.dma_address()),
        Resource::Block(block) => Some(block.bus_address()),
        Resource::Regs(_) | Resource::Pool(_) => None,
    }
}

/// The CPU address and length of a coherent buffer or pool block
/// `resource` is, if it is one.
pub(super) fn cpu_bytes(resource: &Resource) -> Option<(NonNull<u8>, usize)> {
    match resource {
        Resource::Coherent(mem) => {
            NonNull::new(mem.as_mut_ptr().cast::<u8>()).map(|p| (p, mem.len()))
        }
        Resource::Block(block) => Some(block.cpu_bytes()),
        Resource::Regs(_) | Resource::Pool(_) => None,
    }
}

#[kunit_tests(kmemlab_device)]
mod tests {
    use super::*;
    use crate::alloc::dma::FauxDma;

    fn buffer(dev: &device::Device<Bound>) -> Result<Resource> {
        Ok(Resource::Coherent(Coherent::<u8>::zeroed_slice(
            dev, 4096, GFP_KERNEL,
        )?))
    }

    #[test]
    fn revoking_frees_what_is_leased_and_refuses_more() -> Result {
        crate::alloc::init();
        let faux = FauxDma::unpublished(c"kmemlab-kunit")?;
        let binding = faux.binding().clone();
        // SAFETY: `buffer` allocates for the device it is given.
        let kept = unsafe { binding.lease(buffer)? };
        // SAFETY: as above.
        let freed = unsafe { binding.lease(buffer)? };
        assert!(kept.with(|r| bus_address(r).is_some())?);
        drop(freed);
        let user = binding.start_use()?;
        assert!(!user.stopping());
        drop(user);
        // Unbinding does not wait for `kept` to be given back.
        // SAFETY: the faux device is bound while `faux` lives, and has no
        // DMA engine.
        unsafe { binding.revoke() };
        assert_eq!(kept.with(|_| ()).err(), Some(ENODEV));
        // SAFETY: as above.
        assert_eq!(unsafe { binding.lease(buffer) }.err(), Some(ENODEV));
        assert!(binding.start_use().is_err());
        // A lease whose memory was revoked still drops cleanly.
        drop(kept);
        Ok(())
    }
}
