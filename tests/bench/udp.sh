#!/usr/bin/env bash
#
# UDP round trips per second through dante-server's relay: an unmodified
# program (udp_rtt client: sendto/recvfrom) under libsocksify.so, against
# the same loop speaking SOCKS5 UDP itself through libsocks5 (udp_rtt
# native). Rounds alternate between the two, so each pair shares the
# machine's load of the moment; the ratio printed is the median of the
# pairs' ratios, the rates are the medians of each side.
# Prints, last:
#
#   udp_rtt socksify=X/s native=Y/s ratio=Z
#
# after a line with each client's own CPU time per round trip (median),
# the cost a preload adds, which other load on the machine disturbs much
# less than the rates.
#
# As root the client runs in its own network namespace, the proxy in
# another and the echo target in a third (lib.sh's topology); dante-server
# runs only as root, so without it the line says n/a.
#
# Environment: B (build dir, default build), UDP_BENCH_SECS (per run,
# default 1), UDP_BENCH_ROUNDS (default 9).

if [ -z "${BASH_VERSION:-}" ]; then
	exec bash "$0" "$@"
fi
set -u

. "$(dirname "$0")/../integration/lib.sh"
cd "$ROOT" || exit 1
SECS=${UDP_BENCH_SECS:-1}
ROUNDS=${UDP_BENCH_ROUNDS:-9}
TOOL=$B/bench/udp_rtt

say() { printf '%s\n' "$*" >&2; }

if [ "$(id -u)" != 0 ]; then
	echo "udp_rtt socksify=n/a native=n/a ratio=n/a (dante-server needs root)"
	exit 0
fi
if [ ! -f "$B/libsocksify.so" ] || [ ! -f "$B/libsocks5.a" ]; then
	say "udp.sh: build first (make)"
	exit 1
fi
if [ ! -x "$TOOL" ] || [ tests/bench/udp_rtt.c -nt "$TOOL" ] ||
   [ "$B/libsocks5.a" -nt "$TOOL" ]; then
	mkdir -p "$B/bench"
	${CC:-cc} -std=gnu11 -D_GNU_SOURCE -O2 -Wall -Wextra -Werror \
		-o "$TOOL" tests/bench/udp_rtt.c "$B/libsocks5.a" || exit 1
fi

if is_root; then
	netns_up || { say "udp.sh: no namespaces"; exit 1; }
	# lib.sh records the client's link for the tests' leak check; a
	# benchmark proves nothing with it and would pay for every packet.
	if [ -n "${SFY_CAP_PID:-}" ]; then
		sfy_capture_stop "$SFY_CAP_PID"
		SFY_CAP_DONE=1
	fi
	CLI=(ip netns exec "$NS_CLI")
	PXNS=$NS_PX TGNS=$NS_TG PX=192.0.2.1 TG=198.51.100.2 OUT=198.51.100.1
	NOPX=()
else
	CLI=(env)
	PXNS= TGNS= PX=127.0.0.1 TG=127.0.0.1 OUT=127.0.0.2
	NOPX=(SOCKSIFY_NO_PROXY=)
fi
DANTE=$(free_port) ECHO=$(free_port)
NETNS=$PXNS LISTEN=$PX EXTERNAL=$OUT start_danted bench "$DANTE" || exit 1
pre=(env)
[ -n "$TGNS" ] && pre=(ip netns exec "$TGNS")
"${pre[@]}" "$TOOL" echo "$TG" "$ECHO" &
_sfy_track $!
for ((i = 0; i < 100; i++)); do
	[ -n "$("${pre[@]}" ss -Hlun "sport = :$ECHO")" ] && break
	sleep 0.05
done

run() { # socksify|native: "rate cpu_us"
	local out
	if [ "$1" = socksify ]; then
		out=$("${CLI[@]}" env LD_PRELOAD="$B/libsocksify.so" "${NOPX[@]}" \
			SOCKSIFY_PROXY="socks5://$PX:$DANTE" \
			timeout $((SECS + 20)) "$TOOL" client "$TG" "$ECHO" "$SECS")
	else
		out=$("${CLI[@]}" timeout $((SECS + 20)) "$TOOL" native \
			"socks5://$PX:$DANTE" "$TG" "$ECHO" "$SECS")
	fi
	out=${out#rtt_per_sec }
	echo "${out% cpu_us *} ${out#* cpu_us }"
}

median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR + 1) / 2)]}'; }

S=() N=() R=() SC=() NC=()
for ((r = 0; r < ROUNDS; r++)); do
	read -r a b < <(run socksify)
	S+=("$a") SC+=("$b")
	read -r a b < <(run native)
	N+=("$a") NC+=("$b")
	R+=("$(awk -v s="${S[r]}" -v n="${N[r]}" 'BEGIN { if (n > 0) printf "%.3f", s / n; else print 0 }')")
	say "round $((r + 1)): socksify ${S[r]}/s (${SC[r]} us cpu) native ${N[r]}/s (${NC[r]} us cpu) ratio ${R[r]}"
done
s=$(printf '%s\n' "${S[@]}" | median)
n=$(printf '%s\n' "${N[@]}" | median)
ratio=$(printf '%s\n' "${R[@]}" | median)
sc=$(printf '%s\n' "${SC[@]}" | median)
nc=$(printf '%s\n' "${NC[@]}" | median)
echo "udp_rtt client cpu per round trip: socksify=${sc}us native=${nc}us"
echo "udp_rtt socksify=$s/s native=$n/s ratio=$ratio"
