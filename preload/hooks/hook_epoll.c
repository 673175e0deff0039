/*
 * epoll_ctl, epoll_wait, epoll_pwait, epoll_pwait2: the epoll side of the
 * handshakes that run in the program's waits (tcp/async.h).
 *
 * epoll_ctl records the program's registrations of the stream sockets our
 * socket() made, and of connecting ones (tcp/epoll_reg.c); while a socket
 * connects the kernel holds what its handshake waits for instead, one
 * shot, with the program's data. A wait that returns such an event steps
 * the handshake and drops the event; once it is over the program's
 * registration is put back (re-armed) and the wait looks again, so the
 * program's EPOLLOUT (or EPOLLERR, with the shut-down socket's EPOLLIN,
 * EPOLLOUT and EPOLLHUP, until SO_ERROR is read) comes exactly then, for
 * level- and edge-triggered and one-shot registrations alike.
 *
 * An open early-data socket's EPOLLIN for the proxy's replies alone is
 * dropped, the replies consumed (sfy_async_replies_only), as in poll.
 *
 * A GSSAPI-protected stream holding plaintext (tcp/gss_stream.h) is
 * reported EPOLLIN to a registration for it, whatever the kernel says
 * (level-triggered: while plaintext is left).
 *
 * Fast path: epoll_ctl of a descriptor our socket() did not make, and
 * every wait while no handshake runs: one or two relaxed loads.
 */
#include <errno.h>
#include <string.h>
#include <sys/epoll.h>

#include "base/realfn.h"
#include "hooks/hooks.h"
#include "state/sockhint.h"
#include "tcp/async.h"
#include "tcp/epoll_reg.h"
#include "tcp/gss_stream.h"

static __attribute__((noinline)) int ctl_slow(int epfd, int op, int fd,
					      struct epoll_event *ev)
{
	const struct sfy_real *r = sfy_real();
	struct epoll_event k;
	short need;
	int rc;

	if (op == EPOLL_CTL_DEL) {
		rc = r->epoll_ctl(epfd, op, fd, ev);
		if (rc == 0)
			sfy_epoll_reg_del(epfd, fd);
		return rc;
	}
	if ((op != EPOLL_CTL_ADD && op != EPOLL_CTL_MOD) || !ev)
		return r->epoll_ctl(epfd, op, fd, ev);
	k = *ev;
	need = sfy_async_need(fd);
	if (need)
		k.events = sfy_epoll_reg_need(need);
	rc = r->epoll_ctl(epfd, op, fd, &k);
	if (rc == 0 && !(ev->events & EPOLLEXCLUSIVE))
		sfy_epoll_reg_put(epfd, fd, ev);
	return rc;
}

int sfy_epoll_ctl(int epfd, int op, int fd, struct epoll_event *ev)
{
	const struct sfy_real *r = sfy_real();

	if (!r->epoll_ctl)
		return sfy_nosys();
	if ((!sfy_hint_stream(fd) && sfy_async_none()) || sfy_inside())
		return r->epoll_ctl(epfd, op, fd, ev);
	return ctl_slow(epfd, op, fd, ev);
}

/* The events of one round: a connecting socket's are the handshake's
 * (stepped, dropped); a failed one's get EPOLLERR. Returns how many are
 * left for the program; *progress when a handshake ended. */
static int filter(int epfd, struct epoll_event *ev, int n, bool *progress)
{
	int i, k = 0, fd, st;

	for (i = 0; i < n; i++) {
		fd = sfy_epoll_reg_match(epfd, ev[i].data);
		st = fd < 0 ? SFY_ASYNC_FREE : sfy_async_state(fd);
		if (st == SFY_ASYNC_PENDING) {
			if (sfy_async_advance(fd, 0) != SFY_ASYNC_PENDING)
				*progress = true;
			continue;
		}
		if (st == SFY_ASYNC_FAILED)
			ev[i].events |= EPOLLERR;
		if (st == SFY_ASYNC_OPEN &&
		    (ev[i].events & (EPOLLIN | EPOLLRDNORM)) &&
		    sfy_async_replies_only(fd)) {
			ev[i].events &= ~(EPOLLIN | EPOLLRDNORM);
			if (!ev[i].events) {
				/* a one-shot registration is armed again */
				sfy_epoll_reg_restore(fd);
				continue;
			}
		}
		ev[k++] = ev[i];
	}
	return k;
}

typedef int (*round_fn)(int epfd, struct epoll_event *ev, int max, int ms,
			const sigset_t *mask);

static int wait_round(int epfd, struct epoll_event *ev, int max, int ms,
		      const sigset_t *mask)
{
	(void)mask;
	return sfy_real()->epoll_wait(epfd, ev, max, ms);
}

static int pwait_round(int epfd, struct epoll_event *ev, int max, int ms,
		       const sigset_t *mask)
{
	return sfy_real()->epoll_pwait(epfd, ev, max, ms, mask);
}

static int clamp_ms(int64_t v)
{
	return v <= 0 ? 0 : v > 0x7fffffff ? 0x7fffffff : (int)v;
}

/* Protected streams with plaintext first in ev (their events merged with
 * the kernel's for the same registration), then one look at the kernel
 * without waiting. -1 with errno, or the count; 0: none buffered. */
