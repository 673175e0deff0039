/*
 * The SOCKS5 handshake as one state machine (after curl's lib/socks.c),
 * for one hop or a chain of them:
 *
 *   GREETING_SEND -> METHOD_RECV -+-> REQUEST_SEND -> REPLY_RECV -> DONE
 *                                 |         ^              |
 *                                 +-> AUTH_SEND -> AUTH_RECV  |
 *                                                            |
 *   (not the last hop: REPLY_RECV -> GREETING_SEND of the next hop)
 *
 * Between hops the request is a CONNECT to the next hop; at the last hop it
 * is the caller's command to the caller's destination. Any state can go to
 * FAILED, which records where and why.
 *
 * Pipelining (a hop whose bit is set in the pipeline mask): GREETING_SEND
 * puts the greeting, the credentials and the request into one write, and
 * the receive states then follow each other without a send in between:
 *
 *   GREETING_SEND -> METHOD_RECV -> [AUTH_RECV] -> REPLY_RECV
 *
 * One round trip instead of two (three with a password). The method must
 * be predictable for that, so a pipelined greeting offers exactly one:
 * no-auth without credentials, username/password with them (lock-step
 * offers both, so a proxy that needs none still works). RFC 1928 does not
 * forbid a client to send before the answer, and dante and Tor read by
 * length; microsocks discards what follows the greeting in the same
 * segment, which is why pipelining is the caller's choice per hop (the
 * preload learns it with a probe: see socks5.h).
 *
 * Reads are framed by length: for the message being parsed, the codec's
 * "need N more" never reaches past its end; a pipelined hop may read ahead
 * into the replies still due, but only as far as their shortest possible
 * length (what each parser asks for before it has seen a byte). So nothing
 * the proxy sends after the last reply (a server that talks first) is ever
 * read: it stays in the socket for the program.
 *
 * Other hop types (SOCKS4, SOCKS4a, HTTP CONNECT) have no negotiation: a
 * hop of theirs goes straight to REQUEST_SEND (or DONE when nothing is to
 * be requested) and REPLY_RECV, with their own codec (socks4.c,
 * http_connect.c), and is never pipelined. A SOCKS4 reply has a fixed
 * length; an HTTP reply is read in counts its parser gives, which never
 * reach past the empty line that ends it. Only a SOCKS5 hop can carry
 * BIND or UDP ASSOCIATE (SOCKS5_E_HOP_CMD).
 *
 * The machine does no I/O (io.c drives it; the caller may too: socks5.h).
 * No globals; the state lives on the caller's stack.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "hs.h"
#include "socks5_gssapi.h"
#include "wipe.h"

/* For struct socks5_failure.state and log lines. */
static const char *const hs_state_names[SOCKS5_HS_STATE_COUNT] = {
	[SOCKS5_HS_GREETING_SEND] = "greeting-send",
	[SOCKS5_HS_METHOD_RECV] = "method-recv",
	[SOCKS5_HS_AUTH_SEND] = "auth-send",
	[SOCKS5_HS_AUTH_RECV] = "auth-recv",
	[SOCKS5_HS_GSS_SEND] = "gssapi-send",
	[SOCKS5_HS_GSS_RECV] = "gssapi-recv",
	[SOCKS5_HS_REQUEST_SEND] = "request-send",
	[SOCKS5_HS_REPLY_RECV] = "reply-recv",
	[SOCKS5_HS_DONE] = "done",
	[SOCKS5_HS_FAILED] = "failed",
};

static void hs_enter(struct socks5_hs *h, enum socks5_hs_state next);

/* GSSAPI messages (and, at a protected level, the wrapped request) are
 * sent from gss_buf's send half; the rest from h->out. */
static uint8_t *out_buf(struct socks5_hs *h)
{
	if (h->gss_buf && (h->state == SOCKS5_HS_GSS_SEND ||
			   (h->state == SOCKS5_HS_REQUEST_SEND && h->gss_wrap)))
		return h->gss_buf + SOCKS5_GSS_FRAME_MAX;
	return h->out;
}

/* GSSAPI messages (and, at a protected level, the reply's) are read
 * whole into gss_buf's receive half. */
