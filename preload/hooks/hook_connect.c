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
	int rc = sfy_real()->connect(fd, sa, len);

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

int sfy_connect(int fd, const struct sockaddr *sa, socklen_t len)
{
	enum sfy_addr_class cls;

	if (!sfy_real()->connect)
		return sfy_nosys();
	if (sfy_dns53_port(sa, len))
		return connect_dns53(fd, sa, len);
	if (!sfy_route_direct_addr(sa, len, &cls))
		return connect_routed(fd, sa, len, cls);
	if (sa && len >= sizeof(sa_family_t) && sa->sa_family == AF_UNSPEC &&
	    sfy_fd_maybe_udp(fd) && !sfy_inside())
		return sfy_udp_unconnect(fd, sa, len);
	return connect_direct(fd, sa, len);
}

int connect(int fd, const struct sockaddr *sa, socklen_t len)
	SFY_EXPORT_AS(sfy_connect);
