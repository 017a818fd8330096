// SPDX-License-Identifier: GPL-2.0
/*
 * kmemlab kselftest: the device-facing allocators through /dev/kmemlab:
 * dma_alloc_coherent (kmemlab's faux device and QEMU's edu with its DMA
 * engine), ioremap (edu's registers and explicit physical ranges) and per-CPU
 * counters, plus the module's static per-CPU ioctl counter in debugfs.
 *
 * Every test checks the real effect where the kernel shows one: the mapping in
 * /proc/vmallocinfo, the buffer in dma-debug's dump, the bytes edu's DMA
 * engine moved, edu's registers answering, the count on the CPU the thread was
 * pinned to. Run as root with kmemlab.ko loaded; tests skip when the module,
 * edu or a second CPU is missing.
 */
#define _GNU_SOURCE
#include <ctype.h>
#include <dirent.h>
#include <limits.h>
#include <pthread.h>
#include <sched.h>
#include <stdbool.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <linux/capability.h>

#include "kmemlab_util.h"

#define DEBUGFS_DIR "/sys/kernel/debug/kmemlab"
#define DMA_DEBUG_DIR "/sys/kernel/debug/dma-api"
/* x86-64: MAX_PAGE_ORDER 10, so DMA_COHERENT takes up to PAGE_SIZE << 10 bytes. */
#define MAX_PAGE_ORDER 10
/* dev_name() of kmemlab's faux device, as dma-debug reports it. */
#define FAUX_DEV_NAME "kmemlab"

/* QEMU's edu device: registers (docs/specs/edu.rst) and DMA mask. */
#define EDU_REG_ID 0x00
#define EDU_REG_LIVENESS 0x04
#define EDU_REG_FACTORIAL 0x08
#define EDU_REG_STATUS 0x20
#define EDU_REG_IRQ_STATUS 0x24
#define EDU_REG_IRQ_RAISE 0x60
#define EDU_REG_IRQ_ACK 0x64
#define EDU_ID 0x010000edULL /* version 1.0, "ed" */
#define EDU_STATUS_COMPUTING 0x01
#define EDU_DMA_LIMIT (1ULL << 28)

#define PERCPU_ADDS 1000
#define VERSION_CALLS 100

/* ---- ioctl wrappers: 0 or -errno ---- */

static int dma_alloc(int fd, __u32 device, __u64 size, __u32 gfp, __u32 count, __u32 *handles)
{
	return alloc_n(fd, KMEMLAB_KIND_DMA_COHERENT, size, 0, KMEMLAB_NODE_ANY, device, gfp,
		       count, handles);
}

static int percpu_alloc(int fd, __u32 *handle)
{
	return alloc1(fd, KMEMLAB_KIND_PERCPU, 0, 0, KMEMLAB_NODE_ANY, 0, handle);
}

static int map_io(int fd, __u32 source, __u64 phys, __u64 size, __u32 *handle)
{
	struct kmemlab_ioremap r = { .source = source, .phys = phys, .size = size };

	if (ioctl(fd, KMEMLAB_IOC_IOREMAP, &r))
		return -errno;
	*handle = r.handle;
	return 0;
}

static int mmio_ioc(int fd, struct kmemlab_mmio *m)
{
	return ioctl(fd, KMEMLAB_IOC_MMIO, m) ? -errno : 0;
}

static int mmio_read(int fd, __u32 handle, __u32 width, __u64 offset, __u64 *value)
{
	struct kmemlab_mmio m = {
		.handle = handle, .op = KMEMLAB_MMIO_READ, .width = width, .offset = offset,
	};
	int ret = mmio_ioc(fd, &m);

	*value = m.value;
	return ret;
}

static int mmio_write(int fd, __u32 handle, __u32 width, __u64 offset, __u64 value)
{
	struct kmemlab_mmio m = {
		.handle = handle, .op = KMEMLAB_MMIO_WRITE, .width = width, .offset = offset,
		.value = value,
	};

	return mmio_ioc(fd, &m);
}

static int percpu_ioc(int fd, struct kmemlab_percpu *p)
{
	return ioctl(fd, KMEMLAB_IOC_PERCPU, p) ? -errno : 0;
}

/* ADD on the CPU the call runs on; *@cpu receives that CPU. */
static int percpu_add(int fd, __u32 handle, __u64 value, __u32 *cpu)
{
	struct kmemlab_percpu p = { .handle = handle, .op = KMEMLAB_PERCPU_ADD, .value = value };
	int ret = percpu_ioc(fd, &p);

	*cpu = p.cpu;
	return ret;
}

static int percpu_add_on(int fd, __u32 handle, __u32 cpu, __u64 value)
{
	struct kmemlab_percpu p = {
		.handle = handle, .op = KMEMLAB_PERCPU_ADD_ON, .cpu = cpu, .value = value,
	};

	return percpu_ioc(fd, &p);
}

/* READ into @values (room for @room); *@count receives nr_cpu_ids, *@sum the sum. */
static int percpu_read(int fd, __u32 handle, __u32 room, __u64 *values, __u32 *count,
		       __u64 *sum)
{
	struct kmemlab_percpu p = {
		.handle = handle, .op = KMEMLAB_PERCPU_READ, .count = room,
		.values = (__u64)(unsigned long)values,
	};
	int ret = percpu_ioc(fd, &p);

	*count = p.count;
	*sum = p.sum;
	return ret;
}

/* nr_cpu_ids as a READ with no room reports it, or 0 on failure. */
static __u32 percpu_nr(int fd, __u32 handle)
{
	__u32 count = 0;
	__u64 sum;

	return percpu_read(fd, handle, 0, NULL, &count, &sum) ? 0 : count;
}

/* ---- what the kernel shows ---- */

/*
 * Areas of /proc/vmallocinfo that kmemlab ioremapped ("[kmemlab]" caller,
 * "ioremap" flag): all of them when @phys is 0, else those starting at the
 * page of @phys. -1 when the file cannot be read.
 */
static int ioremap_areas(__u64 phys)
{
	char line[512];
	int n = 0;
	FILE *f = fopen("/proc/vmallocinfo", "r");

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f)) {
		unsigned long long at = 0;
		const char *p = strstr(line, " phys=");

		if (!strstr(line, "[kmemlab]") || !has_word(line, "ioremap"))
			continue;
		if (phys && (!p || sscanf(p, " phys=%llx", &at) != 1 || at != (phys & ~0xfffULL)))
			continue;
		n++;
	}
	fclose(f);
	return n;
}

/*
 * Resources in /proc/iomem that start at @phys and are named exactly @name
 * (-1: unreadable). Lines read "<start>-<end> : <name>", indented by depth.
 */
static int iomem_claims(__u64 phys, const char *name)
{
	char line[512], who[128];
	unsigned long long start, end;
	int n = 0;
	FILE *f = fopen("/proc/iomem", "r");

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, " %llx-%llx : %127[^\n]", &start, &end, who) == 3 &&
		    start == phys && !strcmp(who, name))
			n++;
	fclose(f);
	return n;
}

/*
 * Coherent buffers dma-debug tracks for the device named @dev; *@max_end (may
 * be NULL) receives the highest bus address + length among them. -1 when
 * dma-debug is not there or has switched itself off.
 */
static int dma_debug_coherent(const char *dev, __u64 *max_end)
{
	char line[512], drv[64], name[64], type[32], off[8];
	unsigned long long addr, len;
	int n = 0;
	FILE *f;

	if (read_line(DMA_DEBUG_DIR "/disabled", off, sizeof(off)) || off[0] != 'N')
		return -1;
	f = fopen(DMA_DEBUG_DIR "/dump", "r");
	if (!f)
		return -1;
	if (max_end)
		*max_end = 0;
	/* "<driver> <device> <type> idx <n> P=<phys> D=<bus> L=<len> ..." */
	while (fgets(line, sizeof(line), f)) {
		if (sscanf(line, "%63s %63s %31s idx %*d P=%*s D=%llx L=%llx", drv, name, type,
			   &addr, &len) != 5 || strcmp(name, dev) || strcmp(type, "coherent"))
			continue;
		n++;
		if (max_end && addr + len > *max_end)
			*max_end = addr + len;
	}
	fclose(f);
	return n;
}

/* An inclusive physical range, as /proc/iomem prints it. */
struct phys_range {
	__u64 start, end;
};

/* The "System RAM" ranges of /proc/iomem; 0 when its addresses are hidden. */
static int ram_ranges(struct phys_range *r, int max)
{
	char line[256];
	int n = 0;
	FILE *f = fopen("/proc/iomem", "r");

	if (!f)
		return 0;
	while (n < max && fgets(line, sizeof(line), f)) {
		unsigned long long start, end;
		int name = 0;

		if (sscanf(line, " %llx-%llx : %n", &start, &end, &name) == 2 && name &&
		    !strncmp(line + name, "System RAM", 10) && end > start)
			r[n++] = (struct phys_range){ start, end };
	}
	fclose(f);
	return n;
}

static bool in_ram(const struct phys_range *r, int n, __u64 addr)
{
	for (int i = 0; i < n; i++)
		if (addr >= r[i].start && addr <= r[i].end)
			return true;
	return false;
}

/* Kernel lockdown refuses raw physical mappings whatever the capabilities. */
static bool locked_down(void)
{
	char buf[128];

	return !read_line("/sys/kernel/security/lockdown", buf, sizeof(buf)) &&
	       !strstr(buf, "[none]");
}

