/*
 * Fake addresses for remote DNS: a name the proxy must resolve gets an
 * address from SOCKSIFY_FAKE_NET (default 198.18.0.0/15 and an IPv6 ULA
 * range); connect()/sendto() to it send the name to the proxy (ATYP 0x03).
 *
 * One entry serves both families: entry i is fake4 base + i and fake6
 * base + i. The map lives in a MAP_SHARED anonymous mapping made before the
 * program can fork, so parent and children see one map; it is guarded by a
 * process-shared robust mutex. Lookups are O(1) (hash of the name; the
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
 * with -ENOSPC. If the mapping could not be made, every call fails with
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

#endif
