# fetch.py ADDR PORT [NAME]: resolves NAME first (if given: a socksified
# program's lookup before its connect), then GETs http://ADDR:PORT/ and
# prints the body, or "errno N" when the connect fails. Python, not curl:
# curl deadlocks under the ASan runtime (tests/integration/lib.sh). Used
# by test_dns53.sh and test_session.sh.
import socket, sys
addr, port = sys.argv[1], int(sys.argv[2])
if len(sys.argv) > 3:
    socket.getaddrinfo(sys.argv[3], port, socket.AF_INET, socket.SOCK_STREAM)
s = socket.socket()
s.settimeout(10)
try:
    s.connect((addr, port))
except OSError as e:
    print("errno", e.errno)
    sys.exit(0)
s.sendall(b"GET / HTTP/1.0\r\nHost: x\r\n\r\n")
data = b""
while True:
    b = s.recv(4096)
    if not b:
        break
    data += b
print(data.decode(errors="replace").split("\r\n\r\n", 1)[-1].strip())
