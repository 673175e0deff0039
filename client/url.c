/*
 * Proxy URLs:  socks5://[user[:pass]@]host[:port][/]   (local DNS)
 *              socks5h://host[:port][/]?auth=gssapi[&service=NAME]
 *                                              (GSSAPI: url_query.c)
 *              socks5h://...                           (the proxy resolves)
 *              socks4://[user@]host[:port][/]          (local DNS, IPv4 only)
 *              socks4a://[user@]host[:port][/]         (the proxy resolves)
 *              http://[user[:pass]@]host[:port][/]     (CONNECT; the proxy
 *                                                       resolves)
 * and comma-separated chains of them, first hop first. Every scheme's
 * default port is 1080, as in curl.
 *
 * Decisions, for the record:
 *  - The scheme is case-insensitive; nothing else about the syntax is lax.
 *  - user and pass are percent-decoded; a bad escape and %00 are errors
 *    (a NUL would silently shorten the credential everywhere it is used).
 *  - The user info ends at the LAST '@': a password with a raw '@', '/',
 *    '?' or '#' still parses, since a proxy URL has no path for them to
 *    belong to.
 *  - A SOCKS5 user always needs a password of 1..255 bytes, "user@host"
 *    and "user:@host" included: RFC 1929 gives PLEN the range 1..255 and
 *    the codec refuses 0, so an empty password is reported here, at
 *    configuration time, rather than as a puzzling handshake failure.
 *    A SOCKS4 user is a user id and nothing else: a password is refused
 *    rather than silently dropped. An HTTP user may have an empty
 *    password ("user@host" sends "user:", as curl does) and may not hold
 *    a ':' (RFC 7617), not even as %3A.
 *  - A SOCKS4 hop (not 4a) must reach the next hop of a chain by an IPv4
 *    address: it cannot carry a name, and this library resolves nothing.
 *  - https:// (TLS to the proxy) is refused with its own message.
 *  - host is a name of [A-Za-z0-9._-] or an IPv6 literal in brackets
 *    (checked with inet_pton, stored without brackets). Any other text
 *    after host[:port] except a single "/" is SOCKS5_E_URL_GARBAGE.
 *  - Messages quote the URL with everything between the user's ':' and the
 *    last '@' replaced by "***", computed from the raw text the same way
 *    the parser splits it, so even a URL that fails to parse never shows
 *    its password.
 *  - In a chain, a comma separates hops only when what follows it (after
 *    blanks) is the end, another comma, or a new "scheme://", and a hop
 *    that starts with a comma is empty. A raw comma inside a password thus
 *    stays in its URL instead of cutting it in two and exposing half the
 *    password in an error message (only ",scheme://" inside a password
 *    needs escaping, as %2C).
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "hs.h"
#include "sbuf.h"
#include "socks5_gssapi.h"
#include "wipe.h"

/*
 * Where the password of the URL s[0..n) is: the text between the first ':'
 * of the user info and the last '@'; a first ':' followed by "//" is the
 * scheme's, so the user info starts after it. False when there is none.
 */
static bool password_span(const char *s, size_t n, size_t *from, size_t *to)
{
	const char *at = memrchr(s, '@', n);
	const char *colon;

	if (!at)
		return false;
	colon = memchr(s, ':', (size_t)(at - s));
	if (colon && at - colon >= 3 && colon[1] == '/' && colon[2] == '/')
		colon = memchr(colon + 1, ':', (size_t)(at - colon - 1));
	if (!colon)
		return false;
	*from = (size_t)(colon + 1 - s);
	*to = (size_t)(at - s);
	return true;
}

/* The URL as quoted in messages, the password as "***". */
static void sb_put_masked(struct sbuf *b, const char *s, size_t n)
{
	size_t from, to;

	if (!password_span(s, n, &from, &to)) {
		sb_put_text(b, s, n);
		return;
	}
	sb_put_text(b, s, from);
	sb_put_text(b, "***", 3);
	sb_put_text(b, s + to, n - to);
}

static bool is_host_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	       (c >= '0' && c <= '9') || c == '-' || c == '.' || c == '_';
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

enum decode_result { DEC_OK, DEC_BAD_ESCAPE, DEC_NUL, DEC_TOO_LONG };

