/*
 * The routing decision's second step, the socket's part (the address's
 * is inline in decide.h), and io_uring's. Every refusal is logged here, once,
 * with its reason; the hooks only carry the verdict out. errno is left as
 * it was.
 *
 * io_uring: a program that submits IORING_OP_CONNECT, _SEND or _SENDMSG
 * makes the kernel connect and send without any libc call we could see,
 * and inspecting submissions is not safe: the submission ring is memory
 * the kernel reads on its own schedule (SQPOLL: without any system call),
 * so whatever we checked could be changed before the kernel reads it.
 * So io_uring_setup is refused with ENOSYS, as a kernel without io_uring
 * does; runtimes that use io_uring check for that and fall back to epoll
 * and the ordinary calls (libuv >= 1.45, tokio-uring's users, liburing's
 * callers that handle io_uring_queue_init failing). One log line per
 * refusal (rare: once per ring a program tries to make).
 * SOCKSIFY_IO_URING=allow (base/config.c, so that a program that cleared
 * its environment reads it from the session's settings too) lets
 * io_uring_setup through, for programs that use io_uring only for files;
 * their io_uring network operations then go direct (README's coverage
 * table). What no LD_PRELOAD can see: a program (or library) that makes
 * the system call with its own instruction (liburing >= 2.2 on x86_64,
 * aarch64 and riscv64; Go programs; static binaries). Only
 * syscall(SYS_io_uring_setup, ...) through libc is refused here (glibc has
 * no io_uring_setup wrapper); the socksify command's seccomp filter
 * (tools/ioring.c) refuses the rest for the processes it starts.
 */
#include <errno.h>
#include <stdatomic.h>
#include <string.h>

#include "base/log.h"
#include "base/sockopt.h"
#include "route/decide.h"
#include "route/sockkind.h"
#include "state/sockhint.h"
#include "tcp/async.h"
#include "tcp/tcp.h"
#include "udp/udp_assoc.h"

/* A fake address whose name we do not know (the map was reset, or the
 * address came from another process): the name cannot be sent and the
 * address must not be dialled, so the host is "unreachable". */
#define UNKNOWN_FAKE_ERRNO EHOSTUNREACH
/* Refused datagrams: the first few at warn, the rest at debug (chatty
 * programs). */
#define UDP_WARN_LIMIT 8

static atomic_int udp_warned;

static enum sfy_verdict verdict(struct sfy_route *r, enum sfy_verdict v)
{
	r->verdict = v;
	return v;
}

static enum sfy_verdict refuse(struct sfy_route *r, int err, const char *why)
{
	r->err = err;
	r->why = why;
	return verdict(r, SFY_REFUSE);
}

static void udp_refuse_log(const struct sockaddr *sa, socklen_t len,
			   const char *why)
{
	char shown[SOCKS5_DOMAIN_MAX + 16];
	struct socks5_addr a;
	int level = atomic_fetch_add(&udp_warned, 1) < UDP_WARN_LIMIT ?
			    SFY_LOG_WARN :
			    SFY_LOG_DEBUG;

	if (level > sfy_log_level())
		return;
	if (socks5_addr_from_sockaddr(&a, sa, len) == SOCKS5_OK)
		socks5_addr_format(&a, shown, sizeof(shown));
	else
		strcpy(shown, "?");
	sfy_log_write(level, "UDP to %s refused: %s", shown, why);
}

/* fd holds our TCP record and is still the socket we connected (its
 * peer is the proxy address we dialled). A record left by a close we did
 * not see, or by a connection that is gone, is dropped: this connect()
 * then goes through the proxy afresh (on a dead socket of ours the kernel
 * answers EISCONN, as it would without us). */
static bool still_ours(int fd)
{
	struct sockaddr_storage peer;
	struct sfy_fd_info info;
	socklen_t len;
	int rc;

	if (!sfy_fd_get(fd, &info) || info.kind != SFY_FD_TCP)
		return false;
	rc = sfy_tcp_record_check(fd, &info, &peer, &len);
	if (rc < 0)
		sfy_fd_drop_stale(fd); /* gone: a reset, or not a socket now */
	return rc == 1;
}

