// SPDX-License-Identifier: GPL-2.0

//! `mempool create|destroy|status`: mempools, a reserve of elements over
//! kmalloc or over one of the file's caches. Their elements are objects of
//! kind mempool (`alloc mempool --pool H --gfp atomic`).

use serde_json::Value;

use crate::cli::MempoolCommand;
use crate::device::{mempool_create, mempool_destroy, mempool_status, DeviceOps};
use crate::error::Result;
use crate::names::pool_source_name;
use crate::output::Output;
use crate::uapi::*;

use super::require_feature;

/// What `mempool status` prints of `m`, the structure the module filled.
fn status_output(m: &KmemlabMempool) -> Output {
    let source = pool_source_name(m.source);
    let mut text = vec![
        format!("mempool {}", m.handle),
        format!("  source:       {source}"),
    ];
    if m.source == KMEMLAB_MEMPOOL_CACHE {
        text.push(format!("  cache:        {}", m.cache));
    }
    text.extend([
        format!("  element size: {} bytes", m.size),
        format!("  min_nr:       {} elements kept in reserve", m.min_nr),
        format!("  reserve now:  {} (curr_nr)", m.curr_nr),
        format!("  live:         {} elements allocated", m.live),
    ]);
    Output::new(
        text.join("\n"),
        &[
            ("handle", m.handle.into()),
            ("source", source.into()),
            ("cache", m.cache.into()),
            ("size", m.size.into()),
            ("min_nr", m.min_nr.into()),
            ("curr_nr", m.curr_nr.into()),
            ("live", m.live.into()),
        ],
    )
}

