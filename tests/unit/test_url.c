/*
 * Proxy URLs and chains: a table of good and bad URLs with the expected
 * status, fields and message, password masking in every message, format,
 * wipe.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "socks5.h"

struct url_case {
	const char *url;
	enum socks5_status st;
	/* on success */
	const char *host;
	unsigned port;
	bool remote;
	const char *user, *pass; /* NULL: no auth */
	/* on failure: a part of the message, and text it must not contain */
	const char *msg, *secret;
};

#define GOOD(u, h, p, r, us, pw) { u, SOCKS5_OK, h, p, r, us, pw, NULL, NULL }
#define BAD(u, st, m, sec) { u, st, NULL, 0, false, NULL, NULL, m, sec }

static const struct url_case cases[] = {
	GOOD("socks5://proxy.example", "proxy.example", 1080, false, NULL, NULL),
	GOOD("socks5h://proxy.example:1081", "proxy.example", 1081, true, NULL, NULL),
	GOOD("SOCKS5://H:1", "H", 1, false, NULL, NULL),
	GOOD("Socks5H://h:65535", "h", 65535, true, NULL, NULL),
	GOOD("socks5://127.0.0.1:9050/", "127.0.0.1", 9050, false, NULL, NULL),
	GOOD("socks5://[::1]:1080", "::1", 1080, false, NULL, NULL),
	GOOD("socks5h://[2001:db8::1]", "2001:db8::1", 1080, true, NULL, NULL),
	GOOD("socks5h://[2001:db8::1]/", "2001:db8::1", 1080, true, NULL, NULL),
	GOOD("socks5://h_1.example-x:080", "h_1.example-x", 80, false, NULL, NULL),
	GOOD("socks5://alice:secret@h:1", "h", 1, false, "alice", "secret"),
	GOOD("socks5://al%69ce:s%65cr%65t@h", "h", 1080, false, "alice", "secret"),
	GOOD("socks5://u:p%40ss%3Aw%2Fd%25@h", "h", 1080, false, "u", "p@ss:w/d%"),
	GOOD("socks5://u:p@ss@h", "h", 1080, false, "u", "p@ss"),
	GOOD("socks5://u:a:b@h", "h", 1080, false, "u", "a:b"),
	GOOD("socks5h://u:pa/ss#x?y@h:99", "h", 99, true, "u", "pa/ss#x?y"),
	GOOD("socks5://user%20name:pw@[::ffff:192.0.2.1]:80", "::ffff:192.0.2.1",
	     80, false, "user name", "pw"),
	GOOD("socks5://u:%ff@h", "h", 1080, false, "u", "\xff"),
	GOOD("socks5h://u:pw@localhost/", "localhost", 1080, true, "u", "pw"),

	BAD("", SOCKS5_E_URL_SCHEME, "missing scheme", NULL),
	BAD("proxy:1080", SOCKS5_E_URL_SCHEME, "missing scheme", NULL),
	BAD("socks6://h", SOCKS5_E_URL_SCHEME, "scheme \"socks6\" is not supported", NULL),
	BAD("ftp://u:topsecret@h", SOCKS5_E_URL_SCHEME, "ftp://u:***@h", "topsecret"),
	BAD("https://u:topsecret@h", SOCKS5_E_URL_SCHEME, "HTTPS proxies (TLS to the proxy) are not supported", "topsecret"),
	BAD("socks5:/h", SOCKS5_E_URL_SCHEME, "missing scheme", NULL),
	BAD("socks5h:h", SOCKS5_E_URL_SCHEME, "missing scheme", NULL),
	BAD(" socks5://h", SOCKS5_E_URL_SCHEME, "missing scheme", NULL),
	BAD("socks5://", SOCKS5_E_URL_HOST, "the host is empty", NULL),
	BAD("socks5://:1080", SOCKS5_E_URL_HOST, "the host is empty", NULL),
	BAD("socks5://u:pw9z@", SOCKS5_E_URL_HOST, "the host is empty", "pw9z"),
	BAD("socks5:///", SOCKS5_E_URL_HOST, "the host is empty", NULL),
	BAD("socks5://`:4@?", SOCKS5_E_URL_HOST, "the host is empty", "4"),
	BAD("socks5://?auth=gssapi", SOCKS5_E_URL_HOST, "the host is empty", NULL),
	BAD("socks5h://#x", SOCKS5_E_URL_HOST, "the host is empty", NULL),
	BAD("socks5://::1", SOCKS5_E_URL_HOST, "must be in brackets", NULL),
	BAD("socks5://2001:db8::1:1080", SOCKS5_E_URL_HOST, "must be in brackets", NULL),
	BAD("socks5://[::1", SOCKS5_E_URL_HOST, "no closing \"]\"", NULL),
	BAD("socks5://[]:80", SOCKS5_E_URL_HOST, "the host is empty", NULL),
	BAD("socks5://[not:v6]:80", SOCKS5_E_URL_HOST, "\"[not:v6]\" is not a valid IPv6", NULL),
	BAD("socks5://[192.0.2.1]", SOCKS5_E_URL_HOST, "not a valid IPv6", NULL),
	BAD("socks5://h:", SOCKS5_E_URL_PORT, "the port is empty", NULL),
	BAD("socks5://h:0", SOCKS5_E_URL_PORT, "port 0 is out of range (1..65535)", NULL),
	BAD("socks5://bob:hunter2@h:99999", SOCKS5_E_URL_PORT,
	    "proxy URL \"socks5://bob:***@h:99999\": port 99999 is out of range (1..65535)",
	    "hunter2"),
	BAD("socks5://h:65536", SOCKS5_E_URL_PORT, "port 65536 is out of range", NULL),
	BAD("socks5://h:-1", SOCKS5_E_URL_PORT, "port \"-1\" is not a decimal number", NULL),
	BAD("socks5://h:+80", SOCKS5_E_URL_PORT, "not a decimal number", NULL),
	BAD("socks5://h:80x", SOCKS5_E_URL_PORT, "port \"80x\" is not", NULL),
	BAD("socks5://h: 80", SOCKS5_E_URL_PORT, "not a decimal number", NULL),
	BAD("socks5://h:99999999999999999999999", SOCKS5_E_URL_PORT,
	    "port 99999999999999999999999 is out of range", NULL),
	BAD("socks5://h/path", SOCKS5_E_URL_GARBAGE, "unexpected \"/path\" after the host", NULL),
	BAD("socks5://h:80/x", SOCKS5_E_URL_GARBAGE, "no path, query or fragment", NULL),
	BAD("socks5://h?x=1", SOCKS5_E_URL_GARBAGE, "unknown option in the query", NULL),
	BAD("socks5://h#frag", SOCKS5_E_URL_GARBAGE, "unexpected \"#frag\"", NULL),
	/* each delimiter that ends the authority, after a port and after a
	 * bracketed host too (url.c's ends_authority) */
	BAD("socks5://h:80#f", SOCKS5_E_URL_GARBAGE, "\"#f\" after the host (a proxy URL has no path, query or fragment)", NULL),
	BAD("socks5://h:80?x=1", SOCKS5_E_URL_GARBAGE, "unknown option in the query", NULL),
	BAD("socks5://[::1]:80#f", SOCKS5_E_URL_GARBAGE, "no path, query or fragment", NULL),
	BAD("socks5://[::1]/p", SOCKS5_E_URL_GARBAGE, "no path, query or fragment", NULL),
	BAD("socks5://[::1]#f", SOCKS5_E_URL_GARBAGE, "no path, query or fragment", NULL),
	BAD("socks5://u:p9q@#f", SOCKS5_E_URL_HOST, "the host is empty", "p9q"),
	BAD("socks5://h//", SOCKS5_E_URL_GARBAGE, "unexpected \"//\"", NULL),
	BAD("socks5://h x", SOCKS5_E_URL_GARBAGE, "unexpected \" x\"", NULL),
	BAD("socks5://h\n", SOCKS5_E_URL_GARBAGE, "unexpected \"?\"", NULL),
	BAD("socks5://[::1]x", SOCKS5_E_URL_GARBAGE, "unexpected \"x\"", NULL),
	BAD("socks5://h,socks5://g", SOCKS5_E_URL_GARBAGE, "its own scheme://", NULL),
	BAD("socks5://bob:hunter2@h:80/path", SOCKS5_E_URL_GARBAGE, "bob:***@h:80/path", "hunter2"),
	BAD("socks5://bob:hunter2@h:abc", SOCKS5_E_URL_PORT, "port \"abc\"", "hunter2"),
	BAD("socks5://@h", SOCKS5_E_URL_USER, "the user name is empty", NULL),
	BAD("socks5://:pw5ecret@h", SOCKS5_E_URL_USER, "the user name is empty", "pw5ecret"),
	BAD("socks5://bob@h", SOCKS5_E_URL_PASS, "user \"bob\" has no password", NULL),
	BAD("socks5://bob:@h", SOCKS5_E_URL_PASS, "has no password", NULL),
	BAD("socks5://b%zzob:pw7@h", SOCKS5_E_URL_ESCAPE, "bad percent escape \"%zz\" in the user name", "pw7"),
	BAD("socks5://b%0:pw7@h", SOCKS5_E_URL_ESCAPE, "in the user name", "pw7"),
	BAD("socks5://bob%00:pw7@h", SOCKS5_E_URL_ESCAPE, "%00 (a NUL byte)", "pw7"),
	BAD("socks5://bob:sec%zzret@h", SOCKS5_E_URL_ESCAPE, "bad percent escape in the password", "sec"),
	BAD("socks5://bob:sec%00ret@h", SOCKS5_E_URL_ESCAPE, "NUL byte) is not allowed in the password", "sec"),
	BAD("socks5://bob:secret%2@h", SOCKS5_E_URL_ESCAPE, "in the password", "secret"),
	BAD("socks5://bob:se@cr@et@h:0", SOCKS5_E_URL_PORT, "bob:***@h:0", "se@cr@et"),
};