static int set_cpu_online(int cpu, bool online)
{
	char path[64];

	snprintf(path, sizeof(path), CPU_DIR "/cpu%d/online", cpu);
	return write_str(path, online ? "1" : "0");
}

/* debugfs "ioctls": the static per-CPU counter of dispatched ioctls. */
struct ioctl_calls {
	__u64 calls[CPU_SETSIZE];
	bool listed[CPU_SETSIZE];
	int cpus;	/* per-CPU lines */
	__u64 total;
};

/* Parses "cpu calls", then "<cpu> <calls>" per possible CPU, then "total <calls>". */
static int read_ioctl_calls(struct ioctl_calls *c)
{
	char line[128];
	bool header = false, total = false;
	int ret = 0;
	FILE *f = fopen(DEBUGFS_DIR "/ioctls", "r");

	if (!f)
		return -errno;
	memset(c, 0, sizeof(*c));
	while (!ret && fgets(line, sizeof(line), f)) {
		char word[2][16], extra;
		unsigned long long n;
		unsigned int cpu;

		if (!header) {
			header = true;
			if (sscanf(line, "%15s %15s %c", word[0], word[1], &extra) != 2 ||
			    strcmp(word[0], "cpu") || strcmp(word[1], "calls"))
				ret = -EINVAL;
		} else if (total) {
			ret = -EINVAL; /* nothing after the total */
		} else if (sscanf(line, "total %llu", &n) == 1) {
			total = true;
			c->total = n;
		} else if (sscanf(line, "%u %llu", &cpu, &n) == 2 && cpu < CPU_SETSIZE &&
			   !c->listed[cpu]) {
			c->listed[cpu] = true;
			c->calls[cpu] = n;
			c->cpus++;
		} else {
			ret = -EINVAL;
		}
	}
	fclose(f);
	return ret ? ret : total ? 0 : -EINVAL;
}

/* ---- checks shared by several tests ---- */

/* A READ of @h shows exactly @want per CPU (nr_cpu_ids of them) and their sum. */
static void check_counters(struct __test_metadata *_metadata, int fd, __u32 h,
			   const __u64 *want, __u32 nr)
{
	__u64 *got = calloc(nr, sizeof(*got)), sum = ~0ULL, want_sum = 0;
	__u32 count = 0;

	ASSERT_NE(NULL, got);
	ASSERT_EQ(0, percpu_read(fd, h, nr, got, &count, &sum));
	ASSERT_EQ(nr, count);
	for (__u32 cpu = 0; cpu < nr; cpu++) {
		EXPECT_EQ(want[cpu], got[cpu]) TH_LOG("CPU %u", cpu);
		want_sum += want[cpu];
	}
	EXPECT_EQ(want_sum, sum);
	free(got);
}

/* IOREMAP and PERCPU objects have no bytes: every byte command refuses them. */
static void byte_io_refused(struct __test_metadata *_metadata, int fd, __u32 h)
{
	static const unsigned long cmds[] = {
		KMEMLAB_IOC_READ, KMEMLAB_IOC_WRITE, KMEMLAB_IOC_FILL, KMEMLAB_IOC_VERIFY,
	};
	unsigned char buf[8] = { 0 };

	for (size_t i = 0; i < ARRAY_SIZE(cmds); i++) {
		EXPECT_EQ(-EINVAL, io(fd, cmds[i], h, 0, 4, (unsigned long)buf, NULL))
			TH_LOG("byte command %#lx", cmds[i]);
	}
}

/* Polls edu's status until the factorial unit is idle: 0, or -ETIMEDOUT after 2 s. */
static int edu_wait_idle(int fd, __u32 h)
{
	__u64 status = 0;

	for (int ms = 0; ms < 2000; ms++) {
		int ret = mmio_read(fd, h, 4, EDU_REG_STATUS, &status);

		if (ret)
			return ret;
		if (!(status & EDU_STATUS_COMPUTING))
			return 0;
		usleep(1000);
	}
	return -ETIMEDOUT;
}

static __u64 dma_max(void)
{
	return (__u64)sysconf(_SC_PAGESIZE) << MAX_PAGE_ORDER;
}

KMEMLAB_DEV_FIXTURE();

/* ---- features ---- */

TEST_F(dev, features_match_the_machine)
{
	__u64 need = KMEMLAB_FEAT_DMA_COHERENT | KMEMLAB_FEAT_IOREMAP | KMEMLAB_FEAT_PERCPU;
	struct kmemlab_version v;
	struct edu_pci edu;
	bool bound;
	__u32 h;

	ASSERT_EQ(0, version(self->fd, &v));
	EXPECT_EQ(need, v.features & need);
	bound = find_edu(&edu) && edu_bound_to_kmemlab(&edu);
	EXPECT_EQ(bound, !!(v.features & KMEMLAB_FEAT_EDU))
		TH_LOG("KMEMLAB_FEAT_EDU must say whether kmemlab drives an edu device");
	if (v.features & KMEMLAB_FEAT_EDU)
		return;
	/* Without edu, what needs it is refused as absent. */
	EXPECT_EQ(-ENODEV, dma_alloc(self->fd, KMEMLAB_DEV_EDU, 4096, 0, 1, &h));
	EXPECT_EQ(-ENODEV, map_io(self->fd, KMEMLAB_IOREMAP_EDU, 0, 0, &h));
	EXPECT_EQ(0U, nr_objects(self->fd));
}

/* ---- DMA ---- */

TEST_F(dev, dma_faux_buffers)
{
	const struct {
		__u64 size;
		__u32 gfp;
	} sizes[] = {
		{ 1, KMEMLAB_GFP_KERNEL },
		{ 4096, KMEMLAB_GFP_ATOMIC },
		{ 65536, KMEMLAB_GFP_ZERO | KMEMLAB_GFP_NOWARN },
		{ dma_max(), KMEMLAB_GFP_KERNEL },
	};
	int tracked = dma_debug_coherent(FAUX_DEV_NAME, NULL);
	struct kmemlab_version v;
	struct kmemlab_info in;
	__u32 h;

	ASSERT_EQ(0, version(self->fd, &v));
	for (size_t i = 0; i < ARRAY_SIZE(sizes); i++) {
		__u64 size = sizes[i].size;

		ASSERT_EQ(0, dma_alloc(self->fd, KMEMLAB_DEV_FAUX, size, sizes[i].gfp, 1, &h))
			TH_LOG("%llu bytes", (unsigned long long)size);
		ASSERT_EQ(0, info(self->fd, h, &in));
		EXPECT_EQ(KMEMLAB_KIND_DMA_COHERENT, in.kind);
		EXPECT_EQ(size, in.size);
		EXPECT_EQ(KMEMLAB_DEV_FAUX, in.cache);
		EXPECT_EQ(sizes[i].gfp, in.gfp);
		EXPECT_EQ(0U, in.order);
		EXPECT_EQ(KMEMLAB_NODE_ANY, in.node);
		EXPECT_LE(0, in.nid) TH_LOG("a coherent buffer is RAM on a node");
		EXPECT_GT((__s32)v.nr_nodes, in.nid);
		if (tracked >= 0) {
			EXPECT_EQ(tracked + 1, dma_debug_coherent(FAUX_DEV_NAME, NULL))
				TH_LOG("dma-debug sees the buffer on the faux device");
		}
		/* Reads back as zeroes, then write/read, fill and verify agree. */
		round_trip(_metadata, self->fd, h, size);
		ASSERT_EQ(0, free_handles(self->fd, 1, &h));
		EXPECT_EQ(-ENOENT, info(self->fd, h, &in));
		if (tracked >= 0) {
			EXPECT_EQ(tracked, dma_debug_coherent(FAUX_DEV_NAME, NULL))
				TH_LOG("dma_free_coherent() ran");
		}
	}
	EXPECT_EQ(0U, nr_objects(self->fd));
}

/*
 * The kernel's own DMA-API debugging counts each coherent buffer on the
 * device it was made for, and forgets it when it is freed. The other DMA
 * tests check the same along the way when dma-debug is there; this one
 * exists to say so when it is not (Debian's kernel has no DMA-API debug).
 */
TEST_F(dev, dma_debug_tracks_each_coherent_buffer)
{
	int tracked = dma_debug_coherent(FAUX_DEV_NAME, NULL);
	__u32 h[3];

	if (access(DMA_DEBUG_DIR, F_OK))
		SKIP(return, "no DMA-API debug (CONFIG_DMA_API_DEBUG off)");
	ASSERT_LE(0, tracked) TH_LOG("dma-debug is there but has switched itself off");
	ASSERT_EQ(0, dma_alloc(self->fd, KMEMLAB_DEV_FAUX, 4096, 0, 3, h));
	EXPECT_EQ(tracked + 3, dma_debug_coherent(FAUX_DEV_NAME, NULL));
	ASSERT_EQ(0, free_handles(self->fd, 3, h));
	EXPECT_EQ(tracked, dma_debug_coherent(FAUX_DEV_NAME, NULL));
}

