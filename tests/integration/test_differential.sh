#!/usr/bin/env bash
#
# The differential transparency suite: tests/tools/difftest-{addr,fd,dns}
# call every hooked function with a table of edge inputs (short and NULL addresses of
# every family and every length, bad and far descriptors, every MSG_* bit,
# iovec counts up to IOV_MAX + 1, getaddrinfo services and hints,
# getnameinfo flags and buffer sizes, ...) and print one line per case
# (tests/tools/difftest.h). They run three times against the same echo
# servers:
#
#   native     without the library;
#   bypassed   under libsocksify.so with a proxy configured, every
#              destination (loopback) bypassed, as by default;
#   proxied    the same with SOCKSIFY_NO_PROXY= (empty): every destination
#              goes through dante-server on loopback (CONNECT and UDP
#              ASSOCIATE), names through remote DNS (socks5h);
#   early      proxied with SOCKSIFY_EARLY_DATA=on: the program's first
#              bytes ride with the handshake (tcp/async.h), and no wait
#              may show it the proxy's replies as its own data.
#
# Each group of cases under each library run is compared with the native
# run: one PASS/FAIL line per group and run. A difference fails unless an
# entry of the allow-list below explains it as a documented effect of
# proxying; a FAIL prints the differing lines (native first).
#
# Everything runs in a network namespace of its own (loopback only, with
# ::1), so the ports and the kernel's answers are this test's alone.
# dante-server runs only as root: without root every case is SKIP.
. "$(dirname "$0")/lib.sh"

unset SOCKSIFY_PROXY SOCKSIFY_NO_PROXY SOCKSIFY_LOG SOCKSIFY_LOG_FILE \
	SOCKSIFY_UDP SOCKSIFY_DNS ALL_PROXY all_proxy NO_PROXY no_proxy LD_PRELOAD

DT=("$B/tests/tools/difftest-addr" "$B/tests/tools/difftest-fd"
    "$B/tests/tools/difftest-dns")

if ! is_root; then
	skip differential "dante-server and the namespace need root"
	finish
fi
for f in "$B/libsocksify.so" "${DT[@]}"; do
	[ -e "$f" ] || { fail setup "$f missing (run make all-tests)"; finish; }
done

# One namespace with loopback only; lib.sh's exit trap deletes it.
SFY_NETNS_MADE=1
ip netns add "$NS_CLI" && ip -n "$NS_CLI" link set lo up ||
	{ fail setup "could not make the namespace"; finish; }
NETNS=$NS_CLI
export NETNS

DANTE=$(free_port) TCP4=$(free_port) TCP6=$(free_port)
UDP4=$(free_port) UDP6=$(free_port)
ok=1
LISTEN=127.0.0.1 EXTERNAL="127.0.0.1 ::1" start_danted dante "$DANTE" || ok=0
LISTEN=127.0.0.1 start_tcp_echo tcp4 "$TCP4" || ok=0
LISTEN=::1 start_tcp_echo tcp6 "$TCP6" || ok=0
LISTEN=127.0.0.1 start_udp_echo udp4 "$UDP4" || ok=0
LISTEN=::1 start_udp_echo udp6 "$UDP6" || ok=0
[ $ok = 1 ] || { fail setup "could not start the servers"; finish; }

PORTS=(DT_TCP4="$TCP4" DT_TCP6="$TCP6" DT_UDP4="$UDP4" DT_UDP6="$UDP6")
PROXY=socks5h://127.0.0.1:$DANTE

# run NAME [ENV...]: the whole table, natively (NAME native) or under
# the library with the proxy configured and ENV.
run() {
	local name=$1 prog
	shift
	: >"$T/$name.out"
	for prog in "${DT[@]}"; do
		if [ "$name" = native ]; then
			ip netns exec "$NS_CLI" env "${PORTS[@]}" timeout 300 \
				"$prog" >>"$T/$name.out" 2>>"$T/$name.err"
		else
			ip netns exec "$NS_CLI" env "${SFY_PRELOAD_ENV[@]}" \
				"${PORTS[@]}" SOCKSIFY_PROXY="$PROXY" "$@" \
				timeout 300 "$prog" >>"$T/$name.out" 2>>"$T/$name.err"
		fi
		echo "# $name: ${prog##*/} exit $?"
	done
	echo "# $name: $(wc -l <"$T/$name.out") lines"
}

