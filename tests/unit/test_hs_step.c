/*
 * The public handshake machine (socks5_hs_*, client/socks5.h) stepped as
 * an event loop steps it: socks5_hs_step over a non-blocking socketpair
 * whose other end plays the proxy from this same thread, so a step that
 * blocked would hang the test (the time-out of the Check runner stops it).
 * Also: "negotiate only" (no destination), the trace from the first state,
 * the result before the end, the state names, a refused chain.
 */
#include <check.h>
#include <errno.h>
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "pipeline_msgs.h"
#include "socks5.h"

static const struct socks5_io libc_io = {
	.send = send, .recv = recv, .poll = poll, .connect = connect,
	.fcntl = fcntl, .getsockopt = getsockopt,
};

/* sv[0] the client's end, sv[1] the proxy's; both non-blocking. */
static void pair(int sv[2])
{
	ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, sv), 0);
}

/* What the client sent, exactly want. */
static void proxy_reads(int fd, const uint8_t *want, size_t len)
{
	uint8_t buf[600];
	ssize_t n = recv(fd, buf, sizeof(buf), MSG_DONTWAIT);

	ck_assert_int_eq(n, (ssize_t)len);
	ck_assert_mem_eq(buf, want, len);
}

static void proxy_says(int fd, const uint8_t *msg, size_t len)
{
	ck_assert_int_eq(send(fd, msg, len, 0), (ssize_t)len);
}

static void nothing_sent(int fd)
{
	uint8_t b;

	ck_assert_int_eq(recv(fd, &b, 1, MSG_DONTWAIT), -1);
	ck_assert_int_eq(errno, EAGAIN);
}

START_TEST(step_never_blocks)
{
	struct socks5_proxy p = sio_hop("127.0.0.1", 1080, NULL, NULL);
	struct socks5_addr d = dst_ip4();
	struct socks5_reply bound;
	struct socks5_failure why;
	struct socks5_hs h;
	uint8_t rest[8];
	int sv[2];

	pair(sv);
	socks5_hs_begin(&h, &p, 1, SOCKS5_CMD_CONNECT, &d, NULL);
	ck_assert_int_eq(socks5_hs_state(&h), SOCKS5_HS_GREETING_SEND);
	ck_assert_int_eq(socks5_hs_result(&h, NULL, NULL), -EINPROGRESS);
	ck_assert_int_eq(socks5_hs_step(&libc_io, sv[0], &h), POLLIN);
	proxy_reads(sv[1], GREET_NOAUTH, sizeof(GREET_NOAUTH));
	/* Nothing there yet: the step says so instead of waiting. */
	ck_assert_int_eq(socks5_hs_step(&libc_io, sv[0], &h), POLLIN);
	ck_assert_int_eq(socks5_hs_state(&h), SOCKS5_HS_METHOD_RECV);
	proxy_says(sv[1], METHOD_NOAUTH, 1); /* half a message */
	ck_assert_int_eq(socks5_hs_step(&libc_io, sv[0], &h), POLLIN);
	proxy_says(sv[1], METHOD_NOAUTH + 1, 1);
	ck_assert_int_eq(socks5_hs_step(&libc_io, sv[0], &h), POLLIN);
	ck_assert_int_eq(socks5_hs_state(&h), SOCKS5_HS_REPLY_RECV);
	proxy_reads(sv[1], REQ_CONNECT, sizeof(REQ_CONNECT));
	/* The reply and the first bytes of the program's stream at once. */
	proxy_says(sv[1], REPLY_OK, sizeof(REPLY_OK));
	proxy_says(sv[1], (const uint8_t *)"hello", 5);
	ck_assert_int_eq(socks5_hs_step(&libc_io, sv[0], &h), 0);
	ck_assert_int_eq(socks5_hs_state(&h), SOCKS5_HS_DONE);
	ck_assert_int_eq(socks5_hs_result(&h, &bound, &why), 0);
	ck_assert_uint_eq(bound.bnd.port, 0x1234);
	ck_assert_str_eq(why.state, "done");
	ck_assert_int_eq(recv(sv[0], rest, sizeof(rest), MSG_DONTWAIT), 5);
	ck_assert_mem_eq(rest, "hello", 5);
	close(sv[0]);
	close(sv[1]);
}
END_TEST

