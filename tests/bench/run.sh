#!/usr/bin/env bash
#
# make bench: socksify side by side with the other shims from Debian's
# archive (proxychains4, torsocks, dante-client) and with a native client
# (the benchmark speaking SOCKS5 itself through libsocks5), against real
# local servers (dante-server and microsocks). Prints a table of medians
# and ratios and writes it to tests/bench/RESULTS.md.
#
# Topology (as root): two network namespaces made here. The client, the
# proxies and the latency relays run in one; the target (bench_target) in
# the other, at 198.51.100.2 behind a veth pair. The target must not be a
# local address of the client: dante-client sends local destinations
# direct, and torsocks refuses loopback ones. Without root everything runs
# on loopback and those two shims are reported as n/a.
#
# Every shim is checked to really go through the proxy (the proxy's log
# must count its connections) before its numbers are taken.
#
# Environment: B (build dir), BENCH_QUICK=1 (fewer and shorter runs, for a
# look), BENCH_SHIMS (a subset, e.g. "native socksify"), BENCH_RESULTS (the
# file for the table instead of tests/bench/RESULTS.md), BENCH_ONLY=evloop
# (only the event-loop rows, tests/bench/evloop_rows.sh), BENCH_ONLY=http
# (only the HTTP CONNECT row, tests/bench/http_rows.sh), BENCH_ONLY=lookup
# (only the name lookup rows), BENCH_ONLY=hook (only the hook cost rows;
# tests/bench/hookcost.sh counts them for socksify alone) or BENCH_ONLY=gss (only the GSSAPI throughput
# table, tests/bench/gss_rows.sh, which a full run adds under the main
# table when build/dante-gssapi exists).
#
# Bounded: each measurement has a timeout, and the whole run stops taking
# new measurements after BENCH_BUDGET seconds (default 1200: a full run
# on 2 cores took 614 s in 2026-12; the old 510 cut the last rows).

if [ -z "${BASH_VERSION:-}" ]; then
	exec bash "$0" "$@"
fi
set -u

. "$(dirname "$0")/../integration/lib.sh"
cd "$ROOT" || exit 1
if [ "${BENCH_ONLY:-}" = gss ]; then # its own namespaces and realm
	B=$B bash "$ROOT/tests/bench/gss_rows.sh"
	exit
fi
BB=$B/bench
RESULTS=${BENCH_RESULTS:-$ROOT/tests/bench/RESULTS.md}
BUDGET=${BENCH_BUDGET:-1200}
QUICK=${BENCH_QUICK:-0}
SHIMS=${BENCH_SHIMS:-"native socksify proxychains4 torsocks dante-client"}
DELAY_MS=5
if [ "$QUICK" = 1 ]; then
	ROUNDS=1; SECS=1; TTFB_N=7; MIB=64; NAMES=20000; SPAWNS=30
else
	# 2 cores shared by client, proxy and target: single runs vary by
	# 20 % or more, so five interleaved rounds of each.
	ROUNDS=5; SECS=2; TTFB_N=15; MIB=1024; NAMES=100000; SPAWNS=200
fi

say() { printf '%s\n' "$*" >&2; }

for p in bench bench_target bench_relay; do
	if [ ! -x "$BB/$p" ]; then
		say "bench: $BB/$p missing (run make bench)"
		exit 1
	fi
done

# ---- the other shims, from Debian's archive ------------------------------

# The shims come from tools/install-deps.sh (make bench runs it with
# "bench"); run here too for a direct `sh tests/bench/run.sh`. Quiet when
# they are there; without root it only names what is missing.
install_shims() {
	sh "$ROOT/tools/install-deps.sh" bench >&2 ||
		say "bench: tools/install-deps.sh bench failed; shims missing are reported as n/a"
}
install_shims

LIBPC=$(dpkg -L libproxychains4 2>/dev/null | grep 'libproxychains.so' | head -n 1)
LIBTS=$(dpkg -L torsocks 2>/dev/null | grep 'libtorsocks.so$' | head -n 1)
LIBDS=$(dpkg -L libdsocksd0 2>/dev/null | grep 'libdsocksd.so.0$' | head -n 1)
DANTE_SOCKSIFY=/usr/bin/socksify  # dante-client's wrapper (a shell script)

