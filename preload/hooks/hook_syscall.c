/*
 * syscall(): some libraries reach the socket calls by number rather than
 * by name (libuv before 1.45, under dig and friends, sends and receives
 * datagrams with syscall(SYS_sendmmsg / SYS_recvmmsg, ...)). connect and
 * the sends (sendto, sendmsg, sendmmsg) by number go to the same code as
 * the named calls, whatever the descriptor: a destination address is
 * proxied, relayed or refused there, never sent direct (issue 18). The
 * receives (recvfrom, recvmsg, recvmmsg) go to the named hooks too: a
 * relayed UDP socket's datagrams, the port-53 answerer's source shown as
 * the name server's (dns/dns53.h), SCM_RIGHTS. listen, bind, accept and
 * accept4 go to theirs: a socket listening for a connection back from a
 * proxied host is served by BIND at the proxy (tcp/bind.h). io_uring_setup is refused unless allowed
 * (route/decide.c says why); execve and execveat follow the exec rule
 * (hook_exec.c). The waits, epoll_ctl and getsockopt by number go to
 * their hooks while a handshake runs in the program's waits
 * (tcp/async.h). Everything else goes to the real syscall()
 * unchanged.
 *
 * The calls that change which descriptor a number names (close,
 * close_range, dup, dup2, dup3, fcntl F_DUPFD / F_DUPFD_CLOEXEC) go to the
 * same code as the named ones (hook_fd.c), whatever the descriptor: the
 * per-descriptor table, the UDP associations' references and the
 * library's own descriptors (log file, control connections) must follow
 * the program's descriptors however it changes them. The calls that make
 * sockets (socket, socketpair, accept, accept4, recvmsg with SCM_RIGHTS)
 * drop state left on the new numbers, as their hooks do: the UDP data
 * path trusts the table, and a TCP socket on a number a dead relayed UDP
 * socket left behind would have its bytes taken for datagrams.
 *
 * fork, vfork, clone and clone3 by number are noted (state/vfork.h),
 * then made as they are: their children do not run the pthread_atfork
 * handlers, so the table treats them as vfork children (the bookkeeping
 * changes nothing there), which is safe.
 *
 * syscall() is variadic and takes up to six arguments; like glibc's own
 * implementation we pass on six, whatever the caller gave (the extra
 * ones are registers the kernel ignores for that call). Every other
 * system call costs one switch on its number (a few compares and a bit
 * test, no load).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "base/realfn.h"
#include "hooks/hooks.h"
#include "route/decide.h"
#include "state/fdstate.h"
#include "state/sockhint.h"
#include "state/vfork.h"
#include "tcp/async.h"

enum route {
	ROUTE_NONE,       /* the real syscall(), nothing else */
	ROUTE_DESCRIPTOR, /* hook_fd.c's bookkeeping must see it */
	ROUTE_DATAGRAM,   /* the receives: the named hooks */
	ROUTE_OUT,        /* connect and the sends: the named hooks decide */
	ROUTE_IO_URING,   /* refused unless allowed (route/decide.c) */
	ROUTE_WAIT,       /* the waits, while handshakes run (tcp/async.h) */
	ROUTE_EXEC,       /* the exec rule (hook_exec.c) */
	ROUTE_CHILD,      /* a child without atfork handlers (vfork.h) */
};

/* One switch, so that every other number costs one decision tree. */
static enum route route_of(long n)
{
	switch (n) {
	case SYS_close:
	case SYS_dup:
#ifdef SYS_dup2
	case SYS_dup2:
#endif
	case SYS_dup3:
	case SYS_fcntl:
	case SYS_socket:
	case SYS_socketpair:
	case SYS_accept:
	case SYS_accept4:
	case SYS_listen:
	case SYS_bind:
#ifdef SYS_close_range
	case SYS_close_range:
#endif
		return ROUTE_DESCRIPTOR;
	case SYS_connect:
	case SYS_sendmmsg:
	case SYS_sendmsg:
	case SYS_sendto:
		return ROUTE_OUT;
	case SYS_recvmmsg:
	case SYS_recvmsg:
	case SYS_recvfrom:
		return ROUTE_DATAGRAM;
#ifdef SYS_io_uring_setup
	case SYS_io_uring_setup:
		return ROUTE_IO_URING;
#endif
#ifdef SYS_poll
	case SYS_poll:
#endif
#ifdef SYS_select
	case SYS_select:
#endif
#ifdef SYS_epoll_wait
	case SYS_epoll_wait:
#endif
#ifdef SYS_epoll_pwait2
	case SYS_epoll_pwait2:
#endif
	case SYS_ppoll:
	case SYS_pselect6:
	case SYS_epoll_pwait:
	case SYS_epoll_ctl:
	case SYS_getsockopt:
		return ROUTE_WAIT;
	case SYS_execve:
	case SYS_execveat:
		return ROUTE_EXEC;
#ifdef SYS_fork
	case SYS_fork:
#endif
#ifdef SYS_vfork
	case SYS_vfork:
#endif
#ifdef SYS_clone3
	case SYS_clone3:
#endif
	case SYS_clone:
		return ROUTE_CHILD;
	default:
		return ROUTE_NONE;
	}
}

