/*
 * Configuration parsing (preload/base/config.c) through sfy_config_parse with a
 * scripted environment: every variable, its default, its fallbacks, and
 * for every bad value: broken set, one message naming the variable, no
 * password in it. Messages are read back from SOCKSIFY_LOG_FILE.
 */
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/config.h"
#include "base/log.h"
#include "route/bypasslist.h"
#include "route/policy.h"

/* The scripted environment: NAME=VALUE pairs, NULL-terminated. */
static const char *const *env_now;
static char log_path[64];

static char *fake_getenv(const char *name)
{
	size_t n = strlen(name);
	const char *const *e;

	for (e = env_now; e && *e; e++)
		if (!strncmp(*e, name, n) && (*e)[n] == '=')
			return (char *)*e + n + 1;
	if (!strcmp(name, "SOCKSIFY_LOG_FILE") && log_path[0])
		return log_path;
	return NULL;
}

static void setup(void)
{
	int fd;

	snprintf(log_path, sizeof(log_path), "/tmp/sfy-test-config.XXXXXX");
	fd = mkstemp(log_path);
	ck_assert_int_ge(fd, 0);
	close(fd);
}

static void teardown(void)
{
	unlink(log_path);
	log_path[0] = '\0';
}

static int parse(struct sfy_config *c, const char *const *env)
{
	env_now = env;
	return sfy_config_parse(c, fake_getenv);
}

/* What the library logged so far. */
static const char *logged(void)
{
	static char buf[8192];
	FILE *f = fopen(log_path, "r");
	size_t n = 0;

	if (f) {
		n = fread(buf, 1, sizeof(buf) - 1, f);
		fclose(f);
	}
	buf[n] = '\0';
	return buf;
}

static int count_lines(const char *s)
{
	int n = 0;

	for (; *s; s++)
		n += *s == '\n';
	return n;
}

#define PX "SOCKSIFY_PROXY=socks5://127.0.0.1:1080"

START_TEST(no_proxy_changes_nothing)
{
	const char *env[] = { "SOCKSIFY_TIMEOUT_MS=nonsense",
			      "SOCKSIFY_NO_PROXY=bad item!",
			      "ALL_PROXY=http://web.proxy:3128", NULL };
	struct sfy_config c;

	ck_assert_int_eq(parse(&c, env), 0);
	ck_assert(!c.enabled);
	ck_assert(!c.broken);
	ck_assert_int_eq(c.log_fd, 2);
	ck_assert_str_eq(logged(), "");
}
END_TEST

START_TEST(single_proxy_defaults)
{
	const char *env[] = { "SOCKSIFY_PROXY=socks5://alice:secret@proxy.test:1081",
			      NULL };
	struct sfy_config c;

	ck_assert_int_eq(parse(&c, env), 0);
	ck_assert(c.enabled);
	ck_assert(!c.broken);
	ck_assert_int_eq(c.nhops, 1);
	ck_assert_str_eq(c.chain[0].host, "proxy.test");
	ck_assert_int_eq(c.chain[0].port, 1081);
	ck_assert_str_eq(c.chain[0].user, "alice");
	ck_assert_int_eq(c.dns, SFY_DNS_LOCAL);
	ck_assert_int_eq(c.udp, SFY_UDP_PROXY);
	ck_assert_int_eq(c.timeout_ms, 10000);
	ck_assert_int_eq(c.log_level, SFY_LOG_WARN);
	/* default bypass: loopback, localhost (+ unspecified addresses) */
	ck_assert(!c.bypass.all);
	ck_assert_int_ge(c.bypass.ncidrs, 2);
	ck_assert_int_eq(c.bypass.nnames, 1);
	ck_assert_str_eq(c.bypass.names[0], "localhost");
	ck_assert_int_eq(c.fake4.family, AF_INET);
	ck_assert_int_eq(c.fake4.prefix, 15);
	ck_assert_int_eq(c.fake4.addr[0], 198);
	ck_assert_int_eq(c.fake4.addr[1], 18);
	ck_assert_int_eq(c.fake6.family, AF_INET6);
	ck_assert_int_eq(c.fake6.prefix, 64);
	ck_assert_int_eq(c.fake6.addr[0], 0xfd);
	ck_assert_str_eq(logged(), "");
}
END_TEST

