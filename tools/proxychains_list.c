/*
 * proxychains-ng's [ProxyList] entries → proxy URLs (proxychains_int.h).
 *
 * An entry is read as proxychains 4.17 reads it: first
 * sscanf(line, "%s %s %d %s %s", type, host, &port, user, pass), and when
 * that takes fewer than three fields, its proxy_from_string() over the
 * whole line ("socks5://user:pass@host:port"). So text after the fifth
 * field is ignored, a port followed by letters ends there ("1080x": port
 * 1080, user "x"), and an entry with port 0 is skipped, all as there.
 *
 * What proxychains would send and socksify cannot (a SOCKS5 user with an
 * empty password, a SOCKS4 password, a '#...' word read as a user name) is
 * said in a warning; what would go elsewhere (a port outside 1..65535,
 * which proxychains wraps) is refused. A raw entry is a raw:// hop (a
 * plain TCP forwarder, asked nothing; its user and password unused, as
 * there).
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "proxychains_int.h"
#include "socks5.h"

/* RFC 1929 carries a user name and a password of 1..255 bytes each;
 * proxychains fails every connection with longer ones. */
#define CRED_MAX 255

struct pc_entry {
	char type[PC_LINE_MAX + 1];
	char host[PC_LINE_MAX + 1];
	char user[PC_LINE_MAX + 1];
	char pass[PC_LINE_MAX + 1];
	long port;
	bool port_trail; /* "%d" stopped before a blank or the end */
};

bool pc_scan_word(const char **s, char *out, size_t cap)
{
	const char *p = *s;
	size_t n = 0;

	while (isspace((unsigned char)*p))
		p++;
	if (!*p)
		return false;
	while (*p && !isspace((unsigned char)*p)) {
		if (n + 1 < cap)
			out[n++] = *p;
		p++;
	}
	out[n] = '\0';
	*s = p;
	return true;
}

bool pc_scan_int(const char **s, long *v)
{
	const char *p = *s;
	bool neg = false;
	long x = 0;

	while (isspace((unsigned char)*p))
		p++;
	if (*p == '+' || *p == '-')
		neg = *p++ == '-';
	if (!isdigit((unsigned char)*p))
		return false;
	for (; isdigit((unsigned char)*p); p++)
		if (x < 100000000000L) /* far past any int: "out of range" */
			x = x * 10 + (*p - '0');
	*v = neg ? -x : x;
	*s = p;
	return true;
}

/* sscanf(line, "%s %s %d %s %s", ...): the number of fields taken. */
static int scan_fields(const char *line, struct pc_entry *e)
{
	const char *s = line;

	if (!pc_scan_word(&s, e->type, sizeof(e->type)))
		return 0;
	if (!pc_scan_word(&s, e->host, sizeof(e->host)))
		return 1;
	if (!pc_scan_int(&s, &e->port))
		return 2;
	e->port_trail = *s && !isspace((unsigned char)*s);
	if (!pc_scan_word(&s, e->user, sizeof(e->user)))
		return 3;
	if (!pc_scan_word(&s, e->pass, sizeof(e->pass)))
		return 4;
	return 5;
}

/* proxychains' proxy_from_string(): "s????5://", "s????4://" or
 * "h???://", then [user:pass@] up to the last '@', the host up to the
 * next ':', and atoi() of the rest as the port. Its checks, no more. */
static bool url_fields(const char *line, struct pc_entry *e)
{
	const char *at, *colon, *h;
	size_t next = 6;

	if (strnlen(line, 6) < 6)
		return false;
	if (line[0] == 's' && (line[5] == '5' || line[5] == '4')) {
		strcpy(e->type, line[5] == '5' ? "socks5" : "socks4");
	} else if (line[0] == 'h') {
		strcpy(e->type, "http");
		next = 4;
	} else {
		return false;
	}
	if (strncmp(line + next, "://", 3))
		return false;
	next += 3;
	at = strrchr(line + next, '@');
	e->user[0] = e->pass[0] = '\0';
	if (at) {
		colon = strchr(line + next, ':');
		if (!strcmp(e->type, "socks4") || !colon || colon >= at)
			return false;
		if (!strcmp(e->type, "socks5") &&
		    (colon - (line + next) > CRED_MAX || at - colon - 1 > CRED_MAX))
			return false;
		memcpy(e->user, line + next, (size_t)(colon - (line + next)));
		e->user[colon - (line + next)] = '\0';
		memcpy(e->pass, colon + 1, (size_t)(at - colon - 1));
		e->pass[at - colon - 1] = '\0';
		next = (size_t)(at + 1 - line);
	}
	h = line + next;
	colon = strchr(h, ':');
	if (!colon || colon - h > 255)
		return false;
	memcpy(e->host, h, (size_t)(colon - h));
	e->host[colon - h] = '\0';
	h = colon + 1;
	if (!pc_scan_int(&h, &e->port)) /* atoi */
		e->port = 0;
	return true;
}