/* The waits, epoll_ctl and getsockopt by number, when a handshake runs
 * in the program's waits (or epoll_ctl of a stream socket our socket()
 * made): the named hooks. The raw forms' extra arguments (the signal
 * set's size, pselect6's pair) are checked as the kernel would. -2: not
 * taken here, make the real call. */
static long wait_route(long n, const long *a)
{
	const sigset_t *mask;

	if (n == SYS_epoll_ctl)
		return sfy_hint_stream((int)a[2]) || !sfy_async_none() ?
			       sfy_epoll_ctl((int)a[0], (int)a[1], (int)a[2],
					     (struct epoll_event *)a[3]) :
			       -2;
	if (sfy_async_none() || sfy_inside())
		return -2;
	switch (n) {
#ifdef SYS_poll
	case SYS_poll:
		return sfy_poll((struct pollfd *)a[0], (unsigned long)a[1],
				(int)a[2]);
#endif
#ifdef SYS_select
	case SYS_select:
		return sfy_select((int)a[0], (fd_set *)a[1], (fd_set *)a[2],
				  (fd_set *)a[3], (struct timeval *)a[4]);
#endif
#ifdef SYS_epoll_wait
	case SYS_epoll_wait:
		return sfy_epoll_wait((int)a[0], (struct epoll_event *)a[1],
				      (int)a[2], (int)a[3]);
#endif
#ifdef SYS_epoll_pwait2
	case SYS_epoll_pwait2:
		if (a[4] && a[5] != 8)
			return -2; /* the kernel's EINVAL */
		return sfy_epoll_pwait2((int)a[0], (struct epoll_event *)a[1],
					(int)a[2], (const struct timespec *)a[3],
					(const sigset_t *)a[4]);
#endif
	case SYS_ppoll:
		if (a[3] && a[4] != 8)
			return -2;
		return sfy_ppoll((struct pollfd *)a[0], (unsigned long)a[1],
				 (const struct timespec *)a[2],
				 (const sigset_t *)a[3]);
	case SYS_pselect6:
		/* the sixth: { const sigset_t *set; size_t size } or NULL */
		mask = a[5] ? *(const sigset_t *const *)a[5] : NULL;
		if (mask && ((const size_t *)a[5])[1] != 8)
			return -2;
		return sfy_pselect((int)a[0], (fd_set *)a[1], (fd_set *)a[2],
				   (fd_set *)a[3], (const struct timespec *)a[4],
				   mask);
	case SYS_epoll_pwait:
		if (a[4] && a[5] != 8)
			return -2;
		return sfy_epoll_pwait((int)a[0], (struct epoll_event *)a[1],
				       (int)a[2], (int)a[3],
				       (const sigset_t *)a[4]);
	default: /* SYS_getsockopt */
		return sfy_getsockopt((int)a[0], (int)a[1], (int)a[2],
				      (void *)a[3], (socklen_t *)a[4]);
	}
}

