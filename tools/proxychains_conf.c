/*
 * proxychains-ng configuration → socksify settings (see the header for the
 * mapping). The file is read as proxychains-ng 4.17 reads it
 * (get_chain_data, src/libproxychains.c): lines of at most 1023 bytes
 * (fgets into 1024; a longer line goes on as the next one), trimmed of
 * isspace() at both ends; an empty line or one that starts with '#' is
 * skipped. Before "[ProxyList]" a line is an option: some are compared
 * whole (strict_chain, proxy_dns, quiet_mode...), some by their start
 * (tcp_read_time_out 15000, chain_len = 2...), and a line that is neither
 * is ignored, as there, with a warning naming it. After "[ProxyList]",
 * every line is an entry (proxychains_list.c).
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
#include <sys/stat.h>
#include <unistd.h>

#include "proxychains_int.h"

#define FILE_MAX (1024 * 1024)
#define TIMEOUT_MAX_MS 600000L /* SOCKSIFY_TIMEOUT_MS's upper bound */
/* proxychains' defaults (get_chain_data) */
#define PC_READ_MS 4000
#define PC_CONNECT_MS 10000

#define STARTS(s, lit) (!strncmp((s), (lit), sizeof(lit) - 1))

int pc_err(struct pc_parser *p, const char *fmt, ...)
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

int pc_warn(struct pc_parser *p, const char *fmt, ...)
{
	struct sfy_pc *o = p->out;
	char what[1024]; /* the longest message with its quoted words */
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	if (p->strict)
		return pc_err(p, "%s (refused with --strict)", what);
	if (o->nwarn < SFY_PC_WARN_MAX) {
		/* a long path cuts the message short, never overflows */
		if (snprintf(o->warn[o->nwarn++], SFY_PC_MSG_MAX, "%s:%u: %s",
			     p->name, p->line, what) < 0)
			o->warn[o->nwarn - 1][0] = '\0';
	} else
		o->nwarn_more++;
	return 0;
}

int pc_list_add(char **list, const char *item)
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

bool pc_scan_set(const char **s, const char *stop, size_t max, char *out)
{
	size_t n = strcspn(*s, stop);

	if (n > max)
		n = max;
	if (!n)
		return false;
	memcpy(out, *s, n);
	out[n] = '\0';
	*s += n;
	return true;
}

/* A localnet port: "%5hu" with nothing after it. 0 means none. */
static bool port_part(const char *s, long *port)
{
	const char *p = s;

	if (strlen(s) > 5 || !pc_scan_int(&p, port) || *p || *port < 0)
		return false;
	*port = (unsigned short)*port;
	return true;
}

/* localnet's "ADDR[:PORT]" the way proxychains splits it: one ':' or none
 * is IPv4, "[ADDR]" or "[ADDR]:PORT" is IPv6, other text with colons is an
 * IPv6 address alone. */
static int split_addr(struct pc_parser *p, const char *ap, char *addr,
		      int *family, long *port)
{
	const char *c = strchr(ap, ':'), *s = ap;

	*port = 0;
	if (!c || c == strrchr(ap, ':')) {
		*family = AF_INET;
		if (!pc_scan_set(&s, ":", 15, addr) ||
		    (*s && (*s != ':' || !port_part(s + 1, port))))
			return pc_err(p, "localnet address or port error (proxychains refuses this line too)");
	} else if (ap[0] == '[') {
		*family = AF_INET6;
		s++;
		if (!pc_scan_set(&s, "[]", 45, addr) || *s != ']' ||
		    (s[1] && (s[1] != ':' || !port_part(s + 2, port))))
			return pc_err(p, "localnet address or port error (proxychains refuses this line too)");
	} else {
		*family = AF_INET6;
		if (!pc_scan_set(&s, "[]", 45, addr) || *s)
			return pc_err(p, "localnet address or port error (proxychains refuses this line too)");
	}
	return 0;
}

/* localnet's MASK: a dotted IPv4 mask (any, as proxychains takes it) or a
 * prefix length; the prefix socksify's list can hold, or an error. */
static int mask_prefix(struct pc_parser *p, const char *m, int family)
{
	const char *s = m;
	struct in_addr a;
	uint32_t v;
	long len;
	int bits;

	if (family == AF_INET && strchr(m, '.')) {
		if (inet_pton(AF_INET, m, &a) != 1)
			return pc_err(p, "localnet netmask error (proxychains refuses this line too)");
		v = ntohl(a.s_addr);
		for (bits = 0; bits < 32 && (v & (0x80000000u >> bits)); bits++)
			;
		if (bits < 32 && (v << bits) != 0)
			return pc_err(p, "localnet: the netmask %.16s is not contiguous; socksify's no-proxy list holds prefixes only, and a wider or narrower range would send other traffic direct or through the proxy",
				      m);
		return bits;
	}
	if (!pc_scan_int(&s, &len) || *s || len < 0 ||
	    len > (family == AF_INET ? 32 : 128))
		return pc_err(p, "localnet netmask error (proxychains refuses this line too)");
	if (family == AF_INET && len == 0)
		return pc_err(p, "localnet: an IPv4 prefix /0 is undefined in proxychains (a 32-bit shift; on x86 it matches one address only); write the mask 0.0.0.0 to let every IPv4 address go direct");
	return (int)len;
}

