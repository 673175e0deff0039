/*
 * The GSS-API side of RFC 1961 for the handshake machine (handshake.c):
 * libgssapi_krb5.so.2 loaded with dlopen the first time a hop asks for
 * GSSAPI, so no program pays for Kerberos unless it uses it and the
 * library has no link-time dependency on it; the context established with
 * the proxy's service (SERVICE@HOST, host-based); the protection level
 * message wrapped and unwrapped.
 *
 * The GSS-API types are declared here (the C bindings of RFC 2744, whose
 * ABI is fixed) rather than taken from <gssapi/gssapi.h>, so building
 * socksify needs no Kerberos headers either.
 *
 * Errors are told apart for the user: no ticket or an expired one ("run
 * kinit"), clock skew, anything else with the mechanism's own text in
 * struct socks5_failure.detail.
 */
#include <dlfcn.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hs.h"
#include "socks5_gssapi.h"

typedef uint32_t OM_uint32;
typedef struct { size_t length; void *value; } gss_buffer_desc;
typedef struct { OM_uint32 length; void *elements; } gss_OID_desc;

#define GSS_S_COMPLETE 0u
#define GSS_S_CONTINUE_NEEDED 1u
#define GSS_ROUTINE_ERROR(x) ((x) & (0xffu << 16))
#define GSS_S_NO_CRED (7u << 16)
#define GSS_S_CREDENTIALS_EXPIRED (11u << 16)
#define GSS_C_MUTUAL_FLAG 2u
#define GSS_C_REPLAY_FLAG 4u
#define GSS_C_SEQUENCE_FLAG 8u
#define GSS_C_GSS_CODE 1
#define GSS_C_MECH_CODE 2

/* MIT krb5 error codes (krb5/krb5.h, com_err table base -1765328384). */
#define KRB5KRB_AP_ERR_TKT_EXPIRED (-1765328352L)
#define KRB5KRB_AP_ERR_SKEW (-1765328347L)
#define KRB5_FCC_NOFILE (-1765328189L)
#define KRB5_CC_NOTFOUND (-1765328243L)
#define KRB5KDC_ERR_CLIENT_REVOKED (-1765328366L)

/* GSS_C_NT_HOSTBASED_SERVICE, 1.2.840.113554.1.2.1.4 */
static gss_OID_desc nt_hostbased = {
	10, (void *)"\x2a\x86\x48\x86\xf7\x12\x01\x02\x01\x04"
};

static struct {
	OM_uint32 (*import_name)(OM_uint32 *, gss_buffer_desc *, gss_OID_desc *,
				 void **);
	OM_uint32 (*release_name)(OM_uint32 *, void **);
	OM_uint32 (*init_sec_context)(OM_uint32 *, void *, void **, void *,
				      gss_OID_desc *, OM_uint32, OM_uint32,
				      void *, gss_buffer_desc *, gss_OID_desc **,
				      gss_buffer_desc *, OM_uint32 *,
				      OM_uint32 *);
	OM_uint32 (*delete_sec_context)(OM_uint32 *, void **, gss_buffer_desc *);
	OM_uint32 (*wrap)(OM_uint32 *, void *, int, OM_uint32, gss_buffer_desc *,
			  int *, gss_buffer_desc *);
	OM_uint32 (*unwrap)(OM_uint32 *, void *, gss_buffer_desc *,
			    gss_buffer_desc *, int *, OM_uint32 *);
	OM_uint32 (*release_buffer)(OM_uint32 *, gss_buffer_desc *);
	OM_uint32 (*display_status)(OM_uint32 *, OM_uint32, int, gss_OID_desc *,
				    OM_uint32 *, gss_buffer_desc *);
	OM_uint32 (*wrap_size_limit)(OM_uint32 *, void *, int, OM_uint32,
				     OM_uint32, OM_uint32 *);
	bool ok;
} gss;

static pthread_once_t gss_once = PTHREAD_ONCE_INIT;

#define GSS_LIBRARY "libgssapi_krb5.so.2"

