"""The container of a capture file: where each packet is in a pcap, a pcapng, or a gzip of either.

:func:`read_frames` walks the records of a capture and returns, per packet, where its
captured bytes are in the file, how many there are, how long the packet was on the wire,
when it was seen (UTC nanoseconds) and on which link type. The packets themselves are
decoded elsewhere (:mod:`._packets`); nothing is copied: packet ``i`` is
``frames.data[frames.offset[i]:frames.offset[i] + frames.caplen[i]]``.

The formats, field by field, as their specifications state them:

- pcap: pcap-savefile(5) and draft-ietf-opsawg-pcap ("File Header", "Packet Record"), read
  the way libpcap's ``sf-pcap.c`` reads them (the version 2.3 and earlier length order,
  the modified 24-byte record header of magic ``a1b2cd34``);
- pcapng: draft-ietf-opsawg-pcapng ("General Block Structure", "Section Header Block",
  "Interface Description Block", "Enhanced Packet Block", "Simple Packet Block",
  "Packet Block" of the appendix), cross-checked with libpcap's ``sf-pcapng.c``.

The reading loop is linear in the size of the file: every step moves forward by at least
one record header (16 bytes in pcap, 12 in pcapng), no length read from the file is used
before it is checked against what the file holds, and nothing is allocated by such a
length, so a hostile file cannot make the reader loop, seek back or allocate more than
a few words per record. (A gzip stream is the exception it has to be: what it
decompresses to is held in memory, up to :data:`GZIP_LIMIT`.)
"""

from __future__ import annotations

import mmap
import struct
import zlib
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt

from ..errors import InputError
from ._formats import format_words

try:  # the compiled record walk (built with the package when a C compiler is there)
    from . import _fastpcap  # type: ignore[attr-defined]
except ImportError:  # pragma: no cover - a build without a compiler
    _fastpcap = None

#: A capture's bytes: in memory, or a read-only mapping of its file (see ``pcap._file_bytes``)
Buffer = bytes | mmap.mmap

#: The value of ``time_ns`` that stands for "no time" (pandas reads it as NaT).
NAT = int(np.iinfo(np.int64).min)
#: A captured length above this is absurd (libpcap's largest snapshot length is 256 KiB for
#: most link types, and tshark refuses longer records); such a packet is kept, with an
#: ``error``.
MAX_CAPLEN = 256 * 2**20
#: A gzip stream that decompresses to more than this is refused (the decompressed capture
#: is held in memory).
GZIP_LIMIT = 16 * 2**30

_GZIP_IN = 2**20  # compressed bytes fed to zlib at a time
_GZIP_OUT = 16 * 2**20  # decompressed bytes asked of zlib at a time

# pcap magic numbers, as the first four bytes of the file:
# "Magic Number (32 bits): an unsigned magic number, whose value is either the hexadecimal
# number 0xA1B2C3D4 or the hexadecimal number 0xA1B23C4D. If the value is 0xA1B2C3D4, time
# stamps in Packet Records are in seconds and microseconds; if it is 0xA1B23C4D, time stamps
# in Packet Records are in seconds and nanoseconds." (draft-ietf-opsawg-pcap)
# 0xA1B2CD34 is the modified format libpcap also reads: microseconds, a 24-byte record header.
_PCAP_MAGIC: dict[bytes, tuple[str, str, int]] = {
    # magic as bytes: (struct byte order, time resolution, record header length)
    b"\xd4\xc3\xb2\xa1": ("<", "us", 16),
    b"\xa1\xb2\xc3\xd4": (">", "us", 16),
    b"\x4d\x3c\xb2\xa1": ("<", "ns", 16),
    b"\xa1\xb2\x3c\x4d": (">", "ns", 16),
    b"\x34\xcd\xb2\xa1": ("<", "us", 24),
    b"\xa1\xb2\xcd\x34": (">", "us", 24),
}

# "Block Type: The block type of the Section Header Block is the integer corresponding to
# the 4-char string "\n\r\r\n" (0x0A0D0D0A). [...] This value is palindromic, so that the
# reader is able to recognize the Section Header Block regardless of the endianness of the
# section. The endianness is recognized by reading the Byte-Order Magic, which is located
# 8 octets after the Block Type." (draft-ietf-opsawg-pcapng)
_SHB_TYPE = b"\x0a\x0d\x0d\x0a"
# "Byte-Order Magic (32 bits): an unsigned magic number, whose value is the hexadecimal
# number 0x1A2B3C4D."
_BYTE_ORDER_MAGIC = {b"\x4d\x3c\x2b\x1a": "<", b"\x1a\x2b\x3c\x4d": ">"}

_SHB = 0x0A0D0D0A
_IDB = 1
_PB = 2
_SPB = 3
_EPB = 6
_BLOCK_NAMES = {
    _SHB: "Section Header Block",
    _IDB: "Interface Description Block",
    _PB: "Packet Block",
    _SPB: "Simple Packet Block",
    4: "Name Resolution Block",
    5: "Interface Statistics Block",
    _EPB: "Enhanced Packet Block",
    7: "IRIG Timestamp Block",
    8: "ARINC 429 Block",
    9: "Systemd Journal Export Block",
    10: "Decryption Secrets Block",
    0x00000BAD: "Custom Block",
    0x40000BAD: "Custom Block",
}

# Option codes: opt_endofopt ("Common Options"), and if_name, if_tsresol, if_tsoffset and
# if_tsoffset_ns ("Interface Description Block Options", draft-ietf-opsawg-pcapng).
_OPT_ENDOFOPT = 0
_IF_NAME = 2
_IF_TSRESOL = 9
_IF_TSOFFSET = 14
_IF_TSOFFSET_NS = 19

# The valid range of int64 nanoseconds (int64 min itself is NaT), in whole seconds and the
# nanoseconds allowed in the seconds at either end.
_MAX_SEC = (2**63 - 1) // 10**9  # 9223372036
_MAX_SEC_NS = (2**63 - 1) - _MAX_SEC * 10**9  # 854775807
_MIN_SEC = (-(2**63) + 1) // 10**9  # -9223372037 (rounded down)
_MIN_SEC_NS = (-(2**63) + 1) - _MIN_SEC * 10**9  # 145224193

_TIME_NAMES = {(10, 0): "s", (10, 3): "ms", (10, 6): "us", (10, 9): "ns"}


