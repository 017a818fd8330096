// SPDX-License-Identifier: GPL-2.0

//! Tests of `limits`.

use super::report::{limited_by, measured_text, TEXT_WIDTH};
use super::search::{End, Found};
use super::system::{bar_size, find_edu, parse_memblock, parse_memory_line, Boot, Region};
use super::*;
use crate::device::fake::{default_limits, FakeDevice, ALL_FEATURES};

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
    let c = safety_cap(256 << 20, Some(4 * gib), None);
    assert_eq!((c.bytes, c.by), (256 << 20, "kmemlab's quota"));
    let c = safety_cap(256 << 20, Some(300 << 20), None);
    assert_eq!((c.bytes, c.by), (150 << 20, "MemAvailable/2"));
    let c = safety_cap(256 << 20, Some(300 << 20), Some(64 << 20));
    assert_eq!((c.bytes, c.by), (64 << 20, "--cap"));
    // --cap only lowers it.
    let c = safety_cap(256 << 20, None, Some(gib));
    assert_eq!((c.bytes, c.by), (256 << 20, "kmemlab's quota"));
    assert_eq!(safety_cap(256 << 20, Some(1), None).bytes, 1);
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
        let dir = std::env::temp_dir().join(format!("kmemlab-limits-{tag}-{}", std::process::id()));
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
        probed(Some(32 << 20), failed(48 << 20, Failure::NoMemory), false),
        probed(
            Some(1 << 20),
            failed(2 << 20, Failure::Error("alloc failed (EPERM)".into())),
            false,
        ),
        probed(Some(4 << 20), failed((4 << 20) + 1, Failure::Limit), false),
    ];
    assert_eq!(measured.len(), SPECS.len());
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
        cap: safety_cap(256 << 20, Some(3 << 30), Some(64 << 20)),
        module: default_limits(),
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
    assert!(text.contains(
        "\nkmemlab's quota per open file: 256 MiB and 4096 objects (max_bytes, max_objects)\n"
    ));
    assert!(text.contains("vmalloc and kvmalloc probed up to 64 MiB (--cap, MemAvailable 3 GiB)"));
    for name in [
        "kmalloc",
        "kmem_cache",
        "__get_free_pages",
        "alloc_pages_node",
        "vmalloc",
        "kvmalloc",
        "dma_alloc_coherent",
        "dma_pool_alloc",
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
    assert!(cells(0).contains("| 4 MiB | hard limit: KMALLOC_MAX_SIZE = 4 MiB (EINVAL)"));
    assert!(cells(1).contains("| 2 MiB | hard limit: kmemlab's cache object limit = 2 MiB"));
    assert!(cells(2).contains("| 4 MiB (order 10) | hard limit: MAX_PAGE_ORDER = 10"));
    assert!(cells(3).contains("| 1 MiB (order 8) | memory: no free order-9 block (ENOMEM)"));
    assert!(cells(4).contains("| at least 64 MiB (safety cap) | safety cap (--cap)"));
    assert!(cells(5).starts_with("kmalloc when the pages are at hand, else vmalloc |"));
    assert!(cells(5).ends_with("| 32 MiB | memory: ENOMEM at 48 MiB, ran out or fragmented"));
    assert!(cells(6).ends_with("| at least 1 MiB (search stopped) | stopped: alloc failed (EPERM)"));
    assert!(
        cells(7).ends_with("| 4 MiB | hard limit: kmemlab's DMA pool block limit = 4 MiB (EINVAL)")
    );
    assert!(cells(8).contains("| edu BAR 0: 1 MiB (0000:00:04.0) | the device region it maps"));
    assert!(cells(9).contains("| 202.51 MiB reserved at boot, of 4.00 GiB RAM |"));
    assert!(cells(9).ends_with("boot time only: unreachable from a module"));
    // Sizes stay with their units, and words whole, in the table.
    assert!(text.contains(" 8 KiB, then pages"));
    assert!(text.contains(" non-contiguous,"));

    // Without edu, unsupported kinds, boot figures from memblock or none.
    let mut r = fake_report();
    r.rows[0].measured = Measured::Unsupported;
    r.rows[8].measured = Measured::Region(None);
    r.rows[9].measured = Measured::Boot(Boot::Memblock {
        regions: 57,
        bytes: 3 << 20,
    });
    let text = report_text(&r);
    assert!(text.contains("not in the loaded") && text.contains("no edu device"));
    assert_eq!(measured_text(&r.rows[0], 4096), "not in the loaded module");
    assert_eq!(limited_by(&r.rows[0], &r), ("unsupported", "-".to_string()));
    assert_eq!(
        measured_text(&r.rows[9], 4096),
        "memblock: 3 MiB reserved in 57 regions"
    );
    r.rows[9].measured = Measured::Boot(Boot::NotExposed);
    assert!(report_text(&r).contains("not exposed"));
}

