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
		      KMEMLAB_FEAT_EDU | KMEMLAB_FEAT_STATS | KMEMLAB_FEAT_BENCH;

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
