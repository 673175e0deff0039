/*
 * The handshake driver through one proxy, against scripted I/O
 * (scripted_io.h): every message byte for byte, REP codes and refusals,
 * authentication, malformed answers, and the I/O faults (EINTR, short
 * writes, every chunking, stalls, early close, errors).
 */
#include <check.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "scripted_io.h"
#include "socks5.h"

/* ------------------------------------------------------------------ */
/* happy paths, byte for byte                                          */

START_TEST(connect_noauth)
{
	struct socks5_proxy p = sio_hop("127.0.0.1", 1080, NULL, NULL);
	struct socks5_addr dst = sio_ip4(192, 0, 2, 7, 80);
	struct socks5_reply r;
	struct socks5_failure why;

	sio_script_plain();
	ck_assert_int_eq(sio_run1(&p, SOCKS5_CMD_CONNECT, &dst, &r, &why), 0);
	ck_assert_uint_eq(sio_st.sent, sio_st.expect_len);
	sio_assert_bound_ok(&r);
	ck_assert_int_eq(why.status, SOCKS5_OK);
	ck_assert_int_eq(why.hop, -1);
	ck_assert_str_eq(why.state, "done");
	ck_assert_uint_eq(sio_unread(), 0);
}
END_TEST

START_TEST(connect_userpass)
{
	struct socks5_proxy p = sio_hop("127.0.0.1", 1080, "alice", "s3cret");
	struct socks5_addr dst = sio_ip4(192, 0, 2, 7, 80);
	struct socks5_reply r;

	sio_reset();
	SIO_EXPECT(SIO_GREET_USERPASS);
	SIO_SAYS(SIO_METHOD_USERPASS);
	SEND(1, 5, 'a', 'l', 'i', 'c', 'e', 6, 's', '3', 'c', 'r', 'e', 't');
	SAYS(1, 0);
	SIO_EXPECT(SIO_REQ_CONNECT);
	SIO_SAYS(SIO_REPLY_OK);
	ck_assert_int_eq(sio_run1(&p, SOCKS5_CMD_CONNECT, &dst, &r, NULL), 0);
	ck_assert_uint_eq(sio_st.sent, sio_st.expect_len);
	sio_assert_bound_ok(&r);
}
END_TEST

/* Credentials given, but the proxy needs none: no auth message. */
START_TEST(userpass_offered_noauth_chosen)
{
	struct socks5_proxy p = sio_hop("127.0.0.1", 1080, "alice", "s3cret");
	struct socks5_addr dst = sio_ip4(192, 0, 2, 7, 80);
	struct socks5_reply r;

	sio_reset();
	SIO_EXPECT(SIO_GREET_USERPASS);
	SIO_SAYS(SIO_METHOD_NOAUTH);
	SIO_EXPECT(SIO_REQ_CONNECT);
	SIO_SAYS(SIO_REPLY_OK);
	ck_assert_int_eq(sio_run1(&p, SOCKS5_CMD_CONNECT, &dst, &r, NULL), 0);
	ck_assert_uint_eq(sio_st.sent, sio_st.expect_len);
}
END_TEST

