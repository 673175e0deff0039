#!/usr/bin/env bash
#
# Event loops through a latency relay in the namespace topology (issue 13,
# deliverable 4; test_evloop.sh covers the same programs on loopback):
# the client in $NS_CLI reaches the proxies in $NS_PX only through
# bench_relay (10 ms each way), the echo and web servers live in $NS_TG,
# so whatever a program got came through a proxy. For dante and for
# microsocks:
#   - happy path: curl -Z with 32 URLs, python asyncio with 32
#     open_connection, node (net.connect and http.get in parallel), and
#     tests/tools/evloop edge-triggered epoll with 32 sockets;
#   - the proxy refuses (the destination port is closed: REP 5):
#     ECONNREFUSED through the program's loop (at the first read where
#     early data is on);
# and, the same programs, a proxy that stalls (accepts, never answers:
# ETIMEDOUT at SOCKSIFY_TIMEOUT_MS) and one that resets after the
# greeting (the relay mostly passes the reset on as a close, which
# DESIGN's table maps to ECONNREFUSED, sometimes as a reset: ECONNRESET;
# test_evloop.sh sees the RST itself).
# Every run is bounded: a hang fails the case.

. "$(dirname "$0")/lib.sh"

# the event-loop programs both scripts run (tests/tools/)
AIO=$ROOT/tests/tools/evloop_asyncio.py
NODEJS=$ROOT/tests/tools/evloop_node.js

EV=$B/tests/tools/evloop
RELAY=$B/bench/bench_relay
PEER=$ROOT/tests/faults/peer.py
if [ ! -x "$EV" ] || [ ! -x "$RELAY" ]; then
	fail setup "$EV or $RELAY missing (make all-tests)"
	finish
fi
is_root || { skip evloop_relay "needs root for the namespaces"; finish; }
netns_up || { fail netns_up "could not build the namespaces"; finish; }
CLI=(ip netns exec "$NS_CLI")
PX=192.0.2.1 TG=198.51.100.2
DELAY=10

E=$(free_port) H=$(free_port) CLOSED=$(free_port)
DP=$(free_port) MP=$(free_port) SP=$(free_port)
mkdir -p "$T/www"
for i in $(seq 1 32); do
	head -c 2000 /dev/urandom | base64 >"$T/www/f$i"
done
ok=1
NETNS=$NS_TG LISTEN=$TG start_tcp_echo echo "$E" || ok=0
NETNS=$NS_TG LISTEN=$TG start_http www "$H" "$T/www" || ok=0
NETNS=$NS_PX LISTEN=$PX EXTERNAL=198.51.100.1 start_danted dante "$DP" || ok=0
NETNS=$NS_PX LISTEN=$PX EXTERNAL=198.51.100.1 start_microsocks ms "$MP" || ok=0
NETNS=$NS_PX LISTEN=$PX start_silent stall "$SP" || ok=0
ip netns exec "$NS_PX" python3 "$PEER" --listen "$PX" --port-file "$T/reset.port" \
	--log "$T/reset.log" "expect greeting; reset" >/dev/null 2>&1 &
_sfy_track $!
for i in $(seq 1 100); do [ -s "$T/reset.port" ] && break; sleep 0.05; done
RSP=$(cat "$T/reset.port" 2>/dev/null)
[ -n "$RSP" ] || ok=0
[ $ok = 1 ] || { fail setup "servers did not start"; finish; }

# One relay in the client's namespace per proxy: its loopback port.
declare -A RP
for px in dante:$DP ms:$MP stall:$SP reset:$RSP; do
	RP[${px%%:*}]=$(free_port)
	"${CLI[@]}" "$RELAY" "${RP[${px%%:*}]}" "$PX" "${px#*:}" "$DELAY" \
		>"$T/relay-${px%%:*}.log" 2>&1 &
	_sfy_track $!
	NETNS=$NS_CLI wait_port "${RP[${px%%:*}]}" || { fail setup "relay ${px%%:*}"; finish; }
done

# run PROXY [VAR=VALUE...] -- CMD...: CMD in the client namespace with the
# library preloaded, proxy PROXY's relay.
run() {
	local px=$1 vars=()
	shift
	while [ "$1" != -- ]; do
		vars+=("$1")
		shift
	done
	shift
	"${CLI[@]}" env -u SOCKSIFY_PROXY -u ALL_PROXY -u all_proxy -u NO_PROXY \
		-u no_proxy -u SOCKSIFY_LOG -u SOCKSIFY_LOG_FILE -u SOCKSIFY_TIMEOUT_MS \
		-u http_proxy -u HTTP_PROXY "${SFY_PRELOAD_ENV[@]}" \
		SOCKSIFY_PROXY="socks5://127.0.0.1:${RP[$px]}" SOCKSIFY_NO_PROXY= \
		"${vars[@]}" timeout 60 "$@"
}

# check NAME GOT WANT DETAIL; WANT an extended regular expression when it
# starts with ^.
check() {
	if [ "$2" = "$3" ] || { [ "${3:0:1}" = ^ ] && [[ $2 =~ $3 ]]; }; then
		pass "$1"
	else
		fail "$1" "got '$2', want '$3'; $4"
	fi
}

