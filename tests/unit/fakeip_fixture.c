/*
 * Helpers for the fake-IP map's unit tests (see fakeip_fixture.h).
 */
#include <arpa/inet.h>
#include <check.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "dns/fakeip.h"
#include "fakeip_fixture.h"

void ffx_cidr(struct sfy_cidr *c, int family, const char *addr, int prefix)
{
	memset(c, 0, sizeof(*c));
	c->family = family;
	c->prefix = (uint8_t)prefix;
	ck_assert_int_eq(inet_pton(family, addr, c->addr), 1);
}

int ffx_assign(const char *name, struct in_addr *v4, struct in6_addr *v6)
{
	return sfy_fakeip_for_name(name, strlen(name), v4, v6);
}

int ffx_name4(struct in_addr a, char *name, size_t cap)
{
	struct sockaddr_in s;

	memset(&s, 0, sizeof(s));
	s.sin_family = AF_INET;
	s.sin_addr = a;
	return sfy_fakeip_name((struct sockaddr *)&s, name, cap);
}

void ffx_killed_writers(void (*remap)(void))
{
	struct timespec pause = { 0, 30 * 1000 * 1000 };
	struct in_addr v;
	char nm[32], name[256];
	pid_t pid[3];

	for (int p = 0; p < 3; p++) {
		pid[p] = fork();
		ck_assert_int_ge(pid[p], 0);
		if (pid[p] == 0) {
			if (remap)
				remap();
			for (unsigned i = 0; i < 50000000; i++) {
				snprintf(nm, sizeof(nm), "k%d-%u", p, i);
				ffx_assign(nm, &v, NULL);
			}
			_exit(0);
		}
	}
	for (int p = 0; p < 3; p++) {
		nanosleep(&pause, NULL);
		kill(pid[p], SIGKILL);
		waitpid(pid[p], NULL, 0);
	}
	if (remap)
		remap();
	for (int i = 0; i < 3000; i++) {
		snprintf(nm, sizeof(nm), "after%d", i);
		ck_assert_int_eq(ffx_assign(nm, &v, NULL), 0);
		ck_assert_int_eq(ffx_name4(v, name, sizeof(name)), 0);
		ck_assert_str_eq(name, nm);
	}
}

void ffx_selfname(char *buf, unsigned tag, unsigned i)
{
	int n = snprintf(buf, 256, "v%u-%08x-", tag % 10, i);
	size_t fill = (i * 7u) % 230;

	memset(buf + n, 'a' + (int)(i % 26), fill);
	buf[n + fill] = '\0';
}

int ffx_selfname_ok(const char *s)
{
	unsigned tag, i;
	char want[256];

	if (sscanf(s, "v%1u-%8x-", &tag, &i) != 2)
		return 0;
	ffx_selfname(want, tag, i);
	return strcmp(want, s) == 0;
}
