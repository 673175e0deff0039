/*
 * socksify [options] [--] command [args...]
 *
 * Validates the proxy configuration, sets the environment the preload
 * library reads (DESIGN: "Environment"), puts libsocksify.so first in
 * LD_PRELOAD and execs the program. Everything that can be wrong is found
 * here, before exec, and said once with the password masked: a typo in a
 * URL should not surface later as a puzzling ECONNREFUSED inside curl.
 *
 * Exit status: the program's own; 2 for a usage or configuration error;
 * 1 when the library cannot be found; 126/127 as a shell says them.
 */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "../client/socks5.h"
#include "tool.h"

#define EXIT_USAGE 2
#define EXIT_NOLIB 1
#define EXIT_NOEXEC 126
#define EXIT_NOTFOUND 127

/* SOCKSIFY_LOG names, indexed by level; warn is the library's default. */
static const char *const log_names[] = { "error", "warn", "info", "debug" };
#define LOG_DEFAULT 1

struct opts {
	char *proxy;          /* -x values joined by commas, or NULL */
	size_t nhops;         /* hops validated so far */
	char *no_proxy;       /* -n values joined by commas, or NULL */
	int level;            /* LOG_DEFAULT - q + v, clamped */
	bool level_set;
};

static void usage(FILE *f)
{
	fputs("Usage: socksify [options] [--] command [args...]\n"
	      "Run a program with its TCP connections and DNS going through a\n"
	      "SOCKS5 proxy (LD_PRELOAD of libsocksify.so).\n"
	      "\n"
	      "Options (they stop at the first non-option, so the program's own\n"
	      "options are left alone):\n"
	      "  -x, --proxy URL      socks5://[user[:pass]@]host[:port] (local DNS) or\n"
	      "                       socks5h://... (the proxy resolves names); port\n"
	      "                       defaults to 1080, IPv6 hosts in brackets. Repeat,\n"
	      "                       or give a comma list, for a chain (first hop first).\n"
	      "  -n, --no-proxy LIST  destinations that go direct: comma list of CIDRs,\n"
	      "                       host names, .suffix, or *; an empty LIST proxies\n"
	      "                       everything, loopback included\n"
	      "  -q                   log errors only\n"
	      "  -v                   log more (-v: info, -vv: debug)\n"
	      "      --help           show this help and exit\n"
	      "      --version        show the version and exit\n"
	      "\n"
	      "Without -x, SOCKSIFY_PROXY is used, else ALL_PROXY when it is a\n"
	      "socks5:// or socks5h:// URL. Without -n, SOCKSIFY_NO_PROXY, else\n"
	      "NO_PROXY, else loopback goes direct.\n"
	      "\n"
	      "Exit status: the program's; 2 for bad usage or configuration, 1 when\n"
	      "libsocksify.so is missing, 126 when the program cannot run, 127 when\n"
	      "it is not found.\n", f);
}

static void __attribute__((noreturn)) die_usage(const char *fmt, const char *arg)
{
	fputs("socksify: ", stderr);
	fprintf(stderr, fmt, arg);
	fputs("\nTry 'socksify --help' for more information.\n", stderr);
	exit(EXIT_USAGE);
}

static void __attribute__((noreturn)) die_oom(void)
{
	fputs("socksify: out of memory\n", stderr);
	exit(EXIT_USAGE);
}

/* Appends text to a comma list; an empty text adds nothing, so that
 * `-n ''` alone yields the empty list ("proxy everything"). */
static char *list_append(char *list, const char *text)
{
	size_t old = list ? strlen(list) : 0;
	char *out;

	if (list && !*text)
		return list;
	out = realloc(list, old + strlen(text) + 2);
	if (!out)
		die_oom();
	if (old && *text)
		out[old++] = ',';
	strcpy(out + old, text);
	return out;
}

static void __attribute__((noreturn)) die_too_many(size_t nhops)
{
	fprintf(stderr, "socksify: -x: %zu proxies in all; a chain has at most %d hops\n",
		nhops, SOCKS5_CHAIN_MAX);
	exit(EXIT_USAGE);
}

