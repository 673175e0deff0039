/*
 * UDP ASSOCIATE at a GSSAPI protection level (RFC 1961 section 6): every
 * datagram to and from the relay is the whole SOCKS UDP request (header
 * and data) gss_wrap'ed and framed as a per-message protected message
 * (ver 1, mtyp 3, length, token), with the context of the association's
 * control connection. Internal to udp_*.c; hidden.
 */
#ifndef SOCKSIFY_PRELOAD_UDP_UDP_GSS_H
#define SOCKSIFY_PRELOAD_UDP_UDP_GSS_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/types.h>

#include "base/sockaddr.h"

struct socks5_gss_sec;
struct sfy_udp_gss;

/* An association's protection: the address of its memory and the number
 * of calls inside it in one word (udp_gss.c); 0: none. */
typedef _Atomic uintptr_t sfy_udp_gss_slot;

/* The protection of a new association from the handshake's context
 * (taken: freed on failure) into slot (0 before): 0, or -ENOMEM. */
int sfy_udp_gss_start(sfy_udp_gss_slot *slot, struct socks5_gss_sec *sec);
/* For one call: the slot's protection, NULL when none; it stays mapped
 * until the call gives it back with put, even past the end. */
struct sfy_udp_gss *sfy_udp_gss_get(sfy_udp_gss_slot *slot);
void sfy_udp_gss_put(sfy_udp_gss_slot *slot, struct sfy_udp_gss *g);
/* At the association's end: the slot emptied and the context deleted
 * (calls still inside then fail with -EBADF); the memory is unmapped when
 * the last call inside gives it back. */
void sfy_udp_gss_end(sfy_udp_gss_slot *slot);

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
 * gets the same plaintext (a second unwrap would be a replay). Waits for
 * a datagram holding no lock; -EBADF when fd was closed meanwhile. */
ssize_t sfy_udp_gss_recvmsg(int fd, struct sfy_udp_gss *g,
			    const union sfy_inaddr *relay, struct msghdr *m,
			    int flags);

/* The caller drops the datagram it peeked at: it goes (the kernel's and
 * the one kept; g NULL: the kernel's). */
void sfy_udp_gss_consume(int fd, struct sfy_udp_gss *g);

/* In a fork child: the locks of the slot's protection (their holders
 * are not there). */
void sfy_udp_gss_child(sfy_udp_gss_slot *slot);

#endif
