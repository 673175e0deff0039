/*
 * An HTTP hop's reply read with MSG_PEEK (client/io.c, io->peek): over a
 * real socket pair, the header block is taken whole in few calls, the
 * program's first bytes behind it are left in the socket, in every split
 * of the arrival (every fifth); the small-read path (peek off) gives the
 * same result with more calls.
 */
#include <check.h>
#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <stdio.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "socks5.h"

static int recvs;

static ssize_t counting_recv(int fd, void *buf, size_t len, int flags)
{
	recvs++;
	return recv(fd, buf, len, flags);
}

static struct socks5_io io_with(bool peek)
{
	struct socks5_io io = {
		.send = send, .recv = counting_recv, .poll = poll,
		.connect = connect, .fcntl = fcntl, .peek = peek,
	};

	return io;
}

static const char reply[] =
	"HTTP/1.1 200 Connection established\r\n"
	"Proxy-agent: test\r\n"
	"X-Long: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\r\n"
	"\r\n";

/* The handshake over one end of a pair whose other end has sent the
 * reply (cut at split, the rest sent after a short delay by a child)
 * and "FIRST" behind it. Returns the handshake's result; *left gets what
 * the socket still holds. */
static int run(bool peek, size_t split, char *left, size_t cap)
{
	struct socks5_proxy hop;
	struct socks5_addr dst;
	struct socks5_reply bound;
	struct socks5_failure why;
	struct socks5_io io = io_with(peek);
	char all[sizeof(reply) + 8], req[512];
	size_t total;
	int sv[2], rc;
	ssize_t n;
	pid_t pid;

	ck_assert_int_eq(socks5_url_parse("http://127.0.0.1:3128", &hop, NULL, 0),
			 SOCKS5_OK);
	ck_assert_int_eq(socks5_addr_from_domain(&dst, "example.test", 12, 80),
			 SOCKS5_OK);
	ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	total = (size_t)snprintf(all, sizeof(all), "%sFIRST", reply);
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		close(sv[0]);
		/* the request first, as a proxy would read it */
		if (read(sv[1], req, sizeof(req)) <= 0)
			_exit(1);
		if (write(sv[1], all, split) != (ssize_t)split)
			_exit(1);
		usleep(20000);
		if (write(sv[1], all + split, total - split) !=
		    (ssize_t)(total - split))
			_exit(1);
		_exit(0);
	}
	close(sv[1]);
	recvs = 0;
	rc = socks5_handshake(&io, sv[0], &hop, 1, SOCKS5_CMD_CONNECT, &dst,
			      socks5_now_ms() + 5000, &bound, &why);
	n = recv(sv[0], left, cap - 1, 0);
	left[n > 0 ? n : 0] = '\0';
	close(sv[0]);
	waitpid(pid, NULL, 0);
	return rc;
}

START_TEST(peek_every_split)
{
	char left[64];
	/* every fifth cut, and the last byte of the empty line alone */
	size_t split = (size_t)_i * 5 + 1 < sizeof(reply) - 1 ?
			       (size_t)_i * 5 + 1 : sizeof(reply) - 2;
	int with, without;

	ck_assert_int_eq(run(true, split, left, sizeof(left)), 0);
	ck_assert_str_eq(left, "FIRST");
	with = recvs;
	ck_assert_int_eq(run(false, split, left, sizeof(left)), 0);
	ck_assert_str_eq(left, "FIRST");
	without = recvs;
	/* two looks and two takes at most: one per arrival */
	ck_assert_msg(with <= 4, "split %zu: %d recv calls with peek", split,
		      with);
	ck_assert_msg(with < without, "split %zu: %d with peek, %d without",
		      split, with, without);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("http_peek");
	TCase *t = tcase_create("peek");
	SRunner *sr;
	int failed;

	tcase_add_loop_test(t, peek_every_split, 0, (int)sizeof(reply) / 5 + 1);
	tcase_set_timeout(t, 60);
	suite_add_tcase(s, t);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