/* A stream socket's connect() (or Fast Open send) to sa: through the
 * chain to the name behind a fake address or to the address itself. */
static enum sfy_verdict stream(int fd, const struct sockaddr *sa,
			       socklen_t len, enum sfy_addr_class cls,
			       struct sfy_route *r)
{
	const struct sfy_config *cfg = sfy_config();
	char name[SOCKS5_DOMAIN_MAX + 1], shown[SOCKS5_DOMAIN_MAX + 16];
	struct sockaddr_storage norm;
	struct socks5_addr a;
	socklen_t n;
	int e;

	/* The destination as the kernel would see it: an IPv4-mapped
	 * address becomes plain IPv4 (too short: the real call's EINVAL). */
	n = sfy_addr_copy(sa, len, &norm);
	if (!n)
		return verdict(r, SFY_DIRECT);
	sfy_addr_plain(&norm, &n);
	/* Our handshake of fd still runs in the program's waits (or failed
	 * there): EALREADY, or the failure's errno once, as the kernel's. */
	if (!sfy_async_none() && (e = sfy_async_reconnect(fd)) != 1)
		return refuse(r, e, "connecting through the proxy already");
	if (still_ours(fd)) /* a second connect() after our success */
		return refuse(r, -EISCONN, "connected through the proxy already");
	if (cls == SFY_ADDR_DIRECT)
		return verdict(r, SFY_DIRECT);
	/* dnat (dnat.h): the rewritten address judged again; bypassed, the
	 * program's own address goes direct, as proxychains connects. */
	if (cls == SFY_ADDR_PROXIED && cfg->dnat.n && norm.ss_family == AF_INET &&
	    sfy_dnat_apply(&cfg->dnat, (struct sockaddr_in *)&norm)) {
		cls = sfy_route_classify((struct sockaddr *)&norm);
		if (cls == SFY_ADDR_DIRECT)
			return verdict(r, SFY_DIRECT);
	}
	if (cfg->broken) {
		sfy_info("connect refused: the socksify configuration is broken (see the first message)");
		return refuse(r, -cfg->broken_errno,
			      "the socksify configuration is broken");
	}
	if (socks5_addr_from_sockaddr(&a, (struct sockaddr *)&norm, n) !=
	    SOCKS5_OK)
		return refuse(r, -EINVAL, "not an address");
	if (cls != SFY_ADDR_FAKE) {
		r->dst = a;
		return verdict(r, SFY_VIA_CHAIN);
	}
	if (sfy_fakeip_name((struct sockaddr *)&norm, name, sizeof(name)) ==
		    0 &&
	    socks5_addr_from_domain(&r->dst, name, strlen(name), a.port) ==
		    SOCKS5_OK)
		return verdict(r, SFY_VIA_CHAIN);
	socks5_addr_format(&a, shown, sizeof(shown));
	sfy_error("connect to %s: a fake address whose name is unknown here (from another process or an older map); not connecting anywhere",
		  shown);
	return refuse(r, -UNKNOWN_FAKE_ERRNO,
		      "a fake address whose name is unknown here");
}

/* A datagram (or a Fast Open send) to sa: the address's rule for UDP
 * first, so that most destinations pass without a system call to learn
 * the socket's type. */
static enum sfy_verdict message(int fd, const struct sockaddr *sa,
				socklen_t len, int flags, bool may_connect,
				enum sfy_addr_class cls, struct sfy_route *r)
{
	enum sfy_verdict v = sfy_udp_rule(sa, cls, r);
	int fam;

