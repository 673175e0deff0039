#!/usr/bin/env bash
#
# UDP through dante-server's relay (UDP ASSOCIATE), IPv4 and IPv6, for
# unmodified programs: python3 (sendto/recvfrom, connect+send/recv,
# write/read, writev/readv, sendmsg/recvmsg with ancillary data, MSG_PEEK,
# MSG_TRUNC, non-blocking, EMSGSIZE, remote DNS names), a C program with
# sendmmsg/recvmmsg (500 datagrams in flight), dig, nc -u; a foreign
# sender's datagram never reaches the program; the association lives as
# long as the socket and its copies (dup, close_range, fork); a proxy that
# drops the association makes later sends fail with ENETDOWN.
#
# Proof that datagrams went through the relay:
#   as root with namespaces: the program runs in $NS_CLI, which reaches
#     only the proxy namespace; the targets live in $NS_TG, reachable only
#     from the proxy. A reply can only have come through the relay, and
#     the target logs the proxy (198.51.100.1 / 2001:db8:2::1) as sender.
#   as root without namespaces: all on loopback, danted going out from
#     127.0.0.2, so the target's log tells the proxy from the program.
# dante-server runs only as root here; without root every case is SKIP.
. "$(dirname "$0")/lib.sh"

unset SOCKSIFY_PROXY SOCKSIFY_NO_PROXY SOCKSIFY_LOG SOCKSIFY_LOG_FILE \
	SOCKSIFY_UDP SOCKSIFY_DNS ALL_PROXY all_proxy NO_PROXY no_proxy LD_PRELOAD

HERE=$(cd "$(dirname "$0")" && pwd)
CLIENT=$HERE/udp_client.py
MMSG=$B/tests/tools/udp-mmsg

if [ "$(id -u)" != 0 ]; then
	skip udp "dante-server, the UDP ASSOCIATE server of these tests, runs only as root"
	finish
fi
for f in "$B/libsocksify.so" "$MMSG"; do
	[ -e "$f" ] || { fail setup "$f missing (run make all-tests)"; finish; }
done

if is_root; then
	TOPO=netns
	netns_up || { fail netns_up "could not build the namespaces"; finish; }
	CLI=(ip netns exec "$NS_CLI")
	PXNS=$NS_PX TGNS=$NS_TG
	PX4=192.0.2.1 PX6=2001:db8:1::1
	TG4=198.51.100.2 TG6=2001:db8:2::2
	PEER4=198.51.100.1 PEER6=2001:db8:2::1
	OUT="198.51.100.1 2001:db8:2::1"
	NOPX=()
	FOREIGN=192.0.2.2
else
	TOPO=loopback
	CLI=(env)
	PXNS= TGNS=
	PX4=127.0.0.1 PX6=
	TG4=127.0.0.1 TG6=
	PEER4=127.0.0.2 PEER6=
	OUT=127.0.0.2
	NOPX=(SOCKSIFY_NO_PROXY=)
	FOREIGN=127.0.0.3
fi
echo "# topology: $TOPO"

DANTE=$(free_port) DANTE6=$(free_port) DOOMED=$(free_port)
U4=$(free_port) U6=$(free_port)
ok=1
NETNS=$PXNS LISTEN=$PX4 EXTERNAL=$OUT start_danted dante "$DANTE" || ok=0
NETNS=$PXNS LISTEN=$PX4 EXTERNAL=$OUT start_danted doomed "$DOOMED" || ok=0
NETNS=$TGNS LISTEN=$TG4 start_udp_echo echo4 "$U4" || ok=0
if [ $TOPO = netns ]; then
	NETNS=$PXNS LISTEN=$PX6 EXTERNAL=$OUT start_danted dante6 "$DANTE6" || ok=0
	NETNS=$TGNS LISTEN=$TG6 start_udp_echo echo6 "$U6" || ok=0
fi
[ $ok = 1 ] || { fail setup "could not start the servers"; finish; }
PROXY4=socks5://$PX4:$DANTE
PROXY6=socks5://[$PX6]:$DANTE6

# sfy ENV... -- CMD...: CMD in the client's place with the preload.
sfy() {
	local vars=()
	while [ "$1" != -- ]; do
		vars+=("$1")
		shift
	done
	shift
	"${CLI[@]}" env "${SFY_PRELOAD_ENV[@]}" "${NOPX[@]}" "${vars[@]}" \
		timeout 30 "$@"
}

# client PROXY MODE HOST PORT [ARG]: udp_client.py's last line.
client() {
	local px=$1
	shift
	sfy SOCKSIFY_PROXY="$px" -- "$PY" "$CLIENT" "$@" 2>"$T/client.err" |
		tail -n 1
}

lines() { wc -l <"$T/$1.peers"; }

