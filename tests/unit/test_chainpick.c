/*
 * Chain modes (preload/route/chainpick.c): which hops each mode picks
 * with and without dead hops, random's and round-robin's spread, the
 * number of attempts the time is split into, which hop a failure blames;
 * and the dead-hop memory (preload/route/hopmem.c): back-off, forgetting
 * on success, and sharing with a fork's child.
 */
#include <check.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "route/chainpick.h"
#include "route/hopmem.h"
#include "socks5.h"

/* The first 32 hops' set from a mask (bit i: hop i). */
static struct sfy_hopset mask(uint32_t m)
{
	struct sfy_hopset s;
	size_t i;

	memset(&s, 0, sizeof(s));
	for (i = 0; i < 32; i++)
		if (m >> i & 1u)
			sfy_hopset_add(&s, i);
	return s;
}

/* The dead-hop memory's answer for the first 32 hops, as a mask (and
 * nothing beyond them). */
static uint32_t dead32(size_t n, int64_t now)
{
	struct sfy_hopset s;
	uint32_t m = 0;
	size_t i;

	sfy_hopmem_dead(n, now, &s);
	for (i = 0; i < SOCKS5_CHAIN_MAX; i++)
		if (sfy_hopset_has(&s, i)) {
			ck_assert_uint_lt(i, 32);
			m |= 1u << i;
		}
	return m;
}

static struct sfy_chain_pick_in in(enum sfy_chain_mode m, size_t n,
				   size_t len, uint32_t dead)
{
	struct sfy_chain_pick_in p;

	memset(&p, 0, sizeof(p));
	p.mode = m;
	p.nhops = n;
	p.len = len;
	p.dead = mask(dead);
	return p;
}

/* A scripted random source: the values in turn. */
struct script {
	const uint32_t *v;
	size_t i;
};

static uint32_t scripted(void *arg)
{
	struct script *s = arg;

	return s->v[s->i++];
}

/* The picked hops as a string of digits, "" for none. */
static const char *picked(const struct sfy_chain_pick_in *p, size_t *next)
{
	static char out[40];
	uint16_t idx[SOCKS5_CHAIN_MAX];
	size_t n, i;

	n = sfy_chain_pick(p, idx, next);
	for (i = 0; i < n; i++)
		out[i] = (char)('0' + idx[i]);
	out[n] = '\0';
	return out;
}

START_TEST(strict_all_or_nothing)
{
	struct sfy_chain_pick_in p = in(SFY_CHAIN_STRICT, 3, 0, 0);

	ck_assert_str_eq(picked(&p, NULL), "012");
	p.dead = mask(2);
	ck_assert_str_eq(picked(&p, NULL), "");
	ck_assert_uint_eq(sfy_chain_attempts_left(&p), 1);
}
END_TEST

START_TEST(dynamic_skips_dead)
{
	struct sfy_chain_pick_in p = in(SFY_CHAIN_DYNAMIC, 4, 0, 0);

	ck_assert_str_eq(picked(&p, NULL), "0123");
	ck_assert_uint_eq(sfy_chain_attempts_left(&p), 4);
	p.dead = mask(1u << 0 | 1u << 2);
	ck_assert_str_eq(picked(&p, NULL), "13");
	ck_assert_uint_eq(sfy_chain_attempts_left(&p), 2);
	p.dead = mask(0xf);
	ck_assert_str_eq(picked(&p, NULL), "");
	ck_assert_uint_eq(sfy_chain_attempts_left(&p), 1);
}
END_TEST

START_TEST(random_distinct_alive)
{
	static const uint32_t v[] = { 0, 0, 5, 7, 1 };
	struct script s = { v, 0 };
	struct sfy_chain_pick_in p = in(SFY_CHAIN_RANDOM, 4, 2, 0);

	p.rnd = scripted;
	p.rnd_arg = &s;
	/* 0 % 4 -> hop 0; 0 % 3 of {1,2,3} -> hop 1 */
	ck_assert_str_eq(picked(&p, NULL), "01");
	/* 5 % 4 = 1 -> hop 1; 7 % 3 = 1 of {0,2,3} -> hop 2 */
	ck_assert_str_eq(picked(&p, NULL), "12");
	p.dead = mask(1u << 1);
	s.i = 4; /* 1 % 3 of {0,2,3} -> hop 2, then ... */
	ck_assert_uint_eq(sfy_chain_attempts_left(&p), 2);
	p.dead = mask(0xe); /* one alive, two wanted */
	ck_assert_str_eq(picked(&p, NULL), "");
}
END_TEST

