"""read_pcap and read: captures into the schema's frame, held to tcpdump's words (read by
the text reader), to tshark's counts, and to the diagnosis of the scenarios' renderings."""

from __future__ import annotations

import gzip
import io
import shutil
import struct
import subprocess
import sys
import warnings
from pathlib import Path

import pandas as pd
import pytest
from conftest import CORPUS, SCENARIOS, pcap_path, rendering_path, scenario_manifest
from pcap_oracle import capture_bytes, disagreements
from pcapgen import ether, ipv4, pcap, udp

import incidentkit as ik
from incidentkit import schema

SCENARIO_CAPTURES = sorted(SCENARIOS.glob("*.pcap")) + sorted(SCENARIOS.glob("*.pcap.gz"))
#: the cases recorded from a firewall's log (link type NFLOG), held to the same oracles
SCENARIO_CAPTURES += sorted((SCENARIOS.parent / "cases").glob("nflog_*.pcap"))
CORPUS_CAPTURES = sorted(CORPUS.glob("*.pcap")) + sorted(CORPUS.glob("*.pcapng"))
needs_corpus = pytest.mark.skipif(
    not CORPUS.is_dir(), reason="tcpdump's corpus (../shared/corpus) is not beside the checkout"
)

_TEXT = "tcpdump's words are not read by the text reader here; the bytes are"
_NEWER = "RFC 8335 extended echo: tcpdump 4.99.3 has no words for it and prints a number"
_CODE = "tcpdump does not print this ICMPv6 code; the text reader takes the usual one"
_DAMAGED = "a damaged packet that tcpdump reads on past where this reader stops, or otherwise"
_UNDECODED = "not decoded by this reader"
#: Where the capture reader and tcpdump's words still differ in tcpdump's own corpus
#: (many of its captures are built to break a decoder): capture -> {column: why}. A
#: listed difference that no longer occurs fails the test too, so the list stays exact.
KNOWN: dict[str, dict[str, str]] = {
    "afs.pcap": {"length": "a later IP fragment: tcpdump prints the reassembled length"},
    "arp-oobr.pcap": dict.fromkeys(("proto", "src", "dst", "length"), _DAMAGED),
    "arp-too-long-tha.pcap": dict.fromkeys(("src", "dst", "length"), _DAMAGED),
    "bigtcp-ipv4.pcap": {"proto": _TEXT},
    "getname_2_read4_asan.pcap": {"length": _DAMAGED},
    "icmp-icmp_print-oobr-1.pcap": dict.fromkeys(("length", "icmp_type", "icmp_reason"), _DAMAGED),
    "icmp-icmp_print-oobr-2.pcap": dict.fromkeys(
        ("proto", "src", "dst", "length", "ttl", "icmp_type", "icmp_reason"), _DAMAGED
    ),
    "icmp-rfc8335-missing-bytes.pcap": dict.fromkeys(
        ("proto", "src", "dst", "length", "ttl", "icmp_type", "icmp_reason"), _DAMAGED
    ),
    "icmp-rfc8335.pcap": {"icmp_reason": _NEWER},
    "icmp6-rfc8335.pcap": {"length": _NEWER, "icmp_reason": _NEWER},
    "icmp6_mobileprefix_asan.pcap": {"icmp_code": _CODE},
    "icmp6_nodeinfo_oobr.pcap": dict.fromkeys(
        ("proto", "src", "dst", "ttl", "icmp_type", "icmp_code", "icmp_reason"),
        _UNDECODED + " (link type 8)",
    ),
    "icmp_ext_oob_poc.pcap": {"icmp_reason": _NEWER},
    "icmpv6-rfc7112.pcap": {"icmp_code": _CODE},
    "icmpv6_nodeinfo_queryipv4.pcap": {"icmp_code": _CODE},
    "icmpv6_nodeinfo_replyipv6.pcap": {"length": _DAMAGED},
    "ip_ts_opts_asan.pcap": {"proto": _TEXT},
    "ipv4_tcp_http_xml_tso.pcap": {"proto": _TEXT},
    "ipv6-routing-header.pcap": {"proto": _TEXT},
    "ipv6-srh-ext-header.pcap": dict.fromkeys(
        ("proto", "length", "icmp_type", "icmp_code", "icmp_reason"),
        _UNDECODED + " (the segment routing header's TLVs)",
    ),
    "ipv6-srh-insert-cksum.pcap": {"proto": _TEXT},
    "ipv6-srh-ipproto-ether.pcap": dict.fromkeys(
        ("proto", "length", "icmp_type", "icmp_code", "icmp_reason"),
        _UNDECODED + " (Ethernet inside IPv6)",
    ),
    "ipv6-srh-tlv-hmac.pcap": {"length": _UNDECODED + " (the segment routing header's TLVs)"},
    "ipv6-srh-tlv-pad1-padn-5-trunc.pcap": {"length": _DAMAGED},
    "ipv6-srh-tlv-pad1-padn-5.pcap": {
        "length": _UNDECODED + " (the segment routing header's TLVs)"
    },
    "ipv6_39_byte_header.pcap": {"proto": _DAMAGED},
    "ipv6_invalid_length.pcap": {"proto": _DAMAGED},
    "ipv6_jumbogram_invalid_length.pcap": {"proto": _TEXT},
    "ppp_ip_udp_dns.pcap": dict.fromkeys(
        ("proto", "src", "dst", "sport", "dport", "length", "ttl"),
        _UNDECODED + " (PPP with HDLC escapes left in)",
    ),
    "timestamp_invalid_micro.pcap": {
        "time": "a microsecond field of 10^6: tcpdump prints '.1000000', no time is kept here"
    },
    "timestamp_invalid_nano.pcap": {
        "time": "a nanosecond field of 10^9: tcpdump prints it as it is, no time is kept here"
    },
    "icmp-length-zero.pcapng": {"proto": _TEXT},
    "icmpv6-length-zero.pcapng": {"icmp_reason": _DAMAGED},
}


