/*
 * procshapes: the library's per-descriptor bookkeeping across every shape
 * a process can take (fork from threads, vfork, posix_spawn, raw system
 * calls, descriptors arriving over SCM_RIGHTS), for
 * tests/integration/test_process_shapes.sh. A plain program: it knows
 * nothing of SOCKS; the test runs it with libsocksify.so preloaded and a
 * proxy that relays TCP (ADDR PORT: an echo server) and UDP (ADDR UPORT:
 * a UDP echo server).
 *
 *   procshapes forkstorm ADDR PORT N [UPORT]
 *	a proxied TCP socket; one thread loops dup2(s, 50); close(50) while
 *	the main thread forks N children (8 alive at once) that each do the
 *	same once and exit: fork(), _Fork() and syscall(SYS_fork) in turn
 *	(the last two run no pthread_atfork handler); only fork() when the
 *	environment has PROCSHAPES_FORK_ONLY=1 (ThreadSanitizer's runtime
 *	cannot follow a fork it does not intercept). With UPORT, a relayed UDP socket too: a second
 *	thread loops dup2(u, 51); close(51) (the association's references)
 *	and sends to two destinations in turn (its shared state), and each
 *	child does the same once. Every child must exit within 5 s (a child that
 *	inherited a writer's lock of the descriptor table spins forever):
 *	a child still alive then is killed by its pid and counted as hung.
 *   procshapes vfork ADDR PORT
 *	a vfork child closes the parent's proxied socket and exits: the
 *	parent's getpeername() still shows the destination (not the proxy);
 *	the same with posix_spawn closing and dup2'ing over it. With
 *	SOCKSIFY_LOG_FILE set (and SOCKSIFY_LOG=info): a vfork child's
 *	dup2() onto the log file's descriptor leaves the parent's log where
 *	it was (its next lines are in the file, none in the child's file).
 *   procshapes vforkudp ADDR UPORT
 *	a vfork child closes the parent's relayed UDP socket: the parent's
 *	association must keep its reference (a second socket's association
 *	must not take its place), datagrams still come back.
 *   procshapes rawsys ADDR PORT UPORT
 *	close, dup2, dup3 and close_range through syscall(): the bookkeeping
 *	follows (getpeername of a number reused after a raw close shows the
 *	kernel's peer; a raw dup2 over a proxied socket's number; a raw
 *	close_range closes the program's descriptors but not the library's).
 *   procshapes ctlreuse ADDR UPORT
 *	the UDP association's control connection closed behind the library's
 *	back (raw close, fclose of an fdopen'd copy) and its number taken by
 *	the program's file: closing the UDP socket must not close that file.
 *   procshapes stalenum ADDR UPORT
 *	a relayed UDP socket closed where the library cannot see it, and its
 *	number taken by F_DUPFD (libc and raw), dup, accept4 and socket: each
 *	time the dead socket's association is released (no control
 *	connection left open) and the new descriptor works.
 *   procshapes scmrights ADDR UPORT
 *	a relayed UDP socket closed where the library cannot see it, and a
 *	new UDP socket received over SCM_RIGHTS on the same number: its
 *	datagrams must come back (recvmsg(), then syscall(SYS_recvmsg)).
 *
 * Output: "OK what" / "FAIL what: why" lines; exit status 0 only when
 * nothing failed. Every wait is bounded.
 */
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

static void check(bool ok, const char *what, const char *why)
{
	if (ok) {
		printf("OK %s\n", what);
	} else {
		printf("FAIL %s: %s\n", what, why);
		fails++;
	}
	fflush(stdout);
}

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static struct sockaddr_in dest(const char *addr, const char *port)
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

static int tcp_to(const struct sockaddr_in *sa)
{
	int s = socket(AF_INET, SOCK_STREAM, 0);

	if (s < 0 || connect(s, (const struct sockaddr *)sa, sizeof(*sa)) < 0) {
		perror("connect");
		exit(2);
	}
	return s;
}

