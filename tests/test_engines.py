"""The C reader and the pure-Python reader give the same frame, line for line.

``read_tcpdump(engine="c")`` reads the common record layouts in compiled code and hands
every other line to the patterns of ``engine="python"``. These tests hold the two to
the same output on real tcpdump text (the scenario library, tcpdump's own regression
outputs) and on generated lines built to hit every choice the patterns make.
"""

from __future__ import annotations

import csv
import itertools
import warnings
from unittest import mock

import numpy as np
import pandas as pd
import pytest
from conftest import CORPUS, SCENARIOS, SEED_LOG, both_engines
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import incidentkit as ik
from incidentkit.parse import _cpath as cpath
from incidentkit.parse._source import read_source

both = both_engines


def test_the_c_reader_is_built():
    assert cpath._fastscan is not None, (
        "incidentkit/parse/_fastscan.c was not compiled: install a C compiler and the "
        "Python headers, then `pip install -e .` again"
    )


def test_seed_log_reads_the_same():
    df = both(SEED_LOG)
    assert len(df) == 6
    # the seed copies two records onto one line: those lines go to the patterns
    assert df.attrs["capture"]["engine"] == "c"


RENDERINGS = sorted(SCENARIOS.glob("*/*.txt*")) + sorted(SCENARIOS.glob("*.txt*"))


@pytest.mark.parametrize("path", RENDERINGS, ids=lambda p: p.name)
def test_scenario_renderings_read_the_same(path):
    df = both(path)
    if ".v." not in path.name and "-e" not in path.name:
        # one-line layouts: the C reader reads nearly every record itself
        assert df.attrs["capture"]["c_rows"] >= 0.95 * len(df), path.name


def _corpus() -> list[str]:
    if not (CORPUS / "MANIFEST.tsv").exists():
        return []
    with open(CORPUS / "MANIFEST.tsv", newline="") as handle:
        return sorted({row["out"] for row in csv.DictReader(handle, delimiter="\t")})


@pytest.mark.corpus
@pytest.mark.parametrize(
    "out",
    _corpus()
    or [
        pytest.param(
            "-", marks=pytest.mark.skip(reason=f"tcpdump's regression corpus is not at {CORPUS}")
        )
    ],
)
def test_tcpdump_regression_outputs_read_the_same(out):
    both(CORPUS / out)


V4 = "13:24:32.1 IP (tos 0x0, ttl 64, id 1, offset 0, flags [none], "


