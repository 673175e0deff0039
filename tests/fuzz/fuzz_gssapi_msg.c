/*
 * socks5_gss_parse (RFC 1961 framing) and socks5_gss_encode round trip.
 * Input: byte 0 picks the expected message type (1..3), the rest is what
 * the server sent.
 */
#include <string.h>

#include "socks5_gssapi.h"
#include "fuzz_check.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static uint8_t buf[SOCKS5_GSS_HEADER_LEN + SOCKS5_GSS_TOKEN_MAX];
	const uint8_t *msg;
	uint8_t mtyp;
	size_t avail, tlen = 0, len = 0, elen = 0;
	enum socks5_status st;

	if (size < 1)
		return 0;
	mtyp = (uint8_t)(1 + data[0] % 3);
	msg = data + 1;
	avail = size - 1;

	st = socks5_gss_parse(msg, avail, mtyp, &tlen, &len);
	switch (st) {
	case SOCKS5_OK:
		CHECK(len == SOCKS5_GSS_HEADER_LEN + tlen && len <= avail);
		CHECK(msg[0] == 1 && msg[1] == mtyp);
		CHECK(tlen == ((size_t)msg[2] << 8 | msg[3]));
		/* The same token encodes back to the same bytes. */
		CHECK(socks5_gss_encode(buf, sizeof(buf), mtyp,
					msg + SOCKS5_GSS_HEADER_LEN, tlen,
					&elen) == SOCKS5_OK);
		CHECK(elen == len && memcmp(buf, msg, len) == 0);
		break;
	case SOCKS5_NEED_MORE:
		CHECK(len >= 1);
		/* never past the message's end */
		if (avail >= SOCKS5_GSS_HEADER_LEN)
			CHECK(avail + len == SOCKS5_GSS_HEADER_LEN +
			      ((size_t)msg[2] << 8 | msg[3]));
		else
			CHECK(avail + len <= SOCKS5_GSS_HEADER_LEN);
		break;
	case SOCKS5_E_GSS_VERSION:
		CHECK(avail >= 1 && msg[0] != 1);
		break;
	case SOCKS5_E_GSS_ABORTED:
		CHECK(avail >= 2 && msg[0] == 1 && msg[1] == 0xFF);
		break;
	case SOCKS5_E_GSS_MTYP:
		CHECK(avail >= 2 && msg[1] != mtyp && msg[1] != 0xFF);
		break;
	default:
		CHECK(!"unexpected status");
	}
	return 0;
}
