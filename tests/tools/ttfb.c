/*
 * ttfb: time to the first echo byte, as a program sees it, for the early
 * data tests (tests/integration/test_early_data.sh) and the bench rows
 * (tests/bench/evloop_rows.sh).
 *
 *   ttfb block|nonblock HOST PORT COUNT
 *
 * Each of COUNT connections to HOST PORT (bench_target: 'e' echoes):
 * connect(), write 'e', read the echo, close. block: plain blocking
 * calls. nonblock: SOCK_NONBLOCK, connect() (EINPROGRESS), poll for
 * POLLOUT, SO_ERROR, write, poll for POLLIN, read, as an event loop does.
 *
 * Output: "ttfb_us=MEDIAN ok=K errs=NAME,..." (the first error of each
 * failed connection, by name, at the step where it came: "connect:",
 * "soerror:", "write:", "read:"). Exit 0 when every connection echoed.
 * Bounded: each wait 10 s.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static long long now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000LL + ts.tv_nsec / 1000;
}

static int cmp(const void *a, const void *b)
{
	long long x = *(const long long *)a, y = *(const long long *)b;

	return x < y ? -1 : x > y;
}

static char errs[1024];

static int failed(const char *step, int e)
{
	const char *name = strerrorname_np(e);
	size_t l = strlen(errs);

	snprintf(errs + l, sizeof(errs) - l, "%s%s:%s", l ? "," : "", step,
		 name ? name : "?");
	return -1;
}

static int wait_fd(int fd, short ev)
{
	struct pollfd p = { .fd = fd, .events = ev };
	int r = poll(&p, 1, 10000);

	return r == 1 ? 0 : r == 0 ? ETIMEDOUT : errno;
}

/* One connection: 0 when the echo came back. */
static int one(const struct sockaddr_in *to, int nonblock)
{
	int fd = socket(AF_INET, SOCK_STREAM | (nonblock ? SOCK_NONBLOCK : 0),
			0), e = 0, rc = -1;
	socklen_t l = sizeof(e);
	char c = 'e';
	ssize_t n;

	if (fd < 0)
		return failed("socket", errno);
	if (connect(fd, (const struct sockaddr *)to, sizeof(*to)) < 0 &&
	    (!nonblock || errno != EINPROGRESS)) {
		failed("connect", errno);
		goto out;
	}
	if (nonblock) {
		if ((e = wait_fd(fd, POLLOUT))) {
			failed("poll-out", e);
			goto out;
		}
		if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &e, &l) < 0 || e) {
			failed("soerror", e ? e : errno);
			goto out;
		}
	}
	if (write(fd, &c, 1) != 1) {
		failed("write", errno);
		goto out;
	}
	for (;;) {
		if (nonblock && (e = wait_fd(fd, POLLIN))) {
			failed("poll-in", e);
			goto out;
		}
		n = read(fd, &c, 1);
		if (n == 1 && c == 'e') {
			rc = 0;
			break;
		}
		if (n < 0 && nonblock && errno == EAGAIN)
			continue; /* the proxy's replies woke the poll */
		failed("read", n == 0 ? ECONNRESET : n < 0 ? errno : EPROTO);
		break;
	}
out:
	close(fd);
	return rc;
}

int main(int argc, char **argv)
{
	struct sockaddr_in to = { .sin_family = AF_INET };
	long long t[1000], t0;
	int count, i, ok = 0, nonblock;

	if (argc != 5 || inet_pton(AF_INET, argv[2], &to.sin_addr) != 1) {
		fprintf(stderr, "usage: ttfb block|nonblock HOST PORT COUNT\n");
		return 2;
	}
	nonblock = !strcmp(argv[1], "nonblock");
	to.sin_port = htons((unsigned short)atoi(argv[3]));
	count = atoi(argv[4]);
	if (count < 1 || count > 1000)
		count = 1;
	for (i = 0; i < count; i++) {
		t0 = now_us();
		if (one(&to, nonblock) == 0)
			t[ok++] = now_us() - t0;
	}
	qsort(t, (size_t)ok, sizeof(t[0]), cmp);
	printf("ttfb_us=%lld ok=%d errs=%s\n", ok ? t[ok / 2] : -1LL, ok,
	       errs[0] ? errs : "-");
	return ok == count ? 0 : 1;
}
