/*
 * udp-gss: UDP associations at a GSSAPI protection level, the shapes
 * test_gssapi_udp.sh runs through the library (LD_PRELOAD) against a UDP
 * echo server at HOST:PORT (an IPv4 address) behind a GSSAPI sockd.
 *
 *   udp-gss churn HOST PORT ROUNDS WIDTH [SLACK_KB]
 *	One association first (the GSS-API library and the process's
 *	other first-use memory), then ROUNDS rounds of WIDTH sockets open
 *	at once, each with one echo, then all closed. Prints VmSize and
 *	VmRSS (/proc/self/status) after the first association, after the
 *	first round and at the end; exit 0 when every echo came back and
 *	VmSize at the end is within SLACK_KB (default 1024; -1: not
 *	judged, for ASan, whose allocator keeps what krb5 frees) of the
 *	first.
 *   udp-gss threads HOST PORT
 *	A thread blocked in recvfrom() on a socket whose association is
 *	up; meanwhile the main thread: recv(MSG_DONTWAIT) (must say EAGAIN
 *	at once), 10 sendto()s (each must return at once), and the echoes
 *	collected with poll() + MSG_DONTWAIT until all 10 arrived (to
 *	whichever thread). The blocked thread is then ended by a datagram
 *	from loopback (a direct source, delivered as is).
 *   udp-gss closewait HOST PORT
 *	A thread blocked in recvfrom() on socket S; the main thread opens
 *	socket X, closes S (S's association ends under the waiting
 *	thread), echoes once through X (a new association, in the entry S
 *	had), then sends a datagram from loopback to S's port. The waiting
 *	thread must come back (with that datagram or EBADF), X's echo must
 *	not wait for it, and nothing may crash (run it under ASan too).
 *   udp-gss forged HOST PORT GOFILE
 *	One echo ("one"), then "ready LOCALPORT" on stdout; waits for
 *	GOFILE to exist (the test injects forged datagrams meanwhile), then
 *	one more echo, which must be "two" and nothing else.
 *
 * A wait that the library would hold up is cut short by a watchdog
 * thread after WATCHDOG_MS (a datagram from loopback wakes the blocked
 * receiver), so a failure prints its numbers instead of hanging. Every
 * wait is bounded. Output: one line per check, the last "OK ..." or
 * "FAIL ..."; exit status 0 only with OK.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define ECHO_MS 5000
#define WATCHDOG_MS 3000
#define QUICK_MS 500
#define SLACK_KB 1024L
#define MAX_WIDTH 64
#define NSEND 10

static struct sockaddr_in target;

static long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000L + ts.tv_nsec / 1000000;
}

/* VmSize and VmRSS in kB. */
static void vm_kb(long *size, long *rss)
{
	char line[256];
	FILE *f = fopen("/proc/self/status", "r");

	*size = *rss = -1;
	if (!f)
		return;
	while (fgets(line, sizeof(line), f)) {
		sscanf(line, "VmSize: %ld", size);
		sscanf(line, "VmRSS: %ld", rss);
	}
	fclose(f);
}

static int udp_socket(void)
{
	int fd = socket(AF_INET, SOCK_DGRAM, 0);

	if (fd < 0) {
		perror("socket");
		exit(2);
	}
	return fd;
}

static int send_to_target(int fd, const char *msg)
{
	return (int)sendto(fd, msg, strlen(msg), 0,
			   (const struct sockaddr *)&target, sizeof(target));
}

/* The next datagram on fd within ms into buf (NUL-terminated): its
 * length, or -1 (errno; ETIMEDOUT when none came). */
static ssize_t recv_within(int fd, char *buf, size_t cap, int ms)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };
	long end = now_ms() + ms;
	ssize_t n;

	for (;;) {
		long left = end - now_ms();

		if (left <= 0) {
			errno = ETIMEDOUT;
			return -1;
		}
		if (poll(&p, 1, (int)left) < 0 && errno != EINTR)
			return -1;
		n = recv(fd, buf, cap - 1, MSG_DONTWAIT);
		if (n >= 0) {
			buf[n] = 0;
			return n;
		}
		if (errno != EAGAIN && errno != EINTR)
			return -1;
	}
}

