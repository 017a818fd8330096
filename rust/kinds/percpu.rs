// SPDX-License-Identifier: GPL-2.0

//! `KMEMLAB_KIND_PERCPU`: a `u64` counter per possible CPU.

use kernel::prelude::*;

use super::{
    Ask,
    Kind, //
    Plain,
};
use crate::{
    alloc::{
        gfp::{
            Gfp,
            GfpBase,
            GfpRule,
            Mods, //
        },
        percpu::PerCpu,
        raw::RawWork,
        topology::{
            self,
            Node, //
        },
    },
    uapi::KMEMLAB_KIND_PERCPU,
};

/// `alloc_percpu(u64)` / `free_percpu()`: takes nothing; `GFP_KERNEL` only.
pub(crate) struct PerCpuKind;

impl Kind for PerCpuKind {
    const KIND: u32 = KMEMLAB_KIND_PERCPU;
    type Request = ();
    type Memory = PerCpu<u64>;
    type Sample<'r> = PerCpu<u64>;
    type Sampler<'r> = Plain<'r, ()>;

    /// `alloc_percpu()` allocates with `GFP_KERNEL`, zeroed.
    const GFP: GfpRule = GfpRule {
        bases: &[GfpBase::Kernel],
        mods: Mods::NONE,
    };

    fn ask(ask: &Ask<'_>) -> Result {
        ask.uses(0)?;
        Ok(())
    }

    /// A `u64` for each possible CPU.
    fn bytes(_req: &()) -> usize {
        core::mem::size_of::<u64>() * topology::possible_cpus().count()
    }

    fn make(_req: &(), _gfp: Gfp, _node: Node) -> Result<PerCpu<u64>> {
        PerCpu::new()
    }

    fn sampler<'r>(req: &'r (), gfp: Gfp, node: Node) -> Result<Plain<'r, ()>> {
        Plain::new(req, gfp, node)
    }

    fn sample<'r>(s: &Self::Sampler<'r>) -> Result<Self::Sample<'r>> {
        Self::make(s.req, s.gfp, s.node)
    }

    fn raw(_req: &(), _node: Node) -> Result<RawWork> {
        Ok(RawWork::PerCpu)
    }
}
