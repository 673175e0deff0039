/*
 * sessionexec: the Electron/Chromium pattern in a few lines, for
 * test_session.sh. A name is resolved in one program image and the
 * address is connected to from another, started by exec.
 *
 *   sessionexec resolve NAME PORT [clean]
 *       getaddrinfo(NAME), then exec of this program as
 *       "connect ADDR PORT" in a child. With "clean" the child first
 *       closes every descriptor but 0-2 and execs with an environment
 *       holding LD_PRELOAD alone (what browsers do for their helpers).
 *       Prints "addr ADDR", then the child's output; exits with the
 *       child's status.
 *   sessionexec connect ADDR PORT
 *       connect, "GET / HTTP/1.0", prints the body, or "errno N".
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

static int do_connect(const char *addr, const char *port)
{
	struct sockaddr_in sin = { .sin_family = AF_INET };
	static char buf[65536];
	size_t got = 0;
	ssize_t n;
	char *body;
	int fd;

	if (inet_pton(AF_INET, addr, &sin.sin_addr) != 1)
		return 2;
	sin.sin_port = htons((unsigned short)atoi(port));
	fd = socket(AF_INET, SOCK_STREAM, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&sin, sizeof(sin)) != 0) {
		printf("errno %d\n", errno);
		return 0;
	}
	if (write(fd, "GET / HTTP/1.0\r\nHost: x\r\n\r\n", 27) != 27)
		return 3;
	while (got < sizeof(buf) - 1 &&
	       (n = read(fd, buf + got, sizeof(buf) - 1 - got)) > 0)
		got += (size_t)n;
	buf[got] = '\0';
	body = strstr(buf, "\r\n\r\n");
	printf("%s", body ? body + 4 : buf);
	close(fd);
	return 0;
}

static int do_resolve(const char *name, const char *port, int clean)
{
	struct addrinfo hints = { .ai_family = AF_INET,
				  .ai_socktype = SOCK_STREAM };
	struct addrinfo *res;
	char addr[INET_ADDRSTRLEN];
	int rc, st;
	pid_t pid;

	rc = getaddrinfo(name, port, &hints, &res);
	if (rc) {
		printf("getaddrinfo: %s\n", gai_strerror(rc));
		return 1;
	}
	inet_ntop(AF_INET, &((struct sockaddr_in *)res->ai_addr)->sin_addr,
		  addr, sizeof(addr));
	freeaddrinfo(res);
	printf("addr %s\n", addr);
	fflush(stdout);
	pid = fork();
	if (pid < 0)
		return 1;
	if (pid == 0) {
		char *argv[] = { "sessionexec", "connect", addr, (char *)port,
				 NULL };
		char pre[4096] = "LD_PRELOAD=";
		char *env[] = { pre, NULL };
		const char *lp = getenv("LD_PRELOAD");

		if (!clean) {
			execv("/proc/self/exe", argv);
			_exit(127);
		}
		if (lp)
			snprintf(pre, sizeof(pre), "LD_PRELOAD=%s", lp);
		/* every descriptor but stdio, by number: no libc wrapper */
		syscall(SYS_close_range, 3u, ~0u, 0u);
		execve("/proc/self/exe", argv, lp ? env : env + 1);
		_exit(127);
	}
	if (waitpid(pid, &st, 0) != pid)
		return 1;
	return WIFEXITED(st) ? WEXITSTATUS(st) : 1;
}

int main(int argc, char **argv)
{
	if (argc >= 4 && strcmp(argv[1], "resolve") == 0)
		return do_resolve(argv[2], argv[3],
				  argc > 4 && strcmp(argv[4], "clean") == 0);
	if (argc == 4 && strcmp(argv[1], "connect") == 0)
		return do_connect(argv[2], argv[3]);
	fprintf(stderr, "usage: sessionexec resolve NAME PORT [clean] | "
			"connect ADDR PORT\n");
	return 2;
}
