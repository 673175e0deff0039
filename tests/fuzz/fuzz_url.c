/*
 * socks5_url_parse and socks5_url_parse_chain on arbitrary text.
 * Invariants: parsed fields are within their limits and NUL-free; a parsed
 * URL formats to text that parses back to the same proxy (password shown
 * as "***"); messages are printable and never show a password, checked by
 * planting a marker password in front of the fuzzed text.
 */
#include <string.h>

#include "fuzz_check.h"
#include "socks5.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MARK "Qx7MarkPw"

static void check_proxy(const struct socks5_proxy *p)
{
	struct socks5_proxy q;
	char buf[1024];

	CHECK(p->host[0] != '\0' && strlen(p->host) <= SOCKS5_DOMAIN_MAX);
	CHECK(p->port >= 1);
	CHECK(p->type <= SOCKS5_HOP_RAW);
	CHECK(p->type != SOCKS5_HOP_RAW || !p->has_auth); /* raw takes no user */
	CHECK(p->remote_dns == (p->type == SOCKS5_HOP_SOCKS4A ||
				p->type == SOCKS5_HOP_HTTP) ||
	      p->type == SOCKS5_HOP_SOCKS5);
	if (p->has_auth) {
		CHECK(p->user_len >= 1 && strlen(p->user) == p->user_len);
		/* SOCKS5: 1..255; HTTP may be empty; SOCKS4 has none */
		CHECK(strlen(p->pass) == p->pass_len);
		CHECK(p->type == SOCKS5_HOP_SOCKS5 ? p->pass_len >= 1 :
		      p->type == SOCKS5_HOP_HTTP || p->pass_len == 0);
		if (p->type == SOCKS5_HOP_HTTP)
			CHECK(!memchr(p->user, ':', p->user_len));
	} else {
		CHECK(p->user_len == 0 && p->pass_len == 0);
	}
	socks5_url_format(p, buf, sizeof(buf));
	CHECK(socks5_url_parse(buf, &q, NULL, 0) == SOCKS5_OK);
	CHECK(strcmp(q.host, p->host) == 0 && q.port == p->port);
	CHECK(q.remote_dns == p->remote_dns && q.has_auth == p->has_auth);
	CHECK(q.type == p->type);
	if (p->has_auth) {
		CHECK(q.user_len == p->user_len);
		CHECK(memcmp(q.user, p->user, p->user_len) == 0);
		CHECK(strcmp(q.pass, p->pass_len ? "***" : "") == 0);
	}
}

/* Messages go to logs and terminals: one printable line. */
static void check_message(const char *err)
{
	size_t i;

	CHECK(err[0] != '\0');
	for (i = 0; err[i]; i++)
		CHECK(err[i] >= 0x20 && err[i] < 0x7f);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct socks5_proxy p[SOCKS5_CHAIN_MAX]; /* 430 KiB */
	char text[2048], planted[2100], err[512];
	size_t n = 0, i, n_checked = 0;
	bool ok;

	if (size >= sizeof(text))
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';

	if (socks5_url_parse(text, &p[0], err, sizeof(err)) == SOCKS5_OK)
		check_proxy(&p[0]);
	else
		check_message(err);

	/* The check-only form (no room for the hops) agrees: the same
	 * verdict and length (the reason may differ: it stops at the
	 * first problem in its one pass). */
	ok = socks5_url_parse_chain(text, NULL, SOCKS5_CHAIN_MAX, &n_checked,
				    err, sizeof(err)) == SOCKS5_OK;
	if (!ok)
		check_message(err);
	if (socks5_url_parse_chain(text, p, SOCKS5_CHAIN_MAX, &n, err,
				   sizeof(err)) == SOCKS5_OK) {
		CHECK(ok && n_checked == n);
		CHECK(n >= 1 && n <= SOCKS5_CHAIN_MAX);
		for (i = 0; i < n; i++)
			check_proxy(&p[i]);
	} else {
		CHECK(!ok && n == 0);
		check_message(err);
	}

	/* A known password in front of the fuzzed host part: never shown,
	 * unless the fuzzed text itself contains the marker. */
	if (strstr(text, MARK) || memchr(data, '\0', size))
		return 0;
	snprintf(planted, sizeof(planted), "socks5://u:%s@%s", MARK, text);
	if (socks5_url_parse(planted, &p[0], err, sizeof(err)) != SOCKS5_OK)
		CHECK(!strstr(err, MARK));
	snprintf(planted, sizeof(planted), "socks5://a,socks5h://u:%s@%s", MARK,
		 text);
	if (socks5_url_parse_chain(planted, p, SOCKS5_CHAIN_MAX, &n, err,
				   sizeof(err)) != SOCKS5_OK)
		CHECK(!strstr(err, MARK));
	return 0;
}
