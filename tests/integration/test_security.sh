#!/usr/bin/env bash
#
# Security properties of the preload:
#   - configuration that cannot be parsed fails closed: for every variable
#     and several bad values each, a TCP connect, a UDP datagram and a
#     name lookup all fail and nothing reaches the target or a resolver
#     (while the same set-up with good values works: the control row);
#     the message names the variable, once per process, without the
#     password;
#   - SOCKSIFY_PROXY_FILE: credentials from a file of the user's own,
#     mode 0600, end to end through a proxy that needs them; refused when
#     group/world readable or not the user's;
#   - no password in any log line, at any level, on success or failure,
#     nor in the socksify command's messages;
#   - memory: after a handshake the process holds exactly one copy of the
#     password outside its environment (the parsed configuration, needed
#     for the next handshake), and none at all beyond that one when it came
#     from SOCKSIFY_PROXY_FILE (tests/tools/memscan);
#   - setuid programs: the loader ignores LD_PRELOAD for them, so they are
#     not socksified (documented; shown here with a setuid copy of a tool).
#
# As root the program runs in $NS_CLI (the target in $NS_TG, the proxy in
# $NS_PX, resolv.conf pointing at a DNS trap on 192.0.2.1:53), so nothing
# could leave except through the proxy, and the leak capture watches.

. "$(dirname "$0")/lib.sh"

PW=Sfy-pw-$$-x
[ -f "$B/libsocksify.so" ] || { fail setup "$B/libsocksify.so missing"; finish; }

cat >"$T/probe.py" <<'EOF'
# probe.py TCPHOST TCPPORT UDPHOST UDPPORT NAME: one TCP connect (with an
# echo), one UDP datagram (waiting 1 s for the echo), one getaddrinfo.
import errno, socket, sys

def ename(e):
    if e.errno == errno.EOPNOTSUPP:
        return "EOPNOTSUPP"
    return errno.errorcode.get(e.errno, str(e.errno)) if e.errno else type(e).__name__

th, tp, uh, up, name = sys.argv[1], int(sys.argv[2]), sys.argv[3], int(sys.argv[4]), sys.argv[5]
out = []
try:
    s = socket.create_connection((th, tp), timeout=10)
    s.sendall(b"probe")
    out.append("tcp=OK" if s.recv(10) == b"probe" else "tcp=BAD")
    s.close()
except OSError as e:
    out.append("tcp=ERR:" + ename(e))
try:
    u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    u.settimeout(1)
    u.sendto(b"probe", (uh, up))
    try:
        u.recvfrom(100)
        out.append("udp=ECHO")
    except socket.timeout:
        out.append("udp=NOREPLY")
except OSError as e:
    out.append("udp=ERR:" + ename(e))
try:
    socket.getaddrinfo(name, 80, socket.AF_INET, socket.SOCK_STREAM)
    out.append("name=OK")
except (socket.gaierror, OSError):
    out.append("name=ERR")
print(" ".join(out))
EOF

EP=$(free_port)
UP=$(free_port)
MP=$(free_port)
MA=$(free_port)
if is_root; then
	netns_up || { fail setup netns_up; finish; }
	mkdir -p "/etc/netns/$NS_CLI" || { fail setup "/etc/netns/$NS_CLI"; finish; }
	trap 'sfy_rc=$?; rm -rf "/etc/netns/$NS_CLI"; (exit $sfy_rc); _sfy_cleanup' EXIT
	printf 'nameserver 192.0.2.1\noptions timeout:1 attempts:1\n' \
		>"/etc/netns/$NS_CLI/resolv.conf"
	printf '127.0.0.1\tlocalhost\n' >"/etc/netns/$NS_CLI/hosts"
	NETNS=$NS_TG LISTEN=198.51.100.2 start_tcp_echo echo "$EP" || { fail setup echo; finish; }
	NETNS=$NS_TG LISTEN=198.51.100.2 start_udp_echo uecho "$UP" || { fail setup uecho; finish; }
	NETNS=$NS_PX LISTEN=192.0.2.1 start_udp_echo dns 53 || { fail setup "dns trap"; finish; }
	NETNS=$NS_PX LISTEN=192.0.2.1 EXTERNAL=198.51.100.1 start_microsocks ms "$MP" ||
		{ fail setup microsocks; finish; }
	NETNS=$NS_PX LISTEN=192.0.2.1 EXTERNAL=198.51.100.1 start_microsocks msauth "$MA" alice "$PW" ||
		{ fail setup "microsocks auth"; finish; }
	RUN=(ip netns exec "$NS_CLI")
	TGT=198.51.100.2 PX=192.0.2.1 VIA=198.51.100.1 NAME=target.test
	NOPX=()
