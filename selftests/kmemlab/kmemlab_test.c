// SPDX-License-Identifier: GPL-2.0
/*
 * kmemlab kselftest: the /dev/kmemlab device, its ABI and its debugfs files.
 *
 * Run as root with kmemlab.ko loaded; every test skips (with the reason) when
 * the module is not loaded.
 */
#define _GNU_SOURCE
#include <grp.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>

#include "kmemlab_util.h"

#define DEBUGFS_DIR "/sys/kernel/debug/kmemlab"
#define MISC_MAJOR 10U

/* Number of online NUMA nodes, from a "0-1,3" style sysfs list. */
static unsigned int online_nodes(void)
{
	char buf[256], *p;
	unsigned int n = 0;
	FILE *f = fopen("/sys/devices/system/node/online", "r");

	if (!f)
		return 1; /* !CONFIG_NUMA: one node */
	if (!fgets(buf, sizeof(buf), f))
		buf[0] = 0;
	fclose(f);
	for (p = strtok(buf, ",\n"); p; p = strtok(NULL, ",\n")) {
		unsigned int a, b;

		if (sscanf(p, "%u-%u", &a, &b) == 2)
			n += b - a + 1;
		else
			n++;
	}
	return n;
}

KMEMLAB_DEV_FIXTURE();

TEST_F(dev, version)
{
	struct kmemlab_version v;
	__u64 known = KMEMLAB_FEAT_KMALLOC | KMEMLAB_FEAT_KMEM_CACHE |
		      KMEMLAB_FEAT_FREE_PAGES | KMEMLAB_FEAT_PAGES_NODE |
		      KMEMLAB_FEAT_VMALLOC | KMEMLAB_FEAT_DMA_COHERENT |
		      KMEMLAB_FEAT_IOREMAP | KMEMLAB_FEAT_PERCPU |
		      KMEMLAB_FEAT_EDU | KMEMLAB_FEAT_STATS | KMEMLAB_FEAT_BENCH |
		      KMEMLAB_FEAT_LIMITS | KMEMLAB_FEAT_KVMALLOC |
		      KMEMLAB_FEAT_ZONE_DMA | KMEMLAB_FEAT_ZONE_DMA32 |
		      KMEMLAB_FEAT_MEMPOOL | KMEMLAB_FEAT_DMA_POOL;

	/* Poison: every byte must be overwritten by the kernel. */
	memset(&v, 0xa5, sizeof(v));
	ASSERT_EQ(0, ioctl(self->fd, KMEMLAB_IOC_VERSION, &v));
	EXPECT_EQ((__u32)KMEMLAB_ABI_VERSION, v.abi_version);
	EXPECT_EQ(0U, v.reserved);
	EXPECT_EQ(0ULL, v.features & ~known);
	EXPECT_EQ((unsigned int)sysconf(_SC_NPROCESSORS_ONLN), v.nr_cpus);
	EXPECT_EQ(online_nodes(), v.nr_nodes);
}

TEST_F(dev, unknown_ioctl_is_enotty)
{
	struct kmemlab_version v;
	/* Same number with a different size, an unused number, another magic. */
	unsigned long bad[] = {
		_IOR(KMEMLAB_IOC_MAGIC, 0x00, __u32),
		_IOW(KMEMLAB_IOC_MAGIC, 0x00, struct kmemlab_version),
		_IOR(KMEMLAB_IOC_MAGIC, 0x7f, struct kmemlab_version),
		_IO(KMEMLAB_IOC_MAGIC, 0xff),
		_IOR('x', 0x00, struct kmemlab_version),
	};

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		errno = 0;
		EXPECT_EQ(-1, ioctl(self->fd, bad[i], &v)) TH_LOG("cmd %#lx", bad[i]);
		EXPECT_EQ(ENOTTY, errno) TH_LOG("cmd %#lx", bad[i]);
	}
}

TEST_F(dev, bad_pointer_is_efault)
{
	long page = sysconf(_SC_PAGESIZE);
	void *ro = mmap(NULL, page, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	void *bad[] = {
		NULL,
		(void *)1,
		ro,
		/* The last bytes of the structure run past the end of the mapping. */
		(char *)ro + page - sizeof(struct kmemlab_version) / 2,
		(void *)0xffff888000000000UL, /* a kernel address */
	};

	ASSERT_NE(MAP_FAILED, ro);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		errno = 0;
		EXPECT_EQ(-1, ioctl(self->fd, KMEMLAB_IOC_VERSION, bad[i]))
			TH_LOG("pointer %p", bad[i]);
		EXPECT_EQ(EFAULT, errno) TH_LOG("pointer %p", bad[i]);
	}
	munmap(ro, page);
}

