"""Hostile text: lines built to make the reader slow, overflow its numbers, or read past
its buffers.

Both engines must read such a line in time linear in its length and keep every line;
neither may give a wrong value: a number past its column's range, or a time past what
datetime64[ns] holds, leaves that value empty, the row kept and its ``error`` saying
why. The C scanner is also built with AddressSanitizer and UndefinedBehaviorSanitizer
and run over tcpdump's corpus, the scenario renderings and these lines.
"""

from __future__ import annotations

import time
import warnings
from collections.abc import Callable

import numpy as np
import pandas as pd
import pytest
from conftest import CORPUS, SCENARIOS
from sanitized import run_sanitized, sanitizer_build
from test_engines import both

import incidentkit as ik
from incidentkit import cli, schema
from incidentkit.parse import _cpath as cpath
from incidentkit.parse._values import _MAX

UDP = "13:24:32.1 IP 192.0.2.1.5353 > 203.0.113.2.53: "
ICMP = "13:24:36.1 IP 203.0.113.1 > 192.0.2.1: ICMP "
V4 = "13:24:32.1 IP (tos 0x0, ttl 64, id 1, offset 0, flags [none], "

# --------------------------------------------------------------------------- long lines
#: name -> a line of about n bytes, each aimed at a loop of a reader that could look back
#: over the line (or forward to its end) at every step
HOSTILE: dict[str, Callable[[int], str]] = {
    "question name of blanks, long (N)": lambda n: (
        UDP + "1+ A? " + "a " * (n // 4) + "(" + "9" * (n // 2) + ")"
    ),
    "question name of blanks": lambda n: UDP + "1+ A? " + "a " * (n // 2) + "(24)",
    "question name of blanks, no tail": lambda n: UDP + "1+ A? " + "a " * (n // 2),
    "question name of half counts": lambda n: UDP + "1+ A? " + " 1/2" * (n // 4) + " (24)",
    "question name of '('": lambda n: UDP + "1+ A? " + "(" * n,
    "question name of '(1'": lambda n: UDP + "1+ A? " + "(1" * (n // 2),
    "answers of half counts": lambda n: UDP + "1 " + "1/1/" * (n // 4),
    "'(' after the addresses": lambda n: UDP + "(" * n,
    "many ' length' in ICMP": lambda n: ICMP + " length x" * (n // 9),
    "many ', length' in TCP": lambda n: (
        "13:24:32.1 IP 192.0.2.1.5 > 203.0.113.2.53: Flags [P.], seq 1" + ", length x" * (n // 10)
    ),
    "many 'ttl' in a -v header": lambda n: (
        "13:24:32.1 IP (tos 0x0, " + "ttl x " * (n // 6) + "proto UDP (17), length 64)\n"
        "    192.0.2.1.5 > 203.0.113.2.53: 7+ A? x. (36)"
    ),
    "many 'proto' in a -v header": lambda n: (
        "13:24:32.1 IP (tos 0x0, ttl 64, " + "proto x " * (n // 8) + ")\n"
        "    192.0.2.1.5 > 203.0.113.2.53: 7+ A? x. (36)"
    ),
    "DNS flags": lambda n: UDP + "1" + "+" * n + " A? x. (24)",
    "DNS [1au] marks": lambda n: UDP + "1+" + " [1au]" * (n // 6) + " A? x. (24)",
    "blanks": lambda n: UDP + " " * n,
    "colons": lambda n: UDP + "1+ A? " + "1:" * (n // 2),
    "records on one line": lambda n: UDP + "1+ A? " + "x 1 13:24:36.098564 IP " * (n // 23),
    "ARP target": lambda n: "13:24:32.1 ARP, Request who-has " + "a" * n + " tell b, length 28",
    "ICMP6 text": lambda n: "13:24:32.1 IP6 fe80::1 > ff02::1: ICMP6, " + "x " * (n // 2),
    "address of many labels": lambda n: (
        "13:24:32.1 IP " + "1." * (n // 2) + "5 > 203.0.113.2.53: 1+ A? x. (24)"
    ),
    "length of many digits": lambda n: UDP + "UDP, length " + "1" * n,
    "port of many digits": lambda n: "13:24:32.1 IP 192.0.2.1." + "9" * n + " > 203.0.113.2.53: x",
}
SIZES = (100_000, 400_000, 1_600_000)
#: seconds per megabyte of one line, at most
PER_MB = 1.0
#: how much more time a line four times as long may take (linear: 4; quadratic: 16)
GROWTH = 8.0
#: times below this are noise: the growth is judged from it up
FLOOR = 0.02
#: how often a time past its bound is taken again (the best counts)
RETRIES = 3


def read_line(line: str, engine: str) -> tuple[float, pd.DataFrame]:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ik.ParseWarning)
        start = time.perf_counter()
        df = ik.parse_tcpdump(line + "\n", engine=engine)
        return time.perf_counter() - start, df


@pytest.mark.parametrize("engine", ["c", "python"])
@pytest.mark.parametrize("shape", list(HOSTILE))
def test_a_hostile_line_reads_in_linear_time_and_loses_nothing(shape, engine):
    times: list[float] = []
    for n in SIZES:
        line = HOSTILE[shape](n)
        spent, df = read_line(line, engine)
        assert df.attrs["capture"]["lines"] == line.count("\n") + 1
        # every byte of the line is in some row (a line holding several records is cut
        # in front of each timestamp, the blanks there dropped)
        assert "".join(df["raw"]).replace(" ", "") == line.replace(" ", "")
        limit = min(PER_MB * n / 1e6, GROWTH * max(times[-1], FLOOR) if times else np.inf)
        for _ in range(RETRIES):  # again, in case other work held the machine
            if spent <= limit:
                break
            spent = min(spent, read_line(line, engine)[0])
        times.append(spent)
        shown = ", ".join(f"{k // 1000} kB: {t:.3f} s" for k, t in zip(SIZES, times, strict=False))
        assert spent <= PER_MB * n / 1e6, f"{shape} ({engine}) is slow: {shown}"
        assert spent <= limit, f"{shape} ({engine}) grows faster than its length: {shown}"


# --------------------------------------------------------------------------- times
OUT = "time out of range"

# (id, lines, date, the time of each row: a Timestamp or OUT, or the words of the reason)
TIME_CASES: list[tuple[str, list[str], str | None, list[object]]] = [
    ("-tt last", ["9223372036.854775"], None, [pd.Timestamp("2262-04-11 23:47:16.854775")]),
    ("-tt just past", ["9223372036.854776"], None, [OUT]),
    ("-tt a second past", ["9223372037.000000"], None, [OUT]),
    ("-tt 2**64", ["18446744073709551616.000000"], None, [OUT]),
    ("-tt 10**30", ["1" + "0" * 30 + ".5"], None, [OUT]),
    (
        "-tttt last",
        ["2262-04-11 23:47:16.854775"],
        None,
        [pd.Timestamp("2262-04-11 23:47:16.854775")],
    ),
    ("-tttt just past", ["2262-04-11 23:47:16.854776"], None, [OUT]),
    ("-tttt 24 hours", ["2262-04-11 24:00:00.000000"], None, [OUT]),
    (
        "-tttt 999999 hours",
        ["2026-11-24 999999:00:00.000000"],
        None,
        [pd.Timestamp("2026-11-24") + pd.Timedelta(hours=999999)],
    ),
    ("-tttt 999999 hours past", ["2200-01-01 999999:00:00.000000"], None, [OUT]),
    ("-tttt 2**64 hours", ["2026-11-24 18446744073709551616:00:00.000000"], None, [OUT]),
    ("-tttt 10**30 hours", ["2026-11-24 1" + "0" * 30 + ":00:00.000000"], None, [OUT]),
    (
        "-tttt first",
        ["1677-09-21 00:12:43.145225"],
        None,
        [pd.Timestamp("1677-09-21 00:12:43.145225")],
    ),
    ("-tttt just before", ["1677-09-21 00:12:43.145224"], None, [OUT]),
    ("-tttt year 1", ["0001-01-01 00:00:00.000000"], None, [OUT]),
    ("-tttt year 9999", ["9999-12-31 23:59:59.999999"], None, [OUT]),
    ("-tttt no such day", ["2026-02-30 13:24:32.192571"], None, ["no day of the calendar"]),
    (
        "time of day, last",
        ["23:47:16.854775"],
        "2262-04-11",
        [pd.Timestamp("2262-04-11 23:47:16.854775")],
    ),
    ("time of day, just past", ["23:47:16.854776"], "2262-04-11", [OUT]),
    (
        "hours to the last",
        ["2562047:47:16.854775"],
        None,
        [pd.Timestamp("2262-04-11 23:47:16.854775")],
    ),
    ("hours just past", ["2562047:47:16.854776"], None, [OUT]),
    ("hours 10**30", ["1" + "0" * 30 + ":00:00.000000"], None, [OUT]),
    (
        "past midnight, past the last day",
        ["23:00:00.000000", "01:00:00.000000"],
        "2262-04-11",
        [pd.Timestamp("2262-04-11 23:00:00"), OUT],
    ),
    (
        "-ttt adding up past the last day",
        [" 23:00:00.000000", " 00:30:00.000000", " 00:30:00.000000"],
        "2262-04-11",
        [pd.Timestamp("2262-04-11 23:00:00"), pd.Timestamp("2262-04-11 23:30:00"), OUT],
    ),
    (
        "-ttt of 999999 hours each",
        [" 999999:00:00.000000", " 00:00:00.000000"] + [" 999999:00:00.000000"] * 2,
        None,
        [pd.Timestamp("1970-01-01") + pd.Timedelta(hours=999999 * k) for k in (1, 1, 2)] + [OUT],
    ),
    (
        "-ttt after a delta of 10**30 hours",
        [" 00:00:02.000000", " 00:00:01.000000", f" 1{'0' * 30}:00:00.000000", " 00:00:01.000000"],
        "2026-11-24",
        [pd.Timestamp("2026-11-24 00:00:02"), pd.Timestamp("2026-11-24 00:00:03"), OUT, OUT],
    ),
    (
        "-ttt back before the first day",
        [" 00:00:01.000000", "-23:50:00.000000"],
        "1677-09-22",
        [pd.Timestamp("1677-09-22 00:00:01"), OUT],
    ),
    (
        "-ttttt past the last",
        [" 23:47:16.854775", " 23:47:16.854776"],
        "2262-04-11",
        [pd.Timestamp("2262-04-11 23:47:16.854775"), OUT],
    ),
]


@pytest.mark.parametrize(
    ("stamps", "date", "expected"), [c[1:] for c in TIME_CASES], ids=[c[0] for c in TIME_CASES]
)
def test_a_time_out_of_range_is_nat_with_a_reason(stamps, date, expected):
    text = "".join(
        f"{s} IP 192.0.2.1.5 > 203.0.113.2.53: {k}+ A? x. (30)\n" for k, s in enumerate(stamps)
    )
    df = both(text, date=date)
    assert len(df) == len(stamps) and (df["proto"] == "udp").all()
    assert df["dns_id"].tolist() == list(range(len(stamps)))  # the rest of each row is read
    for (_, row), want in zip(df.iterrows(), expected, strict=True):
        if isinstance(want, pd.Timestamp):
            assert row["time"] == want and pd.isna(row["error"])
        else:
            assert pd.isna(row["time"]) and str(want) in row["error"]


def test_a_time_out_of_range_warns_with_its_line():
    text = f"{UDP}1+ A? x. (30)\n9223372037.000000 IP 192.0.2.1.5 > 203.0.113.2.53: 2+ A? x. (9)\n"
    with pytest.warns(ik.ParseWarning, match=r"1 of 2 records .*'error' says why .*line 2\)"):
        ik.parse_tcpdump(text)


# --------------------------------------------------------------------------- numbers
# (column, a line with "{}" where the number goes); every integer column the text gives
NUMBER_LINES: list[tuple[str, str]] = [
    ("packet", "{}  13:24:32.1 IP 192.0.2.1.5 > 203.0.113.2.53: 1+ A? x. (30)"),
    ("sport", "13:24:32.1 IP 192.0.2.1.{} > 203.0.113.2.53: 1+ A? x. (30)"),
    ("sport", "13:24:32.1 IP6 2001:db8::1.{} > 2001:db8::2.53: 1+ A? x. (30)"),
    ("dport", "13:24:32.1 IP 192.0.2.1.5 > 203.0.113.2.{}: UDP, length 5"),
    ("length", "13:24:32.1 IP 192.0.2.1.5 > 203.0.113.2.6: UDP, length {}"),
    ("length", "13:24:32.1 IP 192.0.2.1.5 > 203.0.113.2.6: udp {}"),
    ("length", UDP + "1+ A? x. ({})"),
    ("length", ICMP + "echo request, id 1, seq 1, length {}"),
    ("length", "13:24:32.1 IP 192.0.2.1.5 > 203.0.113.2.80: Flags [.], ack 1, win 9, length {}"),
    ("length", "13:24:32.1 IP 192.0.2.1.5 > 203.0.113.2.80: tcp {}"),
    ("length", "13:24:32.1 ARP, Request who-has 203.0.113.2 tell 203.0.113.1, length {}"),
    ("length", "13:24:32.1 IP 192.0.2.1 > 203.0.113.2: ip-proto-132 length {}"),
    (
        "ttl",
        V4.replace("ttl 64", "ttl {}")
        + "proto UDP (17), length 64)\n    "
        + UDP[14:]
        + "7+ A? x. (9)",
    ),
    ("dns_id", UDP + "{}+ A? x. (30)"),
    ("dns_ancount", UDP + "1 {}/0/0 A 192.0.2.9 (44)"),
    ("icmp_type", ICMP + "type-#{}, length 8"),
    ("icmp_orig_dport", ICMP + "203.0.113.2 udp port {} unreachable, length 68"),
    (
        "icmp_orig_sport",
        "13:24:36.1 IP (tos 0x0, ttl 64, id 2, offset 0, flags [none], proto ICMP (1), length 80)\n"
        "    203.0.113.2 > 192.0.2.1: ICMP 203.0.113.2 udp port 53 unreachable, length 60\n"
        "\tIP (tos 0x0, ttl 64, id 1, offset 0, flags [none], proto UDP (17), length 52)\n"
        "    192.0.2.1.{} > 203.0.113.2.53: 35084+ A? example.com. (24)",
    ),
    (
        "icmp_orig_dns_id",
        "13:24:36.1 IP (tos 0x0, ttl 64, id 2, offset 0, flags [none], proto ICMP (1), length 80)\n"
        "    203.0.113.2 > 192.0.2.1: ICMP 203.0.113.2 udp port 53 unreachable, length 60\n"
        "\tIP (tos 0x0, ttl 64, id 1, offset 0, flags [none], proto UDP (17), length 52)\n"
        "    192.0.2.1.5 > 203.0.113.2.53: {}+ A? example.com. (24)",
    ),
    ("tcp_ack", "13:24:32.1 IP 192.0.2.1.5 > 203.0.113.2.80: Flags [.], ack {}, win 9, length 0"),
    ("tcp_win", "13:24:32.1 IP 192.0.2.1.5 > 203.0.113.2.80: Flags [.], ack 1, win {}, length 0"),
]
#: integer columns no number of the text goes into (they come from tables of words)
FROM_WORDS = {"icmp_code"}


def test_every_integer_column_has_its_lines():
    integers = {name for name, dtype in schema.dtypes().items() if str(dtype).startswith("UInt")}
    assert {column for column, _ in NUMBER_LINES} | FROM_WORDS == integers


def _numbers(top: int) -> list[tuple[str, str, int | None]]:
    """(id, digits, the value read or None) just inside, just outside and far outside."""
    return [
        ("zero", "0", 0),
        ("leading zeros", "0" * 20 + str(top), top),
        ("largest", str(top), top),
        ("largest + 1", str(top + 1), None),
        ("2**32", str(2**32), None),
        ("2**64", str(2**64), None),
        ("10**30", "1" + "0" * 30, None),
    ]


NUMBER_CASES = [
    pytest.param(column, line, digits, value, id=f"{column}-{k}-{name}")
    for k, (column, line) in enumerate(NUMBER_LINES)
    for name, digits, value in _numbers(_MAX[column])
    if name != "2**32" or _MAX[column] < 2**32
]


@pytest.mark.parametrize(("column", "line", "digits", "value"), NUMBER_CASES)
def test_a_number_past_its_column_is_empty_with_a_reason(column, line, digits, value):
    good = UDP + "1+ A? x. (30)"
    df = both("\n".join([good, line.format(digits), good]) + "\n")
    assert len(df) == 3 and df.loc[[0, 2], "dns_qname"].tolist() == ["x", "x"]
    row = df.iloc[1]
    assert row["proto"] != "unparsed"
    if value is None:
        assert pd.isna(row[column])
        shown = digits if len(digits) <= 24 else digits[:12]
        assert f"{column} {shown}" in row["error"] and "is out of range" in row["error"]
    else:
        assert row[column] == value and pd.isna(row["error"])


def test_the_command_line_reads_a_log_with_a_number_past_its_column(tmp_path, capsys):
    path = tmp_path / "log.txt"
    path.write_text(f"{UDP}1+ A? x. (30)\n{ICMP}type-#300, length 8\n{UDP}2+ A? x. (30)\n")
    assert cli.main(["parse", str(path), "--summary"]) == 0
    out, err = capsys.readouterr()
    assert out.startswith("records: 3")
    assert "1 of 3 records hold a value their column cannot" in err and "line 2" in err


def test_a_banner_of_huge_numbers_is_text_not_a_count():
    df = ik.parse_tcpdump(
        "reading from file x.pcap, link-type EN10MB (Ethernet), snapshot length "
        + "9" * 5000
        + "\n"
        + "9" * 5000
        + " packets captured\n"
    )
    capture = df.attrs["capture"]
    assert "snapshot_length" not in capture and "packets_captured" not in capture
    assert capture["link_type"] == "EN10MB" and len(capture["banner"]) == 2


# --------------------------------------------------------------------------- the engines' lengths
@pytest.mark.parametrize(
    ("line", "length"),
    [
        # -v: the header says TCP, but the text is no TCP header tcpdump prints: the length
        # is the line's first "length N" (tcpdump's own, of the payload), not the header's
        # total length of 60, and not none
        (V4 + "proto TCP (6), length 60) 192.0.2.1.80 > 192.0.2.2.1234: tcp x, length 5", 5),
        (V4 + "proto TCP (6), length 60)\n    192.0.2.1.80 > 192.0.2.2.1234: tcp x, length 5", 5),
        ("13:24:32.1 IP 192.0.2.1.80 > 192.0.2.2.1234: tcp 7, length 5", 7),  # -q: "tcp N"
        (V4 + "proto TCP (6), length 60) 192.0.2.1.80 > 192.0.2.2.1234: tcp x", None),
    ],
)
def test_the_engines_agree_on_the_length_of_tcp_text(line, length):
    df = both(line + "\n")
    assert df.loc[0, "proto"] == "tcp"
    assert (pd.isna(df.loc[0, "length"]) and length is None) or df.loc[0, "length"] == length


# --------------------------------------------------------------------------- port names
def _scan_ports(names: dict[str, int], tokens: list[str]) -> list[int | None]:
    lines = "".join(f"{UDP[:24]}{t} > 203.0.113.2.53: 1+ A? x. (30)\n" for t in tokens)
    out = cpath._fastscan.scan(lines.encode(), names)
    ok = np.frombuffer(out["ok"], np.uint8)
    sport = np.frombuffer(out["sport"][0], np.uint16)
    return [int(sport[i]) if ok[i] else None for i in range(len(tokens))]


def test_a_port_table_of_thousands_of_names_keeps_every_name():
    names = {f"service-{k}": k for k in range(20_000)}
    tokens = [f"service-{k}" for k in range(0, 20_000, 7)] + ["no-such-service", "service-x"]
    assert _scan_ports(names, tokens) == [*range(0, 20_000, 7), None, None]


def test_a_miss_in_a_full_table_costs_no_scan_of_it():
    names = {f"service-{k}": k for k in range(60_000)}
    start = time.perf_counter()
    assert _scan_ports(names, ["no-such-service"] * 50_000) == [None] * 50_000
    assert time.perf_counter() - start < 1.0


@pytest.mark.parametrize(
    ("names", "error", "words"),
    [
        ({f"n{k}": 1 for k in range(70_000)}, ValueError, "70000 port names, more than"),
        ({"domain": 70_000}, ValueError, "'domain' maps to 70000, not a port"),
        ({"domain": -1}, ValueError, "maps to -1, not a port"),
        ({53: 53}, TypeError, "port names must be str"),
    ],
)
def test_a_port_table_the_scanner_cannot_hold_is_refused(names, error, words):
    with pytest.raises(error, match=words):
        cpath._fastscan.scan(b"x\n", names)


# --------------------------------------------------------------------------- sanitizers
#: what the sanitized build runs, in a process of its own (argv: the package's copy, then
#: the files to read)
DRIVER = """
import sys, warnings
from pathlib import Path

sys.path.insert(0, sys.argv[1])
import numpy as np
from incidentkit.parse import _cpath as cpath, parse_tcpdump
from incidentkit.parse._source import read_source

built = cpath._fastscan
assert built is not None and built.__file__.startswith(sys.argv[1]), built
table = cpath._port_table()


def exact(data):
    # a buffer of exactly len(data) bytes: a read past its end is a sanitizer's report
    return np.frombuffer(bytes(data), np.uint8).copy()


warnings.simplefilter("ignore")
logs = []
for name in sys.argv[2:]:
    data = bytes(read_source(Path(name))[0])
    logs.append(data)
    built.scan(exact(data), table)
    built.scan(exact(data.rstrip(b"\\n")), table, True)  # 64-bit offsets, no last line end
    if len(data) > 2**20:
        continue  # (large renderings: whole only)
    lines = data.split(b"\\n")
    built.scan(exact(lines[0]), table)
    for first, second in zip(lines, lines[1:]):
        # each line after the one before it (-v), ending where its buffer ends
        built.scan(exact(first + b"\\n" + second), table)
# the whole reader (scan, compact, the frame) once over every log, and in parts
everything = b"\\n".join(logs)
parse_tcpdump(everything, engine="c")
cpath._Scan(everything, parts=3)
names = {f"service-{k}": k for k in range(20_000)}
built.scan(exact(b"13:24:32.1 IP 192.0.2.1.service-7 > 192.0.2.2.no-such: x"), names)
for bad in ({"x": 70_000}, {1: 2}, {f"n{k}": 1 for k in range(70_000)}):
    try:
        built.scan(b"x", bad)
    except (TypeError, ValueError):
        pass
print("read", len(sys.argv) - 2, "files")
"""


def test_the_scanner_under_address_and_undefined_behaviour_sanitizers(tmp_path):
    package, env = sanitizer_build(tmp_path, "_fastscan")
    hostile = tmp_path / "hostile.txt"
    hostile.write_text("\n".join(make(n) for make in HOSTILE.values() for n in (1_000, 50_000)))
    numbers = tmp_path / "numbers.txt"
    numbers.write_text(
        "\n".join(line.format(d) for _, line in NUMBER_LINES for _, d, _ in _numbers(2**32))
        + "\n"
        + "\n".join(
            f"{s} IP 192.0.2.1.5 > 203.0.113.2.53: 1+ A? x. (30)" for c in TIME_CASES for s in c[1]
        )
    )
    files = [
        *sorted(CORPUS.glob("*.out")),
        *sorted(SCENARIOS.glob("*.txt*")),
        *sorted(SCENARIOS.glob("*/*.txt*")),
        hostile,
        numbers,
    ]
    out = run_sanitized(tmp_path, DRIVER, package, env, files, "scanner")
    assert out == f"read {len(files)} files"
