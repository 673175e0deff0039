/*
 * proxychains-ng configuration reader (tools/proxychains_conf.c): what is
 * translated, what is refused with the file and line named, and that a
 * password never shows up in a message.
 */
#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../../tools/proxychains_conf.h"
#include "socks5.h"

static char err[512];

static int parse(const char *text, bool strict, struct sfy_pc *pc)
{
	return sfy_pc_parse(text, strlen(text), "pc.conf", strict, pc, err,
			    sizeof(err));
}

/* The stock Debian file with a socks5 entry instead of Tor's socks4. */
START_TEST(test_debian_default)
{
	const char *conf =
		"# proxychains.conf  VER 4.x\n"
		"#dynamic_chain\n"
		"strict_chain\n"
		"#chain_len = 2\n"
		"proxy_dns\n"
		"remote_dns_subnet 224\n"
		"tcp_read_time_out 15000\n"
		"tcp_connect_time_out 8000\n"
		"# localnet 127.0.0.0/255.0.0.0\n"
		"[ProxyList]\n"
		"# add proxy here ...\n"
		"socks5 \t127.0.0.1 9050\n";
	struct sfy_pc pc;

	ck_assert_int_eq(parse(conf, false, &pc), 0);
	ck_assert_str_eq(pc.proxy, "socks5h://127.0.0.1:9050");
	ck_assert_uint_eq(pc.nhops, 1);
	ck_assert(pc.remote_dns);
	ck_assert(!pc.quiet);
	ck_assert_int_eq(pc.timeout_ms, 23000);
	ck_assert_str_eq(pc.fake_net, "224.0.0.0/8");
	ck_assert_str_eq(pc.no_proxy, ""); /* proxychains proxies loopback too */
	/* one bound for the whole connection: said once, at the first line */
	ck_assert_int_eq(pc.nwarn, 1);
	ck_assert_msg(strstr(pc.warn[0], "pc.conf:7: ") == pc.warn[0] &&
		      strstr(pc.warn[0], "their sum, 23000 ms"), "%s", pc.warn[0]);
	sfy_pc_free(&pc);
}
END_TEST

START_TEST(test_chain_auth_localnet)
{
	const char *conf =
		"strict_chain\r\n"
		"quiet_mode\n"
		"localnet 127.0.0.0/255.0.0.0\n"
		"localnet 10.0.0.0/8\n"
		"localnet 172.16.0.0/255.240.0.0\n"
		"localnet ::1/128\n"
		"localnet 192.168.1.0:80/255.255.255.0\n"
		"localnet [fe80::]:443/10\n"
		"localnet 10.9.0.0:0/16\n"
		"[ProxyList]\n"
		"socks5 192.0.2.1 1080 alice s3cr#t:@x # a comment\n"
		"socks5 2001:db8::1 1081\n"
		"socks5\tproxy.example\t1082\tbob\tpw\n";
	struct sfy_pc pc;

	ck_assert_int_eq(parse(conf, false, &pc), 0);
	ck_assert_str_eq(pc.proxy,
			 "socks5://alice:s3cr%23t%3A%40x@192.0.2.1:1080,"
			 "socks5://[2001:db8::1]:1081,"
			 "socks5://bob:pw@proxy.example:1082");
	ck_assert_uint_eq(pc.nhops, 3);
	ck_assert(!pc.remote_dns);
	ck_assert(pc.quiet);
	ck_assert_int_eq(pc.timeout_ms, 0);
	ck_assert_str_eq(pc.fake_net, "");
	ck_assert_str_eq(pc.no_proxy,
			 "127.0.0.0/8,10.0.0.0/8,172.16.0.0/12,::1/128,"
			 "192.168.1.0:80/24,[fe80::]:443/10,10.9.0.0/16");
	sfy_pc_free(&pc);
}
END_TEST

START_TEST(test_dnat)
{
	const char *conf =
		"dnat 1.1.1.1 1.1.1.2\n"
		"dnat 1.1.1.1:443 1.1.1.2:8443\n"
		"dnat\t2.2.2.2:0  3.3.3.3:x\n"
		"localnet 10.0.0.0/8\n"
		"dnat 10.1.1.1 10.2.2.2\n"
		"dnat 11.1.1.1 10.2.2.2\n"
		"[ProxyList]\n"
		"socks5 127.0.0.1 1\n";
	struct sfy_pc pc;

	ck_assert_int_eq(parse(conf, false, &pc), 0);
	ck_assert_str_eq(pc.dnat, "1.1.1.1=1.1.1.2,1.1.1.1:443=1.1.1.2:8443,"
				  "2.2.2.2=3.3.3.3,10.1.1.1=10.2.2.2,"
				  "11.1.1.1=10.2.2.2");
	sfy_pc_free(&pc);
	ck_assert_int_eq(parse("[ProxyList]\nsocks5 127.0.0.1 1\n", false, &pc), 0);
	ck_assert_ptr_null(pc.dnat);
	sfy_pc_free(&pc);
}
END_TEST

