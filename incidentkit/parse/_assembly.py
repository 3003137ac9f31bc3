"""From bytes to the frame: lines, kinds, records, fields (the C scanner's and the
patterns'), times, and the capture's metadata."""

from __future__ import annotations

import contextlib
import datetime as _dt
import re
import warnings
from collections.abc import Callable
from typing import Any, Literal

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from .. import schema
from ..errors import ParseError, ParseWarning
from . import _cpath
from . import _grammar as g
from ._columns import _Columns
from ._fields import _fields
from ._lines import (
    _classify,
    _Kinds,
    _line_masks,
    _Lines,
    _normalise,
    _Records,
    _records,
    _split_embedded,
)
from ._times import TimeFormat, _time_parts, _times
from ._values import _first

Engine = Literal["auto", "c", "python"]


def _raw_column(data: bytearray, recs: _Records) -> pa.Array:
    """Every row's text, without its last line end: the ``raw`` column.

    With the C scanner built, the texts are packed to the front of the log's own buffer
    (which the reader owns and no longer needs), so the column costs no copy of the log;
    otherwise they are gathered into new memory.
    """
    n = len(recs.rows)
    if _cpath._fastscan is not None:
        offsets = _cpath._fastscan.compact(data, recs.starts, recs.ends)
        with contextlib.suppress(BufferError):  # (a view of it still open: keep the tail)
            del data[int(np.frombuffer(offsets, np.int64)[-1]) :]
        return pa.LargeStringArray.from_buffers(n, pa.py_buffer(offsets), pa.py_buffer(data))
    bounds = np.empty(2 * n, dtype=np.int64)  # the rows, and the gaps between them
    bounds[0::2], bounds[1::2] = recs.starts, recs.ends
    pieces = pa.LargeStringArray.from_buffers(2 * n - 1, pa.py_buffer(bounds), pa.py_buffer(data))
    segments = pc.take(pieces, pa.array(np.arange(0, 2 * n - 1, 2, dtype=np.int64)))
    return pc.utf8_rtrim(segments, characters="\n")


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
    if engine == "c" and _cpath._fastscan is None:
        raise ImportError(
            "engine='c': the C reader of incidentkit is not built (it needs a C compiler "
            "when the package is installed); engine='python' reads the same log"
        )
    if date is not None:
        try:
            pd.Timestamp(date)
        except (ValueError, TypeError) as exc:
            raise ValueError(f"date={date!r} is not a date: {exc}") from None
    use_c = engine != "python" and _cpath._fastscan is not None
    loaded, name = load()
    loaded, non_utf8 = _normalise(loaded)
    # the reader's own buffer: the ``raw`` column is made in it (see _raw_column)
    data = loaded if isinstance(loaded, bytearray) else bytearray(loaded)
    del loaded
    scan = _cpath._scan(data) if use_c else None
    lines = _cpath._line_array(data, scan)
    input_lines = len(lines)
    codes = None if scan is None else scan.code
    masks = _line_masks(lines, codes)
    maybe_two = np.flatnonzero(masks["start"] & (codes == 0 if codes is not None else True))
    split = _split_embedded(lines, maybe_two)
    if split is not None:  # the lines changed: scan them again
        scan = _cpath._scan(split.data) if use_c else None
        lines = _cpath._line_array(split.data, scan, split.numbers)
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
            _cpath._fast_fields(columns, scan)
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
        warnings.warn(unparsed_warning(name, len(unparsed_idx), input_lines, first), stacklevel=3)
    return df


def unparsed_warning(name: str, count: int, lines: int, first: int) -> ParseWarning:
    """The warning for ``count`` of ``lines`` lines that are no records, ``first`` the
    first of them (every reader of text says it in these words)."""
    return ParseWarning(
        f"{name}: {count} of {lines} lines are not tcpdump records; kept as 'unparsed' rows "
        f"(first at line {first})"
    )


def out_of_range_warning(name: str, count: int, records: int, first: int) -> ParseWarning:
    """The warning for ``count`` of ``records`` records with a value left empty."""
    return ParseWarning(
        f"{name}: {count} of {records} records hold a value their column cannot (out of "
        f"range, no such date, or a time stamp marked invalid); it is left empty and 'error' "
        f"says why (first at line {first})"
    )


def _warn_out_of_range(df: pd.DataFrame, name: str, unparsed: int) -> None:
    """Say how many records have a value left empty, with the reason in ``error``
    (every unparsed row has a reason too: ``unparsed`` is how many there are)."""
    count = int(df["error"].count()) - unparsed
    if count <= 0:
        return
    said = df["error"].notna().to_numpy() & (df["proto"] != "unparsed").to_numpy()
    first = int(df["line"].to_numpy()[said][0])
    warnings.warn(out_of_range_warning(name, count, len(df), first), stacklevel=4)


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