have_shim() {
	case $1 in
	native | socksify) return 0 ;;
	proxychains4) command -v proxychains4 >/dev/null && [ -n "$LIBPC" ] ;;
	torsocks) command -v torsocks >/dev/null && [ -n "$LIBTS" ] && [ "$NETNS_OK" = 1 ] ;;
	dante-client) [ -x "$DANTE_SOCKSIFY" ] && [ -n "$LIBDS" ] && [ "$NETNS_OK" = 1 ] ;;
	esac
}

# ---- topology -------------------------------------------------------------

NSC=sfy-bench-c-$$
NST=sfy-bench-t-$$
NETNS_OK=0
bench_netns_down() {
	ip netns del "$NSC" 2>/dev/null
	ip netns del "$NST" 2>/dev/null
	return 0
}
bench_cleanup() {
	local rc=$?
	set +e
	for pid in "${SFY_PIDS[@]}"; do
		stop_pid "$pid"
	done
	SFY_PIDS=()
	[ "$NETNS_OK" = 1 ] && bench_netns_down
	exit "$rc"
}
trap 'bench_cleanup; _sfy_cleanup' EXIT

if is_root && ip netns add "$NSC" 2>/dev/null; then
	if ip netns add "$NST" &&
	   ip -n "$NSC" link set lo up && ip -n "$NST" link set lo up &&
	   ip -n "$NSC" link add to-tg type veth peer name to-cli netns "$NST" &&
	   ip -n "$NSC" addr add 198.51.100.1/32 dev to-tg &&
	   ip -n "$NST" addr add 198.51.100.2/32 dev to-cli &&
	   ip -n "$NSC" link set to-tg up && ip -n "$NST" link set to-cli up &&
	   ip -n "$NSC" route add 198.51.100.2/32 dev to-tg &&
	   ip -n "$NST" route add 198.51.100.1/32 dev to-cli &&
	   ip netns exec "$NSC" sysctl -q -w net.ipv4.tcp_tw_reuse=1 &&
	   ip netns exec "$NST" sysctl -q -w net.ipv4.tcp_tw_reuse=1; then
		# /32 addresses: dante-client sends destinations in the subnet of
		# a local interface direct. tw_reuse: tens of thousands of proxy
		# to target connections pass through TIME_WAIT on the veth (the
		# default reuses ports on loopback only).
		NETNS_OK=1
	else
		bench_netns_down
	fi
fi
if [ "$NETNS_OK" = 1 ]; then
	TADDR=198.51.100.2
	CLI=(ip netns exec "$NSC")
	TGT=(ip netns exec "$NST")
	NOPROXY=()
	TOPOLOGY="client, proxies and relays in one network namespace, the target in another at 198.51.100.2 (veth)"
	for i in $(seq 100); do
		"${CLI[@]}" ip -o link show to-tg | grep -q LOWER_UP && break
		sleep 0.05
	done
else
	TADDR=127.0.0.1
	CLI=(env)
	TGT=(env)
	NOPROXY=(-n '')  # loopback targets: proxy them anyway
	TOPOLOGY="loopback only (not root): torsocks and dante-client cannot be measured (they send loopback destinations direct or refuse them)"
fi

TP=$(free_port); DP=$(free_port); MP=$(free_port); RDP=$(free_port); RMP=$(free_port); UP=$(free_port)
"${TGT[@]}" "$BB/bench_target" "$TADDR" "$TP" >"$T/target.log" 2>&1 &
_sfy_track $!
NETNS=$([ "$NETNS_OK" = 1 ] && echo "$NSC") EXTERNAL=$([ "$NETNS_OK" = 1 ] && echo 198.51.100.1 || echo 127.0.0.1) \
	start_danted dante "$DP" || { say "bench: danted did not start"; exit 1; }
NETNS=$([ "$NETNS_OK" = 1 ] && echo "$NSC") start_microsocks micro "$MP" ||
	{ say "bench: microsocks did not start"; exit 1; }
"${CLI[@]}" "$BB/bench_relay" "$RDP" 127.0.0.1 "$DP" "$DELAY_MS" >"$T/relay-d.log" 2>&1 &
_sfy_track $!
"${CLI[@]}" "$BB/bench_relay" "$RMP" 127.0.0.1 "$MP" "$DELAY_MS" >"$T/relay-m.log" 2>&1 &
_sfy_track $!
sleep 0.3

# ---- running a command under a shim --------------------------------------

