"""The same API on Dask: a site's sensors, and captures too big for one machine.

:func:`read` makes a :class:`dask.dataframe.DataFrame` of the schema's columns and a
``source`` column from many text logs and capture files: one partition per file, and a
large plain-text log in blocks that each start on a record. :func:`dns_transactions` and
:func:`diagnose` give what :func:`incidentkit.dns_transactions` and
:func:`incidentkit.diagnose` give for all the inputs read as one frame
(``incidentkit.read(paths)``: rows in the order given, records numbered on across the
inputs, ``line`` and ``packet`` within each input).

How the parts are put together
------------------------------
Each partition is read on a worker, numbered from 1 as if it were alone, and reduced
there: to its evidence (:mod:`incidentkit.evidence`) for a diagnosis, to its
transactions for :func:`dns_transactions`. Only that crosses to the client, which puts
each part in its place (its records after those of the parts before it) and adds the
parts up. The inputs form *streams*: a block continues the block before it in its file,
and a file continues the input before it when it starts after that one ends (a capture
rotated into files). Within a stream the parts add up at the seam, so a query in one
part and its answer or ICMP error in the next still pair; an input that overlaps the one
before it in time (another sensor) starts a stream of its own, judged with the others
but never paired with them.

Blocks are cut only in text logs whose times carry the date (``-tttt``, ``-tt``): a
time of day or a delta needs the blocks before it to be placed. Logs of other formats,
gzip files and captures are one partition each, as is every input under ``strict=True``
(its error must name the input's own line).
"""

from __future__ import annotations

import dataclasses
import itertools
import logging
import operator
import os
import re
import warnings
from collections.abc import Sequence
from glob import glob
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

import numpy as np
import pandas as pd

from . import schema
from .diagnose import Diagnosis, _diagnose, _thresholds, evidence_settings
from .dns import WINDOW, _ns_array, _transactions
from .errors import InputError, ParseWarning
from .evidence import _NEEDED, Evidence, Settings, evidence
from .parse import stream as _stream
from .parse._assembly import _parse_bytes, out_of_range_warning, unparsed_warning
from .parse._pcapfile import capture_kind
from .parse._source import refuse_binary
from .parse.many import input_names, with_source
from .parse.pcap import _head
from .parse.pcap import read as _read_one
from .parse.tcpdump import parse_tcpdump
from .sources import seen_by
from .streams import Span, continues, streams

if TYPE_CHECKING:
    import dask.dataframe as dd

__all__ = ["diagnose", "dns_transactions", "local_cluster", "plan", "read", "rows"]

#: The default size of a text log's blocks.
BLOCKSIZE: Final = "64MiB"
_WINDOW: Final = 1 << 20  # bytes read at a time while looking for a record to cut at
_DATED: Final = ("-tttt", "-tt")
_SIZE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([KMG]i?B?|B)?\s*$", re.I)
_UNITS: Final = {"": 1, "b": 1, "k": 1e3, "m": 1e6, "g": 1e9, "ki": 1024, "mi": 1024**2}


def _modules() -> tuple[Any, Any]:
    try:
        import dask
        import dask.dataframe as dd
    except ImportError:  # pragma: no cover - the extra is part of the test environment
        raise ImportError("incidentkit.dask needs Dask: pip install 'incidentkit[dask]'") from None
    return dask, dd


def local_cluster(n_workers: int | None = None) -> Any:
    """A ``dask.distributed.LocalCluster`` on 127.0.0.1: ``n_workers`` worker processes
    (default one per core) of one thread each, without a dashboard, logging errors only.
    Close it (or use it in a ``with``) to stop its processes."""
    from distributed import LocalCluster

    return LocalCluster(
        n_workers=n_workers or os.cpu_count() or 1,
        threads_per_worker=1,
        processes=True,
        host="127.0.0.1",
        dashboard_address=None,
        silence_logs=logging.ERROR,
    )


# --------------------------------------------------------------------------- the plan
@dataclasses.dataclass(frozen=True)
class Part:
    """One partition: a whole input, or a byte range of a text log (``stop`` given)."""

    path: str
    index: int  # the input's place among the inputs
    block: int = 0
    start: int = 0
    stop: int | None = None


