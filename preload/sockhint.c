/* The bits behind sockhint.h (8 KiB of zeroes: only the words in use are
 * ever touched). */
#include "sockhint.h"

_Atomic uint64_t sfy_stream_hints[SFY_HINT_FDS / 64];
