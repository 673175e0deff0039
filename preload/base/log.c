/*
 * Logging: "socksify[pid]: level: text\n", formatted on the stack and
 * written with one write(2) system call, so a line is never interleaved
 * with another process's and no stdio lock or malloc is taken inside a hook.
 *
 * The level and descriptor are atomics rather than reads of the frozen
 * configuration: the configuration itself logs while it is being built
 * (inside its pthread_once), and reading it from here would re-enter that
 * once and deadlock.
 *
 * Our own log file (SOCKSIFY_LOG_FILE) is remembered by number, and a
 * number can change hands behind our back (syscall(SYS_close_range), a
 * raw close or dup2): each line first checks with fstat that the number
 * still holds our file (st_dev, st_ino), and stops using it otherwise.
 * Between that check and the write(2) a line is counted in log_writers
 * with signals blocked, and a move (a program's dup2() onto our number)
 * waits for those before it gives the number up: so the program's
 * dup2() can never slip in between. Logging is rare; the few system calls
 * per line (fstat, two sigprocmask) do not matter.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdarg.h>
#include <sched.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "base/log.h"
#include "base/realfn.h"
#include "state/fdid.h"
#include "state/vfork.h"

/* The log file lives above the descriptors programs use for themselves. */
#define LOG_FD_MIN SFY_LOG_FD_MIN
/* How long a move waits at most for log writes in flight, in ms. A
 * writer holds its mark only from its identity check to the entry of its
 * non-blocking write(2), with signals blocked, so only a writer thread
 * descheduled (or stopped) right there makes a move wait; the bound is a
 * safety net, not a timeout anyone should meet. */
#define MOVE_WAIT_MS 2000

/* log_fd: 2 (stderr, the program's: written as is), our own file, or -1
 * (our file was lost behind our back: lines go nowhere). */
static atomic_int log_level = SFY_LOG_WARN;
static atomic_int log_fd = 2;
/* The identity of our own file, set before log_fd names it (the
 * atomic store of log_fd publishes it). */
static struct sfy_fd_id log_id;
/* Log writes between loading log_fd and entering write(2): a move waits
 * for them before it gives the old number up. */
static atomic_int log_writers;
static atomic_bool atfork_set;

static const char *const level_names[] = {
	[SFY_LOG_ERROR] = "error",
	[SFY_LOG_WARN] = "warn",
	[SFY_LOG_INFO] = "info",
	[SFY_LOG_DEBUG] = "debug",
};

/* A system call by number, never through the library's own syscall()
 * hook; -errno on failure (errno left as it was). */
static long raw(long n, long a, long b, long c, long d)
{
	const struct sfy_real *r = sfy_real();
	int saved = errno;
	long rc;

	if (!r->syscall)
		return -ENOSYS;
	rc = r->syscall(n, a, b, c, d, 0L, 0L);
	if (rc < 0)
		rc = -errno;
	errno = saved;
	return rc;
}

/* The kernel's rt_sigprocmask takes the size of its own sigset_t. */
#define KSIGSET_SIZE 8

/* Every signal a handler could be run for asynchronously. Not the
 * synchronous ones the kernel forces on the thread (a blocked one kills
 * the process instead of running its handler): a program's sandbox may
 * trap our write(2) with seccomp and emulate it in a SIGSYS handler. */
static void block_signals(sigset_t *old)
{
	static const int sync_signals[] = { SIGSYS, SIGSEGV, SIGBUS,
					    SIGILL, SIGFPE, SIGTRAP };
	sigset_t all;
	size_t i;

	sigfillset(&all);
	for (i = 0; i < sizeof(sync_signals) / sizeof(sync_signals[0]); i++)
		sigdelset(&all, sync_signals[i]);
	raw(SYS_rt_sigprocmask, SIG_BLOCK, (long)&all, (long)old, KSIGSET_SIZE);
}

static void restore_signals(const sigset_t *old)
{
	raw(SYS_rt_sigprocmask, SIG_SETMASK, (long)old, 0L, KSIGSET_SIZE);
}

static bool own_file(int fd)
{
	return fd >= 0 && fd != 2;
}

/* fd still holds our log file: a close we could not see (a raw system
 * call, close_range() by number, a library's sweep) may have given its
 * number to a file of the program's. One fstat per use. */
static bool still_ours(int fd)
{
	return sfy_fd_id_same(fd, &log_id);
}

/* fd is no longer ours: stop using it (unless a move already has). Lines
 * go nowhere then: stderr is the program's, and the user asked for them
 * elsewhere. */
static void forget(int fd)
{
	/* A vfork child's descriptors are its own, its memory the parent's:
	 * what it finds must not change the parent's log. */
	if (sfy_in_vfork_child())
		return;
	atomic_compare_exchange_strong(&log_fd, &fd, -1);
}

/* A child of fork() has only the thread that forked: marks of the
 * parent's other threads, copied mid-line, are nobody's. */
static void forked_child(void)
{
	atomic_store(&log_writers, 0);
}

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
	if (own_file(fd)) {
		if (!sfy_fd_id_note(fd, &log_id))
			fd = 2;
		if (!atomic_exchange(&atfork_set, true))
			pthread_atfork(NULL, NULL, forked_child);
	}
	atomic_store(&log_fd, fd);
	atomic_store(&log_level, level);
}