/* Percent-decodes s[0..n) into out (at most SOCKS5_DOMAIN_MAX bytes plus a
 * NUL). *bad gets the offset of a faulty escape. */
static enum decode_result pct_decode(const char *s, size_t n, char *out,
				     size_t *outlen, size_t *bad)
{
	size_t i, o = 0;

	for (i = 0; i < n; i++) {
		int c = (unsigned char)s[i];

		if (c == '%') {
			*bad = i;
			if (i + 2 >= n || hexval(s[i + 1]) < 0 ||
			    hexval(s[i + 2]) < 0)
				return DEC_BAD_ESCAPE;
			c = hexval(s[i + 1]) * 16 + hexval(s[i + 2]);
			if (c == 0)
				return DEC_NUL;
			i += 2;
		}
		if (o == SOCKS5_DOMAIN_MAX)
			return DEC_TOO_LONG;
		out[o++] = (char)c;
	}
	out[o] = '\0';
	*outlen = o;
	return DEC_OK;
}

/* user[:pass] from s[0..n), the text before the last '@'. */
static enum socks5_status parse_userinfo(const char *s, size_t n,
					 struct socks5_proxy *p,
					 struct sbuf *why)
{
	bool socks4 = p->type == SOCKS5_HOP_SOCKS4 ||
		      p->type == SOCKS5_HOP_SOCKS4A;
	const char *colon = memchr(s, ':', n);
	size_t ulen = colon ? (size_t)(colon - s) : n;
	size_t len = 0, bad = 0;

	if (p->type == SOCKS5_HOP_RAW || ulen == 0) {
		sb_printf(why, p->type == SOCKS5_HOP_RAW ?
				       "a raw hop (a plain TCP forwarder) takes no user" :
				       "the user name is empty");
		return SOCKS5_E_URL_USER;
	}
	switch (pct_decode(s, ulen, p->user, &len, &bad)) {
	case DEC_OK:
		break;
	case DEC_BAD_ESCAPE:
		sb_printf(why, "bad percent escape \"");
		sb_put_text(why, s + bad, ulen - bad < 3 ? ulen - bad : 3);
		sb_printf(why, "\" in the user name");
		return SOCKS5_E_URL_ESCAPE;
	case DEC_NUL:
		sb_printf(why, "%%00 (a NUL byte) is not allowed in the user name");
		return SOCKS5_E_URL_ESCAPE;
	case DEC_TOO_LONG:
		sb_printf(why, "the user name is longer than 255 bytes");
		return SOCKS5_E_URL_USER;
	}
	p->user_len = (uint8_t)len;
	p->has_auth = true;

	if (socks4 && colon) {
		sb_printf(why, "a SOCKS4 hop takes a user id only, no password");
		return SOCKS5_E_URL_PASS;
	}
	if (p->type == SOCKS5_HOP_HTTP && memchr(p->user, ':', len)) {
		sb_printf(why, "an HTTP Basic user name cannot hold a ':' (RFC 7617)");
		return SOCKS5_E_URL_USER;
	}
	if (socks4 || (p->type == SOCKS5_HOP_HTTP &&
		       (!colon || colon + 1 == s + n)))
		return SOCKS5_OK; /* no password, or an empty one */
	if (!colon || colon + 1 == s + n) {
		sb_printf(why, "user \"");
		sb_put_text(why, s, ulen);
		sb_printf(why, "\" has no password (RFC 1929 needs 1..255 bytes)");
		return SOCKS5_E_URL_PASS;
	}
	/* Messages about the password never quote any of it. */
	switch (pct_decode(colon + 1, (size_t)(s + n - colon - 1), p->pass, &len,
			   &bad)) {
	case DEC_OK:
		break;
	case DEC_BAD_ESCAPE:
		sb_printf(why, "bad percent escape in the password");
		return SOCKS5_E_URL_ESCAPE;
	case DEC_NUL:
		sb_printf(why, "%%00 (a NUL byte) is not allowed in the password");
		return SOCKS5_E_URL_ESCAPE;
	case DEC_TOO_LONG:
		sb_printf(why, "the password is longer than 255 bytes");
		return SOCKS5_E_URL_PASS;
	}
	p->pass_len = (uint8_t)len;
	return SOCKS5_OK;
}

