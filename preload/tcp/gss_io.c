/*
 * The data path of protected streams (gss_stream.c has the design): each
 * send wrapped into messages, each receive unwrapped from them.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <pthread.h>
#include <string.h>

#include "base/config.h"
#include "base/log.h"
#include "base/realfn.h"
#include "socks5_gssapi.h"
#include "tcp/gss_stream.h"
#include "tcp/gss_stream_int.h"

static bool nonblocking(int fd, int flags)
{
	return (flags & MSG_DONTWAIT) ||
	       (sfy_real()->fcntl(fd, F_GETFL) & O_NONBLOCK);
}

static int wait_for(int fd, short ev, int ms)
{
	struct pollfd p = { .fd = fd, .events = ev };
	int rc = sfy_real()->poll(&p, 1, ms);

	return rc < 0 ? -errno : rc;
}

/* A sealed message written whole (see the top: committed). */
static int write_message(int fd, struct stream *s, size_t len, int flags)
{
	const struct sfy_real *r = sfy_real();
	int64_t end = socks5_now_ms() + sfy_config()->timeout_ms;
	size_t off = 0;
	ssize_t rc;

	while (off < len) {
		rc = r->send(fd, s->b->tx + off, len - off,
			     (flags & MSG_NOSIGNAL) | MSG_DONTWAIT);
		if (rc > 0) {
			off += (size_t)rc;
			continue;
		}
		rc = rc < 0 ? -errno : -EPIPE;
		if (rc == -EINTR)
			continue;
		if (rc != -EAGAIN)
			return (int)rc;
		if (socks5_now_ms() >= end)
			return -ETIMEDOUT;
		rc = wait_for(fd, POLLOUT, (int)(end - socks5_now_ms()));
		if (rc < 0 && rc != -EINTR)
			return (int)rc;
	}
	return 0;
}

/* Up to max bytes of iov from *skip on, into dst. */
static size_t gather(const struct iovec *iov, int iovcnt, size_t skip,
		     uint8_t *dst, size_t max)
{
	size_t n = 0, c;

	for (int i = 0; i < iovcnt && n < max; i++) {
		if (skip >= iov[i].iov_len) {
			skip -= iov[i].iov_len;
			continue;
		}
		c = iov[i].iov_len - skip;
		if (c > max - n)
			c = max - n;
		memcpy(dst + n, (const uint8_t *)iov[i].iov_base + skip, c);
		n += c;
		skip = 0;
	}
	return n;
}

static size_t iov_total(const struct iovec *iov, int iovcnt)
{
	size_t t = 0;

	for (int i = 0; i < iovcnt; i++)
		t += iov[i].iov_len;
	return t > SSIZE_MAX ? SSIZE_MAX : t;
}

static void broke(struct stream *s, int fd, int err, const char *what,
		  const char *why)
{
	if (!s->broken)
		sfy_warn("fd %d: GSSAPI-protected stream broken: %s%s%s (%s)",
			 fd, what, why && why[0] ? ": " : "", why ? why : "",
			 strerrorname_np(-err));
	s->broken = err;
}

static ssize_t send_stream(int fd, int slot, const struct iovec *iov, int iovcnt,
		     int flags, bool *handled)
{
	struct stream *s = sfy_gss_lock_stream(fd, slot, false);
	enum socks5_status st;
	size_t total, sent = 0, n, len;
	char why[128];
	bool nb;
	int rc = 0;

	*handled = s != NULL;
	if (!s)
		return 0;
	total = iov_total(iov, iovcnt);
	nb = nonblocking(fd, flags);
	while (sent < total && !s->broken) {
		if (nb && sent && wait_for(fd, POLLOUT, 0) <= 0)
			break;
		if (nb && !sent && (rc = wait_for(fd, POLLOUT, 0)) <= 0) {
			rc = rc < 0 ? rc : -EAGAIN;
			break;
		}
		n = gather(iov, iovcnt, sent, s->b->gather, s->max);
		pthread_mutex_lock(&s->gss_lock);
		st = socks5_gss_seal(s->sec, s->b->gather, n, s->b->tx,
				     sizeof(s->b->tx), &len, why, sizeof(why));
		pthread_mutex_unlock(&s->gss_lock);
		if (st != SOCKS5_OK) {
			broke(s, fd, -ECONNRESET, "gss_wrap failed", why);
			break;
		}
		rc = write_message(fd, s, len, flags);
		if (rc < 0) {
			broke(s, fd, rc, "a message could not be sent whole",
			      NULL);
			break;
		}
		sent += n;
	}
	if (!sent && s->broken)
		rc = s->broken;
	pthread_mutex_unlock(&s->tx_lock);
	return sent ? (ssize_t)sent : rc;
}

