// SPDX-License-Identifier: GPL-2.0

//! `KMEMLAB_KIND_KMEM_CACHE`: objects of a cache the file created.

use kernel::{
    prelude::*,
    sync::Arc, //
};

use super::{
    Ask,
    Kind,
    CACHE,
    LOWMEM_BASES,
    NODE,
    POLICY, //
};
use crate::{
    alloc::{
        gfp::{
            Gfp,
            GfpRule,
            Mods, //
        },
        raw::RawWork,
        slab::{
            CacheObject,
            CacheScope,
            KmemCache,
            ScopedObject, //
        },
        topology::Node,
    },
    uapi::KMEMLAB_KIND_KMEM_CACHE,
};

/// `kmem_cache_alloc_node()` / `kmem_cache_free()`: takes a cache handle and
/// a node.
pub(crate) struct CacheKind;

/// A cache, and the handle the file knows it by.
pub(crate) struct CacheRequest {
    handle: u32,
    cache: Arc<KmemCache>,
}

impl Kind for CacheKind {
    const KIND: u32 = KMEMLAB_KIND_KMEM_CACHE;
    type Request = CacheRequest;
    type Memory = CacheObject;
    type Sample<'r> = ScopedObject<'r>;
    type Sampler<'r> = CacheScope<'r>;

    /// As kmalloc, but the zone is the cache's (`KMEMLAB_CACHE_DMA*`).
    const GFP: GfpRule = GfpRule {
        bases: LOWMEM_BASES,
        mods: POLICY.with(Mods::THISNODE),
    };

    fn ask(ask: &Ask<'_>) -> Result<CacheRequest> {
        ask.uses(CACHE | NODE)?;
        let cache = ask.caches.cache(ask.a.cache)?;
        // The slab allocator forbids zeroing objects a constructor made.
        if ask.gfp.has(Mods::ZERO) && cache.config().ctor {
            return Err(EINVAL);
        }
        Ok(CacheRequest {
            handle: ask.a.cache,
            cache,
        })
    }

    fn bytes(req: &CacheRequest) -> usize {
        req.cache.config().object_size
    }

    fn tag(req: &CacheRequest) -> u32 {
        req.handle
    }

    /// An object zeroed, or for a cache with a constructor, the
    /// constructor's mark followed by zeroes.
    fn make(req: &CacheRequest, gfp: Gfp, node: Node) -> Result<CacheObject> {
        req.cache.alloc(gfp, node)
    }

    /// Borrows the request's handle: nothing counted per object.
    fn sampler<'r>(req: &'r CacheRequest, gfp: Gfp, node: Node) -> Result<CacheScope<'r>> {
        req.cache.scope(gfp, node)
    }

    fn sample<'r>(scope: &Self::Sampler<'r>) -> Result<Self::Sample<'r>> {
        scope.alloc()
    }

    fn raw(req: &CacheRequest, node: Node) -> Result<RawWork> {
        Ok(RawWork::Cache(req.cache.clone(), node))
    }
}
