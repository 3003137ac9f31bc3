"""Reading a log as it is written: ``tcpdump -l ... | incidentkit parse -``.

The stream is read in the blocks the pipe hands over. Whenever it pauses (tcpdump waits
for the next packet) or a few MiB have gathered, the complete records read so far are
parsed and yielded as one frame; a record whose lines may still be coming (the last one,
while the stream is open) waits for the next block. The frames are those
:func:`~incidentkit.read_tcpdump` gives for the whole log, cut into runs of rows: record
and line numbers count from the stream's start, and times run on across the cuts (a
midnight passed between two blocks, ``-ttt`` deltas summed over all of them).
"""

from __future__ import annotations

import datetime as _dt
import os
import re
import select
import stat
import sys
import warnings
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any, Final

import pandas as pd

from ..errors import InputError, ParseWarning
from . import _grammar as g
from ._assembly import Engine, _parse_bytes, unparsed_warning
from ._source import Source, check_text, refuse_binary
from ._times import DEFAULT_DATE, TimeFormat

#: parse what has gathered once the stream has been quiet this long (seconds)
FLUSH_AFTER = 0.5
#: or once this much is waiting
BLOCK_BYTES = 4 << 20
_READ = 1 << 16
_DAY = pd.Timedelta(days=1)
_STAMPED = re.compile(g.STAMPED.encode())
_TUNNEL = re.compile(g.TUNNEL_HEADER.encode())


def iter_tcpdump(
    source: Source = "-",
    *,
    date: str | _dt.date | pd.Timestamp | None = None,
    tz: str | None = None,
    time_format: TimeFormat = "auto",
    engine: Engine = "auto",
    flush_after: float = FLUSH_AFTER,
) -> Iterator[pd.DataFrame]:
    """Read a tcpdump log as it is written, yielding frames of its complete records.

    Parameters
    ----------
    source : "-", path or open binary file
        "-" is standard input. A gzip stream is decompressed as it comes.
    date, tz, time_format, engine
        As for :func:`~incidentkit.read_tcpdump`.
    flush_after : float
        Seconds of quiet on a pipe after which the records read so far are yielded.

    Yields
    ------
    pandas.DataFrame
        Frames of the schema of :mod:`incidentkit.schema`, in input order; their
        ``attrs["capture"]`` describes the block each was read from. Lines that are no
        records are ``unparsed`` rows, counted by one
        :class:`~incidentkit.ParseWarning` when the stream ends.

    Examples
    --------
    >>> import io
    >>> log = b"13:24:32.192571 IP 192.0.2.1.5 > 192.0.2.2.53: 1+ A? example.com. (29)\\n"
    >>> [len(df) for df in iter_tcpdump(io.BytesIO(log * 3))]
    [3]
    """
    stream, name, closing = _open(source)
    state = _State(date, tz, time_format)
    try:
        yield from _frames(stream, name, state, engine, flush_after)
    finally:
        if closing:
            stream.close()
    state.warn(name)


def _open(source: Source) -> tuple[IO[bytes], str, bool]:
    if isinstance(source, str) and source == "-":
        return sys.stdin.buffer, "<stdin>", False
    if isinstance(source, (str, os.PathLike)):
        path = Path(source)
        if not path.is_file():
            raise InputError(f"{path}: no such file")
        return open(path, "rb"), str(path), True
    if hasattr(source, "read"):
        stream: Any = getattr(source, "buffer", source)  # (a text stream's bytes)
        return stream, str(getattr(source, "name", "<stream>")), False
    raise InputError(f"cannot stream a tcpdump log from {type(source).__name__}")


def _blocks(stream: IO[bytes], flush_after: float) -> Iterator[bytes | None]:
    """The stream's bytes as they come; None when a pipe has been quiet ``flush_after``."""
    try:
        fd = stream.fileno()
        waits = not stat.S_ISREG(os.fstat(fd).st_mode)  # a pipe, a terminal, a socket
    except (OSError, AttributeError, ValueError):  # (a file object without a descriptor)
        fd, waits = -1, False
    if waits and hasattr(stream, "read1"):
        # what is in the reader's buffer first (the command line peeks at a pipe to tell a
        # capture from text), then the descriptor itself, which select() can wait on
        first = stream.read1(_READ)
        if not first:
            return
        yield first
    while True:
        if waits:
            ready, _, _ = select.select([fd], [], [], flush_after)
            if not ready:
                yield None
                continue
            chunk = os.read(fd, _READ)
        else:
            chunk = stream.read(_READ)
        if not chunk:
            return
        yield chunk


class _State:
    """What carries over from one block to the next."""

    def __init__(self, date: Any, tz: str | None, time_format: TimeFormat) -> None:
        self.date = date
        self.tz = tz
        self.time_format = time_format
        self.anchor: pd.Timestamp | None = None  # the first block's midnight (-ttt, -ttttt)
        self.last: pd.Timestamp | None = None  # the last time yielded (naive)
        self.lines = 0
        self.rows = 0
        self.stamped: bool | None = None  # whether records carry timestamps or -# numbers
        self.unparsed = 0
        self.first_unparsed = 0
        self.out_of_range = 0

    def warn(self, name: str) -> None:
        if self.unparsed:
            warnings.warn(
                unparsed_warning(name, self.unparsed, self.lines, self.first_unparsed),
                stacklevel=3,
            )
        if self.out_of_range:
            warnings.warn(
                ParseWarning(
                    f"{name}: {self.out_of_range} records hold a value their column cannot; "
                    "it is left empty and 'error' says why"
                ),
                stacklevel=3,
            )