static void gss_load(void)
{
	void *lib = dlopen(GSS_LIBRARY, RTLD_NOW | RTLD_LOCAL);

	if (!lib)
		return;
	*(void **)&gss.import_name = dlsym(lib, "gss_import_name");
	*(void **)&gss.release_name = dlsym(lib, "gss_release_name");
	*(void **)&gss.init_sec_context = dlsym(lib, "gss_init_sec_context");
	*(void **)&gss.delete_sec_context = dlsym(lib, "gss_delete_sec_context");
	*(void **)&gss.wrap = dlsym(lib, "gss_wrap");
	*(void **)&gss.unwrap = dlsym(lib, "gss_unwrap");
	*(void **)&gss.release_buffer = dlsym(lib, "gss_release_buffer");
	*(void **)&gss.display_status = dlsym(lib, "gss_display_status");
	*(void **)&gss.wrap_size_limit = dlsym(lib, "gss_wrap_size_limit");
	gss.ok = gss.import_name && gss.release_name && gss.init_sec_context &&
		 gss.delete_sec_context && gss.wrap && gss.unwrap &&
		 gss.release_buffer && gss.display_status &&
		 gss.wrap_size_limit;
}

/* The mechanism's words for minor (or the GSS words for major). */
static void gss_words(OM_uint32 major, OM_uint32 minor, char *buf, size_t cap)
{
	OM_uint32 min2, ctx = 0;
	gss_buffer_desc txt = { 0, NULL };

	buf[0] = '\0';
	if (gss.display_status(&min2, minor ? minor : major,
			       minor ? GSS_C_MECH_CODE : GSS_C_GSS_CODE, NULL,
			       &ctx, &txt) == GSS_S_COMPLETE && txt.value) {
		snprintf(buf, cap, "%.*s", (int)txt.length, (char *)txt.value);
		gss.release_buffer(&min2, &txt);
	}
}

static enum socks5_status gss_status(OM_uint32 major, OM_uint32 minor,
				     struct socks5_failure *f)
{
	long m = (long)(int32_t)minor;

	gss_words(major, minor, f->detail, sizeof(f->detail));
	if (m == KRB5KRB_AP_ERR_SKEW)
		return SOCKS5_E_GSS_SKEW;
	if (GSS_ROUTINE_ERROR(major) == GSS_S_NO_CRED ||
	    GSS_ROUTINE_ERROR(major) == GSS_S_CREDENTIALS_EXPIRED ||
	    m == KRB5_FCC_NOFILE || m == KRB5_CC_NOTFOUND ||
	    m == KRB5KRB_AP_ERR_TKT_EXPIRED)
		return SOCKS5_E_GSS_NO_CREDS;
	return SOCKS5_E_GSS_CONTEXT;
}

/* Where the messages to send are framed (after the receive half). */
static uint8_t *gss_tx(struct socks5_hs *h)
{
	return h->gss_buf + SOCKS5_GSS_FRAME_MAX;
}

/* The level this hop asks for (URL &level=; confidentiality unset). */
static uint8_t gss_asked(const struct socks5_hs *h)
{
	const struct socks5_proxy *p = socks5_hs_hop_at(h, h->hop);

	return p->gss_level_set ? p->gss_level :
				  SOCKS5_GSS_LEVEL_CONFIDENTIALITY;
}

/* The context will protect UDP ASSOCIATE's datagrams (RFC 1961 section
 * 6), which may be lost or come out of order: replay detection only, no
 * sequencing (as Dante's client asks for UDP), else a lost datagram would
 * make every later one fail to unwrap. */
static bool gss_for_udp(const struct socks5_hs *h)
{
	return h->cmd == SOCKS5_CMD_UDP_ASSOCIATE && h->hop + 1 == h->nhops;
}

/* One step of gss_init_sec_context with the server's token (NULL at the
 * start); the output token framed into h->out. */
