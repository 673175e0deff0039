/*
 * stress: threads, processes and signals around connect(), for
 * tests/integration/test_concurrency.sh. A plain program: it knows nothing
 * of SOCKS; the test runs it with libsocksify.so preloaded. Every
 * connection it makes sends a line to an echo server and reads it back.
 *
 *   stress threads NTHREADS PER ADDR PORT [NAME...]
 *	NTHREADS threads, each making PER connections one after the other;
 *	connection i goes to ADDR (a literal) when i % (number of names + 1)
 *	is 0, else to the next NAME, looked up with getaddrinfo each time.
 *   stress forks N CONC PORT NAME...
 *	N children, at most CONC alive at once, each looking up a NAME and
 *	connecting (the fake-IP map under many processes at once).
 *   stress threadfork N ADDR PORT NAME...
 *	8 threads connect in a loop (as "threads" does) while the main thread
 *	forks N children, one after the other, that each look up the first
 *	NAME and connect: no lock of the library may stay held across fork.
 *   stress forkgap PORT NAME1 NAME2
 *	lookup in the parent, connect in a forked child; lookup in a child,
 *	connect in the parent (the map is shared across fork).
 *   stress spawn PORT NAME
 *	vfork+execv and posix_spawn children (running "stress one") connect,
 *	and the parent still can.
 *   stress one PORT NAME
 *	one lookup and connection; exit status 0 or the errno.
 *   stress signals ADDR PORT restart|norestart COUNT
 *	a 1 ms SIGALRM interval timer (handler with or without SA_RESTART)
 *	runs while COUNT connections are made (through a slow proxy, so the
 *	signals land in the handshake): every connection must complete.
 *	Without SA_RESTART connect() may answer EINTR, as the kernel's does;
 *	the connection then goes on, and the program waits for it to be
 *	writable and reads SO_ERROR.
 *
 * Output: lines "OK what ..." / "FAIL what ..."; exit status 0 only when
 * nothing failed. Descriptors are counted before and after in the
 * threaded modes: a leak is a failure.
 */
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <netdb.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <spawn.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define IO_TIMEOUT_MS 15000
#define MAX_ERRNO 256

extern char **environ;

static const char *self_path;
static atomic_int errcount[MAX_ERRNO];
static atomic_long signals_seen;
static atomic_long connect_eintr; /* connect() answered EINTR */

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int count_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	struct dirent *e;
	int n = 0;

	if (!d)
		return -1;
	while ((e = readdir(d)))
		if (e->d_name[0] != '.')
			n++;
	closedir(d);
	return n - 1; /* the directory's own descriptor */
}

static const char *ename(int e)
{
	const char *s = strerrorname_np(e);

	return s ? s : "E?";
}

/* The IPv4 address of name (a fake one under remote DNS). 0 or -errno. */
static int lookup(const char *name, int port, struct sockaddr_in *out)
{
	struct addrinfo hints, *res;
	int rc;

	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_INET;
	hints.ai_socktype = SOCK_STREAM;
	rc = getaddrinfo(name, NULL, &hints, &res);
	if (rc)
		return rc == EAI_SYSTEM ? -errno : -EHOSTUNREACH;
	memcpy(out, res->ai_addr, sizeof(*out));
	out->sin_port = htons((uint16_t)port);
	freeaddrinfo(res);
	return 0;
}

static int literal(const char *addr, int port, struct sockaddr_in *out)
{
	memset(out, 0, sizeof(*out));
	out->sin_family = AF_INET;
	out->sin_port = htons((uint16_t)port);
	return inet_pton(AF_INET, addr, &out->sin_addr) == 1 ? 0 : -EINVAL;
}

/* poll for one event, retrying on EINTR, bounded by IO_TIMEOUT_MS. */
static int wait_for(int fd, short ev)
{
	double end = now_s() + IO_TIMEOUT_MS / 1000.0;
	struct pollfd p = { .fd = fd, .events = ev };

	for (;;) {
		int left = (int)((end - now_s()) * 1000);
		int r;

		if (left <= 0)
			return -ETIMEDOUT;
		r = poll(&p, 1, left);
		if (r > 0)
			return 0;
		if (r < 0 && errno != EINTR)
			return -errno;
	}
}

