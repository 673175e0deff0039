# UDP client for test_udp.sh, run with libsocksify.so preloaded: each mode
# exercises one part of UDP through the relay and prints "OK ..." or
# "ERR <errno name> ..." as its last line. Every wait is bounded.
#
#   udp_client.py MODE HOST PORT [ARG]
import errno, os, select, socket, sys, time

mode, host, port = sys.argv[1], sys.argv[2], int(sys.argv[3])
arg = sys.argv[4] if len(sys.argv) > 4 else ""
fam = socket.AF_INET6 if ":" in host else socket.AF_INET
dst = (host, port)
IP_PKTINFO = getattr(socket, "IP_PKTINFO", 8)  # Linux value


def ename(e):
    return errno.errorcode.get(e.errno, str(e.errno))


def sock(f=None):
    s = socket.socket(f or fam, socket.SOCK_DGRAM)
    s.settimeout(5)
    return s


def echo(s, data, to=None):
    if to:
        s.sendto(data, to)
    else:
        s.send(data)
    got, frm = s.recvfrom(65536)
    if got != data:
        raise SystemExit("BAD payload %r" % got[:40])
    return frm


def readable(s):
    # A socket with a timeout is non-blocking underneath: os.read needs
    # the datagram to be there.
    p = select.poll()
    p.register(s.fileno(), select.POLLIN)
    if not p.poll(5000):
        raise SystemExit("BAD nothing to read")


def wait_file(path):
    for _ in range(100):
        if os.path.exists(path):
            return
        time.sleep(0.05)
    raise SystemExit("BAD %s never appeared" % path)


