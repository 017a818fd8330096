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
//! On probe the driver enables the device, claims BAR0, maps the DMA
//! engine's registers, sets its 28-bit DMA mask and publishes the device's
//! [`Binding`] (see [`super::device`]). All of it is the driver's data
//! ([`EduData`]), and dropping that data (the PCI core does at unbind, and a
//! failed probe does too) is the driver's unbind: it takes edu out of the
//! registry again, stops the device from mastering the bus, ends the engine
//! (a transfer in flight notices within one poll), and revokes the binding:
//! the coherent buffers and register mappings kmemlab's objects still hold
//! are freed there and then, and those objects answer `ENODEV` from then on.
//! Then BAR0 is released and the device disabled. Unbind never waits for
//! userspace. One transfer runs at a time, under the engine's own lock.

use core::marker::PhantomData;

use kernel::{
    device::{
        self,
        Bound,
        Core, //
    },
    dma::{
        Device as _,
        DmaMask, //
    },
    ffi::{
        c_char,
        c_int,
        c_void, //
    },
    new_mutex, pci,
    prelude::*,
    sync::{
        aref::ARef,
        atomic::{
            Acquire,
            Atomic,
            Release, //
        },
        Arc,
        Mutex, //
    },
    time::{
        delay::fsleep,
        Delta, //
    },
};

use super::{
    device::{
        self as devices,
        Binding,
        DmaDevice,
        Lease,
        Resource,
        Use, //
    },
    dma::DmaBuf,
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
    /// Set when a transfer did not finish: the engine is not used again.
    broken: bool,
}

impl Engine {
    /// Waits (at most one transfer's timeout) until the engine reports no
    /// transfer running.
    fn wait_idle(&self) {
        for _ in 0..DMA_TIMEOUT_MS / DMA_POLL_MS {
            match self.regs.read(REG_DMA_CMD, Width::W64) {
                Ok(cmd) if cmd & DMA_RUN != 0 => fsleep(Delta::from_millis(DMA_POLL_MS)),
                _ => return,
            }
        }
    }

    /// Runs one transfer of `len` bytes and waits for it; gives up with
    /// `ENODEV` when `abort` is set (the device is unbinding).
    fn transfer(
        &mut self,
        pdev: &pci::Device,
        abort: &Atomic<bool>,
        src: u64,
        dst: u64,
        len: usize,
        to_ram: bool,
    ) -> Result {
        if self.broken || abort.load(Acquire) {
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
            if abort.load(Acquire) {
                // Unbinding cleared bus mastering: the transfer cannot
                // touch memory any more.
                self.broken = true;
                return Err(ENODEV);
            }
            if self.regs.read(REG_DMA_CMD, Width::W64)? & DMA_RUN == 0 {
                return Ok(());
            }
        }
        // The transfer may still be pending: stop the device from mastering
        // the bus, so it cannot write into the buffers once they are freed.
        clear_master(pdev);
        self.broken = true;
        Err(ETIMEDOUT)
    }
}

/// What kmemlab keeps for the bound edu device, published in `EDU` (its
/// binding also in the device registry, for DMA).
#[pin_data]
struct EduState {
    binding: Arc<Binding>,
    pdev: ARef<pci::Device>,
    /// The engine, until unbind takes it away.
    #[pin]
    engine: Mutex<Option<Engine>>,
    /// Set by unbind: a transfer in flight stops at its next poll.
    abort: Atomic<bool>,
    bar0: u64,
    bar0_len: u64,
}

kernel::sync::global_lock! {
    // SAFETY: `super::init` initialises it exactly once, and `published`,
    // `publish_state` and `unpublish_state` refuse to lock it before that
    // has completed.
    unsafe(uninit) static EDU: Mutex<Option<Arc<EduState>>> = None;
}

/// Initialises [`EDU`]'s lock.
///
/// # Safety
///
/// Called once, by `super::init`, before any use of [`EDU`].
pub(super) unsafe fn init_lock() {
    // SAFETY: guaranteed by the caller.
    unsafe { EDU.init() };
}

