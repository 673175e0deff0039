/*
 * sendmmsg(): the messages of one call, each routed as sendmsg() would
 * route it (route/decide.h), batched through the real sendmmsg() with the
 * relayed ones' headers; a GSSAPI-protected stream wraps each message
 * (tcp/gss_stream.h), a message to port 53 goes by sendmsg() (dns53.h).
 * Split from hook_udp.c (the single-message send paths) by size.
 */
#include <errno.h>
#include <netinet/in.h>
#include <stdint.h>
#include <string.h>
#include <sys/uio.h>
#include <unistd.h>

#include "base/config.h"
#include "base/realfn.h"
#include "dns/dns53.h"
#include "hooks/hooks.h"
#include "route/decide.h"
#include "tcp/gss_stream.h"
#include "udp/udp_io.h"

static ssize_t fail(ssize_t rc)
{
	errno = (int)-rc;
	return -1;
}

/* One message of a sendmmsg(): through the relay (*relay, route->info
 * its association), direct, or refused (-errno). */
static int mmsg_route(int fd, const struct msghdr *m, int flags,
		      struct sfy_route *route, bool *assoc_known, bool *relay)
{
	socklen_t namelen = sfy_msg_name_len(m);
	enum sfy_addr_class cls;

	*relay = false;
	if (sfy_is_inet(m->msg_name, namelen)) {
		if (sfy_route_direct_addr(m->msg_name, namelen, &cls))
			return 0;
		switch (sfy_route_message(fd, m->msg_name, namelen, flags,
					  false, cls, route)) {
		case SFY_REFUSE:
			return route->err;
		case SFY_VIA_RELAY:
			*relay = true;
			return sfy_udp_assoc_ensure(fd, route);
		default:
			return 0;
		}
	}
	if (namelen)
		return 0;
	/* No address: connected through the proxy, or the kernel's. */
	if (!*assoc_known) {
		*assoc_known = true;
		if (sfy_assoc_of(fd, &route->info))
			route->info.kind = SFY_FD_NONE;
	}
	*relay = route->info.kind == SFY_FD_UDP;
	return 0;
}

/* sendmmsg() with a message to port 53 (a name server's, dns/dns53.h):
 * each message by sendmsg(), with sendmmsg()'s result (the count sent;
 * an error only when the first fails). Rare: no batching. */
static int one_by_one(int fd, struct mmsghdr *vec, unsigned int vlen,
		      int flags)
{
	unsigned int i;
	int saved = errno;
	ssize_t rc;

	for (i = 0; i < vlen; i++) {
		rc = sfy_sendmsg(fd, &vec[i].msg_hdr, flags);
		if (rc < 0)
			break;
		vec[i].msg_len = (unsigned int)rc;
	}
	if (i == 0)
		return -1;
	errno = saved;
	return (int)i;
}

#define BATCH 16
#define POOL 64

/*
 * The messages go out in batches of up to BATCH through the real
 * sendmmsg(), each relayed one with its header as an extra iovec taken
 * from a pool on the stack; a relayed message with more iovecs than the
 * pool holds goes alone through sendmsg(). As the kernel does, the count
 * of messages sent is returned, and an error only when the very first
 * message fails; msg_len is the program's payload length.
 */
