// SPDX-License-Identifier: GPL-2.0
/*
 * kmemlab kselftest: fault injection. Allocations kmemlab's ioctls make are
 * made to fail with the kernel's failslab and fail_page_alloc, scoped to the
 * test's own thread, and every failure must come back as ENOMEM with nothing
 * changed and nothing leaked:
 *
 * - systematically (fail-nth, as syzkaller does it): for each operation,
 *   its 1st, 2nd, ... n-th fault point fails, until the operation runs to
 *   its end without reaching the n-th (and so succeeds); after each, the
 *   file owns exactly what it owned before (and, when the operation
 *   succeeded regardless, what it made is freed);
 * - at a steady probability (task-filter and make-it-fail on one thread):
 *   a mixed workload of every kind, every result 0 or ENOMEM.
 *
 * Afterwards nothing of kmemlab's is left: no object in debugfs "objects",
 * kmemlab's /proc/vmallocinfo areas and its caches in /proc/slabinfo back to
 * where they were, no DMA pool of the test's in the faux device's pools
 * file. kmemleak (scanned by the guest runner after the suite) and the
 * splat gate see the rest. Buffers are touched before faults are armed:
 * a page fault that cannot allocate would call the OOM killer.
 *
 * Needs CONFIG_FAILSLAB, CONFIG_FAIL_PAGE_ALLOC and
 * CONFIG_FAULT_INJECTION_DEBUG_FS (skips otherwise); run as root with
 * kmemlab.ko loaded and debugfs mounted.
 */
#define _GNU_SOURCE
#include <pthread.h>

#include "kmemlab_util.h"

#define DBG "/sys/kernel/debug"
#define NR_KNOBS 13
/* Most fault points one operation is allowed before the test gives up. */
#define MAX_POINTS 4000

/* The knobs the test sets, and what it sets them to. */
static const char *const knobs[NR_KNOBS][2] = {
	{ DBG "/failslab/ignore-gfp-wait", "N" },
	{ DBG "/failslab/verbose", "0" },
	{ DBG "/failslab/task-filter", "Y" },
	{ DBG "/failslab/cache-filter", "N" },
	{ DBG "/failslab/probability", "0" },
	{ DBG "/failslab/interval", "1" },
	{ DBG "/failslab/times", "-1" },
	{ DBG "/fail_page_alloc/ignore-gfp-wait", "N" },
	{ DBG "/fail_page_alloc/min-order", "0" },
	{ DBG "/fail_page_alloc/verbose", "0" },
	{ DBG "/fail_page_alloc/task-filter", "Y" },
	{ DBG "/fail_page_alloc/probability", "0" },
	{ DBG "/fail_page_alloc/times", "-1" },
};

/* The fault points left before the armed failure (0: it was injected). */
static long fail_nth_left(int nth)
{
	char buf[32] = { 0 };

	if (pread(nth, buf, sizeof(buf) - 1, 0) < 0)
		return -1;
	return strtol(buf, NULL, 10);
}

static void arm(int nth, unsigned int n)
{
	char buf[16];

	snprintf(buf, sizeof(buf), "%u", n);
	if (pwrite(nth, buf, strlen(buf), 0) < 0)
		perror("fail-nth");
}

static void disarm(int nth)
{
	if (pwrite(nth, "0", 1, 0) < 0)
		perror("fail-nth");
}

/* Rows in debugfs "objects" (every live object of every open file). */
static int live_object_rows(void)
{
	char *all = read_file(DBG "/kmemlab/objects"), *p;
	int lines = 0;

	if (!all)
		return -1;
	for (p = all; *p; p++)
		lines += *p == '\n';
	free(all);
	return lines - 1;
}

/* Caches named kmemlab-ft... in /proc/slabinfo. */
static int fault_caches(void)
{
	char *all = read_file("/proc/slabinfo"), *p;
	int n = 0;

	if (!all)
		return -1;
	for (p = all; (p = strstr(p, "kmemlab-ft")); p++)
		n++;
	free(all);
	return n;
}

/* Pools named kmemlab-ft... in the faux device's pools file (0 when there is none). */
static int fault_pools(void)
{
	char *all = read_file(FAUX_POOLS), *p;
	int n = 0;

	if (!all)
		return errno == ENOENT ? 0 : -1;
	for (p = all; (p = strstr(p, "\nkmemlab-ft")); p++)
		n++;
	free(all);
	return n;
}

