/* SPDX-License-Identifier: GPL-2.0 */
/*
 * kmemlab kselftests: helpers shared by the test programs. Each ioctl wrapper
 * returns 0 or -errno. Include after defining _GNU_SOURCE, like any header.
 */
#ifndef KMEMLAB_UTIL_H
#define KMEMLAB_UTIL_H

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "kselftest_harness.h"
#include "kmemlab.h"

/* Opens /dev/kmemlab, or skips the test when the module is not loaded. */
static inline int open_dev(struct __test_metadata *_metadata)
{
	int fd = open(KMEMLAB_DEVICE, O_RDWR | O_CLOEXEC);

	if (fd < 0 && access("/sys/module/kmemlab", F_OK))
		SKIP(return -1, "kmemlab module not loaded");
	ASSERT_LE(0, fd) TH_LOG("open %s: %s", KMEMLAB_DEVICE, strerror(errno));
	return fd;
}

/*
 * The fixture most tests use: "dev", one open /dev/kmemlab in self->fd
 * (the test is skipped when the module is not loaded).
 */
#define KMEMLAB_DEV_FIXTURE()					\
	FIXTURE(dev) {						\
		int fd;						\
	};							\
	FIXTURE_SETUP(dev)					\
	{							\
		self->fd = open_dev(_metadata);			\
	}							\
	FIXTURE_TEARDOWN(dev)					\
	{							\
		if (self->fd >= 0)				\
			close(self->fd);			\
	}

static inline int alloc_n(int fd, __u32 kind, __u64 size, __u32 order, __s32 node,
			  __u32 cache, __u32 gfp, __u32 count, __u32 *handles)
{
	struct kmemlab_alloc a = {
		.kind = kind, .gfp = gfp, .size = size, .order = order,
		.node = node, .cache = cache, .count = count,
		.handles = (__u64)(unsigned long)handles,
	};

	return ioctl(fd, KMEMLAB_IOC_ALLOC, &a) ? -errno : 0;
}

/* One object. */
static inline int alloc1(int fd, __u32 kind, __u64 size, __u32 order, __s32 node, __u32 cache,
			 __u32 *handle)
{
	return alloc_n(fd, kind, size, order, node, cache, 0, 1, handle);
}

static inline int free_handles(int fd, __u32 count, __u32 *handles)
{
	struct kmemlab_free f = { .count = count, .handles = (__u64)(unsigned long)handles };

	return ioctl(fd, KMEMLAB_IOC_FREE, &f) ? -errno : 0;
}

static inline int free_all(int fd)
{
	struct kmemlab_free f = { .flags = KMEMLAB_FREE_ALL };

	return ioctl(fd, KMEMLAB_IOC_FREE, &f) ? -errno : 0;
}

/* WRITE, READ, FILL or VERIFY; @result (may be NULL) receives VERIFY's result. */
static inline int io(int fd, unsigned long cmd, __u32 handle, __u64 offset, __u64 len,
		     __u64 addr, __u64 *result)
{
	struct kmemlab_io r = { .handle = handle, .offset = offset, .len = len, .addr = addr };
	int ret = ioctl(fd, cmd, &r) ? -errno : 0;

	if (result)
		*result = r.result;
	return ret;
}

static inline int info(int fd, __u32 handle, struct kmemlab_info *i)
{
	memset(i, 0, sizeof(*i));
	i->handle = handle;
	return ioctl(fd, KMEMLAB_IOC_INFO, i) ? -errno : 0;
}

/* Objects the file owns, or ~0U when LIST fails. */
static inline __u32 nr_objects(int fd)
{
	struct kmemlab_list l = { 0 };

	return ioctl(fd, KMEMLAB_IOC_LIST, &l) ? ~0U : l.count;
}

/* The ABI's kinds, 1 to KMEMLAB_NR_KINDS. */
#define KMEMLAB_NR_KINDS 10

