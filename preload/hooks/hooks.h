/*
 * What the hook files share (internal, hidden): the internal names of
 * the exported hooks and the small pieces of bookkeeping they all do.
 * Where a call goes is route/decide.h's answer; carrying it out is
 * tcp/, udp/ and dns/'s. Those return 0 (or a count) or a negative errno;
 * only the exported hook sets errno, and only on failure.
 */
#ifndef SOCKSIFY_PRELOAD_HOOKS_H
#define SOCKSIFY_PRELOAD_HOOKS_H

#include <errno.h>
#include <stdbool.h>
#include <signal.h>
#include <sys/select.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <time.h>

#include "base/sockaddr.h"
#include "state/fdstate.h"

struct sfy_fd_info;

/* A hook whose real function is missing: -1 with ENOSYS. */
static inline int sfy_nosys(void)
{
	errno = ENOSYS;
	return -1;
}

/* The descriptor hooks (hook_fd.c) under names of their own (the exported
 * names are their aliases, SFY_EXPORT_AS below), for
 * syscall(SYS_close, ...) and friends (hook_syscall.c): same bookkeeping,
 * same return and errno as close(), dup(), dup2(), dup3(), close_range()
 * and fcntl(fd, F_DUPFD or F_DUPFD_CLOEXEC, arg). */
int sfy_close(int fd);
int sfy_dup(int fd);
int sfy_dup2(int oldfd, int newfd);
int sfy_dup3(int oldfd, int newfd, int flags);
int sfy_close_range(unsigned int first, unsigned int last, int flags);
int sfy_fcntl_dupfd(int fd, int cmd, int arg);

/* The socket and datagram hooks under names of their own: the exported
 * name is an alias of each (SFY_EXPORT_AS), so a call from inside the
 * library binds here, never through the PLT to whichever copy of the
 * name the dynamic linker picked (DESIGN: no internal call of an
 * exported name; the build checks it). */
#define SFY_EXPORT_AS(internal) __attribute__((alias(#internal)))
int sfy_socket(int domain, int type, int protocol);
int sfy_accept(int fd, struct sockaddr *sa, socklen_t *len);
int sfy_accept4(int fd, struct sockaddr *sa, socklen_t *len, int flags);
int sfy_listen(int fd, int backlog);
int sfy_bind(int fd, const struct sockaddr *sa, socklen_t len);
int sfy_execve(const char *path, char *const argv[], char *const envp[]);
int sfy_execveat(int dirfd, const char *path, char *const argv[],
		 char *const envp[], int flags);
int sfy_connect(int fd, const struct sockaddr *sa, socklen_t len);
int sfy_getsockopt(int fd, int level, int opt, void *val, socklen_t *len);
int sfy_sigaction(int sig, const struct sigaction *act, struct sigaction *old);
/* The waits that step handshakes (hook_poll.c, hook_epoll.c). */
struct pollfd;
struct epoll_event;
int sfy_poll(struct pollfd *p, unsigned long n, int timeout);
int sfy_ppoll(struct pollfd *p, unsigned long n, const struct timespec *ts,
	      const sigset_t *mask);
int sfy_select(int nfds, fd_set *rd, fd_set *wr, fd_set *ex,
	       struct timeval *tv);
int sfy_pselect(int nfds, fd_set *rd, fd_set *wr, fd_set *ex,
		const struct timespec *ts, const sigset_t *mask);
int sfy_epoll_ctl(int epfd, int op, int fd, struct epoll_event *ev);
int sfy_epoll_wait(int epfd, struct epoll_event *ev, int max, int timeout);
int sfy_epoll_pwait(int epfd, struct epoll_event *ev, int max, int timeout,
		    const sigset_t *mask);
int sfy_epoll_pwait2(int epfd, struct epoll_event *ev, int max,
		     const struct timespec *ts, const sigset_t *mask);
struct addrinfo;
int sfy_getaddrinfo(const char *node, const char *service,
		    const struct addrinfo *hints, struct addrinfo **res);
/* A message's address length as sendmsg() takes it (not as sendto()):
 * 0, no address, for a NULL name or length 0; longer than
 * sockaddr_storage cut to it; a negative one left to the real call. */
static inline socklen_t sfy_msg_name_len(const struct msghdr *m)
{
	if (!m->msg_name)
		return 0;
	if ((int)m->msg_namelen >= 0 &&
	    m->msg_namelen > sizeof(struct sockaddr_storage))
		return sizeof(struct sockaddr_storage);
	return m->msg_namelen;
}

ssize_t sfy_sendto(int fd, const void *buf, size_t n, int flags,
		   const struct sockaddr *sa, socklen_t len);
ssize_t sfy_sendmsg(int fd, const struct msghdr *msg, int flags);
int sfy_sendmmsg(int fd, struct mmsghdr *vec, unsigned int vlen, int flags);
ssize_t sfy_recvfrom(int fd, void *buf, size_t n, int flags,
		     struct sockaddr *sa, socklen_t *salen);
ssize_t sfy_recvmsg(int fd, struct msghdr *msg, int flags);
int sfy_recvmmsg(int fd, struct mmsghdr *vec, unsigned int vlen, int flags,
		 struct timespec *timeout);

/* With remote DNS (or a configuration that fails closed), whether a
 * reverse lookup of sa (not a fake address) must not be asked of DNS: the
 * local name server would learn which address the program talks to,
 * while the proxy reaches it. Addresses that go direct by configuration
 * (SOCKSIFY_NO_PROXY, loopback by default) are looked up as usual
 * (hook_getnameinfo.c). */
bool sfy_reverse_refused(const struct sockaddr *sa);

/* fd was just made by socket(), socketpair(), accept() or accept4()
 * called by number (hook_syscall.c): as those hooks do, state left on
 * its number is dropped; stream says it is an AF_INET/AF_INET6 stream
 * socket made by socket() (sockhint.h). */
void sfy_fd_made(int fd, bool stream);

/* After a recvmsg()/recvmmsg() that received ancillary data: descriptors
 * passed with SCM_RIGHTS are new, and state left on their numbers by a
 * close we did not see is dropped (as socket() and accept() do). */
void sfy_fds_received(const struct msghdr *msg);

/* Whether to call it: only once any descriptor had state, and only when
 * the message carried ancillary data. One load, one test. */
static inline bool sfy_fds_maybe_received(const struct msghdr *msg)
{
	return msg && msg->msg_controllen && msg->msg_control &&
	       !sfy_fd_no_state_yet();
}

#endif
