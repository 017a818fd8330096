// SPDX-License-Identifier: GPL-2.0

//! `KMEMLAB_KIND_DMA_POOL`: blocks of a DMA pool the file created.

use kernel::{
    prelude::*,
    sync::Arc, //
};

use super::{
    Ask,
    Kind,
    Purpose,
    CACHE,
    LOWMEM_BASES, //
};
use crate::{
    alloc::{
        dma::DmaBuf,
        dmapool::{
            BlockScope,
            DmaPool,
            PoolScope,
            ScopedBlock, //
        },
        gfp::{
            Gfp,
            GfpRule,
            Mods, //
        },
        raw::RawWork,
        topology::Node,
    },
    uapi::KMEMLAB_KIND_DMA_POOL,
};

/// `dma_pool_alloc()` / `dma_pool_free()`: takes a DMA pool handle.
pub(crate) struct DmaPoolKind;

/// A DMA pool, the handle the file knows it by, and for a benchmark run a
/// use of its device that keeps it bound for the run.
pub(crate) struct DmaPoolRequest {
    handle: u32,
    pool: Arc<DmaPool>,
    scope: Option<PoolScope>,
}

impl Kind for DmaPoolKind {
    const KIND: u32 = KMEMLAB_KIND_DMA_POOL;
    type Request = DmaPoolRequest;
    type Memory = DmaBuf;
    type Sample<'r> = ScopedBlock<'r>;
    type Sampler<'r> = BlockScope<'r>;

    /// What a new page of the pool takes with the mask: a header from the
    /// slab allocator (no high-memory bases) and coherent memory, whose zone
    /// the device's DMA mask chooses (no DMA, DMA32) and which is not
    /// charged (no ACCOUNT); no node to stay on (no THISNODE).
    const GFP: GfpRule = GfpRule {
        bases: LOWMEM_BASES,
        mods: Mods::ZERO
            .with(Mods::NOWARN)
            .with(Mods::NORETRY)
            .with(Mods::RETRY_MAYFAIL),
    };

    fn ask(ask: &Ask<'_>) -> Result<DmaPoolRequest> {
        ask.uses(CACHE)?;
        let pool = ask.caches.dma_pool(ask.a.cache)?;
        let scope = match ask.purpose {
            Purpose::Bench => Some(DmaPool::scope(&pool)?),
            Purpose::Objects => None,
        };
        Ok(DmaPoolRequest {
            handle: ask.a.cache,
            pool,
            scope,
        })
    }

    /// What a block takes of the pool's pages (the block size as the pool
    /// rounds it); no pages: the pool's pages are shared by its blocks and
    /// kept until it is destroyed (the file's table charges the pool for them).
    fn bytes(req: &DmaPoolRequest) -> usize {
        req.pool.footprint()
    }

    fn tag(req: &DmaPoolRequest) -> u32 {
        req.handle
    }

    fn make(req: &DmaPoolRequest, gfp: Gfp, _node: Node) -> Result<DmaBuf> {
        DmaPool::alloc(&req.pool, gfp)
    }

    fn sampler<'r>(req: &'r DmaPoolRequest, gfp: Gfp, _node: Node) -> Result<BlockScope<'r>> {
        req.scope.as_ref().ok_or(EINVAL)?.blocks(gfp)
    }

    fn sample<'r>(blocks: &Self::Sampler<'r>) -> Result<Self::Sample<'r>> {
        blocks.alloc()
    }

    /// The device is being unbound: the run stops and lets it go.
    fn stopping(req: &DmaPoolRequest) -> bool {
        req.scope.as_ref().is_some_and(PoolScope::stopping)
    }

    fn raw(req: &DmaPoolRequest, _node: Node) -> Result<RawWork> {
        Ok(RawWork::DmaPool(DmaPool::scope(&req.pool)?))
    }
}
