/*
 * The fake-IP map: both directions, normalisation, ranges, threads, fork,
 * reuse when full, a lock holder killed mid-update, many names. The
 * session's map is in test_fakeip_session.c.
 */
#include <arpa/inet.h>
#include <check.h>
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "base/config.h"
#include "dns/fakeip.h"
#include "fakeip_fixture.h"

static struct sfy_cidr c4, c6;

/* The defaults: 198.18.0.0/15 and fd53:6f63:6b73:6966::/64. */
static void setup_default(void)
{
	ffx_cidr(&c4, AF_INET, "198.18.0.0", 15);
	ffx_cidr(&c6, AF_INET6, "fd53:6f63:6b73:6966::", 64);
	ck_assert_int_eq(sfy_fakeip_init_ranges(&c4, &c6, 0), 0);
	ck_assert_int_eq(sfy_fakeip_init(), 0);
}

static struct sockaddr_in sin4(const char *text)
{
	struct sockaddr_in s;

	memset(&s, 0, sizeof(s));
	s.sin_family = AF_INET;
	ck_assert_int_eq(inet_pton(AF_INET, text, &s.sin_addr), 1);
	return s;
}

static struct sockaddr_in6 sin6(const char *text)
{
	struct sockaddr_in6 s;

	memset(&s, 0, sizeof(s));
	s.sin6_family = AF_INET6;
	ck_assert_int_eq(inet_pton(AF_INET6, text, &s.sin6_addr), 1);
	return s;
}

static void text4(const struct in_addr *a, char *buf)
{
	inet_ntop(AF_INET, a, buf, INET_ADDRSTRLEN);
}

static void text6(const struct in6_addr *a, char *buf)
{
	inet_ntop(AF_INET6, a, buf, INET6_ADDRSTRLEN);
}

START_TEST(both_directions)
{
	struct in_addr v4;
	struct in6_addr v6;
	struct sockaddr_in6 s6;
	char t[INET6_ADDRSTRLEN], name[256];

	setup_default();
	ck_assert_int_eq(ffx_assign("target.test", &v4, &v6), 0);
	/* index 0 is the network address: the first name gets base + 1 */
	text4(&v4, t);
	ck_assert_str_eq(t, "198.18.0.1");
	text6(&v6, t);
	ck_assert_str_eq(t, "fd53:6f63:6b73:6966::1");

	ck_assert_int_eq(ffx_name4(v4, name, sizeof(name)), 0);
	ck_assert_str_eq(name, "target.test");
	memset(&s6, 0, sizeof(s6));
	s6.sin6_family = AF_INET6;
	s6.sin6_addr = v6;
	ck_assert(sfy_fakeip_in_range((struct sockaddr *)&s6));
	ck_assert_int_eq(sfy_fakeip_name((struct sockaddr *)&s6, name,
					 sizeof(name)), 0);
	ck_assert_str_eq(name, "target.test");

	/* the second name gets the next entry, in both families */
	ck_assert_int_eq(ffx_assign("other.test", &v4, NULL), 0);
	text4(&v4, t);
	ck_assert_str_eq(t, "198.18.0.2");
	ck_assert_int_eq(ffx_assign("other.test", NULL, &v6), 0);
	text6(&v6, t);
	ck_assert_str_eq(t, "fd53:6f63:6b73:6966::2");
	/* asking again changes nothing */
	ck_assert_int_eq(ffx_assign("target.test", &v4, NULL), 0);
	text4(&v4, t);
	ck_assert_str_eq(t, "198.18.0.1");
	/* a name too long for the caller's buffer */
	ck_assert_int_eq(ffx_name4(v4, name, 5), -ENAMETOOLONG);
}
END_TEST

