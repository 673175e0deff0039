/*
 * The other hop types: the SOCKS4/SOCKS4a and HTTP CONNECT codecs (exact
 * bytes, every split of a reply, malformed, oversized, 407, 2xx) and the
 * machine over them (scripted I/O): chains that mix hop types, the
 * program's first bytes left in the socket after an HTTP reply, errnos.
 */
#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "scripted_io.h"
#include "socks5.h"

static struct socks5_addr domain(const char *name, uint16_t port)
{
	struct socks5_addr a;

	ck_assert_int_eq(socks5_addr_from_domain(&a, name, strlen(name), port),
			 SOCKS5_OK);
	return a;
}

static struct socks5_addr ip6(uint16_t port)
{
	struct socks5_addr a = { .atyp = SOCKS5_ATYP_IPV6, .port = port };

	a.u.ipv6[0] = 0x20;
	a.u.ipv6[1] = 0x01;
	a.u.ipv6[2] = 0x0d;
	a.u.ipv6[3] = 0xb8;
	a.u.ipv6[15] = 0x01;
	return a;
}

/* ---- SOCKS4 ---------------------------------------------------------- */

START_TEST(socks4_encode)
{
	struct socks5_addr d4 = sio_ip4(192, 0, 2, 7, 80), dn = domain("t.test", 443);
	struct socks5_addr d6 = ip6(22);
	uint8_t buf[SOCKS4_REQUEST_MAX];
	size_t n = 0;

	ck_assert_int_eq(socks5_encode_socks4(buf, sizeof(buf), SOCKS5_CMD_CONNECT,
					      &d4, "joe", 3, false, &n), SOCKS5_OK);
	ck_assert_uint_eq(n, 12);
	ck_assert_mem_eq(buf, "\x04\x01\x00\x50\xc0\x00\x02\x07joe\0", 12);
	/* 4a sends an IPv4 destination as such, a name after the user id */
	ck_assert_int_eq(socks5_encode_socks4(buf, sizeof(buf), SOCKS5_CMD_CONNECT,
					      &dn, NULL, 0, true, &n), SOCKS5_OK);
	ck_assert_uint_eq(n, 16);
	ck_assert_mem_eq(buf, "\x04\x01\x01\xbb\x00\x00\x00\x01\0t.test\0", 16);
	ck_assert_int_eq(socks5_encode_socks4(buf, sizeof(buf), SOCKS5_CMD_CONNECT,
					      &dn, NULL, 0, false, &n),
			 SOCKS5_E_SOCKS4_ADDR);
	ck_assert_int_eq(socks5_encode_socks4(buf, sizeof(buf), SOCKS5_CMD_CONNECT,
					      &d6, NULL, 0, true, &n),
			 SOCKS5_E_SOCKS4_ADDR);
	ck_assert_int_eq(socks5_encode_socks4(buf, sizeof(buf),
					      SOCKS5_CMD_UDP_ASSOCIATE, &d4,
					      NULL, 0, false, &n), SOCKS5_E_ARG);
	ck_assert_int_eq(socks5_encode_socks4(buf, 11, SOCKS5_CMD_CONNECT, &d4,
					      "joe", 3, false, &n), SOCKS5_E_BUFFER);
	ck_assert_int_eq(socks5_encode_socks4(buf, sizeof(buf), SOCKS5_CMD_CONNECT,
					      &d4, "j\0e", 3, false, &n),
			 SOCKS5_E_USER_LENGTH);
}
END_TEST

