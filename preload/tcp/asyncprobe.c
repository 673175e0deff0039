/*
 * The pipelining probe (tcp/pipeline.c), when a connect that runs in the
 * event-loop machine (tcp/async.c) is the one to run it: its machine on
 * its own connection to the first hop, stepped with its owner's (under
 * the owner's lock; pipeline.c lets one probe run at a time), judged and
 * closed when the owner's handshake ends, as the blocking driver
 * (socks5_handshake_ex) does beside its handshake.
 */
#include <netinet/in.h>
#include <stdatomic.h>
#include <string.h>

#include "base/realfn.h"
#include "socks5.h"
#include "tcp/asyncprobe.h"
#include "tcp/pipeline.h"

static struct {
	_Atomic(const void *) owner; /* NULL: no probe */
	_Atomic int fd;
	_Atomic short need; /* read unlocked by sfy_async_block's poll */
	int64_t rx_ms;      /* when its bytes last came */
	struct socks5_hs hs;
} probe;

void sfy_async_probe_start(const void *s, const struct sfy_config *cfg,
			   const struct sockaddr *to)
{
	int fd;

	if (!cfg->nhops || cfg->chain[0].type != SOCKS5_HOP_SOCKS5)
		return;
	fd = sfy_pipeline_probe_open(cfg, to,
				     to->sa_family == AF_INET ?
					     sizeof(struct sockaddr_in) :
					     sizeof(struct sockaddr_in6));
	if (fd < 0)
		return;
	probe.fd = fd;
	probe.rx_ms = socks5_now_ms();
	probe.need = POLLOUT;
	socks5_probe_begin(&probe.hs, &cfg->chain[0]);
	atomic_store_explicit(&probe.owner, s, memory_order_release);
}

/* Under s's lock: the probe's I/O, when s runs it. */
void sfy_async_probe_step(const void *s)
{
	enum socks5_hs_state st;
	size_t in;
	bool replied;

	if (atomic_load_explicit(&probe.owner, memory_order_acquire) != s ||
	    socks5_hs_over(&probe.hs))
		return;
	st = probe.hs.state;
	in = probe.hs.in_len;
	replied = probe.hs.replied;
	probe.need = socks5_hs_step(sfy_real_io(), probe.fd, &probe.hs);
	if (probe.hs.answered && (st != probe.hs.state ||
				  in != probe.hs.in_len ||
				  replied != probe.hs.replied))
		probe.rx_ms = socks5_now_ms();
}

/* Under s's lock, its handshake over or abandoned: the probe's verdict. */
void sfy_async_probe_end(const void *s)
{
	enum socks5_probe v;

	if (atomic_load_explicit(&probe.owner, memory_order_acquire) != s)
		return;
	sfy_async_probe_step(s); /* an answer that came with the owner's last bytes */
	v = socks5_probe_verdict(&probe.hs, socks5_now_ms() - probe.rx_ms);
	explicit_bzero(probe.hs.out, sizeof(probe.hs.out));
	atomic_store_explicit(&probe.owner, NULL, memory_order_release);
	sfy_pipeline_probe_done(probe.fd, v);
}

int sfy_async_probe_pollfd(const void *s, struct pollfd *p)
{
	if (atomic_load_explicit(&probe.owner, memory_order_acquire) != s)
		return 0;
	*p = (struct pollfd){ .fd = probe.fd, .events = probe.need };
	return p->events ? 1 : 0;
}
