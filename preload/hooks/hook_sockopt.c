/*
 * getsockopt(SO_ERROR) on a socket whose proxied handshake runs in the
 * program's waits (tcp/async.h): the handshake is stepped, and a failed
 * one's errno (DESIGN's table) is answered once, as the kernel answers a
 * failed connect()'s; while it runs, or once it succeeded, the kernel's
 * own answer (0 on the connecting socket).
 *
 * Every other call: one relaxed load, then the real function.
 */
#include <errno.h>
#include <string.h>
#include <sys/socket.h>

#include "base/realfn.h"
#include "hooks/hooks.h"
#include "tcp/async.h"

static __attribute__((noinline)) int so_error(int fd, void *val,
					      socklen_t *len)
{
	const struct sfy_real *r = sfy_real();
	int err;

	if (!val || !len || *len < (socklen_t)sizeof(int) ||
	    sfy_async_state(fd) == SFY_ASYNC_FREE)
		return r->getsockopt(fd, SOL_SOCKET, SO_ERROR, val, len);
	err = sfy_async_take_error(fd);
	if (!err)
		return r->getsockopt(fd, SOL_SOCKET, SO_ERROR, val, len);
	memcpy(val, &err, sizeof(err));
	*len = sizeof(err);
	return 0;
}

static __attribute__((noinline)) int getsockopt_slow(int fd, int level,
						     int opt, void *val,
						     socklen_t *len)
{
	const struct sfy_real *r = sfy_real();

	if (!r->getsockopt)
		return sfy_nosys();
	if (sfy_async_none() || level != SOL_SOCKET || opt != SO_ERROR ||
	    sfy_inside())
		return r->getsockopt(fd, level, opt, val, len);
	return so_error(fd, val, len);
}

/* Every getsockopt() of every program: a load, a test, a load, a tail
 * call. */
int sfy_getsockopt(int fd, int level, int opt, void *val, socklen_t *len)
{
	int (*real)(int, int, int, void *, socklen_t *) =
		SFY_REAL_FAST(getsockopt);

	if (__builtin_expect(real && sfy_async_none(), 1))
		return real(fd, level, opt, val, len);
	return getsockopt_slow(fd, level, opt, val, len);
}

int getsockopt(int fd, int level, int opt, void *val, socklen_t *len)
	SFY_EXPORT_AS(sfy_getsockopt);
