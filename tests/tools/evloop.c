/*
 * evloop: an event-loop program of the kind issue 13 is about, for
 * tests/integration/test_evloop.sh. N non-blocking sockets connect() to
 * HOST PORT (an echo server, reached through the proxy when preloaded)
 * and one loop waits on all of them with the wait of MODE:
 *
 *   epoll-et       epoll, EPOLLIN|EPOLLOUT|EPOLLET, registered after connect
 *   epoll-lt       epoll, level-triggered EPOLLOUT, then EPOLLIN
 *   epoll-oneshot  epoll, EPOLLOUT|EPOLLONESHOT, re-armed for EPOLLIN
 *   epoll-pre      epoll-et, registered before connect()
 *   epoll-pwait2   epoll-et waited with epoll_pwait2
 *   poll, ppoll, select, pselect
 *   sys-ppoll, sys-epoll  ppoll, epoll_ctl + epoll_pwait (edge-triggered)
 *                  and getsockopt by number, through syscall()
 *
 * Each socket: once writable, SO_ERROR; 0 → a line is sent and its echo
 * read back; an error → counted by name. Also checked on the first
 * socket: a second connect() while connecting gives EALREADY (or EISCONN
 * when already done), as the kernel's does (not with EVLOOP_NO_RECONNECT
 * set: a second connect() collects a failure's errno, as the kernel's).
 * EVLOOP_EARLY_WRITE=1: each socket first writes right after connect(),
 * which must fail with EAGAIN (counted in "early=").
 *
 * Output, one line: "ok=K fail=F errs=NAME,... reconnect=NAME
 * early=E sync=S connect_median_us=U connect_max_us=U elapsed_ms=M"; the
 * maximum leaves out the first connect(), which also sets the library up;
 * S counts the connect() calls that returned 0 (a handshake done inside
 * the call: it held the thread). Exit 0 when every socket echoed. N up to
 * 2048 (select: descriptors below FD_SETSIZE only).
 * Bounded: 20 s in all.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/select.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#define MAXN 2048

enum { CONNECTING, ECHOING, DONE };

static struct conn {
	int fd, st, got;
	char msg[32];
} c[MAXN];
static int n, ok, nfail, early, nsync, ep = -1;
static long long times[MAXN];
static char errs[2048];
static const char *mode;

static long long now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static int ctl(int op, int fd, struct epoll_event *e);

static void finish(struct conn *k, int err)
{
	if (err) {
		nfail++;
		if (strlen(errs) < sizeof(errs) - 40)
			snprintf(errs + strlen(errs), sizeof(errs) - strlen(errs),
				 "%s%s", *errs ? "," : "", strerrorname_np(err));
	} else {
		ok++;
	}
	if (ep >= 0)
		ctl(EPOLL_CTL_DEL, k->fd, NULL);
	close(k->fd);
	k->st = DONE;
}

static int is(const char *m)
{
	return !strcmp(mode, m);
}

static int sys(void)
{
	return !strncmp(mode, "sys-", 4);
}

static int et(void)
{
	return is("epoll-et") || is("epoll-pre") || is("epoll-pwait2") ||
	       is("sys-epoll");
}

static int ctl(int op, int fd, struct epoll_event *e)
{
	return sys() ? (int)syscall(SYS_epoll_ctl, ep, op, fd, e) :
		       epoll_ctl(ep, op, fd, e);
}

/* k's socket is ready (in: readable, out: writable). */
static void ready(struct conn *k, int in, int out)
{
	int err = 0;
	socklen_t l = sizeof(err);
	char buf[64];
	ssize_t r;

	if (k->st == CONNECTING) {
		if (!out)
			return;
		if ((sys() ? syscall(SYS_getsockopt, k->fd, SOL_SOCKET, SO_ERROR,
				     &err, &l) :
			     getsockopt(k->fd, SOL_SOCKET, SO_ERROR, &err, &l)) < 0)
			err = errno;
		if (err) {
			finish(k, err);
			return;
		}
		if (send(k->fd, k->msg, strlen(k->msg), MSG_NOSIGNAL) !=
		    (ssize_t)strlen(k->msg)) {
			finish(k, errno ? errno : EIO);
			return;
		}
		k->st = ECHOING;
		if (ep >= 0 && !et()) {
			struct epoll_event e = { .events = EPOLLIN, .data.ptr = k };

			if (is("epoll-oneshot"))
				e.events |= EPOLLONESHOT;
			ctl(EPOLL_CTL_MOD, k->fd, &e);
		}
		in = 1; /* edge-triggered: the echo may be there already */
	}
	while (k->st == ECHOING && in) {
		r = recv(k->fd, buf, sizeof(buf), MSG_DONTWAIT);
		if (r < 0 && errno == EAGAIN)
			return;
		if (r <= 0) {
			finish(k, r < 0 ? errno : ECONNRESET);
			return;
		}
		k->got += (int)r;
		if (k->got >= (int)strlen(k->msg))
			finish(k, 0);
	}
}

static int cmp_ll(const void *a, const void *b)
{
	long long x = *(const long long *)a, y = *(const long long *)b;

	return x < y ? -1 : x > y;
}

static int live(void)
{
	int i, m = 0;

	for (i = 0; i < n; i++)
		m += c[i].st != DONE;
	return m;
}

