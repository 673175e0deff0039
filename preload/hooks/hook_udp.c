/*
 * Datagrams out: sendto(), sendmsg(), sendmmsg() with an address, and
 * send(), write(), writev(), sendmsg() on a socket connected through the
 * proxy. Where a message with an address goes is the routing decision's
 * (route/decide.h; SOCKSIFY_UDP's rules in route/udp_policy.c): direct,
 * through the relay (udp/), refused, or, for a stream socket given
 * MSG_FASTOPEN and an address (TCP Fast Open), connected through the
 * chain first (tcp/) and the data then sent on it without the address.
 *
 * send()/write()/writev() are on every program's hot path: one relaxed
 * load (nothing ever associated) or two (its slot), then the real call.
 * Mid-handshake (tcp/async.h) the stream send paths answer EAGAIN.
 * On a GSSAPI-protected stream (tcp/gss_stream.h) every send path wraps
 * (an address given to sendto/sendmsg is ignored, as the kernel ignores
 * it on a connected TCP socket): one relaxed load for other descriptors.
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

/* A message's address length as sendmsg() takes it (not as sendto()):
 * 0, no address, for a NULL name or length 0; longer than
 * sockaddr_storage cut to it; a negative one left to the real call. */
static socklen_t name_len(const struct msghdr *m)
{
	if (!m->msg_name)
		return 0;
	if ((int)m->msg_namelen >= 0 &&
	    m->msg_namelen > sizeof(struct sockaddr_storage))
		return sizeof(struct sockaddr_storage);
	return m->msg_namelen;
}

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

	if (!r->sendto)
		return fail(-ENOSYS);
	if (!sa && sfy_async_gated(fd, &rc))
		return fail(rc);
	if (sfy_gss_of(fd) && sfy_gss_send1(fd, buf, n, flags, &rc))
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
		if (!sa && sfy_fd_maybe_dgram(fd)) {
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

	if (!r->sendmsg)
		return fail(-ENOSYS);
	if (!msg)
		return r->sendmsg(fd, msg, flags);
	namelen = name_len(msg);
	if (!namelen && sfy_async_gated(fd, &rc))
		return fail(rc);
	if (sfy_gss_of(fd) &&
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
		if (!namelen && sfy_fd_maybe_dgram(fd)) {
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

/* One message of a sendmmsg(): through the relay (*relay, route->info
 * its association), direct, or refused (-errno). */
static int mmsg_route(int fd, const struct msghdr *m, int flags,
		      struct sfy_route *route, bool *assoc_known, bool *relay)
{
	socklen_t namelen = name_len(m);
	enum sfy_addr_class cls;

	*relay = false;
	if (sfy_is_inet(m->msg_name, namelen)) {
		if (sfy_route_direct_addr(m->msg_name, namelen, &cls))
			return 0;
		switch (sfy_route_message(fd, m->msg_name, namelen, flags,
					  false, cls, route)) {
		case SFY_REFUSE:
			return route->err;
		case SFY_VIA_RELAY:
			*relay = true;
			return sfy_udp_assoc_ensure(fd, route);
		default:
			return 0;
		}
	}
	if (namelen)
		return 0;
	/* No address: connected through the proxy, or the kernel's. */
	if (!*assoc_known) {
		*assoc_known = true;
		if (sfy_assoc_of(fd, &route->info))
			route->info.kind = SFY_FD_NONE;
	}
	*relay = route->info.kind == SFY_FD_UDP;
	return 0;
}

/* sendmmsg() with a message to port 53 (a name server's, dns/dns53.h):
 * each message by sendmsg(), with sendmmsg()'s result (the count sent;
 * an error only when the first fails). Rare: no batching. */
static int one_by_one(int fd, struct mmsghdr *vec, unsigned int vlen,
		      int flags)
{
	unsigned int i;
	int saved = errno;
	ssize_t rc;

	for (i = 0; i < vlen; i++) {
		rc = sfy_sendmsg(fd, &vec[i].msg_hdr, flags);
		if (rc < 0)
			break;
		vec[i].msg_len = (unsigned int)rc;
	}
	if (i == 0)
		return -1;
	errno = saved;
	return (int)i;
}

#define BATCH 16
#define POOL 64

/*
 * The messages go out in batches of up to BATCH through the real
 * sendmmsg(), each relayed one with its header as an extra iovec taken
 * from a pool on the stack; a relayed message with more iovecs than the
 * pool holds goes alone through sendmsg(). As the kernel does, the count
 * of messages sent is returned, and an error only when the very first
 * message fails; msg_len is the program's payload length.
 */
int sfy_sendmmsg(int fd, struct mmsghdr *vec, unsigned int vlen, int flags)
{
	const struct sfy_real *r = sfy_real();
	struct sfy_route route;
	unsigned int i, done = 0, k, j;
	int saved = errno, rc = 0, sent;
	bool assoc_known = false, any = false, relay;

	if (!r->sendmmsg)
		return (int)fail(-ENOSYS);
	if (!vec || sfy_inside() || !sfy_config()->enabled)
		return r->sendmmsg(fd, vec, vlen, flags);
	if (vlen > UIO_MAXIOV)
		vlen = UIO_MAXIOV; /* the kernel sends no more either */
	if (vlen && sfy_gss_of(fd)) {
		rc = sfy_gss_sendmmsg(fd, vec, vlen, flags);
		return rc < 0 ? (int)fail(rc) : rc;
	}
	for (i = 0; i < vlen && !any; i++)
		any = sfy_is_inet(vec[i].msg_hdr.msg_name,
				  name_len(&vec[i].msg_hdr)) ||
		      (!name_len(&vec[i].msg_hdr) && sfy_fd_maybe_dgram(fd));
	if (!any)
		return r->sendmmsg(fd, vec, vlen, flags);
	for (i = 0; i < vlen; i++)
		if (sfy_dns53_port(vec[i].msg_hdr.msg_name,
				   name_len(&vec[i].msg_hdr)) ||
		    (!name_len(&vec[i].msg_hdr) &&
		     sfy_fd_kind(fd) == SFY_FD_DNS53))
			return one_by_one(fd, vec, vlen, flags);
	memset(&route.info, 0, sizeof(route.info));
	route.type = -1;
	while (done < vlen && rc >= 0) {
		struct mmsghdr batch[BATCH];
		uint8_t hdr[BATCH][SOCKS5_UDP_HEADER_MAX];
		size_t hlen[BATCH], used = 0;
		struct iovec pool[POOL];
		struct sfy_assoc *a = NULL;
		struct sfy_assoc_dyn d;
		bool is_name, named;

		for (k = 0; k < BATCH && done + k < vlen; k++) {
			const struct msghdr *m = &vec[done + k].msg_hdr;
			size_t n = m->msg_iovlen;

			rc = mmsg_route(fd, m, flags, &route, &assoc_known,
					&relay);
			if (rc < 0)
				break;
			batch[k] = vec[done + k];
			hlen[k] = 0;
			if (!relay)
				continue;
			a = sfy_assoc_at(route.info.assoc);
			sfy_assoc_dyn_read(a, &d);
			named = name_len(m) != 0;
			if (!named && !d.conn)
				continue; /* not via the proxy: as it is */
			if (named)
				rc = sfy_udp_header(m->msg_name, name_len(m),
						    hdr[k], &hlen[k], &is_name);
			else
				memcpy(hdr[k], d.conn_hdr,
				       hlen[k] = d.conn_hlen);
			if (rc < 0)
				break;
			if (n + 1 > POOL - used || a->gss) { /* GSSAPI: 1 by 1 */
				if (k > 0)
					break; /* send what we have first */
				sent = (int)sfy_udp_relay_send(
					fd, a, d.conn && !named, hdr[0],
					hlen[0], m, flags);
				if (sent < 0) {
					rc = sent;
					break;
				}
				vec[done].msg_len = (unsigned int)sent;
				done++;
				/* The batch starts again after it (the
				 * loop's k++ makes k 0). */
				k = (unsigned int)-1;
				continue;
			}
			rc = sfy_udp_prepare(a, hdr[k], hlen[k], m, flags,
					     pool + used, NULL);
			if (rc < 0)
				break;
			batch[k].msg_hdr.msg_iov = pool + used;
			batch[k].msg_hdr.msg_iovlen = n + 1;
			batch[k].msg_hdr.msg_name = d.conn && !named ?
							    NULL : &a->relay;
			batch[k].msg_hdr.msg_namelen =
				d.conn && !named ? 0 : a->relay_len;
			used += n + 1;
		}
		if (k == 0)
			continue; /* nothing batched: refused, or all sent */
		if (a) {
			int dead = sfy_assoc_check(a);

			if (dead) {
				rc = dead;
				break;
			}
		}
		errno = saved;
		sent = r->sendmmsg(fd, batch, k, flags);
		if (sent < 0) {
			rc = -errno;
			break;
		}
		for (j = 0; j < (unsigned int)sent; j++)
			vec[done + j].msg_len = batch[j].msg_len >= hlen[j] ?
				batch[j].msg_len - (unsigned int)hlen[j] : 0;
		done += (unsigned int)sent;
		if ((unsigned int)sent < k)
			break;
	}
	if (done == 0 && rc < 0)
		return (int)fail(rc);
	errno = saved;
	return (int)done;
}

ssize_t sendto(int fd, const void *buf, size_t n, int flags,
	       const struct sockaddr *sa, socklen_t len) SFY_EXPORT_AS(sfy_sendto);
ssize_t sendmsg(int fd, const struct msghdr *msg, int flags)
	SFY_EXPORT_AS(sfy_sendmsg);
int sendmmsg(int fd, struct mmsghdr *vec, unsigned int vlen, int flags)
	SFY_EXPORT_AS(sfy_sendmmsg);