@dataclass
class Frames:
    """Where each packet of a capture is, and what its record says about it.

    Frame ``i`` is packet number ``i + 1`` (1-based, as Wireshark and ``tcpdump -#``
    count).

    Attributes
    ----------
    data : bytes or mmap.mmap
        The whole file's bytes (decompressed if it was gzip), or a mapping of the file.
    offset : numpy.ndarray of int64
        Where each packet's captured bytes start in ``data``.
    caplen : numpy.ndarray of int64
        Captured bytes of each packet (what ``data`` holds for it).
    origlen : numpy.ndarray of int64
        Length on the wire; -1 when the record does not say (a block too short to hold it).
    time_ns : numpy.ndarray of int64
        UTC nanoseconds since the epoch; :data:`NAT` (int64 min) when unknown or out of
        range, and then ``error`` says why.
    linktype : numpy.ndarray of int32
        LINKTYPE_* of each packet's interface; -1 when the interface is unknown.
    interface : numpy.ndarray of int32
        pcapng interface id within its section (0 for pcap); -1 when it cannot be read.
    error : list of (str or None)
        Per packet: why a packet is short or odd, or why its time is unknown; None when
        fine.
    meta : dict
        What the file says about itself; see :func:`read_frames`.
    """

    data: Buffer
    offset: npt.NDArray[np.int64]
    caplen: npt.NDArray[np.int64]
    origlen: npt.NDArray[np.int64]
    time_ns: npt.NDArray[np.int64]
    linktype: npt.NDArray[np.int32]
    interface: npt.NDArray[np.int32]
    error: list[str | None]
    meta: dict[str, Any]


def capture_kind(head: bytes) -> str | None:
    """Tell a capture from its first bytes.

    Parameters
    ----------
    head : bytes
        The first bytes of the file (12 are enough; fewer than 12 cannot show a pcapng).

    Returns
    -------
    str or None
        ``"pcap"`` (microsecond time stamps, either byte order, also the modified
        ``a1b2cd34`` format), ``"pcap-ns"`` (nanosecond time stamps), ``"pcapng"`` (a
        Section Header Block with its byte-order magic, either byte order), else None. A
        gzip stream is None: decompress its first bytes to ask about what it holds.

    Examples
    --------
    >>> capture_kind(bytes.fromhex("d4c3b2a1 0200 0400"))
    'pcap'
    >>> capture_kind(bytes.fromhex("a1b23c4d 0002 0004"))
    'pcap-ns'
    >>> capture_kind(bytes.fromhex("0a0d0d0a 1c000000 4d3c2b1a"))
    'pcapng'
    >>> capture_kind(b"12:00:00.000000 IP ...") is None
    True
    """
    magic = bytes(head[:4])
    found = _PCAP_MAGIC.get(magic)
    if found is not None:
        return "pcap-ns" if found[1] == "ns" else "pcap"
    if magic == _SHB_TYPE and bytes(head[8:12]) in _BYTE_ORDER_MAGIC:
        return "pcapng"
    return None


def read_frames(data: Buffer, name: str, *, strict: bool = False) -> Frames:
    """Find every packet record of a pcap or pcapng capture (or a gzip of either).

    Parameters
    ----------
    data : bytes or mmap.mmap
        The file's bytes (or a mapping of the file). A gzip stream (``1f 8b``) is
        decompressed first, up to :data:`GZIP_LIMIT`; several gzip members are read one
        after the other.
    name : str
        The file's name, for messages.
    strict : bool, default False
        Raise :class:`~incidentkit.errors.InputError` when the capture is cut off (inside
        a record, a block, or its gzip stream) instead of keeping every whole packet and
        saying so in ``meta["truncated"]``. Odd but whole packets never raise: their
        ``error`` says what is odd.

    Returns
    -------
    Frames
        One entry per packet record; ``meta`` holds:

        - ``format``: "pcap" or "pcapng"; ``version``: "2.4", "1.0", ...
        - ``byte_order``: "little" or "big" (of the first section);
        - ``time_resolution``: "us", "ns", "ms", "s", "1e-12", "2^-20", ... shared by
          every interface, "mixed" when they differ, None without interfaces;
        - ``snapshot_length``: of the pcap header, or of the first interface (None
          without interfaces);
        - ``link_types``: sorted link type numbers of the interfaces declared;
        - ``link_type_field``: the pcap header's whole 32-bit link type field (None for
          pcapng); ``fcs_length``: FCS bytes at the end of every packet when the pcap
          header says (its "P" bit), else None;
        - ``interfaces``: one dict per interface, with ``id`` (within its section),
          ``section`` (0-based), ``link_type``, ``snapshot_length``, ``tsresol`` ("1e-6",
          "2^-10", ...; None when unreadable), ``tsoffset`` (seconds), ``tsoffset_ns``,
          ``name`` (``if_name``) and ``problem`` (why its times are unknown, or None);
        - ``sections``: how many; ``section_headers``: per section ``section``,
          ``offset``, ``byte_order``, ``version`` and ``first_packet`` (0-based index of
          its first packet);
        - ``packets``: how many; ``skipped_blocks``: {block type: count} of the pcapng
          blocks that hold no packet and describe no section or interface (NRB, ISB, DSB,
          custom, unknown, and the blocks of a section of an unknown major version);
        - ``truncated``: None, or ``{"at_packet": k, "offset": byte, "what": ...}`` when
          the file is cut off: ``k`` is the number the cut record would have had,
          ``offset`` where it starts in ``data``;
        - ``trailing_bytes``: bytes after the last whole record (those of a cut record);
        - ``gzip``: None, or ``compressed_bytes``, ``members``, ``cut_short``,
          ``error`` and ``trailing_bytes`` of the gzip stream;
        - ``notes``: what else was odd about the file (an unusual version, ...).

    Raises
    ------
    InputError
        Data that is no capture (the message shows how it begins); an empty file; a
        pcap file header cut short; a pcapng block whose length is below 12 or not a
        multiple of 4, whose trailing copy of its length differs, a Section Header Block
        too short for its fields or with a bad byte-order magic (the message gives the
        byte offset); with ``strict``, a cut-off capture (naming the packet and offset).

    Notes
    -----
    Decisions where the formats leave room or the tools differ:

    - A record whose captured length runs past the end of the file is where the file
      was cut off (a capture killed while writing): the whole packets before it are kept
      and the cut one is not. tcpdump prints the same packets and then fails with
      "truncated dump file"; tshark says "cut short in the middle of a packet".
    - A captured length past the snapshot length, past the original length, or above
      :data:`MAX_CAPLEN` is kept whole (the file holds those bytes) with an ``error``.
      libpcap instead cuts such a packet to the snapshot length when the caplen is below
      its maximum for the link type, and refuses the file past that maximum; tshark
      refuses records above 256 KiB. A snapshot length of 0 is taken as "no limit".
    - A pcapng captured length that runs past its block is cut to what the block holds,
      with an ``error`` (libpcap stops there).
    - pcap time stamps: seconds are unsigned 32 bits, as the specification says (libpcap
      reads them signed). A fraction not below 10^6 (10^9 for nanosecond files) gives
      no time (NaT) and an ``error``; tcpdump prints such stamps with "(invalid us)".
    - pcapng time stamps are converted exactly (integer arithmetic, any ``if_tsresol``):
      the fraction is rounded down to nanoseconds, as libpcap does. ``if_tsoffset``
      (seconds) and ``if_tsoffset_ns`` are added. A time past what int64 nanoseconds
      hold (years 1677 to 2262) is NaT with an ``error``, as is every packet of an
      interface whose ``if_tsresol`` or ``if_tsoffset`` is unreadable or repeated, or a
      packet on an interface with no Interface Description Block (its link type is then
      -1), or a Simple Packet Block (it has no time stamp).
    - pcap versions other than 2.4 are read, with a note; versions before 2.3 and 543.0
      have the captured and original lengths in the older order, and 2.3 has them
      either way (swapped where the captured length is the larger), as libpcap reads them.
    - Several pcapng sections may differ in byte order (libpcap refuses that, tshark
      reads it); interface ids restart in each section. A section of a major version
      other than 1 is skipped, as the specification says, with a note.
    - An empty file raises (tcpdump: "truncated dump file"); a file header alone is a
      capture of no packets.

    Examples
    --------
    >>> import struct
    >>> head = struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 1)
    >>> record = struct.pack("<IIII", 1700000000, 250000, 4, 60) + b"\\x00" * 4
    >>> frames = read_frames(head + record, "example.pcap")
    >>> int(frames.time_ns[0]), int(frames.caplen[0]), int(frames.origlen[0])
    (1700000000250000000, 4, 60)
    """
    raw = data if isinstance(data, (bytes, mmap.mmap)) else bytes(data)
    gzip_meta: dict[str, Any] | None = None
    if raw[:2] == b"\x1f\x8b":
        raw, gzip_meta = _gunzip(raw, name)
        if strict and (gzip_meta["cut_short"] or gzip_meta["error"]):
            why = gzip_meta["error"] or "it is cut short"
            raise InputError(
                f"{name}: the gzip stream cannot be read to its end ({why}) after "
                f"{len(raw)} decompressed bytes"
            )
    after = " once decompressed" if gzip_meta is not None else ""
    if not raw:
        raise InputError(
            f"{name}: the file is empty{after} (0 bytes), not a pcap or pcapng capture"
        )
    kind = capture_kind(raw[:12])
    if kind is None:
        if raw[:4] == _SHB_TYPE:
            if len(raw) < 12:
                raise InputError(
                    f"{name}: a pcapng Section Header Block cut short ({len(raw)} bytes{after})"
                )
            raise InputError(
                f"{name}: not a pcapng capture: the Section Header Block at byte 0 has the "
                f"byte-order magic {raw[8:12].hex()}, neither 1a2b3c4d nor 4d3c2b1a"
            )
        known = format_words(bytes(raw[:20]), name)
        raise InputError(
            f"{name}: not a pcap or pcapng capture{': ' + known if known else ''} "
            f"(it begins {_describe(raw)}{after})"
            + ("; a tcpdump text log is read with read_tcpdump" if _looks_like_text(raw) else "")
        )
    frames = _read_pcapng(raw, name) if kind == "pcapng" else _read_pcap(raw, name)
    meta = frames.meta
    meta["gzip"] = gzip_meta
    if gzip_meta is not None and (gzip_meta["cut_short"] or gzip_meta["error"]):
        why = gzip_meta["error"] or "cut short"
        meta["notes"].append(f"the gzip stream is {why}: the capture may go on past its end")
        if meta["truncated"] is None:
            meta["truncated"] = {
                "at_packet": meta["packets"] + 1,
                "offset": len(raw),
                "what": f"the gzip stream is {why} (the capture may go on)",
            }
    if strict and meta["truncated"] is not None:
        cut = meta["truncated"]
        raise InputError(
            f"{name}: the capture is cut off at packet {cut['at_packet']}, byte "
            f"{cut['offset']}{after}: {cut['what']}"
        )
    return frames


