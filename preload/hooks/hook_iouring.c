/*
 * io_uring: a program that submits IORING_OP_CONNECT, _SEND or _SENDMSG
 * makes the kernel connect and send without any libc call we could see,
 * and inspecting submissions is not safe: the submission ring is memory
 * the kernel reads on its own schedule (SQPOLL: without any system call),
 * so whatever we checked could be changed before the kernel reads it.
 * So the library refuses io_uring_setup with ENOSYS, as a kernel without
 * io_uring does; runtimes that use io_uring check for that and fall back
 * to epoll and the ordinary calls (libuv >= 1.45, tokio-uring's users,
 * liburing's callers that handle io_uring_queue_init failing). One log
 * line per refusal (rare: once per ring a program tries to make).
 *
 * SOCKSIFY_IO_URING=allow lets io_uring_setup through, for programs that
 * use io_uring only for files; their io_uring network operations then go
 * direct (documented in README's coverage table).
 *
 * What no LD_PRELOAD can see: a program (or library) that makes the
 * system call with its own instruction. liburing >= 2.2 does that on
 * x86_64, aarch64 and riscv64 (Debian's liburing2 2.3: no syscall()
 * import, its own syscall instructions), and so do Go programs and static
 * binaries. Only syscall(SYS_io_uring_setup, ...) through libc is
 * refused here (glibc has no io_uring_setup wrapper).
 *
 * The setting is read once, at load, like the rest of the environment.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "base/config.h"
#include "base/log.h"
#include "base/realfn.h"
#include "hooks/hooks.h"

static bool io_uring_allowed;

void sfy_io_uring_init(void)
{
	const char *v = getenv("SOCKSIFY_IO_URING");

	io_uring_allowed = v && !strcmp(v, "allow");
}

long sfy_io_uring_setup_route(void)
{
	const struct sfy_config *cfg = sfy_config();

	if (io_uring_allowed || sfy_inside() || (!cfg->enabled && !cfg->broken))
		return SFY_PASS;
	sfy_warn("io_uring_setup refused (ENOSYS): its network operations would bypass the proxy; the program falls back to ordinary calls if it can (SOCKSIFY_IO_URING=allow lets it through, direct)");
	return -ENOSYS;
}
