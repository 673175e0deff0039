/*
 * libsocks5 errors: a distinct message for every status, the errno table,
 * every REP code's string and errno (0x00..0xFF), failure → errno.
 */
#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "socks5.h"

START_TEST(every_status_has_its_own_message)
{
	int i, j;

	for (i = 0; i < SOCKS5_STATUS_COUNT; i++) {
		const char *m = socks5_strerror((enum socks5_status)i);

		ck_assert_ptr_nonnull(m);
		ck_assert_uint_gt(strlen(m), 5);
		ck_assert_str_ne(m, "unknown socks5 status");
		for (j = 0; j < i; j++)
			ck_assert_str_ne(m, socks5_strerror((enum socks5_status)j));
	}
	ck_assert_str_eq(socks5_strerror(SOCKS5_STATUS_COUNT),
			 "unknown socks5 status");
	ck_assert_str_eq(socks5_strerror((enum socks5_status)-1),
			 "unknown socks5 status");
}
END_TEST

static const struct {
	enum socks5_status st;
	int err;
} status_errnos[] = {
	{ SOCKS5_OK, 0 },
	{ SOCKS5_NEED_MORE, EAGAIN },
	{ SOCKS5_E_VERSION, ECONNREFUSED },
	{ SOCKS5_E_RESERVED, ECONNREFUSED },
	{ SOCKS5_E_ATYP, ECONNREFUSED },
	{ SOCKS5_E_DOMAIN_EMPTY, ECONNREFUSED },
	{ SOCKS5_E_NO_ACCEPTABLE, EACCES },
	{ SOCKS5_E_METHOD_NOT_OFFERED, ECONNREFUSED },
	{ SOCKS5_E_AUTH_VERSION, ECONNREFUSED },
	{ SOCKS5_E_AUTH_REJECTED, EACCES },
	{ SOCKS5_E_REPLY, ECONNREFUSED },
	{ SOCKS5_E_FRAGMENTED, EPROTO },
	{ SOCKS5_E_TRUNCATED, EPROTO },
	{ SOCKS5_E_SOCKS4_VERSION, ECONNREFUSED },
	{ SOCKS5_E_SOCKS4_REJECTED, ECONNREFUSED },
	{ SOCKS5_E_SOCKS4_IDENTD, EACCES },
	{ SOCKS5_E_SOCKS4_IDENTD_USER, EACCES },
	{ SOCKS5_E_SOCKS4_CODE, ECONNREFUSED },
	{ SOCKS5_E_SOCKS4_ADDR, EAFNOSUPPORT },
	{ SOCKS5_E_HTTP_STATUS_LINE, ECONNREFUSED },
	{ SOCKS5_E_HTTP_HEADER, ECONNREFUSED },
	{ SOCKS5_E_HTTP_TOO_BIG, ECONNREFUSED },
	{ SOCKS5_E_HTTP_AUTH, EACCES },
	{ SOCKS5_E_HTTP_REFUSED, ECONNREFUSED },
	{ SOCKS5_E_HOST_CHARS, EINVAL },
	{ SOCKS5_E_HOP_CMD, EOPNOTSUPP },
	{ SOCKS5_E_GSS_VERSION, ECONNREFUSED },
	{ SOCKS5_E_GSS_MTYP, ECONNREFUSED },
	{ SOCKS5_E_GSS_ABORTED, EACCES },
	{ SOCKS5_E_GSS_LIB, EACCES },
	{ SOCKS5_E_GSS_NO_CREDS, EACCES },
	{ SOCKS5_E_GSS_SKEW, EACCES },
	{ SOCKS5_E_GSS_CONTEXT, EACCES },
	{ SOCKS5_E_GSS_LEVEL, EACCES },
	{ SOCKS5_E_NO_METHODS, EINVAL },
	{ SOCKS5_E_TOO_MANY_METHODS, EINVAL },
	{ SOCKS5_E_USER_LENGTH, EINVAL },
	{ SOCKS5_E_PASS_LENGTH, EINVAL },
	{ SOCKS5_E_DOMAIN_LENGTH, EINVAL },
	{ SOCKS5_E_BUFFER, ENOBUFS },
	{ SOCKS5_E_ARG, EINVAL },
	{ SOCKS5_E_URL_SCHEME, EINVAL },
	{ SOCKS5_E_URL_HOST, EINVAL },
	{ SOCKS5_E_URL_PORT, EINVAL },
	{ SOCKS5_E_URL_USER, EINVAL },
	{ SOCKS5_E_URL_PASS, EINVAL },
	{ SOCKS5_E_URL_ESCAPE, EINVAL },
	{ SOCKS5_E_URL_GARBAGE, EINVAL },
	{ SOCKS5_E_URL_CHAIN, EINVAL },
	{ SOCKS5_E_TIMEOUT, ETIMEDOUT },
	{ SOCKS5_E_CLOSED, ECONNREFUSED },
	{ SOCKS5_E_IO, EIO },
};

