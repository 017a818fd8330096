/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Where kmemlab's code lands, for the benchmarks: KMEMLAB_PAD bytes (0
 * unless `make KMEMLAB_PAD=N` asks) at the start of the module's .text,
 * ahead of everything else, so the whole module's code moves by N bytes.
 *
 * Under QEMU's TCG, what a loop costs depends on its addresses (a jump is
 * chained from one translated block to the next only within a 4 KiB page;
 * a return finds its target through a direct-mapped cache hashed on the
 * address), by up to a fifth of an allocation for the same code, for
 * kmemlab's loops and the raw-C baselines alike. `make bench` measures the
 * same code at several placements and reports the median (README,
 * Benchmarks).
 */
#ifndef KMEMLAB_PAD
#define KMEMLAB_PAD 0
#endif
	.text
kmemlab_placement:
	.skip KMEMLAB_PAD, 0xcc
