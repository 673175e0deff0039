# The table of make bench (sourced by run.sh): each row's values, the
# socksify / native ratio and whether socksify is ahead of every other
# shim, then the footnotes for the values that are missing.

is_num() { [[ $1 =~ ^[0-9]+(\.[0-9]+)?$ ]]; }

# best_other ROW: the best value among the other shims (not native).
best_other() {
	local r=$1 s v best=""
	for s in $SHIMS; do
		[ "$s" = native ] || [ "$s" = socksify ] && continue
		v=${R["$r|$s"]:-}
		is_num "$v" || continue
		if [ -z "$best" ] || awk -v a="$v" -v b="$best" -v h="${ROW_BETTER[$r]}" \
			'BEGIN { exit !(h == "high" ? a > b : a < b) }'; then
			best=$v
		fi
	done
	echo "$best"
}

table() {
	local r s v nat sfy other ahead ratio head sep notes=() i=0
	head="| measurement | unit |"
	sep="|---|---|"
	for s in $SHIMS; do
		head="$head $s |"
		sep="$sep---:|"
	done
	echo "$head socksify / native | socksify ahead of every other shim |"
	echo "$sep---:|:---:|"
	for r in "${ROWS[@]}"; do
		printf '| %s | %s |' "${ROW_TITLE[$r]}" "${ROW_UNIT[$r]}"
		for s in $SHIMS; do
			v=${R["$r|$s"]:-n/a}
			if is_num "$v"; then
				printf ' %s |' "$v"
			else
				i=$((i + 1))
				notes+=("[$i] $s, ${ROW_TITLE[$r]}: ${v#n/a: }")
				printf ' n/a [%d] |' "$i"
			fi
		done
		nat=${R["$r|native"]:-}
		sfy=${R["$r|socksify"]:-}
		ratio="–"
		if is_num "$nat" && is_num "$sfy" && [ "$nat" != 0 ]; then
			ratio=$(awk -v a="$sfy" -v b="$nat" 'BEGIN { printf "%.2f", a / b }')
		fi
		other=$(best_other "$r")
		ahead="–"
		if is_num "$sfy" && [ -n "$other" ]; then
			if awk -v a="$sfy" -v b="$other" -v h="${ROW_BETTER[$r]}" \
				'BEGIN { exit !(h == "high" ? a > b : a < b) }'; then
				ahead="yes"
			elif awk -v a="$sfy" -v b="$other" \
				'BEGIN { exit !(b > 0 && a / b > 0.95 && a / b < 1.05) }'; then
				# the runs vary by more than that (see the notes)
				ahead="no, within 5 %"
			else
				ahead="**no**"
			fi
		fi
		printf ' %s | %s |\n' "$ratio" "$ahead"
	done
	echo
	for v in "${notes[@]}"; do
		echo "$v  "
	done
}
