/*
 * Socket addresses, written once: which ones the library handles, the
 * IPv4-mapped IPv6 form (::ffff:a.b.c.d) both ways, equality and copying
 * with the right length. Pure functions of their arguments: no state, no
 * libc call beyond memcpy/memset, safe anywhere (signal handlers, the
 * vfork child).
 *
 * A mapped address is, for the kernel, the IPv4 address it carries: an
 * AF_INET6 socket connected to ::ffff:10.0.0.1 talks IPv4 to 10.0.0.1. So
 * the comparisons here treat the two forms as one address.
 *
 * The small tests that run on every connect()/sendto() are inline.
 * Internal; hidden.
 */
#ifndef SOCKSIFY_PRELOAD_SOCKADDR_H
#define SOCKSIFY_PRELOAD_SOCKADDR_H

#include <netinet/in.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>

/* The shortest sockaddr_in6 the kernel takes: RFC 2133's, without
 * sin6_scope_id (SIN6_LEN_RFC2133 in the kernel). */
#define SFY_SIN6_LEN_MIN 24

/* An IPv4 or IPv6 socket address, seen as either. */
union sfy_inaddr {
	struct sockaddr sa;
	struct sockaddr_in in;
	struct sockaddr_in6 in6;
};

/* True when sa is an AF_INET or AF_INET6 address the kernel would take
 * from connect() or sendto(): at least sizeof(struct sockaddr_in), or
 * SFY_SIN6_LEN_MIN, and at most sizeof(struct sockaddr_storage). Anything
 * else goes to the real call untouched (which fails with EINVAL), and no
 * byte of it beyond len is ever read. */
static inline bool sfy_is_inet(const struct sockaddr *sa, socklen_t len)
{
	if (!sa || len < sizeof(sa_family_t) ||
	    len > sizeof(struct sockaddr_storage))
		return false;
	if (sa->sa_family == AF_INET)
		return len >= sizeof(struct sockaddr_in);
	return sa->sa_family == AF_INET6 && len >= SFY_SIN6_LEN_MIN;
}

/* The 12 bytes before the IPv4 address in ::ffff:a.b.c.d. */
extern const uint8_t sfy_v4mapped_prefix[12];

/* Whether the 16 IPv6 address bytes at a16 are an IPv4-mapped address. */
static inline bool sfy_is_v4mapped(const void *a16)
{
	return !memcmp(a16, sfy_v4mapped_prefix, sizeof(sfy_v4mapped_prefix));
}

/* Writes ::ffff:v4 (v4: 4 bytes, network order) into the 16 bytes at a16. */
static inline void sfy_v4mapped_set(void *a16, const void *v4)
{
	memcpy(a16, sfy_v4mapped_prefix, sizeof(sfy_v4mapped_prefix));
	memcpy((uint8_t *)a16 + 12, v4, 4);
}

/* The address bytes of sa as the kernel routes them: a mapped address
 * gives its 4 IPv4 bytes and *family AF_INET. *port is sa's port (network
 * order). NULL (and AF_UNSPEC) for any other family. sa must be whole
 * (sizeof(struct sockaddr_in) or SFY_SIN6_LEN_MIN bytes). */
static inline const uint8_t *sfy_addr_bytes(const struct sockaddr *sa,
					    int *family, uint16_t *port)
{
	if (sa->sa_family == AF_INET) {
		const struct sockaddr_in *in = (const struct sockaddr_in *)sa;

		*family = AF_INET;
		*port = in->sin_port;
		return (const uint8_t *)&in->sin_addr;
	}
	if (sa->sa_family == AF_INET6) {
		const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)sa;

		*port = in6->sin6_port;
		if (sfy_is_v4mapped(in6->sin6_addr.s6_addr)) {
			*family = AF_INET;
			return in6->sin6_addr.s6_addr + 12;
		}
		*family = AF_INET6;
		return in6->sin6_addr.s6_addr;
	}
	*family = AF_UNSPEC;
	*port = 0;
	return NULL;
}

/* The IPv4 form of in6 (port kept): the address it carries when mapped,
 * else 0.0.0.0 ("some address"). Returns sizeof(*out). */
socklen_t sfy_addr_unmap(const struct sockaddr_in6 *in6,
			 struct sockaddr_in *out);

/* The IPv4-mapped IPv6 form of in (port kept). Returns sizeof(*out). */
socklen_t sfy_addr_map(const struct sockaddr_in *in, struct sockaddr_in6 *out);

/* sa (whole, AF_INET or AF_INET6) in family: mapped when IPv4 goes into
 * AF_INET6, unmapped when a mapped address goes into AF_INET, copied when
 * the families agree. 0 when it has no such form (a plain IPv6 address
 * for AF_INET, or another family). Returns the length of *out. */
socklen_t sfy_addr_in_family(const struct sockaddr *sa, int family,
			     union sfy_inaddr *out);

/* Copies sa (len bytes from a program) into *out, zero-filled, with the
 * length of its whole form: a 24-byte RFC 2133 sockaddr_in6 becomes a
 * full one with scope id 0. Returns that length, or 0 when sa is not an
 * AF_INET/AF_INET6 address of a length the kernel takes. */
socklen_t sfy_addr_copy(const struct sockaddr *sa, socklen_t len,
			struct sockaddr_storage *out);

/* Turns a mapped AF_INET6 address in *ss into plain AF_INET in place (and
 * *len with it); anything else is left alone. Returns *len. */
socklen_t sfy_addr_plain(struct sockaddr_storage *ss, socklen_t *len);

/* Whether sa (whole) is a loopback address: 127.0.0.0/8, ::1, or
 * 127.0.0.0/8 mapped. */
bool sfy_addr_is_loopback(const struct sockaddr *sa);

/* Same address (and same port when port), a mapped address equal to
 * the IPv4 one it carries. Both whole; false for other families. */
static inline bool sfy_addr_same(const struct sockaddr *a,
				 const struct sockaddr *b, bool port)
{
	const uint8_t *x, *y;
	uint16_t px, py;
	int fx, fy;

	x = sfy_addr_bytes(a, &fx, &px);
	y = sfy_addr_bytes(b, &fy, &py);
	if (!x || !y || fx != fy || (port && px != py))
		return false;
	return fx == AF_INET ? !memcmp(x, y, 4) : !memcmp(x, y, 16);
}

/* Same address, ports ignored. */
static inline bool sfy_addr_equal(const struct sockaddr *a,
				  const struct sockaddr *b)
{
	return sfy_addr_same(a, b, false);
}

/* Same address and same port. */
static inline bool sfy_addr_port_equal(const struct sockaddr *a,
				       const struct sockaddr *b)
{
	return sfy_addr_same(a, b, true);
}

#endif
