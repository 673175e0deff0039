/*
 * proxychains-ng's `dnat` lines → SOCKSIFY_DNAT (preload/route/dnat.h).
 *
 * Read as proxychains 4.17 reads them (get_chain_data):
 * sscanf(line, "%s %21[^ ] %21s") must take three fields, then each
 * address is split by sscanf("%15[^:]:%5s"), the address checked by
 * inet_pton(AF_INET) (refused there otherwise), the port taken by atoi
 * and cast to a short (0 or no number: none). At most 64 rules; more are
 * dropped with a message, as there.
 *
 * proxychains rewrites first and checks localnet on the new address;
 * socksify checks the no-proxy list on the original first (dnat.h). The
 * two agree unless a rule's original address is in a localnet range and
 * its new one is not: that rule is refused, naming its line.
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "proxychains_int.h"

/* Up to max non-space bytes, after skipping spaces (sscanf's %Ns). */
static bool take_word(const char **s, size_t max, char *out)
{
	size_t n = 0;

	while (isspace((unsigned char)**s))
		(*s)++;
	while (**s && !isspace((unsigned char)**s) && n < max)
		out[n++] = *(*s)++;
	out[n] = '\0';
	return n > 0;
}

/* "%15[^:]:%5s" of one field, then inet_pton and atoi: 1, 0 when the
 * address is not IPv4, -1 when there is none before the ':' (sscanf
 * stores nothing then, and proxychains reads the address the previous
 * dnat line left in its buffer). */
static int addr_port(const char *field, uint32_t *addr, uint16_t *port)
{
	char a[16], pt[6] = "";
	const char *s = field;
	struct in_addr in;

	if (!pc_scan_set(&s, ":", 15, a))
		return -1;
	if (*s == ':') {
		s++;
		take_word(&s, 5, pt);
	}
	if (inet_pton(AF_INET, a, &in) != 1)
		return 0;
	*addr = ntohl(in.s_addr);
	*port = (uint16_t)atoi(pt);
	return 1;
}

int pc_dnat_line(struct pc_parser *p, const char *line)
{
	char word[PC_LINE_MAX + 1], orig[22], to[22];
	const char *s = line;
	struct pc_dnat d;
	int rc, rc2;

	pc_scan_word(&s, word, sizeof(word));
	while (isspace((unsigned char)*s))
		s++;
	if (!pc_scan_set(&s, " ", 21, orig) || !take_word(&s, 21, to))
		return pc_err(p, "dnat needs ORIGINAL[:PORT] NEW[:PORT] (proxychains refuses this line too: \"dnat format error\")");
	memset(&d, 0, sizeof(d));
	rc = addr_port(orig, &d.orig, &d.orig_port);
	rc2 = rc > 0 ? addr_port(to, &d.to, &d.to_port) : 1;
	if (rc < 0 || rc2 < 0)
		return pc_err(p, "dnat: no address before the ':' of the %s destination; proxychains then takes the address the previous dnat line left in its buffer (or refuses the line when there was none), which socksify will not guess",
			      rc < 0 ? "original" : "new");
	if (!rc)
		return pc_err(p, "dnat original destination address error: an IPv4 address (proxychains refuses this line too)");
	if (!rc2)
		return pc_err(p, "dnat effective destination address error: an IPv4 address (proxychains refuses this line too)");
	if (p->ndnat >= PC_DNAT_MAX)
		return pc_warn(p, "more than %d dnat lines: proxychains drops this one, and so does socksify",
			       PC_DNAT_MAX);
	d.line = p->line;
	p->dnat[p->ndnat++] = d;
	return 0;
}

/* Whether a localnet range of p covers addr at port (0: some port). */
static bool local(const struct pc_parser *p, uint32_t addr, uint16_t port,
		  bool any_port_only)
{
	unsigned i;

	for (i = 0; i < p->nlocal4; i++) {
		const struct pc_net4 *l = &p->local4[i];

		if ((addr & l->mask) != l->net)
			continue;
		if (any_port_only ? !l->port :
				    (!l->port || !port || l->port == port))
			return true;
	}
	return false;
}

int pc_dnat_finish(struct pc_parser *p)
{
	char item[sizeof("255.255.255.255:65535=255.255.255.255:65535")];
	char a[INET_ADDRSTRLEN], b[INET_ADDRSTRLEN];
	struct in_addr in;
	unsigned i;
	int rc;

	for (i = 0; i < p->ndnat; i++) {
		const struct pc_dnat *d = &p->dnat[i];

		in.s_addr = htonl(d->orig);
		inet_ntop(AF_INET, &in, a, sizeof(a));
		in.s_addr = htonl(d->to);
		inet_ntop(AF_INET, &in, b, sizeof(b));
		if (local(p, d->orig, d->orig_port, false) &&
		    !local(p, d->to, 0, true)) {
			p->line = d->line;
			return pc_err(p, "dnat: %s is in a localnet range and %s is not; socksify lets the no-proxy list decide first and would connect direct to %s, where proxychains proxies to %s",
				      a, b, a, b);
		}
		snprintf(item, sizeof(item), "%s%s%.0u=%s%s%.0u", a,
			 d->orig_port ? ":" : "", (unsigned)d->orig_port, b,
			 d->to_port ? ":" : "", (unsigned)d->to_port);
		rc = pc_list_add(&p->out->dnat, item);
		if (rc)
			return rc;
	}
	return 0;
}
