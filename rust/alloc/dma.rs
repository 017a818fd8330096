// SPDX-License-Identifier: GPL-2.0

//! Coherent DMA buffers: `dma_alloc_coherent()` for the devices kmemlab owns.
//!
//! C header: [`include/linux/dma-mapping.h`](srctree/include/linux/dma-mapping.h)
//!
//! The kernel crate's [`Coherent`] allocates for a device that is bound to a
//! driver. A [`DmaBuf`] is made for the current [`Binding`] of one of
//! kmemlab's devices (see [`super::device`]): the binding owns the buffer
//! and frees it when the device unbinds, so the buffer's bytes are reached
//! only under the binding's lock ([`DmaBuf::with_bytes`]), and a buffer whose
//! device went away answers `ENODEV`. The devices:
//! - [`FauxDma`], kmemlab's own faux device, registered for as long as the
//!   module is loaded, with its coherent DMA mask set (faux devices start
//!   with none);
//! - QEMU's edu PCI device, bound by kmemlab's edu driver (see [`super::edu`]).

use core::{
    marker::PhantomData,
    ptr::NonNull, //
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
        c_ulong,
        c_void, //
    },
    prelude::*,
    sync::Arc,
};

use super::{
    bytes_allocation,
    device::{
        self as devices,
        Binding,
        DmaDevice,
        Lease,
        Resource,
        Use, //
    },
    dmapool::DmaPool,
    gfp::{
        Gfp,
        Mods, //
    },
    pages::MAX_ORDER,
    topology::{
        Backing,
        Zone, //
    },
    Bytes, //
};

extern "C" {
    fn kmemlab_virt_addr_valid(addr: *const c_void) -> bool;
    fn kmemlab_virt_to_nid(addr: *const c_void) -> c_int;
}

/// The largest coherent buffer kmemlab asks for: a `MAX_PAGE_ORDER` block,
/// the most dma-direct can hand out without CMA.
pub(crate) const DMA_MAX: usize = kernel::page::PAGE_SIZE << MAX_ORDER;

/// A faux device of kmemlab's with a 64-bit coherent DMA mask, and its
/// [`Binding`], revoked when this value is dropped. The module's own
/// ("kmemlab" on the faux bus) is published for DMA ([`FauxDma::new`]).
///
/// # Examples
///
/// ```ignore
/// let faux = FauxDma::unpublished(c"kmemlab-example")?;
/// assert_eq!(faux.binding().mask(), u64::MAX);
/// // Dropping it revokes its binding, then unregisters the device.
/// ```
///
/// Compiled and run as the KUnit case `kmemlab_dma::example_faux_dma`.
///
/// # Invariants
///
/// `binding` is the binding of `_reg`'s device, revoked by `Drop` before
/// `_reg` unregisters the device; it is published iff `published`.
pub(crate) struct FauxDma {
    binding: Arc<Binding>,
    published: bool,
    _reg: faux::Registration,
}

impl FauxDma {
    /// Creates kmemlab's faux device and publishes it for DMA.
    pub(crate) fn new() -> Result<Self> {
        let mut faux = Self::unpublished(c"kmemlab")?;
        devices::publish(DmaDevice::Faux, faux.binding.clone())?;
        faux.published = true;
        Ok(faux)
    }

    /// Creates the faux device `name`, gives it a 64-bit coherent DMA mask,
    /// and does not publish it.
    pub(crate) fn unpublished(name: &CStr) -> Result<Self> {
        let reg = faux::Registration::new(name, None)?;
        let dev: &device::Device<Bound> = reg.as_ref().as_ref();
        let raw = devices::raw_device(dev);
        // SAFETY: `raw` is the live, bound faux device just created; nothing
        // allocates or maps for it yet, as it has no binding yet.
        kernel::error::to_result(unsafe { bindings::dma_set_coherent_mask(raw, u64::MAX) })?;
        // SAFETY: `drop` revokes the binding before `reg` unregisters the device.
        let binding = unsafe { Binding::new(dev, u64::MAX)? };
        // INVARIANT: see above; not published.
        Ok(Self {
            binding,
            published: false,
            _reg: reg,
        })
    }

