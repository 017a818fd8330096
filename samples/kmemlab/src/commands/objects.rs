// SPDX-License-Identifier: GPL-2.0

//! Objects and caches: alloc, free, write, read, fill, verify, info, list,
//! cache.

use serde_json::Value;

use crate::cli::{AllocArgs, CacheCommand, FreeArgs, RangeArgs, SeededArgs, WriteArgs};
use crate::device::DeviceOps;
use crate::error::{usage, Error, Result};
use crate::names::{backing_name, device_name, kind_name, source_name, zone_name};
use crate::output::{object, Output};
use crate::uapi::*;

fn handles_value(handles: &[u32]) -> Value {
    Value::from(handles.to_vec())
}

/// What the `cache` field of an info holds for its kind: a key and its value.
fn info_owner(i: &KmemlabInfo) -> (&'static str, Value) {
    match i.kind {
        KMEMLAB_KIND_DMA_COHERENT => ("device", device_name(i.cache).into()),
        KMEMLAB_KIND_IOREMAP => ("source", source_name(i.cache).into()),
        KMEMLAB_KIND_MEMPOOL | KMEMLAB_KIND_DMA_POOL => ("pool", i.cache.into()),
        _ => ("cache", i.cache.into()),
    }
}

pub(crate) fn info_fields(i: &KmemlabInfo) -> Vec<(&'static str, Value)> {
    vec![
        ("handle", i.handle.into()),
        ("kind", kind_name(i.kind).into()),
        ("size", i.size.into()),
        ("order", i.order.into()),
        ("node", i.node.into()),
        ("nid", i.nid.into()),
        ("cpu", i.cpu.into()),
        info_owner(i),
        ("gfp", i.gfp.into()),
        ("zone", zone_name(i.zone).into()),
        ("backing", backing_name(i.backing).into()),
    ]
}

/// One object for people.
pub fn info_line(i: &KmemlabInfo) -> String {
    // -1: not RAM on one node (IOREMAP, PERCPU).
    let nid = if i.nid < 0 {
        "-".to_string()
    } else {
        i.nid.to_string()
    };
    let mut s = format!(
        "{:>6}  {:<12} {:>10} bytes  node {nid:>2} (asked {:>2})  cpu {}",
        i.handle,
        kind_name(i.kind),
        i.size,
        i.node,
        i.cpu
    );
    if i.kind == KMEMLAB_KIND_FREE_PAGES || i.kind == KMEMLAB_KIND_PAGES_NODE {
        s.push_str(&format!("  order {}", i.order));
    }
    // The zone padded to the longest name (HighMem, Movable): the columns
    // after it line up.
    s.push_str(&format!(
        "  zone {:<7}  from {}",
        zone_name(i.zone),
        backing_name(i.backing)
    ));
    match info_owner(i) {
        (key, Value::String(name)) => s.push_str(&format!("  {key} {name}")),
        (key, _) if i.cache != 0 => s.push_str(&format!("  {key} {}", i.cache)),
        _ => {}
    }
    s
}

/// A `KMEMLAB_IOC_ALLOC` request for one object of kind `k`, with the tool's
/// defaults: any node, and for DMA_COHERENT the faux device.
pub(crate) fn alloc_req(k: u32) -> KmemlabAlloc {
    KmemlabAlloc {
        kind: k,
        node: KMEMLAB_NODE_ANY,
        cache: if k == KMEMLAB_KIND_DMA_COHERENT {
            KMEMLAB_DEV_FAUX
        } else {
            0
        },
        count: 1,
        ..Default::default()
    }
}

/// The command that makes the pools objects of kind `k` come from, for
/// the kinds whose objects come from a pool (`--pool`).
fn pool_command(k: u32) -> Option<&'static str> {
    match k {
        KMEMLAB_KIND_MEMPOOL => Some("mempool"),
        KMEMLAB_KIND_DMA_POOL => Some("dma-pool"),
        _ => None,
    }
}

