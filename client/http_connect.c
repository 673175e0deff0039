/*
 * HTTP CONNECT (RFC 9110 section 9.3.6; message syntax RFC 9112), with
 * Basic authentication (RFC 7617), as a pure codec: the encoder fills a
 * caller's buffer, the reply parser is fed bytes as they come. No I/O, no
 * allocation, no globals, no locale, nothing that is not async-signal-safe
 * (the addresses and base64 are written by hand, not with snprintf).
 *
 *   CONNECT server.example.com:80 HTTP/1.1
 *   Host: server.example.com:80
 *   Proxy-Authorization: Basic dXNlcjpwYXNz      (with a user)
 *
 *   HTTP/1.1 200 Connection established           (any 2xx: the tunnel)
 *   *( field-line CRLF )
 *   CRLF                                          (then the tunnel's bytes)
 *
 * The one hard part is the reply's end: what follows the empty line
 * belongs to the program (a server that talks first, SSH, SMTP), so the
 * parser never takes it, and tells its reader, after each byte, the least
 * the rest of a valid block can take; a reader that reads no more than
 * that never reads past the block, whatever the proxy sends and however
 * the bytes are split (the same rule as the SOCKS5 codec's "need N").
 * curl (lib/cf-h1-proxy.c) reads the reply one byte at a time for the
 * same reason; counting the terminator's missing bytes takes 4 at a time
 * in a header line, 16 at the start.
 */
#include <string.h>
#include <strings.h>

#include "socks5.h"

/* A name that can go in a request line and a Host header as it is. */
static bool host_char(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	       (c >= '0' && c <= '9') || c == '-' || c == '.' || c == '_';
}

struct out {
	uint8_t *p;
	size_t cap, n;
	bool full;
};

static void put(struct out *o, const void *s, size_t n)
{
	if (o->full || o->cap - o->n < n) {
		o->full = true;
		return;
	}
	memcpy(o->p + o->n, s, n);
	o->n += n;
}

static void put_str(struct out *o, const char *s)
{
	put(o, s, strlen(s));
}

