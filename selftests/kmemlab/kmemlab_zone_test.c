// SPDX-License-Identifier: GPL-2.0
/*
 * kmemlab GFP choices, zones and kvmalloc, checked against the kernel's own
 * views: /proc/slabinfo (the dma-kmalloc caches), /proc/zoneinfo (the
 * zones' free pages) and /proc/vmallocinfo (kvmalloc's vmalloc fallback).
 *
 * The DMA32 and Normal cases need memory above 4 GiB (a Normal zone):
 * without it they skip, saying so. `make check` boots a guest with 6 GiB
 * for them.
 */
#include "kmemlab_util.h"

KMEMLAB_DEV_FIXTURE();

#define DMA_ZONES (KMEMLAB_FEAT_ZONE_DMA | KMEMLAB_FEAT_ZONE_DMA32)

static __u64 features(int fd)
{
	struct kmemlab_version v;

	return version(fd, &v) ? 0 : v.features;
}

static int limits(int fd, struct kmemlab_limits *l)
{
	memset(l, 0, sizeof(*l));
	return ioctl(fd, KMEMLAB_IOC_LIMITS, l) ? -errno : 0;
}

/* One object of @kind with @gfp: 0 (its handle in *@h) or -errno. */
static int alloc_gfp(int fd, __u32 kind, __u64 size, __u32 order, __s32 node, __u32 cache,
		     __u32 gfp, __u32 *h)
{
	return alloc_n(fd, kind, size, order, node, cache, gfp, 1, h);
}

/*
 * "pages free" of zone @zone (on any node, summed), from /proc/zoneinfo;
 * -1 when no such zone is listed. The zone's "present" pages in *@present,
 * and in *@slack how far "pages free" may lag (the per-CPU "vm stats
 * threshold"s: counter updates below them are not folded in yet).
 */
static long zone_free_slack(const char *zone, long *present, long *slack)
{
	FILE *f = fopen("/proc/zoneinfo", "r");
	char line[256], name[32];
	long total = -1, v, pres = 0, lag = 0;
	bool in = false;

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f)) {
		int node;

		if (sscanf(line, "Node %d, zone %31s", &node, name) == 2) {
			in = !strcmp(name, zone);
			continue;
		}
		if (!in)
			continue;
		if (sscanf(line, " pages free %ld", &v) == 1)
			total = (total < 0 ? 0 : total) + v;
		else if (sscanf(line, " present %ld", &v) == 1)
			pres += v;
		else if (sscanf(line, " vm stats threshold: %ld", &v) == 1)
			lag += v;
	}
	fclose(f);
	if (present)
		*present = pres;
	if (slack)
		*slack = lag;
	return total;
}

static long zone_free(const char *zone, long *present)
{
	return zone_free_slack(zone, present, NULL);
}

/* Whether the machine has a populated Normal zone (memory above 4 GiB on x86). */
/*
 * The node whose Normal zone has the most free pages (at least @least), or
 * -1: on x86 a Normal zone is memory above 4 GiB.
 */
static int roomiest_normal_node(long least)
{
	FILE *f = fopen("/proc/zoneinfo", "r");
	char line[256], name[32];
	int node = -1, best = -1;
	long v, most = least - 1;
	bool in = false;

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f)) {
		int n;

		if (sscanf(line, "Node %d, zone %31s", &n, name) == 2) {
			in = !strcmp(name, "Normal");
			node = n;
		} else if (in && sscanf(line, " pages free %ld", &v) == 1 && v > most) {
			most = v;
			best = node;
		}
	}
	fclose(f);
	return best;
}

/*
 * Every GFP base against every kind that takes memory: accepted (the object
 * is made and INFO reports the request) or EINVAL, as the ABI header's
 * table says; nothing is left behind by a refusal.
 */
