// SPDX-License-Identifier: GPL-2.0

//! `KMEMLAB_KIND_FREE_PAGES` (`__get_free_pages()`) and
//! `KMEMLAB_KIND_PAGES_NODE` (`alloc_pages_node()`): blocks of 2^order pages.

use kernel::prelude::*;

use super::{
    Ask,
    Kind,
    Plain,
    LOWMEM_BASES,
    NODE,
    ORDER,
    POLICY, //
};
use crate::{
    alloc::{
        gfp::{
            Gfp,
            GfpBase,
            GfpRule,
            Mods, //
        },
        pages::{
            FreePages,
            NodePages,
            MAX_ORDER, //
        },
        raw::RawWork,
        topology::Node,
    },
    uapi::{
        KMEMLAB_KIND_FREE_PAGES,
        KMEMLAB_KIND_PAGES_NODE, //
    },
};

/// The order asked for, with the other fields a page kind does not take
/// (`fields`) zero.
fn order(ask: &Ask<'_>, fields: u32) -> Result<u32> {
    ask.uses(fields)?;
    if ask.a.order > MAX_ORDER {
        return Err(EINVAL);
    }
    Ok(ask.a.order)
}

/// `__get_free_pages()` / `free_pages()`: takes an order (the pages lie
/// where the allocator puts them: the linear map, near the caller).
pub(crate) struct FreePagesKind;

impl Kind for FreePagesKind {
    const KIND: u32 = KMEMLAB_KIND_FREE_PAGES;
    /// The order.
    type Request = u32;
    type Memory = FreePages;
    type Sample<'r> = FreePages;
    type Sampler<'r> = Plain<'r, u32>;

    /// No node (so no `__GFP_THISNODE`), and no high memory: the pages are
    /// returned as a linear-map address.
    const GFP: GfpRule = GfpRule {
        bases: LOWMEM_BASES,
        mods: POLICY.with(Mods::DMA).with(Mods::DMA32),
    };

    fn ask(ask: &Ask<'_>) -> Result<u32> {
        order(ask, ORDER)
    }

    fn bytes(order: &u32) -> usize {
        kernel::page::PAGE_SIZE << *order
    }

    fn pages(order: &u32) -> usize {
        1 << *order
    }

    fn make(order: &u32, gfp: Gfp, _node: Node) -> Result<FreePages> {
        FreePages::new(*order, gfp)
    }

    fn sampler<'r>(order: &'r u32, gfp: Gfp, node: Node) -> Result<Plain<'r, u32>> {
        Plain::new(order, gfp, node)
    }

    fn sample<'r>(s: &Self::Sampler<'r>) -> Result<Self::Sample<'r>> {
        Self::make(s.req, s.gfp, s.node)
    }

    fn raw(order: &u32, _node: Node) -> Result<RawWork> {
        Ok(RawWork::FreePages(*order))
    }
}

/// `alloc_pages_node()` / `__free_pages()`: takes an order and a node.
pub(crate) struct PagesNodeKind;

impl Kind for PagesNodeKind {
    const KIND: u32 = KMEMLAB_KIND_PAGES_NODE;
    /// The order.
    type Request = u32;
    type Memory = NodePages;
    type Sample<'r> = NodePages;
    type Sampler<'r> = Plain<'r, u32>;

    /// Every choice: the pages are reached through `kmap_local_page()`.
    const GFP: GfpRule = GfpRule {
        bases: &GfpBase::ALL,
        mods: POLICY
            .with(Mods::DMA)
            .with(Mods::DMA32)
            .with(Mods::THISNODE),
    };

    fn ask(ask: &Ask<'_>) -> Result<u32> {
        order(ask, ORDER | NODE)
    }

    fn bytes(order: &u32) -> usize {
        FreePagesKind::bytes(order)
    }

    fn pages(order: &u32) -> usize {
        FreePagesKind::pages(order)
    }

    fn make(order: &u32, gfp: Gfp, node: Node) -> Result<NodePages> {
        NodePages::new(*order, gfp, node)
    }

    fn sampler<'r>(order: &'r u32, gfp: Gfp, node: Node) -> Result<Plain<'r, u32>> {
        Plain::new(order, gfp, node)
    }

    fn sample<'r>(s: &Self::Sampler<'r>) -> Result<Self::Sample<'r>> {
        Self::make(s.req, s.gfp, s.node)
    }

    fn raw(order: &u32, node: Node) -> Result<RawWork> {
        Ok(RawWork::NodePages(*order, node))
    }
}
