/*
 * Whether a proxied connect pipelines its handshake, and the probe that
 * learns it in SOCKSIFY_PIPELINE=auto (see pipeline.c for the policy and
 * the measurements behind it). Internal, hidden, thread-safe.
 */
#ifndef SOCKSIFY_PRELOAD_PIPELINE_H
#define SOCKSIFY_PRELOAD_PIPELINE_H

#include <stdint.h>
#include <sys/socket.h>

#include "base/config.h"

/* The hops to pipeline now (socks5_hs_opts.pipeline). */
uint32_t sfy_pipeline_hops(const struct sfy_config *cfg);

/*
 * Called once per proxied connect, before the program's socket dials the
 * first hop's first address `to`: when this connect should run the probe,
 * a new non-blocking socket whose connect() to `to` has started (pass it
 * as socks5_hs_opts.probe_fd, then hand it to sfy_pipeline_probe_done);
 * else -1.
 */
int sfy_pipeline_probe_open(const struct sfy_config *cfg,
			    const struct sockaddr *to, socklen_t tolen);

/* Closes the probe's socket (fd >= 0) and records what it learnt. */
void sfy_pipeline_probe_done(int fd, enum socks5_probe result);

#endif
