/*
 * vfork children (vfork.h).
 *
 * The process remembers its pid when the library starts and in the child
 * handler of pthread_atfork; a vfork child never runs that handler, so
 * getpid() differs from what it remembers (glibc does not cache getpid,
 * and a vfork child writing the remembered pid would write the parent's).
 * The question costs a system call, so it is asked only once the process
 * may have made such a child (sfy_vfork_seen, set by the hooks of vfork,
 * clone, _Fork and syscall(SYS_vfork / SYS_clone / SYS_clone3 / SYS_fork)):
 * a connect() and close() of a proxied socket made two getpid() calls
 * in every program before.
 * A child made without the atfork handlers (_Fork, clone without
 * CLONE_VM, syscall(SYS_fork)) looks the same and keeps its bookkeeping
 * as it inherited it: safe, because every record is checked against its
 * descriptor before it is used, and a reused number is caught there.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <unistd.h>

#include "state/vfork.h"

static atomic_int self_pid;

/* Where the hooks cannot see a vfork (hook_fork.c has it for x86_64 only),
 * it is taken as seen from the start: getpid() on every slow path. */
#if defined(__x86_64__)
atomic_bool sfy_vfork_seen;
#else
atomic_bool sfy_vfork_seen = true;
#endif

bool sfy_in_vfork_child(void)
{
	int want, now;

	if (!atomic_load_explicit(&sfy_vfork_seen, memory_order_relaxed))
		return false;
	want = atomic_load_explicit(&self_pid, memory_order_relaxed);
	now = (int)getpid();

	if (want == 0) { /* a hook before our constructor */
		atomic_compare_exchange_strong(&self_pid, &want, now);
		return want != 0 && want != now;
	}
	return want != now;
}

static void fork_child(void)
{
	atomic_store(&self_pid, (int)getpid());
}

void sfy_vfork_init(void)
{
	atomic_store(&self_pid, (int)getpid());
	pthread_atfork(NULL, NULL, fork_child);
}