# conf_for SHIM PORT: writes the shim's configuration for a proxy on
# 127.0.0.1:PORT and prints its path.
conf_for() {
	local f=$T/$1-$2.conf
	[ -f "$f" ] || case $1 in
	proxychains4)
		printf 'strict_chain\nquiet_mode\nproxy_dns\ntcp_read_time_out 15000\ntcp_connect_time_out 8000\n[ProxyList]\nsocks5 127.0.0.1 %s\n' "$2" >"$f" ;;
	torsocks)
		printf 'TorAddress 127.0.0.1\nTorPort %s\n' "$2" >"$f" ;;
	dante-client)
		printf 'resolveprotocol: fake\nroute {\n\tfrom: 0.0.0.0/0 to: 0.0.0.0/0 via: 127.0.0.1 port = %s\n\tproxyprotocol: socks_v5\n\tmethod: none\n}\n' "$2" >"$f" ;;
	*) : >"$f" ;;
	esac
	echo "$f"
}

# shim_prefix SHIM PORT: PRE becomes the command prefix that runs a program
# under SHIM for the proxy on PORT (native: empty, see bench_args).
shim_prefix() {
	case $1 in
	native) PRE=() ;;
	socksify) PRE=("$B/socksify" -x "socks5h://127.0.0.1:$2" "${NOPROXY[@]}" --) ;;
	proxychains4) PRE=(proxychains4 -q -f "$(conf_for proxychains4 "$2")") ;;
	torsocks) PRE=(env TORSOCKS_CONF_FILE="$(conf_for torsocks "$2")" torsocks) ;;
	dante-client) PRE=(env SOCKS_CONF="$(conf_for dante-client "$2")" "$DANTE_SOCKSIFY") ;;
	esac
}

# The native client pipelines where the server takes it (dante), as a
# hand-written client that knows its proxy would.
native_args() { # PORT SERVER
	NAT=(--native "socks5://127.0.0.1:$1")
	[ "$2" = dante ] && NAT+=(--pipeline)
	return 0
}

# rotated I: the shims in an order that starts at shim I (modulo their
# number), so that no shim always runs first or last in a round: with a
# fixed order the first two (native, socksify) had the lowest bulk rate in
# four runs out of four, which looks like a place in the order, not a shim.
rotated() {
	local all=($SHIMS) n k
	n=${#all[@]}
	for ((k = 0; k < n; k++)); do
		echo "${all[$(((k + $1) % n))]}"
	done
}

# bench_run SHIM PORT SERVER MODE ARGS...: the bench program's output.
bench_run() {
	local shim=$1 port=$2 server=$3 mode=$4
	shift 4
	shim_prefix "$shim" "$port"
	NAT=()
	[ "$shim" = native ] && native_args "$port" "$server"
	local rc=0
	timeout 60 "${CLI[@]}" "${PRE[@]}" "$BB/bench" "$mode" "$@" "${NAT[@]}" \
		2>>"$T/bench.err" || rc=$?
	# Which run died shows in the messages (the shell's own "Aborted"
	# line names no shim).
	[ "$rc" -ge 124 ] &&
		echo "bench: $shim, $server, $mode: exit status $rc (124: timed out, 128+N: signal N)" >>"$T/bench.err"
	return "$rc"
}

value() { # KEY: the value of "KEY value" on stdin
	awk -v k="$1" '$1 == k { print $2; exit }'
}

med() { # numbers on stdin → their median (empty when none)
	sort -g | awk '{ v[NR] = $1 } END { if (NR) print (NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2) }'
}

over_budget() { [ "$SECONDS" -ge "$BUDGET" ]; }

# proxied_count SERVER: connections the server has logged so far.
proxied_count() {
	case $1 in
	dante) grep -c 'tcp/connect \[' "$T/dante.log" 2>/dev/null ;;
	micro) grep -c 'connected to' "$T/micro.log" 2>/dev/null ;;
	esac
}

# ---- results ---------------------------------------------------------------

declare -A R    # R[row|shim] = value or "n/a: why"
ROWS=()
declare -A ROW_TITLE ROW_BETTER ROW_UNIT
row() { # ID BETTER(high|low) UNIT TITLE
	ROWS+=("$1")
	ROW_BETTER[$1]=$2
	ROW_UNIT[$1]=$3
	ROW_TITLE[$1]=$4
}

# works SHIM SERVER PORT: does the shim really go through the proxy?
declare -A WORKS
works() {
	local key="$1|$2" a b
	if [ -z "${WORKS[$key]:-}" ]; then
		a=$(proxied_count "$2")
		if bench_run "$1" "$3" "$2" loop --target "$TADDR:$TP" --count 4 >/dev/null; then
			sleep 0.2
			b=$(proxied_count "$2")
			if [ $((b - a)) -ge 4 ]; then
				WORKS[$key]=yes
			else
				WORKS[$key]="went direct"
			fi
		else
			WORKS[$key]="failed"
		fi
	fi
	[ "${WORKS[$key]}" = yes ]
}

