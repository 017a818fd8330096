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
 *   allocation failure or an exceeded quota, EPERM for missing privilege,
 *   ENODEV for a device that is not there (or for a DMA buffer or register
 *   mapping whose device has unbound since: unbinding frees them, and every
 *   command but FREE and INFO on such a handle answers ENODEV). Each command
 *   lists its own; any
 *   command may also fail with ENOMEM when kmemlab cannot allocate its own
 *   bookkeeping (a copy of a handle list, a bounce buffer), and then changes
 *   nothing.
 */
#ifndef _UAPI_KMEMLAB_H
#define _UAPI_KMEMLAB_H

#include <linux/ioctl.h>
#include <linux/types.h>

#define KMEMLAB_DEVICE		"/dev/kmemlab"
#define KMEMLAB_IOC_MAGIC	0xBB

/*
 * Bumped on any incompatible change to this header. 2: struct kmemlab_bench
 * rewritten (every allocator, raw-C baseline, batches, threads, cycles).
 * 3: struct kmemlab_info reports the zone and what served the memory
 * (@zone, @backing); struct kmemlab_limits reports kvmalloc's sizes.
 */
#define KMEMLAB_ABI_VERSION	3

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
/* QEMU's edu device is bound: DMA_COHERENT on KMEMLAB_DEV_EDU, DMA_COPY, IOREMAP of its BAR0. */
#define KMEMLAB_FEAT_EDU		(1ULL << 8)
#define KMEMLAB_FEAT_KVMALLOC		(1ULL << 9)
#define KMEMLAB_FEAT_MEMPOOL		(1ULL << 10)
#define KMEMLAB_FEAT_DMA_POOL		(1ULL << 11)
#define KMEMLAB_FEAT_STATS		(1ULL << 16)
#define KMEMLAB_FEAT_BENCH		(1ULL << 17)
#define KMEMLAB_FEAT_LIMITS		(1ULL << 18)
/*
 * The kernel has the DMA (ZONE_DMA: the first 16 MiB on x86) and DMA32
 * (ZONE_DMA32: below 4 GiB) zones, so KMEMLAB_GFP_DMA, KMEMLAB_GFP_DMA32 and
 * the KMEMLAB_CACHE_DMA* flags are honoured (EINVAL without them).
 */
#define KMEMLAB_FEAT_ZONE_DMA		(1ULL << 19)
#define KMEMLAB_FEAT_ZONE_DMA32		(1ULL << 20)

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

/**
 * struct kmemlab_limits - KMEMLAB_IOC_LIMITS result (KMEMLAB_FEAT_LIMITS)
 *
 * What the loaded module enforces, so that tools never assume defaults: the
 * per-file quota it was loaded with (its max_objects and max_bytes
 * parameters) and the size limits of the kernel it was built for. Each size
 * limit is also capped by the quota's max_bytes.
 *
 * @max_objects: objects (caches and mempools included) one open file may hold at once;
 *	ALLOC or CACHE_CREATE beyond it fails with ENOMEM
 * @max_bytes: bytes one open file may hold at once; ENOMEM beyond it
 * @kmalloc_max: largest KMALLOC size (the kernel's KMALLOC_MAX_SIZE)
 * @cache_object_max: largest CACHE_CREATE object_size
 * @vmalloc_max: largest VMALLOC size
 * @dma_max: largest DMA_COHERENT size (either device; PAGE_SIZE << max_order)
 * @edu_dma_max: largest DMA_COPY length (KMEMLAB_EDU_DMA_MAX; reported
 *	whether or not edu is bound)
 * @ioremap_max: largest IOREMAP PHYS size (KMEMLAB_IOREMAP_MAX)
 * @max_order: largest FREE_PAGES and PAGES_NODE order (MAX_PAGE_ORDER)
 * @page_size: the kernel's PAGE_SIZE
 * @kvmalloc_max: largest KVMALLOC size (INT_MAX: kvmalloc refuses more)
 * @mempool_reserve_max: the most elements a mempool may keep in reserve
 *	(KMEMLAB_MEMPOOL_RESERVE_MAX; the reserve's bytes count against
 *	max_bytes too)
 * @kvmalloc_kmalloc_max: the largest KVMALLOC size kmalloc may serve
 *	(KMALLOC_MAX_SIZE): sizes up to PAGE_SIZE always come from kmalloc
 *	(kvmalloc never falls back for them), sizes above this one always
 *	from vmalloc, and sizes in between from kmalloc when the page
 *	allocator has the contiguous block at hand without direct reclaim
 *	(with RETRY_MAYFAIL: after reclaim), else from vmalloc (struct
 *	kmemlab_info's @backing tells which)
 * @dma_pool_block_max: largest DMA_POOL_CREATE block @size (PAGE_SIZE <<
 *	MAX_PAGE_ORDER, as @dma_max: a block larger than a page takes a
 *	coherent allocation of its own)
 */
struct kmemlab_limits {
	__u64 max_objects;
	__u64 max_bytes;
	__u64 kmalloc_max;
	__u64 cache_object_max;
	__u64 vmalloc_max;
	__u64 dma_max;
	__u64 edu_dma_max;
	__u64 ioremap_max;
	__u32 max_order;
	__u32 page_size;
	__u64 kvmalloc_max;
	__u64 kvmalloc_kmalloc_max;
	__u64 mempool_reserve_max;
	__u64 dma_pool_block_max;
};

