/*
 * The routing decision (preload/route/decide.[ch]): one verdict per call
 * for (socket, destination) — direct, TCP through the chain to a name or
 * an address, UDP through the relay, or refused with an errno and a
 * reason — under a known configuration; and the client core's getsockopt
 * in its I/O table (client/io.c asks SO_ERROR and SO_TYPE through it,
 * never libc's name, which a preload may hook).
 *
 * The configuration is read from the environment once per process, so
 * main() sets the environment and re-executes itself before running.
 */
#include <arpa/inet.h>
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "addr_fixture.h"
#include "base/realfn.h"
#include "dns/fakeip.h"
#include "route/decide.h"
#include "socks5.h"

#define PROXY_IP "192.0.2.10"

/* "a.b.c.d" or "v6" and a port (addr_fixture.h). */
static const struct sockaddr *addr(const char *ip, int port)
{
	return afx_addr(ip, port);
}

/* An address and its length (addr_fixture.h). */
#define AT(ip, port) afx_addr(ip, port), afx_len(ip)

/* Both steps of connect()'s decision, as the hook asks them. */
static enum sfy_verdict connect_verdict(int fd, const struct sockaddr *sa,
					socklen_t len, struct sfy_route *r)
{
	enum sfy_addr_class cls;

	if (sfy_route_direct_addr(sa, len, &cls))
		return SFY_DIRECT;
	return sfy_route_connect(fd, sa, len, cls, r);
}

START_TEST(direct_by_address_alone)
{
	struct sockaddr_un un = { .sun_family = AF_UNIX };
	enum sfy_addr_class cls;

	ck_assert(sfy_route_direct_addr(AT("127.0.0.1", 80), &cls));
	ck_assert(sfy_route_direct_addr(AT("10.1.2.3", 80), &cls));
	ck_assert(sfy_route_direct_addr(AT("::ffff:10.1.2.3", 80),
					 &cls));
	/* the proxy's own address and port */
	ck_assert(sfy_route_direct_addr(AT(PROXY_IP, 1080), &cls));
	ck_assert(sfy_route_direct_addr((struct sockaddr *)&un, sizeof(un),
					 &cls));
	ck_assert(!sfy_route_direct_addr(AT(PROXY_IP, 1081), &cls));
	ck_assert_int_eq(cls, SFY_ADDR_PROXIED);
	ck_assert(!sfy_route_direct_addr(AT("198.18.0.9", 80), &cls));
	ck_assert_int_eq(cls, SFY_ADDR_FAKE);
	/* too short for its family: the real call's EINVAL */
	ck_assert(sfy_route_direct_addr(addr("203.0.113.5", 80), 8, &cls));
	/* the library's own calls */
	sfy_inside_enter();
	ck_assert(sfy_route_direct_addr(AT("203.0.113.5", 80), &cls));
	sfy_inside_leave();
}
END_TEST

START_TEST(tcp_through_the_chain_to_an_address)
{
	struct sfy_route r;
	int s = socket(AF_INET6, SOCK_STREAM, 0);

	ck_assert_int_ge(s, 0);
	errno = 1234;
	ck_assert_int_eq(connect_verdict(s, AT("::ffff:203.0.113.5", 443), &r),
			 SFY_VIA_CHAIN);
	ck_assert_int_eq(errno, 1234);
	ck_assert_int_eq(r.verdict, SFY_VIA_CHAIN);
	ck_assert_int_eq(r.type, SOCK_STREAM);
	/* an IPv4-mapped destination is sent as IPv4 */
	ck_assert_int_eq(r.dst.atyp, SOCKS5_ATYP_IPV4);
	ck_assert_int_eq(r.dst.port, 443);
	ck_assert_int_eq(r.dst.u.ipv4[0], 203);
	close(s);
}
END_TEST

START_TEST(tcp_through_the_chain_to_a_name)
{
	struct sockaddr_in in = { .sin_family = AF_INET,
				  .sin_port = htons(8080) };
	struct sfy_route r;
	int s = socket(AF_INET, SOCK_STREAM, 0);

	ck_assert_int_ge(s, 0);
	ck_assert_int_eq(sfy_fakeip_for_name("route.example", 13, &in.sin_addr,
					     NULL),
			 0);
	ck_assert_int_eq(connect_verdict(s, (struct sockaddr *)&in, sizeof(in),
					 &r),
			 SFY_VIA_CHAIN);
	ck_assert_int_eq(r.dst.atyp, SOCKS5_ATYP_DOMAIN);
	ck_assert_str_eq(r.dst.u.domain, "route.example");
	ck_assert_int_eq(r.dst.port, 8080);
	close(s);
}
END_TEST

