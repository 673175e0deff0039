#!/bin/bash
# Chain modes (SOCKSIFY_CHAIN, SOCKSIFY_CHAIN_LEN) against real servers:
# dynamic chains with a dead hop (a port where nothing listens) and a
# stalled one (accepts, never answers), first and in the middle; the
# dead-hop memory shared with a forked child; strict refusing a dead hop;
# the time budget never exceeded; random and round-robin spreading
# connections over three tinyproxy hops, counted in their logs.
#
# The client runs in $NS_CLI, which reaches only the proxy namespace; the
# web server lives in $NS_TG (netns_up), so a page came through a proxy.
. "$(dirname "$0")/lib.sh"

unset SOCKSIFY_PROXY SOCKSIFY_NO_PROXY SOCKSIFY_LOG ALL_PROXY all_proxy \
	NO_PROXY no_proxy LD_PRELOAD http_proxy HTTP_PROXY https_proxy HTTPS_PROXY \
	SOCKSIFY_CHAIN SOCKSIFY_CHAIN_LEN SOCKSIFY_TIMEOUT_MS

if ! is_root; then
	skip chain_modes "needs root for the network namespaces"
	finish
fi
if ! command -v tinyproxy >/dev/null 2>&1; then
	skip chain_modes "tinyproxy missing (tools/install-deps.sh)"
	finish
fi
netns_up || { fail netns_up "could not build the namespaces"; finish; }
CLI=(ip netns exec "$NS_CLI")
PX=192.0.2.1 TG=198.51.100.2

# tp NAME PORT: tinyproxy (lib.sh) in $NS_PX on $PX:PORT, CONNECT to the
# web port and the other hops' ports only, log in $T/NAME.log.
tp() {
	NETNS=$NS_PX LISTEN=$PX ALLOW=192.0.2.0/24 \
		start_tinyproxy "$1" "$2" "$WEB $TPA $TPB $TPC $DEAD"
}

# conns.py N [fork]: N connections one after the other to the web server,
# each a GET; prints "ok=K first_ms=F rest_max_ms=R total_ms=T". With
# "fork", a child makes the first connection and the parent the others.
cat >"$T/conns.py" <<'EOF'
import os, socket, sys, time
host, port, n = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
fork = len(sys.argv) > 4 and sys.argv[4] == "fork"
def one():
    t = time.monotonic()
    try:
        s = socket.create_connection((host, port), timeout=20)
        s.sendall(b"GET / HTTP/1.0\r\nHost: x\r\n\r\n")
        got = b""
        while True:
            d = s.recv(4096)
            if not d:
                break
            got += d
        s.close()
        ok = b"chain-modes-page" in got
    except OSError as e:
        sys.stderr.write("connect: %s\n" % e)
        ok = False
    return ok, (time.monotonic() - t) * 1000
t0 = time.monotonic()
res = []
if fork:
    pid = os.fork()
    if pid == 0:
        ok, ms = one()
        os._exit(0 if ok else 1)
    _, st = os.waitpid(pid, 0)
    res.append((st == 0, 0.0))
    n -= 1
for _ in range(n):
    res.append(one())
rest = [ms for _, ms in res[1:]] or [0]
print("ok=%d first_ms=%d rest_max_ms=%d total_ms=%d" % (
    sum(1 for ok, _ in res if ok), res[0][1], max(rest),
    (time.monotonic() - t0) * 1000))
EOF

WEB=$(free_port) TPA=$(free_port) TPB=$(free_port) TPC=$(free_port)
DEAD=$(free_port) STALL=$(free_port) STALL2=$(free_port) STALL3=$(free_port)
mkdir -p "$T/www"
echo "chain-modes-page $$" >"$T/www/index.html"

setup_ok=1
NETNS=$NS_TG LISTEN=$TG start_http web "$WEB" "$T/www" || setup_ok=0
tp tpa "$TPA" || setup_ok=0
tp tpb "$TPB" || setup_ok=0
tp tpc "$TPC" || setup_ok=0
NETNS=$NS_PX LISTEN=$PX start_silent stall "$STALL" || setup_ok=0
NETNS=$NS_PX LISTEN=$PX start_silent stall2 "$STALL2" || setup_ok=0
NETNS=$NS_PX LISTEN=$PX start_silent stall3 "$STALL3" || setup_ok=0
if [ "$setup_ok" != 1 ]; then
	fail setup "a server did not start"
	finish
fi

# count NAME: CONNECTs to the web server in tinyproxy NAME's log.
count() {
	grep -c "CONNECT $TG:$WEB" "$T/$1.log" 2>/dev/null || true
}

