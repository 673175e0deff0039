/*
 * The fake-IP map's shared table: see fakemap.h for the layout, the
 * concurrency and the crash safety.
 *
 * Memory order: the writer makes an entry's sequence word odd (relaxed),
 * then stores hash, length and name words with release, then the even
 * word with release; a reader loads the sequence word with acquire, the
 * words with acquire, and the sequence word again (ordered after those
 * loads). Seeing any word the writer stored means seeing the odd word
 * before it on the second load, so a torn read is always detected. Slots
 * are stored with release after their entry is complete and loaded with
 * acquire. The header's other fields are touched under the lock only.
 */
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <string.h>
#include <unistd.h>

#include "base/log.h"
#include "dns/fakemap.h"

#define HDR_MAGIC 0x73667966616b6532ull /* "sfyfake2" */
#define READ_TURNS 64 /* then the lock: a writer may have died mid-write */
#define SPIN_TURNS 8  /* then yield: the writer may be off the CPU */

struct hdr {
	_Atomic uint64_t magic; /* written last by sfy_fmap_init */
	uint64_t layout;        /* processes with other settings refuse */
	pthread_mutex_t lock;   /* writers only */
	uint32_t next;          /* next entry to hand out (round robin) */
	uint32_t used;          /* highest entry ever written */
	uint32_t dirty;         /* a change is in progress (EOWNERDEAD) */
};

struct entry {
	_Atomic uint32_t seq;  /* odd: being written */
	_Atomic uint32_t hash;
	_Atomic uint32_t len;  /* 0: free */
	uint32_t pad;
	_Atomic uint64_t w[SFY_FMAP_WORDS]; /* the name, zero-padded */
};

_Static_assert(sizeof(struct hdr) <= 4096, "the header fits a page");

#define HDR(m) ((struct hdr *)(m)->base)
#define SLOT(m) ((_Atomic uint32_t *)((char *)(m)->base + (m)->slot_off))
#define ENT(m, i) (&((struct entry *)((char *)(m)->base + (m)->ent_off))[i])

static inline uint32_t ld(_Atomic uint32_t *p)
{
	return atomic_load_explicit(p, memory_order_acquire);
}

static inline void st(_Atomic uint32_t *p, uint32_t v)
{
	atomic_store_explicit(p, v, memory_order_release);
}

static inline uint32_t words_of(uint32_t len)
{
	return len / 8 + 1; /* the name, its NUL and the padding */
}

size_t sfy_fmap_layout(struct sfy_fmap *m, uint32_t cap)
{
	size_t hdr_len = (size_t)sysconf(_SC_PAGESIZE);
	uint32_t nslots = 16;

	while (nslots < 2 * cap)
		nslots *= 2;
	m->cap = cap;
	m->mask = nslots - 1;
	m->slot_off = hdr_len;
	m->ent_off = hdr_len + (size_t)nslots * sizeof(uint32_t);
	return m->ent_off + ((size_t)cap + 1) * sizeof(struct entry);
}

int sfy_fmap_init(const struct sfy_fmap *m, uint64_t layout, uint32_t first)
{
	struct hdr *h = HDR(m);
	pthread_mutexattr_t a;
	int rc;

	if (atomic_load_explicit(&h->magic, memory_order_acquire) == HDR_MAGIC)
		return h->layout == layout ? 0 : -EINVAL;
	memset((char *)h + sizeof(h->magic), 0, sizeof(*h) - sizeof(h->magic));
	h->layout = layout;
	h->next = first;
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
	atomic_store_explicit(&h->magic, HDR_MAGIC, memory_order_release);
	return 0;
}

void sfy_fmap_key(struct sfy_fmap_key *k, const char *name, size_t len)
{
	memcpy(k->u.c, name, len);
	/* the NUL and the rest of the last word */
	memset(k->u.c + len, 0, words_of((uint32_t)len) * 8 - len);
	k->len = (uint32_t)len;
	k->hash = sfy_fake_hash(name, len);
}