/*
 * KMEMLAB_IOC_LIMITS into @l (poisoned first), with every check of its form:
 * the last field written too.
 */
static void get_limits(struct __test_metadata *_metadata, int fd, struct kmemlab_limits *l)
{
	memset(l, 0xa5, sizeof(*l));
	ASSERT_EQ(0, ioctl(fd, KMEMLAB_IOC_LIMITS, l)) TH_LOG("LIMITS: %s", strerror(errno));
	EXPECT_NE(0xa5a5a5a5a5a5a5a5ULL, l->dma_pool_block_max);
}

/* Size limits: each is the kernel's, and one more is refused with EINVAL. */
TEST_F(dev, limits_are_the_boundaries_the_module_enforces)
{
	struct kmemlab_version v;
	struct kmemlab_limits l;
	struct kmemlab_cache_create c = { .name = "kmemlab-limits", .align = 0 };
	__u64 page = sysconf(_SC_PAGESIZE);
	__u32 h;
	int ret;

	ASSERT_EQ(0, ioctl(self->fd, KMEMLAB_IOC_VERSION, &v));
	ASSERT_TRUE(v.features & KMEMLAB_FEAT_LIMITS);
	get_limits(_metadata, self->fd, &l);
	EXPECT_EQ(page, l.page_size);
	/* x86-64: MAX_PAGE_ORDER is 10; SLUB's KMALLOC_MAX_SIZE is that order. */
	EXPECT_LE(10U, l.max_order);
	EXPECT_EQ(page << l.max_order, l.kmalloc_max);
	EXPECT_EQ(l.kmalloc_max / 2, l.cache_object_max);
	EXPECT_EQ(page << l.max_order, l.dma_max);
	EXPECT_EQ(1ULL << 30, l.vmalloc_max);
	EXPECT_EQ((__u64)KMEMLAB_EDU_DMA_MAX, l.edu_dma_max);
	EXPECT_EQ((__u64)KMEMLAB_IOREMAP_MAX, l.ioremap_max);
	EXPECT_EQ(page << l.max_order, l.dma_pool_block_max);
	EXPECT_LE(1ULL, l.max_objects);
	EXPECT_LE(1ULL, l.max_bytes);

	EXPECT_EQ(-EINVAL, alloc1(self->fd, KMEMLAB_KIND_KMALLOC, l.kmalloc_max + 1, 0,
				  KMEMLAB_NODE_ANY, 0, &h));
	EXPECT_EQ(-EINVAL, alloc1(self->fd, KMEMLAB_KIND_VMALLOC, l.vmalloc_max + 1, 0,
				  KMEMLAB_NODE_ANY, 0, &h));
	EXPECT_EQ(-EINVAL, alloc1(self->fd, KMEMLAB_KIND_FREE_PAGES, 0, l.max_order + 1,
				  KMEMLAB_NODE_ANY, 0, &h));
	EXPECT_EQ(-EINVAL, alloc1(self->fd, KMEMLAB_KIND_PAGES_NODE, 0, l.max_order + 1,
				  KMEMLAB_NODE_ANY, 0, &h));
	EXPECT_EQ(-EINVAL, alloc1(self->fd, KMEMLAB_KIND_DMA_COHERENT, l.dma_max + 1, 0,
				  KMEMLAB_NODE_ANY, KMEMLAB_DEV_FAUX, &h));
	if (v.features & KMEMLAB_FEAT_DMA_POOL) {
		EXPECT_EQ(-EINVAL, dma_pool_create(self->fd, "limits", KMEMLAB_DEV_FAUX,
						   l.dma_pool_block_max + 1, 0, 0, &h));
		EXPECT_EQ(0, dma_pool_create(self->fd, "limits", KMEMLAB_DEV_FAUX,
					     l.dma_pool_block_max, 0, 0, &h));
	}
	c.object_size = l.cache_object_max + 1;
	errno = 0;
	EXPECT_EQ(-1, ioctl(self->fd, KMEMLAB_IOC_CACHE_CREATE, &c));
	EXPECT_EQ(EINVAL, errno);
	/* The limits themselves are granted (or, at worst, short of memory). */
	ret = alloc1(self->fd, KMEMLAB_KIND_KMALLOC, l.kmalloc_max, 0, KMEMLAB_NODE_ANY, 0, &h);
	EXPECT_TRUE(ret == 0 || ret == -ENOMEM) TH_LOG("kmalloc of kmalloc_max: %d", ret);
	EXPECT_EQ(0, free_all(self->fd));
	ret = alloc1(self->fd, KMEMLAB_KIND_FREE_PAGES, 0, l.max_order, KMEMLAB_NODE_ANY, 0, &h);
	EXPECT_TRUE(ret == 0 || ret == -ENOMEM) TH_LOG("pages of max_order: %d", ret);
	c.object_size = l.cache_object_max;
	EXPECT_EQ(0, ioctl(self->fd, KMEMLAB_IOC_CACHE_CREATE, &c)) TH_LOG("%s", strerror(errno));
	EXPECT_EQ(0, free_all(self->fd));
}

