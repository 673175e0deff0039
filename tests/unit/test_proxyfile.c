/*
 * SOCKSIFY_PROXY_FILE (preload/base/proxyfile.c) and its place in the
 * configuration: a file of the user's own, mode 0600, is read (comments,
 * blank lines, CRLF, one hop per line); anything looser, anyone else's, not
 * a regular file, a symbolic link, too large, empty or with a bad line is
 * refused with a message that names the file (and the line) and none of
 * the contents; the configuration then fails closed. The reader is
 * libsocks5's (client/proxyfile.c), the one the command uses too. Messages are read back from SOCKSIFY_LOG_FILE.
 */
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/config.h"
#include "base/proxyfile.h"

static char dir[64], path[128], log_path[160];
static const char *env_file, *env_proxy;

static void setup(void)
{
	snprintf(dir, sizeof(dir), "/tmp/sfy-test-pf.XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/proxy", dir);
	snprintf(log_path, sizeof(log_path), "%s/log", dir);
	env_file = env_proxy = NULL;
}

static void teardown(void)
{
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	ck_assert_int_eq(system(cmd), 0);
}

/* Writes text to path with mode (exactly: umask does not apply). */
static void put(const char *text, mode_t mode)
{
	int fd;

	unlink(path);
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0600);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
	ck_assert_int_eq(chmod(path, mode), 0);
}

static char out[SFY_PROXY_FILE_MAX + 1], why[512];

static int rd(const char *p)
{
	memset(out, 'x', sizeof(out));
	return sfy_proxy_file_read(p, out, sizeof(out), why, sizeof(why));
}

static bool all_zero(const char *b, size_t n)
{
	while (n--)
		if (*b++)
			return false;
	return true;
}

START_TEST(good_file)
{
	put("socks5h://alice:pw-secret@192.0.2.1:1080\n", 0600);
	ck_assert_int_eq(rd(path), 0);
	ck_assert_str_eq(out, "socks5h://alice:pw-secret@192.0.2.1:1080");
	put("socks5://192.0.2.1", 0400); /* read-only for the owner, no newline */
	ck_assert_int_eq(rd(path), 0);
	ck_assert_str_eq(out, "socks5://192.0.2.1");
}
END_TEST

START_TEST(lines_comments_crlf)
{
	put("# my proxies\r\n\r\n  socks5://a:1@192.0.2.1:1080 \r\n"
	    "\t# second hop\n\tsocks5h://192.0.2.2:1081\n\n", 0600);
	ck_assert_int_eq(rd(path), 0);
	ck_assert_str_eq(out, "socks5://a:1@192.0.2.1:1080,socks5h://192.0.2.2:1081");
}
END_TEST

START_TEST(group_or_world_access_refused)
{
	static const mode_t modes[] = { 0640, 0604, 0620, 0602, 0610, 0601, 0644, 0666 };
	char want[32];
	size_t i;

	for (i = 0; i < sizeof(modes) / sizeof(modes[0]); i++) {
		put("socks5://u:pw-secret@192.0.2.1\n", modes[i]);
		ck_assert_int_eq(rd(path), -EPERM);
		snprintf(want, sizeof(want), "mode %04o", (unsigned)modes[i]);
		ck_assert_ptr_nonnull(strstr(why, want));
		ck_assert_ptr_nonnull(strstr(why, "chmod 600"));
		ck_assert_ptr_null(strstr(why, "pw-secret"));
		ck_assert(all_zero(out, sizeof(out)));
	}
}
END_TEST

START_TEST(someone_elses_file_refused)
{
	const char *p = path;

	if (geteuid() == 0) {
		put("socks5://192.0.2.1\n", 0600);
		ck_assert_int_eq(chown(path, 65534, 65534), 0);
	} else {
		p = "/etc/passwd"; /* root's */
	}
	ck_assert_int_eq(rd(p), -EPERM);
	ck_assert_ptr_nonnull(strstr(why, "belongs to uid"));
}
END_TEST

START_TEST(not_a_regular_file)
{
	char fifo[160];

	ck_assert_int_eq(rd(dir), -EINVAL);
	ck_assert_ptr_nonnull(strstr(why, "not a regular file"));
	/* a FIFO: refused at once, never waited on */
	snprintf(fifo, sizeof(fifo), "%s/fifo", dir);
	ck_assert_int_eq(mkfifo(fifo, 0600), 0);
	ck_assert_int_eq(rd(fifo), -EINVAL);
	ck_assert_int_eq(rd("/dev/null"), geteuid() == 0 ? -EINVAL : -EPERM);
}
END_TEST

START_TEST(missing_file)
{
	ck_assert_int_eq(rd("/nonexistent/sfy-proxy"), -ENOENT);
	ck_assert_ptr_nonnull(strstr(why, "cannot open '/nonexistent/sfy-proxy'"));
}
END_TEST

