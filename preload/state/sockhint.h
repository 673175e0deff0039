/*
 * Which descriptors the program made, through our socket(), as AF_INET or
 * AF_INET6 stream sockets: connect() then need not ask the kernel for the
 * socket's type (one system call fewer per proxied connect).
 *
 * A hint, not a record. A close we do not see (fclose()) followed by a
 * socket we did not make (SCM_RIGHTS, a raw system call) can leave a
 * stale bit; it costs nothing to catch: the connection to the proxy starts
 * with a sendto that only a stream socket takes (MSG_FASTOPEN | MSG_OOB:
 * UDP refuses MSG_OOB before sending anything), a refusal makes
 * socks5_connect_deadline ask the kernel and answer -EPROTOTYPE, and
 * connect() then starts over with the socket's real type.
 *
 * One byte per descriptor below SFY_HINT_FDS, atomics only: any thread, a
 * signal handler, fork() (copied with the descriptors) and exec() (gone
 * with them) are all fine.
 */
#ifndef SOCKSIFY_PRELOAD_SOCKHINT_H
#define SOCKSIFY_PRELOAD_SOCKHINT_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#define SFY_HINT_FDS 65536

/* A byte per descriptor rather than a bit: each has its own, so setting
 * one is a plain store (no read-modify-write that threads would share),
 * and only the pages of the numbers in use are ever touched (one page
 * for the first 4096). */
extern _Atomic uint8_t sfy_stream_hints[SFY_HINT_FDS]
	__attribute__((visibility("hidden")));

static inline bool sfy_hint_stream(int fd)
{
	return (unsigned int)fd < SFY_HINT_FDS &&
	       atomic_load_explicit(&sfy_stream_hints[fd],
				    memory_order_relaxed);
}

/* Sets or clears fd's hint; writes only when it changes (most sockets a
 * program makes find it clear already, and their page stays clean). */
static inline void sfy_hint_set(int fd, bool stream)
{
	if ((unsigned int)fd < SFY_HINT_FDS &&
	    atomic_load_explicit(&sfy_stream_hints[fd],
				 memory_order_relaxed) != stream)
		atomic_store_explicit(&sfy_stream_hints[fd], stream,
				      memory_order_relaxed);
}

#endif
