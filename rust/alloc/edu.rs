// SPDX-License-Identifier: GPL-2.0

//! A PCI driver for QEMU's edu device, so kmemlab has real hardware to map
//! and to DMA with.
//!
//! QEMU source: `hw/misc/edu.c`; documentation: `docs/specs/edu.rst`.
//!
//! The device (1234:11e8) has one MMIO BAR (1 MiB) with an identification
//! register, a liveness register that reads back the bitwise inverse of what
//! was written, a factorial unit, interrupt registers, and a DMA engine that
//! moves up to 4 KiB between RAM and a buffer inside the device, for
//! addresses within a 28-bit DMA mask.
//!
//! On probe the driver enables the device, sets its 28-bit DMA mask, maps
//! the DMA engine's registers, claims BAR0 and publishes the device in the
//! DMA registry ([`super::dma::Devices`]). Unbind takes it out again, then
//! waits until no object uses it (buffers, register mappings, a transfer in
//! flight) before it stops the device from mastering the bus and disables
//! it. One transfer runs at a time, under the engine's own lock.

use kernel::{
    bindings,
    device::{
        self,
        Bound,
        Core, //
    },
    dma::{
        Device as _,
        DmaMask, //
    },
    new_mutex, pci,
    prelude::*,
    sync::{
        aref::ARef,
        Arc,
        Mutex, //
    },
    time::{
        delay::fsleep,
        Delta, //
    },
};

use super::{
    dma::{
        self,
        DmaBuf,
        DmaDevice,
        DmaHost,
        HostRef, //
    },
    iomem::{
        IoMapping,
        Width, //
    },
};

/// Identification register: reads [`IDENT`].
const REG_IDENT: usize = 0x00;
/// Liveness register: reads back the bitwise inverse of the last write.
const REG_LIVENESS: usize = 0x04;
/// Factorial register: write n, read n! once the status says it is done.
const REG_FACTORIAL: usize = 0x08;
/// DMA source address.
const REG_DMA_SRC: usize = 0x80;
/// DMA destination address.
const REG_DMA_DST: usize = 0x88;
/// DMA byte count.
const REG_DMA_COUNT: usize = 0x90;
/// DMA command: [`DMA_RUN`] starts a transfer and reads back set until it is done.
const REG_DMA_CMD: usize = 0x98;
/// Bytes of BAR0 the driver maps for the DMA engine.
const ENGINE_WINDOW: usize = 0x100;

/// What the identification register reads: version 1.0, "ed" for edu.
pub(crate) const IDENT: u32 = 0x0100_00ed;
/// Bytes of BAR0 below the DMA engine: the registers a user may map by name.
pub(crate) const REGS_SIZE: usize = 0x80;
/// The device's DMA buffer, as the engine addresses it.
const DMA_BUFFER: u64 = 0x40000;
/// The size of the device's DMA buffer: the most one transfer moves.
pub(crate) const DMA_MAX: usize = 4096;
/// Command bit: start (reads back set while the transfer runs).
const DMA_RUN: u64 = 0x1;
/// Command bit: from the device's buffer to RAM (clear: RAM to the device).
const DMA_TO_RAM: u64 = 0x2;
/// The device decodes 28 bits of DMA address.
const DMA_MASK: DmaMask = DmaMask::new::<28>();
/// How long to wait for one transfer (QEMU runs it from a 100 ms timer).
const DMA_TIMEOUT_MS: i64 = 5000;
/// How often to look whether a transfer is done.
const DMA_POLL_MS: i64 = 10;

/// The DMA engine, used by one transfer at a time.
struct Engine {
    regs: IoMapping,
    pdev: ARef<pci::Device>,
    /// Set when a transfer did not finish: the engine is not used again.
    broken: bool,
}

