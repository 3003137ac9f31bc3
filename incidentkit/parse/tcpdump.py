"""Reading the text tcpdump prints into the schema's DataFrame.

The reader works on whole columns: the log's bytes become an Arrow string array of
lines without copying, each pattern of :mod:`._grammar` runs once over the column
(RE2, in C++), and the results are assembled into the frame. No Python object is made
per line, which keeps a million-line log close to the cost of reading it.

Steps: bytes -> lines -> line kinds (record start, continuation, banner, blank,
unparsed) -> records (a record and its continuation lines are one slice of the buffer)
-> fields -> frame.
"""

from __future__ import annotations

import contextlib
import datetime as _dt
import functools
import itertools
import mmap
import os
import re
import warnings
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final, Literal

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from .. import schema
from ..errors import InputError, ParseError, ParseWarning
from ..progress import NotebookBar, in_notebook, large
from ..services import WELL_KNOWN, port_number
from . import _grammar as g
from ._source import Source, check_text, encode_text, read_source

try:
    from . import _fastscan  # type: ignore[attr-defined]
except ImportError:  # built without a C compiler: the patterns read everything
    _fastscan = None

TimeFormat = Literal["auto", "-ttt", "-ttttt"]
Engine = Literal["auto", "c", "python"]

_NS = 1_000_000_000
_DAY_NS = 86_400 * _NS
#: The date given to time-of-day logs when the caller names none (documented default).
DEFAULT_DATE = _dt.date(1970, 1, 1)


# --------------------------------------------------------------------------- public API
def read_tcpdump(
    source: Source,
    *,
    date: str | _dt.date | pd.Timestamp | None = None,
    tz: str | None = None,
    strict: bool = False,
    time_format: TimeFormat = "auto",
    progress: Callable[[int, int], None] | bool | None = None,
    engine: Engine = "auto",
) -> pd.DataFrame:
    """Read a tcpdump text log into a DataFrame with the schema of :mod:`incidentkit.schema`.

    Parameters
    ----------
    source : path, open file
        A path (plain, or gzip-compressed: detected by content, not by name) or an open
        text or binary file.
    date : str, date or Timestamp, optional
        The day of the first packet, for logs that print only the time of day (tcpdump's
        default) or deltas (``-ttt``, ``-ttttt``). Without it such logs are dated
        1970-01-01 and ``df.attrs["capture"]["date_assumed"]`` is True; the reader never
        uses today's date. A time that runs backwards by more than twelve hours is taken
        as the next day (a capture past midnight).
    tz : str, optional
        The time zone the log's times are in (tcpdump prints local time). When given,
        ``time`` is time-zone aware; ``-tt`` epoch times are converted from UTC to it.
        Without it times are naive, as printed (``-tt`` as UTC).
    strict : bool, default False
        Raise :class:`~incidentkit.ParseError` at the first line that is no record,
        instead of keeping it as an ``unparsed`` row.
    time_format : {"auto", "-ttt", "-ttttt"}
        Delta timestamps look the same for ``-ttt`` (since the previous packet) and
        ``-ttttt`` (since the first). "auto" reads them as ``-ttttt`` when they never run
        backwards, or only as a capture's own reordering does (at most one step in a
        hundred, each under a millisecond: packets from several queues of a card), and
        as ``-ttt`` otherwise or when one carries a minus sign.
    progress : callable or bool, optional
        Called as ``progress(bytes_read, file_size)`` while a path is read. By default
        (None) a file over 4 MiB read in a Jupyter kernel shows a progress bar in the
        notebook; False shows none.
    engine : {"auto", "c", "python"}
        "c" reads the common record layouts in one compiled pass and hands every other
        line to the patterns of the pure-Python path; "python" uses the patterns alone.
        Both give the same frame. "auto" takes "c" when it is built (it needs a C
        compiler at install time), else "python".

    Returns
    -------
    pandas.DataFrame
        One row per packet and one ``unparsed`` row per line that is no record; banner,
        summary and blank lines go to ``df.attrs["capture"]``. A number too large for its
        column (``ICMP type-#300``, a port of 99999), a time past what datetime64[ns]
        holds (after 2262-04-11) or a date no calendar has leaves that value empty (NaT
        for a time), never another value: the record is kept, its ``error`` says why,
        and a :class:`~incidentkit.ParseWarning` counts such records.

    Raises
    ------
    InputError
        For a missing file, a pcap/pcapng capture, or other binary data.

    Examples
    --------
    >>> df = read_tcpdump("data/yummyrecipesforme_dns_icmp.log", date="2026-11-24")
    >>> print(df[["time", "proto", "src", "dst", "dport", "icmp_reason"]].head(2).to_string())
                            time proto            src            dst  dport       icmp_reason
    0 2026-11-24 13:24:32.192571   udp  192.51.100.15    203.0.113.2     53              <NA>
    1 2026-11-24 13:24:36.098564  icmp    203.0.113.2  192.51.100.15   <NA>  port unreachable
    """
    bar = None
    if progress is None and large(source) and in_notebook():
        bar = NotebookBar(Path(str(source)).name)
    report = bar if bar is not None else (progress if callable(progress) else None)
    # the bytes are read inside: no caller's frame holds them while the frame is made
    df = _parse_bytes(
        lambda: read_source(source, report),
        date=date,
        tz=tz,
        strict=strict,
        time_format=time_format,
        engine=engine,
    )
    if bar is not None:
        bar.done(len(df))
    return df


def parse_tcpdump(
    text: str | bytes,
    *,
    date: str | _dt.date | pd.Timestamp | None = None,
    tz: str | None = None,
    strict: bool = False,
    time_format: TimeFormat = "auto",
    engine: Engine = "auto",
) -> pd.DataFrame:
    """Parse tcpdump output given as a string; see :func:`read_tcpdump` for the options.

    Examples
    --------
    >>> df = parse_tcpdump("13:24:32.192571 IP 192.51.100.15.52444 > "
    ...                    "203.0.113.2.domain: 35084+ A? yummyrecipesforme.com. (24)")
    >>> row = df.iloc[0]
    >>> row["proto"], int(row["dport"]), row["dns_qname"]
    ('udp', 53, 'yummyrecipesforme.com')
    """
    if isinstance(text, str):
        data = bytearray(encode_text(text))
    elif isinstance(text, (bytes, bytearray)):
        data = bytearray(text)  # the reader's own copy: it makes the raw column in it
    else:
        raise InputError(f"parse_tcpdump takes str or bytes, not {type(text).__name__}")
    check_text(data, "<text>")
    return _parse_bytes(
        lambda: (data, "<text>"),
        date=date,
        tz=tz,
        strict=strict,
        time_format=time_format,
        engine=engine,
    )


# --------------------------------------------------------------------------- lines
@dataclass
class _Lines:
    data: bytearray  # the reader's own buffer (the raw column is made in it)
    offsets: np.ndarray  # int64, len n+1: line i is data[offsets[i]:offsets[i+1]]
    numbers: np.ndarray  # 1-based input line number of each line
    _text: pa.Array | None = None

    def __len__(self) -> int:
        return len(self.numbers)

    @property
    def text(self) -> pa.Array:
        """Every line without its line end (made on first use)."""
        if self._text is None:
            self._text = pc.utf8_rtrim(self._raw(), characters="\n")
        return self._text

    def take(self, idx: np.ndarray) -> pa.Array:
        """The lines at ``idx`` without their line ends."""
        if self._text is not None:
            return pc.take(self._text, pa.array(idx, pa.int64()))
        return pc.utf8_rtrim(pc.take(self._raw(), pa.array(idx, pa.int64())), characters="\n")

    def _raw(self) -> pa.Array:
        return pa.LargeStringArray.from_buffers(
            len(self), pa.py_buffer(self.offsets), pa.py_buffer(self.data)
        )


def _split_lines(
    data: bytearray, numbers: np.ndarray | None = None, offsets: np.ndarray | None = None
) -> _Lines:
    if offsets is None:
        if data and not data.endswith(b"\n"):
            data += b"\n"
        buf = np.frombuffer(data, dtype=np.uint8)
        ends = np.flatnonzero(buf == 10)
        offsets = np.empty(len(ends) + 1, dtype=np.int64)
        offsets[0] = 0
        offsets[1:] = ends + 1
    n = len(offsets) - 1
    if numbers is None:
        numbers = np.arange(1, n + 1, dtype=np.int64)
    return _Lines(data, offsets, numbers)


def _normalise(data: bytes | bytearray) -> tuple[bytes | bytearray, int]:
    """Make ``data`` valid UTF-8 with '\\n' line ends; count the lines that were not UTF-8."""
    if b"\r" in data:
        data = data.replace(b"\r\n", b"\n")
    if data.isascii():
        return data, 0
    try:
        data.decode("utf-8")
        return data, 0
    except UnicodeDecodeError:
        pass
    bad = 0
    out = []
    for raw_line in data.split(b"\n"):
        try:
            raw_line.decode("utf-8")
            out.append(raw_line)
        except UnicodeDecodeError:
            bad += 1
            out.append(raw_line.decode("utf-8", "backslashreplace").encode("utf-8"))
    return b"\n".join(out), bad


