// SPDX-License-Identifier: GPL-2.0

//! `kmemlab limits`: the largest allocation each allocator grants on the
//! running kernel, measured, beside the classic rule-of-thumb table.
//!
//! # Method
//!
//! Every probe is real: one `KMEMLAB_IOC_ALLOC` of one object, freed at once
//! with `KMEMLAB_IOC_FREE`. A kmem_cache probe creates a cache whose objects
//! have the size tried (named `lim<pid>-<n>`), allocates one object, frees it
//! and destroys the cache; a dma_pool probe does the same with a DMA pool of
//! blocks of that size for the faux device. The command refuses a file that already holds
//! objects, so before each probe the file holds nothing and the whole quota
//! is free: a failure is the allocator's answer to that one size.
//!
//! Byte-sized kinds (kmalloc, kmem_cache, vmalloc, kvmalloc,
//! dma_alloc_coherent, dma_pool) double from 64 bytes until the first failure, then
//! bisect between the last success and that failure down to the byte (about
//! 40 probes). The page kinds (__get_free_pages, alloc_pages_node) go up one
//! order at a time.
//!
//! The errno of the smallest size seen to fail says what limits the kind:
//! `EINVAL` is a hard limit, which kmemlab's ABI takes from the kernel
//! (`KMALLOC_MAX_SIZE`, `MAX_PAGE_ORDER`, `PAGE_SIZE << MAX_PAGE_ORDER` for
//! DMA buffers and DMA pool blocks, kvmalloc's `INT_MAX`; kmemlab caps a cache's objects at
//! `KMALLOC_MAX_SIZE / 2` and vmalloc at 1 GiB); `ENOMEM` is memory that ran
//! out or is too fragmented to hold a block that large, or, above the file's
//! quota (`max_bytes`), the quota.
//! Any other errno stops that kind's search and its row reports the error.
//! Fragmentation moves: the bisection finds *a* boundary, as of this run.
//!
//! # Why it neither warns nor calls the OOM killer
//!
//! - Every request carries `__GFP_NOWARN` (the DMA one `DMA_ATTR_NO_WARN`):
//!   a failed probe prints no allocation-failure report.
//! - kmalloc, kmem_cache, kvmalloc, dma_pool and the page kinds also carry
//!   `__GFP_NORETRY` (kmemlab cannot pass it to vmalloc or
//!   dma_alloc_coherent): the page allocator fails rather than reclaim hard
//!   or call the OOM killer.
//! - The page allocator never calls the OOM killer for a costly order (above
//!   `PAGE_ALLOC_COSTLY_ORDER` = 3, 32 KiB with 4 KiB pages), and every size
//!   at which kmalloc, kmem_cache, dma_alloc_coherent or a DMA pool (whose
//!   pages are coherent allocations) can run out of
//!   contiguous memory is of a costly order; the smaller sizes the doubling
//!   starts with fail only on a machine that is out of memory already.
//! - vmalloc builds its area from single pages, whose allocation may call the
//!   OOM killer, and kmemlab can pass it neither `__GFP_NORETRY` nor (it is
//!   accepted but has no effect) `__GFP_NOWARN`: it is probed only up to a
//!   safety cap, the file's quota or half of `MemAvailable` whichever is
//!   lower (lower still with `--cap`), never beyond. A vmalloc that succeeds
//!   at the cap is reported as "at least" the cap.
//! - kvmalloc falls back to vmalloc for the sizes kmalloc does not serve at
//!   once: it is probed up to the same cap, with `__GFP_NORETRY` besides.

mod report;
mod search;
mod system;
#[cfg(test)]
mod tests;

use std::fs;
use std::path::Path;

use crate::cli::LimitsArgs;
use crate::commands;
use crate::device::{
    dma_pool_create, dma_pool_op, module_limits, DeviceOps, DmaPoolShape, OpError,
};
use crate::error::{Error, Result};
use crate::output::{Output, Value};
use crate::uapi::*;