static int gss_round(int epfd, struct epoll_event *ev, int max, round_fn f,
		     const sigset_t *mask)
{
	int k = 0, n, i, j, m;
	bool progress = false, dup;

	if (atomic_load_explicit(&sfy_gss_buffered, memory_order_relaxed))
		k = sfy_epoll_reg_ready(epfd, sfy_gss_readable, ev, max);
	if (!k)
		return 0;
	n = k < max ? f(epfd, ev + k, max - k, 0, mask) : 0;
	if (n < 0)
		return k;
	n = filter(epfd, ev + k, n, &progress);
	for (i = 0, m = k; i < n; i++) {
		dup = false;
		for (j = 0; j < k && !dup; j++)
			if (ev[j].data.u64 == ev[k + i].data.u64) {
				ev[j].events |= ev[k + i].events;
				dup = true;
			}
		if (!dup)
			ev[m++] = ev[k + i];
	}
	return m;
}

/* The rounds of one wait while handshakes run; timeout_ms -1: none. */
static int wait_loop(int epfd, struct epoll_event *ev, int max,
		     int timeout_ms, round_fn f, const sigset_t *mask)
{
	int64_t end = timeout_ms < 0 ? -1 : socks5_now_ms() + timeout_ms;
	int ms, hs, n;
	bool progress;

	sfy_async_flush_all(); /* open ones the program wrote nothing on */
	for (;;) {
		n = gss_round(epfd, ev, max, f, mask);
		if (n)
			return n;
		ms = end < 0 ? -1 : clamp_ms(end - socks5_now_ms());
		hs = sfy_async_ms_left();
		if (hs >= 0 && (ms < 0 || hs < ms))
			ms = hs;
		n = f(epfd, ev, max, ms, mask);
		if (n < 0)
			return n;
		progress = false;
		n = filter(epfd, ev, n, &progress);
		if (n > 0)
			return n;
		sfy_async_expire();
		if (progress)
			continue; /* its registration is back: look again */
		if (end >= 0 && socks5_now_ms() >= end)
			return 0;
		if (sfy_async_none())
			return f(epfd, ev, max,
				 end < 0 ? -1 : clamp_ms(end - socks5_now_ms()),
				 mask);
	}
}

static bool plain(void)
{
	return sfy_async_none() || sfy_inside() ||
	       !atomic_load_explicit(&sfy_epoll_regs, memory_order_relaxed);
}

static __attribute__((noinline)) int wait_slow(int epfd,
					       struct epoll_event *ev, int max,
					       int timeout)
{
	const struct sfy_real *r = sfy_real();

	if (!r->epoll_wait)
		return sfy_nosys();
	if (plain() || max <= 0)
		return r->epoll_wait(epfd, ev, max, timeout);
	return wait_loop(epfd, ev, max, timeout < 0 ? -1 : timeout,
			 wait_round, NULL);
}

/* Every epoll_wait() of every program: a load, a test, a load, a tail
 * call. */
int sfy_epoll_wait(int epfd, struct epoll_event *ev, int max, int timeout)
{
	int (*real)(int, struct epoll_event *, int, int) =
		SFY_REAL_FAST(epoll_wait);

	if (__builtin_expect(real && sfy_async_none(), 1))
		return real(epfd, ev, max, timeout);
	return wait_slow(epfd, ev, max, timeout);
}

int sfy_epoll_pwait(int epfd, struct epoll_event *ev, int max, int timeout,
		    const sigset_t *mask)
{
	const struct sfy_real *r = sfy_real();

	if (!r->epoll_pwait)
		return sfy_nosys();
	if (plain() || max <= 0)
		return r->epoll_pwait(epfd, ev, max, timeout, mask);
	return wait_loop(epfd, ev, max, timeout < 0 ? -1 : timeout,
			 pwait_round, mask);
}

int sfy_epoll_pwait2(int epfd, struct epoll_event *ev, int max,
		     const struct timespec *ts, const sigset_t *mask)
{
	const struct sfy_real *r = sfy_real();
	int64_t ms;

	if (!r->epoll_pwait2)
		return sfy_nosys();
	if (plain() || max <= 0 || !r->epoll_pwait)
		return r->epoll_pwait2(epfd, ev, max, ts, mask);
	if (ts && (ts->tv_sec < 0 || ts->tv_nsec < 0 ||
		   ts->tv_nsec >= 1000000000)) {
		errno = EINVAL;
		return -1;
	}
	ms = ts ? (int64_t)ts->tv_sec * 1000 + (ts->tv_nsec + 999999) / 1000000 : -1;
	/* Millisecond rounds while a handshake runs (rounded up). */
	return wait_loop(epfd, ev, max, ms < 0 ? -1 : clamp_ms(ms),
			 pwait_round, mask);
}

int epoll_ctl(int epfd, int op, int fd, struct epoll_event *ev)
	SFY_EXPORT_AS(sfy_epoll_ctl);
int epoll_wait(int epfd, struct epoll_event *ev, int max, int timeout)
	SFY_EXPORT_AS(sfy_epoll_wait);
int epoll_pwait(int epfd, struct epoll_event *ev, int max, int timeout,
		const sigset_t *mask) SFY_EXPORT_AS(sfy_epoll_pwait);
int epoll_pwait2(int epfd, struct epoll_event *ev, int max,
		 const struct timespec *ts, const sigset_t *mask)
	SFY_EXPORT_AS(sfy_epoll_pwait2);
