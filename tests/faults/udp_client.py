#!/usr/bin/env python3
"""The program under test in the UDP fault cases (python3 sockets, run
with libsocksify.so preloaded).

    udp_client.py HOST PORT BUFSIZE

Sends "ping" to HOST:PORT (the preload makes the association with the
misbehaving peer, whose relay then answers with bad datagrams followed by
one good one), then:
  1. receives one datagram into BUFSIZE bytes: which one came, from where,
     and whether the payload is intact (a good one says "good", or is a
     pattern of bytes i % 251 for the oversize cases);
  2. waits 0.5 s more: nothing else may come (a bad datagram surfacing
     late would show here);
  3. sends "again" and receives its echo through the same association:
     the program goes on working.
Counts /proc/self/fd before the socket and after closing it.

Prints one line:
    recv=good from=127.0.0.1:9 late=none next=OK fds=stable
"""
import errno
import os
import socket
import sys


def nfds():
    return len(os.listdir("/proc/self/fd"))


def ename(e):
    return errno.errorcode.get(e.errno, str(e.errno)) if e.errno else type(e).__name__


def describe(data):
    if data == b"good":
        return "good"
    if len(data) > 8 and all(b == i % 251 for i, b in enumerate(data)):
        return "pattern:%d" % len(data)
    return "other:%s" % data[:16].hex()


def main():
    host, port, bufsize = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    n0 = nfds()
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    out = []
    try:
        s.settimeout(5)
        s.sendto(b"ping", (host, port))
        data, addr = s.recvfrom(bufsize)
        out.append("recv=%s from=%s:%d" % (describe(data), addr[0], addr[1]))
    except socket.timeout:
        out.append("recv=timeout from=-")
    except OSError as e:
        out.append("recv=ERR:%s from=-" % ename(e))
    try:
        s.settimeout(0.5)
        data, addr = s.recvfrom(65536)
        out.append("late=%s" % describe(data))
    except socket.timeout:
        out.append("late=none")
    except OSError as e:
        out.append("late=ERR:%s" % ename(e))
    try:
        s.settimeout(5)
        s.sendto(b"again", (host, port))
        data, addr = s.recvfrom(65536)
        out.append("next=OK" if data == b"again" else "next=BAD:" + describe(data))
    except socket.timeout:
        out.append("next=timeout")
    except OSError as e:
        out.append("next=ERR:%s" % ename(e))
    s.close()
    n1 = nfds()
    out.append("fds=%s" % ("stable" if n1 == n0 else "%d->%d" % (n0, n1)))
    print(" ".join(out))


if __name__ == "__main__":
    main()
