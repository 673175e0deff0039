#!/bin/bash
# Real programs through build/socksify: curl, wget, python3 (plain socket,
# urllib, asyncio, threads, fork), bash /dev/tcp, nc; no-auth and
# username/password against danted and microsocks; wrong passwords and a
# proxy that is down.
#
# Proof that traffic went through the proxy:
#   as root: the program runs in $NS_CLI, which reaches only the proxy
#     namespace $NS_PX; the targets live in $NS_TG, reachable only from
#     $NS_PX, and target.test resolves only in $NS_PX. A reply from the
#     target can only have come through the proxy; the target's peer log
#     shows the proxy's address (198.51.100.1 / 2001:db8:2::1).
#   without root: everything on loopback; the proxies go out from
#     127.0.0.2 (their -b / external), the targets listen on 127.0.0.1, so
#     the target's peer log tells the proxy (127.0.0.2) from the program
#     (127.0.0.1). Cases that need the namespaces say SKIP.
. "$(dirname "$0")/lib.sh"

unset SOCKSIFY_PROXY SOCKSIFY_NO_PROXY SOCKSIFY_LOG ALL_PROXY all_proxy \
	NO_PROXY no_proxy LD_PRELOAD http_proxy HTTP_PROXY https_proxy HTTPS_PROXY
PW=s3cr3t-$$
BADPW=wr0ng-$$
MSUSER=msuser
DUSER=sfyt$$

if is_root; then
	TOPO=netns
	netns_up || { fail netns_up "could not build the namespaces"; finish; }
	CLI=(ip netns exec "$NS_CLI")
	PX4=192.0.2.1 PX6=2001:db8:1::1
	TG4=198.51.100.2 TG6=2001:db8:2::2
	NAME4=target.test NAME6=target6.test
	PEER4=198.51.100.1 PEER6=2001:db8:2::1
	OUT_DANTE="198.51.100.1 2001:db8:2::1"
	OUT_MS=
	NOPX=()
	TGNS=$NS_TG PXNS=$NS_PX
else
	TOPO=loopback
	CLI=(env)
	PX4=127.0.0.1 PX6=
	TG4=127.0.0.1 TG6=
	NAME4= NAME6=
	PEER4=127.0.0.2 PEER6=
	OUT_DANTE=127.0.0.2
	OUT_MS=127.0.0.2
	# Loopback goes direct by default; proxy everything.
	NOPX=(-n '')
	TGNS= PXNS=
fi
echo "# topology: $TOPO"

# ---- servers ----------------------------------------------------------------
WEB4=$(free_port) WEB6=$(free_port) ECHO4=$(free_port) ECHO6=$(free_port)
MS=$(free_port) MS6=$(free_port) MSAUTH=$(free_port)
DANTE=$(free_port) DANTEAUTH=$(free_port) DOWN=$(free_port)
mkdir -p "$T/www"
PAGE="page $$ from the target"
echo "$PAGE" >"$T/www/index.html"

setup_ok=1
NETNS=$TGNS LISTEN=$TG4 start_http web4 "$WEB4" "$T/www" || setup_ok=0
NETNS=$TGNS LISTEN=$TG4 start_tcp_echo echo4 "$ECHO4" || setup_ok=0
NETNS=$PXNS LISTEN=$PX4 EXTERNAL=$OUT_MS start_microsocks ms "$MS" || setup_ok=0
NETNS=$PXNS LISTEN=$PX4 EXTERNAL=$OUT_MS start_microsocks msauth "$MSAUTH" \
	"$MSUSER" "$PW" || setup_ok=0
# lib.sh's danted runs only as root (its config names root as the
# privileged user); without root the danted cases use microsocks instead.
HAVE_DANTE=0
if [ "$(id -u)" = 0 ]; then
	NETNS=$PXNS LISTEN=$PX4 EXTERNAL=$OUT_DANTE start_danted dante "$DANTE" || setup_ok=0
	HAVE_DANTE=1
else
	DANTE=$MS
