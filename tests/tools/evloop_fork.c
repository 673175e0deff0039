/*
 * evloop_fork: fork() while another thread is inside a step of a
 * handshake of the event-loop machine (tcp/async.h), for
 * tests/integration/test_evloop_fd.sh. Usage: evloop_fork HOST PORT, with
 * the library preloaded and SOCKSIFY_PROXY set,
 * SOCKSIFY_TIMEOUT_MS=300. HOST PORT: a proxy that answers (microsocks): its
 * reply to the greeting is what the stepping thread's step takes in.
 *
 * The step is held still deterministically: the library's log
 * (SOCKSIFY_LOG=debug, stderr) goes to a pipe of one page that this program
 * fills, so the step's trace line blocks in write() with the slot locked.
 * Then fork(); the child drains the pipe and waits 1 s in poll() on a
 * descriptor of its own. Prints the child's CPU time in that poll
 * ("child_cpu_ms=N"): the child once inherited the lock of a thread it
 * does not have, could never step or expire the handshake, and every wait
 * after its deadline spun (about 1000 ms of CPU for the 1 s wait).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static int sock;

static void *stepper(void *arg)
{
	struct pollfd p = { .fd = sock, .events = POLLOUT };

	(void)arg;
	poll(&p, 1, 3000); /* blocks in the step's log line */
	return NULL;
}

static long long cpu_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int main(int argc, char **argv)
{
	struct sockaddr_in sa = { .sin_family = AF_INET };
	char path[64], buf[4096];
	int pf[2], w, rd, quiet[2], st;
	pthread_t t;
	pid_t pid;

	if (argc == 3) { /* set the log up, then again with it */
		if (pipe(pf) < 0)
			return 2;
		fcntl(pf[1], F_SETPIPE_SZ, 4096);
		dup2(pf[1], 2); /* the log: stderr */
		unsetenv("SOCKSIFY_LOG_FILE");
		setenv("SOCKSIFY_LOG", "debug", 1);
		snprintf(path, sizeof(path), "%d", pf[0]);
		execl("/proc/self/exe", argv[0], argv[1], argv[2], path,
		      (char *)NULL);
		return 2;
	}
	if (argc != 4)
		return 2;
	rd = atoi(argv[3]);
	inet_pton(AF_INET, argv[1], &sa.sin_addr);
	sa.sin_port = htons((unsigned short)atoi(argv[2]));
	sock = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
	if (connect(sock, (struct sockaddr *)&sa, sizeof(sa)) == 0 ||
	    errno != EINPROGRESS) {
		printf("connect: %s\n", strerrorname_np(errno));
		return 1;
	}
	/* the pipe full, through a description of our own (non-blocking) */
	snprintf(path, sizeof(path), "/proc/self/fd/%d", rd);
	w = open(path, O_WRONLY | O_NONBLOCK);
	memset(buf, '.', sizeof(buf));
	while (w >= 0 && write(w, buf, sizeof(buf)) > 0)
		;
	while (w >= 0 && write(w, buf, 1) > 0)
		;
	pthread_create(&t, NULL, stepper, NULL);
	usleep(400000); /* the step is in its log line; the deadline passed */
	pid = fork();
	if (pid == 0) {
		long long c0;
		struct pollfd p;

		fcntl(rd, F_SETFL, O_NONBLOCK);
		while (read(rd, buf, sizeof(buf)) > 0) /* the log may go on */
			;
		if (pipe(quiet) < 0)
			_exit(2);
		p = (struct pollfd){ .fd = quiet[0], .events = POLLIN };
		c0 = cpu_ms();
		poll(&p, 1, 1000);
		printf("child_cpu_ms=%lld\n", cpu_ms() - c0);
		fflush(stdout);
		_exit(0);
	}
	fcntl(rd, F_SETFL, O_NONBLOCK);
	while (waitpid(pid, &st, WNOHANG) == 0) { /* keep the log flowing */
		while (read(rd, buf, sizeof(buf)) > 0)
			;
		usleep(10000);
	}
	while (read(rd, buf, sizeof(buf)) > 0)
		;
	pthread_join(t, NULL);
	return 0;
}
