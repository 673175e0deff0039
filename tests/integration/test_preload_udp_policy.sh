#!/usr/bin/env bash
#
# Datagrams under SOCKSIFY_UDP: "proxy" (the default) needs the proxy's
# UDP ASSOCIATE and fails closed when the proxy cannot be reached (no
# proxy runs here: test_udp.sh has the working relay), "direct" lets them
# out, "block" fails with ENETUNREACH and a log line, a chain refuses UDP
# unless SOCKSIFY_UDP=first-hop; bypassed destinations and DNS to a
# loopback resolver always go out. A UDP echo server logs each datagram's
# sender, so "nothing went out" is checked at the receiving end.

. "$(dirname "$0")/lib.sh"

cat >"$T/udp.py" <<'EOF'
import ctypes, errno, socket, struct, sys

def ename(e):
    return errno.errorcode.get(e.errno, str(e.errno))

mode, host, port = sys.argv[1], sys.argv[2], int(sys.argv[3])
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.settimeout(3)
try:
    if mode == "sendto":
        s.sendto(b"ping", (host, port))
    elif mode == "sendmsg":
        s.sendmsg([b"ping"], [], 0, (host, port))
    elif mode == "connect":
        s.connect((host, port))
        s.send(b"ping")
    elif mode == "sendmmsg":
        libc = ctypes.CDLL(None, use_errno=True)
        sa = struct.pack("=H", socket.AF_INET) + struct.pack("!H", port) + \
            socket.inet_aton(host) + b"\0" * 8
        sab = ctypes.create_string_buffer(sa, len(sa))
        data = ctypes.create_string_buffer(b"ping", 4)
        class iovec(ctypes.Structure):
            _fields_ = [("base", ctypes.c_void_p), ("len", ctypes.c_size_t)]
        class msghdr(ctypes.Structure):
            _fields_ = [("name", ctypes.c_void_p), ("namelen", ctypes.c_uint),
                        ("iov", ctypes.POINTER(iovec)), ("iovlen", ctypes.c_size_t),
                        ("control", ctypes.c_void_p), ("controllen", ctypes.c_size_t),
                        ("flags", ctypes.c_int)]
        class mmsghdr(ctypes.Structure):
            _fields_ = [("hdr", msghdr), ("len", ctypes.c_uint)]
        iov = iovec(ctypes.cast(data, ctypes.c_void_p), 4)
        m = mmsghdr(msghdr(ctypes.cast(sab, ctypes.c_void_p), len(sa),
                           ctypes.pointer(iov), 1, None, 0, 0), 0)
        rc = libc.sendmmsg(s.fileno(), ctypes.byref(m), 1, 0)
        if rc < 0:
            e = ctypes.get_errno()
            raise OSError(e, "sendmmsg")
    data, _ = s.recvfrom(100)
    print("OK" if data == b"ping" else "BAD")
except OSError as e:
    print("ERR", ename(e))
EOF

run_udp() { # [VAR=VALUE...] -- MODE HOST PORT
	local vars=()
	while [ "$1" != -- ]; do
		vars+=("$1")
		shift
	done
	shift
	env -u SOCKSIFY_NO_PROXY -u NO_PROXY -u no_proxy -u SOCKSIFY_UDP \
		-u SOCKSIFY_LOG -u SOCKSIFY_LOG_FILE "${SFY_PRELOAD_ENV[@]}" \
		SOCKSIFY_PROXY="socks5://127.0.0.1:$PX" "${vars[@]}" \
		timeout 30 "$PY" "$T/udp.py" "$@" 2>"$T/udp.err"
}

peers() { wc -l <"$T/$1.peers"; }

# check NAME OUTPUT WANT PEERS-BEFORE PEERS-NOW-EXPECTED-CHANGE(yes|no)
check() {
	local name=$1 out=$2 want=$3 before=$4 moved=$5 now
	now=$(peers uecho)
	if [ "$out" != "$want" ]; then
		fail "$name" "got '$out', want '$want'; stderr: $(head -c 300 "$T/udp.err")"
	elif [ "$moved" = yes ] && [ "$now" = "$before" ]; then
		fail "$name" "the echo server received nothing"
	elif [ "$moved" = no ] && [ "$now" != "$before" ]; then
		fail "$name" "a datagram went out"
	else
		pass "$name"
	fi
}

