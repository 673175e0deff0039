#!/usr/bin/env bash
#
# Programs that fall back from io_uring still work (issue 18). socksify
# refuses io_uring_setup with ENOSYS (the library through syscall(),
# route/decide.c; the command's seccomp filter for the instruction itself,
# tools/ioring.c), as a kernel without io_uring would. A real program that
# uses io_uring when it can: node 20 (its libuv 1.46 makes rings for file
# operations and for batching epoll_ctl with UV_USE_IO_URING=1, through
# libc's syscall()). With io_uring refused it must read and write files
# and fetch over HTTP through the proxy as usual; strace shows the refusal.
# The census's uring-fallback row (leakcensus-uring.c) is the same for a
# liburing program.
#
# Proof of proxying: microsocks goes out from 127.0.0.2, the HTTP server
# records its peers.
set -u
. "$(dirname "$0")/lib.sh"

NODE=$(command -v node || command -v nodejs || true)
if [ -z "$NODE" ]; then
	skip io-uring-fallback "node not installed"
	finish
fi
if ! command -v strace >/dev/null 2>&1; then
	skip io-uring-fallback "strace not installed"
	finish
fi
if [ ! -x "$B/socksify" ] || [ ! -f "$SFY_LIB" ]; then
	fail setup "$B/socksify or $SFY_LIB not built"
	finish
fi

cat >"$T/fs_http.js" <<'EOF'
// Reads a file, writes a copy, fetches http://127.0.0.1:PORT/page.txt.
const fs = require("fs"), http = require("http");
const [, , dir, port] = process.argv;
fs.readFile(dir + "/page.txt", "utf8", (e, d) => {
	if (e) { console.log("ERR read " + e.code); return; }
	fs.promises.writeFile(dir + "/copy.txt", d).then(() => {
		http.get({ host: "127.0.0.1", port: +port, path: "/page.txt" }, (r) => {
			let body = "";
			r.on("data", (c) => body += c);
			r.on("end", () => console.log("OK " + r.statusCode + " " +
				(body === d && fs.readFileSync(dir + "/copy.txt", "utf8") === d)));
		}).on("error", (err) => console.log("ERR http " + err.code));
	}, (err) => console.log("ERR write " + err.code));
});
EOF
mkdir -p "$T/www"
echo "io_uring fallback page" >"$T/www/page.txt"

HP=$(free_port) PX=$(free_port)
start_http web "$HP" "$T/www" || { fail setup "http server"; finish; }
EXTERNAL=127.0.0.2 start_microsocks ms "$PX" || { fail setup microsocks; finish; }

# run TAG CMD...: the node program under strace (io_uring_setup only);
# its output in $out, strace's in $T/TAG.st.
run() {
	local tag=$1
	shift
	: >"$T/web.peers"
	out=$(timeout 30 env UV_USE_IO_URING=1 SOCKSIFY_NO_PROXY= "$@" \
		strace -f -qq -e trace=io_uring_setup -o "$T/$tag.st" \
		"$NODE" "$T/fs_http.js" "$T/www" "$HP" 2>"$T/$tag.err")
}
# No ring made: refused by the library before the system call (its log
# line) or by the kernel's filter (strace shows ENOSYS).
refused() {
	! grep -q 'io_uring_setup(.*= [0-9]' "$T/$1.st" &&
		{ grep -q "io_uring_setup refused" "$T/$1.err" ||
		  grep -q 'io_uring_setup(.*= -1 ENOSYS' "$T/$1.st"; }
}
proxied() { grep -q '^127\.0\.0\.2 ' "$T/web.peers" && ! grep -q '^127\.0\.0\.1 ' "$T/web.peers"; }

# Without socksify node makes rings: the cases below mean something.
timeout 30 env UV_USE_IO_URING=1 strace -f -qq -e trace=io_uring_setup \
	-o "$T/plain.st" "$NODE" "$T/fs_http.js" "$T/www" "$HP" >/dev/null 2>&1
if ! grep -q 'io_uring_setup(.*= [0-9]' "$T/plain.st"; then
	skip io-uring-fallback "node makes no io_uring here (kernel or libuv without it)"
	finish
fi
pass "node-uses-io_uring ($(grep -c 'io_uring_setup(' "$T/plain.st") rings without socksify)"

