/*
 * getaddrinfo / freeaddrinfo with remote DNS (the routing rule is in
 * dnsroute.h). A name the proxy must resolve gets a fake address and we
 * build the result list ourselves, following glibc's rules for hints:
 *
 *   ai_family   AF_UNSPEC -> the IPv4 fake, then the IPv6 fake. IPv4
 *               first: connect() to a fake finishes the SOCKS handshake
 *               before it returns, so a happy-eyeballs client (curl) is
 *               connected by its first attempt and never starts the
 *               second. The IPv6 fake is there for clients that ask
 *               AF_UNSPEC and filter themselves (curl -6 does). Cost: a
 *               client that walks the list after a proxy refusal asks the
 *               proxy twice.
 *               AF_INET -> IPv4 fake; AF_INET6 -> IPv6 fake (also with
 *               AI_V4MAPPED: a native IPv6 fake is acceptable to it);
 *               anything else -> EAI_FAMILY.
 *   socktype/protocol   both 0 -> three entries per address (stream/TCP,
 *               dgram/UDP, raw) as glibc; otherwise the first matching
 *               kind; a mismatch -> EAI_SOCKTYPE (or EAI_SERVICE).
 *   service     as glibc reads it: "*" and "" are none; a number as
 *               strtoul() takes it (blanks, a sign) whose int is not
 *               negative, its low 16 bits the port ("70000" is 4464);
 *               anything else a name from /etc/services through
 *               getservbyname_r (files only, never DNS); AI_NUMERICSERV
 *               with a name -> EAI_NONAME; unknown -> EAI_SERVICE.
 *   order       as glibc: flags, AI_NUMERICSERV, family, socket kinds,
 *               service, then the name (a bad socktype is EAI_SOCKTYPE
 *               for a name that does not exist too).
 *   AI_CANONNAME   ai_canonname is the name as given (the proxy may know
 *               a CNAME, we cannot).
 *   AI_ADDRCONFIG  ignored: fake addresses are reachable whatever the
 *               host's interfaces, since connect() goes to the proxy.
 *   AI_IDN      not applied: the name goes to the proxy as given.
 *   Names over 255 bytes -> EAI_NONAME (SOCKS5 cannot carry them and DNS
 *               has no such names).
 *
 * Our result is one malloc block; freeaddrinfo must tell it from libc's
 * lists. A magic header *before* the first addrinfo would be read out of
 * bounds for libc's lists, so the block instead starts with the first
 * addrinfo, followed by a magic word and then its sockaddr:
 *
 *   +----------------+-------+--------+-----------------------+---------+
 *   | struct addrinfo| magic | sockad | (addrinfo, sockaddr)* | canon   |
 *   +----------------+-------+--------+-----------------------+---------+
 *
 * Ours iff ai_addr points just past the magic word (glibc puts the
 * sockaddr right after the addrinfo) and the magic, which mixes in the
 * block's address, matches. Only then is the magic word read.
 */
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "base/log.h"
#include "base/realfn.h"
#include "dns/fakeip.h"
#include "dns/udp_dns.h"
#include "hooks/hooks.h"
#include "route/dnsroute.h"

#define GAI_MAGIC 0x5f73667967616931ull /* "_sfygai1" */
#define GAI_SPECS_MAX 8
#define GAI_ADDRS_MAX SFY_HOSTS_ADDRS_MAX

union gai_sa {
	struct sockaddr sa;
	struct sockaddr_in in;
	struct sockaddr_in6 in6;
};

struct gai_head {
	struct addrinfo ai;
	uint64_t magic;
	uint64_t pad;
	union gai_sa sa;
};

struct gai_item {
	struct addrinfo ai;
	union gai_sa sa;
};

/* A kind of socket getaddrinfo knows, in glibc's order. */
struct gai_kind {
	int socktype, protocol;
	const char *proto;  /* for getservbyname_r */
	bool noservice;     /* a service makes no sense (raw) */
	bool protoany;      /* takes the caller's protocol (raw) */
	bool dflt;          /* listed when no socktype/protocol is asked */
};

static const struct gai_kind kinds[] = {
	{ SOCK_STREAM, IPPROTO_TCP, "tcp", false, false, true },
	{ SOCK_DGRAM, IPPROTO_UDP, "udp", false, false, true },
	{ SOCK_DCCP, IPPROTO_DCCP, "dccp", false, false, false },
	{ SOCK_DGRAM, IPPROTO_UDPLITE, "udplite", false, false, false },
	{ SOCK_STREAM, IPPROTO_SCTP, "sctp", false, false, false },
	{ SOCK_SEQPACKET, IPPROTO_SCTP, "sctp", false, false, false },
	{ SOCK_RAW, 0, "raw", true, true, true },
};
#define NKINDS (sizeof(kinds) / sizeof(kinds[0]))

