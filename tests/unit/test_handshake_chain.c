/*
 * The handshake driver beyond one CONNECT through one proxy, against
 * scripted I/O (scripted_io.h): UDP ASSOCIATE, BIND's two replies, chains
 * of hops and which hop a failure names, and the bounded connect
 * (socks5_connect_deadline), scripted and on real loopback sockets.
 */
#include <arpa/inet.h>
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "scripted_io.h"
#include "socks5.h"

/* ------------------------------------------------------------------ */
/* UDP ASSOCIATE and BIND                                              */

START_TEST(udp_associate)
{
	struct socks5_proxy p = sio_hop("127.0.0.1", 1080, NULL, NULL);
	struct socks5_addr any = sio_ip4(0, 0, 0, 0, 0);
	struct socks5_reply r;

	sio_reset();
	SIO_EXPECT(SIO_GREET_NOAUTH);
	SIO_SAYS(SIO_METHOD_NOAUTH);
	SEND(5, 3, 0, 1, 0, 0, 0, 0, 0, 0);
	SAYS(5, 0, 0, 1, 127, 0, 0, 1, 0xa0, 0x00);
	ck_assert_int_eq(sio_run1(&p, SOCKS5_CMD_UDP_ASSOCIATE, &any, &r,
				  NULL), 0);
	ck_assert_mem_eq(r.bnd.u.ipv4, BYTES(127, 0, 0, 1), 4);
	ck_assert_uint_eq(r.bnd.port, 0xa000);
}
END_TEST

/* BIND: the handshake returns the first reply and leaves the second in
 * the socket; read_reply takes exactly the second, and the program's data
 * behind it stays unread. */
START_TEST(bind_two_replies)
{
	struct socks5_proxy p = sio_hop("127.0.0.1", 1080, NULL, NULL);
	struct socks5_addr peer = sio_ip4(192, 0, 2, 9, 0);
	struct socks5_reply r1, r2;
	struct socks5_failure why;

	sio_reset();
	SIO_EXPECT(SIO_GREET_NOAUTH);
	SIO_SAYS(SIO_METHOD_NOAUTH);
	SEND(5, 2, 0, 1, 192, 0, 2, 9, 0, 0);
	/* both replies and data in one chunk: the worst case for read-ahead */
	SAYS(5, 0, 0, 1, 127, 0, 0, 1, 0x30, 0x39,
	     5, 0, 0, 1, 192, 0, 2, 9, 0xd4, 0x31, 'd', 'a', 't', 'a');
	ck_assert_int_eq(sio_run1(&p, SOCKS5_CMD_BIND, &peer, &r1, NULL), 0);
	ck_assert_uint_eq(r1.bnd.port, 12345);
	ck_assert_uint_eq(sio_unread(), 14);
	ck_assert_int_eq(socks5_read_reply(&sio_io, 3, DEADLINE, &r2, &why), 0);
	ck_assert_mem_eq(r2.bnd.u.ipv4, BYTES(192, 0, 2, 9), 4);
	ck_assert_uint_eq(r2.bnd.port, 54321);
	ck_assert_str_eq(why.state, "done");
	ck_assert_uint_eq(sio_unread(), 4);
}
END_TEST

START_TEST(bind_second_reply_refused)
{
	struct socks5_reply r;
	struct socks5_failure why;

	sio_reset();
	SAYS(5, 2, 0, 1, 0, 0, 0, 0, 0, 0);
	ck_assert_int_eq(socks5_read_reply(&sio_io, 3, DEADLINE, &r, &why),
			 -EACCES);
	ck_assert_int_eq(why.status, SOCKS5_E_REPLY);
	ck_assert_uint_eq(why.rep, 2);
	ck_assert_int_eq(why.hop, -1);
	ck_assert_str_eq(why.state, "reply-recv");
}
END_TEST

/* ------------------------------------------------------------------ */
/* chains                                                              */

START_TEST(chain_two_hops)
{
	struct socks5_proxy c[2] = { sio_hop("127.0.0.1", 1080, NULL, NULL),
				     sio_hop("10.1.2.3", 1081, NULL, NULL) };
	struct socks5_addr dst = sio_ip4(192, 0, 2, 7, 80);
	struct socks5_reply r;
	struct socks5_failure why;

	sio_reset();
	SIO_EXPECT(SIO_GREET_NOAUTH);
	SIO_SAYS(SIO_METHOD_NOAUTH);
	SEND(5, 1, 0, 1, 10, 1, 2, 3, 0x04, 0x39); /* CONNECT hop 1 */
	SAYS(5, 0, 0, 1, 127, 0, 0, 1, 0, 1);
	SIO_EXPECT(SIO_GREET_NOAUTH);
	SIO_SAYS(SIO_METHOD_NOAUTH);
	SIO_EXPECT(SIO_REQ_CONNECT);
	SIO_SAYS(SIO_REPLY_OK);
	ck_assert_int_eq(socks5_handshake(&sio_io, 3, c, 2, SOCKS5_CMD_CONNECT,
					  &dst, DEADLINE, &r, &why), 0);
	ck_assert_uint_eq(sio_st.sent, sio_st.expect_len);
	sio_assert_bound_ok(&r); /* the last hop's reply */
}
END_TEST

