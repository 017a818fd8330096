// SPDX-License-Identifier: GPL-2.0

//! `KMEMLAB_KIND_VMALLOC`: `vmalloc_node()` of 1 byte to 1 GiB.

use kernel::prelude::*;

use super::{
    Ask,
    Kind,
    Plain,
    KERNEL_ONLY,
    NODE,
    SIZE, //
};
use crate::{
    alloc::{
        gfp::{
            Gfp,
            GfpRule, //
        },
        raw::RawWork,
        topology::Node,
        vmalloc::{
            VmallocBuf,
            VMALLOC_MAX, //
        },
    },
    uapi::KMEMLAB_KIND_VMALLOC,
};

/// `vzalloc_node()` / `vfree()`: takes a size and a node, `GFP_KERNEL` only.
pub(crate) struct VmallocKind;

impl Kind for VmallocKind {
    const KIND: u32 = KMEMLAB_KIND_VMALLOC;
    /// Bytes.
    type Request = usize;
    type Memory = VmallocBuf;
    type Sample<'r> = VmallocBuf;
    type Sampler<'r> = Plain<'r, usize>;

    /// `vzalloc_node()` allocates with `GFP_KERNEL` whatever is asked (the
    /// call that takes a mask and a node is not exported to modules):
    /// refuse what it would not do, before a benchmark's baseline ignores it.
    const GFP: GfpRule = KERNEL_ONLY;

    fn ask(ask: &Ask<'_>) -> Result<usize> {
        ask.uses(SIZE | NODE)?;
        ask.size(VMALLOC_MAX)
    }

    fn bytes(len: &usize) -> usize {
        *len
    }

    /// Every page of the area comes from the page allocator.
    fn pages(len: &usize) -> usize {
        len.div_ceil(kernel::page::PAGE_SIZE)
    }

    fn make(len: &usize, gfp: Gfp, node: Node) -> Result<VmallocBuf> {
        VmallocBuf::new(*len, gfp, node)
    }

    fn sampler<'r>(req: &'r usize, gfp: Gfp, node: Node) -> Result<Plain<'r, usize>> {
        Plain::new(req, gfp, node)
    }

    fn sample<'r>(s: &Self::Sampler<'r>) -> Result<Self::Sample<'r>> {
        Self::make(s.req, s.gfp, s.node)
    }

    fn raw(len: &usize, node: Node) -> Result<RawWork> {
        Ok(RawWork::Vmalloc(*len, node))
    }
}