@pytest.mark.parametrize(
    "line",
    [
        # DNS names an attacker chooses, each aimed at one choice of the DNS pattern
        "13:24:32.1 IP 192.0.2.1.5353 > 203.0.113.2.53: 1+ A? a 1/2/3 b.example. (30)",
        "13:24:32.1 IP 192.0.2.1.5353 > 203.0.113.2.53: 1+ A? a (5). (30)",
        "13:24:32.1 IP 192.0.2.1.5353 > 203.0.113.2.53: 1+ A? length 9.example. (30)",
        "13:24:32.1 IP 192.0.2.1.5353 > 203.0.113.2.53: 1+ A? x ns: y. (30)",
        "13:24:32.1 IP 192.0.2.1.5353 > 203.0.113.2.53: 1+ A? x] ICMP6, y. (30)",
        "13:24:32.1 IP 192.0.2.1.5353 > 203.0.113.2.53: 1+ A? (tos 0x0, ttl 9). (30)",
        "13:24:32.1 IP 192.0.2.1.5353 > 203.0.113.2.53: 1+ A? <img src=x onerror=alert(1)>. (40)",
        "13:24:32.1 IP 192.0.2.1.5353 > 203.0.113.2.53: 1+ A? . (17)",
        "13:24:32.1 IP 192.0.2.1.5353 > 203.0.113.2.53: 1+ A? ",
        "13:24:32.1 IP 192.0.2.1.5353 > 203.0.113.2.53: 1+ A? x.[|domain]",
        "13:24:32.1 IP 192.0.2.1.5353 > 203.0.113.2.53: 99999+ A? x. (30)",
        "13:24:32.1 IP 192.0.2.1.5353 > 203.0.113.2.53: 1 NXDomain 0/1/0 (97)",
        "13:24:32.1 IP 192.0.2.1.5353 > 203.0.113.2.53: 1 NXDomainx 0/1/0 (97)",
        "13:24:32.1 IP 192.0.2.1.5353 > 203.0.113.2.53: 1 Resp12*- 0/0/0 (12)",
        "13:24:32.1 IP 192.0.2.1.5353 > 203.0.113.2.53: 1 update 0/0/0 (12)",
        '13:24:32.1 IP 203.0.113.2.53 > 192.0.2.1.5353: 1*- 2/0/0 TXT "a (9)", A 192.0.2.9 (60)',
        "13:24:32.1 IP 203.0.113.2.53 > 192.0.2.1.5353: 1 [0q] 1/0/0 A 192.0.2.9 (44)",
        "13:24:32.1 IP 203.0.113.2.53 > 192.0.2.1.5353: 1 q: A? x. 1/0/0 x. A 192.0.2.9 (44)",
        "13:24:32.1 IP 203.0.113.2.53 > 192.0.2.1.5353: 1- 1/0/0 A 192.0.2.9",
        "13:24:32.1 IP 192.0.2.1.5353 > 203.0.113.2.53: 22836+ [1au] A? www.tcpdump.org. (56)",
        "13:24:32.1 IP 192.0.2.1.5353 > 203.0.113.2.53: 22836+ [1x] A? www.tcpdump.org. (56)",
        # addresses and ports
        "13:24:32.1 IP 192.0.2.1.99999 > 203.0.113.2.53: 1+ A? x. (30)",
        "13:24:32.1 IP 192.0.2.1.no-such-service > 203.0.113.2.domain: 1+ A? x. (30)",
        "13:24:32.1 IP resolver.example.domain > client.example.4444: 1 0/0/0 (12)",
        "13:24:32.1 IP6 ::ffff:192.0.2.1.53 > 2001:db8::2.5353: 1 0/0/0 (12)",
        "13:24:32.1 IP6 2001:db8::1 > 2001:db8::2: ip-proto-17 8",
        "13:24:32.1 IP 192.0.2.1 > 203.0.113.2: ip-proto-132",
        "13:24:32.1 IP 192.0.2.1.5 > 203.0.113.2.6: UDP, length 5",
        "13:24:32.1 IP 192.0.2.1.5 > 203.0.113.2.6: [udp sum ok] UDP, length 5",
        "13:24:32.1 IP 192.0.2.1.5 > 203.0.113.2.6: [bad udp cksum 0x1] [udp sum ok] 1+ A? x. (9)",
        "13:24:32.1 IP 192.0.2.1.5 > 203.0.113.2.6: udp 5",
        "13:24:32.1 IP 192.0.2.1.5 > 203.0.113.2.6:",
        "13:24:32.1 IP 192.0.2.1.5 > 203.0.113.2.6: ",
        # TCP
        "13:24:32.1 IP 192.0.2.1.5 > 203.0.113.2.443: Flags [S], seq 1, win 64240, length 0",
        "13:24:32.1 IP 192.0.2.1.5 > 203.0.113.2.443: Flags [], seq 1:44, ack 9, win 5, length 43",
        "13:24:32.1 IP 192.0.2.1.5 > 203.0.113.2.53: Flags [P.], seq 1:59, ack 1, win 64240, "
        "length 58 17177+ [1au] A? www.tcpdump.org. (56)",
        "13:24:32.1 IP 192.0.2.1.5 > 203.0.113.2.53: Flags [P.], seq 1:59, ack 1, win 64240, "
        "length 58: 17177 1/0/0 A 192.0.2.1 (56)",
        "13:24:32.1 IP 192.0.2.1.5 > 203.0.113.2.80: Flags [S], cksum 0x0c41 (correct), "
        "seq 603899916, win 64240, options [mss 1460,nop], length 0",
        "13:24:32.1 IP 192.0.2.1.5 > 203.0.113.2.80: Flags [.], ack 99999999999, win 9, length 0",
        "13:24:32.1 IP 192.0.2.1.5 > 203.0.113.2.80: Flags [S",
        "13:24:32.1 IP 192.0.2.1.5 > 203.0.113.2.80: tcp 12",
        # ICMP
        "13:24:36.1 IP 203.0.113.2 > 192.0.2.1: ICMP 203.0.113.2 udp port 53 unreachable, "
        "length 68",
        "13:24:36.1 IP 203.0.113.2 > 192.0.2.1: ICMP 203.0.113.2 udp port domain unreachable "
        "length 9",
        "13:24:36.1 IP 203.0.113.1 > 192.0.2.1: ICMP host 203.0.113.2 unreachable - admin "
        "prohibited filter, length 68",
        "13:24:36.1 IP 203.0.113.1 > 192.0.2.1: ICMP echo request, id 1, seq 1, length 64",
        "13:24:36.1 IP 203.0.113.1 > 192.0.2.1: ICMP type-#99, length 8",
        "13:24:36.1 IP 203.0.113.1 > 192.0.2.1: ICMP , length 8",
        "13:24:36.1 IP 203.0.113.1 > 192.0.2.1: ICMP something new",
        # ARP
        "13:24:32.1 ARP, Request who-has 203.0.113.2 tell 203.0.113.1, length 28",
        "13:24:32.1 ARP, Request who-has 203.0.113.2 (ff:ff:ff:ff:ff:ff) tell 203.0.113.1, "
        "length 46",
        "13:24:32.1 ARP, Reply 203.0.113.2 is-at 02:00:00:00:00:02, length 28",
        "13:24:32.1 ARP, Reply 203.0.113.2 is-at",
        "13:24:32.1 ARP, Request who-has a > b tell c, length 28",
        # headers
        "    7  13:24:32.192571 IP 192.0.2.1.5 > 203.0.113.2.53: 1+ A? x. (30)",
        "99999999999  13:24:32.192571 IP 192.0.2.1.5 > 203.0.113.2.53: 1+ A? x. (30)",
        "2026-11-24 13:24:32.192571 IP 192.0.2.1.5 > 203.0.113.2.53: 1+ A? x. (30)",
        "2026-02-30 13:24:32.192571 IP 192.0.2.1.5 > 203.0.113.2.53: 1+ A? x. (30)",
        "1795532000.192571 IP 192.0.2.1.5 > 203.0.113.2.53: 1+ A? x. (30)",
        "13:24:32.192571488 IP 192.0.2.1.5 > 203.0.113.2.53: 1+ A? x. (30)",
        "13:24:32.1925714881 IP 192.0.2.1.5 > 203.0.113.2.53: 1+ A? x. (30)",
        "13:24:32.192571 (invalid us) IP 192.0.2.1.5 > 203.0.113.2.53: 1+ A? x. (30)",
        " 00:00:00.000100 IP 192.0.2.1.5 > 203.0.113.2.53: 1+ A? x. (30)",
        "-00:00:00.000100 IP 192.0.2.1.5 > 203.0.113.2.53: 1+ A? x. (30)",
        "IP 192.0.2.1.5 > 203.0.113.2.53: 1+ A? x. (30)",
        "13:24:32.1 IP 192.0.2.1.5 > 203.0.113.2.53: 1+ A? x. (30) 13:24:36.098564 IP 203.0.113.2 "
        "> 192.0.2.1: ICMP 203.0.113.2 udp port 53 unreachable, length 68",
        "13:24:32.1 IP 192.0.2.1.5 > 203.0.113.2.53: 1+ A? caf\u00e9.example. (30)",
        "13:24:32.1 IP 192.0.2.1.5 > 203.0.113.2.53: 1+ A? tab\there. (30)",
        # found by the generated logs below: a second record in a line the scanner gives
        # up early on (-# without a time), and a blank last line after a line cut in two
        "12  IP 192.0.2.1 > 192.0.2.1: 1 A? 13:24:36.098564 IP x. (0)",
        "13:24:32.192571 IP 192.0.2.1 > 192.0.2.1: 1 A? 13:24:36.098564 IP x. (0)\n",
        "IP 192.0.2.1 > 192.0.2.1: 1 A? 13:24:36.098564 IP x. (0)\n",
        # -v: the IP header on the first line, the addresses on the second (IPv4) or after
        # the header on the same line (IPv6 in tcpdump 4.99)
        V4 + "proto UDP (17), length 64)\n    192.0.2.1.5 > 203.0.113.2.53: 7+ A? x.example. (36)",
        V4 + "proto UDP (17), length 96)\n    203.0.113.2.53 > 192.0.2.1.5: 7 1/0/0 x.example. "
        "A 192.0.2.9 (68)",
        V4 + "proto TCP (6), length 40)\n    192.0.2.1.5 > 203.0.113.2.443: Flags [S], cksum 0x0 "
        "(incorrect -> 0xa828), seq 1, win 64240, length 0",
        V4 + "proto TCP (6), length 40)\n    192.0.2.1.5 > 203.0.113.2.443: [|tcp]",
        V4
        + "proto UDP (17), length 64)\n    192.0.2.1.5 > 203.0.113.2.53: [udp sum ok] 7+ A? x. (9)",
        V4 + "proto ICMP (1), length 84)\n    192.0.2.1 > 203.0.113.2: ICMP echo request, id 1, "
        "seq 1, length 64",
        "13:24:32.1 IP (tos 0x0, ttl 300, id 1, offset 0, flags [none], proto UDP (17), length 64)"
        "\n    192.0.2.1.5 > 203.0.113.2.53: 7+ A? x. (36)",
        "13:24:32.1 IP (tos 0x0, id 1, proto UDP (17), length 64)\n"
        "    192.0.2.1.5 > 203.0.113.2.53: 7+ A? x. (36)",
        "13:24:32.1 IP (tos 0x0, ttl 64, id 1, length 64)\n    192.0.2.1.5 > 203.0.113.2.53: 7+ A? "
        "x. (36)",
        V4
        + "proto UDP (17), length 64)\n    192.0.2.1.5 > 203.0.113.2.53: 7+ A? (tos 1) ttl 9. (36)",
        V4
        + "proto UDP (17), length 64)\n 00:00:00.1 IP 192.0.2.1.5 > 203.0.113.2.53: 7+ A? x. (9)",
        V4 + "proto UDP (17), length 64)",
        "13:24:32.1 IP6 (hlim 64, next-header UDP (17) payload length: 45) 2001:db8::1.5 > "
        "2001:db8::2.53: [bad udp cksum 0x0000 -> 0x7b72!] 59832+ TXT? x.example. (37)",
        "13:24:32.1 IP6 (flowlabel 0x9fc72, hlim 255, next-header ICMPv6 (58), payload length 32) "
        "fe80::1 > ff02::1: ICMP6, router advertisement, length 32",
        "13:24:32.1 IP6 (hlim 64, next-header UDP (17) a>b) 2001:db8::1.5 > 2001:db8::2.53: "
        "7+ A? x. (9)",
    ],
)
def test_lines_aimed_at_each_choice_read_the_same(line):
    both(line + "\n")