static enum socks5_status gss_step(struct socks5_hs *h, const uint8_t *tok,
				   size_t tlen)
{
	OM_uint32 major, minor, flags = 0;
	gss_buffer_desc in = { tlen, (void *)tok }, out = { 0, NULL };
	enum socks5_status st = SOCKS5_OK;
	size_t n = 0;

	major = gss.init_sec_context(&minor, NULL, &h->gss_ctx, h->gss_name,
				     NULL, GSS_C_MUTUAL_FLAG | GSS_C_REPLAY_FLAG |
				     (gss_for_udp(h) ? 0 : GSS_C_SEQUENCE_FLAG),
				     0, NULL,
				     tok ? &in : NULL, NULL, &out, &flags,
				     NULL);
	if (major != GSS_S_COMPLETE && major != GSS_S_CONTINUE_NEEDED) {
		st = gss_status(major, minor, &h->fail);
	} else {
		h->gss_established = major == GSS_S_COMPLETE;
		h->out_len = h->out_off = 0;
		if (out.length)
			st = socks5_gss_encode(gss_tx(h), SOCKS5_GSS_FRAME_MAX,
					       SOCKS5_GSS_MTYP_AUTH, out.value,
					       out.length, &n);
		h->out_len = n;
	}
	if (out.value)
		gss.release_buffer(&minor, &out);
	return st;
}

/* The protection level message: one octet, wrapped without confidentiality
 * (RFC 1961 section 4). */
static enum socks5_status gss_encode_level(struct socks5_hs *h)
{
	OM_uint32 major, minor;
	uint8_t level = gss_asked(h);
	gss_buffer_desc in = { 1, &level }, out = { 0, NULL };
	enum socks5_status st;
	size_t n = 0;
	int conf = 0;

	major = gss.wrap(&minor, h->gss_ctx, 0, 0, &in, &conf, &out);
	if (major != GSS_S_COMPLETE)
		return gss_status(major, minor, &h->fail);
	st = socks5_gss_encode(gss_tx(h), SOCKS5_GSS_FRAME_MAX,
			       SOCKS5_GSS_MTYP_PROT, out.value, out.length,
			       &n);
	gss.release_buffer(&minor, &out);
	h->out_len = n;
	h->out_off = 0;
	return st;
}

enum socks5_status socks5_hs_gss_begin(struct socks5_hs *h)
{
	const struct socks5_proxy *p = socks5_hs_hop_at(h, h->hop);
	char name[SOCKS5_GSS_SERVICE_MAX + 1 + SOCKS5_DOMAIN_MAX + 1];
	gss_buffer_desc nb;
	OM_uint32 major, minor;

	pthread_once(&gss_once, gss_load);
	if (!gss.ok)
		return SOCKS5_E_GSS_LIB;
	snprintf(name, sizeof(name), "%s@%s",
		 p->gss_service[0] ? p->gss_service : "rcmd", p->host);
	nb.length = strlen(name);
	nb.value = name;
	if (!h->gss_buf)
		h->gss_buf = malloc(2 * SOCKS5_GSS_FRAME_MAX);
	if (!h->gss_buf) {
		snprintf(h->fail.detail, sizeof(h->fail.detail),
			 "out of memory for the GSSAPI messages");
		return SOCKS5_E_GSS_CONTEXT;
	}
	h->gss_rx_len = 0;
	major = gss.import_name(&minor, &nb, &nt_hostbased, &h->gss_name);
	if (major != GSS_S_COMPLETE)
		return gss_status(major, minor, &h->fail);
	h->gss_established = false;
	return gss_step(h, NULL, 0);
}

/* The level the proxy answered: the one asked for, or for a protected
 * level asked, the other protected one (Dante's client accepts that
 * too); never clear when protection was asked, never per-message. A
 * protected level wraps everything after it: only at the last hop (the
 * next hop's handshake would have to be wrapped too) and only for
 * CONNECT and UDP ASSOCIATE (whose datagrams the caller wraps with the
 * handed-over context); not for BIND (its second reply and the accepted
 * connection would need the context too: refused, EACCES). */