START_TEST(connect_domain_and_ipv6)
{
	struct socks5_proxy p = sio_hop("127.0.0.1", 1080, NULL, NULL);
	struct socks5_addr dst;
	struct socks5_reply r;

	ck_assert_int_eq(socks5_addr_from_domain(&dst, "target.test", 11, 443),
			 SOCKS5_OK);
	sio_reset();
	SIO_EXPECT(SIO_GREET_NOAUTH);
	SIO_SAYS(SIO_METHOD_NOAUTH);
	SEND(5, 1, 0, 3, 11, 't', 'a', 'r', 'g', 'e', 't', '.', 't', 'e', 's',
	     't', 1, 187);
	/* a reply with an IPv6 BND */
	SAYS(5, 0, 0, 4, 0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
	     0, 9, 0x01, 0xbb);
	ck_assert_int_eq(sio_run1(&p, SOCKS5_CMD_CONNECT, &dst, &r, NULL), 0);
	ck_assert_uint_eq(r.bnd.atyp, SOCKS5_ATYP_IPV6);
	ck_assert_uint_eq(r.bnd.u.ipv6[15], 9);
	ck_assert_uint_eq(r.bnd.port, 443);

	memset(&dst, 0, sizeof(dst));
	dst.atyp = SOCKS5_ATYP_IPV6;
	dst.u.ipv6[15] = 1;
	dst.port = 22;
	sio_reset();
	SIO_EXPECT(SIO_GREET_NOAUTH);
	SIO_SAYS(SIO_METHOD_NOAUTH);
	SEND(5, 1, 0, 4, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 22);
	/* a reply with a domain BND */
	SAYS(5, 0, 0, 3, 2, 'p', 'x', 0, 1);
	ck_assert_int_eq(sio_run1(&p, SOCKS5_CMD_CONNECT, &dst, &r, NULL), 0);
	ck_assert_uint_eq(r.bnd.atyp, SOCKS5_ATYP_DOMAIN);
	ck_assert_str_eq(r.bnd.u.domain, "px");
}
END_TEST


/* Data the proxy (or the target through it) sends right after the reply
 * belongs to the program: the driver must not read any of it. */
START_TEST(no_read_past_reply)
{
	struct socks5_proxy p = sio_hop("127.0.0.1", 1080, NULL, NULL);
	struct socks5_addr dst = sio_ip4(192, 0, 2, 7, 80);
	uint8_t glued[sizeof(SIO_REPLY_OK) + 8];

	sio_reset();
	SIO_EXPECT(SIO_GREET_NOAUTH);
	SIO_SAYS(SIO_METHOD_NOAUTH);
	SIO_EXPECT(SIO_REQ_CONNECT);
	memcpy(glued, SIO_REPLY_OK, sizeof(SIO_REPLY_OK));
	memcpy(glued + sizeof(SIO_REPLY_OK), "SSH-2.0-", 8);
	SIO_SAYS(glued);
	ck_assert_int_eq(sio_run1(&p, SOCKS5_CMD_CONNECT, &dst, NULL, NULL), 0);
	ck_assert_uint_eq(sio_unread(), 8);
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
	struct socks5_proxy p = sio_hop("127.0.0.1", 1080, NULL, NULL);
	struct socks5_addr dst = sio_ip4(192, 0, 2, 7, 80);
	struct socks5_failure why;
	uint8_t reply[sizeof(SIO_REPLY_OK)];

	sio_script_plain();
	memcpy(reply, SIO_REPLY_OK, sizeof(reply));
	reply[1] = rep_cases[_i].rep;
	sio_st.chunks[1].len = 0; /* replace the success reply */
	SIO_SAYS(reply);
	ck_assert_int_eq(sio_run1(&p, SOCKS5_CMD_CONNECT, &dst, NULL, &why),
			 -rep_cases[_i].err);
	ck_assert_int_eq(why.status, SOCKS5_E_REPLY);
	ck_assert_uint_eq(why.rep, rep_cases[_i].rep);
	ck_assert_int_eq(why.hop, 0);
	ck_assert_str_eq(why.state, "reply-recv");
}
END_TEST

START_TEST(auth_rejected)
{
	struct socks5_proxy p = sio_hop("127.0.0.1", 1080, "alice", "wrong");
	struct socks5_addr dst = sio_ip4(192, 0, 2, 7, 80);
	struct socks5_failure why;

	sio_reset();
	SIO_EXPECT(SIO_GREET_USERPASS);
	SIO_SAYS(SIO_METHOD_USERPASS);
	SEND(1, 5, 'a', 'l', 'i', 'c', 'e', 5, 'w', 'r', 'o', 'n', 'g');
	SAYS(1, 1);
	ck_assert_int_eq(sio_run1(&p, SOCKS5_CMD_CONNECT, &dst, NULL, &why),
			 -EACCES);
	ck_assert_int_eq(why.status, SOCKS5_E_AUTH_REJECTED);
	ck_assert_str_eq(why.state, "auth-recv");
}
END_TEST

