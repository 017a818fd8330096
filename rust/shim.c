// SPDX-License-Identifier: GPL-2.0
/*
 * kmemlab C shim: see shim.h. Each function forwards to one macro, static
 * inline or function of the kernel (the PCI ones after to_pci_dev()); the
 * Rust side declares them in the abstraction that uses them.
 */
#include <linux/cpumask.h>
#include <linux/highmem.h>
#include <linux/io.h>
#include <linux/ioport.h>
#include <linux/mempool.h>
#include <linux/mm.h>
#include <linux/nodemask.h>
#include <linux/pci.h>
#include <linux/percpu.h>
#include <linux/percpu-refcount.h>
#include <linux/preempt.h>
#include <linux/sched.h>
#include <linux/sched/clock.h>
#include <linux/security.h>
#include <linux/slab.h>
#include <linux/smp.h>
#include <linux/vmalloc.h>
#include <linux/workqueue.h>

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

/*
 * The allocators below are macros over alloc_hooks(): each call site gets its
 * own allocation tag, so with CONFIG_MEM_ALLOC_PROFILING kmemlab's memory is
 * charged to these lines in /proc/allocinfo. (The _noprof functions behind
 * them skip the tag, which CONFIG_MEM_ALLOC_PROFILING_DEBUG reports.)
 *
 * kmalloc_node() is a static inline that picks the size's cache at compile
 * time when it can; called with a run-time size it is __kmalloc_node().
 */
void *kmemlab_kmalloc_node(size_t size, gfp_t gfp, int node)
{
	return kmalloc_node(size, gfp, node);
}

/*
 * kmem_cache_alloc_node() is a macro over alloc_hooks(); percpu_ref_get()
 * and percpu_ref_put() are static inlines. An object of a kmemlab cache
 * that may outlive its handle holds a reference of the cache's percpu_ref
 * (rust/alloc/slab.rs): it is taken with the allocation and put with the
 * free, each in the same call.
 */
void *kmemlab_kmem_cache_alloc_node(struct kmem_cache *cache, gfp_t gfp, int node)
{
	return kmem_cache_alloc_node(cache, gfp, node);
}

void *kmemlab_kmem_cache_alloc_get(struct kmem_cache *cache, gfp_t gfp, int node,
				   struct percpu_ref *objects)
{
	void *object = kmem_cache_alloc_node(cache, gfp, node);

	if (object)
		percpu_ref_get(objects);
	return object;
}

void kmemlab_kmem_cache_free_put(struct kmem_cache *cache, void *object,
				 struct percpu_ref *objects)
{
	kmem_cache_free(cache, object);
	percpu_ref_put(objects);
}

/* alloc_workqueue() is a macro over alloc_hooks(). */
struct workqueue_struct *kmemlab_alloc_workqueue(const char *name, unsigned int flags)
{
	return alloc_workqueue("%s", flags, 0, name);
}

/* __get_free_pages() is a macro over alloc_hooks(). */
unsigned long kmemlab_get_free_pages(gfp_t gfp, unsigned int order)
{
	return __get_free_pages(gfp, order);
}

/* alloc_pages_node() is a macro over alloc_hooks(). */
struct page *kmemlab_alloc_pages_node(int nid, gfp_t gfp, unsigned int order)
{
	return alloc_pages_node(nid, gfp, order);
}

/* vzalloc_node() is a macro over alloc_hooks(). */
void *kmemlab_vzalloc_node(unsigned long size, int node)
{
	return vzalloc_node(size, node);
}

