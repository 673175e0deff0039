#!/usr/bin/env bash
#
# libsocks5's handshake driver (through tests/tools/socks5-client) against
# real SOCKS5 servers on loopback: dante-server and microsocks.
#
# Proof that traffic went through a proxy: the proxies go out from
# 127.0.0.2 / 127.0.0.3 (dante "external:", microsocks -b) while the client
# only ever talks to 127.0.0.1, and the echo servers log the address of
# every peer they see.
set -u
. "$(dirname "$0")/lib.sh"

C=$B/tests/tools/socks5-client
if [ ! -x "$C" ]; then
	fail setup "$C not built (make all-tests)"
	finish
fi

# run_client NAME EXPECT-STATUS ERRNAME ARGS...: runs the client (bounded),
# checks its exit status and, on failure, the errno name it printed.
run_client() {
	local name=$1 want=$2 errname=$3 out rc
	shift 3
	out=$(timeout 30 "$C" --timeout 5000 "$@" 2>&1)
	rc=$?
	if [ "$rc" != "$want" ]; then
		fail "$name" "exit $rc, wanted $want: $(tr '\n' ' ' <<<"$out")"
		return 1
	fi
	if [ -n "$errname" ] && ! grep -q "^error: $errname:" <<<"$out"; then
		fail "$name" "wanted $errname: $(tr '\n' ' ' <<<"$out")"
		return 1
	fi
	LAST_OUT=$out
	return 0
}

# verdict NAME WHY CMD...: PASS when CMD succeeds, else FAIL with WHY.
verdict() {
	local name=$1 why=$2
	shift 2
	if "$@"; then
		pass "$name"
	else
		fail "$name" "$why"
	fi
}

# saw PEERS-FILE ADDR: the server logged ADDR as a peer.
saw() {
	grep -q "^$2 " "$T/$1.peers"
}

# only_saw PEERS-FILE ADDR: every peer the server logged was ADDR.
only_saw() {
	[ -s "$T/$1.peers" ] && ! grep -qv "^$2 " "$T/$1.peers"
}

E=$(free_port)
start_tcp_echo echo "$E" || { fail setup "tcp echo"; finish; }
U=$(free_port)
start_udp_echo uecho "$U" || { fail setup "udp echo"; finish; }

# dante: no auth, out from 127.0.0.2; with auth, out from 127.0.0.1.
DN=$(free_port)
EXTERNAL=127.0.0.2 start_danted dante "$DN" || { fail setup danted; finish; }
DU=$(free_port)
USER_OK=sfyt$$
add_test_user "$USER_OK" 'pa55 word' || { fail setup "test user"; finish; }
start_danted dante_auth "$DU" username || { fail setup "danted auth"; finish; }
# microsocks: no auth out from 127.0.0.3; with auth.
MN=$(free_port)
EXTERNAL=127.0.0.3 start_microsocks micro "$MN" ||
	{ fail setup microsocks; finish; }
MU=$(free_port)
start_microsocks micro_auth "$MU" bob 'b0b:pw' ||
	{ fail setup "microsocks auth"; finish; }

# --- CONNECT, no auth ----------------------------------------------------
: >"$T/echo.peers"
if run_client dante-connect 0 "" --proxy "socks5://127.0.0.1:$DN" \
	--connect "127.0.0.1:$E" --send hello --expect hello; then
	if only_saw echo 127.0.0.2; then
		pass dante-connect
	else
		fail dante-connect "echo saw $(cat "$T/echo.peers"), not 127.0.0.2"
	fi
fi

: >"$T/echo.peers"
if run_client microsocks-connect 0 "" --proxy "socks5://127.0.0.1:$MN" \
	--connect "127.0.0.1:$E" --send hello --expect hello; then
	if only_saw echo 127.0.0.3; then
		pass microsocks-connect
	else
		fail microsocks-connect "echo saw $(cat "$T/echo.peers"), not 127.0.0.3"
	fi