TEST_F(dev, gfp_bases_per_kind)
{
	static const struct {
		__u32 kind;
		__u64 size;
		__u32 order;
		__u8 bases;	/* bit per KMEMLAB_GFP_* base the kind takes */
	} kinds[] = {
		{ KMEMLAB_KIND_KMALLOC, 64, 0, 0x3f },
		{ KMEMLAB_KIND_FREE_PAGES, 0, 1, 0x3f },
		{ KMEMLAB_KIND_PAGES_NODE, 0, 1, 0xff },
		{ KMEMLAB_KIND_VMALLOC, 8192, 0, 0x01 },
		{ KMEMLAB_KIND_DMA_COHERENT, 4096, 0, 0x07 },
		{ KMEMLAB_KIND_PERCPU, 0, 0, 0x01 },
		{ KMEMLAB_KIND_KVMALLOC, 64, 0, 0x3f },
		{ KMEMLAB_KIND_KMEM_CACHE, 0, 0, 0x3f },
		{ KMEMLAB_KIND_DMA_POOL, 0, 0, 0x3f },
	};
	__u32 cache = 0, pool = 0, h;

	ASSERT_EQ(0, cache_create(self->fd, "zone-bases", 96, 0, &cache));
	ASSERT_EQ(0, dma_pool_create(self->fd, "zone-bases", KMEMLAB_DEV_FAUX, 96, 0, 0, &pool));
	for (size_t k = 0; k < ARRAY_SIZE(kinds); k++) {
		for (__u32 base = 0; base <= KMEMLAB_GFP_HIGHUSER_MOVABLE; base++) {
			__u32 tag = kinds[k].kind == KMEMLAB_KIND_KMEM_CACHE ? cache :
				    kinds[k].kind == KMEMLAB_KIND_DMA_POOL ? pool :
				    kinds[k].kind == KMEMLAB_KIND_DMA_COHERENT ? KMEMLAB_DEV_FAUX : 0;
			bool ok = kinds[k].bases >> base & 1;
			/* Non-sleeping bases may fail for want of memory, never with EINVAL. */
			int e = alloc_gfp(self->fd, kinds[k].kind, kinds[k].size, kinds[k].order,
					  KMEMLAB_NODE_ANY, tag, base, &h);
			struct kmemlab_info in;

			if (!ok) {
				EXPECT_EQ(-EINVAL, e) TH_LOG("%s with GFP base %u: refused",
							     kind_name(kinds[k].kind), base);
				continue;
			}
			EXPECT_TRUE(e == 0 || (e == -ENOMEM && (base == KMEMLAB_GFP_ATOMIC ||
								base == KMEMLAB_GFP_NOWAIT)))
				TH_LOG("%s with GFP base %u: %s", kind_name(kinds[k].kind), base,
				       strerror(-e));
			if (e)
				continue;
			ASSERT_EQ(0, info(self->fd, h, &in));
			EXPECT_EQ(base, in.gfp);
			EXPECT_EQ(kinds[k].kind, in.kind);
			ASSERT_EQ(0, free_handles(self->fd, 1, &h));
		}
	}
	/* Refusals made nothing. */
	EXPECT_EQ(0U, nr_objects(self->fd));
}

/*
 * kmalloc serves sizes up to KMALLOC_MAX_CACHE_SIZE (two pages) from its
 * slab caches, and larger ones straight from the page allocator.
 */
TEST_F(dev, kmalloc_backing_follows_the_size)
{
	struct kmemlab_info in;
	__u32 h;

	ASSERT_EQ(0, alloc1(self->fd, KMEMLAB_KIND_KMALLOC, 2 * 4096, 0, KMEMLAB_NODE_ANY, 0, &h));
	ASSERT_EQ(0, info(self->fd, h, &in));
	EXPECT_EQ(KMEMLAB_BACKING_SLAB, in.backing);
	ASSERT_EQ(0, alloc1(self->fd, KMEMLAB_KIND_KMALLOC, 2 * 4096 + 1, 0, KMEMLAB_NODE_ANY, 0,
			    &h));
	ASSERT_EQ(0, info(self->fd, h, &in));
	EXPECT_EQ(KMEMLAB_BACKING_PAGES, in.backing);
	ASSERT_EQ(0, alloc1(self->fd, KMEMLAB_KIND_VMALLOC, 4096, 0, KMEMLAB_NODE_ANY, 0, &h));
	ASSERT_EQ(0, info(self->fd, h, &in));
	EXPECT_EQ(KMEMLAB_BACKING_VMALLOC, in.backing);
	EXPECT_EQ(0, free_all(self->fd));
}

