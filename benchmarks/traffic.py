"""Deterministic packet captures that look like a busy resolver's traffic, for the benchmark.

The packets are written as a pcap and rendered by the real tcpdump, so the benchmark
reads what tcpdump prints, not text made up to look like it. The mix, per 100 records:
DNS queries and answers (A, AAAA, MX, TXT; some NXDomain and ServFail), DNS over IPv6,
ICMP port unreachable and admin-prohibited errors quoting a query, TCP sessions, ARP.
Addresses come from the documentation ranges only.
"""

from __future__ import annotations

import random
import struct
from collections.abc import Iterator
from pathlib import Path

from incidentkit import testing

ETH_CLIENT = testing.CLIENT_MAC
SERVER = "203.0.113.2"
SERVER6 = "2001:db8:2::2"
NAMES = [f"host{i}.example.com" for i in range(200)] + ["yummyrecipesforme.com"]
QTYPES = {"A": 1, "AAAA": 28, "MX": 15, "TXT": 16}


def _ip4(src: str, dst: str, proto: int, payload: bytes, ident: int) -> bytes:
    return testing.ipv4(src, dst, proto, payload, ident)


def _ip6(src: bytes, dst: bytes, nh: int, payload: bytes) -> bytes:
    return struct.pack("!IHBB", 0x60000000, len(payload), nh, 64) + src + dst + payload


def _v6(addr: str) -> bytes:
    import ipaddress

    return ipaddress.IPv6Address(addr).packed


def _name(name: str) -> bytes:
    return testing.dns_name(p.encode() for p in name.split("."))


def _dns(
    qid: int,
    name: str,
    qtype: str,
    *,
    response: bool = False,
    rcode: int = 0,
    answers: list[bytes] | None = None,
) -> bytes:
    flags = 0x8180 | rcode if response else 0x0100
    answers = answers or []
    head = struct.pack("!HHHHHH", qid, flags, 1, len(answers), 0, 0)
    question = _name(name) + struct.pack("!HH", QTYPES[qtype], 1)
    return head + question + b"".join(answers)


def _answer(qtype: str, rng: random.Random) -> bytes:
    ptr = b"\xc0\x0c"
    if qtype == "A":
        data = bytes([203, 0, 113, rng.randrange(1, 255)])
    elif qtype == "AAAA":
        data = _v6(f"2001:db8::{rng.randrange(1, 65535):x}")
    elif qtype == "MX":
        data = struct.pack("!H", 10) + _name("mail.example.com")
    else:
        text = b"v=spf1 -all"
        data = bytes([len(text)]) + text
    return ptr + struct.pack("!HHIH", QTYPES[qtype], 1, 300, len(data)) + data


_udp = testing.udp


def _tcp(sport: int, dport: int, seq: int, ack: int, flags: int, payload: bytes = b"") -> bytes:
    return struct.pack("!HHIIBBHHH", sport, dport, seq, ack, 0x50, flags, 64240, 0, 0) + payload


def _eth(frame: bytes, ethertype: int = 0x0800, out: bool = True) -> bytes:
    return testing.ethernet(frame, ethertype, outbound=out)


def packets(count: int, seed: int = 53) -> Iterator[bytes]:
    """``count`` Ethernet frames of the resolver mix, always the same for the same seed."""
    rng = random.Random(seed)
    made = 0
    ident = 0
    while made < count:
        roll = rng.random()
        client = f"198.51.100.{rng.randrange(2, 250)}"
        port = rng.randrange(1024, 65535)
        qid = rng.randrange(65536)
        name = rng.choice(NAMES)
        qtype = rng.choice(("A", "A", "A", "AAAA", "MX", "TXT"))
        ident += 1
        query = _dns(qid, name, qtype)
        if roll < 0.55:  # query and answer
            yield _eth(_ip4(client, SERVER, 17, _udp(port, 53, query), ident))
            rcode = 3 if rng.random() < 0.08 else (2 if rng.random() < 0.03 else 0)
            answers = [] if rcode else [_answer(qtype, rng) for _ in range(rng.randrange(1, 3))]
            reply = _dns(qid, name, qtype, response=True, rcode=rcode, answers=answers)
            yield _eth(_ip4(SERVER, client, 17, _udp(53, port, reply), ident + 1), out=False)
            made += 2
        elif roll < 0.65:  # DNS over IPv6
            c6 = _v6(f"2001:db8:1::{rng.randrange(2, 4000):x}")
            udp = _udp(port, 53, query)
            yield _eth(_ip6(c6, _v6(SERVER6), 17, udp), ethertype=0x86DD)
            made += 1
        elif roll < 0.75:  # a query refused with an ICMP error that quotes it
            sent = _ip4(client, SERVER, 17, _udp(port, 53, query), ident)
            yield _eth(sent)
            code, sender = (3, SERVER) if rng.random() < 0.7 else (13, "198.51.100.1")
            icmp = struct.pack("!BBHI", 3, code, 0, 0) + sent  # the whole query, as Linux does
            icmp = icmp[:2] + struct.pack("!H", testing.checksum(icmp)) + icmp[4:]
            yield _eth(_ip4(sender, client, 1, icmp, ident + 7), out=False)
            made += 2
        elif roll < 0.95:  # a short TCP session to port 443
            seq, ack = rng.randrange(2**31), rng.randrange(2**31)
            yield _eth(_ip4(client, SERVER, 6, _tcp(port, 443, seq, 0, 0x02), ident))
            yield _eth(
                _ip4(SERVER, client, 6, _tcp(443, port, ack, seq + 1, 0x12), ident), out=False
            )
            yield _eth(
                _ip4(
                    client,
                    SERVER,
                    6,
                    _tcp(port, 443, seq + 1, ack + 1, 0x18, b"\x16\x03\x01" + bytes(40)),
                    ident,
                )
            )
            yield _eth(_ip4(client, SERVER, 6, _tcp(port, 443, seq + 44, ack + 1, 0x11), ident))
            made += 4
        else:  # ARP
            who = f"198.51.100.{rng.randrange(2, 250)}"
            arp = struct.pack(
                "!HHBBH6s4s6s4s",
                1,
                0x0800,
                6,
                4,
                1,
                ETH_CLIENT,
                bytes(map(int, client.split("."))),
                bytes(6),
                bytes(map(int, who.split("."))),
            )
            yield b"\xff" * 6 + ETH_CLIENT + b"\x08\x06" + arp
            made += 1


def write_pcap(
    path: Path, count: int, seed: int = 53, *, start: float = 1795532000, gap: float = 0.001
) -> Path:
    """Write ``count`` records (at least; a session is not cut) ``gap`` seconds apart,
    from ``start`` (default 2026-11-24 12:53:20 UTC, one millisecond apart)."""
    frames = ((start + i * gap, f) for i, f in enumerate(packets(count, seed)))
    return testing.write_pcap(path, frames)
