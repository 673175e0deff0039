/*
 * socksify [options] [--] command [args...]
 * socksify --check [options] [HOST:PORT]
 * socksify --env [options]  |  socksify --env --off
 *
 * Validates the proxy configuration, sets the environment the preload
 * library reads (DESIGN: "Environment"), puts libsocksify.so first in
 * LD_PRELOAD and execs the program. Everything that can be wrong is found
 * here, before exec, and said once with the password masked: a typo in a
 * URL should not surface later as a puzzling ECONNREFUSED inside curl. So
 * is a program LD_PRELOAD cannot reach (static, Go): see elfprobe.c.
 *
 * Exit status: the program's own; 1 when the library cannot be found;
 * 2 for a usage or configuration error; 3 when --strict refuses a program
 * that cannot be socksified; 126/127 as a shell says them. --check: 0, 1,
 * 4 (check.c).
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

#include "proxychains_conf.h"
#include "socks5.h"
#include "tool.h"

enum mode { MODE_RUN, MODE_CHECK, MODE_ENV };

struct opts {
	enum mode mode;
	bool mode_set, off;
	char *proxy;          /* -x values joined by commas, or NULL */
	size_t nhops;         /* hops validated so far */
	char *proxy_arg[SOCKS5_CHAIN_MAX]; /* each -x value, inside argv */
	size_t nproxy_arg;
	char *no_proxy;       /* -n values joined by commas, or NULL */
	const char *conf;     /* -f FILE */
	int level;            /* SFY_LEVEL_DEFAULT - q + v, clamped */
	bool level_set;
	bool strict;
};

static void usage(FILE *f)
{
	fputs("Usage: socksify [options] [--] command [args...]\n"
	      "       socksify --check [options] [HOST:PORT]\n"
	      "       eval \"$(socksify --env [options])\"   |   eval \"$(socksify --env --off)\"\n"
	      "Run a program with its TCP connections, UDP datagrams and DNS going\n"
	      "through a SOCKS5 proxy (LD_PRELOAD of libsocksify.so).\n"
	      "\n"
	      "Options (they stop at the first non-option, so the program's own\n"
	      "options are left alone):\n"
	      "  -x, --proxy URL      socks5://[user[:pass]@]host[:port] (local DNS) or\n"
	      "                       socks5h://... (the proxy resolves names);\n"
	      "                       socks4://[user@]host[:port] (local DNS, IPv4\n"
	      "                       only), socks4a://... (the proxy resolves);\n"
	      "                       http://[user[:pass]@]host[:port] (HTTP CONNECT,\n"
	      "                       Basic auth, the proxy resolves); raw://host:port\n"
	      "                       (a TCP forwarder, asked nothing). Port defaults\n"
	      "                       to 1080, IPv6 hosts in brackets. Repeat, or give\n"
	      "                       a comma list, for a chain (first hop first, at\n"
	      "                       most 512); any type at any hop, UDP only with a\n"
	      "                       SOCKS5 first hop.\n"
	      "  -f, --config FILE    read a proxychains-ng configuration (proxychains.conf)\n"
	      "  -n, --no-proxy LIST  destinations that go direct: comma list of CIDRs\n"
	      "                       (ADDR:PORT/N for one port), host names, .suffix,\n"
	      "                       or *; an empty LIST proxies everything, loopback\n"
	      "                       included\n"
	      "  -q                   log errors only\n"
	      "  -v                   log more (-v: info, one line per connection;\n"
	      "                       -vv: debug)\n"
	      "      --strict         refuse programs socksify cannot reach (static or Go\n"
	      "                       binaries) and settings of -f it cannot honour exactly\n"
	      "      --check          probe the proxy step by step (reach, method, auth,\n"
	      "                       CONNECT to HOST:PORT when given, UDP ASSOCIATE and a\n"
	      "                       datagram) and report each step\n"
	      "      --env            print shell commands that socksify the current\n"
	      "                       shell's programs; with --off, undo them\n"
	      "      --help           show this help and exit\n"
	      "      --version        show the version and exit\n"
	      "\n"
	      "Without -x or -f, SOCKSIFY_PROXY is used, else ALL_PROXY when it is a\n"
	      "socks5:// or socks5h:// URL. Without -n, SOCKSIFY_NO_PROXY, else\n"
	      "NO_PROXY, else loopback goes direct.\n"
	      "\n"
	      "Chain modes (as proxychains-ng's; -f takes them from the file):\n"
	      "  SOCKSIFY_CHAIN=strict       every hop in order; a dead hop fails (default)\n"
	      "  SOCKSIFY_CHAIN=dynamic      every live hop in order; dead hops skipped\n"
	      "  SOCKSIFY_CHAIN=random       SOCKSIFY_CHAIN_LEN hops (default 1) drawn\n"
	      "                              at random from the live ones\n"
	      "  SOCKSIFY_CHAIN=round-robin  SOCKSIFY_CHAIN_LEN live hops in turn\n"
	      "A hop that fails is skipped for 1 s, doubling to 60 s while it keeps\n"
	      "failing (remembered by every program of this run); failover\n"
	      "stays within SOCKSIFY_TIMEOUT_MS, split evenly between the attempts.\n"
	      "\n"
	      "SOCKSIFY_BIND=auto (default) serves a socket that listens for a\n"
	      "connection back from a proxied host (active FTP) by SOCKS5 BIND at the\n"
	      "proxy; off keeps every listen() local.\n"
	      "SOCKSIFY_EARLY_DATA=on: where the proxy takes pipelined handshakes\n"
	      "(SOCKSIFY_PIPELINE), connect() returns before the proxy's reply and the\n"
	      "program's first write leaves with the handshake (one round trip saved);\n"
	      "a refusal shows at its next read, write or SO_ERROR. Off by default:\n"
	      "it saves one round trip on a connection's first byte only.\n"
	      "\n"
	      "Exit status: the program's; 1 when libsocksify.so is missing; 2 for bad\n"
	      "usage or configuration; 3 when --strict refuses the program; 126 when\n"
	      "it cannot run; 127 when it is not found. --check: 0 when everything\n"
	      "works, 1 when the proxy cannot be used, 4 when only UDP fails.\n", f);
}

