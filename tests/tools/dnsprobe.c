/*
 * dnsprobe: calls one resolver function and prints what it returned, one
 * line per address, for tests/integration/test_dns.sh (the hooks under
 * test replace these functions when libsocksify.so is preloaded).
 *
 *   dnsprobe hbn NAME            gethostbyname
 *   dnsprobe hbn2 NAME 4|6       gethostbyname2
 *   dnsprobe hbnr NAME           gethostbyname_r (starts with a tiny buffer
 *                                and grows it on ERANGE)
 *   dnsprobe hbn2r NAME 4|6      gethostbyname2_r (the same)
 *   dnsprobe hba ADDR            gethostbyaddr
 *   dnsprobe hbar ADDR           gethostbyaddr_r
 *   dnsprobe gni ADDR PORT [numerichost] [namereqd]   getnameinfo
 *   dnsprobe rev NAME 4|6        gethostbyname2, then the reverse functions
 *                                on its first address, in this process:
 *                                "hba NAME", "hbar NAME", "gni NAME"
 *
 * hostent output: "name NAME", then "addr ADDR" per address.
 * getnameinfo output: "host HOST serv SERV".
 * Failures: "error FUNCTION CODE TEXT" and exit status 2.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int usage(void)
{
	fprintf(stderr, "usage: dnsprobe hbn|hbn2|hbnr|hbn2r|hba|hbar|gni|rev "
			"ARGS (see the source)\n");
	return 64;
}

static int print_hostent(const struct hostent *he)
{
	char text[INET6_ADDRSTRLEN];

	printf("name %s\n", he->h_name);
	for (char **a = he->h_addr_list; *a; a++) {
		if (!inet_ntop(he->h_addrtype, *a, text, sizeof(text)))
			return 2;
		printf("addr %s\n", text);
	}
	return 0;
}

static int herror_out(const char *fn, int herr)
{
	printf("error %s %d %s\n", fn, herr, hstrerror(herr));
	return 2;
}

static int family_arg(const char *s)
{
	return strcmp(s, "6") == 0 ? AF_INET6 : AF_INET;
}

/* gethostbyname_r / gethostbyname2_r with a buffer grown on ERANGE. */
static int hbn_r(const char *name, int family, bool two)
{
	struct hostent he, *res = NULL;
	size_t len = 8;
	int herr = 0, rc, retries = 0;
	char *buf = NULL;

	for (;;) {
		char *nbuf = realloc(buf, len);

		if (nbuf == NULL)
			return 2;
		buf = nbuf;
		rc = two ? gethostbyname2_r(name, family, &he, buf, len, &res,
					    &herr)
			 : gethostbyname_r(name, &he, buf, len, &res, &herr);
		if (rc != ERANGE || len >= 65536)
			break;
		len *= 2;
		retries++;
	}
	printf("erange-retries %d\n", retries);
	if (rc != 0 || res == NULL) {
		free(buf);
		return herror_out(two ? "gethostbyname2_r" : "gethostbyname_r",
				  herr);
	}
	rc = print_hostent(res);
	free(buf);
	return rc;
}

static int hba(const char *text, bool reentrant)
{
	unsigned char addr[16];
	struct hostent he, *res = NULL;
	char buf[2048];
	int family = strchr(text, ':') ? AF_INET6 : AF_INET, herr = 0;
	socklen_t len = family == AF_INET ? 4 : 16;

	if (inet_pton(family, text, addr) != 1)
		return usage();
	if (reentrant) {
		if (gethostbyaddr_r(addr, len, family, &he, buf, sizeof(buf),
				    &res, &herr) != 0 || res == NULL)
			return herror_out("gethostbyaddr_r", herr);
		return print_hostent(res);
	}
	res = gethostbyaddr(addr, len, family);
	if (res == NULL)
		return herror_out("gethostbyaddr", h_errno);
	return print_hostent(res);
}

