// SPDX-License-Identifier: GPL-2.0
/*
 * kmemlab kselftest: the statistics files under /sys/kernel/debug/kmemlab/
 * (stats, percpu, objects, caches and stats.json; the README's Statistics section is
 * their contract).
 *
 * Every figure is checked against what the test itself allocated and freed,
 * and against what the kernel shows elsewhere: vmalloc pages in
 * /proc/vmallocinfo, a cache's objects in /proc/slabinfo, pages in MemFree.
 * Run as root with kmemlab.ko loaded and debugfs mounted, with nothing else
 * using kmemlab meanwhile. Earlier kmemlab tests of the same boot leave their
 * created/freed/failed counts behind, so those are compared as deltas; the
 * live figures (live, bytes, pages) are 0 whenever no file is open. Tests skip
 * when the module, debugfs or the stats file is missing.
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <semaphore.h>

#include "kmemlab_util.h"

#define DEBUGFS_DIR "/sys/kernel/debug/kmemlab"
#define NR_KINDS KMEMLAB_NR_KINDS
/* Most CPU ids the percpu file may list (CONFIG_NR_CPUS is 8 in the test kernel). */
#define MAX_CPUS 256
/* x86-64 defaults: MAX_PAGE_ORDER 10; KMALLOC_MAX_CACHE_SIZE 8 KiB (above it kmalloc takes pages). */
#define MAX_ORDER 10
#define KMALLOC_CACHE_MAX 8192
/*
 * KFENCE serves a sampled allocation (one per 100 ms) from its own pool: such
 * an object is not in its cache's slabs, so /proc/slabinfo may count one or
 * two fewer than were allocated.
 */
#define KFENCE_SLACK 2
/*
 * hwm_bytes is folded from per-CPU counters the way percpu_counter does:
 * exact to within this much per CPU (README, Statistics).
 */
#define HWM_SLACK_PER_CPU (256ULL << 10)
/* Free memory moves with other activity too, in the milliseconds of a close. */
#define MEMFREE_SLACK_KB (4L << 10)
#define CACHE_NAME "kselftest-stats"
#define CACHE_OBJECT_SIZE 256
/* A DMA pool's block size that the pool does not round up (a multiple of 16). */
#define POOL_BLOCK 64

/* ---- the text files ---- */

/* Columns of `stats` after `kind`. */
enum {
	ST_LIVE, ST_CREATED, ST_FREED, ST_FAILED, ST_ENOMEM, ST_EINVAL, ST_ENODEV, ST_OTHER,
	ST_BYTES, ST_PAGES, ST_HWM, ST_NS, NR_ST
};
static const char *const stat_cols[NR_ST] = {
	"live", "created", "freed", "failed", "enomem", "einval", "enodev", "other",
	"bytes", "pages", "hwm_bytes", "alloc_ns",
};

/* Columns of `percpu` after `cpu kind`, and the `stats` column each adds up to. */
enum { PC_CREATED, PC_FREED, PC_FAILED, PC_BYTES, PC_PAGES, PC_NS, NR_PC };
static const char *const percpu_cols[NR_PC] = {
	"created", "freed", "failed", "bytes", "pages", "alloc_ns",
};
static const int percpu_stat[NR_PC] = { ST_CREATED, ST_FREED, ST_FAILED, ST_BYTES, ST_PAGES, ST_NS };

static const char *const object_cols[] = {
	"pid", "handle", "kind", "size", "order", "node", "nid", "cpu", "zone", "backing",
};

struct stats {
	unsigned long long v[NR_KINDS + 1][NR_ST];
};

struct percpu {
	long long v[MAX_CPUS][NR_KINDS + 1][NR_PC];
	bool listed[MAX_CPUS][NR_KINDS + 1];
	int cpus;	/* distinct CPUs listed */
};

struct object_row {
	long long pid;
	unsigned long long handle, size, order, cpu;
	long long node, nid;
	int kind;
};

/* What the test read from debugfs at one moment. */
struct snapshot {
	struct stats st;
	struct percpu *pc;
	struct object_row *objs;
	int nr_objs;
};

/* Why the last parse failed, for TH_LOG. */
static char parse_error[256];

static int parse_fail(const char *file, int line, const char *what)
{
	snprintf(parse_error, sizeof(parse_error), "%s line %d: %s", file, line, what);
	return -EINVAL;
}

/* Splits @line at runs of blanks into at most @max words; returns how many (max + 1: too many). */
static int split(char *line, char **words, int max)
{
	int n = 0;

	for (char *save, *w = strtok_r(line, " \t", &save); w; w = strtok_r(NULL, " \t", &save)) {
		if (n == max)
			return max + 1;
		words[n++] = w;
	}
	return n;
}

/* The next line of @*text (modified in place), or NULL at the end. */
static char *next_line(char **text)
{
	char *line = *text, *nl;

	if (!line || !*line)
		return NULL;
	nl = strchr(line, '\n');
	if (nl) {
		*nl = 0;
		*text = nl + 1;
	} else {
		*text = line + strlen(line);
	}
	return line;
}

static bool parse_u64(const char *w, unsigned long long *v)
{
	char *end;

	if (!isdigit((unsigned char)w[0]))
		return false;
	errno = 0;
	*v = strtoull(w, &end, 10);
	return !*end && !errno;
}

static bool parse_s64(const char *w, long long *v)
{
	char *end;

	if (!isdigit((unsigned char)w[w[0] == '-']))
		return false;
	errno = 0;
	*v = strtoll(w, &end, 10);
	return !*end && !errno;
}

static int kind_by_name(const char *name)
{
	for (int k = 1; k <= NR_KINDS; k++)
		if (!strcmp(name, kind_name(k)))
			return k;
	return 0;
}

/* The header line names @first then @cols, exactly. */
static bool header_is(char *line, const char *first, const char *second,
		      const char *const *cols, int n)
{
	char *w[32];
	int got = split(line, w, 32), lead = second ? 2 : 1;

	if (got != n + lead || strcmp(w[0], first) || (second && strcmp(w[1], second)))
		return false;
	for (int i = 0; i < n; i++)
		if (strcmp(w[lead + i], cols[i]))
			return false;
	return true;
}

/* `stats`: the header, then one row per kind in ABI order. */
static int parse_stats(char *text, struct stats *s)
{
	char *line = next_line(&text), *w[32];
	int k = 0, n = 1;

	memset(s, 0, sizeof(*s));
	if (!line || !header_is(line, "kind", NULL, stat_cols, NR_ST))
		return parse_fail("stats", 1, "the header is not 'kind' and the documented columns");
	while ((line = next_line(&text))) {
		n++;
		if (++k > NR_KINDS)
			return parse_fail("stats", n, "more rows than kinds");
		if (split(line, w, 32) != 1 + NR_ST || strcmp(w[0], kind_name(k)))
			return parse_fail("stats", n, "not the next kind with every column");
		for (int c = 0; c < NR_ST; c++)
			if (!parse_u64(w[1 + c], &s->v[k][c]))
				return parse_fail("stats", n, "not an unsigned decimal number");
	}
	return k == NR_KINDS ? 0 : parse_fail("stats", n, "fewer rows than kinds");
}

