/*
 * Internals of `socksify --check`, shared by check.c (reach, method
 * negotiation, authentication, CONNECT, hop by hop) and check_udp.c (UDP
 * ASSOCIATE and one datagram through the relay).
 */
#ifndef SOCKSIFY_TOOLS_CHECK_H
#define SOCKSIFY_TOOLS_CHECK_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>

#include "socks5.h"

enum sfy_step_result { STEP_OK, STEP_FAIL, STEP_SKIP, STEP_NOTE };

struct sfy_probe {
	const struct socks5_io *io;
	/* room for SOCKS5_CHAIN_MAX of each (allocated: 512 proxies are some
	 * 430 KiB, too many for a stack) */
	struct socks5_proxy *hops;
	size_t nhops;
	size_t *label;            /* each hop's place in the settings */
	int chain_mode;           /* SFY_CHAIN_* (tool.h) */
	size_t chain_len;         /* random, round-robin: hops per chain */
	int timeout_ms;
	bool remote_dns;          /* names go to the last hop */
	const char *udp_mode;     /* SOCKSIFY_UDP: proxy, direct, block */
	/* the first hop's address that answered, for the UDP control
	 * connection and a relay that says 0.0.0.0 */
	struct sockaddr_storage first;
	socklen_t first_len;
	/* the destination, when one was named */
	bool have_dst;
	struct socks5_addr dst;
	char dst_shown[SOCKS5_DOMAIN_MAX + 16];
	bool tcp_failed, udp_failed;
	const char *failed_step; /* first failure, for the summary */
	size_t failed_hop;
};

/* One line of the report: "  ok    STEP  text". */
void sfy_step(struct sfy_probe *pr, enum sfy_step_result r, size_t hop,
	      const char *step, const char *fmt, ...)
	__attribute__((format(printf, 5, 6)));

/* Waits (poll, never past deadline) until fd is ready for events:
 * SOCKS5_OK, SOCKS5_E_TIMEOUT, or SOCKS5_E_IO with *err set. */
enum socks5_status sfy_wait_for(int fd, short events, int64_t deadline,
				int *err);

/* Microseconds on CLOCK_MONOTONIC, for "in 1.2 ms". */
int64_t sfy_now_us(void);

/* Connects a new socket to the first hop's address recorded in pr->first.
 * Returns the descriptor or a negative errno. */
int sfy_probe_connect_first(struct sfy_probe *pr);

/* 0.0.0.0 or :: (a BND.ADDR that says nothing). */
bool sfy_addr_unspecified(const struct socks5_addr *a);

/* What a REP code means for the user, and what to try. */
const char *sfy_rep_hint(uint8_t rep, bool udp);

/* The addresses of a name, in getaddrinfo's order, with the port set. */
#define SFY_ADDRS_MAX 16
struct sfy_addrs {
	size_t n;
	struct sockaddr_storage addr[SFY_ADDRS_MAX];
	socklen_t len[SFY_ADDRS_MAX];
};

/* Looks host up as the system's getaddrinfo does, in a child process
 * (resolve.c says why), within timeout_ms. Returns 0 with at least one
 * address, or a negative errno with the reason in why. */
int sfy_resolve(const char *host, uint16_t port, int timeout_ms,
		struct sfy_addrs *out, char *why, size_t cap);

/* The TCP steps over pr's chain, hop by hop (check.c); true when every
 * hop was negotiated (and the destination, when named, reached or
 * refused by the last hop). */
bool sfy_check_tcp(struct sfy_probe *pr);

/* A chain mode other than strict (check_modes.c): each hop alone (reach,
 * method, auth), then pr keeps the hops a program would use now. Returns
 * how many hops are dead, or -1 when too few are alive for a chain
 * (said). */
int sfy_check_hops_alone(struct sfy_probe *pr);

/* The UDP steps (check_udp.c). */
void sfy_check_udp(struct sfy_probe *pr);

#endif
