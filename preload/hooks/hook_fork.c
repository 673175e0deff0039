/*
 * The ways to make a child that shares this process's memory or runs no
 * atfork handler: vfork, clone and _Fork (and, in hook_syscall.c, their
 * syscall() forms). Each only notes that such a child may exist
 * (state/vfork.h: from then on a slow path asks getpid() whether it runs
 * in one) and makes the real call; fork() runs the atfork handlers and
 * needs nothing. posix_spawn, system and popen make their children inside
 * glibc, which run no hook before their exec.
 *
 * vfork cannot be wrapped by a C function: the child would return
 * through the wrapper's frame on the stack it shares with its suspended
 * parent, and the parent would then return through what the child left
 * there. So vfork is three instructions that leave no frame: note, then
 * jump to glibc's __vfork (glibc's own vfork under another name), which
 * returns to the program's caller. Elsewhere than x86_64, vfork is not
 * hooked and state/vfork.c takes it as seen from the start.
 */
#include <errno.h>
#include <sched.h>
#include <stdarg.h>
#include <sys/types.h>
#include <unistd.h>

#include "base/realfn.h"
#include "state/vfork.h"

#if defined(__x86_64__)
__asm__(".text\n"
	".globl vfork\n"
	".type vfork, @function\n"
	"vfork:\n"
	"\t.cfi_startproc\n"
	"\tendbr64\n"
	"\tmovb $1, sfy_vfork_seen(%rip)\n"
	"\tjmp __vfork@PLT\n"
	"\t.cfi_endproc\n"
	".size vfork, .-vfork\n");
#endif

/* clone(fn, stack, flags, arg[, parent_tid, tls, child_tid]): the last
 * three are read as glibc's clone reads them, whether given or not (the
 * third from the caller's frame, which AddressSanitizer would flag). */
__attribute__((no_sanitize_address)) int clone(int (*fn)(void *), void *stack, int flags, void *arg, ...)
{
	int (*real)(int (*)(void *), void *, int, void *, ...) = sfy_real()->clone;
	pid_t *ptid, *ctid;
	void *tls;
	va_list ap;

	va_start(ap, arg);
	ptid = va_arg(ap, pid_t *);
	tls = va_arg(ap, void *);
	ctid = va_arg(ap, pid_t *);
	va_end(ap);
	if (!(flags & CLONE_THREAD))
		sfy_vfork_note();
	if (!real) {
		errno = ENOSYS;
		return -1;
	}
	return real(fn, stack, flags, arg, ptid, tls, ctid);
}

pid_t _Fork(void)
{
	pid_t (*real)(void) = sfy_real()->_Fork;

	sfy_vfork_note();
	if (!real) {
		errno = ENOSYS;
		return -1;
	}
	return real();
}
