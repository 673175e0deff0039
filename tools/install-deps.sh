#!/bin/sh
# Installs what building and testing socksify needs (Debian/Ubuntu).
# fzf is there as a real Go program (tests/integration/test_static_go.sh);
# proxychains4 judges the files -f reads (test_proxychains_oracle.sh);
# chromium (about 45 s to install) and firefox-esr for test_session.sh;
# vsftpd and lftp for test_bind.sh (active FTP through BIND); aria2
# (c-ares) for test_dns53.sh; liburing-dev for the census's io_uring rows
# (tests/tools/leakcensus-uring.c).
# The krb5 packages make the realm of tests/integration/test_gssapi.sh;
# libkrb5-dev and dpkg-dev (apt-get source) build Dante with GSSAPI
# (tools/build-dante-gssapi.sh, which make deps runs once); faketime puts
# the GSSAPI client's clock 20 min ahead for the clock-skew case.
# With the argument "bench": also the shims make bench compares socksify
# with (proxychains4, torsocks, dante-client; tests/bench/run.sh).
# As root: apt-get installs the missing packages. Otherwise: prints them.
# Quiet and fast when everything is already there.
set -u

PKGS="build-essential check pkg-config dante-server microsocks curl wget
netcat-openbsd dnsutils aria2 iproute2 python3 clang libclang-rt-14-dev procps
psmisc valgrind tcpdump fzf tinyproxy socat chromium firefox-esr proxychains4
krb5-kdc krb5-admin-server krb5-user libkrb5-dev dpkg-dev vsftpd lftp faketime
liburing-dev"
[ "${1:-}" = bench ] && PKGS="$PKGS torsocks dante-client"

# is_installed PKG: dpkg knows it as installed. Without dpkg we cannot
# tell, and say so once.
is_installed() {
	dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q 'install ok installed'
}

if ! command -v dpkg-query >/dev/null 2>&1; then
	echo "install-deps: not a Debian system; install by hand: $PKGS" | tr '\n' ' '
	echo
	exit 0
fi

missing=
for p in $PKGS; do
	is_installed "$p" || missing="$missing $p"
done
[ -z "$missing" ] && exit 0

if [ "$(id -u)" != 0 ]; then
	echo "install-deps: missing packages:$missing"
	echo "install-deps: as root run: apt-get install -y$missing"
	exit 0
fi

echo "install-deps: installing$missing"
apt-get update -qq || exit 1
# shellcheck disable=SC2086 # the list is meant to split
DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
	$missing || exit 1
# Debian starts danted as a service on install; the tests run their own.
if command -v systemctl >/dev/null 2>&1; then
	systemctl disable --now danted krb5-kdc krb5-admin-server vsftpd \
		>/dev/null 2>&1 || true
fi
exit 0
