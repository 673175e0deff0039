/*
 * UDP associations: the table, their making, their lifetime.
 *
 * Design:
 *   - A static table of SFY_ASSOC_MAX entries (BSS: untouched entries cost
 *     no memory). An entry is claimed by a compare-and-swap of refs from 0
 *     to 1 and released when refs falls back to 0; the per-descriptor table
 *     (fdstate) holds the entry's index for the UDP socket (kind UDP) and
 *     for the control connection (kind CONTROL).
 *   - refs counts the program's descriptors for the socket: dup, dup2,
 *     dup3 and F_DUPFD add one (hook_fd.c), close and a dup2 over it take
 *     one away, and the last one closes the control connection. fork()
 *     copies the table and the descriptors together, so parent and child
 *     each hold the control connection and each release it on their own;
 *     the proxy keeps the association until both did. exec() closes it
 *     (FD_CLOEXEC), and the new image starts without state.
 *   - The control connection is the library's, not the program's: it is
 *     FD_CLOEXEC, lives at SFY_CTL_FD_MIN or above, close() of its number
 *     returns 0 without closing it, a dup2()/dup3() onto its number moves
 *     it first, and close_range()/closefrom() skip it (hook_fd.c).
 *   - The proxy drops an association by closing the control connection.
 *     Before a send, sfy_assoc_check() polls it (zero timeout; at most once
 *     per coarse clock tick, so that a busy sender does not pay a system
 *     call per datagram): readable or hung up means gone, and every later
 *     send fails with ENETDOWN.
 *   - The changing part (struct sfy_assoc_dyn) is a seqlock over two
 *     copies of atomic words, as in fdstate.c: readers never wait, writers
 *     (connect(), a new destination) serialise on the odd sequence number
 *     and fill the copy that is not current. No malloc, no mutex: sends
 *     and receives stay async-signal-safe.
 *   - fork() while another thread wrote an entry: the child handler steps
 *     a half-written dyn back to its current copy and frees an entry that
 *     was being released, so the child never spins on a lock nobody holds.
 *   - A vfork child shares this table but not the descriptors: it takes
 *     and drops no references, moves no control connection and makes no
 *     association (sfy_fd_in_vfork_child, checked on these slow paths).
 *   - The control connection is closed only while its number still names
 *     it (the fdstate record, stamped with its device and inode): a
 *     number reused after a close we did not see is the program's.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "config.h"
#include "log.h"
#include "realfn.h"
#include "udp_assoc.h"

/* Where control connections live: above the descriptors programs use
 * for themselves (select() users, "close everything from 3" loops). */
#define SFY_CTL_FD_MIN 100

static struct sfy_assoc table[SFY_ASSOC_MAX];
/* One above the highest entry ever claimed: bounds the fork handler's
 * walk (the table's untouched pages stay untouched). */
static atomic_int used;

struct sfy_assoc *sfy_assoc_at(int i)
{
	return i >= 0 && i < SFY_ASSOC_MAX ? &table[i] : NULL;
}

/* ------------------------------------------------------------------ */
/* The shared, changing part                                            */

#define DYN_WORDS (sizeof(((struct sfy_assoc *)0)->dyn_words[0]) / 8)

/* The copy current at sequence number v (even), or the one that was when
 * the writer holding the lock (v odd) took it. */
static unsigned int dyn_copy(unsigned int v)
{
	return (v >> 1) & 1;
}

/* Never waits for a writer: a write under way fills the other copy, so
 * the current one is only at risk once seq moved by two or more. */
void sfy_assoc_dyn_read(struct sfy_assoc *a, struct sfy_assoc_dyn *out)
{
	uint64_t w[DYN_WORDS];
	unsigned int s1, s2, c;
	size_t i;
	int spins = 0;

	for (;;) {
		s1 = atomic_load_explicit(&a->seq, memory_order_acquire);
		c = dyn_copy(s1);
		for (i = 0; i < DYN_WORDS; i++)
			w[i] = atomic_load_explicit(&a->dyn_words[c][i],
						    memory_order_relaxed);
		atomic_thread_fence(memory_order_acquire);
		s2 = atomic_load_explicit(&a->seq, memory_order_relaxed);
		if (s2 - s1 <= 1)
			break;
		if (++spins > 64)
			sched_yield();
	}
	memcpy(out, w, sizeof(*out));
}