START_TEST(dns_default_follows_last_hop)
{
	const char *a[] = { "SOCKSIFY_PROXY=socks5://a:1,socks5h://b:2", NULL };
	const char *b[] = { "SOCKSIFY_PROXY=socks5h://a:1,socks5://b:2", NULL };
	const char *c1[] = { "SOCKSIFY_PROXY=socks5h://a:1", NULL };
	const char *d[] = { "SOCKSIFY_PROXY=socks5h://a:1", "SOCKSIFY_DNS=local",
			    NULL };
	const char *e[] = { "SOCKSIFY_PROXY=socks5://a:1", "SOCKSIFY_DNS=Remote",
			    NULL };
	struct sfy_config c;

	ck_assert_int_eq(parse(&c, a), 0);
	ck_assert_int_eq(c.nhops, 2);
	ck_assert_str_eq(c.chain[1].host, "b");
	ck_assert_int_eq(c.dns, SFY_DNS_REMOTE);
	ck_assert_int_eq(parse(&c, b), 0);
	ck_assert_int_eq(c.dns, SFY_DNS_LOCAL);
	ck_assert_int_eq(parse(&c, c1), 0);
	ck_assert_int_eq(c.dns, SFY_DNS_REMOTE);
	ck_assert_int_eq(parse(&c, d), 0);
	ck_assert_int_eq(c.dns, SFY_DNS_LOCAL);
	ck_assert_int_eq(parse(&c, e), 0);
	ck_assert_int_eq(c.dns, SFY_DNS_REMOTE);
}
END_TEST

START_TEST(all_proxy_fallback)
{
	const char *upper[] = { "ALL_PROXY=socks5h://up.test:9050",
				"all_proxy=socks5://low.test", NULL };
	const char *lower[] = { "all_proxy=SOCKS5://low.test", NULL };
	const char *http[] = { "ALL_PROXY=http://web.test:3128",
			       "all_proxy=socks5://low.test", NULL };
	const char *ours_empty[] = { "SOCKSIFY_PROXY=",
				     "ALL_PROXY=socks5://up.test", NULL };
	const char *ours_first[] = { "SOCKSIFY_PROXY=socks5://mine.test",
				     "ALL_PROXY=socks5://up.test", NULL };
	struct sfy_config c;

	ck_assert_int_eq(parse(&c, upper), 0);
	ck_assert(c.enabled);
	ck_assert_str_eq(c.chain[0].host, "up.test");
	ck_assert_int_eq(c.chain[0].port, 9050);
	ck_assert_int_eq(c.dns, SFY_DNS_REMOTE);
	ck_assert_int_eq(parse(&c, lower), 0);
	ck_assert_str_eq(c.chain[0].host, "low.test");
	/* An HTTP ALL_PROXY is another tool's business, not a fallback. */
	ck_assert_int_eq(parse(&c, http), 0);
	ck_assert(!c.enabled);
	/* Set but empty: explicitly no proxy. */
	ck_assert_int_eq(parse(&c, ours_empty), 0);
	ck_assert(!c.enabled);
	ck_assert_int_eq(parse(&c, ours_first), 0);
	ck_assert_str_eq(c.chain[0].host, "mine.test");
}
END_TEST

