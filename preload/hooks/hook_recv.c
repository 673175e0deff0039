/*
 * Datagrams in: recv, recvfrom, recvmsg, recvmmsg, read, readv (and the
 * _FORTIFY_SOURCE entry points __read_chk, __recv_chk, __recvfrom_chk,
 * which programs built with it call instead) on a UDP socket with an
 * association take the relay's header off and report the true origin
 * (udp_recv.c).
 *
 * These are on the hot path of every program: one check, sfy_fd_plain_io
 * (state/fdstate.h: one relaxed load while no descriptor of the process
 * ever had a special data path, else one load of the descriptor's slot),
 * then the real call. No system call, no lock. Only a descriptor marked
 * special asks the three modules: a handshake in progress (tcp/async.h:
 * EAGAIN, or its replies read first), a GSSAPI-protected stream
 * (tcp/gss_stream.h: the unwrapped bytes), an association (udp_recv.c).
 *
 * MSG_ERRQUEUE reads the socket's error queue, which holds what we sent
 * (with our header) and ancillary data: passed through untouched.
 */
#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include "base/realfn.h"
#include "dns/dns53.h"
#include "hooks/hooks.h"
#include "tcp/async.h"
#include "tcp/gss_stream.h"
#include "udp/udp_io.h"

static ssize_t fail(ssize_t rc)
{
	errno = (int)-rc;
	return -1;
}

/* ENOTSOCK from our path: the number no longer names the UDP socket we
 * knew (it was closed where we could not see, and reused). Forget it and
 * let the real call answer. */
static bool stale(ssize_t rc, int fd)
{
	if (rc != -ENOTSOCK)
		return false;
	sfy_fd_drop_stale(fd);
	return true;
}

/* fd's association, when the data must go through udp_recv.c. */
static bool relayed(int fd, int flags, struct sfy_fd_info *info)
{
	return sfy_fd_maybe_udp(fd) && !(flags & MSG_ERRQUEUE) &&
	       !sfy_inside() && sfy_assoc_of(fd, info) == 0;
}

/* The answer of a hook: the count, or -1 with errno. */
static ssize_t answer(ssize_t rc)
{
	return rc < 0 ? fail(rc) : rc;
}

/* One datagram into buf: its length, or -errno. */
static ssize_t recv_one(int fd, const struct sfy_fd_info *info, void *buf,
			size_t n, int flags, struct sockaddr *sa,
			socklen_t *salen)
{
	struct iovec iov = { .iov_base = buf, .iov_len = n };
	struct msghdr m;
	ssize_t rc;

	memset(&m, 0, sizeof(m));
	m.msg_iov = &iov;
	m.msg_iovlen = 1;
	if (sa && salen) {
		m.msg_name = sa;
		m.msg_namelen = *salen;
	}
	rc = sfy_udp_recvmsg(fd, info, &m, SFY_NO_CMSG_COMPAT(flags));
	if (rc >= 0 && sa && salen)
		*salen = m.msg_namelen;
	/* An address but no length for it: the kernel, too, takes the
	 * datagram and then fails to say where from. */
	return rc >= 0 && sa && !salen ? -EFAULT : rc;
}

ssize_t recv(int fd, void *buf, size_t n, int flags)
{
	const struct sfy_real *r = sfy_real();
	struct sfy_fd_info info;
	ssize_t rc;

	if (!r->recv)
		return fail(-ENOSYS);
	if (sfy_fd_plain_io(fd))
		return r->recv(fd, buf, n, flags);
	if (sfy_async_gated_rd(fd, flags, &rc))
		return fail(rc);
	if (sfy_gss_of(fd) && sfy_gss_recv1(fd, buf, n, flags, &rc))
		return answer(rc);
	if (relayed(fd, flags, &info)) {
		rc = recv_one(fd, &info, buf, n, flags, NULL, NULL);
		if (!stale(rc, fd))
			return rc < 0 ? fail(rc) : rc;
	}
	return r->recv(fd, buf, n, flags);
}

