"""Reading capture files (pcap, pcapng, a gzip of either) into the schema's frame, and
:func:`read`, which tells a capture from a tcpdump text log by its content.

One row per packet: ``packet`` is the frame number (1-based, as Wireshark and
``tcpdump -#`` count), ``line`` is empty, ``time`` is UTC, and ``raw`` holds the packet
on one line as ``tcpdump -nn -tttt`` prints it, so the report's evidence reads the same
and cites frames. The container is read by :mod:`._pcapfile`, the packets by
:mod:`._packets` (and its DNS by :mod:`._dnsmsg`).
"""

from __future__ import annotations

import io
import mmap
import os
import stat
import sys
import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from .. import schema
from ..errors import InputError, ParseWarning
from ._packets import decode_packet
from ._pcapfile import NAT, capture_kind, read_frames
from ._source import Source
from ._tcpdns import tcp_dns_messages

__all__ = ["PcapEngine", "read", "read_pcap"]

PcapEngine = Literal["auto", "c", "python"]

_DTYPES = schema.dtypes()
#: the columns decode_packet may fill (the others are made here)
_DECODED = tuple(
    name for name in schema.COLUMN_NAMES if name not in ("record", "line", "packet", "time")
)
_INTEGER = {name for name in _DECODED if str(_DTYPES[name]).startswith(("UInt", "Int"))}

try:  # the compiled decoder (built with the package when a C compiler is there)
    from . import _fastpcap  # type: ignore[attr-defined]
except ImportError:  # pragma: no cover - a build without a compiler
    _fastpcap = None


class DecoderTableError(ImportError):
    """The compiled decoder's columns or protocols are not the schema's (a stale build)."""


def _check_tables(module: Any) -> None:
    """Hold the compiled decoder's tables to the schema, so drift cannot make wrong rows."""
    if tuple(module.PROTOCOLS) != schema.PROTOCOLS:
        raise DecoderTableError(
            f"_fastpcap's protocols {module.PROTOCOLS} are not the schema's {schema.PROTOCOLS}"
        )
    for name in (*module.NUM_COLUMNS, *module.STR_COLUMNS):
        if name not in _DECODED:
            raise DecoderTableError(f"_fastpcap writes {name!r}, which the schema has not")


if _fastpcap is not None:
    _check_tables(_fastpcap)


def read_pcap(
    source: Source,
    *,
    tz: str | None = None,
    strict: bool = False,
    engine: PcapEngine = "auto",
) -> pd.DataFrame:
    """Read a pcap or pcapng capture into a DataFrame with the schema of
    :mod:`incidentkit.schema`.

    Parameters
    ----------
    source : path or open binary file
        A pcap (either byte order, micro- or nanosecond), a pcapng, or a gzip of either,
        recognised by content, not by name. ``"-"`` reads standard input.
    tz : str, optional
        Convert the times (UTC in the file) to this zone; without it they are naive UTC.
    strict : bool, default False
        Raise :class:`~incidentkit.InputError` when the file is cut off inside a packet
        (tcpdump killed while writing) instead of keeping every whole packet, saying so
        in ``df.attrs["capture"]["truncated"]`` and warning.
    engine : {"auto", "c", "python"}
        "c" decodes the packets in the package's compiled extension, "python" in pure
        Python; both give the same frame. "auto" takes "c" when it is built.

    Returns
    -------
    pandas.DataFrame
        One row per packet record. A packet cut short inside a header keeps what was
        read and says why in ``error``; ``df.attrs["capture"]`` describes the file (its
        format, link types, interfaces, and anything skipped or cut).

    Raises
    ------
    InputError
        For a missing file, a file that is no capture (saying what it looks like), or a
        damaged container (naming the offset).

    Examples
    --------
    >>> df = read_pcap("data/scenarios/firewall_reject.pcap")
    >>> query = df[df["dns_qr"] == "query"].iloc[0]
    >>> query["proto"], int(query["dport"]), query["dns_qname"]
    ('udp', 53, 'yummyrecipesforme.com')
    >>> df.attrs["capture"]["format"], int(df["packet"].iloc[0]), pd.isna(df["line"].iloc[0])
    ('pcap', 1, True)
    """
    if engine not in ("auto", "c", "python"):
        raise ValueError(f"engine must be 'auto', 'c' or 'python', not {engine!r}")
    if engine == "c" and _fastpcap is None:
        raise InputError("engine='c': the compiled decoder is not built (no C compiler at install)")
    data, name = _capture_bytes(source)
    try:
        frames = read_frames(data, name, strict=strict)
        _release(data, 0, len(data))  # (the walk read every page; the decoder reads them again)
        compiled = engine != "python" and _fastpcap is not None
        df, c_rows = _frame_c(frames) if compiled else (_frame_python(frames), 0)
    finally:
        if isinstance(data, mmap.mmap):
            data.close()  # (nothing holds a view of it: the decoders have let theirs go)
    df = tcp_dns_messages(df)
    if tz is not None:
        df["time"] = df["time"].dt.tz_localize("UTC").dt.tz_convert(tz)
    df.attrs["capture"] = {
        "source": name,
        "engine": "c" if compiled else "python",
        "c_rows": c_rows,
        **frames.meta,
    }
    if frames.meta.get("truncated"):
        warnings.warn(
            ParseWarning(f"{name}: the capture is cut off: {frames.meta['truncated']}"),
            stacklevel=2,
        )
    return df


