/*
 * The handshake driver against scripted I/O: what the proxy "sends" is a
 * list of chunks, what the driver sends is checked byte for byte against
 * the expected stream as it goes out. Each chunk is gated on how much the
 * driver must have sent before the proxy would answer, so a driver that
 * reads ahead of the protocol is caught. Faults (EINTR, short writes,
 * stalls, resets, early close) are injected per call.
 *
 * The scripted functions keep their state in file-static variables: Check
 * runs every test in its own forked process, so tests never share it.
 */
#include <arpa/inet.h>
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "../../client/socks5.h"

#define MAX_CHUNKS 4096
#define MAX_FAULTS 64
#define STREAM_MAX 8192

struct chunk {
	uint8_t data[600];
	size_t len, off;
	size_t need_sent; /* bytes the driver must have sent first */
	int err;          /* recv fails once with this errno */
	bool eof;         /* recv returns 0 */
	bool silent;      /* the proxy says nothing more, ever */
};

static struct {
	uint8_t expect[STREAM_MAX]; /* what the driver must send, in order */
	size_t expect_len;
	size_t sent;                /* bytes the driver sent so far */

	struct chunk chunks[MAX_CHUNKS];
	size_t nchunks, cur;

	/* per-call faults, consumed in order */
	int poll_faults[MAX_FAULTS];  /* >0: errno for -1; -1: return 0 */
	size_t npoll, poll_i;
	ssize_t send_limits[MAX_FAULTS]; /* >0: accept at most n; <0: -errno */
	size_t nsend, send_i;

	bool stall_out;   /* POLLOUT never comes */
	int recv_calls, send_calls, poll_calls;

	/* fcntl / connect scripting */
	int fl;           /* the descriptor's file status flags */
	int setfl_calls;
	int connect_errno; /* 0: connect succeeds; else -1 with it */
} S;

static void script_reset(void)
{
	memset(&S, 0, sizeof(S));
}

static void expect_send(const void *p, size_t n)
{
	ck_assert_uint_le(S.expect_len + n, sizeof(S.expect));
	memcpy(S.expect + S.expect_len, p, n);
	S.expect_len += n;
}

static struct chunk *new_chunk(void)
{
	struct chunk *c;

	ck_assert_uint_lt(S.nchunks, MAX_CHUNKS);
	c = &S.chunks[S.nchunks++];
	memset(c, 0, sizeof(*c));
	c->need_sent = S.expect_len;
	return c;
}

static void proxy_says(const void *p, size_t n)
{
	struct chunk *c = new_chunk();

	ck_assert_uint_le(n, sizeof(c->data));
	memcpy(c->data, p, n);
	c->len = n;
}

static void proxy_err(int e)
{
	new_chunk()->err = e;
}

static void proxy_eof(void)
{
	new_chunk()->eof = true;
}

static void proxy_silence(void)
{
	new_chunk()->silent = true;
}

static void poll_fault(int f)
{
	S.poll_faults[S.npoll++] = f;
}

static void send_limit(ssize_t n)
{
	S.send_limits[S.nsend++] = n;
}

/* The next chunk with bytes (or an event) left, or NULL. */
static struct chunk *cur_chunk(void)
{
	while (S.cur < S.nchunks && !S.chunks[S.cur].err &&
	       !S.chunks[S.cur].eof && !S.chunks[S.cur].silent &&
	       S.chunks[S.cur].off == S.chunks[S.cur].len)
		S.cur++;
	return S.cur < S.nchunks ? &S.chunks[S.cur] : NULL;
}

static bool readable(void)
{
	struct chunk *c = cur_chunk();

	/* no chunk left reads as end of stream */
	return !c || (!c->silent && S.sent >= c->need_sent);
}

static int s_poll(struct pollfd *fds, nfds_t n, int timeout)
{
	S.poll_calls++;
	ck_assert_uint_eq(n, 1);
	ck_assert_int_ge(timeout, 0);
	if (S.poll_i < S.npoll) {
		int f = S.poll_faults[S.poll_i++];

		if (f == -1)
			return 0;
		errno = f;
		return -1;
	}
	fds[0].revents = 0;
	if ((fds[0].events & POLLIN) && readable())
		fds[0].revents |= POLLIN;
	if ((fds[0].events & POLLOUT) && !S.stall_out)
		fds[0].revents |= POLLOUT;
	if (fds[0].revents)
		return 1;
	/* Nothing will happen: behave like a real poll that times out, but
	 * never sleep long, whatever the driver asks. Unless the script says
	 * the proxy falls silent, waiting here is a driver bug. */
	ck_assert_msg(S.stall_out || (cur_chunk() && cur_chunk()->silent),
		      "driver waits for data the proxy would only send after "
		      "more of the handshake (sent %zu)", S.sent);
	poll(NULL, 0, timeout < 2000 ? timeout : 2000);
	return 0;
}

static ssize_t s_send(int fd, const void *buf, size_t len, int flags)
{
	size_t n = len, i;

	(void)fd;
	S.send_calls++;
	ck_assert_int_eq(flags & (MSG_DONTWAIT | MSG_NOSIGNAL),
			 MSG_DONTWAIT | MSG_NOSIGNAL);
	ck_assert_uint_gt(len, 0);
	if (S.stall_out) { /* a real socket with no room says so */
		errno = EAGAIN;
		return -1;
	}
	if (S.send_i < S.nsend) {
		ssize_t lim = S.send_limits[S.send_i++];

		if (lim < 0) {
			errno = (int)-lim;
			return -1;
		}
		if ((size_t)lim < n)
			n = (size_t)lim;
	}
	ck_assert_msg(S.sent + n <= S.expect_len,
		      "driver sends %zu bytes more than expected (%zu)",
		      S.sent + n - S.expect_len, S.expect_len);
	for (i = 0; i < n; i++)
		ck_assert_msg(((const uint8_t *)buf)[i] == S.expect[S.sent + i],
			      "byte %zu sent 0x%02x, expected 0x%02x",
			      S.sent + i, ((const uint8_t *)buf)[i],
			      S.expect[S.sent + i]);
	S.sent += n;
	return (ssize_t)n;
}

