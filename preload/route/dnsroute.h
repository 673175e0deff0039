/*
 * Remote DNS: where a name is resolved. Shared by the resolver hooks
 * (getaddrinfo, gethostbyname*) so that they agree on one rule:
 *
 *   - DNS mode local, or no proxy configured       -> the real resolver
 *   - numeric hosts (whatever getaddrinfo with AI_NUMERICHOST accepts),
 *     names on the bypass list (SOCKSIFY_NO_PROXY)   -> the real resolver
 *     (and the addresses it gives for a bypassed name go direct: see
 *     sfy_dns_note_addrinfo; never a fake address for them)
 *   - names in /etc/hosts with an address of the family asked for
 *                                                   -> the real resolver
 *     (its "files" source answers; DNS is never asked)
 *   - names in /etc/hosts but not for that family, and "localhost" /
 *     "*.localhost" missing from it (RFC 6761), bypassed or not
 *                                                   -> answered from the
 *     hosts data by the hook itself, because the real resolver would go
 *     on to DNS for them (bypassed: those addresses go direct too)
 *   - empty names or names over 255 bytes (one trailing dot not counted):
 *     no such name (SOCKS5 cannot carry them, DNS has none)
 *   - everything else                               -> a fake address
 *
 * A name never reaches the real resolver in remote mode except in the
 * cases listed. A broken configuration fails closed for names that would
 * have been given a fake address.
 */
#ifndef SOCKSIFY_PRELOAD_DNSROUTE_H
#define SOCKSIFY_PRELOAD_DNSROUTE_H

#include <netdb.h>
#include <stdbool.h>
#include <stddef.h>
#include <sys/socket.h>

#include "dns/hosts.h"

enum sfy_route {
	SFY_ROUTE_REAL,   /* call the real resolver unchanged */
	SFY_ROUTE_HOSTS,  /* answer from the hosts data filled in */
	SFY_ROUTE_FAKE,   /* answer with a fake address */
	SFY_ROUTE_NONAME, /* no such name */
	SFY_ROUTE_FAIL,   /* fail closed; *err is the errno */
};

/*
 * Decides for name and family (AF_UNSPEC, AF_INET or AF_INET6). hosts is
 * filled for SFY_ROUTE_HOSTS. Never asks DNS.
 */
enum sfy_route sfy_dns_route(const char *name, int family,
			     struct sfy_hosts_result *hosts, int *err);

/*
 * After the real resolver answered name (any DNS mode): its addresses are
 * remembered as direct when name is on the bypass list, and forgotten
 * when it is not (bypassmap.h: the name resolved last decides). Numeric
 * names change nothing (their address alone decides). Call it on success
 * only; res / he may be NULL.
 */
void sfy_dns_note_addrinfo(const char *name, const struct addrinfo *res);
void sfy_dns_note_hostent(const char *name, const struct hostent *he);

/* True when fake addresses are in play for reverse lookups (a proxy is
 * configured, or the configuration is broken and we fail closed). */
bool sfy_dns_reverse_active(void);

/* The implementations behind the hooks (the hooks are thin wrappers that
 * call the real function on *_PASS). Unit tests call them too. */

#define SFY_HOSTENT_PASS (-1)
/* gethostbyname*: SFY_HOSTENT_PASS, or 0 with *herr 0 (found, he filled)
 * or HOST_NOT_FOUND, or an errno (ERANGE: buf too small) with *herr
 * NETDB_INTERNAL. */
int sfy_hostent_lookup(const char *name, int family, struct hostent *he,
		       char *buf, size_t buflen, int *herr);

/* gethostbyaddr*: the same results, for a fake address only (its name,
 * or HOST_NOT_FOUND; never a reverse DNS query). */
int sfy_hostent_by_addr(const void *addr, socklen_t len, int type,
			struct hostent *he, char *buf, size_t buflen,
			int *herr);

#define SFY_NAMEINFO_PASS 1
/* getnameinfo for a fake address: SFY_NAMEINFO_PASS when sa is not one,
 * else getnameinfo's result. */
int sfy_nameinfo_fake(const struct sockaddr *sa, socklen_t salen, char *host,
		      socklen_t hostlen, char *serv, socklen_t servlen,
		      int flags);

#endif
