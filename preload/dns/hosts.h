/*
 * A small /etc/hosts reader, so that remote DNS can tell local names from
 * names the proxy must resolve without asking the resolver (which could
 * send the name to a DNS server). Reads the file on each lookup through a
 * bounded stack buffer with open/pread (not hooked): no shared state, so
 * it is thread-safe; a line longer than the buffer is ignored.
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

/* The same on /etc/hosts. */
int sfy_hosts_lookup(const char *name, struct sfy_hosts_result *out);

#endif
