/*
 * Datagrams to proxied destinations: sendto(), sendmsg(), sendmmsg() with
 * an address, and connect() of a datagram socket (from hook_connect.c).
 *
 * SOCKSIFY_UDP decides:
 *   direct  the datagram goes out as it is;
 *   block   it fails with ENETUNREACH ("no route to that network", which
 *           UDP programs already handle) and a warn line;
 *   proxy   UDP ASSOCIATE is not implemented yet, so for now this fails
 *           closed exactly like block, with a line saying so and that
 *           SOCKSIFY_UDP=direct lets it go direct.
 * Bypassed destinations (SOCKSIFY_NO_PROXY, loopback by default) and DNS
 * to a resolver on loopback (port 53, e.g. systemd-resolved's 127.0.0.53)
 * always go out: a local stub resolver is needed for local DNS even when
 * the bypass list is empty. Any datagram socket is treated this way,
 * ICMP "ping" sockets included: the proxy cannot carry them either.
 *
 * A stream socket given MSG_FASTOPEN and an address would connect straight
 * to it (TCP Fast Open); that is routed through the proxy's connect()
 * path first and the data then sent on the connected socket.
 *
 * Warnings are rate-limited: the first few at warn, the rest at debug, so
 * a chatty UDP program does not flood the log.
 */
#include <errno.h>
#include <netinet/in.h>
#include <stdatomic.h>
#include <string.h>

#include "config.h"
#include "fakeip.h"
#include "hooks.h"
#include "log.h"
#include "policy.h"
#include "realfn.h"

#define WARN_LIMIT 8
#define DNS_PORT 53

static atomic_int warned;

static bool loopback_dns(const struct sockaddr *sa)
{
	static const uint8_t v4mapped[12] = { 0, 0, 0, 0, 0, 0,
					      0, 0, 0, 0, 0xff, 0xff };

	if (sa->sa_family == AF_INET) {
		const struct sockaddr_in *in = (const struct sockaddr_in *)sa;

		return ntohs(in->sin_port) == DNS_PORT &&
		       (ntohl(in->sin_addr.s_addr) >> 24) == 127;
	}
	if (sa->sa_family == AF_INET6) {
		const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)sa;
		const uint8_t *b = in6->sin6_addr.s6_addr;

		if (ntohs(in6->sin6_port) != DNS_PORT)
			return false;
		return IN6_IS_ADDR_LOOPBACK(&in6->sin6_addr) ||
		       (!memcmp(b, v4mapped, 12) && b[12] == 127);
	}
	return false;
}

static void refuse_log(const struct sockaddr *sa, socklen_t len,
		       const char *why)
{
	char shown[SOCKS5_DOMAIN_MAX + 16];
	struct socks5_addr a;
	int level = atomic_fetch_add(&warned, 1) < WARN_LIMIT ? SFY_LOG_WARN :
								  SFY_LOG_DEBUG;

	if (level > sfy_log_level())
		return;
	if (socks5_addr_from_sockaddr(&a, sa, len) == SOCKS5_OK)
		socks5_addr_format(&a, shown, sizeof(shown));
	else
		strcpy(shown, "?");
	sfy_log_write(level, "UDP to %s refused: %s", shown, why);
}

/* SFY_PASS, or -errno with *why set for the log line. No logging here:
 * the caller first makes sure the socket is a datagram one. */
static int verdict(const struct sockaddr *sa, const char **why)
{
	const struct sfy_config *cfg = sfy_config();
	bool fake = sfy_fakeip_in_range(sa);

	if (!fake && (sfy_policy_direct_addr(sa) || loopback_dns(sa)))
		return SFY_PASS;
	if (cfg->broken) {
		*why = "the socksify configuration is broken (see the first message)";
		return -cfg->broken_errno;
	}
	if (fake) {
		/* Sending to a made-up address would reach nobody, or worse,
		 * somebody else; only the proxy knows the name. */
		*why = "the address stands for a host name only the proxy can resolve, and UDP via the proxy is not available yet";
		return -ENETUNREACH;
	}
	switch (cfg->udp) {
	case SFY_UDP_DIRECT:
		return SFY_PASS;
	case SFY_UDP_BLOCK:
		*why = "SOCKSIFY_UDP=block";
		return -ENETUNREACH;
	default:
		*why = "UDP via the proxy is not available yet; SOCKSIFY_UDP=direct lets it go direct";
		return -ENETUNREACH;
	}
}

