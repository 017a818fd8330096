// SPDX-License-Identifier: GPL-2.0
/*
 * kmemlab kselftest: object lifetimes at the edges. A holder killed with
 * SIGKILL, two threads freeing one handle, frees racing reads and fills,
 * close() racing ioctls in flight, rmmod while a file is open, no kernel
 * address in any reply or debugfs file, and no stale bytes in a fresh object.
 *
 * Every check is against what the kernel shows: the statistics and objects
 * in debugfs, /proc/slabinfo, /proc/vmallocinfo, /sys/module. Run as root
 * with kmemlab.ko loaded and debugfs mounted, with nothing else using kmemlab
 * meanwhile. Tests skip when the module, debugfs or edu is missing.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <time.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#include "kmemlab_util.h"

#define DEBUGFS_DIR "/sys/kernel/debug/kmemlab"
#define NR_KINDS KMEMLAB_NR_KINDS
/* x86-64: the lowest kernel address (the start of the direct map with 4-level paging and below). */
#define KERNEL_ADDRESS_MIN 0xffff800000000000ULL
/* The pattern seed the racing threads fill and verify with. */
#define RACE_SEED 0x5eed1234abcdULL

/* ---- ioctl wrappers: 0 or -errno ---- */

static int percpu_ioc(int fd, struct kmemlab_percpu *p)
{
	return ioctl(fd, KMEMLAB_IOC_PERCPU, p) ? -errno : 0;
}

static int bench(int fd, struct kmemlab_bench *b)
{
	return ioctl(fd, KMEMLAB_IOC_BENCH, b) ? -errno : 0;
}

/* A BENCH request: ALLOC_FREE of @kind (@size bytes, @cache), @iterations samples on this thread. */
static struct kmemlab_bench bench_req(__u32 kind, __u64 size, __u32 cache, __u32 iterations)
{
	return (struct kmemlab_bench){
		.op = KMEMLAB_BENCH_ALLOC_FREE, .kind = kind, .size = size,
		.node = KMEMLAB_NODE_ANY, .cache = cache, .iterations = iterations, .batch = 1,
	};
}

/* ---- objects of every kind ---- */

#define MAX_EVERY 9

/* One object of every kind a file can hold, and the cache the kmem_cache one came from. */
struct every {
	__u32 h[MAX_EVERY], kind[MAX_EVERY];
	__u64 size[MAX_EVERY];	/* bytes READ/FILL/VERIFY can touch; 0 for IOREMAP and PERCPU */
	int n;
	__u32 cache;
};

static void every_add(struct every *e, __u32 kind, __u64 size, __u32 h)
{
	e->h[e->n] = h;
	e->kind[e->n] = kind;
	e->size[e->n] = size;
	e->n++;
}

/*
 * Makes a cache named @cache_name and one object of every kind on @fd: kmalloc,
 * kmem_cache, free_pages, pages_node, vmalloc, dma_coherent on the faux
 * device, percpu, and with @edu an ioremap of edu's registers. 0 or -errno,
 * with what failed in @why.
 */
static int make_every_kind(int fd, const char *cache_name, bool edu, struct every *e,
			   char *why, size_t why_len)
{
	const struct {
		__u32 kind;
		__u64 size;
		__u32 order, device;
		const char *what;
	} allocs[] = {
		{ KMEMLAB_KIND_KMALLOC, 1000, 0, 0, "kmalloc 1000" },
		{ KMEMLAB_KIND_KMEM_CACHE, 0, 0, 0, "kmem_cache" },
		{ KMEMLAB_KIND_FREE_PAGES, 0, 1, 0, "free_pages order 1" },
		{ KMEMLAB_KIND_PAGES_NODE, 0, 0, 0, "pages_node order 0" },
		{ KMEMLAB_KIND_VMALLOC, 20000, 0, 0, "vmalloc 20000" },
		{ KMEMLAB_KIND_DMA_COHERENT, 5000, 0, KMEMLAB_DEV_FAUX, "dma_coherent faux 5000" },
		{ KMEMLAB_KIND_PERCPU, 0, 0, 0, "percpu" },
	};
	long page = sysconf(_SC_PAGESIZE);
	int ret;
	__u32 h;

	memset(e, 0, sizeof(*e));
	ret = cache_create(fd, cache_name, 256, 0, &e->cache);
	if (ret) {
		snprintf(why, why_len, "cache create %s: %s", cache_name, strerror(-ret));
		return ret;
	}
	for (size_t i = 0; i < ARRAY_SIZE(allocs); i++) {
		__u64 bytes = allocs[i].size;

		ret = alloc1(fd, allocs[i].kind, allocs[i].size, allocs[i].order, KMEMLAB_NODE_ANY,
			     allocs[i].kind == KMEMLAB_KIND_KMEM_CACHE ? e->cache : allocs[i].device,
			     &h);
		if (ret) {
			snprintf(why, why_len, "alloc %s: %s", allocs[i].what, strerror(-ret));
			return ret;
		}
		if (allocs[i].kind == KMEMLAB_KIND_KMEM_CACHE)
			bytes = 256;
		else if (allocs[i].kind == KMEMLAB_KIND_FREE_PAGES ||
			 allocs[i].kind == KMEMLAB_KIND_PAGES_NODE)
			bytes = (__u64)page << allocs[i].order;
		every_add(e, allocs[i].kind, bytes, h);
	}
	if (edu) {
		ret = ioremap_edu(fd, &h);
		if (ret) {
			snprintf(why, why_len, "ioremap edu: %s", strerror(-ret));
			return ret;
		}
		every_add(e, KMEMLAB_KIND_IOREMAP, 0, h);
	}
	return 0;
}

/* ---- what the kernel shows ---- */

/* debugfs shows kmemlab's statistics. */
static bool have_debugfs(void)
{
	return !access(DEBUGFS_DIR "/stats.json", R_OK) && !access(DEBUGFS_DIR "/objects", R_OK);
}

