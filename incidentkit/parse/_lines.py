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
    """Which lines start a record (and which of those carry a timestamp or a -# number),
    are blank, banner/summary, or indented.

    ``codes`` are the C scanner's sure answers (1 start, 2 indented, 3 blank, 0 unsure);
    the patterns decide the unsure lines, or every line when there are no codes. A line
    the scanner reads as a start always carries a timestamp.
    """
    n = len(lines)
    if codes is None:
        idx = np.arange(n)
        masks = {
            k: np.zeros(n, dtype=bool) for k in ("start", "stamped", "blank", "meta", "indented")
        }
    else:
        idx = np.flatnonzero(codes == 0)
        masks = {
            "start": codes == 1,
            "stamped": codes == 1,
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
        starts = idx[start]
        if len(starts):
            masks["stamped"][starts] = _match(
                text if len(starts) == n else lines.take(starts), g.STAMPED
            )
    return masks


def _truncation_marks(lines: _Lines, idx: np.ndarray) -> np.ndarray:
    """Which of the lines ``idx`` begin with a truncation marker, "[|ether]" (tcpdump 4.9)
    or " [|arp]" (4.99): the first bytes are looked at, the pattern confirms."""
    out = np.zeros(len(idx), dtype=bool)
    buf = np.frombuffer(lines.data, dtype=np.uint8)
    if not len(idx) or not len(buf):
        return out
    at = lines.offsets[idx]
    last = len(buf) - 1

    def byte(k: int) -> np.ndarray:
        return buf[np.minimum(at + k, last)]

    first, second = byte(0), byte(1)
    maybe = ((first == ord("[")) & (second == ord("|"))) | (
        (first == ord(" ")) & (second == ord("[")) & (byte(2) == ord("|"))
    )
    if maybe.any():
        out[maybe] = _match(lines.take(idx[maybe]), g.TRUNCATION_MARK)
    return out


def _classify(lines: _Lines, masks: dict[str, np.ndarray]) -> _Kinds:
    """Each line's kind, from :func:`_line_masks`.

    Besides a record's indented lines, these belong to the record before them:

    - the inner frame of a tunnel that tcpdump prints from column 0 (VXLAN, OTV): in a
      log with timestamps, any record line without one (no packet is printed without
      its timestamp); in a ``-t`` log, the line after the tunnel's header;
    - a truncation marker on a line of its own ("[|ether]"): in a log with timestamps,
      always; in a ``-t`` log after a tunnel's header, or as 4.9's "[|oam]" after the
      record's indented lines (a lone " [|arp]" there is a packet cut short at its
      first header, a record of its own);
    - blank or whitespace-only lines between a record's lines (an HTTP header's empty
      line, printed as a tab).

    In a ``-t`` log (its records carry no timestamp and no -# number) every other
    unindented line starts a record: a protocol the kit does not decode (STP, LLDP,
    AoE, ...) is a record of ``proto`` "other".
    """
    start, blank, meta, indented = (masks[k] for k in ("start", "blank", "meta", "indented"))
    stamped = masks["stamped"] & start
    n = len(start)
    marker = np.zeros(n, dtype=bool)
    maybe = np.flatnonzero(~start & ~blank & ~meta)
    if len(maybe):
        marker[maybe] = _truncation_marks(lines, maybe)
    no_stamp = not stamped.any() and _untimed(lines, start, marker, blank | meta)
    if no_stamp:  # Linux cooked -e: " In ethertype ...", "  B 00:16:3e:..." (%3s)
        start = start | _sll_direction(lines, indented & ~marker)
    indented = indented & ~marker & ~start
    loose = ~(start | blank | meta | indented | marker)
    # -A / -AA print the payload as unindented text after each record, non-printable
    # bytes as '.', so the packet's headers show as runs of dots ("E..<.h@.@.!R...").
    # Recognise that layout when most records are followed by such a line.
    ascii_payload = False
    if loose.any() and start.any():
        after = np.flatnonzero(start[:-1] & loose[1:]) + 1
        if len(after) * 2 >= start.sum():
            dotted = _match(lines.take(after), r"\.\.")
            ascii_payload = bool(dotted.sum() * 2 >= len(after))
    inner = np.zeros(n, dtype=bool)  # an inner frame's first line, or a marker in one
    if no_stamp:
        opened = np.flatnonzero((start | loose | marker)[1:]) + 1
        if len(opened):
            inner[opened] = _match(lines.take(opened - 1), g.TUNNEL_HEADER)
        after_indented = np.zeros(n, dtype=bool)
        after_indented[1:] = indented[:-1]
        plain = marker & ~_match_first(lines, marker, " ")
        marker_joins = marker & (inner | (plain & after_indented))
        if not ascii_payload:
            start = start | (loose & ~inner)
        start = (start & ~inner) | (marker & ~marker_joins)
    else:
        inner = start & ~stamped & (np.cumsum(stamped) > 0)
        unstamped = np.flatnonzero(inner)
        if len(unstamped):  # (a bad pcap record header is a packet of its own)
            inner[unstamped] = ~_match(lines.take(unstamped), g.INVALID_HEADER)
        start = start & ~inner
        marker_joins = marker
    seen_record = np.cumsum(start) > 0
    joins = indented | marker_joins | inner | (ascii_payload & (loose | blank))
    continuation = ~start & seen_record & joins
    if blank.any():
        continuation |= _blank_inside(blank, start | continuation, continuation)
    unparsed = ~(start | continuation | meta | blank)
    reasons = np.full(n, None, dtype=object)
    reasons[unparsed & indented] = "continuation line with no record before it"
    reasons[unparsed & ~indented] = "not a tcpdump record"
    return _Kinds(
        start, continuation, meta, blank & ~continuation, unparsed, reasons, ascii_payload
    )


def _untimed(lines: _Lines, start: np.ndarray, marker: np.ndarray, other: np.ndarray) -> bool:
    """Whether a log without timestamps is tcpdump's ``-t`` output: some line is a record
    start, a truncation marker, or reads "src > dst: " (the rest may be link headers of
    -e the patterns do not know: "AF IPv4 (2), length 72: 127.0.0.1.54954 > ...", or
    the pair on a -v record's second line)."""
    if start.any() or marker.any():
        return True
    rest = np.flatnonzero(~other)
    return bool(len(rest)) and bool(_match(lines.take(rest), g.ADDRESS_PAIR).any())


def _sll_direction(lines: _Lines, indented: np.ndarray) -> np.ndarray:
    """The indented lines that are -e records of a Linux cooked capture in a -t log: the
    packet's direction is printed in three columns (" In", "  B", "  M", "  P", "Out")."""
    out = np.zeros(len(indented), dtype=bool)
    idx = np.flatnonzero(indented)
    if len(idx):
        buf = np.frombuffer(lines.data, dtype=np.uint8)
        at = np.minimum(lines.offsets[idx] + 1, len(buf) - 1)
        maybe = (buf[at] == ord("I")) | (buf[at] == ord(" "))  # (" In", "  B", ...)
        if maybe.any():
            out[idx[maybe]] = _match(lines.take(idx[maybe]), g.SLL_DIRECTION)
    return out


def _match_first(lines: _Lines, mask: np.ndarray, char: str) -> np.ndarray:
    """Where the lines of ``mask`` begin with ``char`` (False elsewhere)."""
    out = np.zeros(len(mask), dtype=bool)
    idx = np.flatnonzero(mask)
    if len(idx):
        buf = np.frombuffer(lines.data, dtype=np.uint8)
        out[idx] = buf[np.minimum(lines.offsets[idx], len(buf) - 1)] == ord(char)
    return out


def _blank_inside(blank: np.ndarray, in_record: np.ndarray, joins: np.ndarray) -> np.ndarray:
    """The blank lines that stand between a record's lines: the nearest other line before
    is part of a record and the nearest after joins it."""
    n = len(blank)
    pos = np.arange(n)
    before = np.maximum.accumulate(np.where(blank, -1, pos))
    after = np.minimum.accumulate(np.where(blank, n, pos)[::-1])[::-1]
    inside = blank & (before >= 0) & (after < n)
    idx = np.flatnonzero(inside)
    inside[idx] = in_record[before[idx]] & joins[after[idx]]
    return inside


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
