/*
 * struct socks5_addr helpers: conversion from and to sockaddrs, wire length,
 * and a printable form for log lines. No allocation, no globals.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>

#include "socks5.h"

enum socks5_status socks5_addr_from_sockaddr(struct socks5_addr *out,
					     const struct sockaddr *sa,
					     socklen_t salen)
{
	if (!out || !sa)
		return SOCKS5_E_ARG;
	if (sa->sa_family == AF_INET) {
		const struct sockaddr_in *in = (const struct sockaddr_in *)sa;

		if (salen < (socklen_t)sizeof(*in))
			return SOCKS5_E_ARG;
		memset(out, 0, sizeof(*out));
		out->atyp = SOCKS5_ATYP_IPV4;
		memcpy(out->u.ipv4, &in->sin_addr, 4);
		out->port = ntohs(in->sin_port);
		return SOCKS5_OK;
	}
	if (sa->sa_family == AF_INET6) {
		const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)sa;

		if (salen < (socklen_t)sizeof(*in6))
			return SOCKS5_E_ARG;
		memset(out, 0, sizeof(*out));
		out->atyp = SOCKS5_ATYP_IPV6;
		memcpy(out->u.ipv6, &in6->sin6_addr, 16);
		out->port = ntohs(in6->sin6_port);
		return SOCKS5_OK;
	}
	return SOCKS5_E_ARG;
}

/*
 * A NUL inside the name is refused: the struct keeps the name as a C string
 * too, and a name that reads differently as a string and as bytes would
 * make logs and policy checks disagree with what goes on the wire.
 */
enum socks5_status socks5_addr_from_domain(struct socks5_addr *out,
					   const char *name, size_t len,
					   uint16_t port)
{
	if (!out || !name)
		return SOCKS5_E_ARG;
	if (len < 1 || len > SOCKS5_DOMAIN_MAX)
		return SOCKS5_E_DOMAIN_LENGTH;
	if (memchr(name, '\0', len))
		return SOCKS5_E_ARG;
	memset(out, 0, sizeof(*out));
	out->atyp = SOCKS5_ATYP_DOMAIN;
	out->len = (uint8_t)len;
	memcpy(out->u.domain, name, len);
	out->u.domain[len] = '\0';
	out->port = port;
	return SOCKS5_OK;
}

enum socks5_status socks5_addr_to_sockaddr(const struct socks5_addr *a,
					   struct sockaddr_storage *ss,
					   socklen_t *salen)
{
	if (!a || !ss || !salen)
		return SOCKS5_E_ARG;
	if (a->atyp == SOCKS5_ATYP_IPV4) {
		struct sockaddr_in *in = (struct sockaddr_in *)ss;

		memset(ss, 0, sizeof(*ss));
		in->sin_family = AF_INET;
		in->sin_port = htons(a->port);
		memcpy(&in->sin_addr, a->u.ipv4, 4);
		*salen = sizeof(*in);
		return SOCKS5_OK;
	}
	if (a->atyp == SOCKS5_ATYP_IPV6) {
		struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)ss;

		memset(ss, 0, sizeof(*ss));
		in6->sin6_family = AF_INET6;
		in6->sin6_port = htons(a->port);
		memcpy(&in6->sin6_addr, a->u.ipv6, 16);
		*salen = sizeof(*in6);
		return SOCKS5_OK;
	}
	return SOCKS5_E_ARG;
}

/* ATYP + ADDR + PORT; 0 for an address that cannot go on the wire. */
size_t socks5_addr_wire_len(const struct socks5_addr *a)
{
	if (!a)
		return 0;
	switch (a->atyp) {
	case SOCKS5_ATYP_IPV4:
		return 1 + 4 + 2;
	case SOCKS5_ATYP_IPV6:
		return 1 + 16 + 2;
	case SOCKS5_ATYP_DOMAIN:
		return a->len ? 1 + 1 + (size_t)a->len + 2 : 0;
	default:
		return 0;
	}
}

/*
 * A domain comes from the proxy (BND.ADDR) as often as from the program, so
 * bytes that could forge or break a log line (control characters, quotes,
 * non-ASCII) are shown as '?'.
 */
static void printable_domain(const struct socks5_addr *a, char *out)
{
	size_t i;

	for (i = 0; i < a->len; i++) {
		unsigned char c = (unsigned char)a->u.domain[i];

		out[i] = (c > 0x20 && c < 0x7f && c != '"') ? (char)c : '?';
	}
	out[a->len] = '\0';
}

void socks5_addr_format(const struct socks5_addr *a, char *buf, size_t cap)
{
	char host[SOCKS5_DOMAIN_MAX + 1];

	if (!buf || cap == 0)
		return;
	if (!a) {
		snprintf(buf, cap, "(null)");
		return;
	}
	switch (a->atyp) {
	case SOCKS5_ATYP_IPV4:
		inet_ntop(AF_INET, a->u.ipv4, host, sizeof(host));
		snprintf(buf, cap, "%s:%u", host, a->port);
		break;
	case SOCKS5_ATYP_IPV6:
		inet_ntop(AF_INET6, a->u.ipv6, host, sizeof(host));
		snprintf(buf, cap, "[%s]:%u", host, a->port);
		break;
	case SOCKS5_ATYP_DOMAIN:
		printable_domain(a, host);
		snprintf(buf, cap, "%s:%u", host, a->port);
		break;
	default:
		snprintf(buf, cap, "(address type 0x%02x)", a->atyp);
		break;
	}
}

enum socks5_status socks5_proxy_addr(const struct socks5_proxy *p,
				     struct socks5_addr *a)
{
	if (!p || !a)
		return SOCKS5_E_ARG;
	memset(a, 0, sizeof(*a));
	a->port = p->port;
	if (inet_pton(AF_INET, p->host, a->u.ipv4) == 1) {
		a->atyp = SOCKS5_ATYP_IPV4;
		return SOCKS5_OK;
	}
	if (inet_pton(AF_INET6, p->host, a->u.ipv6) == 1) {
		a->atyp = SOCKS5_ATYP_IPV6;
		return SOCKS5_OK;
	}
	return socks5_addr_from_domain(a, p->host, strlen(p->host), p->port);
}
