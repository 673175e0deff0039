/*
 * The one table of real libc functions, found with dlsym(RTLD_NEXT).
 *
 * Resolved once through pthread_once, from the constructor or from whichever
 * hook runs first (a hook can run before our constructor, from any thread).
 * A lookup that would return our own hook is refused (the entry stays NULL,
 * and the hook fails with ENOSYS rather than recursing).
 */
#ifndef SOCKSIFY_PRELOAD_REALFN_H
#define SOCKSIFY_PRELOAD_REALFN_H

#include <netdb.h>
#include <poll.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <signal.h>
#include <sys/epoll.h>
#include <sys/select.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <sys/uio.h>
#include <time.h>

#include "socks5.h"

struct sfy_real {
	int (*connect)(int, const struct sockaddr *, socklen_t);
	int (*close)(int);
	int (*dup)(int);
	int (*dup2)(int, int);
	int (*dup3)(int, int, int);
	int (*fcntl)(int, int, ...);
	int (*getpeername)(int, struct sockaddr *, socklen_t *);
	int (*getsockname)(int, struct sockaddr *, socklen_t *);
	/* The library's own questions (a socket's type, family, SO_ERROR):
	 * getsockopt may be hooked (event loops ask it for SO_ERROR). */
	int (*getsockopt)(int, int, int, void *, socklen_t *);
	ssize_t (*send)(int, const void *, size_t, int);
	ssize_t (*recv)(int, void *, size_t, int);
	ssize_t (*sendto)(int, const void *, size_t, int,
			  const struct sockaddr *, socklen_t);
	ssize_t (*recvfrom)(int, void *, size_t, int, struct sockaddr *,
			    socklen_t *);
	ssize_t (*sendmsg)(int, const struct msghdr *, int);
	ssize_t (*recvmsg)(int, struct msghdr *, int);
	int (*poll)(struct pollfd *, nfds_t, int);
	int (*getaddrinfo)(const char *, const char *, const struct addrinfo *,
			   struct addrinfo **);
	void (*freeaddrinfo)(struct addrinfo *);
	int (*getnameinfo)(const struct sockaddr *, socklen_t, char *, socklen_t,
			   char *, socklen_t, int);
	struct hostent *(*gethostbyname)(const char *);
	struct hostent *(*gethostbyname2)(const char *, int);
	int (*gethostbyname_r)(const char *, struct hostent *, char *, size_t,
			       struct hostent **, int *);
	int (*gethostbyname2_r)(const char *, int, struct hostent *, char *,
				size_t, struct hostent **, int *);
	struct hostent *(*gethostbyaddr)(const void *, socklen_t, int);
	int (*gethostbyaddr_r)(const void *, socklen_t, int, struct hostent *,
			       char *, size_t, struct hostent **, int *);
	/* Programs built with _FILE_OFFSET_BITS=64 call fcntl64. */
	int (*fcntl64)(int, int, ...);
	int (*sendmmsg)(int, struct mmsghdr *, unsigned int, int);
	/* UDP data path (hook_udp.c, hook_recv.c, udp/) */
	ssize_t (*read)(int, void *, size_t);
	ssize_t (*write)(int, const void *, size_t);
	ssize_t (*readv)(int, const struct iovec *, int);
	ssize_t (*writev)(int, const struct iovec *, int);
	int (*recvmmsg)(int, struct mmsghdr *, unsigned int, int,
			struct timespec *);
	ssize_t (*read_chk)(int, void *, size_t, size_t);
	ssize_t (*recv_chk)(int, void *, size_t, size_t, int);
	ssize_t (*recvfrom_chk)(int, void *, size_t, size_t, int,
				struct sockaddr *, socklen_t *);
	long (*syscall)(long, ...);
	/* descriptor creation and sweeps (hook_fd.c) */
	int (*socket)(int, int, int);
	int (*socketpair)(int, int, int, int[2]);
	int (*accept)(int, struct sockaddr *, socklen_t *);
	int (*accept4)(int, struct sockaddr *, socklen_t *, int);
	int (*listen)(int, int); /* hook_listen.c */
	int (*bind)(int, const struct sockaddr *, socklen_t);
	int (*close_range)(unsigned int, unsigned int, int);
	void (*closefrom)(int);
	/* glibc's asynchronous lookups (hook_gai_async.c) */
	int (*getaddrinfo_a)(int, struct gaicb **, int, struct sigevent *);
	/* the low-level resolver (hook_res.c); res_state is a pointer */
	int (*res_nquery)(void *, const char *, int, int, unsigned char *, int);
	int (*res_nsearch)(void *, const char *, int, int, unsigned char *, int);
	int (*res_nquerydomain)(void *, const char *, const char *, int, int,
				unsigned char *, int);
	int (*res_nsend)(void *, const unsigned char *, int, unsigned char *,
			 int);
	/* the waits that step handshakes (hook_poll.c, hook_epoll.c) */
	int (*ppoll)(struct pollfd *, nfds_t, const struct timespec *,
		     const sigset_t *);
	int (*select)(int, fd_set *, fd_set *, fd_set *, struct timeval *);
	int (*pselect)(int, fd_set *, fd_set *, fd_set *,
		       const struct timespec *, const sigset_t *);
	int (*epoll_ctl)(int, int, int, struct epoll_event *);
	int (*epoll_wait)(int, struct epoll_event *, int, int);
	int (*epoll_pwait)(int, struct epoll_event *, int, int,
			   const sigset_t *);
	int (*epoll_pwait2)(int, struct epoll_event *, int,
			    const struct timespec *, const sigset_t *);
	int (*sigaction)(int, const struct sigaction *, struct sigaction *);
	/* the exec family (hook_exec.c); posix_spawn's attribute and file
	 * action types are pointers here */
	int (*execve)(const char *, char *const[], char *const[]);
	int (*execveat)(int, const char *, char *const[], char *const[], int);
	int (*fexecve)(int, char *const[], char *const[]);
	int (*execv)(const char *, char *const[]);
	int (*execvp)(const char *, char *const[]);
	int (*execvpe)(const char *, char *const[], char *const[]);
	int (*posix_spawn)(pid_t *, const char *, const void *, const void *,
			   char *const[], char *const[]);
	int (*posix_spawnp)(pid_t *, const char *, const void *, const void *,
			    char *const[], char *const[]);
	/* children that run no atfork handler (hook_fork.c) */
	int (*clone)(int (*)(void *), void *, int, void *, ...);
	pid_t (*_Fork)(void);
	/* the zero-copy calls (hook_sendfile.c) */
	ssize_t (*sendfile)(int, int, off_t *, size_t);
	ssize_t (*sendfile64)(int, int, off_t *, size_t);
	ssize_t (*splice)(int, off_t *, int, off_t *, size_t, unsigned int);
};

