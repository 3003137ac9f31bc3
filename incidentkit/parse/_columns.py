"""The frame's columns, put together from the rows the C scanner read and the rows the
patterns read."""

from __future__ import annotations

import mmap
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from .. import schema
from ._values import _ARROW_TYPES, _join

_PANDAS_TYPES = {
    pa.uint8(): pd.UInt8Dtype(),
    pa.uint16(): pd.UInt16Dtype(),
    pa.uint32(): pd.UInt32Dtype(),
    pa.int64(): pd.Int64Dtype(),
    pa.large_string(): pd.StringDtype("pyarrow"),
    pa.string(): pd.StringDtype("pyarrow"),
}


_QR = ("query", "response")


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
                out[name] = pd.arrays.IntegerArray(
                    np.asarray(lines, dtype=np.int64), np.zeros(len(lines), dtype=bool)
                )
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


#: columns of nulls of at least this many rows get pages of their own (see _nulls)
_MAPPED_NULLS = 1 << 16


def _nulls(n: int, kind: pa.DataType) -> pa.Array:
    """``n`` nulls of ``kind``. Strings get fresh pages that are never written, so the
    system maps them on first read to its one page of zeros: a column that is all null
    (``link_src`` without -e, say) then costs no memory, where ``pa.nulls`` writes its
    ``8 * n`` bytes of offsets. Short columns take ``pa.nulls``: a mapping each would
    soon reach the system's limit on them (65530) in a stream of small frames."""
    if not pa.types.is_large_string(kind) or n < _MAPPED_NULLS:
        return pa.nulls(n, kind)
    zeros = pa.py_buffer(mmap.mmap(-1, 8 * (n + 1)))  # fresh pages (malloc may reuse old)
    return pa.LargeStringArray.from_buffers(n, zeros, pa.py_buffer(b""), zeros, null_count=n)


def _chunks(pieces: list[pa.Array | pa.ChunkedArray]) -> list[pa.Array]:
    """The arrays of ``pieces``, chunked arrays opened up."""
    out: list[pa.Array] = []
    for piece in pieces:
        out.extend(piece.chunks if isinstance(piece, pa.ChunkedArray) else [piece])
    return out