#define KMEMLAB_IOC_LIMITS	_IOR(KMEMLAB_IOC_MAGIC, 0x01, struct kmemlab_limits)

/*
 * Objects. Every allocation is an object owned by the open file that made it
 * and named by a handle (a positive number, unique within the file and never
 * reused by it; caches take their handles from the same counter). Closing
 * the file frees everything it owns. Objects are always returned initialised:
 * zeroed, or for a cache with a constructor, the constructor's 8-byte mark
 * followed by zeroes.
 */

/* Allocator kinds. */
#define KMEMLAB_KIND_KMALLOC		1	/* kmalloc: size bytes */
#define KMEMLAB_KIND_KMEM_CACHE		2	/* kmem_cache_alloc from the cache handle */
#define KMEMLAB_KIND_FREE_PAGES		3	/* __get_free_pages: 2^order pages */
#define KMEMLAB_KIND_PAGES_NODE		4	/* alloc_pages_node: 2^order pages on node */
#define KMEMLAB_KIND_VMALLOC		5	/* vmalloc: size bytes */
#define KMEMLAB_KIND_DMA_COHERENT	6	/* dma_alloc_coherent: size bytes for a device */
#define KMEMLAB_KIND_IOREMAP		7	/* ioremap: made by KMEMLAB_IOC_IOREMAP only */
#define KMEMLAB_KIND_PERCPU		8	/* alloc_percpu: one __u64 counter per CPU */
#define KMEMLAB_KIND_KVMALLOC		9	/* kvmalloc_node: size bytes, kmalloc or vmalloc */
#define KMEMLAB_KIND_MEMPOOL		10	/* mempool_alloc from the mempool handle */
#define KMEMLAB_KIND_DMA_POOL		11	/* dma_pool_alloc from the DMA pool handle */

/*
 * Devices kmemlab allocates DMA_COHERENT buffers for. FAUX is kmemlab's own
 * faux device ("kmemlab", /sys/bus/faux/devices/kmemlab): always there, 64-bit
 * coherent mask, no DMA engine. EDU is QEMU's edu PCI device (1234:11e8), bound
 * by kmemlab when present (KMEMLAB_FEAT_EDU): 28-bit DMA mask and a DMA engine
 * (KMEMLAB_IOC_DMA_COPY).
 */
#define KMEMLAB_DEV_FAUX		1
#define KMEMLAB_DEV_EDU			2

/*
 * GFP request: one base (bits 0-3) and any modifiers. Each kind takes the
 * choices the kernel allows for its interface and refuses the others with
 * EINVAL before calling the allocator (table below). Everywhere: DMA with
 * DMA32, DMA or DMA32 with a HIGHUSER base (zone combinations the kernel
 * has no zone for), NORETRY with RETRY_MAYFAIL, and THISNODE without a
 * @node are EINVAL.
 *
 *              KERNEL ATOMIC  USER  HIGHUSER  ZERO NOWARN ACCOUNT  DMA   THISNODE
 *              NOWAIT NOIO    NOFS  _MOVABLE            NORETRY   DMA32 RETRY_MAYFAIL
 * KMALLOC        y      y      y       -       y    y      y     DMA     y     y
 * KMEM_CACHE     y      y      y       -       y    y      y      -      y     y
 * FREE_PAGES     y      y      y       -       y    y      y     both    -     y
 * PAGES_NODE     y      y      y       y       y    y      y     both    y     y
 * VMALLOC      KERNEL   -      -       -       y    y      -      -      -     -
 * DMA_COHERENT KERNEL ATOMIC   -       -       y    y      -      -      -     -
 *              NOWAIT
 * PERCPU       KERNEL   -      -       -       -    -      -      -      -     -
 * KVMALLOC       y      y      y       -       y    y      y     DMA     y     y
 * MEMPOOL      ATOMIC   -      -       -       -    NOWARN -      -      -     -
 *              NOWAIT
 * DMA_POOL       y      y      y       -       y    y   NORETRY   -      -     y
 * IOREMAP      (no GFP bits)
 *
 * Why the refusals:
 * - HIGHUSER for slab memory (KMALLOC, KMEM_CACHE, KVMALLOC) and DMA32 for
 *   kmalloc and kvmalloc: __GFP_HIGHMEM and __GFP_DMA32 are in the
 *   kernel's GFP_SLAB_BUG_MASK (the slab allocator WARNs and strips them).
 * - DMA or DMA32 for KMEM_CACHE: a cache's zone is the cache's, chosen at
 *   creation (KMEMLAB_CACHE_DMA, KMEMLAB_CACHE_DMA32).
 * - HIGHUSER for FREE_PAGES: __get_free_pages() returns a linear-map
 *   address and silently drops __GFP_HIGHMEM; PAGES_NODE takes it (kmemlab
 *   reaches those pages through kmap_local_page()).
 * - THISNODE for FREE_PAGES, DMA_COHERENT, PERCPU: no @node to stay on;
 *   for VMALLOC see below.
 * - VMALLOC: kmemlab's VMALLOC is vzalloc_node(), GFP_KERNEL (the vmalloc
 *   call that takes both a mask and a node is exported only to the kernel's
 *   vmalloc test module); KVMALLOC exercises vmalloc with the other bases.
 * - DMA_COHERENT: the device's DMA mask chooses the zone
 *   (dma_alloc_attrs() strips the zone bits); NOIO, NOFS, USER, ACCOUNT,
 *   NORETRY and RETRY_MAYFAIL cannot be given to the kernel crate's
 *   coherent allocation, whose kernel::alloc::Flags has none of them.
 * - PERCPU: alloc_percpu() allocates with GFP_KERNEL.
 * - MEMPOOL: with a mask that may sleep, mempool_alloc() waits, without a
 *   limit and uninterruptibly, for an element to come back once its reserve
 *   is empty; kmemlab's call would wait holding the file's lock, which the
 *   free it waits for needs. ZERO: mempool_alloc() cannot zero reserve
 *   elements and WARNs (kmemlab zeroes every element anyway). The mempool
 *   sets NORETRY and NOWARN itself for the allocator's first try.
 * - DMA_POOL: a block comes from a page the pool already has, or from a new
 *   one (a kmalloc'd header and a dma_alloc_coherent() block, both with the
 *   mask): HIGHUSER as for slab memory; DMA and DMA32 as for DMA_COHERENT
 *   (the device's mask chooses the zone); ACCOUNT: coherent memory is not
 *   charged, and the pool's pages are shared by every block; THISNODE: no
 *   @node (the pool's pages go where the device's coherent memory goes).
 *
 * HIGHUSER_MOVABLE promises pages the kernel can migrate; kmemlab's cannot
 * be: while a file holds them they may keep a ZONE_MOVABLE range from being
 * offlined and a CMA area from being allocated. A lab's choice, not a
 * driver's.
 */
