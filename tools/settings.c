/*
 * The variables the command hands on: the same list serves the run mode
 * (setenv, then exec) and shell mode (printed as exports), so the two can
 * never disagree about what a setting means.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "tool.h"

const char *const sfy_level_names[4] = { "error", "warn", "info", "debug" };

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
 * SOCKSIFY_PROXY_FILE, read as the library reads it: a regular file of
 * the user's own, closed to group and others; one URL per line (or a comma
 * list), '#' comments and blank lines skipped. The URLs joined by commas,
 * malloc'd; NULL with a message in err (never the file's contents).
 */
char *sfy_read_proxy_file(const char *path, char *err, size_t cap)
{
	char buf[SFY_PROXY_FILE_MAX + 1], *out, *line, *save = NULL;
	struct stat st;
	size_t used = 0;
	ssize_t n;
	int fd;

	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0 || fstat(fd, &st) < 0) {
		snprintf(err, cap, "SOCKSIFY_PROXY_FILE: %s: %s", path, strerror(errno));
		if (fd >= 0)
			close(fd);
		return NULL;
	}
	if (!S_ISREG(st.st_mode) || st.st_uid != geteuid() || (st.st_mode & 077)) {
		snprintf(err, cap, "SOCKSIFY_PROXY_FILE: %s: %s", path,
			 !S_ISREG(st.st_mode) ? "not a regular file" :
			 st.st_uid != geteuid() ? "not owned by you" :
			 "readable or writable by others: chmod 600 it");
		close(fd);
		return NULL;
	}
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n < 0 || (size_t)n >= sizeof(buf) - 1) {
		snprintf(err, cap, "SOCKSIFY_PROXY_FILE: %s: %s", path,
			 n < 0 ? strerror(errno) : "too large");
		explicit_bzero(buf, sizeof(buf));
		return NULL;
	}
	buf[n] = '\0';
	out = calloc(1, (size_t)n + 1);
	if (!out)
		oom();
	for (line = strtok_r(buf, "\n", &save); line;
	     line = strtok_r(NULL, "\n", &save)) {
		line += strspn(line, " \t\r");
		line[strcspn(line, " \t\r")] = '\0';
		if (!*line || *line == '#')
			continue;
		if (used)
			out[used++] = ',';
		memcpy(out + used, line, strlen(line));
		used += strlen(line);
	}
	explicit_bzero(buf, sizeof(buf));
	return out;
}