# run NAME N [fork] VAR=VALUE...: conns.py through the preloaded library
# in $NS_CLI; its line in $out, its stderr in $T/NAME.err.
run() {
	local name=$1 n=$2 mode=
	shift 2
	if [ "${1:-}" = fork ]; then
		mode=fork
		shift
	fi
	out=$("${CLI[@]}" env "${SFY_PRELOAD_ENV[@]}" SOCKSIFY_LOG=info "$@" \
		"$PY" "$T/conns.py" "$TG" "$WEB" "$n" $mode 2>"$T/$name.err")
}

# field NAME: the value of NAME= in $out.
field() {
	local v=${out#*"$1="}
	echo "${v%% *}"
}

# ---- strict (the default): a dead hop fails the connection ------------
run strict_dead 1 SOCKSIFY_PROXY="socks5://$PX:$DEAD,http://$PX:$TPA"
[ "$(field ok)" = 0 ] && grep -q "cannot reach the proxy" "$T/strict_dead.err" &&
	pass strict_dead_hop_fails ||
	fail strict_dead_hop_fails "$out $(head -c 400 "$T/strict_dead.err")"

# ---- dynamic: the first hop refuses --------------------------------------
before=$(count tpa)
run dyn_dead 3 SOCKSIFY_CHAIN=dynamic \
	SOCKSIFY_PROXY="socks5://$PX:$DEAD,http://$PX:$TPA"
after=$(count tpa)
if [ "$(field ok)" = 3 ] && [ $((after - before)) = 3 ]; then
	pass dynamic_dead_first_hop
else
	fail dynamic_dead_first_hop "$out; tpa $before -> $after; $(head -c 600 "$T/dyn_dead.err")"
fi
# It was tried once, then remembered: one "cannot reach" line for three.
n=$(grep -c "cannot reach the proxy" "$T/dyn_dead.err")
[ "$n" = 1 ] && pass dynamic_dead_hop_remembered ||
	fail dynamic_dead_hop_remembered "$n attempts on the dead hop: $(head -c 600 "$T/dyn_dead.err")"

# ---- dynamic: the first hop stalls ------------------------------------------
# Two hops share 3000 ms: the stalled one costs its half, no more; the
# connections after it skip it.
run dyn_stall 3 SOCKSIFY_CHAIN=dynamic SOCKSIFY_TIMEOUT_MS=3000 \
	SOCKSIFY_PROXY="socks5://$PX:$STALL,http://$PX:$TPA"
first=$(field first_ms) rest=$(field rest_max_ms)
if [ "$(field ok)" = 3 ] && [ "$first" -ge 1400 ] && [ "$first" -lt 2500 ] &&
   [ "$rest" -lt 500 ]; then
	pass "dynamic_stalled_first_hop (first ${first} ms of 3000, then ${rest} ms)"
else
	fail dynamic_stalled_first_hop "$out; $(head -c 600 "$T/dyn_stall.err")"
fi

# ---- the memory is shared with a forked child ------------------------------
# The child meets the stalled hop; the parent's own connections after it
# skip the hop at once.
run dyn_fork 3 fork SOCKSIFY_CHAIN=dynamic SOCKSIFY_TIMEOUT_MS=3000 \
	SOCKSIFY_PROXY="socks5://$PX:$STALL2,http://$PX:$TPB"
if [ "$(field ok)" = 3 ] && [ "$(field rest_max_ms)" -lt 500 ]; then
	pass "dynamic_memory_shared_with_child (parent's connections at most $(field rest_max_ms) ms)"
else
	fail dynamic_memory_shared_with_child "$out; $(head -c 600 "$T/dyn_fork.err")"
fi

# ---- ... and with the programs of a session, across exec -------------------
# Under the socksify command (a session), one python meets the stalled hop
# (named second in its chain) and an exec'd one after it, whose chain names
# that hop first, skips it at once: the memory is the session's, by hop.
out=$("${CLI[@]}" env "${SFY_RUN_ENV[@]}" SOCKSIFY_CHAIN=dynamic SOCKSIFY_TIMEOUT_MS=3000 \
	SOCKSIFY_LOG=info "$B/socksify" -n '' -x "socks5://$PX:$DEAD,socks5://$PX:$STALL3,http://$PX:$TPB" -- \
	sh -c '"$1" "$2" "$3" "$4" 1 && exec env SOCKSIFY_PROXY="socks5://$5,http://$6" "$1" "$2" "$3" "$4" 1' sh \
	"$PY" "$T/conns.py" "$TG" "$WEB" "$PX:$STALL3" "$PX:$TPB" 2>"$T/dyn_exec.err")
first=$(sed -n '1s/.*first_ms=\([0-9]*\).*/\1/p' <<<"$out")
second=$(sed -n '2s/.*first_ms=\([0-9]*\).*/\1/p' <<<"$out")
if [ "$(grep -c 'ok=1' <<<"$out")" = 2 ] && [ -n "$first" ] && [ "$first" -ge 500 ] &&
   [ -n "$second" ] && [ "$second" -lt 500 ]; then
	pass "dynamic_memory_shared_across_exec (first program ${first} ms, the exec'd one ${second} ms)"
else
	fail dynamic_memory_shared_across_exec "$out; $(head -c 800 "$T/dyn_exec.err")"
fi

# ---- dynamic: a dead hop in the middle ---------------------------------------
# tinyproxy A cannot reach the dead port (its error status names the next
# hop), so the chain goes on without it: A -> C.
before=$(count tpc)
run dyn_mid 2 SOCKSIFY_CHAIN=dynamic \
	SOCKSIFY_PROXY="http://$PX:$TPA,socks5://$PX:$DEAD,http://$PX:$TPC"
after=$(count tpc)
if [ "$(field ok)" = 2 ] && [ $((after - before)) = 2 ] &&
   grep -q "CONNECT $PX:$TPC" "$T/tpa.log"; then
	pass dynamic_dead_middle_hop
else
	fail dynamic_dead_middle_hop "$out; tpc $before -> $after; $(head -c 600 "$T/dyn_mid.err")"
fi

# ---- never after the budget -------------------------------------------------
run dyn_alldead 1 SOCKSIFY_CHAIN=dynamic SOCKSIFY_TIMEOUT_MS=2000 \
	SOCKSIFY_PROXY="socks5://$PX:$STALL,socks5://$PX:$STALL2,socks5://$PX:$DEAD"
total=$(field total_ms)
if [ "$(field ok)" = 0 ] && [ "$total" -lt 2400 ]; then
	pass "dynamic_all_dead_within_budget (${total} ms of 2000)"
else
	fail dynamic_all_dead_within_budget "$out; $(head -c 600 "$T/dyn_alldead.err")"
fi

# ---- random: spread over three hops --------------------------------------------
a0=$(count tpa) b0=$(count tpb) c0=$(count tpc)
# 60 connections, each hop at least 5 (expected 20; fewer than 5 has a
# chance of about 1e-5).
run random 60 SOCKSIFY_CHAIN=random \
	SOCKSIFY_PROXY="http://$PX:$TPA,http://$PX:$TPB,http://$PX:$TPC"
a=$(($(count tpa) - a0)) b=$(($(count tpb) - b0)) c=$(($(count tpc) - c0))
if [ "$(field ok)" = 60 ] && [ $((a + b + c)) = 60 ] && [ "$a" -ge 5 ] &&
   [ "$b" -ge 5 ] && [ "$c" -ge 5 ]; then
	pass "random_spreads ($a/$b/$c)"
else
	fail random_spreads "$out; counts $a/$b/$c; $(head -c 600 "$T/random.err")"
fi

# ---- round-robin: in turn ------------------------------------------------------
a0=$(count tpa) b0=$(count tpb) c0=$(count tpc)
run rr 30 SOCKSIFY_CHAIN=round-robin \
	SOCKSIFY_PROXY="http://$PX:$TPA,http://$PX:$TPB,http://$PX:$TPC"
a=$(($(count tpa) - a0)) b=$(($(count tpb) - b0)) c=$(($(count tpc) - c0))
[ "$(field ok)" = 30 ] && [ "$a/$b/$c" = 10/10/10 ] &&
	pass round_robin_in_turn ||
	fail round_robin_in_turn "$out; counts $a/$b/$c; $(head -c 600 "$T/rr.err")"

# ... and across exec in a session: three programs run one after the
# other under the socksify command, one connection each, take the three
# hops in turn (the cursor is the session's, by chain), not the first
# hop three times.
a0=$(count tpa) b0=$(count tpb) c0=$(count tpc)
out=$("${CLI[@]}" env "${SFY_RUN_ENV[@]}" SOCKSIFY_CHAIN=round-robin SOCKSIFY_LOG=info \
	"$B/socksify" -n '' -x "http://$PX:$TPA,http://$PX:$TPB,http://$PX:$TPC" -- \
	sh -c 'for i in 1 2 3; do "$1" "$2" "$3" "$4" 1 || exit 1; done' sh \
	"$PY" "$T/conns.py" "$TG" "$WEB" 2>"$T/rr_exec.err")
a=$(($(count tpa) - a0)) b=$(($(count tpb) - b0)) c=$(($(count tpc) - c0))
[ "$(grep -c 'ok=1' <<<"$out")" = 3 ] && [ "$a/$b/$c" = 1/1/1 ] &&
	pass round_robin_shared_across_exec ||
	fail round_robin_shared_across_exec "$out; counts $a/$b/$c; $(head -c 600 "$T/rr_exec.err")"

# Round-robin with a length and a dead hop: chains of two live hops.
before=$(grep -c "CONNECT $PX:" "$T/tpa.log" "$T/tpb.log" "$T/tpc.log" |
	awk -F: '{s += $NF} END {print s}')
run rr2 3 SOCKSIFY_CHAIN=round-robin SOCKSIFY_CHAIN_LEN=2 \
	SOCKSIFY_PROXY="http://$PX:$TPA,socks5://$PX:$DEAD,http://$PX:$TPB,http://$PX:$TPC"
after=$(grep -c "CONNECT $PX:" "$T/tpa.log" "$T/tpb.log" "$T/tpc.log" |
	awk -F: '{s += $NF} END {print s}')
[ "$(field ok)" = 3 ] && [ $((after - before)) -ge 3 ] &&
	pass round_robin_len2_skips_dead ||
	fail round_robin_len2_skips_dead "$out; hop-to-hop CONNECTs $before -> $after; $(head -c 600 "$T/rr2.err")"

# ---- bad settings: a clear error, nothing goes direct -----------------------------
out=$("${CLI[@]}" env "${SFY_PRELOAD_ENV[@]}" SOCKSIFY_CHAIN=fifo \
	SOCKSIFY_PROXY="http://$PX:$TPA" "$PY" "$T/conns.py" "$TG" "$WEB" 1 2>&1)
case $out in
*"SOCKSIFY_CHAIN: 'fifo' is not strict, dynamic, random or round-robin"*ok=0*) pass bad_chain_mode ;;
*) fail bad_chain_mode "$out" ;;
esac