/* `percpu`: the header, then one row per possible CPU and kind. */
static int parse_percpu(char *text, struct percpu *p)
{
	char *line = next_line(&text), *w[32];
	int n = 1;

	memset(p, 0, sizeof(*p));
	if (!line || !header_is(line, "cpu", "kind", percpu_cols, NR_PC))
		return parse_fail("percpu", 1, "the header is not 'cpu kind' and the documented columns");
	while ((line = next_line(&text))) {
		unsigned long long cpu, u;
		bool cpu_seen = false;
		int k;

		n++;
		if (split(line, w, 32) != 2 + NR_PC)
			return parse_fail("percpu", n, "not every column");
		if (!parse_u64(w[0], &cpu) || cpu >= MAX_CPUS)
			return parse_fail("percpu", n, "bad CPU");
		k = kind_by_name(w[1]);
		if (!k || p->listed[cpu][k])
			return parse_fail("percpu", n, "unknown or repeated kind for the CPU");
		for (int c = 0; c < NR_PC; c++) {
			/* bytes and pages are the signed net change made on the CPU. */
			if (c == PC_BYTES || c == PC_PAGES) {
				if (!parse_s64(w[2 + c], &p->v[cpu][k][c]))
					return parse_fail("percpu", n, "not a signed decimal number");
			} else {
				if (!parse_u64(w[2 + c], &u))
					return parse_fail("percpu", n, "not an unsigned decimal number");
				p->v[cpu][k][c] = (long long)u;
			}
		}
		for (int j = 1; j <= NR_KINDS; j++)
			cpu_seen |= p->listed[cpu][j];
		p->cpus += !cpu_seen;
		p->listed[cpu][k] = true;
	}
	for (int cpu = 0; cpu < MAX_CPUS; cpu++) {
		for (int k = 1; k <= NR_KINDS; k++) {
			if (p->listed[cpu][k] != p->listed[cpu][1])
				return parse_fail("percpu", n, "a CPU without a row for every kind");
		}
	}
	return 0;
}

/* `objects`: the header, then one row per live object. */
static int parse_objects(char *text, struct object_row **rows, int *nr)
{
	char *line = next_line(&text), *w[32];
	int n = 1, room = 0;

	*rows = NULL;
	*nr = 0;
	if (!line || !header_is(line, object_cols[0], NULL, object_cols + 1,
				ARRAY_SIZE(object_cols) - 1))
		return parse_fail("objects", 1, "the header is not the documented columns");
	while ((line = next_line(&text))) {
		struct object_row r;

		n++;
		if (split(line, w, 32) != ARRAY_SIZE(object_cols))
			return parse_fail("objects", n, "not every column");
		r.kind = kind_by_name(w[2]);
		if (!parse_s64(w[0], &r.pid) || !parse_u64(w[1], &r.handle) || !r.kind ||
		    !parse_u64(w[3], &r.size) || !parse_u64(w[4], &r.order) ||
		    !parse_s64(w[5], &r.node) || !parse_s64(w[6], &r.nid) || !parse_u64(w[7], &r.cpu) ||
		    !zone_by_name(w[8]) || !backing_by_name(w[9]))
			return parse_fail("objects", n, "a field that does not parse");
		if (*nr == room) {
			struct object_row *bigger;

			room = room ? 2 * room : 256;
			bigger = realloc(*rows, room * sizeof(**rows));
			if (!bigger)
				return parse_fail("objects", n, "out of memory");
			*rows = bigger;
		}
		(*rows)[(*nr)++] = r;
	}
	return 0;
}

/*
 * `caches` (optional): the header `name object_size live`, then one row per
 * kmemlab cache. Its live count for cache @name (with or without the
 * "kmemlab-" prefix) in *@live, and the number of rows in *@rows. -ENOENT
 * when there is no caches file.
 */
static int read_caches(const char *name, long long *live, int *rows)
{
	static const char *const cols[] = { "object_size", "live" };
	char *buf = read_file(DEBUGFS_DIR "/caches"), *text = buf, *line, *w[8];
	int n = 1, ret = 0;

	*live = -1;
	*rows = 0;
	if (!buf)
		return errno == ENOENT ? -ENOENT : -errno;
	line = next_line(&text);
	if (!line || !header_is(line, "name", NULL, cols, 2))
		ret = parse_fail("caches", 1, "the header is not 'name object_size live'");
	while (!ret && (line = next_line(&text))) {
		unsigned long long size, l;
		const char *bare;

		n++;
		if (split(line, w, 8) != 3 || !parse_u64(w[1], &size) || !parse_u64(w[2], &l)) {
			ret = parse_fail("caches", n, "not a name and two numbers");
			break;
		}
		(*rows)++;
		bare = strncmp(w[0], "kmemlab-", 8) ? w[0] : w[0] + 8;
		if (!strcmp(bare, name))
			*live = l;
	}
	free(buf);
	return ret;
}

/* Reads and parses debugfs file @file with @parse. */
#define READ_DEBUGFS(file, parse, ...) ({					\
	char *__buf = read_file(DEBUGFS_DIR "/" file);				\
	int __ret = __buf ? parse(__buf, __VA_ARGS__) :				\
			    parse_fail(file, 0, strerror(errno));		\
	free(__buf);								\
	__ret;									\
})

static void read_stats(struct __test_metadata *_metadata, struct stats *s)
{
	ASSERT_EQ(0, READ_DEBUGFS("stats", parse_stats, s)) TH_LOG("%s", parse_error);
}

/*
 * Checks what every reading must satisfy: live = created - freed, failed is
 * the sum of its errno columns, the percpu file lists every possible CPU with
 * every kind, and summed over the CPUs each of its columns equals the stats
 * column of the same name.
 */
static void check_consistent(struct __test_metadata *_metadata, const struct snapshot *s)
{
	int possible = nr_possible_cpus();

	if (possible > 0) {
		EXPECT_EQ(possible, s->pc->cpus) TH_LOG("percpu lists every possible CPU");
	}
	for (int k = 1; k <= NR_KINDS; k++) {
		const unsigned long long *v = s->st.v[k];

		EXPECT_EQ(v[ST_LIVE], v[ST_CREATED] - v[ST_FREED]) TH_LOG("%s", kind_name(k));
		EXPECT_EQ(v[ST_FAILED], v[ST_ENOMEM] + v[ST_EINVAL] + v[ST_ENODEV] + v[ST_OTHER])
			TH_LOG("%s", kind_name(k));
		for (int c = 0; c < NR_PC; c++) {
			long long sum = 0;

			for (int cpu = 0; cpu < MAX_CPUS; cpu++)
				sum += s->pc->v[cpu][k][c];
			EXPECT_EQ((long long)v[percpu_stat[c]], sum)
				TH_LOG("%s: percpu %s summed over the CPUs", kind_name(k),
				       percpu_cols[c]);
		}
	}
}

