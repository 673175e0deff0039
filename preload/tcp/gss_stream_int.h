/*
 * Inside the protected streams (gss_stream.c: the table and the design;
 * gss_io.c: the data path). Not for the hooks: they use gss_stream.h.
 */
#ifndef SOCKSIFY_PRELOAD_TCP_GSS_STREAM_INT_H
#define SOCKSIFY_PRELOAD_TCP_GSS_STREAM_INT_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "socks5_gssapi.h"

#define SFY_GSS_MAX 256
#define SFY_GSS_FD_MAX 65536

struct bufs {
	uint8_t rx[SOCKS5_GSS_FRAME_MAX];     /* message being read */
	uint8_t plain[SOCKS5_GSS_TOKEN_MAX];  /* its plaintext, unread */
	uint8_t tx[SOCKS5_GSS_FRAME_MAX];     /* message being sent */
	uint8_t gather[SOCKS5_GSS_TOKEN_MAX]; /* plaintext for it */
};

struct stream {
	pthread_mutex_t rx_lock, tx_lock, gss_lock;
	atomic_int used;            /* slot taken */
	int refs;                   /* descriptors naming it */
	struct socks5_gss_sec *sec; /* NULL: free */
	struct bufs *b;
	size_t max;                 /* plaintext per message */
	size_t rx_len, plain_off, plain_len;
	atomic_bool counted;        /* in sfy_gss_buffered: plaintext */
	atomic_int broken;          /* -errno once it cannot go on */
};

/* Locks one direction of fd's stream (rx: receive), slot as found; NULL
 * when fd no longer names a live one (closed meanwhile). */
struct stream *sfy_gss_lock_stream(int fd, int slot, bool rx);

/* Under s->rx_lock: keeps sfy_gss_buffered (and sfy_async_live, which the
 * waits' fast paths look at) in step with s's plaintext. */
void sfy_gss_note_buffered(struct stream *s);

#endif
