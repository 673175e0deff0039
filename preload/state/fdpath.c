/*
 * The data path's one check (fdstate.h, sfy_fd_plain_io): a word per
 * slot beside its kind, PATH_DGRAM while the record is UDP or DNS53 (kept
 * by fdstate.c's writers) plus PATH_MARK for each sfy_fd_path_mark not
 * yet undone by sfy_fd_path_unmark (tcp/async.c for a handshake in
 * progress, tcp/gss_stream.c for a protected stream). Counted, not a
 * bit, so two modules on one descriptor, or the unmark of a closed
 * socket racing the mark of the next one to get its number, leave it
 * marked. Lock-free, no system call but the chunk's first mmap.
 */
#include <stdatomic.h>
#include <stdbool.h>

#include "state/fdstate.h"
#include "state/fdstate_int.h"

/* A mark that found no slot (descriptor beyond the table, no memory for
 * its chunk): from then on every descriptor without a slot is taken as
 * marked (sfy_fd_path_slow). */
static atomic_bool path_all;

/* PATH_DGRAM follows the record's kind (under the slot's writer lock;
 * an atomic read-modify-write, as marks change the same word). */
void sfy_fd_path_kind(struct slot *s, int kind)
{
	if (sfy_fd_dgram_kind(kind))
		atomic_fetch_or_explicit(&s->path, PATH_DGRAM,
					 memory_order_relaxed);
	else if (atomic_load_explicit(&s->path, memory_order_relaxed) &
		 PATH_DGRAM)
		atomic_fetch_and_explicit(&s->path, ~PATH_DGRAM,
					  memory_order_relaxed);
}

void sfy_fd_path_mark(int fd)
{
	struct slot *s = sfy_fd_slot_of(fd, true);

	if (s)
		atomic_fetch_add_explicit(&s->path, PATH_MARK,
					  memory_order_relaxed);
	else
		atomic_store(&path_all, true);
	/* After the mark: a hook that sees the gate open finds it. */
	atomic_store(&sfy_fd_udp_seen, true);
}

void sfy_fd_path_unmark(int fd)
{
	struct slot *s = sfy_fd_slot_of(fd, false);
	unsigned int v;

	if (!s)
		return; /* its mark went to path_all, which stays */
	v = atomic_load_explicit(&s->path, memory_order_relaxed);
	/* Never below zero: a mark that went to path_all before this
	 * slot's chunk existed has nothing here to undo. */
	while (v >= PATH_MARK &&
	       !atomic_compare_exchange_weak_explicit(&s->path, &v, v - PATH_MARK,
						      memory_order_relaxed,
						      memory_order_relaxed))
		;
}

bool sfy_fd_path_slow(int fd)
{
	struct slot *s = sfy_fd_slot_of(fd, false);

	if (!s)
		return atomic_load_explicit(&path_all, memory_order_relaxed);
	return atomic_load_explicit(&s->path, memory_order_relaxed) != 0;
}