START_TEST(method_refusals)
{
	struct socks5_proxy p = sio_hop("127.0.0.1", 1080, NULL, NULL);
	struct socks5_addr dst = sio_ip4(192, 0, 2, 7, 80);
	struct socks5_failure why;

	/* 0xFF: the proxy wants credentials we do not have. */
	sio_reset();
	SIO_EXPECT(SIO_GREET_NOAUTH);
	SAYS(5, 0xff);
	ck_assert_int_eq(sio_run1(&p, SOCKS5_CMD_CONNECT, &dst, NULL, &why),
			 -EACCES);
	ck_assert_int_eq(why.status, SOCKS5_E_NO_ACCEPTABLE);

	/* A method we did not offer. */
	sio_reset();
	SIO_EXPECT(SIO_GREET_NOAUTH);
	SAYS(5, 2);
	ck_assert_int_eq(sio_run1(&p, SOCKS5_CMD_CONNECT, &dst, NULL, &why),
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
	struct socks5_proxy p = sio_hop("127.0.0.1", 1080, NULL, NULL);
	struct socks5_addr dst = sio_ip4(192, 0, 2, 7, 80);
	struct socks5_failure why;
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		sio_reset();
		SIO_EXPECT(SIO_GREET_NOAUTH);
		if (cases[i].in_reply) {
			SIO_SAYS(SIO_METHOD_NOAUTH);
			SIO_EXPECT(SIO_REQ_CONNECT);
		}
		sio_proxy_says(cases[i].bytes, cases[i].len);
		ck_assert_int_eq(sio_run1(&p, SOCKS5_CMD_CONNECT, &dst, NULL,
					  &why), -ECONNREFUSED);
		ck_assert_int_eq(why.status, cases[i].st);
		ck_assert_str_eq(why.state, cases[i].in_reply ? "reply-recv" :
								 "method-recv");
	}
}
END_TEST

/* Bad requests never reach the wire. */
START_TEST(bad_arguments)
{
	struct socks5_proxy p = sio_hop("127.0.0.1", 1080, NULL, NULL);
	static struct socks5_proxy many[SOCKS5_CHAIN_MAX + 1]; /* 430 KiB */
	struct socks5_proxy nopass = sio_hop("127.0.0.1", 1080, "alice", "");
	struct socks5_addr dst = sio_ip4(192, 0, 2, 7, 80);
	struct socks5_failure why;
	size_t i;

	sio_reset();
	for (i = 0; i <= SOCKS5_CHAIN_MAX; i++)
		many[i] = p;
	ck_assert_int_eq(socks5_handshake(&sio_io, 3, NULL, 1, 1, &dst,
					  DEADLINE, NULL, &why), -EINVAL);
	ck_assert_int_eq(why.status, SOCKS5_E_ARG);
	ck_assert_int_eq(socks5_handshake(&sio_io, 3, &p, 0, 1, &dst, DEADLINE,
					  NULL, NULL), -EINVAL);
	ck_assert_int_eq(socks5_handshake(&sio_io, 3, many,
					  SOCKS5_CHAIN_MAX + 1, 1, &dst,
					  DEADLINE, NULL, NULL),
			 -EINVAL);
	ck_assert_int_eq(socks5_handshake(&sio_io, 3, &p, 1, 1, NULL, DEADLINE,
					  NULL, NULL), -EINVAL);
	ck_assert_int_eq(socks5_handshake(NULL, 3, &p, 1, 1, &dst, DEADLINE,
					  NULL, NULL), -EINVAL);
	ck_assert_int_eq(sio_st.send_calls + sio_st.recv_calls, 0);

	/* An unknown command is refused when the request is encoded. */
	sio_reset();
	SIO_EXPECT(SIO_GREET_NOAUTH);
	SIO_SAYS(SIO_METHOD_NOAUTH);
	ck_assert_int_eq(sio_run1(&p, 9, &dst, NULL, &why), -EINVAL);
	ck_assert_str_eq(why.state, "request-send");

	/* RFC 1929 has no empty password: refused, not sent. */
	sio_reset();
	SIO_EXPECT(SIO_GREET_USERPASS);
	SIO_SAYS(SIO_METHOD_USERPASS);
	ck_assert_int_eq(sio_run1(&nopass, SOCKS5_CMD_CONNECT, &dst, NULL,
				  &why), -EINVAL);
	ck_assert_int_eq(why.status, SOCKS5_E_PASS_LENGTH);
	ck_assert_str_eq(why.state, "auth-send");
}
END_TEST

