#!/bin/bash
# socksify --check against real servers: every step's line, the exit
# status rules (0 all works, 1 a TCP step fails, 4 only UDP fails, 2 bad
# usage), hop-by-hop chains, and that a password never shows.
. "$(dirname "$0")/lib.sh"

PW=Chk5ecretPW
unset SOCKSIFY_PROXY SOCKSIFY_NO_PROXY SOCKSIFY_LOG SOCKSIFY_UDP SOCKSIFY_DNS \
	SOCKSIFY_TIMEOUT_MS ALL_PROXY all_proxy NO_PROXY no_proxy LD_PRELOAD

sfy() {
	timeout 30 env "${SFY_RUN_ENV[@]}" "$B/socksify" "$@"
}
if [ "${SANITIZE:-0}" = 1 ]; then
	export ASAN_OPTIONS=$SFY_ASAN_OPTIONS
fi

# expect NAME RC OUT RC_WANT PATTERN...: the exit status, each pattern
# (grep -E) among the lines, and never the password.
expect() {
	local name=$1 rc=$2 out=$3 want=$4 p
	shift 4
	if [ "$rc" != "$want" ]; then
		fail "$name" "exit $rc, want $want: $out"
		return
	fi
	if grep -q "$PW" <<<"$out"; then
		fail "$name" "the password appears: $out"
		return
	fi
	for p in "$@"; do
		if ! grep -qE -- "$p" <<<"$out"; then
			fail "$name" "no line matching '$p': $out"
			return
		fi
	done
	pass "$name"
}

# dante goes out from 127.0.0.2 and microsocks from 127.0.0.3, so the
# echo servers' peer logs say which proxy a connection or datagram came from.
DA=$(free_port) && MS=$(free_port) && MSA=$(free_port) && ECHO=$(free_port) &&
	SILENT_U=$(free_port) && DOWN=$(free_port) && STALL=$(free_port) || exit 1
EXTERNAL=127.0.0.2 start_danted dante "$DA" &&
	EXTERNAL=127.0.0.3 start_microsocks ms "$MS" &&
	EXTERNAL=127.0.0.3 start_microsocks msauth "$MSA" alice "$PW" &&
	start_tcp_echo echo "$ECHO" && start_udp_echo uecho "$ECHO" &&
	start_tcp_echo tcponly "$SILENT_U" && start_silent stall "$STALL" || {
	fail check_setup "could not start the servers"
	finish
}
# A UDP service that reads and never answers, on the TCP echo's port.
"$PY" -c '
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("127.0.0.1", int(sys.argv[1])))
open(sys.argv[2], "w").close()
while True:
    d, a = s.recvfrom(65536)
    open(sys.argv[2], "a").write("%s %d\n" % a)
' "$SILENT_U" "$T/mute.peers" >"$T/mute.log" 2>&1 &
_sfy_track $!
for ((i = 0; i < 100; i++)); do
	[ -n "$(ss -Hlun "sport = :$SILENT_U")" ] && break
	sleep 0.05
done

# ---- everything works: dante, TCP and UDP, the peers prove the path --------
: >"$T/echo.peers"
: >"$T/uecho.peers"
out=$(sfy --check -x "socks5h://127.0.0.1:$DA" "127.0.0.1:$ECHO" 2>&1)
rc=$?
expect check_all_ok "$rc" "$out" 0 \
	"^hop 1: socks5h://127.0.0.1:$DA\$" \
	"^  ok    reach +127.0.0.1:$DA answered in [0-9.]+ ms" \
	'^  ok    method +the proxy chose no authentication' \
	"^  ok    connect +hop 1 connected to 127.0.0.1:$ECHO in [0-9.]+ ms" \
	'^  ok    udp +UDP ASSOCIATE accepted in [0-9.]+ ms; relay at ' \
	"^  ok    datagram +17 bytes sent to 127.0.0.1:$ECHO; answer of 17 bytes from 127.0.0.1:$ECHO .*echoed" \
	'^result: OK'
if [ "$(awk '{ print $1 }' "$T/echo.peers" | sort -u)" = 127.0.0.2 ] &&
   [ "$(awk '{ print $1 }' "$T/uecho.peers" | sort -u)" = 127.0.0.2 ]; then
	pass check_went_through_proxy
