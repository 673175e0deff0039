/*
 * connect(): AF_INET/AF_INET6 stream sockets to proxied destinations are
 * connected to the first hop and handed through the SOCKS5 handshake; the
 * program then owns a plain socket to the proxy.
 *
 * Blocking and non-blocking sockets alike do the handshake here, bounded
 * by SOCKSIFY_TIMEOUT_MS, and return 0: a non-blocking caller's poll(),
 * epoll or getsockopt(SO_ERROR) then sees a connected socket, which every
 * caller of a non-blocking connect() must handle (it may succeed at once).
 * The caller's file status flags are restored exactly.
 *
 * Socket family and proxy family may differ:
 *   - AF_INET6 socket, IPv4 proxy: the IPv4-mapped proxy address, unless
 *     the socket is IPV6_V6ONLY; then, as below, the socket is replaced.
 *   - AF_INET socket, IPv6 proxy: a new AF_INET6 socket is moved onto the
 *     program's descriptor number with the real dup3(), keeping
 *     FD_CLOEXEC and the file status flags. Options the program set on its
 *     socket before connect() (and any bind()) are lost in that case.
 *
 * Failures never fall back to a direct connection. Their errno is the
 * driver's (DESIGN's table); one warn line names the destination, the hop,
 * the state and the reason. After a failed proxied connect() the socket is
 * in an unspecified state, as POSIX allows.
 */
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "fakeip.h"
#include "fdstate.h"
#include "hooks.h"
#include "log.h"
#include "pipeline.h"
#include "policy.h"
#include "realfn.h"
#include "sockaddr.h"
#include "sockhint.h"

/* A fake address whose name we do not know (the map was reset, or the
 * address came from another process): the name cannot be sent and the
 * address must not be dialled, so the host is "unreachable". */
#define UNKNOWN_FAKE_ERRNO EHOSTUNREACH

/* "Connection refused" and "ECONNREFUSED" for log lines; never NULL. */
static const char *errdesc(int e)
{
	const char *s = strerrordesc_np(e);

	return s ? s : "unknown error";
}

static const char *errname(int e)
{
	const char *s = strerrorname_np(e);

	return s ? s : "?";
}

int sfy_sock_type(int fd, int *type)
{
	socklen_t l = sizeof(*type);

	return getsockopt(fd, SOL_SOCKET, SO_TYPE, type, &l) < 0 ? -errno : 0;
}

static int sock_domain(int fd)
{
	int d = AF_UNSPEC;
	socklen_t l = sizeof(d);

	return getsockopt(fd, SOL_SOCKET, SO_DOMAIN, &d, &l) < 0 ? -errno : d;
}

/* The kernel's answer about the program's socket rather than the proxy:
 * a destination of the other family (a short address, then the family),
 * or a socket that was connected already (and lost its connection). */
static bool socket_refused(int rc)
{
	return rc == -EINVAL || rc == -EAFNOSUPPORT || rc == -EISCONN ||
	       rc == -EPROTOTYPE; /* not a stream socket after all */
}

/* rc, the answer about the proxy's address, or when the socket's family
 * is not the destination's the kernel's answer about the program's: an
 * AF_INET6 socket wants RFC 2133's length before the family. */
static int family_refusal(int fd, const struct sockaddr *sa, socklen_t len,
			  int rc)
{
	int fam = rc == -EINVAL || rc == -EAFNOSUPPORT ? sock_domain(fd) : -1;

	if (fam < 0 || fam == sa->sa_family)
		return rc;
	return fam == AF_INET6 && len < SFY_SIN6_LEN_MIN ? -EINVAL :
							   -EAFNOSUPPORT;
}

/* The destination as the kernel would see it: an IPv4-mapped address
 * becomes plain IPv4. Returns its length, or 0 when len is too short (the
 * real connect() then reports EINVAL). */