/* ---- readers ------------------------------------------------------------ */

/* 1 when entry e holds k, 0 when not, -EAGAIN when it kept changing. */
static int ent_match(struct entry *e, const struct sfy_fmap_key *k)
{
	for (int turn = 0; turn < READ_TURNS; turn++) {
		uint32_t s = ld(&e->seq);
		bool same;

		if (s & 1) {
			if (turn >= SPIN_TURNS)
				sched_yield();
			continue;
		}
		same = ld(&e->hash) == k->hash && ld(&e->len) == k->len;
		for (uint32_t i = 0; same && i < words_of(k->len); i++)
			same = atomic_load_explicit(&e->w[i],
						    memory_order_acquire) ==
			       k->u.w[i];
		if (atomic_load_explicit(&e->seq, memory_order_relaxed) == s)
			return same;
	}
	return -EAGAIN;
}

/* Entry e's name into out: its length, 0 when free, -EAGAIN when it kept
 * changing. */
static int ent_copy(struct entry *e, uint64_t *out)
{
	for (int turn = 0; turn < READ_TURNS; turn++) {
		uint32_t s = ld(&e->seq), len;

		if (s & 1) {
			if (turn >= SPIN_TURNS)
				sched_yield();
			continue;
		}
		len = ld(&e->len);
		if (len > SFY_FAKE_NAME_MAX)
			continue; /* torn: the check below would say so */
		for (uint32_t i = 0; len && i < words_of(len); i++)
			out[i] = atomic_load_explicit(&e->w[i],
						      memory_order_acquire);
		if (atomic_load_explicit(&e->seq, memory_order_relaxed) == s)
			return (int)len;
	}
	return -EAGAIN;
}

/* The entry holding k, or 0 (not there, or moving: ask under the lock).
 * Bounded by the slot count: the table is never more than half full. */
static uint32_t find(const struct sfy_fmap *m, const struct sfy_fmap_key *k)
{
	uint32_t i = k->hash & m->mask;

	for (uint32_t n = 0; n <= m->mask; n++, i = (i + 1) & m->mask) {
		uint32_t idx = ld(&SLOT(m)[i]);

		if (idx == 0 || idx > m->cap)
			return 0;
		if (ent_match(ENT(m, idx), k) == 1)
			return idx;
	}
	return 0;
}

/* ---- writers (under the lock) ------------------------------------------ */

static void slot_insert(const struct sfy_fmap *m, uint32_t idx)
{
	uint32_t i = ld(&ENT(m, idx)->hash) & m->mask;

	while (ld(&SLOT(m)[i]) != 0)
		i = (i + 1) & m->mask;
	st(&SLOT(m)[i], idx);
}

/* Backward-shift deletion: after emptying slot j, walk the cluster and
 * move back every entry whose home slot is not cyclically in (j, k]. A
 * reader walking past meanwhile may miss an entry (then asks under the
 * lock), never find a wrong one. */
static void slot_remove(const struct sfy_fmap *m, uint32_t idx)
{
	_Atomic uint32_t *slot = SLOT(m);
	uint32_t mask = m->mask, j, k, at;

	j = ld(&ENT(m, idx)->hash) & mask;
	while ((at = ld(&slot[j])) != idx) {
		if (at == 0)
			return; /* not present (only after a rebuild) */
		j = (j + 1) & mask;
	}
	st(&slot[j], 0);
	for (k = (j + 1) & mask; (at = ld(&slot[k])) != 0; k = (k + 1) & mask) {
		uint32_t home = ld(&ENT(m, at)->hash) & mask;
		bool stays = j < k ? (home > j && home <= k)
				   : (home > j || home <= k);

		if (!stays) {
			st(&slot[j], at);
			st(&slot[k], 0);
			j = k;
		}
	}
}

/* After a writer died mid-update: entries caught mid-write are freed,
 * the slots rebuilt from the entries. */
