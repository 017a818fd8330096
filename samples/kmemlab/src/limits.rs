// SPDX-License-Identifier: GPL-2.0

//! `kmemlab limits`: the largest allocation each allocator grants on the
//! running kernel, measured, beside the classic rule-of-thumb table.
//!
//! # Method
//!
//! Every probe is real: one `KMEMLAB_IOC_ALLOC` of one object, freed at once
//! with `KMEMLAB_IOC_FREE`. A kmem_cache probe creates a cache whose objects
//! have the size tried (named `lim<pid>-<n>`), allocates one object, frees it
//! and destroys the cache. The command refuses a file that already holds
//! objects, so before each probe the file holds nothing and the whole quota
//! is free: a failure is the allocator's answer to that one size.
//!
//! Byte-sized kinds (kmalloc, kmem_cache, vmalloc, dma_alloc_coherent)
//! double from 64 bytes until the first failure, then bisect between the
//! last success and that failure down to the byte (about 40 probes). The page
//! kinds (__get_free_pages, alloc_pages_node) go up one order at a time.
//!
//! The errno of the smallest size seen to fail says what limits the kind:
//! `EINVAL` is a hard limit, which kmemlab's ABI takes from the kernel
//! (`KMALLOC_MAX_SIZE`, `MAX_PAGE_ORDER`, `PAGE_SIZE << MAX_PAGE_ORDER`;
//! kmemlab caps a cache's objects at `KMALLOC_MAX_SIZE / 2` and vmalloc at
//! 1 GiB); `ENOMEM` is memory that ran out or is too fragmented to hold a
//! block that large, or, above the file's quota (`max_bytes`), the quota.
//! Any other errno stops that kind's search and its row reports the error.
//! Fragmentation moves: the bisection finds *a* boundary, as of this run.
//!
//! # Why it neither warns nor calls the OOM killer
//!
//! - Every request carries `__GFP_NOWARN` (the DMA one `DMA_ATTR_NO_WARN`):
//!   a failed probe prints no allocation-failure report.
//! - kmalloc, kmem_cache and the page kinds also carry `__GFP_NORETRY`
//!   (kmemlab cannot pass it to vmalloc or dma_alloc_coherent): the page
//!   allocator fails rather than reclaim hard or call the OOM killer.
//! - The page allocator never calls the OOM killer for a costly order (above
//!   `PAGE_ALLOC_COSTLY_ORDER` = 3, 32 KiB with 4 KiB pages), and every size
//!   at which kmalloc, kmem_cache or dma_alloc_coherent can run out of
//!   contiguous memory is of a costly order; the smaller sizes the doubling
//!   starts with fail only on a machine that is out of memory already.
//! - vmalloc builds its area from single pages, whose allocation may call the
//!   OOM killer, and kmemlab can pass it neither `__GFP_NORETRY` nor (it is
//!   accepted but has no effect) `__GFP_NOWARN`: it is probed only up to a
//!   safety cap, the file's quota or half of `MemAvailable` whichever is
//!   lower (lower still with `--cap`), never beyond. A vmalloc that succeeds
//!   at the cap is reported as "at least" the cap.

use std::fs;
use std::io::{self, Read as _};
use std::os::unix::fs::OpenOptionsExt as _;
use std::path::Path;
use std::process::Command;

use crate::commands::{number, Output, Words};
use crate::device::{Device, OpError};
use crate::json::{self, Value};
use crate::uapi::*;

const EINVAL: i32 = 22;
const ENOMEM: i32 = 12;
const EPIPE: i32 = 32;
/// `O_NONBLOCK` (asm-generic, as on x86 and arm64).
const O_NONBLOCK: i32 = 0o4000;

/// The module's `max_bytes` default, assumed when its parameter cannot be read.
const DEFAULT_QUOTA: u64 = 256 << 20;
/// Where the module's `max_bytes` parameter shows, when it does.
const QUOTA_PARAM: &str = "/sys/module/kmemlab/parameters/max_bytes";
/// The first size the byte-sized searches try.
const FIRST_SIZE: u64 = 64;
/// The page searches stop here even if every order succeeded (a safety stop
/// far above any `MAX_PAGE_ORDER`; the quota ends them long before).
const LAST_ORDER: u32 = 24;
/// Widest line of the text table.
const TEXT_WIDTH: usize = 120;

extern "C" {
    fn getpagesize() -> i32;
}

/// Why one probe failed.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum Failure {
    /// `EINVAL`: beyond the allocator's hard limit.
    Limit,
    /// `ENOMEM`: no memory for that size (or the quota).
    NoMemory,
    /// Anything else: the search stops.
    Error(String),
}

impl Failure {
    fn of(e: &OpError) -> Self {
        match e.err.raw_os_error() {
            Some(EINVAL) => Self::Limit,
            Some(ENOMEM) => Self::NoMemory,
            _ => Self::error(e),
        }
    }

    /// `e` as an error that stops the search, tersely: "free failed (ENOENT)".
    fn error(e: &OpError) -> Self {
        let errno = match (e.errno_name(), e.err.raw_os_error()) {
            ("error", Some(n)) => format!("errno {n}"),
            ("error", None) => e.err.to_string(),
            (name, _) => name.to_string(),
        };
        Self::Error(format!("{} failed ({errno})", e.what))
    }
}

/// How a search ended.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum End {
    /// `at` failed for `why`: the smallest size seen to fail, or for an
    /// error, where the search stopped.
    Failed { at: u64, why: Failure },
    /// The cap (or the last order) succeeded: nothing larger was tried.
    Cap,
}

/// What a search found.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Found {
    /// The largest size (for orders, order) that succeeded, if any did.
    pub largest: Option<u64>,
    pub end: End,
    pub probes: u32,
}

/// The largest size in `1..=cap` that `probe` accepts: doubling from
/// `first` to the first failure, then bisecting to the byte between the
/// last success and the smallest failure. A [`Failure::Error`] ends the
/// search where it happened.
pub(crate) fn search_bytes(
    first: u64,
    cap: u64,
    mut probe: impl FnMut(u64) -> Result<(), Failure>,
) -> Found {
    let mut probes = 0;
    let mut run = |size| {
        probes += 1;
        probe(size)
    };
    let mut ok = None;
    let mut size = first.clamp(1, cap.max(1));
    let (mut fail, mut why) = loop {
        match run(size) {
            Ok(()) => {
                ok = Some(size);
                if size >= cap {
                    return Found {
                        largest: ok,
                        end: End::Cap,
                        probes,
                    };
                }
                size = size.saturating_mul(2).min(cap);
            }
            Err(why) => break (size, why),
        }
    };
    let mut lo = ok.unwrap_or(0);
    while !matches!(why, Failure::Error(_)) && fail - lo > 1 {
        let mid = lo + (fail - lo) / 2;
        match run(mid) {
            Ok(()) => lo = mid,
            Err(w) => (fail, why) = (mid, w),
        }
    }
    Found {
        largest: (lo > 0).then_some(lo),
        end: End::Failed { at: fail, why },
        probes,
    }
}

