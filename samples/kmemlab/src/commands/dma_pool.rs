// SPDX-License-Identifier: GPL-2.0

//! `dma-pool create|destroy|status`: DMA pools, small blocks of coherent
//! memory for one device, carved out of pages the pool takes for it. Their
//! blocks are objects of kind dma_pool (`alloc dma_pool --pool H`).

use serde_json::Value;

use crate::cli::DmaPoolCommand;
use crate::device::{dma_pool_create, dma_pool_op, field_name, DeviceOps, DmaPoolShape};
use crate::error::Result;
use crate::names::device_name;
use crate::output::Output;
use crate::uapi::*;

use super::require_feature;

/// The name the kernel gives the pool named `name`, as the device's
/// `pools` file shows it.
fn pool_name(name: &[u8]) -> String {
    format!("kmemlab-{}", String::from_utf8_lossy(name))
}

/// An alignment or a boundary for people: `0 (none)` when none was asked.
fn or_none(n: u32) -> String {
    match n {
        0 => "0 (none)".into(),
        n => n.to_string(),
    }
}

/// What `dma-pool status` prints of `p`, the structure the module filled.
fn status_output(p: &KmemlabDmaPool) -> Output {
    let name = pool_name(field_name(&p.name));
    let device = device_name(p.device);
    let text = [
        format!("DMA pool {}: {name}", p.handle),
        format!("  device:     {device}"),
        format!("  block size: {} bytes", p.size),
        format!("  align:      {}", or_none(p.align)),
        format!("  boundary:   {}", or_none(p.boundary)),
        format!("  live:       {} blocks allocated", p.live),
    ];
    Output::new(
        text.join("\n"),
        &[
            ("handle", p.handle.into()),
            ("name", name.into()),
            ("device", device.into()),
            ("size", p.size.into()),
            ("align", p.align.into()),
            ("boundary", p.boundary.into()),
            ("live", p.live.into()),
        ],
    )
}

