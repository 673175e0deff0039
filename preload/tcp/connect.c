/*
 * A TCP connection through the chain, once the routing decision
 * (route/decide.h) said so: the program's socket is connected to the first
 * hop and handed through the SOCKS5 handshake; the program then owns a
 * plain socket to the proxy, and its record (state/fdstate.h) remembers
 * the destination for getpeername().
 *
 * A blocking socket does the handshake here, bounded by
 * SOCKSIFY_TIMEOUT_MS; a non-blocking one (or a blocking one a signal or
 * SO_SNDTIMEO may cut short) hands it to tcp/async.c's machine.
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

#include "base/config.h"
#include "base/log.h"
#include "base/realfn.h"
#include "base/sockaddr.h"
#include "base/sockopt.h"
#include "hooks/hooks.h"
#include "route/decide.h"
#include "state/fdstate.h"
#include "tcp/async.h"
#include "tcp/bind.h"
#include "tcp/gss_stream.h"
#include "tcp/chainrun.h"
#include "tcp/pipeline.h"
#include "tcp/tcp.h"

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
	int fam = rc == -EINVAL || rc == -EAFNOSUPPORT ? sfy_sock_domain(fd) : -1;

	if (fam < 0 || fam == sa->sa_family)
		return rc;
	return fam == AF_INET6 && len < SFY_SIN6_LEN_MIN ? -EINVAL :
							   -EAFNOSUPPORT;
}

/* Puts a fresh stream socket of family onto fd's number, when fd is of
 * the family the destination said (expected). */
