"""Bad input gets a clear error or a clear row, never a traceback from deep inside."""

from __future__ import annotations

import gzip
import io
import warnings

import pandas as pd
import pytest
from conftest import SEED_LOG

import incidentkit as ik
from incidentkit.schema import COLUMN_NAMES

PCAPS = SEED_LOG.parent / "scenarios"

QUERY = (
    "13:24:32.192571 IP 198.51.100.15.52444 > 203.0.113.2.53: 35084+ A? yummyrecipesforme.com. (39)"
)


def test_missing_file(tmp_path):
    with pytest.raises(ik.InputError, match="no such file"):
        ik.read_tcpdump(tmp_path / "nope.log")


def test_directory(tmp_path):
    with pytest.raises(ik.InputError, match="directory"):
        ik.read_tcpdump(tmp_path)


@pytest.mark.parametrize(
    ("magic", "kind"),
    [
        (b"\xd4\xc3\xb2\xa1", "pcap"),
        (b"\xa1\xb2\xc3\xd4", "pcap"),
        (b"\x4d\x3c\xb2\xa1", "pcap"),
        (b"\x0a\x0d\x0d\x0a", "pcapng"),
    ],
)
def test_capture_files_are_named_with_what_to_do(tmp_path, magic, kind):
    path = tmp_path / "capture.bin"
    path.write_bytes(magic + b"\x02\x00\x04\x00" + bytes(16))
    with pytest.raises(
        ik.InputError,
        match=rf"this is a {kind} capture.*incidentkit\.read_pcap.*incidentkit\.read,",
    ):
        ik.read_tcpdump(path)


def test_gzipped_pcap_is_recognised_too(tmp_path):
    path = tmp_path / "capture.pcap.gz"
    path.write_bytes(gzip.compress(b"\xd4\xc3\xb2\xa1" + bytes(20)))
    with pytest.raises(ik.InputError, match="pcap capture"):
        ik.read_tcpdump(path)


def test_a_damaged_gzip_file_is_named_not_a_zlib_traceback(tmp_path):
    path = tmp_path / "log.gz"
    # a gzip header, then bytes no deflate stream starts with (an invalid block type)
    path.write_bytes(b"\x1f\x8b\x08\x00" + bytes(range(256)) * 4)
    for read in (ik.read, ik.read_tcpdump):
        with pytest.raises(ik.InputError, match=r"log\.gz: looks gzip-compressed but cannot be"):
            read(path)


def test_other_binary_data(tmp_path):
    path = tmp_path / "blob"
    path.write_bytes(b"\x13\x37abcd\x01\x00" + bytes(64))
    with pytest.raises(ik.InputError, match=r"binary data .*offset 7"):
        ik.read_tcpdump(path)
    path.write_bytes(b"\x7fELF\x02\x01\x01\x00" + bytes(64))
    for read in (ik.read, ik.read_tcpdump, ik.read_pcap):
        with pytest.raises(ik.InputError, match=r"blob: not .*it is an ELF program"):
            read(path)


def _compressed(kind: str, data: bytes) -> bytes:
    """``data`` written by Python's own lzma, bz2 and zipfile."""
    import bz2
    import lzma
    import zipfile

    if kind == "xz":
        return lzma.compress(data)
    if kind == "bzip2":
        return bz2.compress(data)
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("capture.pcap", data)
    return out.getvalue()


@pytest.mark.parametrize(
    ("kind", "words", "command"),
    [
        ("xz", "an xz-compressed file", "xz -dk"),
        ("bzip2", "a bzip2-compressed file", "bunzip2 -k"),
        ("zip", "a zip archive", "unzip"),
    ],
)
@pytest.mark.parametrize("inner", ["capture", "log"])
def test_a_compressed_file_is_named_with_what_to_do(tmp_path, kind, words, command, inner):
    """Not "binary data, render it with tcpdump": what the file is, and the command."""
    data = (
        (PCAPS / "firewall_reject.pcap").read_bytes()
        if inner == "capture"
        else SEED_LOG.read_bytes()
    )
    path = tmp_path / f"evidence {kind}"  # (a name the command must quote)
    path.write_bytes(_compressed(kind, data))
    said = f"'{path}'"
    for read in (ik.read, ik.read_tcpdump, ik.read_pcap):
        with pytest.raises(ik.InputError) as raised:
            read(path)
        message = str(raised.value)
        assert message.startswith(f"{path}: not ")
        assert f"it is {words}; " in message and f"{command} {said}" in message
        assert "render the capture" not in message


def test_a_zstd_file_is_named(tmp_path):
    path = tmp_path / "capture.pcap.zst"
    # a zstd frame: its magic, a frame header, and a raw block of the capture's first bytes
    data = (PCAPS / "firewall_reject.pcap").read_bytes()[:64]
    path.write_bytes(b"\x28\xb5\x2f\xfd" + b"\x20" + bytes([len(data)]) + b"\x01\x02\x00" + data)
    with pytest.raises(ik.InputError, match=r"it is a zstd-compressed file; .*zstd -d"):
        ik.read(path)


