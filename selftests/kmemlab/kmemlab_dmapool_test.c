// SPDX-License-Identifier: GPL-2.0
/*
 * kmemlab DMA pools: dma_pool_create(), dma_pool_alloc(), dma_pool_free()
 * and dma_pool_destroy() through KMEMLAB_IOC_DMA_POOL and ALLOC of kind
 * DMA_POOL, checked against the kernel's own view of each pool: the
 * device's "pools" file in sysfs (mm/dmapool.c), one line a pool with its
 * blocks in use, its blocks, its block size (as the pool rounded it up) and
 * its pages. The file is there while the device has a pool.
 *
 * A pool takes a page (a coherent allocation of max(size, PAGE_SIZE)
 * bytes) when it has no free block left, and carves it into blocks: with
 * no boundary, PAGE_SIZE / size of them; with one, size-sized blocks that
 * never cross a multiple of it. The block size is at least 16 (the free
 * list's link) and a multiple of the alignment.
 *
 * The faux device's pools are always there to test; edu's (DMA round trips
 * into pool blocks, an unbind with pools live) skip without QEMU's edu
 * device. Run as root with kmemlab.ko loaded, nothing else of kmemlab's
 * making DMA pools meanwhile. Sizes assume 4 KiB pages, as the other tests do.
 */
#include <stddef.h>
#include <sys/mman.h>

#include "kmemlab_util.h"

#define PAGE 4096UL
#define UNBOUND_MSG "kmemlab: unbound: freed "

/* Pools named kmemlab-@name in the pools file @path (0 when there is no file). */
static int pool_count(const char *path, const char *name)
{
	char full[64];
	int n;

	snprintf(full, sizeof(full), "kmemlab-%s", name);
	n = pool_lines(path, full, NULL);
	return n == -ENOENT ? 0 : n;
}

/* The pools file @path lists pool kmemlab-@name once, with these figures. */
static void expect_pool(struct __test_metadata *_metadata, const char *path, const char *name,
			unsigned long active, unsigned long blocks, unsigned long size,
			unsigned long pages)
{
	struct pool_line l = { 0 };
	char full[64];

	snprintf(full, sizeof(full), "kmemlab-%s", name);
	ASSERT_EQ(1, pool_lines(path, full, &l)) TH_LOG("%s listed once in %s", full, path);
	EXPECT_EQ(active, l.active) TH_LOG("%s: blocks in use", full);
	EXPECT_EQ(blocks, l.blocks) TH_LOG("%s: blocks", full);
	EXPECT_EQ(size, l.size) TH_LOG("%s: block size", full);
	EXPECT_EQ(pages, l.pages) TH_LOG("%s: pages", full);
}

/* Two readings (read_file()) of a pools file are the same, both absent included. */
static bool pools_same(const char *a, const char *b)
{
	return a && b ? !strcmp(a, b) : a == b;
}

static int destroy(int fd, __u32 pool)
{
	struct kmemlab_dma_pool p;

	return dma_pool_op(fd, KMEMLAB_DMA_POOL_DESTROY, pool, &p);
}

static int status(int fd, __u32 pool, struct kmemlab_dma_pool *p)
{
	return dma_pool_op(fd, KMEMLAB_DMA_POOL_STATUS, pool, p);
}

/* KMEMLAB_IOC_DMA_POOL with @p as it is; 0 or -errno. */
static int pool_ioc(int fd, struct kmemlab_dma_pool *p)
{
	return ioctl(fd, KMEMLAB_IOC_DMA_POOL, p) ? -errno : 0;
}

/* The first @len bytes of @h read as zeroes. */
static void expect_zeroes(struct __test_metadata *_metadata, int fd, __u32 h, __u64 len)
{
	unsigned char buf[PAGE];

	ASSERT_GE(sizeof(buf), len);
	memset(buf, 0xa5, len);
	ASSERT_EQ(0, io(fd, KMEMLAB_IOC_READ, h, 0, len, (unsigned long)buf, NULL));
	EXPECT_EQ(len, first_not(buf, len, 0)) TH_LOG("block %u is not zeroed", h);
}

FIXTURE(pool) {
	int fd;
	struct kmemlab_limits lim;
};

FIXTURE_SETUP(pool)
{
	struct kmemlab_version v;

	self->fd = open_dev(_metadata);
	if (self->fd < 0)
		return;
	ASSERT_EQ(0, version(self->fd, &v));
	if (!(v.features & KMEMLAB_FEAT_DMA_POOL))
		SKIP(return, "the module has no DMA pools (no KMEMLAB_FEAT_DMA_POOL)");
	ASSERT_EQ(0, ioctl(self->fd, KMEMLAB_IOC_LIMITS, &self->lim));
	ASSERT_EQ(PAGE, self->lim.page_size) TH_LOG("the expected figures assume 4 KiB pages");
}

FIXTURE_TEARDOWN(pool)
{
	if (self->fd >= 0)
		close(self->fd);
}

/*
 * A new pool is a line of its own in the faux device's pools file, with no
 * block and no page yet; STATUS describes it as asked; names need not be
 * unique and may take all 23 characters; destroyed, the line goes, and the
 * file with it when it was the device's only pool.
 */
TEST_F(pool, create_status_and_destroy_in_the_pools_file)
{
	const char *longest = "abcdefghijklmnopqrs0_-9";
	bool had_file = access(FAUX_POOLS, F_OK) == 0;
	struct kmemlab_dma_pool s;
	__u32 pool = 0, twin = 0, big = 0;

	EXPECT_EQ((__u64)self->lim.page_size << self->lim.max_order, self->lim.dma_pool_block_max);
	ASSERT_EQ(0, pool_count(FAUX_POOLS, "dp-status"));
	ASSERT_EQ(0, dma_pool_create(self->fd, "dp-status", KMEMLAB_DEV_FAUX, 100, 0, 0, &pool));
	EXPECT_NE(0U, pool);
	expect_pool(_metadata, FAUX_POOLS, "dp-status", 0, 0, 100, 0);

	ASSERT_EQ(0, status(self->fd, pool, &s));
	EXPECT_STREQ("dp-status", s.name);
	EXPECT_EQ(KMEMLAB_DMA_POOL_STATUS, s.op);
	EXPECT_EQ(pool, s.handle);
	EXPECT_EQ(KMEMLAB_DEV_FAUX, s.device);
	EXPECT_EQ(100U, s.size);
	EXPECT_EQ(0U, s.align);
	EXPECT_EQ(0U, s.boundary);
	EXPECT_EQ(0U, s.live);
	EXPECT_EQ(0U, s.reserved);

	/* The same name again: another pool, another line. */
	ASSERT_EQ(0, dma_pool_create(self->fd, "dp-status", KMEMLAB_DEV_FAUX, 64, 32, 128, &twin));
	EXPECT_NE(pool, twin);
	EXPECT_EQ(2, pool_count(FAUX_POOLS, "dp-status"));
	ASSERT_EQ(0, status(self->fd, twin, &s));
	EXPECT_EQ(64U, s.size);
	EXPECT_EQ(32U, s.align);
	EXPECT_EQ(128U, s.boundary);
	/* The longest name, in full; the largest block size. */
	ASSERT_EQ(0, dma_pool_create(self->fd, longest, KMEMLAB_DEV_FAUX,
				     (__u32)self->lim.dma_pool_block_max, 0, 0, &big));
	expect_pool(_metadata, FAUX_POOLS, longest, 0, 0, self->lim.dma_pool_block_max, 0);
	ASSERT_EQ(0, status(self->fd, big, &s));
	EXPECT_STREQ(longest, s.name);

	ASSERT_EQ(0, destroy(self->fd, twin));
	EXPECT_EQ(1, pool_count(FAUX_POOLS, "dp-status"));
	ASSERT_EQ(0, status(self->fd, pool, &s)) TH_LOG("the other pool of that name stays");
	EXPECT_EQ(100U, s.size);
	ASSERT_EQ(0, destroy(self->fd, big));
	EXPECT_EQ(0, pool_count(FAUX_POOLS, longest));
	ASSERT_EQ(0, destroy(self->fd, pool));
	EXPECT_EQ(0, pool_count(FAUX_POOLS, "dp-status"));
	EXPECT_EQ(-ENOENT, status(self->fd, pool, &s));
	EXPECT_EQ(-ENOENT, destroy(self->fd, pool));
	if (had_file) {
		TH_LOG("the faux device had other pools: whether the file goes is not checked");
	} else {
		EXPECT_NE(0, access(FAUX_POOLS, F_OK))
			TH_LOG("the last pool took the file with it");
	}
}

