/*
 * New descriptors (socket, socketpair, accept, accept4, and descriptors
 * received with SCM_RIGHTS): a number that still has state belonged to a
 * descriptor closed where we could not see it (fclose(), a raw system
 * call); the state is dropped before the program uses the new one. This
 * is what lets the UDP data path skip an identity check per datagram.
 * accept on a listening socket served by BIND goes to tcp/bind.c.
 */

#include <errno.h>
#include <stdbool.h>
#include <string.h>
#include <sys/socket.h>

#include "base/realfn.h"
#include "hooks/hooks.h"
#include "route/sockkind.h"
#include "state/fdstate.h"
#include "state/sockhint.h"
#include "tcp/async.h"
#include "tcp/bind.h"
#include "tcp/gss_stream.h"
#include "tcp/epoll_reg.h"

/* Out of line: only while a program has handshakes in its waits or
 * sockets registered in epoll sets. */
static __attribute__((noinline)) void fresh_in_event_loop(int fd)
{
	if (!sfy_async_none())
		sfy_async_forget(fd);
	if (atomic_load_explicit(&sfy_epoll_regs, memory_order_relaxed))
		sfy_epoll_reg_drop_fd(fd);
}

/* fresh() past its fast path: a failed call, a number past the hint
 * table, or a process that has had descriptor state or event-loop work.
 * Returns fd, so that fresh() ends in a tail call. */
static __attribute__((noinline)) int fresh_slow(int fd, bool stream)
{
	if (fd < 0)
		return fd;
	if (sfy_fd_kind(fd) != SFY_FD_NONE) {
		sfy_fd_drop_stale(fd);
		sfy_gss_forget(fd); /* closed where we could not see */
	}
	if ((atomic_load_explicit(&sfy_async_live, memory_order_relaxed) |
	     atomic_load_explicit(&sfy_epoll_regs, memory_order_relaxed)) != 0)
		fresh_in_event_loop(fd);
	sfy_hint_set(fd, stream);
	return fd;
}

/* fd was just made (socket, socketpair, accept): state left by a close
 * we did not see is dropped, and its hint says whether it is a stream
 * socket we saw made (sockhint.h). Returns fd. Inline: socket() and
 * accept() run it every time; while no descriptor has had state and no
 * event loop is watched (three flags, one test), it is the hint alone,
 * and the caller keeps nothing but stream across its real call. */
static inline int fresh(int fd, bool stream)
{
	if (__builtin_expect(
		    (unsigned int)fd < SFY_HINT_FDS &&
			    ((unsigned int)atomic_load_explicit(&sfy_fd_any_state,
								memory_order_relaxed) |
			     (unsigned int)atomic_load_explicit(&sfy_async_live,
								memory_order_relaxed) |
			     (unsigned int)atomic_load_explicit(&sfy_epoll_regs,
								memory_order_relaxed)) == 0,
		    1)) {
		sfy_hint_set(fd, stream);
		return fd;
	}
	return fresh_slow(fd, stream);
}

void sfy_fd_made(int fd, bool stream)
{
	fresh(fd, stream);
}

/* Descriptors that arrived with a message (SCM_RIGHTS) are made, as by
 * socket() or accept(): the UDP data path trusts the table without an
 * identity check per datagram, so stale state on their numbers must go
 * now, or a received UDP socket would use a dead socket's association. */
void sfy_fds_received(const struct msghdr *msg)
{
	struct cmsghdr *c;
	size_t i, n;
	int fd;

	for (c = CMSG_FIRSTHDR(msg); c; c = CMSG_NXTHDR((struct msghdr *)msg, c)) {
		if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS ||
		    c->cmsg_len < CMSG_LEN(0))
			continue;
		n = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
		for (i = 0; i < n; i++) {
			memcpy(&fd, CMSG_DATA(c) + i * sizeof(int), sizeof(fd));
			fresh(fd, false);
		}
	}
}

/* socket() before the table is there, or of a kind the proxy cannot
 * carry (route/sockkind.h): then the kernel's answer first, so that a
 * call it refuses fails as without us. Out of line, so that the common
 * socket() keeps only one value across the real call. */