START_TEST(random_spreads)
{
	struct sfy_chain_pick_in p = in(SFY_CHAIN_RANDOM, 4, 1, 1u << 3);
	uint16_t idx[4];
	size_t count[4] = { 0 }, i;

	p.rnd = sfy_hopmem_random;
	for (i = 0; i < 3000; i++) {
		ck_assert_uint_eq(sfy_chain_pick(&p, idx, NULL), 1);
		count[idx[0]]++;
	}
	ck_assert_uint_eq(count[3], 0);
	for (i = 0; i < 3; i++)
		ck_assert_msg(count[i] > 800 && count[i] < 1200,
			      "hop %zu drawn %zu times of 3000", i, count[i]);
}
END_TEST

START_TEST(round_robin_rotates)
{
	struct sfy_chain_pick_in p = in(SFY_CHAIN_ROUND_ROBIN, 4, 2, 0);
	size_t next = 99;

	ck_assert_str_eq(picked(&p, &next), "01");
	ck_assert_uint_eq(next, 2);
	p.cursor = next;
	ck_assert_str_eq(picked(&p, &next), "23");
	ck_assert_uint_eq(next, 0);
	p.cursor = 3;
	ck_assert_str_eq(picked(&p, &next), "30");
	ck_assert_uint_eq(next, 1);
	/* dead hops skipped, wrapping */
	p.cursor = 1;
	p.dead = mask(1u << 2);
	ck_assert_str_eq(picked(&p, &next), "13");
	ck_assert_uint_eq(next, 0);
	ck_assert_uint_eq(sfy_chain_attempts_left(&p), 2);
	p.dead = mask(0x7);
	ck_assert_str_eq(picked(&p, &next), "");
}
END_TEST

START_TEST(blame_rules)
{
	const uint16_t idx[3] = { 2, 0, 1 };

	/* first hop not reached */
	ck_assert_int_eq(sfy_chain_blame(idx, 3, -1, SOCKS5_HS_GREETING_SEND,
					 false), 2);
	/* its own negotiation */
	ck_assert_int_eq(sfy_chain_blame(idx, 3, 1, SOCKS5_HS_METHOD_RECV,
					 false), 0);
	ck_assert_int_eq(sfy_chain_blame(idx, 3, 1, SOCKS5_HS_AUTH_RECV,
					 true), 0);
	/* a refusal about the next hop: the next hop */
	ck_assert_int_eq(sfy_chain_blame(idx, 3, 0, SOCKS5_HS_REPLY_RECV,
					 true), 0);
	ck_assert_int_eq(sfy_chain_blame(idx, 3, 1, SOCKS5_HS_REPLY_RECV,
					 true), 1);
	/* closed on its request: the hop itself */
	ck_assert_int_eq(sfy_chain_blame(idx, 3, 1, SOCKS5_HS_REPLY_RECV,
					 false), 0);
	/* the destination's answer: nobody */
	ck_assert_int_eq(sfy_chain_blame(idx, 3, 2, SOCKS5_HS_REPLY_RECV,
					 true), -1);
	ck_assert_int_eq(sfy_chain_blame(idx, 3, 2, SOCKS5_HS_REPLY_RECV,
					 false), 1);
	ck_assert_int_eq(sfy_chain_blame(idx, 0, -1, 0, false), -1);
}
END_TEST

START_TEST(backoff_doubles_to_a_cap)
{
	ck_assert_int_eq(sfy_hopmem_backoff_ms(1), 1000);
	ck_assert_int_eq(sfy_hopmem_backoff_ms(2), 2000);
	ck_assert_int_eq(sfy_hopmem_backoff_ms(6), 32000);
	ck_assert_int_eq(sfy_hopmem_backoff_ms(7), 60000);
	ck_assert_int_eq(sfy_hopmem_backoff_ms(4000000000u), 60000);
}
END_TEST

START_TEST(memory_backoff_and_success)
{
	int64_t t = 1000000;

	sfy_hopmem_ok(5);
	ck_assert_uint_eq(dead32(8, t) & 1u << 5, 0);
	sfy_hopmem_failed(5, t);
	ck_assert_uint_eq(dead32(8, t + 999), 1u << 5);
	ck_assert_uint_eq(dead32(8, t + 1000), 0);
	sfy_hopmem_failed(5, t + 1000); /* second in a row: 2 s */
	ck_assert_uint_eq(dead32(8, t + 2999), 1u << 5);
	ck_assert_uint_eq(dead32(8, t + 3000), 0);
	sfy_hopmem_failed(5, t + 3000);
	sfy_hopmem_ok(5);
	ck_assert_uint_eq(dead32(8, t + 3000), 0);
	/* a hop beyond nhops is not reported */
	sfy_hopmem_failed(9, t);
	ck_assert_uint_eq(dead32(8, t), 0);
	sfy_hopmem_ok(9);
}
END_TEST