static void loop_epoll(void)
{
	struct epoll_event ev[64];
	int i, r;

	if (is("sys-epoll"))
		r = (int)syscall(SYS_epoll_pwait, ep, ev, 64, 200, NULL, 8);
	else if (is("epoll-pwait2"))
		r = epoll_pwait2(ep, ev, 64, &(struct timespec){ 0, 200000000 },
				 NULL);
	else
		r = epoll_wait(ep, ev, 64, 200);
	for (i = 0; i < r; i++) {
		struct conn *k = ev[i].data.ptr;

		if (k->st == DONE)
			continue;
		ready(k, !!(ev[i].events & (EPOLLIN | EPOLLERR | EPOLLHUP)),
		      !!(ev[i].events & (EPOLLOUT | EPOLLERR | EPOLLHUP)));
	}
}

static void loop_poll(void)
{
	struct pollfd p[MAXN];
	struct conn *who[MAXN];
	int i, m = 0, r;

	for (i = 0; i < n; i++) {
		if (c[i].st == DONE)
			continue;
		p[m].fd = c[i].fd;
		p[m].events = c[i].st == CONNECTING ? POLLOUT : POLLIN;
		who[m++] = &c[i];
	}
	if (is("sys-ppoll"))
		r = (int)syscall(SYS_ppoll, p, m,
				 &(struct timespec){ 0, 200000000 }, NULL, 8);
	else if (is("ppoll"))
		r = ppoll(p, m, &(struct timespec){ 0, 200000000 }, NULL);
	else
		r = poll(p, m, 200);
	for (i = 0; r > 0 && i < m; i++)
		if (p[i].revents)
			ready(who[i], !!(p[i].revents & (POLLIN | POLLERR | POLLHUP)),
			      !!(p[i].revents & (POLLOUT | POLLERR | POLLHUP)));
}

static void loop_select(void)
{
	fd_set rd, wr;
	int i, mx = 0, r;

	FD_ZERO(&rd);
	FD_ZERO(&wr);
	for (i = 0; i < n; i++) {
		if (c[i].st == DONE)
			continue;
		FD_SET(c[i].fd, c[i].st == CONNECTING ? &wr : &rd);
		if (c[i].fd >= mx)
			mx = c[i].fd + 1;
	}
	r = is("pselect") ?
		    pselect(mx, &rd, &wr, NULL,
			    &(struct timespec){ 0, 200000000 }, NULL) :
		    select(mx, &rd, &wr, NULL,
			   &(struct timeval){ 0, 200000 });
	for (i = 0; r > 0 && i < n; i++)
		if (c[i].st != DONE)
			ready(&c[i], FD_ISSET(c[i].fd, &rd),
			      FD_ISSET(c[i].fd, &wr));
}

int main(int argc, char **argv)
{
	struct sockaddr_in sa = { .sin_family = AF_INET };
	long long t0, t, worst = 0, end;
	const char *again = "-";
	int i, rc;

	if (argc != 5 || (n = atoi(argv[2])) < 1 || n > MAXN) {
		fprintf(stderr, "usage: evloop MODE N HOST PORT\n");
		return 2;
	}
	mode = argv[1];
	inet_pton(AF_INET, argv[3], &sa.sin_addr);
	sa.sin_port = htons((unsigned short)atoi(argv[4]));
	if (!strncmp(mode, "epoll", 5) || is("sys-epoll"))
		ep = epoll_create1(EPOLL_CLOEXEC);
	t0 = now_us();
	for (i = 0; i < n; i++) {
		struct epoll_event e = { .events = EPOLLOUT, .data.ptr = &c[i] };

		c[i].fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
		snprintf(c[i].msg, sizeof(c[i].msg), "hello %d\n", i);
		if (et())
			e.events = EPOLLIN | EPOLLOUT | EPOLLET;
		if (is("epoll-oneshot"))
			e.events |= EPOLLONESHOT;
		if (is("epoll-pre"))
			ctl(EPOLL_CTL_ADD, c[i].fd, &e);
		t = now_us();
		rc = connect(c[i].fd, (struct sockaddr *)&sa, sizeof(sa));
		t = now_us() - t;
		times[i] = t;
		if (i > 0) /* the first one also initialises the library */
			worst = t > worst ? t : worst;
		if (rc == 0)
			nsync++; /* done inside connect(): it waited */
		if (rc < 0 && errno != EINPROGRESS) {
			finish(&c[i], errno);
			continue;
		}
		if (rc < 0 && getenv("EVLOOP_EARLY_WRITE")) {
			ssize_t w = send(c[i].fd, "x", 1, MSG_NOSIGNAL);

			if (w < 0 && errno == EAGAIN)
				early++;
			else if (w == 1)
				c[i].got--; /* echoed too: one byte more to read */
		}
		if (i == 0 && !getenv("EVLOOP_NO_RECONNECT")) {
			rc = connect(c[i].fd, (struct sockaddr *)&sa, sizeof(sa));
			again = rc == 0 ? "0" : strerrorname_np(errno);
		}
		if (ep >= 0 && !is("epoll-pre"))
			ctl(EPOLL_CTL_ADD, c[i].fd, &e);
	}
	end = now_us() + 20000000;
	while (live() && now_us() < end) {
		if (ep >= 0)
			loop_epoll();
		else if (is("poll") || is("ppoll") || is("sys-ppoll"))
			loop_poll();
		else
			loop_select();
	}
	qsort(times, n, sizeof(times[0]), cmp_ll);
	printf("ok=%d fail=%d errs=%s reconnect=%s early=%d sync=%d connect_median_us=%lld connect_max_us=%lld elapsed_ms=%lld\n",
	       ok, nfail + live(), *errs ? errs : "-", again, early, nsync,
	       times[n / 2], worst,
	       (now_us() - t0) / 1000);
	return ok == n ? 0 : 1;
}
