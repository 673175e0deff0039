#!/usr/bin/env python3
"""The program under test in the fault cases: plain python3 sockets, run
with libsocksify.so preloaded.

    client.py HOST PORT [echo|read]

Makes two connections to HOST:PORT, one after the other:
  1. the one the misbehaving peer answers: reports how connect() ended
     (errno name and milliseconds), and if it succeeded what the data path
     did (echo: send then read back; read: read first, for a peer that
     closes right after its reply);
  2. the next one, which the peer answers properly and relays: it must
     work, proving the program is not left broken.
It counts /proc/self/fd before the first socket and after closing it.

Prints one line:
    first=ERR:ECONNREFUSED ms=12 data=- fds=stable next=OK
"""
import errno
import os
import socket
import sys
import time


def nfds():
    return len(os.listdir("/proc/self/fd"))


def ename(e):
    if isinstance(e, OSError) and e.errno:
        # ENOTSUP and EOPNOTSUPP are one number on Linux; DESIGN says the latter
        if e.errno == errno.EOPNOTSUPP:
            return "EOPNOTSUPP"
        return errno.errorcode.get(e.errno, str(e.errno))
    return type(e).__name__


def data_path(s, mode):
    s.settimeout(5)
    payload = b"fault-test-payload"
    try:
        if mode == "read":
            got = s.recv(100)
            return "eof" if got == b"" else "data:" + got.decode("ascii", "replace")
        s.sendall(payload)
        got = b""
        while len(got) < len(payload):
            chunk = s.recv(100)
            if not chunk:
                return "eof"
            got += chunk
        return "echo" if got == payload else "bad"
    except socket.timeout:
        return "timeout"
    except OSError as e:
        return "err:" + ename(e)


def main():
    host, port = sys.argv[1], int(sys.argv[2])
    mode = sys.argv[3] if len(sys.argv) > 3 else "echo"
    fam = socket.AF_INET6 if ":" in host else socket.AF_INET

    n0 = nfds()
    s = socket.socket(fam, socket.SOCK_STREAM)
    t0 = time.monotonic()
    data = "-"
    try:
        s.connect((host, port))
        first = "OK"
    except OSError as e:
        first = "ERR:" + ename(e)
    ms = int((time.monotonic() - t0) * 1000)
    if first == "OK":
        data = data_path(s, mode)
    s.close()
    n1 = nfds()
    fds = "stable" if n1 == n0 else "%d->%d" % (n0, n1)

    s = socket.socket(fam, socket.SOCK_STREAM)
    try:
        s.connect((host, port))
        nxt = "OK" if data_path(s, "echo") == "echo" else "BADDATA"
    except OSError as e:
        nxt = "ERR:" + ename(e)
    s.close()
    print("first=%s ms=%d data=%s fds=%s next=%s" % (first, ms, data, fds, nxt))


if __name__ == "__main__":
    main()