/* msg sent to the echo and its echo received: 0, or -1 after a line. */
static int echo(int fd, const char *msg)
{
	char buf[512];

	if (send_to_target(fd, msg) < 0) {
		printf("sendto %s: %s\n", msg, strerror(errno));
		return -1;
	}
	if (recv_within(fd, buf, sizeof(buf), ECHO_MS) < 0) {
		printf("echo of %s: %s\n", msg, strerror(errno));
		return -1;
	}
	if (strcmp(buf, msg)) {
		printf("echo of %s came back as \"%s\"\n", msg, buf);
		return -1;
	}
	return 0;
}

static int local_port(int fd)
{
	struct sockaddr_in a;
	socklen_t len = sizeof(a);

	if (getsockname(fd, (struct sockaddr *)&a, &len) < 0)
		return -1;
	return ntohs(a.sin_port);
}

/* msg from a socket of its own to 127.0.0.1:port (loopback goes direct,
 * and a loopback source is delivered as is). */
static void poke(int port, const char *msg)
{
	struct sockaddr_in lo = { .sin_family = AF_INET,
				  .sin_port = htons((uint16_t)port) };
	int fd = udp_socket();

	lo.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (sendto(fd, msg, strlen(msg), 0, (struct sockaddr *)&lo,
		   sizeof(lo)) < 0)
		printf("poke: sendto 127.0.0.1:%d: %s\n", port, strerror(errno));
	close(fd);
}

/* ------------------------------------------------------------------ */
/* The watchdog: pokes a port once after WATCHDOG_MS unless called off. */

static atomic_bool wd_off;
static atomic_bool wd_fired;
static int wd_port;

static void *watchdog(void *arg)
{
	long end = now_ms() + WATCHDOG_MS;

	(void)arg;
	while (now_ms() < end) {
		if (atomic_load(&wd_off))
			return NULL;
		usleep(20000);
	}
	atomic_store(&wd_fired, true);
	poke(wd_port, "watchdog");
	return NULL;
}

static pthread_t wd_start(int port)
{
	pthread_t t;

	wd_port = port;
	atomic_store(&wd_off, false);
	atomic_store(&wd_fired, false);
	pthread_create(&t, NULL, watchdog, NULL);
	return t;
}

static void wd_stop(pthread_t t)
{
	atomic_store(&wd_off, true);
	pthread_join(t, NULL);
}

/* ------------------------------------------------------------------ */
/* A thread blocked in recvfrom(): every datagram it got, until "stop"   */

struct receiver {
	int fd;
	pthread_t t;
	atomic_int echoes;        /* "echo <i>" received */
	atomic_bool done;
	int last_errno;           /* of its last call, when it failed */
	char last[512];           /* its last datagram */
	atomic_uint seen;         /* bit i: "echo i" */
	bool until_stop;          /* loop until "stop"; else one call */
};

static void *receive_loop(void *arg)
{
	struct receiver *r = arg;
	char buf[512];
	ssize_t n;
	int i;

	for (;;) {
		n = recvfrom(r->fd, buf, sizeof(buf) - 1, 0, NULL, NULL);
		if (n < 0) {
			r->last_errno = errno;
			if (errno == EINTR)
				continue;
			break;
		}
		buf[n] = 0;
		snprintf(r->last, sizeof(r->last), "%s", buf);
		if (sscanf(buf, "echo %d", &i) == 1 && i >= 0 && i < NSEND) {
			atomic_fetch_or(&r->seen, 1u << i);
			atomic_fetch_add(&r->echoes, 1);
		}
		if (!r->until_stop || !strcmp(buf, "stop"))
			break;
	}
	atomic_store(&r->done, true);
	return NULL;
}

/* Joined within ms: 0, else -1 (the thread is left behind). */
static int join_within(struct receiver *r, int ms)
{
	long end = now_ms() + ms;

	while (!atomic_load(&r->done) && now_ms() < end)
		usleep(10000);
	if (!atomic_load(&r->done))
		return -1;
	pthread_join(r->t, NULL);
	return 0;
}

/* ------------------------------------------------------------------ */