START_TEST(case_and_trailing_dot)
{
	struct in_addr a, b, c;
	char name[256];

	setup_default();
	ck_assert_int_eq(ffx_assign("Mixed.Example.ORG", &a, NULL), 0);
	ck_assert_int_eq(ffx_assign("mixed.example.org.", &b, NULL), 0);
	ck_assert_int_eq(ffx_assign("MIXED.EXAMPLE.ORG.", &c, NULL), 0);
	ck_assert_uint_eq(a.s_addr, b.s_addr);
	ck_assert_uint_eq(a.s_addr, c.s_addr);
	ck_assert_int_eq(ffx_name4(a, name, sizeof(name)), 0);
	ck_assert_str_eq(name, "mixed.example.org");
	/* len is honoured: no NUL needed after the name */
	ck_assert_int_eq(sfy_fakeip_for_name("mixed.example.orgXYZ", 17, &b,
					     NULL), 0);
	ck_assert_uint_eq(a.s_addr, b.s_addr);
}
END_TEST

START_TEST(bad_names)
{
	char n255[256], n256[257];
	struct in_addr a;

	setup_default();
	ck_assert_int_eq(sfy_fakeip_for_name("", 0, &a, NULL), -EINVAL);
	ck_assert_int_eq(ffx_assign(".", &a, NULL), -EINVAL);
	ck_assert_int_eq(sfy_fakeip_for_name("a\0b", 3, &a, NULL), -EINVAL);
	ck_assert_int_eq(sfy_fakeip_for_name(NULL, 3, &a, NULL), -EINVAL);
	memset(n255, 'a', 255);
	n255[255] = '\0';
	ck_assert_int_eq(ffx_assign(n255, &a, NULL), 0);
	memset(n256, 'a', 256);
	n256[256] = '\0';
	ck_assert_int_eq(ffx_assign(n256, &a, NULL), -EINVAL);
	n256[255] = '.'; /* 255 bytes and a trailing dot: fine */
	ck_assert_int_eq(ffx_assign(n256, &a, NULL), 0);
}
END_TEST

START_TEST(ranges)
{
	struct sockaddr_in in;
	struct sockaddr_in6 in6;
	char name[256];

	setup_default();
	in = sin4("198.18.0.0");
	ck_assert(sfy_fakeip_in_range((struct sockaddr *)&in));
	ck_assert_int_eq(sfy_fakeip_name((struct sockaddr *)&in, name, 256),
			 -ENOENT);
	in = sin4("198.19.255.255"); /* broadcast: in range, never assigned */
	ck_assert(sfy_fakeip_in_range((struct sockaddr *)&in));
	ck_assert_int_eq(sfy_fakeip_name((struct sockaddr *)&in, name, 256),
			 -ENOENT);
	in = sin4("198.18.7.7"); /* in range, not assigned */
	ck_assert_int_eq(sfy_fakeip_name((struct sockaddr *)&in, name, 256),
			 -ENOENT);
	in = sin4("198.20.0.1");
	ck_assert(!sfy_fakeip_in_range((struct sockaddr *)&in));
	ck_assert_int_eq(sfy_fakeip_name((struct sockaddr *)&in, name, 256),
			 -EINVAL);
	in = sin4("198.17.255.255");
	ck_assert(!sfy_fakeip_in_range((struct sockaddr *)&in));
	in6 = sin6("fd53:6f63:6b73:6967::1");
	ck_assert(!sfy_fakeip_in_range((struct sockaddr *)&in6));
	in6 = sin6("fd53:6f63:6b73:6966:1::1"); /* far past the capacity */
	ck_assert(sfy_fakeip_in_range((struct sockaddr *)&in6));
	ck_assert_int_eq(sfy_fakeip_name((struct sockaddr *)&in6, name, 256),
			 -ENOENT);
	in6 = sin6("::1");
	ck_assert(!sfy_fakeip_in_range((struct sockaddr *)&in6));
	in.sin_family = AF_UNIX;
	ck_assert(!sfy_fakeip_in_range((struct sockaddr *)&in));
	ck_assert(!sfy_fakeip_in_range(NULL));
}
END_TEST

