// SPDX-License-Identifier: GPL-2.0
/*
 * What the checks of an arbitrary physical range cost KMEMLAB_IOC_IOREMAP,
 * against the ioctls' own cost. Run in the perf guest under QEMU -icount
 * (scripts/guest --kernel perf --icount), where CLOCK_MONOTONIC advances one
 * nanosecond per instruction, so each figure is instructions per call
 * (median of many calls, clock reads included):
 *
 *   scripts/sysroot-run cc -O2 -Wall -Iinclude/uapi -o build/ioremap-cost scripts/ioremap-cost.c
 *   scripts/guest --kernel perf --cpus 2 --icount -- build/ioremap-cost
 *
 * The calls (the physical ranges 4 KiB of QEMU's pci-testdev BAR 0, which
 * no driver claims, unless said otherwise):
 * - IOREMAP refused at once (a size not a multiple of 4: EINVAL), the
 *   ioctl's fixed cost;
 * - IOREMAP of edu's BAR 0, which kmemlab's driver claimed (EBUSY): the
 *   range checked against System RAM, the caller's right to map physical
 *   memory, the claim refused;
 * - IOREMAP of the range and FREE of its handle: checks, claim, ioremap(),
 *   and iounmap() with the claim's release;
 * - the control: IOREMAP and FREE of edu's registers, the same ioctls and
 *   a mapping of one page, through a lease of edu's binding (its lock and
 *   list) instead of the checks and the claim;
 * - for comparison, ALLOC and FREE of one 64-byte kmalloc object.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>

#include "kmemlab.h"

#define REPS 401

static uint64_t now(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (uint64_t)t.tv_sec * 1000000000u + t.tv_nsec;
}

static int cmp(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

static uint64_t median(uint64_t *v)
{
	qsort(v, REPS, sizeof(*v), cmp);
	return v[REPS / 2];
}

/* The first hexadecimal number in /sys/bus/pci/devices/@dev/@attr, or 0. */
static unsigned long long sysfs_hex(const char *dev, const char *attr)
{
	char path[512];
	unsigned long long v = 0;
	FILE *f;

	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/%s", dev, attr);
	f = fopen(path, "r");
	if (!f)
		return 0;
	if (fscanf(f, "%llx", &v) != 1)
		v = 0;
	fclose(f);
	return v;
}

/* BAR 0 of the first PCI device @vendor:@device, or 0. */
static uint64_t bar0(unsigned int vendor, unsigned int device)
{
	DIR *d = opendir("/sys/bus/pci/devices");
	struct dirent *e;
	uint64_t found = 0;

	while (d && !found && (e = readdir(d))) {
		if (e->d_name[0] == '.')
			continue;
		if (sysfs_hex(e->d_name, "vendor") == vendor &&
		    sysfs_hex(e->d_name, "device") == device)
			found = sysfs_hex(e->d_name, "resource");
	}
	if (d)
		closedir(d);
	return found;
}

/* An IOREMAP request of the physical range of @size bytes at @phys. */
static struct kmemlab_ioremap phys_range(uint64_t phys, uint64_t size)
{
	return (struct kmemlab_ioremap){ .source = KMEMLAB_IOREMAP_PHYS, .phys = phys, .size = size };
}

static void die(const char *what, int err)
{
	fprintf(stderr, "ioremap-cost: %s: %s\n", what, strerror(-err));
	exit(1);
}

/*
 * Times ioctl @nr on @arg, which must answer @expect; when it made an
 * object (@expect 0), whose handle is then in *@handle, times its FREE too.
 */
static void timed(int fd, unsigned long nr, void *arg, uint32_t *handle, int expect,
		  const char *what, uint64_t *made, uint64_t *freed)
{
	struct kmemlab_free f = { .count = 1, .handles = (uint64_t)(unsigned long)handle };
	uint64_t t0, t1, t2;
	int ret;

	t0 = now();
	ret = ioctl(fd, nr, arg) ? -errno : 0;
	t1 = now();
	if (ret != expect)
		die(what, ret ? ret : -EPROTO);
	*made = t1 - t0;
	if (expect)
		return;
	ret = ioctl(fd, KMEMLAB_IOC_FREE, &f) ? -errno : 0;
	t2 = now();
	if (ret)
		die("FREE", ret);
	*freed = t2 - t1;
}

static void show(const char *what, uint64_t *v)
{
	printf("%-42s%8llu\n", what, (unsigned long long)median(v));
}

int main(void)
{
	uint64_t refused[REPS], busy[REPS], mapped[REPS], unmapped[REPS];
	uint64_t made[REPS], freed[REPS], regs[REPS], unregs[REPS];
	uint64_t testdev = bar0(0x1b36, 0x0005), edu = bar0(0x1234, 0x11e8);
	int fd = open(KMEMLAB_DEVICE, O_RDWR | O_CLOEXEC);

	if (fd < 0 || !testdev || !edu) {
		fprintf(stderr, "ioremap-cost: needs /dev/kmemlab, pci-testdev and edu\n");
		return 1;
	}
	for (int i = 0; i < REPS; i++) {
		struct kmemlab_ioremap odd = phys_range(testdev, 4097);
		struct kmemlab_ioremap claimed = phys_range(edu, 4096);
		struct kmemlab_ioremap range = phys_range(testdev, 4096);
		struct kmemlab_ioremap registers = { .source = KMEMLAB_IOREMAP_EDU };
		uint32_t h = 0;
		struct kmemlab_alloc a = {
			.kind = KMEMLAB_KIND_KMALLOC, .gfp = KMEMLAB_GFP_KERNEL, .size = 64,
			.node = -1, .count = 1, .handles = (uint64_t)(unsigned long)&h,
		};

		timed(fd, KMEMLAB_IOC_IOREMAP, &odd, NULL, -EINVAL,
		      "a size not a multiple of 4 (expected EINVAL)", &refused[i], NULL);
		timed(fd, KMEMLAB_IOC_IOREMAP, &claimed, NULL, -EBUSY,
		      "edu's claimed BAR (expected EBUSY)", &busy[i], NULL);
		timed(fd, KMEMLAB_IOC_IOREMAP, &range, &range.handle, 0,
		      "IOREMAP of pci-testdev's BAR 0", &mapped[i], &unmapped[i]);
		timed(fd, KMEMLAB_IOC_IOREMAP, &registers, &registers.handle, 0,
		      "IOREMAP of edu's registers", &regs[i], &unregs[i]);
		timed(fd, KMEMLAB_IOC_ALLOC, &a, &h, 0, "ALLOC of a kmalloc object",
		      &made[i], &freed[i]);
	}
	printf("instructions per call under -icount (median of %d), 4 KiB of pci-testdev's BAR 0:\n", REPS);
	show("IOREMAP refused at once (EINVAL)", refused);
	show("IOREMAP of edu's claimed BAR (EBUSY)", busy);
	show("IOREMAP of the range", mapped);
	show("FREE of the mapping", unmapped);
	show("IOREMAP of edu's registers (control)", regs);
	show("FREE of edu's registers", unregs);
	show("ALLOC of one kmalloc 64 B object", made);
	show("FREE of the kmalloc object", freed);
	return 0;
}
