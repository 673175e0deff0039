/*
 * The per-descriptor table (preload/state/fdstate.c): set/get/clear/copy, the
 * "is ours" fast check, stale state after a close the table did not see,
 * descriptors beyond the first chunk, and readers racing a writer (the
 * seqlock must never hand out a torn record).
 */
#include <arpa/inet.h>
#include <check.h>
#include <dlfcn.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "state/fdstate.h"

static struct sfy_fd_info tcp_info(uint16_t port)
{
	struct sfy_fd_info i;

	memset(&i, 0, sizeof(i));
	i.kind = SFY_FD_TCP;
	i.family = AF_INET;
	i.peer_len = sizeof(struct sockaddr_in);
	i.peer.in.sin_family = AF_INET;
	i.peer.in.sin_port = htons(port);
	i.peer.in.sin_addr.s_addr = htonl(0xC0000201); /* 192.0.2.1 */
	return i;
}

/* A close no hook sees: fclose() closes through libc's internal close
 * (syscall(SYS_close) goes through the library's bookkeeping now). */
static void unseen_close(int fd)
{
	FILE *f = fdopen(fd, "r");

	ck_assert_ptr_nonnull(f);
	fclose(f);
}

/* A socket made where no hook sees it: libc's own syscall() (the test is
 * linked with the library's, which routes SYS_socket through socket()'s
 * bookkeeping). */
static int unseen_socket(void)
{
	long (*libc_syscall)(long, ...) =
		(long (*)(long, ...))dlsym(RTLD_NEXT, "syscall");

	ck_assert_ptr_nonnull(libc_syscall);
	return (int)libc_syscall(SYS_socket, AF_INET, SOCK_STREAM, 0);
}

static int new_socket(void)
{
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	ck_assert_int_ge(fd, 0);
	return fd;
}

START_TEST(set_get_clear)
{
	struct sfy_fd_info in = tcp_info(443), out;
	int fd = new_socket();

	ck_assert(!sfy_fd_is_ours(fd));
	ck_assert(!sfy_fd_get(fd, &out));
	ck_assert_int_eq(sfy_fd_set(fd, &in), 0);
	ck_assert(sfy_fd_is_ours(fd));
	ck_assert(sfy_fd_get(fd, &out));
	ck_assert_int_eq(out.kind, SFY_FD_TCP);
	ck_assert_int_eq(out.peer_len, sizeof(struct sockaddr_in));
	ck_assert_mem_eq(&out.peer.in, &in.peer.in, sizeof(in.peer.in));
	sfy_fd_clear(fd);
	ck_assert(!sfy_fd_is_ours(fd));
	ck_assert(!sfy_fd_get(fd, &out));
	close(fd);
}
END_TEST

START_TEST(bad_descriptors)
{
	struct sfy_fd_info in = tcp_info(1), out;

	ck_assert_int_lt(sfy_fd_set(-1, &in), 0);
	ck_assert_int_lt(sfy_fd_set(1 << 30, &in), 0);
	ck_assert(!sfy_fd_get(-1, &out));
	ck_assert(!sfy_fd_is_ours(1 << 30));
	sfy_fd_clear(-5);
	sfy_fd_copy(-1, -2);
}
END_TEST

START_TEST(copy_follows_dup)
{
	struct sfy_fd_info in = tcp_info(80), out;
	int a = new_socket(), b = dup(a), c = new_socket();

	ck_assert_int_eq(sfy_fd_set(a, &in), 0);
	sfy_fd_copy(a, b);
	ck_assert(sfy_fd_get(b, &out));
	ck_assert_int_eq(ntohs(out.peer.in.sin_port), 80);
	/* copying a descriptor without state clears the target */
	ck_assert(dup2(c, b) == b);
	sfy_fd_copy(c, b);
	ck_assert(!sfy_fd_is_ours(b));
	ck_assert(sfy_fd_get(a, &out));
	close(a);
	close(b);
	close(c);
}
END_TEST

/* A close that bypasses the hooks, then a different socket on the same
 * number: the old (stamped: UDP) state must not apply to it. */
START_TEST(stale_state_dropped)
{
	struct sfy_fd_info in = tcp_info(22), out;
	int fd = new_socket(), again;

	in.kind = SFY_FD_UDP;

	ck_assert_int_eq(sfy_fd_set(fd, &in), 0);
	unseen_close(fd);
	again = new_socket();
	ck_assert_int_eq(again, fd);
	ck_assert(!sfy_fd_get(again, &out));
	ck_assert(!sfy_fd_is_ours(again)); /* dropped for good */
	close(again);
}
END_TEST

/* A TCP record is not stamped (no fstat on the proxied connect): it names
 * its socket by the proxy address, which only the socket connected there
 * has as its kernel peer. */
