/*
 * libsocks5 codec, what comes back: the reply parsed at every split of
 * every reply (NEED_MORE counts, nothing written before it is complete,
 * pipelined bytes behind it left alone), every REP and ATYP value, every
 * malformed reply, and UDP datagram headers (RFC 1928 section 7) both ways.
 */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "codec_fixtures.h"
#include "socks5.h"

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
	cfx_assert_addr_eq(&r.bnd, want);

	memcpy(big, msg, total);
	memset(big + total, 0x05, sizeof(big) - total);
	ck_assert_int_eq(socks5_parse_reply(big, sizeof(big), &r, &len),
			 SOCKS5_OK);
	ck_assert_uint_eq(len, total);
	cfx_assert_addr_eq(&r.bnd, want);
}

static size_t make_reply(uint8_t *p, uint8_t rep, const struct socks5_addr *a)
{
	p[0] = 5;
	p[1] = rep;
	p[2] = 0;
	return 3 + cfx_wire_addr(p + 3, a);
}

/* IPv4, IPv6, 1-byte and 255-byte domains, each split every way. */
START_TEST(reply_every_split)
{
	uint8_t msg[SOCKS5_REQUEST_MAX];
	struct socks5_addr a = cfx_sample(_i);
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
	struct socks5_addr a = cfx_ipv4();
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
	struct socks5_addr a = cfx_sample(_i), src;
	uint8_t dgram[SOCKS5_UDP_HEADER_MAX + 16], want[SOCKS5_UDP_HEADER_MAX];
	size_t hlen, n, len;

	want[0] = want[1] = want[2] = 0;
	n = 3 + cfx_wire_addr(want + 3, &a);
	ck_assert_int_eq(socks5_encode_udp_header(dgram, sizeof(dgram), &a,
						  &hlen), SOCKS5_OK);
	ck_assert_uint_eq(hlen, n);
	ck_assert_mem_eq(dgram, want, n);
	memcpy(dgram + hlen, "payload", 7);

	len = 0;
	ck_assert_int_eq(socks5_parse_udp_header(dgram, hlen + 7, &src, &len),
			 SOCKS5_OK);
	ck_assert_uint_eq(len, hlen);
	cfx_assert_addr_eq(&src, &a);
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
	cfx_fill(dgram, sizeof(dgram));
	ck_assert_int_eq(socks5_encode_udp_header(dgram, hlen - 1, &a, &len),
			 SOCKS5_E_BUFFER);
	ck_assert(cfx_untouched(dgram, sizeof(dgram)));
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

static Suite *codec_reply_suite(void)
{
	Suite *s = suite_create("codec_reply");
	TCase *tc = tcase_create("reply");

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
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(codec_reply_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
