#!/bin/sh
# Runs every libFuzzer target in build/fuzz for SECONDS each (default 20).
#
#   sh tests/fuzz/run.sh [SECONDS]
#
# Each target starts from its committed seed corpus, tests/fuzz/corpus/NAME,
# copied into a temporary work folder: inputs the fuzzer discovers stay
# there and the committed corpora only change when someone adds seeds on
# purpose. One line per target; on a crash, a sanitizer report or a broken
# invariant, the log and the crashing input are kept in
# build/fuzz/crashes/NAME/ and the script exits non-zero.
#
# FUZZ_KEEP=1: after a clean run, the inputs that add coverage are merged
# into the committed corpus (libFuzzer -merge=1 keeps only those), so a
# long run's progress can be committed. See tests/fuzz/README.md.
set -u

secs=${1:-20}
case $secs in
'' | *[!0-9]*)
	echo "usage: $0 [SECONDS]" >&2
	exit 2
	;;
esac

root=$(cd "$(dirname "$0")/../.." && pwd)
bindir=$root/build/fuzz
work=$(mktemp -d "${TMPDIR:-/tmp}/socksify-fuzz.XXXXXX") || exit 1
trap 'rm -rf "$work"' EXIT
trap 'exit 130' INT TERM

found=0
failed=0
for bin in "$bindir"/fuzz_*; do
	[ -f "$bin" ] && [ -x "$bin" ] || continue
	name=$(basename "$bin")
	found=$((found + 1))
	dir=$work/$name
	mkdir -p "$dir/corpus" "$dir/artifacts"
	if [ -d "$root/tests/fuzz/corpus/$name" ]; then
		cp "$root/tests/fuzz/corpus/$name"/. "$dir/corpus/" -R
	fi

	# UBSan reports abort the run instead of scrolling by; the outer
	# timeout bounds a run whose -max_total_time somehow is not honoured.
	UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
	ASAN_OPTIONS=abort_on_error=0:detect_leaks=1 \
		timeout $((secs + 60)) "$bin" -max_total_time="$secs" \
		-timeout=10 -rss_limit_mb=2048 \
		-artifact_prefix="$dir/artifacts/" "$dir/corpus" \
		>"$dir/log" 2>&1
	rc=$?
	runs=$(sed -n 's/^Done \([0-9]*\) runs in.*/\1/p' "$dir/log" | tail -n 1)
	inputs=$(ls "$dir/corpus" | wc -l)
	if [ "$rc" -eq 0 ] && [ -n "$runs" ]; then
		kept=
		if [ "${FUZZ_KEEP:-0}" = 1 ]; then
			mkdir -p "$root/tests/fuzz/corpus/$name"
			before=$(ls "$root/tests/fuzz/corpus/$name" | wc -l)
			"$bin" -merge=1 "$root/tests/fuzz/corpus/$name" "$dir/corpus" \
				>"$dir/merge.log" 2>&1
			after=$(ls "$root/tests/fuzz/corpus/$name" | wc -l)
			kept=", $((after - before)) new inputs kept in tests/fuzz/corpus/$name"
		fi
		echo "PASS: $name: $runs runs in ${secs}s, corpus $inputs inputs$kept"
		continue
	fi
	failed=$((failed + 1))
	keep=$bindir/crashes/$name
	mkdir -p "$keep"
	cp "$dir/log" "$keep/log"
	cp "$dir/artifacts"/. "$keep/" -R
	why=$(grep -m 1 -E 'ERROR: |invariant failed|runtime error' "$dir/log")
	echo "FAIL: $name: exit $rc: ${why:-see log}; log and input in build/fuzz/crashes/$name/"
done

if [ "$found" -eq 0 ]; then
	echo "FAIL: no fuzz targets in build/fuzz (build them with make fuzz)"
	exit 1
fi
echo "$((found - failed)) passed, $failed failed"
[ "$failed" -eq 0 ]
