# A tiny authoritative DNS responder over UDP and TCP (same port) for the
# tests: every name under .test has A 203.0.113.7 and AAAA 2001:db8::7;
# anything else is NXDOMAIN. A name under .test starting with "big" has
# 40 A records (203.0.113.1-40, over 512 bytes): over UDP its A answer is
# truncated (TC bit, no records), so a resolver must ask again over TCP.
# A name under .test starting with "slow" is answered after 1.5 s.
# Each query's sender is appended to PEERS as "ip port" (UDP) or
# "ip port tcp" (proof of who asked: the proxy, not the client).
#
#   dns_responder.py LISTEN-ADDR PORT PEERS
import socket, struct, sys, threading

host, port, peers = sys.argv[1], int(sys.argv[2]), sys.argv[3]
fam = socket.AF_INET6 if ":" in host else socket.AF_INET
A = socket.inet_pton(socket.AF_INET, "203.0.113.7")
AAAA = socket.inet_pton(socket.AF_INET6, "2001:db8::7")
BIG = 40
lock = threading.Lock()


def log_peer(addr, how=""):
    with lock, open(peers, "a") as f:
        f.write("%s %d%s\n" % (addr[0], addr[1], how))


def answer(q, tcp):
    qid, flags, qd = struct.unpack("!HHH", q[:6])
    if qd != 1:
        return None
    i, labels = 12, []
    while q[i]:
        labels.append(q[i + 1:i + 1 + q[i]].decode("ascii", "replace"))
        i += 1 + q[i]
    qtype, qclass = struct.unpack("!HH", q[i + 1:i + 5])
    question = q[12:i + 5]
    name = ".".join(labels).lower()
    rd = flags & 0x0100
    if not name.endswith(".test"):
        return struct.pack("!HHHHHH", qid, 0x8403 | rd, 1, 0, 0, 0) + question
    rrs = []
    if qtype == 1 and name.startswith("big"):
        if not tcp:
            return struct.pack("!HHHHHH", qid, 0x8600 | rd, 1, 0, 0,
                               0) + question
        rrs = [struct.pack("!HHHIH", 0xC00C, 1, 1, 60, 4) +
               bytes([203, 0, 113, k]) for k in range(1, BIG + 1)]
    elif qtype == 1:
        rrs = [struct.pack("!HHHIH", 0xC00C, 1, 1, 60, 4) + A]
    elif qtype == 28:
        rrs = [struct.pack("!HHHIH", 0xC00C, 28, 1, 60, 16) + AAAA]
    return struct.pack("!HHHHHH", qid, 0x8400 | rd, 1, len(rrs), 0,
                       0) + question + b"".join(rrs)


def safe_answer(q, tcp):
    try:
        return answer(q, tcp)
    except (IndexError, struct.error):
        return None


def recv_exact(c, n):
    b = b""
    while len(b) < n:
        part = c.recv(n - len(b))
        if not part:
            return None
        b += part
    return b


def tcp_client(c, addr):
    with c:
        c.settimeout(30)
        try:
            while True:
                h = recv_exact(c, 2)
                if h is None:
                    return
                q = recv_exact(c, struct.unpack("!H", h)[0])
                if q is None:
                    return
                log_peer(addr, " tcp")
                r = safe_answer(q, True)
                if r:
                    c.sendall(struct.pack("!H", len(r)) + r)
        except OSError:
            return


def tcp_server():
    t = socket.socket(fam, socket.SOCK_STREAM)
    t.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    t.bind((host, port))
    t.listen(16)
    while True:
        c, addr = t.accept()
        threading.Thread(target=tcp_client, args=(c, addr),
                         daemon=True).start()


s = socket.socket(fam, socket.SOCK_DGRAM)
s.bind((host, port))
threading.Thread(target=tcp_server, daemon=True).start()
while True:
    q, addr = s.recvfrom(4096)
    log_peer(addr)
    r = safe_answer(q, False)
    if r and b"\x04slow" in q[12:17]:
        threading.Timer(1.5, s.sendto, (r, addr)).start()
    elif r:
        s.sendto(r, addr)
