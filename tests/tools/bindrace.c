/*
 * bindrace: the BIND accept race of tcp/bind.c, made to happen every
 * time, for tests/integration/test_bind.sh (case accept-rearm-race).
 * Run with libsocksify.so preloaded, SOCKSIFY_PROXY=socks5://127.0.0.1:PORT
 * and SOCKSIFY_PIPELINE=off:
 *
 *   bindrace PORT
 *
 * The proxy is a scripted one in this process (a thread on 127.0.0.1:PORT,
 * loopback: never proxied itself). The race: two threads wait in accept()
 * on one BIND socket; the second reply wakes both, one (A) takes it, and
 * the other (B), woken late, finds the reply gone and waits again, on the
 * same socket, which is now A's accepted connection. Each step is waited
 * for, not slept for:
 *   1. a proxied connect() to 192.0.2.7:21 (the peer BIND expects), then
 *      listen() on a socket bound to nothing: BIND on control connection 2;
 *   2. threads A and B accept: both wait in recvfrom() on the number (seen
 *      in /proc/self/task/TID/syscall);
 *   3. B is made late: a signal (SA_RESTART) parks it in its handler;
 *   4. the proxy sends the second reply on 2; A takes it (2 becomes the
 *      accepted connection, its reply consumed) and re-arms: BIND on
 *      connection 3, whose first reply the proxy holds back;
 *   5. B is let go: its recvfrom() restarts on the number, which still
 *      names 2, and waits there (seen in /proc);
 *   6. the proxy answers 3 (A's accept returns; the number is 3's now)
 *      and closes 2, ending A's connection under B's wait;
 *   7. the proxy sends a second reply on 3 (and serves B's re-arm).
 * Right: B goes on waiting on the re-armed socket and accepts 3's
 * connection ("B=accepted"). The race (before the identity check of
 * 61b681f): B returns the end of A's connection as its own,
 * "B=ECONNABORTED".
 *
 * Output: one line "A=... B=..." (or "FAIL step: why"); exit 0 only when
 * both accepted. Every wait is bounded (5 s).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <pthread.h>
#include <semaphore.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

static int lsock;            /* the program's listening socket */
static int px_listen;        /* the scripted proxy's */
static sem_t go_second2;     /* main: the second reply on 2 */
static sem_t rearm_asked;    /* the proxy has connection 3's BIND request */
static sem_t go_rearm;       /* main: answer connection 3 */
static sem_t unpark;         /* main: B's handler returns */
static atomic_int parked;    /* B is in its handler */
static sem_t rearmed;        /* the proxy answered 3 and closed 2 */
static sem_t go_second;      /* main: the second reply on 3 */
static sem_t px_done;
static sem_t b_done;         /* B's accept returned */
static _Atomic pid_t tid_a, tid_b;
static int res_a = -1, res_b = -1, err_a, err_b;

static void die(const char *what)
{
	printf("FAIL %s: %s\n", what, strerror(errno));
	exit(1);
}

static int read_full(int fd, void *buf, size_t n)
{
	size_t got = 0;
	ssize_t r;

	while (got < n) {
		r = read(fd, (char *)buf + got, n - got);
		if (r <= 0)
			return -1;
		got += (size_t)r;
	}
	return 0;
}

/* A SOCKS5 greeting (no authentication) and request; its command. */
static int serve_request(int c)
{
	unsigned char b[300];
	size_t alen;

	if (read_full(c, b, 2) || read_full(c, b + 2, b[1]))
		return -1;
	if (write(c, "\x05\x00", 2) != 2 || read_full(c, b, 4))
		return -1;
	switch (b[3]) {
	case 1: alen = 4; break;
	case 4: alen = 16; break;
	case 3:
		if (read_full(c, b + 4, 1))
			return -1;
		alen = b[4];
		break;
	default: return -1;
	}
	if (read_full(c, b + 5, alen + 2))
		return -1;
	return b[1];
}

/* A reply: success, BND ip:port. */
static int reply(int c, const char *ip, int port)
{
	unsigned char r[10] = { 5, 0, 0, 1 };

	inet_pton(AF_INET, ip, r + 4);
	r[8] = (unsigned char)(port >> 8);
	r[9] = (unsigned char)port;
	return write(c, r, sizeof(r)) == sizeof(r) ? 0 : -1;
}

