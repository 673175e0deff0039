/*
 * udp_rtt: UDP round trips per second through a SOCKS5 relay, for
 * tests/bench/udp.sh.
 *
 *   udp_rtt echo HOST PORT
 *       a UDP echo server (the target), until killed.
 *   udp_rtt client HOST PORT SECONDS
 *       plain sendto()/recvfrom() of a 64-byte datagram, one at a time,
 *       for SECONDS: run it under socksify to measure the preload.
 *   udp_rtt native PROXY-URL HOST PORT SECONDS
 *       the same loop speaking SOCKS5 UDP itself with libsocks5: UDP
 *       ASSOCIATE on a control connection, then each datagram built as
 *       header + payload in one buffer, each reply's header parsed.
 *
 * The clients print "rtt_per_sec N cpu_us X": round trips per second, and
 * the client's own CPU time (user + system) per round trip, which is
 * where a preload's cost shows and which other load on the machine
 * disturbs much less than the rate. A datagram lost on the way is sent
 * again after 200 ms (counted in "lost N" on stderr).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include "socks5.h"

#define PAYLOAD 64

static const struct socks5_io libc_io = {
	.send = send,
	.recv = recv,
	.poll = poll,
	.connect = connect,
	.fcntl = fcntl, .sendto = sendto, .getsockopt = getsockopt,
};

static int resolve(const char *host, const char *port, int socktype,
		   struct sockaddr_storage *ss, socklen_t *len)
{
	struct addrinfo hints = { .ai_socktype = socktype,
				  .ai_flags = AI_NUMERICHOST | AI_NUMERICSERV };
	struct addrinfo *res;

	if (getaddrinfo(host, port, &hints, &res))
		return -1;
	memcpy(ss, res->ai_addr, res->ai_addrlen);
	*len = res->ai_addrlen;
	freeaddrinfo(res);
	return 0;
}

static int echo(const char *host, const char *port)
{
	struct sockaddr_storage ss, from;
	socklen_t len, flen;
	char buf[65536];
	ssize_t n;
	int fd;

	if (resolve(host, port, SOCK_DGRAM, &ss, &len) < 0)
		return 2;
	fd = socket(ss.ss_family, SOCK_DGRAM, 0);
	if (fd < 0 || bind(fd, (struct sockaddr *)&ss, len) < 0) {
		perror("echo");
		return 1;
	}
	for (;;) {
		flen = sizeof(from);
		n = recvfrom(fd, buf, sizeof(buf), 0, (struct sockaddr *)&from,
			     &flen);
		if (n >= 0)
			sendto(fd, buf, (size_t)n, 0, (struct sockaddr *)&from,
			       flen);
	}
}

static double now(void)
{
	struct timeval tv;

	gettimeofday(&tv, NULL);
	return (double)tv.tv_sec + (double)tv.tv_usec / 1e6;
}

static double cpu_us(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return (double)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1e6 +
	       (double)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec);
}

static void report(long rounds, long lost, double secs, double cpu0)
{
	printf("rtt_per_sec %.0f cpu_us %.2f\n", (double)rounds / secs,
	       rounds ? (cpu_us() - cpu0) / (double)rounds : 0.0);
	if (lost)
		fprintf(stderr, "lost %ld\n", lost);
}

static void set_timeout(int fd)
{
	struct timeval tv = { .tv_sec = 0, .tv_usec = 200000 };

	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
}

static int client(const char *host, const char *port, double secs)
{
	struct sockaddr_storage ss, from;
	socklen_t len, flen;
	char out[PAYLOAD], in[2048];
	long rounds = 0, lost = 0;
	double end, cpu0;
	int fd;

	if (resolve(host, port, SOCK_DGRAM, &ss, &len) < 0)
		return 2;
	fd = socket(ss.ss_family, SOCK_DGRAM, 0);
	if (fd < 0)
		return 1;
	set_timeout(fd);
	memset(out, 'u', sizeof(out));
	cpu0 = cpu_us();
	end = now() + secs;
	while (now() < end) {
		if (sendto(fd, out, sizeof(out), 0, (struct sockaddr *)&ss,
			   len) < 0) {
			perror("sendto");
			return 1;
		}
		flen = sizeof(from);
		if (recvfrom(fd, in, sizeof(in), 0, (struct sockaddr *)&from,
			     &flen) == (ssize_t)sizeof(out))
			rounds++;
		else
			lost++;
	}
	report(rounds, lost, secs, cpu0);
	return rounds ? 0 : 1;
}

/* The relay's address; BND.ADDR all zeros is the proxy's own address. */
static int relay_of(int ctl, const struct socks5_addr *bnd,
		    struct sockaddr_storage *ss, socklen_t *len)
{
	static const uint8_t zero[16];