START_TEST(v4_mapped)
{
	struct in_addr v4;
	struct sockaddr_in6 in6;
	char t[INET6_ADDRSTRLEN + 8], name[256];

	setup_default();
	ck_assert_int_eq(ffx_assign("mapped.test", &v4, NULL), 0);
	strcpy(t, "::ffff:");
	text4(&v4, t + 7);
	in6 = sin6(t);
	ck_assert(sfy_fakeip_in_range((struct sockaddr *)&in6));
	ck_assert_int_eq(sfy_fakeip_name((struct sockaddr *)&in6, name, 256),
			 0);
	ck_assert_str_eq(name, "mapped.test");
	in6 = sin6("::ffff:10.0.0.1");
	ck_assert(!sfy_fakeip_in_range((struct sockaddr *)&in6));
	in6 = sin6("::ffff:198.19.255.255");
	ck_assert(sfy_fakeip_in_range((struct sockaddr *)&in6));
	ck_assert_int_eq(sfy_fakeip_name((struct sockaddr *)&in6, name, 256),
			 -ENOENT);
}
END_TEST

START_TEST(small_ranges)
{
	struct sfy_cidr tiny, none;
	struct in_addr v4;
	struct in6_addr v6;
	char t[INET6_ADDRSTRLEN];

	/* /30: addresses .1 and .2 only; the v6 range is larger */
	ffx_cidr(&tiny, AF_INET, "203.0.113.4", 30);
	ffx_cidr(&c6, AF_INET6, "fd00::", 120);
	ck_assert_int_eq(sfy_fakeip_init_ranges(&tiny, &c6, 0), 0);
	ck_assert_int_eq(ffx_assign("a.test", &v4, NULL), 0);
	text4(&v4, t);
	ck_assert_str_eq(t, "203.0.113.5");
	ck_assert_int_eq(ffx_assign("b.test", &v4, NULL), 0);
	text4(&v4, t);
	ck_assert_str_eq(t, "203.0.113.6");
	ck_assert_int_eq(ffx_assign("c.test", &v4, NULL), 0); /* reuses a's */
	text4(&v4, t);
	ck_assert_str_eq(t, "203.0.113.5");

	/* host bits in the configured base are ignored */
	ffx_cidr(&c4, AF_INET, "198.18.3.4", 15);
	ck_assert_int_eq(sfy_fakeip_init_ranges(&c4, NULL, 0), 0);
	ck_assert_int_eq(ffx_assign("x.test", &v4, NULL), 0);
	text4(&v4, t);
	ck_assert_str_eq(t, "198.18.0.1");
	/* no IPv6 range configured */
	ck_assert_int_eq(ffx_assign("x.test", NULL, &v6), -EAFNOSUPPORT);

	/* IPv6 only */
	memset(&none, 0, sizeof(none));
	ck_assert_int_eq(sfy_fakeip_init_ranges(&none, &c6, 0), 0);
	ck_assert_int_eq(ffx_assign("y.test", NULL, &v6), 0);
	text6(&v6, t);
	ck_assert_str_eq(t, "fd00::1");
	ck_assert_int_eq(ffx_assign("y.test", &v4, NULL), -EAFNOSUPPORT);

	/* nothing usable: /31 and /32 hold no host address */
	ffx_cidr(&tiny, AF_INET, "203.0.113.4", 31);
	ck_assert_int_eq(sfy_fakeip_init_ranges(&tiny, NULL, 0), -EINVAL);
	ck_assert_int_eq(ffx_assign("z.test", &v4, NULL), -EINVAL);
}
END_TEST

/* The IPv4 range test answers from one word (fakeip.h): each setup must
 * replace it, a range without IPv4 must clear it, and the edges of the
 * prefix (/0, /1, host bits in the base) must match as the range says. */
static bool in4(const char *text)
{
	struct sockaddr_in in = sin4(text);

	return sfy_fakeip_in_range((struct sockaddr *)&in);
}

