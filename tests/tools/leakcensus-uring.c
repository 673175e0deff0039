/*
 * leakcensus-uring: io_uring through liburing (issue 18), the rows of the
 * leak census that no LD_PRELOAD library can see: liburing >= 2.2 makes
 * io_uring_setup and io_uring_enter with its own system call instruction.
 * Run under the socksify command, whose seccomp filter (tools/ioring.c)
 * answers io_uring_setup with ENOSYS; census.h says the arguments and
 * the lines. Linked with -luring (Makefile).
 *
 *   uring-connect     IORING_OP_CONNECT of a TCP socket, then the echo
 *   uring-sendmsg     IORING_OP_SENDMSG of a UDP datagram, then the echo
 *   uring-fallback    what liburing's callers do: io_uring when
 *                     io_uring_queue_init works, else connect()
 */
#include <errno.h>
#include <liburing.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include "census.h"

/* Submits the one prepared entry and waits (3 s) for its completion:
 * its result, or -errno. */
static int submit_wait(struct io_uring *ring)
{
	struct __kernel_timespec ts = { .tv_sec = 3 };
	struct io_uring_cqe *cqe;
	int rc = io_uring_submit(ring);

	if (rc < 0)
		return rc;
	rc = io_uring_wait_cqe_timeout(ring, &cqe, &ts);
	if (rc < 0)
		return rc;
	rc = cqe->res;
	io_uring_cqe_seen(ring, cqe);
	return rc;
}

static int row_connect(int unused)
{
	struct io_uring ring;
	int fd, rc = io_uring_queue_init(4, &ring, 0);

	(void)unused;
	if (rc < 0)
		return report_errno(-rc);
	fd = socket(AF_INET, SOCK_STREAM, 0);
	if (fd < 0)
		return report_errno(errno);
	io_uring_prep_connect(io_uring_get_sqe(&ring), fd,
			      (struct sockaddr *)&tcp_dst, sizeof(tcp_dst));
	rc = submit_wait(&ring);
	io_uring_queue_exit(&ring);
	if (rc < 0)
		return report_errno(-rc);
	if (send(fd, "census", 6, 0) != 6)
		return report_errno(errno);
	return expect_echo(fd, "census");
}

static int row_sendmsg(int unused)
{
	struct iovec iov = { .iov_base = "census", .iov_len = 6 };
	struct msghdr m = { .msg_name = &udp_dst, .msg_namelen = sizeof(udp_dst),
			    .msg_iov = &iov, .msg_iovlen = 1 };
	struct io_uring ring;
	int fd, rc = io_uring_queue_init(4, &ring, 0);

	(void)unused;
	if (rc < 0)
		return report_errno(-rc);
	fd = socket(AF_INET, SOCK_DGRAM, 0);
	if (fd < 0)
		return report_errno(errno);
	io_uring_prep_sendmsg(io_uring_get_sqe(&ring), fd, &m, 0);
	rc = submit_wait(&ring);
	io_uring_queue_exit(&ring);
	if (rc < 0)
		return report_errno(-rc);
	return expect_echo(fd, "census");
}

static int row_fallback(int unused)
{
	struct io_uring ring;
	int fd = socket(AF_INET, SOCK_STREAM, 0), rc;

	(void)unused;
	if (fd < 0)
		return report_errno(errno);
	rc = io_uring_queue_init(4, &ring, 0);
	if (rc == 0) {
		io_uring_prep_connect(io_uring_get_sqe(&ring), fd,
				      (struct sockaddr *)&tcp_dst,
				      sizeof(tcp_dst));
		rc = submit_wait(&ring);
		io_uring_queue_exit(&ring);
		if (rc < 0)
			return report_errno(-rc);
		return report_fail("io_uring was not refused");
	}
	if (rc != -ENOSYS)
		return report_errno(-rc);
	if (connect(fd, (struct sockaddr *)&tcp_dst, sizeof(tcp_dst)))
		return report_errno(errno);
	if (send(fd, "census", 6, 0) != 6)
		return report_errno(errno);
	return expect_echo_quiet(fd, "census") ? 1 : report_ok("fallback");
}

static const struct row rows[] = {
	{ "uring-connect", row_connect, 0 },
	{ "uring-sendmsg", row_sendmsg, 0 },
	{ "uring-fallback", row_fallback, 0 },
};

int main(int argc, char **argv)
{
	return census_main("leakcensus-uring", rows,
			   sizeof(rows) / sizeof(rows[0]), argc, argv);
}
