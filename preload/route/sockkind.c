/*
 * Sockets the proxy cannot carry: the table is in sockkind.h. Only
 * socket() calls that are not plain (sfy_sock_plain) and sends of raw,
 * ICMP and UDP-Lite sockets come here; nothing on a hot path.
 */
#include <errno.h>
#include <netinet/in.h>
#include <stdatomic.h>
#include <string.h>

#include "base/config.h"
#include "base/log.h"
#include "base/sockopt.h"
#include "base/sockaddr.h"
#include "dns/fakeip.h"
#include "route/policy.h"
#include "route/sockkind.h"
#include "socks5.h"

#ifndef IPPROTO_MPTCP
#define IPPROTO_MPTCP 262
#endif
#ifndef AF_XDP
#define AF_XDP 44
#endif
#ifndef AF_VSOCK
#define AF_VSOCK 40
#endif

/* The first few refusals at warn, the rest at debug (a program that
 * retries in a loop). */
#define WARN_LIMIT 8

static atomic_int warned;

static int level(void)
{
	return atomic_fetch_add(&warned, 1) < WARN_LIMIT ? SFY_LOG_WARN :
							   SFY_LOG_DEBUG;
}

static const char *family_name(int domain)
{
	switch (domain) {
	case AF_INET: return "AF_INET";
	case AF_INET6: return "AF_INET6";
	case AF_PACKET: return "AF_PACKET";
	case AF_XDP: return "AF_XDP";
	default: return "a family the proxy cannot carry";
	}
}

/* -errno for an inet socket of type/protocol that may not exist, and
 * the reason in *why. */
static int inet_refusal(int type, int protocol, const char **why)
{
	switch (type) {
	case SOCK_STREAM:
		if (protocol == 0 || protocol == IPPROTO_TCP ||
		    protocol == IPPROTO_MPTCP)
			return 0;
		*why = "SOCKS carries TCP streams only (SCTP and others would go direct)";
		return -EPROTONOSUPPORT;
	case SOCK_DGRAM:
		if (protocol == 0 || protocol == IPPROTO_UDP ||
		    protocol == IPPROTO_UDPLITE || protocol == IPPROTO_ICMP ||
		    protocol == IPPROTO_ICMPV6)
			return 0; /* UDP proxied, the others checked at send */
		*why = "SOCKS carries UDP datagrams only";
		return -EPROTONOSUPPORT;
	case SOCK_RAW:
		if (protocol != IPPROTO_RAW)
			return 0; /* checked at send, by destination */
		*why = "the program writes the IP header itself, destination and all";
		return -EPERM;
	default:
		*why = "SOCKS carries TCP streams and UDP datagrams only (SCTP would go direct)";
		return -ESOCKTNOSUPPORT;
	}
}

int sfy_sock_refusal(int domain, int type, int protocol)
{
	const char *why = NULL;
	int rc = 0, lv;

	if (!sfy_config()->enabled)
		return 0;
	switch (domain) {
	case AF_UNIX:
	case AF_NETLINK:
	case AF_ALG:
	case AF_KEY:
	case AF_VSOCK:
		return 0;
	case AF_INET:
	case AF_INET6:
		rc = inet_refusal(type & 0xf, protocol, &why);
		break;
	case AF_PACKET:
	case AF_XDP:
		why = "frames built by the program carry no address the proxy could take";
		rc = -EPERM;
		break;
	default:
		why = "the proxy cannot carry this family, and it could reach other hosts";
		rc = -EAFNOSUPPORT;
		break;
	}
	if (rc && (lv = level()) <= sfy_log_level())
		sfy_log_write(lv, "socket(%s (%d), type %d, protocol %d) refused (%s): %s",
			      family_name(domain), domain, type & 0xf,
			      protocol, strerrorname_np(-rc), why);
	return rc;
}

/* Where nothing leaves the host but to the proxy: bypassed (loopback by
 * default), loopback whatever the list says, the proxy's own address. */
static bool nothing_leaves(const struct sockaddr *sa)
{
	return !sfy_fakeip_in_range(sa) &&
	       (sfy_policy_direct_addr(sa) || sfy_addr_is_loopback(sa));
}

bool sfy_udp_direct_by_choice(const struct sockaddr *sa)
{
	return sfy_config()->udp == SFY_UDP_DIRECT && !nothing_leaves(sa);
}

static const char *kind_name(int type, int protocol)
{
	if (type == SOCK_RAW)
		return "a raw socket";
	if (protocol == IPPROTO_ICMP || protocol == IPPROTO_ICMPV6)
		return "ICMP";
	if (protocol == IPPROTO_UDPLITE)
		return "UDP-Lite";
	return "this socket type";
}

int sfy_unproxied_send(int fd, int type, const struct sockaddr *sa,
		       socklen_t len)
{
	char shown[SOCKS5_DOMAIN_MAX + 16];
	struct socks5_addr a;
	int proto = 0, lv;

	if (type == SOCK_STREAM || nothing_leaves(sa))
		return 0;
	if (sfy_sockopt_int(fd, SOL_SOCKET, SO_PROTOCOL, &proto) < 0)
		return 0; /* the real call answers for the descriptor */
	if (type == SOCK_DGRAM && (proto == 0 || proto == IPPROTO_UDP))
		return 0;
	if ((lv = level()) <= sfy_log_level()) {
		if (socks5_addr_from_sockaddr(&a, sa, len) == SOCKS5_OK)
			socks5_addr_format(&a, shown, sizeof(shown));
		else
			strcpy(shown, "?");
		sfy_log_write(lv, "%s to %s refused (ENETUNREACH): SOCKS carries TCP and UDP only, and it would go direct",
			      kind_name(type, proto), shown);
	}
	return -ENETUNREACH;
}