def _bytes(size: int | str | None) -> int | None:
    if size is None or isinstance(size, int):
        if isinstance(size, int) and size <= 0:
            raise ValueError(f"blocksize must be positive, not {size}")
        return size
    m = _SIZE.match(size)
    if not m:
        raise ValueError(f"blocksize={size!r} is not a size such as '64MiB'")
    unit = (m.group(2) or "").lower().rstrip("b")
    if unit not in _UNITS:
        raise ValueError(f"blocksize={size!r}: unknown unit")
    return max(1, int(float(m.group(1)) * _UNITS[unit]))


def _paths(paths: str | os.PathLike[str] | Sequence[str | os.PathLike[str]]) -> list[str]:
    """The inputs: one path, a glob pattern, or a list of them, in the order given."""
    if isinstance(paths, (str, os.PathLike)):
        paths = [paths]
    out: list[str] = []
    for p in paths:
        name = os.fspath(p)
        if any(ch in name for ch in "*?[") and not Path(name).exists():
            found = sorted(glob(name))
            if not found:
                raise InputError(f"{name}: no file matches")
            out.extend(found)
        else:
            out.append(name)
    return input_names(out)


def plan(
    paths: str | os.PathLike[str] | Sequence[str | os.PathLike[str]],
    blocksize: int | str | None = BLOCKSIZE,
    *,
    strict: bool = False,
) -> list[Part]:
    """The partitions :func:`read` makes of ``paths``, in order. Every input is opened
    here, so a missing or unreadable one is an :class:`~incidentkit.InputError` before
    anything is computed."""
    size_limit = _bytes(blocksize)
    names = _paths(paths)
    parts: list[Part] = []
    for index, name in enumerate(names):
        path = Path(name)
        if not path.exists():
            raise InputError(f"{name}: no such file")
        if path.is_dir():
            raise InputError(f"{name}: is a directory, not a capture or a log")
        try:
            with open(path, "rb") as handle:
                gz = handle.read(2) == b"\x1f\x8b"
            head, _ = _head(name)
        except OSError as exc:
            raise InputError(f"{name}: cannot be read ({exc.strerror})") from None
        size = path.stat().st_size
        whole = (
            strict
            or gz
            or capture_kind(head) is not None
            or size_limit is None
            or size <= size_limit
        )
        cuts = [] if whole else _cuts(path, size, size_limit or size)
        if len(cuts) < 3:
            parts.append(Part(name, index))
            continue
        for block, (a, b) in enumerate(itertools.pairwise(cuts)):
            parts.append(Part(name, index, block, a, b))
    return parts


def _cuts(path: Path, size: int, blocksize: int) -> list[int]:
    """Offsets where the blocks of a dated text log start (and its end), each at a line
    that opens a record; [] for a log whose times need the lines before them."""
    with open(path, "rb") as handle:
        head = handle.read(1 << 16)
        whole_lines = head[: head.rfind(b"\n") + 1]
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ParseWarning)
            try:
                fmt = parse_tcpdump(whole_lines).attrs["capture"].get("time_format")
            except InputError:
                return []  # (binary data: the reader says so when the file is read)
        if fmt not in _DATED:
            return []
        stamped = any(_stream._STAMPED.match(line) for line in whole_lines.split(b"\n"))
        cuts = [0]
        target = blocksize
        while target < size:
            at = _record_start(handle, target, stamped)
            if at is None:
                break
            cuts.append(at)
            target = at + blocksize
    cuts.append(size)
    return cuts


def _record_start(handle: Any, target: int, stamped: bool) -> int | None:
    """The offset of the first line at or after ``target`` that opens a record."""
    base = max(0, target - (1 << 16))  # (a line before it, for a tunnel's header)
    handle.seek(base)
    buf = bytearray(handle.read(target - base + _WINDOW))
    at = buf.find(b"\n", target - base - 1) + 1
    while at > 0:
        end = buf.find(b"\n", at)
        if end < 0:
            more = handle.read(_WINDOW)
            if not more:
                return None  # (the last line: nothing after it to cut)
            buf += more
            continue
        if _stream._opens_record(buf, at, stamped):
            return base + at
        at = end + 1
    return None


