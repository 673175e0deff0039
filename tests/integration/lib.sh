# shellcheck shell=bash
#
# Shared helpers for tests/integration/test_*.sh. Source it first:
#
#	. "$(dirname "$0")/lib.sh"
#
# It sets ROOT (repo root), B (build dir, default build) and T (a private
# temporary folder), and installs an EXIT trap that stops every process this
# script started (by its own id), removes test users, deletes the network
# namespaces and removes $T. See the API list in each function's comment.
#
# Rules every test follows: traffic only to loopback or to the namespaces
# made here; every wait bounded; every process stopped by its pid.

if [ -n "${SFY_LIB_SOURCED:-}" ]; then
	return 0
fi
SFY_LIB_SOURCED=1

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
B=${B:-build}
case $B in
/*) ;;
*) B=$ROOT/$B ;;
esac
T=$(mktemp -d "${TMPDIR:-/tmp}/sfy-test.XXXXXX")
# danted drops to "nobody" after start; let it reach its files.
chmod 755 "$T"
export ROOT B T

if [ -x /usr/bin/python3 ]; then
	PY=/usr/bin/python3
else
	PY=python3
fi

SFY_PIDS=()		# every server we started, stopped at exit
SFY_USERS=()		# every system user we added, removed at exit
SFY_PORTS=" "		# ports handed out by free_port in this run
SFY_NETNS_MADE=0
SFY_ETC_NETNS_MADE=0
SFY_FAILS=0
SFY_CAP_PID=		# tcpdump on the client side of the namespaces
SFY_CAP_MAC=		# the client interface's MAC (what it sends)
SFY_CAP_DONE=0		# leak_check has reported
NS_CLI=sfy-cli-$$
NS_PX=sfy-px-$$
NS_TG=sfy-tg-$$

# The preload as a test should load it. Under SANITIZE=1 the library is
# built with ASan, and ASan's runtime must come first in LD_PRELOAD for
# programs that are not themselves built with it.
SFY_LIB=$B/libsocksify.so
if [ "${SANITIZE:-0}" = 1 ]; then
	SFY_ASAN_RT=$(gcc -print-file-name=libasan.so 2>/dev/null || true)
	SFY_PRELOAD="$SFY_ASAN_RT $SFY_LIB"
	# Leaks of the programs we run (curl, bash) are not ours to report.
	SFY_ASAN_OPTIONS=detect_leaks=0:abort_on_error=0:exitcode=86
	# An array whose first element alone is also usable:
	#   env "$SFY_PRELOAD_ENV" prog   or   env "${SFY_PRELOAD_ENV[@]}" prog
	SFY_PRELOAD_ENV=("LD_PRELOAD=$SFY_PRELOAD"
			 "ASAN_OPTIONS=$SFY_ASAN_OPTIONS")
	# For build/san/socksify: the runtime it needs in the child's preload.
	SFY_RUN_ENV=("LD_PRELOAD=$SFY_ASAN_RT" "ASAN_OPTIONS=$SFY_ASAN_OPTIONS")
else
	SFY_PRELOAD=$SFY_LIB
	SFY_PRELOAD_ENV=("LD_PRELOAD=$SFY_PRELOAD")
	SFY_RUN_ENV=("SFY_NOTHING=1")
fi
export SFY_LIB SFY_PRELOAD

# sfy_preload CMD...: run CMD with libsocksify.so preloaded (env as given).
sfy_preload() {
	env "${SFY_PRELOAD_ENV[@]}" "$@"
}

# sfy_run CMD...: run CMD (typically $B/socksify ...) with what a sanitized
# build needs in the environment; a plain run otherwise.
sfy_run() {
	env "${SFY_RUN_ENV[@]}" "$@"
}

# sfy_preload_works CMD...: true when CMD (say "curl --version") runs to its
# end, within 5 s, with $SFY_PRELOAD_ENV. Under SANITIZE=1 some programs
# (curl and wget here) deadlock before main in glibc's locale locks as soon
# as the ASan runtime is preloaded into them, with or without our library:
# a known sanitizer limitation (llvm-project #49223, google/sanitizers
# #1270). A test skips such a program under SANITIZE, saying why.
sfy_preload_works() {
	timeout 5 env "${SFY_PRELOAD_ENV[@]}" "$@" >/dev/null 2>&1 </dev/null
	[ $? != 124 ]
}

pass() {
	echo "PASS: $1"
}

fail() {
	SFY_FAILS=$((SFY_FAILS + 1))
	echo "FAIL: $1: ${2:-failed}"
}

skip() {
	echo "SKIP: $1: ${2:-skipped}"
}

# plan N: this script reports exactly N cases from here on (PASS, FAIL
# and SKIP lines, leak-capture included); run.sh fails a script that
# reports another number, so a case that ends without a line (an early
# exit, a branch that forgot to say anything) cannot pass unseen.
plan() {
	echo "PLAN: $1"
}

is_root() {
	[ "$(id -u)" = 0 ] && ip netns list >/dev/null 2>&1
}

# free_port: a TCP (and UDP) port free on this host, never one handed out
# before in this run. Chosen below the kernel's ephemeral range so that an
# outgoing connection cannot take it between now and the server's bind.
free_port() {
	local i p
	for ((i = 0; i < 200; i++)); do
		p=$((10000 + RANDOM % 22000))
		case $SFY_PORTS in *" $p "*) continue ;; esac
		if [ -z "$(ss -Hltun "sport = :$p" 2>/dev/null)" ]; then
			SFY_PORTS="$SFY_PORTS$p "
			echo "$p"
			return 0
		fi
	done
	echo "free_port: no free port found" >&2
	return 1
}

# _sfy_ns_prefix: SFY_PRE becomes the command prefix that enters $NETNS
# (or "env", a no-op), for servers started in the background.
_sfy_ns_prefix() {
	if [ -n "${NETNS:-}" ]; then
		SFY_PRE=(ip netns exec "$NETNS")
	else
		SFY_PRE=(env)
	fi
}

# _sfy_in_netns CMD...: run CMD in $NETNS when it is set (foreground only:
# a backgrounded function would make $! a subshell, not the server).
_sfy_in_netns() {
	if [ -n "${NETNS:-}" ]; then
		ip netns exec "$NETNS" "$@"
	else
		"$@"
	fi
}

# wait_port PORT [HOST]: bounded wait (5 s) until something listens on TCP
# PORT (in $NETNS when set). Looks at the socket table instead of
# connecting, so a probe never shows up in a server's peer log.
wait_port() {
	local port=$1 i
	for ((i = 0; i < 100; i++)); do
		if [ -n "$(_sfy_in_netns ss -Hltn "sport = :$port" 2>/dev/null)" ]; then
			return 0
		fi
		sleep 0.05
	done
	echo "wait_port: nothing listens on port $port" >&2
	return 1
}

# _sfy_track PID: stop PID at exit.
_sfy_track() {
	SFY_PIDS+=("$1")
}

# _sfy_children PID: direct children of PID (danted's worker processes).
_sfy_children() {
	ps -o pid= --ppid "$1" 2>/dev/null | tr -d ' '
}

# stop_pid PID: stop one process we started, TERM first, then KILL after a
# bounded wait. danted's mother stops and reaps its own workers on TERM;
# any worker still running after that is killed by its id.
stop_pid() {
	local pid=$1 kids k i
	kill -0 "$pid" 2>/dev/null || return 0
	kids=$(_sfy_children "$pid")
	kill -TERM "$pid" 2>/dev/null
	for ((i = 0; i < 60; i++)); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.05
	done
	kill -KILL "$pid" 2>/dev/null
	wait "$pid" 2>/dev/null
	for k in $kids; do
		kill -KILL "$k" 2>/dev/null
	done
	return 0
}

# start_danted NAME PORT [auth]: dante-server on $LISTEN:PORT (127.0.0.1),
# going out from $EXTERNAL (default: $LISTEN; may be a space list, e.g.
# "127.0.0.1 ::1"); auth none (default) or username. CONNECT, BIND and UDP
# ASSOCIATE allowed from and to anywhere, after the rules in $DANTE_RULES
# when set (e.g. a "socks block" for one command). Log in $T/NAME.log.
start_danted() {
	local name=$1 port=$2 auth=${3:-none}
	local listen=${LISTEN:-127.0.0.1}
	local external=${EXTERNAL:-$listen} conf=$T/$name.conf e pid
	if [ ! -x /usr/sbin/danted ]; then
		echo "start_danted: /usr/sbin/danted missing" >&2
		return 1
	fi
	{
		echo "logoutput: $T/$name.log"
		echo "internal: $listen port = $port"
		for e in $external; do
			echo "external: $e"
		done
		echo "socksmethod: $auth"
		echo "clientmethod: none"
		echo "user.privileged: root"
		echo "user.unprivileged: nobody"
		echo "timeout.negotiate: 30"
		cat <<'EOF'
client pass {
	from: 0/0 to: 0/0
	log: error
}
EOF
		echo "${DANTE_RULES:-}"
		cat <<'EOF'
socks pass {
	from: 0/0 to: 0/0
	command: connect bind udpassociate bindreply udpreply
	log: connect disconnect error
}
EOF
	} >"$conf"
	# No -D: danted stays in the foreground, so $! is the mother process
	# (ip netns exec replaces itself with the command, keeping the pid).
	_sfy_ns_prefix
	"${SFY_PRE[@]}" /usr/sbin/danted -f "$conf" -p "$T/$name.pid" -N 1 \
		>>"$T/$name.out" 2>&1 &
	pid=$!
	_sfy_track "$pid"
	eval "SFY_PID_$name=$pid" 2>/dev/null || true
	if ! wait_port "$port" "$listen"; then
		echo "start_danted: $name failed; log:" >&2
		cat "$T/$name.log" "$T/$name.out" >&2 2>/dev/null
		return 1
	fi
}

# start_microsocks NAME PORT [USER PASS]: microsocks on $LISTEN:PORT, going
# out from $EXTERNAL when set (its -b). stderr in $T/NAME.log.
start_microsocks() {
	local name=$1 port=$2 user=${3:-} pass=${4:-}
	local listen=${LISTEN:-127.0.0.1} pid
	local args=(-i "$listen" -p "$port")
	if [ -n "$user" ]; then
		args+=(-u "$user" -P "$pass")
	fi
	if [ -n "${EXTERNAL:-}" ]; then
		args+=(-b "$EXTERNAL")
	fi
	_sfy_ns_prefix
	"${SFY_PRE[@]}" /usr/bin/microsocks "${args[@]}" \
		>>"$T/$name.log" 2>&1 &
	pid=$!
	_sfy_track "$pid"
	eval "SFY_PID_$name=$pid" 2>/dev/null || true
	if ! wait_port "$port" "$listen"; then
		echo "start_microsocks: $name failed; log:" >&2
		cat "$T/$name.log" >&2 2>/dev/null
		return 1
	fi
}

# start_tinyproxy NAME PORT [CONNECTPORTS [USER PASS]]: tinyproxy (HTTP
# CONNECT) on $LISTEN:PORT (default 127.0.0.1), in $NETNS when set.
# CONNECT is allowed to the ports of the space list CONNECTPORTS only
# (empty: to any port); clients from $ALLOW only when set (a CIDR); Basic
# auth when USER is given. Log (LogLevel Connect: a few lines per CONNECT) in
# $T/NAME.log, or in $TPLOG when set, made writable first since tinyproxy
# drops to nobody. tinyproxy fsyncs each line: a benchmark puts the log on
# a tmpfs (TPLOG=/dev/shm/...), or the disk's fsyncs are what it measures.
start_tinyproxy() {
	local name=$1 port=$2 ports=${3:-} user=${4:-} pass=${5:-} p pid
	local log=${TPLOG:-$T/$name.log}
	if ! command -v tinyproxy >/dev/null 2>&1; then
		echo "start_tinyproxy: tinyproxy missing" >&2
		return 1
	fi
	{
		echo "Port $port"
		echo "Listen ${LISTEN:-127.0.0.1}"
		echo "User nobody"
		echo "Group nogroup"
		echo "Timeout 30"
		echo "MaxClients ${MAXCLIENTS:-50}"
		echo "LogFile \"$log\""
		echo "LogLevel Connect"
		echo "PidFile \"$T/$name.pid\""
		[ -n "${ALLOW:-}" ] && echo "Allow $ALLOW"
		for p in $ports; do
			echo "ConnectPort $p"
		done
		[ -n "$user" ] && echo "BasicAuth $user $pass"
	} >"$T/$name.conf"
	: >"$log"
	chmod 666 "$log"
	_sfy_ns_prefix
	"${SFY_PRE[@]}" tinyproxy -d -c "$T/$name.conf" >>"$T/$name.out" 2>&1 &
	pid=$!
	_sfy_track "$pid"
	eval "SFY_PID_$name=$pid" 2>/dev/null || true
	if ! wait_port "$port"; then
		echo "start_tinyproxy: $name failed; log:" >&2
		cat "$T/$name.out" "$log" >&2 2>/dev/null
		return 1
	fi
}

# add_test_user USER PASS: a system user (no home, no shell) for dante's
# username method. Removed at exit.
add_test_user() {
	local user=$1 pass=$2
	if id "$user" >/dev/null 2>&1; then
		echo "add_test_user: $user already exists; refusing to touch it" >&2
		return 1
	fi
	useradd -M -N -s /usr/sbin/nologin "$user" || return 1
	SFY_USERS+=("$user")
	echo "$user:$pass" | chpasswd || return 1
}

# The servers themselves are python, in sfy_servers.py beside this file.
_sfy_start_py() {
	local name=$1 mode=$2 port=$3 dir=${4:-} pid
	local listen=${LISTEN:-127.0.0.1}
	: >"$T/$name.peers"
	_sfy_ns_prefix
	"${SFY_PRE[@]}" "$PY" "$ROOT/tests/integration/sfy_servers.py" "$mode" "$listen" "$port" \
		"$T/$name.peers" ${dir:+"$dir"} >>"$T/$name.log" 2>&1 &
	pid=$!
	_sfy_track "$pid"
	eval "SFY_PID_$name=$pid" 2>/dev/null || true
}

# start_tcp_echo NAME PORT: TCP echo on $LISTEN:PORT; each peer "ip port"
# is appended to $T/NAME.peers (the wait_port probe shows up there too,
# as a peer from the listen address itself).
start_tcp_echo() {
	_sfy_start_py "$1" tcp-echo "$2" || return 1
	wait_port "$2" "${LISTEN:-127.0.0.1}"
}

# start_udp_echo NAME PORT: UDP echo; "ip port" per datagram in NAME.peers.
start_udp_echo() {
	local name=$1 port=$2 i
	_sfy_start_py "$name" udp-echo "$port" || return 1
	for ((i = 0; i < 100; i++)); do
		if [ -n "$(_sfy_in_netns ss -Hlun "sport = :$port")" ]; then
			return 0
		fi
		sleep 0.05
	done
	echo "start_udp_echo: $name did not bind" >&2
	return 1
}

# start_http NAME PORT DIR: python3 http.server serving DIR; peers logged.
start_http() {
	_sfy_start_py "$1" http "$2" "$3" || return 1
	wait_port "$2" "${LISTEN:-127.0.0.1}"
}

# start_bench_target NAME PORT: the bench's echo target (build's
# bench/bench_target) on 127.0.0.1:PORT, log in $T/NAME.log.
start_bench_target() {
	"$B/bench/bench_target" 127.0.0.1 "$2" >"$T/$1.log" 2>&1 &
	_sfy_track $!
	wait_port "$2"
}

# start_latency_relay NAME PORT TO_PORT DELAY_MS: bench/bench_relay on
# 127.0.0.1:PORT forwarding to 127.0.0.1:TO_PORT, adding DELAY_MS each
# way (the round trips of test_pipeline and test_early_data); log in
# $T/NAME.log.
start_latency_relay() {
	"$B/bench/bench_relay" "$2" 127.0.0.1 "$3" "$4" >"$T/$1.log" 2>&1 &
	_sfy_track $!
	wait_port "$2"
}

# start_silent NAME PORT: a TCP server that accepts and never answers (a
# stalled proxy); peers logged.
start_silent() {
	_sfy_start_py "$1" silent "$2" || return 1
	wait_port "$2" "${LISTEN:-127.0.0.1}"
}

# in_ns NS CMD...
in_ns() {
	local ns=$1
	shift
	ip netns exec "$ns" "$@"
}

# ---- leak capture ------------------------------------------------------
#
# Every test that builds the namespaces records, with tcpdump, every frame
# on the client namespace's only link, from netns_up to the end of the
# test; leak_check (called by finish, or at exit) then fails the test if
# the client side sent any packet to anything but the proxy.
#
# A leak is precisely: a frame sent by the client's interface (Ethernet
# source = its MAC) that carries IPv4 whose destination is not 192.0.2.1,
# or IPv6 whose destination is not 2001:db8:1::1: TCP, UDP (DNS included),
# ICMP or anything else. Not leaks: ARP (not IP), and ICMPv6 neighbour
# discovery and multicast listener messages (types 130-137 and 143, found
# behind any extension headers), which the kernel sends on its own to
# manage the link. Frames the proxy side sends are not the client's.

# sfy_capture_start NS IFACE FILE: tcpdump on IFACE in NS, every frame into
# FILE (pcap), written packet by packet; waits (bounded) until it captures.
# Sets SFY_CAPTURE_PID (the capture is stopped at exit in any case).
sfy_capture_start() {
	local ns=$1 ifc=$2 file=$3 pid i
	command -v tcpdump >/dev/null 2>&1 || {
		echo "sfy_capture_start: tcpdump missing (tools/install-deps.sh)" >&2
		return 1
	}
	# --immediate-mode: each packet is handed over at once (TPACKET_V3
	# otherwise holds a block back, and a short test would see none).
	# -w - : the shell opens the file, so tcpdump's privilege drop (to
	# its own user) and any profile of it cannot stop it writing there.
	ip netns exec "$ns" tcpdump -i "$ifc" -n -U --immediate-mode -s 262 -w - \
		>"$file" 2>"$file.err" </dev/null &
	pid=$!
	_sfy_track "$pid"
	for ((i = 0; i < 100; i++)); do
		if grep -q "listening on" "$file.err" 2>/dev/null; then
			SFY_CAPTURE_PID=$pid
			return 0
		fi
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.05
	done
	echo "sfy_capture_start: tcpdump did not start: $(cat "$file.err")" >&2
	return 1
}

# sfy_capture_stop PID: stops a capture so that its file is complete.
sfy_capture_stop() {
	local pid=$1 i
	kill -INT "$pid" 2>/dev/null
	for ((i = 0; i < 60; i++)); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.05
	done
	stop_pid "$pid"
}

# sfy_leak_scan PCAP MAC ALLOWED...: prints the scan; true when no leak.
sfy_leak_scan() {
	local out
	out=$("$PY" "$ROOT/tests/integration/sfy_leaks.py" "$@" 2>&1)
	echo "$out"
	[[ $out == frames=*" leaks=0" ]]
}

# sfy_mac NS IFACE: the interface's MAC address.
sfy_mac() {
	ip -n "$1" -br link show "$2" 2>/dev/null | awk '{print $3}'
}

# leak_check: stops the client-side capture netns_up started and reports
# it as the case "leak-capture" (once; finish and the exit trap call it).
leak_check() {
	local out
	[ -n "$SFY_CAP_PID" ] && [ "$SFY_CAP_DONE" = 0 ] || return 0
	SFY_CAP_DONE=1
	sfy_capture_stop "$SFY_CAP_PID"
	if out=$(sfy_leak_scan "$T/cli.pcap" "$SFY_CAP_MAC" 192.0.2.1 2001:db8:1::1); then
		pass "leak-capture ($out from $NS_CLI; nothing but the proxy)"
	else
		fail leak-capture "packets from $NS_CLI to something other than the proxy: $(tr '\n' ' ' <<<"$out")"
	fi
}

# netns_up: three namespaces, client <-> proxy <-> target, no forwarding in
# the proxy namespace, so the client reaches the target only through a
# proxy running in $NS_PX. Names target.test / target6.test resolve only
# in $NS_PX (through /etc/netns/$NS_PX/hosts).
netns_up() {
	is_root || { echo "netns_up: needs root and ip netns" >&2; return 1; }
	SFY_NETNS_MADE=1
	ip netns add "$NS_CLI" && ip netns add "$NS_PX" && ip netns add "$NS_TG" ||
		return 1
	ip -n "$NS_CLI" link add to-px type veth peer name to-cli netns "$NS_PX" &&
	ip -n "$NS_PX" link add to-tg type veth peer name to-px netns "$NS_TG" ||
		return 1
	local ns
	for ns in "$NS_CLI" "$NS_PX" "$NS_TG"; do
		ip -n "$ns" link set lo up || return 1
	done
	ip netns exec "$NS_PX" sysctl -q -w net.ipv4.ip_forward=0 \
		net.ipv6.conf.all.forwarding=0 >/dev/null || return 1
	# The stress cases make tens of thousands of short connections from
	# one address to one proxy port: with the default 28 k ephemeral ports
	# and 60 s of TIME_WAIT, later connects would fail with EADDRNOTAVAIL.
	for ns in "$NS_CLI" "$NS_PX" "$NS_TG"; do
		ip netns exec "$ns" sysctl -q -w net.ipv4.tcp_tw_reuse=1 \
			net.ipv4.ip_local_port_range="1024 65535" >/dev/null ||
			return 1
	done
	ip -n "$NS_CLI" addr add 192.0.2.2/24 dev to-px &&
	ip -n "$NS_CLI" addr add 2001:db8:1::2/64 dev to-px nodad &&
	ip -n "$NS_PX" addr add 192.0.2.1/24 dev to-cli &&
	ip -n "$NS_PX" addr add 2001:db8:1::1/64 dev to-cli nodad &&
	ip -n "$NS_PX" addr add 198.51.100.1/24 dev to-tg &&
	ip -n "$NS_PX" addr add 2001:db8:2::1/64 dev to-tg nodad &&
	ip -n "$NS_TG" addr add 198.51.100.2/24 dev to-px &&
	ip -n "$NS_TG" addr add 2001:db8:2::2/64 dev to-px nodad || return 1
	ip -n "$NS_CLI" link set to-px up &&
	ip -n "$NS_PX" link set to-cli up &&
	ip -n "$NS_PX" link set to-tg up &&
	ip -n "$NS_TG" link set to-px up || return 1
	[ -d /etc/netns ] || SFY_ETC_NETNS_MADE=1
	mkdir -p "/etc/netns/$NS_PX" || return 1
	cat >"/etc/netns/$NS_PX/hosts" <<'EOF'
127.0.0.1	localhost
::1	localhost ip6-localhost ip6-loopback
198.51.100.2	target.test
2001:db8:2::2	target6.test
EOF
	# Bounded wait until every veth end reports carrier (LOWER_UP).
	local i up
	for ((i = 0; i < 100; i++)); do
		up=$( { ip -n "$NS_CLI" -o link show to-px
			ip -n "$NS_PX" -o link show to-cli
			ip -n "$NS_PX" -o link show to-tg
			ip -n "$NS_TG" -o link show to-px; } 2>/dev/null |
			grep -c LOWER_UP)
		[ "$up" = 4 ] && break
		sleep 0.05
	done
	if [ "$up" != 4 ]; then
		echo "netns_up: links did not come up" >&2
		return 1
	fi
	# From here to leak_check, whatever the client side sends is recorded.
	SFY_CAP_MAC=$(sfy_mac "$NS_CLI" to-px)
	sfy_capture_start "$NS_CLI" to-px "$T/cli.pcap" || return 1
	SFY_CAP_PID=$SFY_CAPTURE_PID
}

# netns_routed_up: netns_up, and a default route in $NS_CLI through the
# proxy's namespace (which does not forward), so that whatever the client
# would send anywhere but the proxy leaves on the captured link instead of
# failing at once; /etc/netns/$NS_CLI holds a hosts file naming only
# localhost (the caller writes its resolv.conf, or another hosts file).
netns_routed_up() {
	netns_up || return 1
	ip -n "$NS_CLI" route add default via 192.0.2.1 &&
		ip -n "$NS_CLI" -6 route add default via 2001:db8:1::1 &&
		mkdir -p "/etc/netns/$NS_CLI" || return 1
	printf '127.0.0.1\tlocalhost\n::1\tlocalhost\n' >"/etc/netns/$NS_CLI/hosts"
}

_sfy_netns_down() {
	local ns
	[ "$SFY_NETNS_MADE" = 1 ] || return 0
	for ns in "$NS_CLI" "$NS_PX" "$NS_TG"; do
		ip netns del "$ns" 2>/dev/null
	done
	rm -rf "/etc/netns/$NS_PX" "/etc/netns/$NS_CLI"
	[ "$SFY_ETC_NETNS_MADE" = 1 ] && rmdir /etc/netns 2>/dev/null
	return 0
}

_sfy_cleanup() {
	local rc=$? pid user
	set +e
	# A test that ended without finish still gets its capture checked.
	if [ -n "$SFY_CAP_PID" ] && [ "$SFY_CAP_DONE" = 0 ]; then
		leak_check
		[ "$SFY_FAILS" = 0 ] || [ "$rc" != 0 ] || rc=1
	fi
	for pid in "${SFY_PIDS[@]}"; do
		stop_pid "$pid"
	done
	for user in "${SFY_USERS[@]}"; do
		userdel "$user" 2>/dev/null
	done
	_sfy_netns_down
	if [ -n "${SFY_KEEP_TMP:-}" ]; then
		echo "kept $T" >&2
	else
		rm -rf "$T"
	fi
	exit "$rc"
}
trap _sfy_cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# finish: the last line of a test script; exit status says whether any
# case failed (run.sh counts the PASS/FAIL lines, the status is a backstop).
finish() {
	leak_check
	[ "$SFY_FAILS" = 0 ]
	exit $?
}
