// SPDX-License-Identifier: GPL-2.0
/*
 * kmemlab kselftest: KMEMLAB_IOC_BENCH, the in-kernel benchmarks.
 *
 * A smoke run of every allocator through kmemlab's Rust and through the
 * raw-C baseline, in pairs and in batches, on the calling thread and on
 * every online CPU at once, and of the two counters: each result must be
 * well-formed (the operation count exact, times non-zero and ordered) and
 * every object made must be gone afterwards (kmemlab's areas in
 * /proc/vmallocinfo back to their count, no object left in the file). Bad
 * requests fail with their documented error; a signal stops a long run,
 * threads included. Figures are never judged here: `make bench` measures.
 */
#define _GNU_SOURCE
#include <signal.h>
#include <sys/time.h>

#include "kmemlab_util.h"

#define ITER 50

static int bench(int fd, struct kmemlab_bench *b)
{
	return ioctl(fd, KMEMLAB_IOC_BENCH, b) ? -errno : 0;
}

static struct kmemlab_bench alloc_req(__u32 kind, __u64 size, __u32 order, __u32 cache)
{
	struct kmemlab_bench b = {
		.op = KMEMLAB_BENCH_ALLOC_FREE, .kind = kind, .size = size, .order = order,
		.node = KMEMLAB_NODE_ANY, .cache = cache, .iterations = ITER, .batch = 1,
	};

	return b;
}

static struct kmemlab_bench counter_req(__u32 op)
{
	struct kmemlab_bench b = {
		.op = op, .node = KMEMLAB_NODE_ANY, .iterations = ITER, .batch = 64,
	};

	return b;
}

static __u64 features(int fd)
{
	struct kmemlab_version v = { 0 };

	return ioctl(fd, KMEMLAB_IOC_VERSION, &v) ? 0 : v.features;
}

/* Checks that @b, run on @threads threads (0: the caller), is well-formed. */
static void check_run(struct __test_metadata *_metadata, const struct kmemlab_bench *b,
		      const char *what)
{
	__u64 nthreads = b->threads ? b->threads : 1;

	EXPECT_EQ((__u64)b->iterations * b->batch * nthreads, b->ops) TH_LOG("%s", what);
	EXPECT_LT(0, b->ns_wall) TH_LOG("%s", what);
	EXPECT_LT(0, b->ns_total) TH_LOG("%s", what);
	EXPECT_LT(0, b->ns_median) TH_LOG("%s", what);
	EXPECT_LE(b->ns_min, b->ns_median) TH_LOG("%s", what);
	EXPECT_LE(b->ns_median, b->ns_p99) TH_LOG("%s", what);
	EXPECT_LT(0, b->cycles_total) TH_LOG("%s", what);
	EXPECT_LT(0, b->cycles_median) TH_LOG("%s", what);
	EXPECT_LE(b->cycles_min, b->cycles_median) TH_LOG("%s", what);
	EXPECT_LE(b->cycles_median, b->cycles_p99) TH_LOG("%s", what);
	/*
	 * Each thread's timed samples fit in the run: nanoseconds are cycles at
	 * the rate each thread measured against ktime over its own run.
	 */
	EXPECT_GE(b->ns_wall * nthreads, b->ns_total) TH_LOG("%s", what);
	/* The fastest operation is no slower than the mean (whole ns per op). */
	EXPECT_LE(b->ns_min * b->ops, b->ns_total + b->ops) TH_LOG("%s", what);
	EXPECT_EQ(0, b->reserved2) TH_LOG("%s", what);
}

KMEMLAB_DEV_FIXTURE();

