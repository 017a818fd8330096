// SPDX-License-Identifier: GPL-2.0
/*
 * kmemlab kselftest: the five general-purpose allocators through /dev/kmemlab
 * (kmalloc, kmem_cache, __get_free_pages, alloc_pages_node, vmalloc).
 *
 * Every test checks the real effect where the kernel shows one: the cache in
 * /proc/slabinfo and /sys/kernel/slab, the area in /proc/vmallocinfo, the
 * node the pages landed on, the bytes the kernel filled. Run as root with
 * kmemlab.ko loaded; tests skip when the module or a feature is missing.
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <sys/mman.h>

#include "kmemlab_util.h"

/* x86-64 defaults: MAX_PAGE_ORDER 10 with 4 KiB pages; KMALLOC_MAX_SIZE 4 MiB. */
#define MAX_ORDER 10
#define KMALLOC_MAX (4UL << 20)
#define VMALLOC_MAX (1UL << 30)
/*
 * KFENCE serves a sampled allocation (one per 100 ms) from its own pool: such
 * an object is not in its cache's slabs, so /proc/slabinfo and
 * /sys/kernel/slab may count one or two fewer than were allocated.
 */
#define KFENCE_SLACK 2

/* A fill with the reserved field set. */
static int fill_reserved(int fd, __u32 handle)
{
	struct kmemlab_io r = { .handle = handle, .reserved = 1, .len = 1, .addr = 1 };

	return ioctl(fd, KMEMLAB_IOC_FILL, &r) ? -errno : 0;
}

static int cache_destroy(int fd, __u32 handle)
{
	struct kmemlab_cache_destroy d = { .handle = handle };

	return ioctl(fd, KMEMLAB_IOC_CACHE_DESTROY, &d) ? -errno : 0;
}

/* Lines of /proc/vmallocinfo from kmemlab with exactly @pages pages. */
static int vmalloc_areas(long pages)
{
	char line[512], want[64];
	int n = 0;
	FILE *f = fopen("/proc/vmallocinfo", "r");

	if (!f)
		return -1;
	snprintf(want, sizeof(want), " pages=%ld ", pages);
	while (fgets(line, sizeof(line), f))
		if (strstr(line, "[kmemlab]") && strstr(line, want))
			n++;
	fclose(f);
	return n;
}

static int online_nodes(void)
{
	int n = 0;
	char path[64];

	for (int i = 0; i < 64; i++) {
		snprintf(path, sizeof(path), "/sys/devices/system/node/node%d", i);
		n += access(path, F_OK) == 0;
	}
	return n;
}

KMEMLAB_DEV_FIXTURE();

TEST_F(dev, kmalloc_round_trip_and_limits)
{
	struct kmemlab_info i;
	__u32 h;

	ASSERT_EQ(0, alloc1(self->fd, KMEMLAB_KIND_KMALLOC, 300, 0, KMEMLAB_NODE_ANY, 0, &h));
	ASSERT_EQ(0, info(self->fd, h, &i));
	EXPECT_EQ(KMEMLAB_KIND_KMALLOC, i.kind);
	EXPECT_EQ(300U, i.size);
	round_trip(_metadata, self->fd, h, 300);
	ASSERT_EQ(0, free_handles(self->fd, 1, &h));
	EXPECT_EQ(-ENOENT, info(self->fd, h, &i));

	ASSERT_EQ(0, alloc1(self->fd, KMEMLAB_KIND_KMALLOC, 1, 0, KMEMLAB_NODE_ANY, 0, &h));
	ASSERT_EQ(0, free_handles(self->fd, 1, &h));
	ASSERT_EQ(0, alloc1(self->fd, KMEMLAB_KIND_KMALLOC, KMALLOC_MAX, 0, KMEMLAB_NODE_ANY, 0, &h));
	round_trip(_metadata, self->fd, h, KMALLOC_MAX);
	ASSERT_EQ(0, free_handles(self->fd, 1, &h));
	EXPECT_EQ(-EINVAL, alloc1(self->fd, KMEMLAB_KIND_KMALLOC, KMALLOC_MAX + 1, 0,
				  KMEMLAB_NODE_ANY, 0, &h));
	EXPECT_EQ(-EINVAL, alloc1(self->fd, KMEMLAB_KIND_KMALLOC, 0, 0, KMEMLAB_NODE_ANY, 0, &h));
	EXPECT_EQ(0U, nr_objects(self->fd));
}

