"""The container reader (:mod:`incidentkit.parse._pcapfile`) against the real tools.

Every capture of tcpdump's regression corpus and of the scenario library, and files
written here byte by byte with :mod:`struct`, are read and compared with what the tools
say of the same file:

- tshark, ``-T fields -e frame.number -e frame.time_epoch -e frame.len -e frame.cap_len
  -e frame.interface_id`` (compared with TShark 4.0.17, Debian 12): packet count, time,
  original and captured length of each packet;
- tcpdump, ``-# -n -q -tt`` with TZ=UTC, and ``--time-stamp-precision=nano`` for all but
  microsecond pcap files (compared with tcpdump 4.99.3, libpcap 1.10.3): packet numbers
  and times, and its error message where it refuses a file.

Where those versions of the tools are wrong (their 64-bit arithmetic overflows on time
stamps of 2^-40 s, and tshark's on 10^-12 s) or refuse what the specification allows
(sections of two byte orders, interfaces of two link types), the test says so and checks
the reader against the exact value instead. Files the tools reject must give a clear
``InputError`` or a ``truncated`` note, never another exception.
"""

from __future__ import annotations

import functools
import gzip
import random
import re
import shutil
import struct
import subprocess
import time
import tracemalloc
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from conftest import CORPUS, SCENARIOS, SEED_LOG, tcpdump
from pcapgen import ether, ipv4, udp

from incidentkit.errors import InputError
from incidentkit.parse import _pcapfile
from incidentkit.parse._pcapfile import NAT, Frames, capture_kind, read_frames

CORPUS_FILES = sorted(CORPUS.glob("*.pcap")) + sorted(CORPUS.glob("*.pcapng"))
SCENARIO_FILES = sorted(SCENARIOS.glob("*.pcap")) + sorted(SCENARIOS.glob("*.pcap.gz"))
LE, BE = "<", ">"

# --------------------------------------------------------------------------------------
# the oracles


@dataclass(frozen=True)
class Seen:
    """One packet as tshark shows it."""

    number: int
    time_ns: int | None  # None: tshark shows no time
    length: int
    caplen: int
    interface: int | None


def _epoch_ns(text: str) -> int | None:
    """``1418145369.999999000`` or ``1418145369.999999`` as integer nanoseconds; None for
    anything else (such as a fraction of 7 or 10 digits, as tcpdump prints invalid ones)."""
    match = re.fullmatch(r"(\d+)\.(\d{6}|\d{9})", text)
    if match is None:
        return None
    return int(match[1]) * 10**9 + int(match[2].ljust(9, "0"))


@functools.cache
def _tshark_run(path: Path) -> tuple[tuple[Seen, ...], str]:
    exe = shutil.which("tshark")
    if exe is None:
        pytest.fail("tshark is not installed: .ci/run installs it (apt-get install tshark)")
    fields = ["frame.number", "frame.time_epoch", "frame.len", "frame.cap_len"]
    args = [exe, "-n", "-r", str(path), "-T", "fields"]
    for name in [*fields, "frame.interface_id"]:
        args += ["-e", name]
    result = subprocess.run(
        args,
        capture_output=True,
        text=True,
        env={"TZ": "UTC", "PATH": "/usr/bin:/bin"},
        timeout=120,
    )
    rows = []
    for line in result.stdout.splitlines():
        number, epoch, length, caplen, iface = line.split("\t")
        rows.append(
            Seen(
                int(number),
                _epoch_ns(epoch),
                int(length),
                int(caplen),
                int(iface) if iface else None,
            )
        )
    return tuple(rows), result.stderr


def _tshark(path: Path) -> list[Seen]:
    """The packets tshark shows (of a pcapng, the records with an interface: tshark 4.0
    also lists Custom Blocks as records)."""
    rows, _ = _tshark_run(path)
    if capture_kind(_head(path)) == "pcapng":
        packets = [row for row in rows if row.interface is not None]
        return [replace(row, number=i + 1) for i, row in enumerate(packets)]
    return list(rows)


def _head(path: Path) -> bytes:
    data = path.read_bytes()
    return gzip.decompress(data)[:16] if data[:2] == b"\x1f\x8b" else data[:16]


_TCPDUMP_LINE = re.compile(r"^ *(\d+)  (\S+) ")


def _tcpdump_flags(path: Path) -> tuple[str, ...]:
    """Packet numbers and epoch times, in the file's own precision: libpcap 1.10.3 scales
    a microsecond pcap to nanoseconds in 32 bits, so an invalid fraction would print as
    a valid one (2147483648 us as .000000000)."""
    flags = ("-#", "-n", "-q", "-tt")
    if capture_kind(_head(path)) == "pcap":
        return flags
    return (*flags, "--time-stamp-precision=nano")


def _tcpdump_rows(text: str) -> list[tuple[int, int | str]]:
    """(packet number, time) per record line: the time in ns, "invalid" when tcpdump
    prints a time of a fraction that is not 9 digits, "none" when it prints none (it
    shows "[Invalid header: ...]" instead)."""
    rows: list[tuple[int, int | str]] = []
    for line in text.splitlines():
        match = _TCPDUMP_LINE.match(line)
        if match:
            stamp = _epoch_ns(match[2])
            if stamp is not None:
                rows.append((int(match[1]), stamp))
            else:
                shown = re.fullmatch(r"-?\d+\.\d+", match[2])
                rows.append((int(match[1]), "invalid" if shown else "none"))
    return rows


def _tcpdump_lenient(path: Path) -> tuple[list[tuple[int, int | str]], str]:
    """tcpdump on a file it may refuse part way: the records it printed, and stderr."""
    exe = shutil.which("tcpdump")
    if exe is None:
        pytest.fail("tcpdump is not installed (apt-get install tcpdump)")
    result = subprocess.run(
        [exe, "-r", str(path), *_tcpdump_flags(path)],
        capture_output=True,
        text=True,
        env={"TZ": "UTC", "PATH": "/usr/bin:/bin"},
        timeout=120,
    )
    return _tcpdump_rows(result.stdout), result.stderr


def _read(path: Path, **kwargs: bool) -> Frames:
    return read_frames(path.read_bytes(), path.name, **kwargs)


def _agree_with_tshark(frames: Frames, seen: list[Seen]) -> None:
    """Count, and per packet time (where tshark shows one), wire length and caplen."""
    assert len(frames.offset) == len(seen) == frames.meta["packets"]
    for i, row in enumerate(seen):
        assert row.number == i + 1
        assert frames.origlen[i] == row.length, (i + 1, frames.error[i])
        assert frames.caplen[i] == row.caplen, (i + 1, frames.error[i])
        if row.time_ns is not None and frames.time_ns[i] != NAT:
            assert frames.time_ns[i] == row.time_ns, (i + 1, frames.error[i])


def _agree_with_tcpdump(frames: Frames, rows: list[tuple[int, int | str]]) -> None:
    """Count, and times: equal where tcpdump's is valid, NaT with a reason where tcpdump
    says it is invalid (and no check where tcpdump prints no time)."""
    assert [number for number, _ in rows] == list(range(1, len(frames.offset) + 1))
    for number, stamp in rows:
        i = number - 1
        if stamp == "invalid":
            assert frames.time_ns[i] == NAT
            assert "time stamp" in (frames.error[i] or "")
        elif stamp != "none":
            assert frames.time_ns[i] == stamp, (number, frames.error[i])


