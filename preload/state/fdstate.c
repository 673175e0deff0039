/*
 * Per-descriptor state, lock-free.
 *
 * Design (for thread- and signal-safety):
 *
 *   - A two-level table: a static array of chunk pointers, each chunk
 *     CHUNK_SLOTS slots mmap'd on first need and installed with one
 *     compare-and-swap (the loser unmaps its copy). Chunks are never freed,
 *     so a pointer once seen stays valid. No malloc anywhere.
 *   - Each slot is a seqlock over two copies of its record (seqlock.h):
 *     a writer (CAS on seq, so two writers on one fd serialise) fills the
 *     copy that is not current; readers never wait.
 *   - kind is kept in its own atomic beside seq so that "is this fd ours"
 *     is a load, and any_state makes it one load for programs that never
 *     had a proxied descriptor.
 *   - A UDP or control slot remembers the socket's device and inode. A
 *     close we do not see (fclose() does not go through our close())
 *     leaves a stale slot; a reader compares with fstat() and drops it. A
 *     TCP slot remembers the proxy address instead, and its readers
 *     compare that with the kernel's peer, which they ask anyway.
 *   - sfy_fd_udp_seen is the data-path hooks' fast check (read, write,
 *     recv, ...): until a UDP association exists it is the only thing
 *     they look at. fd_limit bounds close_range() sweeps.
 *   - A stale UDP slot still holds a reference to its association: the
 *     reader that finds it stale hands it to the stale handler (udp_assoc.c
 *     registers one) after clearing it, once.
 *   - fork() copies the table with the descriptors, which is what we want;
 *     exec() loses it (getpeername() then shows the proxy). A fork while
 *     another thread held a slot's writer lock would leave the child a
 *     lock nobody releases: the child handler (pthread_atfork) steps every
 *     locked slot back to its last complete record, which is the state of
 *     the descriptor as the child got it (the write had not finished).
 *   - A vfork child shares this memory but not the descriptors: every
 *     write checks sfy_in_vfork_child() (vfork.h; slow paths only) and
 *     then changes nothing.
 *
 * A writer interrupted by a signal whose handler writes the same fd's slot
 * would spin; that handler would have to close or dup the very descriptor
 * the interrupted code is closing or dup'ing, which is a bug of its own.
 */
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>

#include "state/fdstate.h"
#include "state/fdstate_int.h"
#include "state/seqlock.h"
#include "state/vfork.h"

static _Atomic(struct slot *) chunks[NCHUNKS];
/* Not static: fdstate.h's inline checks read it (hidden). */
atomic_bool sfy_fd_any_state;
static atomic_int fd_limit;
static void (*_Atomic stale_fn)(int, const struct sfy_fd_info *);
atomic_bool sfy_fd_udp_seen;

struct slot *sfy_fd_slot_of(int fd, bool create)
{
	unsigned int i;
	struct slot *c, *expected = NULL;
	void *m;

	if (fd < 0 || (unsigned int)fd >= NCHUNKS * CHUNK_SLOTS)
		return NULL;
	i = (unsigned int)fd >> CHUNK_SHIFT;
	c = atomic_load_explicit(&chunks[i], memory_order_acquire);
	if (!c && create) {
		m = mmap(NULL, CHUNK_SLOTS * sizeof(struct slot),
			 PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
			 -1, 0);
		if (m == MAP_FAILED)
			return NULL;
		if (atomic_compare_exchange_strong_explicit(
			    &chunks[i], &expected, (struct slot *)m,
			    memory_order_acq_rel, memory_order_acquire)) {
			c = m;
		} else {
			munmap(m, CHUNK_SLOTS * sizeof(struct slot));
			c = expected;
		}
	}
	return c ? &c[(unsigned int)fd & (CHUNK_SLOTS - 1)] : NULL;
}

/* The writer lock (seqlock.h); slot_store fills the copy not current. */
static void slot_lock(struct slot *s)
{
	unsigned int copy;
	int spins = 0;

	while (!sfy_seq_try_write(&s->seq, &copy))
		sfy_seq_pause(&spins);
}

static void slot_unlock(struct slot *s)
{
	sfy_seq_write_end(&s->seq);
}

/* Under the writer lock: fills the copy that is not current; the unlock
 * makes it current. */
static void slot_store(struct slot *s, const struct record *rec)
{
	unsigned int next = sfy_seq_copy(atomic_load_explicit(
		&s->seq, memory_order_relaxed) + 1);
	uint64_t w[RECORD_WORDS];

	memset(w, 0, sizeof(w));
	memcpy(w, rec, sizeof(*rec));
	sfy_seq_store_words(s->words[next], RECORD_WORDS, w);
	atomic_store_explicit(&s->kind, rec->info.kind, memory_order_relaxed);
	sfy_fd_path_kind(s, rec->info.kind);
}

static void copy_load(struct slot *s, unsigned int c, struct record *rec)
{
	uint64_t w[RECORD_WORDS];

	sfy_seq_load_words(s->words[c], RECORD_WORDS, w);
	memcpy(rec, w, sizeof(*rec));
}

