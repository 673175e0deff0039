/*
 * The blocking drivers of the handshake machine (socks5_hs_*,
 * handshake.c): socks5_handshake_ex() and friends run the machine over a
 * descriptor through the caller's I/O table until it is done or the
 * deadline passes (socks5_drive, io.c), with the pipelining probe beside
 * it on a second connection.
 */
#include <string.h>

#include "hs.h"
#include "socks5_gssapi.h"

/*
 * The probe: on its own connection to hop 0, a pipelined greeting
 * [+ credentials] + CONNECT 0.0.0.0:0. Servers refuse that request at once
 * without dialling anything (dante: "unbound ipaddress", REP 8, in 0.3 ms
 * on loopback), so a well-formed reply of any REP proves the server read
 * the bytes that followed its greeting. The opposite needs more care: a
 * server that answered the greeting and then fell silent may have dropped
 * the rest (microsocks) or may still be checking the password (dante's
 * PAM takes 15-20 ms). So "no" is only concluded when nothing but the
 * request's reply is due and PROBE_QUIET_MS have passed since the
 * server's last answer, or when the server refused or broke off the
 * pipelined exchange; anything else is "undecided" (the caller may try
 * again later). A wrong "no" costs round trips; a wrong "yes" would cost
 * connections, and cannot happen: it needs an actual reply.
 */
#define PROBE_QUIET_MS 5

static const struct socks5_addr probe_dst = { .atyp = SOCKS5_ATYP_IPV4 };

void socks5_probe_begin(struct socks5_hs *h, const struct socks5_proxy *hop0)
{
	static const struct socks5_hs_opts piped = { .pipeline = 1 };

	socks5_hs_begin(h, hop0, 1, SOCKS5_CMD_CONNECT, &probe_dst, &piped);
}

enum socks5_probe socks5_probe_verdict(const struct socks5_hs *h,
				       int64_t quiet_ms)
{
	if (h->replied)
		return SOCKS5_PROBE_YES;
	if (!h->answered)
		return SOCKS5_PROBE_UNDECIDED;
	if (h->state == SOCKS5_HS_FAILED)
		return SOCKS5_PROBE_NO;
	if (h->state == SOCKS5_HS_REPLY_RECV && h->in_len == 0 &&
	    quiet_ms >= PROBE_QUIET_MS)
		return SOCKS5_PROBE_NO;
	return SOCKS5_PROBE_UNDECIDED;
}

int socks5_handshake_ex(const struct socks5_io *io, int fd,
			const struct socks5_proxy *chain, size_t nhops,
			uint8_t cmd, const struct socks5_addr *dst,
			int64_t deadline_ms, struct socks5_hs_opts *opts,
			struct socks5_reply *bound, struct socks5_failure *why)
{
	struct socks5_hs h, ph;
	struct socks5_task t = { .h = &h, .fd = fd };
	struct socks5_task pt = { .h = &ph, .connecting = true,
				  .events = POLLOUT, .wait = true };
	/* The probe speaks SOCKS5 to hop 0: nothing to learn from others. */
	size_t first = opts && opts->pick ? opts->pick[0] : 0;
	const struct socks5_proxy *hop0 = chain && nhops ? &chain[first] : NULL;
	bool probing = opts && opts->probe && opts->probe_fd >= 0 && hop0 &&
		       hop0->type == SOCKS5_HOP_SOCKS5;

	if (opts) {
		opts->probe_result = SOCKS5_PROBE_NONE;
		opts->gss_sec = NULL;
	}
	/* Without a chain the machine refuses to start (SOCKS5_E_ARG). */
	socks5_hs_begin(&h, io && fd >= 0 && dst ? chain : NULL, nhops, cmd,
			dst, opts);
	if (socks5_hs_state(&h) == SOCKS5_HS_FAILED)
		return socks5_hs_result(&h, NULL, why);
	if (probing) {
		pt.fd = opts->probe_fd;
		socks5_probe_begin(&ph, hop0);
	}
	socks5_drive(io, &t, probing ? &pt : NULL, deadline_ms);
	if (probing) {
		opts->probe_result =
			socks5_probe_verdict(&ph, socks5_now_ms() - pt.rx_ms);
		explicit_bzero(ph.out, sizeof(ph.out));
	}
	if (opts && opts->gss_take) {
		bool wrap = h.gss_wrap && socks5_hs_state(&h) == SOCKS5_HS_DONE;

		opts->gss_sec = socks5_hs_gss_take(&h);
		if (wrap && !opts->gss_sec) /* out of memory */
			socks5_hs_fail(&h, SOCKS5_E_GSS_CONTEXT, 0);
	}
	return socks5_hs_result(&h, bound, why);
}

int socks5_handshake(const struct socks5_io *io, int fd,
		     const struct socks5_proxy *chain, size_t nhops,
		     uint8_t cmd, const struct socks5_addr *dst,
		     int64_t deadline_ms, struct socks5_reply *bound,
		     struct socks5_failure *why)
{
	return socks5_handshake_ex(io, fd, chain, nhops, cmd, dst, deadline_ms,
				   NULL, bound, why);
}

/* The hop index is unknown here, so a failure names none. */
int socks5_read_reply(const struct socks5_io *io, int fd, int64_t deadline_ms,
		      struct socks5_reply *reply, struct socks5_failure *why)
{
	struct socks5_hs h;
	struct socks5_task t = { .h = &h, .fd = fd, .wait = true,
				 .events = POLLIN };

	if (!io || fd < 0) {
		socks5_hs_begin(&h, NULL, 0, 0, NULL, NULL); /* refused */
		return socks5_hs_result(&h, NULL, why);
	}
	socks5_hs_begin_reply(&h);
	socks5_drive(io, &t, NULL, deadline_ms);
	h.fail.hop = -1;
	return socks5_hs_result(&h, reply, why);
}
