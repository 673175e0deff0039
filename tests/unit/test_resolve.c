/*
 * The resolver hooks in remote-DNS mode, linked into this program from the
 * preload's archive (they replace libc's getaddrinfo & co. here, and reach
 * libc's through dlsym(RTLD_NEXT) as in the preloaded library). Also the
 * /etc/hosts reader on files of our own.
 *
 * The configuration is read by a constructor before main(), so main()
 * sets the environment and re-executes itself once.
 */
#include <arpa/inet.h>
#include <check.h>
#include <errno.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/config.h"
#include "dns/fakeip.h"
#include "dns/hosts.h"
#include "route/dnsroute.h"

#define NAME "target.test"

static bool in_fake4(const struct sockaddr *sa)
{
	const struct sockaddr_in *s = (const struct sockaddr_in *)sa;

	return sa->sa_family == AF_INET &&
	       (ntohl(s->sin_addr.s_addr) & 0xfffe0000u) == 0xc6120000u;
}

static bool in_fake6(const struct sockaddr *sa)
{
	static const uint8_t pfx[8] = { 0xfd, 0x53, 0x6f, 0x63,
					0x6b, 0x73, 0x69, 0x66 };
	const struct sockaddr_in6 *s = (const struct sockaddr_in6 *)sa;

	return sa->sa_family == AF_INET6 &&
	       memcmp(s->sin6_addr.s6_addr, pfx, 8) == 0;
}

static int port_of(const struct addrinfo *ai)
{
	if (ai->ai_family == AF_INET)
		return ntohs(((struct sockaddr_in *)ai->ai_addr)->sin_port);
	return ntohs(((struct sockaddr_in6 *)ai->ai_addr)->sin6_port);
}

static int count(const struct addrinfo *ai)
{
	int n = 0;

	for (; ai; ai = ai->ai_next)
		n++;
	return n;
}

static int gai(const char *node, const char *serv, int family, int socktype,
	       int protocol, int flags, struct addrinfo **res)
{
	struct addrinfo h;

	memset(&h, 0, sizeof(h));
	h.ai_family = family;
	h.ai_socktype = socktype;
	h.ai_protocol = protocol;
	h.ai_flags = flags;
	*res = NULL;
	return getaddrinfo(node, serv, &h, res);
}

START_TEST(gai_families)
{
	struct addrinfo *res, *r6;

	ck_assert_int_eq(gai(NAME, "80", AF_UNSPEC, SOCK_STREAM, 0, 0, &res), 0);
	ck_assert_int_eq(count(res), 2); /* IPv4 fake first, then IPv6 */
	ck_assert(in_fake4(res->ai_addr));
	ck_assert(in_fake6(res->ai_next->ai_addr));
	ck_assert_int_eq(res->ai_addrlen, sizeof(struct sockaddr_in));
	ck_assert_int_eq(res->ai_socktype, SOCK_STREAM);
	ck_assert_int_eq(res->ai_protocol, IPPROTO_TCP);
	ck_assert_int_eq(port_of(res), 80);
	ck_assert_ptr_null(res->ai_canonname);

	ck_assert_int_eq(gai(NAME, "80", AF_INET6, SOCK_STREAM, 0, 0, &r6), 0);
	ck_assert_int_eq(count(r6), 1);
	ck_assert(in_fake6(r6->ai_addr));
	ck_assert_int_eq(r6->ai_addrlen, sizeof(struct sockaddr_in6));
	/* one entry for both families: same index */
	ck_assert_int_eq(((struct sockaddr_in *)res->ai_addr)->sin_addr.s_addr,
			 htonl(0xc6120000u) |
			 ((struct sockaddr_in6 *)r6->ai_addr)->sin6_addr.s6_addr32[3]);
	freeaddrinfo(r6);

	ck_assert_int_eq(gai(NAME, NULL, AF_INET6, 0, 0, AI_V4MAPPED | AI_ALL,
			     &r6), 0);
	ck_assert(in_fake6(r6->ai_addr));
	freeaddrinfo(r6);
	ck_assert_int_eq(gai(NAME, NULL, AF_INET, 0, 0, AI_ADDRCONFIG, &r6), 0);
	ck_assert(in_fake4(r6->ai_addr));
	freeaddrinfo(r6);
	freeaddrinfo(res);

	ck_assert_int_eq(gai(NAME, "80", AF_UNIX, 0, 0, 0, &res), EAI_FAMILY);
	ck_assert_int_eq(gai(NAME, "80", AF_INET, 0, 0, 0x8000, &res),
			 EAI_BADFLAGS);
}
END_TEST

