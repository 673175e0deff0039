#!/bin/bash
# UDP associations at a GSSAPI protection level (RFC 1961 section 6, the
# datagrams wrapped with the control connection's context; udp_gss.c),
# the lifetime and threading cases, through the real realm and Dante's
# GSSAPI sockd of krb5_realm.sh (the data path itself at every level is
# in test_gssapi.sh). The program is tests/tools/udp-gss.c, in $NS_CLI;
# the UDP echo is in $NS_TG, reachable only through the proxy.
#
#   churn: 201 protected associations, 40 open at once, each closed: the
#     process's VmSize ends where it was after the first (the ~256 KiB of
#     buffers of each goes with it; not judged under ASan).
#   threads: a thread blocked in recvfrom() does not hold up another's
#     recv(MSG_DONTWAIT) nor its sendto()s; 10 echoes all arrive.
#   closewait: the socket a thread waits on is closed and a new one takes
#     its association's entry: the new one's echo does not wait for the
#     old waiter, the waiter comes back, nothing crashes (ASan too).
#   forged: datagrams that claim to come from the relay (sent from the
#     relay's address and port with a raw socket in the proxy namespace)
#     but do not unwrap are dropped with a log line, and the next good
#     datagram is delivered.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/krb5_realm.sh"

unset SOCKSIFY_PROXY SOCKSIFY_NO_PROXY SOCKSIFY_LOG SOCKSIFY_LOG_FILE \
	ALL_PROXY all_proxy NO_PROXY no_proxy LD_PRELOAD

TOOL=$B/tests/tools/udp-gss
gss_prereqs gssapi-udp || finish
[ -x "$TOOL" ] || { fail setup "$TOOL missing (run make all-tests)"; finish; }

netns_up || { fail netns_up "could not build the namespaces"; finish; }
CLI=(ip netns exec "$NS_CLI")
TG=198.51.100.2
if ! gss_lab_up 2>"$T/lab.err"; then
	fail gss-lab "$(cat "$T/lab.err")"
	finish
fi
UDP_PORT=$(free_port)
NETNS=$NS_TG LISTEN=$TG start_udp_echo uecho "$UDP_PORT" ||
	{ fail udp-echo "the UDP echo server did not start"; finish; }

# run_tool LEVEL NAME ARGS...: the tool through the library at LEVEL;
# PASS/FAIL on its last line, its output in $T/NAME.out.
run_tool() {
	local enc=$1 name=$2 port last
	shift 2
	eval "port=\$SOCKD_PORT_$enc"
	"${CLI[@]}" env "${SFY_PRELOAD_ENV[@]}" \
		SOCKSIFY_PROXY="socks5://proxy.test:$port?auth=gssapi&level=$enc" \
		timeout 60 "$TOOL" "$@" >"$T/$name.out" 2>"$T/$name.err"
	last=$(tail -n 1 "$T/$name.out")
	if [ "${last%% *}" = OK ]; then
		pass "$name (${last#OK })"
	else
		fail "$name" "$(tr '\n' ' ' <"$T/$name.out" | cut -c1-600); $(tail -n 3 "$T/$name.err" | tr '\n' ' ')"
	fi
}

# Under ASan its allocator keeps (quarantines) what krb5 frees, so the
# process's size says nothing there: the run checks the echoes only.
slack=1024
[ "${SANITIZE:-0}" = 1 ] && slack=-1
run_tool integrity udp-gss-churn churn "$TG" "$UDP_PORT" 5 40 $slack
run_tool integrity udp-gss-threads threads "$TG" "$UDP_PORT"
for enc in integrity confidentiality; do
	run_tool $enc "udp-gss-closewait-$enc" closewait "$TG" "$UDP_PORT"
done

# ---- a forged datagram from the relay's address -------------------------
# The client's socket accepts the relay's datagrams only from the relay's
# address and port, which an off-path sender on the proxy's network can
# still forge. Two such datagrams, sent from 192.0.2.1:<relay port> with a
# raw socket in the proxy namespace while the program waits: a
# well-framed message (01 03 len) whose token is garbage (gss_unwrap
# refuses it), and a plain SOCKS UDP datagram (no framing at all, as an
# unprotected relay would send). Both must be dropped and logged; the
# echo sent after them must arrive.
cat >"$T/forge.py" <<'EOF'
import socket, struct, sys
dst, dport, sport = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
s = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_UDP)
s.bind(("192.0.2.1", 0))
token = bytes(range(16)) * 4
framed = b"\x01\x03" + struct.pack("!H", len(token)) + token
plain = b"\x00\x00\x00\x01" + socket.inet_aton("198.51.100.2") + \
    struct.pack("!H", 7) + b"FORGED"
for payload in (framed, plain):
    udp = struct.pack("!HHHH", sport, dport, 8 + len(payload), 0) + payload
    s.sendto(udp, (dst, 0))
print("sent 2")
EOF
port=$SOCKD_PORT_integrity
rm -f "$T/forged.go"
"${CLI[@]}" env "${SFY_PRELOAD_ENV[@]}" SOCKSIFY_LOG=info \
	SOCKSIFY_PROXY="socks5://proxy.test:$port?auth=gssapi&level=integrity" \
	timeout 60 "$TOOL" forged "$TG" "$UDP_PORT" "$T/forged.go" \
	>"$T/forged.out" 2>"$T/forged.err" &
fpid=$!
_sfy_track $fpid
for ((i = 0; i < 200; i++)); do
	grep -q '^ready' "$T/forged.out" 2>/dev/null && break
	sleep 0.05
done
cport=$(sed -n 's/^ready \([0-9]*\)$/\1/p' "$T/forged.out")
rport=$(grep -o 'relay 192\.0\.2\.1:[0-9]*' "$T/forged.err" | head -n 1 | cut -d: -f2)
sent=
if [ -n "$cport" ] && [ -n "$rport" ]; then
	sent=$(ip netns exec "$NS_PX" "$PY" "$T/forge.py" 192.0.2.2 "$cport" \
		"$rport" 2>>"$T/forged.err")
	sleep 0.2 # the two are queued before the echo asked for next
fi
touch "$T/forged.go"
wait $fpid
last=$(tail -n 1 "$T/forged.out")
if [ "$sent" = "sent 2" ] && [ "${last%% *}" = OK ] &&
	grep -q "dropped a datagram from the relay that does not unwrap" "$T/forged.err" &&
	grep -q "dropped a datagram from the relay that is not one protected message" "$T/forged.err"; then
	pass "udp-gss-forged (2 forged from the relay's 192.0.2.1:$rport dropped and logged; then: ${last#OK forged: })"
else
	fail udp-gss-forged "sent '${sent:-nothing}' (client port ${cport:-?}, relay port ${rport:-?}); $(tr '\n' ' ' <"$T/forged.out"); $(grep -i 'dropped\|GSSAPI' "$T/forged.err" | tail -n 3 | tr '\n' ' ')"
fi

finish
