/* Socket addresses from text for the unit tests (addr_fixture.h). */
#include <arpa/inet.h>
#include <check.h>
#include <string.h>

#include "addr_fixture.h"

static struct sockaddr_storage ss;

const struct sockaddr *afx_addr(const char *ip, int port)
{
	struct sockaddr_in *in = (struct sockaddr_in *)&ss;
	struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)&ss;

	memset(&ss, 0, sizeof(ss));
	if (inet_pton(AF_INET, ip, &in->sin_addr) == 1) {
		in->sin_family = AF_INET;
		in->sin_port = htons((uint16_t)port);
	} else {
		ck_assert_int_eq(inet_pton(AF_INET6, ip, &in6->sin6_addr), 1);
		in6->sin6_family = AF_INET6;
		in6->sin6_port = htons((uint16_t)port);
	}
	return (const struct sockaddr *)&ss;
}

socklen_t afx_len(const char *ip)
{
	return strchr(ip, ':') ? sizeof(struct sockaddr_in6) :
				 sizeof(struct sockaddr_in);
}
