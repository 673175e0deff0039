/*
 * difftest-fd: descriptors (bad, closed, not sockets, far up), the
 * descriptor calls' edges, socket(), every MSG_* bit, iovec counts.
 * See difftest.h.
 */
#include "difftest.h"

/* ---- group: descriptors that are not sockets, not open, or far up ------- */

/* Every hooked call that takes a descriptor, on fd, without waiting. */
static void fd_calls(const char *tag, int fd)
{
	uint8_t tpl[256], buf[64];
	struct iovec iov = { .iov_base = buf, .iov_len = sizeof(buf) };
	struct msghdr m;
	struct mmsghdr mm;
	struct sockaddr_storage ss;
	struct timespec ts = { 0, 0 };
	socklen_t sl;
	char name[160];
	long rc;

#define CASE(call, expr, dig)                                               \
	do {                                                                \
		snprintf(name, sizeof(name), "fd/%s/%s", tag, call);       \
		memset(buf, 0, sizeof(buf));                               \
		memset(&ss, 0, sizeof(ss));                                \
		sl = sizeof(ss);                                           \
		errno = 0;                                                 \
		rc = (long)(expr);                                         \
		emit(name, rc, errno, dig, NULL);                          \
	} while (0)

	template(tpl, AF_INET, port_for(AF_INET, SOCK_DGRAM));
	memset(&m, 0, sizeof(m));
	m.msg_iov = &iov;
	m.msg_iovlen = 1;
	memset(&mm, 0, sizeof(mm));
	mm.msg_hdr = m;
	CASE("connect", connect(fd, (void *)tpl, 16), FNV0);
	CASE("sendto", sendto(fd, "x", 1, MSG_DONTWAIT, (void *)tpl, 16), FNV0);
	m.msg_name = tpl;
	m.msg_namelen = 16;
	CASE("sendmsg", sendmsg(fd, &m, MSG_DONTWAIT), FNV0);
	mm.msg_hdr = m;
	CASE("sendmmsg", sendmmsg(fd, &mm, 1, MSG_DONTWAIT), FNV0);
	m.msg_name = NULL;
	m.msg_namelen = 0;
	CASE("send", send(fd, "x", 1, MSG_DONTWAIT), FNV0);
	CASE("write", write(fd, "w", 1), FNV0);
	iov.iov_base = (void *)"v";
	iov.iov_len = 1;
	CASE("writev", writev(fd, &iov, 1), FNV0);
	iov.iov_base = buf;
	iov.iov_len = sizeof(buf);
	CASE("recv", recv(fd, buf, sizeof(buf), MSG_DONTWAIT),
	     fnv(FNV0, buf, sizeof(buf)));
	CASE("recvfrom",
	     recvfrom(fd, buf, sizeof(buf), MSG_DONTWAIT, (void *)&ss, &sl),
	     fnv(fnv(FNV0, buf, sizeof(buf)), &sl, sizeof(sl)));
	m.msg_name = &ss;
	m.msg_namelen = sizeof(ss);
	CASE("recvmsg", recvmsg(fd, &m, MSG_DONTWAIT),
	     fnv(FNV0, buf, sizeof(buf)));
	mm.msg_hdr = m;
	CASE("recvmmsg", recvmmsg(fd, &mm, 1, MSG_DONTWAIT, &ts),
	     fnv(FNV0, buf, sizeof(buf)));
	CASE("read", read(fd, buf, sizeof(buf)), fnv(FNV0, buf, sizeof(buf)));
	CASE("readv", readv(fd, &iov, 1), fnv(FNV0, buf, sizeof(buf)));
	CASE("getpeername", getpeername(fd, (void *)&ss, &sl),
	     fnv(FNV0, &ss, sizeof(ss)));
	CASE("getsockname", getsockname(fd, (void *)&ss, &sl), FNV0);
	CASE("fcntl-getfl", fcntl(fd, F_GETFL), FNV0);
	CASE("accept", accept(fd, NULL, NULL), FNV0);
	CASE("accept4-badflag", accept4(fd, NULL, NULL, 0x40000000), FNV0);
	rc = dup(fd);
	snprintf(name, sizeof(name), "fd/%s/dup", tag);
	emit(name, rc >= 0 ? 0 : -1, errno, FNV0, rc >= 0 ? "fd" : NULL);
	if (rc >= 0)
		close((int)rc);
	CASE("dup2-self", dup2(fd, fd) == fd ? 0 : -1, FNV0);
	CASE("dup3-self", dup3(fd, fd, 0), FNV0);
#undef CASE
}

