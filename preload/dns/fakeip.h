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

#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>
#include <sys/socket.h>

struct sfy_cidr;

/* Sets up the shared map (cheap: address space only). Idempotent. */
int sfy_fakeip_init(void);

/* The fake addresses for name (len bytes, 1..255), assigning one if new.
 * Either output may be NULL. Returns 0 or -errno. */
int sfy_fakeip_for_name(const char *name, size_t len, struct in_addr *v4,
			struct in6_addr *v6);

/* True when sa (AF_INET, AF_INET6, or IPv4-mapped IPv6) is in a fake range. */
bool sfy_fakeip_in_range(const struct sockaddr *sa);

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