static __attribute__((noinline)) int socket_other(int domain, int type,
						  int protocol, bool stream)
{
	const struct sfy_real *r = sfy_real();
	int fd, rc;

	if (!r->socket)
		return sfy_nosys();
	fd = r->socket(domain, type, protocol);
	if (fd >= 0 && !sfy_sock_plain(domain, type, protocol) && !sfy_inside()) {
		rc = sfy_sock_refusal(domain, type, protocol);
		if (rc < 0) {
			r->close(fd);
			errno = -rc;
			return -1;
		}
	}
	return fresh(fd, stream);
}

/* Every socket() of every program: the real call, then fresh() (three
 * flags and the hint, a store only when it changes). */
int sfy_socket(int domain, int type, int protocol)
{
	int (*real)(int, int, int) = SFY_REAL_FAST(socket);
	bool stream = (domain == AF_INET || domain == AF_INET6) &&
		      (type & 0xf) == SOCK_STREAM;

	if (__builtin_expect(!real || !sfy_sock_plain(domain, type, protocol), 0))
		return socket_other(domain, type, protocol, stream);
	return fresh(real(domain, type, protocol), stream);
}

int socket(int domain, int type, int protocol) SFY_EXPORT_AS(sfy_socket);

int socketpair(int domain, int type, int protocol, int sv[2])
{
	const struct sfy_real *r = sfy_real();
	int rc;

	if (!r->socketpair)
		return sfy_nosys();
	rc = r->socketpair(domain, type, protocol, sv);
	if (rc == 0) {
		fresh(sv[0], false);
		fresh(sv[1], false);
	}
	return rc;
}

/* accept on a listening socket served by BIND (tcp/bind.h): 1 when fd is
 * not one. */
static __attribute__((noinline)) int accept_bind(int fd, struct sockaddr *sa,
						 socklen_t *len, int flags)
{
	int nfd = sfy_bind_accept(fd, sa, len, flags);

	if (nfd < 0) {
		errno = -nfd;
		return -1;
	}
	return nfd;
}

/* accept() or accept4() (four) when the fast path cannot answer: the
 * table not resolved yet, or a process that has had descriptor state
 * (fd may be a listening socket served by BIND). */
static __attribute__((noinline)) int accept_other(int fd, struct sockaddr *sa,
						  socklen_t *len, int flags,
						  bool four)
{
	const struct sfy_real *r = sfy_real();
	int nfd;

	if (four ? !r->accept4 : !r->accept)
		return sfy_nosys();
	if (sfy_fd_kind(fd) == SFY_FD_BIND &&
	    (nfd = accept_bind(fd, sa, len, flags)) != 1)
		return nfd;
	nfd = four ? r->accept4(fd, sa, len, flags) : r->accept(fd, sa, len);
	return fresh(nfd, false);
}

/* No descriptor state in the process (sfy_fd_any_state): fd cannot be a
 * BIND socket, so the real call, then fresh(), with nothing kept across
 * it. */
int sfy_accept(int fd, struct sockaddr *sa, socklen_t *len)
{
	int (*real)(int, struct sockaddr *, socklen_t *) = SFY_REAL_FAST(accept);

	if (__builtin_expect(!real || atomic_load_explicit(&sfy_fd_any_state,
							  memory_order_relaxed),
			     0))
		return accept_other(fd, sa, len, 0, false);
	return fresh(real(fd, sa, len), false);
}

int sfy_accept4(int fd, struct sockaddr *sa, socklen_t *len, int flags)
{
	int (*real)(int, struct sockaddr *, socklen_t *, int) =
		SFY_REAL_FAST(accept4);

	if (__builtin_expect(!real || atomic_load_explicit(&sfy_fd_any_state,
							  memory_order_relaxed),
			     0))
		return accept_other(fd, sa, len, flags, true);
	return fresh(real(fd, sa, len, flags), false);
}

int accept(int fd, struct sockaddr *sa, socklen_t *len)
	SFY_EXPORT_AS(sfy_accept);
int accept4(int fd, struct sockaddr *sa, socklen_t *len, int flags)
	SFY_EXPORT_AS(sfy_accept4);
