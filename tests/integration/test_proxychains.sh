#!/bin/bash
# socksify -f FILE: a proxychains-ng configuration runs a real program
# through a real proxy (chain, credentials, proxy_dns, localnet with and
# without a port); what
# socksify cannot honour is an error naming the line; chain modes, http
# and socks4 entries are honoured.
. "$(dirname "$0")/lib.sh"

PW=PcS3cretPW
unset SOCKSIFY_PROXY SOCKSIFY_NO_PROXY SOCKSIFY_LOG SOCKSIFY_DNS SOCKSIFY_TIMEOUT_MS \
	SOCKSIFY_FAKE_NET ALL_PROXY all_proxy NO_PROXY no_proxy LD_PRELOAD
if [ "${SANITIZE:-0}" = 1 ]; then
	export ASAN_OPTIONS=$SFY_ASAN_OPTIONS
fi
sfy() {
	timeout 30 env "${SFY_RUN_ENV[@]}" "$B/socksify" "$@"
}

MS=$(free_port) && MSA=$(free_port) && ECHO=$(free_port) || exit 1
EXTERNAL=127.0.0.3 start_microsocks ms "$MS" &&
	EXTERNAL=127.0.0.4 start_microsocks msa "$MSA" bob "$PW" &&
	start_tcp_echo echo "$ECHO" || {
	fail pc_setup "could not start the servers"
	finish
}
peers() {
	awk '{ print $1 }' "$T/echo.peers" | sort -u | tr '\n' ' '
}
# bash /dev/tcp by name: "localhost" goes to the proxy with proxy_dns.
probe() {
	echo "exec 3<>/dev/tcp/$1/$ECHO && echo ping >&3 && head -n 1 <&3"
}

# ---- a chain with credentials and proxy_dns, as proxychains users write it ----
cat >"$T/chain.conf" <<EOF
# proxychains.conf
strict_chain
proxy_dns
remote_dns_subnet 224
tcp_read_time_out 15000
tcp_connect_time_out 8000
[ProxyList]
socks5	127.0.0.1	$MS
socks5	127.0.0.1	$MSA	bob	$PW
EOF
: >"$T/echo.peers"
out=$(sfy -f "$T/chain.conf" bash -c "$(probe localhost)" 2>"$T/err")
rc=$?
# stderr: the one warning about the two time-outs (one bound here), no more
if [ $rc = 0 ] && [ "$out" = ping ] && [ "$(peers)" = "127.0.0.4 " ] &&
   [ "$(wc -l <"$T/err")" = 1 ] &&
   grep -q "^socksify: warning: $T/chain.conf:5: tcp_connect_time_out and tcp_read_time_out: .* their sum, 23000 ms" "$T/err"; then
	pass pc_chain_auth_proxy_dns
else
	fail pc_chain_auth_proxy_dns "rc=$rc out='$out' peers: $(peers) err: $(cat "$T/err")"
fi
# What the program is handed.
out=$(sfy -f "$T/chain.conf" sh -c 'echo "$SOCKSIFY_PROXY|$SOCKSIFY_NO_PROXY|$SOCKSIFY_DNS|$SOCKSIFY_TIMEOUT_MS|$SOCKSIFY_FAKE_NET"' 2>/dev/null)
if [ "$out" = "socks5h://127.0.0.1:$MS,socks5h://bob:$PW@127.0.0.1:$MSA||remote|23000|224.0.0.0/8" ]; then
	pass pc_environment
else
	fail pc_environment "got '$out'"
fi
# -v names the hops with the password masked.
out=$(sfy -vv -f "$T/chain.conf" true 2>&1)
if grep -q "hop 2: socks5h://bob:\*\*\*@127.0.0.1:$MSA (from -f)" <<<"$out" &&
   ! grep -q "$PW" <<<"$out"; then
	pass pc_verbose_masked
else
	fail pc_verbose_masked "$out"
fi

# ---- localnet goes direct, the rest through the proxy -------------------------
cat >"$T/localnet.conf" <<EOF
localnet 127.0.0.0/255.0.0.0
[ProxyList]
socks5 127.0.0.1 $MS
EOF
: >"$T/echo.peers"
out=$(sfy -f "$T/localnet.conf" bash -c "$(probe 127.0.0.1)" 2>&1)
if [ "$out" = ping ] && [ "$(peers)" = "127.0.0.1 " ]; then
	pass pc_localnet_direct
else
	fail pc_localnet_direct "out='$out' peers: $(peers)"
fi
# localnet with a port: that port of the range goes direct, the others
# through the proxy (as proxychains compares the port too).
OTHER=$(free_port)
printf 'localnet 127.0.0.0:%s/255.0.0.0\n[ProxyList]\nsocks5 127.0.0.1 %s\n' \
	"$ECHO" "$MS" >"$T/lnport.conf"