def main():
    if mode == "sendto":
        frm = echo(sock(), b"ping-sendto " + os.urandom(8).hex().encode(), dst)
        print("OK", frm[0], frm[1])
    elif mode == "mapped":
        # An IPv4 destination on an AF_INET6 socket, as ::ffff:a.b.c.d.
        frm = echo(sock(socket.AF_INET6), b"ping-mapped", ("::ffff:" + host, port))
        print("OK", frm[0], frm[1])
    elif mode == "connect":
        s = sock()
        s.connect(dst)
        frm = echo(s, b"ping-connected")
        s.sendall(b"second")  # send() again, after a recv
        if s.recv(100) != b"second":
            raise SystemExit("BAD second")
        os.write(s.fileno(), b"via-write")  # write() / read()
        readable(s)
        if os.read(s.fileno(), 100) != b"via-write":
            raise SystemExit("BAD write/read")
        os.writev(s.fileno(), [b"via-", b"writev"])
        a, b = bytearray(4), bytearray(20)
        readable(s)
        n = os.readv(s.fileno(), [a, b])
        if n != 10 or bytes(a) + bytes(b[:6]) != b"via-writev":
            raise SystemExit("BAD writev/readv %d" % n)
        peer = s.getpeername()
        print("OK", frm[0], frm[1], "peer", peer[0], peer[1])
    elif mode == "sendmsg":
        s = sock()
        if fam == socket.AF_INET:
            s.setsockopt(socket.IPPROTO_IP, IP_PKTINFO, 1)
            want = (socket.IPPROTO_IP, IP_PKTINFO)
        else:
            s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_RECVPKTINFO, 1)
            want = (socket.IPPROTO_IPV6, socket.IPV6_PKTINFO)
        n = s.sendmsg([b"ab", b"cd", b"ef"], [], 0, dst)
        if n != 6:
            raise SystemExit("BAD sendmsg returned %d" % n)
        data, anc, flags, frm = s.recvmsg(100, socket.CMSG_SPACE(64))
        if data != b"abcdef" or flags & socket.MSG_TRUNC:
            raise SystemExit("BAD recvmsg %r flags %x" % (data, flags))
        if not any((lvl, typ) == want for lvl, typ, _ in anc):
            raise SystemExit("BAD no PKTINFO in %r" % anc)
        s.sendmsg([b"0123456789"], [], 0, dst)
        a, b = bytearray(4), bytearray(3)
        n, anc, flags, frm2 = s.recvmsg_into([a, b], socket.CMSG_SPACE(64))
        if n != 7 or bytes(a + b) != b"0123456" or not flags & socket.MSG_TRUNC:
            raise SystemExit("BAD recvmsg_into %d %r %x" % (n, bytes(a + b), flags))
        print("OK", frm[0], frm[1])
    elif mode == "peek":
        s = sock()
        s.sendto(b"0123456789", dst)
        if s.recv(4, socket.MSG_PEEK) != b"0123":
            raise SystemExit("BAD peek")
        buf = bytearray(4)
        n = s.recv_into(buf, 4, socket.MSG_PEEK | socket.MSG_TRUNC)
        if n != 10 or bytes(buf) != b"0123":
            raise SystemExit("BAD peek|trunc %d" % n)
        got, frm = s.recvfrom(100)
        if got != b"0123456789":
            raise SystemExit("BAD after peek %r" % got)
        s.setblocking(False)
        try:
            s.recv(100)
            raise SystemExit("BAD nonblocking recv returned data")
        except BlockingIOError:
            pass
        try:
            s.recv(100, socket.MSG_DONTWAIT)
            raise SystemExit("BAD MSG_DONTWAIT recv returned data")
        except BlockingIOError:
            pass
        print("OK", frm[0], frm[1])
    elif mode == "big":
        # 65507 is the largest IPv4 UDP payload; our header takes 10.
        s = sock()
        try:
            s.sendto(b"x" * 65498, dst)
            raise SystemExit("BAD 65498 bytes went out")
        except OSError as e:
            if e.errno != errno.EMSGSIZE:
                raise
        frm = echo(s, os.urandom(8000), dst)
        print("OK", frm[0], frm[1])
    elif mode == "name":
        # socks5h: the name resolves to a fake address, which goes to
        # the relay as the name; the reply shows that fake address.
        fake = socket.getaddrinfo(host, port, fam, socket.SOCK_DGRAM)[0][4]
        frm = echo(sock(), b"ping-name", fake)
        if frm[:2] != fake[:2]:
            raise SystemExit("BAD reply from %r, sent to %r" % (frm, fake))
        s = sock()
        s.connect(fake)
        frm = echo(s, b"ping-name-connected")
        print("OK", fake[0], frm[0])
    elif mode == "foreign":
        # arg: a folder for the hand-shake with the test script.
        s = sock()
        echo(s, b"one", dst)
        with open(arg + "/port.tmp", "w") as f:
            f.write(str(s.getsockname()[1]))
        os.rename(arg + "/port.tmp", arg + "/port")
        wait_file(arg + "/sent")
        s.sendto(b"two", dst)
        got, frm = s.recvfrom(100)
        if got != b"two":
            raise SystemExit("BAD got %r from %r" % (got, frm))
        s.settimeout(1)
        try:
            got, frm = s.recvfrom(100)
            raise SystemExit("BAD extra datagram %r from %r" % (got, frm))
        except socket.timeout:
            pass
        print("OK dropped")
    elif mode == "lifecycle":
        s = sock()
        echo(s, b"first", dst)
        fd = s.fileno()
        # The control connection is not the program's to close.
        os.closerange(fd + 1, 4096)
        echo(s, b"after-closerange", dst)
        d = os.dup(fd)
        s2 = socket.socket(fileno=d)
        s2.settimeout(5)
        s.close()
        echo(s2, b"on-the-dup", dst)
        os.dup2(s2.fileno(), 50)
        pid = os.fork()
        if pid == 0:
            c = socket.socket(fileno=50)
            c.settimeout(5)
            echo(c, b"from-the-child", dst)
            os._exit(0)
        _, status = os.waitpid(pid, 0)
        if status != 0:
            raise SystemExit("BAD child status %d" % status)
        os.close(50)
        echo(s2, b"parent-after-child", dst)
        s2.close()
        # Every descriptor gone: so is the control connection.
        left = [l for l in os.listdir("/proc/self/fd")
                if os.path.exists("/proc/self/fd/" + l) and
                os.readlink("/proc/self/fd/" + l).startswith("socket:")]
        if left:
            raise SystemExit("BAD sockets left open: %r" % left)
        print("OK lifecycle")
    elif mode == "dead":
        s = sock()
        echo(s, b"alive", dst)
        with open(arg + "/ready", "w"):
            pass
        wait_file(arg + "/stopped")
        time.sleep(0.2)
        try:
            s.sendto(b"after", dst)
            print("BAD send after the proxy went away")
        except OSError as e:
            print("ERR", ename(e))
    elif mode == "refused":
        try:
            s = sock()
            s.sendto(b"x", dst)
            print("BAD sent")
        except OSError as e:
            print("ERR", ename(e))
    else:
        raise SystemExit("unknown mode " + mode)


try:
    main()
except OSError as e:
    print("ERR", ename(e), e)
