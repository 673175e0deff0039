/*
 * Shell mode:
 *
 *	eval "$(socksify --env -x socks5h://proxy:1080)"   on
 *	eval "$(socksify --env --off)"                       off
 *
 * "on" prints exports of the SOCKSIFY_* settings and of LD_PRELOAD with
 * the library first (existing entries kept, never twice). Every program
 * started from the shell afterwards is socksified; the shell process
 * itself was loaded before and is not (its /dev/tcp redirections go
 * direct).
 *
 * "off" has to put LD_PRELOAD back exactly. The first "on" in a shell
 * records the old state: SOCKSIFY_ENV=1 says shell mode is on, and
 * SOCKSIFY_ENV_LD_PRELOAD holds the old value (absent when LD_PRELOAD was
 * unset). "off" restores that value (or unsets LD_PRELOAD) when the
 * entries other than ours are still the recorded ones; when the user has
 * changed LD_PRELOAD since, it removes only our library and keeps the
 * rest as it is now. Then it unsets every SOCKSIFY_* variable.
 *
 * "on" also starts a session (session.c) for the shell: SOCKSIFY_SESSION
 * names its directory and LD_PRELOAD the link to the library inside it,
 * so every program of the shell shares one name space. The session ends
 * with the process that ran us: for `eval "$(socksify --env ...)"` in
 * bash, dash and zsh that is the shell itself (a lone command in $(...)
 * is exec'd by the subshell, whose parent is the shell); a shell that
 * keeps an extra subshell in between ends the session at once. The
 * shell's programs then still load the library, from the entry after the
 * session's link in LD_PRELOAD (sfy_preload_value), each with a name
 * space of its own; ld.so prints a line for the missing link.
 *
 * Output is plain sh (export NAME='value' / unset NAME), for bash, dash,
 * zsh and ksh alike.
 */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tool.h"

#define MARK "SOCKSIFY_ENV"
#define SAVED "SOCKSIFY_ENV_LD_PRELOAD"

extern char **environ;

void sfy_shell_quote(FILE *f, const char *value)
{
	const char *p;

	/* Inside single quotes everything is literal except the quote
	 * itself, which is closed, escaped and reopened: 'it'\''s'. */
	fputc('\'', f);
	for (p = value; *p; p++) {
		if (*p == '\'')
			fputs("'\\''", f);
		else
			fputc(*p, f);
	}
	fputc('\'', f);
}

static void export(const char *name, const char *value)
{
	printf("export %s=", name);
	sfy_shell_quote(stdout, value);
	putchar('\n');
}

int sfy_shell_on(const struct sfy_settings *s, const char *lib)
{
	struct sfy_env env = { 0 };
	const char *old = getenv("LD_PRELOAD");
	char sdir[PATH_MAX], slink[PATH_MAX], *preload;
	const char *link = NULL;
	size_t i;

	/* Only the first "on" records: a second one (another proxy) must
	 * not take our own LD_PRELOAD for the user's. */
	if (!getenv(MARK)) {
		if (old)
			export(SAVED, old);
		else
			printf("unset %s\n", SAVED);
		export(MARK, "1");
	}
	sfy_env_from_settings(&env, s, true);
	for (i = 0; i < env.n; i++) {
		if (env.value[i])
			export(env.name[i], env.value[i]);
		else
			printf("unset %s\n", env.name[i]);
	}
	sfy_env_free(&env);
	if (sfy_session_start(lib, getppid(), sdir, sizeof(sdir), slink,
			      sizeof(slink)) == 0) {
		export("SOCKSIFY_SESSION", sdir);
		link = slink;
	}
	preload = sfy_preload_value(link, lib, old);
	if (!preload) {
		fputs("socksify: out of memory\n", stderr);
		return SFY_EXIT_USAGE;
	}
	export("LD_PRELOAD", preload);
	free(preload);
	return fflush(stdout) == 0 ? 0 : SFY_EXIT_USAGE;
}

/* Same entries, ours left out on both sides? */
static bool unchanged_since_on(const char *now, const char *saved)
{
	char *a = sfy_preload_without(now, NULL);
	char *b = sfy_preload_without(saved, NULL);
	bool same = a && b && !strcmp(a, b);

	free(a);
	free(b);
	return same;
}

static void restore_preload(void)
{
	const char *now = getenv("LD_PRELOAD");
	const char *saved = getenv(SAVED);
	char *rest;

	if (getenv(MARK) && unchanged_since_on(now, saved)) {
		if (saved)
			export("LD_PRELOAD", saved);
		else
			puts("unset LD_PRELOAD");
		return;
	}
	rest = sfy_preload_without(now, NULL);
	if (!rest) {
		fputs("socksify: out of memory\n", stderr);
		exit(SFY_EXIT_USAGE);
	}
	if (!now)
		; /* nothing to change */
	else if (*rest)
		export("LD_PRELOAD", rest);
	else
		puts("unset LD_PRELOAD");
	free(rest);
}

/* A name the shell accepts in `unset`: [A-Za-z_][A-Za-z0-9_]*. */
static bool shell_name(const char *s, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++) {
		char c = s[i];

		if (!(c == '_' || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
		      (i && c >= '0' && c <= '9')))
			return false;
	}
	return len > 0;
}

int sfy_shell_off(void)
{
	char **e;

	restore_preload();
	for (e = environ; *e; e++) {
		size_t len = strcspn(*e, "=");

		if (!strncmp(*e, "SOCKSIFY_", 9) && shell_name(*e, len))
			printf("unset %.*s\n", (int)len, *e);
	}
	return fflush(stdout) == 0 ? 0 : SFY_EXIT_USAGE;
}