START_TEST(gai_null_hints)
{
	struct addrinfo *res, *ai;
	int types[3] = { SOCK_STREAM, SOCK_DGRAM, SOCK_RAW }, i = 0;

	res = NULL;
	ck_assert_int_eq(getaddrinfo("Target.Test.", "443", NULL, &res), 0);
	/* like glibc: stream, dgram, raw for each address */
	ck_assert_int_eq(count(res), 6);
	for (ai = res; ai; ai = ai->ai_next, i++) {
		ck_assert(i < 3 ? in_fake4(ai->ai_addr) : in_fake6(ai->ai_addr));
		ck_assert_int_eq(ai->ai_socktype, types[i % 3]);
		ck_assert_int_eq(port_of(ai), 443);
		if (i < 3)
			ck_assert_int_eq(
				((struct sockaddr_in *)ai->ai_addr)->sin_addr.s_addr,
				((struct sockaddr_in *)res->ai_addr)->sin_addr.s_addr);
	}
	freeaddrinfo(res);
}
END_TEST

START_TEST(gai_services)
{
	struct addrinfo *res;

	ck_assert_int_eq(gai(NAME, "http", AF_INET, 0, 0, 0, &res), 0);
	ck_assert_int_ge(count(res), 1);
	ck_assert_int_eq(res->ai_socktype, SOCK_STREAM);
	ck_assert_int_eq(port_of(res), 80);
	freeaddrinfo(res);
	/* ntp is udp only in /etc/services */
	ck_assert_int_eq(gai(NAME, "ntp", AF_INET, 0, 0, 0, &res), 0);
	ck_assert_int_eq(count(res), 1);
	ck_assert_int_eq(res->ai_socktype, SOCK_DGRAM);
	ck_assert_int_eq(port_of(res), 123);
	freeaddrinfo(res);
	ck_assert_int_eq(gai(NAME, "ntp", AF_INET, SOCK_STREAM, 0, 0, &res),
			 EAI_SERVICE);
	ck_assert_int_eq(gai(NAME, "http", AF_INET, 0, 0, AI_NUMERICSERV, &res),
			 EAI_NONAME);
	ck_assert_int_eq(gai(NAME, "no-such-service-x", AF_INET, 0, 0, 0, &res),
			 EAI_SERVICE);
	ck_assert_int_eq(gai(NAME, "80", AF_INET, SOCK_RAW, 0, 0, &res),
			 EAI_SERVICE);
	ck_assert_int_eq(gai(NAME, "80", AF_INET, 99, 0, 0, &res),
			 EAI_SOCKTYPE);
	/* SCTP is a kind glibc knows */
	ck_assert_int_eq(gai(NAME, "80", AF_INET, SOCK_SEQPACKET, 0, 0, &res), 0);
	ck_assert_int_eq(res->ai_protocol, IPPROTO_SCTP);
	freeaddrinfo(res);
	ck_assert_int_eq(gai(NAME, "80", AF_INET, SOCK_STREAM, IPPROTO_UDP, 0,
			     &res), EAI_SOCKTYPE);

	/* glibc's reading of a service: strtoul's (blanks, a sign), kept in
	 * an int, its low 16 bits the port; "*" and "" are no service; a
	 * number whose int is negative is looked up as a name */
	{
		static const struct {
			const char *svc;
			int flags, rc, port;
		} t[] = {
			{ "*", 0, 0, 0 },	     { "", 0, 0, 0 },
			{ " 80", 0, 0, 80 },	     { "\t80", 0, 0, 80 },
			{ "+80", 0, 0, 80 },	     { "08", 0, 0, 8 },
			{ "70000", 0, 0, 4464 },     { "4294967375", 0, 0, 79 },
			{ "-1", 0, EAI_SERVICE, 0 }, { "2147483648", 0, EAI_SERVICE, 0 },
			{ "80 ", 0, EAI_SERVICE, 0 }, { "0x50", 0, EAI_SERVICE, 0 },
			{ "*", AI_NUMERICSERV, 0, 0 }, { " 80", AI_NUMERICSERV, 0, 80 },
			{ "80 ", AI_NUMERICSERV, EAI_NONAME, 0 },
			{ "-1", AI_NUMERICSERV, EAI_SERVICE, 0 },
		};

		for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
			int rc = gai(NAME, t[i].svc, AF_INET, SOCK_STREAM, 0,
				     t[i].flags, &res);

			ck_assert_msg(rc == t[i].rc, "service '%s' flags %#x: %d, not %d",
				      t[i].svc, t[i].flags, rc, t[i].rc);
			if (rc == 0) {
				ck_assert_int_eq(port_of(res), t[i].port);
				freeaddrinfo(res);
			}
		}
	}

	/* a protocol alone picks its socket type */
	ck_assert_int_eq(gai(NAME, "53", AF_INET, 0, IPPROTO_UDP, 0, &res), 0);
	ck_assert_int_eq(count(res), 1);
	ck_assert_int_eq(res->ai_socktype, SOCK_DGRAM);
	ck_assert_int_eq(res->ai_protocol, IPPROTO_UDP);
	freeaddrinfo(res);
	/* raw takes any protocol, and a socket type with no service */
	ck_assert_int_eq(gai(NAME, NULL, AF_INET, SOCK_RAW, IPPROTO_ICMP, 0,
			     &res), 0);
	ck_assert_int_eq(count(res), 1);
	ck_assert_int_eq(res->ai_protocol, IPPROTO_ICMP);
	ck_assert_int_eq(port_of(res), 0);
	freeaddrinfo(res);
}
END_TEST

