/*
 * The UDP data path without a proxy: an association entry is filled by
 * hand with a local socket as its "relay", and crafted datagrams are sent
 * from it to the program's socket, then read with sfy_udp_recvmsg. Covers
 * the receive strategy (every header length, payloads from empty to
 * larger than the head buffer, across the caller's iovecs, never a byte
 * written past the payload), MSG_PEEK, MSG_TRUNC, origins of every ATYP
 * and family, and the datagrams that must be dropped (other senders,
 * FRAG != 0, malformed). Plus the codec's header-length helper and the
 * send side's header encoding.
 */
#include <arpa/inet.h>
#include <check.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "dns/fakeip.h"
#include "socks5.h"
#include "state/fdstate.h"
#include "udp/udp_assoc.h"
#include "udp/udp_io.h"

#define ASSOC 7

static int prog, relay, family;

/* A socket bound to the loopback address of fam, port chosen. */
static int bound_socket(int fam)
{
	union sfy_inaddr a;
	int s = socket(fam, SOCK_DGRAM, 0);

	ck_assert_int_ge(s, 0);
	memset(&a, 0, sizeof(a));
	a.sa.sa_family = (sa_family_t)fam;
	if (fam == AF_INET)
		a.in.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	else
		a.in6.sin6_addr = in6addr_loopback;
	ck_assert_int_eq(bind(s, &a.sa, fam == AF_INET ? sizeof(a.in) :
							 sizeof(a.in6)), 0);
	return s;
}

static void addr_of(int s, union sfy_inaddr *a, socklen_t *len)
{
	*len = sizeof(*a);
	ck_assert_int_eq(getsockname(s, &a->sa, len), 0);
}

/* prog (of fam) associated through entry ASSOC to relay. */
static void setup_fam(int fam)
{
	struct sfy_assoc *a = sfy_assoc_at(ASSOC);
	struct sfy_assoc_dyn d;
	struct sfy_fd_info info;

	family = fam;
	prog = bound_socket(fam);
	relay = bound_socket(fam);
	atomic_store(&a->refs, 1);
	atomic_store(&a->ctl, -1);
	a->family = fam;
	a->max_dgram = 65507;
	addr_of(relay, &a->relay, &a->relay_len);
	memset(&d, 0, sizeof(d));
	sfy_assoc_dyn_write(a, &d);
	memset(&info, 0, sizeof(info));
	info.kind = SFY_FD_UDP;
	info.family = fam;
	info.assoc = ASSOC;
	ck_assert_int_eq(sfy_fd_set(prog, &info), 0);
	ck_assert_int_eq(sfy_fakeip_init(), 0);
}

static void setup4(void)
{
	setup_fam(AF_INET);
}

static void teardown(void)
{
	sfy_fd_clear(prog);
	close(prog);
	close(relay);
}

/* Sends header + payload from sock to prog. */
static void send_from(int sock, const uint8_t *hdr, size_t hlen,
		      const void *payload, size_t plen)
{
	union sfy_inaddr to;
	socklen_t tolen;
	uint8_t d[70000];

	memcpy(d, hdr, hlen);
	memcpy(d + hlen, payload, plen);
	addr_of(prog, &to, &tolen);
	ck_assert_int_eq(sendto(sock, d, hlen + plen, 0, &to.sa, tolen),
			 (ssize_t)(hlen + plen));
}

static size_t hdr4(uint8_t *h, const char *ip, uint16_t port)
{
	struct socks5_addr a;
	size_t len;

	memset(&a, 0, sizeof(a));
	a.atyp = SOCKS5_ATYP_IPV4;
	a.port = port;
	ck_assert_int_eq(inet_pton(AF_INET, ip, a.u.ipv4), 1);
	ck_assert_int_eq(socks5_encode_udp_header(h, SOCKS5_UDP_HEADER_MAX, &a,
						  &len), SOCKS5_OK);
	return len;
}

