/*
 * BIND (RFC 1928, section 4): a program that listens for a connection
 * back from the host it talks to through the proxy (active FTP: PORT
 * tells the server where to connect) gets the proxy to listen for it,
 * since the host cannot reach the program's own address.
 *
 * When (SOCKSIFY_BIND=auto, the default; off keeps every listen() local):
 *   - listen() on a TCP socket (AF_INET or AF_INET6) bound to the
 *     wildcard address, to none, or to an address of the host other than
 *     loopback, in a process that has made a proxied connection;
 *   - bind() of such a socket to an address a proxied socket showed as
 *     its own (below) which the host does not have (the kernel said
 *     EADDRNOTAVAIL): BIND at once, so that getsockname() shows the port
 *     before listen() (curl's active FTP binds to the control
 *     connection's getsockname() address and reads the port before it
 *     listens).
 * The expected peer (DST.ADDR of the request, port 0: any) is the
 * destination of the process's most recent proxied connect() (the FTP
 * control connection), noted by tcp/connect.c; a loopback or bypassed
 * peer keeps the socket local, as does a loopback socket. Direct
 * connections are not noted (that would cost the hot path of every
 * connect()), so a process whose latest connection went direct still
 * expects the latest proxied host.
 *
 * getsockname() of a proxied TCP socket shows CONNECT's BND, the address
 * the destination sees the program at (hook_peer.c; the kernel's answer
 * when the proxy says 0.0.0.0). Clients that put the control
 * connection's own address into PORT (python's ftplib, curl) then name
 * the proxy, where BIND listens.
 *
 * How: a control connection through the chain as connect() makes it
 * (tcp/connect.c's attempt, with BIND at the last hop), the first reply
 * awaited within SOCKSIFY_TIMEOUT_MS, and the control connection moved
 * onto the program's descriptor number with the real dup3() (FD_CLOEXEC,
 * file status flags and epoll registrations kept; the program's own
 * socket, never listening, is closed by that). The number is then the
 * control connection, so poll, select and epoll see it readable exactly
 * when the second reply (or the proxy's close) arrives: no substitution
 * in the waits. The record (SFY_FD_BIND) holds BND as getsockname() shows
 * it: 0.0.0.0 or a domain name becomes the address the control
 * connection reached (the proxy, for one hop), in the socket's family;
 * getpeername() is ENOTCONN, as for a listening socket.
 *
 * accept()/accept4(): the second reply is peeked (a blocking socket waits
 * in recv(MSG_WAITALL), which the kernel interrupts and restarts as it
 * does accept(); a non-blocking one gets EAGAIN until the whole reply is
 * there), the control connection is duplicated onto the lowest free
 * number with accept4's flags, and the reply is consumed: that new
 * descriptor is the accepted connection (a TCP record whose peer is the
 * second reply's address, for getpeername). A BIND serves one
 * connection, so the listening number is re-armed at once with a new
 * BIND (a new port at the proxy, which getsockname() then shows; a peer
 * told the old port cannot use it): a later accept() waits as on a
 * listening socket, and an event loop sees no readiness meanwhile. The
 * re-arm costs a round trip to the proxy inside accept() and a control
 * connection until the program closes the socket; should it fail, the
 * number gets a socket that does not listen (accept(): EINVAL, logged).
 * A refusal in the second reply fails accept() with DESIGN's errno; the
 * proxy closing first gives ECONNABORTED.
 *
 * Not covered: servers that accept many connections from peers told one
 * port, listening before any proxied connection (stays local), proxies
 * without BIND (microsocks: REP 0x07, EOPNOTSUPP), raw
 * syscall(SYS_listen) and syscall(SYS_bind); getsockopt(SO_ACCEPTCONN)
 * is the kernel's (0: the number names a connected socket); a dup() of
 * the listening socket keeps naming the first control connection, which
 * becomes the accepted connection. Threads accepting on one socket while
 * another re-arms it (one round trip to the proxy): an accept() that
 * begins in that window gets EINVAL (the number's record is cleared until
 * the new BIND is in); one that began before and woke late waits on the
 * handed-out connection until that connection reads something or ends
 * (then it goes on waiting on the re-armed socket; tests/tools/bindrace.c),
 * so an idle accepted connection keeps it from the next one.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/stat.h>
#include <time.h>

#include "base/config.h"
#include "base/log.h"
#include "base/realfn.h"
#include "base/sockaddr.h"
#include "base/sockopt.h"
#include "hooks/hooks.h"
#include "route/policy.h"
#include "state/fdstate.h"
#include "state/vfork.h"
#include "tcp/bind.h"
#include "tcp/epoll_reg.h"
#include "tcp/tcp.h"

/* A peer that must not be asked for at the proxy: loopback (the proxy's
 * own) or one the bypass rules send direct. */