START_TEST(gai_canonname)
{
	struct addrinfo *res;

	ck_assert_int_eq(gai("Canon.Test", "80", AF_UNSPEC, SOCK_STREAM, 0,
			     AI_CANONNAME, &res), 0);
	ck_assert_str_eq(res->ai_canonname, "Canon.Test");
	ck_assert_int_eq(res->ai_flags, AI_CANONNAME);
	freeaddrinfo(res);
	ck_assert_int_eq(gai("canon.test", NULL, AF_UNSPEC, 0, 0, AI_CANONNAME,
			     &res), 0);
	ck_assert_int_eq(count(res), 6);
	ck_assert_str_eq(res->ai_canonname, "canon.test");
	ck_assert_ptr_null(res->ai_next->ai_canonname);
	freeaddrinfo(res);
}
END_TEST

START_TEST(gai_local_cases)
{
	struct addrinfo *res;
	char big[300];

	/* numeric hosts go to libc (and its list to libc's freeaddrinfo) */
	ck_assert_int_eq(gai("127.1", "80", AF_INET, SOCK_STREAM, 0, 0, &res), 0);
	ck_assert_int_eq(((struct sockaddr_in *)res->ai_addr)->sin_addr.s_addr,
			 htonl(0x7f000001));
	freeaddrinfo(res);
	ck_assert_int_eq(gai("::1", "80", AF_INET6, SOCK_STREAM, 0, 0, &res), 0);
	ck_assert(IN6_IS_ADDR_LOOPBACK(
		&((struct sockaddr_in6 *)res->ai_addr)->sin6_addr));
	freeaddrinfo(res);
	/* a fake address in text is numeric too */
	ck_assert_int_eq(gai("198.18.9.9", "80", AF_INET, SOCK_STREAM, 0, 0,
			     &res), 0);
	freeaddrinfo(res);
	/* localhost is in /etc/hosts and on the default bypass list */
	ck_assert_int_eq(gai("localhost", "80", AF_INET, SOCK_STREAM, 0, 0,
			     &res), 0);
	ck_assert_int_eq(((struct sockaddr_in *)res->ai_addr)->sin_addr.s_addr,
			 htonl(0x7f000001));
	freeaddrinfo(res);
	/* "localhost" on the list covers the names under it (curl's rule),
	 * and those are still answered as loopback here (RFC 6761), never
	 * sent to DNS as a bypassed name would be. */
	ck_assert_int_eq(gai("app.localhost", "80", AF_INET, SOCK_STREAM, 0, 0,
			     &res), 0);
	ck_assert_int_eq(((struct sockaddr_in *)res->ai_addr)->sin_addr.s_addr,
			 htonl(0x7f000001));
	freeaddrinfo(res);
	ck_assert_int_eq(gai(NAME, "80", AF_INET, 0, 0, AI_NUMERICHOST, &res),
			 EAI_NONAME);
	/* NULL node: libc's passive / loopback addresses */
	ck_assert_int_eq(gai(NULL, "80", AF_INET, SOCK_STREAM, 0, AI_PASSIVE,
			     &res), 0);
	ck_assert_int_eq(((struct sockaddr_in *)res->ai_addr)->sin_addr.s_addr,
			 0);
	freeaddrinfo(res);

	memset(big, 'a', 256);
	big[256] = '\0';
	ck_assert_int_eq(gai(big, "80", AF_INET, 0, 0, 0, &res), EAI_NONAME);
	big[255] = '.'; /* 255 bytes and the root dot: fine */
	ck_assert_int_eq(gai(big, "80", AF_INET, 0, 0, 0, &res), 0);
	freeaddrinfo(res);
	ck_assert_int_eq(gai("", "80", AF_INET, 0, 0, 0, &res), EAI_NONAME);
}
END_TEST