static ssize_t s_recv(int fd, void *buf, size_t len, int flags)
{
	struct chunk *c = cur_chunk();
	size_t n;

	(void)fd;
	S.recv_calls++;
	ck_assert_int_eq(flags & MSG_DONTWAIT, MSG_DONTWAIT);
	ck_assert_uint_gt(len, 0);
	if (!c)
		return 0;
	ck_assert_msg(S.sent >= c->need_sent,
		      "driver reads before sending what the proxy waits for");
	if (c->err) {
		errno = c->err;
		c->err = 0;
		c->eof = false;
		c->len = c->off = 0;
		S.cur++;
		return -1;
	}
	if (c->eof)
		return 0;
	n = c->len - c->off < len ? c->len - c->off : len;
	memcpy(buf, c->data + c->off, n);
	c->off += n;
	return (ssize_t)n;
}

static int s_connect(int fd, const struct sockaddr *sa, socklen_t len)
{
	(void)fd;
	(void)sa;
	(void)len;
	ck_assert_msg(S.fl & O_NONBLOCK, "connect on a blocking descriptor");
	if (S.connect_errno) {
		errno = S.connect_errno;
		return -1;
	}
	return 0;
}

static int s_fcntl(int fd, int cmd, ...)
{
	va_list ap;

	(void)fd;
	if (cmd == F_GETFL)
		return S.fl;
	ck_assert_int_eq(cmd, F_SETFL);
	va_start(ap, cmd);
	S.fl = va_arg(ap, int);
	va_end(ap);
	S.setfl_calls++;
	return 0;
}

static const struct socks5_io sio = {
	.send = s_send,
	.recv = s_recv,
	.poll = s_poll,
	.connect = s_connect,
	.fcntl = s_fcntl,
};

/* Bytes left unread in the script (data the program would own). */
static size_t unread(void)
{
	size_t i, n = 0;

	for (i = S.cur; i < S.nchunks; i++)
		n += S.chunks[i].len - S.chunks[i].off;
	return n;
}

/* ------------------------------------------------------------------ */
/* fixtures                                                            */

static struct socks5_proxy hop(const char *host, uint16_t port,
			       const char *user, const char *pass)
{
	struct socks5_proxy p;

	memset(&p, 0, sizeof(p));
	strcpy(p.host, host);
	p.port = port;
	if (user) {
		p.has_auth = true;
		p.user_len = (uint8_t)strlen(user);
		p.pass_len = (uint8_t)strlen(pass);
		strcpy(p.user, user);
		strcpy(p.pass, pass);
	}
	return p;
}

static struct socks5_addr ip4(uint8_t a, uint8_t b, uint8_t c, uint8_t d,
			      uint16_t port)
{
	struct socks5_addr x;

	memset(&x, 0, sizeof(x));
	x.atyp = SOCKS5_ATYP_IPV4;
	x.u.ipv4[0] = a;
	x.u.ipv4[1] = b;
	x.u.ipv4[2] = c;
	x.u.ipv4[3] = d;
	x.port = port;
	return x;
}

#define BYTES(...) ((const uint8_t[]){ __VA_ARGS__ })
#define SEND(...) expect_send(BYTES(__VA_ARGS__), sizeof(BYTES(__VA_ARGS__)))
#define SAYS(...) proxy_says(BYTES(__VA_ARGS__), sizeof(BYTES(__VA_ARGS__)))

static const uint8_t GREET_NOAUTH[] = { 5, 1, 0 };
static const uint8_t GREET_USERPASS[] = { 5, 2, 0, 2 };
static const uint8_t METHOD_NOAUTH[] = { 5, 0 };
static const uint8_t METHOD_USERPASS[] = { 5, 2 };
/* CONNECT 192.0.2.7:80 */
static const uint8_t REQ_CONNECT[] = { 5, 1, 0, 1, 192, 0, 2, 7, 0, 80 };
/* succeeded, BND 198.51.100.1:4660 */
static const uint8_t REPLY_OK[] = { 5, 0, 0, 1, 198, 51, 100, 1, 0x12, 0x34 };

#define DEADLINE (socks5_now_ms() + 5000)

static int run1(const struct socks5_proxy *p, uint8_t cmd,
		const struct socks5_addr *dst, struct socks5_reply *r,
		struct socks5_failure *why)
{
	return socks5_handshake(&sio, 3, p, 1, cmd, dst, DEADLINE, r, why);
}

/* The plain script: no-auth CONNECT 192.0.2.7:80, success. */
static void script_plain(void)
{
	script_reset();
	expect_send(GREET_NOAUTH, sizeof(GREET_NOAUTH));
	proxy_says(METHOD_NOAUTH, sizeof(METHOD_NOAUTH));
	expect_send(REQ_CONNECT, sizeof(REQ_CONNECT));
	proxy_says(REPLY_OK, sizeof(REPLY_OK));
}

static void assert_bound_ok(const struct socks5_reply *r)
{
	ck_assert_uint_eq(r->rep, 0);
	ck_assert_uint_eq(r->bnd.atyp, SOCKS5_ATYP_IPV4);
	ck_assert_mem_eq(r->bnd.u.ipv4, BYTES(198, 51, 100, 1), 4);
	ck_assert_uint_eq(r->bnd.port, 0x1234);
}

/* ------------------------------------------------------------------ */
/* happy paths, byte for byte                                          */

START_TEST(connect_noauth)
{
	struct socks5_proxy p = hop("127.0.0.1", 1080, NULL, NULL);
	struct socks5_addr dst = ip4(192, 0, 2, 7, 80);
	struct socks5_reply r;
	struct socks5_failure why;

	script_plain();
	ck_assert_int_eq(run1(&p, SOCKS5_CMD_CONNECT, &dst, &r, &why), 0);
	ck_assert_uint_eq(S.sent, S.expect_len);
	assert_bound_ok(&r);
	ck_assert_int_eq(why.status, SOCKS5_OK);
	ck_assert_int_eq(why.hop, -1);
	ck_assert_str_eq(why.state, "done");
	ck_assert_uint_eq(unread(), 0);
}
END_TEST

START_TEST(connect_userpass)
{
	struct socks5_proxy p = hop("127.0.0.1", 1080, "alice", "s3cret");
	struct socks5_addr dst = ip4(192, 0, 2, 7, 80);
	struct socks5_reply r;

	script_reset();
	expect_send(GREET_USERPASS, sizeof(GREET_USERPASS));
	proxy_says(METHOD_USERPASS, sizeof(METHOD_USERPASS));
	SEND(1, 5, 'a', 'l', 'i', 'c', 'e', 6, 's', '3', 'c', 'r', 'e', 't');
	SAYS(1, 0);
	expect_send(REQ_CONNECT, sizeof(REQ_CONNECT));
	proxy_says(REPLY_OK, sizeof(REPLY_OK));
	ck_assert_int_eq(run1(&p, SOCKS5_CMD_CONNECT, &dst, &r, NULL), 0);
	ck_assert_uint_eq(S.sent, S.expect_len);
	assert_bound_ok(&r);
}
END_TEST