ssize_t sfy_recvfrom(int fd, void *buf, size_t n, int flags,
		     struct sockaddr *sa, socklen_t *salen)
{
	const struct sfy_real *r = sfy_real();
	struct sfy_fd_info info;
	socklen_t cap;
	ssize_t rc;

	if (!r->recvfrom)
		return fail(-ENOSYS);
	if (sfy_fd_plain_io(fd))
		goto real;
	if (sfy_async_gated_rd(fd, flags, &rc))
		return fail(rc);
	if (sfy_gss_of(fd) && sfy_gss_recv1(fd, buf, n, flags, &rc)) {
		if (rc >= 0 && sa && salen)
			*salen = 0; /* a connected stream names no sender */
		return answer(rc);
	}
	if (relayed(fd, flags, &info)) {
		rc = recv_one(fd, &info, buf, n, flags, sa, salen);
		if (!stale(rc, fd))
			return rc < 0 ? fail(rc) : rc;
	}
real:
	cap = salen && sfy_dns53_active() ? *salen : 0;
	rc = r->recvfrom(fd, buf, n, flags, sa, salen);
	if (rc >= 0)
		sfy_dns53_source(sa, cap, salen); /* dns/dns53.h */
	return rc;
}

ssize_t sfy_recvmsg(int fd, struct msghdr *msg, int flags)
{
	const struct sfy_real *r = sfy_real();
	struct sfy_fd_info info;
	socklen_t cap;
	ssize_t rc;
	bool plain;

	if (!r->recvmsg)
		return fail(-ENOSYS);
	plain = sfy_fd_plain_io(fd);
	if (!plain && sfy_async_gated_rd(fd, flags, &rc))
		return fail(rc);
	if (!plain && msg && sfy_gss_of(fd) &&
	    sfy_gss_recv(fd, msg->msg_iov, (int)msg->msg_iovlen, flags, &rc)) {
		if (rc >= 0) {
			msg->msg_namelen = 0;
			msg->msg_controllen = 0;
			msg->msg_flags = 0;
		}
		return answer(rc);
	}
	if (plain || !msg || !relayed(fd, flags, &info)) {
		cap = msg && sfy_dns53_active() ? msg->msg_namelen : 0;
		rc = r->recvmsg(fd, msg, flags);
		if (rc >= 0 && sfy_fds_maybe_received(msg))
			sfy_fds_received(msg); /* SCM_RIGHTS (hook_fd.c) */
		if (rc >= 0 && msg)
			sfy_dns53_source(msg->msg_name, cap, &msg->msg_namelen);
		return rc;
	}
	rc = sfy_udp_recvmsg(fd, &info, msg, flags);
	if (stale(rc, fd))
		return r->recvmsg(fd, msg, flags);
	return rc < 0 ? fail(rc) : rc;
}

int sfy_recvmmsg(int fd, struct mmsghdr *vec, unsigned int vlen, int flags,
		 struct timespec *timeout)
{
	const struct sfy_real *r = sfy_real();
	struct sfy_fd_info info;
	ssize_t rc2;
	bool plain;
	int rc;

