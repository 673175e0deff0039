/*
 * difftest-addr: addresses of every family and length: connect(),
 * sendto(), sendmsg(), sendmmsg(), getnameinfo(), and getpeername() /
 * getsockname() into buffers of every size.
 * See difftest.h.
 */
#include "difftest.h"

/* ---- group: connect with every family and length -------------------------- */


static void group_connect(void)
{
	uint8_t tpl[256];
	char name[160];

	/* A fresh socket for every case: what a datagram socket was
	 * connected to before changes the kernel's answer (an AF_INET6 one
	 * that had an IPv4 peer refuses an IPv6 one). */
	for (size_t k = 0; k < sizeof(kinds) / sizeof(kinds[0]); k++) {
		const struct kind *kd = &kinds[k];

		if (!have(kd))
			continue;
		for (int f = 0; f < NFAMS; f++) {
			template(tpl, fams[f], port_for(fams[f] == AF_INET6 ?
					       AF_INET6 : AF_INET, kd->type));
			for (socklen_t len = 0; len <= (socklen_t)STORAGE + 1;
			     len++) {
				int s = sock(kd->fam, kd->type);
				int rc;

				snprintf(name, sizeof(name),
					 "connect/%s/fam%d/len%u", kd->name,
					 fams[f], (unsigned)len);
				errno = 0;
				rc = connect(s, guarded(tpl, len), len);
				emit(name, rc, errno, FNV0, NULL);
				if (rc == 0 && fams[f] != AF_UNSPEC)
					after_connect(name, s, kd->type);
				close(s);
			}
		}
	}
	/* NULL addresses */
	for (size_t k = 0; k < sizeof(kinds) / sizeof(kinds[0]); k++) {
		int s = sock(kinds[k].fam, kinds[k].type);
		socklen_t lens[] = { 0, 16, 28 };

		for (int i = 0; i < 3; i++) {
			snprintf(name, sizeof(name), "connect/%s/null/len%u",
				 kinds[k].name, (unsigned)lens[i]);
			errno = 0;
			EMIT_RC(name, connect(s, NULL, lens[i]));
		}
		close(s);
	}
}

/* ---- group: sendto / sendmsg / sendmmsg with every family and length ----- */

enum sendcall { SENDTO, SENDMSG, SENDMMSG };

static void connected_life(const char *kname, int s, const uint8_t *tpl,
			   socklen_t alen);

static long send_with(enum sendcall c, int s, const struct sockaddr *sa,
		      socklen_t len)
{
	struct iovec iov = { .iov_base = "dgram", .iov_len = 5 };
	struct mmsghdr mm;

	memset(&mm, 0, sizeof(mm));
	mm.msg_hdr.msg_name = (void *)sa;
	mm.msg_hdr.msg_namelen = len;
	mm.msg_hdr.msg_iov = &iov;
	mm.msg_hdr.msg_iovlen = 1;
	switch (c) {
	case SENDTO:
		return sendto(s, "dgram", 5, 0, sa, len);
	case SENDMSG:
		return sendmsg(s, &mm.msg_hdr, 0);
	default: {
		int rc = sendmmsg(s, &mm, 1, 0);

		return rc == 1 ? (long)mm.msg_len : rc;
	}
	}
}

