// SPDX-License-Identifier: GPL-2.0
/*
 * kmemlab C shim, benchmark half: the raw-C baseline of KMEMLAB_IOC_BENCH
 * and the worker threads that run a benchmark on several CPUs at once.
 *
 * The baseline does the work kmemlab's Rust abstractions do, through the C
 * API called from C: the same allocator, GFP mask, size, order and node, the
 * same batch (allocate @batch objects, then free them in the order they were
 * made). The timing loop is the Rust one for both (rust/bench.rs), so the
 * two differ only in the code between the clock reads.
 */
#include <linux/atomic.h>
#include <linux/completion.h>
#include <linux/cpu.h>
#include <linux/cpumask.h>
#include <linux/delay.h>
#include <linux/dma-mapping.h>
#include <linux/dmapool.h>
#include <linux/err.h>
#include <linux/gfp.h>
#include <linux/io.h>
#include <linux/kthread.h>
#include <linux/math64.h>
#include <linux/mempool.h>
#include <linux/mm.h>
#include <linux/percpu.h>
#include <linux/sched.h>
#include <linux/sched/signal.h>
#include <linux/slab.h>
#include <linux/timex.h>
#include <linux/vmalloc.h>

#include "shim.h"

/*
 * One thread's baseline: what to do (enum kmemlab_cbench_work), and room for
 * a batch. @counter is the thread's per-CPU counter for KMEMLAB_CB_PERCPU_INC.
 */
struct kmemlab_cbench {
	unsigned int work;
	gfp_t gfp;
	size_t size;
	unsigned int order;
	int node;
	struct kmem_cache *cache;
	struct device *dev;
	phys_addr_t phys;
	unsigned int batch;
	u64 __percpu *counter;
	void **objs;
	dma_addr_t *dma;
};

/* The atomic every thread of every raw-C KMEMLAB_CB_ATOMIC_INC run shares. */
static atomic64_t kmemlab_cbench_shared = ATOMIC64_INIT(0);

struct kmemlab_cbench *kmemlab_cbench_new(unsigned int work, gfp_t gfp,
					  size_t size, unsigned int order, int node,
					  struct kmem_cache *cache, struct device *dev,
					  phys_addr_t phys, unsigned int batch)
{
	struct kmemlab_cbench *b;

	if (!batch || work < KMEMLAB_CB_KMALLOC || work > KMEMLAB_CB_DMA_POOL)
		return ERR_PTR(-EINVAL);
	b = kzalloc(sizeof(*b), GFP_KERNEL);
	if (!b)
		return ERR_PTR(-ENOMEM);
	*b = (struct kmemlab_cbench){
		.work = work, .gfp = gfp, .size = size, .order = order,
		.node = node, .cache = cache, .dev = dev, .phys = phys, .batch = batch,
	};
	if (work == KMEMLAB_CB_PERCPU_INC) {
		b->counter = alloc_percpu(u64);
		if (!b->counter)
			goto nomem;
	} else if (work != KMEMLAB_CB_ATOMIC_INC) {
		b->objs = kcalloc(batch, sizeof(*b->objs), GFP_KERNEL);
		if (!b->objs)
			goto nomem;
		if (work == KMEMLAB_CB_DMA || work == KMEMLAB_CB_DMA_POOL) {
			b->dma = kcalloc(batch, sizeof(*b->dma), GFP_KERNEL);
			if (!b->dma)
				goto nomem;
		}
	}
	return b;
nomem:
	kmemlab_cbench_free(b);
	return ERR_PTR(-ENOMEM);
}

void kmemlab_cbench_free(struct kmemlab_cbench *b)
{
	free_percpu(b->counter);
	kfree(b->dma);
	kfree(b->objs);
	kfree(b);
}

/*
 * One step of the allocator: @batch objects made with @make (an expression
 * of the object's index i, NULL on failure), then each freed with @release
 * (a statement on the object p of index i), in the order they were made. One
 * loop per allocator, so the step branches on the work once, as kmemlab's
 * Rust does (its loop is generic over the abstraction's type).
 */
