/*
 * SOCKSIFY_DNAT: destinations rewritten before they are proxied, as
 * proxychains-ng 4.17's `dnat` lines (`socksify -f` writes them here).
 *
 *   SOCKSIFY_DNAT=ORIG[:PORT]=NEW[:PORT][,...]
 *
 * IPv4 addresses only, as there. A rule with a port matches that port of
 * ORIG only and comes before the rules without one (proxychains' "more
 * specific first"); among equals the first given wins. NEW's port, when
 * given, replaces the destination's port; without one the port is kept.
 *
 * Where it applies (decide.c, a stream socket's connect): to a TCP
 * destination that is not bypassed and not a fake address, before the
 * proxy is asked; the rewritten address is then judged again: bypassed →
 * the connection goes direct to the original address (proxychains
 * connects direct with the program's own address then), else through the
 * chain to the new one. A bypassed original address goes direct without
 * looking at the rules. So a rule whose original is in the no-proxy list
 * and whose new address is not would never be used, where proxychains
 * (which rewrites first) proxies to the new address: such a rule is a
 * configuration error, SOCKSIFY_DNAT's set by hand (sfy_dnat_check, the
 * configuration fails closed) and `-f`'s (refused naming its line) alike.
 * UDP is never rewritten (proxychains carries no UDP).
 *
 * Pure: parsing at configuration time, matching async-signal-safe.
 */
#ifndef SOCKSIFY_PRELOAD_DNAT_H
#define SOCKSIFY_PRELOAD_DNAT_H

#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SFY_DNAT_MAX 64 /* proxychains' MAX_DNAT */

struct sfy_dnat_rule {
	in_addr_t orig, to;     /* network order */
	in_port_t orig_port;    /* network order; 0: any */
	in_port_t to_port;      /* network order; 0: keep */
};

struct sfy_dnat {
	int n;
	struct sfy_dnat_rule rule[SFY_DNAT_MAX];
};

/* Parses list into d (all zeroes). 0, or -EINVAL / -ENOSPC with what is
 * wrong in bad. */
int sfy_dnat_parse(struct sfy_dnat *d, const char *list, char *bad,
		   size_t badcap);

/* Rewrites *in (address and maybe port) by the first matching rule;
 * whether one matched. */
bool sfy_dnat_apply(const struct sfy_dnat *d, struct sockaddr_in *in);

struct sfy_bypass;

/* 0, or -EINVAL with the first rule of d that b makes dead in bad: its
 * original in an entry of b (at its port, or at some port for a rule
 * without one) and its new address not in an entry of b for every port.
 * The test tools/proxychains_dnat.c makes of `-f`'s localnet lines. */
int sfy_dnat_check(const struct sfy_dnat *d, const struct sfy_bypass *b,
		   char *bad, size_t badcap);

#endif