/*
 * Parses a proxy list with libsocks5's parser, the same one the library
 * will use, and returns how many hops it has; on error says why (the
 * parser already masks any password) and exits. Credentials are wiped from
 * the parsed copies: only the environment needs them.
 */
static size_t validate(const char *what, const char *list, size_t max)
{
	struct socks5_proxy hops[SOCKS5_CHAIN_MAX];
	char err[512];
	enum socks5_status st;
	size_t n = 0, i;

	err[0] = '\0';
	st = socks5_url_parse_chain(list, hops, max, &n, err, sizeof(err));
	if (st != SOCKS5_OK) {
		fprintf(stderr, "socksify: %s: %s\n", what,
			err[0] ? err : socks5_strerror(st));
		exit(EXIT_USAGE);
	}
	for (i = 0; i < n; i++)
		socks5_proxy_wipe(&hops[i]);
	return n;
}

static bool is_socks_url(const char *url)
{
	return strncasecmp(url, "socks5://", 9) == 0 ||
	       strncasecmp(url, "socks5h://", 10) == 0;
}

/* The proxy from the environment when no -x was given: which variable,
 * after checking that it holds something the library will accept. */
static const char *env_proxy(void)
{
	static const char *const vars[] = { "ALL_PROXY", "all_proxy" };
	const char *v = getenv("SOCKSIFY_PROXY");
	size_t i;

	if (v) {
		validate("SOCKSIFY_PROXY", v, SOCKS5_CHAIN_MAX);
		return "SOCKSIFY_PROXY";
	}
	for (i = 0; i < sizeof(vars) / sizeof(vars[0]); i++) {
		v = getenv(vars[i]);
		if (v && *v) {
			if (!is_socks_url(v))
				return NULL;
			validate(vars[i], v, SOCKS5_CHAIN_MAX);
			return vars[i];
		}
	}
	return NULL;
}

/* The option getopt stopped at, as the user wrote it: "-z" out of a
 * bundle such as "-qz", or "--frob" without any "=value". */
static const char *option_name(const char *arg)
{
	static char name[64];

	if (optopt && strncmp(arg, "--", 2) != 0) {
		snprintf(name, sizeof(name), "-%c", optopt);
		return name;
	}
	snprintf(name, sizeof(name), "%.*s", (int)strcspn(arg, "="), arg);
	return name;
}

static int parse_options(int argc, char **argv, struct opts *o)
{
	enum { OPT_HELP = 256, OPT_VERSION };
	static const struct option longopts[] = {
		{ "proxy", required_argument, NULL, 'x' },
		{ "no-proxy", required_argument, NULL, 'n' },
		{ "quiet", no_argument, NULL, 'q' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, OPT_HELP },
		{ "version", no_argument, NULL, OPT_VERSION },
		{ NULL, 0, NULL, 0 },
	};
	int c;

	o->level = LOG_DEFAULT;
	opterr = 0; /* our own messages, with the --help hint */
	/* '+': stop at the first non-option, whatever POSIXLY_CORRECT says,
	 * so `socksify -x URL curl -v` hands -v to curl. */
	while ((c = getopt_long(argc, argv, "+:x:n:qv", longopts, NULL)) != -1) {
		switch (c) {
		case 'x':
			o->nhops += validate("-x", optarg, SOCKS5_CHAIN_MAX);
			if (o->nhops > SOCKS5_CHAIN_MAX)
				die_too_many(o->nhops);
			o->proxy = list_append(o->proxy, optarg);
			break;
		case 'n':
			o->no_proxy = list_append(o->no_proxy, optarg);
			break;
		case 'q':
			o->level = o->level > 0 ? o->level - 1 : 0;
			o->level_set = true;
			break;
		case 'v':
			o->level = o->level < 3 ? o->level + 1 : 3;
			o->level_set = true;
			break;
		case OPT_HELP:
			usage(stdout);
			exit(0);
		case OPT_VERSION:
			puts("socksify " SOCKSIFY_VERSION);
			exit(0);
		case ':':
			die_usage("option '%s' needs an argument",
				  option_name(argv[optind - 1]));
		default:
			die_usage("unknown option '%s'",
				  option_name(argv[optind - 1]));
		}
	}
	return optind;
}

