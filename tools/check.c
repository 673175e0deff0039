/*
 * socksify --check [HOST:PORT]
 *
 * Walks the chain hop by hop over one connection, with libsocks5's
 * handshake machine (socks5_hs_*), reporting every step on its own:
 *
 *   hop 1   reach (TCP connect, timed), method, auth (when chosen)
 *   hop k   reach = CONNECT from hop k-1 to hop k, method, auth
 *   last    CONNECT to HOST:PORT (skipped when none is named)
 *   then    UDP ASSOCIATE and a datagram through the relay (check_udp.c)
 *
 * In a chain mode other than strict (SOCKSIFY_CHAIN), each hop is first
 * reached and negotiated alone (check_modes.c), so the report says which
 * hops are dead; the walk above then runs over the hops a program would
 * use now (the live ones in order for dynamic; the first
 * SOCKSIFY_CHAIN_LEN live ones for random and round-robin, which vary
 * from connection to connection).
 *
 * The blocking driver (socks5_handshake) reports only where it stopped;
 * here the user wants to see each step succeed, so check.c steps the same
 * machine itself and follows it through its trace, each step with its own
 * time-out. The command is never preloaded (socksify.c makes sure), so
 * the libc functions are the real ones.
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
#include "socks5_gssapi.h"
#include "socks5_chainmode.h"
#include "tool.h"

#define DEFAULT_TIMEOUT_MS 10000

static const struct socks5_io libc_io = {
	.send = send, .recv = recv, .poll = poll, .connect = connect,
	.fcntl = fcntl, .sendto = sendto, .getsockopt = getsockopt,
	.peek = true,
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

static void hop_title(const struct sfy_probe *pr, size_t h)
{
	char url[SOCKS5_URL_SHOWN_MAX];

	socks5_url_format(&pr->hops[h], url, sizeof(url));
	printf("hop %zu: %s\n", pr->label[h] + 1, url);
}

/*
 * The TCP part runs libsocks5's handshake machine over one connection,
 * lock-step, stepped by a loop that waits with sfy_wait_for (as an event
 * loop would), and reports each step from the machine's trace: every state
 * it enters is seen, with the reply or the bytes that made it move.
 */
struct tcp_run {
	struct sfy_probe *pr;
	struct socks5_hs hs;
	enum socks5_hs_state prev;   /* the state before the one entered */
	int64_t deadline;            /* of the step under way */
	int64_t t0;                  /* when the request under way started */
	char target[SOCKS5_DOMAIN_MAX + 16]; /* what that request names */
};

/* The hop's method (and authentication) were accepted. */
static void negotiated(struct tcp_run *r, size_t h)
{
	const struct socks5_proxy *p = &r->pr->hops[h];

	if (r->prev == SOCKS5_HS_AUTH_RECV) {
		sfy_step(r->pr, STEP_OK, h, "auth", "user '%s' accepted", p->user);
		return;
	}
	if (r->prev == SOCKS5_HS_GSS_RECV) {
		/* The level was agreed too (a refusal fails the step). */
		sfy_step(r->pr, STEP_OK, h, "gssapi",
			 "Kerberos context with %s@%s established, protection level %s accepted",
			 p->gss_service[0] ? p->gss_service : "rcmd", p->host,
			 socks5_gss_level_name(p->gss_level_set ?
					       p->gss_level :
					       SOCKS5_GSS_LEVEL_CONFIDENTIALITY));
		return;
	}
	sfy_step(r->pr, STEP_OK, h, "method", "the proxy chose no authentication");
	if (p->has_auth)
		sfy_step(r->pr, STEP_SKIP, h, "auth",
			 "not needed: the user name and password were not sent");
}

/* The request of hop h succeeded: "reach" of the next hop, or "connect". */
static void connected(struct tcp_run *r, size_t h)
{
	const struct socks5_reply *rep = socks5_hs_reply(&r->hs);
	bool last = h + 1 == r->pr->nhops;
	char bnd[SOCKS5_DOMAIN_MAX + 32] = "";

	/* BND is where the proxy's own connection starts; many proxies
	 * (microsocks) send zeros, which say nothing. */
	if (!sfy_addr_unspecified(&rep->bnd)) {
		strcpy(bnd, " (its side: ");
		socks5_addr_format(&rep->bnd, bnd + strlen(bnd),
				   sizeof(bnd) - strlen(bnd) - 1);
		strcat(bnd, ")");
	}
	sfy_step(r->pr, STEP_OK, last ? h : h + 1, last ? "connect" : "reach",
		 "hop %zu connected to %s in %.1f ms%s", r->pr->label[h] + 1,
		 r->target,
		 ms_since(r->t0), bnd);
}

