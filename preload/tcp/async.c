/*
 * The per-descriptor handshake machines of non-blocking connects (see
 * async.h), in a table that grows in mmap'ed chunks (asynctable.c): no
 * malloc, async-signal-safe (a try-lock per slot; a wait that finds a
 * slot busy leaves it for its owner).
 *
 * A slot: claimed and filled by connect(), published as PENDING; stepped
 * by whichever hook gets the descriptor's readiness; on success the TCP
 * record (getpeername) is stored and the slot freed; on failure the
 * socket is shut down (every wait sees it readable, writable and hung
 * up, as a failed connect is) and the slot stays FAILED, adding
 * POLLERR/EPOLLERR and answering SO_ERROR once.
 */
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include "socks5_gssapi.h"
#include "base/log.h"
#include "base/realfn.h"
#include "base/sockopt.h"
#include "state/fdstate.h"
#include "tcp/async_int.h"
#include "tcp/asyncprobe.h"
#include "tcp/bind.h"
#include "tcp/gss_stream.h"
#include "tcp/pipeline.h"

atomic_int sfy_async_live;

/* The epoll registrations of every number of s's socket: armed for
 * need, or the program's own put back (need 0). */
void sfy_async_remod(struct async_slot *s, short need)
{
	int fds[1 + SFY_ASYNC_ALIASES], n = sfy_async_numbers(s, fds);

	for (int i = 0; i < n; i++) {
		if (need)
			sfy_epoll_reg_arm(fds[i], need);
		else
			sfy_epoll_reg_restore(fds[i]);
	}
}

/* Under the lock. */
static void release(struct async_slot *s)
{
	sfy_async_probe_end(s);
	sfy_async_early_end(s);
	{ /* every number the handshake held */
		int fds[1 + SFY_ASYNC_ALIASES], n = sfy_async_numbers(s, fds);

		for (int i = 0; i < n; i++)
			sfy_fd_path_unmark(fds[i]);
	}
	atomic_store_explicit(&s->fd, -1, memory_order_relaxed);
	for (int i = 0; i < SFY_ASYNC_ALIASES; i++)
		atomic_store_explicit(&s->alias[i], 0, memory_order_relaxed);
	atomic_store_explicit(&s->st, SFY_ASYNC_FREE, memory_order_release);
	atomic_fetch_sub_explicit(&sfy_async_live, 1, memory_order_relaxed);
}

/* The warn line of a failure, in the blocking path's words
 * (tcp/connect.c): the proxy unreachable, or the hop and state. */
static void log_failed(const struct async_slot *s, const struct socks5_failure *why,
		       int err)
{
	const struct sfy_config *cfg = sfy_config();
	char hop[600], reason[160];
	size_t h = why->hop >= 0 && (size_t)why->hop < cfg->nhops ?
			   (size_t)why->hop : 0;
	double ms = (double)(sfy_log_now_us() - s->t0) / 1000.0;
	const char *name = strerrorname_np(err);

	socks5_url_format(&cfg->chain[h], hop, sizeof(hop));
	if (why->status == SOCKS5_E_IO && h == 0 && why->state &&
	    !strcmp(why->state,
		    socks5_hs_state_name(SOCKS5_HS_GREETING_SEND))) {
		sfy_warn("connect to %s: cannot reach the proxy %s: %s (%s), after %.1f ms",
			 s->name, hop, strerrordesc_np(err), name ? name : "?",
			 ms);
		return;
	}
	socks5_failure_describe(why, reason, sizeof(reason));
	sfy_warn("connect to %s via %s (hop %zu of %zu) failed in %s: %s (%s), after %.1f ms",
		 s->name, hop, h + 1, cfg->nhops,
		 why->state ? why->state : "?", reason, name ? name : "?", ms);
}

static void finished(struct async_slot *s, int fd)
{
	struct socks5_failure why;
	struct socks5_reply bound;
	bool wrap = s->hs.gss_wrap;
	struct socks5_gss_sec *sec = socks5_hs_gss_take(&s->hs);
	int rc = socks5_hs_result(&s->hs, &bound, &why);
	/* An open socket has the program's own registration already. */
	bool was_open = atomic_load_explicit(&s->open, memory_order_relaxed);
	int fds[1 + SFY_ASYNC_ALIASES], nn, i;

	sfy_async_probe_end(s);
	/* Integrity or confidentiality: the data is wrapped from now on. */
	if (rc == 0 && wrap &&
	    (rc = sec ? sfy_gss_adopt(fd, sec) : -ENOMEM) < 0) {
		memset(&why, 0, sizeof(why));
		why.status = SOCKS5_E_IO;
		why.sys_errno = -rc;
		why.hop = -1;
		why.state = "done";
	}
	if (rc == 0) {
		s->info.bnd_len = sfy_bind_connect_shown(&bound.bnd,
							 s->info.family,
							 &s->info.bnd);
		nn = sfy_async_numbers(s, fds);
		for (i = 0; i < nn; i++)
			if (sfy_fd_set(fds[i], &s->info))
				sfy_debug("fd %d: no room to remember its destination",
					  fds[i]);
		if (sfy_log_level() >= SFY_LOG_INFO) {
			const struct sfy_config *cfg = sfy_config();
			char hop[SFY_LOG_CHAIN_MAX];

			sfy_log_chain(hop, sizeof(hop), cfg->chain, NULL,
				      cfg->nhops);
			sfy_info("connect to %s via %s: ok in %.1f ms",
				 s->name, hop,
				 (double)(sfy_log_now_us() - s->t0) / 1000.0);
		}
		/* released first: a waiter woken by the re-armed
		 * registration must find the handshake over */
		release(s);
		for (i = 0; i < nn && !was_open; i++)
			sfy_epoll_reg_restore(fds[i]);
		return;
	}
	log_failed(s, &why, -rc);
	s->err = -rc;
	shutdown(fd, SHUT_RDWR);
	atomic_store_explicit(&s->need, 0, memory_order_relaxed);
	atomic_store_explicit(&s->st, SFY_ASYNC_FAILED, memory_order_release);
	if (!was_open)
		sfy_async_remod(s, 0);
}

