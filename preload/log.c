/*
 * Logging: "socksify[pid]: level: text\n", formatted on the stack and
 * written with one write(2) system call, so a line is never interleaved
 * with another process's and no stdio lock or malloc is taken inside a hook.
 *
 * The level and descriptor are atomics rather than reads of the frozen
 * configuration: the configuration itself logs while it is being built
 * (inside its pthread_once), and reading it from here would re-enter that
 * once and deadlock.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "realfn.h"

/* The log file lives above the descriptors programs use for themselves. */
#define LOG_FD_MIN SFY_LOG_FD_MIN

static atomic_int log_level = SFY_LOG_WARN;
static atomic_int log_fd = 2;
static atomic_bool log_fd_ours;

static const char *const level_names[] = {
	[SFY_LOG_ERROR] = "error",
	[SFY_LOG_WARN] = "warn",
	[SFY_LOG_INFO] = "info",
	[SFY_LOG_DEBUG] = "debug",
};

int sfy_log_level(void)
{
	return atomic_load_explicit(&log_level, memory_order_relaxed);
}

void sfy_log_configure(int level, int fd)
{
	if (level < SFY_LOG_ERROR)
		level = SFY_LOG_ERROR;
	if (level > SFY_LOG_DEBUG)
		level = SFY_LOG_DEBUG;
	atomic_store(&log_fd, fd);
	atomic_store(&log_fd_ours, fd != 2);
	atomic_store(&log_level, level);
}

bool sfy_log_owns_fd_slow(int fd)
{
	return fd >= LOG_FD_MIN && atomic_load(&log_fd_ours) &&
	       atomic_load(&log_fd) == fd;
}

int sfy_log_own_fd(void)
{
	return atomic_load(&log_fd_ours) ? atomic_load(&log_fd) : -1;
}

void sfy_log_move_fd(void)
{
	const struct sfy_real *r = sfy_real();
	int old = atomic_load(&log_fd);
	int nfd, saved = errno;

	if (!atomic_load(&log_fd_ours) || !r->fcntl || !r->close)
		return;
	/* Above the old number, so the move never lands on a descriptor the
	 * program is about to dup onto (it names only the old one). */
	nfd = r->fcntl(old, F_DUPFD_CLOEXEC, old + 1);
	if (nfd < 0) {
		/* Give the number up rather than write into the program's
		 * descriptor later: fall back to stderr. */
		atomic_store(&log_fd_ours, false);
		atomic_store(&log_fd, 2);
	} else {
		atomic_store(&log_fd, nfd);
	}
	r->close(old);
	errno = saved;
}

/* write(2) without libc's wrapper: a future hook on write() must never see
 * the library's own log lines. */
static void write_all(int fd, const char *buf, size_t len)
{
	int tries = 8; /* bounded: a log line is never worth a hang */

	while (len > 0 && tries-- > 0) {
		long n = syscall(SYS_write, fd, buf, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return;
		buf += n;
		len -= (size_t)n;
	}
}

void sfy_log_write(int level, const char *fmt, ...)
{
	char line[1024];
	int saved = errno;
	va_list ap;
	int n, m;

	if (level < SFY_LOG_ERROR || level > SFY_LOG_DEBUG)
		level = SFY_LOG_ERROR;
	n = snprintf(line, sizeof(line), "socksify[%ld]: %s: ",
		     (long)syscall(SYS_getpid), level_names[level]);
	if (n < 0)
		n = 0;
	va_start(ap, fmt);
	/* The caller's errno is visible to a "%m" in fmt. */
	errno = saved;
	m = vsnprintf(line + n, sizeof(line) - (size_t)n - 1, fmt, ap);
	va_end(ap);
	if (m < 0)
		m = 0;
	n += m;
	if (n > (int)sizeof(line) - 2)
		n = (int)sizeof(line) - 2; /* truncated, still one line */
	line[n++] = '\n';
	write_all(atomic_load(&log_fd), line, (size_t)n);
	errno = saved;
}

void sfy_log_chain(char *buf, size_t cap, const struct socks5_proxy *chain,
		   size_t nhops)
{
	size_t i, used = 0;

	if (!cap)
		return;
	buf[0] = '\0';
	for (i = 0; i < nhops && used + 1 < cap; i++) {
		if (i) {
			snprintf(buf + used, cap - used, " > ");
			used += strnlen(buf + used, cap - used);
		}
		socks5_url_format(&chain[i], buf + used, cap - used);
		used += strnlen(buf + used, cap - used);
	}
}

int64_t sfy_log_now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}
