/*
 * The lifetime of a protected UDP association's memory (udp_gss.c): the
 * slot's get/put/end. The memory must stay mapped while any call that
 * took it is inside, however the end falls between them, and be unmapped
 * once the last one is out. "Mapped" is asked of the kernel: msync() of
 * an address with no mapping fails with ENOMEM. The context is a zeroed
 * stand-in (no GSS-API library here): the lifetime code only frees it.
 * The threaded case runs calls against ends and starts on one slot, to be
 * run under ASan and TSan as well.
 */
#include <check.h>
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/mman.h>

#include "udp/udp_gss.h"

struct socks5_gss_sec;

/* A context as the handshake hands it over, minus the GSS-API one. */
static struct socks5_gss_sec *fake_sec(void)
{
	struct socks5_gss_sec *s = calloc(1, 64);

	ck_assert_ptr_nonnull(s);
	return s;
}

static bool mapped(const void *p)
{
	return msync((void *)((uintptr_t)p & ~(uintptr_t)4095), 4096,
		     MS_ASYNC) == 0;
}

START_TEST(end_without_calls_unmaps)
{
	sfy_udp_gss_slot slot = 0;
	struct sfy_udp_gss *g;

	ck_assert_int_eq(sfy_udp_gss_start(&slot, fake_sec()), 0);
	g = (struct sfy_udp_gss *)atomic_load(&slot);
	ck_assert_ptr_nonnull(g);
	ck_assert_uint_eq((uintptr_t)g & 4095, 0);
	ck_assert(mapped(g));
	sfy_udp_gss_end(&slot);
	ck_assert_uint_eq(atomic_load(&slot), 0);
	ck_assert(!mapped(g));
	ck_assert_int_eq(errno, ENOMEM);
	ck_assert_ptr_null(sfy_udp_gss_get(&slot));
	sfy_udp_gss_end(&slot); /* an empty slot: nothing */
}
END_TEST

START_TEST(calls_before_the_end_leave_no_count)
{
	sfy_udp_gss_slot slot = 0;
	struct sfy_udp_gss *g, *h;

	ck_assert_int_eq(sfy_udp_gss_start(&slot, fake_sec()), 0);
	g = sfy_udp_gss_get(&slot);
	h = sfy_udp_gss_get(&slot);
	ck_assert_ptr_eq(g, h);
	ck_assert_uint_eq(atomic_load(&slot), (uintptr_t)g + 2);
	sfy_udp_gss_put(&slot, h);
	sfy_udp_gss_put(&slot, g);
	ck_assert_uint_eq(atomic_load(&slot), (uintptr_t)g);
	sfy_udp_gss_put(&slot, NULL); /* no protection: nothing */
	sfy_udp_gss_end(&slot);
	ck_assert(!mapped(g));
}
END_TEST

/* The receiver blocked on a socket that is closed: it gives the memory
 * back after the end, and only then does it go. */
START_TEST(last_call_out_after_the_end_unmaps)
{
	sfy_udp_gss_slot slot = 0;
	struct sfy_udp_gss *g, *h;

	ck_assert_int_eq(sfy_udp_gss_start(&slot, fake_sec()), 0);
	g = sfy_udp_gss_get(&slot);
	h = sfy_udp_gss_get(&slot);
	sfy_udp_gss_end(&slot);
	ck_assert_uint_eq(atomic_load(&slot), 0);
	ck_assert(mapped(g));
	sfy_udp_gss_consume(-1, g); /* its lock still works */
	sfy_udp_gss_put(&slot, h);
	ck_assert(mapped(g));
	sfy_udp_gss_put(&slot, g);
	ck_assert(!mapped(g));
}
END_TEST

/* A new association in the slot while an old call is still inside the
 * old memory: two mappings, each going with its own last call. */
START_TEST(new_association_beside_an_old_call)
{
	sfy_udp_gss_slot slot = 0;
	struct sfy_udp_gss *old, *cur;

	ck_assert_int_eq(sfy_udp_gss_start(&slot, fake_sec()), 0);
	old = sfy_udp_gss_get(&slot);
	sfy_udp_gss_end(&slot);
	ck_assert_int_eq(sfy_udp_gss_start(&slot, fake_sec()), 0);
	cur = sfy_udp_gss_get(&slot);
	ck_assert_ptr_ne(old, cur);
	sfy_udp_gss_put(&slot, old); /* not counted in the new slot */
	ck_assert(!mapped(old));
	ck_assert_uint_eq(atomic_load(&slot), (uintptr_t)cur + 1);
	sfy_udp_gss_put(&slot, cur);
	ck_assert(mapped(cur));
	sfy_udp_gss_end(&slot);
	ck_assert(!mapped(cur));
}
END_TEST

#define CALLERS 4
#define ROUNDS 2000

static sfy_udp_gss_slot shared;
static atomic_bool stop;
static atomic_long calls;

/* Calls that touch the memory (its receive lock) while they hold it. */
static void *caller(void *arg)
{
	struct sfy_udp_gss *g;

	(void)arg;
	while (!atomic_load(&stop)) {
		g = sfy_udp_gss_get(&shared);
		if (!g)
			continue;
		sfy_udp_gss_consume(-1, g);
		sfy_udp_gss_put(&shared, g);
		atomic_fetch_add(&calls, 1);
	}
	return NULL;
}

START_TEST(calls_race_ends)
{
	pthread_t t[CALLERS];
	int i;

	for (i = 0; i < CALLERS; i++)
		ck_assert_int_eq(pthread_create(&t[i], NULL, caller, NULL), 0);
	for (i = 0; i < ROUNDS; i++) {
		ck_assert_int_eq(sfy_udp_gss_start(&shared, fake_sec()), 0);
		sched_yield();
		sfy_udp_gss_end(&shared);
	}
	atomic_store(&stop, true);
	for (i = 0; i < CALLERS; i++)
		pthread_join(t[i], NULL);
	ck_assert_uint_eq(atomic_load(&shared), 0);
	ck_assert_int_gt(atomic_load(&calls), 0);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("udp_gss");
	TCase *tc = tcase_create("lifetime");
	SRunner *sr;
	int failed;

	setenv("SOCKSIFY_LOG", "error", 1);
	tcase_add_test(tc, end_without_calls_unmaps);
	tcase_add_test(tc, calls_before_the_end_leave_no_count);
	tcase_add_test(tc, last_call_out_after_the_end_unmaps);
	tcase_add_test(tc, new_association_beside_an_old_call);
	tcase_add_test(tc, calls_race_ends);
	tcase_set_timeout(tc, 60);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
