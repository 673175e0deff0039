/*
 * What the library asks the kernel about a socket, through the real
 * getsockopt (realfn.h), never the exported name. Each returns -errno on
 * failure (a bad descriptor, not a socket: the caller passes the call
 * through and the real function reports it); errno is left as it was.
 */
#ifndef SOCKSIFY_PRELOAD_SOCKOPT_H
#define SOCKSIFY_PRELOAD_SOCKOPT_H

#include <sys/socket.h>

/* getsockopt(level, name) of an int option: 0 and *val, or -errno. */
int sfy_sockopt_int(int fd, int level, int name, int *val);

/* The socket's type (SOCK_STREAM, SOCK_DGRAM, ...) in *type: 0 or -errno. */
static inline int sfy_sock_type(int fd, int *type)
{
	return sfy_sockopt_int(fd, SOL_SOCKET, SO_TYPE, type);
}

/* The socket's family (AF_INET, ...), or -errno. */
static inline int sfy_sock_domain(int fd)
{
	int d = AF_UNSPEC, rc = sfy_sockopt_int(fd, SOL_SOCKET, SO_DOMAIN, &d);

	return rc < 0 ? rc : d;
}

#endif
