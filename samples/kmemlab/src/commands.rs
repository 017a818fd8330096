// SPDX-License-Identifier: GPL-2.0

//! The tool's commands, run against one open `/dev/kmemlab`.
//!
//! Objects belong to the open file, so a sequence of commands that should see
//! each other's objects runs on one [`Device`] (script mode, `--hold`).

use crate::device::{Device, OpError};
use crate::json::{self, Value};
use crate::uapi::{self, *};

/// What a command produced: a line for people and an object for `--json`.
pub struct Output {
    pub text: String,
    pub json: String,
}

impl Output {
    pub(crate) fn new(text: String, fields: &[(&str, Value)]) -> Self {
        Self {
            text,
            json: json::object(fields),
        }
    }
}

/// A command-line word list being consumed.
pub(crate) struct Words<'a> {
    words: &'a [String],
    at: usize,
}

impl<'a> Words<'a> {
    pub(crate) fn next(&mut self) -> Option<&'a str> {
        let w = self.words.get(self.at)?;
        self.at += 1;
        Some(w)
    }

    pub(crate) fn value(&mut self, opt: &str) -> Result<&'a str, String> {
        self.next().ok_or_else(|| format!("{opt} needs a value"))
    }

    /// The positional argument `name` of command `cmd`.
    pub(crate) fn arg(&mut self, cmd: &str, name: &str) -> Result<&'a str, String> {
        self.next().ok_or_else(|| format!("{cmd} needs {name}"))
    }
}

/// Parses a number: decimal, `0x` hex, or with a `k`/`m`/`g` (binary) suffix.
pub fn number(s: &str) -> Result<u64, String> {
    let bad = || format!("'{s}' is not a number");
    let (digits, shift) = match s.chars().last() {
        Some('k' | 'K') => (&s[..s.len() - 1], 10),
        Some('m' | 'M') => (&s[..s.len() - 1], 20),
        Some('g' | 'G') => (&s[..s.len() - 1], 30),
        _ => (s, 0),
    };
    let n = if let Some(hex) = digits.strip_prefix("0x") {
        u64::from_str_radix(hex, 16).map_err(|_| bad())?
    } else {
        digits.parse::<u64>().map_err(|_| bad())?
    };
    n.checked_mul(1 << shift).ok_or_else(bad)
}

fn number_u32(s: &str) -> Result<u32, String> {
    u32::try_from(number(s)?).map_err(|_| format!("'{s}' is too large"))
}

/// The number `name` stands for in `table` (`what` names the table in the error).
pub(crate) fn by_name(table: &[(u32, &str)], what: &str, name: &str) -> Result<u32, String> {
    table
        .iter()
        .find(|(_, n)| *n == name)
        .map(|(id, _)| *id)
        .ok_or_else(|| {
            let names: Vec<&str> = table.iter().map(|(_, n)| *n).collect();
            format!("unknown {what} '{name}' (one of: {})", names.join(", "))
        })
}