TEST_F(dev, dma_bad_input_changes_nothing)
{
	const struct {
		__u32 device;
		__u64 size;
		__u32 order;
		__s32 node;
		__u32 gfp;
		const char *what;
	} bad[] = {
		{ 0, 4096, 0, KMEMLAB_NODE_ANY, 0, "device 0" },
		{ 3, 4096, 0, KMEMLAB_NODE_ANY, 0, "device 3" },
		{ KMEMLAB_DEV_FAUX, 0, 0, KMEMLAB_NODE_ANY, 0, "size 0" },
		{ KMEMLAB_DEV_FAUX, dma_max() + 1, 0, KMEMLAB_NODE_ANY, 0, "size past the maximum" },
		{ KMEMLAB_DEV_FAUX, 4096, 0, 0, 0, "a node" },
		{ KMEMLAB_DEV_FAUX, 4096, 1, KMEMLAB_NODE_ANY, 0, "an order" },
		{ KMEMLAB_DEV_FAUX, 4096, 0, KMEMLAB_NODE_ANY, KMEMLAB_GFP_ACCOUNT, "ACCOUNT" },
		{ KMEMLAB_DEV_FAUX, 4096, 0, KMEMLAB_NODE_ANY, KMEMLAB_GFP_NOIO, "GFP_NOIO" },
		{ KMEMLAB_DEV_FAUX, 4096, 0, KMEMLAB_NODE_ANY, 0x8, "GFP base 8" },
		{ KMEMLAB_DEV_FAUX, 4096, 0, KMEMLAB_NODE_ANY, KMEMLAB_GFP_DMA, "GFP_DMA" },
		{ KMEMLAB_DEV_FAUX, 4096, 0, KMEMLAB_NODE_ANY, 0x8000, "an unknown GFP bit" },
	};
	int tracked = dma_debug_coherent(FAUX_DEV_NAME, NULL);
	__u64 result = 0;
	__u32 keep, h;

	/* One live buffer, filled: the refusals must leave it as it is. */
	ASSERT_EQ(0, dma_alloc(self->fd, KMEMLAB_DEV_FAUX, 4096, 0, 1, &keep));
	ASSERT_EQ(0, io(self->fd, KMEMLAB_IOC_FILL, keep, 0, 4096, 77, NULL));
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		EXPECT_EQ(-EINVAL, alloc_n(self->fd, KMEMLAB_KIND_DMA_COHERENT, bad[i].size,
					   bad[i].order, bad[i].node, bad[i].device, bad[i].gfp, 1, &h))
			TH_LOG("%s", bad[i].what);
		EXPECT_EQ(1U, nr_objects(self->fd)) TH_LOG("after %s", bad[i].what);
	}
	EXPECT_EQ(-EINVAL, alloc1(self->fd, KMEMLAB_KIND_IOREMAP, 0, 0, KMEMLAB_NODE_ANY, 0, &h))
		TH_LOG("IOREMAP objects come from KMEMLAB_IOC_IOREMAP only");
	EXPECT_EQ(-EINVAL, alloc1(self->fd, KMEMLAB_KIND_IOREMAP, 4096, 0, KMEMLAB_NODE_ANY, 0, &h));
	EXPECT_EQ(1U, nr_objects(self->fd));
	if (tracked >= 0) {
		EXPECT_EQ(tracked + 1, dma_debug_coherent(FAUX_DEV_NAME, NULL))
			TH_LOG("no refused request left a buffer behind");
	}
	ASSERT_EQ(0, io(self->fd, KMEMLAB_IOC_VERIFY, keep, 0, 4096, 77, &result));
	EXPECT_EQ(~0ULL, result);
}

/* Two edu buffers of @size bytes each, in @h[0] (source) and @h[1] (destination). */
static void edu_pair(struct __test_metadata *_metadata, int fd, __u64 size, __u32 *h)
{
	struct kmemlab_info in;

	ASSERT_EQ(0, dma_alloc(fd, KMEMLAB_DEV_EDU, size, 0, 2, h));
	for (int i = 0; i < 2; i++) {
		ASSERT_EQ(0, info(fd, h[i], &in));
		EXPECT_EQ(KMEMLAB_KIND_DMA_COHERENT, in.kind);
		EXPECT_EQ(KMEMLAB_DEV_EDU, in.cache);
		EXPECT_EQ(size, in.size);
	}
}

TEST_F(dev, dma_edu_copy)
{
	unsigned char dst[4096];
	int tracked_before, tracked;
	struct edu_pci edu;
	__u64 end = 0;
	__u32 h[2], big[2];

	if (!has_edu(self->fd))
		SKIP(return, "edu is not bound (no KMEMLAB_FEAT_EDU)");
	ASSERT_TRUE(find_edu(&edu));
	tracked_before = dma_debug_coherent(edu.name, NULL);
	edu_pair(_metadata, self->fd, 4096, h);
	/* Within edu's 28-bit DMA mask, as dma-debug sees the bus addresses. */
	tracked = dma_debug_coherent(edu.name, &end);
	if (tracked_before >= 0) {
		EXPECT_EQ(tracked_before + 2, tracked);
		EXPECT_GE(EDU_DMA_LIMIT, end) TH_LOG("buffer ends at bus address %#llx",
						     (unsigned long long)end);
	}

	/* The whole buffer (KMEMLAB_EDU_DMA_MAX bytes), then a shifted range. */
	edu_whole_and_shifted(_metadata, self->fd, h[0], h[1], KMEMLAB_EDU_DMA_MAX, 0xed0);
	/* One byte, the last of the source into the first of the destination. */
	ASSERT_EQ(0, dma_copy(self->fd, h[0], h[1], 4095, 0, 1));
	ASSERT_EQ(0, io(self->fd, KMEMLAB_IOC_READ, h[1], 0, 1, (unsigned long)dst, NULL));
	EXPECT_EQ(kmemlab_pattern_byte(0xed1, 4095), dst[0]);
	expect_pattern(_metadata, self->fd, h[1], 1, 299, 0xed2);

	/* Larger buffers: a full-size copy at an offset, one byte more refused. */
	edu_pair(_metadata, self->fd, 8192, big);
	ASSERT_EQ(0, io(self->fd, KMEMLAB_IOC_FILL, big[0], 0, 8192, 0xed3, NULL));
	EXPECT_EQ(-EINVAL, dma_copy(self->fd, big[0], big[1], 0, 0, KMEMLAB_EDU_DMA_MAX + 1));
	ASSERT_EQ(0, dma_copy(self->fd, big[0], big[1], 4096, 4096, KMEMLAB_EDU_DMA_MAX));
	expect_pattern(_metadata, self->fd, big[1], 4096, 4096, 0xed3);
	ASSERT_EQ(0, io(self->fd, KMEMLAB_IOC_READ, big[1], 0, 4096, (unsigned long)dst, NULL));
	EXPECT_EQ(4096U, first_not(dst, 4096, 0)) TH_LOG("only the range asked for is written");

	ASSERT_EQ(0, free_all(self->fd));
	if (tracked_before >= 0) {
		EXPECT_EQ(tracked_before, dma_debug_coherent(edu.name, NULL));
	}
}

TEST_F(dev, dma_edu_copy_bad_input_changes_nothing)
{
	__u32 h[2], faux, kmalloc_obj;

	if (!has_edu(self->fd))
		SKIP(return, "edu is not bound (no KMEMLAB_FEAT_EDU)");
	edu_pair(_metadata, self->fd, 4096, h);
	ASSERT_EQ(0, dma_alloc(self->fd, KMEMLAB_DEV_FAUX, 4096, 0, 1, &faux));
	ASSERT_EQ(0, alloc1(self->fd, KMEMLAB_KIND_KMALLOC, 4096, 0, KMEMLAB_NODE_ANY, 0,
			    &kmalloc_obj));
	ASSERT_EQ(0, io(self->fd, KMEMLAB_IOC_FILL, h[0], 0, 4096, 0xe0, NULL));
	ASSERT_EQ(0, io(self->fd, KMEMLAB_IOC_FILL, h[1], 0, 4096, 0xe1, NULL));
	ASSERT_EQ(0, io(self->fd, KMEMLAB_IOC_FILL, faux, 0, 4096, 0xe2, NULL));

	const struct {
		__u32 src, dst;
		__u64 src_offset, dst_offset, len;
		int err;
		const char *what;
	} bad[] = {
		{ h[0], h[1], 0, 0, 0, -EINVAL, "length 0" },
		{ h[0], h[1], 0, 0, KMEMLAB_EDU_DMA_MAX + 1, -EINVAL, "longer than edu's buffer" },
		{ h[0], h[1], 4000, 0, 100, -EINVAL, "past the end of the source" },
		{ h[0], h[1], 0, 4096, 1, -EINVAL, "past the end of the destination" },
		{ h[0], h[1], ~0ULL, 0, 2, -EINVAL, "source offset + length overflows" },
		{ h[0], h[1], 0, ~0ULL - 1, 4, -EINVAL, "destination offset + length overflows" },
		{ h[0], h[0], 0, 2048, 1024, -EINVAL, "source and destination the same" },
		{ faux, h[1], 0, 0, 4096, -EINVAL, "a faux source" },
		{ h[0], faux, 0, 0, 4096, -EINVAL, "a faux destination" },
		{ kmalloc_obj, h[1], 0, 0, 4096, -EINVAL, "a kmalloc source" },
		{ h[0], kmalloc_obj, 0, 0, 4096, -EINVAL, "a kmalloc destination" },
		{ 9999, h[1], 0, 0, 4096, -ENOENT, "an unknown source" },
		{ h[0], 0, 0, 0, 4096, -ENOENT, "an unknown destination" },
	};

	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		EXPECT_EQ(bad[i].err, dma_copy(self->fd, bad[i].src, bad[i].dst, bad[i].src_offset,
					       bad[i].dst_offset, bad[i].len))
			TH_LOG("%s", bad[i].what);
	}
	/* Nothing was written anywhere. */
	expect_pattern(_metadata, self->fd, h[0], 0, 4096, 0xe0);
	expect_pattern(_metadata, self->fd, h[1], 0, 4096, 0xe1);
	expect_pattern(_metadata, self->fd, faux, 0, 4096, 0xe2);
	EXPECT_EQ(4U, nr_objects(self->fd));
	/* And the engine still works. */
	ASSERT_EQ(0, dma_copy(self->fd, h[0], h[1], 0, 0, 4096));
	expect_pattern(_metadata, self->fd, h[1], 0, 4096, 0xe0);
}