#[test]
fn json_has_exact_bytes() {
    let r = fake_report();
    let v: Value = serde_json::from_str(&report_json(&r).to_string()).unwrap();
    assert_eq!(v.get("page_size").and_then(Value::as_u64), Some(4096));
    assert_eq!(v.get("vmalloc_cap").and_then(Value::as_u64), Some(64 << 20));
    assert_eq!(
        v.get("vmalloc_cap_by").and_then(Value::as_str),
        Some("--cap")
    );
    let rows = v.get("rows").and_then(Value::as_array).unwrap();
    assert_eq!(rows.len(), 10);
    let get = |i: usize, k: &str| rows[i].get(k).cloned().unwrap_or(Value::Null);
    assert_eq!(get(0, "allocator"), Value::from("kmalloc"));
    assert_eq!(get(0, "kind"), Value::from("kmalloc"));
    assert_eq!(get(0, "largest"), Value::from(4 << 20));
    assert_eq!(get(0, "first_failure"), Value::from((4 << 20) + 1));
    assert_eq!(get(0, "errno"), Value::from("EINVAL"));
    assert_eq!(get(0, "limited_by"), Value::from("limit"));
    assert_eq!(get(0, "probed"), Value::Bool(true));
    assert_eq!(get(2, "kind"), Value::from("free_pages"));
    assert_eq!(get(2, "order"), Value::from(10));
    assert_eq!(get(2, "hard_limit"), Value::from("MAX_PAGE_ORDER = 10"));
    assert_eq!(get(3, "limited_by"), Value::from("memory"));
    assert_eq!(get(3, "errno"), Value::from("ENOMEM"));
    assert_eq!(get(4, "limited_by"), Value::from("cap"));
    assert_eq!(get(4, "at_cap"), Value::Bool(true));
    assert_eq!(get(4, "first_failure"), Value::Null);
    assert_eq!(get(5, "kind"), Value::from("kvmalloc"));
    assert_eq!(get(5, "largest"), Value::from(32 << 20));
    assert_eq!(get(5, "errno"), Value::from("ENOMEM"));
    assert_eq!(get(5, "limited_by"), Value::from("memory"));
    assert_eq!(get(6, "limited_by"), Value::from("error"));
    assert!(matches!(get(6, "error"), Value::String(e) if e.contains("EPERM")));
    assert_eq!(get(7, "allocator"), Value::from("dma_pool_alloc"));
    assert_eq!(get(7, "kind"), Value::from("dma_pool"));
    assert_eq!(
        get(7, "hard_limit"),
        Value::from("kmemlab's DMA pool block limit = 4 MiB")
    );
    assert_eq!(get(8, "probed"), Value::Bool(false));
    let region = get(8, "region");
    assert_eq!(region.get("bytes").and_then(Value::as_u64), Some(1 << 20));
    assert_eq!(get(9, "kind"), Value::Null);
    let boot = get(9, "boot_reserved");
    assert_eq!(
        boot.get("bytes").and_then(Value::as_u64),
        Some(207368 * 1024)
    );
}

