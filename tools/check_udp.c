/*
 * The UDP steps of --check: UDP ASSOCIATE over a new control connection to
 * the proxy (the handshake driver does this one in one go: its failure
 * record says where it stopped), then, when a destination is named, one
 * small datagram through the relay and a short wait for an answer.
 *
 * With a chain, UDP is checked only when SOCKSIFY_UDP=first-hop, at hop
 * 1, as the library uses it.
 *
 * The relay address is the reply's BND.ADDR; 0.0.0.0 or :: there means
 * "the address you reached me at" (RFC 1928 leaves it open; dante and
 * others answer so), so the first hop's address is used with BND.PORT.
 *
 * No answer is reported as "sent, no answer" and is not a failure: the
 * datagram did leave through the relay as far as this side can know, and
 * many UDP services (or a destination with nothing listening) stay silent.
 */
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "check.h"

#define ANSWER_WAIT_MS 2000
#define PAYLOAD "socksify --check\n"

/* BND of the UDP ASSOCIATE reply as an address to send to. */
static int relay_sockaddr(const struct sfy_probe *pr,
			  const struct socks5_addr *bnd,
			  struct sockaddr_storage *ss, socklen_t *len)
{
	struct sfy_addrs res;
	char why[320];

	if (sfy_addr_unspecified(bnd)) {
		memcpy(ss, &pr->first, pr->first_len);
		*len = pr->first_len;
		if (ss->ss_family == AF_INET)
			((struct sockaddr_in *)ss)->sin_port = htons(bnd->port);
		else
			((struct sockaddr_in6 *)ss)->sin6_port = htons(bnd->port);
		return 0;
	}
	if (bnd->atyp != SOCKS5_ATYP_DOMAIN)
		return socks5_addr_to_sockaddr(bnd, ss, len) == SOCKS5_OK ? 0 :
									    -EINVAL;
	if (sfy_resolve(bnd->u.domain, bnd->port, pr->timeout_ms, &res, why,
			sizeof(why)))
		return -EHOSTUNREACH;
	memcpy(ss, &res.addr[0], res.len[0]);
	*len = res.len[0];
	return 0;
}

static void show_sockaddr(const struct sockaddr_storage *ss, socklen_t len,
			  char *buf, size_t cap)
{
	struct socks5_addr a;

	if (socks5_addr_from_sockaddr(&a, (const struct sockaddr *)ss, len))
		snprintf(buf, cap, "?");
	else
		socks5_addr_format(&a, buf, cap);
}