START_TEST(test_one_timeout)
{
	struct sfy_pc pc;

	ck_assert_int_eq(parse("tcp_connect_time_out 700\n[ProxyList]\n"
			       "socks5 127.0.0.1 1\n", false, &pc), 0);
	ck_assert_int_eq(pc.timeout_ms, 4700); /* proxychains' read default */
	sfy_pc_free(&pc);
	ck_assert_int_eq(parse("tcp_read_time_out 300\n[ProxyList]\n"
			       "socks5 127.0.0.1 1\n", false, &pc), 0);
	ck_assert_int_eq(pc.timeout_ms, 10300); /* its connect default */
	sfy_pc_free(&pc);
	ck_assert_int_eq(parse("tcp_connect_time_out 500000\n"
			       "tcp_read_time_out 500000\n[ProxyList]\n"
			       "socks5 127.0.0.1 1\n", false, &pc), 0);
	ck_assert_int_eq(pc.timeout_ms, 600000); /* capped */
	sfy_pc_free(&pc);
}
END_TEST

/* The four chain modes; the last line wins; none: dynamic (proxychains'
 * default). */
START_TEST(test_chain_modes)
{
	static const struct {
		const char *conf;
		int mode;
		long len;
	} cases[] = {
		{ "", SFY_PC_DYNAMIC, 0 },
		{ "strict_chain\n", SFY_PC_STRICT, 0 },
		{ "dynamic_chain\n", SFY_PC_DYNAMIC, 0 },
		{ "random_chain\n", SFY_PC_RANDOM, 1 },
		{ "round_robin_chain\n", SFY_PC_ROUND_ROBIN, 1 },
		{ "strict_chain\nrandom_chain\n", SFY_PC_RANDOM, 1 },
		{ "random_chain\nchain_len = 2\n", SFY_PC_RANDOM, 2 },
		{ "round_robin_chain\nchain_len=3\n", SFY_PC_ROUND_ROBIN, 3 },
		{ "round_robin_chain\nchain_len= 2\n", SFY_PC_ROUND_ROBIN, 2 },
		{ "round_robin_chain\nchain_len =2\n", SFY_PC_ROUND_ROBIN, 2 },
		{ "random_chain\nchain_len = 0\n", SFY_PC_RANDOM, 1 }, /* 0 is 1 */
		/* ignored outside random and round-robin, as proxychains */
		{ "strict_chain\nchain_len = 7\n", SFY_PC_STRICT, 0 },
		{ "dynamic_chain\nchain_len = 2\n", SFY_PC_DYNAMIC, 0 },
	};
	char conf[256];
	struct sfy_pc pc;
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		snprintf(conf, sizeof(conf),
			 "%s[ProxyList]\nsocks5 127.0.0.1 1\nhttp 127.0.0.1 2\n"
			 "socks4 127.0.0.1 3\n", cases[i].conf);
		ck_assert_msg(parse(conf, true, &pc) == 0, "case %zu: %s", i, err);
		ck_assert_msg(pc.chain_mode == cases[i].mode, "case %zu", i);
		ck_assert_msg(pc.chain_len == cases[i].len, "case %zu: %ld", i,
			      pc.chain_len);
		ck_assert_int_eq(pc.nwarn, 0);
		sfy_pc_free(&pc);
	}
}
END_TEST

/* Every proxy type proxychains has but raw, in both entry forms, with
 * proxy_dns deciding who resolves names. */
START_TEST(test_hop_types)
{
	struct sfy_pc pc;

	ck_assert_int_eq(parse("[ProxyList]\n"
			       "http 192.0.2.1 8080 alice pw\n"
			       "socks4 192.0.2.2 1080\n"
			       "socks5 192.0.2.3 1080 bob s#cr:t\n"
			       "http://carol:x%y@192.0.2.4:3128\n"
			       "socks5://192.0.2.5:9050\n"
			       "socks4://proxy.example:1080\n",
			       false, &pc), 0);
	ck_assert_str_eq(pc.proxy,
			 "http://alice:pw@192.0.2.1:8080,"
			 "socks4://192.0.2.2:1080,"
			 "socks5://bob:s%23cr%3At@192.0.2.3:1080,"
			 "http://carol:x%25y@192.0.2.4:3128,"
			 "socks5://192.0.2.5:9050,"
			 "socks4://proxy.example:1080");
	ck_assert_uint_eq(pc.nhops, 6);
	sfy_pc_free(&pc);
	ck_assert_int_eq(parse("proxy_dns\n[ProxyList]\nsocks4 192.0.2.2 1080\n"
			       "socks5 192.0.2.3 1080\nhttp 192.0.2.1 80\n",
			       false, &pc), 0);
	ck_assert_str_eq(pc.proxy, "socks4a://192.0.2.2:1080,"
				   "socks5h://192.0.2.3:1080,http://192.0.2.1:80");
	sfy_pc_free(&pc);
}
END_TEST

