/*
 * listen(): a socket that listens for a connection back from the host the
 * process talks to through the proxy is served by BIND at the proxy
 * (tcp/bind.c says when and how); every other goes to the real listen().
 */
#include <errno.h>

#include "base/realfn.h"
#include "hooks/hooks.h"
#include "state/sockhint.h"
#include "tcp/bind.h"

int listen(int fd, int backlog)
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
