/*
 * libsocks5 — the SOCKS5 client core (RFC 1928, RFC 1929), and the other
 * hop types a chain may hold: SOCKS4/SOCKS4a (socks4.c) and HTTP CONNECT
 * (http_connect.c, RFC 9110 section 9.3.6 with RFC 7617 Basic auth).
 *
 * Three layers, each usable alone:
 *   - the codec (codec.c): encoders fill a caller's buffer, parsers read what
 *     is buffered and answer "done", "need N more bytes" or "malformed (why)".
 *     No I/O, no allocation, no globals: safe from any thread or signal handler.
 *   - proxy URLs (url.c): socks5:// and socks5h://, chains.
 *   - the handshake (handshake.c): a state machine the caller steps, with
 *     no I/O of its own (socks5_hs_*), and the drivers (io.c) that run it
 *     over a descriptor through an injectable I/O table with a deadline,
 *     blocking or one non-blocking step at a time from an event loop.
 *
 * Every global name the library defines starts with socks5_ (make checks).
 *
 * Nothing here knows about LD_PRELOAD, and nothing here calls a function that
 * a preload library might hook: all I/O goes through struct socks5_io.
 */
#ifndef SOCKSIFY_CLIENT_SOCKS5_H
#define SOCKSIFY_CLIENT_SOCKS5_H

#include <poll.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/types.h>

#define SOCKS5_VERSION 0x05
#define SOCKS5_AUTH_VERSION 0x01 /* RFC 1929 sub-negotiation version */

enum socks5_method {
	SOCKS5_METHOD_NOAUTH = 0x00,
	SOCKS5_METHOD_GSSAPI = 0x01,
	SOCKS5_METHOD_USERPASS = 0x02,
	SOCKS5_METHOD_NONE_ACCEPTABLE = 0xFF,
};

enum socks5_cmd {
	SOCKS5_CMD_CONNECT = 0x01,
	SOCKS5_CMD_BIND = 0x02,
	SOCKS5_CMD_UDP_ASSOCIATE = 0x03,
};

enum socks5_atyp {
	SOCKS5_ATYP_IPV4 = 0x01,
	SOCKS5_ATYP_DOMAIN = 0x03,
	SOCKS5_ATYP_IPV6 = 0x04,
};

/* RFC 1928 section 6 reply codes. */
enum socks5_rep {
	SOCKS5_REP_SUCCEEDED = 0x00,
	SOCKS5_REP_GENERAL_FAILURE = 0x01,
	SOCKS5_REP_NOT_ALLOWED = 0x02,
	SOCKS5_REP_NET_UNREACHABLE = 0x03,
	SOCKS5_REP_HOST_UNREACHABLE = 0x04,
	SOCKS5_REP_CONN_REFUSED = 0x05,
	SOCKS5_REP_TTL_EXPIRED = 0x06,
	SOCKS5_REP_CMD_NOT_SUPPORTED = 0x07,
	SOCKS5_REP_ATYP_NOT_SUPPORTED = 0x08,
};

/*
 * Every outcome of every function in this library. SOCKS5_OK and
 * SOCKS5_NEED_MORE are not errors; everything else is, with its own message
 * (socks5_strerror) and errno (socks5_status_errno).
 */
enum socks5_status {
	SOCKS5_OK = 0,
	SOCKS5_NEED_MORE,          /* parser: not enough bytes yet */

	/* codec: what a peer sent is wrong */
	SOCKS5_E_VERSION,          /* VER is not 5 */
	SOCKS5_E_RESERVED,         /* RSV is not zero */
	SOCKS5_E_ATYP,             /* unknown address type */
	SOCKS5_E_DOMAIN_EMPTY,     /* domain address of length 0 */
	SOCKS5_E_NO_ACCEPTABLE,    /* server chose method 0xFF */
	SOCKS5_E_METHOD_NOT_OFFERED, /* server chose a method we did not offer */
	SOCKS5_E_AUTH_VERSION,     /* RFC 1929 reply VER is not 1 */
	SOCKS5_E_AUTH_REJECTED,    /* RFC 1929 reply STATUS is not 0 */
	SOCKS5_E_REPLY,            /* REP is not 0: see socks5_rep_errno */
	SOCKS5_E_FRAGMENTED,       /* UDP datagram with FRAG != 0 */
	SOCKS5_E_TRUNCATED,        /* UDP datagram shorter than its header */