fi
if [ $TOPO = netns ]; then
	NETNS=$TGNS LISTEN=$TG6 start_http web6 "$WEB6" "$T/www" || setup_ok=0
	NETNS=$TGNS LISTEN=$TG6 start_tcp_echo echo6 "$ECHO6" || setup_ok=0
	NETNS=$PXNS LISTEN=$PX6 start_microsocks ms6 "$MS6" || setup_ok=0
fi
HAVE_DUSER=0
if [ "$(id -u)" = 0 ]; then
	if add_test_user "$DUSER" "$PW" &&
	   NETNS=$PXNS LISTEN=$PX4 EXTERNAL=$OUT_DANTE start_danted danteauth \
		"$DANTEAUTH" username; then
		HAVE_DUSER=1
	else
		setup_ok=0
	fi
fi
if [ $setup_ok = 0 ]; then
	fail setup "a server did not start (see messages above)"
	finish
fi

# ---- helpers ------------------------------------------------------------------
# The HTTP client for the web cases: curl, except where curl cannot run at
# all (under SANITIZE=1 this curl hangs in setlocale() with the bare ASan
# runtime preloaded, socksify not involved): then wget, and the cases are
# named after it. HTTP_NORESOLVE: its exit status for "cannot resolve".
HTTP=curl
HTTPGET=(curl -sS --max-time 20)
HTTP_NORESOLVE=6
if [ "${SANITIZE:-0}" = 1 ] &&
   ! sfy_preload_works curl -sS --max-time 2 file:///dev/null; then
	skip curl "hangs under the ASan runtime alone (setlocale deadlock, no socksify involved); the HTTP cases use wget"
	HTTP=wget
	HTTPGET=(wget -q -T 20 -t 1 -O -)
	HTTP_NORESOLVE=4
fi

# via URL CMD...: CMD through build/socksify with proxy URL, in the client
# namespace; stdout and stderr both captured by the caller.
via() {
	local url=$1
	shift
	"${CLI[@]}" timeout 30 env "${SFY_RUN_ENV[@]}" "$B/socksify" -x "$url" \
		"${NOPX[@]}" -- "$@"
}

# peers NAME: the distinct peer addresses the target NAME saw.
peers() {
	awk '{ print $1 }' "$T/$1.peers" | sort -u | tr '\n' ' ' | sed 's/ $//'
}

# clear NAME...: forget earlier peers.
clear() {
	local n
	for n in "$@"; do
		: >"$T/$n.peers"
	done
}

# oneline TEXT: TEXT shortened to one line, for a FAIL message.
oneline() {
	head -c 400 <<<"$1" | tr '\n' ' '
}

# expect NAME RC OUT WANT_OUT TARGET WANT_PEER: one verdict for a case.
expect() {
	local name=$1 rc=$2 out=$3 want=$4 target=$5 peer=$6 got
	got=$(peers "$target")
	if [ "$rc" != 0 ]; then
		fail "$name" "exit $rc: $(oneline "$out")"
	elif [ "$out" != "$want" ]; then
		fail "$name" "got '$(oneline "$out")', want '$want'"
	elif [ "$got" != "$peer" ]; then
		fail "$name" "the target saw peers '$got', want only the proxy '$peer'"
	else
		pass "$name"
	fi
}

cat >"$T/prog_sock.py" <<'PY'
# Plain socket: connect to a literal address, send a line, read the echo.
import socket, sys
host, port, msg = sys.argv[1], int(sys.argv[2]), sys.argv[3]
fam = socket.AF_INET6 if ":" in host else socket.AF_INET
s = socket.socket(fam, socket.SOCK_STREAM)
s.settimeout(20)
s.connect((host, port))
s.sendall((msg + "\n").encode())
buf = b""
while not buf.endswith(b"\n"):
    chunk = s.recv(100)
    if not chunk:
        break
    buf += chunk
