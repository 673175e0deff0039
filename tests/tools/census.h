/*
 * census.h: what the leak census programs share (leakcensus: the ways out
 * through hooked calls; leakcensus-kinds: the sockets SOCKS cannot carry;
 * tests/integration/test_leak_census.sh runs both). Each program is
 *
 *   PROG ROW HOST TCPPORT UDPPORT | PROG --list
 *
 * HOST is resolved with getaddrinfo (AF_INET): a name under socks5h://
 * (a fake address), a number under socks5://. TCPPORT is a TCP echo
 * server there, UDPPORT a UDP echo server. A row prints one line:
 *
 *   ok ROW <detail>        the attempt worked (the echo came back)
 *   refused ROW <errno>    the attempt failed with that errno name
 *   fail ROW <detail>      anything else (a wrong echo, a timeout)
 *
 * and the program exits 0 for ok, 3 for refused, 1 for fail, 2 for a
 * usage error. Every wait is bounded (3 s per receive).
 */
#ifndef SOCKSIFY_TESTS_CENSUS_H
#define SOCKSIFY_TESTS_CENSUS_H

#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

static const char *row_name, *host_arg, *tcp_port_arg;
static struct sockaddr_in tcp_dst, udp_dst;

static inline int report_ok(const char *detail)
{
	printf("ok %s %s\n", row_name, detail);
	return 0;
}

static inline int report_errno(int e)
{
	const char *n = strerrorname_np(e);

	printf("refused %s %s\n", row_name, n ? n : "?");
	return 3;
}

static inline int report_fail(const char *detail)
{
	printf("fail %s %s\n", row_name, detail);
	return 1;
}

/* Waits (bounded) for fd to be readable, then reads the echo of want:
 * 0, or 1 after a "fail" line. */
static inline int expect_echo_quiet(int fd, const char *want)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };
	char buf[256];
	ssize_t n;

	if (poll(&p, 1, 3000) != 1)
		return report_fail("no echo within 3 s");
	n = recv(fd, buf, sizeof(buf) - 1, 0);
	if (n < 0)
		return report_errno(errno);
	buf[n] = 0;
	if (strcmp(buf, want))
		return report_fail("a different echo");
	return 0;
}

static inline int expect_echo(int fd, const char *want)
{
	return expect_echo_quiet(fd, want) ? 1 : report_ok("echo");
}

struct row {
	const char *name;
	int (*fn)(int);
	int arg;
};

static inline int census_lookup(const char *prog, const char *host,
				const char *port, struct sockaddr_in *out)
{
	struct addrinfo hints = { .ai_family = AF_INET }, *res;
	int rc = getaddrinfo(host, port, &hints, &res);

	if (rc) {
		fprintf(stderr, "%s: %s: %s\n", prog, host, gai_strerror(rc));
		return -1;
	}
	memcpy(out, res->ai_addr, sizeof(*out));
	freeaddrinfo(res);
	return 0;
}

/* The program's main: --list, or one row of rows[n]. */
static inline int census_main(const char *prog, const struct row *rows,
			      size_t n, int argc, char **argv)
{
	size_t i;

	if (argc == 2 && !strcmp(argv[1], "--list")) {
		for (i = 0; i < n; i++)
			puts(rows[i].name);
		return 0;
	}
	if (argc != 5) {
		fprintf(stderr, "usage: %s ROW HOST TCPPORT UDPPORT | --list\n",
			prog);
		return 2;
	}
	row_name = argv[1];
	host_arg = argv[2];
	tcp_port_arg = argv[3];
	for (i = 0; i < n; i++) {
		if (strcmp(rows[i].name, argv[1]))
			continue;
		if (census_lookup(prog, argv[2], argv[3], &tcp_dst) ||
		    census_lookup(prog, argv[2], argv[4], &udp_dst))
			return report_fail("the destination did not resolve");
		return rows[i].fn(rows[i].arg);
	}
	fprintf(stderr, "%s: no row %s\n", prog, argv[1]);
	return 2;
}

#endif
