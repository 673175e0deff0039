/*
 * UDP associations (RFC 1928 section 7): one per datagram socket of the
 * program that sent to a proxied destination, shared by every copy of
 * that socket (dup, dup2, dup3, F_DUPFD, fork).
 *
 * An association is a control TCP connection to the first hop (which
 * keeps the association alive at the proxy), the relay's address in the
 * family of the program's socket, and a little state the data path
 * shares between threads: the destination of a connect() and the last
 * destination sent to.
 *
 * Internal to udp_*.c and the hooks; hidden.
 */
#ifndef SOCKSIFY_PRELOAD_UDP_ASSOC_H
#define SOCKSIFY_PRELOAD_UDP_ASSOC_H

#include <netinet/in.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "base/sockaddr.h"
#include "socks5.h"
#include "state/fdstate.h"
#include "udp/udp_gss.h"

/* Associations alive at once in one process (each holds a descriptor). */
#define SFY_ASSOC_MAX 1024

/* What a dead control connection does to later sends: the path to the
 * relay is gone, which is "network down" rather than a refused peer. */
#define SFY_ASSOC_DEAD_ERRNO ENETDOWN

/* The shared, changing part, read and written whole under a seqlock. */
struct sfy_assoc_dyn {
	/* connect() to a proxied destination: the kernel socket is then
	 * connected to the relay and send()/write() use this header. */
	bool conn;
	bool conn_is_name;         /* destination was a fake address */
	uint8_t conn_hlen;         /* 0 when !conn */
	socklen_t conn_salen;
	union sfy_inaddr conn_sa;  /* as the program gave it */
	uint8_t conn_hdr[SOCKS5_UDP_HEADER_MAX];
	/* The last destination a datagram went to (unconnected sends): a
	 * reply whose origin is an address while we sent to a name is
	 * shown as coming from that name's fake address. */
	bool last_is_name;
	socklen_t last_salen;
	union sfy_inaddr last_sa;
};

struct sfy_assoc {
	atomic_int refs;           /* descriptors holding it; 0: free */
	atomic_int ctl;            /* control connection (may be moved) */
	atomic_bool dead;          /* the proxy closed the control link */
	_Atomic int64_t next_check; /* coarse ms before which we do not poll */
	int family;                /* the program's socket family */
	size_t max_dgram;          /* largest datagram towards the relay */
	/* A GSSAPI hop at integrity or confidentiality: every datagram to
	 * and from the relay wrapped (udp_gss.h); 0 otherwise. Set before
	 * the association is published, ended with it; a call takes it with
	 * sfy_udp_gss_get and gives it back (its memory goes after the last
	 * call inside it, which may come back after the end). */
	sfy_udp_gss_slot gss;
	socklen_t relay_len;
	union sfy_inaddr relay;    /* in the program's socket family */
	atomic_uint seq;           /* seqlock over dyn_words: even, copy
				    * (seq / 2) % 2 is current; odd, a
				    * writer fills the other one */
	_Atomic uint64_t dyn_words[2][(sizeof(struct sfy_assoc_dyn) + 7) / 8];
};

/* The association at index i (0 <= i < SFY_ASSOC_MAX). */
struct sfy_assoc *sfy_assoc_at(int i);

/*
 * fd's association, made on first use: connects to the first hop, sends
 * UDP ASSOCIATE, binds fd first if the program had not. family is fd's
 * (AF_INET or AF_INET6). On success *info is fd's state (kind SFY_FD_UDP)
 * and 0 is returned, else a negative errno after a log line.
 */
int sfy_assoc_open(int fd, int family, struct sfy_fd_info *info);

/* A free entry, claimed for a new association (udp_associate.c): its
 * index, or -1 when all SFY_ASSOC_MAX are taken. */
int sfy_assoc_claim(void);

/* fd's association when it has one: 0, or -ENOENT. */
int sfy_assoc_of(int fd, struct sfy_fd_info *info);

/* One more / one less descriptor holds association i; the last release
 * closes the control connection. */
void sfy_assoc_ref(int i);
void sfy_assoc_unref(int i);

/* 0 while the control connection is up, else -SFY_ASSOC_DEAD_ERRNO (the
 * first caller to notice logs it). One poll(2) with a zero timeout, at
 * most once per tick of the coarse monotonic clock (a few ms): a send in
 * the tick after the proxy dropped the association goes to a relay that
 * is gone, like a datagram already in flight; the ones after fail. */
int sfy_assoc_check(struct sfy_assoc *a);

/* A consistent copy of the shared state; and its update. */
void sfy_assoc_dyn_read(struct sfy_assoc *a, struct sfy_assoc_dyn *out);
void sfy_assoc_dyn_write(struct sfy_assoc *a, const struct sfy_assoc_dyn *in);

/*
 * Descriptor bookkeeping for hook_fd.c. All return quickly for
 * descriptors that are not ours.
 */
/* fd is a control connection (still the same socket): the program must
 * not close it; close() then returns 0 without closing. */
bool sfy_assoc_owns_fd(int fd);
/* A dup2()/dup3() is about to replace newfd: moves a control connection
 * living there to another number first. */
void sfy_assoc_make_room(int newfd);
/* The library's descriptors in [lo, hi], ascending, at most max: for
 * close_range()/closefrom(), which must spare them. Returns how many. */
int sfy_assoc_owned_in(unsigned int lo, unsigned int hi, int *out, int max);

/* At load (init.c): the stale-record callback and the fork child handler. */
void sfy_udp_assoc_init(void);

#endif