/* One datagram to the destination through the relay, and its answer. */
static void datagram(struct sfy_probe *pr, const struct sockaddr_storage *relay,
		     socklen_t rlen)
{
	uint8_t pkt[SOCKS5_UDP_HEADER_MAX + sizeof(PAYLOAD)], in[2048];
	int wait = pr->timeout_ms < ANSWER_WAIT_MS ? pr->timeout_ms : ANSWER_WAIT_MS;
	char from[SOCKS5_DOMAIN_MAX + 16];
	struct socks5_addr src;
	struct pollfd pfd;
	size_t hlen, plen;
	ssize_t n;
	int64_t t0;
	int us;

	socks5_encode_udp_header(pkt, sizeof(pkt), &pr->dst, &hlen);
	memcpy(pkt + hlen, PAYLOAD, sizeof(PAYLOAD) - 1);
	plen = hlen + sizeof(PAYLOAD) - 1;
	us = socket(relay->ss_family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	/* Connected: only the relay's datagrams come back, and an ICMP
	 * "port unreachable" from it shows up as ECONNREFUSED. */
	if (us < 0 || connect(us, (const struct sockaddr *)relay, rlen) < 0 ||
	    send(us, pkt, plen, 0) != (ssize_t)plen) {
		sfy_step(pr, STEP_FAIL, 0, "datagram", "cannot send to the relay: %s",
			 strerror(errno));
		pr->udp_failed = true;
		if (us >= 0)
			close(us);
		return;
	}
	t0 = sfy_now_us();
	pfd = (struct pollfd){ .fd = us, .events = POLLIN };
	if (poll(&pfd, 1, wait) <= 0) {
		sfy_step(pr, STEP_NOTE, 0, "datagram",
			 "%zu bytes sent to %s through the relay; no answer within %d ms (sent, no answer: a UDP service need not answer, so this is not counted as a failure)",
			 sizeof(PAYLOAD) - 1, pr->dst_shown, wait);
		close(us);
		return;
	}
	n = recv(us, in, sizeof(in), MSG_DONTWAIT);
	if (n < 0) {
		sfy_step(pr, STEP_FAIL, 0, "datagram", "%s%s", strerror(errno),
			 errno == ECONNREFUSED ?
				 ": the destination's UDP port is closed and the proxy passed the ICMP error on (dante does), or the relay dropped the association" : "");
		pr->udp_failed = true;
	} else if (socks5_parse_udp_header(in, (size_t)n, &src, &hlen) != SOCKS5_OK) {
		sfy_step(pr, STEP_FAIL, 0, "datagram",
			 "the relay answered with a malformed datagram (%zd bytes)", n);
		pr->udp_failed = true;
	} else {
		socks5_addr_format(&src, from, sizeof(from));
		sfy_step(pr, STEP_OK, 0, "datagram",
			 "%zu bytes sent to %s; answer of %zu bytes from %s in %.1f ms%s",
			 sizeof(PAYLOAD) - 1, pr->dst_shown, (size_t)n - hlen, from,
			 (double)(sfy_now_us() - t0) / 1000.0,
			 (size_t)n - hlen == sizeof(PAYLOAD) - 1 &&
					 !memcmp(in + hlen, PAYLOAD, sizeof(PAYLOAD) - 1) ?
				 " (our datagram, echoed)" : "");
	}
	close(us);
}

static void associate_failed(struct sfy_probe *pr, const struct socks5_failure *why)
{
	if (why->status == SOCKS5_E_REPLY)
		sfy_step(pr, STEP_FAIL, 0, "udp", "UDP ASSOCIATE refused: %s (REP 0x%02x): %s",
			 socks5_rep_string(why->rep), why->rep,
			 sfy_rep_hint(why->rep, true));
	else if (why->status == SOCKS5_E_IO)
		sfy_step(pr, STEP_FAIL, 0, "udp", "UDP ASSOCIATE failed in %s: %s",
			 why->state ? why->state : "?", strerror(why->sys_errno));
	else
		sfy_step(pr, STEP_FAIL, 0, "udp", "UDP ASSOCIATE failed in %s: %s",
			 why->state ? why->state : "?", socks5_strerror(why->status));
	pr->udp_failed = true;
}

void sfy_check_udp(struct sfy_probe *pr)
{
	struct sockaddr_storage relay;
	struct socks5_failure why;
	struct socks5_reply bound;
	struct socks5_addr any;
	char shown[SOCKS5_DOMAIN_MAX + 16];
	socklen_t rlen;
	int64_t t0;
	int fd, rc;

	bool first_hop = !strcasecmp(pr->udp_mode, "first-hop");

	if (strcasecmp(pr->udp_mode, "proxy") && !first_hop) {
		sfy_step(pr, STEP_SKIP, 0, "udp", "SOCKSIFY_UDP=%s: UDP does not use the proxy",
			 pr->udp_mode);
		return;
	}
	/* As the library: a relay takes datagrams only from its client, so
	 * UDP cannot cross a chain; first-hop uses hop 1's relay. */
	if (pr->nhops > 1 && !first_hop) {
		sfy_step(pr, STEP_SKIP, 0, "udp",
			 "not checked through a chain: UDP cannot cross a chain of %zu hops, so programs' UDP is refused (SOCKSIFY_UDP=first-hop uses hop 1's relay)",
			 pr->nhops);
		return;
	}
	/* Only a SOCKS5 hop relays UDP: the library refuses programs' UDP
	 * with EOPNOTSUPP then, in words; nothing here can fail. */
	if (pr->hops[0].type != SOCKS5_HOP_SOCKS5) {
		sfy_step(pr, STEP_SKIP, 0, "udp",
			 "%s is %s: no UDP (only a SOCKS5 hop relays datagrams); programs' UDP is refused unless SOCKSIFY_UDP=direct or block",
			 pr->nhops > 1 ? "hop 1" : "the proxy",
			 pr->hops[0].type == SOCKS5_HOP_HTTP ? "HTTP" :
			 pr->hops[0].type == SOCKS5_HOP_RAW ? "a raw forwarder" :
							      "SOCKS4");
		return;
	}
	fd = sfy_probe_connect_first(pr);
	if (fd < 0) {
		sfy_step(pr, STEP_FAIL, 0, "udp", "cannot reach the proxy again: %s",
			 strerror(-fd));
		pr->udp_failed = true;
		return;
	}
	/* DST.ADDR all zeros: "any address of mine may send" (RFC 1928 §7). */
	memset(&any, 0, sizeof(any));
	any.atyp = pr->first.ss_family == AF_INET6 ? SOCKS5_ATYP_IPV6 :
						     SOCKS5_ATYP_IPV4;
	t0 = sfy_now_us();
	memset(&why, 0, sizeof(why));
	rc = socks5_handshake(pr->io, fd, pr->hops, 1, SOCKS5_CMD_UDP_ASSOCIATE,
			      &any, socks5_now_ms() + pr->timeout_ms, &bound, &why);
	if (rc) {
		associate_failed(pr, &why);
		close(fd);
		return;
	}
	rc = relay_sockaddr(pr, &bound.bnd, &relay, &rlen);
	socks5_addr_format(&bound.bnd, shown, sizeof(shown));
	if (rc) {
		sfy_step(pr, STEP_FAIL, 0, "udp", "the relay address %s is unusable: %s",
			 shown, strerror(-rc));
		pr->udp_failed = true;
		close(fd);
		return;
	}
	if (sfy_addr_unspecified(&bound.bnd)) {
		size_t l = strlen(shown);

		snprintf(shown + l, sizeof(shown) - l, " = ");
		l = strlen(shown);
		show_sockaddr(&relay, rlen, shown + l, sizeof(shown) - l);
	}
	sfy_step(pr, STEP_OK, 0, "udp", "UDP ASSOCIATE accepted in %.1f ms; relay at %s",
		 (double)(sfy_now_us() - t0) / 1000.0, shown);
	if (pr->have_dst)
		datagram(pr, &relay, rlen);
	else
		sfy_step(pr, STEP_SKIP, 0, "datagram", "no destination named");
	/* The association lives as long as this connection: close it last. */
	close(fd);
}