def _read(path, **kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ik.ParseWarning)
        return ik.read_pcap(path, **kwargs)


# --------------------------------------------------------------------------- oracles
@pytest.mark.parametrize("path", SCENARIO_CAPTURES, ids=lambda p: p.name)
def test_every_scenario_capture_reads_as_tcpdump_prints_it(path):
    df = _read(path)
    assert len(df) > 0 and not df["error"].notna().any()
    assert disagreements(path, df) == {}
    # raw is tcpdump -nn -tttt's line for each packet but TCP's (tcpdump prints TCP's
    # sequence numbers relative to the connection's first, and its options)
    lines = subprocess.run(
        ["tcpdump", "-nn", "-tttt", "-r", "-"],
        input=capture_bytes(path),
        capture_output=True,
        env={"TZ": "UTC", "PATH": "/usr/bin:/bin"},
        timeout=120,
        check=True,
    ).stdout.decode()
    printed = lines.splitlines()
    assert len(printed) == len(df)
    shown = df["proto"] != "tcp"
    assert shown.sum() > len(df) / 2
    for i in shown[shown].index:
        assert df.at[i, "raw"] == printed[i], (int(df.at[i, "packet"]), printed[i])


@needs_corpus
@pytest.mark.parametrize("path", CORPUS_CAPTURES, ids=lambda p: p.name)
def test_every_corpus_capture_reads_as_tcpdump_prints_it_but_where_listed(path):
    df = _read(path)
    assert df["packet"].tolist() == list(range(1, len(df) + 1))
    wrong = disagreements(path, df)
    assert set(wrong) == set(KNOWN.get(path.name, {})), {c: v[:3] for c, v in wrong.items()}


def _tshark_counts(path: Path) -> tuple[int, int, int, int]:
    exe = shutil.which("tshark")
    if exe is None:
        pytest.fail("tshark is not installed: .ci/run installs it (apt-get install tshark)")
    out = subprocess.run(
        [exe, "-n", "-r", "-", "-T", "fields", "-e", "frame.protocols"],
        input=capture_bytes(path),
        capture_output=True,
        timeout=300,
        check=True,
        env={"PATH": "/usr/bin:/bin", "HOME": "/nonexistent"},
    ).stdout.decode()
    stacks = [line.split(":") for line in out.splitlines()]

    def top(layers: list[str], *names: str) -> bool:  # (not a datagram an ICMP error quotes)
        first = next((n for n in layers if n in ("icmp", "icmpv6", "dns", "mdns")), None)
        return first in names

    dns = sum(top(s, "dns", "mdns") for s in stacks)
    return (
        len(stacks),
        dns,
        sum(top(s, "icmp") for s in stacks),
        sum(top(s, "icmpv6") for s in stacks),
    )


@pytest.mark.parametrize("path", SCENARIO_CAPTURES, ids=lambda p: p.name)
def test_packet_dns_and_icmp_counts_are_tsharks(path):
    df = _read(path)
    mine = (
        len(df),
        int(df["dns_qr"].notna().sum()),
        int((df["proto"] == "icmp").sum()),
        int((df["proto"] == "icmp6").sum()),
    )
    assert mine == _tshark_counts(path)