START_TEST(test_proxy_dns_kinds)
{
	struct sfy_pc pc;

	ck_assert_int_eq(parse("proxy_dns_old\n[ProxyList]\nsocks5 127.0.0.1 1\n",
			       false, &pc), 0);
	ck_assert(pc.remote_dns);
	ck_assert_int_eq(pc.nwarn, 1);
	ck_assert_msg(strstr(pc.warn[0], "proxyresolv"), "%s", pc.warn[0]);
	sfy_pc_free(&pc);
	/* the last of the three wins, as in proxychains: no warning left */
	ck_assert_int_eq(parse("proxy_dns_old\nproxy_dns\n[ProxyList]\n"
			       "socks5 127.0.0.1 1\n", true, &pc), 0);
	ck_assert(pc.remote_dns);
	sfy_pc_free(&pc);
	ck_assert_int_eq(parse("proxy_dns_daemon 127.0.0.1:1053\n[ProxyList]\n"
			       "socks5 127.0.0.1 1\n", false, &pc), 0);
	ck_assert(pc.remote_dns);
	ck_assert_int_eq(pc.nwarn, 1);
	ck_assert_msg(strstr(pc.warn[0], "pc.conf:1: proxy_dns_daemon"), "%s",
		      pc.warn[0]);
	sfy_pc_free(&pc);
	/* --strict: the daemon not used is an approximation, refused */
	ck_assert_int_eq(parse("proxy_dns_daemon 127.0.0.1:1053\n[ProxyList]\n"
			       "socks5 127.0.0.1 1\n", true, &pc), -EINVAL);
	ck_assert(strstr(err, "--strict"));
}
END_TEST

/* Each refused line: its number and a word of the reason in the message. */
struct refused {
	const char *conf;
	const char *where;
	const char *why;
};

static const struct refused refused[] = {
	/* refused by proxychains too */
	{ "round_robin_chain\nchain_len 2\n[ProxyList]\nsocks5 127.0.0.1 1\n", "pc.conf:2:", "equals sign" },
	{ "[ProxyList]\nsocks4://u:p@127.0.0.1:9050\n", "pc.conf:2:", "socks4 takes no USER:PASS" },
	{ "[ProxyList]\nsocks5://127.0.0.1\n", "pc.conf:2:", "not a proxy entry" },
	{ "[ProxyList]\nftp://127.0.0.1:21\n", "pc.conf:2:", "not a proxy entry" },
	{ "[ProxyList]\nsocks5 127.0.0.1\n", "pc.conf:2:", "not a proxy entry" },
	{ "[ProxyList]\nHTTP 127.0.0.1 8080\n", "pc.conf:2:", "lower case" },
	{ "[ProxyList]\nsocks6 127.0.0.1 9050\n", "pc.conf:2:", "unknown proxy type" },
	{ "[ProxyList]\nsocks5 127.0.0.1 0\n", "pc.conf:2:", "no proxy in" },
	{ "proxy_dns_daemon localhost\n[ProxyList]\nsocks5 127.0.0.1 1\n", "pc.conf:1:", "IPV4:PORT" },
	{ "proxy_dns_daemon 1.2.3:53\n[ProxyList]\nsocks5 127.0.0.1 1\n", "pc.conf:1:", "not an IPv4" },
	{ "localnet 10.0.0.0\n[ProxyList]\nsocks5 127.0.0.1 1\n", "pc.conf:1:", "MASK" },
	{ "localnet 10.0.0.0/8 # lan\n[ProxyList]\nsocks5 127.0.0.1 1\n", "pc.conf:1:", "nothing after" },
	{ "localnet 10.0.0.300/8\n[ProxyList]\nsocks5 127.0.0.1 1\n", "pc.conf:1:", "not an IPv4" },
	{ "localnet 10.0.0.0/33\n[ProxyList]\nsocks5 127.0.0.1 1\n", "pc.conf:1:", "netmask error" },
	{ "localnet ::1/255.0.0.0\n[ProxyList]\nsocks5 127.0.0.1 1\n", "pc.conf:1:", "netmask error" },
	{ "localnet [::1/128\n[ProxyList]\nsocks5 127.0.0.1 1\n", "pc.conf:1:", "address or port" },
	{ "remote_dns_subnet 256\n[ProxyList]\nsocks5 127.0.0.1 1\n", "pc.conf:1:", "0..255" },
	{ "remote_dns_subnet -1\n[ProxyList]\nsocks5 127.0.0.1 1\n", "pc.conf:1:", "0..255" },
	{ "[Proxies]\nsocks5 127.0.0.1 1\n", "pc.conf:1:", "not '[ProxyList]'" },
	{ "[proxylist]\nsocks5 127.0.0.1 1\n", "pc.conf:1:", "not '[ProxyList]'" },
	{ "strict_chain\n", "pc.conf:1:", "no proxy in" },
	{ "strict_chain\n[ProxyList]\n# nothing\n", "pc.conf:3:", "no proxy in" },
	{ "[ProxyList]\nsocks5 127.0.0.1 1\nproxy_dns\n", "pc.conf:3:", "not a proxy entry" },
	/* accepted by proxychains, refused here: see the messages */
	{ "random_chain\nchain_len = 2\n[ProxyList]\nsocks5 127.0.0.1 1\n", "pc.conf:2:", "has 1 proxies" },
	{ "random_chain\nchain_len = -1\n[ProxyList]\nsocks5 127.0.0.1 1\n", "pc.conf:2:", "need more proxies" },
	{ "[ProxyList]\nsocks5 127.0.0.1 65536\n", "pc.conf:2:", "port 0, what is left" },
	{ "[ProxyList]\nsocks5 127.0.0.1 -1\n", "pc.conf:2:", "1..65535" },
	{ "[ProxyList]\nsocks5 bad/host 80\n", "pc.conf:2:", "bad socks5 entry" },
	{ "localnet 10.0.0.0:80/0\n[ProxyList]\nsocks5 127.0.0.1 1\n", "pc.conf:1:", "0.0.0.0" },
	{ "localnet 10.0.0.0/255.0.255.0\n[ProxyList]\nsocks5 127.0.0.1 1\n",
	  "pc.conf:1:", "contiguous" },
	{ "localnet 10.0.0.0/0\n[ProxyList]\nsocks5 127.0.0.1 1\n", "pc.conf:1:", "0.0.0.0" },
	{ "dnat 1.1.1.1\n[ProxyList]\nsocks5 127.0.0.1 1\n", "pc.conf:1:", "dnat format error" },
	{ "dnatx\n[ProxyList]\nsocks5 127.0.0.1 1\n", "pc.conf:1:", "dnat format error" },
	{ "dnat ::1 1.1.1.2\n[ProxyList]\nsocks5 127.0.0.1 1\n", "pc.conf:1:", "no address before" },
	{ "dnat 1.1.1.300:80 1.1.1.2\n[ProxyList]\nsocks5 127.0.0.1 1\n", "pc.conf:1:", "original destination" },
	{ "dnat 1.1.1.1 host\n[ProxyList]\nsocks5 127.0.0.1 1\n", "pc.conf:1:", "effective destination" },
	{ "localnet 10.0.0.0/8\ndnat 10.1.1.1:80 11.0.0.1\n[ProxyList]\nsocks5 127.0.0.1 1\n",
	  "pc.conf:2:", "in a localnet range" },
};