/* The combinations no kind takes, and the modifiers each kind refuses. */
TEST_F(dev, gfp_modifiers_per_kind)
{
	__u64 f = features(self->fd);
	__u32 cache = 0, pool = 0, h;

	ASSERT_EQ(0, cache_create(self->fd, "zone-mods", 96, 0, &cache));
	ASSERT_EQ(0, dma_pool_create(self->fd, "zone-mods", KMEMLAB_DEV_FAUX, 96, 0, 0, &pool));
	/* Everywhere. */
	EXPECT_EQ(-EINVAL, alloc_gfp(self->fd, KMEMLAB_KIND_PAGES_NODE, 0, 0, 0, 0,
				     KMEMLAB_GFP_DMA | KMEMLAB_GFP_DMA32, &h));
	EXPECT_EQ(-EINVAL, alloc_gfp(self->fd, KMEMLAB_KIND_PAGES_NODE, 0, 0, 0, 0,
				     KMEMLAB_GFP_HIGHUSER | KMEMLAB_GFP_DMA, &h));
	EXPECT_EQ(-EINVAL, alloc_gfp(self->fd, KMEMLAB_KIND_PAGES_NODE, 0, 0, 0, 0,
				     KMEMLAB_GFP_HIGHUSER_MOVABLE | KMEMLAB_GFP_DMA32, &h));
	EXPECT_EQ(-EINVAL, alloc_gfp(self->fd, KMEMLAB_KIND_KMALLOC, 64, 0, KMEMLAB_NODE_ANY, 0,
				     KMEMLAB_GFP_NORETRY | KMEMLAB_GFP_RETRY_MAYFAIL, &h));
	EXPECT_EQ(-EINVAL, alloc_gfp(self->fd, KMEMLAB_KIND_KMALLOC, 64, 0, KMEMLAB_NODE_ANY, 0,
				     KMEMLAB_GFP_THISNODE, &h)) TH_LOG("THISNODE needs a node");
	/* Per kind: slab memory takes no DMA32 and a cache no zone at all. */
	EXPECT_EQ(-EINVAL, alloc_gfp(self->fd, KMEMLAB_KIND_KMALLOC, 64, 0, KMEMLAB_NODE_ANY, 0,
				     KMEMLAB_GFP_DMA32, &h));
	EXPECT_EQ(-EINVAL, alloc_gfp(self->fd, KMEMLAB_KIND_KMEM_CACHE, 0, 0, KMEMLAB_NODE_ANY,
				     cache, KMEMLAB_GFP_DMA, &h));
	EXPECT_EQ(-EINVAL, alloc_gfp(self->fd, KMEMLAB_KIND_KVMALLOC, 64, 0, KMEMLAB_NODE_ANY, 0,
				     KMEMLAB_GFP_DMA32, &h));
	EXPECT_EQ(-EINVAL, alloc_gfp(self->fd, KMEMLAB_KIND_VMALLOC, 8192, 0, KMEMLAB_NODE_ANY, 0,
				     KMEMLAB_GFP_RETRY_MAYFAIL, &h));
	EXPECT_EQ(-EINVAL, alloc_gfp(self->fd, KMEMLAB_KIND_DMA_COHERENT, 4096, 0,
				     KMEMLAB_NODE_ANY, KMEMLAB_DEV_FAUX, KMEMLAB_GFP_DMA32, &h));
	EXPECT_EQ(-EINVAL, alloc_gfp(self->fd, KMEMLAB_KIND_FREE_PAGES, 0, 0, KMEMLAB_NODE_ANY, 0,
				     KMEMLAB_GFP_HIGHUSER, &h));
	/* A DMA pool's device chooses its zone; its pages are shared, never charged. */
	EXPECT_EQ(-EINVAL, alloc_gfp(self->fd, KMEMLAB_KIND_DMA_POOL, 0, 0, KMEMLAB_NODE_ANY, pool,
				     KMEMLAB_GFP_DMA, &h));
	EXPECT_EQ(-EINVAL, alloc_gfp(self->fd, KMEMLAB_KIND_DMA_POOL, 0, 0, KMEMLAB_NODE_ANY, pool,
				     KMEMLAB_GFP_DMA32, &h));
	EXPECT_EQ(-EINVAL, alloc_gfp(self->fd, KMEMLAB_KIND_DMA_POOL, 0, 0, KMEMLAB_NODE_ANY, pool,
				     KMEMLAB_GFP_ACCOUNT, &h));
	EXPECT_EQ(-EINVAL, alloc_gfp(self->fd, KMEMLAB_KIND_DMA_POOL, 0, 0, 0, pool,
				     KMEMLAB_GFP_THISNODE, &h)) TH_LOG("a DMA pool takes no node");
	EXPECT_EQ(0U, nr_objects(self->fd));
	/* Accepted: each modifier where the table says so. */
	ASSERT_EQ(0, alloc_gfp(self->fd, KMEMLAB_KIND_KMALLOC, 64, 0, 0, 0,
			       KMEMLAB_GFP_THISNODE | KMEMLAB_GFP_RETRY_MAYFAIL, &h));
	ASSERT_EQ(0, alloc_gfp(self->fd, KMEMLAB_KIND_KMEM_CACHE, 0, 0, 0, cache,
			       KMEMLAB_GFP_NOFS | KMEMLAB_GFP_THISNODE, &h));
	ASSERT_EQ(0, alloc_gfp(self->fd, KMEMLAB_KIND_PAGES_NODE, 0, 2, 0, 0,
			       KMEMLAB_GFP_HIGHUSER_MOVABLE | KMEMLAB_GFP_THISNODE, &h));
	ASSERT_EQ(0, alloc_gfp(self->fd, KMEMLAB_KIND_KVMALLOC, 3 * 4096, 0, KMEMLAB_NODE_ANY, 0,
			       KMEMLAB_GFP_NOIO | KMEMLAB_GFP_RETRY_MAYFAIL, &h));
	ASSERT_EQ(0, alloc_gfp(self->fd, KMEMLAB_KIND_KVMALLOC, 64, 0, 0, 0,
			       KMEMLAB_GFP_THISNODE, &h));
	ASSERT_EQ(0, alloc_gfp(self->fd, KMEMLAB_KIND_DMA_POOL, 0, 0, KMEMLAB_NODE_ANY, pool,
			       KMEMLAB_GFP_NOIO | KMEMLAB_GFP_ZERO | KMEMLAB_GFP_NORETRY, &h));
	ASSERT_EQ(0, alloc_gfp(self->fd, KMEMLAB_KIND_DMA_POOL, 0, 0, KMEMLAB_NODE_ANY, pool,
			       KMEMLAB_GFP_USER | KMEMLAB_GFP_NOWARN | KMEMLAB_GFP_RETRY_MAYFAIL,
			       &h));
	if ((f & DMA_ZONES) == DMA_ZONES) {
		ASSERT_EQ(0, alloc_gfp(self->fd, KMEMLAB_KIND_FREE_PAGES, 0, 0, KMEMLAB_NODE_ANY, 0,
				       KMEMLAB_GFP_DMA32, &h));
		ASSERT_EQ(0, alloc_gfp(self->fd, KMEMLAB_KIND_KMALLOC, 64, 0, KMEMLAB_NODE_ANY, 0,
				       KMEMLAB_GFP_DMA, &h));
		ASSERT_EQ(0, alloc_gfp(self->fd, KMEMLAB_KIND_KVMALLOC, 64, 0, KMEMLAB_NODE_ANY, 0,
				       KMEMLAB_GFP_DMA, &h));
	}
	EXPECT_EQ(0, free_all(self->fd));
}

