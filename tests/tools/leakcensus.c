/*
 * leakcensus: every way out of a program the library must see, one row at
 * a time, against a destination reachable only through the proxy (issue
 * 18): each hooked call, the same calls by syscall() number, io_uring,
 * the asynchronous and low-level resolvers, reverse lookups. The sockets
 * SOCKS cannot carry have their own program, leakcensus-kinds.c. The wire
 * capture of the namespace test (test_leak_census.sh) is the judge of
 * leaks; this program says what each attempt gave (census.h: arguments,
 * output lines, exit codes).
 *
 * Keep it growing: every new hook and every new way out gets a row.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <resolv.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/io_uring.h>
#include <stdint.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "census.h"

/* ---- TCP connect ------------------------------------------------------ */

static int tcp_socket(int by_number)
{
	if (by_number)
		return (int)syscall(SYS_socket, AF_INET, SOCK_STREAM, 0);
	return socket(AF_INET, SOCK_STREAM, 0);
}

static int row_connect(int by_number)
{
	int fd = tcp_socket(by_number);
	long rc;

	if (fd < 0)
		return report_errno(errno);
	if (by_number)
		rc = syscall(SYS_connect, fd, &tcp_dst, sizeof(tcp_dst));
	else
		rc = connect(fd, (struct sockaddr *)&tcp_dst, sizeof(tcp_dst));
	if (rc)
		return report_errno(errno);
	if (send(fd, "census", 6, 0) != 6)
		return report_errno(errno);
	return expect_echo(fd, "census");
}

/* TCP Fast Open: the connect is the first sendto(MSG_FASTOPEN). */
static int row_tfo(int by_number)
{
	int fd = tcp_socket(by_number);
	long rc;

	if (fd < 0)
		return report_errno(errno);
	if (by_number)
		rc = syscall(SYS_sendto, fd, "census", 6, MSG_FASTOPEN | MSG_NOSIGNAL,
			     &tcp_dst, sizeof(tcp_dst));
	else
		rc = sendto(fd, "census", 6, MSG_FASTOPEN | MSG_NOSIGNAL,
			    (struct sockaddr *)&tcp_dst, sizeof(tcp_dst));
	if (rc < 0)
		return report_errno(errno);
	if (rc != 6)
		return report_fail("short send");
	return expect_echo(fd, "census");
}

/* ---- UDP sends -------------------------------------------------------- */

enum send_kind { SEND_TO, SEND_MSG, SEND_MMSG };

static int row_udp(enum send_kind kind, int by_number)
{
	int fd = by_number ? (int)syscall(SYS_socket, AF_INET, SOCK_DGRAM, 0) :
			     socket(AF_INET, SOCK_DGRAM, 0);
	struct iovec iov = { .iov_base = "census-udp", .iov_len = 10 };
	struct mmsghdr mm;
	long rc;

	if (fd < 0)
		return report_errno(errno);
	memset(&mm, 0, sizeof(mm));
	mm.msg_hdr.msg_name = &udp_dst;
	mm.msg_hdr.msg_namelen = sizeof(udp_dst);
	mm.msg_hdr.msg_iov = &iov;
	mm.msg_hdr.msg_iovlen = 1;
	switch (kind) {
	case SEND_TO:
		rc = by_number ? syscall(SYS_sendto, fd, iov.iov_base,
					 iov.iov_len, 0, &udp_dst,
					 sizeof(udp_dst)) :
				 sendto(fd, iov.iov_base, iov.iov_len, 0,
					(struct sockaddr *)&udp_dst,
					sizeof(udp_dst));
		break;
	case SEND_MSG:
		rc = by_number ? syscall(SYS_sendmsg, fd, &mm.msg_hdr, 0) :
				 sendmsg(fd, &mm.msg_hdr, 0);
		break;
	default:
		rc = by_number ? syscall(SYS_sendmmsg, fd, &mm, 1, 0) :
				 sendmmsg(fd, &mm, 1, 0);
		if (rc == 1)
			rc = 10;
		break;
	}
	if (rc < 0)
		return report_errno(errno);
	if (rc != 10)
		return report_fail("short send");
	return expect_echo(fd, "census-udp");
}