printf 'localnet 127.0.0.0:%s/8\n[ProxyList]\nsocks5 127.0.0.1 %s\n' \
	"$OTHER" "$MS" >"$T/lnother.conf"
: >"$T/echo.peers"
out=$(sfy -f "$T/lnport.conf" bash -c "$(probe 127.0.0.1)" 2>&1)
p1=$(peers)
: >"$T/echo.peers"
out2=$(sfy -f "$T/lnother.conf" bash -c "$(probe 127.0.0.1)" 2>&1)
p2=$(peers)
if [ "$out" = ping ] && [ "$p1" = "127.0.0.1 " ] && [ "$out2" = ping ] &&
   [ "$p2" = "127.0.0.3 " ]; then
	pass pc_localnet_port
else
	fail pc_localnet_port "its port: out='$out' peers: $p1; another port: out='$out2' peers: $p2"
fi
# dnat: the destination rewritten before it is proxied (the echo server
# listens on 127.0.0.1 only: 127.0.0.99 and .98 reach it only rewritten),
# the port too when the rule names one; a rewritten address in a
# localnet range goes direct to the program's own address, as
# proxychains connects (127.0.0.97: nothing there, the probe fails).
printf 'dnat 127.0.0.99 127.0.0.1\ndnat 127.0.0.98:9 127.0.0.1:%s\nlocalnet 127.0.0.2/32\ndnat 127.0.0.97 127.0.0.2\n[ProxyList]\nsocks5 127.0.0.1 %s\n' \
	"$ECHO" "$MS" >"$T/dnat.conf"
: >"$T/echo.peers"
out=$(sfy -f "$T/dnat.conf" bash -c "$(probe 127.0.0.99)" 2>&1)
p1=$(peers)
: >"$T/echo.peers"
out2=$(sfy -f "$T/dnat.conf" bash -c 'exec 3<>/dev/tcp/127.0.0.98/9 && echo ping >&3 && head -n 1 <&3' 2>&1)
p2=$(peers)
out3=$(sfy -f "$T/dnat.conf" bash -c "$(probe 127.0.0.97) || echo failed" 2>&1)
if [ "$out" = ping ] && [ "$p1" = "127.0.0.3 " ] && [ "$out2" = ping ] &&
   [ "$p2" = "127.0.0.3 " ] && [ "${out3##*$'\n'}" = failed ]; then
	pass pc_dnat
else
	fail pc_dnat "address: out='$out' peers: $p1; port: out='$out2' peers: $p2; localnet: '$out3'"
fi
# No localnet line: proxychains proxies loopback too, and so does -f.
cat >"$T/nolocal.conf" <<EOF
[ProxyList]
socks5 127.0.0.1 $MS
EOF
: >"$T/echo.peers"
out=$(sfy -f "$T/nolocal.conf" bash -c "$(probe 127.0.0.1)" 2>&1)
if [ "$out" = ping ] && [ "$(peers)" = "127.0.0.3 " ]; then
	pass pc_no_localnet_proxies_all
else
	fail pc_no_localnet_proxies_all "out='$out' peers: $(peers)"
fi
# -n adds to localnet.
: >"$T/echo.peers"
out=$(sfy -f "$T/nolocal.conf" -n 127.0.0.1 bash -c "$(probe 127.0.0.1)" 2>&1)
if [ "$out" = ping ] && [ "$(peers)" = "127.0.0.1 " ]; then
	pass pc_no_proxy_option_adds
else
	fail pc_no_proxy_option_adds "out='$out' peers: $(peers)"
fi

# ---- chain modes: honoured (dynamic skips a dead proxy; random picks) -------
DEAD=$(free_port)
cat >"$T/dynamic.conf" <<EOF
dynamic_chain
[ProxyList]
socks5 127.0.0.1 $DEAD
socks5 127.0.0.1 $MS
EOF
: >"$T/echo.peers"
out=$(sfy --strict -f "$T/dynamic.conf" bash -c "$(probe 127.0.0.1)" 2>"$T/err")
rc=$?
if [ $rc = 0 ] && [ "$out" = ping ] && [ "$(peers)" = "127.0.0.3 " ] &&
   ! grep -q "warning" "$T/err"; then
	pass pc_dynamic_chain_skips_dead
else
	fail pc_dynamic_chain_skips_dead "rc=$rc out='$out' peers: $(peers) err: $(cat "$T/err")"
fi
cat >"$T/random.conf" <<EOF
random_chain
chain_len = 1
[ProxyList]
socks5://127.0.0.1:$MS
socks5://bob:$PW@127.0.0.1:$MSA
EOF
out=$(sfy -f "$T/random.conf" sh -c 'echo "$SOCKSIFY_CHAIN|$SOCKSIFY_CHAIN_LEN"' 2>&1)
[ "$out" = "random|1" ] && pass pc_random_chain_environment ||
	fail pc_random_chain_environment "got '$out'"
