/*
 * Errors are data: one message and one errno per status, REP codes mapped
 * through tables. Everything here is a constant lookup, safe anywhere.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "socks5.h"

struct status_info {
	const char *msg;
	int err;
};

/*
 * errno choices, from the point of view of a program whose connect() (or
 * send) failed: malformed or unexpected proxy answers are ECONNREFUSED, as
 * DESIGN says; credentials refused or required are EACCES; a bad datagram
 * is EPROTO (the preload drops those, a program never sees it); mistakes
 * in what the caller asked for or configured are EINVAL.
 */
static const struct status_info status_table[SOCKS5_STATUS_COUNT] = {
	[SOCKS5_OK] = { "success", 0 },
	[SOCKS5_NEED_MORE] = { "more bytes needed", EAGAIN },

	[SOCKS5_E_VERSION] = { "proxy answered with a SOCKS version other than 5",
			       ECONNREFUSED },
	[SOCKS5_E_RESERVED] = { "reserved field is not zero", ECONNREFUSED },
	[SOCKS5_E_ATYP] = { "unknown address type", ECONNREFUSED },
	[SOCKS5_E_DOMAIN_EMPTY] = { "domain address of length zero",
				    ECONNREFUSED },
	/* The proxy wants credentials we do not have (or refuses ours). */
	[SOCKS5_E_NO_ACCEPTABLE] = { "proxy accepts none of the offered authentication methods",
				     EACCES },
	[SOCKS5_E_METHOD_NOT_OFFERED] = { "proxy chose an authentication method that was not offered",
					  ECONNREFUSED },
	[SOCKS5_E_AUTH_VERSION] = { "username/password reply has a version other than 1",
				    ECONNREFUSED },
	[SOCKS5_E_AUTH_REJECTED] = { "proxy rejected the user name or password",
				     EACCES },
	/* The precise errno comes from socks5_rep_errno(). */
	[SOCKS5_E_REPLY] = { "proxy refused the request", ECONNREFUSED },
	[SOCKS5_E_FRAGMENTED] = { "fragmented UDP datagram (not supported)",
				  EPROTO },
	[SOCKS5_E_TRUNCATED] = { "UDP datagram shorter than its SOCKS header",
				 EPROTO },

	[SOCKS5_E_SOCKS4_VERSION] = { "SOCKS4 proxy answered with a reply version other than 0",
				      ECONNREFUSED },
	[SOCKS5_E_SOCKS4_REJECTED] = { "SOCKS4 proxy rejected the request or could not connect (code 0x5B)",
				       ECONNREFUSED },
	/* identd failures are about who the client is: permission. */
	[SOCKS5_E_SOCKS4_IDENTD] = { "SOCKS4 proxy refused: it cannot reach identd on the client to check the user id (code 0x5C)",
				     EACCES },
	[SOCKS5_E_SOCKS4_IDENTD_USER] = { "SOCKS4 proxy refused: identd on the client reports a different user id (code 0x5D)",
					  EACCES },
	[SOCKS5_E_SOCKS4_CODE] = { "SOCKS4 proxy answered with an unknown reply code",
				   ECONNREFUSED },
	/* As SOCKS5's "address type not supported". */
	[SOCKS5_E_SOCKS4_ADDR] = { "a SOCKS4 hop carries IPv4 addresses only (names need socks4a://, IPv6 socks5:// or http://)",
				   EAFNOSUPPORT },
	[SOCKS5_E_HTTP_STATUS_LINE] = { "HTTP proxy answered without a valid HTTP/1.x status line",
					ECONNREFUSED },
	[SOCKS5_E_HTTP_HEADER] = { "HTTP proxy sent a malformed header line (bare CR or LF, control byte, or no ':')",
				   ECONNREFUSED },
	[SOCKS5_E_HTTP_TOO_BIG] = { "HTTP proxy's reply headers exceed 16 KiB",
				    ECONNREFUSED },
	[SOCKS5_E_HTTP_AUTH] = { "HTTP proxy requires authentication or refused the credentials",
				 EACCES },
	[SOCKS5_E_HTTP_REFUSED] = { "HTTP proxy refused the CONNECT",
				    ECONNREFUSED },
	[SOCKS5_E_HOST_CHARS] = { "host name has characters other than letters, digits, '.', '-' and '_'",
				  EINVAL },
	[SOCKS5_E_HOP_CMD] = { "only a SOCKS5 hop can BIND or relay UDP (this hop is SOCKS4, HTTP or raw)",
			       EOPNOTSUPP },

	/* Authentication failures are EACCES, as a refused password; a
	 * malformed exchange ECONNREFUSED, as any malformed answer. */
	[SOCKS5_E_GSS_VERSION] = { "GSSAPI message has a version other than 1",
				   ECONNREFUSED },
	[SOCKS5_E_GSS_MTYP] = { "GSSAPI message of an unexpected type",
				ECONNREFUSED },
	[SOCKS5_E_GSS_ABORTED] = { "proxy aborted the GSSAPI authentication",
				   EACCES },
	[SOCKS5_E_GSS_LIB] = { "GSSAPI library libgssapi_krb5.so.2 not found (install libgssapi-krb5-2)",
			       EACCES },
	[SOCKS5_E_GSS_NO_CREDS] = { "no valid Kerberos ticket for GSSAPI: run kinit",
				    EACCES },
	[SOCKS5_E_GSS_SKEW] = { "GSSAPI failed: clock skew too great between this host and the KDC or proxy",
				EACCES },
	[SOCKS5_E_GSS_CONTEXT] = { "GSSAPI security context failed", EACCES },
	[SOCKS5_E_GSS_LEVEL] = { "GSSAPI protection level refused (the URL's &level= must be one the proxy offers: clear, integrity, confidentiality)",
				 EACCES },

	[SOCKS5_E_NO_METHODS] = { "no authentication method to offer", EINVAL },
	[SOCKS5_E_TOO_MANY_METHODS] = { "more than 255 authentication methods",
					EINVAL },
	[SOCKS5_E_USER_LENGTH] = { "user name must be 1..255 bytes", EINVAL },
	[SOCKS5_E_PASS_LENGTH] = { "password must be 1..255 bytes", EINVAL },
	[SOCKS5_E_DOMAIN_LENGTH] = { "domain name must be 1..255 bytes", EINVAL },
	[SOCKS5_E_BUFFER] = { "output buffer too small", ENOBUFS },
	[SOCKS5_E_ARG] = { "invalid argument", EINVAL },

	[SOCKS5_E_URL_SCHEME] = { "proxy URL scheme must be socks5://, socks5h://, socks4://, socks4a:// or http://",
				  EINVAL },
	[SOCKS5_E_URL_HOST] = { "proxy URL host is empty or malformed", EINVAL },
	[SOCKS5_E_URL_PORT] = { "proxy URL port must be a number in 1..65535",
				EINVAL },
	[SOCKS5_E_URL_USER] = { "proxy URL user name must be 1..255 bytes",
				EINVAL },
	[SOCKS5_E_URL_PASS] = { "proxy URL password must be 1..255 bytes",
				EINVAL },
	[SOCKS5_E_URL_ESCAPE] = { "proxy URL has a bad %XX escape (or %00)",
				  EINVAL },
	[SOCKS5_E_URL_GARBAGE] = { "proxy URL has a path, query or other text after host:port",
				   EINVAL },
	[SOCKS5_E_URL_CHAIN] = { "proxy chain has an empty element or too many hops",
				 EINVAL },

	[SOCKS5_E_TIMEOUT] = { "timed out talking to the proxy", ETIMEDOUT },
	/* connect() never completed from the program's view: refused. */
	[SOCKS5_E_CLOSED] = { "proxy closed the connection during the handshake",
			      ECONNREFUSED },
	/* The real errno is in struct socks5_failure.sys_errno. */
	[SOCKS5_E_IO] = { "I/O error talking to the proxy", EIO },
};

