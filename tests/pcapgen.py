"""Packets built byte by byte, written as a pcap file for the real tcpdump to render.

For layouts no recorded capture holds (tunnels, truncated frames, protocols the kit does
not decode): the bytes follow the RFCs, checksums included, so tcpdump prints them as it
prints the wire.
"""

from __future__ import annotations

import ipaddress
import struct
import subprocess
from collections.abc import Iterable
from pathlib import Path

from incidentkit.testing import checksum
from incidentkit.testing import dns_query as _dns_query

LINKTYPE_ETHERNET = 1
LINKTYPE_RAW = 101

MAC_A = bytes.fromhex("020000000001")
MAC_B = bytes.fromhex("020000000002")


def ether(payload: bytes, ethertype: int = 0x0800, src: bytes = MAC_A, dst: bytes = MAC_B) -> bytes:
    return dst + src + struct.pack("!H", ethertype) + payload


def ipv4(src: str, dst: str, proto: int, payload: bytes, ttl: int = 64, ident: int = 1) -> bytes:
    header = struct.pack(
        "!BBHHHBBH4s4s",
        0x45,
        0,
        20 + len(payload),
        ident,
        0,
        ttl,
        proto,
        0,
        ipaddress.IPv4Address(src).packed,
        ipaddress.IPv4Address(dst).packed,
    )
    return header[:10] + struct.pack("!H", checksum(header)) + header[12:] + payload


def ipv6(src: str, dst: str, next_header: int, payload: bytes, hlim: int = 64) -> bytes:
    return (
        struct.pack("!IHBB", 6 << 28, len(payload), next_header, hlim)
        + ipaddress.IPv6Address(src).packed
        + ipaddress.IPv6Address(dst).packed
        + payload
    )


def pseudo_header(src: str, dst: str, proto: int, length: int) -> bytes:
    a, b = ipaddress.ip_address(src), ipaddress.ip_address(dst)
    if a.version == 4:
        return a.packed + b.packed + struct.pack("!BBH", 0, proto, length)
    return a.packed + b.packed + struct.pack("!IxxxB", length, proto)


def udp(src: str, dst: str, sport: int, dport: int, payload: bytes) -> bytes:
    """A UDP datagram with its checksum over the pseudo-header of ``src`` and ``dst``."""
    length = 8 + len(payload)
    bare = struct.pack("!HHHH", sport, dport, length, 0) + payload
    value = checksum(pseudo_header(src, dst, 17, length) + bare) or 0xFFFF
    return bare[:6] + struct.pack("!H", value) + bare[8:]


def tcp(
    src: str, dst: str, sport: int, dport: int, seq: int, ack: int, flags: int, payload: bytes = b""
) -> bytes:
    """A TCP segment (no options; ``flags`` the header's bits: 0x02 SYN, 0x10 ACK, 0x18
    PSH and ACK) with its checksum over the pseudo-header of ``src`` and ``dst``."""
    bare = struct.pack("!HHIIHHHH", sport, dport, seq, ack, 5 << 12 | flags, 64240, 0, 0)
    bare += payload
    value = checksum(pseudo_header(src, dst, 6, len(bare)) + bare)
    return bare[:16] + struct.pack("!H", value) + bare[18:]


def icmp_echo(ident: int = 1, seq: int = 1, data: bytes = b"incidentkit") -> bytes:
    bare = struct.pack("!BBHHH", 8, 0, 0, ident, seq) + data
    return bare[:2] + struct.pack("!H", checksum(bare)) + bare[4:]


def dns_query(ident: int, name: str, qtype: int = 1) -> bytes:
    """A DNS query for ``name`` (dotted text), as :func:`incidentkit.testing.dns_query`."""
    return _dns_query(ident, [label.encode() for label in name.strip(".").split(".")], qtype)


def pcap(
    frames: Iterable[bytes | tuple[bytes, int]],
    linktype: int = LINKTYPE_ETHERNET,
    start: float = 1_700_000_000.0,
    step: float = 0.25,
) -> bytes:
    """A pcap file (microseconds, little-endian) of ``frames``; a frame given as
    ``(bytes, caplen)`` is saved cut to ``caplen`` bytes, as a short snap length does."""
    out = [struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 262144, linktype)]
    for k, frame in enumerate(frames):
        data, caplen = frame if isinstance(frame, tuple) else (frame, len(frame))
        ts = start + k * step
        sec, usec = int(ts), round((ts - int(ts)) * 1e6)
        out.append(struct.pack("<IIII", sec, usec, caplen, len(data)) + data[:caplen])
    return b"".join(out)


def render(capture: bytes, path: Path, *flags: str) -> str:
    """What the real tcpdump prints for ``capture`` (written to ``path``) with ``flags``."""
    path.write_bytes(capture)
    done = subprocess.run(
        ["tcpdump", "-r", str(path), *flags],
        capture_output=True,
        text=True,
        env={"TZ": "GMT0", "PATH": "/usr/sbin:/usr/bin:/sbin:/bin"},
        timeout=60,
        check=True,
    )
    return done.stdout