static bool in_gss(const struct socks5_hs *h)
{
	return h->gss_buf && (h->state == SOCKS5_HS_GSS_RECV ||
			      (h->state == SOCKS5_HS_REPLY_RECV && h->gss_wrap));
}

void socks5_hs_fail(struct socks5_hs *h, enum socks5_status st, int sys_errno)
{
	if (h->state == SOCKS5_HS_GSS_RECV)
		st = socks5_hs_gss_closed(h, st);
	h->fail.status = st;
	h->fail.sys_errno = sys_errno;
	h->fail.hop = (int)h->hop;
	h->fail.state = hs_state_names[h->state];
	h->state = SOCKS5_HS_FAILED;
	if (h->trace)
		h->trace(h->trace_arg, h->hop, hs_state_names[SOCKS5_HS_FAILED]);
}

bool socks5_hs_over(const struct socks5_hs *h)
{
	return h->state == SOCKS5_HS_DONE || h->state == SOCKS5_HS_FAILED;
}

bool socks5_hs_sending(const struct socks5_hs *h)
{
	return h->state == SOCKS5_HS_GREETING_SEND ||
	       h->state == SOCKS5_HS_AUTH_SEND ||
	       h->state == SOCKS5_HS_GSS_SEND ||
	       h->state == SOCKS5_HS_REQUEST_SEND;
}

/* A request follows the current hop's negotiation: always between hops,
 * at the last hop when there is a destination. */
static bool request_due(const struct socks5_hs *h)
{
	return h->dst || h->hop + 1 < h->nhops;
}

/* What the current hop speaks (a lone reply is SOCKS5's). */
static uint8_t hop_type(const struct socks5_hs *h)
{
	return h->chain ? socks5_hs_hop_at(h, h->hop)->type : SOCKS5_HOP_SOCKS5;
}

/*
 * The address a request names at the current hop: the next hop's host
 * (an IP literal when it is one, else a name the hop resolves), or the
 * caller's destination at the last hop.
 */
enum socks5_status socks5_hs_target(const struct socks5_hs *h,
				    struct socks5_addr *a, uint8_t *cmd)
{
	if (!h->chain || !request_due(h))
		return SOCKS5_E_ARG;
	if (h->hop + 1 >= h->nhops) {
		*a = *h->dst;
		*cmd = h->cmd;
		return SOCKS5_OK;
	}
	*cmd = SOCKS5_CMD_CONNECT;
	return socks5_proxy_addr(socks5_hs_hop_at(h, h->hop + 1), a);
}

static enum socks5_status encode_greeting(struct socks5_hs *h, size_t *len)
{
	const struct socks5_proxy *p = socks5_hs_hop_at(h, h->hop);

	h->n_offered = 0;
	/* GSSAPI asked for: that method only (never pipelined), so a proxy
	 * cannot talk the client down to no authentication. */
	if (p->gssapi)
		h->offered[h->n_offered++] = SOCKS5_METHOD_GSSAPI;
	else
	/* Lock-step offers no-auth beside the password: a proxy that needs
	 * none still works, and one that wants it picks 0x02. Pipelined, the
	 * choice must be known in advance, so only one method is offered. */
	if (!p->has_auth || !h->piped)
		h->offered[h->n_offered++] = SOCKS5_METHOD_NOAUTH;
	if (p->has_auth)
		h->offered[h->n_offered++] = SOCKS5_METHOD_USERPASS;
	return socks5_encode_greeting(h->out + h->out_len,
				      sizeof(h->out) - h->out_len, h->offered,
				      h->n_offered, len);
}

static enum socks5_status encode_auth(struct socks5_hs *h, size_t *len)
{
	const struct socks5_proxy *p = socks5_hs_hop_at(h, h->hop);

	return socks5_encode_auth(h->out + h->out_len,
				  sizeof(h->out) - h->out_len, p->user,
				  p->user_len, p->pass, p->pass_len, len);
}

static enum socks5_status encode_request(struct socks5_hs *h, size_t *len)
{
	struct socks5_addr target;
	enum socks5_status st;
	uint8_t cmd;