START_TEST(unknown_fake_address_refused)
{
	struct sfy_route r;
	int s = socket(AF_INET, SOCK_STREAM, 0);

	ck_assert_int_ge(s, 0);
	ck_assert_int_eq(connect_verdict(s, AT("198.19.255.200", 80),
					 &r),
			 SFY_REFUSE);
	ck_assert_int_eq(r.err, -EHOSTUNREACH);
	ck_assert_ptr_nonnull(r.why);
	close(s);
}
END_TEST

START_TEST(udp_through_the_relay)
{
	struct sfy_route r;
	int s = socket(AF_INET, SOCK_DGRAM, 0);

	ck_assert_int_ge(s, 0);
	ck_assert_int_eq(connect_verdict(s, AT("203.0.113.5", 53), &r),
			 SFY_VIA_RELAY);
	ck_assert_int_eq(r.family, AF_INET);
	ck_assert(!r.assoc_known);
	/* an IPv6 destination on an AF_INET socket: the kernel answers */
	ck_assert_int_eq(connect_verdict(s, AT("2001:db8::5", 53), &r),
			 SFY_DIRECT);
	/* the same by message */
	r.type = -1;
	ck_assert_int_eq(sfy_route_message(s, AT("203.0.113.5", 53),
					   0, true, SFY_ADDR_PROXIED, &r),
			 SFY_VIA_RELAY);
	ck_assert_int_eq(r.type, SOCK_DGRAM);
	close(s);
}
END_TEST

START_TEST(udp_rules_by_address)
{
	struct sfy_route r;

	/* DNS to a resolver on loopback goes direct even when proxied */
	ck_assert_int_eq(sfy_udp_rule(addr("127.0.0.53", 53),
				      SFY_ADDR_PROXIED, &r),
			 SFY_DIRECT);
	ck_assert_int_eq(sfy_udp_rule(addr("203.0.113.5", 53),
				      SFY_ADDR_PROXIED, &r),
			 SFY_VIA_RELAY);
	ck_assert_int_eq(sfy_udp_rule(addr("198.18.0.9", 53), SFY_ADDR_FAKE,
				      &r),
			 SFY_VIA_RELAY);
}
END_TEST

START_TEST(fast_open)
{
	struct sfy_route r;
	int s = socket(AF_INET, SOCK_STREAM, 0);

	ck_assert_int_ge(s, 0);
	r.type = -1;
	ck_assert_int_eq(sfy_route_message(s, AT("203.0.113.5", 80),
					   0, true, SFY_ADDR_PROXIED, &r),
			 SFY_DIRECT); /* a stream ignores the address */
	ck_assert_int_eq(sfy_route_message(s, AT("203.0.113.5", 80),
					   MSG_FASTOPEN, true,
					   SFY_ADDR_PROXIED, &r),
			 SFY_VIA_CHAIN);
	ck_assert_int_eq(r.dst.atyp, SOCKS5_ATYP_IPV4);
	ck_assert_int_eq(sfy_route_message(s, AT("203.0.113.5", 80),
					   MSG_FASTOPEN, false,
					   SFY_ADDR_PROXIED, &r),
			 SFY_REFUSE);
	ck_assert_int_eq(r.err, -EOPNOTSUPP);
	close(s);
}
END_TEST

START_TEST(not_a_socket_passes)
{
	struct sfy_route r;
	int p[2];

	ck_assert_int_eq(pipe(p), 0);
	errno = 1234;
	ck_assert_int_eq(connect_verdict(p[0], AT("203.0.113.5", 80),
					 &r),
			 SFY_DIRECT);
	ck_assert_int_eq(connect_verdict(-1, AT("203.0.113.5", 80),
					 &r),
			 SFY_DIRECT);
	ck_assert_int_eq(errno, 1234);
	close(p[0]);
	close(p[1]);
}
END_TEST

START_TEST(io_uring_refused)
{
	struct sfy_route r;

	ck_assert_int_eq(sfy_route_io_uring(&r), SFY_REFUSE);
	ck_assert_int_eq(r.err, -ENOSYS);
}
END_TEST

/* ---- the client core's getsockopt -------------------------------------- */

static int asked_level, asked_name, answer;

static int stub_getsockopt(int fd, int level, int name, void *val,
			   socklen_t *len)
{
	(void)fd;
	asked_level = level;
	asked_name = name;
	memcpy(val, &answer, sizeof(int));
	*len = sizeof(int);
	return 0;
}