# --------------------------------------------------------------------------------------
# gzip


def _gunzip(data: Buffer, name: str, limit: int = GZIP_LIMIT) -> tuple[bytes, dict[str, Any]]:
    """Decompress every gzip member of ``data``, keeping what a cut or damaged one gave.

    The compressed bytes are fed ``_GZIP_IN`` at a time and the output asked for
    ``_GZIP_OUT`` at a time, so each step either consumes input or yields output; past
    ``limit`` decompressed bytes it raises :class:`InputError`.
    """
    info: dict[str, Any] = {
        "compressed_bytes": len(data),
        "members": 0,
        "cut_short": False,
        "error": None,
        "trailing_bytes": 0,
    }
    out: list[bytes] = []
    total = 0
    view = memoryview(data)
    pos = 0
    n = len(data)
    while pos < n:
        if data[pos : pos + 2] != b"\x1f\x8b":
            # after the last member: zero padding (as some writers leave) or other bytes
            info["trailing_bytes"] = n - pos
            break
        info["members"] += 1
        unzip = zlib.decompressobj(wbits=16 + zlib.MAX_WBITS)
        try:
            while not unzip.eof and pos < n:
                chunk = view[pos : pos + _GZIP_IN]
                pos += len(chunk)
                pending: bytes | memoryview = chunk
                while True:
                    piece = unzip.decompress(pending, _GZIP_OUT)
                    pending = unzip.unconsumed_tail
                    if piece:
                        total += len(piece)
                        if total > limit:
                            raise InputError(
                                f"{name}: the gzip stream decompresses to more than "
                                f"{_size(limit)}; decompress it first and read a part of "
                                f"the capture (editcap -r, tcpdump -c)"
                            )
                        out.append(piece)
                    if unzip.eof or len(piece) < _GZIP_OUT:
                        break
            if unzip.eof:
                pos -= len(unzip.unused_data)
            else:
                info["cut_short"] = True
        except zlib.error as exc:
            info["error"] = f"damaged: {exc}"
            break
    view.release()
    return b"".join(out), info


# --------------------------------------------------------------------------------------
# pcap