/// The name of `id` in `table`.
fn name_of(table: &[(u32, &'static str)], id: u32) -> Option<&'static str> {
    table.iter().find(|(n, _)| *n == id).map(|(_, name)| *name)
}

/// Short names the tool accepts for kinds besides those of [`uapi::KIND_NAMES`].
const KIND_ALIASES: &[(u32, &str)] = &[(KMEMLAB_KIND_DMA_COHERENT, "dma")];

/// The kind named `name`.
fn kind(name: &str) -> Result<u32, String> {
    by_name(KIND_ALIASES, "kind", name).or_else(|_| by_name(uapi::KIND_NAMES, "kind", name))
}

/// The name of kind `k`.
pub fn kind_name(k: u32) -> &'static str {
    name_of(uapi::KIND_NAMES, k).unwrap_or("?")
}

/// The name of DMA device `d` (its number when the tool does not know it).
fn device_name(d: u32) -> String {
    name_of(uapi::DEVICE_NAMES, d).map_or_else(|| d.to_string(), str::to_string)
}

/// The name of ioremap source `s` (its number when the tool does not know it).
fn source_name(s: u32) -> String {
    name_of(uapi::IOREMAP_SOURCE_NAMES, s).map_or_else(|| s.to_string(), str::to_string)
}

fn handles_value(handles: &[u32]) -> Value {
    Value::List(handles.iter().map(|h| Value::Num((*h).into())).collect())
}

/// What the `cache` field of an info holds for its kind: a key and its value.
fn info_owner(i: &KmemlabInfo) -> (&'static str, Value) {
    match i.kind {
        KMEMLAB_KIND_DMA_COHERENT => ("device", Value::Str(device_name(i.cache))),
        KMEMLAB_KIND_IOREMAP => ("source", Value::Str(source_name(i.cache))),
        _ => ("cache", Value::Num(i.cache.into())),
    }
}

fn info_fields(i: &KmemlabInfo) -> Vec<(&'static str, Value)> {
    vec![
        ("handle", Value::Num(i.handle.into())),
        ("kind", Value::Str(kind_name(i.kind).into())),
        ("size", Value::Num(i.size)),
        ("order", Value::Num(i.order.into())),
        ("node", Value::Int(i.node.into())),
        ("nid", Value::Int(i.nid.into())),
        ("cpu", Value::Num(i.cpu.into())),
        info_owner(i),
        ("gfp", Value::Num(i.gfp.into())),
    ]
}

fn info_line(i: &KmemlabInfo) -> String {
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
    match info_owner(i) {
        (key, Value::Str(name)) => s.push_str(&format!("  {key} {name}")),
        _ if i.cache != 0 => s.push_str(&format!("  cache {}", i.cache)),
        _ => {}
    }
    s
}

/// The byte range an io command touches: `--offset` and `--len`, defaulting to
/// the rest of the object.
fn io_range(dev: &Device, handle: u32, offset: u64, len: Option<u64>) -> Result<u64, String> {
    match len {
        Some(l) => Ok(l),
        None => {
            let size = dev.info(handle).map_err(|e| e.to_string())?.size;
            Ok(size.saturating_sub(offset))
        }
    }
}

fn hex(data: &[u8]) -> String {
    data.iter().map(|b| format!("{b:02x}")).collect()
}

fn unhex(s: &str) -> Result<Vec<u8>, String> {
    if !s.len().is_multiple_of(2) {
        return Err("--hex needs an even number of digits".into());
    }
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).map_err(|_| format!("bad hex '{s}'")))
        .collect()
}

/// Runs one command (its words, without global options) on `dev`.
pub fn run(dev: &Device, words: &[String]) -> Result<Output, String> {
    let mut w = Words { words, at: 0 };
    let cmd = w.next().ok_or("no command given")?;
    match cmd {
        "alloc" => alloc(dev, &mut w),
        "free" => {
            let mut handles = Vec::new();
            let mut all = false;
            while let Some(a) = w.next() {
                match a {
                    "--all" => all = true,
                    h => handles.push(number_u32(h)?),
                }
            }
            if all != handles.is_empty() {
                return Err("free needs handles or --all".into());
            }
            dev.free(&handles).map_err(|e| e.to_string())?;
            let what = if all {
                "all objects".to_string()
            } else {
                format!("{handles:?}")
            };
            Ok(Output::new(
                format!("freed {what}"),
                &[("freed", handles_value(&handles))],
            ))
        }
        "write" | "read" | "fill" | "verify" => io(dev, cmd, &mut w),
        "info" => {
            let h = number_u32(w.value("info")?)?;
            let i = dev.info(h).map_err(|e| e.to_string())?;
            Ok(Output::new(info_line(&i), &info_fields(&i)))
        }
        "list" => {
            let infos = dev.list().map_err(|e| e.to_string())?;
            let text = if infos.is_empty() {
                "(no objects)".to_string()
            } else {
                infos.iter().map(info_line).collect::<Vec<_>>().join("\n")
            };
            let list = infos
                .iter()
                .map(|i| {
                    Value::Object(
                        info_fields(i)
                            .into_iter()
                            .map(|(k, v)| (k.to_string(), v))
                            .collect(),
                    )
                })
                .collect();
            Ok(Output::new(text, &[("objects", Value::List(list))]))
        }
        "cache" => cache(dev, &mut w),
        "ioremap" => ioremap(dev, &mut w),
        "mmio" => mmio(dev, &mut w),
        "dma" => dma(dev, &mut w),
        "percpu" => percpu(dev, &mut w),
        "bench" => crate::bench::bench(dev, &mut w),
        "limits" => crate::limits::limits(dev, &mut w),
        other => Err(format!("unknown command '{other}'")),
    }
}

