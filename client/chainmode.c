/*
 * SOCKSIFY_CHAIN and SOCKSIFY_CHAIN_LEN (socks5_chainmode.h).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <strings.h>

#include "socks5_chainmode.h"

static const char *const names[4] = { "strict", "dynamic", "random",
				      "round-robin" };

const char *socks5_chain_mode_name(int mode)
{
	return mode >= 0 && mode < 4 ? names[mode] : names[0];
}

int socks5_chain_mode_parse(const char *mode, const char *len, size_t nhops,
			    int *mode_out, size_t *len_out, const char **var,
			    char *why, size_t whycap)
{
	char *end;
	long n;
	int i;

	*mode_out = SOCKS5_CHAIN_STRICT;
	*len_out = nhops;
	if (mode && *mode) {
		for (i = 0; i < 4 && strcasecmp(mode, names[i]); i++)
			;
		if (i == 4) {
			*var = "SOCKSIFY_CHAIN";
			snprintf(why, whycap, "'%s' is not strict, dynamic, random or round-robin",
				 mode);
			return -1;
		}
		*mode_out = i;
	}
	if (*mode_out != SOCKS5_CHAIN_RANDOM &&
	    *mode_out != SOCKS5_CHAIN_ROUND_ROBIN) {
		if (len && *len) {
			*var = "SOCKSIFY_CHAIN_LEN";
			snprintf(why, whycap, "'%s' is given, but only SOCKSIFY_CHAIN=random or round-robin takes a length (a strict or dynamic chain is every hop)",
				 len);
			return -1;
		}
		return 0;
	}
	*len_out = 1;
	if (!len || !*len)
		return 0;
	errno = 0;
	n = strtol(len, &end, 10);
	if (len[0] < '0' || len[0] > '9' || *end || errno || n < 1 ||
	    (size_t)n > nhops) {
		*var = "SOCKSIFY_CHAIN_LEN";
		snprintf(why, whycap, "'%s' is not a number of hops in 1..%zu (the proxies configured)",
			 len, nhops);
		return -1;
	}
	*len_out = (size_t)n;
	return 0;
}