#define KMEMLAB_CBENCH_CYCLE(b, make, release)				\
	({								\
		unsigned int i, made;					\
									\
		for (made = 0; made < (b)->batch; made++) {		\
			i = made;					\
			(b)->objs[made] = (make);			\
			if (!(b)->objs[made])				\
				break;					\
		}							\
		for (i = 0; i < made; i++) {				\
			void *p = (b)->objs[i];				\
									\
			release;					\
		}							\
		made == (b)->batch ? 0 : -ENOMEM;			\
	})

/* A mempool element, zeroed (mempool_alloc() cannot be asked to zero). */
static void *kmemlab_cbench_pool_take(struct kmemlab_cbench *b)
{
	void *e = mempool_alloc((mempool_t *)b->cache, b->gfp);

	if (e)
		memset(e, 0, b->size);
	return e;
}

int kmemlab_cbench_step(struct kmemlab_cbench *b)
{
	unsigned int n;

	switch (b->work) {
	case KMEMLAB_CB_PERCPU_INC:
		for (n = 0; n < b->batch; n++)
			this_cpu_inc(*b->counter);
		return 0;
	case KMEMLAB_CB_ATOMIC_INC:
		for (n = 0; n < b->batch; n++)
			atomic64_inc(&kmemlab_cbench_shared);
		return 0;
	case KMEMLAB_CB_KMALLOC:
		return KMEMLAB_CBENCH_CYCLE(b, kmalloc_node(b->size, b->gfp, b->node), kfree(p));
	case KMEMLAB_CB_CACHE:
		return KMEMLAB_CBENCH_CYCLE(b, kmem_cache_alloc_node(b->cache, b->gfp, b->node),
					    kmem_cache_free(b->cache, p));
	case KMEMLAB_CB_FREE_PAGES:
		return KMEMLAB_CBENCH_CYCLE(b, (void *)__get_free_pages(b->gfp, b->order),
					    free_pages((unsigned long)p, b->order));
	case KMEMLAB_CB_PAGES_NODE:
		return KMEMLAB_CBENCH_CYCLE(b, alloc_pages_node(b->node, b->gfp, b->order),
					    __free_pages(p, b->order));
	case KMEMLAB_CB_MEMPOOL:
		/* kmemlab's Rust initialises each element as it lends it out. */
		return KMEMLAB_CBENCH_CYCLE(b, kmemlab_cbench_pool_take(b),
					    mempool_free(p, (mempool_t *)b->cache));
	case KMEMLAB_CB_KVMALLOC:
		return KMEMLAB_CBENCH_CYCLE(b, kvmalloc_node(b->size, b->gfp, b->node), kvfree(p));
	case KMEMLAB_CB_DMA_POOL:
		return KMEMLAB_CBENCH_CYCLE(b, dma_pool_alloc((struct dma_pool *)b->cache, b->gfp,
							      &b->dma[i]),
					    dma_pool_free((struct dma_pool *)b->cache, p, b->dma[i]));
	case KMEMLAB_CB_VMALLOC:
		/* kmemlab's Rust always zeroes vmalloc areas (vzalloc_node()). */
		return KMEMLAB_CBENCH_CYCLE(b, vzalloc_node(b->size, b->node), vfree(p));
	case KMEMLAB_CB_DMA:
		return KMEMLAB_CBENCH_CYCLE(b, dma_alloc_coherent(b->dev, b->size, &b->dma[i], b->gfp),
					    dma_free_coherent(b->dev, b->size, p, b->dma[i]));
	case KMEMLAB_CB_IOREMAP:
		return KMEMLAB_CBENCH_CYCLE(b, (void __force *)ioremap(b->phys, b->size),
					    iounmap((void __iomem __force *)p));
	case KMEMLAB_CB_PERCPU:
		/*
		 * Through an integer: with named address spaces (gcc's
		 * __seg_gs, as Debian's kernel is built) a direct pointer
		 * cast between the per-CPU and the generic space warns.
		 */
		return KMEMLAB_CBENCH_CYCLE(b, (void *)(unsigned long)alloc_percpu(u64),
					    free_percpu((void __percpu *)(unsigned long)p));
	}
	return -EINVAL;
}

/* get_cycles() is an inline: the time stamp counter on x86. */
u64 kmemlab_get_cycles(void)
{
	return get_cycles();
}