def _split_embedded(lines: _Lines, candidates: np.ndarray) -> _Lines | None:
    """Cut lines holding two records ("... (24) 13:24:36.098564 IP ...") in two.

    ``candidates`` are the indexes of the record starts that may hold a second record.
    """
    if len(candidates) == 0:
        return None
    hits = candidates[_match(lines.take(candidates), g.EMBEDDED_RECORD)]
    if len(hits) == 0:
        return None
    cutter = re.compile(g.EMBEDDED_RECORD_SPLIT)
    pieces: list[bytes | bytearray] = []
    numbers: list[int] = []
    hit_set = set(hits.tolist())
    for i in range(len(lines.numbers)):
        line = lines.data[lines.offsets[i] : lines.offsets[i + 1]].rstrip(b"\n")
        if i in hit_set:
            text = line.decode("utf-8")
            cuts = [0] + [m.end() for m in cutter.finditer(text)] + [len(text)]
            parts: list[bytes | bytearray] = [
                text[a:b].rstrip(" ").encode("utf-8") for a, b in itertools.pairwise(cuts)
            ]
        else:
            parts = [line]
        pieces.extend(parts)
        numbers.extend([int(lines.numbers[i])] * len(parts))
    # every piece ends with a line end: an empty last line stays a line
    pieces.append(b"")
    return _split_lines(bytearray(b"\n").join(pieces), np.asarray(numbers, dtype=np.int64))


def _np(mask: pa.Array) -> np.ndarray:
    return np.asarray(mask.to_numpy(zero_copy_only=False), dtype=bool)


def _match(arr: pa.Array, pattern: str) -> np.ndarray:
    return _np(pc.fill_null(pc.match_substring_regex(arr, pattern), False))


# --------------------------------------------------------------------------- line kinds
@dataclass
class _Kinds:
    start: np.ndarray
    continuation: np.ndarray
    meta: np.ndarray
    blank: np.ndarray
    unparsed: np.ndarray
    reasons: np.ndarray  # object array, reason per unparsed line
    ascii_payload: bool = False


def _line_masks(lines: _Lines, codes: np.ndarray | None) -> dict[str, np.ndarray]:
    """Which lines start a record, are blank, banner/summary, or indented.

    ``codes`` are the C scanner's sure answers (1 start, 2 indented, 3 blank, 0 unsure);
    the patterns decide the unsure lines, or every line when there are no codes.
    """
    n = len(lines)
    if codes is None:
        idx = np.arange(n)
        masks = {k: np.zeros(n, dtype=bool) for k in ("start", "blank", "meta", "indented")}
    else:
        idx = np.flatnonzero(codes == 0)
        masks = {
            "start": codes == 1,
            "blank": codes == 3,
            "meta": np.zeros(n, dtype=bool),
            "indented": codes == 2,
        }
    if len(idx):
        text = lines.text if len(idx) == n else lines.take(idx)
        start = _match(text, g.RECORD_START)
        blank = _match(text, g.BLANK) & ~start
        meta = _match(text, g.META) & ~start & ~blank
        indented = _match(text, g.INDENTED) & ~start & ~blank & ~meta
        for key, value in (("start", start), ("blank", blank), ("meta", meta)):
            masks[key][idx] = value
        masks["indented"][idx] = indented
    return masks


def _classify(lines: _Lines, masks: dict[str, np.ndarray]) -> _Kinds:
    """Each line's kind, from :func:`_line_masks`."""
    start, blank, meta, indented = (masks[k] for k in ("start", "blank", "meta", "indented"))
    loose = ~(start | blank | meta | indented)
    seen_record = np.cumsum(start) > 0
    # -A / -AA print the payload as unindented text after each record, non-printable
    # bytes as '.', so the packet's headers show as runs of dots ("E..<.h@.@.!R...").
    # Recognise that layout when most records are followed by such a line.
    ascii_payload = False
    if loose.any() and start.any():
        after = np.flatnonzero(start[:-1] & loose[1:]) + 1
        if len(after) * 2 >= start.sum():
            dotted = _match(lines.take(after), r"\.\.")
            ascii_payload = bool(dotted.sum() * 2 >= len(after))
    continuation = ~start & seen_record & (indented | (ascii_payload & (loose | blank)))
    unparsed = ~(start | continuation | meta | blank)
    reasons = np.full(len(start), None, dtype=object)
    reasons[unparsed & indented] = "continuation line with no record before it"
    reasons[unparsed & ~indented] = "not a tcpdump record"
    return _Kinds(
        start, continuation, meta, blank & ~continuation, unparsed, reasons, ascii_payload
    )


# --------------------------------------------------------------------------- helpers
def _nz(arr: pa.Array) -> pa.Array:
    """Empty strings (a group that did not take part) become nulls."""
    return pc.if_else(pc.equal(arr, ""), pa.scalar(None, arr.type), arr)


def _extract(arr: pa.Array, pattern: str) -> dict[str, pa.Array]:
    """Named groups of ``pattern`` as columns; null where it does not match or is empty."""
    result = pc.extract_regex(arr, pattern)
    valid = result.is_valid()
    out = {}
    for i, fld in enumerate(result.type):
        col = pc.struct_field(result, [i])
        out[fld.name] = _nz(pc.if_else(valid, col, pa.scalar(None, col.type)))
    return out


def _subset(arr: pa.Array, mask: np.ndarray, pattern: str) -> dict[str, pa.Array]:
    """:func:`_extract` on the rows of ``mask`` only, scattered back to full length."""
    names = re.findall(r"\(\?P<(\w+)>", pattern)
    n = len(arr)
    if not mask.any():
        return {name: pa.nulls(n, pa.large_string()) for name in names}
    if mask.all():
        return _extract(arr, pattern)
    part = _extract(pc.filter(arr, pa.array(mask)), pattern)
    out = {}
    for name, values in part.items():
        base = pa.nulls(n, values.type)
        out[name] = pc.replace_with_mask(base, pa.array(mask), values)
    return out


def _digits(arr: pa.Array, maximum: int) -> tuple[pa.Array, np.ndarray]:
    """Digit strings to int64, and where a number is past ``maximum``.

    The values are null where a string is absent or its number is past ``maximum``;
    leading zeros do not count. Numbers of any length are read without overflow: one of
    more than ten digits is past every column's range (the C scanner's ``to_int``).
    """
    lengths = pc.utf8_length(arr)
    if pc.any(pc.greater(lengths, 10)).as_py():  # (rare: only then trim leading zeros)
        trimmed = pc.utf8_ltrim(arr, characters="0")
        trimmed = pc.if_else(pc.equal(trimmed, ""), pa.scalar("0", arr.type), trimmed)
        arr = pc.if_else(pc.greater(lengths, 10), trimmed, arr)
        lengths = pc.utf8_length(arr)
    ok = pc.and_kleene(pc.less_equal(lengths, 10), pc.greater(lengths, 0))
    safe = pc.if_else(ok, arr, pa.scalar(None, arr.type))
    values = pc.cast(safe, pa.int64())
    inside = pc.less_equal(values, maximum)
    out = _np(pc.fill_null(pc.greater(lengths, 0), False)) & ~_np(pc.fill_null(inside, False))
    return pc.if_else(inside, values, pa.scalar(None, pa.int64())), out


class _Reasons:
    """Why a record's values were left empty, gathered column by column: a number past
    its column's range is no value, and the record's ``error`` says which it was."""

    def __init__(self, n: int) -> None:
        self.n = n
        self.parts: list[pa.Array] = []

    def number(self, tokens: pa.Array, column: str) -> pa.Array:
        """Digit strings to the numbers of ``column``, the ones past its range left null."""
        values, out = _digits(tokens, _MAX[column])
        self.add(column, tokens, out)
        return values

    def add(self, column: str, tokens: pa.Array, out: np.ndarray) -> None:
        """The rows of ``out`` hold a number (``tokens``) past the range of ``column``."""
        if not out.any():
            return
        reason = np.full(self.n, None, dtype=object)
        reason[out] = [
            f"{column} {_shown(tok)} is out of range (at most {_MAX[column]})"
            for tok in pc.filter(tokens, pa.array(out)).to_pylist()
        ]
        self.parts.append(pa.array(reason, pa.large_string()))

    def joined(self) -> pa.Array:
        """One reason per row ("; " between several), null where there is none."""
        return _join(self.parts, self.n)


def _port_value(digits: str) -> int | None:
    """The port an ASCII number stands for, or None past 65535 (of any length)."""
    value = int(digits) if len(digits.lstrip("0")) <= 5 else 65536
    return value if value < 65536 else None


def _port_name(token: str) -> int | None:
    """The port a service name stands for (digits of other scripts, '²', are none)."""
    return None if token.isdigit() else port_number(token)


def _shown(number: str) -> str:
    """A number as a reason quotes it: a long one by its start and its length."""
    return number if len(number) <= 24 else f"{number[:12]}... ({len(number)} digits)"