/* __alloc_percpu_gfp() is a macro over alloc_hooks(); memory comes zeroed. */
void __percpu *kmemlab_alloc_percpu(size_t size, size_t align)
{
	return __alloc_percpu_gfp(size, align, GFP_KERNEL);
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

/*
 * GFP_NOIO, GFP_NOFS, GFP_USER and the GFP_HIGHUSER masks are macros the
 * bindings do not export (GFP_HIGHUSER_MOVABLE's __GFP_SKIP_KASAN depends
 * on the KASAN mode). @base numbers them as rust/alloc/gfp.rs's GfpBase.
 */
gfp_t kmemlab_gfp_base_mask(unsigned int base)
{
	static const gfp_t masks[] = {
		GFP_KERNEL, GFP_ATOMIC, GFP_NOWAIT, GFP_NOIO,
		GFP_NOFS, GFP_USER, GFP_HIGHUSER, GFP_HIGHUSER_MOVABLE,
	};

	return base < ARRAY_SIZE(masks) ? masks[base] : 0;
}

/*
 * Pages a live vmalloc area of @size bytes at @addr maps. vmalloc may back
 * an area of PMD_SIZE or more with huge pages (kvmalloc asks for them) and
 * then rounds it up to a PMD_SIZE multiple, all of it mapped; otherwise the
 * page after the area is its guard page, never mapped. Neither is another
 * area's, so looking it up races with nobody.
 */
unsigned long kmemlab_vmalloc_area_pages(const void *addr, size_t size)
{
	unsigned long pages = PAGE_ALIGN(size) >> PAGE_SHIFT;

#ifdef CONFIG_HAVE_ARCH_HUGE_VMALLOC
	if (size >= PMD_SIZE && vmalloc_to_page(addr + (pages << PAGE_SHIFT)))
		return ALIGN(size, PMD_SIZE) >> PAGE_SHIFT;
#endif
	return pages;
}

/*
 * mempool_create_node() and mempool_alloc() are macros over alloc_hooks();
 * the pool is passed as void * (Rust calls mempool_free(), a function, with
 * the same pointer cast to its bindgen type). The pools are those mempool_create_kmalloc_pool() and
 * mempool_create_slab_pool() make, but their reserve is filled with
 * __GFP_NOWARN: a reserve too big for the memory at hand is ENOMEM, not a
 * page allocation failure report. mempool_alloc_slab() BUGs on a cache with
 * a constructor (CONFIG_DEBUG_VM): the caller passes none.
 */
void *kmemlab_mempool_create_kmalloc(int min_nr, size_t size)
{
	return mempool_create_node(min_nr, mempool_kmalloc, mempool_kfree, (void *)size,
				   GFP_KERNEL | __GFP_NOWARN, NUMA_NO_NODE);
}

void *kmemlab_mempool_create_slab(int min_nr, struct kmem_cache *cache)
{
	return mempool_create_node(min_nr, mempool_alloc_slab, mempool_free_slab, cache,
				   GFP_KERNEL | __GFP_NOWARN, NUMA_NO_NODE);
}

void *kmemlab_mempool_alloc(void *pool, gfp_t gfp)
{
	return mempool_alloc((mempool_t *)pool, gfp);
}

void kmemlab_mempool_destroy(void *pool)
{
	mempool_destroy((mempool_t *)pool);
}

/* Elements in the reserve: read without the pool's lock, a snapshot. */
int kmemlab_mempool_reserve(void *pool)
{
	return READ_ONCE(((mempool_t *)pool)->curr_nr);
}

/* kvmalloc_node() is a macro over alloc_hooks(). */
void *kmemlab_kvmalloc_node(size_t size, gfp_t gfp, int node)
{
	return kvmalloc_node(size, gfp, node);
}

/*
 * kmemlab's own zone numbers (rust/alloc/topology.rs's Zone): the kernel's
 * enum zone_type depends on which zones it was built with.
 */
int kmemlab_page_zone(const struct page *page)
{
	switch (page_zonenum(page)) {
#ifdef CONFIG_ZONE_DMA
	case ZONE_DMA:
		return 1;
#endif
#ifdef CONFIG_ZONE_DMA32
	case ZONE_DMA32:
		return 2;
#endif
	case ZONE_NORMAL:
		return 3;
#ifdef CONFIG_HIGHMEM
	case ZONE_HIGHMEM:
		return 4;
#endif
	case ZONE_MOVABLE:
		return 5;
#ifdef CONFIG_ZONE_DEVICE
	case ZONE_DEVICE:
		return 6;
#endif
	default:
		return 0;
	}
}

/*
 * The page behind a kernel address: the one the vmalloc area maps there
 * (NULL where nothing is mapped, or where what is mapped has no struct
 * page), virt_to_page() for the linear map, NULL for anything else.
 */
static struct page *kmemlab_addr_page(const void *addr)
{
	if (is_vmalloc_addr(addr)) {
		/* A remapped device range has no memmap: look at no page then. */
		unsigned long pfn = vmalloc_to_pfn(addr);

		return pfn && pfn_valid(pfn) ? pfn_to_page(pfn) : NULL;
	}
	if (virt_addr_valid(addr))
		return virt_to_page(addr);
	return NULL;
}

/* The zone of the page behind @addr, as kmemlab_page_zone(); 0 for none. */
int kmemlab_addr_zone(const void *addr)
{
	struct page *page = kmemlab_addr_page(addr);

	return page ? kmemlab_page_zone(page) : 0;
}

/*
 * What served the memory at @addr: 3 the vmalloc area, 1 a slab (the
 * folio is a slab's), 2 a block of pages, 0 none of these.
 */
int kmemlab_addr_backing(const void *addr)
{
	if (is_vmalloc_addr(addr))
		return 3;
	if (!virt_addr_valid(addr))
		return 0;
	return folio_test_slab(virt_to_folio(addr)) ? 1 : 2;
}

/* kmap_local_page() and kunmap_local() are static inlines and a macro. */
void *kmemlab_kmap_local_page(struct page *page, unsigned long n)
{
	return kmap_local_page(page + n);
}

void kmemlab_kunmap_local(void *addr)
{
	kunmap_local(addr);
}

/* virt_addr_valid() is a macro: is @addr in the linear map? */
bool kmemlab_virt_addr_valid(const void *addr)
{
	return virt_addr_valid(addr);
}

/* virt_to_phys() is an inline; the caller passes a linear-map address. */
phys_addr_t kmemlab_virt_to_phys(const void *addr)
{
	return virt_to_phys((void *)addr);
}

/*
 * ioremap() may be a macro or an inline depending on the architecture, and it
 * names its caller in /proc/vmallocinfo: called from here, that is kmemlab.
 */
void __iomem *kmemlab_ioremap(phys_addr_t phys, size_t size)
{
	return ioremap(phys, size);
}

/*
 * request_mem_region() is a macro: claims the range for "kmemlab" in
 * /proc/iomem, failing when any of it is claimed already.
 */
bool kmemlab_request_mem_region(phys_addr_t phys, size_t size)
{
	return request_mem_region(phys, size, "kmemlab") != NULL;
}

/* release_mem_region() is a macro; pairs with kmemlab_request_mem_region(). */
void kmemlab_release_mem_region(phys_addr_t phys, size_t size)
{
	release_mem_region(phys, size);
}

/* iounmap() pairs with kmemlab_ioremap(). */
void kmemlab_iounmap(void __iomem *addr)
{
	iounmap(addr);
}

/* security_locked_down() is an inline returning 0 without CONFIG_SECURITY. */
bool kmemlab_iomem_locked_down(void)
{
	return security_locked_down(LOCKDOWN_DEV_MEM) != 0;
}

/* preempt_disable() is a macro. */
void kmemlab_preempt_disable(void)
{
	preempt_disable();
}

/* preempt_enable() is a macro. */
void kmemlab_preempt_enable(void)
{
	preempt_enable();
}

/* this_cpu_ptr() is a macro; the caller has preemption disabled. */
void *kmemlab_this_cpu_ptr(void __percpu *ptr)
{
	return this_cpu_ptr(ptr);
}

/* per_cpu_ptr() is a macro; the caller checks that @cpu is possible. */
void *kmemlab_per_cpu_ptr(void __percpu *ptr, unsigned int cpu)
{
	return per_cpu_ptr(ptr, cpu);
}

/* cpu_possible() is a macro; the caller checks @cpu < nr_cpu_ids. */
bool kmemlab_cpu_possible(unsigned int cpu)
{
	return cpu_possible(cpu);
}

/* this_cpu_add() is a macro: one instruction on x86, IRQ- and preempt-safe. */
void kmemlab_this_cpu_add_u64(u64 __percpu *ptr, u64 v)
{
	this_cpu_add(*ptr, v);
}

/* this_cpu_add_return() is a macro, like this_cpu_add(). */
u64 kmemlab_this_cpu_add_return_u64(u64 __percpu *ptr, u64 v)
{
	return this_cpu_add_return(*ptr, v);
}

/*
 * The static per-CPU variable (kmemlab counts the commands each CPU
 * dispatches in it). DEFINE_PER_CPU places it in the module's per-CPU
 * section; its address is a __percpu pointer like alloc_percpu()'s.
 */
static DEFINE_PER_CPU(u64, kmemlab_static_counter);

void __percpu *kmemlab_static_counter_ptr(void)
{
	return &kmemlab_static_counter;
}

/*
 * A static per-CPU array of counters (kmemlab's allocation statistics live
 * in it). Not static: the Rust side takes its address directly, which costs
 * nothing on the statistics' hot path.
 */
DEFINE_PER_CPU(u64 [KMEMLAB_STATIC_COUNTERS], kmemlab_static_counters);

/* The array's size, for the Rust side to check its own idea of it. */
size_t kmemlab_static_counters_size(void)
{
	return sizeof(kmemlab_static_counters);
}

/* migrate_disable() is an inline or an export depending on the build. */
void kmemlab_migrate_disable(void)
{
	migrate_disable();
}

void kmemlab_migrate_enable(void)
{
	migrate_enable();
}

/* cond_resched() is a macro. */
void kmemlab_cond_resched(void)
{
	cond_resched();
}

/*
 * PCI calls the kernel crate does not wrap (or wraps only together with a
 * mapping of the whole BAR), taking the struct device the Rust side holds
 * (kmemlab's one cast into a kernel type, device::raw_device). @dev must be
 * embedded in a live struct pci_dev.
 */
void kmemlab_pci_clear_master(struct device *dev)
{
	pci_clear_master(to_pci_dev(dev));
}

void kmemlab_pci_disable_device(struct device *dev)
{
	pci_disable_device(to_pci_dev(dev));
}

int kmemlab_pci_request_region(struct device *dev, int bar, const char *name)
{
	return pci_request_region(to_pci_dev(dev), bar, name);
}

void kmemlab_pci_release_region(struct device *dev, int bar)
{
	pci_release_region(to_pci_dev(dev), bar);
}
