/*
 * GSSAPI authentication for SOCKS5 (RFC 1961), method X'01'.
 *
 * Two layers, as the rest of libsocks5:
 *   - the codec (gssapi.c): RFC 1961's message framing, no I/O, no
 *     allocation:
 *
 *       +------+------+------+.......................+
 *       + ver  | mtyp | len  |       token           |
 *       +------+------+------+.......................+
 *       + 0x01 | 0x01 | 0x02 | up to 2^16 - 1 octets |
 *       +------+------+------+.......................+
 *
 *     mtyp 1: context establishment, 2: protection level negotiation,
 *     3: a per-message protected (encapsulated) message; and the abort
 *     message, ver 1, mtyp 0xFF, with no length and no token.
 *   - the context (gss_context.c): the GSS-API calls, through
 *     libgssapi_krb5.so.2 loaded with dlopen the first time a hop asks
 *     for GSSAPI (gss_loader.c), so that nothing else pays for it and the
 *     library has no link-time dependency on Kerberos.
 *
 * Protection levels (RFC 1961 section 4, and Dante's "clear", 0, which
 * asks for no per-message protection at all after authentication).
 */
#ifndef SOCKSIFY_CLIENT_SOCKS5_GSSAPI_H
#define SOCKSIFY_CLIENT_SOCKS5_GSSAPI_H

#include <stddef.h>
#include <stdint.h>

#include "socks5.h"

#define SOCKS5_GSS_VERSION 0x01
#define SOCKS5_GSS_MTYP_AUTH 0x01    /* context establishment token */
#define SOCKS5_GSS_MTYP_PROT 0x02    /* protection level negotiation */
#define SOCKS5_GSS_MTYP_DATA 0x03    /* per-message protected data */
#define SOCKS5_GSS_MTYP_ABORT 0xFF   /* failure: ver, mtyp only */

#define SOCKS5_GSS_HEADER_LEN 4
#define SOCKS5_GSS_TOKEN_MAX 65535

enum socks5_gss_level {
	SOCKS5_GSS_LEVEL_CLEAR = 0,        /* Dante: none after auth */
	SOCKS5_GSS_LEVEL_INTEGRITY = 1,    /* RFC 1961: integrity */
	SOCKS5_GSS_LEVEL_CONFIDENTIALITY = 2, /* RFC 1961: confidentiality */
	SOCKS5_GSS_LEVEL_PER_MESSAGE = 3,  /* RFC 1961: selective */
};

/* "clear", "integrity", "confidentiality", "per-message", "unknown". */
const char *socks5_gss_level_name(uint8_t level);

/* A message with a token (mtyp 1..3): header + token into buf. */
enum socks5_status socks5_gss_encode(uint8_t *buf, size_t cap, uint8_t mtyp,
				     const uint8_t *token, size_t tlen,
				     size_t *len);

/*
 * Parses one message at buf, mtyp expected (1, 2 or 3): SOCKS5_OK with
 * *tlen the token's length (the token at buf + SOCKS5_GSS_HEADER_LEN)
 * and *len the message's; SOCKS5_NEED_MORE with *len at least that many
 * more bytes, never past the message's end; SOCKS5_E_GSS_VERSION (ver not
 * 1), SOCKS5_E_GSS_ABORTED (the abort message: the proxy refused the
 * context), SOCKS5_E_GSS_MTYP (another type than expected).
 */
enum socks5_status socks5_gss_parse(const uint8_t *buf, size_t avail,
				    uint8_t mtyp, size_t *tlen, size_t *len);

#endif
