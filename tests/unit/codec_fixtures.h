/*
 * Fixtures shared by the codec unit tests (test_codec.c,
 * test_codec_reply.c): sample addresses, the RFC 1928 address field built
 * by hand, and canary-filled buffers. Linked into every unit binary (see
 * the Makefile), hence the cfx_ prefix on every symbol.
 */
#ifndef SOCKSIFY_UNIT_CODEC_FIXTURES_H
#define SOCKSIFY_UNIT_CODEC_FIXTURES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "socks5.h"

#define CFX_CANARY 0xAB

/* b[0..n) set to the canary, and whether it still is. */
void cfx_fill(uint8_t *b, size_t n);
bool cfx_untouched(const uint8_t *b, size_t n);

/* 192.0.2.1:8080, [2001:db8::1:2]:443, and a name of len letters:0xABCD */
struct socks5_addr cfx_ipv4(void);
struct socks5_addr cfx_ipv6(void);
struct socks5_addr cfx_domain(size_t len);
/* 0: IPv4, 1: IPv6, 2: a 1-byte name, 3: a 255-byte name */
struct socks5_addr cfx_sample(int i);

/* ATYP | ADDR | PORT as the RFC lays it out, built by hand. */
size_t cfx_wire_addr(uint8_t *p, const struct socks5_addr *a);
void cfx_assert_addr_eq(const struct socks5_addr *x,
			const struct socks5_addr *y);

#endif