#define KMEMLAB_GFP_BASE_MASK		0x0f
#define KMEMLAB_GFP_KERNEL		0x00
#define KMEMLAB_GFP_ATOMIC		0x01
#define KMEMLAB_GFP_NOWAIT		0x02
#define KMEMLAB_GFP_NOIO		0x03	/* GFP_NOIO: may sleep, no I/O */
#define KMEMLAB_GFP_NOFS		0x04	/* GFP_NOFS: may sleep, no filesystem calls */
#define KMEMLAB_GFP_USER		0x05	/* GFP_USER: for userspace, cpuset-bound */
#define KMEMLAB_GFP_HIGHUSER		0x06	/* GFP_HIGHUSER: GFP_USER, highmem allowed */
/* GFP_HIGHUSER_MOVABLE: also movable (ZONE_MOVABLE when the kernel has one). */
#define KMEMLAB_GFP_HIGHUSER_MOVABLE	0x07
#define KMEMLAB_GFP_ZERO		0x10
#define KMEMLAB_GFP_NOWARN		0x20
#define KMEMLAB_GFP_ACCOUNT		0x40
/* __GFP_NORETRY: fail rather than reclaim hard or call the OOM killer. */
#define KMEMLAB_GFP_NORETRY		0x80
#define KMEMLAB_GFP_DMA			0x100	/* __GFP_DMA: from ZONE_DMA */
#define KMEMLAB_GFP_DMA32		0x200	/* __GFP_DMA32: from ZONE_DMA32 or below */
#define KMEMLAB_GFP_THISNODE		0x400	/* __GFP_THISNODE: @node or fail */
/* __GFP_RETRY_MAYFAIL: try hard, but fail rather than call the OOM killer. */
#define KMEMLAB_GFP_RETRY_MAYFAIL	0x800

#define KMEMLAB_NODE_ANY		(-1)
/* Most objects one KMEMLAB_IOC_ALLOC or KMEMLAB_IOC_FREE call handles. */
#define KMEMLAB_BATCH_MAX		1024

/**
 * struct kmemlab_alloc - KMEMLAB_IOC_ALLOC: create @count objects
 * @kind: KMEMLAB_KIND_*
 * @gfp: KMEMLAB_GFP_*, as the table above allows for @kind (VMALLOC's
 *       NOWARN is accepted and has no effect); and not ZERO for a cache
 *       with a constructor (EINVAL: the slab allocator forbids zeroing
 *       constructed objects; kmemlab zeroes all but the mark)
 * @size: bytes, for KMALLOC (1 to KMALLOC_MAX_SIZE), VMALLOC (1 to 1 GiB),
 *        DMA_COHERENT (1 to PAGE_SIZE << MAX_PAGE_ORDER) and KVMALLOC (1 to
 *        INT_MAX); must be 0 otherwise
 * @order: for FREE_PAGES and PAGES_NODE (0 to MAX_PAGE_ORDER); must be 0 otherwise
 * @node: KMEMLAB_NODE_ANY or an online node; must be KMEMLAB_NODE_ANY for
 *        FREE_PAGES, DMA_COHERENT and PERCPU, which place memory themselves.
 *        A node is a preference, unless @gfp has THISNODE
 * @cache: for KMEM_CACHE, the cache's handle; for MEMPOOL, the mempool's;
 *         for DMA_POOL, the DMA pool's
 * @device: for DMA_COHERENT, the KMEMLAB_DEV_* to allocate for
 *          (@cache and @device share their bytes; 0 for other kinds)
 * @count: objects to create, 1 to KMEMLAB_BATCH_MAX: all are created or none
 * @handles: user pointer to a __u32[@count] that receives the new handles
 *
 * A PERCPU object is one __u64 counter per possible CPU, all zero; it counts
 * 8 bytes per possible CPU against the quota. KMEMLAB_KIND_IOREMAP is refused
 * here (EINVAL): KMEMLAB_IOC_IOREMAP makes those objects.
 *
 * Errors: EINVAL (bad kind, flags, size, order, node, count, device, or a
 * field that must be 0), ENOENT (unknown cache, mempool or DMA pool handle),
 * ENODEV (the device is not bound; for DMA_POOL, the pool's device unbound
 * since the pool was made), EFAULT (@handles: the objects made are freed
 * again, their handles are not given out again, and part of the array may
 * have been written), ENOMEM (allocation failure, or the file's quota of
 * objects or bytes exceeded), EIO (a DMA buffer came back above the
 * device's DMA mask; it is freed again: never seen, a safety check).
 */
