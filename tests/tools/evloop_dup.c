/*
 * evloop_dup: a non-blocking connect() followed through a copy of the
 * descriptor, for tests/integration/test_evloop_fd.sh. MODE:
 *
 *   dup-close   dup(), the original closed at once, the copy waited on
 *   dup-keep    dup(), the copy waited on and used, the original kept
 *   dup2        dup2() onto a fresh number, the original closed
 *   fcntl       fcntl(F_DUPFD_CLOEXEC), the original closed
 *   epoll       dup(), the original closed, the copy in edge-triggered
 *               epoll (EPOLLIN|EPOLLOUT|EPOLLET)
 *
 * Then: writable → SO_ERROR 0 → one line written → its echo read back
 * whole. Prints "ok" (exit 0) or what went wrong (exit 1). Bounded: 10 s.
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
#include <sys/socket.h>
#include <unistd.h>

static int wait_for(int fd, short ev, int ep)
{
	if (ep >= 0) {
		struct epoll_event e;
		int n = epoll_wait(ep, &e, 1, 10000);

		return n == 1 ? 0 : -1;
	}
	struct pollfd p = { .fd = fd, .events = ev };

	return poll(&p, 1, 10000) == 1 ? 0 : -1;
}

int main(int argc, char **argv)
{
	struct sockaddr_in sa = { .sin_family = AF_INET };
	const char *msg = "through the copy\n", *mode;
	char buf[64];
	int fd, d, ep = -1, err = 0, got = 0, n;
	socklen_t l = sizeof(err);

	if (argc != 4) {
		fprintf(stderr, "usage: evloop_dup MODE HOST PORT\n");
		return 2;
	}
	mode = argv[1];
	inet_pton(AF_INET, argv[2], &sa.sin_addr);
	sa.sin_port = htons((unsigned short)atoi(argv[3]));
	fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0 ||
	    errno != EINPROGRESS) {
		printf("connect: %s\n", strerrorname_np(errno));
		return 1;
	}
	if (!strcmp(mode, "dup2"))
		d = dup2(fd, 100);
	else if (!strcmp(mode, "fcntl"))
		d = fcntl(fd, F_DUPFD_CLOEXEC, 50);
	else
		d = dup(fd);
	if (d < 0) {
		printf("dup: %s\n", strerrorname_np(errno));
		return 1;
	}
	if (strcmp(mode, "dup-keep"))
		close(fd);
	if (!strcmp(mode, "epoll")) {
		struct epoll_event e = { .events = EPOLLIN | EPOLLOUT | EPOLLET };

		ep = epoll_create1(0);
		epoll_ctl(ep, EPOLL_CTL_ADD, d, &e);
	}
	if (wait_for(d, POLLOUT, ep) < 0) {
		printf("never writable\n");
		return 1;
	}
	if (getsockopt(d, SOL_SOCKET, SO_ERROR, &err, &l) < 0 || err) {
		printf("SO_ERROR %s\n", strerrorname_np(err ? err : errno));
		return 1;
	}
	if (send(d, msg, strlen(msg), MSG_NOSIGNAL) != (ssize_t)strlen(msg)) {
		printf("send: %s\n", strerrorname_np(errno));
		return 1;
	}
	while (got < (int)strlen(msg)) {
		if (wait_for(d, POLLIN, ep) < 0) {
			printf("no echo after %d bytes\n", got);
			return 1;
		}
		n = (int)recv(d, buf + got, sizeof(buf) - 1 - got, MSG_DONTWAIT);
		if (n < 0 && errno == EAGAIN)
			continue;
		if (n <= 0) {
			printf("recv: %s\n", n ? strerrorname_np(errno) : "EOF");
			return 1;
		}
		got += n;
	}
	buf[got] = 0;
	if (strcmp(buf, msg)) {
		printf("echo differs: '%s'\n", buf);
		return 1;
	}
	printf("ok\n");
	return 0;
}
