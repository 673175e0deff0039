/*
 * The SOCKS5 codec (RFC 1928, RFC 1929): encoders fill a caller's buffer,
 * parsers read only what is buffered. No I/O, no allocation, no globals, so
 * every function here is thread-safe and async-signal-safe.
 *
 * Parsers are stateless over the bytes they are given and check each field
 * in wire order as soon as its byte is present. So a malformed message is
 * reported as early as possible, and any split of the same bytes into
 * successive reads ends in the same result. While a message is incomplete
 * they answer SOCKS5_NEED_MORE with a count of bytes that never reaches past
 * the end of the message: a driver reading exactly that many bytes never
 * swallows data that follows the reply on the stream.
 */
#include <string.h>

#include "socks5.h"

/* Encodes ATYP | ADDR | PORT at p; the caller has checked the room. */
static size_t put_addr(uint8_t *p, const struct socks5_addr *a)
{
	size_t n = 0;

	p[n++] = a->atyp;
	switch (a->atyp) {
	case SOCKS5_ATYP_IPV4:
		memcpy(p + n, a->u.ipv4, 4);
		n += 4;
		break;
	case SOCKS5_ATYP_IPV6:
		memcpy(p + n, a->u.ipv6, 16);
		n += 16;
		break;
	default: /* SOCKS5_ATYP_DOMAIN, checked by check_addr() */
		p[n++] = a->len;
		memcpy(p + n, a->u.domain, a->len);
		n += a->len;
		break;
	}
	p[n++] = (uint8_t)(a->port >> 8); /* network byte order */
	p[n++] = (uint8_t)(a->port & 0xff);
	return n;
}

/* An address the caller wants encoded must be one we can put on the wire. */
static enum socks5_status check_addr(const struct socks5_addr *a)
{
	if (!a)
		return SOCKS5_E_ARG;
	switch (a->atyp) {
	case SOCKS5_ATYP_IPV4:
	case SOCKS5_ATYP_IPV6:
		return SOCKS5_OK;
	case SOCKS5_ATYP_DOMAIN:
		return a->len == 0 ? SOCKS5_E_DOMAIN_LENGTH : SOCKS5_OK;
	default:
		return SOCKS5_E_ARG;
	}
}

/*
 * Parses ATYP | ADDR | PORT from p[0..avail).
 *   SOCKS5_OK:        *n = bytes the address took, *a filled
 *   SOCKS5_NEED_MORE: *n = more bytes needed (never past the address end)
 *   SOCKS5_E_ATYP, SOCKS5_E_DOMAIN_EMPTY: malformed
 * Before ATYP is known, 2 bytes are asked for: the shortest address (a
 * one-byte domain: 1 + 1 + 1 + 2) is longer than that, and the second byte
 * is the domain length when ATYP says domain.
 */
static enum socks5_status get_addr(const uint8_t *p, size_t avail,
				   struct socks5_addr *a, size_t *n)
{
	size_t need;

	if (avail < 1) {
		*n = 2;
		return SOCKS5_NEED_MORE;
	}
	switch (p[0]) {
	case SOCKS5_ATYP_IPV4:
		need = 1 + 4 + 2;
		break;
	case SOCKS5_ATYP_IPV6:
		need = 1 + 16 + 2;
		break;
	case SOCKS5_ATYP_DOMAIN:
		if (avail < 2) {
			*n = 1;
			return SOCKS5_NEED_MORE;
		}
		if (p[1] == 0)
			return SOCKS5_E_DOMAIN_EMPTY;
		need = 1 + 1 + (size_t)p[1] + 2;
		break;
	default:
		return SOCKS5_E_ATYP;
	}
	if (avail < need) {
		*n = need - avail;
		return SOCKS5_NEED_MORE;
	}

	memset(a, 0, sizeof(*a));
	a->atyp = p[0];
	if (p[0] == SOCKS5_ATYP_IPV4) {
		memcpy(a->u.ipv4, p + 1, 4);
	} else if (p[0] == SOCKS5_ATYP_IPV6) {
		memcpy(a->u.ipv6, p + 1, 16);
	} else {
		a->len = p[1];
		memcpy(a->u.domain, p + 2, a->len);
		a->u.domain[a->len] = '\0';
	}
	a->port = (uint16_t)((p[need - 2] << 8) | p[need - 1]);
	*n = need;
	return SOCKS5_OK;
}

/*
 * +----+----------+----------+
 * |VER | NMETHODS | METHODS  |
 * +----+----------+----------+
 * | 1  |    1     | 1 to 255 |
 * +----+----------+----------+
 */