/*
 * Blocks come from pages the pool takes as it needs them, as many to a page
 * as the block size and boundary allow (the figures worked out by hand from
 * mm/dmapool.c); a freed block goes back to its page, and the pages stay
 * until the pool is destroyed. INFO describes a block as asked.
 */
TEST_F(pool, blocks_fill_pages_as_computed)
{
	static const struct {
		__u32 size, align, boundary;
		unsigned long block, per_page;
	} cases[] = {
		{ 48, 0, 0, 48, 85 },		/* 4096 / 48 */
		{ 48, 0, 64, 48, 64 },		/* one in each 64-byte window */
		{ 40, 64, 0, 64, 64 },		/* aligned up to 64 */
		{ 1, 0, 0, 16, 256 },		/* at least the free list's 16 bytes */
		{ 100, 0, 0, 100, 40 },
		{ 96, 0, 128, 96, 32 },		/* one in each 128-byte window */
		{ 200, 256, 0, 256, 16 },
		{ 64, 0, 4096, 64, 64 },
		{ 1000, 0, 1024, 1000, 4 },
		{ 3000, 8, 4096, 3000, 1 },
		{ 5000, 0, 0, 5000, 1 },	/* over a page: a coherent block of its own */
	};
	static __u32 h[KMEMLAB_BATCH_MAX];

	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		unsigned long per = cases[i].per_page, block = cases[i].block;
		struct kmemlab_dma_pool s;
		struct kmemlab_info in;
		char name[16];
		__u32 pool = 0;

		snprintf(name, sizeof(name), "dp-pages%zu", i);
		ASSERT_EQ(0, dma_pool_create(self->fd, name, KMEMLAB_DEV_FAUX, cases[i].size,
					     cases[i].align, cases[i].boundary, &pool))
			TH_LOG("size %u align %u boundary %u", cases[i].size, cases[i].align,
			       cases[i].boundary);
		expect_pool(_metadata, FAUX_POOLS, name, 0, 0, block, 0);
		/* One block takes one page... */
		ASSERT_EQ(0, dma_pool_alloc(self->fd, pool, 0, 1, h));
		expect_pool(_metadata, FAUX_POOLS, name, 1, per, block, 1);
		/* ... and one block past a full page, a second. */
		ASSERT_EQ(0, dma_pool_alloc(self->fd, pool, 0, per, h + 1));
		expect_pool(_metadata, FAUX_POOLS, name, per + 1, 2 * per, block, 2);
		ASSERT_EQ(0, status(self->fd, pool, &s));
		EXPECT_EQ(per + 1, s.live);

		ASSERT_EQ(0, info(self->fd, h[per], &in));
		EXPECT_EQ(KMEMLAB_KIND_DMA_POOL, in.kind);
		EXPECT_EQ(cases[i].size, in.size) TH_LOG("the size asked, not the pool's");
		EXPECT_EQ(pool, in.cache);
		EXPECT_EQ(0U, in.order);
		EXPECT_EQ(KMEMLAB_NODE_ANY, in.node);
		EXPECT_LE(0, in.nid);
		EXPECT_EQ(0U, in.gfp);
		EXPECT_EQ(KMEMLAB_BACKING_PAGES, in.backing);
		EXPECT_NE(KMEMLAB_ZONE_NONE, in.zone);

		/* Freed blocks go back to the pool; its pages stay. */
		ASSERT_EQ(0, free_handles(self->fd, per, h + 1));
		expect_pool(_metadata, FAUX_POOLS, name, 1, 2 * per, block, 2);
		ASSERT_EQ(0, free_handles(self->fd, 1, h));
		expect_pool(_metadata, FAUX_POOLS, name, 0, 2 * per, block, 2);
		/* Taken again: from the pages the pool has. */
		ASSERT_EQ(0, dma_pool_alloc(self->fd, pool, 0, per, h));
		expect_pool(_metadata, FAUX_POOLS, name, per, 2 * per, block, 2);
		ASSERT_EQ(0, free_handles(self->fd, per, h));
		ASSERT_EQ(0, destroy(self->fd, pool));
		EXPECT_EQ(0, pool_count(FAUX_POOLS, name));
	}
	EXPECT_EQ(0U, nr_objects(self->fd));
}

/* DESTROY waits for the file's blocks; FREE_ALL frees them and leaves the pool. */
TEST_F(pool, destroy_refused_while_blocks_live)
{
	struct kmemlab_dma_pool s;
	__u32 pool = 0, h[3];

	ASSERT_EQ(0, dma_pool_create(self->fd, "dp-busy", KMEMLAB_DEV_FAUX, 256, 0, 0, &pool));
	ASSERT_EQ(0, dma_pool_alloc(self->fd, pool, 0, 3, h));
	EXPECT_EQ(-EBUSY, destroy(self->fd, pool));
	expect_pool(_metadata, FAUX_POOLS, "dp-busy", 3, 16, 256, 1);
	ASSERT_EQ(0, status(self->fd, pool, &s));
	EXPECT_EQ(3U, s.live);
	ASSERT_EQ(0, free_handles(self->fd, 2, h));
	EXPECT_EQ(-EBUSY, destroy(self->fd, pool)) TH_LOG("one block is enough");
	ASSERT_EQ(0, status(self->fd, pool, &s));
	EXPECT_EQ(1U, s.live);
	expect_pool(_metadata, FAUX_POOLS, "dp-busy", 1, 16, 256, 1);

	ASSERT_EQ(0, free_all(self->fd));
	ASSERT_EQ(0, status(self->fd, pool, &s)) TH_LOG("FREE_ALL leaves the pool");
	EXPECT_EQ(0U, s.live);
	expect_pool(_metadata, FAUX_POOLS, "dp-busy", 0, 16, 256, 1);
	ASSERT_EQ(0, destroy(self->fd, pool));
	EXPECT_EQ(0, pool_count(FAUX_POOLS, "dp-busy"));
	EXPECT_EQ(-ENOENT, status(self->fd, pool, &s));
	EXPECT_EQ(-ENOENT, destroy(self->fd, pool));
	EXPECT_EQ(-ENOENT, dma_pool_alloc(self->fd, pool, 0, 1, h)) TH_LOG("a destroyed pool");
	EXPECT_EQ(0U, nr_objects(self->fd));
}

/* One bad KMEMLAB_IOC_DMA_POOL request. */
struct bad_req {
	const char *name;
	__u32 op, handle, device, size, align, boundary, live, reserved;
	int err;
	const char *what;
};

