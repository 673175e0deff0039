# shellcheck shell=bash
#
# A Kerberos realm of a test's own, and Dante's server built with GSSAPI,
# for the GSSAPI tests. Source after lib.sh and netns_up:
#
#	. "$(dirname "$0")/krb5_realm.sh"
#
# krb5_realm_up PORT: a KDC (MIT krb5kdc, in the foreground with -n) for
#   realm SFY.TEST in $NS_PX on 192.0.2.1:PORT, database, stash, keytabs,
#   config and logs all under $T/krb5; principals rcmd/proxy.test (the
#   proxy's service, keytab $T/krb5/sockd.keytab), alice (keytab
#   $T/krb5/alice.keytab) and bob (a password nobody knows: never gets a
#   ticket). Exports KRB5_CONFIG (the client's and the proxy's config) and
#   KRB5CCNAME ($T/krb5/cc, empty until krb5_kinit). proxy.test names
#   192.0.2.1 in $NS_CLI through /etc/netns/$NS_CLI/hosts (removed at exit).
# krb5_kinit PRINCIPAL: a ticket for alice in $KRB5CCNAME (from her keytab).
# gss_prereqs NAME: root, the KDC's tools and Dante's GSSAPI build, or a
#   SKIP/FAIL line and false.
# dante_gss_build: sets DANTE_GSS (the folder with sockd and libdsocks.so,
#   $ROOT/build/dante-gssapi), building it the first time
#   (tools/build-dante-gssapi.sh, cached; make deps builds it too).
# start_sockd_gss NAME PORT ENCTYPE: that sockd in $NS_PX on 192.0.2.1:PORT,
#   socksmethod gssapi, service rcmd with the realm's keytab, protection
#   ENCTYPE (clear, integrity, confidentiality or a list); log $T/NAME.log.

KRB5_REALM=SFY.TEST
KRB5_DIR=$T/krb5

# Removes the client namespace's hosts file at exit, then lib.sh's cleanup
# (which keeps the exit status).
_krb5_cleanup() {
	local rc=$?
	[ -n "${NS_CLI:-}" ] && rm -rf "/etc/netns/$NS_CLI"
	(exit "$rc")
	_sfy_cleanup
}
trap _krb5_cleanup EXIT

krb5_realm_up() {
	local port=$1 d=$KRB5_DIR pid i
	mkdir -p "$d/db" || return 1
	chmod 755 "$d"
	cat >"$d/krb5.conf" <<EOF
[libdefaults]
	default_realm = $KRB5_REALM
	dns_lookup_kdc = false
	dns_lookup_realm = false
	rdns = false
	dns_canonicalize_hostname = false
	udp_preference_limit = 1
[realms]
	$KRB5_REALM = {
		kdc = 192.0.2.1:$port
	}
[domain_realm]
	.test = $KRB5_REALM
	proxy.test = $KRB5_REALM
EOF
	cat >"$d/kdc.conf" <<EOF
[kdcdefaults]
	kdc_ports = $port
	kdc_tcp_ports = $port
[realms]
	$KRB5_REALM = {
		database_name = $d/db/principal
		key_stash_file = $d/db/stash
		acl_file = $d/db/kadm5.acl
		max_life = 1h
		max_renewable_life = 0
	}
[logging]
	kdc = FILE:$d/kdc.log
	default = FILE:$d/kdc.log
EOF
	: >"$d/db/kadm5.acl"
	export KRB5_CONFIG=$d/krb5.conf KRB5_KDC_PROFILE=$d/kdc.conf
	export KRB5CCNAME=FILE:$d/cc
	kdb5_util create -s -r "$KRB5_REALM" -P "sfy-master-$$" \
		>"$d/setup.log" 2>&1 || { cat "$d/setup.log" >&2; return 1; }
	{
		kadmin.local -q "addprinc -randkey rcmd/proxy.test" &&
		kadmin.local -q "addprinc -randkey alice" &&
		kadmin.local -q "addprinc -randkey bob" &&
		kadmin.local -q "ktadd -k $d/sockd.keytab rcmd/proxy.test" &&
		kadmin.local -q "ktadd -k $d/alice.keytab alice"
	} >>"$d/setup.log" 2>&1 || { cat "$d/setup.log" >&2; return 1; }
	# sockd drops to nobody for some steps: it must read its keytab.
	chmod 644 "$d/sockd.keytab" "$d/krb5.conf"
	mkdir -p "/etc/netns/$NS_CLI" || return 1
	cat >"/etc/netns/$NS_CLI/hosts" <<'EOF'
127.0.0.1	localhost
::1	localhost ip6-localhost ip6-loopback
192.0.2.1	proxy.test
EOF
	# The proxy resolves its own name too (sockd's service principal).
	echo "192.0.2.1	proxy.test" >>"/etc/netns/$NS_PX/hosts"
	ip netns exec "$NS_PX" krb5kdc -n -P "$d/kdc.pid" >>"$d/kdc.out" 2>&1 &
	pid=$!
	_sfy_track "$pid"
	NETNS=$NS_PX wait_port "$port" || {
		cat "$d/kdc.out" "$d/kdc.log" >&2
		return 1
	}
	# krb5kdc binds TCP before UDP; a short bounded wait for UDP as well.
	for ((i = 0; i < 40; i++)); do
		[ -n "$(ip netns exec "$NS_PX" ss -Hlun "sport = :$port")" ] && break
		sleep 0.05
	done
}