START_TEST(socks4_reply_every_split)
{
	static const uint8_t ok[] = { 0, 0x5A, 0x12, 0x34, 198, 51, 100, 1 };
	struct socks5_reply r;
	size_t k, n;

	for (k = 0; k < sizeof(ok); k++) {
		n = 0;
		ck_assert_int_eq(socks5_parse_socks4_reply(ok, k, &r, &n),
				 SOCKS5_NEED_MORE);
		ck_assert_uint_eq(k + n, 8); /* never asks past the reply */
	}
	ck_assert_int_eq(socks5_parse_socks4_reply(ok, sizeof(ok), &r, &n),
			 SOCKS5_OK);
	ck_assert_uint_eq(n, 8);
	ck_assert_uint_eq(r.rep, 0x5A);
	ck_assert_uint_eq(r.bnd.port, 0x1234);
	ck_assert_uint_eq(r.bnd.u.ipv4[0], 198);
	ck_assert_int_eq(socks5_parse_socks4_reply(BYTES(4, 0x5A), 2, &r, &n),
			 SOCKS5_E_SOCKS4_VERSION);
	ck_assert_int_eq(socks5_socks4_status(0x5A), SOCKS5_OK);
	ck_assert_int_eq(socks5_socks4_status(0x5B), SOCKS5_E_SOCKS4_REJECTED);
	ck_assert_int_eq(socks5_socks4_status(0x5C), SOCKS5_E_SOCKS4_IDENTD);
	ck_assert_int_eq(socks5_socks4_status(0x5D), SOCKS5_E_SOCKS4_IDENTD_USER);
	ck_assert_int_eq(socks5_socks4_status(0x00), SOCKS5_E_SOCKS4_CODE);
	ck_assert_int_eq(socks5_status_errno(SOCKS5_E_SOCKS4_REJECTED), ECONNREFUSED);
	ck_assert_int_eq(socks5_status_errno(SOCKS5_E_SOCKS4_IDENTD), EACCES);
	ck_assert_int_eq(socks5_status_errno(SOCKS5_E_SOCKS4_IDENTD_USER), EACCES);
}
END_TEST

/* ---- HTTP CONNECT encoder ------------------------------------------- */

START_TEST(http_encode)
{
	struct socks5_addr d4 = sio_ip4(192, 0, 2, 7, 80), dn = domain("t.test", 443);
	struct socks5_addr d6 = ip6(22), bad = domain("a b", 1);
	uint8_t buf[SOCKS5_HTTP_REQUEST_MAX + 1];
	size_t n = 0;

	ck_assert_int_eq(socks5_encode_http_connect(buf, sizeof(buf), &d4, NULL, 0,
						    NULL, 0, &n), SOCKS5_OK);
	buf[n] = 0;
	ck_assert_str_eq((char *)buf, "CONNECT 192.0.2.7:80 HTTP/1.1\r\n"
				      "Host: 192.0.2.7:80\r\n\r\n");
	ck_assert_int_eq(socks5_encode_http_connect(buf, sizeof(buf), &d6, NULL, 0,
						    NULL, 0, &n), SOCKS5_OK);
	buf[n] = 0;
	ck_assert_str_eq((char *)buf, "CONNECT [2001:db8:0:0:0:0:0:1]:22 HTTP/1.1\r\n"
				      "Host: [2001:db8:0:0:0:0:0:1]:22\r\n\r\n");
	/* RFC 7617's example credentials */
	ck_assert_int_eq(socks5_encode_http_connect(buf, sizeof(buf), &dn,
						    "Aladdin", 7, "open sesame",
						    11, &n), SOCKS5_OK);
	buf[n] = 0;
	ck_assert_str_eq((char *)buf, "CONNECT t.test:443 HTTP/1.1\r\n"
				      "Host: t.test:443\r\n"
				      "Proxy-Authorization: Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ==\r\n\r\n");
	/* padding of one and of none; an empty password is "user:" */
	ck_assert_int_eq(socks5_encode_http_connect(buf, sizeof(buf), &dn, "ab",
						    2, "", 0, &n), SOCKS5_OK);
	buf[n] = 0;
	ck_assert_ptr_nonnull(strstr((char *)buf, "Basic YWI6\r\n"));
	ck_assert_int_eq(socks5_encode_http_connect(buf, sizeof(buf), &dn, "a",
						    1, "bcd", 3, &n), SOCKS5_OK);
	buf[n] = 0;
	ck_assert_ptr_nonnull(strstr((char *)buf, "Basic YTpiY2Q=\r\n"));

	ck_assert_int_eq(socks5_encode_http_connect(buf, sizeof(buf), &bad, NULL,
						    0, NULL, 0, &n),
			 SOCKS5_E_HOST_CHARS);
	bad = domain("a\r\nX: y", 1);
	ck_assert_int_eq(socks5_encode_http_connect(buf, sizeof(buf), &bad, NULL,
						    0, NULL, 0, &n),
			 SOCKS5_E_HOST_CHARS);
	ck_assert_int_eq(socks5_encode_http_connect(buf, sizeof(buf), &dn, "a:b",
						    3, "c", 1, &n),
			 SOCKS5_E_USER_LENGTH);
	ck_assert_int_eq(socks5_encode_http_connect(buf, 20, &dn, NULL, 0, NULL,
						    0, &n), SOCKS5_E_BUFFER);
}
END_TEST