START_TEST(too_large)
{
	char *big = malloc(SFY_PROXY_FILE_MAX + 2);

	ck_assert_ptr_nonnull(big);
	memset(big, '#', SFY_PROXY_FILE_MAX + 1);
	big[SFY_PROXY_FILE_MAX + 1] = '\0';
	put(big, 0600);
	ck_assert_int_eq(rd(path), -EFBIG);
	/* exactly the limit is fine (here: all comment, so "no URL") */
	big[SFY_PROXY_FILE_MAX] = '\0';
	put(big, 0600);
	ck_assert_int_eq(rd(path), -EINVAL);
	ck_assert_ptr_nonnull(strstr(why, "holds no proxy URL"));
	free(big);
}
END_TEST

START_TEST(empty_or_only_comments)
{
	put("", 0600);
	ck_assert_int_eq(rd(path), -EINVAL);
	put("# nothing\n\n   \n", 0600);
	ck_assert_int_eq(rd(path), -EINVAL);
	ck_assert_ptr_nonnull(strstr(why, "holds no proxy URL"));
}
END_TEST

/* O_NOFOLLOW, as the command has always had it: one rule for both. */
START_TEST(symlink_refused)
{
	char link[160];

	put("socks5://192.0.2.9:1080\n", 0600);
	snprintf(link, sizeof(link), "%s/link", dir);
	ck_assert_int_eq(symlink(path, link), 0);
	ck_assert_int_eq(rd(link), -ELOOP);
	ck_assert_ptr_nonnull(strstr(why, "is a symbolic link"));
	ck_assert_ptr_nonnull(strstr(why, link));
}
END_TEST

/* The defect of issue 12: a trailing comment after blanks was kept by the
 * library ("port \"1080  \" is not a decimal number") and cut by the
 * command. Now it is a comment for both. */
START_TEST(trailing_comment)
{
	put("socks5://127.0.0.1:1080  # office proxy\n"
	    "socks5h://u:p%23w@192.0.2.2:1081\t#second\r\n", 0600);
	ck_assert_int_eq(rd(path), 0);
	ck_assert_str_eq(out, "socks5://127.0.0.1:1080,socks5h://u:p%23w@192.0.2.2:1081");
	/* a '#' with no blank before it belongs to the URL (and is refused
	 * by the URL parser as a port) */
	put("socks5://127.0.0.1:1080#x\n", 0600);
	ck_assert_int_eq(rd(path), -EINVAL);
	ck_assert_ptr_nonnull(strstr(why, "line 1: "));
}
END_TEST

/* Text after the URL that is not a comment is refused with the file and
 * the line, never cut silently; the password stays masked. */
START_TEST(bad_line_named)
{
	put("# proxies\n\nsocks5://u:pw-secret@192.0.2.1:1080 extra\n", 0600);
	ck_assert_int_eq(rd(path), -EINVAL);
	ck_assert_ptr_nonnull(strstr(why, path));
	ck_assert_ptr_nonnull(strstr(why, "line 3: "));
	ck_assert_ptr_null(strstr(why, "pw-secret"));
	ck_assert(all_zero(out, sizeof(out)));
	put("socks5://192.0.2.1\nnot a url\n", 0600);
	ck_assert_int_eq(rd(path), -EINVAL);
	ck_assert_ptr_nonnull(strstr(why, "line 2: "));
}
END_TEST

START_TEST(nul_byte_refused)
{
	static const char text[] = "socks5://192.0.2.1\0:1080\n";
	int fd;

	unlink(path);
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0600);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(write(fd, text, sizeof(text) - 1), (ssize_t)sizeof(text) - 1);
	close(fd);
	ck_assert_int_eq(rd(path), -EINVAL);
	ck_assert_ptr_nonnull(strstr(why, "line 1: holds a NUL byte"));
}
END_TEST

/* Exactly SFY_PROXY_FILE_MAX bytes with a URL in them is read (the
 * command used to refuse it, the library to accept it). */
START_TEST(limit_with_url)
{
	char *big = malloc(SFY_PROXY_FILE_MAX + 1);
	static const char url[] = "socks5://192.0.2.1:1080\n";

	ck_assert_ptr_nonnull(big);
	memset(big, '#', SFY_PROXY_FILE_MAX);
	big[SFY_PROXY_FILE_MAX] = '\0';
	memcpy(big + SFY_PROXY_FILE_MAX - strlen(url) - 1, "\n", 1);
	memcpy(big + SFY_PROXY_FILE_MAX - strlen(url), url, strlen(url));
	put(big, 0600);
	ck_assert_int_eq(rd(path), 0);
	ck_assert_str_eq(out, "socks5://192.0.2.1:1080");
	free(big);
}
END_TEST

