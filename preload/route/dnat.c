/*
 * SOCKSIFY_DNAT (see dnat.h).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "base/config.h"
#include "route/cidr.h"
#include "route/dnat.h"

/* "a.b.c.d" or "a.b.c.d:PORT" (1..65535) of len bytes. */
static int addr_port(const char *s, size_t len, in_addr_t *a, in_port_t *p)
{
	char buf[sizeof("255.255.255.255:65535")];
	char *colon;
	unsigned long v = 0;
	const char *d;

	if (len == 0 || len >= sizeof(buf))
		return -EINVAL;
	memcpy(buf, s, len);
	buf[len] = '\0';
	*p = 0;
	colon = strchr(buf, ':');
	if (colon) {
		*colon = '\0';
		if (!colon[1] || strlen(colon + 1) > 5)
			return -EINVAL;
		for (d = colon + 1; *d; d++) {
			if (*d < '0' || *d > '9')
				return -EINVAL;
			v = v * 10 + (unsigned long)(*d - '0');
		}
		if (v < 1 || v > 65535)
			return -EINVAL;
		*p = htons((uint16_t)v);
	}
	return inet_pton(AF_INET, buf, a) == 1 ? 0 : -EINVAL;
}

int sfy_dnat_parse(struct sfy_dnat *d, const char *list, char *bad,
		   size_t badcap)
{
	const char *p = list, *end, *eq;
	struct sfy_dnat_rule r;

	while (*p) {
		while (*p == ',' || *p == ' ')
			p++;
		end = p + strcspn(p, ", ");
		if (end == p)
			break;
		eq = memchr(p, '=', (size_t)(end - p));
		if (!eq || addr_port(p, (size_t)(eq - p), &r.orig, &r.orig_port) ||
		    addr_port(eq + 1, (size_t)(end - eq - 1), &r.to, &r.to_port)) {
			snprintf(bad, badcap,
				 "'%.*s' is not ORIG[:PORT]=NEW[:PORT] with IPv4 addresses",
				 (int)(end - p > 60 ? 60 : end - p), p);
			return -EINVAL;
		}
		if (d->n >= SFY_DNAT_MAX) {
			snprintf(bad, badcap, "more than %d rules", SFY_DNAT_MAX);
			return -ENOSPC;
		}
		d->rule[d->n++] = r;
		p = end;
	}
	return 0;
}

bool sfy_dnat_apply(const struct sfy_dnat *d, struct sockaddr_in *in)
{
	const struct sfy_dnat_rule *hit = NULL;
	int i;

	for (i = 0; i < d->n && !hit; i++)
		if (d->rule[i].orig == in->sin_addr.s_addr &&
		    d->rule[i].orig_port && d->rule[i].orig_port == in->sin_port)
			hit = &d->rule[i];
	for (i = 0; i < d->n && !hit; i++)
		if (d->rule[i].orig == in->sin_addr.s_addr &&
		    !d->rule[i].orig_port)
			hit = &d->rule[i];
	if (!hit)
		return false;
	in->sin_addr.s_addr = hit->to;
	if (hit->to_port)
		in->sin_port = hit->to_port;
	return true;
}

/* Whether a range of b covers a at port (0: at some port), or with
 * any_port_only at every port. As policy.c matches (sfy_cidr_match). */
static bool listed(const struct sfy_bypass *b, in_addr_t a, in_port_t port,
		   bool any_port_only)
{
	struct sockaddr_in in = { .sin_family = AF_INET, .sin_port = port };
	int i;

	in.sin_addr.s_addr = a;
	for (i = 0; i < b->ncidrs; i++) {
		const struct sfy_cidr *c = &b->cidrs[i];

		if (!sfy_cidr_match(c, (const struct sockaddr *)&in))
			continue;
		if (any_port_only ? !c->port :
				    (!c->port || !port || c->port == port))
			return true;
	}
	return false;
}

int sfy_dnat_check(const struct sfy_dnat *d, const struct sfy_bypass *b,
		   char *bad, size_t badcap)
{
	char o[INET_ADDRSTRLEN], t[INET_ADDRSTRLEN];
	int i;

	if (b->all) /* every new address is bypassed too */
		return 0;
	for (i = 0; i < d->n; i++) {
		const struct sfy_dnat_rule *r = &d->rule[i];

		if (!listed(b, r->orig, r->orig_port, false) ||
		    listed(b, r->to, 0, true))
			continue;
		inet_ntop(AF_INET, &r->orig, o, sizeof(o));
		inet_ntop(AF_INET, &r->to, t, sizeof(t));
		snprintf(bad, badcap,
			 "%s is in the no-proxy list and %s is not: the connection would go direct to %s and the rule never be used (proxychains would proxy to %s)",
			 o, t, o, t);
		return -EINVAL;
	}
	return 0;
}
