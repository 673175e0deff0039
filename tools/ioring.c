/*
 * io_uring refused for the whole process tree, before exec (issue 18).
 *
 * The library refuses syscall(SYS_io_uring_setup, ...) (route/decide.c),
 * but liburing >= 2.2 on x86_64, aarch64 and riscv64 makes its system
 * calls with its own instruction: Debian 12's liburing2 2.3 imports no
 * syscall() at all (objdump -T), so io_uring_queue_init reaches the
 * kernel unseen and IORING_OP_CONNECT / _SENDMSG then go direct. Only
 * the kernel sees that call: the command installs a seccomp filter that
 * answers io_uring_setup with ENOSYS, what a kernel without io_uring
 * answers (liburing's callers and runtimes fall back to epoll on it).
 * The filter is inherited by every process the program starts, socksified
 * or not, and cannot be removed: for the tree socksify runs, io_uring
 * does not exist. SOCKSIFY_IO_URING=allow: no filter.
 *
 * no_new_privs: the kernel takes a filter without it only from a process
 * with CAP_SYS_ADMIN (root). For anyone else the filter needs
 * PR_SET_NO_NEW_PRIVS, which also keeps setuid and file-capability
 * programs (sudo, su, ping where it is setcap) from gaining their
 * privileges under socksify. So: root always gets the filter, setuid
 * programs unharmed; other users get it only with --strict, where
 * refusing what socksify cannot reach is the point (the README's coverage
 * table says so). Without it a non-root run is as before: io_uring made
 * by the instruction is not covered.
 *
 * The filter: the architecture's io_uring_setup (425 in every
 * architecture's table since Linux 5.1; x32's with its bit) and, on
 * x86_64, the i386 entry's; every other call allowed. A few instructions
 * per system call.
 */
#include <errno.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "tool.h"

#if defined(__x86_64__)
#define NATIVE_ARCH AUDIT_ARCH_X86_64
#define COMPAT_ARCH AUDIT_ARCH_I386
#define X32_BIT 0x40000000u
#elif defined(__aarch64__)
#define NATIVE_ARCH AUDIT_ARCH_AARCH64
#elif defined(__riscv) && __riscv_xlen == 64
#define NATIVE_ARCH AUDIT_ARCH_RISCV64
#endif

#define IO_URING_SETUP_NR 425u /* asm-generic and x86 alike */

#ifdef NATIVE_ARCH
#define LOAD(field) \
	BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, field))
#define REFUSE BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | ENOSYS)
#define ALLOW BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW)

static int install(void)
{
	static struct sock_filter code[] = {
		/* 0 */ LOAD(arch),
#ifdef COMPAT_ARCH
		/* 1: i386 -> 5 */ BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, COMPAT_ARCH, 3, 0),
#else
		/* 1: none */ BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, 0xffffffffu, 3, 0),
#endif
		/* 2: else -> 8 */ BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, NATIVE_ARCH, 0, 5),
		/* 3 */ LOAD(nr),
#ifdef X32_BIT
		/* 4: x32 -> 7 */ BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K,
				 X32_BIT | IO_URING_SETUP_NR, 2, 1),
#else
		/* 4: none */ BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, 0xffffffffu, 2, 1),
#endif
		/* 5 */ LOAD(nr),
		/* 6 */ BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, IO_URING_SETUP_NR, 0, 1),
		/* 7 */ REFUSE,
		/* 8 */ ALLOW,
	};
	struct sock_fprog prog = { sizeof(code) / sizeof(code[0]), code };

	if (prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog, 0, 0) != 0)
		return -errno;
	return 0;
}
#else
static int install(void)
{
	return -EOPNOTSUPP;
}
#endif

int sfy_refuse_io_uring(const struct sfy_settings *s)
{
	const char *v = getenv("SOCKSIFY_IO_URING");
	int r;

	if (v && !strcasecmp(v, "allow")) /* the library reads it so */
		return 0;
	r = install();
	if (r == -EACCES && s->strict) {
		/* not root: only with no_new_privs (setuid programs then
		 * run without their privileges) */
		if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0)
			r = -errno;
		else
			r = install();
	}
	if (r == 0) {
		if (s->level >= 3)
			fputs("socksify: io_uring_setup refused for the program and its children (seccomp, ENOSYS)\n",
			      stderr);
		return 0;
	}
	if (s->strict) {
		fprintf(stderr, "socksify: cannot refuse io_uring to the program (seccomp: %s); its io_uring network operations would not go through the proxy; refused (--strict)\n",
			strerror(-r));
		return SFY_EXIT_STRICT;
	}
	if (s->level >= 3)
		fprintf(stderr, "socksify: io_uring not refused by seccomp (%s: needs root or --strict): io_uring made without syscall() is not covered\n",
			strerror(-r));
	return 0;
}
