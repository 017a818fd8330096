// SPDX-License-Identifier: GPL-2.0

//! Coherent DMA buffers: `dma_alloc_coherent()` for the devices kmemlab owns.
//!
//! C header: [`include/linux/dma-mapping.h`](srctree/include/linux/dma-mapping.h)
//!
//! The kernel crate's [`Coherent`] allocates for a device that is bound to a
//! driver, proven by a `&Device<Bound>` that only lives inside the driver's
//! callbacks. kmemlab allocates from ioctls, at any time, so the devices it
//! owns are *published* in one registry ([`Devices`]) while they are bound:
//! - [`FauxDma`], kmemlab's own faux device, registered for as long as the
//!   module is loaded, with its coherent DMA mask set (faux devices start
//!   with none);
//! - QEMU's edu PCI device, published by kmemlab's edu driver between probe
//!   and unbind (see [`super::edu`]).
//!
//! Allocating takes the registry's lock, and unpublishing takes it too, so a
//! device cannot unbind while a buffer is being allocated for it.

use core::{
    ops::{
        Deref,
        DerefMut, //
    },
    ptr::NonNull,
};

use kernel::{
    bindings,
    device::{
        self,
        Bound, //
    },
    dma::{
        attrs::DMA_ATTR_NO_WARN,
        Coherent,
        DmaAddress, //
    },
    faux,
    ffi::{
        c_int,
        c_void, //
    },
    prelude::*,
    sync::{
        aref::ARef,
        atomic::{
            Acquire,
            Atomic,
            Relaxed,
            Release, //
        },
        Arc,
        GlobalGuard, //
    },
    time::{
        delay::fsleep,
        Delta, //
    },
};

use super::{
    edu::EduState,
    gfp::Gfp,
    pages::MAX_ORDER,
    Allocation,
    Bytes, //
};

extern "C" {
    fn kmemlab_virt_addr_valid(addr: *const c_void) -> bool;
    fn kmemlab_virt_to_nid(addr: *const c_void) -> c_int;
}

/// The largest coherent buffer kmemlab asks for: a `MAX_PAGE_ORDER` block,
/// the most dma-direct can hand out without CMA.
pub(crate) const DMA_MAX: usize = kernel::page::PAGE_SIZE << MAX_ORDER;

/// A device kmemlab allocates coherent buffers for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum DmaDevice {
    /// kmemlab's faux device: 64-bit coherent mask, no DMA engine.
    Faux,
    /// QEMU's edu device: 28-bit DMA mask and a DMA engine.
    Edu,
}

/// A published device: its reference, the coherent mask it was given, and
/// how many of kmemlab's objects use it.
pub(crate) struct DmaHost {
    dev: ARef<device::Device>,
    mask: u64,
    users: Arc<Atomic<usize>>,
}

impl DmaHost {
    /// Describes `dev`, whose coherent DMA mask is `mask`.
    pub(crate) fn new(dev: &device::Device<Bound>, mask: u64) -> Result<Self> {
        Ok(Self {
            dev: dev.into(),
            mask,
            users: Arc::new(Atomic::new(0), GFP_KERNEL)?,
        })
    }

    /// A reference to the device, for the raw-C baseline of the benchmarks:
    /// it keeps the `struct device` alive, not bound.
    pub(super) fn device(&self) -> ARef<device::Device> {
        self.dev.clone()
    }

    /// A new use of this device, counted until dropped.
    pub(crate) fn user(&self) -> HostRef {
        self.users.add(1, Relaxed);
        HostRef(self.users.clone())
    }

    /// Waits until every object using the device (buffer or register
    /// mapping) has been freed.
    ///
    /// Called once the device is unpublished and before it unbinds: the DMA
    /// core must not see a device leave its driver with buffers still
    /// allocated (`CONFIG_DMA_API_DEBUG` reports them as leaked). kmemlab's
    /// objects are freed when their owners free them or close their files.
    /// A signal stops the wait (the unbinding task may own the objects).
    pub(crate) fn wait_for_users(&self) {
        let mut told = false;
        loop {
            let live = self.users.load(Acquire);
            if live == 0 {
                return;
            }
            if kernel::current!().signal_pending() {
                dev_warn!(
                    self.dev,
                    "kmemlab: unbound with {} objects still in use\n",
                    live
                );
                return;
            }
            if !told {
                dev_info!(
                    self.dev,
                    "kmemlab: waiting for {} objects using the device to be freed\n",
                    live
                );
                told = true;
            }
            fsleep(Delta::from_millis(100));
        }
    }
}

/// One object using a [`DmaHost`], counted until dropped.
pub(crate) struct HostRef(Arc<Atomic<usize>>);