/* ---- io_uring -------------------------------------------------------- */

static int uring_setup(struct io_uring_params *p)
{
	memset(p, 0, sizeof(*p));
	return (int)syscall(SYS_io_uring_setup, 4, p);
}

static int row_uring_setup(int unused)
{
	struct io_uring_params p;
	int rfd = uring_setup(&p);

	(void)unused;
	if (rfd < 0)
		return report_errno(errno);
	close(rfd);
	return report_ok("io_uring");
}

/* IORING_OP_CONNECT on ring rfd, by hand (no liburing: its system calls
 * are its own instructions, which this row is not about). 0 when the
 * connect was submitted; the caller waits for the socket. */
static int uring_connect(int rfd, const struct io_uring_params *p, int fd)
{
	size_t sqsz = p->sq_off.array + p->sq_entries * sizeof(unsigned);
	struct io_uring_sqe *sqes, *sqe;
	unsigned *tail, *mask, *array, t, idx;
	char *sq;

	sq = mmap(NULL, sqsz, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE,
		  rfd, IORING_OFF_SQ_RING);
	sqes = mmap(NULL, p->sq_entries * sizeof(*sqes), PROT_READ | PROT_WRITE,
		    MAP_SHARED | MAP_POPULATE, rfd, IORING_OFF_SQES);
	if (sq == MAP_FAILED || sqes == MAP_FAILED)
		return -1;
	tail = (unsigned *)(sq + p->sq_off.tail);
	mask = (unsigned *)(sq + p->sq_off.ring_mask);
	array = (unsigned *)(sq + p->sq_off.array);
	t = *tail;
	idx = t & *mask;
	sqe = &sqes[idx];
	memset(sqe, 0, sizeof(*sqe));
	sqe->opcode = IORING_OP_CONNECT;
	sqe->fd = fd;
	sqe->addr = (uint64_t)(uintptr_t)&tcp_dst;
	sqe->off = sizeof(tcp_dst);
	array[idx] = idx;
	__atomic_store_n(tail, t + 1, __ATOMIC_RELEASE);
	return syscall(SYS_io_uring_enter, rfd, 1, 0, 0, NULL, 0) == 1 ? 0 : -1;
}

/* What a runtime does: io_uring when the kernel has it, else connect(). */
static int row_uring_fallback(int unused)
{
	struct io_uring_params p;
	struct pollfd pf;
	int rfd = uring_setup(&p), fd = socket(AF_INET, SOCK_STREAM, 0), rc;
	const char *how = "fallback";

	(void)unused;
	if (fd < 0)
		return report_errno(errno);
	if (rfd >= 0) {
		how = "io_uring";
		if (uring_connect(rfd, &p, fd))
			return report_errno(errno);
		pf.fd = fd;
		pf.events = POLLOUT;
		if (poll(&pf, 1, 3000) != 1)
			return report_fail("io_uring: the connect did not complete in 3 s");
	} else if (errno != ENOSYS) {
		return report_errno(errno);
	} else if (connect(fd, (struct sockaddr *)&tcp_dst, sizeof(tcp_dst))) {
		return report_errno(errno);
	}
	if (send(fd, "census", 6, MSG_NOSIGNAL) != 6)
		return report_errno(errno);
	rc = expect_echo_quiet(fd, "census");
	return rc ? rc : report_ok(how);
}

/* ---- getaddrinfo_a --------------------------------------------------- */

static int thread_pipe[2];

static void notified(union sigval v)
{
	(void)v;
	if (write(thread_pipe[1], "n", 1) != 1)
		_exit(1);
}

/* One request for HOST:TCPPORT with notification how (SIGEV_NONE with
 * GAI_WAIT, SIGEV_SIGNAL or SIGEV_THREAD with GAI_NOWAIT), checked as
 * glibc documents it; then a connect to the answer and an echo. */
