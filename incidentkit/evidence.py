"""What a capture shows about each DNS server, in a small record that adds up.

:func:`evidence` reads a frame once and keeps, per server (address, port, transport),
what became of every query sent to it, and, per host, the signs of life, address
resolution and TCP handshakes the rules of :mod:`incidentkit.rules` need. The record is
made of counters, capped lists of record numbers and per-interval counts, so the
evidence of two parts of a capture (or of two sensors) adds up with ``+`` to the
evidence of both: ``evidence(a) + evidence(b) == evidence(pd.concat([a, b]))`` in what
the diagnosis reads.

Adding up at the seam
---------------------
A query near the end of one part may be answered in the next. Each part therefore
keeps its rows of the first and last ``2 * C`` of its time span as they are (``C`` is the
longer of the reply and retry windows), and counts the queries of the middle, whose
pairing the seam cannot change. ``a + b`` pairs ``a``'s last rows with ``b``'s first
rows and counts the queries around the seam that neither part counted, as far as the seam
reaches: up to ``C`` before the end of the later part, so that a run of short parts
(shorter than ``2 * C``: they count nothing themselves and keep all their rows) is
counted only where the parts after it can no longer change a pairing.
:meth:`Evidence.settled` counts what is left at the two ends.
This is exact as long as no query's pairing depends on a packet more than ``C`` away
(one client port and DNS id asked again and again, each answer after the next query,
for longer than ``C``: nothing a resolver does). A row without a time (a time out of
range) is counted in the middle of its own part and pairs only within that part.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field, fields, replace
from typing import Any, Final

import numpy as np
import pandas as pd

from . import schema
from .dns import OUTCOMES, _no_gc, _ns_array, _positions, _transactions, pairable
from .icmp import KINDS, is_error

#: Rcodes that say the server refused or failed to resolve the question.
FAIL_RCODES: Final = frozenset(
    {"ServFail", "Refused", "FormErr", "NotImp", "NotAuth", "NotZone", "YXDomain", "NXRRSet"}
)
_KIND_NAMES: Final = ["port", "host", "route", "filter", "path", "other"]
#: How many record numbers each kind of evidence keeps (its count is always kept).
CAP: Final = 50
#: the width of the intervals an outage is found in (``ServerEvidence.fine_good``)
FINE_NS: Final = 100_000_000

_NEEDED: Final = (
    "record", "line", "time", "proto", "src", "dst", "sport", "dport", "length", "dns_id", "dns_qr",
    "dns_flags", "dns_qtype", "dns_qname", "dns_rcode", "dns_ancount", "dns_answers",
    "icmp_type", "icmp_code", "icmp_reason", "icmp_orig_proto", "icmp_orig_src",
    "icmp_orig_sport", "icmp_orig_dst", "icmp_orig_dport", "icmp_orig_dns_id", "tcp_flags",
    "info",
)  # fmt: skip
_WHO_HAS: Final = re.compile(r"who has ([0-9A-Fa-f:.]+)")
_TGT_IS: Final = re.compile(r"tgt is ([0-9A-Fa-f:.]+)")


@dataclass(frozen=True)
class Settings:
    """The windows and names the evidence is taken with (two records add up only when
    their settings are equal)."""

    reply_window: pd.Timedelta = field(default_factory=lambda: pd.Timedelta("5min"))
    retry_window: pd.Timedelta = field(default_factory=lambda: pd.Timedelta("5min"))
    freq: str = "1s"
    retry_min_gap: pd.Timedelta = field(default_factory=lambda: pd.Timedelta("100ms"))
    domain: str | None = None
    expected_address: str | None = None

    def __post_init__(self) -> None:  # windows may be given as text ("5min")
        for name in ("reply_window", "retry_window", "retry_min_gap"):
            object.__setattr__(self, name, pd.Timedelta(getattr(self, name)))

    @property
    def context(self) -> pd.Timedelta:
        return max(self.reply_window, self.retry_window)


def _capped(a: list[int], b: list[int]) -> list[int]:
    return sorted(set(a) | set(b))[:CAP]


def _add(a: Any, b: Any) -> Any:
    """Field-wise sum: counters add, record lists merge (capped), sets unite, times take
    the earliest, dicts of those add key by key."""
    if a is None:
        return b
    if b is None:
        return a
    if isinstance(a, Counter):
        return a + b
    if isinstance(a, set):
        return a | b
    if isinstance(a, list):
        if a and isinstance(a[0], tuple):  # (record, value) pairs: the first CAP by record
            return sorted(set(a) | set(b))[:CAP]
        return _capped(a, b)
    if isinstance(a, dict):
        out = dict(a)
        for k, v in b.items():
            out[k] = _add(out.get(k), v)
        return out
    if isinstance(a, pd.Timestamp):
        return min(a, b)
    return a + b


class Tally:
    """How many times each distinct key was seen, keys kept as 64-bit hashes: distinct
    counts and the largest count add up across parts without keeping the keys."""

    __slots__ = ("counts", "keys")

    def __init__(self, keys: np.ndarray | None = None, counts: np.ndarray | None = None):
        self.keys = np.zeros(0, dtype=np.uint64) if keys is None else keys
        self.counts = np.zeros(0, dtype=np.int64) if counts is None else counts

    @classmethod
    def of(cls, frame: pd.DataFrame) -> Tally:
        hashed = pd.util.hash_pandas_object(frame, index=False).to_numpy()
        keys, counts = np.unique(hashed, return_counts=True)
        return cls(keys, counts.astype(np.int64))

    def __add__(self, other: Tally) -> Tally:
        keys, inverse = np.unique(np.concatenate([self.keys, other.keys]), return_inverse=True)
        counts = np.bincount(inverse, np.concatenate([self.counts, other.counts]))
        return Tally(keys, counts.astype(np.int64))

    def __len__(self) -> int:
        return len(self.keys)

    def __eq__(self, other: object) -> bool:
        return (
            isinstance(other, Tally)
            and np.array_equal(self.keys, other.keys)
            and np.array_equal(self.counts, other.counts)
        )

    def max(self) -> int:
        return int(self.counts.max()) if len(self.counts) else 0

    def __repr__(self) -> str:
        return f"Tally({len(self)} keys, largest {self.max()})"


class Pairs:
    """Distinct (interval, source) pairs, the source kept as a 64-bit hash of its
    address: how many sources sent in given intervals adds up across parts."""

    __slots__ = ("bins", "hashes")

    def __init__(self, bins: np.ndarray | None = None, hashes: np.ndarray | None = None):
        self.bins = np.zeros(0, dtype=np.int64) if bins is None else bins
        self.hashes = np.zeros(0, dtype=np.uint64) if hashes is None else hashes

    @classmethod
    def of_codes(cls, bins: np.ndarray, codes: np.ndarray, sources: list[str]) -> Pairs:
        """The pairs of ``bins`` and ``sources[codes]`` (a code of -1: no source)."""
        ok = codes >= 0
        bin_codes, bins_u = pd.factorize(bins[ok])
        n = max(len(sources), 1)
        pairs = pd.unique(bin_codes.astype(np.int64) * n + codes[ok])  # (each pair once)
        hashed = _hash(np.asarray(sources, dtype=object))
        return cls(np.asarray(bins_u, dtype=np.int64)[pairs // n], hashed[pairs % n])

    @classmethod
    def _unique(cls, bins: np.ndarray, hashes: np.ndarray) -> Pairs:
        frame = pd.DataFrame({"b": bins, "h": hashes}).drop_duplicates()
        return cls(frame["b"].to_numpy(), frame["h"].to_numpy())

    def __add__(self, other: Pairs) -> Pairs:
        return Pairs._unique(
            np.concatenate([self.bins, other.bins]), np.concatenate([self.hashes, other.hashes])
        )

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Pairs):
            return False
        a = np.lexsort((self.hashes, self.bins))
        b = np.lexsort((other.hashes, other.bins))
        return np.array_equal(self.bins[a], other.bins[b]) and np.array_equal(
            self.hashes[a], other.hashes[b]
        )

    def sources(self, bins: list[int]) -> np.ndarray:
        """The distinct source hashes of the given intervals."""
        return np.unique(self.hashes[np.isin(self.bins, bins)])

    def __repr__(self) -> str:
        return f"Pairs({len(self.bins)})"


def _hash(values: np.ndarray) -> np.ndarray:
    """A 64-bit hash of each text (the same in every process)."""
    return pd.util.hash_array(values.astype(object), categorize=False)


@dataclass
class ServerEvidence:
    """What became of the queries to one server (address, port, transport), counted.

    ``icmp`` counts ICMP errors by (kind, reason, sender role): kind is what the error
    says about the path (``port``, ``host``, ``route``, ``filter``, ``path``, ``other``,
    see :data:`incidentkit.icmp.ICMP_MEANINGS`), the role ``server`` when the server
    itself sent it and ``hop`` when a router did.
    """

    queries: int = 0
    answered: int = 0  # NoError with what was asked for
    errors: Counter[str] = field(default_factory=Counter)  # rcode -> count
    nxdomain_site: int = 0
    nodata: int = 0  # NoError, no answer at all, to an A or AAAA question
    wrong: int = 0  # answered, but not with the expected address
    wrong_addresses: Counter[str] = field(default_factory=Counter)
    icmp: Counter[tuple[str, str, str]] = field(default_factory=Counter)
    icmp_senders: Counter[str] = field(default_factory=Counter)
    silent: int = 0
    truncated: int = 0  # answered with the TC flag: the answer must be asked over TCP
    after_retry: int = 0  # answered only after the client had asked again
    #: answered, and asked again with the same DNS id after the answer came: the client
    #: did not take the answer (its own filter, or the answer did not reach it whole)
    resent: int = 0
    retries: int = 0  # queries that repeat a question whose last attempt failed
    # (record, client, name, type, seconds since the attempt before) of the first retries
    retry_gaps: list[tuple[int, str, str, str, float | None]] = field(default_factory=list)
    latency_n: int = 0
    latency_sum: float = 0.0
    questions: Tally = field(default_factory=Tally)  # (client, name, type) -> queries
    names: Counter[str] = field(default_factory=Counter)  # question name -> queries
    #: NXDomain answers, by question name (lower case): which names the server denied ...
    nx_names: Counter[str] = field(default_factory=Counter)
    #: ... and the names it answered with records (NoError, at least one answer), so that a
    #: name denied in a zone that answers can be told from a zone that is missing
    found: Counter[str] = field(default_factory=Counter)
    clients: Counter[str] = field(default_factory=Counter)
    first_time: pd.Timestamp | None = None
    first_failure: pd.Timestamp | None = None
    latencies: list[tuple[int, float]] = field(default_factory=list)  # (record, seconds)
    # per interval start (ns): queries, queries that are no retry, answered queries
    bins: Counter[int] = field(default_factory=Counter)
    bins_new: Counter[int] = field(default_factory=Counter)
    bins_answered: Counter[int] = field(default_factory=Counter)
    bins_silent: Counter[int] = field(default_factory=Counter)
    bins_responded: Counter[int] = field(default_factory=Counter)  # any DNS answer, any rcode
    #: per interval of FINE_NS (its number): queries answered as they should be, and
    #: queries that failed; when every failure falls in one stretch without an answer,
    #: the service stopped for a while (View.outage)
    fine_good: Counter[int] = field(default_factory=Counter)
    fine_failed: Counter[int] = field(default_factory=Counter)
    bin_sources: Pairs = field(default_factory=Pairs)  # sources of new queries, per interval
    bin_records: dict[int, list[int]] = field(default_factory=dict)  # first new queries
    records: dict[str, list[int]] = field(default_factory=dict)

    @property
    def answers(self) -> int:
        """The queries answered, with any rcode."""
        return self.answered + self.wrong + self.nodata + sum(self.errors.values())

    def __add__(self, other: ServerEvidence) -> ServerEvidence:
        return ServerEvidence(
            **{f.name: _add(getattr(self, f.name), getattr(other, f.name)) for f in fields(self)}
        )


@dataclass
class HostEvidence:
    """What one address did in the capture, whatever the protocol."""

    sent: int = 0  # packets it sent
    sent_dns: int = 0  # DNS responses it sent
    sent_records: list[int] = field(default_factory=list)
    who_has: int = 0  # ARP requests or neighbour solicitations for it
    is_at: int = 0  # ARP replies or neighbour advertisements from it
    resolution_records: list[int] = field(default_factory=list)
    refused_answers: Counter[str] = field(
        default_factory=Counter
    )  # answerer -> port unreachable sent
    #: ICMP errors it received that quote no destination (tcpdump without -v prints none
    #: for time exceeded and parameter problems): no query can be paired with them
    icmp_unquoted: int = 0

    def __add__(self, other: HostEvidence) -> HostEvidence:
        return HostEvidence(
            **{f.name: _add(getattr(self, f.name), getattr(other, f.name)) for f in fields(self)}
        )


@dataclass
class TcpEvidence:
    """TCP connection attempts to one (server, port): the connections (client address and
    port) that sent a SYN, got a SYN-ACK, got a reset; a SYN sent again is the same
    attempt."""

    syns: Tally = field(default_factory=Tally)
    syn_acks: Tally = field(default_factory=Tally)
    rsts: Tally = field(default_factory=Tally)
    records: list[int] = field(default_factory=list)

    @property
    def syn(self) -> int:
        return len(self.syns)

    @property
    def syn_ack(self) -> int:
        return len(self.syn_acks)

    @property
    def rst(self) -> int:
        return len(self.rsts)

    def __add__(self, other: TcpEvidence) -> TcpEvidence:
        return TcpEvidence(
            **{f.name: _add(getattr(self, f.name), getattr(other, f.name)) for f in fields(self)}
        )


#: server address, port, transport, and whether the queries are for the site (``domain``;
#: all are when no domain is given)
Key = tuple[str, int, str, bool]


@dataclass
class Evidence:
    """The evidence of a capture (or of several parts of one, added up).

    ``servers`` and the per-host and TCP evidence are exact for what they cover;
    ``head`` and ``tail`` are the rows at the two ends whose queries are not counted
    yet (see the module's notes); :meth:`settled` counts them.
    """

    settings: Settings
    servers: dict[Key, ServerEvidence] = field(default_factory=dict)
    hosts: dict[str, HostEvidence] = field(default_factory=dict)
    sent: Counter[str] = field(default_factory=Counter)  # address -> packets it sent
    sent_dns: Counter[str] = field(default_factory=Counter)  # address -> DNS answers it sent
    sent_records: dict[str, list[int]] = field(default_factory=dict)  # the first it sent
    tcp: dict[tuple[str, int], TcpEvidence] = field(default_factory=dict)
    unsolicited: Counter[tuple[str, str]] = field(default_factory=Counter)  # (answerer, client)
    unsolicited_records: list[int] = field(default_factory=list)
    #: (server, client) -> answers that pair with no query but came from the server a query
    #: that got no answer went to, to its client and ports, within the reply window: the
    #: answer with another DNS id than the query's
    mismatched: Counter[tuple[str, str]] = field(default_factory=Counter)
    mismatched_records: list[int] = field(default_factory=list)
    packets: int = 0
    start: pd.Timestamp | None = None
    end: pd.Timestamp | None = None
    head: pd.DataFrame | None = None
    tail: pd.DataFrame | None = None
    lo: pd.Timestamp | None = None  # queries sent in [lo, hi) are counted in ``servers``
    hi: pd.Timestamp | None = None

    # ------------------------------------------------------------------ adding up
    def __add__(self, other: Evidence) -> Evidence:
        """The evidence of both parts; ``self`` is the earlier one (for the seam)."""
        if self.settings != other.settings:
            raise ValueError("evidence taken with different settings does not add up")
        a, b = self, other
        if a.lo is None:
            return b._plus_counts(a)
        if b.lo is None:
            return a._plus_counts(b)
        assert a.tail is not None and b.head is not None and b.lo is not None
        if b.start is not None and a.end is not None and b.start < a.end:
            raise ValueError(
                "evidence adds up in time order: the second part starts before the first ends"
            )
        # the queries between what each part counted (all of a short part's): from the
        # end of a's middle, or a's first C when it has none, to the start of b's middle,
        # or b's last C (nothing in a part the seam's other side could still reach)
        assert a.head is not None and b.tail is not None and a.lo is not None and b.hi is not None
        assert a.hi is not None
        seam = pd.concat([a.tail, b.head], ignore_index=True)
        counted = _count(seam, self.settings, max(a.lo, a.hi), min(b.lo, b.hi))
        c = self.settings.context
        head = pd.concat([a.head, b.head.loc[b.head["time"] < a.lo + c]], ignore_index=True)
        tail = pd.concat([a.tail.loc[a.tail["time"] >= b.hi - c], b.tail], ignore_index=True)
        out = a._plus_counts(b)
        out.servers = _add(out.servers, counted.servers)
        out.unsolicited = out.unsolicited + counted.unsolicited
        out.unsolicited_records = _capped(out.unsolicited_records, counted.unsolicited_records)
        out.mismatched = out.mismatched + counted.mismatched
        out.mismatched_records = _capped(out.mismatched_records, counted.mismatched_records)
        out.head, out.tail, out.lo, out.hi = head, tail, a.lo, b.hi
        return out

    def _plus_counts(self, other: Evidence) -> Evidence:
        """``self`` with ``other``'s counts added (not its ends)."""
        return replace(
            self,
            servers=_add(dict(self.servers), other.servers),
            hosts=_add(dict(self.hosts), other.hosts),
            sent=self.sent + other.sent,
            sent_dns=self.sent_dns + other.sent_dns,
            sent_records={
                k: [min(self.sent_records.get(k, v) + v)] for k, v in other.sent_records.items()
            }
            | {k: v for k, v in self.sent_records.items() if k not in other.sent_records},
            tcp=_add(dict(self.tcp), other.tcp),
            unsolicited=self.unsolicited + other.unsolicited,
            unsolicited_records=_capped(self.unsolicited_records, other.unsolicited_records),
            mismatched=self.mismatched + other.mismatched,
            mismatched_records=_capped(self.mismatched_records, other.mismatched_records),
            packets=self.packets + other.packets,
            start=_add(self.start, other.start),
            end=max((t for t in (self.end, other.end) if t is not None), default=None),
        )

    def settled(self) -> Evidence:
        """The same evidence with the queries at both ends counted: what the rules read."""
        if self.lo is None:
            return self
        assert self.head is not None and self.tail is not None and self.hi is not None
        if self.start is not None and self.hi - self.settings.context <= self.start:
            # the tail holds every row: count both ends in one pass over it
            parts = [_count(self.tail, self.settings, self.lo, self.hi, outside=True)]
        else:
            parts = [
                _count(self.head, self.settings, None, self.lo),
                _count(self.tail, self.settings, self.hi, None),
            ]
        out = replace(self, head=None, tail=None, lo=None, hi=None)
        for part in parts:
            out.servers = _add(out.servers, part.servers)
            out.unsolicited = out.unsolicited + part.unsolicited
            out.unsolicited_records = _capped(out.unsolicited_records, part.unsolicited_records)
            out.mismatched = out.mismatched + part.mismatched
            out.mismatched_records = _capped(out.mismatched_records, part.mismatched_records)
        return out

    def shifted(self, records: int, lines: int = 0) -> Evidence:
        """The same evidence for the part read with its rows numbered from ``records + 1``
        (and its lines from ``lines + 1``): what a part read on its own gives, put in its
        place among the parts before it. Record numbers only grow by the same amount, so
        every "first so many records" the record keeps stays the first."""
        if records == 0 and lines == 0:
            return self

        def recs(values: list[Any]) -> list[Any]:
            if values and isinstance(values[0], tuple):  # (record, ...) tuples
                return [(v[0] + records, *v[1:]) for v in values]
            return [v + records for v in values]

        def rows(frame: pd.DataFrame | None) -> pd.DataFrame | None:
            if frame is None:
                return None
            return frame.assign(record=frame["record"] + records, line=frame["line"] + lines)

        servers = {
            k: replace(
                s,
                retry_gaps=recs(s.retry_gaps),
                latencies=recs(s.latencies),
                bin_records={b: recs(v) for b, v in s.bin_records.items()},
                records={n: recs(v) for n, v in s.records.items()},
            )
            for k, s in self.servers.items()
        }
        hosts = {
            a: replace(
                h,
                sent_records=recs(h.sent_records),
                resolution_records=recs(h.resolution_records),
            )
            for a, h in self.hosts.items()
        }
        return replace(
            self,
            servers=servers,
            hosts=hosts,
            sent_records={a: recs(v) for a, v in self.sent_records.items()},
            tcp={k: replace(t, records=recs(t.records)) for k, t in self.tcp.items()},
            unsolicited_records=recs(self.unsolicited_records),
            mismatched_records=recs(self.mismatched_records),
            head=rows(self.head),
            tail=rows(self.tail),
        )

    def host(self, address: str) -> HostEvidence:
        """Everything the evidence says about one address."""
        h = self.hosts.get(address, HostEvidence())
        return replace(
            h,
            sent=self.sent.get(address, 0),
            sent_dns=self.sent_dns.get(address, 0),
            sent_records=self.sent_records.get(address, []),
        )

    def summary(self) -> dict[str, Any]:
        """A JSON-ready summary of the settled evidence, per server."""
        ev = self.settled()
        out: dict[str, Any] = {"packets": ev.packets, "servers": []}
        for (server, port, transport, site), s in sorted(ev.servers.items()):
            out["servers"].append(
                {
                    "server": server,
                    "port": port,
                    "transport": transport,
                    "site": site,
                    "queries": s.queries,
                    "answered": s.answered,
                    "errors": dict(s.errors),
                    "nodata": s.nodata,
                    "wrong": s.wrong,
                    "icmp": [
                        {"kind": k, "reason": r, "sender": role, "count": n}
                        for (k, r, role), n in sorted(s.icmp.items())
                    ],
                    "no_response": s.silent,
                    "truncated": s.truncated,
                    "retries": s.retries,
                    "server_sent": ev.sent.get(server, 0),
                }
            )
        return out


# ---------------------------------------------------------------------- from a frame
def evidence(
    df: pd.DataFrame, settings: Settings | None = None, *, settled: bool = False, **kwargs: Any
) -> Evidence:
    """The evidence of a parsed capture (or of one part of it).

    Parameters
    ----------
    df : pandas.DataFrame
        A frame of :func:`incidentkit.read_tcpdump`, or any run of its rows in order.
    settings : Settings, optional
        Or its fields as keywords (``reply_window``, ``retry_window``, ``freq``,
        ``retry_min_gap``, ``domain``, ``expected_address``).
    settled : bool, default False
        Count every query now and keep no rows for a seam: the evidence of a whole
        capture, which nothing will be added to (``evidence(df).settled()``, faster).

    Examples
    --------
    >>> from incidentkit import read_tcpdump
    >>> df = read_tcpdump("data/yummyrecipesforme_dns_icmp.log")
    >>> ev = evidence(df.iloc[:3]) + evidence(df.iloc[3:])
    >>> s = ev.settled().servers[("203.0.113.2", 53, "udp", True)]
    >>> s.queries, s.icmp[("port", "port unreachable", "server")]
    (3, 3)
    """
    if settings is None:
        settings = Settings(**kwargs)
    elif kwargs:
        raise TypeError("give settings or keywords, not both")
    with _no_gc():  # (many small counters and lists, none of them in a cycle)
        return _evidence(df, settings, settled)


def _evidence(df: pd.DataFrame, settings: Settings, settled: bool) -> Evidence:
    # the columns it reads, without a copy and without the frame's attrs (pandas copies
    # attrs deeply at every step)
    rows = pd.DataFrame({c: df[c] for c in _NEEDED}, copy=False)
    rows["time"] = schema.utc_naive(rows["time"])
    known = rows["time"].dropna()
    ev = Evidence(settings, packets=len(rows))
    _hosts(rows, ev)
    if len(known):
        ev.start, ev.end = known.min(), known.max()
    if len(known) == 0 or settled:  # nothing to keep for a seam: count it all now
        counted = _count(rows, settings, None, None)
        ev.servers, ev.unsolicited = counted.servers, counted.unsolicited
        ev.mismatched = counted.mismatched
        ev.mismatched_records = counted.mismatched_records
        ev.unsolicited_records = counted.unsolicited_records
        return ev
    start, end = ev.start, ev.end
    assert start is not None and end is not None
    c = settings.context
    # the middle's queries have their whole context here; in a part shorter than 2 * C
    # the middle is empty (lo >= hi) and every row is kept for the seams
    lo, hi = start + c, end - c + pd.Timedelta(1, "ns")
    counted = _count(rows, settings, lo, hi)
    ev.servers, ev.unsolicited = counted.servers, counted.unsolicited
    ev.mismatched = counted.mismatched
    ev.mismatched_records = counted.mismatched_records
    ev.unsolicited_records = counted.unsolicited_records
    # what a seam pairs: the DNS messages, the ICMP errors and the TCP segments that may
    # answer a query over TCP (without the text of the rest of their line)
    seams = rows.loc[pairable(rows)]
    seams = seams.drop(columns="info")
    t = seams["time"]
    ev.head = seams.loc[(t < lo + c).fillna(False)].reset_index(drop=True)
    ev.tail = seams.loc[(t >= hi - c).fillna(False)].reset_index(drop=True)
    ev.lo, ev.hi = lo, hi
    return ev


def _firsts(keys: pd.Series, records: pd.Series) -> dict[Any, tuple[int, list[int]]]:
    """key -> (how many rows, the first CAP record numbers) of the rows with that key."""
    codes, uniques = pd.factorize(keys)  # (missing: -1)
    recs = records.to_numpy(dtype=np.int64)
    ok = codes >= 0
    codes, recs = codes[ok], recs[ok]
    if len(codes) == 0:
        return {}
    order = np.lexsort((recs, codes))
    codes, recs = codes[order], recs[order]
    starts = np.flatnonzero(np.r_[True, codes[1:] != codes[:-1]])
    counts = np.diff(np.r_[starts, len(codes)])
    rank = np.arange(len(codes)) - np.repeat(starts, counts)
    keep = rank < CAP
    kept_codes, kept = codes[keep], recs[keep].tolist()
    bounds = np.r_[0, np.cumsum(np.minimum(counts, CAP))].tolist()
    keys_out = np.asarray(uniques, dtype=object)[kept_codes[bounds[:-1]]].tolist()
    return {
        k: (int(n), kept[a:b])
        for k, a, b, n in zip(keys_out, bounds[:-1], bounds[1:], counts.tolist(), strict=True)
    }


def _counts(values: np.ndarray) -> Counter[int]:
    """Counter of int values."""
    u, n = np.unique(values, return_counts=True)
    return Counter(dict(zip(u.tolist(), n.tolist(), strict=True)))


def _hosts(rows: pd.DataFrame, ev: Evidence) -> None:
    """Per-host and TCP evidence: every row counts once, wherever it lies."""
    proto = rows["proto"]
    src = rows["src"]
    sent = (proto != "unparsed").to_numpy(dtype=bool) & src.notna().to_numpy(dtype=bool)
    codes, uniques = pd.factorize(src[sent])
    counts = np.bincount(codes[codes >= 0], minlength=len(uniques))
    firsts = np.flatnonzero(~pd.Series(codes).duplicated().to_numpy())  # (in input order)
    names = [str(u) for u in uniques]
    ev.sent = Counter(dict(zip(names, counts.tolist(), strict=True)))
    first_records = rows["record"].to_numpy()[sent][firsts].tolist()
    ev.sent_records = {
        names[c]: [r] for c, r in zip(codes[firsts].tolist(), first_records, strict=True)
    }
    dns_resp = (rows["dns_qr"] == "response").to_numpy(dtype=bool)
    ev.sent_dns = Counter({str(k): int(n) for k, n in src[dns_resp].value_counts().items()})
    # address resolution: ARP who-has / is-at, ICMPv6 neighbour solicitation / advertisement
    arp = (proto == "arp").to_numpy(dtype=bool)
    icmp6 = (proto == "icmp6").to_numpy(dtype=bool)
    # (the reader gives a request the target as its destination, a reply none)
    arp_dst = rows.loc[arp, "dst"]
    req = arp_dst.notna()
    rep = arp_dst.isna() & rows.loc[arp, "src"].notna()
    types = rows["icmp_type"]
    ns = icmp6 & (types == 135).fillna(False).to_numpy(dtype=bool)
    na = icmp6 & (types == 136).fillna(False).to_numpy(dtype=bool)
    arp_rows = rows.loc[arp, ["src", "dst", "record"]]
    req_rows, rep_rows = arp_rows.loc[req.to_numpy()], arp_rows.loc[rep.to_numpy()]
    asked = (
        pd.concat([req_rows["dst"], rows.loc[ns, "info"].str.extract(_WHO_HAS, expand=False)]),
        pd.concat([req_rows["record"], rows.loc[ns, "record"]]),
    )
    told = (
        pd.concat([rep_rows["src"], rows.loc[na, "info"].str.extract(_TGT_IS, expand=False)]),
        pd.concat([rep_rows["record"], rows.loc[na, "record"]]),
    )
    for (hosts, recs), attr in ((asked, "who_has"), (told, "is_at")):
        for host, (n, first) in _firsts(hosts.astype(object), recs).items():
            h = ev.hosts.setdefault(str(host), HostEvidence())
            setattr(h, attr, getattr(h, attr) + n)
            h.resolution_records = _capped(h.resolution_records, first)
    # TCP handshakes
    tcp = (proto == "tcp").to_numpy(dtype=bool)
    seg = rows.loc[tcp, ["src", "dst", "sport", "dport", "record", "tcp_flags"]]
    flags = seg["tcp_flags"].fillna("")
    for mask, who, port, attr in (
        (flags.eq("S"), "dst", "dport", "syns"),
        (flags.eq("S."), "src", "sport", "syn_acks"),
        (flags.str.startswith("R"), "src", "sport", "rsts"),
    ):
        part = seg.loc[mask.to_numpy(dtype=bool) & seg[port].notna().to_numpy(dtype=bool)]
        keys = part[who].astype(str) + " " + part[port].astype(str)
        peer = part[["dst", "dport"] if who == "src" else ["src", "sport"]].astype(str)
        for key, (_, first) in _firsts(keys, part["record"]).items():
            host, p = str(key).rsplit(" ", 1)
            t = ev.tcp.setdefault((host, int(p)), TcpEvidence())
            connections = Tally.of(peer.loc[(keys == key).to_numpy(dtype=bool)])
            setattr(t, attr, getattr(t, attr) + connections)
            t.records = _capped(t.records, first)
    # a port unreachable sent by the datagram's own destination to the host that sent it:
    # a client that no longer waits refuses a DNS answer
    errors = rows.loc[
        is_error(rows).to_numpy(dtype=bool), ["src", "dst", "icmp_reason", "icmp_orig_dst"]
    ]
    own = (errors["icmp_reason"] == "port unreachable").fillna(False) & (
        errors["src"] == errors["icmp_orig_dst"]
    ).fillna(False)
    for (refuser, answerer), n in _pair_counts(errors.loc[own.to_numpy(dtype=bool)]):
        h = ev.hosts.setdefault(refuser, HostEvidence())
        h.refused_answers[answerer] += n
    unquoted = errors["dst"][errors["icmp_orig_dst"].isna().to_numpy(dtype=bool)]
    for host, n in unquoted.value_counts().items():
        h = ev.hosts.setdefault(str(host), HostEvidence())
        h.icmp_unquoted += int(n)


# ---------------------------------------------------------------------- queries
def _count(rows: pd.DataFrame, s: Settings, lo: Any, hi: Any, *, outside: bool = False) -> Evidence:
    """Per-server counts of the queries of ``rows`` sent in [lo, hi) (None: unbounded),
    or outside it, paired within ``rows``; and the responses there that answer nothing."""
    ev = Evidence(s)
    empty = (
        lo is not None
        and hi is not None
        and lo >= hi
        and not outside
        and not rows["time"].isna().any()  # (rows without a time count in the middle)
    )
    if empty or not (rows["dns_qr"].notna().any()):
        return ev
    tx = _transactions(
        rows,
        retry_window=s.retry_window,
        reply_window=s.reply_window,
        lists=bool(s.expected_address),
    )
    keep = _span(tx["time"], lo, hi, outside)
    # what each query's outcome says, before the rows are cut to the span
    extra = _annotate(tx, rows, s)
    paired = tx["response_record"].to_numpy(dtype=np.int64, na_value=-1)
    unanswered = tx.loc[
        (tx["outcome"] == "no_response").to_numpy(dtype=bool),
        ["time", "client", "client_port", "server", "server_port"],
    ]
    if not keep.all():
        tx = tx.loc[keep]
        extra = extra.loc[keep]
    if len(tx):
        _per_server(tx, extra, s, ev)
    # responses in the span that answer no query (from an address never asked, or late)
    resp = rows.loc[
        (rows["dns_qr"] == "response").to_numpy(dtype=bool),
        ["record", "time", "src", "dst", "sport", "dport"],
    ]
    inside = _span(resp["time"], lo, hi, outside)
    loose = resp.loc[inside & ~np.isin(resp["record"].to_numpy(dtype=np.int64), paired)]
    for pair, n in _pair_counts(loose):
        ev.unsolicited[pair] += n
    ev.unsolicited_records = sorted(loose["record"].head(CAP).tolist())
    if len(loose) and len(unanswered):
        wrong_id = _mismatched(loose, unanswered, s.reply_window)
        for pair, n in _pair_counts(wrong_id):
            ev.mismatched[pair] += n
        ev.mismatched_records = sorted(wrong_id["record"].head(CAP).tolist())
    return ev


def _mismatched(loose: pd.DataFrame, unanswered: pd.DataFrame, window: Any) -> pd.DataFrame:
    """The answers of ``loose`` (they pair with no query) that came from the server of an
    unanswered query to its client and ports, after it and within ``window``."""
    both = loose.merge(
        unanswered.rename(columns={"time": "asked"}),
        left_on=["dst", "dport", "src", "sport"],
        right_on=["client", "client_port", "server", "server_port"],
    )
    after = pd.to_timedelta(both["time"] - both["asked"])
    near = ((after >= pd.Timedelta(0)) & (after <= window)).to_numpy(dtype=bool, na_value=False)
    return both.loc[near].drop_duplicates("record")


def _pair_counts(rows: pd.DataFrame) -> list[tuple[tuple[str, str], int]]:
    """((src, dst), how many rows) for the rows' address pairs."""
    counts = rows[["src", "dst"]].value_counts()
    pairs: list[Any] = list(counts.index)
    return [((str(a), str(b)), int(n)) for (a, b), n in zip(pairs, counts.tolist(), strict=True)]


def _span(t: pd.Series, lo: Any, hi: Any, outside: bool) -> np.ndarray:
    """Where the times fall in [lo, hi) (or outside it). A row without a time counts in
    the middle of its part, never at its ends (the ends keep timed rows only)."""
    missing = t.isna().to_numpy(dtype=bool)  # (a comparison with NaT is False, not NA)
    keep = np.ones(len(t), dtype=bool)
    if lo is not None:
        keep &= (t >= lo).to_numpy(dtype=bool, na_value=False) | missing
    if hi is not None:
        keep &= (t < hi).to_numpy(dtype=bool, na_value=False) | missing
    if outside:
        keep = ~keep & ~missing
    return keep


def _annotate(tx: pd.DataFrame, rows: pd.DataFrame, s: Settings) -> pd.DataFrame:
    """Per transaction: whether its answer was truncated or empty, whether it is for the
    site, whether it retries a failed attempt (and how long after it), and whether its
    answer came only after the client had asked again."""
    resp_rec = tx["response_record"].to_numpy(dtype=np.int64, na_value=-1)
    pos = _positions(rows["record"])(resp_rec)

    def at(column: str) -> pd.Series:
        return pd.Series(rows[column].array.take(pos, allow_fill=True), index=tx.index)

    flags = at("dns_flags")
    ancount = at("dns_ancount")
    answered = (tx["outcome"] == "answered").to_numpy(dtype=bool)
    # retries: the query of the same question before, how long before, and its fate
    n = len(tx)
    question = tx["question"].to_numpy(dtype=np.int64)
    order = np.lexsort((tx["query_record"].to_numpy(dtype=np.int64), question))
    ns, nat = _ns_array(tx["time"])
    out_ns, out_nat = _ns_array(tx["outcome_time"])
    q_o, t_o, nat_o = question[order], ns[order], nat[order]
    same_prev = np.zeros(n, dtype=bool)
    same_prev[1:] = q_o[1:] == q_o[:-1]
    gap = np.full(n, np.nan)
    known = same_prev.copy()
    known[1:] &= ~nat_o[1:] & ~nat_o[:-1]
    gap[1:][known[1:]] = (t_o[1:] - t_o[:-1])[known[1:]] / 1e9
    prev_ok = np.zeros(n, dtype=bool)
    prev_ok[1:] = answered[order][:-1]
    far_enough = np.isnan(gap) | (gap >= s.retry_min_gap.value / 1e9)
    retry_o = same_prev & ~prev_ok & far_enough
    # answered after the next query of the same question was sent
    late_o = np.zeros(n, dtype=bool)
    nxt = same_prev[1:]  # row i+1 repeats row i's question
    out_o, out_nat_o = out_ns[order], out_nat[order]
    late_o[:-1] = nxt & ~out_nat_o[:-1] & ~nat_o[1:] & (out_o[:-1] > t_o[1:])
    retry = np.empty(n, dtype=bool)
    retry[order] = retry_o
    gaps = np.empty(n)
    gaps[order] = np.where(same_prev, gap, np.nan)
    late = np.empty(n, dtype=bool)
    late[order] = late_o
    # asked again with the same DNS id after the answer had come, within the retry window
    ids = tx["dns_id"].to_numpy(dtype=np.int64, na_value=-1)[order]
    resent_o = np.zeros(n, dtype=bool)
    after = t_o[1:] - out_o[:-1]
    truncated = flags.str.contains("|", regex=False).fillna(False).to_numpy(dtype=bool)
    resent_o[:-1] = (
        nxt
        & (answered & ~truncated)[order][:-1]  # (a truncated answer is asked again over TCP)
        & (ids[:-1] == ids[1:])
        & (ids[:-1] >= 0)
        & ~out_nat_o[:-1]
        & ~nat_o[1:]
        & (after >= 0)
        & (after <= s.retry_window.value)
    )
    resent = np.empty(n, dtype=bool)
    resent[order] = resent_o
    qtype = tx["qtype"]
    return pd.DataFrame(
        {
            "truncated": truncated,
            "nodata": answered
            & (ancount == 0).fillna(False).to_numpy(dtype=bool)
            & qtype.isin(["A", "AAAA"]).fillna(False).to_numpy(dtype=bool),
            "data": answered & (ancount > 0).fillna(False).to_numpy(dtype=bool),
            "site": _site_mask(tx["qname"], s.domain).to_numpy(dtype=bool),
            "retry": retry,
            "gap": gaps,
            "after_retry": late & answered,
            "resent": resent,
        },
        index=tx.index,
    )


def _site_mask(names: pd.Series, domain: str | None) -> pd.Series:
    if not domain:
        return pd.Series(True, index=names.index)
    name = names.str.lower().str.rstrip(".")
    d = domain.lower().rstrip(".")
    return (name.eq(d) | name.str.endswith("." + d)).fillna(False)


def _per_server(tx: pd.DataFrame, extra: pd.DataFrame, s: Settings, ev: Evidence) -> None:
    """Count ``tx``'s transactions into ``ev.servers``, one record per server key. The
    work is done once on the whole frame, in integer codes and arrays; each server takes
    its positions."""
    n = len(tx)
    outcome = pd.Categorical(tx["outcome"], categories=OUTCOMES).codes
    answered, failed_rc = outcome == 0, outcome == 1
    icmp, silent = outcome == 2, outcome == 3
    wrong = np.zeros(n, dtype=bool)
    if s.expected_address:
        want = s.expected_address
        wrong = answered & np.fromiter(
            (bool(a) and want not in a for a in tx["addresses"]), dtype=bool, count=n
        )
    flag = {
        c: extra[c].to_numpy(dtype=bool)
        for c in ("site", "truncated", "retry", "after_retry", "resent")
    }
    nodata = extra["nodata"].to_numpy(dtype=bool) & flag["site"]
    good = answered & ~wrong & ~nodata
    rcode = tx["rcode"]
    nx_any = failed_rc & rcode.eq("NXDomain").to_numpy(dtype=bool, na_value=False)
    nx = nx_any & flag["site"]
    data = extra["data"].to_numpy(dtype=bool)
    error = (failed_rc & rcode.isin(FAIL_RCODES).to_numpy(dtype=bool)) | nx
    reasons, reasons_u = pd.factorize(tx["icmp_reason"])  # (missing: -1)
    kind_of = np.array([_KIND_NAMES.index(KINDS.get(str(r), "other")) for r in reasons_u] + [5])
    kind = np.where(icmp, kind_of[reasons], -1)  # (an error without a reason: other)
    from_server = (tx["icmp_sender"] == tx["server"]).to_numpy(dtype=bool, na_value=False)
    lat = tx["latency"].dt.total_seconds().to_numpy(dtype=float, na_value=np.nan)
    gap = extra["gap"].to_numpy(dtype=float)
    q_rec = tx["query_record"].to_numpy(dtype=np.int64)
    o_rec = tx["outcome_record"].to_numpy(dtype=np.int64, na_value=-1)
    ns, nat = _ns_array(tx["time"])
    freq = pd.Timedelta(s.freq).value
    no_bin = np.iinfo(np.int64).min
    bins = np.where(nat, no_bin, ns // freq * freq)
    masks = {
        "answered": good,
        "failed": ~good,
        "error": error,
        "nodata": nodata,
        "wrong": wrong,
        "silent": silent,
        "truncated": flag["truncated"],
        "after_retry": flag["after_retry"],
        "resent": flag["resent"],
        "icmp_port_server": (kind == 0) & from_server,
        "icmp_port_hop": (kind == 0) & ~from_server,
        "icmp_filter": kind == 3,
        "icmp_host": (kind == 1) | (kind == 2),
        "icmp_other": kind >= 4,
    }
    text = ["client", "qname", "qtype", "rcode", "icmp_sender", "time"]
    if s.expected_address:
        text.append("addresses")
    keys = tx[["server", "server_port", "proto"]].assign(site=flag["site"])
    groups = keys.groupby(
        ["server", "server_port", "proto", "site"], sort=False, dropna=True, observed=True
    ).indices
    group: Any
    at: Any
    for group, at in groups.items():
        server, port, proto, in_site = group
        whole = len(at) == n
        g = tx[text] if whole else tx[text].take(at)

        def pick(a: np.ndarray, at: Any = at, whole: bool = whole) -> np.ndarray:
            return a if whole else a[at]

        se = ServerEvidence()
        se.queries = len(at)
        ok, retry, o_fail = pick(good), pick(flag["retry"]), pick(failed_rc)
        se.answered = int(ok.sum())
        se.errors = _text_counts(g["rcode"][o_fail].fillna("?"))
        se.nxdomain_site = int(pick(nx).sum())
        se.nodata = int(pick(nodata).sum())
        w = pick(wrong)
        se.wrong = int(w.sum())
        if se.wrong:
            se.wrong_addresses = Counter(a for addrs in g["addresses"][w] for a in addrs)
        m = pick(icmp)
        if m.any():
            combo = (pick(kind)[m] * (len(reasons_u) + 1) + pick(reasons)[m] + 1) * 2
            combo += pick(from_server)[m]
            values, counts = np.unique(combo, return_counts=True)
            reason_names = ["?", *map(str, reasons_u)]
            se.icmp = Counter(
                {
                    (
                        _KIND_NAMES[v // 2 // (len(reasons_u) + 1)],
                        reason_names[v // 2 % (len(reasons_u) + 1)],
                        "server" if v % 2 else "hop",
                    ): c
                    for v, c in zip(values.tolist(), counts.tolist(), strict=True)
                }
            )
            se.icmp_senders = _text_counts(g["icmp_sender"][m])
        se.silent = int(pick(silent).sum())
        se.truncated = int(pick(flag["truncated"]).sum())
        se.after_retry = int(pick(flag["after_retry"]).sum())
        se.resent = int(pick(flag["resent"]).sum())
        se.retries = int(retry.sum())
        first = np.flatnonzero(retry)[:CAP]
        se.retry_gaps = [
            (int(r), str(c), str(q), str(t), round(float(v), 6) if v == v else None)
            for r, c, q, t, v in zip(
                pick(q_rec)[first].tolist(),
                g["client"].iloc[first],
                g["qname"].iloc[first],
                g["qtype"].iloc[first],
                pick(gap)[first].tolist(),
                strict=True,
            )
        ]
        lat_g = pick(lat)
        known = ~np.isnan(lat_g)
        se.latency_n = int(known.sum())
        se.latency_sum = float(lat_g[known].sum())
        se.questions = Tally.of(g[["client", "qname", "qtype"]])
        se.names = _text_counts(g["qname"])
        se.nx_names = _name_counts(g["qname"][pick(nx_any)])
        se.found = _name_counts(g["qname"][pick(data)])
        c_codes, c_uniques = pd.factorize(g["client"])
        c_names = [str(c) for c in c_uniques]
        c_counts = np.bincount(c_codes[c_codes >= 0], minlength=len(c_names))
        se.clients = Counter(dict(zip(c_names, c_counts.tolist(), strict=True)))
        t_ns, t_nat = pick(ns), pick(nat)
        se.first_time = _first(t_ns[~t_nat])
        se.first_failure = _first(t_ns[~t_nat & ~ok])
        se.latencies = [
            (int(r), float(v))
            for r, v in zip(pick(q_rec)[:CAP].tolist(), lat_g[:CAP].tolist(), strict=True)
        ]
        b = pick(bins)
        fine = b != no_bin
        new = fine & ~retry
        se.bins = _counts(b[fine])
        se.bins_new = _counts(b[new])
        se.bins_answered = _counts(b[fine & ok])
        se.bins_silent = _counts(b[fine & pick(silent)])
        se.bins_responded = _counts(b[fine & pick(answered | failed_rc)])
        t_fine = t_ns // FINE_NS
        se.fine_good = _counts(t_fine[~t_nat & ok])
        se.fine_failed = _counts(t_fine[~t_nat & ~ok])
        se.bin_sources = Pairs.of_codes(b[new], c_codes[new], c_names)
        se.bin_records = {
            int(k): first
            for k, (_, first) in _firsts(pd.Series(b[new]), pd.Series(pick(q_rec)[new])).items()
        }
        se.records = _records(pick(q_rec), pick(o_rec), {k: pick(v) for k, v in masks.items()})
        key = (str(server), int(port), str(proto), bool(in_site))
        ev.servers[key] = ev.servers[key] + se if key in ev.servers else se


def _text_counts(values: pd.Series) -> Counter[str]:
    """Counter of the values (as text) of a column; missing ones are not counted."""
    counts = values.value_counts()
    return Counter(dict(zip(map(str, counts.index), counts.tolist(), strict=True)))


def _name_counts(names: pd.Series) -> Counter[str]:
    """Counter of question names, in lower case and without a trailing dot."""
    return _text_counts(names.str.lower().str.rstrip(".")) if len(names) else Counter()


def _first(ns: np.ndarray) -> pd.Timestamp | None:
    """The earliest of these nanosecond times, or None."""
    return pd.Timestamp(int(ns.min())) if len(ns) else None


def _records(
    q_rec: np.ndarray, o_rec: np.ndarray, masks: dict[str, np.ndarray]
) -> dict[str, list[int]]:
    """The first record numbers (query, then outcome) of each kind of transaction."""

    def take(mask: np.ndarray) -> list[int]:
        at = np.flatnonzero(mask)[: CAP // 2]
        out = np.concatenate([q_rec[at], o_rec[at][o_rec[at] >= 0]])
        return sorted(out.tolist())[:CAP]

    return {name: take(mask) for name, mask in masks.items() if bool(mask.any())}