use report::{Measured, Report, Row};
use search::{search_bytes, search_orders, Failure};

use report::{how, other_rows, report_json, report_text};
use search::orders_to_bytes;
use system::{boot_reservations, find_edu, meminfo};

/// The first size the byte-sized searches try.
const FIRST_SIZE: u64 = 64;
/// The page searches stop here when the module does not say its largest
/// order (a safety stop far above any `MAX_PAGE_ORDER`).
const LAST_ORDER: u32 = 24;

/// How far vmalloc and kvmalloc are probed, and why there.
#[derive(Clone, Debug, PartialEq)]
pub struct Cap {
    pub bytes: u64,
    /// What set it: "--cap", "MemAvailable/2" or "kmemlab's quota".
    pub by: &'static str,
    /// The file's quota (`max_bytes`), as the module reports it.
    pub quota: u64,
    pub mem_available: Option<u64>,
}

/// The safety cap of vmalloc and kvmalloc: the lowest of the quota, half of
/// `MemAvailable` and `--cap` (at least one byte).
pub fn safety_cap(quota: u64, mem_available: Option<u64>, user: Option<u64>) -> Cap {
    let mut cap = (quota, "kmemlab's quota");
    if let Some(half) = mem_available.map(|m| m / 2) {
        if half < cap.0 {
            cap = (half, "MemAvailable/2");
        }
    }
    if let Some(user) = user {
        if user <= cap.0 {
            cap = (user, "--cap");
        }
    }
    Cap {
        bytes: cap.0.max(1),
        by: cap.1,
        quota,
        mem_available,
    }
}

/// A probed kind: its row's fixed texts and the feature bit it needs.
pub(crate) struct Spec {
    allocator: &'static str,
    kind: u32,
    feature: u64,
    how: &'static str,
    rule: &'static str,
    best: &'static str,
}

const SPECS: &[Spec] = &[
    Spec {
        allocator: "kmalloc",
        kind: KMEMLAB_KIND_KMALLOC,
        feature: KMEMLAB_FEAT_KMALLOC,
        // Completed with the page size (KMALLOC_MAX_CACHE_SIZE is two pages).
        how: "physically contiguous; slab caches up to",
        rule: "up to 128 KB",
        best: "small buffers and structures",
    },
    Spec {
        allocator: "kmem_cache",
        kind: KMEMLAB_KIND_KMEM_CACHE,
        feature: KMEMLAB_FEAT_KMEM_CACHE,
        how: "objects of one size and type, from their own slab cache",
        rule: "up to 128 KB",
        best: "many objects of one type",
    },
    Spec {
        allocator: "__get_free_pages",
        kind: KMEMLAB_KIND_FREE_PAGES,
        feature: KMEMLAB_FEAT_FREE_PAGES,
        how: "2^order physically contiguous pages",
        rule: "up to 4 MB",
        best: "page-sized or contiguous buffers",
    },
    Spec {
        allocator: "alloc_pages_node",
        kind: KMEMLAB_KIND_PAGES_NODE,
        feature: KMEMLAB_FEAT_PAGES_NODE,
        how: "2^order contiguous pages on a chosen NUMA node",
        rule: "up to 4 MB",
        best: "node-local pages",
    },
    Spec {
        allocator: "vmalloc",
        kind: KMEMLAB_KIND_VMALLOC,
        feature: KMEMLAB_FEAT_VMALLOC,
        how: "virtually contiguous, mapped page by page",
        rule: "non-contiguous, large",
        best: "large buffers only the CPU uses",
    },
    Spec {
        allocator: "kvmalloc",
        kind: KMEMLAB_KIND_KVMALLOC,
        feature: KMEMLAB_FEAT_KVMALLOC,
        how: "kmalloc when the pages are at hand, else vmalloc",
        rule: "large, maybe non-contiguous",
        best: "buffers of any size only the CPU uses",
    },
    Spec {
        allocator: "dma_alloc_coherent",
        kind: KMEMLAB_KIND_DMA_COHERENT,
        feature: KMEMLAB_FEAT_DMA_COHERENT,
        how: "device-visible, coherent, within the device's DMA mask (faux device)",
        rule: "4 MB",
        best: "buffers a device and the CPU share",
    },
    Spec {
        allocator: "dma_pool_alloc",
        kind: KMEMLAB_KIND_DMA_POOL,
        feature: KMEMLAB_FEAT_DMA_POOL,
        how: "blocks of one size carved from coherent pages of a pool (faux device)",
        rule: "below a page",
        best: "many small buffers a device reads, e.g. descriptors",
    },
];

