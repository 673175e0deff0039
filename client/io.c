/*
 * The I/O under the handshake: a bounded connect, the step an event loop
 * calls when a descriptor is ready (socks5_hs_step), and the blocking
 * driver that runs the state machine of handshake.c over a descriptor
 * (and, beside it, the pipelining probe's) in one poll loop, with the same
 * steps. Everything goes through the
 * caller's struct socks5_io, so a preload can pass the real libc functions
 * and tests can pass scripted ones. No globals; thread-safe.
 *
 * System calls are what a proxied connect() costs a program, so none is
 * spent on a question whose answer is known:
 *   - send is tried at once (a fresh connection has room); poll only after
 *     EAGAIN or a short write;
 *   - after the last byte of a message went out, poll before recv: the
 *     answer cannot be there yet;
 *   - after a recv that filled what was asked, recv again at once: a proxy
 *     writes each reply in one piece, so the rest is normally there;
 *   - a connect that poll reports writable without error needs no
 *     getsockopt(SO_ERROR);
 *   - the connect is started without waiting by an empty
 *     sendto(MSG_FASTOPEN | MSG_DONTWAIT) where the caller allows it,
 *     instead of three fcntl calls around connect (see socks5.h).
 * Connecting and a pipelined no-auth CONNECT are then sendto, poll, send,
 * poll, recv, and the reply's two reads (head, then the address whose
 * length the head gives: reading more could take the program's data).
 *
 * Every loop ends at the deadline: each pass through it computes the time
 * left first, and EINTR, EAGAIN and spurious wake-ups only ever go round
 * again through that check.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <string.h>
#include <time.h>

#include "hs.h"

int64_t socks5_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int poll_left(int64_t deadline_ms)
{
	int64_t left = deadline_ms - socks5_now_ms();

	if (left <= 0)
		return 0;
	return left > INT_MAX ? INT_MAX : (int)left;
}

static bool retryable(int e)
{
	return e == EINTR || e == EAGAIN || e == EWOULDBLOCK;
}

static void wait_for(struct socks5_task *t, short events)
{
	t->wait = true;
	t->events = events;
}

static void send_some(const struct socks5_io *io, struct socks5_task *t)
{
	size_t len;
	const uint8_t *p = socks5_hs_out(t->h, &len);
	ssize_t n = io->send(t->fd, p, len, MSG_DONTWAIT | MSG_NOSIGNAL);

	if (n > 0 && (size_t)n <= len) {
		socks5_hs_sent(t->h, (size_t)n);
		if ((size_t)n < len)
			wait_for(t, POLLOUT); /* the socket buffer is full */
		else if (!socks5_hs_over(t->h))
			wait_for(t, POLLIN);  /* the answer is not there yet */
	} else if (n > 0) {
		socks5_hs_fail(t->h, SOCKS5_E_IO, EIO); /* more than it was given */
	} else if (n < 0 && retryable(errno)) {
		if (errno != EINTR)
			wait_for(t, POLLOUT);
	} else {
		socks5_hs_fail(t->h, SOCKS5_E_IO, n < 0 ? errno : EIO);
	}
}

/*
 * An HTTP hop's reply with io->peek: a look at what has arrived (MSG_PEEK,
 * nothing taken), the header block's end found on a copy of the parser,
 * then one recv of exactly the bytes up to that end (or all of them, when
 * the end has not come yet), fed to the machine in the pieces it asks
 * for. Bytes past the empty line stay in the socket for the program.
 * Returns false to leave the read to recv_some's small reads (no peek,
 * nothing there yet, an error or a malformed block: they report it).
 */
static bool recv_http_block(const struct socks5_io *io, struct socks5_task *t)
{
	struct socks5_hs *h = t->h;
	struct socks5_http_reply look;
	uint8_t buf[2048];
	size_t used = 0, want = 0, k, off = 0, max;
	enum socks5_status st;
	ssize_t n;

	if (!io->peek || !h->chain || h->state != SOCKS5_HS_REPLY_RECV ||
	    socks5_hs_hop_at(h, h->hop)->type != SOCKS5_HOP_HTTP)
		return false;
	n = io->recv(t->fd, buf, sizeof(buf),
		     MSG_PEEK | MSG_DONTWAIT | MSG_NOSIGNAL);
	if (n <= 0 || (size_t)n > sizeof(buf))
		return false;
	look = h->http;
	st = socks5_http_reply_feed(&look, buf, (size_t)n, &used, &want);
	if (st != SOCKS5_OK && st != SOCKS5_NEED_MORE)
		return false;
	k = st == SOCKS5_OK ? used : (size_t)n;
	if (k == 0 || k > (size_t)n)
		return false;
	n = io->recv(t->fd, buf, k, MSG_DONTWAIT | MSG_NOSIGNAL);
	if (n < 0 || (size_t)n != k) {
		/* what was there a moment ago is there still: cannot be */
		socks5_hs_fail(h, SOCKS5_E_IO, n < 0 ? errno : EIO);
		return true;
	}
	t->rx_ms = socks5_now_ms();
	while (off < k && !socks5_hs_over(h) && !socks5_hs_sending(h)) {
		uint8_t *p = socks5_hs_in(h, &max);
		size_t take = k - off < max ? k - off : max;

		if (!take)
			break;
		memcpy(p, buf + off, take);
		socks5_hs_received(h, take);
		off += take;
	}
	if (off < k && !socks5_hs_over(h))
		socks5_hs_fail(h, SOCKS5_E_ARG, 0); /* the parser broke its word */
	if (!socks5_hs_over(h) && !socks5_hs_sending(h))
		wait_for(t, POLLIN); /* the rest of the block is on its way */
	return true;
}