static int row_gai_a(int how)
{
	struct addrinfo hints = { .ai_family = AF_INET,
				  .ai_socktype = SOCK_STREAM };
	struct gaicb req = { .ar_name = host_arg, .ar_service = tcp_port_arg,
			     .ar_request = &hints };
	struct gaicb *list[2] = { NULL, &req };
	const struct gaicb *clist[1] = { &req };
	struct timespec ts = { .tv_sec = 5 };
	struct sigevent sev;
	struct pollfd pf;
	sigset_t set;
	int rc, fd;

	memset(&sev, 0, sizeof(sev));
	sev.sigev_notify = how;
	if (how == SIGEV_SIGNAL) {
		sigemptyset(&set);
		sigaddset(&set, SIGUSR1);
		sigprocmask(SIG_BLOCK, &set, NULL);
		sev.sigev_signo = SIGUSR1;
	} else if (how == SIGEV_THREAD) {
		if (pipe(thread_pipe))
			return report_errno(errno);
		sev.sigev_notify_function = notified;
	}
	rc = getaddrinfo_a(how == SIGEV_NONE ? GAI_WAIT : GAI_NOWAIT, list, 2,
			   &sev);
	if (rc)
		return report_fail(gai_strerror(rc));
	if (how == SIGEV_SIGNAL && sigtimedwait(&set, NULL, &ts) != SIGUSR1)
		return report_fail("no SIGUSR1 within 5 s");
	if (how == SIGEV_THREAD) {
		pf.fd = thread_pipe[0];
		pf.events = POLLIN;
		if (poll(&pf, 1, 5000) != 1)
			return report_fail("no notification thread within 5 s");
	}
	/* Done: gai_suspend has nothing to wait for, gai_cancel nothing to
	 * cancel (glibc: EAI_ALLDONE for both). */
	if (gai_suspend(clist, 1, &ts) != EAI_ALLDONE)
		return report_fail("gai_suspend is not EAI_ALLDONE once done");
	if (gai_cancel(&req) != EAI_ALLDONE)
		return report_fail("gai_cancel is not EAI_ALLDONE once done");
	rc = gai_error(&req);
	if (rc)
		return report_fail(gai_strerror(rc));
	if (!req.ar_result || req.ar_result->ai_family != AF_INET)
		return report_fail("no IPv4 answer");
	fd = socket(AF_INET, SOCK_STREAM, 0);
	if (fd < 0)
		return report_errno(errno);
	if (connect(fd, req.ar_result->ai_addr, req.ar_result->ai_addrlen))
		return report_errno(errno);
	freeaddrinfo(req.ar_result);
	if (send(fd, "census", 6, MSG_NOSIGNAL) != 6)
		return report_errno(errno);
	return expect_echo(fd, "census");
}

/* ---- res_query and friends ------------------------------------------ */

static int report_herr(int herr)
{
	static const char *const names[] = { "NETDB_SUCCESS", "HOST_NOT_FOUND",
					     "TRY_AGAIN", "NO_RECOVERY",
					     "NO_DATA" };

	printf("refused %s %s\n", row_name,
	       herr >= 0 && herr <= 4 ? names[herr] : "NETDB_INTERNAL");
	return 3;
}

/* Skips a name at msg[at]: its end, or 0 when malformed. */
static size_t skip_name(const unsigned char *msg, size_t len, size_t at)
{
	while (at < len) {
		if ((msg[at] & 0xc0) == 0xc0)
			return at + 2 <= len ? at + 2 : 0;
		if (msg[at] == 0)
			return at + 1;
		at += 1 + msg[at];
	}
	return 0;
}

/* The first record of type want in answer msg, its data into out. */
static int first_answer(const unsigned char *msg, int n, int want,
			unsigned char *out, size_t outlen)
{
	size_t len = (size_t)n, at, i, an, rdlen;

	if (n < 12)
		return -1;
	an = (size_t)(msg[6] << 8 | msg[7]);
	at = skip_name(msg, len, 12);
	if (!at || at + 4 > len)
		return -1;
	at += 4;
	for (i = 0; i < an; i++) {
		at = skip_name(msg, len, at);
		if (!at || at + 10 > len)
			return -1;
		rdlen = (size_t)(msg[at + 8] << 8 | msg[at + 9]);
		if (at + 10 + rdlen > len)
			return -1;
		if ((msg[at] << 8 | msg[at + 1]) == want && rdlen == outlen) {
			memcpy(out, msg + at + 10, outlen);
			return 0;
		}
		at += 10 + rdlen;
	}
	return -1;
}

