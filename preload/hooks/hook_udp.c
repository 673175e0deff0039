/*
 * Datagrams out: sendto(), sendmsg(), sendmmsg() with an address,
 * connect() of a datagram socket (from hook_connect.c), and send(),
 * write(), writev(), sendmsg() on a socket connected through the proxy.
 *
 * SOCKSIFY_UDP decides for proxied destinations:
 *   proxy      through the proxy's UDP relay (UDP ASSOCIATE, udp_assoc.c),
 *              made on the socket's first datagram or connect();
 *   first-hop  the same through the first hop when a chain is configured.
 *              With a chain and "proxy", UDP is refused (ENETUNREACH) with
 *              a line saying why: a hop's relay is reachable by UDP only
 *              from the hop before it, so no chain carries UDP, and going
 *              out at the first hop is the user's choice to make;
 *   direct     the datagram goes out as it is;
 *   block      it fails with ENETUNREACH and a warn line.
 * A fake address (remote DNS) can only be reached through the relay: it
 * goes there unless UDP is blocked (or a chain refuses it).
 * Bypassed destinations (SOCKSIFY_NO_PROXY, loopback by default) and DNS
 * to a loopback resolver (127.0.0.53:53...) always go out direct.
 *
 * send()/write()/writev() are on every program's hot path: one relaxed
 * load (nothing ever associated) or two (its slot), then the real call.
 *
 * MSG_FASTOPEN with an address on a stream socket: connected through the
 * proxy first. Raw, ICMP, UDP-Lite sockets: route/sockkind.h. Warnings:
 * the first few at warn, the rest at debug (chatty programs).
 */
#include <errno.h>
#include <netinet/in.h>
#include <stdatomic.h>
#include <string.h>
#include <sys/uio.h>
#include <unistd.h>

#include "base/config.h"
#include "base/log.h"
#include "base/realfn.h"
#include "dns/fakeip.h"
#include "hooks/hooks.h"
#include "route/policy.h"
#include "route/sockkind.h"
#include "udp/udp_io.h"

#define WARN_LIMIT 8
#define VIA_RELAY SFY_UDP_VIA_RELAY

static atomic_int warned;

static void refuse_log(const struct sockaddr *sa, socklen_t len,
		       const char *why)
{
	char shown[SOCKS5_DOMAIN_MAX + 16];
	struct socks5_addr a;
	int level = atomic_fetch_add(&warned, 1) < WARN_LIMIT ? SFY_LOG_WARN :
								  SFY_LOG_DEBUG;

	if (level > sfy_log_level())
		return;
	if (socks5_addr_from_sockaddr(&a, sa, len) == SOCKS5_OK)
		socks5_addr_format(&a, shown, sizeof(shown));
	else
		strcpy(shown, "?");
	sfy_log_write(level, "UDP to %s refused: %s", shown, why);
}

static int sock_family(int fd)
{
	int d = AF_UNSPEC;
	socklen_t l = sizeof(d);

	return getsockopt(fd, SOL_SOCKET, SO_DOMAIN, &d, &l) < 0 ? -errno : d;
}

/* A datagram (or Fast Open) to sa on fd. *type caches the socket's type
 * (-1: not asked yet). SFY_PASS, 0 (a Fast Open stream now connected
 * through the proxy: send without the address), VIA_RELAY with *info
 * holding fd's association, or -errno. */
