/*
 * The library's one constructor: everything that runs when the library
 * is loaded, in the order it must run. Cheap and quiet: nothing here
 * resolves a name, opens a connection or writes a log line (the proxy's
 * name is resolved on first need, in route/proxyaddr.c), and a hook that
 * runs before this (another library's constructor calling connect())
 * finds each piece initialised on demand.
 *
 * Fork child handlers run in the order they are registered here.
 */
#include <errno.h>

#include "base/config.h"
#include "base/realfn.h"
#include "base/secretwipe.h"
#include "dns/fakeip.h"
#include "route/decide.h"
#include "route/hopmem.h"
#include "state/fdstate.h"
#include "tcp/gss_stream.h"
#include "state/vfork.h"
#include "tcp/bind.h"
#include "udp/udp_assoc.h"

__attribute__((constructor)) static void sfy_init(void)
{
	int saved = errno;

	/* 1. This process's pid: how a hook tells a vfork child. */
	sfy_vfork_init();
	/* 2. The real libc functions, which everything below calls. */
	sfy_real();
	/* 3. The configuration, frozen from here on. Parsing left pieces of
	 *    any password in dead stack (secretwipe.h): one copy stays, the
	 *    parsed configuration's. */
	if (sfy_config_has_password(sfy_config()))
		sfy_wipe_dead_stack();
	/* 4. The fake-IP map's address space (remote DNS). */
	sfy_fakeip_init();
	/* 5. Descriptor state, then the UDP associations that live on it:
	 *    their fork child handlers repair half-written slots. */
	sfy_fdstate_init();
	sfy_gss_init();
	sfy_udp_assoc_init();
	/*    BIND's locks, released in a fork child. */
	sfy_bind_init();
	/* 6. The chain modes' dead-hop memory, shared with forked children
	 *    (made before any child can be). */
	sfy_hopmem_init();
	errno = saved;
}
