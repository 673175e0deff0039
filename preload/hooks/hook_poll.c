/*
 * poll, ppoll, select, pselect: while a descriptor in the set is in the
 * middle of a proxied handshake (tcp/async.h), the wait is for what the
 * handshake needs on it, the handshake is stepped when that comes, and
 * the program sees nothing of it: its descriptor turns writable (the
 * program's own events are asked of the kernel again) once the handshake
 * is over. A failed one shows POLLERR (with the POLLIN, POLLOUT and
 * POLLHUP of the shut-down socket) until SO_ERROR is read, as a failed
 * connect() does.
 *
 * The waits loop inside the hook until the program's own time-out, each
 * round bounded by the nearest handshake deadline (SOCKSIFY_TIMEOUT_MS),
 * so a stalled proxy turns into ETIMEDOUT through the program's own wait.
 *
 * An open early-data socket (tcp/async.h) the kernel shows readable for
 * the proxy's replies alone is not readable to the program: the replies
 * are consumed inside the wait, which goes on until the program's own
 * bytes come (sfy_async_replies_only).
 *
 * A GSSAPI-protected stream holding plaintext (tcp/gss_stream.h) is
 * readable whatever the kernel says: POLLIN, and the round does not wait.
 *
 * Fast path, with no handshake running: one relaxed load, then the real
 * function. select and pselect are run as a poll over the same
 * descriptors while a handshake runs (same answer, same updated time-out).
 */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/select.h>

#include "base/realfn.h"
#include "hooks/hooks.h"
#include "tcp/async.h"
#include "tcp/gss_stream.h"

/* One round of the real wait over p, at most ms (-1: no limit). */
typedef int (*wait_fn)(struct pollfd *p, nfds_t n, int ms, const void *ctx);

static int ms_left(int64_t end)
{
	int64_t left;

	if (end < 0)
		return -1;
	left = end - socks5_now_ms();
	return left <= 0 ? 0 : left > 0x7fffffff ? 0x7fffffff : (int)left;
}

/* Protected streams asked for POLLIN with plaintext buffered: how many
 * (mark: their POLLIN set too, counting those that had no event). */
static int gss_ready(struct pollfd *p, nfds_t n, bool mark)
{
	int k = 0;

	if (!atomic_load_explicit(&sfy_gss_buffered, memory_order_relaxed))
		return 0;
	for (nfds_t i = 0; i < n; i++) {
		if (p[i].fd < 0 || !(p[i].events & POLLIN) ||
		    !sfy_gss_readable(p[i].fd))
			continue;
		if (!mark || !p[i].revents)
			k++;
		if (mark)
			p[i].revents |= POLLIN;
	}
	return k;
}

/* A connecting descriptor's entry: its place in p, the program's events. */
struct saved {
	nfds_t i;
	short ev;
};

/* The rounds of one poll while handshakes run. timeout_ms: the program's
 * (-1: none); sv: room for cap entries. The result as poll() gives it
 * (-1 with errno on failure). */
static int poll_rounds(struct pollfd *p, nfds_t n, int timeout_ms, wait_fn w,
		       const void *ctx, struct saved *sv, nfds_t cap)
{
	int64_t end = timeout_ms < 0 ? -1 : socks5_now_ms() + timeout_ms;
	int ns, rc, ms, hs, k, err, gk;
	bool progress;
	nfds_t i;

	for (i = 0; i < n; i++) /* written nothing since it opened */
		if (p[i].fd >= 0)
			sfy_async_flush(p[i].fd);
	for (;;) {
		ns = 0;
		for (i = 0; i < n && (nfds_t)ns < cap; i++) {
			short need = sfy_async_need(p[i].fd);

			if (p[i].fd < 0 || !need)
				continue;
			sv[ns].i = i;
			sv[ns++].ev = p[i].events;
			p[i].events = need;
		}
		ms = ms_left(end);
		/* Open ones too: their replies are due by then. */
		hs = sfy_async_ms_left();
		if (hs >= 0 && (ms < 0 || hs < ms))
			ms = hs;
		gk = gss_ready(p, n, false);
		if (gk)
			ms = 0;
		rc = w(p, n, ms, ctx);
		err = errno;
		progress = false;
		for (k = 0; k < ns; k++) {
			struct pollfd *q = &p[sv[k].i];

			q->events = sv[k].ev;
			if (rc < 0)
				continue;
			if (q->revents) {
				rc--;
				q->revents = 0;
			}
			if (sfy_async_advance(q->fd, 0) != SFY_ASYNC_PENDING)
				progress = true; /* over: asked again below */
		}
		if (rc < 0) {
			errno = err;
			return -1;
		}
		for (i = 0; rc > 0 && i < n; i++) /* early data's replies */
			if (p[i].fd >= 0 && (p[i].revents & (POLLIN | POLLRDNORM)) &&
			    sfy_async_replies_only(p[i].fd)) {
				p[i].revents &= ~(POLLIN | POLLRDNORM);
				if (!p[i].revents)
					rc--;
			}
		if (rc == 0)
			sfy_async_expire();
		for (i = 0; i < n; i++) {
			if (p[i].fd < 0 ||
			    sfy_async_state(p[i].fd) != SFY_ASYNC_FAILED)
				continue;
			if (!p[i].revents)
				rc++;
			p[i].revents |= POLLERR;
		}
		if (gk)
			rc += gss_ready(p, n, true);
		if (rc > 0)
			return rc;
		if (!progress && ms_left(end) == 0)
			return 0;
		if (progress && end >= 0 && ms_left(end) == 0)
			end = socks5_now_ms(); /* one more look, no wait */
	}
}

