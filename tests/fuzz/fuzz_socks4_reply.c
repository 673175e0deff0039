/*
 * socks5_parse_socks4_reply on arbitrary bytes. Invariants: OK takes
 * exactly 8 bytes and reflects them; NEED_MORE never asks past the 8;
 * every prefix agrees with the whole; the CD mapping is total.
 */
#include <string.h>

#include "fuzz_check.h"
#include "socks5.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct socks5_reply r, rk;
	enum socks5_status st, sk;
	size_t len = 0, lk, k;

	st = socks5_parse_socks4_reply(data, size, &r, &len);
	if (st == SOCKS5_OK) {
		CHECK(len == SOCKS4_REPLY_LEN && size >= len && data[0] == 0);
		CHECK(r.rep == data[1] && r.bnd.atyp == SOCKS5_ATYP_IPV4);
		CHECK(r.bnd.port == (data[2] << 8 | data[3]));
		CHECK(memcmp(r.bnd.u.ipv4, data + 4, 4) == 0);
		sk = socks5_socks4_status(r.rep);
		CHECK((sk == SOCKS5_OK) == (r.rep == SOCKS4_GRANTED));
		CHECK(sk == SOCKS5_OK || socks5_status_errno(sk) != 0);
	} else if (st == SOCKS5_NEED_MORE) {
		CHECK(size + len == SOCKS4_REPLY_LEN);
	} else {
		CHECK(st == SOCKS5_E_SOCKS4_VERSION && size && data[0] != 0);
	}
	for (k = 0; k < size && k < SOCKS4_REPLY_LEN; k++) {
		sk = socks5_parse_socks4_reply(data, k, &rk, &lk);
		if (sk == SOCKS5_NEED_MORE)
			CHECK(k + lk == SOCKS4_REPLY_LEN);
		else
			CHECK(sk == st && st != SOCKS5_OK);
	}
	return 0;
}