# --------------------------------------------------------------------------------------
# writing captures byte by byte


def _frame(i: int) -> bytes:
    """An Ethernet frame holding a UDP datagram to port 53, a little longer for each i."""
    body = udp("192.0.2.1", "192.0.2.53", 40000 + i, 53, b"x" * (i + 1))
    return ether(ipv4("192.0.2.1", "192.0.2.53", 17, body))


def _raw(i: int) -> bytes:
    """An IPv4 datagram (LINKTYPE_RAW)."""
    return ipv4("192.0.2.1", "192.0.2.53", 17, udp("192.0.2.1", "192.0.2.53", 41000 + i, 53, b"y"))


def _pcap(
    records: list[tuple[int, int, bytes]] | list[tuple[int, int, bytes, int, int]],
    *,
    order: str = LE,
    magic: int = 0xA1B2C3D4,
    version: tuple[int, int] = (2, 4),
    snaplen: int = 65535,
    linktype: int = 1,
) -> bytes:
    """A pcap file; a record is (seconds, fraction, data[, incl_len, orig_len])."""
    out = [struct.pack(order + "IHHiIII", magic, *version, 0, 0, snaplen, linktype)]
    for record in records:
        sec, frac, payload = record[:3]
        incl, orig = record[3:] if len(record) == 5 else (len(payload), len(payload))
        out.append(struct.pack(order + "IIII", sec, frac, incl, orig) + payload)
    return b"".join(out)


def _pad(data: bytes) -> bytes:
    return data + b"\0" * (-len(data) % 4)


def _block(order: str, block_type: int, body: bytes) -> bytes:
    body = _pad(body)
    total = 12 + len(body)
    return struct.pack(order + "II", block_type, total) + body + struct.pack(order + "I", total)


def _options(order: str, *items: tuple[int, bytes]) -> bytes:
    if not items:
        return b""
    packed = b"".join(struct.pack(order + "HH", code, len(v)) + _pad(v) for code, v in items)
    return packed + struct.pack(order + "HH", 0, 0)


def _shb(order: str, major: int = 1, minor: int = 0) -> bytes:
    return _block(order, 0x0A0D0D0A, struct.pack(order + "IHHq", 0x1A2B3C4D, major, minor, -1))


def _idb(order: str, linktype: int = 1, snaplen: int = 0, *options: tuple[int, bytes]) -> bytes:
    return _block(
        order, 1, struct.pack(order + "HHI", linktype, 0, snaplen) + _options(order, *options)
    )


def _epb(order: str, iface: int, ts: int, payload: bytes, caplen: int | None = None) -> bytes:
    cap = len(payload) if caplen is None else caplen
    head = struct.pack(order + "IIIII", iface, ts >> 32, ts & 0xFFFFFFFF, cap, len(payload))
    return _block(order, 6, head + payload)


def _pb(order: str, iface: int, ts: int, payload: bytes, drops: int = 0) -> bytes:
    head = struct.pack(
        order + "HHIIII", iface, drops, ts >> 32, ts & 0xFFFFFFFF, len(payload), len(payload)
    )
    return _block(order, 2, head + payload)


def _spb(order: str, orig: int, payload: bytes) -> bytes:
    return _block(order, 3, struct.pack(order + "I", orig) + payload)


def _tsresol(value: int) -> tuple[int, bytes]:
    return (9, bytes([value]))


def _write(tmp_path: Path, name: str, data: bytes) -> Path:
    path = tmp_path / name
    path.write_bytes(data)
    return path


def _five_packets() -> tuple[bytes, list[int]]:
    """A pcap of five packets and the byte offset of each record."""
    records = [(1700000000 + i, 1000 * i, _frame(i)) for i in range(5)]
    starts = [24]
    for _, _, payload in records:
        starts.append(starts[-1] + 16 + len(payload))
    return _pcap(records), starts


# --------------------------------------------------------------------------------------
# recognising a capture


def test_capture_kind_tells_every_magic_in_either_byte_order():
    assert capture_kind(bytes.fromhex("d4c3b2a1")) == "pcap"
    assert capture_kind(bytes.fromhex("a1b2c3d4")) == "pcap"
    assert capture_kind(bytes.fromhex("4d3cb2a1")) == "pcap-ns"
    assert capture_kind(bytes.fromhex("a1b23c4d")) == "pcap-ns"
    assert capture_kind(bytes.fromhex("34cdb2a1")) == "pcap"  # the modified format
    assert capture_kind(_shb(LE)) == "pcapng"
    assert capture_kind(_shb(BE)) == "pcapng"
    assert capture_kind(_shb(LE)[:11]) is None  # too short to show the byte-order magic
    assert capture_kind(b"\n\r\r\n\x1c\0\0\0garbage!") is None
    assert capture_kind(gzip.compress(_pcap([]))) is None
    assert capture_kind(SEED_LOG.read_bytes()[:64]) is None
    assert capture_kind(b"") is None


# --------------------------------------------------------------------------------------
# tcpdump's corpus and the scenarios


def test_corpus_is_present_or_the_skip_says_why():
    if not CORPUS_FILES:
        pytest.skip(f"tcpdump's regression corpus is not at {CORPUS} (it lives in ../shared)")
    assert len(CORPUS_FILES) >= 90
    assert any(p.suffix == ".pcapng" for p in CORPUS_FILES)


@pytest.mark.corpus
@pytest.mark.parametrize("path", CORPUS_FILES, ids=lambda p: p.name)
def test_corpus_capture_reads_as_tshark_and_tcpdump_read_it(path):
    frames = _read(path)
    _agree_with_tshark(frames, _tshark(path))
    _agree_with_tcpdump(frames, _tcpdump_rows(tcpdump(path, *_tcpdump_flags(path))))
    assert frames.meta["truncated"] is None
    assert frames.meta["trailing_bytes"] == 0
    assert (frames.offset + frames.caplen <= len(frames.data)).all()


def test_corpus_invalid_time_stamps_are_nat_with_the_reason():
    """tcpdump prints these with "(invalid us)"; tshark 4.0.17 prints a fraction of ten
    digits for one and a wrapped value for the other: there is no right time to give."""
    path = CORPUS / "timestamp_invalid_micro.pcap"
    if not path.exists():
        pytest.skip(f"tcpdump's regression corpus is not at {CORPUS}")
    frames = _read(path)
    assert frames.time_ns[0] == 1418145369_999999000
    assert (frames.time_ns[1:] == NAT).all()
    assert frames.error[1] == (
        "the time stamp's microseconds (1000000) are not below 1000000: no time"
    )
    nano = _read(CORPUS / "timestamp_invalid_nano.pcap")
    assert nano.time_ns[0] == 1418145369_999999999
    assert "nanoseconds (2147483648)" in (nano.error[2] or "")