/* Connects, sends a line, reads it back. 0 or -errno (EPROTO: bad echo). */
static int connect_echo(const struct sockaddr_in *sa, const char *tag)
{
	char line[128], back[128];
	size_t len, got = 0;
	int fd, rc = 0;

	fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (connect(fd, (const struct sockaddr *)sa, sizeof(*sa)) < 0) {
		int err = 0;
		socklen_t el = sizeof(err);

		rc = -errno;
		/* Interrupted (a handler without SA_RESTART): the connection
		 * goes on, as POSIX says; wait for it and ask SO_ERROR, as a
		 * careful program does. */
		if (rc != -EINTR)
			goto out;
		atomic_fetch_add(&connect_eintr, 1);
		rc = wait_for(fd, POLLOUT);
		if (rc)
			goto out;
		if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &el) < 0 || err) {
			rc = err ? -err : -errno;
			goto out;
		}
	}
	len = (size_t)snprintf(line, sizeof(line), "stress %s %d\n", tag,
			       (int)getpid());
	if (send(fd, line, len, MSG_NOSIGNAL) != (ssize_t)len) {
		rc = errno ? -errno : -EPROTO;
		goto out;
	}
	while (got < len) {
		ssize_t n;

		rc = wait_for(fd, POLLIN);
		if (rc)
			goto out;
		n = recv(fd, back + got, len - got, 0);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			rc = n < 0 ? -errno : -EPROTO;
			goto out;
		}
		got += (size_t)n;
	}
	if (memcmp(line, back, len))
		rc = -EPROTO;
out:
	close(fd);
	return rc;
}

static void count_err(int rc)
{
	int e = -rc;

	atomic_fetch_add(&errcount[e > 0 && e < MAX_ERRNO ? e : 0], 1);
}

static int report_errs(const char *what, int total, double secs)
{
	int fails = 0, e;

	for (e = 0; e < MAX_ERRNO; e++)
		fails += atomic_load(&errcount[e]);
	printf("%s %s: %d connects, %d failures, %.2f s, %.0f connects/s\n",
	       fails ? "FAIL" : "OK", what, total, fails, secs,
	       secs > 0 ? total / secs : 0.0);
	for (e = 0; e < MAX_ERRNO; e++)
		if (atomic_load(&errcount[e]))
			printf("  %s: %d\n", e ? ename(e) : "other",
			       atomic_load(&errcount[e]));
	return fails;
}

/* ---- threads ------------------------------------------------------------ */

struct targs {
	int id, per, port, nnames;
	const char *addr;
	char **names;
	atomic_bool *stop; /* threadfork: run until set */
};

static void *worker(void *p)
{
	struct targs *a = p;
	struct sockaddr_in sa;
	char tag[32];
	int i, rc, slots = a->nnames + 1;

	for (i = 0; a->stop ? !atomic_load(a->stop) : i < a->per; i++) {
		int k = (i + a->id) % slots;

		snprintf(tag, sizeof(tag), "t%d.%d", a->id, i);
		if (k == 0)
			rc = literal(a->addr, a->port, &sa);
		else
			rc = lookup(a->names[k - 1], a->port, &sa);
		if (rc == 0)
			rc = connect_echo(&sa, tag);
		if (rc)
			count_err(rc);
	}
	return NULL;
}

static int run_threads(int n, int per, const char *addr, int port,
		       char **names, int nnames)
{
	pthread_t *t = calloc((size_t)n, sizeof(*t));
	struct targs *a = calloc((size_t)n, sizeof(*a));
	int i, fd0 = count_fds(), fd1, fails;
	double t0 = now_s();

	if (!t || !a)
		return 1;
	for (i = 0; i < n; i++) {
		a[i] = (struct targs){ i, per, port, nnames, addr, names, NULL };
		if (pthread_create(&t[i], NULL, worker, &a[i])) {
			printf("FAIL threads: pthread_create\n");
			return 1;
		}
	}
	for (i = 0; i < n; i++)
		pthread_join(t[i], NULL);
	fails = report_errs("threads", n * per, now_s() - t0);
	fd1 = count_fds();
	if (fd1 != fd0) {
		printf("FAIL threads-fds: %d descriptors before, %d after\n", fd0, fd1);
		fails++;
	}
	free(t);
	free(a);
	return fails != 0;
}

