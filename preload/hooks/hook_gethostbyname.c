/*
 * gethostbyname, gethostbyname2, gethostbyaddr, their _r forms, with
 * remote DNS (routing rule in dnsroute.h).
 *
 * The non-reentrant forms keep their result in thread-local storage, so
 * two threads never see each other's answer (glibc shares one static
 * buffer; ours is stricter, never weaker). The _r forms lay the result out
 * in the caller's buffer and follow glibc's conventions: 0 and *result set
 * on success; 0, *result NULL and *h_errnop HOST_NOT_FOUND when there is
 * no such name; ERANGE with *h_errnop NETDB_INTERNAL when the buffer is
 * too small (the caller retries with a bigger one).
 *
 * Layout in the buffer (pointer-aligned first):
 *
 *   +---------------+------------------------+-------------+------+
 *   | aliases: NULL | addr_list[n] + NULL    | n addresses | name |
 *   +---------------+------------------------+-------------+------+
 */
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdint.h>
#include <string.h>

#include "base/log.h"
#include "base/realfn.h"
#include "dns/fakeip.h"
#include "dns/udp_dns.h"
#include "hooks/hooks.h"
#include "route/dnsroute.h"

/* Room for SFY_HOSTS_ADDRS_MAX IPv6 addresses and a 255-byte name. */
#define HE_BUF 1024

struct he_tls {
	struct hostent he;
	char buf[HE_BUF];
};

static __thread struct he_tls he_tls;

static int he_fill(struct hostent *he, char *buf, size_t buflen,
		   const char *name, int family, const uint8_t *addrs,
		   size_t n)
{
	size_t alen = family == AF_INET ? 4 : 16;
	size_t pad = (uintptr_t)buf % sizeof(char *);
	size_t ptrs = (1 + n + 1) * sizeof(char *);
	size_t nlen = strlen(name) + 1;
	char **aliases, **list, *data;

	pad = pad ? sizeof(char *) - pad : 0;
	if (buflen < pad + ptrs + n * alen + nlen)
		return ERANGE;
	aliases = (char **)(buf + pad);
	list = aliases + 1;
	data = buf + pad + ptrs;
	aliases[0] = NULL;
	for (size_t i = 0; i < n; i++) {
		list[i] = data + i * alen;
		memcpy(list[i], addrs + i * alen, alen);
	}
	list[n] = NULL;
	he->h_name = data + n * alen;
	memcpy(he->h_name, name, nlen);
	he->h_aliases = aliases;
	he->h_addrtype = family;
	he->h_length = (int)alen;
	he->h_addr_list = list;
	return 0;
}

int sfy_hostent_lookup(const char *name, int family, struct hostent *he,
		       char *buf, size_t buflen, int *herr)
{
	struct sfy_hosts_result hr;
	uint8_t addrs[SFY_HOSTS_ADDRS_MAX][16];
	size_t n = 0;
	int err = 0, rc;

	if (sfy_inside() || (family != AF_INET && family != AF_INET6))
		return SFY_HOSTENT_PASS;
	switch (sfy_dns_route(name, family, &hr, &err)) {
	case SFY_ROUTE_REAL:
		return SFY_HOSTENT_PASS;
	case SFY_ROUTE_NONAME:
		*herr = HOST_NOT_FOUND;
		return 0;
	case SFY_ROUTE_FAIL:
		*herr = NETDB_INTERNAL;
		return err;
	case SFY_ROUTE_HOSTS:
		for (size_t i = 0; i < hr.n; i++)
			if (hr.addrs[i].family == family)
				memcpy(addrs[n++], hr.addrs[i].addr, 16);
		if (n == 0) {
			*herr = HOST_NOT_FOUND;
			return 0;
		}
		name = hr.canon[0] ? hr.canon : name;
		break;
	case SFY_ROUTE_FAKE:
		rc = sfy_fakeip_for_name(name, strlen(name),
					 family == AF_INET ? (void *)addrs : NULL,
					 family == AF_INET6 ? (void *)addrs : NULL);
		if (rc) {
			sfy_error("gethostbyname(%s): no fake address (%s); "
				  "failing rather than resolving locally",
				  name, strerror(-rc));
			*herr = NETDB_INTERNAL;
			return -rc;
		}
		n = 1;
		break;
	}
	/* hostent addresses are packed by their length */
	if (family == AF_INET)
		for (size_t i = 1; i < n; i++)
			memmove(addrs[0] + 4 * i, addrs[i], 4);
	rc = he_fill(he, buf, buflen, name, family, addrs[0], n);
	*herr = rc ? NETDB_INTERNAL : 0;
	return rc;
}