#[test]
fn quota_is_named_when_enomem_is_above_it() {
    let mut r = fake_report();
    r.cap = safety_cap(1 << 20, None, None);
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

/// `limits` on the fake device: every probe real, every limit found where
/// the module says it is, the module's figures in the report.
#[test]
fn limits_on_a_fake_device_uses_the_module_limits() {
    let module = KmemlabLimits {
        max_objects: 100,
        max_bytes: 8 << 20,
        kmalloc_max: 1 << 20,
        cache_object_max: 512 << 10,
        dma_max: 2 << 20,
        max_order: 5,
        dma_pool_block_max: 64 << 10,
        ..default_limits()
    };
    let dev = FakeDevice::new(ALL_FEATURES, module);
    let out = limits(&dev, &LimitsArgs { cap: None }).unwrap();
    let v = &out.json;
    assert_eq!(v["max_objects"], 100);
    assert_eq!(v["max_bytes"], 8 << 20);
    assert_eq!(v["module_limits"]["kmalloc_max"], 1 << 20);
    assert_eq!(v["vmalloc_cap"].as_u64().map(|c| c <= 8 << 20), Some(true));
    let rows = v["rows"].as_array().unwrap();
    let row = |kind: &str| rows.iter().find(|r| r["kind"] == kind).unwrap();
    assert_eq!(row("kmalloc")["largest"], 1 << 20);
    assert_eq!(row("kmalloc")["hard_limit"], "KMALLOC_MAX_SIZE = 1 MiB");
    assert_eq!(row("kmem_cache")["largest"], 512 << 10);
    // Order 5 is 128 KiB; order 6 is refused (EINVAL).
    assert_eq!(row("free_pages")["largest"], 128 << 10);
    assert_eq!(row("free_pages")["order"], 5);
    // The quota (8 MiB) ends dma before its 2 MiB limit? No: 2 MiB fits.
    assert_eq!(row("dma_coherent")["largest"], 2 << 20);
    assert_eq!(row("vmalloc")["limited_by"], "cap");
    // kvmalloc is probed like vmalloc: up to the safety cap, never beyond.
    assert_eq!(row("kvmalloc")["limited_by"], "cap");
    assert_eq!(row("kvmalloc")["largest"], v["vmalloc_cap"]);
    assert_eq!(v["module_limits"]["kvmalloc_max"], i32::MAX);
    assert_eq!(v["module_limits"]["kvmalloc_kmalloc_max"], 4 << 20);
    assert_eq!(v["module_limits"]["mempool_reserve_max"], 1024);
    // A DMA pool's blocks, up to the module's dma_pool_block_max.
    assert_eq!(row("dma_pool")["largest"], 64 << 10);
    assert_eq!(row("dma_pool")["limited_by"], "limit");
    assert_eq!(v["module_limits"]["dma_pool_block_max"], 64 << 10);
    assert!(
        out.text.contains("kvmalloc_max:     2.00 GiB (2147483647)")
            && out.text.contains("kvmalloc_kmalloc_max: 4 MiB (4194304)")
            && out
                .text
                .contains("\nmempool_reserve_max: 1024 elements in a mempool's reserve\n")
            && out
                .text
                .ends_with("\ndma_pool_block_max: 64 KiB (65536) per block of a DMA pool"),
        "{}",
        out.text
    );
    assert!(
        out.text
            .contains("quota per open file: 8 MiB and 100 objects"),
        "{}",
        out.text
    );
    assert!(
        out.text.contains("max_bytes:        8 MiB (8388608)"),
        "{}",
        out.text
    );
    // Everything probed was freed, caches and DMA pools included.
    assert_eq!((dev.live(), dev.caches(), dev.dma_pools()), (0, 0, 0));
}

/// A DMA pool probe is a pool of blocks of the size tried, for the faux
/// device, one block from it (NOWARN and NORETRY), freed, and the pool
/// destroyed; without the feature, nothing is probed.
#[test]
fn limits_probes_dma_pool_blocks_with_a_pool_each() {
    let module = KmemlabLimits {
        dma_pool_block_max: 100_000,
        ..default_limits()
    };
    let dev = FakeDevice::new(ALL_FEATURES, module);
    let pool = limits_row(&dev, None, "dma_pool");
    assert_eq!(pool["allocator"], "dma_pool_alloc");
    assert_eq!(
        (pool["largest"].as_u64(), pool["first_failure"].as_u64()),
        (Some(100_000), Some(100_001))
    );
    let blocks: Vec<KmemlabAlloc> = dev
        .allocs()
        .into_iter()
        .filter(|r| r.kind == KMEMLAB_KIND_DMA_POOL)
        .collect();
    assert!(!blocks.is_empty());
    assert!(blocks
        .iter()
        .all(|r| r.gfp == KMEMLAB_GFP_NOWARN | KMEMLAB_GFP_NORETRY
            && (r.size, r.order, r.node, r.count) == (0, 0, KMEMLAB_NODE_ANY, 1)));
    let calls = dev.calls();
    let count = |c: &str| calls.iter().filter(|x| **x == c).count();
    // Every probe made its pool, the refused sizes included, and each pool made was destroyed.
    assert_eq!(
        count("dma-pool create"),
        pool["probes"].as_u64().unwrap() as usize
    );
    assert_eq!(count("dma-pool destroy"), blocks.len());
    assert_eq!((dev.live(), dev.dma_pools()), (0, 0));

    let dev = FakeDevice::new(ALL_FEATURES & !KMEMLAB_FEAT_DMA_POOL, module);
    let pool = limits_row(&dev, None, "dma_pool");
    assert_eq!(pool["limited_by"], "unsupported");
    assert!(!dev.calls().iter().any(|c| c.starts_with("dma-pool")));
}

/// `limits` (with `--cap`) on `dev`: the JSON row of `kind`.
fn limits_row(dev: &FakeDevice, cap: Option<u64>, kind: &str) -> Value {
    let out = limits(dev, &LimitsArgs { cap }).unwrap();
    let rows = out.json["rows"].as_array().unwrap();
    let row = rows.iter().find(|r| r["kind"] == kind);
    row.cloned().unwrap_or_default()
}

/// kvmalloc is probed as vmalloc is, up to the cap, with NOWARN and
/// NORETRY; its hard limit is the module's kvmalloc_max.
#[test]
fn limits_probes_kvmalloc_up_to_its_limit_and_the_cap() {
    let module = KmemlabLimits {
        max_bytes: 8 << 20,
        kvmalloc_max: 3_000_000,
        ..default_limits()
    };
    let dev = FakeDevice::new(ALL_FEATURES, module);
    let kv = limits_row(&dev, None, "kvmalloc");
    assert_eq!(kv["allocator"], "kvmalloc");
    assert_eq!(kv["largest"], 3_000_000);
    assert_eq!(kv["first_failure"], 3_000_001);
    assert_eq!(kv["limited_by"], "limit");
    assert_eq!(kv["hard_limit"], "kvmalloc's limit (INT_MAX) = 2.86 MiB");
    let probes: Vec<KmemlabAlloc> = dev
        .allocs()
        .into_iter()
        .filter(|r| r.kind == KMEMLAB_KIND_KVMALLOC)
        .collect();
    assert_eq!(kv["probes"], probes.len());
    assert!(probes
        .iter()
        .all(|r| r.gfp == KMEMLAB_GFP_NOWARN | KMEMLAB_GFP_NORETRY
            && r.size <= 8 << 20
            && r.node == KMEMLAB_NODE_ANY
            && r.count == 1));
    // With --cap below the limit: the cap ends the search, as vmalloc's.
    let dev = FakeDevice::new(ALL_FEATURES, module);
    let kv = limits_row(&dev, Some(1 << 20), "kvmalloc");
    assert_eq!(
        (kv["largest"].as_u64(), kv["at_cap"].as_bool()),
        (Some(1 << 20), Some(true))
    );
    assert!(dev
        .allocs()
        .iter()
        .filter(|r| r.kind == KMEMLAB_KIND_KVMALLOC)
        .all(|r| r.size <= 1 << 20));
    // A module without kvmalloc: its row says so, and nothing is probed.
    let dev = FakeDevice::new(ALL_FEATURES & !KMEMLAB_FEAT_KVMALLOC, module);
    let kv = limits_row(&dev, None, "kvmalloc");
    assert_eq!(kv["limited_by"], "unsupported");
    assert!(dev.allocs().iter().all(|r| r.kind != KMEMLAB_KIND_KVMALLOC));
}

#[test]
fn limits_refuses_a_held_file_and_an_old_module() {
    let dev = FakeDevice::default();
    let req = KmemlabAlloc {
        kind: KMEMLAB_KIND_KMALLOC,
        size: 8,
        count: 1,
        ..Default::default()
    };
    dev.alloc(&req).unwrap();
    let e = limits(&dev, &LimitsArgs { cap: None }).unwrap_err();
    assert!(e.to_string().contains("holds 1 objects"), "{e}");
    let old = FakeDevice::new(ALL_FEATURES & !KMEMLAB_FEAT_LIMITS, default_limits());
    let e = limits(&old, &LimitsArgs { cap: None }).unwrap_err();
    assert!(e.to_string().contains("predates KMEMLAB_IOC_LIMITS"), "{e}");
    assert_eq!(e.exit_code(), 1);
}
