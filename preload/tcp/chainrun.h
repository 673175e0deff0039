/*
 * One proxied connect() in a chain mode (route/chainpick.h): the hops of
 * each attempt, failover to other hops within SOCKSIFY_TIMEOUT_MS, and
 * the dead-hop memory (route/hopmem.h) told of what happened. The
 * attempt itself (dial the first hop, run the handshake) is the
 * caller's, through a callback, so this file knows nothing of sockets.
 */
#ifndef SOCKSIFY_PRELOAD_CHAINRUN_H
#define SOCKSIFY_PRELOAD_CHAINRUN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/config.h"
#include "socks5.h"

struct sfy_attempt {
	/* the hops of this attempt: chain[pick[i]], i < nhops (pick NULL:
	 * chain[i]); chain is cfg->chain, never a copy (a list may hold
	 * SOCKS5_CHAIN_MAX proxies, too many to copy on a stack) */
	const struct socks5_proxy *chain;
	const uint16_t *pick;
	size_t nhops;
	size_t first;          /* configured index of hop 0 (its address) */
	bool as_configured;    /* every configured hop in order (no pick) */
	unsigned n;            /* 0 for the first attempt of the connect */
	int64_t deadline;      /* this attempt's share of the time */
	/* set by the attempt: */
	bool reached;          /* the first hop was connected to */
	bool final;            /* the program's socket refused: no failover */
	struct socks5_failure why; /* the handshake's failure, once reached */
};

/* 0 or -errno. */
typedef int (*sfy_attempt_fn)(void *arg, struct sfy_attempt *a);

/* Hop i of the attempt. */
static inline const struct socks5_proxy *sfy_attempt_hop(
	const struct sfy_attempt *a, size_t i)
{
	return &a->chain[a->pick ? a->pick[i] : i];
}

/*
 * Runs attempts until one succeeds, a failure blames no hop (the
 * destination's answer), no hops are left, or the time is up. Strict:
 * one attempt over the configured chain, the whole time. Otherwise each
 * attempt gets an equal share of the time left among the attempts the
 * live hops can still make (sfy_chain_attempts_left): a hop that stalls
 * costs its share, never the whole budget, and the last attempt gets
 * everything that is left. Hops remembered dead are skipped while their
 * back-off lasts; when that leaves too few, they are tried again (only
 * this connect's own failures are never retried). Returns the last
 * attempt's result.
 */
int sfy_chain_connect(const struct sfy_config *cfg, const char *dstname,
		      sfy_attempt_fn fn, void *arg);

#endif