/* A bad proxy URL: broken, one message naming the variable, no password. */
START_TEST(bad_proxy_url)
{
	const char *env[] = { "SOCKSIFY_PROXY=socks5://bob:hunter2@host.test:99999",
			      NULL };
	const char *all[] = { "ALL_PROXY=socks5h://bob:hunter2@", NULL };
	struct sfy_config c;
	const char *l;

	ck_assert_int_eq(parse(&c, env), -EINVAL);
	ck_assert(c.enabled);
	ck_assert(c.broken);
	ck_assert_int_eq(c.broken_errno, ECONNREFUSED);
	l = logged();
	ck_assert_int_eq(count_lines(l), 1);
	ck_assert_ptr_nonnull(strstr(l, "error: SOCKSIFY_PROXY: "));
	ck_assert_ptr_nonnull(strstr(l, "port"));
	ck_assert_ptr_null(strstr(l, "hunter2"));
	ck_assert_int_eq(parse(&c, all), -EINVAL);
	ck_assert(c.broken);
	l = logged();
	ck_assert_ptr_nonnull(strstr(l, "error: ALL_PROXY: "));
	ck_assert_ptr_null(strstr(l, "hunter2"));
}
END_TEST

START_TEST(log_file_is_high_and_cloexec)
{
	const char *env[] = { PX, "SOCKSIFY_LOG=debug", NULL };
	struct sfy_config c;

	ck_assert_int_eq(parse(&c, env), 0);
	ck_assert_int_ge(c.log_fd, 100);
	ck_assert_int_eq(fcntl(c.log_fd, F_GETFD) & FD_CLOEXEC, FD_CLOEXEC);
	ck_assert_int_eq(fcntl(c.log_fd, F_GETFL) & O_APPEND, O_APPEND);
	ck_assert_int_eq(c.log_level, SFY_LOG_DEBUG);
	ck_assert_int_eq(sfy_log_level(), SFY_LOG_DEBUG);
	/* the configuration is described at debug level, password masked */
	ck_assert_ptr_nonnull(strstr(logged(), "proxy hop 1 of 1: socks5://127.0.0.1:1080"));
}
END_TEST

START_TEST(log_levels)
{
	static const char *const names[] = { "error", "warn", "info", "debug",
					     "WARNING", "Info" };
	static const int levels[] = { SFY_LOG_ERROR, SFY_LOG_WARN, SFY_LOG_INFO,
				      SFY_LOG_DEBUG, SFY_LOG_WARN, SFY_LOG_INFO };
	char var[64];
	const char *env[] = { PX, var, NULL };
	const char *bad[] = { PX, "SOCKSIFY_LOG=loud", NULL };
	struct sfy_config c;
	size_t i;

	for (i = 0; i < sizeof(levels) / sizeof(levels[0]); i++) {
		snprintf(var, sizeof(var), "SOCKSIFY_LOG=%s", names[i]);
		ck_assert_int_eq(parse(&c, env), 0);
		ck_assert_int_eq(c.log_level, levels[i]);
	}
	ck_assert_int_eq(parse(&c, bad), -EINVAL);
	ck_assert(c.broken);
	ck_assert_ptr_nonnull(strstr(logged(), "SOCKSIFY_LOG: 'loud'"));
}
END_TEST

START_TEST(bypass_lists)
{
	const char *env[] = { PX,
			      "SOCKSIFY_NO_PROXY= 10.0.0.0/8, .Example.COM,host.test,*.wild.test,"
			      "::1,[2001:db8::]/32 192.168.1.7,trailing.test.",
			      NULL };
	const char *empty[] = { PX, "SOCKSIFY_NO_PROXY=", "NO_PROXY=10.0.0.0/8",
				NULL };
	const char *star[] = { PX, "SOCKSIFY_NO_PROXY=*", NULL };
	struct sfy_config c;

	ck_assert_int_eq(parse(&c, env), 0);
	ck_assert_int_eq(c.bypass.ncidrs, 4);
	ck_assert_int_eq(c.bypass.cidrs[0].family, AF_INET);
	ck_assert_int_eq(c.bypass.cidrs[0].prefix, 8);
	ck_assert_int_eq(c.bypass.cidrs[2].family, AF_INET6);
	ck_assert_int_eq(c.bypass.cidrs[2].prefix, 32);
	ck_assert_int_eq(c.bypass.cidrs[3].prefix, 32);
	/* Stored as curl reads them: "x", ".x" and "*.x" all mean x and
	 * every name under it, so the leading dot is dropped. */
	ck_assert_int_eq(c.bypass.nnames, 4);
	ck_assert_str_eq(c.bypass.names[0], "example.com");
	ck_assert_str_eq(c.bypass.names[1], "host.test");
	ck_assert_str_eq(c.bypass.names[2], "wild.test");
	ck_assert_str_eq(c.bypass.names[3], "trailing.test");
	ck_assert(!c.bypass.all);

	/* Ours set but empty: proxy everything, NO_PROXY not consulted. */
	ck_assert_int_eq(parse(&c, empty), 0);
	ck_assert_int_eq(c.bypass.ncidrs, 0);
	ck_assert_int_eq(c.bypass.nnames, 0);
	ck_assert(!c.bypass.all);

	ck_assert_int_eq(parse(&c, star), 0);
	ck_assert(c.bypass.all);
}
END_TEST