START_TEST(range_word)
{
	struct sfy_cidr r4, none;

	setup_default();
	ck_assert(in4("198.18.1.1"));
	ffx_cidr(&r4, AF_INET, "203.0.113.7", 30);
	ck_assert_int_eq(sfy_fakeip_init_ranges(&r4, NULL, 0), 0);
	ck_assert(!in4("198.18.1.1"));
	ck_assert(in4("203.0.113.4"));
	ck_assert(in4("203.0.113.7"));
	ck_assert(!in4("203.0.113.3"));
	ck_assert(!in4("203.0.113.8"));

	memset(&none, 0, sizeof(none));
	ffx_cidr(&c6, AF_INET6, "fd00::", 120);
	ck_assert_int_eq(sfy_fakeip_init_ranges(&none, &c6, 0), 0);
	ck_assert(!in4("203.0.113.5"));
	ck_assert(!in4("0.0.0.0"));

	ffx_cidr(&r4, AF_INET, "128.0.0.0", 1);
	ck_assert_int_eq(sfy_fakeip_init_ranges(&r4, NULL, 0), 0);
	ck_assert(in4("200.1.1.1"));
	ck_assert(in4("128.0.0.0"));
	ck_assert(!in4("127.255.255.255"));

	ffx_cidr(&r4, AF_INET, "10.1.2.3", 0); /* everything, host bits too */
	ck_assert_int_eq(sfy_fakeip_init_ranges(&r4, NULL, 0), 0);
	ck_assert(in4("127.0.0.1"));
	ck_assert(in4("0.0.0.0"));

	/* no usable IPv4 address: no IPv4 range at all */
	ffx_cidr(&r4, AF_INET, "203.0.113.4", 32);
	ck_assert_int_eq(sfy_fakeip_init_ranges(&r4, NULL, 0), -EINVAL);
	ck_assert(!in4("203.0.113.4"));
	setup_default();
}
END_TEST

START_TEST(wrap_around)
{
	const char *names[] = { "n1", "n2", "n3", "n4" };
	struct in_addr a[4], v;
	char name[256], t[INET_ADDRSTRLEN];

	ffx_cidr(&c4, AF_INET, "198.18.0.0", 15);
	ffx_cidr(&c6, AF_INET6, "fd53::", 64);
	ck_assert_int_eq(sfy_fakeip_init_ranges(&c4, &c6, 4), 0);
	for (int i = 0; i < 4; i++)
		ck_assert_int_eq(ffx_assign(names[i], &a[i], NULL), 0);
	/* full: the fifth name takes the oldest entry (n1's) */
	ck_assert_int_eq(ffx_assign("n5", &v, NULL), 0);
	ck_assert_uint_eq(v.s_addr, a[0].s_addr);
	ck_assert_int_eq(ffx_name4(v, name, sizeof(name)), 0);
	ck_assert_str_eq(name, "n5");
	/* n1 is new again and takes the next oldest (n2's) */
	ck_assert_int_eq(ffx_assign("n1", &v, NULL), 0);
	ck_assert_uint_eq(v.s_addr, a[1].s_addr);
	/* n3 and n4 are untouched and still found by name */
	ck_assert_int_eq(ffx_assign("n3", &v, NULL), 0);
	ck_assert_uint_eq(v.s_addr, a[2].s_addr);
	ck_assert_int_eq(ffx_assign("n4", &v, NULL), 0);
	ck_assert_uint_eq(v.s_addr, a[3].s_addr);
	/* entry 5 is never handed out with capacity 4 */
	for (int i = 0; i < 40; i++) {
		char nm[16];

		snprintf(nm, sizeof(nm), "w%d", i);
		ck_assert_int_eq(ffx_assign(nm, &v, NULL), 0);
		text4(&v, t);
		ck_assert(strcmp(t, "198.18.0.0") && strcmp(t, "198.18.0.5"));
		ck_assert_int_eq(ffx_name4(v, name, sizeof(name)), 0);
		ck_assert_str_eq(name, nm);
	}
}
END_TEST

/* Eviction removes names from the middle of probe chains; everything
 * still present must stay findable. */
