/*
 * Address ranges (CIDR), written once: parsed for the bypass list
 * (SOCKSIFY_NO_PROXY / NO_PROXY) and the fake ranges (SOCKSIFY_FAKE_NET),
 * matched by the policy on every connect() and by the fake-address map on
 * every connect()/sendto(). The byte tests are inline: a call costs more
 * than the usual one-byte (127/8) comparison. Pure; async-signal-safe.
 * Internal; hidden.
 */
#ifndef SOCKSIFY_PRELOAD_CIDR_H
#define SOCKSIFY_PRELOAD_CIDR_H

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>

/* An address range: family AF_INET or AF_INET6, network-order bytes.
 * port (network order) narrows it to one port, for the bypass list's
 * "ADDR:PORT/N" (bypasslist.h); 0 is every port, and what
 * sfy_cidr_parse makes. It fills what was padding: the struct keeps its
 * size. */
struct sfy_cidr {
	int family;
	uint8_t addr[16];
	uint8_t prefix;
	uint16_t port;
};

/* "a.b.c.d", "a.b.c.d/n", "v6", "v6/n", "[v6]", "[v6]/n": 0 or -EINVAL.
 * Host bits beyond the prefix are cleared, so "10.1.2.3/8" means
 * 10.0.0.0/8. */
int sfy_cidr_parse(const char *text, struct sfy_cidr *out);

/* Clears the host bits of a range not made by sfy_cidr_parse. */
void sfy_cidr_clear_host_bits(struct sfy_cidr *c);

/* Whether addr (c's family's 4 or 16 bytes) is in c. */
static inline bool sfy_cidr_has(const struct sfy_cidr *c, const uint8_t *addr)
{
	unsigned int whole = c->prefix / 8, rest = c->prefix % 8, i;

	for (i = 0; i < whole; i++)
		if (addr[i] != c->addr[i])
			return false;
	if (!rest)
		return true;
	return ((addr[whole] ^ c->addr[whole]) & (uint8_t)(0xff << (8 - rest))) ==
	       0;
}

/* An IPv4 range made ready for the hottest test (host byte order). */
struct sfy_cidr4 {
	uint32_t net, mask;
};

static inline struct sfy_cidr4 sfy_cidr4_of(const struct sfy_cidr *c)
{
	struct sfy_cidr4 p;

	p.mask = c->prefix ? ~UINT32_C(0) << (32 - c->prefix) : 0;
	p.net = (uint32_t)c->addr[0] << 24 | (uint32_t)c->addr[1] << 16 |
		(uint32_t)c->addr[2] << 8 | c->addr[3];
	return p;
}

/* Whether the IPv4 address a (network order) is in p: 32-bit arithmetic,
 * no byte loop. */
static inline bool sfy_cidr4_has(const struct sfy_cidr4 *p, in_addr_t a)
{
	return ((ntohl(a) ^ p->net) & p->mask) == 0;
}

/* The same for an IPv4 range not made ready. */
static inline bool sfy_cidr_has4(const struct sfy_cidr *c, in_addr_t a)
{
	struct sfy_cidr4 p = sfy_cidr4_of(c);

	return sfy_cidr4_has(&p, a);
}

/* Whether sa (AF_INET or AF_INET6, whole) is in c. An IPv4-mapped
 * address is matched as the IPv4 address it carries, and also by an IPv6
 * range that names mapped addresses itself (::ffff:0:0/96). */
bool sfy_cidr_match(const struct sfy_cidr *c, const struct sockaddr *sa);

#endif
