/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Where kmemlab's code lands, for the benchmarks: KMEMLAB_PAD bytes at the
 * start of the module's .text, ahead of everything else, so the whole
 * module's code moves by N bytes (N a multiple of 16, the alignment of what
 * follows). Linked only when `make KMEMLAB_PAD=N` asks for N > 0; no symbol
 * marks it, so backtraces name the functions after it.
 *
 * Under QEMU's TCG, what a loop costs depends on its addresses (a jump is
 * chained from one translated block to the next only within a 4 KiB page;
 * a return finds its target through a direct-mapped cache hashed on the
 * address), by up to a fifth of an allocation for the same code, for
 * kmemlab's loops and the raw-C baselines alike. `make bench` counts
 * instructions instead (QEMU -icount), which no placement changes; this is
 * for real-time runs, whose figures `kmemlab bench placements` combines
 * across placements (README, Benchmarks).
 */
	.text
	.skip KMEMLAB_PAD, 0xcc