def test_corpus_lengths_past_the_snapshot_length_are_kept_as_tshark_keeps_them():
    """libpcap cuts these packets to the snapshot length (37 bytes); tshark and the reader
    keep the 64 bytes the file holds, and the reader says why they are odd."""
    path = CORPUS / "icmp-icmp_print-oobr-1.pcap"
    if not path.exists():
        pytest.skip(f"tcpdump's regression corpus is not at {CORPUS}")
    frames = _read(path)
    assert frames.meta["snapshot_length"] == 37
    assert frames.caplen.tolist() == [64, 64, 64]
    assert frames.error[0] == "captured length 64 is past the snapshot length 37"


@pytest.mark.parametrize("path", SCENARIO_FILES, ids=lambda p: p.name)
def test_scenario_capture_reads_as_tshark_and_tcpdump_read_it(path):
    frames = _read(path)
    _agree_with_tshark(frames, _tshark(path))
    _agree_with_tcpdump(frames, _tcpdump_rows(tcpdump(path, *_tcpdump_flags(path))))
    assert frames.meta["format"] == "pcap"
    assert frames.meta["truncated"] is None
    assert all(e is None for e in frames.error)
    if path.suffix == ".gz":
        assert frames.meta["gzip"]["members"] == 1
        assert frames.data == gzip.decompress(path.read_bytes())


def test_the_scenarios_are_there():
    assert len(SCENARIO_FILES) >= 20
    assert any(p.suffix == ".gz" for p in SCENARIO_FILES)


# --------------------------------------------------------------------------------------
# pcap


def test_big_endian_pcap(tmp_path):
    records = [(1700000000 + i, 123456 + i, _frame(i)) for i in range(3)]
    path = _write(tmp_path, "be.pcap", _pcap(records, order=BE))
    frames = _read(path)
    _agree_with_tshark(frames, _tshark(path))
    _agree_with_tcpdump(frames, _tcpdump_lenient(path)[0])
    assert frames.meta["byte_order"] == "big"
    assert frames.meta["time_resolution"] == "us"
    assert frames.time_ns.tolist()[0] == 1700000000_123456000
    for i in range(3):
        start, size = int(frames.offset[i]), int(frames.caplen[i])
        assert frames.data[start : start + size] == _frame(i)


@pytest.mark.parametrize("order", [LE, BE], ids=["little", "big"])
def test_nanosecond_pcap(tmp_path, order):
    records = [(1700000000 + i, 999999997 + i, _frame(i)) for i in range(3)]
    path = _write(tmp_path, "ns.pcap", _pcap(records, order=order, magic=0xA1B23C4D))
    frames = _read(path)
    _agree_with_tshark(frames, _tshark(path))
    _agree_with_tcpdump(frames, _tcpdump_lenient(path)[0])
    assert frames.meta["time_resolution"] == "ns"
    assert frames.meta["interfaces"][0]["tsresol"] == "1e-9"
    assert frames.time_ns.tolist() == [
        1700000000_999999997,
        1700000001_999999998,
        1700000002_999999999,
    ]


def test_modified_pcap_with_24_byte_record_headers(tmp_path):
    """Magic a1b2cd34: each record header has ifindex, protocol and pkt_type after the
    lengths (tcpdump and tshark read it)."""
    head = struct.pack("<IHHiIII", 0xA1B2CD34, 2, 4, 0, 0, 65535, 1)
    body = b"".join(
        struct.pack(
            "<IIIIIHBB", 1700000000 + i, 5 + i, len(_frame(i)), len(_frame(i)), 2, 0x800, 0, 0
        )
        + _frame(i)
        for i in range(3)
    )
    path = _write(tmp_path, "modified.pcap", head + body)
    frames = _read(path)
    _agree_with_tshark(frames, _tshark(path))
    _agree_with_tcpdump(frames, _tcpdump_lenient(path)[0])
    assert "a1b2cd34" in frames.meta["notes"][0]


def test_old_pcap_versions_have_the_lengths_in_the_older_order(tmp_path):
    """Before 2.3 the first length is the wire length; 2.3 has either order (libpcap takes
    the smaller as the captured length). tshark shows the same lengths."""
    frame = _frame(0)
    old = _pcap([(1700000000, 0, frame, len(frame) + 100, len(frame))], version=(2, 2))
    path = _write(tmp_path, "v22.pcap", old)
    frames = _read(path)
    _agree_with_tshark(frames, _tshark(path))
    assert (frames.caplen[0], frames.origlen[0]) == (len(frame), len(frame) + 100)
    assert frames.meta["version"] == "2.2"
    either = _pcap(
        [
            (1700000000, 0, frame, len(frame) + 100, len(frame)),
            (1700000001, 0, _frame(1), len(_frame(1)), len(_frame(1)) + 7),
        ],
        version=(2, 3),
    )
    path = _write(tmp_path, "v23.pcap", either)
    frames = _read(path)
    _agree_with_tshark(frames, _tshark(path))
    _agree_with_tcpdump(frames, _tcpdump_lenient(path)[0])
    assert frames.origlen.tolist() == [len(frame) + 100, len(_frame(1)) + 7]


def test_pcap_link_type_field_upper_bits_hold_the_fcs_length(tmp_path):
    """draft-ietf-opsawg-pcap: the link type is the lower 16 bits; bit 26 ("P") says that
    bits 28-31 give the FCS length (libpcap: in 16-bit words)."""
    path = _write(
        tmp_path, "fcs.pcap", _pcap([(1700000000, 0, _frame(0))], linktype=1 | 0x04000000 | 2 << 28)
    )
    frames = _read(path)
    _agree_with_tshark(frames, _tshark(path))
    assert frames.linktype.tolist() == [1]
    assert frames.meta["link_types"] == [1]
    assert frames.meta["link_type_field"] == 0x24000001
    assert frames.meta["fcs_length"] == 4
    assert _read(_write(tmp_path, "no-fcs.pcap", _pcap([]))).meta["fcs_length"] is None


def test_a_file_header_alone_is_a_capture_of_no_packets(tmp_path):
    path = _write(tmp_path, "empty.pcap", _pcap([], snaplen=262144, linktype=101))
    frames = _read(path)
    assert _tshark(path) == []
    assert _tcpdump_lenient(path)[0] == []
    assert frames.meta["packets"] == 0
    assert frames.meta["link_types"] == [101]
    assert frames.meta["snapshot_length"] == 262144
    assert frames.time_ns.dtype == np.int64 and frames.linktype.dtype == np.int32
    assert frames.error == []


# --------------------------------------------------------------------------------------
# pcapng


def test_pcapng_sections_of_both_byte_orders(tmp_path):
    """tshark reads both sections; libpcap 1.10.3 reads the second one's length in the
    first one's byte order and stops ("pcapng block size 469762048 > maximum")."""
    data = (
        _shb(LE)
        + _idb(LE, 1, 0)
        + _epb(LE, 0, 1700000000_000001, _frame(0))
        + _shb(BE)
        + _idb(BE, 101, 0, _tsresol(9))
        + _epb(BE, 0, 1700000001_000000002, _raw(1))
        + _epb(BE, 0, 1700000002_000000003, _raw(2))
    )
    path = _write(tmp_path, "two-sections.pcapng", data)
    frames = _read(path)
    _agree_with_tshark(frames, _tshark(path))
    rows, stderr = _tcpdump_lenient(path)
    assert rows == [(1, 1700000000_000001000)]
    assert "pcapng block size" in stderr
    assert frames.interface.tolist() == [0, 0, 0]  # ids restart in each section
    assert frames.linktype.tolist() == [1, 101, 101]
    meta = frames.meta
    assert meta["byte_order"] == "little"
    assert meta["sections"] == 2
    assert [h["byte_order"] for h in meta["section_headers"]] == ["little", "big"]
    assert [h["first_packet"] for h in meta["section_headers"]] == [0, 1]
    assert [(i["section"], i["id"], i["tsresol"]) for i in meta["interfaces"]] == [
        (0, 0, "1e-6"),
        (1, 0, "1e-9"),
    ]
    assert meta["link_types"] == [1, 101]
    assert meta["time_resolution"] == "mixed"