else
	start_tcp_echo echo "$EP" || { fail setup echo; finish; }
	start_udp_echo uecho "$UP" || { fail setup uecho; finish; }
	EXTERNAL=127.0.0.2 start_microsocks ms "$MP" || { fail setup microsocks; finish; }
	EXTERNAL=127.0.0.2 start_microsocks msauth "$MA" alice "$PW" || { fail setup "microsocks auth"; finish; }
	RUN=(env)
	TGT=127.0.0.1 PX=127.0.0.1 VIA=127.0.0.2 NAME=
	# loopback is bypassed by default: proxy everything
	NOPX=(SOCKSIFY_NO_PROXY=)
fi
GOOD=socks5h://$PX:$MP
GOODAUTH=socks5h://alice:$PW@$PX:$MA

count() { [ -f "$T/$1.peers" ] && wc -l <"$T/$1.peers" || echo 0; }

# probe VAR=VALUE...: the probe under the preload with exactly these
# variables (and the default bypass unless one of them sets it).
probe() {
	timeout 30 "${RUN[@]}" env -u SOCKSIFY_PROXY -u SOCKSIFY_NO_PROXY -u ALL_PROXY \
		-u all_proxy -u NO_PROXY -u no_proxy -u SOCKSIFY_LOG -u SOCKSIFY_LOG_FILE \
		-u SOCKSIFY_PROXY_FILE "${SFY_PRELOAD_ENV[@]}" "${NOPX[@]}" "$@" \
		"$PY" "$T/probe.py" "$TGT" "$EP" "$TGT" "$UP" "${NAME:-localhost}" \
		2>"$T/probe.err"
}

# --- control: the same set-up with good values works -----------------------
out=$(probe SOCKSIFY_PROXY="$GOOD")
if [[ $out == "tcp=OK "* ]] && [ "$(grep -vc "^$VIA " "$T/echo.peers")" = 0 ]; then
	pass failclosed_control_good_config
else
	fail failclosed_control_good_config "got '$out'; stderr: $(head -c 300 "$T/probe.err")"
fi
if [ -n "$NAME" ]; then
	[[ $out == *" name=OK" ]] && pass failclosed_control_name_resolves ||
		fail failclosed_control_name_resolves "got '$out'"
fi

# --- every variable, bad values ---------------------------------------------
printf 'socks5h://alice:%s@%s:%s\n' "$PW" "$PX" "$MA" >"$T/pf-open"
chmod 644 "$T/pf-open"
printf 'socks5h://alice:%s@%s:99999\n' "$PW" "$PX" >"$T/pf-badurl"
chmod 600 "$T/pf-badurl"
: >"$T/pf-empty"
chmod 600 "$T/pf-empty"
cp "$T/pf-badurl" "$T/pf-other"
if [ "$(id -u)" = 0 ]; then
	printf 'socks5h://%s:%s\n' "$PX" "$MP" >"$T/pf-other"
	chmod 600 "$T/pf-other"
	chown 65534:65534 "$T/pf-other"
fi