/* An unbracketed IPv6 literal starts with hex digits (or nothing). */
static bool all_hex(const char *s, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (hexval(s[i]) < 0)
			return false;
	return true;
}

/* "[v6]" at s[0..n): stores the address without brackets, *used = length. */
static enum socks5_status parse_ipv6_host(const char *s, size_t n,
					  struct socks5_proxy *p, size_t *used,
					  struct sbuf *why)
{
	const char *rb = memchr(s, ']', n);
	char tmp[INET6_ADDRSTRLEN + 1];
	struct in6_addr a6;
	size_t hlen;

	if (!rb) {
		sb_printf(why, "the IPv6 address has no closing \"]\"");
		return SOCKS5_E_URL_HOST;
	}
	hlen = (size_t)(rb - s - 1);
	if (hlen == 0) {
		sb_printf(why, "the host is empty");
		return SOCKS5_E_URL_HOST;
	}
	if (hlen < sizeof(tmp)) {
		memcpy(tmp, s + 1, hlen);
		tmp[hlen] = '\0';
	}
	if (hlen >= sizeof(tmp) || inet_pton(AF_INET6, tmp, &a6) != 1) {
		sb_printf(why, "\"");
		sb_put_text(why, s, hlen + 2);
		sb_printf(why, "\" is not a valid IPv6 address");
		return SOCKS5_E_URL_HOST;
	}
	memcpy(p->host, tmp, hlen + 1);
	*used = hlen + 2;
	return SOCKS5_OK;
}

/* The decimal port in s[0..n), the text after ':'. */
static enum socks5_status parse_port(const char *s, size_t n,
				     struct socks5_proxy *p, struct sbuf *why)
{
	unsigned long v = 0;
	size_t i;

	if (n == 0) {
		sb_printf(why, "the port is empty after \":\"");
		return SOCKS5_E_URL_PORT;
	}
	for (i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9') {
			sb_printf(why, "port \"");
			sb_put_text(why, s, n);
			sb_printf(why, "\" is not a decimal number");
			return SOCKS5_E_URL_PORT;
		}
		if (v <= 65535) /* saturate: any longer number is too big */
			v = v * 10 + (unsigned long)(s[i] - '0');
	}
	if (v < 1 || v > 65535) {
		sb_printf(why, "port ");
		sb_put_text(why, s, n);
		sb_printf(why, " is out of range (1..65535)");
		return SOCKS5_E_URL_PORT;
	}
	p->port = (uint16_t)v;
	return SOCKS5_OK;
}

/* The characters that end a URL's authority (RFC 3986, 3.2): after the
 * host or the port, a path, a query or a fragment begins. Every test of
 * where the host or the port ends asks this, so that a delimiter added
 * here is seen everywhere (an empty host before '?' once slipped through
 * a test that listed only ':' and '/'). */
static bool ends_authority(char c)
{
	return c == '/' || c == '?' || c == '#';
}

/* host[:port][/] from s[0..n), the text after the user info. */
static enum socks5_status parse_hostport(const char *s, size_t n,
					 struct socks5_proxy *p,
					 struct sbuf *why)
{
	enum socks5_status st;
	size_t i = 0, end;

	if (n && s[0] == '[') {
		st = parse_ipv6_host(s, n, p, &i, why);
		if (st != SOCKS5_OK)
			return st;
	} else {
		while (i < n && is_host_char(s[i]))
			i++;
		if (i < n && s[i] == ':' && all_hex(s, i) &&
		    memchr(s + i + 1, ':', n - i - 1)) {
			sb_printf(why, "an IPv6 address must be in brackets, as in socks5://[::1]:1080");
			return SOCKS5_E_URL_HOST;
		}
		if (i == 0 && (n == 0 || s[0] == ':' || ends_authority(s[0]))) {
			sb_printf(why, "the host is empty");
			return SOCKS5_E_URL_HOST;
		}
		if (i > SOCKS5_DOMAIN_MAX) {
			sb_printf(why, "the host name is longer than 255 bytes");
			return SOCKS5_E_URL_HOST;
		}
		memcpy(p->host, s, i);
		p->host[i] = '\0';
	}