/// The largest order in `0..=last` that `probe` accepts, trying them in
/// turn up to the first failure.
pub(crate) fn search_orders(last: u32, mut probe: impl FnMut(u32) -> Result<(), Failure>) -> Found {
    let mut largest = None;
    for order in 0..=last {
        if let Err(why) = probe(order) {
            return Found {
                largest,
                end: End::Failed {
                    at: order.into(),
                    why,
                },
                probes: order + 1,
            };
        }
        largest = Some(order.into());
    }
    Found {
        largest,
        end: End::Cap,
        probes: last + 1,
    }
}

/// `found` of an order search, in bytes of `page`-sized pages.
fn orders_to_bytes(found: Found, page: u64) -> Found {
    let bytes = |order: u64| page.checked_shl(order as u32).unwrap_or(u64::MAX);
    Found {
        largest: found.largest.map(bytes),
        end: match found.end {
            End::Failed { at, why } => End::Failed { at: bytes(at), why },
            End::Cap => End::Cap,
        },
        probes: found.probes,
    }
}

/// `n` bytes for people: exact multiples as "4 MiB", others with two decimals.
pub(crate) fn human_size(n: u64) -> String {
    const UNITS: [&str; 6] = ["KiB", "MiB", "GiB", "TiB", "PiB", "EiB"];
    if n < 1024 {
        return format!("{n} B");
    }
    let mut unit = 0;
    while unit + 1 < UNITS.len() && n >> (10 * (unit + 2)) != 0 {
        unit += 1;
    }
    let scale = 1u64 << (10 * (unit + 1));
    if n.is_multiple_of(scale) {
        format!("{} {}", n / scale, UNITS[unit])
    } else {
        // CAST: display only.
        format!("{:.2} {}", n as f64 / scale as f64, UNITS[unit])
    }
}

/// The order of `bytes` of `page`-sized pages (`bytes` a power-of-two multiple).
fn order_of(bytes: u64, page: u64) -> u32 {
    (bytes / page.max(1)).trailing_zeros()
}

/// A value of `/proc/meminfo` in bytes (`key` without the colon).
pub(crate) fn meminfo(text: &str, key: &str) -> Option<u64> {
    text.lines().find_map(|line| {
        let rest = line.strip_prefix(key)?.strip_prefix(':')?;
        let mut fields = rest.split_whitespace();
        let n: u64 = fields.next()?.parse().ok()?;
        match fields.next() {
            Some("kB") => n.checked_mul(1024),
            None => Some(n),
            Some(_) => None,
        }
    })
}

fn hex(s: &str) -> Option<u64> {
    let s = s.trim();
    u64::from_str_radix(s.strip_prefix("0x").unwrap_or(s), 16).ok()
}

/// The size of the region a PCI `resource` file's first line ("start end
/// flags") describes; `None` for an unassigned one.
pub(crate) fn bar_size(resource: &str) -> Option<u64> {
    let mut fields = resource.lines().next()?.split_whitespace();
    let start = hex(fields.next()?)?;
    let end = hex(fields.next()?)?;
    (end > start).then(|| end - start + 1)
}

/// A device region (the ioremap row).
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Region {
    /// The PCI address, e.g. `0000:00:04.0`.
    pub device: String,
    pub bytes: u64,
}

/// QEMU's edu device (1234:11e8) among the PCI devices in `root`, with the
/// size of its BAR 0.
fn find_edu(root: &Path) -> Option<Region> {
    let mut devices: Vec<_> = fs::read_dir(root)
        .ok()?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .collect();
    devices.sort();
    devices.into_iter().find_map(|dev| {
        let id = |file: &str| {
            fs::read_to_string(dev.join(file))
                .ok()
                .map(|s| s.trim().to_ascii_lowercase())
        };
        if id("vendor")? != "0x1234" || id("device")? != "0x11e8" {
            return None;
        }
        Some(Region {
            bytes: bar_size(&fs::read_to_string(dev.join("resource")).ok()?)?,
            device: dev.file_name()?.to_string_lossy().into_owned(),
        })
    })
}

/// What the kernel tells of its boot-time reservations (the alloc_bootmem row).
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum Boot {
    /// debugfs `memblock/reserved`: its regions and their total size.
    Memblock { regions: u64, bytes: u64 },
    /// The kernel log's "Memory: ...K/...K available (..., ...K reserved, ...)"
    /// line, read from `source` (`/dev/kmsg` or `dmesg`).
    Log {
        source: &'static str,
        reserved: u64,
        total: u64,
    },
    /// Neither is there.
    NotExposed,
}

/// The regions of a debugfs `memblock/reserved` file ("   0: 0x0..0xfff"
/// and possibly more fields): their count and total size, or `None` when no
/// line reads as a region.
pub(crate) fn parse_memblock(text: &str) -> Option<(u64, u64)> {
    let (mut regions, mut bytes) = (0u64, 0u64);
    for line in text.lines() {
        let Some((index, rest)) = line.split_once(':') else {
            continue;
        };
        if index.trim().parse::<u64>().is_err() {
            continue;
        }
        let Some((start, end)) = rest
            .split_whitespace()
            .next()
            .and_then(|r| r.split_once(".."))
        else {
            continue;
        };
        let (Some(start), Some(end)) = (hex(start), hex(end)) else {
            continue;
        };
        if end < start {
            continue;
        }
        regions += 1;
        bytes = bytes.saturating_add(end - start + 1);
    }
    (regions > 0).then_some((regions, bytes))
}

/// From a kernel log (kmsg records or dmesg lines), the boot's "Memory:"
/// line: bytes reserved and bytes of RAM in all.
pub(crate) fn parse_memory_line(log: &str) -> Option<(u64, u64)> {
    let kib = |s: &str| s.trim().parse::<u64>().ok()?.checked_mul(1024);
    log.lines().find_map(|line| {
        let rest = &line[line.find("Memory: ")? + "Memory: ".len()..];
        let (_available, rest) = rest.split_once("K/")?;
        let (total, rest) = rest.split_once("K available (")?;
        let inside = rest.split(')').next()?;
        let reserved = inside
            .split(',')
            .find_map(|item| item.trim().strip_suffix("K reserved"))?;
        Some((kib(reserved)?, kib(total)?))
    })
}

/// Every record in the kernel's log buffer, read from `/dev/kmsg` without
/// blocking (until `EAGAIN`).
fn read_kmsg() -> io::Result<String> {
    let mut kmsg = fs::OpenOptions::new()
        .read(true)
        .custom_flags(O_NONBLOCK)
        .open("/dev/kmsg")?;
    let mut log = String::new();
    // One record per read; a buffer too small for one is EINVAL.
    let mut buf = vec![0u8; 16 << 10];
    loop {
        match kmsg.read(&mut buf) {
            Ok(0) => return Ok(log),
            Ok(n) => log.push_str(&String::from_utf8_lossy(&buf[..n])),
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => return Ok(log),
            // EPIPE: records were overwritten under us; the next read goes on.
            Err(e) if e.raw_os_error() == Some(EPIPE) => {}
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
}

/// What the running kernel exposes of its boot-time reservations.
fn boot_reservations() -> Boot {
    if let Some((regions, bytes)) = fs::read_to_string("/sys/kernel/debug/memblock/reserved")
        .ok()
        .as_deref()
        .and_then(parse_memblock)
    {
        return Boot::Memblock { regions, bytes };
    }
    let kmsg = read_kmsg().ok();
    if let Some((reserved, total)) = kmsg.as_deref().and_then(parse_memory_line) {
        return Boot::Log {
            source: "/dev/kmsg",
            reserved,
            total,
        };
    }
    let dmesg = Command::new("dmesg")
        .output()
        .ok()
        .filter(|o| o.status.success());
    match dmesg.and_then(|o| parse_memory_line(&String::from_utf8_lossy(&o.stdout))) {
        Some((reserved, total)) => Boot::Log {
            source: "dmesg",
            reserved,
            total,
        },
        None => Boot::NotExposed,
    }
}

/// How far vmalloc is probed, and why there.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Cap {
    pub bytes: u64,
    /// What set it: "--cap", "MemAvailable/2" or "kmemlab's quota".
    pub by: &'static str,
    /// The file's quota (`max_bytes`), and whether it was read (else assumed).
    pub quota: u64,
    pub quota_read: bool,
    pub mem_available: Option<u64>,
}

/// The vmalloc safety cap: the lowest of the quota, half of `MemAvailable`
/// and `--cap` (at least one byte).
pub(crate) fn safety_cap(
    quota: u64,
    quota_read: bool,
    mem_available: Option<u64>,
    user: Option<u64>,
) -> Cap {
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
        quota_read,
        mem_available,
    }
}

