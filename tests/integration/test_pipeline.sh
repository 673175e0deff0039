#!/usr/bin/env bash
# Pipelined handshakes through the preload, against the real servers:
# microsocks discards what follows the greeting, dante reads by length.
#   - auto (default): the probe beside the second connect learns which;
#     microsocks stays lock-step and nothing hangs or fails, dante is
#     pipelined from the third connect on (no "request-send" state left),
#     with and without a password;
#   - the round trips show: through a relay adding 20 ms each way, a
#     pipelined connect has its first byte back in 2 round trips, where
#     lock-step needs 3 (4 with a password);
#   - on: pipelined from the first connect; against microsocks that fails
#     at the timeout, which is why auto is the default;
#   - off: lock-step and no probe connection;
#   - a bad value is reported and fails closed.
# The client is tests/bench's bench program: a plain connect() caller.
. "$(dirname "$0")/lib.sh"

BB=$B/bench
if [ ! -x "$BB/bench" ] || [ ! -x "$BB/bench_target" ] || [ ! -x "$BB/bench_relay" ]; then
	fail pipeline-built "bench programs missing in $BB"
	finish
fi

TP=$(free_port)
start_bench_target target "$TP" || { fail pipeline-setup "target did not start"; finish; }

# run NAME PROXY-URL [ENV...] -- BENCH-ARGS: the bench program under the
# preload with debug logs in $T/NAME.log; its output in $T/NAME.out.
run() {
	local name=$1 url=$2
	shift 2
	local envs=()
	while [ "$1" != -- ]; do
		envs+=("$1")
		shift
	done
	shift
	: >"$T/$name.log"
	timeout 60 env "${SFY_PRELOAD_ENV[@]}" SOCKSIFY_PROXY="$url" \
		SOCKSIFY_NO_PROXY= SOCKSIFY_LOG=debug \
		SOCKSIFY_LOG_FILE="$T/$name.log" "${envs[@]}" \
		"$BB/bench" "$@" --target "127.0.0.1:$TP" >"$T/$name.out" 2>&1
}

# Lock-step connections enter "request-send"; pipelined ones never do.
lockstep_count() { grep -c ': request-send$' "$T/$1.log"; }

expect() { # NAME CONDITION-TEXT: pass when the condition (eval) holds
	if eval "$2"; then
		pass "$1"
	else
		fail "$1" "not true: $2 ($3)"
	fi
}

# ---- microsocks: auto never pipelines, never hangs -------------------------
MP=$(free_port)
start_microsocks m "$MP" || { fail pipeline-setup "microsocks"; finish; }
t0=$(date +%s%N)
run m-auto "socks5://127.0.0.1:$MP" -- loop --count 6
rc=$?
ms=$((($(date +%s%N) - t0) / 1000000))
expect pipeline-microsocks-auto-works '[ $rc = 0 ] && grep -q "connections 6" "$T/m-auto.out"' \
	"exit $rc: $(cat "$T/m-auto.out")"
expect pipeline-microsocks-auto-fast '[ $ms -lt 3000 ]' "${ms} ms"
expect pipeline-microsocks-probe-says-no 'grep -qE "does not take pipelined|learnt nothing certain" "$T/m-auto.log"' \
	"$(grep pipelining "$T/m-auto.log")"
expect pipeline-microsocks-stays-lockstep '[ "$(lockstep_count m-auto)" = 6 ]' \
	"$(lockstep_count m-auto) lock-step of 6"

MAP=$(free_port)
start_microsocks ma "$MAP" alice s3cret || { fail pipeline-setup "microsocks auth"; finish; }
run ma-auto "socks5://alice:s3cret@127.0.0.1:$MAP" -- loop --count 4
expect pipeline-microsocks-auth-auto-works 'grep -q "connections 4" "$T/ma-auto.out"' \
	"$(cat "$T/ma-auto.out")"