def test_a_record_with_continuation_lines_goes_to_the_patterns():
    text = (
        "13:24:36.1 IP (tos 0x0, ttl 64, id 2, offset 0, flags [none], proto ICMP (1), length 80)\n"
        "    203.0.113.2 > 192.0.2.1: ICMP 203.0.113.2 udp port 53 unreachable, length 60\n"
        "\tIP (tos 0x0, ttl 64, id 1, offset 0, flags [none], proto UDP (17), length 52)\n"
        "    192.0.2.1.5 > 203.0.113.2.53: 35084+ A? example.com. (24)\n"
        "13:24:37.1 IP 192.0.2.1.5 > 203.0.113.2.53: 35085+ A? example.com. (24)\n"
    )
    df = both(text)
    assert df["icmp_orig_dns_id"].tolist()[0] == 35084
    assert df.attrs["capture"]["c_rows"] == 1


def test_wide_offsets_give_the_same_columns():
    """Past 2 GiB the scanner writes 64-bit string offsets; force them on a small log."""
    data = SEED_LOG.read_bytes()
    narrow = cpath._fastscan.scan(data, cpath._port_table())
    wide = cpath._fastscan.scan(data, cpath._port_table(), True)
    assert not narrow["wide"] and wide["wide"]
    for name in cpath._FAST_STRINGS:
        assert cpath._scanned(wide, name).to_pylist() == cpath._scanned(narrow, name).to_pylist()