/* The machine's trace: told of each state entered, this one included. */
static void on_state(void *arg, size_t hop, const char *name)
{
	struct tcp_run *r = arg;
	struct sfy_probe *pr = r->pr;
	enum socks5_hs_state s = socks5_hs_state(&r->hs);
	struct socks5_addr to;
	uint8_t cmd;

	(void)name;
	switch (s) {
	case SOCKS5_HS_GREETING_SEND:
		r->deadline = socks5_now_ms() + pr->timeout_ms;
		if (hop > 0)
			connected(r, hop - 1);
		break;
	case SOCKS5_HS_AUTH_SEND:
		sfy_step(pr, STEP_OK, hop, "method",
			 "the proxy chose username/password (RFC 1929)");
		break;
	case SOCKS5_HS_REQUEST_SEND:
		/* SOCKS4 and HTTP hops negotiate nothing: they start here. */
		if (pr->hops[hop].type == SOCKS5_HOP_SOCKS5)
			negotiated(r, hop);
		else if (hop > 0 && r->prev == SOCKS5_HS_REPLY_RECV)
			connected(r, hop - 1);
		if (hop + 1 < pr->nhops)
			hop_title(pr, hop + 1);
		r->target[0] = '\0';
		if (socks5_hs_target(&r->hs, &to, &cmd) == SOCKS5_OK)
			socks5_addr_format(&to, r->target, sizeof(r->target));
		r->deadline = socks5_now_ms() + pr->timeout_ms;
		r->t0 = sfy_now_us();
		break;
	case SOCKS5_HS_DONE:
		if (r->prev == SOCKS5_HS_REPLY_RECV) {
			connected(r, hop);
		} else { /* no destination: the chain is negotiated */
			negotiated(r, hop);
			sfy_step(pr, STEP_SKIP, hop, "connect",
				 "no destination named (socksify --check HOST:PORT)");
		}
		break;
	default:
		break;
	}
	r->prev = s;
}

static bool failed_in(const struct socks5_failure *why, enum socks5_hs_state a,
		      enum socks5_hs_state b)
{
	return why->state && (!strcmp(why->state, socks5_hs_state_name(a)) ||
			      !strcmp(why->state, socks5_hs_state_name(b)));
}

/* Says where and why the machine stopped; the step's name, or NULL when
 * it did not (all worked). */
