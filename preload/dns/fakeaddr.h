/*
 * Address arithmetic of the fake-IP map: ranges, names, and entry index
 * <-> address (entry i is the range's base + i). Pure functions.
 */
#ifndef SOCKSIFY_PRELOAD_FAKEADDR_H
#define SOCKSIFY_PRELOAD_FAKEADDR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "route/cidr.h"

#define SFY_FAKE_NAME_MAX 255

/* Usable entries in a range (v4 without network and broadcast, v6
 * without the network address); UINT64_MAX for 32 host bits or more. */
uint64_t sfy_fake_range_usable(const struct sfy_cidr *c);
/* c is a CIDR of that family with a valid prefix. */
bool sfy_fake_cidr_valid(const struct sfy_cidr *c, int family);
/* FNV-1a of the (normalised) name. */
uint32_t sfy_fake_hash(const char *s, size_t len);
/* Lowercase, without one trailing dot, into out (SFY_FAKE_NAME_MAX + 1
 * bytes); -EINVAL for an unusable name. */
int sfy_fake_normalise(const char *name, size_t len, char *out,
		       size_t *outlen);
/* The address of entry idx in range c (host bits of c clear). */
void sfy_fake_index_to_addr(uint32_t idx, const struct sfy_cidr *c,
			    uint8_t *out);
/* The entry index behind sa (maybe 0 or past any cap), or -EINVAL when sa
 * is in neither range (either may be NULL: unused). */
int64_t sfy_fake_addr_to_index(const struct sockaddr *sa,
			       const struct sfy_cidr *v4,
			       const struct sfy_cidr *v6);

#endif
