#!/usr/bin/env bash
#
# GSSAPI bulk throughput (issue 17), run by `make bench` when Dante's
# GSSAPI build is there (build/dante-gssapi, tools/build-dante-gssapi.sh),
# or alone: `B=build bash tests/bench/gss_rows.sh` (BENCH_ONLY=gss).
#
# The integration topology (three namespaces, lib.sh), a KDC of its own
# realm (krb5_realm.sh) and one sockd per protection level; curl in the
# client namespace downloads GSS_MIB MiB (default 64) from python's HTTP
# server on the target, GSS_ROUNDS times (default 3), through socksify at
# each level and through Dante's own client (libdsocks.so of the same
# build, gssapi.enctype of that level); the median of curl's
# speed_download in MiB/s. Prints a markdown table on stdout.
if [ -z "${BASH_VERSION:-}" ]; then
	exec bash "$0" "$@"
fi

. "$(dirname "$0")/../integration/lib.sh"
. "$(dirname "$0")/../integration/krb5_realm.sh"
unset SOCKSIFY_PROXY LD_PRELOAD ALL_PROXY all_proxy

MIB=${GSS_MIB:-64}
ROUNDS=${GSS_ROUNDS:-3}
say() { printf '%s\n' "$*" >&2; }
is_root || { say "gss bench: needs root"; exit 0; }
dante_gss_build || { say "gss bench: no dante with GSSAPI"; exit 0; }
netns_up || { say "gss bench: no namespaces"; exit 1; }
CLI=(ip netns exec "$NS_CLI")
TG=198.51.100.2
gss_lab_up || { say "gss bench: no realm and sockd"; exit 1; }
mkdir -p "$T/www"
head -c $((MIB * 1048576)) /dev/zero >"$T/www/bulk"
HP=$(free_port)
NETNS=$NS_TG LISTEN=$TG start_http web "$HP" "$T/www" || exit 1

# speed ENV...: MiB/s of one download (empty when it failed or was short).
speed() {
	local out
	out=$("${CLI[@]}" env "$@" curl -s --max-time 120 -o /dev/null \
		-w '%{size_download} %{speed_download}' "http://$TG:$HP/bulk" 2>/dev/null)
	[ "${out%% *}" = $((MIB * 1048576)) ] || return 0
	awk -v s="${out#* }" 'BEGIN { printf "%.1f\n", s / 1048576 }'
}
med() { sort -n | awk '{ a[NR] = $1 } END { if (NR) print a[int((NR + 1) / 2)] }'; }

# rows MEASURE TAG: a table row per level, the median over ROUNDS of
# MEASURE ENV... (one number, empty on failure) through socksify and
# through Dante's client.
rows() {
	local measure=$1 tag=$2 enc port s d sm dm i
	for enc in clear integrity confidentiality; do
		eval "port=\$SOCKD_PORT_$enc"
		s=() d=()
		for ((i = 0; i < ROUNDS; i++)); do
			s+=("$($measure "${SFY_PRELOAD_ENV[@]}" \
				SOCKSIFY_PROXY="socks5h://proxy.test:$port?auth=gssapi&level=$enc")")
			d+=("$($measure SOCKS_CONF="$T/dsocks_$enc.conf" \
				LD_PRELOAD="$DANTE_GSS/libdsocks.so")")
		done
		sm=$(printf '%s\n' "${s[@]}" | grep . | med)
		dm=$(printf '%s\n' "${d[@]}" | grep . | med)
		say "gss bench $tag $enc: socksify ${s[*]}; dante ${d[*]}"
		echo "| $enc | ${sm:-n/a} | ${dm:-n/a} |"
	done
}

echo "| GSSAPI level (curl, $MIB MiB through Dante's sockd) | socksify MiB/s | Dante's own client MiB/s |"
echo "|---|---|---|"
rows speed tcp

# UDP ASSOCIATE (RFC 1961 section 6 at integrity and confidentiality):
# GSS_UDP_N (default 2000) round trips of a 1 KiB datagram to a UDP echo on
# the target, one at a time, python through socksify and through Dante's
# client; the median over GSS_ROUNDS of round trips per second.
UN=${GSS_UDP_N:-2000}
UP=$(free_port)
NETNS=$NS_TG LISTEN=$TG start_udp_echo uecho "$UP" || exit 1
cat >"$T/udp_rate.py" <<'EOP'
import socket, sys, time
host, port, n = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.settimeout(2)
data = b"x" * 1024
ok, t0 = 0, time.time()
for _ in range(n):
    s.sendto(data, (host, port))
    try:
        ok += s.recvfrom(2048)[0] == data
    except socket.timeout:
        pass
dt = time.time() - t0
print("%.0f" % (n / dt) if ok == n else "")
EOP
rate() {
	"${CLI[@]}" env "$@" timeout 120 "$PY" "$T/udp_rate.py" "$TG" "$UP" "$UN" 2>/dev/null
}
echo
echo "| GSSAPI level (UDP, $UN round trips of 1 KiB through Dante's sockd) | socksify round trips/s | Dante's own client round trips/s |"
echo "|---|---|---|"
rows rate udp