def test_pcapng_two_interfaces_of_two_link_types_and_resolutions(tmp_path):
    """Interface 0: Ethernet in 10^-9 s; interface 1: raw IP in 2^-20 s, the fraction
    rounded down to nanoseconds (as tshark does). libpcap refuses a second link type."""
    data = (
        _shb(LE)
        + _idb(LE, 1, 0, (2, b"eth0"), _tsresol(9))
        + _idb(LE, 101, 0, (2, b"tun0\0pad"), _tsresol(0x80 | 20))
        + _epb(LE, 0, 1700000000_123456789, _frame(0))
        + _epb(LE, 1, (1700000000 << 20) + 123457, _raw(1))
        + _epb(LE, 1, (1700000001 << 20) + (1 << 20) - 1, _raw(2))
    )
    path = _write(tmp_path, "two-interfaces.pcapng", data)
    frames = _read(path)
    _agree_with_tshark(frames, _tshark(path))
    assert "different from the type of the first interface" in _tcpdump_lenient(path)[1]
    assert frames.time_ns.tolist() == [
        1700000000_123456789,
        1700000000_000000000 + 123457 * 10**9 // 2**20,
        1700000001_000000000 + ((1 << 20) - 1) * 10**9 // 2**20,
    ]
    assert frames.linktype.tolist() == [1, 101, 101]
    assert frames.interface.tolist() == [0, 1, 1]
    interfaces = frames.meta["interfaces"]
    assert [(i["name"], i["link_type"], i["tsresol"]) for i in interfaces] == [
        ("eth0", 1, "1e-9"),
        ("tun0", 101, "2^-20"),
    ]


def test_pcapng_if_tsoffset_is_added(tmp_path):
    data = (
        _shb(LE)
        + _idb(LE, 1, 0, (14, struct.pack("<q", 1_600_000_000)))
        + _epb(LE, 0, 100_000_001, _frame(0))
        + _idb(LE, 1, 0, (14, struct.pack("<q", -1_000_000_000)))
        + _epb(LE, 1, 1_000_000_000_000_005, _frame(1))
    )
    path = _write(tmp_path, "tsoffset.pcapng", data)
    frames = _read(path)
    _agree_with_tshark(frames, _tshark(path))
    assert frames.time_ns.tolist() == [1600000100_000001000, 5000]
    assert [i["tsoffset"] for i in frames.meta["interfaces"]] == [1_600_000_000, -1_000_000_000]


def test_pcapng_if_tsoffset_ns_is_added(tmp_path):
    """if_tsoffset_ns (option 19) is newer than tshark 4.0 and libpcap 1.10, which ignore
    it; the specification says it is added."""
    data = (
        _shb(LE)
        + _idb(LE, 1, 0, (19, struct.pack("<i", 500)))
        + _epb(LE, 0, 1700000000_999999, _frame(0))
    )
    frames = read_frames(data, "tsoffset_ns.pcapng")
    assert frames.time_ns.tolist() == [1700000000_999999500]
    assert frames.meta["interfaces"][0]["tsoffset_ns"] == 500


def test_pcapng_resolution_finer_than_a_nanosecond_rounds_down(tmp_path):
    """10^-12 s: tcpdump agrees; tshark 4.0.17 overflows (it shows 12345678.012776325)."""
    stamp = 12_345_678_123456789_999
    data = _shb(LE) + _idb(LE, 1, 0, _tsresol(12)) + _epb(LE, 0, stamp, _frame(0))
    path = _write(tmp_path, "ps.pcapng", data)
    frames = _read(path)
    _agree_with_tcpdump(frames, _tcpdump_lenient(path)[0])
    assert frames.time_ns.tolist() == [12_345_678_123456789]
    assert frames.meta["time_resolution"] == "1e-12"


