/*
 * Datagrams in through an association: the relay's header taken off, the
 * true origin reported, anything else dropped.
 *
 * Receive strategy: the header length depends on the origin's ATYP (10,
 * 22 or 7 + name length), so no iovec of the exact header size can be
 * given to the kernel in advance. Each recvmsg() gets
 *
 *     [ head: 262 bytes on our stack | the caller's iovecs ]
 *
 * on one system call: 262 is the longest header there is, so the header
 * always lands whole in head, and the payload starts in head and goes on
 * in the caller's buffers. It is then moved to the front of the caller's
 * buffers (a memmove of the caller's part by 262 - header length, and a
 * copy of the part in head): one copy of the payload, which for the small
 * datagrams UDP carries is cheaper than a second system call, and bytes of
 * the caller's buffer beyond the returned length are never touched (a
 * program may rely on a zeroed buffer staying zero after the data) --
 * except by a datagram we drop before the one we return, which the
 * kernel has already written there.
 * Rejected: MSG_PEEK of the header first (a second system call for every
 * datagram); a 64 KiB bounce buffer (the same one copy, plus 64 KiB of
 * stack or TLS per thread); guessing the header length from the last
 * reply to receive straight into place (zero copies when right, but when
 * a longer header comes the kernel writes payload bytes past the end the
 * caller will be told about).
 *
 * We always pass MSG_TRUNC to the kernel, which then returns the full
 * datagram length, so the payload's real length is known for the
 * caller's MSG_TRUNC and for msg_flags. MSG_PEEK works as it is (the
 * datagram stays queued); a datagram we drop while peeking is consumed
 * first, so that the next peek sees the next one.
 * (GSSAPI: the relay's datagrams are unwrapped first, udp_gss.c.)
 *
 * Which datagrams reach the program:
 *   - from the relay, well formed, FRAG 0: payload and origin;
 *   - from a source we would send to direct (sfy_udp_rule: loopback by
 *     default, a loopback DNS resolver, anything under SOCKSIFY_UDP=direct):
 *     as is, since the program may talk to such peers on the same socket;
 *   - anything else is dropped, never handed over: on a blocking socket
 *     we wait for the next datagram, a non-blocking one gets EAGAIN.
 *
 * The origin is given in the family of the program's socket (IPv4 on an
 * AF_INET6 socket as IPv4-mapped). A socket connected through the proxy
 * to an address only accepts replies from that address, as a connected
 * socket does; connected to a name, replies show that name's fake
 * address. On an unconnected socket, a name origin becomes the name's
 * fake address, and an address origin on the port of the last
 * destination, when that destination was a name, is shown as that name's
 * fake address (the proxy answers with the address it resolved; the
 * program checks the reply against the address it sent to).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdatomic.h>
#include <string.h>
#include <strings.h>
#include <sys/uio.h>
#include <time.h>

#include "base/config.h"
#include "base/log.h"
#include "base/realfn.h"
#include "base/sockaddr.h"
#include "dns/fakeip.h"
#include "hooks/hooks.h"
#include "route/decide.h"
#include "udp/udp_gss.h"
#include "udp/udp_io.h"
#include "udp/iovmove.h"

#define HDR_MIN 8 /* domain of one byte: 3 + 1 + 1 + 1 + 2 */
#define DROP_WARN_LIMIT 4

static atomic_int drops_logged;

/* ------------------------------------------------------------------ */
/* Where a datagram came from                                           */

enum source { SRC_RELAY, SRC_DIRECT, SRC_DROP };

static bool same_inaddr(const union sfy_inaddr *x, const union sfy_inaddr *y)
{
	return x->sa.sa_family == y->sa.sa_family &&
	       sfy_addr_port_equal(&x->sa, &y->sa);
}

static enum source classify(const struct sfy_assoc *a,
			    const union sfy_inaddr *src, socklen_t len)
{
	struct sfy_route r;

	if (len < sizeof(sa_family_t))
		return SRC_DROP;
	if (same_inaddr(src, &a->relay))
		return SRC_RELAY;
	/* A source we would send to direct may answer direct. */
	return sfy_udp_rule(&src->sa, sfy_route_classify(&src->sa), &r) ==
			       SFY_DIRECT ?
		       SRC_DIRECT :
		       SRC_DROP;
}

static void drop_log(const char *why)
{
	int level = atomic_fetch_add(&drops_logged, 1) < DROP_WARN_LIMIT ?
			    SFY_LOG_INFO : SFY_LOG_DEBUG;

	SFY_LOG(level, "UDP: dropped a datagram: %s", why);
}

