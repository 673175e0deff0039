/*
 * Helpers for the fake-IP map's unit tests (test_fakeip.c,
 * test_fakeip_session.c). Linked into every unit binary (see the
 * Makefile), hence the ffx_ prefix.
 */
#ifndef SOCKSIFY_UNIT_FAKEIP_FIXTURE_H
#define SOCKSIFY_UNIT_FAKEIP_FIXTURE_H

#include <netinet/in.h>
#include <stddef.h>

#include "base/config.h"

/* c set to family, addr (text) and prefix; fails the test on bad text. */
void ffx_cidr(struct sfy_cidr *c, int family, const char *addr, int prefix);

/* sfy_fakeip_for_name() of a NUL-terminated name. */
int ffx_assign(const char *name, struct in_addr *v4, struct in6_addr *v6);

/* The name behind a v4 fake, as sfy_fakeip_name() reports it. */
int ffx_name4(struct in_addr a, char *name, size_t cap);

/* Three writers SIGKILLed at random points of their updates, each after
 * remap() (NULL: the map inherited by fork): the others go on and names
 * added afterwards map both ways. */
void ffx_killed_writers(void (*remap)(void));

/* Name number i that carries its own check (a tag, i, and a filler whose
 * letter and length follow from i), into buf (256 bytes); 1..250 bytes. */
void ffx_selfname(char *buf, unsigned tag, unsigned i);

/* True when s is a whole ffx_selfname() (a torn read is not). */
int ffx_selfname_ok(const char *s);

#endif
