/*
 * socks5_parse_reply on arbitrary bytes. Invariants: OK never claims more
 * than was given and re-encodes to the same bytes; NEED_MORE never asks
 * past the largest reply; every shorter prefix agrees with the whole (any
 * split gives the same result) and a driver reading exactly the asked-for
 * counts never reads past the end of the reply.
 */
#include <string.h>

#include "fuzz_check.h"
#include "socks5.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_ok(const uint8_t *data, size_t size,
		     const struct socks5_reply *r, size_t len)
{
	uint8_t buf[SOCKS5_REQUEST_MAX];
	size_t n = 0;

	CHECK(len <= size);
	CHECK(len == 3 + socks5_addr_wire_len(&r->bnd));
	if (r->bnd.atyp == SOCKS5_ATYP_DOMAIN)
		CHECK(r->bnd.len > 0 && r->bnd.u.domain[r->bnd.len] == '\0');
	/* A reply has the request's layout: encode it back, patch REP. */
	CHECK(socks5_encode_request(buf, sizeof(buf), SOCKS5_CMD_CONNECT,
				    &r->bnd, &n) == SOCKS5_OK);
	CHECK(n == len);
	buf[1] = r->rep;
	CHECK(memcmp(buf, data, len) == 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct socks5_reply r, rk;
	enum socks5_status st, sk;
	size_t len = 0, lk, k, end;

	st = socks5_parse_reply(data, size, &r, &len);
	switch (st) {
	case SOCKS5_OK:
		check_ok(data, size, &r, len);
		end = len;
		break;
	case SOCKS5_NEED_MORE:
		CHECK(len >= 1 && size + len <= SOCKS5_REQUEST_MAX);
		end = size;
		break;
	case SOCKS5_E_VERSION:
	case SOCKS5_E_RESERVED:
	case SOCKS5_E_ATYP:
	case SOCKS5_E_DOMAIN_EMPTY:
		end = size;
		break;
	default:
		CHECK(!"unexpected status");
		return 0;
	}

	for (k = 0; k < end; k++) {
		sk = socks5_parse_reply(data, k, &rk, &lk);
		if (sk == SOCKS5_NEED_MORE) {
			CHECK(lk >= 1);
			if (st == SOCKS5_OK)
				CHECK(k + lk <= len);
		} else {
			CHECK(st != SOCKS5_OK && sk == st);
		}
	}
	/* A driver that reads at most what is asked for each time (recv may
	 * return less): it ends on the same result, never past the reply. */
	for (k = 0; (sk = socks5_parse_reply(data, k, &rk, &lk)) ==
		    SOCKS5_NEED_MORE && k < size;)
		k += lk < size - k ? lk : size - k;
	CHECK(sk == st);
	if (st == SOCKS5_OK)
		CHECK(lk == len && k == len);
	return 0;
}
