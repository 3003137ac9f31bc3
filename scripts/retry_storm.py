"""Many stub resolvers asking one question each and retrying it (the retry-storm scenario).

Usage: retry_storm.py --server IP --name NAME [--attempts N] [--interval S] [--spread S]
                      [--max-seconds S] SRC [SRC ...]

Each source address plays one stub resolver: one socket bound to a fixed port, one DNS
id, one A query for NAME, sent ATTEMPTS times INTERVAL seconds apart, as a resolver
retries an unanswered question. The first attempts are spread over SPREAD seconds. Every
source address must already be configured on a local interface. The storm sends at most
len(SRC) * ATTEMPTS queries (ATTEMPTS at most 10), stops after MAX-SECONDS whatever is
left, and never sends anywhere but SERVER (a test host in a network namespace of the
capture script).
"""

from __future__ import annotations

import argparse
import random
import socket
import struct
import time


def query(qid: int, name: str) -> bytes:
    header = struct.pack("!HHHHHH", qid, 0x0100, 1, 0, 0, 0)
    labels = b"".join(bytes([len(p)]) + p.encode() for p in name.split(".")) + b"\0"
    return header + labels + struct.pack("!HH", 1, 1)


def bind(src: str, port: int) -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        sock.bind((src, port))
    except OSError:
        sock.bind((src, 0))  # the fixed port is taken: any port, still one per resolver
    return sock


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--server", required=True)
    parser.add_argument("--name", required=True)
    parser.add_argument("--attempts", type=int, default=4)
    parser.add_argument("--interval", type=float, default=0.3)
    parser.add_argument("--spread", type=float, default=0.6)
    parser.add_argument("--max-seconds", type=float, default=10.0)
    parser.add_argument("sources", nargs="+")
    args = parser.parse_args()
    attempts = max(1, min(args.attempts, 10))
    rng = random.Random(53)
    schedule = []  # (seconds after the start, socket, query)
    socks = []
    for i, src in enumerate(args.sources):
        sock = bind(src, rng.randrange(32768, 61000))
        socks.append(sock)
        packet = query(rng.randrange(65536), args.name)
        first = args.spread * i / len(args.sources)
        schedule += [(first + k * args.interval, sock, packet) for k in range(attempts)]
    schedule.sort(key=lambda item: item[0])
    start = time.monotonic()
    deadline = start + args.max_seconds
    sent = 0
    for due, sock, packet in schedule:
        now = time.monotonic()
        if now >= deadline:
            break
        if start + due > now:
            time.sleep(min(start + due, deadline) - now)
            if time.monotonic() >= deadline:
                break
        try:
            sock.sendto(packet, (args.server, 53))
            sent += 1
        except OSError:
            pass  # an unconnected socket sees no ICMP errors; anything else: skip it
    for sock in socks:
        sock.close()
    print(f"sent {sent} queries: {len(socks)} questions, up to {attempts} attempts each")


if __name__ == "__main__":
    main()
