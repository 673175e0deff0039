/*
 * Protected streams (RFC 1961 section 5): after a GSSAPI hop agreed on
 * integrity or confidentiality, every byte the program sends on the
 * socket goes out wrapped (gss_wrap, conf_req for confidentiality) in
 * messages of ver 1, mtyp 3, a 2-byte length and the token, and every
 * byte it reads comes out of such messages unwrapped. The handshake
 * (client/gss_context.c) wraps the SOCKS request and reply itself and
 * hands the context over (sfy_gss_adopt).
 *
 * Design:
 *   - No thread behind the program's back: the wrapping happens inside
 *     the program's own send/recv/read/write/... (hook_udp.c,
 *     hook_recv.c route them here when sfy_gss_of(fd) says so). This
 *     file keeps the table of streams; gss_io.c the data path.
 *   - Where a stream is: by_fd[fd] names one of SFY_GSS_MAX slots
 *     (1-based; 0 none). Slots are never freed, only their buffers, so a
 *     racing reader that finds a slot can always lock it, and then checks
 *     that fd still names it. The fast check is sfy_gss_live, one relaxed
 *     load, for every data call of every program; each descriptor that
 *     names a stream is marked in fdstate (sfy_fd_path_mark), which is
 *     the data hooks' one check before they ask sfy_gss_of. The socket's fdstate record stays
 *     SFY_FD_TCP: getpeername and the rest see a proxied TCP socket.
 *   - Buffers: allocated once at adopt (a message being read, up to 4 +
 *     65535 bytes; its plaintext not yet read; a message being sent and
 *     the plaintext gathered for it), freed with the stream. The GSS
 *     library allocates its own output per gss_wrap/gss_unwrap: the price
 *     of the GSS-API, paid on protected sockets only.
 *   - Locks per stream (mutexes): one for each direction, so that a
 *     thread blocked reading does not stop another one writing; the
 *     GSS-API calls themselves under a third, short one (one context is
 *     not to be used by two threads at once). Calls in one direction are
 *     serialised, which the sequence numbers require anyway. close() of
 *     a stream another thread is blocked reading waits for that read (as
 *     the kernel's close does not wake it either: shutdown() does). A
 *     signal handler that reads or writes the very stream the interrupted
 *     code is using would wait forever, as with stdio's locks.
 *   - Sending: the plaintext is cut into messages of at most
 *     gss_wrap_size_limit's bytes. A sealed message is committed (its
 *     sequence number is spent): it is written whole, waiting for
 *     POLLOUT even on a non-blocking socket if the kernel took only part
 *     of it (bounded by SOCKSIFY_TIMEOUT_MS; then the stream is broken,
 *     ETIMEDOUT). A non-blocking send seals only while poll() says the
 *     socket is writable, so that wait is rare and short. A blocking send
 *     sends everything, as the kernel does; a non-blocking one what went.
 *   - Receiving: a message is read with reads framed by its length (the
 *     kernel's blocking, EINTR, SO_RCVTIMEO and EAGAIN come as they are;
 *     a partial message stays buffered), then unwrapped; what the
 *     caller's buffer cannot take stays as plaintext for the next call.
 *     MSG_PEEK reads a message if needed and leaves its plaintext;
 *     MSG_WAITALL gathers messages until the buffer is full.
 *   - Readiness: buffered plaintext is readable although the kernel may
 *     have nothing: sfy_gss_buffered counts such streams and also holds
 *     sfy_async_live up, so poll/select (hook_poll.c) and epoll_wait
 *     (hook_epoll.c, with the program's registration from epoll_reg.c)
 *     leave their fast paths and report POLLIN/EPOLLIN for them.
 *   - A message that is malformed, an abort message, or a token that does
 *     not verify breaks the stream: ECONNRESET from then on, with a log
 *     line saying which. End of stream inside a message: the same.
 *   - sendfile, splice and copy_file_range would move raw bytes past the
 *     wrapping: hook_sendfile.c refuses them on a protected socket with
 *     EINVAL and a log line (programs fall back to read and write, as
 *     Python's socket.sendfile does).
 *   - close() (and dup2 onto it) forgets fd; a dup shares the stream; the
 *     last descriptor deletes the context (gss_delete_sec_context) and
 *     frees the buffers.
 *   - fork: the child gets a copy of the stream (context, sequence
 *     numbers, buffers). Only one process may then use the socket: if
 *     both send, the proxy sees two messages with one sequence number and
 *     drops the connection. A child that only closes it, or execs, is
 *     fine (after exec the socket is raw: the program there must not use
 *     it). The child's locks are reset (sfy_gss_init).
 *   - Not wrapped: stdio on the socket (fdopen: glibc's FILE reads and
 *     writes with its internal calls), and the raw syscall() of read or
 *     write.
 */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "socks5_gssapi.h"
#include "state/fdstate.h"
#include "tcp/async.h"
#include "tcp/gss_stream.h"
#include "tcp/gss_stream_int.h"

static struct stream slots[SFY_GSS_MAX];
static _Atomic uint16_t by_fd[SFY_GSS_FD_MAX];
atomic_int sfy_gss_live;
atomic_int sfy_gss_buffered;

/* In a fork child: the locks of streams in use, which a thread of the
 * parent may have held (glibc's zeroed mutex is PTHREAD_MUTEX_INITIALIZER,
 * which the static table starts as). Nothing while no stream exists. */
