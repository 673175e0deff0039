/*
 * Inside the event-loop machine (tcp/async.h): its slot, shared by the
 * table and the steps (async.c) and early data (asyncearly.c). Not for
 * the hooks.
 */
#ifndef SOCKSIFY_PRELOAD_TCP_ASYNC_INT_H
#define SOCKSIFY_PRELOAD_TCP_ASYNC_INT_H

#include "tcp/async.h"

#define SFY_ASYNC_ALIASES 4

struct async_slot {
	_Atomic int st;   /* enum sfy_async_st */
	_Atomic int fd;
	/* the socket's other numbers (dup, dup2, F_DUPFD), plus one: 0 is
	 * none (a new mmap'ed chunk is zero-filled) */
	_Atomic int alias[SFY_ASYNC_ALIASES];
	atomic_int busy;  /* the try-lock of the stepping thread */
	_Atomic short need;
	bool early;          /* may open before the proxy's replies */
	_Atomic bool open;   /* early, and all its bytes handed out */
	_Atomic bool corked; /* open, bytes held (MSG_MORE) for 1st write */
	int err;          /* FAILED: the errno */
	/* socks5_now_ms(); read by any waiter (ms_left, expire), even
	 * while the slot is being claimed anew */
	_Atomic int64_t deadline;
	int64_t t0;       /* sfy_log_now_us(), for the log line */
	struct socks5_addr dst;
	struct sfy_fd_info info; /* stored on success */
	struct socks5_hs hs;
	char name[SOCKS5_DOMAIN_MAX + 16];
};

/* The table (asynctable.c): slot i below sfy_async_hiwater() (one above the highest
 * slot ever claimed). */
int sfy_async_hiwater(void);
struct async_slot *sfy_async_slot(int i);
/* A FREE slot, now CLAIMED (NULL: the table is full). */
struct async_slot *sfy_async_claim(void);
/* Whether fd is one of s's numbers. */
bool sfy_async_has(struct async_slot *s, int fd);
/* s's numbers into out (room for 1 + SFY_ASYNC_ALIASES): how many. */
int sfy_async_numbers(struct async_slot *s, int *out);
/* Drops fd from s's numbers; false when it was the last one. */
bool sfy_async_unnumber(struct async_slot *s, int fd);
/* fd's slot (PENDING or FAILED), or NULL. */
struct async_slot *sfy_async_find(int fd);
/* The per-slot try-lock. */
bool sfy_async_lock(struct async_slot *s);
void sfy_async_unlock(struct async_slot *s);

/* The epoll registrations of all of s's numbers: armed for need, or the
 * program's own put back (need 0). */
void sfy_async_remod(struct async_slot *s, short need);

/* Slots corked (early data), open: counters for the waits' fast paths. */
extern atomic_int sfy_async_corked __attribute__((visibility("hidden")));
extern atomic_int sfy_async_opened __attribute__((visibility("hidden")));

/* asyncearly.c, under the lock: the machine's sends of an early slot
 * (held back with MSG_MORE); the slot opens (its bytes all handed out);
 * the slot is no longer corked or open (it is freed). */
ssize_t sfy_async_send_more(int fd, const void *buf, size_t n, int flags);
void sfy_async_open_early(struct async_slot *s);
void sfy_async_early_end(struct async_slot *s);

#endif