/* Files proxychains accepts, read as it reads them: the proxies, the
 * chain mode, and the warnings (how many; a word of the first, which
 * names its line). */
struct accepted {
	const char *conf;
	const char *proxy;
	int mode;
	int nwarn;
	const char *warn; /* in the first warning, after "pc.conf:LINE: " */
};

#define LIST1 "[ProxyList]\nsocks5 127.0.0.1 1\n"
static const struct accepted accepted[] = {
	/* whole-line options with more on the line are ignored there */
	{ "strict_chain # the safe one\n" LIST1, "socks5://127.0.0.1:1", SFY_PC_DYNAMIC, 1, "1: 'strict_chain' with more text" },
	{ "dynamic_chain 1\nstrict_chain\n" LIST1, "socks5://127.0.0.1:1", SFY_PC_STRICT, 1, "1: 'dynamic_chain' with more" },
	{ "proxy_dns # remote\n" LIST1, "socks5://127.0.0.1:1", SFY_PC_DYNAMIC, 1, "1: 'proxy_dns' with more" },
	{ "quiet_mode yes\n" LIST1, "socks5://127.0.0.1:1", SFY_PC_DYNAMIC, 1, "1: 'quiet_mode' with more" },
	{ "[ProxyList] # here\n[ProxyList]\nsocks5 127.0.0.1 1\n", "socks5://127.0.0.1:1", SFY_PC_DYNAMIC, 1, "1: '[ProxyList]' with more" },
	/* unknown settings and sections before the list: ignored */
	{ "frobnicate 3\n" LIST1, "socks5://127.0.0.1:1", SFY_PC_DYNAMIC, 1, "1: unknown setting 'frobnicate'" },
	{ "Strict_Chain\n" LIST1, "socks5://127.0.0.1:1", SFY_PC_DYNAMIC, 1, "1: unknown setting 'Strict_Chain'" },
	{ "[Settings]\nround_robin_chain\n" LIST1, "socks5://127.0.0.1:1", SFY_PC_ROUND_ROBIN, 1, "1: '[Settings]' is not" },
	/* options read by their start, with sscanf's leniency */
	{ "tcp_read_time_out soon\n" LIST1, "socks5://127.0.0.1:1", SFY_PC_DYNAMIC, 1, "1: tcp_read_time_out has no number" },
	{ "tcp_read_time_out 100 # ms\n" LIST1, "socks5://127.0.0.1:1", SFY_PC_DYNAMIC, 1, "1: tcp_connect_time_out and" },
	{ "tcp_connect_time_out 0\n" LIST1, "socks5://127.0.0.1:1", SFY_PC_DYNAMIC, 2, "1: a time-out of 0" },
	{ "tcp_connect_time_out -1\n" LIST1, "socks5://127.0.0.1:1", SFY_PC_DYNAMIC, 2, "1: a negative time-out" },
	{ "remote_dns_subnet ten\n" LIST1, "socks5://127.0.0.1:1", SFY_PC_DYNAMIC, 1, "1: remote_dns_subnet has no number" },
	{ "remote_dns_subnet 10 # ten\n" LIST1, "socks5://127.0.0.1:1", SFY_PC_DYNAMIC, 0, NULL },
	{ "random_chain\nchain_len = x\n" LIST1, "socks5://127.0.0.1:1", SFY_PC_RANDOM, 1, "2: chain_len has no number" },
	{ "random_chain\nchain_len=1 # one\n" LIST1, "socks5://127.0.0.1:1", SFY_PC_RANDOM, 0, NULL },
	{ "proxy_dns_daemon 127.0.0.1:x\n" LIST1, "socks5h://127.0.0.1:1", SFY_PC_DYNAMIC, 1, "1: proxy_dns_daemon: names" },
	{ "localnet 10.0.0.0:0/8\n" LIST1, "socks5://127.0.0.1:1", SFY_PC_DYNAMIC, 0, NULL },
	{ "localnet 0.0.0.0:80/0.0.0.0\n" LIST1, "socks5://127.0.0.1:1", SFY_PC_DYNAMIC, 0, NULL },
	{ "localnet [::]:80/0\n" LIST1, "socks5://127.0.0.1:1", SFY_PC_DYNAMIC, 0, NULL },
	/* entries: sscanf("%s %s %d %s %s"), then proxy_from_string */
	{ "[ProxyList]\nsocks4 127.0.0.1 9050 user pass\n", "socks4://user@127.0.0.1:9050", SFY_PC_DYNAMIC, 1, "2: a socks4 entry with a password" },
	{ "[ProxyList]\nsocks4 127.0.0.1 9050 user\n", "socks4://user@127.0.0.1:9050", SFY_PC_DYNAMIC, 0, NULL },
	{ "[ProxyList]\nraw 127.0.0.1 9050 u p\n", "raw://127.0.0.1:9050", SFY_PC_DYNAMIC, 0, NULL },
	{ "[ProxyList]\nsocks5 127.0.0.1 1080 onlyuser\n", "socks5://127.0.0.1:1080", SFY_PC_DYNAMIC, 1, "2: a SOCKS5 user name without a password" },
	{ "[ProxyList]\nhttp 127.0.0.1 8080 onlyuser\n", "http://onlyuser:@127.0.0.1:8080", SFY_PC_DYNAMIC, 0, NULL },
	{ "[ProxyList]\nsocks5 127.0.0.1 80x\n", "socks5://127.0.0.1:80", SFY_PC_DYNAMIC, 2, "2: the port is followed" },
	{ "[ProxyList]\nhttp 127.0.0.1 80x y\n", "http://x:y@127.0.0.1:80", SFY_PC_DYNAMIC, 1, "2: the port is followed" },
	{ "[ProxyList]\nsocks5 127.0.0.1 1080 # tor\n", "socks5://127.0.0.1:1080", SFY_PC_DYNAMIC, 1, "2: '#...' after the port" },
	{ "[ProxyList]\nsocks5 127.0.0.1 1080 u p extra words\n", "socks5://u:p@127.0.0.1:1080", SFY_PC_DYNAMIC, 0, NULL },
	{ "[ProxyList]\nsocks5 127.0.0.1 1080 u #p\n", "socks5://u:%23p@127.0.0.1:1080", SFY_PC_DYNAMIC, 0, NULL },
	{ "[ProxyList]\nsocks5 127.0.0.1 0\nsocks5 127.0.0.1 1\n", "socks5://127.0.0.1:1", SFY_PC_DYNAMIC, 1, "2: port 0" },
	{ "[ProxyList]\nsocks5://127.0.0.1:1080 # tor\n", "socks5://127.0.0.1:1080", SFY_PC_DYNAMIC, 0, NULL },
	{ "[ProxyList]\nsocks5://127.0.0.1:1080/\n", "socks5://127.0.0.1:1080", SFY_PC_DYNAMIC, 0, NULL },
	{ "[ProxyList]\nsocks5://:pw@127.0.0.1:1080\n", "socks5://127.0.0.1:1080", SFY_PC_DYNAMIC, 1, "2: a password without a user" },
	{ "[ProxyList]\nhttp://u:@127.0.0.1:3128\n", "http://u:@127.0.0.1:3128", SFY_PC_DYNAMIC, 0, NULL },
	{ "[ProxyList]\n  \t socks5\v127.0.0.1\f1 \r\n\n   # c\n", "socks5://127.0.0.1:1", SFY_PC_DYNAMIC, 0, NULL },
};

