/*
 * The hops' socket addresses (the first hop's, and with a chain mode
 * other than strict every hop's: any of them may come first). A literal is converted with inet_pton;
 * a name is resolved once, lazily, with the real getaddrinfo (never in the
 * constructor: resolving may load NSS modules and talk to the network,
 * which a program that never connects should not pay for).
 *
 * In a strict chain only the first hop is resolved here; later hops are
 * named to the hop before them in a CONNECT request, and that proxy
 * resolves them. The other chain modes resolve every hop at the first
 * need, each on its own (one that cannot be resolved fails alone).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <pthread.h>
#include <string.h>

#include "base/config.h"
#include "base/log.h"
#include "base/realfn.h"

static struct sockaddr_storage all_addrs[SOCKS5_CHAIN_MAX][SFY_PROXY_ADDRS_MAX];
static socklen_t all_lens[SOCKS5_CHAIN_MAX][SFY_PROXY_ADDRS_MAX];
static int all_counts[SOCKS5_CHAIN_MAX]; /* >= 1, or -errno */
static pthread_once_t px_once = PTHREAD_ONCE_INIT;

/* The hop being resolved (inside the once only). */
static struct sockaddr_storage *px_addrs;
static socklen_t *px_lens;
static int px_count;

static void add(const struct sockaddr *sa, socklen_t len)
{
	int i;

	if (px_count >= SFY_PROXY_ADDRS_MAX || len > sizeof(px_addrs[0]))
		return;
	for (i = 0; i < px_count; i++)
		if (px_lens[i] == len && !memcmp(&px_addrs[i], sa, len))
			return; /* getaddrinfo repeats an address per protocol */
	memcpy(&px_addrs[px_count], sa, len);
	px_lens[px_count++] = len;
}

static void resolve_name(const struct socks5_proxy *hop)
{
	const struct sfy_real *r = sfy_real();
	struct addrinfo hints, *res = NULL, *ai;
	int rc;

	if (!r->getaddrinfo || !r->freeaddrinfo) {
		px_count = -ENOSYS;
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
		px_count = -EHOSTUNREACH;
		return;
	}
	for (ai = res; ai; ai = ai->ai_next) {
		if (ai->ai_family == AF_INET) {
			((struct sockaddr_in *)ai->ai_addr)->sin_port =
				htons(hop->port);
			add(ai->ai_addr, sizeof(struct sockaddr_in));
		} else if (ai->ai_family == AF_INET6) {
			((struct sockaddr_in6 *)ai->ai_addr)->sin6_port =
				htons(hop->port);
			add(ai->ai_addr, sizeof(struct sockaddr_in6));
		}
	}
	r->freeaddrinfo(res);
	if (px_count == 0) {
		sfy_error("the proxy host '%s' has no IPv4 or IPv6 address",
			  hop->host);
		px_count = -EHOSTUNREACH;
	}
}

static void resolve_hop(const struct socks5_proxy *hop)
{
	struct sockaddr_in in;
	struct sockaddr_in6 in6;

	memset(&in, 0, sizeof(in));
	memset(&in6, 0, sizeof(in6));
	if (inet_pton(AF_INET, hop->host, &in.sin_addr) == 1) {
		in.sin_family = AF_INET;
		in.sin_port = htons(hop->port);
		add((struct sockaddr *)&in, sizeof(in));
	} else if (inet_pton(AF_INET6, hop->host, &in6.sin6_addr) == 1) {
		in6.sin6_family = AF_INET6;
		in6.sin6_port = htons(hop->port);
		add((struct sockaddr *)&in6, sizeof(in6));
	} else {
		/* Names, and literals inet_pton refuses (fe80::1%eth0). */
		resolve_name(hop);
	}
}

static void resolve(void)
{
	const struct sfy_config *cfg = sfy_config();
	size_t h, n = cfg->chain_mode == SFY_CHAIN_STRICT ? 1 : cfg->nhops;

	for (h = 0; h < SOCKS5_CHAIN_MAX; h++)
		all_counts[h] = -cfg->broken_errno;
	if (!cfg->enabled || cfg->broken || cfg->nhops == 0)
		return;
	for (h = 0; h < n && h < SOCKS5_CHAIN_MAX; h++) {
		px_addrs = all_addrs[h];
		px_lens = all_lens[h];
		px_count = 0;
		resolve_hop(&cfg->chain[h]);
		all_counts[h] = px_count;
	}
}

int sfy_proxy_sockaddrs(struct sockaddr_storage *ss, socklen_t *lens, int max)
{
	return sfy_hop_sockaddrs(0, ss, lens, max);
}

int sfy_hop_sockaddrs(size_t hop, struct sockaddr_storage *ss,
		      socklen_t *lens, int max)
{
	int i, saved = errno, count;

	/* Called from inside our own resolution (an NSS module's connect()
	 * on this thread): the once is in progress here, waiting would hang. */
	if (sfy_inside())
		return -EAGAIN;
	pthread_once(&px_once, resolve);
	errno = saved;
	if (hop >= SOCKS5_CHAIN_MAX)
		return -EINVAL;
	count = all_counts[hop];
	if (count < 0)
		return count;
	if (count == 0) /* not resolved: a strict chain's later hop */
		return -EHOSTUNREACH;
	for (i = 0; i < count && i < max; i++) {
		ss[i] = all_addrs[hop][i];
		lens[i] = all_lens[hop][i];
	}
	return i;
}

int sfy_proxy_sockaddr(struct sockaddr_storage *ss, socklen_t *len)
{
	int n = sfy_proxy_sockaddrs(ss, len, 1);

	return n < 0 ? n : 0;
}
