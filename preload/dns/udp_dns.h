/*
 * Local DNS (socks5://) through the UDP association: glibc's resolver
 * lives inside libc and makes its system calls there (since glibc 2.34
 * its connect, sendmmsg, recvfrom cannot be interposed), so its queries
 * to a name server that only the proxy reaches would go out direct.
 *
 * Around each call of the real resolver (getaddrinfo, gethostbyname*,
 * gethostbyaddr*, getnameinfo) in local DNS mode, when a name server of
 * the calling thread's resolver state (_res) is a proxied destination,
 * that server's entry is pointed at a loopback socket of ours for the
 * duration of the call, and a short-lived thread forwards each query from
 * there through a UDP association to the real server and each answer
 * back. The resolver keeps all its own behaviour (search list, ndots,
 * attempts, timeouts, A and AAAA in parallel) and checks the answers
 * against the address it sent to, which is our loopback socket.
 *
 * Nothing happens (no thread, no socket) for numeric hosts, names in
 * /etc/hosts, name servers that go direct (loopback, SOCKSIFY_NO_PROXY),
 * SOCKSIFY_UDP=direct or block, or remote DNS (no query is made then).
 * The association is made on the first query only. An answer too large
 * for UDP (TC bit) makes the resolver ask again over TCP, and `options
 * use-vc` makes it ask only over TCP: those connections to our loopback
 * address are relayed over TCP through the proxy (dns_tcp.h).
 */
#ifndef SOCKSIFY_PRELOAD_UDP_DNS_H
#define SOCKSIFY_PRELOAD_UDP_DNS_H

#include <netinet/in.h>
#include <pthread.h>
#include <resolv.h>
#include <stdatomic.h>
#include <stdbool.h>

#include "state/fdid.h"
#include "udp/udp_assoc.h"

#define SFY_DNS_ID_STOP (2 * MAXNS)

struct sfy_dns_fwd {
	bool active;                    /* _res changed: end() restores it */
	bool running;                   /* the forwarder thread runs */
	int n;                          /* name servers forwarded */
	int idx[MAXNS];                 /* their index in _res */
	struct sockaddr_in saved[MAXNS]; /* their _res entries */
	union sfy_inaddr ns[MAXNS];     /* their real addresses */
	socklen_t nslen[MAXNS];
	int lsock[MAXNS];               /* our loopback sockets */
	int tsock[MAXNS];               /* TCP listeners, same ports (dns_tcp.h) */
	int stop[2];                    /* pipe: ends the thread */
	/* What each descriptor above held when made (fdid.h): lsock[i] at
	 * i, tsock[i] at MAXNS + i, stop[j] at SFY_DNS_ID_STOP + j. A
	 * number taken away behind our back is neither read nor closed. */
	struct sfy_fd_id id[2 * MAXNS + 2];
	atomic_bool stopping;
	unsigned long saved_options;
	pthread_t thread;
};

/* Before the real resolver runs on this thread for name (NULL: a reverse
 * lookup). Never fails: at worst nothing is set up. */
void sfy_dns_local_begin(struct sfy_dns_fwd *f, const char *name);
/* After it returned: stops the forwarder and restores _res. Keeps errno
 * and h_errno. */
void sfy_dns_local_end(struct sfy_dns_fwd *f);
/* Instead of begin: no name server reached at all for this call (their
 * entries point at loopback's discard port); end undoes it. For reverse
 * lookups that remote DNS must not send (hook_getnameinfo.c). */
void sfy_dns_blackhole_begin(struct sfy_dns_fwd *f);

#endif