START_TEST(wrap_many)
{
	enum { CAP = 257, N = 5000 };
	static uint32_t addr[N];
	struct in_addr v;
	char nm[32], name[256];

	ffx_cidr(&c4, AF_INET, "198.18.0.0", 15);
	ck_assert_int_eq(sfy_fakeip_init_ranges(&c4, NULL, CAP), 0);
	for (int i = 0; i < N; i++) {
		snprintf(nm, sizeof(nm), "host%d.example", i);
		ck_assert_int_eq(ffx_assign(nm, &v, NULL), 0);
		addr[i] = v.s_addr;
		if (i < CAP - 1 || i % 7)
			continue;
		/* the newest CAP names are all still there, unchanged */
		for (int j = i - CAP + 1; j <= i; j += 16) {
			snprintf(nm, sizeof(nm), "host%d.example", j);
			ck_assert_int_eq(ffx_assign(nm, &v, NULL), 0);
			ck_assert_uint_eq(v.s_addr, addr[j]);
			ck_assert_int_eq(ffx_name4(v, name, sizeof(name)), 0);
			ck_assert_str_eq(name, nm);
		}
	}
}
END_TEST

START_TEST(many_names)
{
	enum { N = 100000 };
	uint32_t *seen = calloc(N + 2, sizeof(*seen));
	struct in_addr v;
	struct in6_addr v6;
	char nm[32], name[256];

	ck_assert_ptr_nonnull(seen);
	setup_default();
	for (int i = 0; i < N; i++) {
		uint32_t idx;

		snprintf(nm, sizeof(nm), "h%d.many.test", i);
		ck_assert_int_eq(ffx_assign(nm, &v, NULL), 0);
		idx = ntohl(v.s_addr) - 0xc6120000u;
		ck_assert_uint_ge(idx, 1);
		ck_assert_uint_le(idx, N);
		ck_assert_uint_eq(seen[idx], 0); /* every name its own address */
		seen[idx] = (uint32_t)i + 1;
	}
	for (int i = 0; i < N; i += 7) {
		snprintf(nm, sizeof(nm), "H%d.MANY.test", i);
		ck_assert_int_eq(ffx_assign(nm, &v, &v6), 0);
		ck_assert_uint_eq(seen[ntohl(v.s_addr) - 0xc6120000u],
				  (uint32_t)i + 1);
		ck_assert_int_eq(ffx_name4(v, name, sizeof(name)), 0);
		snprintf(nm, sizeof(nm), "h%d.many.test", i);
		ck_assert_str_eq(name, nm);
	}
	free(seen);
}
END_TEST

/* ---- threads ------------------------------------------------------------ */

enum { NTHREADS = 8, NSHARED = 500, NOWN = 200 };

struct worker {
	int id;
	uint32_t shared[NSHARED];
	uint32_t own[NOWN];
	int errors;
};

static void *work(void *arg)
{
	struct worker *w = arg;
	struct in_addr v;
	char nm[32];

	for (int k = 0; k < NSHARED; k++) {
		/* each thread walks the shared names in a different order */
		int i = (k * 7 + w->id * 61) % NSHARED;

		snprintf(nm, sizeof(nm), "shared%d.test", i);
		if (ffx_assign(nm, &v, NULL))
			w->errors++;
		w->shared[i] = v.s_addr;
		if (k < NOWN) {
			snprintf(nm, sizeof(nm), "own%d-%d.test", w->id, k);
			if (ffx_assign(nm, &v, NULL))
				w->errors++;
			w->own[k] = v.s_addr;
		}
	}
	return NULL;
}

START_TEST(threads)
{
	static struct worker w[NTHREADS];
	pthread_t t[NTHREADS];
	char nm[32], name[256];

	setup_default();
	for (int i = 0; i < NTHREADS; i++) {
		w[i].id = i;
		ck_assert_int_eq(pthread_create(&t[i], NULL, work, &w[i]), 0);
	}
	for (int i = 0; i < NTHREADS; i++)
		pthread_join(t[i], NULL);
	for (int i = 0; i < NTHREADS; i++) {
		ck_assert_int_eq(w[i].errors, 0);
		for (int k = 0; k < NSHARED; k++)
			ck_assert_uint_eq(w[i].shared[k], w[0].shared[k]);
		for (int k = 0; k < NOWN; k++) {
			struct in_addr a = { w[i].own[k] };

			ck_assert_int_eq(ffx_name4(a, name, sizeof(name)), 0);
			snprintf(nm, sizeof(nm), "own%d-%d.test", i, k);
			ck_assert_str_eq(name, nm);
		}
	}
	/* exactly NSHARED + NTHREADS * NOWN entries were handed out */
	{
		struct in_addr last;

		ck_assert_int_eq(ffx_assign("after.test", &last, NULL), 0);
		ck_assert_uint_eq(ntohl(last.s_addr) - 0xc6120000u,
				  NSHARED + NTHREADS * NOWN + 1);
	}
}
END_TEST

