/*
 * The one table of real libc functions (proxychains-ng's idea): every
 * symbol looked up once with dlsym(RTLD_NEXT) under pthread_once, from the
 * constructor or from whichever hook runs first, on any thread.
 *
 * A lookup that lands in our own object is refused. RTLD_NEXT cannot
 * normally return ourselves, but a library preloaded twice, or loaded once
 * by LD_PRELOAD and again by dlopen(), can hand one copy's hook to the
 * other; checking whether the symbol lies inside our own object catches
 * every hook at once, where comparing with each hook's address would miss
 * the second copy. A refused entry stays NULL and its hook fails with ENOSYS.
 */
#include <dlfcn.h>
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>

#include "base/realfn.h"

/* Not static: realfn.h's inline sfy_real() and sfy_inside() read them
 * (hidden, declared there). */
struct sfy_real sfy_real_table;
static struct socks5_io real_io;
static pthread_once_t real_once = PTHREAD_ONCE_INIT;
/* Every hook asks for the table first: once it is there, that is one
 * acquire load instead of a call to pthread_once. */
atomic_bool sfy_real_ready;

/* initial-exec: a preloaded library has static TLS, and the first touch of
 * a global-dynamic variable may call malloc inside a hook. */
__thread int sfy_inside_depth __attribute__((tls_model("initial-exec")));

/*
 * Our own object's extent, from symbols the linker defines in every
 * object it links: the ELF header at the load address, and the end of the
 * bss. (dladdr() answered the same question, but glibc's _dl_addr scans
 * the whole symbol table of the object a pointer falls in: for libc's
 * functions, thousands of symbols each time, 3.5 million instructions for
 * the table below (about a millisecond at every program's start) and
 * 110 KiB more of libc's pages in memory.)
 */
extern const char __ehdr_start[] __attribute__((visibility("hidden")));
extern const char _end[] __attribute__((visibility("hidden")));

static bool is_self(const void *p)
{
	return (const char *)p >= __ehdr_start && (const char *)p < _end;
}

static void *lookup(const char *name)
{
	void *p = dlsym(RTLD_NEXT, name);

	return p && is_self(p) ? NULL : p;
}

static void resolve_all(void)
{
	int saved = errno;

/* Stored atomically: SFY_REAL_FAST reads an entry without the ready flag. */
#define REAL(name) \
	__atomic_store_n(&sfy_real_table.name, \
			 (__typeof__(sfy_real_table.name))lookup(#name), \
			 __ATOMIC_RELAXED)
	REAL(connect);
	REAL(close);
	REAL(dup);
	REAL(dup2);
	REAL(dup3);
	REAL(fcntl);
	REAL(fcntl64);
	REAL(getpeername);
	REAL(getsockname);
	REAL(getsockopt);
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
	REAL(listen);
	REAL(bind);
	REAL(getaddrinfo_a);
	REAL(res_nquery);
	REAL(res_nsearch);
	REAL(res_nquerydomain);
	REAL(res_nsend);
	REAL(ppoll);
	REAL(select);
	REAL(pselect);
	REAL(epoll_ctl);
	REAL(epoll_wait);
	REAL(epoll_pwait);
	REAL(epoll_pwait2);
	REAL(sigaction);
	REAL(clone);
	REAL(_Fork);
	REAL(execve);
	REAL(execveat);
	REAL(fexecve);
	REAL(execv);
	REAL(execvp);
	REAL(execvpe);
	REAL(posix_spawn);
	REAL(posix_spawnp);
	REAL(sendfile);
	REAL(sendfile64);
	REAL(splice);
#undef REAL
	sfy_real_table.read_chk = (__typeof__(sfy_real_table.read_chk))lookup("__read_chk");
	sfy_real_table.recv_chk = (__typeof__(sfy_real_table.recv_chk))lookup("__recv_chk");
	sfy_real_table.recvfrom_chk =
		(__typeof__(sfy_real_table.recvfrom_chk))lookup("__recvfrom_chk");

	real_io.send = sfy_real_table.send;
	real_io.recv = sfy_real_table.recv;
	real_io.poll = sfy_real_table.poll;
	real_io.connect = sfy_real_table.connect;
	real_io.fcntl = sfy_real_table.fcntl;
	real_io.sendto = sfy_real_table.sendto;
	real_io.getsockopt = sfy_real_table.getsockopt;
	real_io.peek = true;
	atomic_store_explicit(&sfy_real_ready, true, memory_order_release);
	/* dlsym may leave errno changed; the hook that got here first must
	 * not show that to its caller. */
	errno = saved;
}

static void resolve_once(void)
{
	if (!atomic_load_explicit(&sfy_real_ready, memory_order_acquire))
		pthread_once(&real_once, resolve_all);
}

const struct sfy_real *sfy_real_slow(void)
{
	resolve_once();
	return &sfy_real_table;
}

const struct socks5_io *sfy_real_io(void)
{
	resolve_once();
	return &real_io;
}

void sfy_inside_enter(void)
{
	sfy_inside_depth++;
}

void sfy_inside_leave(void)
{
	sfy_inside_depth--;
}
