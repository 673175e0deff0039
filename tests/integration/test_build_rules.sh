#!/bin/bash
# The build's own rules bite (issue 12): tools/plt-check.sh passes the
# library as built and refuses a library that calls one of its own
# exported names through the PLT (make runs it on every libsocksify.so);
# libsocks5.a defines no global name without the socks5_ prefix.
. "$(dirname "$0")/lib.sh"

LIB=$B/libsocksify.so
if out=$(sh "$ROOT/tools/plt-check.sh" "$LIB" 2>&1); then
	pass plt_check_library_as_built
else
	fail plt_check_library_as_built "$out"
fi

# A library that exports close() and calls it from inside, as ours once
# did: the PLT check must name it.
cat >"$T/self.c" <<'C'
#include <unistd.h>
int close(int fd) { return fd < 0 ? -1 : 0; }
int closer(int fd);
int closer(int fd) { return close(fd) + 1; }
C
if ! cc -shared -fPIC -O2 -o "$T/self.so" "$T/self.c" 2>"$T/cc.err"; then
	fail plt_check_refuses_self_call "cannot build the sample: $(cat "$T/cc.err")"
elif out=$(sh "$ROOT/tools/plt-check.sh" "$T/self.so" 2>&1); then
	fail plt_check_refuses_self_call "accepted a library calling close through its PLT"
elif grep -q 'close' <<<"$out"; then
	pass plt_check_refuses_self_call
else
	fail plt_check_refuses_self_call "refused without naming close: $out"
fi

# Socket questions the library asks for itself (a socket's type and
# family, SO_ERROR in the client core) go through the real-function table,
# never libc's getsockopt by name: getsockopt may be hooked (event loops
# ask it for SO_ERROR), and a hooked name called from inside is a PLT
# self-call.
if readelf -rW "$LIB" | awk '/JUMP_SLOT|GLOB_DAT/ {print $5}' | grep -q '^getsockopt@'; then
	fail getsockopt_only_through_real_table "$(readelf -rW "$LIB" | grep getsockopt)"
else
	pass getsockopt_only_through_real_table
fi

# libsocks5.a: every global symbol it defines is socks5_-prefixed.
syms=$(nm -g --defined-only "$B/libsocks5.a" 2>/dev/null)
bad=$(awk 'NF == 3 && $3 !~ /^socks5_/ {print $3}' <<<"$syms" | sort -u | tr '\n' ' ')
if [ -z "$bad" ] && grep -q ' socks5_' <<<"$syms"; then
	pass libsocks5_globals_prefixed
else
	fail libsocks5_globals_prefixed "unprefixed: $bad"
fi
finish
