/*
 * difftest-dns: getaddrinfo() services, hints and nodes (glibc's
 * own test lists), gethostbyname*(), gethostbyaddr*().
 * See difftest.h.
 */
#include "difftest.h"

/* ---- group: getaddrinfo ---------------------------------------------------- */

static void gai_case(const char *name, const char *node, const char *svc,
		     const struct addrinfo *hints)
{
	struct addrinfo *res = NULL;
	uint64_t h = FNV0;
	char text[256] = "", t[80];
	size_t used = 0;
	int rc, n = 0;

	errno = 0;
	rc = getaddrinfo(node, svc, hints, &res);
	for (struct addrinfo *p = rc == 0 ? res : NULL; p; p = p->ai_next, n++) {
		h = fnv(h, &p->ai_flags, sizeof(p->ai_flags));
		h = fnv(h, &p->ai_family, sizeof(p->ai_family));
		h = fnv(h, &p->ai_socktype, sizeof(p->ai_socktype));
		h = fnv(h, &p->ai_protocol, sizeof(p->ai_protocol));
		h = fnv(h, &p->ai_addrlen, sizeof(p->ai_addrlen));
		h = fnv(h, p->ai_addr, p->ai_addrlen);
		if (p->ai_canonname)
			h = fnv(h, p->ai_canonname, strlen(p->ai_canonname) + 1);
		sa_text(p->ai_addr, p->ai_addrlen, t, sizeof(t));
		if (used < sizeof(text) - 1)
			used += (size_t)snprintf(text + used, sizeof(text) - used,
						 "%d/%d/%s%s%s ", p->ai_socktype,
						 p->ai_protocol, t,
						 p->ai_canonname ? "/" : "",
						 p->ai_canonname ? p->ai_canonname :
								   "");
	}
	if (rc == 0)
		freeaddrinfo(res);
	emit(name, rc == 0 ? n : -1, 0, h, "gai=%d %s", rc, text);
}

static void group_getaddrinfo(void)
{
	static const char *nodes[] = { NULL, "", "*", "localhost", "127.0.0.1",
				       "::1", "LOCALHOST", "localhost." };
	static const char *svcs[] = { NULL, "", "*", "0", "80", " 80", "\t80",
				      "+80", "80 ", "-1", "08", "0x50", "65535",
				      "65536", "2147483648", "4294967296",
				      "4294967375", "18446744073709551616", "http",
				      "HTTP", " http", "domain", "nonexistent-svc",
				      "1e2" };
	static const int fam[] = { AF_UNSPEC, AF_INET, AF_INET6, AF_UNIX, 99 };
	static const int st[] = { 0, SOCK_STREAM, SOCK_DGRAM, SOCK_RAW,
				  SOCK_SEQPACKET, SOCK_DCCP, 99 };
	static const int pr[] = { 0, IPPROTO_TCP, IPPROTO_UDP, IPPROTO_UDPLITE,
				  IPPROTO_DCCP, IPPROTO_SCTP, 99 };
	static const int fl[] = { 0, AI_PASSIVE, AI_CANONNAME, AI_NUMERICHOST,
				  AI_V4MAPPED, AI_V4MAPPED | AI_ALL, AI_ALL,
				  AI_ADDRCONFIG, AI_NUMERICSERV, AI_IDN,
				  AI_CANONNAME | AI_NUMERICHOST, 0x8000 };
	struct addrinfo hints;
	char name[200];
	size_t i, j, a, b, c;

	for (i = 0; i < sizeof(nodes) / sizeof(nodes[0]); i++) {
		for (j = 0; j < sizeof(svcs) / sizeof(svcs[0]); j++)
			for (a = 0; a < sizeof(st) / sizeof(st[0]); a++)
				for (b = 0; b < 2; b++) {
					memset(&hints, 0, sizeof(hints));
					hints.ai_socktype = st[a];
					hints.ai_family = AF_INET;
					hints.ai_flags = b ? AI_NUMERICSERV : 0;
					snprintf(name, sizeof(name),
						 "getaddrinfo/node=%s/svc=%s/st%d/fl%#x",
						 nodes[i] ? nodes[i] : "NULL",
						 svcs[j] ? svcs[j] : "NULL", st[a],
						 hints.ai_flags);
					for (char *p = name; *p; p++)
						if (*p == ' ' || *p == '\t')
							*p = '_';
					gai_case(name, nodes[i], svcs[j], &hints);
				}
		for (a = 0; a < sizeof(fam) / sizeof(fam[0]); a++)
			for (b = 0; b < sizeof(st) / sizeof(st[0]); b++)
				for (c = 0; c < sizeof(pr) / sizeof(pr[0]); c++) {
					memset(&hints, 0, sizeof(hints));
					hints.ai_family = fam[a];
					hints.ai_socktype = st[b];
					hints.ai_protocol = pr[c];
					snprintf(name, sizeof(name),
						 "getaddrinfo/node=%s/fam%d/st%d/pr%d",
						 nodes[i] ? nodes[i] : "NULL",
						 fam[a], st[b], pr[c]);
					gai_case(name, nodes[i], "53", &hints);
				}
		for (a = 0; a < sizeof(fam) / sizeof(fam[0]); a++)
			for (b = 0; b < sizeof(fl) / sizeof(fl[0]); b++) {
				memset(&hints, 0, sizeof(hints));
				hints.ai_family = fam[a];
				hints.ai_flags = fl[b];
				snprintf(name, sizeof(name),
					 "getaddrinfo/node=%s/fam%d/flags%#x",
					 nodes[i] ? nodes[i] : "NULL", fam[a],
					 fl[b]);
				gai_case(name, nodes[i], "80", &hints);
			}
		snprintf(name, sizeof(name), "getaddrinfo/node=%s/nullhints",
			 nodes[i] ? nodes[i] : "NULL");
		gai_case(name, nodes[i], "80", NULL);
	}
}

