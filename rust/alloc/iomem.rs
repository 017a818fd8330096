// SPDX-License-Identifier: GPL-2.0

//! Device memory mapped with `ioremap()`.
//!
//! C header: [`include/asm-generic/io.h`](srctree/include/asm-generic/io.h)
//!
//! The kernel crate maps device memory only for a bound platform or PCI
//! driver; [`IoMapping`] owns a mapping of a physical range that is not RAM
//! and gives bounds- and alignment-checked 8/16/32/64-bit accesses through
//! the kernel crate's MMIO accessors ([`Mmio`]). Its constructors carry the
//! policy: an arbitrary range ([`IoMapping::phys`]) must be claimed first
//! ([`PhysRange::claim`]), with the proof that the task may map physical
//! memory ([`PhysAccess`], made only by [`may_map_physical`]), and stays
//! claimed for kmemlab while mapped, so no driver can claim it meanwhile; a range of a region kmemlab's own driver
//! claimed ([`IoMapping::claimed`]) is `unsafe` to map, with that contract.

use core::marker::PhantomData;

use kernel::{
    bindings,
    ffi::c_void,
    io::{
        Io,
        Mmio,
        MmioRaw,
        Region, //
    },
    prelude::*,
    sync::Arc,
};

extern "C" {
    fn kmemlab_ioremap(phys: bindings::phys_addr_t, size: usize) -> *mut c_void;
    fn kmemlab_iounmap(addr: *mut c_void);
    fn kmemlab_iomem_locked_down() -> bool;
    fn kmemlab_request_mem_region(phys: bindings::phys_addr_t, size: usize) -> bool;
    fn kmemlab_release_mem_region(phys: bindings::phys_addr_t, size: usize);
    #[cfg(CONFIG_KUNIT)]
    fn kmemlab_virt_to_phys(addr: *const c_void) -> bindings::phys_addr_t;
}

/// The width of one MMIO access.
///
/// # Examples
///
/// ```ignore
/// let width = Width::from_bytes(4)?;
/// assert_eq!((width, width.bytes(), width.max()), (Width::W32, 4, 0xffff_ffff));
/// assert_eq!(Width::from_bytes(3), Err(EINVAL));
/// ```
///
/// Compiled and run as the KUnit case `kmemlab_iomem::example_width`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Width {
    W8,
    W16,
    W32,
    W64,
}

impl Width {
    /// The width of `bytes` bytes: 1, 2, 4 or 8 (`EINVAL` otherwise).
    pub(crate) fn from_bytes(bytes: u32) -> Result<Width> {
        match bytes {
            1 => Ok(Width::W8),
            2 => Ok(Width::W16),
            4 => Ok(Width::W32),
            8 => Ok(Width::W64),
            _ => Err(EINVAL),
        }
    }

    /// The width in bytes.
    pub(crate) fn bytes(self) -> usize {
        match self {
            Width::W8 => 1,
            Width::W16 => 2,
            Width::W32 => 4,
            Width::W64 => 8,
        }
    }

    /// The largest value an access of this width carries.
    pub(crate) fn max(self) -> u64 {
        match self {
            Width::W8 => u8::MAX.into(),
            Width::W16 => u16::MAX.into(),
            Width::W32 => u32::MAX.into(),
            Width::W64 => u64::MAX,
        }
    }
}

/// Proof that the task that asked may map an arbitrary physical range:
/// only [`may_map_physical`] makes one, and it cannot leave the task (it is
/// neither `Send` nor `Sync`: a kernel thread passes every capability check,
/// so a proof must not be handed to one).
///
/// # Examples
///
/// See [`IoMapping`]'s example, which uses this type too (KUnit case
/// `kmemlab_iomem::example_io_mapping`).
pub(crate) struct PhysAccess {
    _not_send: PhantomData<*mut ()>,
}

/// Whether the caller may map an arbitrary physical range: it needs
/// `CAP_SYS_RAWIO` and a kernel that is not locked down (`EPERM` otherwise),
/// the rules `/dev/mem` follows.
pub(crate) fn may_map_physical() -> Result<PhysAccess> {
    // The capability first, as `/dev/mem` does: lockdown logs its refusals.
    // CAST: capability numbers are small.
    // SAFETY: `capable()` may be called from process context with any capability number.
    if !unsafe { bindings::capable(bindings::CAP_SYS_RAWIO as i32) } {
        return Err(EPERM);
    }
    // SAFETY: no precondition.
    if unsafe { kmemlab_iomem_locked_down() } {
        return Err(EPERM);
    }
    Ok(PhysAccess {
        _not_send: PhantomData,
    })
}

