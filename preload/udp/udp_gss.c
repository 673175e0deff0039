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
 * whole before gss_unwrap: the buffers (64 KiB each way, about 256 KiB
 * with the plaintexts) are the association's, mmap'ed with it, under one
 * lock per direction; the context's calls under a third (GSS-API
 * contexts are not thread-safe).
 *
 * Nobody waits for a datagram holding a lock: a receive first takes what
 * the kernel has queued (MSG_DONTWAIT, under the receive lock, unwrapped
 * there), and when nothing is queued it waits outside every lock with a
 * zero-length MSG_PEEK, which blocks exactly as the program's call would
 * (blocking or not, SO_RCVTIMEO, EINTR) and leaves the datagram queued;
 * then it tries again. So a send never waits for a receiver, a receiver
 * waits for another only while that one unwraps, and a MSG_DONTWAIT
 * receive never waits at all. The price: two more system calls for a
 * receive that had to wait (the try before, the peek). Unlike the
 * kernel's: a waiter whose datagram another thread took first waits
 * again with the socket's whole SO_RCVTIMEO.
 *
 * Lifetime: the association's end (its last descriptor closed) deletes
 * the context at once, but a thread may still be inside a call with the
 * memory -- blocked in a receive on the closed socket, say. The slot
 * (struct sfy_assoc's gss) is one word: the page-aligned address of the
 * memory with, in its low 12 bits, the number of calls inside it. A call
 * takes it with one compare-and-swap (the count + 1) and gives it back
 * with another (the count - 1) while the slot still holds it. The end
 * empties the slot and moves the count into the memory's own counter;
 * a call that finds the slot emptied counts itself out there, and the
 * last one out munmaps. No lock, no malloc: async-signal-safe like the
 * rest of the data path. A woken receiver whose descriptor was closed
 * meanwhile gets EBADF rather than reading another socket that took the
 * number (checked before the read; a close and a reuse between that
 * check and the read itself remain, a window of a few instructions).
 * The kernel would go on waiting there, on a socket nobody can name; the
 * same EBADF comes when only that copy of a dup'ed socket was closed.
 */
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/uio.h>

#include "base/log.h"
#include "base/realfn.h"
#include "socks5_gssapi.h"
#include "state/fdstate.h"
#include "udp/udp_gss.h"

#define WARN_LIMIT 4
/* The slot's low bits: calls inside (the memory is page-aligned). */
#define INSIDE_MASK ((uintptr_t)4095)

struct sfy_udp_gss {
	/* Calls still inside after the end moved the slot's count here,
	 * less those that left after the end (see the top comment). */
	atomic_long held;
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

#define MAP_LEN ((sizeof(struct sfy_udp_gss) + 4095) & ~(size_t)4095)

static atomic_int warned;

static void warn_limited(const char *what, const char *why)
{
	int level = atomic_fetch_add(&warned, 1) < WARN_LIMIT ? SFY_LOG_WARN :
								  SFY_LOG_DEBUG;

	SFY_LOG(level, "UDP (GSSAPI-protected): %s%s%s", what,
		why && why[0] ? ": " : "", why ? why : "");
}

/* ------------------------------------------------------------------ */
/* Lifetime                                                             */

int sfy_udp_gss_start(sfy_udp_gss_slot *slot, struct socks5_gss_sec *sec)
{
	struct sfy_udp_gss *g;

	g = mmap(NULL, MAP_LEN, PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (g == MAP_FAILED) {
		socks5_gss_sec_free(sec);
		return -ENOMEM;
	}
	pthread_mutex_init(&g->rx_lock, NULL);
	pthread_mutex_init(&g->tx_lock, NULL);
	pthread_mutex_init(&g->ctx_lock, NULL);
	g->sec = sec;
	g->max = socks5_gss_sec_max(sec);
	atomic_store(slot, (uintptr_t)g);
	return 0;
}

struct sfy_udp_gss *sfy_udp_gss_get(sfy_udp_gss_slot *slot)
{
	uintptr_t w = atomic_load_explicit(slot, memory_order_acquire);

	for (;;) {
		if (!(w & ~INSIDE_MASK))
			return NULL;
		if ((w & INSIDE_MASK) == INSIDE_MASK) {
			/* 4095 calls inside at once: wait for one to leave. */
			sched_yield();
			w = atomic_load_explicit(slot, memory_order_acquire);
			continue;
		}
		if (atomic_compare_exchange_weak_explicit(
			    slot, &w, w + 1, memory_order_acquire,
			    memory_order_acquire))
			return (struct sfy_udp_gss *)(w & ~INSIDE_MASK);
	}
}

void sfy_udp_gss_put(sfy_udp_gss_slot *slot, struct sfy_udp_gss *g)
{
	uintptr_t w = atomic_load_explicit(slot, memory_order_relaxed);

	if (!g)
		return;
	/* While the slot holds g our call is counted there: g cannot be
	 * published again (it is not freed before we leave), so the
	 * address is no other memory's. */
	while ((w & ~INSIDE_MASK) == (uintptr_t)g && (w & INSIDE_MASK)) {
		if (atomic_compare_exchange_weak_explicit(
			    slot, &w, w - 1, memory_order_release,
			    memory_order_relaxed))
			return;
	}
	/* The end moved our count into g->held. */
	if (atomic_fetch_sub_explicit(&g->held, 1, memory_order_acq_rel) == 1)
		munmap(g, MAP_LEN);
}

void sfy_udp_gss_end(sfy_udp_gss_slot *slot)
{
	uintptr_t w = atomic_exchange(slot, 0);
	struct sfy_udp_gss *g = (struct sfy_udp_gss *)(w & ~INSIDE_MASK);
	long inside = (long)(w & INSIDE_MASK);

	if (!g)
		return;
	pthread_mutex_lock(&g->ctx_lock);
	socks5_gss_sec_free(g->sec);
	g->sec = NULL;
	g->max = 0;
	pthread_mutex_unlock(&g->ctx_lock);
	/* Those that left since the exchange took themselves off already
	 * (held below 0): whoever brings it to 0 unmaps. */
	if (atomic_fetch_add_explicit(&g->held, inside, memory_order_acq_rel) +
		    inside ==
	    0)
		munmap(g, MAP_LEN);
}

/* The calls of the parent's other threads never leave in the child: their
 * counts stay, and the memory outlives the association there (leaked,
 * never freed early). */
void sfy_udp_gss_child(sfy_udp_gss_slot *slot)
{
	uintptr_t w = atomic_load(slot);
	struct sfy_udp_gss *g = (struct sfy_udp_gss *)(w & ~INSIDE_MASK);

	if (!g)
		return;
	pthread_mutex_init(&g->rx_lock, NULL);
	pthread_mutex_init(&g->tx_lock, NULL);
	pthread_mutex_init(&g->ctx_lock, NULL);
}

/* ------------------------------------------------------------------ */
/* Datagrams                                                            */

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
	if (!max)
		return -EBADF; /* the socket was closed */
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

/* Blocks until a datagram is queued on fd, as a receive with flags
 * would (the socket's mode, SO_RCVTIMEO, MSG_DONTWAIT, signals), and
 * leaves it there: 0, or -errno. Under no lock. */
static int wait_queued(int fd, int flags)
{
	struct msghdr w;

	memset(&w, 0, sizeof(w));
	if (sfy_real()->recvmsg(fd, &w, flags | MSG_PEEK | MSG_TRUNC) < 0)
		return -errno;
	return 0;
}

/* One datagram already queued, under rx_lock: its plaintext (or as it
 * came, when not from the relay) into m; -EAGAIN when another thread took
 * it first. */
static ssize_t take(int fd, struct sfy_udp_gss *g,
		    const union sfy_inaddr *relay, struct msghdr *m, int flags)
{
	const union sfy_inaddr *src = m->msg_name;
	struct iovec one = { g->rx, sizeof(g->rx) };
	struct msghdr k;
	ssize_t n, rc;

	if (g->pend)
		return from_pending(fd, g, m, flags);
	k = *m;
	k.msg_iov = &one;
	k.msg_iovlen = 1;
	n = sfy_real()->recvmsg(fd, &k, flags | MSG_TRUNC | MSG_DONTWAIT);
	if (n < 0)
		return -errno;
	m->msg_namelen = k.msg_namelen;
	m->msg_controllen = k.msg_controllen;
	if (!src || k.msg_namelen < sizeof(sa_family_t) ||
	    src->sa.sa_family != relay->sa.sa_family ||
	    !sfy_addr_port_equal(&src->sa, &relay->sa)) {
		/* Not the relay's: as it came (the caller decides). */
		rc = scatter(g->rx, (size_t)n < sizeof(g->rx) ? (size_t)n :
								 sizeof(g->rx),
			     m, k.msg_flags);
		return rc >= 0 ? n : rc;
	}
	rc = (size_t)n > sizeof(g->rx) ? -EBADMSG : unwrap(g, (size_t)n);
	if (rc < 0) {
		if (flags & MSG_PEEK)
			consume(fd, NULL, 0);
		return rc;
	}
	if (flags & MSG_PEEK) {
		g->pend = true;
		g->pend_len = (size_t)rc;
		g->pend_namelen = k.msg_namelen;
		memcpy(&g->pend_name, src, k.msg_namelen < sizeof(g->pend_name) ?
			   k.msg_namelen : sizeof(g->pend_name));
	}
	return scatter(g->plain, (size_t)rc, m, k.msg_flags);
}

ssize_t sfy_udp_gss_recvmsg(int fd, struct sfy_udp_gss *g,
			    const union sfy_inaddr *relay, struct msghdr *m,
			    int flags)
{
	ssize_t n;
	int rc;

	if (!g) {
		n = sfy_real()->recvmsg(fd, m, flags);
		return n < 0 ? -errno : n;
	}
	for (;;) {
		pthread_mutex_lock(&g->rx_lock);
		n = take(fd, g, relay, m, flags);
		pthread_mutex_unlock(&g->rx_lock);
		if (n != -EAGAIN || (flags & MSG_DONTWAIT))
			return n;
		rc = wait_queued(fd, flags);
		if (rc < 0)
			return rc;
		/* Closed while we waited: the number may be another's now. */
		if (sfy_fd_kind(fd) != SFY_FD_UDP)
			return -EBADF;
	}
}
