/*
 * Descriptor bookkeeping: close, dup, dup2, dup3, close_range, closefrom,
 * fcntl(F_DUPFD*) keep the per-fd table in step with the kernel's (new
 * descriptors: hook_socket.c; getpeername/getsockname: hook_peer.c).
 *
 * These are hot paths of every program: for a descriptor that is not ours
 * the cost is one atomic load (sfy_fd_is_ours / sfy_fd_copy bail out on the
 * table's "never used" flag) and the real call.
 *
 * The library's own descriptors, the log file (SOCKSIFY_LOG_FILE) and the
 * control connections of UDP associations, both kept at fd >= 100, are
 * protected: a program closing every descriptor it did not open gets 0
 * without losing them, a dup2()/dup3() onto such a number moves ours
 * elsewhere first, and close_range()/closefrom() close around them. So
 * log lines never land in the program's files, and a UDP association
 * lives exactly as long as the program's socket.
 *
 * A UDP socket's copies (dup, dup2, dup3, F_DUPFD) share its association:
 * each copy holds a reference (udp_assoc.c), each close drops one.
 *
 * The same calls made by number through syscall() (hook_syscall.c) come
 * here too, through the sfy_* names (hooks.h): the library never calls
 * the names it exports.
 *
 * A vfork child shares the table with its parent but has descriptors of
 * its own: the table's writers and the association's references check
 * for it (sfy_in_vfork_child) and change nothing there.
 */
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <string.h>
#include <linux/close_range.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "base/log.h"
#include "base/realfn.h"
#include "hooks/hooks.h"
#include "state/fdstate.h"
#include "state/sockhint.h"
#include "state/vfork.h"
#include "tcp/async.h"
#include "tcp/gss_stream.h"
#include "udp/udp_assoc.h"
#include "udp/udp_io.h"

/* UDP state held by fd (which is about to be replaced or closed): the
 * association index, or -1. */
static int udp_held(int fd)
{
	struct sfy_fd_info info;

	if (sfy_fd_kind(fd) != SFY_FD_UDP || !sfy_fd_get(fd, &info) ||
	    info.kind != SFY_FD_UDP)
		return -1;
	return info.assoc;
}

/* After a successful duplication onto newfd. A copy of a UDP socket holds
 * its association too; a copy of our control connection is the
 * program's own descriptor and gets no state. */
static void copied(int oldfd, int newfd)
{
	int saved = errno, kind = sfy_fd_kind(oldfd);
	struct sfy_fd_info info;

	sfy_hint_set(newfd, sfy_hint_stream(oldfd));
	if (!sfy_async_none()) /* a handshake under way follows the copy */
		sfy_async_dup(oldfd, newfd);
	if (kind == SFY_FD_CONTROL) {
		sfy_fd_clear(newfd);
	} else {
		sfy_fd_copy(oldfd, newfd);
		sfy_gss_dup(oldfd, newfd);
		if (kind == SFY_FD_UDP && sfy_fd_get(newfd, &info) &&
		    info.kind == SFY_FD_UDP)
			sfy_assoc_ref(info.assoc);
	}
	errno = saved;
}

/* After a dup() or F_DUPFD made newfd: the kernel picked a free number,
 * so state on it belongs to a descriptor closed where we could not see it
 * (fclose()): dropped with what it held (a UDP association's reference)
 * before the copy is recorded. */
static void duplicated(int oldfd, int newfd)
{
	if (sfy_fd_kind(newfd) != SFY_FD_NONE) {
		sfy_fd_drop_stale(newfd);
		sfy_gss_forget(newfd);
	}
	copied(oldfd, newfd);
}

/* Before a dup2()/dup3() onto newfd: our descriptors move away, and
 * newfd's UDP state (its socket is about to be closed) is noted. */
