#!/usr/bin/env bash
# Early data (issue 13, deliverable 3; tcp/async.h): where the proxy is
# known to take a pipelined handshake, connect() returns (or the socket
# turns writable) once greeting and request are handed to the kernel, the
# program's first write leaves in the same segment, and the proxy's
# replies are read before the program's first read:
#   - through a relay adding 20 ms each way to dante, the first echo byte
#     comes back in about one round trip (blocking and non-blocking),
#     where SOCKSIFY_EARLY_DATA=off needs two;
#   - the held bytes and the first write leave in one send (strace);
#   - a refusal (a closed port behind dante) surfaces at the first read,
#     as ECONNREFUSED, never as data or a hang; non-blocking too;
#   - a proxy that stalls after the request: ETIMEDOUT at the read, within
#     SOCKSIFY_TIMEOUT_MS;
#   - microsocks (auto: never pipelined) is never early, and works;
#   - a program that reads first (the server speaks first) is not stuck
#     behind the held bytes.
. "$(dirname "$0")/lib.sh"

BB=$B/bench
TT=$B/tests/tools/ttfb
if [ ! -x "$BB/bench_target" ] || [ ! -x "$BB/bench_relay" ] || [ ! -x "$TT" ]; then
	fail early-built "bench_target, bench_relay or tests/tools/ttfb missing"
	finish
fi
if ! is_root; then
	skip early-data "dante-server needs root"
	finish
fi

TP=$(free_port)
start_bench_target target "$TP" || { fail early-setup "target did not start"; finish; }
DP=$(free_port)
start_danted d "$DP" || { fail early-setup "danted"; finish; }
RP=$(free_port)
start_latency_relay relay "$RP" "$DP" 20 || { fail early-setup "relay"; finish; }

# tt NAME PROXY-PORT [ENV...] -- TTFB-ARGS: tests/tools/ttfb under the
# preload; output in $T/NAME.out, debug log in $T/NAME.log.
# Early data is off by default (config.c): on for every run here unless a
# run says off.
export SOCKSIFY_EARLY_DATA=on
tt() {
	local name=$1 port=$2
	shift 2
	local envs=()
	while [ "$1" != -- ]; do
		envs+=("$1")
		shift
	done
	shift
	: >"$T/$name.log"
	timeout 60 env "${SFY_PRELOAD_ENV[@]}" SOCKSIFY_PROXY="socks5://127.0.0.1:$port" \
		SOCKSIFY_NO_PROXY= SOCKSIFY_LOG=debug SOCKSIFY_LOG_FILE="$T/$name.log" \
		"${envs[@]}" "$TT" "$@" >"$T/$name.out" 2>&1
}
us() { sed -n 's/.*ttfb_us=\([0-9-]*\).*/\1/p' "$T/$1.out"; }

expect() { # NAME CONDITION-TEXT DETAIL
	if eval "$2"; then
		pass "$1"
	else
		fail "$1" "not true: $2 ($3)"
	fi
}

# ---- one round trip ---------------------------------------------------------
# RTT 40 ms (under 60 ms passes: a loaded machine adds a few ms; two
# round trips would be 80). Early: connect, then greeting + request + 'e' in one segment,
# the echo back: 1 RTT (+ dante's connect on loopback). Off: 2 RTT.
for mode in block nonblock; do
	tt "on-$mode" "$RP" SOCKSIFY_PIPELINE=on -- "$mode" 127.0.0.1 "$TP" 7
	tt "off-$mode" "$RP" SOCKSIFY_PIPELINE=on SOCKSIFY_EARLY_DATA=off -- "$mode" 127.0.0.1 "$TP" 7
	on=$(us "on-$mode") off=$(us "off-$mode")
	expect "early-$mode-one-round-trip" '[ -n "$on" ] && [ "$on" -ge 40000 ] && [ "$on" -lt 60000 ]' \
		"early ${on:-?} us: $(cat "$T/on-$mode.out")"
	expect "early-$mode-off-two-round-trips" '[ -n "$off" ] && [ "$off" -ge 80000 ]' \
		"off ${off:-?} us: $(cat "$T/off-$mode.out")"
done

# auto: the probe beside the second connect, early from then on.
tt auto-block "$RP" -- block 127.0.0.1 "$TP" 9
expect early-auto-after-probe 'grep -q "takes pipelined" "$T/auto-block.log" && [ "$(us auto-block)" -lt 60000 ]' \
	"$(cat "$T/auto-block.out"); $(grep pipelining "$T/auto-block.log")"

