/*
 * difftest.h: what the differential programs share (difftest-addr,
 * difftest-fd, difftest-dns; tests/integration/test_differential.sh).
 * Each calls hooked functions with a table of edge inputs and prints one
 * line per case, "NAME rc=R [errno=E] out=DIGEST [text]", so that a run
 * without the library and a run under it can be diffed line by line.
 *
 *   difftest-X [GROUP...]     (no GROUP: all of its groups; "list" names them)
 *
 * Environment: DT_TCP4, DT_TCP6, DT_UDP4, DT_UDP6: ports of TCP and UDP
 * echo servers on 127.0.0.1 and ::1 (the IPv6 ones may be unset: the
 * IPv6 cases are then left out).
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
#ifndef SOCKSIFY_TESTS_DIFFTEST_H
#define SOCKSIFY_TESTS_DIFFTEST_H

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
#ifdef __SANITIZE_ADDRESS__
#include <sanitizer/asan_interface.h>
#endif

#define ECHO_WAIT_MS 400
#define STORAGE ((int)sizeof(struct sockaddr_storage))

static int tcp4, tcp6, udp4, udp6;
static long pagesz;
static uint8_t *guard; /* the first unmapped byte; 2 pages before it mapped */

/* ---- output -------------------------------------------------------------- */

static inline uint64_t fnv(uint64_t h, const void *p, size_t n)
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
static inline void emit(const char *name, long rc, int err, uint64_t digest,
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

/* One line for a call that only returns: errno read after it (in
 * emit(name, call(), errno, ...) the order of the two is unspecified). */
#define EMIT_RC(name, expr)                                               \
	do {                                                              \
		long rc_;                                                 \
		errno = 0;                                                \
		rc_ = (long)(expr);                                       \
		emit(name, rc_, errno, FNV0, NULL);                       \
	} while (0)

/* ---- addresses ------------------------------------------------------------ */

/* A template address of family fam for port (network order) on loopback,
 * in a zeroed storage of 256 bytes. */
static inline void template(uint8_t *buf, int fam, uint16_t port)
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
 * page (at most 2 pages of it: lengths beyond are never read whole).
 * Under the sanitizers the start is kept 4-aligned, as a sockaddr_in's
 * is (UBSan checks the library's member accesses), and the up to 3 bytes
 * between the end and the unmapped page are poisoned for ASan: every
 * byte read past len is caught either way. */
static inline struct sockaddr *guarded(const uint8_t *tpl, socklen_t len)
{
	size_t n = len < 256 ? len : 256, room = 2 * (size_t)pagesz;
	size_t span = len < room ? len : room;
	uint8_t *p;

#ifdef __SANITIZE_ADDRESS__
	__asan_unpoison_memory_region(guard - room, room);
	if (len < room)
		span = (span + 3) / 4 * 4;
#endif
	p = guard - span;
	memset(p, 0, span);
	memcpy(p, tpl, n);
#ifdef __SANITIZE_ADDRESS__
	if (len < span)
		__asan_poison_memory_region(p + len, span - len);
#endif
	return (struct sockaddr *)p;
}

static inline uint16_t port_for(int fam, int type)
{
	int p = fam == AF_INET6 ? (type == SOCK_STREAM ? tcp6 : udp6) :
				  (type == SOCK_STREAM ? tcp4 : udp4);

	return htons((uint16_t)p);
}

/* Text for an address the kernel (or the library) gave back. */
static inline void sa_text(const void *sa, socklen_t len, char *out, size_t cap)
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

static inline int sock(int fam, int type)
{
	struct timeval tv = { .tv_sec = 0, .tv_usec = ECHO_WAIT_MS * 1000 };
	int s = socket(fam, type | SOCK_CLOEXEC, 0);

	if (s >= 0) {
		setsockopt(s, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
		setsockopt(s, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	}
	return s;
}

static inline bool readable(int s, int ms)
{
	struct pollfd p = { .fd = s, .events = POLLIN };

	return poll(&p, 1, ms) == 1 && (p.revents & POLLIN);
}

/* The echo of what was just sent on s: payload and origin, as a digest
 * and text; "none" when nothing came within the wait. */
static inline void echo_line(const char *name, int s)
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
static inline void drain(int s)
{
	uint8_t buf[2048];
	int i;

	for (i = 0; i < 64 && readable(s, 0); i++)
		if (recv(s, buf, sizeof(buf), MSG_DONTWAIT) < 0)
			break;
}

static const int fams[] __attribute__((unused)) = {
	AF_UNSPEC, AF_UNIX, AF_INET, AF_INET6, AF_NETLINK, AF_PACKET, 255
};
#define NFAMS (int)(sizeof(fams) / sizeof(fams[0]))

struct kind {
	const char *name;
	int fam, type;
};

static const struct kind kinds[] __attribute__((unused)) = {
	{ "tcp4", AF_INET, SOCK_STREAM },
	{ "tcp6", AF_INET6, SOCK_STREAM },
	{ "udp4", AF_INET, SOCK_DGRAM },
	{ "udp6", AF_INET6, SOCK_DGRAM },
};

static inline bool have(const struct kind *k)
{
	return k->fam == AF_INET || (k->type == SOCK_STREAM ? tcp6 : udp6);
}

/* A socket of kind k, the echo server's address in tpl and its length in
 * *alen; connected to it when conn. -1 (errno set) when it cannot be. */
static inline int echo_socket(const struct kind *k, uint8_t *tpl,
			      socklen_t *alen, bool conn)
{
	int s, e;

	*alen = k->fam == AF_INET ? 16 : 28;
	template(tpl, k->fam, port_for(k->fam, k->type));
	s = sock(k->fam, k->type);
	if (s >= 0 && conn && connect(s, (void *)tpl, *alen)) {
		e = errno;
		close(s);
		errno = e;
		return -1;
	}
	return s;
}

/* n iovecs of one byte each over buf. */
static inline void one_byte_iovs(struct iovec *v, uint8_t *buf, int n)
{
	for (int i = 0; i < n; i++) {
		v[i].iov_base = &buf[i];
		v[i].iov_len = 1;
	}
}

static inline void after_connect(const char *name, int s, int type)
{
	struct sockaddr_storage peer;
	socklen_t plen = sizeof(peer);
	char n2[192], t[80];
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

struct dt_group {
	const char *name;
	void (*fn)(void);
};

static inline int env_port(const char *v)
{
	const char *s = getenv(v);

	return s ? atoi(s) : 0;
}

static inline int run_group(const struct dt_group *groups, size_t g)
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

/* The program's main: each named group (all without names; "list"
 * names them) in a child of its own. */
static inline int dt_main(int argc, char **argv, const struct dt_group *groups,
			  size_t ngroups)
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
		for (size_t g = 0; g < ngroups; g++)
			puts(groups[g].name);
		return 0;
	}
	if (!tcp4 || !udp4) {
		fprintf(stderr, "difftest: DT_TCP4 and DT_UDP4 must name echo ports\n");
		return 2;
	}
	/* The far descriptors (65535, 65536) need a high limit: 70000 where
	 * we may raise it (root), else the hard limit. */
	rl.rlim_cur = rl.rlim_max = 70000;
	if (setrlimit(RLIMIT_NOFILE, &rl) && getrlimit(RLIMIT_NOFILE, &rl) == 0) {
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
	for (size_t g = 0; g < ngroups; g++) {
		bool on = argc < 2;

		for (int i = 1; i < argc; i++)
			on |= !strcmp(argv[i], groups[g].name);
		if (on)
			bad |= run_group(groups, g);
	}
	return bad;
}

#endif