/* getpeername(s) is sa. */
static bool peer_is(int s, const struct sockaddr_in *sa)
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
static bool udp_echo(int u, const struct sockaddr_in *sa, const char *msg)
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

static int udp_sock(void)
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
static int find_ctl(void)
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
static int count_ctl(void)
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

static bool fd_open(int fd)
{
	return fcntl(fd, F_GETFD) >= 0;
}

/* A scratch file the program owns, with a known first byte. */
static int scratch(void)
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
static bool is_scratch(int fd)
{
	char c = 0;

	return pread(fd, &c, 1, 0) == 1 && c == 'P';
}

/* ------------------------------------------------------------------ */

static atomic_bool stop;
static int storm_fd, storm_udp = -1;
static struct sockaddr_in storm_dst[2];

static void *dup_loop(void *arg)
{
	(void)arg;
	while (!atomic_load(&stop)) {
		dup2(storm_fd, 50);
		close(50);
	}
	return NULL;
}

static void udp_churn(int i)
{
	dup2(storm_udp, 51);
	close(51);
	sendto(storm_udp, "x", 1, MSG_DONTWAIT,
	       (const struct sockaddr *)&storm_dst[i & 1], sizeof(storm_dst[0]));
}

static void *udp_loop(void *arg)
{
	int i = 0;

	(void)arg;
	while (!atomic_load(&stop)) {
		udp_churn(i++);
		recv(storm_udp, (char[64]){ 0 }, 64, MSG_DONTWAIT);
	}
	return NULL;
}

#define STORM_CONC 8
#define STORM_CHILD_MS 5000

static int storm(const struct sockaddr_in *sa, int n,
		 const struct sockaddr_in *ua)
{
	pid_t kids[STORM_CONC] = { 0 };
	int64_t born[STORM_CONC] = { 0 };
	int started = 0, done = 0, hung = 0, bad = 0, i, st;
	int64_t t0 = now_ms(), end = t0 + 120000;
	pthread_t th, uth;
	char why[160];
	int kinds = getenv("PROCSHAPES_FORK_ONLY") ? 1 : 3;

	storm_fd = tcp_to(sa);
	if (ua) {
		storm_udp = udp_sock();
		storm_dst[0] = *ua;
		storm_dst[1] = *ua;
		storm_dst[1].sin_port = htons(ntohs(ua->sin_port) ^ 1);
		check(udp_echo(storm_udp, ua, "storm"), "forkstorm_udp_before",
		      "no echo");
		if (pthread_create(&uth, NULL, udp_loop, NULL))
			exit(2);
	}
	if (pthread_create(&th, NULL, dup_loop, NULL))
		exit(2);
	while (done < n && now_ms() < end) {
		for (i = 0; i < STORM_CONC; i++) {
			if (kids[i] > 0) {
				pid_t w = waitpid(kids[i], &st, WNOHANG);

				if (w == kids[i]) {
					if (!WIFEXITED(st) || WEXITSTATUS(st))
						bad++;
					kids[i] = 0;
					done++;
				} else if (now_ms() - born[i] > STORM_CHILD_MS) {
					kill(kids[i], SIGKILL);
					waitpid(kids[i], &st, 0);
					kids[i] = 0;
					hung++;
					done++;
				}
			}
			if (kids[i] == 0 && started < n) {
				pid_t p = started % kinds == 0 ? fork() :
					  started % kinds == 1 ? _Fork() :
								 (pid_t)syscall(SYS_fork);

				if (p == 0) {
					dup2(storm_fd, 50);
					close(50);
					if (storm_udp >= 0)
						udp_churn(started);
					_exit(peer_is(storm_fd, sa) ? 0 : 3);
				}
				if (p < 0) {
					usleep(1000);
					continue;
				}
				kids[i] = p;
				born[i] = now_ms();
				started++;
			}
		}
		usleep(200);
	}
	atomic_store(&stop, true);
	pthread_join(th, NULL);
	if (ua) {
		pthread_join(uth, NULL);
		check(udp_echo(storm_udp, ua, "storm-after"),
		      "forkstorm_udp_after", "no echo");
		close(storm_udp);
	}
	for (i = 0; i < STORM_CONC; i++)
		if (kids[i] > 0) {
			kill(kids[i], SIGKILL);
			waitpid(kids[i], &st, 0);
			hung++;
		}
	snprintf(why, sizeof(why), "%d of %d children hung, %d failed, %d done",
		 hung, n, bad, done);
	printf("# forkstorm: %d children in %lld ms, %d hung, %d failed\n", n,
	       (long long)(now_ms() - t0), hung, bad);
	check(hung == 0 && bad == 0 && done == n, "forkstorm", why);
	return 0;
}

