/*
 * Datagrams out through an association.
 *
 *   +----+------+------+----------+----------+----------+
 *   |RSV | FRAG | ATYP | DST.ADDR | DST.PORT |   DATA   |
 *   +----+------+------+----------+----------+----------+
 *   | 2  |  1   |  1   | Variable |    2     | Variable |
 *
 * The header goes out as its own iovec in front of the program's ones, so
 * the payload is never copied, whatever the call (sendto, sendmsg with
 * ancillary data, sendmmsg, send, write, writev). A payload that no
 * longer fits in one datagram with the header fails with EMSGSIZE, as an
 * oversized datagram does without us. MSG_MORE (corking several sends
 * into one datagram) would put headers in the middle of a datagram and
 * is refused with EOPNOTSUPP.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <limits.h>
#include <string.h>
#include <sys/uio.h>

#include "base/log.h"
#include "base/realfn.h"
#include "base/sockaddr.h"
#include "dns/fakeip.h"
#include "hooks/hooks.h"
#include "udp/udp_gss.h"
#include "udp/udp_io.h"

int sfy_udp_header(const struct sockaddr *sa, socklen_t len, uint8_t *hdr,
		   size_t *hlen, bool *is_name)
{
	char name[SOCKS5_DOMAIN_MAX + 1], shown[SOCKS5_DOMAIN_MAX + 16];
	struct socks5_addr a;
	struct sockaddr_storage ss;
	socklen_t n = sfy_addr_copy(sa, len, &ss);

	/* As the kernel sees it: a mapped address is IPv4, and the 24-byte
	 * RFC 2133 sockaddr_in6 a whole one. */
	if (!n)
		return -EINVAL;
	sfy_addr_plain(&ss, &n);
	sa = (const struct sockaddr *)&ss;
	len = n;
	if (socks5_addr_from_sockaddr(&a, sa, len) != SOCKS5_OK)
		return -EINVAL;
	*is_name = sfy_fakeip_in_range(sa);
	if (*is_name) {
		if (sfy_fakeip_name(sa, name, sizeof(name)) ||
		    socks5_addr_from_domain(&a, name, strlen(name), a.port) !=
			    SOCKS5_OK) {
			socks5_addr_format(&a, shown, sizeof(shown));
			sfy_error("UDP to %s: a fake address whose name is unknown here (from another process or an older map); not sent anywhere",
				  shown);
			return -EHOSTUNREACH;
		}
	}
	return socks5_encode_udp_header(hdr, SOCKS5_UDP_HEADER_MAX, &a, hlen) ==
			       SOCKS5_OK ? 0 : -EINVAL;
}

size_t sfy_iov_smallest_pair(const struct iovec *v, size_t n)
{
	size_t i, best = 0, least = SIZE_MAX;

	for (i = 0; i + 1 < n; i += 2)
		if (v[i].iov_len + v[i + 1].iov_len < least) {
			least = v[i].iov_len + v[i + 1].iov_len;
			best = i;
		}
	return best;
}

int sfy_udp_prepare(const struct sfy_assoc *a, const uint8_t *hdr,
		    size_t hlen, const struct msghdr *msg, int flags,
		    struct iovec *iov, uint8_t *bounce)
{
	size_t i, n = msg->msg_iovlen, payload = 0, p, b;

	if (flags & MSG_MORE)
		return -EOPNOTSUPP;
	/* MSG_OOB: UDP over IPv4 refuses it, over IPv6 ignores it (and
	 * sfy_udp_relay_send drops it); the kernel would decide by the
	 * relay's family, the program expects its destination's. */
	if ((flags & MSG_OOB) && (hdr[3] == SOCKS5_ATYP_IPV4 ||
				  (hdr[3] == SOCKS5_ATYP_DOMAIN &&
				   a->family == AF_INET)))
		return -EOPNOTSUPP;
	/* The kernel's limit, and its answer beyond it. */
	if (n > UIO_MAXIOV)
		return -EMSGSIZE;
	if (n && !msg->msg_iov)
		return -EFAULT;
	for (i = 0; i < n; i++) {
		if (msg->msg_iov[i].iov_len > a->max_dgram)
			return -EMSGSIZE;
		payload += msg->msg_iov[i].iov_len;
		if (payload > a->max_dgram)
			return -EMSGSIZE;
	}
	if (payload + hlen > a->max_dgram)
		return -EMSGSIZE;
	iov[0].iov_base = (void *)hdr;
	iov[0].iov_len = hlen;
	if (n < UIO_MAXIOV) {
		if (n)
			memcpy(iov + 1, msg->msg_iov, n * sizeof(*iov));
		return (int)n + 1;
	}
	/* All UIO_MAXIOV iovecs of the program and ours: two neighbours of
	 * the program's, a few bytes together, share one in bounce. */
	p = sfy_iov_smallest_pair(msg->msg_iov, n);
	b = msg->msg_iov[p].iov_len + msg->msg_iov[p + 1].iov_len;
	if (!bounce || b > SFY_UDP_BOUNCE)
		return -EMSGSIZE;
	for (i = p; i < p + 2; i++) /* NULL and such: the kernel's EFAULT */
		if (msg->msg_iov[i].iov_len &&
		    (uintptr_t)msg->msg_iov[i].iov_base < 4096)
			return -EFAULT;
	memcpy(iov + 1, msg->msg_iov, p * sizeof(*iov));
	memcpy(bounce, msg->msg_iov[p].iov_base, msg->msg_iov[p].iov_len);
	memcpy(bounce + msg->msg_iov[p].iov_len, msg->msg_iov[p + 1].iov_base,
	       msg->msg_iov[p + 1].iov_len);
	iov[p + 1].iov_base = bounce;
	iov[p + 1].iov_len = b;
	memcpy(iov + p + 2, msg->msg_iov + p + 2, (n - p - 2) * sizeof(*iov));
	return (int)n;
}

