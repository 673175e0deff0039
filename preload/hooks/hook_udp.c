/*
 * Datagrams out: sendto(), sendmsg() with an address (sendmmsg():
 * hook_sendmmsg.c), and
 * send(), write(), writev(), sendmsg() on a socket connected through the
 * proxy. Where a message with an address goes is the routing decision's
 * (route/decide.h; SOCKSIFY_UDP's rules in route/udp_policy.c): direct,
 * through the relay (udp/), refused, or, for a stream socket given
 * MSG_FASTOPEN and an address (TCP Fast Open), connected through the
 * chain first (tcp/) and the data then sent on it without the address.
 *
 * send()/write()/writev() (and sendto/sendmsg without an address) are on
 * every program's hot path: one check, sfy_fd_plain_io (state/fdstate.h:
 * one relaxed load while no descriptor ever had a special data path,
 * else one load of its slot), then the real call. Only a descriptor
 * marked special asks the modules: mid-handshake (tcp/async.h) the
 * stream send paths answer EAGAIN; on a GSSAPI-protected stream
 * (tcp/gss_stream.h) every send path wraps (an address given to
 * sendto/sendmsg is ignored, as the kernel ignores it on a connected TCP
 * socket); an association or a name-server socket sends through udp/.
 */
#include <errno.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/uio.h>
#include <unistd.h>

#include "base/config.h"
#include "base/realfn.h"
#include "dns/dns53.h"
#include "hooks/hooks.h"
#include "route/decide.h"
#include "tcp/async.h"
#include "tcp/gss_stream.h"
#include "tcp/tcp.h"
#include "udp/udp_io.h"

static ssize_t fail(ssize_t rc)
{
	errno = (int)-rc;
	return -1;
}

/* A send without an address on an associated socket (send, write,
 * writev, sendmsg, sendto with no address). *handled 0: make the real
 * call. */
static ssize_t connected_send(int fd, const struct iovec *iov, int iovcnt,
			      const struct msghdr *msg, int flags,
			      int *handled)
{
	struct sfy_fd_info info;
	struct msghdr m;
	ssize_t rc;

	*handled = 0;
	if (sfy_inside())
		return 0;
	if (!msg) {
		memset(&m, 0, sizeof(m));
		m.msg_iov = (struct iovec *)iov;
		m.msg_iovlen = (size_t)iovcnt;
		msg = &m;
	}
	if (sfy_assoc_of(fd, &info)) /* connected to a name server? */
		return sfy_dns53_send_connected(fd, msg, flags, handled);
	rc = sfy_udp_send_connected(fd, &info, msg, flags, handled);
	if (rc == -ENOTSOCK) {
		/* The number no longer names the socket we knew (closed where
		 * we could not see, and reused): the real call answers. */
		sfy_fd_drop_stale(fd);
		*handled = 0;
	}
	return rc;
}

/* A message with an address that the decision did not send direct:
 * Fast Open through the chain (connected now: the caller sends without
 * the address), or the relay (its association made). 0 or -errno. */
static int routed(int fd, const struct sockaddr *sa, socklen_t len,
		  struct sfy_route *route)
{
	int saved = errno, rc;

	if (route->verdict == SFY_REFUSE)
		return route->err;
	if (route->verdict == SFY_VIA_CHAIN)
		rc = sfy_tcp_connect_via(fd, sa, len, route);
	else
		rc = sfy_udp_assoc_ensure(fd, route);
	errno = saved;
	return rc;
}

