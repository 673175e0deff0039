/*
 * The table of the event-loop machine's slots (tcp/async_int.h): no
 * malloc, async-signal-safe. The first chunk of SFY_ASYNC_CHUNK slots is
 * static; the next ones are mmap'ed when a connect finds every slot taken
 * (a program with more than SFY_ASYNC_CHUNK handshakes at once), published
 * with a compare-and-swap (a thread that loses the race unmaps its own),
 * and kept for the life of the process, so that a slot's address never
 * changes under a waiter. Past SFY_ASYNC_MAX, or when mmap fails, the
 * table is full and connect() fails with EAGAIN (tcp/connect.c, logged),
 * as the kernel's does when it has no room.
 *
 * A fork child has only the forking thread: a slot another thread was
 * stepping would stay locked for good (never stepped, never expired, and
 * every wait after its deadline would spin), so the child handler
 * unlocks every slot; the child's waits step them from there (a step cut
 * short left the machine where its last whole I/O put it).
 *
 * hiwater is raised only after the chunk of its slot is published: a
 * reader that loads it (acquire) finds every chunk below it mapped.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <sys/mman.h>

#include "state/fdstate.h"
#include "tcp/async_int.h"
#include "tcp/epoll_reg.h"

#define NCHUNKS (SFY_ASYNC_MAX / SFY_ASYNC_CHUNK)

static struct async_slot first[SFY_ASYNC_CHUNK];
static _Atomic(struct async_slot *) chunks[NCHUNKS] = { first };
static atomic_int hiwater; /* one above the highest slot ever claimed */

int sfy_async_hiwater(void)
{
	return atomic_load_explicit(&hiwater, memory_order_acquire);
}

/* i below hiwater (or in a chunk the caller saw published). */
struct async_slot *sfy_async_slot(int i)
{
	return atomic_load_explicit(&chunks[i / SFY_ASYNC_CHUNK],
				    memory_order_acquire) +
	       i % SFY_ASYNC_CHUNK;
}

bool sfy_async_has(struct async_slot *s, int fd)
{
	if (atomic_load_explicit(&s->fd, memory_order_relaxed) == fd)
		return true;
	for (int i = 0; i < SFY_ASYNC_ALIASES; i++)
		if (atomic_load_explicit(&s->alias[i], memory_order_relaxed) ==
		    fd + 1)
			return true;
	return false;
}

int sfy_async_numbers(struct async_slot *s, int *out)
{
	int n = 0, a;

	out[n++] = atomic_load_explicit(&s->fd, memory_order_relaxed);
	for (int i = 0; i < SFY_ASYNC_ALIASES; i++)
		if ((a = atomic_load_explicit(&s->alias[i],
					      memory_order_relaxed)))
			out[n++] = a - 1;
	return n;
}

bool sfy_async_unnumber(struct async_slot *s, int fd)
{
	int a;

	for (int i = 0; i < SFY_ASYNC_ALIASES; i++) {
		a = atomic_load_explicit(&s->alias[i], memory_order_relaxed);
		if (!a)
			continue;
		if (a == fd + 1) {
			atomic_store_explicit(&s->alias[i], 0,
					      memory_order_relaxed);
			sfy_fd_path_unmark(fd);
			return true;
		}
		if (atomic_load_explicit(&s->fd, memory_order_relaxed) == fd) {
			/* the first number goes: a copy takes its place */
			atomic_store_explicit(&s->fd, a - 1,
					      memory_order_relaxed);
			atomic_store_explicit(&s->alias[i], 0,
					      memory_order_relaxed);
			sfy_fd_path_unmark(fd);
			return true;
		}
	}
	return false;
}

void sfy_async_dup(int oldfd, int newfd)
{
	struct async_slot *s;

	sfy_async_forget(newfd); /* a slot of a number closed unseen */
	s = sfy_async_find(oldfd);
	if (!s)
		return;
	/* marked first: a data hook that finds the number in the slot
	 * has looked (state/fdstate.h: marks are not copied by dup) */
	sfy_fd_path_mark(newfd);
	for (int i = 0; i < SFY_ASYNC_ALIASES; i++) {
		int z = 0;

		if (atomic_compare_exchange_strong(&s->alias[i], &z, newfd + 1))
			return;
	}
	sfy_fd_path_unmark(newfd); /* no room: not followed */
}

struct async_slot *sfy_async_find(int fd)
{
	int n = sfy_async_hiwater(), i;

	for (i = 0; i < n; i++) {
		struct async_slot *s = sfy_async_slot(i);
		int st = atomic_load_explicit(&s->st, memory_order_acquire);

		if (st >= SFY_ASYNC_PENDING && sfy_async_has(s, fd))
			return s;
	}
	return NULL;
}

bool sfy_async_lock(struct async_slot *s)
{
	int z = 0;

	return atomic_compare_exchange_strong_explicit(
		&s->busy, &z, 1, memory_order_acquire, memory_order_relaxed);
}

void sfy_async_unlock(struct async_slot *s)
{
	atomic_store_explicit(&s->busy, 0, memory_order_release);
}

/* Chunk c, mapped and published if it was not (NULL: no memory). */
static struct async_slot *chunk(int c)
{
	struct async_slot *p = atomic_load_explicit(&chunks[c],
						    memory_order_acquire);
	struct async_slot *mine, *none = NULL;
	size_t len = sizeof(struct async_slot) * SFY_ASYNC_CHUNK;

	if (p)
		return p;
	/* zero-filled: every slot FREE */
	mine = mmap(NULL, len, PROT_READ | PROT_WRITE,
		    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (mine == MAP_FAILED)
		return NULL;
	if (atomic_compare_exchange_strong_explicit(&chunks[c], &none, mine,
						    memory_order_acq_rel,
						    memory_order_acquire))
		return mine;
	munmap(mine, len); /* another thread published its own */
	return none;
}

struct async_slot *sfy_async_claim(void)
{
	struct async_slot *p = NULL;
	int c, j, i, n;

	for (c = 0; c < NCHUNKS && (p = chunk(c)); c++) {
		for (j = 0; j < SFY_ASYNC_CHUNK; j++) {
			int z = SFY_ASYNC_FREE;

			if (atomic_compare_exchange_strong(&p[j].st, &z,
							   SFY_ASYNC_CLAIMED))
				break;
		}
		if (j < SFY_ASYNC_CHUNK)
			break;
	}
	if (c == NCHUNKS || !p)
		return NULL;
	i = c * SFY_ASYNC_CHUNK + j;
	n = atomic_load(&hiwater);
	while (n <= i && !atomic_compare_exchange_weak(&hiwater, &n, i + 1))
		;
	return &p[j];
}

static void fork_child(void)
{
	int n = sfy_async_hiwater();

	for (int i = 0; i < n; i++)
		atomic_store_explicit(&sfy_async_slot(i)->busy, 0,
				      memory_order_relaxed);
	sfy_epoll_reg_fork_child();
}

void sfy_async_init(void)
{
	pthread_atfork(NULL, NULL, fork_child);
}
