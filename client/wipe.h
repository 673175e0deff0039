/*
 * After a password has passed through: the copies no line of ours made
 * (internal to libsocks5).
 *
 * glibc's string functions (memcpy, memrchr, strlen, ...) move 16 to 64
 * bytes at a time through the CPU's vector registers and leave the last
 * ones there. Any later XSAVE writes the whole register file to the stack
 * (the dynamic loader's lazy binding of the program's next libc call, a
 * signal frame), so a password parsed or sent long ago turns up in a
 * stack frame of the program. The URL parser and the handshake, which
 * wipe their own buffers, clear the registers too when a password went
 * through them.
 */
#ifndef SOCKSIFY_CLIENT_WIPE_H
#define SOCKSIFY_CLIENT_WIPE_H

/* Zeroes the vector registers (x86-64: SSE, AVX, AVX-512 as the CPU has
 * them; elsewhere nothing). A few instructions, no system call. */
void socks5_wipe_registers(void);

#endif
