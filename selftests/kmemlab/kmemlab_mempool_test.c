// SPDX-License-Identifier: GPL-2.0
/*
 * kmemlab mempools: a reserve of elements over kmalloc or over a cache.
 * Under fault injection (failslab, filtered to one cache) allocations keep
 * succeeding from the reserve until it is empty, then fail with ENOMEM;
 * freed elements refill the reserve before anything goes back to the cache.
 * The reserve is watched through KMEMLAB_MEMPOOL_STATUS (the mempool's own
 * curr_nr).
 */
#include <sys/mman.h>

#include "kmemlab_util.h"

#define DBG "/sys/kernel/debug"

KMEMLAB_DEV_FIXTURE();

static int status(int fd, __u32 pool, struct kmemlab_mempool *m)
{
	return mempool_op(fd, KMEMLAB_MEMPOOL_STATUS, pool, m);
}

static int take(int fd, __u32 pool, __u32 *h)
{
	return alloc_n(fd, KMEMLAB_KIND_MEMPOOL, 0, 0, KMEMLAB_NODE_ANY, pool,
		       KMEMLAB_GFP_NOWAIT, 1, h);
}

TEST_F(dev, create_status_and_errors)
{
	struct kmemlab_mempool m = { 0 };
	struct kmemlab_limits l;
	struct kmemlab_info in;
	__u32 pool = 0, cache = 0, h[3];

	ASSERT_EQ(0, ioctl(self->fd, KMEMLAB_IOC_LIMITS, &l));
	EXPECT_EQ(KMEMLAB_MEMPOOL_RESERVE_MAX, l.mempool_reserve_max);
	ASSERT_EQ(0, mempool_create(self->fd, 0, 200, 3, &pool));
	ASSERT_EQ(0, status(self->fd, pool, &m));
	EXPECT_EQ(KMEMLAB_MEMPOOL_KMALLOC, m.source);
	EXPECT_EQ(200U, m.size);
	EXPECT_EQ(3U, m.min_nr);
	EXPECT_EQ(3U, m.curr_nr) TH_LOG("the reserve is filled at creation");
	EXPECT_EQ(0U, m.live);

	/* Bad requests change nothing. */
	EXPECT_EQ(-EINVAL, mempool_create(self->fd, 0, 0, 3, &h[0]));
	EXPECT_EQ(-EINVAL, mempool_create(self->fd, 0, 64, 0, &h[0]));
	EXPECT_EQ(-EINVAL, mempool_create(self->fd, 0, 64, KMEMLAB_MEMPOOL_RESERVE_MAX + 1, &h[0]));
	EXPECT_EQ(-ENOENT, mempool_create(self->fd, 9999, 0, 3, &h[0]));
	/* A reserve one byte an element past max_bytes: refused before it is made. */
	if (l.max_bytes / KMEMLAB_MEMPOOL_RESERVE_MAX + 1 <= l.kmalloc_max)
		EXPECT_EQ(-ENOMEM, mempool_create(self->fd, 0,
						  l.max_bytes / KMEMLAB_MEMPOOL_RESERVE_MAX + 1,
						  KMEMLAB_MEMPOOL_RESERVE_MAX, &h[0]))
			TH_LOG("the reserve counts against max_bytes");
	/*
	 * A reply that cannot be written: EFAULT, and the pool it made is gone
	 * again, handle included (the next one made gets the same).
	 */
	{
		struct kmemlab_mempool *ro = mmap(NULL, 4096, PROT_READ | PROT_WRITE,
						  MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		__u32 next = 0, again = 0;

		ASSERT_NE(MAP_FAILED, ro);
		*ro = (struct kmemlab_mempool){ .op = KMEMLAB_MEMPOOL_CREATE,
						.source = KMEMLAB_MEMPOOL_KMALLOC,
						.size = 64, .min_nr = 2 };
		ASSERT_EQ(0, mprotect(ro, 4096, PROT_READ));
		ASSERT_EQ(0, mempool_create(self->fd, 0, 64, 1, &next));
		ASSERT_EQ(0, mempool_op(self->fd, KMEMLAB_MEMPOOL_DESTROY, next, &m));
		EXPECT_EQ(-1, ioctl(self->fd, KMEMLAB_IOC_MEMPOOL, ro));
		EXPECT_EQ(EFAULT, errno);
		munmap(ro, 4096);
		ASSERT_EQ(0, mempool_create(self->fd, 0, 64, 1, &again));
		EXPECT_EQ(next + 1, again) TH_LOG("the failed CREATE kept no handle");
		ASSERT_EQ(0, mempool_op(self->fd, KMEMLAB_MEMPOOL_DESTROY, again, &m));
	}
	EXPECT_EQ(-EINVAL, mempool_op(self->fd, 7, pool, &m));
	EXPECT_EQ(-ENOENT, mempool_op(self->fd, KMEMLAB_MEMPOOL_STATUS, pool + 100, &m));
	EXPECT_EQ(-EINVAL, alloc_n(self->fd, KMEMLAB_KIND_MEMPOOL, 0, 0, KMEMLAB_NODE_ANY, pool,
				   KMEMLAB_GFP_KERNEL, 1, h)) TH_LOG("a mask that may sleep");
	EXPECT_EQ(-EINVAL, alloc_n(self->fd, KMEMLAB_KIND_MEMPOOL, 0, 0, KMEMLAB_NODE_ANY, pool,
				   KMEMLAB_GFP_NOWAIT | KMEMLAB_GFP_ZERO, 1, h));
	EXPECT_EQ(-EINVAL, alloc_n(self->fd, KMEMLAB_KIND_MEMPOOL, 64, 0, KMEMLAB_NODE_ANY, pool,
				   KMEMLAB_GFP_NOWAIT, 1, h));
	EXPECT_EQ(0U, nr_objects(self->fd));

	/* Elements: zeroed, readable and writable, reported as the pool's. */
	ASSERT_EQ(0, alloc_n(self->fd, KMEMLAB_KIND_MEMPOOL, 0, 0, KMEMLAB_NODE_ANY, pool,
			     KMEMLAB_GFP_ATOMIC | KMEMLAB_GFP_NOWARN, 3, h));
	round_trip(_metadata, self->fd, h[0], 200);
	ASSERT_EQ(0, info(self->fd, h[1], &in));
	EXPECT_EQ(KMEMLAB_KIND_MEMPOOL, in.kind);
	EXPECT_EQ(200U, in.size);
	EXPECT_EQ(pool, in.cache);
	EXPECT_EQ(KMEMLAB_BACKING_SLAB, in.backing);
	ASSERT_EQ(0, status(self->fd, pool, &m));
	EXPECT_EQ(3U, m.live);
	EXPECT_EQ(-EBUSY, mempool_op(self->fd, KMEMLAB_MEMPOOL_DESTROY, pool, &m));
	ASSERT_EQ(0, free_handles(self->fd, 3, h));
	EXPECT_EQ(0, mempool_op(self->fd, KMEMLAB_MEMPOOL_DESTROY, pool, &m));
	EXPECT_EQ(-ENOENT, status(self->fd, pool, &m));

	/* Over a cache: not one with a constructor (a reserve keeps nothing constructed). */
	ASSERT_EQ(0, cache_create(self->fd, "mp-ctor", 96, KMEMLAB_CACHE_CTOR, &cache));
	EXPECT_EQ(-EINVAL, mempool_create(self->fd, cache, 0, 2, &h[0]));
	/* The cache stays while the pool does. */
	ASSERT_EQ(0, cache_create(self->fd, "mp-src", 96, 0, &cache));
	ASSERT_EQ(0, mempool_create(self->fd, cache, 0, 2, &pool));
	ASSERT_EQ(0, status(self->fd, pool, &m));
	EXPECT_EQ(KMEMLAB_MEMPOOL_CACHE, m.source);
	EXPECT_EQ(cache, m.cache);
	EXPECT_EQ(96U, m.size);
	EXPECT_EQ(-EINVAL, mempool_create(self->fd, cache, 64, 2, &h[0])) TH_LOG("size 0 for a cache");
	{
		struct kmemlab_cache_destroy d = { .handle = cache };

		EXPECT_EQ(-1, ioctl(self->fd, KMEMLAB_IOC_CACHE_DESTROY, &d));
		EXPECT_EQ(EBUSY, errno);
	}
	ASSERT_EQ(0, take(self->fd, pool, h));
	round_trip(_metadata, self->fd, h[0], 96);
	EXPECT_EQ(0, free_all(self->fd));
	/* The pools stay after FREE_ALL; the last one's reserve still counts. */
	ASSERT_EQ(0, status(self->fd, pool, &m));
	EXPECT_EQ(2U, m.curr_nr);
}

#define NR_KNOBS 7

/*
 * failslab for one cache only (cache-filter), every allocation of it; the
 * probability is set last and put back first.
 */
static const char *const knobs[NR_KNOBS][2] = {
	{ DBG "/failslab/cache-filter", "Y" },
	{ DBG "/failslab/task-filter", "N" },
	{ DBG "/failslab/ignore-gfp-wait", "N" },
	{ DBG "/failslab/verbose", "0" },
	{ DBG "/failslab/interval", "1" },
	{ DBG "/failslab/times", "-1" },
	{ DBG "/failslab/probability", "100" },
};

#define CACHE_FAILSLAB "/sys/kernel/slab/kmemlab-mp-fail/failslab"

TEST_F(dev, reserve_keeps_allocations_going_under_failslab)
{
	char saved[NR_KNOBS][32];
	struct kmemlab_mempool m;
	__u32 cache = 0, pool = 0, h[6];
	int i;

	if (access(DBG "/failslab/cache-filter", W_OK))
		SKIP(return, "no failslab in debugfs (CONFIG_FAILSLAB, CONFIG_FAULT_INJECTION_DEBUG_FS)");
	ASSERT_EQ(0, cache_create(self->fd, "mp-fail", 128, 0, &cache));
	ASSERT_EQ(0, mempool_create(self->fd, cache, 0, 4, &pool));
	for (i = 0; i < NR_KNOBS; i++) {
		ASSERT_EQ(0, read_line(knobs[i][0], saved[i], sizeof(saved[i]))) TH_LOG("%s", knobs[i][0]);
	}
	for (i = 0; i < NR_KNOBS; i++) {
		EXPECT_EQ(0, write_str(knobs[i][0], knobs[i][1])) TH_LOG("%s", knobs[i][0]);
	}
	/* From here on nothing returns early: the knobs are put back below. */
	EXPECT_EQ(0, write_str(CACHE_FAILSLAB, "1"));

	/* The cache refuses every allocation: each element comes from the reserve. */
	for (i = 0; i < 4; i++) {
		EXPECT_EQ(0, take(self->fd, pool, &h[i])) TH_LOG("element %d, from the reserve", i);
		EXPECT_EQ(0, status(self->fd, pool, &m));
		EXPECT_EQ(3U - i, m.curr_nr);
		EXPECT_EQ((__u32)i + 1, m.live);
	}
	/* Empty: ENOMEM, and nothing changed. */
	EXPECT_EQ(-ENOMEM, take(self->fd, pool, &h[4]));
	EXPECT_EQ(0, status(self->fd, pool, &m));
	EXPECT_EQ(0U, m.curr_nr);
	EXPECT_EQ(4U, m.live);
	/* A freed element refills the reserve, and is the next one taken. */
	EXPECT_EQ(0, free_handles(self->fd, 1, &h[0]));
	EXPECT_EQ(0, status(self->fd, pool, &m));
	EXPECT_EQ(1U, m.curr_nr);
	EXPECT_EQ(0, take(self->fd, pool, &h[0]));
	EXPECT_EQ(0, status(self->fd, pool, &m));
	EXPECT_EQ(0U, m.curr_nr);

	/* The cache allocates again: elements come from it, the reserve stays empty. */
	EXPECT_EQ(0, write_str(CACHE_FAILSLAB, "0"));
	EXPECT_EQ(0, take(self->fd, pool, &h[4]));
	EXPECT_EQ(0, status(self->fd, pool, &m));
	EXPECT_EQ(0U, m.curr_nr);
	EXPECT_EQ(5U, m.live);
	/*
	 * Put back in reverse: the probability first, so no moment has it at
	 * 100 without the cache filter (every slab allocation would fail, the
	 * writes putting the knobs back included).
	 */
	write_str(CACHE_FAILSLAB, "0");
	for (i = NR_KNOBS - 1; i >= 0; i--)
		write_str(knobs[i][0], saved[i]);

	/* Everything back: the reserve full again, the rest to the cache. */
	EXPECT_EQ(0, free_all(self->fd));
	ASSERT_EQ(0, status(self->fd, pool, &m));
	EXPECT_EQ(4U, m.curr_nr);
	EXPECT_EQ(0U, m.live);
	EXPECT_EQ(0, mempool_op(self->fd, KMEMLAB_MEMPOOL_DESTROY, pool, &m));
}

TEST_HARNESS_MAIN