/* poll_rounds with room for every connecting descriptor of p: on the
 * stack for SFY_ASYNC_CHUNK, mmap'ed for more (then many handshakes run
 * at once, and a poll costs more anyway); without memory, the first
 * SFY_ASYNC_CHUNK are hidden while they connect. */
static int poll_loop(struct pollfd *p, nfds_t n, int timeout_ms, wait_fn w,
		     const void *ctx)
{
	struct saved stk[SFY_ASYNC_CHUNK], *sv = stk;
	size_t len = 0;
	int rc, err;

	if (n > SFY_ASYNC_CHUNK &&
	    atomic_load_explicit(&sfy_async_live, memory_order_relaxed) >
		    SFY_ASYNC_CHUNK) {
		len = sizeof(*sv) * n;
		sv = mmap(NULL, len, PROT_READ | PROT_WRITE,
			  MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (sv == MAP_FAILED) {
			sv = stk;
			len = 0;
		}
	}
	rc = poll_rounds(p, n, timeout_ms, w, ctx, sv,
			 len ? n : SFY_ASYNC_CHUNK);
	if (len) {
		err = errno;
		munmap(sv, len);
		errno = err;
	}
	return rc;
}

static int poll_round(struct pollfd *p, nfds_t n, int ms, const void *ctx)
{
	(void)ctx;
	return sfy_real()->poll(p, n, ms);
}

static int ppoll_round(struct pollfd *p, nfds_t n, int ms, const void *ctx)
{
	struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000 };

	return sfy_real()->ppoll(p, n, ms < 0 ? NULL : &ts, ctx);
}

static __attribute__((noinline)) int poll_slow(struct pollfd *p, nfds_t n,
					       int timeout)
{
	const struct sfy_real *r = sfy_real();

	if (!r->poll)
		return sfy_nosys();
	if (sfy_async_none() || sfy_inside())
		return r->poll(p, n, timeout);
	return poll_loop(p, n, timeout < 0 ? -1 : timeout, poll_round, NULL);
}

/* Every poll() of every program: a load, a test, a load, a tail call. */
int sfy_poll(struct pollfd *p, nfds_t n, int timeout)
{
	int (*real)(struct pollfd *, nfds_t, int) = SFY_REAL_FAST(poll);

	if (__builtin_expect(real && sfy_async_none(), 1))
		return real(p, n, timeout);
	return poll_slow(p, n, timeout);
}

/* A time-out in whole milliseconds, rounded up (-1: none). */
static int ts_ms(const struct timespec *ts)
{
	int64_t ms;

	if (!ts)
		return -1;
	ms = (int64_t)ts->tv_sec * 1000 + (ts->tv_nsec + 999999) / 1000000;
	return ms > 0x7fffffff ? 0x7fffffff : ms < 0 ? 0 : (int)ms;
}

int sfy_ppoll(struct pollfd *p, nfds_t n, const struct timespec *ts,
	      const sigset_t *mask)
{
	const struct sfy_real *r = sfy_real();

	if (!r->ppoll)
		return sfy_nosys();
	if (sfy_async_none() || sfy_inside())
		return r->ppoll(p, n, ts, mask);
	if (ts && (ts->tv_sec < 0 || ts->tv_nsec < 0 ||
		   ts->tv_nsec >= 1000000000)) {
		errno = EINVAL;
		return -1;
	}
	return poll_loop(p, n, ts_ms(ts), ppoll_round, mask);
}