static void take_snapshot(struct __test_metadata *_metadata, struct snapshot *s)
{
	s->pc = malloc(sizeof(*s->pc));
	ASSERT_NE(NULL, s->pc);
	read_stats(_metadata, &s->st);
	ASSERT_EQ(0, READ_DEBUGFS("percpu", parse_percpu, s->pc)) TH_LOG("%s", parse_error);
	ASSERT_EQ(0, READ_DEBUGFS("objects", parse_objects, &s->objs, &s->nr_objs))
		TH_LOG("%s", parse_error);
	check_consistent(_metadata, s);
}

static void drop_snapshot(struct snapshot *s)
{
	free(s->pc);
	free(s->objs);
	s->pc = NULL;
	s->objs = NULL;
}

/* ---- stats.json, checked simply ---- */

/* Braces and brackets balance (outside strings) and close at the end. */
static bool json_balanced(const char *s)
{
	char stack[64];
	int depth = 0;
	bool in_string = false;

	for (; *s; s++) {
		if (in_string) {
			if (*s == '\\' && s[1])
				s++;
			else if (*s == '"')
				in_string = false;
		} else if (*s == '"') {
			in_string = true;
		} else if (*s == '{' || *s == '[') {
			if (depth == (int)sizeof(stack))
				return false;
			stack[depth++] = *s == '{' ? '}' : ']';
		} else if (*s == '}' || *s == ']') {
			if (!depth || stack[--depth] != *s)
				return false;
		} else if (!depth && !isspace((unsigned char)*s)) {
			return false;	/* something outside the document */
		}
	}
	return !depth && !in_string;
}

/* Elements of the array under key @key ("kinds"), or -1 when there is none. */
static int json_array_len(const char *s, const char *key)
{
	char quoted[64];
	const char *p;
	int depth = 0, n = 0;
	bool in_string = false, empty = true;

	snprintf(quoted, sizeof(quoted), "\"%s\"", key);
	/* The key, not the same word as a value ("kind": "percpu"): the one followed by ':'. */
	for (p = strstr(s, quoted); p; p = strstr(p, quoted)) {
		p += strlen(quoted);
		while (isspace((unsigned char)*p))
			p++;
		if (*p == ':')
			break;
	}
	if (!p)
		return -1;
	p++;
	while (isspace((unsigned char)*p))
		p++;
	if (*p++ != '[')
		return -1;
	for (; *p; p++) {
		if (in_string) {
			if (*p == '\\' && p[1])
				p++;
			else if (*p == '"')
				in_string = false;
			continue;
		}
		if (isspace((unsigned char)*p))
			continue;
		if (!depth && *p == ']')
			return empty ? 0 : n + 1;
		empty = false;
		if (*p == '"')
			in_string = true;
		else if (*p == '{' || *p == '[')
			depth++;
		else if (*p == '}' || *p == ']')
			depth--;
		else if (!depth && *p == ',')
			n++;
	}
	return -1;
}

/* stats.json: one balanced document with every kind, a row per CPU and kind, @objects objects. */
static void check_json(struct __test_metadata *_metadata, int objects)
{
	char *json = read_file(DEBUGFS_DIR "/stats.json");
	int possible = nr_possible_cpus();

	ASSERT_NE(NULL, json) TH_LOG("stats.json: %s", strerror(errno));
	EXPECT_TRUE(json_balanced(json)) TH_LOG("stats.json: %s", json);
	EXPECT_NE(NULL, strstr(json, "\"version\""));
	EXPECT_EQ(NR_KINDS, json_array_len(json, "kinds"));
	if (possible > 0) {
		EXPECT_EQ(possible * NR_KINDS, json_array_len(json, "percpu"));
	}
	EXPECT_EQ(objects, json_array_len(json, "objects"));
	for (int k = 1; k <= NR_KINDS; k++) {
		char quoted[32];

		snprintf(quoted, sizeof(quoted), "\"%s\"", kind_name(k));
		EXPECT_NE(NULL, strstr(json, quoted)) TH_LOG("stats.json names %s", quoted);
	}
	free(json);
}

/* ---- what an object costs (README, Statistics) ---- */

static long page_size(void)
{
	return sysconf(_SC_PAGESIZE);
}

/* The kernel's get_order(): the smallest order whose block holds @size bytes. */
static unsigned int get_order(unsigned long long size)
{
	unsigned int order = 0;

	while (((unsigned long long)page_size() << order) < size)
		order++;
	return order;
}

/*
 * The `bytes` and `pages` one live object adds: @size is the size asked (a
 * cache's object size for KMEM_CACHE, bytes mapped for IOREMAP), @order the
 * page order for the page kinds.
 */
static void object_cost(__u32 kind, unsigned long long size, unsigned int order,
			unsigned long long *bytes, unsigned long long *pages)
{
	unsigned long long page = page_size();

	*pages = 0;
	switch (kind) {
	case KMEMLAB_KIND_FREE_PAGES:
	case KMEMLAB_KIND_PAGES_NODE:
		*bytes = page << order;
		*pages = 1ULL << order;
		break;
	case KMEMLAB_KIND_VMALLOC:
		*bytes = size;
		*pages = (size + page - 1) / page;
		break;
	case KMEMLAB_KIND_DMA_COHERENT:
		*bytes = size;
		*pages = 1ULL << get_order(size);
		break;
	case KMEMLAB_KIND_KMALLOC:
		*bytes = size;
		if (size > KMALLOC_CACHE_MAX)
			*pages = 1ULL << get_order(size);
		break;
	case KMEMLAB_KIND_PERCPU:
		*bytes = 8ULL * nr_possible_cpus();
		break;
	default: /* KMEM_CACHE, IOREMAP, DMA_POOL (the pool's pages are the pool's) */
		*bytes = size;
		break;
	}
}

/* What the test made, per kind. */
struct tally {
	unsigned long long created[NR_KINDS + 1], freed[NR_KINDS + 1];
	unsigned long long bytes[NR_KINDS + 1], pages[NR_KINDS + 1];
};

static void tally_add(struct tally *sum, const struct tally *t)
{
	for (int k = 1; k <= NR_KINDS; k++) {
		sum->created[k] += t->created[k];
		sum->freed[k] += t->freed[k];
		sum->bytes[k] += t->bytes[k];
		sum->pages[k] += t->pages[k];
	}
}

/* ---- the workload of one file ---- */

#define MAX_OBJS 640

struct obj {
	__u32 handle, kind;
	unsigned long long bytes, pages;
	bool freed;
};

/* One file's workload: in a thread pinned to @cpu, or in the test itself. */
struct worker {
	int index, cpu, node, fd;
	bool with_cache, with_edu;
	sem_t *opened;
	pthread_barrier_t *start;
	struct obj objs[MAX_OBJS];
	int nr;
	__u32 cache, pool;
	struct tally t;
	int errors;
	char why[256];
};

static void worker_fail(struct worker *w, const char *what, int err)
{
	if (!w->errors++)
		snprintf(w->why, sizeof(w->why), "%s: %s", what, strerror(-err));
}

