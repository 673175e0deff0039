/*
 * blockconn: a blocking connect() and the kernel's interruptions, for
 * tests/integration/test_evloop.sh (issue 13, deliverable 2).
 *
 *   blockconn alarm HOST PORT     SIGALRM handler without SA_RESTART,
 *                                 alarm(1): EINTR at 1 s
 *   blockconn restart HOST PORT   the same handler with SA_RESTART: the
 *                                 connect() goes on (to its end)
 *   blockconn sndtimeo HOST PORT  SO_SNDTIMEO 1 s: EINPROGRESS at 1 s
 *   blockconn echo HOST PORT      a handler without SA_RESTART installed,
 *                                 no signal: connects, a line echoes
 *
 * Prints "first=RESULT ms=N second=RESULT" (RESULT: OK or an errno name;
 * second: a connect() again right after). Exit 0.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

static void on_alarm(int sig)
{
	(void)sig;
}

static long long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static const char *result(int rc)
{
	return rc == 0 ? "OK" : strerrorname_np(errno);
}

int main(int argc, char **argv)
{
	struct sockaddr_in sa = { .sin_family = AF_INET };
	struct sigaction act;
	const char *mode, *first, *second;
	long long t0, ms;
	char buf[16];
	int fd, rc;

	if (argc != 4)
		return 2;
	mode = argv[1];
	inet_pton(AF_INET, argv[2], &sa.sin_addr);
	sa.sin_port = htons((unsigned short)atoi(argv[3]));
	memset(&act, 0, sizeof(act));
	act.sa_handler = on_alarm;
	act.sa_flags = !strcmp(mode, "restart") ? SA_RESTART : 0;
	if (strcmp(mode, "sndtimeo"))
		sigaction(SIGALRM, &act, NULL);
	fd = socket(AF_INET, SOCK_STREAM, 0);
	if (!strcmp(mode, "sndtimeo")) {
		struct timeval tv = { 1, 0 };

		setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	}
	if (!strcmp(mode, "alarm") || !strcmp(mode, "restart"))
		alarm(1);
	t0 = now_ms();
	rc = connect(fd, (struct sockaddr *)&sa, sizeof(sa));
	ms = now_ms() - t0;
	first = result(rc);
	rc = connect(fd, (struct sockaddr *)&sa, sizeof(sa));
	second = result(rc);
	if (!strcmp(mode, "echo") && !strcmp(first, "OK") &&
	    (write(fd, "blocking\n", 9) != 9 || read(fd, buf, 9) != 9 ||
	     memcmp(buf, "blocking\n", 9)))
		first = "BAD-ECHO";
	printf("first=%s ms=%lld second=%s\n", first, ms, second);
	return 0;
}