static void recover(const struct sfy_fmap *m)
{
	struct hdr *h = HDR(m);

	for (uint32_t idx = 1; idx <= h->used && idx <= m->cap; idx++) {
		struct entry *e = ENT(m, idx);
		uint32_t s = ld(&e->seq);

		if (s & 1) {
			st(&e->len, 0);
			st(&e->seq, s + 1);
		}
	}
	for (uint32_t i = 0; i <= m->mask; i++)
		st(&SLOT(m)[i], 0);
	for (uint32_t idx = 1; idx <= h->used && idx <= m->cap; idx++)
		if (ld(&ENT(m, idx)->len) != 0)
			slot_insert(m, idx);
	h->dirty = 0;
}

static int lock(const struct sfy_fmap *m)
{
	struct hdr *h = HDR(m);
	int rc = pthread_mutex_lock(&h->lock);

	if (rc == EOWNERDEAD) {
		sfy_warn("fake-IP map: a process died holding its lock; "
			 "recovering");
		if (h->dirty)
			recover(m);
		rc = pthread_mutex_consistent(&h->lock);
	}
	return -rc;
}

static void unlock(const struct sfy_fmap *m)
{
	pthread_mutex_unlock(&HDR(m)->lock);
}

static void ent_write(struct entry *e, const struct sfy_fmap_key *k)
{
	/* odd, even if a writer that died here left it odd */
	uint32_t s = atomic_load_explicit(&e->seq, memory_order_relaxed) | 1;

	atomic_store_explicit(&e->seq, s, memory_order_relaxed);
	st(&e->hash, k->hash);
	st(&e->len, k->len);
	for (uint32_t i = 0; i < words_of(k->len); i++)
		atomic_store_explicit(&e->w[i], k->u.w[i],
				      memory_order_release);
	st(&e->seq, s + 1);
}

static uint32_t assign(const struct sfy_fmap *m, const struct sfy_fmap_key *k)
{
	struct hdr *h = HDR(m);
	uint32_t idx = h->next;
	struct entry *e;

	if (idx == 0 || idx > m->cap)
		idx = 1; /* never, unless the file was damaged */
	e = ENT(m, idx);
	h->next = idx == m->cap ? 1 : idx + 1;
	h->dirty = 1;
	if (ld(&e->len) != 0) {
		sfy_debug("fake-IP map full: reusing entry %u for %s", idx,
			  k->u.c);
		slot_remove(m, idx);
	}
	if (idx > h->used)
		h->used = idx; /* first, so that recover() sees this entry */
	ent_write(e, k);
	slot_insert(m, idx);
	h->dirty = 0;
	return idx;
}

/* ---- the interface ------------------------------------------------------ */

int sfy_fmap_get(const struct sfy_fmap *m, const struct sfy_fmap_key *k,
		 uint32_t *idx)
{
	int rc;

	*idx = find(m, k);
	if (*idx)
		return 0;
	rc = lock(m);
	if (rc)
		return rc;
	*idx = find(m, k); /* entries are still now: a miss is a miss */
	if (*idx == 0)
		*idx = assign(m, k);
	unlock(m);
	return 0;
}

int sfy_fmap_name(const struct sfy_fmap *m, uint32_t idx, char *name,
		  size_t cap)
{
	uint64_t w[SFY_FMAP_WORDS];
	int len, rc;

	if (idx == 0 || idx > m->cap)
		return -ENOENT;
	len = ent_copy(ENT(m, idx), w);
	if (len == -EAGAIN) {
		rc = lock(m);
		if (rc)
			return rc;
		len = ent_copy(ENT(m, idx), w);
		unlock(m);
	}
	if (len < 0)
		return len;
	if (len == 0)
		return -ENOENT;
	if ((size_t)len + 1 > cap)
		return -ENAMETOOLONG;
	memcpy(name, w, (size_t)len);
	name[len] = '\0';
	return 0;
}

int sfy_fmap_hold_lock(const struct sfy_fmap *m)
{
	return lock(m);
}