pub(crate) fn dma_pool(dev: &dyn DeviceOps, c: &DmaPoolCommand) -> Result<Output> {
    require_feature(dev, KMEMLAB_FEAT_DMA_POOL, "DMA pools")?;
    match c {
        DmaPoolCommand::Create {
            name,
            size,
            dma_device,
            align,
            boundary,
        } => {
            let shape = DmaPoolShape {
                name,
                device: *dma_device,
                size: *size,
                align: *align,
                boundary: *boundary,
            };
            let h = dma_pool_create(dev, &shape)?;
            let name = pool_name(name.as_bytes());
            let device = device_name(shape.device);
            let mut how = vec![device.clone(), format!("{size}-byte blocks")];
            how.extend((*align != 0).then(|| format!("align {align}")));
            how.extend((*boundary != 0).then(|| format!("boundary {boundary}")));
            Ok(Output::new(
                format!("DMA pool {name}: handle {h} ({})", how.join(", ")),
                &[
                    ("handle", h.into()),
                    ("name", name.into()),
                    ("device", device.into()),
                    ("size", (*size).into()),
                    ("align", (*align).into()),
                    ("boundary", (*boundary).into()),
                ],
            ))
        }
        DmaPoolCommand::Destroy(p) => {
            dma_pool_op(dev, KMEMLAB_DMA_POOL_DESTROY, p.handle)?;
            Ok(Output::new(
                format!("destroyed DMA pool {}", p.handle),
                &[("destroyed", Value::from(p.handle))],
            ))
        }
        DmaPoolCommand::Status(p) => Ok(status_output(&dma_pool_op(
            dev,
            KMEMLAB_DMA_POOL_STATUS,
            p.handle,
        )?)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::commands::tests::{expect_errno, pool_until_destroyed, run_line};
    use crate::device::fake::{default_limits, FakeDevice, ALL_FEATURES};
    use crate::device::name_field;

    #[test]
    fn a_dma_pool_from_create_to_destroy() {
        let dev = FakeDevice::default();
        let c = run_line(&dev, "dma-pool create --name ring --size 64").unwrap();
        assert_eq!(
            c.text,
            "DMA pool kmemlab-ring: handle 1 (faux, 64-byte blocks)"
        );
        assert_eq!(
            c.render(true),
            r#"{"schema_version":1,"handle":1,"name":"kmemlab-ring","device":"faux","size":64,"align":0,"boundary":0}"#
        );
        let a = run_line(&dev, "alloc dma_pool --pool 1 --count 3").unwrap();
        assert_eq!(a.text, "dma_pool: 2 3 4");
        run_line(&dev, "alloc dma_pool --pool 1 --gfp atomic --zero --nowarn").unwrap();
        let st = run_line(&dev, "dma-pool status 1").unwrap();
        assert_eq!(
            st.text,
            "DMA pool 1: kmemlab-ring\n  device:     faux\n  block size: 64 bytes\n  \
             align:      0 (none)\n  boundary:   0 (none)\n  live:       4 blocks allocated"
        );
        assert_eq!(
            st.render(true),
            r#"{"schema_version":1,"handle":1,"name":"kmemlab-ring","device":"faux","size":64,"align":0,"boundary":0,"live":4}"#
        );
        // The blocks are objects of kind dma_pool, named by their pool, of
        // the pool's block size; their bytes are read and written as any.
        let info = run_line(&dev, "info 2").unwrap();
        assert_eq!(
            (info.json["kind"].as_str(), info.json["pool"].as_u64()),
            (Some("dma_pool"), Some(1))
        );
        assert_eq!(
            (info.json["size"].as_u64(), info.json["backing"].as_str()),
            (Some(64), Some("pages"))
        );
        assert!(info.text.ends_with("  pool 1"), "{}", info.text);
        assert!(!info.json.to_string().contains("cache"), "{}", info.json);
        let list = run_line(&dev, "list").unwrap();
        assert!(
            list.text
                .lines()
                .all(|l| l.contains(" dma_pool ") && l.ends_with("  pool 1")),
            "{}",
            list.text
        );
        run_line(&dev, "fill 3 --seed 9").unwrap();
        run_line(&dev, "verify 3 --seed 9").unwrap();
        run_line(&dev, "write 4 --string blk --offset 61").unwrap();
        assert_eq!(
            run_line(&dev, "read 4 --offset 60").unwrap().text,
            "00626c6b"
        );
        // Busy while the blocks live; free --all frees them, the pool stays.
        pool_until_destroyed(&dev, "dma-pool", "destroyed DMA pool 1", || dev.dma_pools());
        expect_errno(&dev, "alloc dma_pool --pool 1", "ENOENT");
        assert!(dev.calls().contains(&"dma-pool create"));
    }

    #[test]
    fn alignment_and_boundary_are_the_modules_to_judge() {
        let dev = FakeDevice::default();
        let c = run_line(
            &dev,
            "dma-pool create --name al --size 24 --align 32 --boundary 64",
        )
        .unwrap();
        assert_eq!(
            c.text,
            "DMA pool kmemlab-al: handle 1 (faux, 24-byte blocks, align 32, boundary 64)"
        );
        let st = run_line(&dev, "dma-pool status 1").unwrap();
        assert!(
            st.text.contains("\n  align:      32\n  boundary:   64\n"),
            "{}",
            st.text
        );
        // A block of at least 16 bytes, rounded up to the alignment: the
        // boundary may be no smaller.
        for (line, errno) in [
            ("--size 0", "EINVAL"),
            ("--size 4m --align 0", "OK"),
            ("--size 4194305", "EINVAL"),
            ("--size 64 --align 48", "EINVAL"),
            ("--size 64 --align 4096", "OK"),
            ("--size 64 --align 8192", "EINVAL"),
            ("--size 8 --boundary 16", "OK"),
            ("--size 8 --boundary 8", "EINVAL"),
            ("--size 40 --align 32 --boundary 32", "EINVAL"),
            ("--size 40 --align 32 --boundary 64", "OK"),
            ("--size 64 --boundary 96", "EINVAL"),
        ] {
            let line = format!("dma-pool create --name b {line}");
            match errno {
                "OK" => {
                    run_line(&dev, &line).unwrap();
                }
                e => expect_errno(&dev, &line, e),
            }
        }
        // Without edu, a pool for it: the device is not there.
        expect_errno(
            &dev,
            "dma-pool create --name e --size 64 --dma-device edu",
            "ENODEV",
        );
    }

    #[test]
    fn blocks_take_the_gfp_the_module_takes() {
        let dev = FakeDevice::default();
        run_line(&dev, "dma-pool create --name g --size 128").unwrap();
        for good in [
            "--gfp kernel",
            "--gfp atomic",
            "--gfp nowait",
            "--gfp noio",
            "--gfp nofs",
            "--gfp user --zero --nowarn --noretry",
            "--gfp atomic --retry-mayfail",
        ] {
            run_line(&dev, &format!("alloc dma_pool --pool 1 {good}")).unwrap();
        }
        for bad in [
            "--gfp highuser",
            "--gfp highuser_movable",
            "--dma",
            "--dma32",
            "--account",
            "--node 0 --thisnode",
            // The block size, order and node are the pool's.
            "--size 64",
            "--node 0",
            "--order 0 --size 8",
        ] {
            expect_errno(&dev, &format!("alloc dma_pool --pool 1 {bad}"), "EINVAL");
        }
        assert_eq!(dev.live(), 7);
    }

    #[test]
    fn the_fake_refuses_what_the_module_refuses() {
        let dev = FakeDevice::default();
        run_line(&dev, "dma-pool create --name ok --size 64").unwrap();
        let raw = |req: KmemlabDmaPool| dev.dma_pool(&req).map_err(|e| e.errno);
        let create = KmemlabDmaPool {
            name: name_field("raw"),
            op: KMEMLAB_DMA_POOL_CREATE,
            device: KMEMLAB_DEV_FAUX,
            size: 64,
            ..Default::default()
        };
        assert_eq!(raw(create).map(|p| p.handle), Ok(2));
        let einval = Err(rustix::io::Errno::INVAL);
        let mut no_nul = create;
        no_nul.name = [b'a'; KMEMLAB_CACHE_NAME_MAX];
        for req in [
            KmemlabDmaPool {
                op: 3,
                handle: 1,
                ..Default::default()
            },
            KmemlabDmaPool {
                name: [0; KMEMLAB_CACHE_NAME_MAX],
                ..create
            },
            KmemlabDmaPool {
                name: name_field("Upper"),
                ..create
            },
            no_nul,
            KmemlabDmaPool {
                device: 0,
                ..create
            },
            KmemlabDmaPool {
                device: 3,
                ..create
            },
            KmemlabDmaPool {
                handle: 1,
                ..create
            },
            KmemlabDmaPool { live: 1, ..create },
            KmemlabDmaPool {
                reserved: 1,
                ..create
            },
            KmemlabDmaPool {
                op: KMEMLAB_DMA_POOL_STATUS,
                handle: 1,
                size: 64,
                ..Default::default()
            },
            KmemlabDmaPool {
                op: KMEMLAB_DMA_POOL_DESTROY,
                handle: 1,
                name: name_field("ok"),
                ..Default::default()
            },
        ] {
            assert_eq!(raw(req), einval, "{req:?}");
        }
        assert_eq!(dev.dma_pools(), 2);
        // The pool is an object against max_objects.
        let limits = KmemlabLimits {
            max_objects: 2,
            ..default_limits()
        };
        let small = FakeDevice::new(ALL_FEATURES, limits);
        run_line(&small, "dma-pool create --name one --size 64").unwrap();
        run_line(&small, "alloc dma_pool --pool 1").unwrap();
        expect_errno(&small, "dma-pool create --name two --size 64", "ENOMEM");
        expect_errno(&small, "alloc dma_pool --pool 1", "ENOMEM");
    }

    #[test]
    fn edu_pool_blocks_go_through_the_dma_engine() {
        let dev = FakeDevice::new(ALL_FEATURES, default_limits());
        run_line(
            &dev,
            "dma-pool create --name edu --size 4k --dma-device edu",
        )
        .unwrap();
        run_line(&dev, "alloc dma_pool --pool 1 --count 2").unwrap();
        let info = run_line(&dev, "info 2").unwrap();
        assert_eq!(info.json["zone"], "DMA32");
        assert_eq!(
            run_line(&dev, "dma-pool status 1").unwrap().json["device"],
            "edu"
        );
        // A block and an edu DMA buffer, each way: the tool leaves the
        // judging to the module.
        run_line(&dev, "alloc dma 4k --dma-device edu").unwrap();
        run_line(&dev, "fill 2 --seed 3").unwrap();
        run_line(&dev, "dma copy 2 3 4096").unwrap();
        run_line(&dev, "verify 3 --seed 3").unwrap();
        run_line(&dev, "dma copy 3 4 100 --src-offset 8 --dst-offset 8").unwrap();
        run_line(&dev, "verify 4 --seed 3 --offset 8 --len 100").unwrap();
        // Blocks of a faux pool are not edu's to copy.
        run_line(&dev, "dma-pool create --name faux --size 4k").unwrap();
        run_line(&dev, "alloc dma_pool --pool 5").unwrap();
        expect_errno(&dev, "dma copy 2 6 64", "EINVAL");
        expect_errno(&dev, "dma copy 2 2 64", "EINVAL");
        expect_errno(&dev, "dma copy 2 3 4097", "EINVAL");
        expect_errno(&dev, "dma copy 2 9 64", "ENOENT");
    }

    #[test]
    fn a_module_without_dma_pools_is_told_apart() {
        let dev = FakeDevice::new(ALL_FEATURES & !KMEMLAB_FEAT_DMA_POOL, default_limits());
        let e = run_line(&dev, "dma-pool create --name a --size 64").unwrap_err();
        assert_eq!(e.exit_code(), 1);
        assert_eq!(
            e.to_string(),
            "the loaded module has no DMA pools (no 'dma_pool' in its features): \
             rebuild and reload it"
        );
        assert!(!dev.calls().iter().any(|c| c.starts_with("dma-pool")));
        // The ioctl itself answers ENOTTY, as an older module's does.
        let req = KmemlabDmaPool {
            op: KMEMLAB_DMA_POOL_STATUS,
            handle: 1,
            ..Default::default()
        };
        let e = dev.dma_pool(&req).unwrap_err().to_string();
        assert!(
            e.starts_with("dma-pool status failed: ") && e.ends_with("(ENOTTY)"),
            "{e}"
        );
    }
}