/* ---- ioremap ---- */

TEST_F(dev, ioremap_edu_registers)
{
	const struct {
		__u32 op, width, reserved;
		__u64 offset, value;
		int err;
		const char *what;
	} bad[] = {
		{ KMEMLAB_MMIO_WRITE, 4, 0, EDU_REG_ID, 1, -EACCES, "write identification" },
		{ KMEMLAB_MMIO_WRITE, 4, 0, EDU_REG_STATUS, 0, -EACCES, "write status" },
		{ KMEMLAB_MMIO_WRITE, 4, 0, EDU_REG_IRQ_STATUS, 0, -EACCES, "write irq status" },
		{ KMEMLAB_MMIO_WRITE, 4, 0, EDU_REG_IRQ_RAISE, 1, -EACCES, "raise an interrupt" },
		{ KMEMLAB_MMIO_WRITE, 4, 0, EDU_REG_IRQ_ACK, 1, -EACCES, "acknowledge an interrupt" },
		{ KMEMLAB_MMIO_READ, 3, 0, 0, 0, -EINVAL, "width 3" },
		{ KMEMLAB_MMIO_READ, 0, 0, 0, 0, -EINVAL, "width 0" },
		{ KMEMLAB_MMIO_READ, 16, 0, 0, 0, -EINVAL, "width 16" },
		{ KMEMLAB_MMIO_READ, 4, 0, 2, 0, -EINVAL, "unaligned offset" },
		{ KMEMLAB_MMIO_READ, 4, 0, KMEMLAB_EDU_REGS_SIZE, 0, -EINVAL, "offset at the end" },
		{ KMEMLAB_MMIO_READ, 8, 0, KMEMLAB_EDU_REGS_SIZE - 4, 0, -EINVAL,
		  "8 bytes over the end" },
		{ KMEMLAB_MMIO_READ, 8, 0, KMEMLAB_EDU_REGS_SIZE, 0, -EINVAL, "8 bytes at the end" },
		{ KMEMLAB_MMIO_READ, 4, 0, ~3ULL, 0, -EINVAL, "offset + width overflows" },
		{ KMEMLAB_MMIO_WRITE, 1, 0, EDU_REG_LIVENESS, 0x100, -EINVAL, "value above 1 byte" },
		{ KMEMLAB_MMIO_WRITE, 4, 0, EDU_REG_LIVENESS, 1ULL << 32, -EINVAL,
		  "value above 4 bytes" },
		{ 2, 4, 0, 0, 0, -EINVAL, "op 2" },
		{ KMEMLAB_MMIO_READ, 4, 1, 0, 0, -EINVAL, "reserved field" },
	};
	int areas, bar_areas = 0;
	struct kmemlab_info in;
	struct edu_pci edu;
	__u64 value = 0;
	__u32 h, other;

	if (!has_edu(self->fd))
		SKIP(return, "edu is not bound (no KMEMLAB_FEAT_EDU)");
	ASSERT_TRUE(find_edu(&edu));
	areas = ioremap_areas(0);
	ASSERT_LE(0, areas) TH_LOG("/proc/vmallocinfo: %s", strerror(errno));
	bar_areas = ioremap_areas(edu.bar0);
	ASSERT_EQ(0, map_io(self->fd, KMEMLAB_IOREMAP_EDU, 0, 0, &h));
	EXPECT_EQ(areas + 1, ioremap_areas(0)) TH_LOG("kmemlab's mapping is in /proc/vmallocinfo");
	EXPECT_EQ(bar_areas + 1, ioremap_areas(edu.bar0)) TH_LOG("and it maps edu's BAR0");
	ASSERT_EQ(0, info(self->fd, h, &in));
	EXPECT_EQ(KMEMLAB_KIND_IOREMAP, in.kind);
	EXPECT_EQ(KMEMLAB_EDU_REGS_SIZE, in.size);
	EXPECT_EQ(KMEMLAB_IOREMAP_EDU, in.cache);
	EXPECT_EQ(-1, in.nid);
	EXPECT_EQ(0U, in.order);

	/* The device answers: identification, liveness (inverts), factorial. */
	ASSERT_EQ(0, mmio_read(self->fd, h, 4, EDU_REG_ID, &value));
	EXPECT_EQ(EDU_ID, value);
	ASSERT_EQ(0, mmio_write(self->fd, h, 4, EDU_REG_LIVENESS, 0x12345678));
	ASSERT_EQ(0, mmio_read(self->fd, h, 4, EDU_REG_LIVENESS, &value));
	EXPECT_EQ(~0x12345678ULL & 0xffffffff, value);
	ASSERT_EQ(0, edu_wait_idle(self->fd, h));
	ASSERT_EQ(0, mmio_write(self->fd, h, 4, EDU_REG_FACTORIAL, 5));
	ASSERT_EQ(0, edu_wait_idle(self->fd, h)) TH_LOG("edu did not finish 5! within 2 s");
	ASSERT_EQ(0, mmio_read(self->fd, h, 4, EDU_REG_FACTORIAL, &value));
	EXPECT_EQ(120ULL, value);

	/* Refused accesses, none of which reaches the device. */
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		struct kmemlab_mmio m = {
			.handle = h, .op = bad[i].op, .width = bad[i].width,
			.reserved = bad[i].reserved, .offset = bad[i].offset,
			.value = bad[i].value,
		};

		EXPECT_EQ(bad[i].err, mmio_ioc(self->fd, &m)) TH_LOG("%s", bad[i].what);
	}
	ASSERT_EQ(0, mmio_read(self->fd, h, 4, EDU_REG_LIVENESS, &value));
	EXPECT_EQ(~0x12345678ULL & 0xffffffff, value) TH_LOG("a refused write changed liveness");
	ASSERT_EQ(0, mmio_read(self->fd, h, 4, EDU_REG_FACTORIAL, &value));
	EXPECT_EQ(120ULL, value);

	/* Not an IOREMAP object, or none at all; no bytes on an IOREMAP object. */
	ASSERT_EQ(0, alloc1(self->fd, KMEMLAB_KIND_KMALLOC, 64, 0, KMEMLAB_NODE_ANY, 0, &other));
	EXPECT_EQ(-EINVAL, mmio_read(self->fd, other, 4, 0, &value));
	EXPECT_EQ(-ENOENT, mmio_read(self->fd, h + 100, 4, 0, &value));
	byte_io_refused(_metadata, self->fd, h);

	ASSERT_EQ(0, free_handles(self->fd, 1, &h));
	EXPECT_EQ(-ENOENT, info(self->fd, h, &in));
	EXPECT_EQ(-ENOENT, mmio_read(self->fd, h, 4, 0, &value));
	EXPECT_EQ(areas, ioremap_areas(0)) TH_LOG("iounmap() ran");
}

TEST_F(dev, ioremap_phys_refusals)
{
	struct phys_range ram[64];
	int n = ram_ranges(ram, ARRAY_SIZE(ram)), below = -1, areas;
	bool edu = has_edu(self->fd);
	struct edu_pci pci;
	__u64 base, in_ram_at, last;
	__u32 h;

	if (locked_down())
		SKIP(return, "kernel lockdown refuses every physical mapping");
	if (!n)
		SKIP(return, "no System RAM in /proc/iomem (addresses hidden?)");
	/* Somewhere that is not RAM, for the malformed requests. */
	base = find_edu(&pci) ? pci.bar0 : 0xfee00000ULL;
	ASSERT_FALSE(in_ram(ram, n, base));
	/* The highest System RAM range of two pages or more with no RAM just below it. */
	for (int i = 0; i < n; i++) {
		if (ram[i].start >= 0x1000 && ram[i].end - ram[i].start >= 0x2fff &&
		    !in_ram(ram, n, ram[i].start - 1) &&
		    (below < 0 || ram[i].start > ram[below].start))
			below = i;
	}
	ASSERT_LE(0, below) TH_LOG("no System RAM range of two pages after a hole");
	in_ram_at = (ram[below].start + 0xfff) & ~0xfffULL;
	last = (ram[below].end + 1 - 0x1000) & ~3ULL;

	const struct {
		__u32 source;
		__u64 phys, size;
		int err;
		bool needs_edu;
		const char *what;
	} bad[] = {
		{ KMEMLAB_IOREMAP_PHYS, in_ram_at, 4096, -EACCES, false, "a page of System RAM" },
		{ KMEMLAB_IOREMAP_PHYS, in_ram_at, 4, -EACCES, false, "4 bytes of System RAM" },
		{ KMEMLAB_IOREMAP_PHYS, ram[below].start - 0x1000, 0x2000, -EACCES, false,
		  "from below into System RAM" },
		{ KMEMLAB_IOREMAP_PHYS, last, 0x2000, -EACCES, false, "from System RAM past its end" },
		{ KMEMLAB_IOREMAP_PHYS, base + 2, 4, -EINVAL, false, "phys not a multiple of 4" },
		{ KMEMLAB_IOREMAP_PHYS, base, 0, -EINVAL, false, "size 0" },
		{ KMEMLAB_IOREMAP_PHYS, base, 6, -EINVAL, false, "size not a multiple of 4" },
		{ KMEMLAB_IOREMAP_PHYS, base, KMEMLAB_IOREMAP_MAX + 4, -EINVAL, false,
		  "size past KMEMLAB_IOREMAP_MAX" },
		{ KMEMLAB_IOREMAP_PHYS, ~0xfffULL, 0x2000, -EINVAL, false, "phys + size overflows" },
		{ KMEMLAB_IOREMAP_PHYS, ~3ULL, 8, -EINVAL, false, "phys + size overflows by 4" },
		{ KMEMLAB_IOREMAP_PHYS, 1ULL << 56, 4096, -EINVAL, false,
		  "beyond the physical address space" },
		{ 0, base, 4096, -EINVAL, false, "source 0" },
		{ 3, base, 4096, -EINVAL, false, "source 3" },
		{ KMEMLAB_IOREMAP_EDU, base, 0, -EINVAL, true, "EDU with a phys" },
		{ KMEMLAB_IOREMAP_EDU, 0, KMEMLAB_EDU_REGS_SIZE, -EINVAL, true, "EDU with a size" },
	};

	areas = ioremap_areas(0);
	ASSERT_LE(0, areas);
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		if (bad[i].needs_edu && !edu)
			continue;
		EXPECT_EQ(bad[i].err, map_io(self->fd, bad[i].source, bad[i].phys, bad[i].size, &h))
			TH_LOG("%s: %#llx + %#llx", bad[i].what, (unsigned long long)bad[i].phys,
			       (unsigned long long)bad[i].size);
		EXPECT_EQ(areas, ioremap_areas(0)) TH_LOG("%s left a mapping", bad[i].what);
		EXPECT_EQ(0U, nr_objects(self->fd)) TH_LOG("%s left an object", bad[i].what);
	}
}

