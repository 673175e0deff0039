/*
 * The NO_PROXY-style list (SOCKSIFY_NO_PROXY, NO_PROXY, no_proxy, -n):
 * parsing it into struct sfy_bypass, and the default list. Matching is
 * policy.c's; config.c picks the variable and reports problems.
 *
 * Items, comma or space separated: an address or CIDR range ("10.0.0.0/8",
 * "::1", "[2001:db8::]/32"), a host name (stored lowercase without a
 * leading "." or "*." and without a trailing "."; as in curl it covers
 * itself and every name under it), or "*" (everything). An address or
 * range may name one port, as proxychains' localnet does: "10.0.0.1:80",
 * "10.0.0.0:80/8", "[::1]:80", "[2001:db8::]:443/32" (only that port of
 * the range goes direct). A localhost name
 * on the list adds 127.0.0.1 and ::1 (see bypasslist.c).
 */
#ifndef SOCKSIFY_PRELOAD_BYPASSLIST_H
#define SOCKSIFY_PRELOAD_BYPASSLIST_H

#include <stddef.h>

#include "base/config.h"

/* Loopback, plus the unspecified addresses, which connect() treats as
 * "this host" too; the text is what sfy_bypass_default() fills in
 * (test_config checks that they agree). */
#define SFY_DEFAULT_BYPASS "127.0.0.0/8,::1,localhost,0.0.0.0,::"

/* b (all zeroes) gets the default list, already parsed: most programs
 * start without the variables, and parsing would map inet_pton's pages
 * into every one. */
void sfy_bypass_default(struct sfy_bypass *b);

/* Parses list into b (all zeroes). 0, or -EINVAL / -ENOSPC with what is
 * wrong written into bad; b is then partly filled (the caller clears it:
 * nothing goes direct by accident). */
int sfy_bypass_parse(struct sfy_bypass *b, const char *list, char *bad,
		     size_t badcap);

#endif
