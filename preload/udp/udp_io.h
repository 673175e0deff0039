/*
 * The UDP data path through an association: datagrams out with the RFC
 * 1928 header in front (udp_send.c), datagrams in with it taken off
 * (udp_recv.c). Internal; hidden. Functions return a byte count or a
 * negative errno; the hooks turn that into errno.
 */
#ifndef SOCKSIFY_PRELOAD_UDP_IO_H
#define SOCKSIFY_PRELOAD_UDP_IO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <sys/uio.h>
#include <time.h>

#include "udp/udp_assoc.h"

/* The kernel's limit on iovecs in one call (IOV_MAX). */
#ifndef UIO_MAXIOV
#define UIO_MAXIOV 1024
#endif

/* The kernel's MSG_CMSG_COMPAT (bit 31, not in glibc's headers):
 * sendto(), send(), recv() and recvfrom() ignore it, sendmsg() and
 * recvmsg() refuse it with EINVAL. A relayed datagram goes by sendmsg()
 * and recvmsg(), so the calls that take it drop it first. */
#define SFY_NO_CMSG_COMPAT(flags) ((flags) & 0x7fffffff)

struct sfy_route;

/* A verdict SFY_VIA_RELAY (route/decide.h) for fd: r->info holds fd's
 * association, made now when it had none (udp_route.c). 0 or -errno. */
int sfy_udp_assoc_ensure(int fd, struct sfy_route *r);

/* connect() of a datagram socket through the relay (SFY_VIA_RELAY): the
 * association, then sfy_udp_connect. 0 or -errno. */
int sfy_udp_connect_via(int fd, const struct sockaddr *sa, socklen_t len,
			struct sfy_route *r);

/* After the real connect() of a datagram socket succeeded (a direct
 * destination, or AF_UNSPEC): it is no longer connected through the
 * proxy. errno is left as it was. */
void sfy_udp_after_connect(int fd);

/* connect(AF_UNSPEC) of a socket that may be associated: the real call,
 * after which the association keeps its port (udp_send.c). */
int sfy_udp_unconnect(int fd, const struct sockaddr *sa, socklen_t len);

/* The header for a destination the program named: IPv4, IPv6 (an
 * IPv4-mapped one as IPv4), or a fake address as its host name. *is_name
 * says which. -EHOSTUNREACH (logged) for a fake address whose name is
 * unknown here, -EINVAL for a short address. */
int sfy_udp_header(const struct sockaddr *sa, socklen_t len, uint8_t *hdr,
		   size_t *hlen, bool *is_name);

/* Room for two neighbouring iovecs of the program sent as one, when it
 * gives all UIO_MAXIOV of them (there is then always a pair this small:
 * a datagram holds at most 65535 bytes). */
#define SFY_UDP_BOUNCE 128

/* The first of the two neighbours (i, i + 1), i even, of v[0 .. n-1]
 * with the fewest bytes together: for n iovecs holding B bytes at most
 * 2B / n, so below SFY_UDP_BOUNCE for UIO_MAXIOV of them holding a
 * datagram. */
size_t sfy_iov_smallest_pair(const struct iovec *v, size_t n);

/* Checks that msg (with flags) can go through the relay with hdr in
 * front and fills iov[0 .. msg_iovlen] with hdr and msg's iovecs;
 * returns how many it filled. With UIO_MAXIOV iovecs in msg, two of them
 * are copied into bounce (SFY_UDP_BOUNCE bytes; NULL: -EMSGSIZE) and
 * share one entry, so the count stays within the kernel's limit.
 * -EMSGSIZE (too big, or more than UIO_MAXIOV iovecs, as the kernel
 * says), -EOPNOTSUPP (MSG_MORE; MSG_OOB towards IPv4). */
int sfy_udp_prepare(const struct sfy_assoc *a, const uint8_t *hdr,
		    size_t hlen, const struct msghdr *msg, int flags,
		    struct iovec *iov, uint8_t *bounce);

/* One datagram of the program (msg's iovecs and ancillary data; its name
 * is ignored) to the relay with hdr in front, with no copy of the payload.
 * connected: the kernel socket is connected to the relay (no address
 * needed). Returns the payload bytes sent or -errno (-EMSGSIZE when the
 * payload no longer fits beside the header, -ENETDOWN once the proxy
 * dropped the association). */
ssize_t sfy_udp_relay_send(int fd, struct sfy_assoc *a, bool connected,
			   const uint8_t *hdr, size_t hlen,
			   const struct msghdr *msg, int flags);

/* sendto()/sendmsg() with an address on an associated socket: the header
 * for sa, the send, and the note of the destination for replies. */
ssize_t sfy_udp_send_to(int fd, const struct sfy_fd_info *info,
			const struct sockaddr *sa, socklen_t salen,
			const struct msghdr *msg, int flags);

/* send(), write(), writev(), sendmsg() without an address on an
 * associated socket. Returns 1 in *handled when the socket is connected
 * through the proxy (the result is then the send's), else 0 and the
 * caller makes the real call (not connected, or connected direct). */
ssize_t sfy_udp_send_connected(int fd, const struct sfy_fd_info *info,
			       const struct msghdr *msg, int flags,
			       int *handled);

/* connect() of an associated (or to-be-associated) datagram socket to a
 * proxied destination: records it and connects the kernel socket to the
 * relay. 0 or -errno. */
int sfy_udp_connect(int fd, const struct sfy_fd_info *info,
		    const struct sockaddr *sa, socklen_t len);
/* connect() of an associated socket to a direct destination or
 * AF_UNSPEC succeeded: forget the proxied destination. */
void sfy_udp_disconnected(const struct sfy_fd_info *info);
/* getpeername() of an associated socket connected through the proxy:
 * the destination the program gave. 0, or -ENOTCONN. */
int sfy_udp_peer(const struct sfy_fd_info *info, struct sockaddr *sa,
		 socklen_t *len);

/*
 * recvmsg() on an associated socket: strips the header, drops datagrams
 * not from the relay (or from a direct source), with FRAG != 0 or
 * malformed, and reports the origin in the socket's family. msg is the
 * caller's (name, iovecs, control, flags out). Returns the payload length
 * (its full length with MSG_TRUNC in flags) or -errno.
 */
ssize_t sfy_udp_recvmsg(int fd, const struct sfy_fd_info *info,
			struct msghdr *msg, int flags);

/* recvmmsg() on an associated socket, one datagram at a time through
 * sfy_udp_recvmsg with the kernel's rules for flags and timeout. */
int sfy_udp_recvmmsg(int fd, const struct sfy_fd_info *info,
		     struct mmsghdr *vec, unsigned int vlen, int flags,
		     struct timespec *timeout);

#endif