# expect NAME OUTPUT-PATTERN OUTPUT ECHO BEFORE PEER: the output matches,
# the echo server got new datagrams, all of them from PEER (the proxy).
expect() {
	local name=$1 pat=$2 out=$3 echo=$4 before=$5 peer=$6 new
	# shellcheck disable=SC2053
	if [[ $out != $pat ]]; then
		fail "$name" "got '$out'; stderr: $(head -c 400 "$T/client.err")"
		return
	fi
	new=$(tail -n +"$((before + 1))" "$T/$echo.peers" | cut -d' ' -f1 | sort -u)
	if [ -z "$new" ]; then
		fail "$name" "the target received nothing"
	elif [ "$new" != "$peer" ]; then
		fail "$name" "the target saw $(echo $new) instead of the proxy $peer"
	else
		pass "$name"
	fi
}

# ---- IPv4 -------------------------------------------------------------------
n=$(lines echo4)
out=$(client "$PROXY4" sendto "$TG4" "$U4")
expect v4_sendto_recvfrom "OK $TG4 $U4" "$out" echo4 "$n" "$PEER4"

n=$(lines echo4)
out=$(client "$PROXY4" mapped "$TG4" "$U4")
expect v4_mapped_on_an_ipv6_socket "OK ::ffff:$TG4 $U4" "$out" echo4 "$n" "$PEER4"

n=$(lines echo4)
out=$(client "$PROXY4" connect "$TG4" "$U4")
expect v4_connected_send_recv_write_read_getpeername \
	"OK $TG4 $U4 peer $TG4 $U4" "$out" echo4 "$n" "$PEER4"

n=$(lines echo4)
out=$(client "$PROXY4" sendmsg "$TG4" "$U4")
expect v4_sendmsg_recvmsg_iovecs_ancillary "OK $TG4 $U4" "$out" echo4 "$n" "$PEER4"

n=$(lines echo4)
out=$(client "$PROXY4" peek "$TG4" "$U4")
expect v4_peek_trunc_nonblocking "OK $TG4 $U4" "$out" echo4 "$n" "$PEER4"

n=$(lines echo4)
out=$(client "$PROXY4" big "$TG4" "$U4")
expect v4_emsgsize_and_8000_bytes "OK $TG4 $U4" "$out" echo4 "$n" "$PEER4"

n=$(lines echo4)
out=$(sfy SOCKSIFY_PROXY="$PROXY4" -- "$MMSG" "$TG4" "$U4" 500 2>"$T/client.err")
expect v4_sendmmsg_recvmmsg_500_in_flight "sent 500 received 500 dup 0 bad 0" \
	"$out" echo4 "$n" "$PEER4"

n=$(lines echo4)
out=$(sfy SOCKSIFY_PROXY="$PROXY4" -- "$MMSG" -c "$TG4" "$U4" 100 2>"$T/client.err")
expect v4_connected_sendmmsg_recvmmsg "sent 100 received 100 dup 0 bad 0" \
	"$out" echo4 "$n" "$PEER4"

n=$(lines echo4)
out=$(sfy SOCKSIFY_PROXY="$PROXY4" -- sh -c \
	"printf 'hello-nc\n' | nc -u -w 2 $TG4 $U4" 2>"$T/client.err")
expect v4_nc_u "hello-nc" "$out" echo4 "$n" "$PEER4"

n=$(lines echo4)
out=$(client "$PROXY4" lifecycle "$TG4" "$U4")
expect association_follows_dup_closerange_fork "OK lifecycle" "$out" echo4 "$n" "$PEER4"

# A datagram from another local socket to the program's port: dropped.
mkdir -p "$T/foreign"
sfy SOCKSIFY_PROXY="$PROXY4" -- "$PY" "$CLIENT" foreign "$TG4" "$U4" \
	"$T/foreign" >"$T/foreign.out" 2>"$T/client.err" &
cpid=$!
for ((i = 0; i < 100; i++)); do
	[ -f "$T/foreign/port" ] && break
	sleep 0.05
done
if [ -f "$T/foreign/port" ]; then
	"${CLI[@]}" "$PY" -c "
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(('$FOREIGN', 0))
s.sendto(b'EVIL', ('$FOREIGN', int(sys.argv[1])))" "$(cat "$T/foreign/port")"
fi
touch "$T/foreign/sent"
wait "$cpid"
out=$(tail -n 1 "$T/foreign.out")
[ "$out" = "OK dropped" ] && pass foreign_sender_dropped ||
	fail foreign_sender_dropped "got '$out'; stderr: $(head -c 300 "$T/client.err")"

# The proxy goes away: the next send fails with ENETDOWN, and says so.
mkdir -p "$T/dead"
sfy SOCKSIFY_PROXY="socks5://$PX4:$DOOMED" -- "$PY" "$CLIENT" dead "$TG4" "$U4" \
	"$T/dead" >"$T/dead.out" 2>"$T/dead.err" &
cpid=$!
for ((i = 0; i < 100; i++)); do
	[ -f "$T/dead/ready" ] && break
	sleep 0.05
done
stop_pid "$SFY_PID_doomed"
touch "$T/dead/stopped"
wait "$cpid"
out=$(tail -n 1 "$T/dead.out")
if [ "$out" != "ERR ENETDOWN" ]; then
	fail association_dropped_by_proxy "got '$out'; stderr: $(head -c 300 "$T/dead.err")"