static socklen_t normalize(const struct sockaddr *sa, socklen_t len,
			   struct sockaddr_storage *out)
{
	socklen_t n = sfy_addr_copy(sa, len, out);

	return n ? sfy_addr_plain(out, &n) : 0;
}

/* Puts a fresh stream socket of family onto fd's number, when fd is of
 * the family the destination said (expected). */
static int replace_socket(int fd, int family, int expected)
{
	const struct sfy_real *r = sfy_real();
	int fdflags, flflags, proto = 0, s, type, rc = 0;
	socklen_t l = sizeof(proto);

	/* The family was taken from the destination; here, where it would
	 * change, is where it is checked (an AF_INET6 socket given an IPv4
	 * address: the kernel's EINVAL, not a proxied connection). */
	rc = sock_domain(fd);
	if (rc < 0)
		return rc;
	if (rc != expected)
		return expected == AF_INET ? -EINVAL : -EAFNOSUPPORT;
	/* The type may come from a stale hint (sockhint.h). */
	rc = sfy_sock_type(fd, &type);
	if (rc < 0)
		return rc;
	if (type != SOCK_STREAM)
		return -EPROTOTYPE;
	rc = 0;
	fdflags = r->fcntl(fd, F_GETFD);
	flflags = r->fcntl(fd, F_GETFL);
	if (fdflags < 0 || flflags < 0)
		return -errno;
	if (getsockopt(fd, SOL_SOCKET, SO_PROTOCOL, &proto, &l) < 0)
		proto = 0;
	s = sfy_socket(family, SOCK_STREAM | SOCK_CLOEXEC, proto);
	if (s < 0)
		return -errno;
	if (r->fcntl(s, F_SETFL, flflags) < 0 ||
	    r->dup3(s, fd, (fdflags & FD_CLOEXEC) ? O_CLOEXEC : 0) < 0)
		rc = -errno;
	r->close(s);
	return rc;
}

/* Gets fd (of family *fam) ready to connect to the proxy address px:
 * the address to dial in *to. */
static int prepare(int fd, int *fam, const struct sockaddr_storage *px,
		   socklen_t pxlen, struct sockaddr_storage *to, socklen_t *tolen)
{
	int v6only = 0, rc;
	socklen_t l = sizeof(v6only);

	memcpy(to, px, pxlen);
	*tolen = pxlen;
	if (px->ss_family == *fam)
		return 0;
	if (*fam == AF_INET6 && px->ss_family == AF_INET &&
	    (getsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &v6only, &l) < 0 ||
	     !v6only)) {
		memset(to, 0, sizeof(*to));
		*tolen = sfy_addr_map((const struct sockaddr_in *)px,
				      (struct sockaddr_in6 *)to);
		return 0;
	}
	rc = replace_socket(fd, px->ss_family, *fam);
	if (rc == 0)
		*fam = px->ss_family;
	return rc;
}

static void log_failure(const char *dst, const struct sfy_config *cfg,
			const struct socks5_failure *why, int err, int64_t t0)
{
	char hop[600], reason[160];
	size_t h = why->hop >= 0 && (size_t)why->hop < cfg->nhops ?
			   (size_t)why->hop : 0;

	socks5_url_format(&cfg->chain[h], hop, sizeof(hop));
	if (why->status == SOCKS5_E_REPLY)
		snprintf(reason, sizeof(reason), "%s: %s",
			 socks5_strerror(why->status),
			 socks5_rep_string(why->rep));
	else if (why->status == SOCKS5_E_IO)
		snprintf(reason, sizeof(reason), "%s: %s",
			 socks5_strerror(why->status),
			 errdesc(why->sys_errno));
	else /* HTTP hops: the status, the 407's schemes */
		socks5_failure_describe(why, reason, sizeof(reason));
	sfy_warn("connect to %s via %s (hop %zu of %zu) failed in %s: %s (%s), after %.1f ms",
		 dst, hop, h + 1, cfg->nhops, why->state ? why->state : "?",
		 reason, errname(err), (double)(sfy_log_now_us() - t0) / 1000.0);
}