/* Allocates @count objects and records them; @size is what object_cost() takes. */
static void w_alloc(struct worker *w, __u32 kind, __u64 size, __u32 order, __s32 node,
		    __u32 cache, __u32 count, unsigned long long cost_size)
{
	__u32 h[KMEMLAB_BATCH_MAX];
	unsigned long long bytes, pages;
	char what[96];
	int ret;

	if (w->nr + count > MAX_OBJS) {
		worker_fail(w, "MAX_OBJS too small", -ENOSPC);
		return;
	}
	ret = alloc_n(w->fd, kind, size, order, node, cache, 0, count, h);
	if (ret) {
		snprintf(what, sizeof(what), "alloc %u x %s size %llu order %u", count,
			 kind_name(kind), (unsigned long long)size, order);
		worker_fail(w, what, ret);
		return;
	}
	object_cost(kind, cost_size, order, &bytes, &pages);
	for (__u32 i = 0; i < count; i++)
		w->objs[w->nr++] = (struct obj){ .handle = h[i], .kind = kind, .bytes = bytes,
						 .pages = pages };
	w->t.created[kind] += count;
	w->t.bytes[kind] += count * bytes;
	w->t.pages[kind] += count * pages;
}

/* Frees every third object of each kind (the second, fifth, ...), in one call. */
static void w_free_part(struct worker *w)
{
	__u32 h[MAX_OBJS], n = 0, seen[NR_KINDS + 1] = { 0 };
	int ret;

	for (int i = 0; i < w->nr; i++) {
		struct obj *o = &w->objs[i];

		if (seen[o->kind]++ % 3 != 1)
			continue;
		h[n++] = o->handle;
		o->freed = true;
		w->t.freed[o->kind]++;
		w->t.bytes[o->kind] -= o->bytes;
		w->t.pages[o->kind] -= o->pages;
	}
	ret = free_handles(w->fd, n, h);
	if (ret)
		worker_fail(w, "free", ret);
}

/*
 * The mix: kmalloc of five sizes (two above 8 KiB), vmalloc of sizes that are
 * not page multiples, free_pages of order 0 and 2 and pages_node of order 2
 * (256 blocks each: 8 MiB a file, for MemFree to see), per-CPU counters, faux
 * DMA buffers, blocks of a faux DMA pool (of a size the pool keeps as it is);
 * with_cache adds a cache and objects from it, with_edu a mapping of edu's
 * registers. Then every third object of each kind is freed.
 */
static void workload(struct worker *w)
{
	const __u64 kmalloc_sizes[] = { 8, 333, 4096, 9000 + 512 * w->index, 70000 };
	const __u64 vmalloc_sizes[] = { 100, 5000 + w->index, 3 * page_size() + 1 };
	const __u64 dma_sizes[] = { 1, 5000, 70000 };
	__u32 h = 0;
	int ret;

	for (size_t i = 0; i < ARRAY_SIZE(kmalloc_sizes); i++)
		w_alloc(w, KMEMLAB_KIND_KMALLOC, kmalloc_sizes[i], 0, KMEMLAB_NODE_ANY, 0, 2,
			kmalloc_sizes[i]);
	for (size_t i = 0; i < ARRAY_SIZE(vmalloc_sizes); i++)
		w_alloc(w, KMEMLAB_KIND_VMALLOC, vmalloc_sizes[i], 0, KMEMLAB_NODE_ANY, 0, 2,
			vmalloc_sizes[i]);
	w_alloc(w, KMEMLAB_KIND_FREE_PAGES, 0, 0, KMEMLAB_NODE_ANY, 0, 4, 0);
	w_alloc(w, KMEMLAB_KIND_FREE_PAGES, 0, 2, KMEMLAB_NODE_ANY, 0, 256, 0);
	w_alloc(w, KMEMLAB_KIND_PAGES_NODE, 0, 2, w->node, 0, 256, 0);
	w_alloc(w, KMEMLAB_KIND_PERCPU, 0, 0, KMEMLAB_NODE_ANY, 0, 3, 0);
	for (size_t i = 0; i < ARRAY_SIZE(dma_sizes); i++)
		w_alloc(w, KMEMLAB_KIND_DMA_COHERENT, dma_sizes[i], 0, KMEMLAB_NODE_ANY,
			KMEMLAB_DEV_FAUX, 1, dma_sizes[i]);
	ret = dma_pool_create(w->fd, CACHE_NAME, KMEMLAB_DEV_FAUX, POOL_BLOCK, 0, 0, &w->pool);
	if (ret)
		worker_fail(w, "DMA pool create " CACHE_NAME, ret);
	else
		w_alloc(w, KMEMLAB_KIND_DMA_POOL, 0, 0, KMEMLAB_NODE_ANY, w->pool, 12, POOL_BLOCK);
	if (w->with_cache) {
		ret = cache_create(w->fd, CACHE_NAME, CACHE_OBJECT_SIZE, 0, &w->cache);
		if (ret)
			worker_fail(w, "cache create " CACHE_NAME, ret);
		else
			w_alloc(w, KMEMLAB_KIND_KMEM_CACHE, 0, 0, KMEMLAB_NODE_ANY, w->cache, 40,
				CACHE_OBJECT_SIZE);
	}
	if (w->with_edu) {
		ret = ioremap_edu(w->fd, &h);
		if (ret) {
			worker_fail(w, "ioremap edu", ret);
		} else {
			w->objs[w->nr++] = (struct obj){ .handle = h, .kind = KMEMLAB_KIND_IOREMAP,
							 .bytes = KMEMLAB_EDU_REGS_SIZE };
			w->t.created[KMEMLAB_KIND_IOREMAP]++;
			w->t.bytes[KMEMLAB_KIND_IOREMAP] += KMEMLAB_EDU_REGS_SIZE;
		}
	}
	w_free_part(w);
}

/* A pinned thread: opens its file (the test waits for that), then runs the workload. */
static void *worker_thread(void *arg)
{
	struct worker *w = arg;

	w->fd = open(KMEMLAB_DEVICE, O_RDWR | O_CLOEXEC);
	if (w->fd < 0)
		worker_fail(w, "open " KMEMLAB_DEVICE, -errno);
	sem_post(w->opened);
	pthread_barrier_wait(w->start);
	if (w->fd >= 0) {
		if (sched_getcpu() != w->cpu)
			worker_fail(w, "not running on the CPU it is pinned to", -EINVAL);
		workload(w);
	}
	return NULL;
}

/* Empties @name's KASAN quarantine (and frees its empty slabs); best effort. */
static void shrink_cache(const char *name)
{
	char path[256];
	int fd;

	snprintf(path, sizeof(path), "/sys/kernel/slab/%s/shrink", name);
	fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return;
	if (write(fd, "1", 1) < 0)
		perror(path);
	close(fd);
}

/*
 * Free memory in kB: MemFree plus the pages on the per-CPU page lists (the
 * "count:" of every pageset in /proc/zoneinfo), which are free but not in
 * MemFree; a page freed goes to such a list first. -1 when unreadable.
 */
