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
 * The machine does no I/O itself. It says what it needs next (bytes to send,
 * or how many bytes to read) and is told what happened; the blocking driver
 * at the bottom of this file performs that I/O with a deadline. A
 * non-blocking driver can reuse the machine unchanged, since it accepts
 * input in any chunking.
 *
 * Reads are framed by length: the parser's "need N more" count never
 * reaches past the end of the current message, and we never ask recv for
 * more than that. Whatever the proxy sends after its last reply (a server
 * that talks first, say) stays in the socket for the program.
 *
 * A later "pipelined" mode (greeting, auth and request in one write, for
 * proxies known to accept it) fits as a flag: hs_encode would append the
 * three messages to out at once, and the receive states would run in the
 * same order as now. It is not implemented; the default stays lock-step,
 * which every server accepts.
 *
 * No globals; the state lives on the caller's stack.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <string.h>

#include "io.h"

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

/* For struct socks5_failure.state and log lines. */
static const char *const hs_state_names[HS_STATE_COUNT] = {
	[HS_GREETING_SEND] = "greeting-send",
	[HS_METHOD_RECV] = "method-recv",
	[HS_AUTH_SEND] = "auth-send",
	[HS_AUTH_RECV] = "auth-recv",
	[HS_REQUEST_SEND] = "request-send",
	[HS_REPLY_RECV] = "reply-recv",
	[HS_DONE] = "done",
	[HS_FAILED] = "failed",
};

struct hs {
	enum hs_state state;
	const struct socks5_proxy *chain; /* NULL when reading a lone reply */
	size_t nhops;
	size_t hop;                       /* hop being negotiated */
	uint8_t cmd;                      /* for the last hop */
	const struct socks5_addr *dst;    /* for the last hop */

	uint8_t offered[2];               /* methods in the greeting */
	size_t n_offered;

	uint8_t out[SOCKS5_MSG_MAX];      /* message being sent */
	size_t out_len;

	uint8_t in[SOCKS5_REQUEST_MAX];   /* message being received */
	size_t in_len;
	size_t want;                      /* bytes to read next */

	struct socks5_reply reply;        /* the last hop's reply */
	struct socks5_failure fail;
};

static void hs_state(struct hs *h, enum hs_state next);

/* Records a failure in the state where it happened, then stops. */
static void hs_fail(struct hs *h, enum socks5_status st, int sys_errno)
{
	h->fail.status = st;
	h->fail.sys_errno = sys_errno;
	h->fail.hop = (int)h->hop;
	h->fail.state = hs_state_names[h->state];
	hs_state(h, HS_FAILED);
}

/*
 * The address a request names at the current hop: the next hop's host
 * (an IP literal when it is one, else a name the hop resolves), or the
 * caller's destination at the last hop.
 */
static enum socks5_status hs_target(const struct hs *h, struct socks5_addr *a,
				    uint8_t *cmd)
{
	const struct socks5_proxy *next;

	if (h->hop + 1 >= h->nhops) {
		*a = *h->dst;
		*cmd = h->cmd;
		return SOCKS5_OK;
	}
	next = &h->chain[h->hop + 1];
	*cmd = SOCKS5_CMD_CONNECT;
	memset(a, 0, sizeof(*a));
	a->port = next->port;
	if (inet_pton(AF_INET, next->host, a->u.ipv4) == 1) {
		a->atyp = SOCKS5_ATYP_IPV4;
		return SOCKS5_OK;
	}
	if (inet_pton(AF_INET6, next->host, a->u.ipv6) == 1) {
		a->atyp = SOCKS5_ATYP_IPV6;
		return SOCKS5_OK;
	}
	return socks5_addr_from_domain(a, next->host, strlen(next->host),
				       next->port);
}

/* Fills h->out with the message the (send) state stands for. */
static enum socks5_status hs_encode(struct hs *h)
{
	const struct socks5_proxy *p = &h->chain[h->hop];
	struct socks5_addr target;
	enum socks5_status st;
	uint8_t cmd;