    /// The device's binding.
    #[cfg_attr(not(CONFIG_KUNIT), allow(dead_code))]
    pub(crate) fn binding(&self) -> &Arc<Binding> {
        &self.binding
    }
}

impl Drop for FauxDma {
    fn drop(&mut self) {
        if self.published {
            devices::unpublish(DmaDevice::Faux);
        }
        // SAFETY: the device is registered (so bound) until `_reg` drops,
        // after this; a faux device has no DMA engine to reach its buffers.
        unsafe { self.binding.revoke() };
    }
}

/// A coherent DMA buffer for one of kmemlab's devices; dropping it frees the
/// buffer (unless the device's unbinding already has).
///
/// # Examples
///
/// ```ignore
/// let mut buf = DmaBuf::new(DmaDevice::Faux, 4096, Gfp::KERNEL)?;
/// buf.with_bytes_mut(|b| b.fill(0x5a))?;
/// assert!(buf.with_bytes(|b| b.iter().all(|x| *x == 0x5a))?);
/// assert_eq!(buf.len(), 4096);
/// ```
///
/// Compiled and run as the KUnit case `kmemlab_dma::example_dma_buf`.
///
/// # Invariants
///
/// `lease` names a [`Resource::Coherent`] of `len` bytes, or a
/// [`Resource::Block`] of `len` bytes of the pool `_pool` holds (dropped after
/// `lease`, so the block goes back before the pool can go). A device reaches
/// the buffer only through a transfer of its driver that takes the buffer
/// mutably for its whole length ([`DmaBuf::bus_address`]: edu's
/// `dma_copy`, which holds edu's engine until the transfer is over or the
/// device has stopped mastering the bus), so CPU accesses through `&self`
/// or `&mut self` never race with the device.
pub(crate) struct DmaBuf {
    lease: Lease,
    len: usize,
    device: DmaDevice,
    // Dropped after `lease` (fields drop in order): a block goes back to its
    // pool before the pool's last holder can go.
    _pool: Option<Arc<DmaPool>>,
}

impl DmaBuf {
    /// Allocates `size` bytes (1 to [`DMA_MAX`]) of zeroed coherent memory
    /// for `device` (`ENODEV` when it is not bound; `EINVAL` for an accounted
    /// request, which DMA memory cannot be).
    pub(crate) fn new(device: DmaDevice, size: usize, gfp: Gfp) -> Result<Self> {
        if size == 0 || size > DMA_MAX || gfp.has(Mods::ACCOUNT) {
            return Err(EINVAL);
        }
        let flags = gfp.zeroed().flags()?;
        let binding = devices::current(device)?;
        let mask = binding.mask();
        // SAFETY: the closure allocates for the device it is given.
        let lease = unsafe {
            binding.lease(|dev| {
                let mem = if gfp.has(Mods::NOWARN) {
                    Coherent::<u8>::zeroed_slice_with_attrs(dev, size, flags, DMA_ATTR_NO_WARN)?
                } else {
                    Coherent::<u8>::zeroed_slice(dev, size, flags)?
                };
                // The DMA core honours the mask; check it anyway, as a device
                // given an address above its mask would read or write elsewhere.
                // CAST: a `usize` fits in a `DmaAddress` (64-bit).
                let last = mem.dma_address().checked_add(size as DmaAddress - 1);
                if last.is_none_or(|last| last > mask) {
                    return Err(EIO);
                }
                Ok(Resource::Coherent(mem))
            })?
        };
        // INVARIANT: the lease names the buffer of `size` bytes just made.
        Ok(Self {
            lease,
            len: size,
            device,
            _pool: None,
        })
    }