/// The bound edu device (`ENODEV` when there is none).
fn published() -> Result<Arc<EduState>> {
    super::ready()?;
    EDU.lock().clone().ok_or(ENODEV)
}

/// Publishes edu's binding for DMA, then its state (`EBUSY` if an edu
/// device is published already); on failure nothing was published, so
/// nothing can have been leased or used.
///
/// Lock order: `EDU`, then the device registry.
fn publish_state(state: Arc<EduState>) -> Result {
    super::ready()?;
    let mut slot = EDU.lock();
    if slot.is_some() {
        return Err(EBUSY);
    }
    devices::publish(DmaDevice::Edu, state.binding.clone())?;
    *slot = Some(state);
    Ok(())
}

/// Takes edu out of the device registry, then its state out of [`EDU`].
fn unpublish_state() -> Option<Arc<EduState>> {
    devices::unpublish(DmaDevice::Edu);
    super::ready().ok()?;
    EDU.lock().take()
}

/// `pci_clear_master()`: the device stops mastering the bus.
fn clear_master(pdev: &pci::Device) {
    // SAFETY: the device is embedded in the live `struct pci_dev` `pdev`
    // wraps (`pdev` is borrowed for the call).
    unsafe { kmemlab_pci_clear_master(raw_dev(pdev)) };
}

// `struct device` as `void`: bindgen's `device` holds a zero-sized field
// that `improper_ctypes` rejects behind a pointer.
extern "C" {
    fn kmemlab_pci_clear_master(dev: *mut c_void);
    fn kmemlab_pci_disable_device(dev: *mut c_void);
    fn kmemlab_pci_request_region(dev: *mut c_void, bar: c_int, name: *const c_char) -> c_int;
    fn kmemlab_pci_release_region(dev: *mut c_void, bar: c_int);
}

/// The raw `struct device` of `pdev`, for the shim's PCI calls.
fn raw_dev<Ctx: device::DeviceContext>(pdev: &pci::Device<Ctx>) -> *mut c_void {
    let dev: &device::Device<Ctx> = pdev.as_ref();
    devices::raw_device(dev).cast()
}

/// edu enabled for memory access (`pci_enable_device_mem()`), disabled
/// again (`pci_disable_device()`, which also ends bus mastering) on drop.
///
/// # Invariants
///
/// This driver enabled `pdev` in [`Enabled::new`]; only `Drop` disables it.
struct Enabled<'a> {
    pdev: &'a pci::Device<Bound>,
}

impl<'a> Enabled<'a> {
    fn new(pdev: &'a pci::Device<Core<'_>>) -> Result<Self> {
        pdev.enable_device_mem()?;
        // INVARIANT: enabled just above.
        Ok(Self { pdev })
    }
}

impl Drop for Enabled<'_> {
    fn drop(&mut self) {
        // SAFETY: `pdev` is a live PCI device (borrowed for `'a`) that this
        // driver enabled, by the type invariant, and disables only here.
        unsafe { kmemlab_pci_disable_device(raw_dev(self.pdev)) };
    }
}

/// BAR0 claimed for the driver (`pci_request_region()`, "kmemlab-edu" in
/// `/proc/iomem`), released on drop.
///
/// # Invariants
///
/// This driver requested BAR0 of `pdev` in [`Bar0::claim`]; only `Drop`
/// releases it.
struct Bar0<'a> {
    pdev: &'a pci::Device<Bound>,
}

impl<'a> Bar0<'a> {
    /// Claims BAR0 of the device `enabled` holds (`EBUSY` when someone else
    /// holds the region).
    fn claim(enabled: &Enabled<'a>) -> Result<Self> {
        let pdev = enabled.pdev;
        // SAFETY: `pdev` is a live PCI device this driver enabled; the name
        // is static.
        kernel::error::to_result(unsafe {
            kmemlab_pci_request_region(raw_dev(pdev), 0, c"kmemlab-edu".as_char_ptr())
        })?;
        // INVARIANT: requested just above.
        Ok(Self { pdev })
    }
}

