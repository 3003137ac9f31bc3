"""Layouts of tcpdump text beyond one line per packet: records with blank lines, -t logs
of protocols the kit does not decode, tunnels whose inner frame starts at column 0,
truncation markers on a line of their own; every corpus capture rendered with -t and -v
by the real tcpdump, with nothing lost. And the ways text arrives: UTF-16, standard input.
"""

from __future__ import annotations

import functools
import gzip
import io
import re
import struct
import subprocess
import sys
import warnings
from pathlib import Path

import pandas as pd
import pytest
from conftest import CORPUS, SCENARIOS, both_engines, tcpdump
from pcapgen import (
    LINKTYPE_ETHERNET,
    dns_query,
    ether,
    icmp_echo,
    ipv4,
    pcap,
    render,
    udp,
)

import incidentkit as ik

# --------------------------------------------------------------------------- accounting


def lines_accounted(df: pd.DataFrame) -> int:
    """Lines the frame holds: every row's raw lines, the banner, the blank lines."""
    capture = df.attrs["capture"]
    rows = int(df["raw"].str.count("\n").sum()) + len(df)
    return rows + len(capture["banner"]) + len(capture["blank_lines"])


@functools.cache
def packets_in(path: Path) -> int:
    """tcpdump's own count of the packets in a capture: the last -# number it prints."""
    numbered = tcpdump(path, "-#", "-n", "-q")
    numbers = [int(m) for m in re.findall(r"(?m)^ *(\d+)  ", numbered)]
    return max(numbers, default=0)


CORPUS_PCAPS = sorted(
    {*CORPUS.glob("*.pcap"), *CORPUS.glob("*.pcapng")} if CORPUS.exists() else set()
)


@pytest.mark.parametrize("flags", [("-n", "-t"), ("-n", "-v"), ("-n", "-t", "-e")], ids=" ".join)
def test_every_corpus_capture_rendered_again_loses_nothing(flags):
    """Each of tcpdump's corpus captures, rendered here by the real tcpdump: one record
    per packet tcpdump counts, no unparsed row, every line in a row or the metadata, and
    both engines give the same frame."""
    if not CORPUS_PCAPS:
        pytest.skip(f"tcpdump's regression corpus is not at {CORPUS} (it lives in ../shared)")
    wrong = []
    for path in CORPUS_PCAPS:
        text = tcpdump(path, *flags)
        df = both_engines(text)
        records = int((df["proto"] != "unparsed").sum())
        lines = df.attrs["capture"]["lines"]
        if records != packets_in(path) or lines_accounted(df) != lines or records != len(df):
            wrong.append(f"{path.name}: {records} records of {packets_in(path)}, {len(df)} rows")
    assert not wrong, wrong


# --------------------------------------------------------------------------- blank lines
HTTP_V = (
    "03:57:35.939423 IP (tos 0x0, ttl 64, id 7020, offset 0, flags [DF], proto TCP (6), "
    "length 254)\n"
    "    127.0.0.1.55920 > 127.0.0.1.80: Flags [P.], seq 1:203, ack 1, win 8192, length 202: "
    "HTTP, length: 202\n"
    "\tGET / HTTP/1.1\n"
    "\tHost: localhost\n"
    "\t\n"
    "\n"
    "\tAccept: */*\n"
    "03:57:35.940474 IP (tos 0x0, ttl 64, id 8164, offset 0, flags [DF], proto TCP (6), "
    "length 52)\n"
    "    127.0.0.1.80 > 127.0.0.1.55920: Flags [.], ack 203, win 8192, length 0\n"
    "\n"
)


def test_blank_lines_inside_a_record_belong_to_it():
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # (nothing unparsed, nothing to warn of)
        df = both_engines(HTTP_V)
    assert df["proto"].tolist() == ["tcp", "tcp"]
    assert df.loc[0, "raw"].endswith("\t\n\n\tAccept: */*")
    assert df.loc[0, "raw"].count("\n") == 6 and df.loc[1, "line"] == 8
    # the blank line after the last record ends it: metadata, not part of it
    assert df.attrs["capture"]["blank_lines"] == [10]
    assert lines_accounted(df) == df.attrs["capture"]["lines"] == 10


def test_a_blank_line_before_an_unindented_line_still_ends_the_record():
    text = "13:24:32.192571 IP 192.0.2.1.5 > 192.0.2.2.53: 1+ A? x. (17)\n\nnot tcpdump\n"
    with pytest.warns(ik.ParseWarning, match="1 of 3 lines"):
        ik.parse_tcpdump(text)
    df = both_engines(text)
    assert df["proto"].tolist() == ["udp", "unparsed"]
    assert df.loc[1, "error"] == "not a tcpdump record"
    assert df.attrs["capture"]["blank_lines"] == [2]


