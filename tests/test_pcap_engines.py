"""The capture reader's two engines: the compiled decoder and the pure-Python one give
identical frames, on every capture there is and on packets built to reach every branch
and every way of being cut short or damaged; the compiled one runs clean under
AddressSanitizer and UndefinedBehaviorSanitizer over all of them."""

from __future__ import annotations

import random
import struct
import warnings
from pathlib import Path

import pandas as pd
import pytest
from conftest import CORPUS, HOW_READ, SCENARIOS
from pcapgen import LINKTYPE_RAW, ether, ipv4, ipv6, pcap, udp
from sanitized import run_sanitized, sanitizer_build

import incidentkit as ik
from incidentkit.parse import pcap as pcap_reader
from incidentkit.testing import dns_name

CAPTURES = [
    *sorted(SCENARIOS.glob("*.pcap")),
    *sorted(SCENARIOS.glob("*.pcap.gz")),
    *sorted((SCENARIOS.parent / "cases").glob("*.pcap")),
    *sorted(CORPUS.glob("*.pcap")),
    *sorted(CORPUS.glob("*.pcapng")),
]
needs_c = pytest.mark.skipif(
    pcap_reader._fastpcap is None, reason="the compiled decoder is not built here"
)


def both(source) -> pd.DataFrame:
    """Read with each engine: the frames and what they say of the file must be the same."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ik.ParseWarning)
        fast = ik.read_pcap(source, engine="c")
        if hasattr(source, "seek"):
            source.seek(0)
        slow = ik.read_pcap(source, engine="python")
    pd.testing.assert_frame_equal(fast, slow)
    a = {k: v for k, v in fast.attrs["capture"].items() if k not in HOW_READ}
    b = {k: v for k, v in slow.attrs["capture"].items() if k not in HOW_READ}
    assert a == b
    assert fast.attrs["capture"]["engine"] == "c" and slow.attrs["capture"]["c_rows"] == 0
    return fast


@needs_c
@pytest.mark.parametrize("path", [p for p in CAPTURES if p.exists()], ids=lambda p: p.name)
def test_both_engines_read_every_capture_alike(path):
    try:
        df = both(path)
    except ik.InputError:  # (a damaged container: both refuse it, with the same words)
        with pytest.raises(ik.InputError) as fast:
            ik.read_pcap(path, engine="c")
        with pytest.raises(ik.InputError) as slow:
            ik.read_pcap(path, engine="python")
        assert str(fast.value) == str(slow.value)
        return
    if path.parent == SCENARIOS and len(df) > 1000:  # nearly all of a flood is read in C
        assert df.attrs["capture"]["c_rows"] >= 0.9 * len(df)


# --------------------------------------------------------------------------- built packets
CLIENT, SERVER, CLIENT6, SERVER6 = "192.0.2.10", "203.0.113.2", "2001:db8::10", "2001:db8:2::2"


def _name(text: str) -> bytes:
    return dns_name(label.encode("latin-1") for label in text.split(".") if label)


def _rr(owner: bytes, rtype: int, rdata: bytes, rclass: int = 1) -> bytes:
    return owner + struct.pack("!HHIH", rtype, rclass, 300, len(rdata)) + rdata


def _message(
    ident: int, flags: int, question: bytes, qtype: int, answers=(), ar: bytes = b"", **counts
) -> bytes:
    head = struct.pack(
        "!6H",
        ident,
        flags,
        counts.get("qd", 1),
        counts.get("an", len(answers)),
        counts.get("ns", 0),
        counts.get("ar", 1 if ar else 0),
    )
    return (
        head
        + question
        + struct.pack("!HH", qtype, counts.get("qclass", 1))
        + b"".join(answers)
        + ar
    )


OPT = b"\x00" + struct.pack("!HHIH", 41, 1232, 0, 0)
PTR = b"\xc0\x0c"


def messages() -> list[bytes]:
    """DNS messages of every shape the compiled decoder reads, and of its edges."""
    q = _name("www.example.com")
    a = _rr(PTR, 1, bytes([203, 0, 113, 80]))
    out = [
        _message(1, 0x0100, q, 1),  # a query
        _message(2, 0x0110, q, 28, ar=OPT),  # CD, and EDNS
        _message(3, 0x0000, q, 15),  # no flag
        _message(4, 0x0100, q, 65),  # a type the decoder has no name for
        _message(5, 0x0100, q, 1, qclass=3),  # CHAOS
        _message(6, 0x0300, q, 1),  # TC in a query ("weirdness")
        _message(7, 0x0100, q, 1, an=1),  # a query with an answer count
        _message(8, 0x0100, q, 1, qd=2),
        _message(9, 0x2100, q, 1),  # opcode 4 (notify)
        _message(10, 0x8180, q, 1, [a]),  # a response
        _message(11, 0x8580, q, 1, [a, _rr(PTR, 1, bytes([203, 0, 113, 81]))]),  # AA
        _message(12, 0x8183, q, 1),  # NXDomain
        _message(13, 0x8182, q, 1),  # ServFail
        _message(14, 0x8105, q, 1),  # Refused, RA unset
        _message(15, 0x81A0, q, 1, [a]),  # AD
        _message(16, 0x8380, q, 1, [a]),  # TC
        _message(17, 0x8180, q, 28, [_rr(PTR, 28, bytes(15) + b"\x01")]),  # ::1
        _message(
            18, 0x8180, q, 28, [_rr(PTR, 28, bytes(10) + b"\xff\xff" + bytes([192, 0, 2, 1]))]
        ),
        _message(
            19, 0x8180, q, 28, [_rr(PTR, 28, bytes.fromhex("20010db8000000000001000000000001"))]
        ),
        _message(
            20, 0x8180, q, 5, [_rr(PTR, 5, _name("cdn.example.net")), _rr(b"\xc0\x2d", 1, bytes(4))]
        ),
        _message(21, 0x8180, q, 15, [_rr(PTR, 15, b"\x00\x0a" + _name("mail.example.com"))]),
        _message(22, 0x8180, q, 15, [_rr(PTR, 15, b"\x00\x0a" + b"\x04mail\xc0\x10")]),
        _message(23, 0x8180, q, 16, [_rr(PTR, 16, b'\x0bv=spf1 -all\x03a"b')]),
        _message(24, 0x8180, q, 16, [_rr(PTR, 16, b"\x05a\x01b\xffc")]),  # unprintable
        _message(25, 0x8180, q, 16, [_rr(PTR, 16, b"\x09short")]),  # runs past its data
        _message(26, 0x8180, q, 1, [_rr(PTR, 1, bytes(5))]),  # A of 5 bytes
        _message(27, 0x8180, q, 1, [_rr(b"\xc0\x40", 1, bytes(4))]),  # pointer forward
        _message(28, 0x8180, q, 1, [_rr(b"\xc0\x1d", 1, bytes(4))]),  # pointer to itself
        _message(29, 0x8180, q, 1, [_rr(PTR, 1, bytes(4), rclass=3)]),  # class CHAOS
        _message(30, 0x8180, q, 1, [a], ar=OPT),  # EDNS in a response
        _message(31, 0x8180, q, 1, [a], ar=OPT[:5] + b"\x01" + OPT[6:]),  # extended rcode
        _message(32, 0x8180, q, 1, [a], ar=_rr(b"\x00", 1, bytes(4))),  # not an OPT
        _message(33, 0x8180, q, 2, [_rr(PTR, 2, _name("ns1.example.com"))]),  # NS
        _message(34, 0x8180, q, 1, [a], ns=1),
        _message(35, 0x8180, q, 1, an=3),  # claims 3, holds none
        _message(36, 0x8180, _name("a.b") + b"", 1, [a]),
        _message(37, 0x0100, _name("x" * 63 + "." + "y" * 63 + "." + "z" * 63 + "." + "w" * 61), 1),
        _message(38, 0x0100, _name("x" * 63 + "." + "y" * 63 + "." + "z" * 63 + "." + "w" * 62), 1),
        _message(39, 0x0100, _name("we\\ird.exa mple.com"), 1),
        _message(40, 0x0100, _name("UPPER.Example.COM"), 1),
        _message(41, 0x0100, _name("\x7f\x80.example"), 1),
        _message(42, 0x0100, b"\x00", 1),  # the root
        _message(43, 0x0100, b"\xc0\x0c", 1),  # a question that points at itself
        _message(44, 0x0100, b"\x41abc\x00", 1),  # a reserved label type
        b"\x00\x01\x01\x00\x00\x01",  # shorter than a header
    ]
    return out


def frames() -> list[bytes]:
    """Ethernet frames reaching every branch of the compiled decoder."""
    out = []
    for k, msg in enumerate(messages()):
        out.append(ether(ipv4(CLIENT, SERVER, 17, udp(CLIENT, SERVER, 40000 + k, 53, msg))))
        out.append(ether(ipv4(SERVER, CLIENT, 17, udp(SERVER, CLIENT, 53, 40000 + k, msg))))
        out.append(
            ether(ipv6(CLIENT6, SERVER6, 17, udp(CLIENT6, SERVER6, 40000 + k, 53, msg)), 0x86DD)
        )
    query = udp(CLIENT, SERVER, 41000, 53, messages()[0])
    sent = ipv4(CLIENT, SERVER, 17, query)
    for itype, code in [(3, c) for c in range(16)] + [
        (11, 0),
        (11, 1),
        (11, 2),
        (0, 0),
        (8, 0),
        (8, 3),
        (5, 1),
        (13, 0),
    ]:
        body = struct.pack("!BBHHH", itype, code, 0, 7, 9) + (
            sent if itype in (3, 11, 5) else b"echo"
        )
        out.append(ether(ipv4(SERVER, CLIENT, 1, body)))
    tcp_sent = ipv4(CLIENT, SERVER, 6, struct.pack("!HHII", 40001, 443, 5, 0) + bytes(12))
    icmp_sent = ipv4(CLIENT, SERVER, 1, b"\x08\x00" + bytes(6))
    for quoted in (tcp_sent, icmp_sent, sent[:20], sent[:24], sent[:27], sent[:10]):
        out.append(ether(ipv4(SERVER, CLIENT, 1, struct.pack("!BBHI", 3, 3, 0, 0) + quoted)))
    out.append(
        ether(
            ipv4(
                SERVER,
                CLIENT,
                1,
                struct.pack("!BBHI", 3, 3, 0, 0) + sent.replace(b"\x45", b"\x46", 1),
            )
        )
    )
    for flags in range(256):
        seg = struct.pack("!HHIIBBHHH", 443, 40002, 2**32 - 3, 77, 0x50, flags, 512, 0, 0) + b"data"
        out.append(ether(ipv4(SERVER, CLIENT, 6, seg)))
    dns_tcp = struct.pack("!HHIIBBHHH", 40003, 53, 1, 1, 0x50, 0x18, 512, 0, 0)
    out.append(ether(ipv4(CLIENT, SERVER, 6, dns_tcp + struct.pack("!H", 33) + messages()[0])))
    out.append(
        ether(ipv4(CLIENT, SERVER, 6, struct.pack("!HHIIBBHHH", 1, 2, 3, 4, 0x40, 2, 5, 0, 0)))
    )
    out.append(ether(ipv4(CLIENT, SERVER, 17, udp(CLIENT, SERVER, 5353, 5353, messages()[0]))))
    out.append(ether(ipv4(CLIENT, SERVER, 17, udp(CLIENT, SERVER, 9, 10, b"payload"))))
    out.append(ether(ipv4(CLIENT, SERVER, 47, b"gre")))
    out.append(ether(ipv6(CLIENT6, SERVER6, 58, b"\x80\x00\x00\x00\x00\x01\x00\x01"), 0x86DD))
    out.append(
        ether(
            ipv6("::ffff:192.0.2.1", SERVER6, 17, udp("::ffff:192.0.2.1", SERVER6, 1, 2, b"x")),
            0x86DD,
        )
    )
    out.append(ether(ipv6("::", "ff02::16", 17, udp("::", "ff02::16", 1, 2, b"x")), 0x86DD))
    for op in (1, 2, 3):
        arp = struct.pack(
            "!HHBBH6s4s6s4s",
            1,
            0x0800,
            6,
            4,
            op,
            bytes(range(6)),
            bytes([192, 0, 2, 1]),
            bytes(6),
            bytes([192, 0, 2, 2]),
        )
        out.append(ether(arp + bytes(18), 0x0806))
        out.append(ether(arp, 0x8035))
    vlan = ether(b"", 0x8100)[:14] + b"\x00\x05\x08\x00" + ipv4(CLIENT, SERVER, 17, query)
    out.append(vlan)
    qinq = (
        ether(b"", 0x88A8)[:14]
        + b"\x00\x05\x81\x00\x00\x06\x08\x00"
        + ipv4(CLIENT, SERVER, 17, query)
    )
    out.append(qinq)
    frag = bytearray(ipv4(CLIENT, SERVER, 17, query))
    frag[6:8] = b"\x00\x10"  # a later fragment
    out.append(ether(bytes(frag)))
    more = bytearray(ipv4(CLIENT, SERVER, 17, query))
    more[6:8] = b"\x20\x00"  # the first fragment
    out.append(ether(bytes(more)))
    padded = ether(ipv4(CLIENT, SERVER, 17, udp(CLIENT, SERVER, 1, 2, b"x"))) + bytes(20)
    out.append(padded)
    options = bytearray(ipv4(CLIENT, SERVER, 17, query))
    out.append(
        ether(
            bytes(options[:0])
            + b"\x46"
            + bytes(options[1:2])
            + struct.pack("!H", len(options) + 4)
            + bytes(options[4:20])
            + b"\x01\x01\x01\x00"
            + bytes(options[20:])
        )
    )
    out.extend(pppoe_frames(query))
    return out


def _pppoe(packet: bytes, protocol: int, session: int = 0x2A, code: int = 0) -> bytes:
    """An Ethernet frame of PPPoE (RFC 2516): session data of a PPP frame, or a discovery
    packet (a code, tags)."""
    body = struct.pack("!H", protocol) + packet if not code else packet
    head = struct.pack("!BBHH", 0x11, code, session, len(body))
    return ether(head + body, 0x8863 if code else 0x8864)


def pppoe_frames(query: bytes) -> list[bytes]:
    """PPPoE session packets of IPv4 and IPv6 (the compiled decoder's), and those it leaves
    to the Python one: no session id, LCP, a discovery PADI, a length past the frame."""
    packet = ipv4(CLIENT, SERVER, 17, query)
    packet6 = ipv6(CLIENT6, SERVER6, 17, udp(CLIENT6, SERVER6, 40000, 53, messages()[0]))
    long = bytearray(_pppoe(packet, 0x0021))
    long[18:20] = struct.pack("!H", len(packet) + 40)
    return [
        _pppoe(packet, 0x0021),
        _pppoe(packet6, 0x0057),
        _pppoe(packet, 0x0021, session=0),
        _pppoe(b"\x01\x01\x00\x04", 0xC021),
        _pppoe(b"\x01\x01\x00\x00", 0, session=0, code=0x09),
        bytes(long),
    ]


def _capture(frames_: list[bytes], linktype: int = 1) -> bytes:
    return pcap(frames_, linktype=linktype)


@needs_c
def test_both_engines_read_every_built_packet_alike():
    import io

    df = both(io.BytesIO(_capture(frames())))
    assert df.attrs["capture"]["c_rows"] > 300
    assert df["proto"].isin(["udp", "tcp", "icmp", "arp"]).sum() > 300


@needs_c
def test_both_engines_read_packets_cut_at_every_byte_alike():
    import io

    cut = []
    for frame in frames()[::3]:
        cut.extend((frame, size) for size in range(0, len(frame), 3))
    df = both(io.BytesIO(pcap(cut)))
    assert df["error"].notna().sum() > 100


@needs_c
def test_both_engines_read_damaged_packets_alike():
    import io

    rng = random.Random(1035)
    damaged = []
    base = frames()
    for _ in range(6000):
        frame = bytearray(rng.choice(base))
        for _ in range(rng.randrange(1, 4)):
            at = rng.randrange(len(frame))
            frame[at] = (
                rng.randrange(256) if rng.random() < 0.7 else frame[at] ^ (1 << rng.randrange(8))
            )
        damaged.append(bytes(frame))
    both(io.BytesIO(pcap(damaged)))


@needs_c
@pytest.mark.parametrize("linktype", [0, 12, 14, 101, 108, 113, 228, 229, 276, 147])
def test_both_engines_read_every_link_type_alike(linktype):
    import io

    packet = ipv4(CLIENT, SERVER, 17, udp(CLIENT, SERVER, 40000, 53, messages()[0]))
    packet6 = ipv6(CLIENT6, SERVER6, 17, udp(CLIENT6, SERVER6, 40000, 53, messages()[0]))
    heads = {
        0: [struct.pack("=I", 2), struct.pack("=I", 24)],
        108: [struct.pack("!I", 2), struct.pack("!I", 30)],
        113: [
            b"\x00\x00\x00\x01\x00\x06" + bytes(8) + b"\x08\x00",
            b"\x00\x00\x00\x01\x00\x04" + bytes(8) + b"\x86\xdd",
        ],
        276: [
            b"\x08\x00" + bytes(9) + b"\x06" + bytes(8),
            b"\x86\xdd" + bytes(9) + b"\x04" + bytes(8),
        ],
    }
    made = []
    for head in heads.get(linktype, [b"", b""]):
        made += [head + packet, head + packet6, head + packet[:30], head[:3]]
    df = both(io.BytesIO(pcap(made, linktype=linktype)))
    if linktype in (12, 14, 101, 113, 228, 229, 276):
        assert df.attrs["capture"]["c_rows"] >= 2
    assert LINKTYPE_RAW == 101


def tcpdump_words(data: bytes) -> str:
    """What the real tcpdump prints for the capture ``data`` (-nn -tttt, in UTC)."""
    import subprocess

    return subprocess.run(
        ["tcpdump", "-nn", "-tttt", "-r", "-"],
        input=data,
        capture_output=True,
        env={"TZ": "UTC", "PATH": "/usr/bin:/bin"},
        timeout=60,
        check=True,
    ).stdout.decode()


@needs_c
def test_pppoe_reads_as_tcpdump_prints_it_in_both_engines():
    """PPPoE session data, as a DSL line's capture holds it: both engines read the same
    rows, and those rows are what the text reader reads from tcpdump's own words."""
    import io

    query = udp(CLIENT, SERVER, 40000, 53, messages()[0])
    data = pcap(pppoe_frames(query))
    df = both(io.BytesIO(data))
    assert df.attrs["capture"]["c_rows"] >= 2
    printed = tcpdump_words(data)
    text = ik.parse_tcpdump(printed)
    session = [0, 1, 2, 5]  # (IPv4, IPv6, no session id, a length past the frame)
    for column in ("proto", "src", "dst", "sport", "dport", "dns_id", "dns_qname", "info"):
        assert df[column].iloc[session].tolist() == text[column].iloc[session].tolist(), column
    assert df["raw"].iloc[session[:3]].tolist() == printed.splitlines()[:3]
    assert df["proto"].iloc[[3, 4]].tolist() == ["other", "other"]


def _nflog(family: int, payload: bytes, order: str = "<", version: int = 0) -> bytes:
    """An NFLOG record as the kernel writes it: the header, NFULA_PACKET_HDR, a prefix,
    then the packet (TLV type 9), each TLV padded to 4 bytes; lengths and types in
    ``order``, the host's."""

    def tlv(kind: int, value: bytes) -> bytes:
        raw = struct.pack(order + "HH", 4 + len(value), kind) + value
        return raw + bytes(-len(raw) % 4)

    head = struct.pack("!BBH", family, version, 53)
    return head + tlv(1, b"\x08\x00\x03\x00") + tlv(10, b"dns-query\x00") + tlv(9, payload)


@needs_c
def test_both_engines_read_nflog_records_alike_and_as_tcpdump_prints_them():
    """LINKTYPE_NFLOG (239), what tcpdump -i nflog:N writes: IPv4 and IPv6 packets after
    TLVs in the byte order of the host that wrote the file (libpcap swaps them for a
    reader of the other order), and the records the compiled decoder leaves to the Python
    one (another version, another family, no packet, a TLV too short, cut anywhere)."""
    import io

    packet = ipv4(CLIENT, SERVER, 17, udp(CLIENT, SERVER, 40000, 53, messages()[0]))
    packet6 = ipv6(CLIENT6, SERVER6, 17, udp(CLIENT6, SERVER6, 40000, 53, messages()[0]))
    for order in "<>":
        good = [_nflog(2, packet, order), _nflog(10, packet6, order)]
        odd = [
            _nflog(2, packet, order, version=1),
            _nflog(7, packet, order),
            _nflog(2, packet, order)[:24],  # (the packet's TLV cut off)
            struct.pack("!BBH", 2, 0, 53) + struct.pack(order + "HH", 2, 9) + packet,
            struct.pack("!BBH", 2, 0, 53),  # (no TLV at all)
        ]
        cut = [(frame, size) for frame in good for size in range(0, len(frame), 7)]
        data = _pcap_in(order, good + odd + cut, 239)
        df = both(io.BytesIO(data))
        assert len(df) == len(good) + len(odd) + len(cut)
        assert df.attrs["capture"]["c_rows"] >= 2
        assert df["proto"].iloc[:2].tolist() == ["udp", "udp"]
        assert df["src"].iloc[:2].tolist() == [CLIENT, CLIENT6]
        assert df["dns_qname"].iloc[:2].notna().all()
        printed = tcpdump_words(data)
        assert df["raw"].iloc[:2].tolist() == printed.splitlines()[:2]


def _pcap_in(order: str, frames_: list, linktype: int) -> bytes:
    """A pcap file written by a host of byte order ``order`` (frames as in pcapgen.pcap)."""
    out = [struct.pack(order + "IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 262144, linktype)]
    for k, frame in enumerate(frames_):
        data, caplen = frame if isinstance(frame, tuple) else (frame, len(frame))
        out.append(struct.pack(order + "IIII", 1_700_000_000 + k, 0, caplen, len(data)))
        out.append(data[:caplen])
    return b"".join(out)


# --------------------------------------------------------------------------- sanitizers
DRIVER = """
import io, random, sys, warnings
from pathlib import Path

sys.path.insert(0, sys.argv[1])
import numpy as np
from incidentkit.parse import pcap as reader
from incidentkit.parse._pcapfile import read_frames

built = reader._fastpcap
assert built is not None and built.__file__.startswith(sys.argv[1]), built
warnings.simplefilter("ignore")


def exact(data):
    # a buffer of exactly len(data) bytes: a read past its end is a sanitizer's report
    return np.frombuffer(bytes(data), np.uint8).copy()


def one(packet, linktype, time):
    n = np.array
    fixed = tuple(reader.fixed_columns(1).values())
    built.decode(
        exact(packet), n([0], np.int64), n([len(packet)], np.int64), linktype, n([time]), fixed
    )


rng = random.Random(4884)
files = 0
for name in sys.argv[2:]:
    try:
        frames = read_frames(Path(name).read_bytes(), name)
    except Exception:
        continue
    files += 1
    data = frames.data
    if data[:4] in (b"\\xd4\\xc3\\xb2\\xa1", b"\\xa1\\xb2\\xc3\\xd4", b"\\x4d\\x3c\\xb2\\xa1"):
        for cut in (len(data), len(data) - 1, len(data) - 7, 40):
            built.walk(exact(data[:cut]), 24, 16, data[:4] == b"\\xa1\\xb2\\xc3\\xd4", 0)
    # every offset of the file as the start of a run of pcapng packet blocks, cut short
    for pos in range(0, min(len(data), 4000), 4):
        built.walk_epb(exact(data[pos : pos + 200]), 0, pos // 4 % 2, 2**31)
    reader.read_pcap(io.BytesIO(Path(name).read_bytes()), engine="c")
    # each packet alone, in a buffer of its own length, then cut and damaged
    for i in range(min(len(frames.offset), 3000)):
        o, c = int(frames.offset[i]), int(frames.caplen[i])
        packet = bytearray(data[o : o + c])
        lt = np.array([frames.linktype[i]], dtype=np.int32)
        for size in sorted({len(packet), len(packet) - 1, rng.randrange(len(packet) + 1)}):
            if size < 0:
                continue
            one(packet[:size], lt, 10**18)
        if packet:
            packet[rng.randrange(len(packet))] = rng.randrange(256)
            one(packet, lt, 0)
print("read", files, "files")
"""


@needs_c
def test_the_compiled_decoder_under_address_and_undefined_behaviour_sanitizers(tmp_path):
    package, env = sanitizer_build(tmp_path, "_fastpcap")
    built = tmp_path / "built.pcap"
    cut = []
    for frame in frames():
        cut.extend((frame, size) for size in range(0, len(frame) + 1, 5))
    built.write_bytes(pcap(frames() + cut))
    files = [p for p in CAPTURES if p.exists()] + [built]
    out = run_sanitized(tmp_path, DRIVER, package, env, files, "decoder")
    assert out.startswith("read ") and int(out.split()[1]) >= len(files) - 6


@needs_c
def test_a_capture_decoded_in_parts_is_the_frame_of_one_part(monkeypatch):
    import io

    data = _capture(frames() + [(f, len(f) // 2) for f in frames()])
    whole = both(io.BytesIO(data))
    monkeypatch.setattr(pcap_reader, "_PART_PACKETS", 7)  # (every part holds slow rows)
    monkeypatch.setattr(pcap_reader.os, "cpu_count", lambda: 5)
    parts = ik.read_pcap(io.BytesIO(data), engine="c")
    pd.testing.assert_frame_equal(parts, whole)
    assert parts["raw"].array._pa_array.num_chunks >= 5
    # a flood's capture, whose few packets for the Python decoder go in as chunks
    flood = SCENARIOS / "dos.pcap.gz"
    monkeypatch.setattr(pcap_reader, "_PART_PACKETS", 1000)
    pd.testing.assert_frame_equal(ik.read_pcap(flood), ik.read_pcap(flood, engine="python"))


@needs_c
def test_a_file_decoded_in_mapped_parts_lets_every_part_go_and_is_the_same_frame(
    monkeypatch, tmp_path
):
    """A capture file on disk is mapped, decoded in parts, and the pages of each part are
    given back once it is read; the frame is the one the same bytes give from memory."""
    import gzip
    import io

    path = tmp_path / "dos.pcap"
    path.write_bytes(gzip.decompress((SCENARIOS / "dos.pcap.gz").read_bytes()))
    # (damaged records too: the Python decoder reads those from the mapping afterwards)
    cut = tmp_path / "built.pcap"
    cut.write_bytes(_capture(frames() + [(f, len(f) // 2) for f in frames()]))
    monkeypatch.setattr(pcap_reader, "_PART_PACKETS", 7)
    monkeypatch.setattr(pcap_reader, "_MAPPED_PART", 50)
    monkeypatch.setattr(pcap_reader.os, "cpu_count", lambda: 2)
    released: list[tuple[int, int]] = []
    real = pcap_reader._release
    monkeypatch.setattr(
        pcap_reader, "_release", lambda data, a, b: (released.append((a, b)), real(data, a, b))
    )
    for file in (path, cut):
        released.clear()
        df = ik.read_pcap(file, engine="c")
        first, *parts = released
        from_memory = ik.read_pcap(io.BytesIO(file.read_bytes()), engine="c")
        pd.testing.assert_frame_equal(df, from_memory)
        pd.testing.assert_frame_equal(df, ik.read_pcap(file, engine="python"))
        # every packet's bytes were in a part that was let go after the first pass
        frames_ = pcap_reader.read_frames(file.read_bytes(), file.name)
        assert first == (0, file.stat().st_size)
        assert len(parts) == -(-len(frames_.offset) // 50)
        for o, c in zip(frames_.offset.tolist(), frames_.caplen.tolist(), strict=True):
            assert any(a <= o and o + c <= b for a, b in parts), o
        # and the mapping is gone when the reader returns
        assert str(file) not in Path("/proc/self/maps").read_text()


def test_a_mapped_file_is_let_go_when_the_reader_raises(tmp_path):
    path = tmp_path / "cut.pcap"
    path.write_bytes(_capture(frames())[:-9])  # (tcpdump killed while writing)
    with pytest.raises(ik.InputError, match="cut"):
        ik.read_pcap(path, strict=True)
    assert str(path) not in Path("/proc/self/maps").read_text()
    with pytest.warns(ik.ParseWarning, match="cut off"):
        assert len(ik.read_pcap(path)) == len(frames()) - 1


def test_a_capture_from_a_named_pipe_is_read_whole(tmp_path):
    """A pipe (``<(tcpdump -w - ...)``) cannot be mapped, nor read twice: it is read once,
    whole, and told apart from text by what it holds."""
    import io
    import os
    import threading

    data = _capture(frames())
    fifo = tmp_path / "live.pcap"
    os.mkfifo(fifo)

    def write() -> None:
        with open(fifo, "wb") as handle:
            handle.write(data)

    writer = threading.Thread(target=write, daemon=True)
    writer.start()
    df = ik.read(fifo)
    writer.join(timeout=30)
    assert not writer.is_alive()
    pd.testing.assert_frame_equal(df, ik.read_pcap(io.BytesIO(data)))
