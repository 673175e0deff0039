/*
 * Pipelined handshakes through the driver (socks5_handshake_ex) over real
 * AF_UNIX socket pairs, with the proxy's answers written in advance (a
 * proxy that answers at once) and the libc calls counted, to prove one
 * write, one wait and the system call budget; and the pipelining probe.
 * The state machine alone is in test_pipeline.c.
 */
#include <arpa/inet.h>
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdarg.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "pipeline_msgs.h"
#include "socks5.h"

/* ------------------------------------------------------------------ */
/* the driver over socket pairs                                        */

static struct {
	int send, recv, poll, connect, fcntl;
	size_t sent_sizes[16];
} C;

static ssize_t c_send(int fd, const void *b, size_t n, int fl)
{
	if (C.send < 16)
		C.sent_sizes[C.send] = n;
	C.send++;
	return send(fd, b, n, fl);
}

static ssize_t c_recv(int fd, void *b, size_t n, int fl)
{
	C.recv++;
	return recv(fd, b, n, fl);
}

static int c_poll(struct pollfd *p, nfds_t n, int t)
{
	C.poll++;
	return poll(p, n, t);
}

static int c_connect(int fd, const struct sockaddr *sa, socklen_t l)
{
	C.connect++;
	return connect(fd, sa, l);
}

static int c_fcntl(int fd, int cmd, ...)
{
	va_list ap;
	int arg;

	C.fcntl++;
	va_start(ap, cmd);
	arg = va_arg(ap, int);
	va_end(ap);
	return fcntl(fd, cmd, arg);
}

static const struct socks5_io cio = {
	.send = c_send, .recv = c_recv, .poll = c_poll,
	.connect = c_connect, .fcntl = c_fcntl, .getsockopt = getsockopt,
};

/* A connected pair: sv[0] is the client's end, sv[1] the "proxy". */
static void pair(int sv[2])
{
	ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	memset(&C, 0, sizeof(C));
}

static void proxy_writes(int fd, const uint8_t *p, size_t n)
{
	ck_assert_int_eq(write(fd, p, n), (ssize_t)n);
}

/* What the client sent, all of it. */
static size_t client_sent(int fd, uint8_t *buf, size_t cap)
{
	ssize_t n = recv(fd, buf, cap, MSG_DONTWAIT);

	return n < 0 ? 0 : (size_t)n;
}

#define DEADLINE (socks5_now_ms() + 3000)

START_TEST(drive_pipelined_noauth)
{
	struct socks5_proxy p = hop(NULL, NULL);
	struct socks5_addr d = dst_ip4();
	struct socks5_hs_opts o = { .pipeline = 1 };
	struct socks5_reply r;
	uint8_t in[64], got[64], want[64];
	size_t n;
	int sv[2];

	pair(sv);
	proxy_writes(sv[1], in, cat(in, 3, M(METHOD_NOAUTH), M(REPLY_OK),
				    "hello", (size_t)5));
	ck_assert_int_eq(socks5_handshake_ex(&cio, sv[0], &p, 1,
					     SOCKS5_CMD_CONNECT, &d, DEADLINE,
					     &o, &r, NULL), 0);
	ck_assert_uint_eq(r.bnd.port, 0x1234);
	/* one write with both messages; send, poll, recv, recv */
	n = cat(want, 2, M(GREET_NOAUTH), M(REQ_CONNECT));
	ck_assert_int_eq(C.send, 1);
	ck_assert_uint_eq(C.sent_sizes[0], n);
	ck_assert_uint_eq(client_sent(sv[1], got, sizeof(got)), n);
	ck_assert_mem_eq(got, want, n);
	ck_assert_int_eq(C.poll, 1);
	ck_assert_int_eq(C.recv, 2);
	/* the program's bytes are still there */
	ck_assert_int_eq(read(sv[0], got, sizeof(got)), 5);
	ck_assert_mem_eq(got, "hello", 5);
	ck_assert_int_eq(o.probe_result, SOCKS5_PROBE_NONE);
	close(sv[0]);
	close(sv[1]);
}
END_TEST