/* "localhost" on the list makes loopback direct: programs such as curl
 * answer localhost names themselves, so no resolution would show the
 * addresses. Only what no range of the list covers yet is added. */
START_TEST(localhost_implies_loopback)
{
	static const struct {
		const char *list;
		int ncidrs;
	} cases[] = {
		{ "SOCKSIFY_NO_PROXY=localhost", 2 },
		{ "SOCKSIFY_NO_PROXY=LocalHost.", 2 },
		{ "SOCKSIFY_NO_PROXY=10.0.0.0/8,app.localhost", 3 },
		{ "SOCKSIFY_NO_PROXY=127.0.0.0/8,.localhost", 2 },
		{ "SOCKSIFY_NO_PROXY=::1,127.0.0.1,localhost", 2 },
		{ "SOCKSIFY_NO_PROXY=notlocalhost,localhost.example", 0 },
		{ "NO_PROXY=localhost", 2 },
	};
	struct sfy_config c;
	struct sockaddr_in in;
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const char *env[] = { PX, cases[i].list, NULL };

		ck_assert_int_eq(parse(&c, env), 0);
		ck_assert_msg(c.bypass.ncidrs == cases[i].ncidrs,
			      "%s: %d ranges", cases[i].list, c.bypass.ncidrs);
	}
	/* the first case's: exactly 127.0.0.1 */
	{
		const char *env[] = { PX, cases[0].list, NULL };

		ck_assert_int_eq(parse(&c, env), 0);
		memset(&in, 0, sizeof(in));
		in.sin_family = AF_INET;
		in.sin_addr.s_addr = htonl(0x7f000001);
		ck_assert(sfy_cidr_match(&c.bypass.cidrs[0],
					 (struct sockaddr *)&in));
		in.sin_addr.s_addr = htonl(0x7f000002);
		ck_assert(!sfy_cidr_match(&c.bypass.cidrs[0],
					  (struct sockaddr *)&in));
	}
}
END_TEST

START_TEST(no_proxy_fallbacks)
{
	const char *upper[] = { PX, "NO_PROXY=.corp.test", "no_proxy=other.test",
				NULL };
	const char *lower[] = { PX, "no_proxy=other.test", NULL };
	const char *upper_empty[] = { PX, "NO_PROXY=", "no_proxy=other.test",
				      NULL };
	struct sfy_config c;

	ck_assert_int_eq(parse(&c, upper), 0);
	ck_assert_int_eq(c.bypass.nnames, 1);
	ck_assert_str_eq(c.bypass.names[0], "corp.test");
	ck_assert_int_eq(c.bypass.ncidrs, 0); /* replaces the default */
	ck_assert_int_eq(parse(&c, lower), 0);
	ck_assert_str_eq(c.bypass.names[0], "other.test");
	/* Another tool's empty NO_PROXY is as good as unset. */
	ck_assert_int_eq(parse(&c, upper_empty), 0);
	ck_assert_str_eq(c.bypass.names[0], "other.test");
}
END_TEST