impl Drop for Bar0<'_> {
    fn drop(&mut self) {
        // Every mapping of BAR0 is gone by now: `Published` (dropped before
        // this field) revoked them, and a failed probe dropped its own.
        // SAFETY: requested by `claim` (type invariant), released only here.
        unsafe { kmemlab_pci_release_region(raw_dev(self.pdev), 0) };
    }
}

/// edu published for kmemlab: its state in `EDU`, its binding in the
/// device registry. Dropping it unpublishes edu, stops the device and its
/// engine, and revokes everything the binding still holds.
///
/// # Invariants
///
/// [`EduDriver::publish_claimed`] published edu for `pdev`, which stays
/// bound until this value is dropped (it is part of the driver's data).
struct Published<'a> {
    pdev: &'a pci::Device<Bound>,
}

impl Drop for Published<'_> {
    fn drop(&mut self) {
        let Some(edu) = unpublish_state() else {
            return;
        };
        // No new buffer, mapping, transfer or use can start now. Stop the
        // device from touching memory, then ask the uses to stop and the
        // engine to give up (in this order: a transfer that gives up lets
        // its buffers be freed).
        clear_master(self.pdev);
        edu.binding.stop_uses();
        edu.abort.store(true, Release);
        // A transfer in flight holds the engine: it gives up at its next
        // poll. The engine's own transfer ends on the device's timer (a DMA
        // it can no longer make): wait for that, then its registers go.
        if let Some(engine) = edu.engine.lock().take() {
            engine.wait_idle();
        }
        // Every buffer and mapping still held is freed here.
        // SAFETY: the device is still bound (type invariant), it masters the
        // bus no more and its engine is idle: nothing reaches a buffer.
        unsafe { edu.binding.revoke() };
    }
}

/// The driver's data while edu is bound: the publication, BAR0's claim,
/// the enabled device, torn down in that order (fields drop in declaration
/// order) when the PCI core drops the data at unbind, or when a probe fails
/// after they were set up (including the core's own failure to store them).
pub(crate) struct EduData<'a> {
    _published: Published<'a>,
    _bar0: Bar0<'a>,
    _enabled: Enabled<'a>,
}

/// A mapping of edu's register block, held by the device's binding:
/// unbinding unmaps it, after which every access is `ENODEV`.
///
/// # Examples
///
/// ```ignore
/// let regs = map_registers()?;
/// assert_eq!(regs.read(REG_IDENT, Width::W32)?, u64::from(IDENT));
/// regs.write(REG_LIVENESS, Width::W32, 1)?;
/// assert_eq!(regs.write(REG_IDENT, Width::W32, 0), Err(EACCES));
/// ```
///
/// Compiled and run as the KUnit case `kmemlab_edu::example_edu_regs`.
///
/// # Invariants
///
/// `lease` names a [`Resource::Regs`] mapping [`REGS_SIZE`] bytes.
pub(crate) struct EduRegs {
    lease: Lease,
}

impl EduRegs {
    /// Runs `f` on the mapping, while the binding holds it.
    fn with<R>(&self, f: impl FnOnce(&IoMapping) -> Result<R>) -> Result<R> {
        self.lease.with(|r| match r {
            Resource::Regs(map) => f(map),
            Resource::Coherent(_) | Resource::Pool(_) | Resource::Block(_) => Err(EINVAL),
        })?
    }

    /// Bytes mapped.
    pub(crate) fn size(&self) -> usize {
        REGS_SIZE
    }

    /// Reads `width` bytes at `offset` (`EINVAL` when unaligned or out of
    /// range, `ENODEV` once edu unbound).
    pub(crate) fn read(&self, offset: usize, width: Width) -> Result<u64> {
        self.with(|map| map.read(offset, width))
    }