/* ------------------------------------------------------------------ */

static int wait_child(pid_t p)
{
	int st, i;

	for (i = 0; i < 500; i++) {
		if (waitpid(p, &st, WNOHANG) == p)
			return WIFEXITED(st) ? WEXITSTATUS(st) : 128;
		usleep(10000);
	}
	kill(p, SIGKILL);
	waitpid(p, &st, 0);
	return 255;
}

/* The descriptor at 100 or above open on path, or -1. Not inlined into
 * vfork()'s caller. */
static __attribute__((noinline)) int fd_of_path(const char *path)
{
	char p[64], link[4096];
	int fd;
	ssize_t n;

	for (fd = 100; fd < 1024; fd++) {
		snprintf(p, sizeof(p), "/proc/self/fd/%d", fd);
		n = readlink(p, link, sizeof(link) - 1);
		if (n > 0) {
			link[n] = 0;
			if (!strcmp(link, path))
				return fd;
		}
	}
	return -1;
}

static off_t file_size(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0 ? st.st_size : -1;
}

static void vfork_log(const struct sockaddr_in *sa)
{
	const char *path = getenv("SOCKSIFY_LOG_FILE");
	char real[4096];
	int logfd, f, s;
	off_t before;
	pid_t p;

	if (!path || !realpath(path, real))
		return;
	s = tcp_to(sa); /* a line in the log, and the log file opened */
	close(s);
	logfd = fd_of_path(real);
	check(logfd >= 0, "vfork_log_fd_found", "no descriptor open on the log file");
	if (logfd < 0)
		return;
	f = scratch();
	p = vfork();
	if (p == 0) {
		dup2(f, logfd);
		_exit(0);
	}
	check(p > 0 && wait_child(p) == 0, "vfork_log_child_ran", "vfork failed");
	before = file_size(real);
	s = tcp_to(sa);
	close(s);
	check(file_size(real) > before && lseek(f, 0, SEEK_END) == 1,
	      "vfork_child_dup2_onto_log_keeps_parent_log",
	      "after a vfork child's dup2() onto the log descriptor the parent's log lines went elsewhere");
	close(f);
}