/* localnet ADDR[:PORT]/MASK: sscanf(line, "%s %53[^/]/%15s%c") must take
 * exactly three fields, so nothing may follow the mask. */
static int localnet(struct pc_parser *p, const char *line)
{
	char word[PC_LINE_MAX + 1], ap[54], mask[16], addr[46];
	char item[sizeof(addr) + 16];
	const char *s = line;
	unsigned char buf[16];
	int family, prefix, rc;
	long port;

	pc_scan_word(&s, word, sizeof(word));
	while (isspace((unsigned char)*s))
		s++;
	if (!pc_scan_set(&s, "/", 53, ap) || *s++ != '/' ||
	    !pc_scan_word(&s, mask, sizeof(mask)) || strlen(mask) > 15 || *s)
		return pc_err(p, "localnet needs ADDRESS[:PORT]/MASK and nothing after it (proxychains refuses this line too)");
	rc = split_addr(p, ap, addr, &family, &port);
	if (rc)
		return rc;
	if (inet_pton(family, addr, buf) != 1)
		return pc_err(p, "localnet address error: '%.46s' is not an IPv%c address (proxychains refuses this line too)",
			      addr, family == AF_INET ? '4' : '6');
	prefix = mask_prefix(p, mask, family);
	if (prefix < 0)
		return prefix;
	if (p->nlocalnet >= PC_LOCALNET_MAX)
		return pc_warn(p, "more than %d localnet lines: proxychains drops this one (its connections go through the proxy), and so does socksify",
			       PC_LOCALNET_MAX);
	p->nlocalnet++;
	if (family == AF_INET) {
		struct pc_net4 *l = &p->local4[p->nlocal4++];
		uint32_t a;

		memcpy(&a, buf, sizeof(a));
		l->mask = prefix ? 0xffffffffu << (32 - prefix) : 0;
		l->net = ntohl(a) & l->mask;
		l->port = (uint16_t)port;
	}
	/* the no-proxy list's spelling of a port: "A:P/N", "[A6]:P/N" */
	if (!port)
		snprintf(item, sizeof(item), "%s/%d", addr, prefix);
	else if (family == AF_INET)
		snprintf(item, sizeof(item), "%s:%ld/%d", addr, port, prefix);
	else
		snprintf(item, sizeof(item), "[%s]:%ld/%d", addr, port, prefix);
	return pc_list_add(&p->out->no_proxy, item);
}

/* tcp_read_time_out, tcp_connect_time_out: sscanf("%s %d"); a value it
 * cannot read leaves proxychains' default. */
static int timeout_opt(struct pc_parser *p, const char *line, long *slot)
{
	char word[PC_LINE_MAX + 1];
	const char *s = line;
	long v;

	pc_scan_word(&s, word, sizeof(word));
	if (!pc_scan_int(&s, &v))
		return pc_warn(p, "%.40s has no number: proxychains keeps its default, and so does socksify",
			       word);
	if (!p->timeout_line)
		p->timeout_line = p->line;
	if (v < 0) {
		*slot = TIMEOUT_MAX_MS;
		return pc_warn(p, "a negative time-out makes proxychains wait for ever; socksify waits its longest, %ld ms",
			       TIMEOUT_MAX_MS);
	}
	if (v == 0) {
		*slot = 1;
		return pc_warn(p, "a time-out of 0 makes proxychains give up at once; socksify's shortest is 1 ms");
	}
	*slot = v;
	return 0;
}

/* remote_dns_subnet N: sscanf("%s %u"); 256 and more refused there. */
static int dns_subnet(struct pc_parser *p, const char *line)
{
	char word[PC_LINE_MAX + 1];
	const char *s = line;
	long v;

	pc_scan_word(&s, word, sizeof(word));
	if (!pc_scan_int(&s, &v))
		return pc_warn(p, "remote_dns_subnet has no number: proxychains keeps 224, socksify its own fake range");
	if (v < 0 || v > 255)
		return pc_err(p, "remote_dns_subnet: invalid value, it needs a number in 0..255 (proxychains refuses it too)");
	snprintf(p->out->fake_net, sizeof(p->out->fake_net), "%ld.0.0.0/8", v);
	return 0;
}

/* chain_len: the number after the first '=' of the line, by atoi (0 and
 * no number are 1); no '=' is refused there. */