    /// Writes `value` at `offset`: only the liveness and factorial
    /// registers (`EACCES` for the rest, see [`register_writable`]).
    pub(crate) fn write(&self, offset: usize, width: Width, value: u64) -> Result {
        if !register_writable(offset, width.bytes()) {
            return Err(EACCES);
        }
        self.with(|map| map.write(offset, width, value))
    }
}

/// Maps edu's register block (the [`REGS_SIZE`] bytes below the DMA
/// engine) for as long as edu stays bound (`ENODEV` when it is not).
pub(crate) fn map_registers() -> Result<EduRegs> {
    let edu = published()?;
    let bar0 = edu.bar0;
    // SAFETY: the closure maps edu's own registers (in BAR0, which the
    // driver claimed and releases only after the binding is revoked, which
    // unmaps this).
    let lease = unsafe {
        edu.binding
            .lease(|_| Ok(Resource::Regs(IoMapping::claimed(bar0, REGS_SIZE)?)))?
    };
    // INVARIANT: a mapping of `REGS_SIZE` bytes was just leased.
    Ok(EduRegs { lease })
}

/// The first `len` bytes of edu's BAR 0, for benchmarks of mapping and
/// unmapping, with a use of the device that keeps it bound (and BAR 0
/// claimed) while held. Runs stop when [`BarWindow::stopping`] says so.
///
/// # Examples
///
/// ```ignore
/// let window = BarWindow::new(4096)?;
/// let mapping = window.map()?;
/// // `mapping` borrows `window`: it cannot outlive edu's claim on BAR 0.
/// drop(mapping);
/// assert!(!window.stopping());
/// ```
///
/// Compiled and run as the KUnit case `kmemlab_edu::example_bar_window`.
pub(crate) struct BarWindow {
    phys: u64,
    len: usize,
    device: Use,
}

impl BarWindow {
    /// The window of `len` bytes: a non-zero multiple of 4, at most BAR 0's
    /// size (`EINVAL`); `ENODEV` when edu is not bound.
    pub(crate) fn new(len: u64) -> Result<Self> {
        let edu = published()?;
        if len == 0 || len % 4 != 0 || len > edu.bar0_len {
            return Err(EINVAL);
        }
        Ok(Self {
            phys: edu.bar0,
            len: usize::try_from(len)?,
            device: edu.binding.start_use()?,
        })
    }

    /// Bytes in the window.
    pub(crate) fn len(&self) -> usize {
        self.len
    }

    /// Whether edu's unbinding asks the run to stop.
    pub(crate) fn stopping(&self) -> bool {
        self.device.stopping()
    }

    /// Maps the window; the mapping cannot outlive the window (nor so the
    /// claim on BAR 0). It is for timing only: nothing reads or writes it.
    pub(crate) fn map(&self) -> Result<BarMapping<'_>> {
        // SAFETY: BAR 0 is claimed by edu's driver while `self.device` keeps
        // edu bound, and the mapping borrows `self`.
        let map = unsafe { IoMapping::claimed(self.phys, self.len)? };
        Ok(BarMapping {
            _map: map,
            _window: PhantomData,
        })
    }

    /// The window for the raw-C baseline (which maps and unmaps it from C),
    /// with another use of the device.
    pub(crate) fn raw_parts(&self) -> Result<BarRaw> {
        Ok(BarRaw {
            phys: self.phys,
            len: self.len,
            device: self.device.again()?,
        })
    }
}

/// A [`BarWindow`] as the raw-C baseline takes it: only
/// [`BarWindow::raw_parts`] makes one, so the baseline maps nothing but a
/// window of a BAR kmemlab's driver claimed, while the device stays bound.
pub(crate) struct BarRaw {
    phys: u64,
    len: usize,
    device: Use,
}

impl BarRaw {
    /// The range and the use of the device, for the baseline's constructor.
    pub(super) fn into_parts(self) -> (u64, usize, Use) {
        (self.phys, self.len, self.device)
    }
}