/* HIGHUSER pages are reached a page at a time: bytes across pages round-trip. */
TEST_F(dev, highuser_pages_round_trip)
{
	unsigned char out[100], back[100];
	struct kmemlab_info in;
	__u32 h;

	ASSERT_EQ(0, alloc_gfp(self->fd, KMEMLAB_KIND_PAGES_NODE, 0, 2, KMEMLAB_NODE_ANY, 0,
			       KMEMLAB_GFP_HIGHUSER, &h));
	round_trip(_metadata, self->fd, h, 4 * 4096);
	ASSERT_EQ(0, info(self->fd, h, &in));
	EXPECT_EQ(KMEMLAB_BACKING_PAGES, in.backing);
	EXPECT_NE(KMEMLAB_ZONE_NONE, in.zone);
	/* A sub-range across the second page boundary. */
	memset(out, 0x5c, sizeof(out));
	ASSERT_EQ(0, io(self->fd, KMEMLAB_IOC_WRITE, h, 2 * 4096 - 50, 100, (unsigned long)out,
			NULL));
	ASSERT_EQ(0, io(self->fd, KMEMLAB_IOC_READ, h, 2 * 4096 - 50, 100, (unsigned long)back,
			NULL));
	EXPECT_EQ(0, memcmp(out, back, sizeof(out)));
	EXPECT_EQ(0, free_handles(self->fd, 1, &h));
}

