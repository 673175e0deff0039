/*
 * Pieces of the socksify command that are not option parsing: finding the
 * preload library beside the binary, finding the program in PATH (so the
 * error for a missing program is the shell's, not a bare execvp errno), and
 * composing LD_PRELOAD.
 */
#ifndef SOCKSIFY_TOOLS_TOOL_H
#define SOCKSIFY_TOOLS_TOOL_H

#include <stddef.h>

#define SFY_LIBRARY_NAME "libsocksify.so"

/*
 * Finds libsocksify.so relative to the running binary (/proc/self/exe):
 * the binary's own directory (build tree), then ../lib/socksify/ and ../lib/
 * (installed tree). On success writes the canonical path into out and
 * returns 0; otherwise returns a negative errno and writes the places
 * looked at, separated by ", ", into looked.
 */
int sfy_find_library(char *out, size_t cap, char *looked, size_t lcap);

/*
 * Looks the program up as execvp will: a name with a slash is taken as is,
 * otherwise each PATH directory in turn (PATH unset: the C library's
 * default). Returns 0 when an executable regular file exists, -ENOENT when
 * nothing by that name exists, -EISDIR when the name with a slash is a
 * directory, -EACCES when only non-executable files (or, in PATH,
 * directories) do.
 */
int sfy_find_program(const char *name);

/*
 * The LD_PRELOAD value with lib first and the old entries after it (space
 * separated; sanitizer runtimes, which must load first, stay ahead), dropping any old entry that is this library or another copy
 * of libsocksify.so: two copies would hook every call twice. Returns a
 * malloc'd string, or NULL when out of memory.
 */
char *sfy_preload_value(const char *lib, const char *old);

#endif