	/* codec: SOCKS4/SOCKS4a and HTTP CONNECT hops */
	SOCKS5_E_SOCKS4_VERSION,   /* SOCKS4 reply VN is not 0 */
	SOCKS5_E_SOCKS4_REJECTED,  /* CD 0x5B: rejected or failed */
	SOCKS5_E_SOCKS4_IDENTD,    /* CD 0x5C: identd on the client unreachable */
	SOCKS5_E_SOCKS4_IDENTD_USER, /* CD 0x5D: identd says another user */
	SOCKS5_E_SOCKS4_CODE,      /* CD none of 0x5A..0x5D */
	SOCKS5_E_SOCKS4_ADDR,      /* SOCKS4 cannot carry this address */
	SOCKS5_E_HTTP_STATUS_LINE, /* not "HTTP/1.x NNN ..." */
	SOCKS5_E_HTTP_HEADER,      /* bare LF or CR, NUL, line without ':' */
	SOCKS5_E_HTTP_TOO_BIG,     /* header block over SOCKS5_HTTP_HEADER_MAX */
	SOCKS5_E_HTTP_AUTH,        /* 407 Proxy Authentication Required */
	SOCKS5_E_HTTP_REFUSED,     /* any other status than 2xx */
	SOCKS5_E_HOST_CHARS,       /* a name an HTTP request cannot carry */
	SOCKS5_E_HOP_CMD,          /* BIND/UDP ASSOCIATE at a non-SOCKS5 hop */

	/* GSSAPI, RFC 1961 (socks5_gssapi.h) */
	SOCKS5_E_GSS_VERSION,      /* message VER is not 1 */
	SOCKS5_E_GSS_MTYP,         /* message type other than expected */
	SOCKS5_E_GSS_ABORTED,      /* proxy sent the abort message */
	SOCKS5_E_GSS_LIB,          /* libgssapi_krb5.so.2 cannot be loaded */
	SOCKS5_E_GSS_NO_CREDS,     /* no (valid) ticket: run kinit */
	SOCKS5_E_GSS_SKEW,         /* clock skew too great */
	SOCKS5_E_GSS_CONTEXT,      /* the security context failed otherwise */
	SOCKS5_E_GSS_LEVEL,        /* proxy chose a protection level we refuse */

	/* codec: what the caller asked for cannot be encoded */
	SOCKS5_E_NO_METHODS,       /* empty method list */
	SOCKS5_E_TOO_MANY_METHODS, /* more than 255 methods */
	SOCKS5_E_USER_LENGTH,      /* user name not 1..255 bytes */
	SOCKS5_E_PASS_LENGTH,      /* password not 1..255 bytes */
	SOCKS5_E_DOMAIN_LENGTH,    /* domain name not 1..255 bytes */
	SOCKS5_E_BUFFER,           /* output buffer too small */
	SOCKS5_E_ARG,              /* invalid argument (bad family, NULL, ...) */

	/* URLs */
	SOCKS5_E_URL_SCHEME,       /* not socks5:// or socks5h:// */
	SOCKS5_E_URL_HOST,         /* empty or malformed host */
	SOCKS5_E_URL_PORT,         /* port not a number in 1..65535 */
	SOCKS5_E_URL_USER,         /* user name empty or over 255 bytes */
	SOCKS5_E_URL_PASS,         /* password over 255 bytes */
	SOCKS5_E_URL_ESCAPE,       /* bad %XX escape (or %00) */
	SOCKS5_E_URL_GARBAGE,      /* path, query or other trailing text */
	SOCKS5_E_URL_CHAIN,        /* empty chain element or too many hops */

	/* driver */
	SOCKS5_E_TIMEOUT,          /* deadline reached */
	SOCKS5_E_CLOSED,           /* proxy closed the connection mid-handshake */
	SOCKS5_E_IO,               /* send/recv/poll/connect failed: see errno out */

	SOCKS5_STATUS_COUNT
};

/* A human message for every status; never NULL. */
const char *socks5_strerror(enum socks5_status st);
/* The errno a program expects for a failed status (DESIGN's table). */
int socks5_status_errno(enum socks5_status st);
/* A human string for every REP code, including unassigned ones. */
const char *socks5_rep_string(uint8_t rep);
/* REP → errno: 0x02 EACCES, 0x03 ENETUNREACH, 0x04 EHOSTUNREACH,
 * 0x05 ECONNREFUSED, 0x06 ETIMEDOUT, 0x07 EOPNOTSUPP, 0x08 EAFNOSUPPORT,
 * 0x01 and anything else ECONNREFUSED; 0x00 gives 0. */
int socks5_rep_errno(uint8_t rep);

/* ------------------------------------------------------------------ */
/* Addresses                                                            */

#define SOCKS5_DOMAIN_MAX 255