static size_t hdr6(uint8_t *h, const char *ip, uint16_t port)
{
	struct socks5_addr a;
	size_t len;

	memset(&a, 0, sizeof(a));
	a.atyp = SOCKS5_ATYP_IPV6;
	a.port = port;
	ck_assert_int_eq(inet_pton(AF_INET6, ip, a.u.ipv6), 1);
	ck_assert_int_eq(socks5_encode_udp_header(h, SOCKS5_UDP_HEADER_MAX, &a,
						  &len), SOCKS5_OK);
	return len;
}

static size_t hdr_name(uint8_t *h, const char *name, uint16_t port)
{
	struct socks5_addr a;
	size_t len;

	ck_assert_int_eq(socks5_addr_from_domain(&a, name, strlen(name), port),
			 SOCKS5_OK);
	ck_assert_int_eq(socks5_encode_udp_header(h, SOCKS5_UDP_HEADER_MAX, &a,
						  &len), SOCKS5_OK);
	return len;
}

static struct sfy_fd_info info_of(void)
{
	struct sfy_fd_info info;

	ck_assert(sfy_fd_get(prog, &info));
	return info;
}

/* One receive into buf (cap bytes) with flags; the origin in *from. */
static ssize_t rx(void *buf, size_t cap, int flags, union sfy_inaddr *from,
		  int *mflags)
{
	struct sfy_fd_info info = info_of();
	struct iovec iov = { .iov_base = buf, .iov_len = cap };
	struct msghdr m;
	ssize_t n;

	memset(&m, 0, sizeof(m));
	m.msg_iov = &iov;
	m.msg_iovlen = 1;
	m.msg_name = from;
	m.msg_namelen = from ? sizeof(*from) : 0;
	n = sfy_udp_recvmsg(prog, &info, &m, flags);
	if (mflags)
		*mflags = m.msg_flags;
	return n;
}

static void pattern(uint8_t *p, size_t n, unsigned int seed)
{
	size_t i;

	for (i = 0; i < n; i++)
		p[i] = (uint8_t)(i * 7 + seed);
}

START_TEST(header_len_helper)
{
	uint8_t h[SOCKS5_UDP_HEADER_MAX];

	ck_assert_uint_eq(socks5_udp_header_len(h, hdr4(h, "1.2.3.4", 5)), 10);
	ck_assert_uint_eq(socks5_udp_header_len(h, hdr6(h, "::1", 5)), 22);
	ck_assert_uint_eq(socks5_udp_header_len(h, hdr_name(h, "ab.c", 5)),
			  7 + 4);
	ck_assert_uint_eq(socks5_udp_header_len(h, 4), 0); /* domain, no LEN */
	h[3] = 9;
	ck_assert_uint_eq(socks5_udp_header_len(h, 10), 0);
	ck_assert_uint_eq(socks5_udp_header_len(h, 3), 0);
	ck_assert_uint_eq(socks5_udp_header_len(NULL, 10), 0);
}
END_TEST

START_TEST(ipv4_origin)
{
	uint8_t h[SOCKS5_UDP_HEADER_MAX], out[100];
	union sfy_inaddr from;
	ssize_t n;

	send_from(relay, h, hdr4(h, "198.51.100.2", 53), "hello", 5);
	n = rx(out, sizeof(out), 0, &from, NULL);
	ck_assert_int_eq(n, 5);
	ck_assert_mem_eq(out, "hello", 5);
	ck_assert_int_eq(from.sa.sa_family, AF_INET);
	ck_assert_int_eq(ntohs(from.in.sin_port), 53);
	ck_assert_uint_eq(ntohl(from.in.sin_addr.s_addr), 0xC6336402);
}
END_TEST

/* Every header length with payloads around the head buffer's size: the
 * payload arrives whole at the front, and nothing past it is written. */
