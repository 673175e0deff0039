#!/usr/bin/env bash
# sanitize: no
#
# valgrind memcheck over real programs with libsocksify.so preloaded,
# fetching through a real proxy: curl (a name the proxy resolves, and a
# literal address), python3 urllib, python3 against a proxy that is down
# (the error paths), python3 UDP through danted's relay (as root), the
# resolver hooks (tests/tools/dnsprobe), and the threaded and forking C
# tool (tests/tools/stress).
#
# Each run must end with "ERROR SUMMARY: 0 errors" (invalid reads and
# writes, uninitialised values, bad frees: anyone's), no definite leak
# (--errors-for-leak-kinds=definite, so the exit status says it), and no
# loss record of any kind, reachable ones included, whose stack passes
# through libsocksify.so. Nothing is suppressed.
#
# Not under SANITIZE=1: valgrind and ASan cannot share a process (the
# plain pass runs this test).

. "$(dirname "$0")/lib.sh"

if ! command -v valgrind >/dev/null 2>&1; then
	fail setup "valgrind missing (tools/install-deps.sh installs it)"
	finish
fi
[ -f "$B/libsocksify.so" ] || { fail setup "$B/libsocksify.so missing"; finish; }

HP=$(free_port)
EP=$(free_port)
UP=$(free_port)
PP=$(free_port)
mkdir -p "$T/www"
echo "valgrind page $$" >"$T/www/index.html"
if is_root; then
	netns_up || { fail setup netns_up; finish; }
	NETNS=$NS_TG LISTEN=198.51.100.2 start_http web "$HP" "$T/www" ||
		{ fail setup "http in $NS_TG"; finish; }
	NETNS=$NS_TG LISTEN=198.51.100.2 start_tcp_echo echo "$EP" ||
		{ fail setup "echo in $NS_TG"; finish; }
	NETNS=$NS_TG LISTEN=198.51.100.2 start_udp_echo uecho "$UP" ||
		{ fail setup "UDP echo in $NS_TG"; finish; }
	NETNS=$NS_PX LISTEN=192.0.2.1 EXTERNAL=198.51.100.1 start_danted px "$PP" ||
		{ fail setup "danted in $NS_PX"; finish; }
	RUN=(ip netns exec "$NS_CLI" env)
	NAME=target.test ADDR=198.51.100.2 PXHOST=192.0.2.1 DOWN=192.0.2.1
else
	start_http web "$HP" "$T/www" || { fail setup http; finish; }
	start_tcp_echo echo "$EP" || { fail setup echo; finish; }
	EXTERNAL=127.0.0.2 start_microsocks px "$PP" || { fail setup microsocks; finish; }
	RUN=(env SOCKSIFY_NO_PROXY=)
	NAME=localhost ADDR=127.0.0.1 PXHOST=127.0.0.1 DOWN=127.0.0.1
fi
DOWNPORT=$(free_port) # nothing listens there
WANT="valgrind page $$"

# vg NAME PROXY-URL CMD...: CMD under memcheck with the preload; its
# stdout in $T/NAME.out, valgrind's logs in $T/vg.NAME.PID.
vg() {
	local name=$1 url=$2
	shift 2
	timeout 120 "${RUN[@]}" LD_PRELOAD="$B/libsocksify.so" \
		SOCKSIFY_PROXY="$url" PYTHONMALLOC=malloc \
		valgrind --error-exitcode=99 --leak-check=full \
		--show-leak-kinds=all --errors-for-leak-kinds=definite \
		--log-file="$T/vg.$name.%p" "$@" >"$T/$name.out" 2>"$T/$name.err"
}

# records_with_us FILE...: the loss records whose stack names libsocksify.
records_with_us() {
	awk '/ in loss record / { rec = $0; inrec = 1; next }
	     inrec && /^==[0-9]+== *$/ { if (rec ~ /libsocksify/) print rec; inrec = 0; next }
	     inrec { rec = rec "\n" $0 }' "$@"
}

