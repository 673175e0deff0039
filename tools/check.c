/*
 * socksify --check [HOST:PORT]
 *
 * Walks the chain hop by hop over one connection, one message at a time
 * with libsocks5's codec, so that every step can be reported on its own:
 *
 *   hop 1   reach (TCP connect, timed), method, auth (when chosen)
 *   hop k   reach = CONNECT from hop k-1 to hop k, method, auth
 *   last    CONNECT to HOST:PORT (skipped when none is named)
 *   then    UDP ASSOCIATE and a datagram through the relay (check_udp.c)
 *
 * The handshake driver (socks5_handshake) runs every step at once and
 * reports only where it stopped; here the user wants to see each step
 * succeed, so the steps are spelled out with the same codec, over small
 * deadline-bounded send/receive loops of its own. The command is never
 * preloaded (socksify.c makes sure), so the libc functions are the real
 * ones.
 *
 * Exit status: 0 when everything checked works; 1 when a TCP step fails
 * (reach, method, auth, CONNECT); 4 when TCP works and UDP does not. A
 * datagram without an answer is not a failure: a UDP service need not
 * answer, and the report says "sent, no answer".
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "check.h"
#include "tool.h"

#define DEFAULT_TIMEOUT_MS 10000

static const struct socks5_io libc_io = {
	.send = send, .recv = recv, .poll = poll, .connect = connect,
	.fcntl = fcntl, .sendto = sendto,
};

int64_t sfy_now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static double ms_since(int64_t t0)
{
	return (double)(sfy_now_us() - t0) / 1000.0;
}

void sfy_step(struct sfy_probe *pr, enum sfy_step_result r, size_t hop,
	      const char *step, const char *fmt, ...)
{
	static const char *const tags[] = { "ok", "FAIL", "skip", "note" };
	va_list ap;

	printf("  %-5s %-9s ", tags[r], step);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
	fflush(stdout);
	if (r == STEP_FAIL && !pr->failed_step) {
		pr->failed_step = step;
		pr->failed_hop = hop;
	}
}

const char *sfy_rep_hint(uint8_t rep, bool udp)
{
	switch (rep) {
	case SOCKS5_REP_GENERAL_FAILURE:
		return "the proxy failed on its side: its log says why";
	case SOCKS5_REP_NOT_ALLOWED:
		return "the proxy's rules do not allow this: ask its administrator";
	case SOCKS5_REP_NET_UNREACHABLE:
		return "the proxy has no route to that network";
	case SOCKS5_REP_HOST_UNREACHABLE:
		return "the proxy cannot reach (or resolve) that host: check the name and port";
	case SOCKS5_REP_CONN_REFUSED:
		return "nothing listens there: check the port, or whether the service runs";
	case SOCKS5_REP_TTL_EXPIRED:
		return "the proxy timed out reaching it";
	case SOCKS5_REP_CMD_NOT_SUPPORTED:
		return udp ? "this proxy does not relay UDP (microsocks, for one); UDP programs will fail through it: use SOCKSIFY_UDP=direct or block, or a proxy with UDP ASSOCIATE (dante)" :
			     "the proxy does not support this command";
	case SOCKS5_REP_ATYP_NOT_SUPPORTED:
		return "the proxy does not take this address type: try socks5:// (addresses) instead of socks5h:// (names), or the reverse";
	default:
		return "an unassigned reply code: is this really a SOCKS5 server?";
	}
}

/* What an errno from reaching the proxy means, and what to try. */
static const char *reach_hint(int err)
{
	switch (err) {
	case ECONNREFUSED:
		return "nothing listens there: is the proxy running, is the port right?";
	case ETIMEDOUT:
		return "no answer in time: a firewall, a wrong address, or a stalled proxy (SOCKSIFY_TIMEOUT_MS sets the bound)";
	case ENETUNREACH:
	case EHOSTUNREACH:
		return "no route to it: check the address and this machine's network";
	default:
		return "check the proxy's address and port";
	}
}

