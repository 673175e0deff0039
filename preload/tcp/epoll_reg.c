/*
 * What the program registered in its epoll sets for stream sockets that
 * may connect through the proxy (recorded by the epoll_ctl hook for the
 * sockets our socket() made and for connecting ones): while a handshake
 * runs, the kernel's registration is swapped for what the machine waits
 * for (EPOLLONESHOT, so that one waiter of a shared set steps it, the
 * program's data kept), and the program's own comes back when it is over
 * (EPOLL_CTL_MOD re-arms an edge-triggered registration, so the program
 * gets its EPOLLOUT exactly then).
 *
 * A fixed table under a spin lock (short sections, no allocation). A
 * full table records no more: such sockets are not hidden while they
 * connect (logged once at -vv).
 */
#include <errno.h>
#include <stdatomic.h>
#include <string.h>
#include <sys/epoll.h>

#include "base/log.h"
#include "base/realfn.h"
#include "tcp/async.h"
#include "tcp/epoll_reg.h"

#define REG_MAX 1024

struct reg {
	int epfd; /* -1: free */
	int fd;
	struct epoll_event ev; /* the program's */
};

static struct reg regs[REG_MAX];
static int nregs; /* one above the highest used entry */
static atomic_flag reg_lock = ATOMIC_FLAG_INIT;
atomic_int sfy_epoll_regs;

static void take_lock(void)
{
	while (atomic_flag_test_and_set_explicit(&reg_lock,
						 memory_order_acquire))
		;
}

static void drop_lock(void)
{
	atomic_flag_clear_explicit(&reg_lock, memory_order_release);
}

/* A fork child: the lock's holder may be a thread the child has not. */
void sfy_epoll_reg_fork_child(void)
{
	drop_lock();
}

static struct reg *lookup(int epfd, int fd)
{
	for (int i = 0; i < nregs; i++)
		if (regs[i].epfd == epfd && regs[i].fd == fd &&
		    regs[i].epfd >= 0)
			return &regs[i];
	return NULL;
}

static void unset(struct reg *g)
{
	g->epfd = -1;
	atomic_fetch_sub_explicit(&sfy_epoll_regs, 1, memory_order_relaxed);
}

void sfy_epoll_reg_put(int epfd, int fd, const struct epoll_event *ev)
{
	struct reg *g;
	int i;

	take_lock();
	g = lookup(epfd, fd);
	for (i = 0; !g && i < REG_MAX; i++) {
		if (i >= nregs) {
			nregs = i + 1;
			regs[i].epfd = -1;
		}
		if (regs[i].epfd < 0) {
			g = &regs[i];
			g->epfd = epfd;
			g->fd = fd;
			atomic_fetch_add_explicit(&sfy_epoll_regs, 1,
						  memory_order_relaxed);
		}
	}
	if (g)
		g->ev = *ev;
	drop_lock();
	if (!g)
		sfy_debug("epoll set %d: no room to record fd %d", epfd, fd);
}

void sfy_epoll_reg_del(int epfd, int fd)
{
	struct reg *g;

	take_lock();
	g = lookup(epfd, fd);
	if (g)
		unset(g);
	drop_lock();
}

void sfy_epoll_reg_drop_fd(int fd)
{
	take_lock();
	for (int i = 0; i < nregs; i++)
		if (regs[i].epfd >= 0 && regs[i].fd == fd)
			unset(&regs[i]);
	drop_lock();
}

int sfy_epoll_reg_of(int fd, int *epfds, struct epoll_event *evs, int max)
{
	int n = 0;

	if (!atomic_load_explicit(&sfy_epoll_regs, memory_order_relaxed))
		return 0;
	take_lock();
	for (int i = 0; i < nregs && n < max; i++)
		if (regs[i].epfd >= 0 && regs[i].fd == fd) {
			epfds[n] = regs[i].epfd;
			evs[n++] = regs[i].ev;
		}
	drop_lock();
	return n;
}

int sfy_epoll_reg_match(int epfd, epoll_data_t data)
{
	int fd = -1;

	take_lock();
	for (int i = 0; i < nregs && fd < 0; i++)
		if (regs[i].epfd == epfd && regs[i].ev.data.u64 == data.u64 &&
		    sfy_async_state(regs[i].fd) >= SFY_ASYNC_PENDING)
			fd = regs[i].fd;
	drop_lock();
	return fd;
}

/* What the kernel is told for a registration of a connecting socket. */
uint32_t sfy_epoll_reg_need(short need)
{
	return ((need & POLLIN) ? EPOLLIN : 0) |
	       ((need & POLLOUT) ? EPOLLOUT : 0) | EPOLLONESHOT;
}

/* MODs every registration of fd: to the machine's need (need != 0) or
 * back to the program's events. A registration the kernel no longer has
 * (closed set, DEL we did not see) is forgotten. */
static void remod(int fd, short need)
{
	int (*ctl)(int, int, int, struct epoll_event *) = sfy_real()->epoll_ctl;

	if (!ctl ||
	    !atomic_load_explicit(&sfy_epoll_regs, memory_order_relaxed))
		return;
	int saved = errno;

	take_lock();
	for (int i = 0; i < nregs; i++) {
		struct reg *g = &regs[i];
		struct epoll_event k;

		if (g->epfd < 0 || g->fd != fd)
			continue;
		k = g->ev;
		if (need)
			k.events = sfy_epoll_reg_need(need);
		if (ctl(g->epfd, EPOLL_CTL_MOD, fd, &k) < 0 &&
		    (errno == ENOENT || errno == EBADF))
			unset(g);
	}
	drop_lock();
	errno = saved;
}

void sfy_epoll_reg_arm(int fd, short need)
{
	remod(fd, need);
}

void sfy_epoll_reg_restore(int fd)
{
	remod(fd, 0);
}

int sfy_epoll_reg_ready(int epfd, bool (*ready)(int fd),
			struct epoll_event *out, int max)
{
	int k = 0;

	take_lock();
	for (int i = 0; i < nregs && k < max; i++)
		if (regs[i].epfd == epfd && regs[i].epfd >= 0 &&
		    (regs[i].ev.events & EPOLLIN) && ready(regs[i].fd)) {
			out[k].events = EPOLLIN;
			out[k].data = regs[i].ev.data;
			k++;
		}
	drop_lock();
	return k;
}