# judge NAME RC OUTPUT-CHECK...: the verdict for one run.
judge() {
	local name=$1 rc=$2 why= f logs
	shift 2
	logs=$(ls "$T"/vg."$name".* 2>/dev/null)
	if [ -z "$logs" ]; then
		fail "valgrind_$name" "no valgrind log (exit $rc): $(head -c 400 "$T/$name.err")"
		return
	fi
	[ "$rc" = 99 ] && why="valgrind reported errors or a definite leak;"
	[ "$rc" = 0 ] || [ "$rc" = 99 ] || why="exit status $rc;"
	for f in $logs; do
		grep -q "ERROR SUMMARY: 0 errors" "$f" ||
			why="$why $(grep 'ERROR SUMMARY' "$f") in $(basename "$f");"
		grep -q "definitely lost: [1-9]" "$f" && why="$why definite leak in $(basename "$f");"
	done
	if [ -n "$(records_with_us $logs)" ]; then
		why="$why loss records through libsocksify: $(records_with_us $logs | head -c 1200)"
	fi
	if ! "$@"; then
		why="$why wrong output: $(head -c 300 "$T/$name.out") $(head -c 300 "$T/$name.err")"
	fi
	if [ -n "$why" ]; then
		fail "valgrind_$name" "${why# } (logs: $(head -c 1500 $logs | grep -v '^==[0-9]*== *$' | tr '\n' ' ' | head -c 1500))"
	else
		pass "valgrind_$name"
	fi
}

# Controls: the verdict can fail. A heap overflow under memcheck, and a
# loss record that passes through libsocksify (a log written here).
vg control_overflow "socks5h://$PXHOST:$PP" "$PY" -c "
import ctypes
b = ctypes.create_string_buffer(8)
ctypes.memset(ctypes.addressof(b) + 8, 0, 64)
print('done')"
verdict=$(SFY_FAILS=0; judge control_overflow $? true)
[[ $verdict == FAIL:* ]] && pass valgrind_control_errors_fail ||
	fail valgrind_control_errors_fail "a heap overflow passed: $verdict"
cat >"$T/vg.control_record.1" <<'EOF'
==1== 16 bytes in 1 blocks are still reachable in loss record 1 of 1
==1==    at 0x48407B4: malloc (vg_replace_malloc.c:381)
==1==    by 0x4A2B3C4: sfy_something (config.c:10)
==1==    by 0x4A2B3C5: ??? (in /x/build/libsocksify.so)
==1==
==1== ERROR SUMMARY: 0 errors from 0 contexts (suppressed: 0 from 0)
EOF
[ -n "$(records_with_us "$T/vg.control_record.1")" ] &&
	pass valgrind_control_record_found ||
	fail valgrind_control_record_found "a loss record through libsocksify went unseen"

out_is() { [ "$(cat "$T/$1.out")" = "$2" ]; }
out_has() { grep -q -- "$2" "$T/$1.out"; }

vg curl_name "socks5h://$PXHOST:$PP" curl -sS --max-time 60 "http://$NAME:$HP/"
judge curl_name $? out_is curl_name "$WANT"

vg curl_literal "socks5://$PXHOST:$PP" curl -sS --max-time 60 "http://$ADDR:$HP/"
judge curl_literal $? out_is curl_literal "$WANT"

vg python_urllib "socks5h://$PXHOST:$PP" "$PY" -c "
import urllib.request
print(urllib.request.urlopen('http://$NAME:$HP/', timeout=60).read().decode().strip())"
judge python_urllib $? out_is python_urllib "$WANT"

vg python_proxy_down "socks5h://$DOWN:$DOWNPORT" "$PY" -c "
import socket
for i in range(3):
    try:
        socket.create_connection(('$NAME', $HP), timeout=30)
        print('connected')
    except OSError as e:
        print('error', e.errno)"
judge python_proxy_down $? out_has python_proxy_down "error 111"

# UDP through danted's relay (UDP ASSOCIATE): as root, where danted runs
if is_root; then
	vg python_udp "socks5h://$PXHOST:$PP" "$PY" -c "
import socket
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.settimeout(20)
for i in range(3):
    s.sendto(b'udp-%d' % i, ('$NAME', $UP))
    print(s.recvfrom(100)[0].decode())"
	judge python_udp $? out_is python_udp "$(printf 'udp-0\nudp-1\nudp-2')"
fi

vg dnsprobe "socks5h://$PXHOST:$PP" "$B/tests/tools/dnsprobe" rev "$NAME" 4
judge dnsprobe $? out_has dnsprobe "^hba $NAME"

vg stress_threads "socks5h://$PXHOST:$PP" "$B/tests/tools/stress" \
	threads 4 10 "$ADDR" "$EP" "$NAME"
judge stress_threads $? out_has stress_threads "^OK threads: 40 connects, 0 failures"

vg stress_forkgap "socks5h://$PXHOST:$PP" "$B/tests/tools/stress" \
	forkgap "$EP" "$NAME" "$NAME"
judge stress_forkgap $? out_has stress_forkgap "^OK forkgap parent's own"

finish
