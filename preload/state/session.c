/*
 * Session regions (see session.h for the contract).
 *
 * Finding the session: SOCKSIFY_SESSION first, else the directory of the
 * library as loaded (dladdr of one of our functions gives the path ld.so
 * opened, i.e. the per-session link named in LD_PRELOAD). Either way the
 * directory is checked before use: a real directory (lstat), owned by us,
 * no group/other permission bits, name starting with "socksify-".
 *
 * Creating a region: open with O_CREAT|O_NOFOLLOW (0600), fstat (regular,
 * ours, private, one link), then an exclusive flock for the size check and
 * the initialiser; the lock goes with the descriptor, so a process killed
 * there blocks nobody. The descriptor is closed right after mmap.
 */
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/log.h"
#include "base/realfn.h"
#include "state/session.h"

#define DIR_PREFIX "socksify-"

static int dir_ok(const char *dir)
{
	const char *base = strrchr(dir, '/');
	struct stat st;

	base = base ? base + 1 : dir;
	if (strncmp(base, DIR_PREFIX, strlen(DIR_PREFIX)) != 0)
		return -ENOENT;
	if (lstat(dir, &st) != 0)
		return -errno;
	if (!S_ISDIR(st.st_mode) || st.st_uid != geteuid() ||
	    (st.st_mode & 077) != 0) {
		sfy_warn("session directory %s is not a private directory of "
			 "this user: not used", dir);
		return -EPERM;
	}
	return 0;
}

/* The session directory into dir (cap bytes), or -ENOENT. */
static int session_dir(char *dir, size_t cap)
{
	const char *env = getenv("SOCKSIFY_SESSION");
	Dl_info info;
	const char *slash;

	if (env && *env && strlen(env) < cap) {
		strcpy(dir, env);
		if (dir_ok(dir) == 0)
			return 0;
	}
	if (dladdr((void *)sfy_session_region, &info) == 0 || !info.dli_fname)
		return -ENOENT;
	slash = strrchr(info.dli_fname, '/');
	if (!slash || (size_t)(slash - info.dli_fname) >= cap)
		return -ENOENT;
	memcpy(dir, info.dli_fname, (size_t)(slash - info.dli_fname));
	dir[slash - info.dli_fname] = '\0';
	return dir_ok(dir);
}

bool sfy_session_present(void)
{
	char dir[PATH_MAX];

	return session_dir(dir, sizeof(dir)) == 0;
}

static bool name_ok(const char *name)
{
	if (!*name || name[0] == '.')
		return false;
	for (const char *p = name; *p; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') ||
		      *p == '_' || *p == '-' || *p == '.'))
			return false;
	return true;
}

static int map_fd(int fd, size_t len, sfy_region_init_fn init, void *arg,
		  void **out)
{
	struct stat st;
	void *p;
	int rc;

	if (fstat(fd, &st) != 0)
		return -errno;
	if (!S_ISREG(st.st_mode) || st.st_uid != geteuid() ||
	    (st.st_mode & 077) != 0 || st.st_nlink != 1)
		return -EPERM;
	if (flock(fd, LOCK_EX) != 0)
		return -errno;
	if (st.st_size == 0 || (size_t)st.st_size != len) {
		/* fstat before the lock may be stale: look again */
		if (fstat(fd, &st) != 0) {
			rc = -errno;
			goto out;
		}
		if (st.st_size == 0 && ftruncate(fd, (off_t)len) != 0) {
			rc = -errno;
			goto out;
		}
		if (st.st_size != 0 && (size_t)st.st_size != len) {
			rc = -EINVAL; /* another layout (other settings) */
			goto out;
		}
	}
	p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_NORESERVE,
		 fd, 0);
	if (p == MAP_FAILED) {
		rc = -errno;
		goto out;
	}
	rc = init ? init(p, len, arg) : 0;
	if (rc)
		munmap(p, len);
	else
		*out = p;
out:
	flock(fd, LOCK_UN);
	return rc;
}

int sfy_session_region(const char *name, size_t len, sfy_region_init_fn init,
		       void *arg, void **out)
{
	char dir[PATH_MAX], path[PATH_MAX];
	int fd, rc;

	if (!name_ok(name) || len == 0)
		return -EINVAL;
	rc = session_dir(dir, sizeof(dir));
	if (rc)
		return rc;
	if ((size_t)snprintf(path, sizeof(path), "%s/%s", dir, name) >=
	    sizeof(path))
		return -ENAMETOOLONG;
	fd = open(path, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0) {
		rc = -errno;
		sfy_warn("session region %s: %s", path, strerror(-rc));
		return rc;
	}
	rc = map_fd(fd, len, init, arg, out);
	if (rc)
		sfy_warn("session region %s: %s", path, strerror(-rc));
	sfy_real()->close(fd);
	return rc;
}

/* The session's settings: NUL-separated NAME=VALUE, read once (the
 * configuration is parsed once, before any thread of the program). */
static char g_settings[16384];
static size_t g_settings_len;
static int g_settings_state; /* 0 unread, 1 environment, 2 file */

static void settings_load(void)
{
	char dir[PATH_MAX], path[PATH_MAX];
	struct stat st;
	ssize_t n;
	int fd;

	g_settings_state = 1;
	if (getenv("SOCKSIFY_SESSION") || session_dir(dir, sizeof(dir)) != 0)
		return;
	if ((size_t)snprintf(path, sizeof(path), "%s/settings", dir) >=
	    sizeof(path))
		return;
	fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return;
	if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode) &&
	    st.st_uid == geteuid() && (st.st_mode & 077) == 0 &&
	    (n = sfy_real()->read(fd, g_settings,
				      sizeof(g_settings) - 1)) > 0) {
		g_settings[n] = '\0';
		g_settings_len = (size_t)n;
		g_settings_state = 2;
	}
	sfy_real()->close(fd);
}

char *sfy_session_getenv(const char *name)
{
	size_t len = strlen(name);

	if (g_settings_state == 0)
		settings_load();
	if (g_settings_state != 2 || strncmp(name, "SOCKSIFY_", 9) != 0)
		return getenv(name);
	for (size_t at = 0; at < g_settings_len;
	     at += strlen(g_settings + at) + 1)
		if (strncmp(g_settings + at, name, len) == 0 &&
		    g_settings[at + len] == '=')
			return g_settings + at + len + 1;
	return NULL;
}
