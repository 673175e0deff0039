/*
 * udp-mmsg: many datagrams in flight with sendmmsg()/recvmmsg(), for the
 * UDP integration tests (a socksified program exercising both calls).
 *
 *   udp-mmsg [-6] [-c] HOST PORT COUNT
 *
 * Sends COUNT datagrams "dgram <i>" to HOST:PORT (an echo server) with
 * sendmmsg() in batches of up to 32, each message in two iovecs, and
 * reads the echoes back with recvmmsg() (MSG_WAITFORONE, batches of 32),
 * keeping up to WINDOW datagrams in flight: a burst beyond the socket
 * buffers of the relay or of the (python) echo server would be lost on
 * the way, as it would be without us. 5 s without progress ends it. The
 * receive buffer is raised to 1 MiB (SO_RCVBUFFORCE as root). -c connects the
 * socket first and sends without an address. -6 uses an AF_INET6 socket.
 *
 * Checks every echo: payload one of ours and seen once, length as sent,
 * origin HOST:PORT. Prints "sent N received M dup D bad B" and exits 0
 * only when all COUNT came back intact.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define SEND_BATCH 32
#define WINDOW 128
#define RECV_BATCH 32
#define MAX_COUNT 100000

union addr {
	struct sockaddr sa;
	struct sockaddr_in in;
	struct sockaddr_in6 in6;
};

static int parse_addr(const char *host, int port, bool v6, union addr *a,
		      socklen_t *len)
{
	memset(a, 0, sizeof(*a));
	if (!v6) {
		a->in.sin_family = AF_INET;
		a->in.sin_port = htons((uint16_t)port);
		*len = sizeof(a->in);
		return inet_pton(AF_INET, host, &a->in.sin_addr) == 1 ? 0 : -1;
	}
	a->in6.sin6_family = AF_INET6;
	a->in6.sin6_port = htons((uint16_t)port);
	*len = sizeof(a->in6);
	if (inet_pton(AF_INET6, host, &a->in6.sin6_addr) == 1)
		return 0;
	/* An IPv4 host on an AF_INET6 socket: IPv4-mapped. */
	a->in6.sin6_addr.s6_addr[10] = 0xff;
	a->in6.sin6_addr.s6_addr[11] = 0xff;
	return inet_pton(AF_INET, host, &a->in6.sin6_addr.s6_addr[12]) == 1 ?
		       0 : -1;
}

struct state {
	int count, got, dup, bad;
	union addr to;
	unsigned char seen[MAX_COUNT];
};

static bool same_origin(const union addr *a, socklen_t alen,
			const union addr *want)
{
	if (a->sa.sa_family != want->sa.sa_family)
		return false;
	if (a->sa.sa_family == AF_INET)
		return alen == sizeof(a->in) && a->in.sin_port == want->in.sin_port &&
		       a->in.sin_addr.s_addr == want->in.sin_addr.s_addr;
	return alen == sizeof(a->in6) && a->in6.sin6_port == want->in6.sin6_port &&
	       !memcmp(&a->in6.sin6_addr, &want->in6.sin6_addr, 16);
}

/* One recvmmsg(); returns how many came, 0 when none (EAGAIN), -1. */
static int receive(int fd, int flags, struct state *st)
{
	static char bufs[RECV_BATCH][64];
	struct mmsghdr v[RECV_BATCH];
	struct iovec iov[RECV_BATCH];
	union addr from[RECV_BATCH];
	int i, n;

	memset(v, 0, sizeof(v));
	for (i = 0; i < RECV_BATCH; i++) {
		iov[i].iov_base = bufs[i];
		iov[i].iov_len = sizeof(bufs[i]) - 1;
		v[i].msg_hdr.msg_iov = &iov[i];
		v[i].msg_hdr.msg_iovlen = 1;
		v[i].msg_hdr.msg_name = &from[i];
		v[i].msg_hdr.msg_namelen = sizeof(from[i]);
	}
	n = recvmmsg(fd, v, RECV_BATCH, flags | MSG_WAITFORONE, NULL);
	if (n < 0)
		return errno == EAGAIN || errno == EINTR ? 0 : -1;
	for (i = 0; i < n; i++) {
		char *end = NULL;
		long k;

		bufs[i][v[i].msg_len] = '\0';
		k = strncmp(bufs[i], "dgram ", 6) ? -1 :
						    strtol(bufs[i] + 6, &end, 10);
		if (k < 0 || k >= st->count || *end ||
		    !same_origin(&from[i], v[i].msg_hdr.msg_namelen, &st->to)) {
			st->bad++;
			continue;
		}
		if (st->seen[k]++)
			st->dup++;
		else
			st->got++;
	}
	return n;
}

