/*
 * The query of a proxy URL, for the options a hop may carry:
 *
 *   socks5h://proxy:1080?auth=gssapi[&service=NAME]
 *
 * auth=gssapi: authenticate with GSSAPI (RFC 1961, Kerberos ticket from
 * the user's cache, as `kinit` leaves it) and offer nothing else.
 * service=NAME: the proxy's service name (default "rcmd", Dante's), the
 * principal being NAME/HOST@REALM of the URL's host. Only SOCKS5 hops,
 * and not with a user and password. Anything else is refused with a
 * message naming it.
 */
#include <string.h>

#include "hs.h"

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
		} else {
			*why = "unknown option in the query: a proxy URL takes ?auth=gssapi and &service=NAME";
			return SOCKS5_E_URL_GARBAGE;
		}
		i = end + 1;
	}
	if (p->gss_service[0] && !p->gssapi) {
		*why = "service= needs auth=gssapi";
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