/* Credentials given, but the proxy needs none: no auth message. */
START_TEST(userpass_offered_noauth_chosen)
{
	struct socks5_proxy p = hop("127.0.0.1", 1080, "alice", "s3cret");
	struct socks5_addr dst = ip4(192, 0, 2, 7, 80);
	struct socks5_reply r;

	script_reset();
	expect_send(GREET_USERPASS, sizeof(GREET_USERPASS));
	proxy_says(METHOD_NOAUTH, sizeof(METHOD_NOAUTH));
	expect_send(REQ_CONNECT, sizeof(REQ_CONNECT));
	proxy_says(REPLY_OK, sizeof(REPLY_OK));
	ck_assert_int_eq(run1(&p, SOCKS5_CMD_CONNECT, &dst, &r, NULL), 0);
	ck_assert_uint_eq(S.sent, S.expect_len);
}
END_TEST

START_TEST(connect_domain_and_ipv6)
{
	struct socks5_proxy p = hop("127.0.0.1", 1080, NULL, NULL);
	struct socks5_addr dst;
	struct socks5_reply r;

	ck_assert_int_eq(socks5_addr_from_domain(&dst, "target.test", 11, 443),
			 SOCKS5_OK);
	script_reset();
	expect_send(GREET_NOAUTH, sizeof(GREET_NOAUTH));
	proxy_says(METHOD_NOAUTH, sizeof(METHOD_NOAUTH));
	SEND(5, 1, 0, 3, 11, 't', 'a', 'r', 'g', 'e', 't', '.', 't', 'e', 's',
	     't', 1, 187);
	/* a reply with an IPv6 BND */
	SAYS(5, 0, 0, 4, 0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
	     0, 9, 0x01, 0xbb);
	ck_assert_int_eq(run1(&p, SOCKS5_CMD_CONNECT, &dst, &r, NULL), 0);
	ck_assert_uint_eq(r.bnd.atyp, SOCKS5_ATYP_IPV6);
	ck_assert_uint_eq(r.bnd.u.ipv6[15], 9);
	ck_assert_uint_eq(r.bnd.port, 443);

	memset(&dst, 0, sizeof(dst));
	dst.atyp = SOCKS5_ATYP_IPV6;
	dst.u.ipv6[15] = 1;
	dst.port = 22;
	script_reset();
	expect_send(GREET_NOAUTH, sizeof(GREET_NOAUTH));
	proxy_says(METHOD_NOAUTH, sizeof(METHOD_NOAUTH));
	SEND(5, 1, 0, 4, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 22);
	/* a reply with a domain BND */
	SAYS(5, 0, 0, 3, 2, 'p', 'x', 0, 1);
	ck_assert_int_eq(run1(&p, SOCKS5_CMD_CONNECT, &dst, &r, NULL), 0);
	ck_assert_uint_eq(r.bnd.atyp, SOCKS5_ATYP_DOMAIN);
	ck_assert_str_eq(r.bnd.u.domain, "px");
}
END_TEST

START_TEST(udp_associate)
{
	struct socks5_proxy p = hop("127.0.0.1", 1080, NULL, NULL);
	struct socks5_addr any = ip4(0, 0, 0, 0, 0);
	struct socks5_reply r;

	script_reset();
	expect_send(GREET_NOAUTH, sizeof(GREET_NOAUTH));
	proxy_says(METHOD_NOAUTH, sizeof(METHOD_NOAUTH));
	SEND(5, 3, 0, 1, 0, 0, 0, 0, 0, 0);
	SAYS(5, 0, 0, 1, 127, 0, 0, 1, 0xa0, 0x00);
	ck_assert_int_eq(run1(&p, SOCKS5_CMD_UDP_ASSOCIATE, &any, &r, NULL), 0);
	ck_assert_mem_eq(r.bnd.u.ipv4, BYTES(127, 0, 0, 1), 4);
	ck_assert_uint_eq(r.bnd.port, 0xa000);
}
END_TEST

/* BIND: the handshake returns the first reply and leaves the second in
 * the socket; read_reply takes exactly the second, and the program's data
 * behind it stays unread. */
START_TEST(bind_two_replies)
{
	struct socks5_proxy p = hop("127.0.0.1", 1080, NULL, NULL);
	struct socks5_addr peer = ip4(192, 0, 2, 9, 0);
	struct socks5_reply r1, r2;
	struct socks5_failure why;

	script_reset();
	expect_send(GREET_NOAUTH, sizeof(GREET_NOAUTH));
	proxy_says(METHOD_NOAUTH, sizeof(METHOD_NOAUTH));
	SEND(5, 2, 0, 1, 192, 0, 2, 9, 0, 0);
	/* both replies and data in one chunk: the worst case for read-ahead */
	SAYS(5, 0, 0, 1, 127, 0, 0, 1, 0x30, 0x39,
	     5, 0, 0, 1, 192, 0, 2, 9, 0xd4, 0x31, 'd', 'a', 't', 'a');
	ck_assert_int_eq(run1(&p, SOCKS5_CMD_BIND, &peer, &r1, NULL), 0);
	ck_assert_uint_eq(r1.bnd.port, 12345);
	ck_assert_uint_eq(unread(), 14);
	ck_assert_int_eq(socks5_read_reply(&sio, 3, DEADLINE, &r2, &why), 0);
	ck_assert_mem_eq(r2.bnd.u.ipv4, BYTES(192, 0, 2, 9), 4);
	ck_assert_uint_eq(r2.bnd.port, 54321);
	ck_assert_str_eq(why.state, "done");
	ck_assert_uint_eq(unread(), 4);
}
END_TEST

START_TEST(bind_second_reply_refused)
{
	struct socks5_reply r;
	struct socks5_failure why;

	script_reset();
	SAYS(5, 2, 0, 1, 0, 0, 0, 0, 0, 0);
	ck_assert_int_eq(socks5_read_reply(&sio, 3, DEADLINE, &r, &why),
			 -EACCES);
	ck_assert_int_eq(why.status, SOCKS5_E_REPLY);
	ck_assert_uint_eq(why.rep, 2);
	ck_assert_int_eq(why.hop, -1);
	ck_assert_str_eq(why.state, "reply-recv");
}
END_TEST