/*
 * Every malformed request is refused with its errno and changes nothing:
 * the faux device's pools file reads the same, the file owns the same
 * objects, and the pool and block it had are as they were.
 */
TEST_F(pool, bad_requests_change_nothing)
{
	const __u32 max = (__u32)self->lim.dma_pool_block_max, C = KMEMLAB_DMA_POOL_CREATE;
	const __u32 D = KMEMLAB_DMA_POOL_DESTROY, S = KMEMLAB_DMA_POOL_STATUS;
	const __u32 F = KMEMLAB_DEV_FAUX;
	struct kmemlab_dma_pool s;
	__u32 keep = 0, h[2], obj, cache = 0, mempool = 0, other;
	__u32 objects;
	char *before, *after;

	ASSERT_EQ(0, dma_pool_create(self->fd, "dp-keep", F, 64, 0, 0, &keep));
	ASSERT_EQ(0, dma_pool_alloc(self->fd, keep, 0, 2, h));
	ASSERT_EQ(0, io(self->fd, KMEMLAB_IOC_FILL, h[0], 0, 64, 11, NULL));
	ASSERT_EQ(0, alloc1(self->fd, KMEMLAB_KIND_KMALLOC, 64, 0, KMEMLAB_NODE_ANY, 0, &obj));
	ASSERT_EQ(0, cache_create(self->fd, "dp-cache", 64, 0, &cache));
	ASSERT_EQ(0, mempool_create(self->fd, 0, 64, 1, &mempool));

	const struct bad_req bad[] = {
		{ "", C, 0, F, 64, 0, 0, 0, 0, -EINVAL, "an empty name" },
		{ "Dp", C, 0, F, 64, 0, 0, 0, 0, -EINVAL, "an upper-case name" },
		{ "dp.x", C, 0, F, 64, 0, 0, 0, 0, -EINVAL, "a dot in the name" },
		{ "dp x", C, 0, F, 64, 0, 0, 0, 0, -EINVAL, "a space in the name" },
		{ "dp/x", C, 0, F, 64, 0, 0, 0, 0, -EINVAL, "a slash in the name" },
		{ "dp\x80", C, 0, F, 64, 0, 0, 0, 0, -EINVAL, "a byte above 0x7f in the name" },
		{ "dp-bad", C, 0, 0, 64, 0, 0, 0, 0, -EINVAL, "device 0" },
		{ "dp-bad", C, 0, 3, 64, 0, 0, 0, 0, -EINVAL, "device 3" },
		{ "dp-bad", C, 0, F, 0, 0, 0, 0, 0, -EINVAL, "size 0" },
		{ "dp-bad", C, 0, F, max + 1, 0, 0, 0, 0, -EINVAL, "size past dma_pool_block_max" },
		{ "dp-bad", C, 0, F, ~0U, 0, 0, 0, 0, -EINVAL, "size 0xffffffff" },
		{ "dp-bad", C, 0, F, 64, 3, 0, 0, 0, -EINVAL, "align 3" },
		{ "dp-bad", C, 0, F, 64, 48, 0, 0, 0, -EINVAL, "align 48" },
		{ "dp-bad", C, 0, F, 64, 2 * PAGE, 0, 0, 0, -EINVAL, "align past the page size" },
		{ "dp-bad", C, 0, F, 64, 0, 3, 0, 0, -EINVAL, "boundary 3" },
		{ "dp-bad", C, 0, F, 64, 0, 96, 0, 0, -EINVAL, "boundary 96" },
		{ "dp-bad", C, 0, F, 48, 0, 32, 0, 0, -EINVAL, "boundary below the size" },
		{ "dp-bad", C, 0, F, 40, 128, 64, 0, 0, -EINVAL,
		  "boundary below the size aligned up" },
		{ "dp-bad", C, 0, F, 1, 0, 8, 0, 0, -EINVAL,
		  "boundary below the 16 bytes a block takes" },
		{ "dp-bad", C, 0, F, PAGE + 1, 0, 4 * PAGE, 0, 0, -EINVAL,
		  "a boundary for blocks above a page" },
		{ "dp-bad", C, 5, F, 64, 0, 0, 0, 0, -EINVAL, "CREATE with a handle" },
		{ "dp-bad", C, 0, F, 64, 0, 0, 1, 0, -EINVAL, "CREATE with live" },
		{ "dp-bad", C, 0, F, 64, 0, 0, 0, 1, -EINVAL, "CREATE with reserved" },
		{ "dp-bad", 3, 0, F, 64, 0, 0, 0, 0, -EINVAL, "op 3" },
		{ "", ~0U, keep, 0, 0, 0, 0, 0, 0, -EINVAL, "op 0xffffffff" },
		{ "", D, keep + 1000, 0, 0, 0, 0, 0, 0, -ENOENT, "DESTROY of an unknown handle" },
		{ "", S, 0, 0, 0, 0, 0, 0, 0, -ENOENT, "STATUS of handle 0" },
		{ "", D, obj, 0, 0, 0, 0, 0, 0, -ENOENT, "DESTROY of a kmalloc object" },
		{ "", S, h[0], 0, 0, 0, 0, 0, 0, -ENOENT, "STATUS of one of the pool's blocks" },
		{ "", D, cache, 0, 0, 0, 0, 0, 0, -ENOENT, "DESTROY of a cache" },
		{ "", S, mempool, 0, 0, 0, 0, 0, 0, -ENOENT, "STATUS of a mempool" },
		{ "dp-edu", C, 0, KMEMLAB_DEV_EDU, 64, 0, 0, 0, 0, -ENODEV,
		  "an edu pool without edu" },
	};
	const struct {
		__u64 size;
		__u32 order, cache, gfp, count;
		__s32 node;
		int err;
		const char *what;
	} bad_alloc[] = {
		{ 64, 0, keep, 0, 1, KMEMLAB_NODE_ANY, -EINVAL, "a size" },
		{ 0, 1, keep, 0, 1, KMEMLAB_NODE_ANY, -EINVAL, "an order" },
		{ 0, 0, keep, 0, 1, 0, -EINVAL, "a node" },
		{ 0, 0, keep, 0, 0, KMEMLAB_NODE_ANY, -EINVAL, "count 0" },
		{ 0, 0, keep, 0, KMEMLAB_BATCH_MAX + 1, KMEMLAB_NODE_ANY, -EINVAL,
		  "count past the batch" },
		{ 0, 0, keep + 1000, 0, 1, KMEMLAB_NODE_ANY, -ENOENT, "an unknown pool" },
		{ 0, 0, obj, 0, 1, KMEMLAB_NODE_ANY, -ENOENT, "a kmalloc object for the pool" },
		{ 0, 0, cache, 0, 1, KMEMLAB_NODE_ANY, -ENOENT, "a cache for the pool" },
		{ 0, 0, mempool, KMEMLAB_GFP_NOWAIT, 1, KMEMLAB_NODE_ANY, -ENOENT,
		  "a mempool for the pool" },
	};
	/* What DESTROY and STATUS must be given as 0 (all but op and handle). */
	static const struct {
		size_t offset;
		const char *what;
	} not_theirs[] = {
		{ offsetof(struct kmemlab_dma_pool, name), "a name" },
		{ offsetof(struct kmemlab_dma_pool, device), "a device" },
		{ offsetof(struct kmemlab_dma_pool, size), "a size" },
		{ offsetof(struct kmemlab_dma_pool, align), "an alignment" },
		{ offsetof(struct kmemlab_dma_pool, boundary), "a boundary" },
		{ offsetof(struct kmemlab_dma_pool, live), "live" },
		{ offsetof(struct kmemlab_dma_pool, reserved), "reserved" },
	};
	bool edu = has_edu(self->fd);

	objects = nr_objects(self->fd);
	before = read_file(FAUX_POOLS);
	ASSERT_NE(NULL, before);
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		struct kmemlab_dma_pool p = {
			.op = bad[i].op, .handle = bad[i].handle, .device = bad[i].device,
			.size = bad[i].size, .align = bad[i].align, .boundary = bad[i].boundary,
			.live = bad[i].live, .reserved = bad[i].reserved,
		};

		if (bad[i].err == -ENODEV && edu)
			continue;
		strncpy(p.name, bad[i].name, sizeof(p.name) - 1);
		EXPECT_EQ(bad[i].err, pool_ioc(self->fd, &p)) TH_LOG("%s", bad[i].what);
		after = read_file(FAUX_POOLS);
		EXPECT_TRUE(pools_same(before, after))
			TH_LOG("%s changed the pools file:\n%s", bad[i].what,
			       after ? after : "(gone)");
		free(after);
		EXPECT_EQ(objects, nr_objects(self->fd)) TH_LOG("%s", bad[i].what);
	}
	for (__u32 op = D; op <= S; op++) {
		for (size_t i = 0; i < ARRAY_SIZE(not_theirs); i++) {
			struct kmemlab_dma_pool p = { .op = op, .handle = keep };

			((unsigned char *)&p)[not_theirs[i].offset] = 1;
			EXPECT_EQ(-EINVAL, pool_ioc(self->fd, &p))
				TH_LOG("%s with %s", op == D ? "DESTROY" : "STATUS",
				       not_theirs[i].what);
		}
	}

	/* Names: 24 characters with no NUL, and a byte after the NUL. */
	{
		struct kmemlab_dma_pool p = {
			.op = C, .device = F, .size = 64,
		};

		memset(p.name, 'a', sizeof(p.name));
		EXPECT_EQ(-EINVAL, pool_ioc(self->fd, &p)) TH_LOG("a name with no NUL");
		memset(p.name, 0, sizeof(p.name));
		strcpy(p.name, "dp");
		p.name[5] = 'x';
		EXPECT_EQ(-EINVAL, pool_ioc(self->fd, &p)) TH_LOG("a byte after the NUL");
	}
	for (size_t i = 0; i < ARRAY_SIZE(bad_alloc); i++) {
		EXPECT_EQ(bad_alloc[i].err,
			  alloc_n(self->fd, KMEMLAB_KIND_DMA_POOL, bad_alloc[i].size,
				  bad_alloc[i].order, bad_alloc[i].node, bad_alloc[i].cache,
				  bad_alloc[i].gfp, bad_alloc[i].count, &other))
			TH_LOG("ALLOC of a block with %s", bad_alloc[i].what);
	}
	/* The pool's handle where another kind's is wanted. */
	EXPECT_EQ(-ENOENT, alloc1(self->fd, KMEMLAB_KIND_KMEM_CACHE, 0, 0, KMEMLAB_NODE_ANY, keep,
				  &other));
	EXPECT_EQ(-ENOENT, alloc_n(self->fd, KMEMLAB_KIND_MEMPOOL, 0, 0, KMEMLAB_NODE_ANY, keep,
				   KMEMLAB_GFP_NOWAIT, 1, &other));
	{
		struct kmemlab_cache_destroy d = { .handle = keep };
		struct kmemlab_mempool m;

		EXPECT_EQ(-1, ioctl(self->fd, KMEMLAB_IOC_CACHE_DESTROY, &d));
		EXPECT_EQ(ENOENT, errno) TH_LOG("CACHE_DESTROY of a DMA pool");
		EXPECT_EQ(-ENOENT, mempool_op(self->fd, KMEMLAB_MEMPOOL_STATUS, keep, &m));
	}
	/*
	 * A CREATE whose reply cannot be written: EFAULT, and the pool it made
	 * is gone again, handle included (the next one made gets the same).
	 */
	{
		struct kmemlab_dma_pool *ro = mmap(NULL, PAGE, PROT_READ | PROT_WRITE,
						   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		__u32 next = 0, again = 0;

		ASSERT_NE(MAP_FAILED, ro);
		*ro = (struct kmemlab_dma_pool){
			.name = "dp-ro", .op = C, .device = F, .size = 64,
		};
		ASSERT_EQ(0, mprotect(ro, PAGE, PROT_READ));
		ASSERT_EQ(0, dma_pool_create(self->fd, "dp-next", F, 64, 0, 0, &next));
		ASSERT_EQ(0, destroy(self->fd, next));
		EXPECT_EQ(-EFAULT, pool_ioc(self->fd, ro));
		munmap(ro, PAGE);
		EXPECT_EQ(0, pool_count(FAUX_POOLS, "dp-ro"));
		ASSERT_EQ(0, dma_pool_create(self->fd, "dp-next", F, 64, 0, 0, &again));
		EXPECT_EQ(next + 1, again) TH_LOG("the failed CREATE kept no handle");
		ASSERT_EQ(0, destroy(self->fd, again));
	}

	after = read_file(FAUX_POOLS);
	EXPECT_TRUE(pools_same(before, after)) TH_LOG("before:\n%s\nafter:\n%s", before,
						      after ? after : "(gone)");
	free(after);
	free(before);
	EXPECT_EQ(objects, nr_objects(self->fd));
	expect_pool(_metadata, FAUX_POOLS, "dp-keep", 2, 64, 64, 1);
	ASSERT_EQ(0, status(self->fd, keep, &s));
	EXPECT_EQ(2U, s.live);
	EXPECT_EQ(64U, s.size);
	expect_pattern(_metadata, self->fd, h[0], 0, 64, 11);
}