ssize_t sfy_sendto(int fd, const void *buf, size_t n, int flags,
		   const struct sockaddr *sa, socklen_t len)
{
	const struct sfy_real *r = sfy_real();
	struct iovec iov = { .iov_base = (void *)buf, .iov_len = n };
	struct sfy_route route;
	struct msghdr m;
	int handled;
	enum sfy_addr_class cls;
	ssize_t rc;
	bool plain;

	if (!r->sendto)
		return fail(-ENOSYS);
	plain = sfy_fd_plain_io(fd);
	if (plain && !sa)
		return r->sendto(fd, buf, n, flags, sa, len);
	if (!plain && !sa && sfy_async_gated(fd, &rc))
		return fail(rc);
	if (!plain && sfy_gss_of(fd) && sfy_gss_send1(fd, buf, n, flags, &rc))
		return rc < 0 ? fail(rc) : rc;
	if (sfy_dns53_port(sa, len)) {
		memset(&m, 0, sizeof(m));
		m.msg_iov = &iov;
		m.msg_iovlen = 1;
		m.msg_name = (void *)sa;
		m.msg_namelen = len;
		if (sfy_dns53_sendmsg(fd, &m, flags, &rc))
			return rc < 0 ? fail(rc) : rc;
	}
	route.type = -1;
	if (sfy_route_direct_addr(sa, len, &cls) ||
	    sfy_route_message(fd, sa, len, flags, true, cls, &route) ==
		    SFY_DIRECT) {
		if (!sa && !plain && sfy_fd_maybe_dgram(fd)) {
			rc = connected_send(fd, &iov, 1, NULL,
					    SFY_NO_CMSG_COMPAT(flags),
					    &handled);
			if (handled)
				return rc < 0 ? fail(rc) : rc;
		}
		return r->sendto(fd, buf, n, flags, sa, len);
	}
	rc = routed(fd, sa, len, &route);
	if (rc < 0)
		return fail(rc);
	if (route.verdict == SFY_VIA_CHAIN)
		return r->sendto(fd, buf, n, flags & ~MSG_FASTOPEN, NULL, 0);
	memset(&m, 0, sizeof(m));
	m.msg_iov = &iov;
	m.msg_iovlen = 1;
	rc = sfy_udp_send_to(fd, &route.info, sa, len, &m,
			     SFY_NO_CMSG_COMPAT(flags));
	if (rc == -ENOTSOCK) {
		sfy_fd_drop_stale(fd);
		return r->sendto(fd, buf, n, flags, sa, len);
	}
	return rc < 0 ? fail(rc) : rc;
}

ssize_t send(int fd, const void *buf, size_t n, int flags)
{
	const struct sfy_real *r = sfy_real();
	struct iovec iov = { .iov_base = (void *)buf, .iov_len = n };
	int handled;
	ssize_t rc;

	if (!r->send)
		return fail(-ENOSYS);
	if (sfy_fd_plain_io(fd))
		return r->send(fd, buf, n, flags);
	if (sfy_async_gated(fd, &rc))
		return fail(rc);
	if (sfy_gss_of(fd) && sfy_gss_send1(fd, buf, n, flags, &rc))
		return rc < 0 ? fail(rc) : rc;
	if (sfy_fd_maybe_dgram(fd)) {
		rc = connected_send(fd, &iov, 1, NULL,
				    SFY_NO_CMSG_COMPAT(flags), &handled);
		if (handled)
			return rc < 0 ? fail(rc) : rc;
	}
	return r->send(fd, buf, n, flags);
}

/* Out of line, so that write() itself is a load, a test and a tail
 * call for every descriptor that is not an associated UDP socket (no
 * registers to save for a path it does not take). */
static __attribute__((noinline)) ssize_t write_udp(int fd, const void *buf,
						   size_t n)
{
	const struct sfy_real *r = sfy_real();
	struct iovec iov = { .iov_base = (void *)buf, .iov_len = n };
	int handled;
	ssize_t rc;

	rc = connected_send(fd, &iov, 1, NULL, 0, &handled);
	if (handled)
		return rc < 0 ? fail(rc) : rc;
	return r->write(fd, buf, n);
}

/* Before the table is there, or once the process has associations. */
static __attribute__((noinline)) ssize_t write_slow(int fd, const void *buf,
						    size_t n)
{
	const struct sfy_real *r = sfy_real();
	ssize_t rc;

	if (!r->write)
		return fail(-ENOSYS);
	if (sfy_fd_plain_io(fd))
		return r->write(fd, buf, n);
	if (sfy_async_gated(fd, &rc))
		return fail(rc);
	if (sfy_gss_of(fd) && sfy_gss_send1(fd, buf, n, 0, &rc))
		return rc < 0 ? fail(rc) : rc;
	if (sfy_fd_maybe_dgram(fd))
		return write_udp(fd, buf, n);
	return r->write(fd, buf, n);
}

