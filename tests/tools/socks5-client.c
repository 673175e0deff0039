/*
 * socks5-client: a small command-line client over libsocks5, for the
 * integration tests against real SOCKS5 servers.
 *
 *   socks5-client --proxy URL[,URL...] --connect HOST:PORT
 *                 [--send TEXT] [--expect TEXT] [--timeout MS]
 *   socks5-client --proxy URL --udp HOST:PORT --send TEXT [--expect TEXT]
 *   socks5-client --proxy URL --bind HOST:PORT --send TEXT [--expect TEXT]
 *
 * --connect: CONNECT through the chain, send TEXT, read back len(EXPECT)
 *   bytes and compare.
 * --udp: UDP ASSOCIATE at the proxy, send TEXT in one datagram to HOST:PORT
 *   through the relay, receive one datagram back, strip its header,
 *   compare. The origin the relay names is printed.
 * --bind: BIND at the proxy; the tool itself then connects to the address
 *   of the first reply (as the remote peer would), reads the second reply,
 *   sends TEXT from the peer side and reads it on the proxied side.
 *
 * HOST is sent as an address when it is an IP literal, else as a name for
 * the proxy to resolve. Exit status: 0 success; 1 data mismatch or an I/O
 * error after the handshake; 2 usage; 3 the proxy could not be reached;
 * 4 the handshake failed. Failures print "error: ENAME: ..." on stderr.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "socks5.h"

static const struct socks5_io libc_io = {
	.send = send,
	.recv = recv,
	.poll = poll,
	.connect = connect,
	.fcntl = fcntl, .sendto = sendto, .getsockopt = getsockopt,
};

struct opts {
	const char *proxy;
	const char *target;
	const char *send;
	const char *expect;
	uint8_t cmd;
	int timeout_ms;
};

static int fail_errno(int code, int err, const char *what)
{
	const char *name = strerrorname_np(err);

	fprintf(stderr, "error: %s: %s: %s\n", name ? name : "E?", what,
		strerror(err));
	return code;
}

static int fail_handshake(int rc, const struct socks5_failure *why)
{
	char what[256];

	snprintf(what, sizeof(what), "handshake failed at hop %d, state %s: %s",
		 why->hop, why->state ? why->state : "?",
		 why->status == SOCKS5_E_REPLY ? socks5_rep_string(why->rep) :
						 socks5_strerror(why->status));
	return fail_errno(4, -rc, what);
}

/* "1.2.3.4:80", "[::1]:80" or "name:80". */
static int parse_hostport(const char *s, struct socks5_addr *a)
{
	char host[SOCKS5_DOMAIN_MAX + 1];
	const char *colon, *h = s;
	size_t hlen;
	char *end;
	long port;

	if (*s == '[') {
		const char *rb = strchr(s, ']');

		if (!rb || rb[1] != ':')
			return -1;
		h = s + 1;
		hlen = (size_t)(rb - h);
		colon = rb + 1;
	} else {
		colon = strrchr(s, ':');
		if (!colon)
			return -1;
		hlen = (size_t)(colon - s);
	}
	if (hlen == 0 || hlen > SOCKS5_DOMAIN_MAX)
		return -1;
	memcpy(host, h, hlen);
	host[hlen] = '\0';
	port = strtol(colon + 1, &end, 10);
	if (*end || port < 0 || port > 65535 || end == colon + 1)
		return -1;
	memset(a, 0, sizeof(*a));
	a->port = (uint16_t)port;
	if (inet_pton(AF_INET, host, a->u.ipv4) == 1) {
		a->atyp = SOCKS5_ATYP_IPV4;
		return 0;
	}
	if (inet_pton(AF_INET6, host, a->u.ipv6) == 1) {
		a->atyp = SOCKS5_ATYP_IPV6;
		return 0;
	}
	return socks5_addr_from_domain(a, host, hlen, (uint16_t)port) ==
	       SOCKS5_OK ? 0 : -1;
}