void sfy_assoc_dyn_write(struct sfy_assoc *a, const struct sfy_assoc_dyn *in)
{
	uint64_t w[DYN_WORDS];
	unsigned int v, c;
	size_t i;
	int spins = 0;

	memset(w, 0, sizeof(w));
	memcpy(w, in, sizeof(*in));
	for (;;) {
		v = atomic_load_explicit(&a->seq, memory_order_relaxed);
		if (!(v & 1) && atomic_compare_exchange_weak_explicit(
					&a->seq, &v, v + 1, memory_order_acquire,
					memory_order_relaxed))
			break;
		if (++spins > 64)
			sched_yield();
	}
	atomic_thread_fence(memory_order_release);
	c = dyn_copy(v + 2);
	for (i = 0; i < DYN_WORDS; i++)
		atomic_store_explicit(&a->dyn_words[c][i], w[i],
				      memory_order_relaxed);
	atomic_fetch_add_explicit(&a->seq, 1, memory_order_release);
}

/* ------------------------------------------------------------------ */
/* Lifetime                                                             */

void sfy_assoc_ref(int i)
{
	struct sfy_assoc *a = sfy_assoc_at(i);

	if (a && !sfy_fd_in_vfork_child())
		atomic_fetch_add(&a->refs, 1);
}

/* The last reference's close of the control connection ctl of entry i:
 * only while the number still names it (its record, checked against the
 * descriptor's device and inode). Closed behind our back and reused, the
 * number is the program's, and stays open. */
static void close_ctl(int ctl, int i)
{
	struct sfy_fd_info info;

	if (sfy_fd_kind(ctl) == SFY_FD_CONTROL && sfy_fd_get(ctl, &info) &&
	    info.kind == SFY_FD_CONTROL && info.assoc == i) {
		sfy_fd_clear(ctl);
		sfy_real()->close(ctl);
	} else {
		sfy_debug("UDP association %d: fd %d is no longer its control connection; not closed",
			  i, ctl);
	}
}

/* refs goes 1 -> -1 ("closing") -> 0, so that nobody claims the entry
 * (0 -> 1) while its last holder still tears it down. */
void sfy_assoc_unref(int i)
{
	struct sfy_assoc *a = sfy_assoc_at(i);
	int v, ctl, saved = errno;

	if (!a || sfy_fd_in_vfork_child())
		return;
	v = atomic_load(&a->refs);
	for (;;) {
		if (v <= 0)
			return; /* not held: a bookkeeping slip, never free twice */
		if (atomic_compare_exchange_weak(&a->refs, &v,
						 v == 1 ? -1 : v - 1))
			break;
	}
	if (v != 1)
		return;
	ctl = atomic_exchange(&a->ctl, -1);
	if (ctl >= 0)
		close_ctl(ctl, i);
	atomic_store(&a->refs, 0);
	sfy_debug("UDP association %d released", i);
	errno = saved;
}

/* A stale UDP slot (its socket was closed where we could not see it)
 * still held a reference. A stale control slot means our control
 * connection was closed behind our back and its number reused by the
 * program: the association must never touch that number again. */
static void on_stale(int fd, const struct sfy_fd_info *stale)
{
	struct sfy_assoc *a = sfy_assoc_at(stale->assoc);
	int expect = fd;

	if (stale->kind == SFY_FD_UDP) {
		sfy_assoc_unref(stale->assoc);
	} else if (stale->kind == SFY_FD_CONTROL && a &&
		   atomic_compare_exchange_strong(&a->ctl, &expect, -1)) {
		if (!atomic_exchange(&a->dead, true))
			sfy_warn("the UDP association's control connection (fd %d) was closed behind our back; sends on its socket now fail",
				 fd);
	}
}

static int claim(void)
{
	int i, zero;

	for (i = 0; i < SFY_ASSOC_MAX; i++) {
		zero = 0;
		if (atomic_load_explicit(&table[i].refs, memory_order_relaxed))
			continue;
		if (atomic_compare_exchange_strong(&table[i].refs, &zero, 1)) {
			int u = atomic_load(&used);

			while (u <= i &&
			       !atomic_compare_exchange_weak(&used, &u, i + 1))
				;
			return i;
		}
	}
	return -1;
}

/* Milliseconds of CLOCK_MONOTONIC_COARSE: read from the vDSO, no system
 * call; it moves once per kernel tick. */