const char *socks5_strerror(enum socks5_status st)
{
	if ((unsigned)st >= SOCKS5_STATUS_COUNT || !status_table[st].msg)
		return "unknown socks5 status";
	return status_table[st].msg;
}

int socks5_status_errno(enum socks5_status st)
{
	if ((unsigned)st >= SOCKS5_STATUS_COUNT || !status_table[st].msg)
		return EINVAL;
	return status_table[st].err;
}

/*
 * RFC 1928 section 6 assigns 0x00..0x08; 0x09..0xFF are unassigned. Every
 * unassigned entry names its own value so that a log line quoting only the
 * string still says what the proxy sent.
 */
#define UNASSIGNED(h, l) [0x##h##l] = "unassigned reply code 0x" #h #l
#define UNASSIGNED_ROW(h)                                                  \
	UNASSIGNED(h, 0), UNASSIGNED(h, 1), UNASSIGNED(h, 2),               \
	UNASSIGNED(h, 3), UNASSIGNED(h, 4), UNASSIGNED(h, 5),               \
	UNASSIGNED(h, 6), UNASSIGNED(h, 7), UNASSIGNED(h, 8),               \
	UNASSIGNED(h, 9), UNASSIGNED(h, A), UNASSIGNED(h, B),               \
	UNASSIGNED(h, C), UNASSIGNED(h, D), UNASSIGNED(h, E),               \
	UNASSIGNED(h, F)

static const char *const rep_strings[256] = {
	[0x00] = "succeeded",
	[0x01] = "general SOCKS server failure",
	[0x02] = "connection not allowed by ruleset",
	[0x03] = "network unreachable",
	[0x04] = "host unreachable",
	[0x05] = "connection refused",
	[0x06] = "TTL expired",
	[0x07] = "command not supported",
	[0x08] = "address type not supported",
	UNASSIGNED(0, 9), UNASSIGNED(0, A), UNASSIGNED(0, B),
	UNASSIGNED(0, C), UNASSIGNED(0, D), UNASSIGNED(0, E),
	UNASSIGNED(0, F),
	UNASSIGNED_ROW(1), UNASSIGNED_ROW(2), UNASSIGNED_ROW(3),
	UNASSIGNED_ROW(4), UNASSIGNED_ROW(5), UNASSIGNED_ROW(6),
	UNASSIGNED_ROW(7), UNASSIGNED_ROW(8), UNASSIGNED_ROW(9),
	UNASSIGNED_ROW(A), UNASSIGNED_ROW(B), UNASSIGNED_ROW(C),
	UNASSIGNED_ROW(D), UNASSIGNED_ROW(E), UNASSIGNED_ROW(F),
};