/* The name of a KMEMLAB_KIND_*, as the tool and the statistics files say it. */
static inline const char *kind_name(int kind)
{
	static const char *const names[KMEMLAB_NR_KINDS + 1] = {
		[0] = "?",
		[KMEMLAB_KIND_KMALLOC] = "kmalloc",
		[KMEMLAB_KIND_KMEM_CACHE] = "kmem_cache",
		[KMEMLAB_KIND_FREE_PAGES] = "free_pages",
		[KMEMLAB_KIND_PAGES_NODE] = "pages_node",
		[KMEMLAB_KIND_VMALLOC] = "vmalloc",
		[KMEMLAB_KIND_DMA_COHERENT] = "dma_coherent",
		[KMEMLAB_KIND_IOREMAP] = "ioremap",
		[KMEMLAB_KIND_PERCPU] = "percpu",
		[KMEMLAB_KIND_KVMALLOC] = "kvmalloc",
		[KMEMLAB_KIND_MEMPOOL] = "mempool",
	};

	return kind > 0 && kind <= KMEMLAB_NR_KINDS ? names[kind] : names[0];
}

/* KMEMLAB_ZONE_* by name, as /proc/zoneinfo and debugfs `objects` spell them. */
static const char *const kmemlab_zone_names[] = {
	[KMEMLAB_ZONE_NONE] = "-",	   [KMEMLAB_ZONE_DMA] = "DMA",
	[KMEMLAB_ZONE_DMA32] = "DMA32",	   [KMEMLAB_ZONE_NORMAL] = "Normal",
	[KMEMLAB_ZONE_HIGHMEM] = "HighMem", [KMEMLAB_ZONE_MOVABLE] = "Movable",
	[KMEMLAB_ZONE_DEVICE] = "Device",
};

/* KMEMLAB_BACKING_* by name, as debugfs `objects` spells them. */
static const char *const kmemlab_backing_names[] = {
	[KMEMLAB_BACKING_NONE] = "-",
	[KMEMLAB_BACKING_SLAB] = "slab",
	[KMEMLAB_BACKING_PAGES] = "pages",
	[KMEMLAB_BACKING_VMALLOC] = "vmalloc",
};

/* 1 + the KMEMLAB_ZONE_* named @name; 0 for none. */
static inline int zone_by_name(const char *name)
{
	for (size_t i = 0; i < sizeof(kmemlab_zone_names) / sizeof(kmemlab_zone_names[0]); i++)
		if (!strcmp(name, kmemlab_zone_names[i]))
			return (int)i + 1;
	return 0;
}

/* 1 + the KMEMLAB_BACKING_* named @name; 0 for none. */
static inline int backing_by_name(const char *name)
{
	for (size_t i = 0; i < sizeof(kmemlab_backing_names) / sizeof(kmemlab_backing_names[0]); i++)
		if (!strcmp(name, kmemlab_backing_names[i]))
			return (int)i + 1;
	return 0;
}

/* KMEMLAB_IOC_VERSION into @v; 0 or -errno. */
static inline int version(int fd, struct kmemlab_version *v)
{
	memset(v, 0, sizeof(*v));
	return ioctl(fd, KMEMLAB_IOC_VERSION, v) ? -errno : 0;
}

/* Creates the cache kmemlab-@name; 0 or -errno, its handle in @handle. */
static inline int cache_create(int fd, const char *name, __u32 size, __u32 flags, __u32 *handle)
{
	struct kmemlab_cache_create c = { .object_size = size, .flags = flags };

	strncpy(c.name, name, sizeof(c.name) - 1);
	if (ioctl(fd, KMEMLAB_IOC_CACHE_CREATE, &c))
		return -errno;
	*handle = c.handle;
	return 0;
}

/*
 * A mempool of @min_nr elements: over kmalloc (@cache 0, @size bytes each)
 * or over the cache @cache (@size 0). 0 (its handle in *@handle) or -errno.
 */
static inline int mempool_create(int fd, __u32 cache, __u32 size, __u32 min_nr, __u32 *handle)
{
	struct kmemlab_mempool m = {
		.op = KMEMLAB_MEMPOOL_CREATE,
		.source = cache ? KMEMLAB_MEMPOOL_CACHE : KMEMLAB_MEMPOOL_KMALLOC,
		.cache = cache, .size = size, .min_nr = min_nr,
	};

	if (ioctl(fd, KMEMLAB_IOC_MEMPOOL, &m))
		return -errno;
	*handle = m.handle;
	return 0;
}

/* KMEMLAB_MEMPOOL_DESTROY or _STATUS (into *@m) of mempool @handle; 0 or -errno. */
static inline int mempool_op(int fd, __u32 op, __u32 handle, struct kmemlab_mempool *m)
{
	memset(m, 0, sizeof(*m));
	m->op = op;
	m->handle = handle;
	return ioctl(fd, KMEMLAB_IOC_MEMPOOL, m) ? -errno : 0;
}