else
	fail check_went_through_proxy "tcp peers: $(tr '\n' ' ' <"$T/echo.peers") udp peers: $(tr '\n' ' ' <"$T/uecho.peers")"
fi

# A name with socks5h: the proxy resolves it, the header says so.
out=$(sfy --check -x "socks5h://127.0.0.1:$DA" "localhost:$ECHO" 2>&1)
expect check_name_remote $? "$out" 0 'the proxy resolves the name' \
	"connected to localhost:$ECHO"

# No destination: CONNECT and the datagram are skipped, UDP ASSOCIATE is not.
out=$(sfy --check -x "socks5h://127.0.0.1:$DA" 2>&1)
expect check_no_destination $? "$out" 0 '^  skip  connect +no destination' \
	'^  ok    udp ' '^  skip  datagram ' '^result: OK'

# ---- UDP: microsocks has no UDP ASSOCIATE: TCP works, exit 4 ---------------
out=$(sfy --check -x "socks5://127.0.0.1:$MS" "127.0.0.1:$ECHO" 2>&1)
expect check_udp_unsupported $? "$out" 4 '^  ok    connect ' \
	'^  FAIL  udp +UDP ASSOCIATE refused: .*REP 0x07.*does not relay UDP' \
	'^result: TCP works, UDP does not'
out=$(SOCKSIFY_UDP=block sfy --check -x "socks5://127.0.0.1:$MS" "127.0.0.1:$ECHO" 2>&1)
expect check_udp_not_used $? "$out" 0 '^  skip  udp +SOCKSIFY_UDP=block' '^result: OK'

# A UDP service that never answers: "sent, no answer", not a failure.
: >"$T/mute.peers"
out=$(sfy --check -x "socks5h://127.0.0.1:$DA" "127.0.0.1:$SILENT_U" 2>&1)
expect check_udp_no_answer $? "$out" 0 \
	"^  note  datagram +17 bytes sent to 127.0.0.1:$SILENT_U through the relay; no answer within 2000 ms \\(sent, no answer" \
	'^result: OK'
if grep -q '^127.0.0.2 ' "$T/mute.peers"; then
	pass check_udp_no_answer_arrived
else
	fail check_udp_no_answer_arrived "the silent service saw: $(cat "$T/mute.peers")"
fi

# ---- authentication -----------------------------------------------------------
out=$(SOCKSIFY_UDP=block sfy --check -x "socks5://alice:$PW@127.0.0.1:$MSA" "127.0.0.1:$ECHO" 2>&1)
expect check_auth_ok $? "$out" 0 "^hop 1: socks5://alice:\\*\\*\\*@127.0.0.1:$MSA\$" \
	'^  ok    method +the proxy chose username/password \(RFC 1929\)' \
	"^  ok    auth +user 'alice' accepted"
out=$(sfy --check -x "socks5://alice:wrong$PW@127.0.0.1:$MSA" "127.0.0.1:$ECHO" 2>&1)
expect check_auth_rejected $? "$out" 1 \
	'^  FAIL  auth +rejected by the proxy \(RFC 1929 status [0-9]+\): check the user name and password' \
	'^result: FAILED at hop 1, auth'
out=$(sfy --check -x "socks5://127.0.0.1:$MSA" 2>&1)
expect check_auth_missing $? "$out" 1 \
	'^  FAIL  method +the proxy requires authentication: put the user and password in the URL'
# Credentials offered to a proxy that wants none: said, and fine.
out=$(SOCKSIFY_UDP=block sfy --check -x "socks5://alice:$PW@127.0.0.1:$MS" 2>&1)
expect check_auth_not_needed $? "$out" 0 '^  skip  auth +not needed'

# ---- reaching the proxy ----------------------------------------------------------
start=$(date +%s)
out=$(sfy --check -x "socks5://127.0.0.1:$DOWN" "127.0.0.1:$ECHO" 2>&1)
expect check_proxy_down $? "$out" 1 \
	"^  FAIL  reach +127.0.0.1:$DOWN: Connection refused: nothing listens there" \
	'^result: FAILED at hop 1, reach'
out=$(SOCKSIFY_TIMEOUT_MS=400 sfy --check -x "socks5://127.0.0.1:$STALL" 2>&1)
rc=$?
took=$(($(date +%s) - start))
expect check_proxy_stalls "$rc" "$out" 1 '^  FAIL  method +no answer within 400 ms'
if [ "$took" -lt 10 ]; then
	pass check_failures_are_quick
