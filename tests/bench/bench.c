/*
 * bench: the client side of `make bench` (tests/bench/run.sh drives it).
 *
 *   bench conn   --target A:P [--native URL [--pipeline]] [--threads N] [--seconds S]
 *   bench ttfb   --target A:P [--native URL [--pipeline]] [--count N]
 *   bench bulk   --target A:P [--native URL [--pipeline]] [--mib N]
 *   bench loop   --target A:P [--native URL [--pipeline]] [--count N]
 *   bench lookup [--count N] [--seconds S]
 *   bench spawn  [--runs N] [--setenv K=V]... -- PROGRAM [ARGS...]
 *
 * Without --native the program simply connects to the target, as any
 * program would, and a shim (LD_PRELOAD) under test takes it through the
 * proxy. With --native URL the benchmark speaks SOCKS5 itself through
 * libsocks5 (pipelined with --pipeline): the reference a shim is measured
 * against. The target is bench_target: 'e' echoes, 'g' sends a count.
 *
 *   conn:   connections per second (connect, one byte there and back,
 *           close), over S seconds, in N threads
 *   ttfb:   median microseconds from connect() to the first byte back
 *   bulk:   MiB/s downloading N MiB over one connection
 *   loop:   exactly N echo connections, for counting system calls
 *   lookup: getaddrinfo of N distinct names; nanoseconds per lookup for the
 *           first 1000 names and for those after the first 10000 (flat =
 *           the map does not slow down as it fills); at 10, 10 000 and
 *           100 000 names, a new name (the last 10 or 100 before) and a
 *           known one (1000 lookups of names already there)
 *   spawn:  median microseconds to run PROGRAM to its end (posix_spawn +
 *           wait4) and its median peak RSS in KiB
 *
 * Output: "key value" lines. Errors: a message on stderr, exit status 1.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <netdb.h>
#include <netinet/in.h>
#include <pthread.h>
#include <spawn.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "socks5.h"

extern char **environ;

static const struct socks5_io libc_io = {
	.send = send, .recv = recv, .poll = poll,
	.connect = connect, .fcntl = fcntl, .sendto = sendto,
	.getsockopt = getsockopt,
};

static struct {
	struct sockaddr_storage target;
	socklen_t target_len;
	struct socks5_addr target_s5;
	bool native, pipeline;
	struct socks5_proxy proxy;
	struct sockaddr_storage proxy_sa;
	socklen_t proxy_len;
	int threads, seconds, count, mib, runs;
	char *setenv[16];
	int nsetenv;
} o = { .threads = 1, .seconds = 2, .count = 20, .mib = 256, .runs = 50 };

static int64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static void die(const char *what, int err)
{
	fprintf(stderr, "bench: %s: %s\n", what, strerror(err));
	exit(1);
}

static int cmp_i64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

	return x < y ? -1 : x > y;
}

static int64_t median(int64_t *v, int n)
{
	qsort(v, (size_t)n, sizeof(*v), cmp_i64);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

/* "1.2.3.4:80" or "[::1]:80" into a sockaddr. */
static int parse_sa(const char *s, struct sockaddr_storage *ss,
		    socklen_t *len)
{
	char host[64];
	const char *colon = strrchr(s, ':');
	size_t hl;
	int port;

	if (!colon || (size_t)(colon - s) >= sizeof(host))
		return -1;
	hl = (size_t)(colon - s);
	if (s[0] == '[' && hl >= 2 && s[hl - 1] == ']') {
		memcpy(host, s + 1, hl - 2);
		host[hl - 2] = '\0';
	} else {
		memcpy(host, s, hl);
		host[hl] = '\0';
	}
	port = atoi(colon + 1);
	memset(ss, 0, sizeof(*ss));
	if (inet_pton(AF_INET, host, &((struct sockaddr_in *)ss)->sin_addr) == 1) {
		ss->ss_family = AF_INET;
		((struct sockaddr_in *)ss)->sin_port = htons((uint16_t)port);
		*len = sizeof(struct sockaddr_in);
		return 0;
	}
	if (inet_pton(AF_INET6, host, &((struct sockaddr_in6 *)ss)->sin6_addr) == 1) {
		ss->ss_family = AF_INET6;
		((struct sockaddr_in6 *)ss)->sin6_port = htons((uint16_t)port);
		*len = sizeof(struct sockaddr_in6);
		return 0;
	}
	return -1;
}