static void group_send(void)
{
	static const char *cname[] = { "sendto", "sendmsg", "sendmmsg" };
	uint8_t tpl[256];
	char name[160];
	/* sendmsg clamps a name longer than sockaddr_storage, sendto refuses
	 * it: lengths beyond the sweep, and a negative int. */
#ifdef __SANITIZE_ADDRESS__
	/* ASan's own sendmsg() reads msg_namelen bytes, whatever the
	 * kernel takes: no lengths of gigabytes there. */
	socklen_t extra[] = { 200, 4096, 200, 4096 };
#else
	socklen_t extra[] = { 200, 4096, 0x7fffffff, 0x80000000u };
#endif

	for (int c = SENDTO; c <= SENDMMSG; c++) {
		for (size_t k = 2; k < 4; k++) {
			const struct kind *kd = &kinds[k];
			socklen_t alen;
			int s;

			if (!have(kd))
				continue;
			s = echo_socket(kd, tpl, &alen, false);
			for (int f = 0; f < NFAMS; f++) {
				template(tpl, fams[f],
					 port_for(fams[f] == AF_INET6 ?
							  AF_INET6 : AF_INET,
						  SOCK_DGRAM));
				for (int i = 0; i <= STORAGE + 1 + 4; i++) {
					socklen_t len = i <= STORAGE + 1 ?
						(socklen_t)i :
						extra[i - STORAGE - 2];
					long rc;

					snprintf(name, sizeof(name),
						 "%s/%s/fam%d/len%u", cname[c],
						 kd->name, fams[f],
						 (unsigned)len);
					errno = 0;
					rc = send_with(c, s, guarded(tpl, len),
						       len);
					emit(name, rc, errno, FNV0, NULL);
					if (rc >= 0) {
						strcat(name, "/echo");
						echo_line(name, s);
					}
				}
			}
			/* NULL address with a length, a name with length 0 */
			for (int i = 0; i < 2; i++) {
				template(tpl, kd->fam, port_for(kd->fam, SOCK_DGRAM));
				snprintf(name, sizeof(name), "%s/%s/%s", cname[c],
					 kd->name, i ? "name-len0" : "null-len28");
				errno = 0;
				EMIT_RC(name, send_with(c, s, i ? guarded(tpl, 0) : NULL,
						     i ? 0 : 28));
			}
			close(s);
		}
	}
	/* A connected UDP socket, then a name with length 0 (sendmsg: no
	 * address, the connected peer) */
	for (size_t k = 2; k < 4; k++) {
		const struct kind *kd = &kinds[k];
		socklen_t alen;
		int s;

		if (!have(kd))
			continue;
		s = echo_socket(kd, tpl, &alen, false);
		snprintf(name, sizeof(name), "connected/%s/connect", kd->name);
		EMIT_RC(name, connect(s, (void *)tpl, alen));
		for (int c = SENDTO; c <= SENDMMSG; c++) {
			long rc;

			snprintf(name, sizeof(name), "connected/%s/%s/name-len0",
				 kd->name, cname[c]);
			errno = 0;
			rc = send_with(c, s, guarded(tpl, 0), 0);
			emit(name, rc, errno, FNV0, NULL);
			if (rc >= 0) {
				strcat(name, "/echo");
				echo_line(name, s);
			}
			drain(s);
		}
		/* a copy keeps the connection when the original goes */
		connected_life(kd->name, s, tpl, alen);
	}
}

/* A connected UDP socket s: a dup of it sends and answers for its peer
 * after s is closed; connect(AF_UNSPEC) then leaves it without one. */
static void connected_life(const char *kname, int s, const uint8_t *tpl,
			   socklen_t alen)
{
	struct sockaddr_storage peer;
	struct sockaddr unspec = { .sa_family = AF_UNSPEC };
	socklen_t pl = sizeof(peer);
	char name[120];
	int d = dup(s), rc;

	close(s);
	snprintf(name, sizeof(name), "connected/%s/dup/send", kname);
	EMIT_RC(name, send(d, "dup", 3, 0));
	strcat(name, "/echo");
	echo_line(name, d);
	memset(&peer, 0, sizeof(peer));
	snprintf(name, sizeof(name), "connected/%s/dup/getpeername", kname);
	errno = 0;
	rc = getpeername(d, (void *)&peer, &pl);
	emit(name, rc, errno, fnv(fnv(FNV0, &peer, sizeof(peer)), &pl,
				  sizeof(pl)), NULL);
	snprintf(name, sizeof(name), "connected/%s/unspec", kname);
	EMIT_RC(name, connect(d, &unspec, sizeof(unspec)));
	snprintf(name, sizeof(name), "connected/%s/unspec/send", kname);
	EMIT_RC(name, send(d, "none", 4, MSG_DONTWAIT));
	pl = sizeof(peer);
	snprintf(name, sizeof(name), "connected/%s/unspec/getpeername", kname);
	EMIT_RC(name, getpeername(d, (void *)&peer, &pl));
	snprintf(name, sizeof(name), "connected/%s/unspec/sendto", kname);
	EMIT_RC(name, sendto(d, "again", 5, 0, (const void *)tpl, alen));
	strcat(name, "/echo");
	echo_line(name, d);
	close(d);
}

