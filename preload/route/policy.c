/*
 * Policy: direct or proxied. Reads only the frozen configuration, so it
 * needs no lock. Addresses are compared as network-order bytes; an
 * IPv4-mapped IPv6 address (::ffff:a.b.c.d) is treated as the IPv4 address
 * it carries, because that is where the kernel sends it.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "base/sockaddr.h"
#include "dns/fakeip.h"
#include "route/bypassmap.h"
#include "route/policy.h"

/* The proxy's own address and port: the library connects there itself
 * with the real connect(), and a program doing the same (a status page,
 * `socksify --check`) must reach it rather than be sent through it. */
static bool is_first_hop(const struct sockaddr *sa)
{
	struct sockaddr_storage px[SFY_PROXY_ADDRS_MAX];
	socklen_t lens[SFY_PROXY_ADDRS_MAX];
	int n, i;

	n = sfy_proxy_sockaddrs(px, lens, SFY_PROXY_ADDRS_MAX);
	for (i = 0; i < n; i++)
		if (sfy_addr_port_equal(sa, (const struct sockaddr *)&px[i]))
			return true;
	return false;
}

/* sa's port (network order), AF_INET or AF_INET6. */
static inline uint16_t port_of(const struct sockaddr *sa)
{
	return sa->sa_family == AF_INET ?
		       ((const struct sockaddr_in *)sa)->sin_port :
		       ((const struct sockaddr_in6 *)sa)->sin6_port;
}

bool sfy_policy_direct_addr(const struct sockaddr *sa)
{
	if (sa->sa_family != AF_INET && sa->sa_family != AF_INET6)
		return true;
	return !sfy_fakeip_in_range(sa) && sfy_policy_bypassed(sa);
}

/* The rest of sfy_policy_bypassed, out of line: the common case (an IPv4
 * destination in an IPv4 range, loopback by default) then costs no saved
 * registers. For AF_INET the IPv4 ranges were tried already, and no other
 * range can match a sockaddr_in (sfy_cidr_match). */
static __attribute__((noinline)) bool
bypassed_rest(const struct sockaddr *sa, const struct sfy_config *cfg)
{
	int i;

	if (sa->sa_family != AF_INET && sa->sa_family != AF_INET6)
		return true;
	if (cfg->bypass.all)
		return true;
	for (i = 0; sa->sa_family == AF_INET6 && i < cfg->bypass.ncidrs; i++) {
		const struct sfy_cidr *c = &cfg->bypass.cidrs[i];

		if (sfy_cidr_match(c, sa) && (!c->port || c->port == port_of(sa)))
			return true;
	}
	/* An address the resolver gave this process for a bypassed name. */
	if (sfy_bypassmap_has(sa))
		return true;
	return cfg->enabled && cfg->nhops > 0 && is_first_hop(sa);
}

bool sfy_policy_bypassed(const struct sockaddr *sa)
{
	const struct sfy_config *cfg = sfy_config();
	int i;

	/* IPv4 against the IPv4 ranges, made ready (bypasslist.c), without
	 * a call: this runs in every connect() that goes direct. */
	if (sa->sa_family == AF_INET) {
		const struct sockaddr_in *in = (const struct sockaddr_in *)sa;

		for (i = 0; i < cfg->bypass.nv4; i++) {
			const struct sfy_bypass4 *r = &cfg->bypass.v4[i];

			if (!((in->sin_addr.s_addr ^ r->net) & r->mask) &&
			    (!r->port || r->port == in->sin_port))
				return true;
		}
	}
	return bypassed_rest(sa, cfg);
}

/* curl's rule (lib/noproxy.c): an entry matches the name itself and every
 * name under it ("example.com" covers www.example.com, not
 * notexample.com); the parser stored it without a leading dot. */
static bool entry_match(const char *name, size_t nlen, const char *entry)
{
	size_t elen = strlen(entry);

	if (nlen == elen)
		return !strncasecmp(name, entry, elen);
	return nlen > elen && name[nlen - elen - 1] == '.' &&
	       !strncasecmp(name + nlen - elen, entry, elen);
}

/* "[v6]" (a URL's spelling) as the address it holds. */
static bool bracketed_v6(const char *name, struct sockaddr_in6 *in6)
{
	char buf[INET6_ADDRSTRLEN];
	size_t len = strlen(name);

	if (len < 3 || len - 2 >= sizeof(buf) || name[0] != '[' ||
	    name[len - 1] != ']')
		return false;
	memcpy(buf, name + 1, len - 2);
	buf[len - 2] = '\0';
	return inet_pton(AF_INET6, buf, &in6->sin6_addr) == 1;
}

bool sfy_policy_direct_name(const char *name)
{
	const struct sfy_config *cfg = sfy_config();
	struct sockaddr_in6 in6;
	struct sockaddr_in in;
	size_t nlen;
	int i;

	if (!name || !*name)
		return false;
	if (cfg->bypass.all)
		return true;
	/* A numeric host is matched against the address ranges. */
	memset(&in, 0, sizeof(in));
	memset(&in6, 0, sizeof(in6));
	if (inet_pton(AF_INET, name, &in.sin_addr) == 1) {
		in.sin_family = AF_INET;
		return sfy_policy_direct_addr((struct sockaddr *)&in);
	}
	if (inet_pton(AF_INET6, name, &in6.sin6_addr) == 1 ||
	    bracketed_v6(name, &in6)) {
		in6.sin6_family = AF_INET6;
		return sfy_policy_direct_addr((struct sockaddr *)&in6);
	}
	nlen = strlen(name);
	if (nlen > 1 && name[nlen - 1] == '.')
		nlen--; /* "example.com." is example.com */
	for (i = 0; i < cfg->bypass.nnames; i++)
		if (entry_match(name, nlen, cfg->bypass.names[i]))
			return true;
	return false;
}
