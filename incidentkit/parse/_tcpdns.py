"""Where DNS messages begin in a capture's TCP connections.

Over TCP a DNS message is prefixed with its length (RFC 1035, 4.2.2), and a message may
take several segments: a large answer (DNSSEC, a long TXT, a zone transfer) comes as
segments of the path's MSS. Only the segment that begins a message holds its header; the
bytes of a later segment begin anywhere inside it, so a decoder that reads each segment
alone takes them for a prefix and a header and makes up queries and responses (tcpdump
prints ``[prefix length(20304) != length(1206)] (invalid)`` for them).

:func:`tcp_dns_messages` follows each direction of a connection on a DNS port by its
sequence numbers: the first message begins after the SYN, each next one ``2 + prefix``
bytes after the one before. A segment that begins a message keeps what was decoded of it,
also when the message goes on past the segment (its header, question and the records that
are whole in it: what pairs an answer with its query). A segment inside a message has no
DNS values and says which frame began the message. Where the connection's start was not
captured, or segments are missing, only a segment that holds one whole message is taken
as one, until the places are known again.

Both engines' frames go through it, so they stay equal (the compiled decoder leaves DNS
over TCP to the Python one).
"""

from __future__ import annotations

from typing import Final

import numpy as np
import pandas as pd

from ._dnsmsg import PREFIX_RE
from ._packets import DNS_PORTS

#: the columns a segment that begins no message has no value in
DNS_COLUMNS: Final = (
    "dns_id", "dns_qr", "dns_flags", "dns_qtype", "dns_qname", "dns_rcode", "dns_ancount",
    "dns_answers",
)  # fmt: skip
#: the columns the pass reads
_READ: Final = (
    "tcp_flags", "tcp_seq", "length", "dns_qr", "error", "src", "sport", "dst", "dport",
    "packet",
)  # fmt: skip
_MOD: Final = 1 << 32
_PORTS: Final = ("sport", "dport")
_DNS: Final = np.array(sorted(DNS_PORTS), dtype=np.int32)
_INSIDE: Final = "DNS: the segment continues the DNS message that frame {frame} begins"
#: (the connection's start or a segment before this one was not captured, or a segment
#: before it was too short to read a length from)
_UNKNOWN: Final = "DNS: no DNS message is known to begin at this segment"


def tcp_dns_messages(df: pd.DataFrame) -> pd.DataFrame:
    """``df`` (a capture's frame) with the DNS values of TCP segments that begin no DNS
    message taken away, and the reason in ``error``; the frame itself when there are none.

    Examples
    --------
    >>> import incidentkit as ik
    >>> df = ik.read_pcap("data/scenarios/firewall_reject.pcap")
    >>> tcp_dns_messages(df) is df
    True
    """
    tcp = np.flatnonzero((df["proto"] == "tcp").to_numpy(dtype=bool))
    ports = [df[c].array.take(tcp).to_numpy(dtype=np.int32, na_value=-1) for c in _PORTS]
    # (Series.isin() of a UInt16 column is 20 times slower)
    rows = tcp[np.isin(ports[0], _DNS) | np.isin(ports[1], _DNS)]
    if len(rows) == 0:
        return df
    # (each column through a boolean mask, not by positions: Arrow takes positions from a
    # text column of several chunks, as a frame decoded in parts has, by joining its
    # chunks first, a copy of the whole column; a mask filters chunk by chunk. A frame's
    # .loc[mask] takes positions too.)
    keep = np.zeros(len(df), dtype=bool)
    keep[rows] = True
    sub = {column: df[column][keep] for column in _READ}
    flags = sub["tcp_flags"].fillna("").to_list()
    seqs = sub["tcp_seq"].fillna("").to_list()
    sizes = sub["length"].fillna(0).astype("int64").to_list()
    decoded = sub["dns_qr"].notna().to_list()
    errors = sub["error"].fillna("").to_list()
    flows = list(zip(sub["src"], sub["sport"], sub["dst"], sub["dport"], strict=True))
    frames = sub["packet"].to_list()

    state: dict[tuple[object, ...], _Flow] = {}
    cleared: list[tuple[int, str]] = []
    for k in range(len(rows)):
        flow = state.setdefault(flows[k], _Flow())
        seq = _first_seq(seqs[k])
        if seq is None:
            continue
        if "S" in flags[k]:  # the data of a direction begins after its SYN
            flow.found((seq + 1) % _MOD, frames[k])
            continue
        if sizes[k] <= 0:
            continue
        note = PREFIX_RE.search(errors[k])
        whole = decoded[k] and note is None
        length = sizes[k] if whole else (2 + int(note.group(1)) if note else None)
        why = flow.place(seq, sizes[k], length, whole, frames[k])
        if why is not None and decoded[k]:
            cleared.append((k, why))
    if not cleared:
        return df
    out = df.copy()
    at = rows[[k for k, _ in cleared]]
    for column in DNS_COLUMNS:
        values = out[column].array.copy()
        values[at] = pd.NA
        out[column] = values
    error = out["error"].array.copy()
    error[at] = [_joined(errors[k], why) for k, why in cleared]
    out["error"] = error
    return out


class _Flow:
    """One direction of a connection: where its next DNS message begins (when known), the
    places messages were seen to begin (a segment sent again begins one too) and the
    frame that began the current message."""

    __slots__ = ("frame", "next", "starts")

    def __init__(self) -> None:
        self.next: int | None = None
        self.starts: dict[int, int] = {}
        self.frame = 0

    def found(self, start: int, frame: int) -> None:
        self.next = start
        self.starts[start] = frame
        self.frame = frame

    def place(self, seq: int, size: int, length: int | None, whole: bool, frame: int) -> str | None:
        """Take the segment of ``size`` bytes at ``seq``; ``length`` is the message's
        (prefix included) when the segment was read as beginning one, ``whole`` when it
        holds exactly one. None when the segment begins a message (or holds no DNS
        message to speak of); otherwise why its DNS values go."""
        if seq in self.starts:  # (a segment sent again begins its message again)
            self._began(seq, size, length, frame)
            return None
        if self.next is not None:
            ahead = (seq - self.next) % _MOD
            if ahead == 0:
                self._began(seq, size, length, frame)
                return None
            if ahead >= _MOD // 2:  # before the next message: inside the current one
                if (self.next - seq) % _MOD < size:  # ... and a new one begins within it
                    self.next = None
                return _INSIDE.format(frame=self.frame)
            self.next = None  # segments were not captured: the places are lost
        if whole:
            self._began(seq, size, length, frame)
            return None
        return _UNKNOWN

    def _began(self, seq: int, size: int, length: int | None, frame: int) -> None:
        self.starts[seq] = frame
        self.frame = frame
        # a message that ends inside the segment is followed by another whose length is
        # in bytes this pass does not see: the places are lost until a whole one
        self.next = (seq + length) % _MOD if length is not None and length >= size else None


def _first_seq(text: str) -> int | None:
    """The sequence number a segment's ``tcp_seq`` ("s" or "s:e") begins at."""
    head = text.split(":", 1)[0]
    return int(head) if head.isdigit() and len(head) <= 10 else None


def _joined(error: str, why: str) -> str:
    """``error`` with its prefix note replaced by ``why``."""
    kept = [part for part in error.split("; ") if part and not PREFIX_RE.search(part)]
    return "; ".join([*kept, why])