/* Connects to the A record of answer msg (n bytes), port TCPPORT, and
 * checks the echo. */
static int connect_answer(const unsigned char *msg, int n)
{
	struct sockaddr_in sin = tcp_dst;
	int fd;

	if (first_answer(msg, n, T_A, (unsigned char *)&sin.sin_addr, 4))
		return report_fail("no A record");
	fd = socket(AF_INET, SOCK_STREAM, 0);
	if (fd < 0)
		return report_errno(errno);
	if (connect(fd, (struct sockaddr *)&sin, sizeof(sin)))
		return report_errno(errno);
	if (send(fd, "census", 6, MSG_NOSIGNAL) != 6)
		return report_errno(errno);
	return expect_echo(fd, "census");
}

enum res_how { RES_QUERY, RES_SEARCH, RES_SEND };

/* An A query for HOST (by res_query, res_search or res_send), then a
 * connect to its answer; AAAA and MX: the answer's presence only. */
static int res_row(int how, int type)
{
	unsigned char msg[512], q[512];
	unsigned char a6[16];
	int n;

	if (res_init())
		return report_herr(h_errno);
	switch (how) {
	case RES_QUERY:
		n = res_query(host_arg, C_IN, type, msg, sizeof(msg));
		break;
	case RES_SEARCH:
		n = res_search(host_arg, C_IN, type, msg, sizeof(msg));
		break;
	default:
		n = res_mkquery(QUERY, host_arg, C_IN, type, NULL, 0, NULL, q,
				sizeof(q));
		if (n < 0)
			return report_fail("res_mkquery");
		n = res_send(q, n, msg, sizeof(msg));
		if (n < 0)
			return report_errno(errno);
		if (msg[3] & 0xf)
			return report_herr((msg[3] & 0xf) == 3 ? HOST_NOT_FOUND :
					   (msg[3] & 0xf) == 2 ? TRY_AGAIN :
								 NO_RECOVERY);
		break;
	}
	if (n < 0)
		return report_herr(h_errno);
	if (type == T_AAAA)
		return first_answer(msg, n, T_AAAA, a6, 16) ?
			       report_fail("no AAAA record") :
			       report_ok("aaaa");
	if (type != T_A)
		return report_ok("answered");
	return connect_answer(msg, n);
}

static int row_res_query_a(int n) { (void)n; return res_row(RES_QUERY, T_A); }
static int row_res_query_aaaa(int n) { (void)n; return res_row(RES_QUERY, T_AAAA); }
static int row_res_query_mx(int n) { (void)n; return res_row(RES_QUERY, T_MX); }
static int row_res_search_a(int n) { (void)n; return res_row(RES_SEARCH, T_A); }
static int row_res_send_a(int n) { (void)n; return res_row(RES_SEND, T_A); }
static int row_res_send_mx(int n) { (void)n; return res_row(RES_SEND, T_MX); }

/* ---- DNS to port 53 of the name server (dns/dns53.h) ------------------ */

/* The test's /etc/resolv.conf names it (test_leak_census.sh). */
#define NS_ADDR "198.51.100.53"

enum dns53_how { D53_SENDTO, D53_SYSCALL, D53_SENDMSG, D53_SENDMMSG,
		 D53_CONNECT, D53_TCP,
		 /* sent by sendto(), the answer received by number */
		 D53_SYSCALL_RECVFROM, D53_SYSCALL_RECVMSG };

/* An A query for HOST sent by a program itself to NS_ADDR:53 (UDP by
 * sendto, syscall(SYS_sendto), sendmsg, sendmmsg, or connect and send;
 * TCP with its length), its answer read (from NS_ADDR:53 for UDP), then
 * a connect to the address it gives. No answer in 3 s: ETIMEDOUT. */