/* A socket connected to the target: directly (a shim may be in the way)
 * or, natively, through the proxy with libsocks5. */
static int open_target(void)
{
	int fd, rc;

	if (!o.native) {
		fd = socket(o.target.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
		if (fd < 0)
			die("socket", errno);
		if (connect(fd, (struct sockaddr *)&o.target, o.target_len) < 0)
			die("connect", errno);
		return fd;
	} else {
		struct socks5_hs_opts opts = { .pipeline = o.pipeline ? 1 : 0 };
		int64_t deadline = socks5_now_ms() + 10000;
		struct socks5_failure why;

		fd = socket(o.proxy_sa.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
		if (fd < 0)
			die("socket", errno);
		rc = socks5_connect_deadline(&libc_io, fd,
					     (struct sockaddr *)&o.proxy_sa,
					     o.proxy_len, deadline);
		if (rc)
			die("connect to the proxy", -rc);
		rc = socks5_handshake_ex(&libc_io, fd, &o.proxy, 1,
					 SOCKS5_CMD_CONNECT, &o.target_s5,
					 deadline, &opts, NULL, &why);
		if (rc)
			die(why.status == SOCKS5_E_REPLY ?
				    socks5_rep_string(why.rep) :
				    socks5_strerror(why.status), -rc);
		return fd;
	}
}

/* One echo round: connect, 'e' there and back, close. */
static void echo_once(void)
{
	int fd = open_target();
	char c = 'e';

	if (write(fd, &c, 1) != 1 || read(fd, &c, 1) != 1 || c != 'e')
		die("echo", errno ? errno : EPROTO);
	close(fd);
}

static atomic_long total;
static int64_t stop_at;

static void *conn_thread(void *arg)
{
	long n = 0;

	(void)arg;
	while (now_ns() < stop_at) {
		echo_once();
		n++;
	}
	atomic_fetch_add(&total, n);
	return NULL;
}

static int run_conn(void)
{
	pthread_t t[64];
	int64_t t0 = now_ns();
	int i;

	stop_at = t0 + (int64_t)o.seconds * 1000000000;
	for (i = 0; i < o.threads; i++)
		if (pthread_create(&t[i], NULL, conn_thread, NULL))
			die("pthread_create", errno);
	for (i = 0; i < o.threads; i++)
		pthread_join(t[i], NULL);
	printf("conn_per_s %.0f\n",
	       (double)atomic_load(&total) * 1e9 / (double)(now_ns() - t0));
	return 0;
}

static int run_ttfb(void)
{
	int64_t v[1000];
	int i;

	for (i = 0; i < o.count && i < 1000; i++) {
		int64_t t0 = now_ns();
		int fd = open_target();
		char c = 'e';

		if (write(fd, &c, 1) != 1 || read(fd, &c, 1) != 1)
			die("echo", errno ? errno : EPROTO);
		v[i] = now_ns() - t0;
		close(fd);
	}
	printf("ttfb_us %.0f\n", (double)median(v, i) / 1000.0);
	return 0;
}

static int run_bulk(void)
{
	static char buf[256 * 1024];
	uint64_t want = (uint64_t)o.mib << 20, got = 0;
	uint8_t cmd[9] = { 'g' };
	int64_t t0;
	int fd, i;

	for (i = 0; i < 8; i++)
		cmd[1 + i] = (uint8_t)(want >> (56 - 8 * i));
	fd = open_target();
	t0 = now_ns();
	if (write(fd, cmd, sizeof(cmd)) != sizeof(cmd))
		die("bulk request", errno);
	while (got < want) {
		ssize_t n = read(fd, buf, sizeof(buf));

		if (n <= 0)
			die("bulk read", n < 0 ? errno : EPIPE);
		got += (uint64_t)n;
	}
	printf("mib_per_s %.0f\n",
	       (double)o.mib * 1e9 / (double)(now_ns() - t0));
	close(fd);
	return 0;
}

static int run_loop(void)
{
	int i;

	for (i = 0; i < o.count; i++)
		echo_once();
	printf("connections %d\n", o.count);
	return 0;
}

static int lookup_one(const char *name)
{
	struct addrinfo hints = { .ai_family = AF_INET,
				  .ai_socktype = SOCK_STREAM };
	struct addrinfo *res = NULL;
	int rc = getaddrinfo(name, "80", &hints, &res);

	if (rc)
		fprintf(stderr, "bench: getaddrinfo %s: %s\n", name,
			gai_strerror(rc));
	else
		freeaddrinfo(res);
	return rc;
}

static void lookup_name(char *name, size_t cap, int i)
{
	snprintf(name, cap, "h%07d.bench.test", i);
}

/* At a fill level: 1000 lookups of names already known (spread over
 * all of them), in nanoseconds each. */
static double known_ns(int level)
{
	char name[64];
	int64_t t0 = now_ns();
	int k;

	for (k = 0; k < 1000; k++) {
		lookup_name(name, sizeof(name), (int)((k * 7919u) % (unsigned)level));
		if (lookup_one(name))
			return -1;
	}
	return (double)(now_ns() - t0) / 1000.0;
}

static int run_lookup(void)
{
	static const int levels[] = { 10, 10000, 100000 };
	int64_t limit = now_ns() + (int64_t)o.seconds * 1000000000;
	int64_t t0 = now_ns(), t10k = 0, win = 0;
	int i, l = 0;

	for (i = 0; i < o.count; i++) {
		char name[64];

		/* the window of new names that ends at a level: names 2-10
		 * (the first maps the session's file: lookup_ns_first), then
		 * the 100 names up to 10 000 and up to 100 000 */
		if (l < 3 && i == (levels[l] == 10 ? 1 : levels[l] - 100))
			win = now_ns();
		lookup_name(name, sizeof(name), i);
		if (lookup_one(name)) {
			printf("lookup_failed_at %d\n", i + 1);
			return 1;
		}
		if (i == 0)
			printf("lookup_ns_first %.0f\n",
			       (double)(now_ns() - t0));
		if (i + 1 == 1000)
			printf("lookup_ns_first_1k %.0f\n",
			       (double)(now_ns() - t0) / 1000.0);
		if (i + 1 == 10000)
			t10k = now_ns();
		if (l < 3 && i + 1 == levels[l]) {
			int64_t t = now_ns();

			printf("lookup_new_ns_at_%d %.0f\n", levels[l],
			       (double)(t - win) / (levels[l] == 10 ? 9.0 : 100.0));
			printf("lookup_known_ns_at_%d %.0f\n", levels[l],
			       known_ns(levels[l]));
			/* the known lookups stay out of the other rows */
			t0 += now_ns() - t;
			if (t10k)
				t10k += now_ns() - t;
			l++;
		}
		if ((i & 255) == 0 && now_ns() > limit) {
			printf("lookup_stopped_at %d\n", i + 1);
			return 0;
		}
	}
	if (t10k && o.count > 10000)
		printf("lookup_ns_after_10k %.0f\n",
		       (double)(now_ns() - t10k) / (double)(o.count - 10000));
	return 0;
}

static int run_spawn(char **argv)
{
	int64_t wall[1000], rss[1000];
	char *envp[512];
	posix_spawn_file_actions_t fa;
	int i, n = 0;

	for (i = 0; environ[i] && n < 480; i++)
		envp[n++] = environ[i];
	for (i = 0; i < o.nsetenv; i++)
		envp[n++] = o.setenv[i];
	envp[n] = NULL;
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
	posix_spawn_file_actions_addopen(&fa, 2, "/dev/null", O_WRONLY, 0);
	for (i = 0; i < o.runs && i < 1000; i++) {
		struct rusage ru;
		int64_t t0 = now_ns();
		pid_t pid;
		int st, rc;

		rc = posix_spawnp(&pid, argv[0], &fa, NULL, argv, envp);
		if (rc)
			die(argv[0], rc);
		if (wait4(pid, &st, 0, &ru) < 0)
			die("wait4", errno);
		wall[i] = now_ns() - t0;
		rss[i] = ru.ru_maxrss;
		if (!WIFEXITED(st) || WEXITSTATUS(st)) {
			fprintf(stderr, "bench: %s failed (status %d)\n",
				argv[0], st);
			posix_spawn_file_actions_destroy(&fa);
			return 1;
		}
	}
	posix_spawn_file_actions_destroy(&fa);
	printf("spawn_us %.0f\n", (double)median(wall, i) / 1000.0);
	printf("maxrss_kib %lld\n", (long long)median(rss, i));
	return 0;
}

static void usage(void)
{
	fprintf(stderr, "usage: bench conn|ttfb|bulk|loop|lookup|spawn [options] (see the source)\n");
	exit(2);
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "target", required_argument, NULL, 't' },
		{ "native", required_argument, NULL, 'n' },
		{ "pipeline", no_argument, NULL, 'p' },
		{ "threads", required_argument, NULL, 'T' },
		{ "seconds", required_argument, NULL, 's' },
		{ "count", required_argument, NULL, 'c' },
		{ "mib", required_argument, NULL, 'm' },
		{ "runs", required_argument, NULL, 'r' },
		{ "setenv", required_argument, NULL, 'e' },
		{ NULL, 0, NULL, 0 },
	};
	const char *mode;
	char err[256];
	int c;

	if (argc < 2)
		usage();
	mode = argv[1];
	optind = 2;
	while ((c = getopt_long(argc, argv, "+", opts, NULL)) != -1) {
		switch (c) {
		case 't':
			if (parse_sa(optarg, &o.target, &o.target_len) ||
			    socks5_addr_from_sockaddr(&o.target_s5,
						      (struct sockaddr *)&o.target,
						      o.target_len) != SOCKS5_OK)
				usage();
			break;
		case 'n':
			o.native = true;
			if (socks5_url_parse(optarg, &o.proxy, err,
					     sizeof(err)) != SOCKS5_OK) {
				fprintf(stderr, "bench: %s\n", err);
				return 2;
			}
			snprintf(err, sizeof(err),
				 strchr(o.proxy.host, ':') ? "[%s]:%u" : "%s:%u",
				 o.proxy.host, o.proxy.port);
			if (parse_sa(err, &o.proxy_sa, &o.proxy_len))
				usage();
			break;
		case 'p': o.pipeline = true; break;
		case 'T': o.threads = atoi(optarg); break;
		case 's': o.seconds = atoi(optarg); break;
		case 'c': o.count = atoi(optarg); break;
		case 'm': o.mib = atoi(optarg); break;
		case 'r': o.runs = atoi(optarg); break;
		case 'e':
			if (o.nsetenv < 16)
				o.setenv[o.nsetenv++] = optarg;
			break;
		default: usage();
		}
	}
	if (o.threads < 1 || o.threads > 64 || o.seconds < 1 || o.count < 1 ||
	    o.mib < 1 || o.runs < 1)
		usage();
	if (!strcmp(mode, "spawn"))
		return optind < argc ? run_spawn(argv + optind) : 2;
	if (!strcmp(mode, "lookup"))
		return run_lookup();
	if (!o.target_len)
		usage();
	if (!strcmp(mode, "conn"))
		return run_conn();
	if (!strcmp(mode, "ttfb"))
		return run_ttfb();
	if (!strcmp(mode, "bulk"))
		return run_bulk();
	if (!strcmp(mode, "loop"))
		return run_loop();
	usage();
	return 2;
}
