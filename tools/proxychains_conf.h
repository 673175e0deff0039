/*
 * Reading a proxychains-ng configuration (proxychains.conf) for
 * `socksify -f FILE`, so that people moving from proxychains keep their
 * file. Every file proxychains-ng 4.17 accepts is read the way it reads
 * it (proxychains_int.h). What socksify honours exactly is translated
 * into its own settings; what it honours approximately, and what
 * proxychains ignores, is said in a warning naming the line (an error with
 * --strict); what would send traffic direct or to another place than
 * proxychains sends it is refused, naming the line and why.
 *
 *   strict_chain, dynamic_chain, random_chain, round_robin_chain
 *                           SOCKSIFY_CHAIN (the last one wins; none:
 *                           dynamic, proxychains' default)
 *   chain_len = N           SOCKSIFY_CHAIN_LEN for random and round-robin
 *                           (0 or no number is 1; the '=' is required, as
 *                           proxychains does); ignored otherwise, as
 *                           proxychains does; more than the list holds, or
 *                           negative → error (every connection would fail)
 *   proxy_dns               remote DNS (socks5h://, socks4a://; http://
 *                           always sends the name)
 *   proxy_dns_old, proxy_dns_daemon IP:PORT
 *                           remote DNS too, with a warning (no proxyresolv
 *                           script, no daemon); the daemon's address is
 *                           checked as proxychains does
 *   remote_dns_subnet N     fake IPv4 range N.0.0.0/8; 256 and more → error
 *   tcp_read_time_out, tcp_connect_time_out  warning: their sum (the
 *                           default for one not given) is the timeout
 *                           (socksify has one bound for the whole connect)
 *   localnet ADDR[:PORT]/MASK  a no-proxy range (with the port, that
 *                           port of it only: "A:P/N"); a non-contiguous
 *                           mask or an IPv4 /0 → error (the no-proxy list
 *                           holds prefixes)
 *   quiet_mode              log errors only
 *   dnat ORIG[:P] NEW[:P]   SOCKSIFY_DNAT (the library rewrites the TCP
 *                           destination before proxying, as proxychains);
 *                           error: its original address in a localnet
 *                           range and its new one not (socksify would go
 *                           direct where proxychains proxies)
 *   anything else           ignored with a warning, as proxychains ignores
 *                           it (also "proxy_dns # comment": proxychains
 *                           compares such lines whole)
 *   [ProxyList] TYPE HOST PORT [USER PASS], or TYPE://[USER:PASS@]HOST:PORT
 *                           socks5, socks4 (the user id; a password is
 *                           not sent, as there), http (Basic auth); raw →
 *                           error; port 0 skipped, as there; host names at
 *                           any position (proxychains allows them only
 *                           after the first hop of a strict chain)
 *
 * Pure: the parser works on a buffer and allocates only its results.
 */
#ifndef SOCKSIFY_TOOLS_PROXYCHAINS_CONF_H
#define SOCKSIFY_TOOLS_PROXYCHAINS_CONF_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>

#define SFY_PC_WARN_MAX 8
/* chain modes, in SOCKSIFY_CHAIN's order (tool.h's SFY_CHAIN_*) */
enum { SFY_PC_STRICT, SFY_PC_DYNAMIC, SFY_PC_RANDOM, SFY_PC_ROUND_ROBIN };
/* "FILE:LINE: what": room for any path and the longest message. */
#define SFY_PC_MSG_MAX (PATH_MAX + 256)

struct sfy_pc {
	char *proxy;        /* comma list of URLs (socks5, socks4, http) */
	char *no_proxy;     /* comma list of CIDRs; "" when no localnet line */
	char *dnat;         /* SOCKSIFY_DNAT's rules, or NULL when none */
	size_t nhops;
	bool remote_dns;    /* proxy_dns */
	bool quiet;         /* quiet_mode */
	long timeout_ms;    /* sum of the two time-outs; 0 when neither given */
	char fake_net[24];  /* "N.0.0.0/8", or "" */
	int chain_mode;     /* SFY_PC_STRICT .. SFY_PC_ROUND_ROBIN */
	long chain_len;     /* random, round-robin: hops per chain; else 0 */
	int nwarn;          /* messages for what is honoured approximately */
	int nwarn_more;     /* warnings past SFY_PC_WARN_MAX, counted only */
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
