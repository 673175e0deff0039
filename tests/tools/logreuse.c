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
 *   log file's number away with a raw system call (syscall(SYS_...), which
 *   the library's close()/dup2() hooks never see), puts its own file DATA
 *   on that number, makes the library log again, writes its own bytes,
 *   closes its file with close() (which must really close it) and checks
 *   DATA holds only its own bytes.
 * MODE race: two threads log without pause while the main thread, 2000
 *   times, dup2()s DATA onto the log's current number (the library moves
 *   its log away first), writes one line there and closes it: DATA must
 *   hold only the program's lines (a log write that loaded the old number
 *   must not land after the move).
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
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

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

/* Puts DATA on number logfd after a raw system call of MODE took it
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
			rc = syscall(SYS_dup2, d, logfd);
		else
#endif
			rc = syscall(SYS_dup3, d, logfd, 0);
		syscall(SYS_close, d);
		return (int)rc;
	}
	if (strcmp(mode, "close_range") == 0)
		rc = syscall(SYS_close_range, 3, ~0U, 0);
	else if (strcmp(mode, "close") == 0)
		rc = syscall(SYS_close, logfd);
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

int main(int argc, char **argv)
{
	if (argc != 5) {
		fprintf(stderr, "usage: logreuse MODE LOG DATA PORT\n");
		return 64;
	}
	port = atoi(argv[4]);
	if (strcmp(argv[1], "race") == 0)
		return race(argv[2], argv[3]);
	return one_mode(argv[1], argv[2], argv[3]);
}