/// The request of `alloc`.
pub(crate) fn alloc_request(a: &AllocArgs) -> Result<KmemlabAlloc> {
    // clap takes no ioremap here: those objects are made by `ioremap`.
    let k = a.kind;
    let mut req = alloc_req(k);
    req.size = a.size.or(a.size_arg).unwrap_or(0);
    req.order = a.order;
    req.node = a.node;
    req.count = a.count;
    match (k, a.dma_device) {
        (KMEMLAB_KIND_DMA_COHERENT, Some(d)) => req.cache = d,
        (_, Some(_)) => return Err(usage("--dma-device is for alloc dma only")),
        _ => {}
    }
    let name = kind_name(k);
    match (k, a.cache) {
        (KMEMLAB_KIND_KMEM_CACHE, Some(c)) => req.cache = c,
        (KMEMLAB_KIND_KMEM_CACHE, None) => {
            return Err(usage(
                "alloc kmem_cache needs --cache H: the handle `cache create` gave",
            ))
        }
        (_, Some(_)) => return Err(usage(format!("--cache is for kmem_cache, not {name}"))),
        (_, None) => {}
    }
    // A pool's handle travels in the cache field, as a cache's does.
    match (pool_command(k), a.pool) {
        (Some(_), Some(p)) => req.cache = p,
        (Some(create), None) => {
            return Err(usage(format!(
                "alloc {name} needs --pool H: the handle `{create} create` gave"
            )))
        }
        (None, Some(_)) => {
            return Err(usage(format!(
                "--pool is for mempool and dma_pool, not {name}"
            )))
        }
        (None, None) => {}
    }
    // --order has a default (0): any other value is for the page kinds.
    if a.order != 0 && !crate::bench::takes_order(k) {
        return Err(usage(format!(
            "--order is for free_pages and pages_node, not {name}"
        )));
    }
    req.gfp = gfp_bits(a);
    Ok(req)
}

/// The KMEMLAB_GFP_* bits of `alloc`: the base and the modifiers, as given
/// (which combinations a kind takes is the module's to say).
pub(crate) fn gfp_bits(a: &AllocArgs) -> u32 {
    [
        (a.zero, KMEMLAB_GFP_ZERO),
        (a.nowarn, KMEMLAB_GFP_NOWARN),
        (a.account, KMEMLAB_GFP_ACCOUNT),
        (a.noretry, KMEMLAB_GFP_NORETRY),
        (a.dma, KMEMLAB_GFP_DMA),
        (a.dma32, KMEMLAB_GFP_DMA32),
        (a.thisnode, KMEMLAB_GFP_THISNODE),
        (a.retry_mayfail, KMEMLAB_GFP_RETRY_MAYFAIL),
    ]
    .into_iter()
    .filter(|(on, _)| *on)
    .fold(a.gfp.bits(), |gfp, (_, bit)| gfp | bit)
}

pub(crate) fn alloc(dev: &dyn DeviceOps, a: &AllocArgs) -> Result<Output> {
    let req = alloc_request(a)?;
    let k = req.kind;
    let handles = dev.alloc(&req)?;
    let list: Vec<String> = handles.iter().map(|h| h.to_string()).collect();
    Ok(Output::new(
        format!("{}: {}", kind_name(k), list.join(" ")),
        &[
            ("kind", kind_name(k).into()),
            ("handles", handles_value(&handles)),
        ],
    ))
}

pub(crate) fn free(dev: &dyn DeviceOps, f: &FreeArgs) -> Result<Output> {
    dev.free(&f.handles)?;
    let what = if f.all {
        "all objects".to_string()
    } else {
        format!("{:?}", f.handles)
    };
    Ok(Output::new(
        format!("freed {what}"),
        &[("freed", handles_value(&f.handles)), ("all", f.all.into())],
    ))
}

fn hex(data: &[u8]) -> String {
    use std::fmt::Write as _;
    data.iter().fold(String::new(), |mut s, b| {
        let _ = write!(s, "{b:02x}");
        s
    })
}

