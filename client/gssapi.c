/*
 * RFC 1961's message framing (socks5_gssapi.h). Like codec.c: no I/O, no
 * allocation, no globals; the parser checks each field as soon as its byte
 * is there and never asks for a byte past the message's end, so any split
 * of the same bytes ends in the same result and nothing that follows the
 * message on the stream is taken.
 */
#include <string.h>

#include "socks5_gssapi.h"

const char *socks5_gss_level_name(uint8_t level)
{
	switch (level) {
	case SOCKS5_GSS_LEVEL_CLEAR:
		return "clear";
	case SOCKS5_GSS_LEVEL_INTEGRITY:
		return "integrity";
	case SOCKS5_GSS_LEVEL_CONFIDENTIALITY:
		return "confidentiality";
	case SOCKS5_GSS_LEVEL_PER_MESSAGE:
		return "per-message";
	default:
		return "unknown";
	}
}

enum socks5_status socks5_gss_encode(uint8_t *buf, size_t cap, uint8_t mtyp,
				     const uint8_t *token, size_t tlen,
				     size_t *len)
{
	if (!buf || !len || (tlen && !token) || mtyp < SOCKS5_GSS_MTYP_AUTH ||
	    mtyp > SOCKS5_GSS_MTYP_DATA || tlen > SOCKS5_GSS_TOKEN_MAX)
		return SOCKS5_E_ARG;
	if (cap < SOCKS5_GSS_HEADER_LEN + tlen)
		return SOCKS5_E_BUFFER;
	buf[0] = SOCKS5_GSS_VERSION;
	buf[1] = mtyp;
	buf[2] = (uint8_t)(tlen >> 8);
	buf[3] = (uint8_t)(tlen & 0xff);
	if (tlen)
		memcpy(buf + SOCKS5_GSS_HEADER_LEN, token, tlen);
	*len = SOCKS5_GSS_HEADER_LEN + tlen;
	return SOCKS5_OK;
}

enum socks5_status socks5_gss_parse(const uint8_t *buf, size_t avail,
				    uint8_t mtyp, size_t *tlen, size_t *len)
{
	size_t t;

	if ((!buf && avail) || !tlen || !len)
		return SOCKS5_E_ARG;
	if (avail < 1) {
		*len = 2; /* ver and mtyp: the abort message is that long */
		return SOCKS5_NEED_MORE;
	}
	if (buf[0] != SOCKS5_GSS_VERSION)
		return SOCKS5_E_GSS_VERSION;
	if (avail < 2) {
		*len = 1;
		return SOCKS5_NEED_MORE;
	}
	if (buf[1] == SOCKS5_GSS_MTYP_ABORT) {
		*len = 2;
		return SOCKS5_E_GSS_ABORTED;
	}
	if (buf[1] != mtyp)
		return SOCKS5_E_GSS_MTYP;
	if (avail < SOCKS5_GSS_HEADER_LEN) {
		*len = SOCKS5_GSS_HEADER_LEN - avail;
		return SOCKS5_NEED_MORE;
	}
	t = (size_t)buf[2] << 8 | buf[3];
	if (avail < SOCKS5_GSS_HEADER_LEN + t) {
		*len = SOCKS5_GSS_HEADER_LEN + t - avail;
		return SOCKS5_NEED_MORE;
	}
	*tlen = t;
	*len = SOCKS5_GSS_HEADER_LEN + t;
	return SOCKS5_OK;
}