/// One probe of `spec`'s kind at `size` bytes (or order), allocated and freed.
fn probe(dev: &dyn DeviceOps, spec: &Spec, size: u64, serial: &mut u32) -> Result<(), Failure> {
    let mut req = KmemlabAlloc {
        kind: spec.kind,
        gfp: KMEMLAB_GFP_NOWARN,
        node: KMEMLAB_NODE_ANY,
        count: 1,
        ..Default::default()
    };
    match spec.kind {
        KMEMLAB_KIND_FREE_PAGES | KMEMLAB_KIND_PAGES_NODE => {
            req.gfp |= KMEMLAB_GFP_NORETRY;
            // Orders come from search_orders: at most LAST_ORDER.
            req.order = u32::try_from(size).map_err(|_| Failure::Limit)?;
        }
        KMEMLAB_KIND_KMEM_CACHE | KMEMLAB_KIND_DMA_POOL => {
            *serial += 1;
            let name = format!("lim{}-{serial}", std::process::id());
            // The ABI's sizes are __u32s: anything larger is beyond the limit anyway.
            let size = u32::try_from(size).map_err(|_| Failure::Limit)?;
            if spec.kind == KMEMLAB_KIND_KMEM_CACHE {
                return probe_owned(
                    dev,
                    spec.kind,
                    || dev.cache_create(&name, size, 0, 0),
                    |cache| dev.cache_destroy(cache),
                );
            }
            let pool = DmaPoolShape {
                name: &name,
                device: KMEMLAB_DEV_FAUX,
                size,
                align: 0,
                boundary: 0,
            };
            return probe_owned(
                dev,
                spec.kind,
                || dma_pool_create(dev, &pool),
                |p| dma_pool_op(dev, KMEMLAB_DMA_POOL_DESTROY, p).map(|_| ()),
            );
        }
        KMEMLAB_KIND_DMA_COHERENT => {
            req.size = size;
            req.cache = KMEMLAB_DEV_FAUX;
        }
        _ => {
            req.size = size;
            if spec.kind == KMEMLAB_KIND_KMALLOC || spec.kind == KMEMLAB_KIND_KVMALLOC {
                req.gfp |= KMEMLAB_GFP_NORETRY;
            }
        }
    }
    alloc_and_free(dev, &req)
}

fn alloc_and_free(dev: &dyn DeviceOps, req: &KmemlabAlloc) -> Result<(), Failure> {
    let handles = dev.alloc(req).map_err(|e| Failure::of(&e))?;
    dev.free(&handles).map_err(|e| Failure::error(&e))
}

/// An owner `make` creates (a cache or a DMA pool of objects of the size
/// tried), one object of `kind` from it, freed, and the owner destroyed
/// with `destroy`.
fn probe_owned(
    dev: &dyn DeviceOps,
    kind: u32,
    make: impl FnOnce() -> Result<u32, OpError>,
    destroy: impl FnOnce(u32) -> Result<(), OpError>,
) -> Result<(), Failure> {
    let owner = make().map_err(|e| Failure::of(&e))?;
    let req = KmemlabAlloc {
        kind,
        gfp: KMEMLAB_GFP_NOWARN | KMEMLAB_GFP_NORETRY,
        node: KMEMLAB_NODE_ANY,
        cache: owner,
        count: 1,
        ..Default::default()
    };
    let made = alloc_and_free(dev, &req);
    let destroyed = destroy(owner).map_err(|e| Failure::error(&e));
    made.and(destroyed)
}