static void __attribute__((noreturn)) die_usage(const char *fmt, const char *arg)
{
	fputs("socksify: ", stderr);
	fprintf(stderr, fmt, arg);
	fputs("\nTry 'socksify --help' for more information.\n", stderr);
	exit(SFY_EXIT_USAGE);
}

static void __attribute__((noreturn)) die_oom(void)
{
	fputs("socksify: out of memory\n", stderr);
	exit(SFY_EXIT_USAGE);
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
	fprintf(stderr, "socksify: -x: %zu proxies in all; a list holds at most %d\n",
		nhops, SOCKS5_CHAIN_MAX);
	exit(SFY_EXIT_USAGE);
}

/*
 * Parses a proxy list with libsocks5's parser, the same one the library
 * will use, and returns how many hops it has; on error says why (the
 * parser already masks any password) and exits. Credentials are wiped from
 * the parsed copies: only the environment needs them.
 */
static size_t validate(const char *what, const char *list, size_t max)
{
	/* The message quotes the URL (masked: "***" for each password, at
	 * most 2 bytes longer per hop) before the reason: room for all of
	 * it, so the reason is never cut off. */
	size_t cap = strlen(list) + 512;
	char *err = calloc(1, cap);
	enum socks5_status st;
	size_t n = 0;

	if (!err)
		die_oom();
	/* no room for the hops: checked one by one (512 would not fit a
	 * stack) */
	st = socks5_url_parse_chain(list, NULL, max, &n, err, cap);
	if (st != SOCKS5_OK) {
		fprintf(stderr, "socksify: %s: %s\n", what,
			err[0] ? err : socks5_strerror(st));
		exit(SFY_EXIT_USAGE);
	}
	free(err);
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

static void set_mode(struct opts *o, enum mode m)
{
	if (o->mode_set && o->mode != m)
		die_usage("%s", "--check and --env cannot be combined");
	o->mode = m;
	o->mode_set = true;
}

static int parse_options(int argc, char **argv, struct opts *o)
{
	enum { OPT_HELP = 256, OPT_VERSION, OPT_CHECK, OPT_ENV, OPT_OFF,
	       OPT_STRICT };
	static const struct option longopts[] = {
		{ "proxy", required_argument, NULL, 'x' },
		{ "no-proxy", required_argument, NULL, 'n' },
		{ "config", required_argument, NULL, 'f' },
		{ "quiet", no_argument, NULL, 'q' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "check", no_argument, NULL, OPT_CHECK },
		{ "env", no_argument, NULL, OPT_ENV },
		{ "off", no_argument, NULL, OPT_OFF },
		{ "strict", no_argument, NULL, OPT_STRICT },
		{ "help", no_argument, NULL, OPT_HELP },
		{ "version", no_argument, NULL, OPT_VERSION },
		{ NULL, 0, NULL, 0 },
	};
	int c;

	o->level = SFY_LEVEL_DEFAULT;
	opterr = 0; /* our own messages, with the --help hint */
	/* '+': stop at the first non-option, whatever POSIXLY_CORRECT says,
	 * so `socksify -x URL curl -v` hands -v to curl. */
	while ((c = getopt_long(argc, argv, "+:x:n:f:qv", longopts, NULL)) != -1) {
		switch (c) {
		case 'x':
			o->nhops += validate("-x", optarg, SOCKS5_CHAIN_MAX);
			if (o->nhops > SOCKS5_CHAIN_MAX)
				die_too_many(o->nhops);
			o->proxy = list_append(o->proxy, optarg);
			/* each -x adds a hop or more: at most CHAIN_MAX */
			o->proxy_arg[o->nproxy_arg++] = optarg;
			break;
		case 'n':
			o->no_proxy = list_append(o->no_proxy, optarg);
			break;
		case 'f':
			if (o->conf)
				die_usage("%s", "-f given twice");
			o->conf = optarg;
			break;
		case 'q':
			o->level = o->level > 0 ? o->level - 1 : 0;
			o->level_set = true;
			break;
		case 'v':
			o->level = o->level < 3 ? o->level + 1 : 3;
			o->level_set = true;
			break;
		case OPT_CHECK:
			set_mode(o, MODE_CHECK);
			break;
		case OPT_ENV:
			set_mode(o, MODE_ENV);
			break;
		case OPT_OFF:
			o->off = true;
			break;
		case OPT_STRICT:
			o->strict = true;
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

/* -f FILE: the proxychains settings, with -n added and -q/-v on top. */
static void apply_conf(const struct opts *o, struct sfy_settings *s)
{
	struct sfy_pc pc;
	char err[SFY_PC_MSG_MAX + 2048]; /* "FILE:LINE: " and a quoted URL */
	int i;

	if (o->proxy)
		die_usage("%s", "-f and -x both name the proxy: use one of them");
	if (sfy_pc_load(o->conf, o->strict, &pc, err, sizeof(err))) {
		fprintf(stderr, "socksify: -f: %s\n", err);
		exit(SFY_EXIT_USAGE);
	}
	for (i = 0; i < pc.nwarn && !(o->level_set && o->level == 0); i++)
		fprintf(stderr, "socksify: warning: %s\n", pc.warn[i]);
	if (pc.nwarn_more && !(o->level_set && o->level == 0))
		fprintf(stderr, "socksify: warning: %s: %d more warnings like these\n",
			o->conf, pc.nwarn_more);
	s->proxy = pc.proxy;
	pc.proxy = NULL;
	s->source = "-f";
	s->proxy_given = true;
	s->no_proxy = list_append(NULL, pc.no_proxy);
	if (o->no_proxy)
		s->no_proxy = list_append(s->no_proxy, o->no_proxy);
	if (pc.quiet && !o->level_set) {
		s->level = 0;
		s->level_set = true;
	}
	s->dns = pc.remote_dns ? 1 : 0;
	s->timeout_ms = pc.timeout_ms;
	snprintf(s->fake_net, sizeof(s->fake_net), "%s", pc.fake_net);
	s->dnat = pc.dnat;
	pc.dnat = NULL;
	s->chain_mode = pc.chain_mode;
	s->chain_len = pc.chain_len;
	sfy_pc_free(&pc);
}

/* SOCKSIFY_PROXY_FILE (no -x, no -f): checked and read here as the
 * library will, so a problem is said before anything runs. */
static bool proxy_file(struct sfy_settings *s)
{
	const char *path = getenv("SOCKSIFY_PROXY_FILE");
	char err[PATH_MAX + 512];

	if (!path || !*path)
		return false;
	if (getenv("SOCKSIFY_PROXY") && *getenv("SOCKSIFY_PROXY")) {
		fputs("socksify: SOCKSIFY_PROXY and SOCKSIFY_PROXY_FILE are both set; set only one of the two\n",
		      stderr);
		exit(SFY_EXIT_USAGE);
	}
	s->proxy = sfy_read_proxy_file(path, err, sizeof(err));
	if (!s->proxy) {
		fprintf(stderr, "socksify: %s\n", err);
		exit(SFY_EXIT_USAGE);
	}
	validate("SOCKSIFY_PROXY_FILE", s->proxy, SOCKS5_CHAIN_MAX);
	s->source = "SOCKSIFY_PROXY_FILE";
	s->proxy_file = path;
	return true;
}

/* Options, -f and the environment, merged. Exits on any error. */
static void settle(const struct opts *o, struct sfy_settings *s)
{
	memset(s, 0, sizeof(*s));
	s->level = o->level;
	s->level_set = o->level_set;
	s->strict = o->strict;
	s->dns = -1;
	s->chain_mode = -1;
	if (o->conf) {
		apply_conf(o, s);
		return;
	}
	s->no_proxy = o->no_proxy ? list_append(NULL, o->no_proxy) : NULL;
	if (o->proxy) {
		s->proxy = list_append(NULL, o->proxy);
		s->source = "-x";
		s->proxy_given = true;
		return;
	}
	if (proxy_file(s))
		return;
	s->source = env_proxy();
	if (!s->source) {
		fputs("socksify: no proxy given: use -x socks5h://HOST:PORT, -f proxychains.conf, or set "
		      "SOCKSIFY_PROXY (or ALL_PROXY to a socks5:// or socks5h:// URL)\n",
		      stderr);
		exit(SFY_EXIT_USAGE);
	}
	s->proxy = list_append(NULL, getenv(s->source));
}

/* SOCKSIFY_CHAIN and SOCKSIFY_CHAIN_LEN from the environment (unless -f
 * named the mode), checked as the library will read them. */
static void check_chain_setting(const struct sfy_settings *s)
{
	char err[256];
	size_t len;
	int mode;

	if (s->chain_mode >= 0)
		return;
	if (sfy_chain_setting(getenv("SOCKSIFY_CHAIN"),
			      getenv("SOCKSIFY_CHAIN_LEN"),
			      validate(s->source, s->proxy, SOCKS5_CHAIN_MAX),
			      &mode, &len, err, sizeof(err))) {
		fprintf(stderr, "socksify: %s\n", err);
		exit(SFY_EXIT_USAGE);
	}
}

static void find_library(char *lib, size_t cap)
{
	char looked[3 * PATH_MAX + 16]; /* every candidate, whole */
	int r = sfy_find_library(lib, cap, looked, sizeof(looked));

	if (r < 0) {
		fprintf(stderr, "socksify: cannot find %s (looked for %s): %s\n",
			SFY_LIBRARY_NAME, looked, strerror(-r));
		exit(SFY_EXIT_NOLIB);
	}
	/* ld.so splits LD_PRELOAD on both; such a path cannot be preloaded. */
	if (strpbrk(lib, " :")) {
		fprintf(stderr, "socksify: cannot preload %s: its path contains a space or colon\n",
			lib);
		exit(SFY_EXIT_NOLIB);
	}
}

/*
 * --check talks to the proxy itself, so it must not run with our own
 * library preloaded (a shell socksified with --env gives it one): that
 * would route the probe through the very proxy it is probing, or hand it
 * fake addresses. Re-exec once without it.
 */
static void not_preloaded(char **argv)
{
	const char *lp = getenv("LD_PRELOAD");
	char *rest;

	if (!lp || !strstr(lp, SFY_LIBRARY_NAME))
		return;
	rest = sfy_preload_without(lp, NULL);
	if (!rest)
		die_oom();
	if (*rest ? setenv("LD_PRELOAD", rest, 1) : unsetenv("LD_PRELOAD"))
		die_oom();
	free(rest);
	execv("/proc/self/exe", argv);
	fprintf(stderr, "socksify: --check: cannot re-run without libsocksify.so preloaded: %s\n",
		strerror(errno));
	exit(SFY_EXIT_USAGE);
}

/*
 * /proc/PID/cmdline shows our arguments to every local user for as long as
 * we run: --check waits up to the time-out, and the run mode shows them
 * until exec. The kernel reads them from our own stack, where getopt left
 * each -x value in place (whatever the spelling: "-x URL", "-xURL",
 * "--proxy=URL", a bundle "-qxURL"), so the password is overwritten there,
 * byte for byte ('*'), once o->proxy holds its copy. Its length stays
 * visible; the bytes do not. The program we exec gets its own argv; the
 * password reaches the library through SOCKSIFY_PROXY, and
 * /proc/PID/environ is readable only by the process's owner (mode 0400,
 * and a ptrace access check).
 */
static void hide_passwords(const struct opts *o)
{
	size_t i;

	for (i = 0; i < o->nproxy_arg; i++)
		socks5_url_hide_passwords(o->proxy_arg[i]);
}

char *sfy_arg_shown(const char *arg)
{
	char *copy = strdup(arg);

	if (!copy)
		die_oom();
	socks5_url_hide_passwords(copy);
	return copy;
}

/* A proxy list (it may hold a password): zeroed, then freed. */
static void free_wiped(char *list)
{
	if (list)
		explicit_bzero(list, strlen(list));
	free(list);
}

int main(int argc, char **argv)
{
	struct sfy_settings s;
	struct opts o = { 0 };
	char lib[PATH_MAX];
	int first, rc;

	first = parse_options(argc, argv, &o);
	if (o.off) {
		if (o.mode != MODE_ENV || o.proxy || o.conf || o.no_proxy ||
		    first < argc)
			die_usage("%s", "--off goes with --env alone: eval \"$(socksify --env --off)\"");
		return sfy_shell_off();
	}
	if (o.mode == MODE_CHECK && argc - first > 1)
		die_usage("%s", "--check takes at most one HOST:PORT");
	if (o.mode == MODE_ENV && first < argc)
		die_usage("unexpected argument '%s': --env prints shell commands, it runs nothing",
			  sfy_arg_shown(argv[first]));
	if (o.mode == MODE_RUN && first >= argc)
		die_usage("%s", "no command given");
	/* The re-exec needs the arguments whole: hide them after it. */
	if (o.mode == MODE_CHECK)
		not_preloaded(argv);
	hide_passwords(&o);

	settle(&o, &s);
	check_chain_setting(&s);
	switch (o.mode) {
	case MODE_CHECK:
		rc = sfy_check(&s, first < argc ? argv[first] : NULL);
		break;
	case MODE_ENV:
		find_library(lib, sizeof(lib));
		rc = sfy_shell_on(&s, lib);
		break;
	default:
		find_library(lib, sizeof(lib));
		rc = sfy_run(&s, lib, argv + first);
		break;
	}
	free_wiped(s.proxy);
	free_wiped(o.proxy);
	free(s.no_proxy);
	free(s.dnat);
	free(o.no_proxy);
	return rc;
}