static void recv_some(const struct socks5_io *io, struct socks5_task *t)
{
	size_t max;
	uint8_t *p;
	ssize_t n;

	if (recv_http_block(io, t))
		return;
	p = socks5_hs_in(t->h, &max);
	n = io->recv(t->fd, p, max, MSG_DONTWAIT | MSG_NOSIGNAL);

	if (n > 0 && (size_t)n <= max) {
		t->rx_ms = socks5_now_ms();
		socks5_hs_received(t->h, (size_t)n);
		/* Less than asked: the rest is still on its way. */
		if ((size_t)n < max && !socks5_hs_over(t->h) && !socks5_hs_sending(t->h))
			wait_for(t, POLLIN);
	} else if (n > 0) {
		socks5_hs_fail(t->h, SOCKS5_E_IO, EIO); /* more than there was room for */
	} else if (n == 0) {
		socks5_hs_fail(t->h, SOCKS5_E_CLOSED, 0);
	} else if (retryable(errno)) {
		if (errno != EINTR)
			wait_for(t, POLLIN);
	} else {
		socks5_hs_fail(t->h, SOCKS5_E_IO, errno);
	}
}

/* I/O for t until it must wait for its descriptor or its machine ends. */
static void task_io(const struct socks5_io *io, struct socks5_task *t)
{
	while (!t->wait && !socks5_hs_over(t->h)) {
		if (socks5_hs_sending(t->h))
			send_some(io, t);
		else
			recv_some(io, t);
	}
}

short socks5_hs_step(const struct socks5_io *io, int fd, struct socks5_hs *h)
{
	struct socks5_task t = { .h = h, .fd = fd };

	if (!io || fd < 0) {
		if (!socks5_hs_over(h))
			socks5_hs_fail(h, SOCKS5_E_ARG, 0);
		return 0;
	}
	task_io(io, &t);
	return socks5_hs_over(h) ? 0 : t.events;
}

static bool side_active(const struct socks5_task *s)
{
	return s && !s->dead && !socks5_hs_over(s->h);
}

/* The side task's descriptor woke up. */
static void side_ready(struct socks5_task *s, short revents)
{
	if (s->connecting) {
		/* Writable without error: connected. Anything else: give up
		 * on the side task, the main one is not concerned. */
		if (revents & (POLLERR | POLLHUP | POLLNVAL)) {
			s->dead = true;
			return;
		}
		s->connecting = false;
	}
	s->wait = false;
}

/* The main task is over: whatever the side task's descriptor already
 * holds is read (one recv, no waiting), so an answer that came with the
 * main one's last bytes still counts. */
static void side_last_look(const struct socks5_io *io, struct socks5_task *s)
{
	if (!side_active(s) || s->connecting)
		return;
	s->wait = false;
	task_io(io, s);
}

void socks5_drive(const struct socks5_io *io, struct socks5_task *m,
		  struct socks5_task *side, int64_t deadline_ms)
{
	for (;;) {
		struct pollfd pfd[2];
		nfds_t n = 1;
		int left, r;

		if (side_active(side) && !side->connecting)
			task_io(io, side);
		task_io(io, m);
		if (socks5_hs_over(m->h)) {
			side_last_look(io, side);
			return;
		}
		left = poll_left(deadline_ms);
		if (left == 0) {
			socks5_hs_fail(m->h, SOCKS5_E_TIMEOUT, 0);
			return;
		}
		pfd[0].fd = m->fd;
		pfd[0].events = m->events;
		pfd[0].revents = 0;
		if (side_active(side)) {
			pfd[1].fd = side->fd;
			pfd[1].events = side->events;
			pfd[1].revents = 0;
			n = 2;
		}
		r = io->poll(pfd, n, left);
		if (r < 0 && errno != EINTR) {
			socks5_hs_fail(m->h, SOCKS5_E_IO, errno);
			return;
		}
		if (r <= 0)
			continue;
		if (pfd[0].revents)
			m->wait = false;
		if (n == 2 && pfd[1].revents)
			side_ready(side, pfd[1].revents);
	}
}