if [ ! -f "$B/libsocksify.so" ]; then
	fail setup "$B/libsocksify.so missing (run make)"
	finish
fi

U=$(free_port)
PX=$(free_port) # no proxy needs to run: nothing here may reach it
start_udp_echo uecho "$U" || { fail setup "udp echo"; finish; }

for mode in sendto sendmsg connect sendmmsg; do
	n=$(peers uecho)
	out=$(run_udp SOCKSIFY_NO_PROXY= -- "$mode" 127.0.0.1 "$U")
	check "proxy_down_fails_closed_$mode" "$out" "ERR ECONNREFUSED" "$n" no
done
grep -q "UDP ASSOCIATE at socks5://127.0.0.1:$PX failed" "$T/udp.err" &&
	pass proxy_down_says_why ||
	fail proxy_down_says_why "stderr: $(cat "$T/udp.err")"

n=$(peers uecho)
out=$(run_udp SOCKSIFY_NO_PROXY= SOCKSIFY_PROXY="socks5://127.0.0.1:$PX,socks5://127.0.0.1:$PX" -- sendto 127.0.0.1 "$U")
check chain_refuses_udp "$out" "ERR ENETUNREACH" "$n" no
grep -q "SOCKSIFY_UDP=first-hop" "$T/udp.err" && pass chain_says_how ||
	fail chain_says_how "stderr: $(cat "$T/udp.err")"

n=$(peers uecho)
out=$(run_udp SOCKSIFY_NO_PROXY= SOCKSIFY_UDP=first-hop SOCKSIFY_PROXY="socks5://127.0.0.1:$PX,socks5://127.0.0.1:$PX" -- sendto 127.0.0.1 "$U")
check chain_first_hop_tries_the_first_hop "$out" "ERR ECONNREFUSED" "$n" no

n=$(peers uecho)
out=$(run_udp SOCKSIFY_NO_PROXY= SOCKSIFY_UDP=block -- sendto 127.0.0.1 "$U")
check block_mode "$out" "ERR ENETUNREACH" "$n" no
grep -q "SOCKSIFY_UDP=block" "$T/udp.err" && pass block_mode_logged ||
	fail block_mode_logged "stderr: $(cat "$T/udp.err")"

n=$(peers uecho)
out=$(run_udp SOCKSIFY_NO_PROXY= SOCKSIFY_UDP=direct -- sendto 127.0.0.1 "$U")
check direct_mode "$out" "OK" "$n" yes

n=$(peers uecho)
out=$(run_udp SOCKSIFY_UDP=block -- sendto 127.0.0.1 "$U")
check loopback_bypassed_by_default "$out" "OK" "$n" yes

n=$(peers uecho)
out=$(run_udp SOCKSIFY_NO_PROXY= SOCKSIFY_UDP=block -- sendto 198.18.0.7 "$U")
check fake_address_never_sent "$out" "ERR ENETUNREACH" "$n" no

n=$(peers uecho)
out=$(run_udp SOCKSIFY_PROXY="socks5://127.0.0.1:99999" SOCKSIFY_NO_PROXY= SOCKSIFY_UDP=direct -- sendto 127.0.0.1 "$U")
check broken_config_fails_closed "$out" "ERR ECONNREFUSED" "$n" no

# DNS to a resolver on loopback goes out even when everything is proxied.
DNSIP=
for i in 91 92 93 94 95; do
	if [ -z "$(ss -Hlun "src 127.0.0.$i:53" 2>/dev/null)" ]; then
		DNSIP=127.0.0.$i
		break
	fi
done
if [ -n "$DNSIP" ] && LISTEN=$DNSIP start_udp_echo dns 53; then
	n=$(peers dns)
	out=$(run_udp SOCKSIFY_NO_PROXY= SOCKSIFY_UDP=block -- sendto "$DNSIP" 53)
	if [ "$out" = OK ] && [ "$(peers dns)" != "$n" ]; then
		pass loopback_dns_passes
	else
		fail loopback_dns_passes "got '$out'; stderr: $(cat "$T/udp.err")"
	fi
else
	fail loopback_dns_passes "could not start a UDP server on a loopback port 53"
fi

finish
