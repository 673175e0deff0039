/*
 * LD_PRELOAD composition. ld.so splits the list on spaces and colons; we
 * write spaces, and keep every other entry in its order so that a program
 * already run under another preload (a sanitizer runtime, a profiler) keeps
 * it. One exception to "ours first": a sanitizer runtime must stay the
 * very first object (ASan aborts otherwise), so such entries keep the lead.
 */
#include <limits.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "tool.h"

/* True for this very file (when lib is given), or for any other
 * libsocksify.so. */
static bool is_ours(const char *entry, size_t len, const char *lib)
{
	const size_t nlen = strlen(SFY_LIBRARY_NAME);
	char buf[PATH_MAX], real[PATH_MAX];

	if (len >= nlen && memcmp(entry + len - nlen, SFY_LIBRARY_NAME, nlen) == 0 &&
	    (len == nlen || entry[len - nlen - 1] == '/'))
		return true;
	if (!lib || len >= sizeof(buf))
		return false;
	memcpy(buf, entry, len);
	buf[len] = '\0';
	return realpath(buf, real) && strcmp(real, lib) == 0;
}

/* libasan.so.8, libclang_rt.asan-x86_64.so, libtsan.so.2, ... */
static bool is_sanitizer(const char *entry, size_t len)
{
	static const char *const prefixes[] = {
		"libasan.", "libtsan.", "liblsan.", "libubsan.", "libhwasan.",
		"libclang_rt.",
	};
	const char *base = memrchr(entry, '/', len);
	size_t i, blen;

	base = base ? base + 1 : entry;
	blen = len - (size_t)(base - entry);
	for (i = 0; i < sizeof(prefixes) / sizeof(prefixes[0]); i++) {
		size_t plen = strlen(prefixes[i]);

		if (blen > plen && memcmp(base, prefixes[i], plen) == 0)
			return true;
	}
	return false;
}

enum keep { KEEP_SANITIZERS, KEEP_OTHERS, KEEP_ALL };

/* Appends the old entries of the kind asked for, in their order, never
 * ours. */
static size_t copy_entries(char *out, size_t used, const char *old,
			   const char *lib, enum keep keep)
{
	const char *p;

	for (p = old; p && *p;) {
		size_t len = strcspn(p, " :");

		if (len && !is_ours(p, len, lib) &&
		    (keep == KEEP_ALL ||
		     is_sanitizer(p, len) == (keep == KEEP_SANITIZERS))) {
			if (used)
				out[used++] = ' ';
			memcpy(out + used, p, len);
			used += len;
		}
		p += len;
		p += strspn(p, " :");
	}
	return used;
}

char *sfy_preload_value(const char *link, const char *lib, const char *old)
{
	size_t cap = (link ? strlen(link) + 1 : 0) + strlen(lib) +
		     (old ? strlen(old) : 0) + 3;
	char *out = malloc(cap);
	size_t used;

	if (!out)
		return NULL;
	used = copy_entries(out, 0, old, lib, KEEP_SANITIZERS);
	if (used)
		out[used++] = ' ';
	if (link) {
		memcpy(out + used, link, strlen(link));
		used += strlen(link);
		out[used++] = ' ';
	}
	memcpy(out + used, lib, strlen(lib));
	used += strlen(lib);
	used = copy_entries(out, used, old, lib, KEEP_OTHERS);
	out[used] = '\0';
	return out;
}

/* In the old order: --off puts back what was there. */
char *sfy_preload_without(const char *old, const char *lib)
{
	char *out = malloc((old ? strlen(old) : 0) + 1);

	if (!out)
		return NULL;
	out[copy_entries(out, 0, old, lib, KEEP_ALL)] = '\0';
	return out;
}
