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
 * The machine does no I/O (io.c drives it). No globals; the state lives
 * on the caller's stack.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <string.h>

#include "hs.h"
#include "wipe.h"

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

static void hs_enter(struct hs *h, enum hs_state next);

void hs_fail(struct hs *h, enum socks5_status st, int sys_errno)
{
	h->fail.status = st;
	h->fail.sys_errno = sys_errno;
	h->fail.hop = (int)h->hop;
	h->fail.state = hs_state_names[h->state];
	h->state = HS_FAILED;
	if (h->trace)
		h->trace(h->trace_arg, h->hop, hs_state_names[HS_FAILED]);
}

bool hs_over(const struct hs *h)
{
	return h->state == HS_DONE || h->state == HS_FAILED;
}

bool hs_sending(const struct hs *h)
{
	return h->state == HS_GREETING_SEND || h->state == HS_AUTH_SEND ||
	       h->state == HS_REQUEST_SEND;
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

static enum socks5_status encode_greeting(struct hs *h, size_t *len)
{
	const struct socks5_proxy *p = &h->chain[h->hop];

	h->n_offered = 0;
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

static enum socks5_status encode_auth(struct hs *h, size_t *len)
{
	const struct socks5_proxy *p = &h->chain[h->hop];

	return socks5_encode_auth(h->out + h->out_len,
				  sizeof(h->out) - h->out_len, p->user,
				  p->user_len, p->pass, p->pass_len, len);
}

static enum socks5_status encode_request(struct hs *h, size_t *len)
{
	struct socks5_addr target;
	enum socks5_status st;
	uint8_t cmd;

	st = hs_target(h, &target, &cmd);
	if (st != SOCKS5_OK)
		return st;
	return socks5_encode_request(h->out + h->out_len,
				     sizeof(h->out) - h->out_len, cmd, &target,
				     len);
}

/* Appends the message of state s to h->out; on failure, FAILED in s. */
static bool hs_append(struct hs *h, enum hs_state s)
{
	enum socks5_status st;
	size_t n = 0;

	if (s == HS_GREETING_SEND)
		st = encode_greeting(h, &n);
	else if (s == HS_AUTH_SEND)
		st = encode_auth(h, &n);
	else
		st = encode_request(h, &n);
	if (st != SOCKS5_OK) {
		h->state = s; /* name the message that could not be made */
		hs_fail(h, st, 0);
		return false;
	}
	h->out_len += n;
	return true;
}

/* Fills h->out for the send state just entered: one message, or for a
 * pipelined hop all three. */
static void hs_encode(struct hs *h)
{
	enum hs_state s = h->state;

	h->out_len = 0;
	h->out_off = 0;
	if (!hs_append(h, s) || s != HS_GREETING_SEND || !h->piped)
		return;
	if (h->chain[h->hop].has_auth && !hs_append(h, HS_AUTH_SEND))
		return;
	hs_append(h, HS_REQUEST_SEND);
}

/* Bytes the parser of a receive state asks for before it has seen any:
 * a safe lower bound on that message's length. */
static size_t first_ask(enum hs_state s)
{
	struct socks5_reply r;
	uint8_t method;
	size_t n = 0;

	if (s == HS_METHOD_RECV)
		socks5_parse_method(NULL, 0, NULL, 0, &method, &n);
	else if (s == HS_AUTH_RECV)
		socks5_parse_auth_reply(NULL, 0, &n);
	else
		socks5_parse_reply(NULL, 0, &r, &n);
	return n;
}

/* Bytes of the replies due after the current one on a pipelined hop that
 * may be read now. Only method and auth replies are followed by more, and
 * their "need" reaches exactly to their end, so adding is safe. */
static size_t lookahead(const struct hs *h)
{
	size_t n = 0;

	if (!h->piped)
		return 0;
	if (h->state == HS_METHOD_RECV && h->chain[h->hop].has_auth)
		n += first_ask(HS_AUTH_RECV);
	if (h->state == HS_METHOD_RECV || h->state == HS_AUTH_RECV)
		n += first_ask(HS_REPLY_RECV);
	return n;
}

/* The state after a complete, valid message in the receive state. */
static enum hs_state hs_next(struct hs *h, uint8_t method)
{
	switch (h->state) {
	case HS_METHOD_RECV:
		if (method == SOCKS5_METHOD_USERPASS)
			return h->piped ? HS_AUTH_RECV : HS_AUTH_SEND;
		return h->piped ? HS_REPLY_RECV : HS_REQUEST_SEND;
	case HS_AUTH_RECV:
		return h->piped ? HS_REPLY_RECV : HS_REQUEST_SEND;
	default: /* HS_REPLY_RECV */
		if (h->reply.rep != SOCKS5_REP_SUCCEEDED) {
			h->fail.rep = h->reply.rep;
			hs_fail(h, SOCKS5_E_REPLY, 0);
			return HS_FAILED;
		}
		if (h->chain && h->hop + 1 < h->nhops) {
			h->hop++;
			return HS_GREETING_SEND;
		}
		return HS_DONE;
	}
}

/* Parses the messages h->in holds, in order, until one is incomplete
 * (h->want says how much may be read next) or a send state is reached. */
static void hs_parse(struct hs *h)
{
	while (h->state == HS_METHOD_RECV || h->state == HS_AUTH_RECV ||
	       h->state == HS_REPLY_RECV) {
		enum socks5_status st;
		enum hs_state next;
		uint8_t method = 0;
		size_t n = 0;

		if (h->state == HS_METHOD_RECV)
			st = socks5_parse_method(h->in, h->in_len, h->offered,
						 h->n_offered, &method, &n);
		else if (h->state == HS_AUTH_RECV)
			st = socks5_parse_auth_reply(h->in, h->in_len, &n);
		else
			st = socks5_parse_reply(h->in, h->in_len, &h->reply, &n);
		if (st == SOCKS5_NEED_MORE) {
			h->want = n + lookahead(h);
			if (n == 0 || h->want > sizeof(h->in) - h->in_len)
				hs_fail(h, SOCKS5_E_ARG, 0); /* codec broke its word */
			return;
		}
		if (st != SOCKS5_OK || n > h->in_len) {
			hs_fail(h, st != SOCKS5_OK ? st : SOCKS5_E_ARG, 0);
			return;
		}
		if (h->state == HS_REPLY_RECV)
			h->replied = true;
		h->in_len -= n;
		memmove(h->in, h->in + n, h->in_len);
		next = hs_next(h, method);
		if (next != HS_FAILED)
			hs_enter(h, next);
	}
}

/* The one place a new state is entered; runs what entering it means. */
static void hs_enter(struct hs *h, enum hs_state next)
{
	h->state = next;
	if (h->trace)
		h->trace(h->trace_arg, h->hop, hs_state_names[next]);
	if (next == HS_GREETING_SEND) {
		h->piped = h->chain && h->hop < 32 &&
			   (h->pipeline >> h->hop & 1u);
		if (h->in_len) { /* bytes past a hop's reply: cannot be */
			hs_fail(h, SOCKS5_E_ARG, 0);
			return;
		}
	}
	if (hs_sending(h))
		hs_encode(h);
}

const uint8_t *hs_out(const struct hs *h, size_t *len)
{
	*len = h->out_len - h->out_off;
	return h->out + h->out_off;
}

void hs_sent(struct hs *h, size_t n)
{
	h->out_off += n;
	if (h->out_off < h->out_len)
		return;
	/* The password is not left lying in a buffer. */
	explicit_bzero(h->out, h->out_len);
	h->out_len = h->out_off = 0;
	h->state = h->state == HS_AUTH_SEND ? HS_AUTH_RECV :
		   h->state == HS_REQUEST_SEND ? HS_REPLY_RECV :
						 HS_METHOD_RECV;
	if (h->trace)
		h->trace(h->trace_arg, h->hop, hs_state_names[h->state]);
	hs_parse(h); /* with what is buffered (nothing): learns h->want */
}

uint8_t *hs_in(struct hs *h, size_t *max)
{
	*max = h->want;
	return h->in + h->in_len;
}

void hs_received(struct hs *h, size_t n)
{
	h->in_len += n;
	h->answered = true;
	hs_parse(h);
}

static void hs_init(struct hs *h)
{
	memset(h, 0, sizeof(*h));
	h->fail.status = SOCKS5_OK;
	h->fail.hop = -1;
	h->fail.state = hs_state_names[HS_GREETING_SEND];
}

void hs_begin(struct hs *h, const struct socks5_proxy *chain, size_t nhops,
	      uint8_t cmd, const struct socks5_addr *dst, uint32_t pipeline)
{
	hs_init(h);
	h->chain = chain;
	h->nhops = nhops;
	h->cmd = cmd;
	h->dst = dst;
	h->pipeline = pipeline;
	hs_enter(h, HS_GREETING_SEND);
}

/* BIND's second reply: the machine entered straight at REPLY_RECV of a
 * one-hop "chain", so it ends in DONE after one reply. */
void hs_begin_reply(struct hs *h)
{
	hs_init(h);
	h->nhops = 1;
	h->state = HS_REPLY_RECV;
	hs_parse(h);
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

static int hs_refuse(struct hs *h, struct socks5_failure *why)
{
	hs_init(h);
	h->fail.status = SOCKS5_E_ARG;
	h->state = HS_FAILED;
	return hs_finish(h, NULL, why);
}

static bool chain_has_password(const struct socks5_proxy *chain, size_t n)
{
	size_t i;

	for (i = 0; chain && i < n; i++)
		if (chain[i].has_auth)
			return true;
	return false;
}

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

static enum socks5_probe probe_verdict(const struct hs *h, int64_t quiet_ms)
{
	if (h->replied)
		return SOCKS5_PROBE_YES;
	if (!h->answered)
		return SOCKS5_PROBE_UNDECIDED;
	if (h->state == HS_FAILED)
		return SOCKS5_PROBE_NO;
	if (h->state == HS_REPLY_RECV && h->in_len == 0 &&
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
	struct hs h, ph;
	struct hs_task t = { .h = &h, .fd = fd };
	struct hs_task pt = { .h = &ph, .connecting = true,
			      .events = POLLOUT, .wait = true };
	bool probing = opts && opts->probe && opts->probe_fd >= 0;

	if (opts)
		opts->probe_result = SOCKS5_PROBE_NONE;
	if (!io || fd < 0 || !dst || !chain_ok(chain, nhops))
		return hs_refuse(&h, why);
	hs_begin(&h, chain, nhops, cmd, dst, opts ? opts->pipeline : 0);
	if (opts && opts->trace) {
		/* From here on hs_enter reports; the first state was entered
		 * inside hs_begin. */
		h.trace = opts->trace;
		h.trace_arg = opts->trace_arg;
		h.trace(h.trace_arg, h.hop, hs_state_names[h.state]);
	}
	if (probing) {
		pt.fd = opts->probe_fd;
		hs_begin(&ph, chain, 1, SOCKS5_CMD_CONNECT, &probe_dst, 1);
	}
	hs_drive(io, &t, probing ? &pt : NULL, deadline_ms);
	if (probing) {
		opts->probe_result =
			probe_verdict(&ph, socks5_now_ms() - pt.rx_ms);
		explicit_bzero(ph.out, sizeof(ph.out));
	}
	if (chain_has_password(chain, nhops))
		socks5_wipe_registers(); /* the password went out (wipe.h) */
	return hs_finish(&h, bound, why);
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
	struct hs h;
	struct hs_task t = { .h = &h, .fd = fd, .wait = true,
			     .events = POLLIN };

	if (!io || fd < 0)
		return hs_refuse(&h, why);
	hs_begin_reply(&h);
	hs_drive(io, &t, NULL, deadline_ms);
	h.fail.hop = -1;
	return hs_finish(&h, reply, why);
}