static long long free_kb(void)
{
	char line[256];
	long long pages = 0, n, mem_free = mem_free_kb();
	FILE *f = fopen("/proc/zoneinfo", "r");

	if (!f || mem_free < 0) {
		if (f)
			fclose(f);
		return -1;
	}
	while (fgets(line, sizeof(line), f)) {
		if (sscanf(line, " count: %lld", &n) == 1)
			pages += n;
	}
	fclose(f);
	return mem_free + pages * page_size() / 1024;
}

/* Sum of pages=N of kmemlab's vmalloc areas in /proc/vmallocinfo (not its ioremaps), or -1. */
static long long vmallocinfo_pages(void)
{
	char line[512];
	long long pages = 0;
	FILE *f = fopen("/proc/vmallocinfo", "r");

	if (!f)
		return -1;
	/* "0x<start>-0x<end> <size> <caller> [pages=N] [phys=..] [ioremap] [vmalloc] ... [N0=..]" */
	while (fgets(line, sizeof(line), f)) {
		const char *p = strstr(line, " pages=");
		long long n;

		if (!strstr(line, " [kmemlab]") || has_word(line, "ioremap"))
			continue;
		if (p && sscanf(p, " pages=%lld", &n) == 1)
			pages += n;
	}
	fclose(f);
	return pages;
}

/* The first field in which objects row @r differs from @in (made by process @pid on @cpu), or NULL. */
static const char *row_differs(const struct object_row *r, const struct kmemlab_info *in, pid_t pid,
			       int cpu)
{
	if (r->pid != pid)
		return "pid (not this process's)";
	if (r->handle != in->handle)
		return "handle (rows out of file or handle order?)";
	if (r->kind != (int)in->kind)
		return "kind";
	if (r->size != in->size)
		return "size";
	if (r->order != in->order)
		return "order";
	if (r->node != in->node)
		return "node";
	if (r->nid != in->nid)
		return "nid";
	if (r->cpu != in->cpu)
		return "cpu";
	if (in->cpu != (__u32)cpu)
		return "cpu (INFO: not the CPU the thread is pinned to)";
	return NULL;
}

/* The cache is a SLUB debug cache (CONFIG_SLUB_DEBUG_ON): every object is tracked exactly. */
static bool slab_debug_cache(const char *name)
{
	char path[128], buf[8];

	snprintf(path, sizeof(path), "/sys/kernel/slab/%s/sanity_checks", name);
	return !read_line(path, buf, sizeof(buf)) && buf[0] == '1';
}

/* debugfs is mounted where kmemlab's files are looked for. */
static bool debugfs_mounted(void)
{
	char line[512], dir[256], type[64];
	bool found = false;
	FILE *f = fopen("/proc/mounts", "r");

	if (!f)
		return false;
	while (!found && fgets(line, sizeof(line), f))
		found = sscanf(line, "%*s %255s %63s", dir, type) == 2 &&
			!strcmp(dir, "/sys/kernel/debug") && !strcmp(type, "debugfs");
	fclose(f);
	return found;
}

/* ---- the tests ---- */

FIXTURE(stats) {
	int possible;	/* possible CPUs */
};

FIXTURE_SETUP(stats)
{
	if (access("/sys/module/kmemlab", F_OK))
		SKIP(return, "kmemlab module not loaded");
	if (!debugfs_mounted())
		SKIP(return, "debugfs not mounted (mount -t debugfs none /sys/kernel/debug)");
	if (access(DEBUGFS_DIR "/stats", F_OK))
		SKIP(return, "no " DEBUGFS_DIR "/stats: the loaded module has no statistics");
	self->possible = nr_possible_cpus();
	ASSERT_LT(0, self->possible) TH_LOG(CPU_DIR "/possible");
}

FIXTURE_TEARDOWN(stats)
{
}

TEST_F(stats, baseline_nothing_live_with_no_file_open)
{
	struct snapshot s = { 0 };
	long long live;
	int rows, ret;

	take_snapshot(_metadata, &s);
	for (int k = 1; k <= NR_KINDS; k++) {
		EXPECT_EQ(0ULL, s.st.v[k][ST_LIVE]) TH_LOG("%s", kind_name(k));
		EXPECT_EQ(0ULL, s.st.v[k][ST_BYTES]) TH_LOG("%s", kind_name(k));
		EXPECT_EQ(0ULL, s.st.v[k][ST_PAGES]) TH_LOG("%s", kind_name(k));
	}
	EXPECT_EQ(0, s.nr_objs) TH_LOG("the objects file lists no object");
	/* Caches belong to open files: none is left either. */
	ret = read_caches(CACHE_NAME, &live, &rows);
	if (ret != -ENOENT) {
		ASSERT_EQ(0, ret) TH_LOG("%s", parse_error);
		EXPECT_EQ(0, rows);
	}
	check_json(_metadata, 0);
	drop_snapshot(&s);
}