/*
 * A pool is one of the file's objects for the quota: with max_objects
 * objects held, neither a pool nor a block more is made, and neither shows
 * in the pools file.
 */
TEST_F_TIMEOUT(pool, a_pool_counts_against_max_objects, 120)
{
	static __u32 handles[KMEMLAB_BATCH_MAX];
	__u64 done, left;
	__u32 pool = 0, other = 0, h;

	ASSERT_GE(1ULL << 20, self->lim.max_objects)
		TH_LOG("max_objects %llu: too many to exhaust",
		       (unsigned long long)self->lim.max_objects);
	/* All but one slot: 8-byte kmallocs. */
	for (done = 0; done < self->lim.max_objects - 1; done += left) {
		left = self->lim.max_objects - 1 - done;
		if (left > KMEMLAB_BATCH_MAX)
			left = KMEMLAB_BATCH_MAX;
		ASSERT_EQ(0, alloc_n(self->fd, KMEMLAB_KIND_KMALLOC, 8, 0, KMEMLAB_NODE_ANY, 0, 0,
				     (__u32)left, handles));
	}
	ASSERT_EQ(0, dma_pool_create(self->fd, "dp-quota", KMEMLAB_DEV_FAUX, 64, 0, 0, &pool))
		TH_LOG("the last slot");
	EXPECT_EQ(-ENOMEM, dma_pool_alloc(self->fd, pool, 0, 1, &h)) TH_LOG("the pool took it");
	EXPECT_EQ(-ENOMEM, dma_pool_create(self->fd, "dp-quota2", KMEMLAB_DEV_FAUX, 64, 0, 0,
					   &other));
	expect_pool(_metadata, FAUX_POOLS, "dp-quota", 0, 0, 64, 0);
	EXPECT_EQ(0, pool_count(FAUX_POOLS, "dp-quota2"));
	/* A slot freed: one block, then full again. */
	h = handles[0];
	ASSERT_EQ(0, free_handles(self->fd, 1, &h));
	ASSERT_EQ(0, dma_pool_alloc(self->fd, pool, 0, 1, &h));
	EXPECT_EQ(-ENOMEM, dma_pool_alloc(self->fd, pool, 0, 1, &other));
	expect_pool(_metadata, FAUX_POOLS, "dp-quota", 1, 64, 64, 1);
	/* The pool destroyed, its slot (and the block's) can hold two pools. */
	ASSERT_EQ(0, free_handles(self->fd, 1, &h));
	ASSERT_EQ(0, destroy(self->fd, pool));
	ASSERT_EQ(0, dma_pool_create(self->fd, "dp-quota", KMEMLAB_DEV_FAUX, 64, 0, 0, &pool));
	ASSERT_EQ(0, dma_pool_create(self->fd, "dp-quota2", KMEMLAB_DEV_FAUX, 64, 0, 0, &other));
	EXPECT_EQ(-ENOMEM, dma_pool_alloc(self->fd, other, 0, 1, &h));
	ASSERT_EQ(0, free_all(self->fd));
}

