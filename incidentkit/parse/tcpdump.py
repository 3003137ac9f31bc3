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
        summary and blank lines go to ``df.attrs["capture"]``.

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


def _to_int(arr: pa.Array, maximum: int) -> pa.Array:
    """Digit strings to int64; null where absent, too long, or above ``maximum``."""
    lengths = pc.utf8_length(arr)
    ok = pc.and_kleene(pc.less_equal(lengths, 10), pc.greater(lengths, 0))
    safe = pc.if_else(ok, arr, pa.scalar(None, arr.type))
    values = pc.cast(safe, pa.int64())
    return pc.if_else(pc.less_equal(values, maximum), values, pa.scalar(None, pa.int64()))


def _ports(tokens: pa.Array) -> pa.Array:
    """Port tokens ('53', 'domain') to numbers, looking each distinct token up once."""
    encoded = pc.dictionary_encode(tokens)
    if isinstance(encoded, pa.ChunkedArray):
        encoded = encoded.combine_chunks()
    lookup = [port_number(tok) for tok in encoded.dictionary.to_pylist()]
    table = pa.array(lookup, pa.int64())
    return pc.take(table, encoded.indices)


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


def _time_parts(h: dict[str, pa.Array]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The header groups as (kind, value, negative) per row.

    ``value`` is nanoseconds: since midnight for clock times and deltas, since the epoch
    for dated and epoch times.
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

    def ints(name: str) -> np.ndarray:
        return np.asarray(pc.fill_null(_to_int(h[name], 10**12), 0).to_numpy(), dtype=np.int64)

    has_hms = _np(pc.is_valid(h["hh"])) & good_frac
    has_epoch = _np(pc.is_valid(h["epoch"])) & good_frac
    has_date = _np(pc.is_valid(h["date"])) & has_hms
    signed = _np(pc.is_valid(h["sign"])) & has_hms
    tod = (ints("hh") * 3600 + ints("mm") * 60 + ints("ss")) * _NS + frac_ns
    kind = np.full(n, _T_NONE, dtype=np.int8)
    value = np.zeros(n, dtype=np.int64)
    kind[has_epoch] = _T_EPOCH
    value[has_epoch] = ints("epoch")[has_epoch] * _NS + frac_ns[has_epoch]
    if has_date.any():
        days = pd.to_datetime(
            pd.Series(h["date"].to_pandas())[has_date], format="%Y-%m-%d", errors="coerce"
        )
        day_ns = days.to_numpy(dtype="datetime64[ns]").astype(np.int64)
        ok = ~np.isnat(days.to_numpy(dtype="datetime64[ns]"))
        idx = np.flatnonzero(has_date)
        kind[idx] = np.where(ok, _T_DATED, _T_BAD_DATE)
        value[idx[ok]] = day_ns[ok] + tod[idx[ok]]
    rest = has_hms & ~has_date
    kind[rest & ~signed] = _T_CLOCK
    kind[rest & signed] = _T_DELTA
    value[rest] = tod[rest]
    negative = _np(pc.equal(pc.fill_null(h["sign"], ""), "-")) & rest
    return kind, value, negative


#: how far a -ttttt log may run backwards, as a capture reorders packets of several queues
_JITTER_NS: Final = 1_000_000


def _since_first(deltas: np.ndarray) -> bool:
    """Whether delta times read as offsets from the first packet (-ttttt): they never
    run backwards, or only by reordering jitter, at most one step in a hundred."""
    steps = np.diff(deltas)
    back = steps[steps < 0]
    return len(back) * 100 <= len(steps) and bool((back > -_JITTER_NS).all())


def _times(
    kind: np.ndarray,
    value: np.ndarray,
    negative: np.ndarray,
    date: str | _dt.date | pd.Timestamp | None,
    time_format: TimeFormat,
) -> tuple[np.ndarray, _TimeInfo]:
    """Packet times (datetime64[ns]) from :func:`_time_parts`, dated and anchored."""
    n = len(kind)
    info = _TimeInfo()
    out = np.full(n, np.iinfo(np.int64).min, dtype=np.int64)  # NaT
    epoch = kind == _T_EPOCH
    if epoch.any():
        out[epoch] = value[epoch]
        info.style = "-tt"
    dated = (kind == _T_DATED) | (kind == _T_BAD_DATE)
    if dated.any():
        good = kind == _T_DATED
        out[good] = value[good]
        info.style = "-tttt"
    rest = (kind == _T_CLOCK) | (kind == _T_DELTA)
    if rest.any():
        anchor_date = DEFAULT_DATE if date is None else pd.Timestamp(date).date()
        info.date = anchor_date.isoformat()
        info.date_assumed = date is None
        anchor = pd.Timestamp(anchor_date).value
        every = bool(rest.all())  # (the usual case: no index, no copies)
        idx: Any = slice(None) if every else np.flatnonzero(rest)
        values = value[idx]
        if (kind[idx] == _T_DELTA).any():
            neg = negative[idx]
            deltas = np.where(neg, -values, values)
            mode = time_format
            if mode == "auto":
                mode = "-ttt" if neg.any() or not _since_first(deltas) else "-ttttt"
            out[idx] = anchor + (np.cumsum(deltas) if mode == "-ttt" else deltas)
            info.style = mode
        else:
            back = values[1:] < values[:-1] - _DAY_NS // 2  # past midnight
            info.rollovers = int(back.sum())
            if every:
                np.add(values, anchor, out=out)
            else:
                out[idx] = values + anchor
            if info.rollovers:
                days_passed = np.concatenate([[0], np.cumsum(back)])
                out[idx] += days_passed * _DAY_NS
            info.style = "default" if info.style == "none" else info.style
    times = out.view("datetime64[ns]")
    return times, info


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
    h = _extract(rec, g.HEADER)
    cols.update({f"_h_{k}": v for k, v in h.items()})
    cols["packet"] = _to_int(h["pkt"], 2**32 - 1)

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
    srcs = _split_address(addr["src"], ports_ok)
    dsts = _split_address(addr["dst"], ports_ok)
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
    cols["ttl"] = _to_int(iph["ttl"], 255)
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
    cols["tcp_ack"] = _to_int(tcp["ack"], 2**32 - 1)
    cols["tcp_win"] = _to_int(tcp["win"], 2**32 - 1)

    # ---- lengths: the last "length N" or "(N)" the first address line reports
    last = _extract(cols["info"], g.LAST_LENGTH)
    udp = _subset(core, is_udp, g.UDP)
    length = _to_int(
        _first(
            tcp["length"],
            tcp["qlength"],
            udp["length"],
            udp["qlength"],
            last["length"],
            last["dnslen"],
            arp["length"],
        ),
        2**32 - 1,
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

    cols["dns_id"] = dns_only(_to_int(dns["id"], 65535))
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
    cols["dns_ancount"] = pc.if_else(
        pa.array(is_resp), _to_int(dns["an"], 65535), pa.scalar(None, pa.int64())
    )
    answers = _nz(pc.utf8_trim_whitespace(pc.fill_null(dns["answers"], "")))
    cols["dns_answers"] = pc.if_else(pa.array(is_resp), answers, pa.scalar(None, answers.type))
    dlen = _to_int(dns["dlen"], 2**32 - 1)
    length = pc.if_else(pa.array(is_dns & is_udp), _first(dlen, length), length)

    # ---- ICMP and ICMPv6
    icmp = _subset(core, is_icmp, g.ICMP)
    icmp6 = _subset(core, is_icmp6, g.ICMP6)
    icmp_text = _first(icmp["text"], icmp["bare"])
    length = pc.if_else(
        pa.array(is_icmp), _first(_to_int(icmp["length"], 2**32 - 1), length), length
    )
    _icmp_columns(cols, icmp_text, icmp6["text"], is_icmp, is_icmp6, rec)
    cols["length"] = length
    return cols


def _split_address(tokens: pa.Array, ported: np.ndarray) -> tuple[pa.Array, pa.Array]:
    num = _extract(tokens, g.NUMERIC_ADDRESS)
    is_num = _np(pc.is_valid(num["host"]))
    named = _np(pc.is_valid(tokens)) & ~is_num
    host = num["host"]
    port_tok = pc.if_else(pa.array(ported), num["port"], pa.scalar(None, pa.large_string()))
    if named.any():
        nm = _subset(tokens, named & ported, g.NAMED_ADDRESS)
        nm_port = _ports(nm["port"])
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
    return host, _ports(port_tok)


def _icmp_columns(
    cols: dict[str, pa.Array],
    text4: pa.Array,
    text6: pa.Array,
    is_icmp: np.ndarray,
    is_icmp6: np.ndarray,
    rec: pa.Array,
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
    type_num = re.compile(r"type-#(\d+)")
    for i in np.flatnonzero(is_icmp & (itype < 0)):
        m = type_num.search(str(reason[i]))
        if m:
            itype[i] = int(m.group(1))
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
    cols["icmp_orig_dport"] = _ports(_first(q4["port"], q4["pport"], q6["port"]))

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
    qsrc, qsport = _split_address(qsrc_tok, ported)
    qdst, qdport = _split_address(qdst_tok, ported)
    cols["icmp_orig_src"] = qsrc
    cols["icmp_orig_sport"] = qsport
    cols["icmp_orig_dst"] = _first(cols["icmp_orig_dst"], qdst)
    cols["icmp_orig_dport"] = _first(cols["icmp_orig_dport"], qdport)
    qp = pc.if_else(pa.array(has_q), qproto, pa.scalar(None, qproto.type))
    cols["icmp_orig_proto"] = _first(cols["icmp_orig_proto"], _nz(qp))
    qinfo = _first(quoted["info"], q6v["info"])
    qdns = _subset(pc.fill_null(qinfo, ""), ported, g.DNS_TEXT)["dns"]
    qid = _subset(pc.fill_null(qdns, ""), _np(pc.is_valid(qdns)), g.DNS)
    is_qdns = _np(pc.is_valid(qid["qtype"])) | _np(pc.is_valid(qid["an"]))
    qdid = _to_int(qid["id"], 65535)
    cols["icmp_orig_dns_id"] = pc.if_else(pa.array(is_qdns), qdid, pa.scalar(None, pa.int64()))


# --------------------------------------------------------------------------- assembly
_ARROW_TYPES: dict[str, pa.DataType] = {
    "packet": pa.uint32(),
    "sport": pa.uint16(),
    "dport": pa.uint16(),
    "length": pa.uint32(),
    "ttl": pa.uint8(),
    "dns_id": pa.uint16(),
    "dns_ancount": pa.uint16(),
    "icmp_type": pa.uint8(),
    "icmp_code": pa.uint8(),
    "icmp_orig_sport": pa.uint16(),
    "icmp_orig_dport": pa.uint16(),
    "icmp_orig_dns_id": pa.uint16(),
    "tcp_ack": pa.uint32(),
    "tcp_win": pa.uint32(),
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
        cols["error"] = pa.array(error, pa.large_string())
        header = {k[3:]: cols.pop(k) for k in list(cols) if k.startswith("_h_")}
        columns.add_slow(cols, _time_parts(header))
        del texts, cols
    if scan is not None:
        if fast.any():
            _fast_fields(columns, scan)
        del scan
    del rows, fast, slow, is_record, error  # (the frame is made from ``columns`` alone)
    times, tinfo = _times(*columns.time_parts(), date, time_format)
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
    if len(unparsed_idx):
        warnings.warn(
            ParseWarning(
                f"{name}: {len(unparsed_idx)} of {input_lines} lines are not tcpdump "
                f"records; kept as 'unparsed' rows (first at line {first})"
            ),
            stacklevel=3,
        )
    return df


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
        if v6:
            _icmp_columns(decoded, none, words, ~every, every, words)
        else:
            _icmp_columns(decoded, words, none, every, ~every, words)
        tables.append(
            {
                name: pc.cast(decoded[name], _ARROW_TYPES.get(name, pa.large_string()))
                for name in _ICMP_FROM_TEXT
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
    for name in _ICMP_FROM_TEXT:
        values = [table[name] for table in tables]
        if all(v.null_count == len(v) for v in values):
            continue  # (the quoted datagram's -v fields, on a log without -v)
        table = values[0] if len(values) == 1 else pa.concat_arrays(values)
        columns.scanned[name] = pc.take(table, index, memory_pool=_FRAME_POOL)


_BANNER = re.compile(g.BANNER_FIELDS)
_COUNTS = re.compile(g.PACKET_COUNTS)


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
            if m.group("snap"):
                capture["snapshot_length"] = int(m.group("snap"))
        c = _COUNTS.match(text)
        if c:
            key = "packets_" + c.group("what").replace("by ", "").replace(" ", "_")
            capture[key] = int(c.group("n"))
    capture["banner"] = banner
    capture["blank_lines"] = lines.numbers[kinds.blank].tolist()
    return capture
