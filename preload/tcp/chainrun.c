/*
 * Failover between attempts of one connect() (chainrun.h). The time
 * budget: SOCKSIFY_TIMEOUT_MS from the start of connect(), split at each
 * attempt into equal shares of what is left, one per attempt still
 * possible; so a dynamic chain of two hops whose first stalls answers
 * through the second after half the budget, and the connect() never
 * outlasts the budget.
 */
#include <errno.h>
#include <string.h>

#include "base/log.h"
#include "route/chainpick.h"
#include "route/hopmem.h"
#include "tcp/chainrun.h"

/* The state a failure was recorded in, as enum socks5_hs_state. */
static int state_of(const char *name)
{
	int s;

	for (s = 0; name && s < SOCKS5_HS_STATE_COUNT; s++)
		if (!strcmp(name, socks5_hs_state_name(s)))
			return s;
	return SOCKS5_HS_FAILED;
}

/* The hop's answer about where it was asked to go (chainpick.h). */
static bool answer(const struct socks5_failure *f)
{
	switch (f->status) {
	case SOCKS5_E_REPLY:
	case SOCKS5_E_SOCKS4_REJECTED:
	case SOCKS5_E_SOCKS4_IDENTD:
	case SOCKS5_E_SOCKS4_IDENTD_USER:
	case SOCKS5_E_HTTP_REFUSED:
	case SOCKS5_E_TIMEOUT:
		return true;
	default:
		return false;
	}
}

int sfy_chain_connect(const struct sfy_config *cfg, const char *dstname,
		      sfy_attempt_fn fn, void *arg)
{
	/* Indices into cfg->chain, not copies: 1 KiB for 512 hops. */
	uint16_t idx[SOCKS5_CHAIN_MAX];
	size_t n, i, next = 0, parts;
	int64_t now = socks5_now_ms(), end = now + cfg->timeout_ms;
	struct sfy_chain_pick_in in;
	struct sfy_hopset failed;
	struct sfy_attempt a;
	int rc = -ECONNREFUSED, blame;
	unsigned k;

	memset(&a, 0, sizeof(a));
	if (cfg->chain_mode == SFY_CHAIN_STRICT) {
		a.chain = cfg->chain;
		a.nhops = cfg->nhops;
		a.as_configured = true;
		a.deadline = end;
		return fn(arg, &a);
	}
	sfy_hopmem_session(cfg->chain, cfg->nhops);
	memset(&in, 0, sizeof(in));
	memset(&failed, 0, sizeof(failed));
	in.mode = cfg->chain_mode;
	in.nhops = cfg->nhops;
	in.len = cfg->chain_len;
	in.rnd = sfy_hopmem_random;
	for (k = 0; k <= cfg->nhops; k++) {
		now = socks5_now_ms();
		if (now >= end)
			return k ? rc : -ETIMEDOUT;
		in.cursor = sfy_hopmem_cursor() % cfg->nhops;
		sfy_hopmem_dead(cfg->nhops, now, &in.dead);
		sfy_hopset_join(&in.dead, &failed);
		n = sfy_chain_pick(&in, idx, &next);
		if (!n) {
			/* Too few once the remembered ones are left out:
			 * try them again rather than not at all. */
			in.dead = failed;
			n = sfy_chain_pick(&in, idx, &next);
		}
		if (!n) {
			sfy_warn("connect to %s: no %s chain left: %zu hop(s) of %zu failed, %zu per chain needed",
				 dstname, sfy_chain_mode_name(cfg->chain_mode),
				 sfy_hopset_count(&failed), cfg->nhops,
				 cfg->chain_mode == SFY_CHAIN_DYNAMIC ?
					 (size_t)1 : cfg->chain_len);
			return rc;
		}
		if (cfg->chain_mode == SFY_CHAIN_ROUND_ROBIN)
			sfy_hopmem_cursor_move(in.cursor, next);
		parts = sfy_chain_attempts_left(&in);
		memset(&a, 0, sizeof(a));
		a.as_configured = n == cfg->nhops;
		for (i = 0; i < n; i++)
			a.as_configured &= idx[i] == i;
		a.chain = cfg->chain;
		a.pick = a.as_configured ? NULL : idx;
		a.nhops = n;
		a.first = idx[0];
		a.n = k;
		a.deadline = now + (end - now) / (int64_t)parts;
		rc = fn(arg, &a);
		if (rc == 0) {
			for (i = 0; i < n; i++)
				sfy_hopmem_ok(idx[i]);
			return 0;
		}
		if (a.final)
			return rc;
		blame = a.reached ? sfy_chain_blame(idx, n, a.why.hop,
						    state_of(a.why.state),
						    answer(&a.why)) :
				    (int)idx[0];
		if (blame < 0)
			return rc; /* the destination's answer */
		now = socks5_now_ms();
		sfy_hopmem_failed((size_t)blame, now);
		sfy_hopset_add(&failed, (size_t)blame);
		sfy_info("connect to %s: hop %d of the configured %zu is skipped for a while (%s chain); %lld ms left",
			 dstname, blame + 1, cfg->nhops,
			 sfy_chain_mode_name(cfg->chain_mode),
			 (long long)(end > now ? end - now : 0));
	}
	return rc;
}