def _join(parts: list[pa.Array | pa.ChunkedArray], n: int) -> pa.Array:
    """The non-null strings of each row of ``parts``, joined by "; "; null where none."""
    parts = [part for part in parts if part.null_count < len(part)]
    if not parts:
        return pa.nulls(n, pa.large_string())
    sep = pa.scalar("; ", pa.large_string())
    joined = parts[0]
    for part in parts[1:]:
        # (pairwise, nulls by coalesce: null_handling="skip" of pyarrow 26 drops the rows
        # that are null in every part, and the result comes out short)
        both = pc.binary_join_element_wise(joined, part, sep)
        joined = pc.coalesce(both, joined, part)
    return joined


def _ports(tokens: pa.Array) -> tuple[pa.Array, np.ndarray]:
    """Port tokens ('53', 'domain') to numbers, looking each distinct token up once; and
    where a token is a number past 65535 (its port is then null)."""
    encoded = pc.dictionary_encode(tokens)
    if isinstance(encoded, pa.ChunkedArray):
        encoded = encoded.combine_chunks()
    words = encoded.dictionary.to_pylist()
    numeric = [tok.isascii() and tok.isdigit() for tok in words]
    lookup = [
        _port_value(tok) if num else _port_name(tok)
        for tok, num in zip(words, numeric, strict=True)
    ]
    past = [num and port is None for num, port in zip(numeric, lookup, strict=True)]
    table = pa.array(lookup, pa.int64())
    out = pc.fill_null(pc.take(pa.array(past, pa.bool_()), encoded.indices), False)
    return pc.take(table, encoded.indices), _np(out)


def _first(*arrays: pa.Array) -> pa.Array:
    return pc.coalesce(*arrays)


# --------------------------------------------------------------------------- times
@dataclass
class _TimeInfo:
    style: str = "none"
    date: str | None = None
    date_assumed: bool = False
    rollovers: int = 0


# Time kinds: how a record's timestamp reads (see _time_parts)
_T_NONE, _T_CLOCK, _T_DATED, _T_EPOCH, _T_DELTA, _T_BAD_DATE = range(6)

#: NaT's value; in ``value`` of :func:`_time_parts` it marks a time past what int64 holds
_NAT: Final = np.iinfo(np.int64).min
_MAX_NS: Final = np.iinfo(np.int64).max
#: why a time is NaT, by its kind (the ``error`` of its record)
_TIME_SPAN: Final = (
    f"what datetime64[ns] holds ({pd.Timestamp.min:%Y-%m-%d %H:%M:%S} to "
    f"{pd.Timestamp.max:%Y-%m-%d %H:%M:%S})"
)
_TIME_REASONS: Final = {
    _T_EPOCH: f"time out of range: the -tt time is past {_TIME_SPAN}",
    _T_DATED: f"time out of range: the -tttt time is outside {_TIME_SPAN}",
    _T_CLOCK: f"time out of range: the time of day on its date is past {_TIME_SPAN}",
    _T_DELTA: f"time out of range: the time its delta comes to is outside {_TIME_SPAN}",
    _T_BAD_DATE: "time unknown: its date is no day of the calendar",
}


