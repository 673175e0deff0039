/*
 * Whether this process is a vfork child: it shares its parent's memory
 * (vfork, posix_spawn, clone with CLONE_VM) but has descriptors of its
 * own, so nothing it does to its descriptors may change the bookkeeping
 * the parent keeps in that memory (the descriptor table, the UDP
 * associations' references and control connections, the log's number).
 */
#ifndef SOCKSIFY_PRELOAD_VFORK_H
#define SOCKSIFY_PRELOAD_VFORK_H

#include <stdbool.h>

/* One getpid() system call: for slow paths only (a descriptor with
 * state, the library's own descriptor). */
bool sfy_in_vfork_child(void);

/* At load (init.c): the pid, and the fork child handler that renews it. */
void sfy_vfork_init(void);

#endif