START_TEST(test_accepted)
{
	const struct accepted *a = &accepted[_i];
	size_t len = strlen(a->conf);
	struct sfy_pc pc;

	ck_assert_msg(sfy_pc_parse(a->conf, len, "pc.conf", false, &pc, err,
				   sizeof(err)) == 0, "case %d: %s", _i, err);
	ck_assert_msg(!strcmp(pc.proxy, a->proxy), "case %d: %s", _i, pc.proxy);
	ck_assert_msg(pc.chain_mode == a->mode, "case %d: %d", _i, pc.chain_mode);
	ck_assert_msg(pc.nwarn == a->nwarn, "case %d: %d warnings, first '%s'",
		      _i, pc.nwarn, pc.nwarn ? pc.warn[0] : "");
	if (a->warn)
		ck_assert_msg(!strncmp(pc.warn[0], "pc.conf:", 8) &&
			      !strncmp(pc.warn[0] + 8, a->warn, strlen(a->warn)),
			      "case %d: '%s' lacks '%s'", _i, pc.warn[0], a->warn);
	sfy_pc_free(&pc);
	/* --strict: what is only approximated is refused, on that line */
	if (a->nwarn) {
		ck_assert_int_eq(sfy_pc_parse(a->conf, len, "pc.conf", true, &pc,
					      err, sizeof(err)), -EINVAL);
		ck_assert_msg(strstr(err, "--strict"), "case %d: %s", _i, err);
	}
}
END_TEST