/* ------------------------------------------------------------------ */
/* I/O faults                                                          */

START_TEST(eintr_everywhere)
{
	struct socks5_proxy p = sio_hop("127.0.0.1", 1080, NULL, NULL);
	struct socks5_addr dst = sio_ip4(192, 0, 2, 7, 80);
	struct socks5_reply r;

	sio_reset();
	sio_poll_fault(EINTR);
	sio_poll_fault(EINTR);
	sio_poll_fault(-1); /* a spurious early wake-up */
	sio_send_limit(-EINTR);
	sio_send_limit(-EAGAIN);
	SIO_EXPECT(SIO_GREET_NOAUTH);
	sio_proxy_err(EINTR);
	sio_proxy_err(EAGAIN);
	SIO_SAYS(SIO_METHOD_NOAUTH);
	SIO_EXPECT(SIO_REQ_CONNECT);
	sio_proxy_err(EINTR);
	SIO_SAYS(SIO_REPLY_OK);
	ck_assert_int_eq(sio_run1(&p, SOCKS5_CMD_CONNECT, &dst, &r, NULL), 0);
	ck_assert_uint_eq(sio_st.sent, sio_st.expect_len);
	sio_assert_bound_ok(&r);
	ck_assert_uint_eq(sio_st.poll_i, 3);
	ck_assert_uint_eq(sio_st.send_i, 2);
}
END_TEST

START_TEST(short_writes)
{
	struct socks5_proxy p = sio_hop("127.0.0.1", 1080, "alice", "s3cret");
	struct socks5_addr dst = sio_ip4(192, 0, 2, 7, 80);
	struct socks5_reply r;
	int i;

	sio_reset();
	for (i = 0; i < 40; i++)
		sio_send_limit(1);
	SIO_EXPECT(SIO_GREET_USERPASS);
	SIO_SAYS(SIO_METHOD_USERPASS);
	SEND(1, 5, 'a', 'l', 'i', 'c', 'e', 6, 's', '3', 'c', 'r', 'e', 't');
	SAYS(1, 0);
	SIO_EXPECT(SIO_REQ_CONNECT);
	SIO_SAYS(SIO_REPLY_OK);
	ck_assert_int_eq(sio_run1(&p, SOCKS5_CMD_CONNECT, &dst, &r, NULL), 0);
	ck_assert_uint_eq(sio_st.sent, sio_st.expect_len);
	ck_assert_int_eq(sio_st.send_calls, 4 + 14 + 10);
}
END_TEST

/*
 * Every way to cut the proxy's 12 bytes (method selection + IPv4 reply)
 * into chunks, 2^11 of them, gives the same result and reads nothing
 * beyond the reply.
 */