static bool peer_local(const struct socks5_addr *p)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);

	if (p->atyp == SOCKS5_ATYP_DOMAIN)
		return sfy_policy_direct_name(p->u.domain);
	if (socks5_addr_to_sockaddr(p, &ss, &len) != SOCKS5_OK)
		return true;
	return sfy_addr_is_loopback((struct sockaddr *)&ss) ||
	       sfy_policy_bypassed((struct sockaddr *)&ss);
}

/* A stream socket of the program's, of an Internet family, that is
 * neither connected nor listening, nor bound to loopback. */
static bool socket_fits(int fd, int *family)
{
	const struct sfy_real *r = sfy_real();
	struct sockaddr_storage local;
	socklen_t len = sizeof(local);
	int type = 0, on = 0;

	*family = sfy_sock_domain(fd);
	if ((*family != AF_INET && *family != AF_INET6) ||
	    sfy_sock_type(fd, &type) < 0 || type != SOCK_STREAM ||
	    sfy_sockopt_int(fd, SOL_SOCKET, SO_ACCEPTCONN, &on) < 0 || on ||
	    r->getsockname(fd, (struct sockaddr *)&local, &len) < 0 ||
	    sfy_addr_is_loopback((struct sockaddr *)&local))
		return false;
	len = sizeof(local);
	return r->getpeername(fd, (struct sockaddr *)&local, &len) < 0;
}

/* BND as the program will see it (getsockname), in family. */
static socklen_t shown_bnd(const struct socks5_addr *bnd,
			   const struct sockaddr_storage *via, socklen_t vlen,
			   int family, union sfy_inaddr *out)
{
	static const uint8_t zero[16];
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);
	uint16_t port = htons(bnd->port);

	if (bnd->atyp == SOCKS5_ATYP_DOMAIN ||
	    (bnd->atyp == SOCKS5_ATYP_IPV4 && !memcmp(bnd->u.ipv4, zero, 4)) ||
	    (bnd->atyp == SOCKS5_ATYP_IPV6 && !memcmp(bnd->u.ipv6, zero, 16)) ||
	    socks5_addr_to_sockaddr(bnd, &ss, &len) != SOCKS5_OK) {
		memcpy(&ss, via, vlen);
		len = vlen;
		if (ss.ss_family == AF_INET)
			((struct sockaddr_in *)&ss)->sin_port = port;
		else
			((struct sockaddr_in6 *)&ss)->sin6_port = port;
	}
	sfy_addr_plain(&ss, &len);
	return sfy_addr_in_family((struct sockaddr *)&ss, family, out);
}

/* Puts the socket s onto fd's number (closing what fd was), with fd's
 * FD_CLOEXEC and file status flags, and the program's epoll
 * registrations of fd moved from the old socket to s. s is closed. */
static int move_onto(int s, int fd)
{
	const struct sfy_real *r = sfy_real();
	struct epoll_event ev[8];
	int ep[8], n, i, fdfl, fl, rc = 0;

	fdfl = r->fcntl(fd, F_GETFD);
	fl = r->fcntl(fd, F_GETFL);
	if (fdfl < 0 || fl < 0 || r->fcntl(s, F_SETFL, fl) < 0) {
		rc = -errno;
		r->close(s);
		return rc;
	}
	n = r->epoll_ctl ? sfy_epoll_reg_of(fd, ep, ev, 8) : 0;
	for (i = 0; i < n; i++)
		r->epoll_ctl(ep[i], EPOLL_CTL_DEL, fd, NULL);
	if (r->dup3(s, fd, (fdfl & FD_CLOEXEC) ? O_CLOEXEC : 0) < 0)
		rc = -errno;
	r->close(s);
	for (i = 0; i < n; i++)
		r->epoll_ctl(ep[i], EPOLL_CTL_ADD, fd, &ev[i]);
	return rc;
}