/* Lock-free readers against writers that keep reusing entries (a small
 * map): a name read by address, or found by name, is always a whole name,
 * and a name found by name is the one asked for. Also run under
 * ThreadSanitizer (make tsan), which checks the readers' atomics. */
enum { CHURN_CAP = 64, CHURN_WRITES = 20000 };
static atomic_int churn_bad, churn_writers_left;

static void *churn_write(void *arg)
{
	unsigned tag = (unsigned)(intptr_t)arg;
	struct in_addr v;
	char nm[256];

	for (unsigned i = 0; i < CHURN_WRITES; i++) {
		ffx_selfname(nm, tag, i);
		if (ffx_assign(nm, &v, NULL))
			atomic_fetch_add(&churn_bad, 1);
	}
	atomic_fetch_sub(&churn_writers_left, 1);
	return NULL;
}

static void *churn_read(void *arg)
{
	char nm[256], name[256];
	struct in_addr v;

	(void)arg;
	for (unsigned turn = 0; atomic_load(&churn_writers_left) > 0 &&
				turn < 1000000; turn++) {
		struct in_addr a = { htonl(0xc6120000u + 1 + turn % CHURN_CAP) };
		int rc = ffx_name4(a, name, sizeof(name));

		if ((rc != 0 && rc != -ENOENT) ||
		    (rc == 0 && !ffx_selfname_ok(name)))
			atomic_fetch_add(&churn_bad, 1);
		/* a name just read, looked up by name: its own entry, or a
		 * new one if it was reused meanwhile, never another name's */
		if (rc == 0) {
			strcpy(nm, name);
			if (ffx_assign(nm, &v, NULL) ||
			    (ffx_name4(v, name, sizeof(name)) == 0 &&
			     !ffx_selfname_ok(name)))
				atomic_fetch_add(&churn_bad, 1);
		}
	}
	return NULL;
}

START_TEST(readers_during_reuse)
{
	pthread_t t[4];

	ffx_cidr(&c4, AF_INET, "198.18.0.0", 15);
	ck_assert_int_eq(sfy_fakeip_init_ranges(&c4, NULL, CHURN_CAP), 0);
	atomic_store(&churn_bad, 0);
	atomic_store(&churn_writers_left, 2);
	for (int i = 0; i < 4; i++)
		ck_assert_int_eq(pthread_create(&t[i], NULL,
						i < 2 ? churn_write : churn_read,
						(void *)(intptr_t)i), 0);
	for (int i = 0; i < 4; i++)
		pthread_join(t[i], NULL);
	ck_assert_int_eq(atomic_load(&churn_bad), 0);
}
END_TEST

/* ---- fork --------------------------------------------------------------- */

START_TEST(fork_shares_both_ways)
{
	struct in_addr pa, ca, v;
	char name[256];
	int fds[2], status;
	pid_t pid;

	setup_default();
	ck_assert_int_eq(ffx_assign("parent.test", &pa, NULL), 0);
	ck_assert_int_eq(pipe(fds), 0);
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		int bad = 0;

		/* the child sees the parent's entry ... */
		bad |= ffx_name4(pa, name, sizeof(name)) != 0 ||
		       strcmp(name, "parent.test") != 0;
		bad |= ffx_assign("parent.test", &v, NULL) != 0 ||
		       v.s_addr != pa.s_addr;
		/* ... and adds its own */
		bad |= ffx_assign("child.test", &v, NULL) != 0;
		if (write(fds[1], &v, sizeof(v)) != sizeof(v))
			bad = 1;
		_exit(bad);
	}
	close(fds[1]);
	ck_assert_int_eq(read(fds[0], &ca, sizeof(ca)), sizeof(ca));
	close(fds[0]);
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	ck_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	ck_assert_uint_ne(ca.s_addr, pa.s_addr);
	ck_assert_int_eq(ffx_name4(ca, name, sizeof(name)), 0);
	ck_assert_str_eq(name, "child.test");
	ck_assert_int_eq(ffx_assign("child.test", &v, NULL), 0);
	ck_assert_uint_eq(v.s_addr, ca.s_addr);
}
END_TEST