/* An IPv4 or IPv6 origin in family; false when it cannot be shown. */
static bool ip_in_family(const struct socks5_addr *o, int family,
			 union sfy_inaddr *out, socklen_t *len)
{
	union sfy_inaddr ip;

	memset(&ip, 0, sizeof(ip));
	if (o->atyp == SOCKS5_ATYP_IPV4) {
		ip.in.sin_family = AF_INET;
		ip.in.sin_port = htons(o->port);
		memcpy(&ip.in.sin_addr, o->u.ipv4, 4);
	} else {
		ip.in6.sin6_family = AF_INET6;
		ip.in6.sin6_port = htons(o->port);
		memcpy(ip.in6.sin6_addr.s6_addr, o->u.ipv6, 16);
	}
	/* 0: an IPv6 origin for an IPv4 socket */
	*len = sfy_addr_in_family(&ip.sa, family, out);
	return *len != 0;
}

static uint16_t port_of(const union sfy_inaddr *x)
{
	return ntohs(x->sa.sa_family == AF_INET ? x->in.sin_port :
						  x->in6.sin6_port);
}

/* A name origin: the fake address the program knows for it. */
static bool name_origin(const struct socks5_addr *o, int family,
			const struct sfy_assoc_dyn *d, union sfy_inaddr *out,
			socklen_t *len)
{
	char last[SOCKS5_DOMAIN_MAX + 1];
	struct in_addr v4;
	struct in6_addr v6;

	if (d->last_is_name && port_of(&d->last_sa) == o->port &&
	    sfy_fakeip_name(&d->last_sa.sa, last, sizeof(last)) == 0 &&
	    !strcasecmp(last, o->u.domain)) {
		*out = d->last_sa;
		*len = d->last_salen;
		return true;
	}
	if (sfy_fakeip_for_name(o->u.domain, o->len, &v4, &v6))
		return false;
	memset(out, 0, sizeof(*out));
	if (family == AF_INET) {
		out->in.sin_family = AF_INET;
		out->in.sin_port = htons(o->port);
		out->in.sin_addr = v4;
		*len = sizeof(out->in);
		return v4.s_addr != 0;
	}
	out->in6.sin6_family = AF_INET6;
	out->in6.sin6_port = htons(o->port);
	out->in6.sin6_addr = v6;
	*len = sizeof(out->in6);
	return true;
}

/* The origin to report for a relayed datagram; false: drop it. */
static bool origin(const struct sfy_assoc *a, const struct sfy_assoc_dyn *d,
		   const struct socks5_addr *o, union sfy_inaddr *out,
		   socklen_t *len)
{
	union sfy_inaddr want;
	socklen_t wlen;

	if (d->conn) {
		if (!d->conn_is_name) {
			/* Only the peer's datagrams, as the kernel would. */
			if (o->atyp == SOCKS5_ATYP_DOMAIN ||
			    !ip_in_family(o, d->conn_sa.sa.sa_family, &want,
					  &wlen) ||
			    !same_inaddr(&want, &d->conn_sa))
				return false;
		}
		*out = d->conn_sa;
		*len = d->conn_salen;
		return true;
	}
	if (o->atyp == SOCKS5_ATYP_DOMAIN)
		return name_origin(o, a->family, d, out, len);
	if (d->last_is_name && port_of(&d->last_sa) == o->port) {
		*out = d->last_sa;
		*len = d->last_salen;
		return true;
	}
	return ip_in_family(o, a->family, out, len);
}

/* ------------------------------------------------------------------ */
/* recvmsg                                                              */

static void name_out(struct msghdr *msg, const union sfy_inaddr *o,
		     socklen_t olen)
{
	if (!msg->msg_name)
		return;
	memcpy(msg->msg_name, o, msg->msg_namelen < olen ? msg->msg_namelen :
							   olen);
	msg->msg_namelen = olen;
}

/* Beyond this many bytes of the caller's buffers no datagram reaches
 * (65535 with its header): the kernel is not given more. */
#define CAP_MAX 65536

/*
 * The kernel's iovecs for a receive into [head | the caller's iovecs]:
 * the caller's cut at CAP_MAX bytes, and when that still leaves all
 * UIO_MAXIOV of them (with head one too many), two neighbours that hold
 * a few bytes together (sfy_iov_smallest_pair) replaced by bounce; the
 * first of them in *pair, else *pair is -1. Returns the count.
 */
