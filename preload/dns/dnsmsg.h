/*
 * DNS messages for remote DNS: the question of a query read, and the
 * answer remote DNS gives built (A and AAAA from /etc/hosts or the fake
 * map, every other type REFUSED). One codec for the two places a query
 * reaches the library as a packet: the low-level resolver's res_* calls
 * (hooks/hook_res.c) and the queries a program sends itself to a name
 * server on port 53 (dns/dns53.h). Internal; hidden.
 */
#ifndef SOCKSIFY_PRELOAD_DNSMSG_H
#define SOCKSIFY_PRELOAD_DNSMSG_H

#include <stdbool.h>
#include <stddef.h>

#include "dns/hosts.h"

#define SFY_DNS_ANS_MAX 1024 /* header, question, up to SFY_HOSTS_ADDRS_MAX answers */

struct sfy_dns_packet {
	unsigned char b[SFY_DNS_ANS_MAX];
	size_t len;
};

/* What became of one question. */
enum sfy_dns_verdict {
	SFY_DNS_REAL,     /* a bypassed name: the real resolver's to answer */
	SFY_DNS_ANSWERED, /* the answer is in the packet */
	SFY_DNS_FAILED,   /* the name cannot be put in a packet */
};

/*
 * Remote DNS's answer to (name, class, type) with query id id, into p:
 * class IN, type A or AAAA: the addresses /etc/hosts gives the name, else
 * its fake address (what getaddrinfo would give); a name remote DNS has
 * no address for is NXDOMAIN; a configuration that fails closed is
 * SERVFAIL. Every other type is REFUSED, with one log line (who says who
 * asked). SFY_DNS_REAL for a name on the bypass list.
 */
enum sfy_dns_verdict sfy_dns_answer(const char *who, const char *name,
				    int class, int type, unsigned id,
				    struct sfy_dns_packet *p);

/* The answer (rcode, and na addresses of the type's family) into p;
 * false when name cannot be put in a packet. */
bool sfy_dns_build(struct sfy_dns_packet *p, unsigned id, const char *name,
		   int class, int type, int rcode,
		   const struct sfy_hosts_addr *a, size_t na);

/* The question of a query packet: its name (text), class and type. By
 * hand, not with ns_initparse: that lives in libresolv, which a program
 * need not load. */
bool sfy_dns_parse_question(const unsigned char *msg, int len, char *name,
			    size_t cap, int *class, int *type);

#endif