/* An address as SOCKS5 carries it: DST.ADDR/BND.ADDR plus the port. */
struct socks5_addr {
	uint8_t atyp;     /* enum socks5_atyp */
	uint8_t len;      /* domain length, 1..255 (ATYP_DOMAIN only) */
	uint16_t port;    /* host byte order */
	union {
		uint8_t ipv4[4];
		uint8_t ipv6[16];
		char domain[SOCKS5_DOMAIN_MAX + 1]; /* NUL-terminated */
	} u;
};

/* From an AF_INET/AF_INET6 sockaddr. SOCKS5_E_ARG for other families. */
enum socks5_status socks5_addr_from_sockaddr(struct socks5_addr *out,
					     const struct sockaddr *sa,
					     socklen_t salen);
/* A domain name (1..255 bytes, not NUL-counted) and port. */
enum socks5_status socks5_addr_from_domain(struct socks5_addr *out,
					   const char *name, size_t len,
					   uint16_t port);
/* To a sockaddr_storage; SOCKS5_E_ARG for a domain address. */
enum socks5_status socks5_addr_to_sockaddr(const struct socks5_addr *a,
					   struct sockaddr_storage *ss,
					   socklen_t *salen);
/* Bytes the address takes on the wire: ATYP + ADDR + PORT. */
size_t socks5_addr_wire_len(const struct socks5_addr *a);
/* "1.2.3.4:80", "[::1]:80" or "name:80" into buf (always terminated). */
void socks5_addr_format(const struct socks5_addr *a, char *buf, size_t cap);

/* ------------------------------------------------------------------ */
/* Codec: encoders return the length written in *len.                   */
/* Parsers: SOCKS5_OK with *len = bytes the message took;               */
/*          SOCKS5_NEED_MORE with *len = at least that many more bytes; */
/*          any other status: malformed, with the reason.               */

/* Largest message either side sends in a handshake:
 * RFC 1929 request 1+1+255+1+255 = 513. */
#define SOCKS5_MSG_MAX 513
/* Largest request or reply: 4 + 1 + 255 + 2. */
#define SOCKS5_REQUEST_MAX 262
/* Largest UDP request header: 3 + 1 + 1 + 255 + 2. */
#define SOCKS5_UDP_HEADER_MAX 262

/* +----+----------+----------+
 * |VER | NMETHODS | METHODS  |   client greeting
 * +----+----------+----------+ */
enum socks5_status socks5_encode_greeting(uint8_t *buf, size_t cap,
					  const uint8_t *methods, size_t n,
					  size_t *len);
/* +----+--------+
 * |VER | METHOD |   server method selection; *method set on SOCKS5_OK
 * +----+--------+ */
enum socks5_status socks5_parse_method(const uint8_t *buf, size_t avail,
				       const uint8_t *offered, size_t n_offered,
				       uint8_t *method, size_t *len);

/* RFC 1929: +----+------+----------+------+----------+
 *           |VER | ULEN |  UNAME   | PLEN |  PASSWD  |
 *           +----+------+----------+------+----------+ */
enum socks5_status socks5_encode_auth(uint8_t *buf, size_t cap,
				      const char *user, size_t user_len,
				      const char *pass, size_t pass_len,
				      size_t *len);
/* +----+--------+
 * |VER | STATUS |   SOCKS5_OK only when STATUS is 0
 * +----+--------+ */
enum socks5_status socks5_parse_auth_reply(const uint8_t *buf, size_t avail,
					   size_t *len);

/* +----+-----+-------+------+----------+----------+
 * |VER | CMD |  RSV  | ATYP | DST.ADDR | DST.PORT |
 * +----+-----+-------+------+----------+----------+ */
enum socks5_status socks5_encode_request(uint8_t *buf, size_t cap, uint8_t cmd,
					 const struct socks5_addr *dst,
					 size_t *len);

struct socks5_reply {
	uint8_t rep;             /* enum socks5_rep */
	struct socks5_addr bnd;  /* BND.ADDR / BND.PORT */
};
/* +----+-----+-------+------+----------+----------+
 * |VER | REP |  RSV  | ATYP | BND.ADDR | BND.PORT |
 * +----+-----+-------+------+----------+----------+
 * SOCKS5_OK means well formed: the caller checks out->rep. */
enum socks5_status socks5_parse_reply(const uint8_t *buf, size_t avail,
				      struct socks5_reply *out, size_t *len);

/* +----+------+------+----------+----------+----------+
 * |RSV | FRAG | ATYP | DST.ADDR | DST.PORT |   DATA   |
 * +----+------+------+----------+----------+----------+
 * Encode writes the header only (the payload stays where it is). */
enum socks5_status socks5_encode_udp_header(uint8_t *buf, size_t cap,
					    const struct socks5_addr *dst,
					    size_t *len);
/* Parses a whole datagram in place: on SOCKS5_OK, *len is the header
 * length and the payload is dgram + *len. A datagram is complete by
 * definition, so a short one is SOCKS5_E_TRUNCATED, never NEED_MORE. */
