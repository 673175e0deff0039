/*
 * The exec rule (issue 18): a static program (no dynamic loader, so no
 * LD_PRELOAD) or a Go program (its own system calls) started by a
 * socksified program would make its connections direct. Before the
 * program is replaced, its ELF headers are read (client/elfprobe.c,
 * without the section names: open, one or two preads, close, no malloc,
 * async-signal-safe as execve is); such a target gets a warn line naming
 * it, and with SOCKSIFY_STRICT=1 (socksify --strict) the exec fails with
 * EACCES ("Permission denied": every caller reports it already) and a
 * line saying why. Everything else, and every target we cannot open or
 * read (the real call then answers), is exec'd exactly as by libc.
 *
 * Hooked: execve, execveat, fexecve, execv, execvp, execvpe, execl,
 * execle, execlp, posix_spawn, posix_spawnp (glibc's own execv* and
 * posix_spawn* call its internal execve, which no hook sees). system()
 * and popen() run /bin/sh, a dynamic program, whose own exec of the
 * command is then checked here; so are syscall(SYS_execve) and
 * syscall(SYS_execveat) (hook_syscall.c). Not seen: a system call made
 * by the instruction itself, and a script whose #! interpreter is static
 * (only the script is probed).
 *
 * The socksify command (statically linked) is exempt by its name: it
 * hands LD_PRELOAD on to what it runs, and probes that itself.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <spawn.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/config.h"
#include "base/log.h"
#include "base/realfn.h"
#include "hooks/hooks.h"
#include "socks5_elf.h"

#define SELF_NAME "socksify"

extern char **environ;

static bool is_self(const char *path)
{
	const char *base = strrchr(path, '/');

	return !strcmp(base ? base + 1 : path, SELF_NAME);
}

/* 0, or -EACCES when strict refuses the target; one line either way. */
static int verdict(enum socks5_elf_kind kind, const char *shown)
{
	const char *what;

	if (kind == SOCKS5_ELF_OTHER || kind == SOCKS5_ELF_DYNAMIC ||
	    (kind == SOCKS5_ELF_STATIC && is_self(shown)))
		return 0;
	what = kind == SOCKS5_ELF_STATIC ?
		       "statically linked: LD_PRELOAD cannot reach it" :
		       "a Go program: Go makes its own system calls";
	if (sfy_config()->strict) {
		sfy_warn("exec of %s refused (EACCES, SOCKSIFY_STRICT=1): it is %s, so its connections would not go through the proxy",
			 shown, what);
		return -EACCES;
	}
	sfy_warn("exec of %s: it is %s, so its connections do NOT go through the proxy (SOCKSIFY_STRICT=1 refuses such programs)",
		 shown, what);
	return 0;
}

static bool checking(void)
{
	const struct sfy_config *c = sfy_config();

	return c->enabled && !sfy_inside();
}

/* path relative to dirfd (AT_FDCWD: the working directory). */
static int judge_at(int dirfd, const char *path, int oflags)
{
	const struct sfy_real *r = sfy_real();
	enum socks5_elf_kind kind;
	int fd;

	if (!path || !checking())
		return 0;
	fd = openat(dirfd, path, O_RDONLY | O_CLOEXEC | oflags);
	if (fd < 0)
		return 0; /* unreadable (execute-only) or missing: libc answers */
	kind = socks5_elf_probe_fd(fd, false);
	if (r->close)
		r->close(fd);
	return verdict(kind, path);
}

static int judge(const char *path)
{
	return judge_at(AT_FDCWD, path, 0);
}

/* execvp's search: the first executable file of that name along PATH
 * (glibc's default when unset), which is what execvp runs. */
static int judge_search(const char *file)
{
	char buf[PATH_MAX];
	const char *p, *end;
	size_t dl, fl;

	if (!file || strchr(file, '/') || !*file || !checking())
		return judge(file);
	p = getenv("PATH");
	if (!p)
		p = "/bin:/usr/bin";
	fl = strlen(file);
	for (; ; p = end + 1) {
		end = strchrnul(p, ':');
		dl = (size_t)(end - p);
		if (dl + fl + 2 <= sizeof(buf)) {
			memcpy(buf, dl ? p : ".", dl ? dl : 1);
			dl = dl ? dl : 1;
			buf[dl] = '/';
			memcpy(buf + dl + 1, file, fl + 1);
			if (access(buf, X_OK) == 0)
				return judge(buf);
		}
		if (!*end)
			return 0;
	}
}

/* What fd names, for the line: readlink of /proc/self/fd/N, built
 * without stdio (execve's hooks stay async-signal-safe). */
static const char *fd_name(int fd, char *buf, size_t cap)
{
	char link[32] = "/proc/self/fd/", digits[12];
	size_t n = 0, l = strlen(link);
	ssize_t got;
	unsigned u = (unsigned)fd;

	do
		digits[n++] = (char)('0' + u % 10);
	while ((u /= 10) && n < sizeof(digits));
	while (n)
		link[l++] = digits[--n];
	link[l] = '\0';
	got = readlink(link, buf, cap - 1);
	if (got <= 0)
		return "(a descriptor)";
	buf[got] = '\0';
	return buf;
}

static int judge_fd(int fd)
{
	char name[PATH_MAX];
	enum socks5_elf_kind kind;

	if (!checking())
		return 0;
	kind = socks5_elf_probe_fd(fd, false);
	if (kind == SOCKS5_ELF_OTHER || kind == SOCKS5_ELF_DYNAMIC)
		return 0;
	return verdict(kind, fd_name(fd, name, sizeof(name)));
}

