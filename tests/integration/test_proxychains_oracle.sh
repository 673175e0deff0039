#!/bin/bash
# socksify -f against proxychains-ng itself: every configuration that
# proxychains4 accepts (it reads its file when the library loads, and
# exits 1 on one it refuses), socksify -f accepts too, or refuses with one
# of the reasons argued in tools/proxychains_conf.h (a setting that would
# send traffic direct or elsewhere than proxychains sends it).
#
# The configurations: the one proxychains-ng ships (src/proxychains.conf,
# Debian's /etc/proxychains4.conf, the same text in 4.16 and 4.17, whose
# parser is the same too), that file with each of its commented examples
# turned on in turn, and hand-written files for the corners of its parser
# (sscanf fields, lines compared whole, fgets' 1023 bytes).
. "$(dirname "$0")/lib.sh"

unset SOCKSIFY_PROXY SOCKSIFY_NO_PROXY SOCKSIFY_LOG SOCKSIFY_DNS SOCKSIFY_TIMEOUT_MS \
	SOCKSIFY_FAKE_NET ALL_PROXY all_proxy NO_PROXY no_proxy LD_PRELOAD \
	PROXYCHAINS_CONF_FILE PROXYCHAINS_QUIET_MODE
if [ "${SANITIZE:-0}" = 1 ]; then
	export ASAN_OPTIONS=$SFY_ASAN_OPTIONS
fi
STOCK=/etc/proxychains4.conf
if ! command -v proxychains4 >/dev/null || [ ! -f "$STOCK" ]; then
	skip pc_oracle "proxychains4 is not installed (tools/install-deps.sh installs it)"
	finish
fi

# The refusals socksify argues for (tools/proxychains_conf.h).
ARGUED='is in a localnet range and|the previous dnat line|is not contiguous|IPv4 prefix /0|need more proxies|what is left of it in 16 bits'

n_same=0 n_argued=0 n_more=0
# judge NAME FILE: proxychains4's verdict against socksify's.
judge() {
	local name=$1 f=$2 pc sf out
	timeout 10 proxychains4 -q -f "$f" true >/dev/null 2>"$T/pc.err"
	pc=$?
	out=$(timeout 30 env "${SFY_RUN_ENV[@]}" "$B/socksify" -f "$f" true 2>&1)
	sf=$?
	echo "# $name: proxychains4 exit $pc, socksify exit $sf${out:+: ${out%%$'\n'*}}" | cut -c1-220
	if [ $pc = 0 ] && [ $sf = 0 ]; then
		n_same=$((n_same + 1))
		pass "$name"
	elif [ $pc = 0 ] && [ $sf = 2 ] && grep -Eq "^socksify: -f: $f:[0-9]+: .*($ARGUED)" <<<"$out"; then
		n_argued=$((n_argued + 1))
		pass "$name"
	elif [ $pc != 0 ] && [ $sf = 2 ]; then
		n_same=$((n_same + 1))
		pass "$name"
	elif [ $pc != 0 ] && [ $sf = 0 ]; then
		# more than proxychains takes (host names at any hop): allowed
		n_more=$((n_more + 1))
		pass "$name"
	else
		fail "$name" "proxychains4 exit $pc ($(head -c 300 "$T/pc.err")), socksify exit $sf: $out"
	fi
}

judge pc_oracle_stock "$STOCK"

# Each commented example of the stock file turned on: options in place,
# proxy entries (the "Examples:" block) at the end of the list.
i=0
while IFS= read -r line; do
	i=$((i + 1))
	body=$(sed -E 's/^#[[:space:]]*//' <<<"$line")
	case $body in
	dynamic_chain | round_robin_chain | random_chain | chain_len* | quiet_mode | \
	proxy_dns_old | proxy_dns_daemon* | remote_dns_subnet* | localnet* | dnat*)
		sed "${i}s/^#[[:space:]]*//" "$STOCK" >"$T/ex$i.conf" ;;
	socks4* | socks5* | http* | raw*)
		{ cat "$STOCK"; printf '%s\n' "$body"; } >"$T/ex$i.conf" ;;
	*) continue ;;
	esac
	judge "pc_oracle_example_${i}_$(tr -c 'a-z0-9_\n' '_' <<<"${body%% *}")" "$T/ex$i.conf"
done <"$STOCK"

# The corners of proxychains' parser, one file each ('~' between them in
# the here-document; \t is a tab, printf %b).
L='[ProxyList]
socks5 127.0.0.1 1080'
n=0
while IFS= read -r -d '~' conf; do
	n=$((n + 1))
	printf '%b' "$conf" >"$T/corner$n.conf"
	judge "pc_oracle_corner_$n" "$T/corner$n.conf"