TEST_F_TIMEOUT(stats, mixed_workload_on_every_cpu, 240)
{
	int cpus[CPU_SETSIZE], n = online_cpus(cpus), nr_nodes, rows, row = 0, bad_rows = 0, ret;
	struct snapshot before = { 0 }, after = { 0 };
	struct tally want = { 0 };
	struct kmemlab_version v;
	struct worker *w;
	pthread_barrier_t start;
	pthread_t *threads;
	long long free_before, free_after;
	long long vm_pages, live;
	unsigned long long page_kinds_kb;
	long long slack_kb;
	sem_t opened;
	bool edu;
	int fd;

	ASSERT_LT(0, n) TH_LOG("no online CPU in " CPU_DIR);
	fd = open_dev(_metadata);
	if (fd < 0)
		return;
	ASSERT_EQ(0, ioctl(fd, KMEMLAB_IOC_VERSION, &v));
	close(fd);
	nr_nodes = v.nr_nodes ? v.nr_nodes : 1;
	edu = v.features & KMEMLAB_FEAT_EDU;
	ASSERT_GT(0, slab_active("kmemlab-" CACHE_NAME)) TH_LOG("a leftover kmemlab-" CACHE_NAME);

	w = calloc(n, sizeof(*w));
	threads = calloc(n, sizeof(*threads));
	ASSERT_NE(NULL, w);
	ASSERT_NE(NULL, threads);
	ASSERT_EQ(0, sem_init(&opened, 0, 0));
	ASSERT_EQ(0, pthread_barrier_init(&start, NULL, n + 1));
	take_snapshot(_metadata, &before);

	/*
	 * One thread pinned to each online CPU, each on its own file; they open
	 * their files one after the other (the objects file lists files in the
	 * order they were opened), then all start at once.
	 */
	for (int i = 0; i < n; i++) {
		pthread_attr_t attr;
		cpu_set_t set;

		CPU_ZERO(&set);
		CPU_SET(cpus[i], &set);
		w[i] = (struct worker){
			.index = i, .cpu = cpus[i], .node = i % nr_nodes, .fd = -1,
			.with_cache = i == 0, .with_edu = i == 0 && edu,
			.opened = &opened, .start = &start,
		};
		ASSERT_EQ(0, pthread_attr_init(&attr));
		ASSERT_EQ(0, pthread_attr_setaffinity_np(&attr, sizeof(set), &set));
		ASSERT_EQ(0, pthread_create(&threads[i], &attr, worker_thread, &w[i]))
			TH_LOG("thread on CPU %d", cpus[i]);
		pthread_attr_destroy(&attr);
		ASSERT_EQ(0, sem_wait(&opened));
	}
	pthread_barrier_wait(&start);
	for (int i = 0; i < n; i++) {
		ASSERT_EQ(0, pthread_join(threads[i], NULL));
		EXPECT_EQ(0, w[i].errors) TH_LOG("CPU %d: %s", w[i].cpu, w[i].why);
		tally_add(&want, &w[i].t);
	}
	pthread_barrier_destroy(&start);
	sem_destroy(&opened);
	for (int i = 0; i < n; i++) {
		ASSERT_EQ(0, w[i].errors);
	}

	/* Files still open: the figures are what the test made. */
	take_snapshot(_metadata, &after);
	for (int k = 1; k <= NR_KINDS; k++) {
		const unsigned long long *a = after.st.v[k], *b = before.st.v[k];

		EXPECT_EQ(want.created[k] - want.freed[k], a[ST_LIVE]) TH_LOG("%s", kind_name(k));
		EXPECT_EQ(want.bytes[k], a[ST_BYTES]) TH_LOG("%s", kind_name(k));
		EXPECT_EQ(want.pages[k], a[ST_PAGES]) TH_LOG("%s", kind_name(k));
		EXPECT_EQ(want.created[k], a[ST_CREATED] - b[ST_CREATED]) TH_LOG("%s", kind_name(k));
		EXPECT_EQ(want.freed[k], a[ST_FREED] - b[ST_FREED]) TH_LOG("%s", kind_name(k));
		EXPECT_EQ(0ULL, a[ST_FAILED] - b[ST_FAILED]) TH_LOG("%s", kind_name(k));
		EXPECT_LE(b[ST_NS], a[ST_NS]) TH_LOG("%s", kind_name(k));
		EXPECT_LE(a[ST_BYTES], a[ST_HWM] + HWM_SLACK_PER_CPU * self->possible)
			TH_LOG("%s: hwm_bytes below what is live", kind_name(k));
	}

	/* Each thread's allocations and frees were counted on the CPU it ran on. */
	for (int i = 0; i < n; i++) {
		int cpu = w[i].cpu;

		ASSERT_GT(MAX_CPUS, cpu);
		for (int k = 1; k <= NR_KINDS; k++) {
			EXPECT_LE((long long)w[i].t.created[k],
				  after.pc->v[cpu][k][PC_CREATED] - before.pc->v[cpu][k][PC_CREATED])
				TH_LOG("CPU %d: %s created", cpu, kind_name(k));
			EXPECT_LE((long long)w[i].t.freed[k],
				  after.pc->v[cpu][k][PC_FREED] - before.pc->v[cpu][k][PC_FREED])
				TH_LOG("CPU %d: %s freed", cpu, kind_name(k));
		}
	}

	/*
	 * The objects file: exactly the live objects, this process's, files in
	 * the order they were opened and objects in handle order, each row as
	 * KMEMLAB_IOC_INFO describes the object.
	 */
	for (int i = 0; i < n; i++) {
		__u32 count = nr_objects(w[i].fd);
		struct kmemlab_info *infos = calloc(count + 1, sizeof(*infos));
		struct kmemlab_list l = { .count = count, .infos = (__u64)(unsigned long)infos };

		ASSERT_NE(NULL, infos);
		ASSERT_EQ(0, ioctl(w[i].fd, KMEMLAB_IOC_LIST, &l));
		ASSERT_EQ(count, l.count);
		for (__u32 j = 0; j < count && row < after.nr_objs; j++, row++) {
			const struct object_row *r = &after.objs[row];
			struct kmemlab_info in;
			const char *field;

			ASSERT_EQ(0, info(w[i].fd, infos[j].handle, &in));
			field = row_differs(r, &in, getpid(), w[i].cpu);
			if (field && !bad_rows++)
				TH_LOG("objects row %d (pid %lld handle %llu, CPU %d's file, handle %u): %s",
				       row + 1, r->pid, r->handle, w[i].cpu, in.handle, field);
		}
		free(infos);
	}
	EXPECT_EQ(0, bad_rows) TH_LOG("objects rows that differ from KMEMLAB_IOC_INFO");
	EXPECT_EQ(row, after.nr_objs) TH_LOG("objects lists exactly the live objects");
	rows = 0;
	for (int k = 1; k <= NR_KINDS; k++)
		rows += want.created[k] - want.freed[k];
	EXPECT_EQ(rows, row);
	check_json(_metadata, row);

	/* vmalloc's pages are the pages of kmemlab's areas in /proc/vmallocinfo. */
	vm_pages = vmallocinfo_pages();
	if (vm_pages >= 0) {
		EXPECT_EQ((long long)after.st.v[KMEMLAB_KIND_VMALLOC][ST_PAGES], vm_pages);
	}

	/*
	 * The cache's objects: kmemlab's count, /proc/slabinfo's and the caches file's.
	 * Shrinking the cache first empties KASAN's quarantine of its freed objects,
	 * which slabinfo would otherwise still count as active.
	 */
	shrink_cache("kmemlab-" CACHE_NAME);
	live = slab_active("kmemlab-" CACHE_NAME);
	if (live != -2) {
		long long ours = after.st.v[KMEMLAB_KIND_KMEM_CACHE][ST_LIVE];

		EXPECT_LE(ours - KFENCE_SLACK, live) TH_LOG("slabinfo active_objs");
		/* A debug cache has no per-CPU free lists counted as active: exact. */
		if (slab_debug_cache("kmemlab-" CACHE_NAME)) {
			EXPECT_GE(ours, live) TH_LOG("slabinfo active_objs");
		}
	}
	ret = read_caches(CACHE_NAME, &live, &rows);
	if (ret != -ENOENT) {
		ASSERT_EQ(0, ret) TH_LOG("%s", parse_error);
		EXPECT_EQ((long long)(w[0].t.created[KMEMLAB_KIND_KMEM_CACHE] -
				      w[0].t.freed[KMEMLAB_KIND_KMEM_CACHE]), live);
		EXPECT_EQ(1, rows) TH_LOG("the caches file lists the one kmemlab cache");
	}

	/*
	 * The page kinds' pages are real pages: closing the files gives them
	 * back to free memory (about 21 MiB with 4 CPUs), give or take
	 * MEMFREE_SLACK_KB of other activity. Measured around the close, not
	 * around the workload: its allocations also drain what earlier tests
	 * left in KASAN's quarantine (tens of MiB on the debug kernel), which
	 * raised MemFree by more than the workload took. The workload holds
	 * more than the slack, so the check cannot pass for want of a bound.
	 */
	page_kinds_kb = (after.st.v[KMEMLAB_KIND_FREE_PAGES][ST_PAGES] +
			 after.st.v[KMEMLAB_KIND_PAGES_NODE][ST_PAGES]) * page_size() / 1024;
	slack_kb = MEMFREE_SLACK_KB;
	ASSERT_LT(slack_kb, (long long)page_kinds_kb)
		TH_LOG("the page kinds hold %llu kB, not more than the slack", page_kinds_kb);
	free_before = free_kb();
	for (int i = 0; i < n; i++)
		close(w[i].fd);
	free_after = free_kb();
	ASSERT_LE(0, free_before);
	ASSERT_LE(0, free_after);
	EXPECT_LE((long long)page_kinds_kb - slack_kb, free_after - free_before)
		TH_LOG("free %lld kB with the files open, %lld closed; page kinds held %llu kB; slack %lld kB",
		       free_before, free_after, page_kinds_kb, slack_kb);
	drop_snapshot(&before);
	drop_snapshot(&after);
	free(threads);
	free(w);
}

