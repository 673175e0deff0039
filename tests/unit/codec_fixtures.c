/*
 * Fixtures for the codec unit tests: see codec_fixtures.h.
 */
#include <arpa/inet.h>
#include <check.h>
#include <string.h>
#include <sys/socket.h>

#include "codec_fixtures.h"

void cfx_fill(uint8_t *b, size_t n)
{
	memset(b, CFX_CANARY, n);
}

bool cfx_untouched(const uint8_t *b, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (b[i] != CFX_CANARY)
			return false;
	return true;
}

struct socks5_addr cfx_ipv4(void)
{
	struct socks5_addr a;

	memset(&a, 0, sizeof(a));
	a.atyp = SOCKS5_ATYP_IPV4;
	memcpy(a.u.ipv4, "\xc0\x00\x02\x01", 4); /* 192.0.2.1 */
	a.port = 0x1F90;                        /* 8080 */
	return a;
}

struct socks5_addr cfx_ipv6(void)
{
	struct socks5_addr a;

	memset(&a, 0, sizeof(a));
	a.atyp = SOCKS5_ATYP_IPV6;
	inet_pton(AF_INET6, "2001:db8::1:2", a.u.ipv6);
	a.port = 443;
	return a;
}

struct socks5_addr cfx_domain(size_t len)
{
	struct socks5_addr a;
	size_t i;

	memset(&a, 0, sizeof(a));
	a.atyp = SOCKS5_ATYP_DOMAIN;
	a.len = (uint8_t)len;
	for (i = 0; i < len; i++)
		a.u.domain[i] = (char)('a' + i % 26);
	a.port = 0xABCD;
	return a;
}

size_t cfx_wire_addr(uint8_t *p, const struct socks5_addr *a)
{
	size_t n = 0;

	p[n++] = a->atyp;
	if (a->atyp == SOCKS5_ATYP_IPV4) {
		memcpy(p + n, a->u.ipv4, 4);
		n += 4;
	} else if (a->atyp == SOCKS5_ATYP_IPV6) {
		memcpy(p + n, a->u.ipv6, 16);
		n += 16;
	} else {
		p[n++] = a->len;
		memcpy(p + n, a->u.domain, a->len);
		n += a->len;
	}
	p[n++] = (uint8_t)(a->port >> 8);
	p[n++] = (uint8_t)a->port;
	return n;
}

void cfx_assert_addr_eq(const struct socks5_addr *x,
			const struct socks5_addr *y)
{
	ck_assert_uint_eq(x->atyp, y->atyp);
	ck_assert_uint_eq(x->port, y->port);
	if (x->atyp == SOCKS5_ATYP_IPV4)
		ck_assert_mem_eq(x->u.ipv4, y->u.ipv4, 4);
	else if (x->atyp == SOCKS5_ATYP_IPV6)
		ck_assert_mem_eq(x->u.ipv6, y->u.ipv6, 16);
	else {
		ck_assert_uint_eq(x->len, y->len);
		ck_assert_mem_eq(x->u.domain, y->u.domain, x->len);
		ck_assert_int_eq(x->u.domain[x->len], '\0');
	}
}

struct socks5_addr cfx_sample(int i)
{
	switch (i) {
	case 0:
		return cfx_ipv4();
	case 1:
		return cfx_ipv6();
	case 2:
		return cfx_domain(1);
	default:
		return cfx_domain(255);
	}
}
