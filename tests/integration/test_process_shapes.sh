#!/usr/bin/env bash
#
# The library's per-descriptor bookkeeping across every shape a process
# can take (tests/tools/procshapes.c and fdreuse.c are the programs, see
# their top comments):
#   - a fork storm from a threaded program whose other threads keep
#     dup2()ing and closing a proxied TCP and a relayed UDP socket and
#     sending: 3000 children by fork(), _Fork() and syscall(SYS_fork), none
#     may hang (a child that inherits a writer's lock spins forever);
#   - vfork, posix_spawn and clone(CLONE_VM) children closing the parent's
#     proxied TCP and UDP sockets: the parent's bookkeeping stays as it was;
#   - a relayed UDP socket across exec: the new image relays it anew;
#   - close, dup2, dup3 and close_range through syscall();
#   - the UDP association's control connection closed behind our back and
#     its number reused by a file of the program, which must survive;
#   - a dead relayed UDP socket's number (closed behind our back) taken by
#     F_DUPFD, dup, accept4 or socket: its association is released;
#   - a UDP socket received over SCM_RIGHTS onto a number with stale state;
#   - the fork storm again with the library and the program built with
#     ThreadSanitizer (make tsan), where any report fails, and the
#     descriptor table's unit test (a fork while threads write) under it.
#
# All on loopback: danted on 127.0.0.1 going out from 127.0.0.2, TCP and
# UDP echo servers on 127.0.0.1, SOCKSIFY_NO_PROXY empty so that loopback
# destinations go through the proxy. dante-server runs only as root here.
. "$(dirname "$0")/lib.sh"

unset SOCKSIFY_PROXY SOCKSIFY_NO_PROXY SOCKSIFY_LOG SOCKSIFY_LOG_FILE \
	SOCKSIFY_UDP SOCKSIFY_DNS ALL_PROXY all_proxy NO_PROXY no_proxy LD_PRELOAD

PS=$B/tests/tools/procshapes
FR=$B/tests/tools/fdreuse
TSAN_DIR=$ROOT/build/tsan
if [ "$(id -u)" != 0 ]; then
	skip process_shapes "dante-server, the UDP ASSOCIATE server of these tests, runs only as root"
	finish
fi
for f in "$B/libsocksify.so" "$PS" "$FR"; do
	[ -e "$f" ] || { fail setup "$f missing (run make all-tests)"; finish; }
done

PP=$(free_port) EP=$(free_port) UP=$(free_port)
ok=1
EXTERNAL=127.0.0.2 start_danted px "$PP" || ok=0
start_tcp_echo echo "$EP" || ok=0
start_udp_echo uecho "$UP" || ok=0
[ $ok = 1 ] || { fail setup "could not start the servers"; finish; }

# ps_run NAME LIB BIN ARGS...: BIN with LIB preloaded, its "OK"/"FAIL"
# lines turned into PASS/FAIL lines, a nonzero exit without a FAIL line
# (a crash, the timeout) a FAIL of NAME.
ps_run() {
	local name=$1 lib=$2 bin=$3 out rc
	shift 3
	local pre=("${SFY_PRELOAD_ENV[@]}")
	[ "$lib" = "$SFY_LIB" ] || pre=("LD_PRELOAD=$lib")
	out=$(timeout 180 env "${pre[@]}" SOCKSIFY_PROXY="socks5://127.0.0.1:$PP" \
		SOCKSIFY_NO_PROXY= "$bin" "$@" 2>"$T/ps.err")
	rc=$?
	grep '^#' <<<"$out"
	while read -r word what rest; do
		case $word in
		OK) pass "$name.$what" ;;
		FAIL) fail "$name.${what%:}" "$rest" ;;
		esac
	done <<<"$out"
	if grep -qE 'ThreadSanitizer|AddressSanitizer|runtime error' "$T/ps.err"; then
		fail "$name" "sanitizer report: $(grep -m 5 -E 'WARNING|ERROR|runtime error|#[0-9] ' "$T/ps.err" | tr '\n' ' ')"
	elif [ "$rc" != 0 ] && ! grep -q '^FAIL' <<<"$out"; then
		fail "$name" "exit status $rc, stderr: $(head -c 600 "$T/ps.err")"
	fi
}

ps_run forkstorm "$SFY_LIB" "$PS" forkstorm 127.0.0.1 "$EP" "${FORKSTORM_N:-3000}" "$UP"
SOCKSIFY_LOG=info SOCKSIFY_LOG_FILE=$T/vfork.log \
	ps_run vfork "$SFY_LIB" "$PS" vfork 127.0.0.1 "$EP"
ps_run vforkudp "$SFY_LIB" "$PS" vforkudp 127.0.0.1 "$UP"
ps_run clonevm "$SFY_LIB" "$PS" clonevm 127.0.0.1 "$EP"
ps_run exec "$SFY_LIB" "$PS" exec 127.0.0.1 "$UP"
SOCKSIFY_LOG=info SOCKSIFY_LOG_FILE=$T/rawsys.log \
	ps_run rawsys "$SFY_LIB" "$FR" rawsys 127.0.0.1 "$EP" "$UP"
ps_run ctlreuse "$SFY_LIB" "$FR" ctlreuse 127.0.0.1 "$UP"
ps_run stalenum "$SFY_LIB" "$FR" stalenum 127.0.0.1 "$UP"
ps_run scmrights "$SFY_LIB" "$FR" scmrights 127.0.0.1 "$UP"

# --- ThreadSanitizer ------------------------------------------------------
if [ "${SANITIZE:-0}" = 1 ]; then
	echo "# ThreadSanitizer cases: run in the plain pass (make check), not beside ASan"
elif [ ! -x "$TSAN_DIR/tests/tools/procshapes" ] || [ ! -f "$TSAN_DIR/libsocksify.so" ]; then
	fail tsan "build/tsan missing: make tsan (make check builds it)"
else
	export TSAN_OPTIONS="exitcode=66 halt_on_error=0 die_after_fork=0"
	# The library's state itself, each with threads writing while the
	# test forks: the descriptor table, the fake-IP map, the bypassed
	# addresses (test_policy), the chain modes' dead-hop memory
	# (test_chainpick: threads, and a child sharing it).
	for unit in test_fdstate test_fakeip test_fakeip_session test_policy test_chainpick; do
		if [ ! -x "$TSAN_DIR/tests/$unit" ]; then
			fail "tsan_$unit" "$TSAN_DIR/tests/$unit missing: make tsan"
			continue
		fi
		# TSan makes the map's atomics several times slower: Check's
		# 30 s per case is too short on a loaded machine
		out=$(CK_TIMEOUT_MULTIPLIER=4 timeout 300 "$TSAN_DIR/tests/$unit" 2>&1)
		rc=$?
		if [ "$rc" = 0 ] && ! grep -q ThreadSanitizer <<<"$out"; then
			pass "tsan_$unit"
		else
			fail "tsan_$unit" "exit $rc: $(grep -m 5 -E 'WARNING|ERROR|Checks|#[0-9] ' <<<"$out" | tr '\n' ' ')"
		fi
	done
	PROCSHAPES_FORK_ONLY=1 \
		ps_run tsan_forkstorm "$TSAN_DIR/libsocksify.so" "$TSAN_DIR/tests/tools/procshapes" \
			forkstorm 127.0.0.1 "$EP" 300 "$UP"
	ps_run tsan_vforkudp "$TSAN_DIR/libsocksify.so" "$TSAN_DIR/tests/tools/procshapes" \
		vforkudp 127.0.0.1 "$UP"
	unset TSAN_OPTIONS
fi

finish
