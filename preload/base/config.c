/*
 * Configuration from the environment (DESIGN's table), read once under
 * pthread_once and immutable afterwards.
 *
 * Failing closed: a value that cannot be parsed is reported once (the
 * variable, the value with any password masked, what is wrong), sets
 * broken, and every call the library would have proxied then fails with
 * broken_errno. Nothing falls back to a direct connection.
 *
 * With no proxy configured the library changes nothing: the other
 * variables are not even read, so a stray NO_PROXY meant for another tool
 * cannot produce a message.
 *
 * Credentials: the parsed chain keeps the one copy of each password the
 * handshakes need; every other copy made here (the file's contents, error
 * texts) is wiped. SOCKSIFY_PROXY itself is left in the environment,
 * password and all: child processes (a shell's commands, a browser's
 * helpers) need it to be socksified too, and the environment is readable
 * only by the same user and root (/proc/PID/environ). Where even that is
 * too much, SOCKSIFY_PROXY_FILE names a file of the user's own, mode 0600
 * (see proxyfile.h): then the environment carries only the path.
 *
 * setuid and setcap programs: the dynamic loader ignores LD_PRELOAD for
 * them (secure-execution mode, AT_SECURE), so they are never socksified;
 * their connections go out as they would without socksify.
 */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "base/config.h"
#include "base/log.h"
#include "base/proxyfile.h"
#include "base/realfn.h"
#include "base/secretwipe.h"
#include "dns/fakeip.h"
#include "route/bypasslist.h"
#include "route/policy.h"
#include "socks5_chainmode.h"
#include "state/session.h"

#define DEFAULT_TIMEOUT_MS 10000
/* The default fake ranges already parsed: most programs start without
 * SOCKSIFY_FAKE_NET, and parsing it would map inet_pton's pages into
 * every one (test_config checks these against the texts). */
static const struct sfy_cidr default_fake4 = { AF_INET, { 198, 18 }, 15, 0 };
static const struct sfy_cidr default_fake6 = {
	AF_INET6, { 0xfd, 0x53, 0x6f, 0x63, 0x6b, 0x73, 0x69, 0x66 }, 64, 0
};
#define MAX_TIMEOUT_MS 600000
#define LOG_FD_MIN SFY_LOG_FD_MIN
/* Fake ranges must hold at least 256 addresses to be of any use. */
#define FAKE4_PREFIX_MAX 24
#define FAKE6_PREFIX_MAX 120

typedef char *(*getenv_fn_t)(const char *name);

static void problem(struct sfy_config *c, const char *var, const char *fmt,
		    const char *detail)
{
	char what[512];

	/* fmt is one of ours, with at most one %s. */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wformat-nonliteral"
	snprintf(what, sizeof(what), fmt, detail ? detail : "");
#pragma GCC diagnostic pop
	sfy_error("%s: %s; network connections will fail instead of going direct",
		  var, what);
	c->broken = true;
}

/* Case-insensitive match of value against names[]; index or -1. */
static int pick(const char *value, const char *const *names, int n)
{
	int i;

	for (i = 0; i < n; i++)
		if (!strcasecmp(value, names[i]))
			return i;
	return -1;
}

/* auto, on or off (1, 0) in variable name; dflt when unset. */
static enum sfy_pipeline_mode tristate(struct sfy_config *c, getenv_fn_t env,
				       const char *name,
				       enum sfy_pipeline_mode dflt)
{
	static const char *const pl[] = { "auto", "on", "off", "1", "0" };
	const char *v = env(name);
	int i = v && *v ? pick(v, pl, 5) : -2;

	if (i == -1)
		problem(c, name, "'%s' is not auto, on or off", v);
	return i < 0 ? dflt : i == 0 ? SFY_PIPELINE_AUTO :
	       i == 1 || i == 3 ? SFY_PIPELINE_ON : SFY_PIPELINE_OFF;
}

/* The level only: reading it has no side effect, so it can happen before
 * we know whether a proxy is configured. Returns false for a bad value. */