# --------------------------------------------------------------------------- reading
def _read_part(part: Part, names: list[str], kwargs: dict[str, Any]) -> pd.DataFrame:
    """The part's frame, its records and lines numbered from 1 as if it were alone; its
    ``attrs["capture"]`` holds the lines it read."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ParseWarning)  # (counted per input by the caller)
        if part.stop is None:
            df = _read_one(part.path, **kwargs)
        else:
            with open(part.path, "rb") as handle:
                handle.seek(part.start)
                data = bytearray(handle.read(part.stop - part.start))
            refuse_binary(data, part.path, part.start)
            df = _parse_bytes(
                lambda: (data, part.path),
                date=kwargs.get("date"),
                tz=kwargs.get("tz"),
                strict=False,
                time_format=kwargs.get("time_format", "auto"),
                engine=kwargs.get("engine", "auto"),
            )
    capture = df.attrs.get("capture", {})
    df.attrs = {"capture": {"lines": int(capture.get("lines") or 0)}}
    return with_source(df, part.index, names, 0)


@dataclasses.dataclass
class _Counts:
    rows: int
    lines: int
    unparsed: int = 0
    first_unparsed: int | None = None  # (its line within the part)
    out_of_range: int = 0
    first_out_of_range: int | None = None


def _counts(df: pd.DataFrame) -> _Counts:
    unparsed = (df["proto"] == "unparsed").to_numpy()
    wrong = df["error"].notna().to_numpy() & ~unparsed
    lines = df["line"].to_numpy(dtype="float64", na_value=np.nan)

    def first(rows: np.ndarray) -> int | None:
        """The line of the first of ``rows`` (None: none, or a capture's, of no line)."""
        at = lines[rows][:1]
        return int(at[0]) if len(at) and not np.isnan(at[0]) else None

    return _Counts(
        len(df),
        int(df.attrs.get("capture", {}).get("lines", 0)),
        int(unparsed.sum()),
        first(unparsed),
        int(wrong.sum()),
        first(wrong),
    )


def _offsets(parts: list[Part], counts: list[_Counts]) -> list[tuple[int, int]]:
    """Each part's (records, lines) before it: records across all inputs, lines within
    its own input."""
    out, records, lines = [], 0, 0
    for i, (part, c) in enumerate(zip(parts, counts, strict=True)):
        if i and part.index != parts[i - 1].index:
            lines = 0
        out.append((records, lines))
        records += c.rows
        lines += c.lines
    return out


def _numbered(df: pd.DataFrame, records: int, lines: int) -> pd.DataFrame:
    if records:
        df["record"] += records
    if lines:
        df["line"] += lines
    df.attrs = {}
    return df


def _step(before: tuple[int, int], c: _Counts, same_input: bool) -> tuple[int, int]:
    """The offsets of the part after one with these counts."""
    return before[0] + c.rows, before[1] + c.lines if same_input else 0


def _meta(names: list[str], tz: str | None) -> pd.DataFrame:
    meta = schema.empty_frame()
    if tz is not None:
        meta["time"] = meta["time"].dt.tz_localize(tz)
    meta[schema.SOURCE] = pd.Categorical([], dtype=schema.source_dtype(names))
    return meta


def read(
    paths: str | os.PathLike[str] | Sequence[str | os.PathLike[str]],
    *,
    blocksize: int | str | None = BLOCKSIZE,
    **reader_kwargs: Any,
) -> dd.DataFrame:
    """Read text logs (plain or gzip) and pcap/pcapng files into one Dask frame.

    Parameters
    ----------
    paths : path, glob pattern, or a list of them
        The inputs, in order (a pattern's files sorted by name).
    blocksize : int or str, default "64MiB"
        A plain-text log larger than this is read in blocks of about this size, each
        starting on a record (never inside one), when its times carry the date. None
        reads every input as one partition.
    **reader_kwargs
        As for :func:`incidentkit.read` (``date``, ``tz``, ``strict``, ``time_format``,
        ``engine``).

    Returns
    -------
    dask.dataframe.DataFrame
        The schema's columns and ``source`` (categorical: the inputs in order); records
        numbered on across the inputs, lines within each. The frame is what
        ``incidentkit.read(paths)`` gives, in partitions.

    Raises
    ------
    InputError
        Here, for an input that is missing, a directory or unreadable; when computed,
        for an input no reader can read (naming it).
    """
    dask, _ = _modules()
    parts = plan(paths, blocksize, strict=bool(reader_kwargs.get("strict")))
    names = _names(parts)
    frames = [dask.delayed(_read_part)(p, names, reader_kwargs) for p in parts]
    counts = [dask.delayed(_counts)(f) for f in frames]
    offset: Any = (0, 0)
    numbered = []
    for i, (part, frame) in enumerate(zip(parts, frames, strict=True)):
        numbered.append(dask.delayed(_numbered)(frame, offset[0], offset[1]))
        if i + 1 < len(parts):
            same = parts[i + 1].index == part.index
            offset = dask.delayed(_step)(offset, counts[i], same)
    return _from_delayed(numbered, _meta(names, reader_kwargs.get("tz")))


def rows(
    paths: str | os.PathLike[str] | Sequence[str | os.PathLike[str]],
    records: Sequence[int],
    *,
    blocksize: int | str | None = BLOCKSIZE,
    **reader_kwargs: Any,
) -> pd.DataFrame:
    """The rows of :func:`read` with these record numbers (a diagnosis's evidence), in
    record order: each worker reads its part and sends back only those rows."""
    wanted = sorted({int(r) for r in records})
    frame = read(paths, blocksize=blocksize, **reader_kwargs)
    found = frame[frame["record"].isin(wanted)].compute()
    return found.sort_values("record").reset_index(drop=True)


def _from_delayed(parts: list[Any], meta: pd.DataFrame) -> dd.DataFrame:
    """A Dask frame of these partitions with the dtypes they have (Dask would otherwise
    turn every text column, and the columns of lists, into its own string type)."""
    dask, dd = _modules()
    with dask.config.set({"dataframe.convert-string": False}):
        return dd.from_delayed(parts, meta=meta, verify_meta=False)


def _names(parts: list[Part]) -> list[str]:
    names: dict[int, str] = {}
    for p in parts:
        names.setdefault(p.index, p.path)
    return [names[i] for i in sorted(names)]


# --------------------------------------------------------------------------- evidence
@dataclasses.dataclass
class _PartEvidence:
    """What a worker keeps for one part: its evidence, the input it is of, its counts."""

    index: int
    evidence: Evidence
    counts: _Counts


def _part_evidence(
    part: Part, names: list[str], kwargs: dict[str, Any], settings: Settings
) -> _PartEvidence:
    df = _read_part(part, names, kwargs)
    return _PartEvidence(part.index, evidence(df, settings), _counts(df))


def _frame_evidence(df: pd.DataFrame, settings: Settings) -> _PartEvidence:
    """The evidence of a partition of :func:`read` (numbered already)."""
    return _PartEvidence(_input_of(df), evidence(df, settings), _counts(df))


def _input_of(df: pd.DataFrame) -> int:
    """The input a partition of :func:`read` is of (its first row's ``source``)."""
    return int(df[schema.SOURCE].cat.codes.iloc[0]) if schema.SOURCE in df and len(df) else 0


def _about(r: _PartEvidence) -> tuple[int, _Counts, pd.Timestamp | None, pd.Timestamp | None]:
    """The little the client needs of a part: its input, counts and time span."""
    return r.index, r.counts, r.evidence.start, r.evidence.end


def _placed_evidence(r: _PartEvidence, offset: tuple[int, int]) -> Evidence:
    return r.evidence.shifted(*offset)


def _warn(parts: list[Part], counts: list[_Counts], offsets: list[tuple[int, int]]) -> None:
    """One warning per input, as its reader gives when it reads the input alone."""
    by_input: dict[int, list[int]] = {}
    for i, part in enumerate(parts):
        by_input.setdefault(part.index, []).append(i)
    # (in the order reading an input alone gives them: out of range first)
    kinds = (
        ("out_of_range", "rows", out_of_range_warning),
        ("unparsed", "lines", unparsed_warning),
    )
    for members in by_input.values():
        name = parts[members[0]].path
        for kind, of, warning in kinds:
            count = sum(getattr(counts[i], kind) for i in members)
            if count:
                at = next(i for i in members if getattr(counts[i], kind))
                first = (getattr(counts[at], f"first_{kind}") or 0) + offsets[at][1]
                total = sum(getattr(counts[i], of) for i in members)
                warnings.warn(warning(name, count, total, first), stacklevel=4)


def _tree(items: list[Any], dask: Any) -> Any:
    """The sum of ``items`` (delayed evidence, in time order) added pairwise, level by
    level, so the seams are counted on the workers, side by side."""
    while len(items) > 1:
        items = [
            dask.delayed(operator.add)(items[i], items[i + 1]) if i + 1 < len(items) else items[i]
            for i in range(0, len(items), 2)
        ]
    return items[0]


def _settle(ev: Evidence) -> Evidence:
    return ev.settled()


def _evidence_parts(
    data: Any, settings: Settings, blocksize: Any, kwargs: dict[str, Any]
) -> tuple[Evidence, list[str], dict[int, Evidence]]:
    """The settled evidence of all the inputs, their names, and (for several inputs) each
    input's own settled evidence."""
    dask, dd = _modules()
    parts: list[Part] | None
    if isinstance(data, dd.DataFrame):
        names = (
            data[schema.SOURCE].dtype.categories.tolist()
            if schema.SOURCE in data.columns
            else ["<frame>"]
        )
        parts = None
        tasks = [dask.delayed(_frame_evidence)(d, settings) for d in data.to_delayed()]
    else:
        parts = plan(data, blocksize, strict=bool(kwargs.get("strict")))
        names = _names(parts)
        tasks = [dask.delayed(_part_evidence)(p, names, kwargs, settings) for p in parts]
    # the evidence stays on the workers; the client learns each part's counts and span
    held = list(dask.persist(*tasks))
    about = dask.compute(*[dask.delayed(_about)(r) for r in held])
    inputs = [a[0] for a in about]
    spans: list[Span] = [(a[2], a[3]) for a in about]
    if parts is not None:
        counts = [a[1] for a in about]
        offsets = _offsets(parts, counts)
        _warn(parts, counts, offsets)
        held, spans = _in_time_order(held, spans, parts, names, kwargs, settings, dask)
    else:
        offsets = [(0, 0)] * len(held)
    placed = [dask.delayed(_placed_evidence)(r, o) for r, o in zip(held, offsets, strict=True)]
    # each input's blocks added up first (its own evidence, for what each input saw),
    # then the inputs of each stream
    sums: dict[int, Any] = {}
    for index in dict.fromkeys(inputs):
        sums[index] = _tree([placed[i] for i, k in enumerate(inputs) if k == index], dask)
    settled = {index: dask.delayed(_settle)(ev) for index, ev in sums.items()}
    totals = []
    for stream in streams(spans, inputs):
        members = list(dict.fromkeys(inputs[i] for i in stream))
        alone = len(members) == 1  # (a stream of one input: its own evidence)
        totals.append(
            settled[members[0]]
            if alone
            else dask.delayed(_settle)(_tree([sums[k] for k in members], dask))
        )
    own = settled if len(sums) > 1 else {}
    done_totals, done_own = dask.compute(totals, own)
    total = done_totals[0]
    for ev in done_totals[1:]:
        total = total + ev
    return total, names, done_own


def _in_time_order(
    held: list[Any],
    spans: list[Span],
    parts: list[Part],
    names: list[str],
    kwargs: dict[str, Any],
    settings: Settings,
    dask: Any,
) -> tuple[list[Any], list[Span]]:
    """The parts, with an input whose blocks are out of time order (a block starting
    before the block before it ends) read again as one part, in the place of its first
    block (its other blocks then hold nothing)."""
    redo: list[int] = []
    for i in range(1, len(parts)):
        (_, a_end), (b_start, _) = spans[i - 1], spans[i]
        same = parts[i].index == parts[i - 1].index
        late = same and a_end is not None and b_start is not None and b_start < a_end
        if late and parts[i].index not in redo:
            redo.append(parts[i].index)
    if not redo:
        return held, spans
    held, spans = list(held), list(spans)
    for index in redo:
        members = [i for i, p in enumerate(parts) if p.index == index]
        whole = dask.persist(
            dask.delayed(_part_evidence)(Part(names[index], index), names, kwargs, settings)
        )[0]
        _, _, start, end = dask.compute(dask.delayed(_about)(whole))[0]
        held[members[0]], spans[members[0]] = whole, (start, end)
        for i in members[1:]:
            held[i] = dask.delayed(_PartEvidence)(index, Evidence(settings), _Counts(0, 0))
            spans[i] = (None, None)
    return held, spans


def diagnose(
    data: str | os.PathLike[str] | Sequence[str | os.PathLike[str]] | dd.DataFrame,
    *,
    server: str | None = None,
    domain: str | None = None,
    expected_address: str | None = None,
    dos_threshold: float | None = None,
    blocksize: int | str | None = BLOCKSIZE,
    reader_kwargs: dict[str, Any] | None = None,
    **thresholds: Any,
) -> Diagnosis:
    """:func:`incidentkit.diagnose` of all the inputs read as one frame, computed from the
    evidence of each part: the packets stay on the workers.

    Parameters
    ----------
    data : paths, glob pattern, or a frame of :func:`read`
        The inputs (see :func:`read`).
    server, domain, expected_address, dos_threshold, **thresholds
        As for :func:`incidentkit.diagnose`.
    blocksize, reader_kwargs
        How the inputs are read (see :func:`read`).

    Returns
    -------
    Diagnosis
        The same as ``incidentkit.diagnose(incidentkit.read(paths))``; with two inputs or
        more, ``facts["sources"]`` says what each one saw of the server judged.

    Notes
    -----
    It computes with Dask's current scheduler: a ``dask.distributed.Client`` when one
    is open, else Dask's threads.
    """
    cfg = _thresholds(thresholds)
    settings = evidence_settings(domain, expected_address, **thresholds)
    total, names, own = _evidence_parts(data, settings, blocksize, reader_kwargs or {})
    d = _diagnose(total, cfg, server, dos_threshold)
    if len(own) > 1:
        d.facts["sources"] = seen_by({names[k]: own[k] for k in sorted(own)}, d, settings)
    return d


# --------------------------------------------------------------------------- transactions
_CONTEXT_COLUMNS: Final = _NEEDED


@dataclasses.dataclass
class _Edges:
    """A part's rows near its two ends, which its neighbours pair with, and its counts."""

    index: int
    head: pd.DataFrame
    tail: pd.DataFrame
    start: pd.Timestamp | None
    end: pd.Timestamp | None
    counts: _Counts


def _edges(df: pd.DataFrame, reach: pd.Timedelta) -> _Edges:
    rows = pd.DataFrame({c: df[c] for c in _CONTEXT_COLUMNS}, copy=False)
    t = schema.utc_naive(rows["time"])
    known = t.dropna()
    index = _input_of(df)
    if not len(known):
        empty = rows.iloc[:0]
        return _Edges(index, empty, empty, None, None, _counts(df))
    start, end = known.min(), known.max()
    head = rows.loc[(t < start + reach).fillna(False).to_numpy(dtype=bool)]
    tail = rows.loc[(t >= end - reach).fillna(False).to_numpy(dtype=bool)]
    return _Edges(index, head, tail, start, end, _counts(df))


def _joins(a: _Edges | None, b: _Edges | None) -> bool:
    """Whether part ``b`` continues the stream of part ``a`` (the rule of
    :func:`incidentkit.streams.streams`)."""
    if a is None or b is None:
        return False
    return continues(a.index == b.index, None if a.start is None else a.end, b.start)


def _shift(rows: pd.DataFrame, offset: tuple[int, int]) -> pd.DataFrame:
    return rows.assign(record=rows["record"] + offset[0], line=rows["line"] + offset[1])


def _placed(e: _Edges, offset: tuple[int, int]) -> _Edges:
    """The part's edges with its records and lines numbered as in the whole data."""
    return dataclasses.replace(e, head=_shift(e.head, offset), tail=_shift(e.tail, offset))


def _within(rows: pd.DataFrame, lo: pd.Timestamp | None, hi: pd.Timestamp | None) -> pd.DataFrame:
    t = schema.utc_naive(rows["time"])
    keep = np.ones(len(rows), dtype=bool)
    if lo is not None:
        keep &= (t >= lo).to_numpy(dtype=bool, na_value=False)
    if hi is not None:
        keep &= (t < hi).to_numpy(dtype=bool, na_value=False)
    return rows.loc[keep]


def _before(
    prev: _Edges | None, earlier: pd.DataFrame | None, me: _Edges, reach: pd.Timedelta
) -> pd.DataFrame:
    """The rows of the parts before ``me`` in its stream within ``reach`` of its start
    (``earlier``: those the part before it had)."""
    empty = me.tail.iloc[:0]
    if prev is None or not _joins(prev, me):
        return empty
    rows = prev.tail if earlier is None or not len(earlier) else pd.concat([earlier, prev.tail])
    return _within(rows, None if me.start is None else me.start - reach, None)


def _after(
    nxt: _Edges | None, later: pd.DataFrame | None, me: _Edges, reach: pd.Timedelta
) -> pd.DataFrame:
    """The rows of the parts after ``me`` in its stream within ``reach`` of its end."""
    empty = me.head.iloc[:0]
    if nxt is None or not _joins(me, nxt):
        return empty
    rows = nxt.head if later is None or not len(later) else pd.concat([nxt.head, later])
    return _within(rows, None, None if me.end is None else me.end + reach)


def _part_transactions(
    df: pd.DataFrame,
    before: pd.DataFrame,
    after: pd.DataFrame,
    offset: tuple[int, int],
    windows: tuple[pd.Timedelta, pd.Timedelta],
) -> pd.DataFrame:
    """The transactions of the queries of one part, paired with its own rows and those
    of the parts around it in its stream, within reach of its ends."""
    rows = _shift(pd.DataFrame({c: df[c] for c in _CONTEXT_COLUMNS}, copy=False), offset)
    pieces = [p for p in (before, rows, after) if len(p)] or [rows]
    context = pd.concat(pieces, ignore_index=True) if len(pieces) > 1 else pieces[0]
    retry, reply = windows
    tx = _transactions(context, retry_window=retry, reply_window=reply, lists=True)
    if not len(rows):
        return tx.iloc[:0]
    own = rows["record"].to_numpy()
    q = tx["query_record"].to_numpy()
    return tx.loc[(q >= own.min()) & (q <= own.max())].reset_index(drop=True)


@dataclasses.dataclass
class _Carry:
    """The questions still open at the end of the parts so far: per question key (a
    64-bit hash of client, server, name and type) its last query's time, question and
    attempt numbers; and how many questions there were."""

    keys: np.ndarray
    ns: np.ndarray
    nat: np.ndarray
    question: np.ndarray
    attempt: np.ndarray
    questions: int = 0
    latest: int | None = None  # the latest time seen (ns)


def _no_carry() -> _Carry:
    z = np.zeros(0, dtype=np.int64)
    return _Carry(np.zeros(0, dtype=np.uint64), z, np.zeros(0, dtype=bool), z, z)


def _numbering(
    tx: pd.DataFrame, carry: _Carry, retry: pd.Timedelta, joins: bool = True
) -> tuple[pd.DataFrame, _Carry]:
    """``tx`` with question and attempt numbers as the whole data's numbering gives them
    (:func:`incidentkit.dns._attempts`: one question is the same client, server, name and
    type, each query within ``retry`` of the one before; questions numbered in the order
    their first query was sent), from the questions the parts before left open (none
    when the part starts a stream of its own: see :func:`incidentkit.streams.streams`)."""
    if not joins:
        carry = dataclasses.replace(_no_carry(), questions=carry.questions, latest=carry.latest)
    key_columns = tx[["client", "server", "qname", "qtype"]]
    keys = pd.util.hash_pandas_object(key_columns, index=False).to_numpy()
    ns, nat = _ns_array(tx["time"])
    m, n = len(carry.keys), len(tx)
    k_all = np.concatenate([carry.keys, keys])
    t_all = np.concatenate([carry.ns, ns])
    nat_all = np.concatenate([carry.nat, nat])
    order = np.lexsort((np.arange(m + n), k_all))
    k, t, na = k_all[order], t_all[order], nat_all[order]
    same = np.zeros(m + n, dtype=bool)
    same[1:] = k[1:] == k[:-1]
    late = np.zeros(m + n, dtype=bool)
    late[1:] = ~na[1:] & ~na[:-1] & (t[1:] - t[:-1] > retry.value)
    new = ~same | late
    chain = np.cumsum(new) - 1
    starts = np.flatnonzero(new)
    first = order[starts]  # each chain's first element: a carried one, or a query here
    carried = first < m
    number = np.empty(len(starts), dtype=np.int64)
    number[carried] = carry.question[first[carried]]
    fresh = np.flatnonzero(~carried)
    ranks = np.empty(len(fresh), dtype=np.int64)
    ranks[np.argsort(first[fresh], kind="stable")] = np.arange(1, len(fresh) + 1)
    number[fresh] = carry.questions + ranks
    base = np.ones(len(starts), dtype=np.int64)
    base[carried] = carry.attempt[first[carried]]
    attempt_o = base[chain] + np.arange(m + n) - starts[chain]
    question_o = number[chain]
    question = np.empty(m + n, dtype=np.int64)
    attempt = np.empty(m + n, dtype=np.int64)
    question[order], attempt[order] = question_o, attempt_o
    out = tx.copy()
    out["question"], out["attempt"] = question[m:], attempt[m:]
    # what stays open: each key's last query, unless too long ago to be asked again
    last = np.flatnonzero(np.r_[k[1:] != k[:-1], True]) if m + n else np.zeros(0, dtype=np.int64)
    known = t[~na]
    latest = carry.latest
    if len(known):
        latest = int(known.max()) if latest is None else max(latest, int(known.max()))
    keep = na[last] | (t[last] >= (latest or 0) - 2 * retry.value)
    last = last[keep]
    return out, _Carry(
        k[last], t[last], na[last], question_o[last], attempt_o[last],
        carry.questions + len(fresh), latest,
    )  # fmt: skip


def _tx_meta() -> pd.DataFrame:
    from .dns import dns_transactions as whole

    return whole(schema.empty_frame())


def dns_transactions(
    data: str | os.PathLike[str] | Sequence[str | os.PathLike[str]] | dd.DataFrame,
    *,
    retry_window: str | pd.Timedelta = WINDOW,
    reply_window: str | pd.Timedelta = WINDOW,
    blocksize: int | str | None = BLOCKSIZE,
    **reader_kwargs: Any,
) -> dd.DataFrame:
    """:func:`incidentkit.dns_transactions` of all the inputs read as one frame, as a Dask
    frame of one partition per part (the transactions of the queries the part holds).

    Each part pairs its queries with its own rows and those of its neighbours' near ends
    (twice the longer window); question and attempt numbers run on from the parts before,
    which hand on only the questions still open.
    """
    dask, dd = _modules()
    retry, reply = pd.Timedelta(retry_window), pd.Timedelta(reply_window)
    reach = 2 * max(retry, reply)
    if isinstance(data, dd.DataFrame):
        frames = data.to_delayed()
        parts: list[Part] | None = None
    else:
        parts = plan(data, blocksize, strict=bool(reader_kwargs.get("strict")))
        names = _names(parts)
        frames = [dask.delayed(_read_part)(p, names, reader_kwargs) for p in parts]
    edges = [dask.delayed(_edges)(f, reach) for f in frames]
    offsets: list[Any] = []
    offset: Any = (0, 0)
    for i in range(len(frames)):
        offsets.append(offset)
        if parts is not None and i + 1 < len(frames):
            same = parts[i + 1].index == parts[i].index
            offset = dask.delayed(_step_edges)(offset, edges[i], same)
    placed = [dask.delayed(_placed)(e, o) for e, o in zip(edges, offsets, strict=True)]
    n = len(frames)
    before: list[Any] = [None] * n
    after: list[Any] = [None] * n
    for i in range(n):  # the rows within reach before each part, handed on part to part
        prev = (placed[i - 1], before[i - 1]) if i else (None, None)
        before[i] = dask.delayed(_before)(*prev, placed[i], reach)
    for i in reversed(range(n)):
        nxt = (placed[i + 1], after[i + 1]) if i + 1 < n else (None, None)
        after[i] = dask.delayed(_after)(*nxt, placed[i], reach)
    carry: Any = dask.delayed(_no_carry)()
    out = []
    for i, frame in enumerate(frames):
        tx = dask.delayed(_part_transactions)(
            frame, before[i], after[i], offsets[i], (retry, reply)
        )
        joins = dask.delayed(_joins)(placed[i - 1], placed[i]) if i else False
        both = dask.delayed(_numbering, nout=2)(tx, carry, retry, joins)
        out.append(both[0])
        carry = both[1]
    return _from_delayed(out, _tx_meta())


def _step_edges(before: tuple[int, int], e: _Edges, same_input: bool) -> tuple[int, int]:
    return _step(before, e.counts, same_input)