/* One allocator, both ways, pairs and batches; nothing left behind. */
static void run_kind(struct __test_metadata *_metadata, int fd, struct kmemlab_bench proto,
		     const char *name)
{
	static const __u32 flags[] = { 0, KMEMLAB_BENCH_NO_STATS, KMEMLAB_BENCH_RAW_C };
	static const __u32 batches[] = { 1, 8 };
	int areas = kmemlab_vmap_areas();
	char what[96];

	for (size_t f = 0; f < sizeof(flags) / sizeof(flags[0]); f++) {
		for (size_t k = 0; k < 2; k++) {
			struct kmemlab_bench b = proto;

			b.flags = flags[f];
			b.batch = batches[k];
			snprintf(what, sizeof(what), "%s flags %#x batch %u", name, b.flags,
				 b.batch);
			ASSERT_EQ(0, bench(fd, &b)) TH_LOG("%s: %s", what, strerror(errno));
			check_run(_metadata, &b, what);
		}
	}
	EXPECT_EQ(0, nr_objects(fd)) TH_LOG("%s", name);
	EXPECT_EQ(areas, kmemlab_vmap_areas()) TH_LOG("%s left a vmalloc area", name);
}

TEST_F(dev, every_allocator_rust_and_raw_c)
{
	struct kmemlab_cache_create c = { .object_size = 64 };
	struct kmemlab_cache_destroy d = { 0 };

	strcpy(c.name, "benchtest");
	ASSERT_EQ(0, ioctl(self->fd, KMEMLAB_IOC_CACHE_CREATE, &c));
	run_kind(_metadata, self->fd, alloc_req(KMEMLAB_KIND_KMALLOC, 64, 0, 0), "kmalloc 64");
	run_kind(_metadata, self->fd, alloc_req(KMEMLAB_KIND_KMALLOC, 65536, 0, 0),
		 "kmalloc 64K");
	run_kind(_metadata, self->fd, alloc_req(KMEMLAB_KIND_KMEM_CACHE, 0, 0, c.handle),
		 "kmem_cache");
	run_kind(_metadata, self->fd, alloc_req(KMEMLAB_KIND_FREE_PAGES, 0, 0, 0),
		 "free_pages 0");
	run_kind(_metadata, self->fd, alloc_req(KMEMLAB_KIND_PAGES_NODE, 0, 2, 0),
		 "pages_node 2");
	run_kind(_metadata, self->fd, alloc_req(KMEMLAB_KIND_VMALLOC, 16384, 0, 0),
		 "vmalloc 16K");
	run_kind(_metadata, self->fd,
		 alloc_req(KMEMLAB_KIND_DMA_COHERENT, 8192, 0, KMEMLAB_DEV_FAUX), "dma faux");
	run_kind(_metadata, self->fd, alloc_req(KMEMLAB_KIND_PERCPU, 0, 0, 0), "percpu");
	if (features(self->fd) & KMEMLAB_FEAT_DMA_POOL) {
		__u32 pool = 0;

		ASSERT_EQ(0, dma_pool_create(self->fd, "benchtest", KMEMLAB_DEV_FAUX, 64, 0, 0,
					     &pool));
		run_kind(_metadata, self->fd, alloc_req(KMEMLAB_KIND_DMA_POOL, 0, 0, pool),
			 "dma_pool 64");
	}
	d.handle = c.handle;
	/* Every object of the cache is gone: it can be destroyed. */
	EXPECT_EQ(0, ioctl(self->fd, KMEMLAB_IOC_CACHE_DESTROY, &d));
}

TEST_F(dev, ioremap_of_edu_bar)
{
	struct kmemlab_bench b = alloc_req(KMEMLAB_KIND_IOREMAP, 4096, 0, 0);

	if (!(features(self->fd) & KMEMLAB_FEAT_EDU)) {
		EXPECT_EQ(-ENODEV, bench(self->fd, &b));
		SKIP(return, "no edu device (QEMU -device edu)");
	}
	run_kind(_metadata, self->fd, b, "ioremap edu 4K");
	/* BAR 0 of edu is 1 MiB. */
	b = alloc_req(KMEMLAB_KIND_IOREMAP, 1 << 20, 0, 0);
	EXPECT_EQ(0, bench(self->fd, &b));
	b = alloc_req(KMEMLAB_KIND_IOREMAP, (1 << 20) + 4, 0, 0);
	EXPECT_EQ(-EINVAL, bench(self->fd, &b));
	b = alloc_req(KMEMLAB_KIND_IOREMAP, 4097, 0, 0);
	EXPECT_EQ(-EINVAL, bench(self->fd, &b));
}