/* A raw hop (a TCP forwarder) is sent nothing: raw -> socks5 greets the
 * SOCKS5 hop at once; socks5 -> raw asks hop 0 for the forwarder only;
 * a raw hop alone is done once connected; BIND cannot end at one. */
/* Hops picked by index from a list as long as SOCKS5_CHAIN_MAX
 * (socks5_hs_opts.pick): the picked ones, in the picked order, and no
 * other (list[0] has no host: a machine that read it would refuse). */
START_TEST(chain_picked_from_list)
{
	static struct socks5_proxy list[SOCKS5_CHAIN_MAX];
	const uint16_t pick[2] = { 300, SOCKS5_CHAIN_MAX - 1 };
	const uint16_t bad_pick[1] = { SOCKS5_CHAIN_MAX };
	struct socks5_hs_opts opts = { .pick = pick };
	struct socks5_addr dst = sio_ip4(192, 0, 2, 7, 80);
	struct socks5_reply r;
	size_t i;

	for (i = 1; i < SOCKS5_CHAIN_MAX; i++)
		list[i] = sio_hop("192.0.2.99", 1, "never", "used");
	list[300] = sio_hop("127.0.0.1", 1080, NULL, NULL);
	list[SOCKS5_CHAIN_MAX - 1] = sio_hop("10.1.2.3", 1081, NULL, NULL);
	sio_reset();
	SIO_EXPECT(SIO_GREET_NOAUTH);
	SIO_SAYS(SIO_METHOD_NOAUTH);
	SEND(5, 1, 0, 1, 10, 1, 2, 3, 0x04, 0x39); /* CONNECT list[511] */
	SAYS(5, 0, 0, 1, 127, 0, 0, 1, 0, 1);
	SIO_EXPECT(SIO_GREET_NOAUTH);
	SIO_SAYS(SIO_METHOD_NOAUTH);
	SIO_EXPECT(SIO_REQ_CONNECT);
	SIO_SAYS(SIO_REPLY_OK);
	ck_assert_int_eq(socks5_handshake_ex(&sio_io, 3, list, 2,
					     SOCKS5_CMD_CONNECT, &dst,
					     DEADLINE, &opts, &r, NULL), 0);
	ck_assert_uint_eq(sio_st.sent, sio_st.expect_len);
	sio_assert_bound_ok(&r);

	/* an index past the list, or a picked hop without a host */
	sio_reset();
	opts.pick = bad_pick;
	ck_assert_int_eq(socks5_handshake_ex(&sio_io, 3, list, 1,
					     SOCKS5_CMD_CONNECT, &dst,
					     DEADLINE, &opts, &r, NULL),
			 -EINVAL);
	opts.pick = (const uint16_t[]){ 0 };
	ck_assert_int_eq(socks5_handshake_ex(&sio_io, 3, list, 1,
					     SOCKS5_CMD_CONNECT, &dst,
					     DEADLINE, &opts, &r, NULL),
			 -EINVAL);
	ck_assert_int_eq(sio_st.send_calls + sio_st.recv_calls, 0);
}
END_TEST

