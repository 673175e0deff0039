/*
 * CIDR parsing and matching (cidr.h). Addresses are compared as
 * network-order bytes; an IPv4-mapped IPv6 address (::ffff:a.b.c.d) is
 * treated as the IPv4 address it carries, because that is where the
 * kernel sends it.
 */
#include <errno.h>
#include <string.h>

#include "base/sockaddr.h"
#include "route/cidr.h"

bool sfy_cidr_match(const struct sfy_cidr *c, const struct sockaddr *sa)
{
	const uint8_t *bytes;
	uint16_t port;
	int fam;

	if (sa->sa_family == AF_INET && c->family == AF_INET)
		return sfy_cidr_has4(
			c, ((const struct sockaddr_in *)sa)->sin_addr.s_addr);
	bytes = sfy_addr_bytes(sa, &fam, &port);
	if (!bytes)
		return false;
	if (fam == c->family)
		return sfy_cidr_has(c, bytes);
	/* An IPv6 range may name mapped addresses itself (::ffff:0:0/96). */
	if (fam == AF_INET && c->family == AF_INET6 &&
	    sa->sa_family == AF_INET6)
		return sfy_cidr_has(
			c, ((const struct sockaddr_in6 *)sa)->sin6_addr.s6_addr);
	return false;
}

/* A decimal prefix length 0..max, digits only. */
static int parse_prefix(const char *s, unsigned int max, uint8_t *out)
{
	unsigned int v = 0;

	if (!*s || strlen(s) > 3)
		return -EINVAL;
	for (; *s; s++) {
		if (*s < '0' || *s > '9')
			return -EINVAL;
		v = v * 10 + (unsigned int)(*s - '0');
	}
	if (v > max)
		return -EINVAL;
	*out = (uint8_t)v;
	return 0;
}

void sfy_cidr_clear_host_bits(struct sfy_cidr *c)
{
	unsigned int max = c->family == AF_INET ? 32 : 128, i;

	for (i = c->prefix; i < max; i++)
		c->addr[i / 8] &= (uint8_t)~(0x80u >> (i % 8));
}

/* "a.b.c.d", "a.b.c.d/n", "v6", "v6/n", "[v6]", "[v6]/n". Host bits
 * beyond the prefix are cleared, so "10.1.2.3/8" means 10.0.0.0/8. */
int sfy_cidr_parse(const char *text, struct sfy_cidr *out)
{
	char buf[INET6_ADDRSTRLEN + 8];
	const char *slash;
	char *addr = buf;
	size_t len;
	unsigned int max;

	if (!text)
		return -EINVAL;
	slash = strchr(text, '/');
	len = slash ? (size_t)(slash - text) : strlen(text);
	if (len == 0 || len >= sizeof(buf))
		return -EINVAL;
	memcpy(buf, text, len);
	buf[len] = '\0';
	if (buf[0] == '[') {
		if (len < 3 || buf[len - 1] != ']')
			return -EINVAL;
		buf[len - 1] = '\0';
		addr = buf + 1;
	}
	memset(out, 0, sizeof(*out));
	if (addr == buf && inet_pton(AF_INET, addr, out->addr) == 1) {
		out->family = AF_INET;
		max = 32;
	} else if (inet_pton(AF_INET6, addr, out->addr) == 1) {
		out->family = AF_INET6;
		max = 128;
	} else {
		return -EINVAL;
	}
	out->prefix = (uint8_t)max;
	if (slash && parse_prefix(slash + 1, max, &out->prefix))
		return -EINVAL;
	sfy_cidr_clear_host_bits(out);
	return 0;
}