@pytest.mark.parametrize(
    "path",
    [SEED_LOG, *(p for p in RENDERINGS if p.name.startswith(("healthy", "dos", "firewall")))],
    ids=lambda p: p.name,
)
def test_a_log_scanned_in_parts_reads_the_same(monkeypatch, path):
    """Large logs are scanned in parts, one thread each: force small parts (up to 64), so
    that parts end inside -v records and runs of continuation lines."""
    monkeypatch.setattr(cpath, "_PART_BYTES", 1)
    monkeypatch.setattr(cpath.os, "cpu_count", lambda: min(64, max(2, path.stat().st_size // 4096)))
    df = both(path)
    assert len(cpath._scan(read_source(path)[0]).parts) > 1 or len(df) < 3


def test_engine_c_says_when_it_is_not_built(monkeypatch):
    monkeypatch.setattr(cpath, "_fastscan", None)
    with pytest.raises(ImportError, match="not built"):
        ik.parse_tcpdump("13:24:32.1 IP 192.0.2.1.5 > 203.0.113.2.53: 1+ A? x. (30)\n", engine="c")
    df = ik.parse_tcpdump("13:24:32.1 IP 192.0.2.1.5 > 203.0.113.2.53: 1+ A? x. (30)\n")
    assert df.attrs["capture"]["engine"] == "python" and df["dport"].tolist() == [53]


def test_unknown_engine_is_a_clear_error():
    with pytest.raises(ValueError, match="engine must be"):
        ik.parse_tcpdump("", engine="rust")  # type: ignore[arg-type]


# --------------------------------------------------------------------------- generated lines
HEADERS = st.sampled_from(
    [
        "",
        "13:24:32.192571 ",
        "9:05:01.5 ",
        "2026-11-24 13:24:32.192571 ",
        "2026-13-01 13:24:32.192571 ",
        "1795532000.123456 ",
        "    1  13:24:32.192571 ",
        "12  ",
        " 00:00:00.000100 ",
        "13:24:32.192571 (invalid us) ",
        "13:24:32.1234567891 ",
    ]
)
HOSTS = st.sampled_from(
    [
        "192.0.2.1",
        "203.0.113.2",
        "2001:db8::1",
        "fe80::1",
        "::ffff:192.0.2.1",
        "resolver.example",
        "1.2.3",
        "a>b",
        "",
    ]
)
PORTS = st.sampled_from(["", ".53", ".domain", ".5353", ".99999", ".https", ".no-such", "._x"])
NAMES = st.one_of(
    st.sampled_from(
        [
            "example.com.",
            "a 1/2/3 b.",
            "x (5).",
            "length 9.",
            "ICMP6, x.",
            "(tos 1).",
            "a ns: b.",
            "13:24:36.098564 IP x.",
            ".",
            "",
            "x [|domain]",
            "a? b.",
        ]
    ),
    st.text(alphabet=st.characters(min_codepoint=32, max_codepoint=126), max_size=20),
)
DNS = st.one_of(
    st.builds(
        lambda i, f, t, q, n: f"{i}{f} {t}? {q} ({n})",
        st.sampled_from(["1", "35084", "70000", "x"]),
        st.sampled_from(["", "+", "+%", "*-|$"]),
        st.sampled_from(["A", "AAAA", "MX", "TXT", "Refused", "a"]),
        NAMES,
        st.integers(0, 99999),
    ),
    st.builds(
        lambda i, r, f, c, ans, n: f"{i}{r}{f} {c}{ans} ({n})",
        st.sampled_from(["1", "4660"]),
        st.sampled_from(["", " NXDomain", " ServFail", " Resp9", "NotImp", " update"]),
        st.sampled_from(["", "*", "-", "*-"]),
        st.sampled_from(["0/0/0", "1/0/0", "2/2/5", "1/0"]),
        st.sampled_from(
            ["", " A 192.0.2.1", " A 192.0.2.1, A 192.0.2.2", ' TXT "x (1)"', " ns: x"]
        ),
        st.integers(0, 999),
    ),
)
INFOS = st.one_of(
    DNS,
    st.builds(lambda d: "[udp sum ok] " + d, DNS),
    st.sampled_from(
        [
            "UDP, length 5",
            "udp 5",
            "Flags [S], seq 1, win 64240, length 0",
            "Flags [P.], seq 1:59, ack 1, win 64240, length 58 17177+ A? x. (56)",
            "Flags [.], cksum 0x1 (correct), ack 5, win 9, options [nop], length 0",
            "tcp 0",
            "ICMP 203.0.113.2 udp port 53 unreachable, length 68",
            "ICMP host 203.0.113.2 unreachable - admin prohibited filter, length 68",
            "ICMP echo reply, id 1, seq 2, length 64",
            "ICMP6, destination unreachable, unreachable port, 2001:db8::2 udp port 53, length 80",
            "ip-proto-17 8",
            "",
        ]
    ),
    st.text(alphabet=st.characters(min_codepoint=32, max_codepoint=126), max_size=40),
)
BODIES = st.one_of(
    st.builds(
        lambda v, s, sp, d, dp, info: f"{v} {s}{sp} > {d}{dp}: {info}",
        st.sampled_from(["IP", "IP6"]),
        HOSTS,
        PORTS,
        HOSTS,
        PORTS,
        INFOS,
    ),
    st.builds(lambda a, b: f"ARP, Request who-has {a} tell {b}, length 28", HOSTS, HOSTS),
    st.builds(lambda a: f"ARP, Reply {a} is-at 02:00:00:00:00:02, length 28", HOSTS),
)
IP_HEADERS = st.sampled_from(
    [
        "IP (tos 0x0, ttl 64, id 1, offset 0, flags [none], proto UDP (17), length 64)",
        "IP (tos 0x0, ttl 64, id 2, offset 0, flags [DF], proto TCP (6), length 40)",
        "IP (tos 0x0, ttl 999, id 1, proto ICMP (1), length 84)",
        "IP (tos 0x0, id 1, length 84)",
        "IP6 (hlim 64, next-header UDP (17) payload length: 45) 2001:db8::1.5 > 2001:db8::2.53: "
        "7+ A? x. (37)",
    ]
)
LINES = st.one_of(
    st.builds(lambda h, b: h + b, HEADERS, BODIES),
    st.builds(lambda h, b: h + b, HEADERS, IP_HEADERS),
    st.builds(lambda b: "    " + b.split(" ", 1)[-1], BODIES),
    st.sampled_from(
        [
            "",
            "   ",
            "reading from file x.pcap, link-type EN10MB (Ethernet), snapshot length 262144",
            "\tIP (tos 0x0, ttl 64, id 1, offset 0, flags [none], proto UDP (17), length 52)",
            "    192.0.2.1.5 > 203.0.113.2.53: 35084+ A? example.com. (24)",
            "E..<.h@.@.!R...",
            "3 packets captured",
        ]
    ),
)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(LINES, min_size=1, max_size=6))
def test_generated_logs_read_the_same(lines):
    both("\n".join(lines) + "\n")


# --------------------------------------------------------------------------- the raw column
# With the C extension built, ``raw`` is made by packing each row's text to the front of
# the reader's own buffer; without it, the texts are gathered into new memory. Both must
# give each row's lines exactly as the log has them.
RAW_LOGS = {
    "no line end at the end": (
        "13:24:32.1 IP 192.0.2.1.5 > 203.0.113.2.53: 1+ A? x. (30)\n"
        "13:24:33.1 IP 192.0.2.1.5 > 203.0.113.2.53: 2+ A? y. (30)"
    ),
    "banner, blank lines, summary": (
        "reading from file x.pcap, link-type EN10MB (Ethernet), snapshot length 262144\n\n"
        "13:24:32.1 IP 192.0.2.1.5 > 203.0.113.2.53: 1+ A? x. (30)\n\n\n"
        "13:24:33.1 IP 192.0.2.1.5 > 203.0.113.2.53: 2+ A? y. (30)\n\n"
        "2 packets captured\n"
    ),
    "CRLF line ends": (
        "13:24:32.1 IP 192.0.2.1.5 > 203.0.113.2.53: 1+ A? x. (30)\r\n"
        "garbage between records\r\n"
        "13:24:33.1 IP 192.0.2.1.5 > 203.0.113.2.53: 2+ A? y. (30)\r\n"
    ),
    "not UTF-8": b"13:24:32.1 IP 192.0.2.1.5 > 203.0.113.2.53: 1+ A? \xff\xfe. (30)\n\xc3(\n",
    "-v records and what an ICMP error quotes": (
        "13:24:36.1 IP (tos 0x0, ttl 64, id 2, offset 0, flags [none], proto ICMP (1), "
        "length 80)\n"
        "    203.0.113.2 > 192.0.2.1: ICMP 203.0.113.2 udp port 53 unreachable, length 60\n"
        "\tIP (tos 0x0, ttl 64, id 1, offset 0, flags [none], proto UDP (17), length 52)\n"
        "    192.0.2.1.5 > 203.0.113.2.53: 35084+ A? example.com. (24)\n"
        "13:24:37.1 IP (tos 0x0, ttl 64, id 3, offset 0, flags [DF], proto UDP (17), "
        "length 52)\n"
        "    192.0.2.1.5 > 203.0.113.2.53: 35085+ A? example.com. (24)\n"
    ),
    "two records on one line": SEED_LOG.read_text(),
    "line ends only": "\n\n\n",
    "one unparsed line, no line end": "not a record",
}


@pytest.mark.parametrize("log", list(RAW_LOGS.values()), ids=list(RAW_LOGS))
def test_raw_is_the_same_made_in_place_or_gathered(monkeypatch, log):
    read = ik.parse_tcpdump
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ik.ParseWarning)
        in_place = read(log, engine="python")
        monkeypatch.setattr(cpath, "_fastscan", None)
        gathered = read(log, engine="python")
    pd.testing.assert_frame_equal(in_place, gathered)
    text = log.decode("utf-8", "backslashreplace") if isinstance(log, bytes) else log
    lines = text.replace("\r\n", "\n").split("\n")
    # each row's lines as they are (two records cut from one line: the line, joined)
    for start, rows in in_place.groupby("line")["raw"]:
        span = rows.iloc[-1].count("\n") + 1
        assert " ".join(rows) == "\n".join(lines[start - 1 : start - 1 + span])


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(LINES, min_size=1, max_size=6), st.booleans())
def test_generated_logs_give_the_same_raw_without_the_c_extension(lines, line_end):
    log = "\n".join(lines) + ("\n" if line_end else "")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ik.ParseWarning)
        in_place = ik.parse_tcpdump(log)
        with mock.patch.object(cpath, "_fastscan", None):
            gathered = ik.parse_tcpdump(log)
    pd.testing.assert_frame_equal(in_place, gathered)


