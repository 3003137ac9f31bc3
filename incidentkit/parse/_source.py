"""Getting the bytes of a log: paths, ``.gz`` files, open files; and refusing binaries."""

from __future__ import annotations

import gzip
import io
import os
import sys
import zlib
from collections.abc import Callable
from pathlib import Path
from typing import IO, Any, Union

from ..errors import InputError
from ._formats import format_words

Source = Union[str, "os.PathLike[str]", IO[str], IO[bytes]]

_GZIP = b"\x1f\x8b"
#: Leading bytes of capture files, and what they are.
_CAPTURE_MAGIC = {
    b"\xa1\xb2\xc3\xd4": "a pcap capture",
    b"\xd4\xc3\xb2\xa1": "a pcap capture",
    b"\xa1\xb2\x3c\x4d": "a pcap capture (nanosecond)",
    b"\x4d\x3c\xb2\xa1": "a pcap capture (nanosecond)",
    b"\x0a\x0d\x0d\x0a": "a pcapng capture",
}


try:  # (a buffer not zeroed first, on huge pages: see _fastscan.c)
    from ._fastscan import buffer as _new_buffer  # type: ignore[import-not-found]
except ImportError:  # built without a C compiler
    _new_buffer = bytearray

#: read this much at a time (progress is reported after each chunk)
CHUNK = 8 * 2**20
Progress = Callable[[int, int], None]


def read_source(source: Source, progress: Progress | None = None) -> tuple[bytes | bytearray, str]:
    """Return the bytes of ``source`` (decompressed if gzip) and a name for messages.

    ``progress(done, total)`` is called as a path is read, in bytes of the file on disk
    (a ``.gz`` file is decompressed as it streams in, never to disk).
    """
    if isinstance(source, str) and source == "-":
        piped = _maybe_gunzip(sys.stdin.buffer.read(), "<stdin>")
        check_text(piped, "<stdin>")
        return piped, "<stdin>"
    if isinstance(source, (str, os.PathLike)):
        path = Path(source)
        name = str(path)
        if not path.exists():
            raise InputError(f"{name}: no such file")
        if path.is_dir():
            raise InputError(f"{name}: is a directory, not a tcpdump log")
        data: bytes | bytearray = _read_path(path, name, progress)
    elif hasattr(source, "read"):
        name = getattr(source, "name", "<stream>")
        content = source.read()
        data = encode_text(content) if isinstance(content, str) else content
        if isinstance(data, bytearray):
            data = bytes(data)  # (the caller's buffer: the reader works in a copy of its own)
        if not isinstance(data, bytes):
            raise InputError(f"{name}: read() returned {type(content).__name__}, not text or bytes")
        data = _maybe_gunzip(data, str(name))
    else:
        raise InputError(
            f"cannot read a tcpdump log from {type(source).__name__}; "
            "pass a path, an open file, or use parse_tcpdump(text)"
        )
    check_text(data, str(name))
    return data, str(name)


def _read_path(path: Path, name: str, progress: Progress | None) -> bytearray:
    with open(path, "rb") as raw:
        total = os.fstat(raw.fileno()).st_size
        compressed = raw.read(2) == _GZIP
        raw.seek(0)
        if not compressed:
            return _read_plain(raw, total, progress)
        stream: Any = gzip.GzipFile(fileobj=raw)
        chunks = []
        try:
            while chunk := stream.read(CHUNK):
                chunks.append(chunk)
                if progress is not None:
                    progress(raw.tell(), total)
        except (OSError, EOFError, zlib.error) as exc:
            raise InputError(
                f"{name}: looks gzip-compressed but cannot be decompressed: {exc}"
            ) from None
    return bytearray().join(chunks)


def _read_plain(raw: Any, total: int, progress: Progress | None) -> bytearray:
    """The file's bytes, read in place into one buffer the reader then owns (no second
    copy of a large log: the ``raw`` column is made in this buffer)."""
    buf = _new_buffer(total)
    view = memoryview(buf)
    done = 0
    while done < total:
        got = raw.readinto(view[done : done + CHUNK])
        if not got:  # the file shrank while it was read
            break
        done += got
        if progress is not None:
            progress(done, total)
    view.release()
    del buf[done:]
    buf += raw.read()  # and whatever was appended meanwhile
    return buf


def encode_text(text: str) -> bytes:
    """UTF-8 bytes of ``text``: bytes decoded with surrogateescape come back as they were,
    and any other lone surrogate is written as a visible escape instead of failing."""
    try:
        return text.encode("utf-8", "surrogateescape")
    except UnicodeEncodeError:
        return text.encode("utf-8", "backslashreplace")


def _maybe_gunzip(data: bytes, name: str) -> bytes:
    if not data.startswith(_GZIP):
        return data
    try:
        with gzip.GzipFile(fileobj=io.BytesIO(data)) as stream:
            return stream.read()
    except (OSError, EOFError, zlib.error) as exc:
        raise InputError(
            f"{name}: looks gzip-compressed but cannot be decompressed: {exc}"
        ) from None


def check_text(data: bytes | bytearray, name: str) -> None:
    """Raise :class:`InputError` when ``data`` is a capture file or other binary data."""
    kind = _CAPTURE_MAGIC.get(bytes(data[:4]))
    if kind is not None:
        raise InputError(
            f"{name}: this is {kind}, not tcpdump text: read it with incidentkit.read_pcap, "
            "or with incidentkit.read, which tells a capture from a text log by its content."
        )
    known = format_words(bytes(data[:20]), name)
    if known is not None:
        raise InputError(f"{name}: not tcpdump text nor a pcap or pcapng capture: {known}.")
    utf16 = _utf16(data)
    if utf16 is not None:
        words, encoding = utf16
        raise InputError(
            f"{name}: UTF-16 text ({words}), as PowerShell's '>' writes it; incidentkit reads "
            f"UTF-8. Convert it with 'iconv -f {encoding} -t UTF-8 {name} > log.txt' (or, in "
            "PowerShell, write it with '| Out-File -Encoding utf8 log.txt') and read log.txt."
        )
    refuse_binary(data, name)


def refuse_binary(data: bytes | bytearray, name: str, offset: int = 0) -> None:
    """Raise :class:`InputError` at a NUL byte, naming its place (``data`` starting at
    byte ``offset`` of the input)."""
    nul = data.find(b"\x00")
    if nul >= 0:
        raise InputError(
            f"{name}: binary data (a NUL byte at offset {offset + nul}); incidentkit reads the "
            "text tcpdump prints, so render the capture with tcpdump and read its output."
        )


def _utf16(data: bytes | bytearray) -> tuple[str, str] | None:
    """How ``data`` is UTF-16 text, and iconv's name for it; None when it is not. It is
    when it opens with a byte-order mark, or every other byte of its start is NUL (ASCII
    in UTF-16)."""
    head = bytes(data[:4096])
    if head[:4] in (b"\xff\xfe\x00\x00", b"\x00\x00\xfe\xff"):
        return None  # (UTF-32: binary data to this reader)
    if head[:2] == b"\xff\xfe":
        return "little-endian, with a byte-order mark", "UTF-16"
    if head[:2] == b"\xfe\xff":
        return "big-endian, with a byte-order mark", "UTF-16"
    pairs = len(head) // 2
    if pairs < 8:
        return None
    even, odd = head[0 : 2 * pairs : 2], head[1 : 2 * pairs : 2]
    if odd.count(0) == pairs and even.count(0) == 0:
        return "little-endian", "UTF-16LE"
    if even.count(0) == pairs and odd.count(0) == 0:
        return "big-endian", "UTF-16BE"
    return None