static int churn(int rounds, int width, long slack)
{
	long size0, rss0, size1 = 0, rss1 = 0, size2, rss2;
	int fds[MAX_WIDTH], r, i, n = 0;
	char msg[64];
	bool ok;

	if (width < 1 || width > MAX_WIDTH || rounds < 1)
		return 2;
	fds[0] = udp_socket();
	if (echo(fds[0], "warm-up"))
		goto fail;
	close(fds[0]);
	vm_kb(&size0, &rss0);
	for (r = 0; r < rounds; r++) {
		for (i = 0; i < width; i++)
			fds[i] = udp_socket();
		for (i = 0; i < width; i++) {
			snprintf(msg, sizeof(msg), "round %d socket %d", r, i);
			if (echo(fds[i], msg))
				goto fail;
			n++;
		}
		for (i = 0; i < width; i++)
			close(fds[i]);
		if (r == 0)
			vm_kb(&size1, &rss1);
	}
	vm_kb(&size2, &rss2);
	ok = slack < 0 || size2 - size0 <= slack;
	printf("%s %d associations (%d rounds of %d at once): VmSize %ld -> %ld -> %ld kB, VmRSS %ld -> %ld -> %ld kB%s\n",
	       ok ? "OK" : "FAIL", n + 1, rounds, width, size0, size1, size2,
	       rss0, rss1, rss2, slack < 0 ? " (memory not judged)" : "");
	return ok ? 0 : 1;
fail:
	printf("FAIL after %d associations\n", n);
	return 1;
}

static int threads(void)
{
	struct receiver rcv;
	char buf[512];
	long t0, dontwait_ms, send_max = 0, t;
	int i, port, main_got = 0, rc;
	unsigned int seen = 0;
	pthread_t wd;
	ssize_t n;

	memset(&rcv, 0, sizeof(rcv));
	rcv.fd = udp_socket();
	rcv.until_stop = true;
	if (echo(rcv.fd, "hello"))
		goto fail;
	port = local_port(rcv.fd);
	pthread_create(&rcv.t, NULL, receive_loop, &rcv);
	usleep(200000); /* it is in recvfrom() by now */

	wd = wd_start(port);
	t0 = now_ms();
	n = recv(rcv.fd, buf, sizeof(buf), MSG_DONTWAIT);
	rc = n < 0 ? errno : 0;
	dontwait_ms = now_ms() - t0;
	wd_stop(wd);
	printf("recv(MSG_DONTWAIT) beside a blocked recvfrom: %s in %ld ms%s\n",
	       n < 0 ? strerror(rc) : "a datagram", dontwait_ms,
	       atomic_load(&wd_fired) ? " (the watchdog had to wake the receiver)" : "");

	wd = wd_start(port);
	for (i = 0; i < NSEND; i++) {
		snprintf(buf, sizeof(buf), "echo %d", i);
		t = now_ms();
		if (send_to_target(rcv.fd, buf) < 0) {
			printf("sendto %s: %s\n", buf, strerror(errno));
			wd_stop(wd);
			goto fail;
		}
		t = now_ms() - t;
		if (t > send_max)
			send_max = t;
	}
	wd_stop(wd);
	printf("%d sendto() beside a blocked recvfrom: the longest took %ld ms\n",
	       NSEND, send_max);

	t0 = now_ms();
	while (now_ms() - t0 < ECHO_MS &&
	       (seen | atomic_load(&rcv.seen)) != (1u << NSEND) - 1) {
		n = recv_within(rcv.fd, buf, sizeof(buf), 100);
		if (n < 0)
			continue;
		if (sscanf(buf, "echo %d", &i) == 1 && i >= 0 && i < NSEND) {
			seen |= 1u << i;
			main_got++;
		}
	}
	seen |= atomic_load(&rcv.seen);
	printf("echoes: %d of %d (main thread %d, blocked thread %d) in %ld ms\n",
	       __builtin_popcount(seen), NSEND, main_got,
	       atomic_load(&rcv.echoes), now_ms() - t0);
	poke(port, "stop");
	if (join_within(&rcv, 3000)) {
		printf("the blocked thread did not see \"stop\"\n");
		goto fail;
	}
	if (dontwait_ms > QUICK_MS || rc != EAGAIN ||
	    send_max > QUICK_MS || seen != (1u << NSEND) - 1) {
		printf("FAIL (MSG_DONTWAIT %ld ms, errno %d; send %ld ms; echoes %#x)\n",
		       dontwait_ms, rc, send_max, seen);
		return 1;
	}
	printf("OK threads: MSG_DONTWAIT EAGAIN in %ld ms, sendto at most %ld ms, %d echoes\n",
	       dontwait_ms, send_max, NSEND);
	return 0;
fail:
	printf("FAIL\n");
	return 1;
}

static void *idle(void *arg)
{
	return arg;
}

/* Two threads made and joined: their stacks stay cached by libc and are
 * reused by the two threads after, so they are not counted as growth. */