/* What the operations share: the file, a cache, pools, objects, buffers. */
struct ctx {
	int fd;
	__u32 cache;
	__u32 pool;
	__u32 dma_pool;		/* a faux DMA pool made by the setup */
	__u32 fresh;		/* a DMA pool with no page yet, or 0 */
	__u32 fresh_device;	/* its device, and that device's pools file */
	char fresh_pools[PATH_MAX];
	bool edu;
	__u32 handles[64];
	__u32 nr_handles;
	__u32 dma_src, dma_dst;
	unsigned char buf[65536];
	unsigned int serial;
};

/*
 * One operation: runs once (0 or -errno); undo frees what a success made;
 * check (may be NULL) looks, after each fault point, for what the kernel
 * shows of a failure or an undone success: nothing.
 */
struct op {
	const char *name;
	int (*run)(struct ctx *c);
	void (*undo)(struct ctx *c);
	bool needs_edu;
	void (*check)(struct __test_metadata *_metadata, struct ctx *c, const char *what,
		      unsigned int n);
};

/* The result @r of an operation that puts @count handles in c->handles when it succeeds. */
static int made(struct ctx *c, int r, __u32 count)
{
	c->nr_handles = r ? 0 : count;
	return r;
}

static int alloc_into(struct ctx *c, __u32 kind, __u64 size, __u32 order, __s32 node,
		      __u32 cache, __u32 count)
{
	return made(c, alloc_n(c->fd, kind, size, order, node, cache, 0, count, c->handles), count);
}

static void free_made(struct ctx *c)
{
	if (c->nr_handles)
		free_handles(c->fd, c->nr_handles, c->handles);
	c->nr_handles = 0;
}

static int op_kmalloc(struct ctx *c)
{
	return alloc_into(c, KMEMLAB_KIND_KMALLOC, 64, 0, KMEMLAB_NODE_ANY, 0, 1);
}

static int op_kmalloc_batch(struct ctx *c)
{
	return alloc_into(c, KMEMLAB_KIND_KMALLOC, 512, 0, KMEMLAB_NODE_ANY, 0, 32);
}

static int op_kmalloc_large(struct ctx *c)
{
	return alloc_into(c, KMEMLAB_KIND_KMALLOC, 65536, 0, KMEMLAB_NODE_ANY, 0, 1);
}

static int op_cache_alloc(struct ctx *c)
{
	return alloc_into(c, KMEMLAB_KIND_KMEM_CACHE, 0, 0, KMEMLAB_NODE_ANY, c->cache, 8);
}

static int op_free_pages(struct ctx *c)
{
	return alloc_into(c, KMEMLAB_KIND_FREE_PAGES, 0, 3, KMEMLAB_NODE_ANY, 0, 1);
}

static int op_pages_node(struct ctx *c)
{
	return alloc_into(c, KMEMLAB_KIND_PAGES_NODE, 0, 2, 0, 0, 2);
}

static int op_vmalloc(struct ctx *c)
{
	return alloc_into(c, KMEMLAB_KIND_VMALLOC, 256 << 10, 0, KMEMLAB_NODE_ANY, 0, 1);
}

static int op_dma(struct ctx *c)
{
	return alloc_into(c, KMEMLAB_KIND_DMA_COHERENT, 16384, 0, KMEMLAB_NODE_ANY,
			  KMEMLAB_DEV_FAUX, 2);
}

static int op_percpu(struct ctx *c)
{
	return alloc_into(c, KMEMLAB_KIND_PERCPU, 0, 0, KMEMLAB_NODE_ANY, 0, 2);
}

static int op_ioremap(struct ctx *c)
{
	struct kmemlab_ioremap m = { .source = KMEMLAB_IOREMAP_EDU };

	if (ioctl(c->fd, KMEMLAB_IOC_IOREMAP, &m))
		return -errno;
	c->handles[0] = m.handle;
	c->nr_handles = 1;
	return 0;
}

static int op_cache_create(struct ctx *c)
{
	struct kmemlab_cache_create cc = { .object_size = 200 };

	snprintf(cc.name, sizeof(cc.name), "ft%u", c->serial++);
	if (ioctl(c->fd, KMEMLAB_IOC_CACHE_CREATE, &cc))
		return -errno;
	c->handles[0] = cc.handle;
	c->nr_handles = 1;
	return 0;
}