/* Rows of debugfs `objects` that belong to process @pid; -1 when it cannot be read or parsed. */
static int object_rows_of(pid_t pid)
{
	char *buf = read_file(DEBUGFS_DIR "/objects"), *line, *save;
	int n = 0, row = 0;

	if (!buf)
		return -1;
	for (line = strtok_r(buf, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		long long p;

		if (row++ == 0)
			continue;	/* the header */
		if (sscanf(line, "%lld", &p) != 1) {
			n = -1;
			break;
		}
		n += p == pid;
	}
	free(buf);
	return n;
}

/* The number after "@key": in [@p, @end), in *@v; false when there is none. */
static bool json_u64(const char *p, const char *end, const char *key, unsigned long long *v)
{
	char quoted[40];
	const char *at;

	snprintf(quoted, sizeof(quoted), "\"%s\"", key);
	at = strstr(p, quoted);
	if (!at || at >= end)
		return false;
	at += strlen(quoted);
	while (at < end && (*at == ' ' || *at == ':'))
		at++;
	if (at >= end || !isdigit((unsigned char)*at))
		return false;
	*v = strtoull(at, NULL, 10);
	return true;
}

/* The kind named by "kind": "..." in [@p, @end), or 0. */
static int json_kind(const char *p, const char *end)
{
	const char *at = strstr(p, "\"kind\"");

	if (!at || at >= end)
		return 0;
	at = strchr(at + 6, '"');
	if (!at || at >= end)
		return 0;
	at++;
	for (int k = 1; k <= NR_KINDS; k++) {
		size_t len = strlen(kind_name(k));

		if (!strncmp(at, kind_name(k), len) && at[len] == '"')
			return k;
	}
	return 0;
}

/*
 * live and bytes of every kind from stats.json's "kinds" array (README,
 * Statistics). Returns the number of kinds read, -1 when the file cannot be
 * read or an entry is malformed.
 */
static int json_live(unsigned long long live[NR_KINDS + 1], unsigned long long bytes[NR_KINDS + 1])
{
	char *json = read_file(DEBUGFS_DIR "/stats.json");
	const char *p, *end;
	int n = 0;

	if (!json)
		return -1;
	p = strstr(json, "\"kinds\"");
	p = p ? strchr(p, '[') : NULL;
	end = p ? strchr(p, ']') : NULL;
	if (!end) {
		free(json);
		return -1;
	}
	/* The entries are flat objects: each ends at the next '}'. */
	while ((p = strchr(p, '{')) && p < end) {
		const char *close = strchr(p, '}');
		int k = close ? json_kind(p, close) : 0;

		if (!k || !json_u64(p, close, "live", &live[k]) ||
		    !json_u64(p, close, "bytes", &bytes[k])) {
			n = -1;
			break;
		}
		n++;
		p = close + 1;
	}
	free(json);
	return n;
}

/* stats.json says nothing of any kind is live. */
static void expect_nothing_live(struct __test_metadata *_metadata, const char *when)
{
	unsigned long long live[NR_KINDS + 1] = { 0 }, bytes[NR_KINDS + 1] = { 0 };

	ASSERT_EQ(NR_KINDS, json_live(live, bytes)) TH_LOG("%s: stats.json's kinds", when);
	for (int k = 1; k <= NR_KINDS; k++) {
		EXPECT_EQ(0ULL, live[k]) TH_LOG("%s: %s objects live", when, kind_name(k));
		EXPECT_EQ(0ULL, bytes[k]) TH_LOG("%s: %s bytes live", when, kind_name(k));
	}
}

static bool word_char(char c)
{
	return isalnum((unsigned char)c) || c == '_';
}

/*
 * The first token of @s that looks like a kernel address, copied to @tok:
 * 16 hex digits starting with ffff (any case) standing alone, "0xffff" and 12
 * more hex digits, or a decimal number of 20 digits at or above
 * KERNEL_ADDRESS_MIN (an address printed with %lu). False when there is none.
 */
static bool find_kernel_address(const char *s, char *tok, size_t len)
{
	/* KERNEL_ADDRESS_MIN in decimal: 20 digits, so a string comparison orders them. */
	static const char dec_min[] = "18446603336221196288";

	for (const char *p = s; *p; p++) {
		size_t n = 0;

		if (p[0] == '0' && (p[1] == 'x' || p[1] == 'X') && !strncasecmp(p + 2, "ffff", 4)) {
			while (isxdigit((unsigned char)p[2 + n]))
				n++;
			if (n >= 16) {
				snprintf(tok, len, "%.*s", (int)(n + 2), p);
				return true;
			}
			continue;
		}
		if (p > s && word_char(p[-1]))
			continue;
		if (!strncasecmp(p, "ffff", 4)) {
			while (isxdigit((unsigned char)p[n]))
				n++;
			if (n == 16 && !word_char(p[n])) {
				snprintf(tok, len, "%.16s", p);
				return true;
			}
		} else if (isdigit((unsigned char)*p) && (p == s || (p[-1] != '-' && p[-1] != '.'))) {
			while (isdigit((unsigned char)p[n]))
				n++;
			if (n == 20 && !word_char(p[n]) && strncmp(p, dec_min, 20) >= 0) {
				snprintf(tok, len, "%.20s", p);
				return true;
			}
		}
	}
	return false;
}

/* ---- the tests ---- */

FIXTURE(lc) {
	bool edu, debugfs;
};

FIXTURE_SETUP(lc)
{
	struct kmemlab_version v;
	int fd = open_dev(_metadata);

	if (fd < 0)
		return;
	ASSERT_EQ(0, version(fd, &v));
	close(fd);
	self->edu = v.features & KMEMLAB_FEAT_EDU;
	self->debugfs = have_debugfs();
}

FIXTURE_TEARDOWN(lc)
{
}

#define KILL_CACHE "kselftest-lc-kill"

/*
 * The holder: opens the device, makes one object of every kind, reports "R<n>"
 * (n objects) or "E<why>" through @wfd, then waits to be killed.
 */
static void __attribute__((noreturn)) hold_every_kind(int wfd, bool edu)
{
	char msg[256] = "R";
	struct every e;
	int fd;

	/* Should the test die first, the holder goes too and releases its file. */
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	fd = open(KMEMLAB_DEVICE, O_RDWR | O_CLOEXEC);
	if (fd < 0) {
		snprintf(msg, sizeof(msg), "Eopen: %s", strerror(errno));
	} else if (make_every_kind(fd, KILL_CACHE, edu, &e, msg + 1, sizeof(msg) - 1)) {
		msg[0] = 'E';
	} else {
		snprintf(msg, sizeof(msg), "R%d", e.n);
	}
	if (write(wfd, msg, strlen(msg)) < 0 || msg[0] == 'E')
		_exit(1);
	for (;;)
		pause();
}

/*
 * A process holding one object of every kind (and a cache) dies by SIGKILL:
 * its file is released on the way out, and by the time the parent has reaped
 * it nothing of it is left: no live object or byte of any kind, no cache in
 * /proc/slabinfo, no vmalloc area or mapping in /proc/vmallocinfo, no row in
 * debugfs `objects`.
 */
TEST_F_TIMEOUT(lc, sigkill_holder_of_every_kind, 60)
{
	int pipefd[2], status, vm_before, vm_held, rows, made = 0;
	bool slabinfo = slab_active("kmalloc-64") != -2;
	char msg[257] = "";
	ssize_t got;
	pid_t pid;

	if (!self->debugfs)
		SKIP(return, "no " DEBUGFS_DIR "/stats.json (debugfs not mounted, or no statistics)");
	if (!self->edu)
		TH_LOG("edu is not bound: the holder has no ioremap object");
	expect_nothing_live(_metadata, "before the holder");
	if (slabinfo) {
		ASSERT_EQ(-1, slab_active("kmemlab-" KILL_CACHE)) TH_LOG("a leftover cache");
	}
	vm_before = kmemlab_vmap_areas();
	ASSERT_EQ(0, pipe2(pipefd, O_CLOEXEC));

	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		close(pipefd[0]);
		hold_every_kind(pipefd[1], self->edu);
	}
	close(pipefd[1]);
	/* No ASSERT until the holder is dead: it would be left holding its objects. */
	got = read(pipefd[0], msg, sizeof(msg) - 1);
	close(pipefd[0]);
	if (got > 0)
		msg[got] = 0;
	EXPECT_EQ('R', msg[0]) TH_LOG("the holder failed: %s", got > 0 ? msg + 1 : "(no word)");
	if (msg[0] == 'R') {
		made = atoi(msg + 1);
		EXPECT_EQ(self->edu ? 8 : 7, made);
		rows = object_rows_of(pid);
		EXPECT_EQ(made, rows) TH_LOG("debugfs objects lists the holder's objects");
		if (slabinfo) {
			EXPECT_LE(0, slab_active("kmemlab-" KILL_CACHE))
				TH_LOG("the holder's cache is in /proc/slabinfo");
		}
		vm_held = kmemlab_vmap_areas();
		if (vm_before >= 0) {
			/* The vmalloc area, and edu's mapping. */
			EXPECT_LE(vm_before + 1 + self->edu, vm_held)
				TH_LOG("the holder's areas are in /proc/vmallocinfo");
		}
	}

	ASSERT_EQ(0, kill(pid, SIGKILL));
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	EXPECT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL)
		TH_LOG("the holder ended with status %#x, not by SIGKILL", status);

	/* The file was released before the holder could be reaped: nothing is left. */
	expect_nothing_live(_metadata, "after SIGKILL");
	EXPECT_EQ(0, object_rows_of(pid)) TH_LOG("debugfs objects still lists the holder's pid");
	if (slabinfo) {
		EXPECT_EQ(-1, slab_active("kmemlab-" KILL_CACHE))
			TH_LOG("the holder's cache is still in /proc/slabinfo");
	}
	if (vm_before >= 0) {
		EXPECT_EQ(vm_before, kmemlab_vmap_areas())
			TH_LOG("kmemlab's /proc/vmallocinfo lines are back to where they were");
	}
}

