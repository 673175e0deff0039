#!/bin/bash
# GSSAPI authentication (RFC 1961) against a real Kerberos realm: a KDC of
# the test's own (krb5_realm.sh) in the proxy namespace, and Dante's server
# built from Debian's source with GSSAPI (tools/build-dante-gssapi.sh,
# cached under build/dante-gssapi; Debian's own danted has no GSSAPI).
#
# First the setup itself is proved: Dante's own client library (libdsocks,
# from the same build) negotiates GSSAPI with that sockd at each
# protection level, so a failure of ours below is ours.
#
# Proof of proxying: as in test_hop_types.sh, the client namespace reaches
# only the proxy; the target lives in $NS_TG.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/krb5_realm.sh"

unset SOCKSIFY_PROXY SOCKSIFY_NO_PROXY SOCKSIFY_LOG ALL_PROXY all_proxy \
	NO_PROXY no_proxy LD_PRELOAD http_proxy HTTP_PROXY https_proxy HTTPS_PROXY

if ! is_root; then
	skip gssapi "needs root for the network namespaces"
	finish
fi
for p in krb5kdc kdb5_util kadmin.local kinit; do
	if ! command -v "$p" >/dev/null 2>&1 &&
		! [ -x "/usr/sbin/$p" ]; then
		skip gssapi "$p missing (tools/install-deps.sh)"
		finish
	fi
done
if ! dante_gss_build; then
	fail dante-build "could not build dante with GSSAPI (tools/build-dante-gssapi.sh)"
	finish
fi

netns_up || { fail netns_up "could not build the namespaces"; finish; }
CLI=(ip netns exec "$NS_CLI")
TG=198.51.100.2

KDC_PORT=$(free_port)
krb5_realm_up "$KDC_PORT" || { fail krb5-realm "the KDC did not start"; finish; }
pass "krb5-realm (KDC of $KRB5_REALM on 192.0.2.1:$KDC_PORT)"

mkdir -p "$T/www"
head -c 100000 /dev/urandom >"$T/www/blob"
PAGE_SUM=$(sha256sum <"$T/www/blob" | cut -d' ' -f1)
HTTP_PORT=$(free_port)
NETNS=$NS_TG LISTEN=$TG start_http web "$HTTP_PORT" "$T/www" ||
	{ fail http "target did not start"; finish; }

if krb5_kinit alice; then
	pass "kinit alice (from her keytab)"
else
	fail kinit "$(cat "$KRB5_DIR/kinit.log")"
	finish
fi

# fetch_sum ENV... : curl of the blob in $NS_CLI, its sha256 on stdout.
fetch_sum() {
	"${CLI[@]}" env "$@" curl -sS --max-time 20 \
		"http://$TG:$HTTP_PORT/blob" 2>>"$T/curl.err" | sha256sum | cut -d' ' -f1
}

# Dante's own client through each protection level sockd offers.
for enc in clear integrity confidentiality; do
	port=$(free_port)
	start_sockd_gss "sockd_$enc" "$port" "$enc" ||
		{ fail "sockd-$enc" "did not start"; continue; }
	cat >"$T/dsocks_$enc.conf" <<EOF
route {
	from: 0.0.0.0/0 to: 0.0.0.0/0 via: proxy.test port = $port
	proxyprotocol: socks_v5
	method: gssapi
	gssapi.servicename: rcmd
	gssapi.enctype: $enc
}
EOF
	sum=$(fetch_sum SOCKS_CONF="$T/dsocks_$enc.conf" \
		LD_PRELOAD="$DANTE_GSS/libdsocks.so")
	if [ "$sum" = "$PAGE_SUM" ] &&
		grep -q "gssapi/$enc%alice@$KRB5_REALM" "$T/sockd_$enc.log"; then
		pass "dante-client-$enc (Dante's libdsocks through sockd, socksmethod gssapi, enctype $enc)"
	else
		fail "dante-client-$enc" "sum ${sum:-none}; $(tail -n 5 "$T/sockd_$enc.log" | tr '\n' ' ')"
	fi
	eval "SOCKD_PORT_$enc=$port"
done

finish
