/*
 * The dead-hop memory (hopmem.h): a page of MAP_SHARED | MAP_ANONYMOUS
 * memory made once by the constructor, and, in a session, the session's
 * region "hops2", where each hop's words live in a slot named by the hop
 * (its type, host and port), so programs exec'd in the session share them
 * too (and "rr", the round-robin cursors by chain). Words, not records:
 * each is loaded and stored on its own with one atomic operation, so no reader waits and a process killed or forked
 * half-way through an update leaves at worst a hop skipped a little
 * longer or tried a little sooner.
 */
#include <errno.h>
#include <stdatomic.h>
#include <string.h>
#include <stdbool.h>
#include <sys/mman.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include "route/hopmem.h"
#include "state/session.h"

#include "socks5.h"

struct hopmem {
	_Atomic int64_t until[SFY_HOPMEM_HOPS]; /* skipped before this ms */
	_Atomic uint32_t fails[SFY_HOPMEM_HOPS]; /* failures in a row */
	_Atomic size_t cursor;                   /* round-robin */
	_Atomic uint64_t draws;                  /* random: a counter */
	uint64_t seed;
};

static struct hopmem local; /* before the constructor, or without mmap */
static struct hopmem *_Atomic mem;

static struct hopmem *get_mem(void)
{
	struct hopmem *m = atomic_load_explicit(&mem, memory_order_acquire);

	return m ? m : &local;
}

/* The session's region: slots claimed by a hop's key (never given back;
 * a session with more distinct hops than slots keeps the rest per
 * process tree). A slot's key is set once, by compare-and-swap, and
 * every process probes from the same place, so two processes that claim
 * the same hop at once end at the same slot.
 *
 * Its layout is versioned by its name: "hops" held 64 slots (when a list
 * had at most 8 hops); "hops2" holds 1024, room for two full lists of
 * SOCKS5_CHAIN_MAX. A library of either version in one session uses its
 * own region (sessions started by an older command keep working; they
 * just do not share what the two versions learn). */
#define HOPMEM_REGION "hops2"
#define HOPMEM_SLOTS 1024
#define HOPMEM_MAGIC 0x736679686f707332ull /* "sfyhops2" */
struct hopslot {
	_Atomic uint64_t key; /* 0: free */
	_Atomic int64_t until;
	_Atomic uint32_t fails;
	uint32_t pad;
};
struct hopregion {
	_Atomic uint64_t magic;
	struct hopslot slot[HOPMEM_SLOTS];
};
/* Configured hop i's slot in the session's region, or NULL (its words
 * are then mem's). Set once, by sfy_hopmem_session. */
static struct hopslot *_Atomic bound[SFY_HOPMEM_HOPS];
static _Atomic int attached; /* 0: not yet, 1: under way, 2: done */

/* The session's region "rr": round-robin cursors, one per chain, in a
 * slot named by the whole chain (its hops' keys in order), so a program
 * exec'd with the same chain goes on where the last one stopped, and one
 * with another chain keeps its own turn. A separate region, so the
 * layout of "hops" (which running sessions have mapped) is unchanged. */
#define RR_SLOTS 16
#define RR_MAGIC 0x7366797272637531ull /* "sfyrrcu1" */
struct rrslot {
	_Atomic uint64_t key; /* 0: free */
	_Atomic size_t cursor;
};
struct rrregion {
	_Atomic uint64_t magic;
	struct rrslot slot[RR_SLOTS];
};
/* This process's chain's cursor in the session, or NULL (mem's). */
static _Atomic size_t *_Atomic rr_bound;

static _Atomic size_t *cursor_of(void)
{
	_Atomic size_t *c = atomic_load_explicit(&rr_bound,
						 memory_order_acquire);

	return c ? c : &get_mem()->cursor;
}

static _Atomic int64_t *until_of(size_t hop)
{
	struct hopslot *s = atomic_load_explicit(&bound[hop],
						 memory_order_acquire);

	return s ? &s->until : &get_mem()->until[hop];
}