/* -vv: each handshake state as the driver enters it. */
static void trace_state(void *arg, size_t hop, const char *state)
{
	sfy_debug("connect to %s: hop %zu: %s", (const char *)arg, hop + 1,
		  state);
}

/* Dials the first hop (each of its addresses in turn) and runs the
 * handshake; the address dialled in *to. */
static int via_proxy(int fd, int fam, const struct socks5_addr *dst,
		     const char *dstname, const struct sfy_config *cfg,
		     struct sockaddr_storage *to)
{
	const struct socks5_io *io = sfy_real_io();
	struct sockaddr_storage px[SFY_PROXY_ADDRS_MAX];
	socklen_t pxlen[SFY_PROXY_ADDRS_MAX], tolen;
	struct socks5_hs_opts opts = { 0 };
	struct socks5_failure why;
	struct socks5_reply bound;
	int64_t deadline = socks5_now_ms() + cfg->timeout_ms;
	int64_t t0 = sfy_log_now_us();
	char hop[SOCKS5_CHAIN_MAX * 600];
	int n, i, rc = -ECONNREFUSED;

	n = sfy_proxy_sockaddrs(px, pxlen, SFY_PROXY_ADDRS_MAX);
	if (n < 0) {
		sfy_warn("connect to %s: the proxy's address is unknown (%s)",
			 dstname, errdesc(-n));
		return n;
	}
	/* The pipelining probe (when this connect runs it) dials the first
	 * address alongside the program's own socket. */
	opts.probe_fd = sfy_pipeline_probe_open(cfg, (struct sockaddr *)&px[0],
						pxlen[0]);
	opts.probe = opts.probe_fd >= 0;
	for (i = 0; i < n; i++) {
		rc = prepare(fd, &fam, &px[i], pxlen[i], to, &tolen);
		if (rc == 0)
			rc = socks5_connect_deadline(io, fd, (struct sockaddr *)to,
						     tolen, deadline);
		if (rc == 0 || rc == -ETIMEDOUT || socket_refused(rc) ||
		    socks5_now_ms() >= deadline)
			break;
	}
	if (rc) {
		if (opts.probe)
			sfy_pipeline_probe_done(opts.probe_fd,
						SOCKS5_PROBE_UNDECIDED);
		if (socket_refused(rc))
			return rc; /* the program's socket, not the proxy */
		socks5_url_format(&cfg->chain[0], hop, sizeof(hop));
		sfy_warn("connect to %s: cannot reach the proxy %s: %s (%s), after %.1f ms",
			 dstname, hop, errdesc(-rc), errname(-rc),
			 (double)(sfy_log_now_us() - t0) / 1000.0);
		return rc;
	}
	memset(&why, 0, sizeof(why));
	opts.pipeline = sfy_pipeline_hops(cfg);
	if (sfy_log_level() >= SFY_LOG_DEBUG) {
		opts.trace = trace_state;
		opts.trace_arg = (void *)dstname;
	}
	/* Inside: a GSSAPI hop's Kerberos library talks to the KDC with
	 * libc's sockets, which must not come back to us. */
	sfy_inside_enter();
	rc = socks5_handshake_ex(io, fd, cfg->chain, cfg->nhops,
				 SOCKS5_CMD_CONNECT, dst, deadline, &opts,
				 &bound, &why);
	sfy_inside_leave();
	if (opts.probe)
		sfy_pipeline_probe_done(opts.probe_fd, opts.probe_result);
	if (rc < 0) {
		log_failure(dstname, cfg, &why, -rc, t0);
		return rc;
	}
	/* -v: one line per proxied connection (failures have their warn). */
	if (sfy_log_level() >= SFY_LOG_INFO) {
		sfy_log_chain(hop, sizeof(hop), cfg->chain, cfg->nhops);
		sfy_info("connect to %s via %s: ok in %.1f ms", dstname, hop,
			 (double)(sfy_log_now_us() - t0) / 1000.0);
	}
	return 0;
}

