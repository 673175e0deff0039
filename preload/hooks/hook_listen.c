/*
 * listen() and bind(): a socket that listens for a connection back from
 * the host the process talks to through the proxy is served by BIND at
 * the proxy (tcp/bind.c says when and how); every other goes to the real
 * calls. bind() costs nothing more unless the kernel refuses the address
 * (EADDRNOTAVAIL) and it is one a proxied socket showed as its own.
 */
#include <errno.h>

#include "base/realfn.h"
#include "hooks/hooks.h"
#include "state/sockhint.h"
#include "tcp/bind.h"

int sfy_listen(int fd, int backlog)
{
	const struct sfy_real *r = sfy_real();
	int rc;

	if (!r->listen)
		return sfy_nosys();
	/* Only a stream socket our socket() made may be served by BIND. */
	if (!sfy_hint_stream(fd))
		return r->listen(fd, backlog);
	rc = sfy_bind_listen(fd, backlog);
	if (rc == 1)
		return r->listen(fd, backlog);
	if (rc < 0) {
		errno = -rc;
		return -1;
	}
	return 0;
}

/* A program that binds its listening socket to the address its proxied
 * connection showed (curl's active FTP binds to the control connection's
 * getsockname()): BIND now, so that getsockname() shows the port the
 * proxy listens on before listen(). */
int sfy_bind(int fd, const struct sockaddr *sa, socklen_t len)
{
	const struct sfy_real *r = sfy_real();
	int saved = errno, rc;

	if (!r->bind)
		return sfy_nosys();
	rc = r->bind(fd, sa, len);
	if (rc == 0 || errno != EADDRNOTAVAIL || !sa || !sfy_hint_stream(fd) ||
	    !sfy_bind_wanted(sa, len))
		return rc;
	rc = sfy_bind_at_bind(fd);
	if (rc < 0) {
		errno = -rc;
		return -1;
	}
	errno = saved;
	return 0;
}

int listen(int fd, int backlog) SFY_EXPORT_AS(sfy_listen);
int bind(int fd, const struct sockaddr *sa, socklen_t len)
	SFY_EXPORT_AS(sfy_bind);