/* Data the proxy (or the target through it) sends right after the reply
 * belongs to the program: the driver must not read any of it. */
START_TEST(no_read_past_reply)
{
	struct socks5_proxy p = hop("127.0.0.1", 1080, NULL, NULL);
	struct socks5_addr dst = ip4(192, 0, 2, 7, 80);
	uint8_t glued[sizeof(REPLY_OK) + 8];

	script_reset();
	expect_send(GREET_NOAUTH, sizeof(GREET_NOAUTH));
	proxy_says(METHOD_NOAUTH, sizeof(METHOD_NOAUTH));
	expect_send(REQ_CONNECT, sizeof(REQ_CONNECT));
	memcpy(glued, REPLY_OK, sizeof(REPLY_OK));
	memcpy(glued + sizeof(REPLY_OK), "SSH-2.0-", 8);
	proxy_says(glued, sizeof(glued));
	ck_assert_int_eq(run1(&p, SOCKS5_CMD_CONNECT, &dst, NULL, NULL), 0);
	ck_assert_uint_eq(unread(), 8);
}
END_TEST

/* ------------------------------------------------------------------ */
/* chains                                                              */

START_TEST(chain_two_hops)
{
	struct socks5_proxy c[2] = { hop("127.0.0.1", 1080, NULL, NULL),
				     hop("10.1.2.3", 1081, NULL, NULL) };
	struct socks5_addr dst = ip4(192, 0, 2, 7, 80);
	struct socks5_reply r;
	struct socks5_failure why;

	script_reset();
	expect_send(GREET_NOAUTH, sizeof(GREET_NOAUTH));
	proxy_says(METHOD_NOAUTH, sizeof(METHOD_NOAUTH));
	SEND(5, 1, 0, 1, 10, 1, 2, 3, 0x04, 0x39); /* CONNECT hop 1 */
	SAYS(5, 0, 0, 1, 127, 0, 0, 1, 0, 1);
	expect_send(GREET_NOAUTH, sizeof(GREET_NOAUTH));
	proxy_says(METHOD_NOAUTH, sizeof(METHOD_NOAUTH));
	expect_send(REQ_CONNECT, sizeof(REQ_CONNECT));
	proxy_says(REPLY_OK, sizeof(REPLY_OK));
	ck_assert_int_eq(socks5_handshake(&sio, 3, c, 2, SOCKS5_CMD_CONNECT,
					  &dst, DEADLINE, &r, &why), 0);
	ck_assert_uint_eq(S.sent, S.expect_len);
	assert_bound_ok(&r); /* the last hop's reply */
}
END_TEST

/* Three hops: IPv6 literal with credentials in the middle, a name last. */
START_TEST(chain_three_hops)
{
	struct socks5_proxy c[3] = {
		hop("127.0.0.1", 1080, NULL, NULL),
		hop("2001:db8::5", 1080, "u", "p"),
		hop("px.test", 9050, NULL, NULL),
	};
	struct socks5_addr dst = ip4(192, 0, 2, 7, 80);
	struct socks5_reply r;

	script_reset();
	expect_send(GREET_NOAUTH, sizeof(GREET_NOAUTH));
	proxy_says(METHOD_NOAUTH, sizeof(METHOD_NOAUTH));
	SEND(5, 1, 0, 4, 0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
	     0, 5, 0x04, 0x38);
	SAYS(5, 0, 0, 1, 0, 0, 0, 0, 0, 0);
	expect_send(GREET_USERPASS, sizeof(GREET_USERPASS));
	proxy_says(METHOD_USERPASS, sizeof(METHOD_USERPASS));
	SEND(1, 1, 'u', 1, 'p');
	SAYS(1, 0);
	SEND(5, 1, 0, 3, 7, 'p', 'x', '.', 't', 'e', 's', 't', 0x23, 0x5a);
	SAYS(5, 0, 0, 1, 0, 0, 0, 0, 0, 0);
	expect_send(GREET_NOAUTH, sizeof(GREET_NOAUTH));
	proxy_says(METHOD_NOAUTH, sizeof(METHOD_NOAUTH));
	expect_send(REQ_CONNECT, sizeof(REQ_CONNECT));
	proxy_says(REPLY_OK, sizeof(REPLY_OK));
	ck_assert_int_eq(socks5_handshake(&sio, 3, c, 3, SOCKS5_CMD_CONNECT,
					  &dst, DEADLINE, &r, NULL), 0);
	ck_assert_uint_eq(S.sent, S.expect_len);
	assert_bound_ok(&r);
}
END_TEST

/* Hop 0 cannot reach hop 1: the failure names hop 0 and its REP. */
START_TEST(chain_refused_between_hops)
{
	struct socks5_proxy c[2] = { hop("127.0.0.1", 1080, NULL, NULL),
				     hop("127.0.0.2", 1081, NULL, NULL) };
	struct socks5_addr dst = ip4(192, 0, 2, 7, 80);
	struct socks5_failure why;

	script_reset();
	expect_send(GREET_NOAUTH, sizeof(GREET_NOAUTH));
	proxy_says(METHOD_NOAUTH, sizeof(METHOD_NOAUTH));
	SEND(5, 1, 0, 1, 127, 0, 0, 2, 0x04, 0x39);
	SAYS(5, 4, 0, 1, 0, 0, 0, 0, 0, 0);
	ck_assert_int_eq(socks5_handshake(&sio, 3, c, 2, SOCKS5_CMD_CONNECT,
					  &dst, DEADLINE, NULL, &why),
			 -EHOSTUNREACH);
	ck_assert_int_eq(why.hop, 0);
	ck_assert_uint_eq(why.rep, 4);
	ck_assert_str_eq(why.state, "reply-recv");

	/* ...and at the last hop it names hop 1. */
	script_reset();
	expect_send(GREET_NOAUTH, sizeof(GREET_NOAUTH));
	proxy_says(METHOD_NOAUTH, sizeof(METHOD_NOAUTH));
	SEND(5, 1, 0, 1, 127, 0, 0, 2, 0x04, 0x39);
	SAYS(5, 0, 0, 1, 0, 0, 0, 0, 0, 0);
	expect_send(GREET_NOAUTH, sizeof(GREET_NOAUTH));
	SAYS(5, 0xff);
	ck_assert_int_eq(socks5_handshake(&sio, 3, c, 2, SOCKS5_CMD_CONNECT,
					  &dst, DEADLINE, NULL, &why),
			 -EACCES);
	ck_assert_int_eq(why.hop, 1);
	ck_assert_int_eq(why.status, SOCKS5_E_NO_ACCEPTABLE);
	ck_assert_str_eq(why.state, "method-recv");
}
END_TEST