@pytest.mark.parametrize("row", scenario_manifest(), ids=lambda r: r["scenario"])
def test_every_scenario_capture_is_diagnosed_as_its_renderings_are(row):
    df = _read(pcap_path(row["scenario"]))
    site = {"domain": "yummyrecipesforme.com", "expected_address": "203.0.113.80"}
    got = ik.diagnose(df, **site)
    assert got.cause == row["expected_cause"], got.summary
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ik.ParseWarning)
        text = ik.read_tcpdump(rendering_path(row["scenario"], "nn-tttt"))
    from_text = ik.diagnose(text, **site)
    assert (got.cause, got.server, got.port, got.protocol) == (
        from_text.cause,
        from_text.server,
        from_text.port,
        from_text.protocol,
    )
    assert int(row["packets"]) == len(df)
    assert int(row["dns_queries"]) == int((df["dns_qr"] == "query").sum())
    # the evidence is the same packets (a rendering's records are its packets, in order)
    assert got.evidence_records == from_text.evidence_records


# --------------------------------------------------------------------------- the frame
def test_a_capture_frame_has_the_schema_frame_numbers_and_no_lines():
    df = _read(SCENARIOS / "service_down.pcap")
    assert list(df.columns) == list(schema.COLUMN_NAMES)
    assert [n for n, t in schema.dtypes().items() if df[n].dtype != t] == []
    assert df["line"].isna().all() and df["record"].tolist() == df["packet"].tolist()
    meta = df.attrs["capture"]
    assert meta["format"] == "pcap" and meta["packets"] == len(df) and meta["link_types"] == [1]


def test_times_are_utc_and_tz_converts_them():
    naive = _read(SCENARIOS / "service_down.pcap")
    aware = _read(SCENARIOS / "service_down.pcap", tz="America/New_York")
    assert naive["time"].dt.tz is None
    assert str(aware["time"].dt.tz) == "America/New_York"
    assert (aware["time"].dt.tz_convert("UTC").dt.tz_localize(None) == naive["time"]).all()


def test_gzip_and_pcapng_read_as_the_plain_pcap(tmp_path):
    plain = SCENARIOS / "service_down.pcap"
    zipped = tmp_path / "capture.bin"  # (by content, not by name)
    zipped.write_bytes(gzip.compress(plain.read_bytes()))
    ng = tmp_path / "capture.pcapng"
    subprocess.run(
        ["tshark", "-r", str(plain), "-F", "pcapng", "-w", str(ng)],
        check=True,
        capture_output=True,
        timeout=120,
        env={"PATH": "/usr/bin:/bin", "HOME": "/nonexistent"},
    )
    want = _read(plain).drop(columns="raw")
    for other in (zipped, ng):
        got = _read(other)
        pd.testing.assert_frame_equal(got.drop(columns="raw"), want)
    assert _read(ng).attrs["capture"]["format"] == "pcapng"
    assert _read(zipped).attrs["capture"]["gzip"] is not None


def test_read_tells_captures_from_text_by_content(tmp_path):
    capture = tmp_path / "evidence.txt"  # a capture, whatever its name says
    capture.write_bytes((SCENARIOS / "service_down.pcap").read_bytes())
    log = tmp_path / "evidence.pcap"  # a text log, whatever its name says
    log.write_bytes((SCENARIOS / "service_down.nn-tttt.txt").read_bytes())
    assert ik.read(capture).attrs["capture"]["format"] == "pcap"
    assert ik.read(log)["line"].notna().all()
    assert len(ik.read(capture)) == len(ik.read(log))
    with open(capture, "rb") as handle:
        assert len(ik.read(handle)) == len(ik.read(log))
    assert len(ik.read(io.BytesIO(capture.read_bytes()))) == len(ik.read(log))
    assert len(ik.read(SCENARIOS / "dos.pcap.gz")) == int(
        next(r for r in scenario_manifest() if r["scenario"] == "dos")["packets"]
    )


def test_read_names_what_does_not_apply_to_a_capture():
    with pytest.raises(ik.InputError, match=r"service_down\.pcap: is a capture, so date"):
        ik.read(SCENARIOS / "service_down.pcap", date="2026-11-24")


def test_read_tcpdump_given_a_capture_names_the_readers_that_read_it():
    with pytest.raises(ik.InputError, match=r"incidentkit\.read_pcap.*incidentkit\.read\b"):
        ik.read_tcpdump(SCENARIOS / "service_down.pcap")


