"""Column helpers of the text reader: patterns over Arrow columns, numbers in their
column's range, ports, and the reasons a value is left empty."""

from __future__ import annotations

import re
from typing import Final

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from .. import schema
from ..services import port_number


def _np(mask: pa.Array) -> np.ndarray:
    return np.asarray(mask.to_numpy(zero_copy_only=False), dtype=bool)


def _match(arr: pa.Array, pattern: str) -> np.ndarray:
    return _np(pc.fill_null(pc.match_substring_regex(arr, pattern), False))


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