: >"$T/echo.peers"
for i in $(seq 20); do # both drawn: all but 2 in a million
	sfy -f "$T/random.conf" bash -c "$(probe 127.0.0.1)" >/dev/null 2>&1
done
[ "$(peers)" = "127.0.0.3 127.0.0.4 " ] && pass pc_random_chain_uses_both ||
	fail pc_random_chain_uses_both "peers after 20 runs: $(peers)"
# No chain line: proxychains' default, dynamic.
printf '[ProxyList]\nsocks5 127.0.0.1 %s\n' "$MS" >"$T/nomode.conf"
out=$(sfy -f "$T/nomode.conf" sh -c 'echo "$SOCKSIFY_CHAIN"' 2>&1)
[ "$out" = dynamic ] && pass pc_default_mode_dynamic ||
	fail pc_default_mode_dynamic "got '$out'"

# ---- what cannot be honoured: exit 2, the line named, nothing run ---------------
refused() {
	local name=$1 body=$2 want=$3 out rc
	printf '%s\n' "$body" >"$T/$name.conf"
	out=$(sfy -f "$T/$name.conf" sh -c 'echo RAN' 2>&1)
	rc=$?
	if [ $rc = 2 ] && grep -q "^socksify: -f: $T/$name.conf:$want" <<<"$out" &&
	   ! grep -q RAN <<<"$out" && ! grep -q "$PW" <<<"$out"; then
		pass "$name"
	else
		fail "$name" "rc=$rc: $out"
	fi
}
# A raw entry: a plain TCP forwarder (socat, to microsocks) asked nothing;
# the socks5 entry after it is greeted through it, as proxychains does.
if command -v socat >/dev/null 2>&1; then
	RAWP=$(free_port)
	socat "TCP-LISTEN:$RAWP,bind=127.0.0.1,fork,reuseaddr" "TCP:127.0.0.1:$MS" \
		2>>"$T/socat.log" &
	_sfy_track $!
	wait_port "$RAWP"
	printf 'strict_chain\n[ProxyList]\nraw 127.0.0.1 %s bob %s\nsocks5 127.0.0.1 %s\n' \
		"$RAWP" "$PW" "$MS" >"$T/raw.conf"
	: >"$T/echo.peers"
	out=$(sfy -f "$T/raw.conf" bash -c "$(probe 127.0.0.1)" 2>&1)
	env_out=$(sfy -f "$T/raw.conf" sh -c 'echo "$SOCKSIFY_PROXY"' 2>&1)
	if [ "$out" = ping ] && [ "$(peers)" = "127.0.0.3 " ] &&
	   [ "$env_out" = "raw://127.0.0.1:$RAWP,socks5://127.0.0.1:$MS" ]; then
		pass pc_raw_entry
	else
		fail pc_raw_entry "out='$out' peers: $(peers) env: $env_out"
	fi
else
	skip pc_raw_entry "socat missing (tools/install-deps.sh)"
fi
# A socks4 password: proxychains never sends it; neither does -f, and says so.
printf '[ProxyList]\nsocks4 127.0.0.1 9050 bob %s\n' "$PW" >"$T/s4pw.conf"
out=$(sfy -f "$T/s4pw.conf" sh -c 'echo "$SOCKSIFY_PROXY"' 2>&1)
if [ $? = 0 ] && grep -q "^socksify: warning: $T/s4pw.conf:2: a socks4 entry with a password" <<<"$out" &&
   grep -q '^socks4://bob@127.0.0.1:9050$' <<<"$out" && ! grep -q "$PW" <<<"$out"; then
	pass pc_socks4_password_dropped
else
	fail pc_socks4_password_dropped "$out"
fi
# What proxychains ignores (an unknown line, "proxy_dns # ..."), -f ignores
# too, naming the line; --strict refuses it.
printf 'frobnicate 3\nproxy_dns # remote\n[ProxyList]\nsocks5 127.0.0.1 %s\n' "$MS" >"$T/ignored.conf"
out=$(sfy -f "$T/ignored.conf" sh -c 'echo "RAN $SOCKSIFY_DNS"' 2>&1)
if [ $? = 0 ] && grep -q "^socksify: warning: $T/ignored.conf:1: unknown setting 'frobnicate'" <<<"$out" &&
   grep -q "^socksify: warning: $T/ignored.conf:2: 'proxy_dns' with more text" <<<"$out" &&
   grep -q '^RAN local$' <<<"$out"; then
	pass pc_ignored_lines_warned
else
	fail pc_ignored_lines_warned "$out"