# measure ROW SHIM VALUE-OR-EMPTY [WHY]
put() {
	if [ -n "$3" ]; then
		R["$1|$2"]=$3
	else
		R["$1|$2"]="n/a${4:+: $4}"
	fi
}

conn_rows() { # SERVER PORT
	local server=$1 port=$2 shim r v vs i
	for r in "conn1" "conn8"; do
		row "$r-$server" high "conn/s" "connections/s, $([ $r = conn1 ] && echo sequential || echo 8 threads), $server"
	done
	row "ttfb-$server" low "ms" "time to first byte, ${DELAY_MS} ms each way relay, $server"
	row "bulk-$server" high "MiB/s" "bulk download ${MIB} MiB, $server"
	row "sys-$server" low "calls" "system calls per connection (connect + handshake + 1 byte echo + close), $server"
	for shim in $SHIMS; do
		if ! have_shim "$shim"; then
			for r in conn1 conn8 ttfb bulk sys; do
				put "$r-$server" "$shim" "" "not available"
			done
			continue
		fi
		if ! works "$shim" "$server" "$port"; then
			for r in conn1 conn8 ttfb bulk sys; do
				put "$r-$server" "$shim" "" "${WORKS[$shim|$server]}"
			done
		fi
	done
	for r in 1 8; do
		declare -A acc=()
		for ((i = 0; i < ROUNDS; i++)); do
			for shim in $(rotated "$i"); do
				[ "${WORKS[$shim|$server]:-}" = yes ] || continue
				over_budget && break 2
				v=$(bench_run "$shim" "$port" "$server" conn --target "$TADDR:$TP" \
					--threads "$r" --seconds "$SECS" | value conn_per_s)
				acc[$shim]="${acc[$shim]:-} $v"
			done
		done
		for shim in $SHIMS; do
			[ "${WORKS[$shim|$server]:-}" = yes ] || continue
			put "conn$r-$server" "$shim" "$(printf '%s\n' ${acc[$shim]:-} | med)" "failed or not run (time budget)"
		done
		unset acc
	done
	local rport=$([ "$server" = dante ] && echo "$RDP" || echo "$RMP")
	for shim in $SHIMS; do
		[ "${WORKS[$shim|$server]:-}" = yes ] || continue
		over_budget && { put "ttfb-$server" "$shim" "" "not run (time budget)"; continue; }
		v=$(bench_run "$shim" "$rport" "$server" ttfb --target "$TADDR:$TP" \
			--count "$TTFB_N" | value ttfb_us)
		put "ttfb-$server" "$shim" "$([ -n "$v" ] && awk -v u="$v" 'BEGIN { printf "%.1f", u / 1000 }')" "failed"
	done
	declare -A acc=()
	for ((i = 0; i < ROUNDS; i++)); do
		for shim in $(rotated "$i"); do
			[ "${WORKS[$shim|$server]:-}" = yes ] || continue
			over_budget && break 2
			v=$(bench_run "$shim" "$port" "$server" bulk --target "$TADDR:$TP" \
				--mib "$MIB" | value mib_per_s)
			acc[$shim]="${acc[$shim]:-} $v"
		done
	done
	for shim in $SHIMS; do
		[ "${WORKS[$shim|$server]:-}" = yes ] || continue
		put "bulk-$server" "$shim" "$(printf '%s\n' ${acc[$shim]:-} | med)" "failed or not run (time budget)"
	done
	unset acc
	if command -v strace >/dev/null; then
		for shim in $SHIMS; do
			[ "${WORKS[$shim|$server]:-}" = yes ] || continue
			over_budget && { put "sys-$server" "$shim" "" "not run (time budget)"; continue; }
			put "sys-$server" "$shim" "$(syscalls_per_conn "$shim" "$port" "$server")" "strace failed"
		done
	fi
}

