/*
 * Policy (preload/policy.c): CIDR parsing and matching, and the direct /
 * proxied decision for addresses and names under a known configuration.
 *
 * The configuration is read from the environment once per process, so
 * main() sets the environment and re-executes itself before running.
 */
#include <arpa/inet.h>
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/un.h>
#include <unistd.h>

#include "../../preload/config.h"
#include "../../preload/policy.h"

#define PROXY_IP "192.0.2.10"
#define PROXY_PORT 1080

static struct sockaddr_storage ss;

/* "a.b.c.d" or "v6" and a port into ss. */
static const struct sockaddr *addr(const char *ip, int port)
{
	struct sockaddr_in *in = (struct sockaddr_in *)&ss;
	struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)&ss;

	memset(&ss, 0, sizeof(ss));
	if (inet_pton(AF_INET, ip, &in->sin_addr) == 1) {
		in->sin_family = AF_INET;
		in->sin_port = htons((uint16_t)port);
	} else {
		ck_assert_int_eq(inet_pton(AF_INET6, ip, &in6->sin6_addr), 1);
		in6->sin6_family = AF_INET6;
		in6->sin6_port = htons((uint16_t)port);
	}
	return (const struct sockaddr *)&ss;
}

struct cidr_case {
	const char *text;
	int family; /* 0: must be rejected */
	int prefix;
	const char *net; /* the network after masking */
};

static const struct cidr_case cidr_cases[] = {
	{ "10.1.2.3", AF_INET, 32, "10.1.2.3" },
	{ "10.1.2.3/8", AF_INET, 8, "10.0.0.0" },
	{ "10.255.255.255/9", AF_INET, 9, "10.128.0.0" },
	{ "0.0.0.0/0", AF_INET, 0, "0.0.0.0" },
	{ "192.0.2.1/032", AF_INET, 32, "192.0.2.1" },
	{ "::1", AF_INET6, 128, "::1" },
	{ "2001:db8::ff/32", AF_INET6, 32, "2001:db8::" },
	{ "[2001:db8::1]", AF_INET6, 128, "2001:db8::1" },
	{ "[2001:db8:ffff::]/33", AF_INET6, 33, "2001:db8:8000::" },
	{ "::ffff:0:0/96", AF_INET6, 96, "::ffff:0.0.0.0" },
	{ "", 0, 0, NULL },
	{ "10.0.0.0/33", 0, 0, NULL },
	{ "10.0.0.0/", 0, 0, NULL },
	{ "10.0.0.0/-1", 0, 0, NULL },
	{ "10.0.0.0/8x", 0, 0, NULL },
	{ "10.0.0.0/0008", 0, 0, NULL },
	{ "10.0.0", 0, 0, NULL },
	{ "10.0.0.256", 0, 0, NULL },
	{ "[10.0.0.1]", 0, 0, NULL },
	{ "::1/129", 0, 0, NULL },
	{ "[::1", 0, 0, NULL },
	{ "[]", 0, 0, NULL },
	{ "example.com", 0, 0, NULL },
	{ "/8", 0, 0, NULL },
};

START_TEST(cidr_parse_table)
{
	const struct cidr_case *c = &cidr_cases[_i];
	struct sfy_cidr out;
	uint8_t want[16];
	int rc = sfy_cidr_parse(c->text, &out);

	if (!c->family) {
		ck_assert_msg(rc < 0, "accepted '%s'", c->text);
		return;
	}
	ck_assert_msg(rc == 0, "refused '%s'", c->text);
	ck_assert_int_eq(out.family, c->family);
	ck_assert_int_eq(out.prefix, c->prefix);
	ck_assert_int_eq(inet_pton(c->family, c->net, want), 1);
	ck_assert_mem_eq(out.addr, want, c->family == AF_INET ? 4 : 16);
}
END_TEST

START_TEST(cidr_match)
{
	struct sfy_cidr c;

	ck_assert_int_eq(sfy_cidr_parse("10.128.0.0/9", &c), 0);
	ck_assert(sfy_cidr_match(&c, addr("10.128.0.1", 1)));
	ck_assert(sfy_cidr_match(&c, addr("10.255.255.255", 1)));
	ck_assert(!sfy_cidr_match(&c, addr("10.127.255.255", 1)));
	ck_assert(!sfy_cidr_match(&c, addr("11.128.0.1", 1)));
	/* an IPv4-mapped address is its IPv4 address */
	ck_assert(sfy_cidr_match(&c, addr("::ffff:10.200.0.1", 1)));
	ck_assert(!sfy_cidr_match(&c, addr("::ffff:11.200.0.1", 1)));
	ck_assert(!sfy_cidr_match(&c, addr("2001:db8::1", 1)));

	ck_assert_int_eq(sfy_cidr_parse("0.0.0.0/0", &c), 0);
	ck_assert(sfy_cidr_match(&c, addr("203.0.113.9", 1)));
	ck_assert(!sfy_cidr_match(&c, addr("::1", 1)));

	ck_assert_int_eq(sfy_cidr_parse("2001:db8:8000::/33", &c), 0);
	ck_assert(sfy_cidr_match(&c, addr("2001:db8:8000::1", 1)));
	ck_assert(sfy_cidr_match(&c, addr("2001:db8:ffff:ffff::", 1)));
	ck_assert(!sfy_cidr_match(&c, addr("2001:db8:7fff::1", 1)));
	ck_assert(!sfy_cidr_match(&c, addr("10.0.0.1", 1)));

	/* An IPv6 range that names mapped addresses matches them. */
	ck_assert_int_eq(sfy_cidr_parse("::ffff:0:0/96", &c), 0);
	ck_assert(sfy_cidr_match(&c, addr("::ffff:192.0.2.1", 1)));
	ck_assert(!sfy_cidr_match(&c, addr("192.0.2.1", 1)));
}
END_TEST