START_TEST(chain_raw_hops)
{
	struct socks5_proxy c[2] = { sio_hop("127.0.0.1", 1080, NULL, NULL),
				     sio_hop("10.1.2.3", 1081, NULL, NULL) };
	struct socks5_addr dst = sio_ip4(192, 0, 2, 7, 80);
	struct socks5_reply r;
	struct socks5_failure why;

	c[0].type = SOCKS5_HOP_RAW;
	sio_reset();
	SIO_EXPECT(SIO_GREET_NOAUTH);
	SIO_SAYS(SIO_METHOD_NOAUTH);
	SIO_EXPECT(SIO_REQ_CONNECT);
	SIO_SAYS(SIO_REPLY_OK);
	ck_assert_int_eq(socks5_handshake(&sio_io, 3, c, 2, SOCKS5_CMD_CONNECT,
					  &dst, DEADLINE, &r, &why), 0);
	ck_assert_uint_eq(sio_st.sent, sio_st.expect_len);

	c[0].type = SOCKS5_HOP_SOCKS5;
	c[1].type = SOCKS5_HOP_RAW;
	sio_reset();
	SIO_EXPECT(SIO_GREET_NOAUTH);
	SIO_SAYS(SIO_METHOD_NOAUTH);
	SEND(5, 1, 0, 1, 10, 1, 2, 3, 0x04, 0x39); /* CONNECT the forwarder */
	SAYS(5, 0, 0, 1, 127, 0, 0, 1, 0, 1);
	ck_assert_int_eq(socks5_handshake(&sio_io, 3, c, 2, SOCKS5_CMD_CONNECT,
					  &dst, DEADLINE, &r, &why), 0);
	ck_assert_uint_eq(sio_st.sent, sio_st.expect_len);

	sio_reset();
	ck_assert_int_eq(socks5_handshake(&sio_io, 3, &c[1], 1,
					  SOCKS5_CMD_CONNECT, &dst, DEADLINE,
					  &r, &why), 0);
	ck_assert_uint_eq(sio_st.sent, 0);
	ck_assert_uint_eq(r.bnd.atyp, SOCKS5_ATYP_IPV4);

	sio_reset();
	ck_assert_int_ne(socks5_handshake(&sio_io, 3, &c[1], 1, SOCKS5_CMD_BIND,
					  &dst, DEADLINE, &r, &why), 0);
	ck_assert_int_eq(why.status, SOCKS5_E_HOP_CMD);
}
END_TEST

/* Three hops: IPv6 literal with credentials in the middle, a name last. */
START_TEST(chain_three_hops)
{
	struct socks5_proxy c[3] = {
		sio_hop("127.0.0.1", 1080, NULL, NULL),
		sio_hop("2001:db8::5", 1080, "u", "p"),
		sio_hop("px.test", 9050, NULL, NULL),
	};
	struct socks5_addr dst = sio_ip4(192, 0, 2, 7, 80);
	struct socks5_reply r;

	sio_reset();
	SIO_EXPECT(SIO_GREET_NOAUTH);
	SIO_SAYS(SIO_METHOD_NOAUTH);
	SEND(5, 1, 0, 4, 0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
	     0, 5, 0x04, 0x38);
	SAYS(5, 0, 0, 1, 0, 0, 0, 0, 0, 0);
	SIO_EXPECT(SIO_GREET_USERPASS);
	SIO_SAYS(SIO_METHOD_USERPASS);
	SEND(1, 1, 'u', 1, 'p');
	SAYS(1, 0);
	SEND(5, 1, 0, 3, 7, 'p', 'x', '.', 't', 'e', 's', 't', 0x23, 0x5a);
	SAYS(5, 0, 0, 1, 0, 0, 0, 0, 0, 0);
	SIO_EXPECT(SIO_GREET_NOAUTH);
	SIO_SAYS(SIO_METHOD_NOAUTH);
	SIO_EXPECT(SIO_REQ_CONNECT);
	SIO_SAYS(SIO_REPLY_OK);
	ck_assert_int_eq(socks5_handshake(&sio_io, 3, c, 3, SOCKS5_CMD_CONNECT,
					  &dst, DEADLINE, &r, NULL), 0);
	ck_assert_uint_eq(sio_st.sent, sio_st.expect_len);
	sio_assert_bound_ok(&r);
}
END_TEST