static int chain_len(struct pc_parser *p, const char *line)
{
	const char *eq = strchr(line, '='), *s;
	long v;
	int rc = 0;

	if (!eq)
		return pc_err(p, "chain_len needs an equals sign: chain_len = N (proxychains refuses it without)");
	s = eq + 1;
	if (!pc_scan_int(&s, &v)) {
		v = 0;
		rc = pc_warn(p, "chain_len has no number after '=': proxychains reads 0, which it takes as 1, and so does socksify");
	}
	if (v < 0)
		return pc_err(p, "chain_len = %ld: proxychains takes it as a huge unsigned number and fails every connection (\"need more proxies\")",
			      v);
	p->chain_len = v ? v : 1;
	p->chain_len_line = p->line;
	return rc;
}

/* proxy_dns_daemon IP:PORT: sscanf("%s %15[^:]:%5s") and inet_pton of the
 * IP, which proxychains checks; the port it takes by atoi. */
static int dns_daemon(struct pc_parser *p, const char *line)
{
	char word[PC_LINE_MAX + 1], ip[16], port[PC_LINE_MAX + 1];
	const char *s = line;
	struct in_addr a;

	pc_scan_word(&s, word, sizeof(word));
	while (isspace((unsigned char)*s))
		s++;
	if (!pc_scan_set(&s, ":", 15, ip) || *s++ != ':' ||
	    !pc_scan_word(&s, port, sizeof(port)))
		return pc_err(p, "proxy_dns_daemon needs IPV4:PORT (proxychains refuses this line too)");
	if (inet_pton(AF_INET, ip, &a) != 1)
		return pc_err(p, "proxy_dns_daemon: '%.15s' is not an IPv4 address (proxychains refuses it too)",
			      ip);
	p->dns = PC_DNS_DAEMON;
	p->dns_line = p->line;
	return 0;
}

/* A line proxychains compares whole, when it has more on it. */
static const char *const whole[] = {
	"[ProxyList]", "random_chain", "strict_chain", "dynamic_chain",
	"round_robin_chain", "quiet_mode", "proxy_dns_old", "proxy_dns",
};

/* What proxychains ignores: said, and ignored. Only the first word is
 * quoted (a misplaced entry may hold a password). */
static int ignored(struct pc_parser *p, const char *line)
{
	char word[PC_LINE_MAX + 1];
	const char *s = line;
	size_t i;

	pc_scan_word(&s, word, sizeof(word));
	for (i = 0; i < sizeof(whole) / sizeof(whole[0]); i++)
		if (!strcmp(word, whole[i]))
			return pc_warn(p, "'%s' with more text after it: proxychains compares the whole line and ignores it, and so does socksify; put '%s' alone on its line to have it",
				       whole[i], whole[i]);
	if (line[0] == '[') {
		if (!p->ignored_section)
			p->ignored_section = p->line;
		return pc_warn(p, "'%.40s' is not '[ProxyList]' (as proxychains spells it, case and all): ignored, as proxychains does",
			       word);
	}
	return pc_warn(p, "unknown setting '%.40s': ignored, as proxychains does",
		       word);
}

/* One option line, in proxychains' order of tests. */
static int option(struct pc_parser *p, const char *b)
{
	static const char *const modes[] = {
		"strict_chain", "dynamic_chain", "random_chain",
		"round_robin_chain"
	};
	int m;

	if (!strcmp(b, "[ProxyList]")) {
		p->in_list = true;
		return 0;
	}
	for (m = 0; m < 4; m++) {
		if (!strcmp(b, modes[m])) {
			p->out->chain_mode = m; /* the last one wins */
			return 0;
		}
	}
	if (STARTS(b, "tcp_read_time_out"))
		return timeout_opt(p, b, &p->read_ms);
	if (STARTS(b, "tcp_connect_time_out"))
		return timeout_opt(p, b, &p->connect_ms);
	if (STARTS(b, "remote_dns_subnet"))
		return dns_subnet(p, b);
	if (STARTS(b, "localnet"))
		return localnet(p, b);
	if (STARTS(b, "chain_len"))
		return chain_len(p, b);
	if (!strcmp(b, "quiet_mode")) {
		p->out->quiet = true;
		return 0;
	}
	if (!strcmp(b, "proxy_dns_old") || !strcmp(b, "proxy_dns")) {
		p->dns = b[9] ? PC_DNS_OLD : PC_DNS_THREAD;
		p->dns_line = p->line;
		return 0;
	}
	if (STARTS(b, "proxy_dns_daemon"))
		return dns_daemon(p, b);
	if (STARTS(b, "dnat"))
		return pc_dnat_line(p, b);
	return ignored(p, b);
}

/* One line as fgets gave it to proxychains: trimmed, then skipped, an
 * option or an entry. */