static void undo_cache_create(struct ctx *c)
{
	struct kmemlab_cache_destroy d = { .handle = c->handles[0] };

	if (c->nr_handles)
		ioctl(c->fd, KMEMLAB_IOC_CACHE_DESTROY, &d);
	c->nr_handles = 0;
}

/*
 * kvmalloc of 64 KiB: kmalloc'd, or, when that fails (its first fault
 * point), vmalloc'd; and small ones, only ever kmalloc'd.
 */
static int op_kvmalloc(struct ctx *c)
{
	return alloc_into(c, KMEMLAB_KIND_KVMALLOC, 65536, 0, KMEMLAB_NODE_ANY, 0, 1);
}

static int op_kvmalloc_small(struct ctx *c)
{
	return alloc_into(c, KMEMLAB_KIND_KVMALLOC, 64, 0, KMEMLAB_NODE_ANY, 0, 4);
}

/* Elements of a mempool: from kmalloc, or from its reserve when kmalloc fails. */
static int op_mempool_alloc(struct ctx *c)
{
	return made(c, alloc_n(c->fd, KMEMLAB_KIND_MEMPOOL, 0, 0, KMEMLAB_NODE_ANY, c->pool,
			       KMEMLAB_GFP_NOWAIT, 2, c->handles), 2);
}

static int op_mempool_create(struct ctx *c)
{
	return made(c, mempool_create(c->fd, 0, 300, 3, &c->handles[0]), 1);
}

static void undo_mempool_create(struct ctx *c)
{
	struct kmemlab_mempool m;

	if (c->nr_handles)
		mempool_op(c->fd, KMEMLAB_MEMPOOL_DESTROY, c->handles[0], &m);
	c->nr_handles = 0;
}

/* Blocks of the setup's DMA pool: from its free blocks, or from a new page. */
static int op_dma_pool_alloc(struct ctx *c)
{
	return made(c, dma_pool_alloc(c->fd, c->dma_pool, 0, 4, c->handles), 4);
}

static int op_dma_pool_create(struct ctx *c)
{
	return made(c, dma_pool_create(c->fd, "ftnew", KMEMLAB_DEV_FAUX, 300, 0, 0,
				       &c->handles[0]), 1);
}

static void undo_dma_pool_create(struct ctx *c)
{
	struct kmemlab_dma_pool p;

	if (c->nr_handles)
		dma_pool_op(c->fd, KMEMLAB_DMA_POOL_DESTROY, c->handles[0], &p);
	c->nr_handles = 0;
}

/* The operations below work on objects made beforehand, with no fault armed. */
static int op_free_batch(struct ctx *c)
{
	return free_handles(c->fd, c->nr_handles, c->handles);
}

static int op_write(struct ctx *c)
{
	return io(c->fd, KMEMLAB_IOC_WRITE, c->handles[0], 0, 4096, (unsigned long)c->buf, NULL);
}

static int op_read(struct ctx *c)
{
	return io(c->fd, KMEMLAB_IOC_READ, c->handles[0], 0, 4096, (unsigned long)c->buf, NULL);
}

static int op_list(struct ctx *c)
{
	struct kmemlab_info infos[8];
	struct kmemlab_list l = { .count = 8, .infos = (unsigned long)infos };

	memset(infos, 0, sizeof(infos));
	return ioctl(c->fd, KMEMLAB_IOC_LIST, &l) ? -errno : 0;
}

static int op_percpu_read(struct ctx *c)
{
	__u64 values[64];
	struct kmemlab_percpu p = {
		.handle = c->handles[0], .op = KMEMLAB_PERCPU_READ,
		.count = 64, .values = (unsigned long)values,
	};

	memset(values, 0, sizeof(values));
	return ioctl(c->fd, KMEMLAB_IOC_PERCPU, &p) ? -errno : 0;
}

static int bench_run(struct ctx *c, __u32 threads)
{
	struct kmemlab_bench b = {
		.op = KMEMLAB_BENCH_ALLOC_FREE, .kind = KMEMLAB_KIND_KMALLOC, .size = 128,
		.node = KMEMLAB_NODE_ANY, .iterations = 8, .batch = 4, .threads = threads,
	};

	return ioctl(c->fd, KMEMLAB_IOC_BENCH, &b) ? -errno : 0;
}

static int op_bench(struct ctx *c)
{
	return bench_run(c, 0);
}

static int op_bench_threads(struct ctx *c)
{
	return bench_run(c, 2);
}

