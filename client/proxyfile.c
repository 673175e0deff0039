/*
 * The proxy file (socks5_proxyfile.h): a pure parser over bytes, and a
 * reader that opens, checks and reads through injected functions, so that
 * the command (libc's) and the preloaded library (its real-function table,
 * never its own hooks) follow the same rules with the same messages.
 *
 * The checks are made on the descriptor that is read (fstat after open),
 * so the file cannot be swapped between the check and the read.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "socks5.h"
#include "socks5_proxyfile.h"

static bool blank(char c)
{
	return c == ' ' || c == '\t' || c == '\r';
}

/* The URL part of line s[0..n): blanks trimmed, a comment (a '#' at the
 * start or after a blank) cut. Its start; *len its length (0: none). */
static const char *url_part(const char *s, size_t n, size_t *len)
{
	const char *end = s + n, *p;

	while (s < end && blank(*s))
		s++;
	for (p = s; p < end; p++) {
		if (*p == '#' && (p == s || blank(p[-1]))) {
			end = p;
			break;
		}
	}
	while (end > s && blank(end[-1]))
		end--;
	*len = (size_t)(end - s);
	return s;
}

/* Whether the URL (or comma list) at out[0..] parses; else why says so
 * with the line number (the URL parser masks any password). */
static bool line_ok(const char *url, unsigned line, char *why, size_t whycap)
{
	char err[400];
	size_t n = 0;
	bool ok;

	/* a check only: no room for up to SOCKS5_CHAIN_MAX hops needed */
	ok = socks5_url_parse_chain(url, NULL, SOCKS5_CHAIN_MAX, &n, err,
				    sizeof(err)) == SOCKS5_OK;
	if (!ok)
		snprintf(why, whycap, "line %u: %s", line, err);
	explicit_bzero(err, sizeof(err));
	return ok;
}

int socks5_proxy_file_parse(const char *text, size_t len, char *out,
			    size_t cap, char *why, size_t whycap)
{
	const char *p = text, *end = text + len, *nl, *s;
	size_t n, o = 0;
	unsigned line = 0;
	int rc = 0;

	why[0] = '\0';
	if (len > SOCKS5_PROXY_FILE_MAX) {
		snprintf(why, whycap, "is larger than %d bytes",
			 SOCKS5_PROXY_FILE_MAX);
		return -EFBIG;
	}
	if (cap < len + 1) {
		snprintf(why, whycap, "no room for the URLs (a caller's error)");
		return -EINVAL;
	}
	out[0] = '\0';
	for (; p < end && rc == 0; p = nl + 1) {
		nl = memchr(p, '\n', (size_t)(end - p));
		if (!nl)
			nl = end;
		line++;
		if (memchr(p, '\0', (size_t)(nl - p))) {
			snprintf(why, whycap, "line %u: holds a NUL byte (not a text file?)",
				 line);
			rc = -EINVAL;
			break;
		}
		s = url_part(p, (size_t)(nl - p), &n);
		if (n == 0)
			continue;
		/* o + separator + n + NUL fits: out is as large as the text */
		if (o)
			out[o++] = ',';
		memcpy(out + o, s, n);
		out[o + n] = '\0';
		if (!line_ok(out + o, line, why, whycap))
			rc = -EINVAL;
		o += n;
	}
	if (rc == 0 && o == 0) {
		snprintf(why, whycap, "holds no proxy URL");
		rc = -EINVAL;
	}
	if (rc)
		explicit_bzero(out, cap);
	return rc;
}

static int check_file(const struct socks5_file_io *io, int fd,
		      const char *path, char *why, size_t whycap)
{
	struct stat st;
	int rc;

	if (io->fstat(fd, &st) < 0) {
		rc = -errno;
		snprintf(why, whycap, "cannot stat '%s': %s", path,
			 strerror(-rc));
		return rc;
	}
	if (!S_ISREG(st.st_mode)) {
		snprintf(why, whycap, "'%s' is not a regular file", path);
		return -EINVAL;
	}
	if (st.st_uid != geteuid()) {
		snprintf(why, whycap,
			 "'%s' belongs to uid %u, not to this user (uid %u); it may hold credentials, so only a file of your own is read",
			 path, (unsigned)st.st_uid, (unsigned)geteuid());
		return -EPERM;
	}
	if (st.st_mode & 077) {
		snprintf(why, whycap,
			 "'%s' is open to group or others (mode %04o); it may hold credentials: chmod 600 it",
			 path, (unsigned)(st.st_mode & 07777));
		return -EPERM;
	}
	if (st.st_size > SOCKS5_PROXY_FILE_MAX) {
		snprintf(why, whycap, "'%s' is larger than %d bytes", path,
			 SOCKS5_PROXY_FILE_MAX);
		return -EFBIG;
	}
	return 0;
}

/* The whole file into buf (at most cap bytes). Bytes read, or -errno. */
static ssize_t read_all(const struct socks5_file_io *io, int fd, char *buf,
			size_t cap)
{
	size_t got = 0;
	int tries = 64; /* a regular file of a few KiB: bounded anyway */

	while (got < cap && tries-- > 0) {
		ssize_t n = io->read(fd, buf + got, cap - got);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		if (n == 0)
			break;
		got += (size_t)n;
	}
	return (ssize_t)got;
}

static int open_file(const struct socks5_file_io *io, const char *path,
		     char *why, size_t whycap)
{
	int fd, rc;

	fd = io->open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK |
			      O_NOFOLLOW);
	if (fd >= 0)
		return fd;
	rc = -errno;
	if (rc == -ELOOP)
		snprintf(why, whycap,
			 "'%s' is a symbolic link; name the file itself (a link is not followed)",
			 path);
	else
		snprintf(why, whycap, "cannot open '%s': %s", path,
			 strerror(-rc));
	return rc;
}

int socks5_proxy_file_read(const struct socks5_file_io *io, const char *path,
			   char *out, size_t cap, char *why, size_t whycap)
{
	char raw[SOCKS5_PROXY_FILE_MAX + 1], msg[512];
	int saved = errno, fd, rc;
	ssize_t n;

	why[0] = '\0';
	if (cap < SOCKS5_PROXY_FILE_MAX + 1)
		return -EINVAL;
	fd = open_file(io, path, why, whycap);
	if (fd < 0) {
		errno = saved;
		return fd;
	}
	rc = check_file(io, fd, path, why, whycap);
	if (rc == 0) {
		/* one byte more than allowed: a file that grew is seen */
		n = read_all(io, fd, raw, sizeof(raw));
		if (n < 0) {
			rc = (int)n;
			snprintf(why, whycap, "cannot read '%s': %s", path,
				 strerror(-rc));
		} else {
			rc = socks5_proxy_file_parse(raw, (size_t)n, out, cap,
						     msg, sizeof(msg));
			if (rc)
				snprintf(why, whycap, "'%s' %s", path, msg);
		}
	}
	io->close(fd);
	explicit_bzero(raw, sizeof(raw));
	explicit_bzero(msg, sizeof(msg));
	if (rc)
		explicit_bzero(out, cap);
	errno = saved;
	return rc;
}