START_TEST(step_sees_close)
{
	struct socks5_proxy p = sio_hop("127.0.0.1", 1080, NULL, NULL);
	struct socks5_addr d = dst_ip4();
	struct socks5_failure why;
	struct socks5_hs h;
	int sv[2];

	pair(sv);
	socks5_hs_begin(&h, &p, 1, SOCKS5_CMD_CONNECT, &d, NULL);
	ck_assert_int_eq(socks5_hs_step(&libc_io, sv[0], &h), POLLIN);
	proxy_reads(sv[1], GREET_NOAUTH, sizeof(GREET_NOAUTH));
	close(sv[1]);
	ck_assert_int_eq(socks5_hs_step(&libc_io, sv[0], &h), 0);
	ck_assert_int_eq(socks5_hs_result(&h, NULL, &why), -ECONNREFUSED);
	ck_assert_int_eq(why.status, SOCKS5_E_CLOSED);
	ck_assert_str_eq(why.state, "method-recv");
	close(sv[0]);
}
END_TEST

/* The caller's time-out: socks5_hs_fail, then the result says it. */
START_TEST(caller_times_out)
{
	struct socks5_proxy p = sio_hop("127.0.0.1", 1080, NULL, NULL);
	struct socks5_addr d = dst_ip4();
	struct socks5_failure why;
	struct socks5_hs h;
	int sv[2];

	pair(sv);
	socks5_hs_begin(&h, &p, 1, SOCKS5_CMD_CONNECT, &d, NULL);
	ck_assert_int_eq(socks5_hs_step(&libc_io, sv[0], &h), POLLIN);
	socks5_hs_fail(&h, SOCKS5_E_TIMEOUT, 0);
	ck_assert_int_eq(socks5_hs_step(&libc_io, sv[0], &h), 0);
	ck_assert_int_eq(socks5_hs_result(&h, NULL, &why), -ETIMEDOUT);
	ck_assert_int_eq(why.hop, 0);
	ck_assert_str_eq(why.state, "method-recv");
	close(sv[0]);
	close(sv[1]);
}
END_TEST

/*
 * Stepped while its non-blocking connect is still under way (the SYN
 * dropped: the listener's queue is full): the step asks for POLLOUT and
 * sends nothing; once the connection is made, the same machine goes on.
 */
START_TEST(step_while_connecting)
{
	struct socks5_proxy p = sio_hop("127.0.0.1", 1080, NULL, NULL);
	struct socks5_addr d = dst_ip4();
	struct sockaddr_in sa = { .sin_family = AF_INET };
	socklen_t salen = sizeof(sa);
	struct pollfd pfd = { .events = POLLOUT };
	struct socks5_hs h;
	int l, first, c, peer;

	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	l = socket(AF_INET, SOCK_STREAM, 0);
	ck_assert_int_eq(bind(l, (struct sockaddr *)&sa, sizeof(sa)), 0);
	ck_assert_int_eq(getsockname(l, (struct sockaddr *)&sa, &salen), 0);
	ck_assert_int_eq(listen(l, 0), 0);
	first = socket(AF_INET, SOCK_STREAM, 0);
	ck_assert_int_eq(connect(first, (struct sockaddr *)&sa, salen), 0);
	c = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
	ck_assert_int_eq(connect(c, (struct sockaddr *)&sa, salen), -1);
	ck_assert_int_eq(errno, EINPROGRESS);
	socks5_hs_begin(&h, &p, 1, SOCKS5_CMD_CONNECT, &d, NULL);
	ck_assert_int_eq(socks5_hs_step(&libc_io, c, &h), POLLOUT);
	ck_assert_int_eq(socks5_hs_state(&h), SOCKS5_HS_GREETING_SEND);
	/* Room in the queue: the SYN's retry (after 1 s) gets through. */
	close(accept(l, NULL, NULL));
	pfd.fd = c;
	ck_assert_int_eq(poll(&pfd, 1, 5000), 1);
	ck_assert_int_eq(pfd.revents, POLLOUT);
	ck_assert_int_eq(socks5_hs_step(&libc_io, c, &h), POLLIN);
	ck_assert_int_eq(socks5_hs_state(&h), SOCKS5_HS_METHOD_RECV);
	peer = accept(l, NULL, NULL);
	ck_assert_int_ge(peer, 0);
	proxy_reads(peer, GREET_NOAUTH, sizeof(GREET_NOAUTH));
	close(peer);
	close(c);
	close(first);
	close(l);
}
END_TEST