s.close()
print(buf.decode().strip())
PY
cat >"$T/prog_urllib.py" <<'PY'
import sys, urllib.request
print(urllib.request.urlopen(sys.argv[1], timeout=20).read().decode().strip())
PY
cat >"$T/prog_asyncio.py" <<'PY'
# asyncio: non-blocking connect through the event loop.
import asyncio, sys
async def main(host, port, msg):
    r, w = await asyncio.wait_for(asyncio.open_connection(host, port), 20)
    w.write((msg + "\n").encode())
    await w.drain()
    line = await asyncio.wait_for(r.readline(), 20)
    w.close()
    await w.wait_closed()
    print(line.decode().strip())
asyncio.run(main(sys.argv[1], int(sys.argv[2]), sys.argv[3]))
PY
cat >"$T/prog_threads.py" <<'PY'
# Eight threads connect at once, each echoes its own line.
import socket, sys, threading
host, port = sys.argv[1], int(sys.argv[2])
ok = []
def one(i):
    with socket.create_connection((host, port), timeout=20) as s:
        msg = ("thread-%d\n" % i).encode()
        s.sendall(msg)
        buf = b""
        while not buf.endswith(b"\n"):
            chunk = s.recv(100)
            if not chunk:
                break
            buf += chunk
        if buf == msg:
            ok.append(i)
ts = [threading.Thread(target=one, args=(i,)) for i in range(8)]
for t in ts: t.start()
for t in ts: t.join(30)
print("ok %d" % len(ok))
PY
cat >"$T/prog_fork.py" <<'PY'
# Resolve and connect in the parent, fork: the child uses the address the
# parent resolved (a fake one under remote DNS) and its own connection;
# the parent's connection still works after the fork.
import os, socket, sys
host, port = sys.argv[1], int(sys.argv[2])
def echo(s, msg):
    s.sendall((msg + "\n").encode())
    buf = b""
    while not buf.endswith(b"\n"):
        chunk = s.recv(100)
        if not chunk:
            break
        buf += chunk
    return buf.decode().strip()
ai = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)[0]
parent = socket.socket(ai[0], socket.SOCK_STREAM)
parent.settimeout(20)
parent.connect(ai[4])
pid = os.fork()
if pid == 0:
    c = socket.socket(ai[0], socket.SOCK_STREAM)
    c.settimeout(20)
    c.connect(ai[4])
    os._exit(0 if echo(c, "child") == "child" else 1)
_, status = os.waitpid(pid, 0)
print("parent=%s child=%s" % (echo(parent, "parent"),
      "ok" if status == 0 else "failed"))
PY

PY_BIN=$PY

# ---- the topology itself ------------------------------------------------------
if [ $TOPO = netns ]; then
	if in_ns "$NS_CLI" timeout 10 curl -sS --max-time 3 "http://$TG4:$WEB4/" >/dev/null 2>&1; then
		fail topology_target_unreachable_directly "the client reaches $TG4 without the proxy"
	else
		pass topology_target_unreachable_directly
	fi
	if in_ns "$NS_CLI" getent hosts "$NAME4" >/dev/null 2>&1; then
		fail topology_name_only_at_proxy "$NAME4 resolves in the client namespace"
	elif ! in_ns "$NS_PX" getent hosts "$NAME4" >/dev/null 2>&1; then
		fail topology_name_only_at_proxy "$NAME4 does not resolve in the proxy namespace"
	else
		pass topology_name_only_at_proxy
	fi
fi

# ---- curl (see HTTP) ----------------------------------------------------------------
clear web4
out=$(via "socks5://$PX4:$MS" "${HTTPGET[@]}" "http://$TG4:$WEB4/" 2>&1)
expect ${HTTP}_ipv4_microsocks $? "$out" "$PAGE" web4 "$PEER4"

# The connection to the proxy starts with an empty MSG_FASTOPEN sendto
# (no fcntl); with TCP Fast Open off for clients the kernel refuses that
# and connect() with fcntl takes over. Both ways, IPv4 and IPv6 proxy.
in_ns "$NS_CLI" sysctl -q -w net.ipv4.tcp_fastopen=0 >/dev/null
clear web4
out=$(via "socks5://$PX4:$MS" "${HTTPGET[@]}" "http://$TG4:$WEB4/" 2>&1)
expect ${HTTP}_tcp_fastopen_off $? "$out" "$PAGE" web4 "$PEER4"
if [ -n "$TG6" ]; then
	clear web4
	out=$(via "socks5://[$PX6]:$MS6" "${HTTPGET[@]}" "http://$TG4:$WEB4/" 2>&1)
	expect ${HTTP}_tcp_fastopen_off_ipv6_proxy $? "$out" "$PAGE" web4 "$PEER4"
