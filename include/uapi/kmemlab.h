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

/*
 * Objects. Every allocation is an object owned by the open file that made it
 * and named by a handle (a positive number, unique within the file). Closing
 * the file frees everything it owns. Objects are always returned initialised:
 * zeroed, or for a cache with a constructor, as the constructor left them.
 */

/* Allocator kinds. */
#define KMEMLAB_KIND_KMALLOC		1	/* kmalloc: size bytes */
#define KMEMLAB_KIND_KMEM_CACHE		2	/* kmem_cache_alloc from the cache handle */
#define KMEMLAB_KIND_FREE_PAGES		3	/* __get_free_pages: 2^order pages */
#define KMEMLAB_KIND_PAGES_NODE		4	/* alloc_pages_node: 2^order pages on node */
#define KMEMLAB_KIND_VMALLOC		5	/* vmalloc: size bytes */

/* GFP request: one base (bits 0-1) and any modifiers. */
#define KMEMLAB_GFP_KERNEL		0x00
#define KMEMLAB_GFP_ATOMIC		0x01
#define KMEMLAB_GFP_NOWAIT		0x02
#define KMEMLAB_GFP_ZERO		0x10
#define KMEMLAB_GFP_NOWARN		0x20
#define KMEMLAB_GFP_ACCOUNT		0x40

#define KMEMLAB_NODE_ANY		(-1)
/* Most objects one KMEMLAB_IOC_ALLOC or KMEMLAB_IOC_FREE call handles. */
#define KMEMLAB_BATCH_MAX		1024

/**
 * struct kmemlab_alloc - KMEMLAB_IOC_ALLOC: create @count objects
 * @kind: KMEMLAB_KIND_*
 * @gfp: KMEMLAB_GFP_*; vmalloc takes KERNEL only (+ZERO; NOWARN is accepted
 *       and has no effect); ACCOUNT with ATOMIC or NOWAIT is refused for kmalloc
 * @size: bytes, for KMALLOC (1 to KMALLOC_MAX_SIZE) and VMALLOC (1 to 1 GiB);
 *        must be 0 otherwise
 * @order: for FREE_PAGES and PAGES_NODE (0 to MAX_PAGE_ORDER); must be 0 otherwise
 * @node: KMEMLAB_NODE_ANY or an online node (not for FREE_PAGES)
 * @cache: for KMEM_CACHE, the cache's handle; must be 0 otherwise
 * @count: objects to create, 1 to KMEMLAB_BATCH_MAX: all are created or none
 * @handles: user pointer to a __u32[@count] that receives the new handles
 *
 * Errors: EINVAL (bad kind, flags, size, order, node, count, or a field that
 * must be 0), ENOENT (unknown cache handle), EFAULT (@handles), ENOMEM
 * (allocation failure, or the file's quota of objects or bytes exceeded).
 */
struct kmemlab_alloc {
	__u32 kind;
	__u32 gfp;
	__u64 size;
	__u32 order;
	__s32 node;
	__u32 cache;
	__u32 count;
	__u64 handles;
};

/* Free every object of the file (caches stay); @count and @handles must be 0. */
#define KMEMLAB_FREE_ALL		0x1

/**
 * struct kmemlab_free - KMEMLAB_IOC_FREE: free objects
 * @flags: 0 or KMEMLAB_FREE_ALL
 * @count: number of handles, 1 to KMEMLAB_BATCH_MAX
 * @handles: user pointer to a __u32[@count]
 *
 * All handles are checked first: with one unknown (ENOENT) or repeated
 * (EINVAL), nothing is freed.
 */
struct kmemlab_free {
	__u32 flags;
	__u32 count;
	__u64 handles;
};

/**
 * struct kmemlab_io - KMEMLAB_IOC_WRITE, _READ, _FILL, _VERIFY
 * @handle: the object
 * @reserved: zero
 * @offset: first byte of the object to touch
 * @len: bytes; @offset + @len must not pass the end of the object
 * @addr: WRITE/READ: user buffer of @len bytes; FILL/VERIFY: the pattern seed
 * @result: VERIFY: offset of the first byte that differs from the pattern,
 *          or ~0ULL when all match (out)
 *
 * The pattern byte at object offset i is kmemlab_pattern_byte(seed, i), so a
 * fill and a verify of any sub-ranges agree. Errors: ENOENT (handle), EINVAL
 * (range, reserved), EFAULT (@addr for WRITE/READ; a WRITE that faults
 * leaves the object unchanged), ENOMEM (WRITE's bounce buffer).
 */
struct kmemlab_io {
	__u32 handle;
	__u32 reserved;
	__u64 offset;
	__u64 len;
	__u64 addr;
	__u64 result;
};

