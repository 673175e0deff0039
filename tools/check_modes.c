/*
 * socksify --check in a chain mode other than strict (check.h): each hop
 * reached and negotiated alone, so the report says which hops are dead,
 * then the hops a program would use now kept at the front of the probe's
 * list (moved within it: a list may hold SOCKS5_CHAIN_MAX hops, too many
 * to copy on a stack).
 */
#include <stdio.h>
#include <string.h>

#include "check.h"
#include "socks5_chainmode.h"
#include "tool.h"

/*
 * A chain mode other than strict: each hop alone (reach, method, auth),
 * then pr keeps the hops a program would use now. Returns how many hops
 * are dead, or -1 when too few are alive for a chain (said).
 */
int sfy_check_hops_alone(struct sfy_probe *pr)
{
	static struct sfy_probe one; /* one hop alone, in these: */
	static struct socks5_proxy one_hop;
	static size_t one_label;
	size_t i, n = 0, dead = 0, need;
	bool alive[SOCKS5_CHAIN_MAX];

	printf("chain mode %s: each hop alone first (programs skip a dead one)\n",
	       socks5_chain_mode_name(pr->chain_mode));
	for (i = 0; i < pr->nhops; i++) {
		memset(&one, 0, sizeof(one));
		one.hops = &one_hop;
		one.label = &one_label;
		one.io = pr->io;
		one.hops[0] = pr->hops[i];
		one.nhops = 1;
		one.label[0] = i;
		one.timeout_ms = pr->timeout_ms;
		one.udp_mode = pr->udp_mode;
		alive[i] = sfy_check_tcp(&one);
		socks5_proxy_wipe(&one.hops[0]);
		if (!alive[i]) {
			dead++;
			printf("  DEAD  hop %zu: programs skip it (failed at %s)\n",
			       i + 1, one.failed_step ? one.failed_step : "?");
		}
	}
	need = pr->chain_mode == SFY_CHAIN_DYNAMIC ? 1 : pr->chain_len;
	/* The hops kept move to the front, in order (n <= i). */
	for (i = 0; i < pr->nhops; i++) {
		if (alive[i] && (pr->chain_mode == SFY_CHAIN_DYNAMIC || n < need)) {
			if (n != i)
				pr->hops[n] = pr->hops[i];
			pr->label[n++] = i;
		}
	}
	for (i = n; i < pr->nhops; i++)
		socks5_proxy_wipe(&pr->hops[i]);
	if (n < need) {
		printf("result: FAILED: %zu of %zu hops answer, a %s chain needs %zu: programs' connections fail (exit status %d)\n",
		       n, pr->nhops, socks5_chain_mode_name(pr->chain_mode), need,
		       SFY_CHECK_FAILED);
		for (i = 0; i < n; i++)
			socks5_proxy_wipe(&pr->hops[i]);
		pr->nhops = 0;
		return -1;
	}
	pr->nhops = n;
	printf("the chain a program would use now (%s%s):",
	       socks5_chain_mode_name(pr->chain_mode),
	       pr->chain_mode == SFY_CHAIN_DYNAMIC ? "" :
	       ", one of the chains it picks");
	for (i = 0; i < n; i++)
		printf(" hop %zu", pr->label[i] + 1);
	putchar('\n');
	return (int)dead;
}