/*
 * Every block comes out zeroed, a block given back and taken again too:
 * one page's blocks are filled, freed and taken again (the pool still has
 * one page, so every one is a block that was filled), with and without ZERO.
 */
TEST_F(pool, blocks_are_zeroed_when_reused)
{
	static const __u32 gfps[] = {
		KMEMLAB_GFP_KERNEL, KMEMLAB_GFP_ZERO, KMEMLAB_GFP_ATOMIC | KMEMLAB_GFP_NOWARN,
		KMEMLAB_GFP_NOIO,
	};
	__u32 pool = 0, h[8];

	ASSERT_EQ(0, dma_pool_create(self->fd, "dp-reuse", KMEMLAB_DEV_FAUX, 512, 0, 0, &pool));
	ASSERT_EQ(0, dma_pool_alloc(self->fd, pool, 0, 8, h));
	expect_pool(_metadata, FAUX_POOLS, "dp-reuse", 8, 8, 512, 1);
	for (size_t g = 0; g < ARRAY_SIZE(gfps); g++) {
		for (int i = 0; i < 8; i++) {
			ASSERT_EQ(0, io(self->fd, KMEMLAB_IOC_FILL, h[i], 0, 512, 0x5e + i, NULL));
			expect_pattern(_metadata, self->fd, h[i], 0, 512, 0x5e + i);
		}
		ASSERT_EQ(0, free_handles(self->fd, 8, h));
		expect_pool(_metadata, FAUX_POOLS, "dp-reuse", 0, 8, 512, 1);
		ASSERT_EQ(0, dma_pool_alloc(self->fd, pool, gfps[g], 8, h))
			TH_LOG("gfp %#x", gfps[g]);
		expect_pool(_metadata, FAUX_POOLS, "dp-reuse", 8, 8, 512, 1);
		for (int i = 0; i < 8; i++)
			expect_zeroes(_metadata, self->fd, h[i], 512);
	}
	/* One at a time: the block just freed. */
	ASSERT_EQ(0, io(self->fd, KMEMLAB_IOC_FILL, h[7], 0, 512, 0x77, NULL));
	ASSERT_EQ(0, free_handles(self->fd, 1, &h[7]));
	ASSERT_EQ(0, dma_pool_alloc(self->fd, pool, 0, 1, &h[7]));
	expect_zeroes(_metadata, self->fd, h[7], 512);
	expect_pool(_metadata, FAUX_POOLS, "dp-reuse", 8, 8, 512, 1);
	ASSERT_EQ(0, free_all(self->fd));
	ASSERT_EQ(0, destroy(self->fd, pool));
}

/*
 * A block's bytes are the size asked, whatever the pool rounded it up to:
 * read, write, fill and verify within it, and nothing past it; a block's
 * neighbours keep their bytes.
 */
TEST_F(pool, fill_verify_and_bounds)
{
	unsigned char buf[64];
	struct kmemlab_info in;
	__u32 pool = 0, h[3];

	ASSERT_EQ(0, dma_pool_create(self->fd, "dp-bytes", KMEMLAB_DEV_FAUX, 40, 64, 0, &pool));
	ASSERT_EQ(0, dma_pool_alloc(self->fd, pool, 0, 3, h));
	expect_pool(_metadata, FAUX_POOLS, "dp-bytes", 3, 64, 64, 1);
	ASSERT_EQ(0, info(self->fd, h[0], &in));
	EXPECT_EQ(40U, in.size);
	round_trip(_metadata, self->fd, h[0], 40);
	EXPECT_EQ(-EINVAL, io(self->fd, KMEMLAB_IOC_READ, h[1], 0, 41, (unsigned long)buf, NULL));
	EXPECT_EQ(-EINVAL, io(self->fd, KMEMLAB_IOC_WRITE, h[1], 1, 40, (unsigned long)buf, NULL));
	EXPECT_EQ(-EINVAL, io(self->fd, KMEMLAB_IOC_FILL, h[1], 40, 1, 1, NULL));
	EXPECT_EQ(-EINVAL, io(self->fd, KMEMLAB_IOC_VERIFY, h[1], 0, 64, 1, NULL));
	EXPECT_EQ(0, io(self->fd, KMEMLAB_IOC_FILL, h[1], 40, 0, 1, NULL));

	/* Neighbours: what is done to one block leaves the others as they were. */
	ASSERT_EQ(0, io(self->fd, KMEMLAB_IOC_FILL, h[1], 0, 40, 0xb1, NULL));
	ASSERT_EQ(0, io(self->fd, KMEMLAB_IOC_FILL, h[2], 0, 40, 0xb2, NULL));
	memset(buf, 0xff, sizeof(buf));
	ASSERT_EQ(0, io(self->fd, KMEMLAB_IOC_WRITE, h[0], 0, 40, (unsigned long)buf, NULL));
	ASSERT_EQ(0, io(self->fd, KMEMLAB_IOC_FILL, h[0], 10, 20, 0xb0, NULL));
	expect_pattern(_metadata, self->fd, h[0], 10, 20, 0xb0);
	expect_pattern(_metadata, self->fd, h[1], 0, 40, 0xb1);
	expect_pattern(_metadata, self->fd, h[2], 0, 40, 0xb2);
	ASSERT_EQ(0, io(self->fd, KMEMLAB_IOC_READ, h[0], 0, 40, (unsigned long)buf, NULL));
	EXPECT_EQ(10U, first_not(buf, 10, 0xff));
	EXPECT_EQ(10U, first_not(buf + 30, 10, 0xff));
	ASSERT_EQ(0, free_handles(self->fd, 1, &h[1]));
	expect_pattern(_metadata, self->fd, h[2], 0, 40, 0xb2);
	ASSERT_EQ(0, free_all(self->fd));
	ASSERT_EQ(0, destroy(self->fd, pool));
}

/* The pools file of the bound edu device into @path, or a skip. */
#define NEED_EDU(path)								\
	do {									\
		struct edu_pci _edu;						\
										\
		if (!has_edu(self->fd) || !find_edu(&_edu))			\
			SKIP(return, "edu is not bound (no KMEMLAB_FEAT_EDU)");	\
		edu_pools_path(&_edu, path, sizeof(path));			\
	} while (0)

/*
 * edu's DMA engine moves bytes between blocks of an edu pool, and between a
 * block and a DMA_COHERENT buffer, both ways; the CPU does not touch them.
 * Blocks of a faux pool, or ranges past the size asked, are refused.
 */