/* Why a message from the proxy was not what SOCKS5 says, with a guess. */
static void bad_message(struct sfy_probe *pr, size_t hop, const char *step,
			enum socks5_status st, const uint8_t *first, size_t have,
			int err)
{
	if (st == SOCKS5_E_VERSION && have && first[0] == 'H')
		sfy_step(pr, STEP_FAIL, hop, step,
			 "the answer starts with 'H' (HTTP?): this looks like an HTTP proxy, not SOCKS5");
	else if (st == SOCKS5_E_VERSION && have && first[0] == 0x04)
		sfy_step(pr, STEP_FAIL, hop, step,
			 "the answer is SOCKS version 4: this server speaks SOCKS4 only");
	else if (st == SOCKS5_E_VERSION && have)
		sfy_step(pr, STEP_FAIL, hop, step,
			 "not a SOCKS5 answer (version byte 0x%02x): is this port a SOCKS5 proxy?",
			 first[0]);
	else if (st == SOCKS5_E_TIMEOUT)
		sfy_step(pr, STEP_FAIL, hop, step,
			 "no answer within %d ms: the proxy accepted the connection but stalls (overloaded, or not a SOCKS server)",
			 pr->timeout_ms);
	else if (st == SOCKS5_E_CLOSED)
		sfy_step(pr, STEP_FAIL, hop, step,
			 "the proxy closed the connection: its log says why (an access rule, a limit)");
	else if (st == SOCKS5_E_IO)
		sfy_step(pr, STEP_FAIL, hop, step, "%s (%s)", strerror(err),
			 reach_hint(err));
	else
		sfy_step(pr, STEP_FAIL, hop, step,
			 "malformed answer: %s: is this port a SOCKS5 proxy?",
			 socks5_strerror(st));
}

enum socks5_status sfy_wait_for(int fd, short events, int64_t deadline,
				int *err)
{
	for (;;) {
		struct pollfd pfd = { .fd = fd, .events = events };
		int64_t left = deadline - socks5_now_ms();
		int r;

		if (left <= 0)
			return SOCKS5_E_TIMEOUT;
		r = poll(&pfd, 1, (int)left);
		if (r > 0)
			return SOCKS5_OK;
		if (r < 0 && errno != EINTR) {
			*err = errno;
			return SOCKS5_E_IO;
		}
	}
}

static enum socks5_status send_all(int fd, const uint8_t *buf, size_t len,
				   int64_t deadline, int *err)
{
	size_t off = 0;

	while (off < len) {
		enum socks5_status st = sfy_wait_for(fd, POLLOUT, deadline, err);
		ssize_t n;

		if (st != SOCKS5_OK)
			return st;
		n = send(fd, buf + off, len - off, MSG_DONTWAIT | MSG_NOSIGNAL);
		if (n > 0) {
			off += (size_t)n;
		} else if (n < 0 && errno != EINTR && errno != EAGAIN) {
			*err = errno;
			return SOCKS5_E_IO;
		}
	}
	return SOCKS5_OK;
}

/* At most max bytes (never more: the message ends where the codec says). */
static enum socks5_status recv_some(int fd, uint8_t *buf, size_t max,
				    int64_t deadline, size_t *got, int *err)
{
	for (;;) {
		enum socks5_status st = sfy_wait_for(fd, POLLIN, deadline, err);
		ssize_t n;

		if (st != SOCKS5_OK)
			return st;
		n = recv(fd, buf, max, MSG_DONTWAIT);
		if (n > 0) {
			*got = (size_t)n;
			return SOCKS5_OK;
		}
		if (n == 0)
			return SOCKS5_E_CLOSED;
		if (errno != EINTR && errno != EAGAIN) {
			*err = errno;
			return SOCKS5_E_IO;
		}
	}
}

enum msg_kind { MSG_METHOD, MSG_AUTH, MSG_REPLY };

struct msg {
	enum msg_kind kind;
	const uint8_t *offered; /* MSG_METHOD */
	size_t n_offered;
	uint8_t method;         /* MSG_METHOD result */
	struct socks5_reply reply; /* MSG_REPLY result */
	uint8_t head[2];        /* first bytes, for diagnostics */
	size_t have;
	int err;
};

/* Reads one message, framed by the codec's "need N more". */
static enum socks5_status read_msg(int fd, struct msg *m, int64_t deadline)
{
	uint8_t buf[SOCKS5_REQUEST_MAX];
	enum socks5_status st;