static int kernel_iovs(const struct iovec *cv, int n, uint8_t *head,
		       size_t hlen, struct iovec *iov, uint8_t *bounce,
		       int *pair)
{
	size_t cap = 0, p, b;
	int m;

	*pair = -1;
	iov[0].iov_base = head;
	iov[0].iov_len = hlen;
	for (m = 0; m < n && cap < CAP_MAX; m++) {
		iov[m + 1] = cv[m];
		if (iov[m + 1].iov_len > CAP_MAX - cap)
			iov[m + 1].iov_len = CAP_MAX - cap;
		cap += iov[m + 1].iov_len;
	}
	if (m < UIO_MAXIOV)
		return m + 1;
	p = sfy_iov_smallest_pair(iov + 1, (size_t)m);
	b = iov[p + 1].iov_len + iov[p + 2].iov_len; /* <= 128 */
	if (b > SFY_UDP_BOUNCE)
		return -EMSGSIZE;
	iov[p + 1].iov_base = bounce;
	iov[p + 1].iov_len = b;
	memmove(iov + p + 2, iov + p + 3, ((size_t)m - p - 2) * sizeof(*iov));
	*pair = (int)p;
	return m;
}

/* The bytes the kernel put into bounce, for the caller's pair of iovecs
 * at pair, pair + 1, as far as the payload (copy bytes) reaches. */
static void bounce_out(const struct iovec *cv, int pair, const uint8_t *bounce,
		       size_t copy)
{
	size_t off = 0, i, k, n;

	for (i = 0; i < (size_t)pair; i++)
		off += cv[i].iov_len;
	for (k = 0; k < 2 && off < copy; k++) {
		n = cv[pair + k].iov_len;
		if (n > copy - off)
			n = copy - off;
		memcpy(cv[pair + k].iov_base, bounce, n);
		bounce += n;
		off += n;
	}
}

/* Whether the first len bytes of the caller's buffers reach one in the
 * first page, where nothing is ever mapped (NULL, mostly). */
static bool unwritable(const struct iovec *cv, int n, size_t len)
{
	for (int i = 0; i < n && len; i++) {
		if (cv[i].iov_len && (uintptr_t)cv[i].iov_base < 4096)
			return true;
		len -= cv[i].iov_len < len ? cv[i].iov_len : len;
	}
	return false;
}

/* Parses the relay's header at the start of head (got bytes of the
 * datagram there); *hl and *o on success, else a reason to drop. */
static const char *parse(const uint8_t *head, size_t got, size_t *hl,
			 struct socks5_addr *o)
{
	enum socks5_status st;
	size_t plen;

	if (got < HDR_MIN)
		return "shorter than a SOCKS5 UDP header";
	*hl = socks5_udp_header_len(head, got);
	if (!*hl || *hl > got)
		return "malformed SOCKS5 UDP header";
	st = socks5_parse_udp_header(head, *hl, o, &plen);
	if (st == SOCKS5_E_FRAGMENTED)
		return "a fragment (FRAG != 0), which the RFC lets us drop";
	if (st != SOCKS5_OK || plen != *hl)
		return socks5_strerror(st);
	return NULL;
}

/* sfy_udp_recvmsg with the association's protection g (NULL: none),
 * held by the caller for the whole call (the socket may be closed while
 * we wait, and its association end). */
static ssize_t recv_with(int fd, struct sfy_assoc *a, struct sfy_udp_gss *g,
			 struct msghdr *msg, int flags)
{
	uint8_t head[SOCKS5_UDP_HEADER_MAX];
	const size_t H = sizeof(head);
	size_t i, C = 0, got, hl, payload, avail, copy;
	int niov = (int)msg->msg_iovlen;
	union sfy_inaddr src, from;
	struct sfy_assoc_dyn d;
	struct socks5_addr o;
	socklen_t fromlen = 0;
	const char *why;
	struct msghdr m;
	ssize_t n;