/*
 * The quota LIMITS reports is the one enforced, exactly: a file holds
 * max_objects objects and not one more, max_bytes bytes and not one more
 * (the refusal is ENOMEM, for requests no allocator refuses: one more after
 * a free is granted, and refused again once the quota is full).
 * With KMEMLAB_EXPECT_QUOTA="OBJECTS BYTES" (the lifecycle test loads the
 * module with those parameters), LIMITS must report exactly them.
 */
TEST_F_TIMEOUT(dev, quota_is_exactly_what_limits_reports, 120)
{
	static __u32 handles[KMEMLAB_BATCH_MAX];
	const char *expect = getenv("KMEMLAB_EXPECT_QUOTA");
	struct kmemlab_limits l;
	__u64 done, left = 0;
	__u32 h, last = 0;
	int fd = self->fd;

	get_limits(_metadata, fd, &l);
	if (expect) {
		char *end;
		unsigned long long objects = strtoull(expect, &end, 10);
		unsigned long long bytes = strtoull(end, &end, 10);

		ASSERT_EQ(0, *end) TH_LOG("KMEMLAB_EXPECT_QUOTA=\"%s\": want \"OBJECTS BYTES\"", expect);
		EXPECT_EQ(objects, l.max_objects);
		EXPECT_EQ(bytes, l.max_bytes);
	}
	ASSERT_GE(1ULL << 20, l.max_objects) TH_LOG("max_objects %llu: too many to exhaust",
						     (unsigned long long)l.max_objects);
	ASSERT_GE(1ULL << 30, l.max_bytes) TH_LOG("max_bytes %llu: too many to exhaust",
						  (unsigned long long)l.max_bytes);
	ASSERT_LE(8 * l.max_objects, l.max_bytes) TH_LOG("the objects' 8 bytes each pass max_bytes");

	/* Objects: 8-byte kmallocs, in batches. */
	for (done = 0; done < l.max_objects; done += left) {
		left = l.max_objects - done;
		if (left > KMEMLAB_BATCH_MAX)
			left = KMEMLAB_BATCH_MAX;
		ASSERT_EQ(0, alloc_n(fd, KMEMLAB_KIND_KMALLOC, 8, 0, KMEMLAB_NODE_ANY, 0, 0,
				     (__u32)left, handles)) TH_LOG("after %llu objects",
								   (unsigned long long)done);
	}
	EXPECT_EQ(l.max_objects, (__u64)nr_objects(fd));
	EXPECT_EQ(-ENOMEM, alloc1(fd, KMEMLAB_KIND_KMALLOC, 8, 0, KMEMLAB_NODE_ANY, 0, &h));
	/* Not memory: with one freed, one more is granted, then none. */
	h = handles[0];
	ASSERT_EQ(0, free_handles(fd, 1, &h));
	EXPECT_EQ(0, alloc1(fd, KMEMLAB_KIND_KMALLOC, 8, 0, KMEMLAB_NODE_ANY, 0, &h));
	EXPECT_EQ(-ENOMEM, alloc1(fd, KMEMLAB_KIND_KMALLOC, 8, 0, KMEMLAB_NODE_ANY, 0, &h));
	ASSERT_EQ(0, free_all(fd));

	/* Bytes: vmalloc areas (charged their size exactly) up to the quota. */
	for (done = 0; done < l.max_bytes; done += left) {
		left = l.max_bytes - done;
		if (left > l.vmalloc_max)
			left = l.vmalloc_max;
		ASSERT_EQ(0, alloc1(fd, KMEMLAB_KIND_VMALLOC, left, 0, KMEMLAB_NODE_ANY, 0, &last))
			TH_LOG("after %llu bytes", (unsigned long long)done);
	}
	EXPECT_EQ(-ENOMEM, alloc1(fd, KMEMLAB_KIND_VMALLOC, 1, 0, KMEMLAB_NODE_ANY, 0, &h));
	EXPECT_EQ(-ENOMEM, alloc1(fd, KMEMLAB_KIND_KMALLOC, 1, 0, KMEMLAB_NODE_ANY, 0, &h));
	/* Not memory: the last area freed, its size less one byte and one byte fit. */
	ASSERT_EQ(0, free_handles(fd, 1, &last));
	if (left > 1)
		EXPECT_EQ(0, alloc1(fd, KMEMLAB_KIND_VMALLOC, left - 1, 0, KMEMLAB_NODE_ANY, 0, &h));
	EXPECT_EQ(0, alloc1(fd, KMEMLAB_KIND_KMALLOC, 1, 0, KMEMLAB_NODE_ANY, 0, &h));
	EXPECT_EQ(-ENOMEM, alloc1(fd, KMEMLAB_KIND_KMALLOC, 1, 0, KMEMLAB_NODE_ANY, 0, &h));
}

