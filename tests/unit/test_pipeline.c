/*
 * Pipelined handshakes: the state machine alone (socks5_hs_*, client/socks5.h), fed the
 * proxy's bytes in every possible chunking, to prove it never asks for a
 * byte past the last reply and ends the same way whatever the cut. The
 * driver and the probe are in test_pipeline_driver.c.
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
/* the machine alone                                                   */

static const struct socks5_hs_opts piped = { .pipeline = 1 };

/* Feeds the machine `in`, cut after every byte i with cut[i] set, each
 * piece no larger than the machine allows at that moment; returns how many
 * bytes it took (the rest is the program's). */
static size_t feed(struct socks5_hs *h, const uint8_t *in, size_t len,
		   const bool *cut)
{
	size_t off = 0;

	while (!socks5_hs_over(h) && !socks5_hs_sending(h) && off < len) {
		size_t max, n = 1;
		uint8_t *dst = socks5_hs_in(h, &max);

		ck_assert_uint_gt(max, 0);
		while (off + n < len && n < max && !(cut && cut[off + n - 1]))
			n++;
		memcpy(dst, in + off, n);
		off += n;
		socks5_hs_received(h, n);
	}
	return off;
}

static const bool *cuts_of(unsigned long mask, bool *cut, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++)
		cut[i] = i < 64 && (mask >> i & 1ul);
	return cut;
}

/* Sends everything the machine has, checking it is one piece equal to
 * want. */
static void drain_out(struct socks5_hs *h, const uint8_t *want, size_t wlen)
{
	size_t len;
	const uint8_t *p = socks5_hs_out(h, &len);

	ck_assert(socks5_hs_sending(h));
	ck_assert_uint_eq(len, wlen);
	ck_assert_mem_eq(p, want, wlen);
	socks5_hs_sent(h, len);
	ck_assert(!socks5_hs_sending(h));
}

START_TEST(machine_noauth_every_cut)
{
	struct socks5_proxy p = hop(NULL, NULL);
	struct socks5_addr d = dst_ip4();
	uint8_t out[64], in[64];
	bool cut[64];
	size_t olen, ilen;
	unsigned long mask;

	olen = cat(out, 2, M(GREET_NOAUTH), M(REQ_CONNECT));
	ilen = cat(in, 3, M(METHOD_NOAUTH), M(REPLY_OK), "abc", (size_t)3);
	/* every way to cut the 12 answer bytes (plus the program's 3) */
	for (mask = 0; mask < (1ul << 14); mask++) {
		struct socks5_hs h;

		socks5_hs_begin(&h, &p, 1, SOCKS5_CMD_CONNECT, &d, &piped);
		drain_out(&h, out, olen);
		ck_assert_uint_eq(feed(&h, in, ilen,
				       cuts_of(mask, cut, ilen)), ilen - 3);
		ck_assert_int_eq(h.state, SOCKS5_HS_DONE);
		ck_assert_uint_eq(h.reply.bnd.port, 0x1234);
	}
}
END_TEST

START_TEST(machine_userpass_every_cut)
{
	struct socks5_proxy p = hop("alice", "s3cret");
	struct socks5_addr d = dst_ip4();
	uint8_t out[64], in[64];
	bool cut[64];
	size_t olen, ilen;
	unsigned long mask;

	olen = cat(out, 3, M(GREET_USERONLY), M(AUTH_ALICE), M(REQ_CONNECT));
	ilen = cat(in, 4, M(METHOD_USERPASS), M(AUTH_OK), M(REPLY_OK), "x",
		   (size_t)1);
	for (mask = 0; mask < (1ul << 14); mask++) {
		struct socks5_hs h;

		socks5_hs_begin(&h, &p, 1, SOCKS5_CMD_CONNECT, &d, &piped);
		drain_out(&h, out, olen);
		ck_assert_uint_eq(feed(&h, in, ilen,
				       cuts_of(mask, cut, ilen)), ilen - 1);
		ck_assert_int_eq(h.state, SOCKS5_HS_DONE);
	}
}
END_TEST

