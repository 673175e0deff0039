#!/usr/bin/env bash
# The benchmark programs still work (make bench is too long for make check):
# a second or so of each measurement, natively (libsocks5) and under the
# preload, against microsocks (no root needed) and the C target, through
# the latency relay too. Numbers are not judged here, only that each mode
# runs and reports one, and that the preload really went through the proxy.
. "$(dirname "$0")/lib.sh"

BB=$B/bench
for p in bench bench_target bench_relay hookcost; do
	if [ ! -x "$BB/$p" ]; then
		fail "bench-built" "$BB/$p missing"
		finish
	fi
done

TP=$(free_port); MP=$(free_port); RP=$(free_port)
"$BB/bench_target" 127.0.0.1 "$TP" >"$T/target.log" 2>&1 &
_sfy_track $!
start_microsocks m "$MP" || { fail "bench-setup" "microsocks did not start"; finish; }
"$BB/bench_relay" "$RP" 127.0.0.1 "$MP" 2 >"$T/relay.log" 2>&1 &
_sfy_track $!
wait_port "$TP" && wait_port "$RP" || { fail "bench-setup" "servers did not start"; finish; }

PX=socks5h://127.0.0.1:$MP
under() { # the bench program under the preload, loopback proxied
	timeout 30 env "${SFY_PRELOAD_ENV[@]}" SOCKSIFY_PROXY="$PX" \
		SOCKSIFY_NO_PROXY= "$@"
}
native=(--native "socks5://127.0.0.1:$MP")
num() { [[ $1 =~ ^[0-9]+(\.[0-9]+)?$ ]] && [ "${1%%.*}" -gt 0 ]; }

check() { # NAME KEY OUTPUT
	local v
	v=$(awk -v k="$2" '$1 == k { print $2 }' <<<"$3")
	if num "$v"; then
		pass "$1"
	else
		fail "$1" "no $2 in: $(tr '\n' ' ' <<<"$3")"
	fi
}

check bench-conn-native conn_per_s \
	"$(timeout 30 "$BB/bench" conn --target "127.0.0.1:$TP" --seconds 1 "${native[@]}")"
check bench-conn-preload conn_per_s \
	"$(under "$BB/bench" conn --target "127.0.0.1:$TP" --seconds 1 --threads 2)"
check bench-ttfb-native ttfb_us \
	"$(timeout 30 "$BB/bench" ttfb --target "127.0.0.1:$TP" --count 3 --native "socks5://127.0.0.1:$RP")"
check bench-ttfb-preload ttfb_us \
	"$(timeout 30 env "${SFY_PRELOAD_ENV[@]}" SOCKSIFY_PROXY="socks5://127.0.0.1:$RP" \
		SOCKSIFY_NO_PROXY= "$BB/bench" ttfb --target "127.0.0.1:$TP" --count 3)"
check bench-bulk-native mib_per_s \
	"$(timeout 30 "$BB/bench" bulk --target "127.0.0.1:$TP" --mib 8 "${native[@]}")"
check bench-bulk-preload mib_per_s \
	"$(under "$BB/bench" bulk --target "127.0.0.1:$TP" --mib 8)"
check bench-lookup lookup_ns_first_1k \
	"$(under "$BB/bench" lookup --count 2000)"
check bench-spawn spawn_us \
	"$(timeout 30 "$BB/bench" spawn --runs 5 -- /bin/true)"

# Every preloaded connection above went through microsocks: it logs one
# line per connection it made, and the target saw nothing else.
before=$(grep -c 'connected to' "$T/m.log")
under "$BB/bench" loop --target "127.0.0.1:$TP" --count 5 >/dev/null
sleep 0.2
after=$(grep -c 'connected to' "$T/m.log")
if [ $((after - before)) = 5 ]; then
	pass bench-preload-proxied
else
	fail bench-preload-proxied "microsocks saw $((after - before)) of 5 connections"
fi

# The hook-cost program's calls are the ones that must not be proxied:
# loopback goes direct by default.
for m in close unix bypass tcpbypass rw peer send; do
	if timeout 30 env "${SFY_PRELOAD_ENV[@]}" SOCKSIFY_PROXY="$PX" \
		"$BB/hookcost" "$m" 200; then
		pass "bench-hookcost-$m"
	else
		fail "bench-hookcost-$m" "exit status $?"
	fi
done
finish
