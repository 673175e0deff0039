#!/usr/bin/env bash
#
# Host names on the bypass list go direct (issue 11, defect 5).
#
# The client namespace has an "intranet" address of its own, 10.77.0.1
# (on its loopback link), where an HTTP server and a UDP echo run. The proxy (danted
# in $NS_PX) has no route to it, so a connection that goes through the
# proxy cannot reach it: reaching it proves the traffic went direct, and
# failing to reach it proves it went through the proxy. In the client's
# hosts file intra.test, www.intra.test and other.test all name 10.77.0.1;
# target.test (in $NS_TG) resolves only in the proxy's namespace.
#
#   - a listed name (SOCKSIFY_NO_PROXY=intra.test, -n .intra.test, curl's
#     rule that a name covers its subdomains) reaches the intranet host,
#     with remote DNS (socks5h) and local DNS (socks5), TCP (curl, a
#     gethostbyname_r caller) and UDP;
#   - SOCKSIFY_NO_PROXY=localhost reaches a server on the client's own
#     loopback (curl answers localhost names without libc);
#   - an unlisted name with the very same address goes through the proxy
#     (and fails), and an unlisted name the proxy resolves still works;
#   - in one process, the name resolved last decides for a shared address;
#   - with remote DNS, a listed name gets its real address, never a fake.
#
# Needs root (namespaces); skips otherwise.
set -u
. "$(dirname "$0")/lib.sh"

if ! is_root; then
	skip no-proxy "needs root and ip netns for the namespaces"
	finish
fi
if [ ! -f "$SFY_LIB" ] || [ ! -x "$B/socksify" ]; then
	fail setup "$SFY_LIB or $B/socksify not built"
	finish
fi

netns_up || { fail setup "netns_up"; finish; }
mkdir -p "/etc/netns/$NS_CLI" || { fail setup "mkdir /etc/netns/$NS_CLI"; finish; }
trap 'sfy_rc=$?; rm -rf "/etc/netns/$NS_CLI"; (exit $sfy_rc); _sfy_cleanup' EXIT
printf 'nameserver 192.0.2.1\noptions timeout:1 attempts:1\n' \
	>"/etc/netns/$NS_CLI/resolv.conf"
printf '127.0.0.1\tlocalhost\n10.77.0.1\tintra.test\n10.77.0.1\twww.intra.test\n10.77.0.1\tother.test\n' \
	>"/etc/netns/$NS_CLI/hosts"
ip -n "$NS_CLI" addr add 10.77.0.1/32 dev lo ||
	{ fail setup "intranet address in $NS_CLI"; finish; }

PX=$(free_port) HP=$(free_port) UP=$(free_port) TP=$(free_port)
mkdir -p "$T/intra" "$T/tg"
echo "hello from intra" >"$T/intra/index.html"
echo "hello from target" >"$T/tg/index.html"
NETNS=$NS_CLI LISTEN=10.77.0.1 start_http intra "$HP" "$T/intra" ||
	{ fail setup "http on 10.77.0.1"; finish; }
NETNS=$NS_CLI LISTEN=10.77.0.1 start_udp_echo uecho "$UP" ||
	{ fail setup "udp echo on 10.77.0.1"; finish; }
LP=$(free_port)
echo "hello from loopback" >"$T/lo.html"
mkdir -p "$T/lo" && mv "$T/lo.html" "$T/lo/index.html"
NETNS=$NS_CLI LISTEN=127.0.0.1 start_http lo "$LP" "$T/lo" ||
	{ fail setup "http on the client's 127.0.0.1"; finish; }
NETNS=$NS_TG LISTEN=198.51.100.2 start_http tg "$TP" "$T/tg" ||
	{ fail setup "http in $NS_TG"; finish; }
NETNS=$NS_PX LISTEN=192.0.2.1 EXTERNAL=198.51.100.1 start_danted px "$PX" ||
	{ fail setup "danted in $NS_PX"; finish; }
# wait_port's probe is not a client of ours.
: >"$T/intra.peers"

# The topology: without the library the proxy is the only way out, and it
# cannot reach the intranet address.
if ip netns exec "$NS_PX" timeout 5 curl -sS --max-time 2 \
	"http://10.77.0.1:$HP/" >/dev/null 2>&1; then
	fail topology "the proxy's namespace reaches 10.77.0.1"
	finish
fi

CURL_OK=1
if ! sfy_preload_works curl --version; then
	CURL_OK=0
fi

