#!/bin/bash
# Long proxy lists (up to SOCKS5_CHAIN_MAX = 512, proxychains-ng's
# MAX_CHAIN) against real servers on loopback: a strict chain of 12 real
# hops (microsocks and dante, each connection counted in their logs), a
# dynamic chain of 40 entries whose first 30 are dead (fast, within the
# time-out, and remembered: each dead hop tried once), a random chain of 3
# over 20 entries spreading connections, a strict chain of 512 hops
# through four microsocks in turn; and the limit said clearly: -x given
# 600 times, a SOCKSIFY_PROXY of 513 hops; and each hop's address
# resolved on its first need only.
. "$(dirname "$0")/lib.sh"

unset SOCKSIFY_PROXY SOCKSIFY_NO_PROXY SOCKSIFY_LOG ALL_PROXY all_proxy \
	NO_PROXY no_proxy LD_PRELOAD SOCKSIFY_CHAIN SOCKSIFY_CHAIN_LEN \
	SOCKSIFY_TIMEOUT_MS SOCKSIFY_PROXY_FILE
if [ ! -x /usr/bin/microsocks ] || [ ! -x /usr/sbin/danted ]; then
	skip many_hops "microsocks or dante missing (tools/install-deps.sh)"
	finish
fi

# conns.py PORT N: N connections one after the other to the echo server
# on 127.0.0.1:PORT, each echoing a line; prints "ok=K total_ms=T
# first_ms=F rest_max_ms=R".
cat >"$T/conns.py" <<'EOF'
import socket, sys, time
port, n = int(sys.argv[1]), int(sys.argv[2])
res = []
t0 = time.monotonic()
for i in range(n):
    t = time.monotonic()
    ok = False
    try:
        s = socket.create_connection(("127.0.0.1", port), timeout=60)
        s.sendall(b"many-hops %d\n" % i)
        got = b""
        while not got.endswith(b"\n"):
            d = s.recv(4096)
            if not d:
                break
            got += d
        s.close()
        ok = got == b"many-hops %d\n" % i
    except OSError as e:
        sys.stderr.write("connect: %s\n" % e)
    res.append((ok, (time.monotonic() - t) * 1000))
rest = [ms for _, ms in res[1:]] or [0]
print("ok=%d total_ms=%d first_ms=%d rest_max_ms=%d" % (
    sum(1 for ok, _ in res if ok), (time.monotonic() - t0) * 1000,
    res[0][1], max(rest)))
EOF

# run NAME N VAR=VALUE...: conns.py through the preloaded library, every
# destination proxied (loopback included); its line in $out, its stderr
# in $T/NAME.err.
run() {
	local name=$1 n=$2
	shift 2
	out=$(timeout 120 env "${SFY_PRELOAD_ENV[@]}" SOCKSIFY_NO_PROXY= \
		SOCKSIFY_LOG=info "$@" "$PY" "$T/conns.py" "$ECHO" "$n" \
		2>"$T/$name.err")
}

