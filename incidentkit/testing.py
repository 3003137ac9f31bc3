"""Packet building for tests and benchmarks: frames the scenario library does not have,
written as a pcap for the real tcpdump to render. Documentation addresses only."""

from __future__ import annotations

import struct
from collections.abc import Iterable
from pathlib import Path

#: MAC addresses of the scenario library's client and router.
CLIENT_MAC = bytes.fromhex("020000000015")
ROUTER_MAC = bytes.fromhex("020000000101")


def checksum(data: bytes) -> int:
    """The Internet checksum (RFC 1071) of ``data``."""
    if len(data) % 2:
        data += b"\0"
    total = sum(struct.unpack(f"!{len(data) // 2}H", data))
    while total >> 16:
        total = (total & 0xFFFF) + (total >> 16)
    return ~total & 0xFFFF


def dns_name(labels: Iterable[bytes]) -> bytes:
    """A DNS name in wire format; labels are bytes, so any byte can be in one."""
    return b"".join(bytes([len(label)]) + label for label in labels) + b"\0"


def dns_query(qid: int, labels: Iterable[bytes], qtype: int = 1) -> bytes:
    """A DNS query (recursion desired) for one name."""
    return (
        struct.pack("!HHHHHH", qid, 0x0100, 1, 0, 0, 0)
        + dns_name(labels)
        + struct.pack("!HH", qtype, 1)
    )


def ipv4(src: str, dst: str, proto: int, payload: bytes, ident: int = 1) -> bytes:
    """An IPv4 packet with a correct header checksum."""
    head = struct.pack(
        "!BBHHHBBH4s4s",
        0x45,
        0,
        20 + len(payload),
        ident & 0xFFFF,
        0,
        64,
        proto,
        0,
        bytes(map(int, src.split("."))),
        bytes(map(int, dst.split("."))),
    )
    return head[:10] + struct.pack("!H", checksum(head)) + head[12:] + payload


def udp(sport: int, dport: int, payload: bytes) -> bytes:
    """A UDP datagram (checksum 0: none)."""
    return struct.pack("!HHHH", sport, dport, 8 + len(payload), 0) + payload


def ethernet(packet: bytes, ethertype: int = 0x0800, outbound: bool = True) -> bytes:
    """An Ethernet frame between the client and its router."""
    src, dst = (CLIENT_MAC, ROUTER_MAC) if outbound else (ROUTER_MAC, CLIENT_MAC)
    return dst + src + struct.pack("!H", ethertype) + packet


def udp_frame(src: str, dst: str, sport: int, dport: int, payload: bytes) -> bytes:
    """Ethernet, IPv4 and UDP around ``payload``."""
    return ethernet(ipv4(src, dst, 17, udp(sport, dport, payload)))


def write_pcap(path: Path, frames: Iterable[tuple[float, bytes]]) -> Path:
    """Write ``(time, frame)`` pairs to a microsecond pcap of Ethernet frames, streaming."""
    with open(path, "wb") as out:
        out.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 262144, 1))
        for when, frame in frames:
            sec = int(when)
            usec = round((when - sec) * 1_000_000)
            out.write(struct.pack("<IIII", sec, usec, len(frame), len(frame)) + frame)
    return Path(path)
