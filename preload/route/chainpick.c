/*
 * The chain modes' hop selection (chainpick.h). proxychains-ng's rules,
 * with two differences that its own text allows: random draws uniformly
 * among the hops still free instead of retrying rand() % n until one is,
 * and round-robin's cursor is handed in and out rather than a global, so
 * the caller can share it between processes.
 */
#include "route/chainpick.h"

#include "socks5.h"

const char *sfy_chain_mode_name(enum sfy_chain_mode m)
{
	switch (m) {
	case SFY_CHAIN_DYNAMIC:
		return "dynamic";
	case SFY_CHAIN_RANDOM:
		return "random";
	case SFY_CHAIN_ROUND_ROBIN:
		return "round-robin";
	case SFY_CHAIN_STRICT:
	default:
		return "strict";
	}
}

static bool is_dead(const struct sfy_chain_pick_in *in, size_t i)
{
	return sfy_hopset_has(&in->dead, i);
}

static size_t alive(const struct sfy_chain_pick_in *in)
{
	size_t i, n = 0;

	for (i = 0; i < in->nhops; i++)
		n += !is_dead(in, i);
	return n;
}

static size_t pick_random(const struct sfy_chain_pick_in *in, uint16_t *idx)
{
	struct sfy_hopset used = in->dead;
	size_t k, i, free_hops = alive(in), r;

	if (!in->rnd || in->len == 0 || free_hops < in->len)
		return 0;
	for (k = 0; k < in->len; k++, free_hops--) {
		r = in->rnd(in->rnd_arg) % free_hops;
		for (i = 0; i < in->nhops; i++) {
			if (sfy_hopset_has(&used, i))
				continue;
			if (r-- == 0)
				break;
		}
		idx[k] = (uint16_t)i;
		sfy_hopset_add(&used, i);
	}
	return k;
}

static size_t pick_round_robin(const struct sfy_chain_pick_in *in,
			       uint16_t *idx, size_t *next_cursor)
{
	size_t k = 0, step, i = 0;

	if (in->len == 0 || alive(in) < in->len)
		return 0;
	for (step = 0; step < in->nhops && k < in->len; step++) {
		i = (in->cursor + step) % in->nhops;
		if (!is_dead(in, i))
			idx[k++] = (uint16_t)i;
	}
	if (next_cursor)
		*next_cursor = (i + 1) % in->nhops;
	return k;
}

size_t sfy_chain_pick(const struct sfy_chain_pick_in *in, uint16_t *idx,
		      size_t *next_cursor)
{
	size_t i, k = 0;

	if (!in || in->nhops == 0 || in->nhops > SOCKS5_CHAIN_MAX)
		return 0;
	switch (in->mode) {
	case SFY_CHAIN_RANDOM:
		return pick_random(in, idx);
	case SFY_CHAIN_ROUND_ROBIN:
		return pick_round_robin(in, idx, next_cursor);
	case SFY_CHAIN_DYNAMIC:
		for (i = 0; i < in->nhops; i++)
			if (!is_dead(in, i))
				idx[k++] = (uint16_t)i;
		return k;
	case SFY_CHAIN_STRICT:
	default:
		if (alive(in) < in->nhops)
			return 0;
		for (i = 0; i < in->nhops; i++)
			idx[i] = (uint16_t)i;
		return in->nhops;
	}
}

size_t sfy_chain_attempts_left(const struct sfy_chain_pick_in *in)
{
	size_t n = alive(in);

	switch (in->mode) {
	case SFY_CHAIN_DYNAMIC:
		return n ? n : 1;
	case SFY_CHAIN_RANDOM:
	case SFY_CHAIN_ROUND_ROBIN:
		return n > in->len ? n - in->len + 1 : 1;
	case SFY_CHAIN_STRICT:
	default:
		return 1;
	}
}

int sfy_chain_blame(const uint16_t *idx, size_t n, int fail_hop, int state,
		    bool answer)
{
	size_t h;

	if (n == 0)
		return -1;
	if (fail_hop < 0)
		return (int)idx[0];
	h = (size_t)fail_hop;
	if (h >= n)
		return -1;
	if (state != SOCKS5_HS_REQUEST_SEND && state != SOCKS5_HS_REPLY_RECV)
		return (int)idx[h];
	if (!answer)
		return (int)idx[h];
	return h + 1 < n ? (int)idx[h + 1] : -1;
}
