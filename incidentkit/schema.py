"""The one table of columns every reader produces.

Every reader (tcpdump text today, pcap files and Dask partitions later) returns a
:class:`pandas.DataFrame` with exactly these columns, in this order, with these dtypes.
Analysis code only ever relies on this table, never on how a reader got there.
"""

from __future__ import annotations

from typing import Final

import pandas as pd

#: ``proto`` values, in a fixed order so the categorical dtype is identical across readers.
PROTOCOLS: Final = (
    "udp",
    "tcp",
    "sctp",
    "dccp",
    "icmp",
    "icmp6",
    "arp",
    "ip",
    "ip6",
    "other",
    "unparsed",
)

_TEXT: Final = "string[pyarrow]"
_PROTO = pd.CategoricalDtype(list(PROTOCOLS))

#: column name -> (dtype, meaning). The order is the column order of every frame.
COLUMNS: Final[dict[str, tuple[object, str]]] = {
    "record": ("int64", "1-based row number in input order"),
    "line": ("Int64", "1-based input line where the record starts; empty for a capture's packets"),
    "packet": ("UInt32", "tcpdump's own packet number (-# / --number), when printed"),
    "time": ("datetime64[ns]", "packet time; see read_tcpdump for date anchors and zones"),
    "proto": (_PROTO, "udp, tcp, sctp, dccp, icmp, icmp6, arp, ip, ip6, other or unparsed"),
    "src": (_TEXT, "source address (IP, IPv6 or host name as printed)"),
    "dst": (_TEXT, "destination address"),
    "sport": ("UInt16", "source port; service names such as 'domain' mapped to numbers"),
    "dport": ("UInt16", "destination port"),
    "length": ("UInt32", "payload length as tcpdump reports it for the packet"),
    "ttl": ("UInt8", "IPv4 TTL or IPv6 hop limit (-v)"),
    "link_src": (_TEXT, "source MAC address (-e)"),
    "link_dst": (_TEXT, "destination MAC address (-e)"),
    "dns_id": ("UInt16", "DNS transaction id"),
    "dns_qr": (pd.CategoricalDtype(["query", "response"]), "query or response"),
    "dns_flags": (_TEXT, "DNS flag characters as printed (+ % * - | $)"),
    "dns_qtype": (_TEXT, "question type (A, AAAA, MX, ...)"),
    "dns_qname": (_TEXT, "question name without the trailing dot"),
    "dns_rcode": (_TEXT, "NoError, NXDomain, ServFail, Refused, ... (responses only)"),
    "dns_ancount": ("UInt16", "number of answers (responses only)"),
    "dns_answers": (_TEXT, "answer records as printed, e.g. 'A 192.0.2.1, A 192.0.2.2'"),
    "icmp_type": ("UInt8", "ICMP or ICMPv6 type"),
    "icmp_code": ("UInt8", "ICMP or ICMPv6 code"),
    "icmp_reason": (_TEXT, "meaning in words, e.g. 'port unreachable'"),
    "icmp_orig_proto": (_TEXT, "protocol of the datagram an ICMP error quotes"),
    "icmp_orig_src": (_TEXT, "source of the quoted datagram (-v only)"),
    "icmp_orig_sport": ("UInt16", "source port of the quoted datagram (-v only)"),
    "icmp_orig_dst": (_TEXT, "destination of the quoted datagram"),
    "icmp_orig_dport": ("UInt16", "destination port of the quoted datagram"),
    "icmp_orig_dns_id": ("UInt16", "DNS id of the quoted datagram (-v only)"),
    "tcp_flags": (_TEXT, "TCP flags as printed, e.g. 'S.' or 'P.'"),
    "tcp_seq": (_TEXT, "TCP sequence number or range as printed, e.g. '1:59'"),
    "tcp_ack": ("UInt32", "TCP acknowledgement number"),
    "tcp_win": ("UInt32", "TCP window"),
    "info": (_TEXT, "what follows 'src > dst: ' on the record's first address line"),
    "error": (_TEXT, "why a row is 'unparsed', or why a record's value is left empty"),
    "raw": (_TEXT, "the record's text exactly as in the input (all its lines)"),
}

