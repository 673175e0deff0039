/*
 * The fake-IP map (see fakeip.h for the contract).
 *
 * Layout of the one shared mapping (the session's file, else anonymous;
 * MAP_SHARED, MAP_NORESERVE, touched only where used):
 *
 *   +--------------+--------------------------+---------------------------+
 *   | struct hdr   | uint32_t slot[nslots]    | struct entry ent[cap + 1] |
 *   | (one page)   | hash table: entry index  | ent[i] <-> fake base + i  |
 *   +--------------+--------------------------+---------------------------+
 *
 * The address is the index, so address -> name is one array access. Name ->
 * address goes through an open-addressing (linear probing) table of entry
 * indexes, kept at most half full; slot value 0 means empty (index 0 is the
 * network address and never handed out). Removal uses backward-shift
 * deletion, so the table needs no tombstones and probes stay short forever.
 *
 * Everything in the mapping is guarded by one process-shared robust mutex.
 * A process that dies holding it leaves hdr->dirty set if it was mid-update;
 * the next locker gets EOWNERDEAD and rebuilds the table from the entries
 * (an entry being written has len 0 until complete, so it is skipped).
 *
 * Process-local state (the ranges, the layout) is written once under
 * pthread_once; the mapping's address once by compare-and-swap.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include "base/config.h"
#include "base/log.h"
#include "base/sockaddr.h"
#include "dns/fakeaddr.h"
#include "dns/fakeip.h"
#include "route/cidr.h"
#include "state/session.h"

#define FAKE_CAP_MAX 131072u

#define HDR_MAGIC 0x73667966616b6531ull /* "sfyfake1" */

struct hdr {
	uint64_t magic;  /* written last by init_hdr */
	uint64_t layout; /* layout_of(): processes with other settings refuse */
	pthread_mutex_t lock;
	uint32_t cap;   /* entries 1..cap are usable */
	uint32_t mask;  /* nslots - 1 */
	uint32_t next;  /* next entry to hand out (round robin), 1..cap */
	uint32_t used;  /* highest entry ever written */
	uint32_t dirty; /* a change is in progress (for EOWNERDEAD) */
};

struct entry {
	uint32_t hash;
	uint16_t len;   /* 0: free or being written */
	char name[SFY_FAKE_NAME_MAX + 1]; /* lowercase, no trailing dot */
};

struct shape {
	uint32_t cap, nslots;
	uint64_t layout;
	bool random; /* false for the unit tests' fixed maps only */
};

static struct {
	size_t map_len, slot_off, ent_off; /* the mapping's layout */
	struct shape sh;
	bool session;        /* map the session's file on first use */
	int err;             /* init's result */
	uint32_t cap;
	bool has4, has6;
	struct sfy_cidr v4, v6; /* host bits cleared */
	struct sfy_cidr4 v4p;   /* g.v4 ready for the hot test */
} g;

/* The mapping: set once per process (compare-and-swap, so two threads
 * attaching at once cost one extra mmap, never a lock a fork could
 * inherit), read with one acquire load. NULL until attached. */
static _Atomic(struct hdr *) g_map;

#define MAP (atomic_load_explicit(&g_map, memory_order_acquire))
#define SLOT ((uint32_t *)((char *)MAP + g.slot_off))
#define ENT ((struct entry *)((char *)MAP + g.ent_off))

static pthread_once_t g_once = PTHREAD_ONCE_INIT;
static atomic_bool g_ready;

/* ---- hashing and the table --------------------------------------------- */

static uint32_t table_find(const char *name, size_t len, uint32_t h)
{
	for (uint32_t i = h & MAP->mask;; i = (i + 1) & MAP->mask) {
		uint32_t idx = SLOT[i];
		const struct entry *e;

		if (idx == 0)
			return 0;
		e = &ENT[idx];
		if (e->hash == h && e->len == len &&
		    memcmp(e->name, name, len) == 0)
			return idx;
	}
}

static void table_insert(uint32_t idx)
{
	uint32_t i = ENT[idx].hash & MAP->mask;

	while (SLOT[i] != 0)
		i = (i + 1) & MAP->mask;
	SLOT[i] = idx;
}

/* Backward-shift deletion: after emptying slot j, walk the cluster and
 * move back every entry whose home slot is not cyclically in (j, k]. */