# run VAR=VALUE... -- CMD...: CMD in the client namespace with the library
# and a clean bypass environment; stderr in $T/run.err.
run() {
	local vars=()
	while [ "$1" != -- ]; do
		vars+=("$1")
		shift
	done
	shift
	timeout 60 ip netns exec "$NS_CLI" env -u NO_PROXY -u no_proxy \
		-u SOCKSIFY_NO_PROXY -u SOCKSIFY_DNS -u SOCKSIFY_LOG_FILE \
		"${SFY_PRELOAD_ENV[@]}" "${vars[@]}" "$@" 2>"$T/run.err"
}

peers() { wc -l <"$T/$1.peers"; }

# expect NAME OUTPUT WANT [SERVER DELTA]: OUTPUT is WANT and SERVER's peer
# log grew by DELTA lines since the count taken before (in $before).
expect() {
	local name=$1 out=$2 want=$3 srv=${4:-} delta=${5:-} now
	if [ "$out" != "$want" ]; then
		fail "$name" "got '$(tr '\n' ' ' <<<"$out" | head -c 300)', want '$want'"
		return
	fi
	if [ -n "$srv" ]; then
		now=$(peers "$srv")
		if [ "$now" != $((before + delta)) ]; then
			fail "$name" "$srv saw $((now - before)) connections, want $delta"
			return
		fi
	fi
	pass "$name"
}

H5=socks5h://192.0.2.1:$PX
L5=socks5://192.0.2.1:$PX

# curl_get PROXY NOPROXY URL...: curl's stdout, or "FAILED" when it fails.
curl_get() {
	local px=$1 np=$2
	shift 2
	run SOCKSIFY_PROXY="$px" SOCKSIFY_NO_PROXY="$np" -- \
		curl -sS --max-time 10 "$@" || echo FAILED
}

if [ "$CURL_OK" = 1 ]; then
	for mode in H5 L5; do
		px=${!mode}
		dns=$([ $mode = H5 ] && echo remote || echo local)
		before=$(peers intra)
		out=$(curl_get "$px" intra.test "http://intra.test:$HP/" | tail -n 1)
		expect "curl-listed-name-direct-$dns" "$out" "hello from intra" intra 1
		before=$(peers intra)
		out=$(curl_get "$px" intra.test "http://www.intra.test:$HP/" | tail -n 1)
		expect "curl-subdomain-of-listed-name-direct-$dns" "$out" \
			"hello from intra" intra 1
		before=$(peers intra)
		out=$(curl_get "$px" ".intra.test,192.0.2.99" "http://INTRA.test:$HP/" | tail -n 1)
		expect "curl-leading-dot-uppercase-$dns" "$out" \
			"hello from intra" intra 1
		# The same address under a name not on the list: the proxy,
		# which cannot reach it.
		before=$(peers intra)
		out=$(curl_get "$px" intra.test "http://other.test:$HP/" | tail -n 1)
		expect "curl-unlisted-name-same-address-proxied-$dns" "$out" FAILED intra 0
		before=$(peers intra)
		out=$(curl_get "$px" notintra.test,www.intra.test "http://intra.test:$HP/" | tail -n 1)
		expect "curl-parent-of-listed-name-proxied-$dns" "$out" FAILED intra 0
		# In one process: intra.test direct, then other.test (same
		# address, resolved last) through the proxy.
		before=$(peers intra)
		out=$(curl_get "$px" intra.test "http://intra.test:$HP/" \
			"http://other.test:$HP/" | tr '\n' ' ')
		expect "curl-name-resolved-last-decides-$dns" "$out" \
			"hello from intra FAILED " intra 1
		# The issue's own example: SOCKSIFY_NO_PROXY=localhost (no
		# loopback range): the client's own loopback server, which the
		# proxy's namespace does not have.
		for host in localhost app.localhost; do
			before=$(peers lo)
			out=$(curl_get "$px" localhost "http://$host:$LP/" | tail -n 1)
			expect "curl-$host-listed-direct-$dns" "$out" \
				"hello from loopback" lo 1
		done
		before=$(peers lo)
		out=$(curl_get "$px" intra.test "http://localhost:$LP/" | tail -n 1)
		expect "curl-localhost-unlisted-proxied-$dns" "$out" FAILED lo 0
	done
	# An unlisted name only the proxy reaches still goes through it.
	before=$(peers tg)
	out=$(curl_get "$H5" intra.test "http://target.test:$TP/" | tail -n 1)
	expect curl-unlisted-name-via-proxy "$out" "hello from target" tg 1
	check_peer=$(tail -n 1 "$T/tg.peers" | awk '{print $1}')
	expect target-saw-the-proxy "$check_peer" 198.51.100.1
	# The command's -n, as users write it.
	before=$(peers intra)
	out=$(timeout 60 ip netns exec "$NS_CLI" env -u NO_PROXY -u no_proxy \
		-u SOCKSIFY_NO_PROXY "${SFY_RUN_ENV[@]}" "$B/socksify" -x "$H5" \
		-n .intra.test curl -sS --max-time 10 "http://www.intra.test:$HP/" \
		2>/dev/null || echo FAILED)
	expect socksify-n-leading-dot "$out" "hello from intra" intra 1
