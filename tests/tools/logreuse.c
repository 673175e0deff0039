/*
 * logreuse: the library's log file must never be written through a
 * descriptor number that is no longer the log file (issue 11, defect 4).
 * Run with libsocksify.so preloaded, SOCKSIFY_PROXY naming a proxy that
 * refuses connections (each connect() then writes one warn line),
 * SOCKSIFY_NO_PROXY= and SOCKSIFY_LOG_FILE=LOG.
 *
 *   logreuse MODE LOG DATA PORT
 *
 * MODE close_range | close | dup2 | dup3: the program logs once, takes the
 *   log file's number away with a system call the library never sees (the
 *   instruction itself, as a static helper, inline assembly or io_uring
 *   would; syscall() by number goes through the library's bookkeeping,
 *   test_process_shapes covers that), puts its own file DATA
 *   on that number, makes the library log again, writes its own bytes,
 *   closes its file with close() (which must really close it) and checks
 *   DATA holds only its own bytes.
 * MODE race: two threads log without pause while the main thread, 2000
 *   times, dup2()s DATA onto the log's current number (the library moves
 *   its log away first), writes one line there and closes it: DATA must
 *   hold only the program's lines (a log write that loaded the old number
 *   must not land after the move).
 * MODE vfork: a vfork() child dup2()s DATA onto the log's number and
 *   exits; the parent's log must go on in the log file (the child's dup2
 *   replaced only the child's copy of the descriptor).
 * MODE stalled_move (x86_64): the same race made certain. A seccomp
 *   filter traps the library's write(2) to the log's number at its entry;
 *   the SIGSYS handler (in the logging thread) holds the write there
 *   until the main thread's dup2() onto the log's number is done (at most
 *   500 ms), then makes the write with the number it was given. The
 *   library's move must wait for that write before giving the number up,
 *   so the line lands in the log, never in DATA.
 *
 * Prints "OK ..." or "FAIL why" and exits 0 / 1. Bounded in count and
 * time (connects go to 127.0.0.1, refused at once).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <stddef.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <ucontext.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "unseen.h"

#define OWN_LINE "program data\n"
#define RACE_ROUNDS 2000

static int port;
static atomic_bool stop;

/* One connect() to the refusing proxy's destination: one warn line. */
static void make_log_line(void)
{
	struct sockaddr_in in;
	int s = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	if (s < 0)
		return;
	memset(&in, 0, sizeof(in));
	in.sin_family = AF_INET;
	in.sin_port = htons((uint16_t)port);
	in.sin_addr.s_addr = htonl(0x7f000001);
	(void)connect(s, (struct sockaddr *)&in, sizeof(in));
	close(s);
}

/* The descriptor that holds path (the library's log file), or -1. */
static int fd_of(const char *path, int from)
{
	char link[64], target[4096];
	struct stat want, st;
	int fd;

	if (stat(path, &want) < 0)
		return -1;
	for (fd = from; fd < from + 4096; fd++) {
		snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
		if (readlink(link, target, sizeof(target)) < 0)
			continue;
		if (fstat(fd, &st) == 0 && st.st_dev == want.st_dev &&
		    st.st_ino == want.st_ino)
			return fd;
	}
	return -1;
}

static long file_size(const char *path)
{
	struct stat st;

	return stat(path, &st) < 0 ? -1 : (long)st.st_size;
}

/* DATA holds only lines equal to OWN_LINE, n of them. */
static int check_data(const char *data, long n)
{
	char buf[65536];
	FILE *f = fopen(data, "r");
	long lines = 0;

	if (!f) {
		printf("FAIL cannot read %s\n", data);
		return 1;
	}
	while (fgets(buf, sizeof(buf), f)) {
		if (strcmp(buf, OWN_LINE) != 0) {
			printf("FAIL foreign line in the program's file: %s", buf);
			fclose(f);
			return 1;
		}
		lines++;
	}
	fclose(f);
	if (lines != n) {
		printf("FAIL %ld lines of the program's, want %ld\n", lines, n);
		return 1;
	}
	return 0;
}

/* Puts DATA on number logfd after an unseen system call of MODE took it
 * away; the descriptor DATA is on, or -1. */
