/*
 * The whole handshake driver (socks5_handshake, and socks5_read_reply for
 * BIND's second reply) against a proxy that answers with arbitrary bytes,
 * delivered in arbitrary pieces.
 *
 * Input: byte 0 chooses the set-up (bits 0-1: hops - 1, at most 3; bit 2:
 * the first hop has credentials; bit 3: the second one has; bit 4: BIND
 * instead of CONNECT; bit 5: the destination is a name); byte 1 the
 * largest piece recv() hands over (1..16, its low 4 bits) and the hop
 * types of the first two hops (bits 4-5, 6-7: enum socks5_hop_type, so
 * SOCKS4, SOCKS4a and HTTP CONNECT hops are driven too); the rest is what
 * the proxy sends.
 *
 * Invariants: the result is success or one of the errnos a program may
 * see (never EINVAL: that would mean the codec broke its word to the
 * driver); success and the failure record agree; the result is the same
 * whatever the pieces (one byte at a time versus the chosen size), and a
 * success consumes the same bytes either way (a failure may be seen from
 * a shorter prefix); it never asks recv() for zero bytes or reads past
 * what the proxy sent.
 *
 * Built with FUZZ_PIPELINE defined (fuzz_pipeline.c), the same harness
 * drives socks5_handshake_ex with pipelined hops: bits 6-7 of byte 0 then
 * choose which (0: the first; 1: all; 2: the second only; 3: none).
 */
#include <errno.h>
#include <string.h>

#include "fuzz_check.h"
#include "socks5.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const uint8_t *in;
static size_t in_len, in_off, piece;

static ssize_t f_send(int fd, const void *buf, size_t len, int flags)
{
	(void)fd;
	(void)flags;
	CHECK(buf && len > 0);
	return (ssize_t)len;
}

static ssize_t f_recv(int fd, void *buf, size_t len, int flags)
{
	size_t n = len;

	(void)fd;
	(void)flags;
	CHECK(len > 0);
	if (n > piece)
		n = piece;
	if (n > in_len - in_off)
		n = in_len - in_off;
	memcpy(buf, in + in_off, n);
	in_off += n;
	return (ssize_t)n; /* 0 once everything is read: the proxy closed */
}

static int f_poll(struct pollfd *fds, nfds_t n, int timeout_ms)
{
	nfds_t i;

	(void)timeout_ms;
	for (i = 0; i < n; i++)
		fds[i].revents = fds[i].events;
	return (int)n;
}

static int f_connect(int fd, const struct sockaddr *sa, socklen_t len)
{
	(void)fd;
	(void)sa;
	(void)len;
	errno = ENOSYS;
	return -1;
}

static int f_fcntl(int fd, int cmd, ...)
{
	(void)fd;
	(void)cmd;
	return 0;
}

static const struct socks5_io io = {
	.send = f_send, .recv = f_recv, .poll = f_poll,
	.connect = f_connect, .fcntl = f_fcntl, .getsockopt = getsockopt,
};

static bool allowed_errno(int e)
{
	switch (e) {
	case ECONNREFUSED: case EACCES: case ENETUNREACH: case EHOSTUNREACH:
	case ETIMEDOUT: case EOPNOTSUPP: case EAFNOSUPPORT:
		return true;
	default:
		return false;
	}
}

static void set_hop(struct socks5_proxy *p, int i, bool auth)
{
	memset(p, 0, sizeof(*p));
	/* Literal and named hops: the CONNECT between hops uses both forms. */
	strcpy(p->host, i == 1 ? "hop2.example" : "192.0.2.1");
	p->port = (uint16_t)(1080 + i);
	if (auth) {
		p->has_auth = true;
		strcpy(p->user, "user");
		strcpy(p->pass, "password");
		p->user_len = 4;
		p->pass_len = 8;
	}
}

#ifdef FUZZ_PIPELINE
static uint32_t pipeline; /* which hops are pipelined (bit per hop) */
#endif

