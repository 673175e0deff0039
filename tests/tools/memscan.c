/*
 * memscan: counts the copies of a secret in this process's memory, after
 * making one proxied connection (run with libsocksify.so preloaded), for
 * tests/integration/test_security.sh: the library may keep one copy of a
 * password (the parsed configuration, for the next handshake), and none
 * in buffers it no longer needs.
 *
 *   memscan XORHEX HOST PORT
 *
 * XORHEX is the secret, each byte XORed with 0x5a, in hex: the secret is
 * never spelt out in this process (argv, a decoded buffer), so every copy
 * found is somebody else's. The connection to HOST:PORT is made and
 * closed first (the handshake sends the password); then every readable
 * private mapping is read through /proc/self/mem.
 *
 * Prints "connect=OK|ENAME environ=N other=N", then "at ADDR MAPPING" for
 * each copy outside the environment strings. Exit 0 unless the scan fails.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define KEY 0x5a
#define SECRET_MAX 255
#define MAPPING_MAX (1ul << 32)

extern char **environ;

static unsigned char enc[SECRET_MAX];
static size_t enc_len;

static int hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

static int decode_arg(const char *hex)
{
	size_t n = strlen(hex), i;

	if (n % 2 || n / 2 > SECRET_MAX || n == 0)
		return -1;
	for (i = 0; i < n / 2; i++) {
		int hi = hexval(hex[2 * i]), lo = hexval(hex[2 * i + 1]);

		if (hi < 0 || lo < 0)
			return -1;
		enc[i] = (unsigned char)(hi * 16 + lo); /* still XORed */
	}
	enc_len = n / 2;
	return 0;
}

/* Compares without ever forming the plain secret. */
static int match(const unsigned char *p)
{
	size_t i;

	for (i = 0; i < enc_len; i++)
		if ((unsigned char)(p[i] ^ KEY) != enc[i])
			return 0;
	return 1;
}

static int in_environ(unsigned long addr)
{
	char **e;

	for (e = environ; *e; e++) {
		unsigned long s = (unsigned long)*e;

		if (addr >= s && addr < s + strlen(*e))
			return 1;
	}
	return 0;
}

static const char *do_connect(const char *host, int port)
{
	struct sockaddr_in sa = { .sin_family = AF_INET };
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	const char *r = "OK";

	sa.sin_port = htons((uint16_t)port);
	if (fd < 0 || inet_pton(AF_INET, host, &sa.sin_addr) != 1)
		return "SETUP";
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0)
		r = strerrorname_np(errno);
	close(fd);
	return r ? r : "E?";
}

int main(int argc, char **argv)
{
	static unsigned char buf[1 << 20];
	unsigned long lo, hi, a;
	char line[512], perms[8], path[256];
	int mem, in_env = 0, other = 0;
	const char *res;
	FILE *maps;

	if (argc != 4 || decode_arg(argv[1]))
		return 2;
	res = do_connect(argv[2], atoi(argv[3]));
	maps = fopen("/proc/self/maps", "r");
	mem = open("/proc/self/mem", O_RDONLY | O_CLOEXEC);
	if (!maps || mem < 0)
		return 1;
	while (fgets(line, sizeof(line), maps)) {
		path[0] = '\0';
		if (sscanf(line, "%lx-%lx %7s %*s %*s %*s %255[^\n]", &lo, &hi,
			   perms, path) < 3)
			continue;
		/* readable, private: data, heap, stacks, the library's .bss;
		 * not the vsyscall/vvar pages, not file text */
		if (perms[0] != 'r' || perms[3] != 'p' || strstr(path, "[v"))
			continue;
		/* a sanitizer's shadow memory: terabytes of reservation */
		if (hi - lo > MAPPING_MAX)
			continue;
		for (a = lo; a < hi;) {
			size_t want = hi - a < sizeof(buf) ? hi - a : sizeof(buf);
			ssize_t n = pread(mem, buf, want, (off_t)a);
			size_t i;

			if (n <= 0)
				break;
			for (i = 0; i + enc_len <= (size_t)n; i++) {
				unsigned long at = a + i;

				if (!match(buf + i))
					continue;
				/* our own read buffer holds what was read */
				if (at >= (unsigned long)buf &&
				    at < (unsigned long)buf + sizeof(buf))
					continue;
				if (in_environ(at)) {
					in_env++;
				} else {
					other++;
					printf("at %#lx %s\n", at,
					       path[0] ? path : "[anon]");
				}
			}
			/* a copy across two reads is missed: the 1 MiB reads
			 * overlap by the secret's length */
			if ((size_t)n < want || (size_t)n <= enc_len)
				break;
			a += (unsigned long)n - enc_len + 1;
		}
	}
	printf("connect=%s environ=%d other=%d\n", res, in_env, other);
	return 0;
}
