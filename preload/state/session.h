/*
 * The session: state shared by every process started under one `socksify`
 * run (or one `--env` shell), however it was started.
 *
 * The command makes a private directory per session
 * ($XDG_RUNTIME_DIR or /tmp, then socksify-XXXXXX, mode 0700) and names it
 * two ways, so that a process that lost one still finds it:
 *   - SOCKSIFY_SESSION=<dir> in the environment;
 *   - LD_PRELOAD points at <dir>/libsocksify.so, a link to the library, so
 *     a program that clears its environment but keeps LD_PRELOAD (browsers
 *     do for their helpers) finds the directory from the library's own
 *     path (dladdr).
 * Descriptors are not part of it: a region is opened, mapped and closed,
 * so programs that close every descriptor before exec lose nothing.
 *
 * A region is one file in that directory, mapped MAP_SHARED. The directory
 * and every region must belong to the effective user, be private (no group
 * or other bits), and be no symlink; anything else is refused (names are
 * browsing history; a file another user planted must never be used).
 */
#ifndef SOCKSIFY_PRELOAD_SESSION_H
#define SOCKSIFY_PRELOAD_SESSION_H

#include <stdbool.h>
#include <stddef.h>

/* True when this process belongs to a session (one getenv or dladdr and
 * one lstat; nothing opened). */
bool sfy_session_present(void);

/* Sets up a fresh region (called with the region locked against other
 * processes; p is len bytes, zero on first creation). Must be idempotent:
 * it is called on every mapping and decides from the contents (a magic
 * word written last) whether there is anything to do, so an initialiser
 * killed half way is simply redone by the next process. Returns 0 or
 * -errno (then the region is not used). */
typedef int (*sfy_region_init_fn)(void *p, size_t len, void *arg);

/* Maps region NAME ([a-z0-9_.-], no slash) of exactly len bytes from the
 * session, creating it when missing. 0 and *out set, or -ENOENT when this
 * process belongs to no session, or another -errno. Not for hot paths
 * (open, flock, mmap): call it once and keep the address. */
int sfy_session_region(const char *name, size_t len, sfy_region_init_fn init,
		       void *arg, void **out);

/* getenv() for the configuration (base/config.c, once, at start-up): the
 * environment, unless it lost SOCKSIFY_SESSION but the library still
 * finds its session (a program that cleared its environment but for
 * LD_PRELOAD): then the session's "settings" file, which the command
 * wrote with the SOCKSIFY_* settings it started the session with. A
 * program whose environment is intact reads no file. */
char *sfy_session_getenv(const char *name);

#endif
