/*
 * DNS over TCP to port 53 of a name server the library answers for
 * (dns53.h): `dig +tcp`, c-ares after a truncated answer, `options
 * use-vc`. The program's connect() went to the answerer's TCP listener
 * (127.0.0.1:L, dns_tcp.h's pair); after each of its sends, still in the
 * hook, the connection's other end is found (accepted here, matched by
 * the program socket's local address), and every complete query waiting
 * in it (2-byte length, then the message: RFC 1035 4.2.2) is answered on
 * it. A query not yet complete stays in the kernel's buffer until the
 * next send. The answers are in the program's socket before it waits.
 *
 * Our ends of the connections live in a small lock-free table; one whose
 * program side is gone (end of stream, reset) is closed when the next
 * connection is accepted. More than CONNS at once: the newest is closed
 * (the program sees the server close, as a busy server may).
 */
#include <errno.h>
#include <netinet/in.h>
#include <stdatomic.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "base/log.h"
#include "base/realfn.h"
#include "base/sockaddr.h"
#include "dns/dns53.h"
#include "dns/dnsmsg.h"
#include "state/fdid.h"
#include "state/fdstate.h"

#define CONNS 16
#define ACCEPT_MAX 16
#define QUERIES_MAX 16 /* answered per send, at most */
#define QUERY_MAX 4096  /* a longer message is no DNS query */

enum { CONN_FREE, CONN_BUSY, CONN_READY };

struct conn {
	atomic_int state;
	int fd;                 /* our end */
	struct sfy_fd_id id;
	union sfy_inaddr peer;  /* the program socket's local address */
};

static struct conn conns[CONNS];

/* Our end of a connection that the program has closed (or reset). */
static bool gone(int fd)
{
	char b;
	ssize_t n = sfy_real()->recv(fd, &b, 1, MSG_PEEK | MSG_DONTWAIT);

	return n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK &&
			  errno != EINTR);
}

static void release(struct conn *c)
{
	if (sfy_fd_id_same(c->fd, &c->id))
		sfy_real()->close(c->fd);
	atomic_store(&c->state, CONN_FREE);
}

/* Closes our ends whose program side is gone (slots we can take). */
static void sweep(void)
{
	int i, expect;

	for (i = 0; i < CONNS; i++) {
		expect = CONN_READY;
		if (!atomic_compare_exchange_strong(&conns[i].state, &expect,
						    CONN_BUSY))
			continue;
		if (!sfy_fd_id_same(conns[i].fd, &conns[i].id) ||
		    gone(conns[i].fd))
			release(&conns[i]);
		else
			atomic_store(&conns[i].state, CONN_READY);
	}
}

/* Every connection waiting at listener into the table. */
static void accept_all(int listener)
{
	union sfy_inaddr peer;
	socklen_t pl;
	int i, k, s, expect;

	if (!sfy_real()->accept4)
		return;
	sweep();
	for (k = 0; k < ACCEPT_MAX; k++) {
		pl = sizeof(peer);
		s = sfy_real()->accept4(listener, &peer.sa, &pl,
					SOCK_CLOEXEC | SOCK_NONBLOCK);
		if (s < 0)
			return;
		if (sfy_fd_kind(s) != SFY_FD_NONE)
			sfy_fd_drop_stale(s);
		for (i = 0; i < CONNS; i++) {
			expect = CONN_FREE;
			if (atomic_compare_exchange_strong(&conns[i].state,
							   &expect, CONN_BUSY))
				break;
		}
		if (i == CONNS) {
			sfy_warn("DNS over TCP to port 53: more than %d connections at once; one is closed",
				 CONNS);
			sfy_real()->close(s);
			continue;
		}
		conns[i].fd = s;
		sfy_fd_id_note(s, &conns[i].id);
		conns[i].peer = peer;
		atomic_store(&conns[i].state, CONN_READY);
	}
}

/* The connection whose peer is local, taken (CONN_BUSY), or NULL. */
static struct conn *take(const union sfy_inaddr *local)
{
	int i, expect;

	for (i = 0; i < CONNS; i++) {
		expect = CONN_READY;
		if (!atomic_compare_exchange_strong(&conns[i].state, &expect,
						    CONN_BUSY))
			continue;
		if (sfy_addr_port_equal(&conns[i].peer.sa, &local->sa))
			return &conns[i];
		atomic_store(&conns[i].state, CONN_READY);
	}
	return NULL;
}

/* The complete queries waiting at c answered on it. */
static void answer_stream(struct conn *c)
{
	const struct sfy_real *r = sfy_real();
	unsigned char q[2 + QUERY_MAX];
	struct sfy_dns_packet p;
	unsigned char out[2 + sizeof(p.b)];
	size_t want, alen;
	ssize_t n;
	int i;

	for (i = 0; i < QUERIES_MAX; i++) {
		n = r->recv(c->fd, q, 2, MSG_PEEK | MSG_DONTWAIT);
		if (n < 2)
			return;
		want = 2 + (size_t)(q[0] << 8 | q[1]);
		if (want > sizeof(q)) {
			/* No query is this long: the program speaks something
			 * else; our end closes. */
			sfy_debug("DNS over TCP to port 53: a %zu-byte message; closing",
				  want - 2);
			shutdown(c->fd, SHUT_RDWR);
			return;
		}
		n = r->recv(c->fd, q, want, MSG_PEEK | MSG_DONTWAIT);
		if (n < 0 || (size_t)n < want)
			return; /* not complete yet: the next send */
		if (r->recv(c->fd, q, want, MSG_DONTWAIT) != (ssize_t)want)
			return;
		alen = sfy_dns53_answer(q + 2, want - 2, &p);
		if (!alen)
			continue;
		out[0] = (unsigned char)(alen >> 8);
		out[1] = (unsigned char)alen;
		memcpy(out + 2, p.b, alen);
		/* Far below the socket's buffer: one send, or the program
		 * stopped reading (it then waits for nothing). */
		r->send(c->fd, out, 2 + alen, MSG_DONTWAIT | MSG_NOSIGNAL);
	}
}

void sfy_dns53_tcp_sent(int fd, int listener)
{
	union sfy_inaddr local;
	socklen_t ll = sizeof(local);
	struct conn *c;
	int saved = errno;

	if (sfy_real()->getsockname(fd, &local.sa, &ll) < 0)
		goto out;
	c = take(&local);
	if (!c) {
		accept_all(listener);
		c = take(&local);
	}
	if (c) {
		if (sfy_fd_id_same(c->fd, &c->id))
			answer_stream(c);
		atomic_store(&c->state, CONN_READY);
	}
out:
	errno = saved;
}