static int refuse(int rc)
{
	errno = -rc;
	return -1;
}

int sfy_execve(const char *path, char *const argv[], char *const envp[])
{
	const struct sfy_real *r = sfy_real();
	int rc = judge(path);

	if (rc)
		return refuse(rc);
	return r->execve ? r->execve(path, argv, envp) : sfy_nosys();
}

int execve(const char *path, char *const argv[], char *const envp[])
	SFY_EXPORT_AS(sfy_execve);

int sfy_execveat(int dirfd, const char *path, char *const argv[],
		 char *const envp[], int flags)
{
	const struct sfy_real *r = sfy_real();
	const char *p = path;
	int rc;

	/* declared nonnull, but NULL reaches the kernel (EFAULT) */
	__asm__("" : "+r"(p));
	if (p && !*p && (flags & AT_EMPTY_PATH))
		rc = judge_fd(dirfd);
	else
		rc = judge_at(dirfd, p,
			      flags & AT_SYMLINK_NOFOLLOW ? O_NOFOLLOW : 0);
	if (rc)
		return refuse(rc);
	return r->execveat ? r->execveat(dirfd, path, argv, envp, flags) :
			     sfy_nosys();
}

int execveat(int dirfd, const char *path, char *const argv[],
	     char *const envp[], int flags) SFY_EXPORT_AS(sfy_execveat);

/* An O_PATH descriptor cannot be read: exec'd unprobed. */
int fexecve(int fd, char *const argv[], char *const envp[])
{
	const struct sfy_real *r = sfy_real();
	int rc = judge_fd(fd);

	if (rc)
		return refuse(rc);
	return r->fexecve ? r->fexecve(fd, argv, envp) : sfy_nosys();
}

static int sfy_execv(const char *path, char *const argv[])
{
	const struct sfy_real *r = sfy_real();
	int rc = judge(path);

	if (rc)
		return refuse(rc);
	return r->execv ? r->execv(path, argv) : sfy_nosys();
}

int execv(const char *path, char *const argv[]) SFY_EXPORT_AS(sfy_execv);

static int sfy_execvpe(const char *file, char *const argv[], char *const envp[])
{
	const struct sfy_real *r = sfy_real();
	int rc = judge_search(file);

	if (rc)
		return refuse(rc);
	if (envp == environ && r->execvp) /* execvp, execlp */
		return r->execvp(file, argv);
	return r->execvpe ? r->execvpe(file, argv, envp) : sfy_nosys();
}

int execvpe(const char *file, char *const argv[], char *const envp[])
	SFY_EXPORT_AS(sfy_execvpe);

int execvp(const char *file, char *const argv[])
{
	return sfy_execvpe(file, argv, environ);
}

/* execl, execle, execlp: their arguments as an array on the stack, as
 * glibc builds it. */
#define COUNT_ARGS(first, n)                                      \
	do {                                                      \
		va_list ap_;                                      \
		va_start(ap_, first);                             \
		for (n = 1; va_arg(ap_, const char *); n++)       \
			if (n >= INT_MAX - 1) {                   \
				va_end(ap_);                      \
				errno = E2BIG;                    \
				return -1;                        \
			}                                         \
		va_end(ap_);                                      \
	} while (0)

#define FILL_ARGS(first, argv, n, after)                   \
	do {                                               \
		va_list ap_;                               \
		size_t i_;                                 \
		va_start(ap_, first);                      \
		argv[0] = (char *)first;                   \
		for (i_ = 1; i_ <= n; i_++)                \
			argv[i_] = va_arg(ap_, char *);    \
		after;                                     \
		va_end(ap_);                               \
	} while (0)

int execl(const char *path, const char *arg, ...)
{
	size_t n;

	COUNT_ARGS(arg, n);
	{
		char *argv[n + 1];

		FILL_ARGS(arg, argv, n, (void)0);
		return sfy_execv(path, argv);
	}
}

int execlp(const char *file, const char *arg, ...)
{
	size_t n;

	COUNT_ARGS(arg, n);
	{
		char *argv[n + 1];

		FILL_ARGS(arg, argv, n, (void)0);
		return sfy_execvpe(file, argv, environ);
	}
}

int execle(const char *path, const char *arg, ...)
{
	char *const *envp;
	size_t n;

	COUNT_ARGS(arg, n);
	{
		char *argv[n + 1];

		FILL_ARGS(arg, argv, n, envp = va_arg(ap_, char *const *));
		return sfy_execve(path, argv, envp);
	}
}

int posix_spawn(pid_t *pid, const char *path,
		const posix_spawn_file_actions_t *fa,
		const posix_spawnattr_t *attr, char *const argv[],
		char *const envp[])
{
	const struct sfy_real *r = sfy_real();
	int rc = judge(path);

	if (rc)
		return -rc; /* posix_spawn returns the error number */
	return r->posix_spawn ? r->posix_spawn(pid, path, fa, attr, argv, envp) :
				ENOSYS;
}

int posix_spawnp(pid_t *pid, const char *file,
		 const posix_spawn_file_actions_t *fa,
		 const posix_spawnattr_t *attr, char *const argv[],
		 char *const envp[])
{
	const struct sfy_real *r = sfy_real();
	int rc = judge_search(file);

	if (rc)
		return -rc;
	return r->posix_spawnp ?
		       r->posix_spawnp(pid, file, fa, attr, argv, envp) :
		       ENOSYS;
}
