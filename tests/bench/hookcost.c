/*
 * hookcost MODE N: N iterations of one kind of call that the preload hooks
 * but must not proxy, for counting instructions under valgrind (callgrind):
 * run it with and without LD_PRELOAD, for two values of N, and the
 * difference per iteration is what the hooks add (tests/bench/hookcost.sh).
 *
 *   close      pipe(), then close() of both ends         (2 closes)
 *   unix       connect() of an AF_UNIX datagram socket   (+1 close)
 *   bypass     connect() of a UDP socket to 127.0.0.1    (+1 close)
 *   tcpbypass  TCP connect() to a listener on 127.0.0.1, accept (+2 closes)
 *   rw         write() and read() of one byte on a pipe  (1 + 1)
 *   peer       getpeername() of a connected (direct) TCP socket
 *   send       send() and recv() of one byte on a direct TCP socket
 *   wait       poll() and epoll_wait() (time-out 0) of a readable pipe, and
 *              getsockopt(SO_ERROR) of a TCP socket (1 + 1 + 1)
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <poll.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

static int tcp_pair(int *a, int *b, int *l)
{
	struct sockaddr_in sa = { .sin_family = AF_INET };
	socklen_t len = sizeof(sa);

	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	*l = socket(AF_INET, SOCK_STREAM, 0);
	if (*l < 0 || bind(*l, (struct sockaddr *)&sa, len) || listen(*l, 4096) ||
	    getsockname(*l, (struct sockaddr *)&sa, &len))
		return -1;
	*a = socket(AF_INET, SOCK_STREAM, 0);
	if (*a < 0 || connect(*a, (struct sockaddr *)&sa, len))
		return -1;
	*b = accept(*l, NULL, NULL);
	return *b < 0 ? -1 : 0;
}

int main(int argc, char **argv)
{
	struct sockaddr_un un = { .sun_family = AF_UNIX };
	struct sockaddr_in in = { .sin_family = AF_INET, .sin_port = htons(9) };
	socklen_t ul;
	const char *mode;
	long n, i;
	int p[2], a, b, l, s;
	char c = 'x';

	if (argc != 3)
		return 2;
	mode = argv[1];
	n = atol(argv[2]);
	in.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	/* an abstract AF_UNIX datagram socket to connect to */
	memcpy(un.sun_path, "\0sfy-hookcost", 13);
	ul = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + 13);
	if (!strcmp(mode, "close")) {
		for (i = 0; i < n; i++) {
			if (pipe(p))
				return 1;
			close(p[0]);
			close(p[1]);
		}
	} else if (!strcmp(mode, "unix")) {
		l = socket(AF_UNIX, SOCK_DGRAM, 0);
		if (l < 0 || bind(l, (struct sockaddr *)&un, ul))
			return 1;
		for (i = 0; i < n; i++) {
			s = socket(AF_UNIX, SOCK_DGRAM, 0);
			if (s < 0 || connect(s, (struct sockaddr *)&un, ul))
				return 1;
			close(s);
		}
	} else if (!strcmp(mode, "bypass")) {
		for (i = 0; i < n; i++) {
			s = socket(AF_INET, SOCK_DGRAM, 0);
			if (s < 0 || connect(s, (struct sockaddr *)&in, sizeof(in)))
				return 1;
			close(s);
		}
	} else if (!strcmp(mode, "tcpbypass")) {
		struct sockaddr_in sa = { .sin_family = AF_INET };
		socklen_t len = sizeof(sa);

		sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		l = socket(AF_INET, SOCK_STREAM, 0);
		if (l < 0 || bind(l, (struct sockaddr *)&sa, len) ||
		    listen(l, 4096) || getsockname(l, (struct sockaddr *)&sa, &len))
			return 1;
		for (i = 0; i < n; i++) {
			s = socket(AF_INET, SOCK_STREAM, 0);
			if (s < 0 || connect(s, (struct sockaddr *)&sa, len))
				return 1;
			a = accept(l, NULL, NULL);
			if (a < 0)
				return 1;
			close(a);
			close(s);
		}
	} else if (!strcmp(mode, "rw")) {
		if (pipe(p))
			return 1;
		for (i = 0; i < n; i++)
			if (write(p[1], &c, 1) != 1 || read(p[0], &c, 1) != 1)
				return 1;
	} else if (!strcmp(mode, "peer")) {
		struct sockaddr_storage ss;
		socklen_t len;

		if (tcp_pair(&a, &b, &l))
			return 1;
		for (i = 0; i < n; i++) {
			len = sizeof(ss);
			if (getpeername(a, (struct sockaddr *)&ss, &len))
				return 1;
		}
	} else if (!strcmp(mode, "send")) {
		if (tcp_pair(&a, &b, &l))
			return 1;
		for (i = 0; i < n; i++)
			if (send(a, &c, 1, 0) != 1 || recv(b, &c, 1, 0) != 1)
				return 1;
	} else if (!strcmp(mode, "wait")) {
		struct epoll_event ev = { .events = EPOLLIN };
		struct pollfd pfd;
		int ep = epoll_create1(0), err;
		socklen_t len;

		if (pipe(p) || write(p[1], &c, 1) != 1 || ep < 0 ||
		    epoll_ctl(ep, EPOLL_CTL_ADD, p[0], &ev) ||
		    (a = socket(AF_INET, SOCK_STREAM, 0)) < 0)
			return 1;
		for (i = 0; i < n; i++) {
			pfd.fd = p[0];
			pfd.events = POLLIN;
			len = sizeof(err);
			if (poll(&pfd, 1, 0) != 1 || epoll_wait(ep, &ev, 1, 0) != 1 ||
			    getsockopt(a, SOL_SOCKET, SO_ERROR, &err, &len))
				return 1;
		}
	} else {
		return 2;
	}
	return 0;
}
