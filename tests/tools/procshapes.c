/*
 * procshapes: the library's per-descriptor bookkeeping across the shapes
 * a process can take (fork from threads, _Fork and raw forks, vfork,
 * posix_spawn), for tests/integration/test_process_shapes.sh (fdreuse.c
 * has raw system calls and descriptors changed behind the library). A
 * plain program: it knows nothing of SOCKS; the test runs it with
 * libsocksify.so preloaded and a proxy that relays TCP (ADDR PORT: an
 * echo server) and UDP (ADDR UPORT: a UDP echo server).
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
 *   procshapes clonevm ADDR PORT
 *	the same close by a child of glibc's clone(CLONE_VM | CLONE_VFORK),
 *	in a process that made no vfork before.
 *   procshapes exec ADDR UPORT
 *	a relayed UDP socket (not FD_CLOEXEC) and its association survive an
 *	exec of this program ("execd ADDR UPORT FD"), which sends on it: the
 *	new image makes its own association (the old control connection is
 *	FD_CLOEXEC and gone), and datagrams come back.
 *   procshapes vforkudp ADDR UPORT
 *	a vfork child closes the parent's relayed UDP socket: the parent's
 *	association must keep its reference (a second socket's association
 *	must not take its place), datagrams still come back.
 * Output: "OK what" / "FAIL what: why" lines; exit status 0 only when
 * nothing failed. Every wait is bounded.
 */
#include "shapes.h"

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

/* What a hung child was doing, from /proc, before it is killed: running
 * (a spin) or asleep, and in which system call (a wait on the proxy), so a
 * hang under load can be told from a lock a child inherited. */
static void describe_hung(pid_t pid, int kind)
{
	static const char *const how[] = { "fork", "_Fork", "syscall(SYS_fork)" };
	char path[64], stat[512] = "", sc[128] = "", wchan[64] = "";
	const char *state;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	if ((f = fopen(path, "r"))) {
		if (!fgets(stat, sizeof(stat), f))
			stat[0] = 0;
		fclose(f);
	}
	snprintf(path, sizeof(path), "/proc/%d/syscall", (int)pid);
	if ((f = fopen(path, "r"))) {
		if (!fgets(sc, sizeof(sc), f))
			sc[0] = 0;
		fclose(f);
	}
	snprintf(path, sizeof(path), "/proc/%d/wchan", (int)pid);
	if ((f = fopen(path, "r"))) {
		if (!fgets(wchan, sizeof(wchan), f))
			wchan[0] = 0;
		fclose(f);
	}
	sc[strcspn(sc, "\n")] = 0;
	state = strrchr(stat, ')');
	printf("# hung child %d (%s): state %.1s, wchan %s, syscall %s\n", (int)pid,
	       how[kind % 3], state && state[1] ? state + 2 : "?", wchan, sc);
	if (getenv("PROCSHAPES_GDB")) { /* by hand: where it spins */
		snprintf(path, sizeof(path), "gdb -batch -p %d -ex bt 2>&1", (int)pid);
		fflush(stdout);
		if (system(path) < 0)
			perror("system");
	}
}

static int storm(const struct sockaddr_in *sa, int n,
		 const struct sockaddr_in *ua)
{
	pid_t kids[STORM_CONC] = { 0 };
	int64_t born[STORM_CONC] = { 0 };
	int kind[STORM_CONC] = { 0 };
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
					describe_hung(kids[i], kind[i]);
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
				kind[i] = started % kinds;
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

static int clone_child_close(void *arg)
{
	close(*(const int *)arg);
	return 0;
}

/* clone(CLONE_VM | CLONE_VFORK) by glibc's clone(), in a process that
 * made no vfork before (the library asks whether it runs in a child
 * sharing its memory only once such a child may exist): the child shares
 * the memory as a vfork child does, and its close must leave the
 * parent's record of s alone. */
static int clone_vm_tcp(const struct sockaddr_in *sa)
{
	static char stack[64 * 1024] __attribute__((aligned(16)));
	int s = tcp_to(sa);
	pid_t p;

	check(peer_is(s, sa), "clonevm_before", "getpeername is not the destination");
	p = clone(clone_child_close, stack + sizeof(stack),
		  CLONE_VM | CLONE_VFORK | SIGCHLD, &s);
	check(p > 0 && wait_child(p) == 0, "clonevm_child_ran", "clone failed");
	check(peer_is(s, sa), "clonevm_child_close_keeps_parent_peer",
	      "after the clone(CLONE_VM) child's close(s) the parent's getpeername() is not the destination");
	close(s);
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

static int exec_udp(const struct sockaddr_in *sa, const char *addr,
		    const char *port)
{
	int u = udp_sock();
	char fdbuf[16];
	pid_t p;

	check(udp_echo(u, sa, "before-exec"), "exec_before", "no echo");
	snprintf(fdbuf, sizeof(fdbuf), "%d", u);
	p = fork();
	if (p == 0) {
		char *argv[] = { "procshapes", "execd", (char *)addr,
				 (char *)port, fdbuf, NULL };

		execve("/proc/self/exe", argv, environ);
		_exit(127);
	}
	check(p > 0 && wait_child(p) == 0, "exec_child_echo",
	      "the exec'd image's datagrams on the inherited socket did not come back");
	check(udp_echo(u, sa, "parent-after-exec"), "exec_parent_still_echo", "no echo");
	close(u);
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
	} else if (argc >= 4 && !strcmp(argv[1], "clonevm")) {
		sa = dest(argv[2], argv[3]);
		clone_vm_tcp(&sa);
	} else if (argc >= 4 && !strcmp(argv[1], "exec")) {
		sa = dest(argv[2], argv[3]);
		exec_udp(&sa, argv[2], argv[3]);
	} else if (argc >= 5 && !strcmp(argv[1], "execd")) {
		int u = atoi(argv[4]);

		sa = dest(argv[2], argv[3]);
		/* the old control connection went with the old image */
		return udp_echo(u, &sa, "after-exec") && find_ctl() >= 0 &&
				       count_ctl() == 1 ? 0 : 1;
	} else if (argc >= 4 && !strcmp(argv[1], "vforkudp")) {
		sa = dest(argv[2], argv[3]);
		vfork_udp(&sa);
	} else {
		fprintf(stderr, "usage: see the top of tests/tools/procshapes.c\n");
		return 2;
	}
	return fails ? 1 : 0;
}