/* RFC 3986 unreserved characters stay, everything else is %XX. out holds
 * 3 * CRED_MAX + 1 bytes: the longest credential, every byte escaped. The
 * caller has checked the length. */
static void percent_encode(const char *in, char out[3 * CRED_MAX + 1])
{
	static const char hex[] = "0123456789ABCDEF";
	size_t o = 0;

	for (; *in; in++) {
		unsigned char c = (unsigned char)*in;

		if (isalnum(c) || c == '-' || c == '.' || c == '_' || c == '~') {
			out[o++] = (char)c;
		} else {
			out[o++] = '%';
			out[o++] = hex[c >> 4];
			out[o++] = hex[c & 15];
		}
	}
	out[o] = '\0';
}

/* The credentials proxychains would send, as socksify can send them:
 * *with_user tells whether the URL gets user[:pass]. */
static int credentials(struct pc_parser *p, struct pc_entry *e,
		       bool *with_user, bool *with_pass)
{
	bool socks4 = !strcmp(e->type, "socks4");
	bool http = !strcmp(e->type, "http");

	*with_user = *with_pass = false;
	if (!strcmp(e->type, "raw")) {
		e->user[0] = e->pass[0] = '\0';
		return 0; /* proxychains sends a raw hop nothing */
	}
	if (e->user[0] == '#') {
		e->user[0] = e->pass[0] = '\0';
		return pc_warn(p, "'#...' after the port is read as a comment; proxychains sends that word as a user name (and the next one as the password), which only a proxy that asks for a password would notice");
	}
	if (strlen(e->user) > CRED_MAX || strlen(e->pass) > CRED_MAX)
		return pc_err(p, "the %s is %zu bytes long; SOCKS5 (RFC 1929) allows at most %d (socksify's limit for HTTP too), and proxychains fails every connection with a longer one",
			      strlen(e->user) > CRED_MAX ? "user name" : "password",
			      strlen(strlen(e->user) > CRED_MAX ? e->user : e->pass),
			      CRED_MAX);
	if (!e->user[0])
		return e->pass[0] ? pc_warn(p, "a password without a user name: proxychains sends no credentials then, and neither does socksify") : 0;
	if (socks4) {
		*with_user = true;
		return e->pass[0] ? pc_warn(p, "a socks4 entry with a password: SOCKS4 sends a user id only; the password is not sent, as proxychains does not send it either") : 0;
	}
	if (!http && !e->pass[0])
		return pc_warn(p, "a SOCKS5 user name without a password: RFC 1929 needs a password of 1..255 bytes, so socksify offers no authentication (proxychains offers both and sends an empty password if the proxy asks for one)");
	*with_user = *with_pass = true; /* http: "user:" for an empty one */
	return 0;
}