START_TEST(config_as_set_by_main)
{
	const struct sfy_config *cfg = sfy_config();

	ck_assert(cfg->enabled);
	ck_assert(!cfg->broken);
	ck_assert_int_eq(cfg->bypass.ncidrs, 3);
	ck_assert_int_eq(cfg->bypass.nnames, 2);
}
END_TEST

START_TEST(direct_addresses)
{
	struct sockaddr_un un;

	ck_assert(sfy_policy_direct_addr(addr("10.1.2.3", 80)));
	ck_assert(sfy_policy_direct_addr(addr("::ffff:10.1.2.3", 80)));
	ck_assert(sfy_policy_direct_addr(addr("192.168.1.200", 80)));
	ck_assert(!sfy_policy_direct_addr(addr("192.168.2.1", 80)));
	ck_assert(sfy_policy_direct_addr(addr("2001:db8::5", 80)));
	ck_assert(!sfy_policy_direct_addr(addr("2001:db9::5", 80)));
	ck_assert(!sfy_policy_direct_addr(addr("203.0.113.1", 443)));
	/* loopback is not in this bypass list: proxied */
	ck_assert(!sfy_policy_direct_addr(addr("127.0.0.1", 80)));
	ck_assert(!sfy_policy_direct_addr(addr("::1", 80)));
	/* the proxy's own address and port go direct, its other ports not */
	ck_assert(sfy_policy_direct_addr(addr(PROXY_IP, PROXY_PORT)));
	ck_assert(sfy_policy_direct_addr(addr("::ffff:" PROXY_IP, PROXY_PORT)));
	ck_assert(!sfy_policy_direct_addr(addr(PROXY_IP, PROXY_PORT + 1)));
	/* fake addresses are never direct, even inside a bypass range */
	ck_assert(!sfy_policy_direct_addr(addr("198.18.0.5", 80)));
	ck_assert(!sfy_policy_direct_addr(addr("::ffff:198.19.255.1", 80)));
	/* not an Internet address: not ours to proxy */
	memset(&un, 0, sizeof(un));
	un.sun_family = AF_UNIX;
	ck_assert(sfy_policy_direct_addr((struct sockaddr *)&un));
}
END_TEST

START_TEST(direct_names)
{
	ck_assert(sfy_policy_direct_name("example.com"));
	ck_assert(sfy_policy_direct_name("www.example.com"));
	ck_assert(sfy_policy_direct_name("a.b.EXAMPLE.com"));
	ck_assert(sfy_policy_direct_name("www.example.com."));
	ck_assert(!sfy_policy_direct_name("notexample.com"));
	ck_assert(!sfy_policy_direct_name("example.com.evil.test"));
	ck_assert(sfy_policy_direct_name("exact.test"));
	ck_assert(sfy_policy_direct_name("EXACT.test."));
	ck_assert(!sfy_policy_direct_name("sub.exact.test"));
	ck_assert(!sfy_policy_direct_name("exact.tes"));
	ck_assert(!sfy_policy_direct_name("localhost")); /* not in this list */
	/* numeric names are matched as addresses */
	ck_assert(sfy_policy_direct_name("10.9.8.7"));
	ck_assert(sfy_policy_direct_name("2001:db8::1"));
	ck_assert(!sfy_policy_direct_name("203.0.113.7"));
	ck_assert(!sfy_policy_direct_name(""));
	ck_assert(!sfy_policy_direct_name(NULL));
}
END_TEST

static Suite *policy_suite(void)
{
	Suite *s = suite_create("policy");
	TCase *tc = tcase_create("cidr");
	TCase *td = tcase_create("decide");

	tcase_add_loop_test(tc, cidr_parse_table, 0,
			    sizeof(cidr_cases) / sizeof(cidr_cases[0]));
	tcase_add_test(tc, cidr_match);
	suite_add_tcase(s, tc);
	tcase_add_test(td, config_as_set_by_main);
	tcase_add_test(td, direct_addresses);
	tcase_add_test(td, direct_names);
	suite_add_tcase(s, td);
	return s;
}

int main(int argc, char **argv)
{
	SRunner *sr;
	int failed;

	(void)argc;
	/* The library reads its environment in a constructor, before main:
	 * set it and start again. */
	if (!getenv("SFY_TEST_POLICY_ENV")) {
		setenv("SFY_TEST_POLICY_ENV", "1", 1);
		setenv("SOCKSIFY_PROXY", "socks5://" PROXY_IP ":1080", 1);
		setenv("SOCKSIFY_NO_PROXY",
		       "10.0.0.0/8,192.168.1.0/24,.example.com,exact.test,2001:db8::/32",
		       1);
		unsetenv("SOCKSIFY_FAKE_NET");
		unsetenv("SOCKSIFY_LOG_FILE");
		execv("/proc/self/exe", argv);
		perror("test_policy: re-exec");
		return EXIT_FAILURE;
	}
	sr = srunner_create(policy_suite());
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