pub(crate) fn mempool(dev: &dyn DeviceOps, m: &MempoolCommand) -> Result<Output> {
    require_feature(dev, KMEMLAB_FEAT_MEMPOOL, "mempools")?;
    match m {
        MempoolCommand::Create {
            kmalloc,
            cache,
            min,
        } => {
            // clap takes exactly one of --kmalloc and --cache.
            let (source, cache, size) = match (kmalloc, cache) {
                (Some(size), _) => (KMEMLAB_MEMPOOL_KMALLOC, 0, *size),
                (None, c) => (KMEMLAB_MEMPOOL_CACHE, c.unwrap_or(0), 0),
            };
            let h = mempool_create(dev, source, cache, size, *min)?;
            let from = match source {
                KMEMLAB_MEMPOOL_KMALLOC => format!("kmalloc, {size}-byte elements"),
                _ => format!("elements of cache {cache}"),
            };
            Ok(Output::new(
                format!("mempool: handle {h} ({from}, {min} in reserve)"),
                &[
                    ("handle", h.into()),
                    ("source", pool_source_name(source).into()),
                    ("cache", cache.into()),
                    ("size", size.into()),
                    ("min_nr", (*min).into()),
                ],
            ))
        }
        MempoolCommand::Destroy(p) => {
            mempool_destroy(dev, p.handle)?;
            Ok(Output::new(
                format!("destroyed mempool {}", p.handle),
                &[("destroyed", Value::from(p.handle))],
            ))
        }
        MempoolCommand::Status(p) => Ok(status_output(&mempool_status(dev, p.handle)?)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::commands::tests::{command, expect_errno, pool_until_destroyed, run_line};
    use crate::device::fake::{default_limits, FakeDevice, ALL_FEATURES};

    #[test]
    fn create_takes_exactly_one_source_and_a_reserve() {
        match command("mempool create --kmalloc 4k --min 16") {
            crate::cli::Command::Mempool(MempoolCommand::Create {
                kmalloc,
                cache,
                min,
            }) => assert_eq!((kmalloc, cache, min), (Some(4096), None, 16)),
            other => panic!("{other:?}"),
        }
        for bad in [
            "mempool create --min 4",
            "mempool create --kmalloc 64 --cache 1 --min 4",
            "mempool create --kmalloc 64",
            "mempool create --kmalloc 64 --min 0",
            "mempool create --kmalloc 64 --min 1025",
            "mempool create --kmalloc 5g --min 1",
            "mempool destroy",
            "mempool status x",
            "mempool",
        ] {
            let words = std::iter::once("kmemlab").chain(bad.split_whitespace());
            let e = crate::cli::parse(words).unwrap_err();
            assert_eq!(e.exit_code(), 2, "{bad}: {e}");
        }
    }

    #[test]
    fn a_kmalloc_mempool_from_create_to_destroy() {
        let dev = FakeDevice::default();
        let c = run_line(&dev, "mempool create --kmalloc 64 --min 16").unwrap();
        assert_eq!(
            c.text,
            "mempool: handle 1 (kmalloc, 64-byte elements, 16 in reserve)"
        );
        assert_eq!(
            c.render(true),
            r#"{"schema_version":1,"handle":1,"source":"kmalloc","cache":0,"size":64,"min_nr":16}"#
        );
        let a = run_line(&dev, "alloc mempool --pool 1 --gfp atomic --count 3").unwrap();
        assert_eq!(a.json["handles"], serde_json::json!([2, 3, 4]));
        run_line(&dev, "alloc mempool --pool 1 --gfp nowait --nowarn").unwrap();
        let st = run_line(&dev, "mempool status 1").unwrap();
        assert_eq!(
            st.text,
            "mempool 1\n  source:       kmalloc\n  element size: 64 bytes\n  \
             min_nr:       16 elements kept in reserve\n  reserve now:  16 (curr_nr)\n  \
             live:         4 elements allocated"
        );
        assert_eq!(
            st.render(true),
            r#"{"schema_version":1,"handle":1,"source":"kmalloc","cache":0,"size":64,"min_nr":16,"curr_nr":16,"live":4}"#
        );
        // The elements are objects of kind mempool, named by their pool.
        let info = run_line(&dev, "info 2").unwrap();
        assert_eq!(
            (info.json["kind"].as_str(), info.json["pool"].as_u64()),
            (Some("mempool"), Some(1))
        );
        assert!(info.text.ends_with("  pool 1"), "{}", info.text);
        assert_eq!(info.json["size"], 64);
        // Busy while the elements live; free --all frees them, the mempool stays.
        pool_until_destroyed(&dev, "mempool", "destroyed mempool 1", || dev.pools());
        assert!(dev.calls().contains(&"mempool create"));
    }

    #[test]
    fn a_mempool_over_a_cache_keeps_the_cache() {
        let dev = FakeDevice::default();
        run_line(&dev, "cache create pooled --size 256 --dma32").unwrap();
        let c = run_line(&dev, "mempool create --cache 1 --min 4").unwrap();
        assert_eq!(
            c.text,
            "mempool: handle 2 (elements of cache 1, 4 in reserve)"
        );
        assert_eq!(
            (c.json["source"].as_str(), c.json["cache"].as_u64()),
            (Some("cache"), Some(1))
        );
        let st = run_line(&dev, "mempool status 2").unwrap();
        assert!(
            st.text.starts_with(
                "mempool 2\n  source:       cache\n  cache:        1\n  element size: 256 bytes\n"
            ),
            "{}",
            st.text
        );
        assert_eq!(
            (st.json["cache"].as_u64(), st.json["size"].as_u64()),
            (Some(1), Some(256))
        );
        // The elements are the cache's, in its zone.
        run_line(&dev, "alloc mempool --pool 2 --gfp atomic").unwrap();
        let info = run_line(&dev, "info 3").unwrap();
        assert_eq!(
            (info.json["zone"].as_str(), info.json["size"].as_u64()),
            (Some("DMA32"), Some(256))
        );
        expect_errno(&dev, "cache destroy 1", "EBUSY");
        run_line(&dev, "free 3").unwrap();
        run_line(&dev, "mempool destroy 2").unwrap();
        run_line(&dev, "cache destroy 1").unwrap();
        assert_eq!((dev.pools(), dev.caches()), (0, 0));
        expect_errno(&dev, "mempool create --cache 9 --min 4", "ENOENT");
    }

    #[test]
    fn the_fake_refuses_what_the_module_refuses() {
        let dev = FakeDevice::default();
        run_line(&dev, "mempool create --kmalloc 64 --min 2").unwrap();
        for bad in [
            // Bases that may sleep: the module refuses them for mempool.
            "alloc mempool --pool 1",
            "alloc mempool --pool 1 --gfp kernel",
            "alloc mempool --pool 1 --gfp noio",
            "alloc mempool --pool 1 --gfp user",
            // Element size, order and node are the pool's.
            "alloc mempool 64 --pool 1 --gfp atomic",
            "alloc mempool --pool 1 --gfp atomic --node 0",
            "mempool create --kmalloc 0 --min 2",
            "mempool create --kmalloc 8m --min 2",
        ] {
            expect_errno(&dev, bad, "EINVAL");
        }
        expect_errno(&dev, "alloc mempool --pool 7 --gfp atomic", "ENOENT");
        // The reserve counts against max_bytes.
        expect_errno(&dev, "mempool create --kmalloc 1m --min 1024", "ENOMEM");
        let raw = |req: KmemlabMempool| dev.mempool(&req).map_err(|e| e.errno);
        let einval = Err(rustix::io::Errno::INVAL);
        for req in [
            KmemlabMempool {
                op: 3,
                handle: 1,
                ..Default::default()
            },
            KmemlabMempool {
                op: KMEMLAB_MEMPOOL_CREATE,
                source: 3,
                size: 64,
                min_nr: 1,
                ..Default::default()
            },
            KmemlabMempool {
                op: KMEMLAB_MEMPOOL_CREATE,
                source: KMEMLAB_MEMPOOL_KMALLOC,
                size: 64,
                min_nr: KMEMLAB_MEMPOOL_RESERVE_MAX + 1,
                ..Default::default()
            },
            KmemlabMempool {
                op: KMEMLAB_MEMPOOL_CREATE,
                source: KMEMLAB_MEMPOOL_KMALLOC,
                size: 64,
                min_nr: 0,
                ..Default::default()
            },
            KmemlabMempool {
                op: KMEMLAB_MEMPOOL_STATUS,
                handle: 1,
                live: 1,
                ..Default::default()
            },
            KmemlabMempool {
                op: KMEMLAB_MEMPOOL_DESTROY,
                handle: 1,
                size: 64,
                ..Default::default()
            },
        ] {
            assert_eq!(raw(req), einval, "{req:?}");
        }
        assert_eq!(dev.pools(), 1);
    }

    #[test]
    fn a_failing_allocator_draws_on_the_reserve() {
        let dev = FakeDevice::default();
        run_line(&dev, "mempool create --kmalloc 128 --min 3").unwrap();
        dev.set_allocator_fails(true);
        run_line(&dev, "alloc mempool --pool 1 --gfp atomic --count 2").unwrap();
        let st = run_line(&dev, "mempool status 1").unwrap();
        assert_eq!(
            (st.json["curr_nr"].as_u64(), st.json["live"].as_u64()),
            (Some(1), Some(2))
        );
        assert!(
            st.text.contains("  reserve now:  1 (curr_nr)\n"),
            "{}",
            st.text
        );
        // Two more than the reserve holds: none is made.
        expect_errno(
            &dev,
            "alloc mempool --pool 1 --gfp atomic --count 2",
            "ENOMEM",
        );
        run_line(&dev, "alloc mempool --pool 1 --gfp atomic").unwrap();
        assert_eq!(
            run_line(&dev, "mempool status 1").unwrap().json["curr_nr"],
            0
        );
        // Frees refill the reserve, up to min_nr.
        dev.set_allocator_fails(false);
        run_line(&dev, "alloc mempool --pool 1 --gfp atomic").unwrap();
        run_line(&dev, "free --all").unwrap();
        let st = run_line(&dev, "mempool status 1").unwrap();
        assert_eq!(
            (st.json["curr_nr"].as_u64(), st.json["live"].as_u64()),
            (Some(3), Some(0))
        );
    }

    #[test]
    fn a_module_without_mempools_is_told_apart() {
        let dev = FakeDevice::new(ALL_FEATURES & !KMEMLAB_FEAT_MEMPOOL, default_limits());
        let e = run_line(&dev, "mempool create --kmalloc 64 --min 1").unwrap_err();
        assert_eq!(e.exit_code(), 1);
        assert!(
            e.to_string().contains("no 'mempool' in its features"),
            "{e}"
        );
        assert!(!dev.calls().iter().any(|c| c.starts_with("mempool")));
        // The ioctl itself answers ENOTTY, as an older module's does.
        let req = KmemlabMempool {
            op: KMEMLAB_MEMPOOL_STATUS,
            handle: 1,
            ..Default::default()
        };
        let e = dev.mempool(&req).unwrap_err().to_string();
        assert!(
            e.starts_with("mempool status failed: ") && e.ends_with("(ENOTTY)"),
            "{e}"
        );
    }
}
