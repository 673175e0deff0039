/*
 * The addresses of bypassed names (see bypassmap.h for the contract).
 *
 * A slot is a seqlock record: seq is even while the slot is stable and odd
 * while its one writer changes it. Every field is an atomic word, stored
 * with release and loaded with acquire order (Boehm's fence-free seqlock:
 * a reader that sees any new field also sees the odd seq before it when
 * it reads seq again; on x86 these are plain moves, and ThreadSanitizer,
 * which has no fences, sees no race).
 * A reader never waits for a writer: an odd or changed seq is retried a
 * few times, then the slot counts as empty, so a connect() can never hang
 * here, in a signal handler or in a fork child that inherited a slot
 * half-written.
 *
 * Writers take one lock word that holds the pid of the process whose
 * thread writes. The table is private memory: a value that is neither 0
 * nor our pid was copied by fork() from a parent whose thread was writing,
 * so nobody here will release it; the child takes it over and empties any
 * slot left odd. A lock held by a thread of ours is waited for with
 * sched_yield(), a bounded number of times (its hold is a few stores).
 *
 * Why not seqlock.h (fdstate.c's and udp_assoc.c's two-copy seqlock): this
 * table is a cache that may lose entries, so a reader may give up and a
 * writer may fail (both bounded, never a hang), and one writer lock covers
 * every slot because inserting means choosing a victim across a set. Two
 * copies per slot would double the table for readers that may already
 * miss, and a per-slot lock would not serialise the eviction choice.
 */
#include <netinet/in.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>

#include "base/log.h"
#include "base/sockaddr.h"
#include "route/bypassmap.h"

#define READ_TRIES 4
#define LOCK_TRIES 20000

enum { EMPTY = 0, V4 = 4, V6 = 6 };

struct key {
	uint32_t fam; /* EMPTY, V4 or V6 */
	uint32_t w[4]; /* the address's bytes as stored in memory */
};

struct slot {
	atomic_uint seq;
	atomic_uint fam;
	atomic_uint w[4];
};

static struct slot table[SFY_BYPASSMAP_SETS][SFY_BYPASSMAP_WAYS];
/* Under the writer lock only: when each slot was filled, for eviction. */
static uint32_t filled_at[SFY_BYPASSMAP_SETS][SFY_BYPASSMAP_WAYS];
static uint32_t clock_now;
static atomic_bool used;    /* something was ever added */
static atomic_int writer;   /* 0, or the pid of the process writing */
static atomic_bool evicted; /* logged once */

static bool key_of(const struct sockaddr *sa, struct key *k)
{
	uint16_t port;
	int fam;
	const uint8_t *b = sfy_addr_bytes(sa, &fam, &port); /* mapped: v4 */

	memset(k, 0, sizeof(*k));
	if (!b)
		return false;
	k->fam = fam == AF_INET ? V4 : V6;
	memcpy(k->w, b, fam == AF_INET ? 4 : 16);
	return true;
}

static struct slot *set_of(const struct key *k, unsigned int *set)
{
	uint32_t h = k->fam * 0x9e3779b9u;
	int i;

	for (i = 0; i < 4; i++) {
		h = (h ^ k->w[i]) * 0x85ebca6bu;
		h ^= h >> 15;
	}
	*set = (h >> 8) % SFY_BYPASSMAP_SETS;
	return table[*set];
}

static bool same(const struct slot *s, const struct key *k)
{
	bool eq = true;
	int i;

	/* Every word is loaded (no early exit), so that the seq check that
	 * follows is ordered after all of them. */
	if (atomic_load_explicit(&s->fam, memory_order_acquire) != k->fam)
		eq = false;
	for (i = 0; i < 4; i++)
		if (atomic_load_explicit(&s->w[i], memory_order_acquire) !=
		    k->w[i])
			eq = false;
	return eq;
}

/* Lock-free: does a stable copy of the slot hold k? */
static bool slot_holds(struct slot *s, const struct key *k)
{
	unsigned int s1;
	bool eq;
	int t;

	for (t = 0; t < READ_TRIES; t++) {
		s1 = atomic_load_explicit(&s->seq, memory_order_acquire);
		if (s1 & 1)
			continue;
		eq = same(s, k);
		if (atomic_load_explicit(&s->seq, memory_order_relaxed) == s1)
			return eq;
	}
	return false;
}

static bool set_holds(struct slot *set, const struct key *k)
{
	int i;

	for (i = 0; i < SFY_BYPASSMAP_WAYS; i++)
		if (slot_holds(&set[i], k))
			return true;
	return false;
}

