/*
 * fdreuse: the library's per-descriptor bookkeeping when descriptor
 * numbers change behind it (raw system calls, closes it cannot see,
 * descriptors made or received where its hooks are not), for
 * tests/integration/test_process_shapes.sh. A plain program run with
 * libsocksify.so preloaded, a proxy that relays TCP (ADDR PORT: an echo
 * server) and UDP (ADDR UPORT: a UDP echo server).
 *
 *   fdreuse rawsys ADDR PORT UPORT
 *	close, dup2, dup3 and close_range through syscall(): the bookkeeping
 *	follows (getpeername of a number reused after a raw close shows the
 *	kernel's peer; a raw dup2 over a proxied socket's number; a raw
 *	close_range closes the program's descriptors but not the library's).
 *   fdreuse ctlreuse ADDR UPORT
 *	the UDP association's control connection closed behind the library's
 *	back (raw close, fclose of an fdopen'd copy) and its number taken by
 *	the program's file: closing the UDP socket must not close that file.
 *   fdreuse stalenum ADDR UPORT
 *	a relayed UDP socket closed where the library cannot see it, and its
 *	number taken by F_DUPFD (libc and raw), dup, dup2, dup3 (libc and
 *	raw), accept4, a raw socket, open and socket: each time the dead
 *	socket's association is released (no control connection left open)
 *	and the new descriptor works.
 *   fdreuse scmrights ADDR UPORT
 *	a relayed UDP socket closed where the library cannot see it, and a
 *	new UDP socket received over SCM_RIGHTS on the same number: its
 *	datagrams must come back (recvmsg(), then syscall(SYS_recvmsg)).
 *
 * Output: "OK what" / "FAIL what: why" lines; exit status 0 only when
 * nothing failed. Every wait is bounded.
 */
#include "shapes.h"

/* ------------------------------------------------------------------ */

static int rawsys(const struct sockaddr_in *tsa, const struct sockaddr_in *usa)
{
	int s, f, u, ctl, t;
	struct sockaddr_in other;

	/* Raw close, then the number reused by a direct connection: its
	 * getpeername is the kernel's. */
	s = tcp_to(tsa);
	check(peer_is(s, tsa), "raw_before", "getpeername is not the destination");
	check(syscall(SYS_close, s) == 0, "raw_close_ok", "syscall(SYS_close) failed");
	check(!fd_open(s), "raw_close_closes", "the descriptor is still open");

	/* Raw dup2 of a file over a proxied socket: the number is the
	 * file's now; the library must not treat it as a socket of its own. */
	s = tcp_to(tsa);
	f = scratch();
	check(syscall(SYS_dup2, f, s) == s, "raw_dup2_ok", "syscall(SYS_dup2) failed");
	{
		struct sockaddr_in p;
		socklen_t l = sizeof(p);
		int rc = getpeername(s, (struct sockaddr *)&p, &l);

		check(rc < 0 && errno == ENOTSOCK, "raw_dup2_getpeername_enotsock",
		      "getpeername() on the file dup2'd over a proxied socket did not fail with ENOTSOCK");
	}
	/* Raw dup3 of a proxied socket onto a new number: a copy with the
	 * same record (getpeername shows the destination). */
	t = tcp_to(tsa);
	check(syscall(SYS_dup3, t, 60, O_CLOEXEC) == 60, "raw_dup3_ok", "syscall(SYS_dup3) failed");
	check(peer_is(60, tsa), "raw_dup3_copy_keeps_peer",
	      "getpeername() on a raw dup3 copy is not the destination");
	close(60);
	close(t);
	close(s);
	close(f);

	/* The UDP association's control connection and raw dup2 onto it:
	 * the library moves it away first, as for dup2(). */
	u = udp_sock();
	check(udp_echo(u, usa, "raw-1"), "raw_udp_before", "no echo");
	ctl = find_ctl();
	check(ctl >= 0, "raw_udp_ctl_found", "no control connection at >= 100");
	f = scratch();
	if (ctl >= 0) {
		check(syscall(SYS_dup2, f, ctl) == ctl, "raw_dup2_onto_ctl_ok",
		      "syscall(SYS_dup2) onto the control number failed");
		check(udp_echo(u, usa, "raw-2"), "raw_dup2_onto_ctl_keeps_association",
		      "no echo after a raw dup2 onto the control connection's number");
		close(u);
		check(is_scratch(ctl), "raw_dup2_onto_ctl_file_survives",
		      "closing the UDP socket closed the program's file");
		close(ctl);
	} else {
		close(u);
	}
	close(f);

	/* Raw close_range(3, ~0U, 0): the program's descriptors go, and
	 * the library's state for them. */
	u = udp_sock();
	check(udp_echo(u, usa, "raw-3"), "raw_udp2_before", "no echo");
	s = tcp_to(tsa);
	check(syscall(SYS_close_range, 3, ~0U, 0) == 0, "raw_close_range_ok",
	      "syscall(SYS_close_range) failed");
	check(!fd_open(u) && !fd_open(s), "raw_close_range_closes",
	      "the program's descriptors are still open");
	/* A fresh direct-looking socket on s's old number: no record. */
	other = *tsa;
	t = tcp_to(tsa);
	check(peer_is(t, &other), "raw_close_range_new_socket_ok",
	      "getpeername() of a new socket on a swept number is wrong");
	close(t);

	/* With SOCKSIFY_LOG_FILE: the sweep spared the log file, and the
	 * program's next file gets none of its lines. */
	if (getenv("SOCKSIFY_LOG_FILE")) {
		struct stat st0, st1;
		char buf[4096];
		ssize_t n;

		f = scratch();
		if (stat(getenv("SOCKSIFY_LOG_FILE"), &st0) < 0)
			st0.st_size = -1;
		t = tcp_to(tsa); /* an info line */
		close(t);
		n = pread(f, buf, sizeof(buf) - 1, 0);
		buf[n > 0 ? n : 0] = 0;
		check(stat(getenv("SOCKSIFY_LOG_FILE"), &st1) == 0 &&
			      st1.st_size > st0.st_size && !strstr(buf, "socksify["),
		      "raw_close_range_spares_log",
		      "after syscall(SYS_close_range, 3, ~0U, 0) the log's lines did not go to the log file");
		close(f);
	}
	return 0;
}

