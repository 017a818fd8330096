// SPDX-License-Identifier: GPL-2.0

//! `KMEMLAB_KIND_KVMALLOC`: `kvmalloc_node()` of 1 byte to `INT_MAX`.

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
        kvmalloc::{
            KvmallocBuf,
            KVMALLOC_KMALLOC_MAX,
            KVMALLOC_MAX, //
        },
        raw::RawWork,
        topology::Node,
    },
    uapi::KMEMLAB_KIND_KVMALLOC,
};

/// `kvmalloc_node()` / `kvfree()`: takes a size and a node.
pub(crate) struct KvmallocKind;

impl Kind for KvmallocKind {
    const KIND: u32 = KMEMLAB_KIND_KVMALLOC;
    /// Bytes.
    type Request = usize;
    type Memory = KvmallocBuf;
    type Sample<'r> = KvmallocBuf;
    type Sampler<'r> = Plain<'r, usize>;

    /// What both the slab allocator and vmalloc take: no high memory and
    /// no `__GFP_DMA32` (the slab allocator's `GFP_SLAB_BUG_MASK`). Both
    /// honour `__GFP_DMA` (the dma-kmalloc caches; vmalloc's pages from
    /// `ZONE_DMA`) and `__GFP_THISNODE` with the node.
    const GFP: GfpRule = GfpRule {
        bases: LOWMEM_BASES,
        mods: POLICY.with(Mods::DMA).with(Mods::THISNODE),
    };

    fn ask(ask: &Ask<'_>) -> Result<usize> {
        ask.uses(SIZE | NODE)?;
        ask.size(KVMALLOC_MAX)
    }

    fn bytes(len: &usize) -> usize {
        *len
    }

    /// Pages a kmalloc of the size takes beyond the kmalloc caches (a
    /// power-of-two block); beyond what kmalloc serves, vmalloc's page per
    /// page. Sizes in between may go either way: [`Kind::pages_taken`].
    fn pages(len: &usize) -> usize {
        // CAST: a `u32` fits in a `usize`.
        let cache_max = bindings::KMALLOC_MAX_CACHE_SIZE as usize;
        if *len <= cache_max {
            0
        } else if *len <= KVMALLOC_KMALLOC_MAX {
            block_pages(*len)
        } else {
            len.div_ceil(kernel::page::PAGE_SIZE)
        }
    }

    fn pages_taken(len: &usize, mem: &KvmallocBuf) -> usize {
        mem.vmalloc_pages().unwrap_or_else(|| Self::pages(len))
    }

    fn make(len: &usize, gfp: Gfp, node: Node) -> Result<KvmallocBuf> {
        KvmallocBuf::new(*len, gfp, node)
    }

    fn sampler<'r>(req: &'r usize, gfp: Gfp, node: Node) -> Result<Plain<'r, usize>> {
        Plain::new(req, gfp, node)
    }

    fn sample<'r>(s: &Self::Sampler<'r>) -> Result<Self::Sample<'r>> {
        Self::make(s.req, s.gfp, s.node)
    }

    fn raw(len: &usize, node: Node) -> Result<RawWork> {
        Ok(RawWork::Kvmalloc(*len, node))
    }
}
