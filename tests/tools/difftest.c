/*
 * difftest: calls every hooked function with a table of edge inputs and
 * prints one line per case, "NAME rc=R errno=E out=DIGEST [text]", so that
 * a run without the library and a run under it can be diffed line by line
 * (tests/integration/test_differential.sh).
 *
 *   difftest GROUP...     (no GROUP: all of them; "list" names them)
 *
 * Environment: DT_TCP4, DT_TCP6, DT_UDP4, DT_UDP6: ports of TCP and UDP
 * echo servers on 127.0.0.1 and ::1 (DT_TCP6/DT_UDP6 may be unset: the
 * IPv6 cases then say "skip").
 *
 * What a case records: the return value (a descriptor as "fd", since its
 * number may legitimately differ), errno only on failure, and an FNV-1a
 * digest of every byte the call wrote for the caller (addresses, buffers,
 * lengths), with what differs from run to run normalised: the local port
 * of getsockname(), which the kernel picks.
 *
 * Addresses are placed so that their last byte is the last byte before an
 * unmapped page: a library that reads past the length it was given
 * faults, as the program's own buffer could end there.
 *
 * Each group runs in a child process, so a crash shows as one line
 * ("GROUP crashed: signal N") and the other groups still run. Every wait
 * is bounded (SO_RCVTIMEO, poll timeouts).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#define ECHO_WAIT_MS 400
#define STORAGE ((int)sizeof(struct sockaddr_storage))

static int tcp4, tcp6, udp4, udp6;
static long pagesz;
static uint8_t *guard; /* the first unmapped byte; 2 pages before it mapped */

/* ---- output -------------------------------------------------------------- */

static uint64_t fnv(uint64_t h, const void *p, size_t n)
{
	const uint8_t *b = p;

	for (size_t i = 0; i < n; i++) {
		h ^= b[i];
		h *= 0x100000001b3ull;
	}
	return h;
}

#define FNV0 0xcbf29ce484222325ull

/* One line. rc < 0 prints errno; text may be NULL. */
static void emit(const char *name, long rc, int err, uint64_t digest,
		 const char *fmt, ...)
{
	char text[256] = "";
	va_list ap;

	if (fmt) {
		va_start(ap, fmt);
		vsnprintf(text, sizeof(text), fmt, ap);
		va_end(ap);
	}
	if (rc < 0)
		printf("%s rc=%ld errno=%s out=%016llx%s%s\n", name, rc,
		       strerrorname_np(err) ? strerrorname_np(err) : "?",
		       (unsigned long long)digest, *text ? " " : "", text);
	else
		printf("%s rc=%ld out=%016llx%s%s\n", name, rc,
		       (unsigned long long)digest, *text ? " " : "", text);
	fflush(stdout);
}

/* ---- addresses ------------------------------------------------------------ */

/* A template address of family fam for port (network order) on loopback,
 * in a zeroed storage of 256 bytes. */
static void template(uint8_t *buf, int fam, uint16_t port)
{
	memset(buf, 0, 256);
	if (fam == AF_INET) {
		struct sockaddr_in *in = (void *)buf;

		in->sin_family = AF_INET;
		in->sin_port = port;
		in->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	} else if (fam == AF_INET6) {
		struct sockaddr_in6 *in6 = (void *)buf;

		in6->sin6_family = AF_INET6;
		in6->sin6_port = port;
		in6->sin6_addr = in6addr_loopback;
	} else if (fam == AF_UNIX) {
		struct sockaddr_un *un = (void *)buf;

		un->sun_family = AF_UNIX;
		strcpy(un->sun_path, "/nonexistent/sfy-difftest");
	} else {
		((struct sockaddr *)buf)->sa_family = (sa_family_t)fam;
		memset(buf + 2, 0x5a, 30);
	}
}

/* The first len bytes of the template, ending right before the unmapped
 * page (at most 2 pages of it: lengths beyond are never read whole). */
static struct sockaddr *guarded(const uint8_t *tpl, socklen_t len)
{
	size_t n = len < 256 ? len : 256;
	uint8_t *p = guard - (len < (socklen_t)(2 * pagesz) ? len : 2 * pagesz);

	memset(p, 0, guard - p);
	memcpy(p, tpl, n);
	return (struct sockaddr *)p;
}

static uint16_t port_for(int fam, int type)
{
	int p = fam == AF_INET6 ? (type == SOCK_STREAM ? tcp6 : udp6) :
				  (type == SOCK_STREAM ? tcp4 : udp4);

	return htons((uint16_t)p);
}

/* Text for an address the kernel (or the library) gave back. */
static void sa_text(const void *sa, socklen_t len, char *out, size_t cap)
{
	const struct sockaddr *s = sa;
	char a[INET6_ADDRSTRLEN] = "?";

	if (len >= sizeof(struct sockaddr_in) && s->sa_family == AF_INET) {
		const struct sockaddr_in *in = sa;

		inet_ntop(AF_INET, &in->sin_addr, a, sizeof(a));
		snprintf(out, cap, "%s:%u", a, ntohs(in->sin_port));
	} else if (len >= sizeof(struct sockaddr_in6) &&
		   s->sa_family == AF_INET6) {
		const struct sockaddr_in6 *in6 = sa;

		inet_ntop(AF_INET6, &in6->sin6_addr, a, sizeof(a));
		snprintf(out, cap, "[%s]:%u", a, ntohs(in6->sin6_port));
	} else {
		snprintf(out, cap, "len%u", (unsigned)len);
	}
}

/* ---- sockets ---------------------------------------------------------------- */