static void group_fds(void)
{
	struct rlimit rl;
	int p[2], f, s, s6;
	char tag[64];
	static const int far[] = { 0, 1023, 1024, 65535, 65536 };
	int lim;

	getrlimit(RLIMIT_NOFILE, &rl);
	lim = rl.rlim_cur > 1 << 20 ? 1 << 20 : (int)rl.rlim_cur;
	fd_calls("minus1", -1);
	fd_calls("minus100", -100);
	fd_calls("closed900", 900);
	if (pipe2(p, O_NONBLOCK | O_CLOEXEC) == 0) {
		(void)!write(p[1], "pipe-data", 9);
		fd_calls("pipe-read", p[0]);
		fd_calls("pipe-write", p[1]);
		close(p[0]);
		close(p[1]);
	}
	f = open("/tmp", O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
	if (f >= 0) {
		(void)!write(f, "file-data", 9);
		lseek(f, 0, SEEK_SET);
		fd_calls("regular-file", f);
		close(f);
	}
	f = open("/dev/null", O_RDWR | O_CLOEXEC);
	fd_calls("dev-null", f);
	close(f);
	/* Far numbers: a UDP socket moved there, used towards the echo
	 * server (proxied when the run proxies loopback), then closed. */
	s = sock(AF_INET, SOCK_DGRAM);
	s6 = sock(AF_INET, SOCK_STREAM);
	for (int i = 0; i < 5 + 3; i++) {
		int n = i < 5 ? far[i] : lim - 3 + (i - 5) + 1; /* lim-2..lim */
		uint8_t tpl[256];
		char name[160];
		int rc;

		template(tpl, AF_INET, port_for(AF_INET, SOCK_DGRAM));
		snprintf(tag, sizeof(tag), "at%s%d", i < 5 ? "" : "limit",
			 i < 5 ? n : n - lim);
		snprintf(name, sizeof(name), "fd/%s/dup2-udp", tag);
		errno = 0;
		rc = dup2(s, n);
		emit(name, rc == n ? 0 : -1, errno, FNV0, NULL);
		if (rc != n) {
			fd_calls(tag, n);
			continue;
		}
		snprintf(name, sizeof(name), "fd/%s/sendto", tag);
		errno = 0;
		EMIT_RC(name, sendto(n, "far", 3, 0, (void *)tpl, 16));
		strcat(name, "/echo");
		echo_line(name, n);
		snprintf(name, sizeof(name), "fd/%s/close", tag);
		errno = 0;
		EMIT_RC(name, close(n));
		/* A TCP socket there, connected to the echo server. */
		template(tpl, AF_INET, port_for(AF_INET, SOCK_STREAM));
		if (dup2(s6, n) == n) {
			snprintf(name, sizeof(name), "fd/%s/tcp-connect", tag);
			errno = 0;
			rc = connect(n, (void *)tpl, 16);
			emit(name, rc, errno, FNV0, NULL);
			if (rc == 0)
				after_connect(name, n, SOCK_STREAM);
			close(n);
			close(s6);
			s6 = sock(AF_INET, SOCK_STREAM);
		}
	}
	close(s);
	close(s6);
	/* The descriptor calls' own edges */
	{
		char name[80];
		int rc;

#define FDCASE(nm, expr)                                                 \
	do {                                                             \
		errno = 0;                                               \
		rc = (expr);                                             \
		snprintf(name, sizeof(name), "fdop/%s", nm);             \
		emit(name, rc >= 0 ? 0 : -1, errno, FNV0, NULL);         \
		if (rc > 2)                                              \
			close(rc);                                       \
	} while (0)
		s = sock(AF_INET, SOCK_DGRAM);
		FDCASE("dup2-to-minus1", dup2(s, -1));
		FDCASE("dup2-to-limit", dup2(s, lim));
		FDCASE("dup3-badflag", dup3(s, 700, 0x1));
		FDCASE("dup3-cloexec", dup3(s, 700, O_CLOEXEC));
		FDCASE("fcntl-dupfd-limit", fcntl(s, F_DUPFD, lim));
		FDCASE("fcntl-dupfd-cloexec", fcntl(s, F_DUPFD_CLOEXEC, 500));
		FDCASE("fcntl-badcmd", fcntl(s, 0x7fff));
		FDCASE("close-range-badflag", close_range(600, 500, 0));
		FDCASE("close-range-reverse", close_range(600, 500, 0));
		FDCASE("close-range-flags", close_range(800, 801, 0x80000000u));
		FDCASE("close-65536", close(65536));
		FDCASE("close-minus1", close(-1));
		FDCASE("socketpair-unix", socketpair(AF_UNIX, SOCK_STREAM, 0, p));
		if (rc == 0) {
			close(p[0]);
			close(p[1]);
		}
		FDCASE("socketpair-inet", socketpair(AF_INET, SOCK_STREAM, 0, p));
		FDCASE("socketpair-null", socketpair(AF_UNIX, SOCK_STREAM, 0, NULL));
		close(s);
#undef FDCASE
	}
}

/* ---- group: socket() ------------------------------------------------------- */

static void group_socket(void)
{
	static const int dom[] = { AF_UNSPEC, AF_UNIX, AF_INET, AF_INET6,
				   AF_NETLINK, AF_PACKET, 255, -1 };
	static const int ty[] = { 0, SOCK_STREAM, SOCK_DGRAM, SOCK_RAW,
				  SOCK_SEQPACKET, SOCK_DCCP, 99,
				  SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
				  SOCK_DGRAM | SOCK_NONBLOCK, SOCK_DGRAM | 0x10000 };
	static const int pr[] = { 0, IPPROTO_TCP, IPPROTO_UDP, IPPROTO_ICMP, 255,
				  -1 };
	char name[120];

	for (size_t d = 0; d < sizeof(dom) / sizeof(dom[0]); d++)
		for (size_t t = 0; t < sizeof(ty) / sizeof(ty[0]); t++)
			for (size_t p = 0; p < sizeof(pr) / sizeof(pr[0]); p++) {
				int s;

				snprintf(name, sizeof(name), "socket/%d/%#x/%d",
					 dom[d], ty[t], pr[p]);
				errno = 0;
				s = socket(dom[d], ty[t], pr[p]);
				emit(name, s >= 0 ? 0 : -1, errno, FNV0,
				     s >= 0 ? "fd" : NULL);
				if (s >= 0)
					close(s);
			}
}

/* ---- group: MSG_* flags on send and receive ------------------------------- */

static void group_flags(void)
{
	static const char *cname[] = { "udp4c", "udp6c" };
	uint8_t tpl[256], buf[64];
	char name[120];

	/* kinds 0-3, then the UDP ones connected (4, 5): send() and recv()
	 * without addresses, through the proxy's path for connected ones */
	for (size_t kk = 0; kk < 6; kk++) {
		const struct kind *kd = &kinds[kk < 4 ? kk : kk - 2];
		const char *kname = kk < 4 ? kd->name : cname[kk - 4];
		bool conn = kd->type == SOCK_STREAM || kk >= 4;
		socklen_t alen = kd->fam == AF_INET ? 16 : 28;

		if (!have(kd))
			continue;
		template(tpl, kd->fam, port_for(kd->fam, kd->type));
		for (int bit = -1; bit < 32; bit++) {
			int fl = bit < 0 ? 0 : (int)(1u << bit);
			int s = sock(kd->fam, kd->type);
			struct sockaddr_storage from;
			socklen_t flen = sizeof(from);
			long rc;

			if (conn && connect(s, (void *)tpl, alen)) {
				close(s);
				continue;
			}
			/* send() when connected, else sendto() with an
			 * address; then the echo */
			snprintf(name, sizeof(name), "flags/%s/send/%#x", kname,
				 fl);
			errno = 0;
			if (conn)
				rc = send(s, "flag", 4, fl | MSG_NOSIGNAL |
							      MSG_DONTWAIT);
			else
				rc = sendto(s, "flag", 4, fl | MSG_DONTWAIT,
					    (void *)tpl, alen);
			emit(name, rc, errno, FNV0, NULL);
			if (kd->type == SOCK_DGRAM && rc >= 0) {
				strcat(name, "/echo");
				echo_line(name, s);
			} else if (rc > 0) {
				/* the stream's echo, whole, so that the
				 * next read starts at a known byte */
				(void)!recv(s, buf, (size_t)rc, MSG_WAITALL);
			}
			drain(s);
			/* recvfrom(flags) with a datagram (or bytes) waiting */
			if (conn)
				rc = send(s, "recv-flag", 9, MSG_NOSIGNAL);
			else
				rc = sendto(s, "recv-flag", 9, 0, (void *)tpl,
					    alen);
			if (rc == 9)
				readable(s, ECHO_WAIT_MS);
			snprintf(name, sizeof(name), "flags/%s/recvfrom/%#x",
				 kname, fl);
			memset(buf, 0, sizeof(buf));
			memset(&from, 0, sizeof(from));
			errno = 0;
			/* never wait long: SO_RCVTIMEO bounds a blocking one */
			rc = recvfrom(s, buf, 4, fl, (void *)&from, &flen);
			emit(name, rc, errno,
			     fnv(fnv(FNV0, buf, sizeof(buf)), &from,
				 rc >= 0 ? flen : 0),
			     "flen=%u", rc >= 0 ? (unsigned)flen : 0);
			close(s);
		}
	}
}

/* ---- group: iovec counts ------------------------------------------------------ */

static void group_iov(void)
{
	static const int counts[] = { 0, 1, 2, 1023, IOV_MAX, IOV_MAX + 1 };
	static struct iovec iov[IOV_MAX + 2];
	static uint8_t data[IOV_MAX + 2];
	uint8_t tpl[256];
	char name[120];

	for (int i = 0; i < IOV_MAX + 2; i++) {
		data[i] = (uint8_t)(i * 7 + 1);
		iov[i].iov_base = &data[i];
		iov[i].iov_len = 1;
	}
	for (size_t k = 0; k < 4; k++) {
		const struct kind *kd = &kinds[k];
		socklen_t alen;
		int s;

		if (!have(kd))
			continue;
		s = echo_socket(kd, tpl, &alen, kd->type == SOCK_STREAM);
		if (s < 0)
			continue;
		for (size_t c = 0; c < sizeof(counts) / sizeof(counts[0]); c++) {
			struct msghdr m;
			long rc;
			uint8_t in[IOV_MAX + 2];
			struct iovec riov[IOV_MAX + 2];
			struct sockaddr_storage from;

			for (int i = 0; i < IOV_MAX + 2; i++)
				data[i] = (uint8_t)(i * 7 + 1 + c);
			memset(&m, 0, sizeof(m));
			m.msg_iov = iov;
			m.msg_iovlen = (size_t)counts[c];
			if (kd->type == SOCK_DGRAM) {
				m.msg_name = tpl;
				m.msg_namelen = alen;
			}
			snprintf(name, sizeof(name), "iov/%s/sendmsg/%d", kd->name,
				 counts[c]);
			errno = 0;
			rc = sendmsg(s, &m, MSG_NOSIGNAL);
			emit(name, rc, errno, FNV0, NULL);
			/* the echo, into as many one-byte iovecs */
			if (rc < 0) {
				/* something to receive all the same */
				m.msg_iovlen = 64;
				sendmsg(s, &m, MSG_NOSIGNAL);
			}
			if (!readable(s, ECHO_WAIT_MS) && counts[c] > 0)
				continue;
			memset(in, 0, sizeof(in));
			one_byte_iovs(riov, in, IOV_MAX + 2);
			memset(&m, 0, sizeof(m));
			memset(&from, 0, sizeof(from));
			m.msg_iov = riov;
			m.msg_iovlen = (size_t)counts[c];
			m.msg_name = &from;
			m.msg_namelen = sizeof(from);
			snprintf(name, sizeof(name), "iov/%s/recvmsg/%d", kd->name,
				 counts[c]);
			errno = 0;
			rc = recvmsg(s, &m, MSG_DONTWAIT);
			emit(name, rc, errno,
			     fnv(fnv(FNV0, in, sizeof(in)), &from,
				 rc >= 0 ? m.msg_namelen : 0),
			     "msg_flags=%#x namelen=%u", rc >= 0 ? m.msg_flags : 0,
			     rc >= 0 ? (unsigned)m.msg_namelen : 0);
			drain(s);
		}
		/* writev/readv on a connected socket */
		if (kd->type == SOCK_DGRAM && connect(s, (void *)tpl, alen) == 0)
			for (size_t c = 0; c < sizeof(counts) / sizeof(counts[0]);
			     c++) {
				uint8_t in[IOV_MAX + 2];
				struct iovec riov[IOV_MAX + 2];
				long rc;

				snprintf(name, sizeof(name), "iov/%s/writev/%d",
					 kd->name, counts[c]);
				errno = 0;
				rc = writev(s, iov, counts[c]);
				emit(name, rc, errno, FNV0, NULL);
				if (rc < 0)
					(void)!writev(s, iov, 64);
				if (!readable(s, ECHO_WAIT_MS) && counts[c] > 0)
					continue;
				memset(in, 0, sizeof(in));
				one_byte_iovs(riov, in, IOV_MAX + 2);
				snprintf(name, sizeof(name), "iov/%s/readv/%d",
					 kd->name, counts[c]);
				errno = 0;
				rc = readv(s, riov, counts[c]);
				emit(name, rc, errno, fnv(FNV0, in, sizeof(in)),
				     NULL);
				drain(s);
			}
		close(s);
	}
}

/* ---- group: sendmmsg / recvmmsg counts, receive names of every size ---- */

#define MM_MAX (UIO_MAXIOV_T + 2)
#define UIO_MAXIOV_T 1024

static void group_mmsg(void)
{
	static const unsigned int vl[] = { 0, 1, 2, 17, 64, UIO_MAXIOV_T,
					   UIO_MAXIOV_T + 1 };
	static struct mmsghdr mm[MM_MAX];
	static struct iovec iov[MM_MAX];
	static uint8_t in[MM_MAX][8];
	struct timespec zero = { 0, 0 };
	struct timeval slow = { .tv_sec = 2, .tv_usec = 0 };
	uint8_t tpl[256];
	char name[120];

	/* Bursts of more than 17 come last, to a sink of ours, not the echo
	 * server: a burst fills loopback's backlog (1000 packets), and what
	 * is sent meanwhile may be dropped, natively too. */
	for (int big = 0; big < 2; big++)
	for (size_t k = 2; k < 4; k++) {
		const struct kind *kd = &kinds[k];
		socklen_t alen = kd->fam == AF_INET ? 16 : 28;
		int s, rc, sink = -1;

		if (!have(kd))
			continue;
		template(tpl, kd->fam, port_for(kd->fam, SOCK_DGRAM));
		if (big) {
			sink = sock(kd->fam, SOCK_DGRAM);
			/* loopback, a port of the kernel's (sin6_port is
			 * where sin_port is) */
			((struct sockaddr_in *)tpl)->sin_port = 0;
			if (bind(sink, (void *)tpl, alen) ||
			    getsockname(sink, (void *)tpl, &alen)) {
				close(sink);
				continue;
			}
		}
		for (size_t v = 0; v < sizeof(vl) / sizeof(vl[0]); v++) {
			unsigned int n = vl[v], want;

			if ((n > 17) != big)
				continue;

			/* a fresh socket: no echo of an earlier case left;
			 * 2 s for each echo (recvmmsg waits for all) */
			s = sock(kd->fam, SOCK_DGRAM);
			setsockopt(s, SOL_SOCKET, SO_RCVTIMEO, &slow,
				   sizeof(slow));
			memset(mm, 0, sizeof(mm));
			for (unsigned int i = 0; i < n; i++) {
				iov[i].iov_base = (void *)"mm!";
				iov[i].iov_len = 3;
				mm[i].msg_hdr.msg_iov = &iov[i];
				mm[i].msg_hdr.msg_iovlen = 1;
				mm[i].msg_hdr.msg_name = tpl;
				mm[i].msg_hdr.msg_namelen = alen;
			}
			snprintf(name, sizeof(name), "mmsg/%s/sendmmsg/%u",
				 kd->name, n);
			errno = 0;
			rc = sendmmsg(s, mm, n, 0);
			emit(name, rc, errno, FNV0, NULL);
			if (big) {
				close(s);
				continue;
			}
			want = rc > 0 ? (unsigned int)rc : 0;
			memset(mm, 0, sizeof(mm));
			memset(in, 0, sizeof(in));
			for (unsigned int i = 0; i < want + 1; i++) {
				iov[i].iov_base = in[i];
				iov[i].iov_len = sizeof(in[i]);
				mm[i].msg_hdr.msg_iov = &iov[i];
				mm[i].msg_hdr.msg_iovlen = 1;
			}
			snprintf(name, sizeof(name), "mmsg/%s/recvmmsg/%u",
				 kd->name, want);
			/* recvmmsg(MSG_WAITFORONE) until all are in, each
			 * round after a bounded wait: the echo server takes
			 * its time with a burst */
			errno = 0;
			rc = 0;
			for (unsigned int round = 0; round <= want && rc >= 0 &&
					    (unsigned int)rc < want; round++) {
				int got;

				readable(s, 2000);
				got = recvmmsg(s, mm + rc, want - (unsigned int)rc,
					       MSG_WAITFORONE, NULL);
				rc = got < 0 ? (rc ? rc : got) : rc + got;
				if (got < 0)
					break;
			}
			emit(name, rc, errno, fnv(FNV0, in, sizeof(in)), NULL);
			close(s);
		}
		if (big) {
			/* until the burst is over (bounded) */
			for (int i = 0; i < 2000 && readable(sink, 100); i++)
				drain(sink);
			close(sink);
			continue;
		}
		s = sock(kd->fam, SOCK_DGRAM);
		/* recvmmsg's own edges, nothing queued */
		snprintf(name, sizeof(name), "mmsg/%s/recvmmsg-empty", kd->name);
		errno = 0;
		EMIT_RC(name, recvmmsg(s, mm, 4, MSG_DONTWAIT, &zero));
		snprintf(name, sizeof(name), "mmsg/%s/recvmmsg-vlen0", kd->name);
		errno = 0;
		EMIT_RC(name, recvmmsg(s, mm, 0, MSG_DONTWAIT, NULL));
		/* recvfrom() with every size of address buffer, and NULLs */
		for (int len = -1; len <= 30; len++) {
			struct sockaddr_storage from;
			socklen_t fl = len < 0 ? 0 : (socklen_t)len;
			uint8_t buf[16];
			long n;

			(void)!sendto(s, "name", 4, 0, (void *)tpl, alen);
			readable(s, ECHO_WAIT_MS);
			memset(&from, 0xee, sizeof(from));
			memset(buf, 0, sizeof(buf));
			snprintf(name, sizeof(name), "mmsg/%s/recvfrom-namelen%d",
				 kd->name, len);
			errno = 0;
			n = recvfrom(s, buf, sizeof(buf), MSG_DONTWAIT,
				     (void *)&from, len < 0 ? NULL : &fl);
			emit(name, n, errno,
			     fnv(fnv(fnv(FNV0, buf, sizeof(buf)), &from,
				     sizeof(from)), &fl, sizeof(fl)),
			     "namelen=%u", (unsigned)fl);
		}
		(void)!sendto(s, "nul", 3, 0, (void *)tpl, alen);
		readable(s, ECHO_WAIT_MS);
		snprintf(name, sizeof(name), "mmsg/%s/recv-null-buffer", kd->name);
		errno = 0;
		EMIT_RC(name, recv(s, NULL, 3, MSG_DONTWAIT));
		snprintf(name, sizeof(name), "mmsg/%s/recv-after-null", kd->name);
		errno = 0;
		EMIT_RC(name, recv(s, in, 3, MSG_DONTWAIT));
		close(s);
	}
}

static const struct dt_group groups[] = {
	{ "fds", group_fds },
	{ "socket", group_socket },
	{ "flags", group_flags },
	{ "iov", group_iov },
	{ "mmsg", group_mmsg },
};

int main(int argc, char **argv)
{
	return dt_main(argc, argv, groups, sizeof(groups) / sizeof(groups[0]));
}