static void child_locks(void)
{
	if (!atomic_load_explicit(&sfy_gss_live, memory_order_relaxed))
		return;
	for (int i = 0; i < SFY_GSS_MAX; i++) {
		if (!atomic_load_explicit(&slots[i].used, memory_order_relaxed))
			continue;
		pthread_mutex_init(&slots[i].rx_lock, NULL);
		pthread_mutex_init(&slots[i].tx_lock, NULL);
		pthread_mutex_init(&slots[i].gss_lock, NULL);
	}
}

void sfy_gss_init(void)
{
	pthread_atfork(NULL, NULL, child_locks);
}

int sfy_gss_slot_slow(int fd)
{
	if (fd < 0 || fd >= SFY_GSS_FD_MAX)
		return 0;
	return atomic_load_explicit(&by_fd[fd], memory_order_acquire);
}

/* Both locks of s, receive first (the one order everywhere). */
static void lock_both(struct stream *s)
{
	pthread_mutex_lock(&s->rx_lock);
	pthread_mutex_lock(&s->tx_lock);
}

static void unlock_both(struct stream *s)
{
	pthread_mutex_unlock(&s->tx_lock);
	pthread_mutex_unlock(&s->rx_lock);
}

void sfy_gss_note_buffered(struct stream *s)
{
	bool now = s->plain_len > 0;

	if (now == atomic_load_explicit(&s->counted, memory_order_relaxed))
		return;
	atomic_store(&s->counted, now);
	atomic_fetch_add(&sfy_gss_buffered, now ? 1 : -1);
	atomic_fetch_add(&sfy_async_live, now ? 1 : -1);
}

/* Under both locks, the last descriptor gone: the context and buffers. */
static void release(struct stream *s)
{
	s->plain_len = 0;
	sfy_gss_note_buffered(s);
	socks5_gss_sec_free(s->sec);
	s->sec = NULL;
	if (s->b)
		explicit_bzero(s->b, sizeof(*s->b));
	free(s->b);
	s->b = NULL;
	atomic_fetch_sub(&sfy_gss_live, 1);
	atomic_store(&s->used, 0);
}

int sfy_gss_adopt(int fd, struct socks5_gss_sec *sec)
{
	struct stream *s = NULL;
	int i, zero;

	if (fd < 0 || fd >= SFY_GSS_FD_MAX) {
		socks5_gss_sec_free(sec);
		return -EMFILE;
	}
	for (i = 0; i < SFY_GSS_MAX && !s; i++) {
		zero = 0;
		if (atomic_compare_exchange_strong(&slots[i].used, &zero, 1))
			s = &slots[i];
	}
	if (!s) {
		socks5_gss_sec_free(sec);
		return -ENFILE;
	}
	lock_both(s);
	s->b = malloc(sizeof(*s->b));
	if (!s->b) {
		unlock_both(s);
		socks5_gss_sec_free(sec);
		atomic_store(&s->used, 0);
		return -ENOMEM;
	}
	s->sec = sec;
	s->max = socks5_gss_sec_max(sec);
	if (s->max > SOCKS5_GSS_TOKEN_MAX)
		s->max = SOCKS5_GSS_TOKEN_MAX;
	s->refs = 1;
	s->rx_len = s->plain_off = s->plain_len = 0;
	s->counted = false;
	s->broken = 0;
	atomic_fetch_add(&sfy_gss_live, 1);
	sfy_fd_path_mark(fd);
	atomic_store_explicit(&by_fd[fd], (uint16_t)(s - slots + 1),
			      memory_order_release);
	unlock_both(s);
	return 0;
}

struct stream *sfy_gss_lock_stream(int fd, int slot, bool rx)
{
	struct stream *s;
	pthread_mutex_t *m;

	if (slot < 1 || slot > SFY_GSS_MAX)
		return NULL;
	s = &slots[slot - 1];
	m = rx ? &s->rx_lock : &s->tx_lock;
	pthread_mutex_lock(m);
	if (!s->sec || sfy_gss_slot_slow(fd) != slot) {
		pthread_mutex_unlock(m);
		return NULL;
	}
	return s;
}

void sfy_gss_forget(int fd)
{
	int slot = sfy_gss_of(fd);
	struct stream *s;

	if (!slot)
		return;
	s = &slots[slot - 1];
	lock_both(s);
	if (atomic_load(&by_fd[fd]) == slot) {
		atomic_store(&by_fd[fd], 0);
		sfy_fd_path_unmark(fd);
		if (s->sec && --s->refs == 0)
			release(s);
	}
	unlock_both(s);
}

void sfy_gss_dup(int from, int to)
{
	int slot = sfy_gss_of(from);
	struct stream *s;

	if (sfy_gss_of(to))
		sfy_gss_forget(to);
	if (!slot || to < 0 || to >= SFY_GSS_FD_MAX)
		return;
	s = &slots[slot - 1];
	lock_both(s);
	if (s->sec && sfy_gss_slot_slow(from) == slot) {
		s->refs++;
		sfy_fd_path_mark(to);
		atomic_store(&by_fd[to], (uint16_t)slot);
	}
	unlock_both(s);
}

bool sfy_gss_readable(int fd)
{
	int slot = sfy_gss_of(fd);

	/* A racy look, as the kernel's readiness is: the read decides. */
	return slot && atomic_load_explicit(&sfy_gss_buffered,
					    memory_order_relaxed) &&
	       atomic_load_explicit(&slots[slot - 1].counted,
				    memory_order_relaxed);
}