/* Longest replies: a 255-byte domain BND, cut at every single place. */
START_TEST(machine_long_reply)
{
	struct socks5_proxy p = hop(NULL, NULL);
	struct socks5_addr d = dst_ip4();
	uint8_t in[2 + 262 + 4];
	size_t ilen = 0, at;

	ilen = cat(in, 1, M(METHOD_NOAUTH));
	memcpy(in + ilen, BYTES(5, 0, 0, 3, 255), 5);
	memset(in + ilen + 5, 'n', 255);
	in[ilen + 260] = 0;
	in[ilen + 261] = 80;
	ilen += 262;
	memcpy(in + ilen, "tail", 4);
	ilen += 4;
	for (at = 0; at < ilen - 4; at++) {
		bool cut[sizeof(in)] = { false };
		struct socks5_hs h;

		cut[at] = true;
		socks5_hs_begin(&h, &p, 1, SOCKS5_CMD_CONNECT, &d, &piped);
		socks5_hs_sent(&h, h.out_len);
		ck_assert_uint_eq(feed(&h, in, ilen, cut), ilen - 4);
		ck_assert_int_eq(h.state, SOCKS5_HS_DONE);
		ck_assert_uint_eq(h.reply.bnd.len, 255);
	}
}
END_TEST

/* A pipelined greeting offers exactly one method; the proxy's refusal and
 * an unexpected answer both stop the machine before the request is
 * trusted. */
START_TEST(machine_refusals)
{
	struct socks5_proxy p = hop("alice", "s3cret");
	struct socks5_addr d = dst_ip4();
	struct socks5_hs h;

	socks5_hs_begin(&h, &p, 1, SOCKS5_CMD_CONNECT, &d, &piped);
	ck_assert_uint_eq(h.n_offered, 1);
	socks5_hs_sent(&h, h.out_len);
	feed(&h, BYTES(5, 0xff), 2, NULL);
	ck_assert_int_eq(h.state, SOCKS5_HS_FAILED);
	ck_assert_int_eq(h.fail.status, SOCKS5_E_NO_ACCEPTABLE);
	ck_assert_str_eq(h.fail.state, "method-recv");

	/* no-auth chosen although only username/password was offered */
	socks5_hs_begin(&h, &p, 1, SOCKS5_CMD_CONNECT, &d, &piped);
	socks5_hs_sent(&h, h.out_len);
	feed(&h, METHOD_NOAUTH, 2, NULL);
	ck_assert_int_eq(h.fail.status, SOCKS5_E_METHOD_NOT_OFFERED);

	/* password refused: the request is not answered as a success */
	socks5_hs_begin(&h, &p, 1, SOCKS5_CMD_CONNECT, &d, &piped);
	socks5_hs_sent(&h, h.out_len);
	feed(&h, BYTES(5, 2, 1, 1, 5, 0), 6, NULL);
	ck_assert_int_eq(h.fail.status, SOCKS5_E_AUTH_REJECTED);
	ck_assert_str_eq(h.fail.state, "auth-recv");
}
END_TEST

/* Lock-step is unchanged: both methods offered, one message per send. */
START_TEST(machine_lockstep_unchanged)
{
	struct socks5_proxy p = hop("alice", "s3cret");
	struct socks5_addr d = dst_ip4();
	struct socks5_hs h;

	socks5_hs_begin(&h, &p, 1, SOCKS5_CMD_CONNECT, &d, NULL);
	drain_out(&h, BYTES(5, 2, 0, 2), 4);
	feed(&h, METHOD_USERPASS, 2, NULL);
	drain_out(&h, AUTH_ALICE, sizeof(AUTH_ALICE));
	feed(&h, AUTH_OK, 2, NULL);
	drain_out(&h, REQ_CONNECT, sizeof(REQ_CONNECT));
	feed(&h, REPLY_OK, sizeof(REPLY_OK), NULL);
	ck_assert_int_eq(h.state, SOCKS5_HS_DONE);
}
END_TEST

static Suite *pipeline_suite(void)
{
	Suite *s = suite_create("pipeline");
	TCase *m = tcase_create("machine");

	tcase_set_timeout(m, 60);
	tcase_add_test(m, machine_noauth_every_cut);
	tcase_add_test(m, machine_userpass_every_cut);
	tcase_add_test(m, machine_long_reply);
	tcase_add_test(m, machine_refusals);
	tcase_add_test(m, machine_lockstep_unchanged);
	suite_add_tcase(s, m);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(pipeline_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? 1 : 0;
}