/* The other hop types: scheme, DNS side, default port, user rules. */
static const struct {
	const char *url;
	enum socks5_status st;
	uint8_t type;
	bool remote;
	const char *host;
	unsigned port;
	const char *user, *pass; /* NULL: no auth; on failure user = message */
} typed[] = {
	{ "socks4://10.1.2.3", SOCKS5_OK, SOCKS5_HOP_SOCKS4, false, "10.1.2.3", 1080, NULL, NULL },
	{ "SOCKS4A://gw.example:1081/", SOCKS5_OK, SOCKS5_HOP_SOCKS4A, true, "gw.example", 1081, NULL, NULL },
	{ "socks4://joe@h", SOCKS5_OK, SOCKS5_HOP_SOCKS4, false, "h", 1080, "joe", "" },
	{ "socks4a://j%20oe@[::1]:9", SOCKS5_OK, SOCKS5_HOP_SOCKS4A, true, "::1", 9, "j oe", "" },
	{ "http://proxy.corp", SOCKS5_OK, SOCKS5_HOP_HTTP, true, "proxy.corp", 1080, NULL, NULL },
	{ "HTTP://u:p%40ss@proxy:3128", SOCKS5_OK, SOCKS5_HOP_HTTP, true, "proxy", 3128, "u", "p@ss" },
	{ "http://u@proxy:3128", SOCKS5_OK, SOCKS5_HOP_HTTP, true, "proxy", 3128, "u", "" },
	{ "http://u:@proxy:3128", SOCKS5_OK, SOCKS5_HOP_HTTP, true, "proxy", 3128, "u", "" },
	{ "http://u:a:b@[2001:db8::2]", SOCKS5_OK, SOCKS5_HOP_HTTP, true, "2001:db8::2", 1080, "u", "a:b" },
	{ "socks4://joe:pw@h", SOCKS5_E_URL_PASS, 0, false, NULL, 0, "a SOCKS4 hop takes a user id only, no password", NULL },
	{ "socks4a://joe:@h", SOCKS5_E_URL_PASS, 0, false, NULL, 0, "user id only", NULL },
	{ "http://a%3Ab:pw@h", SOCKS5_E_URL_USER, 0, false, NULL, 0, "cannot hold a ':' (RFC 7617)", NULL },
	{ "http://@h", SOCKS5_E_URL_USER, 0, false, NULL, 0, "the user name is empty", NULL },
	{ "http://h:0", SOCKS5_E_URL_PORT, 0, false, NULL, 0, "out of range", NULL },
	{ "http://h/path", SOCKS5_E_URL_GARBAGE, 0, false, NULL, 0, "no path", NULL },
	{ "socks4a://::1", SOCKS5_E_URL_HOST, 0, false, NULL, 0, "must be in brackets", NULL },
};