START_TEST(bad_bypass_fails_closed)
{
	const char *bad[] = { PX, "SOCKSIFY_NO_PROXY=10.0.0.0/8,host:8080", NULL };
	const char *badcidr[] = { PX, "NO_PROXY=10.0.0.0/33", NULL };
	char many[2048] = "", item[16];
	const char *toomany[] = { PX, many, NULL };
	struct sfy_config c;
	int i;

	ck_assert_int_eq(parse(&c, bad), -EINVAL);
	ck_assert(c.broken);
	/* nothing goes direct by accident */
	ck_assert_int_eq(c.bypass.ncidrs, 0);
	ck_assert_int_eq(c.bypass.nnames, 0);
	ck_assert_ptr_nonnull(strstr(logged(), "SOCKSIFY_NO_PROXY: 'host:8080'"));

	/* Nothing left after the dots: not a name. */
	for (i = 0; i < 4; i++) {
		static const char *const dots[] = {
			"SOCKSIFY_NO_PROXY=.", "SOCKSIFY_NO_PROXY=..",
			"SOCKSIFY_NO_PROXY=*.", "SOCKSIFY_NO_PROXY=..x.test" };
		const char *d[] = { PX, dots[i], NULL };

		ck_assert_msg(parse(&c, d) == -EINVAL, "accepted %s", dots[i]);
		ck_assert_int_eq(c.bypass.nnames, 0);
	}

	ck_assert_int_eq(parse(&c, badcidr), -EINVAL);
	ck_assert_ptr_nonnull(strstr(logged(), "NO_PROXY: '10.0.0.0/33'"));

	/* A port after an address: 1..65535, digits only, before the
	 * prefix; "ADDR/N:PORT" and a port on a name are refused. */
	for (i = 0; i < 8; i++) {
		static const char *const ports[] = {
			"SOCKSIFY_NO_PROXY=10.0.0.1:0", "SOCKSIFY_NO_PROXY=10.0.0.1:65536",
			"SOCKSIFY_NO_PROXY=10.0.0.1:", "SOCKSIFY_NO_PROXY=10.0.0.1:8x",
			"SOCKSIFY_NO_PROXY=10.0.0.0/8:80", "SOCKSIFY_NO_PROXY=[::1]:",
			"SOCKSIFY_NO_PROXY=10.0.0.0:80/33", "SOCKSIFY_NO_PROXY=a.test:80" };
		const char *d[] = { PX, ports[i], NULL };

		ck_assert_msg(parse(&c, d) == -EINVAL, "accepted %s", ports[i]);
		ck_assert_int_eq(c.bypass.ncidrs, 0);
	}

	strcpy(many, "SOCKSIFY_NO_PROXY=");
	for (i = 0; i < 65; i++) {
		snprintf(item, sizeof(item), "10.0.%d.0/24,", i);
		strcat(many, item);
	}
	ck_assert_int_eq(parse(&c, toomany), -EINVAL);
	ck_assert_ptr_nonnull(strstr(logged(), "too many entries"));
}
END_TEST

START_TEST(udp_modes)
{
	const char *d[] = { PX, "SOCKSIFY_UDP=direct", NULL };
	const char *b[] = { PX, "SOCKSIFY_UDP=BLOCK", NULL };
	const char *p[] = { PX, "SOCKSIFY_UDP=proxy", NULL };
	const char *bad[] = { PX, "SOCKSIFY_UDP=maybe", NULL };
	struct sfy_config c;

	ck_assert_int_eq(parse(&c, d), 0);
	ck_assert_int_eq(c.udp, SFY_UDP_DIRECT);
	ck_assert_int_eq(parse(&c, b), 0);
	ck_assert_int_eq(c.udp, SFY_UDP_BLOCK);
	ck_assert_int_eq(parse(&c, p), 0);
	ck_assert_int_eq(c.udp, SFY_UDP_PROXY);
	ck_assert_int_eq(parse(&c, bad), -EINVAL);
	ck_assert_ptr_nonnull(strstr(logged(), "SOCKSIFY_UDP: 'maybe'"));
}
END_TEST

START_TEST(bad_dns)
{
	const char *bad[] = { PX, "SOCKSIFY_DNS=proxy", NULL };
	struct sfy_config c;

	ck_assert_int_eq(parse(&c, bad), -EINVAL);
	ck_assert_ptr_nonnull(strstr(logged(), "SOCKSIFY_DNS: 'proxy'"));
}
END_TEST

