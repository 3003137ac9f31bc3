"""The C scanner: the protocols it tells apart, and the tables it shares with the schema.

SCTP and DCCP print their ports as UDP does; both readers give them their own ``proto``.
The captures are built here, byte by byte, and rendered with the real tcpdump, so the
lines are the ones tcpdump prints. The scanner's tables (its columns and their widths,
the ``proto`` and ``dns_qr`` codes, the time kinds) are checked against the schema when
the reader loads it: a table that drifts is an ImportError that names what drifted.
"""

from __future__ import annotations

import importlib.util
import ipaddress
import re
import struct
import types
import warnings
from typing import Any

import pandas as pd
import pytest
from conftest import tcpdump
from pcapgen import checksum, pseudo_header

import incidentkit as ik
import incidentkit.parse
from incidentkit import schema
from incidentkit.parse import _cpath as cpath
from incidentkit.parse._source import read_source

HOW_READ = ("engine", "c_rows")


def values(column: pd.Series) -> list[object]:
    """A column's values, None where it is empty."""
    return [None if pd.isna(v) else v for v in column]


def both(text: str) -> pd.DataFrame:
    """Read ``text`` with each engine; the frames and their metadata must be identical."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ik.ParseWarning)
        fast = ik.parse_tcpdump(text, engine="c")
        slow = ik.parse_tcpdump(text, engine="python")
    pd.testing.assert_frame_equal(fast, slow)
    a = {k: v for k, v in fast.attrs["capture"].items() if k not in HOW_READ}
    b = {k: v for k, v in slow.attrs["capture"].items() if k not in HOW_READ}
    assert a == b
    assert slow.attrs["capture"]["c_rows"] == 0
    return fast


# --------------------------------------------------------------------------- captures
SRC4, DST4 = "192.0.2.1", "192.0.2.2"
SRC6, DST6 = "2001:db8::1", "2001:db8::2"
IPPROTO_DCCP, IPPROTO_UDP, IPPROTO_SCTP = 33, 17, 132
LINKTYPE_ETHERNET, LINKTYPE_RAW = 1, 101


def _with_checksum(segment: bytes, at: int, src: str, dst: str, proto: int) -> bytes:
    """``segment`` with its checksum (at byte ``at``) filled in."""
    value = checksum(pseudo_header(src, dst, proto, len(segment)) + segment)
    return segment[:at] + struct.pack("!H", value) + segment[at + 2 :]


def sctp_init(sport: int, dport: int) -> bytes:
    """An SCTP common header and one INIT chunk (RFC 9260 3.3.2; the CRC32c left zero,
    which tcpdump does not check)."""
    common = struct.pack("!HHII", sport, dport, 0, 0)  # ports, verification tag 0, checksum
    # type 1, flags, length 20; initiate tag, a_rwnd, outbound and inbound streams, TSN
    init = struct.pack("!BBHIIHHI", 1, 0, 20, 4660, 65535, 10, 10, 1)
    return common + init


def dccp_request(sport: int, dport: int, src: str, dst: str) -> bytes:
    """A DCCP-Request (RFC 4340 5.1, 5.2): the generic header with 48-bit sequence
    numbers (X = 1), then the service code; the checksum over the whole packet."""
    header = struct.pack(
        "!HHBBHBBHI",
        sport,
        dport,
        5,  # data offset: 5 words of header
        0,  # CCVal 0, CsCov 0 (the checksum covers the whole packet)
        0,  # checksum, filled in below
        0x01,  # type 0 (Request), X = 1
        0,  # reserved
        0,  # sequence number, high 16 bits
        42,  # sequence number, low 32 bits
    )
    service = struct.pack("!I", 0)
    return _with_checksum(header + service, 6, src, dst, IPPROTO_DCCP)


def udp(sport: int, dport: int, src: str, dst: str, payload: bytes = b"hello") -> bytes:
    segment = struct.pack("!HHHH", sport, dport, 8 + len(payload), 0) + payload
    return _with_checksum(segment, 6, src, dst, IPPROTO_UDP)


def ipv4(proto: int, payload: bytes, src: str = SRC4, dst: str = DST4) -> bytes:
    header = struct.pack(
        "!BBHHHBBH4s4s",
        0x45,  # version 4, 5 words of header
        0,
        20 + len(payload),
        1,  # id
        0,  # no flags, offset 0
        64,  # TTL
        proto,
        0,  # checksum, filled in below
        ipaddress.ip_address(src).packed,
        ipaddress.ip_address(dst).packed,
    )
    return header[:10] + struct.pack("!H", checksum(header)) + header[12:] + payload


def ipv6(next_header: int, payload: bytes, src: str = SRC6, dst: str = DST6) -> bytes:
    return (
        struct.pack("!IHBB", 6 << 28, len(payload), next_header, 64)  # hop limit 64
        + ipaddress.ip_address(src).packed
        + ipaddress.ip_address(dst).packed
        + payload
    )


def pcap(packets: list[bytes], linktype: int, snaplen: int = 65535) -> bytes:
    """A classic pcap file of ``packets``, one a second, each cut to ``snaplen`` bytes;
    on Ethernet each gets a frame header (IPv4 or IPv6 by its first nibble)."""
    out = struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, linktype)
    for k, packet in enumerate(packets):
        if linktype == LINKTYPE_ETHERNET:
            ethertype = 0x86DD if packet[0] >> 4 == 6 else 0x0800
            packet = (
                # to 02:00:00:00:00:02, from 02:00:00:00:00:01
                bytes.fromhex("020000000002 020000000001") + struct.pack("!H", ethertype) + packet
            )
        kept = packet[:snaplen]
        out += struct.pack("<IIII", 1_700_000_000 + k, 0, len(kept), len(packet)) + kept
    return out


def capture() -> list[bytes]:
    """SCTP, DCCP and UDP, over IPv4 and then over IPv6."""
    return [
        ipv4(IPPROTO_SCTP, sctp_init(5000, 6000)),
        ipv4(IPPROTO_DCCP, dccp_request(5001, 5002, SRC4, DST4)),
        ipv4(IPPROTO_UDP, udp(5003, 5004, SRC4, DST4)),
        ipv6(IPPROTO_SCTP, sctp_init(5000, 6000)),
        ipv6(IPPROTO_DCCP, dccp_request(5001, 5002, SRC6, DST6)),
        ipv6(IPPROTO_UDP, udp(5003, 5004, SRC6, DST6)),
    ]


# --------------------------------------------------------------------------- SCTP and DCCP
RENDERINGS = [
    ("-nn",),
    ("-nn", "-v"),
    ("-nn", "-vv"),  # (SCTP's chunks on lines of their own)
    ("-nn", "-t"),
    ("-nn", "-t", "-v"),
    ("-nn", "-tt"),
    ("-nn", "-e"),
]
LINKS = {"ethernet": LINKTYPE_ETHERNET, "raw": LINKTYPE_RAW}


@pytest.mark.parametrize("link", list(LINKS))
@pytest.mark.parametrize("flags", RENDERINGS, ids=" ".join)
def test_sctp_and_dccp_are_their_own_protocols_not_udp(tmp_path, link, flags):
    path = tmp_path / "sctp-dccp-udp.pcap"
    path.write_bytes(pcap(capture(), LINKS[link]))
    df = both(tcpdump(path, *flags))
    assert df["proto"].tolist() == ["sctp", "dccp", "udp"] * 2
    assert df["src"].tolist() == [SRC4] * 3 + [SRC6] * 3
    assert df["dst"].tolist() == [DST4] * 3 + [DST6] * 3
    assert df["sport"].tolist() == [5000, 5001, 5003] * 2
    assert df["dport"].tolist() == [6000, 5002, 5004] * 2
    # SCTP and DCCP print no length ("sctp (1) [INIT]": the 1 numbers a chunk); UDP's is
    # its payload's
    assert values(df["length"]) == [None, None, 5] * 2
    verbose = "-v" in flags or "-vv" in flags
    assert values(df["ttl"]) == [64 if verbose else None] * 6
    assert (df["info"].str.startswith("sctp") == (df["proto"] == "sctp")).all()
    if "-t" not in flags and "-vv" not in flags and "-e" not in flags:
        # (the layouts the scanner reads itself: the C side made these rows)
        assert df.attrs["capture"]["c_rows"] == 6


@pytest.mark.parametrize("flags", [("-nn",), ("-nn", "-v")], ids=" ".join)
def test_a_cut_sctp_packet_is_sctp_and_a_dccp_one_without_ports_is_ip(tmp_path, flags):
    """Cut short, SCTP prints its ports and "sctp [|sctp]"; DCCP prints no ports (" [|dccp]"),
    so it is no DCCP record even where the -v header names DCCP."""
    path = tmp_path / "cut.pcap"
    packets = [
        ipv4(IPPROTO_SCTP, sctp_init(5000, 6000)),
        ipv4(IPPROTO_DCCP, dccp_request(5001, 5002, SRC4, DST4)),
        ipv4(IPPROTO_UDP, udp(5003, 5004, SRC4, DST4)),
    ]
    path.write_bytes(pcap(packets, LINKTYPE_RAW, snaplen=20 + 12))
    text = tcpdump(path, *flags)
    assert "sctp [|sctp]" in text and "[|dccp]" in text
    df = both(text)
    assert df["proto"].tolist() == ["sctp", "ip", "udp"]
    assert values(df["sport"]) == [5000, None, 5003]
    assert values(df["length"])[::2] == [None, 5]


def test_the_udp_count_leaves_sctp_and_dccp_out(tmp_path):
    """The UDP count of a log of SCTP, DCCP and UDP is its UDP packets alone."""
    path = tmp_path / "sctp-dccp-udp.pcap"
    path.write_bytes(pcap(capture() * 50, LINKTYPE_ETHERNET))
    for flags in (("-nn",), ("-nn", "-v")):
        counts = both(tcpdump(path, *flags))["proto"].value_counts()
        assert (counts["udp"], counts["sctp"], counts["dccp"]) == (100, 100, 100)


# --------------------------------------------------------------------------- the C tables
needs_c = pytest.mark.skipif(cpath._fastscan is None, reason="the C scanner is not built")


def tables() -> dict[str, Any]:
    """The built scanner's tables, by the name of their attribute."""
    return {name: getattr(cpath._fastscan, name) for name in cpath._TABLES}


