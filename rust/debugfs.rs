// SPDX-License-Identifier: GPL-2.0

//! `/sys/kernel/debug/kmemlab/`: what the module reports about itself.

use core::fmt;

use kernel::{
    debugfs::{
        Dir,
        File, //
    },
    prelude::*,
};

use crate::{
    alloc::{
        owners::{
            self,
            Row, //
        },
        percpu,
        topology, //
    },
    stats::{
        self,
        Counts,
        KINDS, //
    },
    uapi::{
        BACKING_NAMES,
        FEATURE_NAMES,
        KIND_NAMES,
        KMEMLAB_ABI_VERSION,
        ZONE_NAMES, //
    },
};

/// Writes the `version` file: the ABI version and the features, as a number and by name.
fn write_version(_: &(), f: &mut fmt::Formatter<'_>) -> fmt::Result {
    let features = crate::features();
    writeln!(f, "abi_version: {KMEMLAB_ABI_VERSION}")?;
    writeln!(f, "features: {features:#x}")?;
    write!(f, "feature_names:")?;
    for (_, name) in FEATURE_NAMES.iter().filter(|(bit, _)| features & bit != 0) {
        write!(f, " {name}")?;
    }
    writeln!(f)
}

/// Creates `version` in `dir`.
pub(crate) fn version_file(dir: &Dir) -> impl PinInit<File<()>> + '_ {
    dir.read_callback_file(c"version", (), &write_version)
}

/// Writes the `ioctls` file: the commands each possible CPU has dispatched
/// (kmemlab's static per-CPU variable), one `<cpu> <calls>` line each after
/// a `cpu calls` header, then `total <calls>`.
fn write_ioctls(_: &(), f: &mut fmt::Formatter<'_>) -> fmt::Result {
    let calls = percpu::static_counter();
    writeln!(f, "cpu calls")?;
    for (cpu, value) in calls.iter() {
        writeln!(f, "{cpu} {value}")?;
    }
    writeln!(f, "total {}", calls.sum())
}

/// Creates `ioctls` in `dir`.
pub(crate) fn ioctls_file(dir: &Dir) -> impl PinInit<File<()>> + '_ {
    dir.read_callback_file(c"ioctls", (), &write_ioctls)
}

/// The files under `/sys/kernel/debug/kmemlab/` that report statistics
/// (formats in the README).
#[pin_data]
pub(crate) struct StatsFiles {
    #[pin]
    stats: File<()>,
    #[pin]
    percpu: File<()>,
    #[pin]
    objects: File<()>,
    #[pin]
    caches: File<()>,
    #[pin]
    json: File<()>,
}

/// Creates the statistics files in `dir`.
pub(crate) fn stats_files(dir: &Dir) -> impl PinInit<StatsFiles> + '_ {
    pin_init!(StatsFiles {
        stats <- dir.read_callback_file(c"stats", (), &write_stats),
        percpu <- dir.read_callback_file(c"percpu", (), &write_percpu),
        objects <- dir.read_callback_file(c"objects", (), &write_objects),
        caches <- dir.read_callback_file(c"caches", (), &write_caches),
        json <- dir.read_callback_file(c"stats.json", (), &write_json),
    })
}

/// A signed view of a two's-complement net count.
fn signed(v: u64) -> i64 {
    // CAST: the counters keep net figures in two's complement.
    v as i64
}

/// `stats`: one row per kind.
fn write_stats(_: &(), f: &mut fmt::Formatter<'_>) -> fmt::Result {
    writeln!(
        f,
        "{:<12} {:>10} {:>10} {:>10} {:>10} {:>10} {:>10} {:>10} {:>10} {:>14} {:>10} {:>14} {:>14}",
        "kind", "live", "created", "freed", "failed", "enomem", "einval", "enodev", "other",
        "bytes", "pages", "hwm_bytes", "alloc_ns"
    )?;
    for k in 0..KINDS {
        let (c, hwm) = stats::total(k);
        writeln!(
            f,
            "{:<12} {:>10} {:>10} {:>10} {:>10} {:>10} {:>10} {:>10} {:>10} {:>14} {:>10} {:>14} {:>14}",
            stats::kind_name(k), c.live(), c.created, c.freed, c.failed(), c.enomem, c.einval,
            c.enodev, c.other, c.bytes_live(), c.pages_live(), hwm, c.alloc_ns
        )?;
    }
    Ok(())
}

/// One CPU's row of `percpu` for kind index `k`.
fn percpu_row(f: &mut fmt::Formatter<'_>, cpu: u32, k: usize, c: &Counts) -> fmt::Result {
    writeln!(
        f,
        "{:<4} {:<12} {:>10} {:>10} {:>10} {:>14} {:>10} {:>14}",
        cpu,
        stats::kind_name(k),
        c.created,
        c.freed,
        c.failed(),
        signed(c.bytes),
        signed(c.pages),
        c.alloc_ns
    )
}

/// `percpu`: one row per possible CPU and kind.
fn write_percpu(_: &(), f: &mut fmt::Formatter<'_>) -> fmt::Result {
    writeln!(
        f,
        "{:<4} {:<12} {:>10} {:>10} {:>10} {:>14} {:>10} {:>14}",
        "cpu", "kind", "created", "freed", "failed", "bytes", "pages", "alloc_ns"
    )?;
    for cpu in topology::possible_cpus() {
        for k in 0..KINDS {
            percpu_row(f, cpu, k, &stats::on_cpu(cpu, k))?;
        }
    }
    Ok(())
}

