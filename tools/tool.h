/*
 * The pieces of the socksify command: option parsing and the run mode
 * (socksify.c), finding things (locate.c), LD_PRELOAD composition
 * (ldpreload.c), the environment handed to the program (settings.c), shell
 * mode (shellenv.c), `--check` (check.c, check_udp.c), the static/Go probe
 * (elfprobe.c), and the proxychains reader (proxychains_conf.h).
 */
#ifndef SOCKSIFY_TOOLS_TOOL_H
#define SOCKSIFY_TOOLS_TOOL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include "socks5_elf.h"

#define SFY_LIBRARY_NAME "libsocksify.so"

/* Exit statuses of the command (README and man page list them). */
#define SFY_EXIT_NOLIB 1      /* libsocksify.so not found */
#define SFY_EXIT_USAGE 2      /* bad usage or configuration */
#define SFY_EXIT_STRICT 3     /* --strict: the program cannot be socksified */
#define SFY_EXIT_NOEXEC 126
#define SFY_EXIT_NOTFOUND 127
/* --check */
#define SFY_CHECK_OK 0
#define SFY_CHECK_FAILED 1    /* reach, method, auth or CONNECT failed */
#define SFY_CHECK_UDP_FAILED 4 /* TCP works; UDP ASSOCIATE or the relay does not */

/* SOCKSIFY_LOG names, indexed by level; warn (1) is the library's default. */
#define SFY_LEVEL_DEFAULT 1
extern const char *const sfy_level_names[4];

/* What the options, a proxychains file and the environment amount to. */
struct sfy_settings {
	char *proxy;            /* the chain, comma separated, as given */
	const char *source;     /* "-x", "-f", or the variable it came from */
	bool proxy_given;       /* from -x or -f: the command sets SOCKSIFY_PROXY */
	const char *proxy_file; /* SOCKSIFY_PROXY_FILE, when the proxy came from it */
	char *no_proxy;         /* -n and localnet entries; NULL when none given */
	int level;              /* 0 error .. 3 debug */
	bool level_set;         /* -q, -v or quiet_mode */
	bool strict;            /* --strict */
	long timeout_ms;        /* 0: not given (-f only) */
	int dns;                /* -1: not given; 0 local; 1 remote (-f only) */
	char fake_net[24];      /* "": not given (-f only) */
	char *dnat;             /* SOCKSIFY_DNAT (-f only), or NULL */
	int chain_mode;         /* -1: not given (-f only); else SFY_CHAIN_* */
	long chain_len;         /* 0: not given (-f only) */
};

/* SOCKSIFY_CHAIN's values, in the library's order (route/chainpick.h). */
enum { SFY_CHAIN_STRICT, SFY_CHAIN_DYNAMIC, SFY_CHAIN_RANDOM,
       SFY_CHAIN_ROUND_ROBIN };
/* SOCKSIFY_CHAIN and SOCKSIFY_CHAIN_LEN (either may be NULL or empty) for
 * a chain of nhops, read by the library's rules: 0 with *mode and *len
 * (the hops per connection: every hop for strict and dynamic), or -1 with
 * "VARIABLE: why" in err. */
int sfy_chain_setting(const char *mode, const char *len, size_t nhops,
		      int *mode_out, size_t *len_out, char *err, size_t cap);

/* Variables the command sets, in order; values are owned copies, NULL
 * for a variable to unset. */
#define SFY_ENV_MAX 16
struct sfy_env {
	size_t n;
	const char *name[SFY_ENV_MAX];
	char *value[SFY_ENV_MAX];
};

/* settings.c. Every function here exits with SFY_EXIT_USAGE when out of
 * memory, after saying so. */
void sfy_env_add(struct sfy_env *env, const char *name, const char *value);
void sfy_env_free(struct sfy_env *env);
/* The SOCKSIFY_* variables for s (SOCKSIFY_PROXY only when proxy_given or
 * always_proxy). */
void sfy_env_from_settings(struct sfy_env *env, const struct sfy_settings *s,
			   bool always_proxy);
/* The URLs in the file SOCKSIFY_PROXY_FILE names, read by the reader the
 * library uses (client/socks5_proxyfile.h); NULL with a message in err. */
char *sfy_read_proxy_file(const char *path, char *err, size_t cap);
/* The single hop of s as Go's net/http wants it in HTTP_PROXY (socks5://,
 * credentials kept), or NULL for a chain. Malloc'd. */
