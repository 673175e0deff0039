/*
 * Remote DNS's answers as DNS messages: see dnsmsg.h.
 */
#include <arpa/inet.h>
#include <arpa/nameser.h>
#include <errno.h>
#include <string.h>

#include "dns/dnsmsg.h"
#include "dns/fakeip.h"
#include "base/log.h"
#include "route/dnsroute.h"

static void put16(struct sfy_dns_packet *p, unsigned v)
{
	p->b[p->len++] = (unsigned char)(v >> 8);
	p->b[p->len++] = (unsigned char)v;
}

/* name in DNS label form; false for a name DNS cannot carry. */
static bool put_name(struct sfy_dns_packet *p, const char *name)
{
	size_t n = strlen(name), i, start;

	if (n && name[n - 1] == '.')
		n--;
	if (n == 0 || n > 253)
		return false;
	for (start = 0; start <= n; start = i + 1) {
		for (i = start; i < n && name[i] != '.'; i++)
			;
		if (i == start || i - start > 63)
			return false;
		p->b[p->len++] = (unsigned char)(i - start);
		memcpy(p->b + p->len, name + start, i - start);
		p->len += i - start;
	}
	p->b[p->len++] = 0;
	return true;
}

bool sfy_dns_build(struct sfy_dns_packet *p, unsigned id, const char *name,
		   int class, int type, int rcode,
		   const struct sfy_hosts_addr *a, size_t na)
{
	size_t alen = type == ns_t_aaaa ? 16 : 4, i;

	p->len = 0;
	put16(p, id);
	put16(p, 0x8180 | (unsigned)rcode); /* QR, RD, RA */
	put16(p, 1);
	put16(p, (unsigned)na);
	put16(p, 0);
	put16(p, 0);
	if (!put_name(p, name))
		return false;
	put16(p, (unsigned)type);
	put16(p, (unsigned)class);
	for (i = 0; i < na; i++) {
		put16(p, 0xc00c); /* the question's name */
		put16(p, (unsigned)type);
		put16(p, (unsigned)class);
		put16(p, 0);
		put16(p, 60); /* TTL: a minute; the fake map lives longer */
		put16(p, (unsigned)alen);
		memcpy(p->b + p->len, a[i].addr, alen);
		p->len += alen;
	}
	return true;
}

enum sfy_dns_verdict sfy_dns_answer(const char *who, const char *name,
				    int class, int type, unsigned id,
				    struct sfy_dns_packet *p)
{
	int family = type == ns_t_a ? AF_INET : AF_INET6, err = 0, rcode = 0;
	struct sfy_hosts_addr addrs[SFY_HOSTS_ADDRS_MAX];
	struct sfy_hosts_result hr;
	struct in6_addr a6;
	size_t n = 0, i;
	int rc;

	if (class != ns_c_in || (type != ns_t_a && type != ns_t_aaaa)) {
		sfy_info("%s(%s, class %d, type %d) refused: with remote DNS only A and AAAA are answered (no name server is reachable through the proxy)",
			 who, name, class, type);
		rcode = ns_r_refused;
	} else if (inet_pton(AF_INET, name, &a6) == 1 ||
		   inet_pton(AF_INET6, name, &a6) == 1) {
		rcode = ns_r_nxdomain; /* a number is no DNS name */
	} else if (sfy_hosts_lookup(name, &hr) == 1 && hr.n > 0) {
		for (i = 0; i < hr.n; i++)
			if (hr.addrs[i].family == family)
				addrs[n++] = hr.addrs[i];
	} else {
		switch (sfy_dns_route(name, family, &hr, &err)) {
		case SFY_ROUTE_REAL:
			return SFY_DNS_REAL; /* bypassed: direct by configuration */
		case SFY_ROUTE_HOSTS:
			for (i = 0; i < hr.n; i++)
				if (hr.addrs[i].family == family)
					addrs[n++] = hr.addrs[i];
			break;
		case SFY_ROUTE_FAKE:
			memset(addrs, 0, sizeof(addrs[0]));
			addrs[0].family = family;
			rc = sfy_fakeip_for_name(
				name, strlen(name),
				family == AF_INET ? (struct in_addr *)addrs[0].addr : NULL,
				family == AF_INET6 ? (struct in6_addr *)addrs[0].addr : NULL);
			if (rc == 0)
				n = 1;
			else if (rc != -EAFNOSUPPORT)
				rcode = ns_r_servfail;
			break;
		case SFY_ROUTE_NONAME:
			rcode = ns_r_nxdomain;
			break;
		default:
			rcode = ns_r_servfail;
			break;
		}
	}
	return sfy_dns_build(p, id, name, class, type, rcode, addrs, n) ?
		       SFY_DNS_ANSWERED :
		       SFY_DNS_FAILED;
}

/* A query's name is never compressed. */
bool sfy_dns_parse_question(const unsigned char *msg, int len, char *name,
			   size_t cap, int *class, int *type)
{
	size_t at = HFIXEDSZ, out = 0, l;

	if (!msg || len < HFIXEDSZ || msg[4] != 0 || msg[5] != 1)
		return false;
	while (at < (size_t)len && (l = msg[at]) != 0) {
		if (l > 63 || at + 1 + l >= (size_t)len || out + l + 2 > cap)
			return false;
		if (out)
			name[out++] = '.';
		memcpy(name + out, msg + at + 1, l);
		out += l;
		at += 1 + l;
	}
	if (at + 5 > (size_t)len || out == 0 || memchr(name, 0, out))
		return false;
	name[out] = 0;
	*type = msg[at + 1] << 8 | msg[at + 2];
	*class = msg[at + 3] << 8 | msg[at + 4];
	return true;
}