	const struct socks5_proxy *p;
	uint8_t *buf = h->out + h->out_len;
	size_t cap = sizeof(h->out) - h->out_len;

	st = socks5_hs_target(h, &target, &cmd);
	if (st != SOCKS5_OK)
		return st;
	p = socks5_hs_hop_at(h, h->hop);
	if (p->type != SOCKS5_HOP_SOCKS5 && cmd != SOCKS5_CMD_CONNECT)
		return SOCKS5_E_HOP_CMD;
	switch (p->type) {
	case SOCKS5_HOP_SOCKS4:
	case SOCKS5_HOP_SOCKS4A:
		return socks5_encode_socks4(buf, cap, cmd, &target, p->user,
					    p->has_auth ? p->user_len : 0,
					    p->type == SOCKS5_HOP_SOCKS4A, len);
	case SOCKS5_HOP_HTTP:
		socks5_http_reply_init(&h->http);
		return socks5_encode_http_connect(buf, cap, &target, p->user,
						  p->has_auth ? p->user_len : 0,
						  p->pass, p->pass_len, len);
	default:
		return socks5_encode_request(buf, cap, cmd, &target, len);
	}
}

/* Appends the message of state s to h->out; on failure, FAILED in s. */
static bool hs_append(struct socks5_hs *h, enum socks5_hs_state s)
{
	enum socks5_status st;
	size_t n = 0;

	if (s == SOCKS5_HS_GREETING_SEND)
		st = encode_greeting(h, &n);
	else if (s == SOCKS5_HS_AUTH_SEND)
		st = encode_auth(h, &n);
	else
		st = encode_request(h, &n);
	if (st != SOCKS5_OK) {
		h->state = s; /* name the message that could not be made */
		socks5_hs_fail(h, st, 0);
		return false;
	}
	h->out_len += n;
	return true;
}

/* Fills h->out for the send state just entered: one message, or for a
 * pipelined hop all three. */
static void hs_encode(struct socks5_hs *h)
{
	enum socks5_hs_state s = h->state;

	enum socks5_status st;

	if (s == SOCKS5_HS_GSS_SEND)
		return; /* gss_context.c filled gss_buf */
	h->out_len = 0;
	h->out_off = 0;
	if (!hs_append(h, s))
		return;
	if (s == SOCKS5_HS_REQUEST_SEND && h->gss_wrap) {
		st = socks5_hs_gss_wrap_out(h);
		if (st != SOCKS5_OK)
			socks5_hs_fail(h, st, 0);
		return;
	}
	if (s != SOCKS5_HS_GREETING_SEND || !h->piped)
		return;
	if (socks5_hs_hop_at(h, h->hop)->has_auth &&
	    !hs_append(h, SOCKS5_HS_AUTH_SEND))
		return;
	if (request_due(h))
		hs_append(h, SOCKS5_HS_REQUEST_SEND);
}

/* Bytes the parser of a receive state asks for before it has seen any:
 * a safe lower bound on that message's length. */
static size_t first_ask(enum socks5_hs_state s)
{
	struct socks5_reply r;
	uint8_t method;
	size_t n = 0;

	if (s == SOCKS5_HS_METHOD_RECV)
		socks5_parse_method(NULL, 0, NULL, 0, &method, &n);
	else if (s == SOCKS5_HS_AUTH_RECV)
		socks5_parse_auth_reply(NULL, 0, &n);
	else
		socks5_parse_reply(NULL, 0, &r, &n);
	return n;
}

/* Bytes of the replies due after the current one on a pipelined hop that
 * may be read now. Only method and auth replies are followed by more, and
 * their "need" reaches exactly to their end, so adding is safe. */
static size_t lookahead(const struct socks5_hs *h)
{
	size_t n = 0;

	if (!h->piped)
		return 0;
	if (h->state == SOCKS5_HS_METHOD_RECV &&
	    socks5_hs_hop_at(h, h->hop)->has_auth)
		n += first_ask(SOCKS5_HS_AUTH_RECV);
	if ((h->state == SOCKS5_HS_METHOD_RECV ||
	     h->state == SOCKS5_HS_AUTH_RECV) && request_due(h))
		n += first_ask(SOCKS5_HS_REPLY_RECV);
	return n;
}