enum socks5_status socks5_parse_udp_header(const uint8_t *dgram, size_t avail,
					   struct socks5_addr *src,
					   size_t *len);
/* The header length the first bytes of a datagram announce (RSV, FRAG,
 * ATYP and, for a domain, its length byte): 10, 22 or 7 + LEN. 0 when
 * fewer than 5 bytes are given (4 suffice for IPv4/IPv6) or ATYP is
 * unknown. Says nothing about the rest: parse the header to check it. */
size_t socks5_udp_header_len(const uint8_t *dgram, size_t avail);

/* SOCKS4, SOCKS4a and HTTP CONNECT: their codecs. */
#include "socks5_hops.h"

/* ------------------------------------------------------------------ */
/* Proxy URLs                                                           */

/* Hops in a chain, and proxies in a list a chain is picked from: as many
 * as proxychains-ng reads (its MAX_CHAIN). 512 of struct socks5_proxy
 * are some 430 KiB: keep such an array off the stack (the handshake
 * reads a chain through socks5_hs_opts.pick, no copies needed).
 * API/ABI change (libsocks5 is 0.x, linked statically): this was 8;
 * struct socks5_hs and struct socks5_hs_opts grew a pick field; and
 * socks5_url_parse_chain takes out NULL (a check). Rebuild callers. */
#define SOCKS5_CHAIN_MAX 512
#define SOCKS5_GSS_SERVICE_MAX 63
#define SOCKS5_DEFAULT_PORT 1080 /* every scheme's, as in curl */

/* What a hop speaks. Zero is SOCKS5, so a zeroed proxy is what it was. */
enum socks5_hop_type {
	SOCKS5_HOP_SOCKS5 = 0, /* socks5://, socks5h:// */
	SOCKS5_HOP_SOCKS4,     /* socks4://: IPv4 addresses only */
	SOCKS5_HOP_SOCKS4A,    /* socks4a://: names go to the proxy */
	SOCKS5_HOP_HTTP,       /* http://: CONNECT, names go to the proxy */
	/* raw://: a plain TCP forwarder (proxychains' "raw"): connected to
	 * and asked nothing; the next hop, or at the end the connection
	 * itself, is wherever it forwards to (the destination is not sent:
	 * the forwarder decides it). No user, CONNECT only. */
	SOCKS5_HOP_RAW,
};
/* "socks5", "socks4", "socks4a", "http", "raw"; never NULL. */
const char *socks5_hop_type_name(uint8_t type);

struct socks5_proxy {
	uint8_t type;                    /* enum socks5_hop_type */
	char host[SOCKS5_DOMAIN_MAX + 1]; /* name or literal, no brackets */
	uint16_t port;                   /* host byte order */
	bool remote_dns;                 /* socks5h://, socks4a://, http:// */
	bool has_auth;                   /* a user was given */
	/* decoded lengths: user 1..255; pass 1..255 for socks5, 0..255 for
	 * http (curl sends "user:"), always 0 for socks4 (a user id only) */
	uint8_t user_len, pass_len;
	char user[SOCKS5_DOMAIN_MAX + 1]; /* percent-decoded, NUL-terminated */
	char pass[SOCKS5_DOMAIN_MAX + 1];
	/* ?auth=gssapi: method X'01' only (RFC 1961, socks5_gssapi.h), with
	 * the service of ?service=NAME (empty: "rcmd", as Dante's) */
	bool gssapi;
	char gss_service[SOCKS5_GSS_SERVICE_MAX + 1];
	/* &level=clear|integrity|confidentiality: the protection level asked
	 * for (enum socks5_gss_level); unset: confidentiality, as Dante's
	 * client offers by default */
	bool gss_level_set;
	uint8_t gss_level;
};

/* Parses one URL. On failure, err (if given) gets a precise message in which
 * any password is masked as "***". */
enum socks5_status socks5_url_parse(const char *url, struct socks5_proxy *out,
				    char *err, size_t errcap);
/* Parses a comma-separated chain, first hop first, at most max hops.
 * out NULL: checks the list only, hop by hop in two proxies of its own
 * (no room for the hops needed), and sets *n to its length. */
enum socks5_status socks5_url_parse_chain(const char *list,
					  struct socks5_proxy *out, size_t max,
					  size_t *n, char *err, size_t errcap);
/* Overwrites, in place, the password of each hop of a URL or chain with
 * as many '*' (the bytes a message would show as "***"), the rest kept:
 * for text that others can read, such as a command's arguments, which
 * /proc/PID/cmdline shows to every user. */