@needs_c
def test_the_scanner_tables_agree_with_the_schema():
    t = tables()
    assert cpath._check_tables(*t.values()) == cpath._FAST_NUMBERS
    assert t["PROTOCOLS"] == schema.PROTOCOLS
    assert t["DNS_QR"] == ("query", "response")
    kinds = "none clock dated epoch delta bad_date invalid fraction"
    assert t["TIME_KINDS"] == tuple(kinds.split())
    assert t["STR_COLUMNS"] == cpath._FAST_STRINGS
    for name, width in t["NUM_COLUMNS"]:
        assert cpath._FAST_NUMBERS[name].bit_width == 8 * width, name
    # the frame's columns, as the schema says, and the C reader made its rows
    df = ik.parse_tcpdump("13:24:32.1 IP 192.0.2.1.5 > 203.0.113.2.53: 1+ A? x. (30)\n")
    assert df.attrs["capture"]["c_rows"] == 1
    assert df.dtypes.to_dict() == schema.empty_frame().dtypes.to_dict()


def _changed(name: str, old: object, new: object) -> tuple[object, ...]:
    """The table ``name`` with ``old`` replaced by ``new`` (None: left out)."""
    return tuple(new if item == old else item for item in tables()[name] if new or item != old)


def _swapped(name: str, a: object, b: object) -> tuple[object, ...]:
    return tuple(b if item == a else a if item == b else item for item in tables()[name])