elif ! grep -q "proxy closed the UDP association" "$T/dead.err"; then
	fail association_dropped_by_proxy "no log line; stderr: $(cat "$T/dead.err")"
else
	pass association_dropped_by_proxy
fi

# ---- dig: its own event loop (libuv sends with syscall(SYS_sendmmsg)) --------
DNSPORT=53
[ $TOPO = netns ] || DNSPORT=$(free_port)
dns_pre=(env)
[ -n "$TGNS" ] && dns_pre=(ip netns exec "$TGNS")
: >"$T/dns.peers"
"${dns_pre[@]}" "$PY" "$HERE/dns_responder.py" "$TG4" "$DNSPORT" "$T/dns.peers" \
	>>"$T/dns.log" 2>&1 &
_sfy_track $!
for ((i = 0; i < 100; i++)); do
	[ -n "$("${dns_pre[@]}" ss -Hlun "sport = :$DNSPORT")" ] && break
	sleep 0.05
done
if ! sfy_preload_works dig -v; then
	skip dig_udp "dig hangs before main with the ASan runtime preloaded (sanitizer limitation)"
else
	for px in "socks5://$PX4:$DANTE" "socks5h://$PX4:$DANTE"; do
		name=dig_udp_${px%%:*}
		n=$(lines dns)
		out=$(sfy SOCKSIFY_PROXY="$px" -- dig +short +tries=1 +time=3 \
			-p "$DNSPORT" "@$TG4" host.test A 2>"$T/client.err")
		expect "$name" "203.0.113.7" "$out" dns "$n" "$PEER4"
	done
fi

# ---- local DNS (socks5://): glibc's resolver reaches its name server ---------
# only through the relay (namespaces only: the client's resolv.conf names
# 198.51.100.2, which only the proxy reaches).
if [ $TOPO = netns ]; then
	mkdir -p "/etc/netns/$NS_CLI"
	printf 'nameserver %s\noptions timeout:2 attempts:1\n' "$TG4" \
		>"/etc/netns/$NS_CLI/resolv.conf"
	n=$(lines dns)
	out=$(sfy SOCKSIFY_PROXY="socks5://$PX4:$DANTE" -- "$PY" -c "
import socket
a = socket.getaddrinfo('one.test', 80, socket.AF_INET, socket.SOCK_STREAM)[0][4][0]
b = socket.gethostbyname('two.test')
print(a, b)" 2>"$T/client.err")
	expect local_dns_resolver_through_the_relay "203.0.113.7 203.0.113.7" \
		"$out" dns "$n" "$PEER4"
	n=$(lines dns)
	out=$(sfy SOCKSIFY_PROXY="socks5://$PX4:$DANTE" -- getent hosts three.test \
		2>"$T/client.err" | awk '{print $1}')
	expect local_dns_getent "2001:db8::7" "$out" dns "$n" "$PEER4"
	# The control: without us the resolver cannot reach that server.
	if "${CLI[@]}" timeout 20 getent hosts four.test >/dev/null 2>&1; then
		fail local_dns_control "resolved without the proxy: the topology leaks"
	else
		pass local_dns_control
	fi
	rm -rf "/etc/netns/$NS_CLI"
fi

# ---- IPv6 and remote DNS (namespaces only) ----------------------------------
if [ $TOPO = netns ]; then
	n=$(lines echo6)
	out=$(client "$PROXY6" sendto "$TG6" "$U6")
	expect v6_sendto_recvfrom "OK $TG6 $U6" "$out" echo6 "$n" "$PEER6"

	n=$(lines echo6)
	out=$(client "$PROXY6" connect "$TG6" "$U6")
	expect v6_connected_send_recv_write_read_getpeername \
		"OK $TG6 $U6 peer $TG6 $U6" "$out" echo6 "$n" "$PEER6"

	n=$(lines echo6)
	out=$(client "$PROXY6" sendmsg "$TG6" "$U6")
	expect v6_sendmsg_recvmsg_iovecs_ancillary "OK $TG6 $U6" "$out" echo6 "$n" "$PEER6"

	n=$(lines echo6)
	out=$(sfy SOCKSIFY_PROXY="$PROXY6" -- "$MMSG" -6 "$TG6" "$U6" 500 2>"$T/client.err")
	expect v6_sendmmsg_recvmmsg_500_in_flight "sent 500 received 500 dup 0 bad 0" \
		"$out" echo6 "$n" "$PEER6"

	# An IPv6 socket through an IPv4 proxy, to an IPv4 target.
	n=$(lines echo4)
	out=$(client "$PROXY4" mapped "$TG4" "$U4")
	expect v6_socket_via_ipv4_proxy "OK ::ffff:$TG4 $U4" "$out" echo4 "$n" "$PEER4"

	# target.test resolves only in the proxy's namespace.
	n=$(lines echo4)
	out=$(client "socks5h://$PX4:$DANTE" name target.test "$U4")
	expect remote_dns_name_through_the_relay "OK 198.1[89].* 198.1[89].*" "$out" \
		echo4 "$n" "$PEER4"
fi

finish
