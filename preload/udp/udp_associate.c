/*
 * The making of a UDP association (RFC 1928 section 7) for a program's
 * datagram socket: a control connection to the first hop, moved out of
 * the program's range of numbers and marked the library's (hide_ctl),
 * UDP ASSOCIATE, and the relay's address in the family of the program's
 * socket. The table and the lifetime are udp_assoc.c's.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "base/config.h"
#include "base/log.h"
#include "base/realfn.h"
#include "base/sockaddr.h"
#include "base/sockopt.h"
#include "hooks/hooks.h"
#include "state/vfork.h"
#include "udp/udp_assoc.h"
#include "udp/udp_gss.h"

/* Where control connections live: above the descriptors programs use
 * for themselves (select() users, "close everything from 3" loops). */
#define SFY_CTL_FD_MIN 100

/* The program's socket must have a port for the relay to send to. */
static int ensure_bound(int fd, int family)
{
	const struct sfy_real *r = sfy_real();
	union sfy_inaddr local;
	socklen_t len = sizeof(local);

	if (r->getsockname(fd, &local.sa, &len) < 0)
		return -errno;
	if ((family == AF_INET && local.in.sin_port) ||
	    (family == AF_INET6 && local.in6.sin6_port))
		return 0;
	memset(&local, 0, sizeof(local));
	local.sa.sa_family = (sa_family_t)family;
	len = family == AF_INET ? sizeof(local.in) : sizeof(local.in6);
	return sfy_real()->bind(fd, &local.sa, len) < 0 ? -errno : 0;
}

static bool v6only(int fd)
{
	int on = 0;

	return sfy_sockopt_int(fd, IPPROTO_IPV6, IPV6_V6ONLY, &on) == 0 && on;
}

/* A control connection to the first hop, of a family the program's
 * socket can exchange datagrams with. Returns the fd or -errno. */