/* ---- processes ---------------------------------------------------------- */

static int one(int port, const char *name)
{
	struct sockaddr_in sa;
	int rc = lookup(name, port, &sa);

	if (rc == 0)
		rc = connect_echo(&sa, name);
	return -rc;
}

/* Waits for one child; its errno-style exit status, or 255 if it died. */
static int reap(pid_t pid)
{
	int st;

	while (waitpid(pid, &st, 0) < 0)
		if (errno != EINTR)
			return 255;
	return WIFEXITED(st) ? WEXITSTATUS(st) : 255;
}

static int reap_any(void)
{
	int st;
	pid_t p;

	while ((p = waitpid(-1, &st, 0)) < 0)
		if (errno != EINTR)
			return 255;
	return WIFEXITED(st) ? WEXITSTATUS(st) : 255;
}

static int run_forks(int n, int conc, int port, char **names, int nnames)
{
	int started = 0, alive = 0, rc;
	double t0 = now_s();

	while (started < n || alive > 0) {
		if (started < n && alive < conc) {
			pid_t p = fork();

			if (p == 0)
				_exit(one(port, names[started % nnames]));
			if (p < 0) {
				count_err(-errno);
				started++;
				continue;
			}
			started++;
			alive++;
			continue;
		}
		rc = reap_any();
		alive--;
		if (rc)
			count_err(rc == 255 ? -ECHILD : -rc);
	}
	return report_errs("forks", n, now_s() - t0) != 0;
}

static int run_threadfork(int n, const char *addr, int port, char **names,
			  int nnames)
{
	enum { NT = 8 };
	pthread_t t[NT];
	struct targs a[NT];
	atomic_bool stop = false;
	int i, rc, fails;
	double t0 = now_s();

	for (i = 0; i < NT; i++) {
		a[i] = (struct targs){ i, 0, port, nnames, addr, names, &stop };
		pthread_create(&t[i], NULL, worker, &a[i]);
	}
	for (i = 0; i < n; i++) {
		pid_t p = fork();

		if (p == 0) /* only async-signal-safe work is promised here, */
			_exit(one(port, names[0])); /* but the library copes */
		if (p < 0) {
			count_err(-errno);
			continue;
		}
		rc = reap(p);
		if (rc)
			count_err(rc == 255 ? -ECHILD : -rc);
	}
	atomic_store(&stop, true);
	for (i = 0; i < NT; i++)
		pthread_join(t[i], NULL);
	fails = report_errs("threadfork (children and threads)", n, now_s() - t0);
	return fails != 0;
}

static int check(const char *what, int rc)
{
	printf("%s %s%s%s\n", rc ? "FAIL" : "OK", what, rc ? ": " : "",
	       rc ? ename(rc) : "");
	return rc != 0;
}

static int run_forkgap(int port, const char *name1, const char *name2)
{
	struct sockaddr_in sa, again;
	int pfd[2], fails = 0, rc;
	pid_t p;

	/* lookup here, connect in the child */
	rc = lookup(name1, port, &sa);
	if (rc)
		return check("forkgap parent lookup", -rc);
	p = fork();
	if (p == 0)
		_exit(-connect_echo(&sa, "gap-child"));
	fails += check("forkgap child connects to the parent's lookup",
		       p < 0 ? errno : reap(p));

	/* lookup in the child, connect here */
	if (pipe(pfd))
		return check("forkgap pipe", errno);
	p = fork();
	if (p == 0) {
		struct sockaddr_in c;
		int r = lookup(name2, port, &c);

		if (r == 0 && write(pfd[1], &c, sizeof(c)) != sizeof(c))
			r = -EIO;
		_exit(-r);
	}
	close(pfd[1]);
	rc = p < 0 ? errno : reap(p);
	if (rc == 0 && read(pfd[0], &sa, sizeof(sa)) != sizeof(sa))
		rc = EIO;
	close(pfd[0]);
	if (rc)
		return check("forkgap child lookup", rc) + fails;
	fails += check("forkgap parent connects to the child's lookup",
		       -connect_echo(&sa, "gap-parent"));
	rc = lookup(name2, port, &again);
	fails += check("forkgap parent's own lookup gives the child's address",
		       rc ? -rc : memcmp(&sa.sin_addr, &again.sin_addr, 4) ? EPROTO : 0);
	return fails != 0;
}