/* ------------------------------------------------------------------ */

static int ctlreuse(const struct sockaddr_in *sa)
{
	int u, ctl, f, g;
	FILE *fp;

	/* A raw close of the control connection, the file put on its
	 * number with F_DUPFD (which looks for the lowest free number from
	 * there). */
	u = udp_sock();
	check(udp_echo(u, sa, "ctl-1"), "ctlreuse_before", "no echo");
	ctl = find_ctl();
	check(ctl >= 0, "ctlreuse_ctl_found", "no control connection at >= 100");
	if (ctl < 0)
		return 0;
	syscall(SYS_close, ctl);
	f = scratch();
	g = fcntl(f, F_DUPFD, ctl);
	close(f);
	close(u);
	check(is_scratch(g), "raw_close_ctl_then_reuse_file_survives",
	      "closing the UDP socket closed the program's file on the control connection's old number");
	close(g);

	/* The same with an fclose() of an fdopen'd control connection:
	 * libc's internal close, which no hook sees. */
	u = udp_sock();
	check(udp_echo(u, sa, "ctl-2"), "ctlreuse2_before", "no echo");
	ctl = find_ctl();
	check(ctl >= 0, "ctlreuse2_ctl_found", "no control connection at >= 100");
	if (ctl < 0)
		return 0;
	fp = fdopen(ctl, "r");
	if (fp)
		fclose(fp);
	f = scratch();
	g = fcntl(f, F_DUPFD, ctl);
	close(f);
	close(u);
	check(g == ctl && is_scratch(g), "fclose_ctl_then_reuse_file_survives",
	      "closing the UDP socket closed the program's file on the control connection's old number");
	close(g);
	return 0;
}

/* ------------------------------------------------------------------ */

/* A relayed UDP socket, closed where no hook sees it: its number, with
 * the state it left. */
static int dead_udp(const struct sockaddr_in *sa, const char *what)
{
	int u = udp_sock();
	FILE *fp;

	check(udp_echo(u, sa, what), what, "no echo");
	fp = fdopen(u, "r");
	if (fp)
		fclose(fp);
	return u;
}

