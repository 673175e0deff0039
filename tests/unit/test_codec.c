/*
 * libsocks5 codec: every message byte for byte against RFC 1928 / 1929,
 * every ATYP both ways, every split of every reply, every malformed case,
 * too-small buffers for every encoder, address helpers.
 */
#include <arpa/inet.h>
#include <check.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/un.h>

#include "../../client/socks5.h"

#define CANARY 0xAB

static void fill(uint8_t *b, size_t n)
{
	memset(b, CANARY, n);
}

static bool untouched(const uint8_t *b, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (b[i] != CANARY)
			return false;
	return true;
}

static struct socks5_addr a_ipv4(void)
{
	struct socks5_addr a;

	memset(&a, 0, sizeof(a));
	a.atyp = SOCKS5_ATYP_IPV4;
	memcpy(a.u.ipv4, "\xc0\x00\x02\x01", 4); /* 192.0.2.1 */
	a.port = 0x1F90;                        /* 8080 */
	return a;
}

static struct socks5_addr a_ipv6(void)
{
	struct socks5_addr a;

	memset(&a, 0, sizeof(a));
	a.atyp = SOCKS5_ATYP_IPV6;
	inet_pton(AF_INET6, "2001:db8::1:2", a.u.ipv6);
	a.port = 443;
	return a;
}

static struct socks5_addr a_domain(size_t len)
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

/* ATYP | ADDR | PORT as the RFC lays it out, built by hand. */
static size_t wire_addr(uint8_t *p, const struct socks5_addr *a)
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

