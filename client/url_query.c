/*
 * The query of a proxy URL, for the options a hop may carry:
 *
 *   socks5h://proxy:1080?auth=gssapi[&service=NAME][&level=LEVEL]
 *
 * auth=gssapi: authenticate with GSSAPI (RFC 1961, Kerberos ticket from
 * the user's cache, as `kinit` leaves it) and offer nothing else.
 * service=NAME: the proxy's service name (default "rcmd", Dante's), the
 * principal being NAME/HOST@REALM of the URL's host. Only SOCKS5 hops,
 * and not with a user and password.
 * level=clear|integrity|confidentiality: the protection level asked of
 * the proxy (RFC 1961 section 4; "clear" is Dante's level 0, no
 * protection after authentication); default confidentiality, as Dante's
 * own client offers. A server such as Dante's answers with the level
 * asked or closes, so this must be one its gssapi.enctype allows. Anything else is refused with a
 * message naming it.
 */
#include <string.h>

#include "hs.h"
#include "socks5_gssapi.h"

static const char *const level_names[] = {
	[SOCKS5_GSS_LEVEL_CLEAR] = "clear",
	[SOCKS5_GSS_LEVEL_INTEGRITY] = "integrity",
	[SOCKS5_GSS_LEVEL_CONFIDENTIALITY] = "confidentiality",
};

/* level=NAME (s, k: the name): true with p's level set. */
static bool level_of(const char *s, size_t k, struct socks5_proxy *p)
{
	for (uint8_t l = 0; l < sizeof(level_names) / sizeof(level_names[0]);
	     l++)
		if (strlen(level_names[l]) == k && memcmp(level_names[l], s, k) == 0) {
			p->gss_level = l;
			p->gss_level_set = true;
			return true;
		}
	return false;
}

static bool service_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	       (c >= '0' && c <= '9') || c == '-' || c == '_' || c == '.';
}

enum socks5_status socks5_url_query(const char *s, size_t n,
				    struct socks5_proxy *p, const char **why)
{
	size_t i = 0, end, k;

	while (i < n) {
		for (end = i; end < n && s[end] != '&'; end++)
			;
		if (end - i == 11 && memcmp(s + i, "auth=gssapi", 11) == 0) {
			p->gssapi = true;
		} else if (end - i > 8 && memcmp(s + i, "service=", 8) == 0) {
			k = end - i - 8;
			if (k > SOCKS5_GSS_SERVICE_MAX) {
				*why = "service= is longer than 63 bytes";
				return SOCKS5_E_URL_GARBAGE;
			}
			for (size_t j = 0; j < k; j++)
				if (!service_char(s[i + 8 + j])) {
					*why = "service= takes letters, digits, '-', '_' and '.' only";
					return SOCKS5_E_URL_GARBAGE;
				}
			memcpy(p->gss_service, s + i + 8, k);
			p->gss_service[k] = '\0';
		} else if (end - i >= 6 && memcmp(s + i, "level=", 6) == 0) {
			if (!level_of(s + i + 6, end - i - 6, p)) {
				*why = "level= takes clear, integrity or confidentiality";
				return SOCKS5_E_URL_GARBAGE;
			}
		} else {
			*why = "unknown option in the query: a proxy URL takes ?auth=gssapi, &service=NAME and &level=LEVEL";
			return SOCKS5_E_URL_GARBAGE;
		}
		i = end + 1;
	}
	if ((p->gss_service[0] || p->gss_level_set) && !p->gssapi) {
		*why = "service= and level= need auth=gssapi";
		return SOCKS5_E_URL_GARBAGE;
	}
	if (p->gssapi && p->type != SOCKS5_HOP_SOCKS5) {
		*why = "auth=gssapi is for socks5:// and socks5h:// hops only";
		return SOCKS5_E_URL_GARBAGE;
	}
	if (p->gssapi && p->has_auth) {
		*why = "auth=gssapi takes no user or password (the ticket comes from kinit)";
		return SOCKS5_E_URL_GARBAGE;
	}
	return SOCKS5_OK;
}
