/*
 * Policy (preload/route/policy.c): CIDR parsing and matching, and the direct /
 * proxied decision for addresses and names under a known configuration;
 * the table of addresses handed out for bypassed names (bypassmap.c) and
 * how the resolver's answers fill it (dnsroute.c).
 *
 * The configuration is read from the environment once per process, so
 * main() sets the environment and re-executes itself before running.
 */
#include <arpa/inet.h>
#include <check.h>
#include <errno.h>
#include <netdb.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "addr_fixture.h"
#include "base/config.h"
#include "route/bypassmap.h"
#include "route/dnsroute.h"
#include "route/dnat.h"
#include "route/policy.h"

#define PROXY_IP "192.0.2.10"
#define PROXY_PORT 1080

/* "a.b.c.d" or "v6" and a port (addr_fixture.h). */
static const struct sockaddr *addr(const char *ip, int port)
{
	return afx_addr(ip, port);
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

/* SOCKSIFY_DNAT's rules: a port-specific rule before an address-only
 * one whatever their order, the new port only when given. */
START_TEST(dnat_rules)
{
	static struct sfy_dnat d;
	struct sockaddr_in in;
	char bad[160];

	memset(&d, 0, sizeof(d));
	ck_assert_int_eq(sfy_dnat_parse(&d, "1.1.1.1=2.2.2.2, 1.1.1.1:443=3.3.3.3:8443,4.4.4.4:53=5.5.5.5",
				       bad, sizeof(bad)), 0);
	ck_assert_int_eq(d.n, 3);
	memcpy(&in, addr("1.1.1.1", 443), sizeof(in));
	ck_assert(sfy_dnat_apply(&d, &in));
	ck_assert_uint_eq(in.sin_addr.s_addr, inet_addr("3.3.3.3"));
	ck_assert_uint_eq(ntohs(in.sin_port), 8443);
	memcpy(&in, addr("1.1.1.1", 80), sizeof(in));
	ck_assert(sfy_dnat_apply(&d, &in));
	ck_assert_uint_eq(in.sin_addr.s_addr, inet_addr("2.2.2.2"));
	ck_assert_uint_eq(ntohs(in.sin_port), 80);
	memcpy(&in, addr("4.4.4.4", 54), sizeof(in));
	ck_assert(!sfy_dnat_apply(&d, &in));
	memcpy(&in, addr("4.4.4.4", 53), sizeof(in));
	ck_assert(sfy_dnat_apply(&d, &in));
	ck_assert_uint_eq(ntohs(in.sin_port), 53);
	memset(&d, 0, sizeof(d));
	ck_assert_int_eq(sfy_dnat_parse(&d, "1.1.1.1=::1", bad, sizeof(bad)), -EINVAL);
	ck_assert_int_eq(sfy_dnat_parse(&d, "1.1.1.1:0=2.2.2.2", bad, sizeof(bad)), -EINVAL);
	ck_assert_int_eq(sfy_dnat_parse(&d, "1.1.1.1", bad, sizeof(bad)), -EINVAL);
	ck_assert_ptr_nonnull(strstr(bad, "ORIG[:PORT]=NEW[:PORT]"));
}
END_TEST

START_TEST(config_as_set_by_main)
{
	const struct sfy_config *cfg = sfy_config();

	ck_assert(cfg->enabled);
	ck_assert(!cfg->broken);
	ck_assert_int_eq(cfg->bypass.ncidrs, 7);
	ck_assert_int_eq(cfg->bypass.nnames, 4);
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
	ck_assert(sfy_policy_direct_addr(addr("2001:db9::7", 80))); /* [v6] */
	ck_assert(!sfy_policy_direct_addr(addr("203.0.113.1", 443)));
	/* ranges with a port (proxychains' localnet ADDR:PORT/MASK): that
	 * port of the range only */
	ck_assert(sfy_policy_direct_addr(addr("172.30.3.4", 8080)));
	ck_assert(sfy_policy_direct_addr(addr("::ffff:172.30.3.4", 8080)));
	ck_assert(!sfy_policy_direct_addr(addr("172.30.3.4", 8081)));
	ck_assert(!sfy_policy_direct_addr(addr("172.31.3.4", 8080)));
	ck_assert(sfy_policy_direct_addr(addr("2001:dba::1", 443)));
	ck_assert(!sfy_policy_direct_addr(addr("2001:dba::1", 80)));
	ck_assert(sfy_policy_direct_addr(addr("192.0.2.9", 53)));
	ck_assert(!sfy_policy_direct_addr(addr("192.0.2.9", 54)));
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

/* The list is ".example.com,exact.test,*.wild.test,Trail.Test." plus
 * addresses: every name entry covers itself and the names under it, as in
 * curl's lib/noproxy.c. */
struct name_case {
	const char *name;
	bool direct;
};

static const struct name_case name_cases[] = {
	{ "example.com", true },
	{ "www.example.com", true },
	{ "a.b.EXAMPLE.com", true },
	{ "www.example.com.", true },
	{ "notexample.com", false },
	{ "example.com.evil.test", false },
	{ "xample.com", false },
	{ "com", false },
	{ "exact.test", true },
	{ "EXACT.test.", true },
	{ "sub.exact.test", true }, /* curl: "host" covers its subdomains */
	{ "a.b.sub.exact.test", true },
	{ "inexact.test", false },
	{ "exact.tes", false },
	{ "exact.test.x", false },
	{ "wild.test", true }, /* "*.wild.test" is ".wild.test" */
	{ "x.wild.test", true },
	{ "trail.test", true }, /* the entry's trailing dot is ignored */
	{ "TRAIL.TEST.", true },
	{ "a.trail.test", true },
	{ ".", false },
	{ "..", false },
	{ "test", false },
	{ "localhost", false }, /* not in this list */
	/* numeric names are matched as addresses */
	{ "10.9.8.7", true },
	{ "2001:db8::1", true },
	{ "[2001:db8::1]", true },
	{ "[2001:db9::7]", true },
	{ "[2001:db9::8]", false },
	{ "[10.9.8.7]", false },
	{ "203.0.113.7", false },
	{ "", false },
};

START_TEST(direct_names)
{
	const struct name_case *c = &name_cases[_i];

	ck_assert_msg(sfy_policy_direct_name(c->name) == c->direct,
		      "%s: want %s", c->name, c->direct ? "direct" : "proxied");
}
END_TEST

START_TEST(direct_name_null)
{
	ck_assert(!sfy_policy_direct_name(NULL));
}
END_TEST

/* ---- addresses of bypassed names -------------------------------------- */

static void bypass_setup(void)
{
	sfy_bypassmap_clear();
}

START_TEST(map_add_forget)
{
	/* 203.0.113.5 is on no list: proxied until a bypassed name gave it */
	ck_assert(!sfy_policy_direct_addr(addr("203.0.113.5", 80)));
	sfy_bypassmap_add(addr("203.0.113.5", 1));
	/* any port; IPv4-mapped is the same address */
	ck_assert(sfy_policy_direct_addr(addr("203.0.113.5", 443)));
	ck_assert(sfy_policy_direct_addr(addr("::ffff:203.0.113.5", 443)));
	ck_assert(!sfy_policy_direct_addr(addr("203.0.113.6", 443)));
	ck_assert(!sfy_policy_direct_addr(addr("::203.0.113.5", 443)));
	/* IPv6, added as mapped: stored as IPv4 */
	sfy_bypassmap_add(addr("::ffff:203.0.113.9", 0));
	ck_assert(sfy_policy_direct_addr(addr("203.0.113.9", 22)));
	sfy_bypassmap_add(addr("2001:db7::1", 0));
	ck_assert(sfy_policy_direct_addr(addr("2001:db7::1", 22)));
	ck_assert(!sfy_policy_direct_addr(addr("2001:db7::2", 22)));
	/* adding twice, forgetting once: gone */
	sfy_bypassmap_add(addr("203.0.113.5", 2));
	sfy_bypassmap_forget(addr("::ffff:203.0.113.5", 0));
	ck_assert(!sfy_policy_direct_addr(addr("203.0.113.5", 443)));
	ck_assert(sfy_policy_direct_addr(addr("203.0.113.9", 22)));
	/* a fake address is never direct, even if a resolver returned it */
	sfy_bypassmap_add(addr("198.18.0.9", 0));
	ck_assert(!sfy_policy_direct_addr(addr("198.18.0.9", 80)));
	/* not an Internet family: ignored */
	{
		struct sockaddr_un un;

		memset(&un, 0, sizeof(un));
		un.sun_family = AF_UNIX;
		sfy_bypassmap_add((struct sockaddr *)&un);
		ck_assert(!sfy_bypassmap_has((struct sockaddr *)&un));
	}
}
END_TEST

static const struct sockaddr *nth(unsigned int i)
{
	static char ip[32];

	snprintf(ip, sizeof(ip), "100.64.%u.%u", (i >> 8) & 0xff, i & 0xff);
	return addr(ip, 80);
}

/* More addresses than slots: no crash, at most SLOTS remembered, and the
 * newest of them always are (the oldest in a set is the one replaced). */
START_TEST(map_full)
{
	const unsigned int n = 4 * SFY_BYPASSMAP_SLOTS;
	unsigned int i, kept = 0;

	for (i = 0; i < n; i++) {
		sfy_bypassmap_add(nth(i));
		ck_assert_msg(sfy_bypassmap_has(nth(i)), "just added %u", i);
	}
	for (i = 0; i < n; i++)
		kept += sfy_bypassmap_has(nth(i));
	ck_assert_uint_le(kept, SFY_BYPASSMAP_SLOTS);
	ck_assert_uint_ge(kept, SFY_BYPASSMAP_SLOTS / 2);
	ck_assert(sfy_bypassmap_has(nth(n - 1)));
}
END_TEST

static const struct addrinfo *ai_list(const char *ip4, const char *ip6)
{
	static struct sockaddr_in in;
	static struct sockaddr_in6 in6;
	static struct addrinfo a, b;

	memset(&in, 0, sizeof(in));
	memset(&in6, 0, sizeof(in6));
	memset(&a, 0, sizeof(a));
	memset(&b, 0, sizeof(b));
	in.sin_family = AF_INET;
	ck_assert_int_eq(inet_pton(AF_INET, ip4, &in.sin_addr), 1);
	in6.sin6_family = AF_INET6;
	ck_assert_int_eq(inet_pton(AF_INET6, ip6, &in6.sin6_addr), 1);
	a.ai_family = AF_INET;
	a.ai_addr = (struct sockaddr *)&in;
	a.ai_addrlen = sizeof(in);
	a.ai_next = &b;
	b.ai_family = AF_INET6;
	b.ai_addr = (struct sockaddr *)&in6;
	b.ai_addrlen = sizeof(in6);
	return &a;
}

/* What the resolver hooks call after the real resolver answered. */
START_TEST(note_addrinfo)
{
	const struct addrinfo *ai = ai_list("203.0.113.20", "2001:db7::20");

	sfy_dns_note_addrinfo("www.example.com", ai);
	ck_assert(sfy_policy_direct_addr(addr("203.0.113.20", 80)));
	ck_assert(sfy_policy_direct_addr(addr("2001:db7::20", 80)));
	/* a name not on the list resolved to the same address last: the
	 * address goes through the proxy again */
	ai = ai_list("203.0.113.20", "2001:db7::99");
	sfy_dns_note_addrinfo("cdn.other.test", ai);
	ck_assert(!sfy_policy_direct_addr(addr("203.0.113.20", 80)));
	ck_assert(sfy_policy_direct_addr(addr("2001:db7::20", 80)));
	/* numeric names and empty answers change nothing */
	ai = ai_list("203.0.113.21", "2001:db7::20");
	sfy_dns_note_addrinfo("203.0.113.21", ai);
	ck_assert(!sfy_policy_direct_addr(addr("203.0.113.21", 80)));
	ck_assert(sfy_policy_direct_addr(addr("2001:db7::20", 80)));
	sfy_dns_note_addrinfo("exact.test", NULL);
	sfy_dns_note_addrinfo(NULL, ai);
	ck_assert(!sfy_policy_direct_addr(addr("203.0.113.21", 80)));
}
END_TEST

START_TEST(note_hostent)
{
	uint8_t a4[2][4] = { { 203, 0, 113, 30 }, { 203, 0, 113, 31 } };
	char *list[] = { (char *)a4[0], (char *)a4[1], NULL };
	struct hostent he = { .h_name = (char *)"exact.test",
			      .h_addrtype = AF_INET, .h_length = 4,
			      .h_addr_list = list };

	sfy_dns_note_hostent("Sub.Exact.Test.", &he);
	ck_assert(sfy_policy_direct_addr(addr("203.0.113.30", 80)));
	ck_assert(sfy_policy_direct_addr(addr("203.0.113.31", 80)));
	sfy_dns_note_hostent("elsewhere.test", &he);
	ck_assert(!sfy_policy_direct_addr(addr("203.0.113.30", 80)));
	ck_assert(!sfy_policy_direct_addr(addr("203.0.113.31", 80)));
	he.h_length = 16; /* inconsistent: ignored */
	sfy_dns_note_hostent("exact.test", &he);
	ck_assert(!sfy_policy_direct_addr(addr("203.0.113.30", 80)));
	sfy_dns_note_hostent("exact.test", NULL);
}
END_TEST

/* Readers race writers: an address never added is never seen (a torn
 * slot must not match), one always present always is. */
static atomic_bool stop;

static void *churn(void *arg)
{
	unsigned int i = (unsigned int)(uintptr_t)arg;
	struct sockaddr_in in;

	memset(&in, 0, sizeof(in));
	in.sin_family = AF_INET;
	while (!atomic_load(&stop)) {
		in.sin_addr.s_addr = htonl(0x0a400000u | (i++ & 0x3ff));
		sfy_bypassmap_add((struct sockaddr *)&in);
		in.sin_addr.s_addr = htonl(0x0a400000u | ((i * 7) & 0x3ff));
		sfy_bypassmap_forget((struct sockaddr *)&in);
	}
	return NULL;
}

START_TEST(map_concurrent)
{
	pthread_t t[2];
	struct sockaddr_in in;
	long n, bad = 0;

	sfy_bypassmap_add(addr("2001:db7::77", 0));
	atomic_store(&stop, false);
	for (n = 0; n < 2; n++)
		ck_assert_int_eq(pthread_create(&t[n], NULL, churn,
						(void *)(uintptr_t)(n * 500)),
				 0);
	memset(&in, 0, sizeof(in));
	in.sin_family = AF_INET;
	for (n = 0; n < 400000; n++) {
		/* 10.65.x.x: same hash spread, never added */
		in.sin_addr.s_addr = htonl(0x0a410000u | (n & 0x3ff));
		bad += sfy_bypassmap_has((struct sockaddr *)&in);
	}
	atomic_store(&stop, true);
	for (n = 0; n < 2; n++)
		pthread_join(t[n], NULL);
	ck_assert_int_eq(bad, 0);
}
END_TEST

/* fork() while another thread writes: every child can still read and
 * write the table (a lock copied held is taken over), none hangs. */
START_TEST(map_fork_while_writing)
{
	pthread_t t;
	int i, status, hung = 0, failed = 0;
	pid_t pid;

	atomic_store(&stop, false);
	ck_assert_int_eq(pthread_create(&t, NULL, churn, NULL), 0);
	for (i = 0; i < 300; i++) {
		pid = fork();
		ck_assert_int_ge(pid, 0);
		if (pid == 0) {
			alarm(5);
			sfy_bypassmap_add(addr("203.0.113.77", 0));
			sfy_bypassmap_forget(addr("10.64.0.1", 0));
			_exit(sfy_bypassmap_has(addr("203.0.113.77", 0)) ? 0 : 1);
		}
		ck_assert_int_eq(waitpid(pid, &status, 0), pid);
		if (WIFSIGNALED(status) && WTERMSIG(status) == SIGALRM)
			hung++;
		else if (!WIFEXITED(status) || WEXITSTATUS(status))
			failed++;
	}
	atomic_store(&stop, true);
	pthread_join(t, NULL);
	ck_assert_int_eq(hung, 0);
	ck_assert_int_eq(failed, 0);
}
END_TEST

static Suite *policy_suite(void)
{
	Suite *s = suite_create("policy");
	TCase *tc = tcase_create("cidr");
	TCase *td = tcase_create("decide");
	TCase *tm;

	tcase_add_loop_test(tc, cidr_parse_table, 0,
			    sizeof(cidr_cases) / sizeof(cidr_cases[0]));
	tcase_add_test(tc, cidr_match);
	tcase_add_test(tc, dnat_rules);
	suite_add_tcase(s, tc);
	tcase_add_test(td, config_as_set_by_main);
	tcase_add_test(td, direct_addresses);
	tcase_add_loop_test(td, direct_names, 0,
			    sizeof(name_cases) / sizeof(name_cases[0]));
	tcase_add_test(td, direct_name_null);
	suite_add_tcase(s, td);
	tm = tcase_create("bypassed-addresses");
	tcase_add_checked_fixture(tm, bypass_setup, NULL);
	tcase_add_test(tm, map_add_forget);
	tcase_add_test(tm, map_full);
	tcase_add_test(tm, note_addrinfo);
	tcase_add_test(tm, note_hostent);
	tcase_add_test(tm, map_concurrent);
	tcase_add_test(tm, map_fork_while_writing);
	tcase_set_timeout(tm, 60);
	suite_add_tcase(s, tm);
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
		       "10.0.0.0/8,192.168.1.0/24,.example.com,exact.test,2001:db8::/32,"
		       "*.wild.test,Trail.Test.,[2001:db9::7],172.30.0.0:8080/16,"
		       "[2001:dba::]:443/32,192.0.2.9:53",
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
