"""A DNS responder that answers each A query with 203.0.113.80, COPIES times, GAP seconds
apart, with the query's DNS id plus OFFSET (data/cases: ``dup_gap`` answers twice with the
right id, ``wrong_dns_id`` once with the id plus one). Bounded: 20 queries or 30 seconds.

Usage: python3 responder.py ADDRESS COPIES GAP OFFSET
"""

import socket
import struct
import sys
import time

addr, copies, gap, offset = sys.argv[1], int(sys.argv[2]), float(sys.argv[3]), int(sys.argv[4])
family = socket.AF_INET6 if ":" in addr else socket.AF_INET
sock = socket.socket(family, socket.SOCK_DGRAM)
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
    qid = (struct.unpack("!H", query[:2])[0] + offset) & 0xFFFF
    at = 12
    for _ in range(128):  # the question's labels, bounded
        if at >= len(query) or not query[at]:
            break
        at += query[at] + 1
    question = query[12 : at + 5]
    answer = b"\xc0\x0c" + struct.pack("!HHIH", 1, 1, 60, 4) + socket.inet_aton("203.0.113.80")
    response = struct.pack("!HHHHHH", qid, 0x8580, 1, 1, 0, 0) + question + answer
    for i in range(copies):
        if i:
            time.sleep(gap)
        sock.sendto(response, peer)