struct kmemlab_alloc {
	__u32 kind;
	__u32 gfp;
	__u64 size;
	__u32 order;
	__s32 node;
	union {
		__u32 cache;
		__u32 device;
	};
	__u32 count;
	__u64 handles;
};

/* Free every object of the file (caches and mempools stay); @count and @handles must be 0. */
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
 * fill and a verify of any sub-ranges agree. IOREMAP and PERCPU objects have
 * no byte contents: use KMEMLAB_IOC_MMIO and KMEMLAB_IOC_PERCPU (EINVAL here).
 * Errors: ENOENT (handle), EINVAL (range, reserved, kind), EFAULT (@addr for WRITE/READ; a WRITE that faults
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

/* The zone memory lies in (the kernel's enum zone_type, by name). */
#define KMEMLAB_ZONE_NONE		0
#define KMEMLAB_ZONE_DMA		1
#define KMEMLAB_ZONE_DMA32		2
#define KMEMLAB_ZONE_NORMAL		3
#define KMEMLAB_ZONE_HIGHMEM		4
#define KMEMLAB_ZONE_MOVABLE		5
#define KMEMLAB_ZONE_DEVICE		6

/* What served an object's memory. */
#define KMEMLAB_BACKING_NONE		0	/* not RAM of one allocator (IOREMAP, PERCPU) */
#define KMEMLAB_BACKING_SLAB		1	/* a slab cache's object */
#define KMEMLAB_BACKING_PAGES		2	/* a block of pages from the page allocator */
#define KMEMLAB_BACKING_VMALLOC		3	/* pages mapped into the vmalloc area */

/**
 * struct kmemlab_info - KMEMLAB_IOC_INFO: describe an object
 * @handle: the object (in)
 * @kind: KMEMLAB_KIND_*
 * @size: usable bytes (PERCPU: bytes per CPU; IOREMAP: bytes mapped)
 * @order: page order (page kinds), else 0
 * @node: the node asked for, or KMEMLAB_NODE_ANY
 * @nid: the node the memory is on (the first page, for vmalloc), or -1 when
 *       it is not RAM on one node (IOREMAP, PERCPU)
 * @cpu: the CPU the allocation was made on
 * @cache: the cache handle (KMEM_CACHE), the mempool handle (MEMPOOL), the
 *         DMA pool handle (DMA_POOL), the KMEMLAB_DEV_* (DMA_COHERENT),
 *         the KMEMLAB_IOREMAP_* source (IOREMAP), else 0
 * @gfp: the KMEMLAB_GFP_* request
 * @zone: KMEMLAB_ZONE_*: the zone of the memory (its first page), or
 *        KMEMLAB_ZONE_NONE when it is not RAM in one zone (IOREMAP, PERCPU)
 * @backing: KMEMLAB_BACKING_*: what served the memory (for KMALLOC and
 *           KVMALLOC this depends on the size and, for KVMALLOC, on what
 *           the page allocator had at hand)
 *
 * No address of any kind (virtual, physical or bus) is ever reported.
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
	__u32 zone;
	__u32 backing;
};

/**
 * struct kmemlab_list - KMEMLAB_IOC_LIST: describe every object of the file
 *                       (caches are not objects: they are not listed)
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
/* SLAB_CACHE_DMA: objects from ZONE_DMA (KMEMLAB_FEAT_ZONE_DMA). */
#define KMEMLAB_CACHE_DMA		0x4
/* SLAB_CACHE_DMA32: objects from ZONE_DMA32 (KMEMLAB_FEAT_ZONE_DMA32). */
#define KMEMLAB_CACHE_DMA32		0x8

/**
 * struct kmemlab_cache_create - KMEMLAB_IOC_CACHE_CREATE
 * @name: NUL-terminated, 1 to 23 of [a-z0-9_-]
 * @object_size: 1 to KMALLOC_MAX_SIZE / 2 (8 or more with KMEMLAB_CACHE_CTOR)
 * @align: 0 or a power of two up to the page size
 * @flags: KMEMLAB_CACHE_*; not both DMA and DMA32
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
 * Errors: ENOENT (unknown cache), EBUSY (the cache still has objects, or a
 * mempool takes its elements from it).
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

/* Where KMEMLAB_IOC_IOREMAP maps from. */
#define KMEMLAB_IOREMAP_EDU		1	/* edu's BAR0 register block */
#define KMEMLAB_IOREMAP_PHYS		2	/* an explicit physical range */
/* Bytes of edu's BAR0 that KMEMLAB_IOREMAP_EDU maps: the registers below its DMA engine. */
#define KMEMLAB_EDU_REGS_SIZE		0x80
/* Most bytes one KMEMLAB_IOREMAP_PHYS mapping may cover. */
#define KMEMLAB_IOREMAP_MAX		(16 << 20)

/**
 * struct kmemlab_ioremap - KMEMLAB_IOC_IOREMAP: map device memory as an object
 * @source: KMEMLAB_IOREMAP_*
 * @handle: the new object's handle (out)
 * @phys: PHYS: first physical address, a multiple of 4; EDU: 0
 * @size: PHYS: bytes, a multiple of 4, 4 to KMEMLAB_IOREMAP_MAX; EDU: 0 (the
 *        whole register block, KMEMLAB_EDU_REGS_SIZE bytes)
 *
 * The object (KMEMLAB_KIND_IOREMAP) is read and written with KMEMLAB_IOC_MMIO
 * and unmapped when freed. Through an EDU mapping only the liveness (0x04) and
 * factorial (0x08) registers are writable: the interrupt and status registers
 * belong to kmemlab's driver. Unbinding edu unmaps its registers at once:
 * MMIO on an EDU mapping then answers ENODEV (FREE still succeeds).
 * A PHYS mapping needs CAP_SYS_RAWIO and a kernel that is not locked down,
 * and is refused for any range that is or overlaps System RAM, or that is
 * claimed (a busy range in /proc/iomem: edu's BAR0, which kmemlab's driver
 * claims, or another kmemlab PHYS mapping). While mapped, the range is
 * claimed as "kmemlab" in /proc/iomem, so no driver can claim it until the
 * object is freed. A refused request leaves no mapping behind. Checks run in
 * the order of the errors below.
 *
 * Errors: EINVAL (source, alignment, size, overflow, a range beyond the
 * physical address space, a field that must be 0), ENODEV (EDU: the device
 * is not bound), EPERM (PHYS without CAP_SYS_RAWIO, or kernel lockdown),
 * EACCES (the range overlaps System RAM), EBUSY (the range cannot be
 * claimed: it overlaps a claimed one, or straddles the edge of a device's
 * resource in /proc/iomem), ENOMEM (ioremap failed, or the file's quota is
 * exceeded), EFAULT.
 */
struct kmemlab_ioremap {
	__u32 source;
	__u32 handle;
	__u64 phys;
	__u64 size;
};

#define KMEMLAB_MMIO_READ		0
#define KMEMLAB_MMIO_WRITE		1

/**
 * struct kmemlab_mmio - KMEMLAB_IOC_MMIO: one access to an IOREMAP object
 * @handle: the object
 * @op: KMEMLAB_MMIO_READ or KMEMLAB_MMIO_WRITE
 * @width: bytes: 1, 2, 4 or 8 (readb/readw/readl/readq and their writes)
 * @reserved: zero
 * @offset: byte offset in the mapping; the address (the mapping's physical
 *          start + @offset) must be a multiple of @width
 * @value: WRITE: the value (in, its low @width bytes); READ: the value read (out)
 *
 * Errors: ENOENT (handle), EINVAL (not an IOREMAP object, op, width,
 * unaligned address, @offset + @width past the end, bits of @value above
 * @width, reserved), EACCES (a register kmemlab keeps read-only).
 */
struct kmemlab_mmio {
	__u32 handle;
	__u32 op;
	__u32 width;
	__u32 reserved;
	__u64 offset;
	__u64 value;
};

/* The edu device's DMA engine moves at most this many bytes at once (its buffer). */
#define KMEMLAB_EDU_DMA_MAX		4096

/**
 * struct kmemlab_dma_copy - KMEMLAB_IOC_DMA_COPY: a device DMA round trip
 * @src: a DMA_COHERENT object of KMEMLAB_DEV_EDU, or a DMA_POOL block of a
 *       pool made for edu
 * @dst: another such object
 * @src_offset: first byte of @src to send
 * @dst_offset: first byte of @dst to receive
 * @len: bytes, 1 to KMEMLAB_EDU_DMA_MAX, within both objects
 *
 * The edu DMA engine copies @len bytes from @src (RAM) into its own buffer,
 * then from its buffer into @dst (RAM); the call returns when both transfers
 * are done. The CPU does not touch the bytes.
 *
 * Errors: ENOENT (handle), EINVAL (not edu DMA objects, @src == @dst, range),
 * ENODEV (edu is not bound, the buffers were made for an earlier binding of
 * it, edu unbound during the copy, or its engine is out of service), ETIMEDOUT (the engine did not finish:
 * kmemlab stops edu from mastering the bus, so a late transfer cannot land,
 * and its engine is out of service until edu is bound again; the other edu
 * commands and KMEMLAB_FEAT_EDU are not affected), EFAULT.
 */
struct kmemlab_dma_copy {
	__u32 src;
	__u32 dst;
	__u64 src_offset;
	__u64 dst_offset;
	__u64 len;
};

#define KMEMLAB_PERCPU_ADD		0	/* add @value on the CPU the call runs on */
#define KMEMLAB_PERCPU_ADD_ON		1	/* add @value on @cpu, running there */
#define KMEMLAB_PERCPU_READ		2	/* read every CPU's value and the sum */

/**
 * struct kmemlab_percpu - KMEMLAB_IOC_PERCPU: use a PERCPU counter object
 * @handle: the object
 * @op: KMEMLAB_PERCPU_*
 * @cpu: ADD: the CPU the add ran on (out); ADD_ON: the CPU to run on (in,
 *       returned unchanged); READ: 0
 * @count: READ: in, room in @values; out, the number of CPU ids (nr_cpu_ids);
 *         otherwise 0
 * @value: ADD, ADD_ON: the amount (the counter wraps modulo 2^64); READ: 0
 * @sum: READ: the sum over every possible CPU (out, modulo 2^64, also when
 *       @count is 0); ADD: 0 (out); ignored on input
 * @values: READ: user pointer to a __u64[@count], filled by CPU id (CPUs that
 *          are not possible read 0); may be 0 when @count is 0; otherwise 0
 *
 * ADD_ON writes nothing back. An ADD whose reply cannot be written (EFAULT)
 * takes the amount back off the CPU it went to.
 *
 * Errors: ENOENT (handle), EINVAL (not a PERCPU object, op, a CPU that is not
 * possible, a field that must be 0), ENXIO (ADD_ON: the CPU is offline), EFAULT.
 */
struct kmemlab_percpu {
	__u32 handle;
	__u32 op;
	__u32 cpu;
	__u32 count;
	__u64 value;
	__u64 sum;
	__u64 values;
};

#define KMEMLAB_IOC_IOREMAP		_IOWR(KMEMLAB_IOC_MAGIC, 0x1a, struct kmemlab_ioremap)
#define KMEMLAB_IOC_MMIO		_IOWR(KMEMLAB_IOC_MAGIC, 0x1b, struct kmemlab_mmio)
#define KMEMLAB_IOC_DMA_COPY		_IOW(KMEMLAB_IOC_MAGIC, 0x1c, struct kmemlab_dma_copy)
#define KMEMLAB_IOC_PERCPU		_IOWR(KMEMLAB_IOC_MAGIC, 0x1d, struct kmemlab_percpu)

/*
 * Mempools: a reserve of elements that keeps allocations succeeding when
 * the allocator under it fails (mempool_create_kmalloc_pool() or
 * mempool_create_slab_pool() over one of the file's caches). Owned by the
 * file like caches, named by a handle from the same counter, counted as an
 * object against max_objects, and its reserve's bytes (min_nr elements)
 * against max_bytes. MEMPOOL objects are its elements: ALLOC with @cache
 * the mempool's handle and @size, @order 0 and @node KMEMLAB_NODE_ANY.
 */
#define KMEMLAB_MEMPOOL_CREATE		0
#define KMEMLAB_MEMPOOL_DESTROY		1
#define KMEMLAB_MEMPOOL_STATUS		2
#define KMEMLAB_MEMPOOL_KMALLOC		1	/* elements kmalloc'd, @size bytes each */
#define KMEMLAB_MEMPOOL_CACHE		2	/* elements from the cache @cache */
#define KMEMLAB_MEMPOOL_RESERVE_MAX	1024

/**
 * struct kmemlab_mempool - KMEMLAB_IOC_MEMPOOL: create, destroy or look at a mempool
 * @op: KMEMLAB_MEMPOOL_CREATE, _DESTROY or _STATUS
 * @handle: CREATE: the new mempool's handle (out; 0 on input); otherwise
 *          the mempool
 * @source: CREATE: KMEMLAB_MEMPOOL_KMALLOC or _CACHE; STATUS: out; else 0
 * @cache: CREATE from a cache: the cache's handle, a cache without a
 *         constructor (a reserve keeps nothing constructed: EINVAL); the
 *         cache cannot be destroyed while a mempool uses it (EBUSY).
 *         STATUS: out; else 0
 * @size: CREATE from kmalloc: element bytes, 1 to KMALLOC_MAX_SIZE; from a
 *        cache: 0 (the cache's object size); STATUS: out, the element size
 * @min_nr: CREATE: elements kept in reserve, 1 to
 *          KMEMLAB_MEMPOOL_RESERVE_MAX (the pool fills the reserve at once);
 *          STATUS: out
 * @curr_nr: STATUS: out, elements in the reserve now (an allocation the
 *           allocator refuses takes one; a free refills the reserve before
 *           it frees to the allocator); otherwise 0
 * @live: STATUS: out, the file's objects taken from the pool (a BENCH
 *        run's elements are not counted); otherwise 0
 *
 * Fields marked "out" for an op must be 0 on input (EINVAL otherwise).
 * MEMPOOL objects count their bytes in the statistics, no pages: an element
 * may come from the reserve, whose pages were taken when the pool was made.
 *
 * DESTROY frees the reserve; it answers EBUSY while the mempool has live
 * elements. Errors: EINVAL (op, source, size, min_nr, a field that must be
 * 0), ENOENT (unknown mempool or cache), EBUSY, ENOMEM (the reserve could
 * not be filled, or the file's quota), EFAULT.
 */
struct kmemlab_mempool {
	__u32 op;
	__u32 handle;
	__u32 source;
	__u32 cache;
	__u32 size;
	__u32 min_nr;
	__u32 curr_nr;
	__u32 live;
};

#define KMEMLAB_IOC_MEMPOOL		_IOWR(KMEMLAB_IOC_MAGIC, 0x1f, struct kmemlab_mempool)

/*
 * DMA pools: small blocks of coherent memory for one device, carved out of
 * pages the pool takes with dma_alloc_coherent() (dma_pool_create(),
 * dma_pool_alloc(), dma_pool_free(), dma_pool_destroy()). Owned by the file
 * like caches, named by a handle from the same counter and counted as an
 * object against max_objects; the pool is named "kmemlab-<name>" in the
 * device's "pools" file in sysfs (/sys/bus/faux/devices/kmemlab/pools for
 * FAUX), which lists each pool with its blocks in use, blocks, block size
 * and pages. DMA_POOL objects are its blocks: ALLOC with @cache the pool's
 * handle, @size and @order 0, @node KMEMLAB_NODE_ANY. A block counts the
 * block size as the pool rounds it (for a block above a page, its own
 * power-of-two block of pages) against max_bytes and in the statistics, no
 * pages (the pool's pages are shared by its blocks). A pool keeps the pages
 * it took until it is destroyed, so the pool itself counts against
 * max_bytes, until destroyed, as many blocks as it has had out at once (the
 * file's, and those of a BENCH run of it, @batch per thread): ALLOC or
 * BENCH that would raise that beyond the quota is ENOMEM.
 *
 * Unbinding the device (edu) destroys its pools and frees their blocks at
 * once, blocks first, whatever files hold them: the blocks' handles then
 * answer ENODEV, as DMA_COHERENT objects do, until freed; ALLOC from the
 * pool answers ENODEV; STATUS and DESTROY work as before.
 */
#define KMEMLAB_DMA_POOL_CREATE		0
#define KMEMLAB_DMA_POOL_DESTROY	1
#define KMEMLAB_DMA_POOL_STATUS		2

/**
 * struct kmemlab_dma_pool - KMEMLAB_IOC_DMA_POOL: create, destroy or look at a DMA pool
 * @name: CREATE: NUL-terminated, 1 to 23 of [a-z0-9_-] (names need not be
 *        unique); STATUS: out; otherwise zero
 * @op: KMEMLAB_DMA_POOL_CREATE, _DESTROY or _STATUS
 * @handle: CREATE: the new pool's handle (out; 0 on input); otherwise the pool
 * @device: CREATE: the KMEMLAB_DEV_* the blocks are for; STATUS: out
 * @size: CREATE: block bytes, 1 to struct kmemlab_limits' @dma_pool_block_max;
 *        STATUS: out, as asked (the pool rounds it up to @align and to at
 *        least 16, the size its free list needs; the "pools" file shows that)
 * @align: CREATE: 0 or a power of two up to the page size: every block's
 *         bus address is a multiple of it (with 0, blocks lie at multiples
 *         of the rounded block size from the start of a page); STATUS: out
 * @boundary: CREATE: 0, or a power of two no smaller than the rounded-up
 *            block size, for blocks of at most a page: no block crosses a
 *            multiple of it; STATUS: out
 * @live: STATUS: out, the file's blocks of the pool (a BENCH run's blocks
 *        are not counted); otherwise 0
 * @reserved: zero
 *
 * Fields marked "out" for an op must be 0 on input (EINVAL otherwise).
 * DESTROY answers EBUSY while the file holds blocks of the pool (even when
 * an unbind already freed them); a BENCH run of the pool keeps it until the
 * run ends. Errors: EINVAL (op, name, device, size, align, boundary, a field
 * that must be 0), ENOENT (unknown pool), ENODEV (the device is not bound),
 * EBUSY, ENOMEM (the pool could not be made, or the file's quota), EFAULT.
 */
struct kmemlab_dma_pool {
	char name[KMEMLAB_CACHE_NAME_MAX];
	__u32 op;
	__u32 handle;
	__u32 device;
	__u32 size;
	__u32 align;
	__u32 boundary;
	__u32 live;
	__u32 reserved;
};

#define KMEMLAB_IOC_DMA_POOL		_IOWR(KMEMLAB_IOC_MAGIC, 0x20, struct kmemlab_dma_pool)

/* What KMEMLAB_IOC_BENCH times. */
#define KMEMLAB_BENCH_ALLOC_FREE	0	/* allocate and free objects of @kind */
#define KMEMLAB_BENCH_PERCPU_INC	1	/* this_cpu increments of a per-CPU counter */
#define KMEMLAB_BENCH_ATOMIC_INC	2	/* increments of one atomic shared by all threads */

/* KMEMLAB_IOC_BENCH flags. */
/* Time the allocator alone: no statistics are kept for the run. */
#define KMEMLAB_BENCH_NO_STATS		0x1
/* Time the raw-C baseline (the C API called from C) instead of kmemlab's Rust. */
#define KMEMLAB_BENCH_RAW_C		0x2

/**
 * struct kmemlab_bench - KMEMLAB_IOC_BENCH: time allocations in the kernel
 * @op: KMEMLAB_BENCH_ALLOC_FREE, _PERCPU_INC or _ATOMIC_INC
 * @kind: ALLOC_FREE: the KMEMLAB_KIND_* to allocate. IOREMAP maps the first
 *        @size bytes of the bound edu device's BAR 0 (ENODEV without edu; the
 *        BAR is 1 MiB in QEMU); PERCPU allocates one __u64 per CPU. For the
 *        counters @kind, @gfp, @order, @size and @cache are 0 and @node is
 *        KMEMLAB_NODE_ANY
 * @gfp: KMEMLAB_GFP_*, as for KMEMLAB_IOC_ALLOC (IOREMAP: 0, with @node
 *       KMEMLAB_NODE_ANY and @cache 0)
 * @order: FREE_PAGES and PAGES_NODE: the order; otherwise 0
 * @size: bytes, for KMALLOC, VMALLOC, DMA_COHERENT, KVMALLOC (as for
 *        KMEMLAB_IOC_ALLOC) and IOREMAP (4 to the BAR's size, a multiple of 4); otherwise 0
 * @node: KMEMLAB_NODE_ANY or an online node, as for KMEMLAB_IOC_ALLOC
 * @cache: KMEM_CACHE: a cache handle of the calling file; MEMPOOL: a
 *         mempool handle of the calling file (the run keeps the mempool
 *         alive, as for caches); DMA_POOL: a DMA pool handle of the calling
 *         file (likewise; the run keeps the pool's device bound, as for
 *         DMA_COHERENT); DMA_COHERENT: the KMEMLAB_DEV_*; otherwise 0
 * @flags: KMEMLAB_BENCH_*
 * @iterations: samples each thread times, 1 to KMEMLAB_BENCH_ITERATIONS_MAX
 * @batch: operations per sample, 1 to KMEMLAB_BATCH_MAX. ALLOC_FREE: 1
 *         times allocate+free pairs; K > 1 allocates K objects, then frees
 *         the K. Counters: increments per sample
 * @threads: 0 runs on the calling thread, on the CPU it is on (migration
 *           disabled); N (1 to the number of online CPUs) starts one kernel
 *           thread on each of the first N online CPUs, released together
 * @reserved: zero
 * @ops: (out) operations timed, all threads: @iterations * @batch * threads
 * @ns_wall: (out) nanoseconds from the start of the first thread to the end
 *           of the last: @ops * 10^9 / @ns_wall is the aggregate rate
 * @ns_total: (out) the timed samples' nanoseconds, summed over the threads
 * @ns_min: (out) the fastest sample, per operation
 * @ns_median: (out) the median sample, per operation, from a log2 histogram:
 *             the upper bound of its bucket
 * @ns_p99: (out) the 99th percentile sample, per operation, likewise
 * @cycles_total: (out) as @ns_total, in CPU cycles (the time stamp counter)
 * @cycles_min: (out) as @ns_min, in cycles
 * @cycles_median: (out) as @ns_median, in cycles
 * @cycles_p99: (out) as @ns_p99, in cycles
 * @cpu: (out) @threads 0: the CPU the run stayed on; otherwise the CPU of
 *       the last thread started (the highest-numbered CPU used)
 * @reserved2: zero (out)
 *
 * Every (out) field must be zero on input (EINVAL otherwise). Per-operation
 * figures are whole nanoseconds or cycles (a sample's time divided by
 * @batch, rounded down): @ns_total / @ops is the finer mean. For the
 * counters, RAW_C times the C increments (this_cpu_inc(), atomic64_inc())
 * and NO_STATS changes nothing.
 *
 * Each sample is timed on its own with the CPU's cycle counter (read before
 * and after), so the per-operation figures include the cost of two counter
 * reads divided by @batch; the Rust and the raw-C runs pay the same.
 * Nanoseconds are cycles converted at the rate each thread measures between
 * ktime and the cycle counter over its run (local_clock() stalls when the
 * kernel finds the TSC unstable, as under emulation).
 * kmemlab's Rust makes objects through the same abstractions as ALLOC and
 * FREE, safety checks included (the ioremap range is checked against System
 * RAM, a DMA buffer takes the device registry's lock), and counts them
 * (unless NO_STATS) in a statistics slot of its own, never shown; the raw-C
 * baseline (RAW_C) calls the C API directly from kmemlab's C shim with the
 * same GFP mask (zeroing included, as kmemlab always zeroes) and keeps no
 * statistics. A run holds at most @batch objects per thread at once, which
 * must fit in the max_bytes quota (ENOMEM otherwise; the objects the file
 * holds and max_objects are not counted: the run's objects are not the
 * file's). A KMEM_CACHE run keeps its cache alive: a CACHE_DESTROY meanwhile
 * may succeed, and the cache (with its name) then goes when the run ends.
 * A worker thread whose CPU goes offline finishes elsewhere; with @threads
 * 0, the CPU cannot go offline until the run ends. The first thread to fail
 * stops the others.
 *
 * Errors: EINVAL, ENOENT (cache), ENODEV (edu or the DMA device not bound),
 * ENOMEM (an allocation failed: the run stops there; or the quota), EINTR (a
 * signal arrived: the run stops, its threads too), EFAULT.
 */
struct kmemlab_bench {
	__u32 op;
	__u32 kind;
	__u32 gfp;
	__u32 order;
	__u64 size;
	__s32 node;
	__u32 cache;
	__u32 flags;
	__u32 iterations;
	__u32 batch;
	__u32 threads;
	__u32 reserved;
	__u32 cpu;
	__u64 ops;
	__u64 ns_wall;
	__u64 ns_total;
	__u64 ns_min;
	__u64 ns_median;
	__u64 ns_p99;
	__u64 cycles_total;
	__u64 cycles_min;
	__u64 cycles_median;
	__u64 cycles_p99;
	__u64 reserved2;
};

#define KMEMLAB_BENCH_ITERATIONS_MAX	(1 << 24)

#define KMEMLAB_IOC_BENCH		_IOWR(KMEMLAB_IOC_MAGIC, 0x1e, struct kmemlab_bench)

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