/* The longest request fits the documented bound. */
START_TEST(http_encode_longest)
{
	struct socks5_addr a;
	char name[256], user[256], pass[256];
	uint8_t buf[SOCKS5_HTTP_REQUEST_MAX];
	size_t n = 0;

	memset(name, 'n', 255);
	memset(user, 'u', 255);
	memset(pass, 'p', 255);
	ck_assert_int_eq(socks5_addr_from_domain(&a, name, 255, 65535), SOCKS5_OK);
	ck_assert_int_eq(socks5_encode_http_connect(buf, sizeof(buf), &a, user,
						    255, pass, 255, &n), SOCKS5_OK);
	ck_assert_uint_le(n, SOCKS5_HTTP_REQUEST_MAX);
	ck_assert_uint_le(SOCKS5_HTTP_REQUEST_MAX, SOCKS5_HS_OUT_MAX);
}
END_TEST

/* ---- HTTP reply parser ---------------------------------------------- */

struct http_case {
	const char *text;        /* the block, then the tunnel's bytes */
	enum socks5_status st;
	unsigned status;
	const char *words;       /* reason, or auth schemes for a 407 */
	size_t len;              /* 0: strlen(text) */
};

#define TAIL "SSH-2.0-x\r\n"

static const struct http_case http_cases[] = {
	{ "HTTP/1.1 200 Connection established\r\n\r\n" TAIL, SOCKS5_OK, 200,
	  "Connection established", 0 },
	{ "HTTP/1.0 200 Connection established\r\nProxy-agent: tinyproxy/1.11.1\r\n\r\n" TAIL,
	  SOCKS5_OK, 200, "Connection established", 0 },
	{ "HTTP/1.1 204\r\n\r\n" TAIL, SOCKS5_OK, 204, "", 0 },
	{ "HTTP/1.1 299 Odd But Fine\r\nA: b\r\n c\r\nEmpty:\r\n\r\n\r\n\r\n", SOCKS5_OK, 299,
	  "Odd But Fine", 0 },
	{ "HTTP/1.1 407 Proxy Authentication Required\r\n"
	  "Proxy-Authenticate: Basic realm=\"corp\"\r\n"
	  "proxy-authenticate:Digest realm=\"x\", nonce=\"1\"\r\n\r\n" TAIL,
	  SOCKS5_OK, 407, "Basic, Digest", 0 },
	{ "HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\n\r\n" TAIL, SOCKS5_OK, 403,
	  "Forbidden", 0 },
	{ "HTTP/1.1 502 Bad\x01Gateway\r\n\r\n", SOCKS5_E_HTTP_STATUS_LINE, 0, NULL, 0 },
	{ "HTTP/2 200\r\n\r\n", SOCKS5_E_HTTP_STATUS_LINE, 0, NULL, 0 },
	{ "HTTP/1.1 20\r\n\r\n", SOCKS5_E_HTTP_STATUS_LINE, 0, NULL, 0 },
	{ "HTTP/1.1 200OK\r\n\r\n", SOCKS5_E_HTTP_STATUS_LINE, 0, NULL, 0 },
	{ "HTTP/1.1 2000 OK\r\n\r\n", SOCKS5_E_HTTP_STATUS_LINE, 0, NULL, 0 },
	{ "HTTP/1.1 600 OK\r\n\r\n", SOCKS5_E_HTTP_STATUS_LINE, 0, NULL, 0 },
	{ "ICY 200 OK\r\n\r\n", SOCKS5_E_HTTP_STATUS_LINE, 0, NULL, 0 },
	{ "\x05\x00", SOCKS5_E_HTTP_STATUS_LINE, 0, NULL, 0 }, /* a SOCKS5 proxy */
	{ "\r\nHTTP/1.1 200 OK\r\n\r\n", SOCKS5_E_HTTP_STATUS_LINE, 0, NULL, 0 },
	{ "HTTP/1.1 200 OK\n\n" TAIL, SOCKS5_E_HTTP_STATUS_LINE, 0, NULL, 0 },
	{ "HTTP/1.1 200 OK\r\nA: b\n\n" TAIL, SOCKS5_E_HTTP_HEADER, 0, NULL, 0 },
	{ "HTTP/1.1 200 OK\r\nA: b\r\r\n\r\n", SOCKS5_E_HTTP_HEADER, 0, NULL, 0 },
	{ "HTTP/1.1 200 OK\r\nNoColon\r\n\r\n", SOCKS5_E_HTTP_HEADER, 0, NULL, 0 },
	{ "HTTP/1.1 200 OK\r\n: v\r\n\r\n", SOCKS5_E_HTTP_HEADER, 0, NULL, 0 },
	{ "HTTP/1.1 200 OK\r\nBad Name: v\r\n\r\n", SOCKS5_E_HTTP_HEADER, 0, NULL, 0 },
	{ "HTTP/1.1 200 OK\r\nA: b\0c\r\n\r\n", SOCKS5_E_HTTP_HEADER, 0, NULL, 27 },
	{ "HTTP/1.1 200 OK\r\n\r\r", SOCKS5_E_HTTP_HEADER, 0, NULL, 0 },
};