/* After a GSSAPI step: another message to send, the state after
 * authentication once the level is agreed, or FAILED. */
static enum socks5_hs_state hs_gss(struct socks5_hs *h, enum socks5_status st,
				   bool agreed)
{
	if (st != SOCKS5_OK) {
		socks5_hs_gss_end(h);
		socks5_hs_fail(h, st, 0);
		return SOCKS5_HS_FAILED;
	}
	if (!agreed)
		return SOCKS5_HS_GSS_SEND;
	/* Level clear: nothing is wrapped from here on; a protected level
	 * keeps the context for the request, the reply and the data. */
	if (!h->gss_wrap)
		socks5_hs_gss_end(h);
	return request_due(h) ? SOCKS5_HS_REQUEST_SEND : SOCKS5_HS_DONE;
}

/* A whole RFC 1961 message in h->in (socks5_hs_gss_recv), then the
 * state after it (FAILED: already failed). */
static enum socks5_status parse_gss(struct socks5_hs *h, size_t *n,
				    enum socks5_hs_state *next)
{
	bool agreed = false;
	enum socks5_status st = socks5_hs_gss_recv(h, n, &agreed);

	if (st == SOCKS5_OK || st > SOCKS5_NEED_MORE)
		*next = hs_gss(h, st, agreed);
	return st == SOCKS5_NEED_MORE ? st : SOCKS5_OK;
}

/* The state after a complete, valid message in the receive state. */
static enum socks5_hs_state hs_next(struct socks5_hs *h, uint8_t method)
{
	switch (h->state) {
	case SOCKS5_HS_METHOD_RECV:
		if (method == SOCKS5_METHOD_USERPASS)
			return h->piped ? SOCKS5_HS_AUTH_RECV : SOCKS5_HS_AUTH_SEND;
		if (method == SOCKS5_METHOD_GSSAPI)
			return hs_gss(h, socks5_hs_gss_begin(h), false);
		/* no-auth goes on as after authentication */
		__attribute__((fallthrough));
	case SOCKS5_HS_AUTH_RECV:
	case SOCKS5_HS_GSS_RECV:
		if (!request_due(h))
			return SOCKS5_HS_DONE;
		return h->piped ? SOCKS5_HS_REPLY_RECV : SOCKS5_HS_REQUEST_SEND;
	default: /* SOCKS5_HS_REPLY_RECV */
		if (hop_type(h) == SOCKS5_HOP_SOCKS5 &&
		    h->reply.rep != SOCKS5_REP_SUCCEEDED) {
			h->fail.rep = h->reply.rep;
			socks5_hs_fail(h, SOCKS5_E_REPLY, 0);
			return SOCKS5_HS_FAILED;
		}
		if (h->chain && h->hop + 1 < h->nhops) {
			h->hop++;
			return SOCKS5_HS_GREETING_SEND;
		}
		return SOCKS5_HS_DONE;
	}
}

/*
 * A SOCKS4 or HTTP hop's reply in h->in: SOCKS5_OK with *n its bytes
 * (granted or not: *verdict says), NEED_MORE with *n the most that may be
 * read next, or malformed. An HTTP reply is taken as it comes (the reads
 * never pass its end), so nothing is left in h->in.
 */
static enum socks5_status parse_other(struct socks5_hs *h, size_t *n,
				      enum socks5_status *verdict)
{
	struct socks5_http_reply *r = &h->http;
	enum socks5_status st;
	size_t used = 0, want = 0;

