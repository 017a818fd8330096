/* SPDX-License-Identifier: GPL-2.0 WITH Linux-syscall-note */
/*
 * kmemlab: the /dev/kmemlab ioctl ABI.
 *
 * This header is the single source of truth for the interface between the
 * kmemlab kernel module and userspace. The module's Rust mirror (rust/uapi.rs)
 * is checked against it field by field by the userspace crate's tests.
 *
 * Conventions:
 * - Every structure is made of fixed-width fields, naturally aligned, with no
 *   implicit padding; reserved fields must be zero on input and are zero on
 *   output.
 * - The device node is root-only (0600).
 * - Errors: ENOTTY for an unknown command, EFAULT for a bad user pointer,
 *   EINVAL for malformed input, ENOENT for an unknown handle, ENOMEM for
 *   allocation failure or an exceeded quota, EPERM for missing privilege.
 */
#ifndef _UAPI_KMEMLAB_H
#define _UAPI_KMEMLAB_H

#include <linux/ioctl.h>
#include <linux/types.h>

#define KMEMLAB_DEVICE		"/dev/kmemlab"
#define KMEMLAB_IOC_MAGIC	0xBB

/* Bumped on any incompatible change to this header. */
#define KMEMLAB_ABI_VERSION	1

/*
 * Feature bits reported by KMEMLAB_IOC_VERSION: one per allocator interface
 * the loaded module can exercise, and one per facility.
 */
#define KMEMLAB_FEAT_KMALLOC		(1ULL << 0)
#define KMEMLAB_FEAT_KMEM_CACHE		(1ULL << 1)
#define KMEMLAB_FEAT_FREE_PAGES		(1ULL << 2)
#define KMEMLAB_FEAT_PAGES_NODE		(1ULL << 3)
#define KMEMLAB_FEAT_VMALLOC		(1ULL << 4)
#define KMEMLAB_FEAT_DMA_COHERENT	(1ULL << 5)
#define KMEMLAB_FEAT_IOREMAP		(1ULL << 6)
#define KMEMLAB_FEAT_PERCPU		(1ULL << 7)
#define KMEMLAB_FEAT_STATS		(1ULL << 16)
#define KMEMLAB_FEAT_BENCH		(1ULL << 17)

/**
 * struct kmemlab_version - KMEMLAB_IOC_VERSION result
 * @abi_version: KMEMLAB_ABI_VERSION of the loaded module
 * @nr_cpus: CPUs online when the call was made
 * @features: KMEMLAB_FEAT_* bits the loaded module supports
 * @nr_nodes: NUMA nodes online when the call was made
 * @reserved: zero
 */
struct kmemlab_version {
	__u32 abi_version;
	__u32 nr_cpus;
	__u64 features;
	__u32 nr_nodes;
	__u32 reserved;
};

#define KMEMLAB_IOC_VERSION	_IOR(KMEMLAB_IOC_MAGIC, 0x00, struct kmemlab_version)

#endif /* _UAPI_KMEMLAB_H */