@pytest.mark.parametrize(
    ("kind", "words"),
    [
        ("snoop", "a snoop capture"),
        ("netmon1", "a Network Monitor 1 capture"),
        ("netmon2", "a Network Monitor 2 capture"),
        ("observer", "an Observer capture"),
        ("5views", "a 5View capture"),
    ],
)
def test_a_capture_of_another_format_says_how_to_make_it_pcapng(tmp_path, kind, words):
    """Written by Wireshark's editcap; its advice, followed, gives the packets of the pcap
    (to the millisecond, Network Monitor 1's resolution). Observer is only named: editcap
    4.0 refuses the Observer files it writes itself ("bad record (time information TLV
    length 12 != 8)")."""
    import shutil
    import subprocess

    if shutil.which("editcap") is None:
        pytest.fail("editcap is not installed: .ci/run installs it (wireshark-common)")
    source = PCAPS / "firewall_reject.pcap"
    path = tmp_path / f"capture.{kind}"
    subprocess.run(["editcap", "-F", kind, str(source), str(path)], check=True, timeout=60)
    for read in (ik.read, ik.read_pcap, ik.read_tcpdump):
        with pytest.raises(ik.InputError, match=f"it is {words}.*; write it as pcapng first"):
            read(path)
    if kind == "observer":
        return
    command = str(raised_advice(path)).split("first: ", 1)[1].rstrip(".").split()
    subprocess.run(command, check=True, timeout=60, cwd=tmp_path)
    converted = ik.read(tmp_path / command[-1])
    original = ik.read(source)
    for column in ("src", "dst", "sport", "dport", "dns_id", "dns_qname", "icmp_reason"):
        assert converted[column].tolist() == original[column].tolist(), column
    apart = (converted["time"] - original["time"]).abs()
    assert (apart < pd.Timedelta(milliseconds=1)).all()


def raised_advice(path) -> str:
    try:
        ik.read(path)
    except ik.InputError as exc:
        return str(exc)
    raise AssertionError(f"{path} was read")


def test_empty_file_gives_the_full_schema(tmp_path):
    path = tmp_path / "empty.log"
    path.write_bytes(b"")
    df = ik.read_tcpdump(path)
    assert len(df) == 0
    assert tuple(df.columns) == COLUMN_NAMES
    assert str(df["sport"].dtype) == "UInt16"


def test_only_a_banner_gives_an_empty_frame_with_metadata():
    df = ik.parse_tcpdump(
        "reading from file x.pcap, link-type EN10MB (Ethernet), snapshot length 262144\n"
    )
    assert len(df) == 0
    assert df.attrs["capture"]["link_type"] == "EN10MB"
    assert df.attrs["capture"]["snapshot_length"] == 262144


def test_non_utf8_bytes_are_kept_not_fatal():
    data = QUERY.encode() + b"\n" + b"\xff\xfe garbage \xc3\x28\n"
    with pytest.warns(ik.ParseWarning, match="1 of 2 lines"):
        df = ik.parse_tcpdump(data)
    assert df["proto"].tolist() == ["udp", "unparsed"]
    assert df.loc[1, "raw"] == "\\xff\\xfe garbage \\xc3("
    assert df.attrs["capture"]["non_utf8_lines"] == 1


def test_crlf_line_ends():
    df = ik.parse_tcpdump((QUERY + "\r\n") * 3)
    assert len(df) == 3 and (df["dns_qname"] == "yummyrecipesforme.com").all()
    assert not df["raw"].str.contains("\r").any()


def test_a_line_of_several_megabytes():
    huge = "x" * 5_000_000
    with pytest.warns(ik.ParseWarning):
        df = ik.parse_tcpdump(QUERY + "\n" + huge + "\n" + QUERY + "\n")
    assert df["proto"].tolist() == ["udp", "unparsed", "udp"]
    assert df.loc[1, "line"] == 2 and len(df.loc[1, "raw"]) == 5_000_000
    assert df.loc[1, "error"] == "not a tcpdump record"


def test_a_record_with_a_huge_answer_still_parses():
    line = QUERY.replace("(39)", "A" * 3_000_000 + " (39)")
    df = ik.parse_tcpdump(line)
    assert df.loc[0, "proto"] == "udp" and df.loc[0, "dport"] == 53


def test_garbage_becomes_unparsed_rows_with_line_numbers():
    text = "hello world\n" + QUERY + "\n\tcontinuation\nsomething else\n"
    with pytest.warns(ik.ParseWarning, match="2 of 4 lines"):
        df = ik.parse_tcpdump(text)
    assert df["proto"].tolist() == ["unparsed", "udp", "unparsed"]
    assert df["line"].tolist() == [1, 2, 4]
    assert df.loc[1, "raw"] == QUERY + "\n\tcontinuation"
    assert set(df.loc[df["proto"] == "unparsed", "error"]) == {"not a tcpdump record"}


def test_continuation_before_any_record():
    with pytest.warns(ik.ParseWarning):
        df = ik.parse_tcpdump("    198.51.100.15.52444 > 203.0.113.2.53: 1+ A? x. (17)\n")
    assert df.loc[0, "error"] == "continuation line with no record before it"


def test_strict_raises_with_the_facts():
    with pytest.raises(ik.ParseError) as info:
        ik.parse_tcpdump(QUERY + "\nnot tcpdump\n", strict=True)
    assert info.value.line_no == 2
    assert info.value.text == "not tcpdump"
    assert info.value.reason == "not a tcpdump record"
    assert "line 2" in str(info.value)


def test_blank_lines_go_to_the_metadata():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        df = ik.parse_tcpdump("\n" + QUERY + "\n\n   \n" + QUERY + "\n")
    assert len(df) == 2
    assert df.attrs["capture"]["blank_lines"] == [1, 3, 4]


def test_open_text_and_binary_files():
    text = SEED_LOG.read_text()
    assert len(ik.read_tcpdump(io.StringIO(text))) == 6
    assert len(ik.read_tcpdump(io.BytesIO(text.encode()))) == 6
    assert len(ik.read_tcpdump(io.BytesIO(gzip.compress(text.encode())))) == 6


def test_wrong_types_are_refused_clearly():
    with pytest.raises(ik.InputError, match="cannot read a tcpdump log from int"):
        ik.read_tcpdump(42)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="is not a date"):
        ik.parse_tcpdump(QUERY, date="yesterday-ish")
