/*
 * /etc/hosts lookup (see hosts.h). The format, as hosts(5) has it:
 *
 *   IP_address canonical_hostname [aliases...]   # comment
 *
 * Fields are separated by blanks or tabs. Every matching line counts, so a
 * name listed once for IPv4 and once for IPv6 has both.
 *
 * /etc/hosts itself is kept in memory (sfy_hosts_lookup): every name
 * lookup of a remote-DNS program asks it, and reading it (open, pread,
 * close, and an inet_pton per line) was most of a lookup's time. The copy
 * is keyed by the file's device, inode, modification time and size, so
 * one stat() per lookup sees an edit (in place or by rename); an edit
 * that keeps the size within the file system's timestamp tick (a few ms)
 * can go unseen until the next change, as for nscd. The copy lives in
 * its own mapping (no malloc), under a mutex taken with trylock: a lookup
 * that finds it busy (another thread reading, or a fork child whose
 * parent held it) reads the file itself, so no lookup ever waits.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <string.h>
#include <strings.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
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

	size_t alen;
	const char *a;

	hash = memchr(line, '#', len);
	if (hash)
		end = hash;
	a = next_field(&p, end, &alen);
	if (a == NULL || alen >= sizeof(text))
		return false;
	/* The names first: most lines do not name it, and need no
	 * inet_pton. */
	first = next_field(&p, end, &firstlen);
	for (f = first, flen = firstlen; f && !hit;
	     f = next_field(&p, end, &flen))
		hit = name_eq(f, flen, name, nlen);
	if (!hit)
		return false;
	memcpy(text, a, alen);
	text[alen] = '\0';
	if (inet_pton(AF_INET, text, addr) == 1)
		family = AF_INET;
	else if (inet_pton(AF_INET6, text, addr) == 1)
		family = AF_INET6;
	else
		return false;
	if (out->canon[0] == '\0' && firstlen < sizeof(out->canon)) {
		memcpy(out->canon, first, firstlen);
		out->canon[firstlen] = '\0';
	}
	add_addr(out, family, addr);
	return true;
}

/* name's length without one trailing dot; *out emptied. */
static size_t prepare(const char *name, struct sfy_hosts_result *out)
{
	size_t nlen = strlen(name);

	memset(out, 0, sizeof(*out));
	if (nlen > 0 && name[nlen - 1] == '.')
		nlen--;
	return nlen;
}

int sfy_hosts_lookup_file(const char *path, const char *name,
			  struct sfy_hosts_result *out)
{
	char buf[HOSTS_BUF];
	size_t nlen, have = 0;
	off_t off = 0;
	bool skipping = false, found = false;
	int fd, rc = 0;

	nlen = prepare(name, out);
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

/* The file in memory: its bytes and the identity they were read under. */
#define CACHE_MAX (1u << 20) /* a larger file is read on each lookup */

struct file_key {
	dev_t dev;
	ino_t ino;
	struct timespec mtime;
	off_t size;
};

static pthread_mutex_t cache_lock = PTHREAD_MUTEX_INITIALIZER;
static struct file_key cache_key; /* under cache_lock */
static char *cache_buf;           /* mapping of cache_cap bytes, or NULL */
static size_t cache_len, cache_cap;
static bool cache_valid;

static void key_of(const struct stat *st, struct file_key *k)
{
	memset(k, 0, sizeof(*k));
	k->dev = st->st_dev;
	k->ino = st->st_ino;
	k->mtime = st->st_mtim;
	k->size = st->st_size;
}

static bool key_eq(const struct file_key *a, const struct file_key *b)
{
	return a->dev == b->dev && a->ino == b->ino &&
	       a->mtime.tv_sec == b->mtime.tv_sec &&
	       a->mtime.tv_nsec == b->mtime.tv_nsec && a->size == b->size;
}

/* Every line of buf (the last may lack its newline), as the streaming
 * reader sees them: a line of HOSTS_BUF bytes or more is dropped. */
static bool parse_buf(const char *buf, size_t len, const char *name,
		      size_t nlen, struct sfy_hosts_result *out)
{
	const char *p = buf, *end = buf + len, *nl;
	bool found = false;

	while (p < end) {
		nl = memchr(p, '\n', (size_t)(end - p));
		if (!nl)
			nl = end;
		if ((size_t)(nl - p) < HOSTS_BUF)
			found |= parse_line(p, (size_t)(nl - p), name, nlen, out);
		p = nl + 1;
	}
	return found;
}

/* Under cache_lock: the copy refreshed from the file, keyed by what the
 * opened file's fstat() says (a file replaced since the caller's stat()
 * is then read under its own key). 0, or -errno (the copy invalid). */
static int cache_load(const char *path)
{
	struct stat st;
	size_t cap, got = 0;
	ssize_t r;
	int fd, rc = 0;

	cache_valid = false;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	/* The key of what is read: the opened file's own. */
	if (fstat(fd, &st) < 0 || st.st_size < 0 ||
	    (size_t)st.st_size > CACHE_MAX) {
		rc = -EFBIG;
		goto out;
	}
	key_of(&st, &cache_key);
	cap = ((size_t)st.st_size + 1 + 4095) & ~(size_t)4095;
	if (cap > cache_cap) {
		void *m = mmap(NULL, cap, PROT_READ | PROT_WRITE,
			       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

		if (m == MAP_FAILED) {
			rc = -ENOMEM;
			goto out;
		}
		if (cache_buf)
			munmap(cache_buf, cache_cap);
		cache_buf = m;
		cache_cap = cap;
	}
	/* One byte more than the size: a file that grew meanwhile reads
	 * short of its end, and its new key makes the next lookup reload. */
	while (got < cache_cap) {
		r = pread(fd, cache_buf + got, cache_cap - got, (off_t)got);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			rc = -errno;
			goto out;
		}
		if (r == 0)
			break;
		got += (size_t)r;
	}
	if (got > (size_t)st.st_size)
		got = (size_t)st.st_size; /* grew: its key changed, see above */
	cache_len = got;
	cache_valid = true;
out:
	sfy_real()->close(fd);
	return rc;
}

int sfy_hosts_lookup_cached(const char *path, const char *name,
			    struct sfy_hosts_result *out)
{
	struct file_key key;
	struct stat st;
	size_t nlen;
	int rc, saved = errno;
	bool found;

	if (stat(path, &st) < 0) {
		rc = errno == ENOENT ? 0 : -errno;
		errno = saved;
		prepare(name, out);
		return rc;
	}
	if ((size_t)st.st_size > CACHE_MAX ||
	    pthread_mutex_trylock(&cache_lock) != 0)
		return sfy_hosts_lookup_file(path, name, out);
	nlen = prepare(name, out);
	key_of(&st, &key);
	rc = 0;
	if (!cache_valid || !key_eq(&cache_key, &key))
		rc = cache_load(path);
	if (rc < 0) {
		pthread_mutex_unlock(&cache_lock);
		errno = saved;
		return sfy_hosts_lookup_file(path, name, out);
	}
	found = nlen && parse_buf(cache_buf, cache_len, name, nlen, out);
	pthread_mutex_unlock(&cache_lock);
	errno = saved;
	return found ? 1 : 0;
}

int sfy_hosts_lookup(const char *name, struct sfy_hosts_result *out)
{
	return sfy_hosts_lookup_cached(SFY_HOSTS_PATH, name, out);
}
