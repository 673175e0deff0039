/*
 * SOCKSIFY_PROXY_FILE: the proxy URL (or chain) read from a file, so that
 * credentials need not sit on a command line or in the environment.
 *
 * The rules (a regular file of the user's own, mode 0600 or stricter, not
 * a symbolic link, at most SFY_PROXY_FILE_MAX bytes; one URL per line,
 * '#' comments, blank lines) and the messages are libsocks5's
 * (client/socks5_proxyfile.h), shared with the socksify command: anything
 * refused there is refused here with the same words, and the configuration
 * then fails closed like any other bad value.
 */
#ifndef SOCKSIFY_PRELOAD_PROXYFILE_H
#define SOCKSIFY_PRELOAD_PROXYFILE_H

#include <stddef.h>

#include "socks5_proxyfile.h"

#define SFY_PROXY_FILE_MAX SOCKS5_PROXY_FILE_MAX

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