/* The current copy, without waiting for a writer: a write under way
 * fills the other copy, so the current one is only at risk once a second
 * writer has taken the lock, which moves seq by two or more. */
static void slot_load(struct slot *s, struct record *rec)
{
	unsigned int v;
	int spins = 0;

	for (;;) {
		v = sfy_seq_read_begin(&s->seq);
		copy_load(s, sfy_seq_copy(v), rec);
		if (!sfy_seq_read_retry(&s->seq, v))
			break;
		sfy_seq_pause(&spins);
	}
}

/* Remembers how far the table has been used, and whether UDP state ever
 * existed (the data-path hooks' one-load fast check). */
static void note_set(int fd, int kind)
{
	int lim = atomic_load_explicit(&fd_limit, memory_order_relaxed);

	while (fd >= lim && !atomic_compare_exchange_weak(&fd_limit, &lim,
							   fd + 1))
		;
	if (sfy_fd_dgram_kind(kind) &&
	    !atomic_load_explicit(&sfy_fd_udp_seen, memory_order_relaxed))
		atomic_store(&sfy_fd_udp_seen, true);
	atomic_store(&sfy_fd_any_state, true);
}

int sfy_fd_kind_slow(int fd)
{
	struct slot *s = sfy_fd_slot_of(fd, false);

	return s ? atomic_load_explicit(&s->kind, memory_order_relaxed) :
		   SFY_FD_NONE;
}

int sfy_fd_limit(void)
{
	return atomic_load(&fd_limit);
}

void sfy_fd_on_stale(void (*fn)(int fd, const struct sfy_fd_info *stale))
{
	atomic_store(&stale_fn, fn);
}

/* The current record of a slot whose writer lock the caller holds. */
static void slot_load_locked(struct slot *s, struct record *rec)
{
	copy_load(s, sfy_seq_current(&s->seq), rec);
}

bool sfy_fd_is_ours_slow(int fd)
{
	struct slot *s = sfy_fd_slot_of(fd, false);

	return s && atomic_load_explicit(&s->kind, memory_order_relaxed) !=
			    SFY_FD_NONE;
}

/* A TCP record's identity is its proxy address (info.via), checked by its
 * readers; every other kind is stamped with the socket's device and inode. */
static bool stamped(int kind)
{
	return kind != SFY_FD_TCP;
}

/* The record for fd's new state (stamped with the socket's identity where
 * that applies) and its slot, created if needed. Returns 0 or -errno. */
static int new_record(int fd, const struct sfy_fd_info *info,
		      struct record *rec, struct slot **slot)
{
	struct stat st = { 0 };

	if (stamped(info->kind) && fstat(fd, &st) < 0)
		return -errno;
	*slot = sfy_fd_slot_of(fd, true);
	if (!*slot)
		return fd < 0 || (unsigned int)fd >= NCHUNKS * CHUNK_SLOTS ?
			       -EBADF : -ENOMEM;
	memset(rec, 0, sizeof(*rec));
	rec->info = *info;
	rec->dev = st.st_dev;
	rec->ino = st.st_ino;
	note_set(fd, info->kind);
	return 0;
}

/* The whole write: lock, fill the other copy, make it current. */
static void slot_write(struct slot *s, const struct record *rec)
{
	slot_lock(s);
	slot_store(s, rec);
	slot_unlock(s);
}

int sfy_fd_set(int fd, const struct sfy_fd_info *info)
{
	struct record rec;
	struct slot *s;
	int rc;

	if (sfy_in_vfork_child())
		return 0; /* the parent's table: not this process's fds */
	rc = new_record(fd, info, &rec, &s);
	if (rc)
		return rc;
	slot_write(s, &rec);
	return 0;
}

int sfy_fd_set_udp_once(int fd, const struct sfy_fd_info *info,
			struct sfy_fd_info *existing)
{
	struct record rec, old;
	struct slot *s;
	void (*fn)(int, const struct sfy_fd_info *);
	bool stale = false;
	int rc;

	if (sfy_in_vfork_child())
		return -EPERM;
	rc = new_record(fd, info, &rec, &s);
	if (rc)
		return rc;
	/* Check and store under the slot's writer lock, so two threads'
	 * first datagrams on one socket keep exactly one association. */
	slot_lock(s);
	slot_load_locked(s, &old);
	if (old.info.kind == SFY_FD_UDP && old.dev == rec.dev &&
	    old.ino == rec.ino) {
		slot_store(s, &old); /* unlocking makes the other copy current */
		slot_unlock(s);
		*existing = old.info;
		return -EEXIST;
	}
	stale = old.info.kind == SFY_FD_UDP;
	slot_store(s, &rec);
	slot_unlock(s);
	fn = atomic_load(&stale_fn);
	if (stale && fn)
		fn(fd, &old.info);
	return 0;
}

static void slot_clear(struct slot *s)
{
	struct record rec;

	memset(&rec, 0, sizeof(rec));
	slot_write(s, &rec);
}