impl HostRef {
    /// Whether this use belongs to `host` (and not to an earlier binding of
    /// the same kind of device).
    pub(crate) fn is_of(&self, host: &DmaHost) -> bool {
        Arc::ptr_eq(&self.0, &host.users)
    }
}

impl Drop for HostRef {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Release);
    }
}

/// Every device kmemlab can allocate coherent buffers for right now.
///
/// # Invariants
///
/// A device in here is bound to its driver, and is taken out (under the
/// [`DEVICES`] lock) before it unbinds.
pub(crate) struct Devices {
    faux: Option<DmaHost>,
    edu: Option<EduState>,
}

impl Devices {
    /// The published host for `which` (`ENODEV` if there is none).
    pub(crate) fn host(&self, which: DmaDevice) -> Result<&DmaHost> {
        match which {
            DmaDevice::Faux => self.faux.as_ref(),
            DmaDevice::Edu => self.edu.as_ref().map(|e| e.host()),
        }
        .ok_or(ENODEV)
    }

    /// The edu device, while it is bound (`ENODEV` otherwise).
    pub(crate) fn edu(&self) -> Result<&EduState> {
        self.edu.as_ref().ok_or(ENODEV)
    }

    /// Publishes the edu device.
    ///
    /// # Safety
    ///
    /// The device in `edu` is bound, and [`Devices::unpublish_edu`] is called
    /// before it unbinds.
    pub(crate) unsafe fn publish_edu(&mut self, edu: EduState) {
        // INVARIANT: guaranteed by the caller.
        self.edu = Some(edu);
    }

    /// Takes the edu device out; it may unbind once no object uses it
    /// ([`DmaHost::wait_for_users`], without the lock held).
    pub(crate) fn unpublish_edu(&mut self) -> Option<EduState> {
        self.edu.take()
    }
}

kernel::sync::global_lock! {
    // SAFETY: `super::init` initialises it exactly once, and `devices`
    // refuses to lock it before that has completed.
    unsafe(uninit) static DEVICES: Mutex<Devices> = Devices { faux: None, edu: None };
}

/// Initialises the registry's lock.
///
/// # Safety
///
/// Called once, by `super::init`, before any `devices()` call.
pub(super) unsafe fn init_lock() {
    // SAFETY: guaranteed by the caller.
    unsafe { DEVICES.init() };
}

/// The device registry, locked.
pub(crate) struct DevicesGuard(GlobalGuard<DEVICES>);

impl Deref for DevicesGuard {
    type Target = Devices;

    fn deref(&self) -> &Devices {
        &self.0
    }
}

impl DerefMut for DevicesGuard {
    fn deref_mut(&mut self) -> &mut Devices {
        &mut self.0
    }
}

/// Locks the device registry (`EAGAIN` before module init has prepared it).
pub(crate) fn devices() -> Result<DevicesGuard> {
    super::ready()?;
    Ok(DevicesGuard(DEVICES.lock()))
}

/// kmemlab's faux device ("kmemlab" on the faux bus), published for DMA for
/// as long as this value lives.
pub(crate) struct FauxDma {
    _reg: faux::Registration,
}

impl FauxDma {
    /// Creates the device, gives it a 64-bit coherent DMA mask and publishes it.
    pub(crate) fn new() -> Result<Self> {
        let reg = faux::Registration::new(c"kmemlab", None)?;
        let dev: &device::Device<Bound> = reg.as_ref().as_ref();
        // CAST: `Device` is a transparent wrapper of `struct device`.
        let raw = core::ptr::from_ref(dev)
            .cast::<bindings::device>()
            .cast_mut();
        // SAFETY: `raw` is the live, bound faux device just created; nothing
        // allocates or maps for it yet, as it is not published.
        kernel::error::to_result(unsafe { bindings::dma_set_coherent_mask(raw, u64::MAX) })?;
        // INVARIANT: the faux device is bound while `reg` lives, and `drop`
        // takes it out of the registry before `reg` is dropped.
        devices()?.faux = Some(DmaHost::new(dev, u64::MAX)?);
        Ok(Self { _reg: reg })
    }
}

impl Drop for FauxDma {
    fn drop(&mut self) {
        // The registry is ready: `new` could not have succeeded otherwise.
        let host = devices().ok().and_then(|mut devices| devices.faux.take());
        if let Some(host) = host {
            host.wait_for_users();
        }
    }
}

/// A coherent DMA buffer for one of kmemlab's devices, freed on drop.
///
/// # Invariants
///
/// `bytes` covers the CPU side of `mem`. The device accesses the buffer only
/// while the buffer is borrowed mutably for it ([`DmaBuf::bus_address`]), so
/// CPU accesses through `bytes` never race with the device. `host` keeps the
/// device bound until `mem` is freed (fields drop in order).
pub(crate) struct DmaBuf {
    mem: Coherent<[u8]>,
    bytes: Bytes,
    device: DmaDevice,
    host: HostRef,
}