DRIFTS = {
    "a width changed": (
        "NUM_COLUMNS",
        lambda: _changed("NUM_COLUMNS", ("sport", 2), ("sport", 4)),
        "number column 'sport' is 4 bytes wide, the schema's UInt16 is 2",
    ),
    "a code's width changed": (
        "NUM_COLUMNS",
        lambda: _changed("NUM_COLUMNS", ("proto", 1), ("proto", 2)),
        "number column 'proto' is 2 bytes wide, its code is 1",
    ),
    "a number column the schema has not": (
        "NUM_COLUMNS",
        lambda: (*tables()["NUM_COLUMNS"], ("tcp_urg", 2)),
        "number column 'tcp_urg' (2 bytes) is not a schema column",
    ),
    "a number column the schema has as text": (
        "NUM_COLUMNS",
        lambda: (*tables()["NUM_COLUMNS"], ("src", 4)),
        "number column 'src' (4 bytes) is the schema's string[pyarrow]",
    ),
    "a code column missing": (
        "NUM_COLUMNS",
        lambda: _changed("NUM_COLUMNS", ("_tval", 8), None),
        "number column '_tval' is missing",
    ),
    "a number column twice": (
        "NUM_COLUMNS",
        lambda: (*tables()["NUM_COLUMNS"], ("ttl", 1)),
        "number column 'ttl' is there twice",
    ),
    "a string column the schema has not": (
        "STR_COLUMNS",
        lambda: (*tables()["STR_COLUMNS"], "tcp_options"),
        "string column 'tcp_options' is not a schema column",
    ),
    "a string column the schema has as a number": (
        "STR_COLUMNS",
        lambda: (*tables()["STR_COLUMNS"], "dport"),
        "string column 'dport' is text, the schema's dtype is UInt16",
    ),
    "a protocol reordered": (
        "PROTOCOLS",
        lambda: _swapped("PROTOCOLS", "sctp", "dccp"),
        "proto code 2 is 'dccp', the schema's category 2 is 'sctp'",
    ),
    "a protocol missing": (
        "PROTOCOLS",
        lambda: _changed("PROTOCOLS", "dccp", None),
        "proto code 3 is 'icmp', the schema's category 3 is 'dccp'",
    ),
    "a protocol more": (
        "PROTOCOLS",
        lambda: (*tables()["PROTOCOLS"], "quic"),
        "proto code 11 is 'quic', the schema's category 11 is None",
    ),
    "the dns_qr codes swapped": (
        "DNS_QR",
        lambda: ("response", "query"),
        "dns_qr code 0 is 'response', the schema's category 0 is 'query'",
    ),
    "a time kind renamed": (
        "TIME_KINDS",
        lambda: _changed("TIME_KINDS", "epoch", "unix"),
        "time kind 3 is 'unix', _times.py's _T_UNIX does not exist",
    ),
    "the time kinds reordered": (
        "TIME_KINDS",
        lambda: _swapped("TIME_KINDS", "dated", "epoch"),
        "time kind 2 is 'epoch', _times.py's _T_EPOCH is 3",
    ),
    "a time kind missing": (
        "TIME_KINDS",
        lambda: _changed("TIME_KINDS", "fraction", None),
        "time kind _T_FRACTION (7) of _times.py is missing",
    ),
}