struct gai_spec {
	int socktype, protocol;
	uint16_t port; /* network order */
};

#define GAI_FLAGS_KNOWN                                                   \
	(AI_PASSIVE | AI_CANONNAME | AI_NUMERICHOST | AI_V4MAPPED | AI_ALL | \
	 AI_ADDRCONFIG | AI_IDN | AI_CANONIDN | AI_NUMERICSERV | 0x0100 |   \
	 0x0200)

static uint64_t magic_for(const void *block)
{
	return GAI_MAGIC ^ (uint64_t)(uintptr_t)block;
}

static bool gai_is_ours(const struct addrinfo *ai)
{
	const struct gai_head *h = (const struct gai_head *)ai;

	return (const void *)ai->ai_addr == (const void *)&h->sa &&
	       h->magic == magic_for(h);
}

/* ---- service ----------------------------------------------------------- */

/* glibc's reading of a service: strtoul() in base 10 (leading blanks
 * and a sign taken) over the whole string, kept in an int. 1 and *port
 * (the value's low 16 bits, as glibc's htons of it: "65536" is port 0)
 * for a number, 0 for a name: anything strtoul does not consume whole,
 * and a number whose int is negative ("-1", "2147483648"), which glibc
 * then looks up as a name too. */
static int numeric_port(const char *s, uint16_t *port)
{
	int saved = errno, v;
	char *end;

	v = (int)strtoul(s, &end, 10); /* may set ERANGE: not ours to show */
	errno = saved;
	if (*end != '\0')
		return -1;
	if (v < 0)
		return 0;
	*port = htons((uint16_t)v);
	return 1;
}

static bool service_port(const char *service, const struct gai_kind *k,
			 uint16_t *port)
{
	struct servent se, *res = NULL;
	char buf[1024];

	if (k->noservice)
		return false;
	if (getservbyname_r(service, k->proto, &se, buf, sizeof(buf), &res) ||
	    res == NULL)
		return false;
	*port = (uint16_t)se.s_port;
	return true;
}

static void spec_add(struct gai_spec *s, size_t *n, const struct gai_kind *k,
		     int protocol, uint16_t port)
{
	s[*n].socktype = k->socktype;
	s[*n].protocol = k->protoany ? protocol : k->protocol;
	s[*n].port = port;
	(*n)++;
}

/* The (socktype, protocol, port) triples to list, as glibc's gaih_inet. */
static int gai_specs(const char *service, const struct addrinfo *hints,
		     struct gai_spec *specs, size_t *n)
{
	const struct gai_kind *sel = NULL;
	int st = hints->ai_socktype, pr = hints->ai_protocol, num = 1;
	uint16_t port = 0;

	*n = 0;
	if (st || pr) {
		for (size_t i = 0; i < NKINDS && !sel; i++)
			if ((st == 0 || st == kinds[i].socktype) &&
			    (pr == 0 || kinds[i].protoany ||
			     pr == kinds[i].protocol))
				sel = &kinds[i];
		if (sel == NULL)
			return st ? EAI_SOCKTYPE : EAI_SERVICE;
	}
	if (service) {
		if (sel && sel->noservice)
			return EAI_SERVICE;
		num = numeric_port(service, &port);
		if (num < 0 && (hints->ai_flags & AI_NUMERICSERV))
			return EAI_NONAME;
		if (num < 0)
			num = 0;
	}
	if (num == 0) {
		for (size_t i = 0; i < NKINDS; i++) {
			const struct gai_kind *k = sel ? sel : &kinds[i];

			if (service_port(service, k, &port))
				spec_add(specs, n, k, pr, port);
			if (sel)
				break;
		}
		return *n ? 0 : EAI_SERVICE;
	}
	if (sel) {
		spec_add(specs, n, sel, pr, port);
		return 0;
	}
	for (size_t i = 0; i < NKINDS; i++)
		if (kinds[i].dflt)
			spec_add(specs, n, &kinds[i], pr, port);
	return 0;
}

/* ---- building the list -------------------------------------------------- */