	p->port = SOCKS5_DEFAULT_PORT;
	if (i < n && s[i] == ':') {
		for (end = i + 1; end < n; end++)
			if (ends_authority(s[end]))
				break;
		st = parse_port(s + i + 1, end - i - 1, p, why);
		if (st != SOCKS5_OK)
			return st;
		i = end;
	}

	if (i < n && s[i] == '/' && i + 1 < n && s[i + 1] == '?')
		i++;
	if (i < n && s[i] == '?') { /* ?auth=gssapi&service=NAME */
		const char *msg = "";

		st = socks5_url_query(s + i + 1, n - i - 1, p, &msg);
		if (st != SOCKS5_OK)
			sb_printf(why, "%s", msg);
		return st;
	}
	if (i == n || (i + 1 == n && s[i] == '/'))
		return SOCKS5_OK;
	sb_printf(why, "unexpected \"");
	sb_put_text(why, s + i, n - i);
	if (i == 0)
		sb_printf(why, "\" where the host should be");
	else if (ends_authority(s[i]))
		sb_printf(why, "\" after the host (a proxy URL has no path, query or fragment)");
	else
		sb_printf(why, "\" after the host");
	if (s[i] == ',')
		sb_printf(why, "; each hop of a chain needs its own scheme:// (socks5://, socks5h://, socks4://, socks4a://, http://)");
	return SOCKS5_E_URL_GARBAGE;
}

static bool is_scheme_char(char c, bool first)
{
	if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'))
		return true;
	return !first && ((c >= '0' && c <= '9') || c == '+' || c == '-' ||
			  c == '.');
}

/* Length of an RFC 3986 scheme followed by "://" at s, else 0. */
static size_t scheme_len(const char *s, size_t n)
{
	size_t i = 0;

	while (i < n && is_scheme_char(s[i], i == 0))
		i++;
	if (i == 0 || n - i < 3 || memcmp(s + i, "://", 3) != 0)
		return 0;
	return i;
}

/* One URL in s[0..n). *out is written only on success. */
static enum socks5_status parse_one(const char *s, size_t n,
				    struct socks5_proxy *out, struct sbuf *why)
{
	struct socks5_proxy p;
	enum socks5_status st = SOCKS5_OK;
	static const struct {
		const char *name;
		uint8_t type;
		bool remote_dns;
	} schemes[] = {
		{ "socks5", SOCKS5_HOP_SOCKS5, false },
		{ "socks5h", SOCKS5_HOP_SOCKS5, true },
		{ "socks4", SOCKS5_HOP_SOCKS4, false },
		{ "socks4a", SOCKS5_HOP_SOCKS4A, true },
		{ "http", SOCKS5_HOP_HTTP, true },
		{ "raw", SOCKS5_HOP_RAW, false },
	};
	const char *rest, *at;
	size_t skip, k, i;
	bool secret;

	memset(&p, 0, sizeof(p));
	k = scheme_len(s, n);
	for (i = 0; k && i < sizeof(schemes) / sizeof(schemes[0]); i++)
		if (strlen(schemes[i].name) == k &&
		    strncasecmp(s, schemes[i].name, k) == 0)
			break;
	if (!k || i == sizeof(schemes) / sizeof(schemes[0])) {
		if (k == 5 && strncasecmp(s, "https", 5) == 0) {
			sb_printf(why, "HTTPS proxies (TLS to the proxy) are not supported: use http:// (CONNECT in the clear)");
		} else if (k) {
			sb_printf(why, "scheme \"");
			sb_put_text(why, s, k);
			sb_printf(why, "\" is not supported: use socks5://, socks5h://, socks4://, socks4a:// or http://");
		} else {
			sb_printf(why, "missing scheme: write socks5://HOST[:PORT], socks5h://, socks4://, socks4a:// or http://");
		}
		return SOCKS5_E_URL_SCHEME;
	}
	p.type = schemes[i].type;
	p.remote_dns = schemes[i].remote_dns;
	skip = k + 3;
	rest = s + skip;
	n -= skip;
	at = memrchr(rest, '@', n);
	if (at) {
		st = parse_userinfo(rest, (size_t)(at - rest), &p, why);
		n -= (size_t)(at + 1 - rest);
		rest = at + 1;
	}
	if (st == SOCKS5_OK)
		st = parse_hostport(rest, n, &p, why);
	if (st == SOCKS5_OK)
		*out = p;
	secret = p.has_auth;
	explicit_bzero(&p, sizeof(p));
	if (secret)
		socks5_wipe_registers(); /* the decoded password went by (wipe.h) */
	return st;
}