char *sfy_go_proxy_url(const struct sfy_settings *s);

/*
 * Finds libsocksify.so relative to the running binary (/proc/self/exe):
 * the binary's own directory (build tree), then ../lib/socksify/ and ../lib/
 * (installed tree). On success writes the canonical path into out and
 * returns 0; otherwise returns a negative errno and writes the places
 * looked at, separated by ", ", into looked.
 */
int sfy_find_library(char *out, size_t cap, char *looked, size_t lcap);

/*
 * Looks the program up as execvp will: a name with a slash is taken as is,
 * otherwise each PATH directory in turn (PATH unset: the C library's
 * default). Returns 0 when an executable regular file exists (its path in
 * path), -ENOENT when nothing by that name exists, -EISDIR when the name
 * with a slash is a directory, -EACCES when only non-executable files (or,
 * in PATH, directories) do.
 */
int sfy_find_program(const char *name, char *path, size_t cap);

/*
 * The LD_PRELOAD value with ours first and the old entries after it (space
 * separated; sanitizer runtimes, which must load first, stay ahead),
 * dropping any old entry that is this library or another copy of
 * libsocksify.so: two copies would hook every call twice. Ours is the
 * session's link (when there is one) followed by lib itself: ld.so loads
 * the file once (it matches the second name to the first by device and
 * inode), and once the session has ended and its link is gone, the
 * library still loads from lib — with a line from ld.so about the
 * missing link, never without the library. Returns a malloc'd string, or
 * NULL when out of memory.
 */
char *sfy_preload_value(const char *link, const char *lib, const char *old);

/* The entries of old that are not libsocksify.so (nor lib, when given),
 * in order, space separated; "" when none. Malloc'd, NULL when out of
 * memory. */
char *sfy_preload_without(const char *old, const char *lib);

/* A copy of a command-line argument for a message, any URL password in
 * it as '*' (a proxy URL given where a program or HOST:PORT belongs).
 * Malloc'd (socksify.c). */
char *sfy_arg_shown(const char *arg);

/* What LD_PRELOAD can do for the program at path (socks5_elf.h, with
 * the section names): 0 (kind set) or -errno when it cannot be opened. */
int sfy_elf_probe(const char *path, enum socks5_elf_kind *kind);

/* Shell mode (shellenv.c): print sh-compatible commands on stdout.
 * Return an exit status. */
int sfy_shell_on(const struct sfy_settings *s, const char *lib);
int sfy_shell_off(void);
/* Writes 'value' quoted for sh: every character kept literally. */
void sfy_shell_quote(FILE *f, const char *value);

/* The run mode (run.c): checks the program, sets the environment, execs.
 * Returns an exit status only when the program could not be started. */
int sfy_run(const struct sfy_settings *s, const char *lib, char **argv);
/* ioring.c: a seccomp filter answering io_uring_setup with ENOSYS for
 * the program and everything it starts, unless SOCKSIFY_IO_URING=allow
 * (root always; other users with --strict, under no_new_privs). 0, or
 * SFY_EXIT_STRICT when --strict cannot have it (said on stderr). */
int sfy_refuse_io_uring(const struct sfy_settings *s);

/* session.c: a new session directory (into dir) holding a link to lib
 * (into link, for LD_PRELOAD), removed when process watch ends. 0 or
 * -errno (nothing made). */
int sfy_session_start(const char *lib, pid_t watch, char *dir, size_t dcap,
		      char *link, size_t lcap);

/* Saves the program's SOCKSIFY_* settings (all but SOCKSIFY_SESSION) as
 * "settings" in the session directory dir (0600, NUL-separated
 * NAME=VALUE), for programs of the session whose environment was cleared
 * but for LD_PRELOAD (preload/state/session.h). Not when a value holds an
 * '@' (a password in a proxy URL stays out of files): such programs then
 * fail closed. 0 or -errno. */
int sfy_session_save_settings(const char *dir);

/* --check (check.c): probes the chain in s, CONNECT to dest when given
 * (HOST:PORT, [IPv6]:PORT), and UDP ASSOCIATE. Prints one line per step
 * on stdout; returns SFY_CHECK_* or SFY_EXIT_USAGE. */
int sfy_check(const struct sfy_settings *s, const char *dest);

#endif
