/*
 * Protected streams: a proxied TCP socket whose GSSAPI hop agreed on
 * integrity or confidentiality (RFC 1961 section 5). See gss_stream.c for
 * the design. The data hooks ask sfy_gss_of() first: one relaxed load
 * while no protected stream exists in the process.
 */
#ifndef SOCKSIFY_PRELOAD_TCP_GSS_STREAM_H
#define SOCKSIFY_PRELOAD_TCP_GSS_STREAM_H

#include <poll.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <sys/uio.h>

struct socks5_gss_sec;

/* Streams alive (hidden): the data hooks' fast check. */
extern atomic_int sfy_gss_live __attribute__((visibility("hidden")));

/* fd's stream slot (1-based), 0 for none; the fast check inline. */
int sfy_gss_slot_slow(int fd);
static inline int sfy_gss_of(int fd)
{
	if (__builtin_expect(!atomic_load_explicit(&sfy_gss_live,
						   memory_order_relaxed), 1))
		return 0;
	return sfy_gss_slot_slow(fd);
}

/* After a handshake that handed over sec: fd's data is wrapped from now
 * on. Takes sec (freed on failure). 0 or -errno (-ENOMEM, -EMFILE for a
 * descriptor beyond the table). */
int sfy_gss_adopt(int fd, struct socks5_gss_sec *sec);

/* The data calls (gss_io.c): true when fd is a protected stream and the
 * call was answered there, *rc the bytes moved or -errno; false: the
 * caller makes its own call. flags are send()'s or recv()'s. Callers ask
 * sfy_gss_of() first. One entry with a direction; the hooks call the
 * wrappers below. */
enum sfy_gss_dir { SFY_GSS_SEND, SFY_GSS_RECV };
bool sfy_gss_io(int fd, enum sfy_gss_dir dir, const struct iovec *iov,
		int iovcnt, int flags, ssize_t *rc);

static inline bool sfy_gss_send(int fd, const struct iovec *iov, int iovcnt,
				int flags, ssize_t *rc)
{
	return sfy_gss_io(fd, SFY_GSS_SEND, iov, iovcnt, flags, rc);
}

static inline bool sfy_gss_recv(int fd, const struct iovec *iov, int iovcnt,
				int flags, ssize_t *rc)
{
	return sfy_gss_io(fd, SFY_GSS_RECV, iov, iovcnt, flags, rc);
}

static inline bool sfy_gss_send1(int fd, const void *buf, size_t n, int flags,
				 ssize_t *rc)
{
	struct iovec iov = { .iov_base = (void *)buf, .iov_len = n };

	return sfy_gss_io(fd, SFY_GSS_SEND, &iov, 1, flags, rc);
}

static inline bool sfy_gss_recv1(int fd, void *buf, size_t n, int flags,
				 ssize_t *rc)
{
	struct iovec iov = { .iov_base = buf, .iov_len = n };

	return sfy_gss_io(fd, SFY_GSS_RECV, &iov, 1, flags, rc);
}
/* sendmmsg() on a protected stream: each message wrapped in turn; the
 * count sent, -errno only when the first fails. */
int sfy_gss_sendmmsg(int fd, struct mmsghdr *vec, unsigned int vlen,
		     int flags);

/* close(), or a dup2() onto fd: fd no longer names its stream (the
 * stream goes when no descriptor names it). dup(): to names from's. */
void sfy_gss_forget(int fd);
void sfy_gss_dup(int from, int to);

/* Plaintext is buffered for fd (it reads without waiting although the
 * kernel may say otherwise): for poll, select and epoll. */
bool sfy_gss_readable(int fd);
/* Streams with buffered plaintext (the waits' fast check). */
extern atomic_int sfy_gss_buffered __attribute__((visibility("hidden")));

/* At load (init.c): the fork child's locks. */
void sfy_gss_init(void);

#endif
