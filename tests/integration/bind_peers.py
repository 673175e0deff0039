# The programs of test_bind.sh, one mode each:
#
#   client MODE CTLHOST CTLPORT   (the socksified program, in the client
#       namespace) connects to the target's control server, listens as MODE
#       says, tells the target "BACK ip port" (getsockname of its listening
#       socket), accepts the target's connection back and prints one line
#       of key=value results ("ERR=<errno name>" when a call failed).
#   target HOST PORT LOG           (in the target namespace) the control
#       server: logs each control peer, connects back where it is told, and
#       logs the address it connected to: "ctl <ip>", "back <ip> <port> ok".
#   proxy HOST PORT MODE           (in the proxy namespace) a scripted
#       SOCKS5 proxy: CONNECT succeeds (the stream is then read and
#       dropped); BIND does as MODE says: stall (no reply), close2 (first
#       reply, then close), refuse2 (second reply REP 5), split2 (second
#       reply in two writes 0.3 s apart, then "hello-from-target").
import ctypes, errno, fcntl, os, select, signal, socket, struct, sys, threading, time


def ename(e):
    return errno.errorcode.get(e.errno, str(e.errno)) if isinstance(e, OSError) else str(e)


def until_eof(c):
    data = b""
    while True:
        chunk = c.recv(100)
        if not chunk:
            return data.decode(errors="replace")
        data += chunk


# syscall(2) numbers of the syscall-* modes (the hooks' syscall() routing)
SYSNR = {"x86_64": {"accept": 43, "bind": 49, "listen": 50},
         "aarch64": {"bind": 200, "listen": 201, "accept": 202}}.get(
             os.uname().machine, {})
LIBC = ctypes.CDLL(None, use_errno=True)
LIBC.syscall.restype = ctypes.c_long
L = ctypes.c_long


def client(mode, host, port):
    # BIND_ALARM=N: a blocking accept gives up after N s (ETIMEDOUT)
    def alarm(sig, frame):
        raise OSError(errno.ETIMEDOUT, "alarm")
    signal.signal(signal.SIGALRM, alarm)
    signal.alarm(int(os.environ.get("BIND_ALARM", "0")))
    out = []
    t0 = time.monotonic()
    try:
        ctl = socket.create_connection((host, port), timeout=20)
        ls = socket.socket(socket.AF_INET6 if mode == "v6" else socket.AF_INET)
        if mode == "loopback":
            ls.bind(("127.0.0.1", 0))
        elif mode == "own":
            ls.bind((ctl.getsockname()[0], 0))
        elif mode == "syscall-bind":  # bind(own address), listen, accept by number
            a = socket.inet_aton(ctl.getsockname()[0])
            sa = ctypes.create_string_buffer(struct.pack("=H", socket.AF_INET) + b"\0\0" + a + bytes(8), 16)
            if LIBC.syscall(L(SYSNR["bind"]), L(ls.fileno()), sa, L(16)) != 0:
                raise OSError(ctypes.get_errno(), "syscall(SYS_bind)")
        elif mode != "nobind":
            ls.bind(("::" if mode == "v6" else "0.0.0.0", 0))
        t0 = time.monotonic()
        try:
            if mode.startswith("syscall"):
                if LIBC.syscall(L(SYSNR["listen"]), L(ls.fileno()), L(1)) != 0:
                    raise OSError(ctypes.get_errno(), "syscall(SYS_listen)")
            else:
                ls.listen(1)
        finally:
            out.append("listen_ms=%d" % ((time.monotonic() - t0) * 1000))
        name = ls.getsockname()
        out.append("sockname=%s:%d" % (name[0], name[1]))
        try:
            ls.getpeername()
            out.append("lpeer=yes")
        except OSError as e:
            out.append("lpeer=" + ename(e))
        if mode in ("nonblock", "epoll"):
            ls.setblocking(False)
            try:
                ls.accept()
                out.append("early=accepted")
            except OSError as e:
                out.append("early=" + ename(e))
        ip = name[0]
        if ip.startswith("::ffff:"):
            ip = ip[7:]
        back = b"BACK %s %d\n" % (ip.encode(), name[1])
        if mode != "threads":   # threads: once they all wait in accept
            ctl.sendall(back)
        if mode == "nonblock":
            p = select.poll()
            p.register(ls, select.POLLIN)
            out.append("polled=%d" % len(p.poll(10000)))
        elif mode == "epoll":
            ep = select.epoll()
            ep.register(ls.fileno(), select.EPOLLIN)
            out.append("epolled=%d" % len(ep.poll(10)))
        if mode == "threads":
            # Eight threads blocked in accept on one socket when the
            # connection comes: all wake on the one second reply at once,
            # and exactly one may take it (bind.c's accept_lock).
            got, errs = [], []
            gate = threading.Barrier(9)
            def acc():
                gate.wait()
                try:
                    c, a = ls.accept()
                    got.append("%s:%s" % (a[0], until_eof(c)))
                except OSError as e:
                    errs.append(ename(e))
            for _ in range(8):
                threading.Thread(target=acc, daemon=True).start()
            gate.wait()
            time.sleep(0.5)     # every thread in accept() by now
            ctl.sendall(back)
            for _ in range(100):
                if got or errs:
                    break
                time.sleep(0.1)
            time.sleep(1)
            out.append("accepts=%d" % len(got))
            out.extend("got=" + g for g in got)
            out.extend("err=" + e for e in errs)
            print(" ".join(out), flush=True)
            os._exit(0)
        if mode == "accept4":       # blocking socket, poll, then accept4 with flags
            libc = ctypes.CDLL(None, use_errno=True)
            p = select.poll()
            p.register(ls, select.POLLIN)
            out.append("polled=%d" % len(p.poll(10000)))
            fd = libc.accept4(ls.fileno(), None, None,
                              socket.SOCK_NONBLOCK | socket.SOCK_CLOEXEC)
            if fd < 0:
                raise OSError(ctypes.get_errno(), "accept4")
            out.append("flags=nb%d,cloexec%d" % (
                bool(fcntl.fcntl(fd, fcntl.F_GETFL) & os.O_NONBLOCK),
                bool(fcntl.fcntl(fd, fcntl.F_GETFD) & fcntl.FD_CLOEXEC)))
            c = socket.socket(fileno=fd)
            c.setblocking(True)
            addr = c.getpeername()
        elif mode.startswith("syscall"):
            fd = LIBC.syscall(L(SYSNR["accept"]), L(ls.fileno()), None, None)
            if fd < 0:
                raise OSError(ctypes.get_errno(), "syscall(SYS_accept)")
            c = socket.socket(fileno=fd)
            addr = c.getpeername()
        else:
            if mode in ("nonblock", "epoll"):
                ls.settimeout(15)   # python: poll, then a non-blocking accept4
            c, addr = ls.accept()
        out.append("accepted=%s:%d" % (addr[0], addr[1]))
        p = c.getpeername()
        out.append("peer=%s:%d" % (p[0], p[1]))
        c.settimeout(10)
        out.append("data=" + until_eof(c))
        # re-armed: listening again, on a new port at the proxy
        name2 = ls.getsockname()
        out.append("relisten=%s" % ("newport" if name2[1] != name[1] else "sameport"))
        try:
            ls.setblocking(False)
            ls.accept()
            out.append("again=accepted")
        except OSError as e:
            out.append("again=" + ename(e))
        if mode == "epoll":
            out.append("epoll_after=%d" % len(ep.poll(0)))
    except OSError as e:
        out.append("ERR=" + ename(e))
        out.append("ms=%d" % ((time.monotonic() - t0) * 1000))
    print(" ".join(out), flush=True)


