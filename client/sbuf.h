/*
 * A bounded, always-terminated string builder for libsocks5's messages
 * (url.c): text appended past the end is cut, never overflows. Internal:
 * static functions, nothing exported.
 */
#ifndef SOCKSIFY_CLIENT_SBUF_H
#define SOCKSIFY_CLIENT_SBUF_H

#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>

struct sbuf {
	char *p;
	size_t cap, n;
};

static inline void sb_init(struct sbuf *b, char *p, size_t cap)
{
	b->p = cap ? p : NULL;
	b->cap = b->p ? cap : 0;
	b->n = 0;
	if (b->cap)
		b->p[0] = '\0';
}

static inline void sb_putc(struct sbuf *b, char c)
{
	if (b->n + 1 < b->cap) {
		b->p[b->n++] = c;
		b->p[b->n] = '\0';
	}
}

/* Quoted text from the user: anything that could break the line is '?'. */
static inline void sb_put_text(struct sbuf *b, const char *s, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];

		sb_putc(b, (c >= 0x20 && c < 0x7f && c != '"') ? (char)c : '?');
	}
}

static inline void sb_printf(struct sbuf *b, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static inline void sb_printf(struct sbuf *b, const char *fmt, ...)
{
	va_list ap;
	int r;

	if (b->n + 1 >= b->cap)
		return;
	va_start(ap, fmt);
	r = vsnprintf(b->p + b->n, b->cap - b->n, fmt, ap);
	va_end(ap);
	if (r > 0)
		b->n += (size_t)r < b->cap - b->n ? (size_t)r : b->cap - b->n - 1;
}

#endif