/* ---- group: gethostbyname*, gethostbyaddr* --------------------------------- */

static uint64_t he_digest(const struct hostent *he, char *text, size_t cap)
{
	uint64_t h = FNV0;
	size_t used = 0;

	if (!he)
		return h;
	h = fnv(h, he->h_name, strlen(he->h_name) + 1);
	h = fnv(h, &he->h_addrtype, sizeof(int));
	h = fnv(h, &he->h_length, sizeof(int));
	used = (size_t)snprintf(text, cap, "%s", he->h_name);
	for (char **a = he->h_aliases; a && *a; a++)
		h = fnv(h, *a, strlen(*a) + 1);
	for (char **a = he->h_addr_list; a && *a; a++) {
		char t[INET6_ADDRSTRLEN];

		h = fnv(h, *a, (size_t)he->h_length);
		inet_ntop(he->h_addrtype, *a, t, sizeof(t));
		if (used < cap - 1)
			used += (size_t)snprintf(text + used, cap - used, " %s", t);
	}
	return h;
}

static void group_gethostby(void)
{
	static const char *names[] = { "localhost", "127.0.0.1", "::1", "",
				       "LOCALHOST", "localhost." };
	/* (family 0 makes glibc's nss_files assert) */
	static const int af[] = { AF_INET, AF_INET6, AF_UNIX };
	static const size_t bl[] = { 0, 1, 16, 40, 64, 1024 };
	char name[160], text[200], buf[1024];
	struct hostent he, *res;
	int herr, rc;

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		struct hostent *r;

		snprintf(name, sizeof(name), "gethostbyname/%s", names[i]);
		h_errno = 0;
		r = gethostbyname(names[i]);
		text[0] = 0;
		emit(name, r ? 0 : -1, 0, he_digest(r, text, sizeof(text)),
		     "h_errno=%d %s", r ? 0 : h_errno, text);
		for (size_t a = 0; a < sizeof(af) / sizeof(af[0]); a++) {
			snprintf(name, sizeof(name), "gethostbyname2/%s/af%d",
				 names[i], af[a]);
			h_errno = 0;
			r = gethostbyname2(names[i], af[a]);
			text[0] = 0;
			emit(name, r ? 0 : -1, 0, he_digest(r, text, sizeof(text)),
			     "h_errno=%d %s", r ? 0 : h_errno, text);
			for (size_t b = 0; b < sizeof(bl) / sizeof(bl[0]); b++) {
				snprintf(name, sizeof(name),
					 "gethostbyname2_r/%s/af%d/buf%zu", names[i],
					 af[a], bl[b]);
				herr = 0;
				res = NULL;
				rc = gethostbyname2_r(names[i], af[a], &he, buf,
						      bl[b], &res, &herr);
				text[0] = 0;
				emit(name, rc, 0, he_digest(res, text, sizeof(text)),
				     "herr=%d %s", herr, text);
				if (af[a] != AF_INET)
					continue;
				snprintf(name, sizeof(name),
					 "gethostbyname_r/%s/buf%zu", names[i],
					 bl[b]);
				herr = 0;
				res = NULL;
				rc = gethostbyname_r(names[i], &he, buf, bl[b],
						     &res, &herr);
				text[0] = 0;
				emit(name, rc, 0, he_digest(res, text, sizeof(text)),
				     "herr=%d %s", herr, text);
			}
		}
	}
	{
		uint8_t a4[17] = { 127, 0, 0, 1 }, a6[17] = { 0 };
		static const socklen_t lens[] = { 0, 3, 4, 5, 15, 16, 17 };

		a6[15] = 1;
		for (size_t l = 0; l < sizeof(lens) / sizeof(lens[0]); l++)
			for (size_t a = 0; a < sizeof(af) / sizeof(af[0]); a++)
				for (int v = 0; v < 2; v++) {
					const void *addr = v ? a6 : a4;
					struct hostent *r;

					snprintf(name, sizeof(name),
						 "gethostbyaddr/%s/len%u/af%d",
						 v ? "::1" : "127.0.0.1",
						 (unsigned)lens[l], af[a]);
					h_errno = 0;
					r = gethostbyaddr(addr, lens[l], af[a]);
					text[0] = 0;
					emit(name, r ? 0 : -1, 0,
					     he_digest(r, text, sizeof(text)),
					     "h_errno=%d %s", r ? 0 : h_errno, text);
					strcat(name, "/r");
					herr = 0;
					res = NULL;
					rc = gethostbyaddr_r(addr, lens[l], af[a], &he,
							     buf, 64, &res, &herr);
					text[0] = 0;
					emit(name, rc, 0,
					     he_digest(res, text, sizeof(text)),
					     "herr=%d %s", herr, text);
				}
	}
}

static const struct dt_group groups[] = {
	{ "getaddrinfo", group_getaddrinfo },
	{ "gethostby", group_gethostby },
};

int main(int argc, char **argv)
{
	return dt_main(argc, argv, groups, sizeof(groups) / sizeof(groups[0]));
}
