/*
 * UDP associations: the table, their lifetime, the library's descriptors
 * (their making: udp_associate.c).
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
 *     copies of atomic words (seqlock.h): readers never wait, writers
 *     (connect(), a new destination) serialise on the odd sequence number
 *     and fill the copy that is not current. No malloc, no mutex: sends
 *     and receives stay async-signal-safe.
 *   - fork() while another thread wrote an entry: the child handler steps
 *     a half-written dyn back to its current copy and frees an entry that
 *     was being released, so the child never spins on a lock nobody holds.
 *     A child that ran no handler (_Fork, a raw fork) gives a dyn write up
 *     after a long wait instead.
 *   - A vfork child shares this table but not the descriptors: it takes
 *     and drops no references, moves no control connection and makes no
 *     association (sfy_in_vfork_child, checked on these slow paths).
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

#include "base/config.h"
#include "base/log.h"
#include "base/realfn.h"
#include "state/seqlock.h"
#include "state/vfork.h"
#include "udp/udp_gss.h"
#include "udp/udp_assoc.h"


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

/* Never waits for a writer (seqlock.h). */
void sfy_assoc_dyn_read(struct sfy_assoc *a, struct sfy_assoc_dyn *out)
{
	uint64_t w[DYN_WORDS];
	unsigned int v;
	int spins = 0;

	for (;;) {
		v = sfy_seq_read_begin(&a->seq);
		sfy_seq_load_words(a->dyn_words[sfy_seq_copy(v)], DYN_WORDS, w);
		if (!sfy_seq_read_retry(&a->seq, v))
			break;
		sfy_seq_pause(&spins);
	}
	memcpy(out, w, sizeof(*out));
}

void sfy_assoc_dyn_write(struct sfy_assoc *a, const struct sfy_assoc_dyn *in)
{
	uint64_t w[DYN_WORDS];
	unsigned int c;
	int spins = 0;

	memset(w, 0, sizeof(w));
	memcpy(w, in, sizeof(*in));
	while (!sfy_seq_try_write(&a->seq, &c)) {
		/* A child that ran no atfork handler (_Fork, a raw fork)
		 * may have copied a lock whose holder does not exist
		 * there, and a vfork child must not write its parent's
		 * memory: once the lock stays busy past the spinning turns
		 * (one getpid() then, on contention only), such a child
		 * gives the write up. Asked after thousands of yields
		 * instead, the give-up took over 5 s on a loaded machine. */
		if (spins == 64 && sfy_in_vfork_child())
			return;
		sfy_seq_pause(&spins);
	}
	sfy_seq_store_words(a->dyn_words[c], DYN_WORDS, w);
	sfy_seq_write_end(&a->seq);
}

/* ------------------------------------------------------------------ */
/* Lifetime                                                             */

void sfy_assoc_ref(int i)
{
	struct sfy_assoc *a = sfy_assoc_at(i);

	if (a && !sfy_in_vfork_child())
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

	if (!a || sfy_in_vfork_child())
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
	sfy_udp_gss_end(&a->gss);
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

/* A free entry, claimed (refs 0 -> 1): its index, or -1. */
int sfy_assoc_claim(void)
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
	    sfy_in_vfork_child())
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
/* fork()                                                               */

/* In the child of a fork(): a dyn write another thread of the parent had
 * under way is stepped back to the current copy (the lock's holder does
 * not exist here), and an entry it was releasing is free. */
static void fork_child(void)
{
	int i, closing, n = atomic_load(&used);

	for (i = 0; i < n; i++) {
		sfy_seq_fork_repair(&table[i].seq);
		sfy_udp_gss_child(&table[i].gss);
		closing = -1;
		atomic_compare_exchange_strong(&table[i].refs, &closing, 0);
	}
}

void sfy_udp_assoc_init(void)
{
	sfy_fd_on_stale(on_stale);
	pthread_atfork(NULL, NULL, fork_child);
}