impl Engine {
    /// Runs one transfer of `len` bytes and waits for it.
    fn transfer(&mut self, src: u64, dst: u64, len: usize, to_ram: bool) -> Result {
        if self.broken {
            return Err(ENODEV);
        }
        let cmd = DMA_RUN | if to_ram { DMA_TO_RAM } else { 0 };
        self.regs.write(REG_DMA_SRC, Width::W64, src)?;
        self.regs.write(REG_DMA_DST, Width::W64, dst)?;
        // CAST: at most `DMA_MAX` bytes.
        self.regs.write(REG_DMA_COUNT, Width::W64, len as u64)?;
        self.regs.write(REG_DMA_CMD, Width::W64, cmd)?;
        for _ in 0..DMA_TIMEOUT_MS / DMA_POLL_MS {
            fsleep(Delta::from_millis(DMA_POLL_MS));
            if self.regs.read(REG_DMA_CMD, Width::W64)? & DMA_RUN == 0 {
                return Ok(());
            }
        }
        // The transfer may still be pending: stop the device from mastering
        // the bus, so it cannot write into the buffers once they are freed.
        // SAFETY: `pdev` is a live PCI device (we hold a reference).
        unsafe { bindings::pci_clear_master(raw(&self.pdev)) };
        self.broken = true;
        Err(ETIMEDOUT)
    }
}

/// What kmemlab keeps for the bound edu device, in the DMA registry.
pub(crate) struct EduState {
    host: DmaHost,
    engine: Arc<Mutex<Engine>>,
    bar0: u64,
    bar0_len: u64,
}

impl EduState {
    /// The device as a DMA host.
    pub(crate) fn host(&self) -> &DmaHost {
        &self.host
    }
}

/// The raw `struct pci_dev` of `pdev`.
fn raw<Ctx: device::DeviceContext>(pdev: &pci::Device<Ctx>) -> *mut bindings::pci_dev {
    // CAST: `pci::Device` is a transparent wrapper of `struct pci_dev`.
    core::ptr::from_ref(pdev)
        .cast::<bindings::pci_dev>()
        .cast_mut()
}

/// Maps edu's register block (the [`REGS_SIZE`] bytes below the DMA engine),
/// counted as a use of the device so it cannot unbind under the mapping
/// (`ENODEV` when edu is not bound).
pub(crate) fn map_registers() -> Result<(IoMapping, HostRef)> {
    let devices = dma::devices()?;
    let edu = devices.edu()?;
    Ok((IoMapping::new(edu.bar0, REGS_SIZE)?, edu.host.user()))
}

/// BAR 0's physical address and size, with a use of the device that keeps
/// it bound while held (`ENODEV` when edu is not bound). For benchmarks of
/// mapping and unmapping: nothing may access the range through a mapping
/// made from these figures (the DMA engine is the driver's).
pub(crate) fn bar0() -> Result<(u64, u64, HostRef)> {
    let devices = dma::devices()?;
    let edu = devices.edu()?;
    Ok((edu.bar0, edu.bar0_len, edu.host.user()))
}

/// Whether a write of `width` bytes at `offset` of the register block
/// leaves the driver's use of the device undisturbed: only the liveness and
/// factorial registers qualify; the status and interrupt registers belong to
/// the driver (a raised interrupt nobody acknowledges would storm).
pub(crate) fn register_writable(offset: usize, width: usize) -> bool {
    offset >= REG_LIVENESS
        && offset
            .checked_add(width)
            .is_some_and(|end| end <= REG_FACTORIAL + 4)
}

/// Whether edu is bound.
pub(crate) fn bound() -> bool {
    dma::devices().is_ok_and(|d| d.edu().is_ok())
}

