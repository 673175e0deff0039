/*
 * Inside the proxychains-ng configuration reader: the parser's state and
 * the pieces its two files share (proxychains_conf.c reads lines and
 * options, proxychains_list.c the [ProxyList] entries).
 *
 * The reader follows proxychains-ng 4.17's own (get_chain_data in
 * src/libproxychains.c) step by step, so that a file means here what it
 * means there: a line is what fgets reads into 1024 bytes, trimmed of
 * isspace(); fields are what its sscanf formats take; an option line it
 * does not know is ignored.
 */
#ifndef SOCKSIFY_TOOLS_PROXYCHAINS_INT_H
#define SOCKSIFY_TOOLS_PROXYCHAINS_INT_H

#include <stdbool.h>
#include <stddef.h>

#include "proxychains_conf.h"

/* proxychains' limits (core.h, libproxychains.c) */
#define PC_LINE_MAX 1023   /* fgets(buf, 1024, ...) */
#define PC_LOCALNET_MAX 64 /* MAX_LOCALNET: more are dropped with a message */
#define PC_LIST_MAX 512    /* MAX_CHAIN: entries after it are not read */

/* proxychains' resolver settings; the last line wins */
enum pc_dns { PC_DNS_LOCAL, PC_DNS_THREAD, PC_DNS_OLD, PC_DNS_DAEMON };

struct pc_parser {
	const char *name;
	unsigned line;
	bool strict;
	bool in_list;
	bool list_full;           /* PC_LIST_MAX entries read */
	unsigned entries;         /* entries proxychains counts */
	long chain_len;           /* 0: not given */
	unsigned chain_len_line;
	enum pc_dns dns;
	unsigned dns_line;
	long read_ms, connect_ms; /* -1: not given */
	unsigned timeout_line;    /* the first time-out line */
	unsigned nlocalnet;
	unsigned ignored_section; /* a '[...]' line that was ignored */
	struct sfy_pc *out;
	char *err;
	size_t errcap;
};

/* "NAME:LINE: message" into the caller's buffer; returns -EINVAL. */
int pc_err(struct pc_parser *p, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* A warning naming the line (an error with --strict, returned then). */
int pc_warn(struct pc_parser *p, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* sscanf's conversions, one at a time, over *s (advanced past what they
 * take). Each skips leading isspace() as sscanf does. */
bool pc_scan_word(const char **s, char *out, size_t cap);   /* "%s" */
bool pc_scan_int(const char **s, long *v);                  /* "%d" */

/* Appends item to a malloc'd comma list; 0 or -ENOMEM. */
int pc_list_add(char **list, const char *item);

/* One [ProxyList] line (trimmed, not a comment). */
int pc_list_line(struct pc_parser *p, const char *line);

#endif