/// The last physical address the CPU can reach: the end of the root of the
/// I/O memory resource tree. `ioremap()` WARNs beyond it on x86.
fn physical_end() -> u64 {
    // SAFETY: `iomem_resource` is a static the kernel sets up at boot; its
    // end is not changed afterwards, and reading it is a plain load.
    unsafe { bindings::iomem_resource.end }
}

/// Checks that `size` bytes at `phys` make a range [`IoMapping`] can
/// take: both multiples of 4, `size` non-zero, within the physical address
/// space (`EINVAL` otherwise).
pub(crate) fn check_range(phys: u64, size: usize) -> Result {
    if size == 0 || size % 4 != 0 || phys % 4 != 0 {
        return Err(EINVAL);
    }
    // CAST: a `usize` fits in a `u64`.
    let last = phys.checked_add(size as u64 - 1).ok_or(EINVAL)?;
    if last > physical_end() {
        return Err(EINVAL);
    }
    Ok(())
}

/// Whether any byte of `phys..phys + size` is System RAM.
pub(crate) fn overlaps_ram(phys: u64, size: usize) -> bool {
    intersects(phys, size, bindings::IORESOURCE_SYSTEM_RAM)
}

/// Whether the range overlaps an I/O memory resource with all of `flags`.
fn intersects(phys: u64, size: usize, flags: u32) -> bool {
    // SAFETY: `region_intersects()` only walks the resource tree, under its lock.
    let found = unsafe {
        bindings::region_intersects(
            phys,
            size,
            // CAST: the flag and descriptor values fit in a C `unsigned long`.
            flags as usize,
            bindings::IORES_DESC_NONE as usize,
        )
    };
    // CAST: the `REGION_*` values are small.
    found != bindings::REGION_DISJOINT as i32
}

/// A range of I/O memory claimed for kmemlab (`request_mem_region()`,
/// named "kmemlab" in `/proc/iomem`), released when dropped.
///
/// # Invariants
///
/// `phys..phys + size` was requested by [`Claim::new`] and is released only
/// by `Drop`.
struct Claim {
    phys: u64,
    size: usize,
}

impl Claim {
    /// Claims the range: `EBUSY` when any of it is claimed already.
    fn new(phys: u64, size: usize) -> Result<Self> {
        // SAFETY: `request_mem_region()` only inserts into the resource tree,
        // under its lock; the name is static.
        if !unsafe { kmemlab_request_mem_region(phys, size) } {
            return Err(EBUSY);
        }
        // INVARIANT: requested just above.
        Ok(Self { phys, size })
    }
}

impl Drop for Claim {
    fn drop(&mut self) {
        // SAFETY: by the type invariant the range was requested by `new`.
        unsafe { kmemlab_release_mem_region(self.phys, self.size) };
    }
}

/// A physical range of device memory, claimed for kmemlab by a task that
/// was allowed to map it, ready to be mapped ([`IoMapping::phys`]). The
/// claim lasts until this value and every mapping made of it are gone.
///
/// # Examples
///
/// See [`IoMapping`]'s example, which uses this type too (KUnit case
/// `kmemlab_iomem::example_io_mapping`).
///
/// # Invariants
///
/// `claim` holds the request of `phys..phys + size`, a range that passed
/// [`check_range`] and is not System RAM.
pub(crate) struct PhysRange {
    phys: u64,
    size: usize,
    claim: Arc<Claim>,
}

impl PhysRange {
    /// Checks and claims `size` bytes at `phys`: both multiples of 4 and
    /// `size` non-zero (`EINVAL`); a range that overlaps System RAM is
    /// refused (`EACCES`), and so is one that cannot be claimed (`EBUSY`:
    /// any of it claimed already, by a driver or another kmemlab mapping,
    /// or it straddles the edge of a device's resource).
    pub(crate) fn claim(_access: &PhysAccess, phys: u64, size: usize) -> Result<Self> {
        check_range(phys, size)?;
        if overlaps_ram(phys, size) {
            return Err(EACCES);
        }
        let claim = Arc::new(Claim::new(phys, size)?, GFP_KERNEL)?;
        // INVARIANT: checked and claimed above.
        Ok(Self { phys, size, claim })
    }

    /// Bytes in the range.
    pub(crate) fn len(&self) -> usize {
        self.size
    }
}