/* The SOCKS destination for a normalised address: the name behind a
 * fake address, else the address itself. */
static int destination(const struct sockaddr *norm, socklen_t normlen,
		       struct socks5_addr *dst)
{
	char name[SOCKS5_DOMAIN_MAX + 1], shown[SOCKS5_DOMAIN_MAX + 16];
	struct socks5_addr a;

	if (socks5_addr_from_sockaddr(&a, norm, normlen) != SOCKS5_OK)
		return -EINVAL;
	if (!sfy_fakeip_in_range(norm)) {
		*dst = a;
		return 0;
	}
	if (sfy_fakeip_name(norm, name, sizeof(name)) == 0 &&
	    socks5_addr_from_domain(dst, name, strlen(name), a.port) ==
		    SOCKS5_OK)
		return 0;
	socks5_addr_format(&a, shown, sizeof(shown));
	sfy_error("connect to %s: a fake address whose name is unknown here (from another process or an older map); not connecting anywhere",
		  shown);
	return -UNKNOWN_FAKE_ERRNO;
}

/* fd holds our TCP record and is still the socket we connected (its
 * peer is the proxy address we dialled). A record left by a close we did
 * not see, or by a connection that is gone, is dropped: this connect()
 * then goes through the proxy afresh (on a dead socket of ours the kernel
 * answers EISCONN, as it would without us). */
static bool still_ours(int fd, struct sfy_fd_info *info)
{
	struct sockaddr_storage peer;
	socklen_t len;
	int rc;

	if (!sfy_fd_get(fd, info) || info->kind != SFY_FD_TCP)
		return false;
	rc = sfy_tcp_record_check(fd, info, &peer, &len);
	if (rc < 0)
		sfy_fd_drop_stale(fd); /* gone: a reset, or not a socket now */
	return rc == 1;
}

__attribute__((noinline)) int sfy_tcp_connect(int fd, const struct sockaddr *sa,
					    socklen_t len)
{
	const struct sfy_config *cfg = sfy_config();
	const struct sfy_real *r = sfy_real();
	struct sockaddr_storage norm;
	struct sfy_fd_info info;
	struct socks5_addr dst;
	struct sockaddr_storage via;
	char shown[SOCKS5_DOMAIN_MAX + 16];
	socklen_t normlen;
	int fam, rc;

	/* The socket's family, as far as a connect() that can succeed goes:
	 * the kernel refuses a destination of the other family, and so does
	 * our first connect to the proxy (socket_refused) or prepare(). One
	 * system call fewer than asking. */
	fam = sa->sa_family;
	normlen = normalize(sa, len, &norm);
	if (!normlen)
		return SFY_PASS;
	if (still_ours(fd, &info))
		return -EISCONN; /* a second connect() after our success */
	if (!sfy_fakeip_in_range((struct sockaddr *)&norm) &&
	    sfy_policy_direct_addr((struct sockaddr *)&norm))
		return SFY_PASS;
	if (cfg->broken) {
		sfy_info("connect refused: the socksify configuration is broken (see the first message)");
		return -cfg->broken_errno;
	}
	if (!r->fcntl || !r->dup3 || !r->close || !r->connect || !r->poll ||
	    !r->send || !r->recv)
		return -ENOSYS;
	rc = destination((struct sockaddr *)&norm, normlen, &dst);
	if (rc)
		return rc;
	socks5_addr_format(&dst, shown, sizeof(shown));
	/* socks5_connect_deadline puts the caller's file status flags back
	 * after each attempt, and the handshake's I/O does not depend on
	 * them, so there is nothing more to save here. */
	rc = via_proxy(fd, fam, &dst, shown, cfg, &via);
	if (rc)
		return family_refusal(fd, sa, len, rc);
	/* Connected without waiting in connect(): once more, so that the
	 * kernel counts it connected (send(MSG_FASTOPEN) is EISCONN). */
	r->connect(fd, (struct sockaddr *)&via,
		   via.ss_family == AF_INET ? sizeof(struct sockaddr_in) :
					      sizeof(struct sockaddr_in6));
	memset(&info, 0, sizeof(info));
	memcpy(&info.via, &via, sizeof(info.via));
	info.kind = SFY_FD_TCP;
	info.family = fam;
	info.peer_len = sa->sa_family == AF_INET ? sizeof(struct sockaddr_in) :
						   sizeof(struct sockaddr_in6);
	memcpy(&info.peer, sa, len < info.peer_len ? len : info.peer_len);
	if (sfy_fd_set(fd, &info))
		sfy_debug("fd %d: no room to remember its destination; getpeername() will show the proxy",
			  fd);
	return 0;
}