static int op_dma_copy(struct ctx *c)
{
	struct kmemlab_dma_copy d = { .src = c->dma_src, .dst = c->dma_dst, .len = 4096 };

	return ioctl(c->fd, KMEMLAB_IOC_DMA_COPY, &d) ? -errno : 0;
}

static void no_undo(struct ctx *c)
{
	(void)c;
}

static const struct op alloc_ops[] = {
	{ "ALLOC kmalloc 64", op_kmalloc, free_made },
	{ "ALLOC kmalloc 512 x32", op_kmalloc_batch, free_made },
	{ "ALLOC kmalloc 64K", op_kmalloc_large, free_made },
	{ "ALLOC kmem_cache x8", op_cache_alloc, free_made },
	{ "ALLOC free_pages order 3", op_free_pages, free_made },
	{ "ALLOC pages_node order 2 x2", op_pages_node, free_made },
	{ "ALLOC vmalloc 256K", op_vmalloc, free_made },
	{ "ALLOC dma_coherent 16K x2", op_dma, free_made },
	{ "ALLOC percpu x2", op_percpu, free_made },
	{ "IOREMAP edu", op_ioremap, free_made, true },
	{ "CACHE_CREATE", op_cache_create, undo_cache_create },
	{ "ALLOC kvmalloc 64K", op_kvmalloc, free_made },
	{ "ALLOC kvmalloc 64", op_kvmalloc_small, free_made },
	{ "ALLOC mempool x2", op_mempool_alloc, free_made },
	{ "MEMPOOL create", op_mempool_create, undo_mempool_create },
	{ "ALLOC dma_pool x4", op_dma_pool_alloc, free_made },
	{ "DMA_POOL create", op_dma_pool_create, undo_dma_pool_create },
	{ "LIST", op_list, no_undo },
	{ "BENCH", op_bench, no_undo },
	{ "BENCH 2 threads", op_bench_threads, no_undo },
};

FIXTURE(fault) {
	struct ctx *c;
	int nth;
	char saved[NR_KNOBS][32];
	bool armed;
	int areas;
};

FIXTURE_SETUP(fault)
{
	struct kmemlab_version v = { 0 };
	struct kmemlab_cache_create cc = { .object_size = 100 };

	self->armed = false;
	self->c = NULL;
	self->nth = -1;
	if (access(DBG "/failslab", F_OK) || access(DBG "/fail_page_alloc", F_OK))
		SKIP(return, "no failslab/fail_page_alloc in debugfs (CONFIG_FAULT_INJECTION_DEBUG_FS)");
	self->nth = open("/proc/thread-self/fail-nth", O_RDWR | O_CLOEXEC);
	if (self->nth < 0)
		SKIP(return, "no /proc/thread-self/fail-nth (CONFIG_FAULT_INJECTION)");
	for (int i = 0; i < NR_KNOBS; i++) {
		ASSERT_EQ(0, read_line(knobs[i][0], self->saved[i], sizeof(self->saved[i])))
			TH_LOG("%s", knobs[i][0]);
	}
	for (int i = 0; i < NR_KNOBS; i++) {
		ASSERT_EQ(0, write_str(knobs[i][0], knobs[i][1])) TH_LOG("%s", knobs[i][0]);
	}
	self->armed = true;
	self->areas = kmemlab_vmap_areas();
	self->c = calloc(1, sizeof(*self->c));
	ASSERT_NE(NULL, self->c);
	self->c->fd = open_dev(_metadata);
	ASSERT_LE(0, self->c->fd);
	ASSERT_EQ(0, ioctl(self->c->fd, KMEMLAB_IOC_VERSION, &v));
	self->c->edu = v.features & KMEMLAB_FEAT_EDU;
	strcpy(cc.name, "ftbase");
	ASSERT_EQ(0, ioctl(self->c->fd, KMEMLAB_IOC_CACHE_CREATE, &cc));
	self->c->cache = cc.handle;
	ASSERT_EQ(0, mempool_create(self->c->fd, 0, 512, 4, &self->c->pool));
	ASSERT_EQ(0, dma_pool_create(self->c->fd, "ftbase", KMEMLAB_DEV_FAUX, 256, 0, 0,
				     &self->c->dma_pool));
	/* Touch every buffer now: no page fault may need memory once armed. */
	memset(self->c->buf, 1, sizeof(self->c->buf));
}