bool sfy_log_owns_fd_slow(int fd)
{
	if (fd < LOG_FD_MIN || atomic_load(&log_fd) != fd)
		return false;
	if (still_ours(fd))
		return true;
	forget(fd);
	return false;
}

int sfy_log_own_fd(void)
{
	int fd = atomic_load(&log_fd);

	if (!own_file(fd))
		return -1;
	if (still_ours(fd))
		return fd;
	forget(fd);
	return -1;
}

/* Until every log write that may have loaded the old number has entered
 * its write(2) (bounded: see MOVE_WAIT_MS). */
static void wait_for_writers(void)
{
	int64_t end = sfy_log_now_us() + MOVE_WAIT_MS * 1000;

	while (atomic_load(&log_writers) > 0 && sfy_log_now_us() < end)
		sched_yield();
}

static void close_fd(int fd)
{
	const struct sfy_real *r = sfy_real();
	int saved = errno;

	if (r->close)
		r->close(fd);
	else
		raw(SYS_close, fd, 0L, 0L, 0L);
	errno = saved;
}

void sfy_log_move_fd(void)
{
	const struct sfy_real *r = sfy_real();
	sigset_t old_mask;
	int old, nfd;

	old = atomic_load(&log_fd);
	if (!own_file(old))
		return;
	/* A vfork child's dup2() replaces only its own copy of the log's
	 * descriptor: nothing to move, and the parent's state stays. */
	if (sfy_in_vfork_child())
		return;
	/* A signal handler of this thread that logs or moves too must not
	 * run between the switch and the close. */
	block_signals(&old_mask);
	if (!still_ours(old)) {
		forget(old);
		goto out;
	}
	/* Above the old number, so the move never lands on a descriptor the
	 * program is about to dup onto (it names only the old one). */
	nfd = r->fcntl ? r->fcntl(old, F_DUPFD_CLOEXEC, old + 1) : -1;
	/* None: give the number up rather than write into the program's
	 * descriptor later. */
	if (!atomic_compare_exchange_strong(&log_fd, &old, nfd < 0 ? -1 : nfd)) {
		/* Another thread moved it first, and closes the old one. */
		if (nfd >= 0)
			close_fd(nfd);
		goto out;
	}
	/* A writer that loaded the old number before the switch may not have
	 * entered write(2) yet: once it has, its write goes to our file
	 * whatever happens to the number, so the number can be given up. */
	wait_for_writers();
	close_fd(old);
out:
	restore_signals(&old_mask);
}

/* write(2) without libc's wrapper: a future hook on write() must never see
 * the library's own log lines. Our own file is non-blocking (config.c):
 * a full pipe drops the line rather than hold up the program. */
static void write_all(int fd, const char *buf, size_t len)
{
	int tries = 8; /* bounded: a log line is never worth a hang */

	while (len > 0 && tries-- > 0) {
		long n = raw(SYS_write, fd, (long)buf, (long)len, 0L);

		if (n == -EINTR)
			continue;
		if (n <= 0)
			return;
		buf += n;
		len -= (size_t)n;
	}
}

/* One line to stderr, or to our own file while it is still ours: the
 * identity check and the write run with signals blocked and counted in
 * log_writers, so neither a move nor a handler can give the number away
 * in between. */
static void emit(const char *line, size_t len)
{
	sigset_t old_mask;
	int fd = atomic_load(&log_fd);

	if (!own_file(fd)) {
		if (fd == 2)
			write_all(2, line, len);
		return;
	}
	block_signals(&old_mask);
	atomic_fetch_add(&log_writers, 1);
	fd = atomic_load(&log_fd);
	if (own_file(fd)) {
		if (still_ours(fd))
			write_all(fd, line, len);
		else
			forget(fd);
	}
	atomic_fetch_sub(&log_writers, 1);
	restore_signals(&old_mask);
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
		     (long)getpid(), level_names[level]);
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
	emit(line, (size_t)n);
	errno = saved;
}

void sfy_log_chain(char *buf, size_t cap, const struct socks5_proxy *chain,
		   const uint16_t *pick, size_t nhops)
{
	/* room for the tail " > ... (512 more)" */
	const size_t tail = sizeof(" > ... (99999 more)");
	char url[SOCKS5_URL_SHOWN_MAX];
	size_t i, used = 0, len;

	if (!cap)
		return;
	buf[0] = '\0';
	for (i = 0; i < nhops; i++) {
		socks5_url_format(&chain[pick ? pick[i] : i], url, sizeof(url));
		len = strlen(url) + (i ? 3 : 0);
		if (used + len + (i + 1 < nhops ? tail : 0) >= cap) {
			snprintf(buf + used, cap - used, "%s... (%zu more)",
				 i ? " > " : "", nhops - i);
			break;
		}
		snprintf(buf + used, cap - used, "%s%s", i ? " > " : "", url);
		used += len;
	}
}

int64_t sfy_log_now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}
