/*
 * Socket-address helpers (preload/base/sockaddr.c) and the shared CIDR matcher
 * (preload/route/cidr.c): which addresses the library takes, the IPv4-mapped
 * form both ways, equality (a mapped address equals the IPv4 one it
 * carries), copying the 24-byte RFC 2133 form, and ranges against mapped
 * addresses.
 */
#include <arpa/inet.h>
#include <check.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "base/sockaddr.h"
#include "route/cidr.h"

static struct sockaddr_in v4(const char *ip, int port)
{
	struct sockaddr_in in;

	memset(&in, 0, sizeof(in));
	in.sin_family = AF_INET;
	in.sin_port = htons((uint16_t)port);
	ck_assert_int_eq(inet_pton(AF_INET, ip, &in.sin_addr), 1);
	return in;
}

static struct sockaddr_in6 v6(const char *ip, int port)
{
	struct sockaddr_in6 in6;

	memset(&in6, 0, sizeof(in6));
	in6.sin6_family = AF_INET6;
	in6.sin6_port = htons((uint16_t)port);
	ck_assert_int_eq(inet_pton(AF_INET6, ip, &in6.sin6_addr), 1);
	return in6;
}

#define SA(x) ((const struct sockaddr *)&(x))

START_TEST(is_inet_lengths)
{
	struct sockaddr_in in = v4("10.0.0.1", 80);
	struct sockaddr_in6 in6 = v6("2001:db8::1", 80);
	struct sockaddr other = { .sa_family = AF_UNIX };

	ck_assert(sfy_is_inet(SA(in), sizeof(in)));
	ck_assert(!sfy_is_inet(SA(in), sizeof(in) - 1));
	ck_assert(sfy_is_inet(SA(in6), sizeof(in6)));
	ck_assert(sfy_is_inet(SA(in6), SFY_SIN6_LEN_MIN));
	ck_assert(!sfy_is_inet(SA(in6), SFY_SIN6_LEN_MIN - 1));
	ck_assert(!sfy_is_inet(SA(in6), sizeof(struct sockaddr_storage) + 1));
	ck_assert(!sfy_is_inet(&other, sizeof(other)));
	ck_assert(!sfy_is_inet(NULL, sizeof(in)));
	ck_assert(!sfy_is_inet(SA(in), 1));
}
END_TEST

START_TEST(mapped_both_ways)
{
	struct sockaddr_in in = v4("192.0.2.7", 1080), back;
	struct sockaddr_in6 m, want = v6("::ffff:192.0.2.7", 1080);
	struct sockaddr_in6 plain = v6("2001:db8::7", 9);

	ck_assert(sfy_is_v4mapped(want.sin6_addr.s6_addr));
	ck_assert(!sfy_is_v4mapped(plain.sin6_addr.s6_addr));
	ck_assert_uint_eq(sfy_addr_map(&in, &m), sizeof(m));
	ck_assert(!memcmp(&m, &want, sizeof(m)));
	ck_assert_uint_eq(sfy_addr_unmap(&m, &back), sizeof(back));
	ck_assert(!memcmp(&back, &in, sizeof(in)));
	/* Not mapped: "some address" (0.0.0.0), the port kept. */
	sfy_addr_unmap(&plain, &back);
	ck_assert_uint_eq(back.sin_addr.s_addr, 0);
	ck_assert_uint_eq(ntohs(back.sin_port), 9);
}
END_TEST

START_TEST(in_family)
{
	struct sockaddr_in in = v4("192.0.2.7", 53);
	struct sockaddr_in6 m = v6("::ffff:192.0.2.7", 53);
	struct sockaddr_in6 plain = v6("2001:db8::7", 53);
	union sfy_inaddr out;

	ck_assert_uint_eq(sfy_addr_in_family(SA(in), AF_INET6, &out),
			  sizeof(out.in6));
	ck_assert(!memcmp(&out.in6, &m, sizeof(m)));
	ck_assert_uint_eq(sfy_addr_in_family(SA(m), AF_INET, &out),
			  sizeof(out.in));
	ck_assert(!memcmp(&out.in, &in, sizeof(in)));
	ck_assert_uint_eq(sfy_addr_in_family(SA(in), AF_INET, &out),
			  sizeof(out.in));
	ck_assert_uint_eq(sfy_addr_in_family(SA(plain), AF_INET6, &out),
			  sizeof(out.in6));
	ck_assert(!memcmp(&out.in6, &plain, sizeof(plain)));
	ck_assert_uint_eq(sfy_addr_in_family(SA(plain), AF_INET, &out), 0);
}
END_TEST

START_TEST(copy_and_plain)
{
	struct sockaddr_in6 m = v6("::ffff:10.1.2.3", 443);
	struct sockaddr_in6 p = v6("2001:db8::1", 443);
	struct sockaddr_in want = v4("10.1.2.3", 443);
	struct sockaddr_storage ss;
	socklen_t n;

	p.sin6_scope_id = 7; /* beyond the 24 bytes: not copied */
	n = sfy_addr_copy(SA(p), SFY_SIN6_LEN_MIN, &ss);
	ck_assert_uint_eq(n, sizeof(struct sockaddr_in6));
	ck_assert_uint_eq(((struct sockaddr_in6 *)&ss)->sin6_scope_id, 0);
	ck_assert_uint_eq(sfy_addr_plain(&ss, &n), sizeof(struct sockaddr_in6));
	n = sfy_addr_copy(SA(m), sizeof(m), &ss);
	ck_assert_uint_eq(sfy_addr_plain(&ss, &n), sizeof(want));
	ck_assert(!memcmp(&ss, &want, sizeof(want)));
	ck_assert_uint_eq(sfy_addr_copy(SA(m), SFY_SIN6_LEN_MIN - 1, &ss), 0);
}
END_TEST

