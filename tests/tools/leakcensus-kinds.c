/*
 * leakcensus-kinds: the sockets SOCKS cannot carry (issue 18,
 * preload/route/sockkind.h), one row at a time, against a destination
 * reachable only through the proxy: raw and ICMP ping sockets, UDP-Lite,
 * SCTP, AF_XDP, AF_PACKET (refused at socket() or by destination), and
 * MPTCP (proxied as TCP). The companion of leakcensus.c, with the same
 * arguments and lines (census.h); test_leak_census.sh runs both.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <net/if.h>
#include <netinet/in.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "census.h"

/* An ICMP echo request (checksum left to the kernel for ping sockets,
 * computed here for raw ones). */
static size_t icmp_echo(unsigned char *b)
{
	unsigned long sum = 0;
	size_t i;

	memset(b, 0, 16);
	b[0] = 8; /* echo request */
	memcpy(b + 8, "census!!", 8);
	for (i = 0; i < 16; i += 2)
		sum += (unsigned)(b[i] << 8 | b[i + 1]);
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	b[2] = (unsigned char)(~sum >> 8);
	b[3] = (unsigned char)~sum;
	return 16;
}

/* socket(AF_INET, type, proto), then a connect (how 1) or a sendto (how
 * 0) of an ICMP echo to the destination, or to loopback (how 2: what
 * libc does must not change there). */
static int row_unproxied(int type, int proto, int how)
{
	struct sockaddr_in dst = udp_dst;
	unsigned char pkt[16];
	size_t n = icmp_echo(pkt);
	int fd = socket(AF_INET, type, proto);
	long rc;

	if (fd < 0)
		return report_errno(errno);
	if (how == 2)
		dst.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	dst.sin_port = proto == IPPROTO_UDPLITE ? dst.sin_port : 0;
	if (how == 1)
		rc = connect(fd, (struct sockaddr *)&dst, sizeof(dst));
	else
		rc = sendto(fd, pkt, n, 0, (struct sockaddr *)&dst,
			    sizeof(dst));
	if (rc < 0)
		return report_errno(errno);
	close(fd);
	return report_ok(how == 1 ? "connected" : "sent");
}

static int row_raw_icmp(int how) { return row_unproxied(SOCK_RAW, IPPROTO_ICMP, how); }
static int row_ping(int how) { return row_unproxied(SOCK_DGRAM, IPPROTO_ICMP, how); }
static int row_udplite(int how) { return row_unproxied(SOCK_DGRAM, IPPROTO_UDPLITE, how); }

/* A socket that must not be made at all: "ok made" if it was. */
static int row_made(int which)
{
	static const int spec[][3] = {
		{ AF_INET, SOCK_RAW, IPPROTO_RAW },
		{ AF_INET, SOCK_STREAM, IPPROTO_SCTP },
		{ AF_INET, SOCK_SEQPACKET, IPPROTO_SCTP },
		{ 44 /* AF_XDP */, SOCK_RAW, 0 },
	};
	int fd = socket(spec[which][0], spec[which][1], spec[which][2]);

	if (fd < 0)
		return report_errno(errno);
	close(fd);
	return report_ok("made");
}

/* AF_PACKET: an IPv4 packet to the destination, framed by the kernel
 * (SOCK_DGRAM) and broadcast on the client's interface. */
static int row_packet(int by_number)
{
	struct sockaddr_ll ll = { .sll_family = AF_PACKET,
				  .sll_protocol = htons(ETH_P_IP),
				  .sll_halen = 6 };
	unsigned char ip[20 + 16] = { 0x45, 0, 0, sizeof(ip), 0, 0, 0x40, 0,
				      64, IPPROTO_ICMP };
	int fd = by_number ? (int)syscall(SYS_socket, AF_PACKET, SOCK_DGRAM,
					  htons(ETH_P_IP)) :
			     socket(AF_PACKET, SOCK_DGRAM, htons(ETH_P_IP));

	if (fd < 0)
		return report_errno(errno);
	ll.sll_ifindex = (int)if_nametoindex("to-px");
	memset(ll.sll_addr, 0xff, 6);
	inet_pton(AF_INET, "192.0.2.2", ip + 12);
	memcpy(ip + 16, &udp_dst.sin_addr, 4);
	icmp_echo(ip + 20);
	if (sendto(fd, ip, sizeof(ip), 0, (struct sockaddr *)&ll,
		   sizeof(ll)) < 0)
		return report_errno(errno);
	close(fd);
	return report_ok("sent");
}

/* MPTCP: a TCP connection as far as SOCKS goes, so proxied. */
static int row_mptcp(int unused)
{
	int fd = socket(AF_INET, SOCK_STREAM, 262 /* IPPROTO_MPTCP */);

	(void)unused;
	if (fd < 0)
		return report_errno(errno);
	if (connect(fd, (struct sockaddr *)&tcp_dst, sizeof(tcp_dst)))
		return report_errno(errno);
	if (send(fd, "census", 6, 0) != 6)
		return report_errno(errno);
	return expect_echo(fd, "census");
}

static const struct row rows[] = {
	{ "raw-icmp-sendto", row_raw_icmp, 0 },
	{ "raw-icmp-connect", row_raw_icmp, 1 },
	{ "raw-icmp-loopback", row_raw_icmp, 2 },
	{ "ping-sendto", row_ping, 0 },
	{ "ping-connect", row_ping, 1 },
	{ "ping-loopback", row_ping, 2 },
	{ "udplite-sendto", row_udplite, 0 },
	{ "udplite-connect", row_udplite, 1 },
	{ "udplite-loopback", row_udplite, 2 },
	{ "raw-ipproto-raw", row_made, 0 },
	{ "sctp-stream", row_made, 1 },
	{ "sctp-seqpacket", row_made, 2 },
	{ "xdp", row_made, 3 },
	{ "packet-sendto", row_packet, 0 },
	{ "syscall-packet-sendto", row_packet, 1 },
	{ "mptcp-connect", row_mptcp, 0 },
};

int main(int argc, char **argv)
{
	return census_main("leakcensus-kinds", rows,
			   sizeof(rows) / sizeof(rows[0]), argc, argv);
}
