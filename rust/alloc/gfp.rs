// SPDX-License-Identifier: GPL-2.0

//! GFP flags: what an allocation may do to find memory, and where from.
//!
//! C header: [`include/linux/gfp_types.h`](srctree/include/linux/gfp_types.h)
//!
//! The kernel crate's [`Flags`] keeps its raw value private and names only a
//! few masks, and the raw C allocators kmemlab wraps take a `gfp_t`; [`Gfp`]
//! is one request, checked against the combinations the kernel has no
//! answer for, that yields either form. Which choices an interface takes is
//! a [`GfpRule`] its caller checks the request against ([`Gfp::check`]).

use kernel::{
    alloc::Flags,
    bindings,
    prelude::*, //
};

extern "C" {
    fn kmemlab_gfp_base_mask(base: c_uint) -> bindings::gfp_t;
}

/// How hard an allocation may try, and for whom: the base of a GFP mask.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum GfpBase {
    /// `GFP_KERNEL`: may sleep, reclaim and do I/O.
    Kernel,
    /// `GFP_ATOMIC`: must not sleep; may use the atomic reserves.
    Atomic,
    /// `GFP_NOWAIT`: must not sleep; no reserves.
    Nowait,
    /// `GFP_NOIO`: may sleep and reclaim, but start no I/O.
    Noio,
    /// `GFP_NOFS`: may sleep and reclaim, but call no filesystem.
    Nofs,
    /// `GFP_USER`: memory for userspace, within the caller's cpuset.
    User,
    /// `GFP_HIGHUSER`: as `GFP_USER`, from high memory where there is some.
    HighUser,
    /// `GFP_HIGHUSER_MOVABLE`: as `GFP_HIGHUSER`, movable (`ZONE_MOVABLE` allowed).
    HighUserMovable,
}

impl GfpBase {
    /// Every base, in the order of the C shim's numbering: the ones without
    /// high memory first (`GFP_KERNEL` to `GFP_USER`), then the two with.
    pub(crate) const ALL: [GfpBase; 8] = [
        GfpBase::Kernel,
        GfpBase::Atomic,
        GfpBase::Nowait,
        GfpBase::Noio,
        GfpBase::Nofs,
        GfpBase::User,
        GfpBase::HighUser,
        GfpBase::HighUserMovable,
    ];

    /// Whether the mask lets the memory come from high memory (`__GFP_HIGHMEM`).
    pub(crate) fn highmem(self) -> bool {
        matches!(self, GfpBase::HighUser | GfpBase::HighUserMovable)
    }

    /// The kernel's mask for this base.
    fn mask(self) -> bindings::gfp_t {
        // CAST: the shim numbers the bases as `ALL` lists them (0 to 7).
        let n = self as c_uint;
        // SAFETY: the shim returns a constant for any number; no memory is touched.
        unsafe { kmemlab_gfp_base_mask(n) }
    }
}

/// GFP modifiers, as a set.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct Mods(u32);

impl Mods {
    /// No modifier.
    pub(crate) const NONE: Mods = Mods(0);
    /// `__GFP_ZERO`: zeroed memory.
    pub(crate) const ZERO: Mods = Mods(1 << 0);
    /// `__GFP_NOWARN`: no allocation-failure report.
    pub(crate) const NOWARN: Mods = Mods(1 << 1);
    /// `__GFP_ACCOUNT`: charged to the caller's memory cgroup.
    pub(crate) const ACCOUNT: Mods = Mods(1 << 2);
    /// `__GFP_NORETRY`: fail rather than reclaim hard or call the OOM killer.
    pub(crate) const NORETRY: Mods = Mods(1 << 3);
    /// `__GFP_DMA`: from `ZONE_DMA`.
    pub(crate) const DMA: Mods = Mods(1 << 4);
    /// `__GFP_DMA32`: from `ZONE_DMA32` or below.
    pub(crate) const DMA32: Mods = Mods(1 << 5);
    /// `__GFP_THISNODE`: from the node asked for, or fail.
    pub(crate) const THISNODE: Mods = Mods(1 << 6);
    /// `__GFP_RETRY_MAYFAIL`: try hard, but fail rather than call the OOM killer.
    pub(crate) const RETRY_MAYFAIL: Mods = Mods(1 << 7);

    /// Both sets.
    pub(crate) const fn with(self, other: Mods) -> Mods {
        Mods(self.0 | other.0)
    }

    /// Whether every modifier of `other` is in the set.
    pub(crate) const fn has(self, other: Mods) -> bool {
        self.0 & other.0 == other.0
    }

