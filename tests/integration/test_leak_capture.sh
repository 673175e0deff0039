#!/usr/bin/env bash
#
# The leak capture that lib.sh runs in every namespace test must be able
# to fail. Control case, in a throwaway pair of namespaces (A, with a
# route to elsewhere through B): with tcpdump on A's link, A sends
#   - what is allowed: UDP and TCP to B's own addresses (the "proxy"),
#     plus the ARP and IPv6 neighbour discovery the kernel does by itself;
#   - what is not: a UDP datagram to 198.51.100.53:53 (a direct DNS query),
#     a TCP SYN to 198.51.100.80:80, a UDP datagram to [2001:db8:8::9]:9
#     and an ICMP echo to 198.51.100.7.
# The scanner must report exactly the forbidden ones, and nothing else.
# Then the real topology: the capture of netns_up itself runs (its
# verdict is the "leak-capture" case printed by finish).

. "$(dirname "$0")/lib.sh"

if ! is_root; then
	skip leak-capture-control "needs root and ip netns"
	finish
fi
command -v tcpdump >/dev/null 2>&1 || { fail setup "tcpdump missing"; finish; }

A=sfy-lka-$$
BNS=sfy-lkb-$$
trap 'sfy_rc=$?; ip netns del "$A" 2>/dev/null; ip netns del "$BNS" 2>/dev/null; (exit $sfy_rc); _sfy_cleanup' EXIT
ip netns add "$A" && ip netns add "$BNS" &&
	ip -n "$A" link add va type veth peer name vb netns "$BNS" &&
	ip -n "$A" link set lo up && ip -n "$BNS" link set lo up &&
	ip -n "$A" addr add 203.0.113.1/24 dev va &&
	ip -n "$A" addr add 2001:db8:9::1/64 dev va nodad &&
	ip -n "$BNS" addr add 203.0.113.2/24 dev vb &&
	ip -n "$BNS" addr add 2001:db8:9::2/64 dev vb nodad &&
	ip -n "$A" link set va up && ip -n "$BNS" link set vb up &&
	ip -n "$A" route add 198.51.100.0/24 via 203.0.113.2 &&
	ip -n "$A" route add 2001:db8:8::/64 via 2001:db8:9::2 ||
	{ fail setup "throwaway namespaces"; finish; }
# Bounded wait for the link, and for IPv6 to be usable on both ends (no
# tentative address left), so that every packet below does go out.
for ((i = 0; i < 100; i++)); do
	if ip -n "$A" -o link show va | grep -q LOWER_UP &&
		[ -z "$(ip -n "$A" -6 addr show dev va tentative)" ] &&
		[ -z "$(ip -n "$BNS" -6 addr show dev vb tentative)" ]; then
		break
	fi
	sleep 0.05
done

sfy_capture_start "$A" va "$T/control.pcap" || { fail setup "tcpdump in $A"; finish; }
CAP=$SFY_CAPTURE_PID
MAC=$(sfy_mac "$A" va)

LP=$(free_port)
NETNS=$BNS LISTEN=203.0.113.2 start_tcp_echo allowed "$LP" ||
	{ fail setup "listener in $BNS"; finish; }

timeout 20 ip netns exec "$A" "$PY" - "$LP" <<'EOF'
import socket, sys
lp = int(sys.argv[1])
# allowed: the "proxy" (B's own addresses)
s = socket.create_connection(("203.0.113.2", lp), timeout=3)
s.sendall(b"hello")
s.recv(10)
s.close()
u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
u.sendto(b"allowed", ("203.0.113.2", 9))
u6 = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
u6.sendto(b"allowed", ("2001:db8:9::2", 9))
# forbidden: anything else
u.sendto(b"\x12\x34\x01\x00\x00\x01\x00\x00\x00\x00\x00\x00", ("198.51.100.53", 53))
u6.sendto(b"leak", ("2001:db8:8::9", 9))
t = socket.socket()
t.settimeout(0.3)
try:
    t.connect(("198.51.100.80", 80))
except OSError:
    pass
t.close()
# an ICMP echo request, id 1 seq 1, checksum precomputed
r = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_ICMP)
r.sendto(bytes.fromhex("0800f7fd00010001"), ("198.51.100.7", 0))
EOF
sleep 0.2
sfy_capture_stop "$CAP"

out=$(sfy_leak_scan "$T/control.pcap" "$MAC" 203.0.113.2 2001:db8:9::2)
rc=$?
echo "$out" | sed 's/^/# /'
if [ "$rc" = 0 ]; then
	fail leak-capture-control-flags "the scanner saw no leak: $out"
else
	pass leak-capture-control-flags
fi
for want in "udp 203.0.113.1:[0-9]* > 198.51.100.53:53" \
	"udp 2001:db8:9::1:[0-9]* > 2001:db8:8::9:9" \
	"tcp 203.0.113.1:[0-9]* > 198.51.100.80:80" \
	"icmp 203.0.113.1 > 198.51.100.7"; do
	if grep -q "leak: $want\$" <<<"$out"; then
		pass "leak-capture-control-names '${want//\[0-9\]\*/N}'"
	else
		fail "leak-capture-control-names '${want//\[0-9\]\*/N}'" "not reported: $out"
	fi
done
# Nothing allowed reported: every leak line names a forbidden address.
if grep "leak: " <<<"$out" | grep -qE '> (203\.0\.113\.2|2001:db8:9::2)[: ]|> (ff02|fe80)'; then
	fail leak-capture-control-precise "an allowed packet was reported: $out"
elif ! grep -q "leak: udp 203.0.113.1" <<<"$(sfy_leak_scan "$T/control.pcap" "$MAC" 2001:db8:9::2)"; then
	fail leak-capture-control-precise "with only the IPv6 address allowed, traffic to 203.0.113.2 must show"
else
	pass leak-capture-control-precise
fi
# Frames that B sent (its answers) are not A's.
sent=$(sed -n 's/.* sent=\([0-9]*\) .*/\1/p' <<<"$out")
frames=$(sed -n 's/^frames=\([0-9]*\) .*/\1/p' <<<"$out")
if [ -n "$sent" ] && [ -n "$frames" ] && [ "$sent" -lt "$frames" ]; then
	pass leak-capture-control-direction
else
	fail leak-capture-control-direction "frames=$frames sent=$sent"
fi

# The real topology: netns_up starts the capture, finish judges it.
netns_up || { fail setup netns_up; finish; }
PX=$(free_port)
NETNS=$NS_PX LISTEN=192.0.2.1 start_tcp_echo px "$PX" || { fail setup "px listener"; finish; }
got=$(timeout 20 ip netns exec "$NS_CLI" "$PY" -c '
import socket, sys
s = socket.create_connection(("192.0.2.1", int(sys.argv[1])), timeout=3)
s.sendall(b"to-the-proxy")
print(s.recv(100).decode())' "$PX" 2>&1)
[ "$got" = to-the-proxy ] && pass netns-traffic-to-proxy ||
	fail netns-traffic-to-proxy "got '$got'"

finish
