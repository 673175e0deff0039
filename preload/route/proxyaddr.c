/*
 * The hops' socket addresses (the first hop's, and with a chain mode
 * other than strict every hop's: any of them may come first). A literal
 * is converted with inet_pton; a name is resolved with the real
 * getaddrinfo (never in the constructor: resolving may load NSS modules
 * and talk to the network, which a program that never connects should not
 * pay for).
 *
 * Each hop is resolved on its first need, alone: a list may hold
 * SOCKS5_CHAIN_MAX (512) hops of which a random or round-robin chain uses
 * a few, and the 512 bytes of addresses of a hop never used are never
 * touched (zero pages of BSS), nor its name looked up. No lock: a thread
 * resolves into its own memory, and the first to finish publishes the
 * hop's answer (a state word per hop, compare-and-swap); one that loses
 * uses its own answer, the same. So a fork at any point leaves at worst a
 * hop that the child resolves on each need.
 *
 * In a strict chain only the first hop is resolved here; later hops are
 * named to the hop before them in a CONNECT request, and that proxy
 * resolves them.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <stdatomic.h>
#include <string.h>

#include "base/config.h"
#include "base/log.h"
#include "base/realfn.h"

struct hopaddrs {
	struct sockaddr_storage addr[SFY_PROXY_ADDRS_MAX];
	socklen_t len[SFY_PROXY_ADDRS_MAX];
	int count; /* >= 1, or -errno */
};

/* Hop h's published answer, valid once state[h] is PUBLISHED. */
static struct hopaddrs all[SOCKS5_CHAIN_MAX];
enum { UNKNOWN, STORING, PUBLISHED };
static _Atomic unsigned char state[SOCKS5_CHAIN_MAX];

static void add(struct hopaddrs *out, const struct sockaddr *sa,
		socklen_t len)
{
	int i;

	if (out->count >= SFY_PROXY_ADDRS_MAX || len > sizeof(out->addr[0]))
		return;
	for (i = 0; i < out->count; i++)
		if (out->len[i] == len && !memcmp(&out->addr[i], sa, len))
			return; /* getaddrinfo repeats an address per protocol */
	memcpy(&out->addr[out->count], sa, len);
	out->len[out->count++] = len;
}

static void resolve_name(const struct socks5_proxy *hop,
			 struct hopaddrs *out)
{
	const struct sfy_real *r = sfy_real();
	struct addrinfo hints, *res = NULL, *ai;
	int rc;

	if (!r->getaddrinfo || !r->freeaddrinfo) {
		out->count = -ENOSYS;
		return;
	}
	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	/* NSS modules may connect(): those calls must not come back here. */
	sfy_inside_enter();
	rc = r->getaddrinfo(hop->host, NULL, &hints, &res);
	sfy_inside_leave();
	if (rc) {
		if (rc == EAI_SYSTEM)
			sfy_error("cannot resolve the proxy host '%s': %m",
				  hop->host);
		else
			sfy_error("cannot resolve the proxy host '%s': %s",
				  hop->host, gai_strerror(rc));
		out->count = -EHOSTUNREACH;
		return;
	}
	for (ai = res; ai; ai = ai->ai_next) {
		if (ai->ai_family == AF_INET) {
			((struct sockaddr_in *)ai->ai_addr)->sin_port =
				htons(hop->port);
			add(out, ai->ai_addr, sizeof(struct sockaddr_in));
		} else if (ai->ai_family == AF_INET6) {
			((struct sockaddr_in6 *)ai->ai_addr)->sin6_port =
				htons(hop->port);
			add(out, ai->ai_addr, sizeof(struct sockaddr_in6));
		}
	}
	r->freeaddrinfo(res);
	if (out->count == 0) {
		sfy_error("the proxy host '%s' has no IPv4 or IPv6 address",
			  hop->host);
		out->count = -EHOSTUNREACH;
	}
}

static void resolve_hop(const struct socks5_proxy *hop, struct hopaddrs *out)
{
	struct sockaddr_in in;
	struct sockaddr_in6 in6;

	memset(&in, 0, sizeof(in));
	memset(&in6, 0, sizeof(in6));
	out->count = 0;
	if (inet_pton(AF_INET, hop->host, &in.sin_addr) == 1) {
		in.sin_family = AF_INET;
		in.sin_port = htons(hop->port);
		add(out, (struct sockaddr *)&in, sizeof(in));
	} else if (inet_pton(AF_INET6, hop->host, &in6.sin6_addr) == 1) {
		in6.sin6_family = AF_INET6;
		in6.sin6_port = htons(hop->port);
		add(out, (struct sockaddr *)&in6, sizeof(in6));
	} else {
		/* Names, and literals inet_pton refuses (fe80::1%eth0). */
		resolve_name(hop, out);
	}
}

int sfy_proxy_sockaddrs(struct sockaddr_storage *ss, socklen_t *lens, int max)
{
	return sfy_hop_sockaddrs(0, ss, lens, max);
}

/* Copies an answer out: how many addresses, or its -errno. */
static int copy_out(const struct hopaddrs *h, struct sockaddr_storage *ss,
		    socklen_t *lens, int max)
{
	int i;

	if (h->count <= 0)
		return h->count < 0 ? h->count : -EHOSTUNREACH;
	for (i = 0; i < h->count && i < max; i++) {
		ss[i] = h->addr[i];
		lens[i] = h->len[i];
	}
	return i;
}

int sfy_hop_sockaddrs(size_t hop, struct sockaddr_storage *ss,
		      socklen_t *lens, int max)
{
	const struct sfy_config *cfg;
	struct hopaddrs mine;
	unsigned char unknown = UNKNOWN;
	int saved = errno;

	/* Called from inside our own resolution (an NSS module's connect()
	 * on this thread): resolving again would only come back here. */
	if (sfy_inside())
		return -EAGAIN;
	cfg = sfy_config();
	if (hop >= SOCKS5_CHAIN_MAX)
		return -EINVAL;
	if (!cfg->enabled || cfg->broken || hop >= cfg->nhops ||
	    (hop > 0 && cfg->chain_mode == SFY_CHAIN_STRICT))
		return -cfg->broken_errno;
	if (atomic_load_explicit(&state[hop], memory_order_acquire) ==
	    PUBLISHED)
		return copy_out(&all[hop], ss, lens, max);
	resolve_hop(&cfg->chain[hop], &mine);
	errno = saved;
	if (atomic_compare_exchange_strong_explicit(
		    &state[hop], &unknown, STORING, memory_order_acquire,
		    memory_order_relaxed)) {
		all[hop] = mine;
		atomic_store_explicit(&state[hop], PUBLISHED,
				      memory_order_release);
	}
	return copy_out(&mine, ss, lens, max);
}

int sfy_proxy_sockaddr(struct sockaddr_storage *ss, socklen_t *len)
{
	int n = sfy_proxy_sockaddrs(ss, len, 1);

	return n < 0 ? n : 0;
}