def test_pcapng_binary_resolution_finer_than_2_to_the_34_is_exact(tmp_path):
    """2^-40 s: a half second is .5; libpcap 1.10.3 and tshark 4.0.17 both multiply the
    fraction by 10^9 in 64 bits and show 12345.013460747."""
    fraction = (1 << 39) + 12345
    data = (
        _shb(LE)
        + _idb(LE, 1, 0, _tsresol(0x80 | 40))
        + _epb(LE, 0, (12345 << 40) + fraction, _frame(0))
    )
    path = _write(tmp_path, "bin40.pcapng", data)
    frames = _read(path)
    assert _tshark(path)[0].time_ns == 12345_013460747  # the tools' overflow, for the record
    assert frames.time_ns.tolist() == [12345 * 10**9 + fraction * 10**9 // 2**40]
    assert frames.time_ns[0] == 12345_500000011


def test_pcapng_times_past_int64_nanoseconds_are_nat_with_the_reason(tmp_path):
    """2^64-1 µs is in the year 586524; the last nanosecond int64 holds is
    2262-04-11T23:47:16.854775807. tshark shows the times it can hold as the reader."""
    last_us = (2**63 - 1) // 1000
    data = (
        _shb(LE)
        + _idb(LE, 1, 0)
        + _epb(LE, 0, 2**64 - 1, _frame(0))
        + _epb(LE, 0, last_us, _frame(1))
        + _epb(LE, 0, last_us + 1, _frame(2))
        # whole seconds past 2^63, brought back by the offset: 1970-01-01T00:00:05
        + _idb(LE, 1, 0, _tsresol(0), (14, struct.pack("<q", -(2**63))))
        + _epb(LE, 1, 2**63 + 5, _frame(3))
        + _idb(LE, 1, 0, _tsresol(9), (14, struct.pack("<q", 2**63 - 1)))
        + _epb(LE, 2, 0, _frame(4))
        + _idb(LE, 1, 0, _tsresol(9), (14, struct.pack("<q", -18_000_000_000)))
        + _epb(LE, 3, 2**64 - 1, _frame(5))
    )
    path = _write(tmp_path, "overflow.pcapng", data)
    frames = _read(path)
    seen = _tshark(path)
    assert frames.time_ns[1] == seen[1].time_ns == last_us * 1000
    assert frames.time_ns[3] == 5 * 10**9
    assert frames.time_ns[5] == (2**64 - 1) - 18_000_000_000 * 10**9
    for i in (0, 2, 4):
        assert frames.time_ns[i] == NAT
        assert "past what int64 nanoseconds hold" in (frames.error[i] or "")
    assert [frames.error[i] for i in (1, 3, 5)] == [None, None, None]


def test_pcapng_simple_packet_blocks(tmp_path):
    """SPB: interface 0, the original length only; the captured length is the smaller of
    it and the snapshot length; no time stamp (tshark shows none, tcpdump shows 0)."""
    long, short = _frame(40), _frame(0)
    data = _shb(LE) + _idb(LE, 1, 64) + _spb(LE, len(long), long[:64]) + _spb(LE, len(short), short)
    path = _write(tmp_path, "spb.pcapng", data)
    frames = _read(path)
    seen = _tshark(path)
    _agree_with_tshark(frames, seen)
    assert [row.time_ns for row in seen] == [None, None]
    assert frames.caplen.tolist() == [64, len(short)]
    assert frames.origlen.tolist() == [len(long), len(short)]
    assert (frames.time_ns == NAT).all()
    assert frames.error == ["a Simple Packet Block carries no time stamp"] * 2
    assert frames.data[int(frames.offset[1]) :][: len(short)] == short


def test_pcapng_obsolete_packet_block(tmp_path):
    data = _shb(LE) + _idb(LE, 1, 0) + _pb(LE, 0, 1700000000_000005, _frame(3), drops=2)
    path = _write(tmp_path, "pb.pcapng", data)
    frames = _read(path)
    _agree_with_tshark(frames, _tshark(path))
    _agree_with_tcpdump(frames, _tcpdump_lenient(path)[0])
    assert frames.interface.tolist() == [0]


def test_pcapng_blocks_without_packets_are_skipped_and_counted(tmp_path):
    """NRB (4), ISB (5), a Custom Block (0xBAD), DSB (10) and an unknown type. tshark 4.0
    lists the Custom Block as a record of its own (with no interface)."""
    data = (
        _shb(LE)
        + _block(LE, 4, struct.pack("<HH", 0, 0))
        + _idb(LE, 1, 0)
        + _epb(LE, 0, 1700000000_000001, _frame(0))
        + _block(LE, 5, struct.pack("<III", 0, 0, 0))
        + _block(LE, 0x0BAD, struct.pack("<I", 32473) + b"abcd")
        + _block(LE, 0x12345678, b"")
        + _block(LE, 10, struct.pack("<II", 0x544C534B, 0))
        + _epb(LE, 0, 1700000000_000002, _frame(1))
    )
    path = _write(tmp_path, "unknown.pcapng", data)
    frames = _read(path)
    _agree_with_tshark(frames, _tshark(path))
    _agree_with_tcpdump(frames, _tcpdump_lenient(path)[0])
    assert frames.meta["skipped_blocks"] == {4: 1, 5: 1, 0x0BAD: 1, 0x12345678: 1, 10: 1}


def test_pcapng_section_of_an_unknown_major_version_is_skipped(tmp_path):
    """tshark and tcpdump stop there ("unknown SHB version 2.0"); the specification says
    to skip the section."""
    data = (
        _shb(LE)
        + _idb(LE)
        + _epb(LE, 0, 1700000000_000001, _frame(0))
        + _shb(LE, major=2)
        + _idb(LE)
        + _epb(LE, 0, 1700000000_000002, _frame(1))
        + _shb(LE)
        + _idb(LE)
        + _epb(LE, 0, 1700000000_000003, _frame(2))
    )
    path = _write(tmp_path, "v2.pcapng", data)
    frames = _read(path)
    assert [row.time_ns for row in _tshark(path)] == [1700000000_000001000]
    assert frames.time_ns.tolist() == [1700000000_000001000, 1700000000_000003000]
    assert frames.meta["skipped_blocks"] == {1: 1, 6: 1}
    assert "version 2.0" in frames.meta["notes"][0]


def test_pcapng_packet_on_an_undeclared_interface_is_kept_with_the_reason(tmp_path):
    """tshark and tcpdump stop ("interface index 3 is not less than section interface
    count 1"); the packet is kept, with no link type and no time."""
    data = _shb(LE) + _idb(LE, 1, 0) + _epb(LE, 3, 1700000000_000002, _frame(1))
    path = _write(tmp_path, "no-idb.pcapng", data)
    assert "no Interface Description Block" in _tcpdump_lenient(path)[1]
    frames = _read(path)
    assert frames.linktype.tolist() == [-1]
    assert frames.interface.tolist() == [3]
    assert frames.time_ns.tolist() == [NAT]
    assert "interface 3 has no Interface Description Block" in (frames.error[0] or "")


def test_pcapng_unreadable_if_tsresol_gives_no_time_rather_than_a_guess(tmp_path):
    """libpcap refuses the file ("if_tsresol option with length 2 != 1"); tshark guesses
    microseconds. The reader keeps the packets and gives no time."""
    data = _shb(LE) + _idb(LE, 1, 0, (9, b"\x06\x00")) + _epb(LE, 0, 1700000000_000001, _frame(0))
    path = _write(tmp_path, "bad-tsresol.pcapng", data)
    assert "if_tsresol option with length 2" in _tcpdump_lenient(path)[1]
    frames = _read(path)
    assert frames.time_ns.tolist() == [NAT]
    assert "if_tsresol option of interface 0 of section 0" in (frames.error[0] or "")
    assert frames.meta["interfaces"][0]["tsresol"] is None
    assert frames.meta["interfaces"][0]["problem"]
    assert frames.meta["time_resolution"] is None


def test_a_section_header_alone_is_a_capture_of_no_packets():
    frames = read_frames(_shb(BE), "shb.pcapng")
    assert frames.meta["packets"] == 0
    assert frames.meta["byte_order"] == "big"
    assert frames.meta["interfaces"] == []
    assert frames.meta["snapshot_length"] is None


# --------------------------------------------------------------------------------------
# cut off


def test_pcap_cut_mid_packet_keeps_every_whole_packet(tmp_path):
    data, starts = _five_packets()
    path = _write(tmp_path, "cut.pcap", data[: starts[3] + 16 + 10])
    frames = _read(path)
    _agree_with_tshark(frames, _tshark(path))
    rows, stderr = _tcpdump_lenient(path)
    _agree_with_tcpdump(frames, rows)
    assert len(rows) == 3
    assert "truncated dump file" in stderr
    assert "cut short in the middle of a packet" in _tshark_run(path)[1]
    assert frames.meta["truncated"] == {
        "at_packet": 4,
        "offset": starts[3],
        "what": f"packet 4's data cut short (10 of {len(_frame(3))} bytes)",
    }
    assert frames.meta["trailing_bytes"] == 26
    with pytest.raises(InputError, match=rf"cut\.pcap: .*packet 4, byte {starts[3]}\b"):
        _read(path, strict=True)


def test_pcap_cut_inside_a_record_header(tmp_path):
    data, starts = _five_packets()
    path = _write(tmp_path, "cut-header.pcap", data[: starts[3] + 8])
    frames = _read(path)
    _agree_with_tshark(frames, _tshark(path))
    rows, stderr = _tcpdump_lenient(path)
    _agree_with_tcpdump(frames, rows)
    assert "tried to read 16 header bytes, only got 8" in stderr
    assert frames.meta["truncated"] == {
        "at_packet": 4,
        "offset": starts[3],
        "what": "a record header cut short (8 of 16 bytes)",
    }
    with pytest.raises(InputError, match=rf"packet 4, byte {starts[3]}: a record header"):
        _read(path, strict=True)


def test_every_cut_of_a_pcap_keeps_the_whole_packets_before_it():
    data, starts = _five_packets()
    for size in range(24, len(data) + 1):
        frames = read_frames(data[:size], "cut.pcap")
        whole = sum(1 for end in starts[1:] if end <= size)
        assert frames.meta["packets"] == whole, size
        cut = size not in starts
        assert (frames.meta["truncated"] is not None) == cut, size
        assert frames.meta["trailing_bytes"] == size - starts[whole]


def test_pcapng_cut_mid_block(tmp_path):
    head = _shb(LE) + _idb(LE, 1, 0) + _epb(LE, 0, 1700000000_000001, _frame(0))
    second = _epb(LE, 0, 1700000000_000002, _frame(1))
    path = _write(tmp_path, "cut.pcapng", head + second[:30])
    frames = _read(path)
    _agree_with_tshark(frames, _tshark(path))
    rows, stderr = _tcpdump_lenient(path)
    _agree_with_tcpdump(frames, rows)
    assert "truncated pcapng dump file" in stderr
    assert frames.meta["truncated"] == {
        "at_packet": 2,
        "offset": len(head),
        "what": f"packet 2's block cut short (30 of {len(second)} bytes)",
    }
    with pytest.raises(InputError, match=rf"packet 2, byte {len(head)}:"):
        _read(path, strict=True)
    for size in range(len(_shb(LE)), len(head) + len(second)):
        read_frames((head + second)[:size], "cut.pcapng")  # never an error but the note


# --------------------------------------------------------------------------------------
# damaged


def _damaged_block(change: str) -> tuple[bytes, int]:
    head = _shb(LE) + _idb(LE, 1, 0) + _epb(LE, 0, 1700000000_000001, _frame(0))
    block = bytearray(_epb(LE, 0, 1700000000_000002, _frame(1)))
    if change == "not-a-multiple-of-4":
        struct.pack_into("<I", block, 4, len(block) - 2)
    elif change == "less-than-12":
        struct.pack_into("<I", block, 4, 8)
    else:
        struct.pack_into("<I", block, len(block) - 4, len(block) + 4)
    return head + bytes(block), len(head)


@pytest.mark.parametrize(
    ("change", "message", "tcpdump_says"),
    [
        ("not-a-multiple-of-4", "total length of 74, not a multiple of 4", "not a multiple of 4"),
        ("less-than-12", "total length of 8, less than 12", "has a length of 8 < 12"),
        ("wrong-trailer", "as 76 at its start and 80 at its end", "don't match"),
    ],
)
def test_pcapng_damaged_block_length_is_an_input_error_with_the_offset(
    tmp_path, change, message, tcpdump_says
):
    """tcpdump prints the packet before the block and stops; so does tshark, except for a
    length that is not a multiple of 4, which tshark 4.0.17 reads anyway."""
    data, offset = _damaged_block(change)
    path = _write(tmp_path, f"{change}.pcapng", data)
    rows, stderr = _tcpdump_lenient(path)
    assert len(rows) == 1 and tcpdump_says in stderr
    with pytest.raises(
        InputError, match=rf"{change}\.pcapng: the Enhanced Packet Block at byte {offset} "
    ):
        _read(path)
    with pytest.raises(InputError, match=message):
        _read(path)


def test_pcapng_block_length_past_the_end_is_a_cut_and_allocates_nothing(tmp_path):
    head = _shb(LE) + _idb(LE, 1, 0) + _epb(LE, 0, 1700000000_000001, _frame(0))
    block = bytearray(_epb(LE, 0, 1700000000_000002, _frame(1)))
    struct.pack_into("<I", block, 4, 0xFFFFFFFC)
    path = _write(tmp_path, "huge-block.pcapng", head + bytes(block))
    assert len(_tshark(path)) == 1
    frames, peak = _peak(path)
    assert peak < len(frames.data) + 64 * 1024
    assert frames.meta["packets"] == 1
    assert frames.meta["truncated"]["offset"] == len(head)
    assert "absurd" in frames.meta["truncated"]["what"]


def _peak(path: Path) -> tuple[Frames, int]:
    data = path.read_bytes()
    tracemalloc.start()
    try:
        frames = read_frames(data, path.name)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return frames, peak


def test_caplen_of_2_to_the_32_minus_1_allocates_nothing(tmp_path):
    """tcpdump: "invalid packet capture length 4294967295"; tshark: "File has 16908480-byte
    packet, bigger than maximum of 262144". The reader sees a record running past the end:
    the whole packets before it are kept."""
    records = [(1700000000, 0, _frame(0)), (1700000001, 0, _frame(1), 2**32 - 1, 2**32 - 1)]
    path = _write(tmp_path, "huge.pcap", _pcap(records))
    assert "invalid packet capture length 4294967295" in _tcpdump_lenient(path)[1]
    frames, peak = _peak(path)
    assert peak < len(frames.data) + 64 * 1024
    assert frames.meta["packets"] == 1
    assert frames.meta["truncated"]["what"].startswith(
        "packet 2's data cut short (44 of 4294967295"
    )
    head = _shb(LE) + _idb(LE, 1, 0)
    path = _write(tmp_path, "huge.pcapng", head + _epb(LE, 0, 1, _frame(1), caplen=2**32 - 1))
    assert "cap_len 4294967295 is larger than 262144" in _tshark_run(path)[1]
    frames, peak = _peak(path)
    assert peak < len(frames.data) + 64 * 1024
    assert frames.caplen.tolist() == [len(_frame(1))]
    assert frames.error == [
        f"captured length 4294967295 runs past its block ({len(_frame(1))} bytes of packet data)"
    ]


def test_caplen_past_the_snapshot_or_original_length_is_kept_with_the_reason(tmp_path):
    records = [
        (1700000000, 0, _frame(0)),
        (1700000001, 0, _frame(30)),
        (1700000002, 0, _frame(1), len(_frame(1)), 20),
    ]
    path = _write(tmp_path, "odd.pcap", _pcap(records, snaplen=50))
    frames = _read(path)
    _agree_with_tshark(frames, _tshark(path))
    assert len(_tcpdump_lenient(path)[0]) == 3
    assert frames.error == [
        None,
        f"captured length {len(_frame(30))} is past the snapshot length 50",
        f"captured length {len(_frame(1))} is past the original length 20",
    ]
    data = _shb(LE) + _idb(LE, 1, 40) + _epb(LE, 0, 1, _frame(2))
    assert read_frames(data, "odd.pcapng").error == [
        f"captured length {len(_frame(2))} is past the snapshot length 40"
    ]


def test_absurd_caplen_within_the_file_is_kept_with_the_reason(monkeypatch):
    monkeypatch.setattr(_pcapfile, "MAX_CAPLEN", 40)
    frames = read_frames(_pcap([(1, 0, _frame(0))], snaplen=0), "absurd.pcap")
    assert frames.caplen.tolist() == [len(_frame(0))]
    assert frames.error == [f"captured length {len(_frame(0))} is absurd (more than 40 bytes)"]


# --------------------------------------------------------------------------------------
# not a capture


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (
            b"GET / HTTP/1.1\r\nHost: example\r\n\r\n",
            r"not a pcap or pcapng capture \(it begins 47 45 54 20",
        ),
        (bytes(range(256)), r"not a pcap or pcapng capture \(it begins 00 01 02 03"),
        (b"", r"the file is empty \(0 bytes\), not a pcap or pcapng capture"),
        (_pcap([])[:20], r"the pcap file header is cut short \(20 of 24 bytes\)"),
        (
            b"\n\r\r\n\x1c\0\0\0\0\0\0\0",
            r"byte-order magic 00000000, neither 1a2b3c4d nor 4d3c2b1a",
        ),
        (b"\n\r\r\n\x1c\0\0\0", r"a pcapng Section Header Block cut short \(8 bytes\)"),
        (_block(LE, 0x0A0D0D0A, struct.pack("<I", 0x1A2B3C4D)), r"too short for its fields"),
        (gzip.compress(b"not a capture"), r"it begins 6e 6f 74 .* once decompressed"),
        (gzip.compress(b""), r"the file is empty once decompressed"),
    ],
    ids=[
        "http",
        "binary",
        "empty",
        "short-header",
        "bad-byte-order",
        "short-shb",
        "tiny-shb",
        "gzip",
        "gzip-empty",
    ],
)
def test_what_is_no_capture_is_an_input_error_that_says_so(data, message):
    with pytest.raises(InputError, match=r"^thing: .*" + message):
        read_frames(data, "thing")