const char *socks5_rep_string(uint8_t rep)
{
	return rep_strings[rep];
}

/* DESIGN's table; 0x01 and every unassigned code fall to ECONNREFUSED. */
static const int rep_errnos[SOCKS5_REP_ATYP_NOT_SUPPORTED + 1] = {
	[SOCKS5_REP_SUCCEEDED] = 0,
	[SOCKS5_REP_GENERAL_FAILURE] = ECONNREFUSED,
	[SOCKS5_REP_NOT_ALLOWED] = EACCES,
	[SOCKS5_REP_NET_UNREACHABLE] = ENETUNREACH,
	[SOCKS5_REP_HOST_UNREACHABLE] = EHOSTUNREACH,
	[SOCKS5_REP_CONN_REFUSED] = ECONNREFUSED,
	[SOCKS5_REP_TTL_EXPIRED] = ETIMEDOUT,
	[SOCKS5_REP_CMD_NOT_SUPPORTED] = EOPNOTSUPP,
	[SOCKS5_REP_ATYP_NOT_SUPPORTED] = EAFNOSUPPORT,
};

int socks5_rep_errno(uint8_t rep)
{
	if (rep < sizeof(rep_errnos) / sizeof(rep_errnos[0]))
		return rep_errnos[rep];
	return ECONNREFUSED;
}

/*
 * The errno a program should see for a failed handshake. A failure record
 * that says nothing failed gives 0. An I/O failure without a recorded errno
 * and a "REP" failure whose code is 0 (a driver bug) still give an error.
 */
int socks5_failure_errno(const struct socks5_failure *f)
{
	if (!f)
		return EINVAL;
	switch (f->status) {
	case SOCKS5_OK:
		return 0;
	case SOCKS5_E_IO:
		return f->sys_errno > 0 ? f->sys_errno : EIO;
	case SOCKS5_E_REPLY:
		return f->rep ? socks5_rep_errno(f->rep) : ECONNREFUSED;
	default:
		return socks5_status_errno(f->status);
	}
}

const char *socks5_hop_type_name(uint8_t type)
{
	switch (type) {
	case SOCKS5_HOP_SOCKS5:
		return "socks5";
	case SOCKS5_HOP_SOCKS4:
		return "socks4";
	case SOCKS5_HOP_SOCKS4A:
		return "socks4a";
	case SOCKS5_HOP_HTTP:
		return "http";
	case SOCKS5_HOP_RAW:
		return "raw";
	default:
		return "unknown";
	}
}

/* For log lines and `socksify --check`; not for a signal handler (snprintf). */
void socks5_failure_describe(const struct socks5_failure *f, char *buf,
			     size_t cap)
{
	const char *msg;

	if (!buf || !cap)
		return;
	if (!f) {
		snprintf(buf, cap, "no failure recorded");
		return;
	}
	msg = socks5_strerror(f->status);
	switch (f->status) {
	case SOCKS5_E_REPLY:
		snprintf(buf, cap, "%s: %s", msg, socks5_rep_string(f->rep));
		break;
	case SOCKS5_E_SOCKS4_CODE:
		snprintf(buf, cap, "%s 0x%02X", msg, f->rep);
		break;
	case SOCKS5_E_IO:
		snprintf(buf, cap, "%s: %s", msg, strerror(f->sys_errno));
		break;
	case SOCKS5_E_HTTP_AUTH:
		if (f->detail[0])
			snprintf(buf, cap, "%s (%u); it asks for %s%s", msg,
				 f->http_status, f->detail,
				 strstr(f->detail, "Basic") ? ": put USER:PASS in the http:// URL" :
				 " (socksify speaks Basic only)");
		else
			snprintf(buf, cap, "%s (%u)", msg, f->http_status);
		break;
	case SOCKS5_E_HTTP_REFUSED:
		snprintf(buf, cap, "%s: status %u%s%s", msg, f->http_status,
			 f->detail[0] ? " " : "", f->detail);
		break;
	case SOCKS5_E_GSS_NO_CREDS:
	case SOCKS5_E_GSS_SKEW:
	case SOCKS5_E_GSS_CONTEXT:
	case SOCKS5_E_GSS_LEVEL:
		/* the mechanism's own words, or what was refused */
		snprintf(buf, cap, "%s%s%s", msg, f->detail[0] ? " (" : "",
			 f->detail);
		if (f->detail[0] && strlen(buf) + 1 < cap)
			strcat(buf, ")");
		break;
	default:
		snprintf(buf, cap, "%s", msg);
	}
}