static int stalenum(const struct sockaddr_in *sa)
{
	struct sockaddr_in la = { .sin_family = AF_INET,
				  .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t ll = sizeof(la);
	int n, f, g, l, c, base = count_ctl();

	f = scratch();
	n = dead_udp(sa, "stale_fdupfd_before");
	g = fcntl(f, F_DUPFD, n);
	check(g == n && is_scratch(g) && count_ctl() == base,
	      "stale_fdupfd_releases_association",
	      "F_DUPFD onto a dead relayed socket's number left its control connection open");
	close(g);

	base = count_ctl();
	n = dead_udp(sa, "stale_raw_fdupfd_before");
	g = (int)syscall(SYS_fcntl, f, F_DUPFD_CLOEXEC, n);
	check(g == n && is_scratch(g) && count_ctl() == base,
	      "stale_raw_fdupfd_releases_association",
	      "syscall(SYS_fcntl, F_DUPFD_CLOEXEC) onto a dead relayed socket's number left its control connection open");
	close(g);

	base = count_ctl();
	n = dead_udp(sa, "stale_dup_before");
	g = dup(f);
	check(g == n && is_scratch(g) && count_ctl() == base,
	      "stale_dup_releases_association",
	      "dup() onto a dead relayed socket's number left its control connection open");
	close(g);
	close(f);

	l = socket(AF_INET, SOCK_STREAM, 0);
	if (l < 0 || bind(l, (struct sockaddr *)&la, sizeof(la)) < 0 ||
	    listen(l, 4) < 0 || getsockname(l, (struct sockaddr *)&la, &ll) < 0)
		exit(2);
	/* Made behind the library's back (a direct connection to our own
	 * listener, whatever the policy says about loopback). */
	c = (int)syscall(SYS_socket, AF_INET, SOCK_STREAM, 0);
	if (c < 0 || syscall(SYS_connect, c, &la, sizeof(la)) < 0)
		exit(2);
	base = count_ctl();
	n = dead_udp(sa, "stale_accept_before");
	g = accept4(l, NULL, NULL, SOCK_CLOEXEC);
	check(g == n && count_ctl() == base, "stale_accept4_releases_association",
	      "accept4() onto a dead relayed socket's number left its control connection open");
	close(g);
	close(c);

	/* A TCP socket made by syscall(SYS_socket) on the number: its bytes
	 * must go out as written (no relay header), in and out. */
	base = count_ctl();
	n = dead_udp(sa, "stale_raw_socket_before");
	c = (int)syscall(SYS_socket, AF_INET, SOCK_STREAM, 0);
	if (c < 0 || syscall(SYS_connect, c, &la, sizeof(la)) < 0)
		exit(2);
	g = accept(l, NULL, NULL);
	fcntl(c, F_SETFL, O_NONBLOCK); /* a read that the library holds fails */
	{
		char buf[16] = { 0 };
		struct pollfd p = { .fd = g, .events = POLLIN };
		bool ok = write(c, "hello", 5) == 5 && poll(&p, 1, IO_TIMEOUT_MS) == 1 &&
			  read(g, buf, sizeof(buf)) == 5 && !memcmp(buf, "hello", 5);

		ok = ok && write(g, "world", 5) == 5;
		p.fd = c;
		memset(buf, 0, sizeof(buf));
		ok = ok && poll(&p, 1, IO_TIMEOUT_MS) == 1 &&
		     read(c, buf, sizeof(buf)) == 5 && !memcmp(buf, "world", 5);
		check(c == n && ok && count_ctl() == base,
		      "stale_raw_socket_stream_intact",
		      "a TCP socket made by syscall(SYS_socket) on a dead relayed socket's number: bytes changed or lost, or its control connection left open");
	}
	close(g);
	close(c);
	close(l);

	/* dup2, dup3 (libc and raw) onto the number. */
	f = scratch();
	for (int k = 0; k < 3; k++) {
		static const char *const names[] = {
			"stale_dup2_releases_association",
			"stale_dup3_releases_association",
			"stale_raw_dup2_releases_association",
		};
		base = count_ctl();
		n = dead_udp(sa, "stale_dup2_before");
		g = k == 0 ? dup2(f, n) : k == 1 ? dup3(f, n, O_CLOEXEC) :
			     (int)syscall(SYS_dup2, f, n);
		check(g == n && is_scratch(g) && count_ctl() == base, names[k],
		      "dup2/dup3 onto a dead relayed socket's number left its control connection open");
		close(g);
	}
	close(f);

	/* A file opened on the number (open() is not hooked): what the
	 * program writes there goes into the file, unchanged. */
	base = count_ctl();
	n = dead_udp(sa, "stale_open_before");
	g = scratch();
	{
		char buf[8] = { 0 };

		check(g == n && write(g, "abc", 3) == 3 &&
			      pread(g, buf, sizeof(buf), 0) == 4 &&
			      !memcmp(buf, "Pabc", 4),
		      "stale_open_file_written_as_is",
		      "a write() to a file on a dead relayed socket's number did not reach the file as written");
	}
	close(g);
	check(count_ctl() == base, "stale_open_file_close_releases_association",
	      "closing a file on a dead relayed socket's number left the control connection open");

	base = count_ctl();
	n = dead_udp(sa, "stale_socket_before");
	g = udp_sock();
	check(g == n && count_ctl() == base && udp_echo(g, sa, "stale-socket"),
	      "stale_socket_releases_association",
	      "socket() onto a dead relayed socket's number left its control connection open, or its datagrams are lost");
	close(g);
	return 0;
}

/* ------------------------------------------------------------------ */

static int send_fd(int sock, int fd)
{
	char c = 'x', cbuf[CMSG_SPACE(sizeof(int))];
	struct iovec iov = { .iov_base = &c, .iov_len = 1 };
	struct msghdr m;
	struct cmsghdr *cm;

	memset(&m, 0, sizeof(m));
	memset(cbuf, 0, sizeof(cbuf));
	m.msg_iov = &iov;
	m.msg_iovlen = 1;
	m.msg_control = cbuf;
	m.msg_controllen = sizeof(cbuf);
	cm = CMSG_FIRSTHDR(&m);
	cm->cmsg_level = SOL_SOCKET;
	cm->cmsg_type = SCM_RIGHTS;
	cm->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(cm), &fd, sizeof(int));
	return sendmsg(sock, &m, 0) == 1 ? 0 : -1;
}

