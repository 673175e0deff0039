/*
 * The handshake state machine (handshake.c) as the I/O driver (io.c) sees
 * it. Internal to libsocks5: the public entry points are in socks5.h.
 *
 * The machine does no I/O. While hs_sending() it has bytes to go out
 * (hs_out); otherwise it says where to put input and how much it may take
 * (hs_in), never more than the replies still due, so nothing the proxy
 * sends after its last reply is ever read.
 */
#ifndef SOCKSIFY_CLIENT_HS_H
#define SOCKSIFY_CLIENT_HS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "socks5.h"

enum hs_state {
	HS_GREETING_SEND,
	HS_METHOD_RECV,
	HS_AUTH_SEND,
	HS_AUTH_RECV,
	HS_REQUEST_SEND,
	HS_REPLY_RECV,
	HS_DONE,
	HS_FAILED,
	HS_STATE_COUNT
};

/* Greeting (at most 2 + 2 methods), credentials and request in one write. */
#define HS_OUT_MAX (4 + SOCKS5_MSG_MAX + SOCKS5_REQUEST_MAX)

struct hs {
	enum hs_state state;
	const struct socks5_proxy *chain; /* NULL when reading a lone reply */
	size_t nhops;
	size_t hop;                       /* hop being negotiated */
	uint8_t cmd;                      /* for the last hop */
	const struct socks5_addr *dst;    /* for the last hop */
	uint32_t pipeline;                /* bit i: hop i is pipelined */
	bool piped;                       /* the current hop is */

	uint8_t offered[2];               /* methods in the greeting */
	size_t n_offered;

	uint8_t out[HS_OUT_MAX];          /* bytes to send */
	size_t out_len, out_off;

	uint8_t in[SOCKS5_REQUEST_MAX];   /* received, not yet consumed; */
	size_t in_len;                    /* the current message starts at in[0] */
	size_t want;                      /* bytes that may be read now */

	bool answered;                    /* the proxy sent at least a byte */
	bool replied;                     /* a request reply parsed (any REP) */

	struct socks5_reply reply;        /* the last hop's reply */
	struct socks5_failure fail;

	/* socks5_hs_opts.trace, told of every state entered */
	void (*trace)(void *arg, size_t hop, const char *state);
	void *trace_arg;
};

/* A handshake over chain to dst (see socks5_handshake_ex). */
void hs_begin(struct hs *h, const struct socks5_proxy *chain, size_t nhops,
	      uint8_t cmd, const struct socks5_addr *dst, uint32_t pipeline);
/* Reading one request reply alone (BIND's second reply). */
void hs_begin_reply(struct hs *h);

bool hs_over(const struct hs *h);    /* DONE or FAILED */
bool hs_sending(const struct hs *h);

/* The bytes still to send; then how many of them went out. */
const uint8_t *hs_out(const struct hs *h, size_t *len);
void hs_sent(struct hs *h, size_t n);

/* Where to read, and at most how many bytes; then how many came. */
uint8_t *hs_in(struct hs *h, size_t *max);
void hs_received(struct hs *h, size_t n);

/* Stops the machine, recording where and why. */
void hs_fail(struct hs *h, enum socks5_status st, int sys_errno);

/*
 * One descriptor's share of the driver: the machine, and what it waits
 * for. A side task (the pipelining probe) may still be connecting.
 */
struct hs_task {
	struct hs *h;
	int fd;
	bool wait;          /* poll for events before the next I/O */
	short events;
	bool connecting;    /* side task: connect() in progress */
	bool dead;          /* side task: given up (connect failed) */
	int64_t rx_ms;      /* when bytes last came (socks5_now_ms) */
};

/*
 * Runs main's machine to its end, and side's (may be NULL) alongside as far
 * as it gets meanwhile, in one poll loop; never past deadline_ms. main's
 * descriptor is connected; I/O uses MSG_DONTWAIT, so its blocking mode does
 * not matter.
 */
void hs_drive(const struct socks5_io *io, struct hs_task *main_task,
	      struct hs_task *side, int64_t deadline_ms);

#endif