	switch (h->state) {
	case HS_GREETING_SEND:
		/* With credentials, no-auth is offered too: a proxy that needs
		 * none still works, and one that wants them picks 0x02. */
		h->n_offered = 0;
		h->offered[h->n_offered++] = SOCKS5_METHOD_NOAUTH;
		if (p->has_auth)
			h->offered[h->n_offered++] = SOCKS5_METHOD_USERPASS;
		return socks5_encode_greeting(h->out, sizeof(h->out),
					      h->offered, h->n_offered,
					      &h->out_len);
	case HS_AUTH_SEND:
		return socks5_encode_auth(h->out, sizeof(h->out), p->user,
					  p->user_len, p->pass, p->pass_len,
					  &h->out_len);
	case HS_REQUEST_SEND:
		st = hs_target(h, &target, &cmd);
		if (st != SOCKS5_OK)
			return st;
		return socks5_encode_request(h->out, sizeof(h->out), cmd,
					     &target, &h->out_len);
	default:
		return SOCKS5_E_ARG;
	}
}

/*
 * Parses what h->in holds for the (receive) state: either sets h->want to
 * the bytes still missing, or moves on.
 */
static void hs_parse(struct hs *h)
{
	enum socks5_status st;
	size_t n = 0;
	uint8_t method = 0;

	switch (h->state) {
	case HS_METHOD_RECV:
		st = socks5_parse_method(h->in, h->in_len, h->offered,
					 h->n_offered, &method, &n);
		break;
	case HS_AUTH_RECV:
		st = socks5_parse_auth_reply(h->in, h->in_len, &n);
		break;
	case HS_REPLY_RECV:
		st = socks5_parse_reply(h->in, h->in_len, &h->reply, &n);
		break;
	default:
		st = SOCKS5_E_ARG;
		break;
	}
	if (st == SOCKS5_NEED_MORE) {
		if (n == 0 || n > sizeof(h->in) - h->in_len)
			hs_fail(h, SOCKS5_E_ARG, 0); /* codec broke its word */
		else
			h->want = n;
		return;
	}
	if (st != SOCKS5_OK) {
		hs_fail(h, st, 0);
		return;
	}

	switch (h->state) {
	case HS_METHOD_RECV:
		hs_state(h, method == SOCKS5_METHOD_USERPASS ? HS_AUTH_SEND :
							      HS_REQUEST_SEND);
		break;
	case HS_AUTH_RECV:
		hs_state(h, HS_REQUEST_SEND);
		break;
	default: /* HS_REPLY_RECV */
		if (h->reply.rep != SOCKS5_REP_SUCCEEDED) {
			h->fail.rep = h->reply.rep;
			hs_fail(h, SOCKS5_E_REPLY, 0);
		} else if (h->hop + 1 < h->nhops) {
			h->hop++;
			hs_state(h, HS_GREETING_SEND);
		} else {
			hs_state(h, HS_DONE);
		}
		break;
	}
}

/* The one place the state changes; runs what entering a state means. */
static void hs_state(struct hs *h, enum hs_state next)
{
	enum socks5_status st;

	h->state = next;
	switch (next) {
	case HS_GREETING_SEND:
	case HS_AUTH_SEND:
	case HS_REQUEST_SEND:
		st = hs_encode(h);
		if (st != SOCKS5_OK)
			hs_fail(h, st, 0);
		break;
	case HS_METHOD_RECV:
	case HS_AUTH_RECV:
	case HS_REPLY_RECV:
		h->in_len = 0;
		hs_parse(h); /* with no bytes: learns how many to read */
		break;
	default:
		break;
	}
}

/* The bytes of the current message have all gone out. */
static void hs_sent(struct hs *h)
{
	/* The password is not left lying in a buffer. */
	explicit_bzero(h->out, h->out_len);
	h->out_len = 0;
	switch (h->state) {
	case HS_GREETING_SEND:
		hs_state(h, HS_METHOD_RECV);
		break;
	case HS_AUTH_SEND:
		hs_state(h, HS_AUTH_RECV);
		break;
	default: /* HS_REQUEST_SEND */
		hs_state(h, HS_REPLY_RECV);
		break;
	}
}