/* One descriptor received with recvmsg(), or with syscall(SYS_recvmsg)
 * when raw. */
static int recv_fd(int sock, bool raw)
{
	char c, cbuf[CMSG_SPACE(sizeof(int))];
	struct iovec iov = { .iov_base = &c, .iov_len = 1 };
	struct msghdr m;
	struct cmsghdr *cm;
	int fd = -1;

	memset(&m, 0, sizeof(m));
	m.msg_iov = &iov;
	m.msg_iovlen = 1;
	m.msg_control = cbuf;
	m.msg_controllen = sizeof(cbuf);
	if ((raw ? syscall(SYS_recvmsg, sock, &m, 0) : recvmsg(sock, &m, 0)) != 1)
		return -1;
	cm = CMSG_FIRSTHDR(&m);
	if (cm && cm->cmsg_type == SCM_RIGHTS)
		memcpy(&fd, CMSG_DATA(cm), sizeof(int));
	return fd;
}

static int scmrights(const struct sockaddr_in *sa, bool raw)
{
	int sp[2], u1, u2, got;
	FILE *fp;
	char what[64];

	if (socketpair(AF_UNIX, SOCK_DGRAM, 0, sp) < 0)
		exit(2);
	u1 = udp_sock();
	check(udp_echo(u1, sa, "scm-1"), "scm_before", "no echo");
	u2 = udp_sock();
	check(send_fd(sp[0], u2) == 0, "scm_send", "sendmsg SCM_RIGHTS failed");
	close(u2);
	/* u1 closed where no hook sees it: its state stays behind. */
	fp = fdopen(u1, "r");
	if (fp)
		fclose(fp);
	got = recv_fd(sp[1], raw);
	check(got == u1, raw ? "scm_raw_lands_on_stale_number" : "scm_lands_on_stale_number",
	      "the received socket is elsewhere");
	snprintf(what, sizeof(what), "scm_%sreceived_socket_echo", raw ? "raw_" : "");
	check(got >= 0 && udp_echo(got, sa, "scm-2"), what,
	      "no echo on a UDP socket received over SCM_RIGHTS onto a number with stale state");
	close(got);
	close(sp[0]);
	close(sp[1]);
	return 0;
}

int main(int argc, char **argv)
{
	struct sockaddr_in sa, ua;

	setvbuf(stdout, NULL, _IOLBF, 0);
	if (argc >= 5 && !strcmp(argv[1], "rawsys")) {
		sa = dest(argv[2], argv[3]);
		ua = dest(argv[2], argv[4]);
		rawsys(&sa, &ua);
	} else if (argc >= 4 && !strcmp(argv[1], "ctlreuse")) {
		sa = dest(argv[2], argv[3]);
		ctlreuse(&sa);
	} else if (argc >= 4 && !strcmp(argv[1], "stalenum")) {
		sa = dest(argv[2], argv[3]);
		stalenum(&sa);
	} else if (argc >= 4 && !strcmp(argv[1], "scmrights")) {
		sa = dest(argv[2], argv[3]);
		scmrights(&sa, false);
		scmrights(&sa, true);
	} else {
		fprintf(stderr, "usage: see the top of tests/tools/fdreuse.c\n");
		return 2;
	}
	return fails ? 1 : 0;
}
