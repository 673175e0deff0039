#!/bin/sh
# Builds Dante's server (sockd) and client library (libsocks, for the
# socksify command of Dante) with GSSAPI from Debian's own source of the
# dante package, for the GSSAPI tests (tests/integration/test_gssapi.sh).
#
# Why: Debian's dante-server binary is configured --without-gssapi and
# refuses "socksmethod: gssapi"; the same source builds with it.
#
#   tools/build-dante-gssapi.sh OUTDIR
#
# Result: OUTDIR/sockd (the server) and OUTDIR/socksify-dante (Dante's
# client preload wrapper, its libdsocks.so beside it). Cached: when
# OUTDIR/sockd exists nothing is done. Needs root once to add a deb-src
# entry for Debian's archive (apt-get source needs it); the packages it
# builds with are in tools/install-deps.sh. Takes about two minutes on two
# cores; output in OUTDIR/build.log.
set -u
out=${1:?usage: build-dante-gssapi.sh OUTDIR}
mkdir -p "$out" || exit 1
out=$(cd "$out" && pwd)
[ -x "$out/sockd" ] && [ -f "$out/libdsocks.so" ] && exit 0

log=$out/build.log
: >"$log"
src=$out/src
rm -rf "$src"
mkdir -p "$src" || exit 1

# apt-get source needs a deb-src entry; add one for the suite the system
# already uses (deb822 form), only if none exists.
if ! grep -rqs '^Types:.*deb-src\|^deb-src ' /etc/apt/sources.list \
	/etc/apt/sources.list.d/ 2>/dev/null; then
	if [ "$(id -u)" != 0 ]; then
		echo "build-dante-gssapi: no deb-src entry and not root" >&2
		exit 1
	fi
	suite=$(. /etc/os-release 2>/dev/null && echo "${VERSION_CODENAME:-bookworm}")
	cat >/etc/apt/sources.list.d/socksify-src.sources <<EOF
Types: deb-src
URIs: http://deb.debian.org/debian
Suites: $suite
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
EOF
	apt-get -o DPkg::Lock::Timeout=300 update -qq >>"$log" 2>&1 || {
		echo "build-dante-gssapi: apt-get update failed (see $log)" >&2
		exit 1
	}
fi

(cd "$src" && apt-get source dante) >>"$log" 2>&1 || {
	echo "build-dante-gssapi: apt-get source dante failed (see $log)" >&2
	exit 1
}
dir=$(find "$src" -maxdepth 1 -type d -name 'dante-*' | head -n 1)
[ -n "$dir" ] || { echo "build-dante-gssapi: no source tree" >&2; exit 1; }

jobs=$(nproc 2>/dev/null || echo 2)
# The Debian patches touch configure.ac/Makefile.am: the autotools must
# not run again (configure is already generated in the tarball).
(cd "$dir" &&
	./configure --with-gssapi --without-upnp --without-pam \
		--without-libwrap --without-bsdauth &&
	make -j"$jobs" ACLOCAL=true AUTOMAKE=true AUTOCONF=true \
		AUTOHEADER=true) >>"$log" 2>&1 || {
	echo "build-dante-gssapi: build failed (see $log)" >&2
	exit 1
}
grep -q 'define HAVE_GSSAPI 1' "$dir/include/autoconf.h" 2>/dev/null || {
	echo "build-dante-gssapi: configured without GSSAPI (libkrb5-dev?)" >&2
	exit 1
}
cp "$dir/sockd/sockd" "$out/sockd.new" &&
	cp -L "$dir/dlib/.libs/libdsocks.so" "$out/libdsocks.so" || exit 1
mv "$out/sockd.new" "$out/sockd"
rm -rf "$src"
exit 0
