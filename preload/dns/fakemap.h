/*
 * The fake-IP map's shared table (fakeip.c owns the mapping and the
 * addresses; this file owns what is inside it). Layout of the mapping:
 *
 *   +--------------+-------------------------+----------------------------+
 *   | header       | _Atomic uint32_t        | entry ent[cap + 1]         |
 *   | (one page)   |   slot[nslots]          | ent[i] <-> fake base + i   |
 *   +--------------+-------------------------+----------------------------+
 *
 * The address is the index, so address -> name is one array access. Name
 * -> address goes through an open-addressing (linear probing) table of
 * entry indexes, nslots a power of two at least twice cap (at most half
 * full); slot value 0 means empty (index 0 is the network address and is
 * never handed out). Removal is backward-shift deletion: no tombstones,
 * probes stay short however often entries are reused.
 *
 * Concurrency:
 *   - Readers take no lock. Each entry has its own sequence word (odd
 *     while written); its hash, length and name are atomic words (Boehm's
 *     fence-free seqlock, as in state/seqlock.h), so a reader sees a whole
 *     name or retries, and ThreadSanitizer sees no race. A slot is one
 *     atomic word. A name found through a slot is checked against the
 *     entry under its sequence word, so a reader racing a writer gets
 *     either the right index or "not found", never a wrong index.
 *   - Writers (a new name, a reused entry) serialise on one
 *     process-shared robust mutex in the header. A lookup that finds
 *     nothing without the lock (a new name, or an entry moving under it)
 *     looks again under the lock before it adds the name, so a name never
 *     gets two entries.
 *   - A reader that keeps finding an entry mid-write (64 turns) reads it
 *     under the lock instead: that is how a writer that died mid-write is
 *     noticed by a process that only reads.
 *
 * Crash safety: a writer SIGKILLed anywhere leaves the mutex to the next
 * locker (EOWNERDEAD, from the kernel's robust list) and the header's
 * dirty word set; that locker marks every entry caught mid-write free and
 * rebuilds the slots from the entries, then carries on. Readers meanwhile
 * at worst miss a name and look again under the lock; nobody waits on a
 * dead process.
 *
 * Full map: the entry assigned longest ago is reused (round robin; see
 * fakeip.h for what that means to a program that kept its address).
 */
#ifndef SOCKSIFY_PRELOAD_FAKEMAP_H
#define SOCKSIFY_PRELOAD_FAKEMAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dns/fakeaddr.h"

#define SFY_FMAP_WORDS ((SFY_FAKE_NAME_MAX + 1) / 8)

/* A normalised name in whole words: NUL-terminated, zero-padded to the
 * end of its last word (sfy_fmap_key()). */
struct sfy_fmap_key {
	union {
		char c[SFY_FAKE_NAME_MAX + 1];
		uint64_t w[SFY_FMAP_WORDS];
	} u;
	uint32_t len, hash;
};

/* One mapping of the table, as seen by this process. */
struct sfy_fmap {
	void *base;
	uint32_t cap, mask;
	size_t slot_off, ent_off;
};

/* The size of the table for cap entries, with its offsets and slot
 * count filled into m (base left alone). */
size_t sfy_fmap_layout(struct sfy_fmap *m, uint32_t cap);

/* Sets up the header in a fresh or half-set-up mapping: idempotent, its
 * magic word written last (state/session.h's region initialiser).
 * layout: a word the settings fold into (another one: -EINVAL); first:
 * the first entry to hand out. */
int sfy_fmap_init(const struct sfy_fmap *m, uint64_t layout, uint32_t first);

/* name (len bytes, already lowercase, no trailing dot) as a key. */
void sfy_fmap_key(struct sfy_fmap_key *k, const char *name, size_t len);

/* The entry of k: found without a lock when it is there, else assigned
 * under the writer lock. *idx in 1..cap, or -errno (the lock failed). */
int sfy_fmap_get(const struct sfy_fmap *m, const struct sfy_fmap_key *k,
		 uint32_t *idx);

/* Entry idx's name into name (cap bytes): 0, -ENOENT (free),
 * -ENAMETOOLONG, or another -errno. Without a lock unless it keeps
 * finding the entry mid-write. */
int sfy_fmap_name(const struct sfy_fmap *m, uint32_t idx, char *name,
		  size_t cap);

/* For unit tests: takes the writer lock and keeps it (a writer stopped
 * mid-update). 0 or -errno. */
int sfy_fmap_hold_lock(const struct sfy_fmap *m);

#endif