TEST_F(dev, threads_on_every_cpu)
{
	struct kmemlab_bench runs[] = {
		counter_req(KMEMLAB_BENCH_PERCPU_INC),
		counter_req(KMEMLAB_BENCH_ATOMIC_INC),
		alloc_req(KMEMLAB_KIND_KMALLOC, 64, 0, 0),
		alloc_req(KMEMLAB_KIND_VMALLOC, 8192, 0, 0),
	};
	long cpus = sysconf(_SC_NPROCESSORS_ONLN);
	int areas = kmemlab_vmap_areas();

	for (size_t i = 0; i < sizeof(runs) / sizeof(runs[0]); i++) {
		for (__u32 raw = 0; raw <= KMEMLAB_BENCH_RAW_C; raw += KMEMLAB_BENCH_RAW_C) {
			struct kmemlab_bench b = runs[i];

			b.threads = cpus;
			b.flags = raw;
			ASSERT_EQ(0, bench(self->fd, &b)) TH_LOG("run %zu: %s", i, strerror(errno));
			check_run(_metadata, &b, "threads");
			EXPECT_GT(cpus, b.cpu);
			/* The calling thread's CPU, when it runs the work itself. */
			b = runs[i];
			b.flags = raw;
			ASSERT_EQ(0, bench(self->fd, &b));
			check_run(_metadata, &b, "caller");
		}
	}
	EXPECT_EQ(areas, kmemlab_vmap_areas());
}

TEST_F(dev, bad_requests_are_refused)
{
	struct {
		struct kmemlab_bench b;
		int err;
		const char *what;
	} bad[] = {
		{ alloc_req(KMEMLAB_KIND_KMALLOC, 64, 0, 0), -EINVAL, "unknown flag" },
		{ alloc_req(KMEMLAB_KIND_KMALLOC, 64, 0, 0), -EINVAL, "0 iterations" },
		{ alloc_req(KMEMLAB_KIND_KMALLOC, 64, 0, 0), -EINVAL, "too many iterations" },
		{ alloc_req(KMEMLAB_KIND_KMALLOC, 64, 0, 0), -EINVAL, "batch 0" },
		{ alloc_req(KMEMLAB_KIND_KMALLOC, 64, 0, 0), -EINVAL, "batch too big" },
		{ alloc_req(KMEMLAB_KIND_KMALLOC, 64, 0, 0), -EINVAL, "threads > CPUs" },
		{ alloc_req(KMEMLAB_KIND_KMALLOC, 64, 0, 0), -EINVAL, "reserved" },
		{ alloc_req(KMEMLAB_KIND_KMALLOC, 64, 0, 0), -EINVAL, "output set" },
		{ alloc_req(KMEMLAB_KIND_KMALLOC, 64, 0, 0), -EINVAL, "unknown op" },
		{ counter_req(KMEMLAB_BENCH_PERCPU_INC), -EINVAL, "counter with a kind" },
		{ alloc_req(KMEMLAB_KIND_KMALLOC, 0, 0, 0), -EINVAL, "kmalloc size 0" },
		{ alloc_req(KMEMLAB_KIND_FREE_PAGES, 0, 11, 0), -EINVAL, "order 11" },
		{ alloc_req(KMEMLAB_KIND_KMEM_CACHE, 0, 0, 999), -ENOENT, "unknown cache" },
		{ alloc_req(KMEMLAB_KIND_VMALLOC, 1 << 20, 0, 0), -ENOMEM, "batch beyond quota" },
		{ alloc_req(99, 64, 0, 0), -EINVAL, "unknown kind" },
		{ alloc_req(KMEMLAB_KIND_VMALLOC, 4096, 0, 0), -EINVAL, "vmalloc ATOMIC, raw C" },
		{ alloc_req(KMEMLAB_KIND_DMA_POOL, 0, 0, 999), -ENOENT, "unknown DMA pool" },
	};
	long cpus = sysconf(_SC_NPROCESSORS_ONLN);

	bad[0].b.flags = 0x4;
	bad[1].b.iterations = 0;
	bad[2].b.iterations = KMEMLAB_BENCH_ITERATIONS_MAX + 1;
	bad[3].b.batch = 0;
	bad[4].b.batch = KMEMLAB_BATCH_MAX + 1;
	bad[5].b.threads = cpus + 1;
	bad[6].b.reserved = 1;
	bad[7].b.ns_min = 1;
	bad[8].b.op = 3;
	bad[9].b.kind = KMEMLAB_KIND_KMALLOC;
	/* 1 MiB x 1024 x the CPUs is above the default 256 MiB quota. */
	bad[13].b.batch = KMEMLAB_BATCH_MAX;
	bad[13].b.threads = cpus;
	/* The baseline would time a plain vmalloc: refused like ALLOC refuses it. */
	bad[15].b.gfp = KMEMLAB_GFP_ATOMIC;
	bad[15].b.flags = KMEMLAB_BENCH_RAW_C;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct kmemlab_bench copy = bad[i].b;

		EXPECT_EQ(bad[i].err, bench(self->fd, &bad[i].b)) TH_LOG("%s", bad[i].what);
		/* A refused request is left as it was. */
		EXPECT_EQ(0, memcmp(&copy, &bad[i].b, sizeof(copy))) TH_LOG("%s", bad[i].what);
	}
	EXPECT_EQ(0, nr_objects(self->fd));
}

