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
/* The longest message: header and a 65535-byte token. */
#define SOCKS5_GSS_FRAME_MAX (SOCKS5_GSS_HEADER_LEN + SOCKS5_GSS_TOKEN_MAX)

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

/*
 * Per-message protection (RFC 1961 section 5) once the handshake agreed
 * on integrity or confidentiality: every byte after the method
 * negotiation (the SOCKS request and reply, which the machine wraps
 * itself, then the program's data) travels as mtyp 3 messages whose token
 * is gss_wrap's output, conf_req set for confidentiality.
 *
 * A socks5_gss_sec is the established context handed over by the
 * handshake (socks5_hs_opts.gss_take; socks5_hs_gss_take). Its calls are
 * not thread-safe for one context: the caller serialises them (GSS-API
 * sequence numbers order the messages anyway).
 */
struct socks5_gss_sec;

/* The context of a DONE machine whose level wraps data, handed over (the
 * machine forgets it); NULL when there is none or on allocation failure
 * (the context is then deleted with the machine). */
struct socks5_gss_sec *socks5_hs_gss_take(struct socks5_hs *h);
/* The agreed level (SOCKS5_GSS_LEVEL_INTEGRITY or _CONFIDENTIALITY). */
uint8_t socks5_gss_sec_level(const struct socks5_gss_sec *s);
/* The most plaintext one message carries (gss_wrap_size_limit for a
 * 65535-byte token). */
size_t socks5_gss_sec_max(const struct socks5_gss_sec *s);
/* n bytes (1..socks5_gss_sec_max) wrapped into one whole message at frame
 * (cap: SOCKS5_GSS_FRAME_MAX suffices), *len its length. On failure
 * (SOCKS5_E_GSS_CONTEXT) why gets the mechanism's words. */
enum socks5_status socks5_gss_seal(struct socks5_gss_sec *s, const void *in,
				   size_t n, uint8_t *frame, size_t cap,
				   size_t *len, char *why, size_t whycap);
/* A message's token unwrapped into out (cap: SOCKS5_GSS_TOKEN_MAX
 * suffices), *n the plaintext length. A token that does not verify (a
 * changed, replayed or reordered message) is SOCKS5_E_GSS_CONTEXT. */
enum socks5_status socks5_gss_open(struct socks5_gss_sec *s,
				   const uint8_t *tok, size_t tlen,
				   uint8_t *out, size_t cap, size_t *n,
				   char *why, size_t whycap);
/* Deletes the context (gss_delete_sec_context) and frees s; NULL: none. */
void socks5_gss_sec_free(struct socks5_gss_sec *s);

#endif
