/*
 * The one table of real libc functions (proxychains-ng's idea): every
 * symbol looked up once with dlsym(RTLD_NEXT) under pthread_once, from the
 * constructor or from whichever hook runs first, on any thread.
 *
 * A lookup that lands in our own object is refused. RTLD_NEXT cannot
 * normally return ourselves, but a library preloaded twice, or loaded once
 * by LD_PRELOAD and again by dlopen(), can hand one copy's hook to the
 * other; comparing the load base of the symbol with our own catches every
 * hook at once, where comparing with each hook's address would miss the
 * second copy. A refused entry stays NULL and its hook fails with ENOSYS.
 */
#include <dlfcn.h>
#include <errno.h>
#include <pthread.h>

#include "realfn.h"

static struct sfy_real real;
static struct socks5_io real_io;
static pthread_once_t real_once = PTHREAD_ONCE_INIT;

/* initial-exec: a preloaded library has static TLS, and the first touch of
 * a global-dynamic variable may call malloc inside a hook. */
static __thread int inside __attribute__((tls_model("initial-exec")));

static void *lookup(const char *name, const void *self_base)
{
	void *p = dlsym(RTLD_NEXT, name);
	Dl_info di;

	if (p && self_base && dladdr(p, &di) && di.dli_fbase == self_base)
		return NULL;
	return p;
}

static void resolve_all(void)
{
	const void *self = NULL;
	int saved = errno;
	Dl_info di;

	if (dladdr((const void *)&resolve_all, &di))
		self = di.dli_fbase;

#define REAL(name) real.name = (__typeof__(real.name))lookup(#name, self)
	REAL(connect);
	REAL(close);
	REAL(dup);
	REAL(dup2);
	REAL(dup3);
	REAL(fcntl);
	REAL(fcntl64);
	REAL(getpeername);
	REAL(getsockname);
	REAL(send);
	REAL(recv);
	REAL(sendto);
	REAL(recvfrom);
	REAL(sendmsg);
	REAL(sendmmsg);
	REAL(recvmsg);
	REAL(poll);
	REAL(getaddrinfo);
	REAL(freeaddrinfo);
	REAL(getnameinfo);
	REAL(gethostbyname);
	REAL(gethostbyname2);
	REAL(gethostbyname_r);
	REAL(gethostbyname2_r);
	REAL(gethostbyaddr);
	REAL(gethostbyaddr_r);
	REAL(read);
	REAL(write);
	REAL(readv);
	REAL(writev);
	REAL(recvmmsg);
	REAL(close_range);
	REAL(closefrom);
	REAL(syscall);
	REAL(socket);
	REAL(socketpair);
	REAL(accept);
	REAL(accept4);
#undef REAL
	real.read_chk = (__typeof__(real.read_chk))lookup("__read_chk", self);
	real.recv_chk = (__typeof__(real.recv_chk))lookup("__recv_chk", self);
	real.recvfrom_chk =
		(__typeof__(real.recvfrom_chk))lookup("__recvfrom_chk", self);

	real_io.send = real.send;
	real_io.recv = real.recv;
	real_io.poll = real.poll;
	real_io.connect = real.connect;
	real_io.fcntl = real.fcntl;
	/* dlsym may leave errno changed; the hook that got here first must
	 * not show that to its caller. */
	errno = saved;
}

const struct sfy_real *sfy_real(void)
{
	pthread_once(&real_once, resolve_all);
	return &real;
}

const struct socks5_io *sfy_real_io(void)
{
	pthread_once(&real_once, resolve_all);
	return &real_io;
}

bool sfy_inside(void)
{
	return inside != 0;
}

void sfy_inside_enter(void)
{
	inside++;
}

void sfy_inside_leave(void)
{
	inside--;
}
