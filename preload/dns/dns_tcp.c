/*
 * The TCP half of the local-DNS forwarder: see dns_tcp.h for why.
 *
 *   resolver (libc) --TCP--> 127.0.0.1:P (our listener, P as in _res)
 *   forwarder thread --TCP through the proxy--> real name server
 *
 * The bytes are relayed unchanged both ways (the resolver may send its A
 * and AAAA queries on one connection, each with its 2-byte length), so
 * the resolver keeps all its checks of the answers. Only real functions
 * are called, never the library's own hooks, except the library's
 * proxied connect itself (tcp/tcp.h), whose record of the socket
 * is cleared before the socket is closed.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "base/realfn.h"
#include "dns/dns_tcp.h"
#include "hooks/hooks.h"
#include "route/decide.h"
#include "state/fdstate.h"
#include "tcp/tcp.h"

#define PAIR_TRIES 16 /* another program taking the UDP port in between */
#define SEND_TRIES 64 /* bounded: a peer that stops reading ends it */

/* A socket of ours: nothing the library recorded for the number before
 * (a close it did not see) may stay with it. */
static int own_socket(int family, int type)
{
	int s = sfy_real()->socket(family, type | SOCK_CLOEXEC, 0);

	if (s < 0)
		return -errno;
	if (sfy_fd_kind(s) != SFY_FD_NONE)
		sfy_fd_drop_stale(s);
	return s;
}

/* Closes a socket of ours, forgetting what the library recorded for it. */
static void close_own(int s)
{
	int saved = errno;

	if (s < 0)
		return;
	if (sfy_fd_kind(s) != SFY_FD_NONE)
		sfy_fd_clear(s);
	sfy_real()->close(s);
	errno = saved;
}

/* A socket of type bound to loopback (127.0.0.1, or ::1 for AF_INET6)
 * port *port (0: any; the port in *port). */
static int bound(int family, int type, uint16_t *port)
{
	union sfy_inaddr in;
	socklen_t len = sizeof(in);
	int s, e;

	s = own_socket(family, type | SOCK_NONBLOCK);
	if (s < 0)
		return s;
	memset(&in, 0, sizeof(in));
	in.sa.sa_family = (sa_family_t)family;
	in.in.sin_port = *port; /* sin6_port is where sin_port is */
	if (family == AF_INET)
		in.in.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	else
		in.in6.sin6_addr = in6addr_loopback;
	if (sfy_real()->bind(s, &in.sa, family == AF_INET ? sizeof(in.in) :
							   sizeof(in.in6)) < 0 ||
	    (type == SOCK_STREAM && sfy_real()->listen(s, 4) < 0) ||
	    sfy_real()->getsockname(s, &in.sa, &len) < 0) {
		e = -errno;
		close_own(s);
		return e;
	}
	*port = in.in.sin_port;
	return s;
}

int sfy_dns_loopback_pair(int *udp, int *tcp, uint16_t *port)
{
	return sfy_dns_loopback_pair_in(AF_INET, udp, tcp, port);
}

int sfy_dns_loopback_pair_in(int family, int *udp, int *tcp, uint16_t *port)
{
	int i, t, u;

	for (i = 0; i < PAIR_TRIES; i++) {
		*port = 0;
		t = bound(family, SOCK_STREAM, port);
		if (t < 0)
			return t;
		u = bound(family, SOCK_DGRAM, port);
		if (u >= 0) {
			*udp = u;
			*tcp = t;
			return 0;
		}
		close_own(t);
		if (u != -EADDRINUSE)
			return u;
	}
	return -EADDRINUSE;
}

void sfy_dns_tcp_init(struct sfy_dns_tcp *t)
{
	t->c = t->u = -1;
}

/* Each closed only while it still holds what we made: a number taken
 * away behind our back is the program's now. */
void sfy_dns_tcp_end(struct sfy_dns_tcp *t)
{
	if (t->c >= 0 && sfy_fd_id_same(t->c, &t->cid))
		close_own(t->c);
	if (t->u >= 0 && sfy_fd_id_same(t->u, &t->uid))
		close_own(t->u);
	sfy_dns_tcp_init(t);
}

/* A blocking TCP connection to ns, routed as the library routes a
 * program's connect(): through the proxy (or direct where the policy
 * says so). The socket, or -errno. */
static int dial(const union sfy_inaddr *ns, socklen_t nslen)
{
	struct sfy_route route;
	int s, rc;

	s = own_socket(ns->sa.sa_family, SOCK_STREAM);
	if (s < 0)
		return s;
	switch (sfy_route_stream(s, &ns->sa, nslen, &route)) {
	case SFY_VIA_CHAIN:
		rc = sfy_tcp_connect_via(s, &ns->sa, nslen, &route);
		break;
	case SFY_REFUSE:
		rc = route.err;
		break;
	default:
		rc = sfy_real()->connect(s, &ns->sa, nslen) < 0 ? -errno : 0;
	}
	if (rc < 0) {
		close_own(s);
		return rc;
	}
	return s;
}

void sfy_dns_tcp_accept(struct sfy_dns_tcp *t, int listener,
			const union sfy_inaddr *ns, socklen_t nslen)
{
	int c = sfy_real()->accept4 ?
			sfy_real()->accept4(listener, NULL, NULL, SOCK_CLOEXEC) :
			-1;

	if (c < 0)
		return;
	if (sfy_fd_kind(c) != SFY_FD_NONE)
		sfy_fd_drop_stale(c);
	/* One at a time: a new connection means the resolver gave up on the
	 * one before. */
	sfy_dns_tcp_end(t);
	t->c = c;
	sfy_fd_id_note(c, &t->cid);
	t->u = dial(ns, nslen);
	if (t->u >= 0)
		sfy_fd_id_note(t->u, &t->uid);
	else
		sfy_dns_tcp_end(t);
}

int sfy_dns_tcp_pollfds(const struct sfy_dns_tcp *t, struct pollfd *p)
{
	if (t->c < 0)
		return 0;
	p[0].fd = t->c;
	p[0].events = POLLIN;
	p[0].revents = 0;
	p[1].fd = t->u;
	p[1].events = POLLIN;
	p[1].revents = 0;
	return 2;
}

/* What from has ready, all of it to to. False when the session is over
 * (end of stream, an error, or a peer that does not take the bytes). */
static bool move(int from, int to)
{
	uint8_t buf[16384];
	ssize_t n, w;
	size_t off = 0;
	int tries = SEND_TRIES;

	n = sfy_real()->recv(from, buf, sizeof(buf), MSG_DONTWAIT);
	if (n < 0)
		return errno == EAGAIN || errno == EINTR;
	if (n == 0)
		return false;
	while (off < (size_t)n && tries-- > 0) {
		w = sfy_real()->send(to, buf + off, (size_t)n - off,
				     MSG_NOSIGNAL);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return false;
		off += (size_t)w;
	}
	return off == (size_t)n;
}

void sfy_dns_tcp_io(struct sfy_dns_tcp *t, const struct pollfd *p, int np)
{
	bool ok = true;

	if (np < 2 || t->c < 0)
		return;
	if ((p[0].revents || p[1].revents) &&
	    (!sfy_fd_id_same(t->c, &t->cid) || !sfy_fd_id_same(t->u, &t->uid)))
		ok = false; /* taken behind our back: not ours to read */
	else if (p[0].revents)
		ok = move(t->c, t->u);
	if (ok && p[1].revents)
		ok = move(t->u, t->c);
	if (!ok)
		sfy_dns_tcp_end(t);
}