TEST_F(pool, edu_dma_round_trip)
{
	unsigned char src[2000], dst[2000];
	char path[PATH_MAX];
	__u32 pool = 0, page_pool = 0, faux_pool = 0, h[2], big[2], coh, faux;

	NEED_EDU(path);
	/* 2000 bytes aligned to 64: 2048-byte blocks, two to a page. */
	ASSERT_EQ(0, dma_pool_create(self->fd, "dp-edu", KMEMLAB_DEV_EDU, 2000, 64, 0, &pool));
	ASSERT_EQ(0, dma_pool_alloc(self->fd, pool, 0, 2, h));
	expect_pool(_metadata, path, "dp-edu", 2, 2, 2048, 1);
	EXPECT_EQ(0, pool_count(FAUX_POOLS, "dp-edu")) TH_LOG("an edu pool is edu's");

	/* Block to block: the whole of it, then a shifted range. */
	edu_whole_and_shifted(_metadata, self->fd, h[0], h[1], 2000, 0xd0);

	/* A coherent buffer into a block, and a block into the buffer. */
	ASSERT_EQ(0, alloc_n(self->fd, KMEMLAB_KIND_DMA_COHERENT, 4096, 0, KMEMLAB_NODE_ANY,
			     KMEMLAB_DEV_EDU, 0, 1, &coh));
	ASSERT_EQ(0, io(self->fd, KMEMLAB_IOC_FILL, coh, 0, 4096, 0xd3, NULL));
	ASSERT_EQ(0, dma_copy(self->fd, coh, h[0], 0, 0, 2000));
	expect_pattern(_metadata, self->fd, h[0], 0, 2000, 0xd3);
	ASSERT_EQ(0, dma_copy(self->fd, h[1], coh, 0, 2048, 2000));
	ASSERT_EQ(0, io(self->fd, KMEMLAB_IOC_READ, h[1], 0, 2000, (unsigned long)dst, NULL));
	ASSERT_EQ(0, io(self->fd, KMEMLAB_IOC_READ, coh, 2048, 2000, (unsigned long)src, NULL));
	EXPECT_EQ(0, memcmp(src, dst, 2000));
	expect_pattern(_metadata, self->fd, coh, 0, 2048, 0xd3);

	/* A page-sized block: a full-length transfer. */
	ASSERT_EQ(0, dma_pool_create(self->fd, "dp-edu-page", KMEMLAB_DEV_EDU, 4096, 0, 0,
				     &page_pool));
	ASSERT_EQ(0, dma_pool_alloc(self->fd, page_pool, 0, 2, big));
	expect_pool(_metadata, path, "dp-edu-page", 2, 2, 4096, 2);
	ASSERT_EQ(0, io(self->fd, KMEMLAB_IOC_FILL, big[0], 0, 4096, 0xd4, NULL));
	ASSERT_EQ(0, dma_copy(self->fd, big[0], big[1], 0, 0, KMEMLAB_EDU_DMA_MAX));
	expect_pattern(_metadata, self->fd, big[1], 0, 4096, 0xd4);

	/* Refused: a faux block either way, ranges past the size asked. */
	ASSERT_EQ(0, dma_pool_create(self->fd, "dp-faux", KMEMLAB_DEV_FAUX, 2000, 64, 0,
				     &faux_pool));
	ASSERT_EQ(0, dma_pool_alloc(self->fd, faux_pool, 0, 1, &faux));
	ASSERT_EQ(0, io(self->fd, KMEMLAB_IOC_FILL, faux, 0, 2000, 0xd5, NULL));
	ASSERT_EQ(0, io(self->fd, KMEMLAB_IOC_FILL, h[1], 0, 2000, 0xd6, NULL));
	EXPECT_EQ(-EINVAL, dma_copy(self->fd, faux, h[1], 0, 0, 100)) TH_LOG("a faux source");
	EXPECT_EQ(-EINVAL, dma_copy(self->fd, h[0], faux, 0, 0, 100)) TH_LOG("a faux destination");
	EXPECT_EQ(-EINVAL, dma_copy(self->fd, h[0], h[1], 0, 0, 2001)) TH_LOG("past the blocks");
	EXPECT_EQ(-EINVAL, dma_copy(self->fd, h[0], h[1], 1999, 0, 2)) TH_LOG("past the source");
	EXPECT_EQ(-EINVAL, dma_copy(self->fd, h[0], h[1], 0, 2000, 1))
		TH_LOG("past the destination");
	EXPECT_EQ(-EINVAL, dma_copy(self->fd, h[0], h[0], 0, 1000, 100)) TH_LOG("the same block");
	expect_pattern(_metadata, self->fd, faux, 0, 2000, 0xd5);
	expect_pattern(_metadata, self->fd, h[1], 0, 2000, 0xd6);

	ASSERT_EQ(0, free_all(self->fd));
	expect_pool(_metadata, path, "dp-edu", 0, 2, 2048, 1);
	ASSERT_EQ(0, destroy(self->fd, pool));
	ASSERT_EQ(0, destroy(self->fd, page_pool));
	ASSERT_EQ(0, destroy(self->fd, faux_pool));
	EXPECT_EQ(0, pool_count(path, "dp-edu"));
	EXPECT_EQ(0, pool_count(path, "dp-edu-page"));
}

/*
 * Every GFP choice the ABI header's table gives DMA pools allocates (INFO
 * reports it, the block reads as zeroes, the pool counts it); every other
 * is refused with EINVAL, and makes nothing.
 */