START_TEST(test_refused)
{
	const struct refused *r = &refused[_i];
	struct sfy_pc pc;

	ck_assert_int_eq(parse(r->conf, false, &pc), -EINVAL);
	ck_assert_msg(strstr(err, r->where) == err, "case %d: '%s'", _i, err);
	ck_assert_msg(strstr(err, r->why), "case %d: '%s' lacks '%s'", _i, err,
		      r->why);
	ck_assert_ptr_null(pc.proxy);
	ck_assert_ptr_null(pc.no_proxy);
}
END_TEST

/* An entry with a password, refused or warned about: no message holds
 * the password. */
START_TEST(test_password_not_in_message)
{
	const char *bad[] = {
		"[ProxyList]\nsocks5 bad/host 1080 alice Pw0rdXyz\n",
		"[ProxyList]\nsocks5 127.0.0.1 1080x alice Pw0rdXyz\n",
		"[ProxyList]\nsocks4 127.0.0.1 8080 alice Pw0rdXyz\n",
		"[ProxyList]\nhttp://alice:Pw0rdXyz@127.0.0.1\n",
		"[ProxyList]\nsocks4://alice:Pw0rdXyz@127.0.0.1:1\n",
		"[ProxyList]\nsocks5 127.0.0.1 1080 alice Pw0rdXyz extra\n",
		"[ProxyList]\nsocks5://:Pw0rdXyz@127.0.0.1:1\n",
		"socks5 127.0.0.1 1080 alice Pw0rdXyz\n[ProxyList]\nsocks5 h 1\n",
		"[ProxyList]\nraw 127.0.0.1 1080 alice Pw0rdXyz\n",
	};
	struct sfy_pc pc;
	size_t i;
	int w;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (parse(bad[i], false, &pc) == 0) {
			for (w = 0; w < pc.nwarn; w++)
				ck_assert_msg(!strstr(pc.warn[w], "Pw0rdXyz"), "%s",
					      pc.warn[w]);
			sfy_pc_free(&pc);
		}
		ck_assert_msg(!strstr(err, "Pw0rdXyz"), "%s", err);
		if (parse(bad[i], true, &pc) == 0)
			sfy_pc_free(&pc);
		ck_assert_msg(!strstr(err, "Pw0rdXyz"), "%s", err);
	}
}
END_TEST

/* fgets into 1024 bytes: a longer line goes on as the next line, which
 * proxychains then reads as a line of its own; a NUL ends a line. */
START_TEST(test_long_lines)
{
	char *big = malloc(4000);
	struct sfy_pc pc;

	/* a long comment: its tail is an unknown setting, ignored */
	memset(big, 'a', 1500);
	big[0] = '#';
	strcpy(big + 1500, "\n" LIST1);
	ck_assert_msg(parse(big, false, &pc) == 0, "%s", err);
	ck_assert_int_eq(pc.nwarn, 2);
	ck_assert_msg(strstr(pc.warn[0], "pc.conf:1: longer than 1022 bytes"),
		      "%s", pc.warn[0]);
	ck_assert_msg(strstr(pc.warn[1], "pc.conf:1: unknown setting"), "%s",
		      pc.warn[1]);
	sfy_pc_free(&pc);
	/* 1022 bytes and the newline: one line, no warning */
	memset(big, ' ', 1022);
	memcpy(big, "#", 1);
	strcpy(big + 1022, "\n" LIST1);
	ck_assert_msg(parse(big, false, &pc) == 0, "%s", err);
	ck_assert_int_eq(pc.nwarn, 0);
	sfy_pc_free(&pc);
	/* 1023 bytes: the newline alone is the next line, empty */
	memset(big, 'b', 1023);
	big[0] = '#';
	strcpy(big + 1023, "\n" LIST1);
	ck_assert_msg(parse(big, false, &pc) == 0, "%s", err);
	ck_assert_int_eq(pc.nwarn, 0);
	sfy_pc_free(&pc);
	/* an entry cut in two: its tail is not an entry */
	strcpy(big, "[ProxyList]\nsocks5 127.0.0.1 1080 u ");
	memset(big + strlen(big), 'p', 1100);
	strcpy(big + 37 + 1100, "\n");
	ck_assert_int_eq(parse(big, false, &pc), -EINVAL);
	ck_assert_msg(strstr(err, "pc.conf:2: ") == err, "%s", err);
	free(big);
	/* a NUL ends the line */
	ck_assert_int_eq(sfy_pc_parse("[ProxyList]\nsocks5 127.0.0.1 1\0 u p\n", 36,
				      "pc.conf", false, &pc, err, sizeof(err)), 0);
	ck_assert_str_eq(pc.proxy, "socks5://127.0.0.1:1");
	ck_assert_int_eq(pc.nwarn, 1);
	ck_assert_msg(strstr(pc.warn[0], "pc.conf:2: a NUL byte"), "%s", pc.warn[0]);
	sfy_pc_free(&pc);
	/* a line with nothing but a NUL is empty */
	ck_assert_int_eq(sfy_pc_parse("[ProxyList]\n\0x", 14, "pc.conf", false,
				      &pc, err, sizeof(err)), -EINVAL);
	ck_assert(strstr(err, "no proxy"));
}
END_TEST

