#!/bin/bash
# Shell mode: eval "$(socksify --env ...)" socksifies the programs a shell
# starts (bash and dash), quoting is exact, LD_PRELOAD keeps what was
# there, and eval "$(socksify --env --off)" puts everything back.
. "$(dirname "$0")/lib.sh"

unset SOCKSIFY_PROXY SOCKSIFY_NO_PROXY SOCKSIFY_LOG SOCKSIFY_ENV \
	SOCKSIFY_ENV_LD_PRELOAD ALL_PROXY all_proxy NO_PROXY no_proxy LD_PRELOAD
LIB=$(realpath "$SFY_LIB")
SFY=$B/socksify
LIBM=$(ldconfig -p | awk '$1 == "libm.so.6" && /x86-64|x86_64|64bit/ { print $NF; exit }')
[ -n "$LIBM" ] || LIBM=$(ldconfig -p | awk '$1 == "libm.so.6" { print $NF; exit }')
# Under SANITIZE=1 every shell here starts with the ASan runtime preloaded
# (our library needs it first); the "LD_PRELOAD was unset" cases cannot
# run there and say so.
BASE=
if [ "${SANITIZE:-0}" = 1 ]; then
	BASE=$SFY_ASAN_RT
	export ASAN_OPTIONS=$SFY_ASAN_OPTIONS
fi
export SFY LIB LIBM BASE

MS=$(free_port) && ECHO=$(free_port) || exit 1
EXTERNAL=127.0.0.3 start_microsocks ms "$MS" && start_tcp_echo echo "$ECHO" || {
	fail env_setup "could not start microsocks or the echo server"
	finish
}
export MS ECHO
# A child program's connection: bash /dev/tcp to the echo server.
PROBE="bash -c 'exec 3<>/dev/tcp/127.0.0.1/$ECHO && echo ping >&3 && head -n 1 <&3'"
export PROBE

# in_shell SHELL SCRIPT: the script in a clean environment (PATH, HOME, the
# variables above), LD_PRELOAD as $PRE when PRE is set.
# unsession: the per-session link (tools/session.c) that LD_PRELOAD names
# ahead of the library itself left out.
unsession() {
	sed -E "s#/[^ :|]*/socksify-[A-Za-z0-9]{6}/libsocksify\.so ##g"
}

in_shell() {
	local sh=$1 script=$2
	if [ -n "${PRE+x}" ]; then
		timeout 30 env -i PATH="$PATH" HOME="$HOME" SFY="$SFY" LIB="$LIB" \
			LIBM="$LIBM" MS="$MS" ECHO="$ECHO" PROBE="$PROBE" \
			ASAN_OPTIONS="${ASAN_OPTIONS:-}" LD_PRELOAD="$PRE" "$sh" -c "$script"
	else
		timeout 30 env -i PATH="$PATH" HOME="$HOME" SFY="$SFY" LIB="$LIB" \
			LIBM="$LIBM" MS="$MS" ECHO="$ECHO" PROBE="$PROBE" \
			ASAN_OPTIONS="${ASAN_OPTIONS:-}" "$sh" -c "$script"
	fi
}

peers() {
	awk '{ print $1 }' "$T/echo.peers" | sort -u | tr '\n' ' '
}