static void fill_sa(union gai_sa *sa, const struct sfy_hosts_addr *a,
		    uint16_t port, socklen_t *len)
{
	memset(sa, 0, sizeof(*sa));
	if (a->family == AF_INET) {
		sa->in.sin_family = AF_INET;
		sa->in.sin_port = port;
		memcpy(&sa->in.sin_addr, a->addr, 4);
		*len = sizeof(sa->in);
	} else {
		sa->in6.sin6_family = AF_INET6;
		sa->in6.sin6_port = port;
		memcpy(&sa->in6.sin6_addr, a->addr, 16);
		*len = sizeof(sa->in6);
	}
}

static int gai_build(const struct sfy_hosts_addr *addrs, size_t naddrs,
		     const struct gai_spec *specs, size_t nspecs,
		     const char *canon, int flags, struct addrinfo **res)
{
	size_t n = naddrs * nspecs, clen = 0, size, k = 0;
	struct gai_head *h;
	struct gai_item *items;
	struct addrinfo *prev = NULL;

	if (flags & AI_CANONNAME)
		clen = strlen(canon) + 1;
	size = sizeof(*h) + (n - 1) * sizeof(*items) + clen;
	h = calloc(1, size);
	if (h == NULL)
		return EAI_MEMORY;
	items = (struct gai_item *)(h + 1);

	for (size_t a = 0; a < naddrs; a++) {
		for (size_t s = 0; s < nspecs; s++, k++) {
			struct addrinfo *ai = k ? &items[k - 1].ai : &h->ai;
			union gai_sa *sa = k ? &items[k - 1].sa : &h->sa;

			fill_sa(sa, &addrs[a], specs[s].port, &ai->ai_addrlen);
			ai->ai_flags = flags;
			ai->ai_family = addrs[a].family;
			ai->ai_socktype = specs[s].socktype;
			ai->ai_protocol = specs[s].protocol;
			ai->ai_addr = &sa->sa;
			if (prev)
				prev->ai_next = ai;
			prev = ai;
		}
	}
	if (clen) {
		h->ai.ai_canonname = (char *)&items[n - 1];
		memcpy(h->ai.ai_canonname, canon, clen);
	}
	h->magic = magic_for(h);
	*res = &h->ai;
	return 0;
}

/* The addresses of the hosts data that fit the family; IPv4 ones mapped
 * into IPv6 for AF_INET6 + AI_V4MAPPED (when no IPv6 one, or AI_ALL). */
static size_t hosts_pick(const struct sfy_hosts_result *hr, int family,
			 int flags, struct sfy_hosts_addr *out)
{
	bool mapped = family == AF_INET6 && (flags & AI_V4MAPPED) &&
		      (!hr->has6 || (flags & AI_ALL));
	size_t n = 0;

	for (size_t i = 0; i < hr->n; i++) {
		const struct sfy_hosts_addr *a = &hr->addrs[i];

		if (family == AF_UNSPEC || a->family == family) {
			out[n++] = *a;
		} else if (mapped && a->family == AF_INET) {
			memset(&out[n], 0, sizeof(out[n]));
			out[n].family = AF_INET6;
			out[n].addr[10] = out[n].addr[11] = 0xff;
			memcpy(out[n].addr + 12, a->addr, 4);
			n++;
		}
	}
	return n;
}

/* The fake addresses for family (AF_UNSPEC: both, IPv4 first, or the one
 * range configured) into out; their number in *n. */
static int fake_pick(const char *node, int family, struct sfy_hosts_addr *out,
		     size_t *n)
{
	struct in_addr v4;
	struct in6_addr v6;
	int rc4 = -EAFNOSUPPORT, rc6 = -EAFNOSUPPORT, rc;

	*n = 0;
	if (family != AF_INET6)
		rc4 = sfy_fakeip_for_name(node, strlen(node), &v4, NULL);
	if (family != AF_INET && (rc4 == 0 || rc4 == -EAFNOSUPPORT))
		rc6 = sfy_fakeip_for_name(node, strlen(node), NULL, &v6);
	if (rc4 == 0) {
		memset(&out[*n], 0, sizeof(out[*n]));
		out[*n].family = AF_INET;
		memcpy(out[(*n)++].addr, &v4, 4);
	}
	if (rc6 == 0) {
		memset(&out[*n], 0, sizeof(out[*n]));
		out[*n].family = AF_INET6;
		memcpy(out[(*n)++].addr, &v6, 16);
	}
	if (*n > 0)
		return 0;
	rc = rc4 != -EAFNOSUPPORT ? rc4 : rc6;
	if (rc == -EAFNOSUPPORT)
		return EAI_ADDRFAMILY;
	sfy_error("getaddrinfo(%s): no fake address (%s); failing rather than "
		  "resolving locally", node, strerror(-rc));
	errno = -rc;
	return EAI_SYSTEM;
}