void socks5_url_hide_passwords(char *list);
/* The URL back, with the password as "***" (for logs and messages). */
void socks5_url_format(const struct socks5_proxy *p, char *buf, size_t cap);
/* A buffer that holds any URL socks5_url_format writes: the scheme, a
 * 255-byte user name with every byte escaped, ":***@", a bracketed
 * 255-byte host, ":65535", the GSSAPI query and the NUL. */
#define SOCKS5_URL_SHOWN_MAX \
	(sizeof("socks5h://") + 3 * SOCKS5_DOMAIN_MAX + sizeof(":***@[]:65535") + \
	 SOCKS5_DOMAIN_MAX + sizeof("?auth=gssapi&service=") + \
	 SOCKS5_GSS_SERVICE_MAX + sizeof("&level=confidentiality"))
/* Overwrites the credentials so they do not linger in memory. */
void socks5_proxy_wipe(struct socks5_proxy *p);
/* The hop's address as a request names it: an IPv4 or IPv6 literal as
 * such, anything else a name (which the previous hop resolves). */
enum socks5_status socks5_proxy_addr(const struct socks5_proxy *p,
				     struct socks5_addr *a);

/* ------------------------------------------------------------------ */
/* Handshake driver                                                     */

/*
 * The I/O the driver uses. A preload passes the real libc functions
 * (never its own hooks); tests pass scripted ones. send and recv are
 * always called with MSG_DONTWAIT | MSG_NOSIGNAL after poll says the
 * descriptor is ready, so the descriptor's own O_NONBLOCK setting does not
 * matter.
 *
 * connect() is bounded by the deadline in one of two ways:
 *   - sendto, when set, starts the connection without waiting and without
 *     touching the file status flags: an empty sendto with MSG_FASTOPEN |
 *     MSG_DONTWAIT (Linux turns MSG_DONTWAIT into a non-blocking connect;
 *     with no data nothing rides on the SYN), and MSG_OOB, which only a
 *     stream socket takes. Three system calls fewer.
 *   - otherwise, or when the kernel refuses that (TCP Fast Open disabled
 *     for clients: EOPNOTSUPP), fcntl sets O_NONBLOCK around connect.
 */
struct socks5_io {
	ssize_t (*send)(int fd, const void *buf, size_t len, int flags);
	ssize_t (*recv)(int fd, void *buf, size_t len, int flags);
	int (*poll)(struct pollfd *fds, nfds_t nfds, int timeout_ms);
	int (*connect)(int fd, const struct sockaddr *sa, socklen_t salen);
	int (*fcntl)(int fd, int cmd, ...);
	ssize_t (*sendto)(int fd, const void *buf, size_t len, int flags,
			  const struct sockaddr *sa, socklen_t salen); /* may be NULL */
	/* SO_ERROR after a failed connection attempt, SO_TYPE when the
	 * sendto start is refused: the driver calls no socket function of
	 * its own. NULL: those answers are -ENOSYS. */
	int (*getsockopt)(int fd, int level, int name, void *val,
			  socklen_t *len);
	/* recv takes MSG_PEEK: an HTTP hop's reply is then read in two
	 * calls per arrival (a look, then exactly the header block's bytes)
	 * instead of a few bytes per call; false keeps the small reads. */
	bool peek;
};

/* Milliseconds on CLOCK_MONOTONIC; deadlines are absolute values of it. */
int64_t socks5_now_ms(void);

/* Where a failure happened, for log lines. */
struct socks5_failure {
	enum socks5_status status; /* SOCKS5_OK when nothing failed */
	uint8_t rep;               /* REP when status is SOCKS5_E_REPLY */
	int sys_errno;             /* errno when status is SOCKS5_E_IO */
	int hop;                   /* 0-based hop index, -1 if none */
	const char *state;         /* state name where it failed */
	uint16_t http_status;      /* an HTTP hop's status code, else 0 */
	/* An HTTP hop's reason phrase, or for a 407 the schemes its
	 * Proxy-Authenticate headers ask for ("Basic, Digest"): printable
	 * ASCII, NUL-terminated, maybe cut short. */
	char detail[48];
};

/* The failure in words, one line: the status's message and, where there
 * is one, the REP/CD code, the errno's text or the HTTP status. */
void socks5_failure_describe(const struct socks5_failure *f, char *buf,
			     size_t cap);

/* The errno for a failure, as DESIGN lists: I/O → its errno, REP → the
 * REP table, timeout → ETIMEDOUT, auth rejected → EACCES, malformed →
 * ECONNREFUSED. */
int socks5_failure_errno(const struct socks5_failure *f);

/*
 * Connects fd (any blocking mode) to sa, never waiting past deadline_ms.
 * The descriptor's file status flags are the same afterwards. Returns 0 or
 * a negative errno (-ETIMEDOUT on deadline; -EPROTOTYPE, with nothing
 * sent, when io->sendto is set and fd is not a stream socket).
 */
