/*
 * The other hop types of libsocks5: SOCKS4/SOCKS4a (socks4.c) and HTTP
 * CONNECT (http_connect.c), their requests and reply parsers. Part of
 * socks5.h, which includes it where the handshake machine needs it:
 * programs include socks5.h.
 */
#ifndef SOCKSIFY_CLIENT_SOCKS5_HOPS_H
#define SOCKSIFY_CLIENT_SOCKS5_HOPS_H

#ifndef SOCKSIFY_CLIENT_SOCKS5_H
#error "include socks5.h, which includes this header"
#endif

/* ------------------------------------------------------------------ */
/* SOCKS4 and SOCKS4a (socks4.c)                                        */

#define SOCKS4_VERSION 0x04
/* Reply codes (CD) */
#define SOCKS4_GRANTED 0x5A
#define SOCKS4_REJECTED 0x5B
#define SOCKS4_NO_IDENTD 0x5C
#define SOCKS4_IDENTD_MISMATCH 0x5D
/* Largest request: 8 + user id 255 + NUL + host name 255 + NUL. */
#define SOCKS4_REQUEST_MAX 520
#define SOCKS4_REPLY_LEN 8

/* +----+----+----+----+----+----+----+----+----+----+....+----+
 * | VN | CD | DSTPORT |      DSTIP        | USERID       |NULL|
 * +----+----+----+----+----+----+----+----+----+----+....+----+
 *    1    1      2              4           variable       1
 * VN 4, CD 1 (CONNECT) or 2 (BIND). SOCKS4a: a name goes after the user
 * id's NUL, itself NUL-terminated, with DSTIP 0.0.0.x (x != 0; we send 1).
 * An IPv4 dst is sent as such either way; a name without socks4a, and any
 * IPv6 address, is SOCKS5_E_SOCKS4_ADDR. user may be NULL (ulen 0). */
enum socks5_status socks5_encode_socks4(uint8_t *buf, size_t cap, uint8_t cmd,
					const struct socks5_addr *dst,
					const char *user, size_t ulen,
					bool socks4a, size_t *len);
/* +----+----+----+----+----+----+----+----+
 * | VN | CD | DSTPORT |      DSTIP        |   VN 0; always 8 bytes
 * +----+----+----+----+----+----+----+----+
 * SOCKS5_OK means well formed (out->rep = CD, out->bnd the IPv4 address
 * and port); socks5_socks4_status says what CD means. */
enum socks5_status socks5_parse_socks4_reply(const uint8_t *buf, size_t avail,
					     struct socks5_reply *out,
					     size_t *len);
/* CD → SOCKS5_OK (0x5A), SOCKS5_E_SOCKS4_REJECTED (0x5B),
 * SOCKS5_E_SOCKS4_IDENTD (0x5C), SOCKS5_E_SOCKS4_IDENTD_USER (0x5D),
 * SOCKS5_E_SOCKS4_CODE (anything else). */
enum socks5_status socks5_socks4_status(uint8_t cd);

/* ------------------------------------------------------------------ */
/* HTTP CONNECT (http_connect.c)                                        */

/* The reply's header block (status line to the empty line) is refused
 * past this size: a proxy cannot make us buffer or read without end. */
#define SOCKS5_HTTP_HEADER_MAX 16384
/* Largest request: "CONNECT " host:port " HTTP/1.1\r\nHost: " host:port
 * "\r\nProxy-Authorization: Basic " base64(511 bytes) "\r\n\r\n". */
#define SOCKS5_HTTP_REQUEST_MAX 1280

/*
 * CONNECT dst (RFC 9110 section 9.3.6): the authority form, with an IPv6
 * address in brackets, and the same Host header; with a user, a
 * Proxy-Authorization: Basic of base64(user ":" pass) (RFC 7617: the user
 * may not hold a ':', SOCKS5_E_USER_LENGTH says so). A name must be
 * [A-Za-z0-9._-] and 1..255 bytes (SOCKS5_E_HOST_CHARS): nothing else
 * can end up in the request line.
 */
enum socks5_status socks5_encode_http_connect(uint8_t *buf, size_t cap,
					      const struct socks5_addr *dst,
					      const char *user, size_t ulen,
					      const char *pass, size_t plen,
					      size_t *len);

/*
 * The reply, parsed as it comes without ever taking a byte past its end:
 *
 *   status-line = HTTP-version SP status-code [SP reason-phrase] CRLF
 *   *( field-line CRLF )
 *   CRLF
 *
 * Feed it bytes; each call says, besides the outcome, how many more bytes
 * may be read at most without passing the end of the block (the least any
 * valid rest could take: 1..16), so a reader that never asks for more
 * leaves the tunnelled bytes in the socket. Lines end in CRLF only (a bare
 * LF or CR, a NUL, a header line without ':' is SOCKS5_E_HTTP_HEADER);
 * HTTP/1.0 and 1.1 status lines; the block at most SOCKS5_HTTP_HEADER_MAX.
 * Fields are the parser's; read status, reason and auth.
 */
struct socks5_http_reply {
	uint16_t status;   /* status code, once the status line is parsed */
	char reason[48];   /* reason phrase, printable ASCII, maybe cut */
	char auth[48];     /* Proxy-Authenticate schemes, ", "-separated */
	size_t total;      /* bytes taken */
	size_t line_len;   /* bytes of the current line so far */
	uint8_t ends;      /* terminator state: 0 in a line, 1 CR, 2 CRLF,
			    * 3 CRLF CR (the empty line's CR) */
	bool first;        /* in the status line */
	bool colon;        /* the field line's name has ended */
	bool fold;         /* the line is an obs-fold continuation */
	char line[96];     /* the current line's first bytes */
};
void socks5_http_reply_init(struct socks5_http_reply *r);
/* Takes bytes from buf[0..n): SOCKS5_OK when the empty line ended the
 * block (*used = bytes of it taken, the rest not), SOCKS5_NEED_MORE with
 * *used = n and *want = the most that may be read next, or a malformed
 * status. A reader that feeds at most *want bytes (0 to start: the first
 * call may have n 0) never sees a byte past the block. */
enum socks5_status socks5_http_reply_feed(struct socks5_http_reply *r,
					  const uint8_t *buf, size_t n,
					  size_t *used, size_t *want);

#endif
