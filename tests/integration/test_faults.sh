#!/usr/bin/env bash
#
# A misbehaving proxy (tests/faults/peer.py, scripted per connection) in
# front of a real program (python3 sockets, tests/faults/client.py) with
# libsocksify.so preloaded. For every scenario:
#   - connect() ends with the documented errno (DESIGN's table), within
#     the timeout; a stall ends with ETIMEDOUT at SOCKSIFY_TIMEOUT_MS;
#   - no crash (exit 0, no sanitizer report), no descriptor leaked
#     (/proc/self/fd counted inside the program);
#   - nothing reached the target directly: the target logs each peer, and
#     the only peer allowed is the fault peer's own relay (127.0.0.2) for
#     the program's NEXT connection, which the peer answers properly and
#     which must work.
# The errno each scenario produced is printed as a table at the end.

. "$(dirname "$0")/lib.sh"

PEER=$ROOT/tests/faults/peer.py
CLIENT=$ROOT/tests/faults/client.py
PW=fault-pw-$$

if [ ! -f "$B/libsocksify.so" ]; then
	fail setup "$B/libsocksify.so missing (run make)"
	finish
fi

TP=$(free_port)
start_tcp_echo target "$TP" || { fail setup "target echo server"; finish; }
# Each peer.py takes a port of its own from the kernel; none of them is
# ever the target's.

# A proper answer and relay, from 127.0.0.2 so that the target can tell
# the relay apart from a direct connection (127.0.0.1).
OK_REPLY="05 00 00 01 7f 00 00 01 04 38"
GOOD="expect greeting; send 05 00; expect request; send $OK_REPLY; relay 127.0.0.2"
G="expect greeting"
REQ="expect greeting; send 05 00; expect request"
AUTH="expect greeting; send 05 02; expect auth"

TABLE=()
NPEER=0

# start_peer SCRIPT...: a peer playing the scripts; sets PEER_PORT.
start_peer() {
	local pf i
	NPEER=$((NPEER + 1))
	pf=$T/peer$NPEER.port
	"$PY" "$PEER" --port-file "$pf" --log "$T/peer$NPEER.log" "$@" \
		>>"$T/peer$NPEER.out" 2>&1 &
	PEER_PID=$!
	_sfy_track "$PEER_PID"
	for ((i = 0; i < 100; i++)); do
		[ -s "$pf" ] && break
		sleep 0.05
	done
	PEER_PORT=$(cat "$pf" 2>/dev/null)
	[ -n "$PEER_PORT" ]
}

