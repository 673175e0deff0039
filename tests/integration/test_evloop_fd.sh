#!/usr/bin/env bash
#
# A handshake of the event-loop machine (tcp/async.h) and the program's
# descriptor bookkeeping: a non-blocking connect() through the proxy
# followed through a copy of the descriptor (dup, dup2, fcntl(F_DUPFD),
# the original closed or kept; poll and edge-triggered epoll on the copy:
# tests/tools/evloop_dup.c). Once, the copy was a stranger: it turned
# writable when the TCP connection to the proxy did, and the program's
# bytes went into the handshake (or, the original closed, to a proxy
# whose handshake had been dropped). And fork() while another thread is
# inside a step of a handshake (tests/tools/evloop_fork.c): the child once
# inherited a slot locked by a thread it does not have, and every wait
# after that handshake's deadline spun at full CPU.
. "$(dirname "$0")/lib.sh"

DUPT=$B/tests/tools/evloop_dup
FORKT=$B/tests/tools/evloop_fork
if [ ! -f "$B/libsocksify.so" ] || [ ! -x "$DUPT" ] || [ ! -x "$FORKT" ]; then
	fail setup "$B/libsocksify.so, $DUPT or $FORKT missing (make all-tests)"
	finish
fi
E=$(free_port)
DP=$(free_port)
MP=$(free_port)
start_tcp_echo echo "$E" || { fail setup "echo server"; finish; }
EXTERNAL=127.0.0.2 start_danted dante "$DP" || { fail setup danted; finish; }
EXTERNAL=127.0.0.2 start_microsocks ms "$MP" || { fail setup microsocks; finish; }

# run PORT CMD...: CMD preloaded, through the proxy at PORT.
run() {
	local port=$1
	shift
	env -u SOCKSIFY_NO_PROXY -u SOCKSIFY_LOG -u SOCKSIFY_LOG_FILE \
		-u SOCKSIFY_TIMEOUT_MS "${SFY_PRELOAD_ENV[@]}" \
		SOCKSIFY_PROXY="socks5://127.0.0.1:$port" SOCKSIFY_NO_PROXY= \
		timeout 30 "$@"
}

for px in ms dante; do
	port=$MP
	[ $px = dante ] && port=$DP
	for mode in dup-close dup-keep dup2 fcntl epoll; do
		name=evloop_fd_${px}_$mode
		n0=$(wc -l <"$T/echo.peers")
		out=$(run "$port" "$DUPT" "$mode" 127.0.0.1 "$E" 2>"$T/$name.err")
		seen=$(tail -n +$((n0 + 1)) "$T/echo.peers" | grep -c '^127\.0\.0\.2 ')
		if [ "$out" = ok ] && [ "$seen" = 1 ]; then
			pass "$name"
		else
			fail "$name" "output '$out', $seen proxied connection(s); $(head -c 300 "$T/$name.err")"
		fi
	done
done

# fork while a step is held (its log line blocked): the child's 1 s poll
# of its own pipe costs next to no CPU
out=$(run "$MP" env SOCKSIFY_TIMEOUT_MS=300 "$FORKT" 127.0.0.1 "$E" 2>"$T/fork.err")
cpu=$(sed -n 's/^child_cpu_ms=\([0-9]*\)$/\1/p' <<<"$out")
if [ -n "$cpu" ] && [ "$cpu" -lt 200 ]; then
	pass evloop_fork_stepping
else
	fail evloop_fork_stepping "output '$out' (the child spun?); $(head -c 300 "$T/fork.err")"
fi
finish