START_TEST(memory_shared_with_children)
{
	int64_t t = 5000000;
	size_t c0;
	pid_t pid;
	int st;

	sfy_hopmem_ok(3);
	c0 = sfy_hopmem_cursor();
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		sfy_hopmem_failed(3, t);
		sfy_hopmem_cursor_move(c0, c0 + 7);
		_exit(0);
	}
	ck_assert_int_eq(waitpid(pid, &st, 0), pid);
	ck_assert_uint_eq(dead32(8, t + 10), 1u << 3);
	ck_assert_uint_eq(sfy_hopmem_cursor(), c0 + 7);
	/* a stale move loses to the one made meanwhile */
	sfy_hopmem_cursor_move(c0, c0 + 1);
	ck_assert_uint_eq(sfy_hopmem_cursor(), c0 + 7);
	sfy_hopmem_ok(3);
}
END_TEST

START_TEST(children_draw_differently)
{
	int fds[2];
	uint32_t a, b;
	pid_t pid;
	int st;

	ck_assert_int_eq(pipe(fds), 0);
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		uint32_t v = sfy_hopmem_random(NULL);

		_exit(write(fds[1], &v, sizeof(v)) == sizeof(v) ? 0 : 1);
	}
	ck_assert_int_eq(waitpid(pid, &st, 0), pid);
	ck_assert_int_eq(read(fds[0], &a, sizeof(a)), sizeof(a));
	b = sfy_hopmem_random(NULL);
	ck_assert_uint_ne(a, b);
	close(fds[0]);
	close(fds[1]);
}
END_TEST

/* Threads failing, clearing, reading, drawing and moving the cursor at
 * once: no lock, no torn state (and nothing for ThreadSanitizer, which
 * make tsan runs this under). */
static void *hammer(void *arg)
{
	size_t me = (size_t)arg, i, c;

	for (i = 0; i < 20000; i++) {
		if (i % 3 == 0)
			sfy_hopmem_failed(me % 4, 1000 + (int64_t)i);
		else if (i % 3 == 1)
			sfy_hopmem_ok(me % 4);
		(void)dead32(8, 1000 + (int64_t)i);
		(void)sfy_hopmem_random(NULL);
		c = sfy_hopmem_cursor();
		sfy_hopmem_cursor_move(c, (c + 1) % 8);
	}
	return NULL;
}

START_TEST(memory_threads)
{
	pthread_t t[6];
	size_t i;

	for (i = 0; i < 6; i++)
		ck_assert_int_eq(pthread_create(&t[i], NULL, hammer, (void *)i), 0);
	for (i = 0; i < 6; i++)
		pthread_join(t[i], NULL);
	ck_assert_uint_lt(sfy_hopmem_cursor(), 8);
	for (i = 0; i < 4; i++)
		sfy_hopmem_ok(i);
	ck_assert_uint_eq(dead32(8, 0), 0);
}
END_TEST

/* ------------------------------------------------------------------ */
/* Lists longer than 32 hops (up to SOCKS5_CHAIN_MAX, as proxychains)  */

static struct sfy_chain_pick_in many(enum sfy_chain_mode m, size_t n,
				     size_t len, size_t dead_from,
				     size_t dead_to)
{
	struct sfy_chain_pick_in p = in(m, n, len, 0);
	size_t i;

	for (i = dead_from; i < dead_to; i++)
		sfy_hopset_add(&p.dead, i);
	return p;
}

START_TEST(many_strict_and_dynamic)
{
	static uint16_t idx[SOCKS5_CHAIN_MAX];
	struct sfy_chain_pick_in p = many(SFY_CHAIN_STRICT, SOCKS5_CHAIN_MAX,
					  0, 0, 0);
	size_t i;

	ck_assert_uint_eq(sfy_chain_pick(&p, idx, NULL), SOCKS5_CHAIN_MAX);
	for (i = 0; i < SOCKS5_CHAIN_MAX; i++)
		ck_assert_uint_eq(idx[i], i);
	sfy_hopset_add(&p.dead, SOCKS5_CHAIN_MAX - 12);
	ck_assert_uint_eq(sfy_chain_pick(&p, idx, NULL), 0);
	/* more hops than a list holds: refused */
	p = many(SFY_CHAIN_STRICT, SOCKS5_CHAIN_MAX + 1, 0, 0, 0);
	ck_assert_uint_eq(sfy_chain_pick(&p, idx, NULL), 0);

	/* dynamic, 40 hops, the first 30 dead: the last 10, in order */
	p = many(SFY_CHAIN_DYNAMIC, 40, 0, 0, 30);
	ck_assert_uint_eq(sfy_chain_pick(&p, idx, NULL), 10);
	for (i = 0; i < 10; i++)
		ck_assert_uint_eq(idx[i], 30 + i);
	ck_assert_uint_eq(sfy_chain_attempts_left(&p), 10);
	/* dynamic over the whole list, all but the very last dead */
	p = many(SFY_CHAIN_DYNAMIC, SOCKS5_CHAIN_MAX, 0, 0,
		 SOCKS5_CHAIN_MAX - 1);
	ck_assert_uint_eq(sfy_chain_pick(&p, idx, NULL), 1);
	ck_assert_uint_eq(idx[0], SOCKS5_CHAIN_MAX - 1);
}
END_TEST