/* Clears the slot only if it still holds rec (another thread may have
 * stored new state meanwhile). True when this call cleared it. */
static bool slot_clear_if(struct slot *s, const struct record *rec)
{
	struct record cur, zero;
	bool same;

	memset(&zero, 0, sizeof(zero));
	slot_lock(s);
	slot_load_locked(s, &cur);
	same = !memcmp(&cur, rec, sizeof(cur));
	slot_store(s, same ? &zero : &cur);
	slot_unlock(s);
	return same;
}

bool sfy_fd_get(int fd, struct sfy_fd_info *out)
{
	struct record rec;
	struct stat st;
	struct slot *s;
	int saved = errno;

	if (!sfy_fd_is_ours(fd))
		return false;
	s = sfy_fd_slot_of(fd, false);
	slot_load(s, &rec);
	if (rec.info.kind == SFY_FD_NONE)
		return false;
	if (stamped(rec.info.kind) &&
	    (fstat(fd, &st) < 0 || (uint64_t)st.st_dev != rec.dev ||
	     (uint64_t)st.st_ino != rec.ino)) {
		void (*fn)(int, const struct sfy_fd_info *) = atomic_load(&stale_fn);

		errno = saved;
		if (!sfy_in_vfork_child() && slot_clear_if(s, &rec) && fn)
			fn(fd, &rec.info);
		errno = saved;
		return false;
	}
	*out = rec.info;
	return true;
}

bool sfy_fd_tcp_same(const struct sfy_fd_info *info,
		     const struct sockaddr *peer, socklen_t len)
{
	if (info->kind != SFY_FD_TCP || !peer)
		return false;
	/* The kernel's peer of a socket of via's family: the same form. */
	if (peer->sa_family != info->via.sa.sa_family ||
	    len < (peer->sa_family == AF_INET ? sizeof(struct sockaddr_in) :
						sizeof(struct sockaddr_in6)))
		return false;
	return sfy_addr_port_equal(peer, &info->via.sa);
}

bool sfy_fd_get_fast(int fd, struct sfy_fd_info *out)
{
	struct record rec;
	struct slot *s;

	if (!sfy_fd_is_ours(fd))
		return false;
	s = sfy_fd_slot_of(fd, false);
	slot_load(s, &rec);
	if (rec.info.kind == SFY_FD_NONE)
		return false;
	*out = rec.info;
	return true;
}

void sfy_fd_drop_stale(int fd)
{
	void (*fn)(int, const struct sfy_fd_info *) = atomic_load(&stale_fn);
	struct record rec;
	struct slot *s;
	int saved = errno;

	if (!sfy_fd_is_ours(fd))
		return;
	s = sfy_fd_slot_of(fd, false);
	slot_load(s, &rec);
	if (rec.info.kind != SFY_FD_NONE && !sfy_in_vfork_child() &&
	    slot_clear_if(s, &rec) && fn)
		fn(fd, &rec.info);
	errno = saved;
}

void sfy_fd_clear(int fd)
{
	struct slot *s;

	if (!sfy_fd_is_ours(fd) || sfy_in_vfork_child())
		return;
	s = sfy_fd_slot_of(fd, false);
	slot_clear(s);
}

void sfy_fd_copy(int from, int to)
{
	struct record rec;
	struct slot *src, *dst;

	if (from == to || !atomic_load_explicit(&sfy_fd_any_state,
						memory_order_relaxed))
		return;
	src = sfy_fd_is_ours(from) ? sfy_fd_slot_of(from, false) : NULL;
	if (!src) {
		sfy_fd_clear(to);
		return;
	}
	slot_load(src, &rec);
	if (rec.info.kind == SFY_FD_NONE) {
		sfy_fd_clear(to);
		return;
	}
	/* A dup is the same open file description: same device and inode,
	 * so the copied identity stays valid for the new number. */
	if (sfy_in_vfork_child())
		return;
	dst = sfy_fd_slot_of(to, true);
	if (!dst)
		return;
	note_set(to, rec.info.kind);
	slot_write(dst, &rec);
}

/* In the child of a fork(), before anything else runs there: every slot
 * whose writer lock another thread of the parent held is stepped back to
 * its current (last complete) copy. */
static void fork_child(void)
{
	unsigned int lim = (unsigned int)atomic_load(&fd_limit), fd;
	struct record rec;
	struct slot *s;

	for (fd = 0; fd < lim; fd++) {
		s = sfy_fd_slot_of((int)fd, false);
		if (!s) {
			fd |= CHUNK_SLOTS - 1; /* the whole chunk is absent */
			continue;
		}
		if (sfy_seq_fork_repair(&s->seq)) {
			copy_load(s, sfy_seq_current(&s->seq), &rec);
			atomic_store(&s->kind, rec.info.kind);
			sfy_fd_path_kind(s, rec.info.kind);
		}
	}
}

void sfy_fdstate_init(void)
{
	pthread_atfork(NULL, NULL, fork_child);
}
