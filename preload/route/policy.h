/*
 * Policy: does a destination go through the proxy or direct?
 * Direct: bypass list matches (SOCKSIFY_NO_PROXY / NO_PROXY / loopback
 * default), an address this process's resolver gave for a bypassed name
 * (bypassmap.h), or the destination is a configured proxy's own address.
 * Everything else is proxied. Reads the frozen configuration and the
 * lock-free bypassed-address table: async-signal-safe.
 */
#ifndef SOCKSIFY_PRELOAD_POLICY_H
#define SOCKSIFY_PRELOAD_POLICY_H

#include <stdbool.h>
#include <sys/socket.h>

#include "base/config.h"
#include "route/cidr.h"

/* True when the address must go direct (IPv4-mapped IPv6 is matched as
 * IPv4). Fake addresses are never direct: the caller resolves them first. */
bool sfy_policy_direct_addr(const struct sockaddr *sa);
/* The rules alone, for a caller that knows sa is not a fake address (the
 * routing decision, decide.h, asks fakeip.c once itself). */
bool sfy_policy_bypassed(const struct sockaddr *sa);
/* True when a host name matches the bypass list, by curl's rules: an entry
 * matches the name and every name under it ("example.com" and
 * ".example.com" both cover www.example.com), case-insensitively, with a
 * trailing dot of the name ignored; "*" matches everything; a numeric name
 * (also "[v6]") is matched as an address. */
bool sfy_policy_direct_name(const char *name);

#endif