/* A TCP connection to the first hop; returns fd or a negative errno. */
static int connect_proxy(const struct socks5_proxy *p, int64_t deadline)
{
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM,
				  .ai_flags = AI_NUMERICSERV };
	struct addrinfo *res, *ai;
	char port[8];
	int fd, rc = -EHOSTUNREACH;

	snprintf(port, sizeof(port), "%u", p->port);
	if (getaddrinfo(p->host, port, &hints, &res) != 0)
		return -EHOSTUNREACH;
	for (ai = res; ai; ai = ai->ai_next) {
		fd = socket(ai->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
		if (fd < 0) {
			rc = -errno;
			continue;
		}
		rc = socks5_connect_deadline(&libc_io, fd, ai->ai_addr,
					     ai->ai_addrlen, deadline);
		if (rc == 0)
			break;
		close(fd);
	}
	freeaddrinfo(res);
	return rc == 0 ? fd : rc;
}

/* Reads exactly len bytes or fails: 0 or a negative errno. */
static int read_exact(int fd, char *buf, size_t len, int timeout_ms)
{
	size_t got = 0;

	while (got < len) {
		struct pollfd pfd = { .fd = fd, .events = POLLIN };
		ssize_t n;

		if (poll(&pfd, 1, timeout_ms) == 0)
			return -ETIMEDOUT;
		n = recv(fd, buf + got, len - got, 0);
		if (n == 0)
			return -ECONNRESET;
		if (n < 0 && errno != EINTR)
			return -errno;
		if (n > 0)
			got += (size_t)n;
	}
	return 0;
}

static int compare(const char *got, size_t len, const char *expect)
{
	if (len != strlen(expect) || memcmp(got, expect, len) != 0) {
		fprintf(stderr, "error: EBADMSG: expected \"%s\", got \"%.*s\"\n",
			expect, (int)len, got);
		return 1;
	}
	printf("OK\n");
	return 0;
}

/* Sends TEXT on one socket and expects EXPECT back on another. */
static int exchange(int out, int in, const struct opts *o)
{
	size_t n = o->expect ? strlen(o->expect) : 0;
	char buf[4096];
	int rc;

	if (o->send && send(out, o->send, strlen(o->send), MSG_NOSIGNAL) < 0)
		return fail_errno(1, errno, "send");
	if (!o->expect) {
		printf("OK\n");
		return 0;
	}
	if (n > sizeof(buf))
		return fail_errno(2, EINVAL, "--expect too long");
	rc = read_exact(in, buf, n, o->timeout_ms);
	if (rc < 0)
		return fail_errno(1, -rc, "reading the answer");
	return compare(buf, n, o->expect);
}

/* The relay's address; 0.0.0.0 or :: means "the proxy's own address". */
static int relay_addr(int ctl, const struct socks5_addr *bnd,
		      struct sockaddr_storage *ss, socklen_t *len)
{
	struct sockaddr_storage peer;
	socklen_t plen = sizeof(peer);
	static const uint8_t zero[16];
	bool unspecified;

	if (socks5_addr_to_sockaddr(bnd, ss, len) != SOCKS5_OK)
		return -EAFNOSUPPORT;
	unspecified = (bnd->atyp == SOCKS5_ATYP_IPV4 &&
		       !memcmp(bnd->u.ipv4, zero, 4)) ||
		      (bnd->atyp == SOCKS5_ATYP_IPV6 &&
		       !memcmp(bnd->u.ipv6, zero, 16));
	if (!unspecified)
		return 0;
	if (getpeername(ctl, (struct sockaddr *)&peer, &plen) < 0)
		return -errno;
	if (peer.ss_family == AF_INET)
		((struct sockaddr_in *)&peer)->sin_port = htons(bnd->port);
	else
		((struct sockaddr_in6 *)&peer)->sin6_port = htons(bnd->port);
	*ss = peer;
	*len = plen;
	return 0;
}

