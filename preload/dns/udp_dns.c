/*
 * Local DNS through the UDP association: see udp_dns.h for why and what.
 *
 *   resolver (libc)  --query-->  127.0.0.1:L  (our socket, in _res)
 *   forwarder thread --query-->  relay  --> real name server
 *   forwarder thread <--answer-- relay  <-- real name server
 *   resolver (libc)  <--answer-- 127.0.0.1:L
 *
 * _res is per thread, and only the calling thread's entries are changed,
 * only for the duration of its call, and only the entries we forward:
 * other threads and later calls see the configuration as it was. With
 * RES_NORELOAD set meanwhile, glibc keeps our entries rather than
 * reloading resolv.conf over them (it also keeps entries a program set
 * itself, which is the documented way to change name servers).
 *
 * The thread blocks every signal, lives at most FWD_MAX_MS, and touches
 * only its own descriptors; a query that cannot be forwarded (the proxy
 * refuses the association) is dropped, and the resolver times out as it
 * would with an unreachable server, after one log line.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <unistd.h>

#include "base/config.h"
#include "base/log.h"
#include "base/realfn.h"
#include "base/sockaddr.h"
#include "dns/dns_tcp.h"
#include "dns/hosts.h"
#include "dns/udp_dns.h"
#include "hooks/hooks.h"
#include "route/policy.h"
#include "udp/udp_io.h"

#define FWD_MAX_MS 120000 /* beyond any resolver's attempts x timeout */

/* The address of name server i, as glibc's own get_nsaddr() finds it. */
static const struct sockaddr *ns_address(res_state rs, int i, socklen_t *len)
{
	if (rs->nsaddr_list[i].sin_family == 0 && rs->_u._ext.nsaddrs[i]) {
		*len = sizeof(struct sockaddr_in6);
		return (const struct sockaddr *)rs->_u._ext.nsaddrs[i];
	}
	*len = sizeof(struct sockaddr_in);
	return (const struct sockaddr *)&rs->nsaddr_list[i];
}

/* No name server traffic at all for these: numbers and /etc/hosts. */
static bool answered_locally(const char *name)
{
	struct sfy_hosts_result hr;
	struct in6_addr a6;

	if (!name)
		return false;
	if (inet_pton(AF_INET, name, &a6) == 1 ||
	    inet_pton(AF_INET6, name, &a6) == 1)
		return true;
	return sfy_hosts_lookup(name, &hr) == 0 && hr.n > 0;
}

static bool wanted(void)
{
	const struct sfy_config *cfg = sfy_config();

	return cfg->enabled && !cfg->broken && cfg->dns == SFY_DNS_LOCAL &&
	       (cfg->udp == SFY_UDP_PROXY || cfg->udp == SFY_UDP_FIRST_HOP) &&
	       (cfg->nhops == 1 || cfg->udp == SFY_UDP_FIRST_HOP) &&
	       !sfy_inside();
}

/* ns in the family of our relay socket, as its replies name it. */
static void in_family(const union sfy_inaddr *ns, int fam,
		      union sfy_inaddr *out)
{
	*out = *ns;
	if (fam == AF_INET6 && ns->sa.sa_family == AF_INET)
		sfy_addr_map(&ns->in, &out->in6);
}

static bool same(const union sfy_inaddr *a, const union sfy_inaddr *b)
{
	return a->sa.sa_family == b->sa.sa_family &&
	       sfy_addr_port_equal(&a->sa, &b->sa);
}

struct fwd_state {
	struct sfy_dns_fwd *f;
	int u, fam;                     /* relay socket, once associated */
	struct sfy_fd_id uid;           /* what u held when made */
	bool failed;
	struct sfy_fd_info info;
	struct sockaddr_in client[MAXNS]; /* the resolver's socket per server */
	socklen_t clen[MAXNS];
};