def test_compact_packs_rows_forward_and_trims_their_line_ends():
    buf = bytearray(b"banner\nrow one\n\n\nrow two\n\tmore\nrow three")
    starts = np.array([7, 17, 31], dtype=np.int64)
    ends = np.array([15, 31, 40], dtype=np.int64)
    offsets = np.frombuffer(cpath._fastscan.compact(buf, starts, ends), dtype=np.int64)
    packed = bytes(buf[: offsets[-1]])
    assert [packed[a:b] for a, b in itertools.pairwise(offsets)] == [
        b"row one",
        b"row two\n\tmore",
        b"row three",
    ]


def test_compact_refuses_rows_out_of_order():
    buf = bytearray(b"one\ntwo\n")
    with pytest.raises(ValueError, match="out of order"):
        cpath._fastscan.compact(buf, np.array([4, 0], np.int64), np.array([8, 4], np.int64))
    with pytest.raises(ValueError, match="out of the buffer"):
        cpath._fastscan.compact(buf, np.array([0], np.int64), np.array([99], np.int64))
    with pytest.raises(TypeError):
        cpath._fastscan.compact(
            b"read-only bytes", np.array([0], np.int64), np.array([4], np.int64)
        )


def test_the_callers_buffer_is_left_as_it_was():
    """``raw`` is made by moving text inside the reader's buffer: never inside the caller's."""
    log = bytearray(RAW_LOGS["banner, blank lines, summary"].encode())
    before = bytes(log)

    class Stream:
        name = "stream"

        def read(self):
            return log

    for df in (ik.parse_tcpdump(log), ik.read_tcpdump(Stream())):
        assert len(df) == 2
    assert log == before
