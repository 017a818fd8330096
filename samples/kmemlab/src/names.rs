// SPDX-License-Identifier: GPL-2.0

//! Names of the ABI's numbers as the tool takes and prints them: kinds, DMA
//! devices, ioremap and mempool sources, zones, backings, benchmark
//! operations and feature bits; and the names of DMA pools.

use crate::uapi::{self, *};

/// The number `name` stands for in `table` (`what` names the table in the error).
pub fn by_name(table: &[(u32, &str)], what: &str, name: &str) -> Result<u32, String> {
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
pub fn name_of(table: &[(u32, &'static str)], id: u32) -> Option<&'static str> {
    table.iter().find(|(n, _)| *n == id).map(|(_, name)| *name)
}

/// Short names the tool accepts for kinds besides those of [`uapi::KIND_NAMES`].
const KIND_ALIASES: &[(u32, &str)] = &[(KMEMLAB_KIND_DMA_COHERENT, "dma")];

/// The kind named `name` (`dma` is short for `dma_coherent`).
pub fn kind(name: &str) -> Result<u32, String> {
    by_name(KIND_ALIASES, "kind", name).or_else(|_| by_name(uapi::KIND_NAMES, "kind", name))
}

/// The name of kind `k` (`?` when the tool does not know it).
pub fn kind_name(k: u32) -> &'static str {
    name_of(uapi::KIND_NAMES, k).unwrap_or("?")
}

/// The name of DMA device `d` (its number when the tool does not know it).
pub fn device_name(d: u32) -> String {
    name_of(uapi::DEVICE_NAMES, d).map_or_else(|| d.to_string(), str::to_string)
}

/// The name of ioremap source `s` (its number when the tool does not know it).
pub fn source_name(s: u32) -> String {
    name_of(uapi::IOREMAP_SOURCE_NAMES, s).map_or_else(|| s.to_string(), str::to_string)
}

/// Where a mempool takes its elements from, by the names the tool prints.
pub const POOL_SOURCE_NAMES: &[(u32, &str)] = &[
    (KMEMLAB_MEMPOOL_KMALLOC, "kmalloc"),
    (KMEMLAB_MEMPOOL_CACHE, "cache"),
];

/// The name of mempool source `s` (its number when the tool does not know it).
pub fn pool_source_name(s: u32) -> String {
    name_of(POOL_SOURCE_NAMES, s).map_or_else(|| s.to_string(), str::to_string)
}

/// Whether `name` is a DMA pool name the module takes: 1 to
/// `KMEMLAB_CACHE_NAME_MAX - 1` bytes of `a-z`, `0-9`, `_` and `-`.
pub fn dma_pool_name_ok(name: &[u8]) -> bool {
    (1..KMEMLAB_CACHE_NAME_MAX).contains(&name.len())
        && name
            .iter()
            .all(|b| matches!(b, b'a'..=b'z' | b'0'..=b'9' | b'_' | b'-'))
}

/// The name of zone `z`, as /proc/zoneinfo spells it (`-` for none; its
/// number when the tool does not know it).
pub fn zone_name(z: u32) -> String {
    name_of(uapi::ZONE_NAMES, z).map_or_else(|| z.to_string(), str::to_string)
}

/// The name of backing `b`: what served an object (`-` for none; its
/// number when the tool does not know it).
pub fn backing_name(b: u32) -> String {
    name_of(uapi::BACKING_NAMES, b).map_or_else(|| b.to_string(), str::to_string)
}

/// The benchmark operations, by the names the tool takes.
pub const OP_NAMES: &[(u32, &str)] = &[
    (KMEMLAB_BENCH_ALLOC_FREE, "alloc"),
    (KMEMLAB_BENCH_PERCPU_INC, "percpu-inc"),
    (KMEMLAB_BENCH_ATOMIC_INC, "atomic-inc"),
];

/// The name of benchmark operation `op`.
pub fn op_name(op: u32) -> &'static str {
    name_of(OP_NAMES, op).unwrap_or("?")
}

/// The feature bit the module reports for each kind.
pub const KIND_FEATURES: &[(u32, u64)] = &[
    (KMEMLAB_KIND_KMALLOC, KMEMLAB_FEAT_KMALLOC),
    (KMEMLAB_KIND_KMEM_CACHE, KMEMLAB_FEAT_KMEM_CACHE),
    (KMEMLAB_KIND_FREE_PAGES, KMEMLAB_FEAT_FREE_PAGES),
    (KMEMLAB_KIND_PAGES_NODE, KMEMLAB_FEAT_PAGES_NODE),
    (KMEMLAB_KIND_VMALLOC, KMEMLAB_FEAT_VMALLOC),
    (KMEMLAB_KIND_DMA_COHERENT, KMEMLAB_FEAT_DMA_COHERENT),
    (KMEMLAB_KIND_IOREMAP, KMEMLAB_FEAT_IOREMAP),
    (KMEMLAB_KIND_PERCPU, KMEMLAB_FEAT_PERCPU),
    (KMEMLAB_KIND_KVMALLOC, KMEMLAB_FEAT_KVMALLOC),
    (KMEMLAB_KIND_MEMPOOL, KMEMLAB_FEAT_MEMPOOL),
    (KMEMLAB_KIND_DMA_POOL, KMEMLAB_FEAT_DMA_POOL),
];

/// The feature bit of kind `k` (0 for an unknown kind).
pub fn kind_feature(k: u32) -> u64 {
    KIND_FEATURES
        .iter()
        .find(|(kind, _)| *kind == k)
        .map_or(0, |(_, bit)| *bit)
}

/// The names of the feature bits set in `bits`, plus any unknown bits as hex.
pub fn feature_names(bits: u64) -> Vec<String> {
    let mut names: Vec<String> = uapi::FEATURE_NAMES
        .iter()
        .filter(|(bit, _)| bits & bit != 0)
        .map(|(_, name)| name.to_string())
        .collect();
    let known = uapi::FEATURE_NAMES
        .iter()
        .fold(0, |acc, (bit, _)| acc | bit);
    if bits & !known != 0 {
        names.push(format!("{:#x}", bits & !known));
    }
    names
}

#[cfg(test)]
mod tests {
    use super::*;

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
        assert_eq!(device_name(7), "7");
        assert_eq!(op_name(KMEMLAB_BENCH_ATOMIC_INC), "atomic-inc");
        assert_eq!(kind_feature(KMEMLAB_KIND_VMALLOC), KMEMLAB_FEAT_VMALLOC);
    }

    #[test]
    fn kvmalloc_is_a_kind_with_its_feature() {
        assert_eq!(kind("kvmalloc").unwrap(), KMEMLAB_KIND_KVMALLOC);
        assert_eq!(kind_name(KMEMLAB_KIND_KVMALLOC), "kvmalloc");
        assert_eq!(kind_feature(KMEMLAB_KIND_KVMALLOC), KMEMLAB_FEAT_KVMALLOC);
        // Every kind of the ABI has its feature bit, each its own.
        for (k, name) in uapi::KIND_NAMES {
            let bit = kind_feature(*k);
            assert_ne!(bit, 0, "{name} has no feature bit");
            assert_eq!(
                uapi::FEATURE_NAMES.iter().find(|(b, _)| *b == bit),
                Some(&(bit, *name)),
                "{name}"
            );
        }
    }

    #[test]
    fn mempool_is_a_kind_with_its_feature_and_sources() {
        assert_eq!(kind("mempool").unwrap(), KMEMLAB_KIND_MEMPOOL);
        assert_eq!(kind_name(KMEMLAB_KIND_MEMPOOL), "mempool");
        assert_eq!(kind_feature(KMEMLAB_KIND_MEMPOOL), KMEMLAB_FEAT_MEMPOOL);
        assert_eq!(feature_names(KMEMLAB_FEAT_MEMPOOL), vec!["mempool"]);
        assert_eq!(pool_source_name(KMEMLAB_MEMPOOL_KMALLOC), "kmalloc");
        assert_eq!(pool_source_name(KMEMLAB_MEMPOOL_CACHE), "cache");
        assert_eq!(pool_source_name(0), "0");
    }

    #[test]
    fn dma_pool_is_a_kind_with_its_feature_and_names() {
        assert_eq!(kind("dma_pool").unwrap(), KMEMLAB_KIND_DMA_POOL);
        assert_eq!(kind_name(KMEMLAB_KIND_DMA_POOL), "dma_pool");
        assert_eq!(kind_feature(KMEMLAB_KIND_DMA_POOL), KMEMLAB_FEAT_DMA_POOL);
        assert_eq!(feature_names(KMEMLAB_FEAT_DMA_POOL), vec!["dma_pool"]);
        for good in ["a", "ring-0", "rx_ring", "0123456789abcdefghij-_z"] {
            assert!(dma_pool_name_ok(good.as_bytes()), "{good}");
        }
        for bad in [
            "",
            "Ring",
            "a b",
            "a.b",
            "kmemlab/x",
            "0123456789abcdefghij-_zz",
        ] {
            assert!(!dma_pool_name_ok(bad.as_bytes()), "{bad}");
        }
    }

    #[test]
    fn zones_and_backings_by_name() {
        assert_eq!(zone_name(KMEMLAB_ZONE_DMA32), "DMA32");
        assert_eq!(zone_name(KMEMLAB_ZONE_NORMAL), "Normal");
        assert_eq!(zone_name(KMEMLAB_ZONE_HIGHMEM), "HighMem");
        assert_eq!(zone_name(KMEMLAB_ZONE_NONE), "-");
        assert_eq!(zone_name(42), "42");
        assert_eq!(backing_name(KMEMLAB_BACKING_SLAB), "slab");
        assert_eq!(backing_name(KMEMLAB_BACKING_PAGES), "pages");
        assert_eq!(backing_name(KMEMLAB_BACKING_VMALLOC), "vmalloc");
        assert_eq!(backing_name(KMEMLAB_BACKING_NONE), "-");
        assert_eq!(backing_name(9), "9");
    }

    #[test]
    fn names_features_and_unknown_bits() {
        assert!(feature_names(0).is_empty());
        assert_eq!(
            feature_names(KMEMLAB_FEAT_KMALLOC | KMEMLAB_FEAT_PERCPU | (1 << 40)),
            vec!["kmalloc", "percpu", "0x10000000000"]
        );
        assert_eq!(
            feature_names(KMEMLAB_FEAT_LIMITS | KMEMLAB_FEAT_EDU),
            vec!["edu", "limits"]
        );
        assert_eq!(
            feature_names(
                KMEMLAB_FEAT_ZONE_DMA32 | KMEMLAB_FEAT_KVMALLOC | KMEMLAB_FEAT_ZONE_DMA | (1 << 21)
            ),
            vec!["kvmalloc", "zone_dma", "zone_dma32", "0x200000"]
        );
    }
}
