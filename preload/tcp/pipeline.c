/*
 * Pipelined handshakes: when to send greeting, credentials and request in
 * one write (SOCKSIFY_PIPELINE; libsocks5 does the sending, see socks5.h).
 *
 * Why not always: microsocks reads each message with one recv() and drops
 * what follows the greeting in the same segment, then waits for a request
 * that never comes; the connection would hang until SOCKSIFY_TIMEOUT_MS
 * and fail. Nothing in a lock-step handshake tells such a server from one
 * that reads by length (dante, Tor), and a pipelined request cannot be
 * resent once lost (a server that did read it would take the copy for the
 * program's data). So, measured on loopback with a relay adding 5 ms each
 * way (tests/bench): lock-step no-auth costs 3 round trips to the first
 * byte, pipelined 2; a wrong guess costs the whole timeout. Hence:
 *
 *   auto (default)  learn it, per process, for the first hop: the second
 *                   proxied connect() runs a probe beside its own
 *                   lock-step handshake, on a second connection to the
 *                   same proxy address: a pipelined greeting [+ password]
 *                   + CONNECT 0.0.0.0:0, which servers refuse at once
 *                   without dialling anything. A well-formed reply of any
 *                   REP proves the server read past the greeting; an
 *                   answered greeting and then 5 ms of silence, or a
 *                   refusal, proves it did not (socks5.h, handshake.c).
 *                   The probe starts with that connect's own connect() and
 *                   never delays it (it ends with it),
 *                   and from then on every connect pipelines hop 1 when
 *                   the answer was yes. The first connect never probes, so
 *                   a program that connects once costs the proxy nothing
 *                   extra. A probe that learnt nothing (the proxy was slow
 *                   to accept it) is tried again, at most PROBE_TRIES times.
 *   on              every hop pipelined from the first connect (the proxy
 *                   is known to take it; a hop with credentials then
 *                   offers only username/password).
 *   off             never; no probe.
 *
 * The verdict lives in this process's memory: a fork() child inherits it;
 * exec() starts afresh. Atomics only: any thread may connect at any time.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdatomic.h>
#include <sys/socket.h>
#include <unistd.h>

#include "base/config.h"
#include "base/log.h"
#include "base/realfn.h"
#include "hooks/hooks.h"
#include "tcp/pipeline.h"

#define PROBE_TRIES 3

enum { V_UNKNOWN, V_PROBING, V_YES, V_NO };

static atomic_int verdict = V_UNKNOWN;
static atomic_int prober_pid;   /* the process whose thread probes */
static atomic_uint connects;    /* proxied connects seen */
static atomic_int tries_left = PROBE_TRIES;

uint32_t sfy_pipeline_hops(const struct sfy_config *cfg)
{
	switch (cfg->pipeline) {
	case SFY_PIPELINE_ON:
		return cfg->nhops >= 32 ? UINT32_MAX :
					  (UINT32_C(1) << cfg->nhops) - 1;
	case SFY_PIPELINE_OFF:
		return 0;
	default:
		return atomic_load_explicit(&verdict, memory_order_relaxed) ==
				       V_YES ? 1u : 0u;
	}
}

/* A fork() while another thread probed leaves V_PROBING in the child,
 * where nobody will finish it. */
static bool claim(void)
{
	int v = V_UNKNOWN;

	if (atomic_compare_exchange_strong(&verdict, &v, V_PROBING))
		return true;
	if (v != V_PROBING || atomic_load(&prober_pid) == getpid())
		return false;
	return atomic_compare_exchange_strong(&verdict, &v, V_PROBING);
}

int sfy_pipeline_probe_open(const struct sfy_config *cfg,
			    const struct sockaddr *to, socklen_t tolen)
{
	const struct sfy_real *r = sfy_real();
	int fd;

	if (atomic_fetch_add(&connects, 1) == 0 ||
	    cfg->pipeline != SFY_PIPELINE_AUTO ||
	    atomic_load_explicit(&verdict, memory_order_relaxed) == V_YES ||
	    atomic_load_explicit(&verdict, memory_order_relaxed) == V_NO ||
	    !r->connect || !r->close || !claim())
		return -1;
	atomic_store(&prober_pid, getpid());
	fd = sfy_socket(to->sa_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
		    0);
	if (fd >= 0 && r->connect(fd, to, tolen) < 0 && errno != EINPROGRESS) {
		r->close(fd);
		fd = -1;
	}
	if (fd < 0)
		sfy_pipeline_probe_done(-1, SOCKS5_PROBE_UNDECIDED);
	return fd;
}

void sfy_pipeline_probe_done(int fd, enum socks5_probe result)
{
	const struct sfy_real *r = sfy_real();
	int saved = errno;

	if (fd >= 0 && r->close)
		r->close(fd);
	if (result == SOCKS5_PROBE_YES || result == SOCKS5_PROBE_NO) {
		atomic_store(&verdict, result == SOCKS5_PROBE_YES ? V_YES : V_NO);
		sfy_debug("pipelining: the first hop %s pipelined handshakes (probe)",
			  result == SOCKS5_PROBE_YES ? "takes" : "does not take");
	} else if (atomic_fetch_sub(&tries_left, 1) <= 1) {
		atomic_store(&verdict, V_NO);
		sfy_debug("pipelining: %d probes learnt nothing certain; staying lock-step",
			  PROBE_TRIES);
	} else {
		atomic_store(&verdict, V_UNKNOWN);
	}
	errno = saved;
}