def _decoded(frames: Any, which: Any) -> dict[str, list[Any]]:
    """The columns of the packets ``which`` (indices), one at a time through
    :func:`._packets.decode_packet`."""
    n = len(which)
    columns: dict[str, list[Any]] = {c: [None] * n for c in _DECODED}
    view = memoryview(frames.data)
    offsets, caplens, linktypes = (
        frames.offset[which].tolist(),
        frames.caplen[which].tolist(),
        frames.linktype[which].tolist(),
    )
    errors = [frames.error[j] for j in which]
    for i in range(n):
        start = offsets[i]
        cols, text, error = decode_packet(view[start : start + caplens[i]], linktypes[i])
        for key, value in cols.items():
            columns[key][i] = value
        columns["info"][i] = _info(text)
        columns["raw"][i] = text
        if errors[i] is not None:
            error = f"{errors[i]}; {error}" if error else errors[i]
        columns["error"][i] = error
    view.release()
    return columns


def _frame_python(frames: Any) -> pd.DataFrame:
    """The frame, every packet through :func:`._packets.decode_packet`."""
    n = len(frames.offset)
    columns = _decoded(frames, np.arange(n))
    out = _numbering(frames)
    for key in _DECODED:
        if key in _INTEGER:
            out[key] = pd.array(columns[key], dtype=_DTYPES[key])  # type: ignore[call-overload]
        elif key == "raw":
            out[key] = _stamped(out["time"], columns[key])
        else:
            out[key] = pd.Series(columns[key], dtype=object).astype(_DTYPES[key])  # type: ignore[call-overload]
    return schema.conform(pd.DataFrame(out)[list(schema.COLUMN_NAMES)])


def _numbering(frames: Any) -> dict[str, Any]:
    """The columns every capture row has whatever its packet: ``record`` and ``packet``
    (the frame number, 1-based), ``line`` (empty: a capture has none) and ``time``."""
    n = len(frames.offset)
    return {
        "record": np.arange(1, n + 1, dtype=np.int64),
        "line": pd.arrays.IntegerArray(np.zeros(n, dtype=np.int64), np.ones(n, dtype=bool)),
        "packet": pd.arrays.IntegerArray(
            np.arange(1, n + 1, dtype=np.uint32), np.zeros(n, dtype=bool)
        ),
        "time": frames.time_ns.astype(np.int64, copy=False).view("datetime64[ns]"),
    }


_BITS = {"UInt8": np.uint8, "UInt16": np.uint16, "UInt32": np.uint32}
_TEXT: Any = pd.api.types.pandas_dtype(_DTYPES["raw"])


#: captures of this many packets and more are decoded in parts, one thread per core (the
#: decoder lets go of the GIL); each part's columns are chunks of the frame's
_PART_PACKETS = 200_000

#: a file read through a mapping is decoded in parts of at most this many packets (and at
#: least one per thread), and the pages of each part are let go once it is decoded: the
#: file's bytes are never all in memory beside the frame's columns
_MAPPED_PART = 131_072

_PAGE = mmap.PAGESIZE


def _release(data: Any, start: int, stop: int) -> None:
    """Let the system take back the pages of ``data[start:stop]`` when ``data`` maps a file
    (they are read again from the file, should anything read them again); otherwise
    nothing: bytes in memory stay as they are."""
    if not isinstance(data, mmap.mmap) or stop <= start:
        return
    first = start - start % _PAGE
    data.madvise(mmap.MADV_DONTNEED, first, min(stop, len(data)) - first)


