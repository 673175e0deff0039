# Sourced by run.sh (hook_rows) and hookcost.sh: the instructions of one
# run of hookcost under valgrind's callgrind.
# hook_instr HOOKCOST OUTFILE MODE N [ENV...]: prints the total, or fails.
hook_instr() {
	local hc=$1 f=$2 mode=$3 n=$4
	shift 4
	rm -f "$f"
	timeout 120 env "$@" valgrind --tool=callgrind --callgrind-out-file="$f" \
		"$hc" "$mode" "$n" >/dev/null 2>&1 || return 1
	awk '/^(summary|totals):/ { print $2; exit }' "$f"
}