FIXTURE_TEARDOWN(fault)
{
	if (self->nth >= 0) {
		disarm(self->nth);
		close(self->nth);
	}
	if (self->c) {
		if (self->c->fd >= 0)
			close(self->c->fd);
		/* Everything the file owned is gone with it. */
		EXPECT_EQ(0, live_object_rows());
		EXPECT_EQ(self->areas, kmemlab_vmap_areas());
		EXPECT_EQ(0, fault_caches());
		EXPECT_EQ(0, fault_pools()) TH_LOG("DMA pools left in " FAUX_POOLS);
		free(self->c);
	}
	if (self->armed) {
		for (int i = 0; i < NR_KNOBS; i++)
			write_str(knobs[i][0], self->saved[i]);
	}
}

/*
 * Runs @op with its 1st, 2nd, ... fault point failing until it completes
 * without reaching the armed one; returns how many points it has.
 */
static int fail_each_point(struct __test_metadata *_metadata, int nth, struct ctx *c,
			   const struct op *op, int (*before)(struct ctx *c), int *injected)
{
	for (unsigned int n = 1; n <= MAX_POINTS; n++) {
		__u32 owned;
		long left;
		int r;

		if (before) {
			ASSERT_EQ(0, before(c)) TH_LOG("%s: setup", op->name);
		}
		owned = nr_objects(c->fd);
		arm(nth, n);
		r = op->run(c);
		left = fail_nth_left(nth);
		disarm(nth);
		if (r == 0) {
			op->undo(c);
			/* A FREE that worked freed its batch. */
			if (op->run == op_free_batch)
				owned -= c->nr_handles;
		} else {
			EXPECT_EQ(-ENOMEM, r) TH_LOG("%s, fault point %u: %s", op->name, n,
						     strerror(-r));
			/* A failed allocation made nothing. */
			if (op->undo != no_undo)
				c->nr_handles = 0;
		}
		/* Failed or undone, the operation leaves the file as it was. */
		EXPECT_EQ(owned, nr_objects(c->fd)) TH_LOG("%s, fault point %u", op->name, n);
		if (op->check)
			op->check(_metadata, c, op->name, n);
		if (left == 0) {
			(*injected)++;
		} else {
			/* No fault was injected: it ran to its end, and succeeded. */
			EXPECT_EQ(0, r) TH_LOG("%s with no fault injected: %s", op->name,
					       strerror(-r));
			return n - 1;
		}
	}
	/* More than MAX_POINTS: the test cannot cover the operation. */
	EXPECT_GE(MAX_POINTS, MAX_POINTS + 1) TH_LOG("%s: over %d fault points", op->name,
						       MAX_POINTS);
	return MAX_POINTS;
}

TEST_F_TIMEOUT(fault, every_fault_point_of_every_allocating_operation, 280)
{
	struct ctx *c = self->c;
	int injected = 0, points;

	for (size_t i = 0; i < sizeof(alloc_ops) / sizeof(alloc_ops[0]); i++) {
		if (alloc_ops[i].needs_edu && !c->edu)
			continue;
		points = fail_each_point(_metadata, self->nth, c, &alloc_ops[i], NULL, &injected);
		TH_LOG("%-28s %4d fault points, each failed once", alloc_ops[i].name, points);
	}
	TH_LOG("%d failures injected", injected);
	EXPECT_LT(0, injected);
}

static int make_32(struct ctx *c)
{
	return alloc_into(c, KMEMLAB_KIND_KMALLOC, 64, 0, KMEMLAB_NODE_ANY, 0, 32);
}

static int make_one_page(struct ctx *c)
{
	if (c->nr_handles)
		return 0;
	return alloc_into(c, KMEMLAB_KIND_KMALLOC, 4096, 0, KMEMLAB_NODE_ANY, 0, 1);
}

static int make_percpu(struct ctx *c)
{
	if (c->nr_handles)
		return 0;
	return alloc_into(c, KMEMLAB_KIND_PERCPU, 0, 0, KMEMLAB_NODE_ANY, 0, 1);
}

