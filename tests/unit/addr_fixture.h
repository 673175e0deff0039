/*
 * Socket addresses from text for the unit tests (test_policy.c,
 * test_route.c). Linked into every unit binary (see the Makefile), hence
 * the afx_ prefix.
 */
#ifndef SOCKSIFY_UNIT_ADDR_FIXTURE_H
#define SOCKSIFY_UNIT_ADDR_FIXTURE_H

#include <sys/socket.h>

/* "a.b.c.d" or an IPv6 address, and a port: a pointer to one static
 * sockaddr_storage, overwritten by the next call. */
const struct sockaddr *afx_addr(const char *ip, int port);

/* The length of that address: sockaddr_in6's when ip has a colon. Known
 * from the text alone, so a call can take afx_addr() and afx_len() as two
 * arguments in either order of evaluation. */
socklen_t afx_len(const char *ip);

#endif
