"""ICMP and ICMPv6 errors: what each one means, who sent it, and what it quotes."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

import numpy as np
import pandas as pd

#: ICMP types that report an error about another datagram (RFC 792, RFC 4443).
ERROR_TYPES: Final = {"icmp": (3, 4, 5, 11, 12), "icmp6": (1, 2, 3, 4)}


@dataclass(frozen=True)
class Meaning:
    """What one ICMP destination-unreachable code says about the path.

    ``kind`` is ``port`` (the destination is up, nothing takes the datagram),
    ``host`` (the destination host cannot be reached), ``route`` (no way to the
    destination's network), ``filter`` (a packet filter refused it), ``path`` (the path
    cannot carry it as sent) or ``other``.
    """

    reason: str  # the reader's ``icmp_reason``
    kind: str
    words: str


#: Every destination-unreachable code: ICMPv4 type 3 codes 0-15 (RFC 792, 1122, 1812)
#: and ICMPv6 type 1 codes 0-7 (RFC 4443, 7112), keyed by (family, type, code).
ICMP_MEANINGS: Final[dict[tuple[str, int, int], Meaning]] = {
    ("icmp", 3, 0): Meaning(
        "net unreachable", "route", "a router has no route to the destination network"
    ),
    ("icmp", 3, 1): Meaning(
        "host unreachable",
        "host",
        "a router could not deliver to the host: it is down or gone from its network",
    ),
    ("icmp", 3, 2): Meaning(
        "protocol unreachable", "port", "the host is up, but does not speak that transport protocol"
    ),
    ("icmp", 3, 3): Meaning(
        "port unreachable", "port", "the host is up, but nothing accepted the datagram on that port"
    ),
    ("icmp", 3, 4): Meaning(
        "fragmentation needed",
        "path",
        "the datagram was too big for a link and may not be fragmented",
    ),
    ("icmp", 3, 5): Meaning(
        "source route failed", "route", "the source route the datagram asked for failed"
    ),
    ("icmp", 3, 6): Meaning("net unknown", "route", "the destination network is unknown"),
    ("icmp", 3, 7): Meaning("host unknown", "host", "the destination host is unknown"),
    ("icmp", 3, 8): Meaning(
        "source host isolated", "route", "the source host is isolated (an obsolete code)"
    ),
    ("icmp", 3, 9): Meaning(
        "net admin prohibited",
        "filter",
        "a filter prohibits communication with the destination network",
    ),
    ("icmp", 3, 10): Meaning(
        "host admin prohibited",
        "filter",
        "a filter prohibits communication with the destination host",
    ),
    ("icmp", 3, 11): Meaning(
        "net tos unreachable",
        "route",
        "the network cannot be reached for the datagram's type of service",
    ),
    ("icmp", 3, 12): Meaning(
        "host tos unreachable",
        "route",
        "the host cannot be reached for the datagram's type of service",
    ),
    ("icmp", 3, 13): Meaning(
        "admin prohibited filter",
        "filter",
        "a packet filter refused the datagram (communication administratively prohibited)",
    ),
    ("icmp", 3, 14): Meaning(
        "host precedence violation",
        "filter",
        "the datagram's precedence is not allowed for this host",
    ),
    ("icmp", 3, 15): Meaning(
        "precedence cutoff", "filter", "the datagram's precedence is below the network's cut-off"
    ),
    ("icmp6", 1, 0): Meaning("no route", "route", "a router has no route to the destination"),
    ("icmp6", 1, 1): Meaning(
        "admin prohibited",
        "filter",
        "a packet filter refused the datagram (communication administratively prohibited)",
    ),
    ("icmp6", 1, 2): Meaning(
        "beyond scope", "route", "the destination is beyond the scope of the source address"
    ),
    ("icmp6", 1, 3): Meaning(
        "address unreachable",
        "host",
        "a router could not deliver to the address: the host is down or gone",
    ),
    ("icmp6", 1, 4): Meaning(
        "port unreachable", "port", "the host is up, but nothing accepted the datagram on that port"
    ),
    ("icmp6", 1, 5): Meaning(
        "source address failed policy", "filter", "a filter refused the datagram's source address"
    ),
    ("icmp6", 1, 6): Meaning("reject route", "filter", "a reject route refused the datagram"),
    ("icmp6", 1, 7): Meaning(
        "source routing header error", "route", "the datagram's source routing header was in error"
    ),
}

#: Other ICMP errors, by the reader's reason.
_OTHER_MEANINGS: Final = {
    "packet too big": "the datagram was too big for a link",
    "ttl exceeded in transit": "the datagram's TTL ran out on the way (a loop, or traceroute)",
    "hop limit exceeded in transit": "the datagram's hop limit ran out on the way",
    "reassembly time exceeded": "fragments did not all arrive in time",
    "parameter problem": "a header of the datagram was invalid",
    "source quench": "the receiver asked the sender to slow down",
}

#: reason (the reader's ``icmp_reason``) -> what it means for the datagram it answers.
MEANINGS: Final[dict[str, str]] = {
    **{m.reason: m.words for m in ICMP_MEANINGS.values()},
    **_OTHER_MEANINGS,
}
#: reason -> kind (``port``, ``host``, ``route``, ``filter``, ``path``), see :class:`Meaning`
KINDS: Final[dict[str, str]] = {
    **{m.reason: m.kind for m in ICMP_MEANINGS.values()},
    "packet too big": "path",
}


COLUMNS: Final = (
    "record",
    "line",
    "time",
    "family",
    "sender",
    "to",
    "type",
    "code",
    "reason",
    "meaning",
    "from_destination",
    "orig_proto",
    "orig_src",
    "orig_sport",
    "orig_dst",
    "orig_dport",
    "orig_dns_id",
    "length",
)


def is_error(df: pd.DataFrame) -> pd.Series:
    """Boolean mask of the rows of ``df`` that are ICMP or ICMPv6 error messages.

    Examples
    --------
    >>> from incidentkit import parse_tcpdump
    >>> df = parse_tcpdump("13:24:36.098564 IP 203.0.113.2 > 198.51.100.15: ICMP "
    ...                    "203.0.113.2 udp port 53 unreachable, length 75")
    >>> is_error(df).tolist()
    [True]
    """
    # a table per family, indexed by type (a missing type reads slot 256: False)
    types = df["icmp_type"].to_numpy(dtype=np.int64, na_value=256)
    types = np.where((types >= 0) & (types < 256), types, 256)
    mask = np.zeros(len(df), dtype=bool)
    for family, errors in ERROR_TYPES.items():
        table = np.zeros(257, dtype=bool)
        table[list(errors)] = True
        mask |= (df["proto"] == family).to_numpy(dtype=bool, na_value=False) & table[types]
    return pd.Series(mask, index=df.index)


def icmp_errors(df: pd.DataFrame) -> pd.DataFrame:
    """Every ICMP and ICMPv6 error in ``df``, decoded.

    Parameters
    ----------
    df : pandas.DataFrame
        A frame of :func:`incidentkit.read_tcpdump`.

    Returns
    -------
    pandas.DataFrame
        One row per error: ``record``, ``line``, ``time``, ``family`` (icmp or icmp6),
        ``sender``, ``to``, ``type``, ``code``, ``reason``, ``meaning`` (in words),
        ``from_destination`` (True when the sender is the quoted datagram's destination
        itself, False when a hop on the path sent it, NA when the error does not say),
        and what it quotes: ``orig_proto``, ``orig_src``, ``orig_sport``, ``orig_dst``,
        ``orig_dport``, ``orig_dns_id``; and ``length``.

    Examples
    --------
    >>> from incidentkit import read_tcpdump
    >>> errors = icmp_errors(read_tcpdump("data/yummyrecipesforme_dns_icmp.log"))
    >>> print(errors[["sender", "reason", "from_destination", "orig_dport"]].to_string())
            sender            reason  from_destination  orig_dport
    0  203.0.113.2  port unreachable              True          53
    1  203.0.113.2  port unreachable              True          53
    2  203.0.113.2  port unreachable              True          53
    """
    columns = [
        "record", "line", "time", "proto", "src", "dst", "icmp_type", "icmp_code",
        "icmp_reason", "icmp_orig_proto", "icmp_orig_src", "icmp_orig_sport", "icmp_orig_dst",
        "icmp_orig_dport", "icmp_orig_dns_id", "length",
    ]  # fmt: skip
    rows = df.loc[is_error(df).to_numpy(), columns]  # (the columns it reads, not the raw text)
    dst = rows["icmp_orig_dst"]
    from_dst = (rows["src"] == dst).astype("boolean").mask(dst.isna())
    codes, reasons = pd.factorize(rows["icmp_reason"])
    meanings = [MEANINGS.get(r, r) for r in reasons]
    meaning = pd.Series(pd.array([*meanings, None], dtype="string").take(codes), index=rows.index)
    out = pd.DataFrame(
        {
            "record": rows["record"].to_numpy(),
            "line": rows["line"].array,
            "time": rows["time"].array,
            "family": rows["proto"].astype(str).to_numpy(),
            "sender": rows["src"].array,
            "to": rows["dst"].array,
            "type": rows["icmp_type"].array,
            "code": rows["icmp_code"].array,
            "reason": rows["icmp_reason"].array,
            "meaning": meaning.array,
            "from_destination": from_dst.array,
            "orig_proto": rows["icmp_orig_proto"].array,
            "orig_src": rows["icmp_orig_src"].array,
            "orig_sport": rows["icmp_orig_sport"].array,
            "orig_dst": rows["icmp_orig_dst"].array,
            "orig_dport": rows["icmp_orig_dport"].array,
            "orig_dns_id": rows["icmp_orig_dns_id"].array,
            "length": rows["length"].array,
        }
    )
    return out.reset_index(drop=True)
