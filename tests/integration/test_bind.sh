#!/bin/bash
# BIND through the proxy (issue 16; tcp/bind.c): a socksified program that
# listens for a connection back from the host it talks to through the
# proxy gets the proxy to listen for it.
#
# Needs root (the namespaces): the program runs in $NS_CLI, which reaches
# only the proxy namespace; the target in $NS_TG reaches only the proxy's
# outer address 198.51.100.1. A connection back that arrives can only have
# come through the proxy, and the target's log shows whom it connected to
# (the proxy) and whose control connection it served (the proxy). The
# capture of lib.sh checks that nothing left $NS_CLI but to the proxy.
#
# Cases: a python listen/accept (blocking, non-blocking with poll, epoll,
# accept4's flags, a socket bound to the client's own address, AF_INET6),
# the second accept, active FTP with vsftpd (curl -P -, lftp; curl's
# passive mode still works), SOCKSIFY_BIND=off, loopback and listen before
# any connection (local), dante refusing BIND, microsocks (no BIND), and a
# scripted proxy that stalls, closes, refuses or splits its replies, and
# the accept race of two threads forced step by step (bindrace.c).
. "$(dirname "$0")/lib.sh"

unset SOCKSIFY_PROXY SOCKSIFY_NO_PROXY SOCKSIFY_LOG ALL_PROXY all_proxy \
	NO_PROXY no_proxy LD_PRELOAD SOCKSIFY_BIND

if ! is_root; then
	skip bind "needs root and network namespaces"
	exit 0
fi
netns_up || { fail netns_up "could not build the namespaces"; finish; }
CLI=(ip netns exec "$NS_CLI")
PX4=192.0.2.1 TG4=198.51.100.2 OUT4=198.51.100.1
PEERS=$ROOT/tests/integration/bind_peers.py

DANTE=$(free_port) NOBIND=$(free_port) MS=$(free_port) FAKE=$(free_port)
CTL=$(free_port) FTP=$(free_port)
setup_ok=1
NETNS=$NS_PX LISTEN=$PX4 EXTERNAL=$OUT4 start_danted dante "$DANTE" || setup_ok=0
NETNS=$NS_PX LISTEN=$PX4 EXTERNAL=$OUT4 DANTE_RULES='socks block {
	from: 0/0 to: 0/0
	command: bind
	log: error
}' start_danted nobind "$NOBIND" || setup_ok=0
NETNS=$NS_PX LISTEN=$PX4 EXTERNAL=$OUT4 start_microsocks ms "$MS" || setup_ok=0
: >"$T/target.log"
in_ns "$NS_TG" "$PY" "$PEERS" target "$TG4" "$CTL" "$T/target.log" \
	>>"$T/target.out" 2>&1 &
_sfy_track $!
NETNS=$NS_TG wait_port "$CTL" || setup_ok=0
if [ $setup_ok = 0 ]; then
	fail setup "a server did not start (see messages above)"
	finish
fi

# sfy_client URL MODE [ENV...]: the python client through build/socksify;
# its line in $OUT.
sfy_client() {
	local url=$1 mode=$2
	shift 2
	OUT=$("${CLI[@]}" timeout 40 env "${SFY_RUN_ENV[@]}" SOCKSIFY_TIMEOUT_MS=3000 "$@" \
		"$B/socksify" -x "$url" "$PY" "$PEERS" client "$mode" "$TG4" "$CTL" 2>"$T/client.err")
}

# has KEY=VALUE...: every word is in $OUT.
has() {
	local w
	for w in "$@"; do
		# shellcheck disable=SC2053 # $w is a pattern
		[[ " $OUT " == *" "$w" "* ]] || return 1
	done
}

# target_saw N: the target's log has a control peer and a connection back
# to the proxy's outer address as its last lines (N: lines expected new).
target_back_ok() {
	tail -n 2 "$T/target.log" | grep -q "^back $OUT4 [0-9]* ok$"
}

