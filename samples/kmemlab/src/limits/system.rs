// SPDX-License-Identifier: GPL-2.0

//! What `limits` reads of the system: /proc/meminfo, the edu device in
//! sysfs, and the boot-time reservations (debugfs memblock, the kernel log).

use std::fs;
use std::io::{self, Read as _};
use std::os::unix::fs::OpenOptionsExt as _;
use std::path::Path;
use std::process::Command;

use rustix::fs::OFlags;
use rustix::io::Errno;

/// A value of `/proc/meminfo` in bytes (`key` without the colon).
pub fn meminfo(text: &str, key: &str) -> Option<u64> {
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
pub fn bar_size(resource: &str) -> Option<u64> {
    let mut fields = resource.lines().next()?.split_whitespace();
    let start = hex(fields.next()?)?;
    let end = hex(fields.next()?)?;
    (end > start).then(|| end - start + 1)
}

/// A device region (the ioremap row).
#[derive(Clone, Debug, PartialEq)]
pub struct Region {
    /// The PCI address, e.g. `0000:00:04.0`.
    pub device: String,
    pub bytes: u64,
}

/// QEMU's edu device (1234:11e8) among the PCI devices in `root`, with the
/// size of its BAR 0.
pub(crate) fn find_edu(root: &Path) -> Option<Region> {
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
pub enum Boot {
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
pub fn parse_memblock(text: &str) -> Option<(u64, u64)> {
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
pub fn parse_memory_line(log: &str) -> Option<(u64, u64)> {
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
        .custom_flags(OFlags::NONBLOCK.bits() as i32)
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
            Err(e) if e.raw_os_error() == Some(Errno::PIPE.raw_os_error()) => {}
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
}

/// What the running kernel exposes of its boot-time reservations.
pub(crate) fn boot_reservations() -> Boot {
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