/* Under the lock, s PENDING: one step (then the time-out: replies that
 * came in time but were read late still count). */
static int step(struct async_slot *s, int fd)
{
	struct socks5_io io = *sfy_real_io();
	bool open = atomic_load_explicit(&s->open, memory_order_relaxed);
	short ev;

	if (s->early && !open)
		io.send = sfy_async_send_more;
	sfy_async_probe_step(s);
	/* Inside: a GSSAPI hop's Kerberos library may talk to the KDC. */
	sfy_inside_enter();
	ev = socks5_hs_over(&s->hs) ? 0 : socks5_hs_step(&io, fd, &s->hs);
	sfy_inside_leave();
	if (ev && socks5_now_ms() >=
			  atomic_load_explicit(&s->deadline, memory_order_relaxed)) {
		socks5_hs_fail(&s->hs, SOCKS5_E_TIMEOUT, 0);
		ev = 0;
	}
	if (ev && open)
		return SFY_ASYNC_PENDING;
	/* Pipelined: after the one write only replies are due. */
	if (ev && s->early && !socks5_hs_sending(&s->hs) && s->hs.piped) {
		sfy_async_open_early(s);
		return SFY_ASYNC_PENDING;
	}
	if (ev) {
		atomic_store_explicit(&s->need, ev, memory_order_relaxed);
		sfy_async_remod(s, ev);
		return SFY_ASYNC_PENDING;
	}
	finished(s, fd);
	return atomic_load_explicit(&s->st, memory_order_relaxed);
}

/* -vv: each handshake state as the machine enters it (as tcp/connect.c
 * logs the blocking one's). */
static void trace_state(void *arg, size_t hop, const char *state)
{
	sfy_debug("connect to %s: hop %zu: %s", (const char *)arg, hop + 1,
		  state);
}

int sfy_async_start(int fd, const struct sfy_config *cfg,
		    const struct socks5_addr *dst, const char *dstname,
		    const struct sfy_fd_info *info)
{
	struct socks5_hs_opts opts = { 0 };
	struct async_slot *old = sfy_async_find(fd), *s;
	int st, rc;

	if (old && sfy_async_lock(old)) { /* left by a close we did not see */
		release(old);
		sfy_async_unlock(old);
	}
	s = sfy_async_claim();
	if (!s)
		return 1; /* the table is full: the caller waits in connect() */
	s->busy = 1;
	s->err = 0;
	s->early = sfy_async_early_ok(cfg);
	s->t0 = sfy_log_now_us();
	atomic_store_explicit(&s->deadline, socks5_now_ms() + cfg->timeout_ms,
			      memory_order_relaxed);
	s->dst = *dst;
	s->info = *info;
	snprintf(s->name, sizeof(s->name), "%s", dstname);
	opts.pipeline = sfy_pipeline_hops(cfg);
	if (sfy_log_level() >= SFY_LOG_DEBUG) {
		opts.trace = trace_state;
		opts.trace_arg = s->name;
	}
	socks5_hs_begin(&s->hs, cfg->chain, cfg->nhops, SOCKS5_CMD_CONNECT,
			&s->dst, &opts);
	atomic_store_explicit(&s->need, POLLOUT, memory_order_relaxed);
	atomic_store_explicit(&s->fd, fd, memory_order_relaxed);
	atomic_fetch_add_explicit(&sfy_async_live, 1, memory_order_relaxed);
	/* Opens the data hooks' gate (sfy_fd_plain_io) for fd: from now on
	 * its read, write, send, recv... ask sfy_async_gated. */
	sfy_fd_path_mark(fd);
	sfy_async_probe_start(s, cfg, &s->info.via.sa);
	atomic_store_explicit(&s->st, SFY_ASYNC_PENDING, memory_order_release);
	st = step(s, fd);
	/* Failed already (a refusal on loopback comes back at once): as the
	 * kernel, EINPROGRESS, and the error through SO_ERROR. */
	rc = st == SFY_ASYNC_FREE ? 0 : -EINPROGRESS;
	sfy_async_unlock(s);
	return rc;
}

