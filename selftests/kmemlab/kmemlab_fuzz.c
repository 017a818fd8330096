// SPDX-License-Identifier: GPL-2.0
/*
 * kmemlab kselftest: a seeded, reproducible fuzzer of every /dev/kmemlab ioctl.
 *
 * KMEMLAB_FUZZ_CALLS ioctls in all (default 20000, the short pass `make
 * check` runs; `make check-long` asks for a million) are made by
 * KMEMLAB_FUZZ_THREADS threads (default: two per online CPU), each pinned to
 * an online CPU in turn. Two files are shared by every thread and each thread
 * opens one of its own; each call goes to a shared file or to the thread's
 * own, with a command picked at random (ALLOC, FREE, the data commands and
 * INFO most often; now and then an ioctl number the module does not know)
 * and a structure filled with valid and invalid values mixed: handles live,
 * freed, never made, or made on another file; kinds, sizes, orders, nodes,
 * GFP bits, counts, offsets and lengths on and past every limit; reserved
 * fields set; user pointers valid, NULL, unmapped, read-only, in the kernel,
 * or running into a PROT_NONE guard page; the argument itself sometimes bad.
 *
 * Reproducibility: call k of thread t starts from a generator state made of
 * (KMEMLAB_FUZZ_SEED, t, k) alone, so a thread's sequence of random numbers
 * depends only on the seed and its index (not on how many numbers earlier
 * calls drew); what the numbers pick from (the handles and caches a thread
 * holds) comes from earlier results. A thread's own file is used by that
 * thread only, so with KMEMLAB_FUZZ_THREADS=1 a run repeats exactly
 * (allocation failures aside). With more threads, the threads interleave
 * nondeterministically on the shared files, which changes what they find
 * there and so what later calls pick; that is expected. A failure names the
 * seed, the thread and the call, and describes the call.
 *
 * What is checked:
 * - every result is 0 or an errno that include/uapi/kmemlab.h documents for
 *   the command (doc_errs[] below);
 * - each thread models every object and cache of its own file, so there the
 *   result must be the one the header predicts: ENOENT for a freed or
 *   never-made handle, EINVAL for a malformed request, EFAULT for a bad
 *   pointer (an output into a read-only mapping included), EBUSY for a cache
 *   or a DMA pool with objects, EEXIST for a cache name in use, ENOMEM beyond
 *   the quota, success otherwise (allocation failures, ENOMEM, always allowed
 *   where documented). DMA pools, like caches, live across calls: blocks are
 *   allocated from them, described, copied by edu's engine, and files are
 *   closed with pools and blocks live. On the shared files, where other
 *   threads change things, the errors that depend on the file's state are
 *   allowed, not required;
 * - replies: a new object reads as zeroes (a constructed cache object: the
 *   constructor's mark, then zeroes); STATUS describes a DMA pool as made,
 *   with the blocks the file holds; INFO and LIST describe what was made,
 *   in handle order, with no kernel address; a per-CPU counter holds what was
 *   added, on the CPUs it was added on; VERIFY points into its range; a FILL,
 *   a WRITE and an edu DMA copy read back; edu's ID register reads as edu's;
 *   BENCH counts its operations; VERSION reports ABI 2;
 * - every 1000 calls, and at the end, each thread LISTs its own file: at
 *   most max_objects objects of at most max_bytes bytes, as modelled;
 * - at the end, once every file is closed: as many objects of each kind live
 *   in stats.json as before the run (none, normally), no kmemlab-fz* cache
 *   in /proc/slabinfo nor DMA pool in the devices' pools files, as many
 *   [kmemlab] areas in /proc/vmallocinfo as before the run.
 *
 * Safety (it runs as root, with CAP_SYS_RAWIO): IOREMAP of a physical range
 * is only asked for ranges the module must refuse (System RAM from
 * /proc/iomem, edu's BAR which kmemlab's driver holds, malformed ranges,
 * beyond the physical address space), never a random address; a PHYS mapping
 * that is made anyway is a failure and is freed at once, and MMIO never goes
 * to one. The MMIO writes the module lets through reach only edu's liveness
 * and factorial registers (the factorial with a small number). Memory stays bounded for the
 * 2 GiB test guest: most sizes are 64 KiB or less, no single object is over
 * 8 MiB (larger requests are ones the quota must refuse), and each thread
 * keeps at most 16 MiB on its own file and 4 MiB on each shared one,
 * freeing everything (FREE_ALL) when it would go over; a DMA pool keeps the
 * pages its blocks took, so each thread holds at most 8 pools a file and
 * 1 MiB of blocks (one block, if larger) from each.
 *
 * Sizes assume x86-64 (4 KiB pages, MAX_PAGE_ORDER 10), as the other tests do.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <inttypes.h>
#include <limits.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdint.h>
#include <sys/mman.h>
#include <time.h>

#include "kmemlab_util.h"

typedef unsigned long long u64;
typedef unsigned int u32;
typedef int s32;

/* What the loaded module enforces, from KMEMLAB_IOC_LIMITS (never assumed). */
#define MAX_ORDER	(g.lim.max_order)
#define KMALLOC_MAX	(g.lim.kmalloc_max)
#define VMALLOC_MAX	(g.lim.vmalloc_max)
#define KVMALLOC_MAX	(g.lim.kvmalloc_max)
#define DMA_MAX		(g.lim.dma_max)
#define CACHE_OBJ_MAX	(g.lim.cache_object_max)
#define KERNEL_ADDR	0xffff888000000000ULL
#define KADDR_MIN	0xffff800000000000ULL
#define NONCANON_ADDR	0x0000800000000000ULL
#define LOW_ADDR	0x1000ULL
#define PHYS_BEYOND	(1ULL << 52)
#define EDU_ID		0xed		/* low byte of edu's identification register */
#define EDU_REG_FACT	0x08

#define DEF_CALLS	20000ULL
#define DEF_SEED	1ULL
#define BUF_BYTES	(1UL << 20)
#define OWN_BUDGET	(16ULL << 20)
#define SHARED_BUDGET	(4ULL << 20)
#define BIG_OBJ		(8ULL << 20)
#define OWN_MAX_OBJS	4096
#define SHARED_MAX_OBJS	2048
#define MAX_CACHES	32
#define MAX_POOLS	8
#define POOL_BYTES	(1ULL << 20)
#define NSHARED		2
#define OWN		NSHARED
#define NFD		(NSHARED + 1)
#define POOL		256
#define NFREED		32
#define NERR		135
#define MAX_LOGGED	40
#define QUOTA_EVERY	1000
#define SCRATCH		8192

#define ptr(p)		((u64)(uintptr_t)(p))
#define KBIT(k)		(1u << (k))
#define K_BYTES		(KBIT(1) | KBIT(2) | KBIT(3) | KBIT(4) | KBIT(5) | KBIT(6) | KBIT(9) | \
			 KBIT(11))

/* ---- commands and the errors the header documents for each ---- */

enum {
	C_VERSION, C_ALLOC, C_FREE, C_WRITE, C_READ, C_FILL, C_VERIFY, C_INFO, C_LIST,
	C_CACHE_CREATE, C_CACHE_DESTROY, C_IOREMAP, C_MMIO, C_DMA_COPY, C_PERCPU, C_BENCH,
	C_LIMITS, C_MEMPOOL, C_DMA_POOL, C_UNKNOWN, NCMD
};

static const char *const cmd_names[NCMD] = {
	"VERSION", "ALLOC", "FREE", "WRITE", "READ", "FILL", "VERIFY", "INFO", "LIST",
	"CACHE_CREATE", "CACHE_DESTROY", "IOREMAP", "MMIO", "DMA_COPY", "PERCPU", "BENCH",
	"LIMITS", "MEMPOOL", "DMA_POOL", "(unknown)",
};

static const unsigned long cmd_nr[NCMD] = {
	KMEMLAB_IOC_VERSION, KMEMLAB_IOC_ALLOC, KMEMLAB_IOC_FREE, KMEMLAB_IOC_WRITE,
	KMEMLAB_IOC_READ, KMEMLAB_IOC_FILL, KMEMLAB_IOC_VERIFY, KMEMLAB_IOC_INFO,
	KMEMLAB_IOC_LIST, KMEMLAB_IOC_CACHE_CREATE, KMEMLAB_IOC_CACHE_DESTROY,
	KMEMLAB_IOC_IOREMAP, KMEMLAB_IOC_MMIO, KMEMLAB_IOC_DMA_COPY, KMEMLAB_IOC_PERCPU,
	KMEMLAB_IOC_BENCH, KMEMLAB_IOC_LIMITS, KMEMLAB_IOC_MEMPOOL, KMEMLAB_IOC_DMA_POOL, 0,
};

static const unsigned int cmd_weight[NCMD] = {
	[C_VERSION] = 1, [C_ALLOC] = 18, [C_FREE] = 10, [C_WRITE] = 9, [C_READ] = 9,
	[C_FILL] = 8, [C_VERIFY] = 8, [C_INFO] = 8, [C_LIST] = 3, [C_CACHE_CREATE] = 3,
	[C_CACHE_DESTROY] = 3, [C_IOREMAP] = 2, [C_MMIO] = 4, [C_DMA_COPY] = 3,
	[C_PERCPU] = 5, [C_BENCH] = 1, [C_LIMITS] = 1, [C_MEMPOOL] = 2, [C_DMA_POOL] = 3,
	[C_UNKNOWN] = 2,
};

enum {
	B_EPERM, B_ENOENT, B_EINTR, B_EIO, B_ENXIO, B_ENOMEM, B_EACCES, B_EFAULT, B_EBUSY,
	B_EEXIST, B_ENODEV, B_EINVAL, B_ENOTTY, B_ETIMEDOUT, NBITS
};
#define M(e) (1u << B_##e)

static const int bit_errno[NBITS] = {
	EPERM, ENOENT, EINTR, EIO, ENXIO, ENOMEM, EACCES, EFAULT, EBUSY, EEXIST, ENODEV,
	EINVAL, ENOTTY, ETIMEDOUT,
};

static const char *const bit_name[NBITS] = {
	"EPERM", "ENOENT", "EINTR", "EIO", "ENXIO", "ENOMEM", "EACCES", "EFAULT", "EBUSY",
	"EEXIST", "ENODEV", "EINVAL", "ENOTTY", "ETIMEDOUT",
};

/*
 * From include/uapi/kmemlab.h: each command's "Errors:" list, plus EFAULT for
 * its argument (the header's general rule: EFAULT for a bad user pointer).
 * VERSION, LIMITS, INFO and LIST list no errors: EFAULT for all four, ENOENT for
 * INFO's handle, EINVAL for LIST's reserved field (the general rules).
 * Anything not known to the module: ENOTTY.
 */
static const unsigned int doc_errs[NCMD] = {
	[C_VERSION] = M(EFAULT),
	[C_ALLOC] = M(EINVAL) | M(ENOENT) | M(ENODEV) | M(EFAULT) | M(ENOMEM) | M(EIO),
	[C_FREE] = M(EINVAL) | M(ENOENT) | M(EFAULT),
	[C_WRITE] = M(ENOENT) | M(EINVAL) | M(EFAULT) | M(ENOMEM),
	[C_READ] = M(ENOENT) | M(EINVAL) | M(EFAULT),
	[C_FILL] = M(ENOENT) | M(EINVAL) | M(EFAULT),
	[C_VERIFY] = M(ENOENT) | M(EINVAL) | M(EFAULT),
	[C_INFO] = M(ENOENT) | M(EFAULT),
	[C_LIST] = M(EINVAL) | M(EFAULT),
	[C_CACHE_CREATE] = M(EINVAL) | M(EEXIST) | M(ENOMEM) | M(EFAULT),
	[C_CACHE_DESTROY] = M(ENOENT) | M(EBUSY) | M(EINVAL) | M(EFAULT),
	[C_IOREMAP] = M(EINVAL) | M(ENODEV) | M(EPERM) | M(EACCES) | M(EBUSY) | M(ENOMEM) |
		      M(EFAULT),
	[C_MMIO] = M(ENOENT) | M(EINVAL) | M(EACCES) | M(EFAULT),
	[C_DMA_COPY] = M(ENOENT) | M(EINVAL) | M(ENODEV) | M(ETIMEDOUT) | M(EFAULT),
	[C_PERCPU] = M(ENOENT) | M(EINVAL) | M(ENXIO) | M(EFAULT),
	[C_BENCH] = M(EINVAL) | M(ENOENT) | M(ENODEV) | M(ENOMEM) | M(EINTR) | M(EFAULT),
	[C_LIMITS] = M(EFAULT),
	[C_MEMPOOL] = M(EINVAL) | M(ENOENT) | M(EBUSY) | M(ENOMEM) | M(EFAULT),
	[C_DMA_POOL] = M(EINVAL) | M(ENOENT) | M(ENODEV) | M(EBUSY) | M(ENOMEM) | M(EFAULT),
	[C_UNKNOWN] = M(ENOTTY),
};

static unsigned int ebit(int e)
{
	for (int i = 0; i < NBITS; i++)
		if (bit_errno[i] == e)
			return 1u << i;
	return 0;
}

static const char *errname(int e, char *buf, size_t len)
{
	unsigned int b = ebit(e);

	if (!e)
		return "ok";
	for (int i = 0; i < NBITS; i++)
		if (b == 1u << i)
			return bit_name[i];
	snprintf(buf, len, "errno %d (%s)", e, strerror(e));
	return buf;
}

static const char *mask_str(unsigned int mask, char *buf, size_t len)
{
	size_t n = 0;

	buf[0] = 0;
	for (int i = 0; i < NBITS && n < len; i++)
		if (mask & (1u << i))
			n += snprintf(buf + n, len - n, "%s%s", n ? "|" : "", bit_name[i]);
	return buf;
}

/* ---- the run's settings and what the machine offers ---- */

static struct {
	u64 seed, calls;
	int nthreads;
	int cpus[CPU_SETSIZE], ncpus;
	unsigned char possible[CPU_SETSIZE], online[CPU_SETSIZE];
	int ids, npossible;
	int offline_possible;		/* a possible CPU that is offline, or -1 */
	u64 nodes;			/* online nodes 0-63 */
	u64 features;
	u32 nr_cpus;
	bool edu;
	u64 page;
	u64 max_objects, max_bytes;	/* the quota, from g.lim */
	struct kmemlab_limits lim;
	struct { u64 start, end; } ram[32];
	int nram;
	u64 edu_bar0;
	char edu_pools[PATH_MAX];	/* edu's DMA pools file */
	int shared[NSHARED];
	u64 hole;			/* a page that was mapped and is not any more */
	int failures;
	pthread_mutex_t log;
	u64 pool[POOL];			/* recent (file id + 1) << 32 | handle */
	unsigned int pool_next;
} g = { .log = PTHREAD_MUTEX_INITIALIZER };

/* ---- per-thread state: the model of its files ---- */

struct mobj {
	u32 handle, kind, order, cache, gfp;
	u32 dev;		/* DMA_COHERENT and DMA_POOL: the KMEMLAB_DEV_* (0: not known) */
	s32 node;
	u64 size;		/* INFO's size: bytes, or bytes per CPU, or bytes mapped */
	u64 charge;		/* bytes counted against the quota */
	bool size_known, ctor;
	u64 *pcpu;		/* PERCPU on the own file: the value of each CPU id */
};

struct mcache {
	u32 handle, name, size;
	bool ctor;
};

/* A DMA pool, as made. */
struct mpool {
	u32 handle, device, size, align, boundary;
	char name[KMEMLAB_CACHE_NAME_MAX];
};

struct fdstate {
	int fd, gid;		/* gid: 0 and 1 shared, 2 + thread index own */
	struct mobj *obj;	/* sorted by handle; complete for the own file */
	size_t nobj, capobj;
	struct mcache cache[MAX_CACHES + 8];
	size_t ncache;
	struct mpool pool[MAX_POOLS + 1];
	size_t npool;
	u32 freed[NFREED];
	unsigned int nfreed;
	u64 bytes, objs;	/* held by this thread (an upper bound on shared files) */
};

enum { NAME_DEAD, NAME_ALIVE, NAME_MAYBE };

struct th {
	int idx, cpu;
	bool pinned;
	u64 ncalls, call, rng;
	int fdi;
	struct fdstate fds[NFD];
	unsigned char *region, *buf, *ro_data, *strad_end, *ro_arg;
	unsigned char scratch[2 * SCRATCH];
	unsigned char *names;	/* NAME_* of cache name n ("fz<idx>x<n>") */
	u32 nnames, capnames;
	u64 hist[NCMD][NERR];
	u64 made, checks;
	int failures;
	char desc[640];
	pthread_t tid;
};

struct pred {
	unsigned int must;	/* the call must fail with one of these */
	unsigned int may;	/* errors also acceptable */
	bool on;
};

static u64 umin(u64 a, u64 b)
{
	return a < b ? a : b;
}

/* ---- the generator ---- */

