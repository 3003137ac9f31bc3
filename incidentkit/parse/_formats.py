"""Files that are neither a capture the readers take nor tcpdump's text, told by how they
begin, so that the message can say what a file is and what to do with it."""

from __future__ import annotations

import shlex
from typing import Final

#: (leading bytes, what the file is, what to do). The captures are the formats tcpdump and
#: Wireshark users are handed most often besides pcap and pcapng; editcap is Wireshark's.
_SIGNATURES: Final = (
    (b"\xfd7zXZ\x00", "an xz-compressed file", "decompress it first: xz -dk FILE"),
    (b"\x28\xb5\x2f\xfd", "a zstd-compressed file", "decompress it first: zstd -d FILE"),
    (b"\x04\x22\x4d\x18", "an LZ4-compressed file", "decompress it first: lz4 -d FILE"),
    (b"PK\x03\x04", "a zip archive", "unpack it first: unzip FILE"),
    (b"7z\xbc\xaf\x27\x1c", "a 7-Zip archive", "unpack it first: 7z x FILE"),
    (b"Rar!\x1a\x07", "a RAR archive", "unpack it first"),
    (
        b"snoop\x00\x00\x00",
        "a snoop capture (Solaris)",
        "write it as pcapng first: editcap -F pcapng FILE out.pcapng",
    ),
    (
        b"GMBU",
        "a Network Monitor 2 capture (Microsoft)",
        "write it as pcapng first: editcap -F pcapng FILE out.pcapng",
    ),
    (
        b"RTSS",
        "a Network Monitor 1 capture (Microsoft)",
        "write it as pcapng first: editcap -F pcapng FILE out.pcapng",
    ),
    (
        b"ObserverPktBuffer",
        "an Observer capture (Viavi, Network Instruments)",
        "write it as pcapng first: editcap -F pcapng FILE out.pcapng",
    ),
    (
        b"XCP\x00",
        "an Observer capture (Viavi, Network Instruments)",
        "write it as pcapng first: editcap -F pcapng FILE out.pcapng",
    ),
    (
        b"\xaa\xaa\xaa\xaa",
        "a 5View capture (Accellent)",
        "write it as pcapng first: editcap -F pcapng FILE out.pcapng",
    ),
    (b"\x7fELF", "an ELF program", None),
    (b"MZ\x90\x00", "a Windows program", None),
    (b"%PDF-", "a PDF document", None),
    (b"\x89PNG\r\n\x1a\n", "a PNG image", None),
    (b"SQLite format 3\x00", "an SQLite database", None),
    (b"PAR1", "a Parquet file", "read it with pandas.read_parquet"),
)


def _bzip2(head: bytes) -> bool:
    """Whether ``head`` opens a bzip2 stream: "BZh", the block size digit, and the block
    magic 0x314159265359 (or the end-of-stream magic 0x177245385090 of an empty one)."""
    return (
        head[:3] == b"BZh"
        and head[3:4] in b"123456789"
        and head[4:10] in (bytes.fromhex("314159265359"), bytes.fromhex("177245385090"))
    )


def known_format(head: bytes) -> tuple[str, str | None] | None:
    """What a file that begins with ``head`` is, and what to do with it (None when there is
    nothing to do: it is no network data), when its first bytes say so; else None.

    Examples
    --------
    >>> known_format(b"\\xfd7zXZ\\x00\\x00\\x04")
    ('an xz-compressed file', 'decompress it first: xz -dk FILE')
    >>> known_format(b"BZh91AY&SY")[0], known_format(b"BZh is a word") is None
    ('a bzip2-compressed file', True)
    >>> known_format(b"2026-11-24 13:24:32.192571 IP ...") is None
    True
    """
    head = bytes(head[:20])
    if _bzip2(head):
        return "a bzip2-compressed file", "decompress it first: bunzip2 -k FILE"
    for magic, what, todo in _SIGNATURES:
        if head.startswith(magic):
            return what, todo
    return None


def format_words(head: bytes, name: str) -> str | None:
    """``"it is <what>; <what to do>"`` for a file ``name`` that begins with ``head``, FILE
    in the advice replaced by the name (quoted for a shell); None when its first bytes say
    nothing.

    Examples
    --------
    >>> format_words(b"PK\\x03\\x04....", "x.zip")
    'it is a zip archive; unpack it first: unzip x.zip'
    """
    known = known_format(head)
    if known is None:
        return None
    what, todo = known
    return f"it is {what}" + (f"; {todo.replace('FILE', shlex.quote(name))}" if todo else "")
