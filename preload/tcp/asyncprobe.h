/*
 * The pipelining probe (tcp/pipeline.c) of a connect whose handshake runs
 * in the event-loop machine (tcp/async.c); see asyncprobe.c. owner: the
 * machine's slot, an opaque key; each call but pollfd under its lock.
 */
#ifndef SOCKSIFY_PRELOAD_TCP_ASYNCPROBE_H
#define SOCKSIFY_PRELOAD_TCP_ASYNCPROBE_H

#include <poll.h>
#include <sys/socket.h>

#include "base/config.h"

/* When this connect is the one to probe (to: the first hop's address the
 * program's socket dialled), starts the probe beside it. */
void sfy_async_probe_start(const void *owner, const struct sfy_config *cfg,
			   const struct sockaddr *to);
/* With each step of the owner's machine: the probe's I/O. */
void sfy_async_probe_step(const void *owner);
/* The owner's handshake is over or abandoned: the verdict, the probe's
 * socket closed. */
void sfy_async_probe_end(const void *owner);
/* For a wait beside the owner's: 1 and *p filled when its probe waits for
 * something, else 0. Unlocked; only a look. */
int sfy_async_probe_pollfd(const void *owner, struct pollfd *p);

#endif