/* -v: what is about to happen, each proxy with its password masked. */
static void say_plan(const char *source, const char *list, const char *lib,
		     const char *prog)
{
	struct socks5_proxy hops[SOCKS5_CHAIN_MAX];
	char url[600];
	size_t n = 0, i;

	if (socks5_url_parse_chain(list, hops, SOCKS5_CHAIN_MAX, &n, NULL, 0) !=
	    SOCKS5_OK)
		return;
	for (i = 0; i < n; i++) {
		socks5_url_format(&hops[i], url, sizeof(url));
		socks5_proxy_wipe(&hops[i]);
		fprintf(stderr, "socksify: hop %zu: %s (from %s)\n", i + 1, url,
			source);
	}
	fprintf(stderr, "socksify: preloading %s into %s\n", lib, prog);
}

static void set_env(const char *name, const char *value)
{
	if (setenv(name, value, 1) != 0)
		die_oom();
}

int main(int argc, char **argv)
{
	struct opts o = { 0 };
	char lib[PATH_MAX], looked[2048];
	const char *source = "-x";
	char *preload;
	int first, r;

	first = parse_options(argc, argv, &o);
	if (first >= argc)
		die_usage("%s", "no command given");

	if (!o.proxy) {
		source = env_proxy();
		if (!source) {
			fputs("socksify: no proxy given: use -x socks5h://HOST:PORT, or set "
			      "SOCKSIFY_PROXY (or ALL_PROXY to a socks5:// or socks5h:// URL)\n",
			      stderr);
			return EXIT_USAGE;
		}
	}

	r = sfy_find_library(lib, sizeof(lib), looked, sizeof(looked));
	if (r < 0) {
		fprintf(stderr, "socksify: cannot find %s (looked for %s): %s\n",
			SFY_LIBRARY_NAME, looked, strerror(-r));
		return EXIT_NOLIB;
	}
	/* ld.so splits LD_PRELOAD on both; such a path cannot be preloaded. */
	if (strpbrk(lib, " :")) {
		fprintf(stderr, "socksify: cannot preload %s: its path contains a space or colon\n",
			lib);
		return EXIT_NOLIB;
	}

	r = sfy_find_program(argv[first]);
	if (r == -ENOENT) {
		fprintf(stderr, strchr(argv[first], '/') ?
			"socksify: %s: No such file or directory\n" :
			"socksify: %s: command not found\n", argv[first]);
		return EXIT_NOTFOUND;
	}
	if (r < 0) {
		fprintf(stderr, "socksify: %s: %s\n", argv[first], strerror(-r));
		return EXIT_NOEXEC;
	}

	if (o.proxy)
		set_env("SOCKSIFY_PROXY", o.proxy);
	if (o.no_proxy)
		set_env("SOCKSIFY_NO_PROXY", o.no_proxy);
	if (o.level_set)
		set_env("SOCKSIFY_LOG", log_names[o.level]);
	preload = sfy_preload_value(lib, getenv("LD_PRELOAD"));
	if (!preload)
		die_oom();
	set_env("LD_PRELOAD", preload);
	if (o.level >= 2)
		say_plan(source, o.proxy ? o.proxy : getenv(source), lib,
			 argv[first]);
	free(preload);
	if (o.proxy)
		explicit_bzero(o.proxy, strlen(o.proxy));
	free(o.proxy);
	free(o.no_proxy);

	execvp(argv[first], argv + first);
	r = errno;
	fprintf(stderr, "socksify: %s: %s\n", argv[first], strerror(r));
	return r == ENOENT ? EXIT_NOTFOUND : EXIT_NOEXEC;
}