krb5_kinit() {
	local who=${1:-alice}
	ip netns exec "$NS_CLI" kinit -k -t "$KRB5_DIR/$who.keytab" "$who" \
		>>"$KRB5_DIR/kinit.log" 2>&1
}

# gss_prereqs NAME: what a GSSAPI test needs before anything starts:
# root (namespaces), MIT's KDC tools (else SKIP NAME) and Dante's GSSAPI
# build (else FAIL dante-build). True when all are there.
gss_prereqs() {
	local p
	if ! is_root; then
		skip "$1" "needs root for the network namespaces"
		return 1
	fi
	for p in krb5kdc kdb5_util kadmin.local kinit; do
		if ! command -v "$p" >/dev/null 2>&1 &&
			! [ -x "/usr/sbin/$p" ]; then
			skip "$1" "$p missing (tools/install-deps.sh)"
			return 1
		fi
	done
	if ! dante_gss_build; then
		fail dante-build "could not build dante with GSSAPI (tools/build-dante-gssapi.sh)"
		return 1
	fi
}

dante_gss_build() {
	# One build for every build dir (build/, build/san): it is not ours.
	DANTE_GSS=${DANTE_GSS:-$ROOT/build/dante-gssapi}
	[ -x "$DANTE_GSS/sockd" ] && return 0
	echo "building dante with GSSAPI into $DANTE_GSS (once)" >&2
	sh "$ROOT/tools/build-dante-gssapi.sh" "$DANTE_GSS"
}

start_sockd_gss() {
	local name=$1 port=$2 enc=$3 conf=$T/$name.conf pid
	cat >"$conf" <<EOF
logoutput: $T/$name.log
internal: 192.0.2.1 port = $port
external: 198.51.100.1
socksmethod: gssapi
clientmethod: none
user.privileged: root
user.unprivileged: nobody
timeout.negotiate: 30
client pass {
	from: 0/0 to: 0/0
	gssapi.keytab: $KRB5_DIR/sockd.keytab
	gssapi.servicename: rcmd
	gssapi.enctype: $enc
	log: error
}
socks pass {
	from: 0/0 to: 0/0
	command: connect bind udpassociate bindreply udpreply
	socksmethod: gssapi
	gssapi.keytab: $KRB5_DIR/sockd.keytab
	gssapi.servicename: rcmd
	gssapi.enctype: $enc
	log: connect disconnect error
}
EOF
	ip netns exec "$NS_PX" env KRB5_CONFIG="$KRB5_CONFIG" \
		KRB5_KTNAME="$KRB5_DIR/sockd.keytab" \
		"$DANTE_GSS/sockd" -f "$conf" -p "$T/$name.pid" -N 1 \
		>>"$T/$name.out" 2>&1 &
	pid=$!
	_sfy_track "$pid"
	eval "SFY_PID_$name=$pid"
	NETNS=$NS_PX wait_port "$port" || {
		cat "$T/$name.out" "$T/$name.log" >&2
		return 1
	}
}

# gss_lab_up: what test_gssapi.sh and tests/bench/gss_rows.sh both stand
# on, in namespaces already up (netns_up): the realm's KDC on a free port
# (krb5_realm_up), alice's ticket (krb5_kinit), and one GSSAPI sockd per
# protection level, its port in SOCKD_PORT_<level> and Dante's client
# configuration for it in $T/dsocks_<level>.conf. 0, or 1 after a line on
# stderr saying which step failed.
gss_lab_up() {
	local enc port
	krb5_realm_up "$(free_port)" || {
		echo "gss_lab_up: the KDC did not start" >&2
		return 1
	}
	krb5_kinit alice || {
		echo "gss_lab_up: kinit alice failed: $(cat "$KRB5_DIR/kinit.log")" >&2
		return 1
	}
	for enc in clear integrity confidentiality; do
		port=$(free_port)
		start_sockd_gss "sockd_$enc" "$port" "$enc" || {
			echo "gss_lab_up: sockd ($enc) did not start" >&2
			return 1
		}
		eval "SOCKD_PORT_$enc=$port"
		cat >"$T/dsocks_$enc.conf" <<EOC
route {
	from: 0.0.0.0/0 to: 0.0.0.0/0 via: proxy.test port = $port
	proxyprotocol: socks_v5
	method: gssapi
	gssapi.servicename: rcmd
	gssapi.enctype: $enc
}
EOC
	done
}
