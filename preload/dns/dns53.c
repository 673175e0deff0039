/*
 * Port-53 queries answered by the library: see dns53.h for why and how.
 *
 *   program --query--> 127.0.0.1:L  (the answerer of name server NS;
 *                                     the program asked for NS:53)
 *   hook    <--query-- 127.0.0.1:L  (read right after the send)
 *   hook    --answer-> the query's source, from 127.0.0.1:L
 *   program <--answer- "NS:53"      (the source rewritten on receive)
 *
 * The answerers' table is lock-free: a slot goes empty -> filling ->
 * ready by compare-and-swap, and a reader uses ready slots only. A slot
 * whose descriptor the program took away (closed, dup2'd over: fdid.h)
 * is filled again. No malloc, no lock: a signal handler may send a query.
 */
#include <arpa/inet.h>
#include <arpa/nameser.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <string.h>
#include <unistd.h>

#include "base/config.h"
#include "base/log.h"
#include "base/realfn.h"
#include "base/sockaddr.h"
#include "base/sockopt.h"
#include "dns/dns53.h"
#include "dns/dns_tcp.h"
#include "dns/dnsmsg.h"
#include "hooks/hooks.h"
#include "route/dnsroute.h"
#include "state/fdid.h"
#include "state/fdstate.h"
#include "state/vfork.h"

#define RESOLV_PATH "/etc/resolv.conf"
#define RESOLV_BUF 8192
#define SLOTS 8        /* name servers answered for at once */
#define DRAIN_MAX 64   /* queries answered per send, at most */
#define QUERY_MAX 1500 /* the question is at the start: a longer query is cut */

enum { SLOT_EMPTY, SLOT_FILLING, SLOT_READY };

struct answerer {
	atomic_int state;
	union sfy_inaddr ns;   /* the name server, plain (IPv4 unmapped), port 53 */
	int fd;                /* our loopback UDP socket */
	int tcp;               /* its TCP listener on the same port (dns_tcp.h) */
	struct sfy_fd_id id;
	union sfy_inaddr self; /* 127.0.0.1:L, or [::1]:L for an IPv6 server */
};

static struct answerer slots[SLOTS];
atomic_bool sfy_dns53_on;

/* ---- which name servers ------------------------------------------------ */

static bool remote_dns(void)
{
	const struct sfy_config *cfg = sfy_config();

	return cfg->enabled && !cfg->broken && cfg->dns == SFY_DNS_REMOTE &&
	       !sfy_inside() && !sfy_in_vfork_child();
}

/* The address of one "nameserver" line's value (a %scope dropped). */
static bool parse_ns(const char *s, size_t n, union sfy_inaddr *out)
{
	char text[INET6_ADDRSTRLEN + 1];
	const char *pct = memchr(s, '%', n);

	if (pct)
		n = (size_t)(pct - s);
	if (n == 0 || n >= sizeof(text))
		return false;
	memcpy(text, s, n);
	text[n] = 0;
	memset(out, 0, sizeof(*out));
	if (inet_pton(AF_INET, text, &out->in.sin_addr) == 1) {
		out->in.sin_family = AF_INET;
		out->in.sin_port = htons(53);
		return true;
	}
	if (inet_pton(AF_INET6, text, &out->in6.sin6_addr) == 1) {
		out->in6.sin6_family = AF_INET6;
		out->in6.sin6_port = htons(53);
		return true;
	}
	return false;
}

/* True when sa (port 53) is a name server of /etc/resolv.conf; *ns its
 * plain form. The file is read each time (rare: sends to port 53). */