	if (hop_type(h) != SOCKS5_HOP_HTTP) {
		st = socks5_parse_socks4_reply(h->in, h->in_len, &h->reply, n);
		if (st == SOCKS5_OK)
			*verdict = socks5_socks4_status(h->reply.rep);
		return st;
	}
	st = socks5_http_reply_feed(r, h->in, h->in_len, &used, &want);
	if (st == SOCKS5_NEED_MORE) {
		h->in_len = 0;
		*n = want;
		return st;
	}
	*n = used;
	if (st != SOCKS5_OK)
		return st;
	memset(&h->reply, 0, sizeof(h->reply));
	h->reply.bnd.atyp = SOCKS5_ATYP_IPV4; /* HTTP names none: 0.0.0.0:0 */
	h->fail.http_status = r->status;
	if (r->status >= 200 && r->status <= 299) {
		*verdict = SOCKS5_OK;
	} else {
		/* 407, and the 401 some proxies send for wrong credentials
		 * (tinyproxy 1.11), are about credentials: EACCES. */
		bool auth = r->status == 407 || r->status == 401;

		*verdict = auth ? SOCKS5_E_HTTP_AUTH : SOCKS5_E_HTTP_REFUSED;
		memcpy(h->fail.detail, auth ? r->auth : r->reason,
		       sizeof(h->fail.detail));
		h->fail.detail[sizeof(h->fail.detail) - 1] = '\0';
	}
	return st;
}

/* Parses the messages h->in holds, in order, until one is incomplete
 * (h->want says how much may be read next) or a send state is reached. */
static void hs_parse(struct socks5_hs *h)
{
	while (h->state == SOCKS5_HS_METHOD_RECV ||
	       h->state == SOCKS5_HS_AUTH_RECV ||
	       h->state == SOCKS5_HS_GSS_RECV ||
	       h->state == SOCKS5_HS_REPLY_RECV) {
		enum socks5_status st, verdict = SOCKS5_OK;
		enum socks5_hs_state next = SOCKS5_HS_FAILED;
		uint8_t method = 0;
		size_t n = 0;

		if (h->state == SOCKS5_HS_GSS_RECV)
			st = parse_gss(h, &n, &next);
		else if (h->state == SOCKS5_HS_REPLY_RECV && h->gss_wrap)
			st = socks5_hs_gss_reply(h, &n);
		else if (hop_type(h) != SOCKS5_HOP_SOCKS5)
			st = parse_other(h, &n, &verdict);
		else if (h->state == SOCKS5_HS_METHOD_RECV)
			st = socks5_parse_method(h->in, h->in_len, h->offered,
						 h->n_offered, &method, &n);
		else if (h->state == SOCKS5_HS_AUTH_RECV)
			st = socks5_parse_auth_reply(h->in, h->in_len, &n);
		else
			st = socks5_parse_reply(h->in, h->in_len, &h->reply, &n);
		if (st == SOCKS5_NEED_MORE) {
			h->want = n + lookahead(h);
			if (n == 0 || h->want > (in_gss(h) ?
						 SOCKS5_GSS_FRAME_MAX - h->gss_rx_len :
						 sizeof(h->in) - h->in_len))
				socks5_hs_fail(h, SOCKS5_E_ARG, 0); /* codec broke its word */
			return;
		}
		if (st != SOCKS5_OK || n > h->in_len) {
			if (h->state == SOCKS5_HS_GSS_RECV)
				socks5_hs_gss_end(h);
			if (h->state != SOCKS5_HS_FAILED)
				socks5_hs_fail(h, st != SOCKS5_OK ? st : SOCKS5_E_ARG, 0);
			return;
		}
		if (h->state == SOCKS5_HS_REPLY_RECV)
			h->replied = true;
		h->in_len -= n;
		memmove(h->in, h->in + n, h->in_len);
		if (verdict != SOCKS5_OK) {
			h->fail.rep = h->reply.rep;
			socks5_hs_fail(h, verdict, 0);
			return;
		}
		if (h->state != SOCKS5_HS_GSS_RECV && h->state != SOCKS5_HS_FAILED)
			next = hs_next(h, method);
		if (next != SOCKS5_HS_FAILED)
			hs_enter(h, next);
	}
}