START_TEST(gai_fails_closed)
{
	struct addrinfo *res;

	/* the map is gone: no answer, and no fallback to the resolver */
	ck_assert_int_eq(sfy_fakeip_init_ranges(NULL, NULL, 0), -EINVAL);
	errno = 0;
	ck_assert_int_eq(gai(NAME, "80", AF_INET, 0, 0, 0, &res), EAI_SYSTEM);
	ck_assert_int_ne(errno, 0);
	ck_assert_ptr_null(res);
	ck_assert_ptr_null(gethostbyname(NAME));
	ck_assert_int_eq(h_errno, NETDB_INTERNAL);
}
END_TEST

START_TEST(gai_v6_only_range)
{
	struct sfy_cidr c6;
	struct addrinfo *res;

	memset(&c6, 0, sizeof(c6));
	c6.family = AF_INET6;
	c6.prefix = 64;
	ck_assert_int_eq(inet_pton(AF_INET6, "fd53:6f63:6b73:6966::",
				   c6.addr), 1);
	ck_assert_int_eq(sfy_fakeip_init_ranges(NULL, &c6, 0), 0);
	/* AF_UNSPEC takes the IPv6 fake when there is no IPv4 range */
	ck_assert_int_eq(gai(NAME, "80", AF_UNSPEC, SOCK_STREAM, 0, 0, &res), 0);
	ck_assert_int_eq(count(res), 1);
	ck_assert(in_fake6(res->ai_addr));
	freeaddrinfo(res);
	ck_assert_int_eq(gai(NAME, "80", AF_INET, SOCK_STREAM, 0, 0, &res),
			 EAI_ADDRFAMILY);
}
END_TEST