struct outcome {
	int rc, rc2;
	size_t used;
	struct socks5_reply bound;
};

static void run(const struct socks5_proxy *chain, size_t nhops, uint8_t cmd,
		const struct socks5_addr *dst, size_t pc, struct outcome *o)
{
	struct socks5_failure why;
	struct socks5_reply second;
#ifdef FUZZ_PIPELINE
	struct socks5_hs_opts opts = { .pipeline = pipeline };
#endif

	in_off = 0;
	piece = pc;
	memset(o, 0, sizeof(*o));
#ifdef FUZZ_PIPELINE
	o->rc = socks5_handshake_ex(&io, 3, chain, nhops, cmd, dst,
				    socks5_now_ms() + 10000, &opts, &o->bound,
				    &why);
#else
	o->rc = socks5_handshake(&io, 3, chain, nhops, cmd, dst,
				 socks5_now_ms() + 10000, &o->bound, &why);
#endif
	CHECK(o->rc <= 0);
	CHECK((o->rc == 0) == (why.status == SOCKS5_OK));
	if (o->rc)
		CHECK(allowed_errno(-o->rc));
	if (o->rc == 0 && cmd == SOCKS5_CMD_BIND) {
		o->rc2 = socks5_read_reply(&io, 3, socks5_now_ms() + 10000,
					   &second, &why);
		CHECK(o->rc2 <= 0);
		if (o->rc2)
			CHECK(allowed_errno(-o->rc2));
	}
	CHECK(in_off <= in_len);
	o->used = in_off;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct socks5_proxy chain[3];
	struct socks5_addr dst;
	struct outcome a, b;
	size_t nhops, i;
	uint8_t cmd;

	if (size < 2)
		return 0;
#ifdef FUZZ_PIPELINE
	pipeline = (const uint32_t[]){ 1, 7, 2, 0 }[data[0] >> 6];
#endif
	nhops = (size_t)(data[0] & 3) + 1;
	if (nhops > 3)
		nhops = 3;
	for (i = 0; i < nhops; i++)
		set_hop(&chain[i], (int)i,
			(i == 0 && (data[0] & 4)) || (i == 1 && (data[0] & 8)));
	chain[0].type = (uint8_t)(data[1] >> 4 & 3);
	if (nhops > 1)
		chain[1].type = (uint8_t)(data[1] >> 6 & 3);
	cmd = (data[0] & 16) ? SOCKS5_CMD_BIND : SOCKS5_CMD_CONNECT;
	if (data[0] & 32) {
		CHECK(socks5_addr_from_domain(&dst, "target.example", 14, 80) ==
		      SOCKS5_OK);
	} else {
		memset(&dst, 0, sizeof(dst));
		dst.atyp = SOCKS5_ATYP_IPV4;
		dst.u.ipv4[0] = 198;
		dst.u.ipv4[1] = 51;
		dst.u.ipv4[2] = 100;
		dst.u.ipv4[3] = 2;
		dst.port = 80;
	}
	in = data + 2;
	in_len = size - 2;

	run(chain, nhops, cmd, &dst, (size_t)(data[1] % 16) + 1, &a);
	run(chain, nhops, cmd, &dst, 1, &b);
	CHECK(a.rc == b.rc && a.rc2 == b.rc2);
	/* A failure may be seen from a shorter prefix; a success reads
	 * exactly the replies, however they arrive. */
	if (a.rc == 0 && a.rc2 == 0)
		CHECK(a.used == b.used);
	if (a.rc == 0) {
		/* (compared as text: the union's unused bytes are not data) */
		char fa[300], fb[300];

		socks5_addr_format(&a.bound.bnd, fa, sizeof(fa));
		socks5_addr_format(&b.bound.bnd, fb, sizeof(fb));
		CHECK(a.bound.rep == b.bound.rep && !strcmp(fa, fb));
	}
	return 0;
}