    /// The block of `len` bytes of `pool` that `lease` names.
    ///
    /// # Safety
    ///
    /// `lease` names a [`Resource::Block`] of `len` bytes of `pool`, leased
    /// from `pool`'s binding after the pool, for `device`.
    pub(super) unsafe fn pool_block(
        lease: Lease,
        len: usize,
        device: DmaDevice,
        pool: Arc<DmaPool>,
    ) -> Self {
        // INVARIANT: guaranteed by the caller.
        Self {
            lease,
            len,
            device,
            _pool: Some(pool),
        }
    }

    /// The device the buffer belongs to.
    pub(crate) fn device(&self) -> DmaDevice {
        self.device
    }

    /// The buffer's size in bytes.
    pub(crate) fn len(&self) -> usize {
        self.len
    }

    /// The binding the buffer was made for.
    pub(super) fn binding(&self) -> &Arc<Binding> {
        self.lease.binding()
    }

    /// Runs `f` on the buffer's bytes (`ENODEV` once the device unbound).
    /// The binding's lock is held meanwhile: `f` must not wait for long.
    pub(crate) fn with_bytes<R>(&self, f: impl FnOnce(&[u8]) -> R) -> Result<R> {
        self.lease.with(|r| {
            let (ptr, len) = devices::cpu_bytes(r).ok_or(EINVAL)?;
            // SAFETY: the lock is held, so the `len` bytes stay allocated;
            // `&self` rules out CPU writers, the type invariant the device.
            let bytes = unsafe { core::slice::from_raw_parts(ptr.as_ptr(), len) };
            Ok(f(bytes))
        })?
    }

    /// Runs `f` on the buffer's bytes, writable (`ENODEV` as above).
    pub(crate) fn with_bytes_mut<R>(&mut self, f: impl FnOnce(&mut [u8]) -> R) -> Result<R> {
        self.lease.with(|r| {
            let (ptr, len) = devices::cpu_bytes(r).ok_or(EINVAL)?;
            // SAFETY: as in `with_bytes`; `&mut self` makes the access exclusive.
            let bytes = unsafe { core::slice::from_raw_parts_mut(ptr.as_ptr(), len) };
            Ok(f(bytes))
        })?
    }

    /// The bus address of the buffer, for a device transfer (`ENODEV` once
    /// the device unbound). The mutable borrow keeps the CPU out of the
    /// buffer while the device uses it; the caller makes sure the transfer
    /// is over, or the device stopped, before the binding is revoked.
    pub(super) fn bus_address(&mut self) -> Result<DmaAddress> {
        self.lease.with(|r| devices::bus_address(r).ok_or(EINVAL))?
    }

    /// The NUMA node of the buffer's first page (-1 for remapped memory or
    /// a buffer whose device went away).
    pub(crate) fn nid(&self) -> i32 {
        self.with_bytes(|b| {
            let addr = b.as_ptr().cast::<c_void>();
            // SAFETY: the buffer is live; only its address is examined.
            if unsafe { kmemlab_virt_addr_valid(addr) } {
                // SAFETY: a live address in the linear map.
                unsafe { kmemlab_virt_to_nid(addr) }
            } else {
                // Remapped coherent memory (not the case on x86).
                -1
            }
        })
        .unwrap_or(-1)
    }

    /// The zone of the buffer's first page ([`Zone::Unknown`] once the
    /// device went away).
    pub(crate) fn zone(&self) -> Zone {
        self.with_bytes(Zone::of_bytes).unwrap_or(Zone::Unknown)
    }

    /// What served the buffer: pages (the linear map) or a remapping
    /// (`Backing::Vmalloc`); [`Backing::None`] once the device went away.
    pub(crate) fn backing(&self) -> Backing {
        self.with_bytes(Backing::of_bytes).unwrap_or(Backing::None)
    }
}

