/*
 * The remote-DNS routing rule (see dnsroute.h).
 */
#include <errno.h>
#include <netdb.h>
#include <string.h>
#include <strings.h>

#include "base/config.h"
#include "base/log.h"
#include "base/realfn.h"
#include "route/bypassmap.h"
#include "route/dnsroute.h"
#include "route/policy.h"

/* Numeric exactly as glibc's getaddrinfo sees it (inet_aton forms such as
 * "127.1", IPv6 with a %scope): AI_NUMERICHOST never consults NSS. */
static bool is_numeric(const char *name)
{
	const struct sfy_real *r = sfy_real();
	struct addrinfo hints, *res = NULL;

	if (r->getaddrinfo == NULL)
		return false;
	memset(&hints, 0, sizeof(hints));
	hints.ai_flags = AI_NUMERICHOST;
	if (r->getaddrinfo(name, NULL, &hints, &res) != 0)
		return false;
	if (r->freeaddrinfo)
		r->freeaddrinfo(res);
	return true;
}

/* "localhost", "localhost." and any name under ".localhost" (RFC 6761). */
static bool is_localhost(const char *name, size_t len)
{
	static const char lh[] = "localhost";
	size_t n = sizeof(lh) - 1;

	if (len > 0 && name[len - 1] == '.')
		len--;
	if (len < n || strncasecmp(name + len - n, lh, n) != 0)
		return false;
	return len == n || name[len - n - 1] == '.';
}

static void loopback_hosts(struct sfy_hosts_result *h)
{
	memset(h, 0, sizeof(*h));
	h->has4 = h->has6 = true;
	h->n = 2;
	h->addrs[0].family = AF_INET;
	memcpy(h->addrs[0].addr, "\x7f\0\0\x01", 4);
	h->addrs[1].family = AF_INET6;
	h->addrs[1].addr[15] = 1;
	strcpy(h->canon, "localhost");
}

static bool hosts_has_family(const struct sfy_hosts_result *h, int family)
{
	if (family == AF_INET)
		return h->has4;
	if (family == AF_INET6)
		return h->has6;
	return h->has4 || h->has6;
}

/* What the resolver's answers for a name do to the bypassed addresses
 * (bypassmap.h): +1 remember, -1 forget, 0 nothing (no proxy, a broken
 * configuration, everything direct anyway). */
static int note_kind(bool direct)
{
	const struct sfy_config *cfg = sfy_config();

	if (!cfg->enabled || cfg->broken || cfg->bypass.all)
		return 0;
	return direct ? 1 : -1;
}

/* The same for a name as given to a resolver: numeric hosts change
 * nothing (their address alone decides). */
static int name_note_kind(const char *name)
{
	if (!name || !*name || is_numeric(name))
		return 0;
	return note_kind(sfy_policy_direct_name(name));
}

static void note(int kind, const struct sockaddr *sa)
{
	if (kind > 0)
		sfy_bypassmap_add(sa);
	else if (kind < 0)
		sfy_bypassmap_forget(sa);
}

/* The hook answers from the hosts data itself: the same bookkeeping. */
static void note_hosts(int kind, const struct sfy_hosts_result *h)
{
	struct sockaddr_in6 in6;
	struct sockaddr_in in;
	size_t i;

	for (i = 0; kind && i < h->n; i++) {
		if (h->addrs[i].family == AF_INET) {
			memset(&in, 0, sizeof(in));
			in.sin_family = AF_INET;
			memcpy(&in.sin_addr, h->addrs[i].addr, 4);
			note(kind, (struct sockaddr *)&in);
		} else if (h->addrs[i].family == AF_INET6) {
			memset(&in6, 0, sizeof(in6));
			in6.sin6_family = AF_INET6;
			memcpy(&in6.sin6_addr, h->addrs[i].addr, 16);
			note(kind, (struct sockaddr *)&in6);
		}
	}
}

enum sfy_route sfy_dns_route(const char *name, int family,
			     struct sfy_hosts_result *hosts, int *err)
{
	const struct sfy_config *cfg = sfy_config();
	bool direct;
	size_t len;
	int found;

	if (!cfg->broken && (!cfg->enabled || cfg->dns == SFY_DNS_LOCAL))
		return SFY_ROUTE_REAL;
	if (name == NULL)
		return SFY_ROUTE_REAL;
	len = strlen(name);
	if (len == 0)
		return SFY_ROUTE_NONAME;
	if (is_numeric(name))
		return SFY_ROUTE_REAL;
	direct = sfy_policy_direct_name(name);
	/* A bypassed name is the real resolver's, except a localhost name
	 * ("localhost" on the list covers them all): those missing from
	 * /etc/hosts are answered below, never asked of DNS. */
	if (direct && !is_localhost(name, len))
		return SFY_ROUTE_REAL;
	if (len - (name[len - 1] == '.') > SOCKS5_DOMAIN_MAX)
		return SFY_ROUTE_NONAME;

	found = sfy_hosts_lookup(name, hosts);
	if (found < 0)
		sfy_debug("cannot read %s (%s): treating %s as not listed",
			  SFY_HOSTS_PATH, strerror(-found), name);
	if (found > 0) {
		if (hosts_has_family(hosts, family))
			return SFY_ROUTE_REAL;
		note_hosts(note_kind(direct), hosts);
		return SFY_ROUTE_HOSTS;
	}
	if (is_localhost(name, len)) {
		loopback_hosts(hosts);
		note_hosts(note_kind(direct), hosts);
		return SFY_ROUTE_HOSTS;
	}
	if (cfg->broken) {
		*err = cfg->broken_errno ? cfg->broken_errno : EINVAL;
		return SFY_ROUTE_FAIL;
	}
	return SFY_ROUTE_FAKE;
}

void sfy_dns_note_addrinfo(const char *name, const struct addrinfo *res)
{
	int kind;

	if (!res || !(kind = name_note_kind(name)))
		return;
	/* getaddrinfo lists each address once per socket type: the table
	 * sees the repeats without writing (already there). */
	for (; res; res = res->ai_next)
		if (res->ai_addr &&
		    ((res->ai_family == AF_INET &&
		      res->ai_addrlen >= sizeof(struct sockaddr_in)) ||
		     (res->ai_family == AF_INET6 &&
		      res->ai_addrlen >= sizeof(struct sockaddr_in6))))
			note(kind, res->ai_addr);
}

void sfy_dns_note_hostent(const char *name, const struct hostent *he)
{
	struct sockaddr_in6 in6;
	struct sockaddr_in in;
	char **p;
	int kind;

	if (!he || !he->h_addr_list || !(kind = name_note_kind(name)))
		return;
	memset(&in, 0, sizeof(in));
	memset(&in6, 0, sizeof(in6));
	in.sin_family = AF_INET;
	in6.sin6_family = AF_INET6;
	for (p = he->h_addr_list; *p; p++) {
		if (he->h_addrtype == AF_INET && he->h_length == 4) {
			memcpy(&in.sin_addr, *p, 4);
			note(kind, (struct sockaddr *)&in);
		} else if (he->h_addrtype == AF_INET6 && he->h_length == 16) {
			memcpy(&in6.sin6_addr, *p, 16);
			note(kind, (struct sockaddr *)&in6);
		}
	}
}

bool sfy_dns_reverse_active(void)
{
	const struct sfy_config *cfg = sfy_config();

	return cfg->enabled || cfg->broken;
}