/* The _r convention on top of he_lookup. */
static int he_r(int rc, int herr, struct hostent *ret, struct hostent **result,
		int *h_errnop)
{
	*result = rc == 0 && herr == 0 ? ret : NULL;
	if (h_errnop)
		*h_errnop = herr;
	if (rc)
		errno = rc;
	return rc;
}

/* The non-reentrant convention: the result or NULL with h_errno. */
static struct hostent *he_static(int rc, int herr)
{
	if (rc == 0 && herr == 0)
		return &he_tls.he;
	if (rc)
		errno = rc;
	h_errno = herr;
	return NULL;
}

struct hostent *gethostbyname2(const char *name, int af)
{
	struct sfy_dns_fwd fwd;
	struct hostent *he;
	const struct sfy_real *r = sfy_real();
	int herr = 0, rc;

	rc = sfy_hostent_lookup(name, af, &he_tls.he, he_tls.buf,
				sizeof(he_tls.buf), &herr);
	if (rc != SFY_HOSTENT_PASS)
		return he_static(rc, herr);
	if (r->gethostbyname2 == NULL) {
		h_errno = NO_RECOVERY;
		return NULL;
	}
	sfy_dns_local_begin(&fwd, name);
	he = r->gethostbyname2(name, af);
	sfy_dns_local_end(&fwd);
	sfy_dns_note_hostent(name, he);
	return he;
}

struct hostent *gethostbyname(const char *name)
{
	struct sfy_dns_fwd fwd;
	struct hostent *he;
	const struct sfy_real *r = sfy_real();
	int herr = 0, rc;

	rc = sfy_hostent_lookup(name, AF_INET, &he_tls.he, he_tls.buf,
				sizeof(he_tls.buf), &herr);
	if (rc != SFY_HOSTENT_PASS)
		return he_static(rc, herr);
	if (r->gethostbyname == NULL) {
		h_errno = NO_RECOVERY;
		return NULL;
	}
	sfy_dns_local_begin(&fwd, name);
	he = r->gethostbyname(name);
	sfy_dns_local_end(&fwd);
	sfy_dns_note_hostent(name, he);
	return he;
}

int gethostbyname2_r(const char *name, int af, struct hostent *ret, char *buf,
		     size_t buflen, struct hostent **result, int *h_errnop)
{
	struct sfy_dns_fwd fwd;
	const struct sfy_real *r = sfy_real();
	int herr = 0, rc;

	rc = sfy_hostent_lookup(name, af, ret, buf, buflen, &herr);
	if (rc != SFY_HOSTENT_PASS)
		return he_r(rc, herr, ret, result, h_errnop);
	if (r->gethostbyname2_r == NULL)
		return he_r(ENOSYS, NETDB_INTERNAL, ret, result, h_errnop);
	sfy_dns_local_begin(&fwd, name);
	rc = r->gethostbyname2_r(name, af, ret, buf, buflen, result, h_errnop);
	sfy_dns_local_end(&fwd);
	if (rc == 0 && result)
		sfy_dns_note_hostent(name, *result);
	return rc;
}

int gethostbyname_r(const char *name, struct hostent *ret, char *buf,
		    size_t buflen, struct hostent **result, int *h_errnop)
{
	struct sfy_dns_fwd fwd;
	const struct sfy_real *r = sfy_real();
	int herr = 0, rc;

	rc = sfy_hostent_lookup(name, AF_INET, ret, buf, buflen, &herr);
	if (rc != SFY_HOSTENT_PASS)
		return he_r(rc, herr, ret, result, h_errnop);
	if (r->gethostbyname_r == NULL)
		return he_r(ENOSYS, NETDB_INTERNAL, ret, result, h_errnop);
	sfy_dns_local_begin(&fwd, name);
	rc = r->gethostbyname_r(name, ret, buf, buflen, result, h_errnop);
	sfy_dns_local_end(&fwd);
	if (rc == 0 && result)
		sfy_dns_note_hostent(name, *result);
	return rc;
}

