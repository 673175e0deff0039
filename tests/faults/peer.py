#!/usr/bin/env python3
"""A scripted, misbehaving SOCKS5 peer for the fault tests.

    peer.py [--listen ADDR] [--port-file FILE] [--log FILE] SCRIPT [SCRIPT...]

Listens on ADDR (default 127.0.0.1), on a port the kernel picks, and writes
the port to FILE once it listens. Connection N (in accept order, from 0)
plays SCRIPT N; the last SCRIPT plays for every later connection. Each
connection runs in its own thread, so a stalled one does not hold up the
next. The peer exits after 120 s whatever happens (tests also stop it by
its pid).

A SCRIPT is a list of steps separated by ';':

    expect greeting    read a whole greeting (VER NMETHODS METHODS)
    expect auth        read a whole RFC 1929 request (VER ULEN UNAME PLEN PASSWD)
    expect request     read a whole request (VER CMD RSV ATYP DST.ADDR DST.PORT)
    send HEX           send bytes: "05 00", "0500", "XX*N" for N copies, and
                       "pattern:N" for N bytes counting i % 251
    sendslow MS HEX    the same bytes, one send() per byte, MS ms apart
    sleep MS           wait
    close              orderly close (FIN)
    reset              SO_LINGER {on, 0} then close: the client gets a RST
    stall [MS]         keep the connection open, discarding what arrives,
                       until the client closes it or MS ms (default 60000)
    relay [SRC]        connect to the destination of the last request (from
                       source address SRC when given) and copy both ways
                       until either side closes (at most 60 s)
    udp-open           a UDP relay socket on ADDR; "@udp" in a later send
                       stands for its BND.ADDR/BND.PORT (ATYP 01 or 04)
    udp-expect         wait (at most 10 s) for one datagram on it; later
                       udp sends answer its source
    udp-send HEX       send a datagram from the relay socket to that source
    udp-send-foreign HEX   the same from another socket (another port)
    udp-echo [N]       answer each of N datagrams (default 1) as a relay
                       would: the same SOCKS header, the payload echoed

Every step is logged to the log file as "conn N: ...", so a test can see
what the client sent (the methods it offered, the request it made) and
what the peer did. A script that ends without close/reset/stall/relay
closes the connection.
"""
import os
import select
import socket
import struct
import sys
import threading
import time

LIFETIME = 120
IO_TIMEOUT = 10

lock = threading.Lock()
log_path = None


def log(conn, msg):
    line = "conn %d: %s\n" % (conn, msg)
    with lock:
        if log_path:
            with open(log_path, "a") as f:
                f.write(line)
        else:
            sys.stderr.write(line)


def parse_hex(text, udp_bnd=None):
    """'05 00 61*3' -> b'\\x05\\x00aaa'; '@udp' -> the relay's address;
    'pattern:N' -> N bytes counting i % 251."""
    out = bytearray()
    for tok in text.split():
        if tok == "@udp":
            if udp_bnd is None:
                raise ValueError("@udp before udp-open")
            out += udp_bnd
            continue
        if tok.startswith("pattern:"):
            out += bytes(i % 251 for i in range(int(tok[8:])))
            continue
        count = 1
        if "*" in tok:
            tok, n = tok.split("*", 1)
            count = int(n)
        if len(tok) % 2:
            raise ValueError("odd hex: " + tok)
        out += bytes.fromhex(tok) * count
    return bytes(out)


def recv_exact(sock, n):
    buf = b""
    deadline = time.monotonic() + IO_TIMEOUT
    while len(buf) < n:
        left = deadline - time.monotonic()
        if left <= 0:
            raise TimeoutError("timed out after %d of %d bytes" % (len(buf), n))
        sock.settimeout(left)
        chunk = sock.recv(n - len(buf))
        if not chunk:
            raise EOFError("client closed after %d of %d bytes" % (len(buf), n))
        buf += chunk
    return buf


def expect(sock, what):
    """Reads one message framed by its own length; returns (bytes, dst)."""
    dst = None
    if what == "greeting":
        head = recv_exact(sock, 2)
        msg = head + recv_exact(sock, head[1])
    elif what == "auth":
        head = recv_exact(sock, 2)
        user = recv_exact(sock, head[1])
        plen = recv_exact(sock, 1)
        msg = head + user + plen + recv_exact(sock, plen[0])
    elif what == "request":
        head = recv_exact(sock, 4)
        atyp = head[3]
        if atyp == 1:
            addr = recv_exact(sock, 4)
            host = socket.inet_ntop(socket.AF_INET, addr)
        elif atyp == 4:
            addr = recv_exact(sock, 16)
            host = socket.inet_ntop(socket.AF_INET6, addr)
        elif atyp == 3:
            ln = recv_exact(sock, 1)
            addr = ln + recv_exact(sock, ln[0])
            host = addr[1:].decode("ascii", "replace")
        else:
            raise ValueError("request with ATYP %d" % atyp)
        port = recv_exact(sock, 2)
        msg = head + addr + port
        dst = (head[1], host, struct.unpack("!H", port)[0])
    else:
        raise ValueError("expect what? " + what)
    return msg, dst


def pump(a, b, seconds):
    """Copies both ways until one side closes or the time is up."""
    deadline = time.monotonic() + seconds
    socks = [a, b]
    while time.monotonic() < deadline:
        r, _, _ = select.select(socks, [], [], 0.5)
        for s in r:
            other = b if s is a else a
            try:
                data = s.recv(65536)
            except OSError:
                data = b""
            if not data:
                return
            other.sendall(data)