	if (!r->recvmmsg)
		return (int)fail(-ENOSYS);
	plain = sfy_fd_plain_io(fd);
	/* A protected stream: one message's worth, as a stream gives. */
	if (!plain && vec && vlen && sfy_gss_of(fd) && sfy_gss_recv(fd, vec[0].msg_hdr.msg_iov,
				  (int)vec[0].msg_hdr.msg_iovlen,
				  flags & ~MSG_WAITFORONE, &rc2)) {
		if (rc2 < 0)
			return (int)fail(rc2);
		vec[0].msg_len = (unsigned int)rc2;
		vec[0].msg_hdr.msg_namelen = 0;
		vec[0].msg_hdr.msg_controllen = 0;
		vec[0].msg_hdr.msg_flags = 0;
		return 1;
	}
	if (plain || !vec || !relayed(fd, flags, &info)) {
		socklen_t caps[64];
		bool dns53 = sfy_dns53_active();
		unsigned int k;

		for (k = 0; dns53 && vec && k < vlen && k < 64; k++)
			caps[k] = vec[k].msg_hdr.msg_namelen;
		rc = r->recvmmsg(fd, vec, vlen, flags, timeout);
		for (int i = 0; i < rc; i++) { /* SCM_RIGHTS (hook_fd.c) */
			if (sfy_fds_maybe_received(&vec[i].msg_hdr))
				sfy_fds_received(&vec[i].msg_hdr);
			if (dns53 && i < 64) /* dns/dns53.h */
				sfy_dns53_source(vec[i].msg_hdr.msg_name, caps[i],
						 &vec[i].msg_hdr.msg_namelen);
		}
		return rc;
	}
	rc = sfy_udp_recvmmsg(fd, &info, vec, vlen, flags, timeout);
	if (stale(rc, fd))
		return r->recvmmsg(fd, vec, vlen, flags, timeout);
	return rc < 0 ? (int)fail(rc) : rc;
}

/* Out of line: read() is then a load, a test and a tail call for every
 * descriptor that is not an associated UDP socket. */
static __attribute__((noinline)) ssize_t read_udp(int fd, void *buf, size_t n)
{
	const struct sfy_real *r = sfy_real();
	struct sfy_fd_info info;
	ssize_t rc;

	if (relayed(fd, 0, &info)) {
		rc = recv_one(fd, &info, buf, n, 0, NULL, NULL);
		if (!stale(rc, fd))
			return rc < 0 ? fail(rc) : rc;
	}
	return r->read(fd, buf, n);
}

/* Before the table is there, or once the process has associations. */
static __attribute__((noinline)) ssize_t read_slow(int fd, void *buf,
						   size_t n)
{
	const struct sfy_real *r = sfy_real();
	ssize_t rc;

	if (!r->read)
		return fail(-ENOSYS);
	if (sfy_fd_plain_io(fd))
		return r->read(fd, buf, n);
	if (sfy_async_gated_rd(fd, 0, &rc))
		return fail(rc);
	if (sfy_gss_of(fd) && sfy_gss_recv1(fd, buf, n, 0, &rc))
		return answer(rc);
	if (sfy_fd_maybe_udp(fd))
		return read_udp(fd, buf, n);
	return r->read(fd, buf, n);
}

/* Every read() of every program: two loads, two tests, a jump. */
ssize_t read(int fd, void *buf, size_t n)
{
	ssize_t (*real)(int, void *, size_t) = SFY_REAL_FAST(read);

	if (__builtin_expect(real && sfy_fd_no_udp_yet(), 1))
		return real(fd, buf, n);
	return read_slow(fd, buf, n);
}

ssize_t readv(int fd, const struct iovec *iov, int iovcnt)
{
	const struct sfy_real *r = sfy_real();
	struct sfy_fd_info info;
	struct msghdr m;
	ssize_t rc;

	if (!r->readv)
		return fail(-ENOSYS);
	if (sfy_fd_plain_io(fd))
		return r->readv(fd, iov, iovcnt);
	if (sfy_async_gated_rd(fd, 0, &rc))
		return fail(rc);
	/* More than IOV_MAX: the real call's EINVAL (not EMSGSIZE). */
	if (iovcnt < 0 || iovcnt > UIO_MAXIOV)
		return r->readv(fd, iov, iovcnt);
	if (sfy_gss_of(fd) && sfy_gss_recv(fd, iov, iovcnt, 0, &rc))
		return answer(rc);
	if (!relayed(fd, 0, &info))
		return r->readv(fd, iov, iovcnt);
	memset(&m, 0, sizeof(m));
	m.msg_iov = (struct iovec *)iov;
	m.msg_iovlen = (size_t)iovcnt;
	rc = sfy_udp_recvmsg(fd, &info, &m, 0);
	if (stale(rc, fd))
		return r->readv(fd, iov, iovcnt);
	return rc < 0 ? fail(rc) : rc;
}

