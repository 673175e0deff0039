/*
 * getpeername and getsockname: for a proxied socket, what the program
 * asked for (its destination, a local address of the family it created)
 * rather than the proxy; for any other, the kernel's answer unchanged.
 * A listening socket served by BIND (tcp/bind.c) shows where the proxy
 * listens, and no peer. A TCP record names its socket by the proxy address, checked here
 * against the kernel's peer (a number reused after a close we did not
 * see gets the kernel's answer, and its record is dropped).
 */
#include <errno.h>
#include <netinet/in.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>

#include "base/realfn.h"
#include "base/sockaddr.h"
#include "hooks/hooks.h"
#include "state/fdstate.h"
#include "tcp/tcp.h"
#include "udp/udp_io.h"

/* Copies an address out the way the kernel does: at most *len bytes, and
 * *len set to the address's full size. */
static void copy_out(struct sockaddr *sa, socklen_t *len, const void *addr,
		     socklen_t alen)
{
	memcpy(sa, addr, *len < alen ? *len : alen);
	*len = alen;
}

int getpeername(int fd, struct sockaddr *sa, socklen_t *len)
{
	const struct sfy_real *r = sfy_real();
	struct sockaddr_storage real_peer;
	struct sfy_fd_info info;
	socklen_t rl;
	int saved = errno, rc;

	if (!r->getpeername)
		return sfy_nosys();
	if (!sa || !len || !sfy_fd_is_ours(fd) || !sfy_fd_get(fd, &info))
		return r->getpeername(fd, sa, len);
	if (info.kind == SFY_FD_UDP) {
		/* Connected through the relay: the destination the program
		 * gave; otherwise the kernel's answer (ENOTCONN, or a
		 * direct peer). */
		if (sfy_udp_peer(&info, sa, len) == 0) {
			errno = saved;
			return 0;
		}
		return r->getpeername(fd, sa, len);
	}
	if (info.kind == SFY_FD_DNS53) {
		/* Connected to the library's answerer for a name server
		 * (dns/dns53.h): the name server. */
		copy_out(sa, len, &info.peer, info.peer_len);
		errno = saved;
		return 0;
	}
	if (info.kind == SFY_FD_BIND) {
		/* Listening (at the proxy, tcp/bind.c): no peer, as the
		 * kernel says of a listening socket. */
		errno = ENOTCONN;
		return -1;
	}
	if (info.kind != SFY_FD_TCP)
		return r->getpeername(fd, sa, len);
	/* Still connected? (ENOTCONN after a reset, as without us.) Not the
	 * socket we connected (its number reused): the kernel's answer. */
	rc = sfy_tcp_record_check(fd, &info, &real_peer, &rl);
	if (rc < 0) {
		errno = -rc;
		return -1;
	}
	if (rc)
		copy_out(sa, len, &info.peer, info.peer_len);
	else
		copy_out(sa, len, &real_peer, rl);
	errno = saved;
	return 0;
}

/* The socket was replaced by one of another family (tcp/connect.c): show
 * a local address of the family the program created. */
static socklen_t convert_local(const struct sockaddr_storage *real_local,
			       int family, struct sockaddr_storage *out)
{
	memset(out, 0, sizeof(*out));
	/* A mapped address has an IPv4 form; anything else does not, and
	 * INADDR_ANY (zeroes) says "some local address". */
	if (family == AF_INET && real_local->ss_family == AF_INET6)
		return sfy_addr_unmap((const struct sockaddr_in6 *)real_local,
				      (struct sockaddr_in *)out);
	if (family == AF_INET6 && real_local->ss_family == AF_INET)
		return sfy_addr_map((const struct sockaddr_in *)real_local,
				    (struct sockaddr_in6 *)out);
	return 0;
}

int getsockname(int fd, struct sockaddr *sa, socklen_t *len)
{
	const struct sfy_real *r = sfy_real();
	struct sockaddr_storage local, conv, peer;
	struct sfy_fd_info info;
	socklen_t ll = sizeof(local), cl, pl;
	int saved = errno;

	if (!r->getsockname)
		return sfy_nosys();
	if (!sa || !len || !sfy_fd_is_ours(fd) || !sfy_fd_get(fd, &info))
		return r->getsockname(fd, sa, len);
	if (info.kind == SFY_FD_BIND) {
		/* Where the proxy listens for it (BND, tcp/bind.c). */
		copy_out(sa, len, &info.peer, info.peer_len);
		errno = saved;
		return 0;
	}
	if (r->getsockname(fd, (struct sockaddr *)&local, &ll) < 0)
		return -1;
	/* A proxied connection: where the destination sees it from (the
	 * proxy's CONNECT reply), while it is the one we connected. */
	if (info.kind == SFY_FD_TCP && info.bnd_len &&
	    sfy_tcp_record_check(fd, &info, &peer, &pl) == 1) {
		copy_out(sa, len, &info.bnd, info.bnd_len);
		errno = saved;
		return 0;
	}
	cl = convert_local(&local, info.family, &conv);
	/* Only a replaced socket is shown otherwise, and only while it is
	 * the one we connected (a TCP record is checked where it is used). */
	if (cl && info.kind == SFY_FD_TCP &&
	    sfy_tcp_record_check(fd, &info, &peer, &pl) != 1)
		cl = 0;
	if (cl)
		copy_out(sa, len, &conv, cl);
	else
		copy_out(sa, len, &local, ll);
	errno = saved;
	return 0;
}