fi

# A name the proxy resolves (ATYP domain).
: >"$T/echo.peers"
run_client dante-connect-domain 0 "" --proxy "socks5h://127.0.0.1:$DN" \
	--connect "localhost:$E" --send name --expect name &&
	verdict dante-connect-domain "echo saw $(cat "$T/echo.peers")" \
		only_saw echo 127.0.0.2

# --- username / password --------------------------------------------------
: >"$T/echo.peers"
run_client dante-userpass 0 "" \
	--proxy "socks5://$USER_OK:pa55%20word@127.0.0.1:$DU" \
	--connect "127.0.0.1:$E" --send auth --expect auth &&
	verdict dante-userpass "echo saw no peer" saw echo 127.0.0.1
run_client dante-wrong-password 4 EACCES \
	--proxy "socks5://$USER_OK:wrong@127.0.0.1:$DU" \
	--connect "127.0.0.1:$E" && pass dante-wrong-password
run_client dante-no-credentials 4 EACCES \
	--proxy "socks5://127.0.0.1:$DU" --connect "127.0.0.1:$E" &&
	pass dante-no-credentials
# dante's own log: the session that passed was authenticated as the
# user, and the wrong password was refused by the password check.
verdict dante-auth-logged "dante log: $(tail -4 "$T/dante_auth.log")" \
	grep -q "tcp/connect \\[: username%$USER_OK@127\\.0\\.0\\.1" \
	"$T/dante_auth.log"
verdict dante-auth-refusal-logged "dante log: $(tail -4 "$T/dante_auth.log")" \
	grep -q "password authentication failed for user \"$USER_OK\"" \
	"$T/dante_auth.log"

: >"$T/echo.peers"
run_client microsocks-userpass 0 "" \
	--proxy "socks5://bob:b0b%3Apw@127.0.0.1:$MU" \
	--connect "127.0.0.1:$E" --send auth --expect auth &&
	verdict microsocks-userpass "echo saw no peer" saw echo 127.0.0.1
run_client microsocks-wrong-password 4 EACCES \
	--proxy "socks5://bob:nope@127.0.0.1:$MU" --connect "127.0.0.1:$E" &&
	pass microsocks-wrong-password
run_client microsocks-no-credentials 4 EACCES \
	--proxy "socks5://127.0.0.1:$MU" --connect "127.0.0.1:$E" &&
	pass microsocks-no-credentials

# --- refused destination: REP 0x05 -> ECONNREFUSED -------------------------
CLOSED=$(free_port)
run_client dante-refused 4 ECONNREFUSED --proxy "socks5://127.0.0.1:$DN" \
	--connect "127.0.0.1:$CLOSED" &&
	verdict dante-refused "not REP 0x05: $LAST_OUT" \
		grep -q 'connection refused' <<<"$LAST_OUT"
run_client microsocks-refused 4 ECONNREFUSED \
	--proxy "socks5://127.0.0.1:$MN" --connect "127.0.0.1:$CLOSED" &&
	pass microsocks-refused

# --- chain: microsocks (out from .3) -> dante (out from .2) -> echo ---------
: >"$T/echo.peers"
if run_client chain-2 0 "" \
	--proxy "socks5://127.0.0.1:$MN,socks5://127.0.0.1:$DN" \
	--connect "127.0.0.1:$E" --send chained --expect chained; then
	# dante saw microsocks (127.0.0.3) as its client; echo saw dante.
	if only_saw echo 127.0.0.2 &&
	   grep -q '127\.0\.0\.3\.[0-9]* 127\.0\.0\.1\.'"$DN" "$T/dante.log"; then
		pass chain-2
	else
		fail chain-2 "echo peers: $(cat "$T/echo.peers"); dante log: $(grep -c 127.0.0.3 "$T/dante.log") lines from 127.0.0.3"
	fi