	m->have = 0;
	for (;;) {
		size_t n = 0, got = 0;

		if (m->kind == MSG_METHOD)
			st = socks5_parse_method(buf, m->have, m->offered,
						 m->n_offered, &m->method, &n);
		else if (m->kind == MSG_AUTH)
			st = socks5_parse_auth_reply(buf, m->have, &n);
		else
			st = socks5_parse_reply(buf, m->have, &m->reply, &n);
		memcpy(m->head, buf, m->have < 2 ? m->have : 2);
		if (st != SOCKS5_NEED_MORE)
			return st;
		if (!n || n > sizeof(buf) - m->have)
			return SOCKS5_E_ARG;
		st = recv_some(fd, buf + m->have, n, deadline, &got, &m->err);
		if (st != SOCKS5_OK)
			return st;
		m->have += got;
	}
}

/* Greeting, method choice and, when chosen, RFC 1929 authentication. */
static bool negotiate(struct sfy_probe *pr, int fd, size_t h)
{
	const struct socks5_proxy *p = &pr->hops[h];
	uint8_t offered[2], out[SOCKS5_MSG_MAX];
	struct msg m = { .kind = MSG_METHOD, .offered = offered };
	int64_t deadline = socks5_now_ms() + pr->timeout_ms;
	enum socks5_status st;
	size_t len;
	int err = 0;

	offered[m.n_offered++] = SOCKS5_METHOD_NOAUTH;
	if (p->has_auth)
		offered[m.n_offered++] = SOCKS5_METHOD_USERPASS;
	socks5_encode_greeting(out, sizeof(out), offered, m.n_offered, &len);
	st = send_all(fd, out, len, deadline, &err);
	if (st == SOCKS5_OK)
		st = read_msg(fd, &m, deadline);
	if (st == SOCKS5_E_NO_ACCEPTABLE) {
		sfy_step(pr, STEP_FAIL, h, "method", p->has_auth ?
			 "the proxy accepts neither no-authentication nor username/password (GSSAPI only?): socksify cannot use it" :
			 "the proxy requires authentication: put the user and password in the URL (socks5h://USER:PASS@HOST:PORT)");
		return false;
	}
	if (st != SOCKS5_OK) {
		bad_message(pr, h, "method", st, m.head, m.have,
			    m.err ? m.err : err);
		return false;
	}
	if (m.method == SOCKS5_METHOD_NOAUTH) {
		sfy_step(pr, STEP_OK, h, "method", "the proxy chose no authentication");
		if (p->has_auth)
			sfy_step(pr, STEP_SKIP, h, "auth",
				 "not needed: the user name and password were not sent");
		return true;
	}
	sfy_step(pr, STEP_OK, h, "method", "the proxy chose username/password (RFC 1929)");
	st = socks5_encode_auth(out, sizeof(out), p->user, p->user_len, p->pass,
				p->pass_len, &len);
	if (st == SOCKS5_OK)
		st = send_all(fd, out, len, deadline, &err);
	explicit_bzero(out, sizeof(out));
	m.kind = MSG_AUTH;
	if (st == SOCKS5_OK)
		st = read_msg(fd, &m, deadline);
	if (st == SOCKS5_E_AUTH_REJECTED) {
		sfy_step(pr, STEP_FAIL, h, "auth",
			 "rejected by the proxy (RFC 1929 status %u): check the user name and password",
			 m.head[1]);
		return false;
	}
	if (st != SOCKS5_OK) {
		bad_message(pr, h, "auth", st, m.head, m.have, m.err ? m.err : err);
		return false;
	}
	sfy_step(pr, STEP_OK, h, "auth", "user '%s' accepted", p->user);
	return true;
}

/* The address of hop h as the previous hop is asked to reach it. */
static void hop_addr(const struct socks5_proxy *p, struct socks5_addr *a)
{
	memset(a, 0, sizeof(*a));
	a->port = p->port;
	if (inet_pton(AF_INET, p->host, a->u.ipv4) == 1)
		a->atyp = SOCKS5_ATYP_IPV4;
	else if (inet_pton(AF_INET6, p->host, a->u.ipv6) == 1)
		a->atyp = SOCKS5_ATYP_IPV6;
	else
		socks5_addr_from_domain(a, p->host, strlen(p->host), p->port);
}

