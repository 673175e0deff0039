/*
 * Handshakes that run inside the program's own waits (issue 13).
 *
 * connect() on a non-blocking socket to a proxied destination starts the
 * TCP connection to the first hop, sets up the public handshake machine
 * (socks5_hs_*) in a slot of a table that grows without malloc, and returns EINPROGRESS.
 * The machine then advances whenever the program waits or looks at the
 * socket: poll, ppoll, select, pselect (hook_poll.c), epoll_wait and its
 * siblings (hook_epoll.c), getsockopt(SO_ERROR) (hook_sockopt.c). No
 * thread, no timer signal: only the program's own calls drive it.
 *
 * Slots are found by descriptor number. A slot is PENDING while the
 * machine runs, FAILED after a failure until the program collects the
 * error (SO_ERROR, a second connect(), close()); a success frees it.
 * Stepping takes a per-slot try-lock: one thread (or a signal handler)
 * steps at a time, the others see the descriptor as still connecting.
 *
 * Early data (SOCKSIFY_EARLY_DATA=on, off by default; deliverable 3): where
 * the one hop is known to take a pipelined handshake (SOCKSIFY_PIPELINE's
 * verdict), the slot *opens* once greeting, credentials and request are
 * handed to the kernel, held back with MSG_MORE: the socket is then the
 * program's (writable, SO_ERROR 0, its own epoll registration; a blocking
 * connect() returns 0), its first write leaves in the same segment, and
 * the proxy's replies are read before its first read (a blocking read
 * waits for them). A refusal then shows as the errno of the next read,
 * write or SO_ERROR, and as POLLERR/EPOLLERR (the socket is shut down),
 * as for TCP_FASTOPEN_CONNECT. A read or a wait before any write sends
 * the held bytes alone (sfy_async_flush).
 *
 * Fast path of every waiting hook: sfy_async_none(), one relaxed load.
 */
#ifndef SOCKSIFY_PRELOAD_TCP_ASYNC_H
#define SOCKSIFY_PRELOAD_TCP_ASYNC_H

#include <poll.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/types.h>

#include "base/config.h"
#include "socks5.h"
#include "state/fdstate.h"

/* Handshakes at once: a static chunk, then mmap'ed ones (asynctable.c). */
#define SFY_ASYNC_CHUNK 256
#define SFY_ASYNC_MAX (64 * SFY_ASYNC_CHUNK)

enum sfy_async_st {
	SFY_ASYNC_FREE = 0,
	SFY_ASYNC_CLAIMED, /* being filled in */
	SFY_ASYNC_PENDING,
	SFY_ASYNC_FAILED,
	SFY_ASYNC_OPEN,    /* shown only: PENDING, but open (early data) */
};

/* Slots in use (PENDING or FAILED). Hidden. */
extern atomic_int sfy_async_live __attribute__((visibility("hidden")));

static inline bool sfy_async_none(void)
{
	return !atomic_load_explicit(&sfy_async_live, memory_order_relaxed);
}

/* After the real connect() of fd (non-blocking) to the first hop (rc: 0
 * or -EINPROGRESS): starts the machine to dst over cfg's chain and steps
 * it once. Returns -EINPROGRESS (running, or failed already: SO_ERROR
 * says so), 0 (all done at once), 1 when the table is
 * full (then connect() gives EAGAIN). dstname for log
 * lines; info is stored as fd's TCP record on success. */
int sfy_async_start(int fd, const struct sfy_config *cfg,
		    const struct socks5_addr *dst, const char *dstname,
		    const struct sfy_fd_info *info);

/* fd's slot state (SFY_ASYNC_FREE when none): for the hooks. */
int sfy_async_state(int fd);

/* What fd's machine waits for (POLLIN or POLLOUT; 0 when not pending). */
short sfy_async_need(int fd);

/* Steps fd's machine when it is pending (revents: what the wait saw on
 * the descriptor, 0 when unknown) and checks its deadline. Returns the
 * state afterwards: SFY_ASYNC_PENDING, SFY_ASYNC_FAILED, or
 * SFY_ASYNC_FREE when the handshake is done (or fd had no slot). */
int sfy_async_advance(int fd, short revents);

