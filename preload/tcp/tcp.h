/*
 * TCP through the chain (tcp/connect.c): the connection the routing
 * decision (route/decide.h) sends through the proxy, and the record that
 * remembers it. Internal; functions return 0 (or a count) or -errno.
 */
#ifndef SOCKSIFY_PRELOAD_TCP_H
#define SOCKSIFY_PRELOAD_TCP_H

#include <stdint.h>
#include <sys/socket.h>

#include "socks5.h"

struct sfy_fd_info;
struct sfy_route;

/* connect() of fd to sa (as the program gave it, len bytes) through the
 * chain to route->dst (SFY_VIA_CHAIN). 0 or -errno, with one log line on
 * failure; the socket's record on success. -EPROTOTYPE when fd turned out
 * not to be a stream socket (a stale hint, sockhint.h) before anything
 * was sent. */
int sfy_tcp_connect_via(int fd, const struct sockaddr *sa, socklen_t len,
			const struct sfy_route *route);

/* fd (a fresh stream socket of the library's) connected through the
 * chain, as connect() does, blocking, with cmd at the last hop (BIND:
 * tcp/bind.c) to dst; *bound the last hop's reply. what names the
 * command in log lines ("BIND for"). 0 or -errno, one log line on
 * failure. */
int sfy_tcp_chain_cmd(int fd, uint8_t cmd, const struct socks5_addr *dst,
		      const char *what, struct socks5_reply *bound);

/* Whether fd is still the socket its TCP record (info) was made for: 1
 * when the kernel's peer is the record's proxy address, 0 when it is not
 * (a number reused after a close we did not see: the record is dropped),
 * -errno when the kernel has no peer for fd (ENOTCONN after a reset). The
 * kernel's peer in *peer, *len. errno is left as it was. */
int sfy_tcp_record_check(int fd, const struct sfy_fd_info *info,
			 struct sockaddr_storage *peer, socklen_t *len);

#endif