/// A mapping of a [`BarWindow`], unmapped on drop.
///
/// # Examples
///
/// See [`BarWindow`]'s example, which uses this type too (KUnit case
/// `kmemlab_edu::example_bar_window`).
pub(crate) struct BarMapping<'a> {
    _map: IoMapping,
    _window: PhantomData<&'a BarWindow>,
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
    published().is_ok()
}

/// Has the DMA engine copy `len` bytes from `src` at `src_offset` into its
/// buffer, then from its buffer into `dst` at `dst_offset`.
///
/// Errors: `EINVAL` (a buffer not for edu, `len` 0 or above [`DMA_MAX`], a
/// range past a buffer's end), `ENODEV` (edu not bound, the buffers belong
/// to an earlier binding, edu unbinding meanwhile, or the engine out of
/// service after a timeout), `ETIMEDOUT`.
pub(crate) fn dma_copy(
    src: &mut DmaBuf,
    src_offset: usize,
    dst: &mut DmaBuf,
    dst_offset: usize,
    len: usize,
) -> Result {
    let fits =
        |buf: &DmaBuf, offset: usize| offset.checked_add(len).is_some_and(|end| end <= buf.len());
    if src.device() != DmaDevice::Edu
        || dst.device() != DmaDevice::Edu
        || len == 0
        || len > DMA_MAX
        || !fits(src, src_offset)
        || !fits(dst, dst_offset)
    {
        return Err(EINVAL);
    }
    let edu = published()?;
    if !Arc::ptr_eq(src.binding(), &edu.binding) || !Arc::ptr_eq(dst.binding(), &edu.binding) {
        return Err(ENODEV);
    }
    // The engine's lock is held for the whole copy, and unbind takes it
    // (after stopping the device) before it frees the buffers: they outlive
    // the transfer. Bus addresses are looked up under it, so a binding
    // revoked before is seen (`ENODEV`).
    let mut guard = edu.engine.lock();
    let engine = Option::as_mut(&mut *guard).ok_or(ENODEV)?;
    // CAST: offsets within a buffer fit in a bus address.
    let from = src.bus_address()? + src_offset as u64;
    let to = dst.bus_address()? + dst_offset as u64;
    engine.transfer(&edu.pdev, &edu.abort, from, DMA_BUFFER, len, false)?;
    engine.transfer(&edu.pdev, &edu.abort, DMA_BUFFER, to, len, true)
}

/// kmemlab's driver for the edu device.
pub(crate) struct EduDriver;

/// The driver's registration with the PCI core.
pub(crate) type EduRegistration = kernel::driver::Registration<pci::Adapter<EduDriver>>;

/// QEMU's vendor id, which the kernel crate's named vendors lack.
const EDU_VENDOR: u16 = 0x1234;
/// edu's device id.
const EDU_DEVICE: u16 = 0x11e8;
/// edu's class code: QEMU gives it `PCI_CLASS_OTHERS` (0xff) as its
/// 16-bit class, which reads as base class 0, subclass 0xff.
const EDU_CLASS: u32 = 0x00ff00;

/// The kernel crate builds a vendor-and-device match only for the vendors
/// it names, so the driver matches edu's class and checks vendor and device
/// first thing in probe (any other device of the class is refused with
/// `ENODEV`, untouched).
const EDU_ID: pci::DeviceId = pci::DeviceId::from_class(EDU_CLASS, 0xffff00);

kernel::pci_device_table!(
    EDU_TABLE,
    <EduDriver as pci::Driver>::IdInfo,
    [(EDU_ID, ())]
);

