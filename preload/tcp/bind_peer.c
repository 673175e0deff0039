/*
 * What BIND (tcp/bind.c) remembers of the process's proxied connections:
 * the destination of the most recent one (the host a listening socket
 * expects to connect back), and the addresses proxied sockets showed as
 * their own through getsockname() (CONNECT's BND), to which a program may
 * then bind a socket that is to listen at the proxy.
 */
#include <errno.h>
#include <stdatomic.h>
#include <string.h>
#include <time.h>

#include "base/config.h"
#include "base/sockaddr.h"
#include "tcp/bind.h"

/* The most recent proxied destination, under a one-word lock: a writer
 * that finds it taken gives up (another connect is noting a peer just
 * now), a reader spins a bounded while (a signal handler's listen() could
 * have interrupted the writer in its thread). */
static struct socks5_addr last_peer;
static atomic_bool have_peer;
/* The addresses proxied sockets showed as their own (CONNECT's BND), as
 * plain IPv4 or IPv6 with port 0, the latest few. */
#define SHOWN_MAX 4
static struct sockaddr_storage shown_hosts[SHOWN_MAX];
static unsigned int nshown;
static atomic_flag peer_lock = ATOMIC_FLAG_INIT;

/* The lock for a reader, who must not give up lightly: a bounded wait. */
static bool lock_wait(void)
{
	struct timespec pause = { 0, 100000 };

	for (int i = 0; i < 1000; i++) {
		if (!atomic_flag_test_and_set_explicit(&peer_lock,
						       memory_order_acquire))
			return true;
		nanosleep(&pause, NULL);
	}
	return false;
}

static void unlock(void)
{
	atomic_flag_clear_explicit(&peer_lock, memory_order_release);
}

void sfy_bind_peer_fork_child(void)
{
	unlock();
}

void sfy_bind_note_peer(const struct socks5_addr *dst)
{
	if (atomic_flag_test_and_set_explicit(&peer_lock, memory_order_acquire))
		return;
	last_peer = *dst;
	unlock();
	atomic_store_explicit(&have_peer, true, memory_order_release);
}

bool sfy_bind_peer_get(struct socks5_addr *out)
{
	if (!atomic_load_explicit(&have_peer, memory_order_acquire) ||
	    !lock_wait())
		return false;
	*out = last_peer;
	unlock();
	return true;
}

/* ss (plain, port 0) compared by family and address. */
static bool same_host(const struct sockaddr_storage *a,
		      const struct sockaddr_storage *b)
{
	if (a->ss_family != b->ss_family)
		return false;
	if (a->ss_family == AF_INET)
		return ((const struct sockaddr_in *)a)->sin_addr.s_addr ==
		       ((const struct sockaddr_in *)b)->sin_addr.s_addr;
	return !memcmp(&((const struct sockaddr_in6 *)a)->sin6_addr,
		       &((const struct sockaddr_in6 *)b)->sin6_addr, 16);
}

/* sa as a plain address with port 0 (false: not an Internet address). */
static bool host_of(const struct sockaddr *sa, socklen_t len,
		    struct sockaddr_storage *out)
{
	socklen_t l = sfy_addr_copy(sa, len, out);

	if (!l)
		return false;
	sfy_addr_plain(out, &l);
	if (out->ss_family == AF_INET)
		((struct sockaddr_in *)out)->sin_port = 0;
	else
		((struct sockaddr_in6 *)out)->sin6_port = 0;
	return true;
}

socklen_t sfy_bind_connect_shown(const struct socks5_addr *bnd, int family,
				 union sfy_inaddr *out)
{
	static const uint8_t zero[16];
	struct sockaddr_storage ss, host;
	socklen_t len = sizeof(ss), l;
	unsigned int i;

	if ((bnd->atyp == SOCKS5_ATYP_IPV4 && !memcmp(bnd->u.ipv4, zero, 4)) ||
	    (bnd->atyp == SOCKS5_ATYP_IPV6 && !memcmp(bnd->u.ipv6, zero, 16)) ||
	    socks5_addr_to_sockaddr(bnd, &ss, &len) != SOCKS5_OK)
		return 0;
	sfy_addr_plain(&ss, &len);
	l = sfy_addr_in_family((struct sockaddr *)&ss, family, out);
	if (!l || !host_of((struct sockaddr *)&ss, len, &host) ||
	    sfy_addr_is_loopback((struct sockaddr *)&host))
		return l;
	if (atomic_flag_test_and_set_explicit(&peer_lock, memory_order_acquire))
		return l; /* another thread notes one just now */
	for (i = 0; i < nshown && !same_host(&shown_hosts[i], &host); i++)
		;
	if (i == nshown)
		shown_hosts[nshown++ % SHOWN_MAX] = host;
	if (nshown > SHOWN_MAX)
		nshown = SHOWN_MAX;
	unlock();
	return l;
}

bool sfy_bind_wanted(const struct sockaddr *sa, socklen_t len)
{
	const struct sfy_config *cfg = sfy_config();
	struct sockaddr_storage host;
	bool found = false;

	if (!cfg->enabled || cfg->broken || cfg->bind_off ||
	    !atomic_load_explicit(&have_peer, memory_order_acquire) ||
	    !host_of(sa, len, &host) || !lock_wait())
		return false;
	for (unsigned int i = 0; i < nshown && !found; i++)
		found = same_host(&shown_hosts[i], &host);
	unlock();
	return found;
}
