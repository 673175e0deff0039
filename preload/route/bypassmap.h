/*
 * The addresses this process was handed for bypassed host names.
 *
 * SOCKSIFY_NO_PROXY lists names, but connect() and sendto() see only an
 * address. When the real resolver answers a name on the bypass list, its
 * addresses are remembered here, and the policy sends them direct (TCP
 * and UDP alike). When it answers a name that is not on the list with an
 * address remembered here, the address is forgotten: the name resolved
 * last decides, because a program connects to what it just resolved, and
 * where two names share an address the safe answer is the proxy.
 *
 * Bounded: SFY_BYPASSMAP_SLOTS addresses in a 4-way set-associative table
 * (an address can sit in one of 4 places chosen by its hash). When all 4
 * are taken, the oldest of them is replaced; the address it held goes
 * through the proxy again until its name is resolved again. Nothing is
 * allocated; the table is private to the process (a fork child starts
 * with a copy, exec with an empty one).
 *
 * Readers (connect, sendto, the UDP reply filter) take no lock and never
 * wait: each slot is a sequence-counted record, and a slot that is being
 * written, or changes while read, counts as "not remembered" (the proxy)
 * after a few tries. Async-signal-safe. Writers (the resolver hooks)
 * serialise on one lock word holding the writer's pid, so that a fork
 * child that inherited it mid-write takes it over and repairs the slot.
 */
#ifndef SOCKSIFY_PRELOAD_BYPASSMAP_H
#define SOCKSIFY_PRELOAD_BYPASSMAP_H

#include <stdbool.h>
#include <sys/socket.h>

#define SFY_BYPASSMAP_WAYS 4
#define SFY_BYPASSMAP_SETS 128
#define SFY_BYPASSMAP_SLOTS (SFY_BYPASSMAP_WAYS * SFY_BYPASSMAP_SETS)

/* Remember / forget one address (sockaddr_in or sockaddr_in6; an
 * IPv4-mapped IPv6 address is its IPv4 address; port and scope are not
 * part of it). Other families are ignored. */
void sfy_bypassmap_add(const struct sockaddr *sa);
void sfy_bypassmap_forget(const struct sockaddr *sa);
/* True when sa's address is remembered. sa is a complete sockaddr_in or
 * sockaddr_in6 (the caller checked its length). */
bool sfy_bypassmap_has(const struct sockaddr *sa);
/* For tests: forget everything (not for use with concurrent readers). */
void sfy_bypassmap_clear(void);

#endif
