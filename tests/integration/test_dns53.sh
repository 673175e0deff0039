#!/usr/bin/env bash
#
# DNS a program sends itself to port 53 of the system's name servers
# (issue 18; preload/dns/dns53.h): with remote DNS, dig, c-ares (aria2c,
# node's dns.resolve4) and Chromium-style resolvers get their A/AAAA
# answers from the library's fake map, every other type REFUSED, the
# answer coming from the name server's address; nothing is sent direct
# and nothing is relayed to the client's name server.
#
# Topology (root): the client namespace has a default route through the
# proxy's namespace (which does not forward) and /etc/resolv.conf naming
# 198.51.100.53, behind the proxy, where nothing answers (and, in later
# rounds, 127.0.0.53, a local resolver that is not running, and the IPv6
# 2001:db8:2::53). target.test
# resolves only in the proxy's namespace, to an HTTP server in the target
# namespace. Each program runs under `socksify -x socks5h://...` (one
# session: the fake address dig prints is the one python connects to), with
# dante and with microsocks. lib.sh's wire capture fails the test on any
# packet from the client to anything but the proxy.
set -u
. "$(dirname "$0")/lib.sh"

if [ ! -x "$B/socksify" ] || [ ! -f "$SFY_LIB" ]; then
	fail setup "$B/socksify or $SFY_LIB not built (make all-tests)"
	finish
fi
if ! is_root; then
	skip dns53 "needs root and ip netns"
	finish
fi
command -v dig >/dev/null || { skip dns53 "dig missing (dnsutils)"; finish; }

netns_routed_up || { fail setup "netns_routed_up"; finish; }

WEB=$(free_port) DP=$(free_port) MP=$(free_port)
mkdir -p "$T/www"
echo "dns53-page-$$" >"$T/www/index.html"
head -c 200000 /dev/urandom >"$T/www/file.bin"
ok=1
NETNS=$NS_TG LISTEN=198.51.100.2 start_http web "$WEB" "$T/www" || ok=0
NETNS=$NS_PX LISTEN=192.0.2.1 EXTERNAL=198.51.100.1 start_danted px "$DP" || ok=0
NETNS=$NS_PX LISTEN=192.0.2.1 start_microsocks ms "$MP" || ok=0
[ $ok = 1 ] || { fail setup "could not start the servers"; finish; }

# GETs http://ADDR:PORT/, prints the body.
FETCH=$ROOT/tests/tools/fetch.py

# run PROXYURL CMD...: CMD under socksify in the client namespace.
run() {
	local px=$1
	shift
	in_ns "$NS_CLI" timeout 60 env "${SFY_RUN_ENV[@]}" "$B/socksify" -x "$px" "$@"
}

is_fake() { [[ $1 =~ ^198\.1[89]\.[0-9]+\.[0-9]+$ ]]; }

# dig's answer and a fetch of the page from the address it gave, in one
# session.
dig_then_curl() {
	local px=$1 tag=$2
	shift 2
	run "$px" bash -c 'a=$(dig "$@" +short +tries=1 +time=3 | tail -1)
		echo "addr $a"
		python3 "'"$FETCH"'" "$a" '"$WEB"'' _ "$@" 2>"$T/err-$tag"
}