/* n more bytes were read into h->in + h->in_len. */
static void hs_received(struct hs *h, size_t n)
{
	h->in_len += n;
	hs_parse(h);
}

static bool hs_sending(const struct hs *h)
{
	return h->state == HS_GREETING_SEND || h->state == HS_AUTH_SEND ||
	       h->state == HS_REQUEST_SEND;
}

/* The blocking driver: runs the machine to DONE or FAILED. */
static void hs_run(struct hs *h, const struct socks5_io *io, int fd,
		   int64_t deadline_ms)
{
	while (h->state != HS_DONE && h->state != HS_FAILED) {
		enum socks5_status st;
		size_t got = 0;
		int err = 0;

		if (hs_sending(h)) {
			st = socks5_io_send_all(io, fd, h->out, h->out_len,
						deadline_ms, &err);
			if (st == SOCKS5_OK)
				hs_sent(h);
		} else {
			st = socks5_io_recv_some(io, fd, h->in + h->in_len,
						 h->want, deadline_ms, &got,
						 &err);
			if (st == SOCKS5_OK)
				hs_received(h, got);
		}
		if (st != SOCKS5_OK)
			hs_fail(h, st, err);
	}
}

static void hs_init(struct hs *h)
{
	memset(h, 0, sizeof(*h));
	h->fail.status = SOCKS5_OK;
	h->fail.hop = -1;
	h->fail.state = hs_state_names[HS_GREETING_SEND];
}

/* Hands the outcome to the caller: 0 or a negative errno. */
static int hs_finish(struct hs *h, struct socks5_reply *out,
		     struct socks5_failure *why)
{
	int rc = 0;

	explicit_bzero(h->out, sizeof(h->out));
	if (h->state == HS_DONE) {
		h->fail.state = hs_state_names[HS_DONE];
		if (out)
			*out = h->reply;
	} else {
		rc = -socks5_failure_errno(&h->fail);
	}
	if (why)
		*why = h->fail;
	return rc;
}

static bool chain_ok(const struct socks5_proxy *chain, size_t nhops)
{
	size_t i;

	if (!chain || nhops == 0 || nhops > SOCKS5_CHAIN_MAX)
		return false;
	for (i = 0; i < nhops; i++)
		if (chain[i].host[0] == '\0')
			return false;
	return true;
}

int socks5_handshake(const struct socks5_io *io, int fd,
		     const struct socks5_proxy *chain, size_t nhops,
		     uint8_t cmd, const struct socks5_addr *dst,
		     int64_t deadline_ms, struct socks5_reply *bound,
		     struct socks5_failure *why)
{
	struct hs h;

	hs_init(&h);
	if (!io || fd < 0 || !dst || !chain_ok(chain, nhops)) {
		h.fail.status = SOCKS5_E_ARG;
		h.state = HS_FAILED;
		return hs_finish(&h, NULL, why);
	}
	h.chain = chain;
	h.nhops = nhops;
	h.cmd = cmd;
	h.dst = dst;
	hs_state(&h, HS_GREETING_SEND);
	hs_run(&h, io, fd, deadline_ms);
	return hs_finish(&h, bound, why);
}

/* BIND's second reply: the machine entered straight at REPLY_RECV of a
 * one-hop "chain", so it ends in DONE after one reply. The hop index is
 * unknown here, so a failure names none. */
int socks5_read_reply(const struct socks5_io *io, int fd, int64_t deadline_ms,
		      struct socks5_reply *reply, struct socks5_failure *why)
{
	struct hs h;
	int rc;

	hs_init(&h);
	if (!io || fd < 0) {
		h.fail.status = SOCKS5_E_ARG;
		h.state = HS_FAILED;
		return hs_finish(&h, NULL, why);
	}
	h.nhops = 1;
	hs_state(&h, HS_REPLY_RECV);
	hs_run(&h, io, fd, deadline_ms);
	h.fail.hop = -1;
	rc = hs_finish(&h, reply, why);
	return rc;
}