/* More warnings than the list keeps: counted. */
/* As many proxies as proxychains reads (MAX_CHAIN, 512), the last one
 * included; past them it reads no further, and neither does socksify
 * (a warning naming the limit; an error with --strict). */
START_TEST(test_many_proxies)
{
	static char conf[16 + 600 * 32];
	struct sfy_pc pc;
	size_t used;
	int n;

	used = (size_t)snprintf(conf, sizeof(conf), "[ProxyList]\n");
	for (n = 1; n <= 513; n++) {
		/* entry n-1: port 1000 + n-1 */
		used += (size_t)snprintf(conf + used, sizeof(conf) - used,
					 "socks5 10.0.%d.%d %d\n", (n - 1) / 256,
					 (n - 1) % 256, 999 + n);
		if (n != 9 && n != 20 && n < 512)
			continue;
		ck_assert_msg(parse(conf, false, &pc) == 0, "%d: %s", n, err);
		ck_assert_uint_eq(pc.nhops, n > 512 ? 512 : (size_t)n);
		ck_assert_int_eq(pc.nwarn, n > 512);
		if (n == 9)
			ck_assert_ptr_nonnull(strstr(pc.proxy, ",socks5://10.0.0.8:1008"));
		if (n >= 512)
			ck_assert_ptr_nonnull(strstr(pc.proxy, ",socks5://10.0.1.255:1511"));
		if (n > 512) {
			ck_assert_ptr_null(strstr(pc.proxy, "10.0.2.0"));
			ck_assert_ptr_nonnull(strstr(pc.warn[0], "pc.conf:514:"));
			ck_assert_ptr_nonnull(strstr(pc.warn[0], "512"));
		}
		sfy_pc_free(&pc);
		if (n > 512) {
			ck_assert_int_eq(parse(conf, true, &pc), -EINVAL);
			ck_assert_ptr_nonnull(strstr(err, "512"));
		}
	}
}
END_TEST

START_TEST(test_many_warnings)
{
	char conf[512] = "";
	struct sfy_pc pc;
	int i;

	for (i = 0; i < SFY_PC_WARN_MAX + 3; i++)
		strcat(conf, "nonsense\n");
	strcat(conf, LIST1);
	ck_assert_int_eq(parse(conf, false, &pc), 0);
	ck_assert_int_eq(pc.nwarn, SFY_PC_WARN_MAX);
	ck_assert_int_eq(pc.nwarn_more, 3);
	sfy_pc_free(&pc);
}
END_TEST

START_TEST(test_load_file)
{
	char path[] = "/tmp/sfy-pc-XXXXXX";
	const char *conf = "proxy_dns\n[ProxyList]\nsocks5 127.0.0.1 1080 u p\n";
	struct sfy_pc pc;
	int fd = mkstemp(path);

	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(write(fd, conf, strlen(conf)), (int)strlen(conf));
	close(fd);
	ck_assert_int_eq(sfy_pc_load(path, false, &pc, err, sizeof(err)), 0);
	ck_assert_str_eq(pc.proxy, "socks5h://u:p@127.0.0.1:1080");
	sfy_pc_free(&pc);
	unlink(path);
	ck_assert_int_eq(sfy_pc_load(path, false, &pc, err, sizeof(err)), -ENOENT);
	ck_assert_msg(strstr(err, "No such file"), "%s", err);
	ck_assert_int_eq(sfy_pc_load("/tmp", false, &pc, err, sizeof(err)), -EINVAL);
	ck_assert_msg(strstr(err, "not a regular file"), "%s", err);
}
END_TEST

/* n bytes that all need percent-encoding in a URL (and none is a blank,
 * '#' or NUL, which end a proxychains field), ending in a marker. */