fi
in_ns "$NS_CLI" sysctl -q -w net.ipv4.tcp_fastopen=1 >/dev/null

if [ $HAVE_DANTE = 1 ]; then
	clear web4
	out=$(via "socks5://$PX4:$DANTE" "${HTTPGET[@]}" "http://$TG4:$WEB4/" 2>&1)
	expect ${HTTP}_ipv4_danted $? "$out" "$PAGE" web4 "$PEER4"
else
	skip ${HTTP}_ipv4_danted "danted (as lib.sh starts it) needs root"
fi

if [ -n "$TG6" ]; then
	clear web6
	out=$(via "socks5://$PX4:$MS" "${HTTPGET[@]}" "http://[$TG6]:$WEB6/" 2>&1)
	expect ${HTTP}_ipv6_literal $? "$out" "$PAGE" web6 "$PEER6"
	clear web6
	out=$(via "socks5://$PX4:$DANTE" "${HTTPGET[@]}" "http://[$TG6]:$WEB6/" 2>&1)
	expect ${HTTP}_ipv6_literal_danted $? "$out" "$PAGE" web6 "$PEER6"
	clear web4
	out=$(via "socks5://[$PX6]:$MS6" "${HTTPGET[@]}" "http://$TG4:$WEB4/" 2>&1)
	expect ${HTTP}_proxy_over_ipv6 $? "$out" "$PAGE" web4 "$PEER4"
else
	skip ${HTTP}_ipv6_literal "needs root for the namespaces: on loopback the peer ::1 cannot tell proxy from program"
	skip ${HTTP}_ipv6_literal_danted "needs root for the namespaces"
	skip ${HTTP}_proxy_over_ipv6 "needs root for the namespaces"
fi

if [ -n "$NAME4" ]; then
	clear web4
	out=$(via "socks5h://$PX4:$MS" "${HTTPGET[@]}" "http://$NAME4:$WEB4/" 2>&1)
	expect ${HTTP}_name_resolved_by_proxy $? "$out" "$PAGE" web4 "$PEER4"
	clear web6
	out=$(via "socks5h://$PX4:$DANTE" "${HTTPGET[@]}" "http://$NAME6:$WEB6/" 2>&1)
	expect ${HTTP}_name6_resolved_by_proxy_danted $? "$out" "$PAGE" web6 "$PEER6"
	# socks5:// resolves locally, where the name does not exist: the client must
	# fail to resolve, and nothing may reach the target.
	clear web4
	out=$(via "socks5://$PX4:$MS" "${HTTPGET[@]}" "http://$NAME4:$WEB4/" 2>&1)
	rc=$?
	if [ $rc = "$HTTP_NORESOLVE" ] && [ -z "$(peers web4)" ]; then
		pass ${HTTP}_local_dns_mode_resolves_locally
	else
		fail ${HTTP}_local_dns_mode_resolves_locally "rc=$rc (want $HTTP_NORESOLVE) peers='$(peers web4)': $(oneline "$out")"
	fi
else
	skip ${HTTP}_name_resolved_by_proxy "needs root: a name only the proxy can resolve needs the proxy's own namespace"
	skip ${HTTP}_name6_resolved_by_proxy_danted "needs root for the namespaces"
	skip ${HTTP}_local_dns_mode_resolves_locally "needs root for the namespaces"
fi

# Two hops: microsocks, then danted (or microsocks with a password when
# danted cannot run), then the target.
if [ $HAVE_DANTE = 1 ]; then
	HOP2=$PX4:$DANTE
else
	HOP2=$MSUSER:$PW@$PX4:$MSAUTH