# The faults: proxy, destination port, extra variables, the errno wanted.
FAULTS=("dante $CLOSED - ECONNREFUSED refused-dante"
	"ms $CLOSED - ECONNREFUSED refused-ms"
	"stall $E SOCKSIFY_TIMEOUT_MS=700 ETIMEDOUT stall"
	"reset $E - ECONNREFUSED reset")

# ---- tests/tools/evloop, edge-triggered epoll ------------------------------
field() { sed -n "s/.*\b$1=\([^ ]*\).*/\1/p" <<<"$2"; }
for px in dante ms; do
	out=$(run $px -- "$EV" epoll-et 32 "$TG" "$E" 2>"$T/ev.err")
	check "relay_epoll_et_$px" "$(field ok "$out")" 32 "$out; $(head -c 300 "$T/ev.err")"
done
for f in "${FAULTS[@]}"; do
	read -r px port var want name <<<"$f"
	[ "$var" = - ] && var=X=1
	out=$(run $px EVLOOP_NO_RECONNECT=1 "$var" -- "$EV" epoll-et 8 "$TG" "$port" 2>"$T/ev.err")
	errs=$(field errs "$out")
	errs=${errs//$want/W}
	[ "$name" = reset ] && errs=${errs//ECONNRESET/W}
	check "relay_epoll_et_$name" "$(field fail "$out") $errs" "8 W,W,W,W,W,W,W,W" \
		"$out; $(head -c 300 "$T/ev.err")"
done

# ---- python asyncio, 32 open_connection --------------------------------
for px in dante ms; do
	out=$(run $px -- python3 "$AIO" "$TG" "$E" 32 2>"$T/aio.err")
	check "relay_asyncio_$px" "$out" "OK 32" "$(head -c 300 "$T/aio.err")"
done
for f in "${FAULTS[@]}"; do
	read -r px port var want name <<<"$f"
	[ "$var" = - ] && var=X=1
	out=$(run $px "$var" -- python3 "$AIO" "$TG" "$port" 8 2>"$T/aio.err")
	w="$want 0"
	[ "$name" = reset ] && w='^(ECONNREFUSED|ECONNRESET)( ECONNRESET)? 0$'
	check "relay_asyncio_$name" "$out" "$w" "$(head -c 300 "$T/aio.err")"
done

# ---- curl -Z, 32 URLs ------------------------------------------------------
if ! command -v curl >/dev/null; then
	skip relay_curl "curl not installed"
elif [ "$SANITIZE" = 1 ] && ! sfy_preload_works curl --version; then
	skip relay_curl "curl hangs in the ASan runtime (sfy_preload_works)"
else
	curl_z() { # PROXY PORT [VAR]: curl -Z of the 32 files; "EXIT BAD-FILES"
		local urls=() i bad=0 rc
		for i in $(seq 1 32); do
			rm -f "$T/got$i"
			urls+=("http://$TG:$2/f$i" -o "$T/got$i")
		done
		run "$1" ${3:+"$3"} -- curl -sS -Z --parallel-immediate --parallel-max 32 \
			"${urls[@]}" 2>"$T/curl.err"
		rc=$?
		for i in $(seq 1 32); do
			cmp -s "$T/www/f$i" "$T/got$i" || bad=$((bad + 1))
		done
		echo "$rc $bad"
	}
	for px in dante ms; do
		check "relay_curl_$px" "$(curl_z $px "$H")" "0 0" "$(head -c 300 "$T/curl.err")"
	done
	for f in "${FAULTS[@]}"; do
		read -r px port var want name <<<"$f"
		[ "$var" = - ] && var=
		[ "$port" = "$E" ] && port=$H
		res=$(curl_z "$px" "$port" "$var")
		# failed (not 0, not timeout's 124) for all 32, with a message
		rc=${res% *}
		[ "$rc" != 0 ] && [ "$rc" != 124 ] && [ "${res#* }" = 32 ] && res=failed
		check "relay_curl_$name" "$res" failed "$(head -c 300 "$T/curl.err")"
	done
fi

# ---- node: net.connect and http.get in parallel ----------------------------
NODE=$(command -v node || command -v nodejs)
if [ -z "$NODE" ]; then
	skip relay_node "node not installed"
else
	for px in dante ms; do
		out=$(run $px -- "$NODE" "$NODEJS" "$TG" "$E" "$H" 16 2>"$T/node.err")
		check "relay_node_$px" "$out" "32 -" "$(head -c 300 "$T/node.err")"
	done
	for f in "${FAULTS[@]}"; do
		read -r px port var want name <<<"$f"
		[ "$var" = - ] && var=X=1
		out=$(run $px "$var" -- "$NODE" "$NODEJS" "$TG" "$port" "$port" 4 2>"$T/node.err")
		w="0 $want"
		[ "$name" = reset ] && w='^0 (ECONNREFUSED|ECONNRESET)(,ECONNRESET)?$'
		check "relay_node_$name" "$out" "$w" "$(head -c 300 "$T/node.err")"
	done
fi

finish