static bool parse_level(struct sfy_config *c, getenv_fn_t env)
{
	static const char *const levels[] = { "error", "warn", "info",
					      "debug", "warning" };
	const char *v = env("SOCKSIFY_LOG");
	int i;

	c->log_level = SFY_LOG_WARN;
	if (!v || !*v)
		return true;
	i = pick(v, levels, 5);
	if (i < 0)
		return false;
	c->log_level = i == 4 ? SFY_LOG_WARN : i;
	return true;
}

/* SOCKSIFY_LOG_FILE: opened without following a symbolic link (as a
 * proxy file is), non-blocking (a log line to a full pipe is dropped
 * rather than hold up the program), and moved above the program's low
 * numbers. log.c checks it is still this file before each line. */
static void open_log_file(struct sfy_config *c, getenv_fn_t env)
{
	const struct sfy_real *r = sfy_real();
	const char *v = env("SOCKSIFY_LOG_FILE");
	int fd, high;

	c->log_fd = 2;
	if (!v || !*v || !r->fcntl || !r->close)
		return;
	fd = open(v, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC | O_NOCTTY |
			     O_NOFOLLOW | O_NONBLOCK,
		  0600);
	if (fd < 0 && errno == ELOOP) {
		sfy_error("SOCKSIFY_LOG_FILE: '%s' is a symbolic link, which is not followed; logging to stderr",
			  v);
		return;
	}
	if (fd < 0) {
		/* Not a network setting: say so on stderr and go on. */
		sfy_error("SOCKSIFY_LOG_FILE: cannot open '%s': %m; logging to stderr",
			  v);
		return;
	}
	/* Out of the way of the program's own low numbers. */
	high = r->fcntl(fd, F_DUPFD_CLOEXEC, LOG_FD_MIN);
	if (high >= 0) {
		r->close(fd);
		fd = high;
	}
	c->log_fd = fd;
}

/* The scheme of an ALL_PROXY value is ours when it is socks5 or socks5h. */
static bool socks_scheme(const char *v)
{
	return !strncasecmp(v, "socks5://", 9) || !strncasecmp(v, "socks5h://", 10);
}

/* SOCKSIFY_PROXY, or the file SOCKSIFY_PROXY_FILE names (never both),
 * else a socks5/socks5h ALL_PROXY or all_proxy. On a parse error, *var
 * names the variable and err says what is wrong (the parser masks any
 * password). The file's contents are wiped once parsed. */
static void parse_proxy(struct sfy_config *c, getenv_fn_t env,
			const char **var, char *err, size_t errcap)
{
	static const char *const fallbacks[] = { "ALL_PROXY", "all_proxy" };
	char fromfile[SFY_PROXY_FILE_MAX + 1];
	const char *v, *file;
	size_t i;

	fromfile[0] = '\0';
	*var = "SOCKSIFY_PROXY";
	v = env(*var);
	file = env("SOCKSIFY_PROXY_FILE");
	if (file && *file) {
		c->enabled = true;
		*var = "SOCKSIFY_PROXY_FILE";
		if (v && *v) {
			snprintf(err, errcap,
				 "SOCKSIFY_PROXY is set as well; set only one of the two");
			c->broken = true;
			return;
		}
		if (sfy_proxy_file_read(file, fromfile, sizeof(fromfile), err,
					errcap)) {
			c->broken = true;
			return;
		}
		v = fromfile;
	}
	for (i = 0; !v && i < 2; i++) {
		const char *a = env(fallbacks[i]);

		if (a && *a) {
			if (!socks_scheme(a))
				return; /* an HTTP proxy is not ours */
			*var = fallbacks[i];
			v = a;
		}
	}
	if (!v || !*v)
		return; /* SOCKSIFY_PROXY= (empty) means no proxy */
	c->enabled = true;
	if (socks5_url_parse_chain(v, c->chain, SOCKS5_CHAIN_MAX, &c->nhops,
				   err, errcap) != SOCKS5_OK) {
		c->nhops = 0;
		if (!err[0])
			snprintf(err, errcap, "cannot parse the proxy URL");
		c->broken = true;
	}
	explicit_bzero(fromfile, sizeof(fromfile));
}