START_TEST(typed_table)
{
	struct socks5_proxy p;
	char err[512];
	enum socks5_status st;

	memset(&p, 0x33, sizeof(p));
	st = socks5_url_parse(typed[_i].url, &p, err, sizeof(err));
	ck_assert_msg(st == typed[_i].st, "%s: status %d (%s)", typed[_i].url,
		      st, err);
	if (st != SOCKS5_OK) {
		ck_assert_msg(strstr(err, typed[_i].user), "[%s] lacks [%s]", err,
			      typed[_i].user);
		ck_assert_ptr_null(strstr(err, "pw"));
		return;
	}
	ck_assert_uint_eq(p.type, typed[_i].type);
	ck_assert_int_eq(p.remote_dns, typed[_i].remote);
	ck_assert_str_eq(p.host, typed[_i].host);
	ck_assert_uint_eq(p.port, typed[_i].port);
	ck_assert_int_eq(p.has_auth, typed[_i].user != NULL);
	if (typed[_i].user) {
		ck_assert_str_eq(p.user, typed[_i].user);
		ck_assert_uint_eq(p.pass_len, strlen(typed[_i].pass));
		ck_assert_mem_eq(p.pass, typed[_i].pass, p.pass_len);
	}
}
END_TEST

/* Any type at any position of a chain. */
START_TEST(typed_chain)
{
	static struct socks5_proxy p[SOCKS5_CHAIN_MAX]; /* 430 KiB */
	char err[512];
	size_t n = 0;

	ck_assert_int_eq(socks5_url_parse_chain(
		"http://u:pw@a:3128, socks4a://id@b, socks4://192.0.2.9:1081,socks5h://192.0.2.10",
		p, SOCKS5_CHAIN_MAX, &n, err, sizeof(err)), SOCKS5_OK);
	ck_assert_uint_eq(n, 4);
	ck_assert_uint_eq(p[0].type, SOCKS5_HOP_HTTP);
	ck_assert_uint_eq(p[1].type, SOCKS5_HOP_SOCKS4A);
	ck_assert_uint_eq(p[2].type, SOCKS5_HOP_SOCKS4);
	ck_assert_uint_eq(p[3].type, SOCKS5_HOP_SOCKS5);
	ck_assert_str_eq(p[1].user, "id");
	ck_assert_uint_eq(p[2].port, 1081);
}
END_TEST