static int route(int fd, const struct sockaddr *sa, socklen_t len, int flags,
		 bool may_connect, int *type, struct sfy_fd_info *info)
{
	const char *why = NULL;
	int rc, fam;

	/* Decide on the address first: most destinations pass without a
	 * system call to learn the socket's type. */
	rc = sfy_udp_verdict(sa, &why); /* route/udp_policy.c */
	if (rc == SFY_PASS && !(flags & MSG_FASTOPEN) &&
	    !sfy_udp_direct_by_choice(sa))
		return rc;
	if (rc == VIA_RELAY && sfy_assoc_of(fd, info) == 0)
		/* associated already: no question left but the family (an
		 * AF_INET socket is refused an IPv6 address by the kernel) */
		return info->family == AF_INET && sa->sa_family != AF_INET ?
			       SFY_PASS : rc;
	if (*type < 0 && sfy_sock_type(fd, type))
		return SFY_PASS; /* the real call reports EBADF / ENOTSOCK */
	if (*type != SOCK_STREAM && (fam = sfy_unproxied_send(fd, *type, sa, len)))
		return fam; /* raw, ICMP, UDP-Lite (route/sockkind.h) */
	if (*type == SOCK_STREAM && (flags & MSG_FASTOPEN))
		return may_connect ? sfy_tcp_connect(fd, sa, len) :
		       rc == SFY_PASS ? rc : -EOPNOTSUPP;
	if (rc == SFY_PASS || *type != SOCK_DGRAM)
		return SFY_PASS; /* a connected stream ignores the address */
	if (rc < 0) {
		refuse_log(sa, len, why);
		return rc;
	}
	fam = sock_family(fd);
	if ((fam != AF_INET && fam != AF_INET6) ||
	    (fam == AF_INET && sa->sa_family != AF_INET))
		return SFY_PASS; /* the kernel answers as it would */
	rc = sfy_assoc_open(fd, fam, info);
	return rc < 0 ? rc : VIA_RELAY;
}

int sfy_udp_connect_route(int fd, const struct sockaddr *sa, socklen_t len)
{
	struct sfy_fd_info info;
	int type = SOCK_DGRAM, rc;

	rc = route(fd, sa, len, 0, false, &type, &info);
	if (rc != VIA_RELAY)
		return rc;
	return sfy_udp_connect(fd, &info, sa, len);
}

void sfy_udp_after_connect(int fd)
{
	struct sfy_fd_info info;
	int saved = errno;

	if (sfy_fd_maybe_udp(fd) && sfy_assoc_of(fd, &info) == 0)
		sfy_udp_disconnected(&info);
	errno = saved;
}

static bool ours(const struct sockaddr *sa, socklen_t len)
{
	return sfy_is_inet(sa, len) && !sfy_inside() && sfy_config()->enabled;
}

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
	if (sfy_inside() || sfy_assoc_of(fd, &info))
		return 0;
	if (!msg) {
		memset(&m, 0, sizeof(m));
		m.msg_iov = (struct iovec *)iov;
		m.msg_iovlen = (size_t)iovcnt;
		msg = &m;
	}
	rc = sfy_udp_send_connected(fd, &info, msg, flags, handled);
	if (rc == -ENOTSOCK) {
		/* The number no longer names the socket we knew (closed where
		 * we could not see, and reused): the real call answers. */
		sfy_fd_drop_stale(fd);
		*handled = 0;
	}
	return rc;
}

