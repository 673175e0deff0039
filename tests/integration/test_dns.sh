#!/usr/bin/env bash
#
# Remote DNS with fake addresses, through the preloaded library.
#
# As root (the CI case) the program runs in $NS_CLI, which reaches only
# the proxy's namespace; target.test / target6.test resolve only in $NS_PX
# (its /etc/hosts), where danted runs; the echo server runs in $NS_TG. So
# a connection to target.test works only if the name went to the proxy.
# $NS_CLI's resolv.conf points at 192.0.2.1:53, where a UDP listener in
# $NS_PX counts datagrams: remote mode must leave it at zero, and the
# controls (no preload; socks5:// with local DNS) prove it does count.
#
# Without root, only the resolver cases run (on the host, no proxy needed).
set -u
. "$(dirname "$0")/lib.sh"

PROBE=$B/tests/tools/dnsprobe
if [ ! -x "$PROBE" ] || [ ! -f "$SFY_LIB" ]; then
	fail setup "$PROBE or $SFY_LIB not built (make all-tests)"
	finish
fi

FAKE4='198\.1[89]\.'
FAKE6='fd53:6f63:6b73:6966:'

# report: turns the python cases' "PASS name" / "FAIL name why" lines into
# lib.sh verdicts; fails GROUP if the script did not reach its end.
report() {
	local group=$1 v n why done=0
	while read -r v n why; do
		case $v in
		PASS) pass "$n" ;;
		FAIL) fail "$n" "$why" ;;
		DONE) done=1 ;;
		*) echo "$v $n $why" ;;
		esac
	done
	[ "$done" = 1 ] || fail "$group" "the case script stopped early"
}

# check NAME WHY CMD...: PASS when CMD succeeds (WHY kept on one line).
check() {
	local name=$1 why=$2
	shift 2
	if "$@"; then
		pass "$name"
	else
		fail "$name" "$(tr '\n' ' ' <<<"$why")"
	fi
}

cat >"$T/dns_cases.py" <<'EOF'
import os, socket, sys

G = socket
FAKE4 = ("198.18.", "198.19.")
FAKE6 = "fd53:6f63:6b73:6966:"
out = []

def case(name, fn):
    try:
        why = fn()
    except Exception as e:
        why = "%s: %s" % (type(e).__name__, e)
    print("PASS %s" % name if not why else "FAIL %s %s" % (name, why),
          flush=True)

def gai(*a, **kw):
    return socket.getaddrinfo(*a, **kw)

def fails(code, *a, **kw):
    try:
        r = gai(*a, **kw)
    except socket.gaierror as e:
        return None if e.errno == code else "gaierror %s" % e
    return "resolved: %s" % r