# The allow-list: "RUN REGEX" per line (RUN is bypassed, proxied or *),
# REGEX matched against the case name. Every entry says which documented
# proxying effect the difference is.
cat >"$T/allow" <<'EOF'
# MSG_MORE on a relayed datagram socket fails with EOPNOTSUPP (a header
# would land inside a corked datagram; udp_send.c), and what the cork
# held natively then changes the next echo.
proxied ^flags/udp[46]c?/(send|recvfrom)/0x8000(/|$)
# getsockname() of a proxied socket shows its side of the connection to
# the proxy: dante listens on 127.0.0.1, so an AF_INET6 socket has an
# IPv4-mapped local address where natively it had ::1.
proxied ^names/(tcp6|udp6)/getsockname/
# Remote DNS (both library runs use socks5h) answers names in /etc/hosts
# from /etc/hosts alone, and localhost names (RFC 6761, bypassed or not)
# never go to DNS: localhost has no IPv6 address there, and the empty
# name none at all; glibc goes on to the local resolver, of which this
# namespace has none (EAI_AGAIN, TRY_AGAIN, NO_RECOVERY, and ERANGE for
# its small buffers), where the library says the name has no such
# address.
* ^getaddrinfo/node=(localhost|LOCALHOST|localhost\.)/fam10/
* ^gethostbyname2(_r)?/(localhost|LOCALHOST|localhost\.)/af10
* ^gethostbyname2?(_r)?/(/|$)
# Sockets SOCKS cannot carry (route/sockkind.h): AF_PACKET (17) and
# IPPROTO_RAW (255) raw sockets are refused at socket() with EPERM and a
# log line, where natively (root) they are made.
* ^socket/17/
* ^socket/(2|10)/0x3/255$
EOF

# compare RUN: one PASS/FAIL per group, native against RUN.
compare() {
	local run=$1
	"$PY" - "$T/native.out" "$T/$run.out" "$T/allow" "$run" <<'EOF'
import re, sys

native, other, allow, run = sys.argv[1:5]

def cases(path):
    out = {}
    with open(path, errors="replace") as f:
        for line in f:
            line = line.rstrip("\n")
            name = line.split(" ", 1)[0]
            out[name] = line
    return out

rules = []
with open(allow) as f:
    for line in f:
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        who, rx = line.split(None, 1)
        # early is a proxied run: the proxied entries hold for it too
        if who in ("*", run) or (who == "proxied" and run == "early"):
            rules.append(re.compile(rx))

a, b = cases(native), cases(other)
groups, order = {}, []
for name in list(a) + [n for n in b if n not in a]:
    g = name.split("/", 1)[0]
    if g not in groups:
        groups[g] = []
        order.append(g)
    la, lb = a.get(name), b.get(name)
    if la == lb:
        continue
    if any(r.search(name) for r in rules):
        continue
    groups[g].append((la, lb))
bad = 0
for g in order:
    d = groups[g]
    if not d:
        print("PASS: %s/%s" % (run, g))
        continue
    bad += 1
    print("FAIL: %s/%s: %d case(s) differ from the native run" % (run, g, len(d)))
    for la, lb in d[:25]:
        print("    native: %s" % (la or "(no such line)"))
        print("    %-7s %s" % (run + ":", lb or "(no such line)"))
EOF
}

run native
run bypassed
run proxied SOCKSIFY_NO_PROXY=
run early SOCKSIFY_NO_PROXY= SOCKSIFY_EARLY_DATA=on
if grep -q ' crashed\| exited ' "$T/native.out"; then
	fail native "the table itself crashed without the library: $(grep ' crashed\| exited ' "$T/native.out")"
fi
compare bypassed
compare proxied
compare early
finish
