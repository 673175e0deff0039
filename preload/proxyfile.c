/*
 * SOCKSIFY_PROXY_FILE (see proxyfile.h). Read once, from the configuration
 * (inside its pthread_once): open, fstat and the raw read(2) system call,
 * never a hooked name. The checks are made on the descriptor that is read
 * (fstat after open), so the file cannot be swapped between the check and
 * the read.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "proxyfile.h"
#include "realfn.h"

static void close_fd(int fd)
{
	const struct sfy_real *r = sfy_real();

	if (r->close)
		r->close(fd);
	else
		syscall(SYS_close, fd);
}

/* The whole file into buf (at most cap - 1 bytes). Bytes read, or -errno. */
static ssize_t read_all(int fd, char *buf, size_t cap)
{
	size_t got = 0;
	int tries = 64; /* a regular file of a few KiB: bounded anyway */

	while (got < cap - 1 && tries-- > 0) {
		long n = syscall(SYS_read, fd, buf + got, cap - 1 - got);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		if (n == 0)
			break;
		got += (size_t)n;
	}
	buf[got] = '\0';
	return (ssize_t)got;
}

static bool blank(char c)
{
	return c == ' ' || c == '\t' || c == '\r';
}

/* Lines of text into one comma list in out; false when there is none. */
static bool join_lines(const char *text, char *out, size_t cap)
{
	const char *p = text, *end, *s, *e;
	size_t len, o = 0;

	out[0] = '\0';
	for (; *p; p = *end ? end + 1 : end) {
		end = strchr(p, '\n');
		if (!end)
			end = p + strlen(p);
		for (s = p; s < end && blank(*s); s++)
			;
		for (e = end; e > s && blank(e[-1]); e--)
			;
		len = (size_t)(e - s);
		if (len == 0 || *s == '#')
			continue;
		if (o + len + 2 > cap)
			return false; /* cannot happen: out is as large as the file */
		if (o)
			out[o++] = ',';
		memcpy(out + o, s, len);
		o += len;
		out[o] = '\0';
	}
	return o > 0;
}

static int check_file(int fd, const char *path, char *why, size_t whycap)
{
	struct stat st;

	if (fstat(fd, &st) < 0) {
		snprintf(why, whycap, "cannot stat '%s': %s", path,
			 strerror(errno));
		return -errno;
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
	if (st.st_size > SFY_PROXY_FILE_MAX) {
		snprintf(why, whycap, "'%s' is larger than %d bytes", path,
			 SFY_PROXY_FILE_MAX);
		return -EFBIG;
	}
	return 0;
}

int sfy_proxy_file_read(const char *path, char *out, size_t cap, char *why,
			size_t whycap)
{
	char raw[SFY_PROXY_FILE_MAX + 2];
	ssize_t n;
	int fd, rc;

	why[0] = '\0';
	if (cap < SFY_PROXY_FILE_MAX + 1)
		return -EINVAL;
	/* O_NONBLOCK: a FIFO put in its place must not hang the program. */
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	if (fd < 0) {
		rc = -errno;
		snprintf(why, whycap, "cannot open '%s': %s", path,
			 strerror(-rc));
		return rc;
	}
	rc = check_file(fd, path, why, whycap);
	if (rc == 0) {
		n = read_all(fd, raw, sizeof(raw));
		if (n < 0) {
			rc = (int)n;
			snprintf(why, whycap, "cannot read '%s': %s", path,
				 strerror(-rc));
		} else if ((size_t)n > SFY_PROXY_FILE_MAX) {
			rc = -EFBIG; /* grew since fstat */
			snprintf(why, whycap, "'%s' is larger than %d bytes",
				 path, SFY_PROXY_FILE_MAX);
		} else if (!join_lines(raw, out, cap)) {
			rc = -EINVAL;
			snprintf(why, whycap, "'%s' holds no proxy URL", path);
		}
	}
	close_fd(fd);
	explicit_bzero(raw, sizeof(raw));
	if (rc)
		explicit_bzero(out, cap);
	return rc;
}