/// Has the DMA engine copy `len` bytes from `src` at `src_offset` into its
/// buffer, then from its buffer into `dst` at `dst_offset`.
///
/// Errors: `EINVAL` (a buffer not for edu, `len` 0 or above [`DMA_MAX`], a
/// range past a buffer's end), `ENODEV` (edu not bound, the buffers belong
/// to an earlier binding, or the engine is out of service after a timeout),
/// `ETIMEDOUT`.
pub(crate) fn dma_copy(
    src: &mut DmaBuf,
    src_offset: usize,
    dst: &mut DmaBuf,
    dst_offset: usize,
    len: usize,
) -> Result {
    use super::Allocation;

    let fits = |buf: &DmaBuf, offset: usize| {
        offset
            .checked_add(len)
            .is_some_and(|end| end <= buf.bytes().as_slice().len())
    };
    if src.device() != DmaDevice::Edu
        || dst.device() != DmaDevice::Edu
        || len == 0
        || len > DMA_MAX
        || !fits(src, src_offset)
        || !fits(dst, dst_offset)
    {
        return Err(EINVAL);
    }
    let engine = {
        let devices = dma::devices()?;
        let edu = devices.edu()?;
        if !src.host().is_of(&edu.host) || !dst.host().is_of(&edu.host) {
            return Err(ENODEV);
        }
        edu.engine.clone()
    };
    // The buffers keep the binding alive (unbind waits for them), so the
    // registry's lock is not needed while the engine runs.
    // CAST: offsets within a buffer fit in a bus address.
    let from = src.bus_address() + src_offset as u64;
    let to = dst.bus_address() + dst_offset as u64;
    let mut engine = engine.lock();
    engine.transfer(from, DMA_BUFFER, len, false)?;
    engine.transfer(DMA_BUFFER, to, len, true)
}

/// kmemlab's driver for the edu device.
pub(crate) struct EduDriver;

/// The driver's registration with the PCI core.
pub(crate) type EduRegistration = kernel::driver::Registration<pci::Adapter<EduDriver>>;

/// QEMU's edu device: vendor 0x1234 (not among the kernel crate's named
/// vendors), device 0x11e8.
const EDU_ID: pci::DeviceId = {
    let id = bindings::pci_device_id {
        vendor: 0x1234,
        device: 0x11e8,
        subvendor: !0,
        subdevice: !0,
        class: 0,
        class_mask: 0,
        driver_data: 0,
        override_only: 0,
    };
    // SAFETY: `pci::DeviceId` is a transparent wrapper of `struct pci_device_id`.
    unsafe { core::mem::transmute::<bindings::pci_device_id, pci::DeviceId>(id) }
};

kernel::pci_device_table!(
    EDU_TABLE,
    <EduDriver as pci::Driver>::IdInfo,
    [(EDU_ID, ())]
);

impl EduDriver {
    /// Sets the enabled device up, claims BAR0 and publishes the device.
    fn publish(pdev: &pci::Device<Core<'_>>) -> Result {
        pdev.set_master();
        // SAFETY: nothing allocates or maps for the device yet: it is
        // published only at the end of this function.
        unsafe { pdev.dma_set_mask_and_coherent(DMA_MASK)? };
        let bar0 = pdev.resource_start(0)?;
        let bar0_len = pdev.resource_len(0)?;
        // CAST: the window is a few hundred bytes.
        if bar0_len < ENGINE_WINDOW as u64 {
            return Err(ENODEV);
        }
        let regs = IoMapping::new(bar0, ENGINE_WINDOW)?;
        if regs.read(REG_IDENT, Width::W32)? != u64::from(IDENT) {
            return Err(ENODEV);
        }
        let bound: &pci::Device<Bound> = pdev;
        let dev: &device::Device<Bound> = bound.as_ref();
        let state = EduState {
            host: DmaHost::new(dev, DMA_MASK.value())?,
            engine: Arc::pin_init(
                new_mutex!(Engine {
                    regs,
                    pdev: bound.into(),
                    broken: false,
                }),
                GFP_KERNEL,
            )?,
            bar0,
            bar0_len,
        };
        let mut devices = dma::devices()?;
        if devices.edu().is_ok() {
            // One edu device is enough for kmemlab.
            return Err(EBUSY);
        }
        // Claim BAR0, so that no physical mapping (KMEMLAB_IOREMAP_PHYS
        // refuses busy ranges) can reach the engine behind the driver's back.
        // SAFETY: `pdev` is a live, enabled PCI device; the name is static.
        kernel::error::to_result(unsafe {
            bindings::pci_request_region(raw(pdev), 0, c"kmemlab-edu".as_char_ptr())
        })?;
        // SAFETY: the device is bound from a successful probe (nothing can
        // fail after this point, and the driver data is `()`) until unbind,
        // which unpublishes it first.
        unsafe { devices.publish_edu(state) };
        Ok(())
    }