/// One row of the table.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Row {
    pub allocator: &'static str,
    /// The kmemlab kind it exercises (none for alloc_bootmem).
    pub kind: Option<u32>,
    pub how: String,
    pub rule: &'static str,
    pub best: &'static str,
    pub measured: Measured,
}

/// What the row found.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum Measured {
    /// Searched; `found` in bytes; `pages` for the order-based kinds.
    Probed { found: Found, pages: bool },
    /// The loaded module does not have this kind.
    Unsupported,
    /// ioremap: the edu device's BAR 0, if there is one.
    Region(Option<Region>),
    /// alloc_bootmem: the boot-time reservations.
    Boot(Boot),
}

/// Everything `limits` prints.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Report {
    pub kernel: String,
    pub page_size: u64,
    pub cap: Cap,
    pub rows: Vec<Row>,
}

/// A probed kind: its row's fixed texts and the feature bit it needs.
struct Spec {
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
        allocator: "dma_alloc_coherent",
        kind: KMEMLAB_KIND_DMA_COHERENT,
        feature: KMEMLAB_FEAT_DMA_COHERENT,
        how: "device-visible, coherent, within the device's DMA mask (faux device)",
        rule: "4 MB",
        best: "buffers a device and the CPU share",
    },
];

/// One probe of `spec`'s kind at `size` bytes (or order), allocated and freed.
fn probe(dev: &Device, spec: &Spec, size: u64, serial: &mut u32) -> Result<(), Failure> {
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
        KMEMLAB_KIND_KMEM_CACHE => {
            *serial += 1;
            return probe_cache(dev, &format!("lim{}-{serial}", std::process::id()), size);
        }
        KMEMLAB_KIND_DMA_COHERENT => {
            req.size = size;
            req.cache = KMEMLAB_DEV_FAUX;
        }
        _ => {
            req.size = size;
            if spec.kind == KMEMLAB_KIND_KMALLOC {
                req.gfp |= KMEMLAB_GFP_NORETRY;
            }
        }
    }
    alloc_and_free(dev, &req)
}

fn alloc_and_free(dev: &Device, req: &KmemlabAlloc) -> Result<(), Failure> {
    let handles = dev.alloc(req).map_err(|e| Failure::of(&e))?;
    dev.free(&handles).map_err(|e| Failure::error(&e))
}

/// A cache of `size`-byte objects named `name`, one object from it, freed,
/// and the cache destroyed.
fn probe_cache(dev: &Device, name: &str, size: u64) -> Result<(), Failure> {
    // The ABI's object_size is a __u32: anything larger is beyond the limit anyway.
    let size = u32::try_from(size).map_err(|_| Failure::Limit)?;
    let cache = dev
        .cache_create(name, size, 0, 0)
        .map_err(|e| Failure::of(&e))?;
    let req = KmemlabAlloc {
        kind: KMEMLAB_KIND_KMEM_CACHE,
        gfp: KMEMLAB_GFP_NOWARN | KMEMLAB_GFP_NORETRY,
        node: KMEMLAB_NODE_ANY,
        cache,
        count: 1,
        ..Default::default()
    };
    let made = alloc_and_free(dev, &req);
    let destroyed = dev.cache_destroy(cache).map_err(|e| Failure::error(&e));
    made.and(destroyed)
}

