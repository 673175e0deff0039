#!/usr/bin/env bash
#
# The TCP connect path of libsocksify.so, loaded with LD_PRELOAD into
# python3, against real SOCKS5 servers (danted, microsocks) on loopback.
#
# Proof of proxying: the proxies go out from 127.0.0.2 (danted's external,
# microsocks -b), while a direct connection comes from 127.0.0.1; the echo
# server logs every peer. Loopback targets are bypassed by default, so the
# cases that must be proxied set SOCKSIFY_NO_PROXY= (empty: proxy all).

. "$(dirname "$0")/lib.sh"

# The client side: one small python3 program, a mode per case. Prints
# "OK ..." or "ERR <errno name> ...".
cat >"$T/client.py" <<'EOF'
import ctypes, errno, fcntl, os, select, socket, struct, sys, time

def ename(e):
    return errno.errorcode.get(e.errno, str(e.errno)) if isinstance(e, OSError) else str(e)

def nfds():
    return len(os.listdir("/proc/self/fd"))

def fam(f):
    return socket.AF_INET6 if f == "6" else socket.AF_INET

def exchange(s, data=b"socksify-echo-test"):
    s.sendall(data)
    got = b""
    while len(got) < len(data):
        chunk = s.recv(100)
        if not chunk:
            break
        got += chunk
    return got == data

def peer(s):
    p = s.getpeername()
    return "%s:%d" % (p[0], p[1])