static const char *report_failure(struct tcp_run *r, int rc,
				  const struct socks5_failure *why)
{
	struct sfy_probe *pr = r->pr;
	size_t h = why->hop < 0 ? 0 : (size_t)why->hop, have;
	const uint8_t *head = socks5_hs_pending(&r->hs, &have);
	const char *step = "method";
	char words[256];
	size_t at = h;

	if (rc == 0)
		return NULL;
	socks5_failure_describe(why, words, sizeof(words));
	if (failed_in(why, SOCKS5_HS_AUTH_SEND, SOCKS5_HS_AUTH_RECV)) {
		step = "auth";
	} else if (failed_in(why, SOCKS5_HS_REQUEST_SEND, SOCKS5_HS_REPLY_RECV)) {
		step = h + 1 < pr->nhops ? "reach" : "connect";
		at = h + 1 < pr->nhops ? h + 1 : h;
	}
	if (why->status == SOCKS5_E_NO_ACCEPTABLE)
		sfy_step(pr, STEP_FAIL, at, step, pr->hops[h].has_auth ?
			 "the proxy accepts neither no-authentication nor username/password (GSSAPI only?): socksify cannot use it" :
			 "the proxy requires authentication: put the user and password in the URL (socks5h://USER:PASS@HOST:PORT)");
	else if (why->status == SOCKS5_E_AUTH_REJECTED)
		sfy_step(pr, STEP_FAIL, at, step,
			 "rejected by the proxy (RFC 1929 status %u): check the user name and password",
			 have > 1 ? head[1] : 0);
	else if (why->status == SOCKS5_E_REPLY)
		sfy_step(pr, STEP_FAIL, at, step,
			 "hop %zu could not connect to %s: %s (REP 0x%02x): %s",
			 pr->label[h] + 1, r->target, socks5_rep_string(why->rep), why->rep,
			 sfy_rep_hint(why->rep, false));
	else if (why->status >= SOCKS5_E_SOCKS4_VERSION &&
		 why->status <= SOCKS5_E_HOP_CMD)
		sfy_step(pr, STEP_FAIL, at, step, "%s", words);
	else
		bad_message(pr, at, step, why->status, head, have,
			    why->sys_errno);
	return step;
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

	if (socks5_proxy_addr(p, &a) != SOCKS5_OK)
		return false; /* not after socks5_url_parse */
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
	size_t i;

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
	for (i = 0; i < pr->nhops; i++)
		pr->label[i] = i;
	if (s->chain_mode >= 0) {
		pr->chain_mode = s->chain_mode;
		pr->chain_len = s->chain_len > 0 ? (size_t)s->chain_len : 1;
	} else if (sfy_chain_setting(getenv("SOCKSIFY_CHAIN"),
				     getenv("SOCKSIFY_CHAIN_LEN"), pr->nhops,
				     &pr->chain_mode, &pr->chain_len, err,
				     sizeof(err))) {
		fprintf(stderr, "socksify: %s\n", err);
		return false;
	}
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

/* The TCP part (check.h). */
bool sfy_check_tcp(struct sfy_probe *pr)
{
	struct tcp_run r = { .pr = pr };
	struct socks5_hs_opts opts = { .trace = on_state, .trace_arg = &r };
	struct socks5_failure why;
	const char *step;
	short ev;
	int fd, err = 0;

	hop_title(pr, 0);
	fd = reach_first(pr);
	if (fd < 0)
		return false;
	socks5_hs_begin(&r.hs, pr->hops, pr->nhops, SOCKS5_CMD_CONNECT,
			pr->have_dst ? &pr->dst : NULL, &opts);
	while ((ev = socks5_hs_step(pr->io, fd, &r.hs)) != 0) {
		enum socks5_status st = sfy_wait_for(fd, ev, r.deadline, &err);

		if (st != SOCKS5_OK)
			socks5_hs_fail(&r.hs, st, err);
	}
	step = report_failure(&r, socks5_hs_result(&r.hs, NULL, &why), &why);
	close(fd);
	return !step || !strcmp(step, "connect");
}

/* sfy_check over pr's allocated hops; every hop wiped on return. */
static int check_run(struct sfy_probe *p, const struct sfy_settings *s,
		     const char *dest)
{
	bool negotiated;
	int dead = 0;
	size_t i;

	if (!setup(p, s))
		return SFY_EXIT_USAGE;
	if (dest && !parse_dest(p, dest)) {
		for (i = 0; i < p->nhops; i++)
			socks5_proxy_wipe(&p->hops[i]);
		return SFY_EXIT_USAGE;
	}
	header(p);
	if (p->chain_mode != SFY_CHAIN_STRICT && p->nhops > 1) {
		dead = sfy_check_hops_alone(p);
		if (dead < 0)
			return SFY_CHECK_FAILED;
	}
	negotiated = sfy_check_tcp(p);
	p->tcp_failed = p->failed_step != NULL;
	if (negotiated)
		sfy_check_udp(p);
	for (i = 0; i < p->nhops; i++)
		socks5_proxy_wipe(&p->hops[i]);
	if (p->tcp_failed && !strcmp(p->failed_step, "connect")) {
		printf("result: FAILED: the proxy%s works, but %s cannot be reached through it (exit status %d)\n",
		       p->nhops > 1 ? " chain" : "", p->dst_shown, SFY_CHECK_FAILED);
		return SFY_CHECK_FAILED;
	}
	if (p->tcp_failed) {
		printf("result: FAILED at hop %zu, %s: programs cannot use this proxy%s (exit status %d)\n",
		       p->label[p->failed_hop] + 1, p->failed_step,
		       p->nhops > 1 ? " chain" : "", SFY_CHECK_FAILED);
		return SFY_CHECK_FAILED;
	}
	if (p->udp_failed) {
		printf("result: TCP works, UDP does not: UDP programs will fail unless SOCKSIFY_UDP=direct or block (exit status %d)\n",
		       SFY_CHECK_UDP_FAILED);
		return SFY_CHECK_UDP_FAILED;
	}
	if (dead > 0) {
		printf("result: OK through the live hops; %d of the configured hops %s dead and skipped (see DEAD above)\n",
		       dead, dead == 1 ? "is" : "are");
		return SFY_CHECK_OK;
	}
	printf("result: OK, everything checked works\n");
	return SFY_CHECK_OK;
}

int sfy_check(const struct sfy_settings *s, const char *dest)
{
	struct sfy_probe pr = { 0 };
	int rc = SFY_EXIT_USAGE;

	pr.hops = calloc(SOCKS5_CHAIN_MAX, sizeof(*pr.hops));
	pr.label = calloc(SOCKS5_CHAIN_MAX, sizeof(*pr.label));
	if (pr.hops && pr.label)
		rc = check_run(&pr, s, dest);
	else
		fputs("socksify: --check: out of memory\n", stderr);
	free(pr.hops);
	free(pr.label);
	return rc;
}
