/* SPDX-License-Identifier: GPL-2.0 */
/*
 * kmemlab C shim: kernel macros and static inline functions that Rust cannot
 * reach through bindgen, exposed as plain functions. In shim.c no logic
 * lives: every function forwards to one macro, inline or kernel function
 * (the PCI ones after to_pci_dev()), and its caller in rust/alloc/ checks
 * the arguments first. shim_bench.c is the C side of the benchmarks (the
 * raw-C baseline and the worker threads); its callers are
 * rust/alloc/raw.rs, rust/alloc/workers.rs and rust/alloc/clock.rs.
 */
#ifndef KMEMLAB_SHIM_H
#define KMEMLAB_SHIM_H

#include <linux/percpu-defs.h>
#include <linux/types.h>

struct page;

unsigned int kmemlab_num_online_cpus(void);
unsigned int kmemlab_num_online_nodes(void);
bool kmemlab_node_online(int nid);
struct kmem_cache;
void *kmemlab_kmalloc_node(size_t size, gfp_t gfp, int node);
void *kmemlab_kmem_cache_alloc_node(struct kmem_cache *cache, gfp_t gfp, int node);
struct percpu_ref;
void *kmemlab_kmem_cache_alloc_get(struct kmem_cache *cache, gfp_t gfp, int node,
				   struct percpu_ref *objects);
void kmemlab_kmem_cache_free_put(struct kmem_cache *cache, void *object,
				 struct percpu_ref *objects);
struct workqueue_struct;
struct workqueue_struct *kmemlab_alloc_workqueue(const char *name, unsigned int flags);
unsigned long kmemlab_get_free_pages(gfp_t gfp, unsigned int order);
struct page *kmemlab_alloc_pages_node(int nid, gfp_t gfp, unsigned int order);
void *kmemlab_vzalloc_node(unsigned long size, int node);
void __percpu *kmemlab_alloc_percpu(size_t size, size_t align);
void *kmemlab_page_address(struct page *page);
int kmemlab_page_to_nid(const struct page *page);
int kmemlab_virt_to_nid(const void *addr);
int kmemlab_vmalloc_to_nid(const void *addr);
gfp_t kmemlab_gfp_base_mask(unsigned int base);
void *kmemlab_kvmalloc_node(size_t size, gfp_t gfp, int node);
void *kmemlab_mempool_create_kmalloc(int min_nr, size_t size);
void *kmemlab_mempool_create_slab(int min_nr, struct kmem_cache *cache);
void *kmemlab_mempool_alloc(void *pool, gfp_t gfp);
void kmemlab_mempool_destroy(void *pool);
int kmemlab_mempool_reserve(void *pool);
unsigned long kmemlab_vmalloc_area_pages(const void *addr, size_t size);
int kmemlab_page_zone(const struct page *page);
int kmemlab_addr_zone(const void *addr);
int kmemlab_addr_backing(const void *addr);
void *kmemlab_kmap_local_page(struct page *page, unsigned long n);
void kmemlab_kunmap_local(void *addr);
bool kmemlab_virt_addr_valid(const void *addr);
phys_addr_t kmemlab_virt_to_phys(const void *addr);
void __iomem *kmemlab_ioremap(phys_addr_t phys, size_t size);
void kmemlab_iounmap(void __iomem *addr);
bool kmemlab_request_mem_region(phys_addr_t phys, size_t size);
void kmemlab_release_mem_region(phys_addr_t phys, size_t size);
bool kmemlab_iomem_locked_down(void);
void kmemlab_preempt_disable(void);
void kmemlab_preempt_enable(void);
void *kmemlab_this_cpu_ptr(void __percpu *ptr);
void *kmemlab_per_cpu_ptr(void __percpu *ptr, unsigned int cpu);
bool kmemlab_cpu_possible(unsigned int cpu);
void kmemlab_this_cpu_add_u64(u64 __percpu *ptr, u64 v);
u64 kmemlab_this_cpu_add_return_u64(u64 __percpu *ptr, u64 v);
void __percpu *kmemlab_static_counter_ptr(void);

/* Counters in the static per-CPU array (rust/alloc/percpu.rs: STATIC_COUNTERS). */
#define KMEMLAB_STATIC_COUNTERS 256
DECLARE_PER_CPU(u64 [KMEMLAB_STATIC_COUNTERS], kmemlab_static_counters);
size_t kmemlab_static_counters_size(void);

void kmemlab_migrate_disable(void);
void kmemlab_migrate_enable(void);
void kmemlab_cond_resched(void);

struct device;
void kmemlab_pci_clear_master(struct device *dev);
void kmemlab_pci_disable_device(struct device *dev);
int kmemlab_pci_request_region(struct device *dev, int bar, const char *name);
void kmemlab_pci_release_region(struct device *dev, int bar);

/* shim_bench.c: the raw-C baseline of KMEMLAB_IOC_BENCH and its threads. */
/*
 * What a raw-C baseline does: allocate and free through one C allocator, or
 * bump a counter. rust/alloc/raw.rs uses the same values.
 */
enum kmemlab_cbench_work {
	KMEMLAB_CB_KMALLOC = 1,
	KMEMLAB_CB_CACHE = 2,
	KMEMLAB_CB_FREE_PAGES = 3,
	KMEMLAB_CB_PAGES_NODE = 4,
	KMEMLAB_CB_VMALLOC = 5,
	KMEMLAB_CB_DMA = 6,
	KMEMLAB_CB_IOREMAP = 7,
	KMEMLAB_CB_PERCPU = 8,
	KMEMLAB_CB_PERCPU_INC = 9,
	KMEMLAB_CB_ATOMIC_INC = 10,
	KMEMLAB_CB_KVMALLOC = 11,
	/* @cache is the mempool. */
	KMEMLAB_CB_MEMPOOL = 12,
	/* @cache is the DMA pool. */
	KMEMLAB_CB_DMA_POOL = 13,
};

struct kmemlab_cbench;
struct kmemlab_cbench *kmemlab_cbench_new(unsigned int work, gfp_t gfp, size_t size,
					  unsigned int order, int node, struct kmem_cache *cache,
					  struct device *dev, phys_addr_t phys, unsigned int batch);
int kmemlab_cbench_step(struct kmemlab_cbench *b);
void kmemlab_cbench_free(struct kmemlab_cbench *b);
u64 kmemlab_get_cycles(void);
u64 kmemlab_ktime_ns(void);
u64 kmemlab_cycles_scale(void);
int kmemlab_run_workers(unsigned int nr, void (*fn)(void *ctx, unsigned int cpu),
			void *ctxs, size_t stride, u32 *stop);

#endif /* KMEMLAB_SHIM_H */