START_TEST(equality)
{
	union sfy_inaddr a = { .in = v4("10.0.0.1", 80) };
	union sfy_inaddr b = { .in = v4("10.0.0.1", 81) };
	union sfy_inaddr c = { .in = v4("10.0.0.2", 80) };
	union sfy_inaddr m = { .in6 = v6("::ffff:10.0.0.1", 80) };
	union sfy_inaddr x = { .in6 = v6("2001:db8::1", 80) };
	union sfy_inaddr y = { .in6 = v6("2001:db8::1", 80) };
	union sfy_inaddr other = { .sa = { .sa_family = AF_UNIX } };

	ck_assert(sfy_addr_port_equal(&a.sa, &a.sa));
	ck_assert(!sfy_addr_port_equal(&a.sa, &b.sa));
	ck_assert(sfy_addr_equal(&a.sa, &b.sa));
	ck_assert(!sfy_addr_equal(&a.sa, &c.sa));
	ck_assert(sfy_addr_port_equal(&a.sa, &m.sa));
	ck_assert(sfy_addr_port_equal(&m.sa, &a.sa));
	ck_assert(sfy_addr_port_equal(&x.sa, &y.sa));
	ck_assert(!sfy_addr_equal(&x.sa, &a.sa));
	ck_assert(!sfy_addr_equal(&other.sa, &other.sa));
}
END_TEST

START_TEST(loopback)
{
	union sfy_inaddr a = { .in = v4("127.1.2.3", 53) };
	union sfy_inaddr b = { .in = v4("128.0.0.1", 53) };
	union sfy_inaddr c = { .in6 = v6("::1", 53) };
	union sfy_inaddr d = { .in6 = v6("::ffff:127.0.0.1", 53) };
	union sfy_inaddr e = { .in6 = v6("::ffff:10.0.0.1", 53) };
	union sfy_inaddr f = { .in6 = v6("::2", 53) };

	ck_assert(sfy_addr_is_loopback(&a.sa));
	ck_assert(!sfy_addr_is_loopback(&b.sa));
	ck_assert(sfy_addr_is_loopback(&c.sa));
	ck_assert(sfy_addr_is_loopback(&d.sa));
	ck_assert(!sfy_addr_is_loopback(&e.sa));
	ck_assert(!sfy_addr_is_loopback(&f.sa));
}
END_TEST

START_TEST(cidr_edges)
{
	struct sfy_cidr lo, all4, mapped96, net6;
	struct sockaddr_in in = v4("127.9.9.9", 1), out = v4("128.0.0.1", 1);
	struct sockaddr_in6 m = v6("::ffff:127.0.0.1", 1);
	struct sockaddr_in6 m_out = v6("::ffff:10.0.0.1", 1);
	struct sockaddr_in6 p = v6("fd00::1", 1);

	ck_assert_int_eq(sfy_cidr_parse("127.0.0.0/8", &lo), 0);
	ck_assert_int_eq(sfy_cidr_parse("0.0.0.0/0", &all4), 0);
	ck_assert_int_eq(sfy_cidr_parse("::ffff:0:0/96", &mapped96), 0);
	ck_assert_int_eq(sfy_cidr_parse("[fd00::]/9", &net6), 0);
	ck_assert_int_eq(sfy_cidr_parse("10.0.0.0/33", &lo), -EINVAL);
	ck_assert_int_eq(sfy_cidr_parse("127.1.2.3/8", &lo), 0);
	ck_assert_uint_eq(lo.addr[1], 0); /* host bits cleared */

	ck_assert(sfy_cidr_match(&lo, SA(in)));
	ck_assert(!sfy_cidr_match(&lo, SA(out)));
	ck_assert(sfy_cidr_match(&all4, SA(out)));
	/* A mapped address against an IPv4 range: as the IPv4 address. */
	ck_assert(sfy_cidr_match(&lo, SA(m)));
	ck_assert(!sfy_cidr_match(&lo, SA(m_out)));
	ck_assert(sfy_cidr_match(&all4, SA(m_out)));
	/* An IPv6 range that names mapped addresses itself. */
	ck_assert(sfy_cidr_match(&mapped96, SA(m)));
	ck_assert(!sfy_cidr_match(&mapped96, SA(in)));
	ck_assert(!sfy_cidr_match(&mapped96, SA(p)));
	ck_assert(sfy_cidr_match(&net6, SA(p)));
	ck_assert(!sfy_cidr_match(&net6, SA(in)));
	/* The inline tests agree with the byte form at the edges. */
	ck_assert(sfy_cidr_has4(&lo, in.sin_addr.s_addr));
	ck_assert(!sfy_cidr_has4(&lo, out.sin_addr.s_addr));
	ck_assert(sfy_cidr_has(&lo, (const uint8_t *)&in.sin_addr));
	ck_assert(!sfy_cidr_has(&lo, (const uint8_t *)&out.sin_addr));
}
END_TEST

int main(void)
{
	Suite *s = suite_create("sockaddr");
	TCase *tc = tcase_create("helpers");
	SRunner *sr;
	int failed;

	tcase_add_test(tc, is_inet_lengths);
	tcase_add_test(tc, mapped_both_ways);
	tcase_add_test(tc, in_family);
	tcase_add_test(tc, copy_and_plain);
	tcase_add_test(tc, equality);
	tcase_add_test(tc, loopback);
	tcase_add_test(tc, cidr_edges);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