fi
clear web4
cp "$T/ms.log" "$T/ms.log.before"
out=$(via "socks5://$PX4:$MS,socks5://$HOP2" "${HTTPGET[@]}" \
	"http://$TG4:$WEB4/" 2>&1)
rc=$?
if ! diff "$T/ms.log.before" "$T/ms.log" | grep -q "connected to ${HOP2#*@}"; then
	fail ${HTTP}_chain_two_hops "microsocks did not connect to the second hop: $(tail -n 3 "$T/ms.log")"
else
	expect ${HTTP}_chain_two_hops "$rc" "$out" "$PAGE" web4 "$PEER4"
fi

# ---- wget ---------------------------------------------------------------------
clear web4
out=$(via "socks5://$PX4:$MS" wget -q -T 20 -t 1 -O - "http://$TG4:$WEB4/" 2>&1)
expect wget_ipv4 $? "$out" "$PAGE" web4 "$PEER4"
if [ -n "$NAME4" ]; then
	clear web4
	out=$(via "socks5h://$PX4:$DANTE" wget -q -T 20 -t 1 -O - "http://$NAME4:$WEB4/" 2>&1)
	expect wget_name_resolved_by_proxy_danted $? "$out" "$PAGE" web4 "$PEER4"
else
	skip wget_name_resolved_by_proxy_danted "needs root for the namespaces"
fi

# ---- python3 ------------------------------------------------------------------
clear echo4
out=$(via "socks5://$PX4:$MS" "$PY_BIN" "$T/prog_sock.py" "$TG4" "$ECHO4" hello-sock 2>&1)
expect python_socket $? "$out" hello-sock echo4 "$PEER4"
if [ -n "$TG6" ]; then
	clear echo6
	out=$(via "socks5://$PX4:$DANTE" "$PY_BIN" "$T/prog_sock.py" "$TG6" "$ECHO6" hello-sock6 2>&1)
	expect python_socket_ipv6 $? "$out" hello-sock6 echo6 "$PEER6"
else
	skip python_socket_ipv6 "needs root for the namespaces"
fi

clear web4
out=$(via "socks5h://$PX4:$MS" "$PY_BIN" "$T/prog_urllib.py" "http://${NAME4:-$TG4}:$WEB4/" 2>&1)
expect python_urllib $? "$out" "$PAGE" web4 "$PEER4"

clear echo4
out=$(via "socks5h://$PX4:$MS" "$PY_BIN" "$T/prog_asyncio.py" "${NAME4:-$TG4}" "$ECHO4" hello-async 2>&1)
expect python_asyncio $? "$out" hello-async echo4 "$PEER4"
clear echo4
out=$(via "socks5://$PX4:$DANTE" "$PY_BIN" "$T/prog_asyncio.py" "$TG4" "$ECHO4" hello-async4 2>&1)
expect python_asyncio_literal $? "$out" hello-async4 echo4 "$PEER4"

clear echo4
out=$(via "socks5h://$PX4:$DANTE" "$PY_BIN" "$T/prog_threads.py" "${NAME4:-$TG4}" "$ECHO4" 2>&1)
rc=$?
n=$(wc -l <"$T/echo4.peers")
if [ "$n" != 8 ]; then
	fail python_threads "the target saw $n connections, want 8: $(oneline "$out")"
else
	expect python_threads "$rc" "$out" "ok 8" echo4 "$PEER4"
fi

clear echo4
out=$(via "socks5h://$PX4:$MS" "$PY_BIN" "$T/prog_fork.py" "${NAME4:-$TG4}" "$ECHO4" 2>&1)
rc=$?
n=$(wc -l <"$T/echo4.peers")
if [ "$n" != 2 ]; then
	fail python_fork "the target saw $n connections, want 2: $(oneline "$out")"
else
	expect python_fork "$rc" "$out" "parent=parent child=ok" echo4 "$PEER4"
fi

