"""Property tests: no input crashes the reader, and no line is ever lost."""

from __future__ import annotations

import time
import warnings

from conftest import SCENARIOS, SEED_LOG, both_engines
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import incidentkit as ik
from incidentkit.parse._formats import known_format

REAL = [SEED_LOG.read_text()] + [
    p.read_text() for p in sorted(SCENARIOS.glob("*.txt")) if p.stat().st_size < 20_000
]


def accounted_lines(df) -> set[int]:
    """Every input line number the frame and its metadata account for."""
    lines: set[int] = set()
    capture = df.attrs["capture"]
    lines.update(capture["blank_lines"])
    lines.update(item["line"] for item in capture["banner"])
    for start, raw in zip(df["line"], df["raw"], strict=True):
        lines.update(range(start, start + raw.count("\n") + 1))
    return lines


def check_nothing_lost(text: str) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ik.ParseWarning)
        df = ik.parse_tcpdump(text)
    n_lines = text.count("\n") + (1 if text and not text.endswith("\n") else 0)
    assert df.attrs["capture"]["lines"] == n_lines
    assert accounted_lines(df) == set(range(1, n_lines + 1))
    assert df["record"].tolist() == list(range(1, len(df) + 1))


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.text(alphabet=st.characters(blacklist_characters="\x00\r"), max_size=400))
def test_random_text_never_crashes_nor_loses_a_line(text):
    check_nothing_lost(text)


@settings(max_examples=200, deadline=None)
@given(st.sampled_from(REAL), st.data())
def test_random_cuts_of_real_logs(text, data):
    a = data.draw(st.integers(0, len(text)))
    b = data.draw(st.integers(a, len(text)))
    check_nothing_lost(text[a:b])


@settings(max_examples=100, deadline=None)
@given(
    st.binary(max_size=300).filter(
        lambda b: (
            b"\x00" not in b
            and not b.startswith(
                (
                    b"\xd4\xc3\xb2\xa1",
                    b"\xa1\xb2\xc3\xd4",
                    b"\x4d\x3c\xb2\xa1",
                    b"\xa1\xb2\x3c\x4d",
                    b"\x0a\x0d\x0d\x0a",
                    b"\x1f\x8b",
                    b"\xff\xfe",  # (UTF-16 byte-order marks: refused as UTF-16 text)
                    b"\xfe\xff",
                )
            )
            # (files of other kinds, named by their first bytes: tests/test_bad_input.py)
            and known_format(b) is None
        )
    )
)
def test_random_bytes_never_crash(data):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ik.ParseWarning)
        df = ik.parse_tcpdump(data)
    assert (df["line"] >= 1).all()


# --------------------------------------------------------------------------- built records
#: Record shapes as tcpdump prints them, with the values hypothesis chooses: numbers of
#: any size, names up to megabytes, and the layouts around records (-v's second line,
#: blank lines inside, truncation markers, inner frames at column 0, undecoded protocols).
SHAPES = (
    "{ts}IP {a}.{p} > {b}.{q}: {n}+ A? {name}. ({m})",
    "{ts}IP {b}.{q} > {a}.{p}: {n}* {m}/0/0 {name}. A {a}, {name}. CNAME {name}. ({k})",
    "{ts}IP {b} > {a}: ICMP {b} udp port {q} unreachable, length {n}",
    "{ts}IP {b} > {a}: ICMP type-#{n}, length {m}",
    "{ts}IP {a}.{p} > {b}.{q}: Flags [S.], seq {n}:{m}, ack {k}, win {n}, length {m}",
    "{ts}IP (tos 0x0, ttl {k}, id {n}, offset 0, flags [DF], proto UDP (17), length {m})\n"
    "    {a}.{p} > {b}.{q}: {n}+ A? {name}. ({m})",
    "{ts}IP {a}.{p} > {b}.4789: VXLAN, flags [I] (0x08), vni {n}\n"
    "IP {a} > {b}: ICMP echo request, id {n}, seq {m}, length {k}",
    "{ts}IP {a}.{p} > {b}.{q}: HTTP, length: {n}\n\tGET /{name} HTTP/1.1\n\t\n\n\tHost: {name}",
    "{ts}IP {a}.{p} > {b}.{q}: sctp ({n}) [INIT] [init tag: {m}]",
    "{ts}ARP, Request who-has {a} tell {b}, length {n}",
    "{ts}IP6 2001:db8::{n:x}.{p} > 2001:db8::1.{q}: UDP, length {m}",
    "{ts}STP 802.1d, Config, Flags [none], bridge-id {name}, length {n}",
    "{ts} [|{name}]",
)
NUMBERS = st.one_of(st.integers(0, 70_000), st.integers(0, 2**64), st.integers(0, 10**40))
STAMPS = st.one_of(
    st.builds(
        "{:02d}:{:02d}:{:02d}.{:06d} ".format, *[st.integers(0, 99)] * 3, st.integers(0, 10**6 - 1)
    ),
    st.builds("{}.{:06d} ".format, st.integers(0, 10**20), st.integers(0, 999_999)),
    st.just(""),  # -t
)


@st.composite
def logs(draw):
    label = draw(st.text(alphabet="abcdefghij-0123456789", min_size=1, max_size=20))
    repeat = draw(st.sampled_from([1, 3, 100, 30_000]))
    name = ".".join([label] * repeat)
    stamped = draw(st.booleans())
    records = []
    for _ in range(draw(st.integers(1, 6))):
        shape = draw(st.sampled_from(SHAPES))
        records.append(
            shape.format(
                ts=draw(STAMPS) if stamped else "",
                a="192.0.2.1",
                b="203.0.113.2",
                p=draw(st.integers(0, 70_000)),
                q=draw(st.sampled_from([53, "domain", 99999])),
                n=draw(NUMBERS),
                m=draw(NUMBERS),
                k=draw(NUMBERS),
                name=name,
            )
        )
    return "\n".join(records) + "\n"


@settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck))
@given(logs())
def test_built_records_lose_no_line_read_in_linear_time_and_the_engines_agree(text):
    start = time.perf_counter()
    check_nothing_lost(text)
    elapsed = time.perf_counter() - start
    # linear: a quadratic step on a megabyte record takes minutes, not a second or two
    assert elapsed < 2.0 + len(text) / 100_000, (len(text), elapsed)
    both_engines(text)