/* A connect() whose destination the address alone does not send direct:
 * out of line, so that connect() itself saves no registers for it. */
/* TCP, UDP or neither, as the kernel says the socket's type is. */
static int connect_by_type(int fd, const struct sockaddr *sa, socklen_t len)
{
	int type;

	if (sfy_sock_type(fd, &type))
		return SFY_PASS; /* the real call reports EBADF / ENOTSOCK */
	if (type == SOCK_DGRAM)
		return sfy_udp_connect_route(fd, sa, len);
	if (type != SOCK_STREAM)
		return SFY_PASS;
	return sfy_tcp_connect(fd, sa, len);
}

static __attribute__((noinline)) int connect_inet(int fd,
						  const struct sockaddr *sa,
						  socklen_t len)
{
	const struct sfy_real *r = sfy_real();
	int saved = errno, rc;

	/* A stream socket we saw made needs no question to the kernel; a
	 * stale hint shows as -EPROTOTYPE before anything was sent. */
	if (sfy_hint_stream(fd)) {
		rc = sfy_tcp_connect(fd, sa, len);
		if (rc == -EPROTOTYPE) {
			sfy_hint_set(fd, false);
			rc = connect_by_type(fd, sa, len);
		}
	} else {
		rc = connect_by_type(fd, sa, len);
	}
	if (rc == SFY_PASS) {
		errno = saved;
		rc = r->connect(fd, sa, len);
		if (rc == 0 && sfy_fd_maybe_udp(fd))
			sfy_udp_after_connect(fd); /* now a direct peer */
		return rc;
	}
	if (rc < 0) {
		errno = -rc;
		return -1;
	}
	errno = saved;
	return 0;
}

int sfy_connect(int fd, const struct sockaddr *sa, socklen_t len)
{
	const struct sfy_real *r = sfy_real();
	int rc;

	if (!r->connect) {
		errno = ENOSYS;
		return -1;
	}
	/* Most connect() calls of most programs go direct (loopback, by
	 * default): decided on the address alone, before the system call
	 * that asks for the socket's type. TCP and UDP decide alike here.
	 * sfy_policy_direct_addr is never true for a fake address. */
	if (sfy_is_inet(sa, len) && !sfy_inside() && sfy_config()->enabled &&
	    !sfy_policy_direct_addr(sa))
		return connect_inet(fd, sa, len);
	if (sa && len >= sizeof(sa_family_t) && sa->sa_family == AF_UNSPEC &&
	    sfy_fd_maybe_udp(fd) && !sfy_inside())
		return sfy_udp_unconnect(fd, sa, len);
	rc = r->connect(fd, sa, len);
	if (rc == 0 && sfy_fd_maybe_udp(fd))
		sfy_udp_after_connect(fd); /* AF_UNSPEC: disconnected; or a direct peer */
	return rc;
}

int connect(int fd, const struct sockaddr *sa, socklen_t len)
	SFY_EXPORT_AS(sfy_connect);