/// A mapping of device memory, unmapped when dropped.
///
/// # Examples
///
/// ```ignore
/// // Only a task allowed to map physical memory gets a `PhysAccess`
/// // (`EPERM` without CAP_SYS_RAWIO or under lockdown).
/// let Ok(access) = may_map_physical() else {
///     return Ok(());
/// };
/// let ram = KBox::new([0u64; 8], GFP_KERNEL)?;
/// // SAFETY: `virt_to_phys()` of a live linear-map address.
/// let phys = unsafe { kmemlab_virt_to_phys((&raw const *ram).cast()) };
/// // System RAM is refused before anything is claimed; so are malformed ranges.
/// assert_eq!(PhysRange::claim(&access, phys, 64).err(), Some(EACCES));
/// assert_eq!(PhysRange::claim(&access, 0xfee0_0002, 4).err(), Some(EINVAL));
/// // A claimed range of device memory is mapped with `IoMapping::phys`.
/// ```
///
/// Compiled and run as the KUnit case `kmemlab_iomem::example_io_mapping`.
///
/// # Invariants
///
/// `raw` describes the whole mapping `ioremap()` returned for a physical
/// range of `raw.size()` bytes, which stays mapped until `Drop`; the range is
/// device memory (not System RAM), and while the mapping lives it is claimed
/// either by `_claim` or by the kmemlab driver that made the mapping; its
/// address and size are multiples of 4.
pub(crate) struct IoMapping {
    raw: MmioRaw<Region>,
    /// Dropped after `Drop::drop` has unmapped the range.
    _claim: Option<Arc<Claim>>,
}

impl IoMapping {
    /// Maps a claimed physical range ([`PhysRange::claim`]); the claim
    /// lasts at least as long as the mapping. `ENOMEM` when `ioremap()` fails.
    pub(crate) fn phys(range: &PhysRange) -> Result<Self> {
        let claim = Some(range.claim.clone());
        // SAFETY: by the invariant of `PhysRange` the range was checked, is not
        // System RAM and is claimed by `claim`, which the mapping keeps.
        unsafe { Self::map(range.phys, range.size, claim) }
    }

    /// Maps `size` bytes at `phys` of a region a kmemlab driver has claimed
    /// (a BAR it requested). No System RAM walk: the region is the device's.
    ///
    /// # Safety
    ///
    /// `phys..phys + size` lies in device memory the calling driver has
    /// requested, and the mapping is not accessed after the driver releases
    /// it (a mapping leaked rather than dropped is harmless).
    pub(crate) unsafe fn claimed(phys: u64, size: usize) -> Result<Self> {
        check_range(phys, size)?;
        // SAFETY: guaranteed by the caller.
        unsafe { Self::map(phys, size, None) }
    }

    /// Maps the range.
    ///
    /// # Safety
    ///
    /// `phys` and `size` passed [`check_range`]; the range is device memory,
    /// claimed by `claim` or (when `None`) by the calling driver for as long
    /// as the mapping lives.
    unsafe fn map(phys: u64, size: usize, claim: Option<Arc<Claim>>) -> Result<Self> {
        // SAFETY: the range is not System RAM (guaranteed by the caller), so
        // mapping it cannot alias the kernel's own cached mapping of memory.
        let addr = unsafe { kmemlab_ioremap(phys, size) };
        if addr.is_null() {
            return Err(ENOMEM);
        }
        // `ioremap()` keeps the offset within the page, so the address is a
        // multiple of 4 like `phys`, and the region check cannot fail.
        let raw = match MmioRaw::new_region(addr.addr(), size) {
            Ok(raw) => raw,
            Err(e) => {
                // SAFETY: `addr` was just mapped and is not used again.
                unsafe { kmemlab_iounmap(addr) };
                return Err(e);
            }
        };
        // INVARIANT: checked and mapped above; claimed as the caller says.
        Ok(Self { raw, _claim: claim })
    }

    /// Bytes mapped.
    pub(crate) fn size(&self) -> usize {
        self.raw.size()
    }

