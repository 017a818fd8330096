// SPDX-License-Identifier: GPL-2.0

//! GFP flags: what an allocation may do to find memory.
//!
//! C header: [`include/linux/gfp_types.h`](srctree/include/linux/gfp_types.h)
//!
//! The kernel crate's [`Flags`] keeps its raw value private, and the raw C
//! allocators kmemlab wraps take a `gfp_t`; [`Gfp`] is one validated request
//! that yields either form.

use kernel::{
    alloc::Flags,
    bindings,
    prelude::*, //
};

/// How hard an allocation may try: the base of a GFP mask.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum GfpBase {
    /// May sleep, reclaim and do I/O.
    Kernel,
    /// Must not sleep; may use the atomic reserves.
    Atomic,
    /// Must not sleep; no reserves.
    Nowait,
}

/// A GFP request: one base and the modifiers kmemlab supports.
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
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Gfp {
    pub(crate) base: GfpBase,
    /// `__GFP_ZERO`: return zeroed memory.
    pub(crate) zero: bool,
    /// `__GFP_NOWARN`: no allocation-failure report.
    pub(crate) nowarn: bool,
    /// `__GFP_ACCOUNT`: charge the memory to the caller's memory cgroup.
    pub(crate) account: bool,
    /// `__GFP_NORETRY`: fail early rather than reclaim hard or call the OOM
    /// killer.
    pub(crate) noretry: bool,
}

/// `__GFP_NORETRY` is a macro the bindings do not export; its bit number is
/// an enumerator they do.
const GFP_NORETRY_BIT: bindings::gfp_t = 1 << bindings::___GFP_NORETRY_BIT;

/// `__GFP_ACCOUNT` is only reachable through `GFP_KERNEL_ACCOUNT` in the bindings.
const GFP_ACCOUNT_BIT: bindings::gfp_t = bindings::GFP_KERNEL_ACCOUNT & !bindings::GFP_KERNEL;

impl Gfp {
    /// `GFP_KERNEL` with no modifier.
    pub(crate) const KERNEL: Gfp = Gfp {
        base: GfpBase::Kernel,
        zero: false,
        nowarn: false,
        account: false,
        noretry: false,
    };

    /// The same request, asking for zeroed memory.
    pub(crate) fn zeroed(self) -> Gfp {
        Gfp { zero: true, ..self }
    }

    /// The raw `gfp_t` for C allocators.
    pub(crate) fn raw(self) -> bindings::gfp_t {
        let mut gfp = match self.base {
            GfpBase::Kernel => bindings::GFP_KERNEL,
            GfpBase::Atomic => bindings::GFP_ATOMIC,
            GfpBase::Nowait => bindings::GFP_NOWAIT,
        };
        if self.zero {
            gfp |= bindings::__GFP_ZERO;
        }
        if self.nowarn {
            gfp |= bindings::__GFP_NOWARN;
        }
        if self.account {
            gfp |= GFP_ACCOUNT_BIT;
        }
        if self.noretry {
            gfp |= GFP_NORETRY_BIT;
        }
        gfp
    }

    /// The kernel crate's [`Flags`] for the same request.
    ///
    /// `Flags` can only express accounting as `GFP_KERNEL_ACCOUNT`, so an
    /// accounted atomic or nowait request is refused with `EINVAL`; it has no
    /// `__GFP_NORETRY` at all (`EINVAL` too).
    pub(crate) fn flags(self) -> Result<Flags> {
        if self.noretry {
            return Err(EINVAL);
        }
        let mut flags = match (self.base, self.account) {
            (GfpBase::Kernel, false) => GFP_KERNEL,
            (GfpBase::Kernel, true) => GFP_KERNEL_ACCOUNT,
            (GfpBase::Atomic, false) => GFP_ATOMIC,
            (GfpBase::Nowait, false) => GFP_NOWAIT,
            (_, true) => return Err(EINVAL),
        };
        if self.zero {
            flags = flags | __GFP_ZERO;
        }
        if self.nowarn {
            flags = flags | __GFP_NOWARN;
        }
        Ok(flags)
    }
}

#[cfg(CONFIG_KUNIT)]
#[kernel::macros::kunit_tests(kmemlab_gfp)]
mod tests {
    use super::*;

    #[test]
    fn raw_masks_match_the_kernel() {
        assert_eq!(Gfp::KERNEL.raw(), bindings::GFP_KERNEL);
        assert_eq!(
            Gfp::KERNEL.zeroed().raw(),
            bindings::GFP_KERNEL | bindings::__GFP_ZERO
        );
        let account = Gfp {
            account: true,
            ..Gfp::KERNEL
        };
        assert_eq!(account.raw(), bindings::GFP_KERNEL_ACCOUNT);
        let atomic = Gfp {
            base: GfpBase::Atomic,
            nowarn: true,
            ..Gfp::KERNEL
        };
        assert_eq!(atomic.raw(), bindings::GFP_ATOMIC | bindings::__GFP_NOWARN);
    }

    #[test]
    fn flags_refuse_what_they_cannot_express() {
        let atomic_account = Gfp {
            base: GfpBase::Atomic,
            account: true,
            ..Gfp::KERNEL
        };
        assert!(atomic_account.flags().is_err());
        assert!(Gfp::KERNEL.flags().is_ok());
        let noretry = Gfp {
            noretry: true,
            ..Gfp::KERNEL
        };
        assert!(noretry.flags().is_err());
        assert_eq!(noretry.raw(), bindings::GFP_KERNEL | GFP_NORETRY_BIT);
    }

    #[test]
    fn example_gfp() -> Result {
        let gfp = Gfp::KERNEL.zeroed();
        assert_eq!(gfp.raw(), bindings::GFP_KERNEL | bindings::__GFP_ZERO);
        assert!(gfp.flags().is_ok());
        Ok(())
    }
}