int socks5_connect_deadline(const struct socks5_io *io, int fd,
			    const struct sockaddr *sa, socklen_t salen,
			    int64_t deadline_ms);

/*
 * Pipelining: a hop's greeting, credentials and request in one write, its
 * replies parsed back to back as they come: one round trip to the proxy
 * instead of two (three with a password). A pipelined greeting offers one
 * method only (username/password when the hop has a user, else no-auth),
 * so a proxy that takes no password refuses a hop with credentials.
 *
 * Not every server takes it: dante and Tor read by length; microsocks
 * discards what follows the greeting in the same segment and then waits
 * for a request that never comes (until the deadline). So pipelining is
 * the caller's choice per hop, and the driver can learn it for hop 0 with
 * a probe that runs alongside a handshake, on a second connection to hop
 * 0, costing that handshake no time: a pipelined greeting [+ credentials]
 * + CONNECT 0.0.0.0:0 (which servers refuse at once without dialling).
 */
enum socks5_probe {
	SOCKS5_PROBE_NONE = 0,  /* no probe ran */
	SOCKS5_PROBE_UNDECIDED, /* nothing certain before the handshake ended */
	SOCKS5_PROBE_NO,        /* greeting answered, then the pipelined
				 * request dropped (5 ms of silence) or the
				 * exchange refused or broken off */
	SOCKS5_PROBE_YES,       /* every pipelined message answered */
};

/* Options of socks5_handshake_ex; all zero is socks5_handshake. */
struct socks5_hs_opts {
	uint32_t pipeline;   /* bit i set: hop i is pipelined (hops 0..31;
			      * later hops never are) */
	bool probe;          /* run the probe on probe_fd alongside */
	int probe_fd;        /* a non-blocking stream socket whose connect()
			      * to hop 0 is started (EINPROGRESS) or done;
			      * the caller closes it afterwards */
	enum socks5_probe probe_result; /* out */
	/* Called with the state's name ("greeting-send", "method-recv", ...,
	 * "done", "failed") each time the handshake enters one, for debug
	 * logs; NULL for none. hop is 0-based. */
	void (*trace)(void *arg, size_t hop, const char *state);
	void *trace_arg;
	/* Out, socks5_handshake_ex on success: a GSSAPI hop's context when
	 * its level wraps the data (integrity, confidentiality), handed to
	 * the caller (socks5_gssapi.h: socks5_gss_seal/open, then
	 * socks5_gss_sec_free); NULL otherwise. Left NULL by a caller that
	 * does not ask (gss_take false): the context is then deleted. */
	bool gss_take;
	struct socks5_gss_sec *gss_sec;
	/* The chain's hops by index: hop i is
	 * chain[pick[i]], i < nhops, each index below SOCKS5_CHAIN_MAX;
	 * NULL: hop i is chain[i]. So a caller whose proxy list is large
	 * runs a chain picked from it without copying any proxy. pick must
	 * outlive the handshake. */
	const uint16_t *pick;
};

/* ------------------------------------------------------------------ */
/* The handshake machine                                                */

/*
 * The handshake as a state machine the caller steps (after curl's
 * lib/socks.c), for one hop or a chain. It does no I/O of its own: it
 * says what to send and how much it may read, and is told what went out
 * and what came. The blocking drivers below are built on it; an event
 * loop steps it whenever the descriptor is ready:
 *
 *   GREETING_SEND -> METHOD_RECV -+-> REQUEST_SEND -> REPLY_RECV -> DONE
 *                                 +-> AUTH_SEND -> AUTH_RECV -^     |
 *                                 +-> GSS_SEND <-> GSS_RECV --^     |
 *   (between hops, REPLY_RECV -> GREETING_SEND of the next hop)     |
 *   any state -> FAILED                                             |
 *
 * Reads are framed by length, so nothing the proxy sends after its last
 * reply is ever taken: it stays in the socket for the program.
 *
 * Usage from an event loop (fd connected, or its non-blocking connect
 * still under way: on Linux a TCP send then fails with EAGAIN, so the
 * first step asks for POLLOUT, which is also how the connect's end shows;
 * a failed connect ends the machine with its errno, SOCKS5_E_IO):
 *
 *   struct socks5_hs hs;
 *   socks5_hs_begin(&hs, chain, nhops, SOCKS5_CMD_CONNECT, &dst, NULL);
 *   ...each time the loop says fd is ready (and once at the start):
 *   short ev = socks5_hs_step(&io, fd, &hs);  // never blocks
 *   if (ev)                    // POLLIN or POLLOUT: wait for it, step again
 *       watch(fd, ev);
 *   else                       // over
 *       rc = socks5_hs_result(&hs, &bound, &why);  // 0 or -errno
 *   ...on the loop's time-out: socks5_hs_fail(&hs, SOCKS5_E_TIMEOUT, 0).
 *
 * Without a socks5_io, drive the bytes by hand: while socks5_hs_sending(),
 * write from socks5_hs_out() and report socks5_hs_sent(); otherwise read
 * at most the size socks5_hs_in() gives into it and report
 * socks5_hs_received() (a closed connection: socks5_hs_fail with
 * SOCKS5_E_CLOSED).
 */