/// Searches `spec`'s kind on `dev`.
fn measure(dev: &Device, spec: &Spec, features: u64, page: u64, cap: &Cap) -> Measured {
    if features & spec.feature == 0 {
        return Measured::Unsupported;
    }
    let mut serial = 0;
    match spec.kind {
        KMEMLAB_KIND_FREE_PAGES | KMEMLAB_KIND_PAGES_NODE => {
            let found = search_orders(LAST_ORDER, |order| {
                probe(dev, spec, order.into(), &mut serial)
            });
            Measured::Probed {
                found: orders_to_bytes(found, page),
                pages: true,
            }
        }
        kind => {
            let limit = if kind == KMEMLAB_KIND_VMALLOC {
                cap.bytes
            } else {
                u64::MAX
            };
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

/// The `how it works` text of a row.
fn how(spec: &Spec, page: u64) -> String {
    if spec.kind == KMEMLAB_KIND_KMALLOC {
        format!("{} {}, then pages", spec.how, human_size(2 * page))
    } else {
        spec.how.to_string()
    }
}

/// The rows that are not probed: ioremap and alloc_bootmem.
fn other_rows(region: Option<Region>, boot: Boot) -> [Row; 2] {
    [
        Row {
            allocator: "ioremap",
            kind: Some(KMEMLAB_KIND_IOREMAP),
            how: "maps device memory at a known physical address".into(),
            rule: "known physical address",
            best: "device registers and memory (MMIO)",
            measured: Measured::Region(region),
        },
        Row {
            allocator: "alloc_bootmem",
            kind: None,
            how: "early boot allocator, replaced by memblock".into(),
            rule: "boot time only",
            best: "huge early tables, in boot code",
            measured: Measured::Boot(boot),
        },
    ]
}

/// The kernel-side hard limit an `EINVAL` at `at` bytes stands for.
fn hard_limit(kind: Option<u32>, at: u64, page: u64) -> String {
    match kind {
        Some(KMEMLAB_KIND_KMALLOC) => "KMALLOC_MAX_SIZE".into(),
        Some(KMEMLAB_KIND_KMEM_CACHE) => "kmemlab's KMALLOC_MAX_SIZE/2".into(),
        Some(KMEMLAB_KIND_FREE_PAGES | KMEMLAB_KIND_PAGES_NODE) => {
            match order_of(at, page).checked_sub(1) {
                Some(max) => format!("MAX_PAGE_ORDER = {max}"),
                None => "MAX_PAGE_ORDER".into(),
            }
        }
        Some(KMEMLAB_KIND_VMALLOC) => "kmemlab's 1 GiB cap".into(),
        Some(KMEMLAB_KIND_DMA_COHERENT) => "PAGE_SIZE << MAX_PAGE_ORDER".into(),
        _ => "the ABI".into(),
    }
}

/// What limits a row, as a key for `--json` and a phrase for people.
fn limited_by(row: &Row, report: &Report) -> (&'static str, String) {
    let page = report.page_size;
    match &row.measured {
        Measured::Probed { found, pages } => match &found.end {
            End::Cap => ("cap", format!("safety cap ({})", report.cap.by)),
            End::Failed {
                at,
                why: Failure::Limit,
            } => (
                "limit",
                format!("hard limit: {} (EINVAL)", hard_limit(row.kind, *at, page)),
            ),
            End::Failed {
                at,
                why: Failure::NoMemory,
            } if *at > report.cap.quota => (
                "quota",
                format!(
                    "kmemlab's quota, max_bytes {} (ENOMEM)",
                    human_size(report.cap.quota)
                ),
            ),
            End::Failed {
                at,
                why: Failure::NoMemory,
            } if *pages => (
                "memory",
                format!(
                    "memory: no free order-{} block (ENOMEM)",
                    order_of(*at, page)
                ),
            ),
            End::Failed {
                at,
                why: Failure::NoMemory,
            } => (
                "memory",
                format!(
                    "memory: ENOMEM at {}, ran out or fragmented",
                    human_size(*at)
                ),
            ),
            End::Failed {
                why: Failure::Error(e),
                ..
            } => ("error", format!("stopped: {e}")),
        },
        Measured::Unsupported => ("unsupported", "-".into()),
        Measured::Region(_) => ("device_region", "the device region it maps".into()),
        Measured::Boot(_) => (
            "boot_time_only",
            "boot time only: unreachable from a module".into(),
        ),
    }
}

/// The "largest measured" cell of a row.
fn measured_text(row: &Row, page: u64) -> String {
    match &row.measured {
        Measured::Probed { found, pages } => match (found.largest, &found.end) {
            (Some(l), End::Cap) => format!("at least {} (safety cap)", human_size(l)),
            (
                Some(l),
                End::Failed {
                    why: Failure::Error(_),
                    ..
                },
            ) => format!("at least {} (search stopped)", human_size(l)),
            (Some(l), _) if *pages => format!("{} (order {})", human_size(l), order_of(l, page)),
            (Some(l), _) => human_size(l),
            (
                None,
                End::Failed {
                    why: Failure::Error(_),
                    ..
                },
            ) => "not measured".into(),
            (None, End::Failed { at, .. }) => format!("none: {} failed", human_size(*at)),
            (None, End::Cap) => "none".into(),
        },
        Measured::Unsupported => "not in the loaded module".into(),
        Measured::Region(Some(r)) => format!("edu BAR 0: {} ({})", human_size(r.bytes), r.device),
        Measured::Region(None) => "no edu device".into(),
        Measured::Boot(Boot::Memblock { regions, bytes }) => format!(
            "memblock: {} reserved in {regions} regions",
            human_size(*bytes)
        ),
        Measured::Boot(Boot::Log {
            reserved, total, ..
        }) => format!(
            "{} reserved at boot, of {} RAM",
            human_size(*reserved),
            human_size(*total)
        ),
        Measured::Boot(Boot::NotExposed) => "not exposed".into(),
    }
}

/// The words of `text`, a size kept with its unit ("8 KiB" is one word).
fn words(text: &str) -> Vec<String> {
    const UNITS: [&str; 9] = ["B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB", "KB", "MB"];
    let mut words: Vec<String> = Vec::new();
    for word in text.split_whitespace() {
        let unit = word.trim_end_matches(|c: char| c.is_ascii_punctuation());
        match words.last_mut() {
            Some(last) if UNITS.contains(&unit) && last.ends_with(|c: char| c.is_ascii_digit()) => {
                last.push(' ');
                last.push_str(word);
            }
            _ => words.push(word.to_string()),
        }
    }
    words
}

/// `text` broken into lines of at most `width` characters, at spaces where
/// it can be (a longer word is cut).
pub(crate) fn wrap(text: &str, width: usize) -> Vec<String> {
    let width = width.max(1);
    let mut lines = Vec::new();
    let mut line = String::new();
    for word in words(text) {
        let mut word: Vec<char> = word.chars().collect();
        let used = line.chars().count();
        if used > 0 && used + 1 + word.len() <= width {
            line.push(' ');
            line.extend(&word);
            continue;
        }
        if used > 0 {
            lines.push(std::mem::take(&mut line));
        }
        while word.len() > width {
            lines.push(word.drain(..width).collect());
        }
        line.extend(&word);
    }
    if !line.is_empty() || lines.is_empty() {
        lines.push(line);
    }
    lines
}

/// Lays `rows` out under `header`, each column at most its width in
/// `widths` (cells wrap), two spaces apart, a rule under the header and a
/// blank line between rows; no trailing newline.
pub(crate) fn table(header: &[&str], widths: &[usize], rows: &[Vec<String>]) -> String {
    let widths: Vec<usize> = widths
        .iter()
        .enumerate()
        .map(|(i, &max)| {
            let widest = std::iter::once(header[i])
                .chain(rows.iter().map(|r| r[i].as_str()))
                .map(|cell| {
                    wrap(cell, max)
                        .iter()
                        .map(|l| l.chars().count())
                        .max()
                        .unwrap_or(0)
                })
                .max()
                .unwrap_or(0);
            widest.min(max)
        })
        .collect();
    let render = |cells: &[String]| -> Vec<String> {
        let wrapped: Vec<Vec<String>> = cells
            .iter()
            .zip(&widths)
            .map(|(c, &w)| wrap(c, w))
            .collect();
        let height = wrapped.iter().map(Vec::len).max().unwrap_or(0);
        (0..height)
            .map(|n| {
                let line: Vec<String> = wrapped
                    .iter()
                    .zip(&widths)
                    .map(|(lines, &w)| format!("{:<w$}", lines.get(n).map_or("", String::as_str)))
                    .collect();
                line.join("  ").trim_end().to_string()
            })
            .collect()
    };
    let head: Vec<String> = header.iter().map(|h| h.to_string()).collect();
    let mut out = render(&head);
    out.push(
        widths
            .iter()
            .map(|&w| "-".repeat(w))
            .collect::<Vec<_>>()
            .join("  "),
    );
    for (i, row) in rows.iter().enumerate() {
        if i > 0 {
            out.push(String::new());
        }
        out.extend(render(row));
    }
    out.join("\n")
}

const HEADER: [&str; 6] = [
    "allocator",
    "how it works",
    "rule of thumb",
    "largest measured on this kernel",
    "limited by",
    "best use",
];
/// Column widths: with the separators, [`TEXT_WIDTH`] columns.
const WIDTHS: [usize; 6] = [18, 22, 15, 20, 20, 15];
const _: () = assert!(
    WIDTHS[0] + WIDTHS[1] + WIDTHS[2] + WIDTHS[3] + WIDTHS[4] + WIDTHS[5] + 2 * 5 <= TEXT_WIDTH
);

/// The report for people.
pub(crate) fn report_text(r: &Report) -> String {
    let quota = if r.cap.quota_read {
        format!("quota {}", human_size(r.cap.quota))
    } else {
        format!("quota {} assumed", human_size(r.cap.quota))
    };
    let avail = r.cap.mem_available.map_or(String::new(), |m| {
        format!(", MemAvailable {}", human_size(m))
    });
    let rows: Vec<Vec<String>> = r
        .rows
        .iter()
        .map(|row| {
            vec![
                row.allocator.to_string(),
                row.how.clone(),
                row.rule.to_string(),
                measured_text(row, r.page_size),
                limited_by(row, r).1,
                row.best.to_string(),
            ]
        })
        .collect();
    format!(
        "kmemlab limits: Linux {}, page size {}\n\
         one allocation at a time, freed at once; vmalloc probed up to {} ({}; {quota}{avail})\n\n{}",
        r.kernel,
        human_size(r.page_size),
        human_size(r.cap.bytes),
        r.cap.by,
        table(&HEADER, &WIDTHS, &rows)
    )
}

fn field(k: &str, v: Value) -> (String, Value) {
    (k.to_string(), v)
}

fn opt_num(v: Option<u64>) -> Value {
    v.map_or(Value::Null, Value::Num)
}

/// A row for `--json`: sizes in exact bytes.
fn row_json(row: &Row, r: &Report) -> Value {
    let (limited, _) = limited_by(row, r);
    let mut f = vec![
        field("allocator", Value::Str(row.allocator.into())),
        field(
            "kind",
            row.kind.map_or(Value::Null, |k| {
                Value::Str(crate::commands::kind_name(k).into())
            }),
        ),
        field("how", Value::Str(row.how.clone())),
        field("rule_of_thumb", Value::Str(row.rule.into())),
        field("best_use", Value::Str(row.best.into())),
        field(
            "probed",
            Value::Bool(matches!(row.measured, Measured::Probed { .. })),
        ),
        field("limited_by", Value::Str(limited.into())),
    ];
    match &row.measured {
        Measured::Probed { found, pages } => {
            f.push(field("largest", opt_num(found.largest)));
            if *pages {
                f.push(field(
                    "order",
                    found
                        .largest
                        .map_or(Value::Null, |l| Value::Num(order_of(l, r.page_size).into())),
                ));
            }
            let (first_failure, errno, error) = match &found.end {
                End::Cap => (None, Value::Null, Value::Null),
                End::Failed { at, why } => match why {
                    Failure::Limit => (Some(*at), Value::Str("EINVAL".into()), Value::Null),
                    Failure::NoMemory => (Some(*at), Value::Str("ENOMEM".into()), Value::Null),
                    Failure::Error(e) => (Some(*at), Value::Null, Value::Str(e.clone())),
                },
            };
            f.push(field("first_failure", opt_num(first_failure)));
            f.push(field("errno", errno));
            if let End::Failed {
                at,
                why: Failure::Limit,
            } = &found.end
            {
                f.push(field(
                    "hard_limit",
                    Value::Str(hard_limit(row.kind, *at, r.page_size)),
                ));
            }
            f.push(field("at_cap", Value::Bool(found.end == End::Cap)));
            f.push(field("error", error));
            f.push(field("probes", Value::Num(found.probes.into())));
        }
        Measured::Unsupported => f.push(field("largest", Value::Null)),
        Measured::Region(region) => f.push(field(
            "region",
            region.as_ref().map_or(Value::Null, |reg| {
                Value::Object(vec![
                    field("device", Value::Str("edu".into())),
                    field("pci", Value::Str(reg.device.clone())),
                    field("bar", Value::Num(0)),
                    field("bytes", Value::Num(reg.bytes)),
                ])
            }),
        )),
        Measured::Boot(boot) => f.push(field(
            "boot_reserved",
            match boot {
                Boot::Memblock { regions, bytes } => Value::Object(vec![
                    field("source", Value::Str("memblock".into())),
                    field("regions", Value::Num(*regions)),
                    field("bytes", Value::Num(*bytes)),
                ]),
                Boot::Log {
                    source,
                    reserved,
                    total,
                } => Value::Object(vec![
                    field("source", Value::Str((*source).into())),
                    field("bytes", Value::Num(*reserved)),
                    field("total_bytes", Value::Num(*total)),
                ]),
                Boot::NotExposed => Value::Null,
            },
        )),
    }
    Value::Object(f)
}

/// The report for `--json`.
pub(crate) fn report_json(r: &Report) -> Value {
    Value::Object(vec![
        field("kernel", Value::Str(r.kernel.clone())),
        field("page_size", Value::Num(r.page_size)),
        field("vmalloc_cap", Value::Num(r.cap.bytes)),
        field("vmalloc_cap_by", Value::Str(r.cap.by.into())),
        field("quota", Value::Num(r.cap.quota)),
        field("quota_read", Value::Bool(r.cap.quota_read)),
        field("mem_available", opt_num(r.cap.mem_available)),
        field(
            "rows",
            Value::List(r.rows.iter().map(|row| row_json(row, r)).collect()),
        ),
    ])
}

/// `limits [--json] [--cap BYTES]` (the words after `limits`, from `next`):
/// whether to print JSON, and the cap asked for.
fn limits_args<'a>(
    mut next: impl FnMut() -> Option<&'a str>,
) -> Result<(bool, Option<u64>), String> {
    let (mut json, mut cap) = (false, None);
    while let Some(opt) = next() {
        match opt {
            "--json" => json = true,
            "--cap" => {
                let n = number(next().ok_or("--cap needs a value")?)?;
                if n == 0 {
                    return Err("--cap must be at least 1 byte".into());
                }
                cap = Some(n);
            }
            o => return Err(format!("unknown limits option '{o}'")),
        }
    }
    Ok((json, cap))
}

/// `limits [--json] [--cap BYTES]`: measures every allocator on `dev`.
pub(crate) fn limits(dev: &Device, w: &mut Words<'_>) -> Result<Output, String> {
    let (json_only, user_cap) = limits_args(|| w.next())?;
    let held = dev.list().map_err(|e| e.to_string())?;
    if !held.is_empty() {
        return Err(format!(
            "limits probes with nothing else held, but this file holds {} objects: \
             run it on its own, or before any alloc in a script",
            held.len()
        ));
    }
    let features = dev.version().map_err(|e| e.to_string())?.features;
    // SAFETY: getpagesize() has no preconditions.
    let page = u64::try_from(unsafe { getpagesize() }).unwrap_or(4096);
    let kernel = fs::read_to_string("/proc/sys/kernel/osrelease")
        .map(|s| s.trim().to_string())
        .unwrap_or_else(|_| "?".into());
    let mem_available = fs::read_to_string("/proc/meminfo")
        .ok()
        .and_then(|m| meminfo(&m, "MemAvailable"));
    let param = fs::read_to_string(QUOTA_PARAM)
        .ok()
        .and_then(|s| s.trim().parse::<u64>().ok());
    let cap = safety_cap(
        param.unwrap_or(DEFAULT_QUOTA),
        param.is_some(),
        mem_available,
        user_cap,
    );
    let mut rows: Vec<Row> = SPECS
        .iter()
        .map(|spec| Row {
            allocator: spec.allocator,
            kind: Some(spec.kind),
            how: how(spec, page),
            rule: spec.rule,
            best: spec.best,
            measured: measure(dev, spec, features, page, &cap),
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
        rows,
    };
    let json = json::render(&report_json(&report));
    let text = if json_only {
        json.clone()
    } else {
        report_text(&report)
    };
    Ok(Output { text, json })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A fake allocator: sizes up to `max` succeed, larger ones fail with
    /// `why`; records every size asked for.
    fn fake(
        max: u64,
        why: Failure,
        asked: &mut Vec<u64>,
    ) -> impl FnMut(u64) -> Result<(), Failure> + '_ {
        move |size| {
            asked.push(size);
            if size <= max {
                Ok(())
            } else {
                Err(why.clone())
            }
        }
    }

    #[test]
    fn search_finds_the_exact_byte() {
        for max in [64, 65, 100, 4 << 20, (4 << 20) - 1, 3_000_001, 1 << 40] {
            let mut asked = Vec::new();
            let f = search_bytes(64, u64::MAX, fake(max, Failure::Limit, &mut asked));
            assert_eq!(f.largest, Some(max), "max {max}");
            assert_eq!(
                f.end,
                End::Failed {
                    at: max + 1,
                    why: Failure::Limit
                }
            );
            assert_eq!(f.probes as usize, asked.len());
            // Doubling then bisection: about two probes per bit.
            assert!(asked.len() <= 2 * 64, "{} probes", asked.len());
        }
        let mut asked = Vec::new();
        let f = search_bytes(64, u64::MAX, fake(4 << 20, Failure::Limit, &mut asked));
        assert_eq!(&asked[..3], [64, 128, 256]);
        assert!(asked.len() <= 45, "{} probes for kmalloc", asked.len());
        assert_eq!(f.largest, Some(4 << 20));
    }

    #[test]
    fn search_below_the_first_size_and_nothing_at_all() {
        let mut asked = Vec::new();
        let f = search_bytes(64, u64::MAX, fake(10, Failure::NoMemory, &mut asked));
        assert_eq!(f.largest, Some(10));
        assert_eq!(asked[0], 64);
        let f = search_bytes(64, u64::MAX, fake(0, Failure::NoMemory, &mut Vec::new()));
        assert_eq!(f.largest, None);
        assert_eq!(
            f.end,
            End::Failed {
                at: 1,
                why: Failure::NoMemory
            }
        );
    }

    #[test]
    fn search_never_passes_the_cap() {
        let mut asked = Vec::new();
        let cap = 100 << 20;
        let f = search_bytes(64, cap, fake(u64::MAX, Failure::Limit, &mut asked));
        assert_eq!((f.largest, f.end.clone()), (Some(cap), End::Cap));
        assert!(asked.iter().all(|&s| s <= cap));
        assert_eq!(asked.last(), Some(&cap));
        // Failing below the cap: bisects as usual, still below it.
        let mut asked = Vec::new();
        let f = search_bytes(64, cap, fake(70 << 20, Failure::NoMemory, &mut asked));
        assert_eq!(f.largest, Some(70 << 20));
        assert!(asked.iter().all(|&s| s <= cap));
        // A cap below the first size is the only probe.
        let mut asked = Vec::new();
        let f = search_bytes(64, 10, fake(u64::MAX, Failure::Limit, &mut asked));
        assert_eq!((asked, f.largest, f.end), (vec![10], Some(10), End::Cap));
    }

    #[test]
    fn search_keeps_the_smallest_failure_and_its_errno() {
        // EINVAL above 8 MiB, but ENOMEM above 3 MiB: memory is what limits.
        let f = search_bytes(64, u64::MAX, |s| match s {
            s if s > 8 << 20 => Err(Failure::Limit),
            s if s > 3 << 20 => Err(Failure::NoMemory),
            _ => Ok(()),
        });
        assert_eq!(f.largest, Some(3 << 20));
        assert_eq!(
            f.end,
            End::Failed {
                at: (3 << 20) + 1,
                why: Failure::NoMemory
            }
        );
    }

    #[test]
    fn search_stops_at_an_unexpected_error() {
        let mut asked = Vec::new();
        let f = search_bytes(64, u64::MAX, |s| {
            asked.push(s);
            if s > 1000 {
                Err(Failure::Error("alloc failed: EPERM".into()))
            } else {
                Ok(())
            }
        });
        assert_eq!(asked, [64, 128, 256, 512, 1024]);
        assert_eq!(f.largest, Some(512));
        assert_eq!(
            f.end,
            End::Failed {
                at: 1024,
                why: Failure::Error("alloc failed: EPERM".into())
            }
        );
        // During the bisection too: it stops there.
        let mut n = 0;
        let f = search_bytes(64, u64::MAX, |s| {
            n += 1;
            match s {
                s if s > 8000 => Err(Failure::Limit),
                s if s > 4096 => Err(Failure::Error("x".into())),
                _ => Ok(()),
            }
        });
        // 64 to 4096, 8192 (EINVAL), then 6144: the error.
        assert_eq!((f.largest, f.probes, n), (Some(4096), 9, 9));
        assert!(matches!(
            f.end,
            End::Failed {
                why: Failure::Error(_),
                ..
            }
        ));
    }

    #[test]
    fn order_search_goes_up_to_the_first_failure() {
        let mut asked = Vec::new();
        let f = search_orders(LAST_ORDER, |o| {
            asked.push(o);
            if o <= 10 {
                Ok(())
            } else {
                Err(Failure::Limit)
            }
        });
        assert_eq!(asked, (0..=11).collect::<Vec<_>>());
        assert_eq!((f.largest, f.probes), (Some(10), 12));
        let b = orders_to_bytes(f, 4096);
        assert_eq!(b.largest, Some(4 << 20));
        assert_eq!(
            b.end,
            End::Failed {
                at: 8 << 20,
                why: Failure::Limit
            }
        );
        let f = search_orders(3, |_| Ok(()));
        assert_eq!((f.largest, f.end, f.probes), (Some(3), End::Cap, 4));
        let f = search_orders(3, |_| Err(Failure::NoMemory));
        assert_eq!(f.largest, None);
    }

    #[test]
    fn sizes_for_people() {
        assert_eq!(human_size(0), "0 B");
        assert_eq!(human_size(1023), "1023 B");
        assert_eq!(human_size(1024), "1 KiB");
        assert_eq!(human_size(128 << 10), "128 KiB");
        assert_eq!(human_size(4 << 20), "4 MiB");
        assert_eq!(human_size(1 << 30), "1 GiB");
        assert_eq!(human_size(1536), "1.50 KiB");
        assert_eq!(human_size((2 << 20) + (2 << 20) / 4), "2.50 MiB");
        assert_eq!(human_size(u64::MAX), "16.00 EiB");
        assert_eq!(order_of(4 << 20, 4096), 10);
    }

    #[test]
    fn reads_meminfo() {
        let text = "MemTotal:       24684084 kB\nMemFree:        23261328 kB\n\
                    MemAvailable:   24229008 kB\nHugePages_Total:       0\n";
        assert_eq!(meminfo(text, "MemAvailable"), Some(24229008 * 1024));
        assert_eq!(meminfo(text, "MemTotal"), Some(24684084 * 1024));
        assert_eq!(meminfo(text, "HugePages_Total"), Some(0));
        assert_eq!(meminfo(text, "Mem"), None);
        assert_eq!(meminfo("MemAvailable: lots kB\n", "MemAvailable"), None);
    }

    #[test]
    fn caps_vmalloc_at_the_lowest() {
        let gib = 1u64 << 30;
        let c = safety_cap(256 << 20, false, Some(4 * gib), None);
        assert_eq!((c.bytes, c.by), (256 << 20, "kmemlab's quota"));
        let c = safety_cap(256 << 20, false, Some(300 << 20), None);
        assert_eq!((c.bytes, c.by), (150 << 20, "MemAvailable/2"));
        let c = safety_cap(256 << 20, true, Some(300 << 20), Some(64 << 20));
        assert_eq!((c.bytes, c.by), (64 << 20, "--cap"));
        // --cap only lowers it.
        let c = safety_cap(256 << 20, true, None, Some(gib));
        assert_eq!((c.bytes, c.by), (256 << 20, "kmemlab's quota"));
        assert_eq!(safety_cap(256 << 20, true, Some(1), None).bytes, 1);
    }

    #[test]
    fn reads_pci_resources() {
        let res = "0x00000000fea00000 0x00000000feafffff 0x0000000000040200\n\
                   0x0000000000000000 0x0000000000000000 0x0000000000000000\n";
        assert_eq!(bar_size(res), Some(1 << 20));
        assert_eq!(
            bar_size("0x0000000000000000 0x0000000000000000 0x0000000000000000\n"),
            None
        );
        assert_eq!(bar_size(""), None);
    }

    /// A scratch directory, removed when dropped.
    struct Scratch(std::path::PathBuf);

    impl Scratch {
        fn new(tag: &str) -> Self {
            let dir =
                std::env::temp_dir().join(format!("kmemlab-limits-{tag}-{}", std::process::id()));
            let _ = fs::remove_dir_all(&dir);
            fs::create_dir_all(&dir).unwrap();
            Self(dir)
        }

        fn device(&self, addr: &str, vendor: &str, device: &str, resource: &str) {
            let d = self.0.join(addr);
            fs::create_dir_all(&d).unwrap();
            fs::write(d.join("vendor"), format!("{vendor}\n")).unwrap();
            fs::write(d.join("device"), format!("{device}\n")).unwrap();
            fs::write(d.join("resource"), resource).unwrap();
        }
    }

    impl Drop for Scratch {
        fn drop(&mut self) {
            let _ = fs::remove_dir_all(&self.0);
        }
    }

    #[test]
    fn finds_the_edu_device_in_sysfs() {
        let s = Scratch::new("pci");
        s.device("0000:00:01.0", "0x8086", "0x7000", "0x0 0x0 0x0\n");
        assert_eq!(find_edu(&s.0), None);
        s.device(
            "0000:00:04.0",
            "0x1234",
            "0x11e8",
            "0x00000000fea00000 0x00000000feafffff 0x0000000000040200\n",
        );
        assert_eq!(
            find_edu(&s.0),
            Some(Region {
                device: "0000:00:04.0".into(),
                bytes: 1 << 20
            })
        );
        assert_eq!(find_edu(Path::new("/nonexistent/pci")), None);
    }

    #[test]
    fn reads_memblock_reserved() {
        let text = "   0: 0x0000000000000000..0x0000000000000fff    0 NONE\n\
                    \x20  1: 0x000000000009f000..0x00000000000fffff    x RSRV_KERN\n\
                    \x20  2: 0x0000000001000000..0x0000000001ffffff\n";
        assert_eq!(parse_memblock(text), Some((3, 4096 + 0x61000 + (16 << 20))));
        assert_eq!(parse_memblock(""), None);
        assert_eq!(parse_memblock("garbage\nx: y\n"), None);
    }

    #[test]
    fn reads_the_memory_line_of_kmsg_and_dmesg() {
        let kmsg = "6,1,0,-;Linux version 7.3.4\n\
                    6,57,0,-;x86/mm: Memory block size: 128MB\n\
                    6,58,12345,-;Memory: 3977852K/4193784K available (18432K kernel code, \
                    2787K rwdata, 13120K rodata, 4400K init, 7152K bss, 207368K reserved, \
                    0K cma-reserved)\n SUBSYSTEM=x\n";
        assert_eq!(
            parse_memory_line(kmsg),
            Some((207368 * 1024, 4193784 * 1024))
        );
        let dmesg = "[    0.123456] Memory: 1000K/2000K available (1K kernel code, 500K reserved, \
                     7K cma-reserved, 0K highmem)\n";
        assert_eq!(parse_memory_line(dmesg), Some((500 * 1024, 2000 * 1024)));
        assert_eq!(parse_memory_line("Memory: nothing here\n"), None);
        assert_eq!(parse_memory_line(""), None);
    }

    #[test]
    fn wraps_cells() {
        assert_eq!(wrap("one two three", 7), ["one two", "three"]);
        assert_eq!(wrap("", 5), [""]);
        assert_eq!(wrap("abcdefghij", 4), ["abcd", "efgh", "ij"]);
        assert_eq!(wrap("a abcdefghij b", 4), ["a", "abcd", "efgh", "ij b"]);
        // A size stays with its unit.
        assert_eq!(wrap("up to 8 KiB, then", 10), ["up to", "8 KiB,", "then"]);
    }

    fn probed(largest: Option<u64>, end: End, pages: bool) -> Measured {
        Measured::Probed {
            found: Found {
                largest,
                end,
                probes: 40,
            },
            pages,
        }
    }

    /// A report with made-up figures, one row per outcome.
    pub(crate) fn fake_report() -> Report {
        let page = 4096;
        let failed = |at, why| End::Failed { at, why };
        let measured = [
            probed(Some(4 << 20), failed((4 << 20) + 1, Failure::Limit), false),
            probed(Some(2 << 20), failed((2 << 20) + 1, Failure::Limit), false),
            probed(Some(4 << 20), failed(8 << 20, Failure::Limit), true),
            probed(Some(1 << 20), failed(2 << 20, Failure::NoMemory), true),
            probed(Some(64 << 20), End::Cap, false),
            probed(
                Some(1 << 20),
                failed(2 << 20, Failure::Error("alloc failed (EPERM)".into())),
                false,
            ),
        ];
        let mut rows: Vec<Row> = SPECS
            .iter()
            .zip(measured)
            .map(|(spec, measured)| Row {
                allocator: spec.allocator,
                kind: Some(spec.kind),
                how: how(spec, page),
                rule: spec.rule,
                best: spec.best,
                measured,
            })
            .collect();
        rows.extend(other_rows(
            Some(Region {
                device: "0000:00:04.0".into(),
                bytes: 1 << 20,
            }),
            Boot::Log {
                source: "/dev/kmsg",
                reserved: 207368 * 1024,
                total: 4193784 * 1024,
            },
        ));
        Report {
            kernel: "7.3.4-amd64".into(),
            page_size: page,
            cap: safety_cap(256 << 20, false, Some(3 << 30), Some(64 << 20)),
            rows,
        }
    }

    #[test]
    fn renders_the_table() {
        let r = fake_report();
        let text = report_text(&r);
        println!("{text}");
        for line in text.lines() {
            assert!(line.chars().count() <= TEXT_WIDTH, "too wide: {line:?}");
            assert_eq!(line, line.trim_end());
        }
        assert!(text.starts_with("kmemlab limits: Linux 7.3.4-amd64, page size 4 KiB\n"));
        assert!(text.contains("vmalloc probed up to 64 MiB (--cap; quota 256 MiB assumed"));
        for name in [
            "kmalloc",
            "kmem_cache",
            "__get_free_pages",
            "alloc_pages_node",
            "vmalloc",
            "dma_alloc_coherent",
            "ioremap",
            "alloc_bootmem",
        ] {
            assert!(
                text.lines().any(|l| l.starts_with(&format!("{name} "))),
                "no {name} row"
            );
        }
        // The cells, before wrapping.
        let cells = |i: usize| {
            let row = &r.rows[i];
            format!(
                "{} | {} | {}",
                row.how,
                measured_text(row, r.page_size),
                limited_by(row, &r).1
            )
        };
        assert!(cells(0).contains("up to 8 KiB, then pages"));
        assert!(cells(0).contains("| 4 MiB | hard limit: KMALLOC_MAX_SIZE (EINVAL)"));
        assert!(cells(1).contains("| 2 MiB | hard limit: kmemlab's KMALLOC_MAX_SIZE/2"));
        assert!(cells(2).contains("| 4 MiB (order 10) | hard limit: MAX_PAGE_ORDER = 10"));
        assert!(cells(3).contains("| 1 MiB (order 8) | memory: no free order-9 block (ENOMEM)"));
        assert!(cells(4).contains("| at least 64 MiB (safety cap) | safety cap (--cap)"));
        assert!(
            cells(5).ends_with("| at least 1 MiB (search stopped) | stopped: alloc failed (EPERM)")
        );
        assert!(cells(6).contains("| edu BAR 0: 1 MiB (0000:00:04.0) | the device region it maps"));
        assert!(cells(7).contains("| 202.51 MiB reserved at boot, of 4.00 GiB RAM |"));
        assert!(cells(7).ends_with("boot time only: unreachable from a module"));
        // Sizes stay with their units, and words whole, in the table.
        assert!(text.contains(" 8 KiB, then pages"));
        assert!(text.contains(" non-contiguous,"));

        // Without edu, unsupported kinds, boot figures from memblock or none.
        let mut r = fake_report();
        r.rows[0].measured = Measured::Unsupported;
        r.rows[6].measured = Measured::Region(None);
        r.rows[7].measured = Measured::Boot(Boot::Memblock {
            regions: 57,
            bytes: 3 << 20,
        });
        let text = report_text(&r);
        assert!(text.contains("not in the loaded") && text.contains("no edu device"));
        assert_eq!(measured_text(&r.rows[0], 4096), "not in the loaded module");
        assert_eq!(limited_by(&r.rows[0], &r), ("unsupported", "-".to_string()));
        assert_eq!(
            measured_text(&r.rows[7], 4096),
            "memblock: 3 MiB reserved in 57 regions"
        );
        r.rows[7].measured = Measured::Boot(Boot::NotExposed);
        assert!(report_text(&r).contains("not exposed"));
    }

    #[test]
    fn lays_out_columns_within_their_widths() {
        let t = table(
            &["a", "bb"],
            &[3, 10],
            &[
                vec!["x".into(), "one two three four".into()],
                vec!["yyyyy".into(), "z".into()],
            ],
        );
        assert_eq!(
            t,
            "a    bb\n---  ----------\nx    one two\n     three four\n\nyyy  z\nyy"
        );
    }

    #[test]
    fn json_has_exact_bytes() {
        let r = fake_report();
        let v = json::parse(&json::render(&report_json(&r))).unwrap();
        assert_eq!(v.get("page_size").and_then(Value::as_u64), Some(4096));
        assert_eq!(v.get("vmalloc_cap").and_then(Value::as_u64), Some(64 << 20));
        assert_eq!(
            v.get("vmalloc_cap_by").and_then(Value::as_str),
            Some("--cap")
        );
        let rows = v.get("rows").and_then(Value::as_list).unwrap();
        assert_eq!(rows.len(), 8);
        let get = |i: usize, k: &str| rows[i].get(k).cloned().unwrap_or(Value::Null);
        assert_eq!(get(0, "allocator"), Value::Str("kmalloc".into()));
        assert_eq!(get(0, "kind"), Value::Str("kmalloc".into()));
        assert_eq!(get(0, "largest"), Value::Num(4 << 20));
        assert_eq!(get(0, "first_failure"), Value::Num((4 << 20) + 1));
        assert_eq!(get(0, "errno"), Value::Str("EINVAL".into()));
        assert_eq!(get(0, "limited_by"), Value::Str("limit".into()));
        assert_eq!(get(0, "probed"), Value::Bool(true));
        assert_eq!(get(2, "kind"), Value::Str("free_pages".into()));
        assert_eq!(get(2, "order"), Value::Num(10));
        assert_eq!(
            get(2, "hard_limit"),
            Value::Str("MAX_PAGE_ORDER = 10".into())
        );
        assert_eq!(get(3, "limited_by"), Value::Str("memory".into()));
        assert_eq!(get(3, "errno"), Value::Str("ENOMEM".into()));
        assert_eq!(get(4, "limited_by"), Value::Str("cap".into()));
        assert_eq!(get(4, "at_cap"), Value::Bool(true));
        assert_eq!(get(4, "first_failure"), Value::Null);
        assert_eq!(get(5, "limited_by"), Value::Str("error".into()));
        assert!(matches!(get(5, "error"), Value::Str(e) if e.contains("EPERM")));
        assert_eq!(get(6, "probed"), Value::Bool(false));
        let region = get(6, "region");
        assert_eq!(region.get("bytes").and_then(Value::as_u64), Some(1 << 20));
        assert_eq!(get(7, "kind"), Value::Null);
        let boot = get(7, "boot_reserved");
        assert_eq!(
            boot.get("bytes").and_then(Value::as_u64),
            Some(207368 * 1024)
        );
    }

    #[test]
    fn quota_is_named_when_enomem_is_above_it() {
        let mut r = fake_report();
        r.cap = safety_cap(1 << 20, true, None, None);
        r.rows[0].measured = probed(
            Some(1 << 20),
            End::Failed {
                at: 2 << 20,
                why: Failure::NoMemory,
            },
            false,
        );
        let (key, text) = limited_by(&r.rows[0], &r);
        assert_eq!(key, "quota");
        assert!(text.contains("max_bytes 1 MiB"), "{text}");
        r.rows[0].measured = probed(
            Some(512 << 10),
            End::Failed {
                at: 600 << 10,
                why: Failure::NoMemory,
            },
            false,
        );
        assert!(limited_by(&r.rows[0], &r).1.contains("ENOMEM at 600 KiB"));
        r.rows[0].measured = probed(
            None,
            End::Failed {
                at: 1,
                why: Failure::NoMemory,
            },
            false,
        );
        assert_eq!(measured_text(&r.rows[0], 4096), "none: 1 B failed");
    }

    #[test]
    fn parses_limits_options() {
        let parse = |line: &str| {
            let mut words = line.split_whitespace();
            limits_args(|| words.next())
        };
        assert_eq!(parse("").unwrap(), (false, None));
        assert_eq!(parse("--json --cap 64M").unwrap(), (true, Some(64 << 20)));
        assert!(parse("--cap").is_err());
        assert!(parse("--cap 0").is_err());
        assert!(parse("--bogus").is_err());
    }
}