START_TEST(drive_pipelined_userpass)
{
	struct socks5_proxy p = hop("alice", "s3cret");
	struct socks5_addr d = dst_ip4();
	struct socks5_hs_opts o = { .pipeline = 1 };
	uint8_t in[64], got[64], want[64];
	size_t n;
	int sv[2];

	pair(sv);
	proxy_writes(sv[1], in, cat(in, 3, M(METHOD_USERPASS), M(AUTH_OK),
				    M(REPLY_OK)));
	ck_assert_int_eq(socks5_handshake_ex(&cio, sv[0], &p, 1,
					     SOCKS5_CMD_CONNECT, &d, DEADLINE,
					     &o, NULL, NULL), 0);
	n = cat(want, 3, M(GREET_USERONLY), M(AUTH_ALICE), M(REQ_CONNECT));
	ck_assert_int_eq(C.send, 1);
	ck_assert_uint_eq(client_sent(sv[1], got, sizeof(got)), n);
	ck_assert_mem_eq(got, want, n);
	ck_assert_int_eq(C.poll, 1);
	ck_assert_int_eq(C.recv, 2);
	close(sv[0]);
	close(sv[1]);
}
END_TEST

/* Lock-step over the same pair: two sends, two waits, three reads. */
START_TEST(drive_lockstep_calls)
{
	struct socks5_proxy p = hop(NULL, NULL);
	struct socks5_addr d = dst_ip4();
	uint8_t in[64];
	int sv[2];

	pair(sv);
	proxy_writes(sv[1], in, cat(in, 2, M(METHOD_NOAUTH), M(REPLY_OK)));
	ck_assert_int_eq(socks5_handshake(&cio, sv[0], &p, 1,
					  SOCKS5_CMD_CONNECT, &d, DEADLINE,
					  NULL, NULL), 0);
	ck_assert_int_eq(C.send, 2);
	ck_assert_int_eq(C.poll, 2);
	ck_assert_int_eq(C.recv, 3);
	close(sv[0]);
	close(sv[1]);
}
END_TEST

/* microsocks: the greeting is answered, the pipelined request discarded.
 * Forced pipelining then ends at the deadline, never later. */
START_TEST(drive_discarding_server_times_out)
{
	struct socks5_proxy p = hop(NULL, NULL);
	struct socks5_addr d = dst_ip4();
	struct socks5_hs_opts o = { .pipeline = 1 };
	struct socks5_failure why;
	int64_t t0, dt;
	int sv[2];

	pair(sv);
	proxy_writes(sv[1], METHOD_NOAUTH, 2);
	t0 = socks5_now_ms();
	ck_assert_int_eq(socks5_handshake_ex(&cio, sv[0], &p, 1,
					     SOCKS5_CMD_CONNECT, &d, t0 + 200,
					     &o, NULL, &why), -ETIMEDOUT);
	dt = socks5_now_ms() - t0;
	ck_assert_int_ge(dt, 200);
	ck_assert_int_lt(dt, 900);
	ck_assert_str_eq(why.state, "reply-recv");
	close(sv[0]);
	close(sv[1]);
}
END_TEST

START_TEST(drive_pipelined_refusal)
{
	struct socks5_proxy p = hop(NULL, NULL);
	struct socks5_addr d = dst_ip4();
	struct socks5_hs_opts o = { .pipeline = 1 };
	struct socks5_failure why;
	uint8_t in[64];
	int sv[2];

	pair(sv);
	proxy_writes(sv[1], in, cat(in, 2, M(METHOD_NOAUTH),
				    BYTES(5, 5, 0, 1, 0, 0, 0, 0, 0, 0), (size_t)10));
	ck_assert_int_eq(socks5_handshake_ex(&cio, sv[0], &p, 1,
					     SOCKS5_CMD_CONNECT, &d, DEADLINE,
					     &o, NULL, &why), -ECONNREFUSED);
	ck_assert_int_eq(why.status, SOCKS5_E_REPLY);
	ck_assert_uint_eq(why.rep, 5);
	close(sv[0]);
	close(sv[1]);
}
END_TEST

/* A chain: hop 0 pipelined (its request names hop 1), hop 1 lock-step.
 * Hop 1's bytes travel through the same socket. */
START_TEST(drive_chain_mixed)
{
	struct socks5_proxy ch[2] = { hop(NULL, NULL), hop(NULL, NULL) };
	struct socks5_addr d = dst_ip4();
	struct socks5_hs_opts o = { .pipeline = 1 };
	uint8_t in[64], got[64], want[64];
	size_t n;
	int sv[2];

	strcpy(ch[1].host, "192.0.2.9");
	ch[1].port = 1081;
	pair(sv);
	proxy_writes(sv[1], in, cat(in, 4, M(METHOD_NOAUTH), M(REPLY_OK),
				    M(METHOD_NOAUTH), M(REPLY_OK)));
	ck_assert_int_eq(socks5_handshake_ex(&cio, sv[0], ch, 2,
					     SOCKS5_CMD_CONNECT, &d, DEADLINE,
					     &o, NULL, NULL), 0);
	n = cat(want, 4, M(GREET_NOAUTH),
		BYTES(5, 1, 0, 1, 192, 0, 2, 9, 0x04, 0x39), (size_t)10,
		M(GREET_NOAUTH), M(REQ_CONNECT));
	ck_assert_uint_eq(client_sent(sv[1], got, sizeof(got)), n);
	ck_assert_mem_eq(got, want, n);
	ck_assert_int_eq(C.send, 3);
	close(sv[0]);
	close(sv[1]);
}
END_TEST