// SAFETY: the buffer is memory owned by this value; it may be used and freed
// from any thread.
unsafe impl Send for DmaBuf {}
// SAFETY: shared references only allow reads of plain bytes.
unsafe impl Sync for DmaBuf {}

impl DmaBuf {
    /// Allocates `size` bytes (1 to [`DMA_MAX`]) of zeroed coherent memory
    /// for `device` (`ENODEV` when it is not bound; `EINVAL` for an accounted
    /// request, which DMA memory cannot be).
    pub(crate) fn new(device: DmaDevice, size: usize, gfp: Gfp) -> Result<Self> {
        if size == 0 || size > DMA_MAX || gfp.account {
            return Err(EINVAL);
        }
        let flags = gfp.zeroed().flags()?;
        let devices = devices()?;
        let host = devices.host(device)?;
        let user = host.user();
        // SAFETY: by the invariant of `Devices`, a published device is bound,
        // and it cannot unbind while `devices` holds the registry's lock.
        let dev = unsafe { host.dev.as_bound() };
        let mem = if gfp.nowarn {
            Coherent::<u8>::zeroed_slice_with_attrs(dev, size, flags, DMA_ATTR_NO_WARN)?
        } else {
            Coherent::<u8>::zeroed_slice(dev, size, flags)?
        };
        // The DMA core honours the mask; check it anyway, as a device given an
        // address above its mask would silently read or write elsewhere.
        // CAST: a `usize` fits in a `DmaAddress` (64-bit).
        let last = mem.dma_address().checked_add(size as DmaAddress - 1);
        if last.is_none_or(|last| last > host.mask) {
            return Err(EIO);
        }
        let ptr = NonNull::new(mem.as_mut_ptr().cast::<u8>()).ok_or(ENOMEM)?;
        // SAFETY: `mem` is `size` bytes of coherent memory owned by the value
        // built here, which the device only accesses as described in the
        // type invariant.
        let bytes = unsafe { Bytes::new(ptr, size) };
        // INVARIANT: see above.
        Ok(Self {
            mem,
            bytes,
            device,
            host: user,
        })
    }

    /// The device the buffer belongs to.
    pub(crate) fn device(&self) -> DmaDevice {
        self.device
    }

    /// The device binding the buffer was allocated for.
    pub(super) fn host(&self) -> &HostRef {
        &self.host
    }

    /// The bus address of the buffer, for a device transfer. The mutable
    /// borrow keeps the CPU out of the buffer while the device uses it.
    pub(super) fn bus_address(&mut self) -> DmaAddress {
        self.mem.dma_address()
    }
}

impl Allocation for DmaBuf {
    fn bytes(&self) -> &Bytes {
        &self.bytes
    }

    fn bytes_mut(&mut self) -> &mut Bytes {
        &mut self.bytes
    }

    fn nid(&self) -> i32 {
        let addr = self.bytes.ptr().as_ptr().cast::<c_void>().cast_const();
        // SAFETY: the buffer is live; only its address is examined.
        if unsafe { kmemlab_virt_addr_valid(addr) } {
            // SAFETY: a live address in the linear map.
            unsafe { kmemlab_virt_to_nid(addr) }
        } else {
            // Remapped coherent memory (not the case on x86).
            -1
        }
    }
}

#[kunit_tests(kmemlab_dma)]
mod tests {
    use super::*;
    use crate::alloc::gfp::Gfp;

    #[test]
    fn faux_buffers_are_zeroed_and_writable() -> Result {
        crate::alloc::init();
        for size in [1, 4096, 65536] {
            let mut buf = DmaBuf::new(DmaDevice::Faux, size, Gfp::KERNEL)?;
            assert_eq!(buf.device(), DmaDevice::Faux);
            assert!(buf.bytes().as_slice().iter().all(|b| *b == 0));
            buf.bytes_mut().as_mut_slice().fill(0xa5);
            assert!(buf.bytes().as_slice().iter().all(|b| *b == 0xa5));
            assert!(buf.nid() >= 0);
        }
        Ok(())
    }

    #[test]
    fn bad_requests_are_refused() {
        crate::alloc::init();
        assert_eq!(
            DmaBuf::new(DmaDevice::Faux, 0, Gfp::KERNEL).err(),
            Some(EINVAL)
        );
        assert_eq!(
            DmaBuf::new(DmaDevice::Faux, DMA_MAX + 1, Gfp::KERNEL).err(),
            Some(EINVAL)
        );
        let accounted = Gfp {
            account: true,
            ..Gfp::KERNEL
        };
        assert_eq!(
            DmaBuf::new(DmaDevice::Faux, 64, accounted).err(),
            Some(EINVAL)
        );
    }
}