START_TEST(timeouts)
{
	static const char *const good[] = { "1", "250", "600000" };
	static const int want[] = { 1, 250, 600000 };
	static const char *const bad[] = { "0", "600001", "-5", "12ab", " 5",
					   "+5", "99999999999999999999", "1.5" };
	char var[64];
	const char *env[] = { PX, var, NULL };
	struct sfy_config c;
	size_t i;

	for (i = 0; i < 3; i++) {
		snprintf(var, sizeof(var), "SOCKSIFY_TIMEOUT_MS=%s", good[i]);
		ck_assert_int_eq(parse(&c, env), 0);
		ck_assert_int_eq(c.timeout_ms, want[i]);
	}
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		snprintf(var, sizeof(var), "SOCKSIFY_TIMEOUT_MS=%s", bad[i]);
		ck_assert_msg(parse(&c, env) == -EINVAL, "accepted '%s'", bad[i]);
		ck_assert(c.broken);
		ck_assert_int_eq(c.timeout_ms, 10000);
	}
	ck_assert_ptr_nonnull(strstr(logged(), "SOCKSIFY_TIMEOUT_MS: '0'"));
}
END_TEST

START_TEST(chain_modes)
{
	static const char *const names[] = { "strict", "Dynamic", "random",
					     "round-robin" };
	static const struct { const char *mode, *len; const char *why; } bad[] = {
		{ "fifo", NULL, "SOCKSIFY_CHAIN: 'fifo' is not strict, dynamic, random or round-robin" },
		{ "round_robin", NULL, "SOCKSIFY_CHAIN: 'round_robin'" },
		{ "random", "0", "SOCKSIFY_CHAIN_LEN: '0' is not a number of hops in 1..3" },
		{ "random", "4", "SOCKSIFY_CHAIN_LEN: '4'" },
		{ "round-robin", "2x", "SOCKSIFY_CHAIN_LEN: '2x'" },
		{ "round-robin", "-1", "SOCKSIFY_CHAIN_LEN: '-1'" },
		{ "dynamic", "2", "only SOCKSIFY_CHAIN=random or round-robin takes a length" },
		{ NULL, "2", "SOCKSIFY_CHAIN_LEN: '2' is given" },
	};
	char mode[64], len[64];
	const char *three = "SOCKSIFY_PROXY=socks5://127.0.0.1:1,http://127.0.0.2:2,socks4://127.0.0.3:3";
	const char *env[] = { three, mode, len, NULL };
	struct sfy_config c;
	size_t i;

	env[1] = NULL;
	ck_assert_int_eq(parse(&c, env), 0);
	ck_assert_int_eq(c.chain_mode, SFY_CHAIN_STRICT);
	ck_assert_uint_eq(c.chain_len, 3);
	env[1] = mode;
	for (i = 0; i < 4; i++) {
		snprintf(mode, sizeof(mode), "SOCKSIFY_CHAIN=%s", names[i]);
		env[2] = NULL;
		ck_assert_int_eq(parse(&c, env), 0);
		ck_assert_int_eq(c.chain_mode, (int)i);
		/* random and round-robin: one hop unless told */
		ck_assert_uint_eq(c.chain_len, i >= 2 ? 1 : 3);
	}
	snprintf(len, sizeof(len), "SOCKSIFY_CHAIN_LEN=3");
	env[2] = len;
	ck_assert_int_eq(parse(&c, env), 0);
	ck_assert_uint_eq(c.chain_len, 3);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		snprintf(mode, sizeof(mode), "SOCKSIFY_CHAIN=%s",
			 bad[i].mode ? bad[i].mode : "");
		snprintf(len, sizeof(len), "SOCKSIFY_CHAIN_LEN=%s",
			 bad[i].len ? bad[i].len : "");
		ck_assert_msg(parse(&c, env) == -EINVAL, "accepted %zu", i);
		ck_assert(c.broken);
		ck_assert_msg(strstr(logged(), bad[i].why), "no '%s' in %s",
			      bad[i].why, logged());
	}
}
END_TEST

