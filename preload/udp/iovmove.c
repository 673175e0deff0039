/*
 * Bytes spread over iovecs, addressed by one logical offset (iovmove.h).
 */
#include <string.h>

#include "udp/iovmove.h"

/* Segment and offset of logical byte off (off < total). */
static int seg_at(const struct iovec *iov, int n, size_t off, size_t *in_seg)
{
	int i;

	for (i = 0; i < n; i++) {
		if (off < iov[i].iov_len) {
			*in_seg = off;
			return i;
		}
		off -= iov[i].iov_len;
	}
	return -1;
}

/* memmove(dst, src, len) over the logical buffer, in chunks that are
 * contiguous on both sides, in the direction that never overwrites a
 * source byte before it is read. */
void sfy_iov_move(const struct iovec *iov, int n, size_t dst, size_t src,
		  size_t len)
{
	size_t dso, sso, c;
	int ds, ss;

	if (dst == src)
		return;
	if (dst < src) {
		while (len) {
			ds = seg_at(iov, n, dst, &dso);
			ss = seg_at(iov, n, src, &sso);
			if (ds < 0 || ss < 0)
				return;
			c = len;
			if (c > iov[ds].iov_len - dso)
				c = iov[ds].iov_len - dso;
			if (c > iov[ss].iov_len - sso)
				c = iov[ss].iov_len - sso;
			memmove((char *)iov[ds].iov_base + dso,
				(char *)iov[ss].iov_base + sso, c);
			dst += c;
			src += c;
			len -= c;
		}
		return;
	}
	while (len) { /* backwards, from the last byte */
		ds = seg_at(iov, n, dst + len - 1, &dso);
		ss = seg_at(iov, n, src + len - 1, &sso);
		if (ds < 0 || ss < 0)
			return;
		c = len;
		if (c > dso + 1)
			c = dso + 1;
		if (c > sso + 1)
			c = sso + 1;
		memmove((char *)iov[ds].iov_base + dso + 1 - c,
			(char *)iov[ss].iov_base + sso + 1 - c, c);
		len -= c;
	}
}