n=0
bad() { # NAME VAR=VALUE...: must fail closed, naming the first VAR
	local name=$1 var=${2%%=*} e0 u0 d0 why= pids
	shift
	e0=$(count echo) u0=$(count uecho) d0=$(count dns)
	out=$(probe "$@")
	sleep 0.1
	[[ $out == "tcp=ERR:"* ]] || why="$why TCP was not refused;"
	[[ $out == *"tcp=ERR:ECONNREFUSED"* || $out == *"tcp=ERR:EINVAL"* ]] ||
		why="$why TCP errno not ECONNREFUSED/EINVAL;"
	[[ $out == *" udp=ECHO"* ]] && why="$why a datagram was answered;"
	[[ $out == *" name=OK"* ]] && why="$why a name resolved;"
	[ "$(count echo)" = "$e0" ] || why="$why the TCP target was reached;"
	[ "$(count uecho)" = "$u0" ] || why="$why the UDP target was reached;"
	[ "$(count dns)" = "$d0" ] || why="$why a DNS query went out;"
	grep -q "$var" "$T/probe.err" || why="$why no message naming $var;"
	grep -q -- "$PW" "$T/probe.err" && why="$why the password is in the message;"
	# once per process (timeout and python both load the library)
	pids=$(grep "$var" "$T/probe.err" | sed -n 's/^socksify\[\([0-9]*\)\].*/\1/p' | sort | uniq -d)
	[ -z "$pids" ] || why="$why reported more than once by pid $pids;"
	if [ -n "$why" ]; then
		fail "failclosed_$name" "${why# } out '$out'; stderr: $(head -c 500 "$T/probe.err")"
	else
		pass "failclosed_$name"
	fi
	n=$((n + 1))
	TABLE+=("$(printf '%-28s %s' "$name" "$out")")
}
TABLE=()

bad proxy_ftp_scheme        SOCKSIFY_PROXY="ftp://$PX:$MP"
bad proxy_bad_port          SOCKSIFY_PROXY="socks5://alice:$PW@$PX:99999"
bad proxy_no_host           SOCKSIFY_PROXY="socks5://alice:$PW@"
bad proxy_trailing_comma    SOCKSIFY_PROXY="$GOOD,"
bad proxy_bad_escape        SOCKSIFY_PROXY="socks5://alice:%zz$PW@$PX:$MP"
bad proxy_unclosed_bracket  SOCKSIFY_PROXY="socks5://[::1:$MP"
bad proxy_garbage_path      SOCKSIFY_PROXY="$GOOD/path"
bad all_proxy_bad_port      ALL_PROXY="socks5://alice:$PW@$PX:0"
bad proxy_file_missing      SOCKSIFY_PROXY_FILE="$T/nonexistent"
bad proxy_file_world_read   SOCKSIFY_PROXY_FILE="$T/pf-open"
bad proxy_file_bad_url      SOCKSIFY_PROXY_FILE="$T/pf-badurl"
bad proxy_file_empty        SOCKSIFY_PROXY_FILE="$T/pf-empty"
bad proxy_file_directory    SOCKSIFY_PROXY_FILE="$T"
if [ "$(id -u)" = 0 ]; then
	bad proxy_file_not_owned SOCKSIFY_PROXY_FILE="$T/pf-other"
fi
bad proxy_and_file_both     SOCKSIFY_PROXY_FILE="$T/pf-badurl" SOCKSIFY_PROXY="$GOOD"
NOPX_SAVED=("${NOPX[@]}")
NOPX=()
bad no_proxy_bad_item       SOCKSIFY_NO_PROXY='bad$item' SOCKSIFY_PROXY="$GOOD"
bad no_proxy_bad_cidr       SOCKSIFY_NO_PROXY='10.0.0.0/99' SOCKSIFY_PROXY="$GOOD"
NOPX=("${NOPX_SAVED[@]}")
bad dns_bad                 SOCKSIFY_DNS=sometimes SOCKSIFY_PROXY="$GOOD"
bad udp_bad                 SOCKSIFY_UDP=maybe SOCKSIFY_PROXY="$GOOD"
bad timeout_zero            SOCKSIFY_TIMEOUT_MS=0 SOCKSIFY_PROXY="$GOOD"
bad timeout_negative        SOCKSIFY_TIMEOUT_MS=-5 SOCKSIFY_PROXY="$GOOD"
bad timeout_words           SOCKSIFY_TIMEOUT_MS=10ms SOCKSIFY_PROXY="$GOOD"
bad timeout_too_large       SOCKSIFY_TIMEOUT_MS=600001 SOCKSIFY_PROXY="$GOOD"
bad log_level_bad           SOCKSIFY_LOG=loud SOCKSIFY_PROXY="$GOOD"
bad fake_net_too_small      SOCKSIFY_FAKE_NET=10.0.0.0/30 SOCKSIFY_PROXY="$GOOD"
bad fake_net_words          SOCKSIFY_FAKE_NET=banana SOCKSIFY_PROXY="$GOOD"

