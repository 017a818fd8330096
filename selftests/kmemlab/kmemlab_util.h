/* SPDX-License-Identifier: GPL-2.0 */
/*
 * kmemlab kselftests: helpers shared by the test programs. Each ioctl wrapper
 * returns 0 or -errno. Include after defining _GNU_SOURCE, like any header.
 */
#ifndef KMEMLAB_UTIL_H
#define KMEMLAB_UTIL_H

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
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
#define KMEMLAB_NR_KINDS 11

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
		[KMEMLAB_KIND_DMA_POOL] = "dma_pool",
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

/* The ioctl @cmd that makes something: 0 (*@made, its new handle, in *@handle) or -errno. */
static inline int ioc_make(int fd, unsigned long cmd, void *arg, const __u32 *made,
			   __u32 *handle)
{
	if (ioctl(fd, cmd, arg))
		return -errno;
	*handle = *made;
	return 0;
}

/*
 * @op (a DESTROY or STATUS) of the pool @handle through the ioctl @cmd, with
 * the structure *@s (having op and handle fields) zeroed first; 0 or -errno.
 */
#define POOL_OP(fd, cmd, s, op_, handle_)				\
	(memset((s), 0, sizeof(*(s))), (s)->op = (op_), (s)->handle = (handle_),	\
	 ioctl((fd), (cmd), (s)) ? -errno : 0)

/* Creates the cache kmemlab-@name; 0 or -errno, its handle in @handle. */
static inline int cache_create(int fd, const char *name, __u32 size, __u32 flags, __u32 *handle)
{
	struct kmemlab_cache_create c = { .object_size = size, .flags = flags };

	strncpy(c.name, name, sizeof(c.name) - 1);
	return ioc_make(fd, KMEMLAB_IOC_CACHE_CREATE, &c, &c.handle, handle);
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

	return ioc_make(fd, KMEMLAB_IOC_MEMPOOL, &m, &m.handle, handle);
}

/* KMEMLAB_MEMPOOL_DESTROY or _STATUS (into *@m) of mempool @handle; 0 or -errno. */
static inline int mempool_op(int fd, __u32 op, __u32 handle, struct kmemlab_mempool *m)
{
	return POOL_OP(fd, KMEMLAB_IOC_MEMPOOL, m, op, handle);
}

/*
 * Creates a DMA pool of @size-byte blocks for @device (KMEMLAB_DEV_*), named
 * kmemlab-@name in the device's pools file; 0 (its handle in *@handle) or
 * -errno.
 */
static inline int dma_pool_create(int fd, const char *name, __u32 device, __u32 size,
				  __u32 align, __u32 boundary, __u32 *handle)
{
	struct kmemlab_dma_pool p = {
		.op = KMEMLAB_DMA_POOL_CREATE, .device = device, .size = size, .align = align,
		.boundary = boundary,
	};

	snprintf(p.name, sizeof(p.name), "%s", name);
	return ioc_make(fd, KMEMLAB_IOC_DMA_POOL, &p, &p.handle, handle);
}

/* KMEMLAB_DMA_POOL_DESTROY or _STATUS (into *@p) of DMA pool @handle; 0 or -errno. */
static inline int dma_pool_op(int fd, __u32 op, __u32 handle, struct kmemlab_dma_pool *p)
{
	return POOL_OP(fd, KMEMLAB_IOC_DMA_POOL, p, op, handle);
}

/* @count blocks of DMA pool @pool with @gfp, their handles in @h; 0 or -errno. */
static inline int dma_pool_alloc(int fd, __u32 pool, __u32 gfp, __u32 count, __u32 *h)
{
	return alloc_n(fd, KMEMLAB_KIND_DMA_POOL, 0, 0, KMEMLAB_NODE_ANY, pool, gfp, count, h);
}