/* The pure parser, without a file. */
START_TEST(parse_without_io)
{
	static const char text[] = "  socks5://192.0.2.1 # a\n#b\n";
	char o[64], w[128];

	ck_assert_int_eq(socks5_proxy_file_parse(text, sizeof(text) - 1, o,
						 sizeof(o), w, sizeof(w)), 0);
	ck_assert_str_eq(o, "socks5://192.0.2.1");
	ck_assert_int_eq(socks5_proxy_file_parse("#\n", 2, o, sizeof(o), w,
						 sizeof(w)), -EINVAL);
	ck_assert_str_eq(w, "holds no proxy URL");
	ck_assert_int_eq(socks5_proxy_file_parse(text, SOCKS5_PROXY_FILE_MAX + 1,
						 o, sizeof(o), w, sizeof(w)),
			 -EFBIG);
}
END_TEST

/* ---- through the configuration ------------------------------------------ */

static char *fake_getenv(const char *name)
{
	if (!strcmp(name, "SOCKSIFY_PROXY_FILE"))
		return (char *)env_file;
	if (!strcmp(name, "SOCKSIFY_PROXY"))
		return (char *)env_proxy;
	if (!strcmp(name, "SOCKSIFY_LOG_FILE"))
		return log_path;
	return NULL;
}

static const char *logged(void)
{
	static char buf[4096];
	FILE *f = fopen(log_path, "r");
	size_t n = 0;

	if (f) {
		n = fread(buf, 1, sizeof(buf) - 1, f);
		fclose(f);
	}
	buf[n] = '\0';
	return buf;
}

START_TEST(config_reads_the_file)
{
	struct sfy_config c;

	put("socks5h://alice:pw-secret@192.0.2.1:1080\nsocks5://192.0.2.2:1081\n", 0600);
	env_file = path;
	ck_assert_int_eq(sfy_config_parse(&c, fake_getenv), 0);
	ck_assert(c.enabled && !c.broken);
	ck_assert_uint_eq(c.nhops, 2);
	ck_assert_str_eq(c.chain[0].pass, "pw-secret");
	ck_assert_str_eq(c.chain[1].host, "192.0.2.2");
	ck_assert_int_eq(c.dns, SFY_DNS_LOCAL); /* the last hop decides */
	/* an empty SOCKSIFY_PROXY does not stand in the way */
	env_proxy = "";
	ck_assert_int_eq(sfy_config_parse(&c, fake_getenv), 0);
	ck_assert_uint_eq(c.nhops, 2);
}
END_TEST

START_TEST(config_fails_closed)
{
	struct sfy_config c;

	put("socks5://u:pw-secret@192.0.2.1\n", 0644);
	env_file = path;
	ck_assert_int_eq(sfy_config_parse(&c, fake_getenv), -EINVAL);
	ck_assert(c.enabled && c.broken);
	ck_assert_uint_eq(c.nhops, 0);
	ck_assert_ptr_nonnull(strstr(logged(), "SOCKSIFY_PROXY_FILE: "));
	ck_assert_ptr_nonnull(strstr(logged(), "chmod 600"));

	env_file = "/nonexistent/sfy-proxy";
	ck_assert_int_eq(sfy_config_parse(&c, fake_getenv), -EINVAL);
	ck_assert(c.enabled && c.broken);

	/* a bad URL inside: the message masks the password */
	put("socks5://u:pw-secret@192.0.2.1:99999\n", 0600);
	env_file = path;
	ck_assert_int_eq(sfy_config_parse(&c, fake_getenv), -EINVAL);
	ck_assert(c.broken);
	ck_assert_ptr_nonnull(strstr(logged(), "port"));
	ck_assert_ptr_null(strstr(logged(), "pw-secret"));
}
END_TEST

START_TEST(config_both_set_is_ambiguous)
{
	struct sfy_config c;

	put("socks5://192.0.2.1\n", 0600);
	env_file = path;
	env_proxy = "socks5://192.0.2.3";
	ck_assert_int_eq(sfy_config_parse(&c, fake_getenv), -EINVAL);
	ck_assert(c.enabled && c.broken);
	ck_assert_ptr_nonnull(strstr(logged(), "set only one"));
}
END_TEST

static Suite *proxyfile_suite(void)
{
	Suite *s = suite_create("proxyfile");
	TCase *tc = tcase_create("file");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, good_file);
	tcase_add_test(tc, lines_comments_crlf);
	tcase_add_test(tc, group_or_world_access_refused);
	tcase_add_test(tc, someone_elses_file_refused);
	tcase_add_test(tc, not_a_regular_file);
	tcase_add_test(tc, missing_file);
	tcase_add_test(tc, too_large);
	tcase_add_test(tc, empty_or_only_comments);
	tcase_add_test(tc, symlink_refused);
	tcase_add_test(tc, trailing_comment);
	tcase_add_test(tc, bad_line_named);
	tcase_add_test(tc, nul_byte_refused);
	tcase_add_test(tc, limit_with_url);
	tcase_add_test(tc, parse_without_io);
	suite_add_tcase(s, tc);

	tc = tcase_create("config");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, config_reads_the_file);
	tcase_add_test(tc, config_fails_closed);
	tcase_add_test(tc, config_both_set_is_ambiguous);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(proxyfile_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