# scenario NAME EXPECT DATA CREDS TIMEOUT_MS SCRIPT [MODE]
#   TIMEOUT_MS  $STALL: a stall, connect() must end at this bound; any
#               other value: connect() must end well before it
#   EXPECT  what the first connect() gives: OK or an errno name
#   DATA    the data path after a successful connect (-, echo, eof, ...)
#   CREDS   auth: the proxy URL carries a user and password; none: not
#   MODE    echo (default) or read (read before sending anything)
scenario() {
	local name=$1 want=$2 wdata=$3 creds=$4 tmo=$5 script=$6
	local mode=${7:-echo} url out rc ms why= npeers direct want_peers
	if ! start_peer "$script" "$GOOD"; then
		fail "fault_$name" "the peer did not start: $(cat "$T/peer$NPEER.out")"
		return
	fi
	url=socks5://127.0.0.1:$PEER_PORT
	[ "$creds" = auth ] && url=socks5://fuser:$PW@127.0.0.1:$PEER_PORT
	: >"$T/target.peers"
	out=$(env -u SOCKSIFY_PROXY -u ALL_PROXY -u all_proxy -u NO_PROXY \
		-u no_proxy -u SOCKSIFY_LOG -u SOCKSIFY_LOG_FILE \
		"${SFY_PRELOAD_ENV[@]}" SOCKSIFY_PROXY="$url" SOCKSIFY_NO_PROXY= \
		SOCKSIFY_TIMEOUT_MS="$tmo" \
		timeout 30 "$PY" "$CLIENT" 127.0.0.1 "$TP" "$mode" \
		2>"$T/client.err")
	rc=$?
	stop_pid "$PEER_PID"
	ms=$(sed -n 's/.* ms=\([0-9]*\) .*/\1/p' <<<"$out")
	got=${out%% *}
	got=${got#first=}
	got=${got#ERR:}
	TABLE+=("$(printf '%-28s %-13s %-13s %5s ms' "$name" "$want" "${got:-?}" "${ms:-?}")")

	[ "$rc" = 0 ] || why="$why exit status $rc;"
	[ "$got" = "$want" ] || why="$why connect gave '$got', want '$want';"
	[[ $out == *" data=$wdata "* ]] || why="$why data path not '$wdata';"
	[[ $out == *" fds=stable "* ]] || why="$why descriptors leaked;"
	[[ $out == *" next=OK" ]] || why="$why next connection failed;"
	if [ -z "$ms" ]; then
		why="$why no time;"
	elif [ "$tmo" = "$STALL" ]; then
		# the deadline covers reaching the proxy and the whole handshake
		if [ "$ms" -lt $((tmo - 20)) ] || [ "$ms" -gt $((tmo + 800)) ]; then
			why="$why timed out after $ms ms for a timeout of $tmo ms;"
		fi
	elif [ "$ms" -ge "$tmo" ]; then
		why="$why took $ms ms, the timeout is $tmo ms;"
	fi
	# the first connection (when it succeeded) and the next one, through
	# the peer's relay only
	want_peers=1
	[ "$want" = OK ] && [ "$wdata" = echo ] && want_peers=2
	npeers=$(wc -l <"$T/target.peers")
	direct=$(grep -vc '^127\.0\.0\.2 ' "$T/target.peers")
	[ "$direct" = 0 ] || why="$why $direct direct connection(s) to the target;"
	[ "$npeers" = "$want_peers" ] ||
		why="$why the target saw $npeers connection(s), want $want_peers;"
	if grep -qE 'AddressSanitizer|runtime error|LeakSanitizer' "$T/client.err"; then
		why="$why sanitizer report;"
	fi
	if grep -q "$PW" "$T/client.err"; then
		why="$why the password is in the log;"
	fi
	if [ "$want" != OK ] && ! grep -q 'socksify\[[0-9]*\]: warn: connect to 127.0.0.1' "$T/client.err"; then
		why="$why no log line saying what failed;"
	fi
	if [ -n "$why" ]; then
		fail "fault_$name" "${why# } output '$out'; stderr: $(head -c 600 "$T/client.err"); peer: $(tr '\n' '|' <"$T/peer$NPEER.log" | head -c 600)"
	else
		pass "fault_$name"
	fi
}

TMO=3000     # every failure must come well before this
STALL=1000   # the stall cases time out at this

# --- method selection --------------------------------------------------
scenario method_reply_version  ECONNREFUSED - none $TMO "$G; send 04 00; stall 5000"
scenario method_reply_http     ECONNREFUSED - none $TMO "$G; send 48545450 2f312e31 20343030 0d0a0d0a; stall 5000"
scenario method_ff             EACCES       - none $TMO "$G; send 05 ff; stall 5000"
scenario method_ff_with_creds  EACCES       - auth $TMO "$G; send 05 ff; stall 5000"
scenario method_not_offered    ECONNREFUSED - none $TMO "$G; send 05 02; stall 5000"
scenario method_gssapi_not_offered ECONNREFUSED - auth $TMO "$G; send 05 01; stall 5000"
scenario method_reply_truncated ECONNREFUSED - none $TMO "$G; send 05; close"
# closed with the greeting unread: the kernel answers with a RST
scenario closed_unread_at_accept ECONNRESET - none $TMO "sleep 100; close"
scenario closed_after_greeting ECONNREFUSED - none $TMO "$G; close"

# --- RFC 1929 ----------------------------------------------------------
scenario auth_rejected         EACCES       - auth $TMO "$AUTH; send 01 01; stall 5000"
scenario auth_reply_version    ECONNREFUSED - auth $TMO "$AUTH; send 05 00; stall 5000"
scenario auth_reply_truncated  ECONNREFUSED - auth $TMO "$AUTH; send 01; close"
scenario auth_slow_ok          OK        echo auth $TMO "$G; sendslow 30 05 02; expect auth; sendslow 30 01 00; expect request; sendslow 20 $OK_REPLY; relay 127.0.0.2"

# --- the request's reply ------------------------------------------------
scenario reply_version         ECONNREFUSED - none $TMO "$REQ; send 04 00 00 01 7f 00 00 01 04 38; stall 5000"
scenario reply_rsv_nonzero     ECONNREFUSED - none $TMO "$REQ; send 05 00 01 01 7f 00 00 01 04 38; stall 5000"
scenario reply_truncated       ECONNREFUSED - none $TMO "$REQ; send 05 00 00 01 7f 00; close"
scenario reply_truncated_domain ECONNREFUSED - none $TMO "$REQ; send 05 00 00 03 0a 61 62; close"
scenario reply_atyp_02         ECONNREFUSED - none $TMO "$REQ; send 05 00 00 02 7f 00 00 01 04 38; stall 5000"
scenario reply_atyp_00         ECONNREFUSED - none $TMO "$REQ; send 05 00 00 00 7f 00 00 01 04 38; stall 5000"
scenario reply_atyp_ff         ECONNREFUSED - none $TMO "$REQ; send 05 00 00 ff 7f 00 00 01 04 38; stall 5000"
scenario reply_domain_empty    ECONNREFUSED - none $TMO "$REQ; send 05 00 00 03 00 04 38; stall 5000"
scenario reply_domain_255      OK        echo none $TMO "$REQ; send 05 00 00 03 ff 61*255 04 38; relay 127.0.0.2"
scenario reply_ipv6_bnd        OK        echo none $TMO "$REQ; send 05 00 00 04 00*15 01 04 38; relay 127.0.0.2"
scenario reply_one_byte_at_a_time OK     echo none $TMO "$G; sendslow 40 05 00; expect request; sendslow 40 $OK_REPLY; relay 127.0.0.2"
scenario reply_then_data_same_write OK data:hello none $TMO "$REQ; send $OK_REPLY 68656c6c6f; stall 5000" read
scenario closed_after_success  OK        eof  none $TMO "$REQ; send $OK_REPLY; close" read

# --- REP codes: DESIGN's table ------------------------------------------
rep_errno() {
	case $1 in
	02) echo EACCES ;;
	03) echo ENETUNREACH ;;
	04) echo EHOSTUNREACH ;;
	06) echo ETIMEDOUT ;;
	07) echo EOPNOTSUPP ;;
	08) echo EAFNOSUPPORT ;;
	*) echo ECONNREFUSED ;;
	esac
}
for rep in 01 02 03 04 05 06 07 08 09 80 ff; do
	scenario "rep_$rep" "$(rep_errno $rep)" - none $TMO \
		"$REQ; send 05 $rep 00 01 00 00 00 00 00 00; stall 5000"