    /// Whether the set and `other` share a modifier.
    const fn any(self, other: Mods) -> bool {
        self.0 & other.0 != 0
    }

    /// Each modifier with its kernel bit.
    fn bits() -> [(Mods, bindings::gfp_t); 8] {
        let bit = |n: u32| -> bindings::gfp_t { 1 << n };
        [
            (Mods::ZERO, bindings::__GFP_ZERO),
            (Mods::NOWARN, bindings::__GFP_NOWARN),
            (Mods::ACCOUNT, bit(bindings::___GFP_ACCOUNT_BIT)),
            (Mods::NORETRY, bit(bindings::___GFP_NORETRY_BIT)),
            (Mods::DMA, bit(bindings::___GFP_DMA_BIT)),
            (Mods::DMA32, bit(bindings::___GFP_DMA32_BIT)),
            (Mods::THISNODE, bit(bindings::___GFP_THISNODE_BIT)),
            (Mods::RETRY_MAYFAIL, bit(bindings::___GFP_RETRY_MAYFAIL_BIT)),
        ]
    }
}

/// The zone modifiers the kernel was built with a zone for.
fn zones_built() -> Mods {
    let mut m = Mods::NONE;
    if cfg!(CONFIG_ZONE_DMA) {
        m = m.with(Mods::DMA);
    }
    if cfg!(CONFIG_ZONE_DMA32) {
        m = m.with(Mods::DMA32);
    }
    m
}

/// Which GFP choices an interface takes: the bases, and the modifiers.
pub(crate) struct GfpRule {
    pub(crate) bases: &'static [GfpBase],
    pub(crate) mods: Mods,
}

/// A GFP request: one base and a set of modifiers, with the kernel mask
/// they make.
///
/// # Examples
///
/// ```ignore
/// let gfp = Gfp::KERNEL.zeroed();
/// assert_eq!(gfp.raw(), bindings::GFP_KERNEL | bindings::__GFP_ZERO);
/// assert!(gfp.flags().is_ok());
/// ```
///
/// Compiled and run as the KUnit case `kmemlab_gfp::example_gfp`.
///
/// # Invariants
///
/// `raw` is the kernel mask of `base` and `mods`, and the combination is
/// one the kernel has a zone and a meaning for (see [`Gfp::new`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Gfp {
    base: GfpBase,
    mods: Mods,
    raw: bindings::gfp_t,
}

impl Gfp {
    /// `GFP_KERNEL` with no modifier.
    pub(crate) const KERNEL: Gfp = Gfp {
        base: GfpBase::Kernel,
        mods: Mods::NONE,
        raw: bindings::GFP_KERNEL,
    };

    /// The request for `base` with `mods`. `EINVAL` for what no allocator
    /// takes: `DMA` with `DMA32`, either with a high-memory base (no zone
    /// is both), `NORETRY` with `RETRY_MAYFAIL` (opposite policies), and a
    /// zone modifier for a zone this kernel was built without.
    pub(crate) fn new(base: GfpBase, mods: Mods) -> Result<Gfp> {
        let zones = Mods::DMA.with(Mods::DMA32);
        if mods.has(zones)
            || (base.highmem() && mods.any(zones))
            || mods.has(Mods::NORETRY.with(Mods::RETRY_MAYFAIL))
            || (mods.any(zones) && !zones_built().has(Mods(mods.0 & zones.0)))
        {
            return Err(EINVAL);
        }
        let mut raw = base.mask();
        for (m, bits) in Mods::bits() {
            if mods.has(m) {
                raw |= bits;
            }
        }
        // INVARIANT: `raw` is made of `base` and `mods`, checked above.
        Ok(Gfp { base, mods, raw })
    }

    /// The base.
    pub(crate) fn base(self) -> GfpBase {
        self.base
    }

    /// The modifiers.
    pub(crate) fn mods(self) -> Mods {
        self.mods
    }

    /// Whether the request has every modifier of `m`.
    pub(crate) fn has(self, m: Mods) -> bool {
        self.mods.has(m)
    }

    /// The same request, asking for zeroed memory.
    pub(crate) fn zeroed(self) -> Gfp {
        // INVARIANT: `__GFP_ZERO` combines with everything `new` accepts.
        Gfp {
            mods: self.mods.with(Mods::ZERO),
            raw: self.raw | bindings::__GFP_ZERO,
            ..self
        }
    }