fi
# Three hops, credentials in the middle.
: >"$T/echo.peers"
run_client chain-3 0 "" \
	--proxy "socks5://127.0.0.1:$MN,socks5://bob:b0b%3Apw@127.0.0.1:$MU,socks5://127.0.0.1:$DN" \
	--connect "127.0.0.1:$E" --send three --expect three &&
	verdict chain-3 "echo saw $(cat "$T/echo.peers")" \
		only_saw echo 127.0.0.2
# A refusal at the last hop is reported as such.
run_client chain-refused 4 ECONNREFUSED \
	--proxy "socks5://127.0.0.1:$MN,socks5://127.0.0.1:$DN" \
	--connect "127.0.0.1:$CLOSED" &&
	verdict chain-refused "not at hop 1: $LAST_OUT" \
		grep -q 'hop 1' <<<"$LAST_OUT"

# --- UDP ASSOCIATE through dante -------------------------------------------
: >"$T/uecho.peers"
if run_client dante-udp 0 "" --proxy "socks5://127.0.0.1:$DN" \
	--udp "127.0.0.1:$U" --send datagram --expect datagram; then
	if only_saw uecho 127.0.0.2 &&
	   grep -q "datagram from 127.0.0.1:$U" <<<"$LAST_OUT"; then
		pass dante-udp
	else
		fail dante-udp "udp echo saw $(cat "$T/uecho.peers"); $LAST_OUT"
	fi
fi

# --- BIND through dante: two replies ---------------------------------------
run_client dante-bind 0 "" --proxy "socks5://127.0.0.1:$DN" \
	--bind "0.0.0.0:0" --send "from the peer" --expect "from the peer" &&
	verdict dante-bind "no second reply: $LAST_OUT" \
		grep -q '^bind peer ' <<<"$LAST_OUT"

# --- IPv6: dante on ::1, TCP and UDP ----------------------------------------
if ip -6 addr show dev lo 2>/dev/null | grep -q '::1'; then
	E6=$(free_port)
	U6=$(free_port)
	D6=$(free_port)
	if ! { LISTEN=::1 start_tcp_echo echo6 "$E6" &&
	       LISTEN=::1 start_udp_echo uecho6 "$U6" &&
	       LISTEN=::1 start_danted dante6 "$D6"; }; then
		fail ipv6-setup "servers on ::1"
	fi
	run_client dante-ipv6-connect 0 "" --proxy "socks5://[::1]:$D6" \
		--connect "[::1]:$E6" --send six --expect six &&
		verdict dante-ipv6-connect "echo6 saw no ::1 peer" saw echo6 ::1
	run_client dante-ipv6-udp 0 "" --proxy "socks5://[::1]:$D6" \
		--udp "[::1]:$U6" --send dgram6 --expect dgram6 &&
		verdict dante-ipv6-udp "udp echo6 saw no ::1 peer" \
			saw uecho6 ::1
else
	skip ipv6 "no ::1 on lo in this environment"
fi

# --- the proxy is down / stalls ---------------------------------------------
DOWN=$(free_port)
t0=$(date +%s%N)
run_client proxy-down 3 ECONNREFUSED --proxy "socks5://127.0.0.1:$DOWN" \
	--connect "127.0.0.1:$E" && {
	ms=$((($(date +%s%N) - t0) / 1000000))
	if [ "$ms" -lt 1000 ]; then
		pass proxy-down
	else
		fail proxy-down "took ${ms} ms"
	fi
}

S=$(free_port)
start_silent stalled "$S" || fail setup "silent server"
t0=$(date +%s%N)
run_client proxy-stalls 4 ETIMEDOUT --timeout 700 \
	--proxy "socks5://127.0.0.1:$S" --connect "127.0.0.1:$E" && {
	ms=$((($(date +%s%N) - t0) / 1000000))
	if [ "$ms" -ge 700 ] && [ "$ms" -lt 3000 ]; then
		pass proxy-stalls
	else
		fail proxy-stalls "timed out after ${ms} ms, wanted ~700"
	fi
}

finish
