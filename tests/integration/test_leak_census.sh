#!/usr/bin/env bash
#
# The leak census (issue 18): tests/tools/leakcensus tries every way out a
# program has (each hooked call, the same calls by syscall() number,
# io_uring, the asynchronous and low-level resolvers, reverse lookups) and
# tests/tools/leakcensus-kinds every socket kind SOCKS cannot carry,
# against a destination reachable only through the proxy, in the namespace
# topology with the wire capture, under socks5h:// (remote DNS, the target
# by name) and socks5:// (local DNS, the target by number). The client
# namespace has a default route through the proxy's namespace (which does
# not forward) and a name server behind it (198.51.100.53, where nothing
# answers), so anything that would leave direct is on the wire: lib.sh's
# leak_check fails the test on any packet that is not to the proxy.
#
# Each row also has an expected outcome: "ok" (proxied, the echo came
# back) or "refused ERRNO". Add a row here with every row of the program.
set -u
. "$(dirname "$0")/lib.sh"

CENSUS=$B/tests/tools/leakcensus
KINDS=$B/tests/tools/leakcensus-kinds
URING=$B/tests/tools/leakcensus-uring
if [ ! -x "$CENSUS" ] || [ ! -x "$KINDS" ] || [ ! -x "$URING" ] ||
	[ ! -f "$SFY_LIB" ] || [ ! -x "$B/socksify" ]; then
	fail setup "$CENSUS, $KINDS, $URING, $SFY_LIB or $B/socksify not built (make all-tests)"
	finish
fi
if ! is_root; then
	skip leak-census "needs root and ip netns"
	finish
fi

# ROW OUTCOME DETAIL: the line each row must print under the library
# (both schemes) is "OUTCOME ROW DETAIL".
ROWS=(
	"connect ok echo"
	"syscall-connect ok echo"
	"tfo-sendto ok echo"
	"syscall-tfo-sendto ok echo"
	"udp-sendto ok echo"
	"syscall-sendto ok echo"
	"udp-sendmsg ok echo"
	"syscall-sendmsg ok echo"
	"udp-sendmmsg ok echo"
	"syscall-sendmmsg ok echo"
	"io_uring-setup refused ENOSYS"
	"io_uring-fallback ok fallback"
	"getaddrinfo_a-wait ok echo"
	"getaddrinfo_a-signal ok echo"
	"getaddrinfo_a-thread ok echo"
	"res_query-a ok echo"
	"res_query-aaaa ok aaaa"
	"res_query-mx refused NO_RECOVERY"
	"res_search-a ok echo"
	"res_send-a ok echo"
	"res_send-mx refused NO_RECOVERY"
	"getnameinfo refused EAI_AGAIN"
	"getnameinfo-namereqd refused EAI_AGAIN"
	"getnameinfo-hosts ok hosted.test"
	"gethostbyaddr refused TRY_AGAIN"
	"gethostbyaddr_r refused TRY_AGAIN"
	# A program's own DNS to the name server of resolv.conf, port 53
	# (preload/dns/dns53.h): answered by the library, from the name
	# server's address.
	"dns53-sendto ok echo"
	"syscall-dns53-sendto ok echo"
	"dns53-sendmsg ok echo"
	"dns53-sendmmsg ok echo"
	"dns53-connect-send ok echo"
	"dns53-tcp ok echo"
	"dns53-syscall-recvfrom ok echo"
	"dns53-syscall-recvmsg ok echo"
	# Sockets SOCKS cannot carry (preload/route/sockkind.h): refused at
	# socket() or, by destination, at connect/sendto; loopback as libc.
	"raw-icmp-sendto refused ENETUNREACH"
	"raw-icmp-connect refused ENETUNREACH"
	"raw-icmp-loopback ok sent"
	"ping-sendto refused ENETUNREACH"
	"ping-connect refused ENETUNREACH"
	"ping-loopback ok sent"
	"udplite-sendto refused ENETUNREACH"
	"udplite-connect refused ENETUNREACH"
	"udplite-loopback ok sent"
	"raw-ipproto-raw refused EPERM"
	"sctp-stream refused EPROTONOSUPPORT"
	"sctp-seqpacket refused ESOCKTNOSUPPORT"
	"xdp refused EPERM"
	"packet-sendto refused EPERM"
	"syscall-packet-sendto refused EPERM"
	"mptcp-connect ok echo"
)
# io_uring through liburing (tests/tools/leakcensus-uring.c): its system
# calls are its own instructions, so only the socksify command's seccomp
# filter (tools/ioring.c) refuses them; these rows run under the command.
URING_ROWS=(
	"uring-connect refused ENOSYS"
	"uring-sendmsg refused ENOSYS"
	"uring-fallback ok fallback"
)
# SOCKSIFY_UDP=direct is about UDP: these stay refused under it.
UDP_DIRECT_ROWS=(raw-icmp-sendto ping-sendto ping-connect udplite-sendto)
# Where socks5:// (local DNS, the target by number) gives another line:
# the resolver's queries go through the proxy's relay to the client's name
# server (198.51.100.53), where nothing answers.
declare -A LOCAL=(
	[res_query-a]="refused TRY_AGAIN"
	[res_query-aaaa]="refused TRY_AGAIN"
	[res_query-mx]="refused TRY_AGAIN"
	[res_search-a]="refused TRY_AGAIN"
	[res_send-a]="refused ETIMEDOUT"
	[res_send-mx]="refused ETIMEDOUT"
	[dns53-sendto]="refused ETIMEDOUT"
	[syscall-dns53-sendto]="refused ETIMEDOUT"
	[dns53-sendmsg]="refused ETIMEDOUT"
	[dns53-sendmmsg]="refused ETIMEDOUT"
	[dns53-connect-send]="refused ETIMEDOUT"
	[dns53-tcp]="refused EHOSTUNREACH"
	[dns53-syscall-recvfrom]="refused ETIMEDOUT"
	[dns53-syscall-recvmsg]="refused ETIMEDOUT"
)