/* Feeds text[0..len) as a reader that honours *want: in steps of at most
 * want, and at most `chunk` bytes a time. Returns the status; *taken the
 * bytes consumed. */
static enum socks5_status read_like_driver(struct socks5_http_reply *r,
					   const uint8_t *text, size_t len,
					   size_t chunk, size_t *taken)
{
	enum socks5_status st = SOCKS5_NEED_MORE;
	size_t off = 0, want = 0, used = 0, n;

	socks5_http_reply_init(r);
	st = socks5_http_reply_feed(r, text, 0, &used, &want);
	while (st == SOCKS5_NEED_MORE && off < len) {
		ck_assert_uint_ge(want, 1);
		n = want < chunk ? want : chunk;
		if (n > len - off)
			n = len - off;
		st = socks5_http_reply_feed(r, text + off, n, &used, &want);
		ck_assert_uint_le(used, n);
		ck_assert(st != SOCKS5_NEED_MORE || used == n);
		off += used;
	}
	*taken = off;
	return st;
}

START_TEST(http_reply_table)
{
	const struct http_case *c = &http_cases[_i];
	const uint8_t *text = (const uint8_t *)c->text;
	size_t len = c->len ? c->len : strlen(c->text);
	size_t block, chunk, taken, k, used, want;
	struct socks5_http_reply r;
	enum socks5_status st;

	for (chunk = 1; chunk <= 17; chunk++) {
		st = read_like_driver(&r, text, len, chunk, &taken);
		ck_assert_msg(st == c->st, "case %d chunk %zu: %d", _i, chunk, st);
		if (st != SOCKS5_OK)
			continue;
		block = strstr(c->text, "\r\n\r\n") - c->text + 4;
		ck_assert_uint_eq(taken, block); /* never into the tail */
		ck_assert_uint_eq(r.status, c->status);
		ck_assert_str_eq(c->status == 407 ? r.auth : r.reason, c->words);
	}
	/* Any split of the whole text into two feeds: the same outcome, and
	 * the block's end found at the same byte. */
	for (k = 0; k <= len; k++) {
		socks5_http_reply_init(&r);
		st = socks5_http_reply_feed(&r, text, k, &used, &want);
		if (st == SOCKS5_NEED_MORE) {
			ck_assert_uint_eq(used, k);
			st = socks5_http_reply_feed(&r, text + k, len - k, &used,
						    &want);
			used += k;
		}
		ck_assert_int_eq(st, c->st);
		if (st == SOCKS5_OK)
			ck_assert_uint_eq(used, (size_t)(strstr(c->text, "\r\n\r\n") -
						       c->text + 4));
	}
}
END_TEST

