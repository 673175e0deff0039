/*
 * The waits a handshake of the event-loop machine (async.c) asks of a
 * blocking caller: a blocking connect() until the handshake is over or
 * open, or interrupted as the kernel's connect() is (SO_SNDTIMEO, a
 * signal handler without SA_RESTART); a read on an open socket (early
 * data) until the proxy's replies are in.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>

#include "base/realfn.h"
#include "tcp/async.h"

/* A wait in poll() for fd's events (pending or open handshake), until
 * its deadline; -EINTR where the kernel's call would give it. */
static int wait_for(int fd, short events, int64_t until, int sndtimeo_ms)
{
	struct pollfd p[2] = { { .fd = fd, .events = events } };
	int ms = until < 0 ? -1 : (int)(until - socks5_now_ms()), hs;
	nfds_t n;

	if (until >= 0 && ms <= 0)
		return -EINPROGRESS;
	hs = sfy_async_ms_left(); /* the handshake's own deadline */
	if (hs >= 0 && (ms < 0 || hs < ms))
		ms = hs;
	/* The probe's answers, read as they come (its verdict wants the
	 * time of the last one). */
	n = 1 + sfy_async_probe_poll(fd, &p[1]);
	if (sfy_real()->poll(p, n, ms) < 0 && errno == EINTR &&
	    (sndtimeo_ms > 0 ||
	     atomic_load_explicit(&sfy_sig_interrupts, memory_order_relaxed)))
		return -EINTR;
	return 0;
}

int sfy_async_io_read(int fd, int flags)
{
	int st, rc, fl = -1;

	for (;;) {
		st = sfy_async_advance(fd, 0);
		if (st == SFY_ASYNC_FREE)
			return 0;
		if (st == SFY_ASYNC_FAILED)
			return -sfy_async_take(fd);
		if (st == SFY_ASYNC_PENDING)
			return -EAGAIN;
		/* Open: the replies first. */
		sfy_async_flush(fd);
		if (fl < 0)
			fl = sfy_real()->fcntl(fd, F_GETFL);
		if ((flags & MSG_DONTWAIT) || fl < 0 || (fl & O_NONBLOCK))
			return -EAGAIN;
		rc = wait_for(fd, POLLIN, -1, 0);
		if (rc < 0)
			return rc;
	}
}

int sfy_async_block(int fd, int sndtimeo_ms)
{
	int64_t until = sndtimeo_ms > 0 ? socks5_now_ms() + sndtimeo_ms : -1;
	int st, rc;

	for (;;) {
		st = sfy_async_advance(fd, 0);
		if (st == SFY_ASYNC_FREE || st == SFY_ASYNC_OPEN)
			return 0;
		if (st == SFY_ASYNC_FAILED)
			return -sfy_async_take(fd);
		rc = wait_for(fd, sfy_async_need(fd), until, sndtimeo_ms);
		if (rc < 0)
			return rc;
	}
}

