/*
 * unseen(): a system call made by the instruction itself, with no libc
 * wrapper and no syscall() (which libsocksify.so hooks and routes through
 * its bookkeeping), the way a static helper, inline assembly or io_uring
 * changes descriptors behind the library's back. Tests use it to take a
 * number away from the library where it cannot see.
 */
#ifndef SOCKSIFY_TESTS_UNSEEN_H
#define SOCKSIFY_TESTS_UNSEEN_H

#include <errno.h>
#include <unistd.h>

static inline long unseen(long n, long a, long b, long c)
{
#if defined(__x86_64__)
	long rc;

	__asm__ volatile("syscall"
			 : "=a"(rc)
			 : "a"(n), "D"(a), "S"(b), "d"(c)
			 : "rcx", "r11", "memory");
	return rc < 0 && rc > -4096 ? (errno = (int)-rc, -1) : rc;
#elif defined(__aarch64__)
	register long x8 __asm__("x8") = n;
	register long x0 __asm__("x0") = a;
	register long x1 __asm__("x1") = b;
	register long x2 __asm__("x2") = c;

	__asm__ volatile("svc 0"
			 : "+r"(x0)
			 : "r"(x8), "r"(x1), "r"(x2)
			 : "memory");
	return x0 < 0 && x0 > -4096 ? (errno = (int)-x0, -1) : x0;
#else
	return syscall(n, a, b, c);
#endif
}

#endif
