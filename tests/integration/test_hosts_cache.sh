#!/usr/bin/env bash
#
# /etc/hosts in memory (preload/dns/hosts.c): a remote-DNS program's name
# lookups read the file once, then one stat() each, and still see an
# edit made between two lookups. Runs in a private mount namespace
# (unshare -m) with a temporary file bind-mounted over /etc/hosts, so the
# machine's own file is never touched. Root only.
set -u
. "$(dirname "$0")/lib.sh"

if [ "$(id -u)" != 0 ] || ! command -v unshare >/dev/null; then
	skip hosts-cache "needs root and unshare (a mount namespace)"
	finish
fi

HOSTS=$T/hosts
printf '127.0.0.1 localhost\n192.0.2.7 sfy-edit.test\n192.0.2.5 sfy-gone.test\n' >"$HOSTS"

cat >"$T/cases.py" <<'PYEOF'
import socket, sys, time

FAKE = ("198.18.", "198.19.")

def addr(name):
    return socket.getaddrinfo(name, 80, socket.AF_INET,
                              socket.SOCK_STREAM)[0][4][0]

def write(text):
    # The file system's timestamp tick is a few ms: step past it, so the
    # edit has a new mtime even where the size stays the same.
    time.sleep(0.05)
    with open("/etc/hosts", "w") as f:
        f.write(text)

def check(name, got, ok):
    print("PASS %s" % name if ok else "FAIL %s got %s" % (name, got))

mode = sys.argv[1]
if mode == "edit":
    base = "127.0.0.1 localhost\n"
    a = addr("sfy-edit.test")
    check("hosts-first-read", a, a == "192.0.2.7")
    # The same size, another address: only the mtime tells.
    write(base + "192.0.2.8 sfy-edit.test\n192.0.2.5 sfy-gone.test\n")
    a = addr("sfy-edit.test")
    check("hosts-edit-same-size-seen", a, a == "192.0.2.8")
    write(base + "192.0.2.8 sfy-edit.test\n")
    a = addr("sfy-gone.test")
    check("hosts-removed-name-goes-remote", a, a.startswith(FAKE))
    write(base + "192.0.2.8 sfy-edit.test\n192.0.2.9 sfy-added.test\n")
    a = addr("sfy-added.test")
    check("hosts-added-name-seen", a, a == "192.0.2.9")
elif mode == "many":
    for i in range(20):
        addr("sfy-remote-%d.test" % i)
    print("DONE")
PYEOF

# in_mnt CMD...: CMD in a new mount namespace with $HOSTS over /etc/hosts.
in_mnt() {
	timeout 60 unshare -m sh -c 'mount --bind "$0" /etc/hosts && exec "$@"' \
		"$HOSTS" "$@"
}

PX=socks5h://127.0.0.1:9 # remote DNS; no connection is made
out=$(in_mnt env "${SFY_PRELOAD_ENV[@]}" SOCKSIFY_PROXY="$PX" \
	python3 "$T/cases.py" edit 2>&1)
while read -r v n why; do
	case $v in
	PASS) pass "$n" ;;
	FAIL) fail "$n" "$why" ;;
	*) echo "$v $n $why" ;;
	esac
done <<<"$out"
grep -q hosts-added-name-seen <<<"$out" || fail hosts-edit "the case script stopped early: $out"

# 20 lookups of names not listed: /etc/hosts opened once, not 20 times.
if command -v strace >/dev/null; then
	printf '127.0.0.1 localhost\n' >"$HOSTS"
	in_mnt strace -f -e trace=open,openat -o "$T/trace" \
		env "${SFY_PRELOAD_ENV[@]}" SOCKSIFY_PROXY="$PX" \
		python3 "$T/cases.py" many >"$T/many.out" 2>&1
	n=$(grep -c '"/etc/hosts"' "$T/trace")
	if grep -q DONE "$T/many.out" && [ "$n" -le 2 ]; then
		pass "hosts-read-once ($n opens for 20 lookups)"
	else
		fail hosts-read-once "$n opens of /etc/hosts for 20 lookups: $(head -c 300 "$T/many.out")"
	fi
else
	skip hosts-read-once "strace not installed"
fi
finish
