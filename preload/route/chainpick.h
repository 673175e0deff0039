/*
 * Which configured hops one attempt of one connection goes through, as
 * proxychains-ng's four chain modes define it (src/proxychains.conf,
 * src/core.c), and which hop a failed attempt blames. Pure: no clock, no
 * shared memory, no I/O; the caller hands in what it knows (the dead-hop
 * memory as a set of hops, a random source, the round-robin cursor), so every
 * rule is unit-tested (tests/unit/test_chainpick.c).
 *
 *   strict       every hop, in order; a dead hop fails the connection.
 *   dynamic      every hop not dead, in order; at least one.
 *   random       len distinct hops not dead, each drawn at random.
 *   round-robin  len hops not dead, in order, from the cursor on,
 *                wrapping; the next chain starts after this one's last.
 */
#ifndef SOCKSIFY_PRELOAD_CHAINPICK_H
#define SOCKSIFY_PRELOAD_CHAINPICK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "socks5.h"

/* A set of configured hops (bit i: hop i), as many as a list holds
 * (SOCKS5_CHAIN_MAX, 512: 64 bytes). */
#define SFY_HOPSET_WORDS ((SOCKS5_CHAIN_MAX + 63) / 64)
struct sfy_hopset {
	uint64_t w[SFY_HOPSET_WORDS];
};

static inline bool sfy_hopset_has(const struct sfy_hopset *s, size_t i)
{
	return i < SOCKS5_CHAIN_MAX && (s->w[i / 64] >> (i % 64) & 1u);
}

static inline void sfy_hopset_add(struct sfy_hopset *s, size_t i)
{
	if (i < SOCKS5_CHAIN_MAX)
		s->w[i / 64] |= (uint64_t)1 << (i % 64);
}

static inline size_t sfy_hopset_count(const struct sfy_hopset *s)
{
	size_t i, n = 0;

	for (i = 0; i < SFY_HOPSET_WORDS; i++)
		n += (size_t)__builtin_popcountll(s->w[i]);
	return n;
}

/* *a |= *b. */
static inline void sfy_hopset_join(struct sfy_hopset *a,
				   const struct sfy_hopset *b)
{
	size_t i;

	for (i = 0; i < SFY_HOPSET_WORDS; i++)
		a->w[i] |= b->w[i];
}

enum sfy_chain_mode { SFY_CHAIN_STRICT, SFY_CHAIN_DYNAMIC, SFY_CHAIN_RANDOM,
		      SFY_CHAIN_ROUND_ROBIN };

/* The mode's name as SOCKSIFY_CHAIN spells it; never NULL. */
const char *sfy_chain_mode_name(enum sfy_chain_mode m);

struct sfy_chain_pick_in {
	enum sfy_chain_mode mode;
	size_t nhops;      /* configured hops, 1..SOCKS5_CHAIN_MAX */
	size_t len;        /* random and round-robin: hops per chain */
	struct sfy_hopset dead; /* hop i is not to be used now */
	/* random: a uniform 32-bit value per call */
	uint32_t (*rnd)(void *arg);
	void *rnd_arg;
	size_t cursor;     /* round-robin: where the search starts */
};

/* Fills idx[] (room for nhops) with the hops of one attempt, first hop
 * first, and returns how many; *next_cursor (round-robin: after the last
 * hop taken) may be NULL. Returns 0 when too few hops are left alive
 * (strict: any dead hop; dynamic: none alive; random/round-robin: fewer
 * than len). */
size_t sfy_chain_pick(const struct sfy_chain_pick_in *in, uint16_t *idx,
		      size_t *next_cursor);

/* How many attempts the hops not in dead can still make (at least 1):
 * strict 1; dynamic the hops alive; random and round-robin the hops
 * alive less len-1. The connect path gives each attempt an equal share
 * of the time that is left. */
size_t sfy_chain_attempts_left(const struct sfy_chain_pick_in *in);

/*
 * The configured hop a failed attempt blames, or -1 for none (the
 * destination's answer). n hops were picked (idx); the handshake failed
 * at picked hop fail_hop (-1: the first hop was not reached) in state
 * (enum socks5_hs_state's value); answer: the failure is that hop's
 * answer about where it was asked to go (a reply code, a refusing HTTP
 * status, or no reply before the deadline), not the hop itself failing
 * (closed, reset, malformed, credentials refused).
 *   - not reached, or failed in its own negotiation: that hop;
 *   - its request failed without an answer: that hop;
 *   - its answer about the next hop: the next hop;
 *   - the last hop's answer about the destination: none (failing over
 *     would only ask another proxy the same question).
 */
int sfy_chain_blame(const uint16_t *idx, size_t n, int fail_hop, int state,
		    bool answer);

#endif