struct seen {
	char names[16][16];
	size_t n;
};

static void trace(void *arg, size_t hop, const char *state)
{
	struct seen *s = arg;

	ck_assert_uint_eq(hop, 0);
	if (s->n < 16)
		strcpy(s->names[s->n++], state);
}

/* No destination: the hop is negotiated (here with a password) and
 * nothing more is sent; the trace saw every state, the first one too. */
START_TEST(negotiate_only)
{
	static const char *const want[] = { "greeting-send", "method-recv",
					    "auth-send", "auth-recv", "done" };
	struct socks5_proxy p = sio_hop("127.0.0.1", 1080, "alice", "s3cret");
	struct seen seen = { .n = 0 };
	struct socks5_hs_opts o = { .trace = trace, .trace_arg = &seen };
	struct socks5_hs h;
	size_t i;
	int sv[2];

	pair(sv);
	socks5_hs_begin(&h, &p, 1, SOCKS5_CMD_CONNECT, NULL, &o);
	ck_assert_int_eq(socks5_hs_step(&libc_io, sv[0], &h), POLLIN);
	proxy_reads(sv[1], BYTES(5, 2, 0, 2), 4);
	proxy_says(sv[1], METHOD_USERPASS, sizeof(METHOD_USERPASS));
	ck_assert_int_eq(socks5_hs_step(&libc_io, sv[0], &h), POLLIN);
	proxy_reads(sv[1], AUTH_ALICE, sizeof(AUTH_ALICE));
	proxy_says(sv[1], AUTH_OK, sizeof(AUTH_OK));
	ck_assert_int_eq(socks5_hs_step(&libc_io, sv[0], &h), 0);
	ck_assert_int_eq(socks5_hs_result(&h, NULL, NULL), 0);
	nothing_sent(sv[1]);
	ck_assert_uint_eq(seen.n, 5);
	for (i = 0; i < 5; i++)
		ck_assert_str_eq(seen.names[i], want[i]);
	close(sv[0]);
	close(sv[1]);
}
END_TEST

/* The same, pipelined: greeting and credentials in one write, no request. */
START_TEST(negotiate_only_pipelined)
{
	struct socks5_proxy p = sio_hop("127.0.0.1", 1080, "alice", "s3cret");
	struct socks5_hs_opts o = { .pipeline = 1 };
	uint8_t want[sizeof(GREET_USERONLY) + sizeof(AUTH_ALICE)];
	struct socks5_hs h;
	size_t len, max;

	memcpy(want, GREET_USERONLY, sizeof(GREET_USERONLY));
	memcpy(want + sizeof(GREET_USERONLY), AUTH_ALICE, sizeof(AUTH_ALICE));
	socks5_hs_begin(&h, &p, 1, SOCKS5_CMD_CONNECT, NULL, &o);
	ck_assert(socks5_hs_sending(&h));
	ck_assert_mem_eq(socks5_hs_out(&h, &len), want, sizeof(want));
	ck_assert_uint_eq(len, sizeof(want));
	socks5_hs_sent(&h, len);
	/* Reads never reach past the auth reply: no request reply is due. */
	ck_assert_ptr_nonnull(socks5_hs_in(&h, &max));
	ck_assert_uint_eq(max, sizeof(METHOD_USERPASS) + sizeof(AUTH_OK));
	memcpy(socks5_hs_in(&h, &max), BYTES(5, 2, 1, 0), 4);
	socks5_hs_received(&h, 4);
	ck_assert_int_eq(socks5_hs_state(&h), SOCKS5_HS_DONE);
}
END_TEST

/* A caller that reports more than it was given stops the machine instead
 * of overrunning its buffers. */