TEST_F(dev, vmalloc_round_trip_limits_and_vmallocinfo)
{
	__u64 size = 3 << 20;
	long pages = size / 4096;
	__u32 h;

	if (access("/proc/vmallocinfo", R_OK))
		SKIP(return, "no /proc/vmallocinfo");
	ASSERT_EQ(0, vmalloc_areas(pages));
	ASSERT_EQ(0, alloc1(self->fd, KMEMLAB_KIND_VMALLOC, size, 0, KMEMLAB_NODE_ANY, 0, &h));
	EXPECT_EQ(1, vmalloc_areas(pages)) TH_LOG("the area is in /proc/vmallocinfo as kmemlab's");
	round_trip(_metadata, self->fd, h, size);
	ASSERT_EQ(0, free_handles(self->fd, 1, &h));
	EXPECT_EQ(0, vmalloc_areas(pages)) TH_LOG("the area is gone once freed");

	ASSERT_EQ(0, alloc1(self->fd, KMEMLAB_KIND_VMALLOC, 1, 0, KMEMLAB_NODE_ANY, 0, &h));
	round_trip(_metadata, self->fd, h, 1);
	ASSERT_EQ(0, free_handles(self->fd, 1, &h));
	EXPECT_EQ(-EINVAL, alloc1(self->fd, KMEMLAB_KIND_VMALLOC, VMALLOC_MAX + 1, 0,
				  KMEMLAB_NODE_ANY, 0, &h));
	EXPECT_EQ(-EINVAL, alloc_n(self->fd, KMEMLAB_KIND_VMALLOC, 4096, 0, KMEMLAB_NODE_ANY, 0,
				   KMEMLAB_GFP_ATOMIC, 1, &h)) TH_LOG("vmalloc cannot be atomic");
}

TEST_F(dev, free_pages_orders)
{
	struct kmemlab_info i;
	__u32 h;

	for (__u32 order = 0; order <= MAX_ORDER; order += 5) {
		ASSERT_EQ(0, alloc1(self->fd, KMEMLAB_KIND_FREE_PAGES, 0, order, KMEMLAB_NODE_ANY, 0, &h));
		ASSERT_EQ(0, info(self->fd, h, &i));
		EXPECT_EQ(order, i.order);
		EXPECT_EQ(4096ULL << order, i.size);
		round_trip(_metadata, self->fd, h, 4096ULL << order);
		ASSERT_EQ(0, free_handles(self->fd, 1, &h));
	}
	EXPECT_EQ(-EINVAL, alloc1(self->fd, KMEMLAB_KIND_FREE_PAGES, 0, MAX_ORDER + 1,
				  KMEMLAB_NODE_ANY, 0, &h));
	EXPECT_EQ(-EINVAL, alloc1(self->fd, KMEMLAB_KIND_FREE_PAGES, 0, 0, 0, 0, &h))
		TH_LOG("__get_free_pages takes no node");
}

TEST_F(dev, pages_node_lands_on_the_node_asked)
{
	struct kmemlab_info i;
	__u32 h;

	if (online_nodes() < 2)
		SKIP(return, "needs two NUMA nodes");
	for (int node = 0; node < 2; node++) {
		for (__u32 order = 0; order <= MAX_ORDER; order += MAX_ORDER) {
			ASSERT_EQ(0, alloc1(self->fd, KMEMLAB_KIND_PAGES_NODE, 0, order, node, 0, &h));
			ASSERT_EQ(0, info(self->fd, h, &i));
			EXPECT_EQ(node, i.nid) TH_LOG("order %u asked node %d", order, node);
			EXPECT_EQ(node, i.node);
			round_trip(_metadata, self->fd, h, 4096ULL << order);
			ASSERT_EQ(0, free_handles(self->fd, 1, &h));
		}
	}
	EXPECT_EQ(-EINVAL, alloc1(self->fd, KMEMLAB_KIND_PAGES_NODE, 0, MAX_ORDER + 1, 0, 0, &h));
	EXPECT_EQ(-EINVAL, alloc1(self->fd, KMEMLAB_KIND_PAGES_NODE, 0, 0, 63, 0, &h))
		TH_LOG("a node that does not exist");
}