static u64 mix64(u64 z)
{
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

/* Call @k of thread @t: its random numbers depend on the seed, @t and @k only. */
static void seed_call(struct th *t, u64 k)
{
	t->rng = mix64(mix64(g.seed) ^ mix64(0x1000000ULL * (t->idx + 1)) ^ mix64(~k));
}

static u64 rnd(struct th *t)
{
	t->rng += 0x9e3779b97f4a7c15ULL;
	return mix64(t->rng);
}

static u64 below(struct th *t, u64 n)
{
	return n ? rnd(t) % n : 0;
}

static bool chance(struct th *t, unsigned int pct)
{
	return below(t, 100) < pct;
}

#define PICK(t, a) ((a)[below(t, sizeof(a) / sizeof((a)[0]))])

/* ---- logging ---- */

static const char *fd_name(int fdi)
{
	return fdi == OWN ? "own" : fdi ? "shared1" : "shared0";
}

static void desc(struct th *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void desc(struct th *t, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(t->desc, sizeof(t->desc), fmt, ap);
	va_end(ap);
}

static void fail(struct th *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void fail(struct th *t, const char *fmt, ...)
{
	int n = __atomic_add_fetch(&g.failures, 1, __ATOMIC_RELAXED);
	va_list ap;

	t->failures++;
	if (n > MAX_LOGGED)
		return;
	pthread_mutex_lock(&g.log);
	printf("# FAIL seed %llu thread %d call %llu on the %s file: ", g.seed, t->idx, t->call,
	       fd_name(t->fdi));
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n#   call: %s\n", t->desc);
	if (n == MAX_LOGGED)
		printf("# (further failures are counted, not shown)\n");
	fflush(stdout);
	pthread_mutex_unlock(&g.log);
}

/* ---- user pointers ---- */

enum { P_VALID, P_NULL, P_RO, P_HOLE, P_LOW, P_KERNEL, P_NONCANON, P_STRADDLE, NPTR };
static const char *const ptr_names[NPTR] = {
	"valid", "NULL", "read-only", "unmapped", "low", "kernel", "non-canonical", "into-guard",
};

struct uptr {
	int mode;
	u64 addr, rroom, wroom;	/* bytes readable and writable from addr */
};

/* A pointer of @mode; a straddling one has room for a little less than @want bytes, often. */
static struct uptr make_ptr(struct th *t, int mode, u64 want)
{
	struct uptr p = { .mode = mode };
	u64 k, off;

	switch (mode) {
	case P_VALID:
		off = chance(t, 15) ? below(t, 64) : 0;
		p.addr = ptr(t->buf + off);
		p.rroom = p.wroom = BUF_BYTES - off;
		break;
	case P_RO:
		p.addr = ptr(t->ro_data);
		p.rroom = g.page;
		break;
	case P_HOLE:
		p.addr = g.hole;
		break;
	case P_LOW:
		p.addr = LOW_ADDR;
		break;
	case P_KERNEL:
		p.addr = KERNEL_ADDR;
		break;
	case P_NONCANON:
		p.addr = NONCANON_ADDR;
		break;
	case P_STRADDLE:
		if (want > 1 && want <= g.page && chance(t, 60))
			k = want - 1 - below(t, umin(want - 1, 4));
		else
			k = 1 + below(t, 64);
		p.addr = ptr(t->strad_end) - k;
		p.rroom = p.wroom = k;
		break;
	default:
		break;
	}
	return p;
}

static struct uptr pick_ptr(struct th *t, unsigned int valid_pct, u64 want)
{
	return make_ptr(t, chance(t, valid_pct) ? P_VALID : 1 + (int)below(t, NPTR - 1), want);
}

static bool can_read(const struct uptr *p, u64 len)
{
	return !len || len <= p->rroom;
}

static bool can_write(const struct uptr *p, u64 len)
{
	return !len || len <= p->wroom;
}

/* Puts @len bytes of @src where @p points, as far as it can be written from here. */
static void put_bytes(const struct uptr *p, const void *src, u64 len)
{
	if (p->mode == P_VALID || p->mode == P_STRADDLE)
		memcpy((void *)(uintptr_t)p->addr, src, umin(len, p->wroom));
}

/* ---- the call itself ---- */

enum { A_VALID, A_RO, A_BAD };
static const char *const arg_names[] = { "valid", "read-only", "bad" };

static int pick_argmode(struct th *t)
{
	u64 r = below(t, 100);

	return r < 94 ? A_VALID : r < 97 ? A_RO : A_BAD;
}

/*
 * ioctl(@nr) on the file with @s (@size bytes) as the argument, or a copy of
 * it in a read-only page (A_RO), or a pointer that cannot be read (A_BAD: one
 * that runs into a guard page included). Returns 0 or the errno.
 */
static int call_ioctl(struct th *t, int fd, int cmd, unsigned long nr, void *s, size_t size,
		      int amode)
{
	void *arg = s;
	char eb[64];
	int ret, e;

	if (amode == A_RO) {
		mprotect(t->ro_arg, g.page, PROT_READ | PROT_WRITE);
		memcpy(t->ro_arg, s, size);
		mprotect(t->ro_arg, g.page, PROT_READ);
		arg = t->ro_arg;
	} else if (amode == A_BAD) {
		switch (below(t, 6)) {
		case 0:
			arg = NULL;
			break;
		case 1:
			arg = (void *)(uintptr_t)g.hole;
			break;
		case 2:
			arg = (void *)(uintptr_t)LOW_ADDR;
			break;
		case 3:
			arg = (void *)(uintptr_t)KERNEL_ADDR;
			break;
		case 4:
			arg = (void *)(uintptr_t)NONCANON_ADDR;
			break;
		default:
			/* The first 1 to size-1 bytes readable, the rest in the guard page. */
			arg = t->strad_end - 1 - below(t, size > 1 ? size - 1 : 1);
			break;
		}
	}
	ret = ioctl(fd, nr, arg);
	e = ret ? errno : 0;
	if (ret && ret != -1)
		fail(t, "%s returned %d", cmd_names[cmd], ret);
	if (ret == -1 && e <= 0)
		fail(t, "%s failed with %s", cmd_names[cmd], errname(e, eb, sizeof(eb)));
	t->hist[cmd][e >= 0 && e < NERR ? e : NERR - 1]++;
	return e;
}

/* Checks @e against the header's list for @cmd and, when made, the prediction @p. */
static bool judge(struct th *t, int cmd, int e, const struct pred *p)
{
	char eb[64], m1[160], m2[160];
	unsigned int b = ebit(e);

	if (e && !(doc_errs[cmd] & b)) {
		fail(t, "%s failed with %s, which the header does not document for it (%s)",
		     cmd_names[cmd], errname(e, eb, sizeof(eb)),
		     mask_str(doc_errs[cmd], m1, sizeof(m1)));
		return false;
	}
	if (!p->on)
		return true;
	if (!e && p->must) {
		fail(t, "%s succeeded: expected %s", cmd_names[cmd], mask_str(p->must, m1, sizeof(m1)));
		return false;
	}
	if (e && !((p->must | p->may) & b)) {
		fail(t, "%s failed with %s: expected %s%s%s%s", cmd_names[cmd],
		     errname(e, eb, sizeof(eb)),
		     p->must ? mask_str(p->must, m1, sizeof(m1)) : "success",
		     p->may ? " (or " : "", p->may ? mask_str(p->may, m2, sizeof(m2)) : "",
		     p->may ? ")" : "");
		return false;
	}
	return true;
}

/* An error that depends on the file's state: required on the own file, allowed on a shared one. */
static void state_err(struct pred *p, bool exact, unsigned int bit)
{
	if (exact)
		p->must |= bit;
	else
		p->may |= bit;
}

/* ---- the model ---- */

static struct mobj *find_obj(struct fdstate *f, u32 h)
{
	size_t lo = 0, hi = f->nobj;

	while (lo < hi) {
		size_t mid = (lo + hi) / 2;

		if (f->obj[mid].handle == h)
			return &f->obj[mid];
		if (f->obj[mid].handle < h)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

static struct mcache *find_cache(struct fdstate *f, u32 h)
{
	for (size_t i = 0; i < f->ncache; i++)
		if (f->cache[i].handle == h)
			return &f->cache[i];
	return NULL;
}

static struct mpool *find_pool(struct fdstate *f, u32 h)
{
	for (size_t i = 0; i < f->npool; i++)
		if (f->pool[i].handle == h)
			return &f->pool[i];
	return NULL;
}

/* A handle the file gave out and has not taken back: an object's, a cache's or a pool's. */
static bool in_use(struct fdstate *f, u32 h)
{
	return find_obj(f, h) || find_cache(f, h) || find_pool(f, h);
}

/* What counts against max_objects: objects, caches and DMA pools. */
static u64 held_objects(struct fdstate *f)
{
	return f->nobj + f->ncache + f->npool;
}

static void note_freed(struct fdstate *f, u32 h)
{
	f->freed[f->nfreed++ % NFREED] = h;
}

/* Records a new object; on a shared file only while the tracking has room. */
static void add_obj(struct th *t, int fdi, const struct mobj *o)
{
	struct fdstate *f = &t->fds[fdi];
	size_t i;

	f->bytes += o->charge;
	f->objs++;
	if (fdi != OWN && f->nobj >= SHARED_MAX_OBJS)
		return;
	if (f->nobj == f->capobj) {
		f->capobj = f->capobj ? 2 * f->capobj : 256;
		f->obj = realloc(f->obj, f->capobj * sizeof(*f->obj));
		if (!f->obj) {
			fprintf(stderr, "out of memory\n");
			abort();
		}
	}
	i = f->nobj;
	while (i && f->obj[i - 1].handle > o->handle)
		i--;
	memmove(&f->obj[i + 1], &f->obj[i], (f->nobj - i) * sizeof(*f->obj));
	f->obj[i] = *o;
	if (fdi == OWN && o->kind == KMEMLAB_KIND_PERCPU)
		f->obj[i].pcpu = calloc(g.ids, sizeof(u64));
	f->nobj++;
}

static void del_obj(struct fdstate *f, struct mobj *o)
{
	size_t i = o - f->obj;

	f->bytes -= umin(f->bytes, o->charge);
	f->objs -= umin(f->objs, 1);
	note_freed(f, o->handle);
	free(o->pcpu);
	memmove(&f->obj[i], &f->obj[i + 1], (f->nobj - i - 1) * sizeof(*f->obj));
	f->nobj--;
}

static void clear_objs(struct fdstate *f)
{
	for (size_t i = 0; i < f->nobj; i++) {
		note_freed(f, f->obj[i].handle);
		free(f->obj[i].pcpu);
	}
	f->nobj = 0;
	f->bytes = 0;
	f->objs = 0;
}

static void del_cache(struct fdstate *f, struct mcache *c)
{
	size_t i = c - f->cache;

	memmove(&f->cache[i], &f->cache[i + 1], (f->ncache - i - 1) * sizeof(*c));
	f->ncache--;
}

static void del_pool(struct fdstate *f, struct mpool *pl)
{
	size_t i = pl - f->pool;

	memmove(&f->pool[i], &f->pool[i + 1], (f->npool - i - 1) * sizeof(*pl));
	f->npool--;
}

/* The objects of @kind the model has from cache or pool @from. */
static u32 objects_from(struct fdstate *f, u32 kind, u32 from)
{
	u32 n = 0;

	for (size_t i = 0; i < f->nobj; i++)
		n += f->obj[i].kind == kind && f->obj[i].cache == from;
	return n;
}

static void pool_put(int gid, u32 h)
{
	unsigned int i = __atomic_fetch_add(&g.pool_next, 1, __ATOMIC_RELAXED) % POOL;

	__atomic_store_n(&g.pool[i], ((u64)(gid + 1) << 32) | h, __ATOMIC_RELAXED);
}

static bool pool_other(struct th *t, int gid, u32 *h)
{
	for (int tries = 0; tries < 8; tries++) {
		u64 v = __atomic_load_n(&g.pool[below(t, POOL)], __ATOMIC_RELAXED);

		if (v && (int)(v >> 32) - 1 != gid) {
			*h = (u32)v;
			return true;
		}
	}
	return false;
}

/* A handle for a call on file @fdi, preferring live objects of @kinds. */
static u32 pick_handle(struct th *t, int fdi, unsigned int kinds)
{
	static const u32 never[] = { 1u << 30, 0xffffffff, 0x7fffffff, 0x80000000 };
	struct fdstate *f = &t->fds[fdi];
	u64 r = below(t, 100);
	u32 h;

	if (r < 60 && f->nobj) {
		size_t start = below(t, f->nobj);

		if (kinds && chance(t, 85))
			for (size_t i = 0; i < f->nobj; i++) {
				struct mobj *o = &f->obj[(start + i) % f->nobj];

				if (kinds & KBIT(o->kind))
					return o->handle;
			}
		return f->obj[start].handle;
	}
	if (r < 70 && f->nfreed)
		return f->freed[below(t, umin(f->nfreed, NFREED))];
	if (r < 74)
		return 0;
	if (r < 79)
		return PICK(t, never);
	if (r < 90 && pool_other(t, f->gid, &h))
		return h;
	if (r < 95 && f->ncache + f->npool) {
		size_t i = below(t, f->ncache + f->npool);

		return i < f->ncache ? f->cache[i].handle : f->pool[i - f->ncache].handle;
	}
	return 1 + below(t, 64);
}

static int fd_of(struct th *t, int fdi)
{
	return t->fds[fdi].fd;
}

/* A checking call of the thread's own (not one of the fuzzed calls): must succeed. */
static bool check_call(struct th *t, int fdi, int cmd, void *s, size_t size)
{
	char eb[64];
	int e = call_ioctl(t, fd_of(t, fdi), cmd, cmd_nr[cmd], s, size, A_VALID);

	t->checks++;
	if (e)
		fail(t, "checking %s failed with %s", cmd_names[cmd], errname(e, eb, sizeof(eb)));
	return !e;
}

static void maint_free_all(struct th *t, int fdi)
{
	struct kmemlab_free f = { .flags = KMEMLAB_FREE_ALL };

	check_call(t, fdi, C_FREE, &f, sizeof(f));
	clear_objs(&t->fds[fdi]);
}

/* ---- checks on replies ---- */

static void check_info_model(struct th *t, const struct kmemlab_info *in, const struct mobj *o,
			     const char *what)
{
	if (in->handle != o->handle || in->kind != o->kind ||
	    (o->size_known && in->size != o->size) || in->order != o->order ||
	    in->node != o->node || in->cache != o->cache || in->gfp != o->gfp)
		fail(t, "%s of handle %u: kind %u size %llu order %u node %d cache %u gfp 0x%x; "
		     "made as kind %u size %llu order %u node %d cache %u gfp 0x%x", what,
		     in->handle, in->kind, in->size, in->order, in->node, in->cache, in->gfp,
		     o->kind, o->size, o->order, o->node, o->cache, o->gfp);
	if ((o->kind == KMEMLAB_KIND_IOREMAP || o->kind == KMEMLAB_KIND_PERCPU) && in->nid != -1)
		fail(t, "%s of handle %u (kind %u): nid %d, not -1", what, in->handle, o->kind,
		     in->nid);
	if (t->pinned && in->cpu != (u32)t->cpu)
		fail(t, "%s of handle %u: made on CPU %u, but the thread is pinned to CPU %d",
		     what, in->handle, in->cpu, t->cpu);
}

/* A reply of INFO or LIST on file @fdi. */
static void check_info(struct th *t, int fdi, const struct kmemlab_info *in, const char *what)
{
	struct mobj *o = find_obj(&t->fds[fdi], in->handle);

	if (in->size >= KADDR_MIN)
		fail(t, "%s of handle %u: size 0x%llx looks like a kernel address", what,
		     in->handle, in->size);
	if (in->kind < KMEMLAB_KIND_KMALLOC || in->kind > KMEMLAB_KIND_DMA_POOL)
		fail(t, "%s of handle %u: kind %u", what, in->handle, in->kind);
	if (in->zone > KMEMLAB_ZONE_DEVICE || in->backing > KMEMLAB_BACKING_VMALLOC)
		fail(t, "%s of handle %u: zone %u backing %u", what, in->handle, in->zone,
		     in->backing);
	/*
	 * Device memory and per-CPU areas are in no one zone; allocated RAM
	 * always is (a DMA buffer whose device went away is neither).
	 */
	if (in->kind == KMEMLAB_KIND_DMA_COHERENT)
		;
	else if ((in->kind == KMEMLAB_KIND_IOREMAP || in->kind == KMEMLAB_KIND_PERCPU) !=
		 (in->zone == KMEMLAB_ZONE_NONE || in->backing == KMEMLAB_BACKING_NONE))
		fail(t, "%s of handle %u (kind %u): zone %u backing %u", what, in->handle,
		     in->kind, in->zone, in->backing);
	/* A DMA pool's blocks lie in its pages (edu is never unbound here). */
	if (in->kind == KMEMLAB_KIND_DMA_POOL && in->backing != KMEMLAB_BACKING_PAGES)
		fail(t, "%s of handle %u (a DMA pool block): backing %u", what, in->handle,
		     in->backing);
	if (fdi == OWN) {
		if (!o)
			fail(t, "%s: handle %u is not an object of this file", what, in->handle);
		else
			check_info_model(t, in, o, what);
	} else if (o && in->kind != o->kind) {
		/* Handles are unique within a file: this one is still what this thread made. */
		fail(t, "%s of handle %u: kind %u, made as kind %u", what, in->handle, in->kind,
		     o->kind);
	}
}

/* LIST's @n entries at @infos, and the total @total, on file @fdi. */
static void check_list(struct th *t, int fdi, const unsigned char *infos, u64 n, u32 total)
{
	struct fdstate *f = &t->fds[fdi];
	struct kmemlab_info in;
	u32 prev = 0;

	for (u64 i = 0; i < n; i++) {
		memcpy(&in, infos + i * sizeof(in), sizeof(in));
		if (i && in.handle <= prev)
			fail(t, "LIST entry %llu: handle %u after %u, not in handle order", i,
			     in.handle, prev);
		prev = in.handle;
		check_info(t, fdi, &in, "LIST");
		if (fdi == OWN && i < f->nobj && in.handle != f->obj[i].handle)
			fail(t, "LIST entry %llu: handle %u, the model has %u", i, in.handle,
			     f->obj[i].handle);
	}
	if (fdi == OWN && total != f->nobj)
		fail(t, "LIST counts %u objects, the model %zu", total, f->nobj);
}

/* LIST of the own file into a buffer big enough: the model, and the quota. */
static void quota_check(struct th *t)
{
	struct fdstate *f = &t->fds[OWN];
	u64 room = f->nobj + 16, bytes = 0;
	unsigned char *infos = calloc(room, sizeof(struct kmemlab_info));
	struct kmemlab_list l = { .count = (u32)room, .infos = ptr(infos) };
	struct kmemlab_info in;

	desc(t, "LIST of the own file (quota check, %zu objects modelled)", f->nobj);
	if (!infos || !check_call(t, OWN, C_LIST, &l, sizeof(l))) {
		free(infos);
		return;
	}
	check_list(t, OWN, infos, umin(l.count, room), l.count);
	for (u64 i = 0; i < umin(l.count, room); i++) {
		memcpy(&in, infos + i * sizeof(in), sizeof(in));
		bytes += in.size;
	}
	if (l.count > g.max_objects)
		fail(t, "the file holds %u objects, more than max_objects %llu", l.count,
		     g.max_objects);
	if (bytes > g.max_bytes)
		fail(t, "the file's objects make %llu bytes, more than max_bytes %llu", bytes,
		     g.max_bytes);
	free(infos);
}

/* A new object reads as zeroes, or as the constructor left it. */
static void check_fresh(struct th *t, const struct mobj *o)
{
	u64 n = umin(o->size, 256), start = 0, magic;
	struct kmemlab_io r = { .handle = o->handle, .len = n, .addr = ptr(t->scratch) };

	memset(t->scratch, 0xa5, n);
	if (!check_call(t, OWN, C_READ, &r, sizeof(r)))
		return;
	if (o->ctor) {
		memcpy(&magic, t->scratch, sizeof(magic));
		if (magic != KMEMLAB_CTOR_MAGIC)
			fail(t, "new object %u of a cache with a constructor starts with 0x%llx, "
			     "not the constructor's mark", o->handle, magic);
		start = 8;
	}
	for (u64 i = start; i < n; i++)
		if (t->scratch[i]) {
			fail(t, "new object %u (kind %u, %llu bytes): byte %llu is 0x%02x, not 0",
			     o->handle, o->kind, o->size, i, t->scratch[i]);
			break;
		}
}

/* Reads @len bytes (at most SCRATCH) at @offset of object @h into @to. */
static bool read_back(struct th *t, u32 h, u64 offset, u64 len, unsigned char *to)
{
	struct kmemlab_io r = { .handle = h, .offset = offset, .len = len, .addr = ptr(to) };

	return check_call(t, OWN, C_READ, &r, sizeof(r));
}

/* ---- value pickers ---- */

static u64 pick_size(struct th *t)
{
	static const u64 small[] = { 0, 1, 7, 64, 4095, 4096, 4097, 8192, 65536 };
	static const u64 big[] = { 1ULL << 20, 4ULL << 20, (4ULL << 20) + 1 };

	if (chance(t, 90))
		return chance(t, 30) ? 1 + below(t, 65536) : PICK(t, small);
	switch (below(t, 5)) {
	case 0: case 1: case 2:
		return PICK(t, big);
	case 3:
		return below(t, 1ULL << 31);
	default:
		return ~0ULL;
	}
}

static u32 pick_order(struct th *t)
{
	u64 r = below(t, 100);

	if (r < 60)
		return below(t, 3);
	if (r < 90)
		return 3 + below(t, 2);
	if (r < 97)
		return 5 + below(t, MAX_ORDER - 4);
	return MAX_ORDER + 1 + below(t, 2);
}

static s32 pick_node(struct th *t)
{
	static const s32 odd[] = { -2, 2, 63, 64, INT_MIN, INT_MAX };
	u64 r = below(t, 100);

	if (r < 70)
		return KMEMLAB_NODE_ANY;
	if (r < 80)
		return 0;
	if (r < 87)
		return 1;
	if (r < 97)
		return PICK(t, odd);
	return (s32)rnd(t);
}

static u32 pick_count(struct th *t)
{
	u64 r = below(t, 100);

	if (r < 65)
		return 1;
	if (r < 85)
		return 2 + below(t, 15);
	if (r < 92)
		return 17 + below(t, KMEMLAB_BATCH_MAX - 16);
	if (r < 94)
		return KMEMLAB_BATCH_MAX;
	if (r < 97)
		return 0;
	if (r < 99)
		return KMEMLAB_BATCH_MAX + 1 + below(t, 76);
	return (u32)rnd(t);
}

#define GFP_POLICY (KMEMLAB_GFP_ZERO | KMEMLAB_GFP_NOWARN | KMEMLAB_GFP_ACCOUNT | \
		    KMEMLAB_GFP_NORETRY | KMEMLAB_GFP_RETRY_MAYFAIL)
#define GFP_MODS (GFP_POLICY | KMEMLAB_GFP_DMA | KMEMLAB_GFP_DMA32 | KMEMLAB_GFP_THISNODE)
/* The bases slab-backed kinds take (no HIGHUSER), as a bit per base. */
#define LOWMEM_BASES 0x3fu

/*
 * Whether ALLOC (and BENCH) take @gfp for @kind with @node: the table of
 * the ABI header, and the combinations no kind takes.
 */
static bool gfp_ok(u32 kind, u32 gfp, s32 node)
{
	u32 base = gfp & KMEMLAB_GFP_BASE_MASK, mods = gfp & ~KMEMLAB_GFP_BASE_MASK;
	bool high = base == KMEMLAB_GFP_HIGHUSER || base == KMEMLAB_GFP_HIGHUSER_MOVABLE;
	u32 bases, allowed;

	if (base > KMEMLAB_GFP_HIGHUSER_MOVABLE || (mods & ~GFP_MODS))
		return false;
	if ((gfp & KMEMLAB_GFP_DMA) && (gfp & KMEMLAB_GFP_DMA32))
		return false;
	if (high && (gfp & (KMEMLAB_GFP_DMA | KMEMLAB_GFP_DMA32)))
		return false;
	if ((gfp & KMEMLAB_GFP_NORETRY) && (gfp & KMEMLAB_GFP_RETRY_MAYFAIL))
		return false;
	if (((gfp & KMEMLAB_GFP_DMA) && !(g.features & KMEMLAB_FEAT_ZONE_DMA)) ||
	    ((gfp & KMEMLAB_GFP_DMA32) && !(g.features & KMEMLAB_FEAT_ZONE_DMA32)))
		return false;
	if ((gfp & KMEMLAB_GFP_THISNODE) && node == KMEMLAB_NODE_ANY)
		return false;
	switch (kind) {
	case KMEMLAB_KIND_KMALLOC:
		bases = LOWMEM_BASES;
		allowed = GFP_POLICY | KMEMLAB_GFP_DMA | KMEMLAB_GFP_THISNODE;
		break;
	case KMEMLAB_KIND_KMEM_CACHE:
		bases = LOWMEM_BASES;
		allowed = GFP_POLICY | KMEMLAB_GFP_THISNODE;
		break;
	case KMEMLAB_KIND_FREE_PAGES:
		bases = LOWMEM_BASES;
		allowed = GFP_POLICY | KMEMLAB_GFP_DMA | KMEMLAB_GFP_DMA32;
		break;
	case KMEMLAB_KIND_PAGES_NODE:
		bases = 0xff;
		allowed = GFP_MODS;
		break;
	case KMEMLAB_KIND_VMALLOC:
		bases = 1u << KMEMLAB_GFP_KERNEL;
		allowed = KMEMLAB_GFP_ZERO | KMEMLAB_GFP_NOWARN;
		break;
	case KMEMLAB_KIND_DMA_COHERENT:
		bases = 1u << KMEMLAB_GFP_KERNEL | 1u << KMEMLAB_GFP_ATOMIC | 1u << KMEMLAB_GFP_NOWAIT;
		allowed = KMEMLAB_GFP_ZERO | KMEMLAB_GFP_NOWARN;
		break;
	case KMEMLAB_KIND_KVMALLOC:
		bases = LOWMEM_BASES;
		allowed = GFP_POLICY | KMEMLAB_GFP_DMA | KMEMLAB_GFP_THISNODE;
		break;
	case KMEMLAB_KIND_MEMPOOL:
		bases = 1u << KMEMLAB_GFP_ATOMIC | 1u << KMEMLAB_GFP_NOWAIT;
		allowed = KMEMLAB_GFP_NOWARN;
		break;
	case KMEMLAB_KIND_DMA_POOL:
		bases = LOWMEM_BASES;
		allowed = KMEMLAB_GFP_ZERO | KMEMLAB_GFP_NOWARN | KMEMLAB_GFP_NORETRY |
			  KMEMLAB_GFP_RETRY_MAYFAIL;
		break;
	default:	/* PERCPU, IOREMAP */
		bases = 1u << KMEMLAB_GFP_KERNEL;
		allowed = 0;
		break;
	}
	return (bases >> base & 1) && !(mods & ~allowed);
}

static u32 pick_gfp(struct th *t, u32 kind)
{
	static const u32 unknown[] = { 0x8, 0xf, 0x1000, 0x8000, 0x80000000 };
	static const u32 zones[] = { KMEMLAB_GFP_DMA, KMEMLAB_GFP_DMA32, KMEMLAB_GFP_THISNODE,
				     KMEMLAB_GFP_RETRY_MAYFAIL };
	u32 gfp;

	if (chance(t, 75)) {
		switch (kind) {
		case KMEMLAB_KIND_VMALLOC:
			gfp = (chance(t, 40) ? KMEMLAB_GFP_ZERO : 0) |
			      (chance(t, 30) ? KMEMLAB_GFP_NOWARN : 0);
			break;
		case KMEMLAB_KIND_PERCPU:
		case KMEMLAB_KIND_IOREMAP:
			gfp = 0;
			break;
		case KMEMLAB_KIND_DMA_COHERENT:
			gfp = below(t, 3) | (chance(t, 30) ? KMEMLAB_GFP_ZERO : 0) |
			      (chance(t, 30) ? KMEMLAB_GFP_NOWARN : 0);
			break;
		default:
			/* Mostly the old three bases; the others and the zones too. */
			gfp = (chance(t, 70) ? below(t, 3) : below(t, 8)) |
			      (chance(t, 25) ? KMEMLAB_GFP_ZERO : 0) |
			      (chance(t, 25) ? KMEMLAB_GFP_NOWARN : 0) |
			      (chance(t, 25) ? KMEMLAB_GFP_ACCOUNT : 0) |
			      (chance(t, 25) ? KMEMLAB_GFP_NORETRY : 0) |
			      (chance(t, 15) ? PICK(t, zones) : 0);
			break;
		}
		return gfp;
	}
	gfp = below(t, 8) | (chance(t, 30) ? KMEMLAB_GFP_ZERO : 0) |
	      (chance(t, 30) ? KMEMLAB_GFP_NOWARN : 0) | (chance(t, 30) ? KMEMLAB_GFP_ACCOUNT : 0) |
	      (chance(t, 30) ? KMEMLAB_GFP_NORETRY : 0) | (chance(t, 30) ? PICK(t, zones) : 0);
	if (chance(t, 15))
		gfp |= chance(t, 80) ? PICK(t, unknown) : (u32)rnd(t);
	return gfp;
}

static bool node_ok(s32 node)
{
	return node == KMEMLAB_NODE_ANY || (node >= 0 && node < 64 && (g.nodes >> node & 1));
}

static bool is_pow2(u64 v)
{
	return v && !(v & (v - 1));
}

/* The block size mm/dmapool.c makes of @size bytes aligned to @align. */
static u64 pool_block(u64 size, u64 align)
{
	size = size < 16 ? 16 : size;
	return align > 1 ? (size + align - 1) & ~(align - 1) : size;
}

/* ---- ALLOC ---- */

/*
 * The errors ALLOC's fields (all but @handles) must give on file @fdi, and
 * those they may give there; @charge: the bytes one object counts (@known
 * false: a cache this thread does not know, counted as the largest).
 */
static void alloc_rules(struct th *t, int fdi, const struct kmemlab_alloc *a, struct pred *p,
			u64 *charge, const struct mcache **cp, bool *known)
{
	struct fdstate *f = &t->fds[fdi];
	bool exact = fdi == OWN, zero = a->gfp & KMEMLAB_GFP_ZERO;
	const struct mcache *c;
	const struct mpool *pl;
	unsigned int inval = 0;

	*charge = 0;
	*cp = NULL;
	*known = true;
	if (!a->count || a->count > KMEMLAB_BATCH_MAX)
		inval = 1;
	if (!gfp_ok(a->kind, a->gfp, a->node))
		inval = 1;
	switch (a->kind) {
	case KMEMLAB_KIND_KMALLOC:
		inval |= !a->size || a->size > KMALLOC_MAX || a->order || a->cache ||
			 !node_ok(a->node);
		*charge = a->size;
		break;
	case KMEMLAB_KIND_VMALLOC:
		inval |= !a->size || a->size > VMALLOC_MAX || a->order || a->cache ||
			 !node_ok(a->node);
		*charge = a->size;
		break;
	case KMEMLAB_KIND_FREE_PAGES:
		inval |= a->size || a->order > MAX_ORDER || a->cache || a->node != KMEMLAB_NODE_ANY;
		*charge = a->order <= MAX_ORDER ? g.page << a->order : 0;
		break;
	case KMEMLAB_KIND_PAGES_NODE:
		inval |= a->size || a->order > MAX_ORDER || a->cache || !node_ok(a->node);
		*charge = a->order <= MAX_ORDER ? g.page << a->order : 0;
		break;
	case KMEMLAB_KIND_KMEM_CACHE:
		inval |= a->size || a->order || !node_ok(a->node);
		c = find_cache(f, a->cache);
		*cp = c;
		if (!exact)
			/* Destroyed meanwhile, or another thread's cache (maybe constructed). */
			p->may |= M(ENOENT) | M(EINVAL);
		if (c) {
			*charge = c->size;
			/* The slab allocator refuses __GFP_ZERO for a cache with a constructor. */
			if (c->ctor && zero)
				state_err(p, exact, M(EINVAL));
		} else {
			*charge = CACHE_OBJ_MAX;
			*known = false;
			state_err(p, exact, M(ENOENT));
		}
		break;
	case KMEMLAB_KIND_DMA_COHERENT:
		inval |= !a->size || a->size > DMA_MAX || a->order ||
			 a->node != KMEMLAB_NODE_ANY;
		if (a->device != KMEMLAB_DEV_FAUX && a->device != KMEMLAB_DEV_EDU)
			inval = 1;
		else if (a->device == KMEMLAB_DEV_EDU && !g.edu)
			p->must |= M(ENODEV);
		*charge = a->size;
		p->may |= M(EIO);
		break;
	case KMEMLAB_KIND_PERCPU:
		inval |= a->size || a->order || a->cache || a->node != KMEMLAB_NODE_ANY || a->gfp;
		*charge = 8ULL * g.npossible;
		break;
	case KMEMLAB_KIND_KVMALLOC:
		inval |= !a->size || a->size > KVMALLOC_MAX || a->order || a->cache ||
			 !node_ok(a->node);
		*charge = a->size;
		break;
	case KMEMLAB_KIND_MEMPOOL:
		/* No mempool outlives the MEMPOOL call that made it (op_mempool). */
		inval |= a->size || a->order || a->node != KMEMLAB_NODE_ANY;
		*known = false;
		if (!inval)
			state_err(p, exact, M(ENOENT));
		break;
	case KMEMLAB_KIND_DMA_POOL:
		inval |= a->size || a->order || a->node != KMEMLAB_NODE_ANY;
		pl = find_pool(f, a->cache);
		if (!exact)
			p->may |= M(ENOENT);	/* destroyed meanwhile */
		if (pl) {
			*charge = pl->size;
		} else {
			/* Another thread's pool, maybe: counted as the largest block. */
			*charge = g.lim.dma_pool_block_max;
			*known = false;
			state_err(p, exact, M(ENOENT));
		}
		p->may |= M(EIO);
		break;
	default:
		inval = 1;
		break;
	}
	if (inval)
		p->must |= M(EINVAL);
}

static int cmp_u32(const void *a, const void *b)
{
	u32 x = *(const u32 *)a, y = *(const u32 *)b;

	return x < y ? -1 : x > y;
}

/* Whether @n handles at @h name one twice. */
static bool has_dup(const u32 *h, u32 n)
{
	u32 *s = malloc((n ? n : 1) * sizeof(*s));
	bool dup = false;

	if (!s)
		abort();
	memcpy(s, h, n * sizeof(*s));
	qsort(s, n, sizeof(*s), cmp_u32);
	for (u32 i = 1; i < n && !dup; i++)
		dup = s[i] == s[i - 1];
	free(s);
	return dup;
}

static void op_alloc(struct th *t, int fdi)
{
	static const u32 kinds[] = { 1, 1, 1, 2, 2, 3, 3, 4, 5, 5, 6, 6, 8, 8, 9, 9, 10, 11, 11 };
	struct fdstate *f = &t->fds[fdi];
	struct kmemlab_alloc a = { 0 };
	int amode = pick_argmode(t), e;
	bool exact = fdi == OWN;
	const struct mcache *c;
	const struct mpool *pl;
	struct pred p = { .on = true };
	u32 handles[KMEMLAB_BATCH_MAX];
	struct uptr hp;
	struct mobj o;
	u64 r = below(t, 100), charge, budget, maxobjs, room;
	bool known;

	if (r < 2)
		a.kind = 0;
	else if (r < 3)
		a.kind = KMEMLAB_KIND_DMA_POOL + 1;
	else if (r < 4)
		a.kind = (u32)rnd(t);
	else if (r < 6)
		a.kind = KMEMLAB_KIND_IOREMAP;
	else
		a.kind = PICK(t, kinds);
	a.gfp = pick_gfp(t, a.kind);
	switch (a.kind) {
	case KMEMLAB_KIND_KMALLOC:
	case KMEMLAB_KIND_VMALLOC:
	case KMEMLAB_KIND_DMA_COHERENT:
	case KMEMLAB_KIND_KVMALLOC:
		a.size = pick_size(t);
		break;
	default:
		a.size = chance(t, 94) ? 0 : pick_size(t);
		break;
	}
	if (a.kind == KMEMLAB_KIND_FREE_PAGES || a.kind == KMEMLAB_KIND_PAGES_NODE || chance(t, 6))
		a.order = pick_order(t);
	switch (a.kind) {
	case KMEMLAB_KIND_KMALLOC:
	case KMEMLAB_KIND_VMALLOC:
	case KMEMLAB_KIND_PAGES_NODE:
	case KMEMLAB_KIND_KMEM_CACHE:
	case KMEMLAB_KIND_KVMALLOC:
		a.node = pick_node(t);
		break;
	default:
		a.node = chance(t, 92) ? KMEMLAB_NODE_ANY : pick_node(t);
		break;
	}
	if (a.kind == KMEMLAB_KIND_KMEM_CACHE)
		a.cache = f->ncache && chance(t, 85) ? f->cache[below(t, f->ncache)].handle :
			  pick_handle(t, fdi, 0);
	else if (a.kind == KMEMLAB_KIND_DMA_POOL)
		a.cache = f->npool && chance(t, 85) ? f->pool[below(t, f->npool)].handle :
			  pick_handle(t, fdi, 0);
	else if (a.kind == KMEMLAB_KIND_DMA_COHERENT)
		a.device = chance(t, 4) ? (u32)below(t, 5) :
			   g.edu && chance(t, 50) ? KMEMLAB_DEV_EDU : KMEMLAB_DEV_FAUX;
	else
		a.cache = chance(t, 95) ? 0 : pick_handle(t, fdi, 0);
	/* edu's 28-bit DMA mask takes memory from the small low zones: mostly small buffers. */
	if (a.kind == KMEMLAB_KIND_DMA_COHERENT && a.device == KMEMLAB_DEV_EDU &&
	    a.size > 65536 && a.size <= DMA_MAX && chance(t, 90))
		a.size = 1 + below(t, 65536);
	a.count = pick_count(t);
	if (chance(t, 1)) {
		/* More than the quota in one call: refused before anything is allocated. */
		a = (struct kmemlab_alloc){ .kind = KMEMLAB_KIND_KMALLOC, .size = KMALLOC_MAX,
					    .node = KMEMLAB_NODE_ANY,
					    .count = (u32)umin(g.max_bytes / KMALLOC_MAX + 1, ~0U) };
		if (a.count > KMEMLAB_BATCH_MAX)
			a = (struct kmemlab_alloc){ .kind = KMEMLAB_KIND_VMALLOC, .count = 1,
						    .size = umin(g.max_bytes + g.page, VMALLOC_MAX),
						    .node = KMEMLAB_NODE_ANY };
	}

	alloc_rules(t, fdi, &a, &p, &charge, &c, &known);
	if (!p.must && charge > BIG_OBJ) {
		/* Only vmalloc gets here: ask for more than the quota instead, or for little. */
		a.count = 1;
		a.size = g.max_bytes + g.page <= VMALLOC_MAX ?
			 umin(g.max_bytes + g.page * (1 + below(t, 16)), VMALLOC_MAX) : 65536;
		p = (struct pred){ .on = true };
		alloc_rules(t, fdi, &a, &p, &charge, &c, &known);
	}
	if (!p.must && (!known || charge * a.count <= g.max_bytes)) {
		/* It may allocate: keep memory bounded (unknown caches count as the largest). */
		budget = exact ? OWN_BUDGET : SHARED_BUDGET;
		maxobjs = exact ? OWN_MAX_OBJS : SHARED_MAX_OBJS;
		if (f->bytes + charge > budget || f->objs + 1 > maxobjs)
			maint_free_all(t, fdi);
		room = charge && budget > f->bytes ? (budget - f->bytes) / charge : a.count;
		room = umin(room, maxobjs > f->objs ? maxobjs - f->objs : 0);
		a.count = (u32)umin(a.count, room ? room : 1);
		p = (struct pred){ .on = true };
		alloc_rules(t, fdi, &a, &p, &charge, &c, &known);
	}
	pl = a.kind == KMEMLAB_KIND_DMA_POOL ? find_pool(f, a.cache) : NULL;
	if (!p.must && pl) {
		/* A pool keeps the pages its blocks took: at most POOL_BYTES of blocks from it. */
		u64 block = pool_block(pl->size, pl->align);
		u64 held = objects_from(f, KMEMLAB_KIND_DMA_POOL, pl->handle) * block;

		if (held && held + block > POOL_BYTES) {
			maint_free_all(t, fdi);
			held = 0;
		}
		room = POOL_BYTES > held ? (POOL_BYTES - held) / block : 0;
		a.count = (u32)umin(a.count, room ? room : 1);
		p = (struct pred){ .on = true };
		alloc_rules(t, fdi, &a, &p, &charge, &c, &known);
	}
	hp = pick_ptr(t, 93, (u64)a.count * 4);
	a.handles = hp.addr;
	if (amode == A_BAD) {
		p = (struct pred){ .on = true, .must = M(EFAULT) };
	} else {
		p.may |= M(ENOMEM);
		if (!p.must) {
			if ((known && charge * a.count > g.max_bytes) ||
			    (exact && (f->bytes + charge * a.count > g.max_bytes ||
				       held_objects(f) + a.count > g.max_objects))) {
				p.must |= M(ENOMEM);
				if (!can_write(&hp, (u64)a.count * 4))
					p.may |= M(EFAULT);
			} else if (!can_write(&hp, (u64)a.count * 4)) {
				p.must |= M(EFAULT);
			}
		}
	}
	desc(t, "ALLOC kind %u gfp 0x%x size %llu order %u node %d cache/device %u count %u "
	     "handles %s (arg %s)", a.kind, a.gfp, a.size, a.order, a.node, a.cache, a.count,
	     ptr_names[hp.mode], arg_names[amode]);
	e = call_ioctl(t, f->fd, C_ALLOC, KMEMLAB_IOC_ALLOC, &a, sizeof(a), amode);
	if (!judge(t, C_ALLOC, e, &p) || e)
		return;

	memcpy(handles, (void *)(uintptr_t)hp.addr, a.count * sizeof(u32));
	if (has_dup(handles, a.count))
		fail(t, "ALLOC returned the same handle twice");
	o = (struct mobj){
		.kind = a.kind, .order = a.order, .node = a.node, .gfp = a.gfp,
		.cache = a.kind == KMEMLAB_KIND_KMEM_CACHE || a.kind == KMEMLAB_KIND_DMA_COHERENT ||
			 a.kind == KMEMLAB_KIND_DMA_POOL ? a.cache : 0,
		.dev = a.kind == KMEMLAB_KIND_DMA_COHERENT ? a.device : pl ? pl->device : 0,
		.charge = charge, .size_known = true, .ctor = c && c->ctor,
	};
	switch (a.kind) {
	case KMEMLAB_KIND_FREE_PAGES:
	case KMEMLAB_KIND_PAGES_NODE:
		o.size = g.page << a.order;
		break;
	case KMEMLAB_KIND_KMEM_CACHE:
		o.size = c ? c->size : 0;
		o.size_known = c;
		break;
	case KMEMLAB_KIND_DMA_POOL:
		o.size = pl ? pl->size : 0;
		o.size_known = pl;
		break;
	case KMEMLAB_KIND_PERCPU:
		o.size = sizeof(u64);
		break;
	default:
		o.size = a.size;
		break;
	}
	for (u32 i = 0; i < a.count; i++) {
		if (!handles[i])
			fail(t, "ALLOC returned handle 0");
		if (exact && in_use(f, handles[i]))
			fail(t, "ALLOC returned handle %u, already in use on the file", handles[i]);
		o.handle = handles[i];
		add_obj(t, fdi, &o);
	}
	pool_put(f->gid, handles[0]);
	if (exact && (K_BYTES & KBIT(a.kind)) && find_obj(f, handles[0]))
		check_fresh(t, find_obj(f, handles[0]));
}

/* ---- FREE ---- */

static void op_free(struct th *t, int fdi)
{
	static const u32 odd_flags[] = { 2, 3, 0x80000000, 0xffffffff };
	struct fdstate *f = &t->fds[fdi];
	struct kmemlab_free fr = { 0 };
	u32 arr[KMEMLAB_BATCH_MAX], n = 0;
	int amode = pick_argmode(t), e;
	bool exact = fdi == OWN, unknown = false;
	struct pred p = { .on = true };
	struct uptr hp = { .mode = P_NULL };
	u64 r = below(t, 100), rc;
	struct mobj *o;

	if (r < 5) {
		fr.flags = KMEMLAB_FREE_ALL;
	} else if (r < 8) {
		fr.flags = KMEMLAB_FREE_ALL;
		fr.count = chance(t, 50) ? 1 + below(t, 4) : 0;
		hp = pick_ptr(t, 70, 4);
		fr.handles = hp.addr;
		if (!fr.count && !fr.handles)
			fr.count = 1;
	} else {
		fr.flags = r < 10 ? PICK(t, odd_flags) : 0;
		rc = below(t, 100);
		fr.count = rc < 60 ? 1 : rc < 85 ? 2 + below(t, 7) : rc < 92 ? 9 + below(t, 1016) :
			   rc < 95 ? 0 : rc < 98 ? KMEMLAB_BATCH_MAX + 1 + below(t, 100) : (u32)rnd(t);
		n = (u32)umin(fr.count, KMEMLAB_BATCH_MAX);
		if (n) {
			size_t start = f->nobj ? below(t, f->nobj) : 0;

			for (u32 i = 0; i < n; i++)
				arr[i] = i < f->nobj && chance(t, 90) ?
					 f->obj[(start + i) % f->nobj].handle : pick_handle(t, fdi, 0);
			if (n > 1 && chance(t, 5))
				arr[below(t, n)] = arr[below(t, n)];
		}
		hp = pick_ptr(t, 93, n * 4ULL);
		put_bytes(&hp, arr, n * 4ULL);
		fr.handles = hp.addr;
		/* What the module reads: the read-only page holds zeroes. */
		if (hp.mode == P_RO)
			memset(arr, 0, n * 4ULL);
	}

	if (amode == A_BAD) {
		p.must = M(EFAULT);
	} else if (fr.flags == KMEMLAB_FREE_ALL) {
		if (fr.count || fr.handles)
			p.must = M(EINVAL);
	} else if (fr.flags || !fr.count || fr.count > KMEMLAB_BATCH_MAX) {
		p.must = M(EINVAL);
	} else if (!can_read(&hp, n * 4ULL)) {
		p.must = M(EFAULT);
	} else {
		for (u32 i = 0; i < n; i++)
			unknown |= !find_obj(f, arr[i]);
		if (has_dup(arr, n))
			p.must |= M(EINVAL);
		/* On a shared file: gone, or another thread's and live; either may be. */
		if (unknown || !exact)
			state_err(&p, exact, M(ENOENT));
	}
	desc(t, "FREE flags 0x%x count %u handles %s (first %u) (arg %s)", fr.flags, fr.count,
	     fr.handles ? ptr_names[hp.mode] : "0", n ? arr[0] : 0, arg_names[amode]);
	e = call_ioctl(t, f->fd, C_FREE, KMEMLAB_IOC_FREE, &fr, sizeof(fr), amode);
	judge(t, C_FREE, e, &p);
	if (!e) {
		if (fr.flags == KMEMLAB_FREE_ALL) {
			clear_objs(f);
			return;
		}
		for (u32 i = 0; i < n; i++) {
			o = find_obj(f, arr[i]);
			if (o)
				del_obj(f, o);
		}
	} else if (e == ENOENT && !exact && n == 1 && !fr.flags && (o = find_obj(f, arr[0]))) {
		/* Another thread freed it. */
		del_obj(f, o);
	}
}

/* ---- WRITE, READ, FILL, VERIFY ---- */

static void fill_random(struct th *t, unsigned char *to, u64 len)
{
	u64 v = 0;

	for (u64 i = 0; i < len; i++) {
		if (!(i & 7))
			v = rnd(t);
		to[i] = (unsigned char)(v >> (i & 7) * 8);
	}
}

static void op_io(struct th *t, int fdi, int cmd)
{
	static const u64 guesses[] = { 1, 64, 4096, 65536 };
	struct fdstate *f = &t->fds[fdi];
	struct kmemlab_io r = { 0 }, v;
	int amode = pick_argmode(t), e;
	bool exact = fdi == OWN, data = cmd == C_READ || cmd == C_WRITE;
	struct pred p = { .on = true };
	struct uptr up = { .mode = P_NULL };
	struct mobj *o;
	u64 S, x, rest;

	r.handle = pick_handle(t, fdi, K_BYTES);
	o = find_obj(f, r.handle);
	S = o && o->size_known ? o->size : PICK(t, guesses);
	x = below(t, 100);
	r.offset = x < 45 ? 0 : x < 60 ? below(t, S) : x < 68 ? S - 1 : x < 74 ? S :
		   x < 78 ? S + 1 : x < 82 ? ~0ULL : x < 85 ? 1ULL << 63 :
		   x < 92 ? S - umin(S, 1 + below(t, 64)) : below(t, 2 * S + 1);
	rest = S > r.offset ? S - r.offset : 0;
	x = below(t, 100);
	r.len = x < 30 ? rest : x < 50 ? 1 + below(t, 64) : x < 58 ? 0 : x < 64 ? 1 :
		x < 72 ? rest + 1 : x < 76 ? ~0ULL : x < 80 ? 0 - r.offset :
		x < 88 ? below(t, rest + 1) : x < 90 ? 1ULL << 63 : umin(rest, 4096);
	if (chance(t, 3))
		r.reserved = (u32)rnd(t) | 1;
	if (data) {
		up = pick_ptr(t, 88, r.len);
		r.addr = up.addr;
		if (cmd == C_WRITE && (up.mode == P_VALID || up.mode == P_STRADDLE))
			fill_random(t, (unsigned char *)(uintptr_t)up.addr,
				    umin(umin(r.len, SCRATCH), up.wroom));
	} else {
		r.addr = rnd(t);
	}
	if (cmd == C_VERIFY && chance(t, 10))
		r.result = rnd(t);

	if (amode == A_BAD) {
		p.must = M(EFAULT);
	} else {
		if (r.reserved)
			p.must |= M(EINVAL);
		if (!exact)
			p.may |= M(ENOENT) | M(EINVAL);
		else if (!o)
			p.must |= M(ENOENT);
		else if (!(K_BYTES & KBIT(o->kind)) || r.offset + r.len < r.offset ||
			 r.offset + r.len > o->size)
			p.must |= M(EINVAL);
		if (!p.must) {
			if ((cmd == C_READ && !can_write(&up, r.len)) ||
			    (cmd == C_WRITE && !can_read(&up, r.len)) ||
			    (cmd == C_VERIFY && amode == A_RO))
				p.must |= M(EFAULT);
		}
		if (cmd == C_WRITE)
			p.may |= M(ENOMEM);
	}
	desc(t, "%s handle %u (%s, size %llu) reserved %u offset %llu len %llu addr %s0x%llx "
	     "(arg %s)", cmd_names[cmd], r.handle, o ? "modelled" : "not modelled", S,
	     r.reserved, r.offset, r.len, data ? ptr_names[up.mode] : "seed ", r.addr,
	     arg_names[amode]);
	e = call_ioctl(t, f->fd, cmd, cmd_nr[cmd], &r, sizeof(r), amode);
	if (!judge(t, cmd, e, &p) || e)
		return;

	if (cmd == C_VERIFY && amode == A_VALID && r.result != ~0ULL &&
	    (r.result < r.offset || r.result - r.offset >= r.len))
		fail(t, "VERIFY of [%llu, +%llu) found a difference at %llu, outside the range",
		     r.offset, r.len, r.result);
	if (!exact || !o || !r.len || r.len > SCRATCH || !chance(t, 30))
		return;
	if (cmd == C_WRITE && up.mode == P_VALID) {
		if (read_back(t, r.handle, r.offset, r.len, t->scratch) &&
		    memcmp(t->scratch, (void *)(uintptr_t)up.addr, r.len))
			fail(t, "what WRITE wrote does not read back");
	} else if (cmd == C_FILL) {
		v = (struct kmemlab_io){ .handle = r.handle, .offset = r.offset, .len = r.len,
					 .addr = r.addr };
		if (check_call(t, OWN, C_VERIFY, &v, sizeof(v)) && v.result != ~0ULL)
			fail(t, "VERIFY right after FILL: first difference at %llu", v.result);
		if (!read_back(t, r.handle, r.offset, r.len, t->scratch))
			return;
		for (u64 i = 0; i < r.len; i++)
			if (t->scratch[i] != kmemlab_pattern_byte(r.addr, r.offset + i)) {
				fail(t, "FILL: byte %llu reads 0x%02x, the pattern is 0x%02x",
				     r.offset + i, t->scratch[i],
				     kmemlab_pattern_byte(r.addr, r.offset + i));
				break;
			}
	}
}

/* ---- INFO and LIST ---- */

static void op_info(struct th *t, int fdi)
{
	struct fdstate *f = &t->fds[fdi];
	struct kmemlab_info in = { 0 };
	int amode = pick_argmode(t), e;
	bool exact = fdi == OWN;
	struct pred p = { .on = true };
	u32 h = pick_handle(t, fdi, 0);

	in.handle = h;
	if (chance(t, 10)) {
		/* Output fields hold garbage on input: nothing says they are read. */
		in.kind = (u32)rnd(t);
		in.size = rnd(t);
		in.nid = (s32)rnd(t);
		in.cache = (u32)rnd(t);
		in.gfp = (u32)rnd(t);
	}
	if (amode == A_BAD) {
		p.must = M(EFAULT);
	} else {
		if (!find_obj(f, h))
			state_err(&p, exact, M(ENOENT));
		else if (!exact)
			p.may |= M(ENOENT);
		if (!p.must && amode == A_RO)
			p.must |= M(EFAULT);
	}
	desc(t, "INFO handle %u (arg %s)", h, arg_names[amode]);
	e = call_ioctl(t, f->fd, C_INFO, KMEMLAB_IOC_INFO, &in, sizeof(in), amode);
	if (!judge(t, C_INFO, e, &p) || e || amode != A_VALID)
		return;
	if (in.handle != h)
		fail(t, "INFO of handle %u answers for handle %u", h, in.handle);
	check_info(t, fdi, &in, "INFO");
}

static void op_list(struct th *t, int fdi)
{
	struct fdstate *f = &t->fds[fdi];
	struct kmemlab_list l = { 0 };
	int amode = pick_argmode(t), e;
	bool exact = fdi == OWN;
	struct pred p = { .on = true };
	struct uptr up;
	u64 x = below(t, 100), n = f->nobj;
	u32 asked;

	l.count = x < 15 ? 0 : x < 25 ? 1 : x < 35 ? 2 : x < 55 ? n : x < 65 ? n + 1 :
		  x < 75 ? n + 10 : x < 85 ? 1000 : x < 92 ? BUF_BYTES / sizeof(struct kmemlab_info) :
		  x < 97 ? below(t, 1ULL << 31) : 0xffffffff;
	if (chance(t, 3))
		l.reserved = (u32)rnd(t) | 1;
	up = pick_ptr(t, 90, umin(l.count, n) * sizeof(struct kmemlab_info));
	l.infos = up.addr;
	asked = l.count;
	if (amode == A_BAD) {
		p.must = M(EFAULT);
	} else {
		if (l.reserved)
			p.must |= M(EINVAL);
		if (!p.must && exact && !can_write(&up, umin(l.count, n) * sizeof(struct kmemlab_info)))
			p.must |= M(EFAULT);
		if (!exact && !can_write(&up, (u64)l.count * sizeof(struct kmemlab_info)))
			p.may |= M(EFAULT);
		if (!p.must && amode == A_RO)
			p.must |= M(EFAULT);
	}
	desc(t, "LIST count %u reserved %u infos %s (arg %s)", l.count, l.reserved,
	     ptr_names[up.mode], arg_names[amode]);
	e = call_ioctl(t, f->fd, C_LIST, KMEMLAB_IOC_LIST, &l, sizeof(l), amode);
	if (!judge(t, C_LIST, e, &p) || e || amode != A_VALID)
		return;
	if (umin(asked, l.count) * sizeof(struct kmemlab_info) > up.wroom) {
		fail(t, "LIST wrote %llu entries where there is no room", umin(asked, l.count));
		return;
	}
	check_list(t, fdi, (const unsigned char *)(uintptr_t)up.addr, umin(asked, l.count),
		   l.count);
}

/* ---- caches ---- */

/* Cache name @n of thread @t: "fz<t>x<n>", every eighth padded with '_' to the longest allowed. */
static void name_of(struct th *t, u32 n, char *out)
{
	int len = snprintf(out, KMEMLAB_CACHE_NAME_MAX, "fz%dx%u", t->idx, n);

	if (n % 8 == 7) {
		while (len < KMEMLAB_CACHE_NAME_MAX - 1)
			out[len++] = '_';
		out[len] = 0;
	}
}

/* The header's rule: NUL-terminated, 1 to 23 of [a-z0-9_-]. */
static bool name_valid(const char *name)
{
	size_t len = strnlen(name, KMEMLAB_CACHE_NAME_MAX);

	if (!len || len == KMEMLAB_CACHE_NAME_MAX)
		return false;
	for (size_t i = 0; i < len; i++) {
		char c = name[i];

		if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '-'))
			return false;
	}
	return true;
}

static u32 new_name(struct th *t)
{
	if (t->nnames == t->capnames) {
		t->capnames = t->capnames ? 2 * t->capnames : 256;
		t->names = realloc(t->names, t->capnames);
		if (!t->names)
			abort();
	}
	t->names[t->nnames] = NAME_DEAD;
	return t->nnames++;
}

static void set_name(struct th *t, u32 n, int state)
{
	if (n < t->nnames)
		t->names[n] = state;
}

/* A checking call of @cmd that may fail with any of its documented errors; the errno. */
static int check_maybe(struct th *t, int fdi, int cmd, void *s, size_t size)
{
	struct pred p = { 0 };
	int e = call_ioctl(t, fd_of(t, fdi), cmd, cmd_nr[cmd], s, size, A_VALID);

	t->checks++;
	judge(t, cmd, e, &p);
	return e;
}

static int destroy(struct th *t, int fdi, u32 handle)
{
	struct kmemlab_cache_destroy d = { .handle = handle };

	return check_maybe(t, fdi, C_CACHE_DESTROY, &d, sizeof(d));
}

/* Keeps the caches a thread holds on a file few: destroys its oldest. */
static void retire_cache(struct th *t, int fdi)
{
	struct fdstate *f = &t->fds[fdi];
	struct mcache *c = &f->cache[0];
	int e;

	if (fdi == OWN) {
		if (objects_from(f, KMEMLAB_KIND_KMEM_CACHE, c->handle))
			maint_free_all(t, fdi);
		desc(t, "CACHE_DESTROY of the own file's oldest cache %u", c->handle);
		if (destroy(t, fdi, c->handle))
			fail(t, "destroying an empty cache of the own file failed");
		set_name(t, c->name, NAME_DEAD);
	} else {
		e = destroy(t, fdi, c->handle);
		if (e == EBUSY) {
			maint_free_all(t, fdi);
			destroy(t, fdi, c->handle);
		}
		set_name(t, c->name, NAME_MAYBE);
	}
	del_cache(f, c);
}

/* Whether CACHE_CREATE takes @flags: the known ones, one zone at most, a zone the kernel has. */
static bool cache_flags_ok(u32 flags)
{
	u32 zone = flags & (KMEMLAB_CACHE_DMA | KMEMLAB_CACHE_DMA32);

	if (flags & ~(KMEMLAB_CACHE_HWCACHE_ALIGN | KMEMLAB_CACHE_CTOR | KMEMLAB_CACHE_DMA |
		      KMEMLAB_CACHE_DMA32))
		return false;
	if (zone == KMEMLAB_CACHE_DMA)
		return g.features & KMEMLAB_FEAT_ZONE_DMA;
	if (zone == KMEMLAB_CACHE_DMA32)
		return g.features & KMEMLAB_FEAT_ZONE_DMA32;
	return !zone;
}

static void op_cache_create(struct th *t, int fdi)
{
	static const u32 zone_flags[] = { KMEMLAB_CACHE_DMA, KMEMLAB_CACHE_DMA32 };
	static const u32 sizes[] = { 8, 64, 200, 4096 };
	static const u32 aligns_ok[] = { 1, 2, 8, 64, 4096 };
	static const u32 aligns_bad[] = { 3, 6, 12, 8192, 0x80000000 };
	static const u32 flags_bad[] = { 0x10, 0x20, KMEMLAB_CACHE_DMA | KMEMLAB_CACHE_DMA32,
					 0x80000000 };
	struct fdstate *f = &t->fds[fdi];
	struct kmemlab_cache_create c;
	int amode, e;
	bool exact = fdi == OWN, ctor, garbage = false;
	struct pred p = { .on = true };
	u32 n = ~0U;
	u64 x;

	if (f->ncache >= MAX_CACHES)
		retire_cache(t, fdi);
	amode = pick_argmode(t);
	memset(&c, 0, sizeof(c));
	x = below(t, 100);
	if (x < 85 || (x < 90 && !t->nnames)) {
		n = new_name(t);
		name_of(t, n, c.name);
	} else if (x < 90) {
		n = below(t, t->nnames);
		name_of(t, n, c.name);
	} else {
		switch (below(t, 6)) {
		case 0:
			break;
		case 1:
			snprintf(c.name, sizeof(c.name), "FZ%d", t->idx);
			break;
		case 2:
			snprintf(c.name, sizeof(c.name), "fz.%d", t->idx);
			break;
		case 3:
			snprintf(c.name, sizeof(c.name), "fz %d", t->idx);
			break;
		case 4:
			memset(c.name, 'a', sizeof(c.name));
			break;
		default:
			snprintf(c.name, sizeof(c.name), "fz%d\x80", t->idx);
			break;
		}
	}
	x = below(t, 100);
	c.object_size = x < 50 ? PICK(t, sizes) : x < 75 ? 8 + below(t, 8185) : x < 80 ? 1 :
			x < 85 ? 7 : x < 89 ? CACHE_OBJ_MAX : x < 93 ? CACHE_OBJ_MAX + 1 :
			x < 97 ? 0 : 0xffffffff;
	x = below(t, 100);
	c.align = x < 70 ? 0 : x < 90 ? PICK(t, aligns_ok) : PICK(t, aligns_bad);
	x = below(t, 100);
	c.flags = x < 85 ? below(t, 4) | (chance(t, 10) ? PICK(t, zone_flags) : 0) :
		  x < 95 ? PICK(t, flags_bad) : (u32)rnd(t);
	if (chance(t, 5)) {
		c.handle = (u32)rnd(t);
		garbage = true;
	}
	ctor = c.flags & KMEMLAB_CACHE_CTOR;

	if (amode == A_BAD) {
		p.must = M(EFAULT);
	} else {
		if (!name_valid(c.name) || !cache_flags_ok(c.flags) ||
		    c.object_size < (ctor ? 8 : 1) || c.object_size > CACHE_OBJ_MAX ||
		    (c.align && (!is_pow2(c.align) || c.align > g.page))) {
			p.must |= M(EINVAL);
		} else {
			if (n < t->nnames && t->names[n] == NAME_ALIVE)
				p.must |= M(EEXIST);
			else if (n < t->nnames && t->names[n] == NAME_MAYBE)
				p.may |= M(EEXIST);
			if (exact && held_objects(f) >= g.max_objects)
				p.must |= M(ENOMEM);
			if (!p.must && amode == A_RO)
				p.must |= M(EFAULT);
		}
		p.may |= M(ENOMEM) | (garbage ? M(EINVAL) : 0);
	}
	desc(t, "CACHE_CREATE name \"%.24s\" object_size %u align %u flags 0x%x (arg %s)",
	     c.name, c.object_size, c.align, c.flags, arg_names[amode]);
	e = call_ioctl(t, f->fd, C_CACHE_CREATE, KMEMLAB_IOC_CACHE_CREATE, &c, sizeof(c), amode);
	if (!judge(t, C_CACHE_CREATE, e, &p) || e || amode != A_VALID)
		return;
	if (!c.handle)
		fail(t, "CACHE_CREATE returned handle 0");
	if (exact && in_use(f, c.handle))
		fail(t, "CACHE_CREATE returned handle %u, already in use on the file", c.handle);
	f->cache[f->ncache++] = (struct mcache){ .handle = c.handle, .name = n,
						 .size = c.object_size, .ctor = ctor };
	set_name(t, n, exact ? NAME_ALIVE : NAME_MAYBE);
	if (f->ncache > MAX_CACHES)
		retire_cache(t, fdi);
}

static void op_cache_destroy(struct th *t, int fdi)
{
	struct fdstate *f = &t->fds[fdi];
	struct kmemlab_cache_destroy d = { 0 };
	int amode = pick_argmode(t), e;
	bool exact = fdi == OWN;
	struct pred p = { .on = true };
	struct mcache *c;

	d.handle = f->ncache && chance(t, 70) ? f->cache[below(t, f->ncache)].handle :
		   pick_handle(t, fdi, 0);
	if (chance(t, 4))
		d.reserved = (u32)rnd(t) | 1;
	c = find_cache(f, d.handle);
	if (amode == A_BAD) {
		p.must = M(EFAULT);
	} else {
		if (d.reserved)
			p.must |= M(EINVAL);
		if (!exact)
			p.may |= M(ENOENT) | M(EBUSY);
		else if (!c)
			p.must |= M(ENOENT);
		else if (objects_from(f, KMEMLAB_KIND_KMEM_CACHE, c->handle))
			p.must |= M(EBUSY);
	}
	desc(t, "CACHE_DESTROY handle %u (%s) reserved %u (arg %s)", d.handle,
	     c ? "this thread's cache" : "not a cache of this thread", d.reserved,
	     arg_names[amode]);
	e = call_ioctl(t, f->fd, C_CACHE_DESTROY, KMEMLAB_IOC_CACHE_DESTROY, &d, sizeof(d),
		       amode);
	judge(t, C_CACHE_DESTROY, e, &p);
	if (c && (!e || (e == ENOENT && !exact))) {
		/* On a shared file a benchmark may hold the cache, and its name, a while longer. */
		set_name(t, c->name, exact ? NAME_DEAD : NAME_MAYBE);
		del_cache(f, c);
	}
}

/* ---- IOREMAP, MMIO, DMA_COPY ---- */

static void op_ioremap(struct th *t, int fdi)
{
	static const u32 bad_sources[] = { 0, 3, 0xffffffff };
	static const u64 bad_sizes[] = { 0, 2, 6, 4097, KMEMLAB_IOREMAP_MAX + 4, ~0ULL,
					 2ULL * KMEMLAB_IOREMAP_MAX };
	struct fdstate *f = &t->fds[fdi];
	struct kmemlab_ioremap m = { 0 };
	int amode = pick_argmode(t), e, v;
	bool exact = fdi == OWN, garbage = false;
	struct pred p = { .on = true };
	unsigned int must;
	const char *what;
	u64 x = below(t, 100), ram = 0;
	struct kmemlab_free fr;
	struct mobj o;

	if (g.nram) {
		int i = below(t, g.nram);

		ram = (g.ram[i].start + below(t, g.ram[i].end - g.ram[i].start + 1)) & ~3ULL;
		if (ram < g.ram[i].start)
			ram += 4;
	}
	if (x < 45) {
		m.source = KMEMLAB_IOREMAP_EDU;
		must = g.edu ? 0 : M(ENODEV);
		what = "edu";
	} else if (x < 52) {
		m.source = KMEMLAB_IOREMAP_EDU;
		if (chance(t, 50))
			m.phys = 0x1000;
		else
			m.size = KMEMLAB_EDU_REGS_SIZE;
		must = M(EINVAL);
		what = "edu with phys or size";
	} else if (x < 56) {
		m.source = PICK(t, bad_sources);
		m.phys = ram;
		m.size = 4;
		must = M(EINVAL);
		what = "unknown source";
	} else {
		m.source = KMEMLAB_IOREMAP_PHYS;
		v = below(t, 9);
		if (v <= 2 && !g.nram)
			v = 4;
		if (v == 3 && (!g.nram || g.ram[0].start + 4 > KMEMLAB_IOREMAP_MAX))
			v = 4;
		if (v == 8 && !(g.edu && g.edu_bar0))
			v = 6;
		switch (v) {
		case 0: case 1: case 2:
			/* Starts in System RAM: refused whatever its size (at most the maximum). */
			m.phys = ram;
			m.size = 4 * (1 + below(t, chance(t, 50) ? 16 : KMEMLAB_IOREMAP_MAX / 4));
			must = M(EACCES) | M(EPERM);
			what = "System RAM";
			break;
		case 3:
			/* From 0 into the first System RAM range. */
			m.phys = 0;
			m.size = (g.ram[0].start + 4 + 3) & ~3ULL;
			must = M(EACCES) | M(EPERM);
			what = "0 into System RAM";
			break;
		case 4:
			m.phys = PHYS_BEYOND + 4 * below(t, 16);
			m.size = 4 * (1 + below(t, 1024));
			must = M(EINVAL);
			what = "beyond the physical address space";
			break;
		case 5:
			m.phys = (ram ? ram : 0x1000) | (1 + below(t, 3));
			m.size = 4;
			must = M(EINVAL);
			what = "misaligned";
			break;
		case 6:
			m.phys = ram ? ram : 0x1000;
			m.size = PICK(t, bad_sizes);
			must = M(EINVAL);
			what = "bad size";
			break;
		case 7:
			m.phys = chance(t, 50) ? ~3ULL : ~0xfffULL;
			m.size = chance(t, 50) ? 8 : 0x2000;
			must = M(EINVAL);
			what = "overflowing";
			break;
		default:
			/* edu's BAR 0, which kmemlab's driver holds. */
			m.phys = g.edu_bar0;
			m.size = 4 * (1 + below(t, 32));
			must = M(EBUSY) | M(EPERM);
			what = "edu's BAR";
			break;
		}
	}
	if (chance(t, 5)) {
		m.handle = (u32)rnd(t);
		garbage = true;
	}
	if (m.source == KMEMLAB_IOREMAP_EDU && !must) {
		if (f->objs + 1 > (exact ? OWN_MAX_OBJS : SHARED_MAX_OBJS))
			maint_free_all(t, fdi);
	}
	if (amode == A_BAD) {
		p.must = M(EFAULT);
	} else {
		p.must = must;
		if (!must && exact && (held_objects(f) + 1 > g.max_objects ||
				       f->bytes + KMEMLAB_EDU_REGS_SIZE > g.max_bytes))
			p.must |= M(ENOMEM);
		if (!p.must && amode == A_RO)
			p.must |= M(EFAULT);
		p.may |= M(ENOMEM) | (garbage ? M(EINVAL) : 0);
	}
	desc(t, "IOREMAP source %u (%s) phys 0x%llx size 0x%llx (arg %s)", m.source, what,
	     m.phys, m.size, arg_names[amode]);
	e = call_ioctl(t, f->fd, C_IOREMAP, KMEMLAB_IOC_IOREMAP, &m, sizeof(m), amode);
	judge(t, C_IOREMAP, e, &p);
	if (e || amode != A_VALID)
		return;
	if (m.source != KMEMLAB_IOREMAP_EDU) {
		/* judge() reported it; unmap it at once, and never touch it. */
		fr = (struct kmemlab_free){ .count = 1, .handles = ptr(&m.handle) };
		check_call(t, fdi, C_FREE, &fr, sizeof(fr));
		return;
	}
	if (!m.handle)
		fail(t, "IOREMAP returned handle 0");
	if (exact && in_use(f, m.handle))
		fail(t, "IOREMAP returned handle %u, already in use on the file", m.handle);
	o = (struct mobj){ .handle = m.handle, .kind = KMEMLAB_KIND_IOREMAP,
			   .cache = KMEMLAB_IOREMAP_EDU, .node = KMEMLAB_NODE_ANY,
			   .size = KMEMLAB_EDU_REGS_SIZE, .charge = KMEMLAB_EDU_REGS_SIZE,
			   .size_known = true };
	add_obj(t, fdi, &o);
	pool_put(f->gid, m.handle);
}

static void op_mmio(struct th *t, int fdi)
{
	static const u32 widths_ok[] = { 1, 2, 4, 8 };
	static const u32 widths_bad[] = { 0, 3, 5, 16, 0xffffffff };
	static const u32 bad_ops[] = { 2, 3, 0xffffffff };
	static const u64 offs[] = { 0, 1, 2, 4, 6, 8, 0x0c, 0x10, 0x20, 0x24, 0x78, 0x7c,
				    0x7e, 0x7f, 0x80, 0x84, 0x100 };
	struct fdstate *f = &t->fds[fdi];
	struct kmemlab_mmio m = { 0 };
	int amode = pick_argmode(t), e;
	bool exact = fdi == OWN, wok, write, garbage = false;
	struct pred p = { .on = true };
	struct mobj *o;
	u64 x, max;

	m.handle = pick_handle(t, fdi, KBIT(KMEMLAB_KIND_IOREMAP));
	o = find_obj(f, m.handle);
	x = below(t, 100);
	m.op = x < 55 ? KMEMLAB_MMIO_READ : x < 95 ? KMEMLAB_MMIO_WRITE : PICK(t, bad_ops);
	m.width = chance(t, 90) ? PICK(t, widths_ok) : PICK(t, widths_bad);
	x = below(t, 100);
	m.offset = x < 80 ? PICK(t, offs) : x < 90 ? below(t, 0x100) : x < 95 ? 1ULL << 63 : ~0ULL;
	wok = m.width == 1 || m.width == 2 || m.width == 4 || m.width == 8;
	max = wok && m.width < 8 ? (1ULL << (8 * m.width)) - 1 : ~0ULL;
	write = m.op == KMEMLAB_MMIO_WRITE;
	if (write) {
		if (chance(t, 8))
			m.value = max != ~0ULL ? max + 1 + below(t, 1000) : rnd(t);
		else
			m.value = rnd(t) & max;
		/* edu computes the factorial of what is written there: keep it small. */
		if (m.width == 4 && m.offset == EDU_REG_FACT && m.value <= max)
			m.value = below(t, 13);
	} else if (chance(t, 5)) {
		m.value = rnd(t);
		garbage = m.op == KMEMLAB_MMIO_READ;
	}
	if (chance(t, 3))
		m.reserved = (u32)rnd(t) | 1;

	if (amode == A_BAD) {
		p.must = M(EFAULT);
	} else {
		if (!wok || (m.op != KMEMLAB_MMIO_READ && !write) || (write && m.value > max) ||
		    m.reserved || (wok && m.offset % m.width))
			p.must |= M(EINVAL);
		if (!exact) {
			p.may |= M(ENOENT) | M(EINVAL) | M(EACCES);
		} else if (!o) {
			p.must |= M(ENOENT);
		} else if (o->kind != KMEMLAB_KIND_IOREMAP ||
			   (wok && (m.offset > o->size || m.offset + m.width > o->size))) {
			p.must |= M(EINVAL);
		} else if (!p.must && write &&
			   !(m.offset >= 4 && m.offset + m.width <= EDU_REG_FACT + 4)) {
			p.must |= M(EACCES);
		}
		if (!exact && wok && m.offset + m.width > KMEMLAB_EDU_REGS_SIZE)
			p.must |= M(EINVAL);
		if (!p.must && amode == A_RO) {
			if (write)
				p.may |= M(EFAULT);
			else
				p.must |= M(EFAULT);
		}
		if (garbage)
			p.may |= M(EINVAL);
	}
	desc(t, "MMIO handle %u op %u width %u offset 0x%llx value 0x%llx reserved %u (arg %s)",
	     m.handle, m.op, m.width, m.offset, m.value, m.reserved, arg_names[amode]);
	e = call_ioctl(t, f->fd, C_MMIO, KMEMLAB_IOC_MMIO, &m, sizeof(m), amode);
	if (!judge(t, C_MMIO, e, &p) || e || amode != A_VALID || write)
		return;
	if (m.value > max)
		fail(t, "MMIO read of %u bytes returned 0x%llx", m.width, m.value);
	if (m.offset == 0 && m.width == 4 && (m.value & 0xff) != EDU_ID)
		fail(t, "edu's identification register reads 0x%llx", m.value);
}

/* An object edu's engine takes: an edu DMA_COHERENT buffer, or a block of an edu pool. */
static bool edu_dma_obj(const struct mobj *o)
{
	return (o->kind == KMEMLAB_KIND_DMA_COHERENT || o->kind == KMEMLAB_KIND_DMA_POOL) &&
	       o->dev == KMEMLAB_DEV_EDU;
}

static void op_dma_copy(struct th *t, int fdi)
{
	const unsigned int kinds = KBIT(KMEMLAB_KIND_DMA_COHERENT) | KBIT(KMEMLAB_KIND_DMA_POOL);
	struct fdstate *f = &t->fds[fdi];
	struct kmemlab_dma_copy c = { 0 };
	int amode = pick_argmode(t), e;
	bool exact = fdi == OWN;
	struct pred p = { .on = true };
	struct mobj *so, *dso;
	u64 ss, ds, x;

	c.src = pick_handle(t, fdi, kinds);
	c.dst = chance(t, 10) ? c.src : pick_handle(t, fdi, kinds);
	so = find_obj(f, c.src);
	dso = find_obj(f, c.dst);
	ss = so && so->size_known ? so->size : 4096;
	ds = dso && dso->size_known ? dso->size : 4096;
	x = below(t, 100);
	c.len = x < 35 ? 1 + below(t, umin(umin(ss, ds), KMEMLAB_EDU_DMA_MAX)) :
		x < 45 ? KMEMLAB_EDU_DMA_MAX : x < 55 ? 0 : x < 60 ? KMEMLAB_EDU_DMA_MAX + 1 :
		x < 70 ? umin(ss, ds) : x < 75 ? ~0ULL : 1 + below(t, 64);
	x = below(t, 100);
	c.src_offset = x < 60 ? 0 : x < 80 ? below(t, ss) : x < 90 ? ss - umin(ss, c.len) :
		       x < 95 ? ss : ~0ULL;
	x = below(t, 100);
	c.dst_offset = x < 60 ? 0 : x < 80 ? below(t, ds) : x < 90 ? ds - umin(ds, c.len) :
		       x < 95 ? ds : ~0ULL;

	if (amode == A_BAD) {
		p.must = M(EFAULT);
	} else {
		if (!c.len || c.len > KMEMLAB_EDU_DMA_MAX)
			p.must |= M(EINVAL);
		if (!exact) {
			p.may |= M(ENOENT) | M(EINVAL);
		} else if (!so || !dso) {
			p.must |= M(ENOENT);
		} else if (c.src == c.dst || !edu_dma_obj(so) || !edu_dma_obj(dso) ||
			   c.src_offset + c.len < c.src_offset ||
			   c.src_offset + c.len > ss || c.dst_offset + c.len < c.dst_offset ||
			   c.dst_offset + c.len > ds) {
			p.must |= M(EINVAL);
		}
		p.may |= M(ENODEV) | M(ETIMEDOUT);
	}
	desc(t, "DMA_COPY src %u +%llu dst %u +%llu len %llu (arg %s)", c.src, c.src_offset,
	     c.dst, c.dst_offset, c.len, arg_names[amode]);
	e = call_ioctl(t, f->fd, C_DMA_COPY, KMEMLAB_IOC_DMA_COPY, &c, sizeof(c), amode);
	if (!judge(t, C_DMA_COPY, e, &p) || e || !exact || c.len > SCRATCH)
		return;
	if (read_back(t, c.src, c.src_offset, c.len, t->scratch) &&
	    read_back(t, c.dst, c.dst_offset, c.len, t->scratch + SCRATCH) &&
	    memcmp(t->scratch, t->scratch + SCRATCH, c.len))
		fail(t, "after DMA_COPY, the destination does not hold the source's bytes");
}

/* ---- PERCPU ---- */

static void op_percpu(struct th *t, int fdi)
{
	static const u32 bad_ops[] = { 3, 4, 0xffffffff };
	struct fdstate *f = &t->fds[fdi];
	struct kmemlab_percpu pc = { 0 };
	int amode = pick_argmode(t), e;
	bool exact = fdi == OWN, inval, garbage = false, state_ok;
	struct pred p = { .on = true };
	struct uptr vp = { .mode = P_NULL };
	struct mobj *o;
	u64 x = below(t, 100), room = 0, sum, val;
	u32 asked;

	pc.handle = pick_handle(t, fdi, KBIT(KMEMLAB_KIND_PERCPU));
	o = find_obj(f, pc.handle);
	pc.op = x < 35 ? KMEMLAB_PERCPU_ADD : x < 65 ? KMEMLAB_PERCPU_ADD_ON :
		x < 95 ? KMEMLAB_PERCPU_READ : PICK(t, bad_ops);
	if (pc.op == KMEMLAB_PERCPU_ADD || pc.op == KMEMLAB_PERCPU_ADD_ON) {
		pc.value = chance(t, 50) ? 1 + below(t, 1000) : rnd(t);
		if (pc.op == KMEMLAB_PERCPU_ADD) {
			if (chance(t, 5)) {
				pc.cpu = (u32)rnd(t) | 1;
				garbage = true;
			}
		} else {
			x = below(t, 100);
			pc.cpu = x < 70 ? (u32)g.cpus[below(t, g.ncpus)] :
				 x < 80 && g.offline_possible >= 0 ? (u32)g.offline_possible :
				 x < 88 ? (u32)g.ids : x < 94 ? g.ids + below(t, 100) : (u32)rnd(t);
		}
		if (chance(t, 4))
			pc.count = 1 + below(t, 8);
		if (chance(t, 4))
			pc.values = ptr(t->buf);
	} else {
		x = below(t, 100);
		pc.count = x < 20 ? 0 : x < 30 ? 1 : x < 40 ? (u32)g.ids - 1 : x < 75 ? (u32)g.ids :
			   x < 85 ? (u32)g.ids + 3 : x < 95 ? 1u << 20 : (u32)rnd(t);
		room = umin(pc.count, g.ids) * sizeof(u64);
		vp = !pc.count && chance(t, 50) ? make_ptr(t, P_NULL, 0) : pick_ptr(t, 88, room);
		pc.values = vp.addr;
		if (chance(t, 4))
			pc.cpu = 1 + below(t, 8);
		if (chance(t, 4))
			pc.value = rnd(t) | 1;
	}
	if (chance(t, 10))
		pc.sum = rnd(t);	/* ignored on input */
	asked = pc.count;

	if (amode == A_BAD) {
		p.must = M(EFAULT);
	} else {
		if (pc.op == KMEMLAB_PERCPU_ADD || pc.op == KMEMLAB_PERCPU_ADD_ON)
			inval = pc.count || pc.values;
		else if (pc.op == KMEMLAB_PERCPU_READ)
			inval = pc.cpu || pc.value;
		else
			inval = true;
		if (inval)
			p.must |= M(EINVAL);
		state_ok = exact && o && o->kind == KMEMLAB_KIND_PERCPU;
		if (!exact)
			p.may |= M(ENOENT) | M(EINVAL);
		else if (!o)
			p.must |= M(ENOENT);
		else if (o->kind != KMEMLAB_KIND_PERCPU)
			p.must |= M(EINVAL);
		if (!inval && (state_ok || !exact)) {
			if (pc.op == KMEMLAB_PERCPU_ADD_ON) {
				if (pc.cpu >= (u32)g.ids || !g.possible[pc.cpu])
					p.must |= M(EINVAL);
				else if (!g.online[pc.cpu])
					p.must |= M(ENXIO);
			} else if (pc.op == KMEMLAB_PERCPU_READ && !can_write(&vp, room)) {
				p.must |= M(EFAULT);
			} else if (pc.op != KMEMLAB_PERCPU_ADD_ON && amode == A_RO) {
				p.must |= M(EFAULT);
			}
		}
		if (garbage)
			p.may |= M(EINVAL);
	}
	desc(t, "PERCPU handle %u op %u cpu %u count %u value 0x%llx values %s (arg %s)",
	     pc.handle, pc.op, pc.cpu, pc.count, pc.value,
	     pc.op == KMEMLAB_PERCPU_READ ? ptr_names[vp.mode] : pc.values ? "set" : "0",
	     arg_names[amode]);
	val = pc.value;
	e = call_ioctl(t, f->fd, C_PERCPU, KMEMLAB_IOC_PERCPU, &pc, sizeof(pc), amode);
	if (!judge(t, C_PERCPU, e, &p) || e)
		return;
	if (pc.op == KMEMLAB_PERCPU_ADD_ON) {
		if (exact && o && o->pcpu && pc.cpu < (u32)g.ids)
			o->pcpu[pc.cpu] += val;
		return;
	}
	if (amode != A_VALID)
		return;
	if (pc.op == KMEMLAB_PERCPU_ADD) {
		if (t->pinned && pc.cpu != (u32)t->cpu)
			fail(t, "PERCPU ADD ran on CPU %u, but the thread is pinned to CPU %d",
			     pc.cpu, t->cpu);
		if (pc.sum)
			fail(t, "PERCPU ADD returned sum %llu, not 0", pc.sum);
		if (exact && o && o->pcpu && pc.cpu < (u32)g.ids)
			o->pcpu[pc.cpu] += val;
		return;
	}
	if (pc.count != (u32)g.ids)
		fail(t, "PERCPU READ counts %u CPU ids, not %d", pc.count, g.ids);
	room = umin(asked, g.ids);
	sum = 0;
	for (u64 i = 0; i < room; i++) {
		memcpy(&val, (const void *)(uintptr_t)(vp.addr + i * sizeof(u64)), sizeof(val));
		sum += val;
		if (exact && o && o->pcpu && val != o->pcpu[i])
			fail(t, "PERCPU READ: CPU %llu holds %llu, %llu was added there", i, val,
			     o->pcpu[i]);
	}
	if (room == (u64)g.ids && sum != pc.sum)
		fail(t, "PERCPU READ: the values add up to %llu, the sum is %llu", sum, pc.sum);
	if (exact && o && o->pcpu) {
		sum = 0;
		for (int i = 0; i < g.ids; i++)
			sum += o->pcpu[i];
		if (sum != pc.sum)
			fail(t, "PERCPU READ: sum %llu, %llu was added", pc.sum, sum);
	}
}

/* ---- BENCH ---- */

static void op_bench(struct th *t, int fdi)
{
	static const u32 kinds[] = { 1, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11 };
	static const u32 bad_kinds[] = { 0, KMEMLAB_KIND_DMA_POOL + 1 };
	static const u32 bad_ops[] = { 3, 0xffffffff };
	static const u64 sizes[] = { 1, 64, 4096 };
	const u64 bad_sizes[] = { 0, KMALLOC_MAX + 1, ~0ULL };
	static const u64 bad_io_sizes[] = { 0, 2, 6, (1ULL << 20) + 4, ~0ULL };
	static const u32 bad_flags[] = { 4, 0x80000000 };
	static const u32 bad_iters[] = { 0, KMEMLAB_BENCH_ITERATIONS_MAX + 1 };
	static const u32 bad_batch[] = { 0, KMEMLAB_BATCH_MAX + 1 };
	struct fdstate *f = &t->fds[fdi];
	struct kmemlab_bench b = { 0 };
	int amode = pick_argmode(t), e;
	struct pred p = { .on = true };
	const struct mcache *c = NULL;
	bool heavy = false, basic_bad;
	u64 x = below(t, 100), threads;

	b.node = KMEMLAB_NODE_ANY;
	b.op = x < 70 ? KMEMLAB_BENCH_ALLOC_FREE : x < 82 ? KMEMLAB_BENCH_PERCPU_INC :
	       x < 94 ? KMEMLAB_BENCH_ATOMIC_INC : PICK(t, bad_ops);
	if (b.op == KMEMLAB_BENCH_ALLOC_FREE) {
		b.kind = chance(t, 97) ? PICK(t, kinds) : PICK(t, bad_kinds);
		b.gfp = pick_gfp(t, b.kind);
		switch (b.kind) {
		case KMEMLAB_KIND_KMALLOC:
		case KMEMLAB_KIND_VMALLOC:
		case KMEMLAB_KIND_DMA_COHERENT:
		case KMEMLAB_KIND_KVMALLOC:
			b.size = chance(t, 90) ? (chance(t, 50) ? PICK(t, sizes) : 1 + below(t, 65536)) :
				 PICK(t, bad_sizes);
			break;
		case KMEMLAB_KIND_IOREMAP:
			b.size = chance(t, 90) ? 4 * (1 + below(t, 1024)) : PICK(t, bad_io_sizes);
			break;
		default:
			b.size = chance(t, 95) ? 0 : 64;
			break;
		}
		if (b.kind == KMEMLAB_KIND_FREE_PAGES || b.kind == KMEMLAB_KIND_PAGES_NODE)
			b.order = chance(t, 90) ? below(t, 4) : MAX_ORDER + 1;
		else if (chance(t, 3))
			b.order = 1;
		if (chance(t, 10))
			b.node = pick_node(t);
		if (b.kind == KMEMLAB_KIND_KMEM_CACHE) {
			b.cache = f->ncache && chance(t, 85) ? f->cache[below(t, f->ncache)].handle :
				  pick_handle(t, fdi, 0);
			c = find_cache(f, b.cache);
		} else if (b.kind == KMEMLAB_KIND_DMA_POOL) {
			b.cache = f->npool && chance(t, 85) ? f->pool[below(t, f->npool)].handle :
				  pick_handle(t, fdi, 0);
		} else if (b.kind == KMEMLAB_KIND_DMA_COHERENT) {
			b.cache = chance(t, 4) ? (u32)below(t, 5) :
				  g.edu && chance(t, 50) ? KMEMLAB_DEV_EDU : KMEMLAB_DEV_FAUX;
		} else if (chance(t, 4)) {
			b.cache = 1 + below(t, 8);
		}
		heavy = b.kind == KMEMLAB_KIND_VMALLOC || b.kind == KMEMLAB_KIND_DMA_COHERENT ||
			b.kind == KMEMLAB_KIND_IOREMAP || b.kind == KMEMLAB_KIND_DMA_POOL ||
			b.order || (b.kind == KMEMLAB_KIND_KMEM_CACHE && (!c || c->size > 65536));
	} else if (chance(t, 8)) {
		/* A field the counters do not take. */
		switch (below(t, 5)) {
		case 0:
			b.kind = KMEMLAB_KIND_KMALLOC;
			break;
		case 1:
			b.gfp = KMEMLAB_GFP_ZERO;
			break;
		case 2:
			b.order = 1;
			break;
		case 3:
			b.size = 64;
			break;
		default:
			b.node = 0;
			break;
		}
	}
	b.flags = chance(t, 95) ? below(t, 4) : PICK(t, bad_flags);
	b.iterations = chance(t, 95) ? 1 + below(t, 200) : PICK(t, bad_iters);
	b.batch = chance(t, 95) ? 1 + below(t, 16) : PICK(t, bad_batch);
	b.threads = chance(t, 93) ? below(t, g.nr_cpus + 1) : g.nr_cpus + 1 + below(t, 4);
	if (heavy) {
		/* Keep the call short and its memory small. */
		if (b.iterations <= KMEMLAB_BENCH_ITERATIONS_MAX)
			b.iterations = (u32)umin(b.iterations, 50);
		if (b.batch <= KMEMLAB_BATCH_MAX)
			b.batch = (u32)umin(b.batch, 4);
		if (b.threads <= g.nr_cpus)
			b.threads = (u32)umin(b.threads, 1);
	}
	if (chance(t, 3))
		b.reserved = 1 + below(t, 9);
	if (chance(t, 3)) {
		switch (below(t, 4)) {
		case 0:
			b.cpu = 1;
			break;
		case 1:
			b.ops = 1;
			break;
		case 2:
			b.ns_min = 7;
			break;
		default:
			b.reserved2 = 1;
			break;
		}
	}
	basic_bad = b.reserved || b.cpu || b.ops || b.ns_min || b.reserved2 ||
		    (b.flags & ~(KMEMLAB_BENCH_NO_STATS | KMEMLAB_BENCH_RAW_C)) || !b.iterations ||
		    b.iterations > KMEMLAB_BENCH_ITERATIONS_MAX || !b.batch ||
		    b.batch > KMEMLAB_BATCH_MAX || b.threads > g.nr_cpus ||
		    b.op > KMEMLAB_BENCH_ATOMIC_INC;
	if (amode == A_BAD)
		p.must = M(EFAULT);
	else if (basic_bad)
		p.must = M(EINVAL);
	else
		p.on = false;
	desc(t, "BENCH op %u kind %u gfp 0x%x order %u size %llu node %d cache %u flags 0x%x "
	     "iterations %u batch %u threads %u (arg %s)", b.op, b.kind, b.gfp, b.order, b.size,
	     b.node, b.cache, b.flags, b.iterations, b.batch, b.threads, arg_names[amode]);
	e = call_ioctl(t, f->fd, C_BENCH, KMEMLAB_IOC_BENCH, &b, sizeof(b), amode);
	if (!judge(t, C_BENCH, e, &p) || e || amode != A_VALID)
		return;
	threads = b.threads ? b.threads : 1;
	if (b.ops != (u64)b.iterations * b.batch * threads)
		fail(t, "BENCH timed %llu operations, not %llu", b.ops,
		     (u64)b.iterations * b.batch * threads);
	if (b.reserved2)
		fail(t, "BENCH returned reserved2 %llu", b.reserved2);
	if (b.ns_min > b.ns_median || b.ns_median > b.ns_p99 || b.cycles_min > b.cycles_median ||
	    b.cycles_median > b.cycles_p99)
		fail(t, "BENCH: min/median/p99 out of order: ns %llu/%llu/%llu cycles %llu/%llu/%llu",
		     b.ns_min, b.ns_median, b.ns_p99, b.cycles_min, b.cycles_median, b.cycles_p99);
	if (!b.threads && t->pinned && b.cpu != (u32)t->cpu)
		fail(t, "BENCH on the calling thread ran on CPU %u, but the thread is pinned to %d",
		     b.cpu, t->cpu);
}

/* ---- VERSION and unknown commands ---- */

#define KNOWN_FEATURES (KMEMLAB_FEAT_KMALLOC | KMEMLAB_FEAT_KMEM_CACHE | KMEMLAB_FEAT_FREE_PAGES | \
			KMEMLAB_FEAT_PAGES_NODE | KMEMLAB_FEAT_VMALLOC | KMEMLAB_FEAT_DMA_COHERENT | \
			KMEMLAB_FEAT_IOREMAP | KMEMLAB_FEAT_PERCPU | KMEMLAB_FEAT_EDU | \
			KMEMLAB_FEAT_STATS | KMEMLAB_FEAT_BENCH | KMEMLAB_FEAT_LIMITS | \
			KMEMLAB_FEAT_KVMALLOC | KMEMLAB_FEAT_ZONE_DMA | KMEMLAB_FEAT_ZONE_DMA32 | \
			KMEMLAB_FEAT_MEMPOOL | KMEMLAB_FEAT_DMA_POOL)

static void op_version(struct th *t, int fdi)
{
	struct kmemlab_version v;
	int amode = pick_argmode(t), e;
	struct pred p = { .on = true };

	memset(&v, chance(t, 10) ? 0xa5 : 0, sizeof(v));
	if (amode != A_VALID)
		p.must = M(EFAULT);
	desc(t, "VERSION (arg %s)", arg_names[amode]);
	e = call_ioctl(t, fd_of(t, fdi), C_VERSION, KMEMLAB_IOC_VERSION, &v, sizeof(v), amode);
	if (!judge(t, C_VERSION, e, &p) || e)
		return;
	if (v.abi_version != KMEMLAB_ABI_VERSION || v.reserved || (v.features & ~KNOWN_FEATURES) ||
	    !v.nr_cpus || v.nr_cpus > (u32)g.ids || !v.nr_nodes)
		fail(t, "VERSION: abi %u reserved %u features 0x%llx nr_cpus %u nr_nodes %u",
		     v.abi_version, v.reserved, v.features, v.nr_cpus, v.nr_nodes);
}

/* LIMITS: the same reply every time, the one read at the start. */
static void op_limits(struct th *t, int fdi)
{
	struct kmemlab_limits l;
	int amode = pick_argmode(t), e;
	struct pred p = { .on = true };

	memset(&l, chance(t, 10) ? 0xa5 : 0, sizeof(l));
	if (amode != A_VALID)
		p.must = M(EFAULT);
	desc(t, "LIMITS (arg %s)", arg_names[amode]);
	e = call_ioctl(t, fd_of(t, fdi), C_LIMITS, KMEMLAB_IOC_LIMITS, &l, sizeof(l), amode);
	if (!judge(t, C_LIMITS, e, &p) || e)
		return;
	if (memcmp(&l, &g.lim, sizeof(l)))
		fail(t, "LIMITS: the reply differs from the one at the start (max_objects %llu "
		     "max_bytes %llu max_order %u)", (u64)l.max_objects, (u64)l.max_bytes,
		     l.max_order);
}

/* ---- MEMPOOL ---- */

static int mempool_call(struct th *t, int fd, struct kmemlab_mempool *m, int amode)
{
	return call_ioctl(t, fd, C_MEMPOOL, KMEMLAB_IOC_MEMPOOL, m, sizeof(*m), amode);
}

/*
 * On the thread's own file: a bad request, or a mempool's whole life in one
 * call (create, status, elements taken under the allocator and given back,
 * destroy refused while they live, then done), so no mempool outlives it
 * and the other commands' model needs none.
 */
static void op_mempool(struct th *t, int fdi)
{
	static const u32 bad_ops[] = { 3, 0xffffffff };
	struct fdstate *f = &t->fds[OWN];
	struct kmemlab_mempool m = { 0 }, s;
	int amode = pick_argmode(t), e;
	struct pred p = { .on = true };
	u32 handles[4], n;
	u64 x = below(t, 100);

	(void)fdi;
	if (amode != A_VALID || x < 30) {
		/* Bad: pointer, op, fields, or a handle that is no mempool. */
		m.op = x < 10 ? PICK(t, bad_ops) : below(t, 3);
		m.handle = pick_handle(t, OWN, 0);
		if (m.op == KMEMLAB_MEMPOOL_CREATE) {
			m.handle = 0;
			m.source = KMEMLAB_MEMPOOL_KMALLOC;
			m.size = chance(t, 50) ? 0 : 64;
			m.min_nr = m.size ? KMEMLAB_MEMPOOL_RESERVE_MAX + 1 : 1;
		}
		if (amode == A_BAD)
			p.must = M(EFAULT);
		else if (m.op > KMEMLAB_MEMPOOL_STATUS || m.op == KMEMLAB_MEMPOOL_CREATE)
			p.must = M(EINVAL);
		else
			p.must = M(ENOENT);
		desc(t, "MEMPOOL op %u handle %u size %u min_nr %u (arg %s)", m.op, m.handle,
		     m.size, m.min_nr, arg_names[amode]);
		e = mempool_call(t, f->fd, &m, amode);
		judge(t, C_MEMPOOL, e, &p);
		return;
	}
	m.op = KMEMLAB_MEMPOOL_CREATE;
	m.source = KMEMLAB_MEMPOOL_KMALLOC;
	m.size = 1 + below(t, 4096);
	m.min_nr = 1 + below(t, 8);
	p.may = M(ENOMEM);
	desc(t, "MEMPOOL create size %u min_nr %u", m.size, m.min_nr);
	e = mempool_call(t, f->fd, &m, A_VALID);
	if (!judge(t, C_MEMPOOL, e, &p) || e)
		return;
	s = (struct kmemlab_mempool){ .op = KMEMLAB_MEMPOOL_STATUS, .handle = m.handle };
	p = (struct pred){ .on = true };
	desc(t, "MEMPOOL status %u", m.handle);
	e = mempool_call(t, f->fd, &s, A_VALID);
	if (judge(t, C_MEMPOOL, e, &p) && !e &&
	    (s.source != KMEMLAB_MEMPOOL_KMALLOC || s.cache || s.size != m.size ||
	     s.min_nr != m.min_nr || s.curr_nr != m.min_nr || s.live))
		fail(t, "MEMPOOL status: source %u cache %u size %u min_nr %u curr_nr %u live %u",
		     s.source, s.cache, s.size, s.min_nr, s.curr_nr, s.live);
	n = 1 + below(t, 4);
	if (alloc_n(f->fd, KMEMLAB_KIND_MEMPOOL, 0, 0, KMEMLAB_NODE_ANY, m.handle,
		    KMEMLAB_GFP_NOWAIT, n, handles) == 0) {
		s = (struct kmemlab_mempool){ .op = KMEMLAB_MEMPOOL_DESTROY, .handle = m.handle };
		p = (struct pred){ .on = true, .must = M(EBUSY) };
		desc(t, "MEMPOOL destroy %u with %u elements", m.handle, n);
		judge(t, C_MEMPOOL, mempool_call(t, f->fd, &s, A_VALID), &p);
		if (free_handles(f->fd, n, handles))
			fail(t, "freeing %u mempool elements failed", n);
	}
	s = (struct kmemlab_mempool){ .op = KMEMLAB_MEMPOOL_DESTROY, .handle = m.handle };
	p = (struct pred){ .on = true };
	desc(t, "MEMPOOL destroy %u", m.handle);
	judge(t, C_MEMPOOL, mempool_call(t, f->fd, &s, A_VALID), &p);
}

/* ---- DMA_POOL ---- */

static int dma_pool_call(struct th *t, int fd, struct kmemlab_dma_pool *d, int amode)
{
	return call_ioctl(t, fd, C_DMA_POOL, KMEMLAB_IOC_DMA_POOL, d, sizeof(*d), amode);
}

/*
 * Whether CREATE takes @d: a name as for caches, with zeroes after its NUL;
 * a device; a size up to the limit; an alignment and a boundary as the
 * header says; no field that must be 0 set.
 */
static bool pool_create_ok(const struct kmemlab_dma_pool *d)
{
	if (!name_valid(d->name))
		return false;
	for (size_t i = strnlen(d->name, sizeof(d->name)); i < sizeof(d->name); i++)
		if (d->name[i])
			return false;
	if (d->device != KMEMLAB_DEV_FAUX && d->device != KMEMLAB_DEV_EDU)
		return false;
	if (!d->size || d->size > g.lim.dma_pool_block_max)
		return false;
	if (d->align && (!is_pow2(d->align) || d->align > g.page))
		return false;
	/* A boundary only for blocks within a page. */
	if (d->boundary && (!is_pow2(d->boundary) || d->boundary < pool_block(d->size, d->align) ||
			    pool_block(d->size, d->align) > g.page))
		return false;
	return !d->handle && !d->live && !d->reserved;
}

static int destroy_pool(struct th *t, int fdi, u32 handle)
{
	struct kmemlab_dma_pool d = { .op = KMEMLAB_DMA_POOL_DESTROY, .handle = handle };

	return check_maybe(t, fdi, C_DMA_POOL, &d, sizeof(d));
}

/* Forgets pool @pl, gone from file @fdi, and the blocks the model still had of it. */
static void forget_pool(struct fdstate *f, struct mpool *pl)
{
	for (size_t i = f->nobj; i > 0; i--) {
		struct mobj *o = &f->obj[i - 1];

		if (o->kind == KMEMLAB_KIND_DMA_POOL && o->cache == pl->handle)
			del_obj(f, o);
	}
	del_pool(f, pl);
}

/* Keeps the pools a thread holds on a file few: destroys its oldest. */
static void retire_pool(struct th *t, int fdi)
{
	struct fdstate *f = &t->fds[fdi];
	struct mpool *pl = &f->pool[0];
	int e;

	if (objects_from(f, KMEMLAB_KIND_DMA_POOL, pl->handle))
		maint_free_all(t, fdi);
	desc(t, "DMA_POOL destroy of the %s file's oldest pool %u", fd_name(fdi), pl->handle);
	e = destroy_pool(t, fdi, pl->handle);
	if (e == EBUSY && fdi != OWN) {
		/* Another thread took a block of it (its handle, picked at random). */
		maint_free_all(t, fdi);
		e = destroy_pool(t, fdi, pl->handle);
	}
	if (e && fdi == OWN)
		fail(t, "destroying an empty pool of the own file failed");
	forget_pool(f, pl);
}

/* CREATE's request: names, devices, sizes, alignments and boundaries, good and bad. */
static void pool_create_req(struct th *t, struct kmemlab_dma_pool *d)
{
	static const u32 sizes[] = { 1, 8, 16, 48, 64, 100, 512, 1000, 2048, 4096 };
	static const u32 aligns[] = { 0, 0, 0, 1, 8, 64, 256, 4096 };
	static const u32 aligns_bad[] = { 3, 48, 8192, 0x80000000 };
	static const u32 bounds_bad[] = { 3, 96, 160, 0xfffffff0 };
	u64 x, eff, b;

	d->op = KMEMLAB_DMA_POOL_CREATE;
	switch (chance(t, 90) ? 0 : 1 + below(t, 5)) {
	case 0:
		snprintf(d->name, sizeof(d->name), "fz%dp%u", t->idx, (u32)below(t, 100));
		break;
	case 1:
		break;
	case 2:
		snprintf(d->name, sizeof(d->name), "FZ%dp", t->idx);
		break;
	case 3:
		snprintf(d->name, sizeof(d->name), "fz.%d", t->idx);
		break;
	case 4:
		memset(d->name, 'p', sizeof(d->name));
		break;
	default:
		/* A byte after the NUL. */
		snprintf(d->name, sizeof(d->name), "fz%d", t->idx);
		d->name[sizeof(d->name) - 1] = 'x';
		break;
	}
	d->device = chance(t, 4) ? (u32)below(t, 5) :
		    g.edu && chance(t, 40) ? KMEMLAB_DEV_EDU : KMEMLAB_DEV_FAUX;
	x = below(t, 100);
	d->size = x < 60 ? PICK(t, sizes) : x < 85 ? 1 + below(t, 2048) : x < 88 ? 0 :
		  x < 91 ? g.lim.dma_pool_block_max + 1 : x < 93 ? g.lim.dma_pool_block_max :
		  x < 97 ? 4097 + below(t, 61440) : (u32)rnd(t);
	/* edu's 28-bit DMA mask takes memory from the small low zones: small blocks. */
	if (d->device == KMEMLAB_DEV_EDU && d->size > 8192 && d->size <= g.lim.dma_pool_block_max)
		d->size = 1 + below(t, 8192);
	d->align = chance(t, 85) ? PICK(t, aligns) : PICK(t, aligns_bad);
	eff = pool_block(d->size, d->align);
	x = below(t, 100);
	if (x < 55) {
		d->boundary = 0;
	} else if (x < 85) {
		/* A power of two the block fits in, or 2 or 4 times that. */
		for (b = 16; b < eff; b <<= 1)
			;
		b <<= below(t, 3);
		d->boundary = b <= 0x80000000ULL ? (u32)b : 0;
	} else if (x < 93 && eff > 16) {
		/* The largest power of two below the block size. */
		for (b = 16; 2 * b < eff; b <<= 1)
			;
		d->boundary = (u32)b;
	} else {
		d->boundary = PICK(t, bounds_bad);
	}
	if (chance(t, 5)) {
		switch (below(t, 3)) {
		case 0:
			d->handle = (u32)rnd(t) | 1;
			break;
		case 1:
			d->live = 1 + below(t, 9);
			break;
		default:
			d->reserved = 1 + below(t, 9);
			break;
		}
	}
}

/*
 * DMA pools live across calls, like caches: CREATE (good and bad requests),
 * STATUS (checked against the model, the blocks the file holds included)
 * and DESTROY (refused while the file holds blocks). ALLOC takes blocks
 * from them, and the files are closed with pools and blocks live.
 */
static void op_dma_pool(struct th *t, int fdi)
{
	static const u32 bad_ops[] = { 3, 0xffffffff };
	struct fdstate *f = &t->fds[fdi];
	struct kmemlab_dma_pool d = { 0 }, asked;
	int amode = pick_argmode(t), e;
	bool exact = fdi == OWN, garbage = false;
	struct pred p = { .on = true };
	struct mpool *pl;
	u64 x = below(t, 100);
	u32 live;

	if (x < 45) {
		if (f->npool >= MAX_POOLS)
			retire_pool(t, fdi);
		pool_create_req(t, &d);
		if (amode == A_BAD) {
			p.must = M(EFAULT);
		} else if (!pool_create_ok(&d)) {
			p.must = M(EINVAL);
		} else {
			if (d.device == KMEMLAB_DEV_EDU && !g.edu)
				p.must |= M(ENODEV);
			else if (exact && held_objects(f) >= g.max_objects)
				p.must |= M(ENOMEM);
			if (!p.must && amode == A_RO)
				p.must |= M(EFAULT);
			p.may |= M(ENOMEM);
		}
		desc(t, "DMA_POOL create name \"%.24s\" device %u size %u align %u boundary %u "
		     "handle %u live %u reserved %u (arg %s)", d.name, d.device, d.size, d.align,
		     d.boundary, d.handle, d.live, d.reserved, arg_names[amode]);
		asked = d;
		e = dma_pool_call(t, f->fd, &d, amode);
		if (!judge(t, C_DMA_POOL, e, &p) || e || amode != A_VALID)
			return;
		if (!d.handle)
			fail(t, "DMA_POOL create returned handle 0");
		if (exact && in_use(f, d.handle))
			fail(t, "DMA_POOL create returned handle %u, already in use on the file",
			     d.handle);
		pl = &f->pool[f->npool++];
		*pl = (struct mpool){
			.handle = d.handle, .device = asked.device, .size = asked.size,
			.align = asked.align, .boundary = asked.boundary,
		};
		memcpy(pl->name, asked.name, sizeof(pl->name));
		return;
	}

	d.op = x < 70 ? KMEMLAB_DMA_POOL_STATUS : x < 95 ? KMEMLAB_DMA_POOL_DESTROY :
	       PICK(t, bad_ops);
	d.handle = f->npool && chance(t, 75) ? f->pool[below(t, f->npool)].handle :
		   pick_handle(t, fdi, 0);
	if (chance(t, 5)) {
		/* A field that is CREATE's, or STATUS's reply, or reserved. */
		garbage = true;
		switch (below(t, 7)) {
		case 0:
			strcpy(d.name, "fz");
			break;
		case 1:
			d.device = KMEMLAB_DEV_FAUX;
			break;
		case 2:
			d.size = 64;
			break;
		case 3:
			d.align = 8;
			break;
		case 4:
			d.boundary = 64;
			break;
		case 5:
			d.live = 1;
			break;
		default:
			d.reserved = 1;
			break;
		}
	}
	/* Whether a refused DESTROY reads its reply back is not said: no read-only one. */
	if (d.op == KMEMLAB_DMA_POOL_DESTROY && amode == A_RO)
		amode = A_VALID;
	pl = find_pool(f, d.handle);
	live = pl ? objects_from(f, KMEMLAB_KIND_DMA_POOL, pl->handle) : 0;
	if (amode == A_BAD) {
		p.must = M(EFAULT);
	} else if (d.op > KMEMLAB_DMA_POOL_STATUS) {
		p.must = M(EINVAL);
	} else {
		if (garbage)
			p.must |= M(EINVAL);
		if (!exact)
			p.may |= M(ENOENT) | M(EBUSY);
		else if (!pl)
			p.must |= M(ENOENT);
		else if (d.op == KMEMLAB_DMA_POOL_DESTROY && live)
			p.must |= M(EBUSY);
		if (!p.must && amode == A_RO)
			p.must |= M(EFAULT);
	}
	desc(t, "DMA_POOL op %u handle %u (%s, %u blocks) name \"%.24s\" device %u size %u "
	     "align %u boundary %u live %u reserved %u (arg %s)", d.op, d.handle,
	     pl ? "this thread's pool" : "not a pool of this thread", live, d.name, d.device,
	     d.size, d.align, d.boundary, d.live, d.reserved, arg_names[amode]);
	e = dma_pool_call(t, f->fd, &d, amode);
	if (!judge(t, C_DMA_POOL, e, &p) || !pl)
		return;
	if ((d.op == KMEMLAB_DMA_POOL_DESTROY && !e) || (e == ENOENT && !exact)) {
		/* On a shared file, another thread destroyed it, or freed its blocks first. */
		forget_pool(f, pl);
		return;
	}
	if (d.op != KMEMLAB_DMA_POOL_STATUS || e || amode != A_VALID)
		return;
	if (strncmp(d.name, pl->name, sizeof(d.name)) || d.handle != pl->handle ||
	    d.device != pl->device || d.size != pl->size || d.align != pl->align ||
	    d.boundary != pl->boundary || d.reserved || (exact && d.live != live))
		fail(t, "DMA_POOL status of %u: name \"%.24s\" device %u size %u align %u "
		     "boundary %u live %u reserved %u; made as \"%.24s\" device %u size %u "
		     "align %u boundary %u, %u blocks held", d.handle, d.name, d.device, d.size,
		     d.align, d.boundary, d.live, d.reserved, pl->name, pl->device, pl->size,
		     pl->align, pl->boundary, live);
}

static bool known_cmd(unsigned long nr)
{
	for (int i = 0; i < C_UNKNOWN; i++)
		if (cmd_nr[i] == nr)
			return true;
	return false;
}

static void op_unknown(struct th *t, int fdi)
{
	static const unsigned int sizes[] = { 0, 8, 16, 24, 32, 40, 64, 120, 128, 256 };
	static const int deltas[] = { -8, -4, 4, 8 };
	int amode = chance(t, 90) ? A_VALID : A_BAD, e;
	struct pred p = { .on = true, .must = M(ENOTTY) };
	unsigned long nr, base;

	do {
		base = cmd_nr[below(t, C_UNKNOWN)];
		switch (below(t, 6)) {
		case 0:
			nr = _IOC(below(t, 4), KMEMLAB_IOC_MAGIC, below(t, 256), PICK(t, sizes));
			break;
		case 1:
			nr = _IOC(_IOC_DIR(base), _IOC_TYPE(base), _IOC_NR(base),
				  _IOC_SIZE(base) + PICK(t, deltas));
			break;
		case 2:
			nr = _IOC(_IOC_DIR(base) ^ (1 + below(t, 3)), _IOC_TYPE(base), _IOC_NR(base),
				  _IOC_SIZE(base));
			break;
		case 3:
			nr = _IO(KMEMLAB_IOC_MAGIC, below(t, 256));
			break;
		case 4:
			nr = _IOC(_IOC_DIR(base), chance(t, 50) ? 0xBA : 0xBC, _IOC_NR(base),
				  _IOC_SIZE(base));
			break;
		default:
			nr = _IOC(_IOC_DIR(base), KMEMLAB_IOC_MAGIC, 0x1f + below(t, 0xe1),
				  _IOC_SIZE(base));
			break;
		}
	} while (known_cmd(nr));
	memset(t->scratch, 0, 256);
	desc(t, "ioctl 0x%lx (dir %lu type 0x%lx nr 0x%lx size %lu) (arg %s)", nr,
	     (unsigned long)_IOC_DIR(nr), (unsigned long)_IOC_TYPE(nr),
	     (unsigned long)_IOC_NR(nr), (unsigned long)_IOC_SIZE(nr), arg_names[amode]);
	e = call_ioctl(t, fd_of(t, fdi), C_UNKNOWN, nr, t->scratch, 256, amode);
	judge(t, C_UNKNOWN, e, &p);
}

/* ---- threads ---- */

static int pick_cmd(struct th *t)
{
	unsigned int total = 0, r;

	for (int i = 0; i < NCMD; i++)
		total += cmd_weight[i];
	r = below(t, total);
	for (int i = 0; i < NCMD; i++) {
		if (r < cmd_weight[i])
			return i;
		r -= cmd_weight[i];
	}
	return C_VERSION;
}

static void fuzz_one(struct th *t)
{
	int fdi = chance(t, 50) ? OWN : (int)below(t, NSHARED), cmd = pick_cmd(t);

	t->fdi = fdi;
	switch (cmd) {
	case C_VERSION:
		op_version(t, fdi);
		break;
	case C_LIMITS:
		op_limits(t, fdi);
		break;
	case C_MEMPOOL:
		op_mempool(t, fdi);
		break;
	case C_DMA_POOL:
		op_dma_pool(t, fdi);
		break;
	case C_ALLOC:
		op_alloc(t, fdi);
		break;
	case C_FREE:
		op_free(t, fdi);
		break;
	case C_WRITE:
	case C_READ:
	case C_FILL:
	case C_VERIFY:
		op_io(t, fdi, cmd);
		break;
	case C_INFO:
		op_info(t, fdi);
		break;
	case C_LIST:
		op_list(t, fdi);
		break;
	case C_CACHE_CREATE:
		op_cache_create(t, fdi);
		break;
	case C_CACHE_DESTROY:
		op_cache_destroy(t, fdi);
		break;
	case C_IOREMAP:
		op_ioremap(t, fdi);
		break;
	case C_MMIO:
		op_mmio(t, fdi);
		break;
	case C_DMA_COPY:
		op_dma_copy(t, fdi);
		break;
	case C_PERCPU:
		op_percpu(t, fdi);
		break;
	case C_BENCH:
		op_bench(t, fdi);
		break;
	default:
		op_unknown(t, fdi);
		break;
	}
	t->made++;
}

static void *fuzz_thread(void *arg)
{
	struct th *t = arg;

	t->pinned = !pin_self(t->cpu);
	t->fdi = OWN;
	t->fds[OWN].fd = open(KMEMLAB_DEVICE, O_RDWR | O_CLOEXEC);
	if (t->fds[OWN].fd < 0) {
		desc(t, "open(%s)", KMEMLAB_DEVICE);
		fail(t, "cannot open the thread's own file: %s", strerror(errno));
		return NULL;
	}
	for (u64 k = 0; k < t->ncalls; k++) {
		t->call = k;
		seed_call(t, k);
		fuzz_one(t);
		if (k % QUOTA_EVERY == QUOTA_EVERY - 1) {
			t->fdi = OWN;
			quota_check(t);
		}
	}
	t->call = t->ncalls;
	t->fdi = OWN;
	quota_check(t);
	return NULL;
}

/* ---- the machine ---- */

/* Sets @map[i] for each i of a "0-3,5" style list below @max; how many. */
static int parse_list(const char *s, unsigned char *map, int max)
{
	int n = 0;

	while (*s) {
		char *end;
		long a = strtol(s, &end, 10), b = a;

		if (end == s)
			break;
		if (*end == '-')
			b = strtol(end + 1, &end, 10);
		for (long i = a; i <= b && i < max; i++)
			if (i >= 0 && !map[i]) {
				map[i] = 1;
				n++;
			}
		s = *end == ',' ? end + 1 : end;
		if (*end != ',')
			break;
	}
	return n;
}

static u64 env_u64(const char *name, u64 def)
{
	const char *v = getenv(name);
	char *end;
	u64 x;

	if (!v || !*v)
		return def;
	errno = 0;
	x = strtoull(v, &end, 0);
	if (errno || *end) {
		printf("# %s=%s is not a number: using %llu\n", name, v, def);
		return def;
	}
	return x;
}

static void find_ram(void)
{
	char line[256];
	FILE *f = fopen("/proc/iomem", "r");

	if (!f)
		return;
	while (g.nram < (int)(sizeof(g.ram) / sizeof(g.ram[0])) && fgets(line, sizeof(line), f)) {
		unsigned long long start, end;
		int name = 0;

		if (sscanf(line, " %llx-%llx : %n", &start, &end, &name) == 2 && name &&
		    !strncmp(line + name, "System RAM", 10) && end > start) {
			g.ram[g.nram].start = start;
			g.ram[g.nram].end = end;
			g.nram++;
		}
	}
	fclose(f);
}

#define STATS_JSON "/sys/kernel/debug/kmemlab/stats.json"

/* The live objects of each kind (1 to KMEMLAB_NR_KINDS) in stats.json; 0 or -1. */
static int stats_live(long long live[KMEMLAB_NR_KINDS + 1])
{
	char *s = read_file(STATS_JSON), *end, *at, key[64];

	if (!s)
		return -1;
	end = strstr(s, "\"percpu\":");
	if (end)
		*end = 0;
	for (int k = 1; k <= KMEMLAB_NR_KINDS; k++) {
		snprintf(key, sizeof(key), "\"kind\": \"%s\"", kind_name(k));
		at = strstr(s, key);
		at = at ? strstr(at, "\"live\":") : NULL;
		if (!at) {
			free(s);
			return -1;
		}
		live[k] = strtoll(at + strlen("\"live\":"), NULL, 10);
	}
	free(s);
	return 0;
}

/* Lines of /proc/vmallocinfo that are kmemlab's, or -1. */
static long vmalloc_lines(void)
{
	char *s = read_file("/proc/vmallocinfo");
	long n = 0;

	if (!s)
		return -1;
	for (char *at = strstr(s, "[kmemlab]"); at; at = strstr(at + 1, "[kmemlab]"))
		n++;
	free(s);
	return n;
}

/*
 * Lines of @path that name a kmemlab-fz* cache or pool (their names in
 * @names): /proc/slabinfo or a DMA pools file; -1 when it cannot be read.
 */
static int fz_lines(const char *path, char *names, size_t len)
{
	char *s = read_file(path);
	int n = 0;
	size_t used = 0;

	names[0] = 0;
	if (!s)
		return -1;
	for (char *line = s; line && *line; line = strchr(line, '\n'), line = line ? line + 1 : NULL) {
		if (strncmp(line, "kmemlab-fz", 10))
			continue;
		n++;
		if (used + 40 < len)
			used += snprintf(names + used, len - used, "%s%.*s", used ? " " : "",
					 (int)strcspn(line, " \n"), line);
	}
	free(s);
	return n;
}

/* kmemlab-fz* pools in the DMA pools file @path: none when the device has no pool. */
static int fz_pools(const char *path, char *names, size_t len)
{
	int n = fz_lines(path, names, len);

	return n < 0 && errno == ENOENT ? 0 : n;
}

static void print_hist(u64 hist[NCMD][NERR], u64 *made)
{
	char eb[64], line[1024];
	u64 all[NERR] = { 0 };

	printf("# %-14s %9s  results\n", "command", "calls");
	for (int c = 0; c < NCMD; c++) {
		u64 total = 0;
		size_t n = 0;

		for (int e = 0; e < NERR; e++) {
			total += hist[c][e];
			all[e] += hist[c][e];
		}
		if (!total)
			continue;
		line[0] = 0;
		for (int e = 0; e < NERR; e++)
			if (hist[c][e] && n < sizeof(line))
				n += snprintf(line + n, sizeof(line) - n, "%s%s %llu", n ? ", " : "",
					      errname(e, eb, sizeof(eb)), hist[c][e]);
		printf("# %-14s %9llu  %s\n", cmd_names[c], total, line);
	}
	line[0] = 0;
	for (int e = 0, n = 0; e < NERR; e++)
		if (all[e] && n < (int)sizeof(line))
			n += snprintf(line + n, sizeof(line) - n, "%s%s %llu", n ? ", " : "",
				      errname(e, eb, sizeof(eb)), all[e]);
	printf("# %-14s %9llu  %s\n", "all", *made, line);
}

TEST(fuzz)
{
	static u64 hist[NCMD][NERR];
	long long live0[KMEMLAB_NR_KINDS + 1], live[KMEMLAB_NR_KINDS + 1];
	long vm0, vm;
	int stats0, online_list[CPU_SETSIZE];
	char buf[256], names[512];
	struct kmemlab_version v = { 0 };
	struct timespec t0, t1;
	struct th *ths;
	u64 made = 0, checks = 0;
	void *hole;
	size_t rsize;

	setvbuf(stdout, NULL, _IOLBF, 0);
	g.seed = env_u64("KMEMLAB_FUZZ_SEED", DEF_SEED);
	g.calls = env_u64("KMEMLAB_FUZZ_CALLS", DEF_CALLS);
	g.page = sysconf(_SC_PAGESIZE);
	g.ncpus = online_cpus(online_list);
	ASSERT_LT(0, g.ncpus) TH_LOG("no online CPU found under %s", CPU_DIR);
	memcpy(g.cpus, online_list, sizeof(int) * g.ncpus);
	g.nthreads = (int)env_u64("KMEMLAB_FUZZ_THREADS", 2ULL * g.ncpus);
	if (g.nthreads < 1)
		g.nthreads = 1;
	if (g.nthreads > 256)
		g.nthreads = 256;

	/* Baselines, before any file is open. */
	vm0 = vmalloc_lines();
	stats0 = stats_live(live0);

	g.shared[0] = open_dev(_metadata);
	if (g.shared[0] < 0)
		return;
	g.shared[1] = open(KMEMLAB_DEVICE, O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, g.shared[1]) TH_LOG("open %s: %s", KMEMLAB_DEVICE, strerror(errno));
	ASSERT_EQ(0, ioctl(g.shared[0], KMEMLAB_IOC_VERSION, &v)) TH_LOG("VERSION: %s", strerror(errno));
	ASSERT_EQ((__u32)KMEMLAB_ABI_VERSION, v.abi_version);
	g.features = v.features;
	g.nr_cpus = v.nr_cpus;
	g.edu = v.features & KMEMLAB_FEAT_EDU;

	g.ids = possible_cpu_ids();
	g.npossible = nr_possible_cpus();
	ASSERT_LT(0, g.ids);
	if (g.ids > CPU_SETSIZE)
		g.ids = CPU_SETSIZE;
	ASSERT_EQ(0, read_line(CPU_DIR "/possible", buf, sizeof(buf)));
	parse_list(buf, g.possible, CPU_SETSIZE);
	g.offline_possible = -1;
	for (int i = 0; i < g.ncpus; i++)
		g.online[g.cpus[i]] = 1;
	for (int i = 0; i < g.ids; i++)
		if (g.possible[i] && !g.online[i] && g.offline_possible < 0)
			g.offline_possible = i;
	{
		unsigned char nodes[64] = { 0 };

		if (read_line("/sys/devices/system/node/online", buf, sizeof(buf)))
			strcpy(buf, "0");
		parse_list(buf, nodes, 64);
		for (int i = 0; i < 64; i++)
			g.nodes |= (u64)nodes[i] << i;
	}
	ASSERT_TRUE(g.features & KMEMLAB_FEAT_LIMITS) TH_LOG("the module has no KMEMLAB_IOC_LIMITS");
	ASSERT_EQ(0, ioctl(g.shared[0], KMEMLAB_IOC_LIMITS, &g.lim))
		TH_LOG("LIMITS: %s", strerror(errno));
	ASSERT_EQ(g.page, g.lim.page_size);
	g.max_objects = g.lim.max_objects;
	g.max_bytes = g.lim.max_bytes;
	find_ram();
	if (g.edu) {
		struct edu_pci edu;

		if (find_edu(&edu)) {
			g.edu_bar0 = edu.bar0;
			edu_pools_path(&edu, g.edu_pools, sizeof(g.edu_pools));
		}
	}

	printf("# seed %llu\n", g.seed);
	printf("# reproduce with KMEMLAB_FUZZ_SEED=%llu (KMEMLAB_FUZZ_CALLS=%llu "
	       "KMEMLAB_FUZZ_THREADS=%d)\n", g.seed, g.calls, g.nthreads);
	printf("# %llu calls, %d threads on %d online CPUs (%d CPU ids), nodes 0x%llx, "
	       "features 0x%llx%s, quota %llu objects / %llu bytes, max order %u, kmalloc max %llu, "
	       "%d System RAM ranges%s\n",
	       g.calls, g.nthreads, g.ncpus, g.ids, g.nodes, g.features,
	       g.edu ? " (edu bound)" : " (no edu)", g.max_objects, g.max_bytes, g.lim.max_order,
	       g.lim.kmalloc_max, g.nram,
	       g.edu_bar0 ? ", edu BAR 0 found" : "");

	ths = calloc(g.nthreads, sizeof(*ths));
	ASSERT_NE(NULL, ths);
	rsize = BUF_BYTES + 7 * g.page;
	for (int i = 0; i < g.nthreads; i++) {
		struct th *t = &ths[i];
		unsigned char *r;

		t->idx = i;
		t->cpu = g.cpus[i % g.ncpus];
		t->ncalls = g.calls / g.nthreads + ((u64)i < g.calls % g.nthreads);
		for (int f = 0; f < NFD; f++) {
			t->fds[f].fd = f < NSHARED ? g.shared[f] : -1;
			t->fds[f].gid = f < NSHARED ? f : NSHARED + i;
		}
		r = mmap(NULL, rsize, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		ASSERT_NE(MAP_FAILED, r);
		/* buf | guard | ro_data | guard | straddle page | guard | ro_arg | guard */
		t->region = r;
		t->buf = r;
		t->ro_data = r + BUF_BYTES + g.page;
		t->strad_end = r + BUF_BYTES + 4 * g.page;
		t->ro_arg = r + BUF_BYTES + 5 * g.page;
		ASSERT_EQ(0, mprotect(r + BUF_BYTES, g.page, PROT_NONE));
		ASSERT_EQ(0, mprotect(t->ro_data, g.page, PROT_READ));
		ASSERT_EQ(0, mprotect(r + BUF_BYTES + 2 * g.page, g.page, PROT_NONE));
		ASSERT_EQ(0, mprotect(t->strad_end, g.page, PROT_NONE));
		ASSERT_EQ(0, mprotect(t->ro_arg, g.page, PROT_READ));
		ASSERT_EQ(0, mprotect(r + BUF_BYTES + 6 * g.page, g.page, PROT_NONE));
	}
	/* An unmapped page between two PROT_NONE ones, so nothing is mapped there later. */
	hole = mmap(NULL, 3 * g.page, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, hole);
	ASSERT_EQ(0, munmap((char *)hole + g.page, g.page));
	g.hole = ptr((char *)hole + g.page);

	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (int i = 0; i < g.nthreads; i++) {
		ASSERT_EQ(0, pthread_create(&ths[i].tid, NULL, fuzz_thread, &ths[i]));
	}
	for (int i = 0; i < g.nthreads; i++) {
		pthread_join(ths[i].tid, NULL);
	}
	clock_gettime(CLOCK_MONOTONIC, &t1);

	for (int i = 0; i < g.nthreads; i++) {
		struct th *t = &ths[i];

		if (t->fds[OWN].fd >= 0)
			close(t->fds[OWN].fd);
		for (int c = 0; c < NCMD; c++)
			for (int e = 0; e < NERR; e++)
				hist[c][e] += t->hist[c][e];
		made += t->made;
		checks += t->checks;
		if (!t->pinned)
			printf("# thread %d could not be pinned to CPU %d\n", i, t->cpu);
		for (int f = 0; f < NFD; f++) {
			clear_objs(&t->fds[f]);
			free(t->fds[f].obj);
		}
		free(t->names);
		munmap(t->region, rsize);
	}
	close(g.shared[0]);
	close(g.shared[1]);
	munmap(hole, g.page);
	munmap((char *)hole + 2 * g.page, g.page);

	printf("# %llu fuzzed calls and %llu checking calls in %.1f s, seed %llu\n", made, checks,
	       (t1.tv_sec - t0.tv_sec) + (t1.tv_nsec - t0.tv_nsec) / 1e9, g.seed);
	made += checks;
	print_hist(hist, &made);
	printf("# failures: %d\n", g.failures);

	/* Every file is closed: nothing of the run is left. */
	if (stats0) {
		printf("# %s not readable: live objects not checked\n", STATS_JSON);
	} else if (stats_live(live)) {
		EXPECT_EQ(0, stats_live(live)) TH_LOG("%s no longer readable", STATS_JSON);
	} else {
		for (int k = 1; k <= KMEMLAB_NR_KINDS; k++) {
			EXPECT_EQ(live0[k], live[k]) TH_LOG("%s: %lld objects live after every file was closed (%lld before the run)",
							    kind_name(k), live[k], live0[k]);
		}
	}
	vm = vmalloc_lines();
	if (vm0 < 0) {
		printf("# /proc/vmallocinfo not readable: not checked\n");
	} else {
		EXPECT_EQ(vm0, vm) TH_LOG("kmemlab's areas in /proc/vmallocinfo: %ld before the run, %ld after",
					  vm0, vm);
	}
	if (fz_lines("/proc/slabinfo", names, sizeof(names)) < 0) {
		printf("# /proc/slabinfo not readable: caches not checked\n");
	} else {
		EXPECT_EQ(0, fz_lines("/proc/slabinfo", names, sizeof(names))) TH_LOG("caches left in /proc/slabinfo: %s", names);
	}
	EXPECT_EQ(0, fz_pools(FAUX_POOLS, names, sizeof(names))) TH_LOG("DMA pools left in %s: %s",
									   FAUX_POOLS, names);
	if (g.edu_pools[0]) {
		EXPECT_EQ(0, fz_pools(g.edu_pools, names, sizeof(names)))
			TH_LOG("DMA pools left in %s: %s", g.edu_pools, names);
	}
	EXPECT_EQ(0, g.failures) TH_LOG("%d failures: reproduce with KMEMLAB_FUZZ_SEED=%llu KMEMLAB_FUZZ_CALLS=%llu KMEMLAB_FUZZ_THREADS=%d",
					g.failures, g.seed, g.calls, g.nthreads);
	free(ths);
}

/*
 * The harness's own time limit: make check's short pass fits in the
 * settings file's 300 s; a longer run (KMEMLAB_FUZZ_CALLS above the default)
 * gets proportionally more, and the runner's limit
 * (kselftest_override_timeout, which make check-long raises) when larger.
 */
static void __attribute__((constructor(KSELFTEST_PRIO_TEST + 1))) fuzz_timeout(void)
{
	u64 calls = env_u64("KMEMLAB_FUZZ_CALLS", DEF_CALLS), tmo = 280;
	const char *runner = getenv("kselftest_override_timeout");

	if (calls > DEF_CALLS)
		tmo = umin(86400, 280 * ((calls + DEF_CALLS - 1) / DEF_CALLS));
	if (runner && strtoull(runner, NULL, 10) > tmo + 10)
		tmo = strtoull(runner, NULL, 10) - 10;
	_fuzz_object.timeout = (int)tmo;
}

TEST_HARNESS_MAIN