TEST_F(pool, gfp_accepted_and_refused)
{
	static const __u32 bases[] = {
		KMEMLAB_GFP_KERNEL, KMEMLAB_GFP_ATOMIC, KMEMLAB_GFP_NOWAIT, KMEMLAB_GFP_NOIO,
		KMEMLAB_GFP_NOFS, KMEMLAB_GFP_USER,
	};
	static const __u32 mods[] = { KMEMLAB_GFP_ZERO, KMEMLAB_GFP_NOWARN, KMEMLAB_GFP_NORETRY,
				      KMEMLAB_GFP_RETRY_MAYFAIL };
	static const struct {
		__u32 gfp;
		__s32 node;
	} refused[] = {
		{ KMEMLAB_GFP_HIGHUSER, KMEMLAB_NODE_ANY },
		{ KMEMLAB_GFP_HIGHUSER_MOVABLE, KMEMLAB_NODE_ANY },
		{ KMEMLAB_GFP_HIGHUSER | KMEMLAB_GFP_ZERO, KMEMLAB_NODE_ANY },
		{ 0x8, KMEMLAB_NODE_ANY },
		{ 0xf, KMEMLAB_NODE_ANY },
		{ KMEMLAB_GFP_DMA, KMEMLAB_NODE_ANY },
		{ KMEMLAB_GFP_DMA32, KMEMLAB_NODE_ANY },
		{ KMEMLAB_GFP_ATOMIC | KMEMLAB_GFP_DMA32, KMEMLAB_NODE_ANY },
		{ KMEMLAB_GFP_ACCOUNT, KMEMLAB_NODE_ANY },
		{ KMEMLAB_GFP_NOFS | KMEMLAB_GFP_ACCOUNT | KMEMLAB_GFP_ZERO, KMEMLAB_NODE_ANY },
		{ KMEMLAB_GFP_THISNODE, KMEMLAB_NODE_ANY },
		{ KMEMLAB_GFP_THISNODE, 0 },
		{ KMEMLAB_GFP_NORETRY | KMEMLAB_GFP_RETRY_MAYFAIL, KMEMLAB_NODE_ANY },
		{ 0x1000, KMEMLAB_NODE_ANY },
		{ 0x8000, KMEMLAB_NODE_ANY },
	};
	static __u32 held[ARRAY_SIZE(bases) << ARRAY_SIZE(mods)];
	__u32 pool = 0, n = 0, h, objects;
	struct pool_line l = { 0 };
	unsigned long active;

	ASSERT_EQ(0, dma_pool_create(self->fd, "dp-gfp", KMEMLAB_DEV_FAUX, 128, 0, 0, &pool));
	for (size_t b = 0; b < ARRAY_SIZE(bases); b++) {
		for (__u32 set = 0; set < 1u << ARRAY_SIZE(mods); set++) {
			struct kmemlab_info in;
			__u32 gfp = bases[b];
			bool atomic = bases[b] == KMEMLAB_GFP_ATOMIC ||
				      bases[b] == KMEMLAB_GFP_NOWAIT;
			int e;

			for (size_t m = 0; m < ARRAY_SIZE(mods); m++)
				if (set >> m & 1)
					gfp |= mods[m];
			if ((gfp & KMEMLAB_GFP_NORETRY) && (gfp & KMEMLAB_GFP_RETRY_MAYFAIL))
				continue;	/* refused everywhere: below */
			e = dma_pool_alloc(self->fd, pool, gfp, 1, &h);
			/* Non-sleeping masks may find no memory, never EINVAL. */
			EXPECT_TRUE(e == 0 || (e == -ENOMEM && atomic))
				TH_LOG("gfp %#x: %s", gfp, strerror(-e));
			if (e)
				continue;
			held[n++] = h;
			ASSERT_EQ(0, info(self->fd, h, &in));
			EXPECT_EQ(gfp, in.gfp);
			EXPECT_EQ(KMEMLAB_KIND_DMA_POOL, in.kind);
			expect_zeroes(_metadata, self->fd, h, 128);
		}
	}
	/* 6 bases x 12 modifier sets: 72 blocks of 128 bytes, three pages. */
	EXPECT_EQ(72U, n);
	ASSERT_EQ(1, pool_lines(FAUX_POOLS, "kmemlab-dp-gfp", &l));
	EXPECT_EQ(n, l.active);
	EXPECT_EQ((n + 31) / 32, l.pages);
	active = l.active;

	objects = nr_objects(self->fd);
	for (size_t i = 0; i < ARRAY_SIZE(refused); i++) {
		EXPECT_EQ(-EINVAL, alloc_n(self->fd, KMEMLAB_KIND_DMA_POOL, 0, 0, refused[i].node,
					   pool, refused[i].gfp, 1, &h))
			TH_LOG("gfp %#x node %d", refused[i].gfp, refused[i].node);
		EXPECT_EQ(objects, nr_objects(self->fd)) TH_LOG("gfp %#x", refused[i].gfp);
		ASSERT_EQ(1, pool_lines(FAUX_POOLS, "kmemlab-dp-gfp", &l));
		EXPECT_EQ(active, l.active) TH_LOG("gfp %#x took a block", refused[i].gfp);
	}
	ASSERT_EQ(0, free_handles(self->fd, n, held));
	expect_pool(_metadata, FAUX_POOLS, "dp-gfp", 0, l.blocks, 128, l.pages);
	ASSERT_EQ(0, destroy(self->fd, pool));
}

/*
 * BENCH of kind DMA_POOL takes its blocks from the pool asked for, through
 * kmemlab's Rust and through the raw-C baseline alike: the pool gains a page
 * (shown in its pools file) and has every block back when the run ends;
 * the file gains no object.
 */
TEST_F(pool, bench_takes_blocks_from_the_pool)
{
	static const __u32 flags[] = { 0, KMEMLAB_BENCH_NO_STATS, KMEMLAB_BENCH_RAW_C };
	struct kmemlab_dma_pool s;
	__u32 pool = 0, cache = 0;

	ASSERT_EQ(0, dma_pool_create(self->fd, "dp-bench", KMEMLAB_DEV_FAUX, 64, 0, 0, &pool));
	ASSERT_EQ(0, cache_create(self->fd, "dp-bench", 64, 0, &cache));
	for (size_t f = 0; f < ARRAY_SIZE(flags); f++) {
		for (__u32 threads = 0; threads <= 1; threads++) {
			struct kmemlab_bench b = {
				.op = KMEMLAB_BENCH_ALLOC_FREE, .kind = KMEMLAB_KIND_DMA_POOL,
				.node = KMEMLAB_NODE_ANY, .cache = pool, .flags = flags[f],
				.iterations = 50, .batch = 8, .threads = threads,
			};

			ASSERT_EQ(0, ioctl(self->fd, KMEMLAB_IOC_BENCH, &b))
				TH_LOG("flags %#x threads %u: %s", flags[f], threads,
				       strerror(errno));
			EXPECT_EQ(50ULL * 8, b.ops);
			/* The run's 8 blocks at a time fit in the page it took. */
			expect_pool(_metadata, FAUX_POOLS, "dp-bench", 0, 64, 64, 1);
		}
	}
	ASSERT_EQ(0, status(self->fd, pool, &s));
	EXPECT_EQ(0U, s.live) TH_LOG("a run's blocks are not the file's");
	EXPECT_EQ(0U, nr_objects(self->fd));

	/* Refused like ALLOC: a size, another kind's handle, an unknown pool, HIGHUSER. */
	for (int i = 0; i < 4; i++) {
		struct kmemlab_bench b = {
			.op = KMEMLAB_BENCH_ALLOC_FREE, .kind = KMEMLAB_KIND_DMA_POOL,
			.node = KMEMLAB_NODE_ANY, .cache = pool, .iterations = 1, .batch = 1,
		};
		int err = i == 1 || i == 2 ? -ENOENT : -EINVAL;

		if (i == 0)
			b.size = 64;
		else if (i == 1)
			b.cache = cache;
		else if (i == 2)
			b.cache = pool + 1000;
		else
			b.gfp = KMEMLAB_GFP_HIGHUSER;
		EXPECT_EQ(err, ioctl(self->fd, KMEMLAB_IOC_BENCH, &b) ? -errno : 0)
			TH_LOG("refused BENCH %d", i);
	}
	ASSERT_EQ(0, destroy(self->fd, pool));
}

/* ---- unbinding edu with pools live ---- */

/*
 * The unbind test's fixture: edu is bound again at the end, by the parent,
 * whatever became of the test (a failed assertion, a timeout).
 */
FIXTURE(unbind) {
	int fd;
	bool unbound;
	struct edu_pci edu;
};

FIXTURE_SETUP(unbind)
{
	self->unbound = false;
	self->fd = open_dev(_metadata);
	if (!has_edu(self->fd) || !find_edu(&self->edu))
		SKIP(return, "QEMU's edu device is not bound to kmemlab");
}

FIXTURE_TEARDOWN_PARENT(unbind)
{
	if (self->unbound && edu_driver_write("bind", self->edu.name))
		TH_LOG("could not bind %s again", self->edu.name);
}

/* /dev/kmsg read from its end: what the kernel logs from now on; -1 without it. */
static int kmsg_from_now(void)
{
	int fd = open("/dev/kmsg", O_RDONLY | O_NONBLOCK | O_CLOEXEC);

	if (fd >= 0 && lseek(fd, 0, SEEK_END) < 0) {
		close(fd);
		fd = -1;
	}
	return fd;
}

/*
 * The records logged since: the count of kmemlab's unbind message into
 * *@freed (-1 without one), and whether dma_pool_destroy() said a pool was
 * busy (it had blocks in use) into *@busy.
 */
