/*
 * getnameinfo: a fake address answers with its name, without any reverse
 * DNS query. The numeric text and the service part come from the real
 * getnameinfo called with NI_NUMERICHOST, which never consults DNS.
 *
 *   fake, name known        host = the name (NI_NUMERICHOST: the numeric
 *                           fake address)
 *   fake, name not known    NI_NAMEREQD: EAI_NONAME; else the numeric text
 *   remote DNS, any other address the proxy reaches (not direct by
 *   configuration):         the real getnameinfo with no name server
 *                           reachable (udp_dns.h's blackhole), so no
 *                           reverse DNS query (the local name server would
 *                           learn the address): /etc/hosts still answers;
 *                           else glibc's answer when no name server
 *                           answers: EAI_AGAIN (NI_NUMERICHOST: the
 *                           numeric text, no lookup at all)
 *   anything else           the real getnameinfo (local DNS: through the
 *                           relay)
 */
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <string.h>

#include "base/config.h"
#include "base/log.h"
#include "base/realfn.h"
#include "dns/fakeip.h"
#include "dns/udp_dns.h"
#include "hooks/hooks.h"
#include "route/dnsroute.h"
#include "route/policy.h"

/* The family is read only when salen holds it. */
static bool sockaddr_fits(const struct sockaddr *sa, socklen_t salen)
{
	if (salen < sizeof(sa_family_t))
		return false;
	if (sa->sa_family == AF_INET)
		return salen >= sizeof(struct sockaddr_in);
	if (sa->sa_family == AF_INET6)
		return salen >= sizeof(struct sockaddr_in6);
	return false;
}

int sfy_nameinfo_fake(const struct sockaddr *sa, socklen_t salen, char *host,
		      socklen_t hostlen, char *serv, socklen_t servlen,
		      int flags)
{
	const struct sfy_real *r = sfy_real();
	char name[SOCKS5_DOMAIN_MAX + 1];
	size_t nlen;
	int rc;

	if (sfy_inside() || sa == NULL || host == NULL || hostlen == 0 ||
	    !sockaddr_fits(sa, salen) || !sfy_dns_reverse_active() ||
	    !sfy_fakeip_in_range(sa))
		return SFY_NAMEINFO_PASS;

	/* glibc answers EAI_NONAME to NI_NUMERICHOST | NI_NAMEREQD */
	rc = r->getnameinfo(sa, salen, host, hostlen, serv, servlen,
			    (flags & ~NI_NAMEREQD) | NI_NUMERICHOST);
	if (rc != 0 || (flags & NI_NUMERICHOST))
		return rc;
	rc = sfy_fakeip_name(sa, name, sizeof(name));
	if (rc) {
		sfy_info("getnameinfo(%s): fake address with no known name",
			 host);
		return (flags & NI_NAMEREQD) ? EAI_NONAME : 0;
	}
	nlen = strlen(name) + 1;
	if (nlen > hostlen)
		return EAI_OVERFLOW;
	memcpy(host, name, nlen);
	return 0;
}

bool sfy_reverse_refused(const struct sockaddr *sa)
{
	const struct sfy_config *cfg = sfy_config();

	if (sfy_inside() || !(cfg->enabled || cfg->broken))
		return false;
	if (!cfg->broken && cfg->dns != SFY_DNS_REMOTE)
		return false;
	return !sfy_policy_direct_addr(sa);
}

int getnameinfo(const struct sockaddr *sa, socklen_t salen, char *host,
		socklen_t hostlen, char *serv, socklen_t servlen, int flags)
{
	struct sfy_dns_fwd fwd;
	const struct sfy_real *r = sfy_real();
	int rc;

	if (r->getnameinfo == NULL) {
		errno = ENOSYS;
		return EAI_SYSTEM;
	}
	rc = sfy_nameinfo_fake(sa, salen, host, hostlen, serv, servlen, flags);
	if (rc != SFY_NAMEINFO_PASS)
		return rc;
	if (!host || !hostlen || (flags & NI_NUMERICHOST))
		return r->getnameinfo(sa, salen, host, hostlen, serv, servlen,
				      flags);
	/* A reverse lookup: with remote DNS not asked of DNS at all; with
	 * local DNS through the relay, as for names. */
	if (!(sa && sockaddr_fits(sa, salen) && sfy_reverse_refused(sa))) {
		sfy_dns_local_begin(&fwd, NULL);
		rc = r->getnameinfo(sa, salen, host, hostlen, serv, servlen,
				    flags);
		sfy_dns_local_end(&fwd);
		return rc;
	}
	sfy_dns_blackhole_begin(&fwd);
	rc = r->getnameinfo(sa, salen, host, hostlen, serv, servlen, flags);
	sfy_dns_local_end(&fwd);
	return rc;
}