/* The one place a new state is entered; runs what entering it means. */
static void hs_enter(struct socks5_hs *h, enum socks5_hs_state next)
{
	/* A raw hop is asked nothing: the hop after it speaks through it,
	 * and at the end the connection is made (no address comes back:
	 * 0.0.0.0:0, as for HTTP). A raw last hop cannot BIND or relay
	 * UDP. */
	while (next == SOCKS5_HS_GREETING_SEND &&
	       hop_type(h) == SOCKS5_HOP_RAW) {
		if (h->hop + 1 >= h->nhops && h->cmd != SOCKS5_CMD_CONNECT &&
		    h->dst) {
			h->state = next;
			socks5_hs_fail(h, SOCKS5_E_HOP_CMD, 0);
			return;
		}
		if (h->trace)
			h->trace(h->trace_arg, h->hop, hs_state_names[next]);
		if (h->hop + 1 < h->nhops) {
			h->hop++;
			continue;
		}
		memset(&h->reply, 0, sizeof(h->reply));
		h->reply.bnd.atyp = SOCKS5_ATYP_IPV4;
		next = SOCKS5_HS_DONE;
	}
	/* Only SOCKS5 negotiates: the other hop types start with their
	 * request, and a hop that is only checked is done once reached. */
	if (next == SOCKS5_HS_GREETING_SEND &&
	    hop_type(h) != SOCKS5_HOP_SOCKS5)
		next = request_due(h) ? SOCKS5_HS_REQUEST_SEND : SOCKS5_HS_DONE;
	h->state = next;
	if (h->trace)
		h->trace(h->trace_arg, h->hop, hs_state_names[next]);
	if (next == SOCKS5_HS_GREETING_SEND || next == SOCKS5_HS_REQUEST_SEND) {
		h->piped = next == SOCKS5_HS_GREETING_SEND && h->chain &&
			   h->hop < 32 && (h->pipeline >> h->hop & 1u) &&
			   !socks5_hs_hop_at(h, h->hop)->gssapi;
		if (h->in_len) { /* bytes past a hop's reply: cannot be */
			socks5_hs_fail(h, SOCKS5_E_ARG, 0);
			return;
		}
	}
	/* Data in the reply's wrapped message (Dante sends the reply in a
	 * message of its own): nowhere to keep it. */
	if (next == SOCKS5_HS_DONE && h->gss_wrap && h->in_len) {
		snprintf(h->fail.detail, sizeof(h->fail.detail),
			 "%u bytes past the wrapped reply",
			 (unsigned)(h->in_len & 0xffff));
		socks5_hs_fail(h, SOCKS5_E_GSS_CONTEXT, 0);
		return;
	}
	if (socks5_hs_sending(h))
		hs_encode(h);
}

const uint8_t *socks5_hs_out(const struct socks5_hs *h, size_t *len)
{
	*len = h->out_len - h->out_off;
	return out_buf((struct socks5_hs *)h) + h->out_off;
}

void socks5_hs_sent(struct socks5_hs *h, size_t n)
{
	if (!socks5_hs_sending(h) || n > h->out_len - h->out_off) {
		if (!socks5_hs_over(h))
			socks5_hs_fail(h, SOCKS5_E_ARG, 0); /* caller's error */
		return;
	}
	h->out_off += n;
	if (h->out_off < h->out_len)
		return;
	/* The password is not left lying in a buffer. */
	explicit_bzero(out_buf(h), h->out_len);
	h->out_len = h->out_off = 0;
	h->state = h->state == SOCKS5_HS_AUTH_SEND ? SOCKS5_HS_AUTH_RECV :
		   h->state == SOCKS5_HS_GSS_SEND ? SOCKS5_HS_GSS_RECV :
		   h->state == SOCKS5_HS_REQUEST_SEND ? SOCKS5_HS_REPLY_RECV :
						 SOCKS5_HS_METHOD_RECV;
	if (h->trace)
		h->trace(h->trace_arg, h->hop, hs_state_names[h->state]);
	hs_parse(h); /* with what is buffered (nothing): learns h->want */
}

uint8_t *socks5_hs_in(struct socks5_hs *h, size_t *max)
{
	*max = socks5_hs_over(h) || socks5_hs_sending(h) ? 0 : h->want;
	if (in_gss(h))
		return h->gss_buf + h->gss_rx_len;
	return h->in + h->in_len;
}