/*
 * _FORTIFY_SOURCE: the checked entry points abort when the length
 * exceeds the buffer. The real one does that check itself, so a bad call
 * is handed to it (and aborts) before anything else.
 */
ssize_t __read_chk(int fd, void *buf, size_t n, size_t buflen);
ssize_t __recv_chk(int fd, void *buf, size_t n, size_t buflen, int flags);
ssize_t __recvfrom_chk(int fd, void *buf, size_t n, size_t buflen, int flags,
		       struct sockaddr *sa, socklen_t *salen);

ssize_t __read_chk(int fd, void *buf, size_t n, size_t buflen)
{
	const struct sfy_real *r = sfy_real();
	struct sfy_fd_info info;
	ssize_t rc;

	if (!r->read_chk)
		return fail(-ENOSYS);
	if (sfy_fd_plain_io(fd))
		return r->read_chk(fd, buf, n, buflen);
	if (n <= buflen && sfy_gss_of(fd) && sfy_gss_recv1(fd, buf, n, 0, &rc))
		return answer(rc);
	if (n <= buflen && relayed(fd, 0, &info)) {
		rc = recv_one(fd, &info, buf, n, 0, NULL, NULL);
		if (!stale(rc, fd))
			return rc < 0 ? fail(rc) : rc;
	}
	return r->read_chk(fd, buf, n, buflen);
}

ssize_t __recv_chk(int fd, void *buf, size_t n, size_t buflen, int flags)
{
	const struct sfy_real *r = sfy_real();
	struct sfy_fd_info info;
	ssize_t rc;

	if (!r->recv_chk)
		return fail(-ENOSYS);
	if (sfy_fd_plain_io(fd))
		return r->recv_chk(fd, buf, n, buflen, flags);
	if (n <= buflen && sfy_gss_of(fd) && sfy_gss_recv1(fd, buf, n, flags, &rc))
		return answer(rc);
	if (n <= buflen && relayed(fd, flags, &info)) {
		rc = recv_one(fd, &info, buf, n, flags, NULL, NULL);
		if (!stale(rc, fd))
			return rc < 0 ? fail(rc) : rc;
	}
	return r->recv_chk(fd, buf, n, buflen, flags);
}

ssize_t __recvfrom_chk(int fd, void *buf, size_t n, size_t buflen, int flags,
		       struct sockaddr *sa, socklen_t *salen)
{
	const struct sfy_real *r = sfy_real();
	struct sfy_fd_info info;
	socklen_t cap;
	ssize_t rc;

	if (!r->recvfrom_chk)
		return fail(-ENOSYS);
	if (!sfy_fd_plain_io(fd) && n <= buflen && sfy_gss_of(fd) && sfy_gss_recv1(fd, buf, n, flags, &rc)) {
		if (rc >= 0 && sa && salen)
			*salen = 0;
		return answer(rc);
	}
	if (n <= buflen && !sfy_fd_plain_io(fd) && relayed(fd, flags, &info)) {
		rc = recv_one(fd, &info, buf, n, flags, sa, salen);
		if (!stale(rc, fd))
			return rc < 0 ? fail(rc) : rc;
	}
	cap = salen && sfy_dns53_active() ? *salen : 0;
	rc = r->recvfrom_chk(fd, buf, n, buflen, flags, sa, salen);
	if (rc >= 0)
		sfy_dns53_source(sa, cap, salen); /* dns/dns53.h */
	return rc;
}

ssize_t recvfrom(int fd, void *buf, size_t n, int flags, struct sockaddr *sa,
		 socklen_t *salen) SFY_EXPORT_AS(sfy_recvfrom);
ssize_t recvmsg(int fd, struct msghdr *msg, int flags)
	SFY_EXPORT_AS(sfy_recvmsg);
int recvmmsg(int fd, struct mmsghdr *vec, unsigned int vlen, int flags,
	     struct timespec *timeout) SFY_EXPORT_AS(sfy_recvmmsg);