expect pipeline-microsocks-auth-probe-says-no '! grep -q "takes pipelined" "$T/ma-auto.log" && [ "$(lockstep_count ma-auto)" = 4 ]' \
	"$(grep pipelining "$T/ma-auto.log")"

# Forcing it on a server that cannot take it fails at the timeout, bounded.
t0=$(date +%s%N)
run m-on "socks5://127.0.0.1:$MP" SOCKSIFY_PIPELINE=on SOCKSIFY_TIMEOUT_MS=400 -- loop --count 1
rc=$?
ms=$((($(date +%s%N) - t0) / 1000000))
expect pipeline-forced-on-microsocks-times-out \
	'[ $rc != 0 ] && grep -q "Connection timed out" "$T/m-on.out" && [ $ms -lt 3000 ]' \
	"exit $rc after ${ms} ms: $(cat "$T/m-on.out")"

# A bad value is reported and nothing goes anywhere.
run m-bad "socks5://127.0.0.1:$MP" SOCKSIFY_PIPELINE=maybe -- loop --count 1
rc=$?
expect pipeline-bad-value-fails-closed \
	'[ $rc != 0 ] && grep -q "SOCKSIFY_PIPELINE" "$T/m-bad.log"' \
	"exit $rc: $(cat "$T/m-bad.log" "$T/m-bad.out")"

# ---- dante: auto pipelines from the third connect ---------------------------
if ! is_root; then
	skip pipeline-dante "dante-server needs root"
	finish
fi
DP=$(free_port)
start_danted d "$DP" || { fail pipeline-setup "danted"; finish; }
# dante logs each request it carried out ("tcp/connect [") and each probe
# it refused ("unbound ipaddress (0.0.0.0.0)").
served() { grep -c 'tcp/connect \[' "$T/d.log"; }
probes() { grep -c 'unbound ipaddress (0.0.0.0.0)' "$T/d.log"; }

a=$(served) b=$(probes)
run d-auto "socks5://127.0.0.1:$DP" -- loop --count 6
expect pipeline-dante-auto-works 'grep -q "connections 6" "$T/d-auto.out"' "$(cat "$T/d-auto.out")"
expect pipeline-dante-probe-says-yes 'grep -q "takes pipelined" "$T/d-auto.log"' \
	"$(grep pipelining "$T/d-auto.log")"
# The probe rides beside connect 2; one that learnt nothing (dante slow to
# accept it on a loaded machine) is tried again at the next connect: 2 to 4
# lock-step connects, the rest pipelined.
expect pipeline-dante-auto-pipelines-after-probe 'l=$(lockstep_count d-auto); [ "$l" -ge 2 ] && [ "$l" -le 4 ]' \
	"$(lockstep_count d-auto) lock-step of 6"
sleep 0.3
expect pipeline-dante-one-probe '[ $(($(served) - a)) = 6 ] && [ $(($(probes) - b)) -ge 2 ]' \
	"dante carried out $(($(served) - a)) requests and refused $(($(probes) - b)) probe lines"

a=$(served) b=$(probes)
run d-off "socks5://127.0.0.1:$DP" SOCKSIFY_PIPELINE=off -- loop --count 4
sleep 0.3
expect pipeline-off-no-probe '[ $(($(served) - a)) = 4 ] && [ $(($(probes) - b)) = 0 ] && [ "$(lockstep_count d-off)" = 4 ]' \
	"served $(($(served) - a)), probes $(($(probes) - b)), lock-step $(lockstep_count d-off)"

# python's default SIGINT handler has no SA_RESTART, so its blocking
# connects run in the event-loop machine (tcp/async.c): the probe must
# run there too, and auto pipeline from then on as for a plain program.
if command -v python3 >/dev/null; then
	: >"$T/py-auto.log"
	timeout 60 env "${SFY_PRELOAD_ENV[@]}" SOCKSIFY_PROXY="socks5://127.0.0.1:$DP" \
		SOCKSIFY_NO_PROXY= SOCKSIFY_LOG=debug SOCKSIFY_LOG_FILE="$T/py-auto.log" \
		python3 -c '
