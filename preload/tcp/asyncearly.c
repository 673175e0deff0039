/*
 * Early data of the event-loop machine (tcp/async.h, deliverable 3 of
 * issue 13): an early slot's handshake bytes are held back with MSG_MORE
 * until the program's first write (or its first wait or read: then they
 * leave alone); once all are handed out the slot is open, the socket the
 * program's, and the proxy's replies are read before its first read.
 *
 * Readiness: until the replies are consumed, the bytes a wait sees on an
 * open socket are the proxy's, not the program's. A wait that finds an
 * open socket readable consumes them (sfy_async_replies_only) and shows
 * it readable only when the program's own data is there too, so that a
 * MSG_DONTWAIT read after a wait finds what the kernel's socket would
 * have (test_differential's early run).
 */
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>

#include "base/realfn.h"
#include "base/sockopt.h"
#include "tcp/async_int.h"
#include "tcp/pipeline.h"

atomic_int sfy_async_corked;
atomic_int sfy_async_opened;

ssize_t sfy_async_send_more(int fd, const void *buf, size_t n, int flags)
{
	return sfy_real()->send(fd, buf, n, flags | MSG_MORE);
}

/* Sends what MSG_MORE held back: setting TCP_NODELAY pushes pending
 * output (tcp(7)); the program's setting is put back. */
static void flush(struct async_slot *s, int fd)
{
	int on = 1, was = 0;

	if (!atomic_exchange_explicit(&s->corked, false, memory_order_relaxed))
		return;
	atomic_fetch_sub_explicit(&sfy_async_corked, 1, memory_order_relaxed);
	sfy_sockopt_int(fd, IPPROTO_TCP, TCP_NODELAY, &was);
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &on, sizeof(on));
	if (!was)
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &was, sizeof(was));
}

void sfy_async_open_early(struct async_slot *s)
{
	atomic_store_explicit(&s->need, 0, memory_order_relaxed);
	atomic_store_explicit(&s->corked, true, memory_order_relaxed);
	atomic_fetch_add_explicit(&sfy_async_corked, 1, memory_order_relaxed);
	atomic_fetch_add_explicit(&sfy_async_opened, 1, memory_order_relaxed);
	atomic_store_explicit(&s->open, true, memory_order_release);
	sfy_async_remod(s, 0);
}

void sfy_async_early_end(struct async_slot *s)
{
	if (atomic_exchange_explicit(&s->corked, false, memory_order_relaxed))
		atomic_fetch_sub_explicit(&sfy_async_corked, 1,
					  memory_order_relaxed);
	if (atomic_exchange_explicit(&s->open, false, memory_order_relaxed))
		atomic_fetch_sub_explicit(&sfy_async_opened, 1,
					  memory_order_relaxed);
}

/* An open slot stays until the program's first read (or the deadline):
 * past half the table, handshakes are not opened early, so that those of
 * event loops still find room. */
bool sfy_async_early_ok(const struct sfy_config *cfg)
{
	return cfg->early_data && cfg->chain_mode == SFY_CHAIN_STRICT &&
	       cfg->nhops == 1 && cfg->chain[0].type == SOCKS5_HOP_SOCKS5 &&
	       (sfy_pipeline_hops(cfg) & 1u) &&
	       atomic_load_explicit(&sfy_async_live, memory_order_relaxed) <
		       SFY_ASYNC_MAX / 2;
}

void sfy_async_flush(int fd)
{
	struct async_slot *s;

	if (!atomic_load_explicit(&sfy_async_corked, memory_order_relaxed) ||
	    !(s = sfy_async_find(fd)) || !sfy_async_lock(s))
		return;
	if (sfy_async_has(s, fd))
		flush(s, fd);
	sfy_async_unlock(s);
}

void sfy_async_flush_all(void)
{
	int n = sfy_async_hiwater(), i;

	for (i = 0; i < n && atomic_load_explicit(&sfy_async_corked,
						  memory_order_relaxed);
	     i++) {
		struct async_slot *s = sfy_async_slot(i);

		if (atomic_load_explicit(&s->corked, memory_order_relaxed))
			sfy_async_flush(atomic_load(&s->fd));
	}
}

bool sfy_async_replies_only(int fd)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };
	int st;

	if (!atomic_load_explicit(&sfy_async_opened, memory_order_relaxed) ||
	    sfy_async_state(fd) != SFY_ASYNC_OPEN)
		return false;
	/* The replies are read now (the step reads only what they are). */
	st = sfy_async_advance(fd, POLLIN);
	if (st == SFY_ASYNC_OPEN)
		return true; /* only (part of) the replies came */
	if (st == SFY_ASYNC_FAILED)
		return false; /* the refusal: POLLERR, readable */
	/* Over: readable only when the program's own bytes came too. */
	return sfy_real()->poll(&p, 1, 0) <= 0 || !(p.revents & ~POLLOUT);
}
