// SPDX-License-Identifier: GPL-2.0

//! `KMEMLAB_KIND_MEMPOOL`: elements of a mempool the file created.

use kernel::{
    prelude::*,
    sync::Arc, //
};

use super::{
    Ask,
    Kind,
    CACHE, //
};
use crate::{
    alloc::{
        gfp::{
            Gfp,
            GfpBase,
            GfpRule,
            Mods, //
        },
        mempool::{
            ElementScope,
            MemPool,
            PoolElement,
            ScopedElement, //
        },
        raw::RawWork,
        topology::Node,
    },
    uapi::KMEMLAB_KIND_MEMPOOL,
};

/// `mempool_alloc()` / `mempool_free()`: takes a mempool handle.
pub(crate) struct MempoolKind;

/// A mempool, and the handle the file knows it by.
pub(crate) struct MempoolRequest {
    handle: u32,
    pool: Arc<MemPool>,
}

impl Kind for MempoolKind {
    const KIND: u32 = KMEMLAB_KIND_MEMPOOL;
    type Request = MempoolRequest;
    type Memory = PoolElement;
    type Sample<'r> = ScopedElement<'r>;
    type Sampler<'r> = ElementScope<'r>;

    /// Masks that cannot sleep: with one that may, `mempool_alloc()` waits
    /// without a limit for an element to come back, holding the file's
    /// lock the free needs. No `__GFP_ZERO` (the mempool WARNs: it cannot
    /// zero its reserve; elements are zeroed anyway). The mempool adds
    /// `__GFP_NORETRY` and `__GFP_NOWARN` itself for the allocator's try.
    const GFP: GfpRule = GfpRule {
        bases: &[GfpBase::Atomic, GfpBase::Nowait],
        mods: Mods::NOWARN,
    };

    fn ask(ask: &Ask<'_>) -> Result<MempoolRequest> {
        ask.uses(CACHE)?;
        let pool = ask.caches.pool(ask.a.cache)?;
        Ok(MempoolRequest {
            handle: ask.a.cache,
            pool,
        })
    }

    fn bytes(req: &MempoolRequest) -> usize {
        req.pool.size()
    }

    fn tag(req: &MempoolRequest) -> u32 {
        req.handle
    }

    fn make(req: &MempoolRequest, gfp: Gfp, _node: Node) -> Result<PoolElement> {
        MemPool::alloc(&req.pool, gfp)
    }

    fn sampler<'r>(req: &'r MempoolRequest, gfp: Gfp, _node: Node) -> Result<ElementScope<'r>> {
        req.pool.scope(gfp)
    }

    fn sample<'r>(scope: &Self::Sampler<'r>) -> Result<Self::Sample<'r>> {
        scope.alloc()
    }

    fn raw(req: &MempoolRequest, _node: Node) -> Result<RawWork> {
        Ok(RawWork::Mempool(req.pool.clone()))
    }
}