else
	fail check_failures_are_quick "took ${took}s"
fi
out=$(sfy --check -x "socks5://127.0.0.1:$ECHO" 2>&1)
expect check_not_socks $? "$out" 1 '^  FAIL  method +.*is this port a SOCKS5 proxy\?'
out=$(sfy --check -x "socks5://no-such-host.invalid:1080" 2>&1)
expect check_proxy_unresolvable $? "$out" 1 \
	"^  FAIL  reach +cannot resolve the proxy's name 'no-such-host.invalid'"

# ---- CONNECT refused: the proxy works, the destination does not ------------------
out=$(sfy --check -x "socks5h://127.0.0.1:$DA" "127.0.0.1:$DOWN" 2>&1)
expect check_connect_refused $? "$out" 1 \
	"^  FAIL  connect +hop 1 could not connect to 127.0.0.1:$DOWN: .*\\(REP 0x05\\): nothing listens there" \
	"^result: FAILED: the proxy works, but 127.0.0.1:$DOWN cannot be reached"

# ---- a chain, hop by hop ------------------------------------------------------------
: >"$T/echo.peers"
out=$(sfy --check -x "socks5://127.0.0.1:$MS" -x "socks5h://alice:$PW@127.0.0.1:$MSA" \
	"127.0.0.1:$ECHO" 2>&1)
expect check_chain_ok $? "$out" 0 "^hop 1: socks5://127.0.0.1:$MS\$" \
	"^hop 2: socks5h://alice:\\*\\*\\*@127.0.0.1:$MSA\$" \
	"^  ok    reach +hop 1 connected to 127.0.0.1:$MSA in " \
	"^  ok    auth +user 'alice' accepted" \
	"^  ok    connect +hop 2 connected to 127.0.0.1:$ECHO" \
	'^  skip  udp +not checked through a chain' '^result: OK'
out=$(SOCKSIFY_UDP=first-hop sfy --check -x "socks5h://127.0.0.1:$DA" -x "socks5://127.0.0.1:$MS" \
	"127.0.0.1:$ECHO" 2>&1)
expect check_chain_udp_first_hop $? "$out" 0 '^  ok    udp +UDP ASSOCIATE accepted' \
	'^  ok    datagram ' '^result: OK'
if [ "$(awk '{ print $1 }' "$T/echo.peers" | sort -u)" = 127.0.0.3 ]; then
	pass check_chain_went_through
else
	fail check_chain_went_through "peers: $(tr '\n' ' ' <"$T/echo.peers")"
fi
out=$(sfy --check -x "socks5://127.0.0.1:$MS" -x "socks5://127.0.0.1:$DOWN" \
	"127.0.0.1:$ECHO" 2>&1)
expect check_chain_hop2_down $? "$out" 1 "^hop 2: socks5://127.0.0.1:$DOWN\$" \
	"^  FAIL  reach +hop 1 could not connect to 127.0.0.1:$DOWN" \
	'^result: FAILED at hop 2, reach: programs cannot use this proxy chain'
out=$(sfy --check -x "socks5://127.0.0.1:$MS" -x "socks5://alice:bad$PW@127.0.0.1:$MSA" 2>&1)
expect check_chain_hop2_auth $? "$out" 1 '^  FAIL  auth +rejected' \
	'^result: FAILED at hop 2, auth'

# ---- run from a socksified shell: the probe itself is not socksified ------------
# Everything proxied, through a dead proxy: a preloaded probe would fail.
out=$(env "${SFY_PRELOAD_ENV[@]}" SOCKSIFY_PROXY="socks5://127.0.0.1:$DOWN" \
	SOCKSIFY_NO_PROXY= timeout 30 "$B/socksify" --check \
	-x "socks5h://127.0.0.1:$DA" "127.0.0.1:$ECHO" 2>&1)
expect check_not_preloaded $? "$out" 0 '^  ok    connect ' '^result: OK'