def bnd_of(sock):
    host, port = sock.getsockname()[:2]
    if ":" in host:
        return b"\x04" + socket.inet_pton(socket.AF_INET6, host) + struct.pack("!H", port)
    return b"\x01" + socket.inet_aton(host) + struct.pack("!H", port)


class Conn:
    def __init__(self, n, sock, listen):
        self.n, self.sock, self.listen = n, sock, listen
        self.dst = None
        self.udp = None
        self.udp_peer = None
        self.closed = False

    def step(self, cmd, arg):
        s = self.sock
        udp_bnd = bnd_of(self.udp) if self.udp else None
        if cmd == "expect":
            msg, dst = expect(s, arg)
            if dst:
                self.dst = dst
            shown = msg.hex() if arg != "auth" else "(%d bytes)" % len(msg)
            log(self.n, "got %s %s" % (arg, shown))
        elif cmd == "send":
            data = parse_hex(arg, udp_bnd)
            s.sendall(data)
            log(self.n, "sent %d bytes" % len(data))
        elif cmd == "sendslow":
            ms, hexs = arg.split(None, 1)
            data = parse_hex(hexs, udp_bnd)
            for i in range(len(data)):
                s.sendall(data[i:i + 1])
                time.sleep(int(ms) / 1000.0)
            log(self.n, "sent %d bytes one at a time" % len(data))
        elif cmd == "sleep":
            time.sleep(int(arg) / 1000.0)
        elif cmd == "close":
            s.close()
            self.closed = True
            log(self.n, "closed")
        elif cmd == "reset":
            s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER,
                         struct.pack("ii", 1, 0))
            s.close()
            self.closed = True
            log(self.n, "reset")
        elif cmd == "stall":
            limit = int(arg) / 1000.0 if arg else 60.0
            deadline = time.monotonic() + limit
            while time.monotonic() < deadline:
                s.settimeout(max(0.01, deadline - time.monotonic()))
                try:
                    if not s.recv(4096):
                        break
                except socket.timeout:
                    break
                except OSError:
                    break
            log(self.n, "stall over")
        elif cmd == "relay":
            _, host, port = self.dst
            out = socket.create_connection((host, port), timeout=IO_TIMEOUT,
                                           source_address=(arg, 0) if arg else None)
            out.settimeout(None)
            s.settimeout(None)
            log(self.n, "relaying to %s:%d" % (host, port))
            pump(s, out, 60)
            out.close()
        elif cmd == "udp-open":
            fam = socket.AF_INET6 if ":" in self.listen else socket.AF_INET
            self.udp = socket.socket(fam, socket.SOCK_DGRAM)
            self.udp.bind((self.listen, 0))
            log(self.n, "udp relay on port %d" % self.udp.getsockname()[1])
        elif cmd == "udp-expect":
            self.udp.settimeout(IO_TIMEOUT)
            data, self.udp_peer = self.udp.recvfrom(65536)
            log(self.n, "udp got %d bytes %s" % (len(data), data[:24].hex()))
        elif cmd in ("udp-send", "udp-send-foreign"):
            data = parse_hex(arg, udp_bnd)
            if cmd == "udp-send":
                self.udp.sendto(data, self.udp_peer)
            else:
                other = socket.socket(self.udp.family, socket.SOCK_DGRAM)
                other.bind((self.listen, 0))
                other.sendto(data, self.udp_peer)
                other.close()
            log(self.n, "%s %d bytes" % (cmd, len(data)))
        elif cmd == "udp-echo":
            for _ in range(int(arg) if arg else 1):
                self.udp.settimeout(IO_TIMEOUT)
                data, self.udp_peer = self.udp.recvfrom(65536)
                self.udp.sendto(data, self.udp_peer)
                log(self.n, "udp echoed %d bytes" % len(data))
        else:
            raise ValueError("unknown step: " + cmd)

    def run(self, script):
        try:
            for raw in script.split(";"):
                raw = raw.strip()
                if not raw:
                    continue
                cmd, _, arg = raw.partition(" ")
                self.step(cmd, arg.strip())
                if self.closed:
                    break
        except Exception as e:  # the client misbehaving is data, not a crash
            log(self.n, "stopped: %s: %s" % (type(e).__name__, e))
        finally:
            if not self.closed:
                try:
                    self.sock.close()
                except OSError:
                    pass
            if self.udp:
                self.udp.close()
            log(self.n, "done")


def main():
    global log_path
    args = sys.argv[1:]
    listen, port_file = "127.0.0.1", None
    while args and args[0].startswith("--"):
        opt = args.pop(0)
        if opt == "--listen":
            listen = args.pop(0)
        elif opt == "--port-file":
            port_file = args.pop(0)
        elif opt == "--log":
            log_path = args.pop(0)
        else:
            sys.exit("unknown option " + opt)
    if not args:
        sys.exit(__doc__)
    scripts = args
    fam = socket.AF_INET6 if ":" in listen else socket.AF_INET
    ls = socket.socket(fam, socket.SOCK_STREAM)
    ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    ls.bind((listen, 0))
    ls.listen(64)
    if port_file:
        tmp = port_file + ".tmp"
        with open(tmp, "w") as f:
            f.write("%d\n" % ls.getsockname()[1])
        os.rename(tmp, port_file)
    deadline = time.monotonic() + LIFETIME
    n = 0
    while time.monotonic() < deadline:
        ls.settimeout(1)
        try:
            c, addr = ls.accept()
        except socket.timeout:
            continue
        c.settimeout(None)
        log(n, "accepted from %s:%d" % addr[:2])
        conn = Conn(n, c, listen)
        t = threading.Thread(target=conn.run, args=(scripts[min(n, len(scripts) - 1)],),
                             daemon=True)
        t.start()
        n += 1


if __name__ == "__main__":
    main()