int sfy_udp_check(const struct sockaddr *sa, socklen_t len)
{
	const char *why = NULL;
	int rc = verdict(sa, &why);

	if (rc != SFY_PASS)
		refuse_log(sa, len, why);
	return rc;
}

/* A send with an address on fd. *type caches the socket's type (-1:
 * not asked yet). SFY_PASS, 0 (a Fast Open stream now connected through
 * the proxy: send without the address), or -errno. */
static int check_send(int fd, const struct sockaddr *sa, socklen_t len,
		      int flags, bool may_connect, int *type)
{
	const char *why = NULL;
	int rc;

	/* Decide on the address first: most destinations pass without a
	 * system call to learn the socket's type. */
	rc = verdict(sa, &why);
	if (rc == SFY_PASS && !(flags & MSG_FASTOPEN))
		return rc;
	if (*type < 0 && sfy_sock_type(fd, type))
		return SFY_PASS; /* the real call reports EBADF / ENOTSOCK */
	if (*type == SOCK_STREAM && (flags & MSG_FASTOPEN))
		return may_connect ? sfy_tcp_connect(fd, sa, len) :
		       rc == SFY_PASS ? rc : -EOPNOTSUPP;
	if (rc == SFY_PASS || *type != SOCK_DGRAM)
		return SFY_PASS; /* a connected stream ignores the address */
	refuse_log(sa, len, why);
	return rc;
}

static bool ours(const struct sockaddr *sa, socklen_t len)
{
	return sfy_is_inet(sa, len) && !sfy_inside() && sfy_config()->enabled;
}

ssize_t sendto(int fd, const void *buf, size_t n, int flags,
	       const struct sockaddr *sa, socklen_t len)
{
	const struct sfy_real *r = sfy_real();
	int saved = errno, rc, type = -1;

	if (!r->sendto) {
		errno = ENOSYS;
		return -1;
	}
	if (!ours(sa, len))
		return r->sendto(fd, buf, n, flags, sa, len);
	rc = check_send(fd, sa, len, flags, true, &type);
	errno = saved;
	if (rc == SFY_PASS)
		return r->sendto(fd, buf, n, flags, sa, len);
	if (rc == 0)
		return r->sendto(fd, buf, n, flags & ~MSG_FASTOPEN, NULL, 0);
	errno = -rc;
	return -1;
}

ssize_t sendmsg(int fd, const struct msghdr *msg, int flags)
{
	const struct sfy_real *r = sfy_real();
	struct msghdr copy;
	int saved = errno, rc, type = -1;

	if (!r->sendmsg) {
		errno = ENOSYS;
		return -1;
	}
	if (!msg || !ours(msg->msg_name, msg->msg_namelen))
		return r->sendmsg(fd, msg, flags);
	rc = check_send(fd, msg->msg_name, msg->msg_namelen, flags, true,
			&type);
	errno = saved;
	if (rc == SFY_PASS)
		return r->sendmsg(fd, msg, flags);
	if (rc == 0) {
		copy = *msg;
		copy.msg_name = NULL;
		copy.msg_namelen = 0;
		return r->sendmsg(fd, &copy, flags & ~MSG_FASTOPEN);
	}
	errno = -rc;
	return -1;
}

/* Sends the messages before the first refused one, and fails only when
 * the very first is refused (the kernel's rule for an error at index 0).
 * Fast Open through sendmmsg cannot be routed and is refused. */
int sendmmsg(int fd, struct mmsghdr *vec, unsigned int vlen, int flags)
{
	const struct sfy_real *r = sfy_real();
	unsigned int i;
	int saved = errno, rc = SFY_PASS, type = -1;

	if (!r->sendmmsg) {
		errno = ENOSYS;
		return -1;
	}
	if (!vec || sfy_inside() || !sfy_config()->enabled)
		return r->sendmmsg(fd, vec, vlen, flags);
	for (i = 0; i < vlen; i++) {
		const struct msghdr *m = &vec[i].msg_hdr;

		if (!sfy_is_inet(m->msg_name, m->msg_namelen))
			continue;
		rc = check_send(fd, m->msg_name, m->msg_namelen, flags, false,
				&type);
		if (rc != SFY_PASS)
			break;
	}
	errno = saved;
	if (rc == SFY_PASS)
		return r->sendmmsg(fd, vec, vlen, flags);
	if (i == 0) {
		errno = -rc;
		return -1;
	}
	return r->sendmmsg(fd, vec, i, flags);
}