round() {
	local px=$1 tag=$2 ns=$3 out a
	# dig @server and dig with the server from resolv.conf, UDP and TCP.
	for how in "@$ns" "" "+tcp @$ns" "+tcp"; do
		# shellcheck disable=SC2086
		out=$(dig_then_curl "$px" "$tag" $how target.test)
		a=$(sed -n 's/^addr //p' <<<"$out" | head -1)
		if is_fake "$a" && grep -q "dns53-page-$$" <<<"$out"; then
			pass "$tag-dig${how:+ $how}-then-curl ($a)"
		else
			fail "$tag-dig${how:+ $how}-then-curl" "got '$(tr '\n' ' ' <<<"$out")' $(head -c 300 "$T/err-$tag" | tr '\n' ' ')"
		fi
	done
	# AAAA: a fake IPv6 address.
	out=$(run "$px" dig "@$ns" target.test AAAA +short +tries=1 +time=3 2>&1)
	[[ $out =~ ^[0-9a-f:]+$ ]] && pass "$tag-dig-aaaa ($out)" ||
		fail "$tag-dig-aaaa" "got '$out'"
	# Other types: REFUSED, at once, from the name server's address.
	out=$(run "$px" dig "@$ns" target.test TXT +tries=1 +time=3 2>&1)
	grep -q "status: REFUSED" <<<"$out" && grep -q "SERVER: $ns#53" <<<"$out" &&
		pass "$tag-dig-txt-refused" ||
		fail "$tag-dig-txt-refused" "got '$(tr '\n' ' ' <<<"$out" | head -c 600)'"
	out=$(run "$px" dig "@$ns" target.test MX +tries=1 +time=3 2>&1)
	grep -q "status: REFUSED" <<<"$out" && pass "$tag-dig-mx-refused" ||
		fail "$tag-dig-mx-refused" "got '$(tr '\n' ' ' <<<"$out" | head -c 600)'"
	# c-ares: aria2c resolves with its own queries to the name server.
	if command -v aria2c >/dev/null && sfy_preload_works aria2c --version; then
		rm -f "$T/dl-$tag"
		run "$px" env SOCKSIFY_LOG=debug aria2c -q --async-dns=true --connect-timeout=10 --timeout=10 \
			--max-tries=1 -d "$T" -o "dl-$tag" \
			"http://target.test:$WEB/file.bin" >"$T/aria-$tag" 2>&1
		cmp -s "$T/dl-$tag" "$T/www/file.bin" &&
			grep -q "port 53 for target.test (type 1) answered" "$T/aria-$tag" &&
			pass "$tag-aria2c" ||
			fail "$tag-aria2c" "$(head -c 600 "$T/aria-$tag" | tr '\n' ' ')"
	else
		skip "$tag-aria2c" "aria2c missing (tools/install-deps.sh) or hangs under the sanitizer runtime"
	fi
	# node: dns.resolve4 (c-ares) then http.get of the name.
	if command -v node >/dev/null && sfy_preload_works node -e 0; then
		out=$(run "$px" node -e '
const dns = require("dns"), http = require("http");
dns.resolve4("target.test", (err, a) => {
  if (err) { console.log("resolve4 " + err.code); return; }
  console.log("addr " + a[0]);
  http.get("http://" + a[0] + ":'"$WEB"'/", r => {
    let b = ""; r.on("data", d => b += d); r.on("end", () => console.log(b.trim()));
  }).on("error", e => console.log("get " + e.code));
});
dns.resolveMx("target.test", (err) => console.log("mx " + (err ? err.code : "answered")));
' 2>&1)
		a=$(sed -n 's/^addr //p' <<<"$out")
		is_fake "$a" && grep -q "dns53-page-$$" <<<"$out" &&
			pass "$tag-node-resolve4-then-get ($a)" ||
			fail "$tag-node-resolve4-then-get" "got '$(tr '\n' ' ' <<<"$out")'"
		grep -q "^mx EREFUSED" <<<"$out" && pass "$tag-node-resolvemx-refused" ||
			fail "$tag-node-resolvemx-refused" "got '$(tr '\n' ' ' <<<"$out")'"
	else
		skip "$tag-node" "node missing, or hangs under the sanitizer runtime"
	fi
}

for ns in 198.51.100.53 127.0.0.53 2001:db8:2::53; do
	printf 'nameserver %s\noptions timeout:1 attempts:1\n' "$ns" \
		>"/etc/netns/$NS_CLI/resolv.conf"
	kind=remote
	[ "$ns" = 127.0.0.53 ] && kind=loopback
	[ "$ns" = 2001:db8:2::53 ] && kind=ipv6 # dig's socket is IPV6_V6ONLY
	round "socks5h://192.0.2.1:$DP" "dante-$kind" "$ns"
	round "socks5h://192.0.2.1:$MP" "microsocks-$kind" "$ns"
done

# Local DNS (socks5://) changes nothing: dig's query goes through the
# relay to the client's name server, where nothing answers.
printf 'nameserver 198.51.100.53\noptions timeout:1 attempts:1\n' \
	>"/etc/netns/$NS_CLI/resolv.conf"
out=$(run "socks5://192.0.2.1:$DP" dig target.test +short +tries=1 +time=2 2>&1)
! is_fake "$(tail -1 <<<"$out")" && pass "local-dns-unchanged" ||
	fail "local-dns-unchanged" "got '$out'"

finish