static int sock(int fam, int type)
{
	struct timeval tv = { .tv_sec = 0, .tv_usec = ECHO_WAIT_MS * 1000 };
	int s = socket(fam, type | SOCK_CLOEXEC, 0);

	if (s >= 0) {
		setsockopt(s, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
		setsockopt(s, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	}
	return s;
}

static bool readable(int s, int ms)
{
	struct pollfd p = { .fd = s, .events = POLLIN };

	return poll(&p, 1, ms) == 1 && (p.revents & POLLIN);
}

/* The echo of what was just sent on s: payload and origin, as a digest
 * and text; "none" when nothing came within the wait. */
static void echo_line(const char *name, int s)
{
	uint8_t buf[2048];
	struct sockaddr_storage from;
	socklen_t flen = sizeof(from);
	char t[80];
	ssize_t n;

	if (!readable(s, ECHO_WAIT_MS)) {
		emit(name, 0, 0, FNV0, "echo=none");
		return;
	}
	memset(&from, 0, sizeof(from));
	n = recvfrom(s, buf, sizeof(buf), MSG_DONTWAIT, (void *)&from, &flen);
	if (n < 0) {
		emit(name, -1, errno, FNV0, "echo");
		return;
	}
	sa_text(&from, flen, t, sizeof(t));
	emit(name, n, 0, fnv(fnv(FNV0, buf, (size_t)n), &from, flen),
	     "echo from %s", t);
}

/* Drops whatever an earlier case left queued on s. */
static void drain(int s)
{
	uint8_t buf[2048];
	int i;

	for (i = 0; i < 64 && readable(s, 0); i++)
		if (recv(s, buf, sizeof(buf), MSG_DONTWAIT) < 0)
			break;
}

static const int fams[] = { AF_UNSPEC, AF_UNIX, AF_INET, AF_INET6,
			    AF_NETLINK, AF_PACKET, 255 };
#define NFAMS (int)(sizeof(fams) / sizeof(fams[0]))

struct kind {
	const char *name;
	int fam, type;
};

static const struct kind kinds[] = {
	{ "tcp4", AF_INET, SOCK_STREAM },
	{ "tcp6", AF_INET6, SOCK_STREAM },
	{ "udp4", AF_INET, SOCK_DGRAM },
	{ "udp6", AF_INET6, SOCK_DGRAM },
};

static bool have(const struct kind *k)
{
	return k->fam == AF_INET || (k->type == SOCK_STREAM ? tcp6 : udp6);
}

/* ---- group: connect with every family and length -------------------------- */

static void after_connect(const char *name, int s, int type)
{
	struct sockaddr_storage peer;
	socklen_t plen = sizeof(peer);
	char n2[160], t[80];
	int rc;

	memset(&peer, 0, sizeof(peer));
	rc = getpeername(s, (void *)&peer, &plen);
	sa_text(&peer, plen, t, sizeof(t));
	snprintf(n2, sizeof(n2), "%s/getpeername", name);
	emit(n2, rc, errno, fnv(fnv(FNV0, &peer, plen), &plen, sizeof(plen)),
	     "%s", rc == 0 ? t : "");
	snprintf(n2, sizeof(n2), "%s/echo", name);
	rc = (int)send(s, "ping", 4, MSG_NOSIGNAL);
	if (rc < 0) {
		emit(n2, rc, errno, FNV0, NULL);
		return;
	}
	(void)type;
	echo_line(n2, s);
}

static void group_connect(void)
{
	uint8_t tpl[256];
	char name[160];

	/* A fresh socket for every case: what a datagram socket was
	 * connected to before changes the kernel's answer (an AF_INET6 one
	 * that had an IPv4 peer refuses an IPv6 one). */
	for (size_t k = 0; k < sizeof(kinds) / sizeof(kinds[0]); k++) {
		const struct kind *kd = &kinds[k];

		if (!have(kd))
			continue;
		for (int f = 0; f < NFAMS; f++) {
			template(tpl, fams[f], port_for(fams[f] == AF_INET6 ?
					       AF_INET6 : AF_INET, kd->type));
			for (socklen_t len = 0; len <= (socklen_t)STORAGE + 1;
			     len++) {
				int s = sock(kd->fam, kd->type);
				int rc;

				snprintf(name, sizeof(name),
					 "connect/%s/fam%d/len%u", kd->name,
					 fams[f], (unsigned)len);
				errno = 0;
				rc = connect(s, guarded(tpl, len), len);
				emit(name, rc, errno, FNV0, NULL);
				if (rc == 0 && fams[f] != AF_UNSPEC)
					after_connect(name, s, kd->type);
				close(s);
			}
		}
	}
	/* NULL addresses */
	for (size_t k = 0; k < sizeof(kinds) / sizeof(kinds[0]); k++) {
		int s = sock(kinds[k].fam, kinds[k].type);
		socklen_t lens[] = { 0, 16, 28 };

		for (int i = 0; i < 3; i++) {
			snprintf(name, sizeof(name), "connect/%s/null/len%u",
				 kinds[k].name, (unsigned)lens[i]);
			errno = 0;
			emit(name, connect(s, NULL, lens[i]), errno, FNV0, NULL);
		}
		close(s);
	}
}

/* ---- group: sendto / sendmsg / sendmmsg with every family and length ----- */

enum sendcall { SENDTO, SENDMSG, SENDMMSG };

static long send_with(enum sendcall c, int s, const struct sockaddr *sa,
		      socklen_t len)
{
	struct iovec iov = { .iov_base = "dgram", .iov_len = 5 };
	struct mmsghdr mm;

	memset(&mm, 0, sizeof(mm));
	mm.msg_hdr.msg_name = (void *)sa;
	mm.msg_hdr.msg_namelen = len;
	mm.msg_hdr.msg_iov = &iov;
	mm.msg_hdr.msg_iovlen = 1;
	switch (c) {
	case SENDTO:
		return sendto(s, "dgram", 5, 0, sa, len);
	case SENDMSG:
		return sendmsg(s, &mm.msg_hdr, 0);
	default: {
		int rc = sendmmsg(s, &mm, 1, 0);

		return rc == 1 ? (long)mm.msg_len : rc;
	}
	}
}

static void group_send(void)
{
	static const char *cname[] = { "sendto", "sendmsg", "sendmmsg" };
	uint8_t tpl[256];
	char name[160];
	/* sendmsg clamps a name longer than sockaddr_storage, sendto refuses
	 * it: lengths beyond the sweep, and a negative int. */
	socklen_t extra[] = { 200, 4096, 0x7fffffff, 0x80000000u };

	for (int c = SENDTO; c <= SENDMMSG; c++) {
		for (size_t k = 2; k < 4; k++) {
			const struct kind *kd = &kinds[k];
			int s;

			if (!have(kd))
				continue;
			s = sock(kd->fam, SOCK_DGRAM);
			for (int f = 0; f < NFAMS; f++) {
				template(tpl, fams[f],
					 port_for(fams[f] == AF_INET6 ?
							  AF_INET6 : AF_INET,
						  SOCK_DGRAM));
				for (int i = 0; i <= STORAGE + 1 + 4; i++) {
					socklen_t len = i <= STORAGE + 1 ?
						(socklen_t)i :
						extra[i - STORAGE - 2];
					long rc;

					snprintf(name, sizeof(name),
						 "%s/%s/fam%d/len%u", cname[c],
						 kd->name, fams[f],
						 (unsigned)len);
					errno = 0;
					rc = send_with(c, s, guarded(tpl, len),
						       len);
					emit(name, rc, errno, FNV0, NULL);
					if (rc >= 0) {
						strcat(name, "/echo");
						echo_line(name, s);
					}
				}
			}
			/* NULL address with a length, a name with length 0 */
			for (int i = 0; i < 2; i++) {
				template(tpl, kd->fam, port_for(kd->fam, SOCK_DGRAM));
				snprintf(name, sizeof(name), "%s/%s/%s", cname[c],
					 kd->name, i ? "name-len0" : "null-len28");
				errno = 0;
				emit(name, send_with(c, s, i ? guarded(tpl, 0) : NULL,
						     i ? 0 : 28),
				     errno, FNV0, NULL);
			}
			close(s);
		}
	}
	/* A connected UDP socket, then a name with length 0 (sendmsg: no
	 * address, the connected peer) */
	for (size_t k = 2; k < 4; k++) {
		const struct kind *kd = &kinds[k];
		int s;

		if (!have(kd))
			continue;
		s = sock(kd->fam, SOCK_DGRAM);
		template(tpl, kd->fam, port_for(kd->fam, SOCK_DGRAM));
		errno = 0;
		snprintf(name, sizeof(name), "connected/%s/connect", kd->name);
		emit(name, connect(s, (void *)tpl, kd->fam == AF_INET ? 16 : 28),
		     errno, FNV0, NULL);
		for (int c = SENDTO; c <= SENDMMSG; c++) {
			long rc;

			snprintf(name, sizeof(name), "connected/%s/%s/name-len0",
				 kd->name, cname[c]);
			errno = 0;
			rc = send_with(c, s, guarded(tpl, 0), 0);
			emit(name, rc, errno, FNV0, NULL);
			if (rc >= 0) {
				strcat(name, "/echo");
				echo_line(name, s);
			}
			drain(s);
		}
		close(s);
	}
}

/* ---- group: getnameinfo with every family, length, flag, buffer size ---- */

static void nameinfo_case(const char *name, const struct sockaddr *sa,
			  socklen_t len, socklen_t hl, socklen_t sl, int flags)
{
	char host[NI_MAXHOST + 1], serv[NI_MAXSERV + 1];
	int rc;

	memset(host, 'X', sizeof(host));
	memset(serv, 'X', sizeof(serv));
	errno = 0;
	rc = getnameinfo(sa, len, hl ? host : NULL, hl, sl ? serv : NULL, sl,
			 flags);
	emit(name, rc == 0 ? 0 : -1, 0,
	     fnv(fnv(FNV0, host, hl), serv, sl), "gai=%d host=%.*s serv=%.*s",
	     rc, rc == 0 && hl ? (int)strnlen(host, hl) : 0, host,
	     rc == 0 && sl ? (int)strnlen(serv, sl) : 0, serv);
}

static void group_nameinfo(void)
{
	static const int fl[] = { 0, NI_NUMERICHOST, NI_NUMERICSERV,
				  NI_NUMERICHOST | NI_NUMERICSERV, NI_NOFQDN,
				  NI_NAMEREQD, NI_DGRAM, 0x100 /* NI_IDN */,
				  NI_NAMEREQD | NI_NUMERICHOST, 0x4000 };
	static const socklen_t hls[] = { 0, 1, 2, 9, 10, 11, 40, NI_MAXHOST };
	static const socklen_t sls[] = { 0, 1, 2, 3, 6, NI_MAXSERV };
	uint8_t tpl[256];
	char name[160];

	for (int f = 0; f < NFAMS; f++) {
		template(tpl, fams[f], htons(80));
		for (socklen_t len = 0; len <= (socklen_t)STORAGE + 1; len++) {
			snprintf(name, sizeof(name), "getnameinfo/fam%d/len%u",
				 fams[f], (unsigned)len);
			/* glibc itself reads a whole sun_path, whatever
			 * the length: AF_UNIX is not guarded. */
			nameinfo_case(name, fams[f] == AF_UNIX ? (void *)tpl :
					    guarded(tpl, len), len, NI_MAXHOST,
				      NI_MAXSERV, NI_NUMERICHOST | NI_NUMERICSERV);
		}
	}
	for (int f = 2; f <= 3; f++) {
		template(tpl, fams[f], htons(53));
		for (size_t i = 0; i < sizeof(fl) / sizeof(fl[0]); i++)
			for (size_t h = 0; h < sizeof(hls) / sizeof(hls[0]); h++)
				for (size_t s = 0; s < sizeof(sls) / sizeof(sls[0]);
				     s++) {
					snprintf(name, sizeof(name),
						 "getnameinfo/fam%d/flags%#x/host%u/serv%u",
						 fams[f], fl[i], (unsigned)hls[h],
						 (unsigned)sls[s]);
					nameinfo_case(name, (void *)tpl,
						      fams[f] == AF_INET ? 16 : 28,
						      hls[h], sls[s], fl[i]);
				}
	}
	nameinfo_case("getnameinfo/null", NULL, 16, NI_MAXHOST, NI_MAXSERV, 0);
}

/* ---- group: getaddrinfo ---------------------------------------------------- */

static void gai_case(const char *name, const char *node, const char *svc,
		     const struct addrinfo *hints)
{
	struct addrinfo *res = NULL;
	uint64_t h = FNV0;
	char text[256] = "", t[80];
	size_t used = 0;
	int rc, n = 0;

	errno = 0;
	rc = getaddrinfo(node, svc, hints, &res);
	for (struct addrinfo *p = rc == 0 ? res : NULL; p; p = p->ai_next, n++) {
		h = fnv(h, &p->ai_flags, sizeof(p->ai_flags));
		h = fnv(h, &p->ai_family, sizeof(p->ai_family));
		h = fnv(h, &p->ai_socktype, sizeof(p->ai_socktype));
		h = fnv(h, &p->ai_protocol, sizeof(p->ai_protocol));
		h = fnv(h, &p->ai_addrlen, sizeof(p->ai_addrlen));
		h = fnv(h, p->ai_addr, p->ai_addrlen);
		if (p->ai_canonname)
			h = fnv(h, p->ai_canonname, strlen(p->ai_canonname) + 1);
		sa_text(p->ai_addr, p->ai_addrlen, t, sizeof(t));
		if (used < sizeof(text) - 1)
			used += (size_t)snprintf(text + used, sizeof(text) - used,
						 "%d/%d/%s%s%s ", p->ai_socktype,
						 p->ai_protocol, t,
						 p->ai_canonname ? "/" : "",
						 p->ai_canonname ? p->ai_canonname :
								   "");
	}
	if (rc == 0)
		freeaddrinfo(res);
	emit(name, rc == 0 ? n : -1, 0, h, "gai=%d %s", rc, text);
}

static void group_getaddrinfo(void)
{
	static const char *nodes[] = { NULL, "", "*", "localhost", "127.0.0.1",
				       "::1", "LOCALHOST", "localhost." };
	static const char *svcs[] = { NULL, "", "*", "0", "80", " 80", "\t80",
				      "+80", "80 ", "-1", "08", "0x50", "65535",
				      "65536", "2147483648", "4294967296",
				      "4294967375", "18446744073709551616", "http",
				      "HTTP", " http", "domain", "nonexistent-svc",
				      "1e2" };
	static const int fam[] = { AF_UNSPEC, AF_INET, AF_INET6, AF_UNIX, 99 };
	static const int st[] = { 0, SOCK_STREAM, SOCK_DGRAM, SOCK_RAW,
				  SOCK_SEQPACKET, SOCK_DCCP, 99 };
	static const int pr[] = { 0, IPPROTO_TCP, IPPROTO_UDP, IPPROTO_UDPLITE,
				  IPPROTO_DCCP, IPPROTO_SCTP, 99 };
	static const int fl[] = { 0, AI_PASSIVE, AI_CANONNAME, AI_NUMERICHOST,
				  AI_V4MAPPED, AI_V4MAPPED | AI_ALL, AI_ALL,
				  AI_ADDRCONFIG, AI_NUMERICSERV, AI_IDN,
				  AI_CANONNAME | AI_NUMERICHOST, 0x8000 };
	struct addrinfo hints;
	char name[200];
	size_t i, j, a, b, c;

	for (i = 0; i < sizeof(nodes) / sizeof(nodes[0]); i++) {
		for (j = 0; j < sizeof(svcs) / sizeof(svcs[0]); j++)
			for (a = 0; a < sizeof(st) / sizeof(st[0]); a++)
				for (b = 0; b < 2; b++) {
					memset(&hints, 0, sizeof(hints));
					hints.ai_socktype = st[a];
					hints.ai_family = AF_INET;
					hints.ai_flags = b ? AI_NUMERICSERV : 0;
					snprintf(name, sizeof(name),
						 "getaddrinfo/node=%s/svc=%s/st%d/fl%#x",
						 nodes[i] ? nodes[i] : "NULL",
						 svcs[j] ? svcs[j] : "NULL", st[a],
						 hints.ai_flags);
					for (char *p = name; *p; p++)
						if (*p == ' ' || *p == '\t')
							*p = '_';
					gai_case(name, nodes[i], svcs[j], &hints);
				}
		for (a = 0; a < sizeof(fam) / sizeof(fam[0]); a++)
			for (b = 0; b < sizeof(st) / sizeof(st[0]); b++)
				for (c = 0; c < sizeof(pr) / sizeof(pr[0]); c++) {
					memset(&hints, 0, sizeof(hints));
					hints.ai_family = fam[a];
					hints.ai_socktype = st[b];
					hints.ai_protocol = pr[c];
					snprintf(name, sizeof(name),
						 "getaddrinfo/node=%s/fam%d/st%d/pr%d",
						 nodes[i] ? nodes[i] : "NULL",
						 fam[a], st[b], pr[c]);
					gai_case(name, nodes[i], "53", &hints);
				}
		for (a = 0; a < sizeof(fam) / sizeof(fam[0]); a++)
			for (b = 0; b < sizeof(fl) / sizeof(fl[0]); b++) {
				memset(&hints, 0, sizeof(hints));
				hints.ai_family = fam[a];
				hints.ai_flags = fl[b];
				snprintf(name, sizeof(name),
					 "getaddrinfo/node=%s/fam%d/flags%#x",
					 nodes[i] ? nodes[i] : "NULL", fam[a],
					 fl[b]);
				gai_case(name, nodes[i], "80", &hints);
			}
		snprintf(name, sizeof(name), "getaddrinfo/node=%s/nullhints",
			 nodes[i] ? nodes[i] : "NULL");
		gai_case(name, nodes[i], "80", NULL);
	}
}

/* ---- group: gethostbyname*, gethostbyaddr* --------------------------------- */

static uint64_t he_digest(const struct hostent *he, char *text, size_t cap)
{
	uint64_t h = FNV0;
	size_t used = 0;

	if (!he)
		return h;
	h = fnv(h, he->h_name, strlen(he->h_name) + 1);
	h = fnv(h, &he->h_addrtype, sizeof(int));
	h = fnv(h, &he->h_length, sizeof(int));
	used = (size_t)snprintf(text, cap, "%s", he->h_name);
	for (char **a = he->h_aliases; a && *a; a++)
		h = fnv(h, *a, strlen(*a) + 1);
	for (char **a = he->h_addr_list; a && *a; a++) {
		char t[INET6_ADDRSTRLEN];

		h = fnv(h, *a, (size_t)he->h_length);
		inet_ntop(he->h_addrtype, *a, t, sizeof(t));
		if (used < cap - 1)
			used += (size_t)snprintf(text + used, cap - used, " %s", t);
	}
	return h;
}

static void group_gethostby(void)
{
	static const char *names[] = { "localhost", "127.0.0.1", "::1", "",
				       "LOCALHOST", "localhost." };
	/* (family 0 makes glibc's nss_files assert) */
	static const int af[] = { AF_INET, AF_INET6, AF_UNIX };
	static const size_t bl[] = { 0, 1, 16, 40, 64, 1024 };
	char name[160], text[200], buf[1024];
	struct hostent he, *res;
	int herr, rc;

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		struct hostent *r;

		snprintf(name, sizeof(name), "gethostbyname/%s", names[i]);
		h_errno = 0;
		r = gethostbyname(names[i]);
		text[0] = 0;
		emit(name, r ? 0 : -1, 0, he_digest(r, text, sizeof(text)),
		     "h_errno=%d %s", r ? 0 : h_errno, text);
		for (size_t a = 0; a < sizeof(af) / sizeof(af[0]); a++) {
			snprintf(name, sizeof(name), "gethostbyname2/%s/af%d",
				 names[i], af[a]);
			h_errno = 0;
			r = gethostbyname2(names[i], af[a]);
			text[0] = 0;
			emit(name, r ? 0 : -1, 0, he_digest(r, text, sizeof(text)),
			     "h_errno=%d %s", r ? 0 : h_errno, text);
			for (size_t b = 0; b < sizeof(bl) / sizeof(bl[0]); b++) {
				snprintf(name, sizeof(name),
					 "gethostbyname2_r/%s/af%d/buf%zu", names[i],
					 af[a], bl[b]);
				herr = 0;
				res = NULL;
				rc = gethostbyname2_r(names[i], af[a], &he, buf,
						      bl[b], &res, &herr);
				text[0] = 0;
				emit(name, rc, 0, he_digest(res, text, sizeof(text)),
				     "herr=%d %s", herr, text);
				if (af[a] != AF_INET)
					continue;
				snprintf(name, sizeof(name),
					 "gethostbyname_r/%s/buf%zu", names[i],
					 bl[b]);
				herr = 0;
				res = NULL;
				rc = gethostbyname_r(names[i], &he, buf, bl[b],
						     &res, &herr);
				text[0] = 0;
				emit(name, rc, 0, he_digest(res, text, sizeof(text)),
				     "herr=%d %s", herr, text);
			}
		}
	}
	{
		uint8_t a4[17] = { 127, 0, 0, 1 }, a6[17] = { 0 };
		static const socklen_t lens[] = { 0, 3, 4, 5, 15, 16, 17 };

		a6[15] = 1;
		for (size_t l = 0; l < sizeof(lens) / sizeof(lens[0]); l++)
			for (size_t a = 0; a < sizeof(af) / sizeof(af[0]); a++)
				for (int v = 0; v < 2; v++) {
					const void *addr = v ? a6 : a4;
					struct hostent *r;

					snprintf(name, sizeof(name),
						 "gethostbyaddr/%s/len%u/af%d",
						 v ? "::1" : "127.0.0.1",
						 (unsigned)lens[l], af[a]);
					h_errno = 0;
					r = gethostbyaddr(addr, lens[l], af[a]);
					text[0] = 0;
					emit(name, r ? 0 : -1, 0,
					     he_digest(r, text, sizeof(text)),
					     "h_errno=%d %s", r ? 0 : h_errno, text);
					strcat(name, "/r");
					herr = 0;
					res = NULL;
					rc = gethostbyaddr_r(addr, lens[l], af[a], &he,
							     buf, 64, &res, &herr);
					text[0] = 0;
					emit(name, rc, 0,
					     he_digest(res, text, sizeof(text)),
					     "herr=%d %s", herr, text);
				}
	}
}

/* ---- group: descriptors that are not sockets, not open, or far up ------- */

/* Every hooked call that takes a descriptor, on fd, without waiting. */
static void fd_calls(const char *tag, int fd)
{
	uint8_t tpl[256], buf[64];
	struct iovec iov = { .iov_base = buf, .iov_len = sizeof(buf) };
	struct msghdr m;
	struct mmsghdr mm;
	struct sockaddr_storage ss;
	struct timespec ts = { 0, 0 };
	socklen_t sl;
	char name[160];
	long rc;

#define CASE(call, expr, dig)                                               \
	do {                                                                \
		snprintf(name, sizeof(name), "fd/%s/%s", tag, call);       \
		memset(buf, 0, sizeof(buf));                               \
		memset(&ss, 0, sizeof(ss));                                \
		sl = sizeof(ss);                                           \
		errno = 0;                                                 \
		rc = (long)(expr);                                         \
		emit(name, rc, errno, dig, NULL);                          \
	} while (0)

	template(tpl, AF_INET, port_for(AF_INET, SOCK_DGRAM));
	memset(&m, 0, sizeof(m));
	m.msg_iov = &iov;
	m.msg_iovlen = 1;
	memset(&mm, 0, sizeof(mm));
	mm.msg_hdr = m;
	CASE("connect", connect(fd, (void *)tpl, 16), FNV0);
	CASE("sendto", sendto(fd, "x", 1, MSG_DONTWAIT, (void *)tpl, 16), FNV0);
	m.msg_name = tpl;
	m.msg_namelen = 16;
	CASE("sendmsg", sendmsg(fd, &m, MSG_DONTWAIT), FNV0);
	mm.msg_hdr = m;
	CASE("sendmmsg", sendmmsg(fd, &mm, 1, MSG_DONTWAIT), FNV0);
	m.msg_name = NULL;
	m.msg_namelen = 0;
	CASE("send", send(fd, "x", 1, MSG_DONTWAIT), FNV0);
	CASE("write", write(fd, "w", 1), FNV0);
	iov.iov_base = (void *)"v";
	iov.iov_len = 1;
	CASE("writev", writev(fd, &iov, 1), FNV0);
	iov.iov_base = buf;
	iov.iov_len = sizeof(buf);
	CASE("recv", recv(fd, buf, sizeof(buf), MSG_DONTWAIT),
	     fnv(FNV0, buf, sizeof(buf)));
	CASE("recvfrom",
	     recvfrom(fd, buf, sizeof(buf), MSG_DONTWAIT, (void *)&ss, &sl),
	     fnv(fnv(FNV0, buf, sizeof(buf)), &sl, sizeof(sl)));
	m.msg_name = &ss;
	m.msg_namelen = sizeof(ss);
	CASE("recvmsg", recvmsg(fd, &m, MSG_DONTWAIT),
	     fnv(FNV0, buf, sizeof(buf)));
	mm.msg_hdr = m;
	CASE("recvmmsg", recvmmsg(fd, &mm, 1, MSG_DONTWAIT, &ts),
	     fnv(FNV0, buf, sizeof(buf)));
	CASE("read", read(fd, buf, sizeof(buf)), fnv(FNV0, buf, sizeof(buf)));
	CASE("readv", readv(fd, &iov, 1), fnv(FNV0, buf, sizeof(buf)));
	CASE("getpeername", getpeername(fd, (void *)&ss, &sl),
	     fnv(FNV0, &ss, sizeof(ss)));
	CASE("getsockname", getsockname(fd, (void *)&ss, &sl), FNV0);
	CASE("fcntl-getfl", fcntl(fd, F_GETFL), FNV0);
	CASE("accept", accept(fd, NULL, NULL), FNV0);
	CASE("accept4-badflag", accept4(fd, NULL, NULL, 0x40000000), FNV0);
	rc = dup(fd);
	snprintf(name, sizeof(name), "fd/%s/dup", tag);
	emit(name, rc >= 0 ? 0 : -1, errno, FNV0, rc >= 0 ? "fd" : NULL);
	if (rc >= 0)
		close((int)rc);
	CASE("dup2-self", dup2(fd, fd) == fd ? 0 : -1, FNV0);
	CASE("dup3-self", dup3(fd, fd, 0), FNV0);
#undef CASE
}

static void group_fds(void)
{
	struct rlimit rl;
	int p[2], f, s, s6;
	char tag[64];
	static const int far[] = { 0, 1023, 1024, 65535, 65536 };
	int lim;

	getrlimit(RLIMIT_NOFILE, &rl);
	lim = rl.rlim_cur > 1 << 20 ? 1 << 20 : (int)rl.rlim_cur;
	fd_calls("minus1", -1);
	fd_calls("minus100", -100);
	fd_calls("closed900", 900);
	if (pipe2(p, O_NONBLOCK | O_CLOEXEC) == 0) {
		(void)!write(p[1], "pipe-data", 9);
		fd_calls("pipe-read", p[0]);
		fd_calls("pipe-write", p[1]);
		close(p[0]);
		close(p[1]);
	}
	f = open("/tmp", O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
	if (f >= 0) {
		(void)!write(f, "file-data", 9);
		lseek(f, 0, SEEK_SET);
		fd_calls("regular-file", f);
		close(f);
	}
	f = open("/dev/null", O_RDWR | O_CLOEXEC);
	fd_calls("dev-null", f);
	close(f);
	/* Far numbers: a UDP socket moved there, used towards the echo
	 * server (proxied when the run proxies loopback), then closed. */
	s = sock(AF_INET, SOCK_DGRAM);
	s6 = sock(AF_INET, SOCK_STREAM);
	for (int i = 0; i < 5 + 3; i++) {
		int n = i < 5 ? far[i] : lim - 3 + (i - 5) + 1; /* lim-2..lim */
		uint8_t tpl[256];
		char name[160];
		int rc;

		template(tpl, AF_INET, port_for(AF_INET, SOCK_DGRAM));
		snprintf(tag, sizeof(tag), "at%s%d", i < 5 ? "" : "limit",
			 i < 5 ? n : n - lim);
		snprintf(name, sizeof(name), "fd/%s/dup2-udp", tag);
		errno = 0;
		rc = dup2(s, n);
		emit(name, rc == n ? 0 : -1, errno, FNV0, NULL);
		if (rc != n) {
			fd_calls(tag, n);
			continue;
		}
		snprintf(name, sizeof(name), "fd/%s/sendto", tag);
		errno = 0;
		emit(name, sendto(n, "far", 3, 0, (void *)tpl, 16), errno, FNV0,
		     NULL);
		strcat(name, "/echo");
		echo_line(name, n);
		snprintf(name, sizeof(name), "fd/%s/close", tag);
		errno = 0;
		emit(name, close(n), errno, FNV0, NULL);
		/* A TCP socket there, connected to the echo server. */
		template(tpl, AF_INET, port_for(AF_INET, SOCK_STREAM));
		if (dup2(s6, n) == n) {
			snprintf(name, sizeof(name), "fd/%s/tcp-connect", tag);
			errno = 0;
			rc = connect(n, (void *)tpl, 16);
			emit(name, rc, errno, FNV0, NULL);
			if (rc == 0)
				after_connect(name, n, SOCK_STREAM);
			close(n);
			close(s6);
			s6 = sock(AF_INET, SOCK_STREAM);
		}
	}
	close(s);
	close(s6);
	/* The descriptor calls' own edges */
	{
		char name[80];
		int rc;

#define FDCASE(nm, expr)                                                 \
	do {                                                             \
		errno = 0;                                               \
		rc = (expr);                                             \
		snprintf(name, sizeof(name), "fdop/%s", nm);             \
		emit(name, rc >= 0 ? 0 : -1, errno, FNV0, NULL);         \
		if (rc > 2)                                              \
			close(rc);                                       \
	} while (0)
		s = sock(AF_INET, SOCK_DGRAM);
		FDCASE("dup2-to-minus1", dup2(s, -1));
		FDCASE("dup2-to-limit", dup2(s, lim));
		FDCASE("dup3-badflag", dup3(s, 700, 0x1));
		FDCASE("dup3-cloexec", dup3(s, 700, O_CLOEXEC));
		FDCASE("fcntl-dupfd-limit", fcntl(s, F_DUPFD, lim));
		FDCASE("fcntl-dupfd-cloexec", fcntl(s, F_DUPFD_CLOEXEC, 500));
		FDCASE("fcntl-badcmd", fcntl(s, 0x7fff));
		FDCASE("close-range-badflag", close_range(600, 500, 0));
		FDCASE("close-range-reverse", close_range(600, 500, 0));
		FDCASE("close-range-flags", close_range(800, 801, 0x80000000u));
		FDCASE("close-65536", close(65536));
		FDCASE("close-minus1", close(-1));
		FDCASE("socketpair-unix", socketpair(AF_UNIX, SOCK_STREAM, 0, p));
		if (rc == 0) {
			close(p[0]);
			close(p[1]);
		}
		FDCASE("socketpair-inet", socketpair(AF_INET, SOCK_STREAM, 0, p));
		FDCASE("socketpair-null", socketpair(AF_UNIX, SOCK_STREAM, 0, NULL));
		close(s);
#undef FDCASE
	}
}

/* ---- group: socket() ------------------------------------------------------- */

static void group_socket(void)
{
	static const int dom[] = { AF_UNSPEC, AF_UNIX, AF_INET, AF_INET6,
				   AF_NETLINK, AF_PACKET, 255, -1 };
	static const int ty[] = { 0, SOCK_STREAM, SOCK_DGRAM, SOCK_RAW,
				  SOCK_SEQPACKET, SOCK_DCCP, 99,
				  SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
				  SOCK_DGRAM | SOCK_NONBLOCK, SOCK_DGRAM | 0x10000 };
	static const int pr[] = { 0, IPPROTO_TCP, IPPROTO_UDP, IPPROTO_ICMP, 255,
				  -1 };
	char name[120];

	for (size_t d = 0; d < sizeof(dom) / sizeof(dom[0]); d++)
		for (size_t t = 0; t < sizeof(ty) / sizeof(ty[0]); t++)
			for (size_t p = 0; p < sizeof(pr) / sizeof(pr[0]); p++) {
				int s;

				snprintf(name, sizeof(name), "socket/%d/%#x/%d",
					 dom[d], ty[t], pr[p]);
				errno = 0;
				s = socket(dom[d], ty[t], pr[p]);
				emit(name, s >= 0 ? 0 : -1, errno, FNV0,
				     s >= 0 ? "fd" : NULL);
				if (s >= 0)
					close(s);
			}
}

/* ---- group: MSG_* flags on send and receive ------------------------------- */

static void group_flags(void)
{
	uint8_t tpl[256], buf[64];
	char name[120];

	for (size_t k = 0; k < 4; k++) {
		const struct kind *kd = &kinds[k];

		if (!have(kd))
			continue;
		template(tpl, kd->fam, port_for(kd->fam, kd->type));
		for (int bit = -1; bit < 32; bit++) {
			int fl = bit < 0 ? 0 : (int)(1u << bit);
			int s = sock(kd->fam, kd->type);
			struct sockaddr_storage from;
			socklen_t flen = sizeof(from);
			long rc;

			if (kd->type == SOCK_STREAM &&
			    connect(s, (void *)tpl, kd->fam == AF_INET ? 16 : 28)) {
				close(s);
				continue;
			}
			/* send(): on a connected TCP socket; sendto() with an
			 * address on UDP, then the echo */
			snprintf(name, sizeof(name), "flags/%s/send/%#x", kd->name,
				 fl);
			errno = 0;
			if (kd->type == SOCK_STREAM)
				rc = send(s, "flag", 4, fl | MSG_NOSIGNAL |
							      MSG_DONTWAIT);
			else
				rc = sendto(s, "flag", 4, fl | MSG_DONTWAIT,
					    (void *)tpl,
					    kd->fam == AF_INET ? 16 : 28);
			emit(name, rc, errno, FNV0, NULL);
			if (kd->type == SOCK_DGRAM && rc >= 0) {
				strcat(name, "/echo");
				echo_line(name, s);
			} else if (rc > 0) {
				/* the stream's echo, whole, so that the
				 * next read starts at a known byte */
				(void)!recv(s, buf, (size_t)rc, MSG_WAITALL);
			}
			drain(s);
			/* recvfrom(flags) with a datagram (or bytes) waiting */
			if (kd->type == SOCK_STREAM)
				rc = send(s, "recv-flag", 9, MSG_NOSIGNAL);
			else
				rc = sendto(s, "recv-flag", 9, 0, (void *)tpl,
					    kd->fam == AF_INET ? 16 : 28);
			if (rc == 9)
				readable(s, ECHO_WAIT_MS);
			snprintf(name, sizeof(name), "flags/%s/recvfrom/%#x",
				 kd->name, fl);
			memset(buf, 0, sizeof(buf));
			memset(&from, 0, sizeof(from));
			errno = 0;
			/* never wait long: SO_RCVTIMEO bounds a blocking one */
			rc = recvfrom(s, buf, 4, fl, (void *)&from, &flen);
			emit(name, rc, errno,
			     fnv(fnv(FNV0, buf, sizeof(buf)), &from,
				 rc >= 0 ? flen : 0),
			     "flen=%u", rc >= 0 ? (unsigned)flen : 0);
			close(s);
		}
	}
}

/* ---- group: iovec counts ------------------------------------------------------ */

static void group_iov(void)
{
	static const int counts[] = { 0, 1, 2, 1023, IOV_MAX, IOV_MAX + 1 };
	static struct iovec iov[IOV_MAX + 2];
	static uint8_t data[IOV_MAX + 2];
	uint8_t tpl[256];
	char name[120];

	for (int i = 0; i < IOV_MAX + 2; i++) {
		data[i] = (uint8_t)(i * 7 + 1);
		iov[i].iov_base = &data[i];
		iov[i].iov_len = 1;
	}
	for (size_t k = 0; k < 4; k++) {
		const struct kind *kd = &kinds[k];
		socklen_t alen = kd->fam == AF_INET ? 16 : 28;
		int s;

		if (!have(kd))
			continue;
		template(tpl, kd->fam, port_for(kd->fam, kd->type));
		s = sock(kd->fam, kd->type);
		if (kd->type == SOCK_STREAM && connect(s, (void *)tpl, alen)) {
			close(s);
			continue;
		}
		for (size_t c = 0; c < sizeof(counts) / sizeof(counts[0]); c++) {
			struct msghdr m;
			long rc;
			uint8_t in[IOV_MAX + 2];
			struct iovec riov[IOV_MAX + 2];
			struct sockaddr_storage from;

			for (int i = 0; i < IOV_MAX + 2; i++)
				data[i] = (uint8_t)(i * 7 + 1 + c);
			memset(&m, 0, sizeof(m));
			m.msg_iov = iov;
			m.msg_iovlen = (size_t)counts[c];
			if (kd->type == SOCK_DGRAM) {
				m.msg_name = tpl;
				m.msg_namelen = alen;
			}
			snprintf(name, sizeof(name), "iov/%s/sendmsg/%d", kd->name,
				 counts[c]);
			errno = 0;
			rc = sendmsg(s, &m, MSG_NOSIGNAL);
			emit(name, rc, errno, FNV0, NULL);
			/* the echo, into as many one-byte iovecs */
			if (rc < 0) {
				/* something to receive all the same */
				m.msg_iovlen = 64;
				sendmsg(s, &m, MSG_NOSIGNAL);
			}
			if (!readable(s, ECHO_WAIT_MS) && counts[c] > 0)
				continue;
			memset(in, 0, sizeof(in));
			for (int i = 0; i < IOV_MAX + 2; i++) {
				riov[i].iov_base = &in[i];
				riov[i].iov_len = 1;
			}
			memset(&m, 0, sizeof(m));
			memset(&from, 0, sizeof(from));
			m.msg_iov = riov;
			m.msg_iovlen = (size_t)counts[c];
			m.msg_name = &from;
			m.msg_namelen = sizeof(from);
			snprintf(name, sizeof(name), "iov/%s/recvmsg/%d", kd->name,
				 counts[c]);
			errno = 0;
			rc = recvmsg(s, &m, MSG_DONTWAIT);
			emit(name, rc, errno,
			     fnv(fnv(FNV0, in, sizeof(in)), &from,
				 rc >= 0 ? m.msg_namelen : 0),
			     "msg_flags=%#x namelen=%u", rc >= 0 ? m.msg_flags : 0,
			     rc >= 0 ? (unsigned)m.msg_namelen : 0);
			drain(s);
		}
		/* writev/readv on a connected socket */
		if (kd->type == SOCK_DGRAM && connect(s, (void *)tpl, alen) == 0)
			for (size_t c = 0; c < sizeof(counts) / sizeof(counts[0]);
			     c++) {
				uint8_t in[IOV_MAX + 2];
				struct iovec riov[IOV_MAX + 2];
				long rc;

				snprintf(name, sizeof(name), "iov/%s/writev/%d",
					 kd->name, counts[c]);
				errno = 0;
				rc = writev(s, iov, counts[c]);
				emit(name, rc, errno, FNV0, NULL);
				if (rc < 0)
					(void)!writev(s, iov, 64);
				if (!readable(s, ECHO_WAIT_MS) && counts[c] > 0)
					continue;
				memset(in, 0, sizeof(in));
				for (int i = 0; i < IOV_MAX + 2; i++) {
					riov[i].iov_base = &in[i];
					riov[i].iov_len = 1;
				}
				snprintf(name, sizeof(name), "iov/%s/readv/%d",
					 kd->name, counts[c]);
				errno = 0;
				rc = readv(s, riov, counts[c]);
				emit(name, rc, errno, fnv(FNV0, in, sizeof(in)),
				     NULL);
				drain(s);
			}
		close(s);
	}
}

/* ---- group: getpeername / getsockname with every buffer length ---------- */

static void group_names(void)
{
	uint8_t tpl[256];
	char name[120];

	for (size_t k = 0; k < 4; k++) {
		const struct kind *kd = &kinds[k];
		socklen_t alen = kd->fam == AF_INET ? 16 : 28;
		int s;

		if (!have(kd))
			continue;
		template(tpl, kd->fam, port_for(kd->fam, kd->type));
		s = sock(kd->fam, kd->type);
		if (connect(s, (void *)tpl, alen)) {
			emit("names/connect", -1, errno, FNV0, "%s", kd->name);
			close(s);
			continue;
		}
		for (int which = 0; which < 2; which++)
			for (socklen_t len = 0; len <= 34; len++) {
				uint8_t *out = guard - (len ? len : 1);
				socklen_t l = len;
				int rc;

				memset(out, 0xee, len ? len : 1);
				snprintf(name, sizeof(name), "names/%s/%s/len%u",
					 kd->name, which ? "getsockname" :
							   "getpeername",
					 (unsigned)len);
				errno = 0;
				rc = which ? getsockname(s, (void *)out, &l) :
					     getpeername(s, (void *)out, &l);
				/* the local port is the kernel's pick */
				if (which && len >= 3)
					out[2] = 0;
				if (which && len >= 4)
					out[3] = 0;
				emit(name, rc, errno,
				     fnv(fnv(FNV0, out, len), &l, sizeof(l)),
				     "len=%u", (unsigned)l);
			}
		errno = 0;
		snprintf(name, sizeof(name), "names/%s/getpeername-nulllen",
			 kd->name);
		emit(name, getpeername(s, (void *)tpl, NULL), errno, FNV0, NULL);
		close(s);
	}
}

/* ---- main ------------------------------------------------------------------- */

static const struct {
	const char *name;
	void (*fn)(void);
} groups[] = {
	{ "connect", group_connect },	{ "send", group_send },
	{ "nameinfo", group_nameinfo }, { "getaddrinfo", group_getaddrinfo },
	{ "gethostby", group_gethostby }, { "fds", group_fds },
	{ "socket", group_socket },	{ "flags", group_flags },
	{ "iov", group_iov },		{ "names", group_names },
};
#define NGROUPS (sizeof(groups) / sizeof(groups[0]))

static int env_port(const char *v)
{
	const char *s = getenv(v);

	return s ? atoi(s) : 0;
}

static int run_group(size_t g)
{
	pid_t pid;
	int st;

	fflush(stdout);
	pid = fork();
	if (pid < 0)
		return 1;
	if (pid == 0) {
		groups[g].fn();
		fflush(stdout);
		_exit(0);
	}
	if (waitpid(pid, &st, 0) < 0)
		return 1;
	if (WIFSIGNALED(st)) {
		printf("%s crashed: signal %d\n", groups[g].name, WTERMSIG(st));
		return 1;
	}
	if (WEXITSTATUS(st)) {
		printf("%s exited %d\n", groups[g].name, WEXITSTATUS(st));
		return 1;
	}
	return 0;
}

int main(int argc, char **argv)
{
	struct rlimit rl;
	uint8_t *map;
	int bad = 0;

	signal(SIGPIPE, SIG_IGN);
	tcp4 = env_port("DT_TCP4");
	tcp6 = env_port("DT_TCP6");
	udp4 = env_port("DT_UDP4");
	udp6 = env_port("DT_UDP6");
	if (argc > 1 && !strcmp(argv[1], "list")) {
		for (size_t g = 0; g < NGROUPS; g++)
			puts(groups[g].name);
		return 0;
	}
	if (!tcp4 || !udp4) {
		fprintf(stderr, "difftest: DT_TCP4 and DT_UDP4 must name echo ports\n");
		return 2;
	}
	/* The far descriptors need the hard limit. */
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
	pagesz = sysconf(_SC_PAGESIZE);
	map = mmap(NULL, (size_t)pagesz * 3, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (map == MAP_FAILED || mprotect(map + 2 * pagesz, (size_t)pagesz,
					  PROT_NONE)) {
		perror("difftest: mmap");
		return 2;
	}
	guard = map + 2 * pagesz;
	for (size_t g = 0; g < NGROUPS; g++) {
		bool on = argc < 2;

		for (int i = 1; i < argc; i++)
			on |= !strcmp(argv[i], groups[g].name);
		if (on)
			bad |= run_group(g);
	}
	return bad;
}