int sfy_sendmmsg(int fd, struct mmsghdr *vec, unsigned int vlen, int flags)
{
	const struct sfy_real *r = sfy_real();
	struct sfy_route route;
	unsigned int i, done = 0, k, j;
	int saved = errno, rc = 0, sent;
	bool assoc_known = false, any = false, relay;

	if (!r->sendmmsg)
		return (int)fail(-ENOSYS);
	if (!vec || sfy_inside() || !sfy_config()->enabled)
		return r->sendmmsg(fd, vec, vlen, flags);
	if (vlen > UIO_MAXIOV)
		vlen = UIO_MAXIOV; /* the kernel sends no more either */
	if (vlen && sfy_gss_of(fd)) {
		rc = sfy_gss_sendmmsg(fd, vec, vlen, flags);
		return rc < 0 ? (int)fail(rc) : rc;
	}
	for (i = 0; i < vlen && !any; i++)
		any = sfy_is_inet(vec[i].msg_hdr.msg_name,
				  sfy_msg_name_len(&vec[i].msg_hdr)) ||
		      (!sfy_msg_name_len(&vec[i].msg_hdr) && sfy_fd_maybe_dgram(fd));
	if (!any)
		return r->sendmmsg(fd, vec, vlen, flags);
	for (i = 0; i < vlen; i++)
		if (sfy_dns53_port(vec[i].msg_hdr.msg_name,
				   sfy_msg_name_len(&vec[i].msg_hdr)) ||
		    (!sfy_msg_name_len(&vec[i].msg_hdr) &&
		     sfy_fd_kind(fd) == SFY_FD_DNS53))
			return one_by_one(fd, vec, vlen, flags);
	memset(&route.info, 0, sizeof(route.info));
	route.type = -1;
	while (done < vlen && rc >= 0) {
		struct mmsghdr batch[BATCH];
		uint8_t hdr[BATCH][SOCKS5_UDP_HEADER_MAX];
		size_t hlen[BATCH], used = 0;
		struct iovec pool[POOL];
		struct sfy_assoc *a = NULL;
		struct sfy_assoc_dyn d;
		bool is_name, named;

		for (k = 0; k < BATCH && done + k < vlen; k++) {
			const struct msghdr *m = &vec[done + k].msg_hdr;
			size_t n = m->msg_iovlen;

			rc = mmsg_route(fd, m, flags, &route, &assoc_known,
					&relay);
			if (rc < 0)
				break;
			batch[k] = vec[done + k];
			hlen[k] = 0;
			if (!relay)
				continue;
			a = sfy_assoc_at(route.info.assoc);
			sfy_assoc_dyn_read(a, &d);
			named = sfy_msg_name_len(m) != 0;
			if (!named && !d.conn)
				continue; /* not via the proxy: as it is */
			if (named)
				rc = sfy_udp_header(m->msg_name, sfy_msg_name_len(m),
						    hdr[k], &hlen[k], &is_name);
			else
				memcpy(hdr[k], d.conn_hdr,
				       hlen[k] = d.conn_hlen);
			if (rc < 0)
				break;
			if (n + 1 > POOL - used) {
				if (k > 0)
					break; /* send what we have first */
				sent = (int)sfy_udp_relay_send(
					fd, a, d.conn && !named, hdr[0],
					hlen[0], m, flags);
				if (sent < 0) {
					rc = sent;
					break;
				}
				vec[done].msg_len = (unsigned int)sent;
				done++;
				/* The batch starts again after it (the
				 * loop's k++ makes k 0). */
				k = (unsigned int)-1;
				continue;
			}
			rc = sfy_udp_prepare(a, hdr[k], hlen[k], m, flags,
					     pool + used, NULL);
			if (rc < 0)
				break;
			batch[k].msg_hdr.msg_iov = pool + used;
			batch[k].msg_hdr.msg_iovlen = n + 1;
			batch[k].msg_hdr.msg_name = d.conn && !named ?
							    NULL : &a->relay;
			batch[k].msg_hdr.msg_namelen =
				d.conn && !named ? 0 : a->relay_len;
			used += n + 1;
		}
		if (k == 0)
			continue; /* nothing batched: refused, or all sent */
		if (a) {
			int dead = sfy_assoc_check(a);

			if (dead) {
				rc = dead;
				break;
			}
		}
		errno = saved;
		sent = r->sendmmsg(fd, batch, k, flags);
		if (sent < 0) {
			rc = -errno;
			break;
		}
		for (j = 0; j < (unsigned int)sent; j++)
			vec[done + j].msg_len = batch[j].msg_len >= hlen[j] ?
				batch[j].msg_len - (unsigned int)hlen[j] : 0;
		done += (unsigned int)sent;
		if ((unsigned int)sent < k)
			break;
	}
	if (done == 0 && rc < 0)
		return (int)fail(rc);
	errno = saved;
	return (int)done;
}

int sendmmsg(int fd, struct mmsghdr *vec, unsigned int vlen, int flags)
	SFY_EXPORT_AS(sfy_sendmmsg);