# (calls for 60 connections - calls for 10) / 50: the program's start and
# the shim's setup cancel out.
syscalls_per_conn() {
	local shim=$1 port=$2 server=$3 n a b
	for n in 10 60; do
		shim_prefix "$shim" "$port"
		NAT=()
		[ "$shim" = native ] && native_args "$port" "$server"
		timeout 60 "${CLI[@]}" strace -f -c -o "$T/strace-$n.txt" "${PRE[@]}" \
			"$BB/bench" loop --target "$TADDR:$TP" --count "$n" "${NAT[@]}" \
			>/dev/null 2>>"$T/bench.err" || return 0
	done
	a=$(awk '$NF == "total" { print $(NF-2) }' "$T/strace-10.txt")
	b=$(awk '$NF == "total" { print $(NF-2) }' "$T/strace-60.txt")
	[ -n "$a" ] && [ -n "$b" ] && awk -v a="$a" -v b="$b" 'BEGIN { printf "%.1f", (b - a) / 50 }'
}

startup_rows() {
	local shim v
	row startup low "ms" "startup: run /bin/true through the shim's command (bare /bin/true in the native column)"
	for shim in $SHIMS; do
		have_shim "$shim" || { put startup "$shim" "" "not available"; continue; }
		over_budget && { put startup "$shim" "" "not run (time budget)"; continue; }
		shim_prefix "$shim" "$DP"
		v=$(timeout 120 "${CLI[@]}" "$BB/bench" spawn --runs "$SPAWNS" -- "${PRE[@]}" /bin/true \
			2>>"$T/bench.err" | value spawn_us)
		put startup "$shim" "$([ -n "$v" ] && awk -v u="$v" 'BEGIN { printf "%.2f", u / 1000 }')" "failed"
	done
}

# The shim's library alone, preloaded with its configuration (its
# command's own process left out): what the library costs a program.
preload_env() { # SHIM: LENV becomes the bench spawn --setenv options
	case $1 in
	native) LENV=() ;;
	socksify) LENV=(--setenv "LD_PRELOAD=$B/libsocksify.so" --setenv "SOCKSIFY_PROXY=socks5h://127.0.0.1:$DP") ;;
	proxychains4) LENV=(--setenv "LD_PRELOAD=$LIBPC" --setenv "PROXYCHAINS_CONF_FILE=$(conf_for proxychains4 "$DP")" --setenv PROXYCHAINS_QUIET_MODE=1) ;;
	torsocks) LENV=(--setenv "LD_PRELOAD=$LIBTS" --setenv "TORSOCKS_CONF_FILE=$(conf_for torsocks "$DP")") ;;
	dante-client) LENV=(--setenv "LD_PRELOAD=$LIBDS" --setenv "SOCKS_CONF=$(conf_for dante-client "$DP")") ;;
	esac
}

rss_rows() {
	local shim v out
	row libstart low "ms" "startup: /bin/true with only the shim's library preloaded (bare in the native column)"
	row rss low "KiB" "peak RSS of /bin/true with the shim's library preloaded (bare in the native column)"
	for shim in $SHIMS; do
		if ! have_shim "$shim"; then
			put libstart "$shim" "" "not available"
			put rss "$shim" "" "not available"
			continue
		fi
		preload_env "$shim"
		out=$(timeout 120 "${CLI[@]}" "$BB/bench" spawn --runs "$SPAWNS" "${LENV[@]}" -- /bin/true \
			2>>"$T/bench.err")
		v=$(value spawn_us <<<"$out")
		put libstart "$shim" "$([ -n "$v" ] && awk -v u="$v" 'BEGIN { printf "%.2f", u / 1000 }')" "failed"
		put rss "$shim" "$(value maxrss_kib <<<"$out")" "failed"
	done
}

# Instructions the hooks add to calls they must not proxy, counted with
# valgrind (callgrind): hookcost runs N and 6N iterations with and
# without the library; the difference per call, bare subtracted.
# syscalls_added [ENV...]: system calls per round of hookcost bypass
# above the bare program's 3 (strace, 200 rounds minus 100).
syscalls_added() {
	local n a b
	command -v strace >/dev/null || return 0
	for n in 100 200; do
		timeout 60 env "$@" strace -f -c -o "$T/hs-$n.txt" "$BB/hookcost" bypass "$n" \
			>/dev/null 2>&1 || return 0
	done
	a=$(awk '$NF == "total" { print $(NF-2) }' "$T/hs-100.txt")
	b=$(awk '$NF == "total" { print $(NF-2) }' "$T/hs-200.txt")
	[ -n "$a" ] && [ -n "$b" ] && awk -v a="$a" -v b="$b" 'BEGIN { printf "%.1f", (b - a) / 100 - 3 }'
}