static enum socks5_status gss_agree(struct socks5_hs *h, uint8_t level,
				    bool *agreed)
{
	uint8_t asked = gss_asked(h);
	OM_uint32 major, minor, max = 0;
	bool prot = level == SOCKS5_GSS_LEVEL_INTEGRITY ||
		    level == SOCKS5_GSS_LEVEL_CONFIDENTIALITY;

	h->gss_level = level;
	if (level != asked && !(prot && asked != SOCKS5_GSS_LEVEL_CLEAR)) {
		snprintf(h->fail.detail, sizeof(h->fail.detail),
			 "asked for %s, proxy answered %s (%u)",
			 socks5_gss_level_name(asked),
			 socks5_gss_level_name(level), level);
		return SOCKS5_E_GSS_LEVEL;
	}
	if (prot && (h->hop + 1 < h->nhops ||
		     (h->dst && h->cmd == SOCKS5_CMD_BIND))) {
		snprintf(h->fail.detail, sizeof(h->fail.detail),
			 h->hop + 1 < h->nhops ? "%s: at the last hop only" :
						 "%s: BIND needs level=clear",
			 socks5_gss_level_name(level));
		return SOCKS5_E_GSS_LEVEL;
	}
	if (prot) {
		major = gss.wrap_size_limit(&minor, h->gss_ctx,
					    level == SOCKS5_GSS_LEVEL_CONFIDENTIALITY,
					    0, SOCKS5_GSS_TOKEN_MAX, &max);
		if (major != GSS_S_COMPLETE)
			return gss_status(major, minor, &h->fail);
		if (max == 0) {
			snprintf(h->fail.detail, sizeof(h->fail.detail),
				 "gss_wrap_size_limit gave 0");
			return SOCKS5_E_GSS_CONTEXT;
		}
		h->gss_wrap = true;
		h->gss_max = max;
	}
	*agreed = true;
	return SOCKS5_OK;
}

/*
 * A server message in the GSS receive state: a context token while the
 * context is being established, then the protection level reply. *next is
 * GSS_SEND (a message to send in h->out) or, once the level is agreed,
 * the state after authentication (*next REQUEST_SEND, the caller decides).
 */
enum socks5_status socks5_hs_gss_input(struct socks5_hs *h, const uint8_t *tok,
				       size_t tlen, bool *agreed)
{
	OM_uint32 major, minor;
	gss_buffer_desc in = { tlen, (void *)tok }, out = { 0, NULL };
	enum socks5_status st;
	uint8_t level;

	*agreed = false;
	if (!h->gss_established) {
		st = gss_step(h, tok, tlen);
		if (st != SOCKS5_OK)
			return st;
		if (h->out_len) /* a token to send (may complete the context) */
			return SOCKS5_OK;
		if (!h->gss_established)
			return SOCKS5_E_GSS_CONTEXT;
		return gss_encode_level(h);
	}
	major = gss.unwrap(&minor, h->gss_ctx, &in, &out, NULL, NULL);
	if (major != GSS_S_COMPLETE)
		return gss_status(major, minor, &h->fail);
	if (out.length != 1) {
		gss.release_buffer(&minor, &out);
		return SOCKS5_E_GSS_LEVEL;
	}
	level = *(uint8_t *)out.value;
	gss.release_buffer(&minor, &out);
	return gss_agree(h, level, agreed);
}

/* After the context is no longer needed (level clear: nothing is wrapped
 * afterwards; a protected level: once the machine is over and the caller
 * took the context or not), or on failure. */
void socks5_hs_gss_end(struct socks5_hs *h)
{
	OM_uint32 minor;

	if (h->gss_ctx && gss.ok)
		gss.delete_sec_context(&minor, &h->gss_ctx, NULL);
	if (h->gss_name && gss.ok)
		gss.release_name(&minor, &h->gss_name);
	h->gss_ctx = NULL;
	h->gss_name = NULL;
	if (h->gss_buf)
		explicit_bzero(h->gss_buf, 2 * SOCKS5_GSS_FRAME_MAX);
	free(h->gss_buf);
	h->gss_buf = NULL;
	h->gss_rx_len = 0;
	h->gss_wrap = false;
}