def test_the_corpus_http_records_keep_their_headers():
    path = CORPUS / "print-flags.pcap"
    if not path.exists():
        pytest.skip(f"tcpdump's regression corpus is not at {CORPUS} (it lives in ../shared)")
    df = both_engines(tcpdump(path, "-n", "-v"))
    request = df[df["raw"].str.contains("GET / HTTP/1.1", regex=False)]
    assert len(request) == 1
    assert "Accept-Language: en" in request["raw"].iloc[0]
    assert "Connection: Keep-Alive" in request["raw"].iloc[0]


# --------------------------------------------------------------------------- tunnels
def _vxlan(inner: bytes) -> bytes:
    header = struct.pack("!BxxxI", 0x08, 100 << 8)
    return ipv4(
        "192.0.2.1", "192.0.2.2", 17, udp("192.0.2.1", "192.0.2.2", 5555, 4789, header + inner)
    )


def _otv(inner: bytes) -> bytes:
    header = struct.pack("!BBHI", 0x08, 0, 5, 7 << 8)
    return ipv4(
        "192.0.2.1", "192.0.2.2", 17, udp("192.0.2.1", "192.0.2.2", 5555, 8472, header + inner)
    )


INNER = ether(ipv4("198.51.100.1", "198.51.100.2", 1, icmp_echo()))
QUERY = ipv4(
    "192.0.2.10",
    "203.0.113.2",
    17,
    udp("192.0.2.10", "203.0.113.2", 40000, 53, dns_query(7, "example.com")),
)
TUNNELS = pcap(
    [
        ether(QUERY),
        ether(_vxlan(INNER)),
        ether(_otv(INNER)),
        (ether(_vxlan(INNER)), 14 + 20 + 8 + 8 + 6),  # the inner frame cut inside its header
        ether(QUERY),
    ],
    LINKTYPE_ETHERNET,
)


@pytest.mark.parametrize(
    "flags",
    [("-n",), ("-n", "-t"), ("-n", "-v"), ("-n", "-t", "-v"), ("-n", "-e"), ("-n", "-t", "-e")],
    ids=" ".join,
)
def test_a_tunnels_inner_frame_at_column_0_is_part_of_its_packet(tmp_path, flags):
    text = render(TUNNELS, tmp_path / "tunnels.pcap", *flags)
    assert re.search(r"(?m)^(?:IP|02:00:00:00:00:01) ", text)  # (an inner frame at column 0)
    assert "198.51.100.1 > 198.51.100.2" in text
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        df = both_engines(text)
    assert len(df) == 5
    assert df["proto"].tolist() == ["udp"] * 5
    assert df["dport"].tolist() == [53, 4789, 8472, 4789, 53]
    for row in (1, 2):  # the outer packet's record holds its inner frame's lines
        assert "198.51.100.1 > 198.51.100.2: ICMP echo request" in df.loc[row, "raw"]
    assert df.loc[3, "raw"].endswith(" [|ether]")
    assert df.loc[4, "dns_qname"] == "example.com"


#: 4.9's ATM OAM printer ends a cut-short cell with "[|oam]" after its indented lines
#: (print-sunatm.c / print-atm.c: ND_PRINT((ndo, "[|oam]")) after "\n\t..." fields).
OAM_49 = (
    "VPI:0 VCI:3 OAM F4 (Segment), Loopback, Ctype 0x01, length 53\n"
    "\tcorrelation-tag 0x00000001, loopback-id\n"
    "[|oam]\n"
    "VPI:0 VCI:4 OAM F4 (End-to-End), Loopback, Ctype 0x01, length 53\n"
    "[|oam]\n"
)


def test_a_49_truncation_marker_after_a_records_lines_is_part_of_it():
    df = both_engines(OAM_49)
    assert df["proto"].tolist() == ["other", "other", "other"]
    assert df.loc[0, "raw"].endswith("loopback-id\n[|oam]")
    # after a one-line record the marker is a packet cut short at its first header
    assert df.loc[2, "raw"] == "[|oam]"


def test_a_marker_in_a_timestamped_log_joins_the_record_before_it():
    text = (
        "12:00:00.000001 IP 192.0.2.1.5555 > 192.0.2.2.4789: VXLAN, flags [I] (0x08), vni 100\n"
        "[|ether]\n"
        "12:00:00.000002  [|arp]\n"
    )
    df = both_engines(text)
    assert len(df) == 2 and df.loc[0, "raw"].endswith("\n[|ether]")
    assert df.loc[1, "time"] == pd.Timestamp("1970-01-01 12:00:00.000002")


# --------------------------------------------------------------------------- -t logs
def _stp() -> bytes:
    bpdu = bytes.fromhex("424203") + bytes(35)
    return (
        bytes.fromhex("0180c2000000")
        + bytes.fromhex("020000000001")
        + struct.pack("!H", len(bpdu))
        + bpdu
    )


