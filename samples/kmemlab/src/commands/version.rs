// SPDX-License-Identifier: GPL-2.0

//! `version`: the module's ABI, features, CPUs and nodes, and the limits
//! it enforces.

use serde_json::Value;

use crate::device::{module_limits, DeviceOps};
use crate::error::Result;
use crate::names::feature_names;
use crate::output::{object, Output};
use crate::uapi::*;
use crate::units::human_size;

/// The module's limits for `--json`: every field, in bytes (orders, the
/// page size and the mempool reserve's elements as they are).
pub fn limits_json(l: &KmemlabLimits) -> Value {
    object([
        ("max_objects", Value::from(l.max_objects)),
        ("max_bytes", l.max_bytes.into()),
        ("kmalloc_max", l.kmalloc_max.into()),
        ("cache_object_max", l.cache_object_max.into()),
        ("vmalloc_max", l.vmalloc_max.into()),
        ("dma_max", l.dma_max.into()),
        ("edu_dma_max", l.edu_dma_max.into()),
        ("ioremap_max", l.ioremap_max.into()),
        ("max_order", l.max_order.into()),
        ("page_size", l.page_size.into()),
        ("kvmalloc_max", l.kvmalloc_max.into()),
        ("kvmalloc_kmalloc_max", l.kvmalloc_kmalloc_max.into()),
        ("mempool_reserve_max", l.mempool_reserve_max.into()),
        ("dma_pool_block_max", l.dma_pool_block_max.into()),
    ])
}

/// The module's limits for people, one `name: value` line each.
pub fn limits_lines(l: &KmemlabLimits) -> Vec<String> {
    let bytes = |n: u64| format!("{} ({n})", human_size(n));
    vec![
        format!("max_objects:      {} per open file", l.max_objects),
        format!("max_bytes:        {} per open file", bytes(l.max_bytes)),
        format!("kmalloc_max:      {}", bytes(l.kmalloc_max)),
        format!("cache_object_max: {}", bytes(l.cache_object_max)),
        format!("vmalloc_max:      {}", bytes(l.vmalloc_max)),
        format!("dma_max:          {}", bytes(l.dma_max)),
        format!("edu_dma_max:      {}", bytes(l.edu_dma_max)),
        format!("ioremap_max:      {}", bytes(l.ioremap_max)),
        format!("max_order:        {}", l.max_order),
        format!("page_size:        {}", bytes(l.page_size.into())),
        format!("kvmalloc_max:     {}", bytes(l.kvmalloc_max)),
        // The names longer than the others' column.
        format!(
            "kvmalloc_kmalloc_max: {}; larger kvmalloc sizes: vmalloc",
            bytes(l.kvmalloc_kmalloc_max)
        ),
        format!(
            "mempool_reserve_max: {} elements in a mempool's reserve",
            l.mempool_reserve_max
        ),
        format!(
            "dma_pool_block_max: {} per block of a DMA pool",
            bytes(l.dma_pool_block_max)
        ),
    ]
}

pub(crate) fn version(dev: &dyn DeviceOps) -> Result<Output> {
    let v = dev.version()?;
    let names = feature_names(v.features);
    let shown = if names.is_empty() {
        "(none)".to_string()
    } else {
        names.join(" ")
    };
    let mut text = vec![
        format!("module ABI:  {}", v.abi_version),
        format!("tool ABI:    {}", KMEMLAB_ABI_VERSION),
        format!("features:    {:#x} {shown}", v.features),
        format!("online CPUs: {}", v.nr_cpus),
        format!("NUMA nodes:  {}", v.nr_nodes),
    ];
    let limits = module_limits(dev);
    match &limits {
        Ok(l) => {
            text.push("limits:".into());
            text.extend(limits_lines(l).into_iter().map(|l| format!("  {l}")));
        }
        Err(e) => text.push(format!("limits:      {e}")),
    }
    Ok(Output::new(
        text.join("\n"),
        &[
            ("abi_version", v.abi_version.into()),
            ("tool_abi_version", KMEMLAB_ABI_VERSION.into()),
            ("features", v.features.into()),
            ("feature_names", names.into()),
            ("nr_cpus", v.nr_cpus.into()),
            ("nr_nodes", v.nr_nodes.into()),
            ("limits", limits.as_ref().map_or(Value::Null, limits_json)),
        ],
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::device::fake::{default_limits, FakeDevice, ALL_FEATURES};

    #[test]
    fn version_names_abi_3_features_and_the_newest_limits() {
        let dev = FakeDevice::new(ALL_FEATURES, default_limits());
        let out = version(&dev).unwrap();
        assert!(out.text.contains("tool ABI:    3"), "{}", out.text);
        assert!(
            out.text.contains(
                " percpu edu kvmalloc mempool dma_pool stats bench limits zone_dma zone_dma32\n"
            ),
            "{}",
            out.text
        );
        let names = out.json["feature_names"].as_array().unwrap();
        for name in ["kvmalloc", "mempool", "dma_pool", "zone_dma", "zone_dma32"] {
            assert!(names.iter().any(|n| n == name), "{name}: {names:?}");
        }
        assert_eq!(out.json["features"], ALL_FEATURES);
        let l = &out.json["limits"];
        assert_eq!(l["kvmalloc_max"], 0x7fff_ffff);
        assert_eq!(l["kvmalloc_kmalloc_max"], 4 << 20);
        assert_eq!(l["mempool_reserve_max"], 1024);
        assert_eq!(l["dma_pool_block_max"], 4 << 20);
        // The new limits come last, after the page size, in the ABI's order.
        let keys: Vec<&String> = l.as_object().unwrap().keys().collect();
        assert_eq!(
            keys[keys.len() - 5..],
            [
                "page_size",
                "kvmalloc_max",
                "kvmalloc_kmalloc_max",
                "mempool_reserve_max",
                "dma_pool_block_max"
            ]
        );
        let lines: Vec<&str> = out.text.lines().collect();
        assert_eq!(
            lines[lines.len() - 4..],
            [
                "  kvmalloc_max:     2.00 GiB (2147483647)",
                "  kvmalloc_kmalloc_max: 4 MiB (4194304); larger kvmalloc sizes: vmalloc",
                "  mempool_reserve_max: 1024 elements in a mempool's reserve",
                "  dma_pool_block_max: 4 MiB (4194304) per block of a DMA pool",
            ]
        );
    }

    #[test]
    fn version_without_the_limits_ioctl() {
        let dev = FakeDevice::new(ALL_FEATURES & !KMEMLAB_FEAT_LIMITS, default_limits());
        let out = version(&dev).unwrap();
        assert!(
            out.text.contains("predates KMEMLAB_IOC_LIMITS"),
            "{}",
            out.text
        );
        assert_eq!(out.json["limits"], Value::Null);
        assert!(!dev.calls().contains(&"limits"));
    }
}
