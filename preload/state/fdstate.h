/*
 * Per-descriptor state: what the library knows about a program's fd.
 *
 * A lock-free table indexed by fd number (see fdstate.c for the design).
 * Every function here is async-signal-safe: no malloc, no lock that a
 * signal handler could be waiting on forever.
 */
#ifndef SOCKSIFY_PRELOAD_FDSTATE_H
#define SOCKSIFY_PRELOAD_FDSTATE_H

#include <netinet/in.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <sys/socket.h>

#include "base/sockaddr.h"

enum sfy_fd_kind {
	SFY_FD_NONE = 0,
	SFY_FD_TCP,     /* stream connected through the proxy */
	SFY_FD_UDP,     /* datagram socket with a UDP association */
	SFY_FD_CONTROL, /* the library's own control connection of an
			 * association: hidden from the program */
	SFY_FD_BIND,    /* a listening socket served by BIND at the proxy:
			 * the control connection on the program's number,
			 * peer = BND address (tcp/bind.c) */
	SFY_FD_DNS53,   /* a socket connected to a name server that the
			 * library answers for (dns/dns53.h); peer: the name
			 * server, assoc: SOCK_DGRAM or SOCK_STREAM */
};

struct sfy_fd_info {
	int kind;              /* enum sfy_fd_kind */
	int family;            /* the program's socket family */
	socklen_t peer_len;    /* bytes of peer that are valid */
	union sfy_inaddr peer; /* destination as the program gave it */
	int assoc;             /* UDP, CONTROL: index of the association */
	union sfy_inaddr via;  /* TCP: the proxy address the socket was
				* connected to (its identity, see below) */
	socklen_t bnd_len;     /* TCP: bytes of bnd (0: none) */
	union sfy_inaddr bnd;  /* TCP: CONNECT's BND in the program's family,
				* the address the destination sees: what
				* getsockname() shows (tcp/bind.h) */
};

/* Set once any descriptor has had state (hidden; for the inline checks
 * below, which every close() and socket() runs). */
extern atomic_bool sfy_fd_any_state __attribute__((visibility("hidden")));
bool sfy_fd_is_ours_slow(int fd);
int sfy_fd_kind_slow(int fd);

/* True when fd may have state. Costs one relaxed atomic load, inline, for
 * a program that never had a proxied descriptor. */
static inline bool sfy_fd_is_ours(int fd)
{
	return atomic_load_explicit(&sfy_fd_any_state, memory_order_relaxed) &&
	       sfy_fd_is_ours_slow(fd);
}

/* Stores info for fd, remembering which socket it is, so that state left
 * behind by a close we could not see (fclose() calls libc's internal
 * close) is never applied to a later socket that gets the same number:
 *   - UDP and CONTROL records by the socket's device and inode (fstat);
 *   - TCP records by info->via, the proxy address the socket is connected
 *     to, which the readers compare with the kernel's peer when they use
 *     the record (sfy_fd_tcp_same): no system call on the proxied connect.
 * Returns 0 or -errno (-EBADF when fd is beyond the table or not open,
 * -ENOMEM when a chunk cannot be mapped). */
int sfy_fd_set(int fd, const struct sfy_fd_info *info);

/* Copies fd's state into *out when it has state; a stamped record (not
 * TCP) only while fd is still the same socket, stale state is dropped. A
 * TCP record comes as stored: check it with sfy_fd_tcp_same. Returns true
 * when *out was filled. */
bool sfy_fd_get(int fd, struct sfy_fd_info *out);

/* True when the kernel's peer of fd (peer, len: what the real
 * getpeername() said) is the proxy address the TCP record holds: fd is
 * still the socket we connected. */
bool sfy_fd_tcp_same(const struct sfy_fd_info *info,
		     const struct sockaddr *peer, socklen_t len);

/* Forgets fd. */
void sfy_fd_clear(int fd);

/* Like sfy_fd_get without the identity check (no system call): for the
 * UDP data path, which instead learns of a reused number from the hooks
 * that make descriptors (socket, accept, ...) and from ENOTSOCK, both of
 * which call sfy_fd_drop_stale. */
bool sfy_fd_get_fast(int fd, struct sfy_fd_info *out);

