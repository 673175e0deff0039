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

#include "bypassmap.h"
#include "fakeip.h"
#include "policy.h"

static const uint8_t v4mapped_prefix[12] = { 0, 0, 0, 0, 0, 0,
					     0, 0, 0, 0, 0xff, 0xff };

/* Bytes and family of sa, with an IPv4-mapped address unwrapped. */
static int addr_bytes(const struct sockaddr *sa, const uint8_t **bytes,
		      uint16_t *port)
{
	*bytes = NULL;
	*port = 0;
	if (sa->sa_family == AF_INET) {
		const struct sockaddr_in *in = (const struct sockaddr_in *)sa;

		*bytes = (const uint8_t *)&in->sin_addr;
		*port = in->sin_port;
		return AF_INET;
	}
	if (sa->sa_family == AF_INET6) {
		const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)sa;

		*port = in6->sin6_port;
		if (!memcmp(in6->sin6_addr.s6_addr, v4mapped_prefix, 12)) {
			*bytes = in6->sin6_addr.s6_addr + 12;
			return AF_INET;
		}
		*bytes = in6->sin6_addr.s6_addr;
		return AF_INET6;
	}
	return AF_UNSPEC;
}

static bool prefix_equal(const uint8_t *a, const uint8_t *b, unsigned int bits)
{
	unsigned int whole = bits / 8, rest = bits % 8, i;
	uint8_t mask;

	/* On every connect(): a byte loop (usually one byte, 127/8) is
	 * cheaper than a call to memcmp. */
	for (i = 0; i < whole; i++)
		if (a[i] != b[i])
			return false;
	if (!rest)
		return true;
	mask = (uint8_t)(0xff << (8 - rest));
	return (a[whole] & mask) == (b[whole] & mask);
}

/* IPv4 in an IPv4 range: the test of every connect() to a loopback or
 * other bypassed IPv4 destination, so 32-bit arithmetic, no byte loop. */
static bool match4(const struct sfy_cidr *c, const struct sockaddr_in *in)
{
	uint32_t mask = c->prefix ? ~UINT32_C(0) << (32 - c->prefix) : 0;
	uint32_t net = (uint32_t)c->addr[0] << 24 | (uint32_t)c->addr[1] << 16 |
		       (uint32_t)c->addr[2] << 8 | c->addr[3];

	return ((ntohl(in->sin_addr.s_addr) ^ net) & mask) == 0;
}

bool sfy_cidr_match(const struct sfy_cidr *c, const struct sockaddr *sa)
{
	const uint8_t *bytes;
	uint16_t port;
	int fam;

	if (sa->sa_family == AF_INET && c->family == AF_INET)
		return match4(c, (const struct sockaddr_in *)sa);
	fam = addr_bytes(sa, &bytes, &port);

	if (fam == AF_UNSPEC)
		return false;
	if (fam == c->family)
		return prefix_equal(bytes, c->addr, c->prefix);
	/* An IPv6 range may name mapped addresses itself (::ffff:0:0/96). */
	if (fam == AF_INET && c->family == AF_INET6 &&
	    sa->sa_family == AF_INET6)
		return prefix_equal(
			((const struct sockaddr_in6 *)sa)->sin6_addr.s6_addr,
			c->addr, c->prefix);
	return false;
}

/* A decimal prefix length 0..max, digits only. */
static int parse_prefix(const char *s, unsigned int max, uint8_t *out)
{
	unsigned int v = 0;

	if (!*s || strlen(s) > 3)
		return -EINVAL;
	for (; *s; s++) {
		if (*s < '0' || *s > '9')
			return -EINVAL;
		v = v * 10 + (unsigned int)(*s - '0');
	}
	if (v > max)
		return -EINVAL;
	*out = (uint8_t)v;
	return 0;
}

/* "a.b.c.d", "a.b.c.d/n", "v6", "v6/n", "[v6]", "[v6]/n". Host bits
 * beyond the prefix are cleared, so "10.1.2.3/8" means 10.0.0.0/8. */
int sfy_cidr_parse(const char *text, struct sfy_cidr *out)
{
	char buf[INET6_ADDRSTRLEN + 8];
	const char *slash;
	char *addr = buf;
	size_t len;
	unsigned int i, max;

	if (!text)
		return -EINVAL;
	slash = strchr(text, '/');
	len = slash ? (size_t)(slash - text) : strlen(text);
	if (len == 0 || len >= sizeof(buf))
		return -EINVAL;
	memcpy(buf, text, len);
	buf[len] = '\0';
	if (buf[0] == '[') {
		if (len < 3 || buf[len - 1] != ']')
			return -EINVAL;
		buf[len - 1] = '\0';
		addr = buf + 1;
	}
	memset(out, 0, sizeof(*out));
	if (addr == buf && inet_pton(AF_INET, addr, out->addr) == 1) {
		out->family = AF_INET;
		max = 32;
	} else if (inet_pton(AF_INET6, addr, out->addr) == 1) {
		out->family = AF_INET6;
		max = 128;
	} else {
		return -EINVAL;
	}
	out->prefix = (uint8_t)max;
	if (slash && parse_prefix(slash + 1, max, &out->prefix))
		return -EINVAL;
	for (i = out->prefix; i < max; i++)
		out->addr[i / 8] &= (uint8_t)~(0x80u >> (i % 8));
	return 0;
}

/* The proxy's own address and port: the library connects there itself
 * with the real connect(), and a program doing the same (a status page,
 * `socksify --check`) must reach it rather than be sent through it. */
static bool is_first_hop(const struct sockaddr *sa)
{
	struct sockaddr_storage px[SFY_PROXY_ADDRS_MAX];
	socklen_t lens[SFY_PROXY_ADDRS_MAX];
	const uint8_t *a, *b;
	uint16_t pa, pb;
	int n, i, fa, fb;

	n = sfy_proxy_sockaddrs(px, lens, SFY_PROXY_ADDRS_MAX);
	fa = addr_bytes(sa, &a, &pa);
	if (fa == AF_UNSPEC)
		return false;
	for (i = 0; i < n; i++) {
		fb = addr_bytes((const struct sockaddr *)&px[i], &b, &pb);
		if (fa == fb && pa == pb &&
		    !memcmp(a, b, fa == AF_INET ? 4 : 16))
			return true;
	}
	return false;
}

bool sfy_policy_direct_addr(const struct sockaddr *sa)
{
	const struct sfy_config *cfg = sfy_config();
	int i;

	if (sa->sa_family != AF_INET && sa->sa_family != AF_INET6)
		return true;
	if (sfy_fakeip_in_range(sa))
		return false;
	if (cfg->bypass.all)
		return true;
	/* IPv4 against IPv4 ranges (loopback, by default) without a call:
	 * this runs in every connect() that goes direct. */
	for (i = 0; i < cfg->bypass.ncidrs; i++) {
		const struct sfy_cidr *c = &cfg->bypass.cidrs[i];

		if (sa->sa_family == AF_INET && c->family == AF_INET ?
			    match4(c, (const struct sockaddr_in *)sa) :
			    sfy_cidr_match(c, sa))
			return true;
	}
	/* An address the resolver gave this process for a bypassed name. */
	if (sfy_bypassmap_has(sa))
		return true;
	return cfg->enabled && cfg->nhops > 0 && is_first_hop(sa);
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