/* The earliest deadline of a pending handshake among fds that a wait
 * covers is bounded by this: milliseconds from now until the earliest
 * deadline of all pending handshakes (-1: none). */
int sfy_async_ms_left(void);

/* Steps every pending machine whose deadline passed (they fail with
 * ETIMEDOUT). */
void sfy_async_expire(void);

/* SO_ERROR: a failed handshake's errno, once (the slot is freed, as the
 * kernel clears its error); 0 otherwise. */
int sfy_async_take_error(int fd);

/* A second connect() on fd: -EALREADY while pending, the failure's
 * -errno once after a failure (slot freed), SFY_ASYNC_FREE (1) when fd
 * has no slot. */
int sfy_async_reconnect(int fd);

/* write, send... on fd (sfy_async_gated): -EAGAIN while its handshake
 * runs (after a step), a failed one's -errno once, else 0 (an open one's
 * held bytes leave with this write). */
int sfy_async_io(int fd);

/* read, recv... on fd (sfy_async_gated_rd): the same, but an open
 * handshake's replies are read first: -EAGAIN while they have not all
 * come on a non-blocking socket (or flags has MSG_DONTWAIT), else a wait
 * for them. */
int sfy_async_io_read(int fd, int flags);

/* Whether connects under cfg open early (see above). */
bool sfy_async_early_ok(const struct sfy_config *cfg);

/* After a wait saw fd readable: true when those bytes were only the
 * proxy's replies to an open handshake (consumed now, so the program is
 * not told; it is when its own bytes came with them). */
bool sfy_async_replies_only(int fd);

/* Before a program's wait: sends what an open handshake of fd (of any,
 * flush_all) still holds back, the program having written nothing. */
void sfy_async_flush(int fd);
void sfy_async_flush_all(void);

/* For the data hooks, behind their sfy_fd_no_udp_yet() gate (which
 * sfy_async_start opens): nonzero (*rc the -errno) when fd's I/O must
 * not reach the kernel yet. */
static inline bool sfy_async_gated(int fd, ssize_t *rc)
{
	return !sfy_async_none() && (*rc = sfy_async_io(fd)) < 0;
}

static inline bool sfy_async_gated_rd(int fd, int flags, ssize_t *rc)
{
	return !sfy_async_none() && (*rc = sfy_async_io_read(fd, flags)) < 0;
}

/* A blocking connect(): waits for fd's handshake in poll() until it is
 * over or open (0, or its -errno), until sndtimeo_ms (> 0: SO_SNDTIMEO) passes
 * (-EINPROGRESS, as the kernel's), or until a signal interrupts the wait
 * when the kernel's connect() would give EINTR then (-EINTR; see
 * hook_signal.c). After EINPROGRESS or EINTR the handshake goes on in the
 * program's waits, and a second connect() gives EALREADY or EISCONN. */
int sfy_async_block(int fd, int sndtimeo_ms);

/* Set once the program installed a signal handler without SA_RESTART
 * (hook_signal.c). Hidden. */
extern atomic_bool sfy_sig_interrupts __attribute__((visibility("hidden")));

/* For asyncwait.c: a FAILED slot's errno, freeing it (0 when fd has
 * none); 1 and *p filled when fd's handshake runs the pipelining probe
 * and it waits for something (tcp/asyncprobe.h), else 0. */
int sfy_async_take(int fd);
int sfy_async_probe_poll(int fd, struct pollfd *p);

/* newfd is a copy of oldfd (dup, dup2, dup3, F_DUPFD): a handshake of
 * oldfd's socket is followed through either number (up to 4 copies). */
void sfy_async_dup(int oldfd, int newfd);

/* At start-up (init.c): the fork child handler, which unlocks the slots
 * (and the epoll registrations' table) that other threads held. */
void sfy_async_init(void);

/* fd is being closed (or its number reused): its slot, if any, goes
 * with its last number. */
void sfy_async_forget(int fd);

/* The epoll registrations of connecting descriptors (epoll_reg.c): told
 * when a machine starts waiting for something else (need) and when it is
 * over (the program's own events come back, re-arming edge-triggered
 * sets). */
void sfy_epoll_reg_arm(int fd, short need);
void sfy_epoll_reg_restore(int fd);

#endif
