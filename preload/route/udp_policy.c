/*
 * Where a datagram goes, decided from its address alone (the routing
 * decision, decide.c, for sends; udp_recv.c to know which sources of
 * replies are direct ones):
 *
 *   - bypassed destinations (SOCKSIFY_NO_PROXY, loopback by default) and
 *     DNS to a resolver on loopback (port 53, e.g. systemd-resolved's
 *     127.0.0.53: local DNS needs it even when the bypass list is empty)
 *     go direct;
 *   - a broken configuration fails closed;
 *   - SOCKSIFY_UDP=block refuses with ENETUNREACH;
 *   - SOCKSIFY_UDP=direct sends direct, except to a fake address (remote
 *     DNS), which only the relay can reach;
 *   - with a chain, UDP is refused unless SOCKSIFY_UDP=first-hop: a hop's
 *     relay takes datagrams only from the hop before it, so no chain
 *     carries UDP, and leaving at the first hop is the user's call;
 *   - everything else goes through the relay.
 */
#include <errno.h>
#include <netinet/in.h>
#include <string.h>

#include "base/config.h"
#include "base/sockaddr.h"
#include "route/decide.h"

#define DNS_PORT 53

static bool loopback_dns(const struct sockaddr *sa)
{
	uint16_t port;
	int fam;

	return sfy_addr_bytes(sa, &fam, &port) && ntohs(port) == DNS_PORT &&
	       sfy_addr_is_loopback(sa);
}

static enum sfy_verdict refuse(struct sfy_route *r, int err, const char *why)
{
	r->err = err;
	r->why = why;
	return r->verdict = SFY_REFUSE;
}

enum sfy_verdict sfy_udp_rule(const struct sockaddr *sa,
			      enum sfy_addr_class cls, struct sfy_route *r)
{
	const struct sfy_config *cfg = sfy_config();
	bool fake = cls == SFY_ADDR_FAKE;

	if (cls == SFY_ADDR_DIRECT || (!fake && loopback_dns(sa)))
		return SFY_DIRECT;
	if (cfg->broken)
		return refuse(r, -cfg->broken_errno,
			      "the socksify configuration is broken (see the first message)");
	if (cfg->udp == SFY_UDP_BLOCK)
		return refuse(r, -ENETUNREACH,
			      fake ? "SOCKSIFY_UDP=block (and the address stands for a host name only the proxy can resolve)" :
				     "SOCKSIFY_UDP=block");
	if (cfg->udp == SFY_UDP_DIRECT && !fake)
		return SFY_DIRECT;
	if (cfg->nhops > 1 && cfg->udp != SFY_UDP_FIRST_HOP)
		return refuse(r, -ENETUNREACH,
			      "UDP cannot cross a chain of proxies (each relay takes datagrams only from the hop before it); SOCKSIFY_UDP=first-hop sends it through the first hop's relay, SOCKSIFY_UDP=direct sends it direct");
	return SFY_VIA_RELAY;
}