/* ---- two threads free one handle ---- */

#define FREE_ROUNDS 500

struct free_race {
	int fd;
	__u32 handle;		/* this round's object, set before the start barrier */
	int ret[2];		/* each thread's FREE result this round */
	int cpu[2];		/* the CPU each thread is pinned to, or -1 */
	int pin_failed;
	pthread_barrier_t start, done;
};

struct free_racer {
	struct free_race *r;
	int id;
};

static void *free_racer(void *arg)
{
	struct free_racer *me = arg;
	struct free_race *r = me->r;

	if (r->cpu[me->id] >= 0 && pin_self(r->cpu[me->id]))
		r->pin_failed = 1;
	for (int round = 0; round < FREE_ROUNDS; round++) {
		__u32 h;

		pthread_barrier_wait(&r->start);
		h = r->handle;
		r->ret[me->id] = free_handles(r->fd, 1, &h);
		pthread_barrier_wait(&r->done);
	}
	return NULL;
}

/*
 * Two threads, on two CPUs when there are two, released together by a
 * barrier, FREE the same handle: exactly one frees it, the other is told it
 * is not there (ENOENT). Never both, never neither, never another error.
 */
TEST_F_TIMEOUT(lc, two_threads_free_same_handle, 120)
{
	int cpus[CPU_SETSIZE], n = online_cpus(cpus), wins[2] = { 0 }, bad = 0;
	struct free_racer racers[2];
	struct free_race r = { .cpu = { -1, -1 } };
	pthread_t t[2];

	r.fd = open_dev(_metadata);
	if (r.fd < 0)
		return;
	if (n >= 2) {
		r.cpu[0] = cpus[0];
		r.cpu[1] = cpus[1];
	} else {
		TH_LOG("one online CPU: the threads are not pinned apart");
	}
	ASSERT_EQ(0, pthread_barrier_init(&r.start, NULL, 3));
	ASSERT_EQ(0, pthread_barrier_init(&r.done, NULL, 3));
	for (int i = 0; i < 2; i++) {
		racers[i] = (struct free_racer){ .r = &r, .id = i };
		ASSERT_EQ(0, pthread_create(&t[i], NULL, free_racer, &racers[i]));
	}
	for (int round = 0; round < FREE_ROUNDS; round++) {
		int ret = alloc1(r.fd, KMEMLAB_KIND_KMALLOC, 64, 0, KMEMLAB_NODE_ANY, 0, &r.handle);

		/* On failure the threads free handle 0, which never exists: both ENOENT, counted. */
		if (ret) {
			r.handle = 0;
			bad++;
		}
		pthread_barrier_wait(&r.start);
		pthread_barrier_wait(&r.done);
		if (ret)
			continue;
		if (r.ret[0] == 0 && r.ret[1] == -ENOENT) {
			wins[0]++;
		} else if (r.ret[1] == 0 && r.ret[0] == -ENOENT) {
			wins[1]++;
		} else if (!bad++) {
			TH_LOG("round %d: the threads' FREEs returned %d and %d", round, r.ret[0],
			       r.ret[1]);
		}
	}
	for (int i = 0; i < 2; i++) {
		ASSERT_EQ(0, pthread_join(t[i], NULL));
	}
	EXPECT_EQ(0, r.pin_failed) TH_LOG("pinning the threads to CPUs %d and %d", r.cpu[0], r.cpu[1]);
	EXPECT_EQ(0, bad) TH_LOG("rounds without exactly one 0 and one ENOENT (or a failed ALLOC)");
	EXPECT_EQ(FREE_ROUNDS, wins[0] + wins[1]);
	TH_LOG("%d rounds: thread 0 freed %d, thread 1 freed %d", FREE_ROUNDS, wins[0], wins[1]);
	EXPECT_EQ(0U, nr_objects(r.fd));
	pthread_barrier_destroy(&r.start);
	pthread_barrier_destroy(&r.done);
	close(r.fd);
}

