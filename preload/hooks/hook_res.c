/*
 * The low-level resolver: res_query, res_search, res_querydomain,
 * res_send and their res_n* forms (in libc since glibc 2.34, and under
 * their old names __res_* for programs linked before). glibc runs them
 * inside libc, so their queries never meet our socket hooks (issue 18).
 *
 *   - No proxy configured: the real call, unchanged.
 *   - Local DNS (socks5://): the real call, with the calling thread's name
 *     servers pointed through the proxy's relay for its duration, as for
 *     getaddrinfo (udp_dns.h). A res_n* call on a resolver state of the
 *     program's own (not _res) is not redirected (udp_dns.h changes _res
 *     only): those go where that state says.
 *   - Remote DNS (socks5h://): the answer is built here, never asked of
 *     a name server. Class IN, type A or AAAA: the addresses /etc/hosts
 *     gives the name, else its fake address (what getaddrinfo would give);
 *     a name remote DNS has no address for is NXDOMAIN; a configuration
 *     that fails closed is SERVFAIL. Every other type (MX, TXT, PTR, SRV,
 *     ...) is REFUSED, with one log line: no name server is reachable
 *     through the proxy to ask. Names on the bypass list go to the real
 *     call (they are direct by configuration).
 *
 * Results as glibc gives them: res_send returns the answer packet (the
 * caller reads its rcode); the others return the answer's length, or -1
 * with h_errno (and the state's res_h_errno) HOST_NOT_FOUND for NXDOMAIN,
 * TRY_AGAIN for SERVFAIL, NO_DATA for no address of that type,
 * NO_RECOVERY for REFUSED or a malformed name (glibc's res_nquery). An
 * answer longer than the caller's buffer is cut, and its full length
 * returned, as glibc does.
 */
#include <arpa/inet.h>
#include <arpa/nameser.h>
#include <stdio.h>
#include <errno.h>
#include <netdb.h>
#include <resolv.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "base/config.h"
#include "base/log.h"
#include "base/realfn.h"
#include "dns/fakeip.h"
#include "dns/hosts.h"
#include "dns/udp_dns.h"
#include "hooks/hooks.h"
#include "route/dnsroute.h"

#define ANS_MAX 1024 /* header, question, up to SFY_HOSTS_ADDRS_MAX answers */

/* What to do with one question. */
enum res_route { RES_REAL, RES_ANSWERED, RES_FAILED };

struct packet {
	unsigned char b[ANS_MAX];
	size_t len;
};

static void put16(struct packet *p, unsigned v)
{
	p->b[p->len++] = (unsigned char)(v >> 8);
	p->b[p->len++] = (unsigned char)v;
}

/* name in DNS label form; false for a name DNS cannot carry. */
static bool put_name(struct packet *p, const char *name)
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

/* The answer to (name, class, type) with query id id, into p. */
static bool build(struct packet *p, unsigned id, const char *name, int class,
		  int type, int rcode, const struct sfy_hosts_addr *a,
		  size_t na)
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

/*
 * Remote DNS's answer to one question, or RES_REAL for a bypassed name.
 * RES_FAILED: the name cannot be put in a packet.
 */
