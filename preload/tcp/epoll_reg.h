/*
 * The program's epoll registrations of stream sockets that may connect
 * through the proxy (epoll_reg.c; the hooks in hook_epoll.c).
 */
#ifndef SOCKSIFY_PRELOAD_TCP_EPOLL_REG_H
#define SOCKSIFY_PRELOAD_TCP_EPOLL_REG_H

#include <stdatomic.h>
#include <stdint.h>
#include <sys/epoll.h>

/* Registrations recorded (0: none; one load for the hooks). */
extern atomic_int sfy_epoll_regs __attribute__((visibility("hidden")));

/* The program's ADD/MOD (ev as the program gave it), DEL. */
void sfy_epoll_reg_put(int epfd, int fd, const struct epoll_event *ev);
void sfy_epoll_reg_del(int epfd, int fd);
/* fd is a new descriptor (socket()): registrations of its number left
 * by a close we did not see go. */
void sfy_epoll_reg_drop_fd(int fd);
/* The program's registrations of fd (at most max): their sets in
 * epfds, its events in evs. For a descriptor number about to name another
 * socket (tcp/bind.c), whose registrations must move with the number. */
int sfy_epoll_reg_of(int fd, int *epfds, struct epoll_event *evs, int max);
/* The connecting (or failed) descriptor registered in epfd with data;
 * -1 when none. */
int sfy_epoll_reg_match(int epfd, epoll_data_t data);
/* Up to max EPOLLIN events (with the program's data) for descriptors
 * registered in epfd for EPOLLIN for which ready(fd) is true: protected
 * streams holding plaintext (tcp/gss_stream.h). Returns how many. */
#include <stdbool.h>
int sfy_epoll_reg_ready(int epfd, bool (*ready)(int fd),
			struct epoll_event *out, int max);
/* The kernel's events for a machine that waits for need (POLLIN, POLLOUT). */
uint32_t sfy_epoll_reg_need(short need);

/* The fork child handler's part (tcp/asynctable.c). */
void sfy_epoll_reg_fork_child(void);

#endif