/* select's sets as a poll: the descriptors below nfds in any set. */
static int select_as_poll(int nfds, fd_set *rd, fd_set *wr, fd_set *ex,
			  int ms, const sigset_t *mask)
{
	struct pollfd p[FD_SETSIZE];
	nfds_t n = 0, i;
	int rc, fd;

	if (nfds < 0 || nfds > FD_SETSIZE) {
		errno = EINVAL;
		return -1;
	}
	for (fd = 0; fd < nfds; fd++) {
		short ev = (rd && FD_ISSET(fd, rd) ? POLLIN : 0) |
			   (wr && FD_ISSET(fd, wr) ? POLLOUT : 0) |
			   (ex && FD_ISSET(fd, ex) ? POLLPRI : 0);

		if (ev)
			p[n++] = (struct pollfd){ .fd = fd, .events = ev };
	}
	rc = mask ? poll_loop(p, n, ms, ppoll_round, mask) :
		    poll_loop(p, n, ms, poll_round, NULL);
	if (rc < 0)
		return rc;
	for (i = 0; i < n; i++)
		if (p[i].revents & POLLNVAL) {
			errno = EBADF;
			return -1;
		}
	rc = 0;
	for (i = 0; i < n; i++) {
		short ev = p[i].events, re = p[i].revents;

		fd = p[i].fd;
		if ((ev & POLLIN) && !(re & (POLLIN | POLLHUP | POLLERR)))
			FD_CLR(fd, rd);
		if ((ev & POLLOUT) && !(re & (POLLOUT | POLLERR)))
			FD_CLR(fd, wr);
		if ((ev & POLLPRI) && !(re & POLLPRI))
			FD_CLR(fd, ex);
		rc += (rd && FD_ISSET(fd, rd)) + (wr && FD_ISSET(fd, wr)) +
		      (ex && FD_ISSET(fd, ex));
	}
	return rc;
}

int sfy_select(int nfds, fd_set *rd, fd_set *wr, fd_set *ex,
	       struct timeval *tv)
{
	const struct sfy_real *r = sfy_real();
	int64_t t0;
	int ms = -1, rc;

	if (!r->select)
		return sfy_nosys();
	if (sfy_async_none() || sfy_inside())
		return r->select(nfds, rd, wr, ex, tv);
	if (tv) {
		if (tv->tv_sec < 0 || tv->tv_usec < 0) {
			errno = EINVAL;
			return -1;
		}
		ms = (int)(tv->tv_sec * 1000 + (tv->tv_usec + 999) / 1000);
	}
	t0 = socks5_now_ms();
	rc = select_as_poll(nfds, rd, wr, ex, ms, NULL);
	if (tv) { /* Linux leaves the time not slept */
		int64_t left = ms - (socks5_now_ms() - t0);

		if (left < 0 || rc == 0)
			left = 0;
		tv->tv_sec = left / 1000;
		tv->tv_usec = (left % 1000) * 1000;
	}
	return rc;
}

int sfy_pselect(int nfds, fd_set *rd, fd_set *wr, fd_set *ex,
		const struct timespec *ts, const sigset_t *mask)
{
	const struct sfy_real *r = sfy_real();

	if (!r->pselect || !r->ppoll)
		return sfy_nosys();
	if (sfy_async_none() || sfy_inside())
		return r->pselect(nfds, rd, wr, ex, ts, mask);
	return select_as_poll(nfds, rd, wr, ex, ts_ms(ts), mask);
}

int poll(struct pollfd *p, nfds_t n, int timeout) SFY_EXPORT_AS(sfy_poll);
int ppoll(struct pollfd *p, nfds_t n, const struct timespec *ts,
	  const sigset_t *mask) SFY_EXPORT_AS(sfy_ppoll);
int select(int nfds, fd_set *rd, fd_set *wr, fd_set *ex, struct timeval *tv)
	SFY_EXPORT_AS(sfy_select);
int pselect(int nfds, fd_set *rd, fd_set *wr, fd_set *ex,
	    const struct timespec *ts, const sigset_t *mask)
	SFY_EXPORT_AS(sfy_pselect);