static int run_spawn(int port, const char *name)
{
	char portbuf[16], *argv[] = { (char *)self_path, "one", portbuf,
				      (char *)name, NULL };
	struct sockaddr_in sa;
	int fails = 0, rc;
	pid_t p;

	snprintf(portbuf, sizeof(portbuf), "%d", port);
	rc = lookup(name, port, &sa);
	fails += check("spawn parent before", rc ? -rc : -connect_echo(&sa, "pre"));
	p = vfork();
	if (p == 0) {
		execv(self_path, argv);
		_exit(127);
	}
	fails += check("vfork+exec child connects", p < 0 ? errno : reap(p));
	rc = posix_spawn(&p, self_path, NULL, NULL, argv, environ);
	fails += check("posix_spawn child connects", rc ? rc : reap(p));
	rc = lookup(name, port, &sa);
	fails += check("spawn parent after", rc ? -rc : -connect_echo(&sa, "post"));
	return fails != 0;
}

/* ---- signals ------------------------------------------------------------ */

static void on_alarm(int sig)
{
	(void)sig;
	atomic_fetch_add(&signals_seen, 1);
}

static int run_signals(const char *addr, int port, int restart, int count)
{
	struct itimerval it = { { 0, 1000 }, { 0, 1000 } }, off = { 0 };
	struct sigaction sa = { 0 };
	struct sockaddr_in dst;
	int i, rc, fails = 0, fd0 = count_fds();
	double t0;

	sa.sa_handler = on_alarm;
	sa.sa_flags = restart ? SA_RESTART : 0;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGALRM, &sa, NULL);
	if (literal(addr, port, &dst))
		return check("signals address", EINVAL);
	t0 = now_s();
	setitimer(ITIMER_REAL, &it, NULL);
	for (i = 0; i < count; i++) {
		rc = connect_echo(&dst, "sig");
		if (rc)
			count_err(rc);
	}
	setitimer(ITIMER_REAL, &off, NULL);
	fails = report_errs(restart ? "signals (SA_RESTART)" : "signals (no SA_RESTART)",
			    count, now_s() - t0);
	printf("%s signals-delivered: %ld SIGALRM during the handshakes, %ld connect() EINTR\n",
	       atomic_load(&signals_seen) > count ? "OK" : "FAIL",
	       atomic_load(&signals_seen), atomic_load(&connect_eintr));
	if (atomic_load(&signals_seen) <= count)
		fails++;
	if (count_fds() != fd0) {
		printf("FAIL signals-fds: %d before, %d after\n", fd0, count_fds());
		fails++;
	}
	return fails != 0;
}

static int usage(void)
{
	fprintf(stderr, "usage: see the comment at the top of tests/tools/stress.c\n");
	return 2;
}

int main(int argc, char **argv)
{
	const char *m = argc > 1 ? argv[1] : "";

	self_path = argv[0];
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (!strcmp(m, "threads") && argc >= 6)
		return run_threads(atoi(argv[2]), atoi(argv[3]), argv[4],
				   atoi(argv[5]), argv + 6, argc - 6);
	if (!strcmp(m, "forks") && argc >= 6)
		return run_forks(atoi(argv[2]), atoi(argv[3]), atoi(argv[4]),
				 argv + 5, argc - 5);
	if (!strcmp(m, "threadfork") && argc >= 6)
		return run_threadfork(atoi(argv[2]), argv[3], atoi(argv[4]),
				      argv + 5, argc - 5);
	if (!strcmp(m, "forkgap") && argc == 5)
		return run_forkgap(atoi(argv[2]), argv[3], argv[4]);
	if (!strcmp(m, "spawn") && argc == 4)
		return run_spawn(atoi(argv[2]), argv[3]);
	if (!strcmp(m, "one") && argc == 4)
		return one(atoi(argv[2]), argv[3]);
	if (!strcmp(m, "signals") && argc == 6)
		return run_signals(argv[2], atoi(argv[3]),
				   !strcmp(argv[4], "restart"), atoi(argv[5]));
	return usage();
}
