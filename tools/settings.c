/*
 * The variables the command hands on: the same list serves the run mode
 * (setenv, then exec) and shell mode (printed as exports), so the two can
 * never disagree about what a setting means.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "socks5_chainmode.h"
#include "socks5_proxyfile.h"
#include "tool.h"

const char *const sfy_level_names[4] = { "error", "warn", "info", "debug" };
/* The library's reader (socks5_chainmode.h), said here before anything
 * runs. */
int sfy_chain_setting(const char *mode, const char *len, size_t nhops,
		      int *mode_out, size_t *len_out, char *err, size_t cap)
{
	const char *var = NULL;
	char why[300];

	if (!socks5_chain_mode_parse(mode, len, nhops, mode_out, len_out, &var,
				     why, sizeof(why)))
		return 0;
	snprintf(err, cap, "%s: %s", var, why);
	return -1;
}

static void __attribute__((noreturn)) oom(void)
{
	fputs("socksify: out of memory\n", stderr);
	exit(SFY_EXIT_USAGE);
}

void sfy_env_add(struct sfy_env *env, const char *name, const char *value)
{
	size_t i;

	for (i = 0; i < env->n; i++) {
		if (!strcmp(env->name[i], name))
			break;
	}
	if (i == SFY_ENV_MAX)
		oom(); /* a programming error, reported as loudly */
	if (i < env->n) {
		if (env->value[i])
			explicit_bzero(env->value[i], strlen(env->value[i]));
		free(env->value[i]);
	} else {
		env->n++;
	}
	env->name[i] = name;
	env->value[i] = value ? strdup(value) : NULL;
	if (value && !env->value[i])
		oom();
}

void sfy_env_free(struct sfy_env *env)
{
	size_t i;

	for (i = 0; i < env->n; i++) {
		if (env->value[i])
			explicit_bzero(env->value[i], strlen(env->value[i]));
		free(env->value[i]);
	}
	env->n = 0;
}

void sfy_env_from_settings(struct sfy_env *env, const struct sfy_settings *s,
			   bool always_proxy)
{
	char num[32];

	/* The library refuses SOCKSIFY_PROXY and SOCKSIFY_PROXY_FILE
	 * together; a file keeps the password out of the environment, so
	 * shell mode hands on the path, not the contents. */
	if (s->proxy_file) {
		sfy_env_add(env, "SOCKSIFY_PROXY_FILE", s->proxy_file);
	} else if (s->proxy && (s->proxy_given || always_proxy)) {
		sfy_env_add(env, "SOCKSIFY_PROXY", s->proxy);
		if (getenv("SOCKSIFY_PROXY_FILE"))
			sfy_env_add(env, "SOCKSIFY_PROXY_FILE", NULL);
	}
	if (s->no_proxy)
		sfy_env_add(env, "SOCKSIFY_NO_PROXY", s->no_proxy);
	if (s->level_set)
		sfy_env_add(env, "SOCKSIFY_LOG", sfy_level_names[s->level]);
	if (s->dns >= 0)
		sfy_env_add(env, "SOCKSIFY_DNS", s->dns ? "remote" : "local");
	if (s->timeout_ms > 0) {
		snprintf(num, sizeof(num), "%ld", s->timeout_ms);
		sfy_env_add(env, "SOCKSIFY_TIMEOUT_MS", num);
	}
	if (s->fake_net[0])
		sfy_env_add(env, "SOCKSIFY_FAKE_NET", s->fake_net);
	if (s->dnat)
		sfy_env_add(env, "SOCKSIFY_DNAT", s->dnat);
	if (s->strict) /* the library refuses to exec them too */
		sfy_env_add(env, "SOCKSIFY_STRICT", "1");
	if (s->chain_mode >= 0 && s->chain_mode < 4) {
		sfy_env_add(env, "SOCKSIFY_CHAIN", socks5_chain_mode_name(s->chain_mode));
		if (s->chain_len > 0) {
			snprintf(num, sizeof(num), "%ld", s->chain_len);
			sfy_env_add(env, "SOCKSIFY_CHAIN_LEN", num);
		} else {
			sfy_env_add(env, "SOCKSIFY_CHAIN_LEN", NULL);
		}
	}
}

/*
 * Go's net/http takes socks5:// in HTTP_PROXY/HTTPS_PROXY (Go before 1.22
 * does not know socks5h://). Its SOCKS client always hands host names to
 * the proxy, so socks5:// there means remote DNS either way.
 */
char *sfy_go_proxy_url(const struct sfy_settings *s)
{
	const char *url = s->proxy;
	char *out;

	if (!url || strchr(url, ','))
		return NULL;
	if (!strncasecmp(url, "socks5h://", 10))
		url += 10;
	else if (!strncasecmp(url, "socks5://", 9))
		url += 9;
	else
		return NULL;
	out = malloc(strlen(url) + sizeof("socks5://"));
	if (!out)
		oom();
	strcpy(out, "socks5://");
	strcat(out, url);
	return out;
}

/*
 * SOCKSIFY_PROXY_FILE, read by libsocks5's reader, the one the library
 * uses (client/socks5_proxyfile.h): same rules, same messages. The URLs
 * joined by commas, malloc'd; NULL with a message in err (never the
 * file's contents).
 */
char *sfy_read_proxy_file(const char *path, char *err, size_t cap)
{
	static const struct socks5_file_io io = {
		.open = open, .fstat = fstat, .read = read, .close = close,
	};
	char buf[SOCKS5_PROXY_FILE_MAX + 1], why[PATH_MAX + 512], *out;

	if (socks5_proxy_file_read(&io, path, buf, sizeof(buf), why,
				   sizeof(why))) {
		snprintf(err, cap, "SOCKSIFY_PROXY_FILE: %s", why);
		return NULL;
	}
	out = strdup(buf);
	explicit_bzero(buf, sizeof(buf));
	if (!out)
		oom();
	return out;
}