/* CONNECT at hop h (to the next hop, or to the destination). */
static bool connect_cmd(struct sfy_probe *pr, int fd, size_t h,
			const struct socks5_addr *to, size_t report_hop,
			const char *step, const char *what)
{
	struct msg m = { .kind = MSG_REPLY };
	int64_t deadline = socks5_now_ms() + pr->timeout_ms;
	int64_t t0 = sfy_now_us();
	uint8_t out[SOCKS5_REQUEST_MAX];
	char shown[SOCKS5_DOMAIN_MAX + 16], bnd[SOCKS5_DOMAIN_MAX + 32];
	enum socks5_status st;
	size_t len;
	int err = 0;

	socks5_addr_format(to, shown, sizeof(shown));
	st = socks5_encode_request(out, sizeof(out), SOCKS5_CMD_CONNECT, to, &len);
	if (st == SOCKS5_OK)
		st = send_all(fd, out, len, deadline, &err);
	if (st == SOCKS5_OK)
		st = read_msg(fd, &m, deadline);
	if (st != SOCKS5_OK) {
		bad_message(pr, report_hop, step, st, m.head, m.have, m.err ? m.err : err);
		return false;
	}
	if (m.reply.rep != SOCKS5_REP_SUCCEEDED) {
		sfy_step(pr, STEP_FAIL, report_hop, step,
			 "hop %zu could not connect to %s%s: %s (REP 0x%02x): %s",
			 h + 1, what, shown, socks5_rep_string(m.reply.rep),
			 m.reply.rep, sfy_rep_hint(m.reply.rep, false));
		return false;
	}
	/* BND is where the proxy's own connection starts; many proxies
	 * (microsocks) send zeros, which say nothing. */
	bnd[0] = '\0';
	if (!sfy_addr_unspecified(&m.reply.bnd)) {
		strcpy(bnd, " (its side: ");
		socks5_addr_format(&m.reply.bnd, bnd + strlen(bnd),
				   sizeof(bnd) - strlen(bnd) - 1);
		strcat(bnd, ")");
	}
	sfy_step(pr, STEP_OK, report_hop, step, "hop %zu connected to %s%s in %.1f ms%s",
		 h + 1, what, shown, ms_since(t0), bnd);
	return true;
}

bool sfy_addr_unspecified(const struct socks5_addr *a)
{
	static const uint8_t zero[16];

	return (a->atyp == SOCKS5_ATYP_IPV4 && !memcmp(a->u.ipv4, zero, 4)) ||
	       (a->atyp == SOCKS5_ATYP_IPV6 && !memcmp(a->u.ipv6, zero, 16));
}