static void warm_threads(void)
{
	pthread_t a, b;

	pthread_create(&a, NULL, idle, NULL);
	pthread_create(&b, NULL, idle, NULL);
	pthread_join(a, NULL);
	pthread_join(b, NULL);
}

static int closewait(void)
{
	struct receiver rcv;
	long size0, rss0, size1, rss1, t0, echo_ms;
	int port, x, e;
	pthread_t wd;

	x = udp_socket();
	if (echo(x, "warm-up"))
		goto fail;
	close(x);
	warm_threads();
	vm_kb(&size0, &rss0);
	memset(&rcv, 0, sizeof(rcv));
	rcv.fd = udp_socket();
	if (echo(rcv.fd, "hello"))
		goto fail;
	port = local_port(rcv.fd);
	pthread_create(&rcv.t, NULL, receive_loop, &rcv);
	usleep(200000);

	x = udp_socket(); /* another number than S's */
	close(rcv.fd);
	usleep(100000);
	wd = wd_start(port);
	t0 = now_ms();
	e = echo(x, "through X");
	echo_ms = now_ms() - t0;
	wd_stop(wd);
	printf("echo through a new socket after closing the one a thread waits on: %s in %ld ms%s\n",
	       e ? "failed" : "ok", echo_ms,
	       atomic_load(&wd_fired) ? " (the watchdog had to wake the receiver)" : "");
	if (!atomic_load(&wd_fired))
		poke(port, "wake");
	if (join_within(&rcv, 3000)) {
		printf("FAIL: the thread in recvfrom() on the closed socket did not come back\n");
		return 1;
	}
	printf("the waiting thread came back with %s\n",
	       rcv.last[0] ? rcv.last : strerror(rcv.last_errno));
	if (echo(x, "again"))
		goto fail;
	close(x);
	vm_kb(&size1, &rss1);
	printf("VmSize %ld -> %ld kB, VmRSS %ld -> %ld kB\n", size0, size1,
	       rss0, rss1);
	/* The echo makes X's association (a Kerberos exchange with the
	 * proxy): given more than QUICK_MS under load, less than the
	 * watchdog that a waiting echo needs. */
	if (e || echo_ms > WATCHDOG_MS / 2 || size1 - size0 > SLACK_KB) {
		printf("FAIL closewait\n");
		return 1;
	}
	printf("OK closewait: echo %ld ms, waiter returned %s, VmSize %+ld kB\n",
	       echo_ms, rcv.last[0] ? rcv.last : strerror(rcv.last_errno),
	       size1 - size0);
	return 0;
fail:
	printf("FAIL\n");
	return 1;
}

static int forged(const char *gofile)
{
	struct stat st;
	char buf[512];
	long end;
	int fd = udp_socket();

	if (echo(fd, "one"))
		goto fail;
	printf("ready %d\n", local_port(fd));
	fflush(stdout);
	end = now_ms() + 20000;
	while (stat(gofile, &st) && now_ms() < end)
		usleep(20000);
	if (send_to_target(fd, "two") < 0) {
		printf("sendto two: %s\n", strerror(errno));
		goto fail;
	}
	if (recv_within(fd, buf, sizeof(buf), ECHO_MS) < 0) {
		printf("FAIL: nothing after the forged datagrams: %s\n",
		       strerror(errno));
		return 1;
	}
	if (strcmp(buf, "two")) {
		printf("FAIL: got \"%s\" instead of the echo \"two\"\n", buf);
		return 1;
	}
	printf("OK forged: the next good datagram (\"two\") came through\n");
	return 0;
fail:
	printf("FAIL\n");
	return 1;
}

int main(int argc, char **argv)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (argc < 4) {
		fprintf(stderr, "usage: udp-gss churn|threads|closewait|forged HOST PORT [...]\n");
		return 2;
	}
	target.sin_family = AF_INET;
	target.sin_port = htons((uint16_t)atoi(argv[3]));
	if (inet_pton(AF_INET, argv[2], &target.sin_addr) != 1)
		return 2;
	if (!strcmp(argv[1], "churn") && (argc == 6 || argc == 7))
		return churn(atoi(argv[4]), atoi(argv[5]),
			     argc == 7 ? atol(argv[6]) : SLACK_KB);
	if (!strcmp(argv[1], "threads"))
		return threads();
	if (!strcmp(argv[1], "closewait"))
		return closewait();
	if (!strcmp(argv[1], "forged") && argc == 5)
		return forged(argv[4]);
	fprintf(stderr, "udp-gss: unknown mode or arguments\n");
	return 2;
}