/// One of kmemlab's devices kept bound while the scope lives, to make
/// [`ScopedBuf`]s for it.
///
/// # Examples
///
/// ```ignore
/// let scope = DmaScope::new(DmaDevice::Faux)?;
/// let buffers = scope.buffers(4096, Gfp::KERNEL)?;
/// let mut buf = buffers.alloc()?;
/// assert!(buf.as_slice().iter().all(|b| *b == 0));
/// buf.as_mut_slice().fill(0x5a);
/// // `buf` borrows `scope`: it cannot outlive the device's binding.
/// drop(buf);
/// ```
///
/// Compiled and run as the KUnit case `kmemlab_dma::example_dma_scope`.
///
/// # Invariants
///
/// `user` is a use of the binding of a device of kmemlab's, whose coherent
/// DMA mask is `mask`: the device stays bound while the scope lives.
pub(crate) struct DmaScope {
    user: Use,
    mask: u64,
}

impl DmaScope {
    /// Keeps `device` bound until dropped; `ENODEV` when it is not bound or
    /// is being unbound.
    pub(crate) fn new(device: DmaDevice) -> Result<Self> {
        let binding = devices::current(device)?;
        let mask = binding.mask();
        // INVARIANT: a use of the binding whose mask this is.
        Ok(Self {
            user: binding.start_use()?,
            mask,
        })
    }

    /// Whether the device is being unbound: work should stop and drop the
    /// scope soon (unbinding waits for it).
    pub(crate) fn stopping(&self) -> bool {
        self.user.stopping()
    }

    /// Buffers of `size` bytes (1 to [`DMA_MAX`]) with `gfp`, the request
    /// checked and resolved once: `EINVAL` for a size out of range or a
    /// mask [`DmaBuf::new`] refuses (accounted, or one the kernel crate's
    /// allocation flags cannot say).
    pub(crate) fn buffers(&self, size: usize, gfp: Gfp) -> Result<BufScope<'_>> {
        if size == 0 || size > DMA_MAX || gfp.has(Mods::ACCOUNT) {
            return Err(EINVAL);
        }
        // What the kernel crate's allocation (`DmaBuf`) could not be asked
        // for is refused here too, so both paths take the same masks.
        gfp.flags()?;
        let attrs: c_ulong = if gfp.has(Mods::NOWARN) {
            // CAST: an attribute bit, which fits in an `unsigned long`.
            bindings::DMA_ATTR_NO_WARN as c_ulong
        } else {
            0
        };
        // INVARIANT: the scope's device, a size in range, the mask's raw
        // value with `__GFP_ZERO`, attributes of 0 or `DMA_ATTR_NO_WARN`,
        // and the device's coherent DMA mask (`DmaScope`'s invariant).
        Ok(BufScope {
            dev: devices::raw_device(self.user.device()),
            size,
            gfp: gfp.zeroed().raw(),
            attrs,
            mask: self.mask,
            _scope: PhantomData,
        })
    }
}

/// Buffers of one size and mask for a borrowed [`DmaScope`]
/// ([`DmaScope::buffers`]): a buffer costs the allocator's call and the
/// check that it lies within the device's DMA mask.
///
/// # Invariants
///
/// `dev` is the device of the borrowed scope, which keeps it bound; `size`
/// is 1 to [`DMA_MAX`]; `gfp` is a mask `dma_alloc_attrs()` takes, with
/// `__GFP_ZERO`; `attrs` is 0 or `DMA_ATTR_NO_WARN`; `mask` is the device's
/// coherent DMA mask.
pub(crate) struct BufScope<'s> {
    dev: *mut bindings::device,
    size: usize,
    gfp: bindings::gfp_t,
    attrs: c_ulong,
    mask: u64,
    _scope: PhantomData<&'s DmaScope>,
}

