/*
 * connect(): ask where it goes (route/decide.h), then carry that out:
 * the real connect() (direct), the chain (tcp/connect.c), the UDP relay
 * (udp/udp_route.c), or a refusal with the decision's errno.
 *
 * A datagram socket's connect(AF_UNSPEC), or its direct connect(), also
 * ends a connection through the relay (udp_route.c, udp_send.c).
 */
#include <errno.h>
#include <sys/socket.h>

#include "base/realfn.h"
#include "dns/dns53.h"
#include "hooks/hooks.h"
#include "route/decide.h"
#include "state/fdstate.h"
#include "state/sockhint.h"
#include "tcp/tcp.h"
#include "udp/udp_io.h"

/* The real connect(), and after it, for a socket that may have been
 * connected through the relay, the end of that. */
static inline int connect_direct(int fd, const struct sockaddr *sa, socklen_t len)
{
	int rc;

	/* No association or name-server socket ever: nothing to end, and
	 * the real call is a tail call (no frame kept around it). */
	if (__builtin_expect(sfy_fd_no_udp_yet(), 1))
		return sfy_real()->connect(fd, sa, len);
	rc = sfy_real()->connect(fd, sa, len);
	if (rc == 0 && sfy_fd_maybe_dgram(fd)) {
		sfy_udp_after_connect(fd); /* AF_UNSPEC, or a direct peer */
		sfy_dns53_disconnected(fd);
	}
	return rc;
}

/* Not direct by the address alone: the socket's part of the decision
 * and what it says, out of line, so that connect() itself saves no
 * registers and no frame for it. */
static __attribute__((noinline)) int connect_routed(int fd,
						    const struct sockaddr *sa,
						    socklen_t len,
						    enum sfy_addr_class cls)
{
	struct sfy_route route;
	int saved = errno, rc;

	switch (sfy_route_connect(fd, sa, len, cls, &route)) {
	case SFY_VIA_CHAIN:
		rc = sfy_tcp_connect_via(fd, sa, len, &route);
		/* A stale stream hint (sockhint.h): nothing was sent; ask
		 * again with the socket's real type. */
		if (rc == -EPROTOTYPE && sfy_hint_stream(fd)) {
			sfy_hint_set(fd, false);
			errno = saved;
			return connect_routed(fd, sa, len, cls);
		}
		break;
	case SFY_VIA_RELAY:
		rc = sfy_udp_connect_via(fd, sa, len, &route);
		break;
	case SFY_REFUSE:
		rc = route.err;
		break;
	default:
		return connect_direct(fd, sa, len);
	}
	if (rc < 0) {
		errno = -rc;
		return -1;
	}
	errno = saved;
	return 0;
}

/* Port 53: a name server the library answers for (dns/dns53.h), else
 * as any destination. */
static __attribute__((noinline)) int connect_dns53(int fd,
						   const struct sockaddr *sa,
						   socklen_t len)
{
	enum sfy_addr_class cls;
	int saved = errno, rc;

	if (sfy_dns53_connect(fd, sa, len, &rc)) {
		if (rc < 0) {
			errno = -rc;
			return -1;
		}
		errno = saved;
		return 0;
	}
	if (!sfy_route_direct_addr(sa, len, &cls))
		return connect_routed(fd, sa, len, cls);
	return connect_direct(fd, sa, len);
}

/* An AF_INET/AF_INET6 destination of the program's own call: step one of
 * the decision (sfy_route_direct_addr), spelled out so that the port-53
 * test rides on the configuration it loads: only with remote DNS does
 * the library answer for a name server (dns53.c), so a local-DNS program
 * pays nothing for it. Out of line: connect() keeps no frame for it. */
static __attribute__((noinline)) int connect_inet(int fd,
						  const struct sockaddr *sa,
						  socklen_t len)
{
	const struct sfy_config *cfg = sfy_config();
	enum sfy_addr_class cls;

	if (cfg->enabled) {
		if (cfg->dns == SFY_DNS_REMOTE && sfy_dns53_port(sa, len))
			return connect_dns53(fd, sa, len);
		cls = sfy_route_classify(sa);
		if (cls != SFY_ADDR_DIRECT)
			return connect_routed(fd, sa, len, cls);
	}
	return connect_direct(fd, sa, len);
}

/* Not AF_INET/AF_INET6 (or the library's own call): direct, but
 * AF_UNSPEC on an associated socket ends its association. */
static __attribute__((noinline)) int connect_other(int fd,
						   const struct sockaddr *sa,
						   socklen_t len)
{
	if (sa && len >= sizeof(sa_family_t) && sa->sa_family == AF_UNSPEC &&
	    sfy_fd_maybe_udp(fd) && !sfy_inside())
		return sfy_udp_unconnect(fd, sa, len);
	return connect_direct(fd, sa, len);
}

/* Every connect() of every program: a look at the address family, then
 * a tail call (AF_UNIX and the like, before any association exists: the
 * real call itself). */
int sfy_connect(int fd, const struct sockaddr *sa, socklen_t len)
{
	int (*real)(int, const struct sockaddr *, socklen_t) =
		SFY_REAL_FAST(connect);

	if (__builtin_expect(!real, 0))
		return sfy_nosys();
	if (sfy_is_inet(sa, len) && !sfy_inside())
		return connect_inet(fd, sa, len);
	if (__builtin_expect(sfy_fd_no_udp_yet(), 1))
		return real(fd, sa, len);
	return connect_other(fd, sa, len);
}

int connect(int fd, const struct sockaddr *sa, socklen_t len)
	SFY_EXPORT_AS(sfy_connect);
