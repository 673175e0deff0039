/*
 * Deadline-bounded I/O over struct socks5_io, for the handshake driver.
 * Internal to libsocks5: the public entry points are in socks5.h.
 */
#ifndef SOCKSIFY_CLIENT_IO_H
#define SOCKSIFY_CLIENT_IO_H

#include <stddef.h>
#include <stdint.h>

#include "socks5.h"

/*
 * Sends all len bytes, waiting with poll for room, never past deadline_ms.
 * Short writes, EINTR and EAGAIN are retried. Returns SOCKS5_OK,
 * SOCKS5_E_TIMEOUT, or SOCKS5_E_IO with the errno in *err.
 */
enum socks5_status socks5_io_send_all(const struct socks5_io *io, int fd,
				      const void *buf, size_t len,
				      int64_t deadline_ms, int *err);

/*
 * One successful recv of at most max bytes (max > 0), after poll says data
 * is there, never waiting past deadline_ms. Never reads more than max, so
 * the caller decides where a message ends. Returns SOCKS5_OK with *got > 0,
 * SOCKS5_E_CLOSED on end of stream, SOCKS5_E_TIMEOUT, or SOCKS5_E_IO with
 * the errno in *err.
 */
enum socks5_status socks5_io_recv_some(const struct socks5_io *io, int fd,
				       void *buf, size_t max,
				       int64_t deadline_ms, size_t *got,
				       int *err);

#endif
