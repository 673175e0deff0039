/*
 * LD_PRELOAD composition. ld.so splits the list on spaces and colons; we
 * write spaces, and keep every other entry in its order so that a program
 * already run under another preload (a sanitizer runtime, a profiler) keeps
 * it.
 */
#include <limits.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "tool.h"

/* True for this very file, or for any other libsocksify.so. */
static bool is_ours(const char *entry, size_t len, const char *lib)
{
	const size_t nlen = strlen(SFY_LIBRARY_NAME);
	char buf[PATH_MAX], real[PATH_MAX];

	if (len >= nlen && memcmp(entry + len - nlen, SFY_LIBRARY_NAME, nlen) == 0 &&
	    (len == nlen || entry[len - nlen - 1] == '/'))
		return true;
	if (len >= sizeof(buf))
		return false;
	memcpy(buf, entry, len);
	buf[len] = '\0';
	return realpath(buf, real) && strcmp(real, lib) == 0;
}

char *sfy_preload_value(const char *lib, const char *old)
{
	size_t cap = strlen(lib) + (old ? strlen(old) : 0) + 2;
	char *out = malloc(cap);
	size_t used;
	const char *p;

	if (!out)
		return NULL;
	strcpy(out, lib);
	used = strlen(lib);
	for (p = old; p && *p;) {
		size_t len = strcspn(p, " :");

		if (len && !is_ours(p, len, lib)) {
			out[used++] = ' ';
			memcpy(out + used, p, len);
			used += len;
		}
		p += len;
		p += strspn(p, " :");
	}
	out[used] = '\0';
	return out;
}