import signal, socket, sys
assert signal.getsignal(signal.SIGINT) is signal.default_int_handler
n = 0
for i in range(6):
    s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=20)
    s.sendall(b"e")
    n += s.recv(1) == b"e"
    s.close()
print("echoes", n)' "$TP" >"$T/py-auto.out" 2>&1
	expect pipeline-python-auto-works 'grep -q "echoes 6" "$T/py-auto.out"' "$(cat "$T/py-auto.out")"
	expect pipeline-python-async-path-probes 'grep -q "takes pipelined" "$T/py-auto.log"' \
		"$(grep pipelining "$T/py-auto.log")"
	expect pipeline-python-pipelined-after-probe 'l=$(lockstep_count py-auto); [ "$l" -ge 2 ] && [ "$l" -le 4 ]' \
		"$(lockstep_count py-auto) lock-step of 6"
else
	skip pipeline-python "no python3"
fi

run d-on "socks5://127.0.0.1:$DP" SOCKSIFY_PIPELINE=on -- loop --count 3
expect pipeline-dante-forced-on '[ "$(lockstep_count d-on)" = 0 ] && grep -q "connections 3" "$T/d-on.out"' \
	"$(lockstep_count d-on) lock-step; $(cat "$T/d-on.out")"

# With a password: greeting (username/password only), credentials and
# request in one write.
DUP=$(free_port)
add_test_user sfypipe s3cretpw || { fail pipeline-setup "test user"; finish; }
start_danted du "$DUP" username || { fail pipeline-setup "danted auth"; finish; }
run du-warm "socks5://sfypipe:s3cretpw@127.0.0.1:$DUP" -- loop --count 1
run du-auto "socks5://sfypipe:s3cretpw@127.0.0.1:$DUP" -- loop --count 6
expect pipeline-dante-auth-works 'grep -q "connections 6" "$T/du-auto.out"' "$(cat "$T/du-auto.out")"
# A probe that overlaps a password check (PAM) may learn nothing and is
# tried again at the next connect, so up to 4 lock-step connects; the
# rest pipelined, password included (no auth-send state).
expect pipeline-dante-auth-pipelined 'l=$(lockstep_count du-auto); [ "$l" -ge 2 ] && [ "$l" -le 4 ] && [ "$(grep -c ": auth-send$" "$T/du-auto.log")" = "$l" ] && grep -q "takes pipelined" "$T/du-auto.log"' \
	"$(lockstep_count du-auto) lock-step of 6; $(grep pipelining "$T/du-auto.log")"

# ---- the round trips show -----------------------------------------------------
# 20 ms each way: lock-step no-auth = greeting, request, data = 3 round
# trips (120 ms); pipelined = 2 (80 ms). The median of 5 connections after
# the probe must be under 2.5 round trips.
RP=$(free_port)
start_latency_relay relay "$RP" "$DP" 20
run ttfb-on "socks5://127.0.0.1:$RP" SOCKSIFY_PIPELINE=on SOCKSIFY_EARLY_DATA=off -- ttfb --count 5
run ttfb-off "socks5://127.0.0.1:$RP" SOCKSIFY_PIPELINE=off -- ttfb --count 5
on=$(awk '$1 == "ttfb_us" { print $2 }' "$T/ttfb-on.out")
off=$(awk '$1 == "ttfb_us" { print $2 }' "$T/ttfb-off.out")
expect pipeline-one-round-trip '[ -n "$on" ] && [ "$on" -lt 100000 ] && [ "$on" -ge 80000 ]' \
	"pipelined ${on:-?} us"
expect pipeline-lockstep-two-round-trips '[ -n "$off" ] && [ "$off" -ge 120000 ]' \
	"lock-step ${off:-?} us"
finish