/* gss_wrap of in[0..n) (conf_req: confidentiality) framed as mtyp 3. */
static enum socks5_status seal_ctx(void *ctx, bool conf_req, const void *in,
				   size_t n, uint8_t *frame, size_t cap,
				   size_t *len, char *why, size_t whycap)
{
	OM_uint32 major, minor;
	gss_buffer_desc ib = { n, (void *)in }, ob = { 0, NULL };
	enum socks5_status st;
	struct socks5_failure f;
	int conf = 0;

	major = gss.wrap(&minor, ctx, conf_req, 0, &ib, &conf, &ob);
	if (major != GSS_S_COMPLETE) {
		st = gss_status(major, minor, &f);
		snprintf(why, whycap, "gss_wrap: %s", f.detail);
		return st == SOCKS5_E_GSS_NO_CREDS ? st : SOCKS5_E_GSS_CONTEXT;
	}
	st = socks5_gss_encode(frame, cap, SOCKS5_GSS_MTYP_DATA, ob.value,
			       ob.length, len);
	if (st != SOCKS5_OK)
		snprintf(why, whycap, "wrapped %zu bytes into %zu, over 65535",
			 n, (size_t)ob.length);
	gss.release_buffer(&minor, &ob);
	return st == SOCKS5_OK ? st : SOCKS5_E_GSS_CONTEXT;
}

/* gss_unwrap of a token into out; a level of confidentiality refuses a
 * message that was not sealed. */
static enum socks5_status open_ctx(void *ctx, bool conf_req,
				   const uint8_t *tok, size_t tlen,
				   uint8_t *out, size_t cap, size_t *n,
				   char *why, size_t whycap)
{
	OM_uint32 major, minor;
	gss_buffer_desc ib = { tlen, (void *)tok }, ob = { 0, NULL };
	struct socks5_failure f;
	int conf = 0;

	major = gss.unwrap(&minor, ctx, &ib, &ob, &conf, NULL);
	if (major != GSS_S_COMPLETE) {
		gss_status(major, minor, &f);
		snprintf(why, whycap, "gss_unwrap: %s", f.detail[0] ? f.detail :
			 "the message does not verify");
		return SOCKS5_E_GSS_CONTEXT;
	}
	if (ob.length > cap || (conf_req && !conf)) {
		snprintf(why, whycap, ob.length > cap ?
			 "unwrapped %zu bytes, room for %zu" :
			 "message without confidentiality (%zu bytes, %zu)",
			 (size_t)ob.length, cap);
		gss.release_buffer(&minor, &ob);
		return SOCKS5_E_GSS_CONTEXT;
	}
	if (ob.length)
		memcpy(out, ob.value, ob.length);
	*n = ob.length;
	gss.release_buffer(&minor, &ob);
	return SOCKS5_OK;
}

enum socks5_status socks5_hs_gss_recv(struct socks5_hs *h, size_t *n,
				      bool *agreed)
{
	enum socks5_status st;
	size_t tlen = 0;

	*agreed = false;
	st = socks5_gss_parse(h->gss_buf, h->gss_rx_len, h->gss_established ?
			      SOCKS5_GSS_MTYP_PROT : SOCKS5_GSS_MTYP_AUTH,
			      &tlen, n);
	if (st != SOCKS5_OK)
		return st;
	/* Reads never pass the message's end: it is all of gss_buf. */
	h->gss_rx_len = 0;
	*n = 0;
	return socks5_hs_gss_input(h, h->gss_buf + SOCKS5_GSS_HEADER_LEN, tlen,
				   agreed);
}

/* Wrapped request: the plaintext h->out[0..out_len) becomes one mtyp 3
 * message in the send half of gss_buf. */
enum socks5_status socks5_hs_gss_wrap_out(struct socks5_hs *h)
{
	enum socks5_status st;
	size_t n = 0;