/* ------------------------------------------------------------------ */
/* refusals and malformed answers                                      */

/* REP codes, including unassigned ones, to errno. */
static const struct {
	uint8_t rep;
	int err;
} rep_cases[] = {
	{ 0x01, ECONNREFUSED }, { 0x02, EACCES },      { 0x03, ENETUNREACH },
	{ 0x04, EHOSTUNREACH }, { 0x05, ECONNREFUSED }, { 0x06, ETIMEDOUT },
	{ 0x07, EOPNOTSUPP },   { 0x08, EAFNOSUPPORT }, { 0x09, ECONNREFUSED },
	{ 0xff, ECONNREFUSED },
};

START_TEST(rep_codes)
{
	struct socks5_proxy p = hop("127.0.0.1", 1080, NULL, NULL);
	struct socks5_addr dst = ip4(192, 0, 2, 7, 80);
	struct socks5_failure why;
	uint8_t reply[sizeof(REPLY_OK)];

	script_plain();
	memcpy(reply, REPLY_OK, sizeof(reply));
	reply[1] = rep_cases[_i].rep;
	S.chunks[1].len = 0; /* replace the success reply */
	proxy_says(reply, sizeof(reply));
	ck_assert_int_eq(run1(&p, SOCKS5_CMD_CONNECT, &dst, NULL, &why),
			 -rep_cases[_i].err);
	ck_assert_int_eq(why.status, SOCKS5_E_REPLY);
	ck_assert_uint_eq(why.rep, rep_cases[_i].rep);
	ck_assert_int_eq(why.hop, 0);
	ck_assert_str_eq(why.state, "reply-recv");
}
END_TEST

START_TEST(auth_rejected)
{
	struct socks5_proxy p = hop("127.0.0.1", 1080, "alice", "wrong");
	struct socks5_addr dst = ip4(192, 0, 2, 7, 80);
	struct socks5_failure why;

	script_reset();
	expect_send(GREET_USERPASS, sizeof(GREET_USERPASS));
	proxy_says(METHOD_USERPASS, sizeof(METHOD_USERPASS));
	SEND(1, 5, 'a', 'l', 'i', 'c', 'e', 5, 'w', 'r', 'o', 'n', 'g');
	SAYS(1, 1);
	ck_assert_int_eq(run1(&p, SOCKS5_CMD_CONNECT, &dst, NULL, &why),
			 -EACCES);
	ck_assert_int_eq(why.status, SOCKS5_E_AUTH_REJECTED);
	ck_assert_str_eq(why.state, "auth-recv");
}
END_TEST

START_TEST(method_refusals)
{
	struct socks5_proxy p = hop("127.0.0.1", 1080, NULL, NULL);
	struct socks5_addr dst = ip4(192, 0, 2, 7, 80);
	struct socks5_failure why;

	/* 0xFF: the proxy wants credentials we do not have. */
	script_reset();
	expect_send(GREET_NOAUTH, sizeof(GREET_NOAUTH));
	SAYS(5, 0xff);
	ck_assert_int_eq(run1(&p, SOCKS5_CMD_CONNECT, &dst, NULL, &why),
			 -EACCES);
	ck_assert_int_eq(why.status, SOCKS5_E_NO_ACCEPTABLE);

	/* A method we did not offer. */
	script_reset();
	expect_send(GREET_NOAUTH, sizeof(GREET_NOAUTH));
	SAYS(5, 2);
	ck_assert_int_eq(run1(&p, SOCKS5_CMD_CONNECT, &dst, NULL, &why),
			 -ECONNREFUSED);
	ck_assert_int_eq(why.status, SOCKS5_E_METHOD_NOT_OFFERED);
	ck_assert_str_eq(why.state, "method-recv");
}
END_TEST

/* Malformed answers: ECONNREFUSED, with the reason kept. */
START_TEST(malformed_answers)
{
	static const struct {
		uint8_t bytes[10];
		size_t len;
		bool in_reply; /* else in the method selection */
		enum socks5_status st;
	} cases[] = {
		{ { 4, 0 }, 2, false, SOCKS5_E_VERSION },
		{ { 4, 0, 0, 1, 0, 0, 0, 0, 0, 0 }, 10, true, SOCKS5_E_VERSION },
		{ { 5, 0, 1, 1, 0, 0, 0, 0, 0, 0 }, 10, true, SOCKS5_E_RESERVED },
		{ { 5, 0, 0, 9, 0, 0, 0, 0, 0, 0 }, 10, true, SOCKS5_E_ATYP },
		{ { 5, 0, 0, 3, 0, 0, 0 }, 7, true, SOCKS5_E_DOMAIN_EMPTY },
	};
	struct socks5_proxy p = hop("127.0.0.1", 1080, NULL, NULL);
	struct socks5_addr dst = ip4(192, 0, 2, 7, 80);
	struct socks5_failure why;
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		script_reset();
		expect_send(GREET_NOAUTH, sizeof(GREET_NOAUTH));
		if (cases[i].in_reply) {
			proxy_says(METHOD_NOAUTH, sizeof(METHOD_NOAUTH));
			expect_send(REQ_CONNECT, sizeof(REQ_CONNECT));
		}
		proxy_says(cases[i].bytes, cases[i].len);
		ck_assert_int_eq(run1(&p, SOCKS5_CMD_CONNECT, &dst, NULL, &why),
				 -ECONNREFUSED);
		ck_assert_int_eq(why.status, cases[i].st);
		ck_assert_str_eq(why.state, cases[i].in_reply ? "reply-recv" :
								 "method-recv");
	}
}
END_TEST