/* ---- group: getnameinfo with every family, length, flag, buffer size ---- */

static void nameinfo_case(const char *name, const struct sockaddr *sa,
			  socklen_t len, socklen_t hl, socklen_t sl, int flags)
{
	char host[NI_MAXHOST + 1], serv[NI_MAXSERV + 1];
	int rc;

	memset(host, 'X', sizeof(host));
	memset(serv, 'X', sizeof(serv));
	errno = 0;
	rc = getnameinfo(sa, len, hl ? host : NULL, hl, sl ? serv : NULL, sl,
			 flags);
	emit(name, rc == 0 ? 0 : -1, 0,
	     fnv(fnv(FNV0, host, hl), serv, sl), "gai=%d host=%.*s serv=%.*s",
	     rc, rc == 0 && hl ? (int)strnlen(host, hl) : 0, host,
	     rc == 0 && sl ? (int)strnlen(serv, sl) : 0, serv);
}

static void group_nameinfo(void)
{
	static const int fl[] = { 0, NI_NUMERICHOST, NI_NUMERICSERV,
				  NI_NUMERICHOST | NI_NUMERICSERV, NI_NOFQDN,
				  NI_NAMEREQD, NI_DGRAM, 0x100 /* NI_IDN */,
				  NI_NAMEREQD | NI_NUMERICHOST, 0x4000 };
	static const socklen_t hls[] = { 0, 1, 2, 9, 10, 11, 40, NI_MAXHOST };
	static const socklen_t sls[] = { 0, 1, 2, 3, 6, NI_MAXSERV };
	uint8_t tpl[256];
	char name[160];

	for (int f = 0; f < NFAMS; f++) {
		template(tpl, fams[f], htons(80));
		for (socklen_t len = 0; len <= (socklen_t)STORAGE + 1; len++) {
			snprintf(name, sizeof(name), "getnameinfo/fam%d/len%u",
				 fams[f], (unsigned)len);
			/* glibc itself reads a whole sun_path, whatever
			 * the length: AF_UNIX is not guarded. */
			nameinfo_case(name, fams[f] == AF_UNIX ? (void *)tpl :
					    guarded(tpl, len), len, NI_MAXHOST,
				      NI_MAXSERV, NI_NUMERICHOST | NI_NUMERICSERV);
		}
	}
	for (int f = 2; f <= 3; f++) {
		template(tpl, fams[f], htons(53));
		for (size_t i = 0; i < sizeof(fl) / sizeof(fl[0]); i++)
			for (size_t h = 0; h < sizeof(hls) / sizeof(hls[0]); h++)
				for (size_t s = 0; s < sizeof(sls) / sizeof(sls[0]);
				     s++) {
					snprintf(name, sizeof(name),
						 "getnameinfo/fam%d/flags%#x/host%u/serv%u",
						 fams[f], fl[i], (unsigned)hls[h],
						 (unsigned)sls[s]);
					nameinfo_case(name, (void *)tpl,
						      fams[f] == AF_INET ? 16 : 28,
						      hls[h], sls[s], fl[i]);
				}
	}
	nameinfo_case("getnameinfo/null", NULL, 16, NI_MAXHOST, NI_MAXSERV, 0);
}