ssize_t sfy_udp_relay_send(int fd, struct sfy_assoc *a, bool connected,
			   const uint8_t *hdr, size_t hlen,
			   const struct msghdr *msg, int flags)
{
	const struct sfy_real *r = sfy_real();
	size_t n = msg->msg_iovlen <= UIO_MAXIOV ? msg->msg_iovlen : 0;
	uint8_t bounce[SFY_UDP_BOUNCE];
	struct iovec iov[n + 1];
	struct sfy_udp_gss *g;
	struct msghdr m;
	ssize_t sent;
	int rc;

	rc = sfy_udp_prepare(a, hdr, hlen, msg, flags, iov, bounce);
	if (rc > 0)
		rc = sfy_assoc_check(a) ?: rc;
	if (rc < 0)
		return rc;
	m = *msg;
	m.msg_iov = iov;
	m.msg_iovlen = (size_t)rc;
	m.msg_name = connected ? NULL : &a->relay;
	m.msg_namelen = connected ? 0 : a->relay_len;
	g = sfy_udp_gss_get(&a->gss);
	if (g) {
		sent = sfy_udp_gss_send(fd, g, &m, hlen, flags & ~MSG_OOB,
					a->max_dgram);
		sfy_udp_gss_put(&a->gss, g);
		return sent;
	}
	sent = r->sendmsg(fd, &m, flags & ~MSG_OOB);
	if (sent < 0)
		return -errno;
	return sent >= (ssize_t)hlen ? sent - (ssize_t)hlen : 0;
}

/* sa as the kernel reports a peer of a socket of family: an IPv4
 * address on an AF_INET6 socket IPv4-mapped, no flow label, a scope id
 * only for a link-local address that came with one, the family's full
 * length (whatever length the program gave). */
static socklen_t peer_form(int family, const struct sockaddr *sa,
			   socklen_t len, union sfy_inaddr *out)
{
	const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)sa;

	memset(out, 0, sizeof(*out));
	if (sa->sa_family == AF_INET) {
		const struct sockaddr_in *in = (const struct sockaddr_in *)sa;

		if (family != AF_INET)
			return sfy_addr_map(in, &out->in6);
		out->in.sin_family = AF_INET;
		out->in.sin_port = in->sin_port;
		out->in.sin_addr = in->sin_addr;
		return sizeof(out->in);
	}
	out->in6.sin6_family = AF_INET6;
	out->in6.sin6_port = in6->sin6_port;
	out->in6.sin6_addr = in6->sin6_addr;
	if (len >= sizeof(*in6) && IN6_IS_ADDR_LINKLOCAL(&in6->sin6_addr))
		out->in6.sin6_scope_id = in6->sin6_scope_id;
	return sizeof(out->in6);
}

/* Remembers where the last datagram went, for replies (udp_recv.c). Only
 * written when it changes: a program sending to one peer writes once. d
 * is the caller's fresh copy of the shared state. */
static void note_destination(struct sfy_assoc *a, struct sfy_assoc_dyn *d,
			     const struct sockaddr *sa, socklen_t len,
			     bool is_name)
{
	union sfy_inaddr p;

	len = peer_form(a->family, sa, len, &p);
	if (d->last_is_name == is_name && d->last_salen == len &&
	    !memcmp(&d->last_sa, &p, len))
		return;
	d->last_is_name = is_name;
	d->last_salen = len;
	d->last_sa = p;
	sfy_assoc_dyn_write(a, d);
}

