/*
 * Configuration, read once from the environment (pthread_once, from the
 * constructor or the first hook) and immutable afterwards: readers need no
 * lock. See DESIGN's environment table for every variable.
 *
 * A configuration that cannot be parsed is reported once (variable, value
 * with password masked, what is wrong) and fails closed: cfg->broken is set,
 * and every network call the library would have proxied fails with
 * cfg->broken_errno instead of going direct.
 */
#ifndef SOCKSIFY_PRELOAD_CONFIG_H
#define SOCKSIFY_PRELOAD_CONFIG_H

#include <netinet/in.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>

#include "route/chainpick.h"
#include "route/cidr.h"
#include "route/dnat.h"
#include "socks5.h"

enum sfy_dns_mode { SFY_DNS_LOCAL, SFY_DNS_REMOTE };
/* SFY_UDP_FIRST_HOP: through the first hop's relay even when a chain is
 * configured (UDP cannot cross a chain; "proxy" refuses then). */
enum sfy_udp_mode { SFY_UDP_PROXY, SFY_UDP_DIRECT, SFY_UDP_BLOCK,
		    SFY_UDP_FIRST_HOP };
/* SOCKSIFY_PIPELINE (see pipeline.c): auto learns per process whether the
 * first hop takes pipelined handshakes; on pipelines every hop; off never. */
enum sfy_pipeline_mode { SFY_PIPELINE_AUTO, SFY_PIPELINE_ON,
			 SFY_PIPELINE_OFF };

/* struct sfy_cidr: cidr.h. */

#define SFY_BYPASS_CIDRS_MAX 64
#define SFY_BYPASS_NAMES_MAX 32

/* NO_PROXY-style list: CIDRs / single addresses, host names (each matches
 * itself and any name under it; stored lowercase without leading or
 * trailing dot), or "*" (everything). */
struct sfy_bypass {
	bool all;
	int ncidrs, nnames;
	struct sfy_cidr cidrs[SFY_BYPASS_CIDRS_MAX];
	/* The IPv4 ones of cidrs made ready for connect()'s test
	 * (bypasslist.c fills them with the list; policy.c reads them). */
	int nv4;
	struct sfy_bypass4 {
		in_addr_t net, mask; /* network order */
		in_port_t port;      /* network order; 0: every port */
	} v4[SFY_BYPASS_CIDRS_MAX];
	char names[SFY_BYPASS_NAMES_MAX][SOCKS5_DOMAIN_MAX + 1];
};

struct sfy_config {
	bool enabled;        /* a proxy is configured (else we change nothing) */
	bool broken;         /* configuration invalid: fail closed */
	int broken_errno;    /* EINVAL or ECONNREFUSED */
	size_t nhops;        /* hops in chain[] (at the end, below) */
	enum sfy_chain_mode chain_mode; /* SOCKSIFY_CHAIN (chainpick.h) */
	size_t chain_len;    /* SOCKSIFY_CHAIN_LEN: random, round-robin */
	enum sfy_dns_mode dns;
	enum sfy_udp_mode udp;
	int timeout_ms;
	enum sfy_pipeline_mode pipeline;
	bool early_data;     /* SOCKSIFY_EARLY_DATA (tcp/async.h) */
	bool strict;         /* SOCKSIFY_STRICT=1: refuse what cannot be reached */
	bool bind_off;       /* SOCKSIFY_BIND=off: every listen() stays local */
	bool io_uring_allow; /* SOCKSIFY_IO_URING=allow (route/decide.c) */
	int log_level;       /* enum sfy_log_level */
	int log_fd;          /* 2 or SOCKSIFY_LOG_FILE, CLOEXEC */
	struct sfy_bypass bypass;
	struct sfy_cidr fake4, fake6; /* SOCKSIFY_FAKE_NET */
	struct sfy_dnat dnat;         /* SOCKSIFY_DNAT (route/dnat.h) */
	/* The proxy list, last: SOCKS5_CHAIN_MAX of them are some 430 KiB
	 * of zeroes (BSS) of which only the nhops parsed are ever written,
	 * so a program pays the pages of its own hops only; the fields
	 * above stay on the first pages. Never copy the whole struct. */
	struct socks5_proxy chain[SOCKS5_CHAIN_MAX];
};

/* The frozen configuration; initialises it on first call. Never NULL.
 * Inline: once loaded, one acquire load (hidden objects, no GOT). */
extern struct sfy_config sfy_config_frozen __attribute__((visibility("hidden")));
extern atomic_bool sfy_config_ready __attribute__((visibility("hidden")));
const struct sfy_config *sfy_config_slow(void);

/* Some hop of the chain has a user and password. */
bool sfy_config_has_password(const struct sfy_config *c);

static inline const struct sfy_config *sfy_config(void)
{
	if (__builtin_expect(atomic_load_explicit(&sfy_config_ready,
						  memory_order_acquire), 1))
		return &sfy_config_frozen;
	return sfy_config_slow();
}

/* The first hop's socket address, resolved once (a name with the real
 * resolver, on first need, not in the constructor). Returns 0 or -errno. */
int sfy_proxy_sockaddr(struct sockaddr_storage *ss, socklen_t *len);

/* All addresses of the first hop, in the resolver's order (a name such as
 * "localhost" may give ::1 first while the proxy listens on 127.0.0.1 only;
 * connect() tries each in turn). Returns how many (>= 1) or -errno. */
#define SFY_PROXY_ADDRS_MAX 4
int sfy_proxy_sockaddrs(struct sockaddr_storage *ss, socklen_t *lens, int max);
/* The same for configured hop number hop (any hop when the chain mode is
 * not strict, else only 0). */
int sfy_hop_sockaddrs(size_t hop, struct sockaddr_storage *ss,
		      socklen_t *lens, int max);

/* The parser behind sfy_config(), for tests: fills *out from the variables
 * getenv_fn returns, reports each problem once through the log, and
 * returns 0, or -EINVAL when the configuration is broken (out->broken). */
int sfy_config_parse(struct sfy_config *out,
		     char *(*getenv_fn)(const char *name));

#endif
