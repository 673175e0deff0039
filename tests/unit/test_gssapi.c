/*
 * RFC 1961 message framing (client/gssapi.c): encoder bytes, the parser on
 * every split of a message, the abort message, wrong version and type, and
 * that a parser never asks for a byte past the message's end.
 */
#include <check.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>

#include "socks5_gssapi.h"

START_TEST(encode_bytes)
{
	uint8_t buf[16], tok[3] = { 0xAA, 0xBB, 0xCC };
	size_t len = 0;

	ck_assert_int_eq(socks5_gss_encode(buf, sizeof(buf), SOCKS5_GSS_MTYP_AUTH,
					   tok, 3, &len), SOCKS5_OK);
	ck_assert_uint_eq(len, 7);
	ck_assert_mem_eq(buf, "\x01\x01\x00\x03\xAA\xBB\xCC", 7);
	ck_assert_int_eq(socks5_gss_encode(buf, sizeof(buf), SOCKS5_GSS_MTYP_PROT,
					   NULL, 0, &len), SOCKS5_OK);
	ck_assert_uint_eq(len, 4);
	ck_assert_mem_eq(buf, "\x01\x02\x00\x00", 4);
}
END_TEST

START_TEST(encode_errors)
{
	static uint8_t big[SOCKS5_GSS_TOKEN_MAX + 1 + SOCKS5_GSS_HEADER_LEN];
	uint8_t buf[8];
	size_t len;

	ck_assert_int_eq(socks5_gss_encode(buf, 6, SOCKS5_GSS_MTYP_AUTH,
					   (const uint8_t *)"abc", 3, &len),
			 SOCKS5_E_BUFFER);
	ck_assert_int_eq(socks5_gss_encode(buf, sizeof(buf), 0,
					   NULL, 0, &len), SOCKS5_E_ARG);
	ck_assert_int_eq(socks5_gss_encode(buf, sizeof(buf), SOCKS5_GSS_MTYP_ABORT,
					   NULL, 0, &len), SOCKS5_E_ARG);
	ck_assert_int_eq(socks5_gss_encode(big, sizeof(big), SOCKS5_GSS_MTYP_DATA,
					   big, SOCKS5_GSS_TOKEN_MAX + 1, &len),
			 SOCKS5_E_ARG);
	ck_assert_int_eq(socks5_gss_encode(big, sizeof(big), SOCKS5_GSS_MTYP_DATA,
					   big + 4, SOCKS5_GSS_TOKEN_MAX, &len),
			 SOCKS5_OK);
	ck_assert_uint_eq(len, SOCKS5_GSS_TOKEN_MAX + 4);
	ck_assert_mem_eq(big, "\x01\x03\xFF\xFF", 4);
}
END_TEST

/* Every prefix asks for more, never past the end; the whole parses. */
START_TEST(parse_every_split)
{
	const uint8_t msg[] = { 1, 2, 0, 5, 9, 8, 7, 6, 5, 0x42 /* next */ };
	size_t n, tlen, len;

	for (n = 0; n < 9; n++) {
		ck_assert_int_eq(socks5_gss_parse(msg, n, SOCKS5_GSS_MTYP_PROT,
						  &tlen, &len), SOCKS5_NEED_MORE);
		ck_assert_uint_ge(len, 1);
		ck_assert_uint_le(n + len, 9);
	}
	ck_assert_int_eq(socks5_gss_parse(msg, sizeof(msg), SOCKS5_GSS_MTYP_PROT,
					  &tlen, &len), SOCKS5_OK);
	ck_assert_uint_eq(tlen, 5);
	ck_assert_uint_eq(len, 9);
}
END_TEST

START_TEST(parse_errors)
{
	size_t tlen, len;

	ck_assert_int_eq(socks5_gss_parse((const uint8_t *)"\x05", 1,
					  SOCKS5_GSS_MTYP_AUTH, &tlen, &len),
			 SOCKS5_E_GSS_VERSION);
	ck_assert_int_eq(socks5_gss_parse((const uint8_t *)"\x01\xFF", 2,
					  SOCKS5_GSS_MTYP_AUTH, &tlen, &len),
			 SOCKS5_E_GSS_ABORTED);
	ck_assert_uint_eq(len, 2);
	ck_assert_int_eq(socks5_gss_parse((const uint8_t *)"\x01\x02\x00\x01", 4,
					  SOCKS5_GSS_MTYP_AUTH, &tlen, &len),
			 SOCKS5_E_GSS_MTYP);
	ck_assert_int_eq(socks5_gss_parse(NULL, 0, SOCKS5_GSS_MTYP_AUTH,
					  &tlen, &len), SOCKS5_NEED_MORE);
	ck_assert_int_eq(socks5_gss_parse(NULL, 3, SOCKS5_GSS_MTYP_AUTH,
					  &tlen, &len), SOCKS5_E_ARG);
}
END_TEST

START_TEST(level_names)
{
	ck_assert_str_eq(socks5_gss_level_name(0), "clear");
	ck_assert_str_eq(socks5_gss_level_name(1), "integrity");
	ck_assert_str_eq(socks5_gss_level_name(2), "confidentiality");
	ck_assert_str_eq(socks5_gss_level_name(3), "per-message");
	ck_assert_str_eq(socks5_gss_level_name(4), "unknown");
}
END_TEST

