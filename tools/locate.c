/*
 * Finding things before exec: the preload library (relative to our own
 * binary, so neither the build tree nor an installed tree needs an absolute
 * path from the user) and the program (so "command not found" is said by us,
 * clearly, instead of an execvp errno after the environment was changed).
 */
#include <errno.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "tool.h"

/* Relative to the directory that holds the binary, most specific first. */
static const char *const lib_dirs[] = {
	"",               /* build tree: build/socksify + build/libsocksify.so */
	"../lib/socksify/", /* installed: PREFIX/bin + PREFIX/lib/socksify */
	"../lib/",
};

static bool is_regular(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

static void append(char *buf, size_t cap, const char *text)
{
	size_t used = strnlen(buf, cap);

	if (used + 1 >= cap)
		return;
	snprintf(buf + used, cap - used, "%s%s", used ? ", " : "", text);
}

int sfy_find_library(char *out, size_t cap, char *looked, size_t lcap)
{
	char exe[PATH_MAX], cand[PATH_MAX], real[PATH_MAX];
	ssize_t n;
	char *slash;
	size_t i;

	if (lcap)
		looked[0] = '\0';
	n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	if (n < 0) {
		int err = errno;

		append(looked, lcap, "/proc/self/exe (unreadable)");
		return -err;
	}
	exe[n] = '\0';
	slash = strrchr(exe, '/');
	if (!slash)
		return -ENOENT;
	slash[1] = '\0';

	for (i = 0; i < sizeof(lib_dirs) / sizeof(lib_dirs[0]); i++) {
		int w = snprintf(cand, sizeof(cand), "%s%s%s", exe, lib_dirs[i],
				 SFY_LIBRARY_NAME);

		if (w < 0 || (size_t)w >= sizeof(cand))
			continue;
		/* Canonical, so LD_PRELOAD shows a clean path and the
		 * duplicate check in sfy_preload_value compares like with like. */
		if (is_regular(cand) && realpath(cand, real)) {
			if (strlen(real) >= cap)
				return -ENAMETOOLONG;
			strcpy(out, real);
			return 0;
		}
		append(looked, lcap, cand);
	}
	return -ENOENT;
}

/* What one candidate file says: 0 runnable, -ENOENT absent, -EISDIR a
 * directory, -EACCES present but not runnable. In a PATH search a file we
 * cannot even look at (its directory is not searchable for us) counts as
 * absent, as a shell does: "command not found" is the useful message. */
static int probe(const char *path, bool in_path)
{
	struct stat st;

	if (stat(path, &st) != 0)
		return errno == ENOENT || errno == ENOTDIR || in_path ?
			       -ENOENT : -EACCES;
	if (S_ISDIR(st.st_mode))
		return -EISDIR;
	if (!S_ISREG(st.st_mode))
		return -EACCES;
	return access(path, X_OK) == 0 ? 0 : -EACCES;
}

/* The runnable candidate into out (cap > 0). */
static int found(const char *cand, char *out, size_t cap)
{
	if (strlen(cand) >= cap)
		return -ENAMETOOLONG;
	strcpy(out, cand);
	return 0;
}

int sfy_find_program(const char *name, char *out, size_t cap)
{
	const char *path, *p;
	char cand[PATH_MAX];
	int best = -ENOENT, r;

	if (!*name)
		return -ENOENT;
	if (strchr(name, '/')) {
		r = probe(name, false);
		return r ? r : found(name, out, cap);
	}

	path = getenv("PATH");
	if (!path)
		path = "/bin:/usr/bin"; /* glibc execvp's default */
	for (p = path;; ) {
		const char *end = strchrnul(p, ':');
		size_t len = (size_t)(end - p);
		int w;

		/* An empty element means the current directory (POSIX). */
		if (len == 0)
			w = snprintf(cand, sizeof(cand), "%s", name);
		else
			w = snprintf(cand, sizeof(cand), "%.*s/%s", (int)len, p,
				     name);
		if (w > 0 && (size_t)w < sizeof(cand)) {
			r = probe(cand, true);
			if (r == 0)
				return found(cand, out, cap);
			/* execvp too keeps searching past EACCES, and
			 * reports it only when nothing runnable is found. */
			if (r == -EACCES || r == -EISDIR)
				best = -EACCES;
		}
		if (!*end)
			break;
		p = end + 1;
	}
	return best;
}