/* Every route but the real call: the hints are checked first, as glibc
 * checks them before it looks at the name (a bad socktype is
 * EAI_SOCKTYPE for a name that does not exist, too). */
static int remote(const char *node, const char *service,
		  const struct addrinfo *hints, enum sfy_route route,
		  const struct sfy_hosts_result *hr, int err,
		  struct addrinfo **res)
{
	struct sfy_hosts_addr addrs[GAI_ADDRS_MAX];
	struct gai_spec specs[GAI_SPECS_MAX];
	size_t naddrs, nspecs;
	int rc, family = hints->ai_family;

	uint16_t port;

	/* glibc's order: flags, the service's form, family, socket kinds. */
	if (hints->ai_flags & ~GAI_FLAGS_KNOWN)
		return EAI_BADFLAGS;
	if (service && (hints->ai_flags & AI_NUMERICSERV) &&
	    numeric_port(service, &port) < 0)
		return EAI_NONAME;
	if (family != AF_UNSPEC && family != AF_INET && family != AF_INET6)
		return EAI_FAMILY;
	rc = gai_specs(service, hints, specs, &nspecs);
	if (rc)
		return rc;
	if (route == SFY_ROUTE_NONAME)
		return EAI_NONAME;
	if (route == SFY_ROUTE_FAIL) {
		errno = err;
		return EAI_SYSTEM;
	}
	if (route == SFY_ROUTE_HOSTS) {
		naddrs = hosts_pick(hr, family, hints->ai_flags, addrs);
		if (naddrs == 0)
			return EAI_NONAME;
		return gai_build(addrs, naddrs, specs, nspecs,
				 hr->canon[0] ? hr->canon : node,
				 hints->ai_flags, res);
	}
	rc = fake_pick(node, family, addrs, &naddrs);
	if (rc)
		return rc;
	sfy_debug("getaddrinfo(%s, %s, family %d, socktype %d, protocol %d, "
		  "flags %#x): fake address for remote DNS", node,
		  service ? service : "-", family, hints->ai_socktype,
		  hints->ai_protocol, hints->ai_flags);
	return gai_build(addrs, naddrs, specs, nspecs, node, hints->ai_flags,
			 res);
}

int sfy_getaddrinfo(const char *node, const char *service,
		    const struct addrinfo *hints, struct addrinfo **res)
{
	const struct sfy_real *r = sfy_real();
	struct addrinfo dflt;
	struct sfy_hosts_result hr;
	enum sfy_route route;
	int err = 0;

	if (r->getaddrinfo == NULL) {
		errno = ENOSYS;
		return EAI_SYSTEM;
	}
	/* glibc reads a node "*" as no node at all: the real call. */
	if (sfy_inside() || node == NULL || res == NULL ||
	    (node[0] == '*' && node[1] == '\0') ||
	    (hints && (hints->ai_flags & AI_NUMERICHOST)))
		return r->getaddrinfo(node, service, hints, res);
	if (hints == NULL) {
		/* What glibc assumes for NULL hints. */
		memset(&dflt, 0, sizeof(dflt));
		dflt.ai_flags = AI_V4MAPPED | AI_ADDRCONFIG;
		hints = &dflt;
	}

	route = sfy_dns_route(node, hints->ai_family, &hr, &err);
	switch (route) {
	case SFY_ROUTE_REAL: {
		struct sfy_dns_fwd fwd;
		int rc;

		/* Local DNS: queries to proxied name servers via the relay. */
		sfy_dns_local_begin(&fwd, node);
		rc = r->getaddrinfo(node, service,
				    hints == &dflt ? NULL : hints, res);
		sfy_dns_local_end(&fwd);
		if (rc == 0)
			sfy_dns_note_addrinfo(node, *res);
		return rc;
	}
	default:
		break;
	}
	/* Service "*" and "" are no service, as for glibc. */
	if (service && (!service[0] || (service[0] == '*' && !service[1])))
		service = NULL;
	return remote(node, service, hints, route, &hr, err, res);
}

int getaddrinfo(const char *node, const char *service,
		const struct addrinfo *hints, struct addrinfo **res)
	SFY_EXPORT_AS(sfy_getaddrinfo);

void freeaddrinfo(struct addrinfo *ai)
{
	const struct sfy_real *r;

	if (ai && gai_is_ours(ai)) {
		((struct gai_head *)ai)->magic = 0;
		free(ai);
		return;
	}
	r = sfy_real();
	if (r->freeaddrinfo)
		r->freeaddrinfo(ai);
}
