# Event-loop rows of make bench (issue 13), sourced by run.sh after the
# dante connection rows (they use its topology, shims and helpers):
#
#   evloop-curl  32 parallel fetches, `curl -Z --parallel-immediate --parallel-max 32`, of files
#                on the target through a relay that adds EVLOOP_DELAY_MS
#                (25) each way in front of dante: wall time. Native: curl's
#                own SOCKS client (-x socks5h://). --parallel-immediate:
#                without it curl opens one connection to a host first, to
#                see whether later transfers can share it, which makes the
#                32 fetches sequential for every client alike.
#   evloop-hold  how long one non-blocking connect() holds the thread
#                (median of 32, tests/tools/evloop): the shim's whole
#                handshake when it runs it inside connect(). Native: the
#                program's own non-blocking connect() to the proxy, which
#                is what curl's own client does.
#   evloop-rtt-block, evloop-rtt-nonblock
#                time to the first echo byte (tests/tools/ttfb: connect,
#                write one byte, read its echo; median of 9, the first
#                two before the pipelining probe's verdict) in round trips
#                of the same relay, blocking and non-blocking (poll for
#                POLLOUT, SO_ERROR, write, poll for POLLIN, read). Native:
#                the bench program's own lock-step SOCKS5 client, blocking
#                (as curl's and python's own clients: 3 round trips).
#
# The files (1000 bytes each) are served by python3 on the target.
# EVLOOP_EARLY (on): socksify's SOCKSIFY_EARLY_DATA in every row (the
# other shims ignore it), so that both settings can be measured.

EVLOOP_DELAY_MS=${EVLOOP_DELAY_MS:-25}
EVLOOP_TOOL=$B/tests/tools/evloop
TTFB_TOOL=$B/tests/tools/ttfb
EVLOOP_EARLY=${EVLOOP_EARLY:-on}

# rtts US: microseconds in round trips of the relay (empty stays empty).
rtts() {
	[ -n "$1" ] && [ "$1" -gt 0 ] 2>/dev/null &&
		awk -v u="$1" -v d="$EVLOOP_DELAY_MS" 'BEGIN { printf "%.2f", u / 1000 / (2 * d) }'
}

# wall_ms CMD...: CMD's wall time in ms, in the client's namespace (empty
# when it failed).
wall_ms() {
	local t0 t1
	t0=$(date +%s%N)
	timeout 60 "${CLI[@]}" "$@" 2>>"$T/bench.err" || return 0
	t1=$(date +%s%N)
	echo $(((t1 - t0) / 1000000))
}

evloop_rows() {
	local shim v i acc rp hp dir urls=() out
	row evloop-curl low "ms" "32 parallel fetches, curl -Z, ${EVLOOP_DELAY_MS} ms each way relay, dante (native: curl's own SOCKS client)"
	row evloop-hold low "ms" "time one non-blocking connect() holds the thread, ${EVLOOP_DELAY_MS} ms each way relay, dante (native: the program's own connect to the proxy)"
	row evloop-rtt-block low "RTT" "time to first echo byte, blocking, in round trips of the ${EVLOOP_DELAY_MS} ms each way relay, dante, SOCKSIFY_EARLY_DATA=$EVLOOP_EARLY (native: lock-step client)"
	row evloop-rtt-nonblock low "RTT" "time to first echo byte, non-blocking (poll), in round trips of the ${EVLOOP_DELAY_MS} ms each way relay, dante, SOCKSIFY_EARLY_DATA=$EVLOOP_EARLY"
	rp=$(free_port)
	hp=$(free_port)
	dir=$T/evloop-www
	mkdir -p "$dir"
	for i in $(seq 1 32); do
		head -c 1000 /dev/urandom >"$dir/f$i"
		urls+=("http://$TADDR:$hp/f$i" -o /dev/null)
	done
	# lib.sh's threaded server (a listen backlog of 256: python's default
	# of 5 drops SYNs of 32 parallel clients, a 1 s retransmission each)
	NETNS=$([ "$NETNS_OK" = 1 ] && echo "$NST") LISTEN=$TADDR \
		start_http evloop-www "$hp" "$dir" ||
		say "bench: the event-loop rows' HTTP server did not start"
	"${CLI[@]}" "$BB/bench_relay" "$rp" 127.0.0.1 "$DP" "$EVLOOP_DELAY_MS" \
		>"$T/relay-evloop.log" 2>&1 &
	_sfy_track $!
	sleep 0.5
	for shim in $SHIMS; do
		if ! have_shim "$shim" || ! works "$shim" dante "$DP" ||
			[ ! -x "$EVLOOP_TOOL" ]; then
			put evloop-curl "$shim" "" "${WORKS[$shim|dante]:-not available}"
			put evloop-hold "$shim" "" "${WORKS[$shim|dante]:-not available}"
			continue
		fi
		over_budget && { put evloop-curl "$shim" "" "not run (time budget)"; continue; }
		shim_prefix "$shim" "$rp"
		acc=
		for ((i = 0; i < ROUNDS; i++)); do
			if [ "$shim" = native ]; then
				v=$(wall_ms curl -sS --no-progress-meter -Z --parallel-immediate --parallel-max 32 \
					-x "socks5h://127.0.0.1:$rp" "${urls[@]}")
			else
				v=$(wall_ms env SOCKSIFY_EARLY_DATA="$EVLOOP_EARLY" "${PRE[@]}" curl -sS --no-progress-meter -Z --parallel-immediate --parallel-max 32 \
					"${urls[@]}")
			fi
			acc="$acc $v"
		done
		put evloop-curl "$shim" "$(printf '%s\n' $acc | med)" "failed"
		if [ "$shim" = native ]; then
			out=$(timeout 60 "${CLI[@]}" "$EVLOOP_TOOL" poll 32 127.0.0.1 "$rp" 2>>"$T/bench.err")
		else
			out=$(timeout 120 "${CLI[@]}" env SOCKSIFY_EARLY_DATA="$EVLOOP_EARLY" \
				"${PRE[@]}" "$EVLOOP_TOOL" poll 32 \
				"$TADDR" "$TP" 2>>"$T/bench.err")
		fi
		v=$(sed -n 's/.*connect_median_us=\([0-9]*\).*/\1/p' <<<"$out")
		put evloop-hold "$shim" "$([ -n "$v" ] && awk -v u="$v" 'BEGIN { printf "%.2f", u / 1000 }')" "failed"
		if [ ! -x "$TTFB_TOOL" ]; then
			put evloop-rtt-block "$shim" "" "tests/tools/ttfb missing"
			put evloop-rtt-nonblock "$shim" "" "tests/tools/ttfb missing"
		elif [ "$shim" = native ]; then
			v=$(timeout 60 "${CLI[@]}" "$BB/bench" ttfb --target "$TADDR:$TP" \
				--native "socks5://127.0.0.1:$rp" --count 9 2>>"$T/bench.err" |
				awk '$1 == "ttfb_us" { print $2 }')
			put evloop-rtt-block native "$(rtts "$v")" "failed"
			put evloop-rtt-nonblock native "" "the bench's client blocks"
		else
			for m in block nonblock; do
				out=$(timeout 120 "${CLI[@]}" env SOCKSIFY_EARLY_DATA="$EVLOOP_EARLY" \
					"${PRE[@]}" "$TTFB_TOOL" "$m" \
					"$TADDR" "$TP" 9 2>>"$T/bench.err")
				v=$(sed -n 's/.*ttfb_us=\([0-9]*\).*/\1/p' <<<"$out")
				put "evloop-rtt-$m" "$shim" "$(rtts "$v")" "failed"
			done
		fi
	done
}