fn unhex(s: &str) -> Result<Vec<u8>> {
    if s.len() % 2 != 0 {
        return Err(usage("--hex needs an even number of digits"));
    }
    (0..s.len())
        .step_by(2)
        .map(|i| {
            s.get(i..i + 2)
                .and_then(|d| u8::from_str_radix(d, 16).ok())
                .ok_or_else(|| usage(format!("bad hex '{s}'")))
        })
        .collect()
}

/// The bytes `write` writes.
pub(crate) fn write_data(w: &WriteArgs) -> Result<Vec<u8>> {
    match (&w.string, &w.hex) {
        (Some(s), None) => Ok(s.as_bytes().to_vec()),
        (None, Some(h)) => unhex(h),
        _ => Err(usage("write needs --string TEXT or --hex HEX")),
    }
}

pub(crate) fn write(dev: &dyn DeviceOps, w: &WriteArgs) -> Result<Output> {
    let data = write_data(w)?;
    dev.write(w.handle, w.offset, &data)?;
    Ok(Output::new(
        format!("wrote {} bytes at {}", data.len(), w.offset),
        &[("written", data.len().into())],
    ))
}

/// The bytes an io command touches: `--len`, defaulting to the rest of the object.
fn io_len(dev: &dyn DeviceOps, r: &RangeArgs) -> Result<u64> {
    match r.len {
        Some(l) => Ok(l),
        None => Ok(dev.info(r.handle)?.size.saturating_sub(r.offset)),
    }
}

pub(crate) fn read(dev: &dyn DeviceOps, r: &RangeArgs) -> Result<Output> {
    // The object's size bounds the buffer: a --len past its end is refused
    // before anything is allocated for it.
    let size = dev.info(r.handle)?.size;
    let len = match r.len {
        Some(l) if r.offset.checked_add(l).is_none_or(|end| end > size) => {
            return Err(Error::Failed(format!(
                "read {}: --len {l} at offset {} goes past the object's end ({size} bytes)",
                r.handle, r.offset
            )))
        }
        Some(l) => l,
        None => size.saturating_sub(r.offset),
    };
    let len = usize::try_from(len).map_err(|_| usage("--len too large"))?;
    let got = dev.read(r.handle, r.offset, len)?;
    Ok(Output::new(
        hex(&got),
        &[("offset", r.offset.into()), ("hex", hex(&got).into())],
    ))
}

pub(crate) fn fill(dev: &dyn DeviceOps, s: &SeededArgs) -> Result<Output> {
    let r = &s.range;
    let len = io_len(dev, r)?;
    dev.fill(r.handle, s.seed, r.offset, len)?;
    Ok(Output::new(
        format!("filled {len} bytes at {} with seed {:#x}", r.offset, s.seed),
        &[("filled", len.into())],
    ))
}

pub(crate) fn verify(dev: &dyn DeviceOps, s: &SeededArgs) -> Result<Output> {
    let r = &s.range;
    let len = io_len(dev, r)?;
    match dev.verify(r.handle, s.seed, r.offset, len)? {
        None => Ok(Output::new(
            format!("ok: {len} bytes at {} match seed {:#x}", r.offset, s.seed),
            &[("match", true.into())],
        )),
        Some(at) => Err(Error::Failed(format!(
            "mismatch: byte {at} differs from the pattern of seed {:#x}",
            s.seed
        ))),
    }
}

pub(crate) fn info(dev: &dyn DeviceOps, handle: u32) -> Result<Output> {
    let i = dev.info(handle)?;
    Ok(Output::new(info_line(&i), &info_fields(&i)))
}

pub(crate) fn list(dev: &dyn DeviceOps) -> Result<Output> {
    let infos = dev.list()?;
    let text = if infos.is_empty() {
        "(no objects)".to_string()
    } else {
        infos.iter().map(info_line).collect::<Vec<_>>().join("\n")
    };
    let list: Vec<Value> = infos.iter().map(|i| object(info_fields(i))).collect();
    Ok(Output::new(text, &[("objects", list.into())]))
}