/*
 * Waits for a connection attempt already under way. poll's answer is
 * enough when it says writable and nothing else; after an error or hang-up
 * the outcome is read from SO_ERROR, through the caller's getsockopt (a
 * preload may hook getsockopt itself: event loops ask it for SO_ERROR).
 */
static int wait_connected(const struct socks5_io *io, int fd,
			  int64_t deadline_ms)
{
	struct pollfd pfd = { .fd = fd, .events = POLLOUT };
	socklen_t elen = sizeof(int);
	int soerr = 0, left, r;

	for (;;) {
		left = poll_left(deadline_ms);
		if (left == 0)
			return -ETIMEDOUT;
		pfd.revents = 0;
		r = io->poll(&pfd, 1, left);
		if (r < 0 && errno != EINTR)
			return -errno;
		if (r > 0)
			break;
	}
	if (pfd.revents == POLLOUT)
		return 0;
	if (!io->getsockopt)
		return -ENOSYS;
	if (io->getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &elen) < 0)
		return -errno;
	return -soerr;
}

/* EINTR from connect(2) leaves the attempt running in the background and
 * EALREADY means one is running, so both are waited for like EINPROGRESS. */
static bool under_way(int e)
{
	return e == EINPROGRESS || e == EINTR || e == EALREADY;
}

/* The descriptor is non-blocking here. */
static int connect_nonblocking(const struct socks5_io *io, int fd,
			       const struct sockaddr *sa, socklen_t salen,
			       int64_t deadline_ms)
{
	if (io->connect(fd, sa, salen) == 0)
		return 0;
	if (!under_way(errno))
		return -errno;
	return wait_connected(io, fd, deadline_ms);
}

/*
 * Read-modify-write of the file status flags: only O_NONBLOCK is touched,
 * and the exact old value is put back (proxychains-ng's F_SETFL of
 * !O_NONBLOCK wiped every other flag).
 */
static int connect_with_fcntl(const struct socks5_io *io, int fd,
			      const struct sockaddr *sa, socklen_t salen,
			      int64_t deadline_ms)
{
	int flags, rc;

	flags = io->fcntl(fd, F_GETFL);
	if (flags < 0)
		return -errno;
	if (!(flags & O_NONBLOCK) &&
	    io->fcntl(fd, F_SETFL, flags | O_NONBLOCK) < 0)
		return -errno;
	rc = connect_nonblocking(io, fd, sa, salen, deadline_ms);
	if (!(flags & O_NONBLOCK) && io->fcntl(fd, F_SETFL, flags) < 0 &&
	    rc == 0)
		rc = -errno;
	return rc;
}

/* The kernel (or a sandbox) will not start a connection this way, or the
 * socket's protocol has no Fast Open (SCTP, old MPTCP): connect() proper
 * says what the program would have seen. */
static bool no_fastopen(int e)
{
	return e == EOPNOTSUPP || e == EINVAL || e == ENOSYS || e == EPERM ||
	       e == EACCES || e == EPROTONOSUPPORT;
}

/* Only a stream socket can be handed through the handshake. */
static int stream_or_eprototype(const struct socks5_io *io, int fd)
{
	int type = 0;
	socklen_t len = sizeof(type);

	if (!io->getsockopt)
		return -ENOSYS;
	if (io->getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &len) < 0)
		return -errno;
	return type == SOCK_STREAM ? 0 : -EPROTOTYPE;
}

/*
 * 1 when the attempt could not start this way (the fcntl way is next).
 * MSG_OOB makes the start itself a check of the socket's type: TCP takes
 * it with no data (there is nothing to mark urgent), UDP refuses it before
 * sending anything. So a caller may skip asking for the type; a refusal
 * is looked into here.
 */
static int connect_fastopen(const struct socks5_io *io, int fd,
			    const struct sockaddr *sa, socklen_t salen,
			    int64_t deadline_ms)
{
	ssize_t n = io->sendto(fd, NULL, 0,
			       MSG_FASTOPEN | MSG_OOB | MSG_DONTWAIT |
				       MSG_NOSIGNAL,
			       sa, salen);
	int rc;

	/* 0: connected already (a second call on a connected socket). */
	if (n >= 0 || under_way(errno))
		return wait_connected(io, fd, deadline_ms);
	if (!no_fastopen(errno))
		return -errno;
	rc = stream_or_eprototype(io, fd);
	return rc ? rc : 1;
}

int socks5_connect_deadline(const struct socks5_io *io, int fd,
			    const struct sockaddr *sa, socklen_t salen,
			    int64_t deadline_ms)
{
	int rc;

	if (!io || !sa || fd < 0)
		return -EINVAL;
	if (io->sendto) {
		rc = connect_fastopen(io, fd, sa, salen, deadline_ms);
		if (rc <= 0)
			return rc;
	}
	return connect_with_fcntl(io, fd, sa, salen, deadline_ms);
}