/* Buffered plaintext into iov from *done on; consumed unless peek. */
static void take_plain(struct stream *s, const struct iovec *iov, int iovcnt,
		       size_t *done, size_t total, bool peek)
{
	size_t skip = *done, off = s->plain_off, left = s->plain_len, c;

	for (int i = 0; i < iovcnt && left && *done < total; i++) {
		if (skip >= iov[i].iov_len) {
			skip -= iov[i].iov_len;
			continue;
		}
		c = iov[i].iov_len - skip;
		if (c > left)
			c = left;
		memcpy((uint8_t *)iov[i].iov_base + skip, s->b->plain + off, c);
		off += c;
		left -= c;
		*done += c;
		skip = 0;
	}
	if (!peek) {
		s->plain_off = off;
		s->plain_len = left;
	}
}

/* Reads toward the next whole message and unwraps it into the plaintext
 * buffer: 1 when plaintext came, 0 at the stream's end, -errno. */
static int next_message(int fd, struct stream *s, int flags)
{
	const struct sfy_real *r = sfy_real();
	enum socks5_status st;
	size_t tlen = 0, n = 0, got = 0;
	char why[128];
	ssize_t rc;

	for (;;) {
		st = socks5_gss_parse(s->b->rx, s->rx_len, SOCKS5_GSS_MTYP_DATA,
				      &tlen, &n);
		if (st == SOCKS5_OK)
			break;
		if (st != SOCKS5_NEED_MORE) {
			broke(s, fd, -ECONNRESET,
			      "malformed message from the proxy",
			      socks5_strerror(st));
			return s->broken;
		}
		rc = r->recv(fd, s->b->rx + s->rx_len, n, flags & MSG_DONTWAIT);
		if (rc == 0 && s->rx_len == 0)
			return 0;
		if (rc == 0) {
			broke(s, fd, -ECONNRESET, "the proxy closed inside a message",
			      NULL);
			return s->broken;
		}
		if (rc < 0)
			return -errno;
		s->rx_len += (size_t)rc;
	}
	s->rx_len = 0;
	pthread_mutex_lock(&s->gss_lock);
	st = socks5_gss_open(s->sec, s->b->rx + SOCKS5_GSS_HEADER_LEN, tlen,
			     s->b->plain, sizeof(s->b->plain), &got, why,
			     sizeof(why));
	pthread_mutex_unlock(&s->gss_lock);
	if (st != SOCKS5_OK) {
		broke(s, fd, -ECONNRESET, "a message does not verify", why);
		return s->broken;
	}
	s->plain_off = 0;
	s->plain_len = got;
	return 1;
}

static ssize_t recv_stream(int fd, int slot, const struct iovec *iov, int iovcnt,
		     int flags, bool *handled)
{
	struct stream *s;
	size_t total, done = 0;
	bool peek = flags & MSG_PEEK;
	int rc = 0;

	*handled = false;
	if (flags & (MSG_ERRQUEUE | MSG_OOB))
		return 0; /* not the stream's bytes: the kernel's answer */
	s = sfy_gss_lock_stream(fd, slot, true);
	if (!s)
		return 0;
	*handled = true;
	total = iov_total(iov, iovcnt);
	while (done < total) {
		if (s->plain_len) {
			take_plain(s, iov, iovcnt, &done, total, peek);
			if (peek || !(flags & MSG_WAITALL))
				break;
			continue;
		}
		if (s->broken) {
			rc = s->broken;
			break;
		}
		rc = next_message(fd, s, flags);
		if (rc <= 0)
			break;
	}
	sfy_gss_note_buffered(s);
	pthread_mutex_unlock(&s->rx_lock);
	return done ? (ssize_t)done : rc;
}

/* The hooks' one entry (gss_stream.h wraps it per direction): true when
 * fd is a protected stream and the call was answered here, *rc the count
 * or -errno. Out of line and cold: the hooks ask sfy_gss_of() first. */
bool sfy_gss_io(int fd, enum sfy_gss_dir dir, const struct iovec *iov,
		int iovcnt, int flags, ssize_t *rc)
{
	int slot = sfy_gss_of(fd);
	bool handled = false;

	if (__builtin_expect(!slot, 1) || sfy_inside())
		return false;
	*rc = dir == SFY_GSS_SEND ?
		      send_stream(fd, slot, iov, iovcnt, flags, &handled) :
		      recv_stream(fd, slot, iov, iovcnt, flags, &handled);
	return handled;
}

int sfy_gss_sendmmsg(int fd, struct mmsghdr *vec, unsigned int vlen,
		     int flags)
{
	unsigned int i;
	ssize_t rc = 0;
	int more;

	for (i = 0; i < vlen; i++) {
		if (!sfy_gss_send(fd, vec[i].msg_hdr.msg_iov,
				  (int)vec[i].msg_hdr.msg_iovlen, flags, &rc)) {
			/* no longer the stream (closed meanwhile): the rest
			 * as the kernel takes it */
			more = sfy_real()->sendmmsg(fd, vec + i, vlen - i,
						    flags);
			if (more < 0)
				return i ? (int)i : -errno;
			return (int)i + more;
		}
		if (rc < 0)
			break;
		vec[i].msg_len = (unsigned int)rc;
	}
	return i ? (int)i : (int)rc;
}
