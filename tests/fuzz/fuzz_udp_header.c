/*
 * socks5_parse_udp_header on arbitrary datagrams. Invariants: never
 * NEED_MORE (a datagram is whole); OK leaves the payload in place at
 * dgram + len and re-encodes to the same header bytes; any shorter
 * datagram with a valid header prefix is TRUNCATED; the length
 * socks5_udp_header_len announces from the first bytes is the parsed one,
 * and is 0 only when ATYP is unknown or the bytes are too few.
 */
#include <string.h>

#include "fuzz_check.h"
#include "socks5.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t buf[SOCKS5_UDP_HEADER_MAX];
	struct socks5_addr src, s2;
	size_t len = 0, n = 0, k, l2;
	enum socks5_status st;

	st = socks5_parse_udp_header(data, size, &src, &len);
	switch (st) {
	case SOCKS5_OK:
		CHECK(len <= size && len <= SOCKS5_UDP_HEADER_MAX);
		CHECK(len == 3 + socks5_addr_wire_len(&src));
		CHECK(socks5_udp_header_len(data, size) == len);
		CHECK(socks5_encode_udp_header(buf, sizeof(buf), &src, &n) ==
		      SOCKS5_OK);
		CHECK(n == len && memcmp(buf, data, len) == 0);
		CHECK(socks5_encode_udp_header(buf, len - 1, &src, &n) ==
		      SOCKS5_E_BUFFER);
		for (k = 0; k < len; k++)
			CHECK(socks5_parse_udp_header(data, k, &s2, &l2) ==
			      SOCKS5_E_TRUNCATED);
		break;
	case SOCKS5_E_RESERVED:
		CHECK(size >= 2 && (data[0] || data[1]));
		break;
	case SOCKS5_E_FRAGMENTED:
		CHECK(size >= 3 && data[2] != 0);
		break;
	case SOCKS5_E_ATYP:
		CHECK(socks5_udp_header_len(data, size) == 0);
		break;
	case SOCKS5_E_DOMAIN_EMPTY:
	case SOCKS5_E_TRUNCATED:
		break;
	default:
		CHECK(!"unexpected status");
	}
	return 0;
}