/// A cache name the ABI can carry.
pub(crate) fn validate_cache(c: &CacheCommand) -> Result<()> {
    match c {
        CacheCommand::Create { name, .. } if name.len() >= KMEMLAB_CACHE_NAME_MAX => {
            Err(usage(format!(
                "cache name longer than {} bytes",
                KMEMLAB_CACHE_NAME_MAX - 1
            )))
        }
        _ => Ok(()),
    }
}

pub(crate) fn cache(dev: &dyn DeviceOps, c: &CacheCommand) -> Result<Output> {
    validate_cache(c)?;
    match c {
        CacheCommand::Create {
            name,
            size,
            align,
            hwcache_align,
            ctor,
            dma,
            dma32,
        } => {
            let flags = [
                (*hwcache_align, KMEMLAB_CACHE_HWCACHE_ALIGN),
                (*ctor, KMEMLAB_CACHE_CTOR),
                (*dma, KMEMLAB_CACHE_DMA),
                (*dma32, KMEMLAB_CACHE_DMA32),
            ]
            .into_iter()
            .filter(|(on, _)| *on)
            .fold(0, |flags, (_, bit)| flags | bit);
            let h = dev.cache_create(name, *size, *align, flags)?;
            Ok(Output::new(
                format!("cache kmemlab-{name}: handle {h}"),
                &[
                    ("name", format!("kmemlab-{name}").into()),
                    ("handle", h.into()),
                ],
            ))
        }
        CacheCommand::Destroy(h) => {
            dev.cache_destroy(h.handle)?;
            Ok(Output::new(
                format!("destroyed cache {}", h.handle),
                &[("destroyed", h.handle.into())],
            ))
        }
        CacheCommand::List => {
            // Every kmemlab cache on the system, as /proc/slabinfo shows them.
            let caches = crate::stats::read_slabinfo()?;
            let cells: Vec<Vec<String>> = caches
                .iter()
                .map(|c| {
                    vec![
                        c.name.clone(),
                        c.active_objs.to_string(),
                        c.objsize.to_string(),
                    ]
                })
                .collect();
            let text = if cells.is_empty() {
                "(no kmemlab caches)".to_string()
            } else {
                crate::table::figures(&["name", "active_objs", "objsize"], &cells)
            };
            let rows: Vec<Value> = caches
                .into_iter()
                .map(|c| {
                    object([
                        ("name", Value::from(c.name)),
                        ("active_objs", c.active_objs.into()),
                        ("objsize", c.objsize.into()),
                    ])
                })
                .collect();
            Ok(Output::new(text, &[("caches", rows.into())]))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cli::Command;
    use crate::commands::tests::{command, run_line};

    fn alloc_of(line: &str) -> Result<KmemlabAlloc> {
        match command(&format!("alloc {line}")) {
            Command::Alloc(a) => alloc_request(&a),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn hex_round_trips() {
        assert_eq!(unhex(&hex(&[0, 1, 0xab])).unwrap(), vec![0, 1, 0xab]);
        assert!(unhex("abc").is_err());
        assert!(unhex("zz").is_err());
    }

    #[test]
    fn alloc_keeps_old_syntax_and_takes_dma_and_percpu() {
        let r = alloc_of("kmalloc --size 64 --count 3 --gfp atomic --zero").unwrap();
        assert_eq!((r.kind, r.size, r.count), (KMEMLAB_KIND_KMALLOC, 64, 3));
        assert_eq!(r.gfp, KMEMLAB_GFP_ATOMIC | KMEMLAB_GFP_ZERO);
        assert_eq!((r.node, r.cache), (KMEMLAB_NODE_ANY, 0));
        let r = alloc_of("kmem_cache --cache 2").unwrap();
        assert_eq!((r.kind, r.cache), (KMEMLAB_KIND_KMEM_CACHE, 2));
        // A mempool's handle travels in the cache field; the GFP bits as given.
        let r = alloc_of("mempool --pool 5 --gfp nowait --nowarn --count 2").unwrap();
        assert_eq!(
            (r.kind, r.cache, r.size, r.count),
            (KMEMLAB_KIND_MEMPOOL, 5, 0, 2)
        );
        assert_eq!(r.gfp, KMEMLAB_GFP_NOWAIT | KMEMLAB_GFP_NOWARN);
        assert_eq!((r.order, r.node), (0, KMEMLAB_NODE_ANY));
        let r = alloc_of("mempool --pool 5").unwrap();
        assert_eq!(r.gfp, KMEMLAB_GFP_KERNEL);
        // So does a DMA pool's.
        let r = alloc_of("dma_pool --pool 6 --gfp noio --noretry --count 3").unwrap();
        assert_eq!(
            (r.kind, r.cache, r.size, r.count),
            (KMEMLAB_KIND_DMA_POOL, 6, 0, 3)
        );
        assert_eq!(r.gfp, KMEMLAB_GFP_NOIO | KMEMLAB_GFP_NORETRY);
        assert_eq!((r.order, r.node), (0, KMEMLAB_NODE_ANY));
        let r = alloc_of("dma 4k").unwrap();
        assert_eq!(r.kind, KMEMLAB_KIND_DMA_COHERENT);
        assert_eq!((r.size, r.cache, r.count), (4096, KMEMLAB_DEV_FAUX, 1));
        let r = alloc_of("dma 64 --dma-device edu --count 2").unwrap();
        assert_eq!((r.size, r.cache, r.count), (64, KMEMLAB_DEV_EDU, 2));
        let r = alloc_of("dma_coherent --size 8 --dma-device faux").unwrap();
        assert_eq!((r.size, r.cache), (8, KMEMLAB_DEV_FAUX));
        let r = alloc_of("pages_node --order 2 --node 0").unwrap();
        assert_eq!((r.order, r.node), (2, 0));
        let r = alloc_of("kmalloc 8 --node -1").unwrap();
        assert_eq!(r.node, KMEMLAB_NODE_ANY);
        let r = alloc_of("percpu --count 4").unwrap();
        assert_eq!(
            (r.kind, r.size, r.count, r.cache),
            (KMEMLAB_KIND_PERCPU, 0, 4, 0)
        );
        assert!(alloc_of("kmalloc 64 --dma-device edu").is_err());
        for (bad, message) in [
            ("kmem_cache", "alloc kmem_cache needs --cache H"),
            (
                "kmalloc 64 --cache 1",
                "--cache is for kmem_cache, not kmalloc",
            ),
            ("mempool --gfp atomic", "alloc mempool needs --pool H"),
            (
                "kmalloc 64 --pool 1",
                "--pool is for mempool and dma_pool, not kmalloc",
            ),
            (
                "kmem_cache --cache 1 --pool 1",
                "--pool is for mempool and dma_pool, not kmem_cache",
            ),
            (
                "dma_pool",
                "alloc dma_pool needs --pool H: the handle `dma-pool create` gave",
            ),
            (
                "dma --pool 1",
                "--pool is for mempool and dma_pool, not dma_coherent",
            ),
            (
                "dma_pool --pool 1 --cache 1",
                "--cache is for kmem_cache, not dma_pool",
            ),
            (
                "dma_pool --pool 1 --dma-device edu",
                "--dma-device is for alloc dma only",
            ),
            (
                "mempool --cache 1 --pool 1",
                "--cache is for kmem_cache, not mempool",
            ),
            (
                "vmalloc 4k --order 2",
                "--order is for free_pages and pages_node, not vmalloc",
            ),
        ] {
            let e = alloc_of(bad).unwrap_err();
            assert_eq!(e.exit_code(), 2, "{bad}");
            assert!(e.to_string().starts_with(message), "{bad}: {e}");
        }
    }

    fn info(kind: u32, nid: i32, cache: u32) -> KmemlabInfo {
        KmemlabInfo {
            handle: 1,
            kind,
            size: 64,
            node: KMEMLAB_NODE_ANY,
            nid,
            cache,
            ..Default::default()
        }
    }

    #[test]
    fn info_names_devices_and_sources() {
        let js = |i: &KmemlabInfo| object(info_fields(i)).to_string();
        let dma = info(KMEMLAB_KIND_DMA_COHERENT, 0, KMEMLAB_DEV_EDU);
        assert!(info_line(&dma).ends_with("  device edu"));
        assert!(js(&dma).contains(r#""device":"edu""#));
        assert!(!js(&dma).contains("cache"));

        let io = info(KMEMLAB_KIND_IOREMAP, -1, KMEMLAB_IOREMAP_PHYS);
        assert!(info_line(&io).contains("node  - (asked -1)"));
        assert!(info_line(&io).ends_with("  source phys"));
        assert!(js(&io).contains(r#""source":"phys""#) && js(&io).contains(r#""nid":-1"#));

        let cached = info(KMEMLAB_KIND_KMEM_CACHE, 0, 3);
        assert!(info_line(&cached).ends_with("  cache 3"));
        assert!(js(&cached).contains(r#""cache":3"#));
        let pooled = info(KMEMLAB_KIND_MEMPOOL, 0, 4);
        assert!(info_line(&pooled).ends_with("  pool 4"));
        assert!(js(&pooled).contains(r#""pool":4"#) && !js(&pooled).contains("cache"));
        let block = info(KMEMLAB_KIND_DMA_POOL, 0, 5);
        assert!(
            info_line(&block).contains(" dma_pool "),
            "{}",
            info_line(&block)
        );
        assert!(info_line(&block).ends_with("  pool 5"));
        assert!(js(&block).contains(r#""pool":5"#) && !js(&block).contains("cache"));
        let plain = info(KMEMLAB_KIND_PERCPU, -1, 0);
        assert!(info_line(&plain).ends_with("cpu 0  zone -        from -"));
    }

    #[test]
    fn info_names_the_zone_and_the_backing() {
        let i = KmemlabInfo {
            zone: KMEMLAB_ZONE_DMA32,
            backing: KMEMLAB_BACKING_SLAB,
            ..info(KMEMLAB_KIND_KMALLOC, 0, 0)
        };
        assert!(
            info_line(&i).ends_with("cpu 0  zone DMA32    from slab"),
            "{}",
            info_line(&i)
        );
        let js = object(info_fields(&i));
        assert_eq!(
            (js["zone"].as_str(), js["backing"].as_str()),
            (Some("DMA32"), Some("slab"))
        );
        // The owner stays last, after the zone and the backing.
        let dma = KmemlabInfo {
            zone: KMEMLAB_ZONE_NORMAL,
            backing: KMEMLAB_BACKING_PAGES,
            ..info(KMEMLAB_KIND_DMA_COHERENT, 0, KMEMLAB_DEV_FAUX)
        };
        assert!(
            info_line(&dma).ends_with("  zone Normal   from pages  device faux"),
            "{}",
            info_line(&dma)
        );
        // A number the tool does not know is shown as a number.
        let odd = KmemlabInfo {
            zone: 77,
            backing: 9,
            ..info(KMEMLAB_KIND_VMALLOC, 0, 0)
        };
        assert!(
            info_line(&odd).contains("zone 77       from 9"),
            "{}",
            info_line(&odd)
        );
        let js = object(info_fields(&odd));
        assert_eq!(
            (js["zone"].as_str(), js["backing"].as_str()),
            (Some("77"), Some("9"))
        );
    }

    #[test]
    fn info_and_list_of_the_fake_report_zone_and_backing() {
        let dev = crate::device::fake::FakeDevice::default();
        for line in [
            "alloc kmalloc 64",
            "alloc kmalloc 64k",
            "alloc vmalloc 4k",
            "alloc kvmalloc 64",
            "alloc kvmalloc 1m",
            "alloc kvmalloc 8m",
            "alloc percpu",
            "alloc kmalloc 64 --dma",
            "alloc free_pages --order 1 --dma32",
        ] {
            run_line(&dev, line).unwrap();
        }
        let want = [
            ("kmalloc", "Normal", "slab"),
            ("kmalloc", "Normal", "pages"),
            ("vmalloc", "Normal", "vmalloc"),
            ("kvmalloc", "Normal", "slab"),
            ("kvmalloc", "Normal", "pages"),
            ("kvmalloc", "Normal", "vmalloc"),
            ("percpu", "-", "-"),
            ("kmalloc", "DMA", "slab"),
            ("free_pages", "DMA32", "pages"),
        ];
        let list = run_line(&dev, "list").unwrap();
        let objects = list.json["objects"].as_array().unwrap();
        let got: Vec<(&str, &str, &str)> = objects
            .iter()
            .map(|o| {
                let s = |k: &str| o[k].as_str().unwrap_or("?");
                (s("kind"), s("zone"), s("backing"))
            })
            .collect();
        assert_eq!(got, want);
        for (line, (_, zone, from)) in list.text.lines().zip(want) {
            assert!(
                line.contains(&format!("  zone {zone:<7}  from {from}")),
                "{line}"
            );
        }
        let one = run_line(&dev, "info 6").unwrap();
        assert_eq!(one.json["kind"], "kvmalloc");
        assert_eq!(
            (one.json["zone"].as_str(), one.json["backing"].as_str()),
            (Some("Normal"), Some("vmalloc"))
        );
        assert!(
            one.text.contains("zone Normal   from vmalloc"),
            "{}",
            one.text
        );
    }

    #[test]
    fn alloc_takes_every_gfp_base_and_modifier() {
        // Every base by its ABI name; highuser_movable also with a hyphen.
        for (bits, name) in GFP_BASE_NAMES {
            let r = alloc_of(&format!("pages_node --gfp {name}")).unwrap();
            assert_eq!(r.gfp, *bits, "{name}");
        }
        let r = alloc_of("pages_node --gfp highuser-movable").unwrap();
        assert_eq!(r.gfp, KMEMLAB_GFP_HIGHUSER_MOVABLE);
        assert_eq!(alloc_of("kmalloc 8").unwrap().gfp, KMEMLAB_GFP_KERNEL);
        // Every modifier by its flag: the ABI name, '-' for '_'.
        for (bit, name) in GFP_MODIFIER_NAMES {
            let flag = name.replace('_', "-");
            let r = alloc_of(&format!("kmalloc 8 --{flag}")).unwrap();
            assert_eq!(r.gfp, *bit, "--{flag}");
        }
        let r = alloc_of(
            "pages_node --node 0 --gfp nofs --zero --nowarn --account --noretry --dma32 --thisnode",
        )
        .unwrap();
        assert_eq!(
            r.gfp,
            KMEMLAB_GFP_NOFS
                | KMEMLAB_GFP_ZERO
                | KMEMLAB_GFP_NOWARN
                | KMEMLAB_GFP_ACCOUNT
                | KMEMLAB_GFP_NORETRY
                | KMEMLAB_GFP_DMA32
                | KMEMLAB_GFP_THISNODE
        );
        // The tool passes every combination through: the module judges it.
        let r =
            alloc_of("vmalloc 4k --gfp highuser --dma --dma32 --retry-mayfail --noretry").unwrap();
        assert_eq!(
            r.gfp,
            KMEMLAB_GFP_HIGHUSER
                | KMEMLAB_GFP_DMA
                | KMEMLAB_GFP_DMA32
                | KMEMLAB_GFP_RETRY_MAYFAIL
                | KMEMLAB_GFP_NORETRY
        );
        let r = alloc_of("kvmalloc 1m --node 0 --gfp noio --retry-mayfail").unwrap();
        assert_eq!(
            (r.kind, r.size, r.node),
            (KMEMLAB_KIND_KVMALLOC, 1 << 20, 0)
        );
        assert_eq!(r.gfp, KMEMLAB_GFP_NOIO | KMEMLAB_GFP_RETRY_MAYFAIL);
        assert!(crate::cli::parse(["kmemlab", "alloc", "kmalloc", "8", "--gfp", "dma"]).is_err());
    }

    #[test]
    fn refused_gfp_combinations_fail_in_the_device() {
        let dev = crate::device::fake::FakeDevice::default();
        for bad in [
            "alloc kmalloc 64 --dma --dma32",
            "alloc pages_node --gfp highuser --dma",
            "alloc pages_node --gfp highuser_movable --dma32",
            "alloc kmalloc 64 --noretry --retry-mayfail",
            "alloc kmalloc 64 --thisnode",
            "alloc kvmalloc 0",
            "alloc kvmalloc 4g",
        ] {
            let e = run_line(&dev, bad).unwrap_err();
            assert_eq!(e.exit_code(), 1, "{bad}: {e}");
            assert!(e.to_string().ends_with("(EINVAL)"), "{bad}: {e}");
        }
        assert_eq!(dev.live(), 0);
        // The same bits one at a time are fine.
        for good in [
            "alloc kmalloc 64 --dma",
            "alloc pages_node --gfp highuser",
            "alloc kmalloc 64 --retry-mayfail",
            "alloc kmalloc 64 --node 0 --thisnode",
        ] {
            run_line(&dev, good).unwrap();
        }
        // Without the kernel's DMA zones, their bits are refused too.
        let no_zones = crate::device::fake::FakeDevice::new(
            crate::device::fake::ALL_FEATURES & !(KMEMLAB_FEAT_ZONE_DMA | KMEMLAB_FEAT_ZONE_DMA32),
            crate::device::fake::default_limits(),
        );
        for bad in ["alloc kmalloc 64 --dma", "alloc kmalloc 64 --dma32"] {
            let e = run_line(&no_zones, bad).unwrap_err();
            assert!(e.to_string().ends_with("(EINVAL)"), "{bad}: {e}");
        }
        run_line(&no_zones, "alloc kmalloc 64").unwrap();
    }

    #[test]
    fn cache_create_takes_the_zone_flags() {
        let dev = crate::device::fake::FakeDevice::default();
        let c = run_line(&dev, "cache create lo --size 64 --dma").unwrap();
        assert_eq!(c.json["handle"], 1);
        run_line(&dev, "cache create mid --size 64 --dma32 --hwcache-align").unwrap();
        run_line(&dev, "alloc kmem_cache --cache 1").unwrap();
        run_line(&dev, "alloc kmem_cache --cache 2").unwrap();
        let list = run_line(&dev, "list").unwrap();
        assert_eq!(list.json["objects"][0]["zone"], "DMA");
        assert_eq!(list.json["objects"][1]["zone"], "DMA32");
        assert_eq!(list.json["objects"][1]["backing"], "slab");
        let e = run_line(&dev, "cache create both --size 64 --dma --dma32").unwrap_err();
        assert!(e.to_string().ends_with("(EINVAL)"), "{e}");
        match command("cache create x --size 8 --dma32 --ctor") {
            Command::Cache(CacheCommand::Create {
                dma, dma32, ctor, ..
            }) => assert_eq!((dma, dma32, ctor), (false, true, true)),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn read_past_the_end_is_refused_before_allocating() {
        let dev = crate::device::fake::FakeDevice::default();
        run_line(&dev, "alloc kmalloc 64").unwrap();
        for (line, end) in [
            ("read 1 --len 1024g", "--len 1099511627776 at offset 0"),
            ("read 1 --len 8 --offset 60", "--len 8 at offset 60"),
            (
                "read 1 --len 18446744073709551615 --offset 1",
                "--len 18446744073709551615 at offset 1",
            ),
        ] {
            let e = run_line(&dev, line).unwrap_err();
            assert_eq!(e.exit_code(), 1, "{line}");
            assert_eq!(
                e.to_string(),
                format!("read 1: {end} goes past the object's end (64 bytes)"),
            );
        }
        assert_eq!(
            run_line(&dev, "read 1 --len 4 --offset 60")
                .unwrap()
                .text
                .len(),
            8
        );
    }
}
