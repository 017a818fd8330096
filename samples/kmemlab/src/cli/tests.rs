// SPDX-License-Identifier: GPL-2.0

//! Tests of the command line's definition.

use super::*;

pub(crate) fn cli(line: &str) -> Result<Cli, clap::Error> {
    parse(std::iter::once("kmemlab").chain(line.split_whitespace()))
}

fn words(line: &str) -> Vec<String> {
    std::iter::once("kmemlab")
        .chain(line.split_whitespace())
        .map(String::from)
        .collect()
}

#[test]
fn json_is_read_by_clap() {
    for (line, json) in [
        ("-jd /x frob", true),
        ("--json frob", true),
        ("alloc kmalloc x --json", true),
        ("alloc kmalloc x -j", true),
        ("write x --string --json", false),
        ("write x --string -j", false),
        ("alloc kmalloc x", false),
    ] {
        assert_eq!(json_requested(words(line)), json, "{line}");
    }
}

#[test]
fn paths_and_subcommands() {
    let w = |l: &str| words(l)[1..].to_vec();
    assert_eq!(
        command_path(&w("-d /x cache create a --size 8")),
        ["cache", "create"]
    );
    assert_eq!(command_path(&w("frob")), Vec::<String>::new());
    let subs = subcommands_of(&["cache".to_string()]);
    assert!(subs.contains(&"create".to_string()) && !subs.contains(&"help".to_string()));
    assert_eq!(
        subcommands_of(&["mempool".to_string()]),
        ["create", "destroy", "status"]
    );
    assert_eq!(
        command_path(&w("--json mempool status 3")),
        ["mempool", "status"]
    );
    assert_eq!(
        subcommands_of(&["dma-pool".to_string()]),
        ["create", "destroy", "status"]
    );
    assert_eq!(
        command_path(&w("dma-pool create --name a --size 8 -j")),
        ["dma-pool", "create"]
    );
}

#[test]
fn definition_is_consistent() {
    Cli::command().debug_assert();
}

#[test]
fn global_options_anywhere() {
    let a = cli("alloc kmalloc 64 --json").unwrap();
    assert!(a.global.json);
    let b = cli("--json alloc kmalloc 64").unwrap();
    assert_eq!(a, b);
    let c = cli("alloc kmalloc 64 --device /tmp/x").unwrap();
    assert_eq!(c.global.device_path(), PathBuf::from("/tmp/x"));
    assert_eq!(
        cli("version").unwrap().global.device_path(),
        PathBuf::from(DEFAULT_DEVICE)
    );
}

#[test]
fn usage_errors() {
    for bad in [
        "",
        "frobnicate",
        "stats --bogus",
        "alloc kmalloc notanumber",
        "alloc",
        "alloc slab",
        "alloc kmalloc 64 --count 0",
        "alloc kmalloc 64 --count 1025",
        "alloc kmalloc 64 --size 64",
        "free",
        "free 1 --all",
        "write 1",
        "write 1 --string a --hex 00",
        "mmio read 1 0 --width 3",
        "top --interval 0",
        "top --sort size",
        "top --iterations 0",
        "limits --cap 0",
        "bench run --batch 0",
        "bench run --threads many",
        "bench standard --rounds 0",
        "bench frob",
        "bench placements",
        "bench placements 0=a.json",
        "bench placements 0=a.json b.json",
        "bench placements =a.json 1=b.json",
        "bench placements 0= 1=b.json",
        "mempool",
        "mempool create --min 4",
        "mempool create --kmalloc 8 --cache 1 --min 4",
        "mempool create --kmalloc 8 --min 1025",
        "mempool create --cache 1 --min 0",
        "mempool create --kmalloc 8 --min 4 --pool 1",
        "mempool destroy",
        "alloc mempool --pool x",
        "dma-pool",
        "dma-pool create --name a",
        "dma-pool create --size 64",
        "dma-pool create --name a_B --size 64",
        "dma-pool create --name a --size 64 --dma-device dma",
        "dma-pool create --name a --size 64 --align x",
        "dma-pool create --name a --size 64 --min 4",
        "dma-pool create --name a.b --size 64",
        "dma-pool create --name a-name-far-too-long-for-it --size 64",
        "dma-pool create --name a --size 5g",
        "dma-pool status",
        "dma-pool destroy 1 2",
        "alloc dma_pool --pool -1",
    ] {
        let e = cli(bad).unwrap_err();
        assert_eq!(e.exit_code(), 2, "{bad}: {e}");
    }
}

#[test]
fn gfp_bases_are_the_abis() {
    let ours: Vec<(u32, String)> = Gfp::value_variants()
        .iter()
        .map(|g| {
            let name = g.to_possible_value().map(|v| v.get_name().to_string());
            (g.bits(), name.unwrap_or_default())
        })
        .collect();
    let abi: Vec<(u32, String)> = uapi::GFP_BASE_NAMES
        .iter()
        .map(|(b, n)| (*b, n.to_string()))
        .collect();
    assert_eq!(ours, abi);
    assert_eq!(Gfp::default().bits(), uapi::KMEMLAB_GFP_KERNEL);
}

