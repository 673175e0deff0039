/*
 * syscall(): some libraries reach the socket calls by number rather than
 * by name (libuv before 1.45, under dig and friends, sends and receives
 * datagrams with syscall(SYS_sendmmsg / SYS_recvmmsg, ...)). On a UDP
 * socket with an association those must go through the relay like the
 * named calls, so the datagram calls are routed to our hooks when their
 * descriptor is an associated UDP socket; everything else goes to the
 * real syscall() unchanged.
 *
 * syscall() is variadic and takes up to six arguments; like glibc's own
 * implementation we pass on six, whatever the caller gave (the extra
 * ones are registers the kernel ignores for that call). The check costs
 * a compare of the number for every other system call.
 */
#include <errno.h>
#include <stdarg.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "fdstate.h"
#include "realfn.h"

static bool datagram_call(long n)
{
	switch (n) {
	case SYS_sendmmsg:
	case SYS_recvmmsg:
	case SYS_sendmsg:
	case SYS_recvmsg:
	case SYS_sendto:
	case SYS_recvfrom:
		return true;
	default:
		return false;
	}
}

long syscall(long n, ...)
{
	const struct sfy_real *r = sfy_real();
	long a[6];
	va_list ap;
	int i;

	va_start(ap, n);
	for (i = 0; i < 6; i++)
		a[i] = va_arg(ap, long);
	va_end(ap);
	if (datagram_call(n) && sfy_fd_maybe_udp((int)a[0])) {
		int fd = (int)a[0];

		switch (n) {
		case SYS_sendmmsg:
			return sendmmsg(fd, (struct mmsghdr *)a[1],
					(unsigned int)a[2], (int)a[3]);
		case SYS_recvmmsg:
			return recvmmsg(fd, (struct mmsghdr *)a[1],
					(unsigned int)a[2], (int)a[3],
					(struct timespec *)a[4]);
		case SYS_sendmsg:
			return sendmsg(fd, (const struct msghdr *)a[1], (int)a[2]);
		case SYS_recvmsg:
			return recvmsg(fd, (struct msghdr *)a[1], (int)a[2]);
		case SYS_sendto:
			return sendto(fd, (const void *)a[1], (size_t)a[2],
				      (int)a[3], (const struct sockaddr *)a[4],
				      (socklen_t)a[5]);
		case SYS_recvfrom:
			return recvfrom(fd, (void *)a[1], (size_t)a[2], (int)a[3],
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