/* The slab allocator WARNs on zeroing a constructed object: refused both ways. */
TEST_F(dev, ctor_cache_refuses_zeroing_both_ways)
{
	struct kmemlab_cache_create c = { .object_size = 64, .flags = KMEMLAB_CACHE_CTOR };
	struct kmemlab_cache_destroy d = { 0 };
	struct kmemlab_bench b;

	strcpy(c.name, "benchctor");
	ASSERT_EQ(0, ioctl(self->fd, KMEMLAB_IOC_CACHE_CREATE, &c));
	for (__u32 raw = 0; raw <= KMEMLAB_BENCH_RAW_C; raw += KMEMLAB_BENCH_RAW_C) {
		b = alloc_req(KMEMLAB_KIND_KMEM_CACHE, 0, 0, c.handle);
		b.gfp = KMEMLAB_GFP_ZERO;
		b.flags = raw;
		EXPECT_EQ(-EINVAL, bench(self->fd, &b)) TH_LOG("flags %#x", raw);
		b = alloc_req(KMEMLAB_KIND_KMEM_CACHE, 0, 0, c.handle);
		b.flags = raw;
		EXPECT_EQ(0, bench(self->fd, &b)) TH_LOG("flags %#x", raw);
	}
	d.handle = c.handle;
	EXPECT_EQ(0, ioctl(self->fd, KMEMLAB_IOC_CACHE_DESTROY, &d));
}

static void on_alarm(int sig)
{
	(void)sig;
}

TEST_F(dev, a_signal_stops_a_long_run)
{
	struct sigaction sa = { .sa_handler = on_alarm };
	struct itimerval t = { .it_value = { .tv_usec = 300000 } };
	long cpus = sysconf(_SC_NPROCESSORS_ONLN);
	int areas = kmemlab_vmap_areas();

	/* No SA_RESTART: the interrupted ioctl returns EINTR. */
	ASSERT_EQ(0, sigaction(SIGALRM, &sa, NULL));
	for (long threads = 0; threads <= cpus; threads += cpus) {
		struct kmemlab_bench b = alloc_req(KMEMLAB_KIND_VMALLOC, 65536, 0, 0);

		b.iterations = KMEMLAB_BENCH_ITERATIONS_MAX;
		b.threads = threads;
		ASSERT_EQ(0, setitimer(ITIMER_REAL, &t, NULL));
		EXPECT_EQ(-EINTR, bench(self->fd, &b)) TH_LOG("threads %ld", threads);
	}
	EXPECT_EQ(areas, kmemlab_vmap_areas());
}

