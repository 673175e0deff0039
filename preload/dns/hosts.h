/*
 * A small /etc/hosts reader, so that remote DNS can tell local names from
 * names the proxy must resolve without asking the resolver (which could
 * send the name to a DNS server). sfy_hosts_lookup_file reads a file
 * through a bounded stack buffer with open/pread (not hooked);
 * sfy_hosts_lookup keeps /etc/hosts in memory, keyed by its device,
 * inode, mtime and size (one stat() per lookup; hosts.c says how it stays
 * thread- and fork-safe). A line of 4096 bytes or more is ignored.
 */
#ifndef SOCKSIFY_PRELOAD_HOSTS_H
#define SOCKSIFY_PRELOAD_HOSTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "socks5.h"

#define SFY_HOSTS_PATH "/etc/hosts"
#define SFY_HOSTS_ADDRS_MAX 16

struct sfy_hosts_addr {
	int family;       /* AF_INET or AF_INET6 */
	uint8_t addr[16]; /* network order; 4 bytes used for AF_INET */
};

struct sfy_hosts_result {
	bool has4, has6;  /* the name has an address of that family */
	size_t n;         /* addresses kept (file order), at most ..._MAX */
	struct sfy_hosts_addr addrs[SFY_HOSTS_ADDRS_MAX];
	char canon[SOCKS5_DOMAIN_MAX + 1]; /* first name of the first line */
};

/*
 * Looks name up (case-insensitive, canonical names and aliases, one
 * trailing dot ignored) in the hosts file at path. Returns 1 when found,
 * 0 when not (or the file does not exist), -errno on a read error.
 */
int sfy_hosts_lookup_file(const char *path, const char *name,
			  struct sfy_hosts_result *out);

/* The same from an in-memory copy of the file at path, read again when
 * its identity (device, inode, mtime, size) changes. One copy per process,
 * for one path: the library's is /etc/hosts. */
int sfy_hosts_lookup_cached(const char *path, const char *name,
			    struct sfy_hosts_result *out);

/* sfy_hosts_lookup_cached on /etc/hosts. */
int sfy_hosts_lookup(const char *name, struct sfy_hosts_result *out);

#endif