/* ------------------------------------------------------------------ */
/* the probe                                                           */

/* The main proxy's request reply, written 30 ms late (a proxy dialling a
 * distant target): the probe's silence then lasts long enough to count. */
static void *late_reply(void *arg)
{
	poll(NULL, 0, 30);
	proxy_writes(*(int *)arg, REPLY_OK, sizeof(REPLY_OK));
	return NULL;
}

/* Runs a lock-step handshake on one pair with a probe on another whose
 * proxy end has pre-written probe_answer; returns the verdict. */
static enum socks5_probe probe_with(const struct socks5_proxy *p,
				    const uint8_t *probe_answer, size_t alen,
				    bool then_close, bool slow_main,
				    uint8_t *probe_sent, size_t *probe_len)
{
	struct socks5_addr d = dst_ip4();
	struct socks5_hs_opts o = { .probe = true };
	uint8_t in[64];
	int sv[2], pv[2];
	pthread_t t;

	pair(sv);
	ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0,
				    pv), 0);
	if (p->has_auth)
		proxy_writes(sv[1], in, cat(in, 2, M(METHOD_USERPASS),
					    M(AUTH_OK)));
	else
		proxy_writes(sv[1], in, cat(in, 1, M(METHOD_NOAUTH)));
	if (slow_main)
		ck_assert_int_eq(pthread_create(&t, NULL, late_reply, &sv[1]), 0);
	else
		proxy_writes(sv[1], REPLY_OK, sizeof(REPLY_OK));
	if (alen)
		proxy_writes(pv[1], probe_answer, alen);
	if (then_close)
		shutdown(pv[1], SHUT_WR);
	o.probe_fd = pv[0];
	ck_assert_int_eq(socks5_handshake_ex(&cio, sv[0], p, 1,
					     SOCKS5_CMD_CONNECT, &d, DEADLINE,
					     &o, NULL, NULL), 0);
	*probe_len = client_sent(pv[1], probe_sent, 600);
	if (slow_main)
		pthread_join(t, NULL);
	close(sv[0]);
	close(sv[1]);
	close(pv[0]);
	close(pv[1]);
	return o.probe_result;
}

START_TEST(probe_verdicts)
{
	struct socks5_proxy p = hop(NULL, NULL);
	uint8_t ans[64], sent[600], want[64];
	size_t n, wlen;

	/* dante: REP 8 to CONNECT 0.0.0.0:0, right after the method */
	ck_assert_int_eq(probe_with(&p, ans, cat(ans, 2, M(METHOD_NOAUTH),
						 M(REPLY_REP8)),
				    false, false, sent, &n), SOCKS5_PROBE_YES);
	wlen = cat(want, 2, M(GREET_NOAUTH), M(REQ_PROBE));
	ck_assert_uint_eq(n, wlen);
	ck_assert_mem_eq(sent, want, wlen);

	/* microsocks: the method, then nothing for 30 ms */
	ck_assert_int_eq(probe_with(&p, METHOD_NOAUTH, 2, false, true, sent,
				    &n), SOCKS5_PROBE_NO);
	/* the method, then nothing, but the handshake was over at once:
	 * too soon to tell */
	ck_assert_int_eq(probe_with(&p, METHOD_NOAUTH, 2, false, false, sent,
				    &n), SOCKS5_PROBE_UNDECIDED);
	/* the method, then the connection closed */
	ck_assert_int_eq(probe_with(&p, METHOD_NOAUTH, 2, true, false, sent,
				    &n), SOCKS5_PROBE_NO);
	/* nothing at all before the handshake ended */
	ck_assert_int_eq(probe_with(&p, NULL, 0, false, true, sent, &n),
			 SOCKS5_PROBE_UNDECIDED);
}
END_TEST