impl<'s> BufScope<'s> {
    /// A zeroed coherent buffer, freed when dropped (within the borrow of
    /// the scope). `EIO` if the device got memory outside its DMA mask.
    #[inline]
    pub(crate) fn alloc(&self) -> Result<ScopedBuf<'s>> {
        let mut dma: bindings::dma_addr_t = 0;
        // SAFETY: `dev` is bound with its DMA mask set while the borrowed
        // scope lives, and `gfp` a mask the allocator takes (type
        // invariant); `dma` is a valid place for the bus address.
        let cpu = unsafe {
            bindings::dma_alloc_attrs(self.dev, self.size, &mut dma, self.gfp, self.attrs)
        };
        let cpu = NonNull::new(cpu.cast::<u8>()).ok_or(ENOMEM)?;
        // SAFETY: `cpu` is a fresh buffer of `size` bytes, zeroed
        // (`__GFP_ZERO`), that only the new value uses.
        let bytes = unsafe { Bytes::new(cpu, self.size) };
        // INVARIANT: `size` bytes made for the scope's device, with these
        // attributes.
        let buf = ScopedBuf {
            dev: self.dev,
            bytes,
            dma,
            attrs: self.attrs,
            _scope: PhantomData,
        };
        // CAST: `size` is at most DMA_MAX, which fits in a bus address.
        let last = dma.checked_add(self.size as DmaAddress - 1);
        if last.is_none_or(|last| last > self.mask) {
            return Err(EIO);
        }
        Ok(buf)
    }
}

/// A coherent buffer made through a [`DmaScope`], freed on drop, which must
/// happen in task context with interrupts enabled, as `dma_free_attrs()`
/// requires (the benchmarks free in the thread that allocated).
///
/// # Invariants
///
/// `bytes` and `dma` are the CPU and bus addresses `dma_alloc_attrs()`
/// returned, with `attrs`, for `dev`, the device of the borrowed scope, for
/// `bytes.len()` bytes; freed only by `Drop`, while the scope keeps the
/// device bound.
pub(crate) struct ScopedBuf<'s> {
    dev: *mut bindings::device,
    bytes: Bytes,
    dma: DmaAddress,
    attrs: c_ulong,
    _scope: PhantomData<&'s DmaScope>,
}

// SAFETY: the buffer is plain memory owned by this value, and
// `dma_free_attrs` may run on any CPU; the borrow of the scope (`DmaScope` is
// `Sync`, checked below) keeps `dev` bound wherever the value goes.
unsafe impl Send for ScopedBuf<'_> {}
// SAFETY: shared references only allow reads of plain bytes; `dev` is used
// only by `Drop`.
unsafe impl Sync for ScopedBuf<'_> {}

// What `ScopedBuf`'s `Send` rests on.
const _: () = {
    const fn sync<T: Sync>() {}
    sync::<DmaScope>()
};

bytes_allocation! {
    ScopedBuf<'_>,
    fn nid(&self) -> i32 {
        let addr = self.bytes.ptr().as_ptr().cast::<c_void>();
        // SAFETY: only asks whether the address is in the linear map.
        if unsafe { kmemlab_virt_addr_valid(addr) } {
            // SAFETY: a linear-map address of a buffer alive while `self` is.
            unsafe { kmemlab_virt_to_nid(addr) }
        } else {
            -1
        }
    }
}

impl Drop for ScopedBuf<'_> {
    fn drop(&mut self) {
        // SAFETY: by the type invariant the buffer was made with these
        // arguments for `dev`, the scope's device, still bound (the scope
        // is borrowed), and is freed once, here.
        unsafe {
            bindings::dma_free_attrs(
                self.dev,
                self.bytes.as_slice().len(),
                self.bytes.ptr().as_ptr().cast(),
                self.dma,
                self.attrs,
            )
        };
    }
}

#[kunit_tests(kmemlab_dma)]
mod tests {
    use super::*;
    use crate::alloc::gfp::Gfp;
    use crate::alloc::Allocation;

    #[test]
    fn faux_buffers_are_zeroed_and_writable() -> Result {
        crate::alloc::init();
        for size in [1, 4096, 65536] {
            let mut buf = DmaBuf::new(DmaDevice::Faux, size, Gfp::KERNEL)?;
            assert_eq!(buf.device(), DmaDevice::Faux);
            assert_eq!(buf.len(), size);
            assert!(buf.with_bytes(|b| b.iter().all(|b| *b == 0))?);
            buf.with_bytes_mut(|b| b.fill(0xa5))?;
            assert!(buf.with_bytes(|b| b.iter().all(|b| *b == 0xa5))?);
            assert!(buf.nid() >= 0);
        }
        Ok(())
    }

