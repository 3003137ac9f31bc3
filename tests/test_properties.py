"""Property tests: no input crashes the reader, and no line is ever lost."""

from __future__ import annotations

import warnings

from conftest import SCENARIOS, SEED_LOG
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import incidentkit as ik

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
                )
            )
        )
    )
)
def test_random_bytes_never_crash(data):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ik.ParseWarning)
        df = ik.parse_tcpdump(data)
    assert (df["line"] >= 1).all()
