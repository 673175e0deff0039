/*
 * DNS a program sends itself to the system's name servers (issue 18):
 * c-ares (aria2c, node's dns.resolve*, curl built with it), dig, host,
 * nslookup, Chromium's built-in resolver. With remote DNS (socks5h:// or
 * SOCKSIFY_DNS=remote) such a query must neither leave direct nor go
 * through the proxy's relay to the client's name server (not reachable
 * from the proxy): it is answered here, as getaddrinfo would answer the
 * name (dnsmsg.h: A and AAAA from /etc/hosts or the fake map, every other
 * type REFUSED: no setting names a name server reachable from the proxy,
 * and REFUSED is what dig, c-ares and glibc give up on at once, where a
 * dropped query or an errno would make them retry and time out). A name
 * on the bypass list gets the real resolver's answer, its addresses then
 * direct, as getaddrinfo does.
 *
 * Which datagrams: UDP to port 53 of a name server listed in
 * /etc/resolv.conf (read at each such send: no cache to go stale),
 * loopback ones (127.0.0.53, systemd-resolved) too, since a local cache
 * would ask upstream direct. Any other address's port 53 (dig @8.8.8.8)
 * goes through the relay as any datagram does. Local DNS: nothing here.
 *
 * How the answer reaches the program, so that its descriptor stays a
 * real kernel UDP socket (poll, epoll, select, blocking reads, timeouts:
 * all native): per name server the library owns a loopback UDP socket,
 * the answerer (127.0.0.1:L). A program's datagram to the name server is
 * sent, by the real call, to the answerer instead (sendto, sendmsg,
 * sendmmsg); a connect() to the name server connects the socket to the
 * answerer (and the send hooks know the socket by its record, kind
 * SFY_FD_DNS53, whose peer is the name server). Right after the send,
 * still in the hook, the answerer's queue is read and each query answered
 * by a datagram from the answerer to the query's source address: by the
 * time the program waits, the answer is in its socket. Reading the answer,
 * the source the kernel reports (the answerer) is turned into the name
 * server's address and port 53 (recvfrom, recvmsg, recvmmsg; getpeername
 * of a connected socket says the name server too): dig and c-ares drop
 * answers from any other address.
 *
 * An IPv6 name server is reached through the IPv4-mapped form of the
 * answerer's address (::ffff:127.0.0.1:L): an AF_INET6 socket with
 * IPV6_V6ONLY cannot send there and gets the kernel's error. getsockname
 * of a socket connected to a name server shows its loopback side. A
 * query sent where no hook sees it (a raw system call on a connected
 * socket, io_uring) waits in the answerer unanswered until the next hooked
 * send: never sent anywhere else.
 *
 * TCP (dig +tcp, a truncated answer's retry): a connect() to the name
 * server connects to the answerer's TCP listener on the same port, and
 * after each send the library answers the complete queries on its end of
 * that connection (dns53_tcp.c).
 *
 * The answerers are made on first use, kept for the life of the process
 * (shared by fork children, which may answer each other's queries: each
 * answer goes to its query's source), and checked by identity (fdid.h)
 * before each use; one the program closed is made again.
 *
 * Internal, hidden.
 */
#ifndef SOCKSIFY_PRELOAD_DNS53_H
#define SOCKSIFY_PRELOAD_DNS53_H

#include <netinet/in.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <sys/uio.h>

/* Set once an answerer exists: until then no received address needs a
 * look (one relaxed load in the receive hooks). */
extern atomic_bool sfy_dns53_on __attribute__((visibility("hidden")));

/* The inline first look of the send and connect hooks, as cheap as it
 * can be (every connect and sendto pays it): an address long enough for
 * AF_INET whose port field says 53 (sin6_port is where sin_port is); the
 * family and length are checked out of line (sfy_is_inet). */
static inline bool sfy_dns53_port(const struct sockaddr *sa, socklen_t len)
{
	return __builtin_expect(sa && len >= sizeof(struct sockaddr_in) &&
					((const struct sockaddr_in *)sa)->sin_port ==
						htons(53),
				0);
}

/* sendto()/sendmsg() (and each of sendmmsg()'s messages) of msg with its
 * address, port 53: true when the datagram was the answerer's, with the
 * call's result (bytes or -errno) in *rc; false: route it as any. */
bool sfy_dns53_sendmsg(int fd, const struct msghdr *msg, int flags,
		       ssize_t *rc);

/* connect(): true when sa is a name server and fd a UDP socket, fd then
 * connected to its answerer (or not, with -errno in *rc, the kernel's). */
bool sfy_dns53_connect(int fd, const struct sockaddr *sa, socklen_t len,
		       int *rc);

/* send()/write()/writev()/sendmsg() without an address on a socket
 * connected to a name server (record kind SFY_FD_DNS53): the real send
 * (to the answerer), then the answers. *handled 0: not such a socket. */
ssize_t sfy_dns53_send_connected(int fd, const struct msghdr *msg, int flags,
				 int *handled);

/* After connect(AF_UNSPEC) or a connect elsewhere succeeded: fd is no
 * longer connected to a name server. */
void sfy_dns53_disconnected(int fd);

void sfy_dns53_source_slow(struct sockaddr *sa, socklen_t cap,
			   socklen_t *len);

/* Whether the process has an answerer (one relaxed load). */
static inline bool sfy_dns53_active(void)
{
	return __builtin_expect(atomic_load_explicit(&sfy_dns53_on,
						     memory_order_relaxed), 0);
}

/* A received datagram's source sa (cap bytes of room, *len as the kernel
 * set it): an answerer's address becomes its name server's (port 53). */
static inline void sfy_dns53_source(void *sa, socklen_t cap, socklen_t *len)
{
	if (sfy_dns53_active() && sa && len && cap)
		sfy_dns53_source_slow(sa, cap, len);
}

/* Internal to dns53.c and dns53_tcp.c: the answer to query q (n bytes)
 * into p; its length, or 0 for no answer (not one question). */
struct sfy_dns_packet;
size_t sfy_dns53_answer(const unsigned char *q, size_t n,
			struct sfy_dns_packet *p);
/* After the program's send on a stream socket connected to the listener
 * (the answerer's TCP side): its complete queries answered. */
void sfy_dns53_tcp_sent(int fd, int listener);

#endif