TEST_F(dev, kmem_cache_in_slabinfo_and_sysfs)
{
	__u32 c = 0, handles[64], h;
	char line[256];
	long objects = -1;
	FILE *f;

	if (slab_active("kmalloc-64") == -2)
		SKIP(return, "no /proc/slabinfo (CONFIG_SLUB_DEBUG)");
	ASSERT_EQ(-1, slab_active("kmemlab-kselftest"));
	ASSERT_EQ(0, cache_create(self->fd, "kselftest", 200, KMEMLAB_CACHE_HWCACHE_ALIGN, &c));
	EXPECT_EQ(0, slab_active("kmemlab-kselftest"));
	EXPECT_EQ(-EEXIST, cache_create(self->fd, "kselftest", 64, 0, &h));
	ASSERT_EQ(0, alloc_n(self->fd, KMEMLAB_KIND_KMEM_CACHE, 0, 0, KMEMLAB_NODE_ANY, c, 0, 64,
			     handles));
	EXPECT_LE(64 - KFENCE_SLACK, slab_active("kmemlab-kselftest"));
	f = fopen("/sys/kernel/slab/kmemlab-kselftest/objects", "r");
	ASSERT_NE(NULL, f);
	ASSERT_NE(NULL, fgets(line, sizeof(line), f));
	fclose(f);
	objects = atol(line);
	EXPECT_LE(64 - KFENCE_SLACK, objects);
	round_trip(_metadata, self->fd, handles[7], 200);

	EXPECT_EQ(-EBUSY, cache_destroy(self->fd, c)) TH_LOG("a cache with objects stays");
	EXPECT_LE(64 - KFENCE_SLACK, slab_active("kmemlab-kselftest"));
	ASSERT_EQ(0, free_handles(self->fd, 64, handles));
	ASSERT_EQ(0, cache_destroy(self->fd, c));
	EXPECT_EQ(-1, slab_active("kmemlab-kselftest"));
	EXPECT_NE(0, access("/sys/kernel/slab/kmemlab-kselftest", F_OK));
	EXPECT_EQ(-ENOENT, cache_destroy(self->fd, c));
}

TEST_F(dev, kmem_cache_constructor_and_names)
{
	unsigned char back[64];
	__u64 magic = KMEMLAB_CTOR_MAGIC;
	__u32 c = 0, h;

	ASSERT_EQ(0, cache_create(self->fd, "kselftest-ctor", 64, KMEMLAB_CACHE_CTOR, &c));
	ASSERT_EQ(0, alloc1(self->fd, KMEMLAB_KIND_KMEM_CACHE, 0, 0, KMEMLAB_NODE_ANY, c, &h));
	ASSERT_EQ(0, io(self->fd, KMEMLAB_IOC_READ, h, 0, 64, (unsigned long)back, NULL));
	EXPECT_EQ(0, memcmp(back, &magic, 8));
	EXPECT_EQ(56U, first_not(back + 8, 56, 0));
	EXPECT_EQ(-EINVAL, alloc_n(self->fd, KMEMLAB_KIND_KMEM_CACHE, 0, 0, KMEMLAB_NODE_ANY, c,
				   KMEMLAB_GFP_ZERO, 1, &h)) TH_LOG("no __GFP_ZERO with a constructor");
	EXPECT_EQ(-EBUSY, cache_destroy(self->fd, c));
	ASSERT_EQ(0, free_handles(self->fd, 1, &h));
	ASSERT_EQ(0, cache_destroy(self->fd, c));

	EXPECT_EQ(-EINVAL, cache_create(self->fd, "Bad Name", 64, 0, &c));
	EXPECT_EQ(-EINVAL, cache_create(self->fd, "", 64, 0, &c));
	EXPECT_EQ(-EINVAL, cache_create(self->fd, "zero", 0, 0, &c));
	EXPECT_EQ(-EINVAL, cache_create(self->fd, "huge", KMALLOC_MAX / 2 + 1, 0, &c));
	/* The largest object a kmemlab cache takes fits even with debug metadata. */
	ASSERT_EQ(0, cache_create(self->fd, "kselftest-big", KMALLOC_MAX / 2, 0, &c));
	ASSERT_EQ(0, alloc1(self->fd, KMEMLAB_KIND_KMEM_CACHE, 0, 0, KMEMLAB_NODE_ANY, c, &h));
	ASSERT_EQ(0, io(self->fd, KMEMLAB_IOC_FILL, h, 0, KMALLOC_MAX / 2, 5, NULL));
	ASSERT_EQ(0, free_handles(self->fd, 1, &h));
	ASSERT_EQ(0, cache_destroy(self->fd, c));
	EXPECT_EQ(-EINVAL, cache_create(self->fd, "tiny-ctor", 4, KMEMLAB_CACHE_CTOR, &c));
	EXPECT_EQ(-EINVAL, cache_create(self->fd, "flags", 64, 0x80, &c));
	EXPECT_EQ(-ENOENT, alloc1(self->fd, KMEMLAB_KIND_KMEM_CACHE, 0, 0, KMEMLAB_NODE_ANY, 999, &h));
}

