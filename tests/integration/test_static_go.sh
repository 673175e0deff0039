#!/bin/bash
# Programs LD_PRELOAD cannot reach: a statically linked program (built here
# with gcc -static) and Go programs (fzf from Debian, a dynamically linked
# Go binary; and a small C program carrying a .go.buildinfo section, which
# prints the proxy variables it was given). socksify must say so before
# exec, set Go's proxy variables, refuse with --strict (exit 3), and keep
# socksifying programs started through a chain of execs.
. "$(dirname "$0")/lib.sh"

unset SOCKSIFY_PROXY SOCKSIFY_NO_PROXY SOCKSIFY_LOG ALL_PROXY all_proxy NO_PROXY \
	no_proxy LD_PRELOAD HTTP_PROXY HTTPS_PROXY http_proxy https_proxy
if [ "${SANITIZE:-0}" = 1 ]; then
	export ASAN_OPTIONS=$SFY_ASAN_OPTIONS
fi
sfy() {
	timeout 30 env "${SFY_RUN_ENV[@]}" "$B/socksify" "$@"
}

MS=$(free_port) && ECHO=$(free_port) || exit 1
EXTERNAL=127.0.0.3 start_microsocks ms "$MS" && start_tcp_echo echo "$ECHO" || {
	fail static_setup "could not start microsocks or the echo server"
	finish
}
peers() {
	awk '{ print $1 }' "$T/echo.peers" | sort -u | tr '\n' ' '
}

