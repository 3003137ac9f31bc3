"""Lines and their kinds: the log's bytes cut into lines, each line a record start, a
continuation, banner, blank or unparsed; records as slices of the buffer."""

from __future__ import annotations

import itertools
import re
from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from . import _grammar as g
from ._values import _match


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