field() {
	local v=${out#*"$1="}
	echo "${v%% *}"
}

# used NAME: CONNECTs microsocks NAME made (one line per connection).
used() {
	grep -c "connected to" "$T/$1.log" 2>/dev/null || true
}

# mark: remember every microsocks' count; delta I: ms I's CONNECTs since.
declare -A before
mark() {
	local i
	for i in $(seq 1 20); do before[$i]=$(used "ms$i"); done
}
delta() {
	echo $(($(used "ms$1") - before[$1]))
}

ECHO=$(free_port)
start_tcp_echo echo "$ECHO" || { fail setup "echo server"; finish; }
setup_ok=1
MS=()
for i in $(seq 1 20); do
	MS[i]=$(free_port)
	start_microsocks "ms$i" "${MS[i]}" || setup_ok=0
done
DANTE=$(free_port)
start_danted dante "$DANTE" || setup_ok=0
if [ "$setup_ok" != 1 ]; then
	fail setup "a proxy did not start"
	finish
fi

# ---- strict, 12 real hops: ms1..ms6, dante, ms7..ms11 --------------------
chain=
for i in 1 2 3 4 5 6; do chain+="socks5://127.0.0.1:${MS[i]},"; done
chain+="socks5://127.0.0.1:$DANTE"
for i in 7 8 9 10 11; do chain+=",socks5://127.0.0.1:${MS[i]}"; done
mark
dante_before=$(grep -c "connect" "$T/dante.log" 2>/dev/null || true)
run strict12 3 SOCKSIFY_PROXY="$chain"
bad=
for i in $(seq 1 11); do
	d=$(delta "$i")
	[ "$d" = 3 ] || bad+=" ms$i:$d"
done
dante_after=$(grep -c "connect" "$T/dante.log" 2>/dev/null || true)
if [ "$(field ok)" = 3 ] && [ -z "$bad" ] && [ "$dante_after" -gt "$dante_before" ] &&
   grep -q "via socks5://127.0.0.1:${MS[1]} > .*> socks5://127.0.0.1:${MS[11]}: ok" "$T/strict12.err"; then
	pass "strict_chain_12_real_hops (3 connections, each of the 11 microsocks 3 CONNECTs, dante in the middle)"
else
	fail strict_chain_12_real_hops "$out; counts:$bad; dante $dante_before -> $dante_after; $(head -c 600 "$T/strict12.err")"
fi

# ---- dynamic, 40 entries, the first 30 dead ---------------------------------
# Nothing listens on the dead ports (refused at once): the first
# connection tries each once and goes through the 10 live ones; the next
# ones skip the 30 at once (the dead-hop memory covers hop 30 and beyond).
chain=
for i in $(seq 1 30); do chain+="socks5://127.0.0.1:$(free_port),"; done
for i in $(seq 1 10); do chain+="socks5://127.0.0.1:${MS[i]},"; done
chain=${chain%,}
mark
run dyn40 3 SOCKSIFY_CHAIN=dynamic SOCKSIFY_TIMEOUT_MS=5000 SOCKSIFY_PROXY="$chain"
tried=$(grep -c "cannot reach the proxy" "$T/dyn40.err")
d10=$(delta 10)
if [ "$(field ok)" = 3 ] && [ "$tried" = 30 ] && [ "$d10" = 3 ] &&
   [ "$(field first_ms)" -lt 5000 ] && [ "$(field rest_max_ms)" -lt 500 ]; then
	pass "dynamic_chain_40_first_30_dead (first connection $(field first_ms) ms, then at most $(field rest_max_ms) ms; each dead hop tried once)"
else
	fail dynamic_chain_40_first_30_dead "$out; dead hops tried $tried times; ms10 +$d10; $(grep -v 'cannot reach' "$T/dyn40.err" | head -c 600)"
fi

# ---- random, 3 of 20 entries ---------------------------------------------------
chain=
for i in $(seq 1 20); do chain+="socks5://127.0.0.1:${MS[i]},"; done
chain=${chain%,}
mark
run random20 30 SOCKSIFY_CHAIN=random SOCKSIFY_CHAIN_LEN=3 SOCKSIFY_PROXY="$chain"
total=0 hit=0 spread=
for i in $(seq 1 20); do
	d=$(delta "$i")
	total=$((total + d))
	[ "$d" -gt 0 ] && hit=$((hit + 1))
	spread+=" $d"
done
# 30 chains of 3 distinct hops: 90 CONNECTs; a given hop is left out of
# all 30 with a chance of (17/20)^30 < 1 %.
if [ "$(field ok)" = 30 ] && [ "$total" = 90 ] && [ "$hit" -ge 15 ]; then
	pass "random_chain_3_of_20 (CONNECTs per hop:$spread)"
else
	fail random_chain_3_of_20 "$out; $total CONNECTs over $hit hops:$spread; $(head -c 600 "$T/random20.err")"
fi

# ---- strict, 512 hops: ms1..ms4 in turn ------------------------------------------
chain=
for i in $(seq 0 511); do chain+="socks5://127.0.0.1:${MS[$((i % 4 + 1))]},"; done
chain=${chain%,}
mark
run strict512 1 SOCKSIFY_TIMEOUT_MS=60000 SOCKSIFY_PROXY="$chain"
total=0
for i in 1 2 3 4; do total=$((total + $(delta "$i"))); done
if [ "$(field ok)" = 1 ] && [ "$total" = 512 ] &&
   grep -q "via socks5://127.0.0.1:${MS[1]} > .*\.\.\. ([0-9]* more): ok" "$T/strict512.err"; then
	pass "strict_chain_512_hops (one connection through 512 hops in $(field total_ms) ms; its log line cut short)"
else
	fail strict_chain_512_hops "$out; $total CONNECTs; $(head -c 600 "$T/strict512.err")"
fi

# ---- each hop resolved on its first need only ----------------------------------
# Round-robin, one hop a connection, from hop 1 (a literal) of 31; hops 2..31
# are names (localhost, from /etc/hosts). One connection looks none of them
# up: the resolver's opening of /etc/hosts is counted with strace.
if command -v strace >/dev/null && [ "${SANITIZE:-0}" != 1 ]; then
	chain="socks5://127.0.0.1:${MS[1]}"
	for i in $(seq 1 30); do chain+=",socks5://localhost:${MS[2]}"; done
	out=$(timeout 60 env "${SFY_PRELOAD_ENV[@]}" SOCKSIFY_NO_PROXY= \
		SOCKSIFY_CHAIN=round-robin SOCKSIFY_CHAIN_LEN=1 SOCKSIFY_PROXY="$chain" \
		strace -f -e trace=openat -o "$T/lazy.strace" "$PY" "$T/conns.py" "$ECHO" 1 \
		2>"$T/lazy.err")
	n=$(grep -c '"/etc/hosts"' "$T/lazy.strace")
	if [ "$(field ok)" = 1 ] && [ "$n" = 0 ]; then
		pass "hops_resolved_lazily (one connection through hop 1 of 31: no name looked up)"
	else
		fail hops_resolved_lazily "$out; /etc/hosts opened $n times; $(head -c 400 "$T/lazy.err")"
	fi
else
	skip hops_resolved_lazily "no strace, or a sanitized run"
fi

# ---- the limit, said -----------------------------------------------------------
args=()
for i in $(seq 1 600); do args+=(-x "socks5://127.0.0.1:$((1000 + i))"); done
msg=$(timeout 10 env "${SFY_RUN_ENV[@]}" "$B/socksify" "${args[@]}" true 2>&1)
rc=$?
if [ $rc = 2 ] && grep -q "513 proxies in all; a list holds at most 512" <<<"$msg"; then
	pass x_600_times_refused
else
	fail x_600_times_refused "exit $rc: $(head -c 300 <<<"$msg")"
fi
list=
for i in $(seq 1 513); do list+="socks5://127.0.0.1:$((1000 + i)),"; done
list=${list%,}
msg=$(SOCKSIFY_PROXY=$list timeout 10 env "${SFY_RUN_ENV[@]}" "$B/socksify" true 2>&1)
rc=$?
if [ $rc = 2 ] && grep -q "SOCKSIFY_PROXY: proxy chain has 513 hops; at most 512 are allowed" <<<"$msg"; then
	pass proxy_513_refused_by_command
else
	fail proxy_513_refused_by_command "exit $rc: $(head -c 300 <<<"$msg")"
fi
# The library alone fails closed, with the same words.
msg=$(timeout 10 env "${SFY_PRELOAD_ENV[@]}" SOCKSIFY_PROXY="$list" SOCKSIFY_NO_PROXY= \
	"$PY" -c "
import socket
try:
    socket.create_connection(('127.0.0.1', $ECHO), timeout=5)
    print('connected')
except OSError as e:
    print('refused', e.errno)" 2>&1)
if grep -q "^refused" <<<"$msg" && grep -q "513 hops; at most 512" <<<"$msg"; then
	pass proxy_513_refused_by_library
else
	fail proxy_513_refused_by_library "$(head -c 400 <<<"$msg")"
fi
list=${list%,*}
msg=$(timeout 10 env "${SFY_PRELOAD_ENV[@]}" SOCKSIFY_PROXY="$list" SOCKSIFY_LOG=debug \
	true 2>&1)
if grep -q "proxy hop 512 of 512: socks5://127.0.0.1:1512" <<<"$msg"; then
	pass proxy_512_read_by_library
else
	fail proxy_512_read_by_library "$(tail -c 400 <<<"$msg")"
fi

finish
