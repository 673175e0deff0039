/*
 * The run mode: find the program, say whether LD_PRELOAD can reach it,
 * set the environment, exec.
 *
 * A static program never reads LD_PRELOAD, and a Go program makes its own
 * connect system calls: socksify cannot catch their traffic, and running
 * them as if it could would let connections go direct without a word. So
 * they are named on stderr before exec (and refused with --strict). For Go,
 * whose net/http honours HTTP_PROXY/HTTPS_PROXY with a socks5:// URL, those
 * variables are set too, and the message says that the rest of the
 * program's traffic is not covered.
 *
 * Everything else inherits LD_PRELOAD and the SOCKSIFY_* variables, so
 * programs started by the program (a shell script's commands, say) are
 * socksified as well, unless something clears the environment on the way.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "socks5.h"
#include "tool.h"

static void set_env(const char *name, const char *value)
{
	if (setenv(name, value, 1) != 0) {
		fputs("socksify: out of memory\n", stderr);
		exit(SFY_EXIT_USAGE);
	}
}

/* -vv: what is about to happen, each proxy with its password masked. */
static void say_plan(const struct sfy_settings *s, const char *lib,
		     const char *prog)
{
	struct socks5_proxy *hops = calloc(SOCKS5_CHAIN_MAX, sizeof(*hops));
	char url[SOCKS5_URL_SHOWN_MAX];
	size_t n = 0, i;

	if (!hops || socks5_url_parse_chain(s->proxy, hops, SOCKS5_CHAIN_MAX,
					    &n, NULL, 0) != SOCKS5_OK) {
		free(hops);
		return;
	}
	for (i = 0; i < n; i++) {
		socks5_url_format(&hops[i], url, sizeof(url));
		socks5_proxy_wipe(&hops[i]);
		fprintf(stderr, "socksify: hop %zu: %s (from %s)\n", i + 1, url,
			s->source);
	}
	free(hops);
	fprintf(stderr, "socksify: preloading %s into %s\n", lib, prog);
}

/* The single proxy as the Go variables show it, password masked. */
static void masked_go_url(const struct sfy_settings *s, char *buf, size_t cap)
{
	struct socks5_proxy p;
	char url[SOCKS5_URL_SHOWN_MAX];

	buf[0] = '\0';
	if (socks5_url_parse(s->proxy, &p, NULL, 0) != SOCKS5_OK)
		return;
	p.remote_dns = false; /* the Go URL is socks5:// */
	socks5_url_format(&p, url, sizeof(url));
	socks5_proxy_wipe(&p);
	snprintf(buf, cap, "%s", url);
}

/* Static and Go programs: say so, set Go's variables; false to refuse. */
static bool unreachable_program(const struct sfy_settings *s,
				struct sfy_env *env, const char *prog,
				enum socks5_elf_kind kind)
{
	bool quiet = s->level_set && s->level == 0;
	char shown[SOCKS5_URL_SHOWN_MAX];
	char *go_url;

	if (kind == SOCKS5_ELF_STATIC) {
		if (s->strict) {
			fprintf(stderr, "socksify: %s is statically linked: LD_PRELOAD cannot reach it, so its connections would not go through the proxy; refused (--strict)\n",
				prog);
			return false;
		}
		if (!quiet)
			fprintf(stderr, "socksify: warning: %s is statically linked: LD_PRELOAD cannot reach it, so its connections do NOT go through the proxy (--strict refuses to run such programs)\n",
				prog);
		return true;
	}
	if (s->strict) {
		fprintf(stderr, "socksify: %s is a Go program: Go makes its own system calls, so socksify cannot catch its connections; refused (--strict)\n",
			prog);
		return false;
	}
	go_url = sfy_go_proxy_url(s);
	if (go_url) {
		sfy_env_add(env, "HTTP_PROXY", go_url);
		sfy_env_add(env, "HTTPS_PROXY", go_url);
		sfy_env_add(env, "ALL_PROXY", go_url);
		if (s->no_proxy && *s->no_proxy)
			sfy_env_add(env, "NO_PROXY", s->no_proxy);
		explicit_bzero(go_url, strlen(go_url));
		free(go_url);
		masked_go_url(s, shown, sizeof(shown));
		if (!quiet)
			fprintf(stderr, "socksify: warning: %s is a Go program: Go makes its own system calls, so socksify cannot catch its connections. HTTP_PROXY, HTTPS_PROXY and ALL_PROXY are set to %s for Go's HTTP client; any other traffic of this program (other TCP, DNS, UDP) does NOT go through the proxy (--strict refuses to run such programs)\n",
				prog, shown);
	} else if (!quiet) {
		fprintf(stderr, "socksify: warning: %s is a Go program: Go makes its own system calls, so socksify cannot catch its connections, and Go's proxy variables cannot express a chain of proxies: none of its traffic goes through the proxy (--strict refuses to run such programs)\n",
			prog);
	}
	return true;
}

