/*
 * The fake-IP map (see fakeip.h for the contract).
 *
 * Layout of the one shared mapping (MAP_SHARED | MAP_ANONYMOUS, so a fork
 * child shares it with its parent; MAP_NORESERVE, and nothing is touched
 * past the header until used, so an idle program pays one page of RSS):
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
 * Process-local state (the ranges, the mapping's address) is written once
 * under pthread_once and read-only afterwards.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "base/config.h"
#include "base/log.h"
#include "base/sockaddr.h"
#include "dns/fakeip.h"
#include "route/cidr.h"

#define FAKE_CAP_MAX 131072u
#define FAKE_NAME_MAX 255
#define HDR_MAGIC 0x73667966616b6531ull /* "sfyfake1" */

struct hdr {
	uint64_t magic;
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
	char name[FAKE_NAME_MAX + 1]; /* lowercase, no trailing dot */
};

static struct {
	struct hdr *map;     /* NULL when init failed */
	size_t map_len;
	uint32_t *slot;
	struct entry *ent;
	int err;             /* init's result */
	uint32_t cap;
	bool has4, has6;
	struct sfy_cidr v4, v6; /* host bits cleared */
	struct sfy_cidr4 v4p;   /* g.v4 ready for the hot test */
} g;

static pthread_once_t g_once = PTHREAD_ONCE_INIT;
static atomic_bool g_ready;

/* ---- ranges ------------------------------------------------------------ */

/* Usable entries in a range: v4 skips the network and broadcast
 * addresses, v6 the network (subnet-router anycast) address. */
static uint64_t range_usable(const struct sfy_cidr *c)
{
	unsigned bits = (c->family == AF_INET ? 32u : 128u) - c->prefix;
	uint64_t size;

	if (bits >= 32)
		return UINT64_MAX; /* far more than FAKE_CAP_MAX */
	size = (uint64_t)1 << bits;
	if (c->family == AF_INET)
		return size > 2 ? size - 2 : 0;
	return size - 1;
}

static bool cidr_valid(const struct sfy_cidr *c, int family)
{
	unsigned max = family == AF_INET ? 32 : 128;

	return c && c->family == family && c->prefix <= max;
}

/* ---- hashing and the table --------------------------------------------- */

static uint32_t hash_name(const char *s, size_t len)
{
	uint32_t h = 2166136261u; /* FNV-1a */

	for (size_t i = 0; i < len; i++) {
		h ^= (uint8_t)s[i];
		h *= 16777619u;
	}
	return h;
}

static uint32_t table_find(const char *name, size_t len, uint32_t h)
{
	for (uint32_t i = h & g.map->mask;; i = (i + 1) & g.map->mask) {
		uint32_t idx = g.slot[i];
		const struct entry *e;

		if (idx == 0)
			return 0;
		e = &g.ent[idx];
		if (e->hash == h && e->len == len &&
		    memcmp(e->name, name, len) == 0)
			return idx;
	}
}

static void table_insert(uint32_t idx)
{
	uint32_t i = g.ent[idx].hash & g.map->mask;

	while (g.slot[i] != 0)
		i = (i + 1) & g.map->mask;
	g.slot[i] = idx;
}

/* Backward-shift deletion: after emptying slot j, walk the cluster and
 * move back every entry whose home slot is not cyclically in (j, k]. */
static void table_remove(uint32_t idx)
{
	uint32_t mask = g.map->mask;
	uint32_t j = g.ent[idx].hash & mask, k;

	while (g.slot[j] != idx) {
		if (g.slot[j] == 0)
			return; /* not present (only after a rebuild) */
		j = (j + 1) & mask;
	}
	g.slot[j] = 0;
	for (k = (j + 1) & mask; g.slot[k] != 0; k = (k + 1) & mask) {
		uint32_t home = g.ent[g.slot[k]].hash & mask;
		bool stays = j < k ? (home > j && home <= k)
				   : (home > j || home <= k);

		if (!stays) {
			g.slot[j] = g.slot[k];
			g.slot[k] = 0;
			j = k;
		}
	}
}