/* fork() while other threads assign names (issue 11: a child must never
 * inherit a lock nobody will release). The map's mutex lives in shared
 * memory, so a parent thread that held it at fork time releases it for
 * the child too; every child must assign, look up and exit in time. Also
 * run under ThreadSanitizer (make tsan; test_process_shapes). */
static atomic_bool writers_stop;

static void *keep_assigning(void *arg)
{
	int id = (int)(intptr_t)arg;
	struct in_addr v;
	char nm[32];

	for (unsigned i = 0; i < 2000000 && !atomic_load(&writers_stop); i++) {
		snprintf(nm, sizeof(nm), "w%d-%u.test", id, i % 5000);
		ffx_assign(nm, &v, NULL);
	}
	return NULL;
}

START_TEST(fork_while_threads_assign)
{
	enum { NWRITERS = 3, NCHILDREN = 200 };
	pthread_t t[NWRITERS];
	int hung = 0, bad = 0;

	setup_default();
	atomic_store(&writers_stop, false);
	for (int i = 0; i < NWRITERS; i++)
		ck_assert_int_eq(pthread_create(&t[i], NULL, keep_assigning,
						(void *)(intptr_t)i), 0);
	for (int c = 0; c < NCHILDREN; c++) {
		pid_t pid = fork();
		int status, waited;

		ck_assert_int_ge(pid, 0);
		if (pid == 0) {
			struct in_addr v;
			char nm[32], name[256];

			snprintf(nm, sizeof(nm), "child%d.test", c);
			if (ffx_assign(nm, &v, NULL) ||
			    ffx_name4(v, name, sizeof(name)) || strcmp(name, nm))
				_exit(1);
			_exit(0);
		}
		/* at most 5 s per child, then it counts as hung */
		for (waited = 0; waited < 5000; waited++) {
			struct timespec ms = { 0, 1000 * 1000 };

			if (waitpid(pid, &status, WNOHANG) == pid)
				break;
			nanosleep(&ms, NULL);
		}
		if (waited == 5000) {
			hung++;
			kill(pid, SIGKILL);
			waitpid(pid, &status, 0);
		} else if (!WIFEXITED(status) || WEXITSTATUS(status)) {
			bad++;
		}
	}
	atomic_store(&writers_stop, true);
	for (int i = 0; i < NWRITERS; i++)
		pthread_join(t[i], NULL);
	ck_assert_int_eq(hung, 0);
	ck_assert_int_eq(bad, 0);
}
END_TEST

/* A process killed while it may hold the lock or be halfway through an
 * update: the others recover (robust mutex) and the table stays whole. */
START_TEST(killed_holder)
{
	ffx_cidr(&c4, AF_INET, "198.18.0.0", 15);
	ck_assert_int_eq(sfy_fakeip_init_ranges(&c4, NULL, 1000), 0);
	ffx_killed_writers(NULL);
}
END_TEST

static Suite *fakeip_suite(void)
{
	Suite *s = suite_create("fakeip");
	TCase *tc = tcase_create("map");

	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, both_directions);
	tcase_add_test(tc, case_and_trailing_dot);
	tcase_add_test(tc, bad_names);
	tcase_add_test(tc, ranges);
	tcase_add_test(tc, v4_mapped);
	tcase_add_test(tc, small_ranges);
	tcase_add_test(tc, range_word);
	tcase_add_test(tc, wrap_around);
	tcase_add_test(tc, wrap_many);
	tcase_add_test(tc, many_names);
	tcase_add_test(tc, threads);
	tcase_add_test(tc, readers_during_reuse);
	tcase_add_test(tc, fork_shares_both_ways);
	tcase_add_test(tc, fork_while_threads_assign);
	tcase_add_test(tc, killed_holder);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(fakeip_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
