/*
 * socks5_http_reply_feed on arbitrary bytes. Invariants: a reader that
 * reads at most what the parser allows (in chunks of any size, taken from
 * the first input byte) never takes a byte past the empty line that ends
 * the block; every chunking ends on the same outcome at the same byte as
 * one feed of everything; OK means the block is well formed (ends in
 * CRLFCRLF, a 1xx..5xx status), and it never exceeds the size bound;
 * NEED_MORE always asks for 1..16 bytes.
 */
#include <string.h>

#include "fuzz_check.h"
#include "socks5.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Feeds data in steps of at most min(want, chunk). */
static enum socks5_status chunked(const uint8_t *data, size_t size,
				  size_t chunk, struct socks5_http_reply *r,
				  size_t *taken)
{
	enum socks5_status st;
	size_t off = 0, used = 0, want = 0, n;

	socks5_http_reply_init(r);
	st = socks5_http_reply_feed(r, data, 0, &used, &want);
	CHECK(st == SOCKS5_NEED_MORE && used == 0 && want == 16);
	while (st == SOCKS5_NEED_MORE && off < size) {
		CHECK(want >= 1 && want <= 16);
		n = want < chunk ? want : chunk;
		if (n > size - off)
			n = size - off;
		st = socks5_http_reply_feed(r, data + off, n, &used, &want);
		CHECK(used <= n);
		CHECK(st != SOCKS5_NEED_MORE || used == n);
		off += used;
	}
	*taken = off;
	return st;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct socks5_http_reply whole, r;
	enum socks5_status st, sk;
	size_t used = 0, want = 0, taken, chunk;

	if (size > SOCKS5_HTTP_HEADER_MAX + 64)
		return 0;
	socks5_http_reply_init(&whole);
	st = socks5_http_reply_feed(&whole, data, size, &used, &want);
	if (st == SOCKS5_OK) {
		CHECK(used >= 16 && used <= size);
		CHECK(used <= SOCKS5_HTTP_HEADER_MAX);
		CHECK(memcmp(data + used - 4, "\r\n\r\n", 4) == 0);
		CHECK(memcmp(data, "HTTP/1.", 7) == 0);
		CHECK(whole.status >= 100 && whole.status <= 599);
		CHECK(memchr(data, '\0', used) == NULL);
	} else if (st == SOCKS5_NEED_MORE) {
		CHECK(used == size && want >= 1 && want <= 16);
	} else {
		CHECK(st == SOCKS5_E_HTTP_STATUS_LINE ||
		      st == SOCKS5_E_HTTP_HEADER ||
		      st == SOCKS5_E_HTTP_TOO_BIG);
	}
	chunk = size ? (size_t)data[0] % 17 + 1 : 1;
	sk = chunked(data, size, chunk, &r, &taken);
	CHECK(sk == st || (st == SOCKS5_NEED_MORE && sk == SOCKS5_E_HTTP_TOO_BIG));
	if (st == SOCKS5_OK) {
		CHECK(taken == used); /* never past the block's end */
		CHECK(r.status == whole.status);
		CHECK(strcmp(r.reason, whole.reason) == 0);
		CHECK(strcmp(r.auth, whole.auth) == 0);
	}
	return 0;
}