fi
out=$(sfy --strict -f "$T/ignored.conf" sh -c 'echo RAN' 2>&1)
if [ $? = 2 ] && grep -q "^socksify: -f: $T/ignored.conf:1: unknown setting .*--strict" <<<"$out" &&
   ! grep -q RAN <<<"$out"; then
	pass pc_ignored_lines_strict
else
	fail pc_ignored_lines_strict "$out"
fi
refused pc_dnat_localnet_first "localnet 10.0.0.0/255.0.0.0
dnat 10.0.0.1 11.0.0.2
[ProxyList]
socks5 127.0.0.1 $MS" "2: dnat: 10.0.0.1 is in a localnet range and 11.0.0.2 is not"
refused pc_chain_len_too_long "random_chain
chain_len = 2
[ProxyList]
socks5 127.0.0.1 $MS" "2: chain_len = 2, but \\[ProxyList\\] has 1 proxies"
refused pc_chain_len_no_equals "round_robin_chain
chain_len 1
[ProxyList]
socks5 127.0.0.1 $MS" "2: chain_len needs an equals sign"
refused pc_empty_list "strict_chain
[ProxyList]" "2: no proxy in \\[ProxyList\\]"

out=$(sfy -f "$T/nonexistent.conf" true 2>&1)
rc=$?
if [ $rc = 2 ] && grep -q "nonexistent.conf: No such file or directory" <<<"$out"; then
	pass pc_missing_file
else
	fail pc_missing_file "rc=$rc: $out"
fi
out=$(sfy -f "$T/nolocal.conf" -x "socks5://127.0.0.1:$MS" true 2>&1)
rc=$?
if [ $rc = 2 ] && grep -q -- '-f and -x both name the proxy' <<<"$out"; then
	pass pc_and_x_exclusive
else
	fail pc_and_x_exclusive "rc=$rc: $out"
fi
# The Debian default (Tor's socks4 entry, proxy_dns) is taken as it is.
if [ -f /etc/proxychains4.conf ] && grep -q '^socks4' /etc/proxychains4.conf; then
	out=$(sfy -f /etc/proxychains4.conf sh -c 'echo "$SOCKSIFY_PROXY"' 2>&1)
	if [ $? = 0 ] && grep -q '^socks4a://127.0.0.1:9050$' <<<"$out"; then
		pass pc_debian_default_file
	else
		fail pc_debian_default_file "$out"
	fi
fi

# ---- RFC 1929's longest password, every byte percent-encoded in the URL ------
# 255 bytes of characters a URL must escape (3 bytes each once encoded):
# dante accepts the user only when every byte arrives, the last included.
# One byte more is an error naming the file and line, never a cut password.
if is_root && [ -x /usr/sbin/danted ]; then
	DU=$(free_port) || exit 1
	LUSER=sfypc$$
	LPW=$("$PY" -c 'import sys
s = "@:%/,!$&()*+;=?[]\"\\\x27"
n = int(sys.argv[1])
sys.stdout.write((s * 20)[:n - 1] + "Z")' 255)
	if [ ${#LPW} = 255 ] && add_test_user "$LUSER" "$LPW" &&
	   start_danted dante_auth "$DU" username; then
		printf '[ProxyList]\nsocks5 127.0.0.1 %s %s %s\n' "$DU" "$LUSER" "$LPW" >"$T/long.conf"
		: >"$T/echo.peers"
		out=$(sfy -f "$T/long.conf" bash -c "$(probe 127.0.0.1)" 2>&1)
		rc=$?
		if [ $rc = 0 ] && [ "$out" = ping ] && [ "$(peers)" = "127.0.0.1 " ] &&
		   grep -q "username%$LUSER@127\\.0\\.0\\.1" "$T/dante_auth.log"; then
			pass pc_longest_password
		else
			fail pc_longest_password "rc=$rc out='${out//$LPW/<password>}' peers: $(peers) dante: $(tail -3 "$T/dante_auth.log")"
		fi
		printf '[ProxyList]\nsocks5 127.0.0.1 %s %s %sY\n' "$DU" "$LUSER" "$LPW" >"$T/toolong.conf"
		out=$(sfy -f "$T/toolong.conf" sh -c 'echo RAN' 2>&1)
		rc=$?
		if [ $rc = 2 ] && grep -q "^socksify: -f: $T/toolong.conf:2: the password is 256 bytes long; SOCKS5 (RFC 1929) allows at most 255" <<<"$out" &&
		   ! grep -qF -- "${LPW:100:50}" <<<"$out"; then
			pass pc_password_too_long
		else
			fail pc_password_too_long "rc=$rc: ${out//$LPW/<password>}"
		fi
	else
		fail pc_longest_password_setup "could not add the test user or start dante"
	fi
else
	skip pc_longest_password "needs root (a system user for dante) and danted"
fi

finish
