"""The C fast path: the scanner over the log (in parts, one thread each) and its columns
handed to the frame; its tables checked against the schema when it loads."""

from __future__ import annotations

import functools
import itertools
import os
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from types import ModuleType
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from .. import schema
from ..services import WELL_KNOWN, port_number
from . import _times
from ._columns import _FRAME_POOL, _Columns
from ._fields import _icmp_columns
from ._lines import _Lines, _split_lines
from ._values import _ARROW_TYPES, _Reasons

try:
    from . import _fastscan  # type: ignore[attr-defined]
except ImportError:  # built without a C compiler: the patterns read everything
    _fastscan = None


# --------------------------------------------------------------------------- C tables
class ScannerTableError(ImportError):
    """The C scanner's tables disagree with the schema (or with ``_times.py``): its
    columns would be misread, so the reader refuses to load it."""


#: The scanner's number columns that are codes, not schema columns as they are: the time
#: kind and value (see _times.py), and the codes of the categorical ``proto`` and ``dns_qr``
_CODES: dict[str, pa.DataType] = {
    "_tkind": pa.uint8(),
    "_tval": pa.int64(),
    "proto": pa.uint8(),
    "dns_qr": pa.uint8(),
}
#: the tables the extension hands out, by the name of its attribute
_TABLES = ("NUM_COLUMNS", "STR_COLUMNS", "PROTOCOLS", "DNS_QR", "TIME_KINDS")


def _integer_type(dtype: object) -> pa.DataType | None:
    """The Arrow type of an integer dtype of the schema ("UInt16" -> uint16), else None."""
    try:
        kind = np.dtype(str(dtype).lower())
    except TypeError:  # (a categorical, a string dtype)
        return None
    return pa.from_numpy_dtype(kind) if kind.kind in "iu" else None


def _is_text(dtype: object) -> bool:
    """Whether a dtype of the schema is its text dtype (``string[pyarrow]``)."""
    return isinstance(dtype, str) and isinstance(pd.api.types.pandas_dtype(dtype), pd.StringDtype)


def _categories(column: str) -> tuple[str, ...]:
    """The categories of a categorical column of the schema, in the order of their codes."""
    dtype = schema.COLUMNS[column][0]
    assert isinstance(dtype, pd.CategoricalDtype), column
    return tuple(dtype.categories)


def _check_tables(
    num_columns: Sequence[tuple[str, int]],
    str_columns: Sequence[str],
    protocols: Sequence[str],
    dns_qr: Sequence[str],
    time_kinds: Sequence[str],
) -> dict[str, pa.DataType]:
    """Check the C scanner's tables against the schema and ``_times.py``; return the Arrow
    type of each of its number columns.

    ``num_columns`` is ((name, width in bytes), ...); the others are names in the order
    of their codes. Raises :class:`ScannerTableError`, naming the column or code and both
    values, when a number column's width is not its schema dtype's (or its code's), when
    a column is not in the schema, or when the ``proto`` or ``dns_qr`` codes or the time
    kinds are not the schema's categories or ``_times.py``'s ``_T_*`` kinds.
    """

    def drift(words: str) -> ScannerTableError:
        return ScannerTableError(f"the C scanner (_fastscan.c) drifted from the reader: {words}")

    for table, names in (("number", [name for name, _ in num_columns]), ("string", str_columns)):
        seen: set[str] = set()
        for name in names:
            if name in seen:
                raise drift(f"{table} column {name!r} is there twice")
            seen.add(name)
    types: dict[str, pa.DataType] = {}
    for name, width in num_columns:
        dtype = schema.COLUMNS[name][0] if name in schema.COLUMNS else None
        kind = _CODES[name] if name in _CODES else _integer_type(dtype)
        if kind is None:
            what = f"the schema's {dtype}" if name in schema.COLUMNS else "not a schema column"
            raise drift(f"number column {name!r} ({width} bytes) is {what}")
        if width != kind.bit_width // 8:
            said = "its code" if name in _CODES else f"the schema's {dtype}"
            raise drift(
                f"number column {name!r} is {width} bytes wide, {said} is {kind.bit_width // 8}"
            )
        types[name] = kind
    for name in _CODES:
        if name not in types:
            raise drift(f"number column {name!r} is missing")
    for name in str_columns:
        if name.startswith("_"):
            continue  # (a text the reader decodes into other columns)
        if name not in schema.COLUMNS:
            raise drift(f"string column {name!r} is not a schema column")
        dtype = schema.COLUMNS[name][0]
        if not _is_text(dtype):
            raise drift(f"string column {name!r} is text, the schema's dtype is {dtype}")
    for column, codes, categories in (
        ("proto", tuple(protocols), tuple(schema.PROTOCOLS)),
        ("dns_qr", tuple(dns_qr), _categories("dns_qr")),
    ):
        for code, (got, wanted) in enumerate(itertools.zip_longest(codes, categories)):
            if got != wanted:
                raise drift(
                    f"{column} code {code} is {got!r}, the schema's category {code} is {wanted!r}"
                )
    kinds = {
        k[3:].lower(): v
        for k, v in vars(_times).items()
        if k.startswith("_T_") and isinstance(v, int)
    }
    for code, name in enumerate(time_kinds):
        if kinds.get(name) != code:
            said = f"is {kinds[name]}" if name in kinds else "does not exist"
            raise drift(f"time kind {code} is {name!r}, _times.py's _T_{name.upper()} {said}")
    for name, code in kinds.items():
        if name not in time_kinds:
            raise drift(f"time kind _T_{name.upper()} ({code}) of _times.py is missing")
    return types


def _tables(module: ModuleType) -> dict[str, pa.DataType]:
    """:func:`_check_tables` on the tables of the built extension ``module``."""
    missing = [name for name in _TABLES if not hasattr(module, name)]
    if missing:
        raise ScannerTableError(
            f"{module.__file__} has no {', '.join(missing)}: it was built from an older "
            "_fastscan.c; build it again (pip install -e .)"
        )
    return _check_tables(*(getattr(module, name) for name in _TABLES))


# --------------------------------------------------------------------------- C fast path
#: The Arrow type of each of the scanner's number columns, and its string columns (a
#: leading '_': texts the reader decodes into other columns); as the extension says
_FAST_NUMBERS: dict[str, pa.DataType] = {} if _fastscan is None else _tables(_fastscan)
_FAST_STRINGS: tuple[str, ...] = () if _fastscan is None else tuple(_fastscan.STR_COLUMNS)
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


def _fast_fields(columns: _Columns, scan: _Scan) -> None:
    """The C scanner's columns (by line) and its rows' categories and times."""
    pos = columns.fast_pos
    lines = columns.rows[pos]
    for name in (*_FAST_NUMBERS, *_FAST_STRINGS):
        if name not in _CODES and not name.startswith("_"):  # (those are read below)
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
