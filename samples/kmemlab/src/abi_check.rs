// SPDX-License-Identifier: GPL-2.0

//! Checks the Rust ABI mirror (`rust/uapi.rs`) against the C header
//! (`include/uapi/kmemlab.h`), the source of truth.
//!
//! A C program is generated from the mirror's tables, compiled against the
//! header with the host C compiler (`$CC`, default `cc`) and run: it prints
//! every structure size, field offset and size, ioctl number and constant as
//! C sees them, and the test compares that with what Rust computed. The header
//! is also scanned so that a structure, ioctl or feature bit added there
//! without a Rust mirror fails the test.

use std::collections::BTreeSet;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::Command;

use crate::uapi;

fn header_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../include/uapi")
}

fn header_text() -> String {
    std::fs::read_to_string(header_dir().join("kmemlab.h")).expect("read kmemlab.h")
}

/// The constants both sides define: C macro name and the Rust value.
fn constants() -> Vec<(String, u64)> {
    uapi::ABI_CONSTANTS
        .iter()
        .map(|(n, v)| (n.to_string(), *v))
        .collect()
}

/// Seeds and offsets at which the C and Rust fill patterns are compared.
const PATTERN_PROBES: &[(u64, u64)] = &[
    (0, 0),
    (0, 7),
    (1, 8),
    (0xdead_beef, 12345),
    (u64::MAX, u64::MAX),
    (42, 4096 * 1024 + 3),
];

/// What the Rust side expects the C program to print, line by line.
fn expected_lines() -> Vec<String> {
    let mut lines = Vec::new();
    for s in uapi::ABI_STRUCTS {
        lines.push(format!("struct {} {}", s.c_name, s.size));
        for (field, off, size) in s.fields {
            lines.push(format!("field {}.{} {} {}", s.c_name, field, off, size));
        }
    }
    for (name, value) in uapi::ABI_IOCTLS {
        lines.push(format!("ioctl {name} {value:#x}"));
    }
    for (name, value) in constants() {
        lines.push(format!("const {name} {value:#x}"));
    }
    for (seed, offset) in PATTERN_PROBES {
        let byte = uapi::pattern_byte(*seed, *offset);
        lines.push(format!("pattern {seed:#x} {offset:#x} {byte:#x}"));
    }
    lines
}

/// A C program printing the same lines from the header's point of view.
fn c_program() -> String {
    let mut c = String::from(
        "#include <stddef.h>\n#include <stdio.h>\n#include \"kmemlab.h\"\nint main(void)\n{\n",
    );
    for s in uapi::ABI_STRUCTS {
        let t = format!("struct {}", s.c_name);
        writeln!(c, "\tprintf(\"struct {} %zu\\n\", sizeof({t}));", s.c_name).unwrap();
        for (field, _, _) in s.fields {
            writeln!(
                c,
                "\tprintf(\"field {n}.{field} %zu %zu\\n\", offsetof({t}, {field}), \
                 sizeof((({t} *)0)->{field}));",
                n = s.c_name
            )
            .unwrap();
        }
    }
    for (name, _) in uapi::ABI_IOCTLS {
        writeln!(
            c,
            "\tprintf(\"ioctl {name} %#lx\\n\", (unsigned long){name});"
        )
        .unwrap();
    }
    for (name, _) in constants() {
        writeln!(
            c,
            "\tprintf(\"const {name} %#llx\\n\", (unsigned long long){name});"
        )
        .unwrap();
    }
    for (seed, offset) in PATTERN_PROBES {
        writeln!(
            c,
            "\tprintf(\"pattern %#llx %#llx %#x\\n\", {seed:#x}ULL, {offset:#x}ULL, \
             kmemlab_pattern_byte({seed:#x}ULL, {offset:#x}ULL));"
        )
        .unwrap();
    }
    c.push_str("\treturn 0;\n}\n");
    c
}

/// C's `%#x` prints zero as `0`, Rust's `{:#x}` as `0x0`: compare them alike.
fn normalise(line: &str) -> String {
    line.split(' ')
        .map(|t| if t == "0" { "0x0" } else { t })
        .collect::<Vec<_>>()
        .join(" ")
}