def test_a_file_that_is_no_capture_says_what_it_is(tmp_path):
    text = tmp_path / "notes.txt"
    text.write_text("13:24:32.192571 IP 192.0.2.1.5 > 192.0.2.2.53: 1+ A? a. (17)\n")
    with pytest.raises(ik.InputError, match=r"notes\.txt: .*text"):
        ik.read_pcap(text)
    with pytest.raises(ik.InputError, match="no such file"):
        ik.read_pcap(tmp_path / "missing.pcap")
    with pytest.raises(ik.InputError, match="open it with 'rb'"):
        ik.read_pcap(io.StringIO("x"))


def test_a_capture_cut_off_mid_packet_keeps_every_whole_packet(tmp_path):
    whole = (SCENARIOS / "service_down.pcap").read_bytes()
    cut = tmp_path / "cut.pcap"
    cut.write_bytes(whole[:-10])  # tcpdump killed while writing the last packet
    full = _read(SCENARIOS / "service_down.pcap")
    with pytest.warns(ik.ParseWarning, match=r"cut\.pcap: the capture is cut off"):
        df = ik.read_pcap(cut)
    assert len(df) == len(full) - 1
    pd.testing.assert_frame_equal(df, full.iloc[:-1])
    assert df.attrs["capture"]["truncated"]
    with pytest.raises(ik.InputError, match=r"cut\.pcap"):
        ik.read_pcap(cut, strict=True)


def test_text_from_the_packet_cannot_break_the_frame_or_the_report_text():
    # a DNS name of markup, a line end and a terminal escape, as an attacker can send it
    from incidentkit.testing import dns_query

    labels = [b"<script>alert(1)</script>", b"\x1b[31m\nx", b"example"]
    packet = ether(
        ipv4(
            "192.0.2.1",
            "198.51.100.2",
            17,
            udp("192.0.2.1", "198.51.100.2", 40000, 53, dns_query(7, labels)),
        )
    )
    df = ik.read_pcap(io.BytesIO(pcap([packet])))
    assert len(df) == 1 and df.at[0, "proto"] == "udp" and int(df.at[0, "dns_id"]) == 7
    assert "\n" not in df.at[0, "raw"] and "\x1b" not in df.at[0, "raw"]
    page = str(ik.Story(df, ik.diagnose(df), ik.dns_transactions(df)).front())
    assert "<script>" not in page and "&lt;script&gt;" in page


# --------------------------------------------------------------------------- the kit
def test_the_command_line_diagnoses_a_capture_and_cites_frames():
    out = subprocess.run(
        [sys.executable, "-m", "incidentkit", "diagnose", str(SCENARIOS / "firewall_reject.pcap")],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    ).stdout
    assert out.startswith("cause: firewall\n")
    evidence = out.split("evidence (", 1)[1].splitlines()[1:]
    assert evidence and all(line.split()[0] == "frame" for line in evidence)


def test_a_capture_piped_into_parse_is_read_whole():
    # tcpdump -w - | incidentkit parse -: a pipe, peeked at to tell a capture from text
    dump = subprocess.Popen(
        ["tcpdump", "-r", str(SCENARIOS / "service_down.pcap"), "-w", "-"],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        env={"PATH": "/usr/bin:/bin"},
    )
    out = subprocess.run(
        [sys.executable, "-m", "incidentkit", "parse", "-", "--format", "jsonl"],
        stdin=dump.stdout,
        capture_output=True,
        timeout=120,
        check=True,
    ).stdout
    dump.stdout.close()
    assert dump.wait(timeout=60) == 0
    rows = pd.read_json(io.BytesIO(out), lines=True)
    assert len(rows) == len(_read(SCENARIOS / "service_down.pcap"))
    assert rows["packet"].tolist() == list(range(1, len(rows) + 1))


def _icmp6_unreachable(src: str, dst: str, quoted: bytes) -> bytes:
    """ICMPv6 port unreachable from ``src`` to ``dst`` quoting ``quoted``, with its
    checksum."""
    from pcapgen import pseudo_header

    from incidentkit.testing import checksum

    bare = struct.pack("!BBHI", 1, 4, 0, 0) + quoted
    value = checksum(pseudo_header(src, dst, 58, len(bare)) + bare)
    return bare[:2] + struct.pack("!H", value) + bare[4:]


#: extension headers before the quoted UDP header: (next header of the one before, bytes)
_EXTENSIONS = {
    "hop-by-hop, destination options, routing": [
        (0, bytes([60, 0]) + bytes(6)),
        (60, bytes([43, 0]) + bytes(6)),
        (43, bytes([17, 0, 0, 0]) + bytes(4)),
    ],
    "first fragment": [(44, bytes([17, 0, 0, 0]) + struct.pack("!I", 7))],
}


