/*
 * Sockets the proxy cannot carry (issue 18): SOCKS carries TCP streams
 * and UDP datagrams only, so every other way a socket can reach a remote
 * host is refused, with one warn line, before anything is sent.
 *
 * At socket() (the kernel's socket is made first, so a call the kernel
 * refuses gets the kernel's errno, exactly as without us; ours is closed
 * again when refused):
 *   AF_UNIX, AF_NETLINK, AF_ALG, AF_KEY   local: as libc
 *   AF_VSOCK                               as libc (reaches the host or
 *                                          its VMs, never an IP network)
 *   AF_INET/6 SOCK_STREAM TCP, MPTCP       proxied (MPTCP as TCP)
 *   AF_INET/6 SOCK_DGRAM UDP               proxied (SOCKSIFY_UDP)
 *   AF_INET/6 SOCK_DGRAM ICMP, UDP-Lite    made; checked at send, below
 *   AF_INET/6 SOCK_RAW (not IPPROTO_RAW)   made; checked at send, below
 *   AF_INET/6 SOCK_RAW IPPROTO_RAW         EPERM (the program writes the
 *                                          IP header, destination and all)
 *   AF_INET/6 SCTP, other protocols        EPROTONOSUPPORT
 *   AF_INET/6 SOCK_SEQPACKET, SOCK_RDM...  ESOCKTNOSUPPORT
 *   AF_PACKET, AF_XDP                      EPERM (frames built by the
 *                                          program; no address to check)
 *   every other family (RDS, TIPC, SMC,    EAFNOSUPPORT
 *   Bluetooth, CAN, ...)
 * EPERM is what the kernel answers a program without CAP_NET_RAW, the
 * others what it answers when the protocol is not built in: programs
 * handle all of them already.
 *
 * At connect(), sendto(), sendmsg(), sendmmsg() of an ICMP, UDP-Lite or
 * raw socket: destinations where nothing leaves (bypassed, loopback, the
 * proxy itself) as libc; every other one ENETUNREACH (as UDP under
 * SOCKSIFY_UDP=block), whatever SOCKSIFY_UDP says, since that setting is
 * about UDP. A fake address (remote DNS) is never such a destination.
 */
#ifndef SOCKSIFY_PRELOAD_SOCKKIND_H
#define SOCKSIFY_PRELOAD_SOCKKIND_H

#include <stdbool.h>
#include <sys/socket.h>

/* True for the sockets of almost every program (AF_UNIX; AF_INET/6
 * stream or datagram with protocol 0): socket() asks nothing more. */
static inline bool sfy_sock_plain(int domain, int type, int protocol)
{
	int t = type & 0xf;

	return domain == AF_UNIX ||
	       ((domain == AF_INET || domain == AF_INET6) && protocol == 0 &&
		(t == SOCK_STREAM || t == SOCK_DGRAM));
}

/* After the kernel made fd for socket(domain, type, protocol): 0, or
 * -errno when the socket must not exist (logged; the caller closes fd). */
int sfy_sock_refusal(int domain, int type, int protocol);

/* A connect or send to sa (an AF_INET/6 address the policy does not
 * send direct, or SOCKSIFY_UDP=direct's) on fd of the given type: 0 for
 * TCP and UDP sockets and destinations where nothing leaves, else
 * -ENETUNREACH (logged). */
int sfy_unproxied_send(int fd, int type, const struct sockaddr *sa,
		       socklen_t len);

/* True when sa goes direct only because SOCKSIFY_UDP=direct says so:
 * then the sender's socket type still decides. */
bool sfy_udp_direct_by_choice(const struct sockaddr *sa);

#endif
