/*
 * The library's seqlock, written once (fdstate.c's descriptor slots,
 * udp_assoc.c's changing part of an association): a sequence number over
 * two copies of a record kept in atomic words.
 *
 *   - seq even: copy (seq / 2) % 2 is current. A writer makes seq odd with
 *     a CAS (so writers of one record serialise), fills the other copy and
 *     makes seq even again, which makes that copy current.
 *   - Readers never wait: they read the current copy and retry only when
 *     seq moved by two or more (a second writer reached their copy).
 *   - The words are atomics loaded with acquire and stored with release
 *     order (Boehm's fence-free seqlock: a reader that sees any word a
 *     writer stored also sees the odd seq before it when it reads seq
 *     again), so a torn read is detected by seq and is never a data race.
 *     On x86 these are plain moves, and ThreadSanitizer, which has no
 *     fences (GCC refuses them under -fsanitize=thread), follows them.
 *   - fork() while another thread held the lock leaves the child a lock
 *     nobody releases: the owner's atfork child handler calls
 *     sfy_seq_fork_repair(), which steps seq back to the last complete copy
 *     (the state the child was given: the write had not finished).
 *
 * bypassmap.c does not use it: its table is a lossy cache whose readers
 * may give up (the slot then counts as empty), with one pid-owned writer
 * lock for the whole table; see its top comment.
 *
 * Everything is inline: the readers run on hot paths counted in
 * instructions (tests/bench/reading.md). Internal; hidden.
 */
#ifndef SOCKSIFY_PRELOAD_SEQLOCK_H
#define SOCKSIFY_PRELOAD_SEQLOCK_H

#include <sched.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The copy that is current at sequence number v (even), or that was
 * current when the writer holding the lock (v odd) took it. */
static inline unsigned int sfy_seq_copy(unsigned int v)
{
	return (v >> 1) & 1;
}

/* A reader's start: the sequence number whose current copy to read. */
static inline unsigned int sfy_seq_read_begin(atomic_uint *seq)
{
	return atomic_load_explicit(seq, memory_order_acquire);
}

/* A reader's end: true when the copy read at v may be torn (read again). */
static inline bool sfy_seq_read_retry(atomic_uint *seq, unsigned int v)
{
	/* Ordered after the words' acquire loads. */
	return atomic_load_explicit(seq, memory_order_relaxed) - v > 1;
}

/* Waits politely after a reader's or writer's first 64 turns. */
static inline void sfy_seq_pause(int *spins)
{
	if (++*spins > 64)
		sched_yield();
}

/* Tries once to take the writer lock: true, with the copy to fill in
 * *copy, or false (someone holds it). */
static inline bool sfy_seq_try_write(atomic_uint *seq, unsigned int *copy)
{
	unsigned int v = atomic_load_explicit(seq, memory_order_relaxed);

	if ((v & 1) || !atomic_compare_exchange_weak_explicit(
			       seq, &v, v + 1, memory_order_acquire,
			       memory_order_relaxed))
		return false;
	/* The words' release stores that follow stay below the odd seq. */
	*copy = sfy_seq_copy(v + 2);
	return true;
}

/* Releases the writer lock: the copy filled becomes current. */
static inline void sfy_seq_write_end(atomic_uint *seq)
{
	atomic_fetch_add_explicit(seq, 1, memory_order_release);
}

/* The copy current now, for a writer holding the lock (or a fork child). */
static inline unsigned int sfy_seq_current(atomic_uint *seq)
{
	return sfy_seq_copy(atomic_load_explicit(seq, memory_order_relaxed));
}

/* In a fork child: a write another thread of the parent had under way is
 * dropped (seq back to its last complete copy). True when it did so. */
static inline bool sfy_seq_fork_repair(atomic_uint *seq)
{
	unsigned int v = atomic_load_explicit(seq, memory_order_relaxed);

	if (!(v & 1))
		return false;
	atomic_store(seq, v - 1);
	return true;
}

/* n words of one copy, in and out. */
static inline void sfy_seq_load_words(const _Atomic uint64_t *words, size_t n,
				      uint64_t *out)
{
	size_t i;

	for (i = 0; i < n; i++)
		out[i] = atomic_load_explicit(&words[i], memory_order_acquire);
}

static inline void sfy_seq_store_words(_Atomic uint64_t *words, size_t n,
				       const uint64_t *in)
{
	size_t i;

	for (i = 0; i < n; i++)
		atomic_store_explicit(&words[i], in[i], memory_order_release);
}

#endif