@pytest.mark.parametrize("chain", list(_EXTENSIONS))
def test_an_icmp6_error_quoting_extension_headers_names_the_udp_query(chain, tmp_path):
    """The quoted datagram's extension headers are walked to its UDP header, as
    print-icmp6.c does: the quoted protocol, ports and DNS id are the query's."""
    from pcapgen import dns_query, ipv6

    client, server = "2001:db8::1", "2001:db8::53"
    headers = _EXTENSIONS[chain]
    query = udp(client, server, 40000, 53, dns_query(0xBEEF, "example.test"))
    inner = b"".join(body for _, body in headers) + query
    quoted = ipv6(client, server, headers[0][0], inner)
    packet = ipv6(server, client, 58, _icmp6_unreachable(server, client, quoted))
    path = tmp_path / "icmp6.pcap"
    path.write_bytes(pcap([ether(packet, ethertype=0x86DD)]))
    text = subprocess.run(
        ["tcpdump", "-nn", "-r", str(path)], capture_output=True, text=True, check=True
    ).stdout
    assert f"{server} udp port 53" in text  # tcpdump finds the UDP header too
    for engine in ("c", "python"):
        row = ik.read_pcap(path, engine=engine).iloc[0]
        got = row[["icmp_orig_proto", "icmp_orig_sport", "icmp_orig_dport", "icmp_orig_dns_id"]]
        assert got.tolist() == ["udp", 40000, 53, 0xBEEF]
        assert row["raw"].endswith(
            f"unreachable port, {server} udp port 53, length {len(packet) - 40}"
        )


def test_sctp_and_dccp_have_their_protocol_and_ports(tmp_path):
    """The schema's sctp and dccp rows, with their ports, as the text reader reads
    tcpdump's lines for them."""
    init = struct.pack("!HHII", 5000, 36412, 0, 0) + struct.pack(
        "!BBHIIHHI", 1, 0, 20, 7, 65535, 10, 10, 1
    )
    dccp = struct.pack("!HHBBHBBH", 40000, 5001, 3, 0, 0, 0x06, 0, 0) + bytes(8)
    path = tmp_path / "ported.pcap"
    path.write_bytes(
        pcap(
            [
                ether(ipv4("192.0.2.1", "198.51.100.53", proto, body))
                for proto, body in ((132, init), (33, dccp))
            ]
        )
    )
    for engine in ("c", "python"):
        df = ik.read_pcap(path, engine=engine)
        got = df[["proto", "sport", "dport"]].astype(object).values.tolist()
        assert got == [["sctp", 5000, 36412], ["dccp", 40000, 5001]]
    assert disagreements(path) == {}


def test_lengths_shorter_than_their_headers_are_read_as_tcpdump_reads_them(tmp_path):
    """A UDP length under 8 ("truncated-udplength") and an IPv4 total length under the
    header ("bad-len") carry no payload to read, as tcpdump prints them; a total length
    of 0 is a segment the sender's card was to cut (TSO) and is read whole."""
    from pcapgen import dns_query

    query = udp("192.0.2.1", "198.51.100.53", 40000, 53, dns_query(0xBEEF, "www.example.com"))
    frames = []
    for ulen in (0, 4):
        frames.append(
            ether(
                ipv4(
                    "192.0.2.1",
                    "198.51.100.53",
                    17,
                    query[:4] + struct.pack("!H", ulen) + query[6:],
                )
            )
        )
    packet = ipv4("192.0.2.1", "198.51.100.53", 17, query)
    for total in (19, 0):
        frames.append(ether(packet[:2] + struct.pack("!H", total) + packet[4:]))
    path = tmp_path / "lengths.pcap"
    path.write_bytes(pcap(frames))
    for engine in ("c", "python"):
        df = ik.read_pcap(path, engine=engine)
        assert df["proto"].tolist() == ["udp", "udp", "ip", "udp"]
        assert df["dns_id"].isna().tolist() == [True, True, True, False]
        assert df["error"].tolist()[:3] == [
            "UDP length 0 is shorter than the UDP header",
            "UDP length 4 is shorter than the UDP header",
            "IPv4 total length 19 is shorter than its header (20 bytes)",
        ]
    text = subprocess.run(
        ["tcpdump", "-nn", "-r", str(path)], capture_output=True, text=True, check=True
    ).stdout
    assert [
        line.split(": ")[-1] if "udplength" in line else line.split(" ", 1)[1]
        for line in text.splitlines()[:3]
    ] == ["truncated-udplength 0", "truncated-udplength 4", "IP bad-len 19"]
    # (tcpdump 4.99 prints "bad-len 0" for the fourth; tcpdump 5 and Wireshark read it whole)
    assert df.loc[3, ["sport", "dport", "dns_qname"]].tolist() == [40000, 53, "www.example.com"]