/* BIND for fd (of family) expecting peer: the control connection moved
 * onto fd's number, its record made. 0 or -errno. */
static int bind_now(int fd, int family, struct socks5_addr *peer)
{
	const struct sfy_real *r = sfy_real();
	struct sockaddr_storage via;
	struct socks5_reply first;
	struct sfy_fd_info info;
	char shown[SOCKS5_DOMAIN_MAX + 16], bnd[SOCKS5_DOMAIN_MAX + 16];
	socklen_t vlen = sizeof(via);
	int ctl, rc;

	socks5_addr_format(peer, shown, sizeof(shown));
	if (sfy_in_vfork_child()) {
		/* Its control connection would be recorded in the parent's
		 * table. */
		sfy_warn("listen on fd %d: no BIND for %s in a vfork child; refusing",
			 fd, shown);
		return -EPERM;
	}
	peer->port = 0; /* the port it connects from is not known */
	ctl = sfy_socket(family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (ctl < 0)
		return -errno;
	rc = sfy_tcp_chain_cmd(ctl, SOCKS5_CMD_BIND, peer, "BIND for", &first);
	if (rc == 0 && r->getpeername(ctl, (struct sockaddr *)&via, &vlen) < 0)
		rc = -errno;
	memset(&info, 0, sizeof(info));
	info.kind = SFY_FD_BIND;
	info.family = family;
	if (rc == 0) {
		memcpy(&info.via, &via, vlen < sizeof(info.via) ? vlen :
								  sizeof(info.via));
		info.peer_len = shown_bnd(&first.bnd, &via, vlen, family,
					  &info.peer);
		if (!info.peer_len) {
			sfy_warn("listen on fd %d: BIND's address has no form for this socket's family",
				 fd);
			rc = -EAFNOSUPPORT;
		}
	}
	if (rc) {
		r->close(ctl);
		return rc;
	}
	rc = move_onto(ctl, fd);
	if (rc == 0 && sfy_fd_set(fd, &info) < 0)
		rc = -ENOBUFS; /* the number now names the control connection */
	if (rc)
		return rc;
	socks5_addr_format(&first.bnd, bnd, sizeof(bnd));
	sfy_info("listen on fd %d: BIND for %s, the proxy listens on %s", fd,
		 shown, bnd);
	return 0;
}

/* What listen() and bind() ask before BIND. */
static bool usable(void)
{
	const struct sfy_config *cfg = sfy_config();
	const struct sfy_real *r = sfy_real();

	return cfg->enabled && !cfg->broken && !cfg->bind_off &&
	       !sfy_inside() && r->listen && r->dup3 && r->fcntl;
}

int sfy_bind_listen(int fd, int backlog)
{
	struct socks5_addr peer;
	struct sfy_fd_info info;
	int family;

	(void)backlog; /* the proxy takes one connection */
	if (!usable())
		return 1;
	if (sfy_fd_kind(fd) == SFY_FD_BIND && sfy_fd_get(fd, &info) &&
	    info.kind == SFY_FD_BIND)
		return 0; /* listen() again: the backlog only, as the kernel */
	if (!sfy_bind_peer_get(&peer) || peer_local(&peer) || !socket_fits(fd, &family))
		return 1;
	return bind_now(fd, family, &peer);
}

int sfy_bind_at_bind(int fd)
{
	struct socks5_addr peer;
	int family;

	/* The address is not the host's: without BIND, the kernel's
	 * answer. */
	if (!usable() || !sfy_bind_peer_get(&peer) || peer_local(&peer) ||
	    !socket_fits(fd, &family))
		return -EADDRNOTAVAIL;
	return bind_now(fd, family, &peer);
}

/* BIND's second reply at the head of fd's stream, peeked: 0 with *used
 * its length, or -errno (-EAGAIN: not all there and wait is false;
 * -EBADMSG: malformed, logged unless quiet). */
static int peek_reply(int fd, bool wait, bool quiet, struct socks5_reply *rep,
		      size_t *used)
{
	const struct sfy_real *r = sfy_real();
	uint8_t buf[4 + 1 + SOCKS5_DOMAIN_MAX + 2];
	size_t want = wait ? 5 : sizeof(buf), more = 0;
	enum socks5_status st;
	ssize_t n;

	for (int turns = 0; turns < 8; turns++) {
		n = r->recv(fd, buf, want,
			    MSG_PEEK | (wait ? MSG_WAITALL : MSG_DONTWAIT));
		if (n < 0)
			return errno == EWOULDBLOCK ? -EAGAIN : -errno;
		if (n == 0)
			return -ECONNABORTED;
		st = socks5_parse_reply(buf, (size_t)n, rep, &more);
		if (st == SOCKS5_OK) {
			*used = more;
			return 0;
		}
		if (st != SOCKS5_NEED_MORE || (size_t)n + more > sizeof(buf)) {
			if (!quiet)
				sfy_warn("accept on fd %d: BIND's second reply is malformed: %s",
					 fd, socks5_strerror(st));
			return -EBADMSG;
		}
		if (!wait)
			return -EAGAIN;
		want = (size_t)n + more;
	}
	return -EAGAIN;
}

/* The accept itself, under accept_lock, once a second reply may be
 * there: 1 when fd is not (or no longer) a BIND socket, else as
 * sfy_bind_accept. */
static int take(int fd, struct sockaddr *sa, socklen_t *len, int flags)
{
	const struct sfy_real *r = sfy_real();
	struct sfy_fd_info info, acc;
	struct socks5_addr peer;
	struct socks5_reply second;
	struct sockaddr_storage ss;
	uint8_t sink[4 + 1 + SOCKS5_DOMAIN_MAX + 2];
	socklen_t sl = sizeof(ss);
	size_t used = 0;
	int fl, nfd, s, rc;

	if (!sfy_fd_get(fd, &info) || info.kind != SFY_FD_BIND)
		return 1;
	fl = r->fcntl(fd, F_GETFL);
	if (fl < 0)
		return -errno;
	rc = peek_reply(fd, false, false, &second, &used);
	if (rc == -EBADMSG)
		return -ECONNREFUSED;
	if (rc < 0)
		return rc;
	if (second.rep != SOCKS5_REP_SUCCEEDED) {
		sfy_warn("accept on fd %d: the proxy's BIND failed: %s", fd,
			 socks5_rep_string(second.rep));
		return -socks5_rep_errno(second.rep);
	}
	/* The accepted connection's number first: should there be none
	 * (EMFILE), the reply stays where it is for the next accept(). */
	nfd = r->fcntl(fd, (flags & SOCK_CLOEXEC) ? F_DUPFD_CLOEXEC : F_DUPFD, 0);
	if (nfd < 0)
		return -errno;
	/* What the listening number gets should a new BIND fail: made now,
	 * so that no failure leaves the number naming the connection. */
	s = r->socket(info.family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (s < 0) {
		rc = -errno;
		r->close(nfd);
		return rc;
	}
	r->recv(fd, sink, used, MSG_DONTWAIT);
	sfy_fd_clear(fd);
	/* Listening again: a new BIND on the number (its new port in
	 * getsockname()); failing that, a socket that does not listen. */
	rc = sfy_bind_peer_get(&peer) ? bind_now(fd, info.family, &peer) : -EAGAIN;
	if (rc == 0) {
		r->close(s);
	} else if (move_onto(s, fd) == 0) {
		sfy_warn("accept on fd %d: no new BIND (%s): the socket no longer listens",
			 fd, strerrordesc_np(-rc));
	} else {
		sfy_warn("accept on fd %d: it still names the accepted connection",
			 fd);
	}
	r->fcntl(nfd, F_SETFL, (fl & ~O_NONBLOCK) |
				       ((flags & SOCK_NONBLOCK) ? O_NONBLOCK : 0));
	memset(&acc, 0, sizeof(acc));
	acc.kind = SFY_FD_TCP;
	acc.family = info.family;
	acc.via = info.via;
	if (socks5_addr_to_sockaddr(&second.bnd, &ss, &sl) == SOCKS5_OK) {
		sfy_addr_plain(&ss, &sl);
		acc.peer_len = sfy_addr_in_family((struct sockaddr *)&ss,
						  info.family, &acc.peer);
	}
	if (!acc.peer_len) { /* a name, or no form in the family: "any" */
		acc.peer.sa.sa_family = (sa_family_t)info.family;
		acc.peer_len = info.family == AF_INET ?
				       sizeof(struct sockaddr_in) :
				       sizeof(struct sockaddr_in6);
	}
	sfy_fd_made(nfd, false);
	sfy_fd_set(nfd, &acc);
	if (sa && len) {
		memcpy(sa, &acc.peer, *len < acc.peer_len ? *len : acc.peer_len);
		*len = acc.peer_len;
	}
	if (sfy_log_level() >= SFY_LOG_INFO) {
		char from[SOCKS5_DOMAIN_MAX + 16];

		socks5_addr_format(&second.bnd, from, sizeof(from));
		sfy_info("accept on fd %d: connection from %s through the proxy, fd %d",
			 fd, from, nfd);
	}
	return nfd;
}

/* Threads accepting on one socket: the waits run outside the lock, each
 * take() under it checks again what the number names (another thread may
 * have taken the connection and re-armed the socket meanwhile). The lock
 * is held for the hand-out and the re-arm (bounded by
 * SOCKSIFY_TIMEOUT_MS); a blocking waiter naps 1 ms between tries, a
 * non-blocking caller gets EAGAIN. */
static atomic_flag accept_lock = ATOMIC_FLAG_INIT;

static void fork_child(void)
{
	atomic_flag_clear_explicit(&accept_lock, memory_order_relaxed);
	sfy_bind_peer_fork_child();
}

void sfy_bind_init(void)
{
	pthread_atfork(NULL, NULL, fork_child);
}

/* accept_lock, napping between tries (a blocking caller). */
static void lock_accept(const struct timespec *nap)
{
	while (atomic_flag_test_and_set_explicit(&accept_lock,
						 memory_order_acquire))
		nanosleep(nap, NULL);
}

/* Whether fd still names the socket before was taken of. */
static bool same_socket(int fd, const struct stat *before)
{
	struct stat now;

	return fstat(fd, &now) == 0 && now.st_ino == before->st_ino &&
	       now.st_dev == before->st_dev;
}

int sfy_bind_accept(int fd, struct sockaddr *sa, socklen_t *len, int flags)
{
	struct timespec nap = { 0, 1000000 };
	struct socks5_reply second;
	size_t used;
	int fl, rc;

	if (flags & ~(SOCK_NONBLOCK | SOCK_CLOEXEC))
		return -EINVAL;
	for (;;) {
		fl = sfy_real()->fcntl(fd, F_GETFL);
		if (fl < 0)
			return -errno;
		if (!(fl & O_NONBLOCK)) {
			/* Malformed here may be another thread's connection,
			 * taken while this one waited: judged under the lock.
			 * So may an end or an error: this wait can outlive
			 * the socket it began on (another thread handed that
			 * one out, and its peer may end it before the number
			 * is re-armed), and the accepted connection's end is
			 * not this socket's. Under the lock, which the
			 * hand-out holds until the number is re-armed, the
			 * number names another socket then. */
			struct stat before;
			bool known = fstat(fd, &before) == 0;

			rc = peek_reply(fd, true, true, &second, &used);
			if (rc < 0 && rc != -EBADMSG) {
				bool moved;

				lock_accept(&nap);
				moved = known && !same_socket(fd, &before);
				atomic_flag_clear_explicit(&accept_lock,
							   memory_order_release);
				if (!moved)
					return rc;
				continue;
			}
		}
		if (fl & O_NONBLOCK) {
			if (atomic_flag_test_and_set_explicit(
				    &accept_lock, memory_order_acquire))
				return -EAGAIN;
		} else {
			lock_accept(&nap);
		}
		rc = take(fd, sa, len, flags);
		atomic_flag_clear_explicit(&accept_lock, memory_order_release);
		if (rc != -EAGAIN || (fl & O_NONBLOCK))
			return rc;
	}
}