struct unbinder {
	const char *name;
	int ret;
	volatile bool done;
};

static void *unbind_edu(void *arg)
{
	struct unbinder *u = arg;

	u->ret = edu_driver_write("unbind", u->name);
	u->done = true;
	return NULL;
}

/* A thread copying between two edu buffers until a copy fails. */
struct copier {
	int fd;
	__u32 src, dst;
	int copies;
	int err;
	volatile bool started;
};

static void *copy_until_refused(void *arg)
{
	struct copier *c = arg;

	for (;;) {
		c->started = true;
		c->err = dma_copy(c->fd, c->src, c->dst, 0, 0, 4096);
		if (c->err)
			return NULL;
		c->copies++;
	}
}

/*
 * Unbinding edu revokes what kmemlab holds for it, at once: while this
 * process holds edu buffers, a mapping of edu's registers and a transfer in
 * flight, the unbind completes without waiting for any of them to be given
 * back. The buffers are freed (dma-debug tracks none for the device any
 * more), the mapping is gone from /proc/vmallocinfo, every use of the
 * handles answers ENODEV, FREE still succeeds, the faux device is
 * unaffected, and binding edu again brings it back.
 */
TEST_F(dev, edu_unbind_revokes_buffers_and_mappings)
{
	struct unbinder u = { 0 };
	struct copier c = { 0 };
	struct kmemlab_info inf;
	pthread_t unbinder, copier;
	unsigned char byte;
	struct edu_pci pci;
	__u32 h[3], regs, faux;
	__u64 value;
	int areas, waited;

	if (!has_edu(self->fd) || !find_edu(&pci))
		SKIP(return, "QEMU's edu device is not bound to kmemlab");
	/* Mappings of BAR0: the driver's engine window, and the one made here. */
	areas = ioremap_areas(pci.bar0);
	ASSERT_LE(1, areas);
	ASSERT_EQ(0, dma_alloc(self->fd, KMEMLAB_DEV_EDU, 4096, 0, 3, h));
	ASSERT_EQ(0, io(self->fd, KMEMLAB_IOC_FILL, h[0], 0, 4096, 7, NULL));
	ASSERT_EQ(0, ioremap_edu(self->fd, &regs));
	ASSERT_EQ(areas + 1, ioremap_areas(pci.bar0));
	ASSERT_EQ(0, mmio_read(self->fd, regs, 4, 0, &value));
	ASSERT_EQ(0x010000edULL, value);
	ASSERT_EQ(0, dma_alloc(self->fd, KMEMLAB_DEV_FAUX, 4096, 0, 1, &faux));
	if (dma_debug_coherent(pci.name, NULL) >= 0)
		ASSERT_EQ(3, dma_debug_coherent(pci.name, NULL));

	/* A transfer in flight, on its own file so its lock is not ours. */
	c.fd = open("/dev/kmemlab", O_RDWR);
	ASSERT_LE(0, c.fd);
	ASSERT_EQ(0, dma_alloc(c.fd, KMEMLAB_DEV_EDU, 4096, 0, 1, &c.src));
	ASSERT_EQ(0, dma_alloc(c.fd, KMEMLAB_DEV_EDU, 4096, 0, 1, &c.dst));
	ASSERT_EQ(0, pthread_create(&copier, NULL, copy_until_refused, &c));
	while (!c.started)
		usleep(1000);
	usleep(50 * 1000);

	u.name = pci.name;
	ASSERT_EQ(0, pthread_create(&unbinder, NULL, unbind_edu, &u));
	/* Nothing is given back: the unbind must finish on its own. */
	for (waited = 0; !u.done && waited < 10000; waited += 10)
		usleep(10 * 1000);
	ASSERT_TRUE(u.done) TH_LOG("unbind still waiting after %d ms", waited);
	ASSERT_EQ(0, pthread_join(unbinder, NULL));
	ASSERT_EQ(0, u.ret) TH_LOG("cannot unbind %s", pci.name);
	ASSERT_EQ(0, pthread_join(copier, NULL));
	EXPECT_EQ(-ENODEV, c.err) TH_LOG("the transfer in flight ended with %d", c.err);
	EXPECT_FALSE(edu_bound_to_kmemlab(&pci));
	EXPECT_FALSE(has_edu(self->fd));

	/* Released by the unbind itself: no mapping of BAR0 is left. */
	EXPECT_EQ(0, ioremap_areas(pci.bar0));
	if (dma_debug_coherent(pci.name, NULL) >= 0)
		EXPECT_EQ(0, dma_debug_coherent(pci.name, NULL));
	/* Every use of the handles: ENODEV; describing them still works. */
	EXPECT_EQ(-ENODEV, io(self->fd, KMEMLAB_IOC_READ, h[0], 0, 1,
			      (__u64)(uintptr_t)&byte, NULL));
	EXPECT_EQ(-ENODEV, io(self->fd, KMEMLAB_IOC_WRITE, h[0], 0, 1,
			      (__u64)(uintptr_t)&byte, NULL));
	EXPECT_EQ(-ENODEV, io(self->fd, KMEMLAB_IOC_FILL, h[1], 0, 4096, 1, NULL));
	EXPECT_EQ(-ENODEV, io(self->fd, KMEMLAB_IOC_VERIFY, h[0], 0, 4096, 7, NULL));
	EXPECT_EQ(-ENODEV, dma_copy(self->fd, h[0], h[1], 0, 0, 4096));
	EXPECT_EQ(-ENODEV, mmio_read(self->fd, regs, 4, 0, &value));
	EXPECT_EQ(-ENODEV, mmio_write(self->fd, regs, 4, 4, 1));
	EXPECT_EQ(0, info(self->fd, h[0], &inf));
	EXPECT_EQ(-1, inf.nid);
	EXPECT_EQ(-ENODEV, dma_alloc(self->fd, KMEMLAB_DEV_EDU, 4096, 0, 1, &h[2]));
	EXPECT_EQ(-ENODEV, map_io(self->fd, KMEMLAB_IOREMAP_EDU, 0, 0, &regs));
	/* The faux device is another binding: untouched. */
	EXPECT_EQ(0, io(self->fd, KMEMLAB_IOC_FILL, faux, 0, 4096, 3, NULL));
	/* FREE and close still succeed, and leave nothing. */
	EXPECT_EQ(0, free_handles(self->fd, 3, h));
	EXPECT_EQ(0, free_handles(self->fd, 1, &regs));
	EXPECT_EQ(1U, nr_objects(self->fd));
	EXPECT_EQ(0, close(c.fd));

	ASSERT_EQ(0, edu_driver_write("bind", pci.name)) TH_LOG("cannot bind %s again", pci.name);
	ASSERT_TRUE(has_edu(self->fd));
	ASSERT_EQ(0, dma_alloc(self->fd, KMEMLAB_DEV_EDU, 4096, 0, 2, h));
	ASSERT_EQ(0, io(self->fd, KMEMLAB_IOC_FILL, h[0], 0, 4096, 9, NULL));
	ASSERT_EQ(0, dma_copy(self->fd, h[0], h[1], 0, 0, 4096));
	EXPECT_EQ(0, io(self->fd, KMEMLAB_IOC_VERIFY, h[1], 0, 4096, 9, &value));
	EXPECT_EQ(~0ULL, value);
	EXPECT_EQ(0, ioremap_edu(self->fd, &regs));
	EXPECT_EQ(0, mmio_read(self->fd, regs, 4, 0, &value));
	EXPECT_EQ(areas + 1, ioremap_areas(pci.bar0));
}

/*
 * kmemlab's edu driver claims BAR0: a physical mapping of it is refused
 * (EBUSY), so nothing reaches the DMA engine behind the driver's back.
 */
