/*
 * What the handshake (handshake.c) and its drivers (io.c) share beyond the
 * public machine of socks5.h. Internal to libsocks5: hidden from a shared
 * object that links the archive, and socks5_-prefixed like every global
 * name of the library (the Makefile refuses any other).
 */
#ifndef SOCKSIFY_CLIENT_HS_H
#define SOCKSIFY_CLIENT_HS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "socks5.h"

#define SOCKS5_INTERNAL __attribute__((visibility("hidden")))

/* Hop i of a machine's chain: chain[pick[i]] when the caller picked the
 * hops by index (socks5_hs_opts.pick), else chain[i]. */
static inline const struct socks5_proxy *socks5_hs_hop_at(
	const struct socks5_hs *h, size_t i)
{
	return &h->chain[h->pick ? h->pick[i] : i];
}

/*
 * One descriptor's share of the driver: the machine, and what it waits
 * for. A side task (the pipelining probe) may still be connecting.
 */
struct socks5_task {
	struct socks5_hs *h;
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
SOCKS5_INTERNAL void socks5_drive(const struct socks5_io *io,
				  struct socks5_task *main_task,
				  struct socks5_task *side,
				  int64_t deadline_ms);

/* A proxy URL's query (url_query.c): s[0..n) after the '?'. On failure
 * *why says what is wrong. */
SOCKS5_INTERNAL enum socks5_status socks5_url_query(const char *s, size_t n,
						    struct socks5_proxy *p,
						    const char **why);

/*
 * GSSAPI (gss_context.c). begin: loads the GSS-API library, names the
 * hop's service, puts the first context token in h->out. input: a server
 * message's token; either h->out holds the next message to send, or
 * *agreed says the protection level is settled. end: releases the
 * context (idempotent). Failures fill h->fail.detail with the
 * mechanism's words.
 */
SOCKS5_INTERNAL enum socks5_status socks5_hs_gss_begin(struct socks5_hs *h);
SOCKS5_INTERNAL enum socks5_status socks5_hs_gss_input(struct socks5_hs *h,
						       const uint8_t *tok,
						       size_t tlen,
						       bool *agreed);
SOCKS5_INTERNAL void socks5_hs_gss_end(struct socks5_hs *h);
/* In the GSS receive state: parses the message in h->in (NEED_MORE: *n
 * more bytes to read; OK: *n its length) and feeds its token to input. */
SOCKS5_INTERNAL enum socks5_status socks5_hs_gss_recv(struct socks5_hs *h,
						      size_t *n, bool *agreed);
/* A protected level agreed (h->gss_wrap): the request in h->out wrapped
 * into one message (in gss_buf's send half, h->out_len its length). */
SOCKS5_INTERNAL enum socks5_status socks5_hs_gss_wrap_out(struct socks5_hs *h);
/* The reply under a protected level: parses h->in, reading whole messages
 * into gss_buf and their plaintext into h->in until it is complete (as
 * socks5_parse_reply; NEED_MORE: *n bytes of a message to read). */
SOCKS5_INTERNAL enum socks5_status socks5_hs_gss_reply(struct socks5_hs *h,
						       size_t *n);
/* The status a failure st in the GSS receive state stands for: a close
 * after our level request is the level refused. */
SOCKS5_INTERNAL enum socks5_status socks5_hs_gss_closed(struct socks5_hs *h,
							enum socks5_status st);

#endif