START_TEST(nameinfo)
{
	struct addrinfo *res;
	struct sockaddr_in unknown;
	char host[NI_MAXHOST], serv[NI_MAXSERV], small[6];

	ck_assert_int_eq(gai("Reverse.Test", "80", AF_INET6, SOCK_STREAM, 0, 0,
			     &res), 0);
	ck_assert_int_eq(getnameinfo(res->ai_addr, res->ai_addrlen, host,
				     sizeof(host), serv, sizeof(serv), 0), 0);
	ck_assert_str_eq(host, "reverse.test");
	ck_assert_str_eq(serv, "http");
	ck_assert_int_eq(getnameinfo(res->ai_addr, res->ai_addrlen, host,
				     sizeof(host), NULL, 0, NI_NAMEREQD), 0);
	ck_assert_str_eq(host, "reverse.test");
	ck_assert_int_eq(getnameinfo(res->ai_addr, res->ai_addrlen, host,
				     sizeof(host), serv, sizeof(serv),
				     NI_NUMERICHOST | NI_NUMERICSERV), 0);
	ck_assert_str_eq(serv, "80");
	ck_assert(strncmp(host, "fd53:6f63:6b73:6966::", 21) == 0);
	ck_assert_int_eq(getnameinfo(res->ai_addr, res->ai_addrlen, small,
				     sizeof(small), NULL, 0, 0), EAI_OVERFLOW);
	freeaddrinfo(res);

	memset(&unknown, 0, sizeof(unknown));
	unknown.sin_family = AF_INET;
	unknown.sin_addr.s_addr = htonl(0xc613fff0); /* 198.19.255.240 */
	ck_assert_int_eq(getnameinfo((struct sockaddr *)&unknown,
				     sizeof(unknown), host, sizeof(host), NULL,
				     0, NI_NAMEREQD), EAI_NONAME);
	ck_assert_int_eq(getnameinfo((struct sockaddr *)&unknown,
				     sizeof(unknown), host, sizeof(host), NULL,
				     0, 0), 0);
	ck_assert_str_eq(host, "198.19.255.240");
	/* not a fake: the real getnameinfo's business */
	unknown.sin_addr.s_addr = htonl(0x7f000001);
	ck_assert_int_eq(sfy_nameinfo_fake((struct sockaddr *)&unknown,
					   sizeof(unknown), host, sizeof(host),
					   NULL, 0, 0), SFY_NAMEINFO_PASS);
	/* too short for the family */
	unknown.sin_addr.s_addr = htonl(0xc6120001);
	ck_assert_int_eq(sfy_nameinfo_fake((struct sockaddr *)&unknown, 8, host,
					   sizeof(host), NULL, 0, 0),
			 SFY_NAMEINFO_PASS);
}
END_TEST