/* fd's state belongs to a descriptor that is gone (its number now names
 * something new): cleared, and handed to the stale handler. */
void sfy_fd_drop_stale(int fd);

/* Like sfy_fd_set, but only when fd has no live UDP state yet: returns
 * -EEXIST with *existing filled when another thread got there first. */
int sfy_fd_set_udp_once(int fd, const struct sfy_fd_info *info,
			struct sfy_fd_info *existing);

/* fd's kind as stored, without the identity check (SFY_FD_NONE when
 * none): a load, for the descriptor hooks' fast paths. */
static inline int sfy_fd_kind(int fd)
{
	return atomic_load_explicit(&sfy_fd_any_state, memory_order_relaxed) ?
		       sfy_fd_kind_slow(fd) : SFY_FD_NONE;
}

/* Set once any descriptor of the process has had a special data path:
 * an associated UDP socket, one connected to a name server we answer for
 * (SFY_FD_DNS53), or one marked below. Until then the data-path hooks
 * (read, write, recv, send, ...) pass every descriptor straight through
 * after this one relaxed load. */
extern atomic_bool sfy_fd_udp_seen;

/*
 * The special data path of one descriptor: its reads and writes must go
 * through the library (a handshake in progress, tcp/async.h; a GSSAPI-
 * protected stream, tcp/gss_stream.h; a UDP association or a name-server
 * socket, by its record's kind). The hooks ask sfy_fd_plain_io() once and
 * only then the modules' own checks. A module marks each descriptor it
 * takes over, and unmarks it exactly once when it lets go (the marks are
 * counted, so two modules, or an unmark racing a new mark of a reused
 * number, keep a marked descriptor marked). Async-signal-safe; a mark may
 * map the table's chunk. Marks are not copied by dup: the modules key
 * their own tables by descriptor and mark each number they hold.
 */
void sfy_fd_path_mark(int fd);
void sfy_fd_path_unmark(int fd);
bool sfy_fd_path_slow(int fd);

/* True when fd's reads and writes go straight to the kernel: one relaxed
 * load while no descriptor ever had a special data path, else one load
 * of fd's slot. */
static inline bool sfy_fd_plain_io(int fd)
{
	return __builtin_expect(!atomic_load_explicit(&sfy_fd_udp_seen,
						      memory_order_relaxed), 1) ||
	       !sfy_fd_path_slow(fd);
}

/* No descriptor of the process ever had an association: one load. */
static inline bool sfy_fd_no_udp_yet(void)
{
	return !atomic_load_explicit(&sfy_fd_udp_seen, memory_order_relaxed);
}

/* No descriptor of the process ever had state: one load. */
static inline bool sfy_fd_no_state_yet(void)
{
	return !atomic_load_explicit(&sfy_fd_any_state, memory_order_relaxed);
}

static inline bool sfy_fd_maybe_udp(int fd)
{
	return atomic_load_explicit(&sfy_fd_udp_seen, memory_order_relaxed) &&
	       sfy_fd_kind(fd) == SFY_FD_UDP;
}

/* The same, or a socket connected to a name server the library answers
 * for (SFY_FD_DNS53): for the send paths. */
static inline bool sfy_fd_maybe_dgram(int fd)
{
	int kind;

	if (!atomic_load_explicit(&sfy_fd_udp_seen, memory_order_relaxed))
		return false;
	kind = sfy_fd_kind(fd);
	return kind == SFY_FD_UDP || kind == SFY_FD_DNS53;
}

/* Called with the dropped state when a reader finds a slot stale (the
 * descriptor was closed where we could not see it): lets the UDP code
 * release the association that slot held. */
void sfy_fd_on_stale(void (*fn)(int fd, const struct sfy_fd_info *stale));

/* One above the highest descriptor that ever had state (0: none), to
 * bound sweeps over a range of descriptors (close_range). */
int sfy_fd_limit(void);

/* Makes to's state a copy of from's (none when from has none): for dup,
 * dup2, dup3 and F_DUPFD, after the real call succeeded. */
void sfy_fd_copy(int from, int to);

/* At load (init.c): the fork child handler that repairs half-written
 * slots. */
void sfy_fdstate_init(void);

#endif