    #[test]
    fn bad_requests_are_refused() -> Result {
        crate::alloc::init();
        assert_eq!(
            DmaBuf::new(DmaDevice::Faux, 0, Gfp::KERNEL).err(),
            Some(EINVAL)
        );
        assert_eq!(
            DmaBuf::new(DmaDevice::Faux, DMA_MAX + 1, Gfp::KERNEL).err(),
            Some(EINVAL)
        );
        let accounted = Gfp::new(crate::alloc::gfp::GfpBase::Kernel, Mods::ACCOUNT)?;
        assert_eq!(
            DmaBuf::new(DmaDevice::Faux, 64, accounted).err(),
            Some(EINVAL)
        );
        Ok(())
    }

    #[test]
    fn example_dma_buf() -> Result {
        crate::alloc::init();
        let mut buf = DmaBuf::new(DmaDevice::Faux, 4096, Gfp::KERNEL)?;
        buf.with_bytes_mut(|b| b.fill(0x5a))?;
        assert!(buf.with_bytes(|b| b.iter().all(|x| *x == 0x5a))?);
        assert_eq!(buf.len(), 4096);
        Ok(())
    }

    #[test]
    fn example_dma_scope() -> Result {
        crate::alloc::init();
        let scope = DmaScope::new(DmaDevice::Faux)?;
        let buffers = scope.buffers(4096, Gfp::KERNEL)?;
        let mut buf = buffers.alloc()?;
        assert!(buf.as_slice().iter().all(|b| *b == 0));
        buf.as_mut_slice().fill(0x5a);
        assert!(buf.as_slice().iter().all(|b| *b == 0x5a));
        assert!(buf.nid() >= 0);
        // `buf` borrows `scope`: it cannot outlive the device's binding.
        drop(buf);
        Ok(())
    }

    #[test]
    fn a_buf_scope_refuses_bad_requests_and_makes_many() -> Result {
        crate::alloc::init();
        let scope = DmaScope::new(DmaDevice::Faux)?;
        let accounted = Gfp::new(crate::alloc::gfp::GfpBase::Kernel, Mods::ACCOUNT)?;
        assert_eq!(scope.buffers(4096, accounted).err(), Some(EINVAL));
        assert_eq!(scope.buffers(0, Gfp::KERNEL).err(), Some(EINVAL));
        assert_eq!(scope.buffers(DMA_MAX + 1, Gfp::KERNEL).err(), Some(EINVAL));
        // With `__GFP_NOWARN` the buffers are made and freed with
        // `DMA_ATTR_NO_WARN`. The faux device's mask is all ones, so the
        // `EIO` of a buffer outside it cannot be reached here.
        let nowarn = Gfp::new(crate::alloc::gfp::GfpBase::Kernel, Mods::NOWARN)?;
        // The buffers outlive the scope of their size and mask (not the
        // device's scope).
        let (mut a, b) = {
            let buffers = scope.buffers(8192, nowarn)?;
            (buffers.alloc()?, buffers.alloc()?)
        };
        assert_eq!((a.as_slice().len(), b.as_slice().len()), (8192, 8192));
        assert!(a.as_slice().iter().all(|x| *x == 0));
        a.as_mut_slice().fill(0x3c);
        assert!(a.as_slice().iter().all(|x| *x == 0x3c));
        assert!(b.as_slice().iter().all(|x| *x == 0));
        Ok(())
    }

    #[test]
    fn example_faux_dma() -> Result {
        crate::alloc::init();
        let faux = FauxDma::unpublished(c"kmemlab-example")?;
        assert_eq!(faux.binding().mask(), u64::MAX);
        // Dropping it revokes its binding, then unregisters the device.
        Ok(())
    }
}