START_TEST(hostent)
{
	struct hostent *he, ret, *result;
	char buf[512], tiny[16];
	int herr = 0;
	struct sockaddr_in sin;
	uint32_t a4;

	he = gethostbyname("Hostent.Test");
	ck_assert_ptr_nonnull(he);
	ck_assert_str_eq(he->h_name, "Hostent.Test");
	ck_assert_int_eq(he->h_addrtype, AF_INET);
	ck_assert_int_eq(he->h_length, 4);
	ck_assert_ptr_null(he->h_aliases[0]);
	ck_assert_ptr_nonnull(he->h_addr_list[0]);
	ck_assert_ptr_null(he->h_addr_list[1]);
	memcpy(&a4, he->h_addr_list[0], 4);
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = a4;
	ck_assert(in_fake4((struct sockaddr *)&sin));

	he = gethostbyname2("hostent.test", AF_INET6);
	ck_assert_ptr_nonnull(he);
	ck_assert_int_eq(he->h_addrtype, AF_INET6);
	ck_assert_int_eq(he->h_length, 16);
	ck_assert_int_eq(((uint32_t *)he->h_addr_list[0])[3],
			 htonl(ntohl(a4) - 0xc6120000u));

	ck_assert_int_eq(gethostbyname_r("hostent.test", &ret, buf, sizeof(buf),
					 &result, &herr), 0);
	ck_assert_ptr_eq(result, &ret);
	ck_assert_int_eq(memcmp(ret.h_addr_list[0], &a4, 4), 0);
	ck_assert_int_eq(gethostbyname_r("hostent.test", &ret, tiny,
					 sizeof(tiny), &result, &herr), ERANGE);
	ck_assert_ptr_null(result);
	ck_assert_int_eq(herr, NETDB_INTERNAL);
	ck_assert_int_eq(gethostbyname2_r("hostent.test", AF_INET6, &ret, buf,
					  sizeof(buf), &result, &herr), 0);
	ck_assert_int_eq(ret.h_length, 16);
	/* a buffer that is not pointer-aligned */
	ck_assert_int_eq(gethostbyname2_r("hostent.test", AF_INET6, &ret,
					  buf + 1, sizeof(buf) - 1, &result,
					  &herr), 0);
	ck_assert_ptr_eq(result, &ret);

	/* no such name: 0, NULL result, HOST_NOT_FOUND */
	ck_assert_int_eq(gethostbyname_r("", &ret, buf, sizeof(buf), &result,
					 &herr), 0);
	ck_assert_ptr_null(result);
	ck_assert_int_eq(herr, HOST_NOT_FOUND);

	/* gethostbyaddr of a fake gives the name back */
	he = gethostbyaddr(&a4, 4, AF_INET);
	ck_assert_ptr_nonnull(he);
	ck_assert_str_eq(he->h_name, "hostent.test");
	ck_assert_int_eq(memcmp(he->h_addr_list[0], &a4, 4), 0);
	ck_assert_int_eq(gethostbyaddr_r(&a4, 4, AF_INET, &ret, buf,
					 sizeof(buf), &result, &herr), 0);
	ck_assert_ptr_eq(result, &ret);
	ck_assert_str_eq(ret.h_name, "hostent.test");
	ck_assert_int_eq(gethostbyaddr_r(&a4, 4, AF_INET, &ret, tiny,
					 sizeof(tiny), &result, &herr), ERANGE);
	a4 = htonl(0xc613fff0);
	ck_assert_ptr_null(gethostbyaddr(&a4, 4, AF_INET));
	ck_assert_int_eq(h_errno, HOST_NOT_FOUND);
	ck_assert_int_eq(gethostbyaddr_r(&a4, 4, AF_INET, &ret, buf,
					 sizeof(buf), &result, &herr), 0);
	ck_assert_ptr_null(result);
	ck_assert_int_eq(herr, HOST_NOT_FOUND);
	a4 = htonl(0x7f000001);
	ck_assert_int_eq(sfy_hostent_by_addr(&a4, 4, AF_INET, &ret, buf,
					     sizeof(buf), &herr),
			 SFY_HOSTENT_PASS);
	/* numeric hosts stay with libc */
	ck_assert_int_eq(sfy_hostent_lookup("192.0.2.7", AF_INET, &ret, buf,
					    sizeof(buf), &herr),
			 SFY_HOSTENT_PASS);
	ck_assert_int_eq(sfy_hostent_lookup(NAME, AF_UNIX, &ret, buf,
					    sizeof(buf), &herr),
			 SFY_HOSTENT_PASS);
	he = gethostbyname("192.0.2.7");
	ck_assert_ptr_nonnull(he);
	ck_assert_int_eq(memcmp(he->h_addr_list[0], "\xc0\x00\x02\x07", 4), 0);
}
END_TEST

/* ---- /etc/hosts reader -------------------------------------------------- */

static char hosts_path[64];

static void write_hosts(const char *text)
{
	FILE *f;

	strcpy(hosts_path, "/tmp/sfy-hosts-XXXXXX");
	ck_assert_int_ge(mkstemp(hosts_path), 0);
	f = fopen(hosts_path, "w");
	ck_assert_ptr_nonnull(f);
	fputs(text, f);
	fclose(f);
}

START_TEST(hosts_file)
{
	struct sfy_hosts_result r;

	write_hosts("# comment line\n"
		    "127.0.0.1\tlocalhost\n"
		    "  192.0.2.5   Alpha.Example   alpha a  # trailing\n"
		    "2001:db8::5 alpha.example\n"
		    "bogus-address   beta.example\n"
		    "192.0.2.6 beta.example\r\n"
		    "192.0.2.9 #gamma.example\n"
		    "203.0.113.1 last.example");
	ck_assert_int_eq(sfy_hosts_lookup_file(hosts_path, "ALPHA.example", &r),
			 1);
	ck_assert(r.has4 && r.has6);
	ck_assert_uint_eq(r.n, 2);
	ck_assert_int_eq(r.addrs[0].family, AF_INET);
	ck_assert_int_eq(memcmp(r.addrs[0].addr, "\xc0\x00\x02\x05", 4), 0);
	ck_assert_int_eq(r.addrs[1].family, AF_INET6);
	ck_assert_str_eq(r.canon, "Alpha.Example");
	/* an alias finds the line; the canonical name is its first name */
	ck_assert_int_eq(sfy_hosts_lookup_file(hosts_path, "a.", &r), 1);
	ck_assert(r.has4 && !r.has6);
	ck_assert_str_eq(r.canon, "Alpha.Example");
	ck_assert_int_eq(sfy_hosts_lookup_file(hosts_path, "beta.example", &r),
			 1);
	ck_assert_uint_eq(r.n, 1);
	ck_assert_int_eq(memcmp(r.addrs[0].addr, "\xc0\x00\x02\x06", 4), 0);
	ck_assert_int_eq(sfy_hosts_lookup_file(hosts_path, "gamma.example", &r),
			 0);
	ck_assert_int_eq(sfy_hosts_lookup_file(hosts_path, "last.example", &r),
			 1);
	ck_assert_int_eq(sfy_hosts_lookup_file(hosts_path, "alph", &r), 0);
	ck_assert_int_eq(sfy_hosts_lookup_file(hosts_path, "", &r), 0);
	ck_assert_int_eq(sfy_hosts_lookup_file("/nonexistent/hosts", "a", &r),
			 0);
	unlink(hosts_path);
}
END_TEST

