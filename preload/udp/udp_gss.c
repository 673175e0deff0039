/*
 * Protected UDP datagrams (RFC 1961 section 6; udp_gss.h). What goes on
 * the wire, as Dante's sockd sends and expects it:
 *
 *   +------+------+------+.....................................+
 *   | 0x01 | 0x03 | len  | gss_wrap( RSV FRAG ATYP DST... DATA )|
 *   +------+------+------+.....................................+
 *
 * The context is the control connection's, established without
 * sequencing (client/gss_context.c: replay detection only), so a lost or
 * reordered datagram costs only itself; a datagram that does not unwrap
 * (changed, replayed, not ours) is dropped as UDP drops, never reported
 * as an error of the socket.
 *
 * The plaintext has to be gathered for gss_wrap and the token received
 * whole before gss_unwrap: the buffers (64 KiB each way) are the
 * association's, made with it, under one lock per direction; the
 * context's calls under a third (GSS-API contexts are not thread-safe).
 * Threads receiving on one such socket take turns, a blocking receive
 * holding the receive lock while it waits.
 */
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>

#include "base/log.h"
#include "base/realfn.h"
#include "socks5_gssapi.h"
#include "udp/udp_gss.h"

#define WARN_LIMIT 4

struct sfy_udp_gss {
	pthread_mutex_t rx_lock, tx_lock, ctx_lock;
	struct socks5_gss_sec *sec;
	size_t max;                 /* plaintext per message */
	/* A datagram unwrapped for MSG_PEEK, still first in the queue. */
	bool pend;
	size_t pend_len;
	socklen_t pend_namelen;
	union sfy_inaddr pend_name;
	uint8_t rx[SOCKS5_GSS_FRAME_MAX];
	uint8_t plain[SOCKS5_GSS_TOKEN_MAX];
	uint8_t tx[SOCKS5_GSS_FRAME_MAX];
	uint8_t gather[SOCKS5_GSS_TOKEN_MAX];
};

static atomic_int warned;

static void warn_limited(const char *what, const char *why)
{
	int level = atomic_fetch_add(&warned, 1) < WARN_LIMIT ? SFY_LOG_WARN :
								  SFY_LOG_DEBUG;

	SFY_LOG(level, "UDP (GSSAPI-protected): %s%s%s", what,
		why && why[0] ? ": " : "", why ? why : "");
}

struct sfy_udp_gss *sfy_udp_gss_new(struct sfy_udp_gss *reuse,
				    struct socks5_gss_sec *sec)
{
	struct sfy_udp_gss *g = reuse;

	if (!g) {
		g = calloc(1, sizeof(*g));
		if (!g) {
			socks5_gss_sec_free(sec);
			return NULL;
		}
		pthread_mutex_init(&g->rx_lock, NULL);
		pthread_mutex_init(&g->tx_lock, NULL);
		pthread_mutex_init(&g->ctx_lock, NULL);
	}
	pthread_mutex_lock(&g->ctx_lock);
	g->sec = sec;
	g->max = socks5_gss_sec_max(sec);
	g->pend = false;
	pthread_mutex_unlock(&g->ctx_lock);
	return g;
}

void sfy_udp_gss_end(struct sfy_udp_gss *g)
{
	if (!g)
		return;
	pthread_mutex_lock(&g->ctx_lock);
	socks5_gss_sec_free(g->sec);
	g->sec = NULL;
	g->max = 0;
	pthread_mutex_unlock(&g->ctx_lock);
}

void sfy_udp_gss_child(struct sfy_udp_gss *g)
{
	if (!g)
		return;
	pthread_mutex_init(&g->rx_lock, NULL);
	pthread_mutex_init(&g->tx_lock, NULL);
	pthread_mutex_init(&g->ctx_lock, NULL);
}

/* Whether an iovec we are to touch is in the first page (the kernel's
 * EFAULT rather than a crash here). */
static bool bad_iov(const struct iovec *v)
{
	return v->iov_len && (uintptr_t)v->iov_base < 4096;
}