TEST_F(dev, ioremap_phys_claimed_bar_refused)
{
	struct edu_pci edu;
	__u32 h;
	int areas;

	if (!has_edu(self->fd))
		SKIP(return, "edu is not bound (no KMEMLAB_FEAT_EDU)");
	if (locked_down())
		SKIP(return, "kernel lockdown refuses every physical mapping");
	ASSERT_TRUE(find_edu(&edu));
	areas = ioremap_areas(0);
	ASSERT_LE(0, areas);
	EXPECT_EQ(-EBUSY, map_io(self->fd, KMEMLAB_IOREMAP_PHYS, edu.bar0, KMEMLAB_EDU_REGS_SIZE, &h));
	EXPECT_EQ(-EBUSY, map_io(self->fd, KMEMLAB_IOREMAP_PHYS, edu.bar0 + 0x80, 0x20, &h))
		TH_LOG("the DMA engine's registers");
	EXPECT_EQ(areas, ioremap_areas(0));
	EXPECT_EQ(0U, nr_objects(self->fd));
}

/* QEMU's pci-testdev, which no driver claims in the test guest. */
#define TESTDEV_VENDOR 0x1b36
#define TESTDEV_DEVICE 0x0005

/* A physical mapping of a BAR nobody claims: real MMIO, bounds-checked. */
TEST_F(dev, ioremap_phys_unclaimed_bar)
{
	struct kmemlab_info in;
	struct edu_pci dev;
	__u32 bar = 0, word = 0;
	__u64 value = 0;
	int areas;

	if (locked_down())
		SKIP(return, "kernel lockdown refuses every physical mapping");
	if (!find_pci(TESTDEV_VENDOR, TESTDEV_DEVICE, &dev))
		SKIP(return, "no QEMU pci-testdev (1b36:0005) with a memory BAR0");
	areas = ioremap_areas(dev.bar0);
	ASSERT_LE(0, areas);
	ASSERT_EQ(0, map_io(self->fd, KMEMLAB_IOREMAP_PHYS, dev.bar0, 4096, &bar))
		TH_LOG("pci-testdev's BAR0 at %#llx", (unsigned long long)dev.bar0);
	EXPECT_EQ(areas + 1, ioremap_areas(dev.bar0));
	ASSERT_EQ(0, info(self->fd, bar, &in));
	EXPECT_EQ(KMEMLAB_KIND_IOREMAP, in.kind);
	EXPECT_EQ(4096U, in.size);
	EXPECT_EQ(KMEMLAB_IOREMAP_PHYS, in.cache);
	EXPECT_EQ(-1, in.nid);
	/* The last 1, 2, 4 and 8 bytes. */
	for (__u32 width = 1; width <= 8; width *= 2) {
		int ret = mmio_read(self->fd, bar, width, 4096 - width, &value);

		EXPECT_EQ(0, ret);
	}
	EXPECT_EQ(-EINVAL, mmio_read(self->fd, bar, 4, 4096, &value));
	EXPECT_EQ(-EINVAL, mmio_read(self->fd, bar, 8, 4092, &value));

	/*
	 * The mapped range is claimed for kmemlab while mapped (no driver can
	 * claim it meanwhile), so a second mapping of any of it is refused.
	 */
	EXPECT_EQ(1, iomem_claims(dev.bar0, "kmemlab"));
	EXPECT_EQ(-EBUSY, map_io(self->fd, KMEMLAB_IOREMAP_PHYS, dev.bar0, 4, &word));
	EXPECT_EQ(-EBUSY, map_io(self->fd, KMEMLAB_IOREMAP_PHYS, dev.bar0 + 4092, 8, &word));
	EXPECT_EQ(areas + 1, ioremap_areas(dev.bar0));
	ASSERT_EQ(0, free_handles(self->fd, 1, &bar));
	EXPECT_EQ(0, iomem_claims(dev.bar0, "kmemlab"));

	/* The smallest mapping: one 32-bit word, and nothing past it. */
	ASSERT_EQ(0, map_io(self->fd, KMEMLAB_IOREMAP_PHYS, dev.bar0, 4, &word));
	EXPECT_EQ(1, iomem_claims(dev.bar0, "kmemlab"));
	ASSERT_EQ(0, info(self->fd, word, &in));
	EXPECT_EQ(4U, in.size);
	EXPECT_EQ(0, mmio_read(self->fd, word, 4, 0, &value));
	EXPECT_EQ(-EINVAL, mmio_read(self->fd, word, 4, 4, &value));
	EXPECT_EQ(-EINVAL, mmio_read(self->fd, word, 8, 0, &value));
	EXPECT_EQ(areas + 1, ioremap_areas(dev.bar0));

	ASSERT_EQ(0, free_all(self->fd));
	EXPECT_EQ(areas, ioremap_areas(dev.bar0));
	EXPECT_EQ(0, iomem_claims(dev.bar0, "kmemlab"));
}

/* Why the unprivileged child of ioremap_phys_needs_cap_sys_rawio failed. */
enum rawio_child {
	RAWIO_OK,
	RAWIO_CAPSET,		/* could not drop CAP_SYS_RAWIO */
	RAWIO_OPEN,		/* could not open the device without it */
	RAWIO_PHYS_MAPPED,	/* the PHYS mapping was made */
	RAWIO_PHYS_ERRNO,	/* refused, but not with EPERM */
	RAWIO_PHYS_AREA,	/* refused, yet a mapping was left */
	RAWIO_EDU,		/* the EDU mapping was refused */
	RAWIO_EDU_READ,		/* ... or did not read edu's identification */
};

static const char *const rawio_child_says[] = {
	"ok", "cannot drop CAP_SYS_RAWIO", "cannot open the device", "the PHYS mapping was made",
	"PHYS refused with the wrong errno", "a refused PHYS request left a mapping",
	"EDU mapping refused", "EDU mapping did not read edu's identification",
};

/* Clears @cap from the effective set, keeping it permitted; 0 or -errno. */
static int drop_effective_cap(int cap)
{
	struct __user_cap_header_struct hdr = { .version = _LINUX_CAPABILITY_VERSION_3 };
	struct __user_cap_data_struct data[_LINUX_CAPABILITY_U32S_3];

	if (syscall(SYS_capget, &hdr, data))
		return -errno;
	data[CAP_TO_INDEX(cap)].effective &= ~CAP_TO_MASK(cap);
	if (syscall(SYS_capset, &hdr, data))
		return -errno;
	if (syscall(SYS_capget, &hdr, data))
		return -errno;
	return data[CAP_TO_INDEX(cap)].effective & CAP_TO_MASK(cap) ? -EPERM : 0;
}

static enum rawio_child rawio_child(__u64 bar0)
{
	__u64 value = 0;
	int fd, areas;
	__u32 h = 0;

	if (drop_effective_cap(CAP_SYS_RAWIO))
		return RAWIO_CAPSET;
	/* Opened without the capability, so it is missing at open and at ioctl time alike. */
	fd = open(KMEMLAB_DEVICE, O_RDWR | O_CLOEXEC);
	if (fd < 0)
		return RAWIO_OPEN;
	areas = ioremap_areas(0);
	switch (map_io(fd, KMEMLAB_IOREMAP_PHYS, bar0, KMEMLAB_EDU_REGS_SIZE, &h)) {
	case 0:
		return RAWIO_PHYS_MAPPED;
	case -EPERM:
		break;
	default:
		return RAWIO_PHYS_ERRNO;
	}
	if (ioremap_areas(0) != areas)
		return RAWIO_PHYS_AREA;
	if (map_io(fd, KMEMLAB_IOREMAP_EDU, 0, 0, &h))
		return RAWIO_EDU;
	if (mmio_read(fd, h, 4, EDU_REG_ID, &value) || value != EDU_ID)
		return RAWIO_EDU_READ;
	close(fd);
	return RAWIO_OK;
}

TEST(ioremap_phys_needs_cap_sys_rawio)
{
	struct edu_pci edu;
	int fd = open_dev(_metadata), status, areas;
	bool have_edu;
	pid_t pid;

	if (fd < 0)
		return;
	have_edu = has_edu(fd);
	close(fd);
	if (!have_edu || !find_edu(&edu))
		SKIP(return, "edu is not bound: no device range that is safe to ask for");
	areas = ioremap_areas(0);
	ASSERT_LE(0, areas);

	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0)
		_exit(rawio_child(edu.bar0));
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	ASSERT_TRUE(WIFEXITED(status));
	EXPECT_EQ(RAWIO_OK, WEXITSTATUS(status))
		TH_LOG("child: %s", WEXITSTATUS(status) < ARRAY_SIZE(rawio_child_says) ?
				    rawio_child_says[WEXITSTATUS(status)] : "?");
	EXPECT_EQ(areas, ioremap_areas(0)) TH_LOG("the child's file was closed: nothing mapped");
}

/* ---- per-CPU counters ---- */