/* ---- frees racing reads, fills and verifies ---- */

#define RACE_MAX_SIZE 16384

struct io_race {
	int fd;
	/* The current object: size << 32 | handle; 0 before the first. */
	_Atomic unsigned long long current;
	atomic_bool stop;
};

struct io_racer {
	struct io_race *r;
	int id;
	unsigned long ops, enoent, mismatches;
	int errors;
	char why[256];
};

static void __attribute__((format(printf, 2, 3))) racer_fail(struct io_racer *me,
								const char *fmt, ...)
{
	va_list ap;

	if (me->errors++)
		return;
	va_start(ap, fmt);
	vsnprintf(me->why, sizeof(me->why), fmt, ap);
	va_end(ap);
}

static const char *const op_names[] = { "READ", "FILL", "VERIFY" };

/* READ, FILL or VERIFY whatever object is current, whole, until told to stop. */
static void *io_racer(void *arg)
{
	struct io_racer *me = arg;
	struct io_race *r = me->r;
	unsigned char *buf = malloc(RACE_MAX_SIZE);

	if (!buf) {
		racer_fail(me, "malloc: %s", strerror(errno));
		return NULL;
	}
	for (unsigned long i = me->id; !atomic_load(&r->stop); i++) {
		unsigned long long cur = atomic_load(&r->current);
		__u32 h = (__u32)cur;
		__u64 size = cur >> 32, result = 0, bad;
		int op = i % 3, ret;

		if (!cur)
			continue;
		if (op == 0) {
			memset(buf, 0xa5, size);
			ret = io(r->fd, KMEMLAB_IOC_READ, h, 0, size, (unsigned long)buf, NULL);
		} else if (op == 1) {
			ret = io(r->fd, KMEMLAB_IOC_FILL, h, 0, size, RACE_SEED, NULL);
		} else {
			ret = io(r->fd, KMEMLAB_IOC_VERIFY, h, 0, size, RACE_SEED, &result);
		}
		me->ops++;
		if (ret == -ENOENT) {
			me->enoent++;
			continue;
		}
		if (ret) {
			racer_fail(me, "%s: %s (only 0 or ENOENT)", op_names[op], strerror(-ret));
			continue;
		}
		if (op == 0) {
			/* Each byte is as the object was made (zero) or as the fill left it. */
			for (bad = 0; bad < size; bad++)
				if (buf[bad] && buf[bad] != kmemlab_pattern_byte(RACE_SEED, bad))
					break;
			if (bad < size)
				racer_fail(me, "READ: byte %llu of %llu is %#x, neither 0 nor the pattern",
					   (unsigned long long)bad, (unsigned long long)size, buf[bad]);
		} else if (op == 2 && result != ~0ULL) {
			/*
			 * The documented mismatch: the offset of the first byte that
			 * differs, here a byte not filled yet, so zero where the
			 * pattern is not.
			 */
			me->mismatches++;
			if (result >= size || !kmemlab_pattern_byte(RACE_SEED, result))
				racer_fail(me, "VERIFY: result %llu for a %llu-byte object",
					   (unsigned long long)result, (unsigned long long)size);
		}
	}
	free(buf);
	return NULL;
}

/*
 * One thread allocates and frees objects (kmalloc 4096, vmalloc 16384) on a
 * shared file, publishing the current one; two threads READ, FILL and VERIFY
 * it meanwhile, racing the frees. Every call returns 0 or ENOENT (the object
 * was freed first); a READ returns zeroes or the fill pattern; a VERIFY
 * matches, or reports an unfilled byte as the header documents.
 */