START_TEST(every_chunking_ipv4)
{
	struct socks5_proxy p = sio_hop("127.0.0.1", 1080, NULL, NULL);
	struct socks5_addr dst = sio_ip4(192, 0, 2, 7, 80);
	uint8_t all[12 + 3];
	unsigned mask, i;

	memcpy(all, SIO_METHOD_NOAUTH, 2);
	memcpy(all + 2, SIO_REPLY_OK, 10);
	memcpy(all + 12, "xyz", 3);
	for (mask = 0; mask < (1u << 11); mask++) {
		struct socks5_reply r;
		size_t start = 0;

		sio_reset();
		SIO_EXPECT(SIO_GREET_NOAUTH);
		/* bit i set: a cut after byte i */
		for (i = 0; i < 12; i++) {
			if (i == 2)
				SIO_EXPECT(SIO_REQ_CONNECT);
			if (i == 11 || (mask & (1u << i))) {
				size_t end = i + 1;

				/* the last chunk carries the program's data */
				sio_proxy_says(all + start,
					   end - start + (i == 11 ? 3 : 0));
				/* a chunk that starts inside the method
				 * selection may hold reply bytes too: the
				 * proxy sends it after the greeting */
				sio_st.chunks[sio_st.nchunks - 1].need_sent =
					start < 2 ? sizeof(SIO_GREET_NOAUTH) :
						    sizeof(SIO_GREET_NOAUTH) +
						    sizeof(SIO_REQ_CONNECT);
				start = end;
			}
		}
		ck_assert_int_eq(sio_run1(&p, SOCKS5_CMD_CONNECT, &dst, &r,
					  NULL), 0);
		sio_assert_bound_ok(&r);
		ck_assert_uint_eq(sio_unread(), 3);
	}
}
END_TEST

/* Replies with longer addresses: every single cut, and byte by byte. */
START_TEST(every_cut_long_replies)
{
	static const uint8_t v6[] = { 5, 0, 0, 4, 0x20, 0x01, 0x0d, 0xb8, 1, 2,
				      3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 0, 80 };
	uint8_t dom[4 + 1 + 255 + 2];
	struct socks5_proxy p = sio_hop("127.0.0.1", 1080, NULL, NULL);
	struct socks5_addr dst = sio_ip4(192, 0, 2, 7, 80);
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

			sio_reset();
			SIO_EXPECT(SIO_GREET_NOAUTH);
			SIO_SAYS(SIO_METHOD_NOAUTH);
			SIO_EXPECT(SIO_REQ_CONNECT);
			if (cut < lens[m]) {
				sio_proxy_says(msgs[m], cut);
				sio_proxy_says(msgs[m] + cut, lens[m] - cut);
			} else {
				for (k = 0; k < lens[m]; k++)
					sio_proxy_says(msgs[m] + k, 1);
			}
			sio_proxy_says("tail", 4);
			ck_assert_int_eq(sio_run1(&p, SOCKS5_CMD_CONNECT,
						  &dst, &r, NULL), 0);
			ck_assert_uint_eq(r.bnd.atyp, msgs[m][3]);
			ck_assert_uint_eq(sio_unread(), 4);
		}
	}
}
END_TEST

/* A proxy that accepts but never reads: the greeting cannot go out.
 * ETIMEDOUT at the deadline, not before and not much after. */
START_TEST(stall_times_out)
{
	struct socks5_proxy p = sio_hop("127.0.0.1", 1080, NULL, NULL);
	struct socks5_addr dst = sio_ip4(192, 0, 2, 7, 80);
	struct socks5_failure why;
	int64_t t0, dt;

	sio_reset();
	sio_st.stall_out = true;
	SIO_EXPECT(SIO_GREET_NOAUTH);
	t0 = socks5_now_ms();
	ck_assert_int_eq(socks5_handshake(&sio_io, 3, &p, 1, SOCKS5_CMD_CONNECT,
					  &dst, t0 + 300, NULL, &why),
			 -ETIMEDOUT);
	dt = socks5_now_ms() - t0;
	ck_assert_int_ge(dt, 300);
	ck_assert_int_lt(dt, 1000);
	ck_assert_int_eq(why.status, SOCKS5_E_TIMEOUT);
	ck_assert_str_eq(why.state, "greeting-send");
	ck_assert_int_eq(sio_st.sent, 0);
}
END_TEST