START_TEST(every_header_every_size)
{
	uint8_t h[SOCKS5_UDP_HEADER_MAX], in[2000], out[2000];
	static const char *const names[] = { "a", "name.example",
		"a-much-longer-name.with.several.labels.example" };
	union sfy_inaddr from;
	size_t sizes[] = { 0, 1, 9, 12, 100, 240, 251, 252, 261, 262, 263,
			   600, 1500 };
	size_t i, k, hl;
	ssize_t n;

	for (k = 0; k < 4; k++) {
		for (i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
			pattern(in, sizes[i], (unsigned int)(i + k));
			hl = k == 3 ? hdr4(h, "203.0.113.9", 7) :
				      hdr_name(h, names[k], 7);
			send_from(relay, h, hl, in, sizes[i]);
			memset(out, 0xAA, sizeof(out));
			n = rx(out, sizes[i] + 3, 0, &from, NULL);
			ck_assert_int_eq(n, (ssize_t)sizes[i]);
			ck_assert_mem_eq(out, in, sizes[i]);
			ck_assert_uint_eq(out[sizes[i]], 0xAA);
			ck_assert_uint_eq(out[sizes[i] + 1], 0xAA);
			ck_assert_uint_eq(out[sizes[i] + 2], 0xAA);
		}
	}
}
END_TEST

/* The caller's buffer in many small iovecs, header length unexpected. */
START_TEST(scattered_iovecs)
{
	uint8_t h[SOCKS5_UDP_HEADER_MAX], in[300], out[300];
	struct sfy_fd_info info = info_of();
	struct iovec iov[7];
	size_t cuts[] = { 0, 1, 3, 0, 50, 100, 146 }, off = 0, i;
	struct msghdr m;

	pattern(in, sizeof(in), 3);
	send_from(relay, h, hdr_name(h, "a.b.c.d.example", 9), in, sizeof(in));
	for (i = 0; i < 7; i++) {
		iov[i].iov_base = out + off;
		iov[i].iov_len = cuts[i];
		off += cuts[i];
	}
	memset(&m, 0, sizeof(m));
	m.msg_iov = iov;
	m.msg_iovlen = 7;
	ck_assert_int_eq(sfy_udp_recvmsg(prog, &info, &m, 0), 300);
	ck_assert_mem_eq(out, in, 300);
	ck_assert_int_eq(m.msg_flags & MSG_TRUNC, 0);
}
END_TEST

START_TEST(peek_then_read)
{
	uint8_t h[SOCKS5_UDP_HEADER_MAX], out[20];
	int fl;

	send_from(relay, h, hdr4(h, "192.0.2.9", 1), "0123456789", 10);
	ck_assert_int_eq(rx(out, 4, MSG_PEEK, NULL, &fl), 4);
	ck_assert_mem_eq(out, "0123", 4);
	ck_assert(fl & MSG_TRUNC);
	ck_assert_int_eq(rx(out, 4, MSG_PEEK | MSG_TRUNC, NULL, NULL), 10);
	ck_assert_int_eq(rx(out, sizeof(out), 0, NULL, &fl), 10);
	ck_assert_mem_eq(out, "0123456789", 10);
	ck_assert_int_eq(fl & MSG_TRUNC, 0);
	ck_assert_int_eq(rx(out, sizeof(out), MSG_DONTWAIT, NULL, NULL),
			 -EAGAIN);
}
END_TEST

START_TEST(trunc_reports_real_length)
{
	uint8_t h[SOCKS5_UDP_HEADER_MAX], in[5000], out[100];
	int fl;

	pattern(in, sizeof(in), 1);
	send_from(relay, h, hdr4(h, "192.0.2.9", 1), in, sizeof(in));
	ck_assert_int_eq(rx(out, sizeof(out), MSG_TRUNC, NULL, &fl), 5000);
	ck_assert(fl & MSG_TRUNC);
	ck_assert_mem_eq(out, in, sizeof(out));
	send_from(relay, h, hdr4(h, "192.0.2.9", 1), in, sizeof(in));
	ck_assert_int_eq(rx(out, sizeof(out), 0, NULL, &fl), 100);
	ck_assert(fl & MSG_TRUNC);
}
END_TEST

