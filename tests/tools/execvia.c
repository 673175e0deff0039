/*
 * execvia: runs PROGRAM ARG through one member of the exec family, for
 * the exec rule's test (test_exec_rule.sh, issue 18).
 *
 *   execvia MODE PROGRAM ARG
 *
 * MODE: execve execv execvp execvpe execl execle execlp execveat fexecve
 * syscall-execve syscall-execveat (by number)
 * posix_spawn posix_spawnp system popen. PROGRAM runs with argv
 * { PROGRAM, ARG } (a shell command line "PROGRAM ARG" for system and
 * popen; popen's output is copied to stdout). When the call fails:
 * "refused ERRNO" on stdout, exit 3. A spawned child's exit status is
 * passed on (system's and popen's as the shell's status).
 */
#include <errno.h>
#include <fcntl.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

static int refused(int e)
{
	const char *n = strerrorname_np(e);

	printf("refused %s\n", n ? n : "?");
	fflush(stdout);
	return 3;
}

static int waited(pid_t pid)
{
	int st;

	if (waitpid(pid, &st, 0) != pid)
		return refused(errno);
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

int main(int argc, char **argv)
{
	char *args[3], cmd[4096], buf[256];
	const char *m;
	pid_t pid;
	FILE *f;
	size_t n;
	int fd, rc;

	if (argc != 4) {
		fprintf(stderr, "usage: execvia MODE PROGRAM ARG\n");
		return 2;
	}
	m = argv[1];
	args[0] = argv[2];
	args[1] = argv[3];
	args[2] = NULL;
	fflush(stdout);
	if (!strcmp(m, "execve"))
		execve(argv[2], args, environ);
	else if (!strcmp(m, "execv"))
		execv(argv[2], args);
	else if (!strcmp(m, "execvp"))
		execvp(argv[2], args);
	else if (!strcmp(m, "execvpe"))
		execvpe(argv[2], args, environ);
	else if (!strcmp(m, "execl"))
		execl(argv[2], argv[2], argv[3], (char *)NULL);
	else if (!strcmp(m, "execle"))
		execle(argv[2], argv[2], argv[3], (char *)NULL, environ);
	else if (!strcmp(m, "execlp"))
		execlp(argv[2], argv[2], argv[3], (char *)NULL);
	else if (!strcmp(m, "syscall-execve"))
		syscall(SYS_execve, argv[2], args, environ);
	else if (!strcmp(m, "syscall-execveat"))
		syscall(SYS_execveat, AT_FDCWD, argv[2], args, environ, 0);
	else if (!strcmp(m, "execveat"))
		execveat(AT_FDCWD, argv[2], args, environ, 0);
	else if (!strcmp(m, "fexecve")) {
		fd = open(argv[2], O_RDONLY | O_CLOEXEC);
		if (fd < 0)
			return refused(errno);
		fexecve(fd, args, environ);
	} else if (!strcmp(m, "posix_spawn") || !strcmp(m, "posix_spawnp")) {
		rc = m[11] ? posix_spawnp(&pid, argv[2], NULL, NULL, args, environ) :
			     posix_spawn(&pid, argv[2], NULL, NULL, args, environ);
		return rc ? refused(rc) : waited(pid);
	} else if (!strcmp(m, "system")) {
		snprintf(cmd, sizeof(cmd), "%s %s", argv[2], argv[3]);
		rc = system(cmd);
		return rc < 0 ? refused(errno) : WEXITSTATUS(rc);
	} else if (!strcmp(m, "popen")) {
		snprintf(cmd, sizeof(cmd), "%s %s", argv[2], argv[3]);
		f = popen(cmd, "r");
		if (!f)
			return refused(errno);
		while ((n = fread(buf, 1, sizeof(buf), f)) > 0)
			fwrite(buf, 1, n, stdout);
		rc = pclose(f);
		return rc < 0 ? refused(errno) : WEXITSTATUS(rc);
	} else {
		fprintf(stderr, "execvia: no mode %s\n", m);
		return 2;
	}
	return refused(errno);
}
