/*
 * Listening sockets served by SOCKS5 BIND at the proxy (tcp/bind.c; the
 * hooks in hooks/hook_listen.c, hook_socket.c's accept, hook_peer.c).
 * Internal; functions return 0 (or a descriptor) or -errno.
 */
#ifndef SOCKSIFY_PRELOAD_TCP_BIND_H
#define SOCKSIFY_PRELOAD_TCP_BIND_H

#include <stdbool.h>
#include <sys/socket.h>

#include "socks5.h"

/* A proxied connect() to dst succeeded (tcp/connect.c): dst is the host
 * the process talks to, whose connection back a later listen() expects. */
void sfy_bind_note_peer(const struct socks5_addr *dst);

/* At load (init.c): a fork child's handler that releases BIND's locks,
 * which a thread of the parent may have held (a listen() in the child
 * would otherwise find no peer and stay local). */
void sfy_bind_init(void);
void sfy_bind_peer_fork_child(void); /* bind_peer.c's part */

/* The destination noted last (false: none yet). */
bool sfy_bind_peer_get(struct socks5_addr *out);

/* CONNECT's reply bnd as getsockname() shows it for a socket of family
 * (*out, its length; 0 when the proxy named no address: 0.0.0.0, a
 * name). The address is remembered: a later bind() to it means a
 * socket that listens at the proxy (sfy_bind_wanted). */
socklen_t sfy_bind_connect_shown(const struct socks5_addr *bnd, int family,
				 union sfy_inaddr *out);

/* bind(fd, sa) names an address a proxied socket showed as its own
 * (sfy_bind_connect_shown), which the host does not have: true when the
 * socket is to listen at the proxy (SOCKSIFY_BIND=auto). */
bool sfy_bind_wanted(const struct sockaddr *sa, socklen_t len);

/* bind() to such an address: BIND at once, so that getsockname() shows
 * the port before listen() (curl's active FTP asks then). 0 or -errno. */
int sfy_bind_at_bind(int fd);

/* listen(fd, backlog): 1 when the socket stays local (the caller calls
 * the real listen()), else 0 once the proxy gave BIND's first reply, or
 * -errno. */
int sfy_bind_listen(int fd, int backlog);

/* accept4(fd, ...) on a socket whose record says SFY_FD_BIND: the new
 * descriptor once BIND's second reply is in, or -errno (-EAGAIN for a
 * non-blocking socket while it is not). */
int sfy_bind_accept(int fd, struct sockaddr *sa, socklen_t *len, int flags);

#endif