TEST_F(dev, batch_alloc_and_free)
{
	__u32 handles[KMEMLAB_BATCH_MAX], dup[2], rev[20];

	ASSERT_EQ(0, alloc_n(self->fd, KMEMLAB_KIND_KMALLOC, 64, 0, KMEMLAB_NODE_ANY, 0, 0,
			     KMEMLAB_BATCH_MAX, handles));
	EXPECT_EQ((__u32)KMEMLAB_BATCH_MAX, nr_objects(self->fd));
	for (int i = 1; i < KMEMLAB_BATCH_MAX; i++) {
		ASSERT_LT(handles[i - 1], handles[i]);
	}
	/* A repeated or unknown handle frees nothing. */
	dup[0] = dup[1] = handles[0];
	EXPECT_EQ(-EINVAL, free_handles(self->fd, 2, dup));
	dup[1] = 0;
	EXPECT_EQ(-ENOENT, free_handles(self->fd, 2, dup));
	EXPECT_EQ((__u32)KMEMLAB_BATCH_MAX, nr_objects(self->fd));
	ASSERT_EQ(0, free_handles(self->fd, 10, handles));
	EXPECT_EQ((__u32)KMEMLAB_BATCH_MAX - 10, nr_objects(self->fd));
	/* The newest 20, named newest first: they go, the one before stays. */
	for (int i = 0; i < 20; i++)
		rev[i] = handles[KMEMLAB_BATCH_MAX - 1 - i];
	ASSERT_EQ(0, free_handles(self->fd, 20, rev));
	EXPECT_EQ((__u32)KMEMLAB_BATCH_MAX - 30, nr_objects(self->fd));
	EXPECT_EQ(-ENOENT, free_handles(self->fd, 1, &handles[KMEMLAB_BATCH_MAX - 20]));
	/* The second newest named twice: as many handles as objects from it on; nothing goes. */
	dup[0] = dup[1] = handles[KMEMLAB_BATCH_MAX - 22];
	EXPECT_EQ(-EINVAL, free_handles(self->fd, 2, dup));
	EXPECT_EQ((__u32)KMEMLAB_BATCH_MAX - 30, nr_objects(self->fd));
	/* Two objects, with others between them that stay. */
	dup[0] = handles[KMEMLAB_BATCH_MAX - 21];
	dup[1] = handles[10];
	ASSERT_EQ(0, free_handles(self->fd, 2, dup));
	EXPECT_EQ((__u32)KMEMLAB_BATCH_MAX - 32, nr_objects(self->fd));
	EXPECT_EQ(0, free_handles(self->fd, 1, &handles[KMEMLAB_BATCH_MAX - 22]));
	EXPECT_EQ(0, free_handles(self->fd, 1, &handles[11]));
	EXPECT_EQ((__u32)KMEMLAB_BATCH_MAX - 34, nr_objects(self->fd));
	ASSERT_EQ(0, free_all(self->fd));
	EXPECT_EQ(0U, nr_objects(self->fd));
	EXPECT_EQ(-EINVAL, alloc_n(self->fd, KMEMLAB_KIND_KMALLOC, 64, 0, KMEMLAB_NODE_ANY, 0, 0,
				   KMEMLAB_BATCH_MAX + 1, handles));
	EXPECT_EQ(-EINVAL, alloc_n(self->fd, KMEMLAB_KIND_KMALLOC, 64, 0, KMEMLAB_NODE_ANY, 0, 0,
				   0, handles));
}