/* Maps edu's registers (KMEMLAB_IOREMAP_EDU); 0 or -errno. */
static inline int ioremap_edu(int fd, __u32 *handle)
{
	struct kmemlab_ioremap r = { .source = KMEMLAB_IOREMAP_EDU };

	if (ioctl(fd, KMEMLAB_IOC_IOREMAP, &r))
		return -errno;
	*handle = r.handle;
	return 0;
}

/* Lines of /proc/vmallocinfo made by kmemlab's code (-1: unreadable). */
static inline int kmemlab_vmap_areas(void)
{
	FILE *f = fopen("/proc/vmallocinfo", "r");
	char line[512];
	int n = 0;

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		n += strstr(line, "[kmemlab]") != NULL;
	fclose(f);
	return n;
}

/* Index of the first byte of @p that is not @c, or @len. */
static inline __u64 first_not(const unsigned char *p, __u64 len, unsigned char c)
{
	__u64 i = 0;

	while (i < len && p[i] == c)
		i++;
	return i;
}

/* Index of the first byte of @p that differs from the pattern of @seed, or @len. */
static inline __u64 first_unlike_pattern(const unsigned char *p, __u64 len, __u64 seed)
{
	__u64 i = 0;

	while (i < len && p[i] == kmemlab_pattern_byte(seed, i))
		i++;
	return i;
}

/* Round trip on one object: write/read, kernel fill checked byte by byte, verify. */
static inline void round_trip(struct __test_metadata *_metadata, int fd, __u32 h, __u64 size)
{
	unsigned char *buf = malloc(size), *back = malloc(size);
	__u64 result = 0;

	ASSERT_NE(NULL, buf);
	ASSERT_NE(NULL, back);
	/* A fresh object reads as zeroes: nothing uninitialised comes out. */
	memset(back, 0xa5, size);
	ASSERT_EQ(0, io(fd, KMEMLAB_IOC_READ, h, 0, size, (unsigned long)back, NULL));
	ASSERT_EQ(size, first_not(back, size, 0)) TH_LOG("a new object must read as zeroes");

	for (__u64 i = 0; i < size; i++)
		buf[i] = (unsigned char)(i * 7 + 3);
	ASSERT_EQ(0, io(fd, KMEMLAB_IOC_WRITE, h, 0, size, (unsigned long)buf, NULL));
	memset(back, 0, size);
	ASSERT_EQ(0, io(fd, KMEMLAB_IOC_READ, h, 0, size, (unsigned long)back, NULL));
	ASSERT_EQ(0, memcmp(buf, back, size));

	ASSERT_EQ(0, io(fd, KMEMLAB_IOC_FILL, h, 0, size, 0x1234, NULL));
	ASSERT_EQ(0, io(fd, KMEMLAB_IOC_READ, h, 0, size, (unsigned long)back, NULL));
	ASSERT_EQ(size, first_unlike_pattern(back, size, 0x1234))
		TH_LOG("the kernel's fill must match kmemlab_pattern_byte()");
	ASSERT_EQ(0, io(fd, KMEMLAB_IOC_VERIFY, h, 0, size, 0x1234, &result));
	EXPECT_EQ(~0ULL, result);
	/* Spoil one byte: verify finds exactly that one. */
	buf[0] = ~kmemlab_pattern_byte(0x1234, size / 2);
	ASSERT_EQ(0, io(fd, KMEMLAB_IOC_WRITE, h, size / 2, 1, (unsigned long)buf, NULL));
	ASSERT_EQ(0, io(fd, KMEMLAB_IOC_VERIFY, h, 0, size, 0x1234, &result));
	EXPECT_EQ(size / 2, result);
	free(buf);
	free(back);
}

/* Writes @s to @path (a sysfs or debugfs knob); 0 or -errno. */
static inline int write_str(const char *path, const char *s)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC);
	ssize_t n;

	if (fd < 0)
		return -errno;
	n = write(fd, s, strlen(s));
	close(fd);
	return n < 0 ? -errno : 0;
}

/* The first line of @path into @buf, without its newline; 0 or -1. */
static inline int read_line(const char *path, char *buf, size_t len)
{
	FILE *f = fopen(path, "r");
	bool ok;

	if (!f)
		return -1;
	ok = fgets(buf, len, f) != NULL;
	fclose(f);
	if (!ok)
		return -1;
	buf[strcspn(buf, "\n")] = 0;
	return 0;
}