static void kmsg_scan(int fd, long *freed, bool *busy)
{
	char rec[8192];
	const char *at;
	ssize_t n;

	*freed = -1;
	*busy = false;
	for (;;) {
		n = read(fd, rec, sizeof(rec) - 1);
		if (n < 0 && errno == EPIPE)
			continue;	/* records overwritten meanwhile: read on */
		if (n <= 0)
			break;
		rec[n] = 0;
		at = strstr(rec, UNBOUND_MSG);
		if (at)
			*freed = strtol(at + strlen(UNBOUND_MSG), NULL, 10);
		if (strstr(rec, "dma_pool_destroy") && strstr(rec, "busy"))
			*busy = true;
	}
}

/*
 * Unbinding edu with pools live destroys them at once, their blocks first:
 * edu's pools file goes, the kernel logs kmemlab's count of what it freed
 * (each pool and each block) and no "busy" pool, the handles answer ENODEV
 * but for FREE and INFO, DESTROY still waits for the file's blocks, the
 * faux device's pools are untouched, and edu bound again takes new pools.
 */
TEST_F(unbind, edu_unbind_destroys_pools_and_their_blocks)
{
	char path[PATH_MAX];
	struct kmemlab_dma_pool s;
	struct kmemlab_info in;
	unsigned char byte = 0;
	__u32 a = 0, b = 0, faux_pool = 0, h[5], faux, again = 0;
	__u64 result;
	long freed;
	bool busy;
	int kmsg;

	edu_pools_path(&self->edu, path, sizeof(path));
	ASSERT_EQ(0, dma_pool_create(self->fd, "dp-unbind-a", KMEMLAB_DEV_EDU, 512, 0, 0, &a));
	ASSERT_EQ(0, dma_pool_create(self->fd, "dp-unbind-b", KMEMLAB_DEV_EDU, 64, 0, 128, &b));
	ASSERT_EQ(0, dma_pool_alloc(self->fd, a, 0, 5, h));
	ASSERT_EQ(0, free_handles(self->fd, 1, &h[4]));
	ASSERT_EQ(0, io(self->fd, KMEMLAB_IOC_FILL, h[0], 0, 512, 0xab, NULL));
	ASSERT_EQ(0, dma_pool_create(self->fd, "dp-unbind-f", KMEMLAB_DEV_FAUX, 512, 0, 0,
				     &faux_pool));
	ASSERT_EQ(0, dma_pool_alloc(self->fd, faux_pool, 0, 1, &faux));
	ASSERT_EQ(0, io(self->fd, KMEMLAB_IOC_FILL, faux, 0, 512, 0xfa, NULL));
	expect_pool(_metadata, path, "dp-unbind-a", 4, 8, 512, 1);
	expect_pool(_metadata, path, "dp-unbind-b", 0, 0, 64, 0);

	kmsg = kmsg_from_now();
	ASSERT_EQ(0, edu_driver_write("unbind", self->edu.name)) TH_LOG("cannot unbind %s",
									 self->edu.name);
	self->unbound = true;
	EXPECT_FALSE(has_edu(self->fd));
	EXPECT_FALSE(edu_bound_to_kmemlab(&self->edu));
	EXPECT_NE(0, access(path, F_OK)) TH_LOG("edu has no pool left: %s is gone", path);
	if (kmsg < 0) {
		TH_LOG("no /dev/kmsg: the kernel's log is not checked");
	} else {
		kmsg_scan(kmsg, &freed, &busy);
		close(kmsg);
		EXPECT_EQ(2 + 4, freed) TH_LOG("\"" UNBOUND_MSG "N\": the 2 pools and 4 blocks");
		EXPECT_FALSE(busy) TH_LOG("dma_pool_destroy() found a pool with blocks in use");
	}

	/* The blocks: ENODEV but for FREE and INFO. */
	EXPECT_EQ(-ENODEV, io(self->fd, KMEMLAB_IOC_READ, h[0], 0, 1, (unsigned long)&byte, NULL));
	EXPECT_EQ(-ENODEV, io(self->fd, KMEMLAB_IOC_WRITE, h[0], 0, 1, (unsigned long)&byte, NULL));
	EXPECT_EQ(-ENODEV, io(self->fd, KMEMLAB_IOC_FILL, h[1], 0, 512, 1, NULL));
	EXPECT_EQ(-ENODEV, io(self->fd, KMEMLAB_IOC_VERIFY, h[0], 0, 512, 0xab, &result));
	EXPECT_EQ(-ENODEV, dma_copy(self->fd, h[0], h[1], 0, 0, 512));
	ASSERT_EQ(0, info(self->fd, h[2], &in));
	EXPECT_EQ(KMEMLAB_KIND_DMA_POOL, in.kind);
	EXPECT_EQ(a, in.cache);
	EXPECT_EQ(512U, in.size);
	/* The pools: no block, no new pool; STATUS as before; DESTROY waits for the file's blocks. */
	EXPECT_EQ(-ENODEV, dma_pool_alloc(self->fd, a, 0, 1, &h[4]));
	EXPECT_EQ(-ENODEV, dma_pool_alloc(self->fd, b, 0, 1, &h[4]));
	ASSERT_EQ(0, status(self->fd, a, &s));
	EXPECT_EQ((__u32)KMEMLAB_DEV_EDU, s.device);
	EXPECT_EQ(4U, s.live) TH_LOG("the file's 4 blocks, freed by the unbind, still held");
	EXPECT_EQ(-ENODEV, dma_pool_create(self->fd, "dp-unbind-c", KMEMLAB_DEV_EDU, 64, 0, 0,
					   &again));
	EXPECT_EQ(-EBUSY, destroy(self->fd, a)) TH_LOG("the file still holds 4 of its blocks");
	EXPECT_EQ(0, destroy(self->fd, b)) TH_LOG("no block of it is held");
	EXPECT_EQ(0, free_handles(self->fd, 4, h));
	EXPECT_EQ(0, destroy(self->fd, a));
	EXPECT_EQ(-ENOENT, status(self->fd, a, &s));
	/* The faux device is another device: untouched. */
	expect_pool(_metadata, FAUX_POOLS, "dp-unbind-f", 1, 8, 512, 1);
	expect_pattern(_metadata, self->fd, faux, 0, 512, 0xfa);
	EXPECT_EQ(1U, nr_objects(self->fd));

	/* Bound again: no pool from before, new ones work. */
	ASSERT_EQ(0, edu_driver_write("bind", self->edu.name)) TH_LOG("cannot bind %s again",
								       self->edu.name);
	self->unbound = false;
	ASSERT_TRUE(has_edu(self->fd));
	EXPECT_NE(0, access(path, F_OK)) TH_LOG("a new binding starts with no pool");
	ASSERT_EQ(0, dma_pool_create(self->fd, "dp-unbind-a", KMEMLAB_DEV_EDU, 512, 0, 0, &again));
	ASSERT_EQ(0, dma_pool_alloc(self->fd, again, 0, 2, h));
	ASSERT_EQ(0, io(self->fd, KMEMLAB_IOC_FILL, h[0], 0, 512, 0xac, NULL));
	ASSERT_EQ(0, dma_copy(self->fd, h[0], h[1], 0, 0, 512));
	expect_pattern(_metadata, self->fd, h[1], 0, 512, 0xac);
	expect_pool(_metadata, path, "dp-unbind-a", 2, 8, 512, 1);
	ASSERT_EQ(0, free_handles(self->fd, 2, h));
	ASSERT_EQ(0, destroy(self->fd, again));
	EXPECT_NE(0, access(path, F_OK));
}

TEST_HARNESS_MAIN