	if (msg->msg_iovlen > UIO_MAXIOV || (niov && !msg->msg_iov))
		return msg->msg_iovlen > UIO_MAXIOV ? -EMSGSIZE : -EFAULT;
	for (i = 0; i < (size_t)niov; i++) {
		C += msg->msg_iov[i].iov_len;
		if (C > 1 << 20)
			C = 1 << 20; /* beyond any datagram; avoids overflow */
	}
	memset(&from, 0, sizeof(from));
	{
		struct iovec iov[niov + 1];
		uint8_t bounce[SFY_UDP_BOUNCE];
		int kn, pair;

		kn = kernel_iovs(msg->msg_iov, niov, head, H, iov, bounce,
				 &pair);
		if (kn < 0)
			return kn;
		for (;;) {
			memset(&m, 0, sizeof(m));
			m.msg_name = &src;
			m.msg_namelen = sizeof(src);
			m.msg_iov = iov;
			m.msg_iovlen = (size_t)kn;
			m.msg_control = msg->msg_control;
			m.msg_controllen = msg->msg_controllen;
			n = sfy_udp_gss_recvmsg(fd, g, &a->relay, &m,
						flags | MSG_TRUNC);
			if (n == -EBADMSG)
				continue; /* dropped (and logged) there */
			if (n < 0)
				return n;
			got = (size_t)n < H + C ? (size_t)n : H + C;
			why = NULL;
			hl = 0;
			switch (classify(a, &src, m.msg_namelen)) {
			case SRC_RELAY:
				why = parse(head, got < H ? got : H, &hl, &o);
				if (why)
					break;
				sfy_assoc_dyn_read(a, &d);
				if (!origin(a, &d, &o, &from, &fromlen))
					why = "its origin is not the connected peer, or has no address in the socket's family";
				break;
			case SRC_DIRECT:
				from = src;
				fromlen = m.msg_namelen;
				break;
			default:
				why = "not from the relay (nor from a direct destination)";
			}
			if (!why)
				break;
			drop_log(why);
			if (flags & MSG_PEEK)
				sfy_udp_gss_consume(fd, g);
		}
		payload = (size_t)n - hl;
		avail = got - hl;
		copy = avail < C ? avail : C;
		/* The kernel wrote the start into head; a caller's buffer it
		 * never reached may not be writable. One that cannot be (the
		 * first page) is the kernel's EFAULT, not a crash here. */
		if (unwritable(msg->msg_iov, niov, copy))
			return -EFAULT;
		/* The payload to the front of the caller's buffers. */
		sfy_iov_move(iov, kn, H, hl, copy);
		if (pair >= 0)
			bounce_out(msg->msg_iov, pair, bounce, copy);
	}
	msg->msg_controllen = m.msg_controllen;
	msg->msg_flags = (m.msg_flags & ~MSG_TRUNC) |
			 (payload > C ? MSG_TRUNC : 0);
	name_out(msg, &from, fromlen);
	return (flags & MSG_TRUNC) ? (ssize_t)payload : (ssize_t)copy;
}

ssize_t sfy_udp_recvmsg(int fd, const struct sfy_fd_info *info,
			struct msghdr *msg, int flags)
{
	struct sfy_assoc *a = sfy_assoc_at(info->assoc);
	struct sfy_udp_gss *g;
	ssize_t n;

	if (!a)
		return -EBADF;
	g = sfy_udp_gss_get(&a->gss);
	n = recv_with(fd, a, g, msg, flags);
	sfy_udp_gss_put(&a->gss, g);
	return n;
}

int sfy_udp_recvmmsg(int fd, const struct sfy_fd_info *info,
		     struct mmsghdr *vec, unsigned int vlen, int flags,
		     struct timespec *timeout)
{
	struct timespec start, now;
	unsigned int i;
	ssize_t n;
	int f;

	if (timeout)
		clock_gettime(CLOCK_MONOTONIC, &start);
	for (i = 0; i < vlen; i++) {
		f = flags & ~MSG_WAITFORONE;
		if (i > 0 && (flags & MSG_WAITFORONE))
			f |= MSG_DONTWAIT;
		n = sfy_udp_recvmsg(fd, info, &vec[i].msg_hdr, f);
		if (n < 0) {
			if (i == 0)
				return (int)n;
			break; /* the kernel, too, reports what it got */
		}
		vec[i].msg_len = (unsigned int)n;
		/* Like the kernel: the timeout is looked at after each
		 * datagram, never while waiting for one. */
		if (timeout) {
			clock_gettime(CLOCK_MONOTONIC, &now);
			if ((now.tv_sec - start.tv_sec) * 1000000000L +
				    (now.tv_nsec - start.tv_nsec) >=
			    timeout->tv_sec * 1000000000L + timeout->tv_nsec) {
				i++;
				break;
			}
		}
	}
	return (int)i;
}