/* Hop 0 cannot reach hop 1: the failure names hop 0 and its REP. */
START_TEST(chain_refused_between_hops)
{
	struct socks5_proxy c[2] = { sio_hop("127.0.0.1", 1080, NULL, NULL),
				     sio_hop("127.0.0.2", 1081, NULL, NULL) };
	struct socks5_addr dst = sio_ip4(192, 0, 2, 7, 80);
	struct socks5_failure why;

	sio_reset();
	SIO_EXPECT(SIO_GREET_NOAUTH);
	SIO_SAYS(SIO_METHOD_NOAUTH);
	SEND(5, 1, 0, 1, 127, 0, 0, 2, 0x04, 0x39);
	SAYS(5, 4, 0, 1, 0, 0, 0, 0, 0, 0);
	ck_assert_int_eq(socks5_handshake(&sio_io, 3, c, 2, SOCKS5_CMD_CONNECT,
					  &dst, DEADLINE, NULL, &why),
			 -EHOSTUNREACH);
	ck_assert_int_eq(why.hop, 0);
	ck_assert_uint_eq(why.rep, 4);
	ck_assert_str_eq(why.state, "reply-recv");

	/* ...and at the last hop it names hop 1. */
	sio_reset();
	SIO_EXPECT(SIO_GREET_NOAUTH);
	SIO_SAYS(SIO_METHOD_NOAUTH);
	SEND(5, 1, 0, 1, 127, 0, 0, 2, 0x04, 0x39);
	SAYS(5, 0, 0, 1, 0, 0, 0, 0, 0, 0);
	SIO_EXPECT(SIO_GREET_NOAUTH);
	SAYS(5, 0xff);
	ck_assert_int_eq(socks5_handshake(&sio_io, 3, c, 2, SOCKS5_CMD_CONNECT,
					  &dst, DEADLINE, NULL, &why),
			 -EACCES);
	ck_assert_int_eq(why.hop, 1);
	ck_assert_int_eq(why.status, SOCKS5_E_NO_ACCEPTABLE);
	ck_assert_str_eq(why.state, "method-recv");
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

	sio_reset();
	sio_st.fl = O_RDWR | O_APPEND;
	ck_assert_int_eq(socks5_connect_deadline(&sio_io, fd,
						 (struct sockaddr *)&sa,
						 sizeof(sa), DEADLINE), 0);
	ck_assert_int_eq(sio_st.fl, O_RDWR | O_APPEND);
	ck_assert_int_eq(sio_st.setfl_calls, 2);

	/* in progress, then done */
	sio_reset();
	sio_st.fl = O_RDWR;
	sio_st.connect_errno = EINPROGRESS;
	sio_poll_fault(EINTR);
	ck_assert_int_eq(socks5_connect_deadline(&sio_io, fd,
						 (struct sockaddr *)&sa,
						 sizeof(sa), DEADLINE), 0);
	ck_assert_int_eq(sio_st.fl, O_RDWR);

	/* already non-blocking: flags never touched */
	sio_reset();
	sio_st.fl = O_RDWR | O_NONBLOCK;
	sio_st.connect_errno = EINTR;
	ck_assert_int_eq(socks5_connect_deadline(&sio_io, fd,
						 (struct sockaddr *)&sa,
						 sizeof(sa), DEADLINE), 0);
	ck_assert_int_eq(sio_st.setfl_calls, 0);

	/* refused at once */
	sio_reset();
	sio_st.fl = O_RDWR;
	sio_st.connect_errno = ECONNREFUSED;
	ck_assert_int_eq(socks5_connect_deadline(&sio_io, fd,
						 (struct sockaddr *)&sa,
						 sizeof(sa), DEADLINE),
			 -ECONNREFUSED);
	ck_assert_int_eq(sio_st.fl, O_RDWR);
	close(fd);
}
END_TEST

START_TEST(connect_times_out)
{
	struct sockaddr_in sa = { .sin_family = AF_INET };
	int fd = sock();
	int64_t t0, dt;

	sio_reset();
	sio_st.fl = O_RDWR;
	sio_st.connect_errno = EINPROGRESS;
	sio_st.stall_out = true;
	t0 = socks5_now_ms();
	ck_assert_int_eq(socks5_connect_deadline(&sio_io, fd,
						 (struct sockaddr *)&sa,
						 sizeof(sa), t0 + 200),
			 -ETIMEDOUT);
	dt = socks5_now_ms() - t0;
	ck_assert_int_ge(dt, 200);
	ck_assert_int_lt(dt, 900);
	ck_assert_int_eq(sio_st.fl, O_RDWR);
	close(fd);
}
END_TEST

/* A scripted sendto: the Fast Open start answers fo_errno (0: started). */
static int fo_errno, fo_calls;

static ssize_t fo_sendto(int fd, const void *buf, size_t len, int flags,
			 const struct sockaddr *sa, socklen_t salen)
{
	(void)fd, (void)buf, (void)sa, (void)salen;
	fo_calls++;
	ck_assert_int_eq(len, 0);
	ck_assert_int_eq(flags & (MSG_FASTOPEN | MSG_DONTWAIT),
			 MSG_FASTOPEN | MSG_DONTWAIT);
	errno = fo_errno ? fo_errno : EINPROGRESS;
	return -1;
}

/* Started with sendto: the flags are never touched; refused by the kernel
 * (Fast Open off: EOPNOTSUPP) it is connect() with fcntl after all; any
 * other error is the connect's answer. */
