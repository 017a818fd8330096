// SPDX-License-Identifier: GPL-2.0
/*
 * The host's own scaling, for the context of make bench's scaling block:
 * increments of one atomic shared by every thread, and of a counter per
 * thread (each on its own cache line), with 1 to N threads, natively.
 * Whether a shared atomic collapses when a second thread joins is a
 * property of the host's cores and caches; a guest under QEMU TCG can show
 * the collapse only where the host has it, and less of it (emulation adds
 * work between two increments).
 *
 * Usage: host-scaling THREADS   (prints one line per counter)
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#define INCREMENTS 20000000UL
#define MAX_THREADS 64

struct line {
	_Atomic unsigned long n;
	char pad[64 - sizeof(unsigned long)];
};

static struct line shared;
static struct line own[MAX_THREADS];
static atomic_int go;

struct work {
	_Atomic unsigned long *counter;
};

static void *run(void *arg)
{
	struct work *w = arg;

	while (!atomic_load_explicit(&go, memory_order_acquire))
		;
	for (unsigned long i = 0; i < INCREMENTS; i++)
		atomic_fetch_add_explicit(w->counter, 1, memory_order_relaxed);
	return NULL;
}

static double now(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec + t.tv_nsec * 1e-9;
}

/* Aggregate increments per second with @threads threads. */
static double rate(int threads, int share)
{
	pthread_t t[MAX_THREADS];
	struct work w[MAX_THREADS];
	double start;

	atomic_store(&go, 0);
	for (int i = 0; i < threads; i++) {
		w[i].counter = share ? &shared.n : &own[i].n;
		if (pthread_create(&t[i], NULL, run, &w[i])) {
			perror("pthread_create");
			exit(1);
		}
	}
	start = now();
	atomic_store_explicit(&go, 1, memory_order_release);
	for (int i = 0; i < threads; i++)
		pthread_join(t[i], NULL);
	return threads * (double)INCREMENTS / (now() - start);
}

int main(int argc, char **argv)
{
	int most = argc > 1 ? atoi(argv[1]) : 2;

	if (most < 1 || most > MAX_THREADS) {
		fprintf(stderr, "usage: host-scaling THREADS (1 to %d)\n", MAX_THREADS);
		return 2;
	}
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