hook_rows() {
	local shim m per a b v n0=1000 n1=6000 base
	declare -A bare=()
	row hook_close low "instr." "hook cost: close() of a pipe, instructions above bare, per call"
	row hook_rw low "instr." "hook cost: read() or write() of a pipe, per call"
	row hook_wait low "instr." "hook cost: poll(), epoll_wait() or getsockopt(SO_ERROR) with no handshake running, per call"
	row hook_unix low "instr." "hook cost: socket() + connect() AF_UNIX + close(), per round"
	row hook_bypass low "instr." "hook cost: socket() + connect() UDP to 127.0.0.1 (direct) + close(), per round"
	row hook_tcpbypass low "instr." "hook cost: socket() + connect() TCP to 127.0.0.1 (direct) + accept() + 2 close(), per round"
	row hook_send low "instr." "hook cost: send() + recv() of one byte on a direct TCP socket, per round"
	row hook_sys low "calls" "system calls added to that round (bare: 3)"
	if ! command -v valgrind >/dev/null; then
		for shim in $SHIMS; do
			for m in close rw wait unix bypass tcpbypass send; do put "hook_$m" "$shim" "" "valgrind not installed"; done
		done
		return
	fi
	. "$ROOT/tests/bench/hookinstr.sh"
	instr() { hook_instr "$BB/hookcost" "$T/cg.out" "$@"; } # MODE N [ENV...]
	for m in close rw wait unix bypass tcpbypass send; do
		a=$(instr "$m" $n0) b=$(instr "$m" $n1)
		bare[$m]=$(( (b - a) / (n1 - n0) ))
	done
	put hook_sys native 0
	for shim in $SHIMS; do
		for m in close rw wait unix bypass tcpbypass send; do
			if [ "$shim" = native ]; then
				put "hook_$m" native "0"
				continue
			fi
			if ! have_shim "$shim" || over_budget; then
				put "hook_$m" "$shim" "" "not available or not run (time budget)"
				continue
			fi
			preload_env "$shim"
			local envs=() i
			for ((i = 1; i < ${#LENV[@]}; i += 2)); do envs+=("${LENV[i]}"); done
			if [ "$m" = bypass ]; then
				put hook_sys "$shim" "$(syscalls_added "${envs[@]}")" \
					"the program fails under this shim"
			fi
			if a=$(instr "$m" $n0 "${envs[@]}") && b=$(instr "$m" $n1 "${envs[@]}") &&
			   [ -n "$a" ] && [ -n "$b" ]; then
				per=$(( (b - a) / (n1 - n0) - bare[$m] ))
				case $m in close | rw) per=$((per / 2)) ;; wait) per=$((per / 3)) ;; esac
				put "hook_$m" "$shim" "$per"
			else
				put "hook_$m" "$shim" "" "the program fails under this shim"
			fi
		done
	done
	unset bare
}

lookup_rows() {
	local shim out a b why
	row lookup1k low "µs" "name lookup (getaddrinfo, remote DNS), first 1,000 distinct names"
	row lookup100k low "µs" "name lookup, names 10,001 to ${NAMES} (flat = no slow-down as the map fills)"
	local lv kind
	row lookup_first low "µs" "the program's first name lookup (maps the session's file)"
	for kind in new known; do
		for lv in 10 10000 100000; do
			row "lookup_${kind}_$lv" low "µs" "name lookup of a $kind name, at $(printf "%'d" "$lv" 2>/dev/null || echo "$lv") names in the map$([ "$kind" = new ] && echo " (the last $([ "$lv" = 10 ] && echo 9 || echo 100) names before)" || echo " (1,000 lookups of names already there)")"
		done
	done
	for shim in $SHIMS; do
		why=""
		case $shim in
		native) why="no lookup: a SOCKS client sends the name" ;;
		torsocks) why="needs Tor's RESOLVE extension, which dante lacks" ;;
		esac
		if [ -z "$why" ] && [ "$NETNS_OK" != 1 ]; then
			why="not run outside a namespace (a shim that misses the call would query the system's DNS)"
		fi
		have_shim "$shim" || why="not available"
		if [ -z "$why" ] && over_budget; then
			why="not run (time budget)"
		fi
		if [ -n "$why" ]; then
			put lookup1k "$shim" "" "$why"
			put lookup100k "$shim" "" "$why"
			put lookup_first "$shim" "" "$why"
			for kind in new known; do
				for lv in 10 10000 100000; do
					put "lookup_${kind}_$lv" "$shim" "" "$why"
				done
			done
			continue
		fi
		out=$(bench_run "$shim" "$DP" dante lookup --count "$NAMES" --seconds 30)
		a=$(value lookup_ns_first_1k <<<"$out")
		b=$(value lookup_ns_after_10k <<<"$out")
		why="failed"
		if [ -n "$(value lookup_failed_at <<<"$out")" ]; then
			why="getaddrinfo fails at name $(value lookup_failed_at <<<"$out") (its table of fake addresses is full)"
		elif [ -n "$(value lookup_stopped_at <<<"$out")" ]; then
			why="stopped after 30 s at $(value lookup_stopped_at <<<"$out") names"
		fi
		put lookup1k "$shim" "$([ -n "$a" ] && awk -v n="$a" 'BEGIN { printf "%.2f", n / 1000 }')" "$why"
		put lookup100k "$shim" "$([ -n "$b" ] && awk -v n="$b" 'BEGIN { printf "%.2f", n / 1000 }')" "$why"
		a=$(value lookup_ns_first <<<"$out")
		put lookup_first "$shim" "$([ -n "$a" ] && awk -v n="$a" 'BEGIN { printf "%.2f", n / 1000 }')" "$why"
		for kind in new known; do
			for lv in 10 10000 100000; do
				a=$(value "lookup_${kind}_ns_at_$lv" <<<"$out")
				put "lookup_${kind}_$lv" "$shim" "$([ -n "$a" ] && awk -v n="$a" 'BEGIN { printf "%.2f", n / 1000 }')" \
					"$([ "$lv" -gt "$NAMES" ] && echo "not run (BENCH_QUICK: $NAMES names)" || echo "$why")"
			done
		done
	done
}