/* 16 KiB of headers at most: the bound is refused, never read past. */
START_TEST(http_reply_size_bound)
{
	static char big[SOCKS5_HTTP_HEADER_MAX + 64];
	static const char head[] = "HTTP/1.1 200 OK\r\nX:";
	struct socks5_http_reply r;
	size_t hl = strlen(head), taken, block;
	enum socks5_status st;

	/* a block of exactly SOCKS5_HTTP_HEADER_MAX bytes, then the tunnel */
	for (block = SOCKS5_HTTP_HEADER_MAX; block <= SOCKS5_HTTP_HEADER_MAX + 1;
	     block++) {
		memcpy(big, head, hl);
		memset(big + hl, 'v', block - hl - 4);
		memcpy(big + block - 4, "\r\n\r\nTAIL", 8);
		st = read_like_driver(&r, (uint8_t *)big, block + 4, 4096, &taken);
		if (block == SOCKS5_HTTP_HEADER_MAX) {
			ck_assert_int_eq(st, SOCKS5_OK);
			ck_assert_uint_eq(taken, block);
		} else {
			ck_assert_int_eq(st, SOCKS5_E_HTTP_TOO_BIG);
			ck_assert_uint_le(taken, SOCKS5_HTTP_HEADER_MAX);
		}
	}
	/* an endless header line */
	memset(big + hl, 'x', sizeof(big) - hl);
	st = read_like_driver(&r, (uint8_t *)big, sizeof(big), 4096, &taken);
	ck_assert_int_eq(st, SOCKS5_E_HTTP_TOO_BIG);
	ck_assert_uint_le(taken, SOCKS5_HTTP_HEADER_MAX);
}
END_TEST

/* ---- the machine over other hop types --------------------------------- */

static struct socks5_proxy typed_hop(uint8_t type, const char *host,
				     uint16_t port, const char *user,
				     const char *pass)
{
	struct socks5_proxy p = sio_hop(host, port, NULL, NULL);

	p.type = type;
	if (user) {
		p.has_auth = true;
		p.user_len = (uint8_t)strlen(user);
		memcpy(p.user, user, p.user_len + 1);
		p.pass_len = (uint8_t)(pass ? strlen(pass) : 0);
		if (pass)
			memcpy(p.pass, pass, p.pass_len + 1);
	}
	return p;
}

#define STR(s) (const uint8_t *)(s), strlen(s)

START_TEST(http_hop_leaves_program_bytes)
{
	struct socks5_proxy p = typed_hop(SOCKS5_HOP_HTTP, "127.0.0.1", 3128,
					  "Aladdin", "open sesame");
	struct socks5_addr dst = domain("t.test", 22);
	struct socks5_failure why;
	struct socks5_reply r;

	sio_reset();
	sio_expect_send(STR("CONNECT t.test:22 HTTP/1.1\r\nHost: t.test:22\r\n"
			    "Proxy-Authorization: Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ==\r\n\r\n"));
	/* The proxy's reply and the server's banner in one segment. */
	sio_proxy_says(STR("HTTP/1.1 200 Connection established\r\nVia: x\r\n\r\n"
			   "SSH-2.0-OpenSSH_9.2\r\n"));
	ck_assert_int_eq(sio_run1(&p, SOCKS5_CMD_CONNECT, &dst, &r, &why), 0);
	ck_assert_uint_eq(sio_st.sent, sio_st.expect_len);
	ck_assert_uint_eq(sio_unread(), strlen("SSH-2.0-OpenSSH_9.2\r\n"));
}
END_TEST