static int gni(int argc, char **argv)
{
	struct sockaddr_storage ss;
	struct sockaddr_in *in = (struct sockaddr_in *)&ss;
	struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)&ss;
	char host[NI_MAXHOST], serv[NI_MAXSERV];
	socklen_t len;
	int flags = 0, rc;

	memset(&ss, 0, sizeof(ss));
	if (inet_pton(AF_INET, argv[2], &in->sin_addr) == 1) {
		in->sin_family = AF_INET;
		in->sin_port = htons((uint16_t)atoi(argv[3]));
		len = sizeof(*in);
	} else if (inet_pton(AF_INET6, argv[2], &in6->sin6_addr) == 1) {
		in6->sin6_family = AF_INET6;
		in6->sin6_port = htons((uint16_t)atoi(argv[3]));
		len = sizeof(*in6);
	} else {
		return usage();
	}
	for (int i = 4; i < argc; i++) {
		if (strcmp(argv[i], "numerichost") == 0)
			flags |= NI_NUMERICHOST;
		else if (strcmp(argv[i], "namereqd") == 0)
			flags |= NI_NAMEREQD;
		else
			return usage();
	}
	rc = getnameinfo((struct sockaddr *)&ss, len, host, sizeof(host), serv,
			 sizeof(serv), flags);
	if (rc != 0) {
		printf("error getnameinfo %d %s\n", rc, gai_strerror(rc));
		return 2;
	}
	printf("host %s serv %s\n", host, serv);
	return 0;
}

/* Forward then reverse in one process (a fake's name lives in its map). */
static int rev(const char *name, int family)
{
	struct hostent *he = gethostbyname2(name, family), ret, *res = NULL;
	struct sockaddr_storage ss;
	unsigned char addr[16];
	char buf[2048], host[NI_MAXHOST];
	int len, herr = 0, rc;

	if (he == NULL)
		return herror_out("gethostbyname2", h_errno);
	len = he->h_length;
	memcpy(addr, he->h_addr_list[0], (size_t)len);
	he = gethostbyaddr(addr, (socklen_t)len, family);
	printf("hba %s\n", he ? he->h_name : "-");
	if (gethostbyaddr_r(addr, (socklen_t)len, family, &ret, buf,
			    sizeof(buf), &res, &herr) == 0 && res)
		printf("hbar %s\n", res->h_name);
	else
		printf("hbar -\n");
	memset(&ss, 0, sizeof(ss));
	ss.ss_family = (sa_family_t)family;
	if (family == AF_INET)
		memcpy(&((struct sockaddr_in *)&ss)->sin_addr, addr, 4);
	else
		memcpy(&((struct sockaddr_in6 *)&ss)->sin6_addr, addr, 16);
	rc = getnameinfo((struct sockaddr *)&ss,
			 family == AF_INET ? sizeof(struct sockaddr_in)
					   : sizeof(struct sockaddr_in6),
			 host, sizeof(host), NULL, 0, NI_NAMEREQD);
	printf("gni %s\n", rc == 0 ? host : "-");
	return 0;
}

int main(int argc, char **argv)
{
	struct hostent *he;

	if (argc < 3)
		return usage();
	if (strcmp(argv[1], "hbn") == 0) {
		he = gethostbyname(argv[2]);
		return he ? print_hostent(he) : herror_out("gethostbyname",
							   h_errno);
	}
	if (strcmp(argv[1], "hbn2") == 0 && argc == 4) {
		he = gethostbyname2(argv[2], family_arg(argv[3]));
		return he ? print_hostent(he) : herror_out("gethostbyname2",
							   h_errno);
	}
	if (strcmp(argv[1], "hbnr") == 0)
		return hbn_r(argv[2], AF_INET, false);
	if (strcmp(argv[1], "hbn2r") == 0 && argc == 4)
		return hbn_r(argv[2], family_arg(argv[3]), true);
	if (strcmp(argv[1], "hba") == 0)
		return hba(argv[2], false);
	if (strcmp(argv[1], "hbar") == 0)
		return hba(argv[2], true);
	if (strcmp(argv[1], "rev") == 0 && argc == 4)
		return rev(argv[2], family_arg(argv[3]));
	if (strcmp(argv[1], "gni") == 0 && argc >= 4)
		return gni(argc, argv);
	return usage();
}
