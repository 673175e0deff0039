/*
 * bench_relay LISTEN_PORT UP_ADDR UP_PORT DELAY_MS: a TCP relay on
 * 127.0.0.1 that holds every chunk of data DELAY_MS before passing it on,
 * in each direction, so that a client talking to a proxy behind it sees
 * round trips of 2 * DELAY_MS (a distant proxy) and pipelining shows.
 * The TCP handshake itself is local and not delayed. One thread per
 * connection; runs until killed.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define QLEN 64
#define CHUNK 16384

struct chunk {
	int64_t due_us;
	size_t len;           /* 0: end of stream */
	uint8_t data[CHUNK];
};

/* One direction: bytes read from `from` wait in q until due, then go to
 * `to`. */
struct dir {
	int from, to;
	struct chunk q[QLEN];
	unsigned head, tail;  /* q[head % QLEN] .. q[tail % QLEN] */
	int eof_read, done;
};

static struct sockaddr_in upstream;
static int64_t delay_us;

static int64_t now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static int write_full(int fd, const uint8_t *p, size_t n)
{
	while (n) {
		ssize_t w = write(fd, p, n);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return -1;
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

/* Reads what is there into a new chunk (or notes end of stream). */
static int take(struct dir *d)
{
	struct chunk *c = &d->q[d->tail % QLEN];
	ssize_t n = read(d->from, c->data, CHUNK);

	if (n < 0 && errno == EINTR)
		return 0;
	if (n < 0)
		n = 0;
	c->len = (size_t)n;
	c->due_us = now_us() + delay_us;
	d->tail++;
	if (n == 0)
		d->eof_read = 1;
	return 0;
}

/* Passes on every chunk that is due. */
static int give(struct dir *d, int64_t now)
{
	while (d->head != d->tail && d->q[d->head % QLEN].due_us <= now) {
		struct chunk *c = &d->q[d->head % QLEN];

		d->head++;
		if (c->len == 0) {
			shutdown(d->to, SHUT_WR);
			d->done = 1;
			return 0;
		}
		if (write_full(d->to, c->data, c->len))
			return -1;
	}
	return 0;
}

static void *conn(void *arg)
{
	int a = (int)(intptr_t)arg, b, one = 1;
	struct dir *d = calloc(2, sizeof(*d));

	b = socket(AF_INET, SOCK_STREAM, 0);
	if (!d || b < 0 ||
	    connect(b, (struct sockaddr *)&upstream, sizeof(upstream)) < 0)
		goto out;
	setsockopt(a, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	setsockopt(b, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	d[0].from = a;
	d[0].to = b;
	d[1].from = b;
	d[1].to = a;
	while (!(d[0].done && d[1].done)) {
		struct pollfd p[2];
		int64_t now = now_us(), next = -1;
		int i, timeout;

		for (i = 0; i < 2; i++) {
			p[i].fd = d[i].from;
			p[i].events = !d[i].eof_read &&
					      d[i].tail - d[i].head < QLEN ?
					      POLLIN : 0;
			p[i].revents = 0;
			if (d[i].head != d[i].tail) {
				int64_t due = d[i].q[d[i].head % QLEN].due_us;

				if (next < 0 || due < next)
					next = due;
			}
		}
		timeout = next < 0 ? 1000 : next <= now ? 0 :
			  (int)((next - now + 999) / 1000);
		if (poll(p, 2, timeout) < 0 && errno != EINTR)
			break;
		for (i = 0; i < 2; i++)
			if (p[i].revents && p[i].events)
				take(&d[i]);
		now = now_us();
		if (give(&d[0], now) || give(&d[1], now))
			break;
	}
out:
	free(d);
	close(a);
	if (b >= 0)
		close(b);
	return NULL;
}

int main(int argc, char **argv)
{
	struct sockaddr_in sa = { .sin_family = AF_INET };
	pthread_attr_t attr;
	int ls, one = 1;

	if (argc != 5) {
		fprintf(stderr, "usage: bench_relay LISTEN_PORT UP_ADDR UP_PORT DELAY_MS\n");
		return 2;
	}
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	sa.sin_port = htons((uint16_t)atoi(argv[1]));
	upstream.sin_family = AF_INET;
	upstream.sin_port = htons((uint16_t)atoi(argv[3]));
	if (inet_pton(AF_INET, argv[2], &upstream.sin_addr) != 1) {
		fprintf(stderr, "bench_relay: bad address %s\n", argv[2]);
		return 2;
	}
	delay_us = (int64_t)atoi(argv[4]) * 1000;
	ls = socket(AF_INET, SOCK_STREAM, 0);
	setsockopt(ls, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (ls < 0 || bind(ls, (struct sockaddr *)&sa, sizeof(sa)) ||
	    listen(ls, 1024)) {
		perror("bench_relay");
		return 1;
	}
	pthread_attr_init(&attr);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	for (;;) {
		pthread_t t;
		int c = accept(ls, NULL, NULL);

		if (c < 0)
			continue;
		if (pthread_create(&t, &attr, conn, (void *)(intptr_t)c))
			close(c);
	}
}