/* Bad requests never reach the wire. */
START_TEST(bad_arguments)
{
	struct socks5_proxy p = hop("127.0.0.1", 1080, NULL, NULL);
	struct socks5_proxy many[SOCKS5_CHAIN_MAX + 1];
	struct socks5_proxy nopass = hop("127.0.0.1", 1080, "alice", "");
	struct socks5_addr dst = ip4(192, 0, 2, 7, 80);
	struct socks5_failure why;
	size_t i;

	script_reset();
	for (i = 0; i <= SOCKS5_CHAIN_MAX; i++)
		many[i] = p;
	ck_assert_int_eq(socks5_handshake(&sio, 3, NULL, 1, 1, &dst, DEADLINE,
					  NULL, &why), -EINVAL);
	ck_assert_int_eq(why.status, SOCKS5_E_ARG);
	ck_assert_int_eq(socks5_handshake(&sio, 3, &p, 0, 1, &dst, DEADLINE,
					  NULL, NULL), -EINVAL);
	ck_assert_int_eq(socks5_handshake(&sio, 3, many, SOCKS5_CHAIN_MAX + 1,
					  1, &dst, DEADLINE, NULL, NULL),
			 -EINVAL);
	ck_assert_int_eq(socks5_handshake(&sio, 3, &p, 1, 1, NULL, DEADLINE,
					  NULL, NULL), -EINVAL);
	ck_assert_int_eq(socks5_handshake(NULL, 3, &p, 1, 1, &dst, DEADLINE,
					  NULL, NULL), -EINVAL);
	ck_assert_int_eq(S.send_calls + S.recv_calls, 0);

	/* An unknown command is refused when the request is encoded. */
	script_reset();
	expect_send(GREET_NOAUTH, sizeof(GREET_NOAUTH));
	proxy_says(METHOD_NOAUTH, sizeof(METHOD_NOAUTH));
	ck_assert_int_eq(run1(&p, 9, &dst, NULL, &why), -EINVAL);
	ck_assert_str_eq(why.state, "request-send");

	/* RFC 1929 has no empty password: refused, not sent. */
	script_reset();
	expect_send(GREET_USERPASS, sizeof(GREET_USERPASS));
	proxy_says(METHOD_USERPASS, sizeof(METHOD_USERPASS));
	ck_assert_int_eq(run1(&nopass, SOCKS5_CMD_CONNECT, &dst, NULL, &why),
			 -EINVAL);
	ck_assert_int_eq(why.status, SOCKS5_E_PASS_LENGTH);
	ck_assert_str_eq(why.state, "auth-send");
}
END_TEST

/* ------------------------------------------------------------------ */
/* I/O faults                                                          */

START_TEST(eintr_everywhere)
{
	struct socks5_proxy p = hop("127.0.0.1", 1080, NULL, NULL);
	struct socks5_addr dst = ip4(192, 0, 2, 7, 80);
	struct socks5_reply r;

	script_reset();
	poll_fault(EINTR);
	poll_fault(EINTR);
	poll_fault(-1); /* a spurious early wake-up */
	send_limit(-EINTR);
	send_limit(-EAGAIN);
	expect_send(GREET_NOAUTH, sizeof(GREET_NOAUTH));
	proxy_err(EINTR);
	proxy_err(EAGAIN);
	proxy_says(METHOD_NOAUTH, sizeof(METHOD_NOAUTH));
	expect_send(REQ_CONNECT, sizeof(REQ_CONNECT));
	proxy_err(EINTR);
	proxy_says(REPLY_OK, sizeof(REPLY_OK));
	ck_assert_int_eq(run1(&p, SOCKS5_CMD_CONNECT, &dst, &r, NULL), 0);
	ck_assert_uint_eq(S.sent, S.expect_len);
	assert_bound_ok(&r);
	ck_assert_uint_eq(S.poll_i, 3);
	ck_assert_uint_eq(S.send_i, 2);
}
END_TEST

START_TEST(short_writes)
{
	struct socks5_proxy p = hop("127.0.0.1", 1080, "alice", "s3cret");
	struct socks5_addr dst = ip4(192, 0, 2, 7, 80);
	struct socks5_reply r;
	int i;

	script_reset();
	for (i = 0; i < 40; i++)
		send_limit(1);
	expect_send(GREET_USERPASS, sizeof(GREET_USERPASS));
	proxy_says(METHOD_USERPASS, sizeof(METHOD_USERPASS));
	SEND(1, 5, 'a', 'l', 'i', 'c', 'e', 6, 's', '3', 'c', 'r', 'e', 't');
	SAYS(1, 0);
	expect_send(REQ_CONNECT, sizeof(REQ_CONNECT));
	proxy_says(REPLY_OK, sizeof(REPLY_OK));
	ck_assert_int_eq(run1(&p, SOCKS5_CMD_CONNECT, &dst, &r, NULL), 0);
	ck_assert_uint_eq(S.sent, S.expect_len);
	ck_assert_int_eq(S.send_calls, 4 + 14 + 10);
}
END_TEST

/*
 * Every way to cut the proxy's 12 bytes (method selection + IPv4 reply)
 * into chunks, 2^11 of them, gives the same result and reads nothing
 * beyond the reply.
 */
START_TEST(every_chunking_ipv4)
{
	struct socks5_proxy p = hop("127.0.0.1", 1080, NULL, NULL);
	struct socks5_addr dst = ip4(192, 0, 2, 7, 80);
	uint8_t all[12 + 3];
	unsigned mask, i;

	memcpy(all, METHOD_NOAUTH, 2);
	memcpy(all + 2, REPLY_OK, 10);
	memcpy(all + 12, "xyz", 3);
	for (mask = 0; mask < (1u << 11); mask++) {
		struct socks5_reply r;
		size_t start = 0;

		script_reset();
		expect_send(GREET_NOAUTH, sizeof(GREET_NOAUTH));
		/* bit i set: a cut after byte i */
		for (i = 0; i < 12; i++) {
			if (i == 2)
				expect_send(REQ_CONNECT, sizeof(REQ_CONNECT));
			if (i == 11 || (mask & (1u << i))) {
				size_t end = i + 1;

				/* the last chunk carries the program's data */
				proxy_says(all + start,
					   end - start + (i == 11 ? 3 : 0));
				/* a chunk that starts inside the method
				 * selection may hold reply bytes too: the
				 * proxy sends it after the greeting */
				S.chunks[S.nchunks - 1].need_sent =
					start < 2 ? sizeof(GREET_NOAUTH) :
						    sizeof(GREET_NOAUTH) +
						    sizeof(REQ_CONNECT);
				start = end;
			}
		}
		ck_assert_int_eq(run1(&p, SOCKS5_CMD_CONNECT, &dst, &r, NULL),
				 0);
		assert_bound_ok(&r);
		ck_assert_uint_eq(unread(), 3);
	}
}
END_TEST