static void parse_bypass(struct sfy_config *c, getenv_fn_t env)
{
	static const char *const vars[] = { "SOCKSIFY_NO_PROXY", "NO_PROXY",
					    "no_proxy" };
	const char *v = NULL, *var = NULL;
	char bad[384];
	size_t i;

	/* c->bypass is all zeroes here (see parse_zeroed). */
	for (i = 0; i < 3 && !v; i++) {
		v = env(vars[i]);
		var = vars[i];
		/* Only ours may be empty ("proxy everything"); an empty
		 * NO_PROXY is as good as unset. */
		if (v && !*v && i > 0)
			v = NULL;
	}
	if (!v) {
		sfy_bypass_default(&c->bypass);
		return;
	}
	if (sfy_bypass_parse(&c->bypass, v, bad, sizeof(bad))) {
		/* Fail closed: nothing goes direct by accident. */
		memset(&c->bypass, 0, sizeof(c->bypass));
		problem(c, var, "%s", bad);
	}
}

static void parse_dnat(struct sfy_config *c, getenv_fn_t env)
{
	const char *v = env("SOCKSIFY_DNAT");
	char bad[256];

	if (v && (sfy_dnat_parse(&c->dnat, v, bad, sizeof(bad)) ||
		  sfy_dnat_check(&c->dnat, &c->bypass, bad, sizeof(bad)))) {
		memset(&c->dnat, 0, sizeof(c->dnat));
		problem(c, "SOCKSIFY_DNAT", "%s", bad);
	}
}

static void parse_fake_net(struct sfy_config *c, getenv_fn_t env)
{
	const char *v = env("SOCKSIFY_FAKE_NET");
	char item[INET6_ADDRSTRLEN + 8], msg[160];
	bool have4 = false, have6 = false;
	struct sfy_cidr cidr;
	const char *p, *end;
	size_t len;

	c->fake4 = default_fake4;
	c->fake6 = default_fake6;
	if (!v || !*v)
		return;
	for (p = v;; p = end + 1) {
		end = strchr(p, ',');
		if (!end)
			end = p + strlen(p);
		len = (size_t)(end - p);
		if (len == 0 || len >= sizeof(item))
			goto bad;
		memcpy(item, p, len);
		item[len] = '\0';
		if (sfy_cidr_parse(item, &cidr))
			goto bad;
		if (cidr.family == AF_INET) {
			if (have4 || cidr.prefix > FAKE4_PREFIX_MAX)
				goto bad;
			have4 = true;
			c->fake4 = cidr;
		} else {
			if (have6 || cidr.prefix > FAKE6_PREFIX_MAX)
				goto bad;
			have6 = true;
			c->fake6 = cidr;
		}
		if (!*end)
			return;
	}
bad:
	snprintf(msg, sizeof(msg),
		 "'%%s' is not one IPv4 range (/%d or wider) and/or one IPv6 range (/%d or wider), comma separated",
		 FAKE4_PREFIX_MAX, FAKE6_PREFIX_MAX);
	problem(c, "SOCKSIFY_FAKE_NET", msg, v);
}