/* A GFP_DMA kmalloc is an object of a dma-kmalloc cache, in ZONE_DMA. */
TEST_F(dev, gfp_dma_kmalloc_lands_in_dma_kmalloc)
{
	enum { N = 200 };
	__u32 h[N];
	long before, during;
	struct kmemlab_info in;

	if (!(features(self->fd) & KMEMLAB_FEAT_ZONE_DMA))
		SKIP(return, "the kernel has no ZONE_DMA");
	before = slab_active("dma-kmalloc-64");
	if (before < 0)
		SKIP(return, "no dma-kmalloc-64 in /proc/slabinfo");
	ASSERT_EQ(0, alloc_n(self->fd, KMEMLAB_KIND_KMALLOC, 64, 0, KMEMLAB_NODE_ANY, 0,
			     KMEMLAB_GFP_DMA, N, h));
	/*
	 * The cache holds our N at least (free objects in per-CPU slabs count
	 * as active too, so the rise from before may be smaller than N).
	 */
	during = slab_active("dma-kmalloc-64");
	EXPECT_GE(during, N) TH_LOG("dma-kmalloc-64 active %ld -> %ld", before, during);
	ASSERT_EQ(0, info(self->fd, h[0], &in));
	EXPECT_EQ(KMEMLAB_ZONE_DMA, in.zone);
	EXPECT_EQ(KMEMLAB_BACKING_SLAB, in.backing);
	ASSERT_EQ(0, free_handles(self->fd, N, h));
}

/* GFP_DMA pages come out of ZONE_DMA's free pages, and go back. */
TEST_F(dev, gfp_dma_pages_come_from_the_dma_zone)
{
	long before, during, slack = 0;
	struct kmemlab_info in;
	__u32 h;

	if (!(features(self->fd) & KMEMLAB_FEAT_ZONE_DMA))
		SKIP(return, "the kernel has no ZONE_DMA");
	/*
	 * Order 5 (32 pages): above the per-CPU lists' orders, straight from
	 * the zone; its free count may lag by the per-CPU thresholds.
	 */
	before = zone_free_slack("DMA", NULL, &slack);
	ASSERT_LT(0, before) TH_LOG("no DMA zone in /proc/zoneinfo");
	ASSERT_GT(32, slack) TH_LOG("the DMA zone's counters may lag by %ld pages", slack);
	ASSERT_EQ(0, alloc_gfp(self->fd, KMEMLAB_KIND_FREE_PAGES, 0, 5, KMEMLAB_NODE_ANY, 0,
			       KMEMLAB_GFP_DMA, &h));
	during = zone_free("DMA", NULL);
	EXPECT_GE(before - during, 32 - slack)
		TH_LOG("DMA zone free pages %ld -> %ld (lag up to %ld)", before, during, slack);
	ASSERT_EQ(0, info(self->fd, h, &in));
	EXPECT_EQ(KMEMLAB_ZONE_DMA, in.zone);
	EXPECT_EQ(KMEMLAB_BACKING_PAGES, in.backing);
	round_trip(_metadata, self->fd, h, 32 * 4096);
	ASSERT_EQ(0, free_handles(self->fd, 1, &h));
	EXPECT_GE(zone_free("DMA", NULL) - during, 32 - slack);
}