done
# a refusal with a domain BND (some servers echo the name back)
scenario rep_05_domain_bnd ECONNREFUSED - none $TMO "$REQ; send 05 05 00 03 04 74657374 00 50; stall 5000"

# --- stalls and resets ---------------------------------------------------
scenario stall_at_accept       ETIMEDOUT    - none $STALL "stall 10000"
scenario stall_after_method    ETIMEDOUT    - none $STALL "$G; send 05 00; stall 10000"
scenario stall_mid_reply       ETIMEDOUT    - none $STALL "$REQ; send 05 00 00 01; stall 10000"
scenario stall_in_auth         ETIMEDOUT    - auth $STALL "$AUTH; stall 10000"
# slower than the timeout in total, though every byte comes: still bounded
scenario trickle_past_deadline ETIMEDOUT    - none $STALL "$G; sendslow 400 05 00; expect request; sendslow 400 $OK_REPLY"
scenario reset_after_greeting  ECONNRESET   - none $TMO "$G; reset"
scenario reset_after_request   ECONNRESET   - none $TMO "$REQ; reset"
scenario reset_mid_reply       ECONNRESET   - none $TMO "$REQ; send 05 00 00; sleep 50; reset"

# --- the UDP relay misbehaving --------------------------------------------
# The association is made with the peer, whose relay then sends the bad
# datagram(s) and one good one: the program must receive the good one
# only (from the target's address), nothing late, and go on using the
# association (the peer echoes "again"). The target itself must see no
# datagram at all. Nothing is bypassed (SOCKSIFY_NO_PROXY=), so a
# datagram from anything but the relay is foreign.
UP=$(free_port)
start_udp_echo utarget "$UP" || fail setup "UDP target"
UPHEX=$(printf '%04x' "$UP")
UHDR="00 00 00 01 7f 00 00 01 $UPHEX"
GOODDG="$UHDR 676f6f64"
EVIL=6576696c
UASSOC="expect greeting; send 05 00; expect request; udp-open; send 05 00 00 @udp; udp-expect"

