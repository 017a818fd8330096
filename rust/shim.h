/* SPDX-License-Identifier: GPL-2.0 */
/*
 * kmemlab C shim: kernel macros and static inline functions that Rust cannot
 * reach through bindgen, exposed as plain functions. No logic lives here.
 */
#ifndef KMEMLAB_SHIM_H
#define KMEMLAB_SHIM_H

unsigned int kmemlab_num_online_cpus(void);
unsigned int kmemlab_num_online_nodes(void);

#endif /* KMEMLAB_SHIM_H */