TEST(device_node_is_root_only)
{
	struct stat st;

	if (stat(KMEMLAB_DEVICE, &st) && access("/sys/module/kmemlab", F_OK))
		SKIP(return, "kmemlab module not loaded");
	ASSERT_EQ(0, stat(KMEMLAB_DEVICE, &st));
	EXPECT_TRUE(S_ISCHR(st.st_mode));
	EXPECT_EQ(MISC_MAJOR, major(st.st_rdev));
	EXPECT_EQ(0600U, st.st_mode & 07777);
	EXPECT_EQ(0U, st.st_uid);
}

TEST(open_refused_to_unprivileged)
{
	int status;
	pid_t pid;

	if (geteuid() != 0)
		SKIP(return, "needs root to drop to an unprivileged user");
	if (access(KMEMLAB_DEVICE, F_OK))
		SKIP(return, "kmemlab module not loaded");

	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		/* Become nobody: no groups, no capabilities. */
		if (setgroups(0, NULL) || setgid(65534) || setuid(65534))
			_exit(2);
		if (open(KMEMLAB_DEVICE, O_RDWR) >= 0)
			_exit(3);
		_exit(errno == EACCES || errno == EPERM ? 0 : 4);
	}
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	ASSERT_TRUE(WIFEXITED(status));
	EXPECT_EQ(0, WEXITSTATUS(status))
		TH_LOG("child: 2 = cannot drop privileges, 3 = open succeeded, 4 = wrong errno");
}

TEST(debugfs_version_matches_ioctl)
{
	struct kmemlab_version v;
	char line[256];
	unsigned int abi = 0;
	unsigned long long feat = ~0ULL;
	int fd, seen = 0;
	FILE *f;

	if (access("/sys/module/kmemlab", F_OK))
		SKIP(return, "kmemlab module not loaded");
	if (access("/sys/kernel/debug/", F_OK))
		SKIP(return, "debugfs not mounted");
	fd = open_dev(_metadata);
	if (fd < 0)
		return;
	ASSERT_EQ(0, ioctl(fd, KMEMLAB_IOC_VERSION, &v));
	close(fd);

	f = fopen(DEBUGFS_DIR "/version", "r");
	ASSERT_NE(NULL, f) TH_LOG("%s/version: %s", DEBUGFS_DIR, strerror(errno));
	while (fgets(line, sizeof(line), f)) {
		seen += sscanf(line, "abi_version: %u", &abi);
		seen += sscanf(line, "features: %llx", &feat);
	}
	fclose(f);
	EXPECT_EQ(2, seen);
	EXPECT_EQ(v.abi_version, abi);
	EXPECT_EQ(v.features, feat);
}

TEST_HARNESS_MAIN
