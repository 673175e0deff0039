/*
 * The log's descriptor (preload/base/log.c): a line goes to the log file only
 * while its number still holds that file. After a close the library did
 * not see (raw system calls here), the program's file on the same number
 * gets nothing, is not "owned" (so the close and dup hooks leave it to the
 * program) and is not spared by sweeps. A move leaves the old number
 * closed and the log working. SOCKSIFY_LOG_FILE is not followed through a
 * symbolic link (config.c), and the refusal names the variable.
 */
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "../tools/unseen.h"

#include "base/config.h"
#include "base/log.h"

static char dir[64];

static void setup(void)
{
	snprintf(dir, sizeof(dir), "/tmp/sfy-test-log.XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(dir));
}

static void teardown(void)
{
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	ck_assert_int_eq(system(cmd), 0);
}

static void path(char *buf, size_t cap, const char *name)
{
	snprintf(buf, cap, "%s/%s", dir, name);
}

/* A new file in dir, at number >= 100 as config.c puts the log. */
static int high_file(const char *name)
{
	char p[128];
	int fd, high;

	path(p, sizeof(p), name);
	fd = open(p, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
	ck_assert_int_ge(fd, 0);
	high = fcntl(fd, F_DUPFD_CLOEXEC, SFY_LOG_FD_MIN);
	ck_assert_int_ge(high, SFY_LOG_FD_MIN);
	close(fd);
	return high;
}

static long size_of(const char *name)
{
	char p[128];
	struct stat st;

	path(p, sizeof(p), name);
	return stat(p, &st) < 0 ? -1 : (long)st.st_size;
}

START_TEST(writes_while_ours)
{
	int fd = high_file("log");

	sfy_log_configure(SFY_LOG_INFO, fd);
	ck_assert(sfy_log_owns_fd(fd));
	ck_assert_int_eq(sfy_log_own_fd(), fd);
	errno = EAGAIN;
	sfy_info("one line");
	ck_assert_int_eq(errno, EAGAIN);
	ck_assert_int_gt(size_of("log"), 0);
}
END_TEST

/* close, close_range, dup3 by the system call instruction (unseen.h):
 * the number changes hands behind the library's back. */
static void taken_by(int how)
{
	int fd = high_file("log"), other;
	char p[128];

	sfy_log_configure(SFY_LOG_INFO, fd);
	sfy_info("before");
	ck_assert_int_gt(size_of("log"), 0);
	path(p, sizeof(p), "program");
	other = open(p, O_WRONLY | O_CREAT | O_APPEND, 0600);
	ck_assert_int_ge(other, 0);
	if (how == 0)
		ck_assert_int_eq(unseen(SYS_close, fd, 0, 0), 0);
	else if (how == 1)
		ck_assert_int_eq(unseen(SYS_close_range, fd, (long)~0U, 0), 0);
	ck_assert_int_eq(unseen(SYS_dup3, other, fd, 0), fd);
	sfy_info("after: must not land in the program's file");
	sfy_error("nor this");
	ck_assert_int_eq(size_of("program"), 0);
	ck_assert(!sfy_log_owns_fd(fd));
	ck_assert_int_eq(sfy_log_own_fd(), -1);
	/* still the program's, open */
	ck_assert_int_ge(fcntl(fd, F_GETFD), 0);
}

START_TEST(raw_close_then_reused)
{
	taken_by(0);
}
END_TEST

START_TEST(raw_close_range_then_reused)
{
	taken_by(1);
}
END_TEST

START_TEST(raw_dup_onto_it)
{
	taken_by(2);
}
END_TEST

START_TEST(closed_and_not_reused)
{
	int fd = high_file("log");

	sfy_log_configure(SFY_LOG_INFO, fd);
	ck_assert_int_eq(unseen(SYS_close, fd, 0, 0), 0);
	sfy_info("nowhere");
	ck_assert(!sfy_log_owns_fd(fd));
	ck_assert_int_eq(sfy_log_own_fd(), -1);
}
END_TEST

START_TEST(stderr_is_not_ours)
{
	sfy_log_configure(SFY_LOG_WARN, 2);
	ck_assert(!sfy_log_owns_fd(2));
	ck_assert_int_eq(sfy_log_own_fd(), -1);
	sfy_log_move_fd(); /* nothing to move */
	ck_assert_int_ge(fcntl(2, F_GETFD), 0);
}
END_TEST

START_TEST(move_leaves_old_number_closed)
{
	int fd = high_file("log"), nfd;
	long before;

	sfy_log_configure(SFY_LOG_INFO, fd);
	sfy_log_move_fd();
	nfd = sfy_log_own_fd();
	ck_assert_int_gt(nfd, fd);
	ck_assert(sfy_log_owns_fd(nfd));
	ck_assert(!sfy_log_owns_fd(fd));
	errno = 0;
	ck_assert_int_eq(fcntl(fd, F_GETFD), -1);
	ck_assert_int_eq(errno, EBADF);
	before = size_of("log");
	sfy_info("after the move");
	ck_assert_int_gt(size_of("log"), before);
}
END_TEST

static const char *const *env_now;

static char *fake_getenv(const char *name)
{
	size_t n = strlen(name);
	const char *const *e;

	for (e = env_now; e && *e; e++)
		if (!strncmp(*e, name, n) && (*e)[n] == '=')
			return (char *)*e + n + 1;
	return NULL;
}

START_TEST(log_file_symlink_not_followed)
{
	char target[128], link[128], var[160], err[128], text[1024] = "";
	const char *env[] = { "SOCKSIFY_PROXY=socks5://127.0.0.1:1080", var,
			      NULL };
	struct sfy_config c;
	int saved2, efd;
	ssize_t n;

	path(target, sizeof(target), "target");
	path(link, sizeof(link), "link");
	path(err, sizeof(err), "stderr");
	ck_assert_int_eq(symlink(target, link), 0);
	snprintf(var, sizeof(var), "SOCKSIFY_LOG_FILE=%s", link);
	efd = open(err, O_RDWR | O_CREAT | O_TRUNC, 0600);
	saved2 = dup(2);
	ck_assert_int_eq(dup2(efd, 2), 2);
	env_now = env;
	sfy_config_parse(&c, fake_getenv);
	dup2(saved2, 2);
	close(saved2);
	ck_assert_int_eq(c.log_fd, 2);
	ck_assert_int_eq(size_of("target"), -1);
	n = pread(efd, text, sizeof(text) - 1, 0);
	ck_assert_int_gt(n, 0);
	text[n] = '\0';
	ck_assert_ptr_nonnull(strstr(text, "SOCKSIFY_LOG_FILE"));
	ck_assert_ptr_nonnull(strstr(text, "symbolic link"));
	close(efd);
}
END_TEST

static Suite *log_suite(void)
{
	Suite *s = suite_create("log");
	TCase *tc = tcase_create("fd");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, writes_while_ours);
	tcase_add_test(tc, raw_close_then_reused);
	tcase_add_test(tc, raw_close_range_then_reused);
	tcase_add_test(tc, raw_dup_onto_it);
	tcase_add_test(tc, closed_and_not_reused);
	tcase_add_test(tc, stderr_is_not_ours);
	tcase_add_test(tc, move_leaves_old_number_closed);
	tcase_add_test(tc, log_file_symlink_not_followed);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(log_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
