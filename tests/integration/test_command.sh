#!/bin/bash
# The socksify command itself: options, messages, exit codes, the
# environment it hands the program, finding the library, and one real
# request through a real proxy.
. "$(dirname "$0")/lib.sh"

# The run's LD_PRELOAD as the program sees it, with the per-session link
# (socksify-XXXXXX/libsocksify.so, tools/session.c) left out when the
# library it points to follows it, as it must.
SHOW_PRELOAD='s=; l=; for e in $LD_PRELOAD; do case $e in */socksify-*/libsocksify.so) l=$(readlink "$e"); continue;; esac; if [ -n "$l" ] && [ "$e" != "$l" ]; then printf "%s(link to %s, not followed by it)" "$s" "$l"; s=" "; fi; l=; printf "%s%s" "$s" "$e"; s=" "; done'

PW=s3cr3tPW
LIB=$(realpath "$SFY_LIB")
VERSION=$(sed -n 's/^VERSION :*= *//p' "$ROOT/Makefile")
# Nothing from the caller's environment may steer these cases.
unset SOCKSIFY_PROXY SOCKSIFY_NO_PROXY SOCKSIFY_LOG ALL_PROXY all_proxy \
	NO_PROXY no_proxy LD_PRELOAD http_proxy HTTP_PROXY https_proxy HTTPS_PROXY

# sfy ARGS...: build/socksify under a bound, with what a sanitized build needs.
sfy() {
	timeout 30 env "${SFY_RUN_ENV[@]}" "$B/socksify" "$@"
}

# The prefix a sanitized socksify needs before anything we preload.
ASAN_FIRST=
if [ "${SANITIZE:-0}" = 1 ]; then
	ASAN_FIRST="$SFY_ASAN_RT "
	export ASAN_OPTIONS=$SFY_ASAN_OPTIONS
fi

# ---- --help and --version ------------------------------------------------
out=$(sfy --help 2>&1)
rc=$?
if [ $rc = 0 ] && grep -q '^Usage: socksify \[options\] \[--\] command' <<<"$out" &&
   grep -q -- '--proxy URL' <<<"$out" && grep -q -- '--no-proxy LIST' <<<"$out"; then
	pass help
else
	fail help "rc=$rc: $out"
fi
if grep -q -- '--check' <<<"$out" && grep -q -- '--env' <<<"$out" &&
   grep -q -- '--strict' <<<"$out" && grep -q -- '--config FILE' <<<"$out" &&
   grep -q 'Exit status' <<<"$out"; then
	pass help_all_modes
else
	fail help_all_modes "help lacks --check, --env, --strict, -f or the exit status"
fi
out=$(sfy --version 2>&1)
if [ $? = 0 ] && [ "$out" = "socksify $VERSION" ]; then
	pass version
else
	fail version "got '$out', want 'socksify $VERSION'"
fi

# ---- usage errors ----------------------------------------------------------
out=$(sfy --frobnicate true 2>&1)
rc=$?
if [ $rc = 2 ] && grep -q "unknown option '--frobnicate'" <<<"$out"; then
	pass unknown_option
else
	fail unknown_option "rc=$rc: $out"