static int run_udp(int ctl, const struct socks5_proxy *chain, size_t n,
		   const struct socks5_addr *dst, const struct opts *o)
{
	struct sockaddr_storage local, relay;
	socklen_t llen = sizeof(local), rlen;
	struct socks5_addr self, from;
	struct socks5_reply bound;
	struct socks5_failure why;
	uint8_t dgram[65536];
	char where[300];
	size_t hlen, plen = strlen(o->send ? o->send : "");
	int u, rc;
	ssize_t got;

	/* A UDP socket on the same local address as the control connection:
	 * its address is what we announce in the request. */
	if (getsockname(ctl, (struct sockaddr *)&local, &llen) < 0)
		return fail_errno(1, errno, "getsockname");
	if (local.ss_family == AF_INET)
		((struct sockaddr_in *)&local)->sin_port = 0;
	else
		((struct sockaddr_in6 *)&local)->sin6_port = 0;
	u = socket(local.ss_family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (u < 0 || bind(u, (struct sockaddr *)&local, llen) < 0)
		return fail_errno(1, errno, "UDP socket");
	llen = sizeof(local);
	if (getsockname(u, (struct sockaddr *)&local, &llen) < 0 ||
	    socks5_addr_from_sockaddr(&self, (struct sockaddr *)&local, llen))
		return fail_errno(1, errno, "UDP getsockname");

	rc = socks5_handshake(&libc_io, ctl, chain, n,
			      SOCKS5_CMD_UDP_ASSOCIATE, &self,
			      socks5_now_ms() + o->timeout_ms, &bound, &why);
	if (rc < 0)
		return fail_handshake(rc, &why);
	socks5_addr_format(&bound.bnd, where, sizeof(where));
	fprintf(stderr, "relay %s\n", where);
	rc = relay_addr(ctl, &bound.bnd, &relay, &rlen);
	if (rc < 0)
		return fail_errno(1, -rc, "relay address");

	if (socks5_encode_udp_header(dgram, sizeof(dgram), dst, &hlen) ||
	    hlen + plen > sizeof(dgram))
		return fail_errno(2, EINVAL, "UDP header");
	memcpy(dgram + hlen, o->send ? o->send : "", plen);
	if (sendto(u, dgram, hlen + plen, 0, (struct sockaddr *)&relay,
		   rlen) < 0)
		return fail_errno(1, errno, "sendto relay");

	struct pollfd pfd = { .fd = u, .events = POLLIN };
	if (poll(&pfd, 1, o->timeout_ms) == 0)
		return fail_errno(1, ETIMEDOUT, "waiting for the answer");
	got = recv(u, dgram, sizeof(dgram), 0);
	if (got < 0)
		return fail_errno(1, errno, "recv");
	if (socks5_parse_udp_header(dgram, (size_t)got, &from, &hlen))
		return fail_errno(1, EBADMSG, "bad UDP header from relay");
	socks5_addr_format(&from, where, sizeof(where));
	fprintf(stderr, "datagram from %s\n", where);
	close(u);
	if (!o->expect) {
		printf("OK\n");
		return 0;
	}
	return compare((char *)dgram + hlen, (size_t)got - hlen, o->expect);
}

static int run_bind(int ctl, const struct socks5_proxy *chain, size_t n,
		    const struct socks5_addr *dst, const struct opts *o)
{
	struct sockaddr_storage ss;
	socklen_t slen;
	struct socks5_reply first, second;
	struct socks5_failure why;
	int64_t deadline = socks5_now_ms() + o->timeout_ms;
	char where[300];
	int peer, rc;

	rc = socks5_handshake(&libc_io, ctl, chain, n, SOCKS5_CMD_BIND, dst,
			      deadline, &first, &why);
	if (rc < 0)
		return fail_handshake(rc, &why);
	socks5_addr_format(&first.bnd, where, sizeof(where));
	fprintf(stderr, "bind listening at %s\n", where);
	rc = relay_addr(ctl, &first.bnd, &ss, &slen);
	if (rc < 0)
		return fail_errno(1, -rc, "bind address");
	/* Play the remote peer: connect to where the proxy listens. */
	peer = socket(ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (peer < 0)
		return fail_errno(1, errno, "socket");
	rc = socks5_connect_deadline(&libc_io, peer, (struct sockaddr *)&ss,
				     slen, deadline);
	if (rc < 0)
		return fail_errno(1, -rc, "connecting to the bind address");
	rc = socks5_read_reply(&libc_io, ctl, deadline, &second, &why);
	if (rc < 0)
		return fail_handshake(rc, &why);
	socks5_addr_format(&second.bnd, where, sizeof(where));
	fprintf(stderr, "bind peer %s\n", where);
	rc = exchange(peer, ctl, o);
	close(peer);
	return rc;
}

static int usage(void)
{
	fprintf(stderr,
		"usage: socks5-client --proxy URL[,URL...] "
		"(--connect|--udp|--bind) HOST:PORT\n"
		"                     [--send TEXT] [--expect TEXT] "
		"[--timeout MS]\n");
	return 2;
}

static int parse_opts(int argc, char **argv, struct opts *o)
{
	static const struct option lo[] = {
		{ "proxy", required_argument, NULL, 'x' },
		{ "connect", required_argument, NULL, 'c' },
		{ "udp", required_argument, NULL, 'u' },
		{ "bind", required_argument, NULL, 'b' },
		{ "send", required_argument, NULL, 's' },
		{ "expect", required_argument, NULL, 'e' },
		{ "timeout", required_argument, NULL, 't' },
		{ NULL, 0, NULL, 0 },
	};
	int c;

	memset(o, 0, sizeof(*o));
	o->timeout_ms = 5000;
	while ((c = getopt_long(argc, argv, "", lo, NULL)) != -1) {
		switch (c) {
		case 'x': o->proxy = optarg; break;
		case 'c': o->target = optarg; o->cmd = SOCKS5_CMD_CONNECT; break;
		case 'u': o->target = optarg; o->cmd = SOCKS5_CMD_UDP_ASSOCIATE; break;
		case 'b': o->target = optarg; o->cmd = SOCKS5_CMD_BIND; break;
		case 's': o->send = optarg; break;
		case 'e': o->expect = optarg; break;
		case 't': o->timeout_ms = atoi(optarg); break;
		default: return -1;
		}
	}
	if (optind != argc || !o->proxy || !o->target || o->timeout_ms <= 0)
		return -1;
	return 0;
}

int main(int argc, char **argv)
{
	static struct socks5_proxy chain[SOCKS5_CHAIN_MAX]; /* 430 KiB */
	struct socks5_failure why;
	struct socks5_addr dst;
	struct opts o;
	char err[256];
	size_t n;
	int fd, rc;
	int64_t deadline;

	if (parse_opts(argc, argv, &o) < 0)
		return usage();
	if (socks5_url_parse_chain(o.proxy, chain, SOCKS5_CHAIN_MAX, &n, err,
				   sizeof(err)) != SOCKS5_OK) {
		fprintf(stderr, "error: EINVAL: %s\n", err);
		return 2;
	}
	if (parse_hostport(o.target, &dst) < 0) {
		fprintf(stderr, "error: EINVAL: bad HOST:PORT '%s'\n", o.target);
		return 2;
	}
	deadline = socks5_now_ms() + o.timeout_ms;
	fd = connect_proxy(&chain[0], deadline);
	if (fd < 0)
		return fail_errno(3, -fd, "connecting to the proxy");

	if (o.cmd == SOCKS5_CMD_UDP_ASSOCIATE)
		rc = run_udp(fd, chain, n, &dst, &o);
	else if (o.cmd == SOCKS5_CMD_BIND)
		rc = run_bind(fd, chain, n, &dst, &o);
	else {
		rc = socks5_handshake(&libc_io, fd, chain, n, o.cmd, &dst,
				      deadline, NULL, &why);
		rc = rc < 0 ? fail_handshake(rc, &why) : exchange(fd, fd, &o);
	}
	close(fd);
	for (size_t i = 0; i < n; i++)
		socks5_proxy_wipe(&chain[i]);
	return rc;
}