START_TEST(probe_with_credentials)
{
	struct socks5_proxy p = hop("alice", "s3cret");
	uint8_t ans[64], sent[600], want[64];
	size_t n, wlen;

	ck_assert_int_eq(probe_with(&p, ans, cat(ans, 3, M(METHOD_USERPASS),
						 M(AUTH_OK), M(REPLY_REP8)),
				    false, false, sent, &n), SOCKS5_PROBE_YES);
	wlen = cat(want, 3, M(GREET_USERONLY), M(AUTH_ALICE), M(REQ_PROBE));
	ck_assert_uint_eq(n, wlen);
	ck_assert_mem_eq(sent, want, wlen);
	/* a proxy without passwords refuses the one-method greeting */
	ck_assert_int_eq(probe_with(&p, BYTES(5, 0xff), 2, false, false, sent,
				    &n), SOCKS5_PROBE_NO);
	/* still checking the password (dante's PAM): not a "no" */
	ck_assert_int_eq(probe_with(&p, METHOD_USERPASS, 2, false, true, sent,
				    &n), SOCKS5_PROBE_UNDECIDED);
}
END_TEST

/* A probe whose connect failed never disturbs the handshake. */
START_TEST(probe_dead_socket)
{
	struct socks5_proxy p = hop(NULL, NULL);
	struct socks5_addr d = dst_ip4();
	struct socks5_hs_opts o = { .probe = true };
	struct sockaddr_in sa = { .sin_family = AF_INET,
				  .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t l = sizeof(sa);
	uint8_t in[64];
	int sv[2], l4, s;

	/* a loopback port nobody listens on: refused */
	l4 = socket(AF_INET, SOCK_STREAM, 0);
	ck_assert_int_eq(bind(l4, (struct sockaddr *)&sa, l), 0);
	ck_assert_int_eq(getsockname(l4, (struct sockaddr *)&sa, &l), 0);
	close(l4);
	s = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
	connect(s, (struct sockaddr *)&sa, l);
	pair(sv);
	proxy_writes(sv[1], in, cat(in, 2, M(METHOD_NOAUTH), M(REPLY_OK)));
	o.probe_fd = s;
	ck_assert_int_eq(socks5_handshake_ex(&cio, sv[0], &p, 1,
					     SOCKS5_CMD_CONNECT, &d, DEADLINE,
					     &o, NULL, NULL), 0);
	ck_assert_int_eq(o.probe_result, SOCKS5_PROBE_UNDECIDED);
	close(s);
	close(sv[0]);
	close(sv[1]);
}
END_TEST

/* The bounded connect needs no getsockopt when poll says "writable". */
START_TEST(connect_deadline_calls)
{
	struct sockaddr_in sa = { .sin_family = AF_INET,
				  .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t l = sizeof(sa);
	int ls, fd;

	ls = socket(AF_INET, SOCK_STREAM, 0);
	ck_assert_int_eq(bind(ls, (struct sockaddr *)&sa, l), 0);
	ck_assert_int_eq(listen(ls, 1), 0);
	ck_assert_int_eq(getsockname(ls, (struct sockaddr *)&sa, &l), 0);
	fd = socket(AF_INET, SOCK_STREAM, 0);
	memset(&C, 0, sizeof(C));
	ck_assert_int_eq(socks5_connect_deadline(&cio, fd,
						 (struct sockaddr *)&sa, l,
						 DEADLINE), 0);
	/* GETFL, SETFL, connect, (poll), SETFL */
	ck_assert_int_eq(C.fcntl, 3);
	ck_assert_int_eq(C.connect, 1);
	ck_assert_int_le(C.poll, 1);
	ck_assert_int_eq(fcntl(fd, F_GETFL) & O_NONBLOCK, 0);
	close(fd);
	close(ls);
}
END_TEST

static Suite *pipeline_driver_suite(void)
{
	Suite *s = suite_create("pipeline driver");
	TCase *d = tcase_create("driver");
	TCase *p = tcase_create("probe");

	tcase_add_test(d, drive_pipelined_noauth);
	tcase_add_test(d, drive_pipelined_userpass);
	tcase_add_test(d, drive_lockstep_calls);
	tcase_add_test(d, drive_discarding_server_times_out);
	tcase_add_test(d, drive_pipelined_refusal);
	tcase_add_test(d, drive_chain_mixed);
	tcase_add_test(d, connect_deadline_calls);
	suite_add_tcase(s, d);
	tcase_add_test(p, probe_verdicts);
	tcase_add_test(p, probe_with_credentials);
	tcase_add_test(p, probe_dead_socket);
	suite_add_tcase(s, p);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(pipeline_driver_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? 1 : 0;
}