static int before_dup_onto(int oldfd, int newfd)
{
	int saved = errno, held;

	if (oldfd == newfd)
		return -1;
	/* (A vfork child's dup2 replaces only its own copy of the log
	 * file: the move knows and leaves the parent's log alone.) */
	if (sfy_log_owns_fd(newfd))
		sfy_log_move_fd();
	sfy_assoc_make_room(newfd);
	held = udp_held(newfd);
	errno = saved;
	return held;
}

/* close() of a descriptor with state: out of line, so that close() of
 * any other is a few loads and a tail call. */
static __attribute__((noinline)) int close_ours(int fd)
{
	const struct sfy_real *r = sfy_real();
	int held, rc, saved;

	if (sfy_assoc_owns_fd(fd))
		return 0; /* a control connection: not the program's */
	held = udp_held(fd);
	if (!sfy_async_none())
		sfy_async_forget(fd);
	/* Cleared before the real close: once closed, the number may be
	 * reused by another thread's socket at once. */
	sfy_fd_clear(fd);
	sfy_gss_forget(fd);
	rc = r->close(fd);
	if (held >= 0) {
		saved = errno;
		sfy_assoc_unref(held);
		errno = saved;
	}
	return rc;
}

/* Before the table is there, once the process has state, or for a
 * number where the library keeps its own descriptors. */
static __attribute__((noinline)) int close_slow(int fd)
{
	const struct sfy_real *r = sfy_real();

	if (!r->close)
		return sfy_nosys();
	if (sfy_fd_is_ours(fd))
		return close_ours(fd);
	return sfy_log_owns_fd(fd) ? 0 : r->close(fd);
}

/* Every close() of every program: two loads, three tests, a jump. The
 * exported names below are aliases of these internal ones (hooks.h's
 * SFY_EXPORT_AS), which syscall() by number calls too. */
int sfy_close(int fd)
{
	int (*real)(int) = SFY_REAL_FAST(close);

	if (__builtin_expect(real && fd < SFY_LOG_FD_MIN &&
				     sfy_fd_no_state_yet(), 1))
		return real(fd);
	return close_slow(fd);
}

int close(int fd) SFY_EXPORT_AS(sfy_close);

int sfy_dup(int fd)
{
	const struct sfy_real *r = sfy_real();
	int nfd;

	if (!r->dup)
		return sfy_nosys();
	nfd = r->dup(fd);
	if (nfd >= 0)
		duplicated(fd, nfd);
	return nfd;
}

int dup(int fd) SFY_EXPORT_AS(sfy_dup);

int sfy_dup2(int oldfd, int newfd)
{
	const struct sfy_real *r = sfy_real();
	int rc, held;

	if (!r->dup2)
		return sfy_nosys();
	held = before_dup_onto(oldfd, newfd);
	rc = r->dup2(oldfd, newfd);
	if (rc >= 0 && oldfd != newfd)
		copied(oldfd, newfd);
	if (rc >= 0 && held >= 0)
		sfy_assoc_unref(held);
	return rc;
}

int dup2(int oldfd, int newfd) SFY_EXPORT_AS(sfy_dup2);

int sfy_dup3(int oldfd, int newfd, int flags)
{
	const struct sfy_real *r = sfy_real();
	int rc, held;

	if (!r->dup3)
		return sfy_nosys();
	held = before_dup_onto(oldfd, newfd);
	rc = r->dup3(oldfd, newfd, flags);
	if (rc >= 0)
		copied(oldfd, newfd);
	if (rc >= 0 && held >= 0)
		sfy_assoc_unref(held);
	return rc;
}

int dup3(int oldfd, int newfd, int flags) SFY_EXPORT_AS(sfy_dup3);

static int close_one_range(unsigned int lo, unsigned int hi, int flags)
{
	const struct sfy_real *r = sfy_real();
	int rc = r->close_range ? r->close_range(lo, hi, flags) :
		 r->syscall ? (int)r->syscall(SYS_close_range, lo, hi, flags) :
			      (errno = ENOSYS, -1);

	return rc < 0 ? -errno : 0;
}

