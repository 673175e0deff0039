/*
 * SOCKSIFY_PROXY_FILE: the proxy URL (or chain) read from a file, so that
 * credentials need not sit on a command line or in the environment.
 *
 * The file must be a regular file owned by the effective user and closed
 * to group and others (no permission bit in 077, as ssh asks of a private
 * key): anything else is refused with a message naming the problem, and
 * the configuration then fails closed like any other bad value.
 *
 * Format: one proxy URL per line, first hop first (or a comma list, as in
 * SOCKSIFY_PROXY); blank lines and lines starting with '#' are ignored;
 * at most SFY_PROXY_FILE_MAX bytes.
 */
#ifndef SOCKSIFY_PRELOAD_PROXYFILE_H
#define SOCKSIFY_PRELOAD_PROXYFILE_H

#include <stddef.h>

#define SFY_PROXY_FILE_MAX 4096

/*
 * Reads path and writes its URLs into out as one comma-separated list
 * (NUL-terminated; cap must be at least SFY_PROXY_FILE_MAX + 1). Returns 0,
 * or -errno with why holding a message (without any of the file's
 * contents). Every intermediate copy of the contents is wiped; the caller
 * wipes out when done with it. Uses no hooked function.
 */
int sfy_proxy_file_read(const char *path, char *out, size_t cap, char *why,
			size_t whycap);

#endif