static void table_remove(uint32_t idx)
{
	uint32_t mask = MAP->mask;
	uint32_t j = ENT[idx].hash & mask, k;

	while (SLOT[j] != idx) {
		if (SLOT[j] == 0)
			return; /* not present (only after a rebuild) */
		j = (j + 1) & mask;
	}
	SLOT[j] = 0;
	for (k = (j + 1) & mask; SLOT[k] != 0; k = (k + 1) & mask) {
		uint32_t home = ENT[SLOT[k]].hash & mask;
		bool stays = j < k ? (home > j && home <= k)
				   : (home > j || home <= k);

		if (!stays) {
			SLOT[j] = SLOT[k];
			SLOT[k] = 0;
			j = k;
		}
	}
}

static void table_rebuild(void)
{
	memset(SLOT, 0, ((size_t)MAP->mask + 1) * sizeof(*SLOT));
	for (uint32_t idx = 1; idx <= MAP->used; idx++)
		if (ENT[idx].len != 0)
			table_insert(idx);
	MAP->dirty = 0;
}

static int map_lock(void)
{
	int rc = pthread_mutex_lock(&MAP->lock);

	if (rc == EOWNERDEAD) {
		/* The owner died inside the critical section. */
		sfy_warn("fake-IP map: a process died holding its lock; "
			 "recovering");
		if (MAP->dirty)
			table_rebuild();
		rc = pthread_mutex_consistent(&MAP->lock);
	}
	return -rc;
}

static void map_unlock(void)
{
	pthread_mutex_unlock(&MAP->lock);
}

/* ---- setup ------------------------------------------------------------- */

/* The settings a shared map depends on, folded into one word. */
static uint64_t layout_of(uint32_t cap, uint32_t nslots)
{
	uint64_t h = 1469598103934665603ull; /* FNV-1a, 64 bits */
	const uint8_t *parts[] = { (const uint8_t *)&cap,
				   (const uint8_t *)&nslots,
				   (const uint8_t *)&g.v4, (const uint8_t *)&g.v6 };
	const size_t lens[] = { sizeof(cap), sizeof(nslots), sizeof(g.v4),
				sizeof(g.v6) };

	for (size_t k = 0; k < 4; k++)
		for (size_t i = 0; i < lens[k]; i++) {
			h ^= parts[k][i];
			h *= 1099511628211ull;
		}
	return h ^ (uint64_t)g.has4 << 1 ^ (uint64_t)g.has6;
}

/* A random first entry: two sessions (or a session and a process outside
 * it) then hand out different addresses for their first names, so an
 * address carried from one to the other is most likely unknown there
 * (EHOSTUNREACH) rather than another name. */
static uint32_t random_start(uint32_t cap)
{
	uint32_t r;

	if (getrandom(&r, sizeof(r), GRND_NONBLOCK) != sizeof(r))
		r = (uint32_t)getpid() * 2654435761u ^ (uint32_t)time(NULL);
	return 1 + r % cap;
}

/* Region initialiser (session.h): idempotent, magic written last, so a
 * process killed half way leaves magic 0 and the next one starts over. */
static int init_hdr(void *p, size_t len, void *arg)
{
	const struct shape *sh = arg;
	struct hdr *h = p;
	pthread_mutexattr_t a;
	int rc;

	(void)len;
	if (atomic_load_explicit((_Atomic uint64_t *)&h->magic,
				 memory_order_acquire) == HDR_MAGIC)
		return h->layout == sh->layout ? 0 : -EINVAL;
	memset(h, 0, sizeof(*h));
	h->layout = sh->layout;
	h->cap = sh->cap;
	h->mask = sh->nslots - 1;
	h->next = sh->random ? random_start(sh->cap) : 1;

	rc = pthread_mutexattr_init(&a);
	if (rc == 0)
		rc = pthread_mutexattr_setpshared(&a, PTHREAD_PROCESS_SHARED);
	if (rc == 0)
		rc = pthread_mutexattr_setrobust(&a, PTHREAD_MUTEX_ROBUST);
	if (rc == 0)
		rc = pthread_mutex_init(&h->lock, &a);
	pthread_mutexattr_destroy(&a);
	if (rc != 0)
		return -rc;
	atomic_store_explicit((_Atomic uint64_t *)&h->magic, HDR_MAGIC,
			      memory_order_release);
	return 0;
}