/* A proxy that stops in the middle of its reply. */
START_TEST(stall_in_reply)
{
	struct socks5_proxy p = sio_hop("127.0.0.1", 1080, NULL, NULL);
	struct socks5_addr dst = sio_ip4(192, 0, 2, 7, 80);
	struct socks5_failure why;
	int64_t t0, dt;

	sio_reset();
	SIO_EXPECT(SIO_GREET_NOAUTH);
	SIO_SAYS(SIO_METHOD_NOAUTH);
	SIO_EXPECT(SIO_REQ_CONNECT);
	SAYS(5, 0, 0);
	sio_proxy_silence();
	t0 = socks5_now_ms();
	ck_assert_int_eq(socks5_handshake(&sio_io, 3, &p, 1, SOCKS5_CMD_CONNECT,
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
	struct socks5_proxy p = sio_hop("127.0.0.1", 1080, NULL, NULL);
	struct socks5_addr dst = sio_ip4(192, 0, 2, 7, 80);
	struct socks5_failure why;

	sio_script_plain();
	/* half the reply, then the end of the stream */
	sio_st.chunks[1].len = 6;
	sio_proxy_eof();
	ck_assert_int_eq(sio_run1(&p, SOCKS5_CMD_CONNECT, &dst, NULL, &why),
			 -ECONNREFUSED);
	ck_assert_int_eq(why.status, SOCKS5_E_CLOSED);
	ck_assert_str_eq(why.state, "reply-recv");

	/* closed right after the greeting */
	sio_reset();
	SIO_EXPECT(SIO_GREET_NOAUTH);
	sio_proxy_eof();
	ck_assert_int_eq(sio_run1(&p, SOCKS5_CMD_CONNECT, &dst, NULL, &why),
			 -ECONNREFUSED);
	ck_assert_str_eq(why.state, "method-recv");
}
END_TEST

START_TEST(io_errors)
{
	struct socks5_proxy p = sio_hop("127.0.0.1", 1080, NULL, NULL);
	struct socks5_addr dst = sio_ip4(192, 0, 2, 7, 80);
	struct socks5_failure why;

	sio_script_plain();
	sio_st.chunks[1].len = 4;
	sio_proxy_err(ECONNRESET);
	ck_assert_int_eq(sio_run1(&p, SOCKS5_CMD_CONNECT, &dst, NULL, &why),
			 -ECONNRESET);
	ck_assert_int_eq(why.status, SOCKS5_E_IO);
	ck_assert_int_eq(why.sys_errno, ECONNRESET);

	sio_script_plain();
	sio_send_limit(-EPIPE);
	ck_assert_int_eq(sio_run1(&p, SOCKS5_CMD_CONNECT, &dst, NULL, &why),
			 -EPIPE);
	ck_assert_str_eq(why.state, "greeting-send");

	sio_script_plain();
	sio_poll_fault(ENOMEM);
	ck_assert_int_eq(sio_run1(&p, SOCKS5_CMD_CONNECT, &dst, NULL, &why),
			 -ENOMEM);
}
END_TEST
static Suite *handshake_suite(void)
{
	Suite *s = suite_create("handshake");
	TCase *ok = tcase_create("protocol");
	TCase *bad = tcase_create("refusals");
	TCase *io = tcase_create("io");

	tcase_add_test(ok, connect_noauth);
	tcase_add_test(ok, connect_userpass);
	tcase_add_test(ok, userpass_offered_noauth_chosen);
	tcase_add_test(ok, connect_domain_and_ipv6);
	tcase_add_test(ok, no_read_past_reply);
	suite_add_tcase(s, ok);

	tcase_add_loop_test(bad, rep_codes, 0,
			    sizeof(rep_cases) / sizeof(rep_cases[0]));
	tcase_add_test(bad, auth_rejected);
	tcase_add_test(bad, method_refusals);
	tcase_add_test(bad, malformed_answers);
	tcase_add_test(bad, bad_arguments);
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
