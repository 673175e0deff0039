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
#include "dns/dnsmsg.h"
#include "dns/udp_dns.h"
#include "hooks/hooks.h"
#include "route/dnsroute.h"

/* h_errno for an answer, as glibc's res_nquery sets it; 0: usable. */
static int answer_herr(const struct sfy_dns_packet *p)
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
static int deliver(const struct sfy_dns_packet *p, unsigned char *ans, int anslen)
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
	struct sfy_dns_packet p;
	int herr;

	switch (sfy_dns_answer("res_query", name, class, type, 0, &p)) {
	case SFY_DNS_REAL:
		return false;
	case SFY_DNS_FAILED:
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
	struct sfy_dns_packet p;
	int class, type;
	bool parsed;

	REAL_OR_NOSYS(res_nsend);
	if (m == MODE_REAL)
		return r->res_nsend(st, msg, len, ans, anslen);
	parsed = sfy_dns_parse_question(msg, len, name, sizeof(name), &class,
					&type);
	if (m == MODE_LOCAL)
		LOCAL_WRAPPED(st, parsed ? name : NULL, r->res_nsend(st, msg, len, ans, anslen));
	if (!parsed) {
		errno = EINVAL; /* not a query we can read: never sent */
		return -1;
	}
	switch (sfy_dns_answer("res_send", name, class, type,
			       (unsigned)(msg[0] << 8 | msg[1]), &p)) {
	case SFY_DNS_REAL:
		return r->res_nsend(st, msg, len, ans, anslen);
	case SFY_DNS_FAILED:
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