START_TEST(caller_overreports)
{
	struct socks5_proxy p = sio_hop("127.0.0.1", 1080, NULL, NULL);
	struct socks5_addr d = dst_ip4();
	struct socks5_failure why;
	struct socks5_hs h;
	size_t len, max;

	socks5_hs_begin(&h, &p, 1, SOCKS5_CMD_CONNECT, &d, NULL);
	socks5_hs_out(&h, &len);
	socks5_hs_sent(&h, len + 1);
	ck_assert_int_eq(socks5_hs_result(&h, NULL, &why), -EINVAL);
	ck_assert_str_eq(why.state, "greeting-send");

	socks5_hs_begin(&h, &p, 1, SOCKS5_CMD_CONNECT, &d, NULL);
	socks5_hs_out(&h, &len);
	socks5_hs_sent(&h, len);
	socks5_hs_in(&h, &max);
	ck_assert_uint_eq(max, 2);
	socks5_hs_received(&h, 3);
	ck_assert_int_eq(socks5_hs_result(&h, NULL, &why), -EINVAL);
	ck_assert_str_eq(why.state, "method-recv");
	socks5_hs_in(&h, &max);
	ck_assert_uint_eq(max, 0);
}
END_TEST

START_TEST(names_and_refusals)
{
	struct socks5_proxy p = sio_hop("", 1080, NULL, NULL);
	struct socks5_addr d = dst_ip4();
	struct socks5_failure why;
	struct socks5_hs h;

	ck_assert_str_eq(socks5_hs_state_name(SOCKS5_HS_GREETING_SEND),
			 "greeting-send");
	ck_assert_str_eq(socks5_hs_state_name(SOCKS5_HS_FAILED), "failed");
	ck_assert_str_eq(socks5_hs_state_name(SOCKS5_HS_STATE_COUNT), "unknown");
	socks5_hs_begin(&h, &p, 1, SOCKS5_CMD_CONNECT, &d, NULL); /* no host */
	ck_assert_int_eq(socks5_hs_state(&h), SOCKS5_HS_FAILED);
	ck_assert_int_eq(socks5_hs_step(&libc_io, 0, &h), 0);
	ck_assert_int_eq(socks5_hs_result(&h, NULL, &why), -EINVAL);
	ck_assert_int_eq(why.status, SOCKS5_E_ARG);
	socks5_hs_begin(&h, &p, 0, SOCKS5_CMD_CONNECT, &d, NULL); /* no hops */
	ck_assert_int_eq(socks5_hs_state(&h), SOCKS5_HS_FAILED);
}
END_TEST

/* The target each hop's request names: the next hop, then dst. */
START_TEST(targets)
{
	struct socks5_proxy c[2] = { sio_hop("127.0.0.1", 1080, NULL, NULL),
				     sio_hop("::1", 1081, NULL, NULL) };
	struct socks5_addr d = dst_ip4(), t;
	struct socks5_hs h;
	uint8_t cmd;

	socks5_hs_begin(&h, c, 2, SOCKS5_CMD_UDP_ASSOCIATE, &d, NULL);
	ck_assert_int_eq(socks5_hs_target(&h, &t, &cmd), SOCKS5_OK);
	ck_assert_int_eq(t.atyp, SOCKS5_ATYP_IPV6);
	ck_assert_uint_eq(t.port, 1081);
	ck_assert_int_eq(cmd, SOCKS5_CMD_CONNECT);
	ck_assert_int_eq(socks5_proxy_addr(&c[0], &t), SOCKS5_OK);
	ck_assert_int_eq(t.atyp, SOCKS5_ATYP_IPV4);
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("hs step");
	TCase *tc = tcase_create("machine");

	tcase_set_timeout(tc, 10);
	tcase_add_test(tc, step_never_blocks);
	tcase_add_test(tc, step_sees_close);
	tcase_add_test(tc, caller_times_out);
	tcase_add_test(tc, step_while_connecting);
	tcase_add_test(tc, negotiate_only);
	tcase_add_test(tc, negotiate_only_pipelined);
	tcase_add_test(tc, caller_overreports);
	tcase_add_test(tc, names_and_refusals);
	tcase_add_test(tc, targets);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? 1 : 0;
}