    /// Undoes [`EduDriver::publish`] and `enable_device_mem`; `claimed`
    /// says whether BAR0 was claimed.
    fn release(pdev: &pci::Device<Core<'_>>, claimed: bool) {
        // SAFETY: the device is live; the driver enabled it and, when
        // `claimed`, requested BAR0; nothing of kmemlab uses it any more.
        unsafe {
            bindings::pci_clear_master(raw(pdev));
            if claimed {
                bindings::pci_release_region(raw(pdev), 0);
            }
            bindings::pci_disable_device(raw(pdev));
        }
    }
}

impl pci::Driver for EduDriver {
    type IdInfo = ();
    type Data<'bound> = ();
    const ID_TABLE: pci::IdTable<Self::IdInfo> = &EDU_TABLE;

    fn probe<'bound>(
        pdev: &'bound pci::Device<Core<'_>>,
        _info: Option<&'bound Self::IdInfo>,
    ) -> impl PinInit<Self::Data<'bound>, Error> + 'bound {
        let bound = pdev
            .enable_device_mem()
            .and_then(|()| Self::publish(pdev).inspect_err(|_| Self::release(pdev, false)));
        if let Err(e) = &bound {
            dev_info!(pdev, "kmemlab: not using this edu device: {:?}\n", e);
        }
        bound
    }

    fn unbind<'bound>(pdev: &'bound pci::Device<Core<'_>>, _this: Pin<&Self::Data<'bound>>) {
        // The registry was ready: probe could not have succeeded otherwise.
        let edu = dma::devices()
            .ok()
            .and_then(|mut devices| devices.unpublish_edu());
        // No new buffer, mapping or transfer can start now; the device stays
        // bound until the objects using it are freed.
        if let Some(edu) = edu {
            edu.host.wait_for_users();
            // A transfer in flight holds the engine: wait for it too.
            drop(edu.engine.lock());
        }
        Self::release(pdev, true);
    }
}

#[kunit_tests(kmemlab_edu)]
mod tests {
    use super::*;
    use crate::alloc::{
        gfp::Gfp,
        Allocation, //
    };

    // Without the edu device (not a QEMU guest) these tests have nothing to
    // test and pass; the kselftests report the skip.

    #[test]
    fn registers_answer() -> Result {
        let Ok((regs, _user)) = map_registers() else {
            return Ok(());
        };
        assert_eq!(regs.read(REG_IDENT, Width::W32)?, u64::from(IDENT));
        regs.write(REG_LIVENESS, Width::W32, 0x1234_5678)?;
        assert_eq!(regs.read(REG_LIVENESS, Width::W32)?, 0xedcb_a987);
        assert_eq!(regs.read(REGS_SIZE, Width::W32).err(), Some(EINVAL));
        assert_eq!(regs.read(2, Width::W32).err(), Some(EINVAL));
        Ok(())
    }

    #[test]
    fn dma_round_trip() -> Result {
        if !bound() {
            return Ok(());
        }
        let mut src = DmaBuf::new(DmaDevice::Edu, DMA_MAX, Gfp::KERNEL)?;
        let mut dst = DmaBuf::new(DmaDevice::Edu, DMA_MAX, Gfp::KERNEL)?;
        for (i, b) in src.bytes_mut().as_mut_slice().iter_mut().enumerate() {
            // CAST: the pattern keeps the low bits on purpose.
            *b = (i * 7 + 3) as u8;
        }
        dma_copy(&mut src, 0, &mut dst, 0, DMA_MAX)?;
        assert!(dst.bytes().as_slice() == src.bytes().as_slice());
        assert_eq!(
            dma_copy(&mut src, 1, &mut dst, 0, DMA_MAX).err(),
            Some(EINVAL)
        );
        Ok(())
    }

    #[test]
    fn only_liveness_and_factorial_are_writable() {
        assert!(register_writable(REG_LIVENESS, 4));
        assert!(register_writable(REG_FACTORIAL, 4));
        assert!(!register_writable(REG_IDENT, 4));
        assert!(!register_writable(0x20, 4));
        assert!(!register_writable(0x60, 4));
        assert!(!register_writable(REG_FACTORIAL, 8));
    }
}