TEST_F_TIMEOUT(lc, free_races_read_fill_verify, 60)
{
	struct io_race r = { 0 };
	struct io_racer racers[2];
	unsigned long rounds = 0, enoent = 0, ops = 0, mismatches = 0;
	int alloc_errors = 0, free_errors = 0, last_err = 0;
	struct timespec start, now;
	pthread_t t[2];

	/* Handles are never reused within a file ("unique within the file"): a handle names one object. */
	r.fd = open_dev(_metadata);
	if (r.fd < 0)
		return;
	for (int i = 0; i < 2; i++) {
		racers[i] = (struct io_racer){ .r = &r, .id = i };
		ASSERT_EQ(0, pthread_create(&t[i], NULL, io_racer, &racers[i]));
	}
	clock_gettime(CLOCK_MONOTONIC, &start);
	do {
		bool vm = rounds & 1;
		__u64 size = vm ? RACE_MAX_SIZE : 4096;
		__u32 h;
		int ret = alloc1(r.fd, vm ? KMEMLAB_KIND_VMALLOC : KMEMLAB_KIND_KMALLOC, size, 0,
				 KMEMLAB_NODE_ANY, 0, &h);

		if (ret) {
			alloc_errors++;
			last_err = ret;
			break;
		}
		atomic_store(&r.current, size << 32 | h);
		/* Give the readers a moment on the live object, then free it under them. */
		for (int spin = 0; spin < 20; spin++)
			sched_yield();
		ret = free_handles(r.fd, 1, &h);
		if (ret) {
			free_errors++;
			last_err = ret;
		}
		for (int spin = 0; spin < 5; spin++)
			sched_yield();
		rounds++;
		clock_gettime(CLOCK_MONOTONIC, &now);
	} while ((now.tv_sec - start.tv_sec) * 1000000000L + now.tv_nsec - start.tv_nsec <
		 2000000000L);
	atomic_store(&r.stop, true);
	for (int i = 0; i < 2; i++) {
		ASSERT_EQ(0, pthread_join(t[i], NULL));
		EXPECT_EQ(0, racers[i].errors) TH_LOG("thread %d: %s", i, racers[i].why);
		ops += racers[i].ops;
		enoent += racers[i].enoent;
		mismatches += racers[i].mismatches;
	}
	EXPECT_EQ(0, alloc_errors) TH_LOG("ALLOC: %s", strerror(-last_err));
	EXPECT_EQ(0, free_errors) TH_LOG("FREE: %s", strerror(-last_err));
	EXPECT_LT(0UL, ops - enoent) TH_LOG("no READ, FILL or VERIFY reached a live object");
	TH_LOG("%lu objects; %lu calls, %lu ENOENT, %lu VERIFY mismatches", rounds, ops, enoent,
	       mismatches);
	EXPECT_EQ(0U, nr_objects(r.fd));
	close(r.fd);
}

/* ---- close() racing ioctls in flight ---- */

enum { LOOP_ALLOC_FREE, LOOP_LIST, LOOP_BENCH, NR_LOOPS };
static const char *const loop_names[NR_LOOPS] = { "ALLOC+FREE", "LIST", "BENCH" };
#define BENCH_ITERATIONS 20000
/* The longest the loops may take to notice the close. */
#define CLOSE_GRACE_S 60

struct closer_loop {
	int fd, which;
	atomic_ulong calls;	/* calls that returned */
	atomic_bool started;	/* the first call has been made */
	int end;		/* how the loop ended: -EBADF, or the unexpected error */
	bool ended;
};

static void *close_loop(void *arg)
{
	struct closer_loop *l = arg;
	struct kmemlab_info infos[16];

	for (;;) {
		struct kmemlab_list list = { .count = 16, .infos = (__u64)(unsigned long)infos };
		struct kmemlab_bench b = bench_req(KMEMLAB_KIND_KMALLOC, 64, 0, BENCH_ITERATIONS);
		int ret;
		__u32 h;

		atomic_store(&l->started, true);
		switch (l->which) {
		case LOOP_ALLOC_FREE:
			ret = alloc1(l->fd, KMEMLAB_KIND_KMALLOC, 128, 0, KMEMLAB_NODE_ANY, 0, &h);
			if (!ret)
				ret = free_handles(l->fd, 1, &h);
			break;
		case LOOP_LIST:
			ret = ioctl(l->fd, KMEMLAB_IOC_LIST, &list) ? -errno : 0;
			break;
		default:
			ret = bench(l->fd, &b);
			break;
		}
		atomic_fetch_add(&l->calls, 1);
		if (ret) {
			l->end = ret;
			l->ended = true;
			return NULL;
		}
	}
}

/*
 * Runs the three loops on @fd, closes @fd while they are in flight, and
 * checks that each loop ends with EBADF within CLOSE_GRACE_S.
 */
static void close_under_loops(struct __test_metadata *_metadata, int fd)
{
	struct closer_loop loops[NR_LOOPS];
	struct timespec deadline;
	pthread_t t[NR_LOOPS];
	bool all_started = false;

	for (int i = 0; i < NR_LOOPS; i++) {
		loops[i] = (struct closer_loop){ .fd = fd, .which = i };
		ASSERT_EQ(0, pthread_create(&t[i], NULL, close_loop, &loops[i]));
	}
	/* Every loop under way (the bench in its first run), the short ones some rounds in. */
	for (int wait = 0; wait < 10000; wait++) {
		all_started = atomic_load(&loops[LOOP_BENCH].started) &&
			      atomic_load(&loops[LOOP_ALLOC_FREE].calls) >= 20 &&
			      atomic_load(&loops[LOOP_LIST].calls) >= 20;
		if (all_started)
			break;
		usleep(1000);
	}
	EXPECT_TRUE(all_started) TH_LOG("the loops did not get going within 10 s");
	usleep(2000);
	/* Nothing may open a file until the loops end: the fd number must stay unused. */
	ASSERT_EQ(0, close(fd));

	clock_gettime(CLOCK_REALTIME, &deadline);
	deadline.tv_sec += CLOSE_GRACE_S;
	for (int i = 0; i < NR_LOOPS; i++) {
		int ret = pthread_timedjoin_np(t[i], NULL, &deadline);

		ASSERT_EQ(0, ret) TH_LOG("the %s loop is still running %d s after the close (%s)",
					 loop_names[i], CLOSE_GRACE_S, strerror(ret));
		EXPECT_TRUE(loops[i].ended);
		EXPECT_EQ(-EBADF, loops[i].end)
			TH_LOG("the %s loop ended with %s after %lu calls, not EBADF", loop_names[i],
			       strerror(-loops[i].end), atomic_load(&loops[i].calls));
	}
}

