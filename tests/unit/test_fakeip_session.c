/*
 * The session's fake-IP map (state/session.h, dns/fakeip.h): processes
 * that each map the file anew, as exec'd programs do, writing at once,
 * writers killed mid-update, and the session's refusals (symlinks, files
 * or directories not private).
 */
#include <arpa/inet.h>
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <signal.h>
#include <unistd.h>

#include "base/config.h"
#include "dns/fakeip.h"
#include "fakeip_fixture.h"
#include "state/session.h"

static struct sfy_cidr c4;

static char sdir[64];

/* A fresh private session directory, named in SOCKSIFY_SESSION. */
static void session_make(void)
{
	snprintf(sdir, sizeof(sdir), "/tmp/socksify-XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(sdir));
	ck_assert_int_eq(setenv("SOCKSIFY_SESSION", sdir, 1), 0);
}

static void session_drop(void)
{
	char p[128];

	snprintf(p, sizeof(p), "%s/names", sdir);
	unlink(p);
	rmdir(sdir);
	unsetenv("SOCKSIFY_SESSION");
}

/* The map as a new program image sees it: mapped anew from the file. */
static void session_map(void)
{
	ffx_cidr(&c4, AF_INET, "198.18.0.0", 15);
	ck_assert_int_eq(sfy_fakeip_init_test(&c4, NULL, 0, true), 0);
}

#define SW_PROCS 4
#define SW_NAMES 25000 /* 100 000 names in all */

/* Writers in four processes, each with its own mapping of the file, add
 * 100 000 names at once; every name then maps to its own address, both
 * ways, from a fifth mapping. */
START_TEST(session_writers)
{
	struct in_addr v, (*got)[SW_NAMES];
	char nm[32], name[256];
	pid_t pid[SW_PROCS];
	int st;

	/* what each writer was handed, for the check from another mapping */
	got = mmap(NULL, sizeof(*got) * SW_PROCS, PROT_READ | PROT_WRITE,
		   MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	ck_assert_ptr_ne(got, MAP_FAILED);
	session_make();
	for (int p = 0; p < SW_PROCS; p++) {
		pid[p] = fork();
		ck_assert_int_ge(pid[p], 0);
		if (pid[p] == 0) {
			session_map();
			for (unsigned i = 0; i < SW_NAMES; i++) {
				snprintf(nm, sizeof(nm), "w%d-%u.test", p, i);
				if (ffx_assign(nm, &got[p][i], NULL) != 0)
					_exit(2);
			}
			_exit(0);
		}
	}
	for (int p = 0; p < SW_PROCS; p++) {
		ck_assert_int_eq(waitpid(pid[p], &st, 0), pid[p]);
		ck_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	}
	session_map();
	for (int p = 0; p < SW_PROCS; p++)
		for (unsigned i = 0; i < SW_NAMES; i++) {
			snprintf(nm, sizeof(nm), "w%d-%u.test", p, i);
			ck_assert_int_eq(ffx_name4(got[p][i], name, sizeof(name)), 0);
			ck_assert_str_eq(name, nm);
			ck_assert_int_eq(ffx_assign(nm, &v, NULL), 0);
			ck_assert_uint_eq(v.s_addr, got[p][i].s_addr);
		}
	munmap(got, sizeof(*got) * SW_PROCS);
	session_drop();
}
END_TEST

/* The same with the session's map, each process mapping the file anew. */
START_TEST(session_killed_writer)
{
	session_make();
	ffx_killed_writers(session_map);
	session_drop();
}
END_TEST

/* Lookups take no lock: with the writer lock held by a stopped process,
 * every known name is found both ways (before, they waited for it); a new
 * name waits, and goes through once the holder is SIGKILLed (robust lock,
 * recovery). Processes map the file each on their own. */
START_TEST(session_lookups_lock_free)
{
	enum { N = 1000 };
	static struct in_addr addr[N];
	struct timespec ms = { 0, 1000 * 1000 };
	struct in_addr v;
	char nm[32], name[256];
	int fds[2], st, waited;
	pid_t holder, adder;

	session_make();
	session_map();
	for (int i = 0; i < N; i++) {
		snprintf(nm, sizeof(nm), "known%d.test", i);
		ck_assert_int_eq(ffx_assign(nm, &addr[i], NULL), 0);
	}
	ck_assert_int_eq(pipe(fds), 0);
	holder = fork();
	ck_assert_int_ge(holder, 0);
	if (holder == 0) {
		session_map();
		if (sfy_fakeip_hold_lock_test() != 0)
			_exit(1);
		if (write(fds[1], "L", 1) != 1)
			_exit(1);
		pause();
		_exit(0);
	}
	ck_assert_int_eq(read(fds[0], nm, 1), 1);
	/* a watchdog: a lookup that waits for the lock fails the test */
	alarm(20);
	for (int i = 0; i < N; i++) {
		snprintf(nm, sizeof(nm), "KNOWN%d.test.", i);
		ck_assert_int_eq(ffx_assign(nm, &v, NULL), 0);
		ck_assert_uint_eq(v.s_addr, addr[i].s_addr);
		ck_assert_int_eq(ffx_name4(addr[i], name, sizeof(name)), 0);
		snprintf(nm, sizeof(nm), "known%d.test", i);
		ck_assert_str_eq(name, nm);
	}
	alarm(0);
	/* a new name needs the lock: it waits while the holder lives */
	adder = fork();
	ck_assert_int_ge(adder, 0);
	if (adder == 0) {
		session_map();
		_exit(ffx_assign("new.test", &v, NULL) != 0 ||
		      ffx_name4(v, name, sizeof(name)) != 0 ||
		      strcmp(name, "new.test") != 0);
	}
	for (waited = 0; waited < 200; waited++)
		nanosleep(&ms, NULL);
	ck_assert_int_eq(waitpid(adder, &st, WNOHANG), 0);
	kill(holder, SIGKILL);
	ck_assert_int_eq(waitpid(holder, &st, 0), holder);
	for (waited = 0; waited < 10000; waited++) {
		if (waitpid(adder, &st, WNOHANG) == adder)
			break;
		nanosleep(&ms, NULL);
	}
	if (waited == 10000) {
		kill(adder, SIGKILL);
		waitpid(adder, &st, 0);
	}
	ck_assert_int_lt(waited, 10000);
	ck_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	close(fds[0]);
	close(fds[1]);
	session_drop();
}
END_TEST

/* Writers in two processes keep reusing the entries of a small map while
 * readers in two more read names by address and by name, each process
 * with its own mapping: every name read is whole (never torn), every name
 * found by name is the one asked for. */
START_TEST(session_readers_during_reuse)
{
	enum { CAP = 64, WRITES = 20000, TURNS = 200000 };
	pid_t pid[4];
	int st;

	session_make();
	for (int p = 0; p < 4; p++) {
		pid[p] = fork();
		ck_assert_int_ge(pid[p], 0);
		if (pid[p] != 0)
			continue;
		ffx_cidr(&c4, AF_INET, "198.18.0.0", 15);
		if (sfy_fakeip_init_test(&c4, NULL, CAP, true) != 0)
			_exit(2);
		for (unsigned i = 0; p < 2 && i < WRITES; i++) {
			char nm[256];
			struct in_addr v;

			ffx_selfname(nm, (unsigned)p, i);
			if (ffx_assign(nm, &v, NULL))
				_exit(3);
		}
		for (unsigned t = 0; p >= 2 && t < TURNS; t++) {
			struct in_addr a = { htonl(0xc6120001u + t % CAP) }, v;
			char name[256], again[256];
			int rc = ffx_name4(a, name, sizeof(name));

			if (rc == -ENOENT)
				continue;
			if (rc != 0 || !ffx_selfname_ok(name))
				_exit(4);
			if (ffx_assign(name, &v, NULL))
				_exit(5);
			rc = ffx_name4(v, again, sizeof(again));
			if (rc == 0 && !ffx_selfname_ok(again))
				_exit(6);
		}
		_exit(0);
	}
	for (int p = 0; p < 4; p++) {
		ck_assert_int_eq(waitpid(pid[p], &st, 0), pid[p]);
		ck_assert_msg(WIFEXITED(st) && WEXITSTATUS(st) == 0,
			      "process %d: status %d", p, st);
	}
	session_drop();
}
END_TEST

static int no_init(void *p, size_t len, void *arg)
{
	(void)p;
	(void)len;
	(void)arg;
	return 0;
}

/* Nothing but a private directory and a private regular file of ours. */
START_TEST(session_refusals)
{
	char path[128];
	void *p = NULL;
	int fd;

	session_make();
	snprintf(path, sizeof(path), "%s/names", sdir);
	ck_assert_int_eq(symlink("/tmp/elsewhere", path), 0);
	ck_assert_int_eq(sfy_session_region("names", 4096, no_init, NULL, &p),
			 -ELOOP);
	unlink(path);
	fd = open(path, O_CREAT | O_WRONLY, 0600);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(fchmod(fd, 0644), 0);
	close(fd);
	ck_assert_int_eq(sfy_session_region("names", 4096, no_init, NULL, &p),
			 -EPERM);
	unlink(path);
	if (geteuid() == 0) { /* a file planted by another user */
		fd = open(path, O_CREAT | O_WRONLY, 0600);
		ck_assert_int_ge(fd, 0);
		ck_assert_int_eq(fchown(fd, 65534, 65534), 0);
		close(fd);
		ck_assert_int_eq(sfy_session_region("names", 4096, no_init,
						    NULL, &p), -EPERM);
		unlink(path);
	}
	ck_assert_int_eq(chmod(sdir, 0755), 0);
	ck_assert_int_lt(sfy_session_region("names", 4096, no_init, NULL, &p), 0);
	ck_assert_int_eq(chmod(sdir, 0700), 0);
	ck_assert_int_eq(sfy_session_region("../x", 4096, no_init, NULL, &p),
			 -EINVAL);
	ck_assert_int_eq(sfy_session_region("names", 4096, no_init, NULL, &p), 0);
	ck_assert_int_eq(munmap(p, 4096), 0);
	/* the same region asked for with another size (other settings) */
	ck_assert_int_eq(sfy_session_region("names", 8192, no_init, NULL, &p),
			 -EINVAL);
	session_drop();
}
END_TEST

static Suite *session_suite(void)
{
	Suite *s = suite_create("fakeip_session");
	TCase *tc = tcase_create("session");

	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, session_writers);
	tcase_add_test(tc, session_killed_writer);
	tcase_add_test(tc, session_refusals);
	tcase_add_test(tc, session_lookups_lock_free);
	tcase_add_test(tc, session_readers_during_reuse);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(session_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