/// Searches `spec`'s kind on `dev`.
fn measure(
    dev: &dyn DeviceOps,
    spec: &Spec,
    features: u64,
    m: &KmemlabLimits,
    cap: &Cap,
) -> Measured {
    let page = u64::from(m.page_size);
    if features & spec.feature == 0 {
        return Measured::Unsupported;
    }
    let mut serial = 0;
    match spec.kind {
        KMEMLAB_KIND_FREE_PAGES | KMEMLAB_KIND_PAGES_NODE => {
            let found = search_orders(last_order(m), |order| {
                probe(dev, spec, order.into(), &mut serial)
            });
            Measured::Probed {
                found: orders_to_bytes(found, page),
                pages: true,
            }
        }
        kind => {
            let limit = if capped(kind) { cap.bytes } else { u64::MAX };
            let found = search_bytes(FIRST_SIZE, limit, |size| {
                probe(dev, spec, size, &mut serial)
            });
            Measured::Probed {
                found,
                pages: false,
            }
        }
    }
}

/// Whether `kind` is probed only up to the safety cap: the kinds that map
/// single pages into the vmalloc area, whose allocation may call the OOM
/// killer.
fn capped(kind: u32) -> bool {
    kind == KMEMLAB_KIND_VMALLOC || kind == KMEMLAB_KIND_KVMALLOC
}

/// The last order the page searches try: one past the module's largest,
/// so that its hard limit shows.
fn last_order(m: &KmemlabLimits) -> u32 {
    if m.max_order == 0 {
        LAST_ORDER
    } else {
        (m.max_order + 1).min(LAST_ORDER)
    }
}

/// The page size: the module's, else the system's.
fn page_size(m: &KmemlabLimits) -> u64 {
    match m.page_size {
        0 => rustix::param::page_size() as u64,
        p => p.into(),
    }
}

/// `limits [--cap BYTES]`: the module's limits, and every allocator measured on `dev`.
pub fn limits(dev: &dyn DeviceOps, a: &LimitsArgs) -> Result<Output> {
    let module = module_limits(dev)?;
    let held = dev.list()?;
    if !held.is_empty() {
        return Err(Error::Failed(format!(
            "limits probes with nothing else held, but this file holds {} objects: \
             run it on its own, or before any alloc in a script",
            held.len()
        )));
    }
    let features = dev.version()?.features;
    let page = page_size(&module);
    let kernel = fs::read_to_string("/proc/sys/kernel/osrelease")
        .map(|s| s.trim().to_string())
        .unwrap_or_else(|_| "?".into());
    let mem_available = fs::read_to_string("/proc/meminfo")
        .ok()
        .and_then(|m| meminfo(&m, "MemAvailable"));
    let cap = safety_cap(module.max_bytes, mem_available, a.cap);
    let mut rows: Vec<Row> = SPECS
        .iter()
        .map(|spec| Row {
            allocator: spec.allocator,
            kind: Some(spec.kind),
            how: how(spec, page),
            rule: spec.rule,
            best: spec.best,
            measured: measure(dev, spec, features, &module, &cap),
        })
        .collect();
    rows.extend(other_rows(
        find_edu(Path::new("/sys/bus/pci/devices")),
        boot_reservations(),
    ));
    let report = Report {
        kernel,
        page_size: page,
        cap,
        module,
        rows,
    };
    let mut text = report_text(&report);
    text.push_str("\n\nthe module's limits (KMEMLAB_IOC_LIMITS):\n");
    text.push_str(&commands::limits_lines(&module).join("\n"));
    let json: Value = report_json(&report);
    Ok(Output { text, json })
}