/// A `KMEMLAB_IOC_ALLOC` request for one object of kind `k`, with the tool's
/// defaults: any node, and for DMA_COHERENT the faux device.
fn alloc_req(k: u32) -> KmemlabAlloc {
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

/// `alloc KIND [SIZE] [options]`: the request.
fn alloc_request(w: &mut Words<'_>) -> Result<KmemlabAlloc, String> {
    let k = kind(w.value("alloc")?)?;
    if k == KMEMLAB_KIND_IOREMAP {
        return Err("ioremap objects are made by 'ioremap edu|phys', not by alloc".into());
    }
    let mut req = alloc_req(k);
    while let Some(opt) = w.next() {
        match opt {
            "--size" => req.size = number(w.value(opt)?)?,
            "--device" if k == KMEMLAB_KIND_DMA_COHERENT => {
                req.cache = by_name(uapi::DEVICE_NAMES, "device", w.value(opt)?)?;
            }
            "--device" => return Err("--device is for alloc dma only".into()),
            "--order" => req.order = number_u32(w.value(opt)?)?,
            "--node" => {
                let v = w.value(opt)?;
                req.node = v.parse().map_err(|_| format!("bad node '{v}'"))?;
            }
            "--cache" => req.cache = number_u32(w.value(opt)?)?,
            "--count" => req.count = number_u32(w.value(opt)?)?,
            "--gfp" => {
                req.gfp = (req.gfp & !0x3)
                    | match w.value(opt)? {
                        "kernel" => KMEMLAB_GFP_KERNEL,
                        "atomic" => KMEMLAB_GFP_ATOMIC,
                        "nowait" => KMEMLAB_GFP_NOWAIT,
                        g => return Err(format!("unknown --gfp '{g}' (kernel, atomic, nowait)")),
                    }
            }
            "--zero" => req.gfp |= KMEMLAB_GFP_ZERO,
            "--noretry" => req.gfp |= KMEMLAB_GFP_NORETRY,
            "--nowarn" => req.gfp |= KMEMLAB_GFP_NOWARN,
            "--account" => req.gfp |= KMEMLAB_GFP_ACCOUNT,
            o if !o.starts_with('-') => req.size = number(o)?,
            o => return Err(format!("unknown alloc option '{o}'")),
        }
    }
    if req.count == 0 || req.count > KMEMLAB_BATCH_MAX {
        return Err(format!("--count must be 1 to {KMEMLAB_BATCH_MAX}"));
    }
    Ok(req)
}

fn alloc(dev: &Device, w: &mut Words<'_>) -> Result<Output, String> {
    let req = alloc_request(w)?;
    let k = req.kind;
    let handles = dev.alloc(&req).map_err(|e| e.to_string())?;
    let list: Vec<String> = handles.iter().map(|h| h.to_string()).collect();
    Ok(Output::new(
        format!("{}: {}", kind_name(k), list.join(" ")),
        &[
            ("kind", Value::Str(kind_name(k).into())),
            ("handles", handles_value(&handles)),
        ],
    ))
}

fn io(dev: &Device, cmd: &str, w: &mut Words<'_>) -> Result<Output, String> {
    let handle = number_u32(w.value(cmd)?)?;
    let (mut offset, mut len, mut seed, mut data) = (0u64, None, None, None);
    while let Some(opt) = w.next() {
        match opt {
            "--offset" => offset = number(w.value(opt)?)?,
            "--len" => len = Some(number(w.value(opt)?)?),
            "--seed" => seed = Some(number(w.value(opt)?)?),
            "--hex" => data = Some(unhex(w.value(opt)?)?),
            "--string" => data = Some(w.value(opt)?.as_bytes().to_vec()),
            o => return Err(format!("unknown {cmd} option '{o}'")),
        }
    }
    let e = |e: OpError| e.to_string();
    match cmd {
        "write" => {
            let data = data.ok_or("write needs --string TEXT or --hex HEX")?;
            dev.write(handle, offset, &data).map_err(e)?;
            Ok(Output::new(
                format!("wrote {} bytes at {offset}", data.len()),
                &[("written", Value::Num(data.len() as u64))],
            ))
        }
        "read" => {
            let len = io_range(dev, handle, offset, len)?;
            let len = usize::try_from(len).map_err(|_| "--len too large")?;
            let got = dev.read(handle, offset, len).map_err(e)?;
            Ok(Output::new(
                hex(&got),
                &[
                    ("offset", Value::Num(offset)),
                    ("hex", Value::Str(hex(&got))),
                ],
            ))
        }
        _ => {
            let seed = seed.ok_or_else(|| format!("{cmd} needs --seed"))?;
            let len = io_range(dev, handle, offset, len)?;
            if cmd == "fill" {
                dev.fill(handle, seed, offset, len).map_err(e)?;
                return Ok(Output::new(
                    format!("filled {len} bytes at {offset} with seed {seed:#x}"),
                    &[("filled", Value::Num(len))],
                ));
            }
            match dev.verify(handle, seed, offset, len).map_err(e)? {
                None => Ok(Output::new(
                    format!("ok: {len} bytes at {offset} match seed {seed:#x}"),
                    &[("match", Value::Bool(true))],
                )),
                Some(at) => Err(format!(
                    "mismatch: byte {at} differs from the pattern of seed {seed:#x}"
                )),
            }
        }
    }
}

fn cache(dev: &Device, w: &mut Words<'_>) -> Result<Output, String> {
    match w.value("cache")? {
        "create" => {
            let name = w.value("cache create")?.to_string();
            let (mut size, mut align, mut flags) = (None, 0, 0);
            while let Some(opt) = w.next() {
                match opt {
                    "--size" => size = Some(number_u32(w.value(opt)?)?),
                    "--align" => align = number_u32(w.value(opt)?)?,
                    "--hwcache-align" => flags |= KMEMLAB_CACHE_HWCACHE_ALIGN,
                    "--ctor" => flags |= KMEMLAB_CACHE_CTOR,
                    o => return Err(format!("unknown cache create option '{o}'")),
                }
            }
            let size = size.ok_or("cache create needs --size")?;
            if name.len() >= KMEMLAB_CACHE_NAME_MAX {
                return Err(format!(
                    "cache name longer than {} bytes",
                    KMEMLAB_CACHE_NAME_MAX - 1
                ));
            }
            let h = dev
                .cache_create(&name, size, align, flags)
                .map_err(|e| e.to_string())?;
            Ok(Output::new(
                format!("cache kmemlab-{name}: handle {h}"),
                &[
                    ("name", Value::Str(format!("kmemlab-{name}"))),
                    ("handle", Value::Num(h.into())),
                ],
            ))
        }
        "destroy" => {
            let h = number_u32(w.value("cache destroy")?)?;
            dev.cache_destroy(h).map_err(|e| e.to_string())?;
            Ok(Output::new(
                format!("destroyed cache {h}"),
                &[("destroyed", Value::Num(h.into()))],
            ))
        }
        "list" => {
            // Every kmemlab cache on the system, as /proc/slabinfo shows them.
            let slabinfo = std::fs::read_to_string("/proc/slabinfo")
                .map_err(|e| format!("cannot read /proc/slabinfo: {e}"))?;
            let caches = crate::stats::parse_slabinfo(&slabinfo)?;
            let text = caches
                .iter()
                .map(|c| {
                    format!(
                        "{:<32} {:>8} active  {:>8} bytes",
                        c.name, c.active_objs, c.objsize
                    )
                })
                .collect::<Vec<_>>();
            let rows = caches
                .into_iter()
                .map(|c| {
                    Value::Object(vec![
                        ("name".into(), Value::Str(c.name)),
                        ("active_objs".into(), Value::Num(c.active_objs)),
                        ("objsize".into(), Value::Num(c.objsize)),
                    ])
                })
                .collect();
            let text = if text.is_empty() {
                "(no kmemlab caches)".into()
            } else {
                text.join("\n")
            };
            Ok(Output::new(text, &[("caches", Value::List(rows))]))
        }
        o => Err(format!(
            "unknown cache command '{o}' (create, destroy, list)"
        )),
    }
}

/// Refuses any word left after a command's arguments.
fn no_more(w: &mut Words<'_>, cmd: &str) -> Result<(), String> {
    match w.next() {
        Some(extra) => Err(format!("unexpected {cmd} argument '{extra}'")),
        None => Ok(()),
    }
}

/// `ioremap edu | ioremap phys ADDR SIZE`: the request.
fn ioremap_request(w: &mut Words<'_>) -> Result<KmemlabIoremap, String> {
    let name = w.arg("ioremap", "a source (edu, phys)")?;
    let mut req = KmemlabIoremap {
        source: by_name(uapi::IOREMAP_SOURCE_NAMES, "ioremap source", name)?,
        ..Default::default()
    };
    if req.source == KMEMLAB_IOREMAP_PHYS {
        req.phys = number(w.arg("ioremap phys", "ADDR")?)?;
        req.size = number(w.arg("ioremap phys", "SIZE")?)?;
    }
    no_more(w, "ioremap")?;
    Ok(req)
}

fn ioremap(dev: &Device, w: &mut Words<'_>) -> Result<Output, String> {
    let req = ioremap_request(w)?;
    let h = dev.ioremap(&req).map_err(|e| e.to_string())?;
    let what = match req.source {
        KMEMLAB_IOREMAP_PHYS => format!("phys {:#x}+{:#x}", req.phys, req.size),
        s => source_name(s),
    };
    Ok(Output::new(
        format!("ioremap {what}: handle {h}"),
        &[("handle", Value::Num(h.into()))],
    ))
}

/// An MMIO access width in bytes.
fn mmio_width(s: &str) -> Result<u32, String> {
    match s {
        "1" => Ok(1),
        "2" => Ok(2),
        "4" => Ok(4),
        "8" => Ok(8),
        _ => Err(format!("--width must be 1, 2, 4 or 8, not '{s}'")),
    }
}

/// `mmio read HANDLE OFFSET | mmio write HANDLE OFFSET VALUE`, `[--width W]`: the request.
fn mmio_request(w: &mut Words<'_>) -> Result<KmemlabMmio, String> {
    let (op, cmd) = match w.arg("mmio", "a command (read, write)")? {
        "read" => (KMEMLAB_MMIO_READ, "mmio read"),
        "write" => (KMEMLAB_MMIO_WRITE, "mmio write"),
        o => return Err(format!("unknown mmio command '{o}' (read, write)")),
    };
    let mut req = KmemlabMmio {
        handle: number_u32(w.arg(cmd, "HANDLE")?)?,
        op,
        width: 4,
        offset: number(w.arg(cmd, "OFFSET")?)?,
        ..Default::default()
    };
    if op == KMEMLAB_MMIO_WRITE {
        req.value = number(w.arg(cmd, "VALUE")?)?;
    }
    while let Some(opt) = w.next() {
        match opt {
            "--width" => req.width = mmio_width(w.value(opt)?)?,
            o => return Err(format!("unknown {cmd} option '{o}'")),
        }
    }
    if req.value.checked_shr(8 * req.width).unwrap_or(0) != 0 {
        return Err(format!(
            "value {:#x} does not fit in a {}-byte access",
            req.value, req.width
        ));
    }
    Ok(req)
}

fn mmio(dev: &Device, w: &mut Words<'_>) -> Result<Output, String> {
    let req = mmio_request(w)?;
    let value = dev.mmio(&req).map_err(|e| e.to_string())?;
    // CAST: the width is at most 8.
    let shown = format!("{value:#0digits$x}", digits = 2 + 2 * req.width as usize);
    let text = if req.op == KMEMLAB_MMIO_READ {
        shown
    } else {
        format!("wrote {shown} at {:#x}", req.offset)
    };
    Ok(Output::new(
        text,
        &[
            ("offset", Value::Num(req.offset)),
            ("width", Value::Num(req.width.into())),
            ("value", Value::Num(value)),
        ],
    ))
}

/// A `KMEMLAB_IOC_DMA_COPY` request for `len` bytes from the start of `src` to the start of `dst`.
fn dma_copy_req(src: u32, dst: u32, len: u64) -> KmemlabDmaCopy {
    KmemlabDmaCopy {
        src,
        dst,
        len,
        ..Default::default()
    }
}

/// `dma copy SRC DST LEN [--src-offset N] [--dst-offset N]`: the request.
fn dma_copy_request(w: &mut Words<'_>) -> Result<KmemlabDmaCopy, String> {
    let src = number_u32(w.arg("dma copy", "SRC")?)?;
    let dst = number_u32(w.arg("dma copy", "DST")?)?;
    let mut req = dma_copy_req(src, dst, number(w.arg("dma copy", "LEN")?)?);
    while let Some(opt) = w.next() {
        match opt {
            "--src-offset" => req.src_offset = number(w.value(opt)?)?,
            "--dst-offset" => req.dst_offset = number(w.value(opt)?)?,
            o => return Err(format!("unknown dma copy option '{o}'")),
        }
    }
    Ok(req)
}

fn dma(dev: &Device, w: &mut Words<'_>) -> Result<Output, String> {
    match w.arg("dma", "a command (copy, roundtrip)")? {
        "copy" => {
            let r = dma_copy_request(w)?;
            dev.dma_copy(&r).map_err(|e| e.to_string())?;
            Ok(Output::new(
                format!(
                    "copied {} bytes from {} at {} to {} at {}",
                    r.len, r.src, r.src_offset, r.dst, r.dst_offset
                ),
                &[("copied", Value::Num(r.len))],
            ))
        }
        "roundtrip" => dma_roundtrip(dev, w),
        o => Err(format!("unknown dma command '{o}' (copy, roundtrip)")),
    }
}

/// Seed of `dma roundtrip` without `--seed`.
const ROUNDTRIP_SEED: u64 = 0x5eed;

/// `dma roundtrip [--size N] [--seed S]`: the size and the seed.
fn roundtrip_args(w: &mut Words<'_>) -> Result<(u64, u64), String> {
    let (mut size, mut seed) = (KMEMLAB_EDU_DMA_MAX, ROUNDTRIP_SEED);
    while let Some(opt) = w.next() {
        match opt {
            "--size" => size = number(w.value(opt)?)?,
            "--seed" => seed = number(w.value(opt)?)?,
            o => return Err(format!("unknown dma roundtrip option '{o}'")),
        }
    }
    Ok((size, seed))
}

/// Fills `src` with `seed`, has edu copy it into `dst` (at most
/// `KMEMLAB_EDU_DMA_MAX` bytes a copy) and verifies `dst`: the first
/// mismatching offset, if any.
fn roundtrip_on(
    dev: &Device,
    [src, dst]: [u32; 2],
    size: u64,
    seed: u64,
) -> Result<Option<u64>, String> {
    let e = |e: OpError| e.to_string();
    dev.fill(src, seed, 0, size).map_err(e)?;
    let mut off = 0;
    while off < size {
        let len = (size - off).min(KMEMLAB_EDU_DMA_MAX);
        let req = KmemlabDmaCopy {
            src_offset: off,
            dst_offset: off,
            ..dma_copy_req(src, dst, len)
        };
        dev.dma_copy(&req).map_err(e)?;
        off += len;
    }
    dev.verify(dst, seed, 0, size).map_err(e)
}

fn dma_roundtrip(dev: &Device, w: &mut Words<'_>) -> Result<Output, String> {
    let (size, seed) = roundtrip_args(w)?;
    let v = dev.version().map_err(|e| e.to_string())?;
    if v.features & KMEMLAB_FEAT_EDU == 0 {
        return Err(
            "dma roundtrip: the edu device is not bound (no 'edu' in the module's \
                    features): it needs QEMU's edu PCI device (-device edu)"
                .into(),
        );
    }
    let req = KmemlabAlloc {
        size,
        cache: KMEMLAB_DEV_EDU,
        count: 2,
        ..alloc_req(KMEMLAB_KIND_DMA_COHERENT)
    };
    let handles = dev.alloc(&req).map_err(|e| e.to_string())?;
    let result = match <[u32; 2]>::try_from(handles.as_slice()) {
        Ok(pair) => roundtrip_on(dev, pair, size, seed),
        Err(_) => Err(format!("alloc returned {} handles, not 2", handles.len())),
    };
    // Free both objects whatever happened; the round trip's error comes first.
    let freed = dev.free(&handles).map_err(|e| e.to_string());
    let mismatch = result?;
    freed?;
    let head = format!("dma roundtrip: {size} bytes, seed {seed:#x}");
    match mismatch {
        None => Ok(Output::new(
            format!("{head}: ok"),
            &[
                ("size", Value::Num(size)),
                ("seed", Value::Num(seed)),
                ("match", Value::Bool(true)),
            ],
        )),
        Some(at) => Err(format!("{head}: mismatch at byte {at}")),
    }
}

/// `percpu add HANDLE VALUE [--cpu N]`: the request (ADD, or ADD_ON with `--cpu`).
fn percpu_add_request(w: &mut Words<'_>) -> Result<KmemlabPercpu, String> {
    let mut req = KmemlabPercpu {
        handle: number_u32(w.arg("percpu add", "HANDLE")?)?,
        op: KMEMLAB_PERCPU_ADD,
        value: number(w.arg("percpu add", "VALUE")?)?,
        ..Default::default()
    };
    while let Some(opt) = w.next() {
        match opt {
            "--cpu" => {
                req.op = KMEMLAB_PERCPU_ADD_ON;
                req.cpu = number_u32(w.value(opt)?)?;
            }
            o => return Err(format!("unknown percpu add option '{o}'")),
        }
    }
    Ok(req)
}

fn percpu_add(dev: &Device, w: &mut Words<'_>) -> Result<Output, String> {
    let req = percpu_add_request(w)?;
    let out = dev.percpu(&req).map_err(|e| e.to_string())?;
    // ADD reports the CPU it ran on; ADD_ON ran where it was asked to.
    let cpu = if req.op == KMEMLAB_PERCPU_ADD {
        out.cpu
    } else {
        req.cpu
    };
    Ok(Output::new(
        format!("added {} on cpu {cpu}", req.value),
        &[
            ("cpu", Value::Num(cpu.into())),
            ("value", Value::Num(req.value)),
        ],
    ))
}

fn percpu_read(dev: &Device, w: &mut Words<'_>) -> Result<Output, String> {
    let handle = number_u32(w.arg("percpu read", "HANDLE")?)?;
    no_more(w, "percpu read")?;
    let (values, sum) = dev.percpu_read(handle).map_err(|e| e.to_string())?;
    let mut lines: Vec<String> = values
        .iter()
        .enumerate()
        .map(|(cpu, v)| format!("cpu {cpu:<4} {v}"))
        .collect();
    lines.push(format!("sum      {sum}"));
    Ok(Output::new(
        lines.join("\n"),
        &[
            (
                "values",
                Value::List(values.iter().map(|v| Value::Num(*v)).collect()),
            ),
            ("sum", Value::Num(sum)),
        ],
    ))
}

fn percpu(dev: &Device, w: &mut Words<'_>) -> Result<Output, String> {
    match w.arg("percpu", "a command (add, read)")? {
        "add" => percpu_add(dev, w),
        "read" => percpu_read(dev, w),
        o => Err(format!("unknown percpu command '{o}' (add, read)")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_take_hex_and_suffixes() {
        assert_eq!(number("42").unwrap(), 42);
        assert_eq!(number("0x10").unwrap(), 16);
        assert_eq!(number("4k").unwrap(), 4096);
        assert_eq!(number("2M").unwrap(), 2 << 20);
        assert!(number("x").is_err());
        assert!(number("99999999999999999999g").is_err());
    }

    #[test]
    fn hex_round_trips() {
        assert_eq!(unhex(&hex(&[0, 1, 0xab])).unwrap(), vec![0, 1, 0xab]);
        assert!(unhex("abc").is_err());
    }

    #[test]
    fn kinds_by_name() {
        assert_eq!(kind("vmalloc").unwrap(), KMEMLAB_KIND_VMALLOC);
        assert!(kind("slab").is_err());
        assert_eq!(kind_name(KMEMLAB_KIND_PAGES_NODE), "pages_node");
        assert_eq!(kind("dma").unwrap(), KMEMLAB_KIND_DMA_COHERENT);
        assert_eq!(kind("dma_coherent").unwrap(), KMEMLAB_KIND_DMA_COHERENT);
        assert_eq!(kind("percpu").unwrap(), KMEMLAB_KIND_PERCPU);
        assert_eq!(kind_name(KMEMLAB_KIND_IOREMAP), "ioremap");
        assert_eq!(kind_name(99), "?");
        assert!(kind("slab").unwrap_err().contains("dma_coherent"));
    }

    /// Runs a request parser on the words of `line`.
    fn parse<T>(f: fn(&mut Words<'_>) -> Result<T, String>, line: &str) -> Result<T, String> {
        let words: Vec<String> = line.split_whitespace().map(str::to_string).collect();
        f(&mut Words {
            words: &words,
            at: 0,
        })
    }

    #[test]
    fn alloc_keeps_old_syntax_and_takes_dma_and_percpu() {
        let r = parse(
            alloc_request,
            "kmalloc --size 64 --count 3 --gfp atomic --zero",
        )
        .unwrap();
        assert_eq!((r.kind, r.size, r.count), (KMEMLAB_KIND_KMALLOC, 64, 3));
        assert_eq!(r.gfp, KMEMLAB_GFP_ATOMIC | KMEMLAB_GFP_ZERO);
        assert_eq!((r.node, r.cache), (KMEMLAB_NODE_ANY, 0));
        let r = parse(alloc_request, "kmem_cache --cache 2").unwrap();
        assert_eq!((r.kind, r.cache), (KMEMLAB_KIND_KMEM_CACHE, 2));

        let r = parse(alloc_request, "dma 4k").unwrap();
        assert_eq!(r.kind, KMEMLAB_KIND_DMA_COHERENT);
        assert_eq!((r.size, r.cache, r.count), (4096, KMEMLAB_DEV_FAUX, 1));
        let r = parse(alloc_request, "dma 64 --device edu --count 2").unwrap();
        assert_eq!((r.size, r.cache, r.count), (64, KMEMLAB_DEV_EDU, 2));
        let r = parse(alloc_request, "dma_coherent --size 8 --device faux").unwrap();
        assert_eq!((r.size, r.cache), (8, KMEMLAB_DEV_FAUX));
        assert!(parse(alloc_request, "dma 64 --device pci")
            .unwrap_err()
            .contains("faux, edu"));
        assert!(parse(alloc_request, "dma 64 --device").is_err());
        assert!(parse(alloc_request, "kmalloc 64 --device edu").is_err());

        let r = parse(alloc_request, "percpu --count 4").unwrap();
        assert_eq!(
            (r.kind, r.size, r.count, r.cache),
            (KMEMLAB_KIND_PERCPU, 0, 4, 0)
        );
        assert!(parse(alloc_request, "ioremap")
            .unwrap_err()
            .contains("ioremap edu"));
        assert!(parse(alloc_request, "kmalloc --bogus").is_err());
        assert!(parse(alloc_request, "kmalloc 64 --count 0").is_err());
    }

    #[test]
    fn ioremap_sources() {
        let r = parse(ioremap_request, "edu").unwrap();
        assert_eq!((r.source, r.phys, r.size), (KMEMLAB_IOREMAP_EDU, 0, 0));
        let r = parse(ioremap_request, "phys 0xfebf0000 4k").unwrap();
        assert_eq!(
            (r.source, r.phys, r.size),
            (KMEMLAB_IOREMAP_PHYS, 0xfebf_0000, 4096)
        );
        assert!(parse(ioremap_request, "phys 0x1000")
            .unwrap_err()
            .contains("SIZE"));
        assert!(parse(ioremap_request, "edu 0x1000").is_err());
        assert!(parse(ioremap_request, "bar0").is_err());
        assert!(parse(ioremap_request, "").is_err());
    }

    #[test]
    fn mmio_widths_and_values() {
        let r = parse(mmio_request, "read 3 0x8").unwrap();
        assert_eq!((r.handle, r.op, r.offset), (3, KMEMLAB_MMIO_READ, 8));
        assert_eq!((r.width, r.value, r.reserved), (4, 0, 0));
        for w in [1, 2, 4, 8] {
            let r = parse(mmio_request, &format!("read 1 0 --width {w}")).unwrap();
            assert_eq!(r.width, w);
        }
        for w in ["0", "3", "16", "four"] {
            assert!(parse(mmio_request, &format!("read 1 0 --width {w}")).is_err());
        }
        let r = parse(mmio_request, "write 1 4 0x1234 --width 2").unwrap();
        assert_eq!(
            (r.op, r.offset, r.value, r.width),
            (KMEMLAB_MMIO_WRITE, 4, 0x1234, 2)
        );
        assert!(parse(mmio_request, "write 1 4 0x12345 --width 2")
            .unwrap_err()
            .contains("does not fit"));
        let r = parse(mmio_request, "write 1 0 0xffffffffffffffff --width 8").unwrap();
        assert_eq!(r.value, u64::MAX);
        assert!(parse(mmio_request, "write 1 4")
            .unwrap_err()
            .contains("VALUE"));
        assert!(parse(mmio_request, "read 1")
            .unwrap_err()
            .contains("OFFSET"));
        assert!(parse(mmio_request, "poke 1 0").is_err());
    }

    #[test]
    fn dma_copy_and_roundtrip_arguments() {
        let r = parse(dma_copy_request, "1 2 4k --src-offset 8 --dst-offset 0x10").unwrap();
        assert_eq!((r.src, r.dst, r.len), (1, 2, 4096));
        assert_eq!((r.src_offset, r.dst_offset), (8, 16));
        assert!(parse(dma_copy_request, "1 2").unwrap_err().contains("LEN"));
        assert!(parse(dma_copy_request, "1 2 8 --offset 1").is_err());

        assert_eq!(
            parse(roundtrip_args, "").unwrap(),
            (KMEMLAB_EDU_DMA_MAX, ROUNDTRIP_SEED)
        );
        assert_eq!(
            parse(roundtrip_args, "--size 16k --seed 7").unwrap(),
            (16384, 7)
        );
        assert!(parse(roundtrip_args, "--size").is_err());
    }

    #[test]
    fn percpu_add_with_and_without_cpu() {
        let r = parse(percpu_add_request, "5 100").unwrap();
        assert_eq!(
            (r.handle, r.op, r.value, r.cpu),
            (5, KMEMLAB_PERCPU_ADD, 100, 0)
        );
        assert_eq!((r.count, r.sum, r.values), (0, 0, 0));
        let r = parse(percpu_add_request, "5 0x10 --cpu 1").unwrap();
        assert_eq!((r.op, r.value, r.cpu), (KMEMLAB_PERCPU_ADD_ON, 16, 1));
        assert!(parse(percpu_add_request, "5 1 --cpu").is_err());
        assert!(parse(percpu_add_request, "5 1 --cpu -1").is_err());
        assert!(parse(percpu_add_request, "5")
            .unwrap_err()
            .contains("VALUE"));
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
        let dma = info(KMEMLAB_KIND_DMA_COHERENT, 0, KMEMLAB_DEV_EDU);
        assert!(info_line(&dma).ends_with("  device edu"));
        assert!(json::object(&info_fields(&dma)).contains(r#""device":"edu""#));
        assert!(!json::object(&info_fields(&dma)).contains("cache"));

        let io = info(KMEMLAB_KIND_IOREMAP, -1, KMEMLAB_IOREMAP_PHYS);
        assert!(info_line(&io).contains("node  - (asked -1)"));
        assert!(info_line(&io).ends_with("  source phys"));
        let js = json::object(&info_fields(&io));
        assert!(js.contains(r#""source":"phys""#) && js.contains(r#""nid":-1"#));

        let cached = info(KMEMLAB_KIND_KMEM_CACHE, 0, 3);
        assert!(info_line(&cached).ends_with("  cache 3"));
        assert!(json::object(&info_fields(&cached)).contains(r#""cache":3"#));
        let plain = info(KMEMLAB_KIND_PERCPU, -1, 0);
        assert!(info_line(&plain).ends_with("cpu 0"));
        assert_eq!(device_name(7), "7");
    }
}