static int dial(int fd, int family, int64_t deadline, const char **why)
{
	const struct socks5_io *io = sfy_real_io();
	const struct sfy_real *r = sfy_real();
	struct sockaddr_storage px[SFY_PROXY_ADDRS_MAX];
	socklen_t pxlen[SFY_PROXY_ADDRS_MAX];
	bool only6 = family == AF_INET6 && v6only(fd);
	int n, i, s, rc = -EAFNOSUPPORT;

	n = sfy_proxy_sockaddrs(px, pxlen, SFY_PROXY_ADDRS_MAX);
	if (n < 0) {
		*why = "the proxy's address is unknown";
		return n;
	}
	*why = "cannot reach the proxy";
	for (i = 0; i < n; i++) {
		if ((family == AF_INET && px[i].ss_family != AF_INET) ||
		    (only6 && px[i].ss_family != AF_INET6))
			continue;
		s = sfy_socket(px[i].ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
		if (s < 0)
			return -errno;
		rc = socks5_connect_deadline(io, s, (struct sockaddr *)&px[i],
					     pxlen[i], deadline);
		if (rc == 0)
			return s;
		r->close(s);
		if (rc == -ETIMEDOUT || socks5_now_ms() >= deadline)
			break;
	}
	if (rc == -EAFNOSUPPORT)
		*why = family == AF_INET ?
			       "the proxy has no IPv4 address for this IPv4 socket" :
			       "the proxy has no IPv6 address for this IPV6_V6ONLY socket";
	return rc;
}

/* DST.ADDR/DST.PORT of the request: the port the relay will see our
 * datagrams come from, the address as zeros (RFC 1928: "not in
 * possession of the information"; the kernel picks the source address
 * per datagram), in the family of the control connection. */
static int request_dst(int fd, int ctl, struct socks5_addr *dst)
{
	const struct sfy_real *r = sfy_real();
	union sfy_inaddr local;
	socklen_t len = sizeof(local);
	int cfam;

	if (r->getsockname(fd, &local.sa, &len) < 0)
		return -errno;
	memset(dst, 0, sizeof(*dst));
	dst->port = ntohs(local.sa.sa_family == AF_INET ? local.in.sin_port :
							local.in6.sin6_port);
	len = sizeof(local);
	if (r->getsockname(ctl, &local.sa, &len) < 0)
		return -errno;
	cfam = local.sa.sa_family;
	if (cfam == AF_INET6 && sfy_is_v4mapped(local.in6.sin6_addr.s6_addr))
		cfam = AF_INET;
	dst->atyp = cfam == AF_INET ? SOCKS5_ATYP_IPV4 : SOCKS5_ATYP_IPV6;
	return 0;
}

/* The relay in the program's family; BND.ADDR all zeros means the
 * proxy's own address (the control connection's peer). */
static int relay_addr(struct sfy_assoc *a, int ctl,
		      const struct socks5_addr *bnd)
{
	static const uint8_t zero[16];
	struct sockaddr_storage ss;
	union sfy_inaddr peer;
	socklen_t len = sizeof(ss), plen = sizeof(peer);
	uint16_t port = htons(bnd->port);

	if (socks5_addr_to_sockaddr(bnd, &ss, &len) != SOCKS5_OK)
		return -EAFNOSUPPORT; /* a host name: no address to send to */
	if ((bnd->atyp == SOCKS5_ATYP_IPV4 && !memcmp(bnd->u.ipv4, zero, 4)) ||
	    (bnd->atyp == SOCKS5_ATYP_IPV6 && !memcmp(bnd->u.ipv6, zero, 16))) {
		if (sfy_real()->getpeername(ctl, &peer.sa, &plen) < 0)
			return -errno;
		memcpy(&ss, &peer, plen);
		len = plen;
		if (ss.ss_family == AF_INET)
			((struct sockaddr_in *)&ss)->sin_port = port;
		else
			((struct sockaddr_in6 *)&ss)->sin6_port = port;
	}
	/* A v4-mapped relay is plain IPv4; then in the socket's family. */
	sfy_addr_plain(&ss, &len);
	a->relay_len = sfy_addr_in_family((const struct sockaddr *)&ss,
					  a->family, &a->relay);
	if (!a->relay_len)
		return -EAFNOSUPPORT; /* an IPv6 relay for an IPv4 socket */
	/* IPv4: 65535 - 20 (IP) - 8 (UDP); IPv6: 65535 - 8. */
	a->max_dgram = ss.ss_family == AF_INET ? 65507 : 65527;
	return 0;
}

/* Takes the control connection out of the program's range of numbers and
 * marks it ours. Returns the descriptor to keep. */
static int hide_ctl(int ctl, int idx)
{
	const struct sfy_real *r = sfy_real();
	struct sfy_fd_info info;
	int nfd;

	if (ctl < SFY_CTL_FD_MIN) {
		nfd = r->fcntl(ctl, F_DUPFD_CLOEXEC, SFY_CTL_FD_MIN);
		if (nfd >= 0) {
			r->close(ctl);
			ctl = nfd;
		} /* else: RLIMIT_NOFILE below 100; it stays where it is */
	}
	memset(&info, 0, sizeof(info));
	info.kind = SFY_FD_CONTROL;
	info.assoc = idx;
	sfy_fd_set(ctl, &info);
	return ctl;
}

static void log_fail(const char *what, const struct socks5_failure *why,
		     int err)
{
	char hop[600];

	socks5_url_format(&sfy_config()->chain[0], hop, sizeof(hop));
	if (why && why->status == SOCKS5_E_REPLY)
		sfy_warn("UDP ASSOCIATE at %s failed: %s (%s)", hop,
			 socks5_rep_string(why->rep), strerrorname_np(err));
	else if (why && why->status != SOCKS5_OK)
		sfy_warn("UDP ASSOCIATE at %s failed in %s: %s (%s)", hop,
			 why->state ? why->state : "?",
			 why->status == SOCKS5_E_IO ?
				 strerrordesc_np(why->sys_errno) :
				 socks5_strerror(why->status),
			 strerrorname_np(err));
	else
		sfy_warn("UDP ASSOCIATE at %s failed: %s (%s)", hop, what,
			 strerrorname_np(err));
}

/* -v: one line per association, as connect() has one per connection;
 * nothing is formatted below that level. */
static void log_ok(int fd, int idx, const struct socks5_addr *bnd, int ctl,
		   int64_t t0)
{
	char hop[600], shown[SOCKS5_DOMAIN_MAX + 16];

	if (sfy_log_level() < SFY_LOG_INFO)
		return;
	socks5_url_format(&sfy_config()->chain[0], hop, sizeof(hop));
	socks5_addr_format(bnd, shown, sizeof(shown));
	sfy_info("UDP ASSOCIATE at %s: relay %s, ok in %.1f ms", hop, shown,
		 (double)(sfy_log_now_us() - t0) / 1000.0);
	sfy_debug("fd %d: UDP association %d, relay %s, control fd %d", fd, idx,
		  shown, ctl);
}

/* Control connection + UDP ASSOCIATE + relay, into entry idx. */
static int associate(int fd, struct sfy_assoc *a, int idx)
{
	const struct sfy_config *cfg = sfy_config();
	int64_t deadline = socks5_now_ms() + cfg->timeout_ms;
	int64_t t0 = sfy_log_now_us();
	struct socks5_failure why;
	struct socks5_hs_opts opts;
	struct socks5_reply bound;
	struct socks5_addr dst;
	const char *what = "";
	int ctl, rc;

	rc = ensure_bound(fd, a->family);
	if (rc) {
		log_fail("cannot bind the program's UDP socket", NULL, -rc);
		return rc;
	}
	ctl = dial(fd, a->family, deadline, &what);
	if (ctl < 0) {
		log_fail(what, NULL, -ctl);
		return ctl;
	}
	rc = request_dst(fd, ctl, &dst);
	memset(&why, 0, sizeof(why));
	memset(&opts, 0, sizeof(opts));
	opts.gss_take = true; /* a protected level wraps the datagrams */
	if (rc == 0)
		rc = socks5_handshake_ex(sfy_real_io(), ctl, &cfg->chain[0], 1,
					 SOCKS5_CMD_UDP_ASSOCIATE, &dst,
					 deadline, &opts, &bound, &why);
	if (rc == 0 && opts.gss_sec) {
		rc = sfy_udp_gss_start(&a->gss, opts.gss_sec);
		if (rc)
			log_fail("no memory for the GSSAPI datagram buffers",
				 NULL, -rc);
	}
	if (rc == 0) {
		rc = relay_addr(a, ctl, &bound.bnd);
		if (rc)
			log_fail("the relay's address does not fit the program's socket",
				 NULL, -rc);
	} else {
		log_fail("", &why, -rc);
	}
	if (rc) {
		sfy_real()->close(ctl);
		return rc;
	}
	ctl = hide_ctl(ctl, idx);
	atomic_store(&a->ctl, ctl);
	log_ok(fd, idx, &bound.bnd, ctl, t0);
	return 0;
}

int sfy_assoc_open(int fd, int family, struct sfy_fd_info *info)
{
	struct sfy_fd_info mine, other;
	struct sfy_assoc *a;
	int idx, rc;

	if (sfy_assoc_of(fd, info) == 0)
		return 0;
	if (sfy_in_vfork_child()) {
		/* Its control connection would be a descriptor of the child
		 * recorded in the parent's table. */
		sfy_warn("fd %d: no UDP association in a vfork child (shared memory, its own descriptors); refusing to send",
			 fd);
		return -EPERM;
	}
	idx = sfy_assoc_claim();
	if (idx < 0) {
		sfy_warn("fd %d: more than %d UDP associations at once; refusing another",
			 fd, SFY_ASSOC_MAX);
		return -ENOBUFS;
	}
	a = sfy_assoc_at(idx);
	atomic_store(&a->ctl, -1);
	atomic_store(&a->dead, false);
	atomic_store(&a->next_check, 0);
	a->family = family;
	{
		struct sfy_assoc_dyn empty;

		memset(&empty, 0, sizeof(empty));
		sfy_assoc_dyn_write(a, &empty);
	}
	rc = associate(fd, a, idx);
	if (rc) {
		sfy_assoc_unref(idx);
		return rc;
	}
	memset(&mine, 0, sizeof(mine));
	mine.kind = SFY_FD_UDP;
	mine.family = family;
	mine.assoc = idx;
	rc = sfy_fd_set_udp_once(fd, &mine, &other);
	if (rc == -EEXIST) {
		/* Another thread's first datagram won the race. */
		sfy_assoc_unref(idx);
		*info = other;
		return 0;
	}
	if (rc) {
		sfy_assoc_unref(idx);
		return rc;
	}
	*info = mine;
	return 0;
}
