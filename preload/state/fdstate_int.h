/*
 * Inside the per-descriptor table (fdstate.c, fdpath.c): the slot layout
 * and its lookup. Nothing else includes this.
 */
#ifndef SOCKSIFY_PRELOAD_FDSTATE_INT_H
#define SOCKSIFY_PRELOAD_FDSTATE_INT_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "state/fdstate.h"

#define CHUNK_SHIFT 10
#define CHUNK_SLOTS (1u << CHUNK_SHIFT)
#define NCHUNKS 4096u /* 4M descriptors, beyond any fs.nr_open default */

struct record {
	struct sfy_fd_info info;
	uint64_t dev, ino;
};

#define RECORD_WORDS ((sizeof(struct record) + 7) / 8)

/* seq even: copy (seq / 2) % 2 is current; odd: a writer fills the other
 * one. kind mirrors the current copy's kind. */
struct slot {
	atomic_uint seq;
	atomic_int kind;
	/* The data path's one check (sfy_fd_plain_io): PATH_DGRAM while
	 * the record is UDP or DNS53, plus PATH_MARK for each
	 * sfy_fd_path_mark not yet undone. */
	atomic_uint path;
	_Atomic uint64_t words[2][RECORD_WORDS];
};

/* The data path word (fdpath.c). */
#define PATH_DGRAM 1u
#define PATH_MARK 2u

/* fd's slot, its chunk mapped first when create; NULL beyond the table
 * or without memory. */
struct slot *sfy_fd_slot_of(int fd, bool create);

static inline bool sfy_fd_dgram_kind(int kind)
{
	return kind == SFY_FD_UDP || kind == SFY_FD_DNS53;
}

/* Under the slot's writer lock, with the kind being stored: PATH_DGRAM
 * follows it. */
void sfy_fd_path_kind(struct slot *s, int kind);

#endif