# UDP round trips per second through dante's relay with udp_rtt (written
# with the UDP support): a plain sendto()/recvfrom() loop under each shim,
# or SOCKS5 UDP spoken natively with libsocks5.
udp_rows() {
	local shim v vs a b i
	row udp high "round trips/s" "UDP round trips (64-byte datagrams, one at a time), dante"
	if [ ! -x "$BB/udp_rtt" ]; then
		for shim in $SHIMS; do put udp "$shim" "" "udp_rtt not built"; done
		return
	fi
	"${TGT[@]}" "$BB/udp_rtt" echo "$TADDR" "$UP" >"$T/udp-echo.log" 2>&1 &
	_sfy_track $!
	sleep 0.2
	declare -A acc=()
	for ((i = 0; i < ROUNDS; i++)); do
		for shim in $SHIMS; do
			over_budget && break 2
			case $shim in
			proxychains4) continue ;;
			torsocks) continue ;;
			native)
				v=$(timeout 30 "${CLI[@]}" "$BB/udp_rtt" native \
					"socks5://127.0.0.1:$DP" "$TADDR" "$UP" "$SECS" 2>>"$T/bench.err") ;;
			*)
				have_shim "$shim" || continue
				shim_prefix "$shim" "$DP"
				a=$(grep -c 'udpassociate \[' "$T/dante.log")
				v=$(timeout 30 "${CLI[@]}" "${PRE[@]}" "$BB/udp_rtt" client \
					"$TADDR" "$UP" "$SECS" 2>>"$T/bench.err")
				b=$(grep -c 'udpassociate \[' "$T/dante.log")
				# a datagram that went direct proves nothing
				[ "$b" -gt "$a" ] || { acc[$shim]="${acc[$shim]:-} direct"; continue; }
				;;
			esac
			acc[$shim]="${acc[$shim]:-} $(value rtt_per_sec <<<"$v")"
		done
	done
	for shim in $SHIMS; do
		case $shim in
		proxychains4) put udp "$shim" "" "TCP only: UDP goes direct" ;;
		torsocks) put udp "$shim" "" "refuses UDP (Tor carries TCP only)" ;;
		*)
			if [[ ${acc[$shim]:-} == *direct* ]]; then
				put udp "$shim" "" "datagrams did not go through the proxy"
			else
				put udp "$shim" "$(printf '%s\n' ${acc[$shim]:-} | med)" \
					"failed or not run (time budget)"
			fi ;;
		esac
	done
	unset acc
}

say "bench: $TOPOLOGY"
. "$ROOT/tests/bench/evloop_rows.sh"
. "$ROOT/tests/bench/http_rows.sh"
if [ "${BENCH_ONLY:-}" = evloop ]; then # a look at the event-loop rows alone
	evloop_rows
