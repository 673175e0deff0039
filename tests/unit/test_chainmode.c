/*
 * SOCKSIFY_CHAIN and SOCKSIFY_CHAIN_LEN (client/chainmode.c): the one
 * reader behind the command and the library.
 */
#include <check.h>
#include <string.h>

#include "socks5_chainmode.h"

static const struct {
	const char *mode, *len;
	size_t nhops;
	int rc, want_mode;
	size_t want_len;
	const char *var, *why; /* on failure */
} cases[] = {
	{ NULL, NULL, 3, 0, SOCKS5_CHAIN_STRICT, 3, NULL, NULL },
	{ "", "", 3, 0, SOCKS5_CHAIN_STRICT, 3, NULL, NULL },
	{ "DYNAMIC", NULL, 3, 0, SOCKS5_CHAIN_DYNAMIC, 3, NULL, NULL },
	{ "random", NULL, 3, 0, SOCKS5_CHAIN_RANDOM, 1, NULL, NULL },
	{ "round-robin", "3", 3, 0, SOCKS5_CHAIN_ROUND_ROBIN, 3, NULL, NULL },
	{ "round_robin", NULL, 3, -1, 0, 0, "SOCKSIFY_CHAIN", "'round_robin' is not strict" },
	{ "strict", "2", 3, -1, 0, 0, "SOCKSIFY_CHAIN_LEN", "only SOCKSIFY_CHAIN=random or round-robin" },
	{ "random", "4", 3, -1, 0, 0, "SOCKSIFY_CHAIN_LEN", "'4' is not a number of hops in 1..3" },
	{ "random", "0", 3, -1, 0, 0, "SOCKSIFY_CHAIN_LEN", "in 1..3" },
	{ "random", "+1", 3, -1, 0, 0, "SOCKSIFY_CHAIN_LEN", "in 1..3" },
	{ "random", "1x", 3, -1, 0, 0, "SOCKSIFY_CHAIN_LEN", "in 1..3" },
	{ "random", "99999999999999999999", 3, -1, 0, 0, "SOCKSIFY_CHAIN_LEN", "in 1..3" },
};

START_TEST(test_parse)
{
	const char *var = NULL;
	char why[300] = "";
	size_t len = 99;
	int mode = -1;
	int rc = socks5_chain_mode_parse(cases[_i].mode, cases[_i].len,
					 cases[_i].nhops, &mode, &len, &var,
					 why, sizeof(why));

	ck_assert_msg(rc == cases[_i].rc, "case %d: %d %s", _i, rc, why);
	if (rc == 0) {
		ck_assert_int_eq(mode, cases[_i].want_mode);
		ck_assert_uint_eq(len, cases[_i].want_len);
	} else {
		ck_assert_str_eq(var, cases[_i].var);
		ck_assert_msg(strstr(why, cases[_i].why), "case %d: %s", _i, why);
	}
}
END_TEST

int main(void)
{
	Suite *s = suite_create("chainmode");
	TCase *tc = tcase_create("parse");
	SRunner *sr;
	int failed;

	tcase_add_loop_test(tc, test_parse, 0,
			    (int)(sizeof(cases) / sizeof(cases[0])));
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? 1 : 0;
}