def _aoe() -> bytes:
    return ether(bytes.fromhex("10000000") + bytes(30), 0x88A2)


@pytest.mark.parametrize("flags", [("-n", "-t"), ("-n", "-t", "-v")], ids=" ".join)
def test_a_t_log_of_protocols_the_kit_does_not_decode(tmp_path, flags):
    capture = pcap([_stp(), ether(QUERY), _aoe(), _stp()], LINKTYPE_ETHERNET)
    text = render(capture, tmp_path / "l2.pcap", *flags)
    assert text.startswith("STP 802.1d")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        df = both_engines(text)
    assert df["proto"].tolist() == ["other", "udp", "other", "other"]
    assert df.loc[0, "info"].startswith("STP 802.1d")
    assert df.loc[2, "info"].startswith("AoE")
    assert df["time"].isna().all()
    assert lines_accounted(df) == df.attrs["capture"]["lines"]
    if "-v" in flags:  # the BPDU's indented lines are its record's
        assert "root-id" in df.loc[0, "raw"] and df.loc[1, "line"] > 2


def test_a_t_log_from_a_linux_cooked_capture_with_e(tmp_path):
    path = CORPUS / "tcp-handshake-nano.pcap"
    if not path.exists():
        pytest.skip(f"tcpdump's regression corpus is not at {CORPUS} (it lives in ../shared)")
    text = tcpdump(path, "-n", "-t", "-e")
    assert "\n In ethertype" in text  # incoming packets' lines begin with a blank
    df = both_engines(text)
    assert df["proto"].tolist() == ["tcp", "tcp", "tcp"]
    assert df["tcp_flags"].tolist() == ["S", "S.", "."]


def test_garbage_without_any_tcpdump_line_stays_unparsed():
    with pytest.warns(ik.ParseWarning, match="2 of 2 lines"):
        ik.parse_tcpdump("hello world\nsomething else\n")
    df = both_engines("hello world\nsomething else\n")
    assert df["proto"].tolist() == ["unparsed", "unparsed"]


# --------------------------------------------------------------------------- encodings
@pytest.mark.parametrize(
    ("encoding", "words", "name"),
    [
        ("utf-16", "little-endian, with a byte-order mark", "UTF-16"),
        ("utf-16-le", "little-endian", "UTF-16LE"),
        ("utf-16-be", "big-endian", "UTF-16BE"),
    ],
)
def test_utf16_text_is_named_with_how_to_convert_it(tmp_path, encoding, words, name):
    path = tmp_path / "powershell.txt"
    log = "13:24:32.192571 IP 192.0.2.1.5 > 192.0.2.2.53: 1+ A? example.com. (29)\r\n"
    path.write_bytes((log * 3).encode(encoding))
    with pytest.raises(ik.InputError) as info:
        ik.read_tcpdump(path)
    message = str(info.value)
    assert f"{path}: UTF-16 text ({words})" in message
    command = re.search(r"'(iconv [^>']+) > log\.txt'", message).group(1)
    assert command == f"iconv -f {name} -t UTF-8 {path}"
    # the command it names gives the log back
    converted = subprocess.run(command.split(), capture_output=True, check=True).stdout
    assert len(ik.parse_tcpdump(converted)) == 3


# --------------------------------------------------------------------------- standard input
CLI = [sys.executable, "-m", "incidentkit"]


def _scenario_text(style: str = "v") -> str:
    return gzip.decompress((SCENARIOS / f"dos.{style}.txt.gz").read_bytes()).decode()


def test_parse_reads_standard_input_from_a_pipe_of_tcpdump(tmp_path):
    path = SCENARIOS / "service_down.pcap"
    dump = subprocess.Popen(
        ["tcpdump", "-l", "-nn", "-v", "-r", str(path)],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        env={"TZ": "UTC", "PATH": "/usr/bin:/bin"},
    )
    parsed = subprocess.run(
        [*CLI, "parse", "-", "--format", "jsonl"],
        stdin=dump.stdout,
        capture_output=True,
        timeout=120,
    )
    dump.stdout.close()
    assert dump.wait(timeout=60) == 0
    assert parsed.returncode == 0, parsed.stderr.decode()
    rows = pd.read_json(io.BytesIO(parsed.stdout), lines=True)
    whole = ik.parse_tcpdump(tcpdump(path, "-nn", "-v"))
    assert rows["record"].tolist() == whole["record"].tolist()
    assert rows["line"].tolist() == whole["line"].tolist()
    assert rows["proto"].tolist() == whole["proto"].astype(str).tolist()
    assert rows["dns_id"].fillna(-1).tolist() == whole["dns_id"].astype(float).fillna(-1).tolist()
    assert rows["raw"].tolist() == whole["raw"].tolist()


