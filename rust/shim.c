// SPDX-License-Identifier: GPL-2.0
/*
 * kmemlab C shim: see shim.h. Each function is a one-line forward to a macro
 * or static inline of the kernel; the Rust side declares them in the
 * abstraction that uses them.
 */
#include <linux/cpumask.h>
#include <linux/nodemask.h>

#include "shim.h"

/* num_online_cpus() is a static inline reading an atomic counter. */
unsigned int kmemlab_num_online_cpus(void)
{
	return num_online_cpus();
}

/* num_online_nodes() is a macro over the node_states bitmap. */
unsigned int kmemlab_num_online_nodes(void)
{
	return num_online_nodes();
}