/**
 * struct kmemlab_info - KMEMLAB_IOC_INFO: describe an object
 * @handle: the object (in)
 * @kind: KMEMLAB_KIND_*
 * @size: usable bytes
 * @order: page order (page kinds), else 0
 * @node: the node asked for, or KMEMLAB_NODE_ANY
 * @nid: the node the memory is on (the first page, for vmalloc)
 * @cpu: the CPU the allocation was made on
 * @cache: the cache handle (KMEM_CACHE), else 0
 * @gfp: the KMEMLAB_GFP_* request
 */
struct kmemlab_info {
	__u32 handle;
	__u32 kind;
	__u64 size;
	__u32 order;
	__s32 node;
	__s32 nid;
	__u32 cpu;
	__u32 cache;
	__u32 gfp;
};

/**
 * struct kmemlab_list - KMEMLAB_IOC_LIST: describe every object of the file
 * @count: in: room in @infos; out: the number of objects (may be larger)
 * @reserved: zero
 * @infos: user pointer to a struct kmemlab_info[@count], filled in handle order
 */
struct kmemlab_list {
	__u32 count;
	__u32 reserved;
	__u64 infos;
};

/* Slab caches: named "kmemlab-<name>", owned by the file like objects. */
#define KMEMLAB_CACHE_NAME_MAX		24	/* with the NUL */
#define KMEMLAB_CACHE_HWCACHE_ALIGN	0x1
/* A constructor writes KMEMLAB_CTOR_MAGIC (native endian) at the start of each object. */
#define KMEMLAB_CACHE_CTOR		0x2
#define KMEMLAB_CTOR_MAGIC		0x6b6d656d6c616263ULL

/**
 * struct kmemlab_cache_create - KMEMLAB_IOC_CACHE_CREATE
 * @name: NUL-terminated, 1 to 23 of [a-z0-9_-]
 * @object_size: 1 to KMALLOC_MAX_SIZE / 2 (8 or more with KMEMLAB_CACHE_CTOR)
 * @align: 0 or a power of two up to the page size
 * @flags: KMEMLAB_CACHE_*
 * @handle: the new cache's handle (out)
 *
 * Errors: EINVAL, EEXIST (a kmemlab cache of that name exists), ENOMEM
 * (failure, or the file's quota: caches count as objects).
 */
struct kmemlab_cache_create {
	char name[KMEMLAB_CACHE_NAME_MAX];
	__u32 object_size;
	__u32 align;
	__u32 flags;
	__u32 handle;
};

/**
 * struct kmemlab_cache_destroy - KMEMLAB_IOC_CACHE_DESTROY
 * @handle: the cache
 * @reserved: zero
 *
 * Errors: ENOENT (unknown cache), EBUSY (the cache still has objects).
 */
struct kmemlab_cache_destroy {
	__u32 handle;
	__u32 reserved;
};

#define KMEMLAB_IOC_ALLOC		_IOW(KMEMLAB_IOC_MAGIC, 0x10, struct kmemlab_alloc)
#define KMEMLAB_IOC_FREE		_IOW(KMEMLAB_IOC_MAGIC, 0x11, struct kmemlab_free)
#define KMEMLAB_IOC_WRITE		_IOW(KMEMLAB_IOC_MAGIC, 0x12, struct kmemlab_io)
#define KMEMLAB_IOC_READ		_IOW(KMEMLAB_IOC_MAGIC, 0x13, struct kmemlab_io)
#define KMEMLAB_IOC_FILL		_IOW(KMEMLAB_IOC_MAGIC, 0x14, struct kmemlab_io)
#define KMEMLAB_IOC_VERIFY		_IOWR(KMEMLAB_IOC_MAGIC, 0x15, struct kmemlab_io)
#define KMEMLAB_IOC_INFO		_IOWR(KMEMLAB_IOC_MAGIC, 0x16, struct kmemlab_info)
#define KMEMLAB_IOC_LIST		_IOWR(KMEMLAB_IOC_MAGIC, 0x17, struct kmemlab_list)
#define KMEMLAB_IOC_CACHE_CREATE	_IOWR(KMEMLAB_IOC_MAGIC, 0x18, struct kmemlab_cache_create)
#define KMEMLAB_IOC_CACHE_DESTROY	_IOW(KMEMLAB_IOC_MAGIC, 0x19, struct kmemlab_cache_destroy)

/*
 * The fill pattern: byte @offset of an object filled with @seed. A
 * SplitMix64 step over each 8-byte group, so any sub-range can be checked.
 */
static inline __u8 kmemlab_pattern_byte(__u64 seed, __u64 offset)
{
	__u64 x = seed + (offset >> 3) * 0x9e3779b97f4a7c15ULL;

	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
	x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
	x ^= x >> 31;
	return (__u8)(x >> ((offset & 7) * 8));
}

#endif /* _UAPI_KMEMLAB_H */
