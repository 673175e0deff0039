/*
 * Descriptor bookkeeping: close, dup, dup2, dup3, fcntl(F_DUPFD*) keep the
 * per-fd table in step with the kernel's; getpeername and getsockname show
 * the program what it asked for rather than the proxy.
 *
 * These are hot paths of every program: for a descriptor that is not ours
 * the cost is one atomic load (sfy_fd_is_ours / sfy_fd_copy bail out on the
 * table's "never used" flag) and the real call.
 *
 * The library's own log file (SOCKSIFY_LOG_FILE, kept at fd >= 100) is
 * protected: a program closing every descriptor it did not open gets 0
 * without losing our log, and a dup2()/dup3() onto its number moves the
 * log elsewhere first, so log lines never land in the program's files.
 */
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "fdstate.h"
#include "log.h"
#include "realfn.h"

static int nosys(void)
{
	errno = ENOSYS;
	return -1;
}

/* After a successful duplication onto newfd. */
static void copied(int oldfd, int newfd)
{
	int saved = errno;

	sfy_fd_copy(oldfd, newfd);
	errno = saved;
}

int close(int fd)
{
	const struct sfy_real *r = sfy_real();

	if (!r->close)
		return nosys();
	/* Cleared before the real close: once closed, the number may be
	 * reused by another thread's socket at once. */
	if (sfy_fd_is_ours(fd))
		sfy_fd_clear(fd);
	else if (sfy_log_owns_fd(fd))
		return 0;
	return r->close(fd);
}

int dup(int fd)
{
	const struct sfy_real *r = sfy_real();
	int nfd;

	if (!r->dup)
		return nosys();
	nfd = r->dup(fd);
	if (nfd >= 0)
		copied(fd, nfd);
	return nfd;
}

int dup2(int oldfd, int newfd)
{
	const struct sfy_real *r = sfy_real();
	int rc;

	if (!r->dup2)
		return nosys();
	if (oldfd != newfd && sfy_log_owns_fd(newfd))
		sfy_log_move_fd();
	rc = r->dup2(oldfd, newfd);
	if (rc >= 0 && oldfd != newfd)
		copied(oldfd, newfd);
	return rc;
}

int dup3(int oldfd, int newfd, int flags)
{
	const struct sfy_real *r = sfy_real();
	int rc;

	if (!r->dup3)
		return nosys();
	if (oldfd != newfd && sfy_log_owns_fd(newfd))
		sfy_log_move_fd();
	rc = r->dup3(oldfd, newfd, flags);
	if (rc >= 0)
		copied(oldfd, newfd);
	return rc;
}

/*
 * fcntl is variadic. Commands that take an int read an int; every other
 * command gets the next argument as a pointer, which is what glibc itself
 * does (for the commands without an argument the value is never used).
 */
static int fcntl_common(int (*real)(int, int, ...), int fd, int cmd,
			va_list ap)
{
	int arg, rc;

	switch (cmd) {
	case F_DUPFD:
	case F_DUPFD_CLOEXEC:
		arg = va_arg(ap, int);
		rc = real(fd, cmd, arg);
		if (rc >= 0)
			copied(fd, rc);
		return rc;
	case F_SETFD:
	case F_SETFL:
	case F_SETOWN:
	case F_SETSIG:
	case F_SETLEASE:
	case F_NOTIFY:
	case F_SETPIPE_SZ:
	case F_ADD_SEALS:
		arg = va_arg(ap, int);
		return real(fd, cmd, arg);
	default:
		return real(fd, cmd, va_arg(ap, void *));
	}
}

int fcntl(int fd, int cmd, ...)
{
	const struct sfy_real *r = sfy_real();
	va_list ap;
	int rc;

	if (!r->fcntl)
		return nosys();
	va_start(ap, cmd);
	rc = fcntl_common(r->fcntl, fd, cmd, ap);
	va_end(ap);
	return rc;
}

