/*
 * libsocks5: the proxy file (SOCKSIFY_PROXY_FILE), one reader for the
 * socksify command and for libsocksify.so, so that a file one accepts the
 * other accepts, and a file one refuses the other refuses with the same
 * words.
 *
 * The file must be a regular file (not a symbolic link: it is opened with
 * O_NOFOLLOW), owned by the effective user and closed to group and others
 * (no permission bit in 077, as ssh asks of a private key), and at most
 * SOCKS5_PROXY_FILE_MAX bytes.
 *
 * Format: one proxy URL per line, first hop first (a line may also hold a
 * comma list, as SOCKSIFY_PROXY does). Blank lines and lines whose first
 * non-blank character is '#' are skipped; a '#' after a blank starts a
 * comment to the end of the line ("socks5://h:1080  # office"). A '#' with
 * no blank before it is part of the URL. CRLF line ends are accepted. Each
 * line is checked as a proxy URL; an error names the file and the line,
 * and masks any password, as every URL message does.
 */
#ifndef SOCKS5_PROXYFILE_H
#define SOCKS5_PROXYFILE_H

#include <stddef.h>
#include <sys/stat.h>
#include <sys/types.h>

#define SOCKS5_PROXY_FILE_MAX 4096

/*
 * The rules above over bytes, no I/O: text[0..len) into out as one comma
 * list (NUL-terminated; cap at least len + 1). Returns 0, or -EFBIG (too
 * large) / -EINVAL (a bad line, or no URL at all) with why saying so
 * ("line 3: ..."; "holds no proxy URL"). Intermediate copies are wiped; on
 * failure out is wiped too. No allocation: usable from a constructor.
 */
int socks5_proxy_file_parse(const char *text, size_t len, char *out,
			    size_t cap, char *why, size_t whycap);

/*
 * The functions the reader calls: the command passes libc's; a preloaded
 * library passes the real ones, never its own hooks.
 */
struct socks5_file_io {
	int (*open)(const char *path, int flags, ...);
	int (*fstat)(int fd, struct stat *st);
	ssize_t (*read)(int fd, void *buf, size_t n);
	int (*close)(int fd);
};

/*
 * Opens path (O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC | O_NOCTTY:
 * a FIFO put in its place is refused, never waited on), checks the opened
 * descriptor (fstat: regular, owner, mode, size), reads it and parses it
 * as socks5_proxy_file_parse does. out as there (cap at least
 * SOCKS5_PROXY_FILE_MAX + 1). Returns 0 or -errno with why naming the file
 * (never its contents); errno is left as it was. No allocation; about
 * 12 KiB of stack (the file, and the hops a line is checked into).
 */
int socks5_proxy_file_read(const struct socks5_file_io *io, const char *path,
			   char *out, size_t cap, char *why, size_t whycap);

#endif