ssize_t sfy_udp_send_to(int fd, const struct sfy_fd_info *info,
			const struct sockaddr *sa, socklen_t salen,
			const struct msghdr *msg, int flags)
{
	struct sfy_assoc *a = sfy_assoc_at(info->assoc);
	uint8_t hdr[SOCKS5_UDP_HEADER_MAX];
	struct sfy_assoc_dyn d;
	bool is_name;
	size_t hlen;
	int rc;

	if (!a)
		return -EBADF;
	rc = sfy_udp_header(sa, salen, hdr, &hlen, &is_name);
	if (rc)
		return rc;
	sfy_assoc_dyn_read(a, &d);
	note_destination(a, &d, sa, salen, is_name);
	return sfy_udp_relay_send(fd, a, d.conn, hdr, hlen, msg, flags);
}

ssize_t sfy_udp_send_connected(int fd, const struct sfy_fd_info *info,
			       const struct msghdr *msg, int flags,
			       int *handled)
{
	struct sfy_assoc *a = sfy_assoc_at(info->assoc);
	struct sfy_assoc_dyn d;

	*handled = 0;
	if (!a)
		return 0;
	sfy_assoc_dyn_read(a, &d);
	if (!d.conn)
		return 0;
	*handled = 1;
	return sfy_udp_relay_send(fd, a, true, d.conn_hdr, d.conn_hlen, msg,
				  flags);
}

int sfy_udp_connect(int fd, const struct sfy_fd_info *info,
		    const struct sockaddr *sa, socklen_t len)
{
	const struct sfy_real *r = sfy_real();
	struct sfy_assoc *a = sfy_assoc_at(info->assoc);
	struct sfy_assoc_dyn d;
	size_t hlen;
	bool is_name;
	int rc;

	if (!a)
		return -EBADF;
	sfy_assoc_dyn_read(a, &d);
	rc = sfy_udp_header(sa, len, d.conn_hdr, &hlen, &is_name);
	if (rc)
		return rc;
	rc = sfy_assoc_check(a);
	if (rc)
		return rc;
	/* Connected to the relay, the kernel hands us only the relay's
	 * datagrams, and poll() readiness means exactly those. */
	if (r->connect(fd, &a->relay.sa, a->relay_len) < 0)
		return -errno;
	d.conn = true;
	d.conn_is_name = is_name;
	d.conn_hlen = (uint8_t)hlen;
	d.conn_salen = peer_form(a->family, sa, len, &d.conn_sa);
	sfy_assoc_dyn_write(a, &d);
	return 0;
}

void sfy_udp_disconnected(const struct sfy_fd_info *info)
{
	struct sfy_assoc *a = sfy_assoc_at(info->assoc);
	struct sfy_assoc_dyn d;

	if (!a)
		return;
	sfy_assoc_dyn_read(a, &d);
	if (!d.conn)
		return;
	d.conn = false;
	d.conn_hlen = 0;
	sfy_assoc_dyn_write(a, &d);
}

int sfy_udp_unconnect(int fd, const struct sockaddr *sa, socklen_t len)
{
	const struct sfy_real *r = sfy_real();
	struct sfy_fd_info info;
	union sfy_inaddr before, now;
	socklen_t bl = sizeof(before), nl = sizeof(now);
	int saved;

	if (sfy_assoc_of(fd, &info) || r->getsockname(fd, &before.sa, &bl) < 0)
		return r->connect(fd, sa, len);
	if (r->connect(fd, sa, len) < 0)
		return -1;
	saved = errno;
	sfy_udp_disconnected(&info);
	/* A port the kernel chose itself is let go at this disconnect (the
	 * next datagram gets another), and the relay knew the socket by it:
	 * the association goes, the next datagram makes one for the new
	 * port. (sin6_port is where sin_port is.) */
	if (r->getsockname(fd, &now.sa, &nl) == 0 && !now.in.sin_port &&
	    before.in.sin_port)
		sfy_fd_drop_stale(fd);
	errno = saved;
	return 0;
}

int sfy_udp_peer(const struct sfy_fd_info *info, struct sockaddr *sa,
		 socklen_t *len)
{
	struct sfy_assoc *a = sfy_assoc_at(info->assoc);
	struct sfy_assoc_dyn d;

	if (!a)
		return -ENOTCONN;
	sfy_assoc_dyn_read(a, &d);
	if (!d.conn)
		return -ENOTCONN;
	memcpy(sa, &d.conn_sa, *len < d.conn_salen ? *len : d.conn_salen);
	*len = d.conn_salen;
	return 0;
}