static int send_all(int fd, socklen_t tolen, bool connected, struct state *st)
{
	static char nums[SEND_BATCH][16];
	static const char prefix[] = "dgram ";
	struct mmsghdr v[SEND_BATCH];
	struct iovec iov[SEND_BATCH][2];
	int done = 0, k, n, i, idle;

	while (done < st->count) {
		k = st->count - done < SEND_BATCH ? st->count - done : SEND_BATCH;
		memset(v, 0, sizeof(v));
		for (i = 0; i < k; i++) {
			snprintf(nums[i], sizeof(nums[i]), "%d", done + i);
			iov[i][0].iov_base = (void *)prefix;
			iov[i][0].iov_len = sizeof(prefix) - 1;
			iov[i][1].iov_base = nums[i];
			iov[i][1].iov_len = strlen(nums[i]);
			v[i].msg_hdr.msg_iov = iov[i];
			v[i].msg_hdr.msg_iovlen = 2;
			if (!connected) {
				v[i].msg_hdr.msg_name = &st->to;
				v[i].msg_hdr.msg_namelen = tolen;
			}
		}
		n = sendmmsg(fd, v, (unsigned int)k, 0);
		if (n < 0) {
			if (errno == EAGAIN || errno == ENOBUFS) {
				usleep(1000);
				continue;
			}
			perror("sendmmsg");
			return -1;
		}
		for (i = 0; i < n; i++)
			if (v[i].msg_len != iov[i][0].iov_len + iov[i][1].iov_len) {
				fprintf(stderr, "sendmmsg: msg_len %u for message %d\n",
					v[i].msg_len, done + i);
				return -1;
			}
		done += n;
		/* Take what has come back so far, and wait while more than
		 * the window is out (bounded: 5 s without an echo). */
		while (receive(fd, MSG_DONTWAIT, st) > 0)
			;
		for (idle = 0; done - st->got - st->bad > WINDOW - SEND_BATCH &&
			       idle < 50;) {
			struct pollfd p = { .fd = fd, .events = POLLIN };

			if (poll(&p, 1, 100) == 0)
				idle++;
			else if (receive(fd, 0, st) < 0)
				return -1;
		}
	}
	return 0;
}

int main(int argc, char **argv)
{
	static struct state st;
	bool v6 = false, connected = false;
	int opt, fd, port, idle = 0, big = 1 << 20, n;
	socklen_t tolen;

	while ((opt = getopt(argc, argv, "6c")) != -1) {
		if (opt == '6')
			v6 = true;
		else if (opt == 'c')
			connected = true;
		else
			return 2;
	}
	if (argc - optind != 3)
		return 2;
	port = atoi(argv[optind + 1]);
	st.count = atoi(argv[optind + 2]);
	if (st.count < 1 || st.count > MAX_COUNT ||
	    parse_addr(argv[optind], port, v6, &st.to, &tolen) < 0) {
		fprintf(stderr, "usage: udp-mmsg [-6] [-c] HOST PORT COUNT\n");
		return 2;
	}
	fd = socket(v6 ? AF_INET6 : AF_INET, SOCK_DGRAM, 0);
	if (fd < 0 || (connected && connect(fd, &st.to.sa, tolen) < 0)) {
		perror("socket/connect");
		return 1;
	}
	if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &big, sizeof(big)) < 0)
		setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &big, sizeof(big));
	if (send_all(fd, tolen, connected, &st) < 0)
		return 1;
	while (st.got < st.count && idle < 50) {
		struct pollfd p = { .fd = fd, .events = POLLIN };

		if (poll(&p, 1, 100) == 0) {
			idle++;
			continue;
		}
		idle = 0;
		n = receive(fd, 0, &st);
		if (n < 0) {
			perror("recvmmsg");
			return 1;
		}
	}
	printf("sent %d received %d dup %d bad %d\n", st.count, st.got,
	       st.dup, st.bad);
	close(fd);
	return st.got == st.count && !st.dup && !st.bad ? 0 : 1;
}