static bool listed(const struct sockaddr *sa, union sfy_inaddr *ns)
{
	char buf[RESOLV_BUF];
	const char *p, *end, *eol, *v;
	ssize_t got;
	int fd = open(RESOLV_PATH, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return false;
	got = pread(fd, buf, sizeof(buf), 0);
	sfy_real()->close(fd);
	if (got <= 0)
		return false;
	for (p = buf, end = buf + got; p < end; p = eol + 1) {
		eol = memchr(p, '\n', (size_t)(end - p));
		if (!eol)
			eol = end;
		while (p < eol && (*p == ' ' || *p == '\t'))
			p++;
		if ((size_t)(eol - p) < 11 || memcmp(p, "nameserver", 10) ||
		    (p[10] != ' ' && p[10] != '\t'))
			continue;
		for (v = p + 10; v < eol && (*v == ' ' || *v == '\t'); v++)
			;
		for (p = v; p < eol && *p != ' ' && *p != '\t' && *p != '#' &&
			    *p != ';' && *p != '\r';
		     p++)
			;
		if (parse_ns(v, (size_t)(p - v), ns) &&
		    sfy_addr_port_equal(&ns->sa, sa))
			return true;
	}
	return false;
}

/* ---- the answerers ----------------------------------------------------- */

/* The ready slot for ns whose socket is still ours, or NULL. */
static struct answerer *find(const union sfy_inaddr *ns)
{
	int i;

	for (i = 0; i < SLOTS; i++)
		if (atomic_load(&slots[i].state) == SLOT_READY &&
		    sfy_addr_port_equal(&slots[i].ns.sa, &ns->sa))
			return &slots[i];
	return NULL;
}

/* Fills slot a for ns (it is SLOT_FILLING, ours): 0 or -errno. */
/* An IPv6 name server's answerer is on ::1, so that an AF_INET6 socket
 * with IPV6_V6ONLY (dig's) reaches it; without IPv6 loopback, on
 * 127.0.0.1 (then reached through its mapped form). */
static int fill(struct answerer *a, const union sfy_inaddr *ns)
{
	int fam = ns->sa.sa_family, rc;
	uint16_t port;

	rc = sfy_dns_loopback_pair_in(fam, &a->fd, &a->tcp, &port);
	if (rc < 0 && fam == AF_INET6)
		rc = sfy_dns_loopback_pair_in(fam = AF_INET, &a->fd, &a->tcp,
					      &port);
	if (rc < 0)
		return rc;
	a->ns = *ns;
	sfy_fd_id_note(a->fd, &a->id);
	memset(&a->self, 0, sizeof(a->self));
	a->self.sa.sa_family = (sa_family_t)fam;
	a->self.in.sin_port = port; /* sin6_port is where sin_port is */
	if (fam == AF_INET)
		a->self.in.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	else
		a->self.in6.sin6_addr = in6addr_loopback;
	return 0;
}

/* The answerer of ns, made when there is none (or its socket was taken
 * away). NULL when none can be made (logged). */
static struct answerer *answerer_for(const union sfy_inaddr *ns)
{
	struct answerer *a = find(ns);
	int i, expect, rc;

	if (a && sfy_fd_id_same(a->fd, &a->id))
		return a;
	if (a) { /* taken away: fill it again */
		expect = SLOT_READY;
		if (!atomic_compare_exchange_strong(&a->state, &expect,
						    SLOT_FILLING))
			return find(ns);
	}
	for (i = 0; !a && i < SLOTS; i++) {
		expect = SLOT_EMPTY;
		if (atomic_compare_exchange_strong(&slots[i].state, &expect,
						   SLOT_FILLING))
			a = &slots[i];
	}
	if (!a) {
		sfy_warn("DNS to port 53: more than %d name servers; this one's queries are refused",
			 SLOTS);
		return NULL;
	}
	rc = fill(a, ns);
	if (rc < 0) {
		sfy_warn("DNS to port 53: cannot make a loopback answerer (%s); the query is refused",
			 strerrorname_np(-rc));
		atomic_store(&a->state, SLOT_EMPTY);
		return NULL;
	}
	atomic_store(&a->state, SLOT_READY);
	atomic_store(&sfy_dns53_on, true);
	return a;
}

/* The answerer of the name server sa (port 53, listed), or NULL: not one
 * (*refused false), or one that cannot be answered for (*refused). */
static struct answerer *target(const struct sockaddr *sa, bool *refused)
{
	union sfy_inaddr ns;
	struct answerer *a;

	*refused = false;
	if (!remote_dns() || !listed(sa, &ns))
		return NULL;
	a = answerer_for(&ns);
	*refused = !a;
	return a;
}

/* The answerer's address in the form family's socket takes it. */
static socklen_t self_for(const struct answerer *a, int family,
			  union sfy_inaddr *out)
{
	return sfy_addr_in_family(&a->self.sa, family, out);
}

/* An answer from the real resolver, for a name on the bypass list (as
 * getaddrinfo gives it: direct by configuration). */
static void bypassed(struct sfy_dns_packet *p, unsigned id, const char *name,
		     int class, int type)
{
	struct addrinfo hints, *res = NULL, *ai;
	struct sfy_hosts_addr addrs[SFY_HOSTS_ADDRS_MAX];
	size_t n = 0;
	int family = type == ns_t_aaaa ? AF_INET6 : AF_INET, rc;

	memset(&hints, 0, sizeof(hints));
	hints.ai_family = family;
	hints.ai_socktype = SOCK_DGRAM;
	rc = sfy_real()->getaddrinfo ?
		     sfy_real()->getaddrinfo(name, NULL, &hints, &res) :
		     EAI_FAIL;
	for (ai = rc ? NULL : res; ai && n < SFY_HOSTS_ADDRS_MAX; ai = ai->ai_next) {
		addrs[n].family = family;
		memcpy(addrs[n++].addr, family == AF_INET ?
		       (const void *)&((struct sockaddr_in *)ai->ai_addr)->sin_addr :
		       (const void *)&((struct sockaddr_in6 *)ai->ai_addr)->sin6_addr,
		       family == AF_INET ? 4 : 16);
	}
	if (rc == 0)
		sfy_dns_note_addrinfo(name, res); /* its addresses go direct */
	if (res && sfy_real()->freeaddrinfo)
		sfy_real()->freeaddrinfo(res);
	sfy_dns_build(p, id, name, class, type,
		      rc == 0		  ? ns_r_noerror :
		      rc == EAI_NONAME ? ns_r_nxdomain :
					 ns_r_servfail,
		      addrs, n);
}

size_t sfy_dns53_answer(const unsigned char *q, size_t n,
			struct sfy_dns_packet *p)
{
	char name[SOCKS5_DOMAIN_MAX + 2];
	int class, type;
	unsigned id;

	if (!sfy_dns_parse_question(q, (int)n, name, sizeof(name), &class,
				    &type)) {
		sfy_debug("DNS to port 53: a query that is not one question; dropped");
		return 0;
	}
	id = (unsigned)(q[0] << 8 | q[1]);
	switch (sfy_dns_answer("DNS query to port 53", name, class, type, id,
			       p)) {
	case SFY_DNS_REAL:
		bypassed(p, id, name, class, type);
		break;
	case SFY_DNS_FAILED:
		return 0;
	default:
		break;
	}
	sfy_debug("DNS query to port 53 for %s (type %d) answered by the library",
		  name, type);
	return p->len;
}

/* Every query waiting at a's socket gets its answer, sent to its source. */
static void answer_all(struct answerer *a)
{
	const struct sfy_real *r = sfy_real();
	unsigned char q[QUERY_MAX];
	struct sfy_dns_packet p;
	union sfy_inaddr from;
	socklen_t flen;
	ssize_t n;
	int i, saved = errno;

	for (i = 0; i < DRAIN_MAX; i++) {
		flen = sizeof(from);
		n = r->recvfrom(a->fd, q, sizeof(q), MSG_DONTWAIT, &from.sa,
				&flen);
		if (n < 0)
			break;
		if (sfy_dns53_answer(q, (size_t)n, &p))
			r->sendto(a->fd, p.b, p.len, MSG_DONTWAIT, &from.sa,
				  flen);
	}
	errno = saved;
}

/* ---- the hooks' side --------------------------------------------------- */

static bool is_dgram(int fd)
{
	int type;

	return sfy_sock_type(fd, &type) == 0 && type == SOCK_DGRAM;
}

bool sfy_dns53_sendmsg(int fd, const struct msghdr *msg, int flags,
		       ssize_t *rc)
{
	struct answerer *a;
	union sfy_inaddr to;
	struct msghdr m;
	bool refused;

	if (!sfy_is_inet(msg->msg_name, msg->msg_namelen) || !remote_dns() ||
	    !is_dgram(fd))
		return false;
	a = target(msg->msg_name, &refused);
	if (!a) {
		*rc = -ECONNREFUSED;
		return refused;
	}
	m = *msg;
	m.msg_name = &to;
	m.msg_namelen = self_for(a, ((struct sockaddr *)msg->msg_name)->sa_family,
				 &to);
	*rc = sfy_real()->sendmsg(fd, &m, flags);
	if (*rc < 0)
		*rc = -errno;
	else
		answer_all(a);
	return true;
}

bool sfy_dns53_connect(int fd, const struct sockaddr *sa, socklen_t len,
		       int *rc)
{
	struct sfy_fd_info info;
	struct answerer *a;
	union sfy_inaddr to;
	socklen_t tl;
	bool refused;
	int type, set;

	if (!sfy_is_inet(sa, len) || !remote_dns() ||
	    sfy_sock_type(fd, &type) ||
	    (type != SOCK_DGRAM && type != SOCK_STREAM))
		return false;
	a = target(sa, &refused);
	if (!a) {
		*rc = -ECONNREFUSED;
		return refused;
	}
	/* The answerer's UDP socket, or its TCP listener (same port); a
	 * non-blocking stream socket's EINPROGRESS as the kernel says. */
	tl = self_for(a, sa->sa_family, &to);
	*rc = 0;
	if (sfy_real()->connect(fd, &to.sa, tl) < 0) {
		*rc = -errno;
		if (*rc != -EINPROGRESS)
			return true;
	}
	memset(&info, 0, sizeof(info));
	info.kind = SFY_FD_DNS53;
	info.family = sa->sa_family;
	info.assoc = type;
	info.peer_len = len < sizeof(info.peer) ? len : sizeof(info.peer);
	memcpy(&info.peer, sa, info.peer_len);
	set = sfy_fd_set(fd, &info);
	if (*rc == 0)
		*rc = set;
	return true;
}

ssize_t sfy_dns53_send_connected(int fd, const struct msghdr *msg, int flags,
				 int *handled)
{
	struct sfy_fd_info info;
	struct answerer *a;
	ssize_t rc;

	*handled = 0;
	if (!sfy_fd_get(fd, &info) || info.kind != SFY_FD_DNS53)
		return 0;
	*handled = 1;
	rc = sfy_real()->sendmsg(fd, msg, flags);
	if (rc < 0)
		return -errno;
	a = find(&info.peer); /* a mapped peer is its IPv4 address */
	if (a && sfy_fd_id_same(a->fd, &a->id)) {
		if (info.assoc == SOCK_STREAM)
			sfy_dns53_tcp_sent(fd, a->tcp);
		else
			answer_all(a);
	}
	return rc;
}

void sfy_dns53_disconnected(int fd)
{
	if (sfy_fd_kind(fd) == SFY_FD_DNS53)
		sfy_fd_clear(fd);
}

void sfy_dns53_source_slow(struct sockaddr *sa, socklen_t cap, socklen_t *len)
{
	union sfy_inaddr out;
	socklen_t n;
	uint16_t port;
	int i, fam;

	if (*len > cap || !sfy_is_inet(sa, *len) ||
	    !sfy_addr_bytes(sa, &fam, &port))
		return;
	for (i = 0; i < SLOTS; i++) {
		if (atomic_load(&slots[i].state) != SLOT_READY ||
		    !sfy_addr_port_equal(sa, &slots[i].self.sa))
			continue;
		n = sfy_addr_in_family(&slots[i].ns.sa, sa->sa_family, &out);
		if (!n || n > cap)
			return;
		memcpy(sa, &out, n);
		*len = n;
		return;
	}
}