#[test]
fn rust_mirror_matches_c_header() {
    let dir = std::env::temp_dir().join(format!("kmemlab-abi-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let src = dir.join("abi.c");
    let exe = dir.join("abi");
    std::fs::write(&src, c_program()).unwrap();
    let cc = std::env::var("CC").unwrap_or_else(|_| "cc".into());
    let status = Command::new(&cc)
        .args(["-std=c11", "-Wall", "-Werror", "-I"])
        .arg(header_dir())
        .arg(&src)
        .arg("-o")
        .arg(&exe)
        .status()
        .unwrap_or_else(|e| panic!("cannot run the C compiler '{cc}': {e}"));
    assert!(
        status.success(),
        "compiling the ABI probe against kmemlab.h failed"
    );
    let out = Command::new(&exe).output().unwrap();
    std::fs::remove_dir_all(&dir).ok();
    let c_lines: Vec<String> = String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(normalise)
        .collect();
    let rust_lines: Vec<String> = expected_lines().iter().map(|l| normalise(l)).collect();
    assert_eq!(c_lines, rust_lines);
}

/// Every name of the given kind declared in the header.
fn header_names(prefix: &str, stop: &[char]) -> BTreeSet<String> {
    header_text()
        .lines()
        .filter_map(|l| l.trim_start().strip_prefix(prefix))
        .map(|rest| rest.split(stop).next().unwrap_or("").trim().to_string())
        .filter(|s| !s.is_empty())
        .collect()
}

#[test]
fn every_header_item_has_a_rust_mirror() {
    let c_structs = header_names("struct kmemlab_", &[' ', '{']);
    let rust_structs: BTreeSet<String> = uapi::ABI_STRUCTS
        .iter()
        .map(|s| s.c_name.trim_start_matches("kmemlab_").to_string())
        .collect();
    assert_eq!(
        c_structs, rust_structs,
        "structures in kmemlab.h vs rust/uapi.rs"
    );

    let defines = header_names("#define ", &[' ', '\t', '(']);
    let c_ioctls: BTreeSet<&String> = defines
        .iter()
        .filter(|d| d.starts_with("KMEMLAB_IOC_") && *d != "KMEMLAB_IOC_MAGIC")
        .collect();
    let rust_ioctls: BTreeSet<String> = uapi::ABI_IOCTLS
        .iter()
        .map(|(n, _)| n.to_string())
        .collect();
    assert_eq!(
        c_ioctls,
        rust_ioctls.iter().collect(),
        "ioctls in kmemlab.h vs rust/uapi.rs"
    );

    let c_feats: BTreeSet<&String> = defines
        .iter()
        .filter(|d| d.starts_with("KMEMLAB_FEAT_"))
        .collect();
    let rust_feats: BTreeSet<String> = constants()
        .into_iter()
        .map(|(n, _)| n)
        .filter(|n| n.starts_with("KMEMLAB_FEAT_"))
        .collect();
    assert_eq!(
        c_feats,
        rust_feats.iter().collect(),
        "feature bits in kmemlab.h vs rust/uapi.rs"
    );
}

/// The value of every constant the mirror lists under `prefix`.
fn constants_named(prefix: &str) -> Vec<(String, u64)> {
    constants()
        .into_iter()
        .filter(|(n, _)| n.starts_with(prefix))
        .collect()
}

#[test]
fn every_header_constant_has_a_rust_mirror() {
    let defines = header_names("#define ", &[' ', '\t', '(']);
    // Every KMEMLAB_ macro but the ioctl numbers (checked above) and the
    // device's path (a string).
    let c_consts: BTreeSet<&String> = defines
        .iter()
        .filter(|d| d.starts_with("KMEMLAB_") && *d != "KMEMLAB_DEVICE")
        .filter(|d| !d.starts_with("KMEMLAB_IOC_") || *d == "KMEMLAB_IOC_MAGIC")
        .collect();
    let rust_consts: BTreeSet<String> = constants().into_iter().map(|(n, _)| n).collect();
    assert_eq!(
        c_consts,
        rust_consts.iter().collect(),
        "constants in kmemlab.h vs rust/uapi.rs"
    );
}

/// Each name table of the mirror names every constant of its family, once.
#[test]
fn every_kind_gfp_zone_and_backing_has_a_name() {
    let check = |family: &[(String, u64)], table: &[(u32, &str)], what: &str| {
        let values: BTreeSet<u64> = family.iter().map(|(_, v)| *v).collect();
        let named: BTreeSet<u64> = table.iter().map(|(v, _)| u64::from(*v)).collect();
        assert_eq!(values, named, "{what}: constants vs names");
        assert_eq!(named.len(), table.len(), "{what}: a value named twice");
    };
    check(&constants_named("KMEMLAB_KIND_"), uapi::KIND_NAMES, "kinds");
    check(&constants_named("KMEMLAB_ZONE_"), uapi::ZONE_NAMES, "zones");
    check(
        &constants_named("KMEMLAB_BACKING_"),
        uapi::BACKING_NAMES,
        "backings",
    );
    let mask = u64::from(uapi::KMEMLAB_GFP_BASE_MASK);
    let gfp: Vec<(String, u64)> = constants_named("KMEMLAB_GFP_")
        .into_iter()
        .filter(|(n, _)| n != "KMEMLAB_GFP_BASE_MASK")
        .collect();
    let (bases, modifiers): (Vec<_>, Vec<_>) = gfp.into_iter().partition(|(_, v)| v & !mask == 0);
    check(&bases, uapi::GFP_BASE_NAMES, "GFP bases");
    check(&modifiers, uapi::GFP_MODIFIER_NAMES, "GFP modifiers");
    // A modifier is one bit outside the base.
    assert!(modifiers
        .iter()
        .all(|(n, v)| v.count_ones() == 1 && v & mask == 0 || panic!("{n} {v:#x}")));
    let feats = constants_named("KMEMLAB_FEAT_");
    let names: BTreeSet<u64> = uapi::FEATURE_NAMES.iter().map(|(b, _)| *b).collect();
    assert_eq!(
        feats.iter().map(|(_, v)| *v).collect::<BTreeSet<_>>(),
        names,
        "feature bits vs FEATURE_NAMES"
    );
}

/// `raw` as native-endian `__u32`s.
fn words(raw: &[u8]) -> Vec<u32> {
    raw.chunks_exact(4)
        .map(|c| u32::from_ne_bytes([c[0], c[1], c[2], c[3]]))
        .collect()
}

#[test]
fn encoding_round_trips_and_covers_every_byte() {
    let v = uapi::KmemlabVersion {
        abi_version: 0x0102_0304,
        nr_cpus: 5,
        features: 0x1122_3344_5566_7788,
        nr_nodes: 2,
        reserved: 0,
    };
    let raw = v.encode();
    assert_eq!(uapi::KmemlabVersion::decode(&raw), v);
    assert_eq!(&raw[8..16], &0x1122_3344_5566_7788u64.to_ne_bytes());
    // ABI 3's new fields: the zone and backing of an info, kvmalloc's limits.
    let i = uapi::KmemlabInfo {
        zone: uapi::KMEMLAB_ZONE_DMA32,
        backing: uapi::KMEMLAB_BACKING_VMALLOC,
        ..Default::default()
    };
    let raw = i.encode();
    assert_eq!(uapi::KmemlabInfo::decode(&raw), i);
    // The last two __u32 of the structure, as C lays it out.
    let tail = [2u32.to_ne_bytes(), 3u32.to_ne_bytes()].concat();
    assert_eq!(&raw[raw.len() - 8..], &tail[..]);
    let l = uapi::KmemlabLimits {
        kvmalloc_max: 0x7fff_ffff,
        kvmalloc_kmalloc_max: 4 << 20,
        mempool_reserve_max: 1024,
        dma_pool_block_max: 4 << 20,
        ..Default::default()
    };
    let raw = l.encode();
    assert_eq!(uapi::KmemlabLimits::decode(&raw), l);
    // mempool_reserve_max, then dma_pool_block_max: the last two __u64.
    assert_eq!(&raw[raw.len() - 16..raw.len() - 8], &1024u64.to_ne_bytes());
    assert_eq!(&raw[raw.len() - 8..], &(4u64 << 20).to_ne_bytes());
    // struct kmemlab_mempool: eight __u32, in the header's order.
    let m = uapi::KmemlabMempool {
        op: 1,
        handle: 2,
        source: 3,
        cache: 4,
        size: 5,
        min_nr: 6,
        curr_nr: 7,
        live: 8,
    };
    let raw = m.encode();
    assert_eq!(uapi::KmemlabMempool::decode(&raw), m);
    assert_eq!(words(&raw), [1, 2, 3, 4, 5, 6, 7, 8]);
    // struct kmemlab_dma_pool: the name's 24 bytes, then eight __u32.
    let mut name = [0u8; uapi::KMEMLAB_CACHE_NAME_MAX];
    name[..4].copy_from_slice(b"ring");
    let p = uapi::KmemlabDmaPool {
        name,
        op: 1,
        handle: 2,
        device: 3,
        size: 4,
        align: 5,
        boundary: 6,
        live: 7,
        reserved: 8,
    };
    let raw = p.encode();
    assert_eq!(uapi::KmemlabDmaPool::decode(&raw), p);
    assert_eq!(&raw[..uapi::KMEMLAB_CACHE_NAME_MAX], &name[..]);
    assert_eq!(
        words(&raw[uapi::KMEMLAB_CACHE_NAME_MAX..]),
        [1, 2, 3, 4, 5, 6, 7, 8]
    );
}