/* ktime_get_ns() is an inline: monotonic nanoseconds, comparable across CPUs. */
u64 kmemlab_ktime_ns(void)
{
	return ktime_get_ns();
}

/*
 * Nanoseconds per cycle of get_cycles(), as a fixed-point number with 32
 * fraction bits, measured against ktime across a 10 ms sleep on one CPU
 * (the counters of two CPUs need not agree: under QEMU's TCG they did
 * not); 0 when the counter did not move (an architecture without one) or
 * the sleep took over a second. Sleeps: process context only.
 */
u64 kmemlab_cycles_scale(void)
{
	u64 c0, c1, t0, t1;

	migrate_disable();
	c0 = get_cycles();
	t0 = ktime_get_ns();
	msleep(10);
	t1 = ktime_get_ns();
	c1 = get_cycles();
	migrate_enable();
	if (c1 <= c0 || t1 - t0 >= NSEC_PER_SEC)
		return 0;
	return div64_u64((t1 - t0) << 32, c1 - c0);
}

/* One worker thread of kmemlab_run_workers(). */
struct kmemlab_worker {
	struct task_struct *task;
	void (*fn)(void *ctx, unsigned int cpu);
	void *ctx;
	unsigned int cpu;
	struct completion *start;
	struct completion done;
};

static int kmemlab_worker_main(void *data)
{
	struct kmemlab_worker *w = data;

	wait_for_completion(w->start);
	w->fn(w->ctx, w->cpu);
	/* Signals @done and exits without returning into module text. */
	kthread_complete_and_exit(&w->done, 0);
}

/*
 * Runs @fn(ctx_i, cpu_i) in one kernel thread on each of the first @nr online
 * CPUs, ctx_i being @ctxs + i * @stride, all released at once, and waits for
 * all of them. A signal to the caller sets *@stop (the workers poll it and
 * finish early) and makes the call return -EINTR once they have. -EINVAL
 * when fewer than @nr CPUs are online; -ENOMEM or kthread errors when a
 * thread cannot be made (none runs then).
 *
 * CPU hotplug is held off (cpus_read_lock()) from the count of online CPUs
 * until every worker is made, bound and woken, so each starts on an online
 * CPU of its own. (Not for the run itself: a run may be long, and a pending
 * hotplug would stall every cpus_read_lock() in the system meanwhile; a CPU
 * that goes offline mid-run moves its worker elsewhere.)
 */
int kmemlab_run_workers(unsigned int nr, void (*fn)(void *ctx, unsigned int cpu),
			void *ctxs, size_t stride, u32 *stop)
{
	DECLARE_COMPLETION_ONSTACK(start);
	struct kmemlab_worker *w;
	unsigned int cpu, made = 0, i;
	int err = 0;

	if (!nr)
		return -EINVAL;
	w = kcalloc(nr, sizeof(*w), GFP_KERNEL);
	if (!w)
		return -ENOMEM;
	cpus_read_lock();
	if (nr > num_online_cpus()) {
		err = -EINVAL;
		goto out;
	}
	for_each_online_cpu(cpu) {
		struct kmemlab_worker *t = &w[made];

		if (made == nr)
			break;
		t->fn = fn;
		t->ctx = (char *)ctxs + made * stride;
		t->cpu = cpu;
		t->start = &start;
		init_completion(&t->done);
		t->task = kthread_create_on_cpu(kmemlab_worker_main, t, cpu, "kmemlab-bench/%u");
		if (IS_ERR(t->task)) {
			err = PTR_ERR(t->task);
			goto stop;
		}
		made++;
	}
	for (i = 0; i < made; i++)
		wake_up_process(w[i].task);
	cpus_read_unlock();
	complete_all(&start);
	for (i = 0; i < made; i++) {
		/* Wake every 100 ms to look at signals: never a hung task. */
		while (!wait_for_completion_timeout(&w[i].done, HZ / 10)) {
			if (signal_pending(current) && !READ_ONCE(*stop)) {
				WRITE_ONCE(*stop, 1);
				err = -EINTR;
			}
		}
	}
	kfree(w);
	return err;
stop:
	/* Never woken: kthread_stop() ends them before they run @fn. */
	for (i = 0; i < made; i++)
		kthread_stop(w[i].task);
out:
	cpus_read_unlock();
	kfree(w);
	return err;
}