/// The name of an ABI kind number.
fn kind_of(kind: u32) -> &'static str {
    name_of(KIND_NAMES, kind)
}

/// The name `names` gives `value` ("?" for none).
fn name_of(names: &[(u32, &'static str)], value: u32) -> &'static str {
    names
        .iter()
        .find(|(n, _)| *n == value)
        .map_or("?", |(_, name)| name)
}

/// Calls `f` with every live object of every open file, stopping at the
/// first error.
fn each_object(
    f: &mut fmt::Formatter<'_>,
    mut row: impl FnMut(&mut fmt::Formatter<'_>, &Row) -> fmt::Result,
) -> fmt::Result {
    let mut result = Ok(());
    owners::for_each(&mut |owner| {
        owner.list(&mut |r| {
            if result.is_ok() {
                result = row(f, r);
            }
        })
    });
    result
}

/// `objects`: every live object of every open file.
fn write_objects(_: &(), f: &mut fmt::Formatter<'_>) -> fmt::Result {
    writeln!(
        f,
        "{:<8} {:>8} {:<12} {:>12} {:>6} {:>5} {:>5} {:>4} {:<7} {:<7}",
        "pid", "handle", "kind", "size", "order", "node", "nid", "cpu", "zone", "backing"
    )?;
    each_object(f, |f, r| {
        writeln!(
            f,
            "{:<8} {:>8} {:<12} {:>12} {:>6} {:>5} {:>5} {:>4} {:<7} {:<7}",
            r.pid,
            r.handle,
            kind_of(r.kind),
            r.size,
            r.order,
            r.node,
            r.nid,
            r.cpu,
            name_of(ZONE_NAMES, r.zone),
            name_of(BACKING_NAMES, r.backing)
        )
    })
}

/// `caches`: every kmemlab slab cache, with its objects as kmemlab counts them.
fn write_caches(_: &(), f: &mut fmt::Formatter<'_>) -> fmt::Result {
    writeln!(f, "{:<32} {:>12} {:>10}", "name", "object_size", "live")?;
    let mut result = Ok(());
    owners::for_each(&mut |owner| {
        owner.list_caches(&mut |c| {
            if result.is_ok() {
                let name = core::str::from_utf8(c.name).unwrap_or("?");
                result = writeln!(f, "{:<32} {:>12} {:>10}", name, c.object_size, c.live);
            }
        })
    });
    result
}

/// `stats.json`: `stats`, `percpu` and `objects` as one JSON document.
fn write_json(_: &(), f: &mut fmt::Formatter<'_>) -> fmt::Result {
    write!(f, "{{\"version\": 1,\n \"kinds\": [")?;
    for k in 0..KINDS {
        let (c, hwm) = stats::total(k);
        let sep = if k == 0 { "" } else { "," };
        write!(
            f,
            "{sep}\n  {{\"kind\": \"{}\", \"live\": {}, \"created\": {}, \"freed\": {}, \
             \"failed\": {}, \"enomem\": {}, \"einval\": {}, \"enodev\": {}, \"other\": {}, \
             \"bytes\": {}, \"pages\": {}, \"hwm_bytes\": {}, \"alloc_ns\": {}}}",
            stats::kind_name(k),
            c.live(),
            c.created,
            c.freed,
            c.failed(),
            c.enomem,
            c.einval,
            c.enodev,
            c.other,
            c.bytes_live(),
            c.pages_live(),
            hwm,
            c.alloc_ns
        )?;
    }
    write!(f, "],\n \"percpu\": [")?;
    let mut sep = "";
    for cpu in topology::possible_cpus() {
        for k in 0..KINDS {
            let c = stats::on_cpu(cpu, k);
            write!(
                f,
                "{sep}\n  {{\"cpu\": {cpu}, \"kind\": \"{}\", \"created\": {}, \"freed\": {}, \
                 \"failed\": {}, \"bytes\": {}, \"pages\": {}, \"alloc_ns\": {}}}",
                stats::kind_name(k),
                c.created,
                c.freed,
                c.failed(),
                signed(c.bytes),
                signed(c.pages),
                c.alloc_ns
            )?;
            sep = ",";
        }
    }
    write!(f, "],\n \"objects\": [")?;
    let mut sep = "";
    each_object(f, |f, r| {
        let s = sep;
        sep = ",";
        write!(
            f,
            "{s}\n  {{\"pid\": {}, \"handle\": {}, \"kind\": \"{}\", \"size\": {}, \
             \"order\": {}, \"node\": {}, \"nid\": {}, \"cpu\": {}, \"zone\": \"{}\", \
             \"backing\": \"{}\"}}",
            r.pid,
            r.handle,
            kind_of(r.kind),
            r.size,
            r.order,
            r.node,
            r.nid,
            r.cpu,
            name_of(ZONE_NAMES, r.zone),
            name_of(BACKING_NAMES, r.backing)
        )
    })?;
    writeln!(f, "]}}")
}