static void parse_modes(struct sfy_config *c, getenv_fn_t env)
{
	static const char *const dns[] = { "local", "remote" };
	static const char *const udp[] = { "proxy", "direct", "block",
					   "first-hop" };
	static const enum sfy_udp_mode udp_modes[] = {
		SFY_UDP_PROXY, SFY_UDP_DIRECT, SFY_UDP_BLOCK, SFY_UDP_FIRST_HOP
	};
	const char *v;
	char *end;
	long ms;
	int i;

	c->dns = c->nhops && c->chain[c->nhops - 1].remote_dns ?
			 SFY_DNS_REMOTE : SFY_DNS_LOCAL;
	v = env("SOCKSIFY_DNS");
	if (v && *v) {
		i = pick(v, dns, 2);
		if (i < 0)
			problem(c, "SOCKSIFY_DNS", "'%s' is not remote or local", v);
		else
			c->dns = i == 1 ? SFY_DNS_REMOTE : SFY_DNS_LOCAL;
	}

	c->udp = SFY_UDP_PROXY;
	v = env("SOCKSIFY_UDP");
	if (v && *v) {
		i = pick(v, udp, 4);
		if (i < 0)
			problem(c, "SOCKSIFY_UDP",
				"'%s' is not proxy, direct, block or first-hop", v);
		else
			c->udp = udp_modes[i];
	}

	c->timeout_ms = DEFAULT_TIMEOUT_MS;
	v = env("SOCKSIFY_TIMEOUT_MS");
	if (v && *v) {
		errno = 0;
		ms = strtol(v, &end, 10);
		if (!isdigit((unsigned char)v[0]) || *end || errno ||
		    ms < 1 || ms > MAX_TIMEOUT_MS)
			problem(c, "SOCKSIFY_TIMEOUT_MS",
				"'%s' is not a whole number of milliseconds in 1..600000",
				v);
		else
			c->timeout_ms = (int)ms;
	}

	v = env("SOCKSIFY_STRICT");
	i = v && *v ? pick(v, (const char *const[]){ "0", "1" }, 2) : 0;
	if (i < 0)
		problem(c, "SOCKSIFY_STRICT", "'%s' is not 1 or 0", v);
	c->strict = i == 1;

	v = env("SOCKSIFY_IO_URING"); /* route/decide.c */
	i = v && *v ? pick(v, (const char *const[]){ "refuse", "allow" }, 2) : 0;
	if (i < 0)
		problem(c, "SOCKSIFY_IO_URING", "'%s' is not allow or refuse", v);
	c->io_uring_allow = i == 1;

	v = env("SOCKSIFY_BIND"); /* tcp/bind.c */
	if (v && *v && !(c->bind_off = !strcasecmp(v, "off")) && strcasecmp(v, "auto"))
		problem(c, "SOCKSIFY_BIND", "'%s' is not auto or off", v);

	c->pipeline = tristate(c, env, "SOCKSIFY_PIPELINE", SFY_PIPELINE_AUTO);
	/* Off unless asked for: a poll woken by the proxy's replies alone
	 * finds nothing to read, where the kernel's socket would have data
	 * (test_differential, fd group). */
	c->early_data = tristate(c, env, "SOCKSIFY_EARLY_DATA",
				 SFY_PIPELINE_OFF) != SFY_PIPELINE_OFF;
}

/* SOCKSIFY_CHAIN and SOCKSIFY_CHAIN_LEN: libsocks5's reader, the one the
 * command uses too (socks5_chainmode.h). */
_Static_assert((int)SFY_CHAIN_ROUND_ROBIN == (int)SOCKS5_CHAIN_ROUND_ROBIN &&
	       (int)SFY_CHAIN_RANDOM == (int)SOCKS5_CHAIN_RANDOM &&
	       (int)SFY_CHAIN_DYNAMIC == (int)SOCKS5_CHAIN_DYNAMIC,
	       "chainpick.h's modes in socks5_chainmode.h's order");
static void parse_chain_mode(struct sfy_config *c, getenv_fn_t env)
{
	const char *var = NULL;
	char why[300];
	int mode;

	if (socks5_chain_mode_parse(env("SOCKSIFY_CHAIN"),
				    env("SOCKSIFY_CHAIN_LEN"), c->nhops, &mode,
				    &c->chain_len, &var, why, sizeof(why)))
		problem(c, var, "%s", why);
	c->chain_mode = (enum sfy_chain_mode)mode;
}