TEST_F_TIMEOUT(fault, every_fault_point_of_operations_on_objects, 280)
{
	static const struct op free_op = { "FREE x32", op_free_batch, no_undo };
	static const struct op write_op = { "WRITE 4096", op_write, no_undo };
	static const struct op read_op = { "READ 4096", op_read, no_undo };
	static const struct op percpu_op = { "PERCPU READ", op_percpu_read, no_undo };
	struct ctx *c = self->c;
	int injected = 0, points;

	/* FREE: a fresh batch each time; a failed FREE leaves it for the next. */
	points = fail_each_point(_metadata, self->nth, c, &free_op, make_32, &injected);
	TH_LOG("%-28s %4d fault points", free_op.name, points);
	ASSERT_EQ(0, free_all(c->fd));
	c->nr_handles = 0;

	points = fail_each_point(_metadata, self->nth, c, &write_op, make_one_page, &injected);
	TH_LOG("%-28s %4d fault points", write_op.name, points);
	points = fail_each_point(_metadata, self->nth, c, &read_op, make_one_page, &injected);
	TH_LOG("%-28s %4d fault points", read_op.name, points);
	ASSERT_EQ(0, free_all(c->fd));
	c->nr_handles = 0;

	points = fail_each_point(_metadata, self->nth, c, &percpu_op, make_percpu, &injected);
	TH_LOG("%-28s %4d fault points", percpu_op.name, points);
	ASSERT_EQ(0, free_all(c->fd));
	c->nr_handles = 0;

	if (c->edu) {
		static const struct op copy_op = { "DMA_COPY edu", op_dma_copy, no_undo };
		__u32 h[2];

		ASSERT_EQ(0, alloc_n(c->fd, KMEMLAB_KIND_DMA_COHERENT, 4096, 0, KMEMLAB_NODE_ANY,
				     KMEMLAB_DEV_EDU, 0, 2, h));
		c->dma_src = h[0];
		c->dma_dst = h[1];
		points = fail_each_point(_metadata, self->nth, c, &copy_op, NULL, &injected);
		TH_LOG("%-28s %4d fault points", copy_op.name, points);
		ASSERT_EQ(0, free_all(c->fd));
	}
	TH_LOG("%d failures injected", injected);
}

/* The pools file lists no kmemlab-ftnew pool: a failed or undone CREATE made none. */
static void no_new_pool(struct __test_metadata *_metadata, struct ctx *c, const char *what,
			unsigned int n)
{
	(void)c;
	EXPECT_EQ(0, pool_lines(FAUX_POOLS, "kmemlab-ftnew", NULL))
		TH_LOG("%s, fault point %u: a pool is left", what, n);
}

/* The fresh pool has no block in use: a failed or undone ALLOC kept none. */
static void no_block_in_use(struct __test_metadata *_metadata, struct ctx *c, const char *what,
			    unsigned int n)
{
	struct pool_line l = { 0 };

	EXPECT_EQ(1, pool_lines(c->fresh_pools, "kmemlab-ftfresh", &l)) TH_LOG("%s", what);
	EXPECT_EQ(0UL, l.active) TH_LOG("%s, fault point %u: %lu blocks in use", what, n,
					 l.active);
}

/* A new faux pool with no page yet (the last one, empty by now, destroyed). */
static int make_fresh_pool(struct ctx *c)
{
	struct kmemlab_dma_pool p;
	int r;

	if (c->fresh) {
		r = dma_pool_op(c->fd, KMEMLAB_DMA_POOL_DESTROY, c->fresh, &p);
		if (r)
			return r;
		c->fresh = 0;
	}
	return dma_pool_create(c->fd, "ftfresh", c->fresh_device, 100, 0, 0, &c->fresh);
}

static int op_fresh_pool_alloc(struct ctx *c)
{
	return made(c, dma_pool_alloc(c->fd, c->fresh, KMEMLAB_GFP_NOWARN, 4, c->handles), 4);
}

/*
 * DMA pools: CREATE, and ALLOC of blocks from a pool that has to take a
 * page for them (a new pool each time): every failure is ENOMEM and leaves
 * nothing the kernel shows (no pool line, no block in use), and with no
 * fault injected each succeeds. edu's pools too, when edu is bound.
 */
