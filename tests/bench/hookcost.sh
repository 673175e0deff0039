#!/usr/bin/env bash
#
# The hook-cost rows alone (hookcost.c under valgrind's callgrind), for one
# library: instructions the hooks add per call, bare subtracted, as
# run.sh's hook_rows counts them (N and 6N iterations, the difference).
#   B=build bash tests/bench/hookcost.sh [MODE...]
# Modes: close rw wait unix bypass tcpbypass peer send (default: all).
# Prints "MODE INSTRUCTIONS" lines: per call for close and rw, per three
# calls for wait (as run.sh), per round for the others (send: one send()
# and one recv()). Environment: LIB (the library, default
# $B/libsocksify.so), and the program's environment as usual
# (SOCKSIFY_PROXY defaults to a socks5h:// address nothing listens on:
# none of these calls is proxied).
set -u
B=${B:-build}
LIB=${LIB:-$B/libsocksify.so}
HC=$B/bench/hookcost
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
[ -x "$HC" ] || { echo "hookcost.sh: $HC missing (make $HC)" >&2; exit 1; }
command -v valgrind >/dev/null || { echo "hookcost.sh: valgrind missing" >&2; exit 1; }
modes=${*:-close rw wait unix bypass tcpbypass peer send}
n0=1000 n1=6000
. "$(dirname "$0")/hookinstr.sh"
instr() { hook_instr "$HC" "$T/cg.out" "$@"; } # MODE N [ENV...]
for m in $modes; do
	a=$(instr "$m" $n0) && b=$(instr "$m" $n1) || { echo "$m failed"; continue; }
	bare=$(( (b - a) / (n1 - n0) ))
	a=$(instr "$m" $n0 LD_PRELOAD="$LIB" SOCKSIFY_PROXY="${SOCKSIFY_PROXY:-socks5h://127.0.0.1:9}") &&
	b=$(instr "$m" $n1 LD_PRELOAD="$LIB" SOCKSIFY_PROXY="${SOCKSIFY_PROXY:-socks5h://127.0.0.1:9}") ||
		{ echo "$m failed"; continue; }
	per=$(( (b - a) / (n1 - n0) - bare ))
	case $m in close | rw) per=$((per / 2)) ;; wait) per=$((per / 3)) ;; esac
	echo "$m $per"
done