def fixed_columns(n: int) -> dict[str, Any]:
    """The arrays the compiled decoder writes for ``n`` packets, in the order it takes them:
    ``done``, ``proto`` and ``dns_qr`` codes (-1: none), then each numeric column's values
    (zeros) and mask (ones: missing until a value is written)."""
    assert _fastpcap is not None
    out: dict[str, Any] = {
        "done": np.zeros(n, dtype=np.bool_),
        "proto": np.full(n, -1, dtype=np.int8),
        "dns_qr": np.full(n, -1, dtype=np.int8),
    }
    for key in _fastpcap.NUM_COLUMNS:
        out[key] = np.zeros(n, dtype=_BITS[str(_DTYPES[key])])
        out[key + ".mask"] = np.ones(n, dtype=np.bool_)
    return out


def _decode(frames: Any) -> tuple[dict[str, Any], list[tuple[int, int, dict[str, Any]]]]:
    """The compiled decoder's columns: the numeric ones and the codes (one array each),
    and the text ones in parts of the packets: (start, stop, columns)."""
    assert _fastpcap is not None
    n = len(frames.offset)
    arrays = (
        np.ascontiguousarray(frames.offset, dtype=np.int64),
        np.ascontiguousarray(frames.caplen, dtype=np.int64),
        np.ascontiguousarray(frames.linktype, dtype=np.int32),
        np.ascontiguousarray(frames.time_ns, dtype=np.int64),
    )
    fixed = fixed_columns(n)
    threads = min(os.cpu_count() or 1, 8) if n >= _PART_PACKETS else 1
    parts = threads
    if threads > 1 and isinstance(frames.data, mmap.mmap):
        parts = max(threads, -(-n // _MAPPED_PART))
    bounds = [n * k // parts for k in range(parts + 1)]

    def one(k: int) -> tuple[int, int, dict[str, Any]]:
        a, b = bounds[k], bounds[k + 1]
        rows = tuple(column[a:b] for column in fixed.values())
        got = _fastpcap.decode(frames.data, *(x[a:b] for x in arrays), rows)
        if parts > threads:  # (the packets a part holds lie between its first and its last)
            ends = arrays[0][a:b] + arrays[1][a:b]
            _release(frames.data, int(arrays[0][a:b].min()), int(ends.max()))
        return a, b, got

    if parts == 1:
        return fixed, [one(0)]
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(threads) as pool:
        return fixed, list(pool.map(one, range(parts)))


def _frame_c(frames: Any) -> tuple[pd.DataFrame, int]:
    """The frame from the compiled decoder, with the packets it leaves (``done`` 0: an
    unusual packet, a link type or protocol it does not decode, a damaged record)
    decoded in Python and put in their places. Returns the frame and how many rows the
    compiled decoder made."""
    assert _fastpcap is not None
    n = len(frames.offset)
    fixed, parts = _decode(frames)
    done = fixed["done"]
    if frames.error.count(None) != n:  # (the container's words come first)
        done &= pd.isna(np.array(frames.error, dtype=object))
    rest = np.flatnonzero(~done)
    slow = _decoded(frames, rest) if len(rest) else {}
    frames.data = b""  # (every packet is read: the file's bytes go before the frame is made)
    if len(rest):
        time = frames.time_ns[rest].astype(np.int64).view("datetime64[ns]")
        slow["raw"] = _stamped(time, slow["raw"]).tolist()
    out = _numbering(frames)
    for key, categories in (("proto", schema.PROTOCOLS), ("dns_qr", ("query", "response"))):
        codes = fixed[key]
        if len(rest):
            index = {c: k for k, c in enumerate(categories)}
            codes[rest] = [index.get(v, -1) if v is not None else -1 for v in slow[key]]
        out[key] = pd.Categorical.from_codes(codes, dtype=_DTYPES[key])  # type: ignore[call-overload]
    for key in _fastpcap.NUM_COLUMNS:
        numbers, mask = fixed[key], fixed[key + ".mask"]
        if len(rest):
            column = slow[key]
            mask[rest] = [v is None for v in column]
            numbers[rest] = [0 if v is None else v for v in column]
        out[key] = pd.arrays.IntegerArray(numbers, mask)
    # which of the slow rows fall in each part, counted from the part's start
    cuts = [(a, np.searchsorted(rest, a), np.searchsorted(rest, b)) for a, b, _ in parts]
    for key in _fastpcap.STR_COLUMNS:
        chunks = []
        for (a, lo, hi), (_, b, got) in zip(cuts, parts, strict=True):
            offsets, data, valid = got[key]
            arr: pa.Array = pa.LargeStringArray.from_buffers(
                b - a, pa.py_buffer(offsets), pa.py_buffer(data), pa.py_buffer(valid)
            )
            if hi > lo:
                chunks.extend(_pieces(arr, rest[lo:hi] - a, slow[key][lo:hi]))
            else:
                chunks.append(arr)
        # (large_string: what pandas keeps, so it need not cast)
        out[key] = _TEXT.__from_arrow__(pa.chunked_array(chunks, pa.large_string()))
    out["error"] = _TEXT.__from_arrow__(_sparse_text(n, rest, slow.get("error", [])))
    # (copy=False: the arrays are this frame's alone)
    frame = pd.DataFrame(out, copy=False)[list(schema.COLUMN_NAMES)]
    return schema.conform(frame), int(done.sum())


#: up to this many rows from the Python decoder in a part, the part's column is kept as
#: chunks (the stretches between them and those rows, no copy); more, and it is rebuilt
_FEW = 64


def _pieces(arr: pa.Array, rows: np.ndarray, values: list[Any]) -> list[pa.Array]:
    """``arr`` with ``values`` at ``rows`` (sorted), as a list of chunks."""
    if len(rows) > _FEW:
        return [_put(arr, rows, values)]
    new = pa.array(values, arr.type)
    parts, at = [], 0
    for k, row in enumerate(rows.tolist()):
        if row > at:
            parts.append(arr.slice(at, row - at))
        parts.append(new.slice(k, 1))
        at = row + 1
    if at < len(arr):
        parts.append(arr.slice(at))
    return parts


def _put(arr: pa.Array, rows: np.ndarray, values: list[Any]) -> pa.Array:
    """``arr`` with ``values`` at ``rows`` (sorted), in one array."""
    mask = np.zeros(len(arr), dtype=np.bool_)
    mask[rows] = True
    return pc.replace_with_mask(arr, pa.array(mask), pa.array(values, arr.type))


def _sparse_text(n: int, rows: np.ndarray, values: list[str | None]) -> pa.Array:
    """A text column of ``n`` rows, empty but for ``values`` at ``rows`` (sorted).

    Its offsets and validity are written only from the first value on: before it they are
    zeros that were never written (pages of no memory), so a column with no values, like
    the ``error`` of a sound capture, costs next to nothing."""
    offsets = np.zeros(n + 1, dtype=np.int64)
    valid = np.zeros(n // 8 + 1, dtype=np.uint8)
    pairs = zip(rows.tolist(), values, strict=True)
    texts = [(row, value.encode()) for row, value in pairs if value is not None]
    if texts:
        at = np.array([row for row, _ in texts], dtype=np.int64)
        first = int(at[0])
        lengths = np.zeros(n - first, dtype=np.int64)
        lengths[at - first] = [len(text) for _, text in texts]
        np.cumsum(lengths, out=offsets[first + 1 :])
        np.bitwise_or.at(valid, at >> 3, (1 << (at & 7)).astype(np.uint8))
    data = b"".join(text for _, text in texts)
    return pa.LargeStringArray.from_buffers(
        n, pa.py_buffer(offsets), pa.py_buffer(data), pa.py_buffer(valid)
    )


def _stamped(time: np.ndarray, texts: list[str]) -> pd.Series:
    """``raw``: each packet's text after its time as ``tcpdump -tttt`` prints it
    (microseconds, cut rather than rounded), or after nothing when the time is unknown."""
    known = time.view(np.int64) != NAT
    stamps = pd.Series(time).dt.strftime("%Y-%m-%d %H:%M:%S.%f").to_numpy(dtype=object)
    joined = [f"{s} {t}" if k else t for s, t, k in zip(stamps, texts, known, strict=True)]
    return pd.Series(joined, dtype=_DTYPES["raw"])  # type: ignore[call-overload]


def _info(text: str) -> str | None:
    """What follows "src > dst: " (the text reader's ``info``), or the whole text."""
    arrow = text.find(" > ")
    cut = text.find(": ", arrow) if arrow >= 0 else -1
    return text[cut + 2 :] if cut >= 0 else (text or None)


def _capture_bytes(source: Source) -> tuple[bytes | mmap.mmap, str]:
    if isinstance(source, str) and source == "-":
        return sys.stdin.buffer.read(), "<stdin>"
    if isinstance(source, (str, os.PathLike)):
        path = Path(source)
        if not path.exists():
            raise InputError(f"{path}: no such file")
        if path.is_dir():
            raise InputError(f"{path}: is a directory, not a capture file")
        return _file_bytes(path), str(path)
    if hasattr(source, "read"):
        name = str(getattr(source, "name", "<stream>"))
        content = source.read()
        if isinstance(content, str):
            raise InputError(f"{name}: a capture is binary; open it with 'rb', not as text")
        if not isinstance(content, (bytes, bytearray, memoryview)):
            raise InputError(f"{name}: read() returned {type(content).__name__}, not bytes")
        return bytes(content), name
    raise InputError(
        f"cannot read a capture from {type(source).__name__}; pass a path or an open binary file"
    )


def _file_bytes(path: Path) -> bytes | mmap.mmap:
    """The bytes of the file at ``path``: a read-only mapping of a regular file, so that the
    decoder can let go of the pages it has read; read whole when it is gzip (decompressed
    whole anyway), empty, or no regular file (a pipe, a device)."""
    with open(path, "rb") as handle:
        info = os.fstat(handle.fileno())
        if not stat.S_ISREG(info.st_mode) or info.st_size == 0:
            return handle.read()
        if handle.read(2) != b"\x1f\x8b":
            try:
                return mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ)
            except (OSError, ValueError):  # (a file system that cannot map)
                pass
        handle.seek(0)
        return handle.read()


#: bytes read to tell a capture from text (a gzip header and enough of its stream)
_HEAD = 4096


def _head(source: Source) -> tuple[bytes, Source]:
    """The first bytes of ``source`` (decompressed when it is gzip), and a source that
    still reads from the start (standard input and streams are read whole)."""
    if isinstance(source, str) and source == "-":
        named = io.BytesIO(sys.stdin.buffer.read())
        named.name = "<stdin>"
        source = named
    if isinstance(source, (str, os.PathLike)):
        path = Path(source)
        if path.exists() and not path.is_dir() and not path.is_file():  # a pipe, a device
            with open(path, "rb") as handle:  # (read once, whole, as a stream is)
                return _head(handle)
        if not path.is_file():
            return b"", source  # the reader says what is wrong with it
        with open(path, "rb") as handle:
            head = handle.read(_HEAD)
    elif hasattr(source, "read"):
        content = source.read()
        if isinstance(content, str):
            return b"", io.StringIO(content)
        named = io.BytesIO(bytes(content))
        named.name = str(getattr(source, "name", "<stream>"))
        source, head = named, bytes(content[:_HEAD])
    else:
        return b"", source
    if head[:2] == b"\x1f\x8b":
        import zlib

        try:
            head = zlib.decompressobj(16 + zlib.MAX_WBITS).decompress(head, 16)
        except zlib.error:
            head = b""
    return head, source


def read(source: Source | Sequence[str | os.PathLike[str]], **kwargs: Any) -> pd.DataFrame:
    """Read a capture (pcap, pcapng, a gzip of either) or a tcpdump text log, told apart
    by content, into the schema's frame.

    Keyword arguments go to :func:`read_pcap` (``tz``, ``strict``, ``engine``) or to
    :func:`~incidentkit.read_tcpdump` (also ``date``, ``time_format``, ``progress``).
    For a capture, ``date`` or ``time_format`` other than their defaults is an error (a
    capture's packets carry their own dates) and ``progress`` is ignored.

    A list of inputs (a site's sensors, a capture rotated into files) is read into one
    frame: their rows in the order given, records numbered on across them, and a
    ``source`` column (:data:`incidentkit.schema.SOURCE`) naming each row's input.

    Examples
    --------
    >>> read("data/scenarios/firewall_reject.pcap").attrs["capture"]["format"]
    'pcap'
    >>> int(read("data/yummyrecipesforme_dns_icmp.log")["line"].iloc[0])
    1
    """
    from .tcpdump import read_tcpdump

    if isinstance(source, (list, tuple)):
        from .many import read_many

        return read_many(source, **kwargs)
    head, source = _head(source)  # type: ignore[arg-type]
    if capture_kind(head) is None:
        return read_tcpdump(source, **kwargs)
    text_only = sorted(set(kwargs) - {"tz", "strict", "engine"})
    given = [key for key in text_only if key != "progress" and kwargs[key] not in (None, "auto")]
    if given:
        raise InputError(
            f"{_name(source)}: is a capture, so {', '.join(given)} does not apply "
            "(a capture's packets carry their own dates, in UTC)"
        )
    return read_pcap(source, **{k: v for k, v in kwargs.items() if k not in text_only})


def _name(source: Source) -> str:
    if isinstance(source, (str, os.PathLike)):
        return str(source)
    return str(getattr(source, "name", "<stream>"))
