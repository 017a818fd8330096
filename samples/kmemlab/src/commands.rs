// SPDX-License-Identifier: GPL-2.0

//! The tool's commands, run against one open `/dev/kmemlab`.
//!
//! Objects belong to the open file, so a sequence of commands that should see
//! each other's objects runs on one [`Device`] (script mode, `--hold`).

use crate::device::Device;
use crate::json::{self, Value};
use crate::uapi::{self, *};

/// What a command produced: a line for people and an object for `--json`.
pub struct Output {
    pub text: String,
    pub json: String,
}

impl Output {
    fn new(text: String, fields: &[(&str, Value)]) -> Self {
        Self {
            text,
            json: json::object(fields),
        }
    }
}

/// A command-line word list being consumed.
struct Words<'a> {
    words: &'a [String],
    at: usize,
}

impl<'a> Words<'a> {
    fn next(&mut self) -> Option<&'a str> {
        let w = self.words.get(self.at)?;
        self.at += 1;
        Some(w)
    }

    fn value(&mut self, opt: &str) -> Result<&'a str, String> {
        self.next().ok_or_else(|| format!("{opt} needs a value"))
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

/// The kind named `name`.
fn kind(name: &str) -> Result<u32, String> {
    uapi::KIND_NAMES
        .iter()
        .find(|(_, n)| *n == name)
        .map(|(k, _)| *k)
        .ok_or_else(|| {
            let names: Vec<&str> = uapi::KIND_NAMES.iter().map(|(_, n)| *n).collect();
            format!("unknown kind '{name}' (one of: {})", names.join(", "))
        })
}

/// The name of kind `k`.
pub fn kind_name(k: u32) -> &'static str {
    uapi::KIND_NAMES
        .iter()
        .find(|(n, _)| *n == k)
        .map_or("?", |(_, name)| name)
}

fn handles_value(handles: &[u32]) -> Value {
    Value::List(handles.iter().map(|h| Value::Num((*h).into())).collect())
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
        ("cache", Value::Num(i.cache.into())),
        ("gfp", Value::Num(i.gfp.into())),
    ]
}

fn info_line(i: &KmemlabInfo) -> String {
    let mut s = format!(
        "{:>6}  {:<10} {:>10} bytes  node {:>2} (asked {:>2})  cpu {}",
        i.handle,
        kind_name(i.kind),
        i.size,
        i.nid,
        i.node,
        i.cpu
    );
    if i.kind == KMEMLAB_KIND_FREE_PAGES || i.kind == KMEMLAB_KIND_PAGES_NODE {
        s.push_str(&format!("  order {}", i.order));
    }
    if i.cache != 0 {
        s.push_str(&format!("  cache {}", i.cache));
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
        other => Err(format!("unknown command '{other}'")),
    }
}

fn alloc(dev: &Device, w: &mut Words<'_>) -> Result<Output, String> {
    let k = kind(w.value("alloc")?)?;
    let mut req = KmemlabAlloc {
        kind: k,
        node: KMEMLAB_NODE_ANY,
        count: 1,
        ..Default::default()
    };
    while let Some(opt) = w.next() {
        match opt {
            "--size" => req.size = number(w.value(opt)?)?,
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
            "--nowarn" => req.gfp |= KMEMLAB_GFP_NOWARN,
            "--account" => req.gfp |= KMEMLAB_GFP_ACCOUNT,
            o => return Err(format!("unknown alloc option '{o}'")),
        }
    }
    if req.count == 0 || req.count > KMEMLAB_BATCH_MAX {
        return Err(format!("--count must be 1 to {KMEMLAB_BATCH_MAX}"));
    }
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
    let e = |e: crate::device::OpError| e.to_string();
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
            let mut rows = Vec::new();
            let mut text = Vec::new();
            for line in slabinfo.lines().filter(|l| l.starts_with("kmemlab-")) {
                let f: Vec<&str> = line.split_whitespace().collect();
                if f.len() < 4 {
                    continue;
                }
                let active: u64 = f[1].parse().unwrap_or(0);
                let objsize: u64 = f[3].parse().unwrap_or(0);
                text.push(format!(
                    "{:<32} {active:>8} active  {objsize:>8} bytes",
                    f[0]
                ));
                rows.push(Value::Object(vec![
                    ("name".into(), Value::Str(f[0].into())),
                    ("active_objs".into(), Value::Num(active)),
                    ("objsize".into(), Value::Num(objsize)),
                ]));
            }
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
    }
}
