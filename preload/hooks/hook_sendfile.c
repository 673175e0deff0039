/*
 * sendfile, sendfile64, splice: the kernel moves the bytes itself, past
 * any hook, so on a GSSAPI-protected stream (tcp/gss_stream.h) they would
 * put raw bytes into a stream of wrapped messages (or take wrapped ones
 * out as data). There they are refused with EINVAL, the errno the kernel
 * gives for a descriptor these calls cannot use, and a log line; programs
 * fall back to read and write (Python's socket.sendfile does, nginx and
 * curl too). Every other descriptor: one relaxed load, then the real call.
 *
 * copy_file_range needs no hook: it refuses sockets itself (EINVAL).
 */
#include <errno.h>
#include <sys/sendfile.h>
#include <fcntl.h>

#include "base/log.h"
#include "base/realfn.h"
#include "hooks/hooks.h"
#include "tcp/gss_stream.h"

static ssize_t refused(const char *call, int fd)
{
	sfy_warn("%s on fd %d refused (EINVAL): its data is GSSAPI-wrapped, which only read/write/send/recv do",
		 call, fd);
	errno = EINVAL;
	return -1;
}

ssize_t sendfile(int out, int in, off_t *off, size_t n)
{
	const struct sfy_real *r = sfy_real();

	if (!r->sendfile)
		return sfy_nosys();
	if (__builtin_expect(sfy_gss_of(out) || sfy_gss_of(in), 0))
		return refused("sendfile", sfy_gss_of(out) ? out : in);
	return r->sendfile(out, in, off, n);
}

ssize_t sendfile64(int out, int in, off_t *off, size_t n);
ssize_t sendfile64(int out, int in, off_t *off, size_t n)
{
	const struct sfy_real *r = sfy_real();

	if (!r->sendfile64)
		return sfy_nosys();
	if (__builtin_expect(sfy_gss_of(out) || sfy_gss_of(in), 0))
		return refused("sendfile", sfy_gss_of(out) ? out : in);
	return r->sendfile64(out, in, off, n);
}

ssize_t splice(int in, off_t *off_in, int out, off_t *off_out, size_t n,
	       unsigned int flags)
{
	const struct sfy_real *r = sfy_real();

	if (!r->splice)
		return sfy_nosys();
	if (__builtin_expect(sfy_gss_of(out) || sfy_gss_of(in), 0))
		return refused("splice", sfy_gss_of(out) ? out : in);
	return r->splice(in, off_in, out, off_out, n, flags);
}
