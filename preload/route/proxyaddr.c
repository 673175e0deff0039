/*
 * The first hop's socket addresses. A literal is converted with inet_pton;
 * a name is resolved once, lazily, with the real getaddrinfo (never in the
 * constructor: resolving may load NSS modules and talk to the network,
 * which a program that never connects should not pay for).
 *
 * Only the first hop is resolved here; later hops are named to the hop
 * before them in a CONNECT request, and that proxy resolves them.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <pthread.h>
#include <string.h>

#include "base/config.h"
#include "base/log.h"
#include "base/realfn.h"

static struct sockaddr_storage px_addrs[SFY_PROXY_ADDRS_MAX];
static socklen_t px_lens[SFY_PROXY_ADDRS_MAX];
static int px_count; /* >= 1, or -errno */
static pthread_once_t px_once = PTHREAD_ONCE_INIT;

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

static void resolve(void)
{
	const struct sfy_config *cfg = sfy_config();
	const struct socks5_proxy *hop = &cfg->chain[0];
	struct sockaddr_in in;
	struct sockaddr_in6 in6;

	if (!cfg->enabled || cfg->broken || cfg->nhops == 0) {
		px_count = -cfg->broken_errno;
		return;
	}
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

int sfy_proxy_sockaddrs(struct sockaddr_storage *ss, socklen_t *lens, int max)
{
	int i, saved = errno;

	/* Called from inside our own resolution (an NSS module's connect()
	 * on this thread): the once is in progress here, waiting would hang. */
	if (sfy_inside())
		return -EAGAIN;
	pthread_once(&px_once, resolve);
	errno = saved;
	if (px_count < 0)
		return px_count;
	for (i = 0; i < px_count && i < max; i++) {
		ss[i] = px_addrs[i];
		lens[i] = px_lens[i];
	}
	return i;
}

int sfy_proxy_sockaddr(struct sockaddr_storage *ss, socklen_t *len)
{
	int n = sfy_proxy_sockaddrs(ss, len, 1);

	return n < 0 ? n : 0;
}