/* ---- group: getpeername / getsockname with every buffer length ---------- */

static void group_names(void)
{
	uint8_t tpl[256];
	char name[120];

	for (size_t k = 0; k < 4; k++) {
		const struct kind *kd = &kinds[k];
		socklen_t alen;
		int s;

		if (!have(kd))
			continue;
		s = echo_socket(kd, tpl, &alen, true);
		if (s < 0) {
			emit("names/connect", -1, errno, FNV0, "%s", kd->name);
			continue;
		}
		(void)guarded(tpl, 0); /* no byte left marked unreadable */
		for (int which = 0; which < 2; which++)
			for (socklen_t len = 0; len <= 34; len++) {
				uint8_t *out = guard - (len ? len : 1);
				socklen_t l = len;
				int rc;

				memset(out, 0xee, len ? len : 1);
				snprintf(name, sizeof(name), "names/%s/%s/len%u",
					 kd->name, which ? "getsockname" :
							   "getpeername",
					 (unsigned)len);
				errno = 0;
				rc = which ? getsockname(s, (void *)out, &l) :
					     getpeername(s, (void *)out, &l);
				/* the local port is the kernel's pick */
				if (which && len >= 3)
					out[2] = 0;
				if (which && len >= 4)
					out[3] = 0;
				emit(name, rc, errno,
				     fnv(fnv(FNV0, out, len), &l, sizeof(l)),
				     "len=%u", (unsigned)l);
			}
		errno = 0;
		snprintf(name, sizeof(name), "names/%s/getpeername-nulllen",
			 kd->name);
		EMIT_RC(name, getpeername(s, (void *)tpl, NULL));
		/* a second connect(): EISCONN for a stream, a new peer for a
		 * datagram socket */
		snprintf(name, sizeof(name), "names/%s/connect-again", kd->name);
		EMIT_RC(name, connect(s, (void *)tpl, alen));
		close(s);
	}
	/* A UDP socket that sent without connect(): no peer; its own
	 * address as the kernel bound it (any address, a port) */
	for (size_t k = 2; k < 4; k++) {
		const struct kind *kd = &kinds[k];
		struct sockaddr_storage ss;
		socklen_t alen = kd->fam == AF_INET ? 16 : 28, l;
		int s, rc;

		if (!have(kd))
			continue;
		template(tpl, kd->fam, port_for(kd->fam, SOCK_DGRAM));
		s = sock(kd->fam, SOCK_DGRAM);
		(void)!sendto(s, "x", 1, 0, (void *)tpl, alen);
		for (int which = 0; which < 2; which++) {
			memset(&ss, 0, sizeof(ss));
			l = sizeof(ss);
			errno = 0;
			rc = which ? getsockname(s, (void *)&ss, &l) :
				     getpeername(s, (void *)&ss, &l);
			((struct sockaddr_in *)&ss)->sin_port = 0;
			snprintf(name, sizeof(name), "names/%s-sent/%s",
				 kd->name, which ? "getsockname" : "getpeername");
			emit(name, rc, errno, fnv(fnv(FNV0, &ss, sizeof(ss)), &l,
						  sizeof(l)), "len=%u", (unsigned)l);
		}
		close(s);
	}
}

/* ---- group: the active-FTP pattern (a listening socket beside a
 * connected one) ------------------------------------------------------------
 * curl -P - connects its control socket, binds a second socket to the
 * control socket's local address (or the wildcard), listens, and asks
 * getsockname() for the address to announce; the server connects back and
 * curl accepts. The control socket's destination is loopback, which BIND
 * never asks the proxy for (tcp/bind.c; test_bind.sh covers BIND), so the
 * listening socket stays local and every answer here is the kernel's,
 * whether the control socket went through the proxy or not (issue 16:
 * curl 7.88's "sa_addr inet_ntop() failed with errno 97" is curl's own,
 * natively too). Ports are the kernel's picks: zeroed. */

