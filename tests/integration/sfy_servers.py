# The python servers of lib.sh's start_tcp_echo / start_udp_echo /
# start_http / start_silent:
#   sfy_servers.py MODE HOST PORT PEERS-FILE [HTTP-DIR]
# Each peer is appended to PEERS-FILE as "ip port".
import http.server, socket, socketserver, sys, threading

mode, host, port, peers = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
fam = socket.AF_INET6 if ":" in host else socket.AF_INET
lock = threading.Lock()

def record(addr):
    with lock, open(peers, "a") as f:
        f.write("%s %d\n" % (addr[0], addr[1]))
        f.flush()

class TCPServer(socketserver.ThreadingTCPServer):
    address_family = fam
    allow_reuse_address = True
    daemon_threads = True
    # socketserver's default backlog of 5 drops SYNs under many clients at
    # once, and each drop costs a 1 s retransmission
    request_queue_size = 256

class Echo(socketserver.BaseRequestHandler):
    def handle(self):
        record(self.client_address)
        self.request.settimeout(60)
        try:
            while True:
                data = self.request.recv(65536)
                if not data:
                    break
                self.request.sendall(data)
        except OSError:
            pass

class Http(http.server.SimpleHTTPRequestHandler):
    def __init__(self, *a, **kw):
        super().__init__(*a, directory=sys.argv[5], **kw)
    def setup(self):
        record(self.client_address)
        super().setup()
    def log_message(self, fmt, *args):
        sys.stderr.write("%s %s\n" % (self.client_address[0], fmt % args))

if mode == "tcp-echo":
    TCPServer((host, port), Echo).serve_forever()
elif mode == "http":
    TCPServer((host, port), Http).serve_forever()
elif mode == "silent":
    # accepts, records the peer, never reads or answers: a stalled proxy
    ls = socket.socket(fam, socket.SOCK_STREAM)
    ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    ls.bind((host, port))
    ls.listen(16)
    held = []
    while True:
        c, addr = ls.accept()
        record(addr)
        held.append(c)
elif mode == "udp-echo":
    s = socket.socket(fam, socket.SOCK_DGRAM)
    s.bind((host, port))
    while True:
        data, addr = s.recvfrom(65536)
        record(addr)
        s.sendto(data, addr)