/* The table, resolved on first use. Never NULL; entries may be NULL only
 * when libc lacks the symbol. Hidden. Every hook asks first, so once the
 * table is there this is one acquire load, inline (no call, no GOT: the
 * two objects below are hidden); before that, sfy_real_slow() resolves it
 * under pthread_once. */
extern struct sfy_real sfy_real_table __attribute__((visibility("hidden")));
extern atomic_bool sfy_real_ready __attribute__((visibility("hidden")));
const struct sfy_real *sfy_real_slow(void);

static inline const struct sfy_real *sfy_real(void)
{
	if (__builtin_expect(atomic_load_explicit(&sfy_real_ready,
						  memory_order_acquire), 1))
		return &sfy_real_table;
	return sfy_real_slow();
}

/* One entry, without waiting for the whole table: for the hottest hooks
 * (read, write, close), whose fast path needs nothing else from it and so
 * costs a load and a test. NULL until resolved (then: the slow path). */
#define SFY_REAL_FAST(name) \
	__atomic_load_n(&sfy_real_table.name, __ATOMIC_RELAXED)

/* The client core's I/O table over the real functions. */
const struct socks5_io *sfy_real_io(void);

/* A per-thread mark set while the library itself runs a libc function
 * that may call back into our hooks (the real getaddrinfo resolving the
 * proxy's name loads NSS modules that connect()). Hooks reached while it
 * is set pass straight to the real function: no recursion, no deadlock on
 * a pthread_once the thread is already inside. Async-signal-safe. */
extern __thread int sfy_inside_depth
	__attribute__((tls_model("initial-exec"), visibility("hidden")));

static inline bool sfy_inside(void)
{
	return sfy_inside_depth != 0;
}

void sfy_inside_enter(void);
void sfy_inside_leave(void);

#endif