static int row_dns53(int how)
{
	struct sockaddr_in ns = { .sin_family = AF_INET,
				  .sin_port = htons(53) }, from;
	unsigned char q[2 + 512], msg[2 + 512];
	struct iovec iov;
	struct mmsghdr mm;
	struct pollfd pf;
	socklen_t fl = sizeof(from);
	int n, fd, tcp = how == D53_TCP;
	long rc;

	inet_pton(AF_INET, NS_ADDR, &ns.sin_addr);
	n = res_mkquery(QUERY, host_arg, C_IN, T_A, NULL, 0, NULL, q + 2,
			sizeof(q) - 2);
	if (n < 0)
		return report_fail("res_mkquery");
	q[0] = (unsigned char)(n >> 8);
	q[1] = (unsigned char)n;
	fd = socket(AF_INET, tcp ? SOCK_STREAM : SOCK_DGRAM, 0);
	if (fd < 0)
		return report_errno(errno);
	iov.iov_base = tcp ? q : q + 2;
	iov.iov_len = (size_t)n + (tcp ? 2 : 0);
	memset(&mm, 0, sizeof(mm));
	mm.msg_hdr.msg_name = &ns;
	mm.msg_hdr.msg_namelen = sizeof(ns);
	mm.msg_hdr.msg_iov = &iov;
	mm.msg_hdr.msg_iovlen = 1;
	switch (how) {
	case D53_SENDTO:
	case D53_SYSCALL_RECVFROM:
	case D53_SYSCALL_RECVMSG:
		rc = sendto(fd, iov.iov_base, iov.iov_len, 0,
			    (struct sockaddr *)&ns, sizeof(ns));
		break;
	case D53_SYSCALL:
		rc = syscall(SYS_sendto, fd, iov.iov_base, iov.iov_len, 0, &ns,
			     sizeof(ns));
		break;
	case D53_SENDMSG:
		rc = sendmsg(fd, &mm.msg_hdr, 0);
		break;
	case D53_SENDMMSG:
		rc = sendmmsg(fd, &mm, 1, 0) == 1 ? (long)iov.iov_len : -1;
		break;
	default:
		if (connect(fd, (struct sockaddr *)&ns, sizeof(ns)))
			return report_errno(errno);
		rc = send(fd, iov.iov_base, iov.iov_len, MSG_NOSIGNAL);
		break;
	}
	if (rc < 0)
		return report_errno(errno);
	pf.fd = fd;
	pf.events = POLLIN;
	if (poll(&pf, 1, 3000) != 1)
		return report_errno(ETIMEDOUT);
	if (how == D53_SYSCALL_RECVFROM) {
		rc = syscall(SYS_recvfrom, fd, msg, sizeof(msg), 0, &from, &fl);
	} else if (how == D53_SYSCALL_RECVMSG) {
		iov.iov_base = msg;
		iov.iov_len = sizeof(msg);
		mm.msg_hdr.msg_name = &from;
		mm.msg_hdr.msg_namelen = fl;
		rc = syscall(SYS_recvmsg, fd, &mm.msg_hdr, 0);
		fl = mm.msg_hdr.msg_namelen;
	} else {
		rc = recvfrom(fd, msg, sizeof(msg), 0, (struct sockaddr *)&from,
			      &fl);
	}
	if (rc < 0)
		return report_errno(errno);
	if (!tcp && (fl != sizeof(from) || from.sin_addr.s_addr != ns.sin_addr.s_addr ||
		     from.sin_port != ns.sin_port))
		return report_fail("the answer is not from the name server");
	if (tcp && (rc < 2 || (msg[0] << 8 | msg[1]) != rc - 2))
		return report_fail("not one whole answer");
	return tcp ? connect_answer(msg + 2, (int)rc - 2) :
		     connect_answer(msg, (int)rc);
}

/* ---- reverse lookups ------------------------------------------------- */

/* The target's real address: reachable only through the proxy, not a
 * fake address, so remote DNS has no name for it. */
#define TARGET_ADDR "198.51.100.2"
/* An address the test's /etc/hosts names "hosted.test": still answered. */
#define HOSTS_ADDR "198.51.100.9"

static int report_gai(int rc)
{
	printf("refused %s %s\n", row_name,
	       rc == EAI_NONAME ? "EAI_NONAME" :
	       rc == EAI_AGAIN	? "EAI_AGAIN" : gai_strerror(rc));
	return 3;
}

