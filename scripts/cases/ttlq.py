"""Send N DNS A queries for NAME to SERVER with the IP TTL (or IPv6 hop limit) TTL, waiting
WAIT seconds for each answer (data/cases' ttl1, ttl1_v6). Bounded: N <= 10.

Usage: python3 ttlq.py SERVER NAME TTL N WAIT
"""

import random
import socket
import struct
import sys

server, name = sys.argv[1], sys.argv[2]
ttl, n, wait = int(sys.argv[3]), min(int(sys.argv[4]), 10), float(sys.argv[5])
family = socket.AF_INET6 if ":" in server else socket.AF_INET
sock = socket.socket(family, socket.SOCK_DGRAM)
if family == socket.AF_INET:
    sock.setsockopt(socket.IPPROTO_IP, socket.IP_TTL, ttl)
else:
    sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_UNICAST_HOPS, ttl)
sock.settimeout(wait)
labels = b"".join(bytes([len(part)]) + part.encode() for part in name.split("."))
for _ in range(n):
    qid = random.randrange(65536)
    query = struct.pack("!HHHHHH", qid, 0x0100, 1, 0, 0, 0) + labels + b"\0"
    sock.sendto(query + struct.pack("!HH", 1, 1), (server, 53))
    try:
        sock.recv(600)
        print("answered")
    except OSError as error:  # (a timeout too)
        print("fail", error)