/* Replies with longer addresses: every single cut, and byte by byte. */
START_TEST(every_cut_long_replies)
{
	static const uint8_t v6[] = { 5, 0, 0, 4, 0x20, 0x01, 0x0d, 0xb8, 1, 2,
				      3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 0, 80 };
	uint8_t dom[4 + 1 + 255 + 2];
	struct socks5_proxy p = hop("127.0.0.1", 1080, NULL, NULL);
	struct socks5_addr dst = ip4(192, 0, 2, 7, 80);
	const uint8_t *msgs[2] = { v6, dom };
	size_t lens[2] = { sizeof(v6), sizeof(dom) };
	size_t m, cut, k;

	memcpy(dom, BYTES(5, 0, 0, 3, 255), 5);
	memset(dom + 5, 'a', 255);
	dom[260] = 0x01;
	dom[261] = 0x02;
	for (m = 0; m < 2; m++) {
		/* cut == lens[m]: byte by byte */
		for (cut = 1; cut <= lens[m]; cut++) {
			struct socks5_reply r;

			script_reset();
			expect_send(GREET_NOAUTH, sizeof(GREET_NOAUTH));
			proxy_says(METHOD_NOAUTH, sizeof(METHOD_NOAUTH));
			expect_send(REQ_CONNECT, sizeof(REQ_CONNECT));
			if (cut < lens[m]) {
				proxy_says(msgs[m], cut);
				proxy_says(msgs[m] + cut, lens[m] - cut);
			} else {
				for (k = 0; k < lens[m]; k++)
					proxy_says(msgs[m] + k, 1);
			}
			proxy_says("tail", 4);
			ck_assert_int_eq(run1(&p, SOCKS5_CMD_CONNECT, &dst, &r,
					      NULL), 0);
			ck_assert_uint_eq(r.bnd.atyp, msgs[m][3]);
			ck_assert_uint_eq(unread(), 4);
		}
	}
}
END_TEST

/* A proxy that accepts but never reads: the greeting cannot go out.
 * ETIMEDOUT at the deadline, not before and not much after. */
START_TEST(stall_times_out)
{
	struct socks5_proxy p = hop("127.0.0.1", 1080, NULL, NULL);
	struct socks5_addr dst = ip4(192, 0, 2, 7, 80);
	struct socks5_failure why;
	int64_t t0, dt;

	script_reset();
	S.stall_out = true;
	expect_send(GREET_NOAUTH, sizeof(GREET_NOAUTH));
	t0 = socks5_now_ms();
	ck_assert_int_eq(socks5_handshake(&sio, 3, &p, 1, SOCKS5_CMD_CONNECT,
					  &dst, t0 + 300, NULL, &why),
			 -ETIMEDOUT);
	dt = socks5_now_ms() - t0;
	ck_assert_int_ge(dt, 300);
	ck_assert_int_lt(dt, 1000);
	ck_assert_int_eq(why.status, SOCKS5_E_TIMEOUT);
	ck_assert_str_eq(why.state, "greeting-send");
	ck_assert_int_eq(S.sent, 0);
}
END_TEST

/* A proxy that stops in the middle of its reply. */
START_TEST(stall_in_reply)
{
	struct socks5_proxy p = hop("127.0.0.1", 1080, NULL, NULL);
	struct socks5_addr dst = ip4(192, 0, 2, 7, 80);
	struct socks5_failure why;
	int64_t t0, dt;

	script_reset();
	expect_send(GREET_NOAUTH, sizeof(GREET_NOAUTH));
	proxy_says(METHOD_NOAUTH, sizeof(METHOD_NOAUTH));
	expect_send(REQ_CONNECT, sizeof(REQ_CONNECT));
	SAYS(5, 0, 0);
	proxy_silence();
	t0 = socks5_now_ms();
	ck_assert_int_eq(socks5_handshake(&sio, 3, &p, 1, SOCKS5_CMD_CONNECT,
					  &dst, t0 + 250, NULL, &why),
			 -ETIMEDOUT);
	dt = socks5_now_ms() - t0;
	ck_assert_int_ge(dt, 250);
	ck_assert_int_lt(dt, 1000);
	ck_assert_str_eq(why.state, "reply-recv");
	ck_assert_int_eq(why.hop, 0);
}
END_TEST

START_TEST(close_mid_reply)
{
	struct socks5_proxy p = hop("127.0.0.1", 1080, NULL, NULL);
	struct socks5_addr dst = ip4(192, 0, 2, 7, 80);
	struct socks5_failure why;

	script_plain();
	S.chunks[1].len = 6; /* half the reply, then the end of the stream */
	proxy_eof();
	ck_assert_int_eq(run1(&p, SOCKS5_CMD_CONNECT, &dst, NULL, &why),
			 -ECONNREFUSED);
	ck_assert_int_eq(why.status, SOCKS5_E_CLOSED);
	ck_assert_str_eq(why.state, "reply-recv");

	/* closed right after the greeting */
	script_reset();
	expect_send(GREET_NOAUTH, sizeof(GREET_NOAUTH));
	proxy_eof();
	ck_assert_int_eq(run1(&p, SOCKS5_CMD_CONNECT, &dst, NULL, &why),
			 -ECONNREFUSED);
	ck_assert_str_eq(why.state, "method-recv");
}
END_TEST

START_TEST(io_errors)
{
	struct socks5_proxy p = hop("127.0.0.1", 1080, NULL, NULL);
	struct socks5_addr dst = ip4(192, 0, 2, 7, 80);
	struct socks5_failure why;

	script_plain();
	S.chunks[1].len = 4;
	proxy_err(ECONNRESET);
	ck_assert_int_eq(run1(&p, SOCKS5_CMD_CONNECT, &dst, NULL, &why),
			 -ECONNRESET);
	ck_assert_int_eq(why.status, SOCKS5_E_IO);
	ck_assert_int_eq(why.sys_errno, ECONNRESET);

	script_plain();
	send_limit(-EPIPE);
	ck_assert_int_eq(run1(&p, SOCKS5_CMD_CONNECT, &dst, NULL, &why),
			 -EPIPE);
	ck_assert_str_eq(why.state, "greeting-send");

	script_plain();
	poll_fault(ENOMEM);
	ck_assert_int_eq(run1(&p, SOCKS5_CMD_CONNECT, &dst, NULL, &why),
			 -ENOMEM);
}
END_TEST