def test_parse_writes_rows_while_the_stream_is_still_open():
    """A live capture never ends: rows must come out as records come in."""
    text = _scenario_text("default").splitlines(keepends=True)[:40]
    parse = subprocess.Popen(
        [*CLI, "parse", "-", "--format", "csv"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    try:
        parse.stdin.write("".join(text[:20]).encode())
        parse.stdin.flush()
        header = parse.stdout.readline()  # (blocks until the first rows are written)
        first = [parse.stdout.readline() for _ in range(19)]
        assert header.startswith(b"record,line,")
        assert [int(r.split(b",")[0]) for r in first] == list(range(1, 20))
        assert parse.poll() is None  # written while the stream is open
        parse.stdin.write("".join(text[20:]).encode())
        parse.stdin.close()
        rest = parse.stdout.read().splitlines()
        assert parse.wait(timeout=60) == 0
    finally:
        if parse.poll() is None:
            parse.kill()
    rows = len(ik.parse_tcpdump("".join(text)))
    assert [int(r.split(b",")[0]) for r in rest] == list(range(20, rows + 1))


def test_diagnose_reads_standard_input(tmp_path):
    log = SCENARIOS / "dos.n.txt.gz"
    done = subprocess.run(
        [*CLI, "diagnose", "-", "--json"], input=log.read_bytes(), capture_output=True, timeout=120
    )
    assert done.returncode == 0, done.stderr.decode()
    expected = ik.diagnose(ik.read_tcpdump(log)).to_dict()
    import json

    assert json.loads(done.stdout)["cause"] == expected["cause"]


@pytest.mark.parametrize("style", ["default", "v", "nn-tttt"])
def test_a_stream_read_in_small_blocks_gives_the_whole_logs_frame(monkeypatch, style):
    from incidentkit.parse import stream

    monkeypatch.setattr(stream, "BLOCK_BYTES", 3000)
    monkeypatch.setattr(stream, "_READ", 97)
    lines = _scenario_text(style).splitlines(keepends=True)
    text = "".join(lines[:600] + lines[-600:])  # (its start and its end: a few hundred blocks)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ik.ParseWarning)
        whole = ik.parse_tcpdump(text, date="2026-11-24")
        frames = list(ik.iter_tcpdump(io.BytesIO(text.encode()), date="2026-11-24"))
    assert len(frames) > 5
    joined = pd.concat(frames, ignore_index=True)
    pd.testing.assert_frame_equal(joined, whole)


@pytest.mark.parametrize(
    ("flag", "lines"),
    [
        # -ttt: each delta to the packet before; the sum runs on across the blocks
        ("-ttt", [" 00:00:00.000000 ", " 00:00:00.250000 ", " 00:00:01.500000 "] * 40),
        # a capture past midnight: the day turns between two blocks
        (
            "default",
            [f"23:59:{s:02d}.000000 " for s in range(50, 60)]
            + [f"00:00:{s:02d}.000000 " for s in range(10)],
        ),
    ],
)
def test_times_run_on_across_the_blocks_of_a_stream(monkeypatch, flag, lines):
    from incidentkit.parse import stream

    monkeypatch.setattr(stream, "BLOCK_BYTES", 300)
    monkeypatch.setattr(stream, "_READ", 64)
    body = "IP 192.0.2.1.5 > 192.0.2.2.53: 1+ A? example.com. (29)\n"
    text = "".join(stamp + body for stamp in lines)
    whole = ik.parse_tcpdump(text, date="2026-11-24")
    frames = list(ik.iter_tcpdump(io.BytesIO(text.encode()), date="2026-11-24"))
    assert len(frames) > 3
    joined = pd.concat(frames, ignore_index=True)
    pd.testing.assert_series_equal(joined["time"], whole["time"])
    assert joined["time"].is_monotonic_increasing


def test_a_gzip_stream_and_binary_in_a_stream():
    text = _scenario_text("n").encode()
    frames = list(ik.iter_tcpdump(io.BytesIO(gzip.compress(text))))
    assert sum(map(len, frames)) == len(ik.parse_tcpdump(text))
    bad = text[:5000] + b"\x00binary" + text[5000:]
    with pytest.raises(ik.InputError, match=r"<stream>: binary data \(a NUL byte at offset 5000\)"):
        list(ik.iter_tcpdump(io.BytesIO(bad)))


def test_stdin_read_whole_by_read_tcpdump():
    text = _scenario_text("n")
    code = (
        "import sys, incidentkit as ik, warnings; warnings.simplefilter('ignore');"
        "df = ik.read_tcpdump('-'); print(len(df), df.attrs['capture']['source'])"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], input=text.encode(), capture_output=True, timeout=120
    )
    assert done.stdout.decode().split() == [str(len(ik.parse_tcpdump(text))), "<stdin>"]