int fcntl64(int fd, int cmd, ...)
{
	const struct sfy_real *r = sfy_real();
	int (*real)(int, int, ...) = r->fcntl64 ? r->fcntl64 : r->fcntl;
	va_list ap;
	int rc;

	if (!real)
		return nosys();
	va_start(ap, cmd);
	rc = fcntl_common(real, fd, cmd, ap);
	va_end(ap);
	return rc;
}

/* Copies an address out the way the kernel does: at most *len bytes, and
 * *len set to the address's full size. */
static void copy_out(struct sockaddr *sa, socklen_t *len, const void *addr,
		     socklen_t alen)
{
	memcpy(sa, addr, *len < alen ? *len : alen);
	*len = alen;
}

int getpeername(int fd, struct sockaddr *sa, socklen_t *len)
{
	const struct sfy_real *r = sfy_real();
	struct sockaddr_storage real_peer;
	struct sfy_fd_info info;
	socklen_t rl = sizeof(real_peer);
	int saved = errno;

	if (!r->getpeername)
		return nosys();
	if (!sa || !len || !sfy_fd_is_ours(fd) || !sfy_fd_get(fd, &info) ||
	    info.kind != SFY_FD_TCP)
		return r->getpeername(fd, sa, len);
	/* Still connected? (ENOTCONN after a reset, as without us.) */
	if (r->getpeername(fd, (struct sockaddr *)&real_peer, &rl) < 0)
		return -1;
	copy_out(sa, len, &info.peer, info.peer_len);
	errno = saved;
	return 0;
}

/* The socket was replaced by one of another family (hook_connect.c): show
 * a local address of the family the program created. */
static socklen_t convert_local(const struct sockaddr_storage *real_local,
			       int family, struct sockaddr_storage *out)
{
	static const uint8_t v4mapped[12] = { 0, 0, 0, 0, 0, 0,
					      0, 0, 0, 0, 0xff, 0xff };

	memset(out, 0, sizeof(*out));
	if (family == AF_INET && real_local->ss_family == AF_INET6) {
		const struct sockaddr_in6 *s6 =
			(const struct sockaddr_in6 *)real_local;
		struct sockaddr_in *in = (struct sockaddr_in *)out;

		in->sin_family = AF_INET;
		in->sin_port = s6->sin6_port;
		/* A mapped address has an IPv4 form; anything else does not,
		 * and INADDR_ANY (zeroes) says "some local address". */
		if (!memcmp(s6->sin6_addr.s6_addr, v4mapped, 12))
			memcpy(&in->sin_addr, s6->sin6_addr.s6_addr + 12, 4);
		return sizeof(*in);
	}
	if (family == AF_INET6 && real_local->ss_family == AF_INET) {
		const struct sockaddr_in *in =
			(const struct sockaddr_in *)real_local;
		struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)out;

		s6->sin6_family = AF_INET6;
		s6->sin6_port = in->sin_port;
		memcpy(s6->sin6_addr.s6_addr, v4mapped, 12);
		memcpy(s6->sin6_addr.s6_addr + 12, &in->sin_addr, 4);
		return sizeof(*s6);
	}
	return 0;
}

int getsockname(int fd, struct sockaddr *sa, socklen_t *len)
{
	const struct sfy_real *r = sfy_real();
	struct sockaddr_storage local, conv;
	struct sfy_fd_info info;
	socklen_t ll = sizeof(local), cl;
	int saved = errno;

	if (!r->getsockname)
		return nosys();
	if (!sa || !len || !sfy_fd_is_ours(fd) || !sfy_fd_get(fd, &info))
		return r->getsockname(fd, sa, len);
	if (r->getsockname(fd, (struct sockaddr *)&local, &ll) < 0)
		return -1;
	cl = convert_local(&local, info.family, &conv);
	if (cl)
		copy_out(sa, len, &conv, cl);
	else
		copy_out(sa, len, &local, ll);
	errno = saved;
	return 0;
}