static int64_t coarse_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int sfy_assoc_check(struct sfy_assoc *a)
{
	const struct sfy_real *r = sfy_real();
	struct pollfd p;
	int64_t now;
	int ctl, rc;

	if (atomic_load_explicit(&a->dead, memory_order_relaxed))
		return -SFY_ASSOC_DEAD_ERRNO;
	now = coarse_ms();
	if (now < atomic_load_explicit(&a->next_check, memory_order_relaxed))
		return 0;
	atomic_store_explicit(&a->next_check, now + 1, memory_order_relaxed);
	ctl = atomic_load_explicit(&a->ctl, memory_order_relaxed);
	p.fd = ctl;
	p.events = POLLIN;
	p.revents = 0;
	rc = r->poll(&p, 1, 0);
	if (rc <= 0)
		return 0; /* quiet (or EINTR: look again next time) */
	if ((p.revents & POLLNVAL) &&
	    atomic_load_explicit(&a->ctl, memory_order_relaxed) != ctl)
		return 0; /* moved by a dup2() meanwhile */
	/* Readable (EOF or bytes the RFC never sends there), hung up, or
	 * closed behind our back: the association is gone either way. */
	if (!atomic_exchange(&a->dead, true))
		sfy_warn("the proxy closed the UDP association (control connection fd %d); sends on this socket now fail with %s",
			 ctl, strerrorname_np(SFY_ASSOC_DEAD_ERRNO));
	return -SFY_ASSOC_DEAD_ERRNO;
}

/* No identity check here (that would be an fstat() per datagram): a
 * number reused after a close we did not see is caught by the hooks that
 * make descriptors and by ENOTSOCK (sfy_fd_drop_stale). */
int sfy_assoc_of(int fd, struct sfy_fd_info *info)
{
	if (sfy_fd_kind(fd) != SFY_FD_UDP || !sfy_fd_get_fast(fd, info) ||
	    info->kind != SFY_FD_UDP)
		return -ENOENT;
	return 0;
}

/* ------------------------------------------------------------------ */
/* The library's descriptors                                            */

bool sfy_assoc_owns_fd(int fd)
{
	struct sfy_fd_info info;

	return sfy_fd_kind(fd) == SFY_FD_CONTROL && sfy_fd_get(fd, &info) &&
	       info.kind == SFY_FD_CONTROL;
}

void sfy_assoc_make_room(int newfd)
{
	const struct sfy_real *r = sfy_real();
	struct sfy_fd_info info;
	struct sfy_assoc *a;
	int nfd, saved = errno;

	if (!sfy_assoc_owns_fd(newfd) || !sfy_fd_get(newfd, &info) ||
	    sfy_fd_in_vfork_child())
		return; /* a vfork child's dup2 replaces only its own copy */
	a = sfy_assoc_at(info.assoc);
	/* Above newfd: the program names only newfd, so the new number
	 * is never one it is about to use. */
	nfd = r->fcntl(newfd, F_DUPFD_CLOEXEC, newfd + 1);
	if (nfd < 0 || !a) {
		/* No room: give the number up and let the association die
		 * (later sends say so) rather than hold the program's fd. */
		if (a && !atomic_exchange(&a->dead, true))
			sfy_warn("no descriptor to move the UDP association's control connection to: %m; sends on its socket now fail");
		if (a)
			atomic_store(&a->ctl, -1);
		sfy_fd_clear(newfd);
		errno = saved;
		return;
	}
	sfy_fd_set(nfd, &info);
	atomic_store(&a->ctl, nfd);
	sfy_fd_clear(newfd);
	r->close(newfd);
	errno = saved;
}

int sfy_assoc_owned_in(unsigned int lo, unsigned int hi, int *out, int max)
{
	int i, j, n = 0, fd, t;

	for (i = 0; i < SFY_ASSOC_MAX && n < max; i++) {
		if (!atomic_load_explicit(&table[i].refs, memory_order_relaxed))
			continue;
		fd = atomic_load_explicit(&table[i].ctl, memory_order_relaxed);
		if (fd < 0 || (unsigned int)fd < lo || (unsigned int)fd > hi)
			continue;
		out[n++] = fd;
	}
	for (i = 1; i < n; i++) /* insertion sort: n is small */
		for (j = i; j > 0 && out[j - 1] > out[j]; j--) {
			t = out[j];
			out[j] = out[j - 1];
			out[j - 1] = t;
		}
	return n;
}

/* ------------------------------------------------------------------ */
/* Making one                                                           */

static const uint8_t v4mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };

/* The program's socket must have a port for the relay to send to. */
static int ensure_bound(int fd, int family)
{
	const struct sfy_real *r = sfy_real();
	union sfy_inaddr local;
	socklen_t len = sizeof(local);

	if (r->getsockname(fd, &local.sa, &len) < 0)
		return -errno;
	if ((family == AF_INET && local.in.sin_port) ||
	    (family == AF_INET6 && local.in6.sin6_port))
		return 0;
	memset(&local, 0, sizeof(local));
	local.sa.sa_family = (sa_family_t)family;
	len = family == AF_INET ? sizeof(local.in) : sizeof(local.in6);
	return bind(fd, &local.sa, len) < 0 ? -errno : 0;
}

static bool v6only(int fd)
{
	int on = 0;
	socklen_t l = sizeof(on);

	return getsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &on, &l) == 0 && on;
}

/* A control connection to the first hop, of a family the program's
 * socket can exchange datagrams with. Returns the fd or -errno. */
static int dial(int fd, int family, int64_t deadline, const char **why)
{
	const struct socks5_io *io = sfy_real_io();
	const struct sfy_real *r = sfy_real();
	struct sockaddr_storage px[SFY_PROXY_ADDRS_MAX];
	socklen_t pxlen[SFY_PROXY_ADDRS_MAX];
	bool only6 = family == AF_INET6 && v6only(fd);
	int n, i, s, rc = -EAFNOSUPPORT;

	n = sfy_proxy_sockaddrs(px, pxlen, SFY_PROXY_ADDRS_MAX);
	if (n < 0) {
		*why = "the proxy's address is unknown";
		return n;
	}
	*why = "cannot reach the proxy";
	for (i = 0; i < n; i++) {
		if ((family == AF_INET && px[i].ss_family != AF_INET) ||
		    (only6 && px[i].ss_family != AF_INET6))
			continue;
		s = socket(px[i].ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
		if (s < 0)
			return -errno;
		rc = socks5_connect_deadline(io, s, (struct sockaddr *)&px[i],
					     pxlen[i], deadline);
		if (rc == 0)
			return s;
		r->close(s);
		if (rc == -ETIMEDOUT || socks5_now_ms() >= deadline)
			break;
	}
	if (rc == -EAFNOSUPPORT)
		*why = family == AF_INET ?
			       "the proxy has no IPv4 address for this IPv4 socket" :
			       "the proxy has no IPv6 address for this IPV6_V6ONLY socket";
	return rc;
}

/* DST.ADDR/DST.PORT of the request: the port the relay will see our
 * datagrams come from, the address as zeros (RFC 1928: "not in
 * possession of the information"; the kernel picks the source address
 * per datagram), in the family of the control connection. */
static int request_dst(int fd, int ctl, struct socks5_addr *dst)
{
	const struct sfy_real *r = sfy_real();
	union sfy_inaddr local;
	socklen_t len = sizeof(local);
	int cfam;

	if (r->getsockname(fd, &local.sa, &len) < 0)
		return -errno;
	memset(dst, 0, sizeof(*dst));
	dst->port = ntohs(local.sa.sa_family == AF_INET ? local.in.sin_port :
							local.in6.sin6_port);
	len = sizeof(local);
	if (r->getsockname(ctl, &local.sa, &len) < 0)
		return -errno;
	cfam = local.sa.sa_family;
	if (cfam == AF_INET6 &&
	    !memcmp(local.in6.sin6_addr.s6_addr, v4mapped, 12))
		cfam = AF_INET;
	dst->atyp = cfam == AF_INET ? SOCKS5_ATYP_IPV4 : SOCKS5_ATYP_IPV6;
	return 0;
}

/* The relay in the program's family; BND.ADDR all zeros means the
 * proxy's own address (the control connection's peer). */
static int relay_addr(struct sfy_assoc *a, int ctl,
		      const struct socks5_addr *bnd)
{
	static const uint8_t zero[16];
	struct sockaddr_storage ss;
	union sfy_inaddr peer;
	socklen_t len = sizeof(ss), plen = sizeof(peer);
	uint16_t port = htons(bnd->port);

	if (socks5_addr_to_sockaddr(bnd, &ss, &len) != SOCKS5_OK)
		return -EAFNOSUPPORT; /* a host name: no address to send to */
	if ((bnd->atyp == SOCKS5_ATYP_IPV4 && !memcmp(bnd->u.ipv4, zero, 4)) ||
	    (bnd->atyp == SOCKS5_ATYP_IPV6 && !memcmp(bnd->u.ipv6, zero, 16))) {
		if (sfy_real()->getpeername(ctl, &peer.sa, &plen) < 0)
			return -errno;
		memcpy(&ss, &peer, plen);
		len = plen;
		if (ss.ss_family == AF_INET)
			((struct sockaddr_in *)&ss)->sin_port = port;
		else
			((struct sockaddr_in6 *)&ss)->sin6_port = port;
	}
	/* A v4-mapped relay is plain IPv4 for an AF_INET socket. */
	if (ss.ss_family == AF_INET6 &&
	    !memcmp(((struct sockaddr_in6 *)&ss)->sin6_addr.s6_addr, v4mapped,
		    12)) {
		struct sockaddr_in6 m = *(struct sockaddr_in6 *)&ss;
		struct sockaddr_in *in = (struct sockaddr_in *)&ss;

		memset(&ss, 0, sizeof(ss));
		in->sin_family = AF_INET;
		in->sin_port = m.sin6_port;
		memcpy(&in->sin_addr, m.sin6_addr.s6_addr + 12, 4);
		len = sizeof(*in);
	}
	memset(&a->relay, 0, sizeof(a->relay));
	if (ss.ss_family == a->family) {
		memcpy(&a->relay, &ss, len);
		a->relay_len = len;
	} else if (ss.ss_family == AF_INET && a->family == AF_INET6) {
		const struct sockaddr_in *in = (const struct sockaddr_in *)&ss;

		a->relay.in6.sin6_family = AF_INET6;
		a->relay.in6.sin6_port = in->sin_port;
		memcpy(a->relay.in6.sin6_addr.s6_addr, v4mapped, 12);
		memcpy(a->relay.in6.sin6_addr.s6_addr + 12, &in->sin_addr, 4);
		a->relay_len = sizeof(a->relay.in6);
	} else {
		return -EAFNOSUPPORT; /* an IPv6 relay for an IPv4 socket */
	}
	/* IPv4: 65535 - 20 (IP) - 8 (UDP); IPv6: 65535 - 8. */
	a->max_dgram = ss.ss_family == AF_INET ? 65507 : 65527;
	return 0;
}

/* Takes the control connection out of the program's range of numbers and
 * marks it ours. Returns the descriptor to keep. */
static int hide_ctl(int ctl, int idx)
{
	const struct sfy_real *r = sfy_real();
	struct sfy_fd_info info;
	int nfd;

	if (ctl < SFY_CTL_FD_MIN) {
		nfd = r->fcntl(ctl, F_DUPFD_CLOEXEC, SFY_CTL_FD_MIN);
		if (nfd >= 0) {
			r->close(ctl);
			ctl = nfd;
		} /* else: RLIMIT_NOFILE below 100; it stays where it is */
	}
	memset(&info, 0, sizeof(info));
	info.kind = SFY_FD_CONTROL;
	info.assoc = idx;
	sfy_fd_set(ctl, &info);
	return ctl;
}

static void log_fail(const char *what, const struct socks5_failure *why,
		     int err)
{
	char hop[600];

	socks5_url_format(&sfy_config()->chain[0], hop, sizeof(hop));
	if (why && why->status == SOCKS5_E_REPLY)
		sfy_warn("UDP ASSOCIATE at %s failed: %s (%s)", hop,
			 socks5_rep_string(why->rep), strerrorname_np(err));
	else if (why && why->status != SOCKS5_OK)
		sfy_warn("UDP ASSOCIATE at %s failed in %s: %s (%s)", hop,
			 why->state ? why->state : "?",
			 why->status == SOCKS5_E_IO ?
				 strerrordesc_np(why->sys_errno) :
				 socks5_strerror(why->status),
			 strerrorname_np(err));
	else
		sfy_warn("UDP ASSOCIATE at %s failed: %s (%s)", hop, what,
			 strerrorname_np(err));
}

/* -v: one line per association, as connect() has one per connection;
 * nothing is formatted below that level. */
static void log_ok(int fd, int idx, const struct socks5_addr *bnd, int ctl,
		   int64_t t0)
{
	char hop[600], shown[SOCKS5_DOMAIN_MAX + 16];

	if (sfy_log_level() < SFY_LOG_INFO)
		return;
	socks5_url_format(&sfy_config()->chain[0], hop, sizeof(hop));
	socks5_addr_format(bnd, shown, sizeof(shown));
	sfy_info("UDP ASSOCIATE at %s: relay %s, ok in %.1f ms", hop, shown,
		 (double)(sfy_log_now_us() - t0) / 1000.0);
	sfy_debug("fd %d: UDP association %d, relay %s, control fd %d", fd, idx,
		  shown, ctl);
}

/* Control connection + UDP ASSOCIATE + relay, into entry idx. */
static int associate(int fd, struct sfy_assoc *a, int idx)
{
	const struct sfy_config *cfg = sfy_config();
	int64_t deadline = socks5_now_ms() + cfg->timeout_ms;
	int64_t t0 = sfy_log_now_us();
	struct socks5_failure why;
	struct socks5_reply bound;
	struct socks5_addr dst;
	const char *what = "";
	int ctl, rc;

	rc = ensure_bound(fd, a->family);
	if (rc) {
		log_fail("cannot bind the program's UDP socket", NULL, -rc);
		return rc;
	}
	ctl = dial(fd, a->family, deadline, &what);
	if (ctl < 0) {
		log_fail(what, NULL, -ctl);
		return ctl;
	}
	rc = request_dst(fd, ctl, &dst);
	memset(&why, 0, sizeof(why));
	if (rc == 0)
		rc = socks5_handshake(sfy_real_io(), ctl, &cfg->chain[0], 1,
				      SOCKS5_CMD_UDP_ASSOCIATE, &dst, deadline,
				      &bound, &why);
	if (rc == 0) {
		rc = relay_addr(a, ctl, &bound.bnd);
		if (rc)
			log_fail("the relay's address does not fit the program's socket",
				 NULL, -rc);
	} else {
		log_fail("", &why, -rc);
	}
	if (rc) {
		sfy_real()->close(ctl);
		return rc;
	}
	ctl = hide_ctl(ctl, idx);
	atomic_store(&a->ctl, ctl);
	log_ok(fd, idx, &bound.bnd, ctl, t0);
	return 0;
}

int sfy_assoc_open(int fd, int family, struct sfy_fd_info *info)
{
	struct sfy_fd_info mine, other;
	struct sfy_assoc *a;
	int idx, rc;

	if (sfy_assoc_of(fd, info) == 0)
		return 0;
	if (sfy_fd_in_vfork_child()) {
		/* Its control connection would be a descriptor of the child
		 * recorded in the parent's table. */
		sfy_warn("fd %d: no UDP association in a vfork child (shared memory, its own descriptors); refusing to send",
			 fd);
		return -EPERM;
	}
	sfy_fd_on_stale(on_stale);
	idx = claim();
	if (idx < 0) {
		sfy_warn("fd %d: more than %d UDP associations at once; refusing another",
			 fd, SFY_ASSOC_MAX);
		return -ENOBUFS;
	}
	a = &table[idx];
	atomic_store(&a->ctl, -1);
	atomic_store(&a->dead, false);
	atomic_store(&a->next_check, 0);
	a->family = family;
	{
		struct sfy_assoc_dyn empty;

		memset(&empty, 0, sizeof(empty));
		sfy_assoc_dyn_write(a, &empty);
	}
	rc = associate(fd, a, idx);
	if (rc) {
		sfy_assoc_unref(idx);
		return rc;
	}
	memset(&mine, 0, sizeof(mine));
	mine.kind = SFY_FD_UDP;
	mine.family = family;
	mine.assoc = idx;
	rc = sfy_fd_set_udp_once(fd, &mine, &other);
	if (rc == -EEXIST) {
		/* Another thread's first datagram won the race. */
		sfy_assoc_unref(idx);
		*info = other;
		return 0;
	}
	if (rc) {
		sfy_assoc_unref(idx);
		return rc;
	}
	*info = mine;
	return 0;
}

/* ------------------------------------------------------------------ */
/* fork()                                                               */

/* In the child of a fork(): a dyn write another thread of the parent had
 * under way is stepped back to the current copy (the lock's holder does
 * not exist here), and an entry it was releasing is free. */
static void fork_child(void)
{
	unsigned int v;
	int i, closing, n = atomic_load(&used);

	for (i = 0; i < n; i++) {
		v = atomic_load_explicit(&table[i].seq, memory_order_relaxed);
		if (v & 1)
			atomic_store(&table[i].seq, v - 1);
		closing = -1;
		atomic_compare_exchange_strong(&table[i].refs, &closing, 0);
	}
}

__attribute__((constructor)) static void udp_assoc_init(void)
{
	pthread_atfork(NULL, NULL, fork_child);
}
