/*
 * The I/O under the handshake: a bounded connect, and send/recv loops that
 * never wait past an absolute deadline. Everything goes through the
 * caller's struct socks5_io, so a preload can pass the real libc functions
 * and tests can pass scripted ones. No globals; thread-safe.
 *
 * Every loop here ends at the deadline: each pass through it computes the
 * time left first, and EINTR, EAGAIN and spurious wake-ups only ever go
 * round again through that check.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <time.h>

#include "io.h"

int64_t socks5_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/*
 * Waits until fd reports one of events (or an error or hang-up, which the
 * following send/recv/getsockopt will name). SOCKS5_E_TIMEOUT once the
 * deadline has passed, even if poll keeps waking up early.
 */
static enum socks5_status wait_ready(const struct socks5_io *io, int fd,
				     short events, int64_t deadline_ms,
				     int *err)
{
	for (;;) {
		struct pollfd pfd = { .fd = fd, .events = events };
		int64_t left = deadline_ms - socks5_now_ms();
		int r;

		if (left <= 0)
			return SOCKS5_E_TIMEOUT;
		r = io->poll(&pfd, 1, left > INT_MAX ? INT_MAX : (int)left);
		if (r > 0)
			return SOCKS5_OK;
		if (r < 0 && errno != EINTR) {
			*err = errno;
			return SOCKS5_E_IO;
		}
	}
}

static bool retryable(int e)
{
	return e == EINTR || e == EAGAIN || e == EWOULDBLOCK;
}

enum socks5_status socks5_io_send_all(const struct socks5_io *io, int fd,
				      const void *buf, size_t len,
				      int64_t deadline_ms, int *err)
{
	const uint8_t *p = buf;
	size_t off = 0;

	while (off < len) {
		enum socks5_status st;
		ssize_t n;

		st = wait_ready(io, fd, POLLOUT, deadline_ms, err);
		if (st != SOCKS5_OK)
			return st;
		n = io->send(fd, p + off, len - off,
			     MSG_DONTWAIT | MSG_NOSIGNAL);
		if (n > 0 && (size_t)n <= len - off) {
			off += (size_t)n;
		} else if (n > 0) {
			*err = EIO; /* send claims more than it was given */
			return SOCKS5_E_IO;
		} else if (n < 0 && !retryable(errno)) {
			*err = errno;
			return SOCKS5_E_IO;
		}
	}
	return SOCKS5_OK;
}

enum socks5_status socks5_io_recv_some(const struct socks5_io *io, int fd,
				       void *buf, size_t max,
				       int64_t deadline_ms, size_t *got,
				       int *err)
{
	for (;;) {
		enum socks5_status st;
		ssize_t n;

		st = wait_ready(io, fd, POLLIN, deadline_ms, err);
		if (st != SOCKS5_OK)
			return st;
		n = io->recv(fd, buf, max, MSG_DONTWAIT | MSG_NOSIGNAL);
		if (n > 0 && (size_t)n <= max) {
			*got = (size_t)n;
			return SOCKS5_OK;
		}
		if (n > 0) {
			*err = EIO; /* recv claims more than there was room for */
			return SOCKS5_E_IO;
		}
		if (n == 0)
			return SOCKS5_E_CLOSED;
		if (!retryable(errno)) {
			*err = errno;
			return SOCKS5_E_IO;
		}
	}
}

/*
 * The descriptor is non-blocking here. EINTR from connect(2) leaves the
 * attempt running in the background and EALREADY means one is running, so
 * both are waited for like EINPROGRESS; the outcome is read from SO_ERROR
 * (getsockopt is not a hooked name, so it is called directly).
 */
static int connect_nonblocking(const struct socks5_io *io, int fd,
			       const struct sockaddr *sa, socklen_t salen,
			       int64_t deadline_ms)
{
	enum socks5_status st;
	socklen_t elen = sizeof(int);
	int soerr = 0, err = 0;

	if (io->connect(fd, sa, salen) == 0)
		return 0;
	if (errno != EINPROGRESS && errno != EINTR && errno != EALREADY)
		return -errno;
	st = wait_ready(io, fd, POLLOUT, deadline_ms, &err);
	if (st == SOCKS5_E_TIMEOUT)
		return -ETIMEDOUT;
	if (st != SOCKS5_OK)
		return -err;
	if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &elen) < 0)
		return -errno;
	return -soerr;
}

/*
 * Read-modify-write of the file status flags: only O_NONBLOCK is touched,
 * and the exact old value is put back (proxychains-ng's F_SETFL of
 * !O_NONBLOCK wiped every other flag).
 */
int socks5_connect_deadline(const struct socks5_io *io, int fd,
			    const struct sockaddr *sa, socklen_t salen,
			    int64_t deadline_ms)
{
	int flags, rc;

	if (!io || !sa || fd < 0)
		return -EINVAL;
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