# ---- the proxy from the environment, -f, usage errors ------------------------------
out=$(SOCKSIFY_PROXY="socks5h://127.0.0.1:$DA" sfy --check "127.0.0.1:$ECHO" 2>&1)
expect check_env_proxy $? "$out" 0 "^hop 1: socks5h://127.0.0.1:$DA\$"
# SOCKSIFY_PROXY_FILE: read by the library's reader, refused when others
# may read it.
printf '# my proxy\nsocks5://alice:%s@127.0.0.1:%s\n' "$PW" "$MSA" >"$T/proxy.url"
chmod 600 "$T/proxy.url"
out=$(SOCKSIFY_UDP=block SOCKSIFY_PROXY_FILE=$T/proxy.url sfy --check "127.0.0.1:$ECHO" 2>&1)
expect check_proxy_file $? "$out" 0 "^hop 1: socks5://alice:\\*\\*\\*@127.0.0.1:$MSA\$" \
	"^  ok    auth "
chmod 644 "$T/proxy.url"
out=$(SOCKSIFY_PROXY_FILE=$T/proxy.url sfy --check 2>&1)
expect check_proxy_file_open_refused $? "$out" 2 'is open to group or others \(mode 0644\).*chmod 600'
printf 'strict_chain\nproxy_dns\n[ProxyList]\nsocks5 127.0.0.1 %s alice %s\n' \
	"$MSA" "$PW" >"$T/pc.conf"
out=$(SOCKSIFY_UDP=direct sfy --check -f "$T/pc.conf" "127.0.0.1:$ECHO" 2>&1)
expect check_proxychains_file $? "$out" 0 "^hop 1: socks5h://alice:\\*\\*\\*@127.0.0.1:$MSA\$" \
	"^  ok    auth "
for bad in nonsense 127.0.0.1 ::1:80 127.0.0.1:0 host:99999 '[::1:80'; do
	out=$(sfy --check -x "socks5://127.0.0.1:$DA" "$bad" 2>&1)
	rc=$?
	if [ $rc != 2 ] || ! grep -q 'is not HOST:PORT' <<<"$out"; then
		fail check_bad_destination "'$bad': rc=$rc: $out"
		break
	fi
done
[ $rc = 2 ] && pass check_bad_destination
out=$(sfy --check -x "socks5://127.0.0.1:$DA" a:1 b:2 2>&1)
expect check_two_destinations $? "$out" 2 'at most one HOST:PORT'
out=$(sfy --check --env -x "socks5://127.0.0.1:$DA" 2>&1)
expect check_with_env $? "$out" 2 'cannot be combined'

# ---- the password is not in /proc/PID/cmdline while --check waits ------------------
# Every local user can read a process's cmdline. --check against a proxy
# that accepts and never answers waits for the time-out; while it does,
# its arguments must not hold the password, whichever way -x was spelt.
# (env execs socksify, so $! is socksify's own pid.)
cmdline_while_waiting() { # NAME ARGS...
	local name=$1 pid i args
	shift
	: >"$T/wait.out" # now: the child's own truncation may come late
	SOCKSIFY_TIMEOUT_MS=8000 env "${SFY_RUN_ENV[@]}" ${WAIT_ENV:+"$WAIT_ENV"} "$B/socksify" "$@" \
		>"$T/wait.out" 2>&1 &
	pid=$!
	for ((i = 0; i < 200; i++)); do
		grep -q '^  ok    reach' "$T/wait.out" && break
		sleep 0.025
	done
	args=$(tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null)
	stop_pid "$pid"
	if ! grep -q '^  ok    reach' "$T/wait.out"; then
		fail "$name" "--check did not reach the stalled proxy: $(cat "$T/wait.out")"
	elif [ -z "$args" ] || grep -q -- "$PW" <<<"$args" || ! grep -q 'alice:\*\*\*\*' <<<"$args"; then
		fail "$name" "cmdline while waiting: '$args'"
	else
		pass "$name"
	fi
}
cmdline_while_waiting check_cmdline_x --check -x "socks5://alice:$PW@127.0.0.1:$STALL"
cmdline_while_waiting check_cmdline_x_joined --check "-xsocks5h://alice:$PW@127.0.0.1:$STALL"
cmdline_while_waiting check_cmdline_bundle -q --check "-vxsocks5://alice:$PW@127.0.0.1:$STALL"
cmdline_while_waiting check_cmdline_proxy_eq --check "--proxy=socks5://alice:$PW@127.0.0.1:$STALL"
cmdline_while_waiting check_cmdline_proxy_abbrev --check --prox "socks5://alice:$PW@127.0.0.1:$STALL"
cmdline_while_waiting check_cmdline_chain --check \
	-x "socks5://alice:$PW@127.0.0.1:$STALL,socks5://bob:x$PW@127.0.0.1:$DA" \
	-x "socks5://carol:y$PW@127.0.0.1:$MS" "127.0.0.1:$ECHO"