/* Parses s[0..n) and, on failure, writes the full message into err. */
static enum socks5_status parse_report(const char *s, size_t n,
				       struct socks5_proxy *out, char *err,
				       size_t errcap, size_t hop, size_t nhops)
{
	char reason[320];
	struct sbuf why, msg;
	enum socks5_status st;

	sb_init(&why, reason, sizeof(reason));
	sb_init(&msg, err, errcap);
	st = parse_one(s, n, out, &why);
	if (st == SOCKS5_OK)
		return st;
	if (nhops > 1)
		sb_printf(&msg, "hop %zu of %zu: ", hop, nhops);
	sb_printf(&msg, "proxy URL \"");
	sb_put_masked(&msg, s, n);
	sb_printf(&msg, "\": %s", reason);
	return st;
}

enum socks5_status socks5_url_parse(const char *url, struct socks5_proxy *out,
				    char *err, size_t errcap)
{
	struct sbuf msg;

	if (!url || !out) {
		sb_init(&msg, err, errcap);
		sb_printf(&msg, "no proxy URL given");
		return SOCKS5_E_ARG;
	}
	return parse_report(url, strlen(url), out, err, errcap, 1, 1);
}

static bool is_blank(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' ||
	       c == '\v';
}

/* Whether the comma before s separates hops (see the top of the file).
 * Schemes are short: looking 32 bytes ahead keeps a list of many commas
 * linear. */
static bool starts_hop(const char *s)
{
	while (is_blank(*s))
		s++;
	return *s == '\0' || *s == ',' || scheme_len(s, strnlen(s, 32)) > 0;
}

/* The hop starting at s, trimmed: its start, *len; *next is the text after
 * its separating comma, or NULL after the last hop. */
static const char *next_hop(const char *s, size_t *len, const char **next)
{
	const char *comma = s, *end;

	while (is_blank(*comma))
		comma++;
	/* A hop that starts with a comma is empty, whatever follows. */
	if (*comma != ',')
		while ((comma = strchr(comma, ',')) && !starts_hop(comma + 1))
			comma++;
	end = comma ? comma : s + strlen(s);
	*next = comma ? comma + 1 : NULL;
	while (s < end && is_blank(*s))
		s++;
	while (end > s && is_blank(end[-1]))
		end--;
	*len = (size_t)(end - s);
	return s;
}

/* Hop i's place: out[i], or with no out (a check only) one of two
 * scratch proxies, the hop before it being the other. */
static struct socks5_proxy *chain_slot(struct socks5_proxy *out,
				       struct socks5_proxy *scratch, size_t i)
{
	return out ? &out[i] : &scratch[i & 1];
}

/* A socks4:// hop reaches the next one by an IPv4 address only. */
static bool socks4_reaches(const struct socks5_proxy *hop,
			   const struct socks5_proxy *next)
{
	struct in_addr a4;

	return hop->type != SOCKS5_HOP_SOCKS4 ||
	       inet_pton(AF_INET, next->host, &a4) == 1;
}