def resolver(name, local_name="-", local_addr="-"):
    def unspec():
        # IPv4 fake first, then IPv6; stream, dgram, raw for each
        r = gai(name, 80)
        kinds = [(x[0], x[1]) for x in r]
        want = [(f, t) for f in (G.AF_INET, G.AF_INET6)
                for t in (G.SOCK_STREAM, G.SOCK_DGRAM, G.SOCK_RAW)]
        if kinds != want:
            return "kinds %s" % kinds
        if not all(x[4][0].startswith(FAKE4 if x[0] == G.AF_INET else FAKE6)
                   and x[4][1] == 80 for x in r):
            return "addresses %s" % r
    case("gai-unspec-null-hints", unspec)

    def inet_stream():
        r = gai(name, 80, G.AF_INET, G.SOCK_STREAM)
        if len(r) != 1 or not r[0][4][0].startswith(FAKE4) or r[0][2] != 6:
            return repr(r)
    case("gai-inet-stream", inet_stream)

    def inet6():
        r4 = gai(name, 80, G.AF_INET, G.SOCK_STREAM)[0][4][0]
        r = gai(name, 80, G.AF_INET6, G.SOCK_STREAM)
        a = r[0][4][0]
        if len(r) != 1 or not a.startswith(FAKE6):
            return repr(r)
        # one entry, both families: the same index
        i4 = int.from_bytes(socket.inet_aton(r4), "big") - 0xc6120000
        i6 = int.from_bytes(socket.inet_pton(G.AF_INET6, a)[12:], "big")
        if i4 != i6:
            return "v4 %s and v6 %s differ" % (r4, a)
    case("gai-inet6", inet6)

    def v4mapped():
        r = gai(name, 80, G.AF_INET6, G.SOCK_STREAM, 0,
                G.AI_V4MAPPED | G.AI_ALL)
        if not r[0][4][0].startswith(FAKE6):
            return repr(r)
    case("gai-inet6-v4mapped", v4mapped)

    def dgram():
        r = gai(name, "53", G.AF_INET, G.SOCK_DGRAM)
        if len(r) != 1 or r[0][2] != 17 or r[0][4][1] != 53:
            return repr(r)
    case("gai-dgram", dgram)

    def canon():
        r = gai(name, 80, G.AF_UNSPEC, G.SOCK_STREAM, 0, G.AI_CANONNAME)
        if r[0][3] != name:
            return "canonname %r" % r[0][3]
    case("gai-canonname", canon)

    def addrconfig():
        r = gai(name, 80, G.AF_UNSPEC, G.SOCK_STREAM, 0, G.AI_ADDRCONFIG)
        if not r[0][4][0].startswith(FAKE4):
            return repr(r)
    case("gai-addrconfig", addrconfig)

    def case_dot():
        a = gai(name, 80, G.AF_INET)[0][4][0]
        b = gai(name.upper() + ".", 80, G.AF_INET)[0][4][0]
        if a != b:
            return "%s vs %s" % (a, b)
    case("gai-case-trailing-dot", case_dot)

    case("gai-numerichost-name",
         lambda: fails(G.EAI_NONAME, name, 80, 0, 0, 0, G.AI_NUMERICHOST))
    case("gai-numericserv-name",
         lambda: fails(G.EAI_NONAME, name, "http", 0, 0, 0, G.AI_NUMERICSERV))
    case("gai-unknown-service",
         lambda: fails(G.EAI_SERVICE, name, "no-such-svc", G.AF_INET))

    def service_name():
        r = gai(name, "http", G.AF_INET, G.SOCK_STREAM)
        if r[0][4][1] != 80:
            return repr(r)
    case("gai-service-name", service_name)

    # bytes: python's own IDNA step would refuse the name before libc
    case("gai-name-too-long",
         lambda: fails(G.EAI_NONAME, b"a" * 256, 80, G.AF_INET))

    def numeric():
        for host, fam in (("192.0.2.1", G.AF_INET), ("::1", G.AF_INET6),
                          ("127.1", G.AF_INET)):
            r = gai(host, 80, fam, G.SOCK_STREAM)
            a = r[0][4][0]
            if a.startswith(FAKE4) or a.startswith(FAKE6):
                return "%s became %s" % (host, a)
    case("gai-numeric-local", numeric)

    def hosts_local():
        r = gai(local_name.upper(), 80, G.AF_INET, G.SOCK_STREAM)
        if r[0][4][0] != local_addr:
            return repr(r)
        # listed for IPv4 only: IPv6 has no answer (and asks no DNS)
        return fails(G.EAI_NONAME, local_name, 80, G.AF_INET6)
    if local_name != "-":
        case("gai-etc-hosts-local", hosts_local)

    def ghbn():
        a = socket.gethostbyname(name)
        ex = socket.gethostbyname_ex(name)  # gethostbyname_r
        if not a.startswith(FAKE4) or ex != (name, [], [a]):
            return "%s %s" % (a, ex)
    case("py-gethostbyname", ghbn)

    def reverse():
        a = gai(name, 80, G.AF_INET)[0][4][0]
        h = socket.gethostbyaddr(a)  # gethostbyaddr_r
        n = socket.getnameinfo((a, 80), 0)
        nn = socket.getnameinfo((a, 80), G.NI_NUMERICHOST | G.NI_NUMERICSERV)
        if h[0] != name or n != (name, "http") or nn != (a, "80"):
            return "%s %s %s" % (h, n, nn)
        try:
            socket.getnameinfo(("198.19.254.254", 80), G.NI_NAMEREQD)
            return "unknown fake got a name"
        except socket.gaierror:
            pass
    case("reverse-of-fake", reverse)

