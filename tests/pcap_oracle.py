"""The oracle of the capture reader's tests: tcpdump's own rendering of a capture, read by
the text reader, column by column against :func:`incidentkit.read_pcap` of the same file."""

from __future__ import annotations

import gzip
import subprocess
import warnings
from pathlib import Path

import pandas as pd

import incidentkit as ik

#: compared with tcpdump -nn -tttt -v -S (-S: absolute TCP sequence numbers, as the bytes
#: hold them)
VERBOSE = (
    "proto", "src", "dst", "sport", "dport", "length", "ttl",
    "icmp_type", "icmp_code", "icmp_reason", "icmp_orig_proto", "icmp_orig_src",
    "icmp_orig_sport", "icmp_orig_dst", "icmp_orig_dport", "icmp_orig_dns_id",
    "dns_id", "dns_qr", "dns_flags", "dns_qtype", "dns_qname", "dns_rcode", "dns_ancount",
    "tcp_flags", "tcp_seq", "tcp_ack", "tcp_win",
)  # fmt: skip
#: compared with tcpdump -nn -e (the link addresses) and -nn (-v writes each answer's
#: name as well: "example.com. A 192.0.2.1")
LINK = ("link_src", "link_dst")
PLAIN = ("dns_answers",)


def capture_bytes(path: Path) -> bytes:
    data = path.read_bytes()
    return gzip.decompress(data) if path.suffix == ".gz" else data


def rendered(data: bytes, *flags: str) -> pd.DataFrame:
    """tcpdump's rendering of ``data`` with ``flags``, read by the text reader, indexed by
    tcpdump's packet number."""
    text = subprocess.run(
        ["tcpdump", "-#", "-r", "-", *flags],
        input=data,
        capture_output=True,
        env={"TZ": "UTC", "PATH": "/usr/bin:/bin"},
        timeout=120,
        check=False,
    ).stdout.decode("utf-8", "surrogateescape")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ik.ParseWarning)
        df = ik.parse_tcpdump(text)
    return df[df["packet"].notna()].set_index("packet")


def disagreements(path: Path, df: pd.DataFrame | None = None) -> dict[str, list[tuple]]:
    """Per column, the packets where ``read_pcap`` and tcpdump's words disagree, as
    (packet, read_pcap's value, the text reader's value); columns where the text reader
    has no value are not compared."""
    data = capture_bytes(path)
    if df is None:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ik.ParseWarning)
            df = ik.read_pcap(path)
    mine = df.set_index("packet")
    wrong: dict[str, list[tuple]] = {}
    for flags, columns in (
        (("-nn", "-tttt", "-v", "-S"), (*VERBOSE, "time")),
        (("-nn", "-e"), LINK),
        (("-nn",), PLAIN),
    ):
        theirs = rendered(data, *flags)
        for column in columns:
            want = theirs[column]
            got = mine[column].reindex(want.index)
            if column == "time":  # tcpdump -tttt prints microseconds, cut
                got = got.dt.floor("us")
            differ = want.notna() & (got.astype(str) != want.astype(str))
            if differ.any():
                at = differ[differ].index
                wrong[column] = [(int(i), got[i], want[i]) for i in at]
    return wrong