static void awkward(char *out, size_t n, char last)
{
	static const char set[] = "@:%/,!$&'()*+;=?[]\"\\\xc3\xa9";
	size_t i;

	for (i = 0; i < n; i++)
		out[i] = set[i % (sizeof(set) - 1)];
	out[n - 1] = last;
	out[n] = '\0';
}

/* RFC 1929's limits: 255 bytes of user name and of password, each of
 * which may need three bytes of URL once percent-encoded. The URL handed
 * on must decode to the very bytes of the file, the last one included. */
START_TEST(test_longest_credentials)
{
	char user[256], pass[256], conf[2048];
	struct socks5_proxy hop;
	struct sfy_pc pc;

	awkward(user, 255, 'U');
	awkward(pass, 255, 'P');
	snprintf(conf, sizeof(conf), "[ProxyList]\nsocks5 proxy.example 1080 %s %s\n",
		 user, pass);
	ck_assert_msg(parse(conf, false, &pc) == 0, "%s", err);
	ck_assert_int_eq(socks5_url_parse(pc.proxy, &hop, err, sizeof(err)),
			 SOCKS5_OK);
	ck_assert_uint_eq(hop.user_len, 255);
	ck_assert_uint_eq(hop.pass_len, 255);
	ck_assert_mem_eq(hop.user, user, 255);
	ck_assert_mem_eq(hop.pass, pass, 255);
	ck_assert_str_eq(hop.host, "proxy.example");
	socks5_proxy_wipe(&hop);
	sfy_pc_free(&pc);
}
END_TEST

/* One byte more than RFC 1929 allows: an error naming the file, the line
 * and the limit, never a shortened password (nor the password itself). */
START_TEST(test_credentials_too_long)
{
	char user[300], pass[300], conf[2048];
	struct sfy_pc pc;

	awkward(user, 8, 'U');
	awkward(pass, 256, 'P');
	snprintf(conf, sizeof(conf), "strict_chain\n[ProxyList]\nsocks5 127.0.0.1 1080 %s %s\n",
		 user, pass);
	ck_assert_int_eq(parse(conf, false, &pc), -EINVAL);
	ck_assert_msg(strstr(err, "pc.conf:3: ") == err, "%s", err);
	ck_assert_msg(strstr(err, "password") && strstr(err, "255"), "%s", err);
	ck_assert_msg(!strstr(err, pass + 200), "%s", err);
	ck_assert_ptr_null(pc.proxy);

	awkward(user, 256, 'U');
	awkward(pass, 8, 'P');
	snprintf(conf, sizeof(conf), "[ProxyList]\nsocks5 127.0.0.1 1080 %s %s\n",
		 user, pass);
	ck_assert_int_eq(parse(conf, false, &pc), -EINVAL);
	ck_assert_msg(strstr(err, "pc.conf:2: ") == err, "%s", err);
	ck_assert_msg(strstr(err, "user name") && strstr(err, "255"), "%s", err);
}
END_TEST

/* A warning names a file of any length and still says all it has to. */
START_TEST(test_warning_long_path)
{
	static char name[4000];
	struct sfy_pc pc;

	memset(name, 'd', sizeof(name) - 1);
	const char *conf = "proxy_dns_daemon 127.0.0.1:1053\n[ProxyList]\nsocks5 h 1\n";

	ck_assert_int_eq(sfy_pc_parse(conf, strlen(conf), name, false, &pc,
				      err, sizeof(err)), 0);
	ck_assert_int_eq(pc.nwarn, 1);
	ck_assert_msg(strstr(pc.warn[0], "ddd:1: proxy_dns_daemon") &&
		      strstr(pc.warn[0], "daemon is not used"), "%s", pc.warn[0]);
	sfy_pc_free(&pc);
}
END_TEST

static Suite *pc_suite(void)
{
	Suite *s = suite_create("proxychains_conf");
	TCase *tc = tcase_create("parse");

	tcase_add_test(tc, test_debian_default);
	tcase_add_test(tc, test_chain_auth_localnet);
	tcase_add_test(tc, test_dnat);
	tcase_add_test(tc, test_one_timeout);
	tcase_add_test(tc, test_chain_modes);
	tcase_add_test(tc, test_hop_types);
	tcase_add_test(tc, test_proxy_dns_kinds);
	tcase_add_loop_test(tc, test_refused, 0,
			    (int)(sizeof(refused) / sizeof(refused[0])));
	tcase_add_loop_test(tc, test_accepted, 0,
			    (int)(sizeof(accepted) / sizeof(accepted[0])));
	tcase_add_test(tc, test_password_not_in_message);
	tcase_add_test(tc, test_long_lines);
	tcase_add_test(tc, test_many_warnings);
	tcase_add_test(tc, test_many_proxies);
	tcase_add_test(tc, test_load_file);
	tcase_add_test(tc, test_longest_credentials);
	tcase_add_test(tc, test_credentials_too_long);
	tcase_add_test(tc, test_warning_long_path);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(pc_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? 1 : 0;
}
