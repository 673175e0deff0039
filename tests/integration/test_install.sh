#!/bin/bash
# make install / make uninstall into a DESTDIR: the installed command finds
# the installed library and works through a real proxy; pkg-config finds
# libsocks5 and a small program builds against the installed header and
# library; the man page renders; uninstall leaves no file behind.
. "$(dirname "$0")/lib.sh"

unset SOCKSIFY_PROXY SOCKSIFY_NO_PROXY SOCKSIFY_LOG ALL_PROXY all_proxy NO_PROXY \
	no_proxy LD_PRELOAD
if [ "${SANITIZE:-0}" = 1 ]; then
	export ASAN_OPTIONS=$SFY_ASAN_OPTIONS
fi
DEST=$T/dest
PREFIX=/usr/local
P=$DEST$PREFIX

# make, as a user would run it: not as a sub-make of `make check`.
mk() {
	timeout 300 env -u MAKEFLAGS -u MAKELEVEL -u MFLAGS make -s -C "$ROOT" \
		SANITIZE="${SANITIZE:-0}" PREFIX="$PREFIX" DESTDIR="$DEST" "$@"
}

if out=$(mk install 2>&1); then
	pass install_runs
else
	fail install_runs "$out"
	finish
fi
missing=
for f in bin/socksify lib/libsocksify.so lib/libsocks5.a include/socksify/socks5.h \
	lib/pkgconfig/libsocks5.pc share/man/man1/socksify.1; do
	[ -f "$P/$f" ] || missing="$missing $f"
done
if [ -z "$missing" ] && [ -x "$P/bin/socksify" ]; then
	pass install_files
else
	fail install_files "missing:$missing; have: $(cd "$DEST" && find . -type f)"
fi

# ---- the installed command, through a real proxy ---------------------------------
MS=$(free_port) && ECHO=$(free_port) || exit 1
EXTERNAL=127.0.0.3 start_microsocks ms "$MS" && start_tcp_echo echo "$ECHO" || {
	fail install_setup "could not start microsocks or the echo server"
	finish
}
out=$(timeout 30 env "${SFY_RUN_ENV[@]}" "$P/bin/socksify" -x "socks5://127.0.0.1:$MS" \
	sh -c 'e=${LD_PRELOAD##* }; readlink -f "$e"' 2>&1)
# LD_PRELOAD names the per-session link to the library (tools/session.c)
if [ "$out" = "$(realpath "$P/lib/libsocksify.so")" ]; then
	pass installed_finds_library
else
	fail installed_finds_library "LD_PRELOAD='$out'"
fi
: >"$T/echo.peers"
out=$(timeout 30 env "${SFY_RUN_ENV[@]}" "$P/bin/socksify" -x "socks5://127.0.0.1:$MS" -n '' \
	bash -c "exec 3<>/dev/tcp/127.0.0.1/$ECHO && echo ping >&3 && head -n 1 <&3" 2>&1)
if [ "$out" = ping ] && [ "$(awk '{ print $1 }' "$T/echo.peers" | sort -u)" = 127.0.0.3 ]; then
	pass installed_through_proxy
else
	fail installed_through_proxy "out='$out' peers: $(tr '\n' ' ' <"$T/echo.peers")"
fi
out=$(timeout 30 env "${SFY_RUN_ENV[@]}" "$P/bin/socksify" --check \
	-x "socks5://127.0.0.1:$MS" "127.0.0.1:$ECHO" 2>&1)
if grep -q '^  ok    connect ' <<<"$out"; then
	pass installed_check
else
	fail installed_check "$out"
fi

# ---- pkg-config and a program built against the installed library ---------------
flags=$(PKG_CONFIG_PATH=$P/lib/pkgconfig PKG_CONFIG_SYSROOT_DIR=$DEST \
	pkg-config --cflags --libs libsocks5 2>&1)
if [ $? = 0 ] && grep -q -- "-lsocks5" <<<"$flags" && grep -q -- "-L$P/lib" <<<"$flags" &&
   grep -q -- "-I$P/include" <<<"$flags"; then
	pass pkg_config
else
	fail pkg_config "$flags"
fi
cat >"$T/use.c" <<'EOF'
#include <stdio.h>
#include <socksify/socks5.h>

int main(void)
{
	struct socks5_proxy p;
	unsigned char buf[16];
	size_t len;
	const unsigned char m[] = { SOCKS5_METHOD_NOAUTH };

	if (socks5_url_parse("socks5h://u:pw@proxy.example:1081", &p, NULL, 0) != SOCKS5_OK ||
	    socks5_encode_greeting(buf, sizeof(buf), m, 1, &len) != SOCKS5_OK)
		return 1;
	printf("%s %u %zu %s\n", p.host, p.port, len, socks5_strerror(SOCKS5_E_TIMEOUT));
	return 0;
}
EOF
san=()
[ "${SANITIZE:-0}" = 1 ] && san=(-fsanitize=address,undefined)
# shellcheck disable=SC2086  # pkg-config's flags are meant to split
if out=$(gcc "${san[@]}" -o "$T/use" "$T/use.c" $flags 2>&1) &&
   out=$("$T/use" 2>&1) && grep -qE '^proxy\.example 1081 3 .+' <<<"$out"; then
	pass program_builds_against_install
else
	fail program_builds_against_install "$out"
fi
# The header alone compiles cleanly with the project's warnings.
if out=$(gcc -std=gnu11 -Wall -Wextra -Werror -Wstrict-prototypes -fsyntax-only \
	-I"$P/include" -x c - <<<'#include <socksify/socks5.h>' 2>&1); then
	pass header_self_contained
else
	fail header_self_contained "$out"
fi

# ---- the man page renders without warnings --------------------------------------
if out=$(groff -man -Tutf8 -ww -z "$P/share/man/man1/socksify.1" 2>&1) && [ -z "$out" ] &&
   man -l "$P/share/man/man1/socksify.1" 2>/dev/null | grep -q 'EXIT STATUS'; then
	pass man_page_renders
else
	fail man_page_renders "${out:-man -l shows no EXIT STATUS section}"
fi

# ---- uninstall: nothing left ---------------------------------------------------------
if out=$(mk uninstall 2>&1); then
	left=$(find "$DEST" -type f -o -type l)
	if [ -z "$left" ] && [ ! -d "$P/include/socksify" ]; then
		pass uninstall_leaves_nothing
	else
		fail uninstall_leaves_nothing "left: $left"
	fi
else
	fail uninstall_leaves_nothing "$out"
fi

finish