# Re-run without a preloaded libsocksify.so (a socksified shell): the
# re-exec still has the password to use, and hides it in turn.
WAIT_ENV="LD_PRELOAD=$SFY_PRELOAD" cmdline_while_waiting check_cmdline_after_reexec \
	--check -x "socks5://alice:$PW@127.0.0.1:$STALL"

# ---- the proxy's name under any /etc/nsswitch.conf: no crash, no second libc ------
# A static glibc's getaddrinfo dlopens the NSS modules nsswitch.conf names,
# which pulls the system's libc.so.6 into the static command (or crashes
# it, when a module is broken or from another glibc). Each case runs in its
# own mount namespace with a hosts line bind-mounted over
# /etc/nsswitch.conf (nothing changes outside). libnss_hesiod.so.2 ships
# with libc6 and is not built into libc.a, so "hesiod files" makes a static
# getaddrinfo load it; libnss_sfycrash.so.2, built here, kills whoever
# calls it (under SANITIZE=1 getent inherits the ASan runtime, which turns
# the crash into exit status 86).
STATIC_CMD=0
if ! readelf -lW "$B/socksify" 2>/dev/null | grep -q 'Requesting program interpreter'; then
	STATIC_CMD=1
fi
cat >"$T/nss_crash.c" <<'EOF'
#include <signal.h>
#define CRASH(name) int name(void); int name(void) { raise(SIGSEGV); return 0; }
CRASH(_nss_sfycrash_gethostbyname4_r)
CRASH(_nss_sfycrash_gethostbyname3_r)
CRASH(_nss_sfycrash_gethostbyname2_r)
CRASH(_nss_sfycrash_gethostbyname_r)
EOF
mkdir -p "$T/nsslib"
cc -shared -fPIC -o "$T/nsslib/libnss_sfycrash.so.2" "$T/nss_crash.c" 2>"$T/nss_cc.err" ||
	echo "nss: cannot build the crashing module: $(cat "$T/nss_cc.err")" >&2