static _Atomic uint32_t *fails_of(size_t hop)
{
	struct hopslot *s = atomic_load_explicit(&bound[hop],
						 memory_order_acquire);

	return s ? &s->fails : &get_mem()->fails[hop];
}


static uint64_t seed_value(void)
{
	uint64_t s = 0;
	struct timespec ts;

	if (getrandom(&s, sizeof(s), GRND_NONBLOCK) == (ssize_t)sizeof(s))
		return s;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_nsec ^ (uint64_t)ts.tv_sec << 32 ^
	       (uint64_t)getpid() << 16;
}

void sfy_hopmem_init(void)
{
	struct hopmem *m;

	if (atomic_load(&mem))
		return;
	m = mmap(NULL, sizeof(*m), PROT_READ | PROT_WRITE,
		 MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (m == MAP_FAILED) {
		local.seed = seed_value();
		return; /* each process keeps its own memory */
	}
	/* Fresh pages are zeroes: nothing failed, cursor at the first hop. */
	m->seed = seed_value();
	atomic_store_explicit(&mem, m, memory_order_release);
}

int64_t sfy_hopmem_backoff_ms(uint32_t k)
{
	int64_t ms = SFY_HOPMEM_BACKOFF_MS;

	while (k > 1 && ms < SFY_HOPMEM_BACKOFF_MAX_MS) {
		ms *= 2;
		k--;
	}
	return ms < SFY_HOPMEM_BACKOFF_MAX_MS ? ms : SFY_HOPMEM_BACKOFF_MAX_MS;
}

void sfy_hopmem_dead(size_t nhops, int64_t now_ms, struct sfy_hopset *dead)
{
	size_t i;

	memset(dead, 0, sizeof(*dead));
	for (i = 0; i < nhops && i < SFY_HOPMEM_HOPS; i++)
		if (atomic_load_explicit(until_of(i), memory_order_relaxed) >
		    now_ms)
			sfy_hopset_add(dead, i);
}

void sfy_hopmem_failed(size_t hop, int64_t now_ms)
{
	uint32_t k;

	if (hop >= SFY_HOPMEM_HOPS)
		return;
	k = atomic_fetch_add_explicit(fails_of(hop), 1,
				      memory_order_relaxed) + 1;
	atomic_store_explicit(until_of(hop), now_ms + sfy_hopmem_backoff_ms(k),
			      memory_order_relaxed);
}

void sfy_hopmem_ok(size_t hop)
{
	/* Both words: a failure racing a success may leave a back-off
	 * with no count behind it. */
	if (hop >= SFY_HOPMEM_HOPS ||
	    (!atomic_load_explicit(fails_of(hop), memory_order_relaxed) &&
	     !atomic_load_explicit(until_of(hop), memory_order_relaxed)))
		return;
	atomic_store_explicit(fails_of(hop), 0, memory_order_relaxed);
	atomic_store_explicit(until_of(hop), 0, memory_order_relaxed);
}

size_t sfy_hopmem_cursor(void)
{
	return atomic_load_explicit(cursor_of(), memory_order_relaxed);
}

void sfy_hopmem_cursor_move(size_t from, size_t next)
{
	atomic_compare_exchange_strong_explicit(cursor_of(), &from, next,
						memory_order_relaxed,
						memory_order_relaxed);
}

uint32_t sfy_hopmem_random(void *unused)
{
	struct hopmem *m = get_mem();
	uint64_t z;

	(void)unused;
	/* Before the constructor the seed is 0: the counter alone. */
	z = m->seed + atomic_fetch_add_explicit(&m->draws,
						0x9e3779b97f4a7c15ull,
						memory_order_relaxed);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return (uint32_t)((z ^ (z >> 31)) >> 32);
}

/* A hop's name in the region: FNV-1a over its type, host and port (what
 * makes it the same proxy; credentials are not part of it). Never 0. */
static uint64_t hop_key(const struct socks5_proxy *p)
{
	uint64_t h = 0xcbf29ce484222325ull;
	const char *c;

	h = (h ^ p->type) * 0x100000001b3ull;
	for (c = p->host; *c; c++)
		h = (h ^ (unsigned char)*c) * 0x100000001b3ull;
	h = (h ^ (p->port >> 8)) * 0x100000001b3ull;
	h = (h ^ (p->port & 0xff)) * 0x100000001b3ull;
	return h ? h : 1;
}

/* The slot whose key word is key, claimed if free, among n slots of
 * size bytes from base (a slot's key word first); -1 when all are
 * taken by other keys. */
static long claim_slot(void *base, size_t size, size_t n, uint64_t key)
{
	size_t j;

	for (j = 0; j < n; j++) {
		size_t at = (size_t)((key + j) % n);
		_Atomic uint64_t *kw =
			(_Atomic uint64_t *)((char *)base + at * size);
		uint64_t k = atomic_load_explicit(kw, memory_order_acquire);

		if (k == 0 &&
		    (atomic_compare_exchange_strong_explicit(
			     kw, &k, key, memory_order_acq_rel,
			     memory_order_acquire) ||
		     k == key))
			return (long)at;
		if (k == key)
			return (long)at;
	}
	return -1;
}

static struct hopslot *claim(struct hopregion *r, uint64_t key)
{
	long at = claim_slot(r->slot, sizeof(r->slot[0]), HOPMEM_SLOTS, key);

	return at < 0 ? NULL : &r->slot[at];
}

/* Region initialiser (session.h), for both regions: a new file is
 * zeroes, every slot free; the magic word (the first, arg points to its
 * value) says so, written last. */
static int init_region(void *p, size_t len, void *arg)
{
	_Atomic uint64_t *magic = p;
	const uint64_t *want = arg;

	if (len < sizeof(*magic))
		return -EINVAL;
	if (atomic_load_explicit(magic, memory_order_acquire) != *want)
		atomic_store_explicit(magic, *want, memory_order_release);
	return 0;
}

/* The round-robin cursor of this chain in the session's region "rr". */
static void attach_cursor(const struct socks5_proxy *chain, size_t nhops)
{
	static const uint64_t magic = RR_MAGIC;
	uint64_t key = 0xcbf29ce484222325ull;
	struct rrregion *r;
	void *p = NULL;
	size_t i;
	long at;

	for (i = 0; i < nhops; i++)
		key = (key ^ hop_key(&chain[i])) * 0x100000001b3ull;
	key = (key ^ nhops) * 0x100000001b3ull;
	if (!key)
		key = 1;
	if (sfy_session_region("rr", sizeof(struct rrregion), init_region,
			       (void *)&magic, &p) != 0)
		return;
	r = p;
	at = claim_slot(r->slot, sizeof(r->slot[0]), RR_SLOTS, key);
	if (at >= 0)
		atomic_store_explicit(&rr_bound, &r->slot[at].cursor,
				      memory_order_release);
}

void sfy_hopmem_session(const struct socks5_proxy *chain, size_t nhops)
{
	static const uint64_t hops_magic = HOPMEM_MAGIC;
	struct hopregion *r;
	void *p = NULL;
	int zero = 0;
	size_t i;

	if (atomic_load_explicit(&attached, memory_order_acquire) == 2 ||
	    !atomic_compare_exchange_strong(&attached, &zero, 1))
		return; /* done, or another thread is at it: its turn */
	if (sfy_session_present() &&
	    sfy_session_region(HOPMEM_REGION, sizeof(struct hopregion),
			       init_region, (void *)&hops_magic, &p) == 0) {
		r = p;
		for (i = 0; i < nhops && i < SFY_HOPMEM_HOPS; i++) {
			struct hopslot *s = claim(r, hop_key(&chain[i]));

			if (s)
				atomic_store_explicit(&bound[i], s,
						      memory_order_release);
		}
	}
	if (sfy_session_present())
		attach_cursor(chain, nhops);
	atomic_store_explicit(&attached, 2, memory_order_release);
}