START_TEST(status_errno_table)
{
	size_t i, n = sizeof(status_errnos) / sizeof(status_errnos[0]);

	/* The table above covers every status, in order. */
	ck_assert_uint_eq(n, SOCKS5_STATUS_COUNT);
	for (i = 0; i < n; i++) {
		ck_assert_int_eq(status_errnos[i].st, (int)i);
		ck_assert_int_eq(socks5_status_errno(status_errnos[i].st),
				 status_errnos[i].err);
	}
	ck_assert_int_eq(socks5_status_errno(SOCKS5_STATUS_COUNT), EINVAL);
}
END_TEST

static const char *const rfc_rep[] = {
	"succeeded",
	"general SOCKS server failure",
	"connection not allowed by ruleset",
	"network unreachable",
	"host unreachable",
	"connection refused",
	"TTL expired",
	"command not supported",
	"address type not supported",
};

static int rfc_errno(int rep)
{
	switch (rep) {
	case 0x00:
		return 0;
	case 0x02:
		return EACCES;
	case 0x03:
		return ENETUNREACH;
	case 0x04:
		return EHOSTUNREACH;
	case 0x06:
		return ETIMEDOUT;
	case 0x07:
		return EOPNOTSUPP;
	case 0x08:
		return EAFNOSUPPORT;
	default: /* 0x01, 0x05 and every unassigned code */
		return ECONNREFUSED;
	}
}

START_TEST(every_rep_code)
{
	char want[64];
	int v;

	for (v = 0; v < 256; v++) {
		const char *s = socks5_rep_string((uint8_t)v);

		ck_assert_ptr_nonnull(s);
		if (v <= 8) {
			ck_assert_str_eq(s, rfc_rep[v]);
		} else {
			snprintf(want, sizeof(want),
				 "unassigned reply code 0x%02X", v);
			ck_assert_str_eq(s, want);
		}
		ck_assert_int_eq(socks5_rep_errno((uint8_t)v), rfc_errno(v));
	}
}
END_TEST

START_TEST(failure_errno)
{
	struct socks5_failure f = { .status = SOCKS5_OK, .hop = -1 };
	int v;

	ck_assert_int_eq(socks5_failure_errno(&f), 0);
	ck_assert_int_eq(socks5_failure_errno(NULL), EINVAL);

	f.status = SOCKS5_E_IO;
	f.sys_errno = ENETDOWN;
	ck_assert_int_eq(socks5_failure_errno(&f), ENETDOWN);
	f.sys_errno = ECONNREFUSED;
	ck_assert_int_eq(socks5_failure_errno(&f), ECONNREFUSED);
	f.sys_errno = 0;
	ck_assert_int_eq(socks5_failure_errno(&f), EIO);

	f.status = SOCKS5_E_REPLY;
	for (v = 1; v < 256; v++) {
		f.rep = (uint8_t)v;
		ck_assert_int_eq(socks5_failure_errno(&f), rfc_errno(v));
	}
	f.rep = 0;
	ck_assert_int_eq(socks5_failure_errno(&f), ECONNREFUSED);

	f.status = SOCKS5_E_TIMEOUT;
	ck_assert_int_eq(socks5_failure_errno(&f), ETIMEDOUT);
	f.status = SOCKS5_E_AUTH_REJECTED;
	ck_assert_int_eq(socks5_failure_errno(&f), EACCES);
	f.status = SOCKS5_E_RESERVED;
	ck_assert_int_eq(socks5_failure_errno(&f), ECONNREFUSED);
	f.status = SOCKS5_E_VERSION;
	ck_assert_int_eq(socks5_failure_errno(&f), ECONNREFUSED);
	f.status = SOCKS5_E_CLOSED;
	ck_assert_int_eq(socks5_failure_errno(&f), ECONNREFUSED);
}
END_TEST

static Suite *errors_suite(void)
{
	Suite *s = suite_create("errors");
	TCase *tc = tcase_create("tables");

	tcase_add_test(tc, every_status_has_its_own_message);
	tcase_add_test(tc, status_errno_table);
	tcase_add_test(tc, every_rep_code);
	tcase_add_test(tc, failure_errno);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(errors_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
