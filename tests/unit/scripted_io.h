/*
 * Scripted socket I/O for the handshake driver's unit tests: what the
 * proxy "sends" is a list of chunks, what the driver sends is checked byte
 * for byte against the expected stream as it goes out. Each chunk is
 * gated on how much the driver must have sent before the proxy would
 * answer, so a driver that reads ahead of the protocol is caught. Faults
 * (EINTR, short writes, stalls, resets, early close) are injected per
 * call.
 *
 * The state is one global, sio_st: Check runs every test in its own
 * forked process, so tests never share it. This file is linked into every
 * unit binary (see the Makefile), hence the sio_ prefix on every symbol.
 */
#ifndef SOCKSIFY_UNIT_SCRIPTED_IO_H
#define SOCKSIFY_UNIT_SCRIPTED_IO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "socks5.h"

#define SIO_MAX_CHUNKS 4096
#define SIO_MAX_FAULTS 64
#define SIO_STREAM_MAX 8192

struct sio_chunk {
	uint8_t data[600];
	size_t len, off;
	size_t need_sent; /* bytes the driver must have sent first */
	int err;          /* recv fails once with this errno */
	bool eof;         /* recv returns 0 */
	bool silent;      /* the proxy says nothing more, ever */
};

struct sio_state {
	/* what the driver must send, in order */
	uint8_t expect[SIO_STREAM_MAX];
	size_t expect_len;
	size_t sent;                /* bytes the driver sent so far */

	struct sio_chunk chunks[SIO_MAX_CHUNKS];
	size_t nchunks, cur;

	/* per-call faults, consumed in order */
	int poll_faults[SIO_MAX_FAULTS];  /* >0: errno for -1; -1: return 0 */
	size_t npoll, poll_i;
	/* >0: accept at most n; <0: -errno */
	ssize_t send_limits[SIO_MAX_FAULTS];
	size_t nsend, send_i;

	bool stall_out;   /* POLLOUT never comes */
	int recv_calls, send_calls, poll_calls;

	/* fcntl / connect scripting */
	int fl;           /* the descriptor's file status flags */
	int setfl_calls;
	int connect_errno; /* 0: connect succeeds; else -1 with it */
};

extern struct sio_state sio_st;
/* send/recv/poll/connect/fcntl that play the script */
extern const struct socks5_io sio_io;

void sio_reset(void);
/* The driver must send these bytes next. */
void sio_expect_send(const void *p, size_t n);
/* The proxy answers once everything expected so far has been sent. */
void sio_proxy_says(const void *p, size_t n);
void sio_proxy_err(int e);
void sio_proxy_eof(void);
void sio_proxy_silence(void);
/* The next poll fails with errno f (f > 0) or returns 0 (f == -1). */
void sio_poll_fault(int f);
/* The next send accepts at most n bytes (n > 0) or fails with -n. */
void sio_send_limit(ssize_t n);
/* Bytes left unread in the script (data the program would own). */
size_t sio_unread(void);

/* fixtures */
struct socks5_proxy sio_hop(const char *host, uint16_t port,
			    const char *user, const char *pass);
struct socks5_addr sio_ip4(uint8_t a, uint8_t b, uint8_t c, uint8_t d,
			   uint16_t port);

#define BYTES(...) ((const uint8_t[]){ __VA_ARGS__ })
#define SIO_EXPECT(a) sio_expect_send((a), sizeof(a))
#define SIO_SAYS(a) sio_proxy_says((a), sizeof(a))
#define SEND(...) SIO_EXPECT(BYTES(__VA_ARGS__))
#define SAYS(...) SIO_SAYS(BYTES(__VA_ARGS__))

extern const uint8_t SIO_GREET_NOAUTH[3];
extern const uint8_t SIO_GREET_USERPASS[4];
extern const uint8_t SIO_METHOD_NOAUTH[2];
extern const uint8_t SIO_METHOD_USERPASS[2];
/* CONNECT 192.0.2.7:80 */
extern const uint8_t SIO_REQ_CONNECT[10];
/* succeeded, BND 198.51.100.1:4660 */
extern const uint8_t SIO_REPLY_OK[10];

#define DEADLINE (socks5_now_ms() + 5000)

/* One hop through the scripted I/O on descriptor 3. */
int sio_run1(const struct socks5_proxy *p, uint8_t cmd,
	     const struct socks5_addr *dst, struct socks5_reply *r,
	     struct socks5_failure *why);
/* The plain script: no-auth CONNECT 192.0.2.7:80, success. */
void sio_script_plain(void);
/* r is SIO_REPLY_OK's success with BND 198.51.100.1:4660. */
void sio_assert_bound_ok(const struct socks5_reply *r);

#endif