for sh in bash dash; do
	# ---- on: children go through the proxy --------------------------------
	: >"$T/echo.peers"
	out=$(PRE=$BASE in_shell "$sh" '
		eval "$("$SFY" --env -x "socks5://127.0.0.1:$MS" -n "")" || exit 9
		eval "$PROBE"' 2>&1)
	rc=$?
	if [ $rc = 0 ] && [ "$out" = ping ] && [ "$(peers)" = "127.0.0.3 " ]; then
		pass "env_${sh}_children_socksified"
	else
		fail "env_${sh}_children_socksified" "rc=$rc out='$out' peers: $(peers)"
	fi
	# A child of a child too (exec chain: sh -> bash -> bash).
	: >"$T/echo.peers"
	out=$(PRE=$BASE in_shell "$sh" '
		eval "$("$SFY" --env -x "socks5://127.0.0.1:$MS" -n "")" || exit 9
		sh -c "bash -c \"$PROBE\""' 2>&1)
	rc=$?
	if [ $rc = 0 ] && [ "$out" = ping ] && [ "$(peers)" = "127.0.0.3 " ]; then
		pass "env_${sh}_grandchildren_socksified"
	else
		fail "env_${sh}_grandchildren_socksified" "rc=$rc out='$out' peers: $(peers)"
	fi

	# A session that ended under a running shell (a subshell between the
	# shell and the command ends it at once in bash; a daemon outlives
	# its session): the shell's programs must still load the library (the
	# entry after the session's link), never go direct.
	: >"$T/echo.peers"
	out=$(PRE=$BASE in_shell "$sh" '
		eval "$("$SFY" --env -x "socks5://127.0.0.1:$MS" -n "")" || exit 9
		rm -rf "$SOCKSIFY_SESSION"
		eval "$PROBE"' 2>/dev/null)
	rc=$?
	if [ $rc = 0 ] && [ "$out" = ping ] && [ "$(peers)" = "127.0.0.3 " ]; then
		pass "env_${sh}_ended_session_still_socksified"
	else
		fail "env_${sh}_ended_session_still_socksified" "rc=$rc out='$out' peers: $(peers)"
	fi

	# ---- off: the same probe goes direct again ------------------------------
	: >"$T/echo.peers"
	out=$(PRE=$BASE in_shell "$sh" '
		eval "$("$SFY" --env -x "socks5://127.0.0.1:$MS" -n "")" || exit 9
		eval "$("$SFY" --env --off)" || exit 8
		eval "$PROBE"
		env | grep "^SOCKSIFY_" || true' 2>&1)
	rc=$?
	if [ $rc = 0 ] && [ "$out" = ping ] && [ "$(peers)" = "127.0.0.1 " ]; then
		pass "env_${sh}_off_goes_direct"
	else
		fail "env_${sh}_off_goes_direct" "rc=$rc out='$out' peers: $(peers)"
	fi

	# ---- LD_PRELOAD: kept, ours first, never twice, restored exactly ---------
	# (the per-session link, socksify-XXXXXX/libsocksify.so, is a link to
	# $LIB, tools/session.c: shown as $LIB)
	pre="${BASE:+$BASE:}$LIBM"
	out=$(PRE=$pre in_shell "$sh" '
		eval "$("$SFY" --env -x socks5://127.0.0.1:1)" || exit 9
		echo "1:$LD_PRELOAD"
		eval "$("$SFY" --env -x socks5://127.0.0.1:2 -v)" || exit 9
		echo "2:$LD_PRELOAD|$SOCKSIFY_PROXY|$SOCKSIFY_LOG"
		eval "$("$SFY" --env --off)" || exit 8
		echo "3:${LD_PRELOAD-unset}|${SOCKSIFY_PROXY-unset}|${SOCKSIFY_LOG-unset}|${SOCKSIFY_ENV-unset}|${SOCKSIFY_ENV_LD_PRELOAD-unset}"' 2>&1 | unsession)
	want="1:${BASE:+$BASE }$LIB $LIBM
2:${BASE:+$BASE }$LIB $LIBM|socks5://127.0.0.1:2|info
3:$pre|unset|unset|unset|unset"
	if [ "$out" = "$want" ]; then
		pass "env_${sh}_ld_preload_kept_and_restored"
	else
		fail "env_${sh}_ld_preload_kept_and_restored" "got '$out', want '$want'"
	fi
	# Changed by the user meanwhile: only our library is taken out.
	out=$(PRE=$pre in_shell "$sh" '
		eval "$("$SFY" --env -x socks5://127.0.0.1:1)" || exit 9
		LD_PRELOAD="$LD_PRELOAD /nonexistent/extra.so"; export LD_PRELOAD
		eval "$("$SFY" --env --off)" 2>/dev/null || exit 8
		echo "$LD_PRELOAD"' 2>/dev/null)
	want="${BASE:+$BASE }$LIBM /nonexistent/extra.so"
	if [ "$out" = "$want" ]; then
		pass "env_${sh}_off_keeps_user_changes"
	else
		fail "env_${sh}_off_keeps_user_changes" "got '$out', want '$want'"
	fi
	if [ -n "$BASE" ]; then
		skip "env_${sh}_ld_preload_was_unset" "under SANITIZE=1 LD_PRELOAD always holds the ASan runtime"
	else
		out=$(in_shell "$sh" '
			eval "$("$SFY" --env -x socks5://127.0.0.1:1)" || exit 9
			echo "$LD_PRELOAD"
			eval "$("$SFY" --env --off)" || exit 8
			echo "${LD_PRELOAD-unset}"' 2>&1 | unsession)
		if [ "$out" = "$LIB
unset" ]; then
			pass "env_${sh}_ld_preload_was_unset"
		else
			fail "env_${sh}_ld_preload_was_unset" "got '$out'"
		fi
	fi

	# ---- quoting: values come back byte for byte, nothing is run -------------
	url="socks5h://o'brien:p%27w%20\$(x)@127.0.0.1:1"
	list="a.example,\$(touch $T/pwned-$sh),\`touch $T/pwned2-$sh\`,'q'"
	# Handed in the script itself: in_shell's env -i drops other variables.
	out=$(PRE=$BASE in_shell "$sh" "
		URL='$(sed "s/'/'\\\\''/g" <<<"$url")'
		LIST='$(sed "s/'/'\\\\''/g" <<<"$list")'
		eval \"\$(\"\$SFY\" --env -x \"\$URL\" -n \"\$LIST\")\" || exit 9
		printf '%s\n%s\n' \"\$SOCKSIFY_PROXY\" \"\$SOCKSIFY_NO_PROXY\"" 2>&1)
	if [ "$out" = "$url
$list" ] && [ ! -e "$T/pwned-$sh" ] && [ ! -e "$T/pwned2-$sh" ]; then
		pass "env_${sh}_quoting_exact"
	else
		fail "env_${sh}_quoting_exact" "got '$out'"
	fi
done

# ---- SOCKSIFY_PROXY_FILE: shell mode hands on the path, never the password -------
printf 'socks5://alice:FileS3cret@127.0.0.1:%s\n' "$MS" >"$T/proxy.url"
chmod 600 "$T/proxy.url"
out=$(SOCKSIFY_PROXY_FILE=$T/proxy.url timeout 30 env "${SFY_RUN_ENV[@]}" "$SFY" --env 2>&1)
if grep -qx "export SOCKSIFY_PROXY_FILE='$T/proxy.url'" <<<"$out" &&
   ! grep -q 'FileS3cret' <<<"$out" && ! grep -q 'SOCKSIFY_PROXY=' <<<"$out"; then
	pass env_proxy_file_path_only
else
	fail env_proxy_file_path_only "$out"
fi
# Run mode: the child gets the file (not the URL); with -x, -x wins and the
# file variable is dropped (the library refuses both at once).
out=$(SOCKSIFY_PROXY_FILE=$T/proxy.url timeout 30 env "${SFY_RUN_ENV[@]}" "$SFY" \
	sh -c 'echo "${SOCKSIFY_PROXY-unset}|${SOCKSIFY_PROXY_FILE-unset}"' 2>&1)
out2=$(SOCKSIFY_PROXY_FILE=$T/proxy.url timeout 30 env "${SFY_RUN_ENV[@]}" "$SFY" \
	-x socks5://127.0.0.1:1 sh -c 'echo "${SOCKSIFY_PROXY-unset}|${SOCKSIFY_PROXY_FILE-unset}"' 2>&1)
if [ "$out" = "unset|$T/proxy.url" ] && [ "$out2" = "socks5://127.0.0.1:1|unset" ]; then
	pass run_proxy_file
else
	fail run_proxy_file "file: '$out' with -x: '$out2'"
fi
: >"$T/echo.peers"
out=$(SOCKSIFY_PROXY_FILE=$T/proxy.url timeout 30 env "${SFY_RUN_ENV[@]}" "$SFY" -n '' \
	bash -c "exec 3<>/dev/tcp/127.0.0.1/$ECHO && echo ping >&3 && head -n 1 <&3" 2>&1)
if [ "$out" = ping ] && [ "$(peers)" = "127.0.0.3 " ]; then
	pass run_proxy_file_through_proxy
else
	fail run_proxy_file_through_proxy "out='$out' peers: $(peers)"
fi

# ---- what --env prints, and its errors ---------------------------------------------
out=$(timeout 30 env "${SFY_RUN_ENV[@]}" "$SFY" --env -x socks5://127.0.0.1:1 2>&1)
if grep -qx "export SOCKSIFY_PROXY='socks5://127.0.0.1:1'" <<<"$out" &&
   grep -qx "export SOCKSIFY_ENV='1'" <<<"$out" &&
   grep -q "^export LD_PRELOAD='.*/socksify-[A-Za-z0-9]*/libsocksify.so" <<<"$out" &&
   grep -q "^export SOCKSIFY_SESSION='/.*/socksify-[A-Za-z0-9]*'" <<<"$out" &&
   ! grep -vqE "^(export [A-Z_]+='[^']*'|unset [A-Z_]+)\$" <<<"$out"; then
	pass env_output_is_plain_sh
else
	fail env_output_is_plain_sh "$out"
fi
out=$(timeout 30 env "${SFY_RUN_ENV[@]}" "$SFY" --env -x socks5://127.0.0.1:1 curl 2>&1)
rc=$?
if [ $rc = 2 ] && grep -q "runs nothing" <<<"$out"; then
	pass env_refuses_command
else
	fail env_refuses_command "rc=$rc: $out"
fi
out=$(timeout 30 env "${SFY_RUN_ENV[@]}" "$SFY" --env --off -x socks5://127.0.0.1:1 2>&1)
rc=$?
if [ $rc = 2 ] && grep -q -- "--off goes with --env alone" <<<"$out"; then
	pass env_off_alone
else
	fail env_off_alone "rc=$rc: $out"
fi
out=$(timeout 30 env "${SFY_RUN_ENV[@]}" "$SFY" --env -x "socks5://u:pw@127.0.0.1:0" 2>&1)
rc=$?
if [ $rc = 2 ] && [ -z "$(grep '^export' <<<"$out")" ]; then
	pass env_bad_url_prints_nothing
else
	fail env_bad_url_prints_nothing "rc=$rc: $out"
fi

finish
