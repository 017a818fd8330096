// SPDX-License-Identifier: GPL-2.0
/*
 * The host's own scaling, for the context of make bench's scaling block:
 * increments of one atomic shared by every thread, and of a counter per
 * thread (each on lines of its own), with 1 to N threads pinned to the
 * first N CPUs the program may run on, natively. Whether a shared atomic collapses when a second
 * thread joins depends on the host's cores and caches (on a virtual
 * machine, on where its vCPUs run); a guest under QEMU TCG, which adds
 * work between two increments, shows at most the host's collapse.
 *
 * Each measurement: the threads wait at a gate until all are ready, then
 * each runs until RUN_NS after the gate opened, by its own clock, and the
 * aggregate rate is their increments over the time from opening the gate
 * until every thread was joined; the best of three.
 *
 * Usage: host-scaling THREADS   (prints one line per counter)
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#define MAX_THREADS 64
#define RUN_NS 200000000ull
/* Increments between two looks at the clock. */
#define STRIDE 4096

/* 128 bytes: adjacent-line prefetch pairs 64-byte lines. */
struct line {
	_Alignas(128) _Atomic unsigned long n;
};

static struct line shared;
static struct line own[MAX_THREADS];
static _Alignas(128) atomic_int ready;
static _Alignas(128) atomic_int go;
static unsigned long long deadline;

static unsigned long long now_ns(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec * 1000000000ull + t.tv_nsec;
}

struct work {
	_Atomic unsigned long *counter;
	int cpu;
	unsigned long done;
};

static void *run(void *arg)
{
	struct work *w = arg;
	unsigned long done = 0;
	cpu_set_t set;

	CPU_ZERO(&set);
	CPU_SET(w->cpu, &set);
	if (pthread_setaffinity_np(pthread_self(), sizeof(set), &set)) {
		fprintf(stderr, "host-scaling: cannot pin a thread to CPU %d\n", w->cpu);
		exit(1);
	}
	atomic_fetch_add(&ready, 1);
	while (!atomic_load_explicit(&go, memory_order_acquire))
		;
	/* Each thread watches the clock itself: nothing has to preempt it. */
	do {
		for (int i = 0; i < STRIDE; i++)
			atomic_fetch_add_explicit(w->counter, 1, memory_order_relaxed);
		done += STRIDE;
	} while (now_ns() < deadline);
	w->done = done;
	return NULL;
}


/* The CPUs the program may run on, in order. */
static int cpus[MAX_THREADS];

/* Aggregate increments per second with @threads threads. */
static double rate(int threads, int share)
{
	pthread_t t[MAX_THREADS];
	struct work w[MAX_THREADS];
	unsigned long long start, total = 0;

	atomic_store(&ready, 0);
	atomic_store(&go, 0);
	for (int i = 0; i < threads; i++) {
		w[i] = (struct work){ .counter = share ? &shared.n : &own[i].n, .cpu = cpus[i] };
		if (pthread_create(&t[i], NULL, run, &w[i])) {
			perror("host-scaling: pthread_create");
			exit(1);
		}
	}
	while (atomic_load(&ready) < threads)
		sched_yield();
	start = now_ns();
	deadline = start + RUN_NS;
	atomic_store_explicit(&go, 1, memory_order_release);
	for (int i = 0; i < threads; i++) {
		pthread_join(t[i], NULL);
		total += w[i].done;
	}
	return total * 1e9 / (double)(now_ns() - start);
}

int main(int argc, char **argv)
{
	int most = argc > 1 ? atoi(argv[1]) : 2, allowed = 0;
	cpu_set_t set;

	if (most < 1 || most > MAX_THREADS) {
		fprintf(stderr, "usage: host-scaling THREADS (1 to %d)\n", MAX_THREADS);
		return 2;
	}
	if (sched_getaffinity(0, sizeof(set), &set)) {
		perror("host-scaling: sched_getaffinity");
		return 1;
	}
	for (int c = 0; c < CPU_SETSIZE && allowed < MAX_THREADS; c++)
		if (CPU_ISSET(c, &set))
			cpus[allowed++] = c;
	/* No more threads than CPUs to pin them to. */
	if (most > allowed)
		most = allowed;
	for (int share = 1; share >= 0; share--) {
		double one = 0;

		printf("%-20s", share ? "one shared atomic" : "a counter per thread");
		for (int n = 1; n <= most; n++) {
			/* The best of three: other work on the host only slows. */
			double best = 0;

			for (int k = 0; k < 3; k++) {
				double r = rate(n, share);

				best = r > best ? r : best;
			}
			if (n == 1)
				one = best;
			printf("  %d thread%s %7.1f M/s (speedup %.2f)", n, n > 1 ? "s" : " ",
			       best / 1e6, best / one);
		}
		printf("\n");
	}
	return 0;
}