def _time_parts(h: dict[str, pa.Array]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The header groups as (kind, value, negative) per row.

    ``value`` is nanoseconds: since midnight for clock times and deltas, since the epoch
    for dated and epoch times; ``_NAT`` for a time past what int64 nanoseconds hold
    (the C scanner gives such lines to the patterns: it only writes times that fit).
    """
    n = len(h["frac"])
    frac = pc.fill_null(h["frac"], "")
    efrac = pc.fill_null(h["efrac"], "")
    fr = pc.if_else(pc.greater(pc.utf8_length(frac), 0), frac, efrac)
    flen = np.asarray(pc.utf8_length(fr).to_numpy(zero_copy_only=False), dtype=np.int64)
    good_frac = (flen > 0) & (flen <= 9) & ~_np(pc.is_valid(h["invalid"]))
    fr_ok = pc.if_else(pa.array(good_frac), fr, pa.scalar(None, fr.type))
    fvals = np.asarray(pc.fill_null(pc.cast(fr_ok, pa.int64()), 0).to_numpy(), dtype=np.int64)
    frac_ns = fvals * (10 ** np.clip(9 - flen, 0, 9))
    whole_s = (_MAX_NS - frac_ns) // _NS  # the most whole seconds that fit with the fraction

    def ints(name: str) -> tuple[np.ndarray, np.ndarray]:
        """The numbers (up to 10**12, 0 where absent) and where a number is past that."""
        values, past = _digits(h[name], 10**12)
        return np.asarray(pc.fill_null(values, 0).to_numpy(), dtype=np.int64), past

    has_hms = _np(pc.is_valid(h["hh"])) & good_frac
    has_epoch = _np(pc.is_valid(h["epoch"])) & good_frac
    has_date = _np(pc.is_valid(h["date"])) & has_hms
    signed = _np(pc.is_valid(h["sign"])) & has_hms
    hh, hh_past = ints("hh")
    tod_s = hh * 3600 + ints("mm")[0] * 60 + ints("ss")[0]  # (at most 3.6e15: fits)
    tod_past = hh_past | (tod_s > whole_s)
    tod = np.where(tod_past, 0, tod_s) * _NS + frac_ns
    kind = np.full(n, _T_NONE, dtype=np.int8)
    value = np.zeros(n, dtype=np.int64)
    kind[has_epoch] = _T_EPOCH
    ep, ep_past = ints("epoch")
    ep_past |= ep > whole_s
    value[has_epoch] = np.where(ep_past, _NAT, np.where(ep_past, 0, ep) * _NS + frac_ns)[has_epoch]
    if has_date.any():
        idx = np.flatnonzero(has_date)
        days, real = _days(pc.filter(h["date"], pa.array(has_date)))
        kind[idx] = np.where(real, _T_DATED, _T_BAD_DATE)
        exact = days * _DAY_NS + tod[idx]  # (wraps where it is past int64: caught below)
        past = _wrapped(exact, days.astype(np.float64) * _DAY_NS + tod[idx]) | tod_past[idx]
        value[idx] = np.where(real & ~past, exact, _NAT)
    rest = has_hms & ~has_date
    kind[rest & ~signed] = _T_CLOCK
    kind[rest & signed] = _T_DELTA
    value[rest] = np.where(tod_past, _NAT, tod)[rest]
    negative = _np(pc.equal(pc.fill_null(h["sign"], ""), "-")) & rest
    return kind, value, negative


def _days(dates: pa.Array) -> tuple[np.ndarray, np.ndarray]:
    """Days since 1970-01-01 of "YYYY-MM-DD" strings (proleptic Gregorian, any year), and
    whether each is a day of the calendar (the C scanner's days_from_civil)."""

    def part(start: int, stop: int) -> np.ndarray:
        piece = pc.utf8_slice_codeunits(dates, start, stop)
        return np.asarray(pc.cast(piece, pa.int64()).to_numpy(), dtype=np.int64)

    y, m, d = part(0, 4), part(5, 7), part(8, 10)
    leap = (y % 4 == 0) & ((y % 100 != 0) | (y % 400 == 0))
    month_days = np.array([31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31])
    real = (m >= 1) & (m <= 12) & (d >= 1)
    real &= d <= month_days[np.clip(m, 1, 12) - 1] + ((m == 2) & leap)
    y = y - (m <= 2)
    era = np.where(y >= 0, y, y - 399) // 400
    yoe = y - era * 400
    doy = (153 * (m + np.where(m > 2, -3, 9)) + 2) // 5 + d - 1
    doe = yoe * 365 + yoe // 4 - yoe // 100 + doy
    return era * 146097 + doe - 719468, real


def _wrapped(exact: np.ndarray, approx: np.ndarray) -> np.ndarray:
    """Where int64 arithmetic wrapped, or came to NaT's value: ``exact`` is the result in
    int64 (right modulo 2**64), ``approx`` the same sum in float64 (off by far less than
    2**63), so the number of times it wrapped is the rounded difference over 2**64."""
    wraps = np.rint((approx - exact.astype(np.float64)) / 2.0**64)
    return (wraps != 0) | (exact == _NAT)


#: how far a -ttttt log may run backwards, as a capture reorders packets of several queues
_JITTER_NS: Final = 1_000_000


def _since_first(deltas: np.ndarray) -> bool:
    """Whether delta times read as offsets from the first packet (-ttttt): they never
    run backwards, or only by reordering jitter, at most one step in a hundred."""
    steps = np.diff(deltas.astype(np.float64))  # (float: a step of two huge deltas fits)
    back = steps[steps < 0]
    return len(back) * 100 <= len(steps) and bool((back > -_JITTER_NS).all())


def _times(
    kind: np.ndarray,
    value: np.ndarray,
    negative: np.ndarray,
    date: str | _dt.date | pd.Timestamp | None,
    time_format: TimeFormat,
) -> tuple[np.ndarray, _TimeInfo, pa.Array | None]:
    """Packet times (datetime64[ns]) from :func:`_time_parts`, dated and anchored, and
    the reason for each time left NaT because it is out of range (None when there is
    none): a time that datetime64[ns] cannot hold is NaT, never another date."""
    n = len(kind)
    info = _TimeInfo()
    rest = (kind == _T_CLOCK) | (kind == _T_DELTA)
    every = bool(rest.all())  # (the usual case: no index, no copies)
    out = np.empty(0, dtype=np.int64) if every else np.full(n, _NAT, dtype=np.int64)  # NaT
    why = np.zeros(n, dtype=bool)
    epoch = kind == _T_EPOCH
    if epoch.any():
        out[epoch] = value[epoch]
        why |= epoch & (value == _NAT)
        info.style = "-tt"
    dated = (kind == _T_DATED) | (kind == _T_BAD_DATE)
    if dated.any():
        good = kind == _T_DATED
        out[good] = value[good]
        why |= dated & (value == _NAT)
        info.style = "-tttt"
    if rest.any():
        anchor_date = DEFAULT_DATE if date is None else pd.Timestamp(date).date()
        info.date = anchor_date.isoformat()
        info.date_assumed = date is None
        anchor = pd.Timestamp(anchor_date).value
        idx: Any = slice(None) if every else np.flatnonzero(rest)
        values = value[idx]
        past: np.ndarray | None
        if (kind[idx] == _T_DELTA).any():
            times, past, info.style = _from_deltas(values, negative[idx], anchor, time_format)
        else:
            times, past, info.rollovers = _from_clock(values, anchor)
            info.style = "default" if info.style == "none" else info.style
        if past is not None:
            times[past] = _NAT
            why[idx] |= past
        if every:
            out = times
        else:
            out[idx] = times
    times = out.view("datetime64[ns]")
    if not why.any():
        return times, info, None
    reasons = np.full(n, None, dtype=object)
    for k, words in _TIME_REASONS.items():
        reasons[why & (kind == k)] = words
    return times, info, pa.array(reasons, pa.large_string())


def _from_clock(values: np.ndarray, anchor: int) -> tuple[np.ndarray, np.ndarray | None, int]:
    """Times of day on the anchor's date, a day later at each midnight passed; where a
    time is past what datetime64[ns] holds (None: nowhere); how many midnights."""
    bad = values == _NAT
    ok = values if not bad.any() else values[~bad]
    back = ok[1:] < ok[:-1] - _DAY_NS // 2  # past midnight
    rollovers = int(back.sum())
    if not bad.any() and len(ok) and anchor + int(ok.max()) + rollovers * _DAY_NS <= _MAX_NS:
        times = values + anchor  # (the usual case: nothing comes near 2262)
        if rollovers:
            times += np.concatenate([[0], np.cumsum(back)]) * _DAY_NS
        return times, None, rollovers
    days = np.concatenate([[0], np.cumsum(back)]).astype(np.int64)
    exact = ok + anchor + days * _DAY_NS
    approx = ok.astype(np.float64) + float(anchor) + days.astype(np.float64) * _DAY_NS
    times = np.full(len(values), _NAT, dtype=np.int64)
    times[~bad] = exact
    past = bad.copy()
    past[~bad] = _wrapped(exact, approx)
    return times, past, rollovers


def _from_deltas(
    values: np.ndarray, negative: np.ndarray, anchor: int, time_format: TimeFormat
) -> tuple[np.ndarray, np.ndarray, str]:
    """Times from -ttt (since the previous packet) or -ttttt (since the first) deltas;
    where a time is past what datetime64[ns] holds; the format read. A delta too large
    to hold makes its time, and with -ttt every later one, out of range."""
    bad = values == _NAT
    deltas = np.where(negative, -values, values)
    deltas[bad] = 0
    mode = time_format
    if mode == "auto":
        sure = deltas if not bad.any() else deltas[~bad]
        mode = "-ttt" if negative.any() or not _since_first(sure) else "-ttttt"
    if mode == "-ttt":
        exact = np.cumsum(deltas) + anchor
        approx = np.cumsum(deltas.astype(np.float64)) + float(anchor)
        past = _wrapped(exact, approx) | (np.cumsum(bad) > 0)
    else:
        exact = deltas + anchor
        past = _wrapped(exact, deltas.astype(np.float64) + float(anchor)) | bad
    return exact, past, mode


# --------------------------------------------------------------------------- records
@dataclass
class _Records:
    """One row per record (a record line and its continuation lines) or unparsed line."""

    rows: np.ndarray  # index of each row's first line
    is_record: np.ndarray
    nlines: np.ndarray  # how many lines each row spans
    starts: np.ndarray  # where each row's text starts in the log's buffer
    ends: np.ndarray  # and where it ends, its line ends included


def _records(lines: _Lines, kinds: _Kinds) -> _Records:
    seg_start = kinds.start | kinds.unparsed | kinds.meta | kinds.blank
    idx = np.flatnonzero(seg_start)
    keep = np.flatnonzero(kinds.start[idx] | kinds.unparsed[idx])
    rows = idx[keep]
    next_seg = np.append(idx[1:], len(lines))[keep]
    return _Records(
        rows,
        kinds.start[rows],
        next_seg - rows,
        lines.offsets[rows].astype(np.int64),
        lines.offsets[next_seg].astype(np.int64),
    )


def _raw_column(data: bytearray, recs: _Records) -> pa.Array:
    """Every row's text, without its last line end: the ``raw`` column.

    With the C scanner built, the texts are packed to the front of the log's own buffer
    (which the reader owns and no longer needs), so the column costs no copy of the log;
    otherwise they are gathered into new memory.
    """
    n = len(recs.rows)
    if _fastscan is not None:
        offsets = _fastscan.compact(data, recs.starts, recs.ends)
        with contextlib.suppress(BufferError):  # (a view of it still open: keep the tail)
            del data[int(np.frombuffer(offsets, np.int64)[-1]) :]
        return pa.LargeStringArray.from_buffers(n, pa.py_buffer(offsets), pa.py_buffer(data))
    bounds = np.empty(2 * n, dtype=np.int64)  # the rows, and the gaps between them
    bounds[0::2], bounds[1::2] = recs.starts, recs.ends
    pieces = pa.LargeStringArray.from_buffers(2 * n - 1, pa.py_buffer(bounds), pa.py_buffer(data))
    segments = pc.take(pieces, pa.array(np.arange(0, 2 * n - 1, 2, dtype=np.int64)))
    return pc.utf8_rtrim(segments, characters="\n")


def _fields(texts: pa.Array, is_record: np.ndarray) -> dict[str, pa.Array]:
    """Every column that comes from a record's text (rows that are not records stay null)."""
    rec = (
        texts
        if is_record.all()
        else pc.if_else(pa.array(is_record), texts, pa.scalar(None, texts.type))
    )
    cols: dict[str, pa.Array] = {}
    reasons = _Reasons(len(texts))
    h = _extract(rec, g.HEADER)
    cols.update({f"_h_{k}": v for k, v in h.items()})
    cols["packet"] = reasons.number(h["pkt"], "packet")

    addr = _extract(rec, g.ADDRESSES)
    link = _subset(rec, _match(rec, r"[0-9a-f]{2}(?::[0-9a-f]{2}){5}"), g.LINK)
    net = _extract(rec, g.NETWORK)
    iph = _subset(rec, _match(rec, r"\((?:tos|hlim|flowlabel|class)"), g.IP_HEADER)
    body = _extract(rec, g.BODY)

    info = addr["info"]
    core = pc.replace_substring_regex(
        pc.fill_null(info, ""), r"^\[[^\]]*\] ", "", max_replacements=1
    )
    core = pc.if_else(pc.is_valid(info), core, pa.scalar(None, core.type))
    has_addr = _np(pc.is_valid(addr["src"]))
    kw = pc.fill_null(net["kw"], "")
    ether = pc.fill_null(link["ethertype"], "")
    l4 = pc.fill_null(iph["l4"], "")

    is_icmp6 = _match(core, g.ICMP6_START) & has_addr
    is_icmp = _match(core, r"^ICMP ") & has_addr & ~is_icmp6
    is_tcp = (
        (_match(core, r"^(?:Flags \[|tcp \d)") | _np(pc.equal(l4, "TCP")))
        & has_addr
        & ~is_icmp
        & ~is_icmp6
    )
    # ports: numeric addresses split unambiguously; host names (no -n) only when the
    # last label is a port number or a known service name.
    ports_ok = has_addr & ~is_icmp & ~is_icmp6
    srcs = _split_address(addr["src"], ports_ok, reasons, "sport")
    dsts = _split_address(addr["dst"], ports_ok, reasons, "dport")
    ported = _np(pc.is_valid(srcs[1])) | _np(pc.is_valid(dsts[1]))
    is_udp = ported & ~is_tcp & ~is_icmp & ~is_icmp6
    is_arp = (
        _np(pc.is_in(kw, pa.array(["ARP", "RARP"])))
        | _np(pc.is_in(ether, pa.array(["ARP", "RARP"])))
    ) & ~has_addr
    is_ip6 = has_addr & _np(pc.match_substring(pc.fill_null(srcs[0], ""), ":")) | (
        ~has_addr & _np(pc.is_in(kw, pa.array(["IP6", "ip6"])))
    )
    is_ip = (
        has_addr
        | _np(pc.is_in(kw, pa.array(["IP", "ip"])))
        | _np(pc.is_in(ether, pa.array(["IPv4"])))
    ) & ~is_ip6
    proto = np.select(
        [~is_record, is_icmp6, is_icmp, is_tcp, is_udp, is_arp, is_ip6, is_ip],
        ["unparsed", "icmp6", "icmp", "tcp", "udp", "arp", "ip6", "ip"],
        default="other",
    )
    cols["proto"] = pa.array(proto)
    cols["src"], cols["sport"] = srcs
    cols["dst"], cols["dport"] = dsts
    cols["ttl"] = reasons.number(iph["ttl"], "ttl")
    cols["link_src"], cols["link_dst"] = link["lsrc"], link["ldst"]
    cols["info"] = pc.if_else(pc.is_valid(info), info, body["body"])

    # ---- ARP: who asks and who answers
    arp = _subset(pc.fill_null(body["body"], ""), is_arp, g.ARP)
    cols["src"] = _first(cols["src"], arp["asker"], arp["sender"])
    cols["dst"] = _first(cols["dst"], arp["target"])

    # ---- TCP
    tcp = _subset(core, is_tcp, g.TCP)
    cols["tcp_flags"] = tcp["flags"]
    cols["tcp_seq"] = tcp["seq"]
    cols["tcp_ack"] = reasons.number(tcp["ack"], "tcp_ack")
    cols["tcp_win"] = reasons.number(tcp["win"], "tcp_win")

    # ---- lengths: the last "length N" or "(N)" the first address line reports (the
    # number chosen is read once all are known: one past the range is no value, not a
    # reason to take another)
    last = _extract(cols["info"], g.LAST_LENGTH)
    udp = _subset(core, is_udp, g.UDP)
    length = _first(
        tcp["length"],
        tcp["qlength"],
        udp["length"],
        udp["qlength"],
        last["length"],
        last["dnslen"],
        arp["length"],
    )

    # ---- DNS, over UDP or TCP
    dns_text = _subset(core, (is_udp | is_tcp), g.DNS_TEXT)["dns"]
    dns = _subset(pc.fill_null(dns_text, ""), _np(pc.is_valid(dns_text)), g.DNS)
    is_resp = _np(pc.is_valid(dns["an"]))
    is_query = _np(pc.is_valid(dns["qtype"])) & ~is_resp
    is_dns = is_resp | is_query
    mask_dns = pa.array(is_dns)

    def dns_only(arr: pa.Array) -> pa.Array:
        return pc.if_else(mask_dns, arr, pa.scalar(None, arr.type))

    cols["dns_id"] = reasons.number(dns_only(dns["id"]), "dns_id")
    qr = np.full(len(texts), None, dtype=object)
    qr[is_query], qr[is_resp] = "query", "response"
    cols["dns_qr"] = pa.array(qr, pa.large_string())
    cols["dns_flags"] = dns_only(dns["flags"])
    cols["dns_qtype"] = dns_only(dns["qtype"])
    qname = pc.replace_substring_regex(pc.fill_null(dns["qname"], ""), r"(.)\.$", r"\1")
    cols["dns_qname"] = dns_only(
        pc.if_else(pc.is_valid(dns["qname"]), qname, pa.scalar(None, qname.type))
    )
    rcode = pc.fill_null(dns["rcode"], "NoError")
    cols["dns_rcode"] = pc.if_else(pa.array(is_resp), rcode, pa.scalar(None, rcode.type))
    an = pc.if_else(pa.array(is_resp), dns["an"], pa.scalar(None, dns["an"].type))
    cols["dns_ancount"] = reasons.number(an, "dns_ancount")
    answers = _nz(pc.utf8_trim_whitespace(pc.fill_null(dns["answers"], "")))
    cols["dns_answers"] = pc.if_else(pa.array(is_resp), answers, pa.scalar(None, answers.type))
    length = pc.if_else(pa.array(is_dns & is_udp), _first(dns["dlen"], length), length)

    # ---- ICMP and ICMPv6
    icmp = _subset(core, is_icmp, g.ICMP)
    icmp6 = _subset(core, is_icmp6, g.ICMP6)
    icmp_text = _first(icmp["text"], icmp["bare"])
    length = pc.if_else(pa.array(is_icmp), _first(icmp["length"], length), length)
    _icmp_columns(cols, icmp_text, icmp6["text"], is_icmp, is_icmp6, rec, reasons)
    cols["length"] = reasons.number(length, "length")
    cols["_error"] = reasons.joined()
    return cols


def _split_address(
    tokens: pa.Array, ported: np.ndarray, reasons: _Reasons, column: str
) -> tuple[pa.Array, pa.Array]:
    """Address tokens into host and port (``column``: a port past 65535 is a reason)."""
    num = _extract(tokens, g.NUMERIC_ADDRESS)
    is_num = _np(pc.is_valid(num["host"]))
    named = _np(pc.is_valid(tokens)) & ~is_num
    host = num["host"]
    port_tok = pc.if_else(pa.array(ported), num["port"], pa.scalar(None, pa.large_string()))
    if named.any():
        nm = _subset(tokens, named & ported, g.NAMED_ADDRESS)
        nm_port = _ports(nm["port"])[0]
        split_ok = pc.fill_null(pc.is_valid(nm_port), False)
        name_host = pc.if_else(split_ok, nm["host"], tokens)
        host = pc.if_else(pa.array(named), name_host, host)
        port_tok = pc.if_else(
            pa.array(named),
            pc.if_else(split_ok, nm["port"], pa.scalar(None, pa.large_string())),
            port_tok,
        )
    # an IPv4 token with no port is a host of four labels, kept whole
    host = _first(host, tokens)
    port, past = _ports(port_tok)
    reasons.add(column, port_tok, past)
    return host, port


def _icmp_columns(
    cols: dict[str, pa.Array],
    text4: pa.Array,
    text6: pa.Array,
    is_icmp: np.ndarray,
    is_icmp6: np.ndarray,
    rec: pa.Array,
    reasons: _Reasons,
) -> None:
    n = len(text4)
    itype = np.full(n, -1, dtype=np.int64)
    icode = np.full(n, -1, dtype=np.int64)
    reason = np.full(n, None, dtype=object)
    for text, rows, shapes in ((text4, is_icmp, g.ICMP_SHAPES), (text6, is_icmp6, g.ICMP6_SHAPES)):
        if not rows.any():
            continue
        todo = rows.copy()
        filled = pc.fill_null(text, "")
        for pattern, typ, code, words in shapes:
            hit = todo & _match(filled, pattern.replace("#", r"\S+"))
            itype[hit], icode[hit], reason[hit] = typ, code, words
            todo &= ~hit
        # anything tcpdump names that the tables do not: keep its words
        reason[todo] = np.asarray(filled.to_numpy(zero_copy_only=False), dtype=object)[todo]
    type_num = re.compile(r"type-#([0-9]+)")
    numbered = np.full(n, None, dtype=object)
    for i in np.flatnonzero(is_icmp & (itype < 0)):
        m = type_num.search(str(reason[i]))
        if m:
            numbered[i] = m.group(1)
    if (numbered != None).any():  # noqa: E711 (element-wise)
        typed = reasons.number(pa.array(numbered, pa.large_string()), "icmp_type")
        valid = _np(pc.is_valid(typed))
        itype[valid] = np.asarray(pc.drop_null(typed).to_numpy(), dtype=np.int64)
    cols["icmp_type"] = pa.array(itype, pa.int64(), mask=itype < 0)
    cols["icmp_code"] = pa.array(icode, pa.int64(), mask=icode < 0)
    cols["icmp_reason"] = pa.array(reason, pa.large_string())

    # what the error says about the datagram it answers
    unreach4 = is_icmp & (itype == 3)
    q4 = _subset(pc.fill_null(text4, ""), unreach4, g.ICMP_UNREACH_QUOTED)
    unreach6 = is_icmp6 & (itype == 1)
    q6 = _subset(pc.fill_null(text6, ""), unreach6, g.ICMP6_UNREACH_QUOTED)
    pnum = _first(q4["pnum"], pa.nulls(n, pa.large_string()))
    cols["icmp_orig_dst"] = _first(q4["dst"], q6["dst"], q6["dst1"])
    cols["icmp_orig_proto"] = _first(q4["proto"], q6["proto"], pnum)
    text_port = _first(q4["port"], q4["pport"], q6["port"])
    cols["icmp_orig_dport"], port_past = _ports(text_port)
    reasons.add("icmp_orig_dport", text_port, port_past)

    # -v prints the quoted datagram itself on the following lines: decode it
    errors = (is_icmp & np.isin(itype, [3, 4, 5, 11, 12])) | (
        is_icmp6 & np.isin(itype, [1, 2, 3, 4])
    )
    quoted = _subset(rec, errors & _match(rec, r"\n"), g.ICMP_QUOTED_V)
    q6v = _subset(rec, errors & is_icmp6, g.ICMP6_QUOTED_V)
    qsrc_tok = _first(quoted["src"], q6v["src"])
    qdst_tok = _first(quoted["dst"], q6v["dst"])
    qproto = pc.utf8_lower(pc.fill_null(_first(quoted["proto"], q6v["proto"]), ""))
    has_q = _np(pc.is_valid(qsrc_tok))
    ported = has_q & _np(pc.is_in(qproto, pa.array(["udp", "tcp"])))
    qsrc, qsport = _split_address(qsrc_tok, ported, reasons, "icmp_orig_sport")
    qdst, qdport = _split_address(qdst_tok, ported, reasons, "icmp_orig_dport")
    cols["icmp_orig_src"] = qsrc
    cols["icmp_orig_sport"] = qsport
    cols["icmp_orig_dst"] = _first(cols["icmp_orig_dst"], qdst)
    cols["icmp_orig_dport"] = _first(cols["icmp_orig_dport"], qdport)
    if port_past.any():  # (a port past the range is no value: the quoted one is not taken)
        no_port = pa.scalar(None, cols["icmp_orig_dport"].type)
        cols["icmp_orig_dport"] = pc.if_else(pa.array(port_past), no_port, cols["icmp_orig_dport"])
    qp = pc.if_else(pa.array(has_q), qproto, pa.scalar(None, qproto.type))
    cols["icmp_orig_proto"] = _first(cols["icmp_orig_proto"], _nz(qp))
    qinfo = _first(quoted["info"], q6v["info"])
    qdns = _subset(pc.fill_null(qinfo, ""), ported, g.DNS_TEXT)["dns"]
    qid = _subset(pc.fill_null(qdns, ""), _np(pc.is_valid(qdns)), g.DNS)
    is_qdns = _np(pc.is_valid(qid["qtype"])) | _np(pc.is_valid(qid["an"]))
    qdid = pc.if_else(pa.array(is_qdns), qid["id"], pa.scalar(None, qid["id"].type))
    cols["icmp_orig_dns_id"] = reasons.number(qdid, "icmp_orig_dns_id")


# --------------------------------------------------------------------------- assembly
#: The integer columns: the Arrow type of each, and the largest value it holds (the
#: schema's dtypes say both; a number past it is a reason in ``error``, see _Reasons)
_ARROW_TYPES: dict[str, pa.DataType] = {
    name: pa.from_numpy_dtype(np.dtype(str(dtype).lower()))  # "UInt16" -> uint16
    for name, dtype in schema.dtypes().items()
    if str(dtype).startswith("UInt")
}
_MAX: Final = {
    name: int(np.iinfo(kind.to_pandas_dtype()).max) for name, kind in _ARROW_TYPES.items()
}
_PANDAS_TYPES = {
    pa.uint8(): pd.UInt8Dtype(),
    pa.uint16(): pd.UInt16Dtype(),
    pa.uint32(): pd.UInt32Dtype(),
    pa.int64(): pd.Int64Dtype(),
    pa.large_string(): pd.StringDtype("pyarrow"),
    pa.string(): pd.StringDtype("pyarrow"),
}


def _parse_bytes(
    load: Callable[[], tuple[bytes | bytearray, str]],
    *,
    date: str | _dt.date | pd.Timestamp | None,
    tz: str | None,
    strict: bool,
    time_format: TimeFormat,
    engine: Engine = "auto",
) -> pd.DataFrame:
    if time_format not in ("auto", "-ttt", "-ttttt"):
        raise ValueError(f"time_format must be 'auto', '-ttt' or '-ttttt', not {time_format!r}")
    if engine not in ("auto", "c", "python"):
        raise ValueError(f"engine must be 'auto', 'c' or 'python', not {engine!r}")
    if engine == "c" and _fastscan is None:
        raise ImportError(
            "engine='c': the C reader of incidentkit is not built (it needs a C compiler "
            "when the package is installed); engine='python' reads the same log"
        )
    if date is not None:
        try:
            pd.Timestamp(date)
        except (ValueError, TypeError) as exc:
            raise ValueError(f"date={date!r} is not a date: {exc}") from None
    use_c = engine != "python" and _fastscan is not None
    loaded, name = load()
    loaded, non_utf8 = _normalise(loaded)
    # the reader's own buffer: the ``raw`` column is made in it (see _raw_column)
    data = loaded if isinstance(loaded, bytearray) else bytearray(loaded)
    del loaded
    scan = _scan(data) if use_c else None
    lines = _line_array(data, scan)
    input_lines = len(lines)
    codes = None if scan is None else scan.code
    masks = _line_masks(lines, codes)
    maybe_two = np.flatnonzero(masks["start"] & (codes == 0 if codes is not None else True))
    split = _split_embedded(lines, maybe_two)
    if split is not None:  # the lines changed: scan them again
        scan = _scan(split.data) if use_c else None
        lines = _line_array(split.data, scan, split.numbers)
        codes = None if scan is None else scan.code
        masks = _line_masks(lines, codes)
    kinds = _classify(lines, masks)
    capture = _capture_meta(lines, kinds, name)
    capture["lines"] = input_lines
    capture["non_utf8_lines"] = non_utf8
    capture["ascii_payload"] = kinds.ascii_payload

    unparsed_idx = np.flatnonzero(kinds.unparsed)
    if strict and len(unparsed_idx):
        i = int(unparsed_idx[0])
        text = lines.take(np.array([i]))[0].as_py()
        raise ParseError(int(lines.numbers[i]), text, str(kinds.reasons[i]))

    recs = _records(lines, kinds)
    n = len(recs.rows)
    capture["engine"] = "c" if use_c else "python"
    capture["c_rows"] = 0
    if n == 0:
        df = schema.empty_frame()
        df.attrs["capture"] = capture
        return df
    if scan is None:
        fast = np.zeros(n, dtype=bool)
    else:
        # the scanner read a row when it read as many lines as the row spans (1, or 2 for -v)
        ok = scan.ok[recs.rows]
        fast = recs.is_record & (ok > 0) & (ok == recs.nlines)
        del ok
    capture["c_rows"] = int(fast.sum())
    rows, is_record = recs.rows, recs.is_record
    slow = ~fast
    error = np.where(is_record[slow], None, kinds.reasons[rows[slow]])
    row_lines = lines.numbers[rows]
    first = int(lines.numbers[unparsed_idx[0]]) if len(unparsed_idx) else 0
    # the line tables are done with; the log's buffer becomes the raw column
    data = lines.data  # (the buffer the lines were cut from)
    del lines, split, codes, masks, kinds
    raw = _raw_column(data, recs)
    del data, recs
    columns = _Columns(rows, fast, raw)
    if slow.any():
        texts = raw if slow.all() else raw.take(pa.array(np.flatnonzero(slow)))
        cols = _fields(texts, is_record[slow])
        cols["error"] = _first(pa.array(error, pa.large_string()), cols.pop("_error"))
        header = {k[3:]: cols.pop(k) for k in list(cols) if k.startswith("_h_")}
        columns.add_slow(cols, _time_parts(header))
        del texts, cols
    if scan is not None:
        if fast.any():
            _fast_fields(columns, scan)
        del scan
    del rows, fast, slow, is_record, error  # (the frame is made from ``columns`` alone)
    times, tinfo, columns.late_errors = _times(*columns.time_parts(), date, time_format)
    capture.update(
        time_format=tinfo.style,
        date=tinfo.date,
        date_assumed=tinfo.date_assumed,
        midnight_rollovers=tinfo.rollovers,
    )
    time = pd.Series(times, name="time", copy=False)
    del times
    if tz is not None:
        time = time.dt.tz_localize("UTC" if tinfo.style == "-tt" else tz)
        time = time.dt.tz_convert(tz)
    df = schema.conform(columns.frame(row_lines, time.array))
    df.attrs["capture"] = capture
    _warn_out_of_range(df, name, len(unparsed_idx))
    if len(unparsed_idx):
        warnings.warn(
            ParseWarning(
                f"{name}: {len(unparsed_idx)} of {input_lines} lines are not tcpdump "
                f"records; kept as 'unparsed' rows (first at line {first})"
            ),
            stacklevel=3,
        )
    return df


def _warn_out_of_range(df: pd.DataFrame, name: str, unparsed: int) -> None:
    """Say how many records have a value left empty, with the reason in ``error``
    (every unparsed row has a reason too: ``unparsed`` is how many there are)."""
    count = int(df["error"].count()) - unparsed
    if count <= 0:
        return
    said = df["error"].notna().to_numpy() & (df["proto"] != "unparsed").to_numpy()
    first = int(df["line"].to_numpy()[said][0])
    warnings.warn(
        ParseWarning(
            f"{name}: {count} of {len(df)} records hold a value their column cannot (out of "
            f"range, or no such date); it is left empty and 'error' says why (first at line "
            f"{first})"
        ),
        stacklevel=4,
    )


# --------------------------------------------------------------------------- C fast path
_FAST_NUMBERS: dict[str, pa.DataType] = {
    "packet": pa.uint32(),
    "_tkind": pa.uint8(),
    "_tval": pa.int64(),
    "proto": pa.uint8(),
    "sport": pa.uint16(),
    "dport": pa.uint16(),
    "length": pa.uint32(),
    "ttl": pa.uint8(),
    "dns_id": pa.uint16(),
    "dns_qr": pa.uint8(),
    "dns_ancount": pa.uint16(),
    "tcp_ack": pa.uint32(),
    "tcp_win": pa.uint32(),
}
_FAST_STRINGS = (
    "src",
    "dst",
    "dns_flags",
    "dns_qtype",
    "dns_qname",
    "dns_rcode",
    "dns_answers",
    "tcp_flags",
    "tcp_seq",
    "info",
    "_icmp_text",
    "_icmp6_text",
)
_ICMP_FROM_TEXT = (
    "icmp_type",
    "icmp_code",
    "icmp_reason",
    "icmp_orig_proto",
    "icmp_orig_src",
    "icmp_orig_sport",
    "icmp_orig_dst",
    "icmp_orig_dport",
    "icmp_orig_dns_id",
)
_QR = ("query", "response")


@functools.cache
def _port_table() -> dict[str, int]:
    """Service names the C scanner may turn into numbers: the kit's table and the names
    of the system's services database, each looked up with :func:`port_number` (the
    function the patterns use), so both paths give the same number. Any other name
    sends its line to the patterns."""
    names = set(WELL_KNOWN)
    try:
        with open("/etc/services", encoding="utf-8", errors="replace") as handle:
            for line in handle:
                words = line.split("#", 1)[0].split()
                if len(words) >= 2:
                    names.update(w for w in [words[0], *words[2:]] if w.isascii())
    except OSError:
        pass
    table = {}
    for name in names:
        number = port_number(name)
        if number is not None:
            table[name] = number
    return table


def _buffer(buf: bytearray, dtype: Any) -> np.ndarray:
    return np.frombuffer(buf, dtype=dtype)


def _line_array(data: bytearray, scan: _Scan | None, numbers: Any = None) -> _Lines:
    if scan is None:
        return _split_lines(data, numbers)
    return _split_lines(data, numbers, scan.offsets)


def _scanned(scan: dict[str, Any], name: str) -> pa.Array:
    n = scan["n"]
    if name in _FAST_NUMBERS:
        values, valid = scan[name]
        return pa.Array.from_buffers(
            _FAST_NUMBERS[name], n, [pa.py_buffer(valid), pa.py_buffer(values)]
        )
    offsets, data, valid = scan[name]
    kind = pa.LargeStringArray if scan["wide"] else pa.StringArray
    return kind.from_buffers(n, pa.py_buffer(offsets), pa.py_buffer(data), pa.py_buffer(valid))


#: Logs from this size on are scanned in parts, one thread per core (the scan lets go of
#: the GIL); each part ends at a line end.
_PART_BYTES = 8 << 20


class _Scan:
    """The C scanner's output for a whole log, scanned in one or more parts."""

    def __init__(self, data: bytes | bytearray, parts: int | None = None) -> None:
        assert _fastscan is not None
        scan = _fastscan.scan
        table = _port_table()
        cuts = _cuts(data, parts or (os.cpu_count() or 1 if len(data) >= _PART_BYTES else 1))
        # 32-bit string offsets (half the memory while the frame is made), unless a part
        # is too large for them; every part the same, so that they make one chunked array
        wide = max(b - a for a, b in itertools.pairwise(cuts)) >= 2**31 - 1
        if len(cuts) == 2:
            self.parts = [scan(data, table, wide)]
        else:
            with memoryview(data) as view, ThreadPoolExecutor(len(cuts) - 1) as pool:
                self.parts = list(
                    pool.map(
                        lambda ab: scan(view[ab[0] : ab[1]], table, wide),
                        itertools.pairwise(cuts),
                    )
                )
        self.n = sum(part["n"] for part in self.parts)
        starts = [
            _buffer(part["offsets"], np.int64)[:-1] + cut
            for part, cut in zip(self.parts, cuts[:-1], strict=True)
        ]
        self.offsets = np.concatenate([*starts, np.array([len(data)], dtype=np.int64)])
        self.code = self._cat([_buffer(part["code"], np.uint8) for part in self.parts])
        self.ok = self._cat([_buffer(part["ok"], np.uint8) for part in self.parts])

    @staticmethod
    def _cat(arrays: list[np.ndarray]) -> np.ndarray:
        return arrays[0] if len(arrays) == 1 else np.concatenate(arrays)

    def values(self, name: str, dtype: Any) -> np.ndarray:
        """A numeric column's values, by line (the null slots hold no meaning)."""
        return self._cat([_buffer(p[name][0], dtype)[: p["n"]] for p in self.parts])

    def valid(self, name: str) -> np.ndarray:
        bits = [_buffer(p[name][1], np.uint8) for p in self.parts]
        return self._cat(
            [
                np.unpackbits(b, bitorder="little", count=p["n"]).astype(bool)
                for b, p in zip(bits, self.parts, strict=True)
            ]
        )

    def drop(self, *names: str) -> None:
        """Let the columns ``names`` go (once read)."""
        for part in self.parts:
            for name in names:
                part.pop(name, None)

    def arrow(self, name: str) -> pa.Array | pa.ChunkedArray:
        """A column as Arrow, by line: one array, or one chunk per part."""
        arrays = [_scanned(part, name) for part in self.parts]
        return arrays[0] if len(arrays) == 1 else pa.chunked_array(arrays)


def _cuts(data: bytes | bytearray, parts: int) -> list[int]:
    """Where the parts start (each just after a line end), and the log's end."""
    size = len(data)
    cuts = [0]
    for k in range(1, max(parts, 1)):
        line_end = data.find(b"\n", size * k // parts)
        if line_end < 0 or line_end + 1 >= size:
            break
        if line_end + 1 > cuts[-1]:
            cuts.append(line_end + 1)
    return [*cuts, size]


def _scan(data: bytes | bytearray) -> _Scan:
    """The C scanner over ``data``."""
    return _Scan(data)


#: The pool for the frame's big Arrow buffers: the system's allocator, which hands back
#: the same pages the reader's own arrays (numpy's, the scanner's) just let go of, and
#: keeps no slack of its own around large blocks (measured in docs/performance.md).
_FRAME_POOL = pa.system_memory_pool()


class _Columns:
    """The frame's columns: rows the C scanner read, and rows the patterns read.

    The scanner's arrays are indexed by line; the patterns' arrays by their own rows.
    Each column is put together from runs of rows that lie next to each other in one of
    them, as zero-copy slices of a chunked array, so a few rows the patterns read in a
    million the scanner read cost no copy of the rest.
    """

    #: above this many runs, the rows are gathered with one ``take`` instead
    MAX_RUNS = 64

    def __init__(self, rows: np.ndarray, fast: np.ndarray, raw: pa.Array) -> None:
        self.n = n = len(rows)
        self.rows = rows
        self.raw: pa.Array | None = raw  # by row
        self.line_count = int(rows.max()) + 1
        self.fast_pos = np.flatnonzero(fast)
        self.slow_pos = np.flatnonzero(~fast)
        self.slow_count = len(self.slow_pos)
        self.scanned: dict[str, pa.Array] = {}  # by line
        self.parsed: dict[str, pa.Array] = {}  # by row of the patterns
        self.late_errors: pa.Array | None = None  # by row: reasons found once all are read
        self.proto = np.zeros(n, dtype=np.int8)
        self.qr = np.full(n, -1, dtype=np.int8)
        self.kind = np.zeros(n, dtype=np.int8)
        self.value = np.zeros(n, dtype=np.int64)
        self.negative = np.zeros(n, dtype=bool)
        # runs: where each starts, from which side, at which index there
        index = np.where(fast, rows, np.cumsum(~fast) - 1)
        breaks = np.ones(n, dtype=bool)
        breaks[1:] = (fast[1:] != fast[:-1]) | (np.diff(index) != 1)
        self.run_start = np.flatnonzero(breaks)
        self.run_len = np.diff(np.append(self.run_start, n))
        self.run_fast = fast[self.run_start]
        self.run_index = index[self.run_start]

    def add_slow(
        self, cols: dict[str, pa.Array], parts: tuple[np.ndarray, np.ndarray, np.ndarray]
    ) -> None:
        pos = self.slow_pos
        for name, categories, out in (
            ("proto", schema.PROTOCOLS, self.proto),
            ("dns_qr", _QR, self.qr),
        ):
            values = np.asarray(cols.pop(name).to_numpy(zero_copy_only=False), dtype=object)
            out[pos] = pd.Categorical(values, categories=list(categories)).codes
        self.kind[pos], self.value[pos], self.negative[pos] = parts
        self.parsed = cols

    def column(self, name: str) -> pa.Array | pa.ChunkedArray:
        if name == "raw" and self.raw is not None:
            raw, self.raw = self.raw, None
            return raw
        if name == "error" and self.late_errors is not None:
            late, self.late_errors = self.late_errors, None
            return _join([self.column(name), late], self.n)
        target = _ARROW_TYPES.get(name, pa.large_string())
        if all(
            side is None or side.null_count == len(side)
            for side in (self.scanned.get(name), self.parsed.get(name))
        ):
            return _nulls(self.n, target)
        return self._column(name, target)

    def _column(self, name: str, target: pa.DataType) -> pa.Array | pa.ChunkedArray:
        scanned = self.scanned.get(name)
        parsed = self.parsed.get(name)
        if scanned is not None and scanned.type != target:
            scanned = pc.cast(scanned, target, memory_pool=_FRAME_POOL)
        if parsed is not None and parsed.type != target:
            parsed = pc.cast(parsed, target, memory_pool=_FRAME_POOL)
        if len(self.run_start) == 1:  # one run: one side, in order
            side = scanned if self.run_fast[0] else parsed
            if side is None:  # (a side without the column)
                return _nulls(self.n, target)
            return side.slice(int(self.run_index[0]), self.n)
        if scanned is None:
            scanned = _nulls(self.line_count, target)
        if parsed is None:
            parsed = _nulls(self.slow_count, target)
        if len(self.run_start) <= self.MAX_RUNS:
            pieces = [
                (scanned if is_fast else parsed).slice(int(i), int(k))
                for is_fast, i, k in zip(self.run_fast, self.run_index, self.run_len, strict=True)
            ]
            return pa.chunked_array(_chunks(pieces), target)
        taken = pc.take(scanned, pa.array(self.rows[self.fast_pos]), memory_pool=_FRAME_POOL)
        merged = pa.chunked_array(_chunks([taken, parsed]), target)
        order = np.empty(self.n, dtype=np.int64)
        order[np.concatenate([self.fast_pos, self.slow_pos])] = np.arange(self.n)
        return pc.take(merged, pa.array(order), memory_pool=_FRAME_POOL)

    def time_parts(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Each row's time kind, value and sign, handed over once (they are let go here)."""
        parts = self.kind, self.value, self.negative
        del self.kind, self.value, self.negative
        return parts

    def frame(self, lines: np.ndarray, time: Any) -> pd.DataFrame:
        """The frame, in the schema's column order; Arrow strings are not copied."""
        if len(self.run_start) <= self.MAX_RUNS:  # the runs alone say where each row is
            self.rows = self.fast_pos = self.slow_pos = np.empty(0, dtype=np.int64)
        dtypes = schema.dtypes()
        out: dict[str, Any] = {}
        for name in schema.COLUMN_NAMES:
            if name == "record":
                out[name] = np.arange(1, self.n + 1, dtype=np.int64)
            elif name == "line":
                out[name] = lines
            elif name == "time":
                out[name] = time
            elif name in ("proto", "dns_qr"):
                codes = self.proto if name == "proto" else self.qr
                out[name] = pd.Categorical.from_codes(codes, dtype=dtypes[name])  # type: ignore[call-overload]
            else:
                arr = self.column(name)
                out[name] = _PANDAS_TYPES[arr.type].__from_arrow__(arr)  # type: ignore[attr-defined]
                self.scanned.pop(name, None)  # each column's buffers go as soon as it is made
                self.parsed.pop(name, None)
        return pd.DataFrame(out, copy=False)


def _nulls(n: int, kind: pa.DataType) -> pa.Array:
    """``n`` nulls of ``kind``. Strings get fresh pages that are never written, so the
    system maps them on first read to its one page of zeros: a column that is all null
    (``link_src`` without -e, say) then costs no memory, where ``pa.nulls`` writes its
    ``8 * n`` bytes of offsets."""
    if not pa.types.is_large_string(kind):
        return pa.nulls(n, kind)
    zeros = pa.py_buffer(mmap.mmap(-1, 8 * (n + 1)))  # fresh pages (malloc may reuse old)
    return pa.LargeStringArray.from_buffers(n, zeros, pa.py_buffer(b""), zeros, null_count=n)


def _chunks(pieces: list[pa.Array | pa.ChunkedArray]) -> list[pa.Array]:
    """The arrays of ``pieces``, chunked arrays opened up."""
    out: list[pa.Array] = []
    for piece in pieces:
        out.extend(piece.chunks if isinstance(piece, pa.ChunkedArray) else [piece])
    return out


def _fast_fields(columns: _Columns, scan: _Scan) -> None:
    """The C scanner's columns (by line) and its rows' categories and times."""
    pos = columns.fast_pos
    lines = columns.rows[pos]
    for name in (*_FAST_NUMBERS, *_FAST_STRINGS):
        if name not in ("_tkind", "_tval", "proto", "dns_qr", "_icmp_text", "_icmp6_text"):
            columns.scanned[name] = scan.arrow(name)
    columns.proto[pos] = scan.values("proto", np.uint8)[lines]
    qr = scan.values("dns_qr", np.uint8)[lines].astype(np.int8)
    columns.qr[pos] = np.where(scan.valid("dns_qr")[lines], qr, -1)
    columns.kind[pos] = scan.values("_tkind", np.uint8)[lines]
    columns.value[pos] = scan.values("_tval", np.int64)[lines]
    del qr, lines
    scan.drop("proto", "dns_qr", "_tkind", "_tval")  # read: their memory goes now
    # ICMP: the text's meaning, worked out once per distinct text with the patterns; the
    # ICMP and ICMPv6 texts share one index into their decoded tables, so each column is
    # one gather
    tables: list[dict[str, pa.Array]] = []
    indices: list[pa.Array] = []
    base = 0
    for key, v6 in (("_icmp_text", False), ("_icmp6_text", True)):
        text = scan.arrow(key)
        scan.drop(key)
        if text.null_count == len(text):
            continue
        if isinstance(text, pa.ChunkedArray):
            text = text.combine_chunks(memory_pool=_FRAME_POOL)
        encoded = pc.dictionary_encode(text, memory_pool=_FRAME_POOL)
        del text
        words = encoded.dictionary
        k = len(words)
        none, every = pa.nulls(k, words.type), np.ones(k, bool)
        decoded: dict[str, pa.Array] = {}
        reasons = _Reasons(k)  # (a number in the text past its column's range)
        if v6:
            _icmp_columns(decoded, none, words, ~every, every, words, reasons)
        else:
            _icmp_columns(decoded, words, none, every, ~every, words, reasons)
        decoded["error"] = reasons.joined()
        tables.append(
            {
                name: pc.cast(decoded[name], _ARROW_TYPES.get(name, pa.large_string()))
                for name in (*_ICMP_FROM_TEXT, "error")
            }
        )
        indices.append(
            pc.add(encoded.indices, base, memory_pool=_FRAME_POOL) if base else encoded.indices
        )
        base += k
        del encoded, decoded
    if not tables:
        return
    index = indices[0] if len(indices) == 1 else pc.coalesce(*indices, memory_pool=_FRAME_POOL)
    del indices
    for name in (*_ICMP_FROM_TEXT, "error"):
        values = [table[name] for table in tables]
        if all(v.null_count == len(v) for v in values):
            continue  # (the quoted datagram's -v fields, on a log without -v)
        table = values[0] if len(values) == 1 else pa.concat_arrays(values)
        columns.scanned[name] = pc.take(table, index, memory_pool=_FRAME_POOL)


_BANNER = re.compile(g.BANNER_FIELDS)
_COUNTS = re.compile(g.PACKET_COUNTS)


def _count(digits: str | None) -> int | None:
    """A number of the banner or the summary, or None when absent or past 2**63 - 1 (a
    line of thousands of digits is text, not a count: int() refuses it)."""
    if digits is None or len(digits.lstrip("0")) > 19 or int(digits[-20:]) >= 2**63:
        return None
    return int(digits)


def _capture_meta(lines: _Lines, kinds: _Kinds, name: str) -> dict[str, Any]:
    meta_idx = np.flatnonzero(kinds.meta)
    banner = []
    capture: dict[str, Any] = {"source": name, "lines": len(lines.numbers)}
    for i, text in zip(meta_idx, lines.take(meta_idx).to_pylist(), strict=True):
        banner.append({"line": int(lines.numbers[i]), "text": text})
        m = _BANNER.match(text)
        if m:
            if m.group("file"):
                capture["file"] = m.group("file")
            if m.group("iface"):
                capture["interface"] = m.group("iface")
            capture["link_type"] = m.group("lt")
            if _count(m.group("snap")) is not None:
                capture["snapshot_length"] = _count(m.group("snap"))
        c = _COUNTS.match(text)
        if c and _count(c.group("n")) is not None:
            key = "packets_" + c.group("what").replace("by ", "").replace(" ", "_")
            capture[key] = _count(c.group("n"))
    capture["banner"] = banner
    capture["blank_lines"] = lines.numbers[kinds.blank].tolist()
    return capture
