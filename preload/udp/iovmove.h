/*
 * memmove over a buffer spread over iovecs: a relayed datagram is read
 * with its SOCKS header into the caller's own buffers, and the payload is
 * then moved down over the header (udp_recv.c).
 */
#ifndef SOCKSIFY_PRELOAD_UDP_IOVMOVE_H
#define SOCKSIFY_PRELOAD_UDP_IOVMOVE_H

#include <stddef.h>
#include <sys/uio.h>

/* memmove(dst, src, len) over the logical buffer of iov[0..n), in chunks
 * that are contiguous on both sides, in the direction that never
 * overwrites a source byte before it is read. Bytes past the buffers'
 * end are not moved. */
void sfy_iov_move(const struct iovec *iov, int n, size_t dst, size_t src,
		  size_t len);

#endif