/* Every write() of every program: two loads, two tests, a jump. */
ssize_t write(int fd, const void *buf, size_t n)
{
	ssize_t (*real)(int, const void *, size_t) = SFY_REAL_FAST(write);

	if (__builtin_expect(real && sfy_fd_no_udp_yet(), 1))
		return real(fd, buf, n);
	return write_slow(fd, buf, n);
}

ssize_t writev(int fd, const struct iovec *iov, int iovcnt)
{
	const struct sfy_real *r = sfy_real();
	int handled;
	ssize_t rc;

	if (!r->writev)
		return fail(-ENOSYS);
	if (sfy_fd_plain_io(fd))
		return r->writev(fd, iov, iovcnt);
	if (sfy_async_gated(fd, &rc))
		return fail(rc);
	if (iovcnt >= 0 && iovcnt <= UIO_MAXIOV &&
	    sfy_gss_of(fd) && sfy_gss_send(fd, iov, iovcnt, 0, &rc))
		return rc < 0 ? fail(rc) : rc;
	/* More than IOV_MAX: the real call's EINVAL (not EMSGSIZE). */
	if (sfy_fd_maybe_dgram(fd) && iovcnt >= 0 && iovcnt <= UIO_MAXIOV) {
		rc = connected_send(fd, iov, iovcnt, NULL, 0, &handled);
		if (handled)
			return rc < 0 ? fail(rc) : rc;
	}
	return r->writev(fd, iov, iovcnt);
}

ssize_t sfy_sendmsg(int fd, const struct msghdr *msg, int flags)
{
	const struct sfy_real *r = sfy_real();
	struct sfy_route route;
	struct msghdr copy;
	int handled;
	enum sfy_addr_class cls;
	socklen_t namelen;
	ssize_t rc;
	bool plain;

	if (!r->sendmsg)
		return fail(-ENOSYS);
	if (!msg)
		return r->sendmsg(fd, msg, flags);
	namelen = sfy_msg_name_len(msg);
	plain = sfy_fd_plain_io(fd);
	if (plain && !namelen)
		return r->sendmsg(fd, msg, flags);
	if (!plain && !namelen && sfy_async_gated(fd, &rc))
		return fail(rc);
	if (!plain && sfy_gss_of(fd) &&
	    sfy_gss_send(fd, msg->msg_iov, (int)msg->msg_iovlen, flags, &rc))
		return rc < 0 ? fail(rc) : rc;
	if (sfy_dns53_port(msg->msg_name, namelen)) {
		copy = *msg;
		copy.msg_namelen = namelen;
		if (sfy_dns53_sendmsg(fd, &copy, flags, &rc))
			return rc < 0 ? fail(rc) : rc;
	}
	route.type = -1;
	if (sfy_route_direct_addr(msg->msg_name, namelen, &cls) ||
	    sfy_route_message(fd, msg->msg_name, namelen, flags, true, cls,
			      &route) == SFY_DIRECT) {
		if (!namelen && !plain && sfy_fd_maybe_dgram(fd)) {
			rc = connected_send(fd, NULL, 0, msg, flags, &handled);
			if (handled)
				return rc < 0 ? fail(rc) : rc;
		}
		return r->sendmsg(fd, msg, flags);
	}
	rc = routed(fd, msg->msg_name, namelen, &route);
	if (rc < 0)
		return fail(rc);
	if (route.verdict == SFY_VIA_CHAIN) {
		copy = *msg;
		copy.msg_name = NULL;
		copy.msg_namelen = 0;
		return r->sendmsg(fd, &copy, flags & ~MSG_FASTOPEN);
	}
	rc = sfy_udp_send_to(fd, &route.info, msg->msg_name, namelen, msg,
			     flags);
	if (rc == -ENOTSOCK) {
		sfy_fd_drop_stale(fd);
		return r->sendmsg(fd, msg, flags);
	}
	return rc < 0 ? fail(rc) : rc;
}

ssize_t sendto(int fd, const void *buf, size_t n, int flags,
	       const struct sockaddr *sa, socklen_t len) SFY_EXPORT_AS(sfy_sendto);
ssize_t sendmsg(int fd, const struct msghdr *msg, int flags)
	SFY_EXPORT_AS(sfy_sendmsg);