# A client that connects to 127.0.0.1:PORT, sends a line, prints the echo.
cat >"$T/conn.c" <<'EOF'
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>
int main(int argc, char **argv)
{
	struct sockaddr_in a = { .sin_family = AF_INET };
	char buf[64];
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	ssize_t n;

	a.sin_port = htons((unsigned short)atoi(argv[1]));
	inet_pton(AF_INET, "127.0.0.1", &a.sin_addr);
	if (argc < 2 || connect(fd, (struct sockaddr *)&a, sizeof(a)) < 0 ||
	    write(fd, "hi\n", 3) != 3 || (n = read(fd, buf, sizeof(buf))) <= 0)
		return 1;
	fwrite(buf, 1, (size_t)n, stdout);
	return 0;
}
EOF
# Prints the proxy variables a Go program would read.
cat >"$T/goenv.c" <<'EOF'
#include <stdio.h>
#include <stdlib.h>
int main(void)
{
	const char *v[] = { "HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "NO_PROXY" };
	for (int i = 0; i < 4; i++)
		printf("%s=%s\n", v[i], getenv(v[i]) ? getenv(v[i]) : "unset");
	return 0;
}
EOF
gcc -O1 -o "$T/conn_dyn" "$T/conn.c" &&
	gcc -O1 -static -o "$T/conn_static" "$T/conn.c" &&
	gcc -O1 -o "$T/goenv" "$T/goenv.c" &&
	printf 'Go buildinf:fake' >"$T/buildinfo" &&
	objcopy --add-section .go.buildinfo="$T/buildinfo" "$T/goenv" "$T/goenv_go" || {
	fail static_build "cannot build the test programs (gcc -static needs libc6-dev's libc.a)"
	finish
}

# ---- the control: a dynamic program is socksified, without a word ----------
: >"$T/echo.peers"
out=$(sfy -x "socks5://127.0.0.1:$MS" -n '' "$T/conn_dyn" "$ECHO" 2>"$T/err")
rc=$?
if [ $rc = 0 ] && [ "$out" = hi ] && [ "$(peers)" = "127.0.0.3 " ] && [ ! -s "$T/err" ]; then
	pass dynamic_program_socksified
else
	fail dynamic_program_socksified "rc=$rc out='$out' peers: $(peers) err: $(cat "$T/err")"
fi

# ---- static: said clearly; it does go direct; --strict refuses ---------------
: >"$T/echo.peers"
out=$(sfy -x "socks5://127.0.0.1:$MS" -n '' "$T/conn_static" "$ECHO" 2>"$T/err")
rc=$?
if [ $rc = 0 ] && [ "$out" = hi ] &&
   grep -q "^socksify: warning: $T/conn_static is statically linked: LD_PRELOAD cannot reach it, so its connections do NOT go through the proxy" "$T/err" &&
   [ "$(peers)" = "127.0.0.1 " ]; then
	pass static_warned
else
	fail static_warned "rc=$rc out='$out' peers: $(peers) err: $(cat "$T/err")"
fi
: >"$T/echo.peers"
out=$(sfy --strict -x "socks5://127.0.0.1:$MS" -n '' "$T/conn_static" "$ECHO" 2>&1)
rc=$?
if [ $rc = 3 ] && grep -q 'statically linked.*refused (--strict)' <<<"$out" &&
   [ ! -s "$T/echo.peers" ]; then
	pass static_strict_refused
else
	fail static_strict_refused "rc=$rc out='$out' peers: $(peers)"
fi
out=$(sfy -q -x "socks5://127.0.0.1:$MS" "$T/conn_static" "$ECHO" 2>&1)
if [ "$out" = hi ]; then
	pass static_quiet
else
	fail static_quiet "got '$out'"
fi
# static-pie has PT_DYNAMIC but no interpreter: still unreachable.
if gcc -O1 -static-pie -fPIE -o "$T/conn_spie" "$T/conn.c" 2>/dev/null; then
	out=$(sfy -x "socks5://127.0.0.1:$MS" "$T/conn_spie" "$ECHO" 2>&1 >/dev/null)
	if grep -q 'is statically linked' <<<"$out"; then
		pass static_pie_warned
	else
		fail static_pie_warned "$out"
	fi
else
	skip static_pie_warned "gcc cannot link -static-pie here"
fi

# ---- Go: the variables Go's net/http reads, and the warning ---------------------
out=$(sfy -x "socks5h://alice:pw@127.0.0.1:$MS" -n 10.0.0.0/8 "$T/goenv_go" 2>"$T/err")
rc=$?
want="HTTP_PROXY=socks5://alice:pw@127.0.0.1:$MS
HTTPS_PROXY=socks5://alice:pw@127.0.0.1:$MS
ALL_PROXY=socks5://alice:pw@127.0.0.1:$MS
NO_PROXY=10.0.0.0/8"
if [ $rc = 0 ] && [ "$out" = "$want" ] &&
   grep -q "^socksify: warning: $T/goenv_go is a Go program: Go makes its own system calls" "$T/err" &&
   grep -qF "set to socks5://alice:***@127.0.0.1:$MS for Go's HTTP client; any other traffic of this program (other TCP, DNS, UDP) does NOT go through the proxy" "$T/err" &&
   ! grep -q ':pw@' "$T/err"; then
	pass go_variables_set
else
	fail go_variables_set "rc=$rc out='$out' err: $(cat "$T/err")"
fi
out=$(sfy -x "socks5://127.0.0.1:$MS" -x "socks5://127.0.0.1:1" "$T/goenv_go" 2>"$T/err")
if [ "$(head -n 1 <<<"$out")" = "HTTP_PROXY=unset" ] &&
   grep -q 'cannot express a chain of proxies: none of its traffic goes through the proxy' "$T/err"; then
	pass go_chain_not_expressible
else
	fail go_chain_not_expressible "out='$out' err: $(cat "$T/err")"
fi
out=$(sfy --strict -x "socks5://127.0.0.1:$MS" "$T/goenv_go" 2>&1)
rc=$?
if [ $rc = 3 ] && grep -q 'is a Go program.*refused (--strict)' <<<"$out" &&
   ! grep -q HTTP_PROXY= <<<"$out"; then
	pass go_strict_refused
else
	fail go_strict_refused "rc=$rc: $out"
fi
# The same C program without the section: no warning, no variables.
out=$(sfy -x "socks5://127.0.0.1:$MS" "$T/goenv" 2>"$T/err")
if [ "$(head -n 1 <<<"$out")" = "HTTP_PROXY=unset" ] && [ ! -s "$T/err" ]; then
	pass not_go_untouched
else
	fail not_go_untouched "out='$out' err: $(cat "$T/err")"
fi

# A real Go binary from Debian (tools/install-deps.sh installs fzf).
if command -v fzf >/dev/null 2>&1; then
	out=$(sfy -x "socks5://127.0.0.1:$MS" fzf --version 2>"$T/err")
	rc=$?
	if [ $rc = 0 ] && [ -n "$out" ] && grep -q '^socksify: warning: fzf is a Go program' "$T/err"; then
		pass go_fzf_warned
	else
		fail go_fzf_warned "rc=$rc out='$out' err: $(cat "$T/err")"
	fi
	out=$(sfy --strict -x "socks5://127.0.0.1:$MS" fzf --version 2>&1)
	rc=$?
	if [ $rc = 3 ] && grep -q 'fzf is a Go program.*refused' <<<"$out"; then
		pass go_fzf_strict
	else
		fail go_fzf_strict "rc=$rc: $out"
	fi
else
	skip go_fzf_warned "fzf (a Go program from Debian) is not installed: run tools/install-deps.sh as root"
fi

# ---- exec chains keep the preload: script -> sh -> bash -> client ------------------
printf '#!/bin/sh\nexec sh -c "bash -c \\"%s %s\\""\n' "$T/conn_dyn" "$ECHO" >"$T/chain.sh"
chmod 755 "$T/chain.sh"
: >"$T/echo.peers"
out=$(sfy -x "socks5://127.0.0.1:$MS" -n '' "$T/chain.sh" 2>"$T/err")
rc=$?
if [ $rc = 0 ] && [ "$out" = hi ] && [ "$(peers)" = "127.0.0.3 " ] && [ ! -s "$T/err" ]; then
	pass exec_chain_socksified
else
	fail exec_chain_socksified "rc=$rc out='$out' peers: $(peers) err: $(cat "$T/err")"
fi
# A program that clears its environment loses it (the man page says so).
: >"$T/echo.peers"
out=$(sfy -x "socks5://127.0.0.1:$MS" -n '' env -i "$T/conn_dyn" "$ECHO" 2>&1)
if [ "$out" = hi ] && [ "$(peers)" = "127.0.0.1 " ]; then
	pass env_clearing_program_escapes
else
	fail env_clearing_program_escapes "out='$out' peers: $(peers)"
fi

finish