static int row_getnameinfo(int flags)
{
	struct sockaddr_in sin = { .sin_family = AF_INET };
	char host[NI_MAXHOST];
	int rc;

	inet_pton(AF_INET, flags & NI_NOFQDN ? HOSTS_ADDR : TARGET_ADDR,
		  &sin.sin_addr);
	flags &= ~NI_NOFQDN;
	rc = getnameinfo((struct sockaddr *)&sin, sizeof(sin), host,
			 sizeof(host), NULL, 0, flags);
	if (rc)
		return report_gai(rc);
	return report_ok(host);
}

static int row_gethostbyaddr(int reentrant)
{
	struct hostent he, *res = NULL;
	struct in_addr a;
	char buf[1024];
	int herr = 0;

	inet_pton(AF_INET, TARGET_ADDR, &a);
	if (reentrant) {
		if (gethostbyaddr_r(&a, 4, AF_INET, &he, buf, sizeof(buf), &res,
				    &herr) && !herr)
			herr = NETDB_INTERNAL;
	} else {
		res = gethostbyaddr(&a, 4, AF_INET);
		herr = h_errno;
	}
	if (!res)
		return report_herr(herr);
	return report_ok(res->h_name);
}

/* ---- the table -------------------------------------------------------- */

static int row_sendto(int n) { return row_udp(SEND_TO, n); }
static int row_sendmsg(int n) { return row_udp(SEND_MSG, n); }
static int row_sendmmsg(int n) { return row_udp(SEND_MMSG, n); }

static const struct row rows[] = {
	{ "connect", row_connect, 0 },
	{ "syscall-connect", row_connect, 1 },
	{ "tfo-sendto", row_tfo, 0 },
	{ "syscall-tfo-sendto", row_tfo, 1 },
	{ "udp-sendto", row_sendto, 0 },
	{ "syscall-sendto", row_sendto, 1 },
	{ "udp-sendmsg", row_sendmsg, 0 },
	{ "syscall-sendmsg", row_sendmsg, 1 },
	{ "udp-sendmmsg", row_sendmmsg, 0 },
	{ "syscall-sendmmsg", row_sendmmsg, 1 },
	{ "io_uring-setup", row_uring_setup, 0 },
	{ "io_uring-fallback", row_uring_fallback, 0 },
	{ "getaddrinfo_a-wait", row_gai_a, SIGEV_NONE },
	{ "getaddrinfo_a-signal", row_gai_a, SIGEV_SIGNAL },
	{ "getaddrinfo_a-thread", row_gai_a, SIGEV_THREAD },
	{ "res_query-a", row_res_query_a, 0 },
	{ "res_query-aaaa", row_res_query_aaaa, 0 },
	{ "res_query-mx", row_res_query_mx, 0 },
	{ "res_search-a", row_res_search_a, 0 },
	{ "res_send-a", row_res_send_a, 0 },
	{ "res_send-mx", row_res_send_mx, 0 },
	{ "getnameinfo", row_getnameinfo, 0 },
	{ "getnameinfo-namereqd", row_getnameinfo, NI_NAMEREQD },
	/* NI_NOFQDN here only picks HOSTS_ADDR (it is not passed on) */
	{ "getnameinfo-hosts", row_getnameinfo, NI_NAMEREQD | NI_NOFQDN },
	{ "gethostbyaddr", row_gethostbyaddr, 0 },
	{ "gethostbyaddr_r", row_gethostbyaddr, 1 },
	{ "dns53-sendto", row_dns53, D53_SENDTO },
	{ "syscall-dns53-sendto", row_dns53, D53_SYSCALL },
	{ "dns53-sendmsg", row_dns53, D53_SENDMSG },
	{ "dns53-sendmmsg", row_dns53, D53_SENDMMSG },
	{ "dns53-connect-send", row_dns53, D53_CONNECT },
	{ "dns53-tcp", row_dns53, D53_TCP },
	{ "dns53-syscall-recvfrom", row_dns53, D53_SYSCALL_RECVFROM },
	{ "dns53-syscall-recvmsg", row_dns53, D53_SYSCALL_RECVMSG },
};

int main(int argc, char **argv)
{
	return census_main("leakcensus", rows, sizeof(rows) / sizeof(rows[0]),
			   argc, argv);
}
