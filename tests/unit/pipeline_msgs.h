/*
 * Fixtures shared by the pipelining tests (test_pipeline.c: the state
 * machine; test_pipeline_driver.c: the driver and the probe): the exact
 * messages of a no-auth and a username/password exchange, a hop, a
 * destination. Header-only (static, marked unused): the unit binaries that
 * do not include it get nothing of it.
 */
#ifndef SOCKSIFY_TESTS_PIPELINE_MSGS_H
#define SOCKSIFY_TESTS_PIPELINE_MSGS_H

#include <stdarg.h>
#include <stdbool.h>
#include <string.h>

#include "socks5.h"

#define PM_UNUSED __attribute__((unused))
#define BYTES(...) ((const uint8_t[]){ __VA_ARGS__ })

static PM_UNUSED const uint8_t GREET_NOAUTH[] = { 5, 1, 0 };
static PM_UNUSED const uint8_t GREET_USERONLY[] = { 5, 1, 2 };
static PM_UNUSED const uint8_t AUTH_ALICE[] = { 1, 5, 'a', 'l', 'i', 'c', 'e',
				      6, 's', '3', 'c', 'r', 'e', 't' };
/* CONNECT 192.0.2.7:80 */
static PM_UNUSED const uint8_t REQ_CONNECT[] = { 5, 1, 0, 1, 192, 0, 2, 7, 0, 80 };
/* CONNECT 0.0.0.0:0: the probe's request */
static PM_UNUSED const uint8_t REQ_PROBE[] = { 5, 1, 0, 1, 0, 0, 0, 0, 0, 0 };
static PM_UNUSED const uint8_t METHOD_NOAUTH[] = { 5, 0 };
static PM_UNUSED const uint8_t METHOD_USERPASS[] = { 5, 2 };
static PM_UNUSED const uint8_t AUTH_OK[] = { 1, 0 };
/* succeeded, BND 198.51.100.1:4660 */
static PM_UNUSED const uint8_t REPLY_OK[] = { 5, 0, 0, 1, 198, 51, 100, 1, 0x12, 0x34 };
/* address type not supported (dante's answer to the probe) */
static PM_UNUSED const uint8_t REPLY_REP8[] = { 5, 8, 0, 1, 0, 0, 0, 0, 0, 0 };

/* scripted_io.c's, linked into every unit test (its header's DEADLINE
 * differs from the pipelining tests' own). */
struct socks5_proxy sio_hop(const char *host, uint16_t port,
			    const char *user, const char *pass);

/* A hop at 127.0.0.1:1080. */
static PM_UNUSED struct socks5_proxy hop(const char *user, const char *pass)
{
	return sio_hop("127.0.0.1", 1080, user, pass);
}

static PM_UNUSED struct socks5_addr dst_ip4(void)
{
	struct socks5_addr a;

	memset(&a, 0, sizeof(a));
	a.atyp = SOCKS5_ATYP_IPV4;
	memcpy(a.u.ipv4, BYTES(192, 0, 2, 7), 4);
	a.port = 80;
	return a;
}

/* Concatenates n (pointer, length) pairs into buf; returns the length. */
static PM_UNUSED size_t cat(uint8_t *buf, int n, ...)
{
	va_list ap;
	size_t len = 0;
	int i;

	va_start(ap, n);
	for (i = 0; i < n; i++) {
		const uint8_t *p = va_arg(ap, const uint8_t *);
		size_t l = va_arg(ap, size_t);

		memcpy(buf + len, p, l);
		len += l;
	}
	va_end(ap);
	return len;
}

#define M(x) (x), sizeof(x)

#endif
