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
#include <stdint.h>

#include "proxychains_conf.h"

/* proxychains' limits (core.h, libproxychains.c) */
#define PC_LINE_MAX 1023   /* fgets(buf, 1024, ...) */
#define PC_LOCALNET_MAX 64 /* MAX_LOCALNET: more are dropped with a message */
#define PC_LIST_MAX 512    /* MAX_CHAIN: entries after it are not read */
#define PC_DNAT_MAX 64     /* MAX_DNAT: more are dropped with a message */

/* An IPv4 localnet range or a dnat rule, kept to judge them together
 * once the file is read (proxychains_dnat.c); host byte order. */
struct pc_net4 {
	uint32_t net, mask;
	uint16_t port; /* 0: any */
};
struct pc_dnat {
	uint32_t orig, to;
	uint16_t orig_port, to_port; /* 0: none */
	unsigned line;
};

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
	unsigned nlocal4;         /* IPv4 ranges of local4 */
	struct pc_net4 local4[PC_LOCALNET_MAX];
	unsigned ndnat;
	struct pc_dnat dnat[PC_DNAT_MAX];
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
/* Up to max bytes not in stop, at least one ("%MAX[^STOP]"); no skip. */
bool pc_scan_set(const char **s, const char *stop, size_t max, char *out);

/* Appends item to a malloc'd comma list; 0 or -ENOMEM. */
int pc_list_add(char **list, const char *item);

/* A dnat line (proxychains_dnat.c). */
int pc_dnat_line(struct pc_parser *p, const char *line);
/* Once the file is read: the dnat rules into out->dnat, or an error for
 * one that socksify would route elsewhere than proxychains (its original
 * address in a localnet range, its new one not). */
int pc_dnat_finish(struct pc_parser *p);

/* One [ProxyList] line (trimmed, not a comment). */
int pc_list_line(struct pc_parser *p, const char *line);

#endif