def test_a_tcpdump_text_log_is_pointed_to_read_tcpdump(tmp_path):
    path = _write(tmp_path, "log.pcap", SEED_LOG.read_bytes())
    assert "isn't a capture file" in _tshark_run(path)[1]
    with pytest.raises(InputError, match="a tcpdump text log is read with read_tcpdump"):
        _read(path)


def _mixed_pcapng() -> bytes:
    """Two sections of two byte orders; enhanced, simple and obsolete packet blocks, runs
    of enhanced ones, a block of no packet, and interfaces declared between packets."""
    return (
        _shb(LE)
        + _idb(LE, 1, 64, (2, b"eth0"), _tsresol(9), (14, struct.pack("<q", 7)))
        + _epb(LE, 0, 1700000000_000000001, _frame(0))
        + _epb(LE, 0, 1700000000_000000002, _frame(1))
        + _spb(LE, 90, _frame(2)[:64])
        + _pb(LE, 0, 3, _frame(1))
        + _idb(LE, 101, 0, _tsresol(3))
        + _epb(LE, 1, 1700000000_123, _raw(4))
        + _epb(LE, 0, 1700000000_000000009, _frame(3))
        + _block(LE, 5, b"\0" * 12)
        + _shb(BE)
        + _idb(BE, 101, 0, _tsresol(0x80 | 30))
        + _epb(BE, 0, 2**63, _raw(3))
        + _epb(BE, 0, 2**40, _raw(2))
    )