	st = seal_ctx(h->gss_ctx, h->gss_level ==
		      SOCKS5_GSS_LEVEL_CONFIDENTIALITY, h->out, h->out_len,
		      gss_tx(h), SOCKS5_GSS_FRAME_MAX, &n, h->fail.detail,
		      sizeof(h->fail.detail));
	explicit_bzero(h->out, h->out_len);
	h->out_len = n;
	h->out_off = 0;
	return st;
}

/* Wrapped reply: a reply in h->in, or the next message read whole into
 * gss_buf and its plaintext appended to h->in, as often as it takes. */
enum socks5_status socks5_hs_gss_reply(struct socks5_hs *h, size_t *n)
{
	enum socks5_status st;
	size_t tlen = 0, got = 0;

	for (;;) {
		if (h->in_len) {
			st = socks5_parse_reply(h->in, h->in_len, &h->reply, n);
			if (st != SOCKS5_NEED_MORE)
				return st;
		}
		st = socks5_gss_parse(h->gss_buf, h->gss_rx_len,
				      SOCKS5_GSS_MTYP_DATA, &tlen, n);
		if (st != SOCKS5_OK)
			return st;
		h->gss_rx_len = 0;
		st = open_ctx(h->gss_ctx, h->gss_level ==
			      SOCKS5_GSS_LEVEL_CONFIDENTIALITY,
			      h->gss_buf + SOCKS5_GSS_HEADER_LEN, tlen,
			      h->in + h->in_len, sizeof(h->in) - h->in_len,
			      &got, h->fail.detail, sizeof(h->fail.detail));
		if (st != SOCKS5_OK)
			return st;
		h->in_len += got;
	}
}

/* RFC 1961 section 4: a server that refuses the level we asked for
 * (clear: Dante's level 0) closes the connection (Dante does). */
enum socks5_status socks5_hs_gss_closed(struct socks5_hs *h,
					enum socks5_status st)
{
	if (st != SOCKS5_E_CLOSED || !h->gss_established)
		return st;
	snprintf(h->fail.detail, sizeof(h->fail.detail),
		 "asked for %s, proxy closed",
		 socks5_gss_level_name(gss_asked(h)));
	return SOCKS5_E_GSS_LEVEL;
}

/* The handed-over context, with its level and limit. */
struct socks5_gss_sec {
	void *ctx;
	uint8_t level;
	size_t max;
};

struct socks5_gss_sec *socks5_hs_gss_take(struct socks5_hs *h)
{
	struct socks5_gss_sec *s;

	if (h->state != SOCKS5_HS_DONE || !h->gss_wrap || !h->gss_ctx)
		return NULL;
	s = malloc(sizeof(*s));
	if (!s)
		return NULL;
	s->ctx = h->gss_ctx;
	s->level = h->gss_level;
	s->max = h->gss_max;
	h->gss_ctx = NULL;
	socks5_hs_gss_end(h);
	return s;
}

uint8_t socks5_gss_sec_level(const struct socks5_gss_sec *s)
{
	return s->level;
}

size_t socks5_gss_sec_max(const struct socks5_gss_sec *s)
{
	return s->max;
}

enum socks5_status socks5_gss_seal(struct socks5_gss_sec *s, const void *in,
				   size_t n, uint8_t *frame, size_t cap,
				   size_t *len, char *why, size_t whycap)
{
	return seal_ctx(s->ctx, s->level == SOCKS5_GSS_LEVEL_CONFIDENTIALITY,
			in, n, frame, cap, len, why, whycap);
}

enum socks5_status socks5_gss_open(struct socks5_gss_sec *s,
				   const uint8_t *tok, size_t tlen,
				   uint8_t *out, size_t cap, size_t *n,
				   char *why, size_t whycap)
{
	return open_ctx(s->ctx, s->level == SOCKS5_GSS_LEVEL_CONFIDENTIALITY,
			tok, tlen, out, cap, n, why, whycap);
}

void socks5_gss_sec_free(struct socks5_gss_sec *s)
{
	OM_uint32 minor;

	if (!s)
		return;
	if (s->ctx && gss.ok)
		gss.delete_sec_context(&minor, &s->ctx, NULL);
	free(s);
}