START_TEST(many_random_and_round_robin)
{
	static size_t count[200];
	uint16_t idx[4];
	struct sfy_chain_pick_in p = many(SFY_CHAIN_RANDOM, 200, 3, 0, 100);
	size_t i, k, next = 0;

	p.rnd = sfy_hopmem_random;
	for (i = 0; i < 20000; i++) {
		ck_assert_uint_eq(sfy_chain_pick(&p, idx, NULL), 3);
		ck_assert(idx[0] != idx[1] && idx[1] != idx[2] &&
			  idx[0] != idx[2]);
		for (k = 0; k < 3; k++) {
			ck_assert_uint_ge(idx[k], 100); /* never a dead one */
			count[idx[k]]++;
		}
	}
	/* 60000 draws over 100 live hops: 600 each on average */
	for (i = 100; i < 200; i++)
		ck_assert_msg(count[i] > 400 && count[i] < 800,
			      "hop %zu drawn %zu times of 60000", i, count[i]);
	ck_assert_uint_eq(sfy_chain_attempts_left(&p), 98);

	/* round-robin past hop 32, wrapping over a dead hop */
	p = many(SFY_CHAIN_ROUND_ROBIN, 100, 4, 99, 100);
	p.cursor = 97;
	p.len = 3;
	ck_assert_uint_eq(sfy_chain_pick(&p, idx, &next), 3);
	ck_assert_uint_eq(idx[0], 97);
	ck_assert_uint_eq(idx[1], 98);
	ck_assert_uint_eq(idx[2], 0);
	ck_assert_uint_eq(next, 1);
}
END_TEST

START_TEST(many_blame_and_memory)
{
	const uint16_t idx[3] = { 40, 300, SOCKS5_CHAIN_MAX - 1 };
	struct sfy_hopset d;
	int64_t t = 9000000;

	ck_assert_int_eq(sfy_chain_blame(idx, 3, 1, SOCKS5_HS_REPLY_RECV,
					 true), SOCKS5_CHAIN_MAX - 1);
	ck_assert_int_eq(sfy_chain_blame(idx, 3, 1, SOCKS5_HS_METHOD_RECV,
					 false), 300);
	ck_assert_int_eq(sfy_chain_blame(idx, 3, -1, 0, false), 40);

	sfy_hopmem_failed(300, t);
	sfy_hopmem_failed(SOCKS5_CHAIN_MAX - 1, t);
	sfy_hopmem_dead(SOCKS5_CHAIN_MAX, t + 10, &d);
	ck_assert(sfy_hopset_has(&d, 300));
	ck_assert(sfy_hopset_has(&d, SOCKS5_CHAIN_MAX - 1));
	ck_assert_uint_eq(sfy_hopset_count(&d), 2);
	/* beyond nhops: not reported */
	sfy_hopmem_dead(301, t + 10, &d);
	ck_assert_uint_eq(sfy_hopset_count(&d), 1);
	/* past the list: ignored */
	sfy_hopmem_failed(SOCKS5_CHAIN_MAX, t);
	sfy_hopmem_ok(300);
	sfy_hopmem_ok(SOCKS5_CHAIN_MAX - 1);
	sfy_hopmem_dead(SOCKS5_CHAIN_MAX, t + 10, &d);
	ck_assert_uint_eq(sfy_hopset_count(&d), 0);
}
END_TEST

static Suite *chainpick_suite(void)
{
	Suite *s = suite_create("chainpick");
	TCase *t = tcase_create("pick");

	tcase_add_test(t, strict_all_or_nothing);
	tcase_add_test(t, dynamic_skips_dead);
	tcase_add_test(t, random_distinct_alive);
	tcase_add_test(t, random_spreads);
	tcase_add_test(t, many_strict_and_dynamic);
	tcase_add_test(t, many_random_and_round_robin);
	tcase_add_test(t, many_blame_and_memory);
	tcase_add_test(t, round_robin_rotates);
	tcase_add_test(t, blame_rules);
	suite_add_tcase(s, t);
	t = tcase_create("memory");
	tcase_add_test(t, backoff_doubles_to_a_cap);
	tcase_add_test(t, memory_backoff_and_success);
	tcase_add_test(t, memory_shared_with_children);
	tcase_add_test(t, children_draw_differently);
	tcase_add_test(t, memory_threads);
	suite_add_tcase(s, t);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(chainpick_suite());
	int failed;

	srunner_set_fork_status(sr, CK_NOFORK);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