static void report(const struct sfy_config *c)
{
	char url[600];
	size_t i;

	/* Formatting pulls printf's code into the program's memory: only
	 * when the lines are wanted. */
	if (sfy_log_level() < SFY_LOG_DEBUG)
		return;
	for (i = 0; i < c->nhops; i++) {
		socks5_url_format(&c->chain[i], url, sizeof(url));
		sfy_debug("proxy hop %zu of %zu: %s", i + 1, c->nhops, url);
	}
	if (c->chain_mode != SFY_CHAIN_STRICT)
		sfy_debug("chain %s, %zu hop(s) per connection",
			  sfy_chain_mode_name(c->chain_mode),
			  c->chain_mode == SFY_CHAIN_DYNAMIC ? c->nhops :
							       c->chain_len);
	sfy_debug("dns %s, udp %s, timeout %d ms, %d bypass ranges, %d bypass names%s",
		  c->dns == SFY_DNS_REMOTE ? "remote" : "local",
		  c->udp == SFY_UDP_PROXY ? "proxy" :
		  c->udp == SFY_UDP_DIRECT ? "direct" :
		  c->udp == SFY_UDP_BLOCK ? "block" : "first-hop",
		  c->timeout_ms, c->bypass.ncidrs, c->bypass.nnames,
		  c->bypass.all ? ", everything direct ('*')" : "");
}

/* sfy_config_parse on a *out that is all zeroes already. */
static int parse_zeroed(struct sfy_config *out, char *(*getenv_fn)(const char *))
{
	const char *proxy_var;
	char err[512] = "";
	int saved = errno;
	bool level_ok;

	out->broken_errno = ECONNREFUSED;
	out->timeout_ms = DEFAULT_TIMEOUT_MS;
	out->log_fd = 2;
	out->fake4 = default_fake4;
	out->fake6 = default_fake6;
	level_ok = parse_level(out, getenv_fn);
	parse_proxy(out, getenv_fn, &proxy_var, err, sizeof(err));
	if (!out->enabled) {
		/* Not ours to touch: no log file, no messages. */
		out->log_level = SFY_LOG_WARN;
		errno = saved;
		return 0;
	}
	open_log_file(out, getenv_fn);
	sfy_log_configure(out->log_level, out->log_fd);
	if (!level_ok)
		problem(out, "SOCKSIFY_LOG",
			"'%s' is not one of error, warn, info, debug",
			getenv_fn("SOCKSIFY_LOG"));
	if (out->broken && out->nhops == 0)
		problem(out, proxy_var, "%s", err);
	explicit_bzero(err, sizeof(err));
	parse_bypass(out, getenv_fn);
	parse_modes(out, getenv_fn);
	parse_chain_mode(out, getenv_fn);
	parse_fake_net(out, getenv_fn);
	parse_dnat(out, getenv_fn);
	report(out);
	errno = saved;
	return out->broken ? -EINVAL : 0;
}

/* Not static: config.h's inline sfy_config() reads them (hidden). */
struct sfy_config sfy_config_frozen;
static pthread_once_t config_once = PTHREAD_ONCE_INIT;
atomic_bool sfy_config_ready;

int sfy_config_parse(struct sfy_config *out, char *(*getenv_fn)(const char *))
{
	memset(out, 0, sizeof(*out));
	return parse_zeroed(out, getenv_fn);
}

/* The static configuration starts as zeroes: clearing it again would
 * write all of its 30 KiB, 8 pages of memory, at every program's start. */
static void config_load(void)
{
	parse_zeroed(&sfy_config_frozen, sfy_session_getenv);
	atomic_store_explicit(&sfy_config_ready, true, memory_order_release);
}

/* sfy_config() (config.h) before the configuration is loaded. */
const struct sfy_config *sfy_config_slow(void)
{
	pthread_once(&config_once, config_load);
	return &sfy_config_frozen;
}

bool sfy_config_has_password(const struct sfy_config *c)
{
	for (size_t i = 0; i < c->nhops; i++)
		if (c->chain[i].has_auth)
			return true;
	return false;
}