enum socks5_status socks5_encode_greeting(uint8_t *buf, size_t cap,
					  const uint8_t *methods, size_t n,
					  size_t *len)
{
	if (!len || !methods || (!buf && cap))
		return SOCKS5_E_ARG;
	if (n == 0)
		return SOCKS5_E_NO_METHODS;
	if (n > 255)
		return SOCKS5_E_TOO_MANY_METHODS;
	if (cap < 2 + n)
		return SOCKS5_E_BUFFER;
	buf[0] = SOCKS5_VERSION;
	buf[1] = (uint8_t)n;
	memcpy(buf + 2, methods, n);
	*len = 2 + n;
	return SOCKS5_OK;
}

/*
 * +----+--------+
 * |VER | METHOD |
 * +----+--------+
 * | 1  |   1    |
 * +----+--------+
 * *method is set as soon as the METHOD byte is read, also when the choice is
 * refused (0xFF or not offered), so the caller can log what the server said.
 * 0xFF is refused even if the caller listed it: it never names a method.
 */
enum socks5_status socks5_parse_method(const uint8_t *buf, size_t avail,
				       const uint8_t *offered, size_t n_offered,
				       uint8_t *method, size_t *len)
{
	if (!len || !method || (!buf && avail) || (!offered && n_offered))
		return SOCKS5_E_ARG;
	if (avail < 1) {
		*len = 2;
		return SOCKS5_NEED_MORE;
	}
	if (buf[0] != SOCKS5_VERSION)
		return SOCKS5_E_VERSION;
	if (avail < 2) {
		*len = 1;
		return SOCKS5_NEED_MORE;
	}
	*method = buf[1];
	if (buf[1] == SOCKS5_METHOD_NONE_ACCEPTABLE)
		return SOCKS5_E_NO_ACCEPTABLE;
	if (n_offered == 0 || !memchr(offered, buf[1], n_offered))
		return SOCKS5_E_METHOD_NOT_OFFERED;
	*len = 2;
	return SOCKS5_OK;
}

/*
 * RFC 1929:
 * +----+------+----------+------+----------+
 * |VER | ULEN |  UNAME   | PLEN |  PASSWD  |
 * +----+------+----------+------+----------+
 * | 1  |  1   | 1 to 255 |  1   | 1 to 255 |
 * +----+------+----------+------+----------+
 * Lengths out of range are refused, never truncated: a truncated password
 * would fail later with a misleading "authentication rejected".
 */
enum socks5_status socks5_encode_auth(uint8_t *buf, size_t cap,
				      const char *user, size_t user_len,
				      const char *pass, size_t pass_len,
				      size_t *len)
{
	size_t need;

	if (!len || !user || !pass || (!buf && cap))
		return SOCKS5_E_ARG;
	if (user_len < 1 || user_len > 255)
		return SOCKS5_E_USER_LENGTH;
	if (pass_len < 1 || pass_len > 255)
		return SOCKS5_E_PASS_LENGTH;
	need = 1 + 1 + user_len + 1 + pass_len;
	if (cap < need)
		return SOCKS5_E_BUFFER;
	buf[0] = SOCKS5_AUTH_VERSION;
	buf[1] = (uint8_t)user_len;
	memcpy(buf + 2, user, user_len);
	buf[2 + user_len] = (uint8_t)pass_len;
	memcpy(buf + 3 + user_len, pass, pass_len);
	*len = need;
	return SOCKS5_OK;
}

/*
 * +----+--------+
 * |VER | STATUS |
 * +----+--------+
 * | 1  |   1    |
 * +----+--------+
 */
enum socks5_status socks5_parse_auth_reply(const uint8_t *buf, size_t avail,
					   size_t *len)
{
	if (!len || (!buf && avail))
		return SOCKS5_E_ARG;
	if (avail < 1) {
		*len = 2;
		return SOCKS5_NEED_MORE;
	}
	if (buf[0] != SOCKS5_AUTH_VERSION)
		return SOCKS5_E_AUTH_VERSION;
	if (avail < 2) {
		*len = 1;
		return SOCKS5_NEED_MORE;
	}
	if (buf[1] != 0x00)
		return SOCKS5_E_AUTH_REJECTED;
	*len = 2;
	return SOCKS5_OK;
}

/*
 * +----+-----+-------+------+----------+----------+
 * |VER | CMD |  RSV  | ATYP | DST.ADDR | DST.PORT |
 * +----+-----+-------+------+----------+----------+
 * | 1  |  1  | X'00' |  1   | Variable |    2     |
 * +----+-----+-------+------+----------+----------+
 */
enum socks5_status socks5_encode_request(uint8_t *buf, size_t cap, uint8_t cmd,
					 const struct socks5_addr *dst,
					 size_t *len)
{
	enum socks5_status st;
	size_t need;

	if (!len || (!buf && cap))
		return SOCKS5_E_ARG;
	if (cmd != SOCKS5_CMD_CONNECT && cmd != SOCKS5_CMD_BIND &&
	    cmd != SOCKS5_CMD_UDP_ASSOCIATE)
		return SOCKS5_E_ARG;
	st = check_addr(dst);
	if (st != SOCKS5_OK)
		return st;
	need = 3 + socks5_addr_wire_len(dst);
	if (cap < need)
		return SOCKS5_E_BUFFER;
	buf[0] = SOCKS5_VERSION;
	buf[1] = cmd;
	buf[2] = 0x00;
	*len = 3 + put_addr(buf + 3, dst);
	return SOCKS5_OK;
}