def _frames(
    stream: IO[bytes], name: str, state: _State, engine: Engine, flush_after: float
) -> Iterator[pd.DataFrame]:
    pending = bytearray()
    inflate: Any = None
    seen = 0  # bytes of text read so far (for the place of a binary byte)
    for chunk in _blocks(stream, flush_after):
        if chunk is None:  # the pipe is quiet: every complete line is read
            cut = pending.rfind(b"\n") + 1
        else:
            if seen == 0 and inflate is None and chunk[:2] == b"\x1f\x8b":
                inflate = zlib.decompressobj(wbits=31)
            if inflate is not None:
                try:
                    chunk = inflate.decompress(chunk)
                except zlib.error as exc:
                    raise InputError(f"{name}: a gzip stream that cannot be read: {exc}") from None
            _check(chunk, seen, name)
            seen += len(chunk)
            pending += chunk
            if len(pending) < BLOCK_BYTES:
                continue
            cut = _cut(pending, state)
        if cut:
            df = _parse(pending[:cut], name, state, engine, final=False)
            if df is _HELD:
                continue
            del pending[:cut]
            if df is not None:
                yield df
    if inflate is not None:
        pending += inflate.flush()
    if pending:
        df = _parse(pending, name, state, engine, final=True)
        if df is not None:
            yield df


def _check(chunk: bytes, seen: int, name: str) -> None:
    """Refuse captures and binary data, naming the byte's place in the stream."""
    if seen == 0:
        check_text(chunk, name)
        return
    refuse_binary(chunk, name, seen)


def _cut(pending: bytearray, state: _State) -> int:
    """Where the complete records end: before the last line that opens a record (its
    continuation lines may be still to come); at the last line end when no line does."""
    end = pending.rfind(b"\n") + 1
    if state.stamped is None:
        head = bytes(pending[: min(end, 1 << 16)]).split(b"\n")
        state.stamped = any(_STAMPED.match(line) for line in head)
    at = end
    while at > 0:
        at = pending.rfind(b"\n", 0, at - 1) + 1
        if at and _opens_record(pending, at, bool(state.stamped)):
            return at
    return end


def _opens_record(pending: bytearray, at: int, stamped: bool) -> bool:
    line = bytes(pending[at : pending.find(b"\n", at)])
    if stamped:
        return bool(_STAMPED.match(line))
    if not line.strip() or line[:1] in b" \t":
        return False
    before = pending.rfind(b"\n", 0, at - 1) + 1
    return not _TUNNEL.search(bytes(pending[before : at - 1]))


#: what :func:`_parse` gives for a block it cannot read yet (read it again with more)
_HELD: Final = pd.DataFrame()
#: delta times read as -ttttt until a step runs backwards; so many records make it sure
_SURE_SINCE_FIRST = 100


def _parse(
    block: bytearray, name: str, state: _State, engine: Engine, final: bool
) -> pd.DataFrame | None:
    """The frame of ``block``'s records, numbered and timed on from the blocks before;
    None for a block without any; :data:`_HELD` while delta times could be either
    format (the block is read again with the lines that follow)."""
    data = bytearray(block)
    if not data.strip():
        state.lines += data.count(b"\n")
        return None
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ParseWarning)
        df = _parse_bytes(
            lambda: (data, name),
            date=state.date,
            tz=None,
            strict=False,
            time_format=state.time_format,
            engine=engine,
        )
    capture = df.attrs["capture"]
    style = capture.get("time_format", "none")
    if (
        style == "-ttttt"
        and state.time_format == "auto"
        and not final
        and len(df) < _SURE_SINCE_FIRST
    ):
        return _HELD
    unparsed = (df["proto"] == "unparsed").to_numpy()
    if unparsed.any() and not state.unparsed:
        state.first_unparsed = state.lines + int(df["line"].to_numpy()[unparsed][0])
    state.unparsed += int(unparsed.sum())
    state.out_of_range += int((df["error"].notna().to_numpy() & ~unparsed).sum())
    df["record"] += state.rows
    df["line"] += state.lines
    state.rows += len(df)
    state.lines += capture["lines"]
    _run_on(df, style, capture, state)
    if state.tz is not None:
        zone = "UTC" if style == "-tt" else state.tz
        df["time"] = df["time"].dt.tz_localize(zone).dt.tz_convert(state.tz)
    return df if len(df) else None


def _run_on(df: pd.DataFrame, style: str, capture: dict[str, Any], state: _State) -> None:
    """Times that run on from the block before: a day later past a midnight between the
    blocks, -ttt deltas added to the last time; the format found first is kept."""
    times = df["time"]
    if style in ("-ttt", "-ttttt") and state.time_format == "auto":
        state.time_format = "-ttt" if style == "-ttt" else "-ttttt"  # (and every block so)
    if style == "-ttt" and state.last is not None and state.anchor is not None:
        df["time"] = times + (state.last - state.anchor)
    elif style == "default" and state.last is not None:
        valid = times.dropna()
        if len(valid) and valid.iloc[0] < state.last - _DAY / 2:
            df["time"] = times + _DAY
    if style in ("-ttt", "-ttttt", "default") and state.anchor is None:
        state.anchor = pd.Timestamp(capture["date"] or DEFAULT_DATE)
    valid = df["time"].dropna()
    if len(valid):
        state.last = valid.iloc[-1]
        if style == "default":
            state.date = state.last.date()
