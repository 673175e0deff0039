/*
 * Logging: level-gated, one line per event, "socksify[pid]: LEVEL: text",
 * written with one write() to the configured descriptor (stderr or
 * SOCKSIFY_LOG_FILE). Formats into a stack buffer: no malloc, no stdio lock.
 * Never pass a password: format proxies with socks5_url_format().
 */
#ifndef SOCKSIFY_PRELOAD_LOG_H
#define SOCKSIFY_PRELOAD_LOG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "socks5.h"

enum sfy_log_level {
	SFY_LOG_ERROR = 0,
	SFY_LOG_WARN = 1,
	SFY_LOG_INFO = 2,
	SFY_LOG_DEBUG = 3,
};

/* Current level (from the frozen configuration; WARN before it is read). */
int sfy_log_level(void);
void sfy_log_write(int level, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* Called by the configuration once it has read SOCKSIFY_LOG and
 * SOCKSIFY_LOG_FILE; until then the level is WARN and lines go to fd 2.
 * For a file of ours (fd != 2) its identity (st_dev, st_ino) is noted:
 * every later use of the number checks it first, so a close the library
 * did not see (a raw system call, a sweep by number) never makes it write
 * into, spare or close the program's file that took the number; the log
 * then goes nowhere. */
void sfy_log_configure(int level, int fd);
/* True when fd is the library's own log file (not stderr), checked with
 * fstat: the descriptor hooks keep a program from closing it or dup'ing
 * over it. The log's descriptor sits at or above SFY_LOG_FD_MIN
 * (F_DUPFD), so every close() of a lower number is decided inline,
 * without a call. */
#define SFY_LOG_FD_MIN 100
bool sfy_log_owns_fd_slow(int fd);

static inline bool sfy_log_owns_fd(int fd)
{
	return fd >= SFY_LOG_FD_MIN && sfy_log_owns_fd_slow(fd);
}
/* The log file's descriptor when it is still the library's own (not
 * stderr), else -1: close_range()/closefrom() spare it. */
int sfy_log_own_fd(void);
/* Moves the log file to another descriptor number (>= 100) so that a
 * program's dup2()/dup3() onto the old number can proceed. Safe against
 * concurrent log lines (of other threads and of signal handlers): the old
 * number is given up only once no line can still be written to it. */
void sfy_log_move_fd(void);

/* The chain for a log line, passwords masked: "socks5://a:1080" or
 * "socks5://a:1080 > socks5h://u:***@b:1080"; the hops are
 * chain[pick[i]] (pick NULL: chain[i]). Always terminated; a chain
 * longer than cap ends "> ... (N more)". SFY_LOG_CHAIN_MAX is a buffer
 * for a stack, sized so that the tail still fits a log line (1024 bytes
 * with its prefix and the words around the chain): a few hops in full,
 * not 512 of them. */
#define SFY_LOG_CHAIN_MAX 768
void sfy_log_chain(char *buf, size_t cap, const struct socks5_proxy *chain,
		   const uint16_t *pick, size_t nhops);
/* Microseconds on CLOCK_MONOTONIC, for the "in N ms" of log lines. */
int64_t sfy_log_now_us(void);

#define SFY_LOG(level, ...)                                   \
	do {                                                  \
		if ((level) <= sfy_log_level())               \
			sfy_log_write((level), __VA_ARGS__);  \
	} while (0)
#define sfy_error(...) SFY_LOG(SFY_LOG_ERROR, __VA_ARGS__)
#define sfy_warn(...) SFY_LOG(SFY_LOG_WARN, __VA_ARGS__)
#define sfy_info(...) SFY_LOG(SFY_LOG_INFO, __VA_ARGS__)
#define sfy_debug(...) SFY_LOG(SFY_LOG_DEBUG, __VA_ARGS__)

#endif