UTABLE=()
# udp_scenario NAME EXPECT BUFSIZE SCRIPT: EXPECT is the client's "recv=..."
udp_scenario() {
	local name=$1 want=$2 bufsize=$3 script=$4 out rc why=
	if ! start_peer "$script"; then
		fail "fault_udp_$name" "the peer did not start"
		return
	fi
	: >"$T/utarget.peers"
	out=$(env -u SOCKSIFY_PROXY -u ALL_PROXY -u all_proxy -u NO_PROXY \
		-u no_proxy -u SOCKSIFY_LOG -u SOCKSIFY_LOG_FILE -u SOCKSIFY_UDP \
		"${SFY_PRELOAD_ENV[@]}" SOCKSIFY_PROXY="socks5://127.0.0.1:$PEER_PORT" \
		SOCKSIFY_NO_PROXY= SOCKSIFY_TIMEOUT_MS=$TMO \
		timeout 30 "$PY" "$ROOT/tests/faults/udp_client.py" 127.0.0.1 "$UP" \
		"$bufsize" 2>"$T/client.err")
	rc=$?
	stop_pid "$PEER_PID"
	UTABLE+=("$(printf '%-26s %s' "$name" "${out%% late=*}")")
	[ "$rc" = 0 ] || why="$why exit status $rc;"
	[[ $out == "recv=$want from=127.0.0.1:$UP "* ]] ||
		why="$why want recv=$want from the target's address;"
	[[ $out == *" late=none "* ]] || why="$why a datagram came late;"
	[[ $out == *" next=OK "* ]] || why="$why the association did not go on working;"
	[[ $out == *" fds=stable" ]] || why="$why descriptors leaked;"
	[ ! -s "$T/utarget.peers" ] || why="$why the target got $(wc -l <"$T/utarget.peers") datagram(s);"
	if grep -qE 'AddressSanitizer|runtime error' "$T/client.err"; then
		why="$why sanitizer report;"
	fi
	if [ -n "$why" ]; then
		fail "fault_udp_$name" "${why# } output '$out'; stderr: $(head -c 500 "$T/client.err"); peer: $(tr '\n' '|' <"$T/peer$NPEER.log" | head -c 500)"
	else
		pass "fault_udp_$name"
	fi
}

ubad() { # NAME BAD-DATAGRAM-HEX: the bad one, then the good one
	udp_scenario "$1" good 65536 \
		"$UASSOC; udp-send $2; sleep 20; udp-send $GOODDG; udp-echo 1; stall 10000"
}
ubad truncated_3_bytes     "00 00 00"
ubad truncated_in_address  "00 00 00 01 7f 00"
ubad truncated_ipv6        "00 00 00 04 00 00 00 00"
ubad empty_datagram        ""
ubad rsv_nonzero           "01 00 00 01 7f 00 00 01 $UPHEX $EVIL"
ubad frag_1                "00 00 01 01 7f 00 00 01 $UPHEX $EVIL"
ubad frag_end_of_sequence  "00 00 81 01 7f 00 00 01 $UPHEX $EVIL"
ubad atyp_02               "00 00 00 02 7f 00 00 01 $UPHEX $EVIL"
ubad atyp_ff               "00 00 00 ff 7f 00 00 01 $UPHEX $EVIL"
ubad domain_empty          "00 00 00 03 00 $UPHEX $EVIL"
ubad domain_past_end       "00 00 00 03 ff 61 62 63"
udp_scenario foreign_source good 65536 \
	"$UASSOC; udp-send-foreign $UHDR $EVIL; sleep 20; udp-send $GOODDG; udp-echo 1; stall 10000"
# the largest datagram there is (65507 bytes: header + 65497), into a big
# buffer and into a small one (truncated like any UDP datagram)
udp_scenario oversize_max_datagram pattern:65497 65536 \
	"$UASSOC; udp-send $UHDR pattern:65497; udp-echo 1; stall 10000"
udp_scenario oversize_small_buffer pattern:100 100 \
	"$UASSOC; udp-send $UHDR pattern:65497; udp-echo 1; stall 10000"

echo "# fault scenarios: first connect() through the misbehaving peer"
printf '# %-28s %-13s %-13s %s\n' scenario expected got time
for line in "${TABLE[@]}"; do
	echo "# $line"
done
echo "# UDP relay scenarios: the bad datagram is dropped, the good one after it received"
for line in "${UTABLE[@]}"; do
	echo "# $line"
done

finish
