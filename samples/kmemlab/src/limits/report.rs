// SPDX-License-Identifier: GPL-2.0

//! The report of `limits`: its rows, for people and for `--json`.

use serde_json::Value;

use super::search::{End, Failure, Found};
use super::system::{Boot, Region};
use super::{Cap, Spec};

/// Widest line of the text table.
#[allow(dead_code)] // Used by the compile-time check below and by the tests.
pub(crate) const TEXT_WIDTH: usize = 120;
use crate::commands::limits_json;
use crate::names::kind_name;
use crate::output::{object, opt_num};
use crate::table;
use crate::uapi::*;
use crate::units::{human_size, order_of};

/// One row of the table.
#[derive(Clone, Debug, PartialEq)]
pub struct Row {
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
pub enum Measured {
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
pub struct Report {
    pub kernel: String,
    pub page_size: u64,
    pub cap: Cap,
    /// What the module reported (`KMEMLAB_IOC_LIMITS`).
    pub module: KmemlabLimits,
    pub rows: Vec<Row>,
}

/// The `how it works` text of a row.
pub(crate) fn how(spec: &Spec, page: u64) -> String {
    if spec.kind == KMEMLAB_KIND_KMALLOC {
        format!("{} {}, then pages", spec.how, human_size(2 * page))
    } else {
        spec.how.to_string()
    }
}

/// The rows that are not probed: ioremap and alloc_bootmem.
pub(crate) fn other_rows(region: Option<Region>, boot: Boot) -> [Row; 2] {
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

/// The kernel-side hard limit an `EINVAL` stands for, with the value the
/// module reports for it.
pub(crate) fn hard_limit(kind: Option<u32>, m: &KmemlabLimits) -> String {
    match kind {
        Some(KMEMLAB_KIND_KMALLOC) => format!("KMALLOC_MAX_SIZE = {}", human_size(m.kmalloc_max)),
        Some(KMEMLAB_KIND_KMEM_CACHE) => format!(
            "kmemlab's cache object limit = {}",
            human_size(m.cache_object_max)
        ),
        Some(KMEMLAB_KIND_FREE_PAGES | KMEMLAB_KIND_PAGES_NODE) => {
            format!("MAX_PAGE_ORDER = {}", m.max_order)
        }
        Some(KMEMLAB_KIND_VMALLOC) => {
            format!("kmemlab's vmalloc limit = {}", human_size(m.vmalloc_max))
        }
        Some(KMEMLAB_KIND_KVMALLOC) => {
            format!(
                "kvmalloc's limit (INT_MAX) = {}",
                human_size(m.kvmalloc_max)
            )
        }
        Some(KMEMLAB_KIND_DMA_COHERENT) => {
            format!("kmemlab's DMA limit = {}", human_size(m.dma_max))
        }
        Some(KMEMLAB_KIND_DMA_POOL) => format!(
            "kmemlab's DMA pool block limit = {}",
            human_size(m.dma_pool_block_max)
        ),
        _ => "the ABI".into(),
    }
}

/// What limits a row, as a key for `--json` and a phrase for people.
pub(crate) fn limited_by(row: &Row, report: &Report) -> (&'static str, String) {
    let page = report.page_size;
    match &row.measured {
        Measured::Probed { found, pages } => match &found.end {
            End::Cap => ("cap", format!("safety cap ({})", report.cap.by)),
            End::Failed {
                why: Failure::Limit,
                ..
            } => (
                "limit",
                format!(
                    "hard limit: {} (EINVAL)",
                    hard_limit(row.kind, &report.module)
                ),
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
pub(crate) fn measured_text(row: &Row, page: u64) -> String {
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
    let quota = format!(
        "kmemlab's quota per open file: {} and {} objects (max_bytes, max_objects)",
        human_size(r.module.max_bytes),
        r.module.max_objects
    );
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
         {quota}\n\
         one allocation at a time, freed at once; vmalloc and kvmalloc probed up to {} ({}{avail})\n\n{}",
        r.kernel,
        human_size(r.page_size),
        human_size(r.cap.bytes),
        r.cap.by,
        table::prose(&HEADER, &WIDTHS, &rows)
    )
}

/// A row for `--json`: sizes in exact bytes.
fn row_json(row: &Row, r: &Report) -> Value {
    let (limited, _) = limited_by(row, r);
    let mut f = vec![
        ("allocator", Value::from(row.allocator)),
        (
            "kind",
            row.kind.map_or(Value::Null, |k| Value::from(kind_name(k))),
        ),
        ("how", Value::from(row.how.clone())),
        ("rule_of_thumb", Value::from(row.rule)),
        ("best_use", Value::from(row.best)),
        (
            "probed",
            Value::Bool(matches!(row.measured, Measured::Probed { .. })),
        ),
        ("limited_by", Value::from(limited)),
    ];
    match &row.measured {
        Measured::Probed { found, pages } => {
            f.push(("largest", opt_num(found.largest)));
            if *pages {
                f.push((
                    "order",
                    found
                        .largest
                        .map_or(Value::Null, |l| Value::from(order_of(l, r.page_size))),
                ));
            }
            let (first_failure, errno, error) = match &found.end {
                End::Cap => (None, Value::Null, Value::Null),
                End::Failed { at, why } => match why {
                    Failure::Limit => (Some(*at), Value::from("EINVAL"), Value::Null),
                    Failure::NoMemory => (Some(*at), Value::from("ENOMEM"), Value::Null),
                    Failure::Error(e) => (Some(*at), Value::Null, Value::from(e.clone())),
                },
            };
            f.push(("first_failure", opt_num(first_failure)));
            f.push(("errno", errno));
            if let End::Failed {
                why: Failure::Limit,
                ..
            } = &found.end
            {
                f.push(("hard_limit", Value::from(hard_limit(row.kind, &r.module))));
            }
            f.push(("at_cap", Value::Bool(found.end == End::Cap)));
            f.push(("error", error));
            f.push(("probes", Value::from(found.probes)));
        }
        Measured::Unsupported => f.push(("largest", Value::Null)),
        Measured::Region(region) => f.push((
            "region",
            region.as_ref().map_or(Value::Null, |reg| {
                object(vec![
                    ("device", Value::from("edu")),
                    ("pci", Value::from(reg.device.clone())),
                    ("bar", Value::from(0)),
                    ("bytes", Value::from(reg.bytes)),
                ])
            }),
        )),
        Measured::Boot(boot) => f.push((
            "boot_reserved",
            match boot {
                Boot::Memblock { regions, bytes } => object(vec![
                    ("source", Value::from("memblock")),
                    ("regions", Value::from(*regions)),
                    ("bytes", Value::from(*bytes)),
                ]),
                Boot::Log {
                    source,
                    reserved,
                    total,
                } => object(vec![
                    ("source", Value::from(*source)),
                    ("bytes", Value::from(*reserved)),
                    ("total_bytes", Value::from(*total)),
                ]),
                Boot::NotExposed => Value::Null,
            },
        )),
    }
    object(f)
}

/// The report for `--json`.
pub(crate) fn report_json(r: &Report) -> Value {
    object(vec![
        ("kernel", Value::from(r.kernel.clone())),
        ("page_size", Value::from(r.page_size)),
        ("vmalloc_cap", Value::from(r.cap.bytes)),
        ("vmalloc_cap_by", Value::from(r.cap.by)),
        ("max_objects", Value::from(r.module.max_objects)),
        ("max_bytes", Value::from(r.module.max_bytes)),
        ("quota", Value::from(r.cap.quota)),
        ("module_limits", limits_json(&r.module)),
        ("mem_available", opt_num(r.cap.mem_available)),
        (
            "rows",
            Value::Array(r.rows.iter().map(|row| row_json(row, r)).collect()),
        ),
    ])
}