/* A fresh open works, holds nothing, and (with debugfs) nothing is live anywhere. */
static void fresh_open_is_clean(struct __test_metadata *_metadata, bool debugfs, const char *when)
{
	struct kmemlab_version v;
	int fd = open(KMEMLAB_DEVICE, O_RDWR | O_CLOEXEC);

	ASSERT_LE(0, fd) TH_LOG("%s: open: %s", when, strerror(errno));
	EXPECT_EQ(0, version(fd, &v));
	EXPECT_EQ(0U, nr_objects(fd));
	close(fd);
	if (debugfs)
		expect_nothing_live(_metadata, when);
	else
		TH_LOG("%s: no debugfs statistics: live objects not checked", when);
}

/*
 * Threads loop ioctls (ALLOC+FREE, LIST, and a BENCH of BENCH_ITERATIONS
 * samples, which runs a while) on a file while the test closes its fd: the
 * calls in flight finish, the next ones get EBADF, nothing hangs, and the
 * file is released with everything in it. Then the same with the fd closed
 * while a dup of it keeps the file open: the loops end the same way, and the
 * file stays usable through the dup until that is closed too.
 */
TEST_F_TIMEOUT(lc, close_races_ioctl_in_flight, 180)
{
	__u32 count;
	int fd, keep;

	fd = open_dev(_metadata);
	if (fd < 0)
		return;
	close_under_loops(_metadata, fd);
	fresh_open_is_clean(_metadata, self->debugfs, "after the close");

	fd = open_dev(_metadata);
	if (fd < 0)
		return;
	keep = dup(fd);
	ASSERT_LE(0, keep);
	close_under_loops(_metadata, fd);
	/* The file is still open through the dup: at most the object ALLOC+FREE left. */
	count = nr_objects(keep);
	EXPECT_GE(1U, count) TH_LOG("LIST through the dup: %u objects", count);
	EXPECT_EQ(0, free_all(keep));
	EXPECT_EQ(0U, nr_objects(keep));
	close(keep);
	fresh_open_is_clean(_metadata, self->debugfs, "after closing the dup");
}

/* ---- rmmod while a file is open ---- */

/*
 * An open file holds a reference to the module: delete_module() refuses.
 * Linux 7.3's delete_module() (kernel/module/main.c) answers -EWOULDBLOCK
 * (EAGAIN) from try_stop_module() when the module is in use; -EBUSY only for
 * a module already going or without an exit function. O_NONBLOCK is what
 * rmmod passes; the kernel no longer waits either way.
 */
TEST_F(lc, rmmod_refused_while_open)
{
	struct kmemlab_version v;
	char refcnt[32];
	long ret;
	int fd, err;

	if (geteuid())
		SKIP(return, "needs root (CAP_SYS_MODULE)");
	fd = open_dev(_metadata);
	if (fd < 0)
		return;
	if (!read_line("/sys/module/kmemlab/refcnt", refcnt, sizeof(refcnt))) {
		EXPECT_LT(0, atoi(refcnt)) TH_LOG("the open file holds a module reference");
	}
	ret = syscall(SYS_delete_module, "kmemlab", O_NONBLOCK);
	err = errno;
	EXPECT_EQ(-1, ret);
	EXPECT_EQ(EWOULDBLOCK, err) TH_LOG("delete_module: %s (7.3 answers EWOULDBLOCK)",
					   strerror(err));
	EXPECT_EQ(0, access("/sys/module/kmemlab", F_OK)) TH_LOG("/sys/module/kmemlab is gone");
	/* The module and the file are as they were. */
	EXPECT_EQ(0, version(fd, &v));
	EXPECT_EQ(KMEMLAB_ABI_VERSION, v.abi_version);
	close(fd);
	fd = open_dev(_metadata);
	ASSERT_LE(0, fd);
	close(fd);
}

/* ---- no kernel address anywhere ---- */

static void expect_user_value(struct __test_metadata *_metadata, const char *what, __u64 v)
{
	EXPECT_GT(KERNEL_ADDRESS_MIN, v) TH_LOG("%s is %#llx, a kernel address", what,
					       (unsigned long long)v);
}

static void expect_info_clean(struct __test_metadata *_metadata, const struct kmemlab_info *i,
			      const char *from)
{
	char what[64];

	snprintf(what, sizeof(what), "%s handle %u size", from, i->handle);
	expect_user_value(_metadata, what, i->size);
}

static void expect_bench_clean(struct __test_metadata *_metadata, const struct kmemlab_bench *b,
			       const char *run)
{
	const struct {
		const char *name;
		__u64 v;
	} fields[] = {
		{ "size", b->size }, { "ops", b->ops }, { "ns_wall", b->ns_wall },
		{ "ns_total", b->ns_total }, { "ns_min", b->ns_min },
		{ "ns_median", b->ns_median }, { "ns_p99", b->ns_p99 },
		{ "cycles_total", b->cycles_total }, { "cycles_min", b->cycles_min },
		{ "cycles_median", b->cycles_median }, { "cycles_p99", b->cycles_p99 },
		{ "reserved2", b->reserved2 },
	};
	char what[96];

	for (size_t i = 0; i < ARRAY_SIZE(fields); i++) {
		snprintf(what, sizeof(what), "BENCH %s: %s", run, fields[i].name);
		expect_user_value(_metadata, what, fields[i].v);
	}
	EXPECT_EQ(0ULL, b->reserved2);
}