/* The one writer (under the lock) sets the slot to k, or empty. */
static void slot_write(struct slot *s, const struct key *k)
{
	unsigned int seq = atomic_load_explicit(&s->seq, memory_order_relaxed);
	int i;

	atomic_store_explicit(&s->seq, seq + 1, memory_order_relaxed);
	atomic_store_explicit(&s->fam, k ? k->fam : EMPTY,
			      memory_order_release);
	for (i = 0; i < 4; i++)
		atomic_store_explicit(&s->w[i], k ? k->w[i] : 0,
				      memory_order_release);
	atomic_store_explicit(&s->seq, seq + 2, memory_order_release);
}

/* A fork child took the lock over: a slot the parent's writer left odd is
 * emptied (its address goes through the proxy until resolved again). */
static void repair(void)
{
	struct slot *s;
	unsigned int seq;
	int i, j;

	for (i = 0; i < SFY_BYPASSMAP_SETS; i++)
		for (j = 0; j < SFY_BYPASSMAP_WAYS; j++) {
			s = &table[i][j];
			seq = atomic_load_explicit(&s->seq,
						   memory_order_relaxed);
			if (!(seq & 1))
				continue;
			atomic_store_explicit(&s->seq, seq + 1,
					      memory_order_relaxed);
			slot_write(s, NULL);
		}
}

static bool writer_lock(void)
{
	int me = (int)getpid(), cur;
	long i;

	for (i = 0; i < LOCK_TRIES; i++) {
		cur = 0;
		if (atomic_compare_exchange_strong(&writer, &cur, me))
			return true;
		if (cur != me &&
		    atomic_compare_exchange_strong(&writer, &cur, me)) {
			repair();
			return true;
		}
		sched_yield();
	}
	return false;
}

static void writer_unlock(void)
{
	atomic_store_explicit(&writer, 0, memory_order_release);
}

/* Under the lock: the way to (re)use for k in set. */
static int pick_way(struct slot *set, unsigned int idx, const struct key *k)
{
	int i, way = -1, oldest = 0;

	for (i = 0; i < SFY_BYPASSMAP_WAYS; i++) {
		if (same(&set[i], k))
			return i;
		if (way < 0 &&
		    atomic_load_explicit(&set[i].fam, memory_order_relaxed) ==
			    EMPTY)
			way = i;
		if ((int32_t)(filled_at[idx][i] - filled_at[idx][oldest]) < 0)
			oldest = i;
	}
	if (way >= 0)
		return way;
	if (!atomic_exchange(&evicted, true))
		sfy_info("more than %d addresses of bypassed names: the oldest are forgotten and go through the proxy until their names are resolved again",
			 SFY_BYPASSMAP_SLOTS);
	return oldest;
}

void sfy_bypassmap_add(const struct sockaddr *sa)
{
	struct slot *set;
	struct key k;
	unsigned int idx;
	int way;

	if (!key_of(sa, &k))
		return;
	set = set_of(&k, &idx);
	if (set_holds(set, &k))
		return; /* the usual case of a name resolved again: no write */
	if (!writer_lock()) {
		sfy_warn("bypassed name's address not remembered (its table is busy): it goes through the proxy");
		return;
	}
	atomic_store_explicit(&used, true, memory_order_release);
	way = pick_way(set, idx, &k);
	if (!same(&set[way], &k)) {
		slot_write(&set[way], &k);
		filled_at[idx][way] = ++clock_now;
	}
	writer_unlock();
}

void sfy_bypassmap_forget(const struct sockaddr *sa)
{
	struct slot *set;
	struct key k;
	unsigned int idx;
	int i;

	if (!atomic_load_explicit(&used, memory_order_acquire) ||
	    !key_of(sa, &k))
		return;
	set = set_of(&k, &idx);
	if (!set_holds(set, &k))
		return;
	if (!writer_lock()) {
		sfy_warn("an address of a bypassed name is also one of a proxied name, and its table is busy: it stays direct");
		return;
	}
	for (i = 0; i < SFY_BYPASSMAP_WAYS; i++)
		if (same(&set[i], &k))
			slot_write(&set[i], NULL);
	writer_unlock();
}

bool sfy_bypassmap_has(const struct sockaddr *sa)
{
	struct key k;
	unsigned int idx;

	if (!atomic_load_explicit(&used, memory_order_acquire) ||
	    !key_of(sa, &k))
		return false;
	return set_holds(set_of(&k, &idx), &k);
}

void sfy_bypassmap_clear(void)
{
	memset(table, 0, sizeof(table));
	memset(filled_at, 0, sizeof(filled_at));
	clock_now = 0;
	atomic_store(&used, false);
	atomic_store(&evicted, false);
}