enum socks5_status socks5_url_parse_chain(const char *list,
					  struct socks5_proxy *out, size_t max,
					  size_t *n, char *err, size_t errcap)
{
	struct socks5_proxy scratch[2];
	const char *cur, *hop;
	size_t count = 0, empty = 0, len, i, bad;
	enum socks5_status st;
	struct sbuf msg;

	sb_init(&msg, err, errcap);
	if (!list || !n) {
		sb_printf(&msg, "no proxy list given");
		return SOCKS5_E_ARG;
	}
	*n = 0;
	for (cur = list; cur; count++) {
		next_hop(cur, &len, &cur);
		if (len == 0 && !empty)
			empty = count + 1;
	}
	if (empty) {
		if (count == 1)
			sb_printf(&msg, "the proxy list is empty");
		else
			sb_printf(&msg, "proxy chain: hop %zu of %zu is empty (a stray comma?)",
				  empty, count);
		return SOCKS5_E_URL_CHAIN;
	}
	if (count > max) {
		sb_printf(&msg, "proxy chain has %zu hops; at most %zu are allowed",
			  count, max);
		return SOCKS5_E_URL_CHAIN;
	}
	for (cur = list, i = 0; cur; i++) {
		hop = next_hop(cur, &len, &cur);
		st = parse_report(hop, len, chain_slot(out, scratch, i), err,
				  errcap, i + 1, count);
		if (st != SOCKS5_OK) {
			while (out && i > 0) /* hop i itself holds nothing */
				socks5_proxy_wipe(&out[--i]);
			explicit_bzero(scratch, sizeof(scratch));
			return st;
		}
		bad = i - 1;
		if (!out && i && !socks4_reaches(&scratch[bad & 1],
						 &scratch[i & 1]))
			goto socks4;
	}
	for (bad = 0; out && bad + 1 < count; bad++)
		if (!socks4_reaches(&out[bad], &out[bad + 1]))
			goto socks4;
	explicit_bzero(scratch, sizeof(scratch));
	*n = count;
	return SOCKS5_OK;
socks4:
	sb_printf(&msg, "proxy chain: hop %zu is socks4://, which can reach hop %zu only by an IPv4 address, not \"",
		  bad + 1, bad + 2);
	hop = chain_slot(out, scratch, bad + 1)->host;
	sb_put_text(&msg, hop, strlen(hop));
	sb_printf(&msg, "\" (use socks4a:// for a name)");
	for (i = count; out && i > 0;)
		socks5_proxy_wipe(&out[--i]);
	explicit_bzero(scratch, sizeof(scratch));
	return SOCKS5_E_URL_CHAIN;
}

void socks5_url_hide_passwords(char *list)
{
	const char *cur, *hop;
	size_t len, from, to;

	for (cur = list; cur && *cur;) {
		hop = next_hop(cur, &len, &cur);
		if (password_span(hop, len, &from, &to))
			memset(list + (hop - list) + from, '*', to - from);
	}
}

static bool is_unreserved(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	       (c >= '0' && c <= '9') || c == '-' || c == '.' || c == '_' ||
	       c == '~';
}

/* The user is percent-encoded where needed, so the text parses back. */
void socks5_url_format(const struct socks5_proxy *p, char *buf, size_t cap)
{
	struct sbuf b;
	size_t i;

	sb_init(&b, buf, cap);
	if (!p) {
		sb_printf(&b, "(null)");
		return;
	}
	if (p->type == SOCKS5_HOP_SOCKS5)
		sb_printf(&b, "%s://", p->remote_dns ? "socks5h" : "socks5");
	else
		sb_printf(&b, "%s://", socks5_hop_type_name(p->type));
	if (p->has_auth) {
		for (i = 0; i < p->user_len; i++) {
			unsigned char c = (unsigned char)p->user[i];

			if (is_unreserved(c))
				sb_putc(&b, (char)c);
			else
				sb_printf(&b, "%%%02X", c);
		}
		sb_printf(&b, p->pass_len ? ":***@" : "@");
	}
	if (strchr(p->host, ':')) {
		sb_putc(&b, '[');
		sb_put_text(&b, p->host, strnlen(p->host, sizeof(p->host)));
		sb_putc(&b, ']');
	} else {
		sb_put_text(&b, p->host, strnlen(p->host, sizeof(p->host)));
	}
	sb_printf(&b, ":%u", p->port);
	if (p->gssapi)
		sb_printf(&b, "?auth=gssapi%s%s%s%s", p->gss_service[0] ? "&service=" : "",
			  p->gss_service, p->gss_level_set ? "&level=" : "",
			  p->gss_level_set ? socks5_gss_level_name(p->gss_level) : "");
}

void socks5_proxy_wipe(struct socks5_proxy *p)
{
	if (!p)
		return;
	explicit_bzero(p->user, sizeof(p->user));
	explicit_bzero(p->pass, sizeof(p->pass));
	explicit_bzero(&p->user_len, sizeof(p->user_len));
	explicit_bzero(&p->pass_len, sizeof(p->pass_len));
	p->has_auth = false;
}