START_TEST(url_table)
{
	const struct url_case *c = &cases[_i];
	struct socks5_proxy p;
	char err[512];
	enum socks5_status st;
	size_t i;

	memset(&p, 0x33, sizeof(p));
	memset(err, 'X', sizeof(err));
	st = socks5_url_parse(c->url, &p, err, sizeof(err));
	ck_assert_msg(st == c->st, "%s: status %d (%s), want %d", c->url, st,
		      err, c->st);
	if (st == SOCKS5_OK) {
		ck_assert_str_eq(err, "");
		ck_assert_str_eq(p.host, c->host);
		ck_assert_uint_eq(p.port, c->port);
		ck_assert_int_eq(p.remote_dns, c->remote);
		ck_assert_int_eq(p.has_auth, c->user != NULL);
		if (c->user) {
			ck_assert_str_eq(p.user, c->user);
			ck_assert_uint_eq(p.user_len, strlen(c->user));
			ck_assert_str_eq(p.pass, c->pass);
			ck_assert_uint_eq(p.pass_len, strlen(c->pass));
		}
		return;
	}
	ck_assert_msg(strncmp(err, "proxy URL \"", 11) == 0, "%s", err);
	ck_assert_msg(strstr(err, c->msg), "%s: message [%s] lacks [%s]",
		      c->url, err, c->msg);
	if (c->secret)
		ck_assert_msg(!strstr(err, c->secret),
			      "message [%s] shows the password", err);
	/* Only the ASCII printable range ever reaches a message. */
	for (i = 0; err[i]; i++)
		ck_assert(err[i] >= 0x20 && err[i] < 0x7f);
}
END_TEST