TEST_F(dev, percpu_add_and_read)
{
	int cpus[CPU_SETSIZE], online = online_cpus(cpus), ids = possible_cpu_ids();
	__u64 *want, poison[2] = { 0x5a5a5a5a5a5a5a5aULL, 0x5a5a5a5a5a5a5a5aULL }, sum = ~0ULL;
	struct kmemlab_percpu p;
	struct kmemlab_info in;
	__u32 h, nr = 0, count = 0, cpu = ~0U, other;

	ASSERT_LT(0, online) TH_LOG("no online CPU in " CPU_DIR);
	ASSERT_EQ(0, percpu_alloc(self->fd, &h));
	ASSERT_EQ(0, info(self->fd, h, &in));
	EXPECT_EQ(KMEMLAB_KIND_PERCPU, in.kind);
	EXPECT_EQ(8U, in.size);
	EXPECT_EQ(-1, in.nid);
	EXPECT_EQ(0U, in.cache);
	EXPECT_EQ(0U, in.gfp);

	/* Room for nothing: the number of CPU ids and the sum. */
	ASSERT_EQ(0, percpu_read(self->fd, h, 0, NULL, &nr, &sum));
	EXPECT_LE((__u32)online, nr);
	if (ids > 0) {
		EXPECT_EQ((__u32)ids, nr) TH_LOG("nr_cpu_ids from " CPU_DIR "/possible");
	}
	EXPECT_EQ(0ULL, sum);
	want = calloc(nr, sizeof(*want));
	ASSERT_NE(NULL, want);
	check_counters(_metadata, self->fd, h, want, nr);

	ASSERT_EQ(0, percpu_add(self->fd, h, 5, &cpu));
	ASSERT_GT(nr, cpu);
	want[cpu] = 5;
	check_counters(_metadata, self->fd, h, want, nr);

	/* Modulo 2^64: -1 on that CPU (ADD_ON hands its CPU back unchanged)... */
	p = (struct kmemlab_percpu){
		.handle = h, .op = KMEMLAB_PERCPU_ADD_ON, .cpu = cpu, .value = ~0ULL,
	};
	ASSERT_EQ(0, percpu_ioc(self->fd, &p));
	EXPECT_EQ(cpu, p.cpu);
	want[cpu] = 4;
	check_counters(_metadata, self->fd, h, want, nr);
	/* ... then -1 on another goes below zero. */
	other = (__u32)cpus[0] == cpu && online > 1 ? cpus[1] : cpus[0];
	if (other != cpu) {
		ASSERT_EQ(0, percpu_add_on(self->fd, h, other, ~0ULL));
		want[other] = ~0ULL;
		check_counters(_metadata, self->fd, h, want, nr);
	}

	/* Room for one value: that one is written, nothing past it. */
	if (nr > 1) {
		ASSERT_EQ(0, percpu_read(self->fd, h, 1, poison, &count, &sum));
		EXPECT_EQ(nr, count);
		EXPECT_EQ(want[0], poison[0]);
		EXPECT_EQ(0x5a5a5a5a5a5a5a5aULL, poison[1]) TH_LOG("READ wrote past its room");
	}

	ASSERT_EQ(0, free_handles(self->fd, 1, &h));
	EXPECT_EQ(-ENOENT, percpu_add(self->fd, h, 1, &cpu));
	free(want);
}

/* One pinned thread of percpu_pinned_threads. */
struct adder {
	int fd;
	__u32 handle;
	int cpu;
	pthread_barrier_t *start;
	int errors;	/* ADD calls that failed */
	int elsewhere;	/* ADD calls that ran on another CPU */
};

static void *add_pinned(void *arg)
{
	struct adder *a = arg;

	pthread_barrier_wait(a->start);
	for (int i = 0; i < PERCPU_ADDS; i++) {
		__u32 cpu = ~0U;

		if (percpu_add(a->fd, a->handle, a->cpu + 1, &cpu))
			a->errors++;
		else if (cpu != (__u32)a->cpu)
			a->elsewhere++;
	}
	return NULL;
}

TEST_F(dev, percpu_pinned_threads)
{
	int cpus[CPU_SETSIZE], n = online_cpus(cpus);
	struct adder *adders;
	pthread_barrier_t start;
	pthread_t *threads;
	__u64 *want;
	__u32 h, nr;

	if (n < 2)
		SKIP(return, "needs two online CPUs");
	EXPECT_EQ(sysconf(_SC_NPROCESSORS_ONLN), n);
	ASSERT_EQ(0, percpu_alloc(self->fd, &h));
	nr = percpu_nr(self->fd, h);
	ASSERT_LT((__u32)cpus[n - 1], nr);
	want = calloc(nr, sizeof(*want));
	adders = calloc(n, sizeof(*adders));
	threads = calloc(n, sizeof(*threads));
	ASSERT_NE(NULL, want);
	ASSERT_NE(NULL, adders);
	ASSERT_NE(NULL, threads);

	/* One thread per online CPU, pinned before it starts; all go at once. */
	ASSERT_EQ(0, pthread_barrier_init(&start, NULL, n));
	for (int i = 0; i < n; i++) {
		pthread_attr_t attr;
		cpu_set_t set;

		CPU_ZERO(&set);
		CPU_SET(cpus[i], &set);
		adders[i] = (struct adder){
			.fd = self->fd, .handle = h, .cpu = cpus[i], .start = &start,
		};
		ASSERT_EQ(0, pthread_attr_init(&attr));
		ASSERT_EQ(0, pthread_attr_setaffinity_np(&attr, sizeof(set), &set));
		ASSERT_EQ(0, pthread_create(&threads[i], &attr, add_pinned, &adders[i]))
			TH_LOG("thread on CPU %d", cpus[i]);
		pthread_attr_destroy(&attr);
	}
	for (int i = 0; i < n; i++) {
		ASSERT_EQ(0, pthread_join(threads[i], NULL));
		EXPECT_EQ(0, adders[i].errors) TH_LOG("CPU %d", cpus[i]);
		EXPECT_EQ(0, adders[i].elsewhere) TH_LOG("CPU %d: ADD ran elsewhere", cpus[i]);
		want[cpus[i]] = (__u64)PERCPU_ADDS * (cpus[i] + 1);
	}
	pthread_barrier_destroy(&start);
	check_counters(_metadata, self->fd, h, want, nr);

	/* ADD_ON from this unpinned thread moves exactly that CPU's value. */
	for (int i = 0; i < n; i++) {
		ASSERT_EQ(0, percpu_add_on(self->fd, h, cpus[i], 7)) TH_LOG("CPU %d", cpus[i]);
		want[cpus[i]] += 7;
		check_counters(_metadata, self->fd, h, want, nr);
	}
	free(threads);
	free(adders);
	free(want);
}

TEST_F(dev, percpu_bad_input_changes_nothing)
{
	__u64 buf[4] = { 0 }, *want;
	__u32 h, k, nr, cpu;

	ASSERT_EQ(0, percpu_alloc(self->fd, &h));
	ASSERT_EQ(0, alloc1(self->fd, KMEMLAB_KIND_KMALLOC, 64, 0, KMEMLAB_NODE_ANY, 0, &k));
	nr = percpu_nr(self->fd, h);
	ASSERT_LT(0U, nr);
	want = calloc(nr, sizeof(*want));
	ASSERT_NE(NULL, want);
	ASSERT_EQ(0, percpu_add(self->fd, h, 3, &cpu));
	ASSERT_GT(nr, cpu);
	want[cpu] = 3;

	const struct {
		struct kmemlab_percpu p;
		int err;
		const char *what;
	} bad[] = {
		{ { .handle = h, .op = KMEMLAB_PERCPU_ADD_ON, .cpu = nr, .value = 1 }, -EINVAL,
		  "ADD_ON CPU nr_cpu_ids" },
		{ { .handle = h, .op = KMEMLAB_PERCPU_ADD_ON, .cpu = 4096, .value = 1 }, -EINVAL,
		  "ADD_ON CPU 4096" },
		{ { .handle = h, .op = KMEMLAB_PERCPU_ADD_ON, .cpu = ~0U, .value = 1 }, -EINVAL,
		  "ADD_ON CPU 0xffffffff" },
		{ { .handle = h, .op = 3, .value = 1 }, -EINVAL, "op 3" },
		{ { .handle = h, .op = KMEMLAB_PERCPU_READ, .value = 1 }, -EINVAL,
		  "READ with a value" },
		{ { .handle = h, .op = KMEMLAB_PERCPU_READ, .cpu = 1 }, -EINVAL, "READ with a CPU" },
		{ { .handle = h, .op = KMEMLAB_PERCPU_ADD, .value = 1, .count = 1 }, -EINVAL,
		  "ADD with a count" },
		{ { .handle = h, .op = KMEMLAB_PERCPU_ADD, .value = 1,
		    .values = (__u64)(unsigned long)buf }, -EINVAL, "ADD with values" },
		{ { .handle = h, .op = KMEMLAB_PERCPU_ADD_ON, .value = 1, .count = 1 }, -EINVAL,
		  "ADD_ON with a count" },
		{ { .handle = h, .op = KMEMLAB_PERCPU_READ, .count = nr }, -EFAULT,
		  "READ into NULL" },
		{ { .handle = k, .op = KMEMLAB_PERCPU_ADD, .value = 1 }, -EINVAL,
		  "ADD to a kmalloc object" },
		{ { .handle = k, .op = KMEMLAB_PERCPU_READ }, -EINVAL, "READ of a kmalloc object" },
		{ { .handle = h + 100, .op = KMEMLAB_PERCPU_ADD, .value = 1 }, -ENOENT,
		  "an unknown handle" },
		{ { .handle = 0, .op = KMEMLAB_PERCPU_READ }, -ENOENT, "handle 0" },
	};
	const struct {
		__u64 size;
		__u32 order;
		__s32 node;
		__u32 cache, gfp;
		const char *what;
	} bad_alloc[] = {
		{ 8, 0, KMEMLAB_NODE_ANY, 0, 0, "a size" },
		{ 0, 1, KMEMLAB_NODE_ANY, 0, 0, "an order" },
		{ 0, 0, 0, 0, 0, "a node" },
		{ 0, 0, KMEMLAB_NODE_ANY, 1, 0, "a device" },
		{ 0, 0, KMEMLAB_NODE_ANY, 0, KMEMLAB_GFP_ATOMIC, "ATOMIC" },
		{ 0, 0, KMEMLAB_NODE_ANY, 0, KMEMLAB_GFP_NOWAIT, "NOWAIT" },
		{ 0, 0, KMEMLAB_NODE_ANY, 0, KMEMLAB_GFP_ACCOUNT, "ACCOUNT" },
	};

	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		struct kmemlab_percpu p = bad[i].p;

		EXPECT_EQ(bad[i].err, percpu_ioc(self->fd, &p)) TH_LOG("%s", bad[i].what);
	}
	byte_io_refused(_metadata, self->fd, h);
	for (size_t i = 0; i < ARRAY_SIZE(bad_alloc); i++) {
		EXPECT_EQ(-EINVAL, alloc_n(self->fd, KMEMLAB_KIND_PERCPU, bad_alloc[i].size,
					   bad_alloc[i].order, bad_alloc[i].node, bad_alloc[i].cache,
					   bad_alloc[i].gfp, 1, &k))
			TH_LOG("PERCPU with %s", bad_alloc[i].what);
	}
	EXPECT_EQ(2U, nr_objects(self->fd));
	check_counters(_metadata, self->fd, h, want, nr);
	free(want);
}