/* gethostbyaddr's arguments as a sockaddr; AF_UNSPEC when they are not an
 * IPv4 or IPv6 address. */
static void addr_sockaddr(const void *addr, socklen_t len, int type,
			  struct sockaddr_storage *ss)
{
	memset(ss, 0, sizeof(*ss));
	if (addr && type == AF_INET && len == 4) {
		((struct sockaddr_in *)ss)->sin_family = AF_INET;
		memcpy(&((struct sockaddr_in *)ss)->sin_addr, addr, 4);
	} else if (addr && type == AF_INET6 && len == 16) {
		((struct sockaddr_in6 *)ss)->sin6_family = AF_INET6;
		memcpy(&((struct sockaddr_in6 *)ss)->sin6_addr, addr, 16);
	}
}

/* A fake address's name, never a reverse DNS query for it. */
int sfy_hostent_by_addr(const void *addr, socklen_t len, int type,
			struct hostent *he, char *buf, size_t buflen,
			int *herr)
{
	struct sockaddr_storage ss;
	char name[SOCKS5_DOMAIN_MAX + 1];
	int rc;

	addr_sockaddr(addr, len, type, &ss);
	if (sfy_inside() || ss.ss_family == AF_UNSPEC ||
	    !sfy_dns_reverse_active())
		return SFY_HOSTENT_PASS;
	if (!sfy_fakeip_in_range((struct sockaddr *)&ss))
		return SFY_HOSTENT_PASS;
	rc = sfy_fakeip_name((struct sockaddr *)&ss, name, sizeof(name));
	if (rc) {
		sfy_info("gethostbyaddr: fake address with no known name (%s)",
			 strerror(-rc));
		*herr = HOST_NOT_FOUND;
		return 0;
	}
	rc = he_fill(he, buf, buflen, name, type, addr, 1);
	*herr = rc ? NETDB_INTERNAL : 0;
	return rc;
}

/* A reverse lookup by the real resolver: with remote DNS, of an address
 * the proxy reaches, not asked of DNS at all (/etc/hosts still answers);
 * else local DNS through the relay, as for names (hook_getnameinfo.c). */
static void reverse_begin(struct sfy_dns_fwd *fwd, const void *addr,
			  socklen_t len, int type)
{
	struct sockaddr_storage ss;

	addr_sockaddr(addr, len, type, &ss);
	if (ss.ss_family != AF_UNSPEC &&
	    sfy_reverse_refused((struct sockaddr *)&ss)) {
		sfy_dns_blackhole_begin(fwd);
		return;
	}
	sfy_dns_local_begin(fwd, NULL);
}

struct hostent *gethostbyaddr(const void *addr, socklen_t len, int type)
{
	const struct sfy_real *r = sfy_real();
	struct sfy_dns_fwd fwd;
	struct hostent *he;
	int herr = 0, rc;

	rc = sfy_hostent_by_addr(addr, len, type, &he_tls.he, he_tls.buf,
				 sizeof(he_tls.buf), &herr);
	if (rc != SFY_HOSTENT_PASS)
		return he_static(rc, herr);
	if (r->gethostbyaddr == NULL) {
		h_errno = NO_RECOVERY;
		return NULL;
	}
	reverse_begin(&fwd, addr, len, type);
	he = r->gethostbyaddr(addr, len, type);
	sfy_dns_local_end(&fwd);
	return he;
}

int gethostbyaddr_r(const void *addr, socklen_t len, int type,
		    struct hostent *ret, char *buf, size_t buflen,
		    struct hostent **result, int *h_errnop)
{
	const struct sfy_real *r = sfy_real();
	struct sfy_dns_fwd fwd;
	int herr = 0, rc;

	rc = sfy_hostent_by_addr(addr, len, type, ret, buf, buflen, &herr);
	if (rc != SFY_HOSTENT_PASS)
		return he_r(rc, herr, ret, result, h_errnop);
	if (r->gethostbyaddr_r == NULL)
		return he_r(ENOSYS, NETDB_INTERNAL, ret, result, h_errnop);
	reverse_begin(&fwd, addr, len, type);
	rc = r->gethostbyaddr_r(addr, len, type, ret, buf, buflen, result,
				h_errnop);
	sfy_dns_local_end(&fwd);
	return rc;
}
