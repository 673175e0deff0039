/*
 * SOCKSIFY_PROXY_FILE (see proxyfile.h). Read once, from the configuration
 * (inside its pthread_once), by libsocks5's reader over functions that are
 * not ours: open and fstat, which the library does not hook, and read and
 * close from the table of real functions (never our hooks, never the
 * exported syscall).
 */
#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>

#include "base/proxyfile.h"
#include "base/realfn.h"

int sfy_proxy_file_read(const char *path, char *out, size_t cap, char *why,
			size_t whycap)
{
	const struct sfy_real *r = sfy_real();
	const struct socks5_file_io io = {
		.open = open,
		.fstat = fstat,
		.read = r->read,
		.close = r->close,
	};

	if (!io.read || !io.close) {
		why[0] = '\0';
		return -ENOSYS; /* libc without read/close: cannot happen */
	}
	return socks5_proxy_file_read(&io, path, out, cap, why, whycap);
}