    /// The same request, or `EINVAL` when it has a bit of the kernel's
    /// `GFP_SLAB_BUG_MASK` (`__GFP_DMA32`, `__GFP_HIGHMEM`), which the slab
    /// allocator WARNs about and strips.
    #[inline]
    pub(crate) fn for_slab(self) -> Result<Gfp> {
        let bug = bindings::__GFP_HIGHMEM | (1 << bindings::___GFP_DMA32_BIT);
        if self.raw & bug != 0 {
            Err(EINVAL)
        } else {
            Ok(self)
        }
    }

    /// `EINVAL` unless `rule` takes the base and every modifier.
    pub(crate) fn check(self, rule: &GfpRule) -> Result {
        if rule.bases.contains(&self.base) && rule.mods.has(self.mods) {
            Ok(())
        } else {
            Err(EINVAL)
        }
    }

    /// The raw `gfp_t` for C allocators.
    pub(crate) fn raw(self) -> bindings::gfp_t {
        self.raw
    }

    /// The kernel crate's [`Flags`] for the same request.
    ///
    /// `Flags` names `GFP_KERNEL`, `GFP_ATOMIC`, `GFP_NOWAIT` and
    /// `GFP_KERNEL_ACCOUNT`, with `__GFP_ZERO` and `__GFP_NOWARN`, and
    /// nothing else: any other request is refused with `EINVAL`.
    pub(crate) fn flags(self) -> Result<Flags> {
        let plain = Mods::ZERO.with(Mods::NOWARN);
        let account = self.has(Mods::ACCOUNT);
        if !plain.with(Mods::ACCOUNT).has(self.mods) {
            return Err(EINVAL);
        }
        let mut flags = match (self.base, account) {
            (GfpBase::Kernel, false) => GFP_KERNEL,
            (GfpBase::Kernel, true) => GFP_KERNEL_ACCOUNT,
            (GfpBase::Atomic, false) => GFP_ATOMIC,
            (GfpBase::Nowait, false) => GFP_NOWAIT,
            _ => return Err(EINVAL),
        };
        if self.has(Mods::ZERO) {
            flags = flags | __GFP_ZERO;
        }
        if self.has(Mods::NOWARN) {
            flags = flags | __GFP_NOWARN;
        }
        Ok(flags)
    }
}

#[cfg(CONFIG_KUNIT)]
#[kernel::macros::kunit_tests(kmemlab_gfp)]
mod tests {
    use super::*;

    /// The kernel's `__GFP_*` bit `n`.
    fn bit(n: u32) -> bindings::gfp_t {
        1 << n
    }

    #[test]
    fn raw_masks_match_the_kernel() -> Result {
        assert_eq!(Gfp::KERNEL.raw(), bindings::GFP_KERNEL);
        assert_eq!(Gfp::new(GfpBase::Kernel, Mods::NONE)?, Gfp::KERNEL);
        assert_eq!(
            Gfp::KERNEL.zeroed().raw(),
            bindings::GFP_KERNEL | bindings::__GFP_ZERO
        );
        let account = Gfp::new(GfpBase::Kernel, Mods::ACCOUNT)?;
        assert_eq!(account.raw(), bindings::GFP_KERNEL_ACCOUNT);
        let atomic = Gfp::new(GfpBase::Atomic, Mods::NOWARN)?;
        assert_eq!(atomic.raw(), bindings::GFP_ATOMIC | bindings::__GFP_NOWARN);
        assert_eq!(
            Gfp::new(GfpBase::Nowait, Mods::NONE)?.raw(),
            bindings::GFP_NOWAIT
        );
        // The bases the bindings do not name, from their bits.
        let reclaim =
            bit(bindings::___GFP_DIRECT_RECLAIM_BIT) | bit(bindings::___GFP_KSWAPD_RECLAIM_BIT);
        let io = bit(bindings::___GFP_IO_BIT);
        let user = bindings::GFP_KERNEL | bit(bindings::___GFP_HARDWALL_BIT);
        assert_eq!(Gfp::new(GfpBase::Noio, Mods::NONE)?.raw(), reclaim);
        assert_eq!(Gfp::new(GfpBase::Nofs, Mods::NONE)?.raw(), reclaim | io);
        assert_eq!(Gfp::new(GfpBase::User, Mods::NONE)?.raw(), user);
        let high = Gfp::new(GfpBase::HighUser, Mods::NONE)?.raw();
        assert_eq!(high, user | bindings::__GFP_HIGHMEM);
        let movable = Gfp::new(GfpBase::HighUserMovable, Mods::NONE)?.raw();
        assert_eq!(
            movable & !bindings::___GFP_SKIP_KASAN,
            high | bit(bindings::___GFP_MOVABLE_BIT)
        );
        assert!(GfpBase::HighUser.highmem() && !GfpBase::User.highmem());
        Ok(())
    }