static void table_rebuild(void)
{
	memset(g.slot, 0, ((size_t)g.map->mask + 1) * sizeof(*g.slot));
	for (uint32_t idx = 1; idx <= g.map->used; idx++)
		if (g.ent[idx].len != 0)
			table_insert(idx);
	g.map->dirty = 0;
}

static int map_lock(void)
{
	int rc = pthread_mutex_lock(&g.map->lock);

	if (rc == EOWNERDEAD) {
		/* The owner died inside the critical section. */
		sfy_warn("fake-IP map: a process died holding its lock; "
			 "recovering");
		if (g.map->dirty)
			table_rebuild();
		rc = pthread_mutex_consistent(&g.map->lock);
	}
	return -rc;
}

static void map_unlock(void)
{
	pthread_mutex_unlock(&g.map->lock);
}

/* ---- setup ------------------------------------------------------------- */

static int map_create(uint32_t cap)
{
	uint32_t nslots = 16;
	size_t hdr_len = (size_t)sysconf(_SC_PAGESIZE), slot_len, len;
	pthread_mutexattr_t a;
	void *p;
	int rc;

	while (nslots < 2 * cap)
		nslots *= 2;
	slot_len = (size_t)nslots * sizeof(uint32_t);
	len = hdr_len + slot_len + ((size_t)cap + 1) * sizeof(struct entry);
	p = mmap(NULL, len, PROT_READ | PROT_WRITE,
		 MAP_SHARED | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (p == MAP_FAILED)
		return -errno;

	g.map = p;
	g.map_len = len;
	g.slot = (uint32_t *)((char *)p + hdr_len);
	g.ent = (struct entry *)((char *)g.slot + slot_len);
	g.map->cap = cap;
	g.map->mask = nslots - 1;
	g.map->next = 1;

	rc = pthread_mutexattr_init(&a);
	if (rc == 0)
		rc = pthread_mutexattr_setpshared(&a, PTHREAD_PROCESS_SHARED);
	if (rc == 0)
		rc = pthread_mutexattr_setrobust(&a, PTHREAD_MUTEX_ROBUST);
	if (rc == 0)
		rc = pthread_mutex_init(&g.map->lock, &a);
	pthread_mutexattr_destroy(&a);
	if (rc != 0) {
		munmap(p, len);
		g.map = NULL;
		return -rc;
	}
	g.map->magic = HDR_MAGIC;
	return 0;
}

static int setup(const struct sfy_cidr *v4, const struct sfy_cidr *v6,
		 size_t capacity)
{
	uint64_t cap = FAKE_CAP_MAX;

	if (g.map)
		munmap(g.map, g.map_len);
	memset(&g, 0, sizeof(g));
	g.has4 = cidr_valid(v4, AF_INET) && range_usable(v4) > 0;
	g.has6 = cidr_valid(v6, AF_INET6) && range_usable(v6) > 0;
	if (g.has4) {
		g.v4 = *v4;
		sfy_cidr_clear_host_bits(&g.v4);
		g.v4p = sfy_cidr4_of(&g.v4);
		cap = cap < range_usable(v4) ? cap : range_usable(v4);
	}
	if (g.has6) {
		g.v6 = *v6;
		sfy_cidr_clear_host_bits(&g.v6);
		cap = cap < range_usable(v6) ? cap : range_usable(v6);
	}
	if (capacity > 0 && capacity < cap)
		cap = capacity;
	if (!g.has4 && !g.has6) {
		g.err = -EINVAL;
		return g.err;
	}
	g.cap = (uint32_t)cap;
	g.err = map_create(g.cap);
	if (g.err)
		g.err = -ENOMEM;
	return g.err;
}

static void init_once(void)
{
	const struct sfy_config *cfg = sfy_config();
	int rc = setup(&cfg->fake4, &cfg->fake6, 0);

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
	int rc;

	/* From now on sfy_fakeip_init() keeps these ranges. */
	pthread_once(&g_once, init_skipped);
	rc = setup(v4, v6, capacity);
	atomic_store_explicit(&g_ready, true, memory_order_release);
	return rc;
}

/* ---- the interface ------------------------------------------------------ */

/* Lowercase, without one trailing dot; -EINVAL for an unusable name. */
static int normalise(const char *name, size_t len, char *out, size_t *outlen)
{
	if (name == NULL)
		return -EINVAL;
	if (len > 0 && name[len - 1] == '.')
		len--;
	if (len == 0 || len > FAKE_NAME_MAX || memchr(name, '\0', len))
		return -EINVAL;
	for (size_t i = 0; i < len; i++) {
		char c = name[i];

		out[i] = (c >= 'A' && c <= 'Z') ? (char)(c + 'a' - 'A') : c;
	}
	out[len] = '\0';
	*outlen = len;
	return 0;
}

static void index_to_addr(uint32_t idx, const struct sfy_cidr *c, uint8_t *out)
{
	size_t n = c->family == AF_INET ? 4 : 16;
	uint8_t be[4] = { idx >> 24, idx >> 16, idx >> 8, idx };

	/* idx < 2^(host bits), and the base has those bits clear: OR adds. */
	memcpy(out, c->addr, n);
	for (int i = 0; i < 4; i++)
		out[n - 4 + i] |= be[i];
}

static uint32_t assign(const char *name, size_t len, uint32_t h)
{
	uint32_t idx = g.map->next;
	struct entry *e = &g.ent[idx];

	g.map->next = idx == g.map->cap ? 1 : idx + 1;
	g.map->dirty = 1;
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
	if (idx > g.map->used)
		g.map->used = idx;
	g.map->dirty = 0;
	return idx;
}

int sfy_fakeip_for_name(const char *name, size_t len, struct in_addr *v4,
			struct in6_addr *v6)
{
	char lc[FAKE_NAME_MAX + 1];
	size_t n;
	uint32_t h, idx;
	int rc;

	rc = normalise(name, len, lc, &n);
	if (rc)
		return rc;
	rc = sfy_fakeip_init();
	if (rc)
		return rc;
	if ((v4 && !g.has4) || (v6 && !g.has6))
		return -EAFNOSUPPORT;

	h = hash_name(lc, n);
	rc = map_lock();
	if (rc)
		return rc;
	idx = table_find(lc, n, h);
	if (idx == 0)
		idx = assign(lc, n, h);
	map_unlock();

	if (v4)
		index_to_addr(idx, &g.v4, (uint8_t *)&v4->s_addr);
	if (v6)
		index_to_addr(idx, &g.v6, v6->s6_addr);
	return 0;
}

/* The entry index behind sa (maybe 0 or past cap), or -EINVAL when sa is
 * not in a fake range. */
static int64_t addr_to_index(const struct sockaddr *sa)
{
	const uint8_t *a;
	const struct sfy_cidr *c;
	uint8_t host[16];
	uint16_t port;
	size_t n;
	int fam;

	if (sa == NULL)
		return -EINVAL;
	a = sfy_addr_bytes(sa, &fam, &port); /* a mapped address is IPv4 */
	if (a == NULL)
		return -EINVAL;
	if (fam == AF_INET)
		c = g.has4 ? &g.v4 : NULL;
	else
		c = g.has6 ? &g.v6 : NULL;
	if (c == NULL || !sfy_cidr_has(c, a))
		return -EINVAL;

	/* host part = address with the prefix cleared */
	n = c->family == AF_INET ? 4 : 16;
	memcpy(host, a, n);
	for (size_t i = 0; i < n; i++)
		host[i] ^= c->addr[i];
	for (size_t i = 0; i + 4 < n; i++)
		if (host[i] != 0)
			return UINT32_MAX + (int64_t)1; /* beyond any cap */
	return (int64_t)host[n - 4] << 24 | host[n - 3] << 16 |
	       host[n - 2] << 8 | host[n - 1];
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
	idx = addr_to_index(sa);
	if (idx < 0)
		return -EINVAL;
	if (g.map == NULL)
		return g.err;
	if (idx == 0 || idx > g.cap)
		return -ENOENT;

	rc = map_lock();
	if (rc)
		return rc;
	if (g.ent[idx].len == 0) {
		rc = -ENOENT;
	} else if ((size_t)g.ent[idx].len + 1 > cap) {
		rc = -ENAMETOOLONG;
	} else {
		memcpy(name, g.ent[idx].name, (size_t)g.ent[idx].len + 1);
	}
	map_unlock();
	return rc;
}
