/*
 * Scripted socket I/O for the handshake tests: see scripted_io.h.
 */
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdarg.h>
#include <string.h>
#include <sys/socket.h>

#include "scripted_io.h"

struct sio_state sio_st;
#define S sio_st /* the original, short name inside this file */

void sio_reset(void)
{
	memset(&S, 0, sizeof(S));
}

void sio_expect_send(const void *p, size_t n)
{
	ck_assert_uint_le(S.expect_len + n, sizeof(S.expect));
	memcpy(S.expect + S.expect_len, p, n);
	S.expect_len += n;
}

static struct sio_chunk *new_chunk(void)
{
	struct sio_chunk *c;

	ck_assert_uint_lt(S.nchunks, SIO_MAX_CHUNKS);
	c = &S.chunks[S.nchunks++];
	memset(c, 0, sizeof(*c));
	c->need_sent = S.expect_len;
	return c;
}

void sio_proxy_says(const void *p, size_t n)
{
	struct sio_chunk *c = new_chunk();

	ck_assert_uint_le(n, sizeof(c->data));
	memcpy(c->data, p, n);
	c->len = n;
}

void sio_proxy_err(int e)
{
	new_chunk()->err = e;
}

void sio_proxy_eof(void)
{
	new_chunk()->eof = true;
}

void sio_proxy_silence(void)
{
	new_chunk()->silent = true;
}

void sio_poll_fault(int f)
{
	S.poll_faults[S.npoll++] = f;
}

void sio_send_limit(ssize_t n)
{
	S.send_limits[S.nsend++] = n;
}

/* The next chunk with bytes (or an event) left, or NULL. */
static struct sio_chunk *cur_chunk(void)
{
	while (S.cur < S.nchunks && !S.chunks[S.cur].err &&
	       !S.chunks[S.cur].eof && !S.chunks[S.cur].silent &&
	       S.chunks[S.cur].off == S.chunks[S.cur].len)
		S.cur++;
	return S.cur < S.nchunks ? &S.chunks[S.cur] : NULL;
}

static bool readable(void)
{
	struct sio_chunk *c = cur_chunk();

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
	struct sio_chunk *c = cur_chunk();
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

const struct socks5_io sio_io = {
	.send = s_send,
	.recv = s_recv,
	.poll = s_poll,
	.connect = s_connect,
	.fcntl = s_fcntl,
	.getsockopt = getsockopt,
};

size_t sio_unread(void)
{
	size_t i, n = 0;

	for (i = S.cur; i < S.nchunks; i++)
		n += S.chunks[i].len - S.chunks[i].off;
	return n;
}

/* ------------------------------------------------------------------ */
/* fixtures                                                            */

struct socks5_proxy sio_hop(const char *host, uint16_t port,
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

struct socks5_addr sio_ip4(uint8_t a, uint8_t b, uint8_t c, uint8_t d,
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

const uint8_t SIO_GREET_NOAUTH[] = { 5, 1, 0 };
const uint8_t SIO_GREET_USERPASS[] = { 5, 2, 0, 2 };
const uint8_t SIO_METHOD_NOAUTH[] = { 5, 0 };
const uint8_t SIO_METHOD_USERPASS[] = { 5, 2 };
const uint8_t SIO_REQ_CONNECT[] = { 5, 1, 0, 1, 192, 0, 2, 7, 0, 80 };
const uint8_t SIO_REPLY_OK[] = { 5, 0, 0, 1, 198, 51, 100, 1, 0x12, 0x34 };

int sio_run1(const struct socks5_proxy *p, uint8_t cmd,
	     const struct socks5_addr *dst, struct socks5_reply *r,
	     struct socks5_failure *why)
{
	return socks5_handshake(&sio_io, 3, p, 1, cmd, dst, DEADLINE, r, why);
}

void sio_script_plain(void)
{
	sio_reset();
	SIO_EXPECT(SIO_GREET_NOAUTH);
	SIO_SAYS(SIO_METHOD_NOAUTH);
	SIO_EXPECT(SIO_REQ_CONNECT);
	SIO_SAYS(SIO_REPLY_OK);
}

void sio_assert_bound_ok(const struct socks5_reply *r)
{
	ck_assert_uint_eq(r->rep, 0);
	ck_assert_uint_eq(r->bnd.atyp, SOCKS5_ATYP_IPV4);
	ck_assert_mem_eq(r->bnd.u.ipv4, BYTES(198, 51, 100, 1), 4);
	ck_assert_uint_eq(r->bnd.port, 0x1234);
}
