/*
 * The fake-IP map (see fakeip.h for the contract): the ranges, the
 * mapping and the addresses. What is inside the mapping (the table, its
 * lock-free readers, its writer lock and its recovery) is fakemap.c's.
 *
 * The mapping is the session's file "names", else a MAP_SHARED anonymous
 * one (MAP_NORESERVE either way: pages are touched only where used).
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
#include "dns/fakemap.h"
#include "route/cidr.h"
#include "state/session.h"

#define FAKE_CAP_MAX 131072u

struct shape {
	uint32_t cap, nslots;
	uint64_t layout;
	bool random; /* false for the unit tests' fixed maps only */
};

static struct {
	size_t map_len;      /* the mapping's length */
	struct sfy_fmap fm;  /* its layout (base unset) */
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
static _Atomic(void *) g_map;

_Atomic uint64_t sfy_fake4_word;

static pthread_once_t g_once = PTHREAD_ONCE_INIT;
static atomic_bool g_ready;

/* The table as mapped in this process (attached). */
static struct sfy_fmap fmap(void)
{
	struct sfy_fmap m = g.fm;

	m.base = atomic_load_explicit(&g_map, memory_order_acquire);
	return m;
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
	struct sfy_fmap m = g.fm;

	(void)len;
	m.base = p;
	return sfy_fmap_init(&m, sh->layout,
			     sh->random ? random_start(sh->cap) : 1);
}

/* The session's map when this process belongs to one (and setup allowed
 * it), else a private one that fork children share. */
static int map_make(void **out)
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
	void *p, *none = NULL;
	int rc;

	if (atomic_load_explicit(&g_map, memory_order_acquire))
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
	g.map_len = sfy_fmap_layout(&g.fm, cap);
	g.sh.cap = cap;
	g.sh.nslots = g.fm.mask + 1;
	g.sh.layout = layout_of(cap, g.sh.nslots);
	g.sh.random = random;
}

static int setup(const struct sfy_cidr *v4, const struct sfy_cidr *v6,
		 size_t capacity, bool session)
{
	uint64_t cap = FAKE_CAP_MAX;

	void *old = atomic_exchange(&g_map, NULL);

	if (old)
		munmap(old, g.map_len);
	atomic_store_explicit(&sfy_fake4_word, 0, memory_order_relaxed);
	memset(&g, 0, sizeof(g));
	g.has4 = sfy_fake_cidr_valid(v4, AF_INET) && sfy_fake_range_usable(v4) > 0;
	g.has6 = sfy_fake_cidr_valid(v6, AF_INET6) && sfy_fake_range_usable(v6) > 0;
	if (g.has4) {
		g.v4 = *v4;
		sfy_cidr_clear_host_bits(&g.v4);
		g.v4p = sfy_cidr4_of(&g.v4);
		atomic_store_explicit(&sfy_fake4_word,
				      (uint64_t)g.v4p.mask << 32 | g.v4p.net,
				      memory_order_relaxed);
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

int sfy_fakeip_for_name(const char *name, size_t len, struct in_addr *v4,
			struct in6_addr *v6)
{
	char lc[SFY_FAKE_NAME_MAX + 1];
	struct sfy_fmap_key k;
	struct sfy_fmap m;
	size_t n;
	uint32_t idx;
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
	sfy_fmap_key(&k, lc, n);
	m = fmap();
	rc = sfy_fmap_get(&m, &k, &idx);
	if (rc)
		return rc;

	if (v4)
		sfy_fake_index_to_addr(idx, &g.v4, (uint8_t *)&v4->s_addr);
	if (v6)
		sfy_fake_index_to_addr(idx, &g.v6, v6->s6_addr);
	return 0;
}

/* The range test alone, without working out the entry index: what
 * fakeip.h's inline test does not answer from sfy_fake4_word. */
bool sfy_fakeip_in_range_slow(const struct sockaddr *sa)
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
	struct sfy_fmap m;
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

	m = fmap();
	return sfy_fmap_name(&m, (uint32_t)idx, name, cap);
}

int sfy_fakeip_hold_lock_test(void)
{
	struct sfy_fmap m;
	int rc = sfy_fakeip_init();

	if (rc == 0)
		rc = attach();
	if (rc)
		return rc;
	m = fmap();
	return sfy_fmap_hold_lock(&m);
}