def connect(name, eport):
    def connect4():
        with socket.create_connection((name, eport), timeout=10) as s:
            s.sendall(b"hello-v4")
            if s.recv(64) != b"hello-v4":
                return "no echo"
    case("connect-by-name", connect4)

    def connect6():
        r = gai(name, eport, G.AF_INET6, G.SOCK_STREAM)
        with socket.socket(G.AF_INET6, G.SOCK_STREAM) as s:
            s.settimeout(10)
            s.connect(r[0][4])
            s.sendall(b"hello-v6-fake")
            if s.recv(64) != b"hello-v6-fake":
                return "no echo"
    case("connect-ipv6-fake", connect6)

def fork(name, eport):
    # the child resolves, the parent connects: one map for both
    rd, wr = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.write(wr, gai(name, eport, G.AF_INET)[0][4][0].encode())
        os._exit(0)
    os.waitpid(pid, 0)
    addr = os.read(rd, 64).decode()

    def go():
        if not addr.startswith(FAKE4):
            return "child resolved %r" % addr
        with socket.create_connection((addr, eport), timeout=10) as s:
            s.sendall(b"forked")
            if s.recv(64) != b"forked":
                return "no echo"
    case("fork-child-resolves-parent-connects", go)

def resolve(name):
    print(gai(name, 80, G.AF_INET)[0][4][0])

def foreign(addr, eport):
    def go():
        try:
            socket.create_connection((addr, eport), timeout=10).close()
            return "connected to a fake address of another process"
        except OSError as e:
            if e.errno != 113:  # EHOSTUNREACH
                return "errno %s" % e.errno
    case("foreign-fake-fails", go)

def local_dns(name):
    def go():
        try:
            r = gai(name, 80, G.AF_INET)
        except socket.gaierror:
            return None
        a = r[0][4][0]
        if a.startswith(FAKE4):
            return "socks5:// handed out a fake %s" % a
    case("socks5-local-dns-uses-resolver", go)

globals()[sys.argv[1]](*[int(x) if x.isdigit() else x for x in sys.argv[2:]])
print("DONE", flush=True)
EOF

# probe_cases: the hostent functions through tests/tools/dnsprobe.
probe_cases() {
	local out
	out=$(timeout 30 "${RUN[@]}" env "${SFY_PRELOAD_ENV[@]}" \
		SOCKSIFY_PROXY="$PROXY" "$PROBE" hbn target.test 2>&1)
	check probe-gethostbyname "$out" grep -Eq "^addr $FAKE4" <<<"$out"
	out=$(timeout 30 "${RUN[@]}" env "${SFY_PRELOAD_ENV[@]}" \
		SOCKSIFY_PROXY="$PROXY" "$PROBE" hbn2 target.test 6 2>&1)
	check probe-gethostbyname2-inet6 "$out" grep -Eq "^addr $FAKE6" <<<"$out"
	out=$(timeout 30 "${RUN[@]}" env "${SFY_PRELOAD_ENV[@]}" \
		SOCKSIFY_PROXY="$PROXY" "$PROBE" hbnr target.test 2>&1)
	check probe-gethostbyname_r-erange "$out" \
		grep -Eq "^addr $FAKE4" <<<"$out"
	check probe-gethostbyname_r-retried "$out" \
		grep -Eq "^erange-retries [1-9]" <<<"$out"
	out=$(timeout 30 "${RUN[@]}" env "${SFY_PRELOAD_ENV[@]}" \
		SOCKSIFY_PROXY="$PROXY" "$PROBE" hbn2r target.test 6 2>&1)
	check probe-gethostbyname2_r-inet6 "$out" \
		grep -Eq "^addr $FAKE6" <<<"$out"
	for fam in 4 6; do
		out=$(timeout 30 "${RUN[@]}" env "${SFY_PRELOAD_ENV[@]}" \
			SOCKSIFY_PROXY="$PROXY" "$PROBE" rev target.test $fam 2>&1)
		check "probe-reverse-ipv$fam" "$out" test \
			"$(grep -cE '^(hba|hbar|gni) target\.test$' <<<"$out")" = 3
	done
	# a fake this process never handed out: not found, no reverse DNS
	out=$(timeout 30 "${RUN[@]}" env "${SFY_PRELOAD_ENV[@]}" \
		SOCKSIFY_PROXY="$PROXY" "$PROBE" hba 198.18.0.200 2>&1)
	check probe-gethostbyaddr-unknown-fake "$out" \
		grep -q "^error gethostbyaddr 1 " <<<"$out"
	out=$(timeout 30 "${RUN[@]}" env "${SFY_PRELOAD_ENV[@]}" \
		SOCKSIFY_PROXY="$PROXY" "$PROBE" hbn 192.0.2.9 2>&1)
	check probe-gethostbyname-numeric "$out" \
		grep -q "^addr 192.0.2.9$" <<<"$out"
}

