/*
 * socks5_parse_auth_reply on arbitrary bytes, and socks5_encode_auth with
 * credentials cut from the same input (byte 0 = user length).
 */
#include <string.h>

#include "fuzz_check.h"
#include "socks5.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_encode(const uint8_t *data, size_t size)
{
	uint8_t buf[SOCKS5_MSG_MAX];
	size_t ulen, plen, len = 0;
	const char *user, *pass;
	enum socks5_status st;

	if (size < 1)
		return;
	ulen = data[0];
	if (size - 1 < ulen)
		return;
	user = (const char *)data + 1;
	pass = user + ulen;
	plen = size - 1 - ulen;
	st = socks5_encode_auth(buf, sizeof(buf), user, ulen, pass, plen, &len);
	if (ulen == 0) {
		CHECK(st == SOCKS5_E_USER_LENGTH);
	} else if (plen == 0 || plen > 255) {
		CHECK(st == SOCKS5_E_PASS_LENGTH);
	} else {
		CHECK(st == SOCKS5_OK && len == 3 + ulen + plen);
		CHECK(buf[0] == 1 && buf[1] == ulen && buf[2 + ulen] == plen);
		CHECK(memcmp(buf + 2, user, ulen) == 0);
		CHECK(memcmp(buf + 3 + ulen, pass, plen) == 0);
		CHECK(socks5_encode_auth(buf, len - 1, user, ulen, pass, plen,
					 &len) == SOCKS5_E_BUFFER);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	size_t len = 0;

	switch (socks5_parse_auth_reply(data, size, &len)) {
	case SOCKS5_OK:
		CHECK(size >= 2 && len == 2 && data[0] == 1 && data[1] == 0);
		break;
	case SOCKS5_NEED_MORE:
		CHECK(size < 2 && size + len == 2);
		CHECK(size == 0 || data[0] == 1);
		break;
	case SOCKS5_E_AUTH_VERSION:
		CHECK(size >= 1 && data[0] != 1);
		break;
	case SOCKS5_E_AUTH_REJECTED:
		CHECK(size >= 2 && data[0] == 1 && data[1] != 0);
		break;
	default:
		CHECK(!"unexpected status");
	}
	check_encode(data, size);
	return 0;
}
