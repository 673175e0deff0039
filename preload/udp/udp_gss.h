/*
 * UDP ASSOCIATE at a GSSAPI protection level (RFC 1961 section 6): every
 * datagram to and from the relay is the whole SOCKS UDP request (header
 * and data) gss_wrap'ed and framed as a per-message protected message
 * (ver 1, mtyp 3, length, token), with the context of the association's
 * control connection. Internal to udp_*.c; hidden.
 */
#ifndef SOCKSIFY_PRELOAD_UDP_UDP_GSS_H
#define SOCKSIFY_PRELOAD_UDP_UDP_GSS_H

#include <stddef.h>
#include <sys/socket.h>
#include <sys/types.h>

#include "base/sockaddr.h"

struct socks5_gss_sec;
struct sfy_udp_gss;

/* The association's protection from the handshake's context (taken: freed
 * on failure), in reuse (an ended one of the same entry) or new memory.
 * NULL: out of memory. */
struct sfy_udp_gss *sfy_udp_gss_new(struct sfy_udp_gss *reuse,
				    struct socks5_gss_sec *sec);
/* At the association's end: the context deleted; the memory stays (a
 * thread may still be in a call on it), its calls then fail (-EBADF).
 * NULL: none. */
void sfy_udp_gss_end(struct sfy_udp_gss *g);

/* m's iovecs (the SOCKS UDP header first, hlen bytes, then the program's
 * payload) wrapped into one datagram sent with m's name and ancillary
 * data. The payload bytes sent or -errno: -EMSGSIZE when the wrapped
 * datagram would exceed max_dgram, -ECONNRESET when gss_wrap fails
 * (logged). */
ssize_t sfy_udp_gss_send(int fd, struct sfy_udp_gss *g,
			 const struct msghdr *m, size_t hlen, int flags,
			 size_t max_dgram);

/* recvmsg(fd, m, flags) for an association (g NULL: none, the kernel's
 * recvmsg as it is, -errno on failure); with protection, a datagram
 * from relay is unwrapped and its plaintext (the SOCKS UDP header and
 * data) scattered into m's iovecs, any other datagram as it came. Returns
 * the datagram's full length (as with MSG_TRUNC; msg_flags says
 * MSG_TRUNC when it did not fit) or -errno; -EBADMSG for a datagram from
 * the relay that is not a valid protected message (consumed even with
 * MSG_PEEK, logged): the caller drops it and waits for the next. A
 * datagram unwrapped for MSG_PEEK is kept, so that the read after it
 * gets the same plaintext (a second unwrap would be a replay). */
ssize_t sfy_udp_gss_recvmsg(int fd, struct sfy_udp_gss *g,
			    const union sfy_inaddr *relay, struct msghdr *m,
			    int flags);

/* The caller drops the datagram it peeked at: it goes (the kernel's and
 * the one kept; g NULL: the kernel's). */
void sfy_udp_gss_consume(int fd, struct sfy_udp_gss *g);

/* In a fork child: the locks of g (their holders are not there). */
void sfy_udp_gss_child(struct sfy_udp_gss *g);

#endif