/* NORETRY reaches kmalloc, kmem_cache and the page allocators only. */
TEST_F(dev, noretry_reaches_the_allocators_that_take_it)
{
	__u32 h;

	ASSERT_EQ(0, alloc_n(self->fd, KMEMLAB_KIND_FREE_PAGES, 0, 3, KMEMLAB_NODE_ANY, 0,
			     KMEMLAB_GFP_NORETRY | KMEMLAB_GFP_NOWARN, 1, &h));
	EXPECT_EQ(0, free_handles(self->fd, 1, &h));
	ASSERT_EQ(0, alloc_n(self->fd, KMEMLAB_KIND_PAGES_NODE, 0, 3, KMEMLAB_NODE_ANY, 0,
			     KMEMLAB_GFP_NORETRY, 1, &h));
	EXPECT_EQ(0, free_handles(self->fd, 1, &h));
	ASSERT_EQ(0, alloc_n(self->fd, KMEMLAB_KIND_KMALLOC, 65536, 0, KMEMLAB_NODE_ANY, 0,
			     KMEMLAB_GFP_NORETRY | KMEMLAB_GFP_ATOMIC | KMEMLAB_GFP_ACCOUNT, 1, &h));
	EXPECT_EQ(0, free_handles(self->fd, 1, &h));
	EXPECT_EQ(-EINVAL, alloc_n(self->fd, KMEMLAB_KIND_DMA_COHERENT, 4096, 0, KMEMLAB_NODE_ANY,
				   KMEMLAB_DEV_FAUX, KMEMLAB_GFP_NORETRY, 1, &h));
	EXPECT_EQ(-EINVAL, alloc_n(self->fd, KMEMLAB_KIND_VMALLOC, 4096, 0, KMEMLAB_NODE_ANY, 0,
				   KMEMLAB_GFP_NORETRY, 1, &h));
	EXPECT_EQ(0, nr_objects(self->fd));
}

/*
 * With several threads and few samples each, the figures stay in order in
 * nanoseconds as in cycles: every figure is converted at one rate. (Per-
 * thread conversions once put the minimum above the median: the fuzzer's
 * per-CPU increments, one sample of 2 or 11 on 2 threads, Rust and raw C.)
 */
TEST_F(dev, few_samples_on_two_threads_stay_in_order)
{
	const __u32 batches[] = { 1, 2, 11 };
	const __u32 flags[] = { KMEMLAB_BENCH_NO_STATS, KMEMLAB_BENCH_RAW_C };
	struct kmemlab_bench b;

	if (sysconf(_SC_NPROCESSORS_ONLN) < 2)
		SKIP(return, "needs 2 online CPUs");
	for (int round = 0; round < 100; round++) {
		for (size_t i = 0; i < ARRAY_SIZE(batches); i++) {
			for (size_t f = 0; f < ARRAY_SIZE(flags); f++) {
				b = counter_req(KMEMLAB_BENCH_PERCPU_INC);
				b.iterations = 1 + round % 3;
				b.batch = batches[i];
				b.threads = 2;
				b.flags = flags[f];
				ASSERT_EQ(0, bench(self->fd, &b));
				ASSERT_LE(b.ns_min, b.ns_median)
					TH_LOG("round %d batch %u flags %#x: ns %llu/%llu/%llu",
					       round, b.batch, b.flags, (unsigned long long)b.ns_min,
					       (unsigned long long)b.ns_median,
					       (unsigned long long)b.ns_p99);
				ASSERT_LE(b.ns_median, b.ns_p99);
				ASSERT_LE(b.cycles_min, b.cycles_median);
				ASSERT_LE(b.cycles_median, b.cycles_p99);
			}
		}
	}
}

TEST_HARNESS_MAIN