enum socks5_hs_state {
	SOCKS5_HS_GREETING_SEND,
	SOCKS5_HS_METHOD_RECV,
	SOCKS5_HS_AUTH_SEND,
	SOCKS5_HS_AUTH_RECV,
	SOCKS5_HS_GSS_SEND,     /* RFC 1961 token or protection level */
	SOCKS5_HS_GSS_RECV,
	SOCKS5_HS_REQUEST_SEND,
	SOCKS5_HS_REPLY_RECV,
	SOCKS5_HS_DONE,
	SOCKS5_HS_FAILED,
	SOCKS5_HS_STATE_COUNT
};

/* Greeting (at most 2 + 2 methods), credentials and request in one write;
 * an HTTP CONNECT request is longer still. */
#define SOCKS5_HS_OUT_MAX (4 + SOCKS5_MSG_MAX + SOCKS5_REQUEST_MAX > \
			   SOCKS5_HTTP_REQUEST_MAX ? \
			   4 + SOCKS5_MSG_MAX + SOCKS5_REQUEST_MAX : \
			   SOCKS5_HTTP_REQUEST_MAX)

/*
 * One handshake's state, on the caller's stack (no allocation, no
 * globals). The fields are the library's: read them through the
 * functions below. chain and dst must outlive the handshake.
 */
struct socks5_hs {
	enum socks5_hs_state state;
	const struct socks5_proxy *chain; /* NULL when reading a lone reply */
	const uint16_t *pick;             /* hop i is chain[pick[i]]; NULL: i */
	size_t nhops;
	size_t hop;                       /* hop being negotiated */
	uint8_t cmd;                      /* for the last hop */
	const struct socks5_addr *dst;    /* for the last hop; NULL: none */
	uint32_t pipeline;                /* bit i: hop i (< 32) is pipelined */
	bool piped;                       /* the current hop is */

	uint8_t offered[2];               /* methods in the greeting */
	size_t n_offered;

	uint8_t out[SOCKS5_HS_OUT_MAX];   /* bytes to send */
	size_t out_len, out_off;

	uint8_t in[SOCKS5_REQUEST_MAX];   /* received, not yet consumed; */
	size_t in_len;                    /* the current message starts at in[0] */
	size_t want;                      /* bytes that may be read now */

	bool answered;                    /* the proxy sent at least a byte */
	bool replied;                     /* a request reply parsed (any REP) */

	struct socks5_reply reply;        /* the last reply parsed */
	struct socks5_http_reply http;    /* an HTTP hop's reply so far */
	struct socks5_failure fail;

	/* GSSAPI (gss_context.c): the context and the service's name, GSS-API
	 * handles released by socks5_hs_result */
	void *gss_ctx, *gss_name;
	bool gss_established;             /* context complete */
	uint8_t gss_level;                /* protection level agreed */
	bool gss_wrap;                    /* the level wraps what follows */
	size_t gss_max;                   /* plaintext per wrapped message */
	/* GSSAPI messages, allocated when the method is chosen (a server's
	 * token may be 65535 bytes): received first, to send after */
	uint8_t *gss_buf;
	size_t gss_rx_len;

	void (*trace)(void *arg, size_t hop, const char *state);
	void *trace_arg;
};

/*
 * Starts a handshake over chain (1..SOCKS5_CHAIN_MAX hops; with
 * opts->pick, the hops chain[pick[0..nhops)]) to dst: for
 * each hop, method negotiation (no-auth, or username/password when the hop
 * has a user) and, between hops, CONNECT to the next hop; then cmd to dst
 * at the last hop. dst NULL: no request at the last hop, the machine is
 * DONE once that hop is negotiated (a check of the chain). opts (may be
 * NULL) gives the pipeline mask and the trace, which is told of every
 * state entered, this first one included; its probe fields are ignored.
 * A chain that cannot be used leaves the machine FAILED (SOCKS5_E_ARG).
 */
void socks5_hs_begin(struct socks5_hs *h, const struct socks5_proxy *chain,
		     size_t nhops, uint8_t cmd, const struct socks5_addr *dst,
		     const struct socks5_hs_opts *opts);