# ---- --check names the dead hop of a dynamic chain --------------------------------
out=$("${CLI[@]}" env SOCKSIFY_CHAIN=dynamic SOCKSIFY_TIMEOUT_MS=1500 "$B/socksify" --check \
	-x "socks5://$PX:$DEAD,http://$PX:$TPA,socks5://$PX:$STALL" "$TG:$WEB" 2>&1)
rc=$?
case "$rc:$out" in
0:*"DEAD  hop 1: programs skip it (failed at reach)"*"DEAD  hop 3: programs skip it (failed at method)"*"would use now (dynamic): hop 2"*"hop 2 connected to $TG:$WEB"*"2 of the configured hops are dead"*)
	pass check_names_dead_hops ;;
*) fail check_names_dead_hops "rc=$rc: $out" ;;
esac
out=$("${CLI[@]}" env SOCKSIFY_CHAIN=round-robin SOCKSIFY_CHAIN_LEN=2 "$B/socksify" --check \
	-x "socks5://$PX:$DEAD,http://$PX:$TPA" "$TG:$WEB" 2>&1)
rc=$?
case "$rc:$out" in
1:*"1 of 2 hops answer, a round-robin chain needs 2"*) pass check_too_few_live_hops ;;
*) fail check_too_few_live_hops "rc=$rc: $out" ;;
esac

# The command checks them before it runs anything (exit 2).
out=$(env "${SFY_RUN_ENV[@]}" SOCKSIFY_CHAIN=random SOCKSIFY_CHAIN_LEN=3 \
	"$B/socksify" -x "http://$PX:$TPA,http://$PX:$TPB" sh -c 'echo RAN' 2>&1)
rc=$?
case "$rc:$out" in
"2:socksify: SOCKSIFY_CHAIN_LEN: '3' is not a number of hops in 1..2"*) pass command_checks_chain_len ;;
*) fail command_checks_chain_len "rc=$rc: $out" ;;
esac
out=$(env "${SFY_RUN_ENV[@]}" SOCKSIFY_CHAIN=round-robin SOCKSIFY_CHAIN_LEN=2 \
	"$B/socksify" -x "http://$PX:$TPA,http://$PX:$TPB" sh -c 'echo "RAN $SOCKSIFY_CHAIN"' 2>&1)
[ "$out" = "RAN round-robin" ] && pass command_passes_chain_mode ||
	fail command_passes_chain_mode "$out"

finish
