#!/usr/bin/env bash
#
# Runs every unit test binary ($B/tests/test_*) and every integration script
# (tests/integration/test_*.sh), then prints a summary per file and, last,
# one line "N passed, N failed" (", N skipped" appended when any were).
# Exit status 1 when anything failed or crashed. A script that declares
# its number of cases (lib.sh's plan, a line "PLAN: N") and reports
# another number of PASS/FAIL/SKIP lines counts one failure more.
#
# Environment: B (build dir, default build), SANITIZE (1: sanitized build;
# scripts containing a line "# sanitize: no" are then not run, and say so).
# Usage: tests/run.sh [unit|integration] [NAME-FILTER]

# The Makefile runs us with sh; the rest needs bash.
if [ -z "${BASH_VERSION:-}" ]; then
	exec bash "$0" "$@"
fi
set -u

ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT" || exit 1
B=${B:-build}
SANITIZE=${SANITIZE:-0}
export B SANITIZE
WHAT=${1:-all}
FILTER=${2:-}
SCRIPT_TIMEOUT=${SCRIPT_TIMEOUT:-600}
UNIT_TIMEOUT=${UNIT_TIMEOUT:-300}

total_pass=0
total_fail=0
total_skip=0
summary=()

record() { # file pass fail skip note
	total_pass=$((total_pass + $2))
	total_fail=$((total_fail + $3))
	total_skip=$((total_skip + $4))
	summary+=("$(printf '%-40s %4d passed, %d failed, %d skipped%s' \
		"$1" "$2" "$3" "$4" "${5:+  ($5)}")")
}

run_unit() {
	local bin=$1 out rc line n f e note=
	out=$(timeout "$UNIT_TIMEOUT" "$bin" 2>&1)
	rc=$?
	printf '%s\n' "$out"
	# Check's closing line: "100%: Checks: 12, Failures: 0, Errors: 0"
	line=$(printf '%s\n' "$out" | grep -E 'Checks: [0-9]+, Failures: [0-9]+, Errors: [0-9]+' | tail -n 1)
	if [ -z "$line" ]; then
		record "${bin#"$ROOT"/}" 0 1 0 "no Check summary, exit $rc"
		return
	fi
	n=$(sed -E 's/.*Checks: ([0-9]+).*/\1/' <<<"$line")
	f=$(sed -E 's/.*Failures: ([0-9]+).*/\1/' <<<"$line")
	e=$(sed -E 's/.*Errors: ([0-9]+).*/\1/' <<<"$line")
	local bad=$((f + e))
	# A clean summary with a failing exit status: a crash or a sanitizer
	# report after the tests ran. Count it, never hide it.
	if [ "$rc" -ne 0 ] && [ "$bad" -eq 0 ]; then
		bad=1
		note="exit status $rc"
	fi
	record "$bin" $((n - f - e)) "$bad" 0 "$note"
}

run_integration() {
	local script=$1 out rc p f s n reported note=
	if [ "$SANITIZE" = 1 ] && grep -q '^# sanitize: no' "$script"; then
		echo "== $script: not run under SANITIZE=1 (# sanitize: no)"
		summary+=("$(printf '%-40s not run under SANITIZE=1' "$script")")
		return
	fi
	echo "== $script"
	out=$(timeout -k 10 "$SCRIPT_TIMEOUT" bash "$script" 2>&1 </dev/null)
	rc=$?
	printf '%s\n' "$out"
	p=$(grep -c '^PASS: ' <<<"$out")
	f=$(grep -c '^FAIL: ' <<<"$out")
	s=$(grep -c '^SKIP: ' <<<"$out")
	reported=$((p + f + s))
	if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then
		f=1
		if [ "$rc" -eq 124 ] || [ "$rc" -eq 137 ]; then
			note="timed out after ${SCRIPT_TIMEOUT}s"
		else
			note="exit status $rc"
		fi
	fi
	if [ "$p" -eq 0 ] && [ "$f" -eq 0 ] && [ "$s" -eq 0 ]; then
		f=1
		note="reported no case"
	fi
	# lib.sh's plan N: the count the script declared (its last PLAN
	# line); any other number of reports is a failure.
	n=$(grep -E '^PLAN: [0-9]+$' <<<"$out" | tail -n 1)
	n=${n#PLAN: }
	if [ -n "$n" ] && [ "$reported" -ne "$n" ]; then
		f=$((f + 1))
		note="${note:+$note; }$reported of $n planned cases reported"
	fi
	record "$script" "$p" "$f" "$s" "$note"
}

if [ "$WHAT" = all ] || [ "$WHAT" = unit ]; then
	found=0
	for bin in "$B"/tests/test_*; do
		[ -x "$bin" ] || continue
		case $bin in *"$FILTER"*) ;; *) continue ;; esac
		found=1
		echo "== $bin"
		run_unit "$bin"
	done
	if [ "$found" = 0 ] && [ -z "$FILTER" ]; then
		echo "no unit test binaries in $B/tests (run make first)"
		total_fail=$((total_fail + 1))
	fi
fi

if [ "$WHAT" = all ] || [ "$WHAT" = integration ]; then
	for script in tests/integration/test_*.sh; do
		[ -f "$script" ] || continue
		case $script in *"$FILTER"*) ;; *) continue ;; esac
		run_integration "$script"
	done
fi

echo
echo "== summary (B=$B SANITIZE=$SANITIZE)"
for line in "${summary[@]}"; do
	echo "$line"
done
if [ "$total_skip" -gt 0 ]; then
	echo "$total_pass passed, $total_fail failed, $total_skip skipped"
else
	echo "$total_pass passed, $total_fail failed"
fi
[ "$total_fail" -eq 0 ]
