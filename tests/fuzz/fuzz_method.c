/*
 * socks5_parse_method (and socks5_encode_greeting for the offer).
 * Input: byte 0 picks how many of the next bytes are the offered methods
 * (0..7), the rest is what the server sent.
 */
#include <string.h>

#include "fuzz_check.h"
#include "socks5.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const uint8_t *offered, *msg;
	uint8_t buf[16], m = 0;
	size_t n_off, avail, len = 0, glen = 0;
	enum socks5_status st;

	if (size < 1)
		return 0;
	n_off = data[0] % 8;
	if (size < 1 + n_off)
		return 0;
	offered = data + 1;
	msg = offered + n_off;
	avail = size - 1 - n_off;

	st = socks5_encode_greeting(buf, sizeof(buf), offered, n_off, &glen);
	if (n_off == 0) {
		CHECK(st == SOCKS5_E_NO_METHODS);
	} else {
		CHECK(st == SOCKS5_OK && glen == 2 + n_off);
		CHECK(buf[0] == 5 && buf[1] == n_off);
		CHECK(memcmp(buf + 2, offered, n_off) == 0);
		CHECK(socks5_encode_greeting(buf, glen - 1, offered, n_off,
					     &glen) == SOCKS5_E_BUFFER);
	}

	st = socks5_parse_method(msg, avail, offered, n_off, &m, &len);
	switch (st) {
	case SOCKS5_OK:
		CHECK(len == 2 && avail >= 2 && msg[0] == 5 && m == msg[1]);
		CHECK(m != 0xFF && memchr(offered, m, n_off));
		break;
	case SOCKS5_NEED_MORE:
		CHECK(avail < 2 && avail + len == 2);
		CHECK(avail == 0 || msg[0] == 5);
		break;
	case SOCKS5_E_VERSION:
		CHECK(avail >= 1 && msg[0] != 5);
		break;
	case SOCKS5_E_NO_ACCEPTABLE:
		CHECK(avail >= 2 && msg[0] == 5 && msg[1] == 0xFF);
		break;
	case SOCKS5_E_METHOD_NOT_OFFERED:
		CHECK(avail >= 2 && msg[0] == 5 && m == msg[1]);
		CHECK(!memchr(offered, m, n_off));
		break;
	default:
		CHECK(!"unexpected status");
	}
	return 0;
}