impl EduDriver {
    /// Enables the device, claims BAR0, sets the device up and publishes
    /// it; on failure what was done is undone as the parts made so far drop.
    fn publish<'bound>(pdev: &'bound pci::Device<Core<'_>>) -> Result<EduData<'bound>> {
        let bar0 = pdev.resource_start(0)?;
        let bar0_len = pdev.resource_len(0)?;
        // CAST: the window is a few hundred bytes.
        if bar0_len < ENGINE_WINDOW as u64 {
            return Err(ENODEV);
        }
        let enabled = Enabled::new(pdev)?;
        // Claim BAR0 first: the driver maps only what it owns, and no
        // physical mapping (KMEMLAB_IOREMAP_PHYS claims what it maps) can
        // reach the engine behind the driver's back.
        let claim = Bar0::claim(&enabled)?;
        Ok(EduData {
            _published: Self::publish_claimed(pdev, bar0, bar0_len)?,
            _bar0: claim,
            _enabled: enabled,
        })
    }

    /// [`EduDriver::publish`] once BAR0 (`bar0`, `bar0_len` bytes) is claimed.
    fn publish_claimed<'bound>(
        pdev: &'bound pci::Device<Core<'_>>,
        bar0: u64,
        bar0_len: u64,
    ) -> Result<Published<'bound>> {
        // SAFETY: BAR0 is claimed by this driver, and the mapping goes (with
        // the engine, when `Published` drops, or below) before the claim is
        // released.
        let regs = unsafe { IoMapping::claimed(bar0, ENGINE_WINDOW)? };
        if regs.read(REG_IDENT, Width::W32)? != u64::from(IDENT) {
            return Err(ENODEV);
        }
        // A transfer of an earlier binding still pending would land once the
        // device masters the bus again (unbind waits for it to end).
        if regs.read(REG_DMA_CMD, Width::W64)? & DMA_RUN != 0 {
            return Err(EBUSY);
        }
        pdev.set_master();
        // SAFETY: nothing allocates or maps for the device yet: it is
        // published only at the end of this function.
        unsafe { pdev.dma_set_mask_and_coherent(DMA_MASK)? };
        let bound: &pci::Device<Bound> = pdev;
        let dev: &device::Device<Bound> = bound.as_ref();
        // SAFETY: `Published`'s drop revokes the binding while the device is
        // still bound (it is part of the driver's data), and so does every
        // failure path below.
        let binding = unsafe { Binding::new(dev, DMA_MASK.value())? };
        // SAFETY: the device is bound (probe) and nothing was leased from the
        // unpublished binding yet, so no transfer can reach one.
        let undo = || unsafe { binding.revoke() };
        let for_state = binding.clone();
        let state = Arc::pin_init(
            try_pin_init!(EduState {
                binding: for_state,
                pdev: bound.into(),
                engine <- new_mutex!(Some(Engine {
                    regs,
                    broken: false,
                })),
                abort: Atomic::new(false),
                bar0,
                bar0_len,
            }),
            GFP_KERNEL,
        )
        .inspect_err(|_| undo())?;
        publish_state(state).inspect_err(|_| undo())?;
        // INVARIANT: published just above; `pdev` is bound for `'bound`.
        Ok(Published { pdev })
    }
}

impl pci::Driver for EduDriver {
    type IdInfo = ();
    /// Everything the binding holds: dropping it is the driver's unbind.
    type Data<'bound> = EduData<'bound>;
    const ID_TABLE: pci::IdTable<Self::IdInfo> = &EDU_TABLE;

    fn probe<'bound>(
        pdev: &'bound pci::Device<Core<'_>>,
        _info: Option<&'bound Self::IdInfo>,
    ) -> impl PinInit<Self::Data<'bound>, Error> + 'bound {
        // Another device of edu's class: not ours, left untouched.
        if pdev.vendor_id().as_raw() != EDU_VENDOR || pdev.device_id() != EDU_DEVICE {
            return Err(ENODEV);
        }
        let bound = Self::publish(pdev);
        if let Err(e) = &bound {
            dev_info!(pdev, "kmemlab: not using this edu device: {:?}\n", e);
        }
        bound
    }
}