static int replace_socket(int fd, int family, int expected)
{
	const struct sfy_real *r = sfy_real();
	int fdflags, flflags, proto = 0, s, type, rc = 0;

	/* The family was taken from the destination; here, where it would
	 * change, is where it is checked (an AF_INET6 socket given an IPv4
	 * address: the kernel's EINVAL, not a proxied connection). */
	rc = sfy_sock_domain(fd);
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
	if (sfy_sockopt_int(fd, SOL_SOCKET, SO_PROTOCOL, &proto) < 0)
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

	memcpy(to, px, pxlen);
	*tolen = pxlen;
	if (px->ss_family == *fam)
		return 0;
	if (*fam == AF_INET6 && px->ss_family == AF_INET &&
	    (sfy_sockopt_int(fd, IPPROTO_IPV6, IPV6_V6ONLY, &v6only) < 0 ||
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

static void log_failure(const char *what, const char *dst,
			const struct sfy_attempt *a,
			const struct socks5_failure *why, int err, int64_t t0)
{
	char hop[600], reason[160];
	size_t h = why->hop >= 0 && (size_t)why->hop < a->nhops ?
			   (size_t)why->hop : 0;

	socks5_url_format(sfy_attempt_hop(a, h), hop, sizeof(hop));
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
	sfy_warn("%s %s via %s (hop %zu of %zu) failed in %s: %s (%s), after %.1f ms",
		 what, dst, hop, h + 1, a->nhops, why->state ? why->state : "?",
		 reason, errname(err), (double)(sfy_log_now_us() - t0) / 1000.0);
}

/* -vv: each handshake state as the driver enters it. */
static void trace_state(void *arg, size_t hop, const char *state)
{
	sfy_debug("connect to %s: hop %zu: %s", (const char *)arg, hop + 1,
		  state);
}

/* What via_proxy needs besides the attempt (chainrun.h). */
struct via {
	int fd, fam, fl; /* fl: the file status flags, asked once (or -1) */
	const struct socks5_addr *dst;
	const char *dstname;
	const char *what; /* "connect to", "BIND for": for the log lines */
	uint8_t cmd;      /* at the last hop: CONNECT, or BIND (tcp/bind.c) */
	struct socks5_reply *bound; /* out, when not NULL: the last reply */
	const struct sfy_config *cfg;
	struct sockaddr_storage to;
	bool started; /* in: wait in tcp/async.h; out: the handshake runs there */
};

/* A non-blocking socket: the real connect() to the first hop's first
 * address, and no wait; *started stays true when the connection is under
 * way (tcp/async.h takes the handshake from there). */
static int start_first_hop(int fd, int fam, const struct sockaddr_storage *px,
			   socklen_t pxlen, struct sockaddr_storage *to, int fl,
			   bool *started)
{
	const struct sfy_real *r = sfy_real();
	socklen_t tolen;
	int rc = prepare(fd, &fam, px, pxlen, to, &tolen), type, at_once = 0;

	/* A blocking socket that waits in tcp/async.h (sfy_async_block):
	 * non-blocking for the real connect() alone (fl: its F_GETFL). */
	if (rc == 0 && !(fl & O_NONBLOCK))
		r->fcntl(fd, F_SETFL, fl | O_NONBLOCK);
	else
		fl = -1;
	if (rc == 0 && !(at_once = !r->connect(fd, (struct sockaddr *)to,
					       tolen)) && errno != EINPROGRESS)
		rc = -errno;
	if (fl >= 0)
		r->fcntl(fd, F_SETFL, fl);
	/* A stale stream hint (sockhint.h) on a datagram socket connects at
	 * once (TCP: EINPROGRESS): the caller starts over with its type. */
	if (at_once && sfy_sock_type(fd, &type) == 0 && type != SOCK_STREAM)
		rc = -EPROTOTYPE;
	if (rc)
		*started = false;
	return rc;
}

/* A connection attempt that failed already (a refusal on loopback comes
 * back before connect() returns): its error taken, true. */
static bool refused_now(int fd)
{
	struct pollfd p = { .fd = fd, .events = POLLOUT };
	int err = 0;

	return sfy_real()->poll(&p, 1, 0) == 1 && (p.revents & POLLERR) &&
	       sfy_sockopt_int(fd, SOL_SOCKET, SO_ERROR, &err) == 0 && err;
}


/* One attempt (chainrun.h): dials the attempt's first hop (each of its
 * addresses in turn) and runs the handshake over its hops; the address
 * dialled in v->to. A later attempt first drops what the one before left
 * connected (connect(AF_UNSPEC)). */
static int via_proxy(void *arg, struct sfy_attempt *a)
{
	struct via *v = arg;
	const struct sfy_config *cfg = v->cfg;
	const struct socks5_io *io = sfy_real_io();
	struct sockaddr_storage px[SFY_PROXY_ADDRS_MAX];
	socklen_t pxlen[SFY_PROXY_ADDRS_MAX], tolen;
	struct socks5_hs_opts opts = { .pick = a->pick };
	struct socks5_reply bound;
	int64_t deadline = a->deadline;
	int64_t t0 = sfy_log_now_us();
	char hop[SFY_LOG_CHAIN_MAX];
	int n, i, rc = -ECONNREFUSED;

	if (a->n > 0) {
		struct sockaddr unspec = { .sa_family = AF_UNSPEC };

		sfy_real()->connect(v->fd, &unspec, sizeof(unspec));
	}
	n = sfy_hop_sockaddrs(a->first, px, pxlen, SFY_PROXY_ADDRS_MAX);
	if (n < 0) {
		sfy_warn("%s %s: the proxy's address is unknown (%s)",
			 v->what, v->dstname, errdesc(-n));
		return n;
	}
	/* Without waiting (SOCKSIFY_CHAIN=strict only: the other modes fail
	 * over between attempts): the handshake runs in the waits. The next
	 * address only after one refused at once (loopback answers a SYN at
	 * once). */
	if (v->started && (cfg->chain_mode != SFY_CHAIN_STRICT ||
			   !a->as_configured || a->n > 0))
		v->started = false; /* in connect(), as before */
	for (i = 0; v->started && i < n; i++) {
		rc = start_first_hop(v->fd, v->fam, &px[i], pxlen[i], &v->to,
				     v->fl, &v->started);
		if (rc || i + 1 == n || !refused_now(v->fd)) {
			a->reached = rc == 0;
			a->final = true; /* no failover from here */
			return rc;
		}
	}
	/* The pipelining probe (when this connect runs it) dials the first
	 * address alongside the program's own socket; it learns about the
	 * configured first hop only. */
	opts.probe_fd = a->as_configured && v->cmd == SOCKS5_CMD_CONNECT ?
				sfy_pipeline_probe_open(cfg, (struct sockaddr *)&px[0],
							pxlen[0]) : -1;
	opts.probe = opts.probe_fd >= 0;
	for (i = 0; i < n; i++) {
		rc = prepare(v->fd, &v->fam, &px[i], pxlen[i], &v->to, &tolen);
		if (rc == 0)
			rc = socks5_connect_deadline(io, v->fd,
						     (struct sockaddr *)&v->to,
						     tolen, deadline);
		if (rc == 0 || rc == -ETIMEDOUT || socket_refused(rc) ||
		    socks5_now_ms() >= deadline)
			break;
	}
	if (rc) {
		if (opts.probe)
			sfy_pipeline_probe_done(opts.probe_fd,
						SOCKS5_PROBE_UNDECIDED);
		if (socket_refused(rc)) {
			a->final = true;
			return rc; /* the program's socket, not the proxy */
		}
		socks5_url_format(sfy_attempt_hop(a, 0), hop, sizeof(hop));
		sfy_warn("%s %s: cannot reach the proxy %s: %s (%s), after %.1f ms",
			 v->what, v->dstname, hop, errdesc(-rc), errname(-rc),
			 (double)(sfy_log_now_us() - t0) / 1000.0);
		return rc;
	}
	a->reached = true;
	memset(&a->why, 0, sizeof(a->why));
	opts.pipeline = a->as_configured ? sfy_pipeline_hops(cfg) :
			cfg->pipeline == SFY_PIPELINE_ON ? ~0u : 0;
	if (sfy_log_level() >= SFY_LOG_DEBUG) {
		opts.trace = trace_state;
		opts.trace_arg = (void *)v->dstname;
	}
	/* Inside: a GSSAPI hop's Kerberos library talks to the KDC with
	 * libc's sockets, which must not come back to us. */
	sfy_inside_enter();
	opts.gss_take = true;
	rc = socks5_handshake_ex(io, v->fd, a->chain, a->nhops,
				 v->cmd, v->dst, deadline, &opts,
				 &bound, &a->why);
	sfy_inside_leave();
	if (opts.probe)
		sfy_pipeline_probe_done(opts.probe_fd, opts.probe_result);
	if (rc < 0) {
		log_failure(v->what, v->dstname, a, &a->why, -rc, t0);
		return rc;
	}
	if (v->bound)
		*v->bound = bound;
	/* Integrity or confidentiality: the data is wrapped from now on. */
	if (opts.gss_sec && (rc = sfy_gss_adopt(v->fd, opts.gss_sec)) < 0) {
		sfy_warn("connect to %s: no room for a GSSAPI-protected stream (%s)",
			 v->dstname, errname(-rc));
		a->final = true;
		return rc;
	}
	/* -v: one line per proxied connection (failures have their warn). */
	if (sfy_log_level() >= SFY_LOG_INFO) {
		sfy_log_chain(hop, sizeof(hop), a->chain, a->pick, a->nhops);
		sfy_info("%s %s via %s: ok in %.1f ms", v->what, v->dstname, hop,
			 (double)(sfy_log_now_us() - t0) / 1000.0);
	}
	return 0;
}

/* Connected without waiting in connect(): once more, so that the kernel
 * counts the socket connected (send(MSG_FASTOPEN) is EISCONN). */
static void connect_again(int fd, const struct sockaddr_storage *via)
{
	sfy_real()->connect(fd, (const struct sockaddr *)via,
			    via->ss_family == AF_INET ?
				    sizeof(struct sockaddr_in) :
				    sizeof(struct sockaddr_in6));
}

/* SO_SNDTIMEO in milliseconds (0: none, or unknown). */
static int sndtimeo_ms(int fd)
{
	struct timeval tv = { 0, 0 };
	socklen_t l = sizeof(tv);

	if (sfy_real()->getsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, &l) < 0)
		return 0;
	return tv.tv_sec > 1000000 ? 1000000000 :
	       (int)(tv.tv_sec * 1000 + (tv.tv_usec + 999) / 1000);
}

/* The handshake of a non-blocking socket whose connection to the first
 * hop is under way, left to the program's waits (tcp/async.h). */
static int start_async(int fd, const struct sfy_config *cfg,
		       const struct sfy_route *route, const char *shown,
		       const struct sfy_fd_info *info)
{
	int rc = sfy_async_start(fd, cfg, &route->dst, shown, info);

	if (rc == 1) {
		sfy_warn("connect to %s: too many connections waiting for the proxy at once",
			 shown);
		rc = -EAGAIN;
	}
	if (rc < 0 && rc != -EINPROGRESS)
		sfy_fd_clear(fd);
	return rc;
}

int sfy_tcp_connect_via(int fd, const struct sockaddr *sa, socklen_t len,
			const struct sfy_route *route)
{
	const struct sfy_config *cfg = sfy_config();
	const struct sfy_real *r = sfy_real();
	struct sfy_fd_info info;
	struct socks5_reply bound;
	struct via v;
	char shown[SOCKS5_DOMAIN_MAX + 16];
	bool blocking = false;
	int fam, rc, sndtimeo;

	if (!r->fcntl || !r->dup3 || !r->close || !r->connect || !r->poll ||
	    !r->send || !r->recv)
		return -ENOSYS;
	/* The socket's family, as far as a connect() that can succeed goes:
	 * the kernel refuses a destination of the other family, and so does
	 * our first connect to the proxy (socket_refused) or prepare(). One
	 * system call fewer than asking. */
	fam = sa->sa_family;
	socks5_addr_format(&route->dst, shown, sizeof(shown));
	/* socks5_connect_deadline puts the caller's file status flags back
	 * after each attempt, and the handshake's I/O does not depend on
	 * them, so there is nothing more to save here. */
	v = (struct via){ .fd = fd, .fam = fam, .dst = &route->dst,
			  .dstname = shown, .what = "connect to",
			  .cmd = SOCKS5_CMD_CONNECT, .bound = &bound,
			  .cfg = cfg };
	v.started = ((v.fl = r->fcntl(fd, F_GETFL)) & O_NONBLOCK) != 0;
	/* A blocking socket with SO_SNDTIMEO, or in a program with a signal
	 * handler without SA_RESTART: the handshake of a non-blocking one,
	 * waited for here, so that both interrupt it as they interrupt the
	 * kernel's connect() (sfy_async_block); and where early data is on,
	 * so that connect() returns once the handshake is sent. */
	sndtimeo = v.started ? 0 : sndtimeo_ms(fd);
	if (!v.started && (sndtimeo > 0 || sfy_async_early_ok(cfg) ||
			   atomic_load_explicit(&sfy_sig_interrupts,
						memory_order_relaxed)))
		blocking = v.started = true;
	rc = sfy_chain_connect(cfg, shown, via_proxy, &v);
	if (rc)
		return family_refusal(fd, sa, len, rc);
	/* The host a listening socket would expect to connect back (BIND,
	 * tcp/bind.h). */
	sfy_bind_note_peer(&route->dst);
	if (!v.started)
		connect_again(fd, &v.to);
	memset(&info, 0, sizeof(info));
	memcpy(&info.via, &v.to, sizeof(info.via));
	info.kind = SFY_FD_TCP;
	info.family = fam;
	info.peer_len = sa->sa_family == AF_INET ? sizeof(struct sockaddr_in) :
						   sizeof(struct sockaddr_in6);
	memcpy(&info.peer, sa, len < info.peer_len ? len : info.peer_len);
	/* getsockname() then shows where the destination sees us from (the
	 * asynchronous handshake fills it in when done, tcp/async.c). */
	if (!v.started)
		info.bnd_len = sfy_bind_connect_shown(&bound.bnd, fam,
						      &info.bnd);
	if (sfy_fd_set(fd, &info))
		sfy_debug("fd %d: no room to remember its destination; getpeername() will show the proxy",
			  fd);
	if (!v.started)
		return 0;
	rc = start_async(fd, cfg, route, shown, &info);
	if (blocking && rc == -EINPROGRESS)
		rc = sfy_async_block(fd, sndtimeo);
	if (blocking && rc == 0)
		connect_again(fd, &v.to); /* as a blocking connect() leaves it */
	return rc;
}

int sfy_tcp_chain_cmd(int fd, uint8_t cmd, const struct socks5_addr *dst,
		      const char *what, struct socks5_reply *bound)
{
	const struct sfy_config *cfg = sfy_config();
	char shown[SOCKS5_DOMAIN_MAX + 16];
	struct via v;
	int fam = sfy_sock_domain(fd);

	if (fam < 0)
		return fam;
	socks5_addr_format(dst, shown, sizeof(shown));
	v = (struct via){ .fd = fd, .fam = fam, .dst = dst, .dstname = shown,
			  .what = what, .cmd = cmd, .bound = bound,
			  .cfg = cfg, .fl = -1 };
	return sfy_chain_connect(cfg, shown, via_proxy, &v);
}

int sfy_tcp_record_check(int fd, const struct sfy_fd_info *info,
			 struct sockaddr_storage *peer, socklen_t *len)
{
	const struct sfy_real *r = sfy_real();
	int saved = errno, rc;

	*len = sizeof(*peer);
	if (!r->getpeername)
		rc = -ENOSYS;
	else if (r->getpeername(fd, (struct sockaddr *)peer, len) < 0)
		rc = -errno;
	else if (sfy_fd_tcp_same(info, (struct sockaddr *)peer, *len))
		rc = 1;
	else {
		sfy_fd_drop_stale(fd);
		rc = 0;
	}
	errno = saved;
	return rc;
}