/* Passwords of every shape behind every kind of failure: never shown. */
START_TEST(password_never_in_message)
{
	static const char *const passwords[] = {
		"Pw0rd", "P:w0rd", "P/w0rd", "P@w0rd", "P%41w0rd", "P%zzw0rd",
		"P%00w0rd", "P,w0rd", "P?w0rd#", "P//w0rd", "Pw0rd:1080",
	};
	static const char *const tails[] = {
		"@h:99999", "@h:0", "@h:x", "@h/x", "@[::1", "@", "@::1",
		"@h?q", "@h:", "@h", "@[zz]",
	};
	static const char *const heads[] = { "socks5://u:", "socks5h://u:",
					     "http://u:", "u:", "socks5://:" };
	struct socks5_proxy p[2];
	char url[128], list[160], err[512];
	size_t h, i, j, n;

	for (h = 0; h < sizeof(heads) / sizeof(heads[0]); h++)
	for (i = 0; i < sizeof(passwords) / sizeof(passwords[0]); i++)
	for (j = 0; j < sizeof(tails) / sizeof(tails[0]); j++) {
		snprintf(url, sizeof(url), "%s%s%s", heads[h], passwords[i],
			 tails[j]);
		err[0] = '\0';
		if (socks5_url_parse(url, &p[0], err, sizeof(err)) != SOCKS5_OK) {
			ck_assert_str_ne(err, "");
			ck_assert_msg(!strstr(err, "w0rd"), "[%s] -> [%s]", url,
				      err);
		}
		snprintf(list, sizeof(list), "socks5://a, %s", url);
		if (socks5_url_parse_chain(list, p, 2, &n, err, sizeof(err)) !=
		    SOCKS5_OK)
			ck_assert_msg(!strstr(err, "w0rd"), "[%s] -> [%s]",
				      list, err);
	}
}
END_TEST

START_TEST(url_lengths)
{
	struct socks5_proxy p;
	char url[1200], name[300], err[512];
	int i;

	memset(name, 'u', 255);
	name[255] = '\0';
	snprintf(url, sizeof(url), "socks5://%s:%s@h", name, name);
	ck_assert_int_eq(socks5_url_parse(url, &p, err, sizeof(err)), SOCKS5_OK);
	ck_assert_uint_eq(p.user_len, 255);
	ck_assert_uint_eq(p.pass_len, 255);

	/* 255 escapes decode to 255 bytes: fine; one more is too long. */
	strcpy(url, "socks5://u:");
	for (i = 0; i < 255; i++)
		strcat(url, "%41");
	strcat(url, "@h");
	ck_assert_int_eq(socks5_url_parse(url, &p, err, sizeof(err)), SOCKS5_OK);
	ck_assert_uint_eq(p.pass_len, 255);
	ck_assert_int_eq(p.pass[0], 'A');

	snprintf(url, sizeof(url), "socks5://%su:pw@h", name);
	ck_assert_int_eq(socks5_url_parse(url, &p, err, sizeof(err)),
			 SOCKS5_E_URL_USER);
	ck_assert_ptr_nonnull(strstr(err, "longer than 255"));
	snprintf(url, sizeof(url), "socks5://u:%sX@h", name);
	ck_assert_int_eq(socks5_url_parse(url, &p, err, sizeof(err)),
			 SOCKS5_E_URL_PASS);
	ck_assert_ptr_null(strstr(err, "uuuu"));
	snprintf(url, sizeof(url), "socks5://%s:1", name);
	ck_assert_int_eq(socks5_url_parse(url, &p, err, sizeof(err)), SOCKS5_OK);
	ck_assert_uint_eq(strlen(p.host), 255);
	snprintf(url, sizeof(url), "socks5://%sh:1", name);
	ck_assert_int_eq(socks5_url_parse(url, &p, err, sizeof(err)),
			 SOCKS5_E_URL_HOST);

	/* A tiny or absent message buffer is fine. */
	ck_assert_int_eq(socks5_url_parse("socks5://h:0", &p, err, 4),
			 SOCKS5_E_URL_PORT);
	ck_assert_str_eq(err, "pro");
	ck_assert_int_eq(socks5_url_parse("socks5://h:0", &p, NULL, 0),
			 SOCKS5_E_URL_PORT);
	ck_assert_int_eq(socks5_url_parse(NULL, &p, err, sizeof(err)),
			 SOCKS5_E_ARG);
}
END_TEST