if ! is_root; then
	PROXY=socks5h://127.0.0.1:9
	RUN=(env)
	probe_cases
	timeout 60 env "${SFY_PRELOAD_ENV[@]}" SOCKSIFY_PROXY=$PROXY \
		"$PY" "$T/dns_cases.py" resolver target.test 2>"$T/resolver.err" |
		report resolver-cases
	skip dns-through-proxy "needs root and ip netns for the namespaces"
	finish
fi

# ---- root: namespaces, the proxy, the target, the DNS trap ---------------

netns_up || { fail setup "netns_up"; finish; }
# The client's own resolver configuration and hosts file; removed at exit
# along with lib.sh's cleanup.
mkdir -p "/etc/netns/$NS_CLI" || { fail setup "mkdir /etc/netns/$NS_CLI"; finish; }
trap 'sfy_rc=$?; rm -rf "/etc/netns/$NS_CLI"; (exit $sfy_rc); _sfy_cleanup' EXIT
printf 'nameserver 192.0.2.1\noptions timeout:1 attempts:1\n' \
	>"/etc/netns/$NS_CLI/resolv.conf"
printf '127.0.0.1\tlocalhost\n::1\tlocalhost\n192.0.2.77\tlocal.test\n' \
	>"/etc/netns/$NS_CLI/hosts"

PX=$(free_port) EP=$(free_port)
NETNS=$NS_TG LISTEN=198.51.100.2 start_tcp_echo echo "$EP" ||
	{ fail setup "echo in $NS_TG"; finish; }
HP=$(free_port)
mkdir -p "$T/www" && echo "hello from target.test" >"$T/www/index.html"
NETNS=$NS_TG LISTEN=198.51.100.2 start_http web "$HP" "$T/www" ||
	{ fail setup "http in $NS_TG"; finish; }
NETNS=$NS_PX LISTEN=192.0.2.1 EXTERNAL=198.51.100.1 start_danted px "$PX" ||
	{ fail setup "danted in $NS_PX"; finish; }
NETNS=$NS_PX LISTEN=192.0.2.1 start_udp_echo dns 53 ||
	{ fail setup "DNS trap on 192.0.2.1:53"; finish; }

dns_count() {
	wc -l <"$T/dns.peers"
}

# Control: without the library, resolving target.test in the client
# namespace asks 192.0.2.1:53 (and fails: the name exists only in $NS_PX).
timeout 30 ip netns exec "$NS_CLI" "$PY" -c '
import socket
try:
    socket.getaddrinfo("target.test", 80)
except socket.gaierror:
    pass' >/dev/null 2>&1
sleep 0.2
check dns-trap-counts "no datagram reached the trap" test "$(dns_count)" -gt 0
: >"$T/dns.peers"

PROXY=socks5h://192.0.2.1:$PX
RUN=(ip netns exec "$NS_CLI")
probe_cases

timeout 60 "${RUN[@]}" env "${SFY_PRELOAD_ENV[@]}" SOCKSIFY_PROXY="$PROXY" \
	"$PY" "$T/dns_cases.py" resolver target.test local.test 192.0.2.77 \
	2>"$T/resolver.err" | report resolver-cases
timeout 60 "${RUN[@]}" env "${SFY_PRELOAD_ENV[@]}" SOCKSIFY_PROXY="$PROXY" \
	"$PY" "$T/dns_cases.py" connect target.test "$EP" 2>"$T/connect.err" |
	report connect-cases
timeout 60 "${RUN[@]}" env "${SFY_PRELOAD_ENV[@]}" SOCKSIFY_PROXY="$PROXY" \
	"$PY" "$T/dns_cases.py" fork target.test "$EP" 2>"$T/fork.err" |
	report fork-cases

# curl resolves with AF_UNSPEC and filters by family itself (-4 / -6),
# then races the families (happy eyeballs).
# Under SANITIZE=1 curl is run with the ASan runtime preloaded, and this
# curl hangs in setlocale() under it even without our library: probe that
# first instead of waiting for three timeouts.
CURL_OK=1
if [ "${SANITIZE:-0}" = 1 ] &&
	! timeout 10 env "${SFY_RUN_ENV[@]}" curl --version >/dev/null 2>&1; then
	CURL_OK=0
