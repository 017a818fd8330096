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
    NODE, //
};
use crate::{
    alloc::{
        gfp::Gfp,
        raw::RawWork,
        slab::{
            CacheObject,
            KmemCache, //
        },
        topology::Node,
        Allocation,
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
    type Sample<'r> = CacheObject;

    fn ask(ask: &Ask<'_>) -> Result<CacheRequest> {
        ask.uses(CACHE | NODE)?;
        let cache = ask.caches.cache(ask.a.cache)?;
        // The slab allocator forbids zeroing objects a constructor made.
        if ask.gfp.zero && cache.config().ctor {
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

    /// Zeroing, but for a cache with a constructor: its objects keep the
    /// constructor's mark, and [`CacheKind::make`] zeroes the rest.
    fn mask(req: &CacheRequest, gfp: Gfp) -> Gfp {
        if req.cache.config().ctor {
            gfp
        } else {
            gfp.zeroed()
        }
    }

    fn tag(req: &CacheRequest) -> u32 {
        req.handle
    }

    /// An object initialised like every kmemlab object: zeroed, or for a
    /// cache with a constructor, the constructor's mark followed by zeroes.
    fn make(req: &CacheRequest, mask: Gfp, node: Node) -> Result<CacheObject> {
        let mut object = req.cache.alloc(mask, node)?;
        if req.cache.config().ctor {
            object.as_mut_slice()[8..].fill(0);
        }
        Ok(object)
    }

    fn sample<'r>(req: &'r CacheRequest, mask: Gfp, node: Node) -> Result<CacheObject> {
        Self::make(req, mask, node)
    }

    fn raw(req: &CacheRequest, node: Node) -> Result<RawWork> {
        Ok(RawWork::Cache(req.cache.clone(), node))
    }
}
