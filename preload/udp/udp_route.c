/*
 * UDP's side of a verdict (route/decide.h): the association a datagram
 * through the relay needs (made on the socket's first datagram or
 * connect()), connect() through it, and the end of a proxied connect()
 * when the program connects the socket elsewhere.
 */
#include <errno.h>

#include "route/decide.h"
#include "udp/udp_io.h"

int sfy_udp_assoc_ensure(int fd, struct sfy_route *r)
{
	int rc;

	if (r->assoc_known)
		return 0;
	rc = sfy_assoc_open(fd, r->family, &r->info);
	if (rc < 0)
		return rc;
	r->assoc_known = true;
	return 0;
}

int sfy_udp_connect_via(int fd, const struct sockaddr *sa, socklen_t len,
			struct sfy_route *r)
{
	int rc = sfy_udp_assoc_ensure(fd, r);

	return rc < 0 ? rc : sfy_udp_connect(fd, &r->info, sa, len);
}

void sfy_udp_after_connect(int fd)
{
	struct sfy_fd_info info;
	int saved = errno;

	if (sfy_fd_maybe_udp(fd) && sfy_assoc_of(fd, &info) == 0)
		sfy_udp_disconnected(&info);
	errno = saved;
}
