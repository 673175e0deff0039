# sfy_leaks.py PCAP MAC ALLOWED-ADDR...: counts the frames from MAC that
# carry an IP packet to an address not in ALLOWED (ND/MLD excepted).
# Prints "frames=N sent=N leaks=N", then one line per leak (at most 20).
import ipaddress, struct, sys

path, mac = sys.argv[1], bytes.fromhex(sys.argv[2].replace(":", ""))
allowed = {ipaddress.ip_address(a) for a in sys.argv[3:]}
ND_MLD = {130, 131, 132, 133, 134, 135, 136, 137, 143}
EXT = {0, 43, 60}   # hop-by-hop, routing, destination options

def ports(proto, l4):
    if proto in (6, 17) and len(l4) >= 4:
        return (":%d" % struct.unpack("!H", l4[0:2]),
                ":%d" % struct.unpack("!H", l4[2:4]))
    return "", ""

def name(proto):
    return {1: "icmp", 6: "tcp", 17: "udp", 58: "icmp6"}.get(proto, "proto-%d" % proto)

with open(path, "rb") as f:
    data = f.read()
if len(data) < 24:
    sys.exit("not a pcap file (%d bytes)" % len(data))
magic = data[:4]
if magic in (b"\xd4\xc3\xb2\xa1", b"\x4d\x3c\xb2\xa1"):
    end = "<"
elif magic in (b"\xa1\xb2\xc3\xd4", b"\xa1\xb2\x3c\x4d"):
    end = ">"
else:
    sys.exit("not a pcap file (magic %s)" % magic.hex())
if struct.unpack(end + "I", data[20:24])[0] != 1:
    sys.exit("link type is not Ethernet")
off, frames, sent, leaks = 24, 0, 0, []
while off + 16 <= len(data):
    incl = struct.unpack(end + "I", data[off + 8:off + 12])[0]
    fr = data[off + 16:off + 16 + incl]
    off += 16 + incl
    frames += 1
    if len(fr) < 14 or fr[6:12] != mac:
        continue
    sent += 1
    etype, p = struct.unpack("!H", fr[12:14])[0], fr[14:]
    if etype == 0x0800 and len(p) >= 20:
        proto = p[9]
        src, dst = ipaddress.ip_address(p[12:16]), ipaddress.ip_address(p[16:20])
        l4 = p[(p[0] & 15) * 4:]
    elif etype == 0x86DD and len(p) >= 40:
        proto = p[6]
        src, dst = ipaddress.ip_address(p[8:24]), ipaddress.ip_address(p[24:40])
        l4 = p[40:]
        while proto in EXT and len(l4) >= 8:
            proto, l4 = l4[0], l4[(l4[1] + 1) * 8:]
        if proto == 44 and len(l4) >= 8:     # fragment header
            proto, l4 = l4[0], l4[8:]
        if proto == 58 and l4 and l4[0] in ND_MLD:
            continue
    else:
        continue                            # ARP and other non-IP frames
    if dst in allowed:
        continue
    sp, dp = ports(proto, l4)
    leaks.append("%s %s%s > %s%s" % (name(proto), src, sp, dst, dp))
print("frames=%d sent=%d leaks=%d" % (frames, sent, len(leaks)))
for line in leaks[:20]:
    print("  leak: " + line)