START_TEST(connect_fastopen_or_fcntl)
{
	struct socks5_io io = sio_io;
	struct sockaddr_in sa = { .sin_family = AF_INET };
	int fd = sock();

	io.sendto = fo_sendto;
	sio_reset();
	sio_st.fl = O_RDWR;
	fo_errno = 0;
	fo_calls = 0;
	ck_assert_int_eq(socks5_connect_deadline(&io, fd, (struct sockaddr *)&sa,
						 sizeof(sa), DEADLINE), 0);
	ck_assert_int_eq(fo_calls, 1);
	ck_assert_int_eq(sio_st.setfl_calls, 0);

	sio_reset();
	sio_st.fl = O_RDWR;
	fo_errno = EOPNOTSUPP;
	ck_assert_int_eq(socks5_connect_deadline(&io, fd, (struct sockaddr *)&sa,
						 sizeof(sa), DEADLINE), 0);
	ck_assert_int_eq(sio_st.setfl_calls, 2);
	ck_assert_int_eq(sio_st.fl, O_RDWR);

	sio_reset();
	sio_st.fl = O_RDWR;
	fo_errno = ECONNREFUSED;
	ck_assert_int_eq(socks5_connect_deadline(&io, fd, (struct sockaddr *)&sa,
						 sizeof(sa), DEADLINE),
			 -ECONNREFUSED);
	ck_assert_int_eq(sio_st.setfl_calls, 0);

	/* a stall after the start ends at the deadline */
	sio_reset();
	sio_st.fl = O_RDWR;
	sio_st.stall_out = true;
	fo_errno = 0;
	ck_assert_int_eq(socks5_connect_deadline(&io, fd, (struct sockaddr *)&sa,
						 sizeof(sa),
						 socks5_now_ms() + 100),
			 -ETIMEDOUT);
	close(fd);
}
END_TEST

/* The same with the real libc functions, on loopback: without sendto
 * (fcntl around connect) and with it (Fast Open start). */
START_TEST(connect_real_loopback)
{
	static const struct socks5_io libc_ios[2] = {
		{ .send = send, .recv = recv, .poll = poll,
		  .connect = connect, .fcntl = fcntl,
		  .getsockopt = getsockopt },
		{ .send = send, .recv = recv, .poll = poll,
		  .connect = connect, .fcntl = fcntl, .sendto = sendto,
		  .getsockopt = getsockopt },
	};
	const struct socks5_io libc_io = libc_ios[_i];
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
/* A datagram socket is refused before anything is sent (the start's
 * MSG_OOB, which UDP rejects): -EPROTOTYPE, and the would-be proxy hears
 * nothing. */
START_TEST(connect_refuses_datagram_socket)
{
	static const struct socks5_io libc_io = {
		.send = send, .recv = recv, .poll = poll,
		.connect = connect, .fcntl = fcntl, .sendto = sendto,
		.getsockopt = getsockopt,
	};
	struct sockaddr_in sa = { .sin_family = AF_INET,
				  .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t len = sizeof(sa);
	char b[4];
	int l, u;

	l = socket(AF_INET, SOCK_DGRAM, 0);
	ck_assert_int_ge(l, 0);
	ck_assert_int_eq(bind(l, (struct sockaddr *)&sa, sizeof(sa)), 0);
	ck_assert_int_eq(getsockname(l, (struct sockaddr *)&sa, &len), 0);
	u = socket(AF_INET, SOCK_DGRAM, 0);
	ck_assert_int_eq(socks5_connect_deadline(&libc_io, u,
						 (struct sockaddr *)&sa,
						 sizeof(sa), DEADLINE),
			 -EPROTOTYPE);
	ck_assert_int_eq(recv(l, b, sizeof(b), MSG_DONTWAIT), -1);
	ck_assert_int_eq(errno, EAGAIN);
	close(u);
	close(l);
}
END_TEST

static Suite *handshake_chain_suite(void)
{
	Suite *s = suite_create("handshake_chain");
	TCase *ok = tcase_create("protocol");
	TCase *bad = tcase_create("refusals");
	TCase *conn = tcase_create("connect");

	tcase_add_test(ok, udp_associate);
	tcase_add_test(ok, bind_two_replies);
	tcase_add_test(ok, chain_two_hops);
	tcase_add_test(ok, chain_three_hops);
	tcase_add_test(ok, chain_raw_hops);
	tcase_add_test(ok, chain_picked_from_list);
	suite_add_tcase(s, ok);

	tcase_add_test(bad, bind_second_reply_refused);
	tcase_add_test(bad, chain_refused_between_hops);
	suite_add_tcase(s, bad);

	tcase_add_test(conn, connect_restores_flags);
	tcase_add_test(conn, connect_times_out);
	tcase_add_test(conn, connect_fastopen_or_fcntl);
	tcase_add_loop_test(conn, connect_real_loopback, 0, 2);
	tcase_add_test(conn, connect_refuses_datagram_socket);
	suite_add_tcase(s, conn);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(handshake_chain_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
