/* See secretwipe.h. */
#include <string.h>

#include "base/secretwipe.h"

/* Deep enough for the parse's frames (the proxy file's text, its lines
 * joined, the URL decoded; about twice that under AddressSanitizer). */
#define PARSE_STACK_BYTES (64 * 1024)

__attribute__((noinline)) void sfy_wipe_dead_stack(void)
{
	char pad[PARSE_STACK_BYTES];

	explicit_bzero(pad, sizeof(pad));
	__asm__ volatile("" : : "r"(pad) : "memory");
}