static void open_relay(struct fwd_state *st)
{
	int i, rc;

	st->fam = AF_INET;
	for (i = 0; i < st->f->n; i++)
		if (st->f->ns[i].sa.sa_family == AF_INET6)
			st->fam = AF_INET6;
	st->u = sfy_socket(st->fam, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	rc = st->u < 0 ? -errno : sfy_assoc_open(st->u, st->fam, &st->info);
	if (st->u >= 0)
		sfy_fd_id_note(st->u, &st->uid);
	if (rc < 0) {
		sfy_warn("DNS through the proxy: no UDP association (%s); the resolver's queries are dropped",
			 strerrorname_np(-rc));
		if (st->u >= 0)
			sfy_close(st->u);
		st->u = -1;
		st->failed = true;
	}
}

static void query_in(struct fwd_state *st, int i, uint8_t *buf, size_t cap)
{
	struct sfy_dns_fwd *f = st->f;
	struct iovec iov;
	struct msghdr m;
	ssize_t n;

	st->clen[i] = sizeof(st->client[i]);
	n = sfy_real()->recvfrom(f->lsock[i], buf, cap, MSG_DONTWAIT,
				 (struct sockaddr *)&st->client[i], &st->clen[i]);
	if (n < 0)
		return;
	if (st->u < 0 && !st->failed)
		open_relay(st);
	if (st->u < 0)
		return;
	iov.iov_base = buf;
	iov.iov_len = (size_t)n;
	memset(&m, 0, sizeof(m));
	m.msg_iov = &iov;
	m.msg_iovlen = 1;
	sfy_udp_send_to(st->u, &st->info, &f->ns[i].sa, f->nslen[i], &m, 0);
}

static void answer_in(struct fwd_state *st, uint8_t *buf, size_t cap)
{
	struct sfy_dns_fwd *f = st->f;
	union sfy_inaddr from, want;
	struct iovec iov = { .iov_base = buf, .iov_len = cap };
	struct msghdr m;
	ssize_t n;
	int i;

	memset(&m, 0, sizeof(m));
	m.msg_name = &from;
	m.msg_namelen = sizeof(from);
	m.msg_iov = &iov;
	m.msg_iovlen = 1;
	n = sfy_udp_recvmsg(st->u, &st->info, &m, MSG_DONTWAIT);
	if (n < 0)
		return;
	for (i = 0; i < f->n; i++) {
		in_family(&f->ns[i], st->fam, &want);
		if (same(&from, &want) && st->clen[i])
			sfy_real()->sendto(f->lsock[i], buf, (size_t)n, 0,
					   (struct sockaddr *)&st->client[i],
					   st->clen[i]);
	}
}

/* A listening socket or the stop pipe that poll says is readable no
 * longer holds what we made (closed and reused behind our back): the
 * forwarder stops rather than read the program's descriptor. */
static bool taken(const struct sfy_dns_fwd *f, const struct pollfd *p)
{
	int i;

	for (i = 0; i < f->n; i++)
		if ((p[i].revents &&
		     !sfy_fd_id_same(f->lsock[i], &f->id[i])) ||
		    (p[MAXNS + i].revents &&
		     !sfy_fd_id_same(f->tsock[i], &f->id[MAXNS + i])))
			return true;
	return false;
}

/* The poll set: per server its UDP socket and TCP listener, the stop
 * pipe, the relay socket, and a TCP session's two sockets. */
enum { P_STOP = 2 * MAXNS, P_RELAY, P_TCP, P_MAX = P_TCP + 2 };

static void *forward(void *arg)
{
	struct fwd_state st;
	struct sfy_dns_tcp tcp;
	struct pollfd p[P_MAX];
	uint8_t buf[65536];
	int64_t end = socks5_now_ms() + FWD_MAX_MS;
	int i, n, ntcp;

	memset(&st, 0, sizeof(st));
	st.f = arg;
	st.u = -1;
	sfy_dns_tcp_init(&tcp);
	while (socks5_now_ms() < end && !atomic_load(&st.f->stopping)) {
		for (i = 0; i < MAXNS; i++) {
			p[i].fd = i < st.f->n ? st.f->lsock[i] : -1;
			p[MAXNS + i].fd = i < st.f->n ? st.f->tsock[i] : -1;
			p[i].events = p[MAXNS + i].events = POLLIN;
		}
		p[P_STOP].fd = st.f->stop[0];
		p[P_STOP].events = POLLIN;
		p[P_RELAY].fd = st.u;
		p[P_RELAY].events = POLLIN;
		ntcp = sfy_dns_tcp_pollfds(&tcp, &p[P_TCP]);
		n = sfy_real()->poll(p, (nfds_t)(P_TCP + ntcp), 1000);
		if (n <= 0)
			continue;
		if (p[P_STOP].revents || taken(st.f, p))
			break;
		sfy_dns_tcp_io(&tcp, &p[P_TCP], ntcp);
		for (i = 0; i < st.f->n; i++) {
			if (p[i].revents & POLLIN)
				query_in(&st, i, buf, sizeof(buf));
			if (p[MAXNS + i].revents & POLLIN)
				sfy_dns_tcp_accept(&tcp, st.f->tsock[i],
						   &st.f->ns[i], st.f->nslen[i]);
		}
		if (st.u >= 0 && (p[P_RELAY].revents & POLLIN))
			answer_in(&st, buf, sizeof(buf));
	}
	sfy_dns_tcp_end(&tcp);
	/* Our hook: drops the association (unless the number is no longer
	 * the relay socket: then it is not ours to close). */
	if (st.u >= 0 && sfy_fd_id_same(st.u, &st.uid))
		sfy_close(st.u);
	return NULL;
}

/* Closes fd if it still holds what id noted. */
static void close_mine(int fd, const struct sfy_fd_id *id)
{
	if (sfy_fd_id_same(fd, id))
		sfy_real()->close(fd);
}

static void undo_sockets(struct sfy_dns_fwd *f, int upto)
{
	int i;

	for (i = 0; i < upto; i++) {
		close_mine(f->lsock[i], &f->id[i]);
		close_mine(f->tsock[i], &f->id[MAXNS + i]);
	}
}

/* Points the forwarded entries of _res at port[i] on loopback (0: the
 * discard port, for failing closed), remembering what was there. */
static void redirect(struct sfy_dns_fwd *f, res_state rs, const uint16_t *port)
{
	int i;

	f->saved_options = rs->options;
	for (i = 0; i < f->n; i++) {
		struct sockaddr_in *e = &rs->nsaddr_list[f->idx[i]];

		f->saved[i] = *e;
		memset(e, 0, sizeof(*e));
		e->sin_family = AF_INET;
		e->sin_port = port ? port[i] : htons(9);
		e->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	}
	rs->options |= RES_NORELOAD;
	f->active = true;
}

/* The thread and its descriptors; 0 or -errno. */
static int start(struct sfy_dns_fwd *f, uint16_t *port)
{
	sigset_t all, old;
	int i, s;

	for (i = 0; i < f->n; i++) {
		s = sfy_dns_loopback_pair(&f->lsock[i], &f->tsock[i], &port[i]);
		if (s < 0) {
			undo_sockets(f, i);
			return s;
		}
		sfy_fd_id_note(f->lsock[i], &f->id[i]);
		sfy_fd_id_note(f->tsock[i], &f->id[MAXNS + i]);
	}
	if (pipe2(f->stop, O_CLOEXEC) < 0) {
		s = -errno;
		undo_sockets(f, f->n);
		return s;
	}
	sfy_fd_id_note(f->stop[0], &f->id[SFY_DNS_ID_STOP]);
	sfy_fd_id_note(f->stop[1], &f->id[SFY_DNS_ID_STOP + 1]);
	atomic_store(&f->stopping, false);
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	s = pthread_create(&f->thread, NULL, forward, f);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (s) {
		undo_sockets(f, f->n);
		sfy_real()->close(f->stop[0]);
		sfy_real()->close(f->stop[1]);
		return -s;
	}
	f->running = true;
	return 0;
}

void sfy_dns_local_begin(struct sfy_dns_fwd *f, const char *name)
{
	res_state rs;
	socklen_t len;
	uint16_t port[MAXNS];
	int i, rc, saved = errno, herr = h_errno;

	f->active = f->running = false;
	f->n = 0;
	if (!wanted() || answered_locally(name))
		goto out;
	rs = &_res;
	if (!(rs->options & RES_INIT) && res_init() < 0)
		goto out;
	for (i = 0; i < rs->nscount && i < MAXNS; i++) {
		const struct sockaddr *sa = ns_address(rs, i, &len);

		if ((sa->sa_family != AF_INET && sa->sa_family != AF_INET6) ||
		    sfy_addr_is_loopback(sa) || sfy_policy_direct_addr(sa))
			continue;
		f->idx[f->n] = i;
		memset(&f->ns[f->n], 0, sizeof(f->ns[0]));
		memcpy(&f->ns[f->n], sa, len);
		f->nslen[f->n] = len;
		f->n++;
	}
	if (!f->n)
		goto out;
	rc = start(f, port);
	if (rc == 0) {
		redirect(f, rs, port);
		sfy_debug("DNS through the proxy: %d name server(s) forwarded",
			  f->n);
	} else {
		/* Fail closed: never let the resolver reach them direct. */
		sfy_warn("DNS through the proxy: cannot start the forwarder (%s); the resolver's queries to proxied name servers are not sent",
			 strerrorname_np(-rc));
		redirect(f, rs, NULL);
	}
out:
	errno = saved;
	h_errno = herr;
}

void sfy_dns_local_end(struct sfy_dns_fwd *f)
{
	int saved = errno, herr = h_errno, i;
	res_state rs = &_res;

	if (f->running) {
		/* The flag alone ends the thread within its poll's second;
		 * the byte at once (written only into our own pipe). */
		atomic_store(&f->stopping, true);
		while (sfy_fd_id_same(f->stop[1], &f->id[SFY_DNS_ID_STOP + 1]) &&
		       sfy_real()->write(f->stop[1], "x", 1) < 0 &&
		       errno == EINTR)
			;
		pthread_join(f->thread, NULL);
		undo_sockets(f, f->n);
		close_mine(f->stop[0], &f->id[SFY_DNS_ID_STOP]);
		close_mine(f->stop[1], &f->id[SFY_DNS_ID_STOP + 1]);
		f->running = false;
	}
	if (f->active) {
		for (i = 0; i < f->n; i++)
			rs->nsaddr_list[f->idx[i]] = f->saved[i];
		rs->options = (rs->options & ~(unsigned long)RES_NORELOAD) |
			      (f->saved_options & RES_NORELOAD);
		f->active = false;
	}
	errno = saved;
	h_errno = herr;
}

/* Remote DNS's reverse lookups of addresses the proxy reaches
 * (hook_getnameinfo.c): every name server of the calling thread's _res,
 * loopback ones too (a local caching server would ask upstream), points
 * at the discard port on loopback for the duration of the call, so that
 * glibc's own lookup keeps its /etc/hosts answer and every flag's
 * behaviour, and its DNS step fails at once, as with a server that
 * refuses, without a packet leaving. sfy_dns_local_end undoes it. */
void sfy_dns_blackhole_begin(struct sfy_dns_fwd *f)
{
	res_state rs = &_res;
	int i, saved = errno, herr = h_errno;

	f->active = f->running = false;
	f->n = 0;
	if ((rs->options & RES_INIT) || res_init() == 0)
		for (i = 0; i < rs->nscount && i < MAXNS; i++)
			f->idx[f->n++] = i;
	redirect(f, rs, NULL);
	errno = saved;
	h_errno = herr;
}
