/*
 * After the proxy's password has passed through: clearing the copies no
 * line of ours made.
 *
 * glibc's string functions (memcpy, memrchr, strlen, ...) move 16 to 64
 * bytes at a time through the CPU's vector registers, and leave the last
 * ones there. Any later XSAVE writes the whole register file to the stack
 * (the dynamic loader's lazy binding of the program's next libc call, a
 * signal frame), so a password parsed or sent long ago turns up in a
 * stack frame of the program. Likewise the parse's own frames leave
 * temporaries in the dead stack below the constructor.
 */
#ifndef SOCKSIFY_PRELOAD_SECRETWIPE_H
#define SOCKSIFY_PRELOAD_SECRETWIPE_H

/* Zeroes the vector registers (x86-64: SSE, AVX, AVX-512 as the CPU has
 * them; elsewhere nothing). A few instructions, no system call. */
void sfy_clear_vector_registers(void);

/* Zeroes 64 KiB of stack below the caller: for the constructor only (the
 * main thread's stack), after the configuration was parsed. */
void sfy_wipe_dead_stack(void);

#endif
