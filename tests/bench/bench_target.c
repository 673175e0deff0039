/*
 * bench_target ADDR PORT: the benchmarks' target server, in C so that it is
 * never the bottleneck. Each connection starts with one command byte:
 *   'e'  the byte comes back, and the connection is closed;
 *   'g'  followed by an 8-byte big-endian count: that many bytes are sent,
 *        then the connection is closed (bulk download);
 *   'G'  the start of "GET ... HTTP/1.x": a request read to its empty line
 *        (at most 4 KiB), a short HTTP/1.0 answer, and the connection is
 *        closed (an HTTP client such as curl makes one connection per
 *        request, for the HTTP CONNECT row).
 * A fixed pool of threads each accept and serve one connection at a time.
 * Runs until killed.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define WORKERS 48

static int listener;
static uint8_t block[256 * 1024];

static int read_full(int fd, void *buf, size_t n)
{
	size_t off = 0;

	while (off < n) {
		ssize_t r = read(fd, (uint8_t *)buf + off, n - off);

		if (r <= 0)
			return -1;
		off += (size_t)r;
	}
	return 0;
}

/* The byte goes back and the target closes first: its side keeps the
 * TIME_WAIT, so the proxy's outgoing ports (dante binds them before it
 * connects) are free again at once, and a run of tens of thousands of
 * connections does not exhaust them. */
static void echo(int c)
{
	if (write(c, "e", 1) != 1)
		return;
}

static void source(int c)
{
	uint8_t be[8];
	uint64_t left = 0;
	int i;

	if (read_full(c, be, 8))
		return;
	for (i = 0; i < 8; i++)
		left = left << 8 | be[i];
	while (left) {
		size_t n = left < sizeof(block) ? (size_t)left : sizeof(block);
		ssize_t w = write(c, block, n);

		if (w <= 0)
			return;
		left -= (uint64_t)w;
	}
}

static void http(int c)
{
	static const char reply[] = "HTTP/1.0 200 OK\r\nContent-Length: 3\r\n"
				    "Connection: close\r\n\r\nok\n";
	char req[4096];
	size_t got = 0;

	while (got < sizeof(req) - 1) {
		ssize_t r = read(c, req + got, sizeof(req) - 1 - got);

		if (r <= 0)
			return;
		got += (size_t)r;
		req[got] = '\0';
		if (strstr(req, "\r\n\r\n"))
			break;
	}
	if (write(c, reply, sizeof(reply) - 1) < 0)
		return;
}

static void *worker(void *arg)
{
	(void)arg;
	for (;;) {
		int one = 1, c = accept(listener, NULL, NULL);
		uint8_t cmd;

		if (c < 0)
			continue;
		setsockopt(c, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
		if (read_full(c, &cmd, 1) == 0) {
			if (cmd == 'e')
				echo(c);
			else if (cmd == 'g')
				source(c);
			else if (cmd == 'G')
				http(c);
		}
		close(c);
	}
	return NULL;
}

int main(int argc, char **argv)
{
	struct sockaddr_storage ss;
	socklen_t len;
	pthread_t t;
	int one = 1, i;

	if (argc != 3) {
		fprintf(stderr, "usage: bench_target ADDR PORT\n");
		return 2;
	}
	memset(&ss, 0, sizeof(ss));
	if (inet_pton(AF_INET, argv[1],
		      &((struct sockaddr_in *)&ss)->sin_addr) == 1) {
		ss.ss_family = AF_INET;
		((struct sockaddr_in *)&ss)->sin_port = htons((uint16_t)atoi(argv[2]));
		len = sizeof(struct sockaddr_in);
	} else if (inet_pton(AF_INET6, argv[1],
			     &((struct sockaddr_in6 *)&ss)->sin6_addr) == 1) {
		ss.ss_family = AF_INET6;
		((struct sockaddr_in6 *)&ss)->sin6_port = htons((uint16_t)atoi(argv[2]));
		len = sizeof(struct sockaddr_in6);
	} else {
		fprintf(stderr, "bench_target: bad address %s\n", argv[1]);
		return 2;
	}
	memset(block, 'x', sizeof(block));
	listener = socket(ss.ss_family, SOCK_STREAM, 0);
	setsockopt(listener, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (listener < 0 || bind(listener, (struct sockaddr *)&ss, len) ||
	    listen(listener, 4096)) {
		perror("bench_target");
		return 1;
	}
	for (i = 0; i < WORKERS; i++)
		if (pthread_create(&t, NULL, worker, NULL)) {
			perror("pthread_create");
			return 1;
		}
	for (;;)
		pause();
}