/* An ALLOC that fails as @err; nothing else in @want. */
struct failure {
	__u32 kind, order, cache, gfp, count;
	__u64 size;
	__s32 node;
	int err;
	const char *what;
};

static int errno_column(int err)
{
	switch (err) {
	case -ENOMEM:
		return ST_ENOMEM;
	case -EINVAL:
		return ST_EINVAL;
	case -ENODEV:
		return ST_ENODEV;
	default:
		return ST_OTHER;
	}
}

/* Between @b and @a, exactly one failure of @kind with @err happened, on @cpu. */
static void check_one_failure(struct __test_metadata *_metadata, const struct snapshot *b,
			      const struct snapshot *a, __u32 kind, int err, int cpu,
			      const char *what)
{
	for (int k = 1; k <= NR_KINDS; k++) {
		for (int c = 0; c < NR_ST; c++) {
			unsigned long long grew = k == (int)kind &&
						  (c == ST_FAILED || c == errno_column(err));

			if (c == ST_HWM || c == ST_NS)
				continue;
			EXPECT_EQ(grew, a->st.v[k][c] - b->st.v[k][c])
				TH_LOG("%s: %s %s", what, kind_name(k), stat_cols[c]);
		}
	}
	EXPECT_EQ(1, a->pc->v[cpu][kind][PC_FAILED] - b->pc->v[cpu][kind][PC_FAILED])
		TH_LOG("%s: counted on CPU %d, where it ran", what, cpu);
}

TEST_F(stats, failures_are_counted_by_kind_and_errno)
{
	struct failure cases[] = {
		{ .kind = KMEMLAB_KIND_KMALLOC, .size = 0, .err = -EINVAL, .what = "kmalloc size 0" },
		{ .kind = KMEMLAB_KIND_VMALLOC, .size = (1ULL << 30) + 1, .err = -EINVAL,
		  .what = "vmalloc past 1 GiB" },
		/* The default quota is 256 MiB a file; one failed call counts once whatever its count. */
		{ .kind = KMEMLAB_KIND_VMALLOC, .size = 64ULL << 20, .count = 8, .err = -ENOMEM,
		  .what = "8 x 64 MiB vmalloc past the quota" },
		{ .kind = KMEMLAB_KIND_FREE_PAGES, .order = MAX_ORDER + 1, .err = -EINVAL,
		  .what = "free_pages of an impossible order" },
		{ .kind = KMEMLAB_KIND_PAGES_NODE, .order = MAX_ORDER + 1, .node = 0, .err = -EINVAL,
		  .what = "pages_node of an impossible order" },
		{ .kind = KMEMLAB_KIND_KMEM_CACHE, .cache = 999, .err = -ENOENT,
		  .what = "kmem_cache of an unknown cache (other)" },
		{ .kind = KMEMLAB_KIND_DMA_COHERENT, .size = 0, .cache = KMEMLAB_DEV_FAUX,
		  .err = -EINVAL, .what = "dma_coherent size 0" },
		{ .kind = KMEMLAB_KIND_PERCPU, .gfp = KMEMLAB_GFP_ATOMIC, .err = -EINVAL,
		  .what = "percpu ATOMIC" },
		{ .kind = KMEMLAB_KIND_DMA_POOL, .cache = 999, .err = -ENOENT,
		  .what = "dma_pool of an unknown pool (other)" },
		/* Without edu: refused as absent (skipped below when edu is bound). */
		{ .kind = KMEMLAB_KIND_DMA_COHERENT, .size = 4096, .cache = KMEMLAB_DEV_EDU,
		  .err = -ENODEV, .what = "dma_coherent for an absent edu" },
	};
	int cpus[CPU_SETSIZE], fd = open_dev(_metadata);
	struct kmemlab_ioremap bad_map = { .source = 0 };
	struct snapshot b = { 0 }, a = { 0 };
	struct kmemlab_version v;
	__u32 h[8];

	if (fd < 0)
		return;
	ASSERT_LT(0, online_cpus(cpus));
	/* Pinned, so each failure is counted on a CPU the test knows. */
	ASSERT_EQ(0, pin_self(cpus[0]));
	ASSERT_EQ(0, ioctl(fd, KMEMLAB_IOC_VERSION, &v));
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		const struct failure *f = &cases[i];

		if (f->err == -ENODEV && (v.features & KMEMLAB_FEAT_EDU))
			continue;
		take_snapshot(_metadata, &b);
		EXPECT_EQ(f->err, alloc_n(fd, f->kind, f->size, f->order,
					  f->kind == KMEMLAB_KIND_PAGES_NODE ? f->node : KMEMLAB_NODE_ANY,
					  f->cache, f->gfp, f->count ? f->count : 1, h))
			TH_LOG("%s", f->what);
		take_snapshot(_metadata, &a);
		check_one_failure(_metadata, &b, &a, f->kind, f->err, cpus[0], f->what);
		drop_snapshot(&b);
		drop_snapshot(&a);
	}

	/* IOREMAP failures count against the ioremap kind. */
	take_snapshot(_metadata, &b);
	EXPECT_EQ(-1, ioctl(fd, KMEMLAB_IOC_IOREMAP, &bad_map));
	EXPECT_EQ(EINVAL, errno);
	take_snapshot(_metadata, &a);
	check_one_failure(_metadata, &b, &a, KMEMLAB_KIND_IOREMAP, -EINVAL, cpus[0],
			  "ioremap of source 0");
	drop_snapshot(&b);
	drop_snapshot(&a);
	EXPECT_EQ(0U, nr_objects(fd));
	close(fd);
}