# The command: seccomp answers, and the library through syscall().
run cmd "${SFY_RUN_ENV[@]}" "$B/socksify" -x "socks5://127.0.0.1:$PX"
[ "$out" = "OK 200 true" ] && refused cmd && proxied &&
	pass "node-under-command (io_uring refused, files and HTTP through the proxy work)" ||
	fail node-under-command "out '$out'; $(head -c 300 "$T/cmd.st"); $(head -c 300 "$T/cmd.err"); peers $(tr '\n' ' ' <"$T/web.peers")"

# LD_PRELOAD alone: libuv's syscall() reaches the library, which refuses.
run preload "${SFY_PRELOAD_ENV[@]}" SOCKSIFY_PROXY="socks5://127.0.0.1:$PX"
[ "$out" = "OK 200 true" ] && refused preload && proxied &&
	grep -q "io_uring_setup refused" "$T/preload.err" &&
	pass "node-under-preload (io_uring refused with a log line, files and HTTP through the proxy work)" ||
	fail node-under-preload "out '$out'; $(head -c 300 "$T/preload.st"); $(head -c 300 "$T/preload.err"); peers $(tr '\n' ' ' <"$T/web.peers")"

# A program the command started but the library is not in (it cleared
# LD_PRELOAD, as env -i or sudo do): the kernel's filter answers, node
# still works (its HTTP then goes direct, as the program chose).
run seccomp "${SFY_RUN_ENV[@]}" "$B/socksify" -x "socks5://127.0.0.1:$PX" env -u LD_PRELOAD
[ "$out" = "OK 200 true" ] && grep -q 'io_uring_setup(.*= -1 ENOSYS' "$T/seccomp.st" &&
	! grep -q 'io_uring_setup(.*= [0-9]' "$T/seccomp.st" &&
	pass "node-without-library-under-command (the seccomp filter answers ENOSYS)" ||
	fail node-without-library-under-command "out '$out'; $(head -c 300 "$T/seccomp.st"); $(head -c 300 "$T/seccomp.err")"

# SOCKSIFY_IO_URING=allow: no filter, the rings are made.
run allow "${SFY_RUN_ENV[@]}" SOCKSIFY_IO_URING=allow "$B/socksify" -x "socks5://127.0.0.1:$PX"
[ "$out" = "OK 200 true" ] && grep -q 'io_uring_setup(.*= [0-9]' "$T/allow.st" &&
	pass "node-io_uring-allowed" ||
	fail node-io_uring-allowed "out '$out'; $(head -c 300 "$T/allow.st"); $(head -c 300 "$T/allow.err")"

# The setting from the session's settings file (base/config.c): a program
# that cleared its environment but kept LD_PRELOAD still has it.
CENSUS=$B/tests/tools/leakcensus
out=$(timeout 30 env "${SFY_RUN_ENV[@]}" SOCKSIFY_IO_URING=allow "$B/socksify" \
	-x "socks5://127.0.0.1:$PX" sh -c 'exec env -i LD_PRELOAD="$LD_PRELOAD" "$0" io_uring-setup 127.0.0.1 1 1' \
	"$CENSUS" 2>"$T/cleared.err")
[ "$out" = "ok io_uring-setup io_uring" ] &&
	pass "io_uring-allow-from-session-settings (environment cleared)" ||
	fail io_uring-allow-from-session-settings "out '$out'; $(head -c 300 "$T/cleared.err")"
out=$(timeout 30 env "${SFY_RUN_ENV[@]}" "$B/socksify" \
	-x "socks5://127.0.0.1:$PX" sh -c 'exec env -i LD_PRELOAD="$LD_PRELOAD" "$0" io_uring-setup 127.0.0.1 1 1' \
	"$CENSUS" 2>"$T/cleared.err")
[ "$out" = "refused io_uring-setup ENOSYS" ] && grep -q "io_uring_setup refused" "$T/cleared.err" &&
	pass "io_uring-refused-with-environment-cleared (the library, from the session's settings)" ||
	fail io_uring-refused-with-environment-cleared "out '$out'; $(head -c 300 "$T/cleared.err")"
# An unknown value fails closed, as every setting does.
out=$(timeout 30 env "${SFY_PRELOAD_ENV[@]}" SOCKSIFY_PROXY="socks5://127.0.0.1:$PX" \
	SOCKSIFY_IO_URING=yes "$CENSUS" io_uring-setup 127.0.0.1 1 1 2>"$T/bad.err")
grep -q "SOCKSIFY_IO_URING: 'yes' is not allow or refuse" "$T/bad.err" &&
	pass "io_uring-setting-checked" ||
	fail io_uring-setting-checked "out '$out'; $(head -c 300 "$T/bad.err")"

finish