/* The session's map when this process belongs to one (and setup allowed
 * it), else a private one that fork children share. */
static int map_make(struct hdr **out)
{
	void *p = NULL;
	int rc = -ENOENT;

	if (g.session)
		rc = sfy_session_region("names", g.map_len, init_hdr, &g.sh, &p);
	if (rc == -EINVAL)
		sfy_warn("fake-IP map: this program's SOCKSIFY_FAKE_NET differs "
			 "from its session's; its names are its own");
	if (rc) {
		p = mmap(NULL, g.map_len, PROT_READ | PROT_WRITE,
			 MAP_SHARED | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
		if (p == MAP_FAILED)
			return -ENOMEM;
		rc = init_hdr(p, g.map_len, &g.sh);
		if (rc) {
			munmap(p, g.map_len);
			return -ENOMEM;
		}
	}
	*out = p;
	return 0;
}

/* Maps the map unless done: on first use for a session's file (a program
 * that never resolves a name creates and maps nothing). */
static int attach(void)
{
	struct hdr *p, *none = NULL;
	int rc;

	if (MAP)
		return 0;
	rc = map_make(&p);
	if (rc)
		return rc;
	if (!atomic_compare_exchange_strong_explicit(&g_map, &none, p,
						     memory_order_acq_rel,
						     memory_order_acquire))
		munmap(p, g.map_len); /* another thread was first */
	return 0;
}

static void layout(uint32_t cap, bool random)
{
	size_t hdr_len = (size_t)sysconf(_SC_PAGESIZE);

	g.sh.cap = cap;
	g.sh.nslots = 16;
	while (g.sh.nslots < 2 * cap)
		g.sh.nslots *= 2;
	g.sh.layout = layout_of(cap, g.sh.nslots);
	g.sh.random = random;
	g.slot_off = hdr_len;
	g.ent_off = hdr_len + (size_t)g.sh.nslots * sizeof(uint32_t);
	g.map_len = g.ent_off + ((size_t)cap + 1) * sizeof(struct entry);
}

static int setup(const struct sfy_cidr *v4, const struct sfy_cidr *v6,
		 size_t capacity, bool session)
{
	uint64_t cap = FAKE_CAP_MAX;

	struct hdr *old = atomic_exchange(&g_map, NULL);

	if (old)
		munmap(old, g.map_len);
	memset(&g, 0, sizeof(g));
	g.has4 = sfy_fake_cidr_valid(v4, AF_INET) && sfy_fake_range_usable(v4) > 0;
	g.has6 = sfy_fake_cidr_valid(v6, AF_INET6) && sfy_fake_range_usable(v6) > 0;
	if (g.has4) {
		g.v4 = *v4;
		sfy_cidr_clear_host_bits(&g.v4);
		g.v4p = sfy_cidr4_of(&g.v4);
		cap = cap < sfy_fake_range_usable(v4) ? cap : sfy_fake_range_usable(v4);
	}
	if (g.has6) {
		g.v6 = *v6;
		sfy_cidr_clear_host_bits(&g.v6);
		cap = cap < sfy_fake_range_usable(v6) ? cap : sfy_fake_range_usable(v6);
	}
	if (capacity > 0 && capacity < cap)
		cap = capacity;
	if (!g.has4 && !g.has6) {
		g.err = -EINVAL;
		return g.err;
	}
	g.cap = (uint32_t)cap;
	layout(g.cap, session);
	/* Without a session the map is made now, before the program can
	 * fork, so that parent and children share it. */
	g.session = session && sfy_session_present();
	if (!g.session)
		g.err = attach();
	return g.err;
}

static void init_once(void)
{
	const struct sfy_config *cfg = sfy_config();
	int rc = setup(&cfg->fake4, &cfg->fake6, 0, true);

	if (rc)
		sfy_error("fake-IP map unavailable (%s): names the proxy "
			  "must resolve will fail", strerror(-rc));
	atomic_store_explicit(&g_ready, true, memory_order_release);
}

/* On every connect() and sendto() (sfy_fakeip_in_range): once set up, one
 * acquire load instead of a call to pthread_once. */
int sfy_fakeip_init(void)
{
	if (!atomic_load_explicit(&g_ready, memory_order_acquire))
		pthread_once(&g_once, init_once);
	return g.err;
}

static void init_skipped(void)
{
}

int sfy_fakeip_init_ranges(const struct sfy_cidr *v4, const struct sfy_cidr *v6,
			   size_t capacity)
{
	return sfy_fakeip_init_test(v4, v6, capacity, false);
}

int sfy_fakeip_init_test(const struct sfy_cidr *v4, const struct sfy_cidr *v6,
			 size_t capacity, bool session)
{
	int rc;

	/* From now on sfy_fakeip_init() keeps these ranges. */
	pthread_once(&g_once, init_skipped);
	rc = setup(v4, v6, capacity, session);
	atomic_store_explicit(&g_ready, true, memory_order_release);
	return rc;
}

/* ---- the interface ------------------------------------------------------ */

static uint32_t assign(const char *name, size_t len, uint32_t h)
{
	uint32_t idx = MAP->next;
	struct entry *e = &ENT[idx];

	MAP->next = idx == MAP->cap ? 1 : idx + 1;
	MAP->dirty = 1;
	if (e->len != 0) {
		sfy_debug("fake-IP map full: reusing the address of %s for %s",
			  e->name, name);
		table_remove(idx);
	}
	e->len = 0;
	e->hash = h;
	memcpy(e->name, name, len + 1);
	e->len = (uint16_t)len;
	table_insert(idx);
	if (idx > MAP->used)
		MAP->used = idx;
	MAP->dirty = 0;
	return idx;
}

int sfy_fakeip_for_name(const char *name, size_t len, struct in_addr *v4,
			struct in6_addr *v6)
{
	char lc[SFY_FAKE_NAME_MAX + 1];
	size_t n;
	uint32_t h, idx;
	int rc;

	rc = sfy_fake_normalise(name, len, lc, &n);
	if (rc)
		return rc;
	rc = sfy_fakeip_init();
	if (rc)
		return rc;
	if ((v4 && !g.has4) || (v6 && !g.has6))
		return -EAFNOSUPPORT;

	rc = attach();
	if (rc)
		return rc;
	h = sfy_fake_hash(lc, n);
	rc = map_lock();
	if (rc)
		return rc;
	idx = table_find(lc, n, h);
	if (idx == 0)
		idx = assign(lc, n, h);
	map_unlock();

	if (v4)
		sfy_fake_index_to_addr(idx, &g.v4, (uint8_t *)&v4->s_addr);
	if (v6)
		sfy_fake_index_to_addr(idx, &g.v6, v6->s6_addr);
	return 0;
}

/* On every connect() and sendto() of the program: the range test alone,
 * without working out the entry index. */
bool sfy_fakeip_in_range(const struct sockaddr *sa)
{
	const struct in6_addr *a6;

	sfy_fakeip_init();
	if (!sa)
		return false;
	if (sa->sa_family == AF_INET)
		return g.has4 &&
		       sfy_cidr4_has(&g.v4p, ((const struct sockaddr_in *)sa)
						     ->sin_addr.s_addr);
	if (sa->sa_family != AF_INET6)
		return false;
	a6 = &((const struct sockaddr_in6 *)sa)->sin6_addr;
	if (sfy_is_v4mapped(a6->s6_addr))
		return g.has4 && sfy_cidr_has(&g.v4, a6->s6_addr + 12);
	return g.has6 && sfy_cidr_has(&g.v6, a6->s6_addr);
}

int sfy_fakeip_name(const struct sockaddr *sa, char *name, size_t cap)
{
	int64_t idx;
	int rc;

	sfy_fakeip_init();
	idx = sfy_fake_addr_to_index(sa, g.has4 ? &g.v4 : NULL,
				    g.has6 ? &g.v6 : NULL);
	if (idx < 0)
		return -EINVAL;
	if (g.err)
		return g.err;
	if (idx == 0 || idx > g.cap)
		return -ENOENT;
	rc = attach();
	if (rc)
		return rc;

	rc = map_lock();
	if (rc)
		return rc;
	if (ENT[idx].len == 0) {
		rc = -ENOENT;
	} else if ((size_t)ENT[idx].len + 1 > cap) {
		rc = -ENAMETOOLONG;
	} else {
		memcpy(name, ENT[idx].name, (size_t)ENT[idx].len + 1);
	}
	map_unlock();
	return rc;
}
