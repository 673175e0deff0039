# HTTP CONNECT row of make bench (issue 15), sourced by run.sh after the
# event-loop rows (it uses their wall_ms and run.sh's topology and helpers):
#
#   http-conn  connections/s through tinyproxy (HTTP CONNECT): one curl
#              fetches HTTP_N pages from bench_target one after the other,
#              each on a new connection (HTTP/1.0, the target closes), so
#              each page is a CONNECT through the proxy. The rate is
#              (HTTP_N - 20) / (t(HTTP_N) - t(20)): the start of curl and of
#              the shim's command cancels out. Native: curl's own HTTP proxy
#              client (-x http:// --proxytunnel); socksify: -x http://;
#              proxychains4: an http entry. torsocks and dante-client: SOCKS
#              only here.

HTTP_N=${HTTP_N:-$([ "$QUICK" = 1 ] && echo 120 || echo 420)}

# http_cmd SHIM PORT N: HCMD becomes the command that fetches N pages.
http_cmd() {
	local urls="http://$TADDR:$TP/[1-$3]"
	case $1 in
	native) HCMD=(curl -sS -p -x "http://127.0.0.1:$2" "$urls") ;;
	socksify) HCMD=("$B/socksify" -x "http://127.0.0.1:$2" "${NOPROXY[@]}" -- curl -sS "$urls") ;;
	proxychains4)
		printf 'strict_chain\nquiet_mode\n[ProxyList]\nhttp 127.0.0.1 %s\n' "$2" >"$T/pc-http.conf"
		HCMD=(proxychains4 -q -f "$T/pc-http.conf" curl -sS "$urls") ;;
	*) HCMD=() ;;
	esac
}

# http_rate SHIM PORT: connections/s of one run, empty when it failed.
http_rate() {
	local t1 t2
	http_cmd "$1" "$2" 20
	t1=$(wall_ms "${HCMD[@]}" -o /dev/null)
	http_cmd "$1" "$2" "$HTTP_N"
	t2=$(wall_ms "${HCMD[@]}" -o /dev/null)
	[ -n "$t1" ] && [ -n "$t2" ] && [ "$t2" -gt "$t1" ] || return 0
	awk -v n=$((HTTP_N - 20)) -v ms=$((t2 - t1)) 'BEGIN { printf "%.0f", n * 1000 / ms }'
}

http_rows() {
	local shim i v hp before after
	declare -A acc=() hworks=()
	row http-conn high "conn/s" "connections/s through tinyproxy (HTTP CONNECT), curl fetching one page per connection (native: curl -x http:// --proxytunnel)"
	hp=$(free_port)
	# tinyproxy fsyncs every log line: on a tmpfs, so that the row
	# measures the proxy clients, not the disk (about 10 ms a connection)
	HTTP_LOG=$T/tpbench.log
	[ -d /dev/shm ] && [ -w /dev/shm ] && HTTP_LOG=/dev/shm/sfy-bench-tp-$$.log
	NETNS=$([ "$NETNS_OK" = 1 ] && echo "$NSC") LISTEN=127.0.0.1 MAXCLIENTS=200 \
		TPLOG=$HTTP_LOG start_tinyproxy tpbench "$hp" ||
		say "bench: tinyproxy did not start"
	for shim in $SHIMS; do
		http_cmd "$shim" "$hp" 4
		if [ ${#HCMD[@]} = 0 ] || ! have_shim "$shim"; then
			put http-conn "$shim" "" "SOCKS only"
			continue
		fi
		# it must really go through the proxy: four CONNECTs logged
		before=$(grep -c 'Established connection' "$HTTP_LOG")
		"${CLI[@]}" timeout 30 "${HCMD[@]}" -o /dev/null 2>>"$T/bench.err"
		sleep 0.2
		after=$(grep -c 'Established connection' "$HTTP_LOG")
		if [ $((after - before)) -ge 4 ]; then
			hworks[$shim]=yes
		else
			put http-conn "$shim" "" "did not go through tinyproxy ($((after - before)) of 4 logged)"
		fi
	done
	for ((i = 0; i < ROUNDS; i++)); do
		for shim in $(rotated "$i"); do
			[ "${hworks[$shim]:-}" = yes ] || continue
			over_budget && break 2
			v=$(http_rate "$shim" "$hp")
			acc[$shim]="${acc[$shim]:-} $v"
		done
	done
	for shim in $SHIMS; do
		[ "${hworks[$shim]:-}" = yes ] || continue
		put http-conn "$shim" "$(printf '%s\n' ${acc[$shim]:-} | med)" "failed or not run (time budget)"
	done
	rm -f "/dev/shm/sfy-bench-tp-$$.log"
}