/*
 * +----+-----+-------+------+----------+----------+
 * |VER | REP |  RSV  | ATYP | BND.ADDR | BND.PORT |
 * +----+-----+-------+------+----------+----------+
 * | 1  |  1  | X'00' |  1   | Variable |    2     |
 * +----+-----+-------+------+----------+----------+
 * Until 5 bytes are there (ATYP and, for a domain, its length) the length
 * is unknown and we ask for up to 5; then for exactly the rest. *out is
 * written only on SOCKS5_OK. REP is not judged here: a well-formed failure
 * reply is SOCKS5_OK with out->rep != 0.
 */
enum socks5_status socks5_parse_reply(const uint8_t *buf, size_t avail,
				      struct socks5_reply *out, size_t *len)
{
	struct socks5_reply r;
	enum socks5_status st;
	size_t n;

	if (!len || !out || (!buf && avail))
		return SOCKS5_E_ARG;
	if (avail < 1) {
		*len = 5;
		return SOCKS5_NEED_MORE;
	}
	if (buf[0] != SOCKS5_VERSION)
		return SOCKS5_E_VERSION;
	if (avail < 3) {
		*len = 5 - avail;
		return SOCKS5_NEED_MORE;
	}
	if (buf[2] != 0x00)
		return SOCKS5_E_RESERVED;
	st = get_addr(buf + 3, avail - 3, &r.bnd, &n);
	if (st != SOCKS5_OK) {
		if (st == SOCKS5_NEED_MORE)
			*len = n;
		return st;
	}
	r.rep = buf[1];
	*out = r;
	*len = 3 + n;
	return SOCKS5_OK;
}

/*
 * +----+------+------+----------+----------+----------+
 * |RSV | FRAG | ATYP | DST.ADDR | DST.PORT |   DATA   |
 * +----+------+------+----------+----------+----------+
 * | 2  |  1   |  1   | Variable |    2     | Variable |
 * +----+------+------+----------+----------+----------+
 */
enum socks5_status socks5_encode_udp_header(uint8_t *buf, size_t cap,
					    const struct socks5_addr *dst,
					    size_t *len)
{
	enum socks5_status st;

	if (!len || (!buf && cap))
		return SOCKS5_E_ARG;
	st = check_addr(dst);
	if (st != SOCKS5_OK)
		return st;
	if (cap < 3 + socks5_addr_wire_len(dst))
		return SOCKS5_E_BUFFER;
	buf[0] = 0x00;
	buf[1] = 0x00;
	buf[2] = 0x00; /* FRAG: we never fragment */
	*len = 3 + put_addr(buf + 3, dst);
	return SOCKS5_OK;
}

/*
 * A datagram arrives whole, so running out of bytes is SOCKS5_E_TRUNCATED.
 * Fields are still checked in wire order, as the stream parsers do. RFC 1928
 * lets a client drop fragments it does not reassemble: FRAG != 0 is
 * reported so the caller drops it. *src is written only on SOCKS5_OK.
 */
enum socks5_status socks5_parse_udp_header(const uint8_t *dgram, size_t avail,
					   struct socks5_addr *src,
					   size_t *len)
{
	struct socks5_addr a;
	enum socks5_status st;
	size_t n;

	if (!len || !src || (!dgram && avail))
		return SOCKS5_E_ARG;
	if (avail < 2)
		return SOCKS5_E_TRUNCATED;
	if (dgram[0] != 0x00 || dgram[1] != 0x00)
		return SOCKS5_E_RESERVED;
	if (avail < 3)
		return SOCKS5_E_TRUNCATED;
	if (dgram[2] != 0x00)
		return SOCKS5_E_FRAGMENTED;
	st = get_addr(dgram + 3, avail - 3, &a, &n);
	if (st == SOCKS5_NEED_MORE)
		return SOCKS5_E_TRUNCATED;
	if (st != SOCKS5_OK)
		return st;
	*src = a;
	*len = 3 + n;
	return SOCKS5_OK;
}

size_t socks5_udp_header_len(const uint8_t *dgram, size_t avail)
{
	if (!dgram || avail < 4)
		return 0;
	switch (dgram[3]) {
	case SOCKS5_ATYP_IPV4:
		return 3 + 1 + 4 + 2;
	case SOCKS5_ATYP_IPV6:
		return 3 + 1 + 16 + 2;
	case SOCKS5_ATYP_DOMAIN:
		return avail < 5 ? 0 : 3 + 1 + 1 + (size_t)dgram[4] + 2;
	default:
		return 0;
	}
}