fi
for opt in "" -4 -6; do
	if [ "$CURL_OK" = 0 ]; then
		skip "curl${opt:--default}" "curl does not start under the ASan runtime (without socksify either)"
		continue
	fi
	out=$(timeout 30 "${RUN[@]}" env "${SFY_PRELOAD_ENV[@]}" \
		SOCKSIFY_PROXY="$PROXY" curl $opt -sS --max-time 10 \
		"http://target.test:$HP/" 2>&1)
	check "curl${opt:--default}" "$out" test "$out" = "hello from target.test"
done

# A fake address handed out by another process is unknown here: the
# connect fails (EHOSTUNREACH) and nothing goes out directly or via the
# proxy.
FOREIGN=$(timeout 30 "${RUN[@]}" env "${SFY_PRELOAD_ENV[@]}" \
	SOCKSIFY_PROXY="$PROXY" "$PY" "$T/dns_cases.py" resolve target.test |
	head -n 1)
before=$(wc -l <"$T/echo.peers")
timeout 60 "${RUN[@]}" env "${SFY_PRELOAD_ENV[@]}" SOCKSIFY_PROXY="$PROXY" \
	"$PY" "$T/dns_cases.py" foreign "$FOREIGN" "$EP" 2>"$T/foreign.err" |
	report foreign-cases
check foreign-fake-logged "$(cat "$T/foreign.err")" \
	grep -q "fake address whose name is unknown" "$T/foreign.err"
check foreign-fake-nothing-sent "the echo saw a connection" \
	test "$(wc -l <"$T/echo.peers")" = "$before"

# Proof the target saw the proxy, never the client.
check target-saw-proxy "peers: $(tr '\n' ' ' <"$T/echo.peers")" \
	grep -q "^198\.51\.100\.1 " "$T/echo.peers"
for srv in echo web; do
	check "$srv-saw-only-proxy" "peers: $(tr '\n' ' ' <"$T/$srv.peers")" \
		test -z "$(grep -v '^198\.51\.100\.[12] ' "$T/$srv.peers")"
done

sleep 0.2
check no-dns-in-remote-mode "$(dns_count) datagrams reached 192.0.2.1:53" \
	test "$(dns_count)" = 0

# socks5:// means local DNS: the real resolver is asked (the trap counts)
# and no fake address is handed out.
timeout 60 "${RUN[@]}" env "${SFY_PRELOAD_ENV[@]}" \
	SOCKSIFY_PROXY="socks5://192.0.2.1:$PX" \
	"$PY" "$T/dns_cases.py" local_dns target.test 2>"$T/local.err" |
	report local-cases
sleep 0.2
check socks5-local-dns-asked-resolver "no datagram reached the trap" \
	test "$(dns_count)" -gt 0