/* A machine that reads one request reply alone (BIND's second reply). */
void socks5_hs_begin_reply(struct socks5_hs *h);

enum socks5_hs_state socks5_hs_state(const struct socks5_hs *h);
/* "greeting-send", "method-recv", ..., "done", "failed"; never NULL. */
const char *socks5_hs_state_name(enum socks5_hs_state s);
/* The hop being negotiated, 0-based. */
size_t socks5_hs_hop(const struct socks5_hs *h);
bool socks5_hs_over(const struct socks5_hs *h);    /* DONE or FAILED */
bool socks5_hs_sending(const struct socks5_hs *h); /* else receiving */

/* The bytes still to send; then how many of them went out. */
const uint8_t *socks5_hs_out(const struct socks5_hs *h, size_t *len);
void socks5_hs_sent(struct socks5_hs *h, size_t n);
/* Where to read, and at most how many bytes; then how many came. */
uint8_t *socks5_hs_in(struct socks5_hs *h, size_t *max);
void socks5_hs_received(struct socks5_hs *h, size_t n);
/* Stops the machine (a time-out, a closed or failed descriptor),
 * recording where and why. */
void socks5_hs_fail(struct socks5_hs *h, enum socks5_status st,
		    int sys_errno);

/*
 * Advances the machine over fd with whatever the descriptor takes and
 * holds now, through io->send and io->recv (MSG_DONTWAIT, never
 * blocking). Returns the poll events to wait for before the next step
 * (POLLIN or POLLOUT), or 0 when the machine is over.
 */
short socks5_hs_step(const struct socks5_io *io, int fd, struct socks5_hs *h);

/* For reports while it runs: the last request reply parsed (at a hop's
 * REPLY_RECV -> next state, that hop's reply); the bytes of the message
 * being parsed (after a failure, the malformed one); the address the
 * current hop's request names. */
const struct socks5_reply *socks5_hs_reply(const struct socks5_hs *h);
const uint8_t *socks5_hs_pending(const struct socks5_hs *h, size_t *len);
enum socks5_status socks5_hs_target(const struct socks5_hs *h,
				    struct socks5_addr *a, uint8_t *cmd);

/*
 * The outcome once over: 0, with *bound (if given) the last reply, or a
 * negative errno (socks5_failure_errno); *why (if given) says where and
 * why. Wipes what the machine sent (credentials). -EINPROGRESS, nothing
 * touched, while the machine runs.
 */
int socks5_hs_result(struct socks5_hs *h, struct socks5_reply *bound,
		     struct socks5_failure *why);

/* ------------------------------------------------------------------ */
/* Blocking drivers (on the machine above)                              */

/*
 * Runs the handshake over fd, already connected to chain[0]: for each hop,
 * method negotiation (no-auth, or username/password when the hop has a
 * user) and, between hops, CONNECT to the next hop; then cmd to dst at the
 * last hop. On success *bound holds the last reply's BND address (for BIND,
 * the first reply). Returns 0 or a negative errno; *why (if given) says
 * what failed.
 */
int socks5_handshake(const struct socks5_io *io, int fd,
		     const struct socks5_proxy *chain, size_t nhops,
		     uint8_t cmd, const struct socks5_addr *dst,
		     int64_t deadline_ms, struct socks5_reply *bound,
		     struct socks5_failure *why);

/* socks5_handshake with options (opts may be NULL). The probe never
 * delays the handshake: whatever it has not learnt when the handshake
 * ends is SOCKS5_PROBE_UNDECIDED. */
int socks5_handshake_ex(const struct socks5_io *io, int fd,
			const struct socks5_proxy *chain, size_t nhops,
			uint8_t cmd, const struct socks5_addr *dst,
			int64_t deadline_ms, struct socks5_hs_opts *opts,
			struct socks5_reply *bound, struct socks5_failure *why);

/*
 * The pipelining probe for an event loop of its own (the blocking driver
 * above runs it for its callers): begin sets up the probe's machine for
 * hop0 on a second connection to it (step it like any machine, on a
 * non-blocking socket whose connect() has started); verdict, at any
 * time, says what it learnt so far, quiet_ms being the time since bytes
 * last came on that connection. The caller closes the descriptor.
 */
void socks5_probe_begin(struct socks5_hs *h, const struct socks5_proxy *hop0);
enum socks5_probe socks5_probe_verdict(const struct socks5_hs *h,
				       int64_t quiet_ms);

/* BIND's second reply (the incoming connection's address), read with the
 * same rules. Returns 0 or a negative errno. */
int socks5_read_reply(const struct socks5_io *io, int fd, int64_t deadline_ms,
		      struct socks5_reply *reply, struct socks5_failure *why);

#endif