ssize_t sfy_sendto(int fd, const void *buf, size_t n, int flags,
		   const struct sockaddr *sa, socklen_t len)
{
	const struct sfy_real *r = sfy_real();
	struct sfy_fd_info info;
	struct iovec iov = { .iov_base = (void *)buf, .iov_len = n };
	struct msghdr m;
	int saved = errno, type = -1, handled;
	ssize_t rc;

	if (!r->sendto)
		return fail(-ENOSYS);
	if (!ours(sa, len)) {
		if (!sa && sfy_fd_maybe_udp(fd)) {
			rc = connected_send(fd, &iov, 1, NULL,
					    SFY_NO_CMSG_COMPAT(flags),
					    &handled);
			if (handled)
				return rc < 0 ? fail(rc) : rc;
		}
		return r->sendto(fd, buf, n, flags, sa, len);
	}
	rc = route(fd, sa, len, flags, true, &type, &info);
	errno = saved;
	if (rc == SFY_PASS)
		return r->sendto(fd, buf, n, flags, sa, len);
	if (rc == 0)
		return r->sendto(fd, buf, n, flags & ~MSG_FASTOPEN, NULL, 0);
	if (rc < 0)
		return fail(rc);
	memset(&m, 0, sizeof(m));
	m.msg_iov = &iov;
	m.msg_iovlen = 1;
	rc = sfy_udp_send_to(fd, &info, sa, len, &m, SFY_NO_CMSG_COMPAT(flags));
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
	if (sfy_fd_maybe_udp(fd)) {
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

	if (!r->write)
		return fail(-ENOSYS);
	if (sfy_fd_maybe_udp(fd))
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
	/* More than IOV_MAX: the real call's EINVAL (not EMSGSIZE). */
	if (sfy_fd_maybe_udp(fd) && iovcnt >= 0 && iovcnt <= UIO_MAXIOV) {
		rc = connected_send(fd, iov, iovcnt, NULL, 0, &handled);
		if (handled)
			return rc < 0 ? fail(rc) : rc;
	}
	return r->writev(fd, iov, iovcnt);
}

ssize_t sfy_sendmsg(int fd, const struct msghdr *msg, int flags)
{
	const struct sfy_real *r = sfy_real();
	struct sfy_fd_info info;
	struct msghdr copy;
	int saved = errno, type = -1, handled;
	socklen_t namelen;
	ssize_t rc;

	if (!r->sendmsg)
		return fail(-ENOSYS);
	if (!msg)
		return r->sendmsg(fd, msg, flags);
	namelen = name_len(msg);
	if (!ours(msg->msg_name, namelen)) {
		if (!namelen && sfy_fd_maybe_udp(fd)) {
			rc = connected_send(fd, NULL, 0, msg, flags, &handled);
			if (handled)
				return rc < 0 ? fail(rc) : rc;
		}
		return r->sendmsg(fd, msg, flags);
	}
	rc = route(fd, msg->msg_name, namelen, flags, true, &type, &info);
	errno = saved;
	if (rc == SFY_PASS)
		return r->sendmsg(fd, msg, flags);
	if (rc == 0) {
		copy = *msg;
		copy.msg_name = NULL;
		copy.msg_namelen = 0;
		return r->sendmsg(fd, &copy, flags & ~MSG_FASTOPEN);
	}
	if (rc < 0)
		return fail(rc);
	rc = sfy_udp_send_to(fd, &info, msg->msg_name, namelen, msg, flags);
	if (rc == -ENOTSOCK) {
		sfy_fd_drop_stale(fd);
		return r->sendmsg(fd, msg, flags);
	}
	return rc < 0 ? fail(rc) : rc;
}

/* One message of a sendmmsg(): through the relay, direct, or refused. */
static int mmsg_route(int fd, const struct msghdr *m, int flags, int *type,
		      struct sfy_fd_info *info, bool *assoc_known)
{
	socklen_t namelen = name_len(m);

	if (sfy_is_inet(m->msg_name, namelen))
		return route(fd, m->msg_name, namelen, flags, false, type,
			     info);
	if (namelen)
		return SFY_PASS;
	/* No address: connected through the proxy, or the kernel's. */
	if (!*assoc_known) {
		*assoc_known = true;
		if (sfy_assoc_of(fd, info))
			info->kind = SFY_FD_NONE;
	}
	return info->kind == SFY_FD_UDP ? VIA_RELAY : SFY_PASS;
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
	struct sfy_fd_info info;
	unsigned int i, done = 0, k, j;
	int saved = errno, rc = SFY_PASS, type = -1, sent;
	bool assoc_known = false, any = false;

	if (!r->sendmmsg)
		return (int)fail(-ENOSYS);
	if (!vec || sfy_inside() || !sfy_config()->enabled)
		return r->sendmmsg(fd, vec, vlen, flags);
	if (vlen > UIO_MAXIOV)
		vlen = UIO_MAXIOV; /* the kernel sends no more either */
	for (i = 0; i < vlen && !any; i++)
		any = sfy_is_inet(vec[i].msg_hdr.msg_name,
				  name_len(&vec[i].msg_hdr)) ||
		      (!name_len(&vec[i].msg_hdr) && sfy_fd_maybe_udp(fd));
	if (!any)
		return r->sendmmsg(fd, vec, vlen, flags);
	memset(&info, 0, sizeof(info));
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

			rc = mmsg_route(fd, m, flags, &type, &info,
					&assoc_known);
			if (rc < 0)
				break;
			batch[k] = vec[done + k];
			hlen[k] = 0;
			if (rc != VIA_RELAY)
				continue;
			a = sfy_assoc_at(info.assoc);
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
			if (n + 1 > POOL - used) {
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
