/*
 * The NO_PROXY-style list (see bypasslist.h).
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "route/bypasslist.h"
#include "route/policy.h"

/* SFY_DEFAULT_BYPASS, parsed. */
static const struct sfy_cidr default_cidrs[] = {
	{ AF_INET, { 127 }, 8, 0 },
	{ AF_INET6, { [15] = 1 }, 128, 0 },
	{ AF_INET, { 0 }, 32, 0 },
	{ AF_INET6, { 0 }, 128, 0 },
};
#define DEFAULT_BYPASS_NAME "localhost"

/* b->v4 from b->cidrs: an IPv4 destination is matched against these
 * alone (no IPv6 range matches a sockaddr_in: sfy_cidr_match), with a
 * precomputed mask in network order, so the test is one xor and one and. */
static void ready_v4(struct sfy_bypass *b)
{
	const struct sfy_cidr *c;
	struct sfy_cidr4 p;
	int i;

	b->nv4 = 0;
	for (i = 0; i < b->ncidrs; i++) {
		c = &b->cidrs[i];
		if (c->family != AF_INET)
			continue;
		p = sfy_cidr4_of(c);
		b->v4[b->nv4].net = htonl(p.net & p.mask);
		b->v4[b->nv4].mask = htonl(p.mask);
		b->v4[b->nv4].port = c->port;
		b->nv4++;
	}
}

void sfy_bypass_default(struct sfy_bypass *b)
{
	memcpy(b->cidrs, default_cidrs, sizeof(default_cidrs));
	b->ncidrs = sizeof(default_cidrs) / sizeof(default_cidrs[0]);
	strcpy(b->names[0], DEFAULT_BYPASS_NAME);
	b->nnames = 1;
	ready_v4(b);
}

/* A NO_PROXY host name: letters, digits, '-', '_', '.'. Stored without a
 * leading "." or "*." and without a trailing ".": as in curl, "x", ".x"
 * and "*.x" (the spelling several other tools use) all mean x and every
 * name under it. */
static int add_name(struct sfy_bypass *b, const char *item)
{
	char *dst;
	size_t i, len;

	if (item[0] == '*' && item[1] == '.')
		item++;
	if (item[0] == '.')
		item++;
	len = strlen(item);
	if (len > 1 && item[len - 1] == '.')
		len--;
	if (len == 0 || len > SOCKS5_DOMAIN_MAX || item[0] == '.')
		return -EINVAL;
	for (i = 0; i < len; i++) {
		unsigned char ch = (unsigned char)item[i];

		if (!isalnum(ch) && ch != '-' && ch != '_' && ch != '.')
			return -EINVAL;
	}
	if (b->nnames >= SFY_BYPASS_NAMES_MAX)
		return -ENOSPC;
	dst = b->names[b->nnames++];
	for (i = 0; i < len; i++)
		dst[i] = (char)tolower((unsigned char)item[i]);
	dst[len] = '\0';
	return 0;
}

/* "a.b.c.d:PORT[/N]" or "[v6]:PORT[/N]" (proxychains' localnet
 * spelling): the range without the port into text, the port (network
 * order) into *port; 0 and *port 0 when item names no port. */
static int split_port(const char *item, char *text, size_t cap,
		      uint16_t *port)
{
	const char *colon, *slash = strchr(item, '/');
	size_t alen = slash ? (size_t)(slash - item) : strlen(item);
	unsigned long v = 0;
	const char *d;

	*port = 0;
	if (item[0] == '[') {
		colon = memchr(item, ']', alen);
		if (!colon || colon[1] != ':')
			return 0;
		colon++;
	} else {
		colon = memchr(item, ':', alen);
		if (!colon || memchr(colon + 1, ':', alen - (size_t)(colon + 1 - item)))
			return 0; /* none, or an IPv6 address */
	}
	d = colon + 1;
	if (d == item + alen || item + alen - d > 5)
		return -EINVAL;
	for (; d < item + alen; d++) {
		if (*d < '0' || *d > '9')
			return -EINVAL;
		v = v * 10 + (unsigned long)(*d - '0');
	}
	if (v < 1 || v > 65535 ||
	    (size_t)(colon - item) + strlen(item + alen) >= cap)
		return -EINVAL;
	memcpy(text, item, (size_t)(colon - item));
	strcpy(text + (colon - item), item + alen);
	*port = htons((uint16_t)v);
	return 0;
}

