/*
 * Reading a proxychains-ng configuration (proxychains.conf) for
 * `socksify -f FILE`, so that people moving from proxychains keep their
 * file. What socksify can honour is translated into its own settings;
 * what it cannot is an error naming the file, the line and the reason,
 * never silently dropped (a dropped localnet or dnat line would change
 * where traffic goes).
 *
 *   strict_chain            the [ProxyList] in order (socksify's only mode)
 *   dynamic_chain           the same, with a warning: socksify has no
 *                           fail-over, so a dead proxy fails the connection
 *                           (fail closed) instead of being skipped; an
 *                           error when strict is asked for
 *   random_chain, round_robin_chain  → error
 *   chain_len               ignored, as proxychains does outside random and
 *                           round-robin chains (a warning when it is not
 *                           the list's length)
 *   proxy_dns (and _old, _daemon)  remote DNS (socks5h://)
 *   remote_dns_subnet N     fake IPv4 range N.0.0.0/8
 *   tcp_read_time_out, tcp_connect_time_out  their sum is the timeout
 *   localnet ADDR/MASK      a no-proxy range; with a port → error
 *   quiet_mode              log errors only
 *   dnat                    → error
 *   [ProxyList] socks5 HOST PORT [USER PASS]; http, socks4, raw → error
 *
 * Pure: the parser works on a buffer and allocates only its results.
 */
#ifndef SOCKSIFY_TOOLS_PROXYCHAINS_CONF_H
#define SOCKSIFY_TOOLS_PROXYCHAINS_CONF_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>

#define SFY_PC_WARN_MAX 4
/* "FILE:LINE: what": room for any path and the longest message. */
#define SFY_PC_MSG_MAX (PATH_MAX + 256)

struct sfy_pc {
	char *proxy;        /* comma list of socks5:// or socks5h:// URLs */
	char *no_proxy;     /* comma list of CIDRs; "" when no localnet line */
	size_t nhops;
	bool remote_dns;    /* proxy_dns */
	bool quiet;         /* quiet_mode */
	long timeout_ms;    /* sum of the two time-outs; 0 when neither given */
	char fake_net[24];  /* "N.0.0.0/8", or "" */
	int nwarn;          /* messages for what is honoured approximately */
	char warn[SFY_PC_WARN_MAX][SFY_PC_MSG_MAX];
};

/*
 * Parses len bytes of text; name is used in messages ("NAME:LINE: ...").
 * strict turns every warning into an error. Returns 0, or -EINVAL with a
 * message in err (never containing a password), or -ENOMEM. On success
 * the caller releases *out with sfy_pc_free.
 */
int sfy_pc_parse(const char *text, size_t len, const char *name, bool strict,
		 struct sfy_pc *out, char *err, size_t errcap);

/* Reads the file at path (at most 1 MiB) and parses it. */
int sfy_pc_load(const char *path, bool strict, struct sfy_pc *out, char *err,
		size_t errcap);

/* Frees and wipes (the proxy list may hold passwords). */
void sfy_pc_free(struct sfy_pc *pc);

#endif