START_TEST(fake_nets)
{
	const char *v4[] = { PX, "SOCKSIFY_FAKE_NET=10.99.0.0/16", NULL };
	const char *both[] = { PX, "SOCKSIFY_FAKE_NET=fd00:1::/64,100.64.0.0/10",
			       NULL };
	const char *two4[] = { PX, "SOCKSIFY_FAKE_NET=10.0.0.0/16,10.1.0.0/16",
			       NULL };
	const char *small[] = { PX, "SOCKSIFY_FAKE_NET=10.0.0.0/30", NULL };
	const char *junk[] = { PX, "SOCKSIFY_FAKE_NET=fake", NULL };
	const char *stray[] = { PX, "SOCKSIFY_FAKE_NET=10.0.0.0/16,", NULL };
	struct sfy_config c;

	ck_assert_int_eq(parse(&c, v4), 0);
	ck_assert_int_eq(c.fake4.addr[0], 10);
	ck_assert_int_eq(c.fake4.addr[1], 99);
	ck_assert_int_eq(c.fake4.prefix, 16);
	ck_assert_int_eq(c.fake6.addr[0], 0xfd); /* default kept */
	ck_assert_int_eq(c.fake6.addr[1], 0x53);
	ck_assert_int_eq(parse(&c, both), 0);
	ck_assert_int_eq(c.fake4.addr[0], 100);
	ck_assert_int_eq(c.fake4.prefix, 10);
	ck_assert_int_eq(c.fake6.addr[1], 0x00);
	ck_assert_int_eq(c.fake6.addr[3], 0x01);
	ck_assert_int_eq(parse(&c, two4), -EINVAL);
	ck_assert_int_eq(parse(&c, small), -EINVAL);
	ck_assert_int_eq(parse(&c, junk), -EINVAL);
	ck_assert_int_eq(parse(&c, stray), -EINVAL);
	ck_assert_ptr_nonnull(strstr(logged(), "SOCKSIFY_FAKE_NET: 'fake'"));
}
END_TEST

/* The defaults built in as values are exactly what their texts parse to
 * (README and the man page give the texts). */
/* SOCKSIFY_DNAT set by hand agrees with -f (tools/proxychains_dnat.c):
 * a rule the no-proxy list makes dead (its original bypassed, its new
 * address not) fails closed, naming both; the others stand. */
START_TEST(dnat_against_no_proxy)
{
	const char *dead[] = { PX, "SOCKSIFY_NO_PROXY=10.0.0.0/8",
			       "SOCKSIFY_DNAT=192.0.2.1=198.51.100.1,10.0.0.1=11.0.0.2",
			       NULL };
	const char *loop[] = { PX, "SOCKSIFY_DNAT=127.0.0.1:8080=198.51.100.1:80",
			       NULL };
	const char *port[] = { PX, "SOCKSIFY_NO_PROXY=10.0.0.0:80/8",
			       "SOCKSIFY_DNAT=10.0.0.1:443=11.0.0.2,10.0.0.1:80=10.0.0.2",
			       NULL };
	const char *ok[] = { PX, "SOCKSIFY_NO_PROXY=10.0.0.0/8,192.168.0.0/16",
			     "SOCKSIFY_DNAT=10.0.0.1=192.168.1.1,11.0.0.1=10.0.0.1",
			     NULL };
	const char *all[] = { PX, "SOCKSIFY_NO_PROXY=*",
			      "SOCKSIFY_DNAT=10.0.0.1=11.0.0.2", NULL };
	const char *none[] = { PX, "SOCKSIFY_NO_PROXY=",
			       "SOCKSIFY_DNAT=127.0.0.1=11.0.0.2", NULL };
	struct sfy_config c;

	ck_assert_int_eq(parse(&c, dead), -EINVAL);
	ck_assert(c.broken);
	ck_assert_int_eq(c.dnat.n, 0);
	ck_assert_ptr_nonnull(strstr(logged(), "SOCKSIFY_DNAT: 10.0.0.1 is in the no-proxy list and 11.0.0.2 is not"));
	/* the default list's loopback counts */
	ck_assert_int_eq(parse(&c, loop), -EINVAL);
	ck_assert_ptr_nonnull(strstr(logged(), "127.0.0.1 is in the no-proxy list and 198.51.100.1 is not"));
	/* a range with a port: the rule for another port is alive; for the
	 * new address only a range for every port counts (as -f judges) */
	ck_assert_int_eq(parse(&c, port), -EINVAL);
	ck_assert_ptr_nonnull(strstr(logged(), "10.0.0.1 is in the no-proxy list and 10.0.0.2 is not"));
	ck_assert_int_eq(parse(&c, ok), 0);
	ck_assert_int_eq(c.dnat.n, 2);
	ck_assert_int_eq(parse(&c, all), 0);
	ck_assert_int_eq(parse(&c, none), 0);
	ck_assert_int_eq(c.dnat.n, 1);
}
END_TEST

