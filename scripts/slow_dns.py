"""Answer DNS queries, but only after a delay (the slow-server scenario).

Usage: slow_dns.py --listen IP --delay S --name NAME --answer IP --max-seconds S --max-queries N

Binds IP:53 over UDP and answers each query DELAY seconds after it arrived: an A query
for NAME with the address ANSWER, any other query with REFUSED. The responder stops
after MAX-SECONDS, or once MAX-QUERIES queries have come in and their answers have gone
out, whichever comes first. It answers only the address a query came from (a test host
in a network namespace of the capture script).
"""

from __future__ import annotations

import argparse
import select
import socket
import struct
import time

QTYPE_A = 1
QCLASS_IN = 1


def question(packet: bytes) -> tuple[bytes, str, int, int] | None:
    """The question section of a query (raw), its name, type and class; None if unreadable."""
    pos = 12
    labels = []
    while pos < len(packet):
        length = packet[pos]
        if length == 0:
            break
        if length > 63:
            return None
        labels.append(packet[pos + 1 : pos + 1 + length].decode("ascii", "replace"))
        pos += 1 + length
    end = pos + 5
    if end > len(packet):
        return None
    qtype, qclass = struct.unpack("!HH", packet[pos + 1 : end])
    return packet[12:end], ".".join(labels).lower(), qtype, qclass


def answer(packet: bytes, name: str, address: str) -> bytes | None:
    if len(packet) < 12:
        return None
    qid, flags, qdcount = struct.unpack("!HHH", packet[:6])
    if flags & 0x8000 or qdcount != 1:
        return None  # a response, or not a plain query
    parsed = question(packet)
    if parsed is None:
        return None
    raw, qname, qtype, qclass = parsed
    rd = flags & 0x0100
    if qname == name.lower().rstrip(".") and qtype == QTYPE_A and qclass == QCLASS_IN:
        header = struct.pack("!HHHHHH", qid, 0x8480 | rd, 1, 1, 0, 0)  # QR AA RA, NOERROR
        record = struct.pack("!HHHIH", 0xC00C, QTYPE_A, QCLASS_IN, 300, 4)
        return header + raw + record + socket.inet_aton(address)
    header = struct.pack("!HHHHHH", qid, 0x8085 | rd, 1, 0, 0, 0)  # QR RA, REFUSED
    return header + raw


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--listen", required=True)
    parser.add_argument("--delay", type=float, default=5.0)
    parser.add_argument("--name", required=True)
    parser.add_argument("--answer", required=True)
    parser.add_argument("--max-seconds", type=float, default=30.0)
    parser.add_argument("--max-queries", type=int, default=20)
    args = parser.parse_args()
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind((args.listen, 53))
    deadline = time.monotonic() + args.max_seconds
    pending: list[tuple[float, bytes, tuple[str, int]]] = []
    received = answered = 0
    while time.monotonic() < deadline and (received < args.max_queries or pending):
        now = time.monotonic()
        while pending and pending[0][0] <= now:
            _, response, peer = pending.pop(0)
            try:
                sock.sendto(response, peer)
                answered += 1
            except OSError:
                pass
        wait = min(deadline, pending[0][0] if pending else deadline) - now
        if received >= args.max_queries:
            time.sleep(max(0.0, min(wait, 1.0)))
            continue
        ready, _, _ = select.select([sock], [], [], max(0.0, min(wait, 1.0)))
        if not ready:
            continue
        packet, peer = sock.recvfrom(4096)
        received += 1
        response = answer(packet, args.name, args.answer)
        if response is not None:
            pending.append((time.monotonic() + args.delay, response, peer))
    print(f"received {received} queries, answered {answered}, each {args.delay:g} s late")


if __name__ == "__main__":
    main()
