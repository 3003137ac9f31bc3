"""ICMP and ICMPv6 errors: what each one means, who sent it, and what it quotes."""

from __future__ import annotations

from typing import Final

import numpy as np
import pandas as pd

#: ICMP types that report an error about another datagram (RFC 792, RFC 4443).
ERROR_TYPES: Final = {"icmp": (3, 4, 5, 11, 12), "icmp6": (1, 2, 3, 4)}

#: reason (the reader's ``icmp_reason``) -> what it means for the datagram it answers.
MEANINGS: Final[dict[str, str]] = {
    "port unreachable": "the host is up, but nothing accepted the datagram on that port",
    "protocol unreachable": "the host is up, but does not speak that transport protocol",
    "host unreachable": "a router could not deliver to the host: it is down or unreachable",
    "net unreachable": "a router has no route to the destination network",
    "address unreachable": "a router could not deliver to the address: the host is down",
    "no route": "a router has no route to the destination",
    "host unknown": "the destination host is unknown",
    "net unknown": "the destination network is unknown",
    "admin prohibited filter": "a packet filter refused the datagram",
    "host admin prohibited": "communication with the host is administratively prohibited",
    "net admin prohibited": "communication with the network is administratively prohibited",
    "admin prohibited": "a packet filter refused the datagram",
    "reject route": "a reject route refused the datagram",
    "source address failed policy": "a filter refused the datagram's source address",
    "fragmentation needed": "the datagram was too big for a link and may not be fragmented",
    "packet too big": "the datagram was too big for a link",
    "ttl exceeded in transit": "the datagram's TTL ran out on the way (a loop, or traceroute)",
    "hop limit exceeded in transit": "the datagram's hop limit ran out on the way",
    "reassembly time exceeded": "fragments did not all arrive in time",
    "parameter problem": "a header of the datagram was invalid",
    "source quench": "the receiver asked the sender to slow down",
}

#: reasons that say a filter (firewall) refused the datagram
FILTER_REASONS: Final = frozenset(
    {
        "admin prohibited filter",
        "host admin prohibited",
        "net admin prohibited",
        "admin prohibited",
        "reject route",
        "source address failed policy",
    }
)
#: reasons that say the destination host or its network cannot be reached
HOST_REASONS: Final = frozenset(
    {
        "host unreachable",
        "net unreachable",
        "address unreachable",
        "no route",
        "host unknown",
        "net unknown",
        "source host isolated",
    }
)
PORT_REASONS: Final = frozenset({"port unreachable", "protocol unreachable"})

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
    rows = df.loc[is_error(df)]
    dst = rows["icmp_orig_dst"]
    from_dst = (rows["src"] == dst).astype("boolean").mask(dst.isna())
    meaning = rows["icmp_reason"].map(lambda r: MEANINGS.get(r, r) if isinstance(r, str) else r)
    out = pd.DataFrame(
        {
            "record": rows["record"].to_numpy(),
            "line": rows["line"].to_numpy(),
            "time": rows["time"].array,
            "family": rows["proto"].astype(str).to_numpy(),
            "sender": rows["src"].array,
            "to": rows["dst"].array,
            "type": rows["icmp_type"].array,
            "code": rows["icmp_code"].array,
            "reason": rows["icmp_reason"].array,
            "meaning": pd.array(meaning.to_numpy(), dtype="string"),
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
