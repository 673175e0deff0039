/*
 * The session (preload/state/session.h): one private directory per
 * `socksify` run or `--env` shell, where the library keeps what every
 * process of the session shares (the fake-address map, "names").
 *
 * Made here, before exec: mkdtemp under $XDG_RUNTIME_DIR when that is a
 * private directory of ours, else under $TMPDIR or /tmp (mkdtemp makes it
 * 0700 with an unpredictable name, and fails rather than reuse anything
 * that exists). Inside, libsocksify.so is a link to the library, and
 * LD_PRELOAD names that link: a program that clears its environment but
 * keeps LD_PRELOAD still finds its session.
 *
 * Cleanup: a reaper, double-forked so that it is nobody's child the
 * program knows of, in its own session (no terminal signals), holding no
 * descriptor of the program, waits on a pidfd for the watched process
 * (the program itself; for --env, the shell that evaluates our output) and
 * then removes the directory. Processes still running (daemons) keep their
 * mapping; programs they start later get private maps.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "tool.h"

static bool private_dir(const char *dir)
{
	struct stat st;

	return dir && *dir == '/' && lstat(dir, &st) == 0 &&
	       S_ISDIR(st.st_mode) && st.st_uid == geteuid() &&
	       (st.st_mode & 022) == 0;
}

static void remove_dir(const char *dir)
{
	char path[PATH_MAX];
	struct dirent *d;
	DIR *dp = opendir(dir);

	if (dp) {
		while ((d = readdir(dp)) != NULL) {
			if (!strcmp(d->d_name, ".") || !strcmp(d->d_name, ".."))
				continue;
			if ((size_t)snprintf(path, sizeof(path), "%s/%s", dir,
					     d->d_name) < sizeof(path))
				unlink(path);
		}
		closedir(dp);
	}
	rmdir(dir);
}

/* The grandchild: wait for pid to end (bounded only by its life), then
 * remove dir. Never returns. */
static void reap(int pidfd, pid_t pid, const char *dir)
{
	int null = open("/dev/null", O_RDWR);
	struct pollfd p = { .fd = pidfd, .events = POLLIN };

	setsid();
	if (null >= 0) {
		dup2(null, 0);
		dup2(null, 1);
		dup2(null, 2);
	}
	if (chdir("/") != 0)
		_exit(0);
	/* Every descriptor of the program but the pidfd, moved to 3: one
	 * close_range, not a close per number (a thousand system calls that
	 * each run of the command paid on the other core). */
	if (pidfd >= 0 && pidfd != 3 && dup2(pidfd, 3) == 3) {
		close(pidfd);
		pidfd = 3;
		p.fd = 3;
	}
	if (syscall(SYS_close_range, pidfd >= 0 ? 4 : 3, ~0U, 0) != 0)
		for (int fd = 3; fd < 1024; fd++)
			if (fd != pidfd)
				close(fd);
	if (pidfd >= 0) {
		while (poll(&p, 1, -1) < 0 && errno == EINTR)
			;
	} else {
		while (kill(pid, 0) == 0 || errno == EPERM)
			sleep(1);
	}
	remove_dir(dir);
	_exit(0);
}

static int start_reaper(pid_t watch, const char *dir)
{
	int pidfd = (int)syscall(SYS_pidfd_open, watch, 0);
	pid_t mid = fork(), grand;
	int st;

	if (mid < 0) {
		if (pidfd >= 0)
			close(pidfd);
		return -errno;
	}
	if (mid == 0) {
		grand = fork();
		if (grand == 0)
			reap(pidfd, watch, dir);
		_exit(grand < 0);
	}
	if (pidfd >= 0)
		close(pidfd);
	while (waitpid(mid, &st, 0) < 0 && errno == EINTR)
		;
	return WIFEXITED(st) && WEXITSTATUS(st) == 0 ? 0 : -EAGAIN;
}

int sfy_session_start(const char *lib, pid_t watch, char *dir, size_t dcap,
		      char *link, size_t lcap)
{
	const char *base = getenv("XDG_RUNTIME_DIR");
	int r;

	if (!private_dir(base))
		base = getenv("TMPDIR");
	if (!base || *base != '/')
		base = "/tmp";
	if ((size_t)snprintf(dir, dcap, "%s/socksify-XXXXXX", base) >= dcap)
		return -ENAMETOOLONG;
	if (!mkdtemp(dir))
		return -errno;
	if ((size_t)snprintf(link, lcap, "%s/%s", dir, SFY_LIBRARY_NAME) >= lcap) {
		rmdir(dir);
		return -ENAMETOOLONG;
	}
	if (symlink(lib, link) != 0) {
		r = -errno;
		rmdir(dir);
		return r;
	}
	r = start_reaper(watch, dir);
	if (r) {
		remove_dir(dir);
		return r;
	}
	return 0;
}

int sfy_session_save_settings(const char *dir)
{
	extern char **environ;
	char path[PATH_MAX];
	FILE *f;
	int fd, r = 0;

	for (char **e = environ; *e; e++)
		if (strncmp(*e, "SOCKSIFY_", 9) == 0 && strchr(*e, '@'))
			return -EPERM;
	if ((size_t)snprintf(path, sizeof(path), "%s/settings", dir) >= sizeof(path))
		return -ENAMETOOLONG;
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0)
		return -errno;
	f = fdopen(fd, "w");
	if (!f) {
		r = -errno;
		close(fd);
		return r;
	}
	for (char **e = environ; *e; e++)
		if (strncmp(*e, "SOCKSIFY_", 9) == 0 &&
		    strncmp(*e, "SOCKSIFY_SESSION=", 17) != 0)
			fwrite(*e, 1, strlen(*e) + 1, f);
	if (fclose(f) != 0)
		r = -errno;
	return r;
}