TEST_F_TIMEOUT(fault, every_fault_point_of_dma_pools, 280)
{
	static const struct op ops[] = {
		{ "DMA_POOL create", op_dma_pool_create, undo_dma_pool_create, false,
		  no_new_pool },
		{ "ALLOC dma_pool x4, new page", op_fresh_pool_alloc, free_made, false,
		  no_block_in_use },
	};
	struct ctx *c = self->c;
	int injected = 0, points;

	c->fresh_device = KMEMLAB_DEV_FAUX;
	snprintf(c->fresh_pools, sizeof(c->fresh_pools), "%s", FAUX_POOLS);
	for (size_t i = 0; i < ARRAY_SIZE(ops); i++) {
		points = fail_each_point(_metadata, self->nth, c, &ops[i],
					 ops[i].run == op_fresh_pool_alloc ? make_fresh_pool : NULL,
					 &injected);
		TH_LOG("%-28s %4d fault points, each failed once", ops[i].name, points);
	}
	if (c->edu) {
		struct edu_pci edu;

		ASSERT_TRUE(find_edu(&edu));
		edu_pools_path(&edu, c->fresh_pools, sizeof(c->fresh_pools));
		c->fresh_device = KMEMLAB_DEV_EDU;
		c->fresh = 0;
		points = fail_each_point(_metadata, self->nth, c, &ops[1], make_fresh_pool,
					 &injected);
		TH_LOG("%-28s %4d fault points, each failed once", "... from an edu pool", points);
	}
	TH_LOG("%d failures injected", injected);
	EXPECT_LT(0, injected);
}

/* Every fault point of opening the device (the file's own state). */
TEST_F(fault, every_fault_point_of_open)
{
	int n, injected = 0;

	for (n = 1; n <= MAX_POINTS; n++) {
		long left;
		int fd, err;

		arm(self->nth, n);
		fd = open(KMEMLAB_DEVICE, O_RDWR | O_CLOEXEC);
		err = errno;
		left = fail_nth_left(self->nth);
		disarm(self->nth);
		if (fd >= 0)
			close(fd);
		else
			EXPECT_EQ(ENOMEM, err) TH_LOG("open, fault point %d: %s", n, strerror(err));
		if (left != 0)
			break;
		injected++;
	}
	TH_LOG("open: %d fault points, each failed once", n - 1);
	EXPECT_LT(0, injected);
}

/* The steady-probability workload: one thread, its faults at @percent. */
struct steady {
	struct ctx *c;
	int percent;
	unsigned int calls, enomem, other, wrong_errno;
};

static void *steady_worker(void *arg)
{
	struct steady *s = arg;
	struct ctx *c = s->c;
	__u64 x = 0x9e3779b97f4a7c15ULL;
	char path[64];

	snprintf(path, sizeof(path), "/proc/thread-self/make-it-fail");
	if (write_str(path, "1"))
		return NULL;
	for (unsigned int i = 0; i < s->calls; i++) {
		const struct op *op;
		int r;

		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		op = &alloc_ops[x % (sizeof(alloc_ops) / sizeof(alloc_ops[0]))];
		if ((op->needs_edu && !c->edu) || op->run == op_cache_create)
			continue;
		r = op->run(c);
		if (r == 0) {
			/* Reading and writing the new object may fail too. */
			if (c->nr_handles && op->undo == free_made) {
				int w = op_write(c);

				if (w && w != -ENOMEM && w != -EINVAL)
					s->wrong_errno++;
			}
			op->undo(c);
		} else if (r == -ENOMEM) {
			s->enomem++;
		} else {
			s->wrong_errno++;
		}
		/* A FREE that failed leaves the objects: free them with faults on. */
		if (c->nr_handles && free_handles(c->fd, c->nr_handles, c->handles) == 0)
			c->nr_handles = 0;
	}
	write_str(path, "0");
	return NULL;
}

TEST_F_TIMEOUT(fault, steady_probability_workload, 280)
{
	struct steady s = { .c = self->c, .percent = 10, .calls = 3000 };
	pthread_t t;

	ASSERT_EQ(0, write_str(DBG "/failslab/probability", "10"));
	ASSERT_EQ(0, write_str(DBG "/fail_page_alloc/probability", "10"));
	ASSERT_EQ(0, pthread_create(&t, NULL, steady_worker, &s));
	ASSERT_EQ(0, pthread_join(t, NULL));
	ASSERT_EQ(0, write_str(DBG "/failslab/probability", "0"));
	ASSERT_EQ(0, write_str(DBG "/fail_page_alloc/probability", "0"));
	TH_LOG("%u calls at %d%%: %u failed with ENOMEM, %u with another errno",
	       s.calls, s.percent, s.enomem, s.wrong_errno);
	EXPECT_EQ(0, s.wrong_errno);
	EXPECT_LT(0, s.enomem);
	/* What a failed FREE left behind goes now, faults off. */
	EXPECT_EQ(0, free_all(self->c->fd));
	EXPECT_EQ(0, nr_objects(self->c->fd));
}

TEST_HARNESS_MAIN