@needs_c
@pytest.mark.parametrize(("table", "drifted", "words"), DRIFTS.values(), ids=list(DRIFTS))
def test_a_drifted_table_is_an_import_error_that_names_it(table, drifted, words):
    t = {**tables(), table: drifted()}
    with pytest.raises(cpath.ScannerTableError, match=re.escape(words)):
        cpath._check_tables(*t.values())
    assert issubclass(cpath.ScannerTableError, ImportError)


def _load_cpath_with(monkeypatch, fake: types.ModuleType) -> None:
    """Run _cpath.py anew with ``fake`` as the built extension (the module in use stays)."""
    monkeypatch.setattr(incidentkit.parse, "_fastscan", fake)
    spec = importlib.util.spec_from_file_location("incidentkit.parse._cpath", cpath.__file__)
    assert spec is not None and spec.loader is not None
    spec.loader.exec_module(importlib.util.module_from_spec(spec))


@needs_c
def test_loading_a_drifted_scanner_fails_at_import(monkeypatch):
    fake = types.ModuleType("incidentkit.parse._fastscan")
    fake.__file__ = cpath._fastscan.__file__
    for name, value in tables().items():
        setattr(fake, name, value)
    _load_cpath_with(monkeypatch, fake)  # the same tables: it loads
    fake.PROTOCOLS = _swapped("PROTOCOLS", "udp", "sctp")
    with pytest.raises(ImportError, match=re.escape("proto code 0 is 'sctp'")):
        _load_cpath_with(monkeypatch, fake)


@needs_c
def test_a_scanner_built_before_its_tables_is_refused(monkeypatch):
    stale = types.ModuleType("incidentkit.parse._fastscan")
    stale.__file__ = cpath._fastscan.__file__
    with pytest.raises(ImportError, match=r"has no NUM_COLUMNS, STR_COLUMNS.*build it again"):
        _load_cpath_with(monkeypatch, stale)


def test_the_buffer_a_log_is_read_into_is_a_bytearray_of_that_size(tmp_path):
    scanner = cpath._fastscan
    assert scanner is not None
    for size in (0, 1, 4095, 5 << 20):
        buf = scanner.buffer(size)
        assert type(buf) is bytearray and len(buf) == size
    with pytest.raises(ValueError, match="negative"):
        scanner.buffer(-1)
    # a log read into one holds its bytes, and no byte of what the memory held before
    log = tmp_path / "big.log"
    line = b"13:24:32.192571 IP 192.0.2.1.5 > 192.0.2.2.53: 1+ A? example.com. (29)\n"
    log.write_bytes(line * 100_000)
    data, _ = read_source(log)
    assert type(data) is bytearray and bytes(data) == line * 100_000