static int vfork_tcp(const struct sockaddr_in *sa)
{
	int s = tcp_to(sa), other = tcp_to(sa), rc;
	char *argv[] = { "/bin/true", NULL };
	posix_spawn_file_actions_t fa;
	pid_t p;

	check(peer_is(s, sa), "vfork_before", "getpeername is not the destination");
	p = vfork();
	if (p == 0) {
		close(s);
		dup2(other, s + 1 == other ? s + 2 : s + 1);
		_exit(0);
	}
	check(p > 0 && wait_child(p) == 0, "vfork_child_ran", "vfork failed");
	check(peer_is(s, sa), "vfork_child_close_keeps_parent_peer",
	      "after the vfork child's close(s) the parent's getpeername() is not the destination");
	p = vfork();
	if (p == 0) {
		dup2(other, s);
		close(other);
		_exit(0);
	}
	check(p > 0 && wait_child(p) == 0, "vfork_child2_ran", "vfork failed");
	check(peer_is(s, sa) && peer_is(other, sa),
	      "vfork_child_dup2_keeps_parent_peer",
	      "after the vfork child's dup2(other, s) the parent's getpeername() is not the destination");
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addclose(&fa, s);
	posix_spawn_file_actions_adddup2(&fa, other, s);
	rc = posix_spawn(&p, argv[0], &fa, NULL, argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	check(rc == 0 && wait_child(p) == 0, "posix_spawn_ran", "posix_spawn failed");
	check(peer_is(s, sa), "posix_spawn_close_keeps_parent_peer",
	      "after posix_spawn closed s in the child the parent's getpeername() is not the destination");
	close(s);
	close(other);
	vfork_log(sa);
	return 0;
}

static int vfork_udp(const struct sockaddr_in *sa)
{
	int u = udp_sock(), u2;
	pid_t p;

	check(udp_echo(u, sa, "before-vfork"), "vforkudp_before", "no echo");
	p = vfork();
	if (p == 0) {
		close(u);
		_exit(0);
	}
	check(p > 0 && wait_child(p) == 0, "vforkudp_child_ran", "vfork failed");
	/* A second association: must not take the first one's entry. */
	u2 = udp_sock();
	check(udp_echo(u2, sa, "second-socket"), "vforkudp_second", "no echo");
	check(udp_echo(u, sa, "after-vfork"), "vforkudp_child_close_keeps_association",
	      "no echo on the parent's socket after a vfork child closed it");
	close(u2);
	close(u);
	/* Both released: no control connection left open in the parent. */
	check(find_ctl() < 0, "vforkudp_no_control_connection_leaked",
	      "a control connection is still open after both sockets closed");
	return 0;
}

/* ------------------------------------------------------------------ */

static int rawsys(const struct sockaddr_in *tsa, const struct sockaddr_in *usa)
{
	int s, f, u, ctl, t;
	struct sockaddr_in other;

	/* Raw close, then the number reused by a direct connection: its
	 * getpeername is the kernel's. */
	s = tcp_to(tsa);
	check(peer_is(s, tsa), "raw_before", "getpeername is not the destination");
	check(syscall(SYS_close, s) == 0, "raw_close_ok", "syscall(SYS_close) failed");
	check(!fd_open(s), "raw_close_closes", "the descriptor is still open");

	/* Raw dup2 of a file over a proxied socket: the number is the
	 * file's now; the library must not treat it as a socket of its own. */
	s = tcp_to(tsa);
	f = scratch();
	check(syscall(SYS_dup2, f, s) == s, "raw_dup2_ok", "syscall(SYS_dup2) failed");
	{
		struct sockaddr_in p;
		socklen_t l = sizeof(p);
		int rc = getpeername(s, (struct sockaddr *)&p, &l);

		check(rc < 0 && errno == ENOTSOCK, "raw_dup2_getpeername_enotsock",
		      "getpeername() on the file dup2'd over a proxied socket did not fail with ENOTSOCK");
	}
	/* Raw dup3 of a proxied socket onto a new number: a copy with the
	 * same record (getpeername shows the destination). */
	t = tcp_to(tsa);
	check(syscall(SYS_dup3, t, 60, O_CLOEXEC) == 60, "raw_dup3_ok", "syscall(SYS_dup3) failed");
	check(peer_is(60, tsa), "raw_dup3_copy_keeps_peer",
	      "getpeername() on a raw dup3 copy is not the destination");
	close(60);
	close(t);
	close(s);
	close(f);

	/* The UDP association's control connection and raw dup2 onto it:
	 * the library moves it away first, as for dup2(). */
	u = udp_sock();
	check(udp_echo(u, usa, "raw-1"), "raw_udp_before", "no echo");
	ctl = find_ctl();
	check(ctl >= 0, "raw_udp_ctl_found", "no control connection at >= 100");
	f = scratch();
	if (ctl >= 0) {
		check(syscall(SYS_dup2, f, ctl) == ctl, "raw_dup2_onto_ctl_ok",
		      "syscall(SYS_dup2) onto the control number failed");
		check(udp_echo(u, usa, "raw-2"), "raw_dup2_onto_ctl_keeps_association",
		      "no echo after a raw dup2 onto the control connection's number");
		close(u);
		check(is_scratch(ctl), "raw_dup2_onto_ctl_file_survives",
		      "closing the UDP socket closed the program's file");
		close(ctl);
	} else {
		close(u);
	}
	close(f);

	/* Raw close_range(3, ~0U, 0): the program's descriptors go, and
	 * the library's state for them. */
	u = udp_sock();
	check(udp_echo(u, usa, "raw-3"), "raw_udp2_before", "no echo");
	s = tcp_to(tsa);
	check(syscall(SYS_close_range, 3, ~0U, 0) == 0, "raw_close_range_ok",
	      "syscall(SYS_close_range) failed");
	check(!fd_open(u) && !fd_open(s), "raw_close_range_closes",
	      "the program's descriptors are still open");
	/* A fresh direct-looking socket on s's old number: no record. */
	other = *tsa;
	t = tcp_to(tsa);
	check(peer_is(t, &other), "raw_close_range_new_socket_ok",
	      "getpeername() of a new socket on a swept number is wrong");
	close(t);
	return 0;
}

/* ------------------------------------------------------------------ */

static int ctlreuse(const struct sockaddr_in *sa)
{
	int u, ctl, f, g;
	FILE *fp;

	/* A raw close of the control connection, the file put on its
	 * number with F_DUPFD (which looks for the lowest free number from
	 * there). */
	u = udp_sock();
	check(udp_echo(u, sa, "ctl-1"), "ctlreuse_before", "no echo");
	ctl = find_ctl();
	check(ctl >= 0, "ctlreuse_ctl_found", "no control connection at >= 100");
	if (ctl < 0)
		return 0;
	syscall(SYS_close, ctl);
	f = scratch();
	g = fcntl(f, F_DUPFD, ctl);
	close(f);
	close(u);
	check(is_scratch(g), "raw_close_ctl_then_reuse_file_survives",
	      "closing the UDP socket closed the program's file on the control connection's old number");
	close(g);

	/* The same with an fclose() of an fdopen'd control connection:
	 * libc's internal close, which no hook sees. */
	u = udp_sock();
	check(udp_echo(u, sa, "ctl-2"), "ctlreuse2_before", "no echo");
	ctl = find_ctl();
	check(ctl >= 0, "ctlreuse2_ctl_found", "no control connection at >= 100");
	if (ctl < 0)
		return 0;
	fp = fdopen(ctl, "r");
	if (fp)
		fclose(fp);
	f = scratch();
	g = fcntl(f, F_DUPFD, ctl);
	close(f);
	close(u);
	check(g == ctl && is_scratch(g), "fclose_ctl_then_reuse_file_survives",
	      "closing the UDP socket closed the program's file on the control connection's old number");
	close(g);
	return 0;
}

/* ------------------------------------------------------------------ */

/* A relayed UDP socket, closed where no hook sees it: its number, with
 * the state it left. */
static int dead_udp(const struct sockaddr_in *sa, const char *what)
{
	int u = udp_sock();
	FILE *fp;

	check(udp_echo(u, sa, what), what, "no echo");
	fp = fdopen(u, "r");
	if (fp)
		fclose(fp);
	return u;
}

static int stalenum(const struct sockaddr_in *sa)
{
	struct sockaddr_in la = { .sin_family = AF_INET,
				  .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t ll = sizeof(la);
	int n, f, g, l, c, base = count_ctl();

	f = scratch();
	n = dead_udp(sa, "stale_fdupfd_before");
	g = fcntl(f, F_DUPFD, n);
	check(g == n && is_scratch(g) && count_ctl() == base,
	      "stale_fdupfd_releases_association",
	      "F_DUPFD onto a dead relayed socket's number left its control connection open");
	close(g);

	base = count_ctl();
	n = dead_udp(sa, "stale_raw_fdupfd_before");
	g = (int)syscall(SYS_fcntl, f, F_DUPFD_CLOEXEC, n);
	check(g == n && is_scratch(g) && count_ctl() == base,
	      "stale_raw_fdupfd_releases_association",
	      "syscall(SYS_fcntl, F_DUPFD_CLOEXEC) onto a dead relayed socket's number left its control connection open");
	close(g);

	base = count_ctl();
	n = dead_udp(sa, "stale_dup_before");
	g = dup(f);
	check(g == n && is_scratch(g) && count_ctl() == base,
	      "stale_dup_releases_association",
	      "dup() onto a dead relayed socket's number left its control connection open");
	close(g);
	close(f);

	l = socket(AF_INET, SOCK_STREAM, 0);
	if (l < 0 || bind(l, (struct sockaddr *)&la, sizeof(la)) < 0 ||
	    listen(l, 4) < 0 || getsockname(l, (struct sockaddr *)&la, &ll) < 0)
		exit(2);
	/* Made behind the library's back (a direct connection to our own
	 * listener, whatever the policy says about loopback). */
	c = (int)syscall(SYS_socket, AF_INET, SOCK_STREAM, 0);
	if (c < 0 || syscall(SYS_connect, c, &la, sizeof(la)) < 0)
		exit(2);
	base = count_ctl();
	n = dead_udp(sa, "stale_accept_before");
	g = accept4(l, NULL, NULL, SOCK_CLOEXEC);
	check(g == n && count_ctl() == base, "stale_accept4_releases_association",
	      "accept4() onto a dead relayed socket's number left its control connection open");
	close(g);
	close(c);

	/* A TCP socket made by syscall(SYS_socket) on the number: its bytes
	 * must go out as written (no relay header), in and out. */
	base = count_ctl();
	n = dead_udp(sa, "stale_raw_socket_before");
	c = (int)syscall(SYS_socket, AF_INET, SOCK_STREAM, 0);
	if (c < 0 || syscall(SYS_connect, c, &la, sizeof(la)) < 0)
		exit(2);
	g = accept(l, NULL, NULL);
	fcntl(c, F_SETFL, O_NONBLOCK); /* a read that the library holds fails */
	{
		char buf[16] = { 0 };
		struct pollfd p = { .fd = g, .events = POLLIN };
		bool ok = write(c, "hello", 5) == 5 && poll(&p, 1, IO_TIMEOUT_MS) == 1 &&
			  read(g, buf, sizeof(buf)) == 5 && !memcmp(buf, "hello", 5);

		ok = ok && write(g, "world", 5) == 5;
		p.fd = c;
		memset(buf, 0, sizeof(buf));
		ok = ok && poll(&p, 1, IO_TIMEOUT_MS) == 1 &&
		     read(c, buf, sizeof(buf)) == 5 && !memcmp(buf, "world", 5);
		check(c == n && ok && count_ctl() == base,
		      "stale_raw_socket_stream_intact",
		      "a TCP socket made by syscall(SYS_socket) on a dead relayed socket's number: bytes changed or lost, or its control connection left open");
	}
	close(g);
	close(c);
	close(l);

	base = count_ctl();
	n = dead_udp(sa, "stale_socket_before");
	g = udp_sock();
	check(g == n && count_ctl() == base && udp_echo(g, sa, "stale-socket"),
	      "stale_socket_releases_association",
	      "socket() onto a dead relayed socket's number left its control connection open, or its datagrams are lost");
	close(g);
	return 0;
}

/* ------------------------------------------------------------------ */

static int send_fd(int sock, int fd)
{
	char c = 'x', cbuf[CMSG_SPACE(sizeof(int))];
	struct iovec iov = { .iov_base = &c, .iov_len = 1 };
	struct msghdr m;
	struct cmsghdr *cm;

	memset(&m, 0, sizeof(m));
	memset(cbuf, 0, sizeof(cbuf));
	m.msg_iov = &iov;
	m.msg_iovlen = 1;
	m.msg_control = cbuf;
	m.msg_controllen = sizeof(cbuf);
	cm = CMSG_FIRSTHDR(&m);
	cm->cmsg_level = SOL_SOCKET;
	cm->cmsg_type = SCM_RIGHTS;
	cm->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(cm), &fd, sizeof(int));
	return sendmsg(sock, &m, 0) == 1 ? 0 : -1;
}

/* One descriptor received with recvmsg(), or with syscall(SYS_recvmsg)
 * when raw. */
static int recv_fd(int sock, bool raw)
{
	char c, cbuf[CMSG_SPACE(sizeof(int))];
	struct iovec iov = { .iov_base = &c, .iov_len = 1 };
	struct msghdr m;
	struct cmsghdr *cm;
	int fd = -1;

	memset(&m, 0, sizeof(m));
	m.msg_iov = &iov;
	m.msg_iovlen = 1;
	m.msg_control = cbuf;
	m.msg_controllen = sizeof(cbuf);
	if ((raw ? syscall(SYS_recvmsg, sock, &m, 0) : recvmsg(sock, &m, 0)) != 1)
		return -1;
	cm = CMSG_FIRSTHDR(&m);
	if (cm && cm->cmsg_type == SCM_RIGHTS)
		memcpy(&fd, CMSG_DATA(cm), sizeof(int));
	return fd;
}

static int scmrights(const struct sockaddr_in *sa, bool raw)
{
	int sp[2], u1, u2, got;
	FILE *fp;
	char what[64];

	if (socketpair(AF_UNIX, SOCK_DGRAM, 0, sp) < 0)
		exit(2);
	u1 = udp_sock();
	check(udp_echo(u1, sa, "scm-1"), "scm_before", "no echo");
	u2 = udp_sock();
	check(send_fd(sp[0], u2) == 0, "scm_send", "sendmsg SCM_RIGHTS failed");
	close(u2);
	/* u1 closed where no hook sees it: its state stays behind. */
	fp = fdopen(u1, "r");
	if (fp)
		fclose(fp);
	got = recv_fd(sp[1], raw);
	check(got == u1, raw ? "scm_raw_lands_on_stale_number" : "scm_lands_on_stale_number",
	      "the received socket is elsewhere");
	snprintf(what, sizeof(what), "scm_%sreceived_socket_echo", raw ? "raw_" : "");
	check(got >= 0 && udp_echo(got, sa, "scm-2"), what,
	      "no echo on a UDP socket received over SCM_RIGHTS onto a number with stale state");
	close(got);
	close(sp[0]);
	close(sp[1]);
	return 0;
}

int main(int argc, char **argv)
{
	struct sockaddr_in sa, ua;

	setvbuf(stdout, NULL, _IOLBF, 0);
	if (argc >= 5 && !strcmp(argv[1], "forkstorm")) {
		sa = dest(argv[2], argv[3]);
		if (argc >= 6)
			ua = dest(argv[2], argv[5]);
		storm(&sa, atoi(argv[4]), argc >= 6 ? &ua : NULL);
	} else if (argc >= 4 && !strcmp(argv[1], "vfork")) {
		sa = dest(argv[2], argv[3]);
		vfork_tcp(&sa);
	} else if (argc >= 4 && !strcmp(argv[1], "vforkudp")) {
		sa = dest(argv[2], argv[3]);
		vfork_udp(&sa);
	} else if (argc >= 5 && !strcmp(argv[1], "rawsys")) {
		sa = dest(argv[2], argv[3]);
		ua = dest(argv[2], argv[4]);
		rawsys(&sa, &ua);
	} else if (argc >= 4 && !strcmp(argv[1], "ctlreuse")) {
		sa = dest(argv[2], argv[3]);
		ctlreuse(&sa);
	} else if (argc >= 4 && !strcmp(argv[1], "stalenum")) {
		sa = dest(argv[2], argv[3]);
		stalenum(&sa);
	} else if (argc >= 4 && !strcmp(argv[1], "scmrights")) {
		sa = dest(argv[2], argv[3]);
		scmrights(&sa, false);
		scmrights(&sa, true);
	} else {
		fprintf(stderr, "usage: see the top of tests/tools/procshapes.c\n");
		return 2;
	}
	return fails ? 1 : 0;
}