static int one_line(struct pc_parser *p, char *b)
{
	char *e;

	while (isspace((unsigned char)*b))
		b++;
	e = b + strlen(b);
	while (e > b && isspace((unsigned char)e[-1]))
		*--e = '\0';
	if (!*b || *b == '#')
		return 0;
	return p->in_list ? pc_list_line(p, b) : option(p, b);
}

/* The time-outs: proxychains bounds the connect to the first proxy by one
 * and each read of a handshake by the other; socksify bounds the whole
 * connection by one, their sum (a default for the one not given). */
static int finish_timeout(struct pc_parser *p)
{
	long r = p->read_ms >= 0 ? p->read_ms : PC_READ_MS;
	long c = p->connect_ms >= 0 ? p->connect_ms : PC_CONNECT_MS;
	long t = r + c;

	if (!p->timeout_line)
		return 0;
	p->out->timeout_ms = t > TIMEOUT_MAX_MS ? TIMEOUT_MAX_MS : t;
	p->line = p->timeout_line;
	return pc_warn(p, "tcp_connect_time_out and tcp_read_time_out: socksify bounds a whole connection (the connect and every hop's reply) by one time-out, set to their sum, %ld ms%s",
		       p->out->timeout_ms, t > TIMEOUT_MAX_MS ? " (socksify's longest)" : "");
}

/* What can only be judged once the whole file has been read. */
static int finish(struct pc_parser *p)
{
	struct sfy_pc *o = p->out;
	int rc;

	if (!o->nhops) {
		if (p->ignored_section) {
			p->line = p->ignored_section;
			return pc_err(p, "no proxy: this line is not '[ProxyList]' as proxychains spells it, so what follows was read as settings (proxychains: \"no valid proxy found\")");
		}
		return pc_err(p, "no proxy in [ProxyList] (proxychains: \"no valid proxy found\")");
	}
	o->chain_len = 0;
	if (o->chain_mode == SFY_PC_RANDOM || o->chain_mode == SFY_PC_ROUND_ROBIN) {
		o->chain_len = p->chain_len ? p->chain_len : 1;
		if (o->chain_len > (long)o->nhops) {
			p->line = p->chain_len_line;
			return pc_err(p, "chain_len = %ld, but [ProxyList] has %zu proxies: every connection would fail (proxychains: \"need more proxies\")",
				      o->chain_len, o->nhops);
		}
	}
	rc = finish_timeout(p);
	if (rc)
		return rc;
	rc = pc_dnat_finish(p);
	if (rc)
		return rc;
	/* All three ways of proxychains have names resolved far away;
	 * socksify has one (fake addresses, the names sent to the proxy). */
	o->remote_dns = p->dns != PC_DNS_LOCAL;
	p->line = p->dns_line;
	if (p->dns == PC_DNS_OLD)
		rc = pc_warn(p, "proxy_dns_old: names are resolved by the proxy, as with proxy_dns, not by proxychains' proxyresolv script (a DNS query sent through the proxy)");
	else if (p->dns == PC_DNS_DAEMON)
		rc = pc_warn(p, "proxy_dns_daemon: names are resolved by the proxy, as asked, but through socksify's own fake addresses; the proxychains4-daemon is not used");
	if (rc)
		return rc;
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
	char buf[PC_LINE_MAX + 1];
	size_t pos = 0;
	int rc = 0;

	memset(out, 0, sizeof(*out));
	out->chain_mode = SFY_PC_DYNAMIC; /* proxychains' default */
	if (errcap)
		err[0] = '\0';
	while (pos < len && rc == 0) {
		const char *nl = memchr(text + pos, '\n', len - pos);
		size_t l = nl ? (size_t)(nl - (text + pos)) + 1 : len - pos;
		bool first = true;

		p.line++;
		/* fgets: 1023 bytes at most, the newline included; the
		 * rest of a longer line is read as the next line. */
		while (l > 0 && rc == 0) {
			size_t k = l > PC_LINE_MAX ? PC_LINE_MAX : l;

			memcpy(buf, text + pos, k);
			buf[k] = '\0';
			if (strlen(buf) < k)
				rc = pc_warn(&p, "a NUL byte: proxychains reads this line only up to it, and so does socksify");
			if (!first && rc == 0 && strspn(buf, " \t\n\v\f\r") < strlen(buf))
				rc = pc_warn(&p, "longer than %d bytes: proxychains reads the rest as another line, and so does socksify",
					     PC_LINE_MAX - 1);
			if (rc == 0)
				rc = one_line(&p, buf);
			first = false;
			pos += k;
			l -= k;
		}
	}
	explicit_bzero(buf, sizeof(buf));
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
	free(pc->dnat);
	pc->proxy = pc->no_proxy = pc->dnat = NULL;
	pc->nhops = 0;
}
