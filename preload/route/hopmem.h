/*
 * The dead-hop memory of the chain modes: which configured hops failed
 * lately and until when they are skipped (back-off), the round-robin
 * cursor and the random source. One small region of shared anonymous
 * memory made by the constructor (init.c), so a fork's children and
 * their parent share it; each word is read and written with single
 * atomic operations, no lock (a fork or a signal at any point leaves it
 * usable). A process that calls before the constructor, or where mmap
 * fails, keeps the same words in its own memory.
 *
 * Hops are named by their index in the configuration. In a session
 * (session.h) sfy_hopmem_session moves each hop's words into the
 * session's region "hops2", in a slot named by the hop itself (type,
 * host, port), so every program of the session, exec'd ones included,
 * shares what any learnt, whatever place the hop has in its own chain.
 * Outside a session, or once the region's 1024 slots are taken, the words
 * are shared with forked children only. The round-robin cursor moves
 * into the session's region "rr", in a slot named by the whole chain, so
 * an exec'd program with the same chain takes the next hop in turn, not
 * the first again; the random source stays per process tree.
 *
 * Back-off: a hop's k-th failure in a row makes it skipped for
 * min(1 s << (k-1), 60 s); a success forgets its failures.
 */
#ifndef SOCKSIFY_PRELOAD_HOPMEM_H
#define SOCKSIFY_PRELOAD_HOPMEM_H

#include <stddef.h>
#include <stdint.h>

#include "route/chainpick.h"

/* Every hop a list holds: the memory is 12 bytes a hop (6 KiB, pages
 * touched only for the hops used). */
#define SFY_HOPMEM_HOPS SOCKS5_CHAIN_MAX
#define SFY_HOPMEM_BACKOFF_MS 1000
#define SFY_HOPMEM_BACKOFF_MAX_MS 60000

/* The constructor's step: the shared region. */
void sfy_hopmem_init(void);

struct socks5_proxy;
/* Once per process, before the first pick (the connect path calls it;
 * cheap after the first: one atomic load): the session's slots for the
 * configured chain[0..nhops). Opens, locks and maps a file the first
 * time, so not from the constructor. */
void sfy_hopmem_session(const struct socks5_proxy *chain, size_t nhops);

/* *dead gets hop i (of nhops) when it failed and its back-off lasts past
 * now_ms (CLOCK_MONOTONIC milliseconds, socks5_now_ms: one clock for
 * every process of the machine); the other hops are not in it. */
void sfy_hopmem_dead(size_t nhops, int64_t now_ms, struct sfy_hopset *dead);
/* Hop failed at now_ms: its back-off starts (or doubles). */
void sfy_hopmem_failed(size_t hop, int64_t now_ms);
/* Hop carried a connection: forget its failures (no write when there
 * were none, so the common case dirties no shared cache line). */
void sfy_hopmem_ok(size_t hop);
/* The back-off after the k-th failure in a row (k >= 1). */
int64_t sfy_hopmem_backoff_ms(uint32_t k);

/* Round-robin: the cursor, and moving it from what was read to next
 * (if another connection moved it meanwhile, that one's move stands). */
size_t sfy_hopmem_cursor(void);
void sfy_hopmem_cursor_move(size_t from, size_t next);

/* A uniform 32-bit value (splitmix64 over a shared counter and a seed
 * from getrandom: a fork's children do not repeat their parent's draws).
 * The argument is unused (chainpick.h's random source). */
uint32_t sfy_hopmem_random(void *unused);

#endif
