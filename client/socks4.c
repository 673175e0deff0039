/*
 * SOCKS4 and SOCKS4a, as pure codecs beside the SOCKS5 one (codec.c): the
 * encoder fills a caller's buffer, the parser answers done, need-more or
 * malformed. No I/O, no allocation, no globals.
 *
 * From "SOCKS: A protocol for TCP proxy across firewalls" (Ying-Da Lee):
 *
 *   request (CONNECT, CD 1):
 *   +----+----+----+----+----+----+----+----+----+----+....+----+
 *   | VN | CD | DSTPORT |      DSTIP        | USERID       |NULL|
 *   +----+----+----+----+----+----+----+----+----+----+....+----+
 *      1    1      2              4           variable       1
 *
 *   reply:
 *   +----+----+----+----+----+----+----+----+
 *   | VN | CD | DSTPORT |      DSTIP        |
 *   +----+----+----+----+----+----+----+----+
 *      1    1      2              4
 *
 *   VN is 0 in the reply; CD 90 (0x5A) granted, 91 (0x5B) rejected or
 *   failed, 92 (0x5C) rejected because the server cannot reach identd on
 *   the client, 93 (0x5D) rejected because identd reports another user id.
 *
 * From "SOCKS 4A: A Simple Extension to SOCKS 4 Protocol":
 *
 *   a client that cannot resolve the destination sets DSTIP to 0.0.0.x
 *   with x nonzero and sends the domain name, NUL-terminated, after the
 *   USERID's NULL; the server resolves it.
 *
 * Decisions: the reply's VN must be 0 (as curl checks); the reply is
 * always 8 bytes, so reading it never takes a byte of what follows.
 */
#include <string.h>

#include "socks5.h"

enum socks5_status socks5_encode_socks4(uint8_t *buf, size_t cap, uint8_t cmd,
					const struct socks5_addr *dst,
					const char *user, size_t ulen,
					bool socks4a, size_t *len)
{
	size_t need, n;

	if (!buf || !dst || !len || (ulen && !user) ||
	    (cmd != SOCKS5_CMD_CONNECT && cmd != SOCKS5_CMD_BIND))
		return SOCKS5_E_ARG;
	if (ulen > SOCKS5_DOMAIN_MAX || (ulen && memchr(user, '\0', ulen)))
		return SOCKS5_E_USER_LENGTH;
	if (dst->atyp == SOCKS5_ATYP_IPV6 ||
	    (dst->atyp == SOCKS5_ATYP_DOMAIN && !socks4a))
		return SOCKS5_E_SOCKS4_ADDR;
	if (dst->atyp != SOCKS5_ATYP_IPV4 && dst->atyp != SOCKS5_ATYP_DOMAIN)
		return SOCKS5_E_ARG;
	if (dst->atyp == SOCKS5_ATYP_DOMAIN &&
	    (dst->len == 0 || memchr(dst->u.domain, '\0', dst->len)))
		return SOCKS5_E_DOMAIN_LENGTH;
	need = 8 + ulen + 1;
	if (dst->atyp == SOCKS5_ATYP_DOMAIN)
		need += (size_t)dst->len + 1;
	if (cap < need)
		return SOCKS5_E_BUFFER;

	buf[0] = SOCKS4_VERSION;
	buf[1] = cmd;
	buf[2] = (uint8_t)(dst->port >> 8);
	buf[3] = (uint8_t)dst->port;
	if (dst->atyp == SOCKS5_ATYP_IPV4) {
		memcpy(buf + 4, dst->u.ipv4, 4);
	} else {
		static const uint8_t socks4a_ip[4] = { 0, 0, 0, 1 };

		memcpy(buf + 4, socks4a_ip, 4);
	}
	n = 8;
	if (ulen)
		memcpy(buf + n, user, ulen);
	n += ulen;
	buf[n++] = '\0';
	if (dst->atyp == SOCKS5_ATYP_DOMAIN) {
		memcpy(buf + n, dst->u.domain, dst->len);
		n += dst->len;
		buf[n++] = '\0';
	}
	*len = n;
	return SOCKS5_OK;
}

enum socks5_status socks5_parse_socks4_reply(const uint8_t *buf, size_t avail,
					     struct socks5_reply *out,
					     size_t *len)
{
	if (!len)
		return SOCKS5_E_ARG;
	if (avail < 1 || !buf) {
		*len = SOCKS4_REPLY_LEN;
		return SOCKS5_NEED_MORE;
	}
	if (buf[0] != 0)
		return SOCKS5_E_SOCKS4_VERSION;
	if (avail < SOCKS4_REPLY_LEN) {
		*len = SOCKS4_REPLY_LEN - avail;
		return SOCKS5_NEED_MORE;
	}
	if (!out)
		return SOCKS5_E_ARG;
	memset(out, 0, sizeof(*out));
	out->rep = buf[1];
	out->bnd.atyp = SOCKS5_ATYP_IPV4;
	out->bnd.port = (uint16_t)(buf[2] << 8 | buf[3]);
	memcpy(out->bnd.u.ipv4, buf + 4, 4);
	*len = SOCKS4_REPLY_LEN;
	return SOCKS5_OK;
}

enum socks5_status socks5_socks4_status(uint8_t cd)
{
	switch (cd) {
	case SOCKS4_GRANTED:
		return SOCKS5_OK;
	case SOCKS4_REJECTED:
		return SOCKS5_E_SOCKS4_REJECTED;
	case SOCKS4_NO_IDENTD:
		return SOCKS5_E_SOCKS4_IDENTD;
	case SOCKS4_IDENTD_MISMATCH:
		return SOCKS5_E_SOCKS4_IDENTD_USER;
	default:
		return SOCKS5_E_SOCKS4_CODE;
	}
}
