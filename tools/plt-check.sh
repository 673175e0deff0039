#!/bin/sh
# plt-check.sh LIB: fails when LIB calls one of its own exported names
# through the PLT (a JUMP_SLOT relocation naming a function LIB defines
# and exports). DESIGN: no code inside libsocksify.so calls a name the
# library exports; such a call would land in whichever definition the
# dynamic linker chose (another preload, a second copy of ours), not here.
lib=$1
if ! nm -D --defined-only "$lib" >/dev/null 2>&1; then
	echo "$lib: not a shared library nm can read" >&2
	exit 1
fi
own=$( { nm -D --defined-only "$lib" | awk '$2 ~ /^[TWi]$/ {print "E", $3}'
	 readelf -rW "$lib" | awk '/JUMP_SLOT/ {print "C", $5}'; } |
	sed 's/@.*//' |
	awk '$1 == "E" {e[$2] = 1} $1 == "C" {c[$2] = 1}
	     END {for (n in c) if (n in e) printf "%s ", n}')
if [ -n "$own" ]; then
	echo "$lib calls its own exported names through the PLT: $own" >&2
	echo "(call the internal name or the real function table instead)" >&2
	exit 1
fi