START_TEST(defaults_equal_their_texts)
{
	const char *unset[] = { PX, NULL };
	const char *texts[] = {
		PX, "SOCKSIFY_NO_PROXY=" SFY_DEFAULT_BYPASS,
		"SOCKSIFY_FAKE_NET=198.18.0.0/15,fd53:6f63:6b73:6966::/64", NULL
	};
	static struct sfy_config a, b;

	memset(&a, 0, sizeof(a));
	memset(&b, 0, sizeof(b));
	ck_assert_int_eq(parse(&a, unset), 0);
	ck_assert_int_eq(parse(&b, texts), 0);
	ck_assert_int_eq(a.bypass.all, b.bypass.all);
	ck_assert_int_eq(a.bypass.ncidrs, 4);
	ck_assert_int_eq(a.bypass.ncidrs, b.bypass.ncidrs);
	ck_assert_int_eq(a.bypass.nnames, b.bypass.nnames);
	ck_assert(!memcmp(a.bypass.cidrs, b.bypass.cidrs,
			  sizeof(a.bypass.cidrs[0]) * (size_t)a.bypass.ncidrs));
	ck_assert_str_eq(a.bypass.names[0], b.bypass.names[0]);
	ck_assert(!memcmp(&a.fake4, &b.fake4, sizeof(a.fake4)));
	ck_assert(!memcmp(&a.fake6, &b.fake6, sizeof(a.fake6)));
}
END_TEST

/* errno is the caller's after parsing, good or bad. */
START_TEST(errno_preserved)
{
	const char *bad[] = { "SOCKSIFY_PROXY=nonsense", NULL };
	struct sfy_config c;

	errno = 1234;
	parse(&c, bad);
	ck_assert_int_eq(errno, 1234);
}
END_TEST

static Suite *config_suite(void)
{
	Suite *s = suite_create("config");
	TCase *tc = tcase_create("parse");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, no_proxy_changes_nothing);
	tcase_add_test(tc, single_proxy_defaults);
	tcase_add_test(tc, dns_default_follows_last_hop);
	tcase_add_test(tc, all_proxy_fallback);
	tcase_add_test(tc, bad_proxy_url);
	tcase_add_test(tc, log_file_is_high_and_cloexec);
	tcase_add_test(tc, log_levels);
	tcase_add_test(tc, bypass_lists);
	tcase_add_test(tc, no_proxy_fallbacks);
	tcase_add_test(tc, localhost_implies_loopback);
	tcase_add_test(tc, bad_bypass_fails_closed);
	tcase_add_test(tc, udp_modes);
	tcase_add_test(tc, bad_dns);
	tcase_add_test(tc, timeouts);
	tcase_add_test(tc, chain_modes);
	tcase_add_test(tc, fake_nets);
	tcase_add_test(tc, dnat_against_no_proxy);
	tcase_add_test(tc, defaults_equal_their_texts);
	tcase_add_test(tc, errno_preserved);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(config_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