#[test]
fn mempool_commands() {
    match cli("mempool create --cache 2 --min 1k").map(|c| c.command) {
        Ok(Command::Mempool(MempoolCommand::Create {
            kmalloc,
            cache,
            min,
        })) => assert_eq!((kmalloc, cache, min), (None, Some(2), 1024)),
        other => panic!("{other:?}"),
    }
    match cli("mempool destroy 0x10").map(|c| c.command) {
        Ok(Command::Mempool(MempoolCommand::Destroy(p))) => assert_eq!(p.handle, 16),
        other => panic!("{other:?}"),
    }
    match cli("alloc mempool --pool 3 --gfp atomic").map(|c| c.command) {
        Ok(Command::Alloc(a)) => {
            assert_eq!(
                (a.kind, a.pool, a.cache),
                (uapi::KMEMLAB_KIND_MEMPOOL, Some(3), None)
            );
            assert_eq!(a.gfp, Gfp::Atomic);
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn dma_pool_commands() {
    match cli("dma-pool create --name rx --size 0x40 --dma-device edu --align 16 --boundary 4k")
        .map(|c| c.command)
    {
        Ok(Command::DmaPool(DmaPoolCommand::Create {
            name,
            size,
            dma_device,
            align,
            boundary,
        })) => assert_eq!(
            (name.as_str(), size, dma_device, align, boundary),
            ("rx", 64, uapi::KMEMLAB_DEV_EDU, 16, 4096)
        ),
        other => panic!("{other:?}"),
    }
    // -d stays the device node, beside --dma-device, which defaults to faux.
    let c = cli("dma-pool create --name rx -s 64 -d /tmp/x").unwrap();
    assert_eq!(c.global.device_path(), PathBuf::from("/tmp/x"));
    match c.command {
        Command::DmaPool(DmaPoolCommand::Create {
            dma_device,
            align,
            boundary,
            ..
        }) => assert_eq!(
            (dma_device, align, boundary),
            (uapi::KMEMLAB_DEV_FAUX, 0, 0)
        ),
        other => panic!("{other:?}"),
    }
    match cli("dma-pool status 0x10").map(|c| c.command) {
        Ok(Command::DmaPool(DmaPoolCommand::Status(p))) => assert_eq!(p.handle, 16),
        other => panic!("{other:?}"),
    }
    match cli("alloc dma_pool --pool 3 --count 2").map(|c| c.command) {
        Ok(Command::Alloc(a)) => assert_eq!(
            (a.kind, a.pool, a.cache, a.count),
            (uapi::KMEMLAB_KIND_DMA_POOL, Some(3), None, 2)
        ),
        other => panic!("{other:?}"),
    }
}

#[test]
fn alloc_and_cache_flags() {
    let a = match cli(
        "alloc kvmalloc 1m --gfp highuser_movable --dma --dma32 --thisnode --retry-mayfail",
    )
    .unwrap()
    .command
    {
        Command::Alloc(a) => a,
        other => panic!("{other:?}"),
    };
    assert_eq!(a.gfp, Gfp::HighuserMovable);
    assert!(a.dma && a.dma32 && a.thisnode && a.retry_mayfail);
    assert!(!(a.zero || a.nowarn || a.noretry || a.account));
    // --dma is its own flag, beside --dma-device.
    let a = match cli("alloc dma 4k --dma-device edu").unwrap().command {
        Command::Alloc(a) => a,
        other => panic!("{other:?}"),
    };
    assert!(!a.dma && a.dma_device == Some(uapi::KMEMLAB_DEV_EDU));
    match cli("cache create c --size 8 --dma").unwrap().command {
        Command::Cache(CacheCommand::Create { dma, dma32, .. }) => {
            assert_eq!((dma, dma32), (true, false))
        }
        other => panic!("{other:?}"),
    }
    for bad in [
        "alloc kmalloc 8 --gfp highmem",
        "alloc kmalloc 8 --gfp dma",
        "alloc kmalloc 8 --retry_mayfail",
        "alloc kmalloc 8 --dma=1",
        "cache create c --size 8 --dma-32",
    ] {
        let e = cli(bad).unwrap_err();
        assert_eq!(e.exit_code(), 2, "{bad}: {e}");
    }
}

#[test]
fn bench_placements() {
    match cli("bench placements 0=a.json 832=dir/b=c.json --json").unwrap() {
        Cli {
            global,
            command: Command::Bench(BenchCommand::Placements(a)),
        } => {
            assert!(global.json);
            let got: Vec<(&str, PathBuf)> = a
                .placements
                .iter()
                .map(|p| (p.label.as_str(), p.file.clone()))
                .collect();
            assert_eq!(
                got,
                [
                    ("0", PathBuf::from("a.json")),
                    ("832", PathBuf::from("dir/b=c.json"))
                ]
            );
        }
        other => panic!("{other:?}"),
    }
    let e = cli("bench placements 0=a.json b.json").unwrap_err();
    assert!(e.to_string().contains("LABEL=FILE"), "{e}");
}