static void assert_addr_eq(const struct socks5_addr *x,
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

/* ---------------------------------------------------------------- */
/* Greeting and method selection                                     */

START_TEST(greeting_bytes)
{
	uint8_t buf[300], methods[255];
	size_t len = 0, i;

	ck_assert_int_eq(socks5_encode_greeting(buf, sizeof(buf),
			 (const uint8_t *)"\x00", 1, &len), SOCKS5_OK);
	ck_assert_uint_eq(len, 3);
	ck_assert_mem_eq(buf, "\x05\x01\x00", 3);

	ck_assert_int_eq(socks5_encode_greeting(buf, sizeof(buf),
			 (const uint8_t *)"\x00\x02", 2, &len), SOCKS5_OK);
	ck_assert_uint_eq(len, 4);
	ck_assert_mem_eq(buf, "\x05\x02\x00\x02", 4);

	for (i = 0; i < 255; i++)
		methods[i] = (uint8_t)i;
	ck_assert_int_eq(socks5_encode_greeting(buf, sizeof(buf), methods, 255,
						&len), SOCKS5_OK);
	ck_assert_uint_eq(len, 257);
	ck_assert_uint_eq(buf[0], 5);
	ck_assert_uint_eq(buf[1], 255);
	ck_assert_mem_eq(buf + 2, methods, 255);
}
END_TEST

START_TEST(greeting_errors)
{
	uint8_t buf[300], methods[256] = { 0 };
	size_t len = 0;

	ck_assert_int_eq(socks5_encode_greeting(buf, sizeof(buf), methods, 0,
						&len), SOCKS5_E_NO_METHODS);
	ck_assert_int_eq(socks5_encode_greeting(buf, sizeof(buf), methods, 256,
						&len), SOCKS5_E_TOO_MANY_METHODS);
	ck_assert_int_eq(socks5_encode_greeting(buf, sizeof(buf), NULL, 1,
						&len), SOCKS5_E_ARG);
	ck_assert_int_eq(socks5_encode_greeting(buf, sizeof(buf), methods, 1,
						NULL), SOCKS5_E_ARG);
	/* Too small by one, and no room at all: nothing written. */
	fill(buf, sizeof(buf));
	ck_assert_int_eq(socks5_encode_greeting(buf, 3, methods, 2, &len),
			 SOCKS5_E_BUFFER);
	ck_assert(untouched(buf, sizeof(buf)));
	ck_assert_int_eq(socks5_encode_greeting(NULL, 0, methods, 1, &len),
			 SOCKS5_E_BUFFER);
	ck_assert_int_eq(socks5_encode_greeting(buf, 4, methods, 2, &len),
			 SOCKS5_OK);
}
END_TEST

/* Every METHOD value against an offer of {no-auth, user/pass}. */
START_TEST(method_all_values)
{
	const uint8_t offered[] = { SOCKS5_METHOD_NOAUTH,
				    SOCKS5_METHOD_USERPASS };
	uint8_t msg[2] = { 0x05, 0x00 }, m;
	size_t len;
	int v;

	for (v = 0; v < 256; v++) {
		enum socks5_status want = SOCKS5_E_METHOD_NOT_OFFERED;

		if (v == 0x00 || v == 0x02)
			want = SOCKS5_OK;
		else if (v == 0xFF)
			want = SOCKS5_E_NO_ACCEPTABLE;
		msg[1] = (uint8_t)v;
		m = 0x77;
		len = 0;
		ck_assert_int_eq(socks5_parse_method(msg, 2, offered, 2, &m,
						     &len), want);
		ck_assert_uint_eq(m, v);
		if (want == SOCKS5_OK)
			ck_assert_uint_eq(len, 2);
	}
}
END_TEST

START_TEST(method_splits_and_errors)
{
	const uint8_t offered[] = { 0x00 };
	const uint8_t ok[] = { 0x05, 0x00, 0x05, 0x01, 0x00 };
	uint8_t m = 0;
	size_t len = 0;

	ck_assert_int_eq(socks5_parse_method(ok, 0, offered, 1, &m, &len),
			 SOCKS5_NEED_MORE);
	ck_assert_uint_eq(len, 2);
	ck_assert_int_eq(socks5_parse_method(ok, 1, offered, 1, &m, &len),
			 SOCKS5_NEED_MORE);
	ck_assert_uint_eq(len, 1);
	/* Pipelined bytes after the message are not consumed. */
	ck_assert_int_eq(socks5_parse_method(ok, sizeof(ok), offered, 1, &m,
					     &len), SOCKS5_OK);
	ck_assert_uint_eq(len, 2);
	ck_assert_uint_eq(m, 0);
	/* A SOCKS4 answer or garbage: detected on the first byte. */
	ck_assert_int_eq(socks5_parse_method((const uint8_t *)"\x04", 1,
					     offered, 1, &m, &len),
			 SOCKS5_E_VERSION);
	ck_assert_int_eq(socks5_parse_method((const uint8_t *)"\x00\x00", 2,
					     offered, 1, &m, &len),
			 SOCKS5_E_VERSION);
	/* Even if a caller lists 0xFF, it is never a chosen method. */
	ck_assert_int_eq(socks5_parse_method((const uint8_t *)"\x05\xff", 2,
					     (const uint8_t *)"\xff", 1, &m,
					     &len), SOCKS5_E_NO_ACCEPTABLE);
	/* Nothing offered: whatever the server picks was not offered. */
	ck_assert_int_eq(socks5_parse_method(ok, 2, NULL, 0, &m, &len),
			 SOCKS5_E_METHOD_NOT_OFFERED);
	ck_assert_int_eq(socks5_parse_method(ok, 2, offered, 1, NULL, &len),
			 SOCKS5_E_ARG);
}
END_TEST

/* ---------------------------------------------------------------- */
/* RFC 1929                                                          */

START_TEST(auth_bytes)
{
	uint8_t buf[SOCKS5_MSG_MAX], want[SOCKS5_MSG_MAX];
	char user[255], pass[255];
	size_t len = 0;

	ck_assert_int_eq(socks5_encode_auth(buf, sizeof(buf), "alice", 5,
					    "s:e@c", 5, &len), SOCKS5_OK);
	ck_assert_uint_eq(len, 13);
	ck_assert_mem_eq(buf, "\x01\x05" "alice" "\x05" "s:e@c", 13);

	/* Bytes are bytes: 0xff and ':' pass unchanged; 1-byte fields. */
	ck_assert_int_eq(socks5_encode_auth(buf, sizeof(buf), "\xff", 1, ":", 1,
					    &len), SOCKS5_OK);
	ck_assert_uint_eq(len, 5);
	ck_assert_mem_eq(buf, "\x01\x01\xff\x01:", 5);

	/* The largest message there is: exactly SOCKS5_MSG_MAX. */
	memset(user, 'u', sizeof(user));
	memset(pass, 'p', sizeof(pass));
	want[0] = 1;
	want[1] = 255;
	memcpy(want + 2, user, 255);
	want[257] = 255;
	memcpy(want + 258, pass, 255);
	ck_assert_int_eq(socks5_encode_auth(buf, sizeof(buf), user, 255, pass,
					    255, &len), SOCKS5_OK);
	ck_assert_uint_eq(len, SOCKS5_MSG_MAX);
	ck_assert_mem_eq(buf, want, SOCKS5_MSG_MAX);
}
END_TEST

START_TEST(auth_errors)
{
	uint8_t buf[600];
	char big[256];
	size_t len = 0;

	memset(big, 'x', sizeof(big));
	fill(buf, sizeof(buf));
	ck_assert_int_eq(socks5_encode_auth(buf, sizeof(buf), big, 0, "p", 1,
					    &len), SOCKS5_E_USER_LENGTH);
	ck_assert_int_eq(socks5_encode_auth(buf, sizeof(buf), big, 256, "p", 1,
					    &len), SOCKS5_E_USER_LENGTH);
	ck_assert_int_eq(socks5_encode_auth(buf, sizeof(buf), "u", 1, big, 0,
					    &len), SOCKS5_E_PASS_LENGTH);
	ck_assert_int_eq(socks5_encode_auth(buf, sizeof(buf), "u", 1, big, 256,
					    &len), SOCKS5_E_PASS_LENGTH);
	ck_assert(untouched(buf, sizeof(buf)));
	ck_assert_int_eq(socks5_encode_auth(buf, 11, "alice", 5, "sec", 3,
					    &len), SOCKS5_OK);
	fill(buf, sizeof(buf));
	ck_assert_int_eq(socks5_encode_auth(buf, 10, "alice", 5, "sec", 3,
					    &len), SOCKS5_E_BUFFER);
	ck_assert(untouched(buf, sizeof(buf)));
	ck_assert_int_eq(socks5_encode_auth(buf, sizeof(buf), NULL, 1, "p", 1,
					    &len), SOCKS5_E_ARG);
}
END_TEST

START_TEST(auth_reply_all)
{
	uint8_t msg[3] = { 0x01, 0x00, 0x05 };
	size_t len = 0;
	int v;

	ck_assert_int_eq(socks5_parse_auth_reply(msg, 0, &len),
			 SOCKS5_NEED_MORE);
	ck_assert_uint_eq(len, 2);
	ck_assert_int_eq(socks5_parse_auth_reply(msg, 1, &len),
			 SOCKS5_NEED_MORE);
	ck_assert_uint_eq(len, 1);
	ck_assert_int_eq(socks5_parse_auth_reply(msg, 3, &len), SOCKS5_OK);
	ck_assert_uint_eq(len, 2);
	for (v = 1; v < 256; v++) {
		msg[1] = (uint8_t)v;
		ck_assert_int_eq(socks5_parse_auth_reply(msg, 2, &len),
				 SOCKS5_E_AUTH_REJECTED);
	}
	/* A server answering with the SOCKS version (a common bug). */
	for (v = 0; v < 256; v++) {
		if (v == 1)
			continue;
		msg[0] = (uint8_t)v;
		ck_assert_int_eq(socks5_parse_auth_reply(msg, 1, &len),
				 SOCKS5_E_AUTH_VERSION);
		ck_assert_int_eq(socks5_parse_auth_reply(msg, 2, &len),
				 SOCKS5_E_AUTH_VERSION);
	}
}
END_TEST

/* ---------------------------------------------------------------- */
/* Requests                                                          */

static struct socks5_addr sample(int i)
{
	switch (i) {
	case 0:
		return a_ipv4();
	case 1:
		return a_ipv6();
	case 2:
		return a_domain(1);
	default:
		return a_domain(255);
	}
}

START_TEST(request_every_cmd_and_atyp)
{
	const uint8_t cmds[] = { SOCKS5_CMD_CONNECT, SOCKS5_CMD_BIND,
				 SOCKS5_CMD_UDP_ASSOCIATE };
	uint8_t buf[SOCKS5_REQUEST_MAX + 8], want[SOCKS5_REQUEST_MAX];
	size_t len, n, c;
	int i;

	for (i = 0; i < 4; i++) {
		struct socks5_addr a = sample(i);

		for (c = 0; c < 3; c++) {
			want[0] = 5;
			want[1] = cmds[c];
			want[2] = 0;
			n = 3 + wire_addr(want + 3, &a);
			ck_assert_uint_eq(n, 3 + socks5_addr_wire_len(&a));
			ck_assert_int_eq(socks5_encode_request(buf, sizeof(buf),
					 cmds[c], &a, &len), SOCKS5_OK);
			ck_assert_uint_eq(len, n);
			ck_assert_mem_eq(buf, want, n);
			/* Exactly enough room, then one byte short. */
			ck_assert_int_eq(socks5_encode_request(buf, n, cmds[c],
					 &a, &len), SOCKS5_OK);
			fill(buf, sizeof(buf));
			ck_assert_int_eq(socks5_encode_request(buf, n - 1,
					 cmds[c], &a, &len), SOCKS5_E_BUFFER);
			ck_assert(untouched(buf, sizeof(buf)));
		}
	}
}
END_TEST

START_TEST(request_literal_bytes)
{
	uint8_t buf[SOCKS5_REQUEST_MAX];
	struct socks5_addr a;
	size_t len;

	/* CONNECT 192.0.2.1:8080 */
	a = a_ipv4();
	ck_assert_int_eq(socks5_encode_request(buf, sizeof(buf), 1, &a, &len),
			 SOCKS5_OK);
	ck_assert_uint_eq(len, 10);
	ck_assert_mem_eq(buf, "\x05\x01\x00\x01\xc0\x00\x02\x01\x1f\x90", 10);
	/* CONNECT example.org:443 */
	ck_assert_int_eq(socks5_addr_from_domain(&a, "example.org", 11, 443),
			 SOCKS5_OK);
	ck_assert_int_eq(socks5_encode_request(buf, sizeof(buf), 1, &a, &len),
			 SOCKS5_OK);
	ck_assert_uint_eq(len, 18);
	ck_assert_mem_eq(buf, "\x05\x01\x00\x03\x0b" "example.org" "\x01\xbb",
			 18);
	/* The longest request is SOCKS5_REQUEST_MAX. */
	a = a_domain(255);
	ck_assert_int_eq(socks5_encode_request(buf, sizeof(buf), 1, &a, &len),
			 SOCKS5_OK);
	ck_assert_uint_eq(len, SOCKS5_REQUEST_MAX);
}
END_TEST

START_TEST(request_errors)
{
	uint8_t buf[SOCKS5_REQUEST_MAX];
	struct socks5_addr a = a_ipv4();
	size_t len;

	ck_assert_int_eq(socks5_encode_request(buf, sizeof(buf), 0, &a, &len),
			 SOCKS5_E_ARG);
	ck_assert_int_eq(socks5_encode_request(buf, sizeof(buf), 4, &a, &len),
			 SOCKS5_E_ARG);
	ck_assert_int_eq(socks5_encode_request(buf, sizeof(buf), 1, NULL, &len),
			 SOCKS5_E_ARG);
	a.atyp = 0x02;
	ck_assert_int_eq(socks5_encode_request(buf, sizeof(buf), 1, &a, &len),
			 SOCKS5_E_ARG);
	a = a_domain(0);
	ck_assert_int_eq(socks5_encode_request(buf, sizeof(buf), 1, &a, &len),
			 SOCKS5_E_DOMAIN_LENGTH);
	ck_assert_uint_eq(socks5_addr_wire_len(&a), 0);
}
END_TEST

/* ---------------------------------------------------------------- */
/* Replies                                                           */

/*
 * Feeds every prefix of msg[0..total) and checks: NEED_MORE with a count
 * that never reaches past the message; out untouched until complete; then
 * a driver reading exactly the asked-for counts lands on the end; then OK
 * with *len == total, also with pipelined bytes behind it.
 */
static void check_all_splits(const uint8_t *msg, size_t total,
			     const struct socks5_addr *want, uint8_t rep)
{
	struct socks5_reply r, canary;
	uint8_t big[SOCKS5_REQUEST_MAX + 16];
	size_t k, len, steps = 0;

	memset(&canary, 0x5A, sizeof(canary));
	for (k = 0; k < total; k++) {
		memcpy(&r, &canary, sizeof(r));
		len = 0;
		ck_assert_int_eq(socks5_parse_reply(msg, k, &r, &len),
				 SOCKS5_NEED_MORE);
		ck_assert_uint_ge(len, 1);
		ck_assert_uint_le(k + len, total);
		ck_assert_mem_eq(&r, &canary, sizeof(r));
	}
	for (k = 0; socks5_parse_reply(msg, k, &r, &len) == SOCKS5_NEED_MORE;
	     k += len)
		ck_assert_uint_lt(++steps, 5);
	ck_assert_uint_eq(k, total);

	len = 0;
	ck_assert_int_eq(socks5_parse_reply(msg, total, &r, &len), SOCKS5_OK);
	ck_assert_uint_eq(len, total);
	ck_assert_uint_eq(r.rep, rep);
	assert_addr_eq(&r.bnd, want);

	memcpy(big, msg, total);
	memset(big + total, 0x05, sizeof(big) - total);
	ck_assert_int_eq(socks5_parse_reply(big, sizeof(big), &r, &len),
			 SOCKS5_OK);
	ck_assert_uint_eq(len, total);
	assert_addr_eq(&r.bnd, want);
}

static size_t make_reply(uint8_t *p, uint8_t rep, const struct socks5_addr *a)
{
	p[0] = 5;
	p[1] = rep;
	p[2] = 0;
	return 3 + wire_addr(p + 3, a);
}

/* IPv4, IPv6, 1-byte and 255-byte domains, each split every way. */
START_TEST(reply_every_split)
{
	uint8_t msg[SOCKS5_REQUEST_MAX];
	struct socks5_addr a = sample(_i);
	size_t n = make_reply(msg, SOCKS5_REP_SUCCEEDED, &a);

	ck_assert_uint_eq(n, 3 + socks5_addr_wire_len(&a));
	check_all_splits(msg, n, &a, SOCKS5_REP_SUCCEEDED);
	/* A failure reply is well formed too: the caller judges REP. */
	n = make_reply(msg, SOCKS5_REP_HOST_UNREACHABLE, &a);
	check_all_splits(msg, n, &a, SOCKS5_REP_HOST_UNREACHABLE);
}
END_TEST

START_TEST(reply_literal)
{
	const uint8_t v4[] = { 5, 0, 0, 1, 127, 0, 0, 1, 0x04, 0x38 };
	const uint8_t dom[] = { 5, 0, 0, 3, 1, 'x', 0x00, 0x50 };
	struct socks5_reply r;
	size_t len;

	ck_assert_int_eq(socks5_parse_reply(v4, sizeof(v4), &r, &len),
			 SOCKS5_OK);
	ck_assert_uint_eq(len, 10);
	ck_assert_uint_eq(r.bnd.atyp, SOCKS5_ATYP_IPV4);
	ck_assert_mem_eq(r.bnd.u.ipv4, "\x7f\x00\x00\x01", 4);
	ck_assert_uint_eq(r.bnd.port, 1080); /* host order from 0x0438 */
	ck_assert_int_eq(socks5_parse_reply(dom, sizeof(dom), &r, &len),
			 SOCKS5_OK);
	ck_assert_uint_eq(len, 8);
	ck_assert_str_eq(r.bnd.u.domain, "x");
	ck_assert_uint_eq(r.bnd.port, 80);
}
END_TEST

START_TEST(reply_every_rep_code)
{
	uint8_t msg[SOCKS5_REQUEST_MAX];
	struct socks5_addr a = a_ipv4();
	struct socks5_reply r;
	size_t n, len;
	int v;

	for (v = 0; v < 256; v++) {
		n = make_reply(msg, (uint8_t)v, &a);
		ck_assert_int_eq(socks5_parse_reply(msg, n, &r, &len),
				 SOCKS5_OK);
		ck_assert_uint_eq(r.rep, v);
	}
}
END_TEST

/*
 * A malformed reply, the index of the byte that decides it, and the
 * status. Every prefix up to that byte is NEED_MORE; every longer one
 * gives the error, so any split ends the same way.
 */
struct bad_reply {
	uint8_t msg[12];
	size_t n, at;
	enum socks5_status st;
};

static const struct bad_reply bad_replies[] = {
	{ { 4, 0, 0, 1, 1, 2, 3, 4, 0, 80 }, 10, 0, SOCKS5_E_VERSION },
	{ { 0, 0, 0, 1, 1, 2, 3, 4, 0, 80 }, 10, 0, SOCKS5_E_VERSION },
	{ { 0x50, 0x2f, 0x31 }, 3, 0, SOCKS5_E_VERSION }, /* "HTTP/1" */
	{ { 5, 0, 1, 1, 1, 2, 3, 4, 0, 80 }, 10, 2, SOCKS5_E_RESERVED },
	{ { 5, 0, 0xff, 1, 1, 2, 3, 4, 0, 80 }, 10, 2, SOCKS5_E_RESERVED },
	{ { 5, 0, 0, 0, 1, 2, 3, 4, 0, 80 }, 10, 3, SOCKS5_E_ATYP },
	{ { 5, 0, 0, 2, 1, 2, 3, 4, 0, 80 }, 10, 3, SOCKS5_E_ATYP },
	{ { 5, 0, 0, 5, 1, 2, 3, 4, 0, 80 }, 10, 3, SOCKS5_E_ATYP },
	{ { 5, 0, 0, 0xff, 1, 2, 3, 4, 0, 80 }, 10, 3, SOCKS5_E_ATYP },
	{ { 5, 0, 0, 3, 0, 0, 80 }, 7, 4, SOCKS5_E_DOMAIN_EMPTY },
	{ { 5, 1, 0, 3, 0, 0, 80 }, 7, 4, SOCKS5_E_DOMAIN_EMPTY },
};

START_TEST(reply_malformed)
{
	const struct bad_reply *b = &bad_replies[_i];
	struct socks5_reply r, canary;
	size_t k, len;

	memset(&canary, 0x5A, sizeof(canary));
	for (k = 0; k <= b->n; k++) {
		memcpy(&r, &canary, sizeof(r));
		len = 0;
		if (k <= b->at) {
			/* Up to 5 bytes before the length is known. */
			ck_assert_int_eq(socks5_parse_reply(b->msg, k, &r, &len),
					 SOCKS5_NEED_MORE);
			ck_assert_uint_ge(len, 1);
			ck_assert_uint_le(k + len, 5);
		} else {
			ck_assert_int_eq(socks5_parse_reply(b->msg, k, &r, &len),
					 b->st);
		}
		ck_assert_mem_eq(&r, &canary, sizeof(r));
	}
}
END_TEST

/* Every ATYP value: only 1, 3 and 4 are known. */
START_TEST(reply_every_atyp_value)
{
	uint8_t msg[32] = { 5, 0, 0, 0, 1, 'z', 0, 0, 0, 0, 0, 0, 0, 0,
			    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0 };
	struct socks5_reply r;
	size_t len;
	int v;

	for (v = 0; v < 256; v++) {
		enum socks5_status want = SOCKS5_E_ATYP;

		if (v == 1 || v == 3 || v == 4)
			want = SOCKS5_OK;
		msg[3] = (uint8_t)v;
		ck_assert_int_eq(socks5_parse_reply(msg, sizeof(msg), &r, &len),
				 want);
		if (want == SOCKS5_OK)
			ck_assert_uint_eq(len, v == 1 ? 10 : v == 4 ? 22 : 8);
	}
}
END_TEST

/* ---------------------------------------------------------------- */
/* UDP                                                               */

START_TEST(udp_round_trip_in_place)
{
	struct socks5_addr a = sample(_i), src;
	uint8_t dgram[SOCKS5_UDP_HEADER_MAX + 16], want[SOCKS5_UDP_HEADER_MAX];
	size_t hlen, n, len;

	want[0] = want[1] = want[2] = 0;
	n = 3 + wire_addr(want + 3, &a);
	ck_assert_int_eq(socks5_encode_udp_header(dgram, sizeof(dgram), &a,
						  &hlen), SOCKS5_OK);
	ck_assert_uint_eq(hlen, n);
	ck_assert_mem_eq(dgram, want, n);
	memcpy(dgram + hlen, "payload", 7);

	len = 0;
	ck_assert_int_eq(socks5_parse_udp_header(dgram, hlen + 7, &src, &len),
			 SOCKS5_OK);
	ck_assert_uint_eq(len, hlen);
	assert_addr_eq(&src, &a);
	/* The payload is where it was: the caller uses dgram + len. */
	ck_assert_ptr_eq(dgram + len, dgram + hlen);
	ck_assert_mem_eq(dgram + len, "payload", 7);
	/* An empty payload is a valid datagram. */
	ck_assert_int_eq(socks5_parse_udp_header(dgram, hlen, &src, &len),
			 SOCKS5_OK);
	ck_assert_uint_eq(len, hlen);

	/* Each length short of the header is truncated, never NEED_MORE. */
	for (n = 0; n < hlen; n++)
		ck_assert_int_eq(socks5_parse_udp_header(dgram, n, &src, &len),
				 SOCKS5_E_TRUNCATED);

	ck_assert_int_eq(socks5_encode_udp_header(dgram, hlen, &a, &len),
			 SOCKS5_OK);
	fill(dgram, sizeof(dgram));
	ck_assert_int_eq(socks5_encode_udp_header(dgram, hlen - 1, &a, &len),
			 SOCKS5_E_BUFFER);
	ck_assert(untouched(dgram, sizeof(dgram)));
}
END_TEST

START_TEST(udp_malformed)
{
	struct socks5_addr src, canary;
	size_t len;

	memset(&canary, 0x5A, sizeof(canary));
	memcpy(&src, &canary, sizeof(src));
#define UDP(bytes, st)                                                    \
	ck_assert_int_eq(socks5_parse_udp_header((const uint8_t *)bytes,  \
			 sizeof(bytes) - 1, &src, &len), st)
	UDP("\x01\x00\x00\x01\x01\x02\x03\x04\x00\x35", SOCKS5_E_RESERVED);
	UDP("\x00\x01\x00\x01\x01\x02\x03\x04\x00\x35", SOCKS5_E_RESERVED);
	UDP("\x00\x00\x01\x01\x01\x02\x03\x04\x00\x35", SOCKS5_E_FRAGMENTED);
	UDP("\x00\x00\x80\x01\x01\x02\x03\x04\x00\x35", SOCKS5_E_FRAGMENTED);
	UDP("\x00\x00\x00\x02\x01\x02\x03\x04\x00\x35", SOCKS5_E_ATYP);
	UDP("\x00\x00\x00\x03\x00\x00\x35", SOCKS5_E_DOMAIN_EMPTY);
	UDP("\x00\x00\x00\x03\x05" "abc\x00\x35", SOCKS5_E_TRUNCATED);
	UDP("\x00\x00\x00\x04" "0123456789abcde\x00\x35", SOCKS5_E_TRUNCATED);
	UDP("\x00", SOCKS5_E_TRUNCATED);
	UDP("", SOCKS5_E_TRUNCATED);
#undef UDP
	ck_assert_mem_eq(&src, &canary, sizeof(src));
	ck_assert_int_eq(socks5_parse_udp_header((const uint8_t *)"", 0, NULL,
						 &len), SOCKS5_E_ARG);
}
END_TEST

/* ---------------------------------------------------------------- */
/* Address helpers                                                   */

START_TEST(addr_sockaddr_round_trip)
{
	struct sockaddr_in in = { .sin_family = AF_INET,
				  .sin_port = htons(8080) };
	struct sockaddr_in6 in6 = { .sin6_family = AF_INET6,
				    .sin6_port = htons(53) };
	struct sockaddr_un un = { .sun_family = AF_UNIX };
	struct sockaddr_storage ss;
	struct socks5_addr a;
	socklen_t sl;

	inet_pton(AF_INET, "198.51.100.7", &in.sin_addr);
	inet_pton(AF_INET6, "2001:db8::53", &in6.sin6_addr);

	ck_assert_int_eq(socks5_addr_from_sockaddr(&a, (struct sockaddr *)&in,
						   sizeof(in)), SOCKS5_OK);
	ck_assert_uint_eq(a.atyp, SOCKS5_ATYP_IPV4);
	ck_assert_uint_eq(a.port, 8080);
	ck_assert_mem_eq(a.u.ipv4, &in.sin_addr, 4);
	ck_assert_int_eq(socks5_addr_to_sockaddr(&a, &ss, &sl), SOCKS5_OK);
	ck_assert_uint_eq(sl, sizeof(in));
	ck_assert_mem_eq(&ss, &in, sizeof(in));

	ck_assert_int_eq(socks5_addr_from_sockaddr(&a, (struct sockaddr *)&in6,
						   sizeof(in6)), SOCKS5_OK);
	ck_assert_uint_eq(a.atyp, SOCKS5_ATYP_IPV6);
	ck_assert_uint_eq(a.port, 53);
	ck_assert_int_eq(socks5_addr_to_sockaddr(&a, &ss, &sl), SOCKS5_OK);
	ck_assert_uint_eq(sl, sizeof(in6));
	ck_assert_mem_eq(&ss, &in6, sizeof(in6));

	ck_assert_int_eq(socks5_addr_from_sockaddr(&a, (struct sockaddr *)&in,
						   sizeof(in) - 1),
			 SOCKS5_E_ARG);
	ck_assert_int_eq(socks5_addr_from_sockaddr(&a, (struct sockaddr *)&in6,
						   sizeof(in)), SOCKS5_E_ARG);
	ck_assert_int_eq(socks5_addr_from_sockaddr(&a, (struct sockaddr *)&un,
						   sizeof(un)), SOCKS5_E_ARG);
	a = a_domain(3);
	ck_assert_int_eq(socks5_addr_to_sockaddr(&a, &ss, &sl), SOCKS5_E_ARG);
}
END_TEST

START_TEST(addr_domain)
{
	struct socks5_addr a;
	char big[256];

	memset(big, 'n', sizeof(big));
	ck_assert_int_eq(socks5_addr_from_domain(&a, big, 255, 1), SOCKS5_OK);
	ck_assert_uint_eq(a.len, 255);
	ck_assert_int_eq(a.u.domain[255], '\0');
	ck_assert_uint_eq(socks5_addr_wire_len(&a), 1 + 1 + 255 + 2);
	ck_assert_int_eq(socks5_addr_from_domain(&a, big, 256, 1),
			 SOCKS5_E_DOMAIN_LENGTH);
	ck_assert_int_eq(socks5_addr_from_domain(&a, big, 0, 1),
			 SOCKS5_E_DOMAIN_LENGTH);
	ck_assert_int_eq(socks5_addr_from_domain(&a, "a\0b", 3, 1),
			 SOCKS5_E_ARG);
	a = a_ipv4();
	ck_assert_uint_eq(socks5_addr_wire_len(&a), 7);
	a = a_ipv6();
	ck_assert_uint_eq(socks5_addr_wire_len(&a), 19);
}
END_TEST

START_TEST(addr_format)
{
	struct socks5_addr a;
	char buf[300];

	a = a_ipv4();
	socks5_addr_format(&a, buf, sizeof(buf));
	ck_assert_str_eq(buf, "192.0.2.1:8080");
	a = a_ipv6();
	socks5_addr_format(&a, buf, sizeof(buf));
	ck_assert_str_eq(buf, "[2001:db8::1:2]:443");
	socks5_addr_from_domain(&a, "example.org", 11, 80);
	socks5_addr_format(&a, buf, sizeof(buf));
	ck_assert_str_eq(buf, "example.org:80");
	/* A proxy-supplied name cannot forge log lines. */
	socks5_addr_from_domain(&a, "a\nb\"c", 5, 1);
	socks5_addr_format(&a, buf, sizeof(buf));
	ck_assert_str_eq(buf, "a?b?c:1");
	/* Truncated but always terminated. */
	memset(buf, 'X', sizeof(buf));
	socks5_addr_from_domain(&a, "example.org", 11, 80);
	socks5_addr_format(&a, buf, 5);
	ck_assert_str_eq(buf, "exam");
}
END_TEST

static Suite *codec_suite(void)
{
	Suite *s = suite_create("codec");
	TCase *tc = tcase_create("greeting");

	tcase_add_test(tc, greeting_bytes);
	tcase_add_test(tc, greeting_errors);
	tcase_add_test(tc, method_all_values);
	tcase_add_test(tc, method_splits_and_errors);
	suite_add_tcase(s, tc);

	tc = tcase_create("auth");
	tcase_add_test(tc, auth_bytes);
	tcase_add_test(tc, auth_errors);
	tcase_add_test(tc, auth_reply_all);
	suite_add_tcase(s, tc);

	tc = tcase_create("request_reply");
	tcase_add_test(tc, request_every_cmd_and_atyp);
	tcase_add_test(tc, request_literal_bytes);
	tcase_add_test(tc, request_errors);
	tcase_add_loop_test(tc, reply_every_split, 0, 4);
	tcase_add_test(tc, reply_literal);
	tcase_add_test(tc, reply_every_rep_code);
	tcase_add_loop_test(tc, reply_malformed, 0,
			    sizeof(bad_replies) / sizeof(bad_replies[0]));
	tcase_add_test(tc, reply_every_atyp_value);
	suite_add_tcase(s, tc);

	tc = tcase_create("udp");
	tcase_add_loop_test(tc, udp_round_trip_in_place, 0, 4);
	tcase_add_test(tc, udp_malformed);
	suite_add_tcase(s, tc);

	tc = tcase_create("addr");
	tcase_add_test(tc, addr_sockaddr_round_trip);
	tcase_add_test(tc, addr_domain);
	tcase_add_test(tc, addr_format);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(codec_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