/* A SLAB_CACHE_DMA cache's objects lie in ZONE_DMA; DMA with DMA32 is refused. */
TEST_F(dev, dma_cache_objects_lie_in_zone_dma)
{
	struct kmemlab_info in;
	__u32 cache = 0, h;

	if (!(features(self->fd) & KMEMLAB_FEAT_ZONE_DMA))
		SKIP(return, "the kernel has no ZONE_DMA");
	EXPECT_EQ(-EINVAL, cache_create(self->fd, "zone-both", 64,
					KMEMLAB_CACHE_DMA | KMEMLAB_CACHE_DMA32, &cache));
	ASSERT_EQ(0, cache_create(self->fd, "zone-dma", 64, KMEMLAB_CACHE_DMA, &cache));
	ASSERT_EQ(0, alloc_gfp(self->fd, KMEMLAB_KIND_KMEM_CACHE, 0, 0, KMEMLAB_NODE_ANY, cache,
			       0, &h));
	ASSERT_EQ(0, info(self->fd, h, &in));
	EXPECT_EQ(KMEMLAB_ZONE_DMA, in.zone);
	EXPECT_EQ(KMEMLAB_BACKING_SLAB, in.backing);
	EXPECT_LE(1, slab_active("kmemlab-zone-dma"));
	EXPECT_EQ(0, free_handles(self->fd, 1, &h));
}

/*
 * With memory above 4 GiB: GFP_DMA32 pages lie in DMA32, GFP_KERNEL ones
 * in Normal (the highest zone they may use).
 */
TEST_F(dev, dma32_and_normal_with_memory_above_4g)
{
	struct kmemlab_info in;
	__u32 h;
	int normal = 0, node;

	if (!(features(self->fd) & KMEMLAB_FEAT_ZONE_DMA32))
		SKIP(return, "the kernel has no ZONE_DMA32");
	/* A node with room in Normal: GFP_KERNEL falls back below it only when short. */
	node = roomiest_normal_node(16384);
	if (node < 0)
		SKIP(return, "no Normal zone with 64 MiB free: no memory above 4 GiB");
	for (int i = 0; i < 8; i++) {
		ASSERT_EQ(0, alloc_gfp(self->fd, KMEMLAB_KIND_PAGES_NODE, 0, 0, KMEMLAB_NODE_ANY, 0,
				       KMEMLAB_GFP_DMA32, &h));
		ASSERT_EQ(0, info(self->fd, h, &in));
		EXPECT_TRUE(in.zone == KMEMLAB_ZONE_DMA32 || in.zone == KMEMLAB_ZONE_DMA)
			TH_LOG("a DMA32 page in zone %u", in.zone);
		ASSERT_EQ(0, alloc_gfp(self->fd, KMEMLAB_KIND_PAGES_NODE, 0, 0, node, 0,
				       KMEMLAB_GFP_KERNEL | KMEMLAB_GFP_THISNODE, &h));
		ASSERT_EQ(0, info(self->fd, h, &in));
		EXPECT_EQ(node, in.nid);
		normal += in.zone == KMEMLAB_ZONE_NORMAL;
	}
	EXPECT_EQ(8, normal) TH_LOG("%d of 8 GFP_KERNEL pages on node %d in Normal", normal, node);
	EXPECT_EQ(0, free_all(self->fd));
}