static enum res_route answer(const char *name, int class, int type,
			     unsigned id, struct packet *p)
{
	int family = type == ns_t_a ? AF_INET : AF_INET6, err = 0, rcode = 0;
	struct sfy_hosts_addr addrs[SFY_HOSTS_ADDRS_MAX];
	struct sfy_hosts_result hr;
	struct in6_addr a6;
	size_t n = 0, i;
	int rc;

	if (class != ns_c_in || (type != ns_t_a && type != ns_t_aaaa)) {
		sfy_info("res_query(%s, class %d, type %d) refused: with remote DNS only A and AAAA are answered (no name server is reachable through the proxy)",
			 name, class, type);
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
			return RES_REAL; /* bypassed: direct by configuration */
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
	return build(p, id, name, class, type, rcode, addrs, n) ? RES_ANSWERED :
								   RES_FAILED;
}

/* h_errno for an answer, as glibc's res_nquery sets it; 0: usable. */
static int answer_herr(const struct packet *p)
{
	switch (p->b[3] & 0xf) {
	case ns_r_noerror:
		return (p->b[6] | p->b[7]) ? 0 : NO_DATA;
	case ns_r_nxdomain:
		return HOST_NOT_FOUND;
	case ns_r_servfail:
		return TRY_AGAIN;
	default:
		return NO_RECOVERY;
	}
}

static int fail_herr(res_state st, int herr)
{
	h_errno = herr;
	if (st)
		st->res_h_errno = herr;
	return -1;
}

/* Copies p into the caller's buffer (cut to anslen); its full length. */
static int deliver(const struct packet *p, unsigned char *ans, int anslen)
{
	if (anslen > 0 && ans)
		memcpy(ans, p->b, p->len < (size_t)anslen ? p->len : (size_t)anslen);
	return (int)p->len;
}

enum res_mode { MODE_REAL, MODE_LOCAL, MODE_REMOTE };

static enum res_mode mode_now(void)
{
	const struct sfy_config *cfg;

	if (sfy_inside())
		return MODE_REAL;
	cfg = sfy_config();
	if (!cfg->enabled && !cfg->broken)
		return MODE_REAL;
	return cfg->dns == SFY_DNS_REMOTE ? MODE_REMOTE : MODE_LOCAL;
}

/* For res_query, res_search and res_querydomain (and res_n*): true with
 * the call's result in *rc when the answer is ours for the whole name;
 * false for the real call. */
static bool remote_query(res_state st, const char *name, int class, int type,
			 unsigned char *ans, int anslen, int *rc)
{
	struct packet p;
	int herr;

	switch (answer(name, class, type, 0, &p)) {
	case RES_REAL:
		return false;
	case RES_FAILED:
		*rc = fail_herr(st, NO_RECOVERY);
		return true;
	default:
		break;
	}
	herr = answer_herr(&p);
	if (herr) {
		deliver(&p, ans, anslen);
		*rc = fail_herr(st, herr);
		return true;
	}
	*rc = deliver(&p, ans, anslen);
	return true;
}

/* The question of a query packet: its name (text), class and type. By
 * hand, not with ns_initparse: that lives in libresolv, which a program
 * need not load. A query's name is never compressed. */
static bool parse_question(const unsigned char *msg, int len, char *name,
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

/* ---- the hooks --------------------------------------------------------- */

#define REAL_OR_NOSYS(fn)                                  \
	const struct sfy_real *r = sfy_real();             \
	if (!r->fn) {                                      \
		errno = ENOSYS;                            \
		return fail_herr(NULL, NETDB_INTERNAL);    \
	}

/* The real call, wrapped for local DNS when it uses _res. No name is
 * given to the forwarder: a res_* call asks DNS even for a number or a
 * name in /etc/hosts (which getaddrinfo would answer without a query). */
#define LOCAL_WRAPPED(st, name, call)                                 \
	do {                                                          \
		struct sfy_dns_fwd fwd;                               \
		int rc_;                                              \
		if ((st) != &_res)                                    \
			return call;                                  \
		(void)(name);                                         \
		sfy_dns_local_begin(&fwd, NULL);                      \
		rc_ = call;                                           \
		sfy_dns_local_end(&fwd);                              \
		return rc_;                                           \
	} while (0)

static int sfy_res_nquery(res_state st, const char *name, int class, int type,
		   unsigned char *ans, int anslen)
{
	enum res_mode m = mode_now();
	int rc;

	REAL_OR_NOSYS(res_nquery);
	if (m == MODE_REMOTE && name) {
		if (remote_query(st, name, class, type, ans, anslen, &rc))
			return rc;
	}
	if (m == MODE_LOCAL)
		LOCAL_WRAPPED(st, name, r->res_nquery(st, name, class, type, ans, anslen));
	return r->res_nquery(st, name, class, type, ans, anslen);
}

static int sfy_res_nsearch(res_state st, const char *name, int class, int type,
		    unsigned char *ans, int anslen)
{
	enum res_mode m = mode_now();
	int rc;

	REAL_OR_NOSYS(res_nsearch);
	if (m == MODE_REMOTE && name) {
		if (remote_query(st, name, class, type, ans, anslen, &rc))
			return rc;
	}
	if (m == MODE_LOCAL)
		LOCAL_WRAPPED(st, name, r->res_nsearch(st, name, class, type, ans, anslen));
	return r->res_nsearch(st, name, class, type, ans, anslen);
}

static int sfy_res_nquerydomain(res_state st, const char *name, const char *domain,
			 int class, int type, unsigned char *ans, int anslen)
{
	enum res_mode m = mode_now();
	char full[NS_MAXDNAME];
	int rc;

	REAL_OR_NOSYS(res_nquerydomain);
	if (m == MODE_REMOTE && name) {
		if (domain && snprintf(full, sizeof(full), "%s.%s", name,
				       domain) >= (int)sizeof(full))
			return fail_herr(st, NO_RECOVERY);
		if (remote_query(st, domain ? full : name, class, type, ans,
				 anslen, &rc))
			return rc;
	}
	if (m == MODE_LOCAL)
		LOCAL_WRAPPED(st, name, r->res_nquerydomain(st, name, domain, class, type, ans, anslen));
	return r->res_nquerydomain(st, name, domain, class, type, ans, anslen);
}

static int sfy_res_nsend(res_state st, const unsigned char *msg, int len,
		  unsigned char *ans, int anslen)
{
	enum res_mode m = mode_now();
	char name[NS_MAXDNAME];
	struct packet p;
	int class, type;
	bool parsed;

	REAL_OR_NOSYS(res_nsend);
	if (m == MODE_REAL)
		return r->res_nsend(st, msg, len, ans, anslen);
	parsed = parse_question(msg, len, name, sizeof(name), &class, &type);
	if (m == MODE_LOCAL)
		LOCAL_WRAPPED(st, parsed ? name : NULL, r->res_nsend(st, msg, len, ans, anslen));
	if (!parsed) {
		errno = EINVAL; /* not a query we can read: never sent */
		return -1;
	}
	switch (answer(name, class, type, (unsigned)(msg[0] << 8 | msg[1]), &p)) {
	case RES_REAL:
		return r->res_nsend(st, msg, len, ans, anslen);
	case RES_FAILED:
		errno = EINVAL;
		return -1;
	default:
		return deliver(&p, ans, anslen);
	}
}

/* The forms on _res: initialized as glibc does first (res_init when the
 * state is not), then the res_n* code. */
static res_state thread_res(void)
{
	if (!(_res.options & RES_INIT) && res_ninit(&_res) == -1)
		return NULL;
	return &_res;
}

static int sfy_res_query(const char *name, int class, int type, unsigned char *ans,
		  int anslen)
{
	res_state st = thread_res();

	return st ? sfy_res_nquery(st, name, class, type, ans, anslen) :
		    fail_herr(NULL, NETDB_INTERNAL);
}

static int sfy_res_search(const char *name, int class, int type, unsigned char *ans,
		   int anslen)
{
	res_state st = thread_res();

	return st ? sfy_res_nsearch(st, name, class, type, ans, anslen) :
		    fail_herr(NULL, NETDB_INTERNAL);
}

static int sfy_res_querydomain(const char *name, const char *domain, int class,
			int type, unsigned char *ans, int anslen)
{
	res_state st = thread_res();

	return st ? sfy_res_nquerydomain(st, name, domain, class, type, ans,
					 anslen) :
		    fail_herr(NULL, NETDB_INTERNAL);
}

static int sfy_res_send(const unsigned char *msg, int len, unsigned char *ans,
		 int anslen)
{
	res_state st = thread_res();

	return st ? sfy_res_nsend(st, msg, len, ans, anslen) :
		    fail_herr(NULL, NETDB_INTERNAL);
}

/* resolv.h may map the names to __res_*: the exported names are spelled
 * out here, both the current ones and the __res_* ones programs linked
 * before glibc 2.34 call. */
#undef res_query
#undef res_search
#undef res_querydomain
#undef res_send
#undef res_nquery
#undef res_nsearch
#undef res_nquerydomain
#undef res_nsend
#define EXPORT2(ret, name, internal, args)              \
	ret name args SFY_EXPORT_AS(internal);          \
	ret __##name args SFY_EXPORT_AS(internal)
EXPORT2(int, res_query, sfy_res_query,
	(const char *, int, int, unsigned char *, int));
EXPORT2(int, res_search, sfy_res_search,
	(const char *, int, int, unsigned char *, int));
EXPORT2(int, res_querydomain, sfy_res_querydomain,
	(const char *, const char *, int, int, unsigned char *, int));
EXPORT2(int, res_send, sfy_res_send,
	(const unsigned char *, int, unsigned char *, int));
EXPORT2(int, res_nquery, sfy_res_nquery,
	(res_state, const char *, int, int, unsigned char *, int));
EXPORT2(int, res_nsearch, sfy_res_nsearch,
	(res_state, const char *, int, int, unsigned char *, int));
EXPORT2(int, res_nquerydomain, sfy_res_nquerydomain,
	(res_state, const char *, const char *, int, int, unsigned char *,
	 int));
EXPORT2(int, res_nsend, sfy_res_nsend,
	(res_state, const unsigned char *, int, unsigned char *, int));
