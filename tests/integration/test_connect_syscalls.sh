#!/bin/bash
# The system calls a proxied non-blocking connect() adds (tests/bench/
# reading.md, issue 15's HTTP CONNECT row): the program's file status
# flags asked once (F_GETFL) and handed on, and no SO_TYPE after a
# connect that is under way (EINPROGRESS: only a stream socket's is).
# Counted with strace on the program's socket, through microsocks and
# through tinyproxy (HTTP CONNECT).
. "$(dirname "$0")/lib.sh"

unset SOCKSIFY_PROXY SOCKSIFY_NO_PROXY SOCKSIFY_LOG ALL_PROXY all_proxy \
	NO_PROXY no_proxy LD_PRELOAD SOCKSIFY_CHAIN SOCKSIFY_PIPELINE
if ! command -v strace >/dev/null || [ ! -x /usr/bin/microsocks ]; then
	skip connect_syscalls "strace or microsocks missing (tools/install-deps.sh)"
	finish
fi
if [ "${SANITIZE:-0}" = 1 ]; then
	skip connect_syscalls "counts system calls: the sanitizer runtime makes its own"
	finish
fi

# nb.py PORT: one non-blocking connect (setblocking: ioctl, not fcntl),
# waited for with select, one line echoed; prints the socket's number
# and "ok".
cat >"$T/nb.py" <<'EOF'
import select, socket, sys
s = socket.socket()
s.setblocking(False)
s.connect_ex(("127.0.0.1", int(sys.argv[1])))
select.select([], [s], [], 10)
s.setblocking(True)
s.settimeout(10)
s.sendall(b"syscalls\n")
got = b""
while not got.endswith(b"\n"):
    d = s.recv(100)
    if not d:
        break
    got += d
print(s.fileno(), "ok" if got == b"syscalls\n" else "bad %r" % got)
EOF

ECHO=$(free_port) MS=$(free_port)
start_tcp_echo echo "$ECHO" || { fail setup "echo server"; finish; }
start_microsocks ms "$MS" || { fail setup microsocks; finish; }
setup_ok=1
TP=
if command -v tinyproxy >/dev/null 2>&1; then
	TP=$(free_port)
	start_tinyproxy tp "$TP" || setup_ok=0
fi
[ "$setup_ok" = 1 ] || { fail setup tinyproxy; finish; }

# count NAME PROXY: strace's fcntl/getsockopt lines on the program's
# socket in F_GETFL=N SO_TYPE=M.
count() {
	local name=$1 proxy=$2 out fd
	out=$(timeout 30 env "${SFY_PRELOAD_ENV[@]}" SOCKSIFY_PROXY="$proxy" \
		SOCKSIFY_NO_PROXY= strace -f -e trace=fcntl,getsockopt \
		-o "$T/$name.strace" "$PY" "$T/nb.py" "$ECHO" 2>"$T/$name.err")
	fd=${out%% *}
	if [ "${out#* }" != ok ]; then
		echo "failed: $out $(head -c 300 "$T/$name.err")"
		return
	fi
	echo "F_GETFL=$(grep -c "fcntl($fd, F_GETFL)" "$T/$name.strace")" \
		"SO_TYPE=$(grep -c "getsockopt($fd, SOL_SOCKET, SO_TYPE" "$T/$name.strace")"
}

for px in "socks5 socks5://127.0.0.1:$MS" ${TP:+"http http://127.0.0.1:$TP"}; do
	name=${px%% *}
	got=$(count "$name" "${px#* }")
	if [ "$got" = "F_GETFL=1 SO_TYPE=0" ]; then
		pass "connect_syscalls_$name ($got)"
	else
		fail "connect_syscalls_$name" "$got (want F_GETFL=1 SO_TYPE=0): $(grep -E 'F_GETFL|SO_TYPE' "$T/$name.strace" | head -5)"
	fi
done

finish
