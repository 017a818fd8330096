// SPDX-License-Identifier: GPL-2.0
/*
 * kmemlab C shim: see shim.h. Each function is a one-line forward to a macro
 * or static inline of the kernel; the Rust side declares them in the
 * abstraction that uses them.
 */
#include <linux/cpumask.h>
#include <linux/mm.h>
#include <linux/nodemask.h>
#include <linux/smp.h>
#include <linux/vmalloc.h>

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

/* node_online() is a macro; the caller checks 0 <= nid < MAX_NUMNODES. */
bool kmemlab_node_online(int nid)
{
	return node_online(nid);
}

/* raw_smp_processor_id() is a macro: the CPU this code ran on (a hint). */
unsigned int kmemlab_current_cpu(void)
{
	return raw_smp_processor_id();
}

/* page_address() is a macro or inline depending on HIGHMEM. */
void *kmemlab_page_address(struct page *page)
{
	return page_address(page);
}

/* page_to_nid() is a static inline. */
int kmemlab_page_to_nid(const struct page *page)
{
	return page_to_nid(page);
}

/* virt_to_page() is a macro; the caller passes a linear-map address it owns. */
int kmemlab_virt_to_nid(const void *addr)
{
	return page_to_nid(virt_to_page(addr));
}

/* vmalloc_to_page() is exported but its header is not in the bindings. */
int kmemlab_vmalloc_to_nid(const void *addr)
{
	return page_to_nid(vmalloc_to_page(addr));
}
