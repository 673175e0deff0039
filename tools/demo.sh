#!/bin/sh
# make demo: curl through a real SOCKS5 server, on loopback only.
#
# microsocks listens on 127.0.0.1 and makes its outgoing connections from
# 127.0.0.2; a small web server on 127.0.0.1 logs the address of every
# peer. curl run under build/socksify fetches the page, and the web
# server's log then shows 127.0.0.2 as the peer: the request came out of
# the proxy, not out of curl. Everything started here is stopped by its pid
# when the script ends (tests/integration/lib.sh's exit trap).
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
set -u

HERE=$(cd "$(dirname "$0")" && pwd)
need=
for prog in /usr/bin/microsocks curl python3; do
	command -v "$prog" >/dev/null 2>&1 || need="$need $prog"
done
if [ -n "$need" ]; then
	echo "== missing:$need; installing with tools/install-deps.sh"
	sh "$HERE/install-deps.sh" || exit 1
fi

. "$HERE/../tests/integration/lib.sh"
if [ ! -x "$B/socksify" ] || [ ! -f "$B/libsocksify.so" ]; then
	echo "demo: build first (make)" >&2
	exit 1
fi
unset SOCKSIFY_PROXY SOCKSIFY_NO_PROXY ALL_PROXY all_proxy http_proxy HTTP_PROXY

PX=$(free_port) && WEB=$(free_port) || exit 1
mkdir -p "$T/www"
echo "Hello from the demo web server (pid $$)." >"$T/www/index.html"

echo "== microsocks on 127.0.0.1:$PX, outgoing connections from 127.0.0.2"
EXTERNAL=127.0.0.2 start_microsocks proxy "$PX" || exit 1
echo "== web server on 127.0.0.1:$WEB, logging each peer's address"
start_http web "$WEB" "$T/www" || exit 1
# wait_port does not connect, so the log holds only real requests.
: >"$T/web.peers"

# Loopback goes direct by default; -n '' proxies everything.
cmd=("$B/socksify" -x "socks5h://127.0.0.1:$PX" -n '' \
	curl -sS --max-time 20 "http://127.0.0.1:$WEB/")
printf -v shown ' %q' "${cmd[@]}"
echo "== running:${shown//"$ROOT/"/}"
echo "-- page --"
timeout 30 env "${SFY_RUN_ENV[@]}" "${cmd[@]}" || { echo "demo: curl failed" >&2; exit 1; }
echo "-- end of page --"

echo "== microsocks's log (the client is curl, on 127.0.0.1):"
sed 's/^/   /' "$T/proxy.log"
echo "== the web server's log (peer address first):"
sed 's/^/   /' "$T/web.log"
peers=$(awk '{ print $1 }' "$T/web.peers" | sort -u)
if [ "$peers" != 127.0.0.2 ]; then
	echo "demo: FAILED: the web server saw '$peers', not the proxy (127.0.0.2)" >&2
	exit 1
fi

# The same request without socksify, for contrast: curl is its own peer.
: >"$T/web.peers"
timeout 30 curl -sS --max-time 20 -o /dev/null "http://127.0.0.1:$WEB/"
direct=$(awk '{ print $1 }' "$T/web.peers" | sort -u)
echo "== the same request without socksify came from $direct"
echo "== OK: through socksify the peer was 127.0.0.2, microsocks's outgoing"
echo "   address, so the request went through the SOCKS5 proxy."