/* A WRITE from a buffer whose second page is unmapped: EFAULT, object intact. */
static void write_fault_changes_nothing(struct __test_metadata *_metadata, int fd)
{
	__u32 big;
	__u64 result = 0;
	char *two = mmap(NULL, 8192, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	ASSERT_NE(MAP_FAILED, two);
	ASSERT_EQ(0, mprotect(two + 4096, 4096, PROT_NONE));
	memset(two, 0x77, 4096);
	ASSERT_EQ(0, alloc1(fd, KMEMLAB_KIND_KMALLOC, 8192, 0, KMEMLAB_NODE_ANY, 0, &big));
	ASSERT_EQ(0, io(fd, KMEMLAB_IOC_FILL, big, 0, 8192, 9, NULL));
	EXPECT_EQ(-EFAULT, io(fd, KMEMLAB_IOC_WRITE, big, 0, 8192, (unsigned long)two, NULL));
	ASSERT_EQ(0, io(fd, KMEMLAB_IOC_VERIFY, big, 0, 8192, 9, &result));
	EXPECT_EQ(~0ULL, result);
	ASSERT_EQ(0, free_handles(fd, 1, &big));
	munmap(two, 8192);
}

/*
 * ALLOC writes its handles out a chunk at a time: with an array whose last
 * 100 entries lie on a read-only page, 200 objects are made, the first chunk
 * of 64 handles goes out, the second faults, and every object the call made
 * is freed again.
 */
TEST_F(dev, alloc_fault_after_some_handles_frees_all)
{
	unsigned char *two = mmap(NULL, 8192, PROT_READ | PROT_WRITE,
				  MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	__u32 *handles, h;
	int i;

	ASSERT_NE(MAP_FAILED, two);
	ASSERT_EQ(0, mprotect(two + 4096, 4096, PROT_READ));
	handles = (__u32 *)(two + 4096 - 100 * sizeof(__u32));
	ASSERT_EQ(0U, nr_objects(self->fd));
	EXPECT_EQ(-EFAULT, alloc_n(self->fd, KMEMLAB_KIND_KMALLOC, 64, 0, KMEMLAB_NODE_ANY, 0, 0,
				   200, handles));
	EXPECT_EQ(0U, nr_objects(self->fd));
	/* The first chunk went out: a fresh file's handles 1 to 64. */
	for (i = 0; i < 64; i++)
		ASSERT_EQ((__u32)i + 1, handles[i]);
	/* They name nothing now. */
	EXPECT_EQ(-ENOENT, free_handles(self->fd, 64, handles));
	/* 200 were made (handles are never reused): the next is 201. */
	ASSERT_EQ(0, alloc1(self->fd, KMEMLAB_KIND_KMALLOC, 64, 0, KMEMLAB_NODE_ANY, 0, &h));
	EXPECT_EQ(201U, h);
	EXPECT_EQ(1U, nr_objects(self->fd));
	munmap(two, 8192);
}

TEST_F(dev, bad_input_changes_nothing)
{
	unsigned char buf[16];
	struct kmemlab_info i;
	__u32 h, c = 0;
	void *ro = mmap(NULL, 4096, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	ASSERT_NE(MAP_FAILED, ro);
	ASSERT_EQ(0, alloc1(self->fd, KMEMLAB_KIND_KMALLOC, 16, 0, KMEMLAB_NODE_ANY, 0, &h));
	/* Unknown handle. */
	EXPECT_EQ(-ENOENT, info(self->fd, h + 100, &i));
	EXPECT_EQ(-ENOENT, io(self->fd, KMEMLAB_IOC_READ, h + 100, 0, 1, (unsigned long)buf, NULL));
	EXPECT_EQ(-ENOENT, io(self->fd, KMEMLAB_IOC_FILL, 0, 0, 1, 1, NULL));
	/* Ranges: past the end, overflowing offset + len, zero-length is fine. */
	EXPECT_EQ(-EINVAL, io(self->fd, KMEMLAB_IOC_READ, h, 8, 9, (unsigned long)buf, NULL));
	EXPECT_EQ(-EINVAL, io(self->fd, KMEMLAB_IOC_FILL, h, ~0ULL, 2, 1, NULL));
	EXPECT_EQ(-EINVAL, io(self->fd, KMEMLAB_IOC_WRITE, h, 1, ~0ULL, (unsigned long)buf, NULL));
	EXPECT_EQ(0, io(self->fd, KMEMLAB_IOC_FILL, h, 16, 0, 1, NULL));
	/* Bad user pointers. */
	EXPECT_EQ(-EFAULT, io(self->fd, KMEMLAB_IOC_WRITE, h, 0, 16, 1, NULL));
	EXPECT_EQ(-EFAULT, io(self->fd, KMEMLAB_IOC_READ, h, 0, 16, (unsigned long)ro, NULL));
	EXPECT_EQ(-EFAULT, alloc1(self->fd, KMEMLAB_KIND_KMALLOC, 16, 0, KMEMLAB_NODE_ANY, 0, ro));
	EXPECT_EQ(-EFAULT, free_handles(self->fd, 1, NULL));
	/* Bad kinds, flags, fields that must be zero, nodes. */
	EXPECT_EQ(-EINVAL, alloc1(self->fd, 0, 16, 0, KMEMLAB_NODE_ANY, 0, &c));
	EXPECT_EQ(-EINVAL, alloc1(self->fd, 99, 16, 0, KMEMLAB_NODE_ANY, 0, &c));
	EXPECT_EQ(-EINVAL, alloc1(self->fd, KMEMLAB_NR_KINDS + 1, 16, 0, KMEMLAB_NODE_ANY, 0, &c))
		TH_LOG("the kind after the last");
	EXPECT_EQ(-EINVAL, alloc1(self->fd, KMEMLAB_KIND_KMALLOC, 16, 1, KMEMLAB_NODE_ANY, 0, &c));
	EXPECT_EQ(-EINVAL, alloc1(self->fd, KMEMLAB_KIND_FREE_PAGES, 16, 0, KMEMLAB_NODE_ANY, 0, &c));
	EXPECT_EQ(-EINVAL, alloc1(self->fd, KMEMLAB_KIND_KMALLOC, 16, 0, 64, 0, &c));
	EXPECT_EQ(-EINVAL, alloc1(self->fd, KMEMLAB_KIND_KMALLOC, 16, 0, -2, 0, &c));
	EXPECT_EQ(-EINVAL, alloc_n(self->fd, KMEMLAB_KIND_KMALLOC, 16, 0, KMEMLAB_NODE_ANY, 0,
				   0x8000, 1, &c));
	EXPECT_EQ(-EINVAL, alloc_n(self->fd, KMEMLAB_KIND_KMALLOC, 16, 0, KMEMLAB_NODE_ANY, 0,
				   0x8, 1, &c));
	EXPECT_EQ(-EINVAL, fill_reserved(self->fd, h));
	/* A WRITE whose source faults halfway leaves the object as it was. */
	write_fault_changes_nothing(_metadata, self->fd);
	/* The quota (256 MiB by default): refused, nothing allocated. */
	EXPECT_EQ(-ENOMEM, alloc1(self->fd, KMEMLAB_KIND_VMALLOC, 512UL << 20, 0,
				  KMEMLAB_NODE_ANY, 0, &c));
	/* Still exactly the one object, intact. */
	EXPECT_EQ(1U, nr_objects(self->fd));
	ASSERT_EQ(0, info(self->fd, h, &i));
	EXPECT_EQ(16U, i.size);
	munmap(ro, 4096);
}

TEST(closing_the_file_frees_everything)
{
	__u32 h[100], c = 0;
	long before_free, after_alloc, after_close;
	int fd = open_dev(_metadata);

	if (fd < 0)
		return;
	before_free = mem_free_kb();
	ASSERT_EQ(-1, slab_active("kmemlab-kselftest-close"));
	ASSERT_EQ(0, vmalloc_areas(4096));
	ASSERT_EQ(0, cache_create(fd, "kselftest-close", 512, 0, &c));
	ASSERT_EQ(0, alloc_n(fd, KMEMLAB_KIND_KMEM_CACHE, 0, 0, KMEMLAB_NODE_ANY, c, 0, 100, h));
	ASSERT_EQ(0, alloc_n(fd, KMEMLAB_KIND_KMALLOC, 1 << 20, 0, KMEMLAB_NODE_ANY, 0, 0, 8, h));
	ASSERT_EQ(0, alloc_n(fd, KMEMLAB_KIND_VMALLOC, 16 << 20, 0, KMEMLAB_NODE_ANY, 0, 0, 2, h));
	ASSERT_EQ(0, alloc_n(fd, KMEMLAB_KIND_FREE_PAGES, 0, 8, KMEMLAB_NODE_ANY, 0, 0, 8, h));
	ASSERT_EQ(0, alloc_n(fd, KMEMLAB_KIND_PAGES_NODE, 0, 8, 0, 0, 0, 8, h));
	after_alloc = mem_free_kb();
	EXPECT_LE(100 - KFENCE_SLACK, slab_active("kmemlab-kselftest-close"));
	EXPECT_EQ(2, vmalloc_areas(4096));
	/* 8 MiB + 32 MiB + 8 MiB + 8 MiB + the cache's slabs are in use. */
	EXPECT_LE(50L << 10, before_free - after_alloc);

	close(fd);
	after_close = mem_free_kb();
	EXPECT_EQ(-1, slab_active("kmemlab-kselftest-close"));
	EXPECT_EQ(0, vmalloc_areas(4096));
	/* Back to within 8 MiB of where it was (per-CPU lists, other activity). */
	EXPECT_GE(8L << 10, before_free - after_close)
		TH_LOG("MemFree %ld kB before, %ld after alloc, %ld after close",
		       before_free, after_alloc, after_close);
}

/* One thread's share of the concurrency test: its own objects, one shared file. */
struct worker {
	int fd;
	int id;
	int errors;
};

static void *churn(void *arg)
{
	struct worker *w = arg;
	__u32 kinds[] = { KMEMLAB_KIND_KMALLOC, KMEMLAB_KIND_VMALLOC, KMEMLAB_KIND_FREE_PAGES };

	for (int round = 0; round < 40; round++) {
		__u32 kind = kinds[round % 3], h[4];
		__u64 size = kind == KMEMLAB_KIND_FREE_PAGES ? 0 : 512 + w->id;
		__u32 order = kind == KMEMLAB_KIND_FREE_PAGES ? 1 : 0;
		__u64 seed = (__u64)w->id << 32 | round, result = 0;
		__u64 bytes = kind == KMEMLAB_KIND_FREE_PAGES ? 8192 : size;

		if (alloc_n(w->fd, kind, size, order, KMEMLAB_NODE_ANY, 0, 0, 4, h)) {
			w->errors++;
			continue;
		}
		for (int i = 0; i < 4; i++) {
			if (io(w->fd, KMEMLAB_IOC_FILL, h[i], 0, bytes, seed + i, NULL) ||
			    io(w->fd, KMEMLAB_IOC_VERIFY, h[i], 0, bytes, seed + i, &result) ||
			    result != ~0ULL)
				w->errors++;
		}
		if (free_handles(w->fd, 4, h))
			w->errors++;
	}
	return NULL;
}

TEST_F(dev, threads_share_one_file)
{
	struct worker w[4];
	pthread_t t[4];

	for (int i = 0; i < 4; i++) {
		w[i] = (struct worker){ .fd = self->fd, .id = i };
		ASSERT_EQ(0, pthread_create(&t[i], NULL, churn, &w[i]));
	}
	for (int i = 0; i < 4; i++) {
		ASSERT_EQ(0, pthread_join(t[i], NULL));
		EXPECT_EQ(0, w[i].errors) TH_LOG("thread %d", i);
	}
	EXPECT_EQ(0U, nr_objects(self->fd));
}

/*
 * Bytes /proc/allocinfo charges to kmemlab's call site @func, the function
 * of rust/shim.c that calls the allocator's tagged macro (-1: no such line,
 * or no /proc/allocinfo).
 */
static long long allocinfo_bytes(const char *func)
{
	char line[512], want[96];
	long long bytes = -1, b;
	FILE *f = fopen("/proc/allocinfo", "r");

	if (!f)
		return -1;
	snprintf(want, sizeof(want), "func:%s", func);
	/* "<bytes> <calls> <file>:<line> [kmemlab] func:<function>" */
	while (fgets(line, sizeof(line), f))
		if (strstr(line, "[kmemlab]") && has_word(line, want) &&
		    sscanf(line, "%lld", &b) == 1)
			bytes = b;
	fclose(f);
	return bytes;
}

/*
 * With CONFIG_MEM_ALLOC_PROFILING every kmemlab allocation goes through the
 * allocators' tagged entry points, so /proc/allocinfo charges it to
 * kmemlab's own call site (and CONFIG_MEM_ALLOC_PROFILING_DEBUG, which
 * WARNs on untagged ones, stays quiet: the splat gate checks that). Holding
 * a batch of each kind raises its line by the batch's bytes; freeing it
 * brings the line back.
 */
TEST_F(dev, allocations_charged_to_kmemlab_in_allocinfo)
{
	const struct {
		__u32 kind;
		__u64 size;
		__u32 order;
		const char *func;
		long long bytes;	/* charged per object, at least */
	} kinds[] = {
		{ KMEMLAB_KIND_KMALLOC, 1000, 0, "kmemlab_kmalloc_node", 1024 },
		{ KMEMLAB_KIND_KMEM_CACHE, 0, 0, "kmemlab_kmem_cache_alloc_get", 200 },
		{ KMEMLAB_KIND_FREE_PAGES, 0, 2, "kmemlab_get_free_pages", 4 * 4096 },
		{ KMEMLAB_KIND_PAGES_NODE, 0, 1, "kmemlab_alloc_pages_node", 2 * 4096 },
		{ KMEMLAB_KIND_VMALLOC, 3 * 4096, 0, "kmemlab_vzalloc_node", 3 * 4096 },
	};
	const __u32 n = 32;
	__u32 handles[32], cache = 0;

	if (access("/proc/allocinfo", R_OK))
		SKIP(return, "no /proc/allocinfo (CONFIG_MEM_ALLOC_PROFILING off)");
	ASSERT_EQ(0, cache_create(self->fd, "allocinfo", 200, 0, &cache));
	for (size_t k = 0; k < ARRAY_SIZE(kinds); k++) {
		long long before, held, after;
		/* KFENCE may serve (and not charge) one sampled slab object. */
		long long slack = kinds[k].kind == KMEMLAB_KIND_KMALLOC ||
				  kinds[k].kind == KMEMLAB_KIND_KMEM_CACHE ? KFENCE_SLACK : 0;
		__u32 cache_handle = kinds[k].kind == KMEMLAB_KIND_KMEM_CACHE ? cache : 0;

		before = allocinfo_bytes(kinds[k].func);
		ASSERT_EQ(0, alloc_n(self->fd, kinds[k].kind, kinds[k].size, kinds[k].order, -1,
				     cache_handle, 0, n, handles));
		held = allocinfo_bytes(kinds[k].func);
		ASSERT_LE(0, held) TH_LOG("no /proc/allocinfo line for %s", kinds[k].func);
		EXPECT_LE((n - slack) * kinds[k].bytes, held - (before < 0 ? 0 : before))
			TH_LOG("%s: %lld bytes before, %lld holding %u objects", kinds[k].func,
			       before, held, n);
		ASSERT_EQ(0, free_handles(self->fd, n, handles));
		after = allocinfo_bytes(kinds[k].func);
		EXPECT_GT(held, after) TH_LOG("%s: %lld after the free", kinds[k].func, after);
	}
}

TEST_HARNESS_MAIN