/* close_range() over [lo, hi] minus the library's descriptors. */
static int close_gaps(unsigned int lo, unsigned int hi, int flags)
{
	int owned[SFY_ASSOC_MAX + 1], n, i, one, rc = 0;
	int logfd = sfy_log_own_fd();
	unsigned long long cur = lo, o;

	n = sfy_assoc_owned_in(lo, hi, owned, SFY_ASSOC_MAX);
	if (logfd >= 0 && (unsigned int)logfd >= lo && (unsigned int)logfd <= hi) {
		for (i = n; i > 0 && owned[i - 1] > logfd; i--)
			owned[i] = owned[i - 1];
		owned[i] = logfd;
		n++;
	}
	for (i = 0; i < n; i++) {
		o = (unsigned int)owned[i];
		if (o > cur) {
			one = close_one_range((unsigned int)cur,
					      (unsigned int)(o - 1), flags);
			if (one && !rc)
				rc = one;
		}
		cur = o + 1;
	}
	if (cur <= hi) {
		one = close_one_range((unsigned int)cur, hi, flags);
		if (one && !rc)
			rc = one;
	}
	return rc;
}

/* The state of the descriptors a sweep closes goes with them. */
static void forget_range(unsigned int lo, unsigned int hi)
{
	unsigned int lim = (unsigned int)sfy_fd_limit(), fd;
	int held;

	for (fd = lo; fd < lim && fd <= hi; fd++) {
		int kind = sfy_fd_kind((int)fd);

		if (kind != SFY_FD_TCP && kind != SFY_FD_UDP &&
		    kind != SFY_FD_DNS53)
			continue;
		held = udp_held((int)fd);
		sfy_fd_clear((int)fd);
		sfy_gss_forget((int)fd);
		if (held >= 0)
			sfy_assoc_unref(held);
	}
}

int sfy_close_range(unsigned int first, unsigned int last, int flags)
{
	int saved = errno, rc;

	if (first > last || (flags & CLOSE_RANGE_CLOEXEC)) { /* ours are */
		rc = close_one_range(first, last, flags);
		if (rc < 0) {
			errno = -rc;
			return -1;
		}
		return 0;
	}
	rc = close_gaps(first, last, flags);
	if (rc < 0) {
		errno = -rc;
		return -1;
	}
	forget_range(first, last);
	errno = saved;
	return 0;
}

int close_range(unsigned int first, unsigned int last, int flags)
	SFY_EXPORT_AS(sfy_close_range);

void closefrom(int lowfd)
{
	const struct sfy_real *r = sfy_real();
	int saved = errno;

	if (lowfd < 0)
		lowfd = 0;
	if (sfy_close_range((unsigned int)lowfd, ~0U, 0) < 0 && r->closefrom)
		r->closefrom(lowfd); /* a kernel without close_range */
	errno = saved;
}

/*
 * fcntl is variadic. Commands that take an int read an int; every other
 * command gets the next argument as a pointer, which is what glibc itself
 * does (for the commands without an argument the value is never used).
 */
static int dupfd(int (*real)(int, int, ...), int fd, int cmd, int arg)
{
	int rc = real(fd, cmd, arg);

	if (rc >= 0)
		duplicated(fd, rc);
	return rc;
}

int sfy_fcntl_dupfd(int fd, int cmd, int arg)
{
	const struct sfy_real *r = sfy_real();

	if (!r->fcntl)
		return sfy_nosys();
	return dupfd(r->fcntl, fd, cmd, arg);
}

static int fcntl_common(int (*real)(int, int, ...), int fd, int cmd,
			va_list ap)
{
	int arg;

	switch (cmd) {
	case F_DUPFD:
	case F_DUPFD_CLOEXEC:
		arg = va_arg(ap, int);
		return dupfd(real, fd, cmd, arg);
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
		return sfy_nosys();
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
		return sfy_nosys();
	va_start(ap, cmd);
	rc = fcntl_common(real, fd, cmd, ap);
	va_end(ap);
	return rc;
}
