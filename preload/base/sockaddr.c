/*
 * Socket-address helpers (sockaddr.h): the one place that knows the
 * IPv4-mapped form and the lengths the kernel takes.
 */
#include "base/sockaddr.h"

const uint8_t sfy_v4mapped_prefix[12] = { 0, 0, 0, 0, 0, 0,
					  0, 0, 0, 0, 0xff, 0xff };

socklen_t sfy_addr_unmap(const struct sockaddr_in6 *in6,
			 struct sockaddr_in *out)
{
	uint16_t port = in6->sin6_port;
	uint8_t v4[4] = { 0, 0, 0, 0 };

	/* in6 and out may share storage: read before writing. */
	if (sfy_is_v4mapped(in6->sin6_addr.s6_addr))
		memcpy(v4, in6->sin6_addr.s6_addr + 12, 4);
	memset(out, 0, sizeof(*out));
	out->sin_family = AF_INET;
	out->sin_port = port;
	memcpy(&out->sin_addr, v4, 4);
	return sizeof(*out);
}

socklen_t sfy_addr_map(const struct sockaddr_in *in, struct sockaddr_in6 *out)
{
	uint16_t port = in->sin_port;
	uint8_t v4[4];

	memcpy(v4, &in->sin_addr, 4);
	memset(out, 0, sizeof(*out));
	out->sin6_family = AF_INET6;
	out->sin6_port = port;
	sfy_v4mapped_set(out->sin6_addr.s6_addr, v4);
	return sizeof(*out);
}

socklen_t sfy_addr_in_family(const struct sockaddr *sa, int family,
			     union sfy_inaddr *out)
{
	union sfy_inaddr in;

	if (sa->sa_family == AF_INET)
		memcpy(&in.in, sa, sizeof(in.in));
	else if (sa->sa_family == AF_INET6)
		memcpy(&in.in6, sa, sizeof(in.in6));
	else
		return 0;
	memset(out, 0, sizeof(*out));
	if (in.sa.sa_family == family) {
		*out = in;
		return family == AF_INET ? sizeof(out->in) : sizeof(out->in6);
	}
	if (family == AF_INET6)
		return sfy_addr_map(&in.in, &out->in6);
	if (family == AF_INET && sfy_is_v4mapped(in.in6.sin6_addr.s6_addr))
		return sfy_addr_unmap(&in.in6, &out->in);
	return 0;
}

socklen_t sfy_addr_copy(const struct sockaddr *sa, socklen_t len,
			struct sockaddr_storage *out)
{
	memset(out, 0, sizeof(*out));
	if (!sfy_is_inet(sa, len))
		return 0;
	if (sa->sa_family == AF_INET) {
		memcpy(out, sa, sizeof(struct sockaddr_in));
		return sizeof(struct sockaddr_in);
	}
	memcpy(out, sa, len < sizeof(struct sockaddr_in6) ?
			       len : sizeof(struct sockaddr_in6));
	return sizeof(struct sockaddr_in6);
}

socklen_t sfy_addr_plain(struct sockaddr_storage *ss, socklen_t *len)
{
	struct sockaddr_in6 in6;

	if (ss->ss_family != AF_INET6)
		return *len;
	memcpy(&in6, ss, sizeof(in6));
	if (!sfy_is_v4mapped(in6.sin6_addr.s6_addr))
		return *len;
	memset(ss, 0, sizeof(*ss));
	*len = sfy_addr_unmap(&in6, (struct sockaddr_in *)ss);
	return *len;
}

bool sfy_addr_is_loopback(const struct sockaddr *sa)
{
	uint16_t port;
	int fam;
	const uint8_t *b = sfy_addr_bytes(sa, &fam, &port);

	if (!b)
		return false;
	if (fam == AF_INET)
		return b[0] == 127;
	return IN6_IS_ADDR_LOOPBACK((const struct in6_addr *)b);
}
