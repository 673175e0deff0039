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

#include "fakeip.h"
#include "hooks.h"
#include "log.h"
#include "realfn.h"
#include "udp_io.h"

#ifndef UIO_MAXIOV
#define UIO_MAXIOV 1024
#endif

static const uint8_t v4mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };

int sfy_udp_header(const struct sockaddr *sa, socklen_t len, uint8_t *hdr,
		   size_t *hlen, bool *is_name)
{
	char name[SOCKS5_DOMAIN_MAX + 1], shown[SOCKS5_DOMAIN_MAX + 16];
	struct socks5_addr a;
	struct sockaddr_in in;
	const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)sa;

	if (sa->sa_family == AF_INET6 && len >= SFY_SIN6_LEN_MIN &&
	    !memcmp(in6->sin6_addr.s6_addr, v4mapped, 12)) {
		memset(&in, 0, sizeof(in));
		in.sin_family = AF_INET;
		in.sin_port = in6->sin6_port;
		memcpy(&in.sin_addr, in6->sin6_addr.s6_addr + 12, 4);
		sa = (const struct sockaddr *)&in;
		len = sizeof(in);
	}
	/* The kernel takes the 24-byte RFC 2133 sockaddr_in6 too. */
	if (sa->sa_family == AF_INET6 && len >= SFY_SIN6_LEN_MIN &&
	    len < sizeof(struct sockaddr_in6)) {
		struct sockaddr_in6 full;

		memset(&full, 0, sizeof(full));
		memcpy(&full, sa, len);
		return sfy_udp_header((const struct sockaddr *)&full,
				      sizeof(full), hdr, hlen, is_name);
	}
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

int sfy_udp_prepare(const struct sfy_assoc *a, const uint8_t *hdr,
		    size_t hlen, const struct msghdr *msg, int flags,
		    struct iovec *iov)
{
	size_t i, n = msg->msg_iovlen, payload = 0;

	if (flags & MSG_MORE)
		return -EOPNOTSUPP;
	/* Our iovec plus the program's must stay within the kernel's limit
	 * (which is also what it would answer for too many iovecs). */
	if (n >= UIO_MAXIOV)
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
	if (n)
		memcpy(iov + 1, msg->msg_iov, n * sizeof(*iov));
	return 0;
}

ssize_t sfy_udp_relay_send(int fd, struct sfy_assoc *a, bool connected,
			   const uint8_t *hdr, size_t hlen,
			   const struct msghdr *msg, int flags)
{
	const struct sfy_real *r = sfy_real();
	size_t n = msg->msg_iovlen < UIO_MAXIOV ? msg->msg_iovlen : 0;
	struct iovec iov[n + 1];
	struct msghdr m;
	ssize_t sent;
	int rc;

	rc = sfy_udp_prepare(a, hdr, hlen, msg, flags, iov);
	if (rc == 0)
		rc = sfy_assoc_check(a);
	if (rc)
		return rc;
	m = *msg;
	m.msg_iov = iov;
	m.msg_iovlen = n + 1;
	m.msg_name = connected ? NULL : &a->relay;
	m.msg_namelen = connected ? 0 : a->relay_len;
	sent = r->sendmsg(fd, &m, flags);
	if (sent < 0)
		return -errno;
	return sent >= (ssize_t)hlen ? sent - (ssize_t)hlen : 0;
}

/* Remembers where the last datagram went, for replies (udp_recv.c). Only
 * written when it changes: a program sending to one peer writes once. d
 * is the caller's fresh copy of the shared state. */
static void note_destination(struct sfy_assoc *a, struct sfy_assoc_dyn *d,
			     const struct sockaddr *sa, socklen_t len,
			     bool is_name)
{
	if (len > sizeof(d->last_sa))
		len = sizeof(d->last_sa);
	if (d->last_is_name == is_name && d->last_salen == len &&
	    !memcmp(&d->last_sa, sa, len))
		return;
	d->last_is_name = is_name;
	d->last_salen = len;
	memset(&d->last_sa, 0, sizeof(d->last_sa));
	memcpy(&d->last_sa, sa, len);
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
	if (len > sizeof(d.conn_sa))
		len = sizeof(d.conn_sa);
	memset(&d.conn_sa, 0, sizeof(d.conn_sa));
	memcpy(&d.conn_sa, sa, len);
	d.conn_salen = len;
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