ssize_t sfy_udp_gss_send(int fd, struct sfy_udp_gss *g,
			 const struct msghdr *m, size_t hlen, int flags,
			 size_t max_dgram)
{
	char why[256];
	struct iovec one;
	struct msghdr w;
	size_t i, n = 0, len = 0, max;
	ssize_t sent;

	pthread_mutex_lock(&g->ctx_lock);
	max = g->max; /* 0 once ended */
	pthread_mutex_unlock(&g->ctx_lock);
	for (i = 0; i < m->msg_iovlen; i++) {
		if (m->msg_iov[i].iov_len > max - n)
			return -EMSGSIZE;
		if (bad_iov(&m->msg_iov[i]))
			return -EFAULT;
		n += m->msg_iov[i].iov_len;
	}
	pthread_mutex_lock(&g->tx_lock);
	for (i = 0, n = 0; i < m->msg_iovlen; i++) {
		memcpy(g->gather + n, m->msg_iov[i].iov_base,
		       m->msg_iov[i].iov_len);
		n += m->msg_iov[i].iov_len;
	}
	pthread_mutex_lock(&g->ctx_lock);
	if (!g->sec) { /* ended meanwhile: the socket was closed */
		pthread_mutex_unlock(&g->ctx_lock);
		pthread_mutex_unlock(&g->tx_lock);
		return -EBADF;
	}
	if (socks5_gss_seal(g->sec, g->gather, n, g->tx, sizeof(g->tx), &len,
			    why, sizeof(why)) != SOCKS5_OK) {
		pthread_mutex_unlock(&g->ctx_lock);
		pthread_mutex_unlock(&g->tx_lock);
		warn_limited("gss_wrap failed, datagram not sent", why);
		return -ECONNRESET;
	}
	pthread_mutex_unlock(&g->ctx_lock);
	if (len > max_dgram) {
		pthread_mutex_unlock(&g->tx_lock);
		return -EMSGSIZE;
	}
	one.iov_base = g->tx;
	one.iov_len = len;
	w = *m;
	w.msg_iov = &one;
	w.msg_iovlen = 1;
	sent = sfy_real()->sendmsg(fd, &w, flags);
	if (sent < 0)
		sent = -errno;
	pthread_mutex_unlock(&g->tx_lock);
	return sent < 0 ? sent : (ssize_t)(n - hlen);
}

/* src[0..n) into m's iovecs; the bytes that did not fit set MSG_TRUNC. */
static ssize_t scatter(const uint8_t *src, size_t n, struct msghdr *m,
		       int kflags)
{
	size_t i, off = 0, c;

	for (i = 0; i < m->msg_iovlen && off < n; i++) {
		c = m->msg_iov[i].iov_len;
		if (c > n - off)
			c = n - off;
		if (bad_iov(&m->msg_iov[i]))
			return -EFAULT;
		memcpy(m->msg_iov[i].iov_base, src + off, c);
		off += c;
	}
	m->msg_flags = (kflags & ~MSG_TRUNC) | (off < n ? MSG_TRUNC : 0);
	return (ssize_t)n;
}

/* The kernel's first datagram goes (it was the one peeked at). */
static void consume(int fd, struct msghdr *m, int flags)
{
	struct msghdr d;

	memset(&d, 0, sizeof(d));
	if (m) {
		d.msg_name = m->msg_name;
		d.msg_namelen = m->msg_namelen;
		d.msg_control = m->msg_control;
		d.msg_controllen = m->msg_controllen;
	}
	if (sfy_real()->recvmsg(fd, &d, (flags & ~MSG_PEEK) | MSG_TRUNC |
					       MSG_DONTWAIT) >= 0 && m) {
		m->msg_namelen = d.msg_namelen;
		m->msg_controllen = d.msg_controllen;
	}
}

void sfy_udp_gss_consume(int fd, struct sfy_udp_gss *g)
{
	if (!g) {
		sfy_real()->recv(fd, NULL, 0, MSG_DONTWAIT);
		return;
	}
	pthread_mutex_lock(&g->rx_lock);
	g->pend = false;
	consume(fd, NULL, 0);
	pthread_mutex_unlock(&g->rx_lock);
}

