/* SPDX-License-Identifier: GPL-2.0 */
/*
 * kmemlab kselftests: helpers shared by the test programs. Each ioctl wrapper
 * returns 0 or -errno. Include after defining _GNU_SOURCE, like any header.
 */
#ifndef KMEMLAB_UTIL_H
#define KMEMLAB_UTIL_H

#include <errno.h>
#include <fcntl.h>
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
