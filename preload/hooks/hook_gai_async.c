/*
 * getaddrinfo_a(): glibc's asynchronous lookups run getaddrinfo on a
 * thread of glibc's own, inside libc, where our hook is never called: a
 * name would go to the local name server (issue 18). So the requests the
 * library answers are answered here, before getaddrinfo_a returns, by the
 * same code as getaddrinfo (remote DNS: a fake address, which needs no
 * network; local DNS: the resolver's queries through the proxy's relay),
 * and only the others (numbers, /etc/hosts names and bypassed names under
 * remote DNS) are left to glibc.
 *
 * What the program sees is what glibc would give it:
 *   - each answered request has ar_result and its return code set, the
 *     code in the request's own field __return, which is what gai_error()
 *     reads (glibc: "return req->__return");
 *   - gai_cancel() of an answered request is EAI_ALLDONE and gai_suspend()
 *     returns at once for it (glibc finds no queued request for it: done);
 *   - the notification: the real getaddrinfo_a is called with the same
 *     mode and sigevent, with the answered entries NULL; glibc waits for
 *     the rest (GAI_WAIT) or notifies once the rest are done (GAI_NOWAIT),
 *     and with nothing left it notifies at once, as for a list of NULLs
 *     (SIGEV_SIGNAL, SIGEV_THREAD or SIGEV_NONE, by glibc itself).
 *
 * Under local DNS every request is answered here, so its queries go
 * through the relay: the lookups then happen before getaddrinfo_a
 * returns, also with GAI_NOWAIT (correct, but not asynchronous).
 */
#include <errno.h>
#include <netdb.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "base/config.h"
#include "base/realfn.h"
#include "hooks/hooks.h"
#include "route/dnsroute.h"

#define GAI_A_MAX 1024 /* entries answered from the stack; more: glibc's */

/* Whether the library answers this request itself. */
static bool answered_here(const struct sfy_config *cfg, const struct gaicb *g)
{
	const struct addrinfo *h = g->ar_request;
	struct sfy_hosts_result hr;
	int err = 0;

	if (!g->ar_name || (h && (h->ai_flags & AI_NUMERICHOST)))
		return false;
	if (cfg->dns != SFY_DNS_REMOTE)
		return true;
	return sfy_dns_route(g->ar_name, h ? h->ai_family : AF_UNSPEC, &hr,
			     &err) != SFY_ROUTE_REAL;
}

int getaddrinfo_a(int mode, struct gaicb *list[], int ent,
		  struct sigevent *sig)
{
	const struct sfy_real *r = sfy_real();
	const struct sfy_config *cfg;
	struct gaicb *rest[GAI_A_MAX];
	int i, saved = errno;

	if (!r->getaddrinfo_a) {
		errno = ENOSYS;
		return EAI_SYSTEM;
	}
	if (sfy_inside() || (mode != GAI_WAIT && mode != GAI_NOWAIT) ||
	    ent <= 0 || ent > GAI_A_MAX || !list)
		return r->getaddrinfo_a(mode, list, ent, sig);
	cfg = sfy_config();
	if (!cfg->enabled && !cfg->broken)
		return r->getaddrinfo_a(mode, list, ent, sig);
	for (i = 0; i < ent; i++) {
		struct gaicb *g = list[i];

		rest[i] = g;
		if (!g || !answered_here(cfg, g))
			continue;
		g->ar_result = NULL;
		g->__return = sfy_getaddrinfo(g->ar_name, g->ar_service,
					      g->ar_request, &g->ar_result);
		rest[i] = NULL;
	}
	errno = saved;
	return r->getaddrinfo_a(mode, rest, ent, sig);
}