# ---- listen/accept through dante ---------------------------------------------
DURL=socks5://$PX4:$DANTE
: >"$T/target.log"
sfy_client "$DURL" wild
if has "sockname=$OUT4:*" "lpeer=ENOTCONN" "accepted=$TG4:*" "peer=$TG4:*" \
	"data=hello-from-target" "relisten=newport" "again=EAGAIN" && target_back_ok &&
   grep -q "^ctl $OUT4$" "$T/target.log"; then
	pass "listen-accept (blocking; getsockname is the proxy's $OUT4, the target connected back to it; re-armed: a new BIND, a new port, nothing to accept yet): $OUT"
else
	fail listen-accept "$OUT / target: $(tr '\n' ' ' <"$T/target.log") / $(tail -3 "$T/client.err")"
fi

sfy_client "$DURL" nonblock
if has "early=EAGAIN" "polled=1" "accepted=$TG4:*" "data=hello-from-target" &&
   target_back_ok; then
	pass "nonblocking-accept (EAGAIN before the connection, poll then says readable): $OUT"
else
	fail nonblocking-accept "$OUT / $(tail -3 "$T/client.err")"
fi

sfy_client "$DURL" epoll
if has "early=EAGAIN" "epolled=1" "accepted=$TG4:*" "data=hello-from-target" \
	"relisten=newport" "again=EAGAIN" "epoll_after=0"; then
	pass "epoll-accept (the registration fires once the connection is in, and stays quiet once re-armed): $OUT"
else
	fail epoll-accept "$OUT / $(tail -3 "$T/client.err")"
fi

sfy_client "$DURL" threads
if has "accepts=1" "got=$TG4:hello-from-target" && [[ " $OUT " != *" err="* ]]; then
	pass "threads-accept (eight threads block in accept on one socket when the connection comes: one gets it whole, the others go on waiting): $OUT"
else
	fail threads-accept "$OUT / $(tail -3 "$T/client.err")"
fi

sfy_client "$DURL" accept4
if has "polled=1" "flags=nb1,cloexec1" "peer=$TG4:*" "data=hello-from-target"; then
	pass "accept4-flags (SOCK_NONBLOCK|SOCK_CLOEXEC on the accepted socket): $OUT"
else
	fail accept4-flags "$OUT / $(tail -3 "$T/client.err")"
fi

sfy_client "$DURL" own
if has "sockname=$OUT4:*" "peer=$TG4:*" "data=hello-from-target" && target_back_ok; then
	pass "listen-own-address (bound to the client's own address): $OUT"
else
	fail listen-own-address "$OUT / $(tail -3 "$T/client.err")"
fi

# listen, bind and accept by syscall() number (hook_syscall.c routes them
# to the hooks): served by BIND as the named calls are.
sfy_client "$DURL" syscall-listen
if has "sockname=$OUT4:*" "accepted=$TG4:*" "data=hello-from-target" && target_back_ok; then
	pass "syscall-listen (listen and accept by number): $OUT"
else
	fail syscall-listen "$OUT / $(tail -c 400 "$T/client.err")"
fi
sfy_client "$DURL" syscall-bind
if has "sockname=$OUT4:*" "accepted=$TG4:*" "data=hello-from-target" && target_back_ok; then
	pass "syscall-bind (bind to the client's own address, listen and accept by number): $OUT"
else
	fail syscall-bind "$OUT / $(tail -c 400 "$T/client.err")"
fi

sfy_client "$DURL" v6
if has "sockname=::ffff:$OUT4:*" "peer=::ffff:$TG4:*" "data=hello-from-target"; then
	pass "listen-inet6 (an AF_INET6 socket: the addresses mapped): $OUT"
else
	fail listen-inet6 "$OUT / $(tail -3 "$T/client.err")"
fi

# A chain of two danted: BIND is asked of the last hop.
sfy_client "socks5://$PX4:$NOBIND,socks5://$PX4:$DANTE" wild SOCKSIFY_LOG=info
if has "sockname=$OUT4:*" "peer=$TG4:*" "data=hello-from-target" &&
   grep -q "BIND for .*: ok" "$T/client.err"; then
	pass "chain-bind (two hops, the first refusing BIND: the last hop listens): $OUT; $(grep -m1 "BIND for" "$T/client.err")"
else
	fail chain-bind "$OUT / $(tail -5 "$T/client.err")"