def target(host, port, log):
    ls = socket.socket(socket.AF_INET)
    ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    ls.bind((host, port))
    ls.listen(16)

    def note(line):
        with open(log, "a") as f:
            f.write(line + "\n")

    def serve(c, addr):
        note("ctl %s" % addr[0])
        buf = b""
        c.settimeout(30)
        try:
            while b"\n" not in buf:
                chunk = c.recv(100)
                if not chunk:
                    return
                buf += chunk
        except OSError:
            return
        words = buf.split()
        if len(words) != 3 or words[0] != b"BACK":
            return
        ip, p = words[1].decode(), int(words[2])
        try:
            b = socket.create_connection((ip, p), timeout=5)
            b.sendall(b"hello-from-target")
            b.close()
            note("back %s %d ok" % (ip, p))
        except OSError as e:
            note("back %s %d %s" % (ip, p, ename(e)))

    while True:
        c, addr = ls.accept()
        threading.Thread(target=serve, args=(c, addr), daemon=True).start()


def recv_n(c, n):
    buf = b""
    while len(buf) < n:
        chunk = c.recv(n - len(buf))
        if not chunk:
            raise OSError(errno.ECONNRESET, "closed")
        buf += chunk
    return buf


def proxy(host, port, mode):
    ls = socket.socket(socket.AF_INET)
    ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    ls.bind((host, port))
    ls.listen(16)
    held = []
    ok = b"\x05\x00\x00\x01" + socket.inet_aton(host) + struct.pack("!H", 4242)

    def serve(c):
        try:
            ver, n = recv_n(c, 2)
            recv_n(c, n)
            c.sendall(b"\x05\x00")
            ver, cmd, rsv, atyp = recv_n(c, 4)
            alen = {1: 4, 4: 16}.get(atyp) or recv_n(c, 1)[0]
            recv_n(c, alen + 2)
            if cmd == 1:
                c.sendall(ok)
                while c.recv(4096):
                    pass
                return
            if mode == "stall":
                held.append(c)
                return
            c.sendall(ok)
            time.sleep(0.3)
            if mode == "close2":
                c.close()
            elif mode == "refuse2":
                c.sendall(b"\x05\x05\x00\x01\0\0\0\0\0\0")
                held.append(c)
            elif mode == "split2":
                second = b"\x05\x00\x00\x01" + socket.inet_aton("203.0.113.7") + \
                    struct.pack("!H", 2121)
                c.sendall(second[:6])
                time.sleep(0.3)
                c.sendall(second[6:] + b"hello-from-target")
                c.close()
        except OSError:
            pass

    while True:
        c, addr = ls.accept()
        threading.Thread(target=serve, args=(c,), daemon=True).start()


if __name__ == "__main__":
    role = sys.argv[1]
    if role == "client":
        client(sys.argv[2], sys.argv[3], int(sys.argv[4]))
    elif role == "target":
        target(sys.argv[2], int(sys.argv[3]), sys.argv[4])
    elif role == "proxy":
        proxy(sys.argv[2], int(sys.argv[3]), sys.argv[4])
