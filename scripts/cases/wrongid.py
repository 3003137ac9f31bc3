"""A DNS responder that answers each A query with the DNS id plus one (data/cases'
wrong_dns_id): the client ignores the answers. Bounded: 20 queries or 30 seconds.

Usage: python3 wrongid.py ADDRESS wrongid
"""

import socket
import struct
import sys
import time

addr, mode = sys.argv[1], sys.argv[2]
sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
sock.bind((addr, 53))
sock.settimeout(1)
end = time.time() + 30
n = 0
while time.time() < end and n < 20:
    try:
        query, peer = sock.recvfrom(512)
    except TimeoutError:
        continue
    n += 1
    qid = struct.unpack("!H", query[:2])[0]
    if mode == "wrongid":
        qid = (qid + 1) & 0xFFFF
    at = 12
    for _ in range(128):  # the question's labels, bounded
        if at >= len(query) or not query[at]:
            break
        at += query[at] + 1
    question = query[12 : at + 5]
    header = struct.pack("!HHHHHH", qid, 0x8180, 1, 1, 0, 0)
    answer = b"\xc0\x0c" + struct.pack("!HHIH", 1, 1, 60, 4) + socket.inet_aton("203.0.113.80")
    sock.sendto(header + question + answer, peer)