fi

# ---- what stays local ------------------------------------------------------------
sfy_client "$DURL" wild SOCKSIFY_BIND=off BIND_ALARM=3
if has "sockname=0.0.0.0:*" "lpeer=ENOTCONN" "ERR=ETIMEDOUT"; then
	pass "bind-off (SOCKSIFY_BIND=off: a local listen, the target cannot reach it): $OUT"
else
	fail bind-off "$OUT"
fi
sfy_client "$DURL" loopback BIND_ALARM=3
if has "sockname=127.0.0.1:*"; then
	pass "loopback-local (a socket bound to loopback listens locally): $OUT"
else
	fail loopback-local "$OUT"
fi
# No proxied connection yet: listen() before any connect stays local.
OUT=$("${CLI[@]}" timeout 20 env "${SFY_RUN_ENV[@]}" "$B/socksify" -x "$DURL" "$PY" -c '
import socket
s = socket.socket(); s.bind(("0.0.0.0", 0)); s.listen(1)
print("sockname=%s:%d" % s.getsockname())' 2>&1)
if [[ $OUT == sockname=0.0.0.0:* ]]; then
	pass "no-connection-local (listen before any proxied connection stays local): $OUT"
else
	fail no-connection-local "$OUT"
fi
sfy_client "$DURL" wild SOCKSIFY_BIND=sometimes
if [[ $OUT == *ERR=* ]] && grep -q "SOCKSIFY_BIND" "$T/client.err"; then
	pass "bind-bad-value (reported, calls fail closed): $(grep -m1 SOCKSIFY_BIND "$T/client.err")"
else
	fail bind-bad-value "$OUT / $(cat "$T/client.err")"
fi

# ---- refusals --------------------------------------------------------------------
sfy_client "socks5://$PX4:$NOBIND" wild
if has "ERR=EACCES" && grep -q "BIND for" "$T/client.err"; then
	pass "dante-refuses-bind (listen fails EACCES, logged): $OUT; $(grep -m1 "BIND for" "$T/client.err")"
else
	fail dante-refuses-bind "$OUT / $(cat "$T/client.err")"
fi
sfy_client "socks5://$PX4:$MS" wild
if has "ERR=EOPNOTSUPP" || has "ERR=ENOTSUP"; then
	pass "microsocks-no-bind (listen fails EOPNOTSUPP: microsocks has no BIND): $OUT"
else
	fail microsocks-no-bind "$OUT / $(cat "$T/client.err")"
fi

# ---- a scripted proxy ------------------------------------------------------------
# fake_proxy MODE: the scripted proxy on $PX4:$FAKE (restarted per mode).
FAKE_PID=
fake_proxy() {
	[ -n "$FAKE_PID" ] && stop_pid "$FAKE_PID"
	in_ns "$NS_PX" "$PY" "$PEERS" proxy "$PX4" "$FAKE" "$1" >>"$T/fake.out" 2>&1 &
	FAKE_PID=$!
	_sfy_track "$FAKE_PID"
	NETNS=$NS_PX wait_port "$FAKE"
}
FURL=socks5://$PX4:$FAKE
fake_proxy stall
sfy_client "$FURL" wild
ms=${OUT##*ms=}
if has "ERR=ETIMEDOUT" && [ "${ms%% *}" -ge 2500 ] && [ "${ms%% *}" -lt 6000 ]; then
	pass "stalled-proxy (listen fails ETIMEDOUT after SOCKSIFY_TIMEOUT_MS=3000): $OUT"
else
	fail stalled-proxy "$OUT / $(cat "$T/client.err")"
fi
fake_proxy close2
sfy_client "$FURL" wild
if has "sockname=$PX4:4242" "ERR=ECONNABORTED"; then
	pass "proxy-closes (accept fails ECONNABORTED; BND 0.0.0.0 would be the proxy, here $PX4:4242): $OUT"
else
	fail proxy-closes "$OUT / $(cat "$T/client.err")"
fi
fake_proxy refuse2
sfy_client "$FURL" wild
if has "ERR=ECONNREFUSED"; then
	pass "second-reply-refused (REP 5 in the second reply: accept fails ECONNREFUSED): $OUT"
else
	fail second-reply-refused "$OUT / $(cat "$T/client.err")"
fi
fake_proxy split2
sfy_client "$FURL" nonblock
if has "accepted=203.0.113.7:2121" "peer=203.0.113.7:2121" "data=hello-from-target"; then
	pass "second-reply-split (in two writes, non-blocking accept waits for all of it): $OUT"
else
	fail second-reply-split "$OUT / $(cat "$T/client.err")"
fi
sfy_client "$FURL" wild
if has "accepted=203.0.113.7:2121" "data=hello-from-target"; then
	pass "second-reply-split-blocking: $OUT"
else
	fail second-reply-split-blocking "$OUT / $(cat "$T/client.err")"
fi

# ---- the accept race, forced (tests/tools/bindrace.c) ----------------------------
# Two threads in accept(); the one woken late waits again on the socket the
# other handed out, whose peer then ends it before the number is re-armed:
# the late one must go on waiting (and accept the next connection), not
# return ECONNABORTED. A scripted proxy in the program, on loopback; each
# step waited for (/proc's view of the threads' system calls), no sleeps.
BR=$(free_port)
OUT=$(timeout 40 env "${SFY_PRELOAD_ENV[@]}" SOCKSIFY_PROXY="socks5://127.0.0.1:$BR" \
	SOCKSIFY_PIPELINE=off SOCKSIFY_TIMEOUT_MS=5000 "$B/tests/tools/bindrace" "$BR" 2>"$T/bindrace.err")
if [ "$OUT" = "A=accepted B=accepted" ]; then
	pass "accept-rearm-race (a waiter woken late, its socket handed out and ended under it: goes on waiting, accepts the next): $OUT"
else
	fail accept-rearm-race "$OUT / $(tail -3 "$T/bindrace.err")"
fi

# ---- active FTP: vsftpd in the target namespace ----------------------------------
if [ ! -x /usr/sbin/vsftpd ]; then
	fail ftp "vsftpd missing (tools/install-deps.sh)"
	finish
fi
mkdir -p "$T/ftp/pub" /var/run/vsftpd/empty
head -c 4194304 /dev/urandom >"$T/ftp/pub/big.bin"
echo "small file $$" >"$T/ftp/pub/small.txt"
chmod -R a+rX "$T/ftp"
SUM=$(sha256sum <"$T/ftp/pub/big.bin" | cut -d' ' -f1)
cat >"$T/vsftpd.conf" <<EOF
listen=YES
listen_ipv6=NO
listen_address=$TG4
listen_port=$FTP
background=NO
anonymous_enable=YES
no_anon_password=YES
anon_root=$T/ftp
local_enable=NO
write_enable=NO
port_enable=YES
pasv_enable=YES
connect_from_port_20=NO
isolate=NO
isolate_network=NO
seccomp_sandbox=NO
xferlog_enable=YES
vsftpd_log_file=$T/vsftpd.log
dual_log_enable=YES
log_ftp_protocol=YES
secure_chroot_dir=/var/run/vsftpd/empty
EOF
in_ns "$NS_TG" /usr/sbin/vsftpd "$T/vsftpd.conf" >>"$T/vsftpd.out" 2>&1 &
_sfy_track $!
if ! NETNS=$NS_TG wait_port "$FTP"; then
	fail ftp "vsftpd did not start: $(cat "$T/vsftpd.out")"
	finish
fi

# ftp_ok WHAT: vsftpd's log has an active-mode transfer for the last
# client, from the proxy's address ("Client" is always the control peer;
# PORT/EPRT names where it connected back).
vsftpd_port_to_proxy() {
	grep -E "\"(PORT|EPRT) [^\"]*\"" "$T/vsftpd.log" | tail -n 1 |
		grep -qE "Client \"$OUT4\".*\"(PORT 198,51,100,1,|EPRT \|1\|$OUT4\|)"
}

FTPURL=ftp://$TG4:$FTP/pub
CURL=(timeout 60 env "${SFY_RUN_ENV[@]}" "$B/socksify" -x "$DURL" curl -sS --max-time 50)
if [ "${SANITIZE:-0}" = 1 ] && ! sfy_preload_works curl -sS --max-time 2 file:///dev/null; then
	for c in curl-active-list curl-active-download curl-passive-download; do
		skip "$c" "curl hangs under the ASan runtime alone (setlocale deadlock)"
	done
else
	: >"$T/vsftpd.log"
	list=$("${CLI[@]}" "${CURL[@]}" -P - "$FTPURL/" 2>"$T/curl.err")
	if [[ $list == *big.bin* && $list == *small.txt* ]] && vsftpd_port_to_proxy; then
		pass "curl-active-list (curl -P -: EPRT to the proxy's address, vsftpd connected back through BIND)"
	else
		fail curl-active-list "listing: $list / $(cat "$T/curl.err") / $(tail -5 "$T/vsftpd.log")"
	fi
	: >"$T/vsftpd.log"
	got=$("${CLI[@]}" "${CURL[@]}" -P - "$FTPURL/big.bin" 2>"$T/curl.err" |
		sha256sum | cut -d' ' -f1)
	if [ "$got" = "$SUM" ] && vsftpd_port_to_proxy; then
		pass "curl-active-download (4 MiB through BIND, sha256 equal)"
	else
		fail curl-active-download "sha $got, want $SUM / $(cat "$T/curl.err") / $(tail -5 "$T/vsftpd.log")"
	fi
	got=$("${CLI[@]}" "${CURL[@]}" "$FTPURL/big.bin" 2>"$T/curl.err" |
		sha256sum | cut -d' ' -f1)
	if [ "$got" = "$SUM" ]; then
		pass "curl-passive-download (passive FTP through CONNECT still works)"
	else
		fail curl-passive-download "sha $got / $(cat "$T/curl.err")"
	fi
fi

if ! command -v lftp >/dev/null 2>&1; then
	fail lftp-active "lftp missing (tools/install-deps.sh)"
elif [ "${SANITIZE:-0}" = 1 ] && ! sfy_preload_works lftp -c "echo x"; then
	skip lftp-active "lftp hangs under the ASan runtime alone (no socksify involved)"
else
	: >"$T/vsftpd.log"
	rm -f "$T/lftp.bin"
	list=$("${CLI[@]}" timeout 60 env "${SFY_RUN_ENV[@]}" HOME="$T" "$B/socksify" -x "$DURL" \
		lftp -e "set ftp:passive-mode off; set net:max-retries 1; set net:timeout 20; get pub/big.bin -o $T/lftp.bin; ls pub; quit" \
		"ftp://anonymous:x@$TG4:$FTP" 2>"$T/lftp.err")
	got=$(sha256sum <"$T/lftp.bin" 2>/dev/null | cut -d' ' -f1)
	if [ "$got" = "$SUM" ] && [[ $list == *small.txt* ]] && vsftpd_port_to_proxy; then
		pass "lftp-active (passive-mode off: download, sha256 equal, and listing through BIND)"
	else
		fail lftp-active "sha $got / $list / $(cat "$T/lftp.err") / $(tail -5 "$T/vsftpd.log")"
	fi
fi

# python's ftplib in active mode names the control connection's own
# address in PORT (getsockname: the proxy's CONNECT reply, where the
# server sees the client) and the listening socket's port.
: >"$T/vsftpd.log"
OUT=$("${CLI[@]}" timeout 40 env "${SFY_RUN_ENV[@]}" "$B/socksify" -x "$DURL" "$PY" -c "
import ftplib, hashlib
f = ftplib.FTP(); f.connect('$TG4', $FTP, timeout=20); f.login()
f.set_pasv(False)
h = hashlib.sha256()
f.retrbinary('RETR pub/big.bin', h.update)
print('names', ' '.join(sorted(f.nlst('pub'))), 'sha', h.hexdigest())
" 2>&1)
if [[ $OUT == *"pub/small.txt"*"sha $SUM"* ]] && vsftpd_port_to_proxy; then
	pass "ftplib-active (set_pasv(False): listing and 4 MiB download through BIND)"
else
	fail ftplib-active "$OUT / $(tail -5 "$T/vsftpd.log")"
fi

finish
