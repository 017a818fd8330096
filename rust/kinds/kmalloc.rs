// SPDX-License-Identifier: GPL-2.0

//! `KMEMLAB_KIND_KMALLOC`: `kmalloc_node()` of 1 byte to `KMALLOC_MAX_SIZE`.

use kernel::{
    bindings,
    prelude::*, //
};

use super::{
    block_pages,
    Ask,
    Kind,
    Plain,
    LOWMEM_BASES,
    NODE,
    POLICY,
    SIZE, //
};
use crate::{
    alloc::{
        gfp::{
            Gfp,
            GfpRule,
            Mods, //
        },
        kmalloc::{
            KmallocBuf,
            KMALLOC_MAX, //
        },
        raw::RawWork,
        topology::Node,
    },
    uapi::KMEMLAB_KIND_KMALLOC,
};

/// `kmalloc_node()` / `kfree()`: takes a size and a node, every GFP choice.
pub(crate) struct KmallocKind;

impl Kind for KmallocKind {
    const KIND: u32 = KMEMLAB_KIND_KMALLOC;
    /// Bytes.
    type Request = usize;
    type Memory = KmallocBuf;
    type Sample<'r> = KmallocBuf;
    type Sampler<'r> = Plain<'r, usize>;

    /// The `dma-kmalloc-*` caches for `__GFP_DMA`; `__GFP_DMA32` and high
    /// memory are in the slab allocator's `GFP_SLAB_BUG_MASK`.
    const GFP: GfpRule = GfpRule {
        bases: LOWMEM_BASES,
        mods: POLICY.with(Mods::DMA).with(Mods::THISNODE),
    };

    fn ask(ask: &Ask<'_>) -> Result<usize> {
        ask.uses(SIZE | NODE)?;
        ask.size(KMALLOC_MAX)
    }

    fn bytes(len: &usize) -> usize {
        *len
    }

    /// A size beyond the kmalloc caches comes straight from the page
    /// allocator, as a power-of-two block.
    fn pages(len: &usize) -> usize {
        // CAST: a `u32` fits in a `usize`.
        if *len > bindings::KMALLOC_MAX_CACHE_SIZE as usize {
            block_pages(*len)
        } else {
            0
        }
    }

    fn make(len: &usize, gfp: Gfp, node: Node) -> Result<KmallocBuf> {
        KmallocBuf::new(*len, gfp, node)
    }

    fn sampler<'r>(req: &'r usize, gfp: Gfp, node: Node) -> Result<Plain<'r, usize>> {
        Plain::new(req, gfp, node)
    }

    fn sample<'r>(s: &Self::Sampler<'r>) -> Result<Self::Sample<'r>> {
        Self::make(s.req, s.gfp, s.node)
    }

    fn raw(len: &usize, node: Node) -> Result<RawWork> {
        Ok(RawWork::Kmalloc(*len, node))
    }
}
