/* The hints behind sockhint.h (64 KiB of zeroes: only the pages of the
 * descriptor numbers in use are ever touched). */
#include "state/sockhint.h"

_Atomic uint8_t sfy_stream_hints[SFY_HINT_FDS];