    /// The kernel crate's accessors over the mapping.
    fn io(&self) -> Mmio<'_, Region> {
        // SAFETY: by the type invariant, `raw` is mapped while `self` lives,
        // its address and size are multiples of 4.
        unsafe { Mmio::from_raw(self.raw) }
    }

    /// Reads `width` bytes at `offset` (`EINVAL` when unaligned or out of range).
    pub(crate) fn read(&self, offset: usize, width: Width) -> Result<u64> {
        let io = self.io();
        Ok(match width {
            Width::W8 => io.try_read8(offset)?.into(),
            Width::W16 => io.try_read16(offset)?.into(),
            Width::W32 => io.try_read32(offset)?.into(),
            Width::W64 => io.try_read64(offset)?,
        })
    }

    /// Writes the low `width` bytes of `value` at `offset` (`EINVAL` when
    /// unaligned, out of range, or `value` does not fit in `width`).
    pub(crate) fn write(&self, offset: usize, width: Width, value: u64) -> Result {
        let io = self.io();
        match width {
            Width::W8 => io.try_write8(u8::try_from(value)?, offset),
            Width::W16 => io.try_write16(u16::try_from(value)?, offset),
            Width::W32 => io.try_write32(u32::try_from(value)?, offset),
            Width::W64 => io.try_write64(value, offset),
        }
    }
}

impl Drop for IoMapping {
    fn drop(&mut self) {
        // SAFETY: by the type invariant, the address came from `ioremap()`
        // and is unmapped only here; nothing borrows `self` any more.
        unsafe { kmemlab_iounmap(core::ptr::without_provenance_mut(self.raw.addr())) };
    }
}

// SAFETY: MMIO accessors may be used from any thread; the mapping is global.
unsafe impl Send for IoMapping {}
// SAFETY: as above; every access is a single MMIO instruction.
unsafe impl Sync for IoMapping {}

#[kunit_tests(kmemlab_iomem)]
mod tests {
    use super::*;

    #[test]
    fn ram_is_refused_before_mapping() -> Result {
        // A kmalloc buffer is System RAM by definition.
        let buf = KBox::new([0u64; 8], GFP_KERNEL)?;
        // SAFETY: `virt_to_phys()` of a live linear-map address.
        let phys = unsafe { kmemlab_virt_to_phys((&raw const *buf).cast()) };
        assert!(overlaps_ram(phys, 64));
        let access = PhysAccess {
            _not_send: PhantomData,
        };
        assert_eq!(PhysRange::claim(&access, phys, 64).err(), Some(EACCES));
        Ok(())
    }

    #[test]
    fn malformed_ranges_are_refused() {
        let access = PhysAccess {
            _not_send: PhantomData,
        };
        let map = |phys, size| PhysRange::claim(&access, phys, size).err();
        assert_eq!(map(0xfee0_0000, 0), Some(EINVAL));
        assert_eq!(map(0xfee0_0002, 4), Some(EINVAL));
        assert_eq!(map(0xfee0_0000, 6), Some(EINVAL));
        assert_eq!(map(u64::MAX - 3, 8), Some(EINVAL));
        // Beyond the physical address space: refused before ioremap() can WARN.
        assert_eq!(map(physical_end() + 1, 4), Some(EINVAL));
        assert_eq!(map(physical_end() & !3, 8), Some(EINVAL));
    }

    #[test]
    fn widths() {
        assert_eq!(Width::from_bytes(4), Ok(Width::W32));
        assert_eq!(Width::from_bytes(3), Err(EINVAL));
        assert_eq!(Width::W16.max(), 0xffff);
    }

    #[test]
    fn example_io_mapping() -> Result {
        // Only a task allowed to map physical memory gets a `PhysAccess`
        // (`EPERM` without CAP_SYS_RAWIO or under lockdown).
        let Ok(access) = may_map_physical() else {
            return Ok(());
        };
        let ram = KBox::new([0u64; 8], GFP_KERNEL)?;
        // SAFETY: `virt_to_phys()` of a live linear-map address.
        let phys = unsafe { kmemlab_virt_to_phys((&raw const *ram).cast()) };
        // System RAM is refused before anything is claimed; so are malformed ranges.
        assert_eq!(PhysRange::claim(&access, phys, 64).err(), Some(EACCES));
        assert_eq!(
            PhysRange::claim(&access, 0xfee0_0002, 4).err(),
            Some(EINVAL)
        );
        // A claimed range of device memory is mapped with `IoMapping::phys`.
        Ok(())
    }

    #[test]
    fn example_width() -> Result {
        let width = Width::from_bytes(4)?;
        assert_eq!(
            (width, width.bytes(), width.max()),
            (Width::W32, 4, 0xffff_ffff)
        );
        assert_eq!(Width::from_bytes(3), Err(EINVAL));
        Ok(())
    }
}