/* Lines across buffer boundaries, and one line too long to keep. */
START_TEST(hosts_big_file)
{
	size_t cap = 200000, len = 0;
	char *text = malloc(cap);
	struct sfy_hosts_result r;

	ck_assert_ptr_nonnull(text);
	for (int i = 0; i < 5000; i++)
		len += (size_t)snprintf(text + len, cap - len,
					"10.0.%d.%d host%d.big\n", i / 250,
					i % 250, i);
	len += (size_t)snprintf(text + len, cap - len, "10.9.9.9 ");
	memset(text + len, 'x', 9000);
	len += 9000;
	len += (size_t)snprintf(text + len, cap - len,
				" longline.big\n10.9.9.8 after.big\n");
	write_hosts(text);
	free(text);
	for (int i = 0; i < 5000; i += 97) {
		char name[32];

		snprintf(name, sizeof(name), "HOST%d.big", i);
		ck_assert_int_eq(sfy_hosts_lookup_file(hosts_path, name, &r), 1);
		ck_assert_int_eq(r.addrs[0].addr[2], i / 250);
		ck_assert_int_eq(r.addrs[0].addr[3], i % 250);
	}
	ck_assert_int_eq(sfy_hosts_lookup_file(hosts_path, "longline.big", &r),
			 0);
	ck_assert_int_eq(sfy_hosts_lookup_file(hosts_path, "after.big", &r), 1);
	unlink(hosts_path);
}
END_TEST

static Suite *resolve_suite(void)
{
	Suite *s = suite_create("resolve");
	TCase *tc = tcase_create("hooks");
	TCase *th = tcase_create("hosts");

	tcase_add_test(tc, gai_families);
	tcase_add_test(tc, gai_null_hints);
	tcase_add_test(tc, gai_services);
	tcase_add_test(tc, gai_canonname);
	tcase_add_test(tc, gai_local_cases);
	tcase_add_test(tc, gai_fails_closed);
	tcase_add_test(tc, gai_v6_only_range);
	tcase_add_test(tc, nameinfo);
	tcase_add_test(tc, hostent);
	suite_add_tcase(s, tc);
	tcase_add_test(th, hosts_file);
	tcase_add_test(th, hosts_big_file);
	suite_add_tcase(s, th);
	return s;
}

int main(int argc, char **argv)
{
	SRunner *sr;
	int failed;

	(void)argc;
	if (getenv("SFY_TEST_RESOLVE_CHILD") == NULL) {
		/* remote DNS towards a proxy nobody listens on: these tests
		 * never connect, they only resolve */
		setenv("SFY_TEST_RESOLVE_CHILD", "1", 1);
		setenv("SOCKSIFY_PROXY", "socks5h://127.0.0.1:9", 1);
		unsetenv("SOCKSIFY_NO_PROXY");
		unsetenv("NO_PROXY");
		unsetenv("no_proxy");
		unsetenv("SOCKSIFY_DNS");
		unsetenv("SOCKSIFY_FAKE_NET");
		execv("/proc/self/exe", argv);
		perror("execv /proc/self/exe");
		return EXIT_FAILURE;
	}
	sr = srunner_create(resolve_suite());
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