static void put_dec(struct out *o, unsigned v)
{
	char d[10];
	size_t i = sizeof(d);

	do {
		d[--i] = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	put(o, d + i, sizeof(d) - i);
}

static void put_hex16(struct out *o, unsigned v)
{
	static const char hex[] = "0123456789abcdef";
	char d[4];
	size_t i = sizeof(d);

	do {
		d[--i] = hex[v & 15];
		v >>= 4;
	} while (v);
	put(o, d + i, sizeof(d) - i);
}

/* host:port in the authority form; IPv6 in brackets, its eight groups
 * written out (no "::" shortening: as valid, and simpler). */
static void put_authority(struct out *o, const struct socks5_addr *a)
{
	size_t i;

	if (a->atyp == SOCKS5_ATYP_IPV4) {
		for (i = 0; i < 4; i++) {
			if (i)
				put(o, ".", 1);
			put_dec(o, a->u.ipv4[i]);
		}
	} else if (a->atyp == SOCKS5_ATYP_IPV6) {
		put(o, "[", 1);
		for (i = 0; i < 16; i += 2) {
			if (i)
				put(o, ":", 1);
			put_hex16(o, (unsigned)a->u.ipv6[i] << 8 | a->u.ipv6[i + 1]);
		}
		put(o, "]", 1);
	} else {
		put(o, a->u.domain, a->len);
	}
	put(o, ":", 1);
	put_dec(o, a->port);
}

/* Byte k of user ":" pass, without joining them in a buffer. */
static uint8_t cred_byte(const char *user, size_t ulen, const char *pass,
			 size_t k)
{
	if (k < ulen)
		return (uint8_t)user[k];
	if (k == ulen)
		return ':';
	return (uint8_t)pass[k - ulen - 1];
}

static void put_basic(struct out *o, const char *user, size_t ulen,
		      const char *pass, size_t plen)
{
	static const char b64[] =
		"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	size_t total = ulen + 1 + plen, k;

	for (k = 0; k < total; k += 3) {
		uint32_t v = (uint32_t)cred_byte(user, ulen, pass, k) << 16;
		size_t left = total - k;
		char q[4];

		if (left > 1)
			v |= (uint32_t)cred_byte(user, ulen, pass, k + 1) << 8;
		if (left > 2)
			v |= cred_byte(user, ulen, pass, k + 2);
		q[0] = b64[v >> 18 & 63];
		q[1] = b64[v >> 12 & 63];
		q[2] = left > 1 ? b64[v >> 6 & 63] : '=';
		q[3] = left > 2 ? b64[v & 63] : '=';
		put(o, q, 4);
		v = 0;
	}
}

enum socks5_status socks5_encode_http_connect(uint8_t *buf, size_t cap,
					      const struct socks5_addr *dst,
					      const char *user, size_t ulen,
					      const char *pass, size_t plen,
					      size_t *len)
{
	struct out o = { .p = buf, .cap = cap };
	size_t i;

	if (!buf || !dst || !len || (ulen && !user) || (plen && !pass))
		return SOCKS5_E_ARG;
	if (ulen > SOCKS5_DOMAIN_MAX || (ulen && memchr(user, ':', ulen)))
		return SOCKS5_E_USER_LENGTH; /* RFC 7617: no ':' in a user-id */
	if (plen > SOCKS5_DOMAIN_MAX)
		return SOCKS5_E_PASS_LENGTH;
	if (dst->atyp == SOCKS5_ATYP_DOMAIN) {
		if (dst->len == 0)
			return SOCKS5_E_DOMAIN_LENGTH;
		for (i = 0; i < dst->len; i++)
			if (!host_char((unsigned char)dst->u.domain[i]))
				return SOCKS5_E_HOST_CHARS;
	} else if (dst->atyp != SOCKS5_ATYP_IPV4 &&
		   dst->atyp != SOCKS5_ATYP_IPV6) {
		return SOCKS5_E_ARG;
	}
	put_str(&o, "CONNECT ");
	put_authority(&o, dst);
	put_str(&o, " HTTP/1.1\r\nHost: ");
	put_authority(&o, dst);
	put_str(&o, "\r\n");
	if (ulen) {
		put_str(&o, "Proxy-Authorization: Basic ");
		put_basic(&o, user, ulen, pass, plen);
		put_str(&o, "\r\n");
	}
	put_str(&o, "\r\n");
	if (o.full) {
		explicit_bzero(buf, cap < o.n ? cap : o.n);
		return SOCKS5_E_BUFFER;
	}
	*len = o.n;
	return SOCKS5_OK;
}

/* ------------------------------------------------------------------ */
/* The reply                                                            */

/* The shortest status line: "HTTP/1.1 200". */
#define STATUS_LINE_MIN 12

void socks5_http_reply_init(struct socks5_http_reply *r)
{
	memset(r, 0, sizeof(*r));
	r->first = true;
}

/* RFC 9110 token characters (a field name, an auth scheme). */
static bool tchar(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	       (c >= '0' && c <= '9') || (c && strchr("!#$%&'*+-.^_`|~", c));
}

static bool digit(char c)
{
	return c >= '0' && c <= '9';
}

/* Printable ASCII of s[0..n) into dst (cap bytes, terminated), after what
 * it holds; anything else becomes '?'. */
static void append_text(char *dst, size_t cap, const char *s, size_t n)
{
	size_t o = strnlen(dst, cap - 1), i;

	for (i = 0; i < n && o + 1 < cap; i++) {
		unsigned char c = (unsigned char)s[i];

		dst[o++] = c >= 0x20 && c < 0x7f ? (char)c : '?';
	}
	dst[o] = '\0';
}

/* "HTTP/1.x NNN[ reason]" in the kept bytes (at least the first 12). */
static enum socks5_status status_line(struct socks5_http_reply *r)
{
	const char *l = r->line;
	size_t kept = r->line_len < sizeof(r->line) ? r->line_len :
						       sizeof(r->line);

	if (r->line_len < STATUS_LINE_MIN || memcmp(l, "HTTP/1.", 7) != 0 ||
	    !digit(l[7]) || l[8] != ' ' || !digit(l[9]) || !digit(l[10]) ||
	    !digit(l[11]) || l[9] < '1' || l[9] > '5' ||
	    (r->line_len > STATUS_LINE_MIN && l[12] != ' '))
		return SOCKS5_E_HTTP_STATUS_LINE;
	r->status = (uint16_t)((l[9] - '0') * 100 + (l[10] - '0') * 10 +
			       (l[11] - '0'));
	if (kept > STATUS_LINE_MIN + 1)
		append_text(r->reason, sizeof(r->reason),
			    l + STATUS_LINE_MIN + 1, kept - STATUS_LINE_MIN - 1);
	return SOCKS5_OK;
}

/* A complete field line: only Proxy-Authenticate matters, for its
 * scheme (the token before the first blank or comma). */
static void field_line(struct socks5_http_reply *r)
{
	static const char name[] = "proxy-authenticate:";
	size_t kept = r->line_len < sizeof(r->line) ? r->line_len :
						       sizeof(r->line);
	size_t i = sizeof(name) - 1, s;

	if (kept < i || strncasecmp(r->line, name, i) != 0)
		return;
	while (i < kept && (r->line[i] == ' ' || r->line[i] == '\t'))
		i++;
	for (s = i; i < kept && tchar((unsigned char)r->line[i]); i++)
		;
	if (i == s)
		return;
	if (r->auth[0])
		append_text(r->auth, sizeof(r->auth), ", ", 2);
	append_text(r->auth, sizeof(r->auth), r->line + s, i - s);
}

/* One byte. SOCKS5_NEED_MORE: go on; SOCKS5_OK: it ended the block. */
static enum socks5_status take(struct socks5_http_reply *r, unsigned char c)
{
	enum socks5_status bad = r->first ? SOCKS5_E_HTTP_STATUS_LINE :
					    SOCKS5_E_HTTP_HEADER;

	if (r->total >= SOCKS5_HTTP_HEADER_MAX)
		return SOCKS5_E_HTTP_TOO_BIG;
	r->total++;
	if (c == '\r') {
		if (r->ends == 1 || r->ends == 3)
			return bad; /* CR CR */
		if (r->line_len == 0 && r->first)
			return bad;
		r->ends = r->line_len == 0 ? 3 : 1;
		return SOCKS5_NEED_MORE;
	}
	if (c == '\n') {
		if (r->ends == 3)
			return SOCKS5_OK;
		if (r->ends != 1)
			return bad; /* a bare LF */
		if (r->first) {
			enum socks5_status st = status_line(r);

			if (st != SOCKS5_OK)
				return st;
			r->first = false;
		} else {
			/* A field line needs its ':' (a folded one is
			 * a continuation of the previous). */
			if (!r->fold && !r->colon)
				return SOCKS5_E_HTTP_HEADER;
			field_line(r);
		}
		r->line_len = 0;
		r->colon = r->fold = false;
		r->ends = 2;
		return SOCKS5_NEED_MORE;
	}
	if (r->ends == 1 || r->ends == 3)
		return bad; /* a bare CR */
	if ((c < 0x20 && c != '\t') || c == 0x7f)
		return bad;
	if (!r->first && r->line_len == 0 && (c == ' ' || c == '\t')) {
		r->fold = true;
	} else if (!r->first && !r->fold && !r->colon) {
		/* the field name: a token, then ':' */
		if (c == ':' && r->line_len > 0)
			r->colon = true;
		else if (!tchar(c))
			return SOCKS5_E_HTTP_HEADER;
	}
	if (r->line_len < sizeof(r->line))
		r->line[r->line_len] = (char)c;
	r->line_len++;
	r->ends = 0;
	return SOCKS5_NEED_MORE;
}

/* The least the rest of a valid block takes, from where the parser is. */
static size_t least_rest(const struct socks5_http_reply *r)
{
	static const size_t terminator[4] = { 4, 3, 2, 1 };
	size_t n = terminator[r->ends];

	if (r->first && r->ends == 0 && r->line_len < STATUS_LINE_MIN)
		n += STATUS_LINE_MIN - r->line_len;
	return n;
}

enum socks5_status socks5_http_reply_feed(struct socks5_http_reply *r,
					  const uint8_t *buf, size_t n,
					  size_t *used, size_t *want)
{
	enum socks5_status st;
	size_t i;

	if (!r || !used || !want || (n && !buf))
		return SOCKS5_E_ARG;
	for (i = 0; i < n; i++) {
		st = take(r, buf[i]);
		if (st == SOCKS5_OK) {
			*used = i + 1;
			*want = 0;
			return SOCKS5_OK;
		}
		if (st != SOCKS5_NEED_MORE) {
			*used = i + 1; /* the bad byte included */
			*want = 0;
			return st;
		}
	}
	*used = n;
	*want = least_rest(r);
	if (r->total + *want > SOCKS5_HTTP_HEADER_MAX) {
		*want = 0;
		return SOCKS5_E_HTTP_TOO_BIG;
	}
	return SOCKS5_NEED_MORE;
}