# Which program has each row.
declare -A TOOL=()
for prog in "$CENSUS" "$KINDS"; do
	while read -r row; do TOOL[$row]=$prog; done < <("$prog" --list)
done
# Every row of the programs has an expectation here.
listed=$({ "$CENSUS" --list; "$KINDS" --list; } | sort)
known=$(printf '%s\n' "${ROWS[@]}" | awk '{print $1}' | sort)
[ "$listed" = "$known" ] && pass census-rows-complete ||
	fail census-rows-complete "program rows and script rows differ: $(diff <(echo "$listed") <(echo "$known") | tr '\n' ' ')"

[ "$("$URING" --list | sort)" = "$(printf '%s\n' "${URING_ROWS[@]}" | awk '{print $1}' | sort)" ] &&
	pass census-uring-rows-complete ||
	fail census-uring-rows-complete "leakcensus-uring's rows and URING_ROWS differ"

netns_routed_up || { fail setup "netns_routed_up"; finish; }
# ICMP datagram ("ping") sockets for root in the client namespace.
ip netns exec "$NS_CLI" sysctl -q -w net.ipv4.ping_group_range="0 0" ||
	{ fail setup "ping_group_range"; finish; }
printf 'nameserver 198.51.100.53\noptions timeout:1 attempts:1\n' \
	>"/etc/netns/$NS_CLI/resolv.conf"
printf '127.0.0.1\tlocalhost\n::1\tlocalhost\n198.51.100.9\thosted.test\n' \
	>"/etc/netns/$NS_CLI/hosts"

PX=$(free_port) TP=$(free_port) UP=$(free_port)
NETNS=$NS_TG LISTEN=198.51.100.2 start_tcp_echo echo "$TP" ||
	{ fail setup "tcp echo in $NS_TG"; finish; }
NETNS=$NS_TG LISTEN=198.51.100.2 start_udp_echo uecho "$UP" ||
	{ fail setup "udp echo in $NS_TG"; finish; }
NETNS=$NS_PX LISTEN=192.0.2.1 EXTERNAL=198.51.100.1 start_danted px "$PX" ||
	{ fail setup "danted in $NS_PX"; finish; }

census() {
	local scheme=$1 host=$2 r row outcome detail got
	for r in "${ROWS[@]}"; do
		read -r row outcome detail <<<"$r"
		[ "$scheme" = socks5 ] && [ -n "${LOCAL[$row]:-}" ] &&
			read -r outcome detail <<<"${LOCAL[$row]}"
		got=$(timeout 30 ip netns exec "$NS_CLI" env "${SFY_PRELOAD_ENV[@]}" \
			SOCKSIFY_PROXY="$scheme://192.0.2.1:$PX" \
			"${TOOL[$row]:-$CENSUS}" "$row" "$host" "$TP" "$UP" 2>"$T/err-$scheme-$row")
		[ "$got" = "$outcome $row $detail" ] && pass "census-$scheme-$row ($got)" ||
			fail "census-$scheme-$row" "want '$outcome $row $detail', got '$got' $(head -c 300 "$T/err-$scheme-$row" | tr '\n' ' ')"
	done
	# The refusal says why, on stderr.
	grep -q "io_uring_setup refused" "$T/err-$scheme-io_uring-setup" &&
		pass "census-$scheme-io_uring-logged" ||
		fail "census-$scheme-io_uring-logged" "no log line: $(cat "$T/err-$scheme-io_uring-setup")"
	grep -q "socket(AF_PACKET (17), type 2, protocol 8) refused (EPERM)" "$T/err-$scheme-packet-sendto" &&
		grep -q "ICMP to .* refused (ENETUNREACH)" "$T/err-$scheme-ping-sendto" &&
		pass "census-$scheme-unproxied-logged" ||
		fail "census-$scheme-unproxied-logged" "$(cat "$T/err-$scheme-packet-sendto" "$T/err-$scheme-ping-sendto")"
	for r in "${URING_ROWS[@]}"; do
		read -r row outcome detail <<<"$r"
		got=$(timeout 30 ip netns exec "$NS_CLI" env "${SFY_RUN_ENV[@]}" \
			"$B/socksify" -x "$scheme://192.0.2.1:$PX" \
			"$URING" "$row" "$host" "$TP" "$UP" 2>"$T/err-$scheme-$row")
		[ "$got" = "$outcome $row $detail" ] && pass "census-$scheme-$row ($got)" ||
			fail "census-$scheme-$row" "want '$outcome $row $detail', got '$got' $(head -c 300 "$T/err-$scheme-$row" | tr '\n' ' ')"
	done
	for row in "${UDP_DIRECT_ROWS[@]}"; do
		got=$(timeout 30 ip netns exec "$NS_CLI" env "${SFY_PRELOAD_ENV[@]}" \
			SOCKSIFY_PROXY="$scheme://192.0.2.1:$PX" SOCKSIFY_UDP=direct \
			"$KINDS" "$row" "$host" "$TP" "$UP" 2>/dev/null)
		[ "$got" = "refused $row ENETUNREACH" ] && pass "census-$scheme-udp-direct-$row" ||
			fail "census-$scheme-udp-direct-$row" "got '$got'"
	done
}

census socks5h target.test
census socks5 198.51.100.2

finish