mode, args = sys.argv[1], sys.argv[2:]
try:
    if mode == "echo":          # FAMILY HOST PORT
        s = socket.socket(fam(args[0]), socket.SOCK_STREAM)
        s.connect((args[1], int(args[2])))
        ok = exchange(s)
        cloexec = fcntl.fcntl(s.fileno(), fcntl.F_GETFD) & fcntl.FD_CLOEXEC
        local = s.getsockname()
        print("OK" if ok else "BAD-ECHO", "peer=" + peer(s),
              "local-family=%d" % (6 if ":" in local[0] else 4),
              "cloexec=%d" % bool(cloexec))
    elif mode == "v6only":      # HOST6 PORT: IPV6_V6ONLY socket
        s = socket.socket(socket.AF_INET6, socket.SOCK_STREAM)
        s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
        s.connect((args[0], int(args[1])))
        # (the socket was replaced by an AF_INET one: IPv6 options are
        # gone, but the program still sees IPv6 addresses)
        local = s.getsockname()
        print("OK" if exchange(s) else "BAD-ECHO", "peer=" + peer(s),
              "local=%s" % local[0])
    elif mode == "nb":          # HOST PORT: non-blocking connect
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.setblocking(False)
        rc = s.connect_ex((args[0], int(args[1])))
        if rc not in (0, errno.EINPROGRESS):
            raise OSError(rc, os.strerror(rc))
        p = select.poll()
        p.register(s, select.POLLOUT)
        if not p.poll(10000):
            raise OSError(errno.ETIMEDOUT, "poll")
        err = s.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
        if err:
            raise OSError(err, os.strerror(err))
        nb = bool(fcntl.fcntl(s.fileno(), fcntl.F_GETFL) & os.O_NONBLOCK)
        # a second connect() on a connected socket: EISCONN, as without us
        again = s.connect_ex((args[0], int(args[1])))
        s.setblocking(True)
        ok = exchange(s)
        print("OK" if ok and nb else "BAD", "peer=" + peer(s),
              "nonblock=%d" % nb, "again=" + errno.errorcode.get(again, str(again)))
    elif mode == "tfo":         # HOST PORT: TCP Fast Open sendto() connects too
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        data = b"fast-open-data"
        s.sendto(data, socket.MSG_FASTOPEN, (args[0], int(args[1])))
        got = b""
        while len(got) < len(data):
            chunk = s.recv(100)
            if not chunk:
                break
            got += chunk
        print("OK" if got == data else "BAD", "peer=" + peer(s))
    elif mode == "errno":       # HOST PORT: connect() keeps errno on success
        libc = ctypes.CDLL(None, use_errno=True)
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sa = struct.pack("=H", socket.AF_INET) + struct.pack("!H", int(args[1])) + \
            socket.inet_aton(args[0]) + b"\0" * 8
        ctypes.set_errno(4321)
        rc = libc.connect(s.fileno(), sa, len(sa))
        e = ctypes.get_errno()
        print("OK" if rc == 0 and e == 4321 else "BAD", "rc=%d errno=%d" % (rc, e))
    elif mode == "famx":        # SOCKFAM ADDRFAM PORT: an address of the other family
        libc = ctypes.CDLL(None, use_errno=True)
        s = socket.socket(fam(args[0]), socket.SOCK_STREAM)
        port = struct.pack("!H", int(args[2]))
        if args[1] == "4":
            sa = struct.pack("=H", socket.AF_INET) + port + socket.inet_aton("127.0.0.1") + b"\0" * 8
        else:
            sa = struct.pack("=H", socket.AF_INET6) + port + b"\0" * 4 + \
                socket.inet_pton(socket.AF_INET6, "::1") + b"\0" * 4
        rc = libc.connect(s.fileno(), sa, len(sa))
        e = ctypes.get_errno()
        print("OK" if rc == 0 else "ERR " + errno.errorcode.get(e, str(e)))
    elif mode == "reuse":       # HOST PORT OTHERPORT: a proxied socket's number reused unseen
        # (raw system calls: no hook sees the close or the new socket)
        libc = ctypes.CDLL(None, use_errno=True)
        SYS_close, SYS_socket, SYS_connect = 3, 41, 42
        def proxied():
            s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            s.connect((args[0], int(args[1])))
            return s.detach()
        # 1: reused by a socket connected directly elsewhere: getpeername
        # is the kernel's, not the old destination
        fd = proxied()
        libc.syscall(SYS_close, fd)
        nfd = libc.syscall(SYS_socket, socket.AF_INET, socket.SOCK_STREAM, 0)
        sa = struct.pack("=H", socket.AF_INET) + struct.pack("!H", int(args[2])) + \
            socket.inet_aton("127.0.0.1") + b"\0" * 8
        rc = libc.syscall(SYS_connect, nfd, sa, len(sa))
        t = socket.socket(fileno=nfd)
        p1 = peer(t)
        t.close()
        # 2: reused by an unconnected socket: connect() goes through the
        # proxy afresh (no EISCONN from the old record)
        fd2 = proxied()
        libc.syscall(SYS_close, fd2)
        nfd2 = libc.syscall(SYS_socket, socket.AF_INET, socket.SOCK_STREAM, 0)
        u = socket.socket(fileno=nfd2)
        u.connect((args[0], int(args[1])))
        ok = exchange(u)
        print("OK" if nfd == fd and nfd2 == fd2 and rc == 0 and ok else "BAD",
              "peer1=" + p1, "peer2=" + peer(u))
    elif mode == "stalehint":   # HOST PORT: a stream socket's number reused unseen by UDP
        libc = ctypes.CDLL(None, use_errno=True)
        SYS_close, SYS_socket = 3, 41
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)  # the library's socket()
        fd = s.detach()
        libc.syscall(SYS_close, fd)
        nfd = libc.syscall(SYS_socket, socket.AF_INET, socket.SOCK_DGRAM, 0)
        sa = struct.pack("=H", socket.AF_INET) + struct.pack("!H", int(args[1])) + \
            socket.inet_aton(args[0]) + b"\0" * 8
        t0 = time.monotonic()
        rc = libc.connect(nfd, sa, len(sa))
        e = ctypes.get_errno()
        ms = int((time.monotonic() - t0) * 1000)
        u = socket.socket(fileno=nfd)
        ok = rc == 0 and nfd == fd and u.getpeername() == (args[0], int(args[1]))
        print("OK" if ok else "BAD rc=%d %s" % (rc, errno.errorcode.get(e, e)),
              "type=%d" % u.type, "fast" if ms < 1000 else "ms=%d" % ms)
    elif mode == "fail":        # HOST PORT: a connect expected to fail
        n0 = nfds()
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        t0 = time.monotonic()
        try:
            s.connect((args[0], int(args[1])))
            print("CONNECTED")
        except OSError as e:
            ms = int((time.monotonic() - t0) * 1000)
            n1 = nfds()
            s.close()
            n2 = nfds()
            print("ERR", ename(e), "ms=%d" % ms,
                  "fds=%s" % ("stable" if n1 == n0 + 1 and n2 == n0 else "%d/%d/%d" % (n0, n1, n2)))
    elif mode == "unix":        # PATH: AF_UNIX is untouched
        srv = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        srv.bind(args[0])
        srv.listen(1)
        c = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        c.connect(args[0])
        a, _ = srv.accept()
        c.sendall(b"unix")
        print("OK" if a.recv(10) == b"unix" else "BAD", "peer=" + repr(c.getpeername()))
    elif mode == "dups":        # HOST PORT PLAINPORT: state follows dup*, close
        host, port, plain = args[0], int(args[1]), int(args[2])
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.connect((host, port))
        want = "%s:%d" % (host, port)
        d = socket.socket(fileno=os.dup(s.fileno()))
        f = socket.socket(fileno=fcntl.fcntl(s.fileno(), fcntl.F_DUPFD_CLOEXEC, 60))
        res = [peer(d) == want, peer(f) == want]
        # dup2 of a direct (bypassed) socket onto the proxied number
        p = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        p.connect((host, plain))
        os.dup2(p.fileno(), d.fileno())
        res.append(peer(d) == "%s:%d" % (host, plain))
        # close, then a direct socket that reuses the number
        num = f.fileno()
        f.close()
        q = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        if q.fileno() != num:
            os.dup2(q.fileno(), num)
            q.close()
            q = socket.socket(fileno=num)
        q.connect((host, plain))
        res.append(peer(q) == "%s:%d" % (host, plain))
        res.append(exchange(s))
        print("OK" if all(res) else "BAD", res)
    elif mode == "logfd":       # LOGPATH PROGFILE HOST PORT: our log fd survives
        logpath, progfile, host, port = args[0], args[1], args[2], int(args[3])
        def log_fds():
            out = []
            for n in os.listdir("/proc/self/fd"):
                try:
                    if os.readlink("/proc/self/fd/" + n) == logpath:
                        out.append(int(n))
                except OSError:
                    pass
            return out
        before = log_fds()
        for fd in range(3, 400):  # what daemons do after fork
            try:
                os.close(fd)
            except OSError:
                pass
        after = log_fds()
        # the program takes the log's number for a file of its own
        f = os.open(progfile, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        os.dup2(f, after[0])
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        try:
            s.connect((host, port))
        except OSError:
            pass
        moved = log_fds()
        print("OK" if before and before == after and before[0] >= 100 and
              moved and moved[0] != before[0] else "BAD",
              before, after, moved)
    else:
        print("usage")
except OSError as e:
    print("ERR", ename(e))
EOF

# run_client [VAR=VALUE...] -- MODE ARGS...: the client with the preload
# and a clean proxy environment.
run_client() {
	local vars=()
	while [ "$1" != -- ]; do
		vars+=("$1")
		shift
	done
	shift
	env -u SOCKSIFY_PROXY -u SOCKSIFY_NO_PROXY -u ALL_PROXY -u all_proxy \
		-u NO_PROXY -u no_proxy -u SOCKSIFY_LOG -u SOCKSIFY_LOG_FILE \
		-u SOCKSIFY_TIMEOUT_MS "${SFY_PRELOAD_ENV[@]}" "${vars[@]}" \
		timeout 30 "$PY" "$T/client.py" "$@" 2>"$T/client.err"
}

peers() { wc -l <"$T/$1.peers"; }
# ms_of OUTPUT: the client's "ms=N", or a huge number when absent.
ms_of() {
	local m=${1#*ms=}
	m=${m%% *}
	[[ $m =~ ^[0-9]+$ ]] && echo "$m" || echo 999999
}
last_peer() { tail -n 1 "$T/$1.peers" | cut -d' ' -f1; }

# expect NAME OUTPUT PATTERN [PEERS-FILE EXPECTED-LAST-PEER]
expect() {
	local name=$1 out=$2 pat=$3
	# shellcheck disable=SC2053
	if [[ $out != $pat ]]; then
		fail "$name" "got '$out', want '$pat'; stderr: $(head -c 400 "$T/client.err")"
		return 1
	fi
	if [ -n "${4:-}" ] && [ "$(last_peer "$4")" != "$5" ]; then
		fail "$name" "target saw peer '$(last_peer "$4")', want '$5'"
		return 1
	fi
	pass "$name"
}

if [ ! -f "$B/libsocksify.so" ]; then
	fail setup "$B/libsocksify.so missing (run make)"
	finish
fi

E=$(free_port)
DP=$(free_port)
MP=$(free_port)
start_tcp_echo echo "$E" || { fail setup "echo server"; finish; }
EXTERNAL="127.0.0.2 ::1" start_danted dante "$DP" || { fail setup danted; finish; }
EXTERNAL=127.0.0.2 start_microsocks ms "$MP" || { fail setup microsocks; finish; }
ALL="SOCKSIFY_NO_PROXY="
DANTE="SOCKSIFY_PROXY=socks5://127.0.0.1:$DP"
MS="SOCKSIFY_PROXY=socks5://127.0.0.1:$MP"

# --- the happy paths -------------------------------------------------------
out=$(run_client "$DANTE" "$ALL" -- echo 4 127.0.0.1 "$E")
expect danted_blocking "$out" "OK peer=127.0.0.1:$E local-family=4 cloexec=1" echo 127.0.0.2

out=$(run_client "$MS" "$ALL" -- echo 4 127.0.0.1 "$E")
expect microsocks_blocking "$out" "OK peer=127.0.0.1:$E *" echo 127.0.0.2

# a proxy named "localhost": every address of the name is tried in turn
# (::1 may come first while danted listens on 127.0.0.1 only)
out=$(run_client "SOCKSIFY_PROXY=socks5://localhost:$DP" "$ALL" -- echo 4 127.0.0.1 "$E")
expect proxy_by_name_localhost "$out" "OK peer=127.0.0.1:$E *" echo 127.0.0.2

out=$(run_client "$DANTE" "$ALL" -- nb 127.0.0.1 "$E")
expect nonblocking_poll_so_error "$out" "OK peer=127.0.0.1:$E nonblock=1 again=EISCONN" echo 127.0.0.2

# AF_INET6 socket, IPv4-mapped destination, IPv4 proxy (mapped proxy address)
out=$(run_client "$DANTE" "$ALL" -- echo 6 ::ffff:127.0.0.1 "$E")
expect inet6_socket_ipv4_proxy "$out" "OK peer=::ffff:127.0.0.1:$E local-family=6 *" echo 127.0.0.2

out=$(run_client "$DANTE" "$ALL" -- tfo 127.0.0.1 "$E")
expect tcp_fast_open_proxied "$out" "OK peer=127.0.0.1:$E" echo 127.0.0.2

out=$(run_client "$DANTE" "$ALL" -- errno 127.0.0.1 "$E")
expect errno_preserved_on_success "$out" "OK rc=0 errno=4321" echo 127.0.0.2

out=$(run_client "$DANTE" "$ALL" -- dups 127.0.0.1 "$E" "$DP")
expect dup_close_bookkeeping "$out" "OK *" echo 127.0.0.2

out=$(run_client "$DANTE" "$ALL" -- reuse 127.0.0.1 "$E" "$MP")
expect number_reused_unseen "$out" "OK peer1=127.0.0.1:$MP peer2=127.0.0.1:$E" echo 127.0.0.2

# The library remembers the stream sockets it saw made (no SO_TYPE query
# on connect); a UDP socket on such a number, made where no hook sees it,
# is found out before anything is sent and connected as UDP (direct here).
out=$(run_client "$DANTE" "$ALL" SOCKSIFY_UDP=direct SOCKSIFY_TIMEOUT_MS=3000 -- stalehint 127.0.0.1 "$E")
expect stale_stream_hint_on_udp_socket "$out" "OK type=2 fast"

# A socket given an address of the other family: the kernel's own errno
# (the library infers the family from the address, so this is where a
# wrong guess would show), nothing reaches the target. Native first.
for fx in "6 4 EINVAL" "4 6 EAFNOSUPPORT"; do
	set -- $fx
	n=$(peers echo)
	native=$(env -u LD_PRELOAD timeout 30 "$PY" "$T/client.py" famx "$1" "$2" "$E" 2>&1)
	out=$(run_client "$DANTE" "$ALL" -- famx "$1" "$2" "$E")
	if [ "$native" != "ERR $3" ]; then
		fail "family_mismatch_${1}_${2}" "native connect gave '$native', want 'ERR $3'"
	elif [ "$(peers echo)" != "$n" ]; then
		fail "family_mismatch_${1}_${2}" "the target saw a connection"
	else
		expect "family_mismatch_${1}_${2}" "$out" "ERR $3"
	fi
done

# --- IPv6 proxy for an AF_INET socket: the socket is replaced ------------
D6=$(free_port)
if LISTEN=::1 EXTERNAL=127.0.0.2 start_danted dante6 "$D6"; then
	out=$(run_client "SOCKSIFY_PROXY=socks5://[::1]:$D6" "$ALL" -- echo 4 127.0.0.1 "$E")
	expect inet_socket_ipv6_proxy "$out" "OK peer=127.0.0.1:$E local-family=4 cloexec=1" echo 127.0.0.2
	# where the socket would be replaced, its family is checked
	n=$(peers echo)
	out=$(run_client "SOCKSIFY_PROXY=socks5://[::1]:$D6" "$ALL" -- famx 6 4 "$E")
	expect family_mismatch_ipv6_proxy "$out" "ERR EINVAL"
	[ "$(peers echo)" = "$n" ] || fail family_mismatch_ipv6_proxy_target "the target saw a connection"
	# IPV6_V6ONLY socket, IPv4 proxy: replaced by an AF_INET socket
	E6=$(free_port)
	if LISTEN=::1 start_tcp_echo echo6 "$E6"; then
		n=$(peers echo6)
		out=$(run_client "$DANTE" "$ALL" -- v6only ::1 "$E6")
		if [ "$(grep -c "tcp/connect \[.*\.$E6\$" "$T/dante.log")" -lt 1 ]; then
			fail v6only_socket_ipv4_proxy "danted did not carry the connection"
		else
			# getsockname(): where the target sees the program,
			# dante's CONNECT reply (its way out to ::1), in the
			# socket's family (tcp/bind.h, issue 16)
			expect v6only_socket_ipv4_proxy "$out" "OK peer=::1:$E6 local=::1"
		fi
		[ "$(peers echo6)" -gt "$n" ] || fail v6only_target_reached "no peer"
	else
		fail v6only_socket_ipv4_proxy "no IPv6 echo server"
	fi
else
	fail inet_socket_ipv6_proxy "danted on ::1 did not start"
fi

# --- authentication -------------------------------------------------------
MA=$(free_port)
if EXTERNAL=127.0.0.2 start_microsocks msauth "$MA" alice 's3cret-pw'; then
	out=$(run_client "SOCKSIFY_PROXY=socks5://alice:s3cret-pw@127.0.0.1:$MA" "$ALL" -- echo 4 127.0.0.1 "$E")
	expect microsocks_userpass "$out" "OK peer=127.0.0.1:$E *" echo 127.0.0.2
	n=$(peers echo)
	out=$(run_client "SOCKSIFY_PROXY=socks5://alice:wrong-pw@127.0.0.1:$MA" "$ALL" -- fail 127.0.0.1 "$E")
	expect wrong_password_eacces "$out" "ERR EACCES ms=* fds=stable"
	[ "$(peers echo)" = "$n" ] || fail wrong_password_no_traffic "the target was reached"
	if grep -q "wrong-pw" "$T/client.err"; then
		fail wrong_password_masked "password in the log: $(cat "$T/client.err")"
	elif grep -q "rejected" "$T/client.err"; then
		pass wrong_password_logged
	else
		fail wrong_password_logged "no log line: $(cat "$T/client.err")"
	fi
	out=$(run_client "SOCKSIFY_PROXY=socks5://127.0.0.1:$MA" "$ALL" -- fail 127.0.0.1 "$E")
	expect credentials_required_eacces "$out" "ERR EACCES *"
else
	fail microsocks_userpass "microsocks with auth did not start"
fi

if is_root; then
	DU=$(free_port)
	user=sfyu$$
	if add_test_user "$user" 'dante-pw-1' &&
		EXTERNAL=127.0.0.2 start_danted danteauth "$DU" username; then
		out=$(run_client "SOCKSIFY_PROXY=socks5://$user:dante-pw-1@127.0.0.1:$DU" "$ALL" -- echo 4 127.0.0.1 "$E")
		expect danted_userpass "$out" "OK peer=127.0.0.1:$E *" echo 127.0.0.2
		out=$(run_client "SOCKSIFY_PROXY=socks5://$user:nope@127.0.0.1:$DU" "$ALL" -- fail 127.0.0.1 "$E")
		expect danted_wrong_password_eacces "$out" "ERR EACCES *"
	else
		fail danted_userpass "danted with username auth did not start"
	fi
else
	skip danted_userpass "needs root to add a system user"
fi

# --- failures -------------------------------------------------------------
CLOSED=$(free_port)   # nothing listens here
n=$(peers echo)
out=$(run_client "$DANTE" "$ALL" -- fail 127.0.0.1 "$CLOSED")
expect refused_destination_econnrefused "$out" "ERR ECONNREFUSED ms=* fds=stable"
grep -q "connect to 127.0.0.1:$CLOSED via socks5://127.0.0.1:$DP (hop 1 of 1) failed" "$T/client.err" &&
	pass refused_destination_logged || fail refused_destination_logged "stderr: $(cat "$T/client.err")"

out=$(run_client "SOCKSIFY_PROXY=socks5://127.0.0.1:$CLOSED" "$ALL" -- fail 127.0.0.1 "$E")
expect proxy_down_econnrefused "$out" "ERR ECONNREFUSED ms=* fds=stable"
ms=$(ms_of "$out")
[ "$ms" -lt 2000 ] && pass proxy_down_quick || fail proxy_down_quick "took $ms ms"
[ "$(peers echo)" = "$n" ] && pass proxy_down_no_direct ||
	fail proxy_down_no_direct "the target was reached directly"
grep -q "cannot reach the proxy" "$T/client.err" && pass proxy_down_logged ||
	fail proxy_down_logged "stderr: $(cat "$T/client.err")"

# A stalled proxy (ETIMEDOUT at SOCKSIFY_TIMEOUT_MS) and every other
# misbehaving peer: tests/integration/test_faults.sh.

out=$(run_client "SOCKSIFY_PROXY=socks5://bob:pa55word@127.0.0.1:99999" "$ALL" -- fail 127.0.0.1 "$E")
expect broken_proxy_fails "$out" "ERR ECONNREFUSED ms=* fds=stable"
[ "$(peers echo)" = "$n" ] && pass broken_proxy_no_direct ||
	fail broken_proxy_no_direct "the target was reached directly"
if grep -q "SOCKSIFY_PROXY" "$T/client.err" && ! grep -q "pa55word" "$T/client.err"; then
	pass broken_proxy_message
else
	fail broken_proxy_message "stderr: $(cat "$T/client.err")"
fi
# once per process (timeout(1) and python3 both load the library)
if grep -q 'SOCKSIFY_PROXY' "$T/client.err" &&
	[ -z "$(grep 'SOCKSIFY_PROXY' "$T/client.err" | cut -d: -f1 | sort | uniq -d)" ]; then
	pass broken_proxy_reported_once
else
	fail broken_proxy_reported_once "stderr: $(cat "$T/client.err")"
fi

# SOCKSIFY_LOG_FILE: kept above fd 100, survives a close-everything loop,
# moves away when the program dup2()s onto its number.
out=$(run_client "SOCKSIFY_PROXY=socks5://127.0.0.1:$CLOSED" "$ALL" \
	"SOCKSIFY_LOG_FILE=$T/sfy.log" -- logfd "$T/sfy.log" "$T/prog.txt" 127.0.0.1 "$E")
expect log_file_protected "$out" "OK *"
if grep -q "cannot reach the proxy" "$T/sfy.log" 2>/dev/null &&
	! grep -q socksify "$T/prog.txt" 2>/dev/null; then
	pass log_file_gets_lines
else
	fail log_file_gets_lines "log: $(cat "$T/sfy.log" 2>&1); program file: $(cat "$T/prog.txt" 2>&1)"
fi

# --- chain: microsocks (no -b) then danted (out from 127.0.0.2) -----------
M1=$(free_port)
if start_microsocks hop1 "$M1"; then
	before=$(grep -c "tcp/connect \[" "$T/dante.log")
	out=$(run_client "SOCKSIFY_PROXY=socks5://127.0.0.1:$M1,socks5://127.0.0.1:$DP" "$ALL" -- echo 4 127.0.0.1 "$E")
	expect chain_of_two "$out" "OK peer=127.0.0.1:$E *" echo 127.0.0.2
	after=$(grep -c "tcp/connect \[" "$T/dante.log")
	[ "$after" -gt "$before" ] && pass chain_second_hop_used ||
		fail chain_second_hop_used "danted saw no connect"
else
	fail chain_of_two "first hop did not start"
fi

# --- what must stay untouched --------------------------------------------
out=$(run_client -- echo 4 127.0.0.1 "$E")
expect no_proxy_configured_direct "$out" "OK peer=127.0.0.1:$E *" echo 127.0.0.1
[ ! -s "$T/client.err" ] && pass no_proxy_configured_silent ||
	fail no_proxy_configured_silent "stderr: $(cat "$T/client.err")"

before=$(grep -c "tcp/connect \[" "$T/dante.log")
out=$(run_client "$DANTE" -- echo 4 127.0.0.1 "$E")
expect loopback_bypassed_by_default "$out" "OK peer=127.0.0.1:$E *" echo 127.0.0.1
[ "$(grep -c "tcp/connect \[" "$T/dante.log")" = "$before" ] &&
	pass loopback_bypass_no_proxy_traffic || fail loopback_bypass_no_proxy_traffic "danted saw it"

out=$(run_client "$DANTE" "$ALL" -- unix "$T/unix.sock")
expect af_unix_untouched "$out" "OK peer=*unix.sock*"
[ "$(grep -c "tcp/connect \[" "$T/dante.log")" = "$before" ] &&
	pass af_unix_no_proxy_traffic || fail af_unix_no_proxy_traffic "danted saw it"

# the proxy's own address goes direct even when everything is proxied
out=$(run_client "$DANTE" "$ALL" -- fail 127.0.0.1 "$DP")
if [[ $out == CONNECTED* ]]; then
	pass proxy_address_direct
else
	fail proxy_address_direct "got '$out'"
fi

finish