/* A CPU taken offline by the test, brought back by the parent whatever happens. */
/* An ADD whose reply cannot be written fails with EFAULT and adds nothing. */
TEST_F(dev, percpu_add_unwritable_reply_changes_nothing)
{
	long page = sysconf(_SC_PAGESIZE);
	struct kmemlab_percpu *p;
	__u64 sum = ~0ULL;
	__u32 h, count;

	ASSERT_EQ(0, percpu_alloc(self->fd, &h));
	p = mmap(NULL, page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, p);
	*p = (struct kmemlab_percpu){ .handle = h, .op = KMEMLAB_PERCPU_ADD, .value = 9 };
	ASSERT_EQ(0, mprotect(p, page, PROT_READ));
	EXPECT_EQ(-1, ioctl(self->fd, KMEMLAB_IOC_PERCPU, p));
	EXPECT_EQ(EFAULT, errno);
	ASSERT_EQ(0, percpu_read(self->fd, h, 0, NULL, &count, &sum));
	EXPECT_EQ(0ULL, sum);
	/* The same request from writable memory does add. */
	ASSERT_EQ(0, mprotect(p, page, PROT_READ | PROT_WRITE));
	EXPECT_EQ(0, ioctl(self->fd, KMEMLAB_IOC_PERCPU, p));
	ASSERT_EQ(0, percpu_read(self->fd, h, 0, NULL, &count, &sum));
	EXPECT_EQ(9ULL, sum);
	munmap(p, page);
}

FIXTURE(hotplug) {
	int fd;
	int cpu;
	bool offline;
};

FIXTURE_SETUP(hotplug)
{
	self->offline = false;
	self->fd = open_dev(_metadata);
}

FIXTURE_TEARDOWN_PARENT(hotplug)
{
	if (self->offline && set_cpu_online(self->cpu, true))
		TH_LOG("could not bring CPU %d back online", self->cpu);
}

TEST_F_TIMEOUT(hotplug, percpu_offline_cpu, 120)
{
	int cpus[CPU_SETSIZE], n = online_cpus(cpus), victim = -1;
	char path[64];
	__u64 *want;
	__u32 h, nr, cpu;
	int ret;

	if (n < 2)
		SKIP(return, "needs two online CPUs");
	/* The highest online CPU that can be taken offline (CPU 3 in the test VM). */
	for (int i = n - 1; i > 0 && victim < 0; i--) {
		snprintf(path, sizeof(path), CPU_DIR "/cpu%d/online", cpus[i]);
		if (!access(path, W_OK))
			victim = cpus[i];
	}
	if (victim < 0)
		SKIP(return, "no CPU can be taken offline (CONFIG_HOTPLUG_CPU?)");

	ASSERT_EQ(0, percpu_alloc(self->fd, &h));
	nr = percpu_nr(self->fd, h);
	ASSERT_LT((__u32)victim, nr);
	want = calloc(nr, sizeof(*want));
	ASSERT_NE(NULL, want);
	ASSERT_EQ(0, percpu_add_on(self->fd, h, victim, 11));
	ASSERT_EQ(0, percpu_add_on(self->fd, h, cpus[0], 1));
	want[victim] = 11;
	want[cpus[0]] = 1;

	self->cpu = victim;
	ret = set_cpu_online(victim, false);
	if (ret)
		SKIP(return, "cannot take CPU %d offline: %s", victim, strerror(-ret));
	self->offline = true;
	ASSERT_FALSE(cpu_online(victim));

	EXPECT_EQ(-ENXIO, percpu_add_on(self->fd, h, victim, 1));
	/* Its value stays, read and summed like the others. */
	check_counters(_metadata, self->fd, h, want, nr);
	/* Plain ADDs never run there. */
	for (int i = 0; i < 100; i++) {
		ASSERT_EQ(0, percpu_add(self->fd, h, 1, &cpu));
		ASSERT_NE((__u32)victim, cpu);
		ASSERT_GT(nr, cpu);
		want[cpu]++;
	}
	check_counters(_metadata, self->fd, h, want, nr);

	ASSERT_EQ(0, set_cpu_online(victim, true));
	self->offline = false;
	ASSERT_EQ(0, percpu_add_on(self->fd, h, victim, 1));
	want[victim]++;
	check_counters(_metadata, self->fd, h, want, nr);
	free(want);
}

/* ---- the static per-CPU counter in debugfs ---- */

TEST_F(dev, ioctl_calls_counted_per_cpu)
{
	int cpus[CPU_SETSIZE], n = online_cpus(cpus), ids = possible_cpu_ids();
	struct ioctl_calls *before = malloc(sizeof(*before)), *after = malloc(sizeof(*after));
	struct kmemlab_version v;

	ASSERT_NE(NULL, before);
	ASSERT_NE(NULL, after);
	if (access(DEBUGFS_DIR "/ioctls", F_OK))
		SKIP(return, "no " DEBUGFS_DIR "/ioctls (debugfs not mounted?)");
	ASSERT_LT(0, n);

	for (int i = 0; i < n; i++) {
		int cpu = cpus[i];
		__u64 sum = 0;

		ASSERT_EQ(0, pin_self(cpu)) TH_LOG("CPU %d", cpu);
		ASSERT_EQ(cpu, sched_getcpu());
		ASSERT_EQ(0, read_ioctl_calls(before)) TH_LOG("format of " DEBUGFS_DIR "/ioctls");
		for (int j = 0; j < VERSION_CALLS; j++) {
			ASSERT_EQ(0, version(self->fd, &v));
		}
		ASSERT_EQ(0, read_ioctl_calls(after));

		/* One line per possible CPU, and a total that adds them up. */
		if (ids > 0) {
			EXPECT_EQ(ids, after->cpus);
		}
		ASSERT_TRUE(after->listed[cpu]);
		for (int c = 0; c < CPU_SETSIZE; c++) {
			__u64 grew = c == cpu ? VERSION_CALLS : 0;

			if (!after->listed[c])
				continue;
			EXPECT_EQ(before->calls[c] + grew, after->calls[c])
				TH_LOG("CPU %d after %d calls on CPU %d", c, VERSION_CALLS, cpu);
			sum += after->calls[c];
		}
		EXPECT_EQ(before->total + VERSION_CALLS, after->total);
		EXPECT_EQ(sum, after->total);
	}
	free(before);
	free(after);
}

/* ---- closing ---- */

TEST(closing_the_file_frees_device_objects)
{
	const __u32 buffers = 16;
	__u32 h[16], cpu;
	int fd = open_dev(_metadata), areas, tracked;
	long free_before, free_open, free_closed;
	bool edu;

	if (fd < 0)
		return;
	edu = has_edu(fd);
	areas = ioremap_areas(0);
	ASSERT_LE(0, areas);
	tracked = dma_debug_coherent(FAUX_DEV_NAME, NULL);
	free_before = mem_free_kb();

	ASSERT_EQ(0, dma_alloc(fd, KMEMLAB_DEV_FAUX, dma_max(), 0, buffers, h));
	ASSERT_EQ(0, percpu_alloc(fd, h));
	ASSERT_EQ(0, percpu_add(fd, h[0], 1, &cpu));
	if (edu) {
		ASSERT_EQ(0, map_io(fd, KMEMLAB_IOREMAP_EDU, 0, 0, h));
		ASSERT_EQ(0, dma_alloc(fd, KMEMLAB_DEV_EDU, 4096, 0, 1, h));
	}
	free_open = mem_free_kb();
	EXPECT_EQ(areas + edu, ioremap_areas(0));
	if (tracked >= 0) {
		EXPECT_EQ(tracked + (int)buffers, dma_debug_coherent(FAUX_DEV_NAME, NULL));
	}
	/* 64 MiB of coherent buffers are in use, less some slack for other activity. */
	EXPECT_LE(48L << 10, free_before - free_open);

	close(fd);
	free_closed = mem_free_kb();
	EXPECT_EQ(areas, ioremap_areas(0)) TH_LOG("closing the file unmapped edu");
	if (tracked >= 0) {
		EXPECT_EQ(tracked, dma_debug_coherent(FAUX_DEV_NAME, NULL));
	}
	EXPECT_GE(8L << 10, free_before - free_closed)
		TH_LOG("MemFree %ld kB before, %ld open, %ld closed", free_before, free_open,
		       free_closed);
}

TEST_HARNESS_MAIN