echo "# fail-closed: what the probe saw under each bad setting"
for line in "${TABLE[@]}"; do
	echo "#   $line"
done

# --- SOCKSIFY_PROXY_FILE end to end ------------------------------------------
printf '# the proxy that needs credentials\nsocks5h://alice:%s@%s:%s\n' "$PW" "$PX" "$MA" >"$T/pf-good"
chmod 600 "$T/pf-good"
e0=$(count echo)
out=$(probe SOCKSIFY_PROXY_FILE="$T/pf-good" SOCKSIFY_LOG=debug)
if [[ $out == "tcp=OK "* ]] && [ "$(count echo)" -gt "$e0" ] &&
	[ "$(tail -n 1 "$T/echo.peers" | cut -d' ' -f1)" = "$VIA" ]; then
	pass proxy_file_credentials_work
else
	fail proxy_file_credentials_work "got '$out'; stderr: $(head -c 400 "$T/probe.err")"
fi
grep -q -- "$PW" "$T/probe.err" && fail proxy_file_debug_log_no_password "$(cat "$T/probe.err")" ||
	pass proxy_file_debug_log_no_password

# --- no password in logs, any level, success or failure ----------------------
for level in debug info warn error; do
	: >"$T/all.log"
	probe SOCKSIFY_PROXY="$GOODAUTH" SOCKSIFY_LOG=$level SOCKSIFY_LOG_FILE="$T/all.log" >/dev/null
	probe SOCKSIFY_PROXY="socks5h://alice:$PW-wrong@$PX:$MA" SOCKSIFY_LOG=$level \
		SOCKSIFY_LOG_FILE="$T/all.log" >/dev/null
	probe SOCKSIFY_PROXY="socks5h://alice:$PW@$PX:$(free_port)" SOCKSIFY_LOG=$level \
		SOCKSIFY_LOG_FILE="$T/all.log" >/dev/null
	probe SOCKSIFY_PROXY="socks5h://alice:$PW@$PX:$MA,socks5h://bob:$PW@$PX:$MP" \
		SOCKSIFY_LOG=$level SOCKSIFY_LOG_FILE="$T/all.log" >/dev/null
	if [ "$level" = debug ] && ! grep -q "socksify" "$T/all.log"; then
		fail "no_password_in_log_$level" "nothing was logged: the check would be empty"
	elif grep -q -- "$PW" "$T/all.log" "$T/probe.err"; then
		fail "no_password_in_log_$level" "$(grep -h -- "$PW" "$T/all.log" "$T/probe.err" | head -3)"
	else
		pass "no_password_in_log_$level"
	fi
done

# the command's own messages (bad URL, unreachable proxy, verbose)
if [ -x "$B/socksify" ]; then
	{
		sfy_run "$B/socksify" -v -x "socks5://alice:$PW@$PX:99999" -- true
		sfy_run "$B/socksify" -v -x "socks5://alice:$PW@" -- true
		sfy_run "$B/socksify" -v -x "socks5://alice:$PW@$PX:$(free_port)" -- true
	} >"$T/cmd.out" 2>&1
	if grep -q -- "$PW" "$T/cmd.out"; then
		fail no_password_in_command_messages "$(grep -- "$PW" "$T/cmd.out" | head -3)"
	elif [ ! -s "$T/cmd.out" ]; then
		fail no_password_in_command_messages "the command said nothing about the bad URLs"
	else
		pass no_password_in_command_messages
	fi
else
	fail no_password_in_command_messages "$B/socksify missing"
fi