/* ------------------------------------------------------------------ */
/* bounded connect                                                     */

static int sock(void)
{
	int sv[2];

	/* a real descriptor, so getsockopt(SO_ERROR) has one to look at */
	ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	close(sv[1]);
	return sv[0];
}

START_TEST(connect_restores_flags)
{
	struct sockaddr_in sa = { .sin_family = AF_INET };
	int fd = sock();

	script_reset();
	S.fl = O_RDWR | O_APPEND;
	ck_assert_int_eq(socks5_connect_deadline(&sio, fd,
						 (struct sockaddr *)&sa,
						 sizeof(sa), DEADLINE), 0);
	ck_assert_int_eq(S.fl, O_RDWR | O_APPEND);
	ck_assert_int_eq(S.setfl_calls, 2);

	/* in progress, then done */
	script_reset();
	S.fl = O_RDWR;
	S.connect_errno = EINPROGRESS;
	poll_fault(EINTR);
	ck_assert_int_eq(socks5_connect_deadline(&sio, fd,
						 (struct sockaddr *)&sa,
						 sizeof(sa), DEADLINE), 0);
	ck_assert_int_eq(S.fl, O_RDWR);

	/* already non-blocking: flags never touched */
	script_reset();
	S.fl = O_RDWR | O_NONBLOCK;
	S.connect_errno = EINTR;
	ck_assert_int_eq(socks5_connect_deadline(&sio, fd,
						 (struct sockaddr *)&sa,
						 sizeof(sa), DEADLINE), 0);
	ck_assert_int_eq(S.setfl_calls, 0);

	/* refused at once */
	script_reset();
	S.fl = O_RDWR;
	S.connect_errno = ECONNREFUSED;
	ck_assert_int_eq(socks5_connect_deadline(&sio, fd,
						 (struct sockaddr *)&sa,
						 sizeof(sa), DEADLINE),
			 -ECONNREFUSED);
	ck_assert_int_eq(S.fl, O_RDWR);
	close(fd);
}
END_TEST

START_TEST(connect_times_out)
{
	struct sockaddr_in sa = { .sin_family = AF_INET };
	int fd = sock();
	int64_t t0, dt;

	script_reset();
	S.fl = O_RDWR;
	S.connect_errno = EINPROGRESS;
	S.stall_out = true;
	t0 = socks5_now_ms();
	ck_assert_int_eq(socks5_connect_deadline(&sio, fd,
						 (struct sockaddr *)&sa,
						 sizeof(sa), t0 + 200),
			 -ETIMEDOUT);
	dt = socks5_now_ms() - t0;
	ck_assert_int_ge(dt, 200);
	ck_assert_int_lt(dt, 900);
	ck_assert_int_eq(S.fl, O_RDWR);
	close(fd);
}
END_TEST

/* The same with the real libc functions, on loopback. */
START_TEST(connect_real_loopback)
{
	static const struct socks5_io libc_io = {
		.send = send, .recv = recv, .poll = poll,
		.connect = connect, .fcntl = fcntl,
	};
	struct sockaddr_in sa = { .sin_family = AF_INET,
				  .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t len = sizeof(sa);
	int l, fd, fl;

	l = socket(AF_INET, SOCK_STREAM, 0);
	ck_assert_int_ge(l, 0);
	ck_assert_int_eq(bind(l, (struct sockaddr *)&sa, sizeof(sa)), 0);
	ck_assert_int_eq(listen(l, 1), 0);
	ck_assert_int_eq(getsockname(l, (struct sockaddr *)&sa, &len), 0);

	fd = socket(AF_INET, SOCK_STREAM, 0);
	fl = fcntl(fd, F_GETFL);
	ck_assert_int_eq(socks5_connect_deadline(&libc_io, fd,
						 (struct sockaddr *)&sa,
						 sizeof(sa), DEADLINE), 0);
	ck_assert_int_eq(fcntl(fd, F_GETFL), fl);
	close(fd);

	/* nothing listens any more: refused, flags intact */
	close(l);
	fd = socket(AF_INET, SOCK_STREAM, 0);
	ck_assert_int_eq(socks5_connect_deadline(&libc_io, fd,
						 (struct sockaddr *)&sa,
						 sizeof(sa), DEADLINE),
			 -ECONNREFUSED);
	ck_assert_int_eq(fcntl(fd, F_GETFL), fl);
	close(fd);
}
END_TEST

static Suite *handshake_suite(void)
{
	Suite *s = suite_create("handshake");
	TCase *ok = tcase_create("protocol");
	TCase *bad = tcase_create("refusals");
	TCase *io = tcase_create("io");
	TCase *conn = tcase_create("connect");

	tcase_add_test(ok, connect_noauth);
	tcase_add_test(ok, connect_userpass);
	tcase_add_test(ok, userpass_offered_noauth_chosen);
	tcase_add_test(ok, connect_domain_and_ipv6);
	tcase_add_test(ok, udp_associate);
	tcase_add_test(ok, bind_two_replies);
	tcase_add_test(ok, no_read_past_reply);
	tcase_add_test(ok, chain_two_hops);
	tcase_add_test(ok, chain_three_hops);
	suite_add_tcase(s, ok);

	tcase_add_loop_test(bad, rep_codes, 0,
			    sizeof(rep_cases) / sizeof(rep_cases[0]));
	tcase_add_test(bad, auth_rejected);
	tcase_add_test(bad, method_refusals);
	tcase_add_test(bad, malformed_answers);
	tcase_add_test(bad, bad_arguments);
	tcase_add_test(bad, bind_second_reply_refused);
	tcase_add_test(bad, chain_refused_between_hops);
	suite_add_tcase(s, bad);

	tcase_add_test(io, eintr_everywhere);
	tcase_add_test(io, short_writes);
	tcase_add_test(io, every_chunking_ipv4);
	tcase_add_test(io, every_cut_long_replies);
	tcase_add_test(io, stall_times_out);
	tcase_add_test(io, stall_in_reply);
	tcase_add_test(io, close_mid_reply);
	tcase_add_test(io, io_errors);
	tcase_set_timeout(io, 30);
	suite_add_tcase(s, io);

	tcase_add_test(conn, connect_restores_flags);
	tcase_add_test(conn, connect_times_out);
	tcase_add_test(conn, connect_real_loopback);
	suite_add_tcase(s, conn);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(handshake_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
