/*
 * Fake addresses for remote DNS: a name the proxy must resolve gets an
 * address from SOCKSIFY_FAKE_NET (default 198.18.0.0/15 and an IPv6 ULA
 * range); connect()/sendto() to it send the name to the proxy (ATYP 0x03).
 *
 * One entry serves both families: entry i is fake4 base + i and fake6
 * base + i. In a session (state/session.h) the map is the session's file
 * "names", mapped MAP_SHARED at the first lookup by every process of the
 * session, however started; the file's header is set up once under flock,
 * its magic word written last, so a process killed there is redone by the
 * next. Without a session it is a MAP_SHARED anonymous mapping made before
 * the program can fork (shared with fork children only). A map starts at a
 * random entry, so an address from another session (or another program
 * image outside any session) is most likely unknown, never silently
 * another name's. Lookups take no lock (fakemap.h: per-entry sequence
 * words); only adding a name takes the map's process-shared robust mutex,
 * and a writer SIGKILLed mid-update leaves the lock to the next process,
 * which repairs the table. Lookups are O(1) (hash of the name; the
 * address is the index). Names are matched case-insensitively and without
 * a trailing dot.
 *
 * Capacity: min(usable addresses of each range, 131072); with the default
 * 198.18.0.0/15 that is 131070 names (the network and broadcast addresses
 * are never handed out).
 *
 * When full, the oldest entry is reused (round robin, FIFO by assignment
 * time, not by use): the name assigned longest ago loses its addresses to
 * the new name. Connections already made are unaffected (the name was
 * resolved at connect time); a program that kept that old address for
 * later would now reach the newer name. Assignment therefore never fails
 * with -ENOSPC; the reuse is the documented limit of the promise that an
 * address reaches only its own name. If the mapping could not be made, every call fails with
 * -ENOMEM and the hooks fail closed (never the local resolver).
 */
#ifndef SOCKSIFY_PRELOAD_FAKEIP_H
#define SOCKSIFY_PRELOAD_FAKEIP_H

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

struct sfy_cidr;

/* Sets up the shared map (cheap: address space only). Idempotent. */
int sfy_fakeip_init(void);

/* The fake addresses for name (len bytes, 1..255), assigning one if new.
 * Either output may be NULL. Returns 0 or -errno. */
int sfy_fakeip_for_name(const char *name, size_t len, struct in_addr *v4,
			struct in6_addr *v6);

/* The IPv4 range for the hottest test, in one word written by setup and
 * never after (the unit tests' re-setups aside): the mask (host order) in
 * the high half, the network (host order, host bits clear) in the low
 * half; 0 until set up and while there is no IPv4 range (and for
 * 0.0.0.0/0, which then takes the slow path). One relaxed load: the word
 * alone says all the fast path needs. */
extern _Atomic uint64_t sfy_fake4_word __attribute__((visibility("hidden")));

/* The whole test (init on first use, AF_INET6, IPv4-mapped, no IPv4 range). */
bool sfy_fakeip_in_range_slow(const struct sockaddr *sa);

/* True when sa (AF_INET, AF_INET6, or IPv4-mapped IPv6) is in a fake range.
 * On every connect() and sendto(): an AF_INET address, once set up, costs
 * a load, an xor and an and (was a call, a readiness load and two flags). */
static inline bool sfy_fakeip_in_range(const struct sockaddr *sa)
{
	uint64_t w = atomic_load_explicit(&sfy_fake4_word, memory_order_relaxed);

	if (__builtin_expect(w != 0 && sa && sa->sa_family == AF_INET, 1))
		return ((ntohl(((const struct sockaddr_in *)sa)->sin_addr.s_addr) ^
			 (uint32_t)w) &
			(uint32_t)(w >> 32)) == 0;
	return sfy_fakeip_in_range_slow(sa);
}

/* The name behind a fake address: 0 and name filled (NUL-terminated);
 * -EINVAL when sa is not in a fake range; -ENOENT when no name is known. */
int sfy_fakeip_name(const struct sockaddr *sa, char *name, size_t cap);

/* For unit tests: replaces the map by a fresh, empty one over the given
 * ranges (either may be NULL or family 0: unused), capacity 0 meaning the
 * default. Not thread-safe; sfy_fakeip_init() keeps these ranges after. */
int sfy_fakeip_init_ranges(const struct sfy_cidr *v4, const struct sfy_cidr *v6,
			   size_t capacity);

/* As sfy_fakeip_init_ranges, with session true: the session's map
 * (state/session.h) when this process belongs to one. */
int sfy_fakeip_init_test(const struct sfy_cidr *v4, const struct sfy_cidr *v6,
			 size_t capacity, bool session);

/* For unit tests: takes the map's writer lock (attaching first) and never
 * gives it back, as a writer stopped or killed mid-update. 0 or -errno. */
int sfy_fakeip_hold_lock_test(void);

#endif
