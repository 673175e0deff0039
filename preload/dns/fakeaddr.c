/*
 * Address arithmetic of the fake-IP map (fakeaddr.h): pure functions, no
 * state, so the map's file holds only the map.
 */
#include <errno.h>
#include <stdint.h>
#include <string.h>

#include "base/sockaddr.h"
#include "dns/fakeaddr.h"

/* Usable entries in a range: v4 skips the network and broadcast
 * addresses, v6 the network (subnet-router anycast) address. */
uint64_t sfy_fake_range_usable(const struct sfy_cidr *c)
{
	unsigned bits = (c->family == AF_INET ? 32u : 128u) - c->prefix;
	uint64_t size;

	if (bits >= 32)
		return UINT64_MAX; /* far more than any map holds */
	size = (uint64_t)1 << bits;
	if (c->family == AF_INET)
		return size > 2 ? size - 2 : 0;
	return size - 1;
}

bool sfy_fake_cidr_valid(const struct sfy_cidr *c, int family)
{
	unsigned max = family == AF_INET ? 32 : 128;

	return c && c->family == family && c->prefix <= max;
}

uint32_t sfy_fake_hash(const char *s, size_t len)
{
	uint32_t h = 2166136261u; /* FNV-1a */

	for (size_t i = 0; i < len; i++) {
		h ^= (uint8_t)s[i];
		h *= 16777619u;
	}
	return h;
}

/* Lowercase, without one trailing dot; -EINVAL for an unusable name. */
int sfy_fake_normalise(const char *name, size_t len, char *out, size_t *outlen)
{
	if (name == NULL)
		return -EINVAL;
	if (len > 0 && name[len - 1] == '.')
		len--;
	if (len == 0 || len > SFY_FAKE_NAME_MAX || memchr(name, '\0', len))
		return -EINVAL;
	for (size_t i = 0; i < len; i++) {
		char c = name[i];

		out[i] = (c >= 'A' && c <= 'Z') ? (char)(c + 'a' - 'A') : c;
	}
	out[len] = '\0';
	*outlen = len;
	return 0;
}

void sfy_fake_index_to_addr(uint32_t idx, const struct sfy_cidr *c, uint8_t *out)
{
	size_t n = c->family == AF_INET ? 4 : 16;
	uint8_t be[4] = { idx >> 24, idx >> 16, idx >> 8, idx };

	/* idx < 2^(host bits), and the base has those bits clear: OR adds. */
	memcpy(out, c->addr, n);
	for (int i = 0; i < 4; i++)
		out[n - 4 + i] |= be[i];
}

/* The entry index behind sa (maybe 0 or past cap), or -EINVAL when sa is
 * not in a fake range. */
int64_t sfy_fake_addr_to_index(const struct sockaddr *sa,
			       const struct sfy_cidr *v4,
			       const struct sfy_cidr *v6)
{
	const uint8_t *a;
	const struct sfy_cidr *c;
	uint8_t host[16];
	uint16_t port;
	size_t n;
	int fam;

	if (sa == NULL)
		return -EINVAL;
	a = sfy_addr_bytes(sa, &fam, &port); /* a mapped address is IPv4 */
	if (a == NULL)
		return -EINVAL;
	c = fam == AF_INET ? v4 : v6;
	if (c == NULL || !sfy_cidr_has(c, a))
		return -EINVAL;

	/* host part = address with the prefix cleared */
	n = c->family == AF_INET ? 4 : 16;
	memcpy(host, a, n);
	for (size_t i = 0; i < n; i++)
		host[i] ^= c->addr[i];
	for (size_t i = 0; i + 4 < n; i++)
		if (host[i] != 0)
			return UINT32_MAX + (int64_t)1; /* beyond any cap */
	return (int64_t)host[n - 4] << 24 | host[n - 3] << 16 |
	       host[n - 2] << 8 | host[n - 1];
}