/* ADD and READ replies of PERCPU object @handle (fresh: all zero). */
static void expect_percpu_clean(struct __test_metadata *_metadata, int fd, __u32 handle)
{
	static __u64 values[CPU_SETSIZE];
	struct kmemlab_percpu add = { .handle = handle, .op = KMEMLAB_PERCPU_ADD, .value = 3 };
	struct kmemlab_percpu rd = {
		.handle = handle, .op = KMEMLAB_PERCPU_READ, .count = CPU_SETSIZE,
		.values = (__u64)(unsigned long)values,
	};

	ASSERT_EQ(0, percpu_ioc(fd, &add));
	expect_user_value(_metadata, "PERCPU ADD value", add.value);
	expect_user_value(_metadata, "PERCPU ADD sum", add.sum);
	expect_user_value(_metadata, "PERCPU ADD values", add.values);
	ASSERT_EQ(0, percpu_ioc(fd, &rd));
	expect_user_value(_metadata, "PERCPU READ value", rd.value);
	expect_user_value(_metadata, "PERCPU READ sum", rd.sum);
	EXPECT_EQ(3ULL, rd.sum);
	for (__u32 c = 0; c < rd.count && c < CPU_SETSIZE; c++)
		expect_user_value(_metadata, "PERCPU READ values[]", values[c]);
}

/* Checks every regular file under @dir (recursively); returns the number of files read. */
static int scan_debugfs(struct __test_metadata *_metadata, const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	int files = 0;

	ASSERT_NE(NULL, d) TH_LOG("%s: %s", dir, strerror(errno));
	while ((de = readdir(d))) {
		char path[512], tok[48];
		struct stat st;
		char *text;

		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
		if (lstat(path, &st))
			continue;
		if (S_ISDIR(st.st_mode)) {
			files += scan_debugfs(_metadata, path);
			continue;
		}
		if (!S_ISREG(st.st_mode) || !(st.st_mode & 0444))
			continue;
		text = read_file(path);
		EXPECT_NE(NULL, text) TH_LOG("%s: %s", path, strerror(errno));
		if (!text)
			continue;
		files++;
		EXPECT_FALSE(find_kernel_address(text, tok, sizeof(tok)))
			TH_LOG("%s shows %s, which looks like a kernel address", path, tok);
		free(text);
	}
	closedir(d);
	return files;
}

/*
 * With objects of every kind held, no reply carries a kernel address: every
 * __u64 of INFO, LIST, VERSION, PERCPU and BENCH replies is below the kernel's
 * half of the address space, VERIFY's result is ~0 or an offset in the
 * object; and no file under /sys/kernel/debug/kmemlab/ shows one.
 */
TEST_F_TIMEOUT(lc, no_kernel_address_in_replies_or_debugfs, 120)
{
	struct kmemlab_info infos[MAX_EVERY + 1], one;
	struct kmemlab_list list = { .count = MAX_EVERY + 1, .infos = (__u64)(unsigned long)infos };
	struct kmemlab_version v;
	struct kmemlab_bench b;
	__u64 result;
	__u32 percpu = 0;
	struct every e;
	char why[256] = "";
	int fd, files;

	if (!self->debugfs)
		SKIP(return, "no " DEBUGFS_DIR "/stats.json (debugfs not mounted, or no statistics)");
	fd = open_dev(_metadata);
	if (fd < 0)
		return;
	ASSERT_EQ(0, make_every_kind(fd, "kselftest-lc-addr", self->edu, &e, why, sizeof(why)))
		TH_LOG("%s", why);
	if (!self->edu)
		TH_LOG("edu is not bound: no ioremap object, no ioremap bench");

	/* The byte kinds filled, so their contents are not just zeroes. */
	for (int i = 0; i < e.n; i++) {
		if (!e.size[i])
			continue;
		ASSERT_EQ(0, io(fd, KMEMLAB_IOC_FILL, e.h[i], 0, e.size[i], 0xfeed + i, NULL));
		ASSERT_EQ(0, io(fd, KMEMLAB_IOC_VERIFY, e.h[i], 0, e.size[i], 0xfeed + i, &result));
		EXPECT_EQ(~0ULL, result);
		ASSERT_EQ(0, io(fd, KMEMLAB_IOC_VERIFY, e.h[i], 0, e.size[i], 0xbad, &result));
		EXPECT_GT(e.size[i], result) TH_LOG("VERIFY's result is an offset in the object");
	}
	for (int i = 0; i < e.n; i++) {
		if (e.kind[i] == KMEMLAB_KIND_PERCPU)
			percpu = e.h[i];
		ASSERT_EQ(0, info(fd, e.h[i], &one));
		expect_info_clean(_metadata, &one, "INFO");
	}

	ASSERT_EQ(0, ioctl(fd, KMEMLAB_IOC_LIST, &list));
	EXPECT_EQ((__u32)e.n, list.count);
	for (__u32 i = 0; i < list.count && i < MAX_EVERY + 1; i++)
		expect_info_clean(_metadata, &infos[i], "LIST");

	ASSERT_EQ(0, version(fd, &v));
	expect_user_value(_metadata, "VERSION features", v.features);

	ASSERT_NE(0U, percpu);
	expect_percpu_clean(_metadata, fd, percpu);

	b = bench_req(KMEMLAB_KIND_KMALLOC, 64, 0, 200);
	ASSERT_EQ(0, bench(fd, &b));
	expect_bench_clean(_metadata, &b, "kmalloc");
	b = bench_req(KMEMLAB_KIND_VMALLOC, 8192, 0, 50);
	ASSERT_EQ(0, bench(fd, &b));
	expect_bench_clean(_metadata, &b, "vmalloc");
	b = bench_req(KMEMLAB_KIND_DMA_COHERENT, 4096, KMEMLAB_DEV_FAUX, 50);
	ASSERT_EQ(0, bench(fd, &b));
	expect_bench_clean(_metadata, &b, "dma_coherent");
	b = bench_req(KMEMLAB_KIND_KMEM_CACHE, 0, e.cache, 200);
	ASSERT_EQ(0, bench(fd, &b));
	expect_bench_clean(_metadata, &b, "kmem_cache");
	if (self->edu) {
		b = bench_req(KMEMLAB_KIND_IOREMAP, 4096, 0, 50);
		ASSERT_EQ(0, bench(fd, &b));
		expect_bench_clean(_metadata, &b, "ioremap");
	}
	b = (struct kmemlab_bench){
		.op = KMEMLAB_BENCH_PERCPU_INC, .node = KMEMLAB_NODE_ANY, .iterations = 100,
		.batch = 16,
	};
	ASSERT_EQ(0, bench(fd, &b));
	expect_bench_clean(_metadata, &b, "percpu-inc");

	/* debugfs, with this file's objects listed in it. */
	EXPECT_EQ(e.n, object_rows_of(getpid()));
	files = scan_debugfs(_metadata, DEBUGFS_DIR);
	EXPECT_LE(5, files) TH_LOG("stats, percpu, objects, caches, stats.json at least");
	close(fd);
}