/* socks5h://proxy:1080?auth=gssapi[&service=NAME] */
START_TEST(url_query)
{
	struct socks5_proxy p;
	char err[512], shown[SOCKS5_URL_SHOWN_MAX];

	ck_assert_int_eq(socks5_url_parse("socks5h://proxy.test:1080?auth=gssapi",
					  &p, err, sizeof(err)), SOCKS5_OK);
	ck_assert(p.gssapi);
	ck_assert_str_eq(p.gss_service, "");
	ck_assert_str_eq(p.host, "proxy.test");
	ck_assert_uint_eq(p.port, 1080);
	socks5_url_format(&p, shown, sizeof(shown));
	ck_assert_str_eq(shown, "socks5h://proxy.test:1080?auth=gssapi");

	ck_assert_int_eq(socks5_url_parse("socks5://px/?auth=gssapi&service=socks",
					  &p, err, sizeof(err)), SOCKS5_OK);
	ck_assert(p.gssapi);
	ck_assert_str_eq(p.gss_service, "socks");
	socks5_url_format(&p, shown, sizeof(shown));
	ck_assert_str_eq(shown, "socks5://px:1080?auth=gssapi&service=socks");
	ck_assert_int_eq(socks5_url_parse(shown, &p, err, sizeof(err)), SOCKS5_OK);

	ck_assert_int_eq(socks5_url_parse("socks5://u:p@px?auth=gssapi", &p,
					  err, sizeof(err)), SOCKS5_E_URL_GARBAGE);
	ck_assert_ptr_nonnull(strstr(err, "kinit"));
	ck_assert_int_eq(socks5_url_parse("http://px?auth=gssapi", &p,
					  err, sizeof(err)), SOCKS5_E_URL_GARBAGE);
	ck_assert_int_eq(socks5_url_parse("socks5://px?service=x", &p,
					  err, sizeof(err)), SOCKS5_E_URL_GARBAGE);
	ck_assert_int_eq(socks5_url_parse("socks5://px?auth=gssapi&service=a/b",
					  &p, err, sizeof(err)), SOCKS5_E_URL_GARBAGE);
	ck_assert_int_eq(socks5_url_parse("socks5://px?auth=kerberos", &p,
					  err, sizeof(err)), SOCKS5_E_URL_GARBAGE);
}
END_TEST

/* &level=: the protection level asked for; unset, confidentiality (the
 * handshake's default), and the URL shown says what was given. */
START_TEST(url_level)
{
	static const char *const names[] = { "clear", "integrity",
					     "confidentiality" };
	struct socks5_proxy p;
	char err[512], url[128], shown[SOCKS5_URL_SHOWN_MAX];

	ck_assert_int_eq(socks5_url_parse("socks5h://px?auth=gssapi", &p, err,
					  sizeof(err)), SOCKS5_OK);
	ck_assert(!p.gss_level_set);
	for (unsigned i = 0; i < 3; i++) {
		snprintf(url, sizeof(url),
			 "socks5h://px:1080?auth=gssapi&service=socks&level=%s",
			 names[i]);
		ck_assert_int_eq(socks5_url_parse(url, &p, err, sizeof(err)),
				 SOCKS5_OK);
		ck_assert(p.gss_level_set);
		ck_assert_uint_eq(p.gss_level, i);
		socks5_url_format(&p, shown, sizeof(shown));
		ck_assert_str_eq(shown, url);
	}
	ck_assert_int_eq(socks5_url_parse("socks5://px?auth=gssapi&level=", &p,
					  err, sizeof(err)), SOCKS5_E_URL_GARBAGE);
	ck_assert_ptr_nonnull(strstr(err, "clear, integrity or confidentiality"));
	ck_assert_int_eq(socks5_url_parse("socks5://px?auth=gssapi&level=per-message",
					  &p, err, sizeof(err)), SOCKS5_E_URL_GARBAGE);
	ck_assert_int_eq(socks5_url_parse("socks5://px?auth=gssapi&level=clearx",
					  &p, err, sizeof(err)), SOCKS5_E_URL_GARBAGE);
	ck_assert_int_eq(socks5_url_parse("socks5://px?level=clear", &p, err,
					  sizeof(err)), SOCKS5_E_URL_GARBAGE);
	ck_assert_ptr_nonnull(strstr(err, "need auth=gssapi"));
}
END_TEST

/* A hop with auth=gssapi offers method X'01' alone, never pipelined. */
START_TEST(greeting_offers_gssapi_only)
{
	struct socks5_proxy p;
	struct socks5_addr dst;
	struct socks5_hs h;
	struct socks5_hs_opts o = { .pipeline = 1 };
	const uint8_t *out;
	size_t len;

	ck_assert_int_eq(socks5_url_parse("socks5h://px?auth=gssapi", &p, NULL, 0),
			 SOCKS5_OK);
	ck_assert_int_eq(socks5_addr_from_domain(&dst, "t", 1, 80), SOCKS5_OK);
	socks5_hs_begin(&h, &p, 1, SOCKS5_CMD_CONNECT, &dst, &o);
	out = socks5_hs_out(&h, &len);
	ck_assert_uint_eq(len, 3);
	ck_assert_mem_eq(out, "\x05\x01\x01", 3);
}
END_TEST

static Suite *gssapi_suite(void)
{
	Suite *s = suite_create("gssapi");
	TCase *tc = tcase_create("framing");

	tcase_add_test(tc, encode_bytes);
	tcase_add_test(tc, encode_errors);
	tcase_add_test(tc, parse_every_split);
	tcase_add_test(tc, parse_errors);
	tcase_add_test(tc, level_names);
	suite_add_tcase(s, tc);
	tc = tcase_create("url");
	tcase_add_test(tc, url_query);
	tcase_add_test(tc, url_level);
	tcase_add_test(tc, greeting_offers_gssapi_only);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(gssapi_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