# ---- local DNS over TCP: a truncated answer, and `options use-vc` -------------
# The client's resolv.conf names 198.51.100.2 (reachable only through the
# proxy), where a responder answers big.test's A query over UDP with the
# TC bit and no records, and fully (40 addresses) over TCP. glibc's
# resolver then asks again over TCP; with use-vc it asks only over TCP.
# Every query must reach the responder from the proxy (198.51.100.1).
dns_tcp_cases() {
	local conf=/etc/netns/$NS_CLI/resolv.conf saved out n want
	local peers=$T/tcpdns.peers
	saved=$(cat "$conf")
	: >"$peers"
	NETNS=$NS_TG _sfy_ns_prefix
	"${SFY_PRE[@]}" "$PY" "$(dirname "$0")/dns_responder.py" 198.51.100.2 53 \
		"$peers" >>"$T/tcpdns.log" 2>&1 &
	_sfy_track $!
	for ((n = 0; n < 100; n++)); do
		[ -n "$(ip netns exec "$NS_TG" ss -Hltn 'sport = :53')" ] && break
		sleep 0.05
	done
	printf 'nameserver 198.51.100.2\noptions timeout:2 attempts:1\n' >"$conf"
	want=$(seq 1 40 | sed 's/^/203.0.113./' | sort)
	out=$(timeout 60 "${RUN[@]}" env "${SFY_PRELOAD_ENV[@]}" \
		SOCKSIFY_PROXY="socks5://192.0.2.1:$PX" "$PY" -c '
import socket
for a in sorted({x[4][0] for x in socket.getaddrinfo("big.test", 80,
                 socket.AF_INET, socket.SOCK_STREAM)}):
    print(a)' 2>"$T/tcpdns.err" | sort)
	check local-dns-truncated-answer-retried-over-tcp \
		"got '$out' $(cat "$T/tcpdns.err") peers: $(cat "$peers")" \
		test "$out" = "$want"
	check local-dns-tcp-through-proxy "peers: $(cat "$peers")" \
		grep -q '^198\.51\.100\.1 [0-9]* tcp$' "$peers"
	out=$(timeout 60 "${RUN[@]}" env "${SFY_PRELOAD_ENV[@]}" \
		SOCKSIFY_PROXY="socks5://192.0.2.1:$PX" getent ahosts big2.test \
		2>"$T/tcpdns.err" | awk '$2 == "STREAM" { print $1 }' |
		grep -v : | sort)
	check local-dns-truncated-getent-unspec \
		"got '$out' $(cat "$T/tcpdns.err")" test "$out" = "$want"
	printf 'nameserver 198.51.100.2\noptions timeout:2 attempts:1 use-vc\n' >"$conf"
	n=$(wc -l <"$peers")
	out=$(timeout 60 "${RUN[@]}" env "${SFY_PRELOAD_ENV[@]}" \
		SOCKSIFY_PROXY="socks5://192.0.2.1:$PX" "$PY" -c '
import socket
print(socket.getaddrinfo("vc.test", 80, socket.AF_INET)[0][4][0])' \
		2>"$T/tcpdns.err")
	check local-dns-use-vc \
		"got '$out' $(cat "$T/tcpdns.err") peers: $(tail -n +$((n + 1)) "$peers")" \
		test "$out" = 203.0.113.7
	check local-dns-use-vc-only-tcp-from-proxy \
		"peers: $(tail -n +$((n + 1)) "$peers")" test -z \
		"$(tail -n +$((n + 1)) "$peers" | grep -v '^198\.51\.100\.1 [0-9]* tcp$')"
	check all-dns-peers-are-the-proxy "peers: $(cat "$peers")" \
		test -z "$(grep -v '^198\.51\.100\.1 ' "$peers")"
	forwarder_fd_taken_case
	printf '%s\n' "$saved" >"$conf"
}

# While the forwarder waits for a slow answer, another thread of the
# program takes its TCP listener's number (dup2 of /dev/null onto it):
# the forwarder must neither read it nor close it when the call ends.
forwarder_fd_taken_case() {
	local out
	printf 'nameserver 198.51.100.2\noptions timeout:3 attempts:1\n' >"$conf"
	out=$(timeout 60 "${RUN[@]}" env "${SFY_PRELOAD_ENV[@]}" \
		SOCKSIFY_PROXY="socks5://192.0.2.1:$PX" "$PY" -c '
import os, socket, stat, threading, time

def listener_fd():
    inodes = set()
    with open("/proc/self/net/tcp") as f:
        for line in f.readlines()[1:]:
            x = line.split()
            if x[1].startswith("0100007F:") and x[3] == "0A":
                inodes.add("socket:[%s]" % x[9])
    for fd in os.listdir("/proc/self/fd"):
        try:
            if os.readlink("/proc/self/fd/" + fd) in inodes:
                return int(fd)
        except OSError:
            pass
    return -1

taken = []
def take():
    end = time.time() + 1.2
    while time.time() < end and not taken:
        fd = listener_fd()
        if fd >= 0:
            null = os.open("/dev/null", os.O_RDONLY)
            os.dup2(null, fd)
            os.close(null)
            taken.append(fd)
        time.sleep(0.02)

t = threading.Thread(target=take)
t.start()
try:
    socket.getaddrinfo("slow.test", 80, socket.AF_INET)
except socket.gaierror:
    pass
t.join()
if not taken:
    print("no listener found")
else:
    try:
        st = os.fstat(taken[0])
        print("ok" if stat.S_ISCHR(st.st_mode) else "not /dev/null")
    except OSError as e:
        print("the program'"'"'s fd %d was closed: %s" % (taken[0], e))' 2>&1)
	check local-dns-forwarder-leaves-a-taken-number "$out" test "$out" = ok
}
dns_tcp_cases

finish
