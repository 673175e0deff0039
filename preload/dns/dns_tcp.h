/*
 * The TCP half of the local-DNS forwarder (udp_dns.c). glibc's resolver
 * asks again over TCP, at the same address, when an answer over UDP has
 * the TC bit (too large), and asks only over TCP with `options use-vc`.
 * The forwarder's address in _res is 127.0.0.1:P, so a TCP listener of
 * ours waits on that same port P; each connection the resolver makes
 * there is relayed, byte for byte (DNS over TCP: a 2-byte length, then
 * the message), to the real name server over a TCP connection through
 * the proxy (the same route the library gives any program's connect()
 * to that server).
 *
 * Internal, hidden; used only by the forwarder's thread, one connection
 * at a time (the resolver makes one at a time per call).
 */
#ifndef SOCKSIFY_PRELOAD_DNS_TCP_H
#define SOCKSIFY_PRELOAD_DNS_TCP_H

#include <poll.h>
#include <stdint.h>
#include <sys/socket.h>

#include "state/fdid.h"
#include "udp/udp_assoc.h"

/* A loopback UDP socket and a listening TCP socket on the same port
 * (127.0.0.1:*port). 0 or -errno; nothing is left open on failure. */
int sfy_dns_loopback_pair(int *udp, int *tcp, uint16_t *port);
/* The same on family's loopback (AF_INET: 127.0.0.1, AF_INET6: ::1). */
int sfy_dns_loopback_pair_in(int family, int *udp, int *tcp, uint16_t *port);

struct sfy_dns_tcp {
	int c;      /* the resolver's connection to our listener, or -1 */
	int u;      /* ours to the real name server, or -1 */
	struct sfy_fd_id cid, uid; /* what they held when made (fdid.h) */
};

void sfy_dns_tcp_init(struct sfy_dns_tcp *t);
/* The listener is readable: accepts the resolver's connection and
 * connects to the name server ns through the proxy (blocking, within the
 * proxy timeout). A connection that cannot be made is closed at once:
 * the resolver sees the server fail, as it would without us. */
void sfy_dns_tcp_accept(struct sfy_dns_tcp *t, int listener,
			const union sfy_inaddr *ns, socklen_t nslen);
/* Its descriptors into p (0, or 2 entries); returns how many. */
int sfy_dns_tcp_pollfds(const struct sfy_dns_tcp *t, struct pollfd *p);
/* After poll: moves what is readable across; ends the session when
 * either side is done. */
void sfy_dns_tcp_io(struct sfy_dns_tcp *t, const struct pollfd *p, int np);
void sfy_dns_tcp_end(struct sfy_dns_tcp *t);

#endif
