#!/usr/bin/env bash
#
# Many handshakes at once (issue 13): 1000 non-blocking connect()s through
# the proxy, all in flight together, in one poll loop and one
# edge-triggered epoll loop (tests/tools/evloop.c), against microsocks and
# dante on loopback. Each connect() returns EINPROGRESS at once (none
# returns 0 after a handshake done inside the call: "sync=0"), and every
# socket echoes. The handshake table (tcp/asynctable.c) once held 256: the
# 257th connect() then waited as for a blocking socket.
. "$(dirname "$0")/lib.sh"

EV=$B/tests/tools/evloop
N=1000
if [ ! -f "$B/libsocksify.so" ] || [ ! -x "$EV" ]; then
	fail setup "$B/libsocksify.so or $EV missing (make all-tests)"
	finish
fi
# 1000 sockets, the proxies' and the echo server's ends too
ulimit -n 8192 2>/dev/null || ulimit -n 4096 2>/dev/null
if [ "$(ulimit -n)" -lt 2048 ]; then
	skip evloop_many "descriptor limit $(ulimit -n) under 2048"
	finish
fi
# connect()'s median hold; the worst is test_evloop's to bound (here one
# call now and then waits for the CPU while dante forks its workers for
# 1000 clients: up to 150 ms seen, with and without this table)
MEDIAN_US=1000
[ "$SANITIZE" = 1 ] && MEDIAN_US=5000

E=$(free_port)
DP=$(free_port)
MP=$(free_port)
start_tcp_echo echo "$E" || { fail setup "echo server"; finish; }
EXTERNAL=127.0.0.2 start_danted dante "$DP" || { fail setup danted; finish; }
EXTERNAL=127.0.0.2 start_microsocks ms "$MP" || { fail setup microsocks; finish; }

field() { sed -n "s/.*\b$1=\([^ ]*\).*/\1/p" <<<"$2"; }

for px in ms dante; do
	port=$MP
	[ $px = dante ] && port=$DP
	for mode in poll epoll-et; do
		name=evloop_many_${px}_$mode
		n0=$(wc -l <"$T/echo.peers")
		out=$(env -u SOCKSIFY_NO_PROXY -u SOCKSIFY_LOG -u SOCKSIFY_LOG_FILE \
			-u SOCKSIFY_TIMEOUT_MS "${SFY_PRELOAD_ENV[@]}" \
			SOCKSIFY_PROXY="socks5://127.0.0.1:$port" SOCKSIFY_NO_PROXY= \
			EVLOOP_NO_RECONNECT=1 timeout 60 \
			"$EV" "$mode" $N 127.0.0.1 "$E" 2>"$T/$name.err")
		why=
		[ "$(field ok "$out")" = $N ] || why="$why not every socket echoed;"
		[ "$(field sync "$out")" = 0 ] ||
			why="$why $(field sync "$out") connect() calls waited for the handshake;"
		med=$(field connect_median_us "$out")
		[ -n "$med" ] && [ "$med" -lt $MEDIAN_US ] ||
			why="$why connect() held the thread ${med:-?} us (median);"
		seen=$(tail -n +$((n0 + 1)) "$T/echo.peers" | grep -c '^127\.0\.0\.2 ')
		[ "$seen" -ge $N ] || why="$why the target saw $seen proxied connections;"
		if [ -n "$why" ]; then
			fail "$name" "${why# } output '$out'; $(head -c 400 "$T/$name.err")"
		else
			pass "$name"
		fi
	done
done
finish