START_TEST(chain_good)
{
	static struct socks5_proxy p[SOCKS5_CHAIN_MAX]; /* 430 KiB */
	char err[512];
	size_t n = 99;

	ck_assert_int_eq(socks5_url_parse_chain(
		"socks5://a:1, socks5h://u:p@b:2 ,\tsocks5://[::1]\n", p,
		SOCKS5_CHAIN_MAX, &n, err, sizeof(err)), SOCKS5_OK);
	ck_assert_uint_eq(n, 3);
	ck_assert_str_eq(p[0].host, "a");
	ck_assert_uint_eq(p[0].port, 1);
	ck_assert_str_eq(p[1].host, "b");
	ck_assert(p[1].remote_dns && p[1].has_auth);
	ck_assert_str_eq(p[1].pass, "p");
	ck_assert_str_eq(p[2].host, "::1");
	ck_assert_uint_eq(p[2].port, 1080);

	/* A raw comma in a password stays in its hop. */
	ck_assert_int_eq(socks5_url_parse_chain("socks5://u:pa,ss@h", p, 8, &n,
						err, sizeof(err)), SOCKS5_OK);
	ck_assert_uint_eq(n, 1);
	ck_assert_str_eq(p[0].pass, "pa,ss");
	ck_assert_int_eq(socks5_url_parse_chain("socks5://u:pa,ss@h,socks5://g",
						p, 8, &n, err, sizeof(err)),
			 SOCKS5_OK);
	ck_assert_uint_eq(n, 2);
	ck_assert_str_eq(p[1].host, "g");

	/* Exactly max hops. */
	ck_assert_int_eq(socks5_url_parse_chain("socks5://a,socks5://b", p, 2,
						&n, err, sizeof(err)), SOCKS5_OK);
	ck_assert_uint_eq(n, 2);
}
END_TEST

static const struct {
	const char *list;
	size_t max;
	enum socks5_status st;
	const char *msg;
} bad_chains[] = {
	{ "", 8, SOCKS5_E_URL_CHAIN, "the proxy list is empty" },
	{ "  \t", 8, SOCKS5_E_URL_CHAIN, "the proxy list is empty" },
	{ "socks5://a,,socks5://b", 8, SOCKS5_E_URL_CHAIN, "hop 2 of 3 is empty" },
	{ "socks5://a,,b", 8, SOCKS5_E_URL_CHAIN, "hop 2 of 3 is empty" },
	{ "socks5://a, ,b", 8, SOCKS5_E_URL_CHAIN, "hop 2 of 3 is empty" },
	{ ",socks5://a", 8, SOCKS5_E_URL_CHAIN, "hop 1 of 2 is empty" },
	{ "socks5://a, ", 8, SOCKS5_E_URL_CHAIN, "hop 2 of 2 is empty" },
	{ "socks5://a,socks5://b,socks5://c,socks5://d,socks5://e,"
	  "socks5://f,socks5://g,socks5://h,socks5://i", 8, SOCKS5_E_URL_CHAIN,
	  "proxy chain has 9 hops; at most 8 are allowed" },
	{ "socks5://a,socks5://b,socks5://c", 2, SOCKS5_E_URL_CHAIN,
	  "has 3 hops; at most 2" },
	{ "socks5://a, socks5://bob:hunter2@b:99999", 8, SOCKS5_E_URL_PORT,
	  "hop 2 of 2: proxy URL \"socks5://bob:***@b:99999\": port 99999 is out of range (1..65535)" },
	{ "socks5://a, gopher://b", 8, SOCKS5_E_URL_SCHEME,
	  "hop 2 of 2: proxy URL \"gopher://b\": scheme \"gopher\"" },
	{ "socks5://h1,h2", 8, SOCKS5_E_URL_GARBAGE, "its own scheme://" },
	/* SOCKS4 carries no name: the next hop must be an IPv4 address. */
	{ "socks4://10.0.0.1,socks5://next.example", 8, SOCKS5_E_URL_CHAIN,
	  "hop 1 is socks4://, which can reach hop 2 only by an IPv4 address, not \"next.example\" (use socks4a:// for a name)" },
	{ "http://a,socks4://u@b,http://[::1]:3", 8, SOCKS5_E_URL_CHAIN,
	  "hop 2 is socks4://" },
	{ "socks5://u:hunter2@a:0,socks5://b", 8, SOCKS5_E_URL_PORT,
	  "hop 1 of 2: proxy URL \"socks5://u:***@a:0\"" },
};