/* A checked entry → "scheme://[user[:pass]@]host:port" into the list. */
static int add_hop(struct pc_parser *p, struct pc_entry *e)
{
	char user[3 * CRED_MAX + 1], pass[3 * CRED_MAX + 1];
	char url[sizeof("socks5h://") + 2 * 3 * CRED_MAX + 2 +
		 SOCKS5_DOMAIN_MAX + 2 + sizeof(":65535")];
	char why[sizeof(url) + 512]; /* the URL quoted, and why */
	struct socks5_proxy hop;
	const char *scheme;
	bool with_user, with_pass, v6 = strchr(e->host, ':') != NULL;
	int rc;

	rc = credentials(p, e, &with_user, &with_pass);
	if (rc)
		return rc;
	if (strlen(e->host) > SOCKS5_DOMAIN_MAX)
		return pc_err(p, "the proxy's host is longer than %d bytes",
			      SOCKS5_DOMAIN_MAX);
	if (p->out->nhops >= SOCKS5_CHAIN_MAX)
		return pc_err(p, "more than %d proxies: socksify holds at most %d hops (proxychains reads up to %d)",
			      SOCKS5_CHAIN_MAX, SOCKS5_CHAIN_MAX, PC_LIST_MAX);
	user[0] = pass[0] = '\0';
	if (with_user)
		percent_encode(e->user, user);
	if (with_pass)
		percent_encode(e->pass, pass);
	/* Names go to the proxy with proxy_dns, as proxychains sends them
	 * (socks4 then speaks 4a); HTTP always carries the name. */
	if (!strcmp(e->type, "http"))
		scheme = "http";
	else if (!strcmp(e->type, "raw"))
		scheme = "raw";
	else if (!strcmp(e->type, "socks4"))
		scheme = p->dns != PC_DNS_LOCAL ? "socks4a" : "socks4";
	else
		scheme = p->dns != PC_DNS_LOCAL ? "socks5h" : "socks5";
	snprintf(url, sizeof(url), "%s://%s%s%s%s%s%s%s:%ld", scheme, user,
		 with_pass ? ":" : "", pass, with_user ? "@" : "",
		 v6 ? "[" : "", e->host, v6 ? "]" : "", e->port);
	explicit_bzero(pass, sizeof(pass));
	why[0] = '\0';
	if (socks5_url_parse(url, &hop, why, sizeof(why)) != SOCKS5_OK) {
		explicit_bzero(url, sizeof(url));
		rc = pc_err(p, "bad %s entry: %s", scheme, why);
		explicit_bzero(why, sizeof(why));
		return rc;
	}
	socks5_proxy_wipe(&hop);
	rc = pc_list_add(&p->out->proxy, url);
	explicit_bzero(url, sizeof(url));
	if (rc)
		return rc;
	p->out->nhops++;
	return 0;
}

static int entry(struct pc_parser *p, const char *line, struct pc_entry *e)
{
	int n;

	memset(e, 0, sizeof(*e));
	n = scan_fields(line, e);
	if (n < 3 && !url_fields(line, e))
		return pc_err(p, "not a proxy entry: TYPE HOST PORT [USER PASS] or socks5://, socks4:// or http://[USER:PASS@]HOST:PORT (socks4 takes no USER:PASS; proxychains refuses this line too)");
	if (strcmp(e->type, "socks5") && strcmp(e->type, "socks4") &&
	    strcmp(e->type, "http") && strcmp(e->type, "raw"))
		return pc_err(p, "unknown proxy type '%.32s' in [ProxyList] (expected socks5, socks4, http or raw, in lower case as proxychains wants)",
			      e->type);
	if (e->port == 0)
		return pc_warn(p, "port 0: proxychains skips this entry without a word, and so does socksify");
	if (e->port < 1 || e->port > 65535)
		return pc_err(p, "port %ld is not in 1..65535 (proxychains would connect to port %ld, what is left of it in 16 bits)",
			      e->port, (long)(unsigned short)e->port);
	if (e->port_trail) {
		int rc = pc_warn(p, "the port is followed by other characters: proxychains reads the port up to them and the rest as a user name, and so does socksify");

		if (rc)
			return rc;
	}
	return add_hop(p, e);
}

int pc_list_line(struct pc_parser *p, const char *line)
{
	struct pc_entry *e;
	int rc;

	if (p->list_full)
		return 0;
	if (p->entries >= PC_LIST_MAX) {
		p->list_full = true;
		return pc_warn(p, "more than %d entries: proxychains reads no further, and neither does socksify",
			       PC_LIST_MAX);
	}
	e = malloc(sizeof(*e));
	if (!e)
		return -ENOMEM;
	rc = entry(p, line, e);
	if (rc == 0 && e->port != 0)
		p->entries++;
	explicit_bzero(e, sizeof(*e));
	free(e);
	return rc;
}
