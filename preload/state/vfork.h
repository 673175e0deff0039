/*
 * Whether this process is a vfork child: it shares its parent's memory
 * (vfork, posix_spawn, clone with CLONE_VM) but has descriptors of its
 * own, so nothing it does to its descriptors may change the bookkeeping
 * the parent keeps in that memory (the descriptor table, the UDP
 * associations' references and control connections, the log's number).
 */
#ifndef SOCKSIFY_PRELOAD_VFORK_H
#define SOCKSIFY_PRELOAD_VFORK_H

#include <stdatomic.h>
#include <stdbool.h>

/* Set (never cleared, inherited) once this process may have made a child
 * that shares its memory or runs no atfork handler: vfork, clone, _Fork
 * and their syscall() forms (hooks/hook_fork.c). Until then no hook can
 * run in such a child, and sfy_in_vfork_child() asks the kernel nothing. */
extern atomic_bool sfy_vfork_seen __attribute__((visibility("hidden")));

static inline void sfy_vfork_note(void)
{
	atomic_store_explicit(&sfy_vfork_seen, true, memory_order_relaxed);
}

/* False at once until sfy_vfork_seen, then one getpid() system call: for
 * slow paths only (a descriptor with state, the library's own
 * descriptor). */
bool sfy_in_vfork_child(void);

/* At load (init.c): the pid, and the fork child handler that renews it. */
void sfy_vfork_init(void);

#endif