START_TEST(chain_bad)
{
	static struct socks5_proxy p[SOCKS5_CHAIN_MAX]; /* 430 KiB */
	char err[512];
	size_t n = 99;

	ck_assert_int_eq(socks5_url_parse_chain(bad_chains[_i].list, p,
						bad_chains[_i].max, &n, err,
						sizeof(err)), bad_chains[_i].st);
	ck_assert_uint_eq(n, 0);
	ck_assert_msg(strstr(err, bad_chains[_i].msg), "[%s] lacks [%s]", err,
		      bad_chains[_i].msg);
	ck_assert_ptr_null(strstr(err, "hunter2"));
}
END_TEST

/* A failed chain leaves no credentials of earlier hops behind. */
START_TEST(chain_failure_wipes)
{
	struct socks5_proxy p[2], zero;
	size_t n;

	memset(&zero, 0, sizeof(zero));
	ck_assert_int_eq(socks5_url_parse_chain("socks5://u:s3cret@a,socks5://b:0",
						p, 2, &n, NULL, 0),
			 SOCKS5_E_URL_PORT);
	ck_assert_mem_eq(p[0].pass, zero.pass, sizeof(zero.pass));
	ck_assert_mem_eq(p[0].user, zero.user, sizeof(zero.user));
	ck_assert(!p[0].has_auth);
	ck_assert_int_eq(socks5_url_parse_chain("socks5://a", p, 1, NULL, NULL,
						0), SOCKS5_E_ARG);
}
END_TEST

/* No room for the hops (out NULL): the list is checked hop by hop, with
 * the same verdicts, up to SOCKS5_CHAIN_MAX hops (and not one more). */
START_TEST(chain_check_only)
{
	static char list[(SOCKS5_CHAIN_MAX + 1) * 24];
	char err[512];
	size_t n = 99, i, used = 0;

	ck_assert_int_eq(socks5_url_parse_chain("socks5://a,socks5h://u:p@b:2",
						NULL, 2, &n, err, sizeof(err)),
			 SOCKS5_OK);
	ck_assert_uint_eq(n, 2);
	ck_assert_int_eq(socks5_url_parse_chain("socks5://a,socks5://b:0",
						NULL, 2, &n, err, sizeof(err)),
			 SOCKS5_E_URL_PORT);
	ck_assert_uint_eq(n, 0);
	ck_assert_ptr_nonnull(strstr(err, "hop 2 of 2"));
	ck_assert_int_eq(socks5_url_parse_chain(
		"socks5://a,socks4://192.0.2.1,socks5://name.test", NULL, 3, &n,
		err, sizeof(err)), SOCKS5_E_URL_CHAIN);
	ck_assert_ptr_nonnull(strstr(err, "hop 2 is socks4://"));
	ck_assert_ptr_nonnull(strstr(err, "name.test"));
	/* a full list, then one more */
	for (i = 0; i < SOCKS5_CHAIN_MAX; i++)
		used += (size_t)snprintf(list + used, sizeof(list) - used,
					 "%ssocks5://10.0.%zu.%zu", i ? "," : "",
					 i / 256, i % 256);
	ck_assert_int_eq(socks5_url_parse_chain(list, NULL, SOCKS5_CHAIN_MAX,
						&n, err, sizeof(err)),
			 SOCKS5_OK);
	ck_assert_uint_eq(n, SOCKS5_CHAIN_MAX);
	snprintf(list + used, sizeof(list) - used, ",socks5://x");
	ck_assert_int_eq(socks5_url_parse_chain(list, NULL, SOCKS5_CHAIN_MAX,
						&n, err, sizeof(err)),
			 SOCKS5_E_URL_CHAIN);
	ck_assert_ptr_nonnull(strstr(err, "at most 512"));
}
END_TEST