/* What the hooks are told: a PENDING slot that is open is OPEN. */
static int shown(struct async_slot *s, int st)
{
	return st == SFY_ASYNC_PENDING &&
			       atomic_load_explicit(&s->open, memory_order_acquire) ?
		       SFY_ASYNC_OPEN : st;
}

int sfy_async_state(int fd)
{
	struct async_slot *s = sfy_async_find(fd);

	return s ? shown(s, atomic_load_explicit(&s->st, memory_order_acquire)) :
		   SFY_ASYNC_FREE;
}

short sfy_async_need(int fd)
{
	struct async_slot *s = sfy_async_find(fd);

	return s ? atomic_load_explicit(&s->need, memory_order_relaxed) : 0;
}

int sfy_async_advance(int fd, short revents)
{
	struct async_slot *s = sfy_async_find(fd);
	int st;

	(void)revents; /* the step itself finds out what the socket holds */
	if (!s)
		return SFY_ASYNC_FREE;
	if (!sfy_async_lock(s)) /* another thread is stepping it */
		return shown(s, SFY_ASYNC_PENDING);
	st = atomic_load_explicit(&s->st, memory_order_relaxed);
	if (st == SFY_ASYNC_PENDING &&
	    sfy_async_has(s, fd))
		st = step(s, fd);
	st = shown(s, st);
	sfy_async_unlock(s);
	return st;
}

int sfy_async_ms_left(void)
{
	int n = sfy_async_hiwater(), i;
	int64_t now = socks5_now_ms(), best = -1;

	for (i = 0; i < n; i++) {
		struct async_slot *s = sfy_async_slot(i);

		if (atomic_load_explicit(&s->st, memory_order_acquire) !=
		    SFY_ASYNC_PENDING)
			continue;
		int64_t left = atomic_load_explicit(&s->deadline,
						    memory_order_relaxed) - now;

		if (left < 0)
			left = 0;
		if (best < 0 || left < best)
			best = left;
	}
	return best > 0x7fffffff ? 0x7fffffff : (int)best;
}

void sfy_async_expire(void)
{
	int n = sfy_async_hiwater(), i;
	int64_t now = socks5_now_ms();

	for (i = 0; i < n; i++) {
		struct async_slot *s = sfy_async_slot(i);

		if (atomic_load_explicit(&s->st, memory_order_acquire) ==
			    SFY_ASYNC_PENDING &&
		    now >= atomic_load_explicit(&s->deadline,
						memory_order_relaxed))
			sfy_async_advance(atomic_load(&s->fd), 0);
	}
}

int sfy_async_take(int fd)
{
	struct async_slot *s = sfy_async_find(fd);
	int err = 0;

	if (!s || !sfy_async_lock(s))
		return 0;
	if (atomic_load_explicit(&s->st, memory_order_relaxed) ==
		    SFY_ASYNC_FAILED &&
	    sfy_async_has(s, fd)) {
		err = s->err;
		release(s);
	}
	sfy_async_unlock(s);
	return err;
}

int sfy_async_take_error(int fd)
{
	if (sfy_async_advance(fd, 0) != SFY_ASYNC_FAILED)
		return 0;
	return sfy_async_take(fd);
}

int sfy_async_reconnect(int fd)
{
	int st = sfy_async_advance(fd, 0), err;

	if (st == SFY_ASYNC_PENDING)
		return -EALREADY;
	if (st == SFY_ASYNC_OPEN)
		return -EISCONN;
	if (st == SFY_ASYNC_FAILED) {
		err = sfy_async_take(fd);
		return err ? -err : -EALREADY;
	}
	return 1;
}

int sfy_async_io(int fd)
{
	int st = sfy_async_advance(fd, 0);
	struct async_slot *s;

	if (st == SFY_ASYNC_PENDING)
		return -EAGAIN;
	if (st == SFY_ASYNC_OPEN && (s = sfy_async_find(fd)) &&
	    atomic_exchange_explicit(&s->corked, false, memory_order_relaxed))
		/* this write takes the held bytes along */
		atomic_fetch_sub_explicit(&sfy_async_corked, 1,
					  memory_order_relaxed);
	return st == SFY_ASYNC_FAILED ? -sfy_async_take(fd) : 0;
}

int sfy_async_probe_poll(int fd, struct pollfd *p)
{
	struct async_slot *s = sfy_async_find(fd);

	return s ? sfy_async_probe_pollfd(s, p) : 0;
}

void sfy_async_forget(int fd)
{
	struct async_slot *s = sfy_async_find(fd);

	/* Busy: the stepping thread finds the number closed and fails. */
	if (s && sfy_async_lock(s)) {
		if (sfy_async_has(s, fd) &&
		    atomic_load_explicit(&s->st, memory_order_relaxed) >=
			    SFY_ASYNC_PENDING &&
		    !sfy_async_unnumber(s, fd))
			release(s);
		sfy_async_unlock(s);
	}
}