START_TEST(tcp_record_named_by_proxy_address)
{
	struct sfy_fd_info in = tcp_info(22), out;
	struct sockaddr_in px = { .sin_family = AF_INET,
				  .sin_port = htons(1080),
				  .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	struct sockaddr_in other = px;
	struct sockaddr_in6 px6 = { .sin6_family = AF_INET6,
				    .sin6_port = htons(1080),
				    .sin6_addr = IN6ADDR_LOOPBACK_INIT };
	struct sockaddr_in6 other6 = px6;
	int fd = new_socket(), again;

	memcpy(&in.via, &px, sizeof(px));
	ck_assert_int_eq(sfy_fd_set(fd, &in), 0);
	/* closed and made again where no hook sees it (socket() here is the
	 * library's, which would drop the record) */
	unseen_close(fd);
	again = unseen_socket();
	ck_assert_int_eq(again, fd);
	/* as stored: the reader checks it against the kernel's peer */
	ck_assert(sfy_fd_get(again, &out));
	ck_assert(sfy_fd_tcp_same(&out, (struct sockaddr *)&px, sizeof(px)));
	other.sin_port = htons(1081);
	ck_assert(!sfy_fd_tcp_same(&out, (struct sockaddr *)&other, sizeof(other)));
	other = px;
	other.sin_addr.s_addr = htonl(INADDR_LOOPBACK + 1);
	ck_assert(!sfy_fd_tcp_same(&out, (struct sockaddr *)&other, sizeof(other)));
	ck_assert(!sfy_fd_tcp_same(&out, (struct sockaddr *)&px6, sizeof(px6)));
	ck_assert(!sfy_fd_tcp_same(&out, (struct sockaddr *)&px, 8));
	ck_assert(!sfy_fd_tcp_same(&out, NULL, 0));

	memcpy(&in.via, &px6, sizeof(px6));
	ck_assert_int_eq(sfy_fd_set(again, &in), 0);
	ck_assert(sfy_fd_get(again, &out));
	ck_assert(sfy_fd_tcp_same(&out, (struct sockaddr *)&px6, sizeof(px6)));
	other6.sin6_addr.s6_addr[15] = 2;
	ck_assert(!sfy_fd_tcp_same(&out, (struct sockaddr *)&other6, sizeof(other6)));
	ck_assert(!sfy_fd_tcp_same(&out, (struct sockaddr *)&px, sizeof(px)));
	/* other kinds never match */
	out.kind = SFY_FD_UDP;
	ck_assert(!sfy_fd_tcp_same(&out, (struct sockaddr *)&px6, sizeof(px6)));
	sfy_fd_clear(again);
	close(again);
}
END_TEST

START_TEST(high_descriptor)
{
	struct sfy_fd_info in = tcp_info(8080), out;
	struct rlimit rl;
	int fd = new_socket(), high;

	getrlimit(RLIMIT_NOFILE, &rl);
	if (rl.rlim_cur < 5000 && rl.rlim_max >= 5000) {
		rl.rlim_cur = 5000;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
	high = dup2(fd, 4321);
	ck_assert_int_eq(high, 4321);
	ck_assert_int_eq(sfy_fd_set(high, &in), 0);
	ck_assert(sfy_fd_get(high, &out));
	ck_assert(!sfy_fd_is_ours(fd));
	close(high);
	close(fd);
}
END_TEST

/* Writers flip one slot between two records; readers must only ever see
 * one or the other, never a mix. */
static atomic_bool stop;
static int race_fd;

static void *reader(void *arg)
{
	struct sfy_fd_info out;
	long bad = 0;

	(void)arg;
	while (!atomic_load(&stop)) {
		if (!sfy_fd_get(race_fd, &out))
			continue;
		uint16_t port = ntohs(out.peer.in.sin_port);
		uint32_t ip = ntohl(out.peer.in.sin_addr.s_addr);

		if (!((port == 1111 && ip == 0xC0000201) ||
		      (port == 2222 && ip == 0xC6336401)))
			bad++;
	}
	return (void *)bad;
}

START_TEST(readers_never_see_torn_records)
{
	struct sfy_fd_info a = tcp_info(1111), b = tcp_info(2222);
	pthread_t t[2];
	void *bad;
	long total = 0;
	int i;

	b.peer.in.sin_addr.s_addr = htonl(0xC6336401); /* 198.51.100.1 */
	race_fd = new_socket();
	ck_assert_int_eq(sfy_fd_set(race_fd, &a), 0);
	for (i = 0; i < 2; i++)
		pthread_create(&t[i], NULL, reader, NULL);
	for (i = 0; i < 200000; i++)
		sfy_fd_set(race_fd, (i & 1) ? &a : &b);
	atomic_store(&stop, true);
	for (i = 0; i < 2; i++) {
		pthread_join(t[i], &bad);
		total += (long)bad;
	}
	ck_assert_int_eq(total, 0);
	close(race_fd);
}
END_TEST

/* fork() while another thread writes a slot: the child must find every
 * slot unlocked (a copied writer lock is never released there) and the
 * record as it was before or after the write, never torn. 1000 children,
 * each bounded by alarm(). */
static void *writer(void *arg)
{
	struct sfy_fd_info a = tcp_info(1111), b = tcp_info(2222);
	int i = 0;

	(void)arg;
	while (!atomic_load(&stop))
		sfy_fd_set(race_fd, (i++ & 1) ? &a : &b);
	return NULL;
}

START_TEST(fork_while_writing)
{
	struct sfy_fd_info a = tcp_info(1111), out;
	pthread_t t;
	int i, st, hung = 0, torn = 0;
	pid_t p;

	race_fd = new_socket();
	ck_assert_int_eq(sfy_fd_set(race_fd, &a), 0);
	atomic_store(&stop, false);
	pthread_create(&t, NULL, writer, NULL);
	for (i = 0; i < 1000; i++) {
		p = fork();
		ck_assert_int_ge(p, 0);
		if (p == 0) {
			alarm(5);
			if (!sfy_fd_get(race_fd, &out) ||
			    (ntohs(out.peer.in.sin_port) != 1111 &&
			     ntohs(out.peer.in.sin_port) != 2222))
				_exit(3);
			sfy_fd_set(race_fd, &a); /* takes the writer lock */
			sfy_fd_clear(race_fd);
			_exit(0);
		}
		ck_assert_int_eq(waitpid(p, &st, 0), p);
		if (WIFSIGNALED(st))
			hung++;
		else if (WEXITSTATUS(st))
			torn++;
	}
	atomic_store(&stop, true);
	pthread_join(t, NULL);
	ck_assert_int_eq(hung, 0);
	ck_assert_int_eq(torn, 0);
	close(race_fd);
}
END_TEST

/* The data path's one check (sfy_fd_plain_io): marks are counted per
 * descriptor, follow the record's kind for UDP, never go below zero, and
 * a mark that finds no slot makes every slot-less descriptor special. */
START_TEST(data_path_marks)
{
	struct sfy_fd_info tcp = tcp_info(80), udp = tcp_info(53);
	int fd = new_socket(), other = new_socket();

	ck_assert(sfy_fd_plain_io(fd)); /* nothing ever: the one load */
	sfy_fd_path_mark(fd);
	ck_assert(!sfy_fd_plain_io(fd));
	ck_assert(sfy_fd_plain_io(other));
	sfy_fd_path_mark(fd); /* a second module */
	sfy_fd_path_unmark(fd);
	ck_assert(!sfy_fd_plain_io(fd));
	sfy_fd_path_unmark(fd);
	ck_assert(sfy_fd_plain_io(fd));
	sfy_fd_path_unmark(fd); /* one too many: no wrap */
	ck_assert(sfy_fd_plain_io(fd));
	/* A record neither adds nor takes a mark; UDP is special by kind. */
	ck_assert_int_eq(sfy_fd_set(other, &tcp), 0);
	ck_assert(sfy_fd_plain_io(other));
	sfy_fd_path_mark(other);
	sfy_fd_clear(other);
	ck_assert(!sfy_fd_plain_io(other));
	sfy_fd_path_unmark(other);
	udp.kind = SFY_FD_UDP;
	ck_assert_int_eq(sfy_fd_set(other, &udp), 0);
	ck_assert(!sfy_fd_plain_io(other));
	sfy_fd_clear(other);
	ck_assert(sfy_fd_plain_io(other));
	/* Beyond the table: every descriptor without a slot turns special. */
	ck_assert(sfy_fd_plain_io(5000));
	sfy_fd_path_mark(1 << 30);
	ck_assert(!sfy_fd_plain_io(5000));
	ck_assert(sfy_fd_plain_io(fd));
	close(fd);
	close(other);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("fdstate");
	TCase *tc = tcase_create("table");
	SRunner *sr;
	int failed;

	tcase_add_test(tc, set_get_clear);
	tcase_add_test(tc, bad_descriptors);
	tcase_add_test(tc, copy_follows_dup);
	tcase_add_test(tc, stale_state_dropped);
	tcase_add_test(tc, tcp_record_named_by_proxy_address);
	tcase_add_test(tc, high_descriptor);
	tcase_add_test(tc, readers_never_see_torn_records);
	tcase_add_test(tc, fork_while_writing);
	tcase_add_test(tc, data_path_marks);
	tcase_set_timeout(tc, 60);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