fi
out=$(sfy -x socks5://127.0.0.1:1 2>&1)
rc=$?
if [ $rc = 2 ] && grep -q 'no command given' <<<"$out"; then
	pass no_command
else
	fail no_command "rc=$rc: $out"
fi

# ---- bad URLs: exit 2, a precise message, never the password ----------------
# bad_url NAME URL WORD: the message must contain WORD (what is wrong).
bad_url() {
	local name=$1 url=$2 word=$3 out rc
	out=$(sfy -x "$url" true 2>&1)
	rc=$?
	if [ $rc != 2 ]; then
		fail "$name" "rc=$rc, want 2: $out"
	elif grep -q "$PW" <<<"$out"; then
		fail "$name" "the password appears: $out"
	elif ! grep -qi -- "$word" <<<"$out"; then
		fail "$name" "message does not say '$word': $out"
	elif ! grep -q '^socksify: ' <<<"$out"; then
		fail "$name" "message not from socksify: $out"
	else
		pass "$name"
	fi
}
bad_url bad_url_port "socks5://alice:$PW@127.0.0.1:99999" port
bad_url bad_url_scheme "ftp://alice:$PW@127.0.0.1:1080" scheme
bad_url bad_url_path "socks5h://alice:$PW@127.0.0.1:1080/x" 127.0.0.1
bad_url bad_url_escape "socks5://alice:${PW}%zz@127.0.0.1:1080" escape
bad_url bad_url_host "socks5://alice:$PW@:1080" host
bad_url bad_url_in_chain "socks5://127.0.0.1:1080,socks5://alice:$PW@127.0.0.1:0" port
# A bad URL among several -x is still named, and so is a variable.
out=$(sfy -x socks5://127.0.0.1:1080 -x "socks5://alice:$PW@127.0.0.1:x" true 2>&1)
rc=$?
if [ $rc = 2 ] && ! grep -q "$PW" <<<"$out" && grep -q port <<<"$out"; then
	pass bad_url_second_x
else
	fail bad_url_second_x "rc=$rc: $out"
fi
out=$(SOCKSIFY_PROXY="socks5://alice:$PW@127.0.0.1:0" sfy true 2>&1)
rc=$?
if [ $rc = 2 ] && ! grep -q "$PW" <<<"$out" && grep -q SOCKSIFY_PROXY <<<"$out"; then
	pass bad_env_proxy
else
	fail bad_env_proxy "rc=$rc: $out"
fi
# 513 hops are one too many (a list holds 512, as proxychains-ng reads).
chain=socks5://127.0.0.1:1080
for ((i = 2; i <= 513; i++)); do
	chain="$chain,socks5://127.0.0.1:$((1080 + i))"
done
out=$(sfy -x "$chain" true 2>&1)
rc=$?
if [ $rc = 2 ] && grep -q 'at most 512' <<<"$out"; then
	pass too_many_hops
else
	fail too_many_hops "rc=$rc: $out"
fi

# ---- where the proxy comes from ----------------------------------------------
out=$(sfy true 2>&1)
rc=$?
if [ $rc = 2 ] && grep -q 'no proxy given' <<<"$out"; then
	pass no_proxy_error
else
	fail no_proxy_error "rc=$rc: $out"
fi
out=$(ALL_PROXY=http://127.0.0.1:3128 sfy true 2>&1)
rc=$?
if [ $rc = 2 ] && grep -q 'no proxy given' <<<"$out"; then
	pass all_proxy_http_ignored
else
	fail all_proxy_http_ignored "rc=$rc: $out"
fi
out=$(ALL_PROXY=socks5h://127.0.0.1:1 sfy sh -c 'echo "${SOCKSIFY_PROXY-unset}"' 2>&1)
rc=$?
if [ $rc = 0 ] && [ "$out" = unset ]; then
	pass all_proxy_socks_accepted
else
	fail all_proxy_socks_accepted "rc=$rc: $out"
fi

# ---- the program: not found, not runnable, its options left alone -------------
out=$(sfy -x socks5://127.0.0.1:1 sfy-no-such-program-$$ 2>&1)
rc=$?
if [ $rc = 127 ] && [ "$out" = "socksify: sfy-no-such-program-$$: command not found" ]; then
	pass command_not_found
else
	fail command_not_found "rc=$rc: $out"
fi
printf 'echo hi\n' >"$T/notexec"
chmod 644 "$T/notexec"
out=$(sfy -x socks5://127.0.0.1:1 "$T/notexec" 2>&1)
rc=$?
if [ $rc = 126 ] && grep -q 'Permission denied' <<<"$out"; then
	pass not_executable
else
	fail not_executable "rc=$rc: $out"
fi
# In PATH: a non-executable file is "Permission denied" (126) unless a
# runnable one of the same name comes later, as execvp does it.
mkdir -p "$T/pbin1" "$T/pbin2"
printf '#!/bin/sh\necho first\n' >"$T/pbin1/sfy-prog"
printf '#!/bin/sh\necho second\n' >"$T/pbin2/sfy-prog"
chmod 644 "$T/pbin1/sfy-prog"
chmod 755 "$T/pbin2/sfy-prog"
out=$(PATH="$T/pbin1:$PATH" sfy -x socks5://127.0.0.1:1 sfy-prog 2>&1)
rc=$?
if [ $rc = 126 ] && [ "$out" = "socksify: sfy-prog: Permission denied" ]; then
	pass not_executable_in_path
else
	fail not_executable_in_path "rc=$rc: $out"
fi
out=$(PATH="$T/pbin1:$T/pbin2:$PATH" sfy -x socks5://127.0.0.1:1 sfy-prog 2>&1)
rc=$?
if [ $rc = 0 ] && [ "$out" = second ]; then
	pass path_search_skips_non_executable
else
	fail path_search_skips_non_executable "rc=$rc: $out"
fi
out=$(sfy -x socks5://127.0.0.1:1 printf '%s|' -v -x 2>&1)
if [ "$out" = "-v|-x|" ]; then
	pass options_stop_at_command
else
	fail options_stop_at_command "got '$out'"
fi
out=$(sfy -x socks5://127.0.0.1:1 -- printf '%s|' -q 2>&1)
if [ "$out" = "-q|" ]; then
	pass double_dash
else
	fail double_dash "got '$out'"
fi

# ---- the environment the program gets ------------------------------------------
show='echo "${SOCKSIFY_PROXY-unset}|${SOCKSIFY_NO_PROXY-unset}|${SOCKSIFY_LOG-unset}"'
out=$(sfy -x socks5://127.0.0.1:1 --proxy=socks5h://127.0.0.2:2,socks5://[::1]:3 \
	sh -c "$show" 2>&1)
if [ "$out" = "socks5://127.0.0.1:1,socks5h://127.0.0.2:2,socks5://[::1]:3|unset|unset" ]; then
	pass env_chain
else
	fail env_chain "got '$out'"
fi
out=$(sfy -x socks5://127.0.0.1:1 -n '' sh -c "$show" 2>&1)
if [ "$out" = "socks5://127.0.0.1:1||unset" ]; then
	pass env_no_proxy_empty
else
	fail env_no_proxy_empty "got '$out'"
fi
out=$(sfy -x socks5://127.0.0.1:1 -n 10.0.0.0/8 -n .example sh -c "$show" 2>&1)
if [ "$out" = "socks5://127.0.0.1:1|10.0.0.0/8,.example|unset" ]; then
	pass env_no_proxy_list
else
	fail env_no_proxy_list "got '$out'"
fi
ok=1
for pair in "-q:error" "-v:info" "-vv:debug" "-v -v -v:debug" "-q -v:warn"; do
	# shellcheck disable=SC2086  # the flags are meant to split
	got=$(sfy ${pair%%:*} -x socks5://127.0.0.1:1 sh -c 'echo "$SOCKSIFY_LOG"' 2>/dev/null)
	if [ "$got" != "${pair##*:}" ]; then
		ok=0
		fail env_log_level "${pair%%:*} gave '$got', want ${pair##*:}"
	fi
done
[ $ok = 1 ] && pass env_log_level

# -vv says what it does, with the password masked (and so does the library).
out=$(sfy -vv -x "socks5://alice:$PW@127.0.0.1:1" true 2>&1)
rc=$?
if [ $rc = 0 ] && grep -q 'alice:\*\*\*@127.0.0.1:1' <<<"$out" && ! grep -q "$PW" <<<"$out"; then
	pass verbose_masks_password
else
	fail verbose_masks_password "rc=$rc: $out"
fi

# ---- LD_PRELOAD: ours first, existing entries kept, never twice -----------------
LIBM=$(ldconfig -p | awk '$1 == "libm.so.6" && /x86-64|x86_64|64bit/ { print $NF; exit }')
[ -n "$LIBM" ] || LIBM=$(ldconfig -p | awk '$1 == "libm.so.6" { print $NF; exit }')
if [ -z "$LIBM" ] || [ ! -f "$LIBM" ]; then
	fail ld_preload_prepend "no libm.so.6 found with ldconfig -p"
else
	out=$(LD_PRELOAD="$ASAN_FIRST$LIBM" timeout 30 "$B/socksify" -x socks5://127.0.0.1:1 \
		-- sh -c "$SHOW_PRELOAD; echo" 2>&1)
	if [ "$out" = "$ASAN_FIRST$LIB $LIBM" ]; then
		pass ld_preload_prepend
	else
		fail ld_preload_prepend "got '$out', want '$ASAN_FIRST$LIB $LIBM'"
	fi
	# Nested: the library is already there; it must not appear twice.
	out=$(LD_PRELOAD="$ASAN_FIRST$LIBM" timeout 30 "$B/socksify" -x socks5://127.0.0.1:1 \
		"$B/socksify" -x socks5://127.0.0.1:2 sh -c "$SHOW_PRELOAD"'; echo "|$SOCKSIFY_PROXY"'  2>&1)
	if [ "$out" = "$ASAN_FIRST$LIB $LIBM|socks5://127.0.0.1:2" ]; then
		pass ld_preload_not_twice
	else
		fail ld_preload_not_twice "got '$out'"
	fi
fi
out=$(sfy -x socks5://127.0.0.1:1 sh -c "$SHOW_PRELOAD; echo" 2>&1)
if [ "$out" = "$ASAN_FIRST$LIB" ]; then
	pass ld_preload_alone
else
	fail ld_preload_alone "got '$out', want '$ASAN_FIRST$LIB'"
fi

# ---- the library is found relative to the binary -------------------------------
# where NAME BINDIR LIBDIR: copy the pair there and check the child preloads
# that copy ("-" for LIBDIR: no library at all, which must be refused).
where() {
	local name=$1 bindir libdir out rc want
	bindir=$T/$name/$2
	libdir=$T/$name/$3
	mkdir -p "$bindir"
	cp "$B/socksify" "$bindir/"
	if [ "$3" = - ]; then
		out=$(timeout 30 env "${SFY_RUN_ENV[@]}" "$bindir/socksify" -x socks5://127.0.0.1:1 true 2>&1)
		rc=$?
		if [ $rc = 1 ] && grep -q 'cannot find libsocksify.so' <<<"$out" &&
		   grep -q "$bindir/libsocksify.so" <<<"$out"; then
			pass "$name"
		else
			fail "$name" "rc=$rc: $out"
		fi
		return
	fi
	mkdir -p "$libdir"
	cp "$B/libsocksify.so" "$libdir/"
	want=$ASAN_FIRST$(realpath "$libdir/libsocksify.so")
	out=$(timeout 30 env "${SFY_RUN_ENV[@]}" "$bindir/socksify" -x socks5://127.0.0.1:1 \
		sh -c "$SHOW_PRELOAD; echo" 2>&1)
	if [ "$out" = "$want" ]; then
		pass "$name"
	else
		fail "$name" "got '$out', want '$want'"
	fi
}
where lib_beside_binary tree tree
where lib_installed_lib_socksify prefix/bin prefix/lib/socksify
where lib_installed_lib prefix2/bin prefix2/lib
where lib_missing_refused lonely -
# Through a symlink the real location counts (as /proc/self/exe says).
mkdir -p "$T/links"
ln -s "$T/lib_beside_binary/tree/socksify" "$T/links/socksify"
out=$(timeout 30 env "${SFY_RUN_ENV[@]}" "$T/links/socksify" -x socks5://127.0.0.1:1 \
	sh -c "$SHOW_PRELOAD; echo" 2>&1)
if [ "$out" = "$ASAN_FIRST$(realpath "$T/lib_beside_binary/tree/libsocksify.so")" ]; then
	pass lib_through_symlink
else
	fail lib_through_symlink "got '$out'"
fi

# ---- end to end: curl through microsocks, the target sees the proxy -------------
# Under SANITIZE=1 this curl hangs in setlocale() with the bare ASan runtime
# preloaded (socksify not involved): wget stands in, and the case says so.
HTTP=curl
HTTPGET=(curl -sS --max-time 20)
if [ "${SANITIZE:-0}" = 1 ] &&
   ! sfy_preload_works curl -sS --max-time 2 file:///dev/null; then
	skip e2e_curl "hangs under the ASan runtime alone; using wget"
	HTTP=wget
	HTTPGET=(wget -q -T 20 -t 1 -O -)
fi
# microsocks listens on 127.0.0.1 and goes out from 127.0.0.2, so the web
# server's peer address tells who connected: 127.0.0.1 is curl itself,
# 127.0.0.2 is the proxy.
mkdir -p "$T/www"
echo "hello through socks $$" >"$T/www/index.html"
WEB=$(free_port) && PX=$(free_port) &&
	start_http web "$WEB" "$T/www" &&
	EXTERNAL=127.0.0.2 start_microsocks px "$PX" || {
	fail e2e_setup "could not start the web server or microsocks"
	finish
}
: >"$T/web.peers"
out=$(sfy -x "socks5://127.0.0.1:$PX" -n '' "${HTTPGET[@]}" "http://127.0.0.1:$WEB/" 2>&1)
rc=$?
if [ $rc = 0 ] && [ "$out" = "hello through socks $$" ] &&
   [ "$(awk '{ print $1 }' "$T/web.peers" | sort -u)" = 127.0.0.2 ]; then
	pass e2e_${HTTP}_microsocks
else
	fail e2e_${HTTP}_microsocks "rc=$rc out='$out' peers: $(tr '\n' ' ' <"$T/web.peers")"
fi
# Without -n '' loopback goes direct by default: the peer is the client itself.
# This also shows the peer check above can tell the two apart.
: >"$T/web.peers"
out=$(sfy -x "socks5://127.0.0.1:$PX" "${HTTPGET[@]}" "http://127.0.0.1:$WEB/" 2>&1)
rc=$?
if [ $rc = 0 ] && [ "$(awk '{ print $1 }' "$T/web.peers" | sort -u)" = 127.0.0.1 ]; then
	pass e2e_loopback_bypassed_by_default
else
	fail e2e_loopback_bypassed_by_default "rc=$rc out='$out' peers: $(tr '\n' ' ' <"$T/web.peers")"
fi
# A proxy that is down: the client fails quickly, nothing reaches the target.
DOWN=$(free_port)
: >"$T/web.peers"
start=$(date +%s)
out=$(sfy -x "socks5://127.0.0.1:$DOWN" -n '' "${HTTPGET[@]}" "http://127.0.0.1:$WEB/" 2>&1)
rc=$?
took=$(($(date +%s) - start))
if [ $rc != 0 ] && [ ! -s "$T/web.peers" ] && [ $took -lt 10 ]; then
	pass e2e_proxy_down_fails_closed
else
	fail e2e_proxy_down_fails_closed "rc=$rc took=${took}s out='$out' peers: $(tr '\n' ' ' <"$T/web.peers")"
fi

# ---- the run mode hides the password from /proc/PID/cmdline before exec ---------
# Between parsing and exec, socksify's cmdline is readable by every local
# user. To look at that moment, its stderr is a pipe already full: with -vv
# socksify blocks writing its plan, the last thing before execvp, and stays
# there until the pipe is drained. /proc/PID/syscall says it is blocked in
# write(); then its cmdline must not hold the password, and its environ
# (where SOCKSIFY_PROXY carries the password to the library) must be
# readable by its owner alone. After exec the program has its own argv.
cat >"$T/before_exec.py" <<'EOF'
import fcntl, os, platform, subprocess, sys, time
secret = sys.argv[1]
sep = sys.argv.index("--")
env = dict(os.environ)
env.update(a.split("=", 1) for a in sys.argv[2:sep])
cmd = sys.argv[sep + 1:]
write_nr = {"x86_64": 1, "aarch64": 64}.get(platform.machine())
if write_nr is None:
    print("SKIP no write() number for " + platform.machine())
    sys.exit(0)
r, w = os.pipe()
fcntl.fcntl(w, fcntl.F_SETFL, os.O_NONBLOCK)
try:
    while True:
        os.write(w, b"x" * 4096)
except BlockingIOError:
    pass
fcntl.fcntl(w, fcntl.F_SETFL, 0)
p = subprocess.Popen(cmd, env=env, stdin=subprocess.DEVNULL,
                     stdout=subprocess.PIPE, stderr=w)
os.close(w)
blocked = False
for _ in range(400):
    try:
        with open("/proc/%d/syscall" % p.pid) as f:
            if f.read().split()[0] == str(write_nr):
                blocked = True
                break
    except (OSError, IndexError):
        pass
    time.sleep(0.01)
with open("/proc/%d/cmdline" % p.pid, "rb") as f:
    args = f.read().replace(b"\0", b" ").decode(errors="replace")
mode = os.stat("/proc/%d/environ" % p.pid).st_mode & 0o777
fcntl.fcntl(r, fcntl.F_SETFL, os.O_NONBLOCK)
err = b""
for _ in range(2000):
    try:
        chunk = os.read(r, 65536)
        if not chunk:
            break
        err += chunk
    except BlockingIOError:
        if p.poll() is not None:
            break
        time.sleep(0.005)
out = p.communicate(timeout=20)[0].decode(errors="replace")
if not blocked:
    print("FAIL never blocked in write before exec; cmdline '%s'" % args)
elif secret in args:
    print("FAIL the password is in cmdline: '%s'" % args)
elif "alice:*" not in args:
    print("FAIL cmdline is not socksify's with the password hidden: '%s'" % args)
elif mode != 0o400:
    print("FAIL /proc/PID/environ has mode %o" % mode)
elif secret not in out:
    print("FAIL the program did not get the password in SOCKSIFY_PROXY: '%s'" % out)
elif secret.encode() in err:
    print("FAIL the password is on stderr")
else:
    print("OK " + args)
EOF
for form in "x|-x|socks5://alice:$PW@127.0.0.1:9" "proxy_eq|--proxy=socks5h://alice:$PW@127.0.0.1:9" \
	"bundle_chain|-qvvxsocks5://alice:$PW@127.0.0.1:9,socks5://bob:2$PW@127.0.0.1:8"; do
	IFS='|' read -r name fargs <<<"$form"
	IFS='|' read -r -a fargs <<<"$fargs"
	res=$(timeout 60 "$PY" "$T/before_exec.py" "$PW" "${SFY_RUN_ENV[@]}" -- \
		"$B/socksify" -vv "${fargs[@]}" sh -c 'echo "$SOCKSIFY_PROXY"' 2>&1)
	case $res in
	OK*) pass "run_cmdline_hidden_$name" ;;
	SKIP*) skip "run_cmdline_hidden_$name" "${res#SKIP }" ;;
	*) fail "run_cmdline_hidden_$name" "$res" ;;
	esac
done

# ---- the longest URLs are shown whole, masked ----------------------------------
# A 255-byte user name of characters that need escaping is 765 bytes in a
# URL; with a 250-byte host the masked URL is over 1000 bytes. -vv names
# it to the end, and an error in it still says what is wrong.
LONGU=$(printf '%%40%.0s' $(seq 255))
LONGH=$(printf 'b%.0s' $(seq 250))
out=$(sfy -vv -x "socks5://$LONGU:$PW@$LONGH:1080" true 2>&1)
if grep -q "^socksify: hop 1: socks5://$LONGU:\*\*\*@$LONGH:1080 (from -x)\$" <<<"$out" &&
   ! grep -q "$PW" <<<"$out"; then
	pass long_url_shown_whole
else
	fail long_url_shown_whole "$out"
fi
out=$(sfy -x "socks5://$LONGU:$PW@$LONGH:99999" true 2>&1)
rc=$?
if [ $rc = 2 ] && grep -q "@$LONGH:99999\": port 99999 is out of range (1..65535)\$" <<<"$out" &&
   ! grep -q "$PW" <<<"$out"; then
	pass long_url_error_reason
else
	fail long_url_error_reason "rc=$rc: $out"
fi

# ---- a proxy URL where a program or HOST:PORT belongs (no -x): messages mask it ----
ok=1
for args in "--env -x socks5://127.0.0.1:9 socks5://alice:$PW@127.0.0.1:9|2|unexpected argument 'socks5://alice:\\*+@127.0.0.1:9'" \
	"-x socks5://127.0.0.1:9 socks5://alice:$PW@127.0.0.1:9|127|socks5://alice:\\*+@127.0.0.1:9: No such file" \
	"--check -x socks5://127.0.0.1:9 alice:$PW@127.0.0.1:80|2|'alice:\\*+@127.0.0.1:80' is not HOST:PORT"; do
	IFS='|' read -r a want pat <<<"$args"
	read -r -a a <<<"$a"
	out=$(sfy "${a[@]}" 2>&1)
	rc=$?
	if [ $rc != "$want" ] || grep -q "$PW" <<<"$out" || ! grep -qE "$pat" <<<"$out"; then
		fail misplaced_url_masked "${a[*]}: rc=$rc: $out"
		ok=0
		break
	fi
done
[ $ok = 1 ] && pass misplaced_url_masked

finish