/* The kept plaintext of a peeked datagram. Under rx_lock. */
static ssize_t from_pending(int fd, struct sfy_udp_gss *g, struct msghdr *m,
			    int flags)
{
	if (flags & MSG_PEEK) {
		if (m->msg_name)
			memcpy(m->msg_name, &g->pend_name,
			       m->msg_namelen < g->pend_namelen ?
				       m->msg_namelen : g->pend_namelen);
		m->msg_namelen = g->pend_namelen;
		m->msg_controllen = 0;
	} else {
		consume(fd, m, flags);
		g->pend = false;
	}
	return scatter(g->plain, g->pend_len, m, 0);
}

/* A datagram from the relay in g->rx (n bytes): its plaintext in
 * g->plain, its length; -EBADMSG when it is not a valid message. */
static ssize_t unwrap(struct sfy_udp_gss *g, size_t n)
{
	enum socks5_status st;
	size_t tlen = 0, len = 0, got = 0;
	char why[256];

	st = socks5_gss_parse(g->rx, n, SOCKS5_GSS_MTYP_DATA, &tlen, &len);
	if (st != SOCKS5_OK || len != n) {
		warn_limited("dropped a datagram from the relay that is not one protected message",
			     st != SOCKS5_OK ? socks5_strerror(st) :
					       "length differs");
		return -EBADMSG;
	}
	pthread_mutex_lock(&g->ctx_lock);
	st = !g->sec ? SOCKS5_E_GSS_CONTEXT :
		       socks5_gss_open(g->sec, g->rx + SOCKS5_GSS_HEADER_LEN,
				       tlen, g->plain, sizeof(g->plain), &got,
				       why, sizeof(why));
	pthread_mutex_unlock(&g->ctx_lock);
	if (st != SOCKS5_OK && !g->sec)
		snprintf(why, sizeof(why), "the association ended");
	if (st != SOCKS5_OK) {
		warn_limited("dropped a datagram from the relay that does not unwrap",
			     why);
		return -EBADMSG;
	}
	return (ssize_t)got;
}

ssize_t sfy_udp_gss_recvmsg(int fd, struct sfy_udp_gss *g,
			    const union sfy_inaddr *relay, struct msghdr *m,
			    int flags)
{
	const union sfy_inaddr *src = m->msg_name;
	struct iovec one = { NULL, sizeof(g->rx) };
	struct msghdr k;
	ssize_t n, rc;

	if (!g) {
		n = sfy_real()->recvmsg(fd, m, flags);
		return n < 0 ? -errno : n;
	}
	pthread_mutex_lock(&g->rx_lock);
	if (g->pend) {
		rc = from_pending(fd, g, m, flags);
		pthread_mutex_unlock(&g->rx_lock);
		return rc;
	}
	one.iov_base = g->rx;
	k = *m;
	k.msg_iov = &one;
	k.msg_iovlen = 1;
	n = sfy_real()->recvmsg(fd, &k, flags | MSG_TRUNC);
	if (n < 0) {
		rc = -errno;
		goto out;
	}
	m->msg_namelen = k.msg_namelen;
	m->msg_controllen = k.msg_controllen;
	if (!src || k.msg_namelen < sizeof(sa_family_t) ||
	    src->sa.sa_family != relay->sa.sa_family ||
	    !sfy_addr_port_equal(&src->sa, &relay->sa)) {
		/* Not the relay's: as it came (the caller decides). */
		rc = scatter(g->rx, (size_t)n < sizeof(g->rx) ? (size_t)n :
								 sizeof(g->rx),
			     m, k.msg_flags);
		if (rc >= 0)
			rc = n;
		goto out;
	}
	rc = (size_t)n > sizeof(g->rx) ? -EBADMSG : unwrap(g, (size_t)n);
	if (rc < 0) {
		if (flags & MSG_PEEK)
			consume(fd, NULL, 0);
		goto out;
	}
	if (flags & MSG_PEEK) {
		g->pend = true;
		g->pend_len = (size_t)rc;
		g->pend_namelen = k.msg_namelen;
		memcpy(&g->pend_name, src, k.msg_namelen < sizeof(g->pend_name) ?
			   k.msg_namelen : sizeof(g->pend_name));
	}
	rc = scatter(g->plain, (size_t)rc, m, k.msg_flags);
out:
	pthread_mutex_unlock(&g->rx_lock);
	return rc;
}