elif [ "${BENCH_ONLY:-}" = http ]; then # the HTTP CONNECT row alone
	http_rows
elif [ "${BENCH_ONLY:-}" = lookup ]; then # the name lookup rows alone
	lookup_rows
elif [ "${BENCH_ONLY:-}" = hook ]; then # the hook cost rows alone
	hook_rows
else
	say "bench: connections through dante-server"
	conn_rows dante "$DP"
	say "bench: event loops (curl -Z, non-blocking connect)"
	evloop_rows
	say "bench: connections through tinyproxy (HTTP CONNECT)"
	http_rows
	say "bench: connections through microsocks"
	conn_rows micro "$MP"
	say "bench: UDP"
	udp_rows
	say "bench: startup, memory, lookups"
	startup_rows
	rss_rows
	lookup_rows
	say "bench: hook cost (valgrind)"
	hook_rows
fi

# ---- the table (tests/bench/table.sh) --------------------------------------

. "$ROOT/tests/bench/table.sh"

shim_versions() {
	local p
	for p in proxychains4 torsocks dante-client dante-server microsocks; do
		printf '%s %s, ' "$p" "$(dpkg-query -W -f '${Version}' "$p" 2>/dev/null || echo '?')"
	done
	echo "socksify $(git -C "$ROOT" describe --always --dirty 2>/dev/null || echo '?')"
}

TABLE=$(table)
GSS_TABLE=
if [ -z "${BENCH_ONLY:-}" ] && [ -x "$B/dante-gssapi/sockd" ] &&
	! over_budget; then
	say "bench: GSSAPI throughput per level"
	GSS_TABLE=$(B=$B bash "$ROOT/tests/bench/gss_rows.sh" 2>>"$T/bench.err")
fi
{
	echo "# socksify benchmarks"
	echo
	echo "Made by \`make bench\` (tests/bench/run.sh) on $(date -u '+%Y-%m-%d %H:%M UTC')."
	echo
	echo "- machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ //'), $(uname -sr)"
	echo "- versions: $(shim_versions)"
	echo "- topology: $TOPOLOGY"
	echo "- servers: dante-server (no auth, one mother process), microsocks (no auth), both on 127.0.0.1; bench_target (C) as the target; bench_relay (C) adds ${DELAY_MS} ms each way for the time-to-first-byte rows (data only: the TCP handshake to the relay is local)"
	echo "- medians: connection rates of $ROUNDS runs of ${SECS} s (shims interleaved, each round starting at the next shim), time to first byte of $TTFB_N connections, bulk of $ROUNDS runs, startup of $SPAWNS runs"
	echo "- native: the benchmark speaks SOCKS5 itself with libsocks5 (pipelined against dante, which takes it; lock-step against microsocks, which does not)"
	echo "- socksify: \`build/socksify -x socks5h://127.0.0.1:PORT${NOPROXY:+ -n ''} -- PROGRAM\`, defaults otherwise (SOCKSIFY_PIPELINE=auto: the pipelining probe runs beside the second connection, and later ones are pipelined where the proxy takes it)"
	echo "- proxychains4: \`proxychains4 -q -f FILE\` with strict_chain, quiet_mode, proxy_dns and one \`socks5 127.0.0.1 PORT\`"
	echo "- torsocks: \`torsocks\` with TORSOCKS_CONF_FILE holding TorAddress 127.0.0.1 and TorPort PORT"
	echo "- dante-client: its \`socksify\` with SOCKS_CONF holding \`resolveprotocol: fake\` and one route via 127.0.0.1 port PORT, socks_v5, method none"
	echo "- every shim was first checked to reach the target through the proxy (the proxy's log counts its connections); one that went direct is shown as n/a"
	echo
	echo "$TABLE"
	if [ -n "$GSS_TABLE" ]; then
		echo
		echo "GSSAPI (RFC 1961) bulk throughput per protection level (tests/bench/gss_rows.sh):"
		echo
		echo "$GSS_TABLE"
	fi
	# the reading notes under the table (plain text, kept beside this script)
	cat "$ROOT/tests/bench/reading.md"
} >"$RESULTS"
echo
cat "$RESULTS"
if [ -s "$T/bench.err" ]; then
	say ""
	say "bench: messages from the runs (last 15 lines):"
	tail -n 15 "$T/bench.err" >&2
fi
say "bench: done in ${SECONDS}s; table saved to ${RESULTS#"$ROOT"/}"
