# A tiny authoritative DNS responder over UDP for the tests: every name
# under .test has A 203.0.113.7 and AAAA 2001:db8::7; anything else is
# NXDOMAIN. Each query's sender "ip port" is appended to PEERS (proof of
# who asked: the proxy, not the client).
#
#   dns_responder.py LISTEN-ADDR PORT PEERS
import socket, struct, sys

host, port, peers = sys.argv[1], int(sys.argv[2]), sys.argv[3]
fam = socket.AF_INET6 if ":" in host else socket.AF_INET
A = socket.inet_pton(socket.AF_INET, "203.0.113.7")
AAAA = socket.inet_pton(socket.AF_INET6, "2001:db8::7")


def answer(q):
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
    rr = b""
    if qtype == 1:
        rr = struct.pack("!HHHIH", 0xC00C, 1, 1, 60, 4) + A
    elif qtype == 28:
        rr = struct.pack("!HHHIH", 0xC00C, 28, 1, 60, 16) + AAAA
    return struct.pack("!HHHHHH", qid, 0x8400 | rd, 1, 1 if rr else 0, 0,
                       0) + question + rr


s = socket.socket(fam, socket.SOCK_DGRAM)
s.bind((host, port))
while True:
    q, addr = s.recvfrom(4096)
    with open(peers, "a") as f:
        f.write("%s %d\n" % (addr[0], addr[1]))
    try:
        r = answer(q)
    except (IndexError, struct.error):
        r = None
    if r:
        s.sendto(r, addr)