static int take_number(const char *mode, int logfd, const char *data)
{
	long rc;
	int d, i;

	if (strcmp(mode, "dup2") == 0 || strcmp(mode, "dup3") == 0) {
		d = open(data, O_WRONLY | O_CREAT | O_TRUNC | O_APPEND, 0600);
		if (d < 0)
			return -1;
#ifdef SYS_dup2
		if (strcmp(mode, "dup2") == 0)
			rc = unseen(SYS_dup2, d, logfd, 0);
		else
#endif
			rc = unseen(SYS_dup3, d, logfd, 0);
		unseen(SYS_close, d, 0, 0);
		return (int)rc;
	}
	if (strcmp(mode, "close_range") == 0)
		rc = unseen(SYS_close_range, 3, (long)~0U, 0);
	else if (strcmp(mode, "close") == 0)
		rc = unseen(SYS_close, logfd, 0, 0);
	else
		rc = -1;
	if (rc < 0)
		return -1;
	/* Every free number below logfd taken (and kept), so that DATA
	 * lands on the log's old number. */
	for (i = 0; i < 4096; i++) {
		d = open("/dev/null", O_RDONLY);
		if (d < 0 || d >= logfd - 1)
			break;
	}
	if (d >= logfd)
		return -1;
	return open(data, O_WRONLY | O_CREAT | O_TRUNC | O_APPEND, 0600);
}

static int one_mode(const char *mode, const char *log, const char *data)
{
	long before, after;
	int logfd, d;

	make_log_line();
	logfd = fd_of(log, 3);
	before = file_size(log);
	if (logfd < 0 || before <= 0) {
		printf("FAIL the library did not log to %s (fd %d, %ld bytes)\n",
		       log, logfd, before);
		return 1;
	}
	d = take_number(mode, logfd, data);
	if (d != logfd) {
		printf("FAIL could not put the program's file on %d (got %d: %s)\n",
		       logfd, d, strerror(errno));
		return 1;
	}
	make_log_line();
	if (write(d, OWN_LINE, strlen(OWN_LINE)) != (ssize_t)strlen(OWN_LINE)) {
		printf("FAIL write: %s\n", strerror(errno));
		return 1;
	}
	if (check_data(data, 1))
		return 1;
	/* The number is the program's now: close() closes it. */
	if (close(d) != 0 || fcntl(d, F_GETFD) != -1 || errno != EBADF) {
		printf("FAIL close(%d) of the program's file did not close it\n",
		       d);
		return 1;
	}
	after = file_size(log);
	printf("OK %s: fd %d; log %ld -> %ld bytes\n", mode, logfd, before,
	       after);
	return 0;
}

static void *logger(void *arg)
{
	(void)arg;
	while (!atomic_load(&stop))
		make_log_line();
	return NULL;
}

static int race(const char *log, const char *data)
{
	pthread_t t[2];
	struct timespec t0, t1;
	int i, logfd = 3, d, rc = 0, moved = 0;

	make_log_line();
	d = open(data, O_WRONLY | O_CREAT | O_TRUNC | O_APPEND | O_CLOEXEC,
		 0600);
	if (d < 0 || fd_of(log, 3) < 0) {
		printf("FAIL setup: data fd %d, log fd %d\n", d, fd_of(log, 3));
		return 1;
	}
	for (i = 0; i < 2; i++)
		pthread_create(&t[i], NULL, logger, NULL);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (i = 0; i < RACE_ROUNDS; i++) {
		logfd = fd_of(log, logfd);
		if (logfd < 0)
			break;
		if (dup2(d, logfd) != logfd) {
			printf("FAIL dup2 onto the log's %d: %s\n", logfd,
			       strerror(errno));
			rc = 1;
			break;
		}
		if (write(logfd, OWN_LINE, strlen(OWN_LINE)) < 0)
			rc = 1;
		close(logfd);
		moved++;
		clock_gettime(CLOCK_MONOTONIC, &t1);
		if (t1.tv_sec - t0.tv_sec > 60)
			break;
	}
	atomic_store(&stop, true);
	for (i = 0; i < 2; i++)
		pthread_join(t[i], NULL);
	close(d);
	if (rc || check_data(data, moved))
		return 1;
	printf("OK race: %d moves, log %ld bytes\n", moved, file_size(log));
	return moved == RACE_ROUNDS ? 0 : 1;
}

#ifdef __x86_64__
static atomic_bool stalled, dup2_done;

static long ms_since(const struct timespec *t0)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (t.tv_sec - t0->tv_sec) * 1000 +
	       (t.tv_nsec - t0->tv_nsec) / 1000000;
}

/* The trapped write(2): held until the dup2 is done (500 ms at most),
 * then made as writev(2) (not trapped) with the same number. */
static void on_sigsys(int sig, siginfo_t *si, void *ctx)
{
	greg_t *g = ((ucontext_t *)ctx)->uc_mcontext.gregs;
	struct iovec iov = { (void *)g[REG_RSI], (size_t)g[REG_RDX] };
	struct timespec t0;
	int saved = errno;
	long rc;

	(void)sig;
	(void)si;
	if (!atomic_exchange(&stalled, true)) {
		clock_gettime(CLOCK_MONOTONIC, &t0);
		while (!atomic_load(&dup2_done) && ms_since(&t0) < 500)
			sched_yield();
	}
	rc = syscall(SYS_writev, (int)g[REG_RDI], &iov, 1);
	g[REG_RAX] = rc < 0 ? -errno : rc;
	errno = saved;
}