else
	skip curl "curl does not start under the ASan runtime (without socksify either)"
fi

# gethostbyname_r (CPython's gethostbyname_ex), then a connect to the
# address it gave, and the remote-DNS answers themselves.
cat >"$T/np.py" <<'EOF'
import errno, socket, sys

what, name, port = sys.argv[1], sys.argv[2], int(sys.argv[3])
try:
    if what == "hbn":
        ip = socket.gethostbyname_ex(name)[2][0]
        s = socket.create_connection((ip, port), timeout=5)
        s.sendall(b"GET / HTTP/1.0\r\n\r\n")
        data = b""
        while True:
            d = s.recv(4096)
            if not d:
                break
            data += d
        print(data.split(b"\r\n\r\n", 1)[1].decode().strip())
    elif what == "udp":
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s.settimeout(3)
        s.sendto(b"ping", (name, port))
        print(s.recvfrom(100)[0].decode())
    elif what == "udp-connect":
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s.settimeout(3)
        s.connect((name, port))
        s.send(b"ping")
        print(s.recv(100).decode())
    elif what == "addr":
        print(" ".join(sorted({a[4][0] for a in socket.getaddrinfo(name, port)})))
except socket.timeout:
    print("ERR timeout")
except OSError as e:
    print("ERR", errno.errorcode.get(e.errno, e.errno))
EOF

for mode in H5 L5; do
	px=${!mode}
	dns=$([ $mode = H5 ] && echo remote || echo local)
	before=$(peers intra)
	out=$(run SOCKSIFY_PROXY="$px" SOCKSIFY_NO_PROXY=intra.test -- \
		"$PY" "$T/np.py" hbn intra.test "$HP")
	expect "gethostbyname-listed-name-direct-$dns" "$out" "hello from intra" intra 1
	before=$(peers intra)
	out=$(run SOCKSIFY_PROXY="$px" SOCKSIFY_NO_PROXY=intra.test -- \
		"$PY" "$T/np.py" hbn other.test "$HP")
	expect "gethostbyname-unlisted-name-proxied-$dns" "$out" "ERR ENETUNREACH" intra 0
	for op in udp udp-connect; do
		before=$(peers uecho)
		out=$(run SOCKSIFY_PROXY="$px" SOCKSIFY_NO_PROXY=intra.test -- \
			"$PY" "$T/np.py" $op intra.test "$UP")
		expect "$op-listed-name-direct-$dns" "$out" ping uecho 1
		before=$(peers uecho)
		out=$(run SOCKSIFY_PROXY="$px" SOCKSIFY_NO_PROXY=intra.test -- \
			"$PY" "$T/np.py" $op other.test "$UP")
		expect "$op-unlisted-name-proxied-$dns" "$out" "ERR timeout" uecho 0
	done
done

# Remote DNS: a listed name resolves locally to its real address, an
# unlisted one not in the hosts file gets a fake address.
out=$(run SOCKSIFY_PROXY="$H5" SOCKSIFY_NO_PROXY=intra.test -- \
	"$PY" "$T/np.py" addr www.intra.test 80)
expect remote-dns-listed-name-real-address "$out" 10.77.0.1
out=$(run SOCKSIFY_PROXY="$H5" SOCKSIFY_NO_PROXY=intra.test -- \
	"$PY" "$T/np.py" addr target.test 80)
case $out in
198.1[89].*) pass remote-dns-unlisted-name-fake-address ;;
*) fail remote-dns-unlisted-name-fake-address "got '$out'" ;;
esac

# Every peer the intranet servers saw is the client itself, never the proxy.
for srv in intra uecho; do
	if grep -qv '^10\.77\.0\.1 ' "$T/$srv.peers"; then
		fail "$srv-saw-only-direct" "peers: $(tr '\n' ' ' <"$T/$srv.peers")"
	else
		pass "$srv-saw-only-direct"
	fi
done

finish