/* Other senders, fragments and malformed headers never reach the
 * program; the good datagram after them does. */
START_TEST(drops)
{
	uint8_t h[SOCKS5_UDP_HEADER_MAX], out[100];
	union sfy_inaddr from;
	int other = bound_socket(AF_INET);
	size_t hl = hdr4(h, "192.0.2.9", 1);

	send_from(other, h, hl, "foreign", 7);
	h[2] = 1; /* FRAG */
	send_from(relay, h, hl, "fragment", 8);
	h[2] = 0;
	h[0] = 1; /* RSV */
	send_from(relay, h, hl, "reserved", 8);
	h[0] = 0;
	h[3] = 9; /* ATYP */
	send_from(relay, h, hl, "atyp", 4);
	send_from(relay, h, 3, "", 0); /* shorter than any header */
	h[3] = SOCKS5_ATYP_DOMAIN;
	h[4] = 200; /* a name longer than the datagram */
	send_from(relay, h, 6, "", 0);
	send_from(relay, h, hdr4(h, "192.0.2.9", 2), "good", 4);
	ck_assert_int_eq(rx(out, sizeof(out), 0, &from, NULL), 4);
	ck_assert_mem_eq(out, "good", 4);
	ck_assert_int_eq(ntohs(from.in.sin_port), 2);
	send_from(other, h, hdr4(h, "192.0.2.9", 1), "foreign", 7);
	ck_assert_int_eq(rx(out, sizeof(out), MSG_DONTWAIT, NULL, NULL),
			 -EAGAIN);
	close(other);
}
END_TEST

/* A name origin becomes the name's fake address. */
START_TEST(name_origin_is_fake)
{
	uint8_t h[SOCKS5_UDP_HEADER_MAX], out[10];
	union sfy_inaddr from;
	struct in_addr v4;

	send_from(relay, h, hdr_name(h, "reply.example", 4242), "x", 1);
	ck_assert_int_eq(rx(out, sizeof(out), 0, &from, NULL), 1);
	ck_assert_int_eq(sfy_fakeip_for_name("reply.example", 13, &v4, NULL), 0);
	ck_assert_int_eq(from.sa.sa_family, AF_INET);
	ck_assert_uint_eq(from.in.sin_addr.s_addr, v4.s_addr);
	ck_assert_int_eq(ntohs(from.in.sin_port), 4242);
}
END_TEST

/* Connected to an address: only that peer's datagrams, shown as it. */
START_TEST(connected_filters_origin)
{
	struct sfy_assoc *a = sfy_assoc_at(ASSOC);
	uint8_t h[SOCKS5_UDP_HEADER_MAX], out[10];
	union sfy_inaddr from;
	struct sfy_assoc_dyn d;

	sfy_assoc_dyn_read(a, &d);
	d.conn = true;
	d.conn_sa.in.sin_family = AF_INET;
	d.conn_sa.in.sin_port = htons(53);
	inet_pton(AF_INET, "198.51.100.2", &d.conn_sa.in.sin_addr);
	d.conn_salen = sizeof(d.conn_sa.in);
	sfy_assoc_dyn_write(a, &d);
	send_from(relay, h, hdr4(h, "198.51.100.3", 53), "other", 5);
	send_from(relay, h, hdr4(h, "198.51.100.2", 53), "peer", 4);
	ck_assert_int_eq(rx(out, sizeof(out), 0, &from, NULL), 4);
	ck_assert_mem_eq(out, "peer", 4);
}
END_TEST