# ---- one send ------------------------------------------------------------------
if command -v strace >/dev/null; then
	: >"$T/strace.txt"
	timeout 60 env "${SFY_PRELOAD_ENV[@]}" SOCKSIFY_PROXY="socks5://127.0.0.1:$DP" \
		SOCKSIFY_NO_PROXY= SOCKSIFY_PIPELINE=on \
		strace -f -e trace=sendto,write,setsockopt -o "$T/strace.txt" \
		"$TT" block 127.0.0.1 "$TP" 1 >"$T/strace.out" 2>&1
	# greeting (3) + request (10) held with MSG_MORE, then 'e' alone: the
	# kernel sends the 14 bytes as one segment; no TCP_NODELAY flush.
	expect early-one-segment 'grep -q "MSG_MORE" "$T/strace.txt" && grep -q "write([0-9]*, \"e\", 1) *= 1" "$T/strace.txt" && ! grep -q TCP_NODELAY "$T/strace.txt"' \
		"$(grep -E 'sendto|write\(|setsockopt' "$T/strace.txt" | head -5)"
else
	skip early-one-segment "no strace"
fi

# ---- refusals and stalls ------------------------------------------------------
CP=$(free_port) # nothing listens there: dante answers REP 5
for mode in block nonblock; do
	tt "refused-$mode" "$DP" SOCKSIFY_PIPELINE=on -- "$mode" 127.0.0.1 "$CP" 1
	expect "early-$mode-refusal-at-first-read" 'grep -qE "errs=(read|soerror|connect):ECONNREFUSED" "$T/refused-$mode.out"' \
		"$(cat "$T/refused-$mode.out")"
done

SP=$(free_port)
start_silent stall "$SP" 2>/dev/null || true
if wait_port "$SP"; then
	for mode in block nonblock; do
		t0=$(date +%s%N)
		tt "stall-$mode" "$SP" SOCKSIFY_PIPELINE=on SOCKSIFY_TIMEOUT_MS=700 -- "$mode" 127.0.0.1 "$TP" 1
		ms=$((($(date +%s%N) - t0) / 1000000))
		expect "early-$mode-stall-times-out" 'grep -qE "errs=(read|poll-in|poll-out|connect):ETIMEDOUT" "$T/stall-$mode.out" && [ $ms -lt 5000 ]' \
			"after $ms ms: $(cat "$T/stall-$mode.out")"
	done
else
	skip early-stall "no silent server"
fi

# ---- more blocking early connects than the table holds ---------------------------
# Their slots stay until the first read: past half the table (256), the
# handshake runs inside connect() as before, instead of EAGAIN.
timeout 60 env "${SFY_PRELOAD_ENV[@]}" SOCKSIFY_PROXY="socks5://127.0.0.1:$DP" \
	SOCKSIFY_NO_PROXY= SOCKSIFY_PIPELINE=on python3 -c '
import signal, socket, sys
signal.signal(signal.SIGINT, signal.SIG_DFL)
ss = []
for i in range(300):
    s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=20)
    s.sendall(b"e"); ss.append(s)
print("echoes", sum(s.recv(1) == b"e" for s in ss))' "$TP" >"$T/many.out" 2>&1
expect early-more-than-the-table 'grep -q "echoes 300" "$T/many.out"' "$(tail -c 300 "$T/many.out")"

# ---- microsocks: never pipelined, never early ----------------------------------
MP=$(free_port)
start_microsocks m "$MP" || { fail early-setup "microsocks"; finish; }
tt micro "$MP" -- nonblock 127.0.0.1 "$TP" 6
expect early-microsocks-works 'grep -q "ok=6 " "$T/micro.out"' "$(cat "$T/micro.out")"

# ---- the server speaks first -------------------------------------------------
# python reads before it writes: the held handshake must leave anyway.
if command -v python3 >/dev/null; then
	HP=$(free_port)
	python3 -c '
import socket, sys
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", int(sys.argv[1]))); s.listen(8)
for i in range(2):
    c, _ = s.accept(); c.sendall(b"220 hello\n"); c.close()' "$HP" &
	_sfy_track $!
	wait_port "$HP"
	timeout 30 env "${SFY_PRELOAD_ENV[@]}" SOCKSIFY_PROXY="socks5://127.0.0.1:$DP" \
		SOCKSIFY_NO_PROXY= SOCKSIFY_PIPELINE=on python3 -c '
import socket, sys
for i in range(2):
    s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=10)
    print(s.recv(100).decode().strip())
    s.close()' "$HP" >"$T/first.out" 2>&1
	expect early-server-speaks-first '[ "$(grep -c "220 hello" "$T/first.out")" = 2 ]' "$(cat "$T/first.out")"
fi
finish