/* Maps edu's registers (KMEMLAB_IOREMAP_EDU); 0 or -errno. */
static inline int ioremap_edu(int fd, __u32 *handle)
{
	struct kmemlab_ioremap r = { .source = KMEMLAB_IOREMAP_EDU };

	return ioc_make(fd, KMEMLAB_IOC_IOREMAP, &r, &r.handle, handle);
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

/* VERIFY of [@offset, @offset + @len) of @h against @seed finds no difference. */
static inline void expect_pattern(struct __test_metadata *_metadata, int fd, __u32 h,
				  __u64 offset, __u64 len, __u64 seed)
{
	__u64 result = 0;

	ASSERT_EQ(0, io(fd, KMEMLAB_IOC_VERIFY, h, offset, len, seed, &result));
	EXPECT_EQ(~0ULL, result) TH_LOG("handle %u, %llu bytes at %llu, seed %llu", h,
					 (unsigned long long)len, (unsigned long long)offset,
					 (unsigned long long)seed);
}

/* An edu DMA round trip (KMEMLAB_IOC_DMA_COPY) from @src to @dst; 0 or -errno. */
static inline int dma_copy(int fd, __u32 src, __u32 dst, __u64 src_offset, __u64 dst_offset,
			   __u64 len)
{
	struct kmemlab_dma_copy c = {
		.src = src, .dst = dst, .src_offset = src_offset, .dst_offset = dst_offset,
		.len = len,
	};

	return ioctl(fd, KMEMLAB_IOC_DMA_COPY, &c) ? -errno : 0;
}

/*
 * edu's engine from @src to @dst, two objects of @size (at least 1300) bytes
 * that it takes, the CPU never touching the bytes: @dst reads as zeroes;
 * the whole of @src (filled with @seed) lands in @dst; then 1000 bytes from
 * offset 100 of @src (@seed + 1) land at offset 300 of @dst (@seed + 2),
 * the rest of @dst as it was. @src keeps @seed + 1, @dst @seed + 2 outside
 * [300, 1300).
 */
static inline void edu_whole_and_shifted(struct __test_metadata *_metadata, int fd, __u32 src,
					 __u32 dst, __u64 size, __u64 seed)
{
	unsigned char *a = malloc(size), *b = malloc(size);

	ASSERT_NE(NULL, a);
	ASSERT_NE(NULL, b);
	ASSERT_EQ(0, io(fd, KMEMLAB_IOC_READ, dst, 0, size, (unsigned long)b, NULL));
	ASSERT_EQ(size, first_not(b, size, 0));
	ASSERT_EQ(0, io(fd, KMEMLAB_IOC_FILL, src, 0, size, seed, NULL));
	ASSERT_EQ(0, dma_copy(fd, src, dst, 0, 0, size));
	expect_pattern(_metadata, fd, dst, 0, size, seed);

	/* Shifted: the pattern depends on the object offset, so compare the bytes. */
	ASSERT_EQ(0, io(fd, KMEMLAB_IOC_FILL, src, 0, size, seed + 1, NULL));
	ASSERT_EQ(0, io(fd, KMEMLAB_IOC_FILL, dst, 0, size, seed + 2, NULL));
	ASSERT_EQ(0, dma_copy(fd, src, dst, 100, 300, 1000));
	ASSERT_EQ(0, io(fd, KMEMLAB_IOC_READ, src, 0, size, (unsigned long)a, NULL));
	ASSERT_EQ(0, io(fd, KMEMLAB_IOC_READ, dst, 0, size, (unsigned long)b, NULL));
	EXPECT_EQ(0, memcmp(a + 100, b + 300, 1000));
	expect_pattern(_metadata, fd, dst, 0, 300, seed + 2);
	expect_pattern(_metadata, fd, dst, 1300, size - 1300, seed + 2);
	expect_pattern(_metadata, fd, src, 0, size, seed + 1);
	free(a);
	free(b);
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

/* ---- QEMU's edu device ---- */

/* PCI ids of QEMU's edu device. */
#define EDU_VENDOR 0x1234
#define EDU_DEVICE 0x11e8

/* kmemlab drives an edu device (KMEMLAB_FEAT_EDU). */
static inline bool has_edu(int fd)
{
	struct kmemlab_version v;

	return !version(fd, &v) && (v.features & KMEMLAB_FEAT_EDU);
}

/* A PCI device (QEMU's edu, mostly) as sysfs shows it. */
struct edu_pci {
	char name[NAME_MAX + 1];	/* PCI address, its dev_name() */
	__u64 bar0;	/* BAR0's physical address */
};

static inline unsigned int read_hex(const char *dir, const char *file)
{
	char path[PATH_MAX], buf[32];

	if (snprintf(path, sizeof(path), "%s/%s", dir, file) >= (int)sizeof(path) ||
	    read_line(path, buf, sizeof(buf)))
		return 0;
	return (unsigned int)strtoul(buf, NULL, 16);
}

/* The first PCI device @vendor:@device with a memory BAR0, into *@pci. */
static inline bool find_pci(unsigned int vendor, unsigned int device, struct edu_pci *pci)
{
	const char *bus = "/sys/bus/pci/devices";
	DIR *d = opendir(bus);
	struct dirent *e;
	bool found = false;

	if (!d)
		return false;
	while (!found && (e = readdir(d))) {
		char dir[PATH_MAX], buf[128];
		unsigned long long start;

		if (e->d_name[0] == '.')
			continue;
		snprintf(dir, sizeof(dir), "%s/%s", bus, e->d_name);
		if (read_hex(dir, "vendor") != vendor || read_hex(dir, "device") != device)
			continue;
		strncat(dir, "/resource", sizeof(dir) - strlen(dir) - 1);
		if (read_line(dir, buf, sizeof(buf)) || sscanf(buf, "%llx", &start) != 1 || !start)
			continue;
		snprintf(pci->name, sizeof(pci->name), "%s", e->d_name);
		pci->bar0 = start;
		found = true;
	}
	closedir(d);
	return found;
}

static inline bool find_edu(struct edu_pci *edu)
{
	return find_pci(EDU_VENDOR, EDU_DEVICE, edu);
}

/* The driver bound to @edu belongs to the kmemlab module. */
static inline bool edu_bound_to_kmemlab(const struct edu_pci *edu)
{
	char path[PATH_MAX], target[PATH_MAX];
	const char *base;
	ssize_t n;

	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/driver/module", edu->name);
	n = readlink(path, target, sizeof(target) - 1);
	if (n < 0)
		return false;
	target[n] = 0;
	base = strrchr(target, '/');
	return !strcmp(base ? base + 1 : target, "kmemlab");
}

/* Writes @name to the kmemlab-edu driver's @attr ("bind" or "unbind"); 0 or -errno. */
static inline int edu_driver_write(const char *attr, const char *name)
{
	char path[PATH_MAX];

	snprintf(path, sizeof(path), "/sys/bus/pci/drivers/kmemlab-edu/%s", attr);
	return write_str(path, name);
}

/* ---- DMA pools in sysfs ---- */

/* The pools file of kmemlab's faux device (mm/dmapool.c makes one per device). */
#define FAUX_POOLS "/sys/bus/faux/devices/kmemlab/pools"

/* The pools file of the edu device @edu, into @path. */
static inline void edu_pools_path(const struct edu_pci *edu, char *path, size_t len)
{
	snprintf(path, len, "/sys/bus/pci/devices/%s/pools", edu->name);
}

/* One pool's line of a pools file (mm/dmapool.c, pools_show()). */
struct pool_line {
	unsigned long active;	/* blocks in use */
	unsigned long blocks;	/* blocks in the pool's pages */
	unsigned long size;	/* the block size, as the pool rounded it up */
	unsigned long pages;	/* pages, of max(size, PAGE_SIZE) bytes each */
};

#define POOLS_HEADER "poolinfo - 0.1\n"

/*
 * How many pools named @name (the kernel's name: "kmemlab-...") the pools
 * file @path lists, the last one's figures in *@line (may be NULL); -ENOENT
 * when there is no such file (the device has no DMA pool), -EINVAL when the
 * file is not in the kernel's format, -errno when it cannot be read.
 */
static inline int pool_lines(const char *path, const char *name, struct pool_line *line)
{
	char *all = read_file(path), *p, *nl;
	int n = 0;

	if (!all)
		return -errno;
	if (strncmp(all, POOLS_HEADER, strlen(POOLS_HEADER))) {
		free(all);
		return -EINVAL;
	}
	for (p = all + strlen(POOLS_HEADER); *p; p = nl + 1) {
		struct pool_line l;
		char pool[64];

		nl = strchr(p, '\n');
		if (!nl || sscanf(p, "%63s %lu %lu %lu %lu", pool, &l.active, &l.blocks, &l.size,
				  &l.pages) != 5) {
			n = -EINVAL;
			break;
		}
		if (!strcmp(pool, name)) {
			n++;
			if (line)
				*line = l;
		}
	}
	free(all);
	return n;
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
