/*
 * The routing decision: for one call and its (socket, destination), one
 * answer, made once, that the hook then carries out:
 *
 *   SFY_DIRECT     the real function, unchanged (not ours: another family,
 *                  a bypassed destination, the proxy's own address, a
 *                  socket type we do not carry, the library's own calls,
 *                  a disabled configuration);
 *   SFY_VIA_CHAIN  TCP through the chain, to dst: the name behind a fake
 *                  address, else the address (tcp/tcp.h);
 *   SFY_VIA_RELAY  UDP through the proxy's relay (udp/udp_io.h);
 *   SFY_REFUSE     fail with err (negative errno), for the reason why,
 *                  which the decision has logged already.
 *
 * What it weighs, in order: the library's own calls (sfy_inside) and a
 * disabled configuration; the address (a fake one, remote DNS, before
 * the bypass rules of policy.c, bypasslist, bypassmap and the proxy's own
 * address); then, only when the address alone does not send it direct,
 * the socket (its type, from the stream hint or the kernel; a TCP socket
 * already connected through us; a UDP socket's association and family)
 * and the rules of its kind (udp_policy.c for datagrams). The address is
 * looked up once per call: policy.c once, fakeip.c once for the range
 * and, for a fake address through the chain, once for its name.
 *
 * Reads the frozen configuration and the lock-free descriptor and
 * association state. One exception, on step two only: a TCP record found
 * stale is dropped (fdstate.c, which writes nothing in a vfork child). A
 * fake address's name is read without a lock (dns/fakemap.h) unless its
 * entry stays mid-write for 64 turns.
 * errno is left as it was.
 */
#ifndef SOCKSIFY_PRELOAD_DECIDE_H
#define SOCKSIFY_PRELOAD_DECIDE_H

#include <stdbool.h>
#include <sys/socket.h>

#include "base/config.h"
#include "base/realfn.h"
#include "base/sockaddr.h"
#include "dns/fakeip.h"
#include "route/policy.h"
#include "socks5.h"
#include "state/fdstate.h"

enum sfy_verdict {
	SFY_DIRECT,
	SFY_VIA_CHAIN,
	SFY_VIA_RELAY,
	SFY_REFUSE,
};

/* What an address alone says, before the socket is asked. */
enum sfy_addr_class {
	SFY_ADDR_DIRECT,  /* a bypass rule, or the proxy's own address */
	SFY_ADDR_FAKE,    /* in a fake range: only the proxy can reach it */
	SFY_ADDR_PROXIED, /* everything else */
};

struct sfy_route {
	enum sfy_verdict verdict;
	int err;          /* SFY_REFUSE: a negative errno */
	const char *why;  /* SFY_REFUSE: the reason (logged) */
	int type;         /* the socket's type once asked, else -1 */
	int family;       /* SFY_VIA_RELAY, !assoc_known: the socket's family */
	bool assoc_known; /* SFY_VIA_RELAY: info holds fd's association */
	struct sfy_fd_info info;
	struct socks5_addr dst; /* SFY_VIA_CHAIN: where the proxy connects */
};

/* Whether the call is one the library may route at all: an AF_INET or
 * AF_INET6 destination, not the library's own call (sfy_inside), and a
 * configuration that proxies. */
static inline bool sfy_route_ours(const struct sockaddr *sa, socklen_t len)
{
	return sfy_is_inet(sa, len) && !sfy_inside() && sfy_config()->enabled;
}

/* The class of an AF_INET/AF_INET6 address (an IPv4-mapped one as IPv4):
 * fakeip.c's range test, then policy.c's rules, each once. */
static inline enum sfy_addr_class sfy_route_classify(const struct sockaddr *sa)
{
	if (sfy_fakeip_in_range(sa))
		return SFY_ADDR_FAKE;
	return sfy_policy_bypassed(sa) ? SFY_ADDR_DIRECT : SFY_ADDR_PROXIED;
}

/*
 * The decision is made in two steps, so that the common case costs
 * nothing: most connect() and sendto() calls of most programs go direct
 * (loopback, by default), decided on the address alone, inline, before
 * any system call; only the rest goes on to the socket's part, out of
 * line, with the address's class (no second look at the address).
 *
 * Step one: true when the call goes direct by its address alone (not
 * AF_INET/AF_INET6, AF_UNSPEC included; the library's own call; a
 * configuration that does not proxy; a bypassed destination). Otherwise
 * false, with the class in *cls for step two.
 */
static inline bool sfy_route_direct_addr(const struct sockaddr *sa,
					 socklen_t len,
					 enum sfy_addr_class *cls)
{
	if (!sfy_route_ours(sa, len))
		return true;
	*cls = sfy_route_classify(sa);
	return *cls == SFY_ADDR_DIRECT;
}

/* Step two of connect(fd, sa, len): the verdict, with r filled. */
enum sfy_verdict sfy_route_connect(int fd, const struct sockaddr *sa,
				   socklen_t len, enum sfy_addr_class cls,
				   struct sfy_route *r);

/* A connection the library makes itself on a stream socket it made
 * (dns_tcp.c's to a name server), routed as a program's connect() is:
 * by the address's class and the stream rules, without asking the
 * socket's type or looking at sfy_inside. */
enum sfy_verdict sfy_route_stream(int fd, const struct sockaddr *sa,
				  socklen_t len, struct sfy_route *r);

/*
 * Step two for a message with an address: sendto(), sendmsg(), one of
 * sendmmsg()'s (len as sendmsg takes it). A stream socket given
 * MSG_FASTOPEN gets the connect() answer when may_connect (sendto,
 * sendmsg: connect through the chain, then send without the address),
 * else EOPNOTSUPP where it would be proxied. r->type: -1 before the
 * call's first message; kept across its messages (asked at most once).
 */
enum sfy_verdict sfy_route_message(int fd, const struct sockaddr *sa,
				   socklen_t len, int flags, bool may_connect,
				   enum sfy_addr_class cls,
				   struct sfy_route *r);

/* Where a datagram to (or from) sa goes by the address alone, for the
 * socket's kind UDP (udp_policy.c): SFY_DIRECT, SFY_VIA_RELAY, or
 * SFY_REFUSE with r->err and r->why (not logged: the caller says it). */
enum sfy_verdict sfy_udp_rule(const struct sockaddr *sa,
			      enum sfy_addr_class cls, struct sfy_route *r);

/* syscall(SYS_io_uring_setup, ...): SFY_DIRECT, or SFY_REFUSE with
 * -ENOSYS (logged). */
enum sfy_verdict sfy_route_io_uring(struct sfy_route *r);

#endif