def _hostile(rng: random.Random, original: bytes) -> bytes:
    """``original`` with 1 to 4 bytes flipped or lengths overwritten with extremes, and
    cut somewhere three times in ten."""
    extremes = [0, 1, 3, 8, 11, 12, 13, 2**31, 2**32 - 4, 2**32 - 1]
    data = bytearray(original)
    for _ in range(rng.randint(1, 4)):
        where = rng.randrange(len(data) - 4)
        if rng.random() < 0.5:
            data[where] = rng.randrange(256)
        else:
            struct.pack_into(rng.choice("<>") + "I", data, where & ~3, rng.choice(extremes))
    if rng.random() < 0.3:
        del data[rng.randrange(len(data)) :]
    return bytes(data)


def test_hostile_files_give_frames_or_an_input_error_and_stay_bounded():
    """Bytes flipped, lengths overwritten with extremes, files cut anywhere: every read ends
    with frames or an InputError, at once, and every frame lies inside the data."""
    rng = random.Random(20240601)
    pcap_file = _five_packets()[0]
    started = time.perf_counter()
    for original in (pcap_file, _mixed_pcapng(), gzip.compress(pcap_file)):
        for _ in range(400):
            try:
                frames = read_frames(_hostile(rng, original), "hostile")
            except InputError:
                continue
            assert (frames.offset + frames.caplen <= len(frames.data)).all()
            assert (frames.caplen >= 0).all()
            assert len(frames.error) == frames.meta["packets"] == len(frames.time_ns)
    assert time.perf_counter() - started < 30


def _frames_or_error(data: bytes, name: str) -> Any:
    """What read_frames makes of ``data``: its fields, or the InputError's words."""
    try:
        frames = read_frames(data, name)
    except InputError as exc:
        return ("InputError", str(exc))
    arrays = ("offset", "caplen", "origlen", "time_ns", "linktype", "interface")
    for field in arrays:  # (the dtypes too: the decoder takes them as they are)
        assert getattr(frames, field).dtype in (np.int64, np.int32), field
    return (
        {field: getattr(frames, field).tolist() for field in arrays},
        {field: str(getattr(frames, field).dtype) for field in arrays},
        frames.error,
        frames.meta,
    )