	if (socks5_addr_to_sockaddr(bnd, ss, len) != SOCKS5_OK)
		return -1;
	if ((bnd->atyp == SOCKS5_ATYP_IPV4 && !memcmp(bnd->u.ipv4, zero, 4)) ||
	    (bnd->atyp == SOCKS5_ATYP_IPV6 && !memcmp(bnd->u.ipv6, zero, 16))) {
		*len = sizeof(*ss);
		if (getpeername(ctl, (struct sockaddr *)ss, len) < 0)
			return -1;
		if (ss->ss_family == AF_INET)
			((struct sockaddr_in *)ss)->sin_port = htons(bnd->port);
		else
			((struct sockaddr_in6 *)ss)->sin6_port = htons(bnd->port);
	}
	return 0;
}

static int native(const char *url, const char *host, const char *port,
		  double secs)
{
	struct socks5_proxy px;
	struct socks5_reply bound;
	struct socks5_failure why;
	struct socks5_addr dst, self, from;
	struct sockaddr_storage pss, relay, local;
	socklen_t plen, rlen, llen = sizeof(local);
	uint8_t out[SOCKS5_UDP_HEADER_MAX + PAYLOAD], in[2048];
	char err[256], pport[8];
	long rounds = 0, lost = 0;
	size_t hlen, hl;
	double end, cpu0;
	ssize_t n;
	int ctl, u;

	if (socks5_url_parse(url, &px, err, sizeof(err)) != SOCKS5_OK) {
		fprintf(stderr, "native: %s\n", err);
		return 2;
	}
	snprintf(pport, sizeof(pport), "%u", px.port);
	if (resolve(px.host, pport, SOCK_STREAM, &pss, &plen) < 0 ||
	    resolve(host, port, SOCK_DGRAM, &relay, &rlen) < 0 ||
	    socks5_addr_from_sockaddr(&dst, (struct sockaddr *)&relay, rlen))
		return 2;
	ctl = socket(pss.ss_family, SOCK_STREAM, 0);
	u = socket(pss.ss_family, SOCK_DGRAM, 0);
	memset(&local, 0, sizeof(local));
	local.ss_family = pss.ss_family;
	if (ctl < 0 || u < 0 ||
	    bind(u, (struct sockaddr *)&local,
		 pss.ss_family == AF_INET ? sizeof(struct sockaddr_in) :
					    sizeof(struct sockaddr_in6)) < 0 ||
	    getsockname(u, (struct sockaddr *)&local, &llen) < 0 ||
	    socks5_addr_from_sockaddr(&self, (struct sockaddr *)&local, llen) ||
	    socks5_connect_deadline(&libc_io, ctl, (struct sockaddr *)&pss, plen,
				    socks5_now_ms() + 5000) < 0) {
		perror("native: setup");
		return 1;
	}
	if (socks5_handshake(&libc_io, ctl, &px, 1, SOCKS5_CMD_UDP_ASSOCIATE,
			     &self, socks5_now_ms() + 5000, &bound, &why) < 0 ||
	    relay_of(ctl, &bound.bnd, &relay, &rlen) < 0) {
		fprintf(stderr, "native: UDP ASSOCIATE failed\n");
		return 1;
	}
	set_timeout(u);
	cpu0 = cpu_us();
	end = now() + secs;
	while (now() < end) {
		if (socks5_encode_udp_header(out, sizeof(out), &dst, &hlen))
			return 1;
		memset(out + hlen, 'u', PAYLOAD);
		if (sendto(u, out, hlen + PAYLOAD, 0, (struct sockaddr *)&relay,
			   rlen) < 0) {
			perror("native: sendto");
			return 1;
		}
		n = recv(u, in, sizeof(in), 0);
		if (n > 0 && socks5_parse_udp_header(in, (size_t)n, &from, &hl) ==
				     SOCKS5_OK && (size_t)n - hl == PAYLOAD)
			rounds++;
		else
			lost++;
	}
	report(rounds, lost, secs, cpu0);
	close(u);
	close(ctl);
	return rounds ? 0 : 1;
}

int main(int argc, char **argv)
{
	if (argc == 4 && !strcmp(argv[1], "echo"))
		return echo(argv[2], argv[3]);
	if (argc == 5 && !strcmp(argv[1], "client"))
		return client(argv[2], argv[3], atof(argv[4]));
	if (argc == 6 && !strcmp(argv[1], "native"))
		return native(argv[2], argv[3], argv[4], atof(argv[5]));
	fprintf(stderr, "usage: udp_rtt echo HOST PORT | client HOST PORT SECONDS | native PROXY-URL HOST PORT SECONDS\n");
	return 2;
}