COLUMN_NAMES: Final = tuple(COLUMNS)

#: The column a frame read from several inputs has after the schema's own: the input each
#: row came from, a category whose categories are the inputs in the order given
#: (:func:`incidentkit.read` of a list, :func:`incidentkit.dask.read`). Its records are
#: numbered on across the inputs; ``line`` and ``packet`` count within each input.
SOURCE: Final = "source"


def source_dtype(names: list[str]) -> pd.CategoricalDtype:
    """The dtype of :data:`SOURCE` for these inputs.

    Examples
    --------
    >>> source_dtype(["a.pcap", "b.log"]).categories.tolist()
    ['a.pcap', 'b.log']
    """
    return pd.CategoricalDtype(list(names))


def utc_naive(times: pd.Series) -> pd.Series:
    """``times`` as naive UTC: the time column of a frame read with ``tz=`` converted, a
    naive one (the readers' UTC, or a log's own clock) as it is. Analysis compares and
    subtracts times in this form, whatever zone a frame was read in.

    Examples
    --------
    >>> aware = pd.Series(pd.to_datetime(["2026-01-01 10:00"]).tz_localize("Europe/Berlin"))
    >>> str(utc_naive(aware).iloc[0])
    '2026-01-01 09:00:00'
    """
    if isinstance(times.dtype, pd.DatetimeTZDtype):
        return times.dt.tz_convert("UTC").dt.tz_localize(None)
    return times


def dtypes() -> dict[str, object]:
    """Return ``{column: dtype}`` for :data:`COLUMNS`.

    Examples
    --------
    >>> dtypes()["sport"]
    'UInt16'
    """
    return {name: dtype for name, (dtype, _) in COLUMNS.items()}


def empty_frame() -> pd.DataFrame:
    """Return a frame with no rows and the full schema.

    Examples
    --------
    >>> list(empty_frame().columns)[:4]
    ['record', 'line', 'packet', 'time']
    """
    return pd.DataFrame(
        {name: pd.Series([], dtype=dtype) for name, dtype in dtypes().items()}  # type: ignore[call-overload]
    )


def conform(df: pd.DataFrame) -> pd.DataFrame:
    """Return ``df`` with exactly the schema's columns, order and dtypes.

    Missing columns are added empty; extra columns are an error, so a reader cannot
    drift from the schema unnoticed. A time-zone aware ``time`` (``tz=``) stays aware.
    A frame that already has the schema is returned as it is, without a copy.

    Examples
    --------
    >>> conform(pd.DataFrame({"record": [1], "line": [1]})).dtypes["sport"]
    UInt16Dtype()
    """
    if SOURCE in df.columns:  # (kept as it is, after the schema's columns)
        kept = conform(df.drop(columns=SOURCE))
        kept[SOURCE] = df[SOURCE].array
        return kept
    extra = set(df.columns) - set(COLUMN_NAMES)
    if extra:
        raise ValueError(f"columns not in the schema: {sorted(extra)}")
    wanted = dtypes()
    if (
        tuple(df.columns) == COLUMN_NAMES
        and isinstance(df.index, pd.RangeIndex)
        and df.index.start == 0
        and df.index.step == 1
        and all(
            df[name].dtype == dtype
            or (name == "time" and isinstance(df[name].dtype, pd.DatetimeTZDtype))
            for name, dtype in wanted.items()
        )
    ):
        return df  # already the schema: no copy
    out = {}
    for name, dtype in wanted.items():
        if name in df.columns:
            col = df[name]
            keep = col.dtype == dtype or isinstance(col.dtype, pd.DatetimeTZDtype)
            out[name] = col if keep else col.astype(dtype)  # type: ignore[call-overload]
        else:
            out[name] = pd.Series(pd.NA, index=df.index, dtype=dtype)  # type: ignore[call-overload]
    return pd.DataFrame(out, index=pd.RangeIndex(len(df)))