void socks5_hs_received(struct socks5_hs *h, size_t n)
{
	if (socks5_hs_over(h) || socks5_hs_sending(h) || n > h->want) {
		if (!socks5_hs_over(h))
			socks5_hs_fail(h, SOCKS5_E_ARG, 0); /* caller's error */
		return;
	}
	if (in_gss(h))
		h->gss_rx_len += n;
	else
		h->in_len += n;
	h->answered = true;
	hs_parse(h);
}

static void hs_init(struct socks5_hs *h)
{
	memset(h, 0, sizeof(*h));
	h->fail.status = SOCKS5_OK;
	h->fail.hop = -1;
	h->fail.state = hs_state_names[SOCKS5_HS_GREETING_SEND];
}

static bool chain_ok(const struct socks5_proxy *chain, size_t nhops,
		     const uint16_t *pick)
{
	size_t i;

	if (!chain || nhops == 0 || nhops > SOCKS5_CHAIN_MAX)
		return false;
	for (i = 0; i < nhops; i++)
		if ((pick && pick[i] >= SOCKS5_CHAIN_MAX) ||
		    chain[pick ? pick[i] : i].host[0] == '\0')
			return false;
	return true;
}

/* A machine that cannot start: FAILED, naming no hop. */
static void hs_refuse(struct socks5_hs *h)
{
	hs_init(h);
	h->fail.status = SOCKS5_E_ARG;
	h->state = SOCKS5_HS_FAILED;
}

void socks5_hs_begin(struct socks5_hs *h, const struct socks5_proxy *chain,
		     size_t nhops, uint8_t cmd, const struct socks5_addr *dst,
		     const struct socks5_hs_opts *opts)
{
	const uint16_t *pick = opts ? opts->pick : NULL;

	if (!chain_ok(chain, nhops, pick)) {
		hs_refuse(h);
		return;
	}
	hs_init(h);
	h->chain = chain;
	h->pick = pick;
	h->nhops = nhops;
	h->cmd = cmd;
	h->dst = dst;
	if (opts) {
		h->pipeline = opts->pipeline;
		h->trace = opts->trace;
		h->trace_arg = opts->trace_arg;
	}
	hs_enter(h, SOCKS5_HS_GREETING_SEND);
}

/* BIND's second reply: the machine entered straight at REPLY_RECV of a
 * one-hop "chain", so it ends in DONE after one reply. */
void socks5_hs_begin_reply(struct socks5_hs *h)
{
	hs_init(h);
	h->nhops = 1;
	h->state = SOCKS5_HS_REPLY_RECV;
	hs_parse(h);
}

enum socks5_hs_state socks5_hs_state(const struct socks5_hs *h)
{
	return h->state;
}

const char *socks5_hs_state_name(enum socks5_hs_state s)
{
	if ((unsigned)s >= SOCKS5_HS_STATE_COUNT)
		return "unknown";
	return hs_state_names[s];
}

size_t socks5_hs_hop(const struct socks5_hs *h)
{
	return h->hop;
}

const struct socks5_reply *socks5_hs_reply(const struct socks5_hs *h)
{
	return &h->reply;
}

const uint8_t *socks5_hs_pending(const struct socks5_hs *h, size_t *len)
{
	*len = h->in_len;
	return h->in;
}

static bool chain_has_password(const struct socks5_hs *h)
{
	size_t i;

	for (i = 0; h->chain && i < h->nhops; i++)
		if (socks5_hs_hop_at(h, i)->has_auth)
			return true;
	return false;
}

int socks5_hs_result(struct socks5_hs *h, struct socks5_reply *bound,
		     struct socks5_failure *why)
{
	int rc = 0;

	if (!socks5_hs_over(h))
		return -EINPROGRESS;
	socks5_hs_gss_end(h);
	explicit_bzero(h->out, sizeof(h->out));
	if (chain_has_password(h))
		socks5_wipe_registers(); /* the password went out (wipe.h) */
	if (h->state == SOCKS5_HS_DONE) {
		h->fail.state = hs_state_names[SOCKS5_HS_DONE];
		if (bound)
			*bound = h->reply;
	} else {
		rc = -socks5_failure_errno(&h->fail);
	}
	if (why)
		*why = h->fail;
	return rc;
}
