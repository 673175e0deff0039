/*
 * Name lookups of the command (only --check looks names up: the run mode
 * hands them to the library, which resolves in the program's process).
 *
 * Not getaddrinfo: the command is linked statically (Makefile), and a
 * static glibc's getaddrinfo loads the modules /etc/nsswitch.conf names
 * (mdns4_minimal, resolve, myhostname, systemd, ...) with dlopen, which
 * brings the system's shared libc.so.6 and ld.so into our static process:
 * a second C library, built from other sources after any glibc upgrade
 * (the linker warns about exactly that). Instead, getent(1) (libc-bin,
 * Essential on Debian: always there), a dynamic program of the system's
 * own glibc, resolves the name with getaddrinfo through the system's NSS,
 * exactly as the programs socksify runs will; whatever a module does, it
 * does in that child, bounded by the time-out, and we read its lines:
 *
 *	127.0.0.1       STREAM localhost
 *	127.0.0.1       DGRAM
 *
 * One process start (about a millisecond) per name, for --check only; the
 * alternative, a dynamically linked command, costs every run (see the
 * Makefile for the measurement). Address literals never get here.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "check.h"
#include "socks5.h"

extern char **environ;

/* getent's lines: the STREAM ones give each address once. */
static void parse_lines(char *text, uint16_t port, struct sfy_addrs *out)
{
	char *line, *save = NULL;

	for (line = strtok_r(text, "\n", &save); line && out->n < SFY_ADDRS_MAX;
	     line = strtok_r(NULL, "\n", &save)) {
		char addr[INET6_ADDRSTRLEN], kind[8];
		struct sockaddr_storage *ss = &out->addr[out->n];

		if (sscanf(line, "%45s %7s", addr, kind) != 2 ||
		    strcmp(kind, "STREAM"))
			continue;
		memset(ss, 0, sizeof(*ss));
		if (inet_pton(AF_INET, addr,
			      &((struct sockaddr_in *)ss)->sin_addr) == 1) {
			ss->ss_family = AF_INET;
			((struct sockaddr_in *)ss)->sin_port = htons(port);
			out->len[out->n++] = sizeof(struct sockaddr_in);
		} else if (inet_pton(AF_INET6, addr,
				     &((struct sockaddr_in6 *)ss)->sin6_addr) == 1) {
			ss->ss_family = AF_INET6;
			((struct sockaddr_in6 *)ss)->sin6_port = htons(port);
			out->len[out->n++] = sizeof(struct sockaddr_in6);
		}
	}
}

/* Reads the child's output until it closes it or the deadline passes;
 * false on time-out. */
static bool read_all(int fd, char *buf, size_t cap, int64_t deadline)
{
	size_t used = 0;

	for (;;) {
		int err = 0;
		ssize_t n;

		if (sfy_wait_for(fd, POLLIN, deadline, &err) != SOCKS5_OK)
			return false;
		n = read(fd, buf + used, cap - 1 - used);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		used += (size_t)n;
		if (used == cap - 1)
			break; /* more addresses than we keep */
	}
	buf[used] = '\0';
	return true;
}

int sfy_resolve(const char *host, uint16_t port, int timeout_ms,
		struct sfy_addrs *out, char *why, size_t cap)
{
	/* "--": a host name may start with '-' */
	char *argv[] = { "getent", "--", "ahosts", (char *)host, NULL };
	posix_spawn_file_actions_t fa;
	char text[4096];
	int fds[2], status = 0, rc;
	bool done;
	pid_t pid;

	out->n = 0;
	if (pipe2(fds, O_CLOEXEC) < 0) {
		rc = errno;
		snprintf(why, cap, "%s", strerror(rc));
		return -rc;
	}
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
	posix_spawn_file_actions_adddup2(&fa, fds[1], 1);
	posix_spawn_file_actions_addopen(&fa, 2, "/dev/null", O_WRONLY, 0);
	rc = posix_spawnp(&pid, "getent", &fa, NULL, argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	close(fds[1]);
	if (rc) {
		close(fds[0]);
		snprintf(why, cap, "cannot run getent(1), which looks names up for socksify --check: %s",
			 strerror(rc));
		return -rc;
	}
	done = read_all(fds[0], text, sizeof(text), socks5_now_ms() + timeout_ms);
	close(fds[0]);
	if (!done)
		kill(pid, SIGKILL); /* our own child, still running */
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	if (!done) {
		snprintf(why, cap, "no answer within %d ms (a DNS server that does not answer?): give the IP address instead",
			 timeout_ms);
		return -ETIMEDOUT;
	}
	if (WIFSIGNALED(status)) {
		snprintf(why, cap, "getent(1), which looks it up, was killed by signal %d (%s): is an NSS module in /etc/nsswitch.conf broken? Give the IP address instead",
			 WTERMSIG(status), strsignal(WTERMSIG(status)));
		return -EIO;
	}
	/* getent: 0 found, 2 not found; anything else is its own failure */
	if (WEXITSTATUS(status) != 0 && WEXITSTATUS(status) != 2) {
		snprintf(why, cap, "getent(1), which looks it up, failed (exit status %d): is an NSS module in /etc/nsswitch.conf broken? Give the IP address instead",
			 WEXITSTATUS(status));
		return -EIO;
	}
	if (WEXITSTATUS(status) == 0)
		parse_lines(text, port, out);
	if (!out->n) {
		snprintf(why, cap, "no address (getent ahosts asked /etc/hosts, DNS and every other source /etc/nsswitch.conf names): check the spelling, or give the IP address");
		return -EHOSTUNREACH;
	}
	return 0;
}