/* IPv4 origins on an AF_INET6 socket are IPv4-mapped; IPv6 ones plain. */
START_TEST(v6_socket_origins)
{
	uint8_t h[SOCKS5_UDP_HEADER_MAX], out[10];
	union sfy_inaddr from;
	char text[64];

	send_from(relay, h, hdr4(h, "198.51.100.2", 53), "v4", 2);
	ck_assert_int_eq(rx(out, sizeof(out), 0, &from, NULL), 2);
	ck_assert_int_eq(from.sa.sa_family, AF_INET6);
	inet_ntop(AF_INET6, &from.in6.sin6_addr, text, sizeof(text));
	ck_assert_str_eq(text, "::ffff:198.51.100.2");
	send_from(relay, h, hdr6(h, "2001:db8::2", 53), "v6", 2);
	ck_assert_int_eq(rx(out, sizeof(out), 0, &from, NULL), 2);
	inet_ntop(AF_INET6, &from.in6.sin6_addr, text, sizeof(text));
	ck_assert_str_eq(text, "2001:db8::2");
}
END_TEST

static void setup6(void)
{
	setup_fam(AF_INET6);
}

/* The send side: headers for every kind of destination. */
START_TEST(send_headers)
{
	uint8_t h[SOCKS5_UDP_HEADER_MAX];
	struct sockaddr_in6 m;
	struct sockaddr_in in;
	struct in_addr fake;
	size_t len;
	bool is_name;

	ck_assert_int_eq(sfy_fakeip_init(), 0);
	memset(&in, 0, sizeof(in));
	in.sin_family = AF_INET;
	in.sin_port = htons(53);
	inet_pton(AF_INET, "198.51.100.2", &in.sin_addr);
	ck_assert_int_eq(sfy_udp_header((struct sockaddr *)&in, sizeof(in), h,
					&len, &is_name), 0);
	ck_assert_uint_eq(len, 10);
	ck_assert(!is_name);
	memset(&m, 0, sizeof(m));
	m.sin6_family = AF_INET6;
	m.sin6_port = htons(53);
	inet_pton(AF_INET6, "::ffff:198.51.100.2", &m.sin6_addr);
	ck_assert_int_eq(sfy_udp_header((struct sockaddr *)&m, sizeof(m), h,
					&len, &is_name), 0);
	ck_assert_uint_eq(len, 10); /* sent as the IPv4 it is */
	ck_assert_int_eq(sfy_fakeip_for_name("udp.example", 11, &fake, NULL), 0);
	in.sin_addr = fake;
	ck_assert_int_eq(sfy_udp_header((struct sockaddr *)&in, sizeof(in), h,
					&len, &is_name), 0);
	ck_assert(is_name);
	ck_assert_uint_eq(len, 7 + 11);
	ck_assert_mem_eq(h + 5, "udp.example", 11);
	in.sin_addr.s_addr = htonl(0xC612FFF0); /* a fake nobody asked for */
	ck_assert_int_eq(sfy_udp_header((struct sockaddr *)&in, sizeof(in), h,
					&len, &is_name), -EHOSTUNREACH);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("udp");
	TCase *tc = tcase_create("recv4"), *t6 = tcase_create("recv6"),
	      *tp = tcase_create("plain");
	SRunner *sr;
	int failed;

	/* Loopback is not direct here, so a foreign loopback sender is
	 * one the receive path must drop. */
	setenv("SOCKSIFY_PROXY", "socks5://127.0.0.1:1", 1);
	setenv("SOCKSIFY_NO_PROXY", "", 1);
	setenv("SOCKSIFY_LOG", "error", 1);
	tcase_add_checked_fixture(tc, setup4, teardown);
	tcase_add_test(tc, ipv4_origin);
	tcase_add_test(tc, every_header_every_size);
	tcase_add_test(tc, scattered_iovecs);
	tcase_add_test(tc, peek_then_read);
	tcase_add_test(tc, trunc_reports_real_length);
	tcase_add_test(tc, drops);
	tcase_add_test(tc, name_origin_is_fake);
	tcase_add_test(tc, connected_filters_origin);
	tcase_add_checked_fixture(t6, setup6, teardown);
	tcase_add_test(t6, v6_socket_origins);
	tcase_add_test(tp, header_len_helper);
	tcase_add_test(tp, send_headers);
	suite_add_tcase(s, tc);
	suite_add_tcase(s, t6);
	suite_add_tcase(s, tp);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