    #[test]
    fn modifiers_set_their_bits() -> Result {
        let all = Mods::ZERO
            .with(Mods::NOWARN)
            .with(Mods::ACCOUNT)
            .with(Mods::NORETRY)
            .with(Mods::THISNODE);
        let gfp = Gfp::new(GfpBase::Kernel, all)?;
        let want = bindings::GFP_KERNEL_ACCOUNT
            | bindings::__GFP_ZERO
            | bindings::__GFP_NOWARN
            | bit(bindings::___GFP_NORETRY_BIT)
            | bit(bindings::___GFP_THISNODE_BIT);
        assert_eq!(gfp.raw(), want);
        let mayfail = Gfp::new(GfpBase::Kernel, Mods::RETRY_MAYFAIL)?;
        assert_eq!(
            mayfail.raw(),
            bindings::GFP_KERNEL | bit(bindings::___GFP_RETRY_MAYFAIL_BIT)
        );
        if cfg!(CONFIG_ZONE_DMA) {
            let dma = Gfp::new(GfpBase::Kernel, Mods::DMA)?;
            assert_eq!(
                dma.raw(),
                bindings::GFP_KERNEL | bit(bindings::___GFP_DMA_BIT)
            );
        } else {
            assert_eq!(Gfp::new(GfpBase::Kernel, Mods::DMA).err(), Some(EINVAL));
        }
        if cfg!(CONFIG_ZONE_DMA32) {
            let dma32 = Gfp::new(GfpBase::Atomic, Mods::DMA32)?;
            assert_eq!(
                dma32.raw(),
                bindings::GFP_ATOMIC | bit(bindings::___GFP_DMA32_BIT)
            );
        }
        Ok(())
    }

    #[test]
    fn combinations_without_a_zone_or_meaning_are_refused() {
        let refused = |base, mods| assert_eq!(Gfp::new(base, mods).err(), Some(EINVAL));
        refused(GfpBase::Kernel, Mods::DMA.with(Mods::DMA32));
        refused(GfpBase::HighUser, Mods::DMA);
        refused(GfpBase::HighUserMovable, Mods::DMA32);
        refused(GfpBase::Kernel, Mods::NORETRY.with(Mods::RETRY_MAYFAIL));
    }

    #[test]
    fn slab_masks_are_checked() -> Result {
        assert!(Gfp::KERNEL.for_slab().is_ok());
        assert!(Gfp::new(GfpBase::HighUser, Mods::NONE)?.for_slab().is_err());
        if cfg!(CONFIG_ZONE_DMA32) {
            assert!(Gfp::new(GfpBase::Kernel, Mods::DMA32)?.for_slab().is_err());
        }
        Ok(())
    }

    #[test]
    fn rules_take_only_what_they_name() -> Result {
        let rule = GfpRule {
            bases: &[GfpBase::Kernel, GfpBase::Atomic],
            mods: Mods::ZERO.with(Mods::NOWARN),
        };
        assert!(Gfp::KERNEL.zeroed().check(&rule).is_ok());
        assert!(Gfp::new(GfpBase::Atomic, Mods::NOWARN)?
            .check(&rule)
            .is_ok());
        assert_eq!(
            Gfp::new(GfpBase::Noio, Mods::NONE)?.check(&rule).err(),
            Some(EINVAL)
        );
        assert_eq!(
            Gfp::new(GfpBase::Kernel, Mods::ACCOUNT)?.check(&rule).err(),
            Some(EINVAL)
        );
        Ok(())
    }

    #[test]
    fn flags_refuse_what_they_cannot_express() -> Result {
        let atomic_account = Gfp::new(GfpBase::Atomic, Mods::ACCOUNT)?;
        assert!(atomic_account.flags().is_err());
        assert!(Gfp::KERNEL.flags().is_ok());
        assert!(Gfp::new(GfpBase::Kernel, Mods::ACCOUNT)?.flags().is_ok());
        for (base, mods) in [
            (GfpBase::Kernel, Mods::NORETRY),
            (GfpBase::Noio, Mods::NONE),
            (GfpBase::User, Mods::NONE),
            (GfpBase::Kernel, Mods::RETRY_MAYFAIL),
        ] {
            assert!(Gfp::new(base, mods)?.flags().is_err());
        }
        Ok(())
    }

    #[test]
    fn example_gfp() -> Result {
        let gfp = Gfp::KERNEL.zeroed();
        assert_eq!(gfp.raw(), bindings::GFP_KERNEL | bindings::__GFP_ZERO);
        assert!(gfp.flags().is_ok());
        Ok(())
    }
}