int sfy_probe_connect_first(struct sfy_probe *pr)
{
	int64_t deadline = socks5_now_ms() + pr->timeout_ms;
	int fd, rc;

	fd = socket(pr->first.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	rc = socks5_connect_deadline(pr->io, fd, (struct sockaddr *)&pr->first,
				     pr->first_len, deadline);
	if (rc) {
		close(fd);
		return rc;
	}
	return fd;
}

/* The first hop's addresses: a literal as it is, a name looked up. */
static bool first_hop_addrs(struct sfy_probe *pr, struct sfy_addrs *out)
{
	const struct socks5_proxy *p = &pr->hops[0];
	struct socks5_addr a;
	char why[320];

	hop_addr(p, &a);
	if (a.atyp != SOCKS5_ATYP_DOMAIN) {
		out->n = 1;
		out->len[0] = sizeof(out->addr[0]);
		return socks5_addr_to_sockaddr(&a, &out->addr[0], &out->len[0]) ==
		       SOCKS5_OK;
	}
	if (sfy_resolve(p->host, p->port, pr->timeout_ms, out, why, sizeof(why))) {
		sfy_step(pr, STEP_FAIL, 0, "reach",
			 "cannot resolve the proxy's name '%s': %s",
			 p->host, why);
		return false;
	}
	return true;
}

/* TCP to the first hop, each of its addresses in turn (as the library). */
static int reach_first(struct sfy_probe *pr)
{
	struct sfy_addrs addrs;
	char shown[INET6_ADDRSTRLEN + 8] = "";
	int64_t t0;
	size_t i;
	int rc, fd = -1, err = 0;

	if (!first_hop_addrs(pr, &addrs))
		return -1;
	for (i = 0; i < addrs.n; i++) {
		const struct sockaddr *sa = (const struct sockaddr *)&addrs.addr[i];
		struct socks5_addr a;

		if (socks5_addr_from_sockaddr(&a, sa, addrs.len[i]))
			continue;
		socks5_addr_format(&a, shown, sizeof(shown));
		fd = socket(sa->sa_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
		if (fd < 0) {
			err = errno;
			continue;
		}
		t0 = sfy_now_us();
		rc = socks5_connect_deadline(pr->io, fd, sa, addrs.len[i],
					     socks5_now_ms() + pr->timeout_ms);
		if (rc == 0) {
			memcpy(&pr->first, sa, addrs.len[i]);
			pr->first_len = addrs.len[i];
			sfy_step(pr, STEP_OK, 0, "reach", "%s answered in %.1f ms",
				 shown, ms_since(t0));
			return fd;
		}
		err = -rc;
		close(fd);
		fd = -1;
		if (i + 1 < addrs.n)
			sfy_step(pr, STEP_NOTE, 0, "reach", "%s: %s; trying the next address",
				 shown, strerror(err));
	}
	sfy_step(pr, STEP_FAIL, 0, "reach", "%s: %s: %s", shown, strerror(err),
		 reach_hint(err));
	return -1;
}

/* HOST:PORT or [IPv6]:PORT into pr->dst, resolving locally when the last
 * hop does not take names. Returns false after saying why. */
static bool parse_dest(struct sfy_probe *pr, const char *dest)
{
	char host[SOCKS5_DOMAIN_MAX + 1];
	const char *colon = strrchr(dest, ':'), *h = dest;
	size_t hlen;
	char *end;
	long port;

	if (!colon)
		goto bad;
	hlen = (size_t)(colon - dest);
	if (dest[0] == '[') {
		if (hlen < 3 || dest[hlen - 1] != ']')
			goto bad;
		h = dest + 1;
		hlen -= 2;
	} else if (memchr(dest, ':', hlen)) {
		goto bad; /* an IPv6 address needs brackets */
	}
	port = strtol(colon + 1, &end, 10);
	if (!hlen || hlen > SOCKS5_DOMAIN_MAX || *end || colon[1] < '0' ||
	    colon[1] > '9' || port < 1 || port > 65535)
		goto bad;
	memcpy(host, h, hlen);
	host[hlen] = '\0';
	pr->dst.port = (uint16_t)port;
	if (inet_pton(AF_INET, host, pr->dst.u.ipv4) == 1) {
		pr->dst.atyp = SOCKS5_ATYP_IPV4;
	} else if (inet_pton(AF_INET6, host, pr->dst.u.ipv6) == 1) {
		pr->dst.atyp = SOCKS5_ATYP_IPV6;
	} else if (pr->remote_dns) {
		socks5_addr_from_domain(&pr->dst, host, hlen, (uint16_t)port);
	} else {
		struct sfy_addrs res;
		char why[320];

		if (sfy_resolve(host, (uint16_t)port, pr->timeout_ms, &res, why,
				sizeof(why))) {
			fprintf(stderr, "socksify: --check: cannot resolve '%s' here: %s (with socks5h:// the proxy resolves names)\n",
				host, why);
			return false;
		}
		socks5_addr_from_sockaddr(&pr->dst, (struct sockaddr *)&res.addr[0],
					  res.len[0]);
	}
	socks5_addr_format(&pr->dst, pr->dst_shown, sizeof(pr->dst_shown));
	pr->have_dst = true;
	return true;
bad:
	fprintf(stderr, "socksify: --check: '%s' is not HOST:PORT (an IPv6 address in brackets: [::1]:80)\n",
		sfy_arg_shown(dest));
	return false;
}

/* The settings into pr: chain, time-out, DNS mode, UDP mode. */
static bool setup(struct sfy_probe *pr, const struct sfy_settings *s)
{
	const char *v;
	char err[512] = "";

	pr->io = &libc_io;
	if (socks5_url_parse_chain(s->proxy, pr->hops, SOCKS5_CHAIN_MAX,
				   &pr->nhops, err, sizeof(err)) != SOCKS5_OK) {
		fprintf(stderr, "socksify: %s: %s\n", s->source, err);
		return false;
	}
	pr->timeout_ms = DEFAULT_TIMEOUT_MS;
	if (s->timeout_ms > 0) {
		pr->timeout_ms = (int)s->timeout_ms;
	} else if ((v = getenv("SOCKSIFY_TIMEOUT_MS")) && *v) {
		long t = strtol(v, NULL, 10);

		if (t < 1 || t > 600000) {
			fprintf(stderr, "socksify: SOCKSIFY_TIMEOUT_MS: '%s' is not a whole number of milliseconds in 1..600000\n", v);
			return false;
		}
		pr->timeout_ms = (int)t;
	}
	pr->remote_dns = pr->hops[pr->nhops - 1].remote_dns;
	if (s->dns >= 0)
		pr->remote_dns = s->dns;
	else if ((v = getenv("SOCKSIFY_DNS")) && *v)
		pr->remote_dns = !strcasecmp(v, "remote");
	pr->udp_mode = getenv("SOCKSIFY_UDP");
	if (!pr->udp_mode || !*pr->udp_mode)
		pr->udp_mode = "proxy";
	return true;
}

static void header(const struct sfy_probe *pr)
{
	printf("socksify --check: %zu proxy hop%s, ", pr->nhops,
	       pr->nhops == 1 ? "" : "s");
	if (pr->have_dst)
		printf("destination %s%s\n", pr->dst_shown,
		       pr->dst.atyp == SOCKS5_ATYP_DOMAIN ?
			       " (the proxy resolves the name)" : "");
	else
		printf("no destination (socksify --check HOST:PORT also tries a CONNECT and a datagram)\n");
}

static void hop_title(const struct sfy_probe *pr, size_t h)
{
	char url[SOCKS5_URL_SHOWN_MAX];

	socks5_url_format(&pr->hops[h], url, sizeof(url));
	printf("hop %zu: %s\n", h + 1, url);
}

/* The TCP part; true when every hop was negotiated. */
static bool check_tcp(struct sfy_probe *pr)
{
	struct socks5_addr next;
	bool ok = true;
	size_t h;
	int fd;

	hop_title(pr, 0);
	fd = reach_first(pr);
	if (fd < 0)
		return false;
	for (h = 0; ok && h < pr->nhops; h++) {
		ok = negotiate(pr, fd, h);
		if (!ok)
			break;
		if (h + 1 < pr->nhops) {
			hop_title(pr, h + 1);
			hop_addr(&pr->hops[h + 1], &next);
			ok = connect_cmd(pr, fd, h, &next, h + 1, "reach", "");
		}
	}
	if (ok && pr->have_dst)
		connect_cmd(pr, fd, pr->nhops - 1, &pr->dst, pr->nhops - 1,
			    "connect", "");
	else if (ok)
		sfy_step(pr, STEP_SKIP, h, "connect",
			 "no destination named (socksify --check HOST:PORT)");
	close(fd);
	return ok;
}

int sfy_check(const struct sfy_settings *s, const char *dest)
{
	struct sfy_probe pr;
	bool negotiated;
	size_t i;

	memset(&pr, 0, sizeof(pr));
	if (!setup(&pr, s))
		return SFY_EXIT_USAGE;
	if (dest && !parse_dest(&pr, dest)) {
		for (i = 0; i < pr.nhops; i++)
			socks5_proxy_wipe(&pr.hops[i]);
		return SFY_EXIT_USAGE;
	}
	header(&pr);
	negotiated = check_tcp(&pr);
	pr.tcp_failed = pr.failed_step != NULL;
	if (negotiated)
		sfy_check_udp(&pr);
	for (i = 0; i < pr.nhops; i++)
		socks5_proxy_wipe(&pr.hops[i]);
	if (pr.tcp_failed && !strcmp(pr.failed_step, "connect")) {
		printf("result: FAILED: the proxy%s works, but %s cannot be reached through it (exit status %d)\n",
		       pr.nhops > 1 ? " chain" : "", pr.dst_shown, SFY_CHECK_FAILED);
		return SFY_CHECK_FAILED;
	}
	if (pr.tcp_failed) {
		printf("result: FAILED at hop %zu, %s: programs cannot use this proxy%s (exit status %d)\n",
		       pr.failed_hop + 1, pr.failed_step,
		       pr.nhops > 1 ? " chain" : "", SFY_CHECK_FAILED);
		return SFY_CHECK_FAILED;
	}
	if (pr.udp_failed) {
		printf("result: TCP works, UDP does not: UDP programs will fail unless SOCKSIFY_UDP=direct or block (exit status %d)\n",
		       SFY_CHECK_UDP_FAILED);
		return SFY_CHECK_UDP_FAILED;
	}
	printf("result: OK, everything checked works\n");
	return SFY_CHECK_OK;
}