START_TEST(format_and_reparse)
{
	static const struct {
		const char *in, *out;
	} f[] = {
		{ "socks5://h", "socks5://h:1080" },
		{ "SOCKS5H://h:9/", "socks5h://h:9" },
		{ "socks5://[2001:db8::1]:2", "socks5://[2001:db8::1]:2" },
		{ "socks5://alice:secret@h:3", "socks5://alice:***@h:3" },
		{ "socks5h://a%3Ab%40c%2F%20d:x@h", "socks5h://a%3Ab%40c%2F%20d:***@h:1080" },
		{ "SOCKS4://u@h", "socks4://u@h:1080" },
		{ "socks4a://h:1", "socks4a://h:1" },
		{ "http://u:p@[::1]:3128/", "http://u:***@[::1]:3128" },
		{ "http://u@h", "http://u@h:1080" },
	};
	struct socks5_proxy p, q;
	char buf[600];
	size_t i;

	for (i = 0; i < sizeof(f) / sizeof(f[0]); i++) {
		ck_assert_int_eq(socks5_url_parse(f[i].in, &p, NULL, 0),
				 SOCKS5_OK);
		socks5_url_format(&p, buf, sizeof(buf));
		ck_assert_str_eq(buf, f[i].out);
		ck_assert_int_eq(socks5_url_parse(buf, &q, NULL, 0), SOCKS5_OK);
		ck_assert_str_eq(q.host, p.host);
		ck_assert_uint_eq(q.port, p.port);
		ck_assert_int_eq(q.remote_dns, p.remote_dns);
		ck_assert_int_eq(q.has_auth, p.has_auth);
		ck_assert_str_eq(q.user, p.user);
		ck_assert_uint_eq(q.type, p.type);
	}
	ck_assert_int_eq(socks5_url_parse(f[4].in, &p, NULL, 0), SOCKS5_OK);
	socks5_url_format(&p, buf, 8);
	ck_assert_str_eq(buf, "socks5h");
}
END_TEST

START_TEST(wipe)
{
	struct socks5_proxy p;
	char zero[SOCKS5_DOMAIN_MAX + 1];

	memset(zero, 0, sizeof(zero));
	ck_assert_int_eq(socks5_url_parse("socks5://alice:secret@h:7", &p,
					  NULL, 0), SOCKS5_OK);
	socks5_proxy_wipe(&p);
	ck_assert_mem_eq(p.user, zero, sizeof(zero));
	ck_assert_mem_eq(p.pass, zero, sizeof(zero));
	ck_assert_uint_eq(p.user_len, 0);
	ck_assert_uint_eq(p.pass_len, 0);
	ck_assert(!p.has_auth);
	ck_assert_str_eq(p.host, "h");
	ck_assert_uint_eq(p.port, 7);
	socks5_proxy_wipe(NULL);
}
END_TEST

START_TEST(hide_passwords)
{
	static const struct {
		const char *in, *out;
	} t[] = {
		{ "socks5://alice:secret@h:3", "socks5://alice:******@h:3" },
		{ "socks5h://u:se@cr:et@h", "socks5h://u:********@h" },
		{ "socks5://u@h:1,socks5h://v:p%2C,q@[::1]:2, socks5://w:x@h",
		  "socks5://u@h:1,socks5h://v:******@[::1]:2, socks5://w:*@h" },
		{ "socks5://h:1080", "socks5://h:1080" },
		{ "socks5://u:@h", "socks5://u:@h" },
		{ "", "" },
	};
	char buf[128];
	size_t i;

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		snprintf(buf, sizeof(buf), "%s", t[i].in);
		socks5_url_hide_passwords(buf);
		ck_assert_str_eq(buf, t[i].out);
	}
}
END_TEST

static Suite *url_suite(void)
{
	Suite *s = suite_create("url");
	TCase *tc = tcase_create("url");

	tcase_add_loop_test(tc, url_table, 0, sizeof(cases) / sizeof(cases[0]));
	tcase_add_loop_test(tc, typed_table, 0, sizeof(typed) / sizeof(typed[0]));
	tcase_add_test(tc, typed_chain);
	tcase_add_test(tc, password_never_in_message);
	tcase_add_test(tc, url_lengths);
	tcase_add_test(tc, format_and_reparse);
	tcase_add_test(tc, wipe);
	suite_add_tcase(s, tc);

	tc = tcase_create("chain");
	tcase_add_test(tc, chain_good);
	tcase_add_loop_test(tc, chain_bad, 0,
			    sizeof(bad_chains) / sizeof(bad_chains[0]));
	tcase_add_test(tc, chain_failure_wipes);
	tcase_add_test(tc, chain_check_only);
	tcase_add_test(tc, hide_passwords);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(url_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