/*
 * Count of /proc/vmallocinfo areas kmemlab's code made. Which of its
 * functions the kernel names as the caller of kvmalloc's area depends on
 * the compiler (the shim's kvmalloc call, or, inlined or tail-called, the
 * Rust code above it), so the test counts them all: nothing else of
 * kmemlab's maps a vmalloc area meanwhile.
 */
static int kvmalloc_areas(void)
{
	return kmemlab_vmap_areas();
}

/*
 * kvmalloc: a page or less always from kmalloc (slab), beyond
 * LIMITS.kvmalloc_kmalloc_max always from vmalloc (an area in
 * /proc/vmallocinfo made by kmemlab's kvmalloc call), up to kvmalloc_max.
 */
TEST_F(dev, kvmalloc_serves_from_kmalloc_or_vmalloc)
{
	struct kmemlab_limits l;
	struct kmemlab_info in;
	__u64 big;
	__u32 h, hs[64];
	int before;
	long active;

	ASSERT_EQ(0, limits(self->fd, &l));
	if (!(features(self->fd) & KMEMLAB_FEAT_KVMALLOC))
		SKIP(return, "the module has no kvmalloc");
	EXPECT_EQ(0x7fffffffULL, l.kvmalloc_max);
	EXPECT_EQ(l.kmalloc_max, l.kvmalloc_kmalloc_max);
	EXPECT_EQ(-EINVAL, alloc1(self->fd, KMEMLAB_KIND_KVMALLOC, 0, 0, KMEMLAB_NODE_ANY, 0, &h));
	EXPECT_EQ(-EINVAL, alloc1(self->fd, KMEMLAB_KIND_KVMALLOC, l.kvmalloc_max + 1, 0,
				  KMEMLAB_NODE_ANY, 0, &h));
	/* Small: kmalloc-96 objects, counted by the slab allocator. */
	ASSERT_EQ(0, alloc_n(self->fd, KMEMLAB_KIND_KVMALLOC, 96, 0, KMEMLAB_NODE_ANY, 0, 0, 64,
			     hs));
	active = slab_active("kmalloc-96");
	EXPECT_GE(active, 64) TH_LOG("kmalloc-96 holds the 64 objects");
	for (__u64 size = 1; size <= l.page_size; size *= 8) {
		ASSERT_EQ(0, alloc1(self->fd, KMEMLAB_KIND_KVMALLOC, size, 0, KMEMLAB_NODE_ANY, 0,
				    &h));
		ASSERT_EQ(0, info(self->fd, h, &in));
		EXPECT_EQ(KMEMLAB_BACKING_SLAB, in.backing) TH_LOG("kvmalloc of %llu", size);
		EXPECT_NE(KMEMLAB_ZONE_NONE, in.zone);
	}
	/* Big: vmalloc, as /proc/vmallocinfo shows. */
	big = l.kvmalloc_kmalloc_max + l.page_size;
	before = kvmalloc_areas();
	ASSERT_LE(0, before) TH_LOG("/proc/vmallocinfo unreadable");
	ASSERT_EQ(0, alloc1(self->fd, KMEMLAB_KIND_KVMALLOC, big, 0, KMEMLAB_NODE_ANY, 0, &h));
	ASSERT_EQ(0, info(self->fd, h, &in));
	EXPECT_EQ(KMEMLAB_BACKING_VMALLOC, in.backing);
	EXPECT_NE(KMEMLAB_ZONE_NONE, in.zone);
	EXPECT_LT(before, kvmalloc_areas()) TH_LOG("no new vmalloc area of kmemlab's");
	EXPECT_EQ(0, io(self->fd, KMEMLAB_IOC_FILL, h, 0, big, 99, NULL));
	ASSERT_EQ(0, free_handles(self->fd, 1, &h));
	EXPECT_EQ(before, kvmalloc_areas());
	EXPECT_EQ(0, free_all(self->fd));
}

TEST_HARNESS_MAIN