static int add_item(struct sfy_bypass *b, const char *item)
{
	char text[SOCKS5_DOMAIN_MAX + 2];
	struct sfy_cidr cidr;
	uint16_t port;

	if (!strcmp(item, "*")) {
		b->all = true;
		return 0;
	}
	if (split_port(item, text, sizeof(text), &port))
		return -EINVAL;
	if (port) {
		if (sfy_cidr_parse(text, &cidr))
			return -EINVAL;
		cidr.port = port;
		if (b->ncidrs >= SFY_BYPASS_CIDRS_MAX)
			return -ENOSPC;
		b->cidrs[b->ncidrs++] = cidr;
		return 0;
	}
	if (!sfy_cidr_parse(item, &cidr)) {
		if (b->ncidrs >= SFY_BYPASS_CIDRS_MAX)
			return -ENOSPC;
		b->cidrs[b->ncidrs++] = cidr;
		return 0;
	}
	return add_name(b, item);
}

/* Comma (or space) separated items; empty items are skipped. */
static int parse_list(struct sfy_bypass *b, const char *list, char *bad,
		      size_t badcap)
{
	char item[SOCKS5_DOMAIN_MAX + 2];
	const char *p = list, *end;
	size_t len;
	int rc;

	while (*p) {
		while (*p == ',' || isspace((unsigned char)*p))
			p++;
		end = p;
		while (*end && *end != ',' && !isspace((unsigned char)*end))
			end++;
		len = (size_t)(end - p);
		if (!len)
			break;
		if (len >= sizeof(item)) {
			snprintf(bad, badcap, "'%.40s...' is too long", p);
			return -EINVAL;
		}
		memcpy(item, p, len);
		item[len] = '\0';
		rc = add_item(b, item);
		if (rc == -ENOSPC) {
			snprintf(bad, badcap,
				 "too many entries (at most %d addresses or ranges and %d names)",
				 SFY_BYPASS_CIDRS_MAX, SFY_BYPASS_NAMES_MAX);
			return rc;
		}
		if (rc) {
			snprintf(bad, badcap,
				 "'%s' is not an address, a CIDR range (with ':PORT' after the address for one port), a host name, '.suffix' or '*'",
				 item);
			return rc;
		}
		p = end;
	}
	return 0;
}

/* A localhost name on the list ("localhost" or a name under it): every
 * resolver answers loopback for those (RFC 6761), and programs such as
 * curl answer them without asking libc, so no resolution would show us
 * the addresses. 127.0.0.1 and ::1 are added, unless a range of the list
 * covers them already. */
static int add_localhost_addrs(struct sfy_bypass *b, char *bad, size_t badcap)
{
	static const char *const lo[] = { "127.0.0.1", "::1" };
	struct sockaddr_in6 in6;
	struct sockaddr_in in;
	struct sockaddr *sa;
	bool any = false, covered;
	size_t len;
	int i, j;

	for (i = 0; i < b->nnames && !any; i++) {
		len = strlen(b->names[i]);
		any = len >= 9 && !strcmp(b->names[i] + len - 9, "localhost") &&
		      (len == 9 || b->names[i][len - 10] == '.');
	}
	memset(&in, 0, sizeof(in));
	memset(&in6, 0, sizeof(in6));
	in.sin_family = AF_INET;
	in.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	in6.sin6_family = AF_INET6;
	in6.sin6_addr = in6addr_loopback;
	for (i = 0; any && i < 2; i++) {
		sa = i == 0 ? (struct sockaddr *)&in : (struct sockaddr *)&in6;
		for (j = 0, covered = false; j < b->ncidrs && !covered; j++)
			covered = !b->cidrs[j].port &&
				  sfy_cidr_match(&b->cidrs[j], sa);
		if (covered)
			continue;
		if (b->ncidrs >= SFY_BYPASS_CIDRS_MAX) {
			snprintf(bad, badcap,
				 "too many entries (at most %d addresses or ranges, and 'localhost' needs %s)",
				 SFY_BYPASS_CIDRS_MAX, lo[i]);
			return -ENOSPC;
		}
		sfy_cidr_parse(lo[i], &b->cidrs[b->ncidrs++]);
	}
	return 0;
}

int sfy_bypass_parse(struct sfy_bypass *b, const char *list, char *bad,
		     size_t badcap)
{
	int rc = parse_list(b, list, bad, badcap);

	if (!rc)
		rc = add_localhost_addrs(b, bad, badcap);
	if (!rc)
		ready_v4(b);
	return rc;
}