/* socksify itself is linked statically (Makefile), but what matters for
 * a nested `socksify ... socksify ... PROGRAM` is that it passes
 * LD_PRELOAD on to the program it runs: no warning for it. */
static bool is_self(const char *path)
{
	struct stat a, b;

	return stat(path, &a) == 0 && stat("/proc/self/exe", &b) == 0 &&
	       a.st_dev == b.st_dev && a.st_ino == b.st_ino;
}

int sfy_run(const struct sfy_settings *s, const char *lib, char **argv)
{
	/* the program's name in messages: a proxy URL given here by
	 * mistake (no -x) keeps its password out of them */
	const char *prog = sfy_arg_shown(argv[0]);
	struct sfy_env env = { 0 };
	enum socks5_elf_kind kind = SOCKS5_ELF_OTHER;
	char path[PATH_MAX], sdir[PATH_MAX], slink[PATH_MAX], *preload;
	const char *link = NULL;
	size_t i;
	int r;

	r = sfy_find_program(argv[0], path, sizeof(path));
	if (r == -ENOENT) {
		fprintf(stderr, strchr(argv[0], '/') ?
			"socksify: %s: No such file or directory\n" :
			"socksify: %s: command not found\n", prog);
		return SFY_EXIT_NOTFOUND;
	}
	if (r < 0) {
		fprintf(stderr, "socksify: %s: %s\n", prog, strerror(-r));
		return SFY_EXIT_NOEXEC;
	}

	sfy_env_from_settings(&env, s, false);
	/* Unreadable (execute-only) programs are simply run. */
	if (sfy_elf_probe(path, &kind) == 0 && kind != SOCKS5_ELF_OTHER &&
	    kind != SOCKS5_ELF_DYNAMIC && !(kind == SOCKS5_ELF_STATIC && is_self(path)) &&
	    !unreachable_program(s, &env, prog, kind)) {
		sfy_env_free(&env);
		return SFY_EXIT_STRICT;
	}
	for (i = 0; i < env.n; i++) {
		if (env.value[i])
			set_env(env.name[i], env.value[i]);
		else
			unsetenv(env.name[i]);
	}
	sfy_env_free(&env);
	/* One name space for every process the program starts. Without a
	 * session each program image keeps its own names (addresses from
	 * one are refused in another). */
	r = sfy_session_start(lib, getpid(), sdir, sizeof(sdir), slink,
			      sizeof(slink));
	if (r == 0) {
		set_env("SOCKSIFY_SESSION", sdir);
		sfy_session_save_settings(sdir);
		link = slink;
	} else if (s->level >= 1) {
		fprintf(stderr, "socksify: warning: no session directory (%s): names resolved in one program are unknown to the programs it starts\n",
			strerror(-r));
	}
	preload = sfy_preload_value(link, lib, getenv("LD_PRELOAD"));
	if (!preload) {
		fputs("socksify: out of memory\n", stderr);
		return SFY_EXIT_USAGE;
	}
	set_env("LD_PRELOAD", preload);
	free(preload);
	if (s->level >= 2)
		say_plan(s, lib, prog);
	r = sfy_refuse_io_uring(s); /* ioring.c */
	if (r)
		return r;

	execvp(argv[0], argv);
	r = errno;
	fprintf(stderr, "socksify: %s: %s\n", prog, strerror(r));
	return r == ENOENT ? SFY_EXIT_NOTFOUND : SFY_EXIT_NOEXEC;
}