static int stub_connect(int fd, const struct sockaddr *sa, socklen_t len)
{
	(void)fd, (void)sa, (void)len;
	errno = EINPROGRESS;
	return -1;
}

static int stub_poll(struct pollfd *p, nfds_t n, int ms)
{
	(void)n, (void)ms;
	p->revents = POLLOUT | POLLERR;
	return 1;
}

static int stub_fcntl(int fd, int cmd, ...)
{
	(void)fd;
	return cmd == F_GETFL ? O_NONBLOCK : 0;
}

static ssize_t stub_sendto(int fd, const void *b, size_t n, int f,
			   const struct sockaddr *sa, socklen_t l)
{
	(void)fd, (void)b, (void)n, (void)f, (void)sa, (void)l;
	errno = EOPNOTSUPP; /* Fast Open off: the socket's type is asked */
	return -1;
}

START_TEST(core_asks_so_error_through_its_table)
{
	struct socks5_io io = { .connect = stub_connect, .poll = stub_poll,
				.fcntl = stub_fcntl,
				.getsockopt = stub_getsockopt };

	/* fd 1000 is not open: libc's getsockopt would say EBADF */
	answer = ECONNREFUSED;
	ck_assert_int_eq(socks5_connect_deadline(&io, 1000,
						 AT("203.0.113.5", 80), socks5_now_ms() + 1000),
			 -ECONNREFUSED);
	ck_assert_int_eq(asked_level, SOL_SOCKET);
	ck_assert_int_eq(asked_name, SO_ERROR);
	io.getsockopt = NULL;
	ck_assert_int_eq(socks5_connect_deadline(&io, 1000,
						 AT("203.0.113.5", 80), socks5_now_ms() + 1000),
			 -ENOSYS);
}
END_TEST

START_TEST(core_asks_so_type_through_its_table)
{
	struct socks5_io io = { .connect = stub_connect, .poll = stub_poll,
				.fcntl = stub_fcntl, .sendto = stub_sendto,
				.getsockopt = stub_getsockopt };

	answer = SOCK_DGRAM;
	ck_assert_int_eq(socks5_connect_deadline(&io, 1000,
						 AT("203.0.113.5", 80), socks5_now_ms() + 1000),
			 -EPROTOTYPE);
	ck_assert_int_eq(asked_name, SO_TYPE);
}
END_TEST

START_TEST(preload_table_has_getsockopt)
{
	ck_assert_ptr_nonnull(sfy_real()->getsockopt);
	ck_assert_ptr_eq(sfy_real_io()->getsockopt, sfy_real()->getsockopt);
}
END_TEST

static Suite *route_suite(void)
{
	Suite *s = suite_create("route");
	TCase *tc = tcase_create("decide"), *io = tcase_create("io");

	tcase_add_test(tc, direct_by_address_alone);
	tcase_add_test(tc, tcp_through_the_chain_to_an_address);
	tcase_add_test(tc, tcp_through_the_chain_to_a_name);
	tcase_add_test(tc, unknown_fake_address_refused);
	tcase_add_test(tc, udp_through_the_relay);
	tcase_add_test(tc, udp_rules_by_address);
	tcase_add_test(tc, fast_open);
	tcase_add_test(tc, not_a_socket_passes);
	tcase_add_test(tc, io_uring_refused);
	tcase_add_test(io, core_asks_so_error_through_its_table);
	tcase_add_test(io, core_asks_so_type_through_its_table);
	tcase_add_test(io, preload_table_has_getsockopt);
	suite_add_tcase(s, tc);
	suite_add_tcase(s, io);
	return s;
}

int main(int argc, char **argv)
{
	SRunner *sr;
	int failed;

	(void)argc;
	/* The library reads its environment in a constructor, before main:
	 * set it and start again. */
	if (!getenv("SFY_TEST_ROUTE_ENV")) {
		setenv("SFY_TEST_ROUTE_ENV", "1", 1);
		setenv("SOCKSIFY_PROXY", "socks5://" PROXY_IP ":1080", 1);
		setenv("SOCKSIFY_NO_PROXY", "127.0.0.0/8,10.0.0.0/8", 1);
		setenv("SOCKSIFY_LOG", "error", 1);
		unsetenv("SOCKSIFY_FAKE_NET");
		unsetenv("SOCKSIFY_UDP");
		unsetenv("SOCKSIFY_IO_URING");
		unsetenv("SOCKSIFY_LOG_FILE");
		execv("/proc/self/exe", argv);
		perror("test_route: re-exec");
		return EXIT_FAILURE;
	}
	sr = srunner_create(route_suite());
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