START_TEST(http_hop_407)
{
	struct socks5_proxy p = typed_hop(SOCKS5_HOP_HTTP, "127.0.0.1", 3128,
					  NULL, NULL);
	struct socks5_addr dst = sio_ip4(192, 0, 2, 7, 80);
	struct socks5_failure why;
	char words[200];

	sio_reset();
	sio_expect_send(STR("CONNECT 192.0.2.7:80 HTTP/1.1\r\nHost: 192.0.2.7:80\r\n\r\n"));
	sio_proxy_says(STR("HTTP/1.1 407 Proxy Authentication Required\r\n"
			   "Proxy-Authenticate: Basic realm=\"tinyproxy\"\r\n\r\n"));
	ck_assert_int_eq(sio_run1(&p, SOCKS5_CMD_CONNECT, &dst, NULL, &why),
			 -EACCES);
	ck_assert_int_eq(why.status, SOCKS5_E_HTTP_AUTH);
	ck_assert_uint_eq(why.http_status, 407);
	ck_assert_str_eq(why.detail, "Basic");
	socks5_failure_describe(&why, words, sizeof(words));
	ck_assert_str_eq(words, "HTTP proxy requires authentication or refused the credentials (407); it asks for Basic: put USER:PASS in the http:// URL");
}
END_TEST

START_TEST(http_hop_refused_and_closed)
{
	struct socks5_proxy p = typed_hop(SOCKS5_HOP_HTTP, "127.0.0.1", 3128,
					  NULL, NULL);
	struct socks5_addr dst = sio_ip4(192, 0, 2, 7, 80);
	struct socks5_failure why;
	char words[200];

	sio_reset();
	sio_expect_send(STR("CONNECT 192.0.2.7:80 HTTP/1.1\r\nHost: 192.0.2.7:80\r\n\r\n"));
	sio_proxy_says(STR("HTTP/1.0 403 Forbidden\r\n\r\n"));
	ck_assert_int_eq(sio_run1(&p, SOCKS5_CMD_CONNECT, &dst, NULL, &why),
			 -ECONNREFUSED);
	ck_assert_int_eq(why.status, SOCKS5_E_HTTP_REFUSED);
	socks5_failure_describe(&why, words, sizeof(words));
	ck_assert_str_eq(words, "HTTP proxy refused the CONNECT: status 403 Forbidden");

	/* a proxy that closes mid-reply */
	sio_reset();
	sio_expect_send(STR("CONNECT 192.0.2.7:80 HTTP/1.1\r\nHost: 192.0.2.7:80\r\n\r\n"));
	sio_proxy_says(STR("HTTP/1.1 200 OK\r\nVia"));
	sio_proxy_eof();
	ck_assert_int_eq(sio_run1(&p, SOCKS5_CMD_CONNECT, &dst, NULL, &why),
			 -ECONNREFUSED);
	ck_assert_int_eq(why.status, SOCKS5_E_CLOSED);
}
END_TEST