def _read_pcap(data: Buffer, name: str) -> Frames:
    """Read a pcap file: the file header, then packet records to the end."""
    n = len(data)
    if n < 24:
        raise InputError(f"{name}: the pcap file header is cut short ({n} of 24 bytes)")
    order, resolution, header_len = _PCAP_MAGIC[data[:4]]
    notes: list[str] = []
    # File Header (draft-ietf-opsawg-pcap): "Major Version (16 bits): an unsigned value,
    # giving the number of the current major version of the format. The value for the
    # current version of the format is 2." "Minor Version (16 bits): [...] The value is for
    # the current version of the format is 4." "Reserved1 (32 bits): not used [...] MUST be
    # ignored by pcap file readers. This value was documented by some older implementations
    # as "gmt to local correction"" (thiszone); Reserved2 likewise (sigfigs). "SnapLen (32
    # bits): an unsigned value indicating the maximum number of octets captured from each
    # packet. [...] This value MUST NOT be zero". "LinkType and additional information (32
    # bits)": from the most significant bit, "FCS len" (4 bits: "the number of 16-bit
    # (2-octet) words of FCS that are appended to each packet, if the P bit is set"), "R"
    # (1 bit, unused), "P" (1 bit), "Reserved3" (10 bits: "a reader SHOULD treat a non-zero
    # value as an error"), "Link-layer type" (16 bits).
    major, minor, thiszone, _sigfigs, snaplen, link_field = struct.unpack_from(
        order + "HHiIII", data, 4
    )
    link_type = link_field & 0xFFFF
    fcs_length = None
    if link_field & 0x04000000:
        fcs_length = 2 * ((link_field >> 28) & 0xF)
    if link_field & 0x0BFF0000:
        notes.append(
            f"the link type field {link_field:#010x} has reserved bits set (read as {link_type})"
        )
    version = f"{major}.{minor}"
    if header_len == 24:
        notes.append(
            "the modified pcap format (magic a1b2cd34): 24-byte record headers, read as "
            "libpcap reads them"
        )
    if major < 2:  # sf-pcap.c: "archaic pcap savefile format"; tcpdump and tshark refuse it
        raise InputError(
            f"{name}: pcap version {version}: an archaic or damaged file header (libpcap "
            "reads version 2.x)"
        )
    if (major, minor) != (2, 4):
        notes.append(f"pcap version {version} (2.4 expected)")
    if thiszone:
        notes.append(f"the file header's thiszone is {thiszone} s: ignored, as tcpdump does")
    if snaplen == 0:
        notes.append("the snapshot length is 0: taken as no limit")

    # libpcap: "We interchanged the caplen and len fields at version 2.3, in order to
    # match the bpf header layout. But unfortunately some files were written with version
    # 2.3 in their headers but without the interchanged fields." DG/UX tcpdump writes 543.0
    # with them in the older order too. So the captured length (the bytes that follow)
    # is the second field before 2.3 and in 543.0, and the smaller one in 2.3.
    swapped = 0
    if (major == 2 and minor < 3) or (major, minor) == (543, 0):
        swapped = 1
        notes.append(f"version {version}: the captured and original lengths in the older order")
    elif (major, minor) == (2, 3):
        swapped = 2
        notes.append("version 2.3: the captured length is the smaller of the two lengths")

    offsets, seconds, fractions, captured, original, pos, cut = _walk(
        data, header_len, order, swapped
    )
    truncated: dict[str, Any] | None = None
    if cut >= 0:
        what = f"packet {len(offsets) + 1}'s data cut short ({n - pos - header_len} of {cut} bytes)"
        truncated = {"at_packet": len(offsets) + 1, "offset": pos, "what": what + _absurd(cut)}
    elif pos < n:
        truncated = {
            "at_packet": len(offsets) + 1,
            "offset": pos,
            "what": f"a record header cut short ({n - pos} of {header_len} bytes)",
        }

    count = len(offsets)
    caplen = np.asarray(captured, dtype=np.int64)
    origlen = np.asarray(original, dtype=np.int64)
    problems: dict[int, list[str]] = {}
    per_second = 10**6 if resolution == "us" else 10**9
    fracs = np.asarray(fractions, dtype=np.int64)
    bad_fraction = fracs >= per_second
    unit = "microseconds" if resolution == "us" else "nanoseconds"
    for i in np.flatnonzero(bad_fraction).tolist():
        problems[i] = [
            f"the time stamp's {unit} ({fractions[i]}) are not below {per_second}: no time"
        ]
    time_ns, _ok = _seconds_to_ns(
        np.asarray(seconds, dtype=np.int64), fracs * (10**9 // per_second)
    )
    time_ns[bad_fraction] = NAT
    _check_lengths(caplen, origlen, np.full(count, snaplen, dtype=np.int64), problems)
    return _pcap_frames(
        data, np.asarray(offsets, dtype=np.int64), caplen, origlen, time_ns, problems,
        (order, resolution, version, snaplen, link_type, link_field, fcs_length, notes),
        truncated, n - pos,
    )  # fmt: skip


def _walk(
    data: Buffer, header_len: int, order: str, swapped: int
) -> tuple[Any, Any, Any, Any, Any, int, int]:
    """The packet records from byte 24: their data offsets, seconds, fractions, captured
    and original lengths; where the walk stopped; the captured length of a record cut
    short there (-1 when none was). In the compiled decoder when it is built."""
    if _fastpcap is not None:
        arrays, pos, cut = _fastpcap.walk(data, 24, header_len, order == ">", swapped)
        return (*(np.frombuffer(a, dtype=np.int64) for a in arrays), pos, cut)
    return _walk_python(data, header_len, order, swapped)


def _walk_python(
    data: Buffer, header_len: int, order: str, swapped: int
) -> tuple[Any, Any, Any, Any, Any, int, int]:
    n = len(data)
    offsets: list[int] = []
    seconds: list[int] = []
    fractions: list[int] = []
    captured: list[int] = []
    original: list[int] = []
    put_offset, put_sec, put_frac = offsets.append, seconds.append, fractions.append
    put_cap, put_orig = captured.append, original.append
    # Packet Record: "Timestamp (Seconds) (32 bits): an unsigned value [...] Timestamp
    # (Microseconds or nanoseconds) (32 bits) [...] Captured Packet Length (32 bits): an
    # unsigned value that indicates the number of octets captured from the packet (i.e.
    # the length of the Packet Data field). Original Packet Length (32 bits): an unsigned
    # value that indicates the actual length of the packet when it was transmitted on the
    # network." (The modified format adds ifindex, protocol, pkt_type and a pad byte.)
    record = struct.Struct(order + "IIII").unpack_from
    pos = 24
    last_header = n - header_len
    while pos <= last_header:
        ts_sec, ts_frac, incl_len, orig_len = record(data, pos)
        if swapped and (swapped == 1 or incl_len > orig_len):
            incl_len, orig_len = orig_len, incl_len
        start = pos + header_len
        if incl_len > n - start:
            return offsets, seconds, fractions, captured, original, pos, incl_len
        put_offset(start)
        put_sec(ts_sec)
        put_frac(ts_frac)
        put_cap(incl_len)
        put_orig(orig_len)
        pos = start + incl_len
    return offsets, seconds, fractions, captured, original, pos, -1


def _pcap_frames(
    data: Buffer,
    offsets: Any,
    caplen: Any,
    origlen: Any,
    time_ns: Any,
    problems: dict[int, list[str]],
    header: tuple[Any, ...],
    truncated: dict[str, Any] | None,
    trailing: int,
) -> Frames:
    """The Frames of a pcap file, with its metadata."""
    order, resolution, version, snaplen, link_type, link_field, fcs_length, notes = header
    count = len(offsets)
    interface = {
        "id": 0,
        "section": 0,
        "link_type": link_type,
        "snapshot_length": snaplen,
        "tsresol": "1e-6" if resolution == "us" else "1e-9",
        "tsoffset": 0,
        "tsoffset_ns": 0,
        "name": None,
        "problem": None,
    }
    meta: dict[str, Any] = {
        "format": "pcap",
        "version": version,
        "byte_order": "little" if order == "<" else "big",
        "time_resolution": resolution,
        "snapshot_length": snaplen,
        "link_types": [link_type],
        "link_type_field": link_field,
        "fcs_length": fcs_length,
        "interfaces": [interface],
        "sections": 1,
        "section_headers": [
            {
                "section": 0,
                "offset": 0,
                "byte_order": "little" if order == "<" else "big",
                "version": version,
                "first_packet": 0,
            }
        ],
        "packets": count,
        "skipped_blocks": {},
        "truncated": truncated,
        "trailing_bytes": trailing,
        "gzip": None,
        "notes": notes,
    }
    return Frames(
        data=data,
        offset=offsets,
        caplen=caplen,
        origlen=origlen,
        time_ns=time_ns,
        linktype=np.full(count, link_type, dtype=np.int32),
        interface=np.zeros(count, dtype=np.int32),
        error=_joined(problems, count),
        meta=meta,
    )


# --------------------------------------------------------------------------------------
# pcapng


@dataclass
class _Interface:
    """An Interface Description Block, as far as it could be read."""

    id: int
    section: int
    index: int  # in the file's list of interfaces
    link_type: int = -1
    snaplen: int = 0
    base: int = 10  # if_tsresol: 10 or 2 ...
    exp: int = 6  # ... to the minus this; default 10^-6
    offset_s: int = 0
    offset_ns: int = 0
    name: str | None = None
    problem: str | None = None  # why this interface's times are unknown
    seen: set[int] = field(default_factory=set)  # option codes seen once

    def meta(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "section": self.section,
            "link_type": self.link_type,
            "snapshot_length": self.snaplen,
            "tsresol": None if self.problem else _resolution_label(self.base, self.exp),
            "tsoffset": self.offset_s,
            "tsoffset_ns": self.offset_ns,
            "name": self.name,
            "problem": self.problem,
        }


@dataclass
class _Order:
    """The structs of one byte order."""

    name: str
    u32: Any
    two_u32: Any
    shb: Any  # major, minor, section length
    idb: Any  # link type, reserved, snap length
    epb: Any  # interface id, time stamp (upper, lower), captured length, original length
    pb: Any  # interface id, drops count, time stamp (upper, lower), captured, original
    opt: Any  # option code, option length
    i64: Any
    i32: Any


def _order(prefix: str) -> _Order:
    return _Order(
        name="little" if prefix == "<" else "big",
        u32=struct.Struct(prefix + "I").unpack_from,
        two_u32=struct.Struct(prefix + "II").unpack_from,
        shb=struct.Struct(prefix + "HHq").unpack_from,
        idb=struct.Struct(prefix + "HHI").unpack_from,
        epb=struct.Struct(prefix + "IIIII").unpack_from,
        pb=struct.Struct(prefix + "HHIIII").unpack_from,
        opt=struct.Struct(prefix + "HH").unpack_from,
        i64=struct.Struct(prefix + "q").unpack_from,
        i32=struct.Struct(prefix + "i").unpack_from,
    )


_ORDERS = {"<": _order("<"), ">": _order(">")}


def _read_pcapng(data: Buffer, name: str) -> Frames:
    """Read a pcapng file block by block (the first block is a Section Header Block)."""
    n = len(data)
    order = _ORDERS["<"]
    section = -1
    skipping = False  # in a section of a major version this reader does not know
    current: list[_Interface] = []  # the interfaces of the current section, by id
    interfaces: list[_Interface] = []  # every interface, in file order
    skipped: dict[int, int] = {}
    notes: list[str] = []
    headers: list[dict[str, Any]] = []
    offsets: list[int] = []
    captured: list[int] = []
    original: list[int] = []
    stamps: list[int] = []  # 64-bit time stamps in the interface's units (0 when none)
    timed: list[bool] = []  # False for a Simple Packet Block or an unreadable one
    owner: list[int] = []  # index in ``interfaces``, -1 when unknown
    ids: list[int] = []  # interface id as the block says it, -1 when unreadable
    at: list[int] = []  # the packet number (0-based) of each of those
    runs: list[tuple[int, Any, Any]] = []  # (first packet, arrays, owners) of each C run
    count = 0
    problems: dict[int, list[str]] = {}
    truncated: dict[str, Any] | None = None
    pos = 0
    epb_type = {"little": b"\x06\0\0\0", "big": b"\0\0\0\x06"}
    while pos < n:
        left = n - pos
        k = count + 1
        if (
            _fastpcap is not None
            and current
            and not skipping
            and data[pos : pos + 4] == epb_type[order.name]
        ):  # a run of Enhanced Packet Blocks with nothing to say, in the compiled walker
            arrays, stop, _ = _fastpcap.walk_epb(data, pos, order.name == "big", len(current))
            if stop > pos:
                columns = [np.frombuffer(a, dtype=np.int64) for a in arrays]
                # (a section's interfaces are numbered on from its first one's index)
                runs.append((count, columns, columns[1] + current[0].index))
                count += len(columns[0])
                pos = stop
                continue
        if left < 8:
            truncated = {
                "at_packet": k,
                "offset": pos,
                "what": f"a block header cut short ({left} of 8 bytes)",
            }
            break
        if data[pos : pos + 4] == _SHB_TYPE:
            # "The endianness is recognized by reading the Byte-Order Magic, which is
            # located 8 octets after the Block Type."
            if left < 12:
                truncated = {
                    "at_packet": k,
                    "offset": pos,
                    "what": f"a Section Header Block cut short ({left} bytes)",
                }
                break
            magic = data[pos + 8 : pos + 12]
            if magic not in _BYTE_ORDER_MAGIC:
                raise InputError(
                    f"{name}: the Section Header Block at byte {pos} has the byte-order "
                    f"magic {magic.hex()}, neither 1a2b3c4d nor 4d3c2b1a: the file is damaged"
                )
            order = _ORDERS[_BYTE_ORDER_MAGIC[magic]]
        # General Block Structure: "Block Type (32 bits): a unique unsigned integer that
        # identifies the block. [...] Block Total Length (32 bits): an unsigned integer
        # giving the total size of this block, in octets. For instance, the length of a
        # block that does not have a body is 12 octets [...] This value MUST be a multiple
        # of 4. Block Body: content of the block. Block Total Length: total size of this
        # block, in octets. This field is duplicated to permit backward file navigation."
        block_type, length = order.two_u32(data, pos)
        label = _BLOCK_NAMES.get(block_type, f"block of type {block_type:#010x}")
        if length < 12 or length % 4:
            why = "less than 12" if length < 12 else "not a multiple of 4"
            raise InputError(
                f"{name}: the {label} at byte {pos} has a total length of {length}, {why}: "
                f"the file is damaged"
            )
        if length > left:
            what = (
                f"packet {k}'s block cut short ({left} of {length} bytes)"
                if block_type in (_EPB, _PB, _SPB)
                else f"a {label} cut short ({left} of {length} bytes)"
            )
            truncated = {"at_packet": k, "offset": pos, "what": what + _absurd(length - 12)}
            break
        (trailer,) = order.u32(data, pos + length - 4)
        if trailer != length:
            raise InputError(
                f"{name}: the {label} at byte {pos} gives its total length as {length} at "
                f"its start and {trailer} at its end: the file is damaged"
            )
        body, end = pos + 8, pos + length - 4
        if block_type == _SHB:
            # "Byte-Order Magic (32 bits) [...] Major Version (16 bits): an unsigned
            # integer, giving the number of the current major version of the format. The
            # value for the current version of the format is 1 [...] Minor Version (16
            # bits) [...] Section Length (64 bits): a signed integer specifying the length
            # in octets of the following section" (-1: not specified; not needed here).
            if end - body < 16:
                raise InputError(
                    f"{name}: the Section Header Block at byte {pos} is {length} bytes long, "
                    f"too short for its fields (28 bytes at least): the file is damaged"
                )
            major, minor, _section_length = order.shb(data, body + 4)
            section += 1
            current = []
            # "In case an application cannot read a Section because of different version
            # number, it MUST skip everything until the next Section Header Block."
            skipping = major != 1
            if skipping:
                notes.append(
                    f"section {section} (byte {pos}) is pcapng version {major}.{minor}: "
                    f"its blocks are skipped"
                )
            elif minor not in (0, 2):
                notes.append(f"section {section} (byte {pos}) is pcapng version {major}.{minor}")
            headers.append(
                {
                    "section": section,
                    "offset": pos,
                    "byte_order": order.name,
                    "version": f"{major}.{minor}",
                    "first_packet": count,
                }
            )
        elif skipping:
            skipped[block_type] = skipped.get(block_type, 0) + 1
        elif block_type == _IDB:
            iface = _read_idb(data, pos, body, end, order, len(current), section, len(interfaces))
            current.append(iface)
            interfaces.append(iface)
        elif block_type in (_EPB, _PB, _SPB):
            index = count
            room = end - body
            reasons: list[str] = []
            if block_type == _SPB:
                # "Original Packet Length (32 bits) [...] Packet Data: [...] it is the
                # minimum value among the SnapLen (present in the Interface Description
                # Block) and the Original Packet Length". "The Simple Packet Block does
                # not contain the Interface ID field. Therefore, it MUST be assumed that
                # all the Simple Packet Blocks have been captured on the interface
                # previously specified in the first Interface Description Block."
                iface_id, units, has_time, start = 0, 0, False, body + 4
                if room < 4:
                    orig, cap = -1, 0
                    reasons.append(f"its {label} at byte {pos} has no room for its original length")
                else:
                    (orig,) = order.u32(data, body)
                    want = orig
                    if current and 0 < current[0].snaplen < want:
                        want = current[0].snaplen
                    cap = min(want, end - start)
                    if cap < want:
                        reasons.append(
                            f"its block holds {end - start} of the {want} bytes it should"
                        )
                reasons.append("a Simple Packet Block carries no time stamp")
            else:
                # Enhanced Packet Block: "Interface ID (32 bits) [...] Timestamp (64 bits):
                # two 32-bit unsigned integers, representing a single 64-bit unsigned
                # integer, with the first value being the upper 32 bits [...] Captured
                # Packet Length (32 bits) [...] Original Packet Length (32 bits) [...]
                # Packet Data [...] padded to a 32-bit boundary". The obsolete Packet
                # Block: "Interface ID (16 bits) [...] Drops Count (16 bits)", then the
                # same fields.
                if room < 20:
                    iface_id, units, has_time, start, orig, cap = -1, 0, False, end, -1, 0
                    reasons.append(
                        f"its {label} at byte {pos} is {length} bytes long, too short for "
                        f"its fields (32 bytes at least)"
                    )
                else:
                    if block_type == _EPB:
                        iface_id, high, low, cap, orig = order.epb(data, body)
                    else:
                        iface_id, _drops, high, low, cap, orig = order.pb(data, body)
                    units, has_time, start = (high << 32) | low, True, body + 20
                    if cap > end - start:
                        reasons.append(
                            f"captured length {cap} runs past its block ({end - start} "
                            f"bytes of packet data)"
                        )
                        cap = end - start
            who = -1
            if iface_id >= 0:
                if iface_id < len(current):
                    who = current[iface_id].index
                else:
                    reasons.append(
                        f"interface {iface_id} has no Interface Description Block in section "
                        f"{section} (it has {len(current)}): link type and time unknown"
                    )
                    has_time = False
            at.append(index)
            count += 1
            offsets.append(start)
            captured.append(cap)
            original.append(orig)
            stamps.append(units)
            timed.append(has_time)
            owner.append(who)
            ids.append(iface_id if 0 <= iface_id < 2**31 else -1)
            if reasons:
                problems[index] = reasons
        else:
            # "This structure, shared among all blocks, makes it easy to process a file and
            # to skip unneeded or unknown blocks." (NRB, ISB, DSB, Custom Blocks, ...)
            skipped[block_type] = skipped.get(block_type, 0) + 1
        pos += length

    # the packets of the compiled walker's runs and of this loop, in their places
    starts, owners, caplen, origlen = (np.empty(count, dtype=np.int64) for _ in range(4))
    counts, iface_ids = np.empty(count, dtype=np.uint64), np.empty(count, dtype=np.int32)
    is_timed = np.ones(count, dtype=bool)
    for run_start, (offs, run_ids, units, caps, origs), run_owners in runs:
        rows = slice(run_start, run_start + len(offs))
        starts[rows], iface_ids[rows], counts[rows] = offs, run_ids, units.view(np.uint64)
        caplen[rows], origlen[rows], owners[rows] = caps, origs, run_owners
    rows_py = np.array(at, dtype=np.int64)
    starts[rows_py], caplen[rows_py], origlen[rows_py] = offsets, captured, original
    counts[rows_py], is_timed[rows_py] = stamps, timed
    owners[rows_py], iface_ids[rows_py] = owner, ids
    link_table = np.array([i.link_type for i in interfaces] + [-1], dtype=np.int32)
    snap_table = np.array([i.snaplen for i in interfaces] + [0], dtype=np.int64)
    _check_lengths(caplen, origlen, snap_table[owners], problems)
    time_ns = np.full(count, NAT, dtype=np.int64)
    _stamp_times(counts, is_timed, owners, interfaces, time_ns, problems)

    labels = {_resolution_label(i.base, i.exp) for i in interfaces if not i.problem}
    resolution = None
    if len(labels) == 1:
        first = next(i for i in interfaces if not i.problem)
        resolution = _TIME_NAMES.get((first.base, first.exp), labels.pop())
    elif labels:
        resolution = "mixed"
    meta: dict[str, Any] = {
        "format": "pcapng",
        "version": headers[0]["version"] if headers else None,
        "byte_order": headers[0]["byte_order"] if headers else order.name,
        "time_resolution": resolution,
        "snapshot_length": interfaces[0].snaplen if interfaces else None,
        "link_types": sorted({i.link_type for i in interfaces if i.link_type >= 0}),
        "link_type_field": None,
        "fcs_length": None,
        "interfaces": [i.meta() for i in interfaces],
        "sections": len(headers),
        "section_headers": headers,
        "packets": count,
        "skipped_blocks": skipped,
        "truncated": truncated,
        "trailing_bytes": n - pos,
        "gzip": None,
        "notes": notes,
    }
    return Frames(
        data=data,
        offset=starts,
        caplen=caplen,
        origlen=origlen,
        time_ns=time_ns,
        linktype=link_table[owners],
        interface=iface_ids,
        error=_joined(problems, count),
        meta=meta,
    )


def _stamp_times(
    counts: npt.NDArray[np.uint64],
    timed: npt.NDArray[np.bool_],
    owners: npt.NDArray[np.int64],
    interfaces: list[_Interface],
    time_ns: npt.NDArray[np.int64],
    problems: dict[int, list[str]],
) -> None:
    """Fill ``time_ns`` for the packets with a time stamp, and say why where there is none.

    The packets are converted a resolution at a time (``if_tsresol`` is one octet: at most
    256 of them), each with its interface's offsets, so a file of many interfaces costs no
    pass over the packets per interface.
    """
    which = np.flatnonzero(timed & (owners >= 0))
    if not len(which):
        return
    keys: dict[tuple[int, int] | None, int] = {}
    group_of = np.array(
        [keys.setdefault(None if i.problem else (i.base, i.exp), len(keys)) for i in interfaces],
        dtype=np.int64,
    )
    offset_s = np.array([i.offset_s for i in interfaces], dtype=np.int64)
    offset_ns = np.array([i.offset_ns for i in interfaces], dtype=np.int64)
    resolutions = list(keys)
    groups = group_of[owners[which]]
    for group in np.unique(groups).tolist():
        chunk = which[groups == group]
        key = resolutions[group]
        if key is None:
            for i in chunk.tolist():
                problems.setdefault(i, []).append(f"no time: {interfaces[owners[i]].problem}")
            continue
        base, exp = key
        own = owners[chunk]
        ns, ok = _units_to_ns(counts[chunk], base, exp, offset_s[own], offset_ns[own])
        time_ns[chunk] = ns
        for i in chunk[~ok].tolist():
            problems.setdefault(i, []).append(
                f"the time stamp ({int(counts[i])} units of {_resolution_label(base, exp)} s, "
                f"offset {interfaces[owners[i]].offset_s} s) is past what int64 nanoseconds "
                f"hold (years 1677 to 2262): no time"
            )


def _read_idb(
    data: Buffer,
    pos: int,
    body: int,
    end: int,
    order: _Order,
    iface_id: int,
    section: int,
    index: int,
) -> _Interface:
    """Read an Interface Description Block: link type, snap length, time stamp options."""
    iface = _Interface(id=iface_id, section=section, index=index)
    where = f"interface {iface_id} of section {section} (byte {pos})"
    # "LinkType (16 bits): an unsigned integer that defines the link layer type of this
    # interface. [...] Reserved (16 bits): not used [...] SnapLen (32 bits): an unsigned
    # integer indicating the maximum number of octets captured from each packet. [...] A
    # value of zero indicates no limit."
    if end - body < 8:
        iface.problem = f"the Interface Description Block of {where} is too short for its fields"
        return iface
    iface.link_type, _reserved, iface.snaplen = order.idb(data, body)
    options, cut = _options(data, body + 8, end, order)
    if cut:
        iface.problem = f"the options of {where} are damaged ({cut})"
    for code, start, size in options:
        if code in (_IF_TSRESOL, _IF_TSOFFSET, _IF_TSOFFSET_NS):
            if code in iface.seen:
                iface.problem = f"{where} has option {code} more than once"
                continue
            iface.seen.add(code)
        if code == _IF_NAME:
            # "if_name: [...] a UTF-8 string containing the name of the device used to
            # capture data. The string is not zero-terminated." (and a zero octet ends it)
            iface.name = data[start : start + size].split(b"\0", 1)[0].decode("utf-8", "replace")
        elif code == _IF_TSRESOL:
            # "if_tsresol: [...] If the Most Significant Bit is equal to zero, the
            # remaining bits indicates the resolution of the timestamp as a negative power
            # of 10 [...]. If the Most Significant Bit is equal to one, the remaining bits
            # indicates the resolution as negative power of 2 [...]. If this option is not
            # present, a resolution of 10^-6 is assumed"
            if size != 1:
                iface.problem = f"the if_tsresol option of {where} is {size} bytes long, not 1"
                continue
            value = data[start]
            iface.base, iface.exp = (2, value & 0x7F) if value & 0x80 else (10, value)
        elif code == _IF_TSOFFSET:
            # "if_tsoffset: [...] a 64-bit signed integer that specifies an offset (in
            # seconds) that must be added to the timestamp of each packet"
            if size != 8:
                iface.problem = f"the if_tsoffset option of {where} is {size} bytes long, not 8"
                continue
            (iface.offset_s,) = order.i64(data, start)
        elif code == _IF_TSOFFSET_NS:
            # "if_tsoffset_ns: [...] a 32-bit signed integer value that specifies an offset
            # (in nanoseconds) [...] MUST be greater than -1,000,000,000 and less than
            # 1,000,000,000."
            if size != 4:
                iface.problem = f"the if_tsoffset_ns option of {where} is {size} bytes long, not 4"
                continue
            (iface.offset_ns,) = order.i32(data, start)
            if not -(10**9) < iface.offset_ns < 10**9:
                iface.problem = f"the if_tsoffset_ns option of {where} is {iface.offset_ns}"
    return iface


def _options(
    data: Buffer, start: int, end: int, order: _Order
) -> tuple[list[tuple[int, int, int]], str | None]:
    """The options between ``start`` and ``end``: (code, value start, value length) each.

    "Option Type (16 bits) [...] Option Length (16 bits): an unsigned integer that contains
    the actual length of the following 'Option Value' field without the padding octets.
    Option Value (variable length): the value of the given option, padded to a 32-bit
    boundary." "Code that reads pcapng files MUST NOT assume an option list will have an
    opt_endofopt option at the end; it MUST also check for the end of the block".
    Returns the options and, when one runs past the block, what is wrong.
    """
    found: list[tuple[int, int, int]] = []
    pos = start
    while end - pos >= 4:
        code, size = order.opt(data, pos)
        if code == _OPT_ENDOFOPT:
            break
        value = pos + 4
        if size > end - value:
            return found, f"option {code} of {size} bytes runs past the block"
        found.append((code, value, size))
        pos = value + ((size + 3) & ~3)
    return found, None


# --------------------------------------------------------------------------------------
# times, lengths, messages


def _units_to_ns(
    units: npt.NDArray[np.uint64],
    base: int,
    exp: int,
    offset_s: npt.NDArray[np.int64],
    offset_ns: npt.NDArray[np.int64],
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.bool_]]:
    """Time stamps in units of ``base ** -exp`` s, plus per-packet offsets, as int64 ns.

    "The 'if_tsoffset' option value, converted from seconds to units of time, plus the
    timestamp value, represents the number of units of time that have elapsed since
    1970-01-01 00:00:00 UTC." Exact (integer arithmetic); the fraction of a second is
    rounded down to nanoseconds. Returns the times and which are valid (the others are
    :data:`NAT`).
    """
    per_second = base**exp
    if per_second < 2**64:
        seconds = units // np.uint64(per_second)
        fraction = units % np.uint64(per_second)
    else:  # a unit so small that no 64-bit count reaches a second
        seconds = np.zeros_like(units)
        fraction = units.copy()
    if base == 10 and exp >= 9:
        divisor = 10 ** (exp - 9)
        big = divisor >= 2**64  # no 64-bit count reaches a nanosecond
        frac_ns = np.zeros_like(fraction) if big else fraction // np.uint64(divisor)
    elif per_second * 10**9 < 2**64:
        frac_ns = fraction * np.uint64(10**9) // np.uint64(per_second)
    else:  # 2^-35 and finer: exact in Python integers
        frac_ns = np.array([f * 10**9 // per_second for f in fraction.tolist()], dtype=np.uint64)
    nanos = frac_ns.astype(np.int64) + offset_ns  # within (-1e9, 2e9)
    carry = np.floor_divide(nanos, 10**9)  # -1, 0 or 1
    nanos -= carry * 10**9
    # Whole seconds since the epoch, seconds + offset_s + carry, are summed modulo 2^64 and
    # read as int64. That is exact whenever the true sum can be a valid time (within about
    # 10^10 of zero) provided it cannot also be 2^64 more than one: so keep only packets
    # whose ``seconds`` are below 2^62 plus the magnitude of a negative offset (a valid
    # time needs them within 10^10 of minus the offset anyway).
    with np.errstate(over="ignore"):
        offset_u = offset_s.view(np.uint64)
        magnitude = np.uint64(0) - offset_u  # |offset_s| where it is negative
        near = np.where(offset_s >= 0, seconds < 2**62, seconds < magnitude + np.uint64(2**62))
        total = (seconds + offset_u + carry.astype(np.uint64)).view(np.int64)
    total[~near] = _MAX_SEC + 1  # out of range
    return _seconds_to_ns(total, nanos)


def _seconds_to_ns(
    seconds: npt.NDArray[np.int64], nanos: npt.NDArray[np.int64]
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.bool_]]:
    """``seconds * 10**9 + nanos`` (``0 <= nanos < 10**9``) where int64 holds it, else NaT."""
    ok = ((seconds > _MIN_SEC) & (seconds < _MAX_SEC)) | (
        ((seconds == _MAX_SEC) & (nanos <= _MAX_SEC_NS))
        | ((seconds == _MIN_SEC) & (nanos >= _MIN_SEC_NS))
    )
    with np.errstate(over="ignore"):
        # at the two end seconds the product wraps and the sum wraps back: exact modulo 2^64
        time_ns = np.clip(seconds, _MIN_SEC, _MAX_SEC) * np.int64(10**9) + nanos
    time_ns[~ok] = NAT
    return time_ns, ok


def _check_lengths(
    caplen: npt.NDArray[np.int64],
    origlen: npt.NDArray[np.int64],
    snaplen: npt.NDArray[np.int64],
    problems: dict[int, list[str]],
) -> None:
    """Say which captured lengths are past the snapshot length, the original, or sense."""
    past_snap = (snaplen > 0) & (caplen > snaplen)
    past_orig = (origlen >= 0) & (caplen > origlen)
    absurd = caplen > MAX_CAPLEN
    for i in np.flatnonzero(past_snap | past_orig | absurd).tolist():
        why = problems.setdefault(i, [])
        if past_snap[i]:
            why.append(f"captured length {caplen[i]} is past the snapshot length {snaplen[i]}")
        if past_orig[i]:
            why.append(f"captured length {caplen[i]} is past the original length {origlen[i]}")
        if absurd[i]:
            why.append(f"captured length {caplen[i]} is absurd (more than {_size(MAX_CAPLEN)})")


def _absurd(length: int) -> str:
    """What to add to a cut-off note when the length that ran past the end is absurd."""
    if length <= MAX_CAPLEN:
        return ""
    return f"; a length above {_size(MAX_CAPLEN)} is absurd: the file may be damaged, not cut"


def _joined(problems: dict[int, list[str]], count: int) -> list[str | None]:
    """The ``error`` list: each packet's problems joined with "; ", None for none."""
    error: list[str | None] = [None] * count
    for i, why in problems.items():
        error[i] = "; ".join(why)
    return error


def _resolution_label(base: int, exp: int) -> str:
    """``if_tsresol`` as a string: "1e-6", "2^-20"."""
    return f"1e-{exp}" if base == 10 else f"2^-{exp}"


def _size(n: int) -> str:
    for unit, scale in (("GiB", 2**30), ("MiB", 2**20), ("KiB", 2**10)):
        if n >= scale and n % scale == 0:
            return f"{n // scale} {unit}"
    return f"{n} bytes"


def _describe(data: Buffer) -> str:
    """The first bytes, in hex and as text: ``'48 54 54 50 ... (b"HTTP/1.1 ...")'``."""
    head = data[:16]
    more = " ..." if len(data) > 16 else ""
    return f"{head.hex(' ')}{more} = {head!r}{more}"


def _looks_like_text(data: Buffer) -> bool:
    head = data[:256]
    return bool(head) and all(32 <= b < 127 or b in (9, 10, 13) for b in head)