/* ---- fresh allocations carry nothing over ---- */

#define STALE_ROUNDS 200
#define STALE_CACHE "kselftest-lc-stale"

/*
 * For each kind with bytes: an object is filled, freed, and one of the same
 * size allocated at once (likely the same memory): it reads as all zeroes,
 * STALE_ROUNDS times. Objects are always returned zeroed (the header), with
 * or without KMEMLAB_GFP_ZERO.
 */
TEST_F_TIMEOUT(lc, fresh_allocations_are_never_stale, 240)
{
	const struct {
		__u32 kind;
		__u64 size;
		__u32 order;
		const char *what;
	} kinds[] = {
		{ KMEMLAB_KIND_KMALLOC, 64, 0, "kmalloc 64" },
		{ KMEMLAB_KIND_KMALLOC, 4096, 0, "kmalloc 4096" },
		{ KMEMLAB_KIND_KMALLOC, 65536, 0, "kmalloc 65536" },
		{ KMEMLAB_KIND_KMEM_CACHE, 0, 0, "kmem_cache 256" },
		{ KMEMLAB_KIND_FREE_PAGES, 0, 0, "free_pages order 0" },
		{ KMEMLAB_KIND_FREE_PAGES, 0, 2, "free_pages order 2" },
		{ KMEMLAB_KIND_PAGES_NODE, 0, 1, "pages_node order 1" },
		{ KMEMLAB_KIND_VMALLOC, 16384, 0, "vmalloc 16384" },
		{ KMEMLAB_KIND_DMA_COHERENT, 8192, 0, "dma_coherent faux 8192" },
	};
	long page = sysconf(_SC_PAGESIZE);
	unsigned char *buf = malloc(65536);
	__u32 cache = 0;
	int fd;

	ASSERT_NE(NULL, buf);
	fd = open_dev(_metadata);
	if (fd < 0)
		return;
	if (slab_active("kmalloc-64") != -2) {
		ASSERT_EQ(-1, slab_active("kmemlab-" STALE_CACHE)) TH_LOG("a leftover cache");
	}
	ASSERT_EQ(0, cache_create(fd, STALE_CACHE, 256, 0, &cache));
	for (size_t k = 0; k < ARRAY_SIZE(kinds); k++) {
		__u32 kind = kinds[k].kind, param = 0, h;
		__u64 size = kinds[k].size;
		int stale = 0, first_round = -1;
		__u64 first_at = 0;

		if (kind == KMEMLAB_KIND_KMEM_CACHE) {
			param = cache;
			size = 256;
		} else if (kind == KMEMLAB_KIND_DMA_COHERENT) {
			param = KMEMLAB_DEV_FAUX;
		} else if (kind == KMEMLAB_KIND_FREE_PAGES || kind == KMEMLAB_KIND_PAGES_NODE) {
			size = (__u64)page << kinds[k].order;
		}
		for (int round = 0; round < STALE_ROUNDS; round++) {
			__u64 seed = (__u64)k << 32 | round, at;
			__u64 req = kind == KMEMLAB_KIND_KMEM_CACHE || kind == KMEMLAB_KIND_FREE_PAGES ||
				    kind == KMEMLAB_KIND_PAGES_NODE ? 0 : size;

			ASSERT_EQ(0, alloc1(fd, kind, req, kinds[k].order, KMEMLAB_NODE_ANY, param, &h))
				TH_LOG("%s", kinds[k].what);
			ASSERT_EQ(0, io(fd, KMEMLAB_IOC_FILL, h, 0, size, seed, NULL))
				TH_LOG("%s", kinds[k].what);
			ASSERT_EQ(0, free_handles(fd, 1, &h));
			ASSERT_EQ(0, alloc1(fd, kind, req, kinds[k].order, KMEMLAB_NODE_ANY, param, &h))
				TH_LOG("%s", kinds[k].what);
			memset(buf, 0xa5, size);
			ASSERT_EQ(0, io(fd, KMEMLAB_IOC_READ, h, 0, size, (unsigned long)buf, NULL))
				TH_LOG("%s", kinds[k].what);
			at = first_not(buf, size, 0);
			if (at < size && !stale++) {
				first_round = round;
				first_at = at;
			}
			ASSERT_EQ(0, free_handles(fd, 1, &h));
		}
		EXPECT_EQ(0, stale)
			TH_LOG("%s: %d of %d fresh objects were not all zero (first: round %d, byte %llu)",
			       kinds[k].what, stale, STALE_ROUNDS, first_round,
			       (unsigned long long)first_at);
	}
	/* LIST shows objects, not caches. */
	EXPECT_EQ(0U, nr_objects(fd));
	close(fd);
	free(buf);
}

TEST_HARNESS_MAIN