/* The kernel reads these arguments as unsigned int / int: so do we. */
static long descriptor_route(long n, const long *a)
{
	const struct sfy_real *r = sfy_real();
	int cmd = (int)a[1], *sv;
	long rc;

	switch (n) {
	case SYS_socket: /* also refused as socket() refuses (sockkind.h) */
		return sfy_socket((int)a[0], (int)a[1], (int)a[2]);
	case SYS_close:
		return sfy_close((int)a[0]);
	case SYS_dup:
		return sfy_dup((int)a[0]);
#ifdef SYS_dup2
	case SYS_dup2:
		return sfy_dup2((int)a[0], (int)a[1]);
#endif
	case SYS_dup3:
		return sfy_dup3((int)a[0], (int)a[1], (int)a[2]);
#ifdef SYS_close_range
	case SYS_close_range:
		return sfy_close_range((unsigned int)a[0], (unsigned int)a[1],
				       (int)a[2]);
#endif
	case SYS_fcntl:
		if (cmd == F_DUPFD || cmd == F_DUPFD_CLOEXEC)
			return sfy_fcntl_dupfd((int)a[0], cmd, (int)a[2]);
		break;
	case SYS_accept:
		return sfy_accept((int)a[0], (struct sockaddr *)a[1],
				  (socklen_t *)a[2]);
	case SYS_accept4:
		return sfy_accept4((int)a[0], (struct sockaddr *)a[1],
				   (socklen_t *)a[2], (int)a[3]);
	case SYS_listen:
		return sfy_listen((int)a[0], (int)a[1]);
	case SYS_bind:
		return sfy_bind((int)a[0], (const struct sockaddr *)a[1],
				(socklen_t)a[2]);
	}
	if (!r->syscall) {
		errno = ENOSYS;
		return -1;
	}
	rc = r->syscall(n, a[0], a[1], a[2], a[3], a[4], a[5]);
	if (rc < 0 || n != SYS_socketpair)
		return rc;
	sv = (int *)a[3];
	sfy_fd_made(sv[0], false);
	sfy_fd_made(sv[1], false);
	return rc;
}

/* connect() and the sends by number are the named calls: proxied,
 * relayed or refused exactly as they are (a destination address is
 * decided there, whatever the socket), and passed on unchanged when the
 * hook would pass them. */
static long out_route(long n, const long *a)
{
	int fd = (int)a[0];

	switch (n) {
	case SYS_connect:
		return sfy_connect(fd, (const struct sockaddr *)a[1],
				   (socklen_t)a[2]);
	case SYS_sendmmsg:
		return sfy_sendmmsg(fd, (struct mmsghdr *)a[1],
				    (unsigned int)a[2], (int)a[3]);
	case SYS_sendmsg:
		return sfy_sendmsg(fd, (const struct msghdr *)a[1], (int)a[2]);
	default: /* SYS_sendto */
		return sfy_sendto(fd, (const void *)a[1], (size_t)a[2],
				  (int)a[3], (const struct sockaddr *)a[4],
				  (socklen_t)a[5]);
	}
}

/* The sixth argument comes from the caller's stack whether it passed one
 * or not (glibc's syscall does the same read): with fewer arguments that
 * slot is the caller's own frame, which AddressSanitizer would flag. */
__attribute__((no_sanitize_address)) long syscall(long n, ...)
{
	const struct sfy_real *r = sfy_real();
	enum route route;
	long a[6];
	va_list ap;
	int i;

	va_start(ap, n);
	for (i = 0; i < 6; i++)
		a[i] = va_arg(ap, long);
	va_end(ap);
	route = route_of(n);
	if (__builtin_expect(route == ROUTE_DESCRIPTOR, 0))
		return descriptor_route(n, a);
	if (route == ROUTE_OUT)
		return out_route(n, a);
	if (route == ROUTE_WAIT) {
		long rc = wait_route(n, a);

		if (rc != -2)
			return rc;
	}
	if (route == ROUTE_CHILD)
		sfy_vfork_note();
	if (route == ROUTE_EXEC)
		return n == SYS_execve ?
			       sfy_execve((const char *)a[0], (char *const *)a[1],
					  (char *const *)a[2]) :
			       sfy_execveat((int)a[0], (const char *)a[1],
					    (char *const *)a[2],
					    (char *const *)a[3], (int)a[4]);
	if (route == ROUTE_IO_URING) {
		struct sfy_route rt;

		if (sfy_route_io_uring(&rt) == SFY_REFUSE) {
			errno = -rt.err;
			return -1;
		}
	}
	if (route == ROUTE_DATAGRAM) {
		int fd = (int)a[0];

		switch (n) {
		case SYS_recvmmsg:
			return sfy_recvmmsg(fd, (struct mmsghdr *)a[1],
					(unsigned int)a[2], (int)a[3],
					(struct timespec *)a[4]);
		case SYS_recvmsg:
			return sfy_recvmsg(fd, (struct msghdr *)a[1], (int)a[2]);
		default: /* SYS_recvfrom */
			return sfy_recvfrom(fd, (void *)a[1], (size_t)a[2], (int)a[3],
					(struct sockaddr *)a[4],
					(socklen_t *)a[5]);
		}
	}
	if (!r->syscall) {
		errno = ENOSYS;
		return -1;
	}
	return r->syscall(n, a[0], a[1], a[2], a[3], a[4], a[5]);
}
