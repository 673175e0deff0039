/*
 * A socket's options as the library reads them: through the real table,
 * so that a getsockopt hook (SO_ERROR for event loops) never sees the
 * library's own questions, and errno untouched for the hooks that ask.
 */
#include <errno.h>

#include "base/realfn.h"
#include "base/sockopt.h"

int sfy_sockopt_int(int fd, int level, int name, int *val)
{
	const struct sfy_real *r = sfy_real();
	socklen_t l = sizeof(*val);
	int saved = errno, rc = 0;

	if (!r->getsockopt)
		return -ENOSYS;
	if (r->getsockopt(fd, level, name, val, &l) < 0)
		rc = -errno;
	errno = saved;
	return rc;
}
