/*
 * proxychains-ng configuration → socksify settings (see the header for the
 * mapping). The file is read line by line: options first, then, after
 * "[ProxyList]", one proxy per line. Fields are separated by blanks or tabs;
 * a field that starts with '#' ends the line (so a password may contain a
 * '#', as it can in proxychains, which reads fields with sscanf).
 *
 * Messages name the file and line and never repeat a whole line, which may
 * hold a password.
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "proxychains_conf.h"
#include "socks5.h"

#define MAX_FIELDS 8
#define FILE_MAX (1024 * 1024)
#define TIMEOUT_MAX_MS 600000L /* SOCKSIFY_TIMEOUT_MS's upper bound */

struct pc_parser {
	const char *name;
	unsigned line;
	bool strict;
	bool in_list;
	long chain_len;          /* 0: not given */
	unsigned chain_len_line;
	bool have_mode;          /* a *_chain line was read */
	long read_ms, connect_ms; /* -1: not given */
	struct sfy_pc *out;
	char *err;
	size_t errcap;
};

static int perr(struct pc_parser *p, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* "NAME:LINE: message" into the caller's buffer; returns -EINVAL. */
static int perr(struct pc_parser *p, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (!p->errcap)
		return -EINVAL;
	n = snprintf(p->err, p->errcap, "%s:%u: ", p->name, p->line);
	if (n < 0 || (size_t)n >= p->errcap)
		return -EINVAL;
	va_start(ap, fmt);
	vsnprintf(p->err + n, p->errcap - (size_t)n, fmt, ap);
	va_end(ap);
	return -EINVAL;
}

/* A message for something honoured approximately; an error when strict. */
static int pwarn(struct pc_parser *p, const char *what)
{
	struct sfy_pc *o = p->out;

	if (p->strict)
		return perr(p, "%s (refused with --strict)", what);
	if (o->nwarn < SFY_PC_WARN_MAX)
		snprintf(o->warn[o->nwarn++], SFY_PC_MSG_MAX, "%s:%u: %s",
			 p->name, p->line, what);
	return 0;
}

/* Appends item to a malloc'd comma list. */
static int list_add(char **list, const char *item)
{
	size_t old = *list ? strlen(*list) : 0;
	char *n = realloc(*list, old + strlen(item) + 2);

	if (!n)
		return -ENOMEM;
	if (old)
		n[old++] = ',';
	strcpy(n + old, item);
	*list = n;
	return 0;
}

/* A whole decimal number in [min, max]. */
static bool number(const char *s, long min, long max, long *v)
{
	char *end;

	if (!isdigit((unsigned char)s[0]))
		return false;
	errno = 0;
	*v = strtol(s, &end, 10);
	return !*end && !errno && *v >= min && *v <= max;
}

/* RFC 1929 carries a user name and a password of 1..255 bytes each. */
#define CRED_MAX 255

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

/*
 * proxychains' "proto://user:pass@host:port" entry (its proxy_from_string):
 * socks5, socks4 or http; user:pass only with both, and never for socks4.
 * Fills f[0..4] with pointers into buf; returns the field count (3 or 5)
 * or 0 when the text is not of that form.
 */
static int url_entry(const char *text, char *buf, size_t cap, char **f)
{
	char *p, *at, *colon;
	size_t skip;

	if (strlen(text) >= cap)
		return 0;
	strcpy(buf, text);
	if (!strncmp(buf, "socks5://", 9) || !strncmp(buf, "socks4://", 9))
		skip = 9;
	else if (!strncmp(buf, "http://", 7))
		skip = 7;
	else
		return 0;
	buf[skip - 3] = '\0';
	f[0] = buf;
	p = buf + skip;
	at = strrchr(p, '@');
	if (at) {
		colon = strchr(p, ':');
		if (!strcmp(f[0], "socks4") || !colon || colon > at)
			return 0;
		*colon = '\0';
		*at = '\0';
		f[3] = p;
		f[4] = colon + 1;
		p = at + 1;
	}
	colon = strrchr(p, ':');
	if (!colon)
		return 0;
	*colon = '\0';
	f[1] = p;
	f[2] = colon + 1;
	return at ? 5 : 3;
}

/* "type host port [user pass]", or the URL form. Types: socks5, http
 * (Basic auth), socks4 (a user id; the password field, which proxychains
 * reads and never sends, is refused); raw is refused. */
static int proxy_entry(struct pc_parser *p, char **f, int n)
{
	char user[3 * CRED_MAX + 1], pass[3 * CRED_MAX + 1];
	/* scheme, user:pass@, [host]:port: never cut short */
	char url[sizeof("socks5h://") + 2 * 3 * CRED_MAX + 2 +
		 SOCKS5_DOMAIN_MAX + 2 + sizeof(":65535")];
	char perrbuf[sizeof(url) + 512]; /* the URL quoted, and why */
	char hostpart[SOCKS5_DOMAIN_MAX + 3];
	char form[4096];
	char *uf[5];
	struct socks5_proxy hop;
	const char *host, *scheme;
	bool v6;
	long port;
	int rc;

	if (n == 1 && strstr(f[0], "://")) {
		n = url_entry(f[0], form, sizeof(form), uf);
		explicit_bzero(f[0], strlen(f[0]));
		if (!n) {
			explicit_bzero(form, sizeof(form));
			return perr(p, "not a proxy entry: TYPE HOST PORT [USER PASS] or socks5://, socks4:// or http://[USER:PASS@]HOST:PORT (socks4 takes no USER:PASS)");
		}
		f = uf;
	}
	if (!strcasecmp(f[0], "raw"))
		return perr(p, "raw proxies are not supported: a raw hop forwards the program's bytes to the proxy unchanged, which is a port forward, not a proxy socksify can chain through");
	if (strcmp(f[0], "socks5") && strcmp(f[0], "socks4") &&
	    strcmp(f[0], "http"))
		rc = perr(p, "unknown proxy type '%.32s' in [ProxyList] (expected socks5, socks4 or http, in lower case as proxychains wants)",
			  f[0]);
	else if (n != 3 && n != 5)
		rc = perr(p, "a proxy entry has 3 or 5 fields (TYPE HOST PORT [USER PASS]), this one has %d",
			  n);
	else if (n == 5 && !strcmp(f[0], "socks4"))
		rc = perr(p, "a socks4 entry with a password: SOCKS4 sends a user id only, and proxychains drops the password without a word; write 'socks4 HOST PORT' and put the user id in SOCKSIFY_PROXY (socks4://USER@HOST:PORT) if the proxy needs one");
	else if (!number(f[2], 1, 65535, &port))
		rc = perr(p, "port '%.16s' is not a number in 1..65535", f[2]);
	else if (p->out->nhops >= SOCKS5_CHAIN_MAX)
		rc = perr(p, "more than %d proxies: a socksify chain has at most %d hops",
			  SOCKS5_CHAIN_MAX, SOCKS5_CHAIN_MAX);
	else
		rc = 0;
	if (rc) {
		explicit_bzero(form, sizeof(form));
		return rc;
	}
	host = f[1];
	v6 = strchr(host, ':') != NULL;
	user[0] = pass[0] = '\0';
	if (n == 5) {
		if (strlen(f[3]) > CRED_MAX || strlen(f[4]) > CRED_MAX) {
			rc = perr(p, "the %s is %zu bytes long; SOCKS5 (RFC 1929) allows at most %d (socksify's limit for HTTP too)",
				  strlen(f[3]) > CRED_MAX ? "user name" : "password",
				  strlen(strlen(f[3]) > CRED_MAX ? f[3] : f[4]),
				  CRED_MAX);
			explicit_bzero(form, sizeof(form));
			return rc;
		}
		percent_encode(f[3], user);
		percent_encode(f[4], pass);
	}
	if (strlen(host) > SOCKS5_DOMAIN_MAX) {
		explicit_bzero(form, sizeof(form));
		explicit_bzero(pass, sizeof(pass));
		return perr(p, "the proxy's host is longer than %d bytes",
			    SOCKS5_DOMAIN_MAX);
	}
	/* Names go to the proxy with proxy_dns, as proxychains sends them
	 * (socks4 then speaks 4a); HTTP always carries the name. */
	if (!strcmp(f[0], "http"))
		scheme = "http";
	else if (!strcmp(f[0], "socks4"))
		scheme = p->out->remote_dns ? "socks4a" : "socks4";
	else
		scheme = p->out->remote_dns ? "socks5h" : "socks5";
	snprintf(hostpart, sizeof(hostpart), v6 ? "[%s]" : "%s", host);
	snprintf(url, sizeof(url), "%s://%s%s%s%s%s:%ld", scheme, user,
		 n == 5 ? ":" : "", pass, n == 5 ? "@" : "", hostpart, port);
	explicit_bzero(pass, sizeof(pass));
	explicit_bzero(form, sizeof(form));
	perrbuf[0] = '\0';
	if (socks5_url_parse(url, &hop, perrbuf, sizeof(perrbuf)) != SOCKS5_OK) {
		explicit_bzero(url, sizeof(url));
		return perr(p, "bad %s entry: %s", scheme, perrbuf);
	}
	socks5_proxy_wipe(&hop);
	rc = list_add(&p->out->proxy, url);
	explicit_bzero(url, sizeof(url));
	if (rc)
		return rc;
	p->out->nhops++;
	return 0;
}

/* Mask "255.255.0.0" or a prefix length → prefix, or -1. */
static int mask_prefix(const char *m, int family)
{
	struct in_addr a;
	uint32_t v;
	long len;
	int bits;

	if (number(m, 0, family == AF_INET ? 32 : 128, &len))
		return (int)len;
	if (family != AF_INET || inet_pton(AF_INET, m, &a) != 1)
		return -1;
	v = ntohl(a.s_addr);
	for (bits = 0; bits < 32 && (v & (0x80000000u >> bits)); bits++)
		;
	/* Only a contiguous mask is a range socksify can express. */
	if (bits < 32 && (v << bits) != 0)
		return -1;
	return bits;
}

/* localnet ADDR[:PORT]/MASK, where an IPv6 ADDR with a port is [ADDR]. */
static int localnet(struct pc_parser *p, const char *arg)
{
	char addr[INET6_ADDRSTRLEN + 16], item[sizeof(addr) + 16];
	const char *slash = strrchr(arg, '/'), *port = NULL;
	unsigned char buf[16];
	size_t alen;
	int family, prefix;

	if (!slash || (size_t)(slash - arg) >= sizeof(addr))
		return perr(p, "localnet needs ADDRESS/MASK");
	alen = (size_t)(slash - arg);
	memcpy(addr, arg, alen);
	addr[alen] = '\0';
	if (addr[0] == '[') {
		char *close = strchr(addr, ']');

		if (!close)
			return perr(p, "localnet: '[' without ']'");
		*close = '\0';
		if (close[1] == ':')
			port = close + 2;
		else if (close[1])
			return perr(p, "localnet: unexpected text after ']'");
		memmove(addr, addr + 1, strlen(addr + 1) + 1);
	} else if (strchr(addr, ':') && strchr(addr, '.') &&
		   strchr(addr, ':') == strrchr(addr, ':')) {
		port = strchr(addr, ':') + 1; /* a.b.c.d:port */
		*strchr(addr, ':') = '\0';
	}
	if (port)
		return perr(p, "localnet with a port (:%.8s) cannot be honoured: socksify's no-proxy list has no ports; drop the port to let every port of that range go direct",
			    port);
	family = strchr(addr, ':') ? AF_INET6 : AF_INET;
	if (inet_pton(family, addr, buf) != 1)
		return perr(p, "localnet: '%.46s' is not an IP address", addr);
	prefix = mask_prefix(slash + 1, family);
	if (prefix < 0)
		return perr(p, "localnet: '%.46s' is not a contiguous netmask or prefix length",
			    slash + 1);
	snprintf(item, sizeof(item), "%s/%d", addr, prefix);
	return list_add(&p->out->no_proxy, item);
}

/* The time-out options: "tcp_read_time_out 15000". */
static int timeout_opt(struct pc_parser *p, char **f, int n, long *slot)
{
	if (n != 2 || !number(f[1], 1, TIMEOUT_MAX_MS, slot))
		return perr(p, "%s needs milliseconds in 1..%ld", f[0],
			    TIMEOUT_MAX_MS);
	return 0;
}

/* Options may also be written "name = value" (chain_len = 2). */
static int option(struct pc_parser *p, char **f, int n)
{
	const char *k = f[0];
	long v;

	if (n >= 3 && !strcmp(f[1], "=") && strcmp(k, "chain_len")) {
		f[1] = f[2];
		n = 2;
	}
	/* The last chain line wins, as in proxychains. */
	for (v = 0; v < 4; v++) {
		static const char *const modes[] = {
			"strict_chain", "dynamic_chain", "random_chain",
			"round_robin_chain"
		};

		if (!strcmp(k, modes[v])) {
			if (n != 1)
				return perr(p, "%s takes no value", k);
			p->out->chain_mode = (int)v;
			p->have_mode = true;
			return 0;
		}
	}
	if (!strncmp(k, "chain_len", 9)) {
		/* proxychains: "chain_len = N", the '=' required; 0 is 1. */
		const char *eq = strchr(k, '=');

		if (!eq && n >= 2 && f[1][0] == '=')
			eq = f[1];
		if (eq && !eq[1] && n >= 2 && eq != f[1])
			eq = f[1] - 1; /* "chain_len= 2" */
		if (!eq)
			return perr(p, "chain_len needs an equals sign: chain_len = N (proxychains refuses it without)");
		if (!eq[1] && n >= 3)
			eq = f[2] - 1;
		if (!number(eq + 1, 0, 1000, &v))
			return perr(p, "chain_len needs a number of proxies");
		p->chain_len = v ? v : 1;
		p->chain_len_line = p->line;
		return 0;
	}
	if (!strcmp(k, "quiet_mode")) {
		p->out->quiet = true;
		return 0;
	}
	/* Three ways of proxychains to have the proxy resolve names;
	 * socksify has one (fake addresses, its own DNS forwarder), with the
	 * same effect: no name is looked up here. The daemon's address is
	 * checked as proxychains does, then not needed. */
	if (!strcmp(k, "proxy_dns") || !strcmp(k, "proxy_dns_old")) {
		p->out->remote_dns = true;
		return 0;
	}
	if (!strcmp(k, "proxy_dns_daemon")) {
		struct in_addr a;
		char *colon = n == 2 ? strchr(f[1], ':') : NULL;

		if (colon)
			*colon = '\0';
		if (!colon || inet_pton(AF_INET, f[1], &a) != 1 ||
		    !number(colon + 1, 1, 65535, &v))
			return perr(p, "proxy_dns_daemon needs IPV4:PORT");
		p->out->remote_dns = true;
		return pwarn(p, "proxy_dns_daemon: names are resolved by the proxy, as asked, but through socksify's own fake addresses; the proxychains4-daemon is not used");
	}
	if (!strcmp(k, "remote_dns_subnet")) {
		if (n != 2 || !number(f[1], 0, 255, &v))
			return perr(p, "remote_dns_subnet needs a number in 0..255");
		snprintf(p->out->fake_net, sizeof(p->out->fake_net),
			 "%ld.0.0.0/8", v);
		return 0;
	}
	if (!strcmp(k, "tcp_read_time_out"))
		return timeout_opt(p, f, n, &p->read_ms);
	if (!strcmp(k, "tcp_connect_time_out"))
		return timeout_opt(p, f, n, &p->connect_ms);
	if (!strcmp(k, "localnet")) {
		if (n != 2)
			return perr(p, "localnet needs one ADDRESS/MASK");
		return localnet(p, f[1]);
	}
	if (!strcmp(k, "dnat"))
		return perr(p, "dnat is not supported: socksify never rewrites destinations");
	return perr(p, "unknown setting '%.40s'", k);
}

/* Splits a line in place into at most MAX_FIELDS fields. */
static int fields(char *line, char **f)
{
	int n = 0;
	char *s = line;

	for (;;) {
		while (*s == ' ' || *s == '\t' || *s == '\r')
			s++;
		if (!*s || *s == '#')
			return n;
		if (n == MAX_FIELDS)
			return n + 1; /* too many */
		f[n++] = s;
		while (*s && *s != ' ' && *s != '\t' && *s != '\r')
			s++;
		if (*s)
			*s++ = '\0';
	}
}

static int one_line(struct pc_parser *p, char *line)
{
	char *f[MAX_FIELDS];
	int n = fields(line, f);

	if (n == 0)
		return 0;
	if (n > MAX_FIELDS)
		return perr(p, "too many fields");
	if (f[0][0] == '[') {
		if (n == 1 && !strcasecmp(f[0], "[ProxyList]")) {
			p->in_list = true;
			return 0;
		}
		return perr(p, "unknown section '%.40s' (only [ProxyList])", f[0]);
	}
	return p->in_list ? proxy_entry(p, f, n) : option(p, f, n);
}

/* What can only be judged once the whole file has been read. */
static int finish(struct pc_parser *p)
{
	struct sfy_pc *o = p->out;

	if (!o->nhops)
		return perr(p, "no proxy in [ProxyList]");
	/* proxychains' default is dynamic_chain. */
	if (!p->have_mode)
		o->chain_mode = SFY_PC_DYNAMIC;
	o->chain_len = 0;
	if (o->chain_mode == SFY_PC_RANDOM || o->chain_mode == SFY_PC_ROUND_ROBIN) {
		o->chain_len = p->chain_len ? p->chain_len : 1;
		if (o->chain_len > (long)o->nhops) {
			p->line = p->chain_len_line;
			return perr(p, "chain_len = %ld, but [ProxyList] has %zu proxies: every connection would fail (proxychains: \"need more proxies\")",
				    o->chain_len, o->nhops);
		}
	}
	if (p->read_ms > 0 || p->connect_ms > 0) {
		long t = (p->read_ms > 0 ? p->read_ms : 0) +
			 (p->connect_ms > 0 ? p->connect_ms : 0);

		o->timeout_ms = t > TIMEOUT_MAX_MS ? TIMEOUT_MAX_MS : t;
	}
	if (!o->no_proxy) {
		/* proxychains proxies everything not in a localnet line,
		 * loopback included: the empty list says the same. */
		o->no_proxy = strdup("");
		if (!o->no_proxy)
			return -ENOMEM;
	}
	return 0;
}

int sfy_pc_parse(const char *text, size_t len, const char *name, bool strict,
		 struct sfy_pc *out, char *err, size_t errcap)
{
	struct pc_parser p = {
		.name = name, .strict = strict, .read_ms = -1,
		.connect_ms = -1, .out = out, .err = err, .errcap = errcap,
	};
	char line[4096];
	size_t pos = 0;
	int rc = 0;

	memset(out, 0, sizeof(*out));
	if (errcap)
		err[0] = '\0';
	while (pos < len && rc == 0) {
		const char *nl = memchr(text + pos, '\n', len - pos);
		size_t l = nl ? (size_t)(nl - (text + pos)) : len - pos;

		p.line++;
		if (l >= sizeof(line) || memchr(text + pos, '\0', l))
			rc = perr(&p, l >= sizeof(line) ? "line too long" :
							  "NUL byte in the file");
		else {
			memcpy(line, text + pos, l);
			line[l] = '\0';
			rc = one_line(&p, line);
		}
		pos += l + 1;
	}
	explicit_bzero(line, sizeof(line));
	if (rc == 0)
		rc = finish(&p);
	if (rc == -ENOMEM && errcap)
		snprintf(err, errcap, "%s: out of memory", name);
	if (rc)
		sfy_pc_free(out);
	return rc;
}

int sfy_pc_load(const char *path, bool strict, struct sfy_pc *out, char *err,
		size_t errcap)
{
	struct stat st;
	char *buf;
	ssize_t n;
	size_t got = 0;
	int fd, rc;

	memset(out, 0, sizeof(*out));
	/* O_NONBLOCK: a FIFO is refused below, not waited on (as the proxy
	 * file's reader does, client/proxyfile.c). */
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	if (fd < 0 || fstat(fd, &st) < 0) {
		rc = -errno;
		snprintf(err, errcap, "%s: %s", path, strerror(-rc));
		if (fd >= 0)
			close(fd);
		return rc;
	}
	if (!S_ISREG(st.st_mode) || st.st_size > FILE_MAX) {
		snprintf(err, errcap, "%s: %s", path, S_ISREG(st.st_mode) ?
			 "larger than 1 MiB: not a proxychains configuration" :
			 "not a regular file");
		close(fd);
		return -EINVAL;
	}
	buf = malloc((size_t)st.st_size + 1);
	if (!buf) {
		close(fd);
		snprintf(err, errcap, "%s: out of memory", path);
		return -ENOMEM;
	}
	while (got < (size_t)st.st_size &&
	       (n = read(fd, buf + got, (size_t)st.st_size - got)) != 0) {
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			rc = -errno;
			snprintf(err, errcap, "%s: %s", path, strerror(-rc));
			explicit_bzero(buf, got);
			free(buf);
			close(fd);
			return rc;
		}
		got += (size_t)n;
	}
	close(fd);
	rc = sfy_pc_parse(buf, got, path, strict, out, err, errcap);
	explicit_bzero(buf, got);
	free(buf);
	return rc;
}

void sfy_pc_free(struct sfy_pc *pc)
{
	if (pc->proxy)
		explicit_bzero(pc->proxy, strlen(pc->proxy));
	free(pc->proxy);
	free(pc->no_proxy);
	pc->proxy = pc->no_proxy = NULL;
	pc->nhops = 0;
}