/*
 * The whole of @path (a debugfs or procfs file: its size is unknown until
 * read), NUL-terminated, in a malloc()ed buffer; NULL with errno set on failure.
 */
static inline char *read_file(const char *path)
{
	size_t len = 0, room = 16384;
	char *buf = malloc(room), *bigger;
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t n;

	if (fd < 0 || !buf)
		goto fail;
	for (;;) {
		if (room - len < 4096) {
			bigger = realloc(buf, room * 2);
			if (!bigger)
				goto fail;
			buf = bigger;
			room *= 2;
		}
		n = read(fd, buf + len, room - len - 1);
		if (n < 0)
			goto fail;
		if (n == 0)
			break;
		len += n;
	}
	buf[len] = 0;
	close(fd);
	return buf;
fail:
	n = errno;
	free(buf);
	if (fd >= 0)
		close(fd);
	errno = n;
	return NULL;
}

/* @word in @line as a whole space-separated word. */
static inline bool has_word(const char *line, const char *word)
{
	size_t n = strlen(word);

	for (const char *p = strstr(line, word); p; p = strstr(p + 1, word)) {
		if ((p == line || p[-1] == ' ') && (p[n] == ' ' || p[n] == '\n' || !p[n]))
			return true;
	}
	return false;
}

#define CPU_DIR "/sys/devices/system/cpu"

/* Possible CPU ids (nr_cpu_ids) from a "0-3" style sysfs list, 0 if unknown. */
static inline int possible_cpu_ids(void)
{
	char buf[256], *last;

	if (read_line(CPU_DIR "/possible", buf, sizeof(buf)) || !buf[0])
		return 0;
	/* The last number of the list is the highest id. */
	last = buf + strlen(buf);
	while (last > buf && isdigit((unsigned char)last[-1]))
		last--;
	return atoi(last) + 1;
}

/* Possible CPUs (num_possible_cpus(): ids may have holes), 0 if unknown. */
static inline int nr_possible_cpus(void)
{
	char buf[256], *p;
	int n = 0;

	if (read_line(CPU_DIR "/possible", buf, sizeof(buf)) || !buf[0])
		return 0;
	for (p = strtok(buf, ","); p; p = strtok(NULL, ",")) {
		int a, b;

		if (sscanf(p, "%d-%d", &a, &b) == 2)
			n += b - a + 1;
		else
			n++;
	}
	return n;
}

static inline bool cpu_online(int cpu)
{
	char path[64], buf[8];

	snprintf(path, sizeof(path), CPU_DIR "/cpu%d", cpu);
	if (access(path, F_OK))
		return false;
	strncat(path, "/online", sizeof(path) - strlen(path) - 1);
	/* No online file: a CPU that cannot be taken offline (often CPU 0). */
	return read_line(path, buf, sizeof(buf)) || buf[0] == '1';
}

/* The online CPUs in @cpus (room for CPU_SETSIZE), in order; returns how many. */
static inline int online_cpus(int *cpus)
{
	int n = 0, ids = possible_cpu_ids();

	for (int cpu = 0; cpu < ids && cpu < CPU_SETSIZE; cpu++)
		if (cpu_online(cpu))
			cpus[n++] = cpu;
	return n;
}

/* Pins the calling thread to @cpu. */
static inline int pin_self(int cpu)
{
	cpu_set_t set;

	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	return sched_setaffinity(0, sizeof(set), &set) ? -errno : 0;
}

/*
 * active_objs of a /proc/slabinfo row, -1 when the cache is not listed, -2
 * when there is no /proc/slabinfo (CONFIG_SLUB_DEBUG).
 */
static inline long slab_active(const char *name)
{
	char line[512], n[128];
	long active = -1, a;
	FILE *f = fopen("/proc/slabinfo", "r");

	if (!f)
		return -2;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "%127s %ld", n, &a) == 2 && !strcmp(n, name))
			active = a;
	fclose(f);
	return active;
}

/* Free pages of the whole machine, in KiB (from /proc/meminfo). */
static inline long mem_free_kb(void)
{
	char line[256];
	long kb = -1;
	FILE *f = fopen("/proc/meminfo", "r");

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "MemFree: %ld kB", &kb) == 1)
			break;
	fclose(f);
	return kb;
}

#endif /* KMEMLAB_UTIL_H */