# --- copies of the password in memory ------------------------------------------
HEX=$(printf '%s' "$PW" | "$PY" -c 'import sys; print(bytes(b ^ 0x5a for b in sys.stdin.buffer.read()).hex())')
memscan() {
	timeout 30 "${RUN[@]}" env -u SOCKSIFY_PROXY -u SOCKSIFY_PROXY_FILE -u SOCKSIFY_LOG \
		"${SFY_PRELOAD_ENV[@]}" "${NOPX[@]}" "$@" \
		"$B/tests/tools/memscan" "$HEX" "$TGT" "$EP" 2>"$T/memscan.err"
}
if [ -x "$B/tests/tools/memscan" ]; then
	# Baseline: the same environment without the library (under
	# SANITIZE=1 the ASan runtime keeps a copy of the environment of its
	# own, read from /proc/self/environ). The library may add one copy.
	base=$(timeout 30 "${RUN[@]}" env -u SOCKSIFY_PROXY_FILE "${SFY_RUN_ENV[@]}" \
		SOCKSIFY_PROXY="$GOODAUTH" "$B/tests/tools/memscan" "$HEX" 127.0.0.1 9 |
		sed -n 's/.* other=\([0-9]*\)$/\1/p')
	echo "# memscan baseline without the library: ${base:-?} copies outside the environment"
	out=$(memscan SOCKSIFY_PROXY="$GOODAUTH")
	[[ $out == *"connect=OK environ=1 other=$((base + 1))" ]] && pass password_copies_env ||
		fail password_copies_env "want one copy in the environment and one more kept for handshakes: $(tr '\n' ' ' <<<"$out") $(head -c 300 "$T/memscan.err")"
	out=$(memscan SOCKSIFY_PROXY_FILE="$T/pf-good")
	[[ $out == *"connect=OK environ=0 other=1" ]] && pass password_copies_file ||
		fail password_copies_file "want the one copy kept for handshakes only: $(tr '\n' ' ' <<<"$out") $(head -c 300 "$T/memscan.err")"
	# control: the scan does see copies (a program's own, here)
	out=$(memscan SOCKSIFY_PROXY_FILE="$T/pf-good" SFY_EXTRA_COPY="$PW")
	[[ $out == *"environ=1 other=$((base + 1))" ]] && pass password_copies_control ||
		fail password_copies_control "the scan missed a copy: $(tr '\n' ' ' <<<"$out")"
else
	fail password_copies_env "$B/tests/tools/memscan missing"
fi

# --- setuid programs are not socksified ---------------------------------------------
# The loader's secure-execution mode drops LD_PRELOAD for a program that
# gains privileges. A setuid-root copy of a tool, run by nobody, connects
# directly (the target sees the client, not the proxy); the same copy
# without the setuid bit is socksified (the control). Needs root (to make
# the setuid copy) and a SOCKS-free path: loopback.
if [ "$(id -u)" = 0 ] && [ "${SANITIZE:-0}" != 1 ]; then
	LE=$(free_port)
	LM=$(free_port)
	start_tcp_echo lecho "$LE" && EXTERNAL=127.0.0.2 start_microsocks lms "$LM" ||
		fail setuid_setup "loopback servers"
	install -m 0755 "$B/tests/tools/stress" "$T/stress-plain"
	install -m 4755 "$B/tests/tools/stress" "$T/stress-suid"
	for kind in plain suid; do
		: >"$T/lecho.peers"
		setpriv --reuid=65534 --regid=65534 --clear-groups \
			env LD_PRELOAD="$B/libsocksify.so" SOCKSIFY_PROXY="socks5://127.0.0.1:$LM" \
			SOCKSIFY_NO_PROXY= timeout 20 "$T/stress-$kind" threads 1 1 127.0.0.1 "$LE" \
			>"$T/suid.out" 2>&1
		eval "peer_$kind=\$(cut -d' ' -f1 \"\$T/lecho.peers\" | head -n 1)"
	done
	# shellcheck disable=SC2154
	if [ "$peer_plain" = 127.0.0.2 ] && [ "$peer_suid" = 127.0.0.1 ]; then
		pass setuid_program_not_socksified
	else
		fail setuid_program_not_socksified "plain copy seen from '$peer_plain' (want the proxy, 127.0.0.2), setuid copy from '$peer_suid' (want direct, 127.0.0.1): $(cat "$T/suid.out")"
	fi
elif [ "$(id -u)" = 0 ]; then
	echo "# setuid case: plain pass only (the ASan runtime is preloaded by path, which secure mode drops too)"
else
	skip setuid_program_not_socksified "needs root to make a setuid copy"
fi

finish