static void emit_name(const char *name, int s, bool peer)
{
	struct sockaddr_storage ss;
	socklen_t l = sizeof(ss);
	int rc;

	memset(&ss, 0, sizeof(ss));
	errno = 0;
	rc = peer ? getpeername(s, (void *)&ss, &l) :
		    getsockname(s, (void *)&ss, &l);
	((struct sockaddr_in *)&ss)->sin_port = 0;
	emit(name, rc, errno, fnv(fnv(FNV0, &ss, sizeof(ss)), &l, sizeof(l)),
	     "len=%u fam=%d", (unsigned)l, rc ? -1 : ss.ss_family);
}

static void group_listen(void)
{
	uint8_t tpl[256], ctl_tpl[256];
	char name[120];

	for (size_t k = 0; k < 2; k++) {
		const struct kind *kd = &kinds[k];
		socklen_t alen = kd->fam == AF_INET ? 16 : 28, ctl_len;
		int ctl;

		if (!have(kd))
			continue;
		ctl = echo_socket(kd, ctl_tpl, &ctl_len, true);
		if (ctl < 0) {
			emit("listen/connect", -1, errno, FNV0, "%s", kd->name);
			continue;
		}
		for (int any = 0; any < 2; any++) {
			struct sockaddr_storage bound;
			socklen_t bl = sizeof(bound);
			const char *how = any ? "any" : "loopback";
			int ls = sock(kd->fam, SOCK_STREAM), c, a;

			template(tpl, kd->fam, 0);
			if (any && kd->fam == AF_INET)
				((struct sockaddr_in *)tpl)->sin_addr.s_addr =
					htonl(INADDR_ANY);
			else if (any)
				((struct sockaddr_in6 *)tpl)->sin6_addr =
					in6addr_any;
			snprintf(name, sizeof(name), "listen/%s/%s/bind",
				 kd->name, how);
			errno = 0;
			EMIT_RC(name, bind(ls, (void *)tpl, alen));
			snprintf(name, sizeof(name), "listen/%s/%s/listen",
				 kd->name, how);
			errno = 0;
			EMIT_RC(name, listen(ls, 1));
			snprintf(name, sizeof(name), "listen/%s/%s/getsockname",
				 kd->name, how);
			emit_name(name, ls, false);
			snprintf(name, sizeof(name), "listen/%s/%s/getpeername",
				 kd->name, how);
			emit_name(name, ls, true);
			/* the server connects back: a direct connection to
			 * loopback (the port the kernel picked) */
			if (getsockname(ls, (void *)&bound, &bl) < 0) {
				close(ls);
				continue;
			}
			template(tpl, kd->fam,
				 ((struct sockaddr_in *)&bound)->sin_port);
			c = sock(kd->fam, SOCK_STREAM);
			snprintf(name, sizeof(name), "listen/%s/%s/connect-back",
				 kd->name, how);
			errno = 0;
			EMIT_RC(name, connect(c, (void *)tpl, alen));
			a = accept(ls, NULL, NULL);
			snprintf(name, sizeof(name), "listen/%s/%s/accept",
				 kd->name, how);
			emit(name, a < 0 ? -1 : 0, a < 0 ? errno : 0, FNV0, NULL);
			if (a >= 0) {
				snprintf(name, sizeof(name),
					 "listen/%s/%s/accepted-getsockname",
					 kd->name, how);
				emit_name(name, a, false);
				close(a);
			}
			close(c);
			close(ls);
		}
		close(ctl);
	}
}

static const struct dt_group groups[] = {
	{ "connect", group_connect },
	{ "send", group_send },
	{ "nameinfo", group_nameinfo },
	{ "names", group_names },
	{ "listen", group_listen },
};

int main(int argc, char **argv)
{
	return dt_main(argc, argv, groups, sizeof(groups) / sizeof(groups[0]));
}