# nss_case NAME HOSTS-LINE: --check -x socks5://localhost:STALL in a mount
# namespace with that hosts line; $T/nss.out gets its report, NSS_MAPS the
# modules and C libraries mapped into socksify while it waits, NSS_RC the
# exit status (124: still waiting after 8 s).
nss_case() {
	local name=$1 line=$2 pid i
	printf 'hosts: %s\n' "$line" >"$T/$name.nsswitch"
	: >"$T/nss.out"
	SOCKSIFY_TIMEOUT_MS=3000 LD_LIBRARY_PATH=$T/nsslib unshare -m sh -c \
		'mount --bind "$1" /etc/nsswitch.conf && shift && exec "$@"' sh \
		"$T/$name.nsswitch" env "${SFY_RUN_ENV[@]}" "$B/socksify" --check \
		-x "socks5://localhost:$STALL" >"$T/nss.out" 2>&1 &
	pid=$!
	NSS_MAPS=
	: >"$T/nss.maps"
	for ((i = 0; i < 160; i++)); do
		if grep -q '^  ok    reach' "$T/nss.out"; then
			cp "/proc/$pid/maps" "$T/nss.maps" 2>/dev/null
			NSS_MAPS=$(grep -oE '[^/ ]*(libnss_[a-z]*|libc)\.so[.0-9]*' "$T/nss.maps" | sort -u | tr '\n' ' ')
			break
		fi
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.05
	done
	NSS_RC=124
	for ((i = 0; i < 160; i++)); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.05
	done
	if ! kill -0 "$pid" 2>/dev/null; then
		wait "$pid"
		NSS_RC=$?
	fi
	stop_pid "$pid"
}
if is_root && command -v unshare >/dev/null; then
	# hesiod knows no hosts: files answers, from inside socksify's process
	# (old) or getent's (now).
	nss_case nss_hesiod "hesiod files"
	# No NSS module in socksify, ever; no C library either when it is
	# static (a sanitizer build is dynamic: libc.so.6 is its own).
	bad='^libnss_'
	[ "$STATIC_CMD" = 1 ] && bad='^libnss_|^libc\.'
	bad_maps=$(tr ' ' '\n' <<<"$NSS_MAPS" | grep -E "$bad")
	if grep -q '^  ok    reach' "$T/nss.out" && grep -q socksify "$T/nss.maps" &&
	   [ -z "$bad_maps" ]; then
		pass check_nss_module_not_loaded
	else
		fail check_nss_module_not_loaded "rc=$NSS_RC, mapped in socksify: '$NSS_MAPS': $(cat "$T/nss.out")"
	fi
	nss_case nss_missing "nosuchmodule mdns4_minimal [NOTFOUND=return] files"
	if grep -q '^  ok    reach' "$T/nss.out"; then
		pass check_nss_missing_module
	else
		fail check_nss_missing_module "rc=$NSS_RC: $(cat "$T/nss.out")"
	fi
	nss_case nss_none "nosuchmodule"
	if [ "$NSS_RC" = 1 ] &&
	   grep -qE "^  FAIL  reach +cannot resolve the proxy's name 'localhost': no address .*/etc/nsswitch.conf.*give the IP address" "$T/nss.out" &&
	   grep -q '^result: FAILED at hop 1, reach' "$T/nss.out"; then
		pass check_nss_no_source
	else
		fail check_nss_no_source "rc=$NSS_RC: $(cat "$T/nss.out")"
	fi
	if [ -f "$T/nsslib/libnss_sfycrash.so.2" ]; then
		nss_case nss_crash "sfycrash files"
		if [ "$NSS_RC" = 1 ] &&
		   grep -qE "^  FAIL  reach +cannot resolve the proxy's name 'localhost': .*(killed by signal 11 .*|failed \(exit status 86\): )is an NSS module .* broken" "$T/nss.out"; then
			pass check_nss_crashing_module
		else
			fail check_nss_crashing_module "rc=$NSS_RC: $(cat "$T/nss.out")"
		fi
	else
		skip check_nss_crashing_module "no C compiler to build the module"
	fi
else
	skip check_nss "needs root and unshare(1) for a private /etc/nsswitch.conf"
fi

# ---- the hop's title is whole for the longest user name -------------------------
LONGU=$(printf '%%40%.0s' $(seq 255))
out=$(sfy --check -x "socks5://$LONGU:$PW@127.0.0.1:$DOWN" 2>&1)
expect check_long_user_title $? "$out" 1 "^hop 1: socks5://$LONGU:\\*\\*\\*@127.0.0.1:$DOWN\$"

# ---- the name lookup is bounded, and a missing getent is said -------------------
# A getent that never answers (a DNS server that does not) is killed at the
# time-out; one that is not there is named.
mkdir -p "$T/slowbin" "$T/nobin"
printf '#!/bin/sh\necho $$ >"%s/slow.pid"\nexec sleep 30\n' "$T" >"$T/slowbin/getent"
chmod 755 "$T/slowbin/getent"
start=$(date +%s)
out=$(PATH=$T/slowbin:$PATH SOCKSIFY_TIMEOUT_MS=500 sfy --check -x "socks5://proxy.test:1080" 2>&1)
rc=$?
took=$(($(date +%s) - start))
slow=$(cat "$T/slow.pid" 2>/dev/null)
if [ -n "$slow" ] && kill -0 "$slow" 2>/dev/null; then
	fail check_lookup_bounded "the lookup's getent ($slow) still runs"
	kill -KILL "$slow"
elif [ "$took" -lt 5 ]; then
	expect check_lookup_bounded $rc "$out" 1 \
		"^  FAIL  reach +cannot resolve the proxy's name 'proxy.test': no answer within 500 ms"
else
	fail check_lookup_bounded "took ${took}s: $out"
fi
out=$(timeout 30 env PATH="$T/nobin" "${SFY_RUN_ENV[@]}" "$B/socksify" --check -x "socks5://proxy.test:1080" 2>&1)
expect check_lookup_no_getent $? "$out" 1 "^  FAIL  reach +cannot resolve the proxy's name 'proxy.test': cannot run getent\\(1\\)"

finish