START_TEST(socks4_hop_codes)
{
	static const struct {
		uint8_t cd;
		int rc;
		enum socks5_status st;
	} t[] = {
		{ 0x5A, 0, SOCKS5_OK },
		{ 0x5B, -ECONNREFUSED, SOCKS5_E_SOCKS4_REJECTED },
		{ 0x5C, -EACCES, SOCKS5_E_SOCKS4_IDENTD },
		{ 0x5D, -EACCES, SOCKS5_E_SOCKS4_IDENTD_USER },
		{ 0x00, -ECONNREFUSED, SOCKS5_E_SOCKS4_CODE },
	};
	struct socks5_proxy p = typed_hop(SOCKS5_HOP_SOCKS4, "127.0.0.1", 1080,
					  "joe", NULL);
	struct socks5_addr dst = sio_ip4(192, 0, 2, 7, 80);
	struct socks5_failure why;
	size_t i;

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		sio_reset();
		SEND(4, 1, 0, 80, 192, 0, 2, 7, 'j', 'o', 'e', 0);
		sio_proxy_says(BYTES(0, t[i].cd, 0, 0, 0, 0, 0, 0, 'X'), 9);
		ck_assert_int_eq(sio_run1(&p, SOCKS5_CMD_CONNECT, &dst, NULL,
					  &why), t[i].rc);
		ck_assert_int_eq(why.status, t[i].st);
		ck_assert_uint_eq(sio_unread(), 1); /* 'X' is the program's */
	}
	/* UDP and names are refused before anything is sent */
	sio_reset();
	ck_assert_int_eq(sio_run1(&p, SOCKS5_CMD_UDP_ASSOCIATE, &dst, NULL, &why),
			 -EOPNOTSUPP);
	ck_assert_int_eq(why.status, SOCKS5_E_HOP_CMD);
	dst = domain("t.test", 80);
	ck_assert_int_eq(sio_run1(&p, SOCKS5_CMD_CONNECT, &dst, NULL, &why),
			 -EAFNOSUPPORT);
	ck_assert_int_eq(why.status, SOCKS5_E_SOCKS4_ADDR);
	ck_assert_uint_eq(sio_st.sent, 0);
}
END_TEST

/* http -> socks4a -> socks5: each hop's request names the next. */
START_TEST(mixed_chain)
{
	struct socks5_proxy chain[3] = {
		typed_hop(SOCKS5_HOP_HTTP, "127.0.0.1", 3128, NULL, NULL),
		typed_hop(SOCKS5_HOP_SOCKS4A, "gw.test", 1080, "id", NULL),
		sio_hop("192.0.2.9", 1081, NULL, NULL),
	};
	struct socks5_addr dst = domain("t.test", 443);
	struct socks5_failure why;
	struct socks5_reply r;

	sio_reset();
	sio_expect_send(STR("CONNECT gw.test:1080 HTTP/1.1\r\nHost: gw.test:1080\r\n\r\n"));
	sio_proxy_says(STR("HTTP/1.1 200 OK\r\n\r\n"));
	SEND(4, 1, 0x04, 0x39, 192, 0, 2, 9, 'i', 'd', 0);
	SAYS(0, 0x5A, 0, 0, 0, 0, 0, 0);
	SIO_EXPECT(SIO_GREET_NOAUTH);
	SIO_SAYS(SIO_METHOD_NOAUTH);
	SEND(5, 1, 0, 3, 6, 't', '.', 't', 'e', 's', 't', 0x01, 0xbb);
	SIO_SAYS(SIO_REPLY_OK);
	ck_assert_int_eq(socks5_handshake(&sio_io, 3, chain, 3,
					  SOCKS5_CMD_CONNECT, &dst, DEADLINE,
					  &r, &why), 0);
	ck_assert_uint_eq(sio_st.sent, sio_st.expect_len);
	sio_assert_bound_ok(&r);
	ck_assert_uint_eq(sio_unread(), 0);
}
END_TEST

static Suite *hops_suite(void)
{
	Suite *s = suite_create("hops");
	TCase *tc = tcase_create("codecs");

	tcase_add_test(tc, socks4_encode);
	tcase_add_test(tc, socks4_reply_every_split);
	tcase_add_test(tc, http_encode);
	tcase_add_test(tc, http_encode_longest);
	tcase_add_loop_test(tc, http_reply_table, 0,
			    sizeof(http_cases) / sizeof(http_cases[0]));
	tcase_add_test(tc, http_reply_size_bound);
	suite_add_tcase(s, tc);

	tc = tcase_create("machine");
	tcase_add_test(tc, http_hop_leaves_program_bytes);
	tcase_add_test(tc, http_hop_407);
	tcase_add_test(tc, http_hop_refused_and_closed);
	tcase_add_test(tc, socks4_hop_codes);
	tcase_add_test(tc, mixed_chain);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(hops_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