TEST_F(stats, hwm_bytes_keeps_the_peak)
{
	unsigned long long slack = HWM_SLACK_PER_CPU * self->possible, hwm0, size;
	struct stats s;
	int fd = open_dev(_metadata);
	__u32 h;

	if (fd < 0)
		return;
	read_stats(_metadata, &s);
	ASSERT_EQ(0ULL, s.v[KMEMLAB_KIND_VMALLOC][ST_BYTES]);
	hwm0 = s.v[KMEMLAB_KIND_VMALLOC][ST_HWM];
	/*
	 * 8 MiB, or 8 MiB more than the peak earlier tests left (so that this
	 * peak is the new high-water mark) while that fits the 256 MiB quota.
	 */
	size = 8ULL << 20;
	if (hwm0 + (8ULL << 20) <= (192ULL << 20))
		size = (hwm0 + (8ULL << 20) + (1ULL << 20) - 1) & ~((1ULL << 20) - 1);

	ASSERT_EQ(0, alloc1(fd, KMEMLAB_KIND_VMALLOC, size, 0, KMEMLAB_NODE_ANY, 0, &h));
	read_stats(_metadata, &s);
	EXPECT_EQ(size, s.v[KMEMLAB_KIND_VMALLOC][ST_BYTES]);
	ASSERT_EQ(0, free_handles(fd, 1, &h));
	close(fd);

	read_stats(_metadata, &s);
	EXPECT_EQ(0ULL, s.v[KMEMLAB_KIND_VMALLOC][ST_BYTES]);
	EXPECT_LE(size - slack, s.v[KMEMLAB_KIND_VMALLOC][ST_HWM])
		TH_LOG("%llu bytes were live; hwm_bytes was %llu before", size, hwm0);
	EXPECT_LE(hwm0, s.v[KMEMLAB_KIND_VMALLOC][ST_HWM]) TH_LOG("the mark never goes down");
	if (size >= hwm0 + (8ULL << 20)) {
		/* This was the peak: the mark is no higher than it either. */
		EXPECT_GE(size + slack, s.v[KMEMLAB_KIND_VMALLOC][ST_HWM]);
	}
}

TEST_F(stats, closing_every_file_leaves_nothing_live)
{
	struct snapshot b = { 0 }, open_ = { 0 }, a = { 0 };
	unsigned long long made[NR_KINDS + 1] = { 0 };
	long long live;
	int fds[2], rows, ret;
	__u32 h[16], c = 0;

	take_snapshot(_metadata, &b);
	for (int i = 0; i < 2; i++) {
		fds[i] = open_dev(_metadata);
		if (fds[i] < 0)
			return;
		ASSERT_EQ(0, alloc_n(fds[i], KMEMLAB_KIND_KMALLOC, 20000, 0, KMEMLAB_NODE_ANY, 0, 0, 4, h));
		ASSERT_EQ(0, alloc_n(fds[i], KMEMLAB_KIND_VMALLOC, 10000, 0, KMEMLAB_NODE_ANY, 0, 0, 4, h));
		ASSERT_EQ(0, alloc_n(fds[i], KMEMLAB_KIND_FREE_PAGES, 0, 3, KMEMLAB_NODE_ANY, 0, 0, 4, h));
		ASSERT_EQ(0, alloc_n(fds[i], KMEMLAB_KIND_PAGES_NODE, 0, 1, 0, 0, 0, 4, h));
		ASSERT_EQ(0, alloc_n(fds[i], KMEMLAB_KIND_DMA_COHERENT, 3000, 0, KMEMLAB_NODE_ANY,
				     KMEMLAB_DEV_FAUX, 0, 4, h));
		ASSERT_EQ(0, alloc_n(fds[i], KMEMLAB_KIND_PERCPU, 0, 0, KMEMLAB_NODE_ANY, 0, 0, 4, h));
		/* Two from kmalloc, two from vmalloc (huge pages, maybe): pages counted as taken. */
		ASSERT_EQ(0, alloc_n(fds[i], KMEMLAB_KIND_KVMALLOC, 100, 0, KMEMLAB_NODE_ANY, 0, 0, 2, h));
		ASSERT_EQ(0, alloc_n(fds[i], KMEMLAB_KIND_KVMALLOC, 5 << 20, 0, KMEMLAB_NODE_ANY, 0, 0,
				     2, h));
		ASSERT_EQ(0, mempool_create(fds[i], 0, 300, 2, &c));
		ASSERT_EQ(0, alloc_n(fds[i], KMEMLAB_KIND_MEMPOOL, 0, 0, KMEMLAB_NODE_ANY, c,
				     KMEMLAB_GFP_NOWAIT, 4, h));
		ASSERT_EQ(0, dma_pool_create(fds[i], CACHE_NAME, KMEMLAB_DEV_FAUX, 300, 0, 0, &c));
		ASSERT_EQ(0, dma_pool_alloc(fds[i], c, 0, 4, h));
		ASSERT_EQ(0, cache_create(fds[i], i ? CACHE_NAME "-b" : CACHE_NAME "-a", 64, 0, &c));
		ASSERT_EQ(0, alloc_n(fds[i], KMEMLAB_KIND_KMEM_CACHE, 0, 0, KMEMLAB_NODE_ANY, c, 0, 4, h));
	}
	for (int k = 1; k <= NR_KINDS; k++)
		made[k] = k == KMEMLAB_KIND_IOREMAP ? 0 : 8;

	take_snapshot(_metadata, &open_);
	/* 8 objects of every kind but IOREMAP. */
	EXPECT_EQ((NR_KINDS - 1) * 8, open_.nr_objs);
	for (int k = 1; k <= NR_KINDS; k++) {
		EXPECT_EQ(made[k], open_.st.v[k][ST_LIVE]) TH_LOG("%s", kind_name(k));
	}
	ret = read_caches(CACHE_NAME "-a", &live, &rows);
	if (ret != -ENOENT) {
		ASSERT_EQ(0, ret) TH_LOG("%s", parse_error);
		EXPECT_EQ(4, live);
		EXPECT_EQ(2, rows);
	}

	close(fds[0]);
	close(fds[1]);
	take_snapshot(_metadata, &a);
	for (int k = 1; k <= NR_KINDS; k++) {
		EXPECT_EQ(0ULL, a.st.v[k][ST_LIVE]) TH_LOG("%s", kind_name(k));
		EXPECT_EQ(0ULL, a.st.v[k][ST_BYTES]) TH_LOG("%s", kind_name(k));
		EXPECT_EQ(0ULL, a.st.v[k][ST_PAGES]) TH_LOG("%s", kind_name(k));
		/* Closing freed them: counted as freed, once each. */
		EXPECT_EQ(made[k], a.st.v[k][ST_CREATED] - b.st.v[k][ST_CREATED])
			TH_LOG("%s", kind_name(k));
		EXPECT_EQ(made[k], a.st.v[k][ST_FREED] - b.st.v[k][ST_FREED])
			TH_LOG("%s", kind_name(k));
	}
	EXPECT_EQ(0, a.nr_objs) TH_LOG("the objects file lists no object");
	ret = read_caches(CACHE_NAME "-a", &live, &rows);
	if (ret != -ENOENT) {
		ASSERT_EQ(0, ret) TH_LOG("%s", parse_error);
		EXPECT_EQ(0, rows) TH_LOG("the caches went with their files");
	}
	EXPECT_EQ(-1, slab_active("kmemlab-" CACHE_NAME "-a"));
	check_json(_metadata, 0);
	drop_snapshot(&b);
	drop_snapshot(&open_);
	drop_snapshot(&a);
}

TEST_HARNESS_MAIN
