/*
 * /etc/hosts lookup (see hosts.h). The format, as hosts(5) has it:
 *
 *   IP_address canonical_hostname [aliases...]   # comment
 *
 * Fields are separated by blanks or tabs. Every matching line counts, so a
 * name listed once for IPv4 and once for IPv6 has both.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#include "base/realfn.h"
#include "dns/hosts.h"

#define HOSTS_BUF 4096

static bool is_blank(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\v' || c == '\f';
}

/* Next field of [*p, end): returns its start and sets *len; NULL at end. */
static const char *next_field(const char **p, const char *end, size_t *len)
{
	const char *s = *p, *f;

	while (s < end && is_blank(*s))
		s++;
	if (s == end)
		return NULL;
	f = s;
	while (s < end && !is_blank(*s))
		s++;
	*len = (size_t)(s - f);
	*p = s;
	return f;
}

static bool name_eq(const char *field, size_t flen, const char *name,
		    size_t nlen)
{
	if (flen > 0 && field[flen - 1] == '.')
		flen--;
	return flen == nlen && strncasecmp(field, name, nlen) == 0;
}

static void add_addr(struct sfy_hosts_result *out, int family,
		     const uint8_t *addr)
{
	if (family == AF_INET)
		out->has4 = true;
	else
		out->has6 = true;
	if (out->n == SFY_HOSTS_ADDRS_MAX)
		return;
	out->addrs[out->n].family = family;
	memcpy(out->addrs[out->n].addr, addr, family == AF_INET ? 4 : 16);
	out->n++;
}

/* One line (no newline). Returns true when it names name. */
static bool parse_line(const char *line, size_t len, const char *name,
		       size_t nlen, struct sfy_hosts_result *out)
{
	const char *end = line + len, *p = line, *f, *hash, *first;
	char text[INET6_ADDRSTRLEN];
	uint8_t addr[16];
	size_t flen, firstlen;
	int family;
	bool hit = false;

	hash = memchr(line, '#', len);
	if (hash)
		end = hash;
	f = next_field(&p, end, &flen);
	if (f == NULL || flen >= sizeof(text))
		return false;
	memcpy(text, f, flen);
	text[flen] = '\0';
	if (inet_pton(AF_INET, text, addr) == 1)
		family = AF_INET;
	else if (inet_pton(AF_INET6, text, addr) == 1)
		family = AF_INET6;
	else
		return false;

	first = next_field(&p, end, &firstlen);
	for (f = first, flen = firstlen; f && !hit;
	     f = next_field(&p, end, &flen))
		hit = name_eq(f, flen, name, nlen);
	if (!hit)
		return false;
	if (out->canon[0] == '\0' && firstlen < sizeof(out->canon)) {
		memcpy(out->canon, first, firstlen);
		out->canon[firstlen] = '\0';
	}
	add_addr(out, family, addr);
	return true;
}

int sfy_hosts_lookup_file(const char *path, const char *name,
			  struct sfy_hosts_result *out)
{
	char buf[HOSTS_BUF];
	size_t nlen, have = 0;
	off_t off = 0;
	bool skipping = false, found = false;
	int fd, rc = 0;

	memset(out, 0, sizeof(*out));
	nlen = strlen(name);
	if (nlen > 0 && name[nlen - 1] == '.')
		nlen--;
	if (nlen == 0)
		return 0;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return errno == ENOENT ? 0 : -errno;

	for (;;) {
		ssize_t r = pread(fd, buf + have, sizeof(buf) - have, off);
		char *start = buf, *nl;

		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			rc = -errno;
			break;
		}
		if (r == 0) {
			if (have > 0 && !skipping)
				found |= parse_line(buf, have, name, nlen, out);
			break;
		}
		off += r;
		have += (size_t)r;
		while ((nl = memchr(start, '\n', have - (size_t)(start - buf)))) {
			if (!skipping)
				found |= parse_line(start, (size_t)(nl - start),
						    name, nlen, out);
			skipping = false;
			start = nl + 1;
		}
		have -= (size_t)(start - buf);
		memmove(buf, start, have);
		if (have == sizeof(buf)) {
			/* A line longer than the buffer: drop it. */
			skipping = true;
			have = 0;
		}
	}
	sfy_real()->close(fd);
	if (rc)
		return rc;
	return found ? 1 : 0;
}

int sfy_hosts_lookup(const char *name, struct sfy_hosts_result *out)
{
	return sfy_hosts_lookup_file(SFY_HOSTS_PATH, name, out);
}