	r->assoc_known = false;
	if (v == SFY_DIRECT && !(flags & MSG_FASTOPEN) &&
	    !sfy_udp_direct_by_choice(sa)) /* raw, ICMP: never by choice */
		return verdict(r, v);
	if (v == SFY_VIA_RELAY && sfy_assoc_of(fd, &r->info) == 0) {
		/* associated already: no question left but the family (an
		 * AF_INET socket is refused an IPv6 address by the kernel) */
		r->assoc_known = true;
		return verdict(r, r->info.family == AF_INET &&
						  sa->sa_family != AF_INET ?
					  SFY_DIRECT :
					  v);
	}
	if (r->type < 0 && sfy_sock_type(fd, &r->type))
		return verdict(r, SFY_DIRECT); /* the real call: EBADF... */
	if (r->type != SOCK_STREAM &&
	    (fam = sfy_unproxied_send(fd, r->type, sa, len)))
		return refuse(r, fam, "SOCKS carries TCP and UDP only");
	if (r->type == SOCK_STREAM && (flags & MSG_FASTOPEN)) {
		if (may_connect)
			return stream(fd, sa, len, cls, r);
		return v == SFY_DIRECT ?
			       verdict(r, v) :
			       refuse(r, -EOPNOTSUPP,
				      "Fast Open in sendmmsg through the proxy");
	}
	if (v == SFY_DIRECT || r->type != SOCK_DGRAM)
		return verdict(r, SFY_DIRECT); /* a stream ignores the address */
	if (v == SFY_REFUSE) {
		udp_refuse_log(sa, len, r->why);
		return verdict(r, v);
	}
	fam = sfy_sock_domain(fd);
	if ((fam != AF_INET && fam != AF_INET6) ||
	    (fam == AF_INET && sa->sa_family != AF_INET))
		return verdict(r, SFY_DIRECT); /* the kernel answers as it would */
	r->family = fam;
	return verdict(r, SFY_VIA_RELAY);
}

enum sfy_verdict sfy_route_connect(int fd, const struct sockaddr *sa,
				   socklen_t len, enum sfy_addr_class cls,
				   struct sfy_route *r)
{
	int saved = errno;
	enum sfy_verdict v;

	/* A stream socket we saw made needs no question to the kernel; a
	 * stale hint shows as -EPROTOTYPE before anything was sent, and the
	 * hook clears it and asks again (step two only). */
	r->type = -1;
	if (sfy_hint_stream(fd))
		r->type = SOCK_STREAM;
	else if (sfy_sock_type(fd, &r->type))
		return verdict(r, SFY_DIRECT); /* the real call: EBADF... */
	if (r->type == SOCK_DGRAM)
		v = message(fd, sa, len, 0, false, cls, r);
	else if (r->type == SOCK_STREAM)
		v = stream(fd, sa, len, cls, r);
	else if (sfy_unproxied_send(fd, r->type, sa, len)) /* raw sockets */
		v = refuse(r, -ENETUNREACH, "SOCKS carries TCP and UDP only");
	else
		v = verdict(r, SFY_DIRECT);
	errno = saved;
	return v;
}

enum sfy_verdict sfy_route_message(int fd, const struct sockaddr *sa,
				   socklen_t len, int flags, bool may_connect,
				   enum sfy_addr_class cls, struct sfy_route *r)
{
	int saved = errno;
	enum sfy_verdict v = message(fd, sa, len, flags, may_connect, cls, r);

	errno = saved;
	return v;
}

enum sfy_verdict sfy_route_stream(int fd, const struct sockaddr *sa,
				  socklen_t len, struct sfy_route *r)
{
	r->type = SOCK_STREAM;
	return stream(fd, sa, len, sfy_route_classify(sa), r);
}

enum sfy_verdict sfy_route_io_uring(struct sfy_route *r)
{
	const struct sfy_config *cfg = sfy_config();

	if (cfg->io_uring_allow || sfy_inside() ||
	    (!cfg->enabled && !cfg->broken))
		return verdict(r, SFY_DIRECT);
	sfy_warn("io_uring_setup refused (ENOSYS): its network operations would bypass the proxy; the program falls back to ordinary calls if it can (SOCKSIFY_IO_URING=allow lets it through, direct)");
	return refuse(r, -ENOSYS, "io_uring");
}