#[kunit_tests(kmemlab_edu)]
mod tests {
    use super::*;
    use crate::alloc::gfp::Gfp;

    // Without the edu device (not a QEMU guest) these tests have nothing to
    // test and pass; the kselftests report the skip.

    #[test]
    fn registers_answer() -> Result {
        let Ok(regs) = map_registers() else {
            return Ok(());
        };
        assert_eq!(regs.read(REG_IDENT, Width::W32)?, u64::from(IDENT));
        regs.write(REG_LIVENESS, Width::W32, 0x1234_5678)?;
        assert_eq!(regs.read(REG_LIVENESS, Width::W32)?, 0xedcb_a987);
        assert_eq!(regs.read(REGS_SIZE, Width::W32).err(), Some(EINVAL));
        assert_eq!(regs.read(2, Width::W32).err(), Some(EINVAL));
        assert_eq!(regs.write(REG_IDENT, Width::W32, 0).err(), Some(EACCES));
        Ok(())
    }

    #[test]
    fn dma_round_trip() -> Result {
        if !bound() {
            return Ok(());
        }
        let mut src = DmaBuf::new(DmaDevice::Edu, DMA_MAX, Gfp::KERNEL)?;
        let mut dst = DmaBuf::new(DmaDevice::Edu, DMA_MAX, Gfp::KERNEL)?;
        src.with_bytes_mut(|b| {
            for (i, b) in b.iter_mut().enumerate() {
                // CAST: the pattern keeps the low bits on purpose.
                *b = (i * 7 + 3) as u8;
            }
        })?;
        dma_copy(&mut src, 0, &mut dst, 0, DMA_MAX)?;
        // CAST: as above.
        let copied = |b: &[u8]| b.iter().enumerate().all(|(i, b)| *b == (i * 7 + 3) as u8);
        // One buffer at a time: both are reached under the binding's lock.
        assert!(dst.with_bytes(copied)?);
        assert_eq!(
            dma_copy(&mut src, 1, &mut dst, 0, DMA_MAX).err(),
            Some(EINVAL)
        );
        Ok(())
    }

    #[test]
    fn dma_round_trip_through_pool_blocks() -> Result {
        use crate::alloc::dmapool::{
            DmaPool,
            PoolShape, //
        };
        if !bound() {
            return Ok(());
        }
        let pool = DmaPool::new(DmaDevice::Edu, b"kunit-edu", PoolShape::new(256, 64, 0)?)?;
        let mut src = DmaPool::alloc(&pool, Gfp::KERNEL)?;
        let mut dst = DmaPool::alloc(&pool, Gfp::KERNEL)?;
        let mut buf = DmaBuf::new(DmaDevice::Edu, 256, Gfp::KERNEL)?;
        src.with_bytes_mut(|b| b.fill(0x3c))?;
        dma_copy(&mut src, 0, &mut buf, 0, 256)?;
        dma_copy(&mut buf, 0, &mut dst, 0, 256)?;
        assert!(dst.with_bytes(|b| b.iter().all(|x| *x == 0x3c))?);
        assert_eq!(dma_copy(&mut src, 0, &mut dst, 0, 257).err(), Some(EINVAL));
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

    #[test]
    fn example_edu_regs() -> Result {
        if !bound() {
            return Ok(());
        }
        let regs = map_registers()?;
        assert_eq!(regs.read(REG_IDENT, Width::W32)?, u64::from(IDENT));
        regs.write(REG_LIVENESS, Width::W32, 1)?;
        assert_eq!(regs.write(REG_IDENT, Width::W32, 0), Err(EACCES));
        Ok(())
    }

    #[test]
    fn example_bar_window() -> Result {
        if !bound() {
            return Ok(());
        }
        let window = BarWindow::new(4096)?;
        let mapping = window.map()?;
        // `mapping` borrows `window`: it cannot outlive edu's claim on BAR 0.
        drop(mapping);
        assert!(!window.stopping());
        Ok(())
    }
}