static int px_accept(void)
{
	struct timeval tv = { 5, 0 };
	int c = accept(px_listen, NULL, NULL);

	if (c >= 0)
		setsockopt(c, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	return c;
}

static void *proxy(void *arg)
{
	int c1, c2, c3, c4;

	(void)arg;
	/* 1: CONNECT, then BIND (the listen) */
	c1 = px_accept();
	if (c1 < 0 || serve_request(c1) != 1 || reply(c1, "192.0.2.99", 40000))
		die("proxy: CONNECT");
	c2 = px_accept();
	if (c2 < 0 || serve_request(c2) != 2 || reply(c2, "127.0.0.1", 4242))
		die("proxy: BIND 2");
	/* 4: the second reply on 2; A re-arms: BIND on 3, held back */
	sem_wait(&go_second2);
	if (reply(c2, "192.0.2.7", 2000))
		die("proxy: second reply 2");
	c3 = px_accept();
	if (c3 < 0 || serve_request(c3) != 2)
		die("proxy: BIND 3");
	sem_post(&rearm_asked);
	sem_wait(&go_rearm);
	/* 6: answer 3, then end A's connection */
	if (reply(c3, "127.0.0.1", 4243))
		die("proxy: first reply 3");
	close(c2);
	sem_post(&rearmed);
	sem_wait(&go_second);
	/* 7 */
	if (reply(c3, "192.0.2.7", 2001))
		die("proxy: second reply 3");
	/* B's accept re-arms in turn: BIND on 4 */
	c4 = px_accept();
	if (c4 < 0 || serve_request(c4) != 2 || reply(c4, "127.0.0.1", 4244))
		die("proxy: BIND 4");
	sem_wait(&px_done);
	close(c1);
	close(c3);
	close(c4);
	return NULL;
}

static void *accept_a(void *arg)
{
	(void)arg;
	tid_a = (pid_t)syscall(SYS_gettid);
	res_a = accept(lsock, NULL, NULL);
	err_a = errno;
	return NULL;
}

static void *accept_b(void *arg)
{
	(void)arg;
	tid_b = (pid_t)syscall(SYS_gettid);
	res_b = accept(lsock, NULL, NULL);
	err_b = errno;
	sem_post(&b_done);
	return NULL;
}

/* B's late wake-up: parked here until main lets it go; the kernel then
 * restarts its recvfrom() (SA_RESTART) with the same descriptor number. */
static void park(int sig)
{
	(void)sig;
	atomic_store(&parked, 1);
	while (sem_wait(&unpark) < 0)
		;
}

/* sem_wait bounded by 5 s. */
static int wait5(sem_t *s)
{
	struct timespec t;

	clock_gettime(CLOCK_REALTIME, &t);
	t.tv_sec += 5;
	while (sem_timedwait(s, &t) < 0)
		if (errno != EINTR)
			return -1;
	return 0;
}

/* Whether thread tid is blocked in recvfrom() on fd (/proc's view of its
 * system call: number, then the arguments in hex). */
static int in_recv_on(pid_t tid, int fd)
{
	char path[64], buf[256];
	long nr, a0;
	ssize_t n;
	int f;

	snprintf(path, sizeof(path), "/proc/self/task/%d/syscall", (int)tid);
	f = open(path, O_RDONLY | O_CLOEXEC);
	if (f < 0)
		return 0;
	n = read(f, buf, sizeof(buf) - 1);
	close(f);
	if (n <= 0)
		return 0;
	buf[n] = '\0';
	if (sscanf(buf, "%ld %lx", &nr, &a0) != 2)
		return 0;
	return nr == SYS_recvfrom && a0 == fd;
}

/* Up to 5 s for thread tid to wait in recvfrom() on fd. */
static int wait_recv(_Atomic pid_t *tid, int fd)
{
	struct timespec ms = { 0, 1000000 };
	int i;

	for (i = 0; i < 5000; i++) {
		if (atomic_load(tid) && in_recv_on(atomic_load(tid), fd))
			return 0;
		nanosleep(&ms, NULL);
	}
	return -1;
}

static const char *outcome(int rc, int err)
{
	return rc >= 0 ? "accepted" : strerrorname_np(err);
}

int main(int argc, char **argv)
{
	struct sockaddr_in px = { .sin_family = AF_INET };
	struct sockaddr_in dst = { .sin_family = AF_INET };
	struct timespec ms = { 0, 1000000 };
	pthread_t tp, ta, tb;
	int c, one = 1, i, b_back;

	if (argc != 2)
		return 2;
	setvbuf(stdout, NULL, _IOLBF, 0);
	sem_init(&rearm_asked, 0, 0);
	sem_init(&go_second2, 0, 0);
	sem_init(&unpark, 0, 0);
	{
		struct sigaction sa = { .sa_handler = park,
					.sa_flags = SA_RESTART };

		sigemptyset(&sa.sa_mask);
		sigaction(SIGUSR1, &sa, NULL);
	}
	sem_init(&go_rearm, 0, 0);
	sem_init(&rearmed, 0, 0);
	sem_init(&go_second, 0, 0);
	sem_init(&px_done, 0, 0);
	sem_init(&b_done, 0, 0);
	px.sin_port = htons((uint16_t)atoi(argv[1]));
	px.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	px_listen = socket(AF_INET, SOCK_STREAM, 0);
	setsockopt(px_listen, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	setsockopt(px_listen, SOL_SOCKET, SO_RCVTIMEO, /* accept()'s bound */
		   &(struct timeval){ 5, 0 }, sizeof(struct timeval));
	if (px_listen < 0 || bind(px_listen, (struct sockaddr *)&px, sizeof(px)) ||
	    listen(px_listen, 8))
		die("proxy listen");
	pthread_create(&tp, NULL, proxy, NULL);

	/* 1 */
	dst.sin_port = htons(21);
	inet_pton(AF_INET, "192.0.2.7", &dst.sin_addr);
	c = socket(AF_INET, SOCK_STREAM, 0);
	if (c < 0 || connect(c, (struct sockaddr *)&dst, sizeof(dst)))
		die("proxied connect");
	lsock = socket(AF_INET, SOCK_STREAM, 0);
	if (lsock < 0 || listen(lsock, 1))
		die("listen (BIND)");
	/* 2 */
	pthread_create(&ta, NULL, accept_a, NULL);
	pthread_create(&tb, NULL, accept_b, NULL);
	if (wait_recv(&tid_a, lsock) || wait_recv(&tid_b, lsock)) {
		printf("FAIL A and B never both waited on fd %d\n", lsock);
		return 1;
	}
	/* 3 */
	pthread_kill(tb, SIGUSR1);
	for (i = 0; i < 5000 && !atomic_load(&parked); i++)
		nanosleep(&ms, NULL);
	if (!atomic_load(&parked)) {
		printf("FAIL B was not parked\n");
		return 1;
	}
	/* 4 */
	sem_post(&go_second2);
	if (wait5(&rearm_asked))
		die("A's re-arm never reached the proxy");
	/* 5 */
	sem_post(&unpark);
	if (wait_recv(&tid_b, lsock)) {
		printf("FAIL B did not wait again on fd %d (B: %s)\n", lsock,
		       sem_trywait(&b_done) == 0 ? outcome(res_b, err_b) :
						   "elsewhere");
		return 1;
	}
	/* 6 */
	sem_post(&go_rearm);
	if (wait5(&rearmed))
		die("the proxy did not answer 3");
	pthread_join(ta, NULL);
	/* 7 */
	sem_post(&go_second);
	b_back = wait5(&b_done) == 0;
	printf("A=%s B=%s\n", outcome(res_a, err_a),
	       b_back ? outcome(res_b, err_b) : "still-waiting");
	if (!b_back) { /* B blocks in accept: exit without joining it */
		char path[64], buf[256] = "";
		FILE *f;

		snprintf(path, sizeof(path), "/proc/self/task/%d/syscall",
			 (int)atomic_load(&tid_b));
		f = fopen(path, "r");
		if (f) {
			if (!fgets(buf, sizeof(buf), f))
				buf[0] = '\0';
			fclose(f);
		}
		printf("B's system call: %s", buf);
		return 1;
	}
	pthread_join(tb, NULL);
	if (res_a < 0 || res_b < 0)
		return 1; /* the proxy may wait for a re-arm that never comes */
	sem_post(&px_done);
	pthread_join(tp, NULL);
	return 0;
}