# ---- bash /dev/tcp and nc -----------------------------------------------------
devtcp='exec 3<>"/dev/tcp/$0/$1" || exit 1; echo "$2" >&3; read -r -t 20 line <&3; echo "$line"'
clear echo4
out=$(via "socks5://$PX4:$MS" bash -c "$devtcp" "$TG4" "$ECHO4" hello-bash 2>&1)
expect bash_dev_tcp $? "$out" hello-bash echo4 "$PEER4"
if [ -n "$NAME4" ]; then
	clear echo4
	out=$(via "socks5h://$PX4:$DANTE" bash -c "$devtcp" "$NAME4" "$ECHO4" hello-bash-name 2>&1)
	expect bash_dev_tcp_name $? "$out" hello-bash-name echo4 "$PEER4"
else
	skip bash_dev_tcp_name "needs root for the namespaces"
fi

# microsocks closes both directions when the client half-closes (nc -N),
# which can drop the echo: the input stays open a moment longer.
clear echo4
out=$( (printf 'hello-nc\n'; sleep 1) | via "socks5://$PX4:$MS" nc -N -w 20 "$TG4" "$ECHO4" 2>&1)
expect nc_ipv4 $? "$out" hello-nc echo4 "$PEER4"
if [ -n "$TG6" ]; then
	clear echo6
	out=$(printf 'hello-nc6\n' | via "socks5://$PX4:$DANTE" nc -N -w 20 "$TG6" "$ECHO6" 2>&1)
	expect nc_ipv6 $? "$out" hello-nc6 echo6 "$PEER6"
else
	skip nc_ipv6 "needs root for the namespaces"
fi

# ---- username/password -----------------------------------------------------------
clear web4
out=$(via "socks5://$MSUSER:$PW@$PX4:$MSAUTH" "${HTTPGET[@]}" "http://$TG4:$WEB4/" 2>&1)
expect auth_microsocks $? "$out" "$PAGE" web4 "$PEER4"
if [ $HAVE_DUSER = 1 ]; then
	clear web4
	out=$(via "socks5h://$DUSER:$PW@$PX4:$DANTEAUTH" "${HTTPGET[@]}" \
		"http://${NAME4:-$TG4}:$WEB4/" 2>&1)
	expect auth_danted $? "$out" "$PAGE" web4 "$PEER4"
else
	skip auth_danted "needs root to add a system user for dante's username method"
fi

# refused NAME URL WORDS: the HTTP client must fail within 10 s, say WORDS (a regexp)
# in a log line, never show a password, and nothing may reach the target.
refused() {
	local name=$1 url=$2 words=$3 out rc start took
	clear web4
	start=$(date +%s)
	out=$(via "$url" "${HTTPGET[@]}" "http://$TG4:$WEB4/" 2>&1)
	rc=$?
	took=$(($(date +%s) - start))
	if [ $rc = 0 ]; then
		fail "$name" "$HTTP succeeded: $(oneline "$out")"
	elif [ $took -ge 10 ]; then
		fail "$name" "took ${took}s"
	elif [ -n "$(peers web4)" ]; then
		fail "$name" "the target was reached from $(peers web4)"
	elif grep -q -e "$PW" -e "$BADPW" <<<"$out"; then
		fail "$name" "a password appears: $(oneline "$out")"
	elif ! grep -qiE "$words" <<<"$out"; then
		fail "$name" "no clear message ($words): $(oneline "$out")"
	else
		pass "$name"
	fi
}
refused wrong_password_microsocks "socks5://$MSUSER:$BADPW@$PX4:$MSAUTH" \
	'auth|rejected|denied|EACCES'
if [ $HAVE_DUSER = 1 ]; then
	refused wrong_password_danted "socks5://$DUSER:$BADPW@$PX4:$DANTEAUTH" \
		'auth|rejected|denied|EACCES'
else
	skip wrong_password_danted "needs root to add a system user"
fi
refused no_password_to_auth_proxy "socks5://$PX4:$MSAUTH" \
	'method|auth|acceptable|EACCES|refused'
refused proxy_down "socks5://$PX4:$DOWN" 'reach the proxy.*(refused|ECONNREFUSED)'

finish
