/*
 * Helpers shared by the process-shape test programs (procshapes.c,
 * fdreuse.c; tests/integration/test_process_shapes.sh): results as
 * "OK what" / "FAIL what: why" lines, a proxied TCP connection, a UDP
 * echo through the relay, the library's control connections (sockets at
 * 100 and above, which these programs never make), a scratch file.
 * Every wait is bounded. Static: each program includes it once.
 */
#ifndef SOCKSIFY_TESTS_TOOLS_SHAPES_H
#define SOCKSIFY_TESTS_TOOLS_SHAPES_H

#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <spawn.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define IO_TIMEOUT_MS 5000

extern char **environ;

static int fails;

static inline void check(bool ok, const char *what, const char *why)
{
	if (ok) {
		printf("OK %s\n", what);
	} else {
		printf("FAIL %s: %s\n", what, why);
		fails++;
	}
	fflush(stdout);
}

static inline int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static inline struct sockaddr_in dest(const char *addr, const char *port)
{
	struct sockaddr_in sa;

	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_port = htons((uint16_t)atoi(port));
	if (inet_pton(AF_INET, addr, &sa.sin_addr) != 1) {
		fprintf(stderr, "bad address %s\n", addr);
		exit(2);
	}
	return sa;
}

static inline int tcp_to(const struct sockaddr_in *sa)
{
	int s = socket(AF_INET, SOCK_STREAM, 0);

	if (s < 0 || connect(s, (const struct sockaddr *)sa, sizeof(*sa)) < 0) {
		perror("connect");
		exit(2);
	}
	return s;
}

/* getpeername(s) is sa. */
static inline bool peer_is(int s, const struct sockaddr_in *sa)
{
	struct sockaddr_in p;
	socklen_t l = sizeof(p);

	return getpeername(s, (struct sockaddr *)&p, &l) == 0 &&
	       p.sin_family == AF_INET && p.sin_port == sa->sin_port &&
	       p.sin_addr.s_addr == sa->sin_addr.s_addr;
}

/* A datagram to the echo server and its echo back: three tries, each
 * waiting a third of the timeout (UDP: a datagram may be lost, and a
 * socket whose buffer is full of older echoes drops new ones, so what is
 * queued is read first). */
static inline bool udp_echo(int u, const struct sockaddr_in *sa, const char *msg)
{
	char buf[256];
	struct pollfd p = { .fd = u, .events = POLLIN };
	int64_t end;
	ssize_t n;
	int tries;

	while (recv(u, buf, sizeof(buf), MSG_DONTWAIT) >= 0)
		;
	for (tries = 0; tries < 3; tries++) {
		if (sendto(u, msg, strlen(msg), 0, (const struct sockaddr *)sa,
			   sizeof(*sa)) < 0)
			return false;
		end = now_ms() + IO_TIMEOUT_MS / 3;
		while (now_ms() < end) {
			if (poll(&p, 1, 200) <= 0)
				continue;
			n = recv(u, buf, sizeof(buf) - 1, MSG_DONTWAIT);
			if (n < 0)
				continue;
			buf[n] = 0;
			if (strstr(buf, msg))
				return true;
		}
	}
	return false;
}

static inline int udp_sock(void)
{
	int u = socket(AF_INET, SOCK_DGRAM, 0);

	if (u < 0) {
		perror("socket");
		exit(2);
	}
	return u;
}

/* The library's control connections: sockets at 100 and above that this
 * program did not make (it makes none there). */
static inline int find_ctl(void)
{
	char path[64], link[64];
	int fd;
	ssize_t n;

	for (fd = 100; fd < 1024; fd++) {
		snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
		n = readlink(path, link, sizeof(link) - 1);
		if (n > 0 && !strncmp(link, "socket:", 7))
			return fd;
	}
	return -1;
}

/* How many control connections are open. */
static inline int count_ctl(void)
{
	char path[64], link[64];
	int fd, n = 0;
	ssize_t len;

	for (fd = 100; fd < 1024; fd++) {
		snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
		len = readlink(path, link, sizeof(link) - 1);
		if (len > 0 && !strncmp(link, "socket:", 7))
			n++;
	}
	return n;
}

static inline bool fd_open(int fd)
{
	return fcntl(fd, F_GETFD) >= 0;
}

/* A scratch file the program owns, with a known first byte. */
static inline int scratch(void)
{
	char name[] = "/tmp/procshapes.XXXXXX";
	int fd = mkstemp(name);

	if (fd < 0) {
		perror("mkstemp");
		exit(2);
	}
	unlink(name);
	if (write(fd, "P", 1) != 1)
		exit(2);
	return fd;
}

/* fd still names the scratch file (its content is "P..."). */
static inline bool is_scratch(int fd)
{
	char c = 0;

	return pread(fd, &c, 1, 0) == 1 && c == 'P';
}

#endif