done <<EOF
strict_chain # the safe one
$L
~dynamic_chain 1
$L
~proxy_dns # remote
$L
~Strict_Chain
frobnicate 7
[Settings]
$L
~[ProxyList] # here
$L
~tcp_read_time_out soon
tcp_connect_time_out 0
$L
~tcp_read_time_out -5
$L
~remote_dns_subnet ten
$L
~remote_dns_subnet 256
$L
~random_chain
chain_len = x
$L
~random_chain
chain_len = -1
$L
~round_robin_chain
chain_len 2
$L
~random_chain
chain_len = 3
$L
~proxy_dns_daemon 127.0.0.1:x
$L
~proxy_dns_daemon localhost:53
$L
~localnet 10.0.0.0:0/8
localnet 10.1.2.3/8
localnet ::1/128
localnet [fe80::]/10
$L
~localnet 10.0.0.0/8 # lan
$L
~localnet 10.0.0.0/0
$L
~localnet 0.0.0.0/0.0.0.0
$L
~localnet 10.0.0.0/255.0.255.0
$L
~localnet 192.168.1.0:80/255.255.255.0
$L
~dnat 1.1.1.1 1.1.1.2
$L
~dnat 1.1.1.1
$L
~dnat 1.1.1.1:443 1.1.1.2:8443
dnat 1.1.1.3:x 1.1.1.4:
$L
~dnat ::1 1.1.1.2
$L
~dnat 1.1.1.1 1.1.1.2
dnat :80 1.1.1.3
$L
~dnat 1.1.1.1 host.example
$L
~[ProxyList]
socks4 127.0.0.1 9050 user pass
socks5 127.0.0.1 1080 onlyuser
http 127.0.0.1 8080 onlyuser
socks5 127.0.0.1 1081 # tor
socks5 127.0.0.1 1082 u p extra words
~[ProxyList]
socks5 127.0.0.1 80x
http\t127.0.0.1\t3128x\tpw
~[ProxyList]
socks5 127.0.0.1 0
socks5 127.0.0.1 1
~[ProxyList]
socks5 127.0.0.1 0
~[ProxyList]
socks5 127.0.0.1 65536
~[ProxyList]
socks5://127.0.0.1:1080 # tor
socks4://127.0.0.1:9050
http://u:p@127.0.0.1:3128
sXXXX5://127.0.0.1:1/
~[ProxyList]
socks5://:pw@127.0.0.1:1080
~[ProxyList]
socks4://u:p@127.0.0.1:9050
~[ProxyList]
socks5://127.0.0.1
~[ProxyList]
HTTP 127.0.0.1 8080
~[ProxyList]
raw 127.0.0.1 8080
~[ProxyList]
socks5 ::1 1080
~strict_chain
proxy_dns
[ProxyList]
socks5 127.0.0.1 1080
socks5 proxy.example 1080
~[ProxyList]
socks5 proxy.example 1080
~[ProxyList]
socks5 127.0.0.1 1080
proxy_dns
~[proxylist]
socks5 127.0.0.1 1080
~\v\f  [ProxyList] \r
\t socks5 127.0.0.1 1080 \r
~
EOF

# A line longer than fgets' 1023 bytes: a comment whose tail proxychains
# reads as a (then ignored) line of its own.
{ printf '#%01500d\n' 0; printf '%s\n' "$L"; } >"$T/long.conf"
judge pc_oracle_long_comment "$T/long.conf"

# Long lists: proxychains reads up to MAX_CHAIN = 512 entries (src/core.h)
# and no further; socksify holds as many. Strict and dynamic chains use
# them all as hops of one connection; random takes chain_len of them.
# (socksify -f ... true: the program makes no connection, so no proxy
# needs to listen; the whole list reaches the library and is parsed.)
for n in 9 20 512 513; do
	for mode in strict_chain dynamic_chain 'random_chain
chain_len = 3'; do
		{ echo "$mode"; echo '[ProxyList]'
		  for ((p = 1; p <= n; p++)); do echo "socks5 127.0.$((p / 256)).$((p % 256)) $((1000 + p))"; done
		} >"$T/list$n.conf"
		judge "pc_oracle_list_${n}_${mode%%$'\n'*}" "$T/list$n.conf"
	done
done
# The library itself takes the 512 (a debug line per hop, the last one
# named), and says why it stops at 513.
out=$(SOCKSIFY_LOG=debug timeout 30 env "${SFY_RUN_ENV[@]}" "$B/socksify" -f "$T/list513.conf" true 2>&1)
if grep -q 'more than 512 entries' <<<"$out" && grep -q 'hop 512 of 512: socks5h\?://127.0.2.0:1512' <<<"$out"; then
	pass pc_oracle_list_513_read
else
	fail pc_oracle_list_513_read "$(head -c 600 <<<"$out")"
fi

echo "# proxychains4 and socksify agree: $n_same; refused here, argued: $n_argued; accepted here only: $n_more"
finish
