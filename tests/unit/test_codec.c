/*
 * libsocks5 codec, the messages a client sends and their answers short of
 * the reply: greeting, method selection, RFC 1929 authentication and
 * requests byte for byte against RFC 1928 / 1929, every ATYP, every
 * malformed case, too-small buffers for every encoder, address helpers.
 * Replies and UDP datagrams: test_codec_reply.c.
 */
#include <arpa/inet.h>
#include <check.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/un.h>

#include "codec_fixtures.h"
#include "socks5.h"

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
	cfx_fill(buf, sizeof(buf));
	ck_assert_int_eq(socks5_encode_greeting(buf, 3, methods, 2, &len),
			 SOCKS5_E_BUFFER);
	ck_assert(cfx_untouched(buf, sizeof(buf)));
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
	cfx_fill(buf, sizeof(buf));
	ck_assert_int_eq(socks5_encode_auth(buf, sizeof(buf), big, 0, "p", 1,
					    &len), SOCKS5_E_USER_LENGTH);
	ck_assert_int_eq(socks5_encode_auth(buf, sizeof(buf), big, 256, "p", 1,
					    &len), SOCKS5_E_USER_LENGTH);
	ck_assert_int_eq(socks5_encode_auth(buf, sizeof(buf), "u", 1, big, 0,
					    &len), SOCKS5_E_PASS_LENGTH);
	ck_assert_int_eq(socks5_encode_auth(buf, sizeof(buf), "u", 1, big, 256,
					    &len), SOCKS5_E_PASS_LENGTH);
	ck_assert(cfx_untouched(buf, sizeof(buf)));
	ck_assert_int_eq(socks5_encode_auth(buf, 11, "alice", 5, "sec", 3,
					    &len), SOCKS5_OK);
	cfx_fill(buf, sizeof(buf));
	ck_assert_int_eq(socks5_encode_auth(buf, 10, "alice", 5, "sec", 3,
					    &len), SOCKS5_E_BUFFER);
	ck_assert(cfx_untouched(buf, sizeof(buf)));
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


START_TEST(request_every_cmd_and_atyp)
{
	const uint8_t cmds[] = { SOCKS5_CMD_CONNECT, SOCKS5_CMD_BIND,
				 SOCKS5_CMD_UDP_ASSOCIATE };
	uint8_t buf[SOCKS5_REQUEST_MAX + 8], want[SOCKS5_REQUEST_MAX];
	size_t len, n, c;
	int i;

	for (i = 0; i < 4; i++) {
		struct socks5_addr a = cfx_sample(i);

		for (c = 0; c < 3; c++) {
			want[0] = 5;
			want[1] = cmds[c];
			want[2] = 0;
			n = 3 + cfx_wire_addr(want + 3, &a);
			ck_assert_uint_eq(n, 3 + socks5_addr_wire_len(&a));
			ck_assert_int_eq(socks5_encode_request(buf, sizeof(buf),
					 cmds[c], &a, &len), SOCKS5_OK);
			ck_assert_uint_eq(len, n);
			ck_assert_mem_eq(buf, want, n);
			/* Exactly enough room, then one byte short. */
			ck_assert_int_eq(socks5_encode_request(buf, n, cmds[c],
					 &a, &len), SOCKS5_OK);
			cfx_fill(buf, sizeof(buf));
			ck_assert_int_eq(socks5_encode_request(buf, n - 1,
					 cmds[c], &a, &len), SOCKS5_E_BUFFER);
			ck_assert(cfx_untouched(buf, sizeof(buf)));
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
	a = cfx_ipv4();
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
	a = cfx_domain(255);
	ck_assert_int_eq(socks5_encode_request(buf, sizeof(buf), 1, &a, &len),
			 SOCKS5_OK);
	ck_assert_uint_eq(len, SOCKS5_REQUEST_MAX);
}
END_TEST

START_TEST(request_errors)
{
	uint8_t buf[SOCKS5_REQUEST_MAX];
	struct socks5_addr a = cfx_ipv4();
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
	a = cfx_domain(0);
	ck_assert_int_eq(socks5_encode_request(buf, sizeof(buf), 1, &a, &len),
			 SOCKS5_E_DOMAIN_LENGTH);
	ck_assert_uint_eq(socks5_addr_wire_len(&a), 0);
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
	a = cfx_domain(3);
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
	a = cfx_ipv4();
	ck_assert_uint_eq(socks5_addr_wire_len(&a), 7);
	a = cfx_ipv6();
	ck_assert_uint_eq(socks5_addr_wire_len(&a), 19);
}
END_TEST

START_TEST(addr_format)
{
	struct socks5_addr a;
	char buf[300];

	a = cfx_ipv4();
	socks5_addr_format(&a, buf, sizeof(buf));
	ck_assert_str_eq(buf, "192.0.2.1:8080");
	a = cfx_ipv6();
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

	tc = tcase_create("request");
	tcase_add_test(tc, request_every_cmd_and_atyp);
	tcase_add_test(tc, request_literal_bytes);
	tcase_add_test(tc, request_errors);
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