static int trap_writes_to(int fd)
{
	struct sock_filter f[] = {
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS,
			 offsetof(struct seccomp_data, arch)),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, AUDIT_ARCH_X86_64, 1, 0),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS,
			 offsetof(struct seccomp_data, nr)),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_write, 0, 3),
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS,
			 offsetof(struct seccomp_data, args[0])),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, (unsigned int)fd, 0, 1),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_TRAP),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
	};
	struct sock_fprog prog = { sizeof(f) / sizeof(f[0]), f };
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = on_sigsys;
	sa.sa_flags = SA_SIGINFO;
	if (sigaction(SIGSYS, &sa, NULL) < 0 ||
	    prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
		return -1;
	return (int)syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &prog);
}

static void *log_once(void *arg)
{
	(void)arg;
	make_log_line();
	return NULL;
}

static int stalled_move(const char *log, const char *data)
{
	struct iovec iov = { OWN_LINE, strlen(OWN_LINE) };
	struct timespec t0;
	long before;
	pthread_t t;
	int logfd, d;

	make_log_line();
	logfd = fd_of(log, 3);
	d = open(data, O_WRONLY | O_CREAT | O_TRUNC | O_APPEND | O_CLOEXEC,
		 0600);
	if (logfd < 0 || d < 0 || trap_writes_to(logfd) < 0) {
		printf("FAIL setup: log fd %d, data fd %d: %s\n", logfd, d,
		       strerror(errno));
		return 1;
	}
	before = file_size(log);
	pthread_create(&t, NULL, log_once, NULL);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	while (!atomic_load(&stalled) && ms_since(&t0) < 5000)
		sched_yield();
	if (!atomic_load(&stalled)) {
		printf("FAIL the library's log write was never trapped\n");
		return 1;
	}
	/* The library moves its log away first (our dup2 hook). */
	if (dup2(d, logfd) != logfd) {
		printf("FAIL dup2 onto the log's %d: %s\n", logfd,
		       strerror(errno));
		return 1;
	}
	atomic_store(&dup2_done, true);
	if (writev(logfd, &iov, 1) != (ssize_t)iov.iov_len) {
		printf("FAIL writev: %s\n", strerror(errno));
		return 1;
	}
	pthread_join(t, NULL);
	if (check_data(data, 1))
		return 1;
	if (file_size(log) <= before) {
		printf("FAIL the held line is in neither file\n");
		return 1;
	}
	printf("OK stalled_move: fd %d, the held line went to the log\n",
	       logfd);
	return 0;
}
#else
static int stalled_move(const char *log, const char *data)
{
	(void)log;
	(void)data;
	printf("SKIP stalled_move needs x86_64 (its SIGSYS handler)\n");
	return 0;
}
#endif

static int vfork_dup(const char *log, const char *data)
{
	long before, after;
	int logfd, d;
	pid_t pid;

	make_log_line();
	logfd = fd_of(log, 3);
	d = open(data, O_WRONLY | O_CREAT | O_TRUNC | O_APPEND | O_CLOEXEC,
		 0600);
	if (logfd < 0 || d < 0) {
		printf("FAIL setup: log fd %d, data fd %d\n", logfd, d);
		return 1;
	}
	pid = vfork();
	if (pid == 0) {
		dup2(d, logfd);
		_exit(0);
	}
	if (pid < 0 || waitpid(pid, NULL, 0) != pid) {
		printf("FAIL vfork: %s\n", strerror(errno));
		return 1;
	}
	before = file_size(log);
	make_log_line();
	after = file_size(log);
	close(d);
	if (check_data(data, 0))
		return 1;
	if (after <= before) {
		printf("FAIL the parent's log stopped after the vfork child's dup2 (%ld -> %ld bytes)\n",
		       before, after);
		return 1;
	}
	printf("OK vfork: log %ld -> %ld bytes\n", before, after);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc != 5) {
		fprintf(stderr, "usage: logreuse MODE LOG DATA PORT\n");
		return 64;
	}
	port = atoi(argv[4]);
	if (strcmp(argv[1], "race") == 0)
		return race(argv[2], argv[3]);
	if (strcmp(argv[1], "vfork") == 0)
		return vfork_dup(argv[2], argv[3]);
	if (strcmp(argv[1], "stalled_move") == 0)
		return stalled_move(argv[2], argv[3]);
	return one_mode(argv[1], argv[2], argv[3]);
}