@pytest.mark.skipif(_pcapfile._fastpcap is None, reason="the compiled walkers are not built")
def test_the_compiled_walks_read_every_capture_as_the_python_walks(monkeypatch):
    """The compiled walkers (pcap records, runs of pcapng Enhanced Packet Blocks) against
    the reader's loops in Python, which say what each block holds: the same frames, the
    same errors, the same metadata, or the same InputError, on tcpdump's corpus, the
    scenarios, and pcap and pcapng files built here, whole and damaged."""
    rng = random.Random(5353)
    inputs = [(p.name, p.read_bytes()) for p in CORPUS_FILES + SCENARIO_FILES]
    built = (_five_packets()[0], _mixed_pcapng())
    inputs += [(f"built-{i}", data) for i, data in enumerate(built)]
    inputs += [(f"hostile-{i}", _hostile(rng, built[i % 2])) for i in range(600)]
    built_walker = _pcapfile._fastpcap
    runs: list[int] = []  # the blocks of each run the compiled pcapng walker took

    class Counted:
        def __getattr__(self, name: str) -> Any:
            return getattr(built_walker, name)

        def walk_epb(self, *args: Any) -> Any:
            got = built_walker.walk_epb(*args)
            runs.append(len(got[0][0]) // 8)
            return got

    monkeypatch.setattr(_pcapfile, "_fastpcap", Counted())
    compiled = [_frames_or_error(data, name) for name, data in inputs]
    # (the compiled walker took runs of several blocks, and left blocks to the loop)
    assert max(runs) >= 2 and 0 in runs and sum(runs) >= 1000, runs[:20]
    monkeypatch.setattr(_pcapfile, "_fastpcap", None)
    for (name, data), got in zip(inputs, compiled, strict=True):
        assert _frames_or_error(data, name) == got, name
    assert sum(isinstance(got[0], dict) for got in compiled) >= 300


def _exact(base: int, exp: int, units: list[int], off_s: list[int], off_ns: list[int]) -> int:
    """Compare the conversion with Python integers; return how many times were valid."""
    ns, ok = _pcapfile._units_to_ns(
        np.array(units, dtype=np.uint64),
        base,
        exp,
        np.array(off_s, dtype=np.int64),
        np.array(off_ns, dtype=np.int64),
    )
    for i, count in enumerate(units):
        want = count * 10**9 // base**exp + off_s[i] * 10**9 + off_ns[i]
        case = (base, exp, count, off_s[i], off_ns[i])
        if -(2**63) < want < 2**63:
            assert ok[i] and ns[i] == want, case
        else:
            assert not ok[i] and ns[i] == NAT, case
    return int(ok.sum())


def test_time_conversion_is_exact_against_python_integers():
    """Any if_tsresol, if_tsoffset and if_tsoffset_ns: the time is floor(units * 10^9 /
    resolution) plus the offsets, or NaT exactly where int64 nanoseconds cannot hold it."""
    low, low_ns = -9223372037, 145224193  # -2^63 + 1 ns is low s + low_ns ns
    # at either end of int64 nanoseconds, and the offsets at theirs
    assert _exact(10, 9, [2**63 - 1, 2**63, 2**63, 2**64 - 1], [0, 0, -1, -(2**63)], [0] * 4) == 2
    assert (
        _exact(
            10,
            9,
            [0, 0, 5, 10**9],
            [low, low, low, low - 1],
            [low_ns, low_ns - 1, low_ns - 6, low_ns],
        )
        == 2
    )
    assert _exact(10, 0, [2**63 + 5, 2**64 - 1, 0], [-(2**63), -(2**63), 2**63 - 1], [0] * 3) == 1
    rng = random.Random(7)
    edges = [0, 1, 2**32, 2**62, 2**63 - 1, 2**63, 2**64 - 1]
    offsets = [0, 1, -1, 10**10, -(10**10), 2**62, -(2**62), 2**63 - 1, -(2**63)]
    valid = 0
    for _ in range(300):
        base, exp = rng.choice([(10, rng.randrange(0, 25)), (2, rng.randrange(0, 70))])
        per_second = base**exp
        units, off_s, off_ns = [], [], []
        for _ in range(64):
            offset = rng.choice(offsets) if rng.random() < 0.3 else rng.randrange(-(2**40), 2**40)
            target = rng.randrange(low, -low)  # a time that int64 nanoseconds hold
            second = target - offset
            if rng.random() < 0.5 and second >= 0 and (second + 1) * per_second <= 2**64:
                count = second * per_second + rng.randrange(min(per_second, 2**64))
            else:
                count = rng.choice(edges) if rng.random() < 0.5 else rng.randrange(2**64)
            units.append(count)
            off_s.append(offset)
            off_ns.append(rng.randrange(-(10**9) + 1, 10**9))
        valid += _exact(base, exp, units, off_s, off_ns)
    assert valid > 1000  # the random cases reach valid times, not only NaT


# --------------------------------------------------------------------------------------
# gzip


def test_gzip_pcap_reads_as_the_pcap_inside(tmp_path):
    data, _ = _five_packets()
    plain = read_frames(data, "five.pcap")
    path = _write(tmp_path, "five.pcap.gz", gzip.compress(data))
    frames = _read(path)
    _agree_with_tshark(frames, _tshark(path))
    assert frames.data == data
    assert frames.time_ns.tolist() == plain.time_ns.tolist()
    assert frames.meta["gzip"] == {
        "compressed_bytes": len(path.read_bytes()),
        "members": 1,
        "cut_short": False,
        "error": None,
        "trailing_bytes": 0,
    }
    assert plain.meta["gzip"] is None


def test_gzip_of_several_members_reads_them_one_after_the_other():
    data, starts = _five_packets()
    joined = gzip.compress(data[: starts[2]]) + gzip.compress(data[starts[2] :]) + b"\0" * 8
    frames = read_frames(joined, "members.pcap.gz")
    assert frames.data == data
    assert frames.meta["packets"] == 5
    assert frames.meta["gzip"]["members"] == 2
    assert frames.meta["gzip"]["trailing_bytes"] == 8


def test_gzip_cut_short_keeps_what_it_gave_and_says_so():
    data, _ = _five_packets()
    packed = gzip.compress(data)
    frames = read_frames(packed[:-8], "cut.pcap.gz")  # the gzip trailer is gone
    assert frames.data == data
    assert frames.meta["packets"] == 5
    assert frames.meta["gzip"]["cut_short"] is True
    assert (
        frames.meta["truncated"]["what"] == "the gzip stream is cut short (the capture may go on)"
    )
    with pytest.raises(InputError, match="the gzip stream cannot be read to its end"):
        read_frames(packed[:-8], "cut.pcap.gz", strict=True)
    half = read_frames(packed[: len(packed) // 2], "half.pcap.gz")
    assert half.meta["truncated"] is not None
    assert 0 < half.meta["packets"] < 5


def test_gzip_past_the_limit_is_refused():
    data = _pcap([(1, 0, b"\0" * 60000)] * 20)
    with pytest.raises(InputError, match="decompresses to more than 1 MiB"):
        _pcapfile._gunzip(gzip.compress(data), "big.pcap.gz", limit=2**20)
    assert _pcapfile._gunzip(gzip.compress(data), "big.pcap.gz", limit=2**21)[0] == data


# --------------------------------------------------------------------------------------
# linear time


def test_200k_packets_read_in_well_under_a_few_seconds():
    """A pcap and a pcapng of 200,000 small packets each (about 0.15 s and 0.3 s here)."""
    payload = b"\0" * 60
    count = 200_000
    pcap_file = _pcap([]) + b"".join(
        struct.pack("<IIII", 1700000000 + i // 1000, i % 1000, 60, 60) + payload
        for i in range(count)
    )
    started = time.perf_counter()
    frames = read_frames(pcap_file, "many.pcap")
    pcap_seconds = time.perf_counter() - started
    assert frames.meta["packets"] == count
    assert frames.time_ns[-1] == 1700000199_000999000
    head = struct.pack("<IIIII", 0, 0, 0, 60, 60)
    block = struct.pack("<II", 6, 92) + head + payload + struct.pack("<I", 92)
    pcapng_file = _shb(LE) + _idb(LE) + block * count
    started = time.perf_counter()
    frames = read_frames(pcapng_file, "many.pcapng")
    pcapng_seconds = time.perf_counter() - started
    assert frames.meta["packets"] == count
    assert pcap_seconds < 3 and pcapng_seconds < 3, (pcap_seconds, pcapng_seconds)


def test_many_interfaces_read_in_linear_time():
    """20,000 interfaces, each with an offset of its own and one packet: the times are
    converted per set of time parameters, not in a pass over every packet per interface."""
    count = 20_000
    blocks = [_shb(LE)]
    for i in range(count):
        blocks.append(_idb(LE, 1, 0, (14, struct.pack("<q", i))))
        blocks.append(_epb(LE, i, 1_000_000 * i, b"\0" * 20))
    started = time.perf_counter()
    frames = read_frames(b"".join(blocks), "interfaces.pcapng")
    seconds = time.perf_counter() - started
    assert frames.meta["packets"] == count
    assert frames.time_ns.tolist() == [2 * i * 10**9 for i in range(count)]
    assert frames.interface.tolist() == list(range(count))
    assert seconds < 5, seconds
