#!/usr/bin/env bash
#
# The leak census (issue 18): tests/tools/leakcensus tries every way out a
# program has (each hooked call, the same calls by syscall() number,
# io_uring, the asynchronous and low-level resolvers, reverse lookups)
# against a destination reachable only through the proxy, in the namespace
# topology with the wire capture, under socks5h:// (remote DNS, the target
# by name) and socks5:// (local DNS, the target by number). The client
# namespace has a default route through the proxy's namespace (which does
# not forward) and a name server behind it (198.51.100.53, where nothing
# answers), so anything that would leave direct is on the wire: lib.sh's
# leak_check fails the test on any packet that is not to the proxy.
#
# Each row also has an expected outcome: "ok" (proxied, the echo came
# back) or "refused ERRNO". Add a row here with every row of the program.
set -u
. "$(dirname "$0")/lib.sh"

CENSUS=$B/tests/tools/leakcensus
if [ ! -x "$CENSUS" ] || [ ! -f "$SFY_LIB" ]; then
	fail setup "$CENSUS or $SFY_LIB not built (make all-tests)"
	finish
fi
if ! is_root; then
	skip leak-census "needs root and ip netns"
	finish
fi

# ROW EXPECTED: what each row must give under the library (both schemes).
ROWS=(
	"connect ok"
	"syscall-connect ok"
	"udp-sendto ok"
	"syscall-sendto ok"
	"udp-sendmsg ok"
	"syscall-sendmsg ok"
	"udp-sendmmsg ok"
	"syscall-sendmmsg ok"
)

# Every row of the program has an expectation here.
listed=$("$CENSUS" --list | sort)
known=$(printf '%s\n' "${ROWS[@]}" | awk '{print $1}' | sort)
[ "$listed" = "$known" ] && pass census-rows-complete ||
	fail census-rows-complete "program rows and script rows differ: $(diff <(echo "$listed") <(echo "$known") | tr '\n' ' ')"

netns_up || { fail setup "netns_up"; finish; }
ip -n "$NS_CLI" route add default via 192.0.2.1 &&
	ip -n "$NS_CLI" -6 route add default via 2001:db8:1::1 ||
	{ fail setup "default routes"; finish; }
mkdir -p "/etc/netns/$NS_CLI" || { fail setup "mkdir /etc/netns/$NS_CLI"; finish; }
trap 'sfy_rc=$?; rm -rf "/etc/netns/$NS_CLI"; (exit $sfy_rc); _sfy_cleanup' EXIT
printf 'nameserver 198.51.100.53\noptions timeout:1 attempts:1\n' \
	>"/etc/netns/$NS_CLI/resolv.conf"
printf '127.0.0.1\tlocalhost\n::1\tlocalhost\n' >"/etc/netns/$NS_CLI/hosts"

PX=$(free_port) TP=$(free_port) UP=$(free_port)
NETNS=$NS_TG LISTEN=198.51.100.2 start_tcp_echo echo "$TP" ||
	{ fail setup "tcp echo in $NS_TG"; finish; }
NETNS=$NS_TG LISTEN=198.51.100.2 start_udp_echo uecho "$UP" ||
	{ fail setup "udp echo in $NS_TG"; finish; }
NETNS=$NS_PX LISTEN=192.0.2.1 EXTERNAL=198.51.100.1 start_danted px "$PX" ||
	{ fail setup "danted in $NS_PX"; finish; }

census() {
	local scheme=$1 host=$2 r row want got
	for r in "${ROWS[@]}"; do
		read -r row want <<<"$r"
		got=$(timeout 30 ip netns exec "$NS_CLI" env "${SFY_PRELOAD_ENV[@]}" \
			SOCKSIFY_PROXY="$scheme://192.0.2.1:$PX" \
			"$CENSUS" "$row" "$host" "$TP" "$UP" 2>"$T/err-$scheme-$row")
		case "$want" in
		ok) [[ "$got" == "ok $row "* ]] ;;
		*) [ "$got" = "$want $row" ] || [[ "$got" == "refused $row ${want#refused-}" ]] ;;
		esac && pass "census-$scheme-$row ($got)" ||
			fail "census-$scheme-$row" "want $want, got '$got' $(head -c 300 "$T/err-$scheme-$row" | tr '\n' ' ')"
	done
}

census socks5h target.test
census socks5 198.51.100.2

finish
