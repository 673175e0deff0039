/*
 * The dead-hop memory (hopmem.h): a page of MAP_SHARED | MAP_ANONYMOUS
 * memory made once by the constructor. Words, not records: each is
 * loaded and stored on its own with one atomic operation, so no reader
 * waits and a process killed or forked half-way through an update leaves
 * at worst a hop skipped a little longer or tried a little sooner.
 */
#include <stdatomic.h>
#include <stdbool.h>
#include <sys/mman.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include "route/hopmem.h"

struct hopmem {
	_Atomic int64_t until[SFY_HOPMEM_HOPS]; /* skipped before this ms */
	_Atomic uint32_t fails[SFY_HOPMEM_HOPS]; /* failures in a row */
	_Atomic size_t cursor;                   /* round-robin */
	_Atomic uint64_t draws;                  /* random: a counter */
	uint64_t seed;
};

static struct hopmem local; /* before the constructor, or without mmap */
static struct hopmem *_Atomic mem;

static struct hopmem *get(void)
{
	struct hopmem *m = atomic_load_explicit(&mem, memory_order_acquire);

	return m ? m : &local;
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

uint32_t sfy_hopmem_dead(size_t nhops, int64_t now_ms)
{
	struct hopmem *m = get();
	uint32_t dead = 0;
	size_t i;

	for (i = 0; i < nhops && i < SFY_HOPMEM_HOPS; i++)
		if (atomic_load_explicit(&m->until[i], memory_order_relaxed) >
		    now_ms)
			dead |= 1u << i;
	return dead;
}

void sfy_hopmem_failed(size_t hop, int64_t now_ms)
{
	struct hopmem *m = get();
	uint32_t k;

	if (hop >= SFY_HOPMEM_HOPS)
		return;
	k = atomic_fetch_add_explicit(&m->fails[hop], 1,
				      memory_order_relaxed) + 1;
	atomic_store_explicit(&m->until[hop], now_ms + sfy_hopmem_backoff_ms(k),
			      memory_order_relaxed);
}

void sfy_hopmem_ok(size_t hop)
{
	struct hopmem *m = get();

	/* Both words: a failure racing a success may leave a back-off
	 * with no count behind it. */
	if (hop >= SFY_HOPMEM_HOPS ||
	    (!atomic_load_explicit(&m->fails[hop], memory_order_relaxed) &&
	     !atomic_load_explicit(&m->until[hop], memory_order_relaxed)))
		return;
	atomic_store_explicit(&m->fails[hop], 0, memory_order_relaxed);
	atomic_store_explicit(&m->until[hop], 0, memory_order_relaxed);
}

size_t sfy_hopmem_cursor(void)
{
	return atomic_load_explicit(&get()->cursor, memory_order_relaxed);
}

void sfy_hopmem_cursor_move(size_t from, size_t next)
{
	atomic_compare_exchange_strong_explicit(&get()->cursor, &from, next,
						memory_order_relaxed,
						memory_order_relaxed);
}

uint32_t sfy_hopmem_random(void *unused)
{
	struct hopmem *m = get();
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
